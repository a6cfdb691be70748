//! Rolling deployments through the AWS Rust SDK.

mod common;

use aws_sdk_ecs::client::Waiters;
use aws_sdk_ecs::types::StopServiceDeploymentStopType;
use common::*;

const SCENARIO: &str = r#"
images:
  "app:crash*": {kind: crash-loop, exit-code: 2, logs: ["Traceback (most recent call last):", "RuntimeError: boom"]}
  "app:slow": {kind: healthy, start-after: 3000}
  "app:nocap": {kind: unplaceable}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_rollout_completes_and_service_deployment_succeeds() {
    let sim = sim(SCENARIO, 300.0);
    let c = ecs(&sim);
    let v1 = healthy_service(&c, "web", "app:v1", 2, true).await;
    let s = describe(&c, "web").await;
    assert_eq!(s.running_count(), 2);
    assert_eq!(s.deployments().len(), 1);
    let first_sd = latest_sd(&c, "web").await;
    wait_sd(&c, &first_sd, "SUCCESSFUL").await;

    let v2 = register(&c, "web", "app:v2").await;
    assert!(v2.ends_with("web:2"), "{v2}");
    let up = c
        .update_service()
        .cluster("c")
        .service("web")
        .task_definition(&v2)
        .send()
        .await
        .expect("update");
    let svc = up.service().expect("service");
    let new_id = svc.deployments()[0].id().expect("id").to_string();
    assert!(new_id.starts_with("ecs-svc/"), "{new_id}");
    assert_eq!(svc.deployments()[0].status(), Some("PRIMARY"));
    assert_eq!(svc.deployments().len(), 2);
    let sd_arn = latest_sd(&c, "web").await;
    assert_ne!(sd_arn, first_sd);
    let done = wait_sd(&c, &sd_arn, "SUCCESSFUL").await;
    let target = done.target_service_revision().expect("target");
    assert_eq!(target.requested_task_count(), 2);
    assert_eq!(done.source_service_revisions().len(), 1);
    assert!(done.finished_at().is_some());
    let rev_arn = target.arn().expect("revision arn").to_string();
    let revs = c
        .describe_service_revisions()
        .service_revision_arns(&rev_arn)
        .send()
        .await
        .expect("revisions");
    assert_eq!(
        revs.service_revisions()[0].task_definition(),
        Some(v2.as_str())
    );
    let s = wait_rollout(&c, "web", "COMPLETED").await;
    assert_eq!(s.task_definition(), Some(v2.as_str()));
    assert_eq!(s.deployments()[0].id(), Some(new_id.as_str()));
    let ev = messages(&s);
    assert!(
        ev.iter()
            .any(|m| m == &format!("(service web) (deployment {new_id}) deployment completed.")),
        "{ev:?}"
    );
    assert!(
        ev.iter()
            .any(|m| m.starts_with("(service web) has started 2 tasks: (task ")),
        "{ev:?}"
    );
    assert!(
        ev.iter()
            .any(|m| m == "(service web) has reached a steady state."),
        "{ev:?}"
    );
    assert!(s.events()[0].created_at().is_some() && s.events()[0].id().is_some());

    // The SDK's own waiter agrees.
    c.wait_until_services_stable()
        .cluster("c")
        .services("web")
        .wait(std::time::Duration::from_secs(10))
        .await
        .expect("ServicesStable waiter");

    // Registries.
    let tds = c
        .list_task_definitions()
        .family_prefix("web")
        .sort(aws_sdk_ecs::types::SortOrder::Desc)
        .send()
        .await
        .expect("list");
    assert_eq!(tds.task_definition_arns(), [v2.clone(), v1.clone()]);
    c.deregister_task_definition()
        .task_definition(&v1)
        .send()
        .await
        .expect("deregister");
    let inactive = c
        .list_task_definitions()
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Inactive)
        .send()
        .await
        .expect("list");
    assert_eq!(inactive.task_definition_arns(), std::slice::from_ref(&v1));
    c.tag_resource()
        .resource_arn(&v2)
        .tags(
            aws_sdk_ecs::types::Tag::builder()
                .key("team")
                .value("x")
                .build(),
        )
        .send()
        .await
        .expect("tag");
    let d = c
        .describe_task_definition()
        .task_definition("web")
        .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
        .send()
        .await
        .expect("describe td");
    assert_eq!(d.task_definition().map(|t| t.revision()), Some(2));
    assert_eq!(d.tags().len(), 1);
    let tasks = c
        .list_tasks()
        .cluster("c")
        .service_name("web")
        .send()
        .await
        .expect("list tasks");
    assert_eq!(tasks.task_arns().len(), 2);
    assert!(sim.call_count("DescribeServices") > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop_trips_circuit_breaker_and_rolls_back() {
    let sim = sim(SCENARIO, 300.0);
    let c = ecs(&sim);
    let v1 = healthy_service(&c, "api", "app:v1", 2, true).await;
    // With a health check: a crash before the first passing check is a breaker failure
    // (without one, a crash after RUNNING is not counted, as on AWS).
    let bad = register_checked(&c, "api", "app:crash-7").await;
    c.update_service()
        .cluster("c")
        .service("api")
        .task_definition(&bad)
        .send()
        .await
        .expect("update");
    let arn = latest_sd(&c, "api").await;
    let done = wait_sd(&c, &arn, "ROLLBACK_SUCCESSFUL").await;
    let cb = done.deployment_circuit_breaker().expect("cb");
    assert_eq!(cb.status().map(|s| s.as_str()), Some("TRIGGERED"));
    assert_eq!(cb.threshold(), 3);
    assert!(cb.failure_count() >= 3);
    let rb = done.rollback().expect("rollback info");
    assert!(rb.reason().is_some_and(|r| r.contains("Circuit Breaker")));
    let s = wait_rollout(&c, "api", "COMPLETED").await;
    assert_eq!(s.task_definition(), Some(v1.as_str()));
    assert_eq!(s.deployments().len(), 1);
    let ev = messages(&s);
    assert!(
        ev.iter()
            .any(|m| m.contains("deployment failed: tasks failed to start.")),
        "{ev:?}"
    );
    // Stopped crash tasks carry exit codes.
    let stopped = c
        .list_tasks()
        .cluster("c")
        .service_name("api")
        .desired_status(aws_sdk_ecs::types::DesiredStatus::Stopped)
        .send()
        .await
        .expect("list");
    let arns: Vec<String> = stopped.task_arns().iter().take(10).cloned().collect();
    let d = c
        .describe_tasks()
        .cluster("c")
        .set_tasks(Some(arns))
        .send()
        .await
        .expect("describe");
    let crashed = d
        .tasks()
        .iter()
        .find(|t| t.stop_code().map(|x| x.as_str()) == Some("EssentialContainerExited"))
        .expect("a crashed task");
    assert_eq!(crashed.containers()[0].exit_code(), Some(2));
    assert_eq!(
        crashed.stopped_reason(),
        Some("Essential container in task exited")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop_without_breaker_never_stabilises() {
    let sim = sim(SCENARIO, 300.0);
    let c = ecs(&sim);
    healthy_service(&c, "nob", "app:v1", 1, false).await;
    let bad = register_checked(&c, "nob", "app:crash").await;
    c.update_service()
        .cluster("c")
        .service("nob")
        .task_definition(&bad)
        .send()
        .await
        .expect("update");
    let s = until("three failed tasks", 30, || async {
        let s = describe(&c, "nob").await;
        (s.deployments().first()?.failed_tasks() >= 3).then_some(s)
    })
    .await;
    assert_eq!(s.deployments().len(), 2);
    assert_eq!(
        s.deployments()[0].rollout_state().map(|r| r.as_str()),
        Some("IN_PROGRESS")
    );
    assert!(s.deployments()[0].failed_tasks() >= 3);
    assert_eq!(
        s.deployments()[1].running_count(),
        1,
        "old deployment keeps serving"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unplaceable_service_reports_events_and_no_tasks() {
    let sim = sim(SCENARIO, 300.0);
    let c = ecs(&sim);
    c.create_cluster()
        .cluster_name("c")
        .send()
        .await
        .expect("cluster");
    let td = register(&c, "np", "app:nocap").await;
    c.create_service()
        .cluster("c")
        .service_name("np")
        .task_definition(&td)
        .desired_count(1)
        .send()
        .await
        .expect("create");
    let s = until("unable to place event", 10, || async {
        let s = describe(&c, "np").await;
        messages(&s).iter().any(|m| m.contains("was unable to place a task because no container instance met all of its requirements")).then_some(s)
    })
    .await;
    assert_eq!(s.running_count(), 0);
    assert_eq!(
        s.deployments()[0].rollout_state().map(|r| r.as_str()),
        Some("IN_PROGRESS")
    );
    let t = c
        .list_tasks()
        .cluster("c")
        .service_name("np")
        .send()
        .await
        .expect("list");
    assert!(t.task_arns().is_empty());
    let run = c
        .run_task()
        .cluster("c")
        .task_definition(&td)
        .send()
        .await
        .expect("run");
    assert!(run.tasks().is_empty());
    assert_eq!(run.failures().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_service_deployment_rolls_back() {
    let sim = sim(SCENARIO, 300.0);
    let c = ecs(&sim);
    let v1 = healthy_service(&c, "stop", "app:v1", 2, false).await;
    let slow = register(&c, "stop", "app:slow").await;
    c.update_service()
        .cluster("c")
        .service("stop")
        .task_definition(&slow)
        .send()
        .await
        .expect("update");
    let arn = latest_sd(&c, "stop").await;
    assert_eq!(
        sd(&c, &arn).await.status().map(|s| s.as_str()),
        Some("IN_PROGRESS")
    );
    c.stop_service_deployment()
        .service_deployment_arn(&arn)
        .stop_type(StopServiceDeploymentStopType::Rollback)
        .send()
        .await
        .expect("stop");
    let done = wait_sd(&c, &arn, "ROLLBACK_SUCCESSFUL").await;
    assert!(
        done.rollback()
            .and_then(|r| r.service_revision_arn())
            .is_some()
    );
    let s = wait_rollout(&c, "stop", "COMPLETED").await;
    assert_eq!(s.task_definition(), Some(v1.as_str()));
    // A finished deployment can't be stopped again.
    let err = c
        .stop_service_deployment()
        .service_deployment_arn(&arn)
        .send()
        .await
        .expect_err("conflict");
    assert_eq!(
        err.as_service_error()
            .and_then(|e| aws_sdk_ecs::error::ProvideErrorMetadata::code(e)),
        Some("ConflictException")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_update_supersedes_the_first() {
    let sim = sim(SCENARIO, 300.0);
    let c = ecs(&sim);
    healthy_service(&c, "sup", "app:v1", 1, false).await;
    let slow = register(&c, "sup", "app:slow").await;
    c.update_service()
        .cluster("c")
        .service("sup")
        .task_definition(&slow)
        .send()
        .await
        .expect("update");
    let first = latest_sd(&c, "sup").await;
    let v3 = register(&c, "sup", "app:v3").await;
    c.update_service()
        .cluster("c")
        .service("sup")
        .task_definition(&v3)
        .send()
        .await
        .expect("update 2");
    let second = latest_sd(&c, "sup").await;
    assert_ne!(first, second);
    let old = sd(&c, &first).await;
    assert_eq!(old.status().map(|s| s.as_str()), Some("STOPPED"));
    assert!(
        old.status_reason()
            .is_some_and(|r| r.contains("superseded"))
    );
    wait_sd(&c, &second, "SUCCESSFUL").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_the_aws_shape() {
    let sim = sim(SCENARIO, 300.0);
    let c = ecs(&sim);
    let err = c
        .describe_services()
        .cluster("nope")
        .services("x")
        .send()
        .await
        .expect_err("no cluster");
    assert_eq!(
        err.as_service_error()
            .and_then(|e| aws_sdk_ecs::error::ProvideErrorMetadata::code(e)),
        Some("ClusterNotFoundException")
    );
    c.create_cluster()
        .cluster_name("c")
        .send()
        .await
        .expect("cluster");
    let err = c
        .update_service()
        .cluster("c")
        .service("x")
        .send()
        .await
        .expect_err("no service");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_service_not_found_exception())
    );
    let d = c
        .describe_services()
        .cluster("c")
        .services("x")
        .send()
        .await
        .expect("describe");
    assert_eq!(d.failures()[0].reason(), Some("MISSING"));
    let err = c
        .describe_task_definition()
        .task_definition("ghost:3")
        .send()
        .await
        .expect_err("no td");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_client_exception())
    );
}
