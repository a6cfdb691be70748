//! What the three AWS binaries share: AWS flags, `deployer.yml` lookup, service
//! resolution, duration parsing and the tokio runtime.

use std::path::{Path, PathBuf};
use std::time::Duration;

use deployer_config::{Config, Migration, substitute_env};

use crate::credentials::{AwsContext, LoadOptions};
use crate::error::{Error, Result};

/// AWS and configuration flags shared by ecs-deploy, run-migration and rollback.
#[derive(Debug, Clone, clap::Args)]
pub struct AwsArgs {
    /// IAM role to assume (GitHub OIDC in Actions, the default chain elsewhere).
    #[arg(long, env = "DEPLOYER_ROLE_TO_ASSUME")]
    pub role_to_assume: Option<String>,
    /// Second role to assume with the first one's credentials (cross-account).
    #[arg(long, env = "DEPLOYER_CHAIN_ROLE")]
    pub chain_role: Option<String>,
    /// AWS region (default: AWS_REGION / the profile; else the environment's region in deployer.yml).
    #[arg(long, env = "DEPLOYER_REGION")]
    pub region: Option<String>,
    /// Path of deployer.yml (default .github/deployer.yml when it exists).
    #[arg(long, env = "DEPLOYER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Environment in deployer.yml (role, region, cluster, `{env}` substitution).
    #[arg(long, env = "DEPLOYER_ENVIRONMENT")]
    pub environment: Option<String>,
}

pub fn config_error(e: deployer_config::ConfigError) -> Error {
    Error::BadInput(e.to_string())
}

/// The configuration, if `--config` was given or the default file exists.
pub fn load_config(args: &AwsArgs) -> Result<Option<Config>> {
    match &args.config {
        Some(p) => deployer_config::load(p).map(Some).map_err(config_error),
        None => {
            let p = Path::new(deployer_config::DEFAULT_PATH);
            if p.exists() {
                deployer_config::load(p).map(Some).map_err(config_error)
            } else {
                Ok(None)
            }
        }
    }
}

/// One service to act on, with everything the config says about it.
#[derive(Debug, Clone, Default)]
pub struct ServiceTarget {
    pub cluster: String,
    /// ECS service name.
    pub service: String,
    /// Key in deployer.yml, when it is there.
    pub key: Option<String>,
    pub containers: Vec<String>,
    pub image_repository: Option<String>,
    pub migration: Option<Migration>,
}

pub fn resolve_service(
    cfg: Option<&Config>,
    env: Option<&str>,
    cluster: Option<&str>,
    name: &str,
) -> Result<ServiceTarget> {
    if name.trim().is_empty() {
        return Err(Error::BadInput(
            "--service is empty: name the ECS service or its deployer.yml key".into(),
        ));
    }
    let cluster = non_blank(
        "--cluster",
        cluster,
        "name the ECS cluster, or leave --cluster out to use deployer.yml's",
    )?;
    let envname = env.unwrap_or("");
    let environment = match (cfg, env) {
        (Some(c), Some(e)) => Some(c.environment(e).map_err(config_error)?),
        _ => None,
    };
    let sub = |t: &str| substitute_env(t, envname);
    let from_cfg = cfg.and_then(|c| {
        c.services
            .get(name)
            .map(|s| (name.to_string(), s))
            .or_else(|| {
                c.services
                    .iter()
                    .find(|(_, s)| s.service.as_deref().map(sub).as_deref() == Some(name))
                    .map(|(k, s)| (k.clone(), s))
            })
    });
    let mut t = ServiceTarget {
        service: name.to_string(),
        ..Default::default()
    };
    if let Some((key, s)) = &from_cfg {
        t.service = s.service.as_deref().map(sub).unwrap_or_else(|| key.clone());
        t.key = Some(key.clone());
        t.containers = s.containers.clone();
        t.image_repository = s.image.clone();
        t.migration = s.migration.clone();
        t.cluster = s.cluster.as_deref().map(sub).unwrap_or_default();
    }
    if let Some(e) = environment.and_then(|e| e.cluster.as_deref()) {
        t.cluster = sub(e);
    }
    if let Some(c) = cluster {
        t.cluster = c.to_string();
    }
    if t.cluster.is_empty() {
        return Err(Error::BadInput(format!(
            "no cluster for service `{name}`: pass --cluster (env DEPLOYER_CLUSTER) or set `cluster` in deployer.yml"
        )));
    }
    Ok(t)
}

/// Turns a bare tag (`v1.2.3`) into `<repository>:v1.2.3` when the config names the repository.
pub fn expand_image(spec: &str, repository: Option<&str>) -> String {
    match repository {
        Some(repo) if !spec.contains(':') && !spec.contains('/') && !spec.contains('@') => {
            format!("{repo}:{spec}")
        }
        _ => spec.to_string(),
    }
}

/// `90`, `90s`, `15m`, `1h`.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let t = text.trim();
    let (num, mult) = match t.chars().last() {
        Some('s') => (&t[..t.len() - 1], 1.0),
        Some('m') => (&t[..t.len() - 1], 60.0),
        Some('h') => (&t[..t.len() - 1], 3600.0),
        _ => (t, 1.0),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 90, 90s, 15m, 1h)"))?;
    if !(0.0..=7.0 * 86400.0).contains(&(v * mult)) {
        return Err(format!("`{text}` is out of range"));
    }
    Ok(Duration::from_secs_f64(v * mult))
}

/// A duration that must be more than zero: a timeout or deadline of 0 ends every run
/// before it starts.
pub fn parse_positive_duration(text: &str) -> std::result::Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.is_zero() {
        return Err(format!(
            "`{text}` is zero: give a duration above zero (e.g. 90s, 15m)"
        ));
    }
    Ok(d)
}

/// `--timeout`: `auto` (computed from the service's own configuration) or a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutFlag {
    Auto,
    Fixed(Duration),
}

impl TimeoutFlag {
    /// The duration to validate against and to start with (`auto` starts at the floor and
    /// is replaced once the service is read).
    pub fn initial(self) -> Duration {
        match self {
            TimeoutFlag::Auto => crate::budget::FLOOR,
            TimeoutFlag::Fixed(d) => d,
        }
    }
}

/// `auto`, or a duration above zero.
pub fn parse_timeout(text: &str) -> std::result::Result<TimeoutFlag, String> {
    if text.trim().eq_ignore_ascii_case("auto") {
        return Ok(TimeoutFlag::Auto);
    }
    parse_positive_duration(text)
        .map(TimeoutFlag::Fixed)
        .map_err(|e| format!("{e}; or `auto` (from the service's deployment configuration)"))
}

/// The shortest poll interval a flag accepts. 0 polled ECS in a tight loop (1,309 calls in
/// 10 s) and the throttling back-off, which doubles the interval, stayed at zero.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// A poll interval: at least [`MIN_POLL_INTERVAL`].
pub fn parse_poll_interval(text: &str) -> std::result::Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < MIN_POLL_INTERVAL {
        return Err(format!(
            "`{text}` is shorter than {} ms: polling that often floods the AWS API; use at least 0.1s (the default is 5s)",
            MIN_POLL_INTERVAL.as_millis()
        ));
    }
    Ok(d)
}

/// A poll interval longer than the timeout never polls before the deadline, so the
/// timeout is never enforced at the right time.
pub fn check_poll_within_timeout(poll: Duration, timeout: Duration) -> Result<()> {
    if poll > timeout {
        return Err(Error::BadInput(format!(
            "--poll-interval ({} s) is longer than --timeout ({} s): the timeout could not be enforced; make the poll interval shorter than the timeout",
            poll.as_secs_f64(),
            timeout.as_secs_f64()
        )));
    }
    Ok(())
}

/// An optional text flag: absent is fine, present but blank is a mistake (an empty
/// `DEPLOYER_*` variable counts as absent, see `deployer_core::cli::parse_args`).
pub fn non_blank<'a>(flag: &str, value: Option<&'a str>, fix: &str) -> Result<Option<&'a str>> {
    match value.map(str::trim) {
        Some("") => Err(Error::BadInput(format!("{flag} is empty: {fix}"))),
        other => Ok(other),
    }
}

/// The first value of `values` that occurs twice, compared after trimming.
pub fn first_duplicate<'a, I>(values: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut seen = std::collections::BTreeSet::new();
    values.into_iter().map(str::trim).find(|v| !seen.insert(*v))
}

/// Refuses a list flag that names the same value twice (it would act twice).
pub fn check_unique<'a, I>(flag: &str, values: I) -> Result<()>
where
    I: IntoIterator<Item = &'a str>,
{
    match first_duplicate(values) {
        Some(dup) => Err(Error::BadInput(format!(
            "{flag} names `{dup}` twice: list each value once"
        ))),
        None => Ok(()),
    }
}

/// Credentials for `args` (+ the environment's role/region from the config).
pub async fn aws_context(args: &AwsArgs, cfg: Option<&Config>) -> Result<AwsContext> {
    let environment = match (cfg, args.environment.as_deref()) {
        (Some(c), Some(e)) => Some(c.environment(e).map_err(config_error)?),
        _ => None,
    };
    let opts = LoadOptions {
        region: args
            .region
            .clone()
            .or_else(|| environment.and_then(|e| e.region.clone())),
        role_to_assume: args
            .role_to_assume
            .clone()
            .or_else(|| environment.and_then(|e| e.role.clone())),
        chain_role: args
            .chain_role
            .clone()
            .or_else(|| environment.and_then(|e| e.chain_role.clone())),
        ..Default::default()
    };
    AwsContext::load(opts).await
}

pub fn tokio_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))
}

/// The first cancellation signal, once one has arrived (see [`listen_for_cancellation`]).
static CANCELLATION: std::sync::OnceLock<tokio::sync::watch::Receiver<Option<&'static str>>> =
    std::sync::OnceLock::new();

/// Catches SIGINT and SIGTERM (a cancelled workflow) from now on, for [`cancelled`].
///
/// The commands that clean up on cancellation call this as soon as their runtime exists:
/// until a handler is installed, SIGINT ends the process on the spot with no report and
/// nothing cleaned up, and tokio installs one only when first asked. A signal that comes
/// before the command listens is kept, and [`cancelled`] resolves at once when it does.
/// Commands that have nothing to clean up do not call it, so a signal still ends them.
pub fn listen_for_cancellation(rt: &tokio::runtime::Runtime) {
    let _inside = rt.enter();
    let (tx, rx) = tokio::sync::watch::channel(None);
    if CANCELLATION.set(rx).is_err() {
        return; // already listening
    }
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut interrupt), Ok(mut terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        rt.spawn(async move {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            let _ = tx.send(Some(name));
            // Keep the sender: a dropped one would end `cancelled` without a signal.
            std::future::pending::<()>().await;
        });
    }
    #[cfg(not(unix))]
    rt.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = tx.send(Some("SIGINT"));
        }
        std::future::pending::<()>().await;
    });
}

/// Resolves when SIGINT or SIGTERM arrives (workflow cancelled), or at once when one came
/// since [`listen_for_cancellation`]. Without that call it listens from its first poll.
pub async fn cancelled() -> &'static str {
    if let Some(rx) = CANCELLATION.get() {
        let mut rx = rx.clone();
        // Copied out at once: the guard `wait_for` returns must not live across an await.
        let signal = rx.wait_for(Option::is_some).await.map(|s| *s);
        return match signal {
            Ok(signal) => signal.unwrap_or("SIGTERM"),
            Err(_) => std::future::pending().await,
        };
    }
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return "SIGINT";
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

/// Caller identity for the summary, bounded so a missing STS never blocks a deploy.
pub async fn identity_line(ctx: &AwsContext) -> Option<String> {
    match tokio::time::timeout(Duration::from_secs(15), ctx.caller_identity()).await {
        Ok(Ok(id)) => Some(format!(
            "AWS account {} as {} ({})",
            id.account, id.arn, ctx.source
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").expect("ok"), Duration::from_secs(90));
        assert_eq!(parse_duration("15m").expect("ok"), Duration::from_secs(900));
        assert_eq!(
            parse_duration("0.5s").expect("ok"),
            Duration::from_millis(500)
        );
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn zero_and_too_short_durations_are_refused() {
        assert!(parse_positive_duration("0").is_err_and(|e| e.contains("is zero")));
        assert!(parse_positive_duration("0s").is_err());
        assert!(parse_positive_duration("-0").is_err());
        assert_eq!(
            parse_positive_duration("1m").expect("ok"),
            Duration::from_secs(60)
        );
        assert!(parse_poll_interval("0").is_err_and(|e| e.contains("at least 0.1s")));
        assert!(parse_poll_interval("0.05s").is_err());
        assert!(parse_poll_interval("NaN").is_err());
        assert!(parse_duration("-5s").is_err());
        assert_eq!(parse_poll_interval("0.1s").expect("ok"), MIN_POLL_INTERVAL);
    }

    #[test]
    fn a_poll_interval_longer_than_the_timeout_is_refused() {
        let s = Duration::from_secs;
        let err = check_poll_within_timeout(s(120), s(60)).expect_err("longer");
        assert!(
            err.to_string()
                .contains("--poll-interval (120 s) is longer than --timeout (60 s)"),
            "{err}"
        );
        assert!(check_poll_within_timeout(s(60), s(60)).is_ok());
        assert!(check_poll_within_timeout(s(5), s(900)).is_ok());
    }

    #[test]
    fn blank_values_and_duplicates_are_refused() {
        assert!(
            non_blank("--image", Some(" "), "fix")
                .is_err_and(|e| e.to_string() == "--image is empty: fix")
        );
        assert_eq!(
            non_blank("--image", Some(" a "), "fix").expect("ok"),
            Some("a")
        );
        assert_eq!(non_blank("--image", None, "fix").expect("ok"), None);
        assert_eq!(first_duplicate(["web", "api", " web"]), Some("web"));
        assert_eq!(first_duplicate(["web", "api"]), None);
        let err = check_unique("--service", ["web", "web"]).expect_err("dup");
        assert!(
            err.to_string().contains("--service names `web` twice"),
            "{err}"
        );
    }

    #[test]
    fn services_resolve_from_config() {
        let cfg = deployer_config::parse(
            "services:\n  api:\n    paths: ['api/**']\n    image: 1.dkr.ecr.us-east-1.amazonaws.com/api\n    cluster: shop-{env}\n    service: api-{env}\n    containers: [web]\n",
            "deployer.yml",
        )
        .expect("config");
        let t = resolve_service(Some(&cfg), Some("staging"), None, "api");
        // `environment("staging")` is not defined: that is an error naming it.
        assert!(t.is_err());
        let t = resolve_service(Some(&cfg), None, None, "api").expect("resolved");
        assert_eq!(t.service, "api-");
        let t = resolve_service(Some(&cfg), None, Some("c1"), "other").expect("flags alone");
        assert_eq!((t.cluster.as_str(), t.service.as_str()), ("c1", "other"));
        assert!(resolve_service(None, None, None, "x").is_err());
        let blank = resolve_service(Some(&cfg), None, Some(" "), "api").expect_err("blank");
        assert!(blank.to_string().contains("--cluster is empty"), "{blank}");
        let blank = resolve_service(None, None, Some("c1"), "").expect_err("blank");
        assert!(blank.to_string().contains("--service is empty"), "{blank}");
        assert_eq!(expand_image("v1", Some("repo/api")), "repo/api:v1");
        assert_eq!(expand_image("repo/api:v1", Some("x")), "repo/api:v1");
    }
}

/// Notification flags (each with an env variable).
#[derive(Debug, Clone, clap::Args)]
pub struct NotifyArgs {
    /// Record a GitHub deployment per service with in_progress/success/failure statuses
    /// (token from GITHUB_TOKEN, needs `permissions: deployments: write`; repository from GITHUB_REPOSITORY).
    /// The env variable takes true/false, yes/no, on/off, 1/0.
    #[arg(
        long,
        env = "DEPLOYER_GITHUB_DEPLOYMENTS",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub github_deployments: bool,
    /// Slack incoming-webhook URL (a secret: it is masked and never printed).
    #[arg(long, env = "DEPLOYER_SLACK_WEBHOOK_URL", hide_env_values = true)]
    pub slack_webhook_url: Option<String>,
    /// URL of the environment, shown on the GitHub deployment (default: deployer.yml environment `url` when --environment is given).
    #[arg(long, env = "DEPLOYER_ENVIRONMENT_URL")]
    pub environment_url: Option<String>,
    /// Workflow file that continues a deploy (linked from Slack messages).
    #[arg(long, env = "DEPLOYER_CONTINUE_WORKFLOW", default_value = "deploy.yml")]
    pub continue_workflow: String,
    /// Workflow file that rolls back (linked from Slack messages).
    #[arg(
        long,
        env = "DEPLOYER_ROLLBACK_WORKFLOW",
        default_value = "rollback.yml"
    )]
    pub rollback_workflow: String,
}

impl NotifyArgs {
    /// Registers the secrets (webhook URL, GitHub token) with the masker. Call first.
    pub fn mask_secrets(&self) {
        if let Some(url) = &self.slack_webhook_url {
            deployer_core::mask::add(url);
        }
        if self.github_deployments
            && let Ok(token) = std::env::var("GITHUB_TOKEN")
        {
            deployer_core::mask::add(&token);
        }
    }

    fn slack(&self) -> Option<&str> {
        self.slack_webhook_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
    }

    /// Any channel configured.
    pub fn enabled(&self) -> bool {
        self.github_deployments || self.slack().is_some()
    }

    pub fn notifier_config(&self) -> deployer_notify::NotifierConfig {
        deployer_notify::NotifierConfig {
            github_deployments: self.github_deployments,
            slack_webhook_url: self.slack().map(String::from),
            continue_workflow: Some(self.continue_workflow.clone()).filter(|w| !w.is_empty()),
            rollback_workflow: Some(self.rollback_workflow.clone()).filter(|w| !w.is_empty()),
            ..Default::default()
        }
    }

    /// `--environment-url`, else the deployer.yml environment's `url`.
    pub fn environment_url(
        &self,
        cfg: Option<&deployer_config::Config>,
        environment: Option<&str>,
    ) -> Option<String> {
        if let Some(u) = self
            .environment_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            return Some(u.to_string());
        }
        let env = environment?;
        let url = cfg?.environment(env).ok()?.url.clone()?;
        Some(deployer_config::substitute_env(&url, env))
    }
}
