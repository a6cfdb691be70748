//! A cancelled workflow (SIGTERM) while run-migration waits: the one-off task is stopped,
//! the run exits 1 and says so.

use deployer_aws::ecs::Ecs;
use ecs_sim::{Scenario, SimConfig};

#[test]
fn sigterm_stops_the_migration_task_and_exits_1() {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::from_yaml(
            "images:\n  \"repo/api:v2\": {kind: exits, start-after: 1, after: 6000, exit-code: 0, logs: [\"migrating\"]}\n",
        )
        .expect("s"),
        time_scale: 10.0,
        seed: 3,
    })
    .expect("sim");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let ecs = rt.block_on(async {
        let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
        let ecs = Ecs::new(&ctx.config);
        deployer_aws::testing::create_service(&ecs, "shop", "api", "repo/api:v1", 1, false, 200)
            .await;
        ecs
    });
    let dir = tempfile::tempdir().expect("dir");
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_run-migration"));
    c.current_dir(dir.path())
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
            "--command",
            "./migrate",
            "--poll-interval",
            "0.2s",
        ]);
    let run = deployer_aws::testing::run_and_cancel(c, dir.path(), ": RUNNING");
    let text = &run.text;
    eprintln!("{text}");
    assert_eq!(run.code, Some(1), "{text}");
    assert!(text.contains("cancelled (SIGTERM)"), "{text}");
    assert!(text.contains("was stopped"), "{text}");
    assert!(sim.call_count("StopTask") >= 1);
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap_or_default();
    assert!(summary.contains("cancelled"), "{summary}");
    // The task is on its way down in ECS.
    let stopping = rt.block_on(async {
        let arns = ecs
            .client
            .list_tasks()
            .cluster("shop")
            .desired_status("STOPPED".into())
            .send()
            .await
            .expect("list");
        arns.task_arns().len()
    });
    assert_eq!(stopping, 1);
}
