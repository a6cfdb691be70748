//! Deployments calls against wiremock: errors that name the fix, and bounded retries.
//! (Moved from deployer-notify when the HTTP client moved here; the 403 hint is checked
//! through the notifier in deployer-notify's tests/github.rs.)

mod common;

use common::{json, mount};
use deployer_core::{Classify, ErrorKind};
use deployer_github::{
    Client, GithubError, NewDeployment, NewStatus, Permission, RetryPolicy, StatusState,
};
use wiremock::{MockServer, ResponseTemplate};

const TOKEN: &str = "ghs_fakeTokenForGithubTests_0001";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const DEPLOYMENTS: &str = "/repos/org/app/deployments";

fn github(server: &MockServer, token: &str) -> Client {
    Client::new(&server.uri(), Some(token.into()), "org/app")
        .expect("client")
        .with_retry(RetryPolicy::fast(3))
}

fn new_deployment() -> NewDeployment {
    let mut new = NewDeployment::new(SHA, "staging/api");
    new.payload = serde_json::json!({"service": "api"});
    new
}

fn success() -> NewStatus {
    NewStatus::new(StatusState::Success)
}

#[tokio::test]
async fn not_found_names_the_repository_and_unprocessable_shows_githubs_message() {
    let server = MockServer::start().await;
    let not_found = json(404, serde_json::json!({"message": "Not Found"}));
    mount(&server, "POST", DEPLOYMENTS, not_found, Some(1), None).await;
    let invalid = json(
        422,
        serde_json::json!({
            "message": "Validation Failed",
            "errors": [{"resource": "DeploymentStatus", "code": "custom", "message": "state is not included in the list"}]
        }),
    );
    let statuses = "/repos/org/app/deployments/5/statuses";
    mount(&server, "POST", statuses, invalid, Some(1), None).await;
    let client = github(&server, TOKEN);
    let err = client
        .create_deployment(&new_deployment())
        .await
        .expect_err("404");
    assert!(matches!(err, GithubError::NotFound { .. }));
    let text = err.to_string();
    assert!(
        text.contains("`org/app`")
            && text.contains("repository name is wrong or the token cannot access it"),
        "{text}"
    );

    let err = client.create_status(5, &success()).await.expect_err("422");
    let text = err.to_string();
    assert!(
        text.contains("HTTP 422")
            && text.contains("Validation Failed (state is not included in the list)"),
        "{text}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let server = MockServer::start().await;
    let bad_gateway = ResponseTemplate::new(502).set_body_string("<html>Bad gateway</html>");
    mount(&server, "POST", DEPLOYMENTS, bad_gateway, Some(2), Some(2)).await;
    let created = json(201, serde_json::json!({"id": 11, "sha": SHA}));
    mount(&server, "POST", DEPLOYMENTS, created, Some(1), None).await;
    let d = github(&server, TOKEN)
        .create_deployment(&new_deployment())
        .await
        .expect("third attempt succeeds");
    assert_eq!(d.id, 11);
}

#[tokio::test]
async fn secondary_rate_limit_is_retried() {
    let server = MockServer::start().await;
    let statuses = "/repos/org/app/deployments/3/statuses";
    let limited = json(403, serde_json::json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}))
        .insert_header("retry-after", "0");
    mount(&server, "POST", statuses, limited, Some(1), Some(1)).await;
    let created = json(201, serde_json::json!({"id": 1, "state": "success"}));
    mount(&server, "POST", statuses, created, Some(1), None).await;
    let info = github(&server, TOKEN)
        .create_status(3, &success())
        .await
        .expect("retried");
    assert_eq!(info.state, "success");
}

#[tokio::test]
async fn retries_are_bounded() {
    let server = MockServer::start().await;
    let unavailable = json(503, serde_json::json!({"message": "Service Unavailable"}));
    let statuses = "/repos/org/app/deployments/3/statuses";
    mount(&server, "POST", statuses, unavailable, Some(3), None).await;
    let err = github(&server, TOKEN)
        .create_status(3, &success())
        .await
        .expect_err("gives up");
    let text = err.to_string();
    assert!(
        text.contains("HTTP 503") && text.contains("after 3 attempt(s)"),
        "{text}"
    );
    assert_eq!(err.kind(), ErrorKind::Failed);

    // A rate limit that persists through every retry ends the same way, and says so.
    let limited = json(
        429,
        serde_json::json!({"message": "API rate limit exceeded"}),
    )
    .insert_header("retry-after", "0");
    mount(&server, "GET", DEPLOYMENTS, limited, Some(3), None).await;
    let err = github(&server, TOKEN)
        .latest_deployment("staging/api")
        .await
        .expect_err("rate limited");
    assert!(
        matches!(err, GithubError::RateLimited { attempts: 3, advice, .. } if advice.budget.is_none()),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("persisted through every retry") && text.contains("re-run the job after"),
        "{text}"
    );
    assert_eq!(err.kind(), ErrorKind::Failed);
}

/// GitHub's rule: after `retry-after: N`, no request before N seconds have elapsed (the
/// test policy's backoff is 5 ms, so an early retry would come at once).
#[tokio::test]
async fn retry_after_is_waited_whole_before_the_next_request() {
    let server = MockServer::start().await;
    let statuses = "/repos/org/app/deployments/3/statuses";
    let limited = json(
        403,
        serde_json::json!({"message": "You have exceeded a secondary rate limit."}),
    )
    .insert_header("retry-after", "1");
    mount(&server, "POST", statuses, limited, Some(1), Some(1)).await;
    let created = json(201, serde_json::json!({"id": 1, "state": "success"}));
    mount(&server, "POST", statuses, created, Some(1), None).await;
    let start = std::time::Instant::now();
    let info = github(&server, TOKEN)
        .create_status(3, &success())
        .await
        .expect("retried after the wait");
    assert_eq!(info.state, "success");
    assert!(
        start.elapsed() >= std::time::Duration::from_secs(1),
        "retried after {:?}, before the 1 s GitHub asked for",
        start.elapsed()
    );
}

/// A wait longer than the retry budget (an hourly reset, a secondary limit's minute with
/// the test policy's 5 s budget) fails at once, saying what GitHub asked for; no retry is
/// sent early and the command does not block.
#[tokio::test]
async fn a_wait_longer_than_the_budget_fails_at_once_and_says_how_long() {
    let server = MockServer::start().await;
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 3000;
    let primary = json(
        403,
        serde_json::json!({"message": "API rate limit exceeded for installation ID 1."}),
    )
    .insert_header("x-ratelimit-remaining", "0")
    .insert_header("x-ratelimit-reset", reset.to_string());
    mount(&server, "POST", DEPLOYMENTS, primary, Some(1), None).await;
    let (client, new) = (github(&server, TOKEN), new_deployment());
    let err = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        client.create_deployment(&new),
    )
    .await
    .expect("fails at once, does not wait for the reset")
    .expect_err("rate limited");
    let GithubError::RateLimited {
        attempts, advice, ..
    } = &err
    else {
        panic!("not a rate limit: {err}");
    };
    assert_eq!(*attempts, 1);
    assert_eq!(advice.limit, deployer_github::ratelimit::Limit::Primary);
    assert!(
        advice.wait >= std::time::Duration::from_secs(2990),
        "{advice:?}"
    );
    assert_eq!(advice.budget, Some(std::time::Duration::from_secs(5)));
    let text = err.to_string();
    assert!(
        text.contains("create a deployment")
            && text.contains("hourly quota of API requests is used up")
            && text.contains("(in 50 min")
            && text.contains("re-run the job after")
            && text.contains("UTC"),
        "{text}"
    );

    // A secondary limit without headers: GitHub wants at least a minute.
    let statuses = "/repos/org/app/deployments/3/statuses";
    let secondary = json(
        403,
        serde_json::json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}),
    );
    mount(&server, "POST", statuses, secondary, Some(1), None).await;
    let status = success();
    let err = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        client.create_status(3, &status),
    )
    .await
    .expect("fails at once, does not wait a minute")
    .expect_err("rate limited");
    let text = err.to_string();
    assert!(
        text.contains("secondary rate limit")
            && text.contains("requires waiting 1 min before the next request")
            && text.contains("longer than deployer waits for one request (5 s in all)")
            && text.contains("run fewer jobs that call the GitHub API at the same time"),
        "{text}"
    );
}

#[tokio::test]
async fn writes_without_a_token_name_the_permission_and_send_nothing() {
    let server = MockServer::start().await;
    let anon = Client::new(&server.uri(), None, "org/app").expect("client");
    let err = anon
        .create_status(1, &success())
        .await
        .expect_err("no token");
    assert!(
        matches!(
            err,
            GithubError::NoToken {
                permission: Permission::DeploymentsWrite
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("deployments: write"), "{err}");
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[test]
fn construction_errors_are_bad_input() {
    assert!(matches!(
        Client::new("https://api.github.com", Some("  ".into()), "org/app")
            .and_then(|c| c.require_token(Permission::DeploymentsWrite)),
        Err(GithubError::NoToken { .. })
    ));
    let err = Client::new("https://api.github.com", Some(TOKEN.into()), "just-a-name")
        .expect_err("bad repo");
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(err.to_string().contains("owner/name"));
    let err = Client::new("not a url", Some(TOKEN.into()), "org/app").expect_err("bad url");
    assert!(err.to_string().contains("GITHUB_API_URL"));
}

/// Requests run inside spawned tasks (ecs-deploy sends "started" while it deploys), so
/// their futures must be `Send`; this fails to compile otherwise.
#[test]
fn request_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    let client =
        Client::new("https://api.github.com", Some(TOKEN.into()), "org/app").expect("client");
    let status = success();
    send(&client.create_status(1, &status));
    let new = new_deployment();
    send(&client.create_deployment(&new));
}
