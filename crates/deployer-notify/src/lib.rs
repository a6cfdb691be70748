//! Notifications and the deployment record.
//!
//! Every deploy leaves an audit trail and a message people see:
//!
//! * [`record`]: [`DeploymentRecord`], what was deployed where, by whom, how it ended;
//!   rendered with [`DeploymentRecord::to_markdown`] for the job summary and
//!   [`DeploymentRecord::to_json`] for `--json` / outputs.
//! * [`github`]: the GitHub deployment records (a deployment per environment and service,
//!   statuses `in_progress` → `success`/`failure`/`error`, `inactive` for a rolled-back
//!   deployment). See that module for the environment naming (`staging/api`). The HTTP
//!   client is [`deployer_github::Client`] (bounded retries, permission hints).
//! * [`slack`]: Slack incoming-webhook messages in Block Kit. A Slack failure is only ever
//!   a warning ([`NotifyOutcome::Warning`]); it never fails a deploy.
//! * [`notifier`]: the [`Notifier`] facade that fans one [`Event`] out to both channels
//!   (each optional, both at once) and collects one [`NotifyOutcome`] per channel;
//!   [`Notifier::notify_by`] gives up on a channel at a [`Deadline`], so a hung webhook or
//!   API never holds up a deploy.
//! * [`tags`]: ECS task-definition tags (`deployer:git-sha`, `deployer:version`, …) and
//!   lookups by SHA or version for rollback.
//! * [`links`]: run and workflow URLs built from `GITHUB_SERVER_URL`/`GITHUB_REPOSITORY`.
//!
//! # Use from a command
//!
//! ```no_run
//! use deployer_notify::{DeploymentRecord, DeploymentStatus, Event, Notifier, NotifierConfig, RunContext};
//!
//! # async fn demo() {
//! let mut notifier = Notifier::from_env(&NotifierConfig {
//!     github_deployments: true,                          // needs `deployments: write`
//!     slack_webhook_url: std::env::var("DEPLOYER_SLACK_WEBHOOK_URL").ok(),
//!     continue_workflow: Some("cutover.yml".into()),
//!     rollback_workflow: Some("rollback.yml".into()),
//!     ..Default::default()
//! });
//! let mut record = DeploymentRecord::new("api", "staging").with_run(&RunContext::from_env());
//! record.version = Some("v1.2.3".into());
//! let report = notifier.notify(&record, &Event::Started).await;
//! for warning in report.warnings() {
//!     eprintln!("{warning}"); // e.g. runtime.warning(...): never fails the deploy
//! }
//! // … deploy …
//! record.finish(DeploymentStatus::Succeeded, None);
//! notifier.notify(&record, &Event::Succeeded).await;
//! println!("{}", record.to_markdown()); // e.g. runtime.summary(...)
//! # }
//! ```
//!
//! Secrets (the GitHub token, the Slack webhook URL) are registered with
//! [`deployer_core::mask::add`] before any use, and every message this crate produces
//! passes through [`deployer_core::mask::redact`].

pub mod deadline;
pub mod github;
pub mod links;
pub mod notifier;
pub mod record;
pub mod slack;
pub mod tags;

mod text;

pub use deadline::{Deadline, DeadlineSetter};
pub use deployer_github::{Client as GithubClient, GithubError, Permission, RetryPolicy};
pub use github::EnvironmentNaming;
pub use links::{Links, RunContext};
pub use notifier::{
    Channel, Event, FailureKind, Notifier, NotifierConfig, NotifyOutcome, NotifyReport,
    RollbackReason, RollbackTarget,
};
pub use record::{DeploymentRecord, DeploymentStatus};
pub use slack::{SlackError, SlackWebhook};
pub use tags::{deployment_tags, find_by_sha, find_by_version};
