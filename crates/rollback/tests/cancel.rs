//! A cancelled workflow while `rollback` waits: the rollback deployment goes on in ECS, and
//! the run says so (exit 1, summary, outputs) with the command to follow it. Cancelled by
//! SIGINT, by SIGTERM, and by SIGINT then SIGTERM (GitHub's sequence, see
//! `deployer_aws::testing::GITHUB_CANCEL_GRACE`).

use deployer_aws::ecs::Ecs;
use deployer_aws::testing::{CancelBy, Running, cancel};
use ecs_sim::{Faults, Scenario, SimConfig};

const SCENARIO: &str = r#"
images:
  "repo/api:slow": {kind: healthy, start-after: 3000}
"#;

#[test]
fn cancelled_mid_rollback_reports_the_deployment_that_continues() {
    for by in CancelBy::ALL {
        cancelled_mid_rollback(by);
    }
}

fn cancelled_mid_rollback(by: CancelBy) {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::from_yaml(SCENARIO).expect("s"),
        time_scale: 10.0,
        seed: 5,
    })
    .expect("sim");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let (ecs, target) = rt.block_on(async {
        let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
        let ecs = Ecs::new(&ctx.config);
        deployer_aws::testing::create_service(&ecs, "shop", "api", "repo/api:v1", 2, false, 200)
            .await;
        // The revision to go back to starts slowly: the rollback is still in flight.
        let target = ecs
            .register_task_definition(&deployer_aws::testing::task_definition(
                "api",
                "repo/api:slow",
            ))
            .await
            .expect("register");
        (ecs, target)
    });
    let dir = tempfile::tempdir().expect("dir");
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_rollback"));
    c.current_dir(dir.path())
        .env_clear()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "2")
        .env("DEPLOYER_CLUSTER", "shop")
        .env("DEPLOYER_SERVICE", "api")
        .env("DEPLOYER_TO_TASK_DEFINITION", &target)
        .env("DEPLOYER_POLL_INTERVAL", "0.2s")
        .env("GITHUB_OUTPUT", dir.path().join("out"))
        .env("GITHUB_STEP_SUMMARY", dir.path().join("summary.md"));
    let mut run = Running::spawn(c, dir.path());
    run.wait_for("service deployment arn:");
    if by == CancelBy::SigintThenSigterm {
        // The cleanup's one look at the service takes a second: SIGTERM may come meanwhile.
        sim.set_faults(Faults {
            latency_ms: 1_000,
            ..Default::default()
        });
    }
    // rollback says nothing before its cleanup's only call, so SIGTERM follows once it has
    // said what continues, if it is still running then (GitHub sends SIGTERM only then).
    cancel(&mut run, by, |t| {
        t.contains("cancelled (SIGINT) before the rollback finished")
    });
    let run = run.finish();
    sim.set_faults(Faults::default());
    let text = &run.text;
    eprintln!("--- {by:?}\n{text}");
    assert_eq!(run.code, Some(1), "never a success ({by:?}): {text}");
    assert!(
        text.contains(&format!(
            "cancelled ({}) before the rollback finished. What was already requested continues in ECS: the service targets api:2 (deployment arn:",
            by.first()
        )),
        "names the revision and the deployment that continue: {text}"
    );
    assert!(
        text.contains(
            "Check it with `aws ecs describe-service-deployments --service-deployment-arns arn:"
        ),
        "{text}"
    );
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).expect("summary");
    assert!(summary.contains("cancelled"), "{summary}");
    assert!(
        summary.contains("migrations are NOT rolled back"),
        "{summary}"
    );
    let out = deployer_core::runtime::parse_output_file(
        &std::fs::read_to_string(dir.path().join("out")).unwrap_or_default(),
    )
    .expect("outputs");
    assert_eq!(out.get("status").map(String::as_str), Some("failed"));
    assert!(
        out.get("service-deployment-arn")
            .is_some_and(|a| a.contains("service-deployment")),
        "{out:?}"
    );
    // Nothing was stopped: the rollback deployment is still rolling out in ECS.
    assert_eq!(sim.call_count("StopServiceDeployment"), 0);
    let svc = rt
        .block_on(ecs.describe_service("shop", "api"))
        .expect("svc");
    assert_eq!(svc.task_definition, target);
    assert_eq!(svc.deployments.len(), 2, "still in flight");
}
