//! A cancelled workflow while run-migration waits: the one-off task is stopped, the run
//! exits 1 and says so. Cancelled by SIGINT, by SIGTERM, and by SIGINT then SIGTERM
//! mid-cleanup (GitHub's sequence, see `deployer_aws::testing::GITHUB_CANCEL_GRACE`).

use deployer_aws::ecs::Ecs;
use deployer_aws::testing::{CancelBy, Running, cancel};
use ecs_sim::{Faults, Scenario, SimConfig};

#[test]
fn cancelled_mid_task_stops_the_migration_task_and_exits_1() {
    for by in CancelBy::ALL {
        cancelled_mid_task(by);
    }
}

fn cancelled_mid_task(by: CancelBy) {
    let (sim, rt, ecs) = migration_world();
    let dir = tempfile::tempdir().expect("dir");
    let mut c = migration_command(&sim, dir.path());
    c.args(["--poll-interval", "0.2s"]);
    let mut run = Running::spawn(c, dir.path());
    run.wait_for(": RUNNING");
    // run-migration listens for signals from its first pause between two looks at the task;
    // one more look means it has paused once.
    let looks = sim.call_count("DescribeTasks");
    run.wait_until("another look at the task", |_| {
        sim.call_count("DescribeTasks") > looks
    });
    if by == CancelBy::SigintThenSigterm {
        // StopTask and the last log read take a second each: SIGTERM comes meanwhile.
        sim.set_faults(Faults {
            latency_ms: 1_000,
            operations: vec!["StopTask".into(), "GetLogEvents".into()],
            ..Default::default()
        });
    }
    let mid_cleanup = cancel(&mut run, by, |_| sim.call_count("StopTask") >= 1);
    assert_eq!(
        mid_cleanup,
        by == CancelBy::SigintThenSigterm,
        "SIGTERM came during the cleanup after SIGINT:\n{}",
        run.text()
    );
    let run = run.finish();
    sim.set_faults(Faults::default());
    let text = &run.text;
    eprintln!("--- {by:?}\n{text}");
    assert_eq!(run.code, Some(1), "{by:?}: {text}");
    assert!(
        text.contains(&format!(
            "the workflow was cancelled ({}); the task arn:",
            by.first()
        )),
        "{text}"
    );
    assert!(text.contains(" was stopped"), "{text}");
    assert_eq!(sim.call_count("StopTask"), 1);
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

/// A signal that comes while run-migration is still reading the service (before it listens
/// in its wait loop) is not lost and does not kill it on the spot: no task is started, the
/// run exits 1 and says so. Before the handlers were installed at start, SIGINT here ended
/// the process by the signal with no report.
#[test]
fn cancelled_before_the_task_starts_starts_nothing() {
    let (sim, _rt, _ecs) = migration_world();
    let reads_before = sim.call_count("DescribeServices");
    // The service read takes 3 s: the signal comes while run-migration waits for it.
    sim.set_faults(Faults {
        latency_ms: 3_000,
        operations: vec!["DescribeServices".into()],
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("dir");
    let c = migration_command(&sim, dir.path());
    let mut run = Running::spawn(c, dir.path());
    run.wait_until("run-migration reads the service", |_| {
        sim.call_count("DescribeServices") > reads_before
    });
    run.signal("INT");
    let run = run.finish();
    sim.set_faults(Faults::default());
    let text = &run.text;
    assert_eq!(
        run.code,
        Some(1),
        "exit 1, not killed by the signal: {text}"
    );
    assert!(
        text.contains(
            "the workflow was cancelled (SIGINT) before the migration task was started: nothing ran"
        ),
        "{text}"
    );
    assert_eq!(sim.call_count("RunTask"), 0, "no task may be started");
}

/// ecs-sim with a migration image that runs for 10 minutes of sim time, and the service
/// `shop/api` on v1.
fn migration_world() -> (ecs_sim::SimHandle, tokio::runtime::Runtime, Ecs) {
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
    (sim, rt, ecs)
}

/// run-migration of `./migrate` on v2 against `sim`, writing its files into `dir`.
fn migration_command(sim: &ecs_sim::SimHandle, dir: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_run-migration"));
    c.current_dir(dir)
        .env_clear()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "us-east-1")
        .env("GITHUB_OUTPUT", dir.join("out"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
        .args([
            "--cluster",
            "shop",
            "--service",
            "api",
            "--image",
            "repo/api:v2",
            "--command",
            "./migrate",
        ]);
    c
}
