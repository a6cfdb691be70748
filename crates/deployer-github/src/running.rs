//! Which commit runs in an environment now, read back from the GitHub deployment records
//! deployer writes (`detect-changes --since last-deployed` compares each service with it).
//!
//! What deployer writes (deployer-notify's `github` and `notifier` modules): one GitHub
//! environment per service (`<environment>/<service>`), `payload.service` naming the
//! service, statuses `in_progress` → `success` | `failure` | `error`; a rollback marks the
//! deployment it replaced `failure` (the deploy failed) or `inactive` (a manual rollback)
//! and records the commit it returned to as a new `deploy:rollback` deployment with
//! `success`.
//!
//! # The rule
//! The running commit is the `sha` of the **newest deployment whose latest status is
//! `success`**. Why the latest status and not "ever succeeded": a deployment that
//! succeeded and was later replaced is marked `inactive`, by deployer's rollback or by
//! GitHub itself when a newer one succeeds (`auto_inactive`: "Adds a new inactive status
//! to all prior non-transient, non-production environment deployments with the same
//! repository and environment name as the created status's deployment. An inactive
//! status is only added to deployments that had a success state", REST API docs, "Create
//! a deployment status"). Newer deployments whose latest status is anything else
//! (`failure`, `error`, the `in_progress` of a cancelled run, no status at all) never
//! became what runs, so they are passed over, and their commits stay undeployed.
//! Production environments are not auto-inactivated (same docs), which the newest-first
//! walk does not need.
//!
//! Lists are read newest first and ordered by id here as well (ids grow with every
//! deployment and status GitHub creates); at most [`SCAN_LIMIT`] deployments are read.

use crate::deployments::{Deployment, StatusState};
use crate::{Client, GithubError};

/// Deployments read per environment (one page of GitHub's largest size).
pub const SCAN_LIMIT: u8 = crate::deployments::MAX_PER_PAGE;

/// What the records say runs in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Running {
    /// The newest deployment whose latest status is `success`.
    Deployed {
        deployment_id: u64,
        sha: String,
        /// `deploy`, or `deploy:rollback` for the commit a rollback returned to.
        task: String,
        /// Newer deployments of the service that did not end in `success`.
        newer_unsuccessful: usize,
    },
    /// No deployment of the service in this environment at all.
    NeverDeployed,
    /// Deployments exist, but none of the newest [`SCAN_LIMIT`] is `success` now.
    NothingSucceeded {
        newest_id: u64,
        /// The newest deployment's latest state (`None`: it has no status).
        newest_state: Option<StatusState>,
        scanned: usize,
    },
}

/// True when `deployment` is a record of `service`: its payload names it, or names none
/// (records written by hand or by another tool into the service's environment).
fn is_of(deployment: &Deployment, service: &str) -> bool {
    match deployment.payload.get("service").and_then(|s| s.as_str()) {
        Some(named) => named == service,
        None => true,
    }
}

/// The latest status of deployment `id` (`None` when it has none, or one GitHub does not
/// document).
async fn latest_state(client: &Client, id: u64) -> Result<Option<StatusState>, GithubError> {
    let statuses = client.list_statuses(id).await?;
    Ok(statuses
        .first()
        .and_then(|status| StatusState::parse(&status.state)))
}

/// What runs in GitHub environment `environment` for `service` (see the module docs).
pub async fn running_commit(
    client: &Client,
    environment: &str,
    service: &str,
) -> Result<Running, GithubError> {
    let deployments = client.list_deployments(environment, SCAN_LIMIT).await?;
    let mine: Vec<&Deployment> = deployments
        .iter()
        .filter(|d| is_of(d, service) && !d.sha.is_empty())
        .collect();
    let Some(newest) = mine.first() else {
        return Ok(Running::NeverDeployed);
    };
    let mut newest_state = None;
    for (index, deployment) in mine.iter().enumerate() {
        let state = latest_state(client, deployment.id).await?;
        if index == 0 {
            newest_state = state;
        }
        if state == Some(StatusState::Success) {
            return Ok(Running::Deployed {
                deployment_id: deployment.id,
                sha: deployment.sha.clone(),
                task: deployment.task.clone(),
                newer_unsuccessful: index,
            });
        }
    }
    Ok(Running::NothingSucceeded {
        newest_id: newest.id,
        newest_state,
        scanned: mine.len(),
    })
}
