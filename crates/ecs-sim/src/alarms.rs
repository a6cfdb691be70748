//! CloudWatch deployment alarms (`deploymentConfiguration.alarms`), per "How CloudWatch alarms
//! detect Amazon ECS deployment failures"
//! (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html)
//! and ServiceDeploymentAlarms in the API reference:
//!
//! - ECS sets the deployment to failed when a named alarm goes into the ALARM state, and rolls
//!   back to the last completed deployment when `rollback` is true; the names go to
//!   `triggeredAlarmNames` and `status` to TRIGGERED (MONITORING while watched,
//!   MONITORING_COMPLETE after, DISABLED when not used).
//! - Monitoring starts once a task of the new deployment is RUNNING, and the deployment stays
//!   IN_PROGRESS for a bake time after it reached its target, which "Amazon ECS computes …
//!   based on the alarm configuration … You can't set this value". AWS does not publish the
//!   formula: the simulator bakes for the longest `period × evaluation-periods` of the
//!   configured alarms (scenario `alarms:`; default 60 s × 3).

use serde_json::{Value, json};

use crate::scenario::Scenario;

/// The alarm side of one service deployment.
#[derive(Debug, Clone, Default)]
pub struct Monitor {
    pub enabled: bool,
    pub rollback: bool,
    pub names: Vec<String>,
    pub triggered: Vec<String>,
    pub completed: bool,
}

impl Monitor {
    pub fn from_config(config: &Value) -> Monitor {
        let a = config.get("alarms");
        let flag = |k: &str| a.and_then(|a| a.get(k)).and_then(Value::as_bool) == Some(true);
        let names: Vec<String> = a
            .and_then(|a| a.get("alarmNames"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        Monitor {
            enabled: flag("enable") && !names.is_empty(),
            rollback: flag("rollback"),
            names,
            triggered: Vec::new(),
            completed: false,
        }
    }

    pub fn status(&self) -> &'static str {
        if !self.enabled {
            "DISABLED"
        } else if !self.triggered.is_empty() {
            "TRIGGERED"
        } else if self.completed {
            "MONITORING_COMPLETE"
        } else {
            "MONITORING"
        }
    }

    /// The `alarms` member of a ServiceDeployment.
    pub fn to_json(&self) -> Value {
        let mut v = json!({"status": self.status()});
        if self.enabled {
            v["alarmNames"] = json!(self.names);
            v["triggeredAlarmNames"] = json!(self.triggered);
        }
        v
    }

    /// The bake time (seconds) the alarms add after the rollout reached its target.
    pub fn bake_seconds(&self, scenario: &Scenario) -> f64 {
        if !self.enabled {
            return 0.0;
        }
        self.names
            .iter()
            .map(|n| match scenario.alarms.get(n) {
                Some(a) => a.period * f64::from(a.evaluation_periods),
                None => 180.0,
            })
            .fold(0.0, f64::max)
    }

    /// The configured alarms in the ALARM state at `now`, for a deployment started at
    /// `deployment_start`.
    pub fn firing(
        &self,
        scenario: &Scenario,
        overrides: &std::collections::BTreeMap<String, bool>,
        origin: f64,
        deployment_start: f64,
        now: f64,
    ) -> Vec<String> {
        self.names
            .iter()
            .filter(|n| match overrides.get(*n) {
                Some(on) => *on,
                None => scenario.alarms.get(*n).is_some_and(|a| {
                    a.fires.iter().any(|w| {
                        let from = match (w.at, w.after_deployment_start) {
                            (Some(at), _) => origin + at,
                            (None, Some(after)) => deployment_start + after,
                            (None, None) => return false,
                        };
                        now >= from && w.lasts.is_none_or(|l| now < from + l)
                    })
                }),
            })
            .cloned()
            .collect()
    }
}
