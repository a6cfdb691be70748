//! The `run-migration` binary against ecs-sim: streams every line, exits with the container's code.

use assert_cmd::Command;
use deployer_aws::ecs::Ecs;
use ecs_sim::{Scenario, SimConfig};

const SCENARIO: &str = r#"
images:
  "repo/api:v2": {kind: exits, exit-code: 3, after: 5, logs: ["INFO  [alembic.runtime.migration] Running upgrade a -> b", "sqlalchemy.exc.ProgrammingError: duplicate column"]}
"#;

#[test]
fn migration_streams_logs_and_exits_with_the_container_code() {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::from_yaml(SCENARIO).expect("s"),
        time_scale: 10.0,
        seed: 3,
    })
    .expect("sim");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
        let ecs = Ecs::new(&ctx.config);
        deployer_aws::testing::create_service(&ecs, "shop", "api", "repo/api:v1", 1, false, 200)
            .await
    });
    let dir = tempfile::tempdir().expect("dir");
    let out = Command::cargo_bin("run-migration")
        .expect("bin")
        .current_dir(dir.path())
        .env_clear()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "us-east-1")
        .env("GITHUB_OUTPUT", dir.path().join("out"))
        .env("GITHUB_STEP_SUMMARY", dir.path().join("summary.md"))
        .args([
            "--cluster",
            "shop",
            "--service",
            "api",
            "--image",
            "repo/api:v2",
            "--preset",
            "alembic",
            "--poll-interval",
            "0.2s",
        ])
        .output()
        .expect("run");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("alembic upgrade head"), "{text}");
    assert_eq!(text.matches("Running upgrade a -> b").count(), 1, "{text}");
    assert!(text.contains("duplicate column"), "{text}");
    let outputs = deployer_core::runtime::parse_output_file(
        &std::fs::read_to_string(dir.path().join("out")).expect("out"),
    )
    .expect("parse");
    assert_eq!(outputs.get("exit-code").map(String::as_str), Some("3"));
    // The summary carries the cause: the container's last lines, not only the exit code.
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).expect("summary");
    assert!(summary.contains("exited with code 3"), "{summary}");
    assert!(summary.contains("Last 2 log line(s) of `api`"), "{summary}");
    assert!(
        summary.contains("sqlalchemy.exc.ProgrammingError: duplicate column"),
        "{summary}"
    );
    assert!(
        outputs
            .get("task-definition-arn")
            .is_some_and(|a| a.contains("api-migrate:")),
        "{outputs:?}"
    );
}
