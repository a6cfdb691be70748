//! Native blue/green with a pause hook, through the AWS Rust SDK.

mod common;

use aws_sdk_ecs::types::{
    DeploymentConfiguration, DeploymentLifecycleHook, DeploymentLifecycleHookAction,
    DeploymentLifecycleHookStage, DeploymentLifecycleHookTargetType, DeploymentStrategy,
};
use common::*;

fn bg_config() -> DeploymentConfiguration {
    DeploymentConfiguration::builder()
        .strategy(DeploymentStrategy::BlueGreen)
        .bake_time_in_minutes(2)
        .lifecycle_hooks(
            DeploymentLifecycleHook::builder()
                .target_type(DeploymentLifecycleHookTargetType::Pause)
                .lifecycle_stages(DeploymentLifecycleHookStage::PostTestTrafficShift)
                .build(),
        )
        .build()
}

async fn start_bg(c: &aws_sdk_ecs::Client, svc: &str) -> (String, String) {
    let v1 = healthy_service(c, svc, "app:v1", 2, true).await;
    let v2 = register(c, svc, "app:v2").await;
    c.update_service()
        .cluster("c")
        .service(svc)
        .task_definition(&v2)
        .deployment_configuration(bg_config())
        .send()
        .await
        .expect("update");
    (v1, v2)
}

async fn wait_hook(c: &aws_sdk_ecs::Client, arn: &str) -> String {
    until("pause hook awaiting action", 20, || async {
        let d = sd(c, arn).await;
        let h = d
            .lifecycle_hook_details()
            .iter()
            .find(|h| h.status().map(|s| s.as_str()) == Some("AWAITING_ACTION"))?;
        Some(h.hook_id()?.to_string())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blue_green_pauses_until_continue() {
    let sim = sim("", 300.0);
    let c = ecs(&sim);
    let (_, v2) = start_bg(&c, "bg").await;
    let arn = latest_sd(&c, "bg").await;
    let hook = wait_hook(&c, &arn).await;
    let d = sd(&c, &arn).await;
    assert_eq!(
        d.lifecycle_stage().map(|s| s.as_str()),
        Some("POST_TEST_TRAFFIC_SHIFT")
    );
    assert_eq!(d.status().map(|s| s.as_str()), Some("IN_PROGRESS"));
    // Still waiting a while later (~300 simulated seconds).
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let d = sd(&c, &arn).await;
    assert_eq!(
        d.lifecycle_stage().map(|s| s.as_str()),
        Some("POST_TEST_TRAFFIC_SHIFT")
    );
    let s = describe(&c, "bg").await;
    assert_eq!(s.deployments().len(), 2, "blue and green both up");
    assert_eq!(s.running_count(), 4);

    c.continue_service_deployment()
        .service_deployment_arn(&arn)
        .hook_id(&hook)
        .action(DeploymentLifecycleHookAction::Continue)
        .send()
        .await
        .expect("continue");
    let seen_bake = until("bake time stage", 20, || async {
        let d = sd(&c, &arn).await;
        match d.lifecycle_stage().map(|s| s.as_str()) {
            Some("BAKE_TIME") => Some(true),
            _ if d.status().map(|s| s.as_str()) == Some("SUCCESSFUL") => Some(false),
            _ => None,
        }
    })
    .await;
    assert!(seen_bake, "bake time (2 minutes) is observable");
    let done = wait_sd(&c, &arn, "SUCCESSFUL").await;
    assert_eq!(
        done.lifecycle_hook_details()[0]
            .status()
            .map(|s| s.as_str()),
        Some("SUCCEEDED")
    );
    let s = wait_rollout(&c, "bg", "COMPLETED").await;
    assert_eq!(s.task_definition(), Some(v2.as_str()));
    assert_eq!(s.deployments().len(), 1);
    assert_eq!(s.running_count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blue_green_hook_rollback() {
    let sim = sim("", 300.0);
    let c = ecs(&sim);
    let (v1, _) = start_bg(&c, "bgr").await;
    let arn = latest_sd(&c, "bgr").await;
    let hook = wait_hook(&c, &arn).await;
    c.continue_service_deployment()
        .service_deployment_arn(&arn)
        .hook_id(&hook)
        .action(DeploymentLifecycleHookAction::Rollback)
        .send()
        .await
        .expect("rollback");
    wait_sd(&c, &arn, "ROLLBACK_SUCCESSFUL").await;
    let s = wait_rollout(&c, "bgr", "COMPLETED").await;
    assert_eq!(s.task_definition(), Some(v1.as_str()));
    let err = c
        .continue_service_deployment()
        .service_deployment_arn(&arn)
        .hook_id(&hook)
        .action(DeploymentLifecycleHookAction::Continue)
        .send()
        .await
        .expect_err("nothing awaiting");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_invalid_parameter_exception())
    );
}
