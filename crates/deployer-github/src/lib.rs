//! deployer's GitHub REST client: one typed client for every GitHub call deployer makes.
//!
//! Why not octocrab: it pulls in hyper-rustls, tower, a JWT stack, chrono, and many
//! generated models; deployer needs a handful of calls, and `reqwest` with rustls is
//! already in the workspace. A narrow client keeps build time and the dependency tree
//! (and its supply-chain surface) small and lets tests point `GITHUB_API_URL` at a
//! wiremock server.
//!
//! * [`Client`]: base URL from `GITHUB_API_URL`, token from `GITHUB_TOKEN` (registered with
//!   [`deployer_core::mask::add`] before any use), bounded retries with backoff on 5xx,
//!   HTTP 429 and GitHub's primary/secondary rate limits, waiting as long as GitHub's docs
//!   require ([`ratelimit`]) or failing at once with [`GithubError::RateLimited`] when that
//!   wait is longer than the retry budget ([`RetryPolicy::max_total_wait`]).
//! * Endpoints are `impl Client` blocks: [`releases`] (releases, tag refs; the job needs
//!   `permissions: contents: write`) and [`deployments`] (deployments and their statuses;
//!   `permissions: deployments: write`).
//! * [`running`]: which commit runs in an environment, read back from the deployment
//!   records deployer writes (`permissions: deployments: read`).
//! * [`GithubError`]: messages say what failed and how to fix it; a 401/403 names the
//!   permission the call needs, a 404 names the repository, a 422 shows GitHub's message.
//! * [`retry`] and [`text`]: the retry loop and text helpers, public so other small HTTP
//!   clients of deployer (the Slack webhook) share them.

pub mod deployments;
pub mod ratelimit;
pub mod releases;
pub mod retry;
pub mod running;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use deployer_core::mask::{add as add_secret, redact};
use deployer_core::{Classify, ErrorKind};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use deployments::{Deployment, DeploymentStatusInfo, NewDeployment, NewStatus, StatusState};
pub use releases::{NewRelease, Release, TagRefOutcome};
pub use retry::RetryPolicy;
pub use running::{Running, running_commit};

use crate::ratelimit::{Limit, human, now_epoch, utc};
use crate::retry::{Answer, Verdict, retry_after, send_with_retries};
use crate::text::truncate_chars;

pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// The `permissions:` entry a call needs from the job's `GITHUB_TOKEN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Releases and tag refs.
    ContentsWrite,
    /// Deployments and deployment statuses.
    DeploymentsWrite,
    /// Reading deployments and their statuses (`detect-changes --since last-deployed`).
    DeploymentsRead,
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Permission::ContentsWrite => "contents: write",
            Permission::DeploymentsWrite => "deployments: write",
            Permission::DeploymentsRead => "deployments: read",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error(
        "`{0}` is not a repository name: use owner/name (e.g. org/app), or set GITHUB_REPOSITORY"
    )]
    BadRepository(String),
    #[error("`{0}` is not a valid GitHub API URL (GITHUB_API_URL)")]
    BadApiUrl(String),
    #[error(
        "no GitHub token: set GITHUB_TOKEN; the workflow needs `permissions: {permission}` (on the \
         workflow or the job) and the step must get the token (`env: GITHUB_TOKEN: ${{{{ github.token }}}}`)"
    )]
    NoToken { permission: Permission },
    #[error(
        "GitHub did not accept the token when trying to {action} (HTTP 401: {message}): pass a \
         valid GITHUB_TOKEN (`env: GITHUB_TOKEN: ${{{{ github.token }}}}`)"
    )]
    Unauthorized { action: String, message: String },
    #[error(
        "GitHub refused to {action} (HTTP {status}: {message}): the workflow needs \
         `permissions: {permission}` (on the workflow or the job) and the step must get the \
         token (`env: GITHUB_TOKEN: ${{{{ github.token }}}}`)"
    )]
    Forbidden {
        action: String,
        status: u16,
        message: String,
        permission: Permission,
    },
    #[error(
        "GitHub answered 404 when trying to {action} in `{repository}`: the repository name is wrong \
         or the token cannot access it (check GITHUB_REPOSITORY; GITHUB_TOKEN only reaches the \
         repository the workflow runs in)"
    )]
    NotFound { action: String, repository: String },
    #[error("GitHub rejected the request to {action} (HTTP 422): {message}")]
    Unprocessable { action: String, message: String },
    #[error("GitHub refused to {action} (HTTP 409): {message}")]
    Conflict { action: String, message: String },
    #[error(
        "GitHub rate-limited the request to {action} (HTTP {status}, {attempts} attempt(s): {message}): {advice}"
    )]
    RateLimited {
        action: String,
        status: u16,
        attempts: u32,
        message: String,
        advice: RateLimitAdvice,
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
    #[error(
        "unexpected answer from the GitHub API when trying to {action}: {message}; check that \
         GITHUB_API_URL points at the GitHub REST API (e.g. https://api.github.com)"
    )]
    Decode { action: String, message: String },
    #[error(
        "tag {tag} already exists on GitHub at {existing}, not at {wanted}: refusing to move a release tag"
    )]
    TagConflict {
        tag: String,
        existing: String,
        wanted: String,
    },
}

impl Classify for GithubError {
    fn kind(&self) -> ErrorKind {
        match self {
            GithubError::BadRepository(_)
            | GithubError::BadApiUrl(_)
            | GithubError::NoToken { .. }
            | GithubError::Unauthorized { .. }
            | GithubError::Forbidden { .. }
            | GithubError::NotFound { .. }
            | GithubError::Unprocessable { .. }
            // A server answer that is not the REST API's is bad input, like a bad flag.
            | GithubError::Decode { .. } => ErrorKind::BadInput,
            _ => ErrorKind::Failed,
        }
    }
}

/// One request: what it does (for messages), the permission it needs, and what to send.
pub(crate) struct Call<'a, B = ()> {
    action: &'a str,
    permission: Permission,
    method: Method,
    url: Url,
    body: Option<&'a B>,
}

impl<'a> Call<'a> {
    pub(crate) fn get(action: &'a str, permission: Permission, url: Url) -> Self {
        Call::new(action, permission, Method::GET, url, None)
    }
}

impl<'a, B: Serialize> Call<'a, B> {
    pub(crate) fn post(action: &'a str, permission: Permission, url: Url, body: &'a B) -> Self {
        Call::new(action, permission, Method::POST, url, Some(body))
    }

    fn new(
        action: &'a str,
        permission: Permission,
        method: Method,
        url: Url,
        body: Option<&'a B>,
    ) -> Self {
        Call {
            action,
            permission,
            method,
            url,
            body,
        }
    }
}

/// A client bound to one repository.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    api: Url,
    token: Option<String>,
    owner: String,
    repo: String,
    retry: RetryPolicy,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("api", &self.api.as_str())
            .field("repository", &self.repository())
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("retry", &self.retry)
            .finish()
    }
}

impl Client {
    /// `api_base` e.g. `https://api.github.com`; `repository` is `owner/name`. A blank
    /// token counts as none; a token is registered as a secret before anything else.
    pub fn new(
        api_base: &str,
        token: Option<String>,
        repository: &str,
    ) -> Result<Self, GithubError> {
        let token = token
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        if let Some(t) = &token {
            add_secret(t);
        }
        let (owner, repo) = repository
            .trim()
            .split_once('/')
            .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
            .ok_or_else(|| GithubError::BadRepository(redact(repository)))?;
        let base = format!("{}/", api_base.trim().trim_end_matches('/'));
        let api = Url::parse(&base)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| GithubError::BadApiUrl(redact(api_base)))?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("deployer/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| GithubError::Transport {
                action: "build the HTTP client".into(),
                message: redact(&text::error_chain(&e.without_url())),
                attempts: 0,
            })?;
        Ok(Client {
            http,
            api,
            token,
            owner: owner.to_string(),
            repo: repo.to_string(),
            retry: RetryPolicy::default(),
        })
    }

    /// From `GITHUB_API_URL` (default `https://api.github.com`), `GITHUB_TOKEN` and
    /// `repository` (or `GITHUB_REPOSITORY`).
    pub fn from_env(repository: Option<&str>) -> Result<Self, GithubError> {
        let api = std::env::var("GITHUB_API_URL")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_API_URL.into());
        let token = std::env::var("GITHUB_TOKEN").ok();
        let repository = match repository {
            Some(r) => r.to_string(),
            None => std::env::var("GITHUB_REPOSITORY").unwrap_or_default(),
        };
        Client::new(&api, token, &repository)
    }

    /// `Err(NoToken)` naming `permission` when there is no token: for callers that want
    /// to find out at setup rather than at the first call.
    pub fn require_token(self, permission: Permission) -> Result<Self, GithubError> {
        if self.has_token() {
            Ok(self)
        } else {
            Err(GithubError::NoToken { permission })
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn repository(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// `repos/{owner}/{repo}/<segments…>`, each segment percent-encoded (a tag may contain `/`).
    pub(crate) fn repo_url(&self, segments: &[&str]) -> Url {
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

    /// `Err(NoToken)` for a call that writes.
    pub(crate) fn check_token(&self, permission: Permission) -> Result<(), GithubError> {
        match self.token {
            Some(_) => Ok(()),
            None => Err(GithubError::NoToken { permission }),
        }
    }

    /// Sends `call` with bounded retries; `Ok(None)` for a 404 when `missing_ok`.
    pub(crate) async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        call: &Call<'_, B>,
        missing_ok: bool,
    ) -> Result<Option<(StatusCode, T)>, GithubError> {
        let action = call.action;
        let build = || {
            let mut req = self
                .http
                .request(call.method.clone(), call.url.clone())
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28");
            if let Some(t) = &self.token {
                req = req.bearer_auth(t);
            }
            if let Some(b) = call.body {
                req = req.json(b);
            }
            req
        };
        // Rate-limited answers in a row: GitHub wants exponentially longer waits for them.
        // (An atomic, not a Cell: the request future must stay Send for spawned tasks.)
        let limited_in_a_row = AtomicU32::new(0);
        let judge = |a: &Answer| {
            if let Some(limited) = ratelimit::classify(a.status, &a.headers, &a.body) {
                let consecutive = limited_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
                Verdict::Retry(Some(limited.required_wait(now_epoch(), consecutive)))
            } else if a.status.is_server_error() {
                limited_in_a_row.store(0, Ordering::Relaxed);
                Verdict::Retry(retry_after(&a.headers))
            } else {
                Verdict::Done
            }
        };
        let what = format!("GitHub API ({action})");
        let answer = send_with_retries(&self.retry, &what, build, judge)
            .await
            .map_err(|e| GithubError::Transport {
                action: action.into(),
                message: e.message,
                attempts: e.attempts,
            })?;
        let limited = ratelimit::classify(answer.status, &answer.headers, &answer.body);
        let Answer {
            status,
            headers: _,
            body: text,
            attempts,
            wait_refused,
        } = answer;
        if status.is_success() {
            let value = serde_json::from_str(&text).map_err(|e| GithubError::Decode {
                action: action.into(),
                message: format!("{e}: {}", redact(&truncate_chars(&text, 200))),
            })?;
            return Ok(Some((status, value)));
        }
        if status == StatusCode::NOT_FOUND && missing_ok {
            return Ok(None);
        }
        let message = redact(&github_message(&text));
        let action = action.to_string();
        let code = status.as_u16();
        if let Some(limited) = limited {
            let consecutive = limited_in_a_row.load(Ordering::Relaxed);
            let wait = limited.required_wait(now_epoch(), consecutive);
            let advice = RateLimitAdvice {
                limit: limited.limit,
                wait: wait_refused.unwrap_or(wait),
                retry_at: now_epoch().saturating_add(wait_refused.unwrap_or(wait).as_secs()),
                budget: wait_refused.map(|_| self.retry.max_total_wait),
            };
            return Err(GithubError::RateLimited {
                action,
                status: code,
                attempts,
                message,
                advice,
            });
        }
        Err(match code {
            401 => GithubError::Unauthorized { action, message },
            403 => GithubError::Forbidden {
                action,
                status: code,
                message,
                permission: call.permission,
            },
            404 => GithubError::NotFound {
                action,
                repository: self.repository(),
            },
            409 => GithubError::Conflict { action, message },
            422 => GithubError::Unprocessable { action, message },
            _ => GithubError::Status {
                action,
                status: code,
                message,
                attempts,
            },
        })
    }

    /// [`Client::send`] for a call where a 404 is an error.
    pub(crate) async fn send_json<B: Serialize, T: DeserializeOwned>(
        &self,
        call: &Call<'_, B>,
    ) -> Result<(StatusCode, T), GithubError> {
        self.send(call, false)
            .await?
            .ok_or_else(|| GithubError::NotFound {
                action: call.action.into(),
                repository: self.repository(),
            })
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

/// What a rate-limited request needs and what the user can do (the end of
/// [`GithubError::RateLimited`]'s message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitAdvice {
    pub limit: Limit,
    /// How long GitHub requires before the next request.
    pub wait: Duration,
    /// When that wait ends (UTC epoch seconds).
    pub retry_at: u64,
    /// `Some(budget)` when deployer stopped because the wait exceeds what it waits for
    /// one request; `None` when it retried as asked and ran out of attempts.
    pub budget: Option<Duration>,
}

impl std::fmt::Display for RateLimitAdvice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let wait = human(self.wait);
        let at = utc(self.retry_at);
        match self.limit {
            Limit::Primary => write!(
                f,
                "the token's hourly quota of API requests is used up; GitHub allows the next request \
                 after {at} (in {wait})"
            )?,
            Limit::Secondary => write!(
                f,
                "GitHub's secondary rate limit (too many requests at once or per minute) requires \
                 waiting {wait} before the next request"
            )?,
        }
        match self.budget {
            Some(budget) => write!(
                f,
                ", longer than deployer waits for one request ({} in all), so it stopped instead of blocking the job",
                human(budget)
            )?,
            None => f.write_str(", and the limit persisted through every retry")?,
        }
        // GITHUB_TOKEN: 1,000 requests per hour per repository (same docs page as ratelimit).
        let fix = match self.limit {
            Limit::Primary => {
                "spread the jobs that call the GitHub API over time, or use a GitHub App token \
                 (GITHUB_TOKEN allows 1,000 requests per hour per repository)"
            }
            Limit::Secondary => "run fewer jobs that call the GitHub API at the same time",
        };
        write!(f, ": re-run the job after {at}; to avoid this, {fix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn permissions_read_like_the_workflow_key() {
        assert_eq!(Permission::ContentsWrite.to_string(), "contents: write");
        assert_eq!(
            Permission::DeploymentsWrite.to_string(),
            "deployments: write"
        );
        assert_eq!(Permission::DeploymentsRead.to_string(), "deployments: read");
    }

    #[test]
    fn debug_hides_the_token() {
        let c = Client::new(
            "https://api.github.com",
            Some("tok-debug-hidden-123".into()),
            "o/r",
        )
        .expect("client");
        assert!(!format!("{c:?}").contains("tok-debug-hidden-123"));
    }
}
