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
        }
    }

    pub fn start_after(&self) -> f64 {
        let default = match self.kind {
            Kind::Healthy | Kind::DiesAfter => 10.0,
            Kind::CrashLoop | Kind::Exits => 2.0,
            Kind::PullFailure | Kind::Unplaceable => 0.0,
        };
        sane(self.start_after.unwrap_or(default))
    }

    pub fn after(&self) -> f64 {
        let default = match self.kind {
            Kind::CrashLoop => 3.0,
            Kind::PullFailure => 5.0,
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
    /// Lambda lifecycle-hook ARN (exact, or pattern) -> what the function returns.
    #[serde(default)]
    pub hooks: BTreeMap<String, crate::hooks::HookBehavior>,
}

fn default_behavior() -> Behavior {
    Behavior::healthy_after(10.0)
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
        Ok(s)
    }

    /// The behaviour for `image` (see the module docs for the matching rules).
    pub fn behavior_for(&self, image: &str) -> &Behavior {
        best_match(&self.images, image).unwrap_or(&self.default)
    }

    /// The behaviour for a container running `command` (if any) from `image`: a matching
    /// `commands` key wins over the image rules.
    pub fn behavior_for_container(&self, image: &str, command: Option<&str>) -> &Behavior {
        command
            .and_then(|command| best_match(&self.commands, command))
            .unwrap_or_else(|| self.behavior_for(image))
    }
}

/// An exact key wins; otherwise the matching pattern with the most literal characters.
pub(crate) fn best_match<'a, T>(rules: &'a BTreeMap<String, T>, text: &str) -> Option<&'a T> {
    if let Some(b) = rules.get(text) {
        return Some(b);
    }
    let mut best: Option<(usize, &T)> = None;
    for (pattern, b) in rules {
        if (pattern.contains('*') || pattern.contains('?')) && glob_match(pattern, text) {
            let literal = pattern.chars().filter(|c| *c != '*' && *c != '?').count();
            if best.is_none_or(|(l, _)| literal > l) {
                best = Some((literal, b));
            }
        }
    }
    best.map(|(_, b)| b)
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
