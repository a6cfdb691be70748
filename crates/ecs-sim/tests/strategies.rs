//! BLUE_GREEN, LINEAR and CANARY through the AWS Rust SDK and the aws CLI: what
//! CreateService/UpdateService accept (with AWS's error codes and texts), a linear rollout
//! paused before each traffic shift, `currentServiceDeployment`, StopServiceDeployment.

mod common;

use aws_sdk_ecs::types::{
    AdvancedConfiguration, CanaryConfiguration, DeploymentConfiguration, DeploymentLifecycleHook,
    DeploymentLifecycleHookStage, DeploymentLifecycleHookTargetType, DeploymentStrategy,
    LinearConfiguration, LoadBalancer, StopServiceDeploymentStopType,
};
use common::*;

const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1a";
const ALT: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2b";
const PROD: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/alb/1/2/3";
const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/1/2";

fn lb(advanced: bool) -> LoadBalancer {
    let b = LoadBalancer::builder()
        .target_group_arn(TG)
        .container_name("app")
        .container_port(80);
    if advanced {
        b.advanced_configuration(
            AdvancedConfiguration::builder()
                .alternate_target_group_arn(ALT)
                .production_listener_rule(PROD)
                .role_arn("arn:aws:iam::123456789012:role/ecsInfra")
                .build(),
        )
        .build()
    } else {
        b.build()
    }
}

fn strategy(s: DeploymentStrategy) -> aws_sdk_ecs::types::builders::DeploymentConfigurationBuilder {
    DeploymentConfiguration::builder()
        .strategy(s)
        .bake_time_in_minutes(0)
}

/// UpdateService of `svc` to a new revision with `config` (and `lbs` if any); the error
/// code and message when refused.
async fn update(
    c: &aws_sdk_ecs::Client,
    svc: &str,
    config: DeploymentConfiguration,
    lbs: Option<Vec<LoadBalancer>>,
) -> Result<(), (String, String)> {
    let td = register(c, svc, "app:v2").await;
    c.update_service()
        .cluster("c")
        .service(svc)
        .task_definition(td)
        .deployment_configuration(config)
        .set_load_balancers(lbs)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            let e = e.into_service_error();
            (
                aws_sdk_ecs::error::ProvideErrorMetadata::code(&e)
                    .unwrap_or("")
                    .to_string(),
                aws_sdk_ecs::error::ProvideErrorMetadata::message(&e)
                    .unwrap_or("")
                    .to_string(),
            )
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linear_and_canary_need_a_load_balancer_with_advanced_configuration() {
    let sim = sim("", 300.0);
    let c = ecs(&sim);
    healthy_service(&c, "v", "app:v1", 1, false).await;
    let before = describe(&c, "v")
        .await
        .task_definition()
        .map(str::to_string);

    let (code, msg) = update(&c, "v", strategy(DeploymentStrategy::Linear).build(), None)
        .await
        .expect_err("LINEAR without a load balancer");
    assert_eq!(code, "InvalidParameterException");
    assert!(
        msg.contains("Load Balancer") && msg.contains("Service Connect"),
        "{msg}"
    );

    for (s, name) in [
        (DeploymentStrategy::Linear, "linear"),
        (DeploymentStrategy::Canary, "canary"),
        (DeploymentStrategy::BlueGreen, "Blue/green"),
    ] {
        let (code, msg) = update(&c, "v", strategy(s).build(), Some(vec![lb(false)]))
            .await
            .expect_err("a load balancer without advancedConfiguration");
        assert_eq!(code, "ClientException");
        assert_eq!(
            msg,
            format!(
                "advancedConfiguration field is required for all loadBalancers when using the {name} deployment strategy"
            )
        );
    }
    // Refused requests change nothing.
    let s = describe(&c, "v").await;
    assert_eq!(s.task_definition().map(str::to_string), before);
    assert_eq!(s.deployments().len(), 1);

    let mut listener = lb(true);
    listener.advanced_configuration = Some(
        AdvancedConfiguration::builder()
            .alternate_target_group_arn(ALT)
            .production_listener_rule(LISTENER)
            .build(),
    );
    let (code, msg) = update(
        &c,
        "v",
        strategy(DeploymentStrategy::Canary).build(),
        Some(vec![listener]),
    )
    .await
    .expect_err("a listener ARN where an ALB rule ARN is needed");
    assert_eq!(code, "ClientException");
    assert_eq!(
        msg,
        format!(
            "productionListenerRule has an invalid ARN format. Must be RuleArn for ALB or ListenerArn for NLB. Got: {LISTENER}"
        )
    );

    let (code, msg) = update(
        &c,
        "v",
        strategy(DeploymentStrategy::Canary).build(),
        Some(vec![lb(true), lb(false)]),
    )
    .await
    .expect_err("mixed advancedConfiguration");
    assert_eq!(code, "ClientException");
    assert_eq!(
        msg,
        "Either all or none of the provided loadBalancers must have advancedConfiguration defined"
    );

    let bad_step = strategy(DeploymentStrategy::Linear)
        .linear_configuration(LinearConfiguration::builder().step_percent(2.0).build())
        .build();
    let (code, msg) = update(&c, "v", bad_step, Some(vec![lb(true)]))
        .await
        .expect_err("stepPercent below 3.0");
    assert_eq!(code, "InvalidParameterException");
    assert!(msg.contains("stepPercent"), "{msg}");
    let bad_canary = strategy(DeploymentStrategy::Canary)
        .canary_configuration(CanaryConfiguration::builder().canary_percent(12.34).build())
        .build();
    let (code, _) = update(&c, "v", bad_canary, Some(vec![lb(true)]))
        .await
        .expect_err("canaryPercent not a multiple of 0.1");
    assert_eq!(code, "InvalidParameterException");

    update(
        &c,
        "v",
        strategy(DeploymentStrategy::Canary).build(),
        Some(vec![lb(true)]),
    )
    .await
    .expect("CANARY behind an ALB with advancedConfiguration");
    let s = describe(&c, "v").await;
    let cfg = s.deployment_configuration().expect("config");
    assert_eq!(cfg.strategy().map(|s| s.as_str()), Some("CANARY"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blue_green_without_a_load_balancer_is_accepted_as_headless() {
    let sim = sim("", 300.0);
    let c = ecs(&sim);
    healthy_service(&c, "h", "app:v1", 1, false).await;
    update(
        &c,
        "h",
        strategy(DeploymentStrategy::BlueGreen).build(),
        None,
    )
    .await
    .expect("BLUE_GREEN with no load balancer (headless, per the developer guide)");
    let arn = latest_sd(&c, "h").await;
    wait_sd(&c, &arn, "SUCCESSFUL").await;
}

fn hook(
    target: Option<DeploymentLifecycleHookTargetType>,
    stage: DeploymentLifecycleHookStage,
) -> DeploymentLifecycleHook {
    DeploymentLifecycleHook::builder()
        .set_target_type(target)
        .lifecycle_stages(stage)
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_hooks_only_at_the_stages_aws_allows_and_hooks_default_to_lambda() {
    let sim = sim("", 300.0);
    let c = ecs(&sim);
    healthy_service(&c, "k", "app:v1", 1, false).await;
    for stage in [
        DeploymentLifecycleHookStage::TestTrafficShift,
        DeploymentLifecycleHookStage::ProductionTrafficShift,
        DeploymentLifecycleHookStage::ReconcileService,
    ] {
        let cfg = strategy(DeploymentStrategy::BlueGreen)
            .lifecycle_hooks(hook(
                Some(DeploymentLifecycleHookTargetType::Pause),
                stage.clone(),
            ))
            .build();
        let (code, msg) = update(&c, "k", cfg, None)
            .await
            .expect_err("a PAUSE hook where AWS forbids it");
        assert_eq!(code, "InvalidParameterException", "{stage:?}");
        assert_eq!(msg, "Invalid lifecycle stage provided for Pause Hook");
    }
    // No targetType means AWS_LAMBDA, which needs a hookTargetArn.
    let cfg = strategy(DeploymentStrategy::BlueGreen)
        .lifecycle_hooks(hook(None, DeploymentLifecycleHookStage::PostScaleUp))
        .build();
    let (code, msg) = update(&c, "k", cfg, None)
        .await
        .expect_err("a Lambda hook without a target");
    assert_eq!(code, "InvalidParameterException");
    assert!(
        msg.contains("hookTargetArn") && msg.contains("AWS_LAMBDA"),
        "{msg}"
    );

    let cfg = strategy(DeploymentStrategy::BlueGreen)
        .lifecycle_hooks(
            DeploymentLifecycleHook::builder()
                .hook_target_arn("arn:aws:lambda:us-east-1:123456789012:function:check")
                .role_arn("arn:aws:iam::123456789012:role/hook")
                .lifecycle_stages(DeploymentLifecycleHookStage::TestTrafficShift)
                .build(),
        )
        .build();
    update(&c, "k", cfg, None)
        .await
        .expect("a Lambda hook at TEST_TRAFFIC_SHIFT");
    let arn = latest_sd(&c, "k").await;
    let d = wait_sd(&c, &arn, "SUCCESSFUL").await;
    let h = &d.lifecycle_hook_details()[0];
    assert_eq!(h.target_type().map(|t| t.as_str()), Some("AWS_LAMBDA"));
    assert_eq!(h.status().map(|s| s.as_str()), Some("SUCCEEDED"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linear_rollout_paused_before_each_shift_reports_its_weights() {
    let sim = sim("", 300.0);
    let c = ecs(&sim);
    healthy_service(&c, "lin", "app:v1", 2, false).await;
    let cfg = strategy(DeploymentStrategy::Linear)
        .linear_configuration(
            LinearConfiguration::builder()
                .step_percent(50.0)
                .step_bake_time_in_minutes(1)
                .build(),
        )
        .lifecycle_hooks(hook(
            Some(DeploymentLifecycleHookTargetType::Pause),
            DeploymentLifecycleHookStage::PreProductionTrafficShift,
        ))
        .build();
    update(&c, "lin", cfg, Some(vec![lb(true)]))
        .await
        .expect("update");
    let arn = latest_sd(&c, "lin").await;
    assert_eq!(
        describe(&c, "lin").await.current_service_deployment(),
        Some(arn.as_str()),
        "currentServiceDeployment names the new service deployment"
    );
    for weight in [0.0, 50.0] {
        let (hook_id, d) = until("a pause before the next shift", 20, || async {
            let d = sd(&c, &arn).await;
            let h = d
                .lifecycle_hook_details()
                .iter()
                .find(|h| h.status().map(|s| s.as_str()) == Some("AWAITING_ACTION"))?;
            Some((h.hook_id()?.to_string(), d.clone()))
        })
        .await;
        assert_eq!(
            d.lifecycle_stage().map(|s| s.as_str()),
            Some("PRE_PRODUCTION_TRAFFIC_SHIFT")
        );
        let target = d.target_service_revision().expect("target");
        assert_eq!(target.requested_production_traffic_weight(), Some(weight));
        assert_eq!(target.requested_test_traffic_weight(), Some(100.0));
        c.continue_service_deployment()
            .service_deployment_arn(&arn)
            .hook_id(hook_id)
            .send()
            .await
            .expect("continue");
    }
    let d = wait_sd(&c, &arn, "SUCCESSFUL").await;
    assert_eq!(
        d.target_service_revision()
            .and_then(|t| t.requested_production_traffic_weight()),
        Some(100.0)
    );
    assert_eq!(describe(&c, "lin").await.deployments().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_service_deployment_rolls_back_by_default_and_refuses_abort() {
    let sim = sim(
        "images: {'app:v2': {kind: healthy, start-after: 100000}}",
        300.0,
    );
    let c = ecs(&sim);
    let v1 = healthy_service(&c, "st", "app:v1", 1, false).await;
    update(&c, "st", rolling_config(false, false), None)
        .await
        .expect("update");
    let arn = latest_sd(&c, "st").await;
    let err = c
        .stop_service_deployment()
        .service_deployment_arn(&arn)
        .stop_type(StopServiceDeploymentStopType::Abort)
        .send()
        .await
        .expect_err("ABORT is not a documented stop type");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_invalid_parameter_exception()),
        "{err:?}"
    );
    c.stop_service_deployment()
        .service_deployment_arn(&arn)
        .send()
        .await
        .expect("stop (ROLLBACK by default)");
    wait_sd(&c, &arn, "ROLLBACK_SUCCESSFUL").await;
    let s = wait_rollout(&c, "st", "COMPLETED").await;
    assert_eq!(s.task_definition(), Some(v1.as_str()));
    let err = c
        .stop_service_deployment()
        .service_deployment_arn(&arn)
        .send()
        .await
        .expect_err("a finished deployment");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_conflict_exception()),
        "{err:?}"
    );
}

#[test]
fn the_aws_cli_reads_a_linear_deployment_and_current_service_deployment() {
    let Some(aws) = deployer_testbed::venv_tool("aws") else {
        return;
    };
    let sim = sim("", 300.0);
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let arn = rt.block_on(async {
        let c = ecs(&sim);
        healthy_service(&c, "cli", "app:v1", 1, false).await;
        let cfg = strategy(DeploymentStrategy::Linear)
            .lifecycle_hooks(hook(
                Some(DeploymentLifecycleHookTargetType::Pause),
                DeploymentLifecycleHookStage::PreProductionTrafficShift,
            ))
            .build();
        update(&c, "cli", cfg, Some(vec![lb(true)]))
            .await
            .expect("update");
        let arn = latest_sd(&c, "cli").await;
        until("the pause", 20, || async {
            let d = sd(&c, &arn).await;
            (d.lifecycle_stage().map(|s| s.as_str()) == Some("PRE_PRODUCTION_TRAFFIC_SHIFT"))
                .then_some(())
        })
        .await;
        arn
    });
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(&aws);
        cmd.args(args)
            .env("AWS_ENDPOINT_URL_ECS", sim.endpoint())
            .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "SECRETTEST")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/aws-credentials",
            )
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL");
        let out = cmd.output().expect("run aws");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
    };
    let d = run(&[
        "ecs",
        "describe-service-deployments",
        "--service-deployment-arns",
        &arn,
    ]);
    let d = &d["serviceDeployments"][0];
    assert_eq!(d["lifecycleStage"], "PRE_PRODUCTION_TRAFFIC_SHIFT");
    assert_eq!(d["deploymentConfiguration"]["strategy"], "LINEAR");
    let s = run(&[
        "ecs",
        "describe-services",
        "--cluster",
        "c",
        "--services",
        "cli",
    ]);
    assert_eq!(s["services"][0]["currentServiceDeployment"], arn.as_str());
}
