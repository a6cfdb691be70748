//! Health checks, the 40-second rule, the circuit breaker's counting, the timing profile,
//! deployment alarms and bake time, through the AWS Rust SDK. Times are asserted on the
//! simulated timestamps the API returns, never on the wall clock.

mod common;

use aws_sdk_ecs::types::{
    DeploymentAlarms, DeploymentCircuitBreaker, DeploymentConfiguration, HealthCheck, LoadBalancer,
};
use common::*;

fn secs(t: Option<&aws_sdk_ecs::primitives::DateTime>) -> f64 {
    t.map(|t| t.as_secs_f64()).expect("timestamp present")
}

async fn register_with(
    c: &aws_sdk_ecs::Client,
    family: &str,
    image: &str,
    check: Option<&[&str]>,
) -> String {
    let mut def = container("app", image);
    if let Some(cmd) = check {
        let mut hc = HealthCheck::builder().interval(10).retries(2);
        for w in cmd {
            hc = hc.command(*w);
        }
        def.health_check = Some(hc.build().expect("health check"));
    }
    c.register_task_definition()
        .family(family)
        .container_definitions(def)
        .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
        .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
        .cpu("256")
        .memory("512")
        .send()
        .await
        .expect("register")
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("arn")
        .to_string()
}

fn breaker(
    rollback: bool,
    extra: impl FnOnce(
        aws_sdk_ecs::types::builders::DeploymentCircuitBreakerBuilder,
    ) -> aws_sdk_ecs::types::builders::DeploymentCircuitBreakerBuilder,
) -> DeploymentConfiguration {
    DeploymentConfiguration::builder()
        .minimum_healthy_percent(100)
        .maximum_percent(200)
        .deployment_circuit_breaker(
            extra(
                DeploymentCircuitBreaker::builder()
                    .enable(true)
                    .rollback(rollback),
            )
            .build(),
        )
        .build()
}

async fn update(c: &aws_sdk_ecs::Client, svc: &str, td: &str) -> String {
    c.update_service()
        .cluster("c")
        .service(svc)
        .task_definition(td)
        .send()
        .await
        .expect("update");
    latest_sd(c, svc).await
}

async fn stopped_tasks(c: &aws_sdk_ecs::Client, svc: &str) -> Vec<aws_sdk_ecs::types::Task> {
    let arns: Vec<String> = c
        .list_tasks()
        .cluster("c")
        .service_name(svc)
        .desired_status(aws_sdk_ecs::types::DesiredStatus::Stopped)
        .send()
        .await
        .expect("list")
        .task_arns()
        .iter()
        .take(100)
        .cloned()
        .collect();
    if arns.is_empty() {
        return Vec::new();
    }
    c.describe_tasks()
        .cluster("c")
        .set_tasks(Some(arns))
        .send()
        .await
        .expect("describe")
        .tasks()
        .to_vec()
}

async fn running_tasks(c: &aws_sdk_ecs::Client, svc: &str) -> Vec<aws_sdk_ecs::types::Task> {
    let arns: Vec<String> = c
        .list_tasks()
        .cluster("c")
        .service_name(svc)
        .send()
        .await
        .expect("list")
        .task_arns()
        .to_vec();
    if arns.is_empty() {
        return Vec::new();
    }
    c.describe_tasks()
        .cluster("c")
        .set_tasks(Some(arns))
        .send()
        .await
        .expect("describe")
        .tasks()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_container_health_check_stops_tasks_and_trips_the_breaker() {
    let sim = sim("", 300.0);
    let c = ecs(&sim);
    let v1 = healthy_service(&c, "hc", "app:v1", 2, true).await;
    // The research repro: `CMD-SHELL exit 1` fails whatever the image does.
    let bad = register_with(&c, "hc", "app:v2", Some(&["CMD-SHELL", "exit 1"])).await;
    let arn = update(&c, "hc", &bad).await;
    let done = wait_sd(&c, &arn, "ROLLBACK_SUCCESSFUL").await;
    let cb = done.deployment_circuit_breaker().expect("cb");
    assert_eq!(cb.status().map(|s| s.as_str()), Some("TRIGGERED"));
    assert!(cb.failure_count() >= 3);
    let s = wait_rollout(&c, "hc", "COMPLETED").await;
    assert_eq!(s.task_definition(), Some(v1.as_str()));
    let stopped = stopped_tasks(&c, "hc").await;
    let failed = stopped
        .iter()
        .find(|t| t.stopped_reason() == Some("Task failed container health checks"))
        .expect("a task stopped for its health check");
    assert_eq!(
        failed.stop_code().map(|x| x.as_str()),
        Some("ServiceSchedulerInitiated")
    );
    assert_eq!(
        failed.health_status().map(|h| h.as_str()),
        Some("UNHEALTHY")
    );
    // Two failed checks 10 s apart, the first 10 s after RUNNING: not before 20 s.
    assert!(secs(failed.stopping_at()) - secs(failed.started_at()) >= 20.0);
    assert!(
        messages(&s)
            .iter()
            .any(|m| m.contains("failed container health checks")),
        "{:?}",
        messages(&s)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_health_check_a_task_is_unknown_and_counts_40_seconds_after_running() {
    let sim = sim("", 300.0);
    let c = ecs(&sim);
    healthy_service(&c, "plain", "app:v1", 1, false).await;
    let sd_arn = latest_sd(&c, "plain").await;
    let done = sd(&c, &sd_arn).await;
    let t = running_tasks(&c, "plain").await.remove(0);
    assert_eq!(t.health_status().map(|h| h.as_str()), Some("UNKNOWN"));
    assert_eq!(
        t.containers()[0].health_status().map(|h| h.as_str()),
        Some("UNKNOWN")
    );
    // Realistic start: RUNNING 30 s after launch, counted 40 s later.
    assert!(secs(t.started_at()) - secs(t.created_at()) >= 29.0);
    assert!(secs(done.finished_at()) - secs(t.started_at()) >= 40.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passing_health_check_makes_the_task_healthy() {
    let sim = sim("", 300.0);
    let c = ecs(&sim);
    c.create_cluster()
        .cluster_name("c")
        .send()
        .await
        .expect("cluster");
    let td = register_with(
        &c,
        "ok",
        "app:v1",
        Some(&["CMD-SHELL", "curl -f http://localhost/"]),
    )
    .await;
    c.create_service()
        .cluster("c")
        .service_name("ok")
        .task_definition(&td)
        .desired_count(1)
        .send()
        .await
        .expect("svc");
    wait_rollout(&c, "ok", "COMPLETED").await;
    let t = running_tasks(&c, "ok").await.remove(0);
    assert_eq!(t.health_status().map(|h| h.as_str()), Some("HEALTHY"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_that_passes_then_fails_replaces_the_task_after_success() {
    let sim = sim(
        "images:\n  'app:leaky': {kind: healthy, health: {pass-for: 200}}\n",
        300.0,
    );
    let c = ecs(&sim);
    healthy_service(&c, "leak", "app:v1", 1, true).await;
    let td = register_with(
        &c,
        "leak",
        "app:leaky",
        Some(&["CMD-SHELL", "curl -f http://localhost/"]),
    )
    .await;
    let arn = update(&c, "leak", &td).await;
    wait_sd(&c, &arn, "SUCCESSFUL").await;
    let t = until("a task stopped for its health check", 30, || async {
        stopped_tasks(&c, "leak")
            .await
            .into_iter()
            .find(|t| t.stopped_reason() == Some("Task failed container health checks"))
    })
    .await;
    assert!(secs(t.stopping_at()) - secs(t.started_at()) >= 200.0);
    // The finished deployment stays SUCCESSFUL; the service replaces the task.
    assert_eq!(
        sd(&c, &arn).await.status().map(|s| s.as_str()),
        Some("SUCCESSFUL")
    );
    until("a replacement", 30, || async {
        running_tasks(&c, "leak")
            .await
            .into_iter()
            .find(|r| r.task_arn() != t.task_arn())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elb_health_checks_fail_after_the_grace_period() {
    let sim = sim(
        "images:\n  'app:dark': {kind: healthy, target-health: fail}\ntarget-groups:\n  '*tg/web*': {interval: 10, unhealthy-threshold: 2, deregistration-delay: 20}\n",
        300.0,
    );
    let c = ecs(&sim);
    c.create_cluster()
        .cluster_name("c")
        .send()
        .await
        .expect("cluster");
    let tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/web/abc";
    let td = register_with(&c, "web", "app:dark", None).await;
    c.create_service()
        .cluster("c")
        .service_name("web")
        .task_definition(&td)
        .desired_count(1)
        .health_check_grace_period_seconds(120)
        .load_balancers(
            LoadBalancer::builder()
                .target_group_arn(tg)
                .container_name("app")
                .container_port(80)
                .build(),
        )
        .send()
        .await
        .expect("svc");
    let t = until("a task stopped for ELB health checks", 30, || async {
        stopped_tasks(&c, "web")
            .await
            .into_iter()
            .find(|t| t.last_status() == Some("STOPPED"))
    })
    .await;
    assert_eq!(
        t.stopped_reason(),
        Some(format!("Task failed ELB health checks in (target-group {tg})").as_str())
    );
    // Not before the grace period; then the target drains (20 s) and stops (30 s stopTimeout).
    assert!(secs(t.stopping_at()) - secs(t.started_at()) >= 120.0);
    assert!(secs(t.stopped_at()) - secs(t.stopping_at()) >= 50.0);
    assert_eq!(t.containers()[0].exit_code(), Some(137));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_waits_for_stop_timeout_unless_the_process_exits_on_sigterm() {
    let sim = sim(
        "images:\n  'app:polite': {kind: healthy, stop-after: 2}\n",
        300.0,
    );
    let c = ecs(&sim);
    c.create_cluster()
        .cluster_name("c")
        .send()
        .await
        .expect("cluster");
    let mut arns = Vec::new();
    for image in ["app:v1", "app:polite"] {
        let td = register_with(&c, image.replace(':', "-").as_str(), image, None).await;
        let out = c
            .run_task()
            .cluster("c")
            .task_definition(&td)
            .send()
            .await
            .expect("run");
        arns.push(out.tasks()[0].task_arn().expect("arn").to_string());
    }
    for arn in &arns {
        until("running", 30, || async {
            let t = c
                .describe_tasks()
                .cluster("c")
                .tasks(arn)
                .send()
                .await
                .ok()?;
            (t.tasks()[0].last_status() == Some("RUNNING")).then_some(())
        })
        .await;
        c.stop_task()
            .cluster("c")
            .task(arn)
            .send()
            .await
            .expect("stop");
    }
    let mut done = Vec::new();
    for arn in &arns {
        done.push(
            until("stopped", 30, || async {
                let t = c
                    .describe_tasks()
                    .cluster("c")
                    .tasks(arn)
                    .send()
                    .await
                    .ok()?;
                let t = t.tasks()[0].clone();
                (t.last_status() == Some("STOPPED")).then_some(t)
            })
            .await,
        );
    }
    let took = |t: &aws_sdk_ecs::types::Task| secs(t.stopped_at()) - secs(t.stopping_at());
    assert!(took(&done[0]) >= 30.0, "killed at the default stopTimeout");
    assert_eq!(done[0].containers()[0].exit_code(), Some(137));
    assert!(took(&done[1]) < 30.0, "exited on SIGTERM");
    assert_eq!(done[1].containers()[0].exit_code(), Some(143));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_launches_fail_then_succeed_and_the_failure_count_resets() {
    let sim = sim(
        "images:\n  'app:warm': {kind: healthy, first-launches: {count: 2, behavior: {kind: pull-failure}}}\n",
        300.0,
    );
    let c = ecs(&sim);
    healthy_service(&c, "warm", "app:v1", 1, true).await;
    let td = register_with(&c, "warm", "app:warm", None).await;
    let arn = update(&c, "warm", &td).await;
    let done = wait_sd(&c, &arn, "SUCCESSFUL").await;
    let cb = done.deployment_circuit_breaker().expect("cb");
    // Two failures (threshold 3), then a healthy task reset the count.
    assert_eq!(cb.failure_count(), 0);
    assert_eq!(cb.status().map(|s| s.as_str()), Some("MONITORING_COMPLETE"));
    let s = describe(&c, "warm").await;
    assert!(
        messages(&s)
            .iter()
            .any(|m| m.contains("is unable to consistently start tasks successfully")),
        "{:?}",
        messages(&s)
    );
    // The relaunch after the second failure waited the throttle logic's delay.
    let mut stopped = stopped_tasks(&c, "warm").await;
    stopped.retain(|t| t.stop_code().map(|x| x.as_str()) == Some("TaskFailedToStart"));
    assert_eq!(stopped.len(), 2);
    let last_failure = stopped
        .iter()
        .map(|t| secs(t.stopped_at()))
        .fold(0.0, f64::max);
    let running = running_tasks(&c, "warm").await.remove(0);
    assert!(secs(running.created_at()) - last_failure >= 15.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_on_healthy_task_false_accumulates_failures_to_a_count_threshold() {
    // Every second launch of each image crashes before its first passing check.
    let sim = sim(
        "images:\n  'app:half-a': {kind: healthy, one-in: {n: 2, behavior: {kind: crash-loop}}}\n  'app:half-b': {kind: healthy, one-in: {n: 2, behavior: {kind: crash-loop}}}\n",
        300.0,
    );
    let c = ecs(&sim);
    let check: &[&str] = &["CMD-SHELL", "curl -f http://localhost/"];
    let mut sds = Vec::new();
    for (svc, image, reset) in [("keep", "app:half-a", true), ("acc", "app:half-b", false)] {
        healthy_service(&c, svc, "app:v1", 4, true).await;
        let td = register_with(&c, svc, image, Some(check)).await;
        c.update_service()
            .cluster("c")
            .service(svc)
            .task_definition(&td)
            .deployment_configuration(breaker(true, |b| {
                b.reset_on_healthy_task(reset).threshold_configuration(
                    aws_sdk_ecs::types::ThresholdConfiguration::builder()
                        .r#type(aws_sdk_ecs::types::ThresholdType::Count)
                        .value(3)
                        .build()
                        .expect("threshold"),
                )
            }))
            .send()
            .await
            .expect("update");
        sds.push(latest_sd(&c, svc).await);
    }
    let keep = wait_sd(&c, &sds[0], "SUCCESSFUL").await;
    assert_eq!(
        keep.deployment_circuit_breaker().map(|b| b.threshold()),
        Some(3)
    );
    let acc = wait_sd(&c, &sds[1], "ROLLBACK_SUCCESSFUL").await;
    let cb = acc.deployment_circuit_breaker().expect("cb");
    assert_eq!(cb.status().map(|s| s.as_str()), Some("TRIGGERED"));
    assert_eq!(cb.threshold(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unplaceable_tasks_count_toward_the_breaker() {
    let sim = sim("images:\n  'app:nocap': {kind: unplaceable}\n", 300.0);
    let c = ecs(&sim);
    healthy_service(&c, "cap", "app:v1", 2, true).await;
    let td = register_with(&c, "cap", "app:nocap", None).await;
    let arn = update(&c, "cap", &td).await;
    let done = wait_sd(&c, &arn, "ROLLBACK_SUCCESSFUL").await;
    assert_eq!(
        done.deployment_circuit_breaker()
            .and_then(|b| b.status())
            .map(|s| s.as_str()),
        Some("TRIGGERED")
    );
    let s = describe(&c, "cap").await;
    assert!(
        messages(&s)
            .iter()
            .any(|m| m.contains("was unable to place a task")),
        "{:?}",
        messages(&s)
    );
}

fn with_alarms(rollback: bool) -> DeploymentConfiguration {
    DeploymentConfiguration::builder()
        .minimum_healthy_percent(100)
        .maximum_percent(200)
        .alarms(
            DeploymentAlarms::builder()
                .alarm_names("api-5xx")
                .enable(true)
                .rollback(rollback)
                .build()
                .expect("alarms"),
        )
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_rolls_the_deployment_back_and_names_itself() {
    let sim = sim(
        "alarms:\n  api-5xx: {period: 60, evaluation-periods: 2, fires: [{after-deployment-start: 90}]}\n",
        300.0,
    );
    let c = ecs(&sim);
    let v1 = healthy_service(&c, "al", "app:v1", 1, false).await;
    let td = register_with(&c, "al", "app:v2", None).await;
    c.update_service()
        .cluster("c")
        .service("al")
        .task_definition(&td)
        .deployment_configuration(with_alarms(true))
        .send()
        .await
        .expect("update");
    let arn = latest_sd(&c, "al").await;
    let done = wait_sd(&c, &arn, "ROLLBACK_SUCCESSFUL").await;
    let alarms = done.alarms().expect("alarms");
    assert_eq!(alarms.status().map(|s| s.as_str()), Some("TRIGGERED"));
    assert_eq!(alarms.triggered_alarm_names(), ["api-5xx".to_string()]);
    assert_eq!(alarms.alarm_names(), ["api-5xx".to_string()]);
    let s = wait_rollout(&c, "al", "COMPLETED").await;
    assert_eq!(s.task_definition(), Some(v1.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_alarm_adds_its_bake_time_and_set_alarm_fails_a_later_deployment() {
    let sim = sim(
        "alarms:\n  api-5xx: {period: 60, evaluation-periods: 5}\n",
        300.0,
    );
    let c = ecs(&sim);
    healthy_service(&c, "bake", "app:v1", 1, false).await;
    let td = register_with(&c, "bake", "app:v2", None).await;
    c.update_service()
        .cluster("c")
        .service("bake")
        .task_definition(&td)
        .deployment_configuration(with_alarms(false))
        .send()
        .await
        .expect("update");
    let arn = latest_sd(&c, "bake").await;
    let done = wait_sd(&c, &arn, "SUCCESSFUL").await;
    assert_eq!(
        done.alarms().and_then(|a| a.status()).map(|s| s.as_str()),
        Some("MONITORING_COMPLETE")
    );
    // 30 s start + 40 s rule + old task stop (30 s) + 300 s alarm bake.
    assert!(secs(done.finished_at()) - secs(done.started_at()) >= 370.0);

    sim.set_alarm("api-5xx", true);
    let td = register_with(&c, "bake", "app:v3", None).await;
    let arn = update(&c, "bake", &td).await;
    let failed = wait_sd(&c, &arn, "STOPPED").await;
    assert_eq!(
        failed.alarms().map(|a| a.triggered_alarm_names().to_vec()),
        Some(vec!["api-5xx".to_string()])
    );
    let s = describe(&c, "bake").await;
    assert_eq!(
        s.deployments()[0].rollout_state().map(|r| r.as_str()),
        Some("FAILED")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_bake_time_keeps_the_deployment_in_progress() {
    let sim = sim("", 300.0);
    let c = ecs(&sim);
    healthy_service(&c, "rb", "app:v1", 1, false).await;
    let td = register_with(&c, "rb", "app:v2", None).await;
    c.update_service()
        .cluster("c")
        .service("rb")
        .task_definition(&td)
        .deployment_configuration(
            DeploymentConfiguration::builder()
                .bake_time_in_minutes(5)
                .build(),
        )
        .send()
        .await
        .expect("update");
    let arn = latest_sd(&c, "rb").await;
    let done = wait_sd(&c, &arn, "SUCCESSFUL").await;
    assert!(secs(done.finished_at()) - secs(done.started_at()) >= 300.0 + 70.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_bucket_throttles_every_caller_of_the_region() {
    let sim = sim("", 1.0);
    let a = ecs(&sim);
    a.create_cluster()
        .cluster_name("c")
        .send()
        .await
        .expect("cluster");
    let start = std::time::Instant::now();
    let (mut ok, mut throttled) = (0u32, 0u32);
    for _ in 0..300 {
        match a.describe_clusters().clusters("c").send().await {
            Ok(_) => ok += 1,
            Err(e) => {
                assert_eq!(
                    e.as_service_error().and_then(|e| e.meta().code()),
                    Some("ThrottlingException")
                );
                throttled += 1;
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    // Cluster read actions: 50 burst, 20 per second.
    assert!(
        f64::from(ok) <= 50.0 + 20.0 * elapsed + 1.0,
        "{ok} in {elapsed} s"
    );
    assert!(throttled > 0 || elapsed > (300.0 - 51.0) / 20.0);
    // ListClusters shares the bucket, and another caller (another key) shares the account's.
    let b = common::ecs_with_key(&sim, "AKIDOTHER");
    let start = std::time::Instant::now();
    let mut refused = 0;
    for _ in 0..80 {
        if b.list_clusters().send().await.is_err() {
            refused += 1;
        }
    }
    assert!(refused > 0 || start.elapsed().as_secs_f64() > 80.0 / 20.0);
}
