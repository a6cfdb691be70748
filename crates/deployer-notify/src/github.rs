//! GitHub Deployments REST API: a deployment per environment and service, and its statuses.
//!
//! # Environment names
//! Deployments are created for `<environment>/<service>` (e.g. `staging/api`) by default
//! ([`EnvironmentNaming::PerService`]):
//! * `auto_inactive` (set on `success`) marks older deployments *of the same environment
//!   name* inactive. With one name per environment, deploying `web` would mark the live
//!   `api` deployment inactive; per-service names keep one "active" deployment per service.
//! * A job with `environment: staging` already makes Actions create its own deployment
//!   for `staging` (and update it when the job ends). Our records would fight with those
//!   if they used the same name. Protection rules (reviewers, wait timers) come from the
//!   job's `environment:`, not from these records, so nothing is lost.
//!
//! [`EnvironmentNaming::Shared`] uses the plain environment name for repositories that
//! deploy one service.
//!
//! # Request choices
//! * `required_contexts: []`: by default GitHub refuses to create a deployment unless every
//!   commit status / check on the ref is green (HTTP 409). The deploy job is itself a
//!   running check on that commit, so the default can never pass; and promotion gates
//!   are checked by deployer itself (gate-check) before the deploy starts.
//! * `auto_merge: false`: by default GitHub merges the default branch into the ref first;
//!   we deploy exactly the commit that was built and must never create a merge commit.
//! * `production_environment`: true for `production`/`prod`/`prod-*`/`production-*`
//!   unless overridden; `transient_environment` for short-lived (preview) environments.
//!
//! Needs `permissions: deployments: write` for the job's `GITHUB_TOKEN`.

use std::time::Duration;

use deployer_core::mask::{add as add_secret, redact};
use deployer_core::{Classify, ErrorKind};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::retry::{RetryPolicy, retry_after};
use crate::text::{error_chain, truncate_chars};

pub const DEFAULT_API_URL: &str = "https://api.github.com";
/// GitHub rejects longer status and deployment descriptions.
pub const MAX_DESCRIPTION_CHARS: usize = 140;

const PERMISSION_HINT: &str = "the workflow needs `permissions: deployments: write` (on the workflow or the job) \
and the step must get the token (`env: GITHUB_TOKEN: ${{ github.token }}`)";

#[derive(Debug, thiserror::Error)]
pub enum DeploymentsError {
    #[error("no GitHub token for the Deployments API: {PERMISSION_HINT}")]
    NoToken,
    #[error(
        "`{0}` is not a repository name: use owner/name (e.g. org/app), or set GITHUB_REPOSITORY"
    )]
    BadRepository(String),
    #[error("`{0}` is not a valid GitHub API URL (GITHUB_API_URL)")]
    BadApiUrl(String),
    #[error("GitHub refused to {action} (HTTP {status}: {message}): {PERMISSION_HINT}")]
    Forbidden {
        action: String,
        status: u16,
        message: String,
    },
    #[error(
        "GitHub answered 404 when trying to {action} in `{repository}`: the repository name is wrong \
         or the token cannot access it (check GITHUB_REPOSITORY; GITHUB_TOKEN only reaches the \
         repository the workflow runs in)"
    )]
    NotFound { action: String, repository: String },
    #[error("GitHub rejected the request to {action} (HTTP 422): {message}")]
    Unprocessable { action: String, message: String },
    #[error(
        "GitHub refused to {action} (HTTP 409): {message}. A merge conflict or failing required \
         status checks on the ref cause this"
    )]
    Conflict { action: String, message: String },
    #[error(
        "GitHub kept rate-limiting the request to {action} (HTTP {status}, {attempts} attempts): {message}; try again later"
    )]
    RateLimited {
        action: String,
        status: u16,
        attempts: u32,
        message: String,
    },
    #[error(
        "GitHub API failed to {action}: HTTP {status}: {message} (after {attempts} attempt(s))"
    )]
    Status {
        action: String,
        status: u16,
        message: String,
        attempts: u32,
    },
    #[error("cannot reach the GitHub API to {action} (after {attempts} attempt(s)): {message}")]
    Transport {
        action: String,
        message: String,
        attempts: u32,
    },
    #[error("unexpected answer from the GitHub API when trying to {action}: {message}")]
    Decode { action: String, message: String },
}

impl Classify for DeploymentsError {
    fn kind(&self) -> ErrorKind {
        match self {
            DeploymentsError::NoToken
            | DeploymentsError::BadRepository(_)
            | DeploymentsError::BadApiUrl(_)
            | DeploymentsError::Forbidden { .. }
            | DeploymentsError::NotFound { .. }
            | DeploymentsError::Unprocessable { .. } => ErrorKind::BadInput,
            _ => ErrorKind::Failed,
        }
    }
}

/// How the GitHub deployment environment is named from deployer's environment + service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EnvironmentNaming {
    /// `staging/api` (default; see the module docs).
    #[default]
    PerService,
    /// `staging`.
    Shared,
}

impl EnvironmentNaming {
    pub fn name(self, environment: &str, service: &str) -> String {
        match self {
            EnvironmentNaming::PerService => format!("{environment}/{service}"),
            EnvironmentNaming::Shared => environment.to_string(),
        }
    }
}

/// `production`, `prod`, `prod-eu`, `production-2` (any case) are production environments.
pub fn is_production_name(environment: &str) -> bool {
    let e = environment.trim().to_ascii_lowercase();
    let base = e.split('/').next().unwrap_or(&e);
    ["production", "prod"].iter().any(|p| {
        base == *p || base.starts_with(&format!("{p}-")) || base.starts_with(&format!("{p}_"))
    })
}

/// `payload` of a deployment: what deployer deployed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentPayload {
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(
        rename = "task-definition-arn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub task_definition_arn: Option<String>,
}

/// Body of `POST /repos/{owner}/{repo}/deployments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewDeployment {
    /// Commit SHA, branch or tag.
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub task: String,
    pub environment: String,
    pub description: String,
    pub payload: DeploymentPayload,
    /// Always false: deploy exactly the ref (see module docs).
    pub auto_merge: bool,
    /// Always empty: gates are checked by deployer (see module docs).
    pub required_contexts: Vec<String>,
    pub transient_environment: bool,
    pub production_environment: bool,
}

impl NewDeployment {
    /// A deployment of `git_ref` to `environment` with deployer's fixed choices
    /// (`auto_merge: false`, `required_contexts: []`, production flag from the name).
    pub fn new(
        git_ref: impl Into<String>,
        environment: impl Into<String>,
        payload: DeploymentPayload,
    ) -> Self {
        let environment = environment.into();
        let description = match &payload.version {
            Some(v) => format!("Deploy {} {v}", payload.service),
            None => format!("Deploy {}", payload.service),
        };
        NewDeployment {
            git_ref: git_ref.into(),
            task: "deploy".into(),
            production_environment: is_production_name(&environment),
            environment,
            description: truncate_chars(&description, MAX_DESCRIPTION_CHARS),
            payload,
            auto_merge: false,
            required_contexts: Vec::new(),
            transient_environment: false,
        }
    }
}

/// Deployment status states GitHub accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusState {
    Queued,
    Pending,
    InProgress,
    Success,
    Failure,
    Error,
    Inactive,
}

impl StatusState {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusState::Queued => "queued",
            StatusState::Pending => "pending",
            StatusState::InProgress => "in_progress",
            StatusState::Success => "success",
            StatusState::Failure => "failure",
            StatusState::Error => "error",
            StatusState::Inactive => "inactive",
        }
    }
}

/// Body of `POST /repos/{owner}/{repo}/deployments/{id}/statuses`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewStatus {
    pub state: StatusState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment_url: Option<String>,
    /// GitHub's default is true; set explicitly so intent is visible. Only `success` should
    /// make older deployments inactive.
    pub auto_inactive: bool,
}

impl NewStatus {
    pub fn new(state: StatusState) -> Self {
        NewStatus {
            state,
            description: None,
            log_url: None,
            environment_url: None,
            auto_inactive: state == StatusState::Success,
        }
    }

    pub fn description(mut self, text: impl AsRef<str>) -> Self {
        let text = redact(text.as_ref().trim());
        // One line: GitHub shows descriptions inline.
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        self.description = Some(truncate_chars(&text, MAX_DESCRIPTION_CHARS));
        self
    }

    pub fn log_url(mut self, url: Option<String>) -> Self {
        self.log_url = url.filter(|u| !u.is_empty());
        self
    }

    pub fn environment_url(mut self, url: Option<String>) -> Self {
        self.environment_url = url.filter(|u| !u.is_empty());
        self
    }
}

/// A deployment as GitHub returns it (the fields deployer uses).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Deployment {
    pub id: u64,
    #[serde(default)]
    pub sha: String,
    #[serde(rename = "ref", default)]
    pub git_ref: String,
    #[serde(default)]
    pub environment: String,
    #[serde(default)]
    pub payload: serde_json::Value,
}

impl Deployment {
    /// `payload.version`, when deployer created it.
    pub fn payload_version(&self) -> Option<&str> {
        self.payload.get("version")?.as_str()
    }
}

/// A deployment status as GitHub returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeploymentStatusInfo {
    pub id: u64,
    pub state: String,
}

/// A client for one repository's deployments.
#[derive(Clone)]
pub struct GithubDeployments {
    http: reqwest::Client,
    api: Url,
    token: String,
    owner: String,
    repo: String,
    retry: RetryPolicy,
}

impl std::fmt::Debug for GithubDeployments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubDeployments")
            .field("api", &self.api.as_str())
            .field("repository", &self.repository())
            .field("token", &"***")
            .field("retry", &self.retry)
            .finish()
    }
}

impl GithubDeployments {
    /// `api_base` e.g. `https://api.github.com`, `repository` = `owner/name`. The token is
    /// registered as a secret before anything else happens.
    pub fn new(api_base: &str, token: &str, repository: &str) -> Result<Self, DeploymentsError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(DeploymentsError::NoToken);
        }
        add_secret(token);
        let (owner, repo) = repository
            .trim()
            .split_once('/')
            .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
            .ok_or_else(|| DeploymentsError::BadRepository(redact(repository)))?;
        let base = format!("{}/", api_base.trim().trim_end_matches('/'));
        let api = Url::parse(&base)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| DeploymentsError::BadApiUrl(redact(api_base)))?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("deployer/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| DeploymentsError::Transport {
                action: "build the HTTP client".into(),
                message: redact(&error_chain(&e.without_url())),
                attempts: 0,
            })?;
        Ok(GithubDeployments {
            http,
            api,
            token: token.to_string(),
            owner: owner.to_string(),
            repo: repo.to_string(),
            retry: RetryPolicy::default(),
        })
    }

    /// From `GITHUB_API_URL` (default `https://api.github.com`), `GITHUB_TOKEN` and
    /// `repository` or `GITHUB_REPOSITORY`.
    pub fn from_env(repository: Option<&str>) -> Result<Self, DeploymentsError> {
        let api = std::env::var("GITHUB_API_URL")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_API_URL.into());
        let token = std::env::var("GITHUB_TOKEN").unwrap_or_default();
        let repository = match repository {
            Some(r) => r.to_string(),
            None => std::env::var("GITHUB_REPOSITORY").unwrap_or_default(),
        };
        GithubDeployments::new(&api, &token, &repository)
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn repository(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.api.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .push("repos")
                .push(&self.owner)
                .push(&self.repo);
            for s in segments {
                path.push(s);
            }
        }
        url
    }

    /// `POST /repos/{owner}/{repo}/deployments`.
    pub async fn create_deployment(
        &self,
        new: &NewDeployment,
    ) -> Result<Deployment, DeploymentsError> {
        let action = format!(
            "create a deployment of {} for environment `{}`",
            new.git_ref, new.environment
        );
        let url = self.url(&["deployments"]);
        let (status, deployment): (StatusCode, serde_json::Value) =
            self.send(&action, Method::POST, url, Some(new)).await?;
        // 202 means GitHub tried to merge the default branch (only with auto_merge: true).
        if status == StatusCode::ACCEPTED || deployment.get("id").is_none() {
            let message = deployment
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or("no deployment was created");
            return Err(DeploymentsError::Decode {
                action,
                message: redact(message),
            });
        }
        serde_json::from_value(deployment).map_err(|e| DeploymentsError::Decode {
            action,
            message: e.to_string(),
        })
    }

    /// `POST /repos/{owner}/{repo}/deployments/{id}/statuses`.
    pub async fn create_status(
        &self,
        deployment_id: u64,
        status: &NewStatus,
    ) -> Result<DeploymentStatusInfo, DeploymentsError> {
        let action = format!(
            "set deployment {deployment_id} to `{}`",
            status.state.as_str()
        );
        let id = deployment_id.to_string();
        let url = self.url(&["deployments", &id, "statuses"]);
        let (_, info) = self.send(&action, Method::POST, url, Some(status)).await?;
        Ok(info)
    }

    /// The newest deployment for `environment` (GitHub lists newest first), if any.
    pub async fn latest_deployment(
        &self,
        environment: &str,
    ) -> Result<Option<Deployment>, DeploymentsError> {
        let action = format!("list deployments of environment `{environment}`");
        let mut url = self.url(&["deployments"]);
        url.query_pairs_mut()
            .append_pair("environment", environment)
            .append_pair("per_page", "1");
        let (_, list): (StatusCode, Vec<Deployment>) =
            self.send::<(), _>(&action, Method::GET, url, None).await?;
        Ok(list.into_iter().next())
    }

    /// One request with bounded retries on 5xx, rate limits and connection failures.
    async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        action: &str,
        method: Method,
        url: Url,
        body: Option<&B>,
    ) -> Result<(StatusCode, T), DeploymentsError> {
        let attempts = self.retry.attempts();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28")
                .bearer_auth(&self.token);
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(resp) => resp,
                Err(e) => {
                    let retryable = e.is_connect() || e.is_timeout();
                    let message = redact(&error_chain(&e.without_url()));
                    // A timeout after sending a POST may have been applied: retrying could
                    // create a second deployment, which is harmless (the newer one wins).
                    if attempt < attempts && retryable {
                        let wait = self.retry.delay(attempt, None);
                        tracing::warn!(
                            "GitHub API: cannot {action} ({message}); retrying in {wait:?}"
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(DeploymentsError::Transport {
                        action: action.into(),
                        message,
                        attempts: attempt,
                    });
                }
            };
            let status = resp.status();
            let headers = resp.headers().clone();
            let text = match resp.text().await {
                Ok(t) => t,
                Err(e) => {
                    return Err(DeploymentsError::Transport {
                        action: action.into(),
                        message: redact(&error_chain(&e.without_url())),
                        attempts: attempt,
                    });
                }
            };
            if status.is_success() {
                let value = serde_json::from_str(&text).map_err(|e| DeploymentsError::Decode {
                    action: action.into(),
                    message: format!("{e}: {}", redact(&truncate_chars(&text, 200))),
                })?;
                return Ok((status, value));
            }
            let message = redact(&github_message(&text));
            let rate_limited = is_rate_limited(status, &headers, &message);
            if (rate_limited || status.is_server_error()) && attempt < attempts {
                let wait = self.retry.delay(attempt, server_wait(&headers));
                tracing::warn!(
                    "GitHub API: HTTP {} while trying to {action}; retrying in {wait:?}",
                    status.as_u16()
                );
                tokio::time::sleep(wait).await;
                continue;
            }
            let action = action.to_string();
            let code = status.as_u16();
            return Err(match code {
                _ if rate_limited => DeploymentsError::RateLimited {
                    action,
                    status: code,
                    attempts: attempt,
                    message,
                },
                401 | 403 => DeploymentsError::Forbidden {
                    action,
                    status: code,
                    message,
                },
                404 => DeploymentsError::NotFound {
                    action,
                    repository: self.repository(),
                },
                409 => DeploymentsError::Conflict { action, message },
                422 => DeploymentsError::Unprocessable { action, message },
                _ => DeploymentsError::Status {
                    action,
                    status: code,
                    message,
                    attempts: attempt,
                },
            });
        }
    }
}

/// GitHub's `message` plus the `errors[]` details, or the start of the body.
fn github_message(body: &str) -> String {
    let parsed = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            let msg = v.get("message")?.as_str()?.to_string();
            let details: Vec<String> = v
                .get("errors")
                .and_then(|e| e.as_array())
                .map(|errs| {
                    errs.iter()
                        .filter_map(|e| match e {
                            serde_json::Value::String(s) => Some(s.clone()),
                            _ => {
                                let m = e.get("message").and_then(|m| m.as_str());
                                let c = e.get("code").and_then(|c| c.as_str());
                                let f = e.get("field").and_then(|f| f.as_str());
                                match (m, c, f) {
                                    (Some(m), _, _) => Some(m.to_string()),
                                    (None, Some(c), Some(f)) => Some(format!("{f}: {c}")),
                                    (None, Some(c), None) => Some(c.to_string()),
                                    _ => None,
                                }
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            Some(if details.is_empty() {
                msg
            } else {
                format!("{msg} ({})", details.join("; "))
            })
        });
    match parsed {
        Some(m) => m,
        None if body.trim().is_empty() => "(empty answer)".into(),
        None => truncate_chars(body.trim(), 300),
    }
}

/// Primary (`x-ratelimit-remaining: 0`) or secondary rate limit, or HTTP 429.
fn is_rate_limited(status: StatusCode, headers: &HeaderMap, message: &str) -> bool {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return true;
    }
    if status != StatusCode::FORBIDDEN {
        return false;
    }
    let remaining_zero = headers
        .get("x-ratelimit-remaining")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "0");
    remaining_zero
        || headers.contains_key(reqwest::header::RETRY_AFTER)
        || message.to_ascii_lowercase().contains("rate limit")
}

/// `Retry-After`, else the time until `x-ratelimit-reset` (epoch seconds).
fn server_wait(headers: &HeaderMap) -> Option<Duration> {
    if let Some(d) = retry_after(headers) {
        return Some(d);
    }
    let reset = headers
        .get("x-ratelimit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse::<i64>()
        .ok()?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Some(Duration::from_secs(
        u64::try_from(reset - now).unwrap_or(0).max(1),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naming_and_production_detection() {
        assert_eq!(
            EnvironmentNaming::PerService.name("staging", "api"),
            "staging/api"
        );
        assert_eq!(EnvironmentNaming::Shared.name("staging", "api"), "staging");
        assert!(is_production_name("production"));
        assert!(is_production_name("Prod"));
        assert!(is_production_name("prod-eu/api"));
        assert!(!is_production_name("staging"));
        assert!(!is_production_name("products"));
    }

    #[test]
    fn new_deployment_has_fixed_choices() {
        let d = NewDeployment::new(
            "abc",
            "production/api",
            DeploymentPayload {
                service: "api".into(),
                ..Default::default()
            },
        );
        let v = serde_json::to_value(&d).expect("json");
        assert_eq!(v["ref"], "abc");
        assert_eq!(v["auto_merge"], false);
        assert_eq!(v["required_contexts"], serde_json::json!([]));
        assert_eq!(v["production_environment"], true);
        assert_eq!(v["payload"], serde_json::json!({"service": "api"}));
    }

    #[test]
    fn github_messages_include_details() {
        assert_eq!(
            github_message(
                r#"{"message":"Validation Failed","errors":[{"resource":"Deployment","code":"custom","message":"No ref found for: nope"}]}"#
            ),
            "Validation Failed (No ref found for: nope)"
        );
        assert_eq!(github_message("<html>oops</html>"), "<html>oops</html>");
        assert_eq!(github_message(""), "(empty answer)");
    }

    #[test]
    fn status_descriptions_are_one_short_line() {
        let s = NewStatus::new(StatusState::Failure)
            .description(format!("line one\nline two {}", "x".repeat(300)));
        let d = s.description.expect("description");
        assert!(!d.contains('\n'));
        assert_eq!(d.chars().count(), MAX_DESCRIPTION_CHARS);
        assert!(!s.auto_inactive);
        assert!(NewStatus::new(StatusState::Success).auto_inactive);
    }
}
