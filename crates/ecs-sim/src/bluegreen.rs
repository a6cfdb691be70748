//! The lifecycle-stage engine of ECS-native BLUE_GREEN, LINEAR and CANARY deployments: the
//! green revision is scaled up next to blue, test traffic moves, production traffic moves in
//! one (blue/green), two (canary) or N (linear) shifts with a bake between them, then the
//! deployment bakes and blue is cleaned up. Hooks run at the stages they are configured for.
//!
//! Sources: API reference, `ServiceDeployment.lifecycleStage` and
//! `DeploymentLifecycleHook.lifecycleStages` ("PRE_PRODUCTION_TRAFFIC_SHIFT … For linear and
//! canary deployments, this stage is invoked before every traffic shift step";
//! "PRODUCTION_TRAFFIC_SHIFT … invoked at every traffic shift step"; "RECONCILE_SERVICE The
//! reconciliation stage that only happens when you start a new service deployment with more
//! than 1 service revision in an ACTIVE state"); `traffic.rs` for the shift plans.
//! Note: the botocore 1.44.8 / aws-sdk-ecs 1.157 `ServiceDeploymentLifecycleStage` enum lacks
//! PRE_PRODUCTION_TRAFFIC_SHIFT although the same field's documentation lists it, so clients
//! see it as an unknown enum value.

use crate::hooks::{self, Outcome};
use crate::rolling::{complete, counts, launch_tasks, rollback_to};
use crate::state::{Deployment, State};
use crate::tasks;
use crate::traffic;

pub const STAGES: [&str; 11] = [
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
];

const SCALE_UP: usize = 2;
const PRE_PRODUCTION: usize = 6;
const PRODUCTION: usize = 7;

/// Simulated seconds spent in a stage that has no work of its own.
const STAGE_SECONDS: f64 = 2.0;

pub fn stage_index(stage: &str) -> Option<usize> {
    STAGES.iter().position(|s| *s == stage)
}

pub fn step(state: &mut State, key: &str) {
    let now = state.now;
    let Some(svc) = state.services.get(key) else {
        return;
    };
    let (name, desired) = (svc.name.clone(), svc.desired_count);
    // RECONCILE_SERVICE only happens with more than one ACTIVE revision besides the new one.
    let older_active = svc.deployments.len().saturating_sub(1);
    let Some(p) = svc.deployments.first().cloned() else {
        return;
    };
    if p.stage == 0 && older_active <= 1 {
        set_stage(state, key, 1, now);
        return;
    }
    let idx = p.stage.min(STAGES.len() - 1);
    let stage = STAGES[idx];
    let Some(sd) = state.service_deployments.get(&p.sd_arn) else {
        return;
    };
    let plan = traffic::plan(p.strategy, &sd.deployment_configuration);
    if sd.lifecycle_stage != Some(stage)
        && let Some(sd) = state.service_deployments.get_mut(&p.sd_arn)
    {
        sd.lifecycle_stage = Some(stage);
        sd.updated_at = now;
    }
    hooks::create(state, &p.sd_arn, stage, p.shifts);
    let outcome = hooks::resolve(state, &p.sd_arn, stage, p.shifts);
    if let Outcome::Rollback(reason) = outcome {
        roll_back(state, key, &p, &reason);
        return;
    }
    let green = counts(state, key, &p.id);
    let last_shift = p.shifts + 1 >= plan.weights.len();
    let done = match idx {
        SCALE_UP => {
            if p.can_launch && now >= p.next_launch_at && green.active < desired {
                launch_tasks(state, key, &name, desired - green.active);
            }
            green.healthy >= desired
        }
        // Each shift waits the step (or canary) bake before the next one; not after 100 %.
        PRODUCTION if !last_shift => now >= p.stage_started + plan.step_bake.max(STAGE_SECONDS),
        _ if stage == "BAKE_TIME" => now >= p.stage_started + plan.bake,
        _ if stage == "CLEAN_UP" => {
            clean_up(state, key, &p) && now >= p.stage_started + STAGE_SECONDS
        }
        _ => now >= p.stage_started + STAGE_SECONDS,
    };
    // Keep green at strength after scale-up (replacements).
    if idx > SCALE_UP && p.can_launch && green.active < desired && now >= p.next_launch_at {
        launch_tasks(state, key, &name, desired - green.active);
    }
    if !done || outcome == Outcome::Blocked {
        return;
    }
    match stage {
        "CLEAN_UP" => complete(state, key, &name),
        "PRODUCTION_TRAFFIC_SHIFT" => {
            let next = if last_shift {
                PRODUCTION + 1
            } else {
                PRE_PRODUCTION
            };
            if let Some(d) = primary_mut(state, key) {
                d.shifts += 1;
            }
            set_stage(state, key, next, now);
        }
        _ => set_stage(state, key, idx + 1, now),
    }
}

fn primary_mut<'a>(state: &'a mut State, key: &str) -> Option<&'a mut Deployment> {
    state
        .services
        .get_mut(key)
        .and_then(|s| s.deployments.first_mut())
}

/// Enter stage `idx`: it is reported and its hooks start at once.
fn set_stage(state: &mut State, key: &str, idx: usize, now: f64) {
    let Some(d) = primary_mut(state, key) else {
        return;
    };
    d.stage = idx;
    d.stage_started = now;
    let (sd_arn, round) = (d.sd_arn.clone(), d.shifts);
    let stage = STAGES[idx.min(STAGES.len() - 1)];
    if let Some(sd) = state.service_deployments.get_mut(&sd_arn) {
        sd.lifecycle_stage = Some(stage);
        sd.updated_at = now;
    }
    hooks::create(state, &sd_arn, stage, round);
}

/// Stop every task of the older (blue) deployments; true once none is left, draining ones
/// included: CLEAN_UP is "the stage when the blue service revision has" scaled down to 0
/// running tasks (API reference, `ServiceDeployment.lifecycleStage`), and a stopped task
/// first drains its target for the deregistration delay and then gets its `stopTimeout`
/// (`tasks::request_stop`). Completing earlier would drop blue from `deployments[]` while
/// its tasks still serve draining connections.
fn clean_up(state: &mut State, key: &str, p: &Deployment) -> bool {
    let now = state.now;
    let ids: Vec<String> = state
        .services
        .get(key)
        .map(|s| s.deployments.iter().skip(1).map(|d| d.id.clone()).collect())
        .unwrap_or_default();
    let mut left = 0;
    for id in ids {
        let c = counts(state, key, &id);
        left += c.active + c.draining;
        for (tid, _) in c.tasks {
            if let Some(t) = state.tasks.get_mut(&tid) {
                tasks::request_stop(
                    t,
                    now,
                    "ServiceSchedulerInitiated",
                    format!("Scaling activity initiated by (deployment {})", p.id),
                );
            }
        }
    }
    left == 0
}

/// A hook failed, timed out or asked for it: go back to the last completed revision.
fn roll_back(state: &mut State, key: &str, p: &Deployment, reason: &str) {
    let now = state.now;
    let last = state
        .services
        .get(key)
        .and_then(|s| s.last_completed.clone())
        .map(|(_, td, rev)| (td, rev))
        .or_else(|| {
            state
                .service_deployments
                .get(&p.sd_arn)
                .and_then(|sd| sd.rollback_target.clone())
        });
    match last {
        Some((td, rev)) => rollback_to(state, key, &p.sd_arn, &td, &rev, reason),
        None => {
            if let Some(d) = primary_mut(state, key) {
                d.can_launch = false;
                d.rollout_state = "FAILED";
            }
        }
    }
    if let Some(sd) = state.service_deployments.get_mut(&p.sd_arn) {
        if sd.status != "ROLLBACK_IN_PROGRESS" {
            sd.status = "ROLLBACK_FAILED";
            sd.finished_at = Some(now);
        }
        sd.status_reason = Some(reason.to_string());
        sd.lifecycle_stage = None;
        sd.updated_at = now;
    }
}

/// Production weight of the new revision as DescribeServiceDeployments reports it
/// (`requestedProductionTrafficWeight` of the target revision).
pub fn production_weight(state: &State, sd: &crate::state::ServiceDeployment) -> f64 {
    match sd.status {
        "SUCCESSFUL" => return 100.0,
        "ROLLBACK_IN_PROGRESS" | "ROLLBACK_SUCCESSFUL" | "ROLLBACK_FAILED" | "STOPPED" => {
            return 0.0;
        }
        _ => {}
    }
    let key = crate::state::service_key(&sd.cluster, &sd.service);
    let Some(d) = state
        .services
        .get(&key)
        .and_then(|s| s.deployments.iter().find(|d| d.sd_arn == sd.arn))
    else {
        return 0.0;
    };
    let plan = traffic::plan(d.strategy, &sd.deployment_configuration);
    let at = |i: usize| plan.weights.get(i).copied().unwrap_or(100.0);
    if d.stage == PRODUCTION {
        at(d.shifts)
    } else if d.shifts > 0 {
        at(d.shifts - 1)
    } else {
        0.0
    }
}

/// Test weight of the new revision: it takes all test traffic from TEST_TRAFFIC_SHIFT on.
pub fn test_weight(state: &State, sd: &crate::state::ServiceDeployment) -> f64 {
    let stage = sd.lifecycle_stage.and_then(stage_index);
    let shifted = match stage {
        Some(i) => i >= stage_index("TEST_TRAFFIC_SHIFT").unwrap_or(4),
        None => production_weight(state, sd) > 0.0,
    };
    if shifted { 100.0 } else { 0.0 }
}
