//! GitHub deployment records against wiremock: bodies, order, rollback marking, and
//! errors that stay warnings. The client's own errors and retries are tested in
//! deployer-github (tests/deployments.rs).

mod common;

use common::*;
use deployer_core::{Classify, ErrorKind};
use deployer_notify::github::{DeploymentPayload, new_deployment};
use deployer_notify::{
    Channel, Event, FailureKind, Notifier, NotifyOutcome, RollbackReason, RollbackTarget,
};
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "ghs_fakeTokenForGithubTests_0001";

fn created(id: u64) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({
        "id": id, "sha": SHA, "ref": SHA, "environment": "staging/api", "payload": {}
    }))
}

fn status_created(id: u64, state: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({"id": id, "state": state}))
}

#[tokio::test]
async fn deployment_is_created_and_statuses_posted_in_order() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_partial_json(json!({
            "ref": SHA,
            "task": "deploy",
            "environment": "staging/api",
            "auto_merge": false,
            "required_contexts": [],
            "transient_environment": false,
            "production_environment": false,
            "payload": {
                "service": "api",
                "image": "111111111111.dkr.ecr.us-east-1.amazonaws.com/api:v1.2.3",
                "version": "v1.2.3",
                "task-definition-arn": "arn:aws:ecs:us-east-1:111111111111:task-definition/api:7"
            }
        })))
        .respond_with(created(42))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments/42/statuses"))
        .and(body_partial_json(json!({
            "state": "in_progress", "log_url": RUN_URL, "auto_inactive": false,
            "description": "Deploying api v1.2.3"
        })))
        .respond_with(status_created(1, "in_progress"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments/42/statuses"))
        .and(body_partial_json(json!({
            "state": "success", "log_url": RUN_URL, "auto_inactive": true,
            "environment_url": "https://staging.example.com", "description": "Deployed api v1.2.3"
        })))
        .respond_with(status_created(2, "success"))
        .expect(1)
        .mount(&server)
        .await;
    // The test-traffic status is a second in_progress.
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments/42/statuses"))
        .and(body_partial_json(json!({
            "state": "in_progress",
            "description": "Test traffic ready at https://test.staging.example.com:8443; waiting for cutover"
        })))
        .respond_with(status_created(3, "in_progress"))
        .expect(1)
        .mount(&server)
        .await;

    let mut notifier = Notifier::new(links()).with_github(github(&server, TOKEN));
    let mut rec = record();
    let report = notifier.notify(&rec, &Event::Started).await;
    assert_eq!(report.deployment_id, Some(42));
    let gh = report
        .outcome(Channel::GithubDeployments)
        .expect("github outcome");
    assert!(matches!(gh, NotifyOutcome::Sent { .. }), "{gh}");
    assert!(
        gh.text()
            .contains("deployment 42 created for `staging/api`"),
        "{gh}"
    );
    assert!(matches!(
        report.outcome(Channel::Slack),
        Some(NotifyOutcome::Skipped { .. })
    ));

    let ready = Event::TestTrafficReady {
        test_url: Some("https://test.staging.example.com:8443".into()),
    };
    let report = notifier.notify(&rec, &ready).await;
    assert_eq!(report.warnings().count(), 0, "{report:?}");
    rec.finish(deployer_notify::DeploymentStatus::Succeeded, None);
    let report = notifier.notify(&rec, &Event::Succeeded).await;
    assert_eq!(report.warnings().count(), 0, "{report:?}");

    let seen = requests(&server).await;
    let order: Vec<(String, String)> = seen
        .iter()
        .map(|(m, p, b)| {
            (
                format!("{m} {p}"),
                b["state"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        order,
        vec![
            ("POST /repos/org/app/deployments".to_string(), String::new()),
            (
                "POST /repos/org/app/deployments/42/statuses".to_string(),
                "in_progress".to_string()
            ),
            (
                "POST /repos/org/app/deployments/42/statuses".to_string(),
                "in_progress".to_string()
            ),
            (
                "POST /repos/org/app/deployments/42/statuses".to_string(),
                "success".to_string()
            ),
        ]
    );
    // body_partial_json accepts longer arrays: check required_contexts is really empty.
    assert_eq!(seen[0].2["required_contexts"], json!([]));
}

#[tokio::test]
async fn failed_deploy_then_rollback_marks_the_superseded_deployment() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments"))
        .and(body_partial_json(json!({"ref": SHA, "task": "deploy"})))
        .respond_with(created(42))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments/42/statuses"))
        .and(body_partial_json(json!({"state": "in_progress"})))
        .respond_with(status_created(1, "in_progress"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments/42/statuses"))
        .and(body_partial_json(json!({
            "state": "failure",
            "description": "Failed: service deployment ROLLBACK_SUCCESSFUL: circuit breaker tripped",
            "auto_inactive": false
        })))
        .respond_with(status_created(2, "failure"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments/42/statuses"))
        .and(body_partial_json(
            json!({"state": "failure", "description": "rolled back to v1.2.2"}),
        ))
        .respond_with(status_created(3, "failure"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments"))
        .and(body_partial_json(json!({
            "ref": OLD_SHA, "task": "deploy:rollback", "environment": "staging/api",
            "payload": {"service": "api", "version": "v1.2.2", "task-definition-arn": "arn:td/api:6"}
        })))
        .respond_with(created(43))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments/43/statuses"))
        .and(body_partial_json(json!({"state": "success", "auto_inactive": true, "description": "Rolled back to v1.2.2"})))
        .respond_with(status_created(4, "success"))
        .expect(1)
        .mount(&server)
        .await;

    let mut notifier = Notifier::new(links()).with_github(github(&server, TOKEN));
    let mut rec = record();
    notifier.notify(&rec, &Event::Started).await;
    rec.cause =
        Some("service deployment ROLLBACK_SUCCESSFUL: circuit breaker tripped\nmore detail".into());
    let report = notifier
        .notify(
            &rec,
            &Event::Failed {
                kind: FailureKind::Deploy,
            },
        )
        .await;
    assert_eq!(report.warnings().count(), 0, "{report:?}");
    let to = RollbackTarget {
        revision: "v1.2.2".into(),
        git_ref: Some(OLD_SHA.into()),
        image: None,
        task_definition_arn: Some("arn:td/api:6".into()),
        reason: RollbackReason::DeployFailed,
    };
    let report = notifier.notify(&rec, &Event::RolledBack { to }).await;
    assert_eq!(report.warnings().count(), 0, "{report:?}");
    let text = report
        .outcome(Channel::GithubDeployments)
        .expect("outcome")
        .text()
        .to_string();
    assert!(
        text.contains("deployment 42 marked failure (rolled back to v1.2.2)"),
        "{text}"
    );
    assert_eq!(report.deployment_id, Some(43));
}

#[tokio::test]
async fn manual_rollback_finds_the_live_deployment_and_marks_it_inactive() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/org/app/deployments"))
        .and(query_param("environment", "production/api"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 77, "sha": SHA, "ref": SHA, "environment": "production/api", "payload": {"version": "v1.2.3"}}
        ])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments/77/statuses"))
        .and(body_partial_json(json!({"state": "inactive", "description": "rolled back to v1.2.2", "log_url": RUN_URL})))
        .respond_with(status_created(5, "inactive"))
        .expect(1)
        .mount(&server)
        .await;

    let mut notifier = Notifier::new(links()).with_github(github(&server, TOKEN));
    let mut rec = record();
    rec.environment = "production".into();
    let to = RollbackTarget {
        revision: "v1.2.2".into(),
        ..Default::default()
    };
    let report = notifier.notify(&rec, &Event::RolledBack { to }).await;
    assert_eq!(report.warnings().count(), 0, "{report:?}");
}

#[tokio::test]
async fn error_status_for_deployer_errors_and_production_flag() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments"))
        .and(body_partial_json(
            json!({"environment": "production", "production_environment": true}),
        ))
        .respond_with(created(9))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments/9/statuses"))
        .and(body_partial_json(json!({"state": "error"})))
        .respond_with(status_created(1, "error"))
        .expect(1)
        .mount(&server)
        .await;
    let mut notifier = Notifier::new(links())
        .with_github(github(&server, TOKEN))
        .with_environment_naming(deployer_notify::EnvironmentNaming::Shared);
    let mut rec = record();
    rec.environment = "production".into();
    let report = notifier
        .notify(
            &rec,
            &Event::Failed {
                kind: FailureKind::Error,
            },
        )
        .await;
    assert_eq!(report.warnings().count(), 0, "{report:?}");
}

#[tokio::test]
async fn forbidden_says_the_workflow_needs_deployments_write() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest/deployments/deployments#create-a-deployment"
        })))
        .expect(2)
        .mount(&server)
        .await;
    let client = github(&server, TOKEN);
    let new = new_deployment(
        SHA,
        "staging/api",
        DeploymentPayload {
            service: "api".into(),
            ..Default::default()
        },
    );
    let err = client.create_deployment(&new).await.expect_err("403");
    let text = err.to_string();
    assert!(text.contains("permissions: deployments: write"), "{text}");
    assert!(
        text.contains("Resource not accessible by integration"),
        "{text}"
    );
    assert_eq!(err.kind(), ErrorKind::BadInput);

    // Through the notifier it is a warning, not a failure.
    let mut notifier = Notifier::new(links()).with_github(client);
    let report = notifier.notify(&record(), &Event::Started).await;
    let w: Vec<_> = report.warnings().collect();
    assert_eq!(w.len(), 1);
    assert!(w[0].to_string().contains("deployments: write"), "{}", w[0]);
}

#[tokio::test]
async fn missing_sha_is_a_warning_not_a_panic() {
    let server = MockServer::start().await;
    let mut notifier = Notifier::new(links()).with_github(github(&server, TOKEN));
    let mut rec = record();
    rec.git_sha = None;
    let report = notifier.notify(&rec, &Event::Started).await;
    let w: Vec<_> = report.warnings().collect();
    assert_eq!(w.len(), 1);
    assert!(w[0].text().contains("commit SHA is unknown"), "{}", w[0]);
    assert!(requests(&server).await.is_empty());
}
