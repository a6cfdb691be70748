//! The `run` command: generate the workloads, measure deployer and its baselines in one
//! run, and render the report.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::BenchError;
use crate::measure::{self, Sample, Spec};
use crate::report::{self, Row, Target, Value};
use crate::workload::Scale;
use crate::{history, machine, monorepo};

/// The six command binaries (footprint rows).
pub const BINARIES: [&str; 6] = [
    "detect-changes",
    "semver-release",
    "ecs-deploy",
    "rollback",
    "run-migration",
    "gate-check",
];

#[derive(Debug, Clone)]
pub struct Options {
    pub bin_dir: PathBuf,
    pub cache: PathBuf,
    pub seed: u64,
    pub scale: Scale,
    pub runs: usize,
    pub warmup: usize,
    pub startup_runs: usize,
    pub timeout: Duration,
    /// Per-run limit for the peers (a peer that does not finish is reported as timed out).
    pub peer_timeout: Duration,
    /// Per-command measuring budget: fewer runs when one run is slow.
    pub budget: Duration,
    pub git_cliff: Option<PathBuf>,
    pub cog: Option<PathBuf>,
    pub semantic_release: Option<PathBuf>,
    /// The `aws` CLI (awscli 1.x) for the `aws ecs wait services-stable` baseline.
    pub aws_cli: Option<PathBuf>,
    /// Skip the ECS rows (they take about 15 minutes at full scale).
    pub skip_ecs: bool,
    /// Skip the git rows.
    pub skip_git: bool,
    /// Only the real-shaped history rows (and the footprint rows).
    pub only_real_history: bool,
    /// Directory of `<tool>` files holding a "skipped: …" note written by scripts/bench.
    pub peer_notes: Option<PathBuf>,
}

/// Everything measured, for the report.
#[derive(Debug, Default)]
pub struct Results {
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
    pub scale: String,
}

pub(crate) fn say(msg: &str) {
    eprintln!("bench: {msg}");
}

/// A scratch directory for `$GITHUB_OUTPUT`, the step summary and `RUNNER_TEMP`.
pub(crate) struct Scratch {
    pub(crate) dir: PathBuf,
}

impl Scratch {
    pub(crate) fn new(cache: &Path, name: &str) -> Result<Scratch, BenchError> {
        let dir = cache.join("scratch").join(name);
        crate::workload::fresh_dir(&dir)?;
        Ok(Scratch { dir })
    }
    pub(crate) fn output(&self) -> PathBuf {
        self.dir.join("github_output")
    }
    /// The env of a GitHub Actions step (outputs to files, like on a runner).
    pub(crate) fn actions_env(&self, spec: Spec) -> Spec {
        let temp = self.dir.join("runner_temp");
        spec.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", self.output().display().to_string())
            .env(
                "GITHUB_STEP_SUMMARY",
                self.dir.join("step_summary").display().to_string(),
            )
            .env("RUNNER_TEMP", temp.display().to_string())
    }
    pub(crate) fn reset(&self) {
        let temp = self.dir.join("runner_temp");
        let _ = std::fs::remove_dir_all(&temp);
        let _ = std::fs::create_dir_all(&temp);
        let _ = std::fs::write(self.output(), "");
        let _ = std::fs::write(self.dir.join("step_summary"), "");
    }
}

/// The value of output `name` in a `$GITHUB_OUTPUT` file (`k=v` or heredoc form).
pub fn output_value(text: &str, name: &str) -> Option<String> {
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(v) = line.strip_prefix(&format!("{name}=")) {
            return Some(v.to_string());
        }
        if let Some(delim) = line.strip_prefix(&format!("{name}<<")) {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delim).collect();
            return Some(value.join("\n"));
        }
    }
    None
}

/// The first `X.Y.Z` (optionally `v`-prefixed) in `text`, without the `v`.
pub fn first_version(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == '`' || c == '"' || c == '\'')
        .map(|w| w.trim_start_matches('v').trim_end_matches(['.', ',', ':']))
        .find(|w| {
            let parts: Vec<&str> = w.split('.').collect();
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        })
        .map(str::to_string)
}

impl Options {
    fn log_dir(&self) -> PathBuf {
        self.cache.join("logs")
    }

    pub(crate) fn log(&self, name: &str) -> Result<PathBuf, BenchError> {
        let dir = self.log_dir();
        std::fs::create_dir_all(&dir)
            .map_err(|e| BenchError::Io(format!("cannot create {}", dir.display()), e))?;
        let path = dir.join(format!("{name}.log"));
        let _ = std::fs::remove_file(&path);
        Ok(path)
    }

    /// Warm-up (logged), then as many measured runs as `runs` and the budget allow.
    fn measure(
        &self,
        name: &str,
        spec: &Spec,
        before_each: &dyn Fn(),
        notes: &mut Vec<String>,
    ) -> Result<Sample, BenchError> {
        let log = self.log(name)?;
        say(&format!("measuring {name}: {}", spec.display()));
        let mut warm = None;
        for i in 0..self.warmup.max(1) {
            before_each();
            let r = measure::run_once(spec, (i == 0).then_some(log.as_path()), self.timeout)?;
            if !r.success {
                return Ok(Sample { runs: vec![r] });
            }
            warm = Some(r);
        }
        let Some(warm) = warm else {
            return Ok(Sample { runs: vec![] });
        };
        let warm_time = warm.wall;
        if warm_time * 2 > self.budget {
            notes.push(format!(
                "`{name}` took {} for one run, more than half the {} s budget per command: its single (warm-up) run is reported instead of a median.",
                report::fmt_duration(warm_time),
                self.budget.as_secs()
            ));
            say(&format!(
                "  {name}: single run {}",
                report::fmt_duration(warm_time)
            ));
            return Ok(Sample { runs: vec![warm] });
        }
        let affordable = (self.budget.as_secs_f64() / warm_time.as_secs_f64().max(1e-6)) as usize;
        let runs = self.runs.min(affordable.max(1));
        if runs < self.runs {
            notes.push(format!(
                "`{name}` took {} per run: measured {runs} run(s) instead of {} to stay within the {} s budget per command.",
                report::fmt_duration(warm_time),
                self.runs,
                self.budget.as_secs()
            ));
        }
        let s = measure::sample(spec, 0, runs, None, self.timeout, before_each)?;
        if let Some(m) = s.median() {
            say(&format!("  {name}: median {}", report::fmt_duration(m)));
        }
        Ok(s)
    }

    fn value(&self, name: &str, s: &Sample) -> Value {
        match s.median() {
            _ if s.timed_out() => {
                Value::Missing(format!("timed out after {} s", self.timeout.as_secs()))
            }
            Some(m) if s.all_ok() => Value::Time(m),
            _ => Value::Missing(format!("failed (see target/bench-cache/logs/{name}.log)")),
        }
    }

    fn peer_note(&self, tool: &str) -> Option<String> {
        let dir = self.peer_notes.as_ref()?;
        std::fs::read_to_string(dir.join(tool))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    pub(crate) fn bin(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn detect_changes(opts: &Options, res: &mut Results) -> Result<Option<Sample>, BenchError> {
    let t = Instant::now();
    say("generating the monorepo (cached after the first run) ...");
    let mono = monorepo::generate(&opts.cache, opts.seed, opts.scale)?;
    say(&format!("  ready in {:.1} s", t.elapsed().as_secs_f64()));
    let workload = mono.sizes.describe();
    let scratch = Scratch::new(&opts.cache, "detect-changes")?;
    let spec = scratch.actions_env(
        Spec::new(opts.bin("detect-changes"), &mono.repo)
            .arg("--repo")
            .arg(mono.repo.display().to_string())
            .arg("--config")
            .arg(mono.config.display().to_string())
            .args(["--event-name", "push", "--event-path"])
            .arg(mono.event.display().to_string()),
    );
    let reset = || scratch.reset();
    let ours = opts.measure("detect-changes", &spec, &reset, &mut res.notes)?;
    let out = read(&scratch.output());
    res.notes.push(format!(
        "detect-changes answered: files-count={}, changed services={}, reason: {}.",
        output_value(&out, "files-count").unwrap_or_default(),
        output_value(&out, "changes")
            .and_then(|c| serde_json::from_str::<Vec<String>>(&c).ok())
            .map(|v| v.len())
            .unwrap_or(0),
        output_value(&out, "reason").unwrap_or_default()
    ));
    let floor_spec = Spec::new("git", &mono.repo).args([
        "diff",
        "--name-only",
        "-z",
        mono.before.as_str(),
        mono.after.as_str(),
    ]);
    let floor = opts.measure("git-diff", &floor_spec, &|| {}, &mut res.notes)?;
    res.rows.push(Row {
        what: "detect-changes".into(),
        workload,
        deployer: opts.value("detect-changes", &ours),
        baseline: Some((
            "git diff --name-only -z base head".into(),
            opts.value("git-diff", &floor),
        )),
        target: Target::RatioAtMost(1.3),
    });
    Ok(Some(ours))
}

fn semver_release(opts: &Options, res: &mut Results) -> Result<Option<Sample>, BenchError> {
    let t = Instant::now();
    say("generating the release history (cached after the first run) ...");
    let hist = history::generate(&opts.cache, opts.seed, opts.scale)?;
    say(&format!("  ready in {:.1} s", t.elapsed().as_secs_f64()));
    let workload = hist.sizes.describe();
    let scratch = Scratch::new(&opts.cache, "semver-release")?;
    let spec = scratch.actions_env(
        Spec::new(opts.bin("semver-release"), &hist.work)
            .args(["--dry-run", "--repo"])
            .arg(hist.work.display().to_string()),
    );
    let reset = || scratch.reset();
    let ours = opts.measure("semver-release", &spec, &reset, &mut res.notes)?;
    let ours_value = opts.value("semver-release", &ours);
    let mut versions = vec![format!(
        "semver-release {}",
        output_value(&read(&scratch.output()), "version").unwrap_or_else(|| "?".into())
    )];

    let floor_spec = Spec::new("git", &hist.work).args([
        "log".to_string(),
        "--format=%B".to_string(),
        format!("{}..HEAD", hist.last_tag),
    ]);
    let floor = opts.measure("git-log", &floor_spec, &|| {}, &mut res.notes)?;
    let row = |baseline: String, value: Value, target: Target| Row {
        what: "semver-release (compute only, `--dry-run`)".into(),
        workload: workload.clone(),
        deployer: ours_value.clone(),
        baseline: Some((baseline, value)),
        target,
    };
    res.rows.push(row(
        format!("git log --format=%B {}..HEAD", hist.last_tag),
        opts.value("git-log", &floor),
        Target::RatioAtMost(1.5),
    ));

    peer_rows(
        opts,
        res,
        (&hist.work, &hist.origin),
        "",
        &row,
        &mut versions,
    )?;
    res.notes.push(format!(
        "Computed next versions (expected {}: the history has one breaking change since {}): {}.",
        hist.expected,
        hist.last_tag,
        versions.join(", ")
    ));
    Ok(Some(ours))
}

/// The peers' rows on one history (`suffix` tells their logs apart between histories).
fn peer_rows(
    opts: &Options,
    res: &mut Results,
    (work, origin): (&Path, &Path),
    suffix: &str,
    row: &dyn Fn(String, Value, Target) -> Row,
    versions: &mut Vec<String>,
) -> Result<(), BenchError> {
    let origin_url = format!("file://{}", origin.display());
    let peers: [(&str, &str, Option<&PathBuf>, Vec<String>); 3] = [
        (
            "git-cliff",
            "git-cliff --bumped-version",
            opts.git_cliff.as_ref(),
            vec!["--bumped-version".into()],
        ),
        (
            "cog",
            "cog bump --auto --dry-run",
            opts.cog.as_ref(),
            vec!["bump".into(), "--auto".into(), "--dry-run".into()],
        ),
        (
            "semantic-release",
            "semantic-release --dry-run",
            opts.semantic_release.as_ref(),
            vec![
                "--dry-run".into(),
                "--no-ci".into(),
                "--branches".into(),
                "main".into(),
                "--repository-url".into(),
                origin_url,
                "--plugins".into(),
                "@semantic-release/commit-analyzer".into(),
            ],
        ),
    ];
    for (tool, shown, path, args) in peers {
        let value = if let Some(note) = opts.peer_note(tool) {
            Value::Missing(note)
        } else if let Some(p) = path.filter(|p| p.exists()) {
            let spec = Spec::new(p.clone(), work).args(args);
            let peer_opts = Options {
                timeout: opts.peer_timeout,
                ..opts.clone()
            };
            let opts = &peer_opts;
            let name = format!("{tool}{suffix}");
            let s = opts.measure(&name, &spec, &|| {}, &mut res.notes)?;
            if s.timed_out() {
                res.notes.push(format!(
                    "`{shown}` did not finish within {} s (`--peer-timeout`) and was stopped: it is reported as timed out rather than waited for.",
                    opts.timeout.as_secs()
                ));
            }
            let log = read(&opts.log_dir().join(format!("{name}.log")));
            let found = match tool {
                "semantic-release" => log
                    .lines()
                    .find(|l| l.contains("next release version is"))
                    .and_then(first_version),
                _ => first_version(&log),
            };
            versions.push(format!("{tool} {}", found.unwrap_or_else(|| "?".into())));
            if tool == "semantic-release" && !s.all_ok() {
                Value::Missing(format!(
                    "skipped: does not run offline against a local repository (see target/bench-cache/logs/{name}.log)"
                ))
            } else {
                opts.value(&name, &s)
            }
        } else {
            Value::Missing("skipped: not installed (run scripts/bench)".into())
        };
        res.rows.push(row(shown.into(), value, Target::FasterThan));
    }
    Ok(())
}

/// semver-release on the real-shaped history (issue 21): the whole-repository walk
/// against `git log --format=%B`, and `--service api` against `git log --name-only --
/// services/api/`, each with the peers.
fn semver_release_real(opts: &Options, res: &mut Results) -> Result<Option<Sample>, BenchError> {
    let t = Instant::now();
    say("generating the real-shaped history (cached after the first run) ...");
    let hist = history::real::generate(&opts.cache, opts.seed, opts.scale)?;
    say(&format!("  ready in {:.1} s", t.elapsed().as_secs_f64()));
    let workload = hist.describe();
    let scratch = Scratch::new(&opts.cache, "semver-release-real")?;
    let reset = || scratch.reset();
    let ours_spec = |extra: &[&str]| {
        scratch.actions_env(
            Spec::new(opts.bin("semver-release"), &hist.work)
                .args(["--dry-run", "--repo"])
                .arg(hist.work.display().to_string())
                .args(extra.iter().map(|a| a.to_string())),
        )
    };
    let mut versions = Vec::new();
    // The whole repository.
    let plain = opts.measure(
        "semver-release-real",
        &ours_spec(&[]),
        &reset,
        &mut res.notes,
    )?;
    let ours_value = opts.value("semver-release-real", &plain);
    versions.push(format!(
        "semver-release {}",
        output_value(&read(&scratch.output()), "version").unwrap_or_else(|| "?".into())
    ));
    let range = format!("{}..HEAD", hist.last_tag);
    let floor_spec = Spec::new("git", &hist.work).args(["log", "--format=%B", range.as_str()]);
    let floor = opts.measure("git-log-real", &floor_spec, &|| {}, &mut res.notes)?;
    let row = |baseline: String, value: Value, target: Target| Row {
        what: "semver-release (`--dry-run`), real-shaped history".into(),
        workload: workload.clone(),
        deployer: ours_value.clone(),
        baseline: Some((baseline, value)),
        target,
    };
    res.rows.push(row(
        format!("git log --format=%B {range}"),
        opts.value("git-log-real", &floor),
        Target::RatioAtMost(1.5),
    ));
    peer_rows(
        opts,
        res,
        (&hist.work, &hist.origin),
        "-real",
        &row,
        &mut versions,
    )?;
    // One service of the monorepo.
    let service = history::real::SERVICE;
    let ours = opts.measure(
        "semver-release-service",
        &ours_spec(&["--service", service]),
        &reset,
        &mut res.notes,
    )?;
    let ours_value = opts.value("semver-release-service", &ours);
    versions.push(format!(
        "semver-release --service {service} {}",
        output_value(&read(&scratch.output()), "version").unwrap_or_else(|| "?".into())
    ));
    let range = format!("{}..HEAD", hist.last_service_tag);
    let path = hist.service_path();
    let floor_spec = Spec::new("git", &hist.work).args([
        "log",
        "--name-only",
        "--format=%B",
        range.as_str(),
        "--",
        path.as_str(),
    ]);
    let floor = opts.measure("git-log-service", &floor_spec, &|| {}, &mut res.notes)?;
    res.rows.push(Row {
        what: format!("semver-release `--service {service}` (`--dry-run`), real-shaped history"),
        workload: workload.clone(),
        deployer: ours_value.clone(),
        baseline: Some((
            format!("git log --name-only --format=%B {range} -- {path}"),
            opts.value("git-log-service", &floor),
        )),
        target: Target::RatioAtMost(2.0),
    });
    res.notes.push(format!(
        "Real-shaped history: computed next versions (expected a major: one breaking change, in a merge commit's footer or a squash/rebase commit, since {} and {}): {}.",
        hist.last_tag,
        hist.last_service_tag,
        versions.join(", ")
    ));
    Ok(Some(plain))
}

fn footprint(
    opts: &Options,
    res: &mut Results,
    measured: &[(&str, &str, Option<Sample>)],
) -> Result<(), BenchError> {
    let names = BINARIES
        .iter()
        .filter(|n| !opts.only_real_history || **n == "semver-release");
    for &name in names {
        let bin = opts.bin(name);
        let row = |workload: &str, deployer: Value, target: Target| Row {
            what: format!("footprint: {name}"),
            workload: workload.into(),
            deployer,
            baseline: None,
            target,
        };
        if !bin.exists() {
            res.rows.push(row(
                "binary",
                Value::Missing(format!("not built (cargo build --release -p {name})")),
                Target::Info,
            ));
            continue;
        }
        let spec = Spec::new(bin.clone(), &opts.cache).arg("--help");
        say(&format!("measuring {name} --help x{}", opts.startup_runs));
        let s = measure::sample(&spec, 1, opts.startup_runs, None, opts.timeout, &|| {})?;
        res.rows.push(row(
            &format!("start-up `{name} --help` (median of {})", opts.startup_runs),
            opts.value(&format!("{name}-help"), &s),
            Target::MillisBelow(20.0),
        ));
        for (_, during, sample) in measured.iter().filter(|(n, _, _)| *n == name) {
            let value = match sample {
                Some(s) if !s.runs.is_empty() => Value::Mib(s.max_rss_kib() as f64 / 1024.0),
                Some(_) => Value::Missing("no run".into()),
                None => Value::Missing("not measured in this run".into()),
            };
            res.rows.push(row(
                &format!("peak RSS {during}"),
                value,
                Target::MibBelow(40.0),
            ));
        }
        let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
        res.rows.push(row(
            "stripped release binary size",
            Value::Bytes(size),
            Target::Info,
        ));
    }
    Ok(())
}

/// Runs everything and returns the results.
pub fn run(opts: &Options) -> Result<Results, BenchError> {
    let mut res = Results {
        scale: opts.scale.label(),
        ..Results::default()
    };
    let (dc, sr) = if opts.skip_git {
        res.notes
            .push("The git rows were skipped (--skip-git).".into());
        (None, None)
    } else if opts.only_real_history {
        res.notes
            .push("Only the real-shaped history rows were run (--only-real-history).".into());
        (None, semver_release_real(opts, &mut res)?)
    } else {
        let dc = detect_changes(opts, &mut res)?;
        let sr = semver_release(opts, &mut res)?;
        semver_release_real(opts, &mut res)?;
        (dc, sr)
    };
    let fp = if opts.skip_ecs {
        res.notes
            .push("The ECS rows were skipped (--skip-ecs).".into());
        crate::ecs::Footprints::default()
    } else {
        crate::ecs::run(opts, &mut res)?
    };
    let measured = [
        ("detect-changes", "of the measured runs above", dc),
        ("semver-release", "of the measured runs above", sr),
        (
            "ecs-deploy",
            "during a deploy (success-lag and failure runs, one service)",
            fp.ecs_deploy,
        ),
        (
            "ecs-deploy",
            "during a deploy of 20 services in one call",
            fp.ecs_deploy_parallel,
        ),
        ("rollback", "during a rollback on ecs-sim", fp.rollback),
        (
            "run-migration",
            "during a migration task on ecs-sim",
            fp.run_migration,
        ),
        (
            "gate-check",
            "during an ecs-service gate on ecs-sim",
            fp.gate_check,
        ),
    ];
    footprint(opts, &mut res, &measured)?;

    Ok(res)
}

/// The whole Markdown document.
pub fn render(res: &Results, machine: &str, opts: &Options) -> String {
    let scale = if res.scale == "1" {
        "full scale (the sizes of issue 8)".to_string()
    } else {
        format!("scale {} (every workload size × {})", res.scale, res.scale)
    };
    let mut doc = format!(
        "# Benchmarks\n\nGenerated by `scripts/bench` (crate `deployer-bench`); {scale}, seed {}. \
         Every time is the median of {} runs after {} warm-up run(s), measured in one run on \
         the same machine and the same generated repository as its baseline. Ratios are \
         deployer ÷ baseline (lower is better).\n\n## Machine\n\n{machine}\n## Results\n\n{}\n",
        opts.seed,
        opts.runs,
        opts.warmup.max(1),
        report::table(&res.rows)
    );
    if !res.notes.is_empty() {
        doc.push_str("## Notes\n\n");
        for n in &res.notes {
            doc.push_str(&format!("- {n}\n"));
        }
        doc.push('\n');
    }
    doc.push_str(
        "## Reproduce\n\n```sh\nscripts/bench               # full scale, writes BENCHMARKS.md\nscripts/bench --scale 0.1   # quick run\n```\n\n\
         Workloads are generated deterministically from the seed with `git fast-import` and \
         cached under `target/bench-cache`. Peers are installed by `scripts/bench` with pinned \
         versions into `target/bench-tools` (`cargo install --locked`, `npm install`). \
         Wall time is measured from spawn to exit; peak RSS is the command's own `rusage`, read by a small helper process that spawns it (Linux carries the peak of the spawning process into a child's `ru_maxrss`, so a command spawned by the bench itself would be charged with the bench's memory); its floor is the helper's few MiB.\n",
    );
    doc
}

pub fn machine_description() -> String {
    machine::describe()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_and_versions() {
        let text = "a=1\nversion=21.0.0\nchangelog<<EOF_X\nline 1\nline 2\nEOF_X\nz=2\n";
        assert_eq!(output_value(text, "version").as_deref(), Some("21.0.0"));
        assert_eq!(
            output_value(text, "changelog").as_deref(),
            Some("line 1\nline 2")
        );
        assert_eq!(output_value(text, "z").as_deref(), Some("2"));
        assert_eq!(output_value(text, "missing"), None);
        assert_eq!(first_version("v21.0.0\n").as_deref(), Some("21.0.0"));
        assert_eq!(
            first_version("[x] The next release version is 21.0.0.").as_deref(),
            Some("21.0.0")
        );
        assert_eq!(first_version("1.2 and 3.4.x"), None);
    }
}
