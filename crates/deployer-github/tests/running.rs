//! `running_commit` against the Deployments stand-in: records written as deployer writes
//! them (one environment per service, `payload.service`, `auto_inactive` on success only),
//! read back as detect-changes reads them.

use deployer_core::{Classify, ErrorKind};
use deployer_github::testing::{Answer, Deployments};
use deployer_github::{
    Client, NewDeployment, NewStatus, RetryPolicy, Running, StatusState, running_commit,
};
use wiremock::MockServer;

const TOKEN: &str = "ghs_fakeTokenForRunningTests_0001";
const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const C: &str = "cccccccccccccccccccccccccccccccccccccccc";
const ENV: &str = "staging/api";

async fn world() -> (MockServer, Deployments, Client) {
    let server = MockServer::start().await;
    let records = Deployments::mount(&server).await;
    let client = Client::new(&server.uri(), Some(TOKEN.into()), "org/app")
        .expect("client")
        .with_retry(RetryPolicy::fast(2));
    (server, records, client)
}

/// A deployment of `sha` for `service` in `ENV`, taken through `states` as deployer
/// reports them (deployer-notify sets `auto_inactive` on `success` only).
async fn deploy(
    client: &Client,
    sha: &str,
    service: &str,
    task: &str,
    states: &[StatusState],
) -> u64 {
    let mut new = NewDeployment::new(sha, ENV);
    new.payload = serde_json::json!({ "service": service });
    new.task = task.into();
    let d = client.create_deployment(&new).await.expect("create");
    for state in states {
        mark(client, d.id, *state).await;
    }
    d.id
}

async fn mark(client: &Client, id: u64, state: StatusState) {
    let status = NewStatus::new(state).auto_inactive(state == StatusState::Success);
    client.create_status(id, &status).await.expect("status");
}

use StatusState::{Failure, InProgress, Inactive, Success};

#[tokio::test]
async fn never_deployed_when_the_environment_has_no_record() {
    let (_server, _, client) = world().await;
    assert_eq!(
        running_commit(&client, ENV, "api").await.expect("read"),
        Running::NeverDeployed
    );
}

#[tokio::test]
async fn failed_and_cancelled_deploys_leave_the_earlier_success_running() {
    let (_server, records, client) = world().await;
    let a = deploy(&client, A, "api", "deploy", &[InProgress, Success]).await;
    deploy(&client, B, "api", "deploy", &[InProgress, Failure]).await;
    // A cancelled run: in_progress and never finished.
    deploy(&client, C, "api", "deploy", &[InProgress]).await;
    let running = running_commit(&client, ENV, "api").await.expect("read");
    assert_eq!(
        running,
        Running::Deployed {
            deployment_id: a,
            sha: A.into(),
            task: "deploy".into(),
            newer_unsuccessful: 2
        }
    );
    assert_eq!(records.states(a), ["in_progress", "success"]);
}

#[tokio::test]
async fn a_newer_success_replaces_the_older_one() {
    let (_server, records, client) = world().await;
    let a = deploy(&client, A, "api", "deploy", &[InProgress, Success]).await;
    let b = deploy(&client, B, "api", "deploy", &[InProgress, Success]).await;
    // GitHub's auto_inactive marked the older one inactive.
    assert_eq!(records.states(a), ["in_progress", "success", "inactive"]);
    let running = running_commit(&client, ENV, "api").await.expect("read");
    assert!(
        matches!(&running, Running::Deployed { deployment_id, sha, .. } if *deployment_id == b && sha == B),
        "{running:?}"
    );
}

#[tokio::test]
async fn a_rolled_back_deploy_runs_the_commit_rolled_back_to() {
    let (_server, _, client) = world().await;
    deploy(&client, A, "api", "deploy", &[InProgress, Success]).await;
    let b = deploy(&client, B, "api", "deploy", &[InProgress]).await;
    // deployer-notify on a failed deploy rolled back: the deploy → failure, the commit it
    // returned to → a new `deploy:rollback` deployment with success.
    mark(&client, b, Failure).await;
    let back = deploy(&client, A, "api", "deploy:rollback", &[Success]).await;
    let running = running_commit(&client, ENV, "api").await.expect("read");
    assert_eq!(
        running,
        Running::Deployed {
            deployment_id: back,
            sha: A.into(),
            task: "deploy:rollback".into(),
            newer_unsuccessful: 0
        }
    );
}

#[tokio::test]
async fn nothing_succeeded_when_every_record_is_inactive_or_failed() {
    let (_server, _, client) = world().await;
    deploy(&client, A, "api", "deploy", &[InProgress, Success]).await;
    let b = deploy(&client, B, "api", "deploy", &[InProgress, Success]).await;
    // A manual rollback whose commit is unknown: the replaced deployment → inactive.
    mark(&client, b, Inactive).await;
    let c = deploy(&client, C, "api", "deploy", &[InProgress, Failure]).await;
    assert_eq!(
        running_commit(&client, ENV, "api").await.expect("read"),
        Running::NothingSucceeded {
            newest_id: c,
            newest_state: Some(Failure),
            scanned: 3
        }
    );
}

#[tokio::test]
async fn records_of_another_service_in_the_environment_do_not_count() {
    let (_server, _, client) = world().await;
    let a = deploy(&client, A, "api", "deploy", &[Success]).await;
    // A newer success of `web` in the same environment name, written without
    // auto_inactive (with it, GitHub would have marked api's record inactive: the reason
    // deployer names environments per service).
    let mut new = NewDeployment::new(B, ENV);
    new.payload = serde_json::json!({ "service": "web" });
    let web = client.create_deployment(&new).await.expect("create");
    client
        .create_status(web.id, &NewStatus::new(Success))
        .await
        .expect("status");
    let running = running_commit(&client, ENV, "api").await.expect("read");
    assert!(
        matches!(&running, Running::Deployed { deployment_id, sha, newer_unsuccessful: 0, .. } if *deployment_id == a && sha == A),
        "{running:?}"
    );
}

#[tokio::test]
async fn a_token_without_the_permission_is_bad_input_naming_deployments_read() {
    let (_server, records, client) = world().await;
    records.set_answer(Answer::Forbidden);
    let err = running_commit(&client, ENV, "api").await.expect_err("403");
    assert_eq!(err.kind(), ErrorKind::BadInput);
    let text = err.to_string();
    assert!(
        text.contains("permissions: deployments: read") && text.contains("HTTP 403"),
        "{text}"
    );
}

#[tokio::test]
async fn an_unavailable_api_is_a_failure_after_bounded_retries() {
    let (_server, records, client) = world().await;
    records.set_answer(Answer::Unavailable);
    let err = running_commit(&client, ENV, "api").await.expect_err("503");
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert!(err.to_string().contains("after 2 attempt(s)"), "{err}");
    assert_eq!(records.requests(), 2);
}
