#![allow(dead_code)]
//! Shared helpers for the ecs-sim integration tests.

use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_ecs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ecs::types::{
    ContainerDefinition, DeploymentCircuitBreaker, DeploymentConfiguration, LogConfiguration,
    LogDriver,
};
use ecs_sim::{Scenario, SimConfig, SimHandle};

pub fn sim(yaml: &str, time_scale: f64) -> SimHandle {
    let scenario = Scenario::from_yaml(yaml).expect("valid scenario");
    ecs_sim::spawn(SimConfig {
        scenario,
        time_scale,
        seed: 7,
    })
    .expect("sim starts")
}

pub fn ecs(sim: &SimHandle) -> aws_sdk_ecs::Client {
    let conf = aws_sdk_ecs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(sim.endpoint())
        .credentials_provider(Credentials::new(
            "AKIDTEST",
            "SECRETTEST",
            None,
            None,
            "test",
        ))
        .retry_config(aws_sdk_ecs::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_ecs::Client::from_conf(conf)
}

/// A client signing with another access key (another caller of the same account).
pub fn ecs_with_key(sim: &SimHandle, key: &str) -> aws_sdk_ecs::Client {
    let conf = aws_sdk_ecs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(sim.endpoint())
        .credentials_provider(Credentials::new(key, "SECRET", None, None, "test"))
        .retry_config(aws_sdk_ecs::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_ecs::Client::from_conf(conf)
}

pub fn logs(sim: &SimHandle) -> aws_sdk_cloudwatchlogs::Client {
    let conf = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
        .endpoint_url(sim.endpoint())
        .credentials_provider(aws_sdk_cloudwatchlogs::config::Credentials::new(
            "AKIDTEST",
            "SECRETTEST",
            None,
            None,
            "test",
        ))
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(conf)
}

/// Poll `f` every 100 ms until it returns Some, or panic after `secs` real seconds. The pace
/// stays under the ECS API's sustained rates (20 calls per second for the read buckets), as
/// a client of the real API must.
pub async fn until<T, F, Fut>(what: &str, secs: u64, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn container(name: &str, image: &str) -> ContainerDefinition {
    ContainerDefinition::builder()
        .name(name)
        .image(image)
        .essential(true)
        .log_configuration(
            LogConfiguration::builder()
                .log_driver(LogDriver::Awslogs)
                .options("awslogs-group", "/ecs/test")
                .options("awslogs-region", "us-east-1")
                .options("awslogs-stream-prefix", "ecs")
                .build()
                .expect("log config"),
        )
        .build()
}

pub async fn register(client: &aws_sdk_ecs::Client, family: &str, image: &str) -> String {
    let out = client
        .register_task_definition()
        .family(family)
        .container_definitions(container("app", image))
        .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
        .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
        .cpu("256")
        .memory("512")
        .send()
        .await
        .expect("register");
    out.task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("arn")
        .to_string()
}

/// Like [`register`], with a container health check (`curl -f http://localhost/ || exit 1`,
/// every 10 s, 2 retries): the circuit breaker counts the tasks that never pass it.
pub async fn register_checked(client: &aws_sdk_ecs::Client, family: &str, image: &str) -> String {
    let mut c = container("app", image);
    c.health_check = Some(
        aws_sdk_ecs::types::HealthCheck::builder()
            .command("CMD-SHELL")
            .command("curl -f http://localhost/ || exit 1")
            .interval(10)
            .retries(2)
            .build()
            .expect("health check"),
    );
    let out = client
        .register_task_definition()
        .family(family)
        .container_definitions(c)
        .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
        .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
        .cpu("256")
        .memory("512")
        .send()
        .await
        .expect("register");
    out.task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("arn")
        .to_string()
}

pub fn rolling_config(breaker: bool, rollback: bool) -> DeploymentConfiguration {
    DeploymentConfiguration::builder()
        .minimum_healthy_percent(100)
        .maximum_percent(200)
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(breaker)
                .rollback(rollback)
                .build(),
        )
        .build()
}

/// Create cluster `c` and service `svc` on `image`, and wait for its first rollout to complete.
pub async fn healthy_service(
    client: &aws_sdk_ecs::Client,
    svc: &str,
    image: &str,
    desired: i32,
    breaker: bool,
) -> String {
    client
        .create_cluster()
        .cluster_name("c")
        .send()
        .await
        .expect("cluster");
    let td = register(client, svc, image).await;
    client
        .create_service()
        .cluster("c")
        .service_name(svc)
        .task_definition(&td)
        .desired_count(desired)
        .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
        .deployment_configuration(rolling_config(breaker, breaker))
        .send()
        .await
        .expect("create service");
    wait_rollout(client, svc, "COMPLETED").await;
    td
}

pub async fn describe(client: &aws_sdk_ecs::Client, svc: &str) -> aws_sdk_ecs::types::Service {
    let out = client
        .describe_services()
        .cluster("c")
        .services(svc)
        .send()
        .await
        .expect("describe");
    out.services().first().cloned().expect("service present")
}

pub async fn wait_rollout(
    client: &aws_sdk_ecs::Client,
    svc: &str,
    state: &str,
) -> aws_sdk_ecs::types::Service {
    until(&format!("{svc} primary rollout {state}"), 20, || async {
        let s = describe(client, svc).await;
        let d = s.deployments().first()?;
        (d.rollout_state().map(|r| r.as_str()) == Some(state)).then_some(s.clone())
    })
    .await
}

pub async fn latest_sd(client: &aws_sdk_ecs::Client, svc: &str) -> String {
    let out = client
        .list_service_deployments()
        .cluster("c")
        .service(svc)
        .send()
        .await
        .expect("list sds");
    out.service_deployments()
        .first()
        .and_then(|b| b.service_deployment_arn())
        .expect("an sd")
        .to_string()
}

pub async fn sd(client: &aws_sdk_ecs::Client, arn: &str) -> aws_sdk_ecs::types::ServiceDeployment {
    let out = client
        .describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await
        .expect("describe sd");
    out.service_deployments()
        .first()
        .cloned()
        .expect("sd present")
}

pub async fn wait_sd(
    client: &aws_sdk_ecs::Client,
    arn: &str,
    status: &str,
) -> aws_sdk_ecs::types::ServiceDeployment {
    until(&format!("service deployment {status}"), 20, || async {
        let d = sd(client, arn).await;
        (d.status().map(|s| s.as_str()) == Some(status)).then_some(d)
    })
    .await
}

pub fn messages(s: &aws_sdk_ecs::types::Service) -> Vec<String> {
    s.events()
        .iter()
        .filter_map(|e| e.message())
        .map(str::to_string)
        .collect()
}
