//! Health: container `healthCheck`s, load-balancer target health, and when the service
//! scheduler counts a task healthy.
//!
//! Sources:
//! - HealthCheck (interval 30 s, timeout 5 s, retries 3, startPeriod off; "If a health check
//!   succeeds within the startPeriod, then the container is considered healthy and any
//!   subsequent failures count toward the maximum number of retries"):
//!   https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
//! - Task.healthStatus: "If all essential containers in the task are reporting as HEALTHY,
//!   the task status also reports as HEALTHY. If any essential containers in the task are
//!   reporting as UNHEALTHY or UNKNOWN, the task status also reports as UNHEALTHY or UNKNOWN."
//!   https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html
//! - minimumHealthyPercent: a task with an essential container health check counts once it is
//!   healthy; behind a load balancer, once the target group reports it healthy; otherwise 40 s
//!   after RUNNING. https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html
//! - healthCheckGracePeriodSeconds: "the Amazon ECS service scheduler ignores unhealthy Elastic
//!   Load Balancing, VPC Lattice, and container health checks after a task has first started".
//! - Stopped reasons "Task failed container health checks" and "Task failed ELB health checks
//!   in (target-group …)": https://repost.aws/knowledge-center/ecs-task-stopped

use serde_json::Value;

use crate::scenario::{HealthSpec, Outcome};
use crate::state::Task;
use crate::timing;

/// A container's `healthCheck` and where its checks stand.
#[derive(Debug, Clone)]
pub struct ContainerHealth {
    pub interval: f64,
    pub retries: u32,
    pub start_period: f64,
    /// What the command answers.
    pub spec: HealthSpec,
    pub status: &'static str,
    pub failures: u32,
    pub next_check_at: f64,
}

impl ContainerHealth {
    /// From a container definition; None when it has no `healthCheck.command`.
    pub fn from_definition(def: &Value, scenario: Option<&HealthSpec>) -> Option<Self> {
        let hc = def.get("healthCheck")?;
        let command: Vec<&str> = hc
            .get("command")?
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        if command.is_empty() {
            return None;
        }
        let num = |k: &str, default: f64, lo: f64, hi: f64| {
            hc.get(k)
                .and_then(Value::as_f64)
                .unwrap_or(default)
                .clamp(lo, hi)
        };
        Some(ContainerHealth {
            interval: num("interval", 30.0, 5.0, 300.0),
            retries: num("retries", 3.0, 1.0, 10.0) as u32,
            start_period: num("startPeriod", 0.0, 0.0, 300.0),
            spec: scenario
                .cloned()
                .unwrap_or_else(|| spec_of_command(&command)),
            status: "UNKNOWN",
            failures: 0,
            next_check_at: f64::INFINITY,
        })
    }

    /// Runs the checks due by `now` for a container running since `started`.
    fn check(&mut self, now: f64, started: f64, origin: f64) -> bool {
        let mut changed = false;
        while self.next_check_at <= now {
            let at = self.next_check_at;
            self.next_check_at += self.interval;
            let in_start_period = at < started + self.start_period;
            if self.spec.passes(at, started, origin) {
                self.failures = 0;
                changed |= self.status != "HEALTHY";
                self.status = "HEALTHY";
            } else if !(in_start_period && self.status != "HEALTHY") {
                self.failures += 1;
                if self.failures >= self.retries && self.status != "UNHEALTHY" {
                    self.status = "UNHEALTHY";
                    changed = true;
                }
            }
        }
        changed
    }
}

/// The health-check command taken literally when the scenario says nothing: `exit N` with
/// N > 0 and `false` fail (the research repro's `CMD-SHELL exit 1`); anything else passes.
fn spec_of_command(command: &[&str]) -> HealthSpec {
    let body = command
        .iter()
        .skip_while(|w| matches!(**w, "CMD" | "CMD-SHELL"))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let body = body.trim();
    let fails = body == "false"
        || body
            .strip_prefix("exit ")
            .and_then(|n| n.trim().parse::<i64>().ok())
            .is_some_and(|n| n != 0);
    HealthSpec::Always(if fails { Outcome::Fail } else { Outcome::Pass })
}

/// A task registered in a target group.
#[derive(Debug, Clone)]
pub struct Target {
    pub group_arn: String,
    pub container: String,
    pub settings: crate::scenario::TargetGroup,
    /// initial | healthy | unhealthy (ELB's TargetHealth states).
    pub state: &'static str,
    pub passes: u32,
    pub failures: u32,
    pub next_check_at: f64,
}

impl Target {
    pub fn new(
        group_arn: String,
        container: String,
        settings: crate::scenario::TargetGroup,
    ) -> Target {
        Target {
            group_arn,
            container,
            settings,
            state: "initial",
            passes: 0,
            failures: 0,
            next_check_at: f64::INFINITY,
        }
    }

    fn check(&mut self, now: f64, spec: &HealthSpec, started: f64, origin: f64) {
        while self.next_check_at <= now {
            let at = self.next_check_at;
            self.next_check_at += self.settings.interval;
            if spec.passes(at, started, origin) {
                self.failures = 0;
                self.passes += 1;
                if self.passes >= self.settings.healthy_threshold {
                    self.state = "healthy";
                }
            } else {
                self.passes = 0;
                self.failures += 1;
                if self.failures >= self.settings.unhealthy_threshold {
                    self.state = "unhealthy";
                }
            }
        }
    }
}

/// Start the checks when the task reaches RUNNING at `at`: Docker runs the first check one
/// interval after the container starts; ELB checks a target once registered.
pub fn on_running(task: &mut Task, at: f64) {
    for c in &mut task.containers {
        if let Some(h) = &mut c.health {
            h.next_check_at = at + h.interval;
        }
    }
    if let Some(t) = &mut task.target {
        t.next_check_at = at + 1.0;
    }
}

/// Run the checks due by `now` and recompute `healthStatus`.
pub fn advance(task: &mut Task, now: f64, origin: f64) {
    let Some(started) = task.started_at else {
        return;
    };
    let mut changed = false;
    for c in &mut task.containers {
        if c.last_status != "RUNNING" {
            continue;
        }
        if let Some(h) = &mut c.health {
            changed |= h.check(now, started, origin);
        }
    }
    if let Some(t) = &mut task.target {
        let running = task
            .containers
            .iter()
            .find(|c| c.name == t.container)
            .is_none_or(|c| c.last_status == "RUNNING");
        let spec = task
            .containers
            .iter()
            .find(|c| c.name == t.container)
            .map(|c| c.target_spec.clone())
            .unwrap_or(HealthSpec::Always(Outcome::Pass));
        let spec = if running {
            spec
        } else {
            HealthSpec::Always(Outcome::Fail)
        };
        t.check(now, &spec, started, origin);
    }
    let status = task_status(task);
    if changed || status != task.health {
        task.health = status;
        task.version += 1;
    }
}

/// Task.healthStatus from its essential containers.
pub fn task_status(task: &Task) -> &'static str {
    let essential: Vec<&'static str> = task
        .containers
        .iter()
        .filter(|c| c.essential)
        .map(|c| c.health.as_ref().map_or("UNKNOWN", |h| h.status))
        .collect();
    if essential.contains(&"UNHEALTHY") {
        "UNHEALTHY"
    } else if essential.is_empty() || essential.contains(&"UNKNOWN") {
        "UNKNOWN"
    } else {
        "HEALTHY"
    }
}

/// Whether any essential container defines a health check.
pub fn has_container_check(task: &Task) -> bool {
    task.containers
        .iter()
        .any(|c| c.essential && c.health.is_some())
}

/// Whether the service scheduler counts the task healthy at `now`.
pub fn counts_healthy(task: &Task, now: f64) -> bool {
    if task.last_status != "RUNNING" || task.desired_status != "RUNNING" {
        return false;
    }
    let container_ok = if has_container_check(task) {
        task.health == "HEALTHY"
    } else {
        task.target.is_some()
            || task
                .started_at
                .is_some_and(|s| now >= s + timing::NO_HEALTH_CHECK_WAIT)
    };
    let target_ok = task.target.as_ref().is_none_or(|t| t.state == "healthy");
    container_ok && target_ok
}

/// Why the scheduler must replace this task now, if it failed a health check after its
/// service's grace period.
pub fn failed_check(task: &Task, now: f64) -> Option<String> {
    if task.last_status != "RUNNING" || task.desired_status != "RUNNING" {
        return None;
    }
    let started = task.started_at?;
    if now < started + task.grace {
        return None;
    }
    if let Some(t) = &task.target
        && t.state == "unhealthy"
    {
        return Some(format!(
            "Task failed ELB health checks in (target-group {})",
            t.group_arn
        ));
    }
    (task.health == "UNHEALTHY").then(|| "Task failed container health checks".to_string())
}
