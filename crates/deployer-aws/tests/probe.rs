//! The environment probe against the stand-ins: ECS through ecs-sim, CloudFormation through
//! moto (states moto cannot produce — rollbacks, in progress — through a canned
//! DescribeStacks answer, which also exercises pagination).
#![recursion_limit = "256"]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use deployer_aws::ecs::Ecs;
use deployer_aws::probe::AwsProbe;
use deployer_gates::environment::{
    EcsExpectation, EcsServiceState, EnvironmentProbe, ecs_service_gate, stacks_gate,
};
use ecs_sim::{Scenario, SimConfig, SimHandle};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CLUSTER: &str = "shop";

const SCENARIO: &str = r#"
default: {kind: healthy, start-after: 5}
images:
  "repo/api:slow": {kind: healthy, start-after: 1000000}
  "repo/api:crash": {kind: crash-loop, start-after: 2, after: 3, exit-code: 3}
"#;

async fn sim_probe() -> (SimHandle, AwsProbe) {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::from_yaml(SCENARIO).expect("scenario"),
        time_scale: 30.0,
        seed: 3,
    })
    .expect("sim");
    let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
    (sim, AwsProbe::new(&ctx.config))
}

async fn service(probe: &AwsProbe, name: &str, image: &str) -> String {
    deployer_aws::testing::create_service(&probe.ecs, CLUSTER, name, image, 2, false, 200).await
}

/// Registers `image` in the service's family and points the service at it.
async fn update(ecs: &Ecs, name: &str, image: &str) -> String {
    let mut td = deployer_aws::testing::task_definition(name, image);
    // A container health check, as a service that relies on the circuit breaker needs on
    // AWS: without one, a crash after RUNNING is not counted toward the breaker.
    td["containerDefinitions"][0]["healthCheck"] = serde_json::json!({"command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"], "interval": 10, "retries": 2});
    let arn = ecs.register_task_definition(&td).await.expect("register");
    ecs.update_service(CLUSTER, name, &arn, None, false)
        .await
        .expect("update");
    arn
}

fn expect(service: &str, image: &str) -> EcsExpectation {
    EcsExpectation {
        cluster: CLUSTER.into(),
        service: service.into(),
        image: image.into(),
        container: None,
    }
}

async fn state(probe: &AwsProbe, name: &str) -> EcsServiceState {
    probe.ecs_service(CLUSTER, name).await.expect("state")
}

#[tokio::test]
async fn ecs_gate_passes_on_the_expected_image_and_fails_on_another() {
    let (_sim, probe) = sim_probe().await;
    let td = service(&probe, "api", "repo/api:v1").await;
    let s = state(&probe, "api").await;
    assert_eq!(s.task_definition, td);
    assert_eq!(s.containers, vec![("api".into(), "repo/api:v1".into())]);
    let last = s.last_deployment.as_ref().expect("a deployment");
    assert_eq!(last.status, "SUCCESSFUL");
    assert_eq!(last.task_definition, td);

    let ok = ecs_service_gate(&expect("api", "repo/api:v1"), Ok(&s));
    assert!(ok.passed, "{ok:?}");
    assert!(deployer_gates::environment::image_matches(
        &s.containers[0].1,
        "v1"
    ));

    let wrong = ecs_service_gate(&expect("api", "repo/api:v2"), Ok(&s));
    assert!(!wrong.passed);
    assert!(
        wrong.detail.contains("runs repo/api:v1"),
        "{}",
        wrong.detail
    );
}

#[tokio::test]
async fn ecs_gate_fails_while_the_deployment_is_in_progress() {
    let (_sim, probe) = sim_probe().await;
    service(&probe, "api", "repo/api:v1").await;
    let td = update(&probe.ecs, "api", "repo/api:slow").await;
    let s = state(&probe, "api").await;
    // The primary task definition already runs the new image...
    assert_eq!(s.task_definition, td);
    assert_eq!(s.containers[0].1, "repo/api:slow");
    let last = s.last_deployment.as_ref().expect("a deployment");
    assert!(
        ["PENDING", "IN_PROGRESS"].contains(&last.status.as_str()),
        "{last:?}"
    );
    // ... but the rollout has not finished.
    let r = ecs_service_gate(&expect("api", "repo/api:slow"), Ok(&s));
    assert!(!r.passed);
    assert!(r.detail.contains(&last.status), "{}", r.detail);
}

#[tokio::test]
async fn ecs_gate_fails_after_a_rollback() {
    let (_sim, probe) = sim_probe().await;
    let old = service(&probe, "api", "repo/api:v1").await;
    update(&probe.ecs, "api", "repo/api:crash").await;
    let mut s = state(&probe, "api").await;
    for _ in 0..300 {
        let status = s
            .last_deployment
            .as_ref()
            .map(|d| d.status.clone())
            .unwrap_or_default();
        if status.starts_with("ROLLBACK_") && !status.ends_with("IN_PROGRESS") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        s = state(&probe, "api").await;
    }
    // The probe reads the service and the deployment record in separate calls, so the
    // snapshot that first shows the terminal status may predate the service's switch back;
    // once the rollback is over, a fresh snapshot is consistent.
    s = state(&probe, "api").await;
    let last = s.last_deployment.as_ref().expect("a deployment");
    assert_eq!(last.status, "ROLLBACK_SUCCESSFUL", "{s:?}");
    // The breaker put the old revision back.
    assert_eq!(s.task_definition, old);
    assert_eq!(s.containers[0].1, "repo/api:v1");

    let new = ecs_service_gate(&expect("api", "repo/api:crash"), Ok(&s));
    assert!(!new.passed);
    assert!(new.detail.contains("runs repo/api:v1"), "{}", new.detail);
    assert!(new.detail.contains("ROLLBACK_SUCCESSFUL"), "{}", new.detail);
    // Even the image it went back to does not pass: the last deployment failed.
    let back = ecs_service_gate(&expect("api", "repo/api:v1"), Ok(&s));
    assert!(!back.passed);
    assert!(
        back.detail.contains("ROLLBACK_SUCCESSFUL"),
        "{}",
        back.detail
    );
}

#[tokio::test]
async fn ecs_probe_reports_a_missing_service() {
    let (_sim, probe) = sim_probe().await;
    let _ = probe
        .ecs
        .client
        .create_cluster()
        .cluster_name(CLUSTER)
        .send()
        .await;
    let err = probe
        .ecs_service(CLUSTER, "nope")
        .await
        .expect_err("missing");
    assert!(err.to_string().contains("was not found"), "{err}");
    let r = ecs_service_gate(&expect("nope", "repo/api:v1"), Err(&err));
    assert!(!r.passed);
    assert!(
        r.detail.contains("cannot read service nope"),
        "{}",
        r.detail
    );
}

fn unique(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("probe-{tag}-{}-{nanos}", std::process::id())
}

const TEMPLATE: &str =
    r#"{"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}"#;

#[tokio::test]
async fn stacks_by_name_and_by_prefix_on_moto() {
    let Some(moto) = deployer_testbed::moto_endpoint() else {
        return;
    };
    let ctx = deployer_aws::testing::context(&moto).await;
    let probe = AwsProbe::new(&ctx.config);
    let prefix = unique("net");
    let (a, b) = (format!("{prefix}-a"), format!("{prefix}-b"));
    for name in [&a, &b] {
        probe
            .cloudformation
            .create_stack()
            .stack_name(name)
            .template_body(TEMPLATE)
            .send()
            .await
            .expect("create stack");
    }
    let missing = format!("{prefix}-missing");

    // By name: the existing one is CREATE_COMPLETE, the missing one is simply absent.
    let names = vec![a.clone(), missing.clone()];
    let found = probe.stacks(&names, None).await.expect("stacks");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].name.as_str(), found[0].status.as_str()),
        (a.as_str(), "CREATE_COMPLETE")
    );
    let r = stacks_gate(&names, None, Ok(&found));
    assert!(!r.passed);
    assert!(
        r.detail
            .contains(&format!("stack {missing} does not exist")),
        "{}",
        r.detail
    );

    // By prefix: both, each once even when also named.
    let named = vec![a.clone()];
    let found = probe.stacks(&named, Some(&prefix)).await.expect("stacks");
    let mut got: Vec<&str> = found.iter().map(|s| s.name.as_str()).collect();
    got.sort();
    assert_eq!(got, vec![a.as_str(), b.as_str()]);
    let r = stacks_gate(&named, Some(&prefix), Ok(&found));
    assert!(r.passed, "{r:?}");
    assert_eq!(r.measured, "2/2 stacks healthy");

    // A deleted stack is gone from both answers.
    probe
        .cloudformation
        .delete_stack()
        .stack_name(&b)
        .send()
        .await
        .expect("delete");
    let found = probe
        .stacks(std::slice::from_ref(&b), Some(&prefix))
        .await
        .expect("stacks");
    assert_eq!(
        found.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        vec![a.as_str()]
    );

    // A prefix nothing matches fails the gate.
    let none = unique("none");
    let found = probe.stacks(&[], Some(&none)).await.expect("stacks");
    assert!(found.is_empty());
    assert!(!stacks_gate(&[], Some(&none), Ok(&found)).passed);
}

fn describe_stacks_page(stacks: &[(&str, &str)], next: Option<&str>) -> String {
    let members: String = stacks
        .iter()
        .map(|(name, status)| {
            format!(
                "<member><StackName>{name}</StackName>\
                 <StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/1</StackId>\
                 <CreationTime>2026-11-01T00:00:00Z</CreationTime>\
                 <StackStatus>{status}</StackStatus></member>"
            )
        })
        .collect();
    let next = next
        .map(|t| format!("<NextToken>{t}</NextToken>"))
        .unwrap_or_default();
    format!(
        "<DescribeStacksResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\
         <DescribeStacksResult><Stacks>{members}</Stacks>{next}</DescribeStacksResult>\
         <ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></DescribeStacksResponse>"
    )
}

fn xml(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/xml")
        .set_body_string(body)
}

/// moto only produces CREATE_COMPLETE/UPDATE_COMPLETE; rollbacks and in-progress stacks come
/// from a canned DescribeStacks answer split over two pages.
#[tokio::test]
async fn stacks_in_rollback_or_in_progress_fail_across_pages() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=DescribeStacks"))
        .and(body_string_contains("NextToken=page2"))
        .respond_with(xml(describe_stacks_page(
            &[
                ("app-db", "UPDATE_ROLLBACK_COMPLETE"),
                ("app-cache", "UPDATE_IN_PROGRESS"),
                ("other-stack", "ROLLBACK_COMPLETE"),
                ("app-old", "DELETE_COMPLETE"),
            ],
            None,
        )))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=DescribeStacks"))
        .respond_with(xml(describe_stacks_page(
            &[
                ("app-net", "CREATE_COMPLETE"),
                ("app-queue", "ROLLBACK_COMPLETE"),
            ],
            Some("page2"),
        )))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    let ctx = deployer_aws::testing::context(&server.uri()).await;
    let probe = AwsProbe::new(&ctx.config);
    let found = probe.stacks(&[], Some("app-")).await.expect("stacks");
    let got: Vec<(&str, &str)> = found
        .iter()
        .map(|s| (s.name.as_str(), s.status.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("app-net", "CREATE_COMPLETE"),
            ("app-queue", "ROLLBACK_COMPLETE"),
            ("app-db", "UPDATE_ROLLBACK_COMPLETE"),
            ("app-cache", "UPDATE_IN_PROGRESS"),
        ]
    );
    let r = stacks_gate(&[], Some("app-"), Ok(&found));
    assert!(!r.passed);
    assert_eq!(r.measured, "1/4 stacks healthy");
    for s in ["app-queue", "app-db", "app-cache"] {
        assert!(r.detail.contains(s), "{}", r.detail);
        assert!(
            deployer_gates::environment::stack_problem(
                s,
                &found.iter().find(|f| f.name == s).expect("listed").status
            )
            .is_some()
        );
    }
    assert!(
        deployer_gates::environment::stack_problem("app-cache", "UPDATE_IN_PROGRESS")
            .expect("problem")
            .contains("still in progress")
    );
    server.verify().await;
}

#[tokio::test]
async fn stack_errors_other_than_missing_are_reported() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("content-type", "text/xml")
                .set_body_string(
                    "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\
                     <Error><Type>Sender</Type><Code>AccessDenied</Code>\
                     <Message>User is not authorized to perform: cloudformation:DescribeStacks</Message></Error>\
                     <RequestId>r2</RequestId></ErrorResponse>",
                ),
        )
        .mount(&server)
        .await;
    let ctx = deployer_aws::testing::context(&server.uri()).await;
    let probe = AwsProbe::new(&ctx.config);
    let err = probe
        .stacks(&["app-net".to_string()], None)
        .await
        .expect_err("denied");
    assert!(err.to_string().contains("DescribeStacks"), "{err}");
    assert!(err.to_string().contains("not authorized"), "{err}");
    let r = stacks_gate(&["app-net".to_string()], None, Err(&err));
    assert!(!r.passed);
    assert!(
        r.detail.contains("cannot read stacks app-net"),
        "{}",
        r.detail
    );
}
