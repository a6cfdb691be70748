//! `deployer-bench`: the benchmarks of issue 8.
//!
//! * [`monorepo`] and [`history`] generate seeded, deterministic repositories with
//!   `git fast-import` (cached by seed and scale);
//! * [`measure`] runs a command through a small helper (this binary), timing spawn →
//!   exit and reading the command's own peak RSS from the helper's `wait4`;
//! * [`ecs`] measures the ECS rows against ecs-sim running in this process;
//! * [`report`] renders the Markdown table; [`bench`] ties it together.
//!
//! `scripts/bench` builds the release binaries, installs the peers and runs
//! `deployer-bench run`, which writes BENCHMARKS.md.

pub mod bench;
pub mod ecs;
pub mod history;
pub mod machine;
pub mod measure;
pub mod monorepo;
pub mod report;
pub mod rng;
pub mod workload;

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("`git {args}` failed: {stderr}")]
    Git { args: String, stderr: String },
    #[error("{0}")]
    Tool(String),
}

/// Benchmarks for deployer's commands (issue 8).
#[derive(Debug, clap::Parser)]
#[command(name = "deployer-bench", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Args)]
pub struct Workload {
    /// Seed of the generators.
    #[arg(long, env = "DEPLOYER_BENCH_SEED", default_value_t = 42)]
    pub seed: u64,
    /// Workload scale: 1 = the sizes of issue 8; 0.1 for a quick run.
    #[arg(long, env = "DEPLOYER_BENCH_SCALE", default_value_t = 1.0)]
    pub scale: f64,
    /// Directory holding generated repositories (keyed by seed and scale).
    #[arg(
        long,
        env = "DEPLOYER_BENCH_CACHE",
        default_value = "target/bench-cache"
    )]
    pub cache: PathBuf,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Generate the workloads, measure, print the Markdown report.
    Run {
        #[command(flatten)]
        workload: Workload,
        /// Directory with the release binaries.
        #[arg(long, env = "DEPLOYER_BENCH_BIN_DIR", default_value = "target/release")]
        bin_dir: PathBuf,
        /// Measured runs per command (after the warm-up).
        #[arg(long, env = "DEPLOYER_BENCH_RUNS", default_value_t = 5)]
        runs: usize,
        /// Unmeasured warm-up runs per command (at least 1; its output is logged).
        #[arg(long, env = "DEPLOYER_BENCH_WARMUP", default_value_t = 1)]
        warmup: usize,
        /// Runs of `--help` per binary for the start-up time.
        #[arg(long, env = "DEPLOYER_BENCH_STARTUP_RUNS", default_value_t = 20)]
        startup_runs: usize,
        /// Kill a single run after this many seconds.
        #[arg(long, env = "DEPLOYER_BENCH_TIMEOUT", default_value_t = 600)]
        timeout: u64,
        /// Kill a peer's run (git-cliff, cog, semantic-release) after this many seconds.
        #[arg(long, env = "DEPLOYER_BENCH_PEER_TIMEOUT", default_value_t = 120)]
        peer_timeout: u64,
        /// Measuring budget per command in seconds: fewer runs when one run is slow.
        #[arg(long, env = "DEPLOYER_BENCH_BUDGET", default_value_t = 150)]
        budget: u64,
        /// git-cliff binary (peer).
        #[arg(long, env = "DEPLOYER_BENCH_GIT_CLIFF")]
        git_cliff: Option<PathBuf>,
        /// cog binary (cocogitto, peer).
        #[arg(long, env = "DEPLOYER_BENCH_COG")]
        cog: Option<PathBuf>,
        /// semantic-release executable (peer).
        #[arg(long, env = "DEPLOYER_BENCH_SEMANTIC_RELEASE")]
        semantic_release: Option<PathBuf>,
        /// The `aws` CLI (awscli 1.x) for the `aws ecs wait services-stable` baseline.
        #[arg(long, env = "DEPLOYER_BENCH_AWS_CLI")]
        aws_cli: Option<PathBuf>,
        /// Skip the ECS rows (about 15 minutes of real-time rollouts at full scale).
        #[arg(long, env = "DEPLOYER_BENCH_SKIP_ECS")]
        skip_ecs: bool,
        /// Skip the git rows (detect-changes, semver-release and their peers).
        #[arg(long, env = "DEPLOYER_BENCH_SKIP_GIT")]
        skip_git: bool,
        /// Only the real-shaped history rows (issue 21): semver-release against `git log`,
        /// `--service` against `git log --name-only`, their peers, and the footprint rows.
        #[arg(long, env = "DEPLOYER_BENCH_ONLY_REAL_HISTORY")]
        only_real_history: bool,
        /// Directory of per-tool "skipped: …" notes (written by scripts/bench).
        #[arg(long, env = "DEPLOYER_BENCH_PEER_NOTES")]
        peer_notes: Option<PathBuf>,
        /// Also write the report to this file (e.g. BENCHMARKS.md).
        #[arg(long, env = "DEPLOYER_BENCH_WRITE")]
        write: Option<PathBuf>,
    },
    /// Generate (or find in the cache) one workload and print where it is.
    Generate {
        #[command(flatten)]
        workload: Workload,
        /// `monorepo`, `history` or `real-history`.
        kind: String,
    },
}

fn absolute(p: PathBuf) -> PathBuf {
    if p.is_absolute() {
        p
    } else {
        std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
    }
}

pub fn main_with(cli: Cli) -> Result<(), BenchError> {
    match cli.command {
        Command::Generate { workload, kind } => {
            let scale = workload::Scale(workload.scale);
            let cache = absolute(workload.cache);
            match kind.as_str() {
                "monorepo" => {
                    let m = monorepo::generate(&cache, workload.seed, scale)?;
                    println!(
                        "repo={}\nconfig={}\nevent={}\nbefore={}\nafter={}",
                        m.repo.display(),
                        m.config.display(),
                        m.event.display(),
                        m.before,
                        m.after
                    );
                }
                "history" => {
                    let h = history::generate(&cache, workload.seed, scale)?;
                    println!(
                        "work={}\norigin={}\nlast_tag={}\nexpected={}",
                        h.work.display(),
                        h.origin.display(),
                        h.last_tag,
                        h.expected
                    );
                }
                "real-history" => {
                    let h = history::real::generate(&cache, workload.seed, scale)?;
                    println!(
                        "work={}\norigin={}\nlast_tag={}\nlast_service_tag={}\ncommits={}\ntags={}",
                        h.work.display(),
                        h.origin.display(),
                        h.last_tag,
                        h.last_service_tag,
                        h.commits,
                        h.tags
                    );
                }
                other => {
                    return Err(BenchError::Tool(format!(
                        "unknown workload `{other}`: use `monorepo`, `history` or `real-history`"
                    )));
                }
            }
            Ok(())
        }
        Command::Run {
            workload,
            bin_dir,
            runs,
            warmup,
            startup_runs,
            timeout,
            peer_timeout,
            budget,
            git_cliff,
            cog,
            semantic_release,
            aws_cli,
            skip_ecs,
            skip_git,
            only_real_history,
            peer_notes,
            write,
        } => {
            if !(workload.scale > 0.0 && workload.scale <= 10.0) {
                return Err(BenchError::Tool(format!(
                    "--scale {} is out of range: use a number in (0, 10], e.g. 0.1",
                    workload.scale
                )));
            }
            let opts = bench::Options {
                bin_dir: absolute(bin_dir),
                cache: absolute(workload.cache),
                seed: workload.seed,
                scale: workload::Scale(workload.scale),
                runs: runs.max(1),
                warmup: warmup.max(1),
                startup_runs: startup_runs.max(1),
                timeout: Duration::from_secs(timeout.max(1)),
                peer_timeout: Duration::from_secs(peer_timeout.max(1)),
                budget: Duration::from_secs(budget),
                git_cliff: git_cliff.map(absolute),
                cog: cog.map(absolute),
                semantic_release: semantic_release.map(absolute),
                aws_cli: aws_cli.map(absolute),
                skip_ecs: skip_ecs || only_real_history,
                skip_git,
                only_real_history,
                peer_notes: peer_notes.map(absolute),
            };
            let machine = bench::machine_description();
            let results = bench::run(&opts)?;
            let doc = bench::render(&results, &machine, &opts);
            println!("{doc}");
            if let Some(path) = write {
                workload::write_file(&path, doc.as_bytes())?;
                eprintln!("bench: wrote {}", path.display());
            }
            Ok(())
        }
    }
}
