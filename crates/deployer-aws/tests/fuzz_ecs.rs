//! Fuzz target: how deployer-aws handles what ECS answers. A wiremock server speaks the
//! ECS JSON 1.1 protocol with bodies taken from `tests/corpus/ecs/` (real ecs-sim answers
//! recorded per operation, plus hand-made nasty ones) and mutates them; every `Ecs`
//! read the deploy, wait, rollback and migration paths use is called against it. No
//! answer may panic, every refusal must name the operation, and `ok-*` answers must be
//! understood.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_credential_types::Credentials;
use deployer_aws::ecs::Ecs;
use deployer_aws::{AwsContext, LoadOptions};
use deployer_security_tests as fuzz;
use proptest::prelude::*;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const OPS: &[&str] = &[
    "DescribeServices",
    "ListServiceDeployments",
    "DescribeServiceDeployments",
    "DescribeServiceRevisions",
    "DescribeTaskDefinition",
    "RegisterTaskDefinition",
    "DescribeTasks",
    "ListTasks",
    "ListTaskDefinitions",
    "UpdateService",
];

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "-1",
    "1e400",
    "-0",
    "2147483648",
    "9223372036854775808",
    "\"status\":",
    "\"rolloutState\":",
    "\"FAILED\"",
    "\"SUCCESSFUL\"",
    "\"ROLLBACK_SUCCESSFUL\"",
    "\"PRIMARY\"",
    "\"createdAt\":",
    "\"taskDefinition\":",
    "\"deployments\":",
    "\"services\":",
    "\"failures\":",
    "\"nextToken\":",
    "\"exitCode\":",
    "\"__type\":",
    "\"ServerException\"",
    "\\u0000",
    "\\ud800",
    "\u{0}",
];

/// Answers by `X-Amz-Target`: the body (and status) currently set for that operation.
#[derive(Clone, Default)]
struct Answers(Arc<Mutex<HashMap<String, Answer>>>);

/// HTTP status and body.
type Answer = (u16, Vec<u8>);

impl Answers {
    fn set(&self, op: &str, status: u16, body: Vec<u8>) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(op.to_string(), (status, body));
    }
}

impl Respond for Answers {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let op = request
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("")
            .to_string();
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (status, body) = map.get(&op).cloned().unwrap_or((
            400,
            br#"{"__type":"InvalidParameterException","message":"no answer"}"#.to_vec(),
        ));
        ResponseTemplate::new(status)
            .insert_header("content-type", "application/x-amz-json-1.1")
            .set_body_bytes(body)
    }
}

struct Bed {
    /// The answers are shared: the two tests of this file take turns.
    turn: Mutex<()>,
    rt: tokio::runtime::Runtime,
    answers: Answers,
    ecs: Ecs,
    _server: MockServer,
}

fn op_of(name: &str) -> &str {
    let rest = name
        .strip_prefix("ok-")
        .or_else(|| name.strip_prefix("bad-"))
        .unwrap_or(name);
    rest.split('.').next().unwrap_or(rest)
}

fn templates() -> HashMap<String, Vec<u8>> {
    fuzz::corpus(env!("CARGO_MANIFEST_DIR"), "ecs")
        .into_iter()
        .filter(|(name, _)| name.starts_with("ok-"))
        .map(|(name, bytes)| (op_of(&name).to_string(), bytes))
        .collect()
}

fn bed() -> &'static Bed {
    static BED: OnceLock<Bed> = OnceLock::new();
    BED.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let answers = Answers::default();
        let (server, ecs) = rt.block_on(async {
            let server = MockServer::start().await;
            Mock::given(wiremock::matchers::method("POST"))
                .respond_with(answers.clone())
                .mount(&server)
                .await;
            let ctx = AwsContext::load(LoadOptions {
                region: Some("us-east-1".into()),
                endpoint_url: Some(server.uri()),
                base_credentials: Some(Credentials::new(
                    "AKIDFUZZ",
                    "fuzz-secret",
                    None,
                    None,
                    "fuzz",
                )),
                max_attempts: Some(1),
                attempt_timeout: Some(Duration::from_secs(5)),
                operation_timeout: Some(Duration::from_secs(10)),
                ..Default::default()
            })
            .await
            .expect("context");
            (server, Ecs::new(&ctx.config))
        });
        Bed {
            turn: Mutex::new(()),
            rt,
            answers,
            ecs,
            _server: server,
        }
    })
}

fn reset(b: &Bed) {
    for (op, body) in templates() {
        b.answers.set(&op, 200, body);
    }
}

const DEPLOYMENT_ARN: &str =
    "arn:aws:ecs:us-east-1:123456789012:service-deployment/shop/api/AbCdEf0123";
const TASK_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:task/shop/0123456789abcdef";

/// Calls the `Ecs` method that issues `op`. Ok(()) = understood, Err(message) = refused.
fn call(b: &Bed, op: &str) -> Result<(), String> {
    let e = &b.ecs;
    let result: Result<(), deployer_aws::Error> = b.rt.block_on(async {
        match op {
            "DescribeServices" => e.describe_service("shop", "api").await.map(|s| {
                let _ = s.primary();
            }),
            "ListServiceDeployments" => e
                .list_service_deployments("shop", "api", None)
                .await
                .map(drop),
            "DescribeServiceDeployments" => e
                .describe_service_deployment(DEPLOYMENT_ARN)
                .await
                .map(drop),
            "DescribeServiceRevisions" => e
                .revision_task_definition(
                    "arn:aws:ecs:us-east-1:123456789012:service-revision/shop/api/1",
                )
                .await
                .map(drop),
            "DescribeTaskDefinition" => e.describe_task_definition_raw("api:2").await.map(|td| {
                let _ = deployer_aws::taskdef::to_register_input(&td);
                let _ = deployer_aws::taskdef::container_names(&td);
                let _ = deployer_aws::wait::non_essential(&td);
            }),
            "RegisterTaskDefinition" => e
                .register_task_definition(&deployer_aws::testing::task_definition(
                    "api",
                    "repo/api:v2",
                ))
                .await
                .map(drop),
            "DescribeTasks" => e
                .describe_tasks("shop", &[TASK_ARN.to_string()])
                .await
                .map(|ts| {
                    for t in &ts {
                        let _ = t.id();
                    }
                }),
            "ListTasks" => e.stopped_task_arns("shop", "api").await.map(drop),
            "ListTaskDefinitions" => e.list_task_definitions("api").await.map(drop),
            "UpdateService" => e
                .update_service("shop", "api", "api:2", None, false)
                .await
                .map(drop),
            other => unreachable!("no op {other}"),
        }
    });
    result.map_err(|err| err.to_string())
}

#[test]
fn corpus_replays() {
    let b = bed();
    let _turn = b.turn.lock().unwrap_or_else(|p| p.into_inner());
    for (name, bytes) in fuzz::corpus(env!("CARGO_MANIFEST_DIR"), "ecs") {
        reset(b);
        let op = op_of(&name);
        assert!(OPS.contains(&op), "{name}: unknown operation {op}");
        b.answers.set(op, 200, bytes);
        let result = call(b, op);
        match fuzz::expectation(&name) {
            fuzz::Expect::Ok => assert!(result.is_ok(), "{name}: {result:?}"),
            fuzz::Expect::Err => {
                let err = result.expect_err(&name);
                assert!(err.len() > 10, "{name}: unhelpful message {err:?}");
            }
            fuzz::Expect::Either => {}
        }
    }
}

proptest! {
    #![proptest_config(fuzz::config(300))]

    #[test]
    fn mutated_answers_never_panic(
        which in 0..OPS.len(),
        status in proptest::sample::select(&[200u16, 200, 200, 200, 400, 404, 500, 503][..]),
        body in fuzz::mutated(fuzz::seeds(&fuzz::corpus(env!("CARGO_MANIFEST_DIR"), "ecs")), TOKENS),
    ) {
        let b = bed();
        let _turn = b.turn.lock().unwrap_or_else(|p| p.into_inner());
        reset(b);
        let op = OPS[which];
        b.answers.set(op, status, body);
        if let Err(msg) = call(b, op) {
            prop_assert!(!msg.trim().is_empty(), "empty error message for {op}");
        }
    }
}

// The wait engine's verdict from whatever the answers held: no input panics `observe` or
// `judge`, and Success is only ever given for a SUCCESSFUL deployment of the target
// revision that the service now serves (DESIGN.md: never "the service is stable" alone).

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(
            &[
                "SUCCESSFUL",
                "IN_PROGRESS",
                "PENDING",
                "STOPPED",
                "STOP_REQUESTED",
                "ROLLBACK_REQUESTED",
                "ROLLBACK_IN_PROGRESS",
                "ROLLBACK_SUCCESSFUL",
                "ROLLBACK_FAILED",
                "TRIGGERED",
                "MONITORING",
                "BAKE_TIME",
                "TEST_TRAFFIC_SHIFT",
                "CLEAN_UP",
                "COMPLETED",
                "FAILED",
                "",
                "api:1",
                "api:2",
                "arn:aws:ecs:us-east-1:123456789012:task-definition/api:2",
            ][..]
        )
        .prop_map(String::from),
        "\\PC{0,24}",
    ]
}

fn event() -> impl Strategy<Value = deployer_aws::ecs::ServiceEvent> {
    (
        "[a-f0-9]{0,8}",
        any::<f64>(),
        prop_oneof![
            Just("(service api) was unable to place a task because no container instance met all of its requirements.".to_string()),
            Just("(service api) has reached a steady state.".to_string()),
            "\\PC{0,80}",
        ],
    )
        .prop_map(|(id, at, message)| deployer_aws::ecs::ServiceEvent { id, at, message })
}

fn task() -> impl Strategy<Value = deployer_aws::ecs::TaskInfo> {
    (
        word(),
        word(),
        proptest::option::of(word()),
        proptest::option::of("\\PC{0,60}"),
        proptest::option::of(any::<f64>()),
        proptest::collection::vec(
            (
                word(),
                proptest::option::of(any::<i32>()),
                proptest::option::of("\\PC{0,40}"),
            ),
            0..3,
        ),
    )
        .prop_map(|(td, last, stop_code, reason, at, containers)| {
            deployer_aws::ecs::TaskInfo {
                arn: "arn:aws:ecs:us-east-1:123456789012:task/shop/abc".into(),
                task_definition: td,
                last_status: last.into(),
                desired_status: "STOPPED".into(),
                stop_code: stop_code.map(Into::into),
                stopped_reason: reason,
                stopped_at: at,
                started_at: None,
                created_at: None,
                started_by: None,
                containers: containers
                    .into_iter()
                    .map(
                        |(name, exit_code, reason)| deployer_aws::ecs::ContainerState {
                            name,
                            exit_code,
                            reason,
                            last_status: Some("STOPPED".into()),
                            runtime_id: None,
                        },
                    )
                    .collect(),
            }
        })
}

fn deployment() -> impl Strategy<Value = deployer_aws::ecs::ServiceDeploymentInfo> {
    (
        (
            word(),
            proptest::option::of("\\PC{0,40}"),
            proptest::option::of(word()),
        ),
        (any::<i32>(), any::<i32>(), any::<i32>()),
        (
            proptest::option::of(word()),
            proptest::option::of(word()),
            any::<i32>(),
            any::<i32>(),
        ),
        (
            proptest::option::of(word()),
            proptest::option::of("\\PC{0,40}"),
        ),
    )
        .prop_map(
            |(
                (status, reason, stage),
                (running, pending, requested),
                (breaker, alarms, bf, bt),
                (rev, rb),
            )| {
                deployer_aws::ecs::ServiceDeploymentInfo {
                    arn: "arn:aws:ecs:us-east-1:123456789012:service-deployment/shop/api/x".into(),
                    status: status.into(),
                    status_reason: reason,
                    target_revision: rev,
                    target_running: running,
                    target_pending: pending,
                    target_requested: requested,
                    lifecycle_stage: stage.map(Into::into),
                    breaker_status: breaker.map(Into::into),
                    breaker_failures: bf,
                    breaker_threshold: bt,
                    alarms_status: alarms.map(Into::into),
                    rollback_reason: rb,
                    ..Default::default()
                }
            },
        )
}

fn snapshot() -> impl Strategy<Value = deployer_aws::wait::Snapshot> {
    (
        proptest::option::of(deployment()),
        (
            word(),
            word(),
            proptest::option::of(word()),
            proptest::option::of(word()),
        ),
        (any::<i32>(), any::<i32>(), any::<i32>(), 0usize..4),
        proptest::collection::vec(event(), 0..4),
        proptest::collection::vec(task(), 0..3),
    )
        .prop_map(
            |(
                deployment,
                (target, service, primary, rollout),
                (running, pending, desired, count),
                new_events,
                stopped_tasks,
            )| {
                deployer_aws::wait::Snapshot {
                    deployment,
                    deployment_arn:
                        "arn:aws:ecs:us-east-1:123456789012:service-deployment/shop/api/x".into(),
                    target_task_definition: target,
                    service_task_definition: service,
                    primary_task_definition: primary,
                    primary_rollout_state: rollout.map(Into::into),
                    current_service_deployment: None,
                    running,
                    pending,
                    desired,
                    deployments_count: count,
                    new_events,
                    stopped_tasks,
                    deployment_started_at: None,
                    other_deployment: None,
                }
            },
        )
}

proptest! {
    #![proptest_config(fuzz::config(500))]

    #[test]
    fn the_verdict_never_calls_garbage_a_success(
        ticks in proptest::collection::vec((snapshot(), any::<f64>()), 1..4),
        wait_until in proptest::sample::select(&["deployed", "test-traffic", "paused"][..]),
    ) {
        let mut history = deployer_aws::wait::History::default();
        let opts = deployer_aws::wait::JudgeOptions {
            wait_until: wait_until.parse().unwrap_or_default(),
            ..Default::default()
        };
        for (snap, elapsed) in &ticks {
            deployer_aws::wait::observe(&mut history, snap, *elapsed);
            let verdict = deployer_aws::wait::judge(snap, &history, *elapsed, &opts);
            let _ = deployer_aws::wait::verdict_label(&verdict);
            if verdict == deployer_aws::wait::Verdict::Success {
                let d = snap.deployment.as_ref();
                prop_assert!(d.is_some_and(|d| d.status == deployer_aws::states::ServiceDeploymentStatus::Successful), "success without a SUCCESSFUL deployment: {snap:?}");
                prop_assert_eq!(&snap.service_task_definition, &snap.target_task_definition);
                prop_assert!(snap.primary_task_definition.as_ref().is_none_or(|p| p == &snap.target_task_definition));
            }
        }
    }
}
