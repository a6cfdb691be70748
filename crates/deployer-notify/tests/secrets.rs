//! The GitHub token and the Slack webhook URL never appear in an error, an outcome, a
//! report or a record rendering, whatever the servers answer.

mod common;

use common::*;
use deployer_core::mask::redact;
use deployer_notify::github::{DeploymentPayload, NewStatus, StatusState, new_deployment};
use deployer_notify::{
    DeploymentStatus, Event, FailureKind, GithubClient, Notifier, RetryPolicy, SlackWebhook,
};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "ghp_ZZdistinctiveFakeToken9876543210abcd";
const HOOK_SECRET: &str = "xQ7distinctiveHookSecretZZ42";

fn hook_path() -> String {
    format!("/services/T0FAKETEAM/B0FAKEHOOK/{HOOK_SECRET}")
}

#[track_caller]
fn assert_clean(text: &str) {
    assert!(!text.contains(TOKEN), "token leaked: {text}");
    assert!(!text.contains(HOOK_SECRET), "webhook secret leaked: {text}");
    assert!(!text.contains("B0FAKEHOOK/"), "webhook path leaked: {text}");
    assert_eq!(
        redact(text),
        text,
        "text still contained a registered secret: {text}"
    );
}

fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn github_errors_never_contain_the_token() {
    let server = MockServer::start().await;
    // A hostile or buggy server echoing the token back in every kind of answer.
    let echo = format!("bad credentials for token {TOKEN}");
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"message": echo})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments/1/statuses"))
        .respond_with(
            ResponseTemplate::new(422).set_body_json(
                json!({"message": "Validation Failed", "errors": [{"message": echo}]}),
            ),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments/2/statuses"))
        .respond_with(ResponseTemplate::new(500).set_body_string(echo.clone()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/org/app/deployments/3/statuses"))
        .respond_with(ResponseTemplate::new(201).set_body_string(format!("not json {TOKEN}")))
        .mount(&server)
        .await;

    let client = GithubClient::new(&server.uri(), Some(TOKEN.into()), "org/app")
        .expect("client")
        .with_retry(RetryPolicy::fast(2));
    let new = new_deployment(
        SHA,
        "staging/api",
        DeploymentPayload {
            service: "api".into(),
            ..Default::default()
        },
    );
    let mut texts = vec![
        client
            .create_deployment(&new)
            .await
            .expect_err("403")
            .to_string(),
    ];
    for id in 1..=3 {
        let err = client
            .create_status(id, &NewStatus::new(StatusState::Success))
            .await
            .expect_err("error");
        texts.push(err.to_string());
        texts.push(format!("{err:?}"));
    }
    texts.push(format!("{client:?}"));

    let unreachable = GithubClient::new(&closed_port_url(), Some(TOKEN.into()), "org/app")
        .expect("client")
        .with_retry(RetryPolicy::fast(2));
    let err = unreachable
        .create_deployment(&new)
        .await
        .expect_err("connection refused");
    assert!(
        err.to_string().contains("cannot reach the GitHub API"),
        "{err}"
    );
    texts.push(err.to_string());

    let mut notifier = Notifier::new(links()).with_github(client);
    let mut rec = record();
    rec.cause = Some(format!("curl -H 'Authorization: Bearer {TOKEN}' failed"));
    rec.finish(DeploymentStatus::Failed, None);
    let report = notifier
        .notify(
            &rec,
            &Event::Failed {
                kind: FailureKind::Deploy,
            },
        )
        .await;
    texts.push(format!("{notifier:?}"));
    for o in &report.outcomes {
        texts.push(o.to_string());
        texts.push(o.text().to_string());
    }
    texts.push(report.to_markdown());
    texts.push(serde_json::to_string(&report).expect("json"));
    texts.push(rec.to_markdown());
    texts.push(rec.to_json());
    for t in &texts {
        assert_clean(t);
    }
}

#[tokio::test]
async fn slack_outcomes_never_contain_the_webhook_url() {
    let server = MockServer::start().await;
    let url = format!("{}{}", server.uri(), hook_path());
    Mock::given(method("POST"))
        .and(path(hook_path()))
        .respond_with(ResponseTemplate::new(404).set_body_string(format!("no_service for {url}")))
        .mount(&server)
        .await;
    let hook = SlackWebhook::new(&url)
        .expect("webhook")
        .with_retry(RetryPolicy::fast(2));
    let mut texts = vec![format!("{hook:?}")];

    let mut notifier = Notifier::new(links()).with_slack(hook);
    let mut rec = record();
    rec.cause = Some(format!("webhook {url} and secret {HOOK_SECRET}"));
    for event in [
        Event::Started,
        Event::Failed {
            kind: FailureKind::Deploy,
        },
    ] {
        let report = notifier.notify(&rec, &event).await;
        assert_eq!(report.warnings().count(), 1, "{report:?}");
        for o in &report.outcomes {
            texts.push(o.to_string());
        }
        texts.push(report.to_markdown());
    }
    // The message body sent to Slack itself must not carry the secret either.
    for (_, _, body) in requests(&server).await {
        texts.push(body.to_string());
    }

    let unreachable_url = format!("{}{}", closed_port_url(), hook_path());
    let hook = SlackWebhook::new(&unreachable_url)
        .expect("webhook")
        .with_retry(RetryPolicy::fast(2));
    let outcome = hook.post(&json!({"text": "x"})).await;
    assert!(
        outcome.is_warning() && outcome.text().contains("cannot reach Slack"),
        "{outcome}"
    );
    texts.push(outcome.to_string());

    let err = SlackWebhook::new(&format!("htp:/broken {HOOK_SECRET}")).expect_err("invalid");
    texts.push(err.to_string());

    texts.push(rec.to_markdown());
    texts.push(rec.to_json());
    for t in &texts {
        assert_clean(t);
    }
}
