#![allow(dead_code)]

use deployer_notify::{DeploymentRecord, GithubClient, Links, RetryPolicy, RunContext};
use wiremock::MockServer;

pub const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
pub const OLD_SHA: &str = "fedcba9876543210fedcba9876543210fedcba98";
pub const RUN_URL: &str = "https://github.com/org/app/actions/runs/4242";

pub fn ctx() -> RunContext {
    RunContext {
        server_url: "https://github.com".into(),
        repository: "org/app".into(),
        run_id: Some("4242".into()),
        actor: Some("octocat".into()),
        sha: Some(SHA.into()),
    }
}

pub fn links() -> Links {
    Links::new(
        &ctx(),
        Some("cutover.yml"),
        Some(".github/workflows/rollback.yml"),
    )
}

pub fn record() -> DeploymentRecord {
    let mut r = DeploymentRecord::new("api", "staging").with_run(&ctx());
    r.version = Some("v1.2.3".into());
    r.image = Some("111111111111.dkr.ecr.us-east-1.amazonaws.com/api:v1.2.3".into());
    r.task_definition_arn = Some("arn:aws:ecs:us-east-1:111111111111:task-definition/api:7".into());
    r.environment_url = Some("https://staging.example.com".into());
    r
}

pub fn github(server: &MockServer, token: &str) -> GithubClient {
    GithubClient::new(&server.uri(), Some(token.into()), "org/app")
        .expect("client")
        .with_retry(RetryPolicy::fast(3))
}

/// JSON bodies of the requests the server received, with method and path.
pub async fn requests(server: &MockServer) -> Vec<(String, String, serde_json::Value)> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let body = serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null);
            (r.method.to_string(), r.url.path().to_string(), body)
        })
        .collect()
}
