//! A cancelled workflow (SIGTERM) while ecs-deploy waits: never a success, the deployment
//! in flight is rolled back (or left, as --on-failure says), and the summary says what is
//! in flight and how to check on it.

use std::time::Duration;

use deployer_aws::ecs::Ecs;
use ecs_sim::{Scenario, SimConfig, SimHandle};

const SCENARIO: &str = r#"
images:
  "repo/api:slow": {kind: healthy, start-after: 3000}
"#;

fn setup() -> (SimHandle, tokio::runtime::Runtime, Ecs, String) {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::from_yaml(SCENARIO).expect("s"),
        time_scale: 10.0,
        seed: 5,
    })
    .expect("sim");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let (ecs, v1) = rt.block_on(async {
        let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
        let ecs = Ecs::new(&ctx.config);
        let v1 = deployer_aws::testing::create_service(
            &ecs,
            "shop",
            "api",
            "repo/api:v1",
            2,
            false,
            200,
        )
        .await;
        (ecs, v1)
    });
    (sim, rt, ecs, v1)
}

fn cmd(endpoint: &str, dir: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_ecs-deploy"));
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL_ECS", endpoint)
        .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", endpoint)
        .env("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "2")
        .env("DEPLOYER_CLUSTER", "shop")
        .env("DEPLOYER_SERVICE", "api")
        .env("DEPLOYER_IMAGE", "api=repo/api:slow")
        .env("DEPLOYER_POLL_INTERVAL", "0.2s")
        .env("GITHUB_OUTPUT", dir.join("out"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"));
    c
}

fn outputs(dir: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    deployer_core::runtime::parse_output_file(
        &std::fs::read_to_string(dir.join("out")).unwrap_or_default(),
    )
    .expect("outputs")
}

#[test]
fn sigterm_mid_wait_requests_the_rollback_and_says_so() {
    let (sim, rt, ecs, v1) = setup();
    let dir = tempfile::tempdir().expect("dir");
    let run = deployer_aws::testing::run_and_cancel(
        cmd(&sim.endpoint(), dir.path()),
        dir.path(),
        "service deployment arn:",
    );
    let text = &run.text;
    eprintln!("{text}");
    assert_eq!(run.code, Some(1), "never a success: {text}");
    assert!(text.contains("cancelled (SIGTERM)"), "{text}");
    assert!(text.contains("rollback to api:1 requested"), "{text}");
    assert!(text.contains("it continues in ECS"), "{text}");
    assert!(
        !text.contains("service now on"),
        "a requested rollback is not a done one: {text}"
    );
    assert!(
        text.contains("aws ecs describe-service-deployments --service-deployment-arns"),
        "{text}"
    );
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).expect("summary");
    assert!(summary.contains("cancelled"), "{summary}");
    assert!(summary.contains("ROLLBACK_REQUESTED"), "{summary}");
    let out = outputs(dir.path());
    assert_eq!(out.get("status").map(String::as_str), Some("cancelled"));
    let arn = out
        .get("service-deployment-arn")
        .cloned()
        .unwrap_or_default();
    assert!(arn.contains("service-deployment"), "{out:?}");
    assert_eq!(sim.call_count("StopServiceDeployment"), 1);
    // ECS finishes the rollback on its own: the service ends on v1.
    let status = rt.block_on(async {
        for _ in 0..300 {
            let d = ecs.describe_service_deployment(&arn).await.expect("dep");
            let svc = ecs.describe_service("shop", "api").await.expect("svc");
            if d.status == "ROLLBACK_SUCCESSFUL" && svc.task_definition == v1 {
                return d.status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        "never rolled back".to_string()
    });
    assert_eq!(status, "ROLLBACK_SUCCESSFUL");
}

#[test]
fn sigterm_with_on_failure_leave_leaves_the_deployment_and_says_how_to_go_back() {
    let (sim, rt, ecs, _v1) = setup();
    let dir = tempfile::tempdir().expect("dir");
    let mut c = cmd(&sim.endpoint(), dir.path());
    c.env("DEPLOYER_ON_FAILURE", "leave");
    let run = deployer_aws::testing::run_and_cancel(c, dir.path(), "service deployment arn:");
    let text = &run.text;
    eprintln!("{text}");
    assert_eq!(run.code, Some(1), "{text}");
    assert!(text.contains("left running and continues in ECS"), "{text}");
    assert!(
        text.contains("rollback --cluster shop --service api"),
        "{text}"
    );
    assert_eq!(sim.call_count("StopServiceDeployment"), 0);
    let out = outputs(dir.path());
    assert_eq!(out.get("status").map(String::as_str), Some("cancelled"));
    let arn = out
        .get("service-deployment-arn")
        .cloned()
        .unwrap_or_default();
    let d = rt
        .block_on(ecs.describe_service_deployment(&arn))
        .expect("dep");
    assert_eq!(d.status, "IN_PROGRESS", "left as it was");
}

#[test]
fn sigterm_while_waiting_for_another_deployment_changes_nothing() {
    let (sim, rt, ecs, _v1) = setup();
    // Someone else's deployment is in flight: ecs-deploy waits for it, then is cancelled.
    let slow = rt.block_on(async {
        let td = ecs
            .register_task_definition(&deployer_aws::testing::task_definition(
                "api",
                "repo/api:slow",
            ))
            .await
            .expect("register");
        ecs.update_service("shop", "api", &td, None, false)
            .await
            .expect("update");
        td
    });
    let dir = tempfile::tempdir().expect("dir");
    let mut c = cmd(&sim.endpoint(), dir.path());
    c.env("DEPLOYER_IMAGE", "api=repo/api:v3");
    let run =
        deployer_aws::testing::run_and_cancel(c, dir.path(), "another deployment is in progress");
    assert_eq!(run.code, Some(1), "{}", run.text);
    assert!(
        run.text
            .contains("cancelled (SIGTERM) before UpdateService"),
        "{}",
        run.text
    );
    assert_eq!(sim.call_count("UpdateService"), 1, "only the other one");
    assert_eq!(sim.call_count("StopServiceDeployment"), 0);
    let svc = rt
        .block_on(ecs.describe_service("shop", "api"))
        .expect("svc");
    assert_eq!(svc.task_definition, slow);
}
