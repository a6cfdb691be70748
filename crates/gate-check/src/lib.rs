//! `gate-check`: check promotion gates — tests, coverage, security scans, performance,
//! environment health, typed confirmation, wait timer, change freeze — and say in one
//! table what was measured against which threshold.
//!
//! Gates come from `deployer.yml` (`environments.<env>.gates`, with `--environment`) and
//! from flags; both may be combined. Exit 0 when every required gate passed (or was
//! bypassed by a declared emergency), 1 when one failed, 2 for bad input (including a
//! report file that is missing or malformed).
//!
//! The ecs-service and stacks gates read AWS through `deployer_aws::probe::AwsProbe`, with
//! credentials from `--role-to-assume`/`--chain-role`/`--region` or the environment's
//! `role`/`chain-role`/`region` in deployer.yml; runs without such gates never touch AWS.

mod environment;
mod plan;

use std::path::PathBuf;
use std::time::Duration;

use deployer_aws::cli::{AwsArgs, aws_context, identity_line, tokio_runtime};
use deployer_aws::probe::AwsProbe;
use deployer_core::cli::CommonArgs;
use deployer_core::runtime::Annotation;
use deployer_core::{Classify, ErrorKind, Runtime};
use deployer_gates::emergency::Emergency;
use deployer_gates::environment::{EnvironmentProbe, ProbeError};
use deployer_gates::gate::{GateResult, Outcome, summary_table};
use deployer_gates::report::coverage::CoverageFormat;
use deployer_gates::report::sarif::Severity;
use deployer_gates::{checks, freeze, http, human};

use plan::{Check, PlannedGate};

/// Every step output this binary sets (`$GITHUB_OUTPUT`). actions/gate-check/action.yml
/// declares exactly these; deployer-action-tests checks both that and that every
/// `set_output` name in this crate is listed here.
pub const OUTPUTS: &[&str] = &[
    "passed",
    "failed-gates",
    "results",
    "bypassed-gates",
    "environment-url",
];

/// Check promotion gates: tests, coverage, scans, performance, health, approvals.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "gate-check",
    version,
    about = "Check promotion gates: tests, coverage, scans, performance, health, approvals"
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Path of deployer.yml (read only with --environment).
    #[arg(long, env = "DEPLOYER_CONFIG", default_value = ".github/deployer.yml", value_parser = path)]
    pub config: PathBuf,

    /// Evaluate the gates listed under `environments.<ENVIRONMENT>.gates` in deployer.yml.
    #[arg(long, env = "DEPLOYER_ENVIRONMENT")]
    pub environment: Option<String>,

    /// Post-deploy verification of SERVICE: check its health URLs from deployer.yml
    /// (`services.<SERVICE>.health`: url, ready, live, with `{env}` = --environment; the
    /// deadline defaults to its `timeout-seconds`) instead of the environment's promotion
    /// gates. --health-url, when given, replaces the configured URLs.
    #[arg(long, env = "DEPLOYER_VERIFY_SERVICE", requires = "environment")]
    pub verify_service: Option<String>,

    /// JUnit XML report(s); the tests gate passes with no failures and no errors. Repeatable; env: comma-separated.
    #[arg(long, env = "DEPLOYER_JUNIT", value_delimiter = ',', value_parser = path)]
    pub junit: Vec<PathBuf>,

    /// Fail the tests gate unless at least this many tests ran.
    #[arg(long, env = "DEPLOYER_MIN_TESTS", value_parser = input::<u64>)]
    pub min_tests: Option<Input<u64>>,

    /// Coverage report: Cobertura XML, LCOV, coverage.py JSON or Istanbul json-summary.
    #[arg(long, env = "DEPLOYER_COVERAGE", value_parser = path)]
    pub coverage: Option<PathBuf>,

    /// Coverage report format: auto, cobertura, lcov or json.
    #[arg(long, env = "DEPLOYER_COVERAGE_FORMAT", default_value = "auto", value_parser = parse_coverage_format)]
    pub coverage_format: CoverageFormat,

    /// Minimum line coverage in percent [default: 80].
    #[arg(long, env = "DEPLOYER_MIN_COVERAGE", value_parser = input::<f64>)]
    pub min_coverage: Option<Input<f64>>,

    /// Minimum branch coverage in percent (optional).
    #[arg(long, env = "DEPLOYER_MIN_BRANCH_COVERAGE", value_parser = input::<f64>)]
    pub min_branch_coverage: Option<Input<f64>>,

    /// SARIF report(s) of security scans. Repeatable; env: comma-separated.
    #[arg(long, env = "DEPLOYER_SARIF", value_delimiter = ',', value_parser = path)]
    pub sarif: Vec<PathBuf>,

    /// Fail when a finding is at or above this severity: note, low, medium, high, critical [default: high].
    #[arg(long, alias = "fail-on-severity", env = "DEPLOYER_MAX_SEVERITY", value_parser = input::<Severity>)]
    pub max_severity: Option<Input<Severity>>,

    /// k6 summary JSON (`--summary-export` or handleSummary's data).
    #[arg(long, env = "DEPLOYER_K6", value_parser = path)]
    pub k6: Option<PathBuf>,

    /// Locust `*_stats.csv`.
    #[arg(long, env = "DEPLOYER_LOCUST", value_parser = path)]
    pub locust: Option<PathBuf>,

    /// Minimum percentage of successful requests [default: 95].
    #[arg(long, env = "DEPLOYER_MIN_SUCCESS_RATE", value_parser = input::<f64>)]
    pub min_success_rate: Option<Input<f64>>,

    /// The average response time must be below this [default: 2000].
    #[arg(long, env = "DEPLOYER_MAX_AVERAGE_MS", value_parser = input::<f64>)]
    pub max_average_ms: Option<Input<f64>>,

    /// The 95th percentile response time must be below this (optional).
    #[arg(long, env = "DEPLOYER_MAX_P95_MS", value_parser = input::<f64>)]
    pub max_p95_ms: Option<Input<f64>>,

    /// URL that must answer 2xx to a GET. Repeatable; env: one per line.
    #[arg(
        long = "health-url",
        env = "DEPLOYER_HEALTH_URLS",
        value_delimiter = '\n'
    )]
    pub health_urls: Vec<String>,

    /// Seconds each health URL may take to answer 2xx, retries included [default: 120].
    #[arg(long, env = "DEPLOYER_HEALTH_DEADLINE_SECONDS", value_parser = input::<u64>)]
    pub health_deadline_seconds: Option<Input<u64>>,

    /// Timeout of one health request in seconds [default: 10].
    #[arg(long, env = "DEPLOYER_HEALTH_TIMEOUT_SECONDS", value_parser = input::<u64>)]
    pub health_timeout_seconds: Option<Input<u64>>,

    /// The confirmation typed by the person who started the run (a workflow_dispatch input).
    #[arg(long, env = "DEPLOYER_CONFIRM")]
    pub confirm: Option<String>,

    /// The word --confirm must equal exactly, e.g. DEPLOY or ROLLBACK.
    #[arg(long, env = "DEPLOYER_EXPECT_CONFIRMATION")]
    pub expect_confirmation: Option<String>,

    /// Wait this many seconds (after every other gate passed), with progress every 15 s.
    #[arg(long, env = "DEPLOYER_WAIT_SECONDS", value_parser = input::<u64>)]
    pub wait_seconds: Option<Input<u64>>,

    /// Change-freeze window (UTC): `fri 18:00 - mon 06:00`, `daily 22:00 - 06:00` or
    /// `2026-12-24T00:00:00Z .. 2026-12-27T00:00:00Z`. Repeatable; env: one per line.
    #[arg(long = "freeze", env = "DEPLOYER_FREEZE", value_delimiter = '\n')]
    pub freeze: Vec<String>,

    /// The time freeze windows are compared with (RFC 3339); default: now.
    #[arg(long, env = "DEPLOYER_NOW")]
    pub now: Option<String>,

    /// Emergency: failures of the bypassed gates do not block; who and why go into the summary.
    #[arg(long, env = "DEPLOYER_EMERGENCY", value_parser = flag, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub emergency: bool,

    /// Why the emergency bypass is needed (required with --emergency).
    #[arg(long, env = "DEPLOYER_EMERGENCY_REASON")]
    pub emergency_reason: Option<String>,

    /// Gates (names or kinds) an emergency bypasses; default: all except typed confirmation.
    #[arg(long, env = "DEPLOYER_EMERGENCY_BYPASS", value_delimiter = ',')]
    pub emergency_bypass: Vec<String>,

    /// Image the ecs-service gates expect when deployer.yml does not name one: `repo:tag`,
    /// `repo@sha256:...` or a bare tag (`v1.2.3` matches `<any repository>:v1.2.3`).
    #[arg(long, env = "DEPLOYER_EXPECTED_IMAGE")]
    pub expected_image: Option<String>,

    /// IAM role to assume for the ecs-service and stacks gates (GitHub OIDC in Actions, the
    /// default chain elsewhere); default: the environment's `role` in deployer.yml.
    #[arg(long, env = "DEPLOYER_ROLE_TO_ASSUME")]
    pub role_to_assume: Option<String>,

    /// Second role to assume with the first one's credentials (cross-account); default: the
    /// environment's `chain-role` in deployer.yml.
    #[arg(long, env = "DEPLOYER_CHAIN_ROLE")]
    pub chain_role: Option<String>,

    /// AWS region for the ecs-service and stacks gates (default: the environment's `region`
    /// in deployer.yml, else AWS_REGION / the profile).
    #[arg(long, env = "DEPLOYER_REGION")]
    pub region: Option<String>,
}

fn parse_coverage_format(s: &str) -> Result<CoverageFormat, String> {
    s.parse()
}

/// A flag or environment value where an empty string means "not given": an action input
/// that was left empty still arrives as an empty environment variable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Input<T>(pub Option<T>);

fn input<T>(s: &str) -> Result<Input<T>, String>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let s = s.trim();
    if s.is_empty() {
        return Ok(Input(None));
    }
    s.parse::<T>()
        .map(|v| Input(Some(v)))
        .map_err(|e| e.to_string())
}

/// Any path; an empty one is dropped later (clap's own path parser refuses empty values).
fn path(s: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(s.trim()))
}

/// true/false/1/0/yes/no/on/off; empty is false.
fn flag(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "0" | "no" | "off" => Ok(false),
        "true" | "1" | "yes" | "on" => Ok(true),
        other => Err(format!("{other:?} is not true or false")),
    }
}

/// The value of an [`Input`] flag.
pub(crate) fn given<T: Copy>(value: Option<Input<T>>) -> Option<T> {
    value.and_then(|v| v.0)
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] deployer_config::ConfigError),
    #[error(transparent)]
    Gate(#[from] deployer_gates::GateError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot write the step outputs or summary: {0}")]
    Runtime(#[from] deployer_core::runtime::RuntimeError),
    #[error("cannot start the async runtime for health checks: {0}")]
    Async(std::io::Error),
    #[error("{} required gate(s) not met: {}", .0.len(), .0.join(", "))]
    GatesFailed(Vec<String>),
    #[error("cannot reach AWS for the ecs-service/stacks gates: {0}")]
    Aws(#[from] deployer_aws::Error),
}

impl Classify for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(e) => e.kind(),
            Error::Gate(e) => e.kind(),
            Error::Usage(_) => ErrorKind::BadInput,
            Error::Aws(e) => e.kind(),
            Error::Runtime(_) | Error::Async(_) | Error::GatesFailed(_) => ErrorKind::Failed,
        }
    }
}

/// The first value listed twice (after trimming; blanks ignored).
fn first_duplicate<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen = std::collections::BTreeSet::new();
    values
        .into_iter()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .find(|v| !seen.insert(*v))
}

/// Flag values that parse but make no sense. The same report listed twice counted its
/// tests (or findings) twice; a request timeout of 0 s fails every health check with a
/// timeout instead of a reason.
fn validate(args: &Args) -> Result<(), Error> {
    let lists: [(&str, Vec<&str>); 3] = [
        (
            "--junit",
            args.junit.iter().filter_map(|p| p.to_str()).collect(),
        ),
        (
            "--sarif",
            args.sarif.iter().filter_map(|p| p.to_str()).collect(),
        ),
        (
            "--health-url",
            args.health_urls.iter().map(String::as_str).collect(),
        ),
    ];
    for (flag, values) in lists {
        if let Some(dup) = first_duplicate(values) {
            return Err(Error::Usage(format!(
                "{flag} names `{dup}` twice: list each once (a report listed twice is counted twice)"
            )));
        }
    }
    if given(args.health_timeout_seconds) == Some(0) {
        return Err(Error::Usage(
            "--health-timeout-seconds must be at least 1 (0 times out every request before it is sent)".into(),
        ));
    }
    Ok(())
}

/// Checks the gates; AWS credentials are loaded only when an ecs-service or stacks gate
/// is configured for the environment, after every input was checked, and not when an
/// emergency bypasses all such gates (they are not evaluated then).
pub fn run(args: &Args, runtime: &mut Runtime) -> Result<(), Error> {
    validate(args)?;
    let Some((config, environment)) = plan::needs_aws(args) else {
        return run_with_probe(args, runtime, None);
    };
    let gates = plan::build(args, true)?;
    let emergency = emergency(args)?;
    let evaluated = gates.iter().any(|g| {
        g.check.reads_aws()
            && !emergency
                .as_ref()
                .is_some_and(|e| e.covers(&g.name, g.kind))
    });
    if !evaluated {
        return run_with_probe(args, runtime, Some(&environment::NotEvaluated));
    }
    let aws = AwsArgs {
        role_to_assume: non_empty(&args.role_to_assume),
        chain_role: non_empty(&args.chain_role),
        region: non_empty(&args.region),
        config: None,
        environment: Some(environment),
    };
    // Credentials and their connections live on this runtime, kept until the gates are done.
    let rt = tokio_runtime()?;
    let ctx = rt.block_on(aws_context(&aws, Some(&config)))?;
    if let Some(line) = rt.block_on(identity_line(&ctx)) {
        runtime.say(line);
    }
    let probe = AwsProbe::new(&ctx.config);
    let result = run_with_probe(args, runtime, Some(&probe));
    drop(probe);
    rt.shutdown_timeout(Duration::from_secs(1));
    result
}

fn emergency(args: &Args) -> Result<Option<Emergency>, Error> {
    if !args.emergency {
        return Ok(None);
    }
    Ok(Some(Emergency::new(
        std::env::var("GITHUB_ACTOR").ok().as_deref(),
        args.emergency_reason.as_deref(),
        args.emergency_bypass.clone(),
    )?))
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// Like [`run`], with a probe for the ecs-service and stacks gates (the AWS crate provides one).
pub fn run_with_probe(
    args: &Args,
    runtime: &mut Runtime,
    probe: Option<&dyn EnvironmentProbe>,
) -> Result<(), Error> {
    validate(args)?;
    let emergency = emergency(args)?;
    let now = match args.now.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => {
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|e| {
                    Error::Usage(format!(
                        "--now {text:?} is not an RFC 3339 time ({e}); e.g. 2026-11-24T09:00:00Z"
                    ))
                })?
        }
        None => time::OffsetDateTime::now_utc(),
    };

    // Everything that can be bad input is checked before any gate with side effects runs.
    let gates = plan::build(args, probe.is_some())?;
    if let Some(e) = &emergency {
        for b in &e.bypass {
            if !gates.iter().any(|g| &g.name == b || g.kind == b) {
                runtime.warning(
                    &format!("--emergency-bypass {b}: no gate has that name or kind"),
                    &Annotation::titled("gate-check"),
                );
            }
        }
    }
    if let Some(url) = plan::environment_url(args)? {
        runtime.set_output("environment-url", &url)?;
    }
    if gates.is_empty() {
        if let Some(service) = non_empty(&args.verify_service) {
            let env = non_empty(&args.environment).unwrap_or_default();
            runtime.notice(
                &format!(
                    "{service} has no health URLs in deployer.yml (services.{service}.health): nothing to verify in {env}; add `health: {{url: ...}}` to check the service after each deploy"
                ),
                &Annotation::titled("gate-check"),
            );
            runtime.set_output("passed", "true")?;
            runtime.set_output("failed-gates", "[]")?;
            runtime.set_output("results", "[]")?;
            return Ok(());
        }
        let Some(env) = args
            .environment
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        else {
            return Err(Error::Usage(
                "no gates to check: pass --environment ENV (gates from deployer.yml) or gate flags such as --junit, --coverage, --sarif, --k6, --health-url, --expect-confirmation".into(),
            ));
        };
        runtime.say(format!("environment {env} has no gates; nothing to check"));
        runtime.set_output("passed", "true")?;
        runtime.set_output("failed-gates", "[]")?;
        runtime.set_output("results", "[]")?;
        runtime.summary(&format!(
            "### Gates for `{env}`\n\nNo gates are configured for this environment.\n"
        ))?;
        return Ok(());
    }

    let mut async_rt = None;
    let mut results: Vec<Option<GateResult>> = vec![None; gates.len()];
    // Waits go last, and only when nothing blocks by then.
    let order: Vec<usize> = (0..gates.len())
        .filter(|&i| !matches!(gates[i].check, Check::Wait(_)))
        .chain((0..gates.len()).filter(|&i| matches!(gates[i].check, Check::Wait(_))))
        .collect();
    for i in order {
        let gate = &gates[i];
        let bypassed = emergency
            .as_ref()
            .is_some_and(|e| e.covers(&gate.name, gate.kind));
        let result = if bypassed && gate.check.has_side_effects() {
            let mut r =
                GateResult::skipped(gate.kind, "", "bypassed by the emergency; not evaluated");
            r.outcome = Outcome::Bypassed;
            r
        } else if matches!(gate.check, Check::Wait(_))
            && results.iter().flatten().any(GateResult::blocks)
        {
            GateResult::skipped(gate.kind, "", "not waited: another required gate failed")
        } else {
            evaluate(gate, runtime, now, probe, &mut async_rt)?
        };
        let result = result.named(gate.name.clone()).required(gate.required);
        let result = match &emergency {
            Some(e) => {
                let mut one = [result];
                e.apply(&mut one);
                let [r] = one;
                r
            }
            None => result,
        };
        runtime.say(result.line());
        results[i] = Some(result);
    }
    let results: Vec<GateResult> = results.into_iter().flatten().collect();
    report(args, runtime, &results, emergency.as_ref())
}

fn evaluate(
    gate: &PlannedGate,
    runtime: &Runtime,
    now: time::OffsetDateTime,
    probe: Option<&dyn EnvironmentProbe>,
    async_rt: &mut Option<tokio::runtime::Runtime>,
) -> Result<GateResult, Error> {
    Ok(match &gate.check {
        Check::Tests { summary, min_tests } => checks::tests(summary, *min_tests),
        Check::Coverage {
            summary,
            min_line,
            min_branch,
        } => checks::coverage(summary, *min_line, *min_branch),
        Check::Security { summary, fail_at } => checks::security(summary, *fail_at),
        Check::Performance {
            summary,
            thresholds,
        } => checks::performance(summary, thresholds),
        Check::Confirmation { expected } => human::confirmation(gate.input.as_deref(), expected),
        Check::Freeze(windows) => freeze::freeze_gate(windows, now),
        Check::Wait(seconds) => {
            let _group = runtime.group(&format!("wait {seconds} s"));
            human::wait_timer(
                *seconds,
                |left| runtime.say(format!("waiting: {left} s left")),
                std::thread::sleep,
            )
        }
        Check::Health { urls, options } => {
            let rt = async_runtime(async_rt)?;
            let _group = runtime.group(&format!("health: {}", urls.join(", ")));
            let progress = |line: &str| runtime.say(line);
            let found = rt.block_on(http::check_health_with(urls, options, &progress));
            http::health_gate(&found, options.deadline)
        }
        Check::Ecs(expect) => {
            let probe = probe.ok_or_else(|| Error::Usage(plan::NO_PROBE.into()))?;
            let rt = async_runtime(async_rt)?;
            let state = rt.block_on(probe.ecs_service(&expect.cluster, &expect.service));
            refuse_bad_config("ecs-service", state.as_ref().err())?;
            deployer_gates::environment::ecs_service_gate(expect, state.as_ref())
        }
        Check::Stacks { names, prefix } => {
            let probe = probe.ok_or_else(|| Error::Usage(plan::NO_PROBE.into()))?;
            let rt = async_runtime(async_rt)?;
            let stacks = rt.block_on(probe.stacks(names, prefix.as_deref()));
            refuse_bad_config("stacks", stacks.as_ref().err())?;
            deployer_gates::environment::stacks_gate(names, prefix.as_deref(), stacks.as_deref())
        }
    })
}

/// A gate whose target cannot exist as configured (a missing cluster, an unreachable
/// endpoint or region) is bad configuration, exit 2, not a failed gate.
fn refuse_bad_config(gate: &str, error: Option<&ProbeError>) -> Result<(), Error> {
    match error {
        Some(ProbeError::BadInput(why)) => Err(Error::Usage(format!(
            "the {gate} gate cannot be evaluated: {why}"
        ))),
        _ => Ok(()),
    }
}

/// The tokio runtime for health and environment gates, created on first use.
fn async_runtime(
    slot: &mut Option<tokio::runtime::Runtime>,
) -> Result<&tokio::runtime::Runtime, Error> {
    if slot.is_none() {
        *slot = Some(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(Error::Async)?,
        );
    }
    slot.as_ref()
        .ok_or_else(|| Error::Async(std::io::Error::other("no async runtime")))
}

fn report(
    args: &Args,
    runtime: &mut Runtime,
    results: &[GateResult],
    emergency: Option<&Emergency>,
) -> Result<(), Error> {
    let blocking: Vec<String> = results
        .iter()
        .filter(|r| r.blocks())
        .map(|r| r.name.clone())
        .collect();
    for r in results {
        let message = format!(
            "{}: {} (threshold {}){}",
            r.name,
            r.measured,
            r.threshold,
            if r.detail.is_empty() {
                String::new()
            } else {
                format!(" — {}", r.detail)
            }
        );
        let at = Annotation::titled(format!("gate {}", r.name));
        match r.outcome {
            Outcome::Failed if r.required => runtime.error(&message, &at),
            Outcome::Failed | Outcome::Bypassed => runtime.warning(&message, &at),
            _ => {}
        }
    }
    let bypassed: Vec<String> = results
        .iter()
        .filter(|r| r.outcome == Outcome::Bypassed)
        .map(|r| r.name.clone())
        .collect();
    runtime.set_output("passed", if blocking.is_empty() { "true" } else { "false" })?;
    runtime.set_output("failed-gates", json(&blocking))?;
    runtime.set_output("results", json(results))?;
    if let Some(e) = emergency {
        runtime.set_output("bypassed-gates", json(&bypassed))?;
        runtime.warning(
            &format!(
                "emergency declared by {}: {}; bypassed: {}",
                e.actor,
                e.reason,
                if bypassed.is_empty() {
                    "none".into()
                } else {
                    bypassed.join(", ")
                }
            ),
            &Annotation::titled("gate-check emergency"),
        );
    }

    let title = match args
        .environment
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(env) => format!("Gates for `{env}`"),
        None => "Gates".to_string(),
    };
    let count = |o: Outcome| results.iter().filter(|r| r.outcome == o).count();
    let mut tally = vec![format!("{} passed", count(Outcome::Passed))];
    let advisory = results
        .iter()
        .filter(|r| r.outcome == Outcome::Failed && !r.required)
        .count();
    if advisory > 0 {
        tally.push(format!("{advisory} failed but not required"));
    }
    if count(Outcome::Bypassed) > 0 {
        tally.push(format!(
            "{} bypassed by the emergency",
            count(Outcome::Bypassed)
        ));
    }
    if count(Outcome::Skipped) > 0 {
        tally.push(format!("{} skipped", count(Outcome::Skipped)));
    }
    let verdict = if blocking.is_empty() {
        format!("✅ All required gates met ({})", tally.join(", "))
    } else {
        format!("❌ Not met: {} ({})", blocking.join(", "), tally.join(", "))
    };
    let mut md = format!("### {title}\n\n{verdict}\n\n{}", summary_table(results));
    if let Some(e) = emergency {
        md.push('\n');
        md.push_str(&e.summary(&bypassed));
    }
    md.push('\n');
    runtime.summary(&md)?;
    if blocking.is_empty() {
        Ok(())
    } else {
        Err(Error::GatesFailed(blocking))
    }
}

/// Serialises an output; serde_json cannot fail on these plain types, but never panic anyway.
fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_string())
}

pub(crate) fn health_options(deadline_seconds: u64, timeout_seconds: u64) -> http::HealthOptions {
    http::HealthOptions {
        deadline: Duration::from_secs(deadline_seconds),
        request_timeout: Duration::from_secs(timeout_seconds.max(1)),
        ..http::HealthOptions::default()
    }
}
