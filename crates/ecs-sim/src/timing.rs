//! The realistic timing profile: how long ECS takes for the steps it documents. Every
//! duration is simulated seconds; callers compress the whole profile with `time_scale`
//! rather than shortening any step (a test that needs speed raises its time scale).

/// Launch to RUNNING for a task whose scenario gives no `start-after`: Fargate provisions an
/// ENI and pulls the image first (the task lifecycle's PROVISIONING and PENDING states,
/// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html).
/// AWS publishes no figure; 30 s is a typical Fargate start of a small image.
pub const START: f64 = 30.0;

/// Launch to `CannotPullContainerError` when the image cannot be pulled: the agent retries the
/// pull ("pull image manifest has been retried 7 time(s)") before giving up.
pub const PULL_FAILURE: f64 = 30.0;

/// PROVISIONING lasts at most this long before PENDING (ENI attachment).
pub const PROVISIONING: f64 = 8.0;

/// "If a task has no essential containers with a health check defined, the service scheduler
/// will wait for 40 seconds after a task reaches a RUNNING state before the task is counted
/// towards the minimum healthy percent total" (DeploymentConfiguration.minimumHealthyPercent,
/// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html).
pub const NO_HEALTH_CHECK_WAIT: f64 = 40.0;

/// Container `stopTimeout` when the task definition sets none: "if the parameter is not
/// specified, the default value of 30 seconds is used" (ContainerDefinition.stopTimeout,
/// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html).
pub const STOP_TIMEOUT: f64 = 30.0;

/// DEPROVISIONING (ENI detach) before STOPPED. AWS publishes no figure.
pub const DEPROVISIONING: f64 = 3.0;

/// The service scheduler's next pass after a task of a service stopped: the replacement is
/// launched this long after.
pub const REPLACEMENT_DELAY: f64 = 2.0;

/// "Amazon ECS service throttle logic": when tasks of a service repeatedly fail to reach
/// RUNNING, "the time between subsequent restart attempts is incrementally increased up to a
/// maximum of 27 minutes" with the event "(service service-name) is unable to consistently
/// start tasks successfully."
/// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-throttle-logic.html).
/// AWS does not publish the curve: the simulator doubles from [`RELAUNCH_BASE`] from the
/// second consecutive failure on, up to the cap.
pub const RELAUNCH_CAP: f64 = 27.0 * 60.0;
pub const RELAUNCH_BASE: f64 = 15.0;

/// The delay before relaunching after `failures` consecutive tasks that never reached RUNNING.
pub fn relaunch_delay(failures: u32) -> f64 {
    if failures < 2 {
        return REPLACEMENT_DELAY;
    }
    let doublings = (failures - 2).min(16);
    (RELAUNCH_BASE * f64::from(1u32 << doublings)).min(RELAUNCH_CAP)
}

/// How often an unplaceable service retries placement (and logs "was unable to place a
/// task") when the throttle logic has not slowed it further.
pub const PLACEMENT_RETRY: f64 = 60.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relaunch_back_off_grows_to_the_documented_cap() {
        assert_eq!(relaunch_delay(1), REPLACEMENT_DELAY);
        assert_eq!(relaunch_delay(2), 15.0);
        assert_eq!(relaunch_delay(3), 30.0);
        assert!(relaunch_delay(8) <= RELAUNCH_CAP);
        assert_eq!(relaunch_delay(30), RELAUNCH_CAP);
        let mut last = 0.0;
        for n in 1..40 {
            assert!(relaunch_delay(n) >= last);
            last = relaunch_delay(n);
        }
    }
}
