//! Production traffic plans of the traffic-shifting strategies (BLUE_GREEN, LINEAR, CANARY):
//! the weight the new revision gets at each shift, the wait between shifts and the final bake.
//!
//! Sources (ECS API reference, botocore 1.44.8 model, and the CloudFormation template
//! reference):
//! * `LinearConfiguration`: "stepPercent … multiples of 0.1 from 3.0 to 100.0. The default value
//!   is 10.0"; "stepBakeTimeInMinutes … 0 to 1440 … The default value is 6. This bake time is not
//!   applied after reaching 100 percent traffic."
//! * `CanaryConfiguration`: "canaryPercent … multiples of 0.1 from 0.1 to 100.0. The default
//!   value is 5.0"; "canaryBakeTimeInMinutes … 0 to 1440 … The default value is 10."
//! * AWS::ECS::Service LinearConfiguration: the number of steps is (100 ÷ StepPercent) − 1 when
//!   it divides evenly, else floor(100 ÷ StepPercent); total time is
//!   `BakeTimeInMinutes + StepBakeTimeInMinutes × steps`.
//! * AWS::ECS::Service DeploymentConfiguration `BakeTimeInMinutes`: when not specified, "For
//!   all other cases [not rolling, not EXTERNAL/CODE_DEPLOY], the value is set to 36 hours (2160
//!   minutes)". The API reference says the parameter "must" be provided for BLUE_GREEN; which
//!   of the two the API really does is unverified, so the documented default is used.

use serde_json::Value;

use crate::state::Strategy;

pub const DEFAULT_STEP_PERCENT: f64 = 10.0;
pub const DEFAULT_STEP_BAKE_MINUTES: f64 = 6.0;
pub const DEFAULT_CANARY_PERCENT: f64 = 5.0;
pub const DEFAULT_CANARY_BAKE_MINUTES: f64 = 10.0;
pub const DEFAULT_BAKE_MINUTES: f64 = 2160.0;

/// How production traffic moves to the new revision.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Production weight of the new revision after each shift; the last one is 100.
    pub weights: Vec<f64>,
    /// Simulated seconds to wait after every shift but the last.
    pub step_bake: f64,
    /// Simulated seconds of BAKE_TIME after the last shift.
    pub bake: f64,
}

fn number(config: Option<&Value>, key: &str, default: f64) -> f64 {
    config
        .and_then(|c| c.get(key))
        .and_then(Value::as_f64)
        .unwrap_or(default)
}

/// The plan for `strategy` under `config` (a stored `deploymentConfiguration`).
pub fn plan(strategy: Strategy, config: &Value) -> Plan {
    let bake = number(Some(config), "bakeTimeInMinutes", DEFAULT_BAKE_MINUTES) * 60.0;
    match strategy {
        Strategy::Linear => {
            let c = config.get("linearConfiguration");
            let step = number(c, "stepPercent", DEFAULT_STEP_PERCENT);
            Plan {
                weights: linear_weights(step),
                step_bake: number(c, "stepBakeTimeInMinutes", DEFAULT_STEP_BAKE_MINUTES) * 60.0,
                bake,
            }
        }
        Strategy::Canary => {
            let c = config.get("canaryConfiguration");
            let canary = number(c, "canaryPercent", DEFAULT_CANARY_PERCENT);
            let weights = if canary >= 100.0 {
                vec![100.0]
            } else {
                vec![canary, 100.0]
            };
            Plan {
                weights,
                step_bake: number(c, "canaryBakeTimeInMinutes", DEFAULT_CANARY_BAKE_MINUTES) * 60.0,
                bake,
            }
        }
        Strategy::BlueGreen | Strategy::Rolling => Plan {
            weights: vec![100.0],
            step_bake: 0.0,
            bake,
        },
    }
}

/// 10 → 10, 20, …, 100; 11 → 11, 22, …, 99, 100. Computed in tenths of a percent so that
/// 0.1-multiples add up exactly.
fn linear_weights(step: f64) -> Vec<f64> {
    let tenths = ((step * 10.0).round() as u64).clamp(30, 1000);
    let mut out = Vec::new();
    let mut w = 0;
    while w < 1000 {
        w = (w + tenths).min(1000);
        out.push(w as f64 / 10.0);
    }
    out
}

/// Total simulated seconds the traffic shifts and bake take (no hooks, no task start-up).
pub fn shifting_seconds(plan: &Plan) -> f64 {
    plan.step_bake * plan.weights.len().saturating_sub(1) as f64 + plan.bake
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn linear_defaults_take_69_minutes_with_a_15_minute_bake() {
        // The example: 10 % steps, 6-minute step bake, bake 15 → 9 × 6 + 15 = 69.
        let p = plan(
            Strategy::Linear,
            &json!({"strategy": "LINEAR", "bakeTimeInMinutes": 15}),
        );
        assert_eq!(p.weights.len(), 10);
        assert_eq!(p.weights[0], 10.0);
        assert_eq!(p.weights[9], 100.0);
        assert_eq!(shifting_seconds(&p), 69.0 * 60.0);
    }

    #[test]
    fn linear_steps_that_do_not_divide_100_end_with_a_partial_step() {
        let p = plan(
            Strategy::Linear,
            &json!({"linearConfiguration": {"stepPercent": 11.0, "stepBakeTimeInMinutes": 1}, "bakeTimeInMinutes": 0}),
        );
        // floor(100 / 11) = 9 steps with a bake after them (CloudFormation's formula).
        assert_eq!(p.weights.len(), 10);
        assert_eq!(p.weights[8], 99.0);
        assert_eq!(p.weights[9], 100.0);
        assert_eq!(shifting_seconds(&p), 9.0 * 60.0);
    }

    #[test]
    fn canary_defaults_take_25_minutes_with_a_15_minute_bake() {
        let p = plan(Strategy::Canary, &json!({"bakeTimeInMinutes": 15}));
        assert_eq!(p.weights, vec![5.0, 100.0]);
        assert_eq!(shifting_seconds(&p), 25.0 * 60.0);
    }

    #[test]
    fn blue_green_shifts_once_and_bakes_36_hours_by_default() {
        let p = plan(Strategy::BlueGreen, &json!({"strategy": "BLUE_GREEN"}));
        assert_eq!(p.weights, vec![100.0]);
        assert_eq!(p.bake, 2160.0 * 60.0);
    }
}
