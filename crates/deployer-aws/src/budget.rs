//! The default `--timeout`: how long this service's deployment can honestly take on AWS,
//! computed from its own configuration, with a margin.
//!
//! A fixed 15 minutes rolled back healthy deployments: a LINEAR deployment of 10 % steps with
//! the default 6-minute step bake and a 15-minute bake takes about 69 minutes on AWS. The
//! durations below are AWS's documented defaults (Amazon ECS API Reference:
//! `LinearConfiguration` — stepPercent 10, stepBakeTimeInMinutes 6, "not applied after
//! reaching 100 percent traffic"; `CanaryConfiguration` — canaryPercent 5,
//! canaryBakeTimeInMinutes 10; `DeploymentConfiguration` — maximumPercent 200 and
//! minimumHealthyPercent 100 for rolling updates, bakeTimeInMinutes required for BLUE_GREEN;
//! Elastic Load Balancing: a target group's deregistration delay is 300 s by default, and its
//! health check takes 5 healthy checks 30 s apart) plus a conservative allowance for pulling
//! and starting a task.

use std::time::Duration;

use crate::ecs::{RolloutConfig, ServiceInfo};
use crate::states::Strategy;

/// Pulling the image and starting a task (Fargate: ENI, pull, start), conservatively.
const TASK_START: Duration = Duration::from_secs(120);
/// No load balancer: ECS counts a task without a health check as healthy after it has run a
/// short while; allow 40 s.
const HEALTHY_WITHOUT_LOAD_BALANCER: Duration = Duration::from_secs(40);
/// A target group's default health check: 5 consecutive healthy checks, 30 s apart.
const TARGET_GROUP_HEALTHY: Duration = Duration::from_secs(150);
/// A target group's default deregistration delay (old tasks drain before they stop).
const DEREGISTRATION_DELAY: Duration = Duration::from_secs(300);
/// Stopping an old task without a load balancer (the container's default stopTimeout).
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// The timeout is never shorter than this (the former fixed default).
pub const FLOOR: Duration = Duration::from_secs(15 * 60);

/// The timeout and how it was reached, for the first lines of the output.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub timeout: Duration,
    pub why: String,
}

/// The timeout for a deployment of `svc` to `desired` tasks (the service's desired count
/// unless the deploy changes it).
pub fn for_service(svc: &ServiceInfo, desired: i32) -> Budget {
    let r = &svc.rollout;
    let batch = batch_time(r);
    let (expected, shape) = match r.strategy.clone().unwrap_or(Strategy::Rolling) {
        Strategy::Linear => {
            let (percent, bake) = r.linear.unwrap_or((None, None));
            let percent = percent.filter(|p| *p > 0.0).unwrap_or(10.0);
            let step_bake = minutes(bake.unwrap_or(6));
            // Bake after every step but the one that reaches 100 %.
            let steps = (100.0 / percent).ceil().max(1.0) as u32;
            let baking = step_bake * steps.saturating_sub(1);
            (
                batch + baking + final_bake(r),
                format!(
                    "LINEAR: {steps} steps of {percent} % with {} min bake between them, then a {} min bake",
                    step_bake.as_secs() / 60,
                    final_bake(r).as_secs() / 60
                ),
            )
        }
        Strategy::Canary => {
            let (percent, bake) = r.canary.unwrap_or((None, None));
            let canary_bake = minutes(bake.unwrap_or(10));
            (
                batch + canary_bake + final_bake(r),
                format!(
                    "CANARY: {} % for {} min, then a {} min bake",
                    percent.unwrap_or(5.0),
                    canary_bake.as_secs() / 60,
                    final_bake(r).as_secs() / 60
                ),
            )
        }
        Strategy::BlueGreen => (
            batch + final_bake(r),
            format!(
                "BLUE_GREEN: the green tasks, then a {} min bake",
                final_bake(r).as_secs() / 60
            ),
        ),
        Strategy::Rolling | Strategy::Unknown(_) => {
            let batches = rolling_batches(r, desired);
            (
                batch * batches + final_bake(r),
                format!(
                    "ROLLING: {desired} task(s) in {batches} batch(es) of up to {} s each",
                    batch.as_secs()
                ),
            )
        }
    };
    // Half as long again and five minutes more: slow pulls, capacity, retries.
    let timeout = (expected.mul_f64(1.5) + Duration::from_secs(300)).max(FLOOR);
    Budget {
        timeout,
        why: format!(
            "{shape}{}; expected about {}, timeout {} with margin",
            if r.load_balanced {
                ", behind a load balancer (health checks and a 300 s deregistration delay)"
            } else {
                ""
            },
            human(expected),
            human(timeout)
        ),
    }
}

/// One set of tasks started, healthy, and the old ones drained and stopped.
fn batch_time(r: &RolloutConfig) -> Duration {
    let grace =
        Duration::from_secs(u64::try_from(r.health_check_grace_seconds.unwrap_or(0)).unwrap_or(0));
    let (healthy, drain) = if r.load_balanced {
        (TARGET_GROUP_HEALTHY, DEREGISTRATION_DELAY)
    } else {
        (HEALTHY_WITHOUT_LOAD_BALANCER, STOP_TIMEOUT)
    };
    TASK_START + grace.max(healthy) + drain
}

fn final_bake(r: &RolloutConfig) -> Duration {
    minutes(r.bake_time_minutes.unwrap_or(0))
}

/// How many rounds a rolling update needs: each round may start
/// `floor(desired × max%) − ceil(desired × min%)` new tasks (at least one).
fn rolling_batches(r: &RolloutConfig, desired: i32) -> u32 {
    let desired = f64::from(desired.max(0));
    if desired == 0.0 {
        return 1;
    }
    let max = f64::from(r.maximum_percent.unwrap_or(200));
    let min = f64::from(r.minimum_healthy_percent.unwrap_or(100));
    let room = ((desired * max / 100.0).floor() - (desired * min / 100.0).ceil()).max(1.0);
    (desired / room).ceil().max(1.0) as u32
}

fn minutes(m: i32) -> Duration {
    Duration::from_secs(u64::try_from(m.max(0)).unwrap_or(0) * 60)
}

/// `1h 18m`, `25m`, `45s`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, sec) => format!("{m}m {sec}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(rollout: RolloutConfig) -> ServiceInfo {
        ServiceInfo {
            arn: String::new(),
            name: "api".into(),
            cluster_arn: String::new(),
            status: "ACTIVE".into(),
            task_definition: "td/api:1".into(),
            desired: 2,
            running: 2,
            pending: 0,
            controller: "ECS".into(),
            strategy: rollout.strategy.clone(),
            rollout,
            current_service_deployment: None,
            deployments: vec![],
            events: vec![],
            network_configuration: None,
            launch_type: None,
            capacity_provider_strategy: vec![],
            platform_version: None,
        }
    }

    /// The case: 10 % steps, the default 6-minute step bake, a 15-minute bake —
    /// about 69 minutes of baking alone on AWS. The old fixed 15 minutes rolled it back.
    #[test]
    fn a_linear_deployment_with_a_15_minute_bake_gets_well_over_69_minutes() {
        let svc = service(RolloutConfig {
            strategy: Some(Strategy::Linear),
            linear: Some((Some(10.0), None)),
            bake_time_minutes: Some(15),
            load_balanced: true,
            ..Default::default()
        });
        let b = for_service(&svc, 4);
        assert!(b.timeout >= Duration::from_secs(69 * 60 * 3 / 2), "{b:?}");
        // The line the README shows.
        assert_eq!(human(b.timeout), "2h 2m");
        assert!(
            b.why.starts_with(
                "LINEAR: 10 steps of 10 % with 6 min bake between them, then a 15 min bake"
            ),
            "{}",
            b.why
        );
        assert!(b.why.contains("10 steps of 10 %"), "{}", b.why);
        assert!(b.why.contains("6 min bake"), "{}", b.why);
    }

    #[test]
    fn a_canary_waits_for_its_bake_times_and_a_blue_green_for_its_bake() {
        let canary = for_service(
            &service(RolloutConfig {
                strategy: Some(Strategy::Canary),
                canary: Some((None, Some(20))),
                bake_time_minutes: Some(10),
                load_balanced: true,
                ..Default::default()
            }),
            2,
        );
        assert!(canary.timeout >= Duration::from_secs(30 * 60), "{canary:?}");
        let bg = for_service(
            &service(RolloutConfig {
                strategy: Some(Strategy::BlueGreen),
                bake_time_minutes: Some(60),
                load_balanced: true,
                ..Default::default()
            }),
            2,
        );
        assert!(bg.timeout >= Duration::from_secs(90 * 60), "{bg:?}");
    }

    #[test]
    fn rolling_updates_count_their_batches_and_never_go_below_the_floor() {
        let quick = for_service(&service(RolloutConfig::default()), 2);
        assert_eq!(quick.timeout, FLOOR, "{quick:?}");
        // 20 tasks, max 110 %, min 100 %: 2 new tasks per round, 10 rounds behind an ALB.
        let slow = service(RolloutConfig {
            maximum_percent: Some(110),
            load_balanced: true,
            ..Default::default()
        });
        assert_eq!(rolling_batches(&slow.rollout, 20), 10);
        let b = for_service(&slow, 20);
        assert!(b.timeout > Duration::from_secs(10 * 570), "{b:?}");
        assert_eq!(rolling_batches(&RolloutConfig::default(), 0), 1);
        // A grace period longer than the health checks is what a task waits.
        let graced = RolloutConfig {
            health_check_grace_seconds: Some(600),
            ..Default::default()
        };
        assert_eq!(
            batch_time(&graced),
            TASK_START + Duration::from_secs(600) + STOP_TIMEOUT
        );
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::from_secs(45)), "45s");
        assert_eq!(human(Duration::from_secs(900)), "15m");
        assert_eq!(human(Duration::from_secs(4680)), "1h 18m");
    }
}
