//! CreateService/UpdateService validation of deployment strategies, hooks and load balancers
//! (see `src/validate.rs` for the source of each rule), through the operation handlers.

use ecs_sim::Scenario;
use ecs_sim::state::State;
use serde_json::{Value, json};

const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1a";
const ALT: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2b";
const RULE: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/alb/1/2/3";

fn state() -> State {
    let mut st = State::new(Scenario::default(), 1, 1_000_000.0);
    ecs_sim::ops::handle(&mut st, "CreateCluster", &json!({"clusterName": "c"})).expect("cluster");
    ecs_sim::ops::handle(
        &mut st,
        "RegisterTaskDefinition",
        &json!({"family": "a", "containerDefinitions": [{"name": "a", "image": "a:1"}]}),
    )
    .expect("td");
    st
}

fn create(
    st: &mut State,
    name: &str,
    config: Value,
    lbs: Value,
) -> Result<Value, (String, String)> {
    ecs_sim::ops::handle(
        st,
        "CreateService",
        &json!({"cluster": "c", "serviceName": name, "taskDefinition": "a:1", "desiredCount": 1,
                "deploymentConfiguration": config, "loadBalancers": lbs}),
    )
    .map_err(|e| (e.kind.to_string(), e.message))
}

fn advanced(extra: Value) -> Value {
    let mut a = json!({"alternateTargetGroupArn": ALT, "productionListenerRule": RULE});
    if let (Some(a), Some(e)) = (a.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            a.insert(k.clone(), v.clone());
        }
    }
    json!({"targetGroupArn": TG, "containerName": "a", "containerPort": 80, "advancedConfiguration": a})
}

#[test]
fn each_rule_refuses_with_its_code_and_text() {
    let bg = json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0});
    let pause = |stage: &str| json!({"strategy": "BLUE_GREEN", "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": [stage]}]});
    let cases: Vec<(Value, Value, &str, String)> = vec![
        (json!({"strategy": "FAST"}), json!([]), "InvalidParameterException", "Invalid deployment strategy FAST".into()),
        (json!({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 100.5}}), json!([advanced(json!({}))]), "InvalidParameterException", "stepPercent".into()),
        (json!({"strategy": "LINEAR", "linearConfiguration": {"stepBakeTimeInMinutes": 1441}}), json!([advanced(json!({}))]), "InvalidParameterException", "stepBakeTimeInMinutes".into()),
        (json!({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 0.05}}), json!([advanced(json!({}))]), "InvalidParameterException", "canaryPercent".into()),
        (json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1441}), json!([]), "InvalidParameterException", "bakeTimeInMinutes".into()),
        (json!({"strategy": "CANARY"}), json!([]), "InvalidParameterException", "Service Connect".into()),
        (bg.clone(), json!([{"loadBalancerName": "classic", "containerName": "a", "containerPort": 80, "advancedConfiguration": {"alternateTargetGroupArn": ALT}}]), "ClientException", "advancedConfiguration field is not allowed with ELBv1 loadBalancers".into()),
        (bg.clone(), json!([advanced(json!({})), {"loadBalancerName": "classic", "containerName": "a", "containerPort": 80}]), "ClientException", "All loadBalancers must be strictly either ELBv1 (defining loadBalancerName) or ELBv2 (defining targetGroupArn)".into()),
        (bg.clone(), json!([advanced(json!({})), advanced(json!({}))]), "ClientException", format!("Duplicate targetGroupArn found: {TG}")),
        (bg.clone(), json!([advanced(json!({"testListenerRule": RULE}))]), "ClientException", format!("The following rules cannot be used as both production and test listener rules: {RULE}")),
        (bg.clone(), json!([{"targetGroupArn": TG, "containerName": "a", "containerPort": 80, "advancedConfiguration": {"productionListenerRule": RULE}}]), "InvalidParameterException", "alternateTargetGroupArn is required".into()),
        (json!({"strategy": "BLUE_GREEN", "lifecycleHooks": [{"targetType": "SLACK", "lifecycleStages": ["POST_SCALE_UP"]}]}), json!([]), "InvalidParameterException", "Invalid targetType. Valid values are: AWS_LAMBDA, PAUSE".into()),
        (json!({"strategy": "BLUE_GREEN", "lifecycleHooks": [{"targetType": "PAUSE"}]}), json!([]), "InvalidParameterException", "lifecycleStages must be provided".into()),
        (json!({"strategy": "BLUE_GREEN", "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["BAKE_TIME"]}]}), json!([]), "InvalidParameterException", "Invalid lifecycle stage BAKE_TIME".into()),
        (pause("TEST_TRAFFIC_SHIFT"), json!([]), "InvalidParameterException", "Invalid lifecycle stage provided for Pause Hook".into()),
        (pause("PRODUCTION_TRAFFIC_SHIFT"), json!([]), "InvalidParameterException", "Invalid lifecycle stage provided for Pause Hook".into()),
        (json!({"strategy": "BLUE_GREEN", "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"], "timeoutConfiguration": {"timeoutInMinutes": 20161}}]}), json!([]), "InvalidParameterException", "timeoutInMinutes".into()),
        (json!({"strategy": "BLUE_GREEN", "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"], "timeoutConfiguration": {"action": "IGNORE"}}]}), json!([]), "InvalidParameterException", "timeoutConfiguration.action".into()),
    ];
    let mut st = state();
    for (i, (config, lbs, kind, text)) in cases.into_iter().enumerate() {
        let name = format!("s{i}");
        let (k, m) = create(&mut st, &name, config.clone(), lbs)
            .expect_err(&format!("case {i} accepted: {config}"));
        assert_eq!(k, kind, "case {i}: {m}");
        assert!(m.contains(&text), "case {i}: {m:?} lacks {text:?}");
        assert!(
            !st.services.contains_key(&format!("c/{name}")),
            "case {i} created a service"
        );
    }
    // Every PAUSE stage AWS lists is accepted.
    for stage in [
        "PRE_SCALE_UP",
        "POST_SCALE_UP",
        "POST_TEST_TRAFFIC_SHIFT",
        "PRE_PRODUCTION_TRAFFIC_SHIFT",
        "POST_PRODUCTION_TRAFFIC_SHIFT",
    ] {
        create(&mut st, &format!("p-{stage}"), pause(stage), json!([])).expect(stage);
    }
}

#[test]
fn the_other_strategys_settings_are_not_kept() {
    let mut st = state();
    let out = create(
        &mut st,
        "x",
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1,
               "canaryConfiguration": {"canaryPercent": 10.0},
               "linearConfiguration": {"stepPercent": 10.0}}),
        json!([]),
    )
    .expect("create");
    let cfg = &out["service"]["deploymentConfiguration"];
    assert_eq!(cfg["strategy"], "BLUE_GREEN");
    assert!(cfg.get("canaryConfiguration").is_none(), "{cfg}");
    assert!(cfg.get("linearConfiguration").is_none(), "{cfg}");
    let out = ecs_sim::ops::handle(
        &mut st,
        "UpdateService",
        &json!({"cluster": "c", "service": "x", "loadBalancers": [advanced(json!({}))],
                "deploymentConfiguration": {"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 10.0}}}),
    )
    .expect("update");
    let cfg = &out["service"]["deploymentConfiguration"];
    assert_eq!(cfg["canaryConfiguration"]["canaryPercent"], 10.0);
}

#[test]
fn update_service_validates_the_service_as_it_would_become() {
    let mut st = state();
    create(&mut st, "r", json!({}), json!([])).expect("rolling service");
    // Switching a service without a load balancer to LINEAR is refused…
    let e = ecs_sim::ops::handle(
        &mut st,
        "UpdateService",
        &json!({"cluster": "c", "service": "r", "deploymentConfiguration": {"strategy": "LINEAR"}}),
    )
    .expect_err("LINEAR without a load balancer");
    assert_eq!(e.kind, "InvalidParameterException");
    assert_eq!(
        st.services["c/r"].deployment_configuration.get("strategy"),
        None,
        "the refused update changed the service"
    );
    // …and accepted with Service Connect, or with the load balancer in the same request.
    ecs_sim::ops::handle(
        &mut st,
        "UpdateService",
        &json!({"cluster": "c", "service": "r", "serviceConnectConfiguration": {"enabled": true, "namespace": "ns"},
                "deploymentConfiguration": {"strategy": "LINEAR"}}),
    )
    .expect("LINEAR with Service Connect");
    create(&mut st, "q", json!({}), json!([])).expect("rolling service");
    ecs_sim::ops::handle(
        &mut st,
        "UpdateService",
        &json!({"cluster": "c", "service": "q", "loadBalancers": [advanced(json!({}))],
                "deploymentConfiguration": {"strategy": "LINEAR"}}),
    )
    .expect("LINEAR with the load balancer added in the same request");
}
