//! The real `aws` CLI and boto3 from the project virtualenv against ecs-sim.

mod common;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::*;

fn aws_env(cmd: &mut Command, endpoint: &str) {
    cmd.env("AWS_ENDPOINT_URL_ECS", endpoint)
        .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", endpoint)
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "SECRETTEST")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL");
}

fn wait_stable(
    aws: &std::path::Path,
    endpoint: &str,
    service: &str,
    timeout_secs: u64,
) -> (Output, Duration) {
    let mut cmd = Command::new("timeout");
    cmd.arg(timeout_secs.to_string()).arg(aws).args([
        "ecs",
        "wait",
        "services-stable",
        "--cluster",
        "c",
        "--services",
        service,
    ]);
    aws_env(&mut cmd, endpoint);
    let start = Instant::now();
    let out = cmd.output().expect("run aws");
    (out, start.elapsed())
}

#[test]
fn aws_cli_waiter_succeeds_on_healthy_rollout_and_keeps_waiting_on_crash_loop() {
    let Some(aws) = deployer_testbed::venv_tool("aws") else {
        return;
    };
    // A slow clock for the healthy case: the task is RUNNING ~30 simulated s (10 real s) after
    // the service is created, so the waiter's first poll sees it unstable and a later poll
    // (15 s on) sees it stable.
    let slow = sim("", 3.0);
    let fast = sim("images:\n  'app:crash': {kind: crash-loop}\n", 100.0);
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let c = ecs(&slow);
        c.create_cluster()
            .cluster_name("c")
            .send()
            .await
            .expect("cluster");
        let td = register(&c, "ok", "app:v1").await;
        c.create_service()
            .cluster("c")
            .service_name("ok")
            .task_definition(&td)
            .desired_count(1)
            .send()
            .await
            .expect("svc");
        let c = ecs(&fast);
        healthy_service(&c, "bad", "app:v1", 1, false).await;
        let td = register(&c, "bad", "app:crash").await;
        c.update_service()
            .cluster("c")
            .service("bad")
            .task_definition(&td)
            .send()
            .await
            .expect("update");
    });
    let (slow_ep, fast_ep) = (slow.endpoint(), fast.endpoint());
    let aws2 = aws.clone();
    let crash = std::thread::spawn(move || wait_stable(&aws2, &fast_ep, "bad", 20));
    let (ok, took) = wait_stable(&aws, &slow_ep, "ok", 60);
    assert!(
        ok.status.success(),
        "waiter failed on a healthy rollout: {:?}\n{}",
        ok.status,
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        took >= Duration::from_secs(10),
        "the waiter should have polled more than once ({took:?})"
    );
    assert!(slow.call_count("DescribeServices") >= 2);

    let (bad, took) = crash.join().expect("thread");
    assert!(
        !bad.status.success(),
        "waiter returned success on a crash-looping service"
    );
    // `timeout` exits 124 when the waiter was still waiting.
    assert_eq!(
        bad.status.code(),
        Some(124),
        "stderr: {}",
        String::from_utf8_lossy(&bad.stderr)
    );
    assert!(took >= Duration::from_secs(19));
    assert!(
        fast.call_count("DescribeServices") >= 2,
        "the waiter polled again"
    );
}

#[test]
fn boto3_smoke() {
    let Some(python) = deployer_testbed::venv_tool("python") else {
        return;
    };
    let sim = sim(
        "images:\n  'job:*': {kind: exits, exit-code: 4, after: 3, logs: [hello]}\n",
        300.0,
    );
    let script = r#"
import os, sys, time, boto3
ep = os.environ["SIM"]
kw = dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
ecs = boto3.client("ecs", **kw)
logs = boto3.client("logs", **kw)
ecs.create_cluster(clusterName="c")
lc = {"logDriver": "awslogs", "options": {"awslogs-group": "/g", "awslogs-stream-prefix": "p", "awslogs-region": "us-east-1"}}
td = ecs.register_task_definition(family="web", containerDefinitions=[{"name": "web", "image": "app:v1", "logConfiguration": lc}],
    tags=[{"key": "k", "value": "v"}])["taskDefinition"]
assert td["revision"] == 1, td
ecs.create_service(cluster="c", serviceName="web", taskDefinition="web", desiredCount=2,
    deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
for _ in range(200):
    s = ecs.describe_services(cluster="c", services=["web"])["services"][0]
    if s["deployments"][0]["rolloutState"] == "COMPLETED":
        break
    time.sleep(0.02)
assert s["runningCount"] == 2, s
assert s["events"][0]["message"] == "(service web) has reached a steady state.", s["events"]
sds = ecs.list_service_deployments(cluster="c", service="web")["serviceDeployments"]
d = ecs.describe_service_deployments(serviceDeploymentArns=[sds[0]["serviceDeploymentArn"]])["serviceDeployments"][0]
assert d["status"] == "SUCCESSFUL", d
assert d["deploymentCircuitBreaker"]["threshold"] == 3, d
ecs.get_waiter("services_stable").wait(cluster="c", services=["web"], WaiterConfig={"Delay": 1, "MaxAttempts": 3})
job = ecs.register_task_definition(family="job", containerDefinitions=[{"name": "job", "image": "job:1", "logConfiguration": lc}])["taskDefinition"]
t = ecs.run_task(cluster="c", taskDefinition=job["taskDefinitionArn"])["tasks"][0]
for _ in range(200):
    t = ecs.describe_tasks(cluster="c", tasks=[t["taskArn"]])["tasks"][0]
    if t["lastStatus"] == "STOPPED":
        break
    time.sleep(0.02)
assert t["containers"][0]["exitCode"] == 4, t
tid = t["taskArn"].rsplit("/", 1)[1]
ev = logs.get_log_events(logGroupName="/g", logStreamName=f"p/job/{tid}", startFromHead=True)["events"]
assert [e["message"] for e in ev] == ["hello"], ev
try:
    ecs.describe_task_definition(taskDefinition="nope")
    raise SystemExit("expected an error")
except ecs.exceptions.ClientException:
    pass
print("BOTO3-OK")
"#;
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .env("SIM", sim.endpoint())
        .output()
        .expect("python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("BOTO3-OK"),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
