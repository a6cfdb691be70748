//! From deployer.yml and flags to a list of gates, with every input checked (reports
//! read and parsed, thresholds and windows validated) before any gate runs.

use std::path::Path;

use deployer_config::gates::{self as spec, GateKind, GateSpec};
use deployer_gates::GateError;
use deployer_gates::checks::PerfThresholds;
use deployer_gates::environment::EcsExpectation;
use deployer_gates::error::read_report;
use deployer_gates::freeze::FreezeWindow;
use deployer_gates::http::{self, HealthOptions};
use deployer_gates::report::coverage::{self, CoverageFormat, CoverageSummary};
use deployer_gates::report::junit::{self, TestSummary};
use deployer_gates::report::perf::{self, PerfSummary};
use deployer_gates::report::sarif::{self, SarifSummary, Severity};

use std::path::PathBuf;

use crate::{Args, Error, given, health_options};

pub(crate) const NO_PROBE: &str = "the ecs-service and stacks gates need AWS access, and none was set up for this run; run them through `gate-check --environment ENV` so it loads AWS credentials";

pub(crate) const DEFAULT_CONFIG: &str = ".github/deployer.yml";
pub(crate) const DEFAULT_MIN_COVERAGE: f64 = 80.0;
pub(crate) const DEFAULT_HEALTH_DEADLINE: u64 = 120;
pub(crate) const DEFAULT_HEALTH_TIMEOUT: u64 = 10;

#[derive(Debug)]
pub(crate) enum Check {
    Tests {
        summary: TestSummary,
        min_tests: Option<u64>,
    },
    Coverage {
        summary: CoverageSummary,
        min_line: f64,
        min_branch: Option<f64>,
    },
    Security {
        summary: SarifSummary,
        fail_at: Severity,
    },
    Performance {
        summary: PerfSummary,
        thresholds: PerfThresholds,
    },
    Health {
        urls: Vec<String>,
        options: HealthOptions,
    },
    Confirmation {
        expected: String,
    },
    Wait(u64),
    Freeze(Vec<FreezeWindow>),
    Ecs(EcsExpectation),
    Stacks {
        names: Vec<String>,
        prefix: Option<String>,
    },
}

impl Check {
    /// Gates that read AWS through the environment probe.
    pub(crate) fn reads_aws(&self) -> bool {
        matches!(self, Check::Ecs(_) | Check::Stacks { .. })
    }

    /// Gates that wait, call out or sleep: an emergency skips them instead of evaluating.
    pub(crate) fn has_side_effects(&self) -> bool {
        matches!(
            self,
            Check::Health { .. } | Check::Wait(_) | Check::Ecs(_) | Check::Stacks { .. }
        )
    }
}

#[derive(Debug)]
pub(crate) struct PlannedGate {
    pub name: String,
    pub kind: &'static str,
    pub required: bool,
    pub check: Check,
    /// The typed confirmation, for confirmation gates.
    pub input: Option<String>,
}

/// The configuration and environment name when `--environment` selects gates that read AWS
/// (ecs-service, stacks). Anything unreadable yields `None`: [`build`] reports it as bad input.
pub(crate) fn needs_aws(args: &Args) -> Option<(deployer_config::Config, String)> {
    if non_empty(&args.verify_service).is_some() {
        return None;
    }
    let env = non_empty(&args.environment)?;
    let config = deployer_config::load(config_path(args)).ok()?;
    let reads_aws = config.environment(env).ok()?.gates.iter().any(|g| {
        matches!(
            g.kind(),
            Ok(GateKind::EcsService(_)) | Ok(GateKind::Stacks(_))
        )
    });
    reads_aws.then(|| (config, env.to_string()))
}

fn config_path(args: &Args) -> &Path {
    if args.config.as_os_str().is_empty() {
        Path::new(DEFAULT_CONFIG)
    } else {
        args.config.as_path()
    }
}

pub(crate) fn build(args: &Args, have_probe: bool) -> Result<Vec<PlannedGate>, Error> {
    let mut gates = Vec::new();
    if let Some(service) = non_empty(&args.verify_service) {
        verify_service(args, service, &mut gates)?;
        return Ok(gates);
    }
    if let Some(env) = non_empty(&args.environment) {
        let config_path = config_path(args);
        let config = deployer_config::load(config_path)?;
        let environment = config.environment(env)?;
        for (i, gate) in environment.gates.iter().enumerate() {
            let at = format!("{}: environments.{env}.gates[{i}]", config_path.display());
            gates.push(from_spec(gate, env, &at, args, have_probe)?);
        }
    }
    from_flags(args, &mut gates)?;
    let mut seen = std::collections::BTreeSet::new();
    for g in &gates {
        if !seen.insert(g.name.clone()) {
            return Err(Error::Usage(format!(
                "two gates are named {:?}; give one of them a `name` in deployer.yml so --emergency-bypass and the summary can tell them apart",
                g.name
            )));
        }
    }
    Ok(gates)
}

fn planned(kind: &'static str, check: Check) -> PlannedGate {
    PlannedGate {
        name: kind.to_string(),
        kind,
        required: true,
        check,
        input: None,
    }
}

fn from_flags(args: &Args, gates: &mut Vec<PlannedGate>) -> Result<(), Error> {
    let freeze: Vec<&str> = args
        .freeze
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if !freeze.is_empty() {
        let windows = freeze
            .iter()
            .map(|w| FreezeWindow::parse(w))
            .collect::<Result<Vec<_>, _>>()?;
        let name = unique(gates, "freeze");
        gates.push(PlannedGate {
            name,
            ..planned("freeze", Check::Freeze(windows))
        });
    }
    let confirm = non_empty(&args.confirm).map(str::to_string);
    match (non_empty(&args.expect_confirmation), &confirm) {
        (Some(expected), input) => {
            let name = unique(gates, "confirmation");
            gates.push(PlannedGate {
                name,
                input: input.clone(),
                ..planned(
                    "confirmation",
                    Check::Confirmation {
                        expected: expected.to_string(),
                    },
                )
            });
        }
        (None, Some(_)) if !gates.iter().any(|g| g.kind == "confirmation") => {
            return Err(Error::Usage(
                "--confirm was given but nothing says which word to expect; add --expect-confirmation DEPLOY (or ROLLBACK) or a confirmation gate in deployer.yml".into(),
            ));
        }
        _ => {}
    }
    let junit = paths(&args.junit);
    if !junit.is_empty() {
        let summary = load_tests(junit.iter().map(|p| p.as_path()))?;
        let name = unique(gates, "tests");
        gates.push(PlannedGate {
            name,
            ..planned(
                "tests",
                Check::Tests {
                    summary,
                    min_tests: given(args.min_tests),
                },
            )
        });
    } else if given(args.min_tests).is_some() {
        return Err(Error::Usage("--min-tests needs --junit PATH".into()));
    }
    if let Some(path) = args.coverage.as_ref().filter(|p| !p.as_os_str().is_empty()) {
        let min_line = percent(
            "--min-coverage",
            given(args.min_coverage).unwrap_or(DEFAULT_MIN_COVERAGE),
        )?;
        let min_branch = given(args.min_branch_coverage)
            .map(|b| percent("--min-branch-coverage", b))
            .transpose()?;
        let summary = load_coverage(path, args.coverage_format)?;
        let name = unique(gates, "coverage");
        gates.push(PlannedGate {
            name,
            ..planned(
                "coverage",
                Check::Coverage {
                    summary,
                    min_line,
                    min_branch,
                },
            )
        });
    } else if given(args.min_coverage).is_some() || given(args.min_branch_coverage).is_some() {
        return Err(Error::Usage(
            "--min-coverage/--min-branch-coverage need --coverage PATH".into(),
        ));
    }
    let sarif = paths(&args.sarif);
    if !sarif.is_empty() {
        let summary = load_sarif(sarif.iter().map(|p| p.as_path()))?;
        let fail_at = given(args.max_severity).unwrap_or(Severity::High);
        let name = unique(gates, "security");
        gates.push(PlannedGate {
            name,
            ..planned("security", Check::Security { summary, fail_at })
        });
    } else if given(args.max_severity).is_some() {
        return Err(Error::Usage("--max-severity needs --sarif PATH".into()));
    }
    let (min_success, max_avg, max_p95) = (
        given(args.min_success_rate),
        given(args.max_average_ms),
        given(args.max_p95_ms),
    );
    let perf_flags = min_success.is_some() || max_avg.is_some() || max_p95.is_some();
    let not_empty = |p: &Option<PathBuf>| p.clone().filter(|p| !p.as_os_str().is_empty());
    match (not_empty(&args.k6), not_empty(&args.locust)) {
        (Some(_), Some(_)) => {
            return Err(Error::Usage(
                "give --k6 or --locust, not both (one performance report per gate)".into(),
            ));
        }
        (None, None) if perf_flags => {
            return Err(Error::Usage(
                "--min-success-rate/--max-average-ms/--max-p95-ms need --k6 PATH or --locust PATH"
                    .into(),
            ));
        }
        (k6, locust) => {
            if let Some(summary) = load_perf(k6.as_deref(), locust.as_deref())? {
                let thresholds = thresholds(min_success, max_avg, max_p95)?;
                let name = unique(gates, "performance");
                gates.push(PlannedGate {
                    name,
                    ..planned(
                        "performance",
                        Check::Performance {
                            summary,
                            thresholds,
                        },
                    )
                });
            }
        }
    }
    health_gate(args, &args.health_urls, DEFAULT_HEALTH_DEADLINE, gates)?;
    if let Some(seconds) = given(args.wait_seconds).filter(|s| *s > 0) {
        let name = unique(gates, "wait");
        gates.push(PlannedGate {
            name,
            ..planned("wait", Check::Wait(seconds))
        });
    }
    Ok(())
}

fn from_spec(
    gate: &GateSpec,
    env: &str,
    at: &str,
    args: &Args,
    have_probe: bool,
) -> Result<PlannedGate, Error> {
    let bad = |problem: String| Error::Usage(format!("{at}: {problem}"));
    let kind = gate.kind().map_err(bad)?;
    let sub = |s: &str| deployer_config::substitute_env(s, env);
    let check = match kind {
        GateKind::Tests(t) => {
            if t.junit.is_empty() {
                return Err(bad("tests.junit lists no report".into()));
            }
            let paths: Vec<String> = t.junit.iter().map(|p| sub(p)).collect();
            Check::Tests {
                summary: load_tests(paths.iter().map(Path::new))?,
                min_tests: t.min_tests,
            }
        }
        GateKind::Coverage(c) => {
            let format = match c.format {
                spec::CoverageFormat::Auto => CoverageFormat::Auto,
                spec::CoverageFormat::Cobertura => CoverageFormat::Cobertura,
                spec::CoverageFormat::Lcov => CoverageFormat::Lcov,
                spec::CoverageFormat::Json => CoverageFormat::Json,
            };
            let min_line = percent(
                &format!("{at}.coverage.min-line"),
                c.min_line.unwrap_or(DEFAULT_MIN_COVERAGE),
            )?;
            let min_branch = c
                .min_branch
                .map(|b| percent(&format!("{at}.coverage.min-branch"), b))
                .transpose()?;
            Check::Coverage {
                summary: load_coverage(Path::new(&sub(&c.report)), format)?,
                min_line,
                min_branch,
            }
        }
        GateKind::Security(s) => {
            if s.sarif.is_empty() {
                return Err(bad("security.sarif lists no report".into()));
            }
            let fail_at = s.fail_on.unwrap_or(Severity::High);
            let paths: Vec<String> = s.sarif.iter().map(|p| sub(p)).collect();
            Check::Security {
                summary: load_sarif(paths.iter().map(Path::new))?,
                fail_at,
            }
        }
        GateKind::Performance(p) => {
            let (k6, locust) = (p.k6.as_deref().map(sub), p.locust.as_deref().map(sub));
            if k6.is_some() == locust.is_some() {
                return Err(bad("performance needs exactly one of k6 or locust".into()));
            }
            let summary = load_perf(
                k6.as_deref().map(Path::new),
                locust.as_deref().map(Path::new),
            )?
            .ok_or_else(|| bad("performance needs k6 or locust".into()))?;
            Check::Performance {
                summary,
                thresholds: thresholds(p.min_success_rate, p.max_average_ms, p.max_p95_ms)?,
            }
        }
        GateKind::Health(h) => {
            let urls: Vec<String> = h.urls.iter().map(|u| sub(u)).collect();
            http::validate_urls(&urls).map_err(|e| bad(e.to_string()))?;
            let deadline = h.deadline_seconds.unwrap_or(DEFAULT_HEALTH_DEADLINE);
            if deadline == 0 {
                return Err(bad("health.deadline-seconds must be at least 1".into()));
            }
            Check::Health {
                urls,
                options: health_options(
                    deadline,
                    h.timeout_seconds.unwrap_or(DEFAULT_HEALTH_TIMEOUT),
                ),
            }
        }
        GateKind::Confirmation(c) => {
            if c.expect.trim().is_empty() {
                return Err(bad(
                    "confirmation.expect is empty; set the word to type, e.g. DEPLOY".into(),
                ));
            }
            Check::Confirmation {
                expected: c.expect.trim().to_string(),
            }
        }
        GateKind::Wait(w) => Check::Wait(w.seconds),
        GateKind::Freeze(f) => {
            if f.windows.is_empty() {
                return Err(bad("freeze.windows lists no window".into()));
            }
            let windows = f
                .windows
                .iter()
                .map(|w| FreezeWindow::parse(w))
                .collect::<Result<Vec<_>, GateError>>()
                .map_err(|e| bad(e.to_string()))?;
            Check::Freeze(windows)
        }
        GateKind::EcsService(e) => {
            if !have_probe {
                return Err(bad(NO_PROBE.into()));
            }
            let image = e
                .image
                .as_deref()
                .map(sub)
                .or_else(|| non_empty(&args.expected_image).map(str::to_string))
                .ok_or_else(|| {
                    bad("ecs-service has no image; set `image` or pass --expected-image".into())
                })?;
            Check::Ecs(EcsExpectation {
                cluster: sub(&e.cluster),
                service: sub(&e.service),
                image,
                container: e.container.clone(),
            })
        }
        GateKind::Stacks(s) => {
            if !have_probe {
                return Err(bad(NO_PROBE.into()));
            }
            if s.names.is_empty() && s.prefix.is_none() {
                return Err(bad("stacks needs `names` or `prefix`".into()));
            }
            Check::Stacks {
                names: s.names.iter().map(|n| sub(n)).collect(),
                prefix: s.prefix.as_deref().map(sub),
            }
        }
    };
    let key = kind.key();
    let input = matches!(check, Check::Confirmation { .. })
        .then(|| non_empty(&args.confirm).map(str::to_string))
        .flatten();
    Ok(PlannedGate {
        name: gate.display_name(),
        kind: key,
        required: gate.is_required(),
        check,
        input,
    })
}

/// Paths without the empty ones (an empty action input gives an empty variable).
fn paths(list: &[PathBuf]) -> Vec<PathBuf> {
    list.iter()
        .filter(|p| !p.as_os_str().is_empty())
        .cloned()
        .collect()
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn percent(field: &str, value: f64) -> Result<f64, Error> {
    if value.is_finite() && (0.0..=100.0).contains(&value) {
        Ok(value)
    } else {
        Err(Error::Usage(format!(
            "{field} {value} is not a percentage between 0 and 100"
        )))
    }
}

fn thresholds(
    min_success: Option<f64>,
    max_avg: Option<f64>,
    max_p95: Option<f64>,
) -> Result<PerfThresholds, Error> {
    let d = PerfThresholds::default();
    let positive = |field: &str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(Error::Usage(format!(
                "{field} {v} must be a positive number of milliseconds"
            )))
        }
    };
    Ok(PerfThresholds {
        min_success_rate: percent(
            "min-success-rate",
            min_success.unwrap_or(d.min_success_rate),
        )?,
        max_average_ms: positive("max-average-ms", max_avg.unwrap_or(d.max_average_ms))?,
        max_p95_ms: max_p95.map(|v| positive("max-p95-ms", v)).transpose()?,
    })
}

fn load_tests<'a>(paths: impl Iterator<Item = &'a Path>) -> Result<TestSummary, Error> {
    let mut total = TestSummary::default();
    for path in paths {
        let bytes = read_report(path, "JUnit XML report")?;
        total.merge(&junit::parse(&bytes, &path.display().to_string()).map_err(GateError::from)?);
    }
    Ok(total)
}

fn load_coverage(path: &Path, format: CoverageFormat) -> Result<CoverageSummary, Error> {
    let bytes = read_report(path, "coverage report")?;
    Ok(coverage::parse(&bytes, &path.display().to_string(), format).map_err(GateError::from)?)
}

fn load_sarif<'a>(paths: impl Iterator<Item = &'a Path>) -> Result<SarifSummary, Error> {
    let mut total = SarifSummary::default();
    for path in paths {
        let bytes = read_report(path, "SARIF report")?;
        total.merge(sarif::parse(&bytes, &path.display().to_string()).map_err(GateError::from)?);
    }
    Ok(total)
}

fn load_perf(k6: Option<&Path>, locust: Option<&Path>) -> Result<Option<PerfSummary>, Error> {
    if let Some(path) = k6 {
        let bytes = read_report(path, "k6 summary")?;
        return Ok(Some(
            perf::parse_k6(&bytes, &path.display().to_string()).map_err(GateError::from)?,
        ));
    }
    if let Some(path) = locust {
        let bytes = read_report(path, "Locust stats CSV")?;
        return Ok(Some(
            perf::parse_locust(&bytes, &path.display().to_string()).map_err(GateError::from)?,
        ));
    }
    Ok(None)
}

/// `kind`, or `kind-2`, `kind-3`, ... when a gate already has that name.
fn unique(gates: &[PlannedGate], kind: &'static str) -> String {
    let taken = |name: &str| gates.iter().any(|g| g.name == name);
    if !taken(kind) {
        return kind.to_string();
    }
    (2..)
        .map(|n| format!("{kind}-{n}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| kind.to_string())
}

/// The health gate of `urls` (blank entries dropped), when there is any URL.
fn health_gate(
    args: &Args,
    urls: &[String],
    default_deadline: u64,
    gates: &mut Vec<PlannedGate>,
) -> Result<(), Error> {
    let urls: Vec<String> = urls
        .iter()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect();
    if urls.is_empty() {
        return Ok(());
    }
    http::validate_urls(&urls)?;
    let deadline = given(args.health_deadline_seconds).unwrap_or(default_deadline);
    if deadline == 0 {
        return Err(Error::Usage(
            "--health-deadline-seconds must be at least 1".into(),
        ));
    }
    let options = health_options(
        deadline,
        given(args.health_timeout_seconds).unwrap_or(DEFAULT_HEALTH_TIMEOUT),
    );
    let name = unique(gates, "health");
    gates.push(PlannedGate {
        name,
        ..planned("health", Check::Health { urls, options })
    });
    Ok(())
}

/// `--verify-service`: only the service's health check, with deployer.yml's URLs (unless
/// --health-url gives others) and its `timeout-seconds` as the default deadline.
fn verify_service(args: &Args, service: &str, gates: &mut Vec<PlannedGate>) -> Result<(), Error> {
    let env = non_empty(&args.environment).ok_or_else(|| {
        Error::Usage("--verify-service needs --environment (the `{env}` of the health URLs)".into())
    })?;
    let config = deployer_config::load(config_path(args))?;
    config.environment(env)?;
    let configured = config.service(service)?;
    let urls: Vec<String> = if args.health_urls.iter().any(|u| !u.trim().is_empty()) {
        args.health_urls.clone()
    } else {
        configured
            .health_urls(env)
            .into_iter()
            .map(|h| h.url)
            .collect()
    };
    let deadline = if configured.health.is_some() {
        configured.health_timeout_seconds()
    } else {
        DEFAULT_HEALTH_DEADLINE
    };
    health_gate(args, &urls, deadline, gates)
}

/// `environments.<ENV>.url` of deployer.yml when --environment is given and it has one.
pub(crate) fn environment_url(args: &Args) -> Result<Option<String>, Error> {
    let Some(env) = non_empty(&args.environment) else {
        return Ok(None);
    };
    let config = deployer_config::load(config_path(args))?;
    Ok(config.environment(env)?.url_for(env))
}
