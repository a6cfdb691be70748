//! The base each service is compared with: the event's (one for all), or, with
//! `--since last-deployed --environment <env>`, the commit that runs in that environment
//! now, read from the GitHub deployment records deployer writes
//! ([`deployer_github::running`]).
//!
//! | what the records say | base | the service |
//! |---|---|---|
//! | a deployment whose latest status is `success` | its commit | changed when its paths differ between that commit and HEAD |
//! | that commit is not in the clone and cannot be fetched | none | changed (the reason says why) |
//! | no deployment in `<env>/<service>` | none | changed: never deployed there |
//! | deployments, none `success` now | none | changed until a deploy succeeds |
//! | the API could not be read (down, rate-limited) | the event's (push: `before`) | as for the event, and the reason says so |
//!
//! Comparing trees, not histories: a running commit that is not an ancestor of HEAD (a
//! rollback to another branch, a force push) still gives the right answer, "do this
//! service's files differ from what runs". A token without `deployments: read`, or no
//! repository, is bad input (exit 2), not a fallback: a fallback would quietly turn the
//! feature off for good.

use deployer_core::{Classify, ErrorKind};
use deployer_git::base::{Resolver, Selection};
use deployer_github::{Client, GithubError, Running, running_commit};
use git2::Oid;
use serde::Serialize;

/// Where the bases come from (`--since`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Since {
    /// The event's base: the push's `before`, the pull request's merge-base, … (one for all).
    #[default]
    Event,
    /// Per service, the commit of its last successful deployment to `--environment`.
    LastDeployed,
}

/// Why a service has the base it has (the `source` of the `bases` output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The event's base.
    Event,
    /// The commit of the last successful deployment.
    LastDeployed,
    /// The running commit could not be fetched: counts as changed.
    NotFetchable,
    /// No deployment on record: counts as changed.
    NeverDeployed,
    /// Deployments on record, none successful now: counts as changed.
    NoSuccessfulDeploy,
    /// The records could not be read: the event's base.
    RecordsUnreadable,
}

/// One service's base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceBase {
    /// `None`: the service counts as changed without a diff.
    pub base: Option<Oid>,
    pub source: Source,
    pub deployment_id: Option<u64>,
    /// One clause, for the `reason` output and the summary.
    pub reason: String,
}

impl ServiceBase {
    fn from_event(selection: &Selection, source: Source, prefix: &str) -> ServiceBase {
        let base = match selection {
            Selection::Diff { base, .. } => Some(*base),
            _ => None,
        };
        ServiceBase {
            base,
            source,
            deployment_id: None,
            reason: format!("{prefix}{}", selection.reason()),
        }
    }
}

/// The GitHub environment deployer records `service`'s deployments to `environment` in
/// (deployer-notify's `EnvironmentNaming::PerService`; a test keeps the two in step).
pub fn github_environment(environment: &str, service: &str) -> String {
    format!("{environment}/{service}")
}

/// Every service with the event's base.
pub fn from_event(names: &[String], selection: &Selection) -> Vec<ServiceBase> {
    names
        .iter()
        .map(|_| ServiceBase::from_event(selection, Source::Event, ""))
        .collect()
}

/// What the records said for one service, or why they could not be read.
type Lookup = Result<Running, GithubError>;

/// Reads what runs in `environment` for each service. A bad-input answer (no permission,
/// no such repository) is an error; after the first transient failure the remaining
/// services are not asked (each would wait through the same retries) and share it.
pub fn look_up(
    client: &Client,
    environment: &str,
    names: &[String],
) -> Result<Vec<Lookup>, GithubError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| GithubError::Transport {
            action: "start the HTTP runtime".into(),
            message: e.to_string(),
            attempts: 0,
        })?;
    let mut out: Vec<Lookup> = Vec::with_capacity(names.len());
    let mut failed: Option<String> = None;
    for name in names {
        if let Some(message) = &failed {
            out.push(Err(GithubError::Transport {
                action: format!("list the deployments of `{name}`"),
                message: format!("not asked after an earlier failure: {message}"),
                attempts: 0,
            }));
            continue;
        }
        let env = github_environment(environment, name);
        match runtime.block_on(running_commit(client, &env, name)) {
            Err(e) if e.kind() == ErrorKind::BadInput => return Err(e),
            Err(e) => {
                failed = Some(e.to_string());
                out.push(Err(e));
            }
            Ok(running) => out.push(Ok(running)),
        }
    }
    Ok(out)
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// Turns one look-up into a base (fetching the running commit when the clone lacks it).
pub fn resolve(
    resolver: &mut Resolver,
    environment: &str,
    name: &str,
    lookup: Lookup,
    selection: &Selection,
) -> ServiceBase {
    let env = github_environment(environment, name);
    let running = match lookup {
        Ok(running) => running,
        Err(e) => {
            let prefix = format!(
                "the GitHub deployment records of `{env}` could not be read ({e}), so it is compared as for the event: "
            );
            return ServiceBase::from_event(selection, Source::RecordsUnreadable, &prefix);
        }
    };
    match running {
        Running::Deployed {
            deployment_id,
            sha,
            task,
            newer_unsuccessful,
        } => {
            let rollback = if task == deployer_github::deployments::ROLLBACK_TASK {
                ", a rollback"
            } else {
                ""
            };
            let newer = match newer_unsuccessful {
                0 => String::new(),
                n => format!(", {n} newer deploy(s) did not succeed"),
            };
            match resolver.commit(&sha) {
                Some(base) => ServiceBase {
                    base: Some(base),
                    source: Source::LastDeployed,
                    deployment_id: Some(deployment_id),
                    reason: format!(
                        "runs {} in {environment} (deployment {deployment_id}{rollback}{newer})",
                        short(&sha)
                    ),
                },
                None => ServiceBase {
                    base: None,
                    source: Source::NotFetchable,
                    deployment_id: Some(deployment_id),
                    reason: format!(
                        "runs {sha} in {environment} (deployment {deployment_id}), which is not in this clone and could not be fetched from origin: counts as changed"
                    ),
                },
            }
        }
        Running::NeverDeployed => ServiceBase {
            base: None,
            source: Source::NeverDeployed,
            deployment_id: None,
            reason: format!(
                "never deployed to {environment} (no GitHub deployment in `{env}`): counts as changed"
            ),
        },
        Running::NothingSucceeded {
            newest_id,
            newest_state,
            scanned,
        } => ServiceBase {
            base: None,
            source: Source::NoSuccessfulDeploy,
            deployment_id: Some(newest_id),
            reason: format!(
                "no successful deployment to {environment} among its last {scanned} (the newest, {newest_id}, is {}): counts as changed until one succeeds",
                newest_state.map_or("without a status", |s| s.as_str())
            ),
        },
    }
}
