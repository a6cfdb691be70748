//! Scenario files: which behaviour each container image gets, plus injected faults.
//!
//! Matching rules (documented in the crate README):
//! 1. an entry whose key equals the image exactly wins;
//! 2. otherwise the matching pattern (`*` = any run of characters, `?` = one character)
//!    with the most literal (non-wildcard) characters wins; ties go to the key that sorts first;
//! 3. otherwise `default` applies (healthy after 10 simulated seconds unless overridden).

use std::collections::BTreeMap;

use serde::Deserialize;

/// What a container running a given image does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Starts and becomes healthy after `start-after` seconds; keeps running.
    Healthy,
    /// Starts after `start-after`, exits with `exit-code` `after` seconds later, never healthy.
    CrashLoop,
    /// Never starts: the task stops with `TaskFailedToStart` / `CannotPullContainerError`.
    PullFailure,
    /// No capacity: services log "unable to place a task", RunTask returns `failures[]`.
    Unplaceable,
    /// Becomes healthy, then exits with `exit-code` `after` seconds later.
    DiesAfter,
    /// One-off task: starts, prints `logs`, exits with `exit-code` `after` seconds later.
    Exits,
}

/// Behaviour of one image.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Behavior {
    pub kind: Kind,
    /// Simulated seconds from launch until the container is RUNNING (and healthy, if it ever is).
    #[serde(default)]
    pub start_after: Option<f64>,
    /// Simulated seconds between RUNNING and exit (crash-loop, dies-after, exits) or
    /// between launch and the pull failure (pull-failure).
    #[serde(default)]
    pub after: Option<f64>,
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// Lines written to the container's awslogs stream while it runs.
    #[serde(default)]
    pub logs: Vec<String>,
    /// Overrides the generated `stoppedReason` / container `reason` (pull-failure, unplaceable).
    #[serde(default)]
    pub reason: Option<String>,
    /// What the container's `healthCheck` command answers (only used when the task definition
    /// defines one). Default: passes while the container runs, except the literal commands
    /// `exit N` (N > 0) and `false`, which fail.
    #[serde(default)]
    pub health: Option<HealthSpec>,
    /// What a load balancer's health check of this container answers. Default: `health`.
    #[serde(default)]
    pub target_health: Option<HealthSpec>,
    /// Seconds the process takes to exit after SIGTERM. Default: it does not exit on SIGTERM,
    /// so ECS kills it (exit code 137) when the container's `stopTimeout` (default 30 s) ends.
    #[serde(default)]
    pub stop_after: Option<f64>,
    /// The first `count` launches matching this rule behave as `behavior` instead.
    #[serde(default)]
    pub first_launches: Option<FirstLaunches>,
    /// Every `n`-th launch matching this rule (n, 2n, ...) behaves as `behavior` instead.
    #[serde(default)]
    pub one_in: Option<OneIn>,
}

/// The answer of a health check over time.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum HealthSpec {
    /// `pass` or `fail`, always.
    Always(Outcome),
    /// Changes over time.
    Timed(HealthTimeline),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    Fail,
}

/// Time-varying health: `pass-for` / `fail-for` count from the container's start;
/// `fail-from`/`fail-until` are simulated seconds since the simulator started (a load
/// spike that hits every task at once).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct HealthTimeline {
    /// Passes for this many seconds after the container started, then fails.
    #[serde(default)]
    pub pass_for: Option<f64>,
    /// Fails for this many seconds after the container started, then passes (slow warm-up).
    #[serde(default)]
    pub fail_for: Option<f64>,
    /// Fails from this simulated second (since the simulator started) ...
    #[serde(default)]
    pub fail_from: Option<f64>,
    /// ... until this one (default: forever).
    #[serde(default)]
    pub fail_until: Option<f64>,
}

impl HealthSpec {
    /// Whether a check at `now` passes, for a container that started at `started`, in a
    /// simulator that started at `origin`.
    pub fn passes(&self, now: f64, started: f64, origin: f64) -> bool {
        match self {
            HealthSpec::Always(o) => *o == Outcome::Pass,
            HealthSpec::Timed(t) => {
                let age = now - started;
                let since = now - origin;
                let spike = t.fail_from.is_some_and(|from| {
                    since >= from && t.fail_until.is_none_or(|until| since < until)
                });
                let expired = t.pass_for.is_some_and(|p| age >= p);
                let warming = t.fail_for.is_some_and(|f| age < f);
                !(spike || expired || warming)
            }
        }
    }
}

/// `first-launches: {count: 3, behavior: {kind: crash-loop}}`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FirstLaunches {
    pub count: u64,
    pub behavior: Box<Behavior>,
}

/// `one-in: {n: 10, behavior: {kind: crash-loop}}`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct OneIn {
    pub n: u64,
    pub behavior: Box<Behavior>,
}

impl Behavior {
    pub fn healthy_after(seconds: f64) -> Behavior {
        Behavior {
            kind: Kind::Healthy,
            start_after: Some(seconds),
            after: None,
            exit_code: None,
            logs: Vec::new(),
            reason: None,
            health: None,
            target_health: None,
            stop_after: None,
            first_launches: None,
            one_in: None,
        }
    }

    /// The behaviour of the `launch`-th launch (1-based) that matched this rule.
    pub fn for_launch(&self, launch: u64) -> &Behavior {
        if let Some(f) = &self.first_launches
            && launch <= f.count
        {
            return &f.behavior;
        }
        if let Some(o) = &self.one_in
            && o.n > 0
            && launch.is_multiple_of(o.n)
        {
            return &o.behavior;
        }
        self
    }

    /// Launch to RUNNING. The default is the realistic profile's image pull and start
    /// ([`crate::timing::START`]); explicit values keep their meaning.
    pub fn start_after(&self) -> f64 {
        let default = match self.kind {
            Kind::Healthy | Kind::DiesAfter | Kind::CrashLoop | Kind::Exits => crate::timing::START,
            Kind::PullFailure | Kind::Unplaceable => 0.0,
        };
        sane(self.start_after.unwrap_or(default))
    }

    pub fn after(&self) -> f64 {
        let default = match self.kind {
            Kind::CrashLoop => 3.0,
            Kind::PullFailure => crate::timing::PULL_FAILURE,
            Kind::DiesAfter => 60.0,
            Kind::Exits => 5.0,
            Kind::Healthy | Kind::Unplaceable => 0.0,
        };
        sane(self.after.unwrap_or(default))
    }

    pub fn exit_code(&self) -> i32 {
        self.exit_code.unwrap_or(match self.kind {
            Kind::Exits => 0,
            Kind::DiesAfter => 137,
            _ => 1,
        })
    }
}

fn sane(v: f64) -> f64 {
    if v.is_finite() && v >= 0.0 {
        v.min(1.0e7)
    } else {
        0.0
    }
}

/// Injected API faults.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Faults {
    /// Probability (0..1) that a call fails with `ThrottlingException: Rate exceeded` (HTTP 400).
    #[serde(default)]
    pub throttle_rate: f64,
    /// Probability (0..1) that a call fails with `ServerException` (HTTP 500).
    #[serde(default)]
    pub error_rate: f64,
    /// Real milliseconds added to every affected call.
    #[serde(default)]
    pub latency_ms: u64,
    /// Real milliseconds an access key stays valid after its first request; later requests
    /// signed with it fail with `ExpiredTokenException` (HTTP 400), as AWS answers calls made
    /// with expired session credentials. 0 = keys never expire. Not limited by `operations`.
    #[serde(default)]
    pub credential_lifetime_ms: u64,
    /// Limit the faults to these operation names (e.g. `DescribeServices`); empty = all.
    #[serde(default)]
    pub operations: Vec<String>,
}

impl Faults {
    pub fn applies_to(&self, op: &str) -> bool {
        self.operations.is_empty() || self.operations.iter().any(|o| o == op)
    }
}

/// A full scenario.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Scenario {
    /// Behaviour for images no key matches.
    #[serde(default = "default_behavior")]
    pub default: Behavior,
    /// Image (exact) or pattern (`*`, `?`) -> behaviour.
    #[serde(default)]
    pub images: BTreeMap<String, Behavior>,
    /// Container command (exact, or pattern with `*`/`?`; arguments joined by single
    /// spaces) -> behaviour. Matched before `images`, so a one-off task that runs the
    /// service's own image with another command (a migration) can behave differently.
    #[serde(default)]
    pub commands: BTreeMap<String, Behavior>,
    #[serde(default)]
    pub faults: Faults,
    /// Target groups by ARN (exact or pattern): health-check settings and deregistration delay.
    #[serde(default)]
    pub target_groups: BTreeMap<String, TargetGroup>,
    /// CloudWatch alarms by name, and when they are in the ALARM state.
    #[serde(default)]
    pub alarms: BTreeMap<String, Alarm>,
    /// The ECS API's request throttling (token buckets per account and Region).
    #[serde(default)]
    pub throttling: Throttling,
    /// Lambda lifecycle-hook ARN (exact, or pattern) -> what the function returns.
    #[serde(default)]
    pub hooks: BTreeMap<String, crate::hooks::HookBehavior>,
}

/// Elastic Load Balancing target-group settings; the defaults are ELB's own for an
/// Application Load Balancer target group (HealthCheckIntervalSeconds 30,
/// HealthyThresholdCount 5, UnhealthyThresholdCount 2, deregistration_delay 300 s:
/// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html,
/// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TargetGroup {
    #[serde(default = "tg_interval")]
    pub interval: f64,
    #[serde(default = "tg_healthy")]
    pub healthy_threshold: u32,
    #[serde(default = "tg_unhealthy")]
    pub unhealthy_threshold: u32,
    #[serde(default = "tg_dereg")]
    pub deregistration_delay: f64,
}

fn tg_interval() -> f64 {
    30.0
}
fn tg_healthy() -> u32 {
    5
}
fn tg_unhealthy() -> u32 {
    2
}
fn tg_dereg() -> f64 {
    300.0
}

impl Default for TargetGroup {
    fn default() -> Self {
        TargetGroup {
            interval: tg_interval(),
            healthy_threshold: tg_healthy(),
            unhealthy_threshold: tg_unhealthy(),
            deregistration_delay: tg_dereg(),
        }
    }
}

/// A CloudWatch alarm a service's `deploymentConfiguration.alarms` can name.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Alarm {
    /// Metric period in seconds; with `evaluation-periods` it sets the bake time ECS adds
    /// to a deployment that monitors this alarm.
    #[serde(default = "alarm_period")]
    pub period: f64,
    #[serde(default = "alarm_evaluations")]
    pub evaluation_periods: u32,
    /// When the alarm is in the ALARM state.
    #[serde(default)]
    pub fires: Vec<AlarmWindow>,
}

fn alarm_period() -> f64 {
    60.0
}
fn alarm_evaluations() -> u32 {
    3
}

/// One stretch of ALARM: from `at` (simulated seconds since the simulator started) or
/// `after-deployment-start` (seconds after the monitoring service deployment started),
/// for `lasts` seconds (default: until the end).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AlarmWindow {
    #[serde(default)]
    pub at: Option<f64>,
    #[serde(default)]
    pub after_deployment_start: Option<f64>,
    #[serde(default)]
    pub lasts: Option<f64>,
}

/// `throttling: aws` (default): the ECS API's token buckets; `off`: no buckets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Throttling {
    #[default]
    Aws,
    Off,
}

fn default_behavior() -> Behavior {
    Behavior::healthy_after(crate::timing::START)
}

/// Why a scenario file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("the scenario file is not valid: {0}. See crates/ecs-sim/README.md for the format.")]
    Parse(String),
    #[error("the scenario file is not valid: {0}")]
    Invalid(String),
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            default: default_behavior(),
            images: BTreeMap::new(),
            commands: BTreeMap::new(),
            faults: Faults::default(),
            target_groups: BTreeMap::new(),
            alarms: BTreeMap::new(),
            throttling: Throttling::default(),
            hooks: BTreeMap::new(),
        }
    }
}

impl Scenario {
    /// The default scenario: every image is healthy after ~10 simulated seconds, no faults.
    #[allow(clippy::should_implement_trait)]
    pub fn default() -> Scenario {
        <Scenario as Default>::default()
    }

    pub fn from_yaml(text: &str) -> Result<Scenario, ScenarioError> {
        if text.trim().is_empty() {
            return Ok(Scenario::default());
        }
        let s: Scenario =
            yaml_serde::from_str(text).map_err(|e| ScenarioError::Parse(e.to_string()))?;
        for (name, rate) in [
            ("throttle-rate", s.faults.throttle_rate),
            ("error-rate", s.faults.error_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(ScenarioError::Invalid(format!(
                    "faults.{name} must be between 0 and 1, got {rate}"
                )));
            }
        }
        for (name, alarm) in &s.alarms {
            for w in &alarm.fires {
                if w.at.is_some() == w.after_deployment_start.is_some() {
                    return Err(ScenarioError::Invalid(format!(
                        "alarms.{name}.fires: each entry needs exactly one of `at` or `after-deployment-start`"
                    )));
                }
            }
        }
        for (key, b) in s.images.iter().chain(s.commands.iter()) {
            if b.one_in.as_ref().is_some_and(|o| o.n == 0) {
                return Err(ScenarioError::Invalid(format!(
                    "{key}: one-in.n must be at least 1"
                )));
            }
        }
        Ok(s)
    }

    /// The target-group settings for `arn` (exact key, else the most specific pattern).
    pub fn target_group(&self, arn: &str) -> TargetGroup {
        best_match(&self.target_groups, arn)
            .map(|(_, tg)| tg.clone())
            .unwrap_or_default()
    }

    /// The rule key (for launch counting) and behaviour of a container.
    pub fn rule_for_container(&self, image: &str, command: Option<&str>) -> (String, &Behavior) {
        if let Some((k, b)) = command.and_then(|c| best_match(&self.commands, c)) {
            return (format!("command:{k}"), b);
        }
        match best_match(&self.images, image) {
            Some((k, b)) => (format!("image:{k}"), b),
            None => ("default".into(), &self.default),
        }
    }

    /// The behaviour for `image` (see the module docs for the matching rules).
    pub fn behavior_for(&self, image: &str) -> &Behavior {
        best_match(&self.images, image)
            .map(|(_, b)| b)
            .unwrap_or(&self.default)
    }

    /// The behaviour for a container running `command` (if any) from `image`: a matching
    /// `commands` key wins over the image rules.
    pub fn behavior_for_container(&self, image: &str, command: Option<&str>) -> &Behavior {
        command
            .and_then(|command| best_match(&self.commands, command))
            .map(|(_, b)| b)
            .unwrap_or_else(|| self.behavior_for(image))
    }
}

/// An exact key wins; otherwise the matching pattern with the most literal characters.
pub(crate) fn best_match<'a, T>(
    rules: &'a BTreeMap<String, T>,
    text: &str,
) -> Option<(&'a str, &'a T)> {
    if let Some((k, b)) = rules.get_key_value(text) {
        return Some((k.as_str(), b));
    }
    let mut best: Option<(usize, &str, &T)> = None;
    for (pattern, b) in rules {
        if (pattern.contains('*') || pattern.contains('?')) && glob_match(pattern, text) {
            let literal = pattern.chars().filter(|c| *c != '*' && *c != '?').count();
            if best.is_none_or(|(l, _, _)| literal > l) {
                best = Some((literal, pattern.as_str(), b));
            }
        }
    }
    best.map(|(_, k, b)| (k, b))
}

/// `*` matches any run of characters (including `/` and `:`), `?` exactly one.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*:crash*", "repo/app:crash-1"));
        assert!(glob_match("repo/*", "repo/app:v1"));
        assert!(!glob_match("repo/*:v2", "repo/app:v1"));
        assert!(glob_match("a?c", "abc"));
    }

    #[test]
    fn matching_prefers_exact_then_most_specific() {
        let s = Scenario::from_yaml(
            "images:\n  '*:crash*': {kind: crash-loop}\n  'app:crash-special*': {kind: exits, exit-code: 3}\n  'app:crash-1': {kind: pull-failure}\n",
        )
        .expect("valid");
        assert_eq!(s.behavior_for("app:crash-1").kind, Kind::PullFailure);
        assert_eq!(s.behavior_for("app:crash-special-2").kind, Kind::Exits);
        assert_eq!(s.behavior_for("x:crash").kind, Kind::CrashLoop);
        assert_eq!(s.behavior_for("x:ok").kind, Kind::Healthy);
    }

    #[test]
    fn command_rules_win_over_image_rules() {
        let s = Scenario::from_yaml(
            "images:\n  'api:*': {kind: healthy}\ncommands:\n  'alembic upgrade*': {kind: exits, exit-code: 0}\n",
        )
        .expect("valid");
        let b = s.behavior_for_container("api:v1", Some("alembic upgrade head"));
        assert_eq!(b.kind, Kind::Exits);
        assert_eq!(
            s.behavior_for_container("api:v1", Some("uvicorn app")).kind,
            Kind::Healthy
        );
        assert_eq!(s.behavior_for_container("api:v1", None).kind, Kind::Healthy);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(Scenario::from_yaml("images: {a: {kind: nope}}").is_err());
        assert!(Scenario::from_yaml("faults: {throttle-rate: 2}").is_err());
        assert!(Scenario::from_yaml("unknown: 1").is_err());
        assert_eq!(
            Scenario::from_yaml("").expect("empty ok"),
            Scenario::default()
        );
    }
}
