//! Slack webhook against wiremock: the Block Kit shape of each event, and failures that
//! must stay warnings.

mod common;

use common::*;
use deployer_notify::{
    Channel, DeploymentStatus, Event, FailureKind, Notifier, NotifyOutcome, RetryPolicy,
    RollbackReason, RollbackTarget, SlackWebhook,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const HOOK_PATH: &str = "/services/T0SLACKTEST/B0SLACKTEST/slackTestHookSecret42";

fn hook(server: &MockServer) -> SlackWebhook {
    SlackWebhook::new(&format!("{}{HOOK_PATH}", server.uri()))
        .expect("webhook")
        .with_retry(RetryPolicy::fast(3))
}

const RUN_LINK: &str = "<https://github.com/org/app/actions/runs/4242|View run>";
const CONTINUE_LINK: &str =
    "<https://github.com/org/app/actions/workflows/cutover.yml|Continue (cutover.yml)>";
const ROLLBACK_LINK: &str =
    "<https://github.com/org/app/actions/workflows/rollback.yml|Roll back (rollback.yml)>";

fn base_fields() -> Value {
    json!([
        {"type": "mrkdwn", "text": "*Service*\napi"},
        {"type": "mrkdwn", "text": "*Environment*\nstaging"},
        {"type": "mrkdwn", "text": "*Version*\nv1.2.3"},
        {"type": "mrkdwn", "text": "*Image*\n`111111111111.dkr.ecr.us-east-1.amazonaws.com/api:v1.2.3`"}
    ])
}

/// Posts `event` through a Notifier with only Slack and asserts the body.
async fn assert_event_payload(
    event: Event,
    rec: &deployer_notify::DeploymentRecord,
    expected: Value,
) -> Value {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .and(body_partial_json(expected))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let mut notifier = Notifier::new(links()).with_slack(hook(&server));
    let report = notifier.notify(rec, &event).await;
    assert!(
        matches!(
            report.outcome(Channel::Slack),
            Some(NotifyOutcome::Sent { .. })
        ),
        "{}: {report:?}",
        event.name()
    );
    assert!(matches!(
        report.outcome(Channel::GithubDeployments),
        Some(NotifyOutcome::Skipped { .. })
    ));
    let body = requests(&server).await.pop().expect("one request").2;
    server.verify().await;
    body
}

fn texts(body: &Value) -> String {
    body.to_string()
}

#[tokio::test]
async fn started_message() {
    let body = assert_event_payload(
        Event::Started,
        &record(),
        json!({
            "text": "🚀 Deploying api v1.2.3 to staging",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "🚀 Deploying api v1.2.3 to staging"}},
                {"type": "section", "fields": base_fields()},
                {"type": "section", "text": {"type": "mrkdwn", "text": RUN_LINK}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "by octocat · commit `0123456` · task definition `api:7`"}]}
            ]
        }),
    )
    .await;
    assert!(
        !texts(&body).contains("Duration"),
        "no duration before anything happened"
    );
}

#[tokio::test]
async fn test_traffic_ready_message_links_continue_and_rollback() {
    let body = assert_event_payload(
        Event::TestTrafficReady { test_url: Some("https://test.staging.example.com:8443".into()) },
        &record(),
        json!({
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "🧪 api v1.2.3 is ready for testing in staging"}},
                {"type": "section", "fields": base_fields()},
                {"type": "section", "text": {"type": "mrkdwn", "text": format!("{RUN_LINK}  ·  {CONTINUE_LINK}  ·  {ROLLBACK_LINK}")}}
            ]
        }),
    )
    .await;
    let fields = body["blocks"][1]["fields"].to_string();
    assert!(fields.contains("*Test endpoint*\\n<https://test.staging.example.com:8443|https://test.staging.example.com:8443>"), "{fields}");
    assert!(fields.contains("*Duration*"), "{fields}");
}

#[tokio::test]
async fn succeeded_message_has_duration_url_and_rollback_link() {
    let mut rec = record();
    rec.finished_at = Some(rec.started_at + time::Duration::seconds(192));
    rec.status = DeploymentStatus::Succeeded;
    let body = assert_event_payload(
        Event::Succeeded,
        &rec,
        json!({
            "text": "✅ api v1.2.3 deployed to staging",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "✅ api v1.2.3 deployed to staging"}},
                {"type": "section", "fields": [
                    {"text": "*Service*\napi"}, {"text": "*Environment*\nstaging"}, {"text": "*Version*\nv1.2.3"}, {},
                    {"text": "*Duration*\n3m 12s"},
                    {"text": "*URL*\n<https://staging.example.com|https://staging.example.com>"}
                ]},
                {"type": "section", "text": {"type": "mrkdwn", "text": format!("{RUN_LINK}  ·  {ROLLBACK_LINK}")}}
            ]
        }),
    )
    .await;
    assert!(!texts(&body).contains("cutover.yml"));
}

#[tokio::test]
async fn failed_message_carries_the_escaped_cause() {
    let mut rec = record();
    rec.finish(
        DeploymentStatus::Failed,
        Some("task stopped: exit code 1\n<ImportError> & friends".into()),
    );
    assert_event_payload(
        Event::Failed { kind: FailureKind::Deploy },
        &rec,
        json!({
            "blocks": [
                {"type": "header", "text": {"text": "❌ Deploy of api v1.2.3 to staging failed"}},
                {"type": "section"},
                {"type": "section", "text": {"type": "mrkdwn", "text": "*Cause*\n```task stopped: exit code 1\n&lt;ImportError&gt; &amp; friends```"}},
                {"type": "section", "text": {"text": format!("{RUN_LINK}  ·  {ROLLBACK_LINK}")}}
            ]
        }),
    )
    .await;
}

#[tokio::test]
async fn rolled_back_message_names_the_target() {
    let mut rec = record();
    rec.finish(
        DeploymentStatus::RolledBack,
        Some("health check /ready answered 503".into()),
    );
    let to = RollbackTarget {
        revision: "v1.2.2".into(),
        reason: RollbackReason::DeployFailed,
        ..Default::default()
    };
    let body = assert_event_payload(
        Event::RolledBack { to },
        &rec,
        json!({
            "blocks": [
                {"type": "header", "text": {"text": "↩️ api rolled back to v1.2.2 in staging"}},
                {"type": "section", "fields": [{}, {}, {}, {}, {"text": "*Rolled back to*\nv1.2.2"}]},
                {"type": "section", "text": {"text": "*Cause*\n```health check /ready answered 503```"}},
                {"type": "section", "text": {"text": RUN_LINK}}
            ]
        }),
    )
    .await;
    assert!(
        !texts(&body).contains("Roll back ("),
        "no rollback link after a rollback"
    );
}

#[tokio::test]
async fn slack_404_is_a_warning_outcome() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(ResponseTemplate::new(404).set_body_string("no_service"))
        .expect(1)
        .mount(&server)
        .await;
    let mut notifier = Notifier::new(links()).with_slack(hook(&server));
    let report = notifier.notify(&record(), &Event::Started).await;
    let outcome = report.outcome(Channel::Slack).expect("slack outcome");
    assert!(outcome.is_warning(), "{outcome}");
    let text = outcome.to_string();
    assert!(
        text.starts_with("Slack: warning: Slack notification not delivered (HTTP 404 no_service)"),
        "{text}"
    );
    assert!(
        text.contains("create a new incoming webhook")
            && text.contains("deploy itself is not affected"),
        "{text}"
    );
    assert!(report.to_markdown().contains("| Slack | warning |"));
}

#[tokio::test]
async fn slack_410_archived_channel_is_a_warning() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(ResponseTemplate::new(410).set_body_string("channel_is_archived"))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = hook(&server).post(&json!({"text": "x"})).await;
    assert!(outcome.is_warning());
    assert!(
        outcome.text().contains("channel_is_archived") && outcome.text().contains("archived"),
        "{outcome}"
    );
}

#[tokio::test]
async fn slack_5xx_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(ResponseTemplate::new(500).set_body_string("rollup_error"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = hook(&server).post(&json!({"text": "x"})).await;
    assert!(matches!(outcome, NotifyOutcome::Sent { .. }), "{outcome}");
}

#[tokio::test]
async fn both_channels_fan_out_and_one_failing_does_not_stop_the_other() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"message": "Resource not accessible by integration"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let mut notifier = Notifier::new(links())
        .with_github(github(&server, "ghs_fakeTokenForSlackTests_0002"))
        .with_slack(hook(&server));
    let report = notifier.notify(&record(), &Event::Started).await;
    assert_eq!(report.outcomes.len(), 2);
    assert!(
        report
            .outcome(Channel::GithubDeployments)
            .is_some_and(NotifyOutcome::is_warning)
    );
    assert!(matches!(
        report.outcome(Channel::Slack),
        Some(NotifyOutcome::Sent { .. })
    ));
}

#[tokio::test]
async fn setup_problems_are_reported_once_as_warnings() {
    let config = deployer_notify::NotifierConfig {
        github_deployments: false,
        slack_webhook_url: Some("definitely not a webhook url".into()),
        rollback_workflow: Some("rollback.yml".into()),
        ..Default::default()
    };
    let mut notifier = Notifier::from_env(&config);
    let first = notifier.notify(&record(), &Event::Started).await;
    let slack = first.outcome(Channel::Slack).expect("slack outcome");
    assert!(
        slack.is_warning() && slack.text().contains("not a valid http(s) URL"),
        "{slack}"
    );
    assert!(
        !slack.text().contains("definitely not a webhook url"),
        "the value is a secret: {slack}"
    );
    assert!(matches!(
        first.outcome(Channel::GithubDeployments),
        Some(NotifyOutcome::Skipped { .. })
    ));
    let second = notifier.notify(&record(), &Event::Succeeded).await;
    assert!(
        matches!(
            second.outcome(Channel::Slack),
            None | Some(NotifyOutcome::Skipped { .. })
        ),
        "{second:?}"
    );
    assert_eq!(second.warnings().count(), 0);
}
