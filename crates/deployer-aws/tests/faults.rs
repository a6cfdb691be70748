//! Faults during a deploy's wait, against ecs-sim: bursts of throttling and 5xx, answers
//! slower than the per-attempt timeout, the endpoint going away (and coming back, or not),
//! credentials expiring mid-wait, and two deploys of one service at once. For each: the
//! verdict is the deployment's real outcome (or "unknown"), never a false success or a
//! false failure.
#![recursion_limit = "512"]

use std::sync::Mutex;
use std::time::Duration;

use aws_credential_types::Credentials;
use deployer_aws::deploy::{DeployReport, DeployRequest, Status, deploy_service};
use deployer_aws::ecs::Ecs;
use deployer_aws::logs::Logs;
use deployer_aws::wait::CauseKind;
use deployer_aws::{AwsContext, LoadOptions};
use ecs_sim::{Faults, Scenario, SimConfig, SimHandle};

const CLUSTER: &str = "shop";

/// v2 rolls out in ~4 s real time at time scale 10; crash fails within a second.
const SCENARIO: &str = r#"
default: {kind: healthy, start-after: 10}
images:
  "repo/api:v2": {kind: healthy, start-after: 40}
  "repo/api:v3": {kind: healthy, start-after: 40}
  "repo/api:crash": {kind: crash-loop, start-after: 2, after: 3, exit-code: 3, logs: ["FATAL: cannot connect to database"]}
"#;

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

fn sim() -> SimHandle {
    ecs_sim::spawn(SimConfig {
        scenario: Scenario::from_yaml(SCENARIO).expect("scenario"),
        time_scale: 10.0,
        seed: 11,
    })
    .expect("sim")
}

/// A context with short SDK timeouts, so a hung endpoint costs little test time.
async fn context(endpoint: &str) -> AwsContext {
    AwsContext::load(LoadOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.to_string()),
        base_credentials: Some(Credentials::new("AKIDTEST", "secret", None, None, "test")),
        max_attempts: Some(3),
        attempt_timeout: Some(Duration::from_millis(500)),
        operation_timeout: Some(Duration::from_secs(3)),
        ..Default::default()
    })
    .await
    .expect("context")
}

async fn service(ecs: &Ecs) -> String {
    deployer_aws::testing::create_service(ecs, CLUSTER, "api", "repo/api:v1", 2, false, 200).await
}

fn request(image: &str) -> DeployRequest {
    deployer_aws::testing::deploy_request(CLUSTER, "api", image)
}

async fn deploy(ecs: &Ecs, logs: &Logs, req: DeployRequest) -> (DeployReport, Vec<String>) {
    let lines = Lines::new();
    let say = |s: &str| lines.say(s);
    let r = deploy_service(ecs, logs, &req, &say)
        .await
        .expect("deploy ran");
    (r, lines.all())
}

/// Returns once the deploy has made its UpdateService (the count passed `updates`) and
/// started waiting on it.
async fn once_waiting(sim: &SimHandle, updates: u64) {
    for _ in 0..3000 {
        if sim.call_count("UpdateService") > updates {
            tokio::time::sleep(Duration::from_millis(300)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "the deploy never made its UpdateService (baseline {updates}, now {}, total calls {})",
        sim.call_count("UpdateService"),
        sim.total_calls()
    );
}

async fn burst(sim: &SimHandle, faults: Faults, length: Duration, updates: u64) {
    once_waiting(sim, updates).await;
    sim.set_faults(faults);
    tokio::time::sleep(length).await;
    sim.set_faults(Faults::default());
}

fn assert_crash_failure(r: &DeployReport, lines: &[String]) {
    assert_eq!(r.status, Status::Failed, "{lines:?}");
    let cause = r.cause.as_ref().expect("cause");
    // Which one depends on when the fault let us look: the crash itself, or ECS's breaker
    // that tripped on it meanwhile. Both name the exit code.
    assert!(
        matches!(
            cause.kind,
            CauseKind::ContainerExited | CauseKind::CircuitBreaker
        ),
        "{cause:?}"
    );
    assert!(cause.summary.contains("exited with code 3"), "{cause:?}");
    assert!(
        r.rollback.as_ref().is_some_and(|b| b.ok),
        "{:?}",
        r.rollback
    );
}

/// Runs a healthy deploy then a crash-looping one, each with `faults` injected for `length`
/// once its wait has begun, and checks both verdicts and where the service ends up.
async fn both_verdicts_survive(faults: Faults, length: Duration) -> SimHandle {
    let sim = sim();
    let ctx = context(&sim.endpoint()).await;
    let (ecs, logs) = (Ecs::new(&ctx.config), Logs::new(&ctx.config));
    service(&ecs).await;

    let ((r, lines), ()) = tokio::join!(
        deploy(&ecs, &logs, request("repo/api:v2")),
        burst(
            &sim,
            faults.clone(),
            length,
            sim.call_count("UpdateService")
        )
    );
    assert_eq!(r.status, Status::Succeeded, "{lines:?}");
    let svc = ecs.describe_service(CLUSTER, "api").await.expect("svc");
    assert_eq!(svc.task_definition, r.task_definition_arn);
    let good = r.task_definition_arn.clone();

    let ((bad, lines), ()) = tokio::join!(
        deploy(&ecs, &logs, request("repo/api:crash")),
        burst(
            &sim,
            faults.clone(),
            length,
            sim.call_count("UpdateService")
        )
    );
    assert_crash_failure(&bad, &lines);
    let svc = ecs.describe_service(CLUSTER, "api").await.expect("svc");
    assert_eq!(svc.task_definition, good, "back on the good revision");
    sim
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_burst_keeps_both_verdicts_right() {
    let sim = both_verdicts_survive(
        Faults {
            throttle_rate: 0.9,
            ..Default::default()
        },
        Duration::from_secs(2),
    )
    .await;
    assert!(sim.total_calls() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_error_burst_keeps_both_verdicts_right() {
    both_verdicts_survive(
        Faults {
            error_rate: 0.9,
            ..Default::default()
        },
        Duration::from_secs(2),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_slower_than_the_attempt_timeout_keep_both_verdicts_right() {
    // 2 s per answer against a 0.5 s attempt timeout: every call in the window times out.
    both_verdicts_survive(
        Faults {
            latency_ms: 2_000,
            ..Default::default()
        },
        Duration::from_secs(2),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_restart_mid_wait_keeps_both_verdicts_right() {
    let sim = sim();
    let ctx = context(&sim.endpoint()).await;
    let (ecs, logs) = (Ecs::new(&ctx.config), Logs::new(&ctx.config));
    service(&ecs).await;
    let updates = sim.call_count("UpdateService");
    let ((r, lines), ()) = tokio::join!(deploy(&ecs, &logs, request("repo/api:v2")), async {
        once_waiting(&sim, updates).await;
        sim.outage(Duration::from_secs(2));
    });
    assert_eq!(r.status, Status::Succeeded, "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("could not read")),
        "the outage was seen: {lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("ECS answers again")),
        "{lines:?}"
    );
    let good = r.task_definition_arn.clone();

    let updates = sim.call_count("UpdateService");
    let ((bad, lines), ()) = tokio::join!(deploy(&ecs, &logs, request("repo/api:crash")), async {
        once_waiting(&sim, updates).await;
        sim.outage(Duration::from_secs(2));
    });
    assert_crash_failure(&bad, &lines);
    let svc = ecs.describe_service(CLUSTER, "api").await.expect("svc");
    assert_eq!(svc.task_definition, good);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_that_never_returns_is_unknown_not_failed_and_nothing_is_rolled_back() {
    let sim = sim();
    let ctx = context(&sim.endpoint()).await;
    let (ecs, logs) = (Ecs::new(&ctx.config), Logs::new(&ctx.config));
    let v1 = service(&ecs).await;
    let mut req = request("repo/api:v2");
    req.watch.max_unreachable = Duration::from_secs(3);
    let updates = sim.call_count("UpdateService");
    let ((r, lines), ()) = tokio::join!(deploy(&ecs, &logs, req), async {
        once_waiting(&sim, updates).await;
        sim.outage(Duration::from_secs(3600));
    });
    assert_eq!(r.status, Status::Unknown, "{lines:?}");
    assert!(!r.status.ok());
    assert!(r.cause.is_none(), "no invented cause: {:?}", r.cause);
    assert!(
        r.rollback.is_none(),
        "nothing to roll back with: {:?}",
        r.rollback
    );
    let next = r.next_step.clone().unwrap_or_default();
    for needle in [
        "UNKNOWN",
        "lost contact",
        "may still succeed",
        "describe-service-deployments",
        "rollback --cluster shop --service api",
    ] {
        assert!(next.contains(needle), "{needle}: {next}");
    }
    assert_ne!(r.task_definition_arn, v1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_endpoint_cannot_hang_the_deploy() {
    let sim = sim();
    let ctx = context(&sim.endpoint()).await;
    let (ecs, logs) = (Ecs::new(&ctx.config), Logs::new(&ctx.config));
    service(&ecs).await;
    let mut req = request("repo/api:v2");
    req.watch.max_unreachable = Duration::from_secs(3);
    let started = std::time::Instant::now();
    let updates = sim.call_count("UpdateService");
    let ((r, lines), ()) = tokio::join!(deploy(&ecs, &logs, req), async {
        once_waiting(&sim, updates).await;
        // Answers take ten minutes: only the SDK's timeouts end each call.
        sim.set_faults(Faults {
            latency_ms: 600_000,
            ..Default::default()
        });
    });
    assert_eq!(r.status, Status::Unknown, "{lines:?}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "bounded by the SDK timeouts and max-unreachable, took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_deploys_at_once_the_second_waits_for_the_first() {
    let sim = sim();
    let ctx = context(&sim.endpoint()).await;
    let (ecs, logs) = (Ecs::new(&ctx.config), Logs::new(&ctx.config));
    service(&ecs).await;
    let first = request("repo/api:v2");
    let second = request("repo/api:v3");
    let updates = sim.call_count("UpdateService");
    let ((r1, l1), (r2, l2)) = tokio::join!(deploy(&ecs, &logs, first), async {
        once_waiting(&sim, updates).await;
        deploy(&ecs, &logs, second).await
    });
    // The first ended SUCCESSFUL and served; if its last look came after the second took
    // over, it says "superseded" instead: never a rollback of the newer deployment.
    match &r1.cause {
        None => assert_eq!(r1.status, Status::Succeeded, "{l1:?}"),
        Some(c) => assert_eq!(c.kind, CauseKind::Superseded, "{l1:?}"),
    }
    assert!(r1.rollback.is_none(), "{:?}", r1.rollback);
    assert_eq!(r2.status, Status::Succeeded, "{l2:?}");
    assert!(
        l2.iter()
            .any(|l| l.contains("another deployment is in progress")
                && l.contains(&r1.service_deployment_arn)),
        "the second names the first: {l2:?}"
    );
    // The second planned from the settled service: it replaced v2, not v1.
    assert_eq!(r2.previous_task_definition_arn, r1.task_definition_arn);
    let svc = ecs.describe_service(CLUSTER, "api").await.expect("svc");
    assert_eq!(svc.task_definition, r2.task_definition_arn);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_superseded_by_another_run_is_not_a_success() {
    // Someone else (console, an older deployer) updates the service while ours rolls out.
    let sim = sim();
    let ctx = context(&sim.endpoint()).await;
    let (ecs, logs) = (Ecs::new(&ctx.config), Logs::new(&ctx.config));
    service(&ecs).await;
    let other = ecs
        .register_task_definition(&deployer_aws::testing::task_definition(
            "api",
            "repo/api:v3",
        ))
        .await
        .expect("register");
    let updates = sim.call_count("UpdateService");
    let ((r, lines), ()) = tokio::join!(deploy(&ecs, &logs, request("repo/api:v2")), async {
        once_waiting(&sim, updates).await;
        ecs.update_service(CLUSTER, "api", &other, None, false)
            .await
            .expect("other update");
    });
    assert_eq!(r.status, Status::Failed, "{lines:?}");
    let cause = r.cause.clone().expect("cause");
    assert_eq!(cause.kind, CauseKind::Superseded, "{cause:?}");
    assert!(cause.summary.contains("api:"), "{cause:?}");
    assert!(r.rollback.is_none(), "the newer deployment is left alone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_image_again_registers_nothing_and_starts_no_deployment() {
    let sim = sim();
    let ctx = context(&sim.endpoint()).await;
    let (ecs, logs) = (Ecs::new(&ctx.config), Logs::new(&ctx.config));
    service(&ecs).await;
    let (r, lines) = deploy(&ecs, &logs, request("repo/api:v2")).await;
    assert_eq!(r.status, Status::Succeeded, "{lines:?}");
    let (registers, updates) = (
        sim.call_count("RegisterTaskDefinition"),
        sim.call_count("UpdateService"),
    );
    let (again, _) = deploy(&ecs, &logs, request("repo/api:v2")).await;
    assert_eq!(again.status, Status::Unchanged);
    assert!(!again.registered);
    assert_eq!(again.task_definition_arn, r.task_definition_arn);
    assert_eq!(sim.call_count("RegisterTaskDefinition"), registers);
    assert_eq!(sim.call_count("UpdateService"), updates);
    let list = ecs
        .list_service_deployments(CLUSTER, "api", None)
        .await
        .expect("list");
    assert_eq!(list.len(), 2, "initial + one deploy: {list:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_expiring_mid_wait_are_renewed_through_oidc() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let Some(moto) = deployer_testbed::moto_endpoint() else {
        return;
    };
    const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9yZy9hcHA6ZW52aXJvbm1lbnQ6cHJvZCIsImF1ZCI6InN0cy5hbWF6b25hd3MuY29tIn0.c2lnbmF0dXJl";
    let tokens = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"value": JWT})))
        .mount(&tokens)
        .await;
    // Every access key is refused with ExpiredTokenException 1.5 s after its first use;
    // the rollout takes ~4 s.
    let sim = sim();
    sim.set_faults(Faults {
        credential_lifetime_ms: 1_500,
        ..Default::default()
    });
    let ctx = AwsContext::load(LoadOptions {
        region: Some("us-east-1".into()),
        role_to_assume: Some("arn:aws:iam::123456789012:role/deployer".into()),
        session_name: Some("faults".into()),
        oidc: Some(deployer_aws::credentials::OidcRequest {
            url: format!("{}/token", tokens.uri()),
            token: "request-token".into(),
        }),
        endpoint_url: Some(moto),
        base_credentials: Some(Credentials::new("AKIDBASE", "base", None, None, "test")),
        max_attempts: Some(3),
        ..Default::default()
    })
    .await
    .expect("assumed");
    assert!(ctx.refreshable);
    // STS stays on moto (the provider's own config); ECS and Logs go to the simulator.
    let config = ctx
        .config
        .clone()
        .into_builder()
        .endpoint_url(sim.endpoint())
        .build();
    let (ecs, logs) = (Ecs::new(&config), Logs::new(&config));
    service(&ecs).await;
    let (r, lines) = deploy(&ecs, &logs, request("repo/api:v2")).await;
    assert_eq!(r.status, Status::Succeeded, "{lines:?}");
    let fetched = tokens.received_requests().await.unwrap_or_default().len();
    let keys = sim.access_keys();
    assert!(
        fetched >= 2,
        "the OIDC token was fetched again to re-assume: {fetched}"
    );
    assert!(keys.len() >= 2, "new keys were used: {keys:?}");
    assert!(!keys.iter().any(|k| k == "AKIDBASE"), "{keys:?}");
}
