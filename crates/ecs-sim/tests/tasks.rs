//! One-off tasks, logs and faults through the AWS Rust SDK.

mod common;

use std::io::{Read, Write};

use aws_sdk_ecs::types::{ContainerOverride, KeyValuePair, TaskOverride};
use common::*;

const SCENARIO: &str = r#"
images:
  "migrate:*": {kind: exits, exit-code: 3, after: 30, logs: ["applying 0001_init", "applying 0002_users", "ERROR: relation exists"]}
  "migrate:ok": {kind: exits, exit-code: 0, after: 5, logs: ["done"]}
  "ghcr.io/x/missing:*": {kind: pull-failure}
  "app:dies": {kind: dies-after, after: 90, exit-code: 137}
commands:
  "alembic downgrade*": {kind: exits, exit-code: 4, after: 2, logs: ["cannot downgrade below 0001"]}
"#;

fn code(
    err: &aws_sdk_ecs::error::SdkError<
        impl aws_sdk_ecs::error::ProvideErrorMetadata,
        impl std::fmt::Debug,
    >,
) -> Option<String> {
    err.as_service_error()
        .and_then(|e| e.code())
        .map(str::to_string)
}

async fn task(c: &aws_sdk_ecs::Client, arn: &str) -> aws_sdk_ecs::types::Task {
    let out = c
        .describe_tasks()
        .cluster("c")
        .tasks(arn)
        .send()
        .await
        .expect("describe tasks");
    out.tasks().first().cloned().expect("task")
}

async fn wait_stopped(c: &aws_sdk_ecs::Client, arn: &str) -> aws_sdk_ecs::types::Task {
    until("task STOPPED", 20, || async {
        let t = task(c, arn).await;
        (t.last_status() == Some("STOPPED")).then_some(t)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_off_task_exits_with_code_and_logs() {
    let sim = sim(SCENARIO, 100.0);
    let c = ecs(&sim);
    c.create_cluster()
        .cluster_name("c")
        .send()
        .await
        .expect("cluster");
    let td = register(&c, "migrate", "migrate:v9").await;
    let overrides = TaskOverride::builder()
        .container_overrides(
            ContainerOverride::builder()
                .name("app")
                .command("alembic")
                .command("upgrade")
                .command("head")
                .environment(KeyValuePair::builder().name("X").value("1").build())
                .build(),
        )
        .build();
    let net = aws_sdk_ecs::types::NetworkConfiguration::builder()
        .awsvpc_configuration(
            aws_sdk_ecs::types::AwsVpcConfiguration::builder()
                .subnets("subnet-123")
                .build()
                .expect("vpc"),
        )
        .build();
    let run = c
        .run_task()
        .cluster("c")
        .task_definition(&td)
        .started_by("deployer")
        .client_token("tok-1")
        .overrides(overrides.clone())
        .network_configuration(net.clone())
        .send()
        .await
        .expect("run");
    assert!(run.failures().is_empty());
    let t = &run.tasks()[0];
    let arn = t.task_arn().expect("arn").to_string();
    assert_eq!(t.last_status(), Some("PROVISIONING"));
    assert_eq!(t.started_by(), Some("deployer"));
    assert_eq!(
        t.overrides()
            .map(|o| o.container_overrides()[0].command().to_vec()),
        Some(vec!["alembic".to_string(), "upgrade".into(), "head".into()])
    );
    assert!(
        t.attachments()[0]
            .details()
            .iter()
            .any(|d| d.value() == Some("subnet-123"))
    );
    // Idempotent with the same client token.
    let again = c
        .run_task()
        .cluster("c")
        .task_definition(&td)
        .client_token("tok-1")
        .send()
        .await
        .expect("run again");
    assert_eq!(again.tasks()[0].task_arn(), Some(arn.as_str()));

    let id = arn.rsplit('/').next().expect("id").to_string();
    let stream = format!("ecs/app/{id}");
    let l = logs(&sim);
    // Lines appear over time while the task runs.
    let partial = until("some but not all log lines", 20, || async {
        let out = l
            .get_log_events()
            .log_group_name("/ecs/test")
            .log_stream_name(&stream)
            .start_from_head(true)
            .send()
            .await
            .ok()?;
        let n = out.events().len();
        (1..3).contains(&n).then_some(n)
    })
    .await;
    assert!(partial < 3);
    let stopped = wait_stopped(&c, &arn).await;
    assert_eq!(
        stopped.stop_code().map(|s| s.as_str()),
        Some("EssentialContainerExited")
    );
    assert_eq!(
        stopped.stopped_reason(),
        Some("Essential container in task exited")
    );
    assert_eq!(stopped.containers()[0].exit_code(), Some(3));
    assert!(stopped.started_at().is_some() && stopped.stopped_at().is_some());
    let out = l
        .get_log_events()
        .log_group_name("/ecs/test")
        .log_stream_name(&stream)
        .start_from_head(true)
        .send()
        .await
        .expect("logs");
    let lines: Vec<&str> = out.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(
        lines,
        [
            "applying 0001_init",
            "applying 0002_users",
            "ERROR: relation exists"
        ]
    );
    // Paging forward from the returned token yields nothing new.
    let next = l
        .get_log_events()
        .log_group_name("/ecs/test")
        .log_stream_name(&stream)
        .next_token(out.next_forward_token().expect("token"))
        .start_from_head(true)
        .send()
        .await
        .expect("logs");
    assert!(next.events().is_empty());
    let f = l
        .filter_log_events()
        .log_group_name("/ecs/test")
        .filter_pattern("ERROR")
        .send()
        .await
        .expect("filter");
    assert_eq!(f.events().len(), 1);
    let ds = l
        .describe_log_streams()
        .log_group_name("/ecs/test")
        .log_stream_name_prefix("ecs/app/")
        .send()
        .await
        .expect("streams");
    assert_eq!(ds.log_streams().len(), 1);
    let err = l
        .get_log_events()
        .log_group_name("/ecs/test")
        .log_stream_name("nope")
        .send()
        .await
        .expect_err("missing stream");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception())
    );
    assert!(sim.call_count("GetLogEvents") >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_failure_and_bad_input() {
    let sim = sim(SCENARIO, 300.0);
    let c = ecs(&sim);
    c.create_cluster()
        .cluster_name("c")
        .send()
        .await
        .expect("cluster");
    let td = register(&c, "bad", "ghcr.io/x/missing:1").await;
    let run = c
        .run_task()
        .cluster("c")
        .task_definition(&td)
        .send()
        .await
        .expect("run");
    let arn = run.tasks()[0].task_arn().expect("arn").to_string();
    let t = wait_stopped(&c, &arn).await;
    assert_eq!(t.stop_code().map(|s| s.as_str()), Some("TaskFailedToStart"));
    assert!(
        t.stopped_reason()
            .is_some_and(|r| r.starts_with("CannotPullContainerError:")),
        "{:?}",
        t.stopped_reason()
    );
    assert_eq!(t.containers()[0].exit_code(), None);
    assert!(
        t.containers()[0]
            .reason()
            .is_some_and(|r| r.contains("CannotPullContainerError"))
    );
    assert!(t.started_at().is_none());

    let missing = c
        .run_task()
        .cluster("ghost")
        .task_definition(&td)
        .send()
        .await
        .expect("run");
    assert_eq!(missing.failures()[0].reason(), Some("MISSING"));
    let err = c
        .run_task()
        .cluster("c")
        .task_definition("nope:1")
        .send()
        .await
        .expect_err("unknown td");
    assert_eq!(code(&err).as_deref(), Some("ClientException"));

    // Malformed JSON -> SerializationException, and no panic.
    let mut s = std::net::TcpStream::connect(sim.endpoint().trim_start_matches("http://"))
        .expect("connect");
    let body = "{not json";
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AmazonEC2ContainerServiceV20141113.ListTasks\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    assert!(resp.contains("SerializationException"), "{resp}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_task_is_user_initiated_and_dies_after_is_replaced() {
    let sim = sim(SCENARIO, 300.0);
    let c = ecs(&sim);
    healthy_service(&c, "d", "app:dies", 1, true).await;
    let first = c
        .list_tasks()
        .cluster("c")
        .service_name("d")
        .send()
        .await
        .expect("list")
        .task_arns()[0]
        .clone();
    // The task counts healthy 40 s after RUNNING (no health check), dies 90 s after RUNNING;
    // the service replaces it without tripping the breaker.
    let t = wait_stopped(&c, &first).await;
    assert_eq!(t.containers()[0].exit_code(), Some(137));
    let arn = until("replacement", 20, || async {
        let l = c
            .list_tasks()
            .cluster("c")
            .service_name("d")
            .send()
            .await
            .ok()?;
        l.task_arns().iter().find(|a| **a != first).cloned()
    })
    .await;
    let s = describe(&c, "d").await;
    assert_eq!(
        s.deployments()[0].rollout_state().map(|r| r.as_str()),
        Some("COMPLETED")
    );

    let stop = c
        .stop_task()
        .cluster("c")
        .task(&arn)
        .reason("manual")
        .send()
        .await
        .expect("stop");
    assert_eq!(
        stop.task().and_then(|t| t.desired_status()),
        Some("STOPPED")
    );
    let t = wait_stopped(&c, &arn).await;
    assert_eq!(t.stop_code().map(|s| s.as_str()), Some("UserInitiated"));
    assert_eq!(t.stopped_reason(), Some("manual"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_server_errors() {
    let sim = sim(
        "faults: {throttle-rate: 1.0, latency-ms: 5, operations: [DescribeClusters]}\n",
        300.0,
    );
    let c = ecs(&sim);
    c.create_cluster()
        .cluster_name("c")
        .send()
        .await
        .expect("not faulted");
    let err = c
        .describe_clusters()
        .clusters("c")
        .send()
        .await
        .expect_err("throttled");
    assert_eq!(code(&err).as_deref(), Some("ThrottlingException"));
    assert_eq!(
        err.as_service_error()
            .and_then(|e| aws_sdk_ecs::error::ProvideErrorMetadata::message(e)),
        Some("Rate exceeded")
    );
    assert_eq!(sim.call_count("DescribeClusters"), 1);
    assert_eq!(sim.call_count("CreateCluster"), 1);
    assert_eq!(sim.total_calls(), 2);

    let sim = sim_with_errors();
    let c = ecs(&sim);
    let err = c.list_clusters().send().await.expect_err("500");
    assert_eq!(code(&err).as_deref(), Some("ServerException"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
}

fn sim_with_errors() -> ecs_sim::SimHandle {
    sim("faults: {error-rate: 1.0}\n", 300.0)
}

#[test]
fn works_from_sync_code_and_partial_fault_rates_are_deterministic() {
    let run = || {
        let sim = sim("faults: {throttle-rate: 0.5}\n", 60.0);
        let rt = tokio::runtime::Runtime::new().expect("rt");
        rt.block_on(async {
            let c = ecs(&sim);
            let mut pattern = Vec::new();
            for _ in 0..20 {
                pattern.push(c.list_clusters().send().await.is_ok());
            }
            pattern
        })
    };
    let a = run();
    assert_eq!(a, run(), "same seed, same faults");
    assert!(a.iter().any(|x| *x) && a.iter().any(|x| !*x));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_rules_pick_the_behaviour_of_a_migration_on_the_service_image() {
    let sim = sim(SCENARIO, 100.0);
    let c = ecs(&sim);
    c.create_cluster()
        .cluster_name("c")
        .send()
        .await
        .expect("cluster");
    // The service image is healthy (long-running) by the image rules ...
    let td = register(&c, "api", "app:v1").await;
    let overrides = TaskOverride::builder()
        .container_overrides(
            ContainerOverride::builder()
                .name("app")
                .command("alembic")
                .command("downgrade")
                .command("-1")
                .build(),
        )
        .build();
    let run = c
        .run_task()
        .cluster("c")
        .task_definition(&td)
        .overrides(overrides)
        .send()
        .await
        .expect("run");
    let arn = run.tasks()[0].task_arn().expect("arn").to_string();
    // ... but run with a matching command it exits like a migration.
    let stopped = wait_stopped(&c, &arn).await;
    assert_eq!(stopped.containers()[0].exit_code(), Some(4));
}
