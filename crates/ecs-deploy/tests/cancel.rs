//! A cancelled workflow while ecs-deploy waits: never a success, the deployment in flight
//! is rolled back (or left, as --on-failure says), and the summary says what is in flight
//! and how to check on it. One test per row of README's "Cancellation" table, each run
//! cancelled by SIGINT, by SIGTERM, and by SIGINT then SIGTERM mid-cleanup (GitHub's
//! sequence, see `deployer_aws::testing::GITHUB_CANCEL_GRACE`).

use std::time::Duration;

use deployer_aws::ecs::Ecs;
use deployer_aws::states::ServiceDeploymentStatus as Sds;
use deployer_aws::testing::{CancelBy, Cancelled, Running, cancel};
use ecs_sim::{Faults, Scenario, SimConfig, SimHandle};

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

/// ECS answers every call this slowly during a SIGINT-then-SIGTERM cancellation, so that
/// the cleanup after SIGINT (one or two calls) is still running when SIGTERM comes.
fn slow_cleanup(sim: &SimHandle, by: CancelBy) {
    if by == CancelBy::SigintThenSigterm {
        sim.set_faults(Faults {
            latency_ms: 1_000,
            ..Default::default()
        });
    }
}

/// Runs ecs-deploy until `marker`, cancels it as `by` says, and checks that a SIGTERM after
/// SIGINT did land mid-cleanup.
fn run_cancelled(
    sim: &SimHandle,
    c: std::process::Command,
    dir: &std::path::Path,
    marker: &str,
    by: CancelBy,
) -> Cancelled {
    let mut run = Running::spawn(c, dir);
    run.wait_for(marker);
    slow_cleanup(sim, by);
    let mid_cleanup = cancel(&mut run, by, |t| {
        t.contains("cancelled (SIGINT) while deploying")
    });
    assert_eq!(
        mid_cleanup,
        by == CancelBy::SigintThenSigterm,
        "SIGTERM came during the cleanup after SIGINT:\n{}",
        run.text()
    );
    let run = run.finish();
    sim.set_faults(Faults::default());
    eprintln!("--- {by:?}\n{}", run.text);
    run
}

#[test]
fn cancelled_mid_wait_requests_the_rollback_and_says_so() {
    for by in CancelBy::ALL {
        let (sim, rt, ecs, v1) = setup();
        let dir = tempfile::tempdir().expect("dir");
        let run = run_cancelled(
            &sim,
            cmd(&sim.endpoint(), dir.path()),
            dir.path(),
            "service deployment arn:",
            by,
        );
        let text = &run.text;
        assert_eq!(run.code, Some(1), "never a success ({by:?}): {text}");
        assert!(
            text.contains(&format!("cancelled ({})", by.first())),
            "{text}"
        );
        assert!(
            text.contains("rollback to api:1 requested (StopServiceDeployment ROLLBACK); it continues in ECS. Check with `aws ecs describe-service-deployments --service-deployment-arns arn:"),
            "{text}"
        );
        assert!(
            !text.contains("service now on"),
            "a requested rollback is not a done one: {text}"
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
                if d.status == Sds::RollbackSuccessful && svc.task_definition == v1 {
                    return d.status;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Sds::Unknown("never rolled back".to_string())
        });
        assert_eq!(status, Sds::RollbackSuccessful, "{by:?}");
    }
}

#[test]
fn cancelled_with_on_failure_leave_leaves_the_deployment_and_says_how_to_go_back() {
    for by in CancelBy::ALL {
        let (sim, rt, ecs, _v1) = setup();
        let dir = tempfile::tempdir().expect("dir");
        let mut c = cmd(&sim.endpoint(), dir.path());
        c.env("DEPLOYER_ON_FAILURE", "leave");
        let run = run_cancelled(&sim, c, dir.path(), "service deployment arn:", by);
        let text = &run.text;
        assert_eq!(run.code, Some(1), "{by:?}: {text}");
        assert!(
            text.contains(&format!("cancelled ({})", by.first())),
            "{text}"
        );
        assert!(
            text.contains("it was left running and continues in ECS"),
            "{text}"
        );
        assert!(
            text.contains(
                "Check with `aws ecs describe-service-deployments --service-deployment-arns arn:"
            ),
            "the command to check: {text}"
        );
        assert!(
            text.contains("go back to api:1 with `rollback --cluster shop --service api`"),
            "the command to go back: {text}"
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
        assert_eq!(d.status, Sds::InProgress, "left as it was ({by:?})");
    }
}

#[test]
fn cancelled_while_waiting_for_another_deployment_changes_nothing() {
    // Nothing to clean up here (the run exits at once), so no SIGTERM can follow SIGINT.
    for by in [CancelBy::Sigint, CancelBy::Sigterm] {
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
        let run = run_cancelled(&sim, c, dir.path(), "another deployment is in progress", by);
        assert_eq!(run.code, Some(1), "{}", run.text);
        assert!(
            run.text.contains(&format!(
                "cancelled ({}) before UpdateService: the service was not changed",
                by.first()
            )),
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
}
