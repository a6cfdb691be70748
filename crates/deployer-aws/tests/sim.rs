//! The engines against ecs-sim (high time scale), driven through explicit config.
#![recursion_limit = "512"]

use std::sync::Mutex;
use std::time::Duration;

use deployer_aws::deploy::{
    DeployReport, DeployRequest, OnFailure, Source, Status, deploy_service,
};
use deployer_aws::ecs::{Ecs, short_td};
use deployer_aws::logs::Logs;
use deployer_aws::migration::{MigrationRequest, run_migration, verdict};
use deployer_aws::rollback::{Target, resolve};
use deployer_aws::taskdef::{self, parse_images};
use deployer_aws::wait::{CauseKind, WaitUntil};
use ecs_sim::{Scenario, SimConfig, SimHandle};
use serde_json::{Value, json};

const CLUSTER: &str = "shop";

struct Bed {
    sim: SimHandle,
    ecs: Ecs,
    logs: Logs,
}

async fn bed(scenario: &str, time_scale: f64) -> Bed {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::from_yaml(scenario).expect("scenario"),
        time_scale,
        seed: 7,
    })
    .expect("sim");
    let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
    let ecs = Ecs::new(&ctx.config);
    let logs = Logs::new(&ctx.config);
    let _ = ecs
        .client
        .create_cluster()
        .cluster_name(CLUSTER)
        .send()
        .await;
    Bed { sim, ecs, logs }
}

fn td_json(family: &str, image: &str) -> Value {
    deployer_aws::testing::task_definition(family, image)
}

async fn service(b: &Bed, name: &str, image: &str, desired: i32, bluegreen: bool) -> String {
    service_with(b, name, image, desired, bluegreen, 200).await
}

async fn service_with(
    b: &Bed,
    name: &str,
    image: &str,
    desired: i32,
    bluegreen: bool,
    max_percent: i32,
) -> String {
    deployer_aws::testing::create_service(
        &b.ecs,
        CLUSTER,
        name,
        image,
        desired,
        bluegreen,
        max_percent,
    )
    .await
}

fn request(name: &str, image: &str) -> DeployRequest {
    deployer_aws::testing::deploy_request(CLUSTER, name, image)
}

struct Lines(Mutex<Vec<String>>);
impl Lines {
    fn new() -> Lines {
        Lines(Mutex::new(vec![]))
    }
    fn say(&self, s: &str) {
        eprintln!("{s}");
        self.0.lock().expect("lock").push(s.to_string());
    }
    fn all(&self) -> Vec<String> {
        self.0.lock().expect("lock").clone()
    }
}

async fn deploy(b: &Bed, req: &DeployRequest) -> (DeployReport, Vec<String>) {
    let lines = Lines::new();
    let say = |s: &str| lines.say(s);
    let r = deploy_service(&b.ecs, &b.logs, req, &say)
        .await
        .expect("deploy ran");
    (r, lines.all())
}

const SCENARIO: &str = r#"
default: {kind: healthy, start-after: 10}
images:
  "repo/api:crash": {kind: crash-loop, start-after: 2, after: 3, exit-code: 3, logs: ["starting api", "FATAL: cannot connect to database db:5432"]}
  "repo/api:pull": {kind: pull-failure, reason: "CannotPullContainerError: pull access denied for repo/api"}
  "repo/api:full": {kind: unplaceable}
  "repo/api:slow": {kind: healthy, start-after: 600}
  "repo/api:migrate-ok": {kind: exits, exit-code: 0, after: 5, logs: ["INFO  [alembic] Running upgrade a -> b", "INFO  [alembic] Running upgrade b -> c", "done"]}
  "repo/api:migrate-bad": {kind: exits, exit-code: 3, after: 5, logs: ["INFO  [alembic] Running upgrade a -> b", "ERROR duplicate column"]}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_rolling_deploy_succeeds_and_rerun_is_a_no_op() {
    let b = bed(SCENARIO, 30.0).await;
    let v1 = service(&b, "api", "repo/api:v1", 2, false).await;
    let (r, lines) = deploy(&b, &request("api", "repo/api:v2")).await;
    assert_eq!(r.status, Status::Succeeded, "{lines:?}");
    assert!(r.registered);
    assert_eq!(r.previous_task_definition_arn, v1);
    assert!(
        r.service_deployment_arn.contains("service-deployment"),
        "{}",
        r.service_deployment_arn
    );
    let svc = b.ecs.describe_service(CLUSTER, "api").await.expect("svc");
    assert_eq!(svc.task_definition, r.task_definition_arn);
    // Same image again: no new revision, no new deployment.
    let (again, _) = deploy(&b, &request("api", "repo/api:v2")).await;
    assert_eq!(again.status, Status::Unchanged);
    assert!(!again.registered);
    assert_eq!(again.task_definition_arn, r.task_definition_arn);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop_fails_fast_with_exit_code_and_logs_then_rolls_back() {
    // Tasks replaced one at a time (max 125 %): the breaker needs 3 sequential failures.
    let b = bed(SCENARIO, 10.0).await;
    let v1 = service_with(&b, "api", "repo/api:v1", 4, false, 125).await;
    let (r, lines) = deploy(&b, &request("api", "repo/api:crash")).await;
    assert_eq!(r.status, Status::Failed, "{lines:?}");
    let cause = r.cause.clone().expect("cause");
    assert_eq!(cause.kind, CauseKind::ContainerExited, "{cause:?}");
    assert!(
        cause.summary.contains("exited with code 3"),
        "{}",
        cause.summary
    );
    assert!(
        r.log_lines
            .iter()
            .any(|l| l.contains("FATAL: cannot connect to database")),
        "{:?}",
        r.log_lines
    );
    // Decided on the first crash, before ECS's breaker (threshold 3) could trip.
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("ECS is already rolling back")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("StopServiceDeployment(ROLLBACK)")),
        "{lines:?}"
    );
    let rb = r.rollback.clone().expect("rolled back");
    assert!(rb.ok, "{rb:?}");
    assert_eq!(rb.to_task_definition.as_deref(), Some(v1.as_str()));
    assert!(r.explain().contains("FATAL"), "{}", r.explain());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn circuit_breaker_rollback_is_a_failure() {
    let b = bed(SCENARIO, 30.0).await;
    service(&b, "api", "repo/api:v1", 2, false).await;
    // Give the service a container health check first, as a service that relies on the
    // circuit breaker needs on AWS: without one, a crash after RUNNING is not counted.
    let mut td = td_json("api", "repo/api:v1");
    td["containerDefinitions"][0]["healthCheck"] = json!({"command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"], "interval": 10, "retries": 2});
    let v1 = b.ecs.register_task_definition(&td).await.expect("register");
    b.ecs
        .update_service(CLUSTER, "api", &v1, None, false)
        .await
        .expect("update");
    for _ in 0..600 {
        let s = b.ecs.describe_service(CLUSTER, "api").await.expect("svc");
        if s.task_definition == v1 && s.deployments.len() == 1 && s.running == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut req = request("api", "repo/api:crash");
    req.watch.judge.max_task_failures = 1000; // let ECS's breaker decide
    let (r, lines) = deploy(&b, &req).await;
    assert_eq!(r.status, Status::Failed, "{lines:?}");
    let kind = r.cause.as_ref().map(|c| c.kind);
    assert!(
        matches!(
            kind,
            Some(CauseKind::CircuitBreaker) | Some(CauseKind::RolledBack)
        ),
        "{kind:?}"
    );
    let svc = b.ecs.describe_service(CLUSTER, "api").await.expect("svc");
    assert_eq!(svc.task_definition, v1);
    assert!(
        r.rollback.as_ref().is_some_and(|x| x.ok),
        "{:?}",
        r.rollback
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_failure_unplaceable_and_superseded_have_their_own_verdicts() {
    let b = bed(SCENARIO, 30.0).await;
    service(&b, "api", "repo/api:v1", 2, false).await;
    let (r, lines) = deploy(&b, &request("api", "repo/api:pull")).await;
    assert_eq!(
        r.cause.as_ref().map(|c| c.kind),
        Some(CauseKind::TaskFailedToStart),
        "{lines:?}"
    );
    assert!(
        r.cause
            .as_ref()
            .is_some_and(|c| c.summary.contains("CannotPullContainerError")),
        "{:?}",
        r.cause
    );

    let mut req = request("api", "repo/api:full");
    req.watch.judge.unplaceable_grace = Duration::from_secs(1);
    let (r, lines) = deploy(&b, &req).await;
    assert_eq!(
        r.cause.as_ref().map(|c| c.kind),
        Some(CauseKind::Unplaceable),
        "{lines:?}"
    );

    // Superseded: another update lands while ours rolls out.
    let other = b
        .ecs
        .register_task_definition(&td_json("api", "repo/api:v9"))
        .await
        .expect("register");
    let ecs2 = b.ecs.clone();
    let bg = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        ecs2.update_service(CLUSTER, "api", &other, None, false)
            .await
            .expect("other update");
    });
    let (r, lines) = deploy(&b, &request("api", "repo/api:slow")).await;
    bg.await.expect("bg");
    assert_eq!(r.status, Status::Failed, "{lines:?}");
    assert_eq!(
        r.cause.as_ref().map(|c| c.kind),
        Some(CauseKind::Superseded),
        "{lines:?}"
    );
    assert!(
        r.rollback.is_none(),
        "a superseded deploy must not roll back the newer one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blue_green_stops_at_test_traffic_then_continues() {
    let b = bed(SCENARIO, 30.0).await;
    service(&b, "web", "repo/api:v1", 2, true).await;
    let mut req = request("web", "repo/api:v2");
    req.watch.judge.wait_until = WaitUntil::TestTraffic;
    let (r, lines) = deploy(&b, &req).await;
    assert_eq!(r.status, Status::Reached, "{lines:?}");
    assert!(r.hook_id.is_some(), "{r:?}");
    assert_eq!(r.stage.as_deref(), Some("POST_TEST_TRAFFIC_SHIFT"));
    let mut cont = request("web", "repo/api:v2");
    cont.continue_deployment = true;
    let (r2, lines) = deploy(&b, &cont).await;
    assert_eq!(r2.status, Status::Succeeded, "{lines:?}");
    assert_eq!(r2.task_definition_arn, r.task_definition_arn);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_streams_every_line_and_returns_the_exit_code() {
    let b = bed(SCENARIO, 30.0).await;
    service(&b, "api", "repo/api:v1", 1, false).await;
    for (image, code, expect) in [
        (
            "repo/api:migrate-ok",
            0u8,
            vec!["Running upgrade a -> b", "Running upgrade b -> c", "done"],
        ),
        (
            "repo/api:migrate-bad",
            3u8,
            vec!["Running upgrade a -> b", "ERROR duplicate column"],
        ),
    ] {
        let lines = Lines::new();
        let say = |s: &str| lines.say(s);
        let req = MigrationRequest {
            cluster: CLUSTER.into(),
            service: "api".into(),
            images: parse_images(&format!("api={image}")).expect("img"),
            default_containers: vec![],
            container: None,
            command: vec!["alembic".into(), "upgrade".into(), "head".into()],
            timeout: Duration::from_secs(60),
            poll_interval: Duration::from_millis(200),
            client_token: Some(format!("run-1-{code}")),
        };
        let rep = run_migration(&b.ecs, &b.logs, &req, &say, std::future::pending())
            .await
            .expect("ran");
        assert!(
            rep.task_definition_arn.contains("api-migrate:"),
            "{}",
            rep.task_definition_arn
        );
        let all = lines.all();
        for e in &expect {
            assert_eq!(
                all.iter().filter(|l| l.contains(e)).count(),
                1,
                "{e} exactly once in {all:?}"
            );
        }
        let v = verdict(&rep);
        if code == 0 {
            assert!(v.is_ok());
        } else {
            assert_eq!(v.expect_err("fails").exit_code(), code);
        }
    }
    // The migrate family never touched the service's family.
    let svc = b.ecs.describe_service(CLUSTER, "api").await.expect("svc");
    assert!(!svc.task_definition.contains("migrate"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_picks_the_last_successful_revision() {
    let b = bed(SCENARIO, 30.0).await;
    let v1 = service(&b, "api", "repo/api:v1", 2, false).await;
    let (r2, _) = deploy(&b, &request("api", "repo/api:v2")).await;
    assert_eq!(r2.status, Status::Succeeded);
    let (r3, _) = deploy(&b, &request("api", "repo/api:v3")).await;
    assert_eq!(r3.status, Status::Succeeded);
    // A failed deploy (rolled back to v3) and stray revisions registered afterwards.
    let (bad, _) = deploy(&b, &request("api", "repo/api:crash")).await;
    assert_eq!(bad.status, Status::Failed);
    b.ecs
        .register_task_definition(&td_json("api", "repo/api:unused"))
        .await
        .expect("stray");
    b.ecs
        .register_task_definition(&td_json("api-migrate", "repo/api:v3"))
        .await
        .expect("migrate");
    let svc = b.ecs.describe_service(CLUSTER, "api").await.expect("svc");
    assert_eq!(svc.task_definition, r3.task_definition_arn);
    let target = resolve(&b.ecs, CLUSTER, &svc, &Target::Auto)
        .await
        .expect("resolve");
    assert_eq!(
        target.task_definition, r2.task_definition_arn,
        "{}",
        target.why
    );
    let by_tag = resolve(&b.ecs, CLUSTER, &svc, &Target::ImageTag("v1".into()))
        .await
        .expect("tag");
    assert_eq!(by_tag.task_definition, v1);
    let rev = deployer_aws::ecs::revision_of_arn(&v1).expect("rev");
    let by_rev = resolve(&b.ecs, CLUSTER, &svc, &Target::Revision(rev))
        .await
        .expect("rev");
    assert_eq!(by_rev.task_definition, v1);
    assert!(
        resolve(&b.ecs, CLUSTER, &svc, &Target::ImageTag("v404".into()))
            .await
            .is_err()
    );
    // Deploy it back with the same engine.
    let mut back = request("api", "unused");
    back.images.clear();
    back.source = Source::Existing(target.task_definition.clone());
    let (r, lines) = deploy(&b, &back).await;
    assert_eq!(r.status, Status::Succeeded, "{lines:?}");
    assert_eq!(
        short_td(&r.task_definition_arn),
        short_td(&r2.task_definition_arn)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_server_errors_do_not_change_the_verdict() {
    let faulty = format!("{SCENARIO}\nfaults: {{throttle-rate: 0.15, error-rate: 0.1}}\n");
    let b = bed(&faulty, 10.0).await;
    service_with(&b, "api", "repo/api:v1", 4, false, 125).await;
    let (ok, lines) = deploy(&b, &request("api", "repo/api:v2")).await;
    assert_eq!(ok.status, Status::Succeeded, "{lines:?}");
    let (bad, lines) = deploy(&b, &request("api", "repo/api:crash")).await;
    assert_eq!(bad.status, Status::Failed, "{lines:?}");
    let cause = bad.cause.clone().expect("cause");
    assert!(cause.summary.contains("exited with code 3"), "{cause:?}");
    assert!(
        bad.rollback.as_ref().is_some_and(|r| r.ok),
        "{:?}",
        bad.rollback
    );
    assert!(b.sim.total_calls() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_definition_round_trip_keeps_every_field() {
    let b = bed("", 30.0).await;
    let full = json!({
        "family": "everything",
        "taskRoleArn": "arn:aws:iam::123456789012:role/task",
        "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE", "EC2"],
        "cpu": "1024",
        "memory": "2048",
        "pidMode": "task",
        "ipcMode": "task",
        "enableFaultInjection": true,
        "ephemeralStorage": {"sizeInGiB": 50},
        "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        "proxyConfiguration": {"type": "APPMESH", "containerName": "envoy", "properties": [{"name": "IgnoredUID", "value": "1337"}]},
        "inferenceAccelerators": [{"deviceName": "d1", "deviceType": "eia2.medium"}],
        "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.availability-zone in [us-east-1a]"}],
        "volumes": [
            {"name": "data", "host": {"sourcePath": "/data"}},
            {"name": "efs", "efsVolumeConfiguration": {"fileSystemId": "fs-1", "rootDirectory": "/", "transitEncryption": "ENABLED",
                "authorizationConfig": {"accessPointId": "fsap-1", "iam": "ENABLED"}}},
            {"name": "docker", "dockerVolumeConfiguration": {"scope": "shared", "autoprovision": true, "driver": "local",
                "driverOpts": {"type": "nfs"}, "labels": {"a": "b"}}},
            {"name": "fsx", "fsxWindowsFileServerVolumeConfiguration": {"fileSystemId": "fs-2", "rootDirectory": "share",
                "authorizationConfig": {"credentialsParameter": "arn:aws:ssm:us-east-1:1:parameter/x", "domain": "corp"}}},
            {"name": "ebs", "configuredAtLaunch": true}
        ],
        "tags": [{"key": "team", "value": "core"}],
        "containerDefinitions": [{
            "name": "api", "image": "repo/api:v1", "repositoryCredentials": {"credentialsParameter": "arn:aws:secretsmanager:us-east-1:1:secret:x"},
            "cpu": 512, "memory": 1024, "memoryReservation": 512, "links": ["db"],
            "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp", "name": "http", "appProtocol": "http",
                "containerPortRange": "8000-8010"}],
            "essential": true, "restartPolicy": {"enabled": true, "ignoredExitCodes": [0], "restartAttemptPeriod": 60},
            "entryPoint": ["/bin/sh"], "command": ["-c", "serve"],
            "environment": [{"name": "A", "value": "1"}],
            "environmentFiles": [{"value": "arn:aws:s3:::bucket/env", "type": "s3"}],
            "mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": true}],
            "volumesFrom": [{"sourceContainer": "side", "readOnly": false}],
            "linuxParameters": {"capabilities": {"add": ["SYS_PTRACE"], "drop": ["NET_RAW"]}, "devices": [{"hostPath": "/dev/x", "containerPath": "/dev/x", "permissions": ["read"]}],
                "initProcessEnabled": true, "sharedMemorySize": 64, "tmpfs": [{"containerPath": "/tmp", "size": 64, "mountOptions": ["rw"]}],
                "maxSwap": 0, "swappiness": 60},
            "secrets": [{"name": "DB", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/db"}],
            "dependsOn": [{"containerName": "side", "condition": "START"}],
            "startTimeout": 30, "stopTimeout": 30, "versionConsistency": "disabled",
            "hostname": "api", "user": "1000", "workingDirectory": "/app",
            "disableNetworking": false, "privileged": false, "readonlyRootFilesystem": true,
            "dnsServers": ["10.0.0.2"], "dnsSearchDomains": ["corp"], "extraHosts": [{"hostname": "h", "ipAddress": "10.0.0.9"}],
            "dockerSecurityOptions": ["no-new-privileges"], "interactive": false, "pseudoTerminal": false,
            "dockerLabels": {"l": "v"}, "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}],
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/e", "awslogs-stream-prefix": "ecs"},
                "secretOptions": [{"name": "k", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/k"}]},
            "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 10, "timeout": 5, "retries": 3, "startPeriod": 5},
            "systemControls": [{"namespace": "net.core.somaxconn", "value": "1024"}],
            "resourceRequirements": [{"value": "1", "type": "GPU"}],
            "firelensConfiguration": {"type": "fluentbit", "options": {"enable-ecs-log-metadata": "true"}},
            "credentialSpecs": ["credentialspecdomainless:arn:aws:s3:::bucket/spec"],
            "someFieldTheSdkDoesNotKnowYet": {"kept": true}
        }, {"name": "side", "image": "repo/side:v1", "essential": false}]
    });
    let arn = b
        .ecs
        .register_task_definition(&full)
        .await
        .expect("register");
    let described = b
        .ecs
        .describe_task_definition_raw(&arn)
        .await
        .expect("describe");
    let back = taskdef::to_register_input(&described).expect("input");
    assert_eq!(
        taskdef::normalize(&back),
        taskdef::normalize(&full),
        "round trip lost or changed a field"
    );
    assert!(taskdef::is_same(&described, &full));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_is_never_success_and_says_what_next() {
    let b = bed(SCENARIO, 5.0).await;
    service(&b, "api", "repo/api:v1", 1, false).await;
    let mut req = request("api", "repo/api:slow");
    req.on_failure = OnFailure::Leave;
    req.watch.judge.timeout = Duration::from_secs(1);
    let (r, lines) = deploy(&b, &req).await;
    assert_eq!(r.status, Status::TimedOut, "{lines:?}");
    let next = r.next_step.clone().unwrap_or_default();
    assert!(
        next.contains("still in progress")
            && next.contains("IN_PROGRESS")
            && next.contains("rollback"),
        "{next}"
    );
    assert!(r.rollback.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_migration_stops_its_task() {
    // ×5: the service's first rollout takes ~50 simulated s on the realistic profile (start,
    // then the 40-second rule), inside the harness's 30 real seconds; the one-off task still
    // needs 600 s to start, far beyond the 0.7 s cancel.
    let b = bed(SCENARIO, 5.0).await;
    service(&b, "api", "repo/api:v1", 1, false).await;
    let lines = Lines::new();
    let say = |s: &str| lines.say(s);
    let req = MigrationRequest {
        cluster: CLUSTER.into(),
        service: "api".into(),
        images: parse_images("api=repo/api:slow").expect("img"),
        default_containers: vec![],
        container: None,
        command: vec!["sleep".into(), "600".into()],
        timeout: Duration::from_secs(60),
        poll_interval: Duration::from_millis(100),
        client_token: None,
    };
    let cancel = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        "SIGTERM"
    };
    let err = run_migration(&b.ecs, &b.logs, &req, &say, cancel)
        .await
        .expect_err("cancelled");
    let text = err.to_string();
    assert!(
        text.contains("cancelled (SIGTERM)") && text.contains("was stopped"),
        "{text}"
    );
    assert_eq!(err.exit_code(), 1);
    assert!(b.sim.call_count("StopTask") >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_deploy_services_are_reported_clearly() {
    let b = bed(SCENARIO, 30.0).await;
    let arn = b
        .ecs
        .register_task_definition(&td_json("cd", "repo/api:v1"))
        .await
        .expect("register");
    b.ecs
        .client
        .create_service()
        .cluster(CLUSTER)
        .service_name("cd")
        .task_definition(&arn)
        .desired_count(1)
        .deployment_controller(
            aws_sdk_ecs::types::DeploymentController::builder()
                .r#type(aws_sdk_ecs::types::DeploymentControllerType::CodeDeploy)
                .build()
                .expect("controller"),
        )
        .send()
        .await
        .expect("create");
    let lines = Lines::new();
    let say = |s: &str| lines.say(s);
    let err = deploy_service(&b.ecs, &b.logs, &request("cd", "repo/api:v2"), &say)
        .await
        .expect_err("unsupported");
    assert_eq!(
        deployer_core::Classify::kind(&err),
        deployer_core::ErrorKind::BadInput
    );
    assert!(err.to_string().contains("CODE_DEPLOY"), "{err}");
}
