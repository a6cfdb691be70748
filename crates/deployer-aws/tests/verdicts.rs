//! Verdicts that were wrong when deployer was tried outside its test suite (issue 18), each
//! reproduced against ecs-sim first: a forced redeploy over an old crash, a fix after a
//! circuit-breaker failure with rollback off, a timeout on a healthy deployment, and a
//! deploy to a desired count of 0.

use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_ecs::types as t;
use deployer_aws::deploy::{DeployReport, DeployRequest, OnFailure, Status, deploy_service};
use deployer_aws::ecs::Ecs;
use deployer_aws::logs::Logs;
use deployer_aws::states::{RolloutState, StopCode, TaskStatus};
use deployer_aws::wait::CauseKind;
use ecs_sim::{Scenario, SimConfig, SimHandle};

const CLUSTER: &str = "shop";

const SCENARIO: &str = r#"
default: {kind: healthy, start-after: 5}
images:
  "repo/api:crash": {kind: crash-loop, start-after: 2, after: 3, exit-code: 3, logs: ["FATAL: no DATABASE_URL"]}
  "repo/api:oom": {kind: dies-after, start-after: 5, after: 60, exit-code: 137}
  "repo/api:slow": {kind: healthy, start-after: 600}
"#;

struct Bed {
    sim: SimHandle,
    ecs: Ecs,
    logs: Logs,
}

async fn bed(time_scale: f64) -> Bed {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::from_yaml(SCENARIO).expect("scenario"),
        time_scale,
        seed: 11,
    })
    .expect("sim");
    let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
    let ecs = Ecs::new(&ctx.config);
    let logs = Logs::new(&ctx.config);
    Bed { sim, ecs, logs }
}

/// A FARGATE service with the circuit breaker on, `rollback` as given.
async fn service(b: &Bed, image: &str, desired: i32, breaker_rollback: bool) -> String {
    if breaker_rollback {
        return deployer_aws::testing::create_service(
            &b.ecs, CLUSTER, "api", image, desired, false, 200,
        )
        .await;
    }
    let _ = b
        .ecs
        .client
        .create_cluster()
        .cluster_name(CLUSTER)
        .send()
        .await;
    // A service that relies on the circuit breaker needs a container health check on AWS:
    // without one, a task that crashes after reaching RUNNING is not counted as a failure
    // (developer guide, "How the Amazon ECS deployment circuit breaker detects failures").
    let mut td = deployer_aws::testing::task_definition("api", image);
    td["containerDefinitions"][0]["healthCheck"] = serde_json::json!({
        "command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
        "interval": 10,
        "retries": 2
    });
    let arn = b.ecs.register_task_definition(&td).await.expect("register");
    let dc = t::DeploymentConfiguration::builder()
        .deployment_circuit_breaker(
            t::DeploymentCircuitBreaker::builder()
                .enable(true)
                .rollback(false)
                .build(),
        )
        .maximum_percent(200)
        .minimum_healthy_percent(100)
        .build();
    b.ecs
        .client
        .create_service()
        .cluster(CLUSTER)
        .service_name("api")
        .task_definition(&arn)
        .desired_count(desired)
        .launch_type(t::LaunchType::Fargate)
        .network_configuration(
            t::NetworkConfiguration::builder()
                .awsvpc_configuration(
                    t::AwsVpcConfiguration::builder()
                        .subnets("subnet-1")
                        .build()
                        .expect("vpc"),
                )
                .build(),
        )
        .deployment_configuration(dc)
        .send()
        .await
        .expect("create service");
    for _ in 0..600 {
        let s = b.ecs.describe_service(CLUSTER, "api").await.expect("svc");
        let steady = s
            .primary()
            .is_some_and(|p| p.rollout_state == Some(RolloutState::Completed));
        if s.running == desired && s.deployments.len() == 1 && steady {
            return arn;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the first deployment never finished");
}

struct Lines(Mutex<Vec<String>>);

async fn deploy(b: &Bed, req: &DeployRequest) -> (DeployReport, Vec<String>) {
    let lines = Lines(Mutex::new(vec![]));
    let say = |s: &str| {
        eprintln!("{s}");
        lines.0.lock().expect("lock").push(s.to_string());
    };
    let r = deploy_service(&b.ecs, &b.logs, req, &say)
        .await
        .expect("deploy ran");
    let all = lines.0.lock().expect("lock").clone();
    (r, all)
}

fn request(image: &str) -> DeployRequest {
    deployer_aws::testing::deploy_request(CLUSTER, "api", image)
}

/// Waits (bounded) until the service has a task of its revision that crashed.
async fn until_a_task_crashed(b: &Bed) {
    for _ in 0..600 {
        let arns = b
            .ecs
            .stopped_task_arns(CLUSTER, "api")
            .await
            .unwrap_or_default();
        if !arns.is_empty() {
            let tasks = b.ecs.describe_tasks(CLUSTER, &arns).await.expect("tasks");
            if tasks.iter().any(|t| {
                t.last_status == TaskStatus::Stopped
                    && t.stop_code == Some(StopCode::EssentialContainerExited)
            }) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no task of the service ever crashed");
}

/// `ecs-deploy --force-new-deployment` (a restart, same revision) on a service that had a
/// task OOM-killed earlier: ECS still lists that task as STOPPED, but it is not one of this
/// deployment's. It used to fail at the first poll and roll back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_redeploy_over_an_old_crash_of_the_same_revision_succeeds() {
    let b = bed(30.0).await;
    let v1 = service(&b, "repo/api:oom", 1, true).await;
    until_a_task_crashed(&b).await;
    let mut req = request("repo/api:oom");
    req.force_new_deployment = true;
    let (r, lines) = deploy(&b, &req).await;
    assert_eq!(r.status, Status::Succeeded, "{lines:?}");
    assert_eq!(r.task_definition_arn, v1, "same revision, restarted");
    assert!(r.rollback.is_none(), "{:?}", r.rollback);
    assert_eq!(b.sim.call_count("StopServiceDeployment"), 0);
}

/// The circuit breaker with rollback off leaves the FAILED deployment beside the ACTIVE one.
/// The first deploy fails with the breaker as its cause and the crash; the fix deploys over
/// it (it used to wait for "another deployment in progress" until its timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fix_after_a_circuit_breaker_failure_without_rollback_deploys() {
    let b = bed(30.0).await;
    let v1 = service(&b, "repo/api:v1", 2, false).await;
    let mut bad = request("repo/api:crash");
    bad.watch.judge.max_task_failures = 1000; // let ECS's breaker decide
    bad.on_failure = OnFailure::Leave;
    let (r, lines) = deploy(&b, &bad).await;
    assert_eq!(r.status, Status::Failed, "{lines:?}");
    let cause = r.cause.clone().expect("cause");
    assert_eq!(cause.kind, CauseKind::CircuitBreaker, "{cause:?}");
    assert!(
        cause.summary.contains("exited with code 3"),
        "{}",
        cause.summary
    );
    assert!(
        r.explain().contains("FATAL: no DATABASE_URL"),
        "{}",
        r.explain()
    );

    let mut fix = request("repo/api:v2");
    fix.watch.judge.timeout = Duration::from_secs(30);
    let (r, lines) = deploy(&b, &fix).await;
    assert_eq!(r.status, Status::Succeeded, "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("FAILED") && l.contains("fix-forward")),
        "says what it found: {lines:?}"
    );
    assert_eq!(
        r.previous_task_definition_arn, v1,
        "what served before the fix is the revision a rollback goes back to"
    );
    let svc = b.ecs.describe_service(CLUSTER, "api").await.expect("svc");
    assert_eq!(svc.task_definition, r.task_definition_arn);
}

/// A deployment still healthy and in progress at the timeout is left alone by default,
/// reported as timed out with the commands to go on, and `--watch` then follows it to its
/// verdict without sending ECS anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_leaves_a_healthy_deployment_alone_and_watch_follows_it_to_the_end() {
    let b = bed(60.0).await;
    service(&b, "repo/api:v1", 1, true).await;
    let mut req = request("repo/api:slow");
    assert_eq!(
        req.on_failure,
        OnFailure::Rollback,
        "failures still roll back"
    );
    req.on_timeout = OnFailure::Leave;
    req.watch.judge.timeout = Duration::from_secs(2);
    let (r, lines) = deploy(&b, &req).await;
    assert_eq!(r.status, Status::TimedOut, "{lines:?}");
    assert!(r.rollback.is_none(), "left alone: {:?}", r.rollback);
    assert_eq!(b.sim.call_count("StopServiceDeployment"), 0);
    let next = r.next_step.clone().unwrap_or_default();
    for words in [
        "still in progress",
        "nothing has failed",
        "ecs-deploy --watch --cluster shop --service api",
        "rollback --cluster shop --service api",
    ] {
        assert!(next.contains(words), "`{words}` in: {next}");
    }

    let mut watch = request("repo/api:slow");
    watch.images = vec![];
    watch.continue_deployment = true;
    watch.watch_only = true;
    watch.watch.judge.timeout = Duration::from_secs(60);
    let (w, lines) = deploy(&b, &watch).await;
    assert_eq!(w.status, Status::Succeeded, "{lines:?}");
    assert_eq!(w.service_deployment_arn, r.service_deployment_arn);
    assert_eq!(b.sim.call_count("ContinueServiceDeployment"), 0);
    assert_eq!(b.sim.call_count("StopServiceDeployment"), 0);
}

/// `--on-timeout rollback` still rolls a slow deployment back when asked to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_timeout_rollback_rolls_back() {
    let b = bed(60.0).await;
    let v1 = service(&b, "repo/api:v1", 1, true).await;
    let mut req = request("repo/api:slow");
    req.on_timeout = OnFailure::Rollback;
    req.watch.judge.timeout = Duration::from_secs(2);
    let (r, lines) = deploy(&b, &req).await;
    assert_eq!(r.status, Status::TimedOut, "{lines:?}");
    assert!(
        r.next_step
            .as_deref()
            .is_some_and(|n| n.contains("--on-timeout rollback")),
        "{:?}",
        r.next_step
    );
    let rb = r.rollback.clone().expect("rolled back");
    assert!(rb.ok, "{rb:?}");
    assert_eq!(rb.to_task_definition.as_deref(), Some(v1.as_str()));
}

/// Desired count 0: ECS completes the deployment without starting a task, so a crashing
/// image "deploys". That is said, not called "deployed and serving".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_to_desired_count_zero_says_no_task_ran() {
    let b = bed(30.0).await;
    service(&b, "repo/api:v1", 0, true).await;
    let (r, lines) = deploy(&b, &request("repo/api:crash")).await;
    assert_eq!(r.status, Status::NoTasks, "{lines:?}");
    assert!(r.status.ok(), "ECS did what was asked");
    let next = r.next_step.clone().unwrap_or_default();
    assert!(
        next.contains("desired count is 0") && next.contains("no task ran"),
        "{next}"
    );
}

/// `--timeout auto`: the timeout comes from the service's configuration and is said first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_automatic_timeout_is_stated_before_the_deploy() {
    let b = bed(30.0).await;
    service(&b, "repo/api:v1", 2, true).await;
    let mut req = request("repo/api:v2");
    req.watch.auto_timeout = true;
    let (r, lines) = deploy(&b, &req).await;
    assert_eq!(r.status, Status::Succeeded, "{lines:?}");
    let first = lines.first().cloned().unwrap_or_default();
    assert!(
        first.contains("timeout 15m") && first.contains("ROLLING: 2 task(s) in 1 batch(es)"),
        "{lines:?}"
    );
}

/// A task definition whose container health check always fails (`CMD-SHELL exit 1`): the
/// tasks reach RUNNING, then ECS stops them ("Task failed container health checks"). It
/// used to deploy "succeeded" in 3 s on a simulator that ignored health checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_container_health_check_fails_with_the_health_check_cause() {
    let b = bed(30.0).await;
    let v1 = service(&b, "repo/api:v1", 2, true).await;
    let mut td = deployer_aws::testing::task_definition("api", "repo/api:v2");
    td["containerDefinitions"][0]["healthCheck"] = serde_json::json!({
        "command": ["CMD-SHELL", "exit 1"],
        "interval": 5,
        "retries": 2
    });
    let mut req = request("repo/api:v2");
    req.source = deployer_aws::deploy::Source::File(td);
    let (r, lines) = deploy(&b, &req).await;
    assert_eq!(r.status, Status::Failed, "{lines:?}");
    let cause = r.cause.clone().expect("cause");
    assert_eq!(cause.kind, CauseKind::HealthCheck, "{cause:?}");
    assert!(cause.summary.contains("health checks"), "{}", cause.summary);
    let rb = r.rollback.clone().expect("rolled back");
    assert!(rb.ok, "{rb:?}");
    assert_eq!(rb.to_task_definition.as_deref(), Some(v1.as_str()));
}
