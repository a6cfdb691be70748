//! The `rollback` binary against ecs-sim.

use assert_cmd::Command;
use deployer_aws::deploy::{DeployRequest, OnFailure, Source, deploy_service};
use deployer_aws::ecs::Ecs;
use deployer_aws::logs::Logs;
use deployer_aws::wait::WatchOptions;
use ecs_sim::{Scenario, SimConfig};

#[test]
fn rolls_back_to_the_last_successful_revision_and_warns_about_migrations() {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::default(),
        time_scale: 20.0,
        seed: 3,
    })
    .expect("sim");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let v1 = rt.block_on(async {
        let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
        let ecs = Ecs::new(&ctx.config);
        let logs = Logs::new(&ctx.config);
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
        let req = DeployRequest {
            cluster: "shop".into(),
            service: "api".into(),
            source: Source::Live,
            images: deployer_aws::taskdef::parse_images("api=repo/api:v2").expect("img"),
            default_containers: vec![],
            env: vec![],
            tags: vec![],
            desired_count: None,
            force_new_deployment: false,
            on_failure: OnFailure::Leave,
            watch: WatchOptions {
                poll_interval: std::time::Duration::from_millis(200),
                ..Default::default()
            },
            continue_deployment: false,
        };
        let r = deploy_service(&ecs, &logs, &req, &|_: &str| {})
            .await
            .expect("deploy");
        assert!(r.status.ok());
        // Revisions registered later (not deployed) must not become the target.
        ecs.register_task_definition(&deployer_aws::testing::task_definition(
            "api",
            "repo/api:v3",
        ))
        .await
        .expect("stray");
        v1
    });
    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir_all(dir.path().join(".github")).expect("mkdir");
    std::fs::write(
        dir.path().join(".github/deployer.yml"),
        "services:\n  api:\n    paths: ['**']\n    cluster: shop\n    migration:\n      preset: alembic\n",
    )
    .expect("config");
    let out = Command::cargo_bin("rollback")
        .expect("bin")
        .current_dir(dir.path())
        .env_clear()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "2")
        .env("GITHUB_OUTPUT", dir.path().join("out"))
        .args(["--service", "api", "--poll-interval", "0.2s"])
        .output()
        .expect("run");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("NOT rolled back"), "{text}");
    assert!(text.contains("alembic downgrade -1"), "{text}");
    let outputs = deployer_core::runtime::parse_output_file(
        &std::fs::read_to_string(dir.path().join("out")).expect("out"),
    )
    .expect("parse");
    assert_eq!(outputs.get("task-definition-arn"), Some(&v1), "{text}");
}
