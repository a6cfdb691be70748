//! Lifecycle stages, traffic weights, bakes and hooks of BLUE_GREEN, LINEAR and CANARY,
//! driven through the operation handlers on a simulated clock advanced one second at a time:
//! every stage and every weight is observed, so the sequences and durations are exact.

use ecs_sim::Scenario;
use ecs_sim::state::State;
use serde_json::{Value, json};

const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1a";
const ALT: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2b";
const PROD: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/alb/1/2/3";
const TEST: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/alb/1/2/4";
const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:smoke";

fn call(st: &mut State, op: &str, body: Value) -> Value {
    ecs_sim::ops::handle(st, op, &body).unwrap_or_else(|e| panic!("{op}: {e:?}"))
}

fn fail(st: &mut State, op: &str, body: Value) -> ecs_sim::protocol::ApiError {
    match ecs_sim::ops::handle(st, op, &body) {
        Ok(v) => panic!("{op} was accepted: {v}"),
        Err(e) => e,
    }
}

fn lb() -> Value {
    json!([{"targetGroupArn": TG, "containerName": "a", "containerPort": 80,
            "advancedConfiguration": {"alternateTargetGroupArn": ALT, "productionListenerRule": PROD,
                "testListenerRule": TEST, "roleArn": "arn:aws:iam::123456789012:role/ecsInfra"}}])
}

/// Cluster `c`, task definitions a:1..a:3, service `s` (desired 2) on a:1 behind an ALB.
fn setup(scenario: &str) -> State {
    let mut st = State::new(
        Scenario::from_yaml(scenario).expect("scenario"),
        1,
        1_000_000.0,
    );
    call(&mut st, "CreateCluster", json!({"clusterName": "c"}));
    for image in ["a:1", "a:2", "a:3"] {
        call(
            &mut st,
            "RegisterTaskDefinition",
            json!({"family": "a", "containerDefinitions": [{"name": "a", "image": image}]}),
        );
    }
    call(
        &mut st,
        "CreateService",
        json!({"cluster": "c", "serviceName": "s", "taskDefinition": "a:1", "desiredCount": 2,
               "loadBalancers": lb()}),
    );
    // Realistic clock (timing.rs, scenario.rs target-group defaults): RUNNING 30 s after
    // launch, first ELB check 1 s later, healthy after HealthyThresholdCount 5 checks 30 s
    // apart, so the first deployment completes at 151 s. Every test starts from a COMPLETED
    // deployment, which is what the circuit breaker and hooks roll back to.
    run(&mut st, 180);
    assert_eq!(st.services["c/s"].deployments[0].rollout_state, "COMPLETED");
    st
}

fn run(st: &mut State, seconds: u64) {
    for _ in 0..seconds {
        let t = st.now + 1.0;
        st.advance(t);
    }
}

/// Start a deployment of a:2 with `config` and return its service-deployment ARN.
fn deploy(st: &mut State, config: Value) -> String {
    call(
        st,
        "UpdateService",
        json!({"cluster": "c", "service": "s", "taskDefinition": "a:2", "deploymentConfiguration": config}),
    );
    st.services["c/s"].deployments[0].sd_arn.clone()
}

fn describe(st: &mut State, arn: &str) -> Value {
    call(
        st,
        "DescribeServiceDeployments",
        json!({"serviceDeploymentArns": [arn]}),
    )["serviceDeployments"][0]
        .clone()
}

/// (simulated second, status, lifecycle stage, production weight of the new revision) at
/// every change, until the deployment leaves the IN_PROGRESS family or `limit` seconds pass.
fn trace(st: &mut State, arn: &str, limit: u64) -> Vec<(f64, String, String, f64)> {
    let start = st.now;
    let mut out: Vec<(f64, String, String, f64)> = Vec::new();
    for _ in 0..limit {
        let d = describe(st, arn);
        let status = d["status"].as_str().unwrap_or("").to_string();
        let stage = d["lifecycleStage"].as_str().unwrap_or("-").to_string();
        let w = d["targetServiceRevision"]["requestedProductionTrafficWeight"]
            .as_f64()
            .unwrap_or(-1.0);
        let leading = out.is_empty() && stage == "-" && status != "SUCCESSFUL";
        if !leading
            && out
                .last()
                .is_none_or(|l| (&l.1, &l.2, l.3) != (&status, &stage, w))
        {
            out.push((st.now - start, status.clone(), stage, w));
        }
        if !matches!(
            status.as_str(),
            "PENDING" | "IN_PROGRESS" | "ROLLBACK_REQUESTED"
        ) {
            break;
        }
        run(st, 1);
    }
    out
}

fn stages(t: &[(f64, String, String, f64)]) -> Vec<(String, f64)> {
    t.iter().map(|x| (x.2.clone(), x.3)).collect()
}

fn seq(items: &[(&str, f64)]) -> Vec<(String, f64)> {
    items.iter().map(|(s, w)| (s.to_string(), *w)).collect()
}

/// Seconds spent at the `n`-th entry of the trace (until the next change).
fn duration(t: &[(f64, String, String, f64)], n: usize) -> f64 {
    t[n + 1].0 - t[n].0
}

fn position(t: &[(f64, String, String, f64)], stage: &str, w: f64) -> usize {
    t.iter()
        .position(|x| x.2 == stage && x.3 == w)
        .unwrap_or_else(|| panic!("{stage} at weight {w} never seen in {t:?}"))
}

/// Advance one second at a time until the deployment reports `stage`; the seconds it took.
fn run_until_stage(st: &mut State, arn: &str, stage: &str, limit: u64) -> u64 {
    for s in 0..limit {
        if describe(st, arn)["lifecycleStage"] == stage {
            return s;
        }
        run(st, 1);
    }
    panic!("{stage} not reached in {limit} s: {}", describe(st, arn));
}

/// A rollback of a blue/green, linear or canary deployment ends once green is gone: its
/// targets drain the target group's deregistration delay (ELB default 300 s), then the
/// containers get `stopTimeout` (default 30 s) and the task DEPROVISIONING (timing.rs).
/// Called the second the deployment turned ROLLBACK_IN_PROGRESS.
fn assert_rollback_drains_green_then_succeeds(st: &mut State, arn: &str) {
    run(st, 300);
    assert_eq!(describe(st, arn)["status"], "ROLLBACK_IN_PROGRESS");
    run(st, 60);
    assert_eq!(describe(st, arn)["status"], "ROLLBACK_SUCCESSFUL");
    assert!(st.services["c/s"].task_definition.ends_with("a:1"));
}

#[test]
fn linear_shifts_production_traffic_in_equal_steps_with_a_bake_after_each_but_the_last() {
    let mut st = setup("");
    let arn = deploy(
        &mut st,
        json!({"strategy": "LINEAR", "bakeTimeInMinutes": 2,
               "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 1}}),
    );
    let t = trace(&mut st, &arn, 3_000);
    assert_eq!(
        stages(&t),
        seq(&[
            ("PRE_SCALE_UP", 0.0),
            ("SCALE_UP", 0.0),
            ("POST_SCALE_UP", 0.0),
            ("TEST_TRAFFIC_SHIFT", 0.0),
            ("POST_TEST_TRAFFIC_SHIFT", 0.0),
            ("PRE_PRODUCTION_TRAFFIC_SHIFT", 0.0),
            ("PRODUCTION_TRAFFIC_SHIFT", 25.0),
            ("PRE_PRODUCTION_TRAFFIC_SHIFT", 25.0),
            ("PRODUCTION_TRAFFIC_SHIFT", 50.0),
            ("PRE_PRODUCTION_TRAFFIC_SHIFT", 50.0),
            ("PRODUCTION_TRAFFIC_SHIFT", 75.0),
            ("PRE_PRODUCTION_TRAFFIC_SHIFT", 75.0),
            ("PRODUCTION_TRAFFIC_SHIFT", 100.0),
            ("POST_PRODUCTION_TRAFFIC_SHIFT", 100.0),
            ("BAKE_TIME", 100.0),
            ("CLEAN_UP", 100.0),
            ("-", 100.0),
        ]),
        "{t:?}"
    );
    assert_eq!(t.last().map(|x| x.1.as_str()), Some("SUCCESSFUL"));
    for w in [25.0, 50.0, 75.0] {
        let at = position(&t, "PRODUCTION_TRAFFIC_SHIFT", w);
        assert_eq!(duration(&t, at), 60.0, "step bake after the {w} % shift");
    }
    let last = position(&t, "PRODUCTION_TRAFFIC_SHIFT", 100.0);
    assert!(duration(&t, last) < 60.0, "no step bake after 100 %");
    assert_eq!(duration(&t, position(&t, "BAKE_TIME", 100.0)), 120.0);
    let svc = &st.services["c/s"];
    assert!(svc.task_definition.ends_with("a:2"));
    assert_eq!(svc.deployments.len(), 1);
}

#[test]
fn linear_defaults_are_10_percent_steps_of_6_minutes() {
    let mut st = setup("");
    let arn = deploy(
        &mut st,
        json!({"strategy": "LINEAR", "bakeTimeInMinutes": 15}),
    );
    let t = trace(&mut st, &arn, 10_000);
    let shifts: Vec<f64> = t
        .iter()
        .filter(|x| x.2 == "PRODUCTION_TRAFFIC_SHIFT")
        .map(|x| x.3)
        .collect();
    assert_eq!(
        shifts,
        (1..=10).map(|i| i as f64 * 10.0).collect::<Vec<_>>()
    );
    let baked: f64 = (0..t.len() - 1)
        .filter(|i| t[*i].2 == "PRODUCTION_TRAFFIC_SHIFT" && t[*i].3 < 100.0)
        .map(|i| duration(&t, i))
        .sum();
    assert_eq!(baked, 9.0 * 360.0, "nine 6-minute step bakes");
    assert_eq!(duration(&t, position(&t, "BAKE_TIME", 100.0)), 900.0);
    // The example: at least 69 minutes on AWS's clock (plus task start-up).
    assert!(t.last().expect("trace").0 >= 69.0 * 60.0, "{t:?}");
    assert_eq!(t.last().map(|x| x.1.as_str()), Some("SUCCESSFUL"));
}

#[test]
fn canary_shifts_the_canary_percent_bakes_then_shifts_the_rest() {
    let mut st = setup("");
    let arn = deploy(
        &mut st,
        json!({"strategy": "CANARY", "bakeTimeInMinutes": 0,
               "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 3}}),
    );
    let t = trace(&mut st, &arn, 3_000);
    let from = position(&t, "PRE_PRODUCTION_TRAFFIC_SHIFT", 0.0);
    assert_eq!(
        stages(&t[from..]),
        seq(&[
            ("PRE_PRODUCTION_TRAFFIC_SHIFT", 0.0),
            ("PRODUCTION_TRAFFIC_SHIFT", 10.0),
            ("PRE_PRODUCTION_TRAFFIC_SHIFT", 10.0),
            ("PRODUCTION_TRAFFIC_SHIFT", 100.0),
            ("POST_PRODUCTION_TRAFFIC_SHIFT", 100.0),
            ("BAKE_TIME", 100.0),
            ("CLEAN_UP", 100.0),
            ("-", 100.0),
        ]),
        "{t:?}"
    );
    assert_eq!(
        duration(&t, position(&t, "PRODUCTION_TRAFFIC_SHIFT", 10.0)),
        180.0
    );
    // The old revision gets the rest of production traffic meanwhile.
    let d = describe(&mut st, &arn);
    assert_eq!(d["status"], "SUCCESSFUL");
}

#[test]
fn canary_defaults_are_5_percent_for_10_minutes() {
    let mut st = setup("");
    let arn = deploy(
        &mut st,
        json!({"strategy": "CANARY", "bakeTimeInMinutes": 15}),
    );
    let t = trace(&mut st, &arn, 5_000);
    assert_eq!(
        duration(&t, position(&t, "PRODUCTION_TRAFFIC_SHIFT", 5.0)),
        600.0
    );
    assert_eq!(duration(&t, position(&t, "BAKE_TIME", 100.0)), 900.0);
    assert!(t.last().expect("trace").0 >= 25.0 * 60.0);
}

#[test]
fn blue_green_passes_every_stage_including_pre_production_traffic_shift() {
    let mut st = setup("");
    let arn = deploy(
        &mut st,
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1}),
    );
    let t = trace(&mut st, &arn, 3_000);
    assert_eq!(
        stages(&t),
        seq(&[
            ("PRE_SCALE_UP", 0.0),
            ("SCALE_UP", 0.0),
            ("POST_SCALE_UP", 0.0),
            ("TEST_TRAFFIC_SHIFT", 0.0),
            ("POST_TEST_TRAFFIC_SHIFT", 0.0),
            ("PRE_PRODUCTION_TRAFFIC_SHIFT", 0.0),
            ("PRODUCTION_TRAFFIC_SHIFT", 100.0),
            ("POST_PRODUCTION_TRAFFIC_SHIFT", 100.0),
            ("BAKE_TIME", 100.0),
            ("CLEAN_UP", 100.0),
            ("-", 100.0),
        ]),
        "{t:?}"
    );
    assert_eq!(duration(&t, position(&t, "BAKE_TIME", 100.0)), 60.0);
}

#[test]
fn blue_green_without_bake_time_bakes_the_documented_36_hours() {
    let mut st = setup("");
    let arn = deploy(&mut st, json!({"strategy": "BLUE_GREEN"}));
    // Green is healthy once its ELB targets pass 5 checks 30 s apart (about 150 s).
    run_until_stage(&mut st, &arn, "BAKE_TIME", 400);
    let t = st.now + 2160.0 * 60.0 - 10.0;
    st.advance(t);
    assert_eq!(describe(&mut st, &arn)["lifecycleStage"], "BAKE_TIME");
    run(&mut st, 20);
    assert_eq!(
        describe(&mut st, &arn)["lifecycleStage"],
        "CLEAN_UP",
        "{}",
        describe(&mut st, &arn)
    );
    // CLEAN_UP drains blue: deregistration delay 300 s, stopTimeout 30 s, DEPROVISIONING.
    run(&mut st, 400);
    assert_eq!(describe(&mut st, &arn)["status"], "SUCCESSFUL");
}

#[test]
fn clean_up_lasts_until_blue_has_drained_and_stopped() {
    let mut st = setup("");
    let arn = deploy(
        &mut st,
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0}),
    );
    let t = trace(&mut st, &arn, 3_000);
    // Blue's targets drain the deregistration delay (ELB default 300 s), its containers get
    // stopTimeout (30 s), DEPROVISIONING (3 s): only then is blue at 0 tasks. The stops are
    // issued on the stage's first scheduler pass, 1 s after it is entered.
    let clean_up = duration(&t, position(&t, "CLEAN_UP", 100.0));
    assert_eq!(clean_up, 1.0 + 300.0 + 30.0 + 3.0, "{t:?}");
    assert_eq!(t.last().map(|x| x.1.as_str()), Some("SUCCESSFUL"));
    assert_eq!(st.services["c/s"].deployments.len(), 1);
    let blue_left = st
        .tasks
        .values()
        .filter(|task| task.task_definition_arn.ends_with("a:1") && task.last_status != "STOPPED")
        .count();
    assert_eq!(blue_left, 0);
}

#[test]
fn reconcile_service_only_shows_with_more_than_one_active_revision() {
    let mut st = setup("images: {'a:2': {kind: healthy, start-after: 100000}}");
    // One ACTIVE revision (a:1) besides the new one: no reconciliation.
    call(
        &mut st,
        "UpdateService",
        json!({"cluster": "c", "service": "s", "taskDefinition": "a:2"}),
    );
    run(&mut st, 5);
    // Now a:2 (still starting) and a:1 are both ACTIVE when a:3 starts.
    call(
        &mut st,
        "UpdateService",
        json!({"cluster": "c", "service": "s", "taskDefinition": "a:3",
               "deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0}}),
    );
    let arn = st.services["c/s"].deployments[0].sd_arn.clone();
    let t = trace(&mut st, &arn, 600);
    assert_eq!(t[0].2, "RECONCILE_SERVICE", "{t:?}");
    assert_eq!(t[1].2, "PRE_SCALE_UP", "{t:?}");

    let mut st = setup("");
    let arn = deploy(
        &mut st,
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0}),
    );
    run(&mut st, 1);
    let t = trace(&mut st, &arn, 600);
    assert!(t.iter().all(|x| x.2 != "RECONCILE_SERVICE"), "{t:?}");
}

fn lambda_hook(stage: &str, timeout: Option<Value>) -> Value {
    let mut h = json!({"hookTargetArn": LAMBDA, "roleArn": "arn:aws:iam::123456789012:role/hook",
                       "lifecycleStages": [stage]});
    if let Some(t) = timeout {
        h["timeoutConfiguration"] = t;
    }
    h
}

#[test]
fn a_lambda_hook_that_returns_failed_rolls_the_deployment_back() {
    let mut st = setup(&format!(
        "hooks: {{'{LAMBDA}': {{result: failed, after: 60}}}}"
    ));
    let arn = deploy(
        &mut st,
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
               "lifecycleHooks": [lambda_hook("POST_TEST_TRAFFIC_SHIFT", None)]}),
    );
    let t = trace(&mut st, &arn, 600);
    let at = position(&t, "POST_TEST_TRAFFIC_SHIFT", 0.0);
    // IN_PROGRESS answers are retried every 30 s: the FAILED answer comes 60 s in.
    assert_eq!(duration(&t, at), 60.0, "{t:?}");
    let d = describe(&mut st, &arn);
    let hook = &d["lifecycleHookDetails"][0];
    assert_eq!(hook["targetType"], "AWS_LAMBDA");
    assert_eq!(hook["status"], "FAILED");
    assert_eq!(hook["targetArn"], LAMBDA);
    assert!(
        hook["hookId"]
            .as_str()
            .is_some_and(|h| h.starts_with("ecs-"))
    );
    assert_eq!(
        d["statusReason"],
        format!(
            "Service deployment rolled back because POST_TEST_TRAFFIC_SHIFT lifecycle hook(s) failed. Lifecycle hook target {LAMBDA} returned FAILED status."
        )
    );
    assert_rollback_drains_green_then_succeeds(&mut st, &arn);
}

#[test]
fn a_lambda_hook_that_answers_in_progress_holds_the_stage_until_it_succeeds() {
    let mut st =
        setup("hooks: {'arn:aws:lambda:*:function:smoke': {result: succeeded, after: 45}}");
    let arn = deploy(
        &mut st,
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
               "lifecycleHooks": [lambda_hook("PRODUCTION_TRAFFIC_SHIFT", None)]}),
    );
    let t = trace(&mut st, &arn, 600);
    assert_eq!(
        duration(&t, position(&t, "PRODUCTION_TRAFFIC_SHIFT", 100.0)),
        60.0
    );
    let d = describe(&mut st, &arn);
    assert_eq!(d["status"], "SUCCESSFUL");
    assert_eq!(d["lifecycleHookDetails"][0]["status"], "SUCCEEDED");
}

#[test]
fn a_lambda_hook_that_never_answers_takes_its_timeout_action() {
    let scenario = format!("hooks: {{'{LAMBDA}': {{result: in-progress}}}}");
    let mut st = setup(&scenario);
    let arn = deploy(
        &mut st,
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
               "lifecycleHooks": [lambda_hook("POST_SCALE_UP", Some(json!({"timeoutInMinutes": 2, "action": "CONTINUE"})))]}),
    );
    let t = trace(&mut st, &arn, 900);
    assert_eq!(duration(&t, position(&t, "POST_SCALE_UP", 0.0)), 120.0);
    let d = describe(&mut st, &arn);
    assert_eq!(d["status"], "SUCCESSFUL");
    assert_eq!(d["lifecycleHookDetails"][0]["status"], "TIMED_OUT");

    let mut st = setup(&scenario);
    let arn = deploy(
        &mut st,
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
               "lifecycleHooks": [lambda_hook("POST_SCALE_UP", Some(json!({"timeoutInMinutes": 1})))]}),
    );
    trace(&mut st, &arn, 900);
    let d = describe(&mut st, &arn);
    assert!(
        d["statusReason"]
            .as_str()
            .is_some_and(|r| r.contains("POST_SCALE_UP") && r.contains("timed out")),
        "{d}"
    );
    assert_rollback_drains_green_then_succeeds(&mut st, &arn);
}

#[test]
fn a_pause_hook_that_times_out_rolls_back_by_default() {
    let mut st = setup("");
    let arn = deploy(
        &mut st,
        json!({"strategy": "LINEAR", "bakeTimeInMinutes": 0,
               "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["PRE_PRODUCTION_TRAFFIC_SHIFT"],
                                   "timeoutConfiguration": {"timeoutInMinutes": 5}}]}),
    );
    let t = trace(&mut st, &arn, 900);
    assert_eq!(
        duration(&t, position(&t, "PRE_PRODUCTION_TRAFFIC_SHIFT", 0.0)),
        300.0
    );
    let d = describe(&mut st, &arn);
    assert_eq!(d["lifecycleHookDetails"][0]["status"], "TIMED_OUT");
    assert_eq!(d["lifecycleHookDetails"][0]["timeoutAction"], "ROLLBACK");
    assert_eq!(
        d["statusReason"],
        "Service deployment rolled back because PRE_PRODUCTION_TRAFFIC_SHIFT pause hook timed out."
    );
    assert_rollback_drains_green_then_succeeds(&mut st, &arn);
}

#[test]
fn a_pause_hook_at_pre_production_traffic_shift_waits_before_every_linear_step() {
    let mut st = setup("");
    let arn = deploy(
        &mut st,
        json!({"strategy": "LINEAR", "bakeTimeInMinutes": 0,
               "linearConfiguration": {"stepPercent": 50.0, "stepBakeTimeInMinutes": 0},
               "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["PRE_PRODUCTION_TRAFFIC_SHIFT"]}]}),
    );
    for weight in [0.0, 50.0] {
        run(&mut st, 600);
        let d = describe(&mut st, &arn);
        assert_eq!(d["lifecycleStage"], "PRE_PRODUCTION_TRAFFIC_SHIFT", "{d}");
        assert_eq!(
            d["targetServiceRevision"]["requestedProductionTrafficWeight"],
            weight
        );
        assert_eq!(
            d["sourceServiceRevisions"][0]["requestedProductionTrafficWeight"],
            100.0 - weight
        );
        let hook = d["lifecycleHookDetails"]
            .as_array()
            .and_then(|h| h.iter().find(|h| h["status"] == "AWAITING_ACTION"))
            .cloned()
            .expect("a hook awaits action");
        call(
            &mut st,
            "ContinueServiceDeployment",
            json!({"serviceDeploymentArn": arn, "hookId": hook["hookId"]}),
        );
    }
    run(&mut st, 600);
    let d = describe(&mut st, &arn);
    assert_eq!(d["status"], "SUCCESSFUL");
    assert_eq!(d["lifecycleHookDetails"].as_array().map(Vec::len), Some(2));
}

#[test]
fn continue_service_deployment_errors_follow_the_troubleshooting_guide() {
    let mut st = setup("");
    let arn = deploy(
        &mut st,
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
               "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}]}),
    );
    run_until_stage(&mut st, &arn, "POST_SCALE_UP", 400);
    run(&mut st, 5);
    let e = fail(
        &mut st,
        "ContinueServiceDeployment",
        json!({"serviceDeploymentArn": arn}),
    );
    assert_eq!(e.kind, "InvalidParameterException");
    assert!(e.message.contains("hookId"), "{e:?}");
    let e = fail(
        &mut st,
        "ContinueServiceDeployment",
        json!({"serviceDeploymentArn": arn, "hookId": "abc"}),
    );
    assert_eq!(
        e.message,
        "Invalid hookId: hookId must follow the format: ecs-{hookType}-{id}"
    );
    let e = fail(
        &mut st,
        "ContinueServiceDeployment",
        json!({"serviceDeploymentArn": arn, "hookId": "ecs-pause-nope"}),
    );
    assert_eq!(
        e.message,
        "Provided hookId is either completed, unavailable, or not associated with the given Resource ARN"
    );
    let e = fail(
        &mut st,
        "ContinueServiceDeployment",
        json!({"serviceDeploymentArn": format!("{arn}x"), "hookId": "ecs-pause-nope"}),
    );
    assert_eq!(e.kind, "ServiceDeploymentNotFoundException");
    let hook = describe(&mut st, &arn)["lifecycleHookDetails"][0]["hookId"]
        .as_str()
        .expect("hook id")
        .to_string();
    assert!(hook.starts_with("ecs-pause-"));
    call(
        &mut st,
        "ContinueServiceDeployment",
        json!({"serviceDeploymentArn": arn, "hookId": hook, "action": "CONTINUE"}),
    );
    // The remaining stages, then CLEAN_UP drains blue (deregistration delay 300 s,
    // stopTimeout 30 s, DEPROVISIONING).
    run(&mut st, 400);
    assert_eq!(describe(&mut st, &arn)["status"], "SUCCESSFUL");
    let e = fail(
        &mut st,
        "ContinueServiceDeployment",
        json!({"serviceDeploymentArn": arn, "hookId": hook}),
    );
    assert_eq!(
        e.message,
        "Continuing a service deployment is not allowed for service deployment in terminal states."
    );
}

#[test]
fn stop_service_deployment_accepts_stops_of_a_rollback_in_progress_and_refuses_abort() {
    // a:1 takes 30 s to start again and then 5 ELB checks 30 s apart to be healthy, so the
    // rollback stays ROLLBACK_IN_PROGRESS a while.
    let mut st = setup(
        "images: {'a:1': {kind: healthy, start-after: 30}, 'a:2': {kind: healthy, start-after: 100000}}",
    );
    let arn = deploy(
        &mut st,
        json!({"minimumHealthyPercent": 0, "maximumPercent": 100}),
    );
    run(&mut st, 5);
    let e = fail(
        &mut st,
        "StopServiceDeployment",
        json!({"serviceDeploymentArn": arn, "stopType": "ABORT"}),
    );
    assert_eq!(e.kind, "InvalidParameterException");
    assert!(e.message.contains("ROLLBACK"), "{e:?}");
    let e = fail(
        &mut st,
        "StopServiceDeployment",
        json!({"serviceDeploymentArn": arn, "stopType": "HALT"}),
    );
    assert_eq!(e.kind, "InvalidParameterException");
    // Default stopType is ROLLBACK: PENDING/IN_PROGRESS → ROLLBACK_REQUESTED.
    call(
        &mut st,
        "StopServiceDeployment",
        json!({"serviceDeploymentArn": arn}),
    );
    assert_eq!(describe(&mut st, &arn)["status"], "ROLLBACK_REQUESTED");
    call(
        &mut st,
        "StopServiceDeployment",
        json!({"serviceDeploymentArn": arn}),
    );
    run(&mut st, 2);
    assert_eq!(describe(&mut st, &arn)["status"], "ROLLBACK_IN_PROGRESS");
    // "ROLLBACK_IN_PROGRESS - The service deployment continues the rollback operation."
    let out = call(
        &mut st,
        "StopServiceDeployment",
        json!({"serviceDeploymentArn": arn, "stopType": "ROLLBACK"}),
    );
    assert_eq!(out["serviceDeploymentArn"], arn.as_str());
    assert_eq!(describe(&mut st, &arn)["status"], "ROLLBACK_IN_PROGRESS");
    run(&mut st, 120);
    assert_eq!(describe(&mut st, &arn)["status"], "ROLLBACK_IN_PROGRESS");
    run(&mut st, 60);
    assert_eq!(describe(&mut st, &arn)["status"], "ROLLBACK_SUCCESSFUL");
    assert!(st.services["c/s"].task_definition.ends_with("a:1"));
    let e = fail(
        &mut st,
        "StopServiceDeployment",
        json!({"serviceDeploymentArn": arn}),
    );
    assert_eq!(e.kind, "ConflictException");
    assert!(e.message.contains("ROLLBACK_SUCCESSFUL"), "{e:?}");
    let e = fail(
        &mut st,
        "StopServiceDeployment",
        json!({"serviceDeploymentArn": format!("{arn}x")}),
    );
    assert_eq!(e.kind, "ServiceDeploymentNotFoundException");
}

#[test]
fn current_service_deployment_is_the_newest_deployment_and_stays_through_its_rollback() {
    let mut st = setup("images: {'a:2': {kind: pull-failure}}");
    let first = st.services["c/s"].deployments[0].sd_arn.clone();
    let svc = |st: &mut State| {
        call(
            st,
            "DescribeServices",
            json!({"cluster": "c", "services": ["s"]}),
        )["services"][0]
            .clone()
    };
    assert_eq!(svc(&mut st)["currentServiceDeployment"], first.as_str());
    let out = call(
        &mut st,
        "UpdateService",
        json!({"cluster": "c", "service": "s", "taskDefinition": "a:2",
               "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": true, "rollback": true}}}),
    );
    let second = st.services["c/s"].deployments[0].sd_arn.clone();
    assert_ne!(first, second);
    assert_eq!(out["service"]["currentServiceDeployment"], second.as_str());
    let s = svc(&mut st);
    assert_eq!(s["currentServiceDeployment"], second.as_str());
    assert_eq!(
        s["currentServiceRevisions"].as_array().map(Vec::len),
        Some(2)
    );
    run(&mut st, 300);
    assert_eq!(describe(&mut st, &second)["status"], "ROLLBACK_SUCCESSFUL");
    assert_eq!(svc(&mut st)["currentServiceDeployment"], second.as_str());
}

#[test]
fn describe_service_deployments_takes_at_most_20_arns() {
    let mut st = setup("");
    let arn = st.services["c/s"].deployments[0].sd_arn.clone();
    let twenty: Vec<String> = (0..20).map(|_| arn.clone()).collect();
    call(
        &mut st,
        "DescribeServiceDeployments",
        json!({"serviceDeploymentArns": twenty}),
    );
    let more: Vec<String> = (0..21).map(|_| arn.clone()).collect();
    let e = fail(
        &mut st,
        "DescribeServiceDeployments",
        json!({"serviceDeploymentArns": more}),
    );
    assert_eq!(e.kind, "InvalidParameterException");
}

#[test]
fn scenario_hook_rules_are_checked() {
    assert!(Scenario::from_yaml("hooks: {'arn:*': {result: failed, after: 30}}").is_ok());
    for bad in [
        "hooks: {'arn:*': {result: maybe}}",
        "hooks: {'arn:*': {after: 30}}",
        "hooks: {'arn:*': {result: failed, wait: 30}}",
    ] {
        assert!(Scenario::from_yaml(bad).is_err(), "{bad} was accepted");
    }
}
