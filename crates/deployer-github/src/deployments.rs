//! GitHub Deployments REST API: deployments and their statuses (the wire types and calls).
//!
//! What deployer records (environment names, payload, which status makes older
//! deployments inactive, rollback marking) is decided in `deployer-notify`; this module
//! only speaks the API.
//!
//! # Request choices
//! * `required_contexts: []`: by default GitHub refuses to create a deployment unless every
//!   commit status / check on the ref is green (HTTP 409). The deploy job is itself a
//!   running check on that commit, so the default can never pass; and promotion gates
//!   are checked by deployer itself (gate-check) before the deploy starts.
//! * `auto_merge: false`: by default GitHub merges the default branch into the ref first;
//!   we deploy exactly the commit that was built and must never create a merge commit.
//!
//! Needs `permissions: deployments: write` for the job's `GITHUB_TOKEN`.

use deployer_core::mask::redact;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use crate::text::truncate_chars;
use crate::{Call, Client, GithubError, Permission};

/// GitHub rejects longer status and deployment descriptions.
pub const MAX_DESCRIPTION_CHARS: usize = 140;

const DEPLOYMENTS: Permission = Permission::DeploymentsWrite;
const READ: Permission = Permission::DeploymentsRead;

/// The `task` of the deployment a rollback records for the commit it returned to
/// (deployer-notify's rollback).
pub const ROLLBACK_TASK: &str = "deploy:rollback";

/// GitHub's largest page for both lists ("The number of results per page (max 100)",
/// REST API docs, "List deployments" and "List deployment statuses").
pub const MAX_PER_PAGE: u8 = 100;

/// A description as GitHub shows it: redacted, one line, at most
/// [`MAX_DESCRIPTION_CHARS`] characters.
pub fn description(text: &str) -> String {
    let text = redact(text.trim());
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate_chars(&text, MAX_DESCRIPTION_CHARS)
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
    /// Free-form JSON GitHub stores with the deployment (left out when null).
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub payload: serde_json::Value,
    /// Always false: deploy exactly the ref (see module docs).
    pub auto_merge: bool,
    /// Always empty: gates are checked by deployer (see module docs).
    pub required_contexts: Vec<String>,
    pub transient_environment: bool,
    pub production_environment: bool,
}

impl NewDeployment {
    /// A `deploy` task of `git_ref` to `environment` with `auto_merge: false` and
    /// `required_contexts: []`; not production, not transient, no payload.
    pub fn new(git_ref: impl Into<String>, environment: impl Into<String>) -> Self {
        NewDeployment {
            git_ref: git_ref.into(),
            task: "deploy".into(),
            environment: environment.into(),
            description: String::new(),
            payload: serde_json::Value::Null,
            auto_merge: false,
            required_contexts: Vec::new(),
            transient_environment: false,
            production_environment: false,
        }
    }

    /// Sets the description (see [`description`]).
    pub fn description(mut self, text: impl AsRef<str>) -> Self {
        self.description = description(text.as_ref());
        self
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

    /// The state GitHub names `text`; `None` for a name it does not document.
    pub fn parse(text: &str) -> Option<StatusState> {
        serde_json::from_value(serde_json::Value::String(text.to_string())).ok()
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
    /// Always sent, so intent is visible (GitHub's default when absent is true).
    pub auto_inactive: bool,
}

impl NewStatus {
    /// `state` with `auto_inactive: false`; set it with [`NewStatus::auto_inactive`].
    pub fn new(state: StatusState) -> Self {
        NewStatus {
            state,
            description: None,
            log_url: None,
            environment_url: None,
            auto_inactive: false,
        }
    }

    /// Sets the description (see [`description`]).
    pub fn description(mut self, text: impl AsRef<str>) -> Self {
        self.description = Some(description(text.as_ref()));
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

    /// Whether GitHub marks older deployments of the same environment inactive.
    pub fn auto_inactive(mut self, auto_inactive: bool) -> Self {
        self.auto_inactive = auto_inactive;
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
    /// `deploy` by default; deployer writes `deploy` and `deploy:rollback`.
    #[serde(default)]
    pub task: String,
    #[serde(default)]
    pub environment: String,
    #[serde(default)]
    pub payload: serde_json::Value,
}

/// A deployment status as GitHub returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeploymentStatusInfo {
    pub id: u64,
    pub state: String,
}

impl Client {
    /// `POST /repos/{owner}/{repo}/deployments`.
    pub async fn create_deployment(&self, new: &NewDeployment) -> Result<Deployment, GithubError> {
        self.check_token(DEPLOYMENTS)?;
        let action = format!(
            "create a deployment of {} for environment `{}`",
            new.git_ref, new.environment
        );
        let url = self.repo_url(&["deployments"]);
        let (status, deployment): (StatusCode, serde_json::Value) = self
            .send_json(&Call::post(&action, DEPLOYMENTS, url, new))
            .await?;
        // 202 means GitHub tried to merge the default branch (only with auto_merge: true).
        if status == StatusCode::ACCEPTED || deployment.get("id").is_none() {
            let message = deployment
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or("no deployment was created");
            return Err(GithubError::Decode {
                action,
                message: redact(message),
            });
        }
        serde_json::from_value(deployment).map_err(|e| GithubError::Decode {
            action,
            message: e.to_string(),
        })
    }

    /// `POST /repos/{owner}/{repo}/deployments/{id}/statuses`.
    pub async fn create_status(
        &self,
        deployment_id: u64,
        status: &NewStatus,
    ) -> Result<DeploymentStatusInfo, GithubError> {
        self.check_token(DEPLOYMENTS)?;
        let action = format!(
            "set deployment {deployment_id} to `{}`",
            status.state.as_str()
        );
        let id = deployment_id.to_string();
        let url = self.repo_url(&["deployments", &id, "statuses"]);
        let (_, info) = self
            .send_json(&Call::post(&action, DEPLOYMENTS, url, status))
            .await?;
        Ok(info)
    }

    /// The newest deployment for `environment` (GitHub lists newest first), if any.
    pub async fn latest_deployment(
        &self,
        environment: &str,
    ) -> Result<Option<Deployment>, GithubError> {
        let action = format!("list deployments of environment `{environment}`");
        let mut url = self.repo_url(&["deployments"]);
        url.query_pairs_mut()
            .append_pair("environment", environment)
            .append_pair("per_page", "1");
        let (_, list): (StatusCode, Vec<Deployment>) = self
            .send_json(&Call::get(&action, DEPLOYMENTS, url))
            .await?;
        Ok(list.into_iter().next())
    }

    /// `GET /repos/{owner}/{repo}/deployments?environment=…`: up to `per_page` (at most
    /// [`MAX_PER_PAGE`]) deployments of `environment`, newest first (sorted by id here
    /// too, so the order does not rest on the answer's). Reading needs only
    /// `deployments: read` (or no token for a public repository).
    pub async fn list_deployments(
        &self,
        environment: &str,
        per_page: u8,
    ) -> Result<Vec<Deployment>, GithubError> {
        let action = format!("list deployments of environment `{environment}`");
        let mut url = self.repo_url(&["deployments"]);
        let per_page = per_page.clamp(1, MAX_PER_PAGE).to_string();
        url.query_pairs_mut()
            .append_pair("environment", environment)
            .append_pair("per_page", &per_page);
        let (_, mut list): (StatusCode, Vec<Deployment>) =
            self.send_json(&Call::get(&action, READ, url)).await?;
        list.sort_by_key(|d| std::cmp::Reverse(d.id));
        Ok(list)
    }

    /// `GET /repos/{owner}/{repo}/deployments/{id}/statuses`: the deployment's statuses
    /// (up to [`MAX_PER_PAGE`]), newest first (by id: ids grow with every status created).
    pub async fn list_statuses(
        &self,
        deployment_id: u64,
    ) -> Result<Vec<DeploymentStatusInfo>, GithubError> {
        let action = format!("list the statuses of deployment {deployment_id}");
        let id = deployment_id.to_string();
        let mut url = self.repo_url(&["deployments", &id, "statuses"]);
        url.query_pairs_mut()
            .append_pair("per_page", &MAX_PER_PAGE.to_string());
        let (_, mut list): (StatusCode, Vec<DeploymentStatusInfo>) =
            self.send_json(&Call::get(&action, READ, url)).await?;
        list.sort_by_key(|d| std::cmp::Reverse(d.id));
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_one_short_line() {
        let d = description(&format!("line one\nline two {}", "x".repeat(300)));
        assert!(!d.contains('\n'));
        assert_eq!(d.chars().count(), MAX_DESCRIPTION_CHARS);
        let n = NewDeployment::new("abc", "staging").description("a\n b");
        assert_eq!(n.description, "a b");
    }

    #[test]
    fn status_states_parse_as_github_names_them() {
        for state in [
            StatusState::Queued,
            StatusState::Pending,
            StatusState::InProgress,
            StatusState::Success,
            StatusState::Failure,
            StatusState::Error,
            StatusState::Inactive,
        ] {
            assert_eq!(StatusState::parse(state.as_str()), Some(state));
        }
        assert_eq!(StatusState::parse("destroyed"), None);
    }

    #[test]
    fn new_deployment_body_has_fixed_choices() {
        let v = serde_json::to_value(NewDeployment::new("abc", "staging")).expect("json");
        assert_eq!(v["ref"], "abc");
        assert_eq!(v["task"], "deploy");
        assert_eq!(v["auto_merge"], false);
        assert_eq!(v["required_contexts"], serde_json::json!([]));
        assert!(v.get("payload").is_none());
    }
}
