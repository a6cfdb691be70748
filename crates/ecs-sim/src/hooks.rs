//! Deployment lifecycle hooks of the traffic-shifting strategies: PAUSE hooks that wait for
//! ContinueServiceDeployment, and Lambda hooks whose answers come from the scenario.
//!
//! Sources:
//! * API reference, `DeploymentLifecycleHook.targetType`: "If not specified, the default value is
//!   AWS_LAMBDA"; `hookTargetArn`: "You must provide this parameter when configuring an
//!   AWS_LAMBDA lifecycle hook".
//! * Developer guide, "Lambda hooks for Amazon ECS service deployments": the function returns
//!   `hookStatus` SUCCEEDED (continue), FAILED (roll back) or IN_PROGRESS (invoked again after
//!   `callBackDelay`, 30 s by default).
//! * Developer guide, "Pause hooks for Amazon ECS service deployments": a `hookId` is generated
//!   (`ecs-pause-…`), the hook is AWAITING_ACTION until ContinueServiceDeployment (CONTINUE or
//!   ROLLBACK) or the timeout (`timeoutInMinutes` default 1440, `action` default ROLLBACK).
//! * Developer guide, "Troubleshooting Amazon ECS blue/green deployments": the texts of
//!   `statusReason` ("Service deployment rolled back because TEST_TRAFFIC_SHIFT lifecycle
//!   hook(s) failed. Lifecycle hook target … returned FAILED status.", "… because
//!   POST_TEST_TRAFFIC_SHIFT pause hook timed out.") and of the ContinueServiceDeployment errors.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::protocol::{ApiError, ApiResult, required, s};
use crate::state::{HookDetail, State};

/// What a simulated Lambda hook finally returns as `hookStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LambdaResult {
    Succeeded,
    Failed,
    /// Never finishes: the hook's timeout action applies.
    InProgress,
}

/// Scenario `hooks:` entry, keyed by the Lambda function ARN (exact or pattern).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct HookBehavior {
    pub result: LambdaResult,
    /// Simulated seconds the function keeps answering IN_PROGRESS before `result`.
    #[serde(default)]
    pub after: f64,
}

/// The two hook target types (`DeploymentLifecycleHookTargetType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetType {
    Lambda,
    Pause,
}

impl TargetType {
    /// The `targetType` of a configured hook; absent means AWS_LAMBDA (API reference).
    pub fn of(hook: &Value) -> Option<TargetType> {
        match hook.get("targetType").and_then(Value::as_str) {
            None | Some("AWS_LAMBDA") => Some(TargetType::Lambda),
            Some("PAUSE") => Some(TargetType::Pause),
            Some(_) => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            TargetType::Lambda => "AWS_LAMBDA",
            TargetType::Pause => "PAUSE",
        }
    }
}

/// `DeploymentLifecycleHookStage`: the stages a hook can be configured at.
pub const HOOK_STAGES: [&str; 8] = [
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
];

/// Stages a PAUSE hook may use (troubleshooting guide, "Invalid lifecycle stage for pause
/// hook"; the API reference forbids TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT).
pub const PAUSE_STAGES: [&str; 5] = [
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
];

/// Lambda `callBackDelay` default: "By default, the delay is 30 seconds."
const CALLBACK_DELAY: f64 = 30.0;
const DEFAULT_TIMEOUT_MINUTES: f64 = 1440.0;

/// What the hooks of a stage let the deployment do.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Proceed,
    Blocked,
    Rollback(String),
}

fn configured(config: &Value, stage: &str) -> Vec<Value> {
    config
        .get("lifecycleHooks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|h| {
            h.get("lifecycleStages")
                .and_then(Value::as_array)
                .is_some_and(|st| st.iter().any(|x| x.as_str() == Some(stage)))
        })
        .cloned()
        .collect()
}

/// Create the hook details of `stage` (traffic shift `round`) once, when the stage starts.
pub fn create(state: &mut State, sd_arn: &str, stage: &'static str, round: usize) {
    let now = state.now;
    let Some(sd) = state.service_deployments.get(sd_arn) else {
        return;
    };
    if sd.hook_rounds.contains(&(stage, round)) {
        return;
    }
    let mut new = Vec::new();
    for h in configured(&sd.deployment_configuration, stage) {
        let Some(target) = TargetType::of(&h) else {
            continue;
        };
        new.push(detail(state, &h, target, stage, round, now));
    }
    if let Some(sd) = state.service_deployments.get_mut(sd_arn) {
        sd.hooks.extend(new);
        sd.hook_rounds.push((stage, round));
        sd.updated_at = now;
    }
}

fn detail(
    state: &mut State,
    h: &Value,
    target: TargetType,
    stage: &'static str,
    round: usize,
    now: f64,
) -> HookDetail {
    let timeout = h.get("timeoutConfiguration");
    let minutes = timeout
        .and_then(|t| t.get("timeoutInMinutes"))
        .and_then(Value::as_f64)
        .unwrap_or(DEFAULT_TIMEOUT_MINUTES);
    let action = timeout
        .and_then(|t| t.get("action"))
        .and_then(Value::as_str)
        .unwrap_or("ROLLBACK");
    let target_arn = h
        .get("hookTargetArn")
        .and_then(Value::as_str)
        .map(str::to_string);
    let (prefix, status, resolves_at, result) = match target {
        TargetType::Pause => ("ecs-pause-", "AWAITING_ACTION", None, None),
        TargetType::Lambda => {
            let b = target_arn
                .as_deref()
                .and_then(|arn| {
                    crate::scenario::best_match(&state.scenario.hooks, arn).map(|(_, b)| b)
                })
                .cloned()
                .unwrap_or(HookBehavior {
                    result: LambdaResult::Succeeded,
                    after: 0.0,
                });
            // Invoked at once, then every callBackDelay while it answers IN_PROGRESS.
            let calls = (b.after.max(0.0) / CALLBACK_DELAY).ceil();
            let at = (b.result != LambdaResult::InProgress).then_some(now + calls * CALLBACK_DELAY);
            ("ecs-lambda-", "IN_PROGRESS", at, Some(b.result))
        }
    };
    HookDetail {
        hook_id: format!("{prefix}{}", state.rng.alnum(43)),
        target_type: target.as_str().to_string(),
        target_arn,
        status,
        expires_at: now + minutes * 60.0,
        timeout_action: action.to_string(),
        stage,
        decision: None,
        round,
        resolves_at,
        result,
    }
}

/// Settle the hooks of `stage`/`round` at `state.now`.
pub fn resolve(state: &mut State, sd_arn: &str, stage: &'static str, round: usize) -> Outcome {
    let now = state.now;
    let Some(sd) = state.service_deployments.get_mut(sd_arn) else {
        return Outcome::Blocked;
    };
    let (mut blocked, mut rollback) = (false, None);
    for h in sd
        .hooks
        .iter_mut()
        .filter(|h| h.stage == stage && h.round == round)
    {
        match settle(h, now) {
            Outcome::Blocked => blocked = true,
            Outcome::Rollback(r) => rollback = rollback.or(Some(r)),
            Outcome::Proceed => {}
        }
    }
    match (rollback, blocked) {
        (Some(r), _) => Outcome::Rollback(r),
        (None, true) => Outcome::Blocked,
        (None, false) => Outcome::Proceed,
    }
}

fn settle(h: &mut HookDetail, now: f64) -> Outcome {
    let waiting = matches!(h.status, "AWAITING_ACTION" | "IN_PROGRESS");
    if !waiting {
        return Outcome::Proceed;
    }
    if let Some(d) = h.decision.take() {
        h.status = "SUCCEEDED";
        return if d == "ROLLBACK" {
            Outcome::Rollback(format!(
                "Service deployment rolled back because of a ContinueServiceDeployment request (action ROLLBACK) at {}.",
                h.stage
            ))
        } else {
            Outcome::Proceed
        };
    }
    if let (Some(at), Some(result)) = (h.resolves_at, h.result)
        && now >= at
        && at <= h.expires_at
    {
        if result == LambdaResult::Failed {
            h.status = "FAILED";
            return Outcome::Rollback(format!(
                "Service deployment rolled back because {} lifecycle hook(s) failed. Lifecycle hook target {} returned FAILED status.",
                h.stage,
                h.target_arn.as_deref().unwrap_or("")
            ));
        }
        h.status = "SUCCEEDED";
        return Outcome::Proceed;
    }
    if now >= h.expires_at {
        h.status = "TIMED_OUT";
        if h.timeout_action == "CONTINUE" {
            return Outcome::Proceed;
        }
        let what = if h.target_type == "PAUSE" {
            "pause hook"
        } else {
            "lifecycle hook(s)"
        };
        return Outcome::Rollback(format!(
            "Service deployment rolled back because {} {what} timed out.",
            h.stage
        ));
    }
    Outcome::Blocked
}

/// `ContinueServiceDeployment`: record the decision on a PAUSE hook awaiting action; the
/// stage engine applies it on its next pass.
pub fn continue_deployment(state: &mut State, body: &Value) -> ApiResult {
    let arn = required(body, "serviceDeploymentArn")?.to_string();
    let hook_id = required(body, "hookId")?.to_string();
    let action = s(body, "action").unwrap_or("CONTINUE");
    if !matches!(action, "CONTINUE" | "ROLLBACK") {
        return Err(ApiError::invalid(
            "action must be CONTINUE or ROLLBACK (the default is CONTINUE).",
        ));
    }
    let well_formed = hook_id
        .strip_prefix("ecs-")
        .and_then(|r| r.split_once('-'))
        .is_some_and(|(kind, id)| !kind.is_empty() && !id.is_empty());
    if !well_formed {
        return Err(ApiError::invalid(
            "Invalid hookId: hookId must follow the format: ecs-{hookType}-{id}",
        ));
    }
    let sd = state.service_deployments.get_mut(&arn).ok_or_else(|| {
        ApiError::new(
            400,
            "ServiceDeploymentNotFoundException",
            "The service deployment does not exist.",
        )
    })?;
    if matches!(
        sd.status,
        "SUCCESSFUL" | "STOPPED" | "ROLLBACK_SUCCESSFUL" | "ROLLBACK_FAILED"
    ) {
        return Err(ApiError::invalid(
            "Continuing a service deployment is not allowed for service deployment in terminal states.",
        ));
    }
    let in_progress = sd.status == "IN_PROGRESS";
    let hook = sd
        .hooks
        .iter_mut()
        .filter(|h| h.target_type == "PAUSE" && h.status == "AWAITING_ACTION")
        .find(|h| h.hook_id == hook_id)
        .filter(|_| in_progress)
        .ok_or_else(|| {
            ApiError::invalid(
                "Provided hookId is either completed, unavailable, or not associated with the given Resource ARN",
            )
        })?;
    hook.decision = Some(action.to_string());
    Ok(json!({"serviceDeploymentArn": arn}))
}
