//! A hung channel never holds up the caller past the deadline, never stops the other
//! channel, and says it did not deliver.

mod common;

use std::time::{Duration, Instant};

use common::*;
use deployer_notify::{Channel, Deadline, Event, Notifier, NotifyOutcome, SlackWebhook};
use serde_json::json;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const HOOK_PATH: &str = "/services/T0DEADLINE/B0DEADLINE/deadlineHookSecret42";
const TOKEN: &str = "ghs_fakeTokenForDeadlineTests_0003";
/// Far longer than any budget here: a server that never answers.
const HUNG: Duration = Duration::from_secs(600);

fn hook(server: &MockServer) -> SlackWebhook {
    SlackWebhook::new(&format!("{}{HOOK_PATH}", server.uri())).expect("webhook")
}

async fn answer(server: &MockServer, verb: &str, route: &str, response: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path_regex(route))
        .respond_with(response)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_hung_slack_webhook_is_given_up_at_the_deadline_and_github_still_gets_its_status() {
    let server = MockServer::start().await;
    let created = ResponseTemplate::new(201).set_body_json(json!({"id": 77, "sha": SHA}));
    answer(&server, "POST", "^/repos/org/app/deployments$", created).await;
    let status = ResponseTemplate::new(201).set_body_json(json!({"id": 1, "state": "in_progress"}));
    answer(
        &server,
        "POST",
        r"^/repos/org/app/deployments/77/statuses$",
        status,
    )
    .await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(ResponseTemplate::new(200).set_delay(HUNG))
        .mount(&server)
        .await;
    let mut notifier = Notifier::new(links())
        .with_github(github(&server, TOKEN))
        .with_slack(hook(&server));
    let start = Instant::now();
    let report = notifier
        .notify_by(
            &record(),
            &Event::Started,
            &Deadline::after(Duration::from_secs(2)),
        )
        .await;
    // Bounded by the deadline (2 s), not by Slack's 15 s timeout × 3 attempts; the bound
    // is generous for a loaded machine and still far below the unbounded 48 s.
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "took {:?}",
        start.elapsed()
    );
    let slack = report.outcome(Channel::Slack).expect("slack");
    assert!(slack.is_warning(), "{slack}");
    assert!(
        slack
            .text()
            .contains("\"started\" notification was not delivered")
            && slack
                .text()
                .contains("Slack did not answer within the 2 s notification budget")
            && slack.text().contains("the deploy itself is not affected"),
        "{slack}"
    );
    assert!(
        matches!(
            report.outcome(Channel::GithubDeployments),
            Some(NotifyOutcome::Sent { .. })
        ),
        "{report:?}"
    );
    assert_eq!(notifier.deployment_id(), Some(77));
}

#[tokio::test]
async fn a_deployment_created_before_a_hung_status_is_remembered() {
    let server = MockServer::start().await;
    let created = ResponseTemplate::new(201).set_body_json(json!({"id": 78, "sha": SHA}));
    answer(&server, "POST", "^/repos/org/app/deployments$", created).await;
    let hung = ResponseTemplate::new(201)
        .set_body_json(json!({"id": 1, "state": "in_progress"}))
        .set_delay(HUNG);
    answer(
        &server,
        "POST",
        r"^/repos/org/app/deployments/78/statuses$",
        hung,
    )
    .await;
    let mut notifier = Notifier::new(links()).with_github(github(&server, TOKEN));
    let report = notifier
        .notify_by(
            &record(),
            &Event::Started,
            &Deadline::after(Duration::from_secs(1)),
        )
        .await;
    let gh = report.outcome(Channel::GithubDeployments).expect("github");
    assert!(
        gh.is_warning() && gh.text().contains("GitHub deployments did not answer"),
        "{gh}"
    );
    // The next event updates that deployment instead of creating a second one.
    assert_eq!(report.deployment_id, Some(78));
    assert_eq!(notifier.deployment_id(), Some(78));
}

#[tokio::test]
async fn a_deadline_set_later_cuts_off_a_notification_already_in_flight() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(ResponseTemplate::new(200).set_delay(HUNG))
        .mount(&server)
        .await;
    let mut notifier = Notifier::new(links()).with_slack(hook(&server));
    let (setter, deadline) = Deadline::later();
    let sending = tokio::spawn(async move {
        let report = notifier
            .notify_by(&record(), &Event::Started, &deadline)
            .await;
        (notifier, report)
    });
    // Wait until the request is in flight (deterministic: the server saw it).
    while server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty()
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!sending.is_finished());
    setter.set(Duration::from_millis(100));
    let (_, report) = tokio::time::timeout(Duration::from_secs(20), sending)
        .await
        .expect("ends once the deadline is set")
        .expect("task");
    let slack = report.outcome(Channel::Slack).expect("slack");
    assert!(
        slack.is_warning() && slack.text().contains("not delivered"),
        "{slack}"
    );
}

/// `notify` (what rollback uses) is bounded too: by `DEFAULT_BUDGET`, not by the
/// channels' retries.
#[tokio::test]
async fn plain_notify_is_bounded_by_the_default_budget() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(ResponseTemplate::new(200).set_delay(HUNG))
        .mount(&server)
        .await;
    let mut notifier = Notifier::new(links()).with_slack(hook(&server));
    let start = Instant::now();
    let report = notifier.notify(&record(), &Event::Succeeded).await;
    let budget = deployer_notify::notifier::DEFAULT_BUDGET;
    // Generous for a loaded machine, and still below one hung Slack attempt (15 s) plus
    // its retries (48 s in all).
    assert!(
        start.elapsed() < budget + Duration::from_secs(20),
        "took {:?}",
        start.elapsed()
    );
    let slack = report.outcome(Channel::Slack).expect("slack");
    assert!(
        slack.is_warning() && slack.text().contains("within the 10 s notification budget"),
        "{slack}"
    );
}
