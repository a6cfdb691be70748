//! The `ecs-deploy` binary against ecs-sim, configured only through env variables.

use assert_cmd::Command;
use deployer_aws::ecs::Ecs;
use ecs_sim::{Scenario, SimConfig};

const SCENARIO: &str = r#"
images:
  "repo/api:crash": {kind: crash-loop, start-after: 2, after: 3, exit-code: 3, logs: ["FATAL: cannot connect to database"]}
"#;

fn cmd(endpoint: &str, dir: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("ecs-deploy").expect("binary");
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL_ECS", endpoint)
        .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", endpoint)
        .env("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9") // no STS here: the identity line is skipped
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "2")
        .env("DEPLOYER_CLUSTER", "shop")
        .env("DEPLOYER_POLL_INTERVAL", "0.2s")
        .env("GITHUB_OUTPUT", dir.join("out"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"));
    c
}

#[test]
fn deploys_then_fails_a_crash_loop_with_cause_and_rollback() {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::from_yaml(SCENARIO).expect("s"),
        time_scale: 10.0,
        seed: 3,
    })
    .expect("sim");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let v1 = rt.block_on(async {
        let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
        let ecs = Ecs::new(&ctx.config);
        deployer_aws::testing::create_service(&ecs, "shop", "api", "repo/api:v1", 4, false, 125)
            .await
    });
    let dir = tempfile::tempdir().expect("dir");

    let ok = cmd(&sim.endpoint(), dir.path())
        .env("DEPLOYER_SERVICE", "api")
        .env("DEPLOYER_IMAGE", "api=repo/api:v2")
        .env("DEPLOYER_TAGS", "git-sha=0123456789abcdef")
        .output()
        .expect("run");
    let text =
        String::from_utf8_lossy(&ok.stdout).to_string() + &String::from_utf8_lossy(&ok.stderr);
    assert_eq!(ok.status.code(), Some(0), "{text}");
    let outputs = deployer_core::runtime::parse_output_file(
        &std::fs::read_to_string(dir.path().join("out")).expect("out"),
    )
    .expect("parse");
    assert_eq!(outputs.get("status").map(String::as_str), Some("succeeded"));
    assert_eq!(outputs.get("previous-task-definition-arn"), Some(&v1));
    assert!(
        outputs
            .get("task-definition-arn")
            .is_some_and(|a| a.ends_with("api:2")),
        "{outputs:?}"
    );
    assert!(
        outputs
            .get("service-deployment-arn")
            .is_some_and(|a| a.contains("service-deployment"))
    );

    std::fs::remove_file(dir.path().join("out")).ok();
    let bad = cmd(&sim.endpoint(), dir.path())
        .env("DEPLOYER_SERVICE", "api")
        .env("DEPLOYER_IMAGE", "api=repo/api:crash")
        .output()
        .expect("run");
    let text =
        String::from_utf8_lossy(&bad.stdout).to_string() + &String::from_utf8_lossy(&bad.stderr);
    eprintln!("{text}");
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(text.contains("exited with code 3"), "{text}");
    assert!(text.contains("FATAL: cannot connect to database"), "{text}");
    assert!(
        text.contains("rollback: StopServiceDeployment(ROLLBACK) → ROLLBACK_SUCCESSFUL"),
        "{text}"
    );
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).expect("summary");
    assert!(summary.contains("essential container exited"), "{summary}");
    assert!(summary.contains("timeline"), "{summary}");
    let outputs = deployer_core::runtime::parse_output_file(
        &std::fs::read_to_string(dir.path().join("out")).expect("out"),
    )
    .expect("parse");
    assert_eq!(outputs.get("status").map(String::as_str), Some("failed"));
}

#[test]
fn bad_input_exits_2_with_a_message() {
    let dir = tempfile::tempdir().expect("dir");
    let out = cmd("http://127.0.0.1:9", dir.path())
        .env("DEPLOYER_SERVICE", "api")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to deploy"));
    let out = cmd("http://127.0.0.1:9", dir.path())
        .args([
            "--service",
            "api",
            "--image",
            "x:1",
            "--on-failure",
            "panic",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn several_services_deploy_concurrently_with_one_table() {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::default(),
        time_scale: 20.0,
        seed: 5,
    })
    .expect("sim");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
        let ecs = Ecs::new(&ctx.config);
        deployer_aws::testing::create_service(&ecs, "shop", "api", "repo/api:v1", 2, false, 200)
            .await;
        deployer_aws::testing::create_service(
            &ecs,
            "shop",
            "worker",
            "repo/worker:v1",
            1,
            false,
            200,
        )
        .await;
    });
    let dir = tempfile::tempdir().expect("dir");
    let out = cmd(&sim.endpoint(), dir.path())
        .args([
            "--service",
            "api,worker",
            "--image",
            "api=repo/app:v2",
            "--json",
        ])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("--json prints JSON on stdout");
    assert_eq!(json["status"], "succeeded");
    let services: serde_json::Value =
        serde_json::from_str(json["services-json"].as_str().expect("services-json")).expect("json");
    assert_eq!(services.as_array().map(Vec::len), Some(2));
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).expect("summary");
    assert!(
        summary.contains("| api (shop) | succeeded")
            && summary.contains("| worker (shop) | succeeded"),
        "{summary}"
    );
}
