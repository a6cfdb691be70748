//! Native ECS blue/green (`deploymentConfiguration.strategy = BLUE_GREEN`): lifecycle stages,
//! bake time, lifecycle hooks (PAUSE hooks wait for ContinueServiceDeployment; Lambda hooks
//! are simulated as succeeding at once).

use serde_json::Value;

use crate::rolling::{complete, counts, launch_tasks, rollback_to};
use crate::state::{HookDetail, State};
use crate::tasks;

pub const STAGES: [&str; 10] = [
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
];

/// Simulated seconds spent in a stage that has no work of its own.
const STAGE_SECONDS: f64 = 2.0;

pub fn step(state: &mut State, key: &str) {
    let now = state.now;
    let Some(svc) = state.services.get(key) else {
        return;
    };
    let name = svc.name.clone();
    let desired = svc.desired_count;
    let Some(p) = svc.deployments.first().cloned() else {
        return;
    };
    let stage_idx = p.stage.min(STAGES.len() - 1);
    let stage = STAGES[stage_idx];
    let Some(sd) = state.service_deployments.get(&p.sd_arn) else {
        return;
    };
    let config = sd.deployment_configuration.clone();

    // Create hook details when the stage starts.
    let hooks = config
        .get("lifecycleHooks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let already: bool = sd.hooks.iter().any(|h| h.stage == stage);
    if !already {
        let mut new_hooks = Vec::new();
        for h in &hooks {
            let stages_of = h
                .get("lifecycleStages")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if !stages_of.iter().any(|s| s.as_str() == Some(stage)) {
                continue;
            }
            let target_type = h.get("targetType").and_then(Value::as_str).unwrap_or(
                if h.get("hookTargetArn").is_some() {
                    "AWS_LAMBDA"
                } else {
                    "PAUSE"
                },
            );
            let timeout = h.get("timeoutConfiguration");
            let minutes = timeout
                .and_then(|t| t.get("timeoutInMinutes"))
                .and_then(Value::as_f64)
                .unwrap_or(1440.0);
            let action = timeout
                .and_then(|t| t.get("action"))
                .and_then(Value::as_str)
                .unwrap_or("ROLLBACK");
            new_hooks.push(HookDetail {
                hook_id: state.rng.alnum(20),
                target_type: target_type.to_string(),
                target_arn: h
                    .get("hookTargetArn")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                status: if target_type == "PAUSE" {
                    "AWAITING_ACTION"
                } else {
                    "SUCCEEDED"
                },
                expires_at: now + minutes * 60.0,
                timeout_action: action.to_string(),
                stage,
                decision: None,
            });
        }
        if let Some(sd) = state.service_deployments.get_mut(&p.sd_arn) {
            sd.hooks.extend(new_hooks);
            sd.lifecycle_stage = Some(stage);
            sd.updated_at = now;
        }
    }

    // Resolve pause hooks of this stage.
    let mut blocked = false;
    let mut rollback = false;
    if let Some(sd) = state.service_deployments.get_mut(&p.sd_arn) {
        for h in sd
            .hooks
            .iter_mut()
            .filter(|h| h.stage == stage && h.status == "AWAITING_ACTION")
        {
            let decision = match h.decision.take() {
                Some(d) => Some(d),
                None if now >= h.expires_at => {
                    h.status = "TIMED_OUT";
                    Some(h.timeout_action.clone())
                }
                None => None,
            };
            match decision.as_deref() {
                Some("ROLLBACK") => {
                    if h.status == "AWAITING_ACTION" {
                        h.status = "SUCCEEDED";
                    }
                    rollback = true;
                }
                Some(_) => {
                    if h.status == "AWAITING_ACTION" {
                        h.status = "SUCCEEDED";
                    }
                }
                None => blocked = true,
            }
        }
    }
    if rollback {
        let last = state
            .services
            .get(key)
            .and_then(|s| s.last_completed.clone());
        match last {
            Some((_, td, rev)) => rollback_to(
                state,
                key,
                &p.sd_arn,
                &td,
                &rev,
                "Rollback requested by a lifecycle hook.",
            ),
            None => {
                if let Some(sd) = state.service_deployments.get_mut(&p.sd_arn) {
                    sd.status = "ROLLBACK_FAILED";
                    sd.status_reason =
                        Some("There is no previous service revision to roll back to.".into());
                    sd.finished_at = Some(now);
                }
            }
        }
        return;
    }

    // Stage work.
    let green = counts(state, key, &p.id);
    let done = match stage {
        "SCALE_UP" => {
            if p.can_launch && now >= p.next_launch_at && green.active < desired {
                launch_tasks(state, key, &name, desired - green.active);
            }
            green.healthy >= desired
        }
        "BAKE_TIME" => {
            let bake = config
                .get("bakeTimeInMinutes")
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            now >= p.stage_started + bake * 60.0
        }
        "CLEAN_UP" => {
            let ids: Vec<String> = state
                .services
                .get(key)
                .map(|s| s.deployments.iter().skip(1).map(|d| d.id.clone()).collect())
                .unwrap_or_default();
            let mut left = 0;
            for id in ids {
                let c = counts(state, key, &id);
                left += c.active;
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
            left == 0 && now >= p.stage_started + STAGE_SECONDS
        }
        _ => now >= p.stage_started + STAGE_SECONDS,
    };
    // Keep green at strength after scale-up (replacements).
    if stage_idx > 2 && p.can_launch && green.active < desired && now >= p.next_launch_at {
        launch_tasks(state, key, &name, desired - green.active);
    }
    if !done || blocked {
        return;
    }
    if stage == "CLEAN_UP" {
        complete(state, key, &name);
        return;
    }
    if let Some(d) = state
        .services
        .get_mut(key)
        .and_then(|s| s.deployments.first_mut())
    {
        d.stage = stage_idx + 1;
        d.stage_started = now;
    }
}
