//! A small, typed GitHub REST client.
//!
//! Why not octocrab: it pulls in hyper-rustls, tower, a JWT stack, chrono, and many
//! generated models; deployer needs a handful of calls (releases and tag refs now,
//! Deployments later), and `reqwest` with rustls is already in the workspace. A narrow
//! client keeps build time and the dependency tree (and its supply-chain surface) small
//! and lets tests point `GITHUB_API_URL` at a wiremock server.
//!
//! Modules add endpoints as `impl Client` blocks: [`releases`] (releases, tag refs).
//! The token is registered with [`deployer_core::mask`] before anything can print it.

pub mod releases;

use deployer_core::{Classify, ErrorKind};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use releases::{NewRelease, Release, TagRefOutcome};

pub const DEFAULT_API_URL: &str = "https://api.github.com";

#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error(
        "`{0}` is not a repository name: use owner/name (e.g. org/app), or set GITHUB_REPOSITORY"
    )]
    BadRepository(String),
    #[error("`{0}` is not a valid GitHub API URL (GITHUB_API_URL)")]
    BadApiUrl(String),
    #[error(
        "no GitHub token: set GITHUB_TOKEN (e.g. `env: GITHUB_TOKEN: ${{{{ github.token }}}}` with `permissions: contents: write`)"
    )]
    NoToken,
    #[error("GitHub API {method} {path} failed: HTTP {status}: {message}{hint}")]
    Status {
        method: String,
        path: String,
        status: u16,
        message: String,
        hint: String,
    },
    #[error("cannot reach the GitHub API ({method} {path}): {source}")]
    Transport {
        method: String,
        path: String,
        source: reqwest::Error,
    },
    #[error("unexpected answer from the GitHub API ({path}): {message}")]
    Decode { path: String, message: String },
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
            GithubError::BadRepository(_) | GithubError::BadApiUrl(_) | GithubError::NoToken => {
                ErrorKind::BadInput
            }
            _ => ErrorKind::Failed,
        }
    }
}

/// A client bound to one repository.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    api: Url,
    token: Option<String>,
    owner: String,
    repo: String,
}

impl Client {
    /// `api_base` e.g. `https://api.github.com`; `repository` is `owner/name`.
    pub fn new(
        api_base: &str,
        token: Option<String>,
        repository: &str,
    ) -> Result<Self, GithubError> {
        let (owner, repo) = repository
            .split_once('/')
            .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
            .ok_or_else(|| GithubError::BadRepository(repository.to_string()))?;
        let mut base = api_base.trim_end_matches('/').to_string();
        base.push('/');
        let api = Url::parse(&base).map_err(|_| GithubError::BadApiUrl(api_base.to_string()))?;
        let token = token.filter(|t| !t.trim().is_empty());
        if let Some(t) = &token {
            deployer_core::mask::add(t);
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("deployer/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| GithubError::Transport {
                method: "BUILD".into(),
                path: String::new(),
                source: e,
            })?;
        Ok(Client {
            http,
            api,
            token,
            owner: owner.to_string(),
            repo: repo.to_string(),
        })
    }

    /// From `GITHUB_API_URL`, `GITHUB_TOKEN` and `repository` (or `GITHUB_REPOSITORY`).
    pub fn from_env(repository: Option<&str>) -> Result<Self, GithubError> {
        let api = std::env::var("GITHUB_API_URL")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_API_URL.into());
        let token = std::env::var("GITHUB_TOKEN").ok();
        let repository = match repository {
            Some(r) => r.to_string(),
            None => std::env::var("GITHUB_REPOSITORY").unwrap_or_default(),
        };
        Client::new(&api, token, &repository)
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

    /// Sends a request; `Ok(None)` for 404 when `allow_404`.
    pub(crate) async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
        allow_404: bool,
    ) -> Result<Option<T>, GithubError> {
        let path = url.path().to_string();
        let mut req = self
            .http
            .request(method.clone(), url)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|source| GithubError::Transport {
            method: method.to_string(),
            path: path.clone(),
            source,
        })?;
        let status = resp.status();
        if status == StatusCode::NOT_FOUND && allow_404 {
            return Ok(None);
        }
        let text = resp.text().await.map_err(|source| GithubError::Transport {
            method: method.to_string(),
            path: path.clone(),
            source,
        })?;
        if !status.is_success() {
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| {
                    let msg = v.get("message")?.as_str()?.to_string();
                    let details = v
                        .get("errors")
                        .and_then(|e| e.as_array())
                        .map(|errs| {
                            errs.iter()
                                .filter_map(|e| {
                                    e.get("message")
                                        .and_then(|m| m.as_str())
                                        .or_else(|| e.get("code").and_then(|c| c.as_str()))
                                })
                                .collect::<Vec<_>>()
                                .join("; ")
                        })
                        .filter(|d| !d.is_empty());
                    Some(match details {
                        Some(d) => format!("{msg} ({d})"),
                        None => msg,
                    })
                })
                .unwrap_or_else(|| text.chars().take(300).collect());
            let hint = match status.as_u16() {
                401 => ". The token is missing or invalid: pass GITHUB_TOKEN",
                403 | 404 if self.token.is_none() => ". No token was sent: set GITHUB_TOKEN",
                403 => ". The token lacks permission: give the job `permissions: contents: write`",
                _ => "",
            };
            return Err(GithubError::Status {
                method: method.to_string(),
                path,
                status: status.as_u16(),
                message: deployer_core::mask::redact(&message),
                hint: hint.to_string(),
            });
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| GithubError::Decode {
                path,
                message: e.to_string(),
            })
    }
}
