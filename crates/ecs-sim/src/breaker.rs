//! The deployment circuit breaker's counting rules, per "How the Amazon ECS deployment circuit
//! breaker detects failures"
//! (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html)
//! and the API reference of DeploymentCircuitBreaker / ThresholdConfiguration / Deployment.failedTasks:
//!
//! - Stage 1: a task that does not reach RUNNING adds one to the failure count; so does a task
//!   the scheduler cannot launch (failedTasks: "if the service scheduler can't launch the task").
//! - Stage 2 (a task is RUNNING): the ELB, Cloud Map and container health checks are
//!   evaluated; a task replaced because of a health-check failure adds one. A task that had a
//!   health check and stopped before it ever passed counts too ("if a Task fails before
//!   reporting a health check, the failedTask count is not reset", AWS in
//!   aws/containers-roadmap#1206). A task without any health check that exits after RUNNING
//!   does not count: it passed stage 1 and has no health check to fail (knowledge center
//!   "ecs-deployment-roll-back-failure": "If a task successfully starts, passes the dependent
//!   health checks, but then stops, then the circuit breaker might not activate").
//! - `resetOnHealthyTask` (default true): "The failure count resets to 0 each time a task
//!   reaches a healthy state." false: failures accumulate.
//! - `thresholdConfiguration`: BOUNDED_PERCENT (default, value 50) = ceil(value% × desired)
//!   clamped to 3..=200; UNBOUNDED_PERCENT without the clamp; COUNT = value. "During a
//!   deployment, Amazon ECS continuously uses the latest service desired count."

use serde_json::Value;

use crate::health;
use crate::state::Task;

/// The failure threshold for a deployment configuration and the latest desired count.
pub fn threshold(config: &Value, desired: u64) -> u64 {
    let tc = config
        .get("deploymentCircuitBreaker")
        .and_then(|c| c.get("thresholdConfiguration"));
    let kind = tc
        .and_then(|t| t.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("BOUNDED_PERCENT");
    let value = tc
        .and_then(|t| t.get("value"))
        .and_then(Value::as_u64)
        .unwrap_or(50)
        .min(1_000_000);
    let percent = (desired.saturating_mul(value)).div_ceil(100);
    match kind {
        "COUNT" => value.max(1),
        "UNBOUNDED_PERCENT" => percent.max(1),
        _ => percent.clamp(3, 200),
    }
}

/// Whether a healthy task resets the failure count (`resetOnHealthyTask`, default true).
pub fn resets_on_healthy(config: &Value) -> bool {
    config
        .get("deploymentCircuitBreaker")
        .and_then(|c| c.get("resetOnHealthyTask"))
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

/// Whether a stopped service task counts as a circuit-breaker failure.
pub fn is_failure(task: &Task) -> bool {
    if task.started_at.is_none() {
        // Stage 1: never reached RUNNING. A task the scheduler itself stopped before it ran
        // (scale-in, superseded) is not a failure of the image.
        return task.stop_code == Some("TaskFailedToStart");
    }
    if task.stopped_for_health {
        return true;
    }
    let has_check = health::has_container_check(task) || task.target.is_some();
    let scheduler_stop = matches!(
        task.stop_code,
        Some("ServiceSchedulerInitiated" | "UserInitiated")
    );
    has_check && task.healthy_at.is_none() && !scheduler_stop
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn threshold_follows_the_threshold_configuration() {
        let none = json!({});
        assert_eq!(threshold(&none, 1), 3);
        assert_eq!(threshold(&none, 10), 5);
        assert_eq!(threshold(&none, 25), 13);
        assert_eq!(threshold(&none, 1000), 200);
        let count = json!({"deploymentCircuitBreaker": {"thresholdConfiguration": {"type": "COUNT", "value": 1}}});
        assert_eq!(threshold(&count, 40), 1);
        let unbounded = json!({"deploymentCircuitBreaker": {"thresholdConfiguration": {"type": "UNBOUNDED_PERCENT", "value": 50}}});
        assert_eq!(threshold(&unbounded, 800), 400);
        assert_eq!(threshold(&unbounded, 1), 1);
        let bounded = json!({"deploymentCircuitBreaker": {"thresholdConfiguration": {"type": "BOUNDED_PERCENT", "value": 10}}});
        assert_eq!(threshold(&bounded, 100), 10);
        assert_eq!(threshold(&bounded, 4), 3);
    }

    #[test]
    fn reset_on_healthy_defaults_to_true() {
        assert!(resets_on_healthy(&json!({})));
        assert!(!resets_on_healthy(
            &json!({"deploymentCircuitBreaker": {"resetOnHealthyTask": false}})
        ));
    }
}
