//! CreateService/UpdateService validation of `deploymentConfiguration` (strategy, linear and
//! canary settings, lifecycle hooks) and of the load balancers the traffic-shifting
//! strategies need. Each rule names its source; the error code is AWS's where a real answer
//! was seen, otherwise InvalidParameterException (the modeled code for a bad parameter).
//!
//! Sources:
//! * API reference (botocore 1.44.8 model): `DeploymentStrategy`, `LinearConfiguration`,
//!   `CanaryConfiguration`, `DeploymentLifecycleHook`, `DeploymentLifecycleHookDuration`
//!   (1–20160 minutes).
//! * Developer guide, "Troubleshooting Amazon ECS blue/green deployments" (synchronous
//!   errors of CreateService/UpdateService; quoted texts below).
//! * A real CreateService answer, terraform-aws-modules/terraform-aws-ecs#377: "ClientException:
//!   advancedConfiguration field is required for all loadBalancers when using the linear
//!   deployment strategy" (the same text with "canary" and "Blue/green" is quoted in other
//!   public reports).
//! * Developer guide, "Required resources for Amazon ECS blue/green deployments": a service
//!   without a load balancer or Service Connect can still use BLUE_GREEN ("headless", no managed
//!   traffic shifting); "Creating an Amazon ECS linear deployment" / canary: "require that your
//!   service to use one of the following features": ALB, NLB or Service Connect.

use serde_json::Value;

use crate::hooks::{HOOK_STAGES, PAUSE_STAGES, TargetType};
use crate::protocol::ApiError;

/// What the service will have once the request is applied.
pub struct Effective<'a> {
    pub config: &'a Value,
    pub load_balancers: &'a [Value],
    pub service_connect: bool,
}

const STRATEGIES: [&str; 4] = ["ROLLING", "BLUE_GREEN", "LINEAR", "CANARY"];

pub fn check(e: &Effective<'_>) -> Result<(), ApiError> {
    let strategy = e
        .config
        .get("strategy")
        .and_then(Value::as_str)
        .unwrap_or("ROLLING");
    if !STRATEGIES.contains(&strategy) {
        return Err(ApiError::invalid(format!(
            "Invalid deployment strategy {strategy}. Valid values are: ROLLING, BLUE_GREEN, LINEAR, CANARY."
        )));
    }
    numbers(e.config)?;
    hooks(e.config)?;
    load_balancers(strategy, e.load_balancers)?;
    if matches!(strategy, "LINEAR" | "CANARY") && e.load_balancers.is_empty() && !e.service_connect
    {
        return Err(ApiError::invalid(format!(
            "The {strategy} deployment strategy shifts production traffic, so the service must use an Application Load Balancer, a Network Load Balancer or Service Connect. Add loadBalancers (with advancedConfiguration) or a serviceConnectConfiguration, or use the BLUE_GREEN or ROLLING strategy."
        )));
    }
    Ok(())
}

fn range(value: Option<f64>, name: &str, lo: f64, hi: f64, tenths: bool) -> Result<(), ApiError> {
    let Some(v) = value else { return Ok(()) };
    let on_grid = !tenths || ((v * 10.0).round() - v * 10.0).abs() < 1e-6;
    if !(lo..=hi).contains(&v) || !on_grid {
        let grid = if tenths { "multiples of 0.1 " } else { "" };
        return Err(ApiError::invalid(format!(
            "{name} must be {grid}from {lo} to {hi}, got {v}."
        )));
    }
    Ok(())
}

fn numbers(config: &Value) -> Result<(), ApiError> {
    let get = |path: &[&str]| {
        path.iter()
            .try_fold(config, |v, k| v.get(*k))
            .and_then(Value::as_f64)
    };
    range(
        get(&["bakeTimeInMinutes"]),
        "bakeTimeInMinutes",
        0.0,
        1440.0,
        false,
    )?;
    let lin = "linearConfiguration";
    range(
        get(&[lin, "stepPercent"]),
        "linearConfiguration.stepPercent",
        3.0,
        100.0,
        true,
    )?;
    range(
        get(&[lin, "stepBakeTimeInMinutes"]),
        "linearConfiguration.stepBakeTimeInMinutes",
        0.0,
        1440.0,
        false,
    )?;
    let can = "canaryConfiguration";
    range(
        get(&[can, "canaryPercent"]),
        "canaryConfiguration.canaryPercent",
        0.1,
        100.0,
        true,
    )?;
    range(
        get(&[can, "canaryBakeTimeInMinutes"]),
        "canaryConfiguration.canaryBakeTimeInMinutes",
        0.0,
        1440.0,
        false,
    )
}

fn hooks(config: &Value) -> Result<(), ApiError> {
    for h in config
        .get("lifecycleHooks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        hook(h)?;
    }
    Ok(())
}

fn hook(h: &Value) -> Result<(), ApiError> {
    let target = TargetType::of(h).ok_or_else(|| {
        ApiError::invalid("Invalid targetType. Valid values are: AWS_LAMBDA, PAUSE")
    })?;
    let stages: Vec<&str> = h
        .get("lifecycleStages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if stages.is_empty() {
        return Err(ApiError::invalid(
            "lifecycleStages must be provided for every lifecycle hook (at least one stage).",
        ));
    }
    if let Some(bad) = stages.iter().find(|s| !HOOK_STAGES.contains(s)) {
        return Err(ApiError::invalid(format!(
            "Invalid lifecycle stage {bad}. Valid values are: {}.",
            HOOK_STAGES.join(", ")
        )));
    }
    if target == TargetType::Pause && stages.iter().any(|s| !PAUSE_STAGES.contains(s)) {
        return Err(ApiError::invalid(
            "Invalid lifecycle stage provided for Pause Hook",
        ));
    }
    let has_arn = h
        .get("hookTargetArn")
        .and_then(Value::as_str)
        .is_some_and(|a| !a.is_empty());
    if target == TargetType::Lambda && !has_arn {
        return Err(ApiError::invalid(
            "hookTargetArn must be provided for an AWS_LAMBDA lifecycle hook (targetType defaults to AWS_LAMBDA; set targetType PAUSE for a pause hook).",
        ));
    }
    let timeout = h.get("timeoutConfiguration");
    let minutes = timeout
        .and_then(|t| t.get("timeoutInMinutes"))
        .and_then(Value::as_f64);
    range(
        minutes,
        "timeoutConfiguration.timeoutInMinutes",
        1.0,
        20160.0,
        false,
    )?;
    match timeout
        .and_then(|t| t.get("action"))
        .and_then(Value::as_str)
    {
        None | Some("CONTINUE" | "ROLLBACK") => Ok(()),
        Some(a) => Err(ApiError::invalid(format!(
            "Invalid timeoutConfiguration.action {a}. Valid values are: CONTINUE, ROLLBACK."
        ))),
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn load_balancers(strategy: &str, lbs: &[Value]) -> Result<(), ApiError> {
    if lbs.is_empty() {
        return Ok(());
    }
    let advanced = lbs
        .iter()
        .filter(|lb| {
            lb.get("advancedConfiguration")
                .is_some_and(Value::is_object)
        })
        .count();
    if strategy == "ROLLING" && advanced == 0 {
        return Ok(());
    }
    let v1 = lbs
        .iter()
        .filter(|lb| text(lb, "loadBalancerName").is_some())
        .count();
    if v1 > 0 && v1 < lbs.len() {
        return Err(ApiError::client(
            "All loadBalancers must be strictly either ELBv1 (defining loadBalancerName) or ELBv2 (defining targetGroupArn)",
        ));
    }
    if v1 > 0 && advanced > 0 {
        return Err(ApiError::client(
            "advancedConfiguration field is not allowed with ELBv1 loadBalancers",
        ));
    }
    if advanced > 0 && advanced < lbs.len() {
        return Err(ApiError::client(
            "Either all or none of the provided loadBalancers must have advancedConfiguration defined",
        ));
    }
    if strategy != "ROLLING" && advanced == 0 {
        let name = match strategy {
            "LINEAR" => "linear",
            "CANARY" => "canary",
            _ => "Blue/green",
        };
        return Err(ApiError::client(format!(
            "advancedConfiguration field is required for all loadBalancers when using the {name} deployment strategy"
        )));
    }
    let mut seen: Vec<&str> = Vec::new();
    for lb in lbs {
        if let Some(tg) = text(lb, "targetGroupArn") {
            if seen.contains(&tg) {
                return Err(ApiError::client(format!(
                    "Duplicate targetGroupArn found: {tg}"
                )));
            }
            seen.push(tg);
        }
        advanced_configuration(&lb["advancedConfiguration"])?;
    }
    Ok(())
}

fn advanced_configuration(a: &Value) -> Result<(), ApiError> {
    if text(a, "alternateTargetGroupArn").is_none() {
        return Err(ApiError::invalid(
            "advancedConfiguration.alternateTargetGroupArn is required: the target group the new (green) service revision registers with.",
        ));
    }
    for key in ["productionListenerRule", "testListenerRule"] {
        if let Some(arn) = text(a, key)
            && !arn.contains(":listener-rule/")
            && !arn.contains(":listener/net/")
        {
            return Err(ApiError::client(format!(
                "{key} has an invalid ARN format. Must be RuleArn for ALB or ListenerArn for NLB. Got: {arn}"
            )));
        }
    }
    if let (Some(p), Some(t)) = (
        text(a, "productionListenerRule"),
        text(a, "testListenerRule"),
    ) && p == t
    {
        return Err(ApiError::client(format!(
            "The following rules cannot be used as both production and test listener rules: {p}"
        )));
    }
    Ok(())
}
