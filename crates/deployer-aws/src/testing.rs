//! Test support shared by this crate's and the binaries' integration tests (ecs-sim setup).
//! Not part of the product's behaviour.

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_ecs::types as t;
use serde_json::{Value, json};

use crate::ecs::Ecs;
use crate::{AwsContext, LoadOptions};

/// A context that talks to `endpoint` with dummy static credentials in us-east-1.
pub async fn context(endpoint: &str) -> AwsContext {
    AwsContext::load(LoadOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.to_string()),
        base_credentials: Some(Credentials::new("AKIDTEST", "secret", None, None, "test")),
        max_attempts: Some(10),
        ..Default::default()
    })
    .await
    .expect("test context")
}

/// A deploy of `container=image` to `cluster/service` as tests want it: the live task
/// definition, rollback on failure, a 60 s timeout and a 200 ms poll. Tests change what
/// they need with struct-update syntax.
pub fn deploy_request(cluster: &str, service: &str, image: &str) -> crate::deploy::DeployRequest {
    crate::deploy::DeployRequest {
        cluster: cluster.into(),
        service: service.into(),
        source: crate::deploy::Source::Live,
        images: crate::taskdef::parse_images(&format!("api={image}")).expect("images"),
        default_containers: vec![],
        env: vec![],
        tags: vec![],
        desired_count: None,
        force_new_deployment: false,
        on_failure: crate::deploy::OnFailure::Rollback,
        watch: crate::wait::WatchOptions {
            judge: crate::wait::JudgeOptions {
                timeout: Duration::from_secs(60),
                ..Default::default()
            },
            poll_interval: Duration::from_millis(200),
            progress_every: Duration::from_secs(2),
            log_lines: 20,
            max_unreachable: Duration::from_secs(60),
            clock: crate::wait::Clock::real(),
        },
        continue_deployment: false,
    }
}

/// A Fargate task definition with one awslogs container `api`.
pub fn task_definition(family: &str, image: &str) -> Value {
    json!({
        "family": family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [{
            "name": "api",
            "image": image,
            "essential": true,
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": format!("/ecs/{family}"), "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}}
        }]
    })
}

/// Creates the cluster (if needed) and a service, and waits for its first deployment.
/// Returns the service's task definition ARN.
pub async fn create_service(
    ecs: &Ecs,
    cluster: &str,
    name: &str,
    image: &str,
    desired: i32,
    bluegreen: bool,
    max_percent: i32,
) -> String {
    let _ = ecs
        .client
        .create_cluster()
        .cluster_name(cluster)
        .send()
        .await;
    let arn = ecs
        .register_task_definition(&task_definition(name, image))
        .await
        .expect("register");
    let mut dc = t::DeploymentConfiguration::builder()
        .deployment_circuit_breaker(
            t::DeploymentCircuitBreaker::builder()
                .enable(true)
                .rollback(true)
                .build(),
        )
        .maximum_percent(max_percent)
        .minimum_healthy_percent(100);
    if bluegreen {
        dc = dc
            .strategy(t::DeploymentStrategy::BlueGreen)
            .bake_time_in_minutes(0)
            .lifecycle_hooks(
                t::DeploymentLifecycleHook::builder()
                    .target_type(t::DeploymentLifecycleHookTargetType::Pause)
                    .lifecycle_stages(t::DeploymentLifecycleHookStage::PostTestTrafficShift)
                    .build(),
            );
    }
    ecs.client
        .create_service()
        .cluster(cluster)
        .service_name(name)
        .task_definition(&arn)
        .desired_count(desired)
        .launch_type(t::LaunchType::Fargate)
        .network_configuration(
            t::NetworkConfiguration::builder()
                .awsvpc_configuration(
                    t::AwsVpcConfiguration::builder()
                        .subnets("subnet-1")
                        .security_groups("sg-1")
                        .build()
                        .expect("vpc"),
                )
                .build(),
        )
        .deployment_configuration(dc.build())
        .send()
        .await
        .expect("create service");
    for _ in 0..300 {
        let s = ecs.describe_service(cluster, name).await.expect("describe");
        if s.running == desired && s.deployments.len() == 1 {
            let list = ecs
                .list_service_deployments(cluster, name, None)
                .await
                .unwrap_or_default();
            if list.first().is_none_or(|d| d.status == "SUCCESSFUL") {
                return s.task_definition;
            }
        }
        // Blue/green: let the first deployment through its pause hook.
        if let Some(first) = ecs
            .list_service_deployments(cluster, name, None)
            .await
            .unwrap_or_default()
            .first()
            && let Ok(d) = ecs.describe_service_deployment(&first.arn).await
            && let Some(h) = d.hooks.iter().find(|h| h.status == "AWAITING_ACTION")
        {
            let _ = ecs
                .continue_service_deployment(&first.arn, Some(&h.id), false)
                .await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("initial deployment of {name} never finished");
}

/// What a cancelled binary did: its exit code (None: killed by a signal) and everything it
/// printed (stdout then stderr).
#[derive(Debug)]
pub struct Cancelled {
    pub code: Option<i32>,
    pub text: String,
}

/// Runs `cmd` (stdout/stderr to files in `dir`), sends SIGTERM once its stdout contains
/// `marker`, as GitHub does when a workflow run is cancelled, and waits for it to exit.
/// Panics if the marker never shows up or the process outlives the 10 s GitHub gives it
/// before SIGKILL.
pub fn run_and_cancel(
    mut cmd: std::process::Command,
    dir: &std::path::Path,
    marker: &str,
) -> Cancelled {
    let out_path = dir.join("stdout.txt");
    let err_path = dir.join("stderr.txt");
    let out = std::fs::File::create(&out_path).expect("stdout file");
    let err = std::fs::File::create(&err_path).expect("stderr file");
    let mut child = cmd.stdout(out).stderr(err).spawn().expect("spawn");
    let read = || {
        std::fs::read_to_string(&out_path).unwrap_or_default()
            + &std::fs::read_to_string(&err_path).unwrap_or_default()
    };
    let started = std::time::Instant::now();
    while !read().contains(marker) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("exited ({status}) before `{marker}`:\n{}", read());
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("`{marker}` never showed up:\n{}", read());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill -TERM failed");
    let signalled = std::time::Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Cancelled {
                code: status.code(),
                text: read(),
            };
        }
        if signalled.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!(
                "still running 10 s after SIGTERM (GitHub would SIGKILL it now):\n{}",
                read()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
