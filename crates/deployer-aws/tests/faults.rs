//! Faults during a deploy's wait, against ecs-sim: ECS throttling, answering 5xx, answering
//! slower than the per-attempt timeout, hanging, refusing connections (and coming back, or
//! not), credentials expiring mid-wait, and two deploys of one service at once. For each:
//! the verdict is the deployment's real outcome (or "unknown"), never a false success or a
//! false failure. One test per row of README's "Faults during a deploy" table.
//!
//! deployer runs as shipped: the SDK's default retries and timeouts (8 attempts, 30 s per
//! attempt, 120 s per call) and the wait's defaults (5 s polls, 300 s without an answer
//! before "unknown", 15 min timeout), all on a clock [`SCALE`] times faster than real time,
//! in step with the simulator's. Each fault lasts until the run has said it saw it (a
//! condition, never a sleep), so no test depends on how fast this machine is.
#![recursion_limit = "512"]

use std::sync::Mutex;
use std::time::Duration;

use aws_credential_types::Credentials;
use deployer_aws::deploy::{DeployReport, DeployRequest, Status, deploy_service};
use deployer_aws::ecs::Ecs;
use deployer_aws::logs::Logs;
use deployer_aws::states::ServiceDeploymentStatus;
use deployer_aws::wait::{CauseKind, Clock, WatchOptions};
use deployer_aws::{AwsContext, LoadOptions};
use ecs_sim::{Faults, Scenario, SimConfig, SimHandle};

const CLUSTER: &str = "shop";

/// Simulated (and deployer's) seconds per real second.
const SCALE: f64 = 10.0;

/// deployer's default bound on a silence before the verdict is unknown.
const BOUND: u64 = 300;

/// v2 rolls out in ~4 s real time; crash fails within a second; slow is still in progress
/// long after the bound; late-crash crashes ~10 s real after its deploy began.
const SCENARIO: &str = r#"
default: {kind: healthy, start-after: 10}
images:
  "repo/api:v2": {kind: healthy, start-after: 40}
  "repo/api:v3": {kind: healthy, start-after: 40}
  "repo/api:slow": {kind: healthy, start-after: 3000}
  "repo/api:crash": {kind: crash-loop, start-after: 2, after: 3, exit-code: 3, logs: ["FATAL: cannot connect to database"]}
  "repo/api:late-crash": {kind: crash-loop, start-after: 100, after: 3, exit-code: 3, logs: ["FATAL: cannot connect to database"]}
"#;

/// What a run said, shared with the code that injects faults as it watches the run.
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
    fn said(&self, needle: &str) -> bool {
        self.0
            .lock()
            .expect("lock")
            .iter()
            .any(|l| l.contains(needle))
    }
}

/// Returns once the run has said `needle`. Polls what was said (a condition, not a guess
/// at how long something takes); the limit only turns a bug into a failure, not a hang.
async fn until_said(lines: &Lines, needle: &str) {
    for _ in 0..6000 {
        if lines.said(needle) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the run never said `{needle}`: {:?}", lines.all());
}

fn sim() -> SimHandle {
    ecs_sim::spawn(SimConfig {
        scenario: Scenario::from_yaml(SCENARIO).expect("scenario"),
        time_scale: SCALE,
        seed: 11,
    })
    .expect("sim")
}

/// The SDK's default retries and timeouts, on the simulator's clock.
async fn clients(endpoint: &str) -> (Ecs, Logs) {
    clients_with(endpoint, LoadOptions::default()).await
}

/// `sdk`'s retries and timeouts, on the simulator's clock.
async fn clients_with(endpoint: &str, sdk: LoadOptions) -> (Ecs, Logs) {
    let ctx = AwsContext::load(LoadOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.to_string()),
        base_credentials: Some(Credentials::new("AKIDTEST", "secret", None, None, "test")),
        ..sdk
    })
    .await
    .expect("context");
    let config = ctx
        .config
        .into_builder()
        .sleep_impl(Clock::scaled(SCALE))
        .build();
    (Ecs::new(&config), Logs::new(&config))
}

async fn service(ecs: &Ecs) -> String {
    deployer_aws::testing::create_service(ecs, CLUSTER, "api", "repo/api:v1", 2, false, 200).await
}

/// A deploy with every wait setting at its default, on the simulator's clock.
fn request(image: &str) -> DeployRequest {
    let mut req = deployer_aws::testing::deploy_request(CLUSTER, "api", image);
    req.watch = WatchOptions {
        clock: Clock::scaled(SCALE),
        ..Default::default()
    };
    req
}

async fn deploy(ecs: &Ecs, logs: &Logs, req: DeployRequest, lines: &Lines) -> DeployReport {
    let say = |s: &str| lines.say(s);
    deploy_service(ecs, logs, &req, &say)
        .await
        .expect("deploy ran")
}

/// What a fault test injects, from the moment the wait has begun.
#[derive(Clone)]
enum Fault {
    /// These faults on every call.
    Calls(Faults),
    /// The port closed: connections refused.
    Refused,
}

impl Fault {
    fn start(&self, sim: &SimHandle) {
        match self {
            Fault::Calls(f) => sim.set_faults(f.clone()),
            Fault::Refused => sim.outage(Duration::from_secs(3600)),
        }
    }
    fn stop(&self, sim: &SimHandle) {
        match self {
            Fault::Calls(_) => sim.set_faults(Faults::default()),
            // A new outage replaces what is left of the running one: zero ends it now.
            Fault::Refused => sim.outage(Duration::ZERO),
        }
    }
}

/// Turns `fault` on once the deploy is waiting on its deployment, and off once the run has
/// said `seen` (the wait saw the fault: the SDK's own retries did not hide it).
async fn fault_until_seen(sim: &SimHandle, lines: &Lines, fault: &Fault, seen: &str) {
    until_said(lines, "service deployment arn:").await;
    fault.start(sim);
    until_said(lines, seen).await;
    fault.stop(sim);
}

fn assert_said(lines: &[String], needle: &str) {
    assert!(
        lines.iter().any(|l| l.contains(needle)),
        "the run says `{needle}`: {lines:?}"
    );
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

/// Runs a healthy deploy then a crash-looping one, each with `fault` from the start of its
/// wait until the run says `seen`; checks both verdicts, where the service ends up, and
/// that each run said `seen` and then (for the outage) that ECS answers again.
async fn both_verdicts_survive(fault: Fault, seen: &str) -> (Vec<String>, Vec<String>) {
    let sim = sim();
    let (ecs, logs) = clients(&sim.endpoint()).await;
    service(&ecs).await;

    let lines = Lines::new();
    let (r, ()) = tokio::join!(
        deploy(&ecs, &logs, request("repo/api:v2"), &lines),
        fault_until_seen(&sim, &lines, &fault, seen)
    );
    let healthy = lines.all();
    assert_eq!(r.status, Status::Succeeded, "{healthy:?}");
    let svc = ecs.describe_service(CLUSTER, "api").await.expect("svc");
    assert_eq!(
        svc.task_definition, r.task_definition_arn,
        "the new revision"
    );
    let good = r.task_definition_arn.clone();

    let lines = Lines::new();
    let (bad, ()) = tokio::join!(
        deploy(&ecs, &logs, request("repo/api:crash"), &lines),
        fault_until_seen(&sim, &lines, &fault, seen)
    );
    let crashed = lines.all();
    assert_crash_failure(&bad, &crashed);
    let svc = ecs.describe_service(CLUSTER, "api").await.expect("svc");
    assert_eq!(svc.task_definition, good, "back on the good revision");
    (healthy, crashed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_keeps_both_verdicts_right_and_says_it_slows_down() {
    let throttled = Fault::Calls(Faults {
        throttle_rate: 1.0,
        ..Default::default()
    });
    // The default 5 s poll, doubled on the first throttled tick.
    let said = "AWS is throttling us; polling every 10 s for now";
    for lines in <[_; 2]>::from(both_verdicts_survive(throttled, said).await) {
        assert_said(&lines, said);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_keep_both_verdicts_right_and_say_the_wait_retries() {
    let failing = Fault::Calls(Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    let said = "could not read the deployment state (will retry)";
    for lines in <[_; 2]>::from(both_verdicts_survive(failing, said).await) {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(said) && l.contains("ServerException")),
            "names the error: {lines:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_slower_than_the_attempt_timeout_keep_both_verdicts_right() {
    // 5 s real per answer is 50 s on the clock, against the SDK's 30 s attempt timeout:
    // every attempt times out until the call's 120 s run out.
    let slow = Fault::Calls(Faults {
        latency_ms: 5_000,
        ..Default::default()
    });
    let said = "could not read the deployment state (will retry)";
    for lines in <[_; 2]>::from(both_verdicts_survive(slow, said).await) {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(said) && l.to_ascii_lowercase().contains("timeout")),
            "says the calls timed out: {lines:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_then_back_on_the_same_port_keeps_both_verdicts_right() {
    let said = "could not read the deployment state (will retry)";
    for lines in <[_; 2]>::from(both_verdicts_survive(Fault::Refused, said).await) {
        assert_said(&lines, said);
        assert_said(&lines, "ECS answers again after ");
    }
}

/// A fault that never ends, from the moment a deploy of `image` (with `sdk`'s retries and
/// timeouts) waits on its deployment. Checks the row's verdict, words and bound; returns the
/// report, what the run said, and the simulator and a client of it, faults cleared.
async fn contact_lost_for_good(
    fault: Fault,
    image: &str,
    sdk: LoadOptions,
) -> (DeployReport, Vec<String>, SimHandle, Ecs) {
    let sim = sim();
    let (ecs, logs) = clients_with(&sim.endpoint(), sdk).await;
    let v1 = service(&ecs).await;
    let updates = sim.call_count("UpdateService");
    let lines = Lines::new();
    let (r, fault_began) = tokio::join!(deploy(&ecs, &logs, request(image), &lines), async {
        until_said(&lines, "service deployment arn:").await;
        let at = sim.sim_now();
        fault.start(&sim);
        at
    });
    let waited = sim.sim_now() - fault_began;
    let lines = lines.all();
    assert_eq!(r.status, Status::Unknown, "{lines:?}");
    assert!(r.cause.is_none(), "no invented cause: {:?}", r.cause);
    assert!(
        r.rollback.is_none(),
        "no rollback attempted: {:?}",
        r.rollback
    );
    assert_ne!(r.task_definition_arn, v1);
    let next = r.next_step.clone().unwrap_or_default();
    for needle in [
        "the outcome is UNKNOWN: deployer lost contact with ECS (no answer from ECS for ",
        "may still succeed or fail on its own; nothing was rolled back",
        &format!(
            "aws ecs describe-service-deployments --service-deployment-arns {}",
            r.service_deployment_arn
        ),
        "rollback --cluster shop --service api",
    ] {
        assert!(next.contains(needle), "{needle}: {next}");
    }
    assert_said(&lines, "the outcome is UNKNOWN");
    // The verdict arrives at the bound, and says how long the silence really was.
    let silent: u64 = next
        .split("no answer from ECS for ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the silence in seconds");
    assert!((BOUND..BOUND + 30).contains(&silent), "{silent} s: {next}");
    assert!(
        waited < (BOUND + 30) as f64,
        "unknown {waited:.0} s (simulated) after the fault began, not at the {BOUND} s bound"
    );
    // deployer touched nothing after its UpdateService.
    fault.stop(&sim);
    sim.set_faults(Faults::default());
    assert_eq!(sim.call_count("UpdateService"), updates + 1);
    assert_eq!(sim.call_count("StopServiceDeployment"), 0);
    (r, lines, sim, ecs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_hangs_for_good_is_unknown_at_the_bound_and_left_untouched() {
    // Answers take ten minutes: only the SDK's timeouts and deployer's bound end a call.
    let hang = Fault::Calls(Faults {
        latency_ms: 600_000,
        ..Default::default()
    });
    let (r, _, _sim, ecs) =
        contact_lost_for_good(hang, "repo/api:slow", LoadOptions::default()).await;
    let d = ecs
        .describe_service_deployment(&r.service_deployment_arn)
        .await
        .expect("dep");
    assert_eq!(
        d.status,
        ServiceDeploymentStatus::InProgress,
        "the deployment goes on untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bound_holds_even_when_one_sdk_call_may_outlast_it() {
    // One attempt may take 10 minutes and a call an hour: only deployer's bound ends the wait.
    let sdk = LoadOptions {
        attempt_timeout: Some(Duration::from_secs(600)),
        operation_timeout: Some(Duration::from_secs(3600)),
        ..Default::default()
    };
    let hang = Fault::Calls(Faults {
        latency_ms: 600_000,
        ..Default::default()
    });
    let (r, _, _sim, _ecs) = contact_lost_for_good(hang, "repo/api:slow", sdk).await;
    let next = r.next_step.unwrap_or_default();
    assert!(
        next.contains("a call still unanswered when the wait gave up on it"),
        "{next}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_looping_rollout_behind_a_hung_endpoint_is_unknown_too() {
    let hang = Fault::Calls(Faults {
        latency_ms: 600_000,
        ..Default::default()
    });
    contact_lost_for_good(hang, "repo/api:late-crash", LoadOptions::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecs_that_never_comes_back_is_unknown_at_the_bound_and_nothing_is_rolled_back() {
    let (r, _, _sim, ecs) =
        contact_lost_for_good(Fault::Refused, "repo/api:slow", LoadOptions::default()).await;
    let d = ecs
        .describe_service_deployment(&r.service_deployment_arn)
        .await
        .expect("dep");
    assert_eq!(
        d.status,
        ServiceDeploymentStatus::InProgress,
        "the deployment is still in progress"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_looping_rollout_behind_an_ecs_that_never_comes_back_is_unknown_too() {
    contact_lost_for_good(
        Fault::Refused,
        "repo/api:late-crash",
        LoadOptions::default(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_deploys_at_once_the_second_waits_for_the_first() {
    let sim = sim();
    let (ecs, logs) = clients(&sim.endpoint()).await;
    service(&ecs).await;
    let (l1, l2) = (Lines::new(), Lines::new());
    let (r1, r2) = tokio::join!(deploy(&ecs, &logs, request("repo/api:v2"), &l1), async {
        until_said(&l1, "service deployment arn:").await;
        deploy(&ecs, &logs, request("repo/api:v3"), &l2).await
    });
    let (l1, l2) = (l1.all(), l2.all());
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
    let (ecs, logs) = clients(&sim.endpoint()).await;
    service(&ecs).await;
    let other = ecs
        .register_task_definition(&deployer_aws::testing::task_definition(
            "api",
            "repo/api:v3",
        ))
        .await
        .expect("register");
    let lines = Lines::new();
    let (r, ()) = tokio::join!(deploy(&ecs, &logs, request("repo/api:v2"), &lines), async {
        until_said(&lines, "service deployment arn:").await;
        ecs.update_service(CLUSTER, "api", &other, None, false)
            .await
            .expect("other update");
    });
    assert_eq!(r.status, Status::Failed, "{:?}", lines.all());
    let cause = r.cause.clone().expect("cause");
    assert_eq!(cause.kind, CauseKind::Superseded, "{cause:?}");
    assert!(cause.summary.contains("api:"), "{cause:?}");
    assert!(r.rollback.is_none(), "the newer deployment is left alone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_image_again_registers_nothing_and_starts_no_deployment() {
    let sim = sim();
    let (ecs, logs) = clients(&sim.endpoint()).await;
    service(&ecs).await;
    let lines = Lines::new();
    let r = deploy(&ecs, &logs, request("repo/api:v2"), &lines).await;
    assert_eq!(r.status, Status::Succeeded, "{:?}", lines.all());
    let (registers, updates) = (
        sim.call_count("RegisterTaskDefinition"),
        sim.call_count("UpdateService"),
    );
    let again = deploy(&ecs, &logs, request("repo/api:v2"), &Lines::new()).await;
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
async fn credentials_expiring_mid_wait_are_renewed_through_oidc_and_nothing_is_said() {
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
        .sleep_impl(Clock::scaled(SCALE))
        .build();
    let (ecs, logs) = (Ecs::new(&config), Logs::new(&config));
    service(&ecs).await;
    let lines = Lines::new();
    let r = deploy(&ecs, &logs, request("repo/api:v2"), &lines).await;
    let lines = lines.all();
    assert_eq!(r.status, Status::Succeeded, "{lines:?}");
    let svc = ecs.describe_service(CLUSTER, "api").await.expect("svc");
    assert_eq!(
        svc.task_definition, r.task_definition_arn,
        "the new revision"
    );
    for fault in ["could not read", "throttling", "ECS answers again"] {
        assert!(
            !lines.iter().any(|l| l.contains(fault)),
            "the renewal is silent, yet the run said `{fault}`: {lines:?}"
        );
    }
    let fetched = tokens.received_requests().await.unwrap_or_default().len();
    let keys = sim.access_keys();
    assert!(
        fetched >= 2,
        "the OIDC token was fetched again to re-assume: {fetched}"
    );
    assert!(keys.len() >= 2, "new keys were used: {keys:?}");
    assert!(!keys.iter().any(|k| k == "AKIDBASE"), "{keys:?}");
}
