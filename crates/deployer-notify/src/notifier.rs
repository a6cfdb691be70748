//! The [`Notifier`] facade: one deploy event fanned out to GitHub Deployments and Slack.
//!
//! Neither channel can fail a deploy: every problem comes back as a
//! [`NotifyOutcome::Warning`] the caller prints (e.g. with `Runtime::warning`). A command
//! that wants the GitHub record to be mandatory can check [`NotifyReport::warnings`].

use deployer_core::markdown::Table;
use deployer_core::mask::redact;
use serde::Serialize;

use deployer_github::{Client, Permission};

use crate::deadline::Deadline;
use crate::github::{
    DeploymentPayload, EnvironmentNaming, NewDeployment, NewStatus, StatusState, new_deployment,
    status,
};
use crate::links::{Links, RunContext};
use crate::record::DeploymentRecord;
use crate::slack::SlackWebhook;

/// How long [`Notifier::notify`] waits for the channels: a notification is a few HTTP
/// calls that take well under a second when the service answers; one that has not answered
/// in 10 s is down, and waiting for its retries (a hung webhook: 3 × 15 s) would only delay
/// the command.
pub const DEFAULT_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// A notification channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    GithubDeployments,
    Slack,
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Channel::GithubDeployments => "GitHub deployments",
            Channel::Slack => "Slack",
        })
    }
}

/// What happened on one channel. Texts are redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum NotifyOutcome {
    Sent {
        channel: Channel,
        detail: String,
    },
    Skipped {
        channel: Channel,
        reason: String,
    },
    /// The notification did not go out; the deploy is not affected.
    Warning {
        channel: Channel,
        message: String,
    },
}

impl NotifyOutcome {
    pub fn channel(&self) -> Channel {
        match self {
            NotifyOutcome::Sent { channel, .. }
            | NotifyOutcome::Skipped { channel, .. }
            | NotifyOutcome::Warning { channel, .. } => *channel,
        }
    }

    pub fn is_warning(&self) -> bool {
        matches!(self, NotifyOutcome::Warning { .. })
    }

    /// The text without the channel name.
    pub fn text(&self) -> &str {
        match self {
            NotifyOutcome::Sent { detail: t, .. }
            | NotifyOutcome::Skipped { reason: t, .. }
            | NotifyOutcome::Warning { message: t, .. } => t,
        }
    }

    fn label(&self) -> &'static str {
        match self {
            NotifyOutcome::Sent { .. } => "sent",
            NotifyOutcome::Skipped { .. } => "skipped",
            NotifyOutcome::Warning { .. } => "warning",
        }
    }
}

impl std::fmt::Display for NotifyOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.channel(),
            self.label(),
            redact(self.text())
        )
    }
}

/// GitHub state for a failed deploy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FailureKind {
    /// The deploy ran and did not work (GitHub `failure`).
    #[default]
    Deploy,
    /// deployer could not do its job: bad input, AWS API error (GitHub `error`).
    Error,
}

/// Why a rollback happened; decides the superseded deployment's final state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RollbackReason {
    /// The deploy failed and was rolled back: superseded deployment → `failure`.
    DeployFailed,
    /// Someone rolled back a deployment that had succeeded: superseded → `inactive`.
    #[default]
    Manual,
}

/// What a rollback returned to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollbackTarget {
    /// Human name of the target: version, tag or task-definition revision.
    pub revision: String,
    /// Commit of the target; when known a new GitHub deployment records it as live.
    pub git_ref: Option<String>,
    pub image: Option<String>,
    pub task_definition_arn: Option<String>,
    pub reason: RollbackReason,
}

/// A deploy event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Started,
    /// Blue/green: the new revision answers on the test endpoint; waiting for cutover.
    TestTrafficReady {
        test_url: Option<String>,
    },
    Succeeded,
    /// The cause is the record's `cause`.
    Failed {
        kind: FailureKind,
    },
    RolledBack {
        to: RollbackTarget,
    },
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Event::Started => "started",
            Event::TestTrafficReady { .. } => "test traffic ready",
            Event::Succeeded => "succeeded",
            Event::Failed { .. } => "failed",
            Event::RolledBack { .. } => "rolled back",
        }
    }
}

/// The outcomes of one [`Notifier::notify`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct NotifyReport {
    pub outcomes: Vec<NotifyOutcome>,
    /// The GitHub deployment this run reports on (pass it on as an output to resume).
    pub deployment_id: Option<u64>,
}

impl NotifyReport {
    pub fn warnings(&self) -> impl Iterator<Item = &NotifyOutcome> {
        self.outcomes.iter().filter(|o| o.is_warning())
    }

    pub fn outcome(&self, channel: Channel) -> Option<&NotifyOutcome> {
        self.outcomes.iter().find(|o| o.channel() == channel)
    }

    /// A table for the job summary.
    pub fn to_markdown(&self) -> String {
        let mut t = Table::new(["Channel", "Result", "Detail"]);
        for o in &self.outcomes {
            t.row([
                o.channel().to_string(),
                o.label().to_string(),
                redact(o.text()),
            ]);
        }
        t.render()
    }
}

/// Settings for [`Notifier::from_env`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifierConfig {
    /// Record GitHub deployments (needs `GITHUB_TOKEN` with `deployments: write`).
    pub github_deployments: bool,
    /// `owner/name`; default `GITHUB_REPOSITORY`.
    pub repository: Option<String>,
    pub environment_naming: EnvironmentNaming,
    /// Override the production flag (default: from the environment name).
    pub production: Option<bool>,
    pub transient: bool,
    /// Incoming-webhook URL (secret). `None` or empty: no Slack.
    pub slack_webhook_url: Option<String>,
    /// Workflow file that continues the deploy (e.g. `cutover.yml`).
    pub continue_workflow: Option<String>,
    /// Workflow file that rolls back (e.g. `rollback.yml`).
    pub rollback_workflow: Option<String>,
    /// Resume a deployment created by an earlier job.
    pub deployment_id: Option<u64>,
}

/// Fans events out to the configured channels and remembers the GitHub deployment it
/// created, so later events of the same deploy update it.
#[derive(Debug)]
pub struct Notifier {
    github: Option<Client>,
    naming: EnvironmentNaming,
    production: Option<bool>,
    transient: bool,
    slack: Option<SlackWebhook>,
    links: Links,
    deployment_id: Option<u64>,
    setup_warnings: Vec<(Channel, String)>,
}

impl Notifier {
    /// No channels yet; add them with [`Notifier::with_github`] / [`Notifier::with_slack`].
    pub fn new(links: Links) -> Self {
        Notifier {
            github: None,
            naming: EnvironmentNaming::default(),
            production: None,
            transient: false,
            slack: None,
            links,
            deployment_id: None,
            setup_warnings: Vec::new(),
        }
    }

    /// From `config` and the Actions environment (`GITHUB_*`). Setup problems (no token,
    /// invalid webhook URL) do not fail: they become a warning in the first report and the
    /// channel is skipped.
    pub fn from_env(config: &NotifierConfig) -> Self {
        let ctx = RunContext::from_env();
        let links = Links::new(
            &ctx,
            config.continue_workflow.as_deref(),
            config.rollback_workflow.as_deref(),
        );
        let mut n = Notifier::new(links)
            .with_environment_naming(config.environment_naming)
            .with_production(config.production)
            .with_transient(config.transient);
        n.deployment_id = config.deployment_id;
        if config.github_deployments {
            match Client::from_env(config.repository.as_deref())
                .and_then(|c| c.require_token(Permission::DeploymentsWrite))
            {
                Ok(client) => n = n.with_github(client),
                Err(e) => n
                    .setup_warnings
                    .push((Channel::GithubDeployments, redact(&e.to_string()))),
            }
        }
        if let Some(url) = config
            .slack_webhook_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        {
            match SlackWebhook::new(url) {
                Ok(w) => n = n.with_slack(w),
                Err(e) => n
                    .setup_warnings
                    .push((Channel::Slack, redact(&e.to_string()))),
            }
        }
        n
    }

    pub fn with_github(mut self, client: Client) -> Self {
        self.github = Some(client);
        self
    }

    pub fn with_slack(mut self, webhook: SlackWebhook) -> Self {
        self.slack = Some(webhook);
        self
    }

    pub fn with_environment_naming(mut self, naming: EnvironmentNaming) -> Self {
        self.naming = naming;
        self
    }

    pub fn with_production(mut self, production: Option<bool>) -> Self {
        self.production = production;
        self
    }

    pub fn with_transient(mut self, transient: bool) -> Self {
        self.transient = transient;
        self
    }

    /// Continue reporting on a GitHub deployment created earlier (e.g. by another job).
    pub fn resume_deployment(mut self, deployment_id: u64) -> Self {
        self.deployment_id = Some(deployment_id);
        self
    }

    pub fn deployment_id(&self) -> Option<u64> {
        self.deployment_id
    }

    pub fn links(&self) -> &Links {
        &self.links
    }

    /// The GitHub environment name used for `record` (e.g. `staging/api`).
    pub fn github_environment(&self, record: &DeploymentRecord) -> String {
        self.naming.name(&record.environment, &record.service)
    }

    /// Sends `event` to every configured channel within [`DEFAULT_BUDGET`]; never fails.
    pub async fn notify(&mut self, record: &DeploymentRecord, event: &Event) -> NotifyReport {
        let deadline = Deadline::after(DEFAULT_BUDGET);
        self.notify_by(record, event, &deadline).await
    }

    /// Sends `event` to every configured channel at the same time, giving up on a channel
    /// that has not finished when `deadline` passes (a [`NotifyOutcome::Warning`] saying it
    /// was not delivered); never fails. A GitHub deployment created before the deadline is
    /// remembered even when its status could not be set in time.
    pub async fn notify_by(
        &mut self,
        record: &DeploymentRecord,
        event: &Event,
        deadline: &Deadline,
    ) -> NotifyReport {
        let mut outcomes = Vec::new();
        let setup: Vec<(Channel, String)> = std::mem::take(&mut self.setup_warnings);
        let warned = |c: Channel| setup.iter().any(|(ch, _)| *ch == c);
        for (channel, message) in &setup {
            outcomes.push(NotifyOutcome::Warning {
                channel: *channel,
                message: message.clone(),
            });
        }
        // Slack is cloned out so both channels can run while GitHub updates `self`.
        let slack = self.slack.clone();
        let links = self.links.clone();
        let github_on = self.github.is_some();
        let github = async {
            if github_on {
                let sent = self.notify_github(record, event);
                Some(by_deadline(Channel::GithubDeployments, event, deadline, sent).await)
            } else {
                None
            }
        };
        let slack_sent = async {
            match &slack {
                Some(hook) => {
                    let sent = hook.notify(record, event, &links);
                    Some(by_deadline(Channel::Slack, event, deadline, sent).await)
                }
                None => None,
            }
        };
        let (github, slack_sent) = tokio::join!(github, slack_sent);

        match github {
            Some(outcome) => outcomes.push(outcome),
            None if !warned(Channel::GithubDeployments) => outcomes.push(NotifyOutcome::Skipped {
                channel: Channel::GithubDeployments,
                reason: "not enabled".into(),
            }),
            None => {}
        }
        match slack_sent {
            Some(outcome) => outcomes.push(outcome),
            None if !warned(Channel::Slack) => outcomes.push(NotifyOutcome::Skipped {
                channel: Channel::Slack,
                reason: "no webhook URL".into(),
            }),
            None => {}
        }
        NotifyReport {
            outcomes,
            deployment_id: self.deployment_id,
        }
    }

    async fn notify_github(&mut self, record: &DeploymentRecord, event: &Event) -> NotifyOutcome {
        let channel = Channel::GithubDeployments;
        match self.github_steps(record, event).await {
            Ok(detail) => NotifyOutcome::Sent {
                channel,
                detail: redact(&detail),
            },
            Err(message) => NotifyOutcome::Warning {
                channel,
                message: redact(&message),
            },
        }
    }

    fn new_deployment(
        &self,
        git_ref: &str,
        environment: &str,
        payload: DeploymentPayload,
    ) -> NewDeployment {
        let mut d = new_deployment(git_ref, environment, payload);
        if let Some(p) = self.production {
            d.production_environment = p;
        }
        d.transient_environment = self.transient;
        d
    }

    /// Creates this deploy's GitHub deployment unless one exists.
    async fn ensure_deployment(
        &mut self,
        client: &Client,
        record: &DeploymentRecord,
    ) -> Result<(u64, bool), String> {
        if let Some(id) = self.deployment_id {
            return Ok((id, false));
        }
        let git_ref = record.git_sha.as_deref().filter(|s| !s.trim().is_empty()).ok_or_else(|| {
            "cannot create a GitHub deployment: the commit SHA is unknown (GITHUB_SHA is not set and no --sha was given)".to_string()
        })?;
        let payload = DeploymentPayload {
            service: record.service.clone(),
            image: record.image.clone(),
            version: record.version.clone(),
            task_definition_arn: record.task_definition_arn.clone(),
        };
        let new = self.new_deployment(git_ref, &self.github_environment(record), payload);
        let d = client
            .create_deployment(&new)
            .await
            .map_err(|e| e.to_string())?;
        self.deployment_id = Some(d.id);
        Ok((d.id, true))
    }

    async fn github_steps(
        &mut self,
        record: &DeploymentRecord,
        event: &Event,
    ) -> Result<String, String> {
        let Some(client) = self.github.clone() else {
            return Err("GitHub deployments are not configured".into());
        };
        let log_url = record
            .run_url
            .clone()
            .or_else(|| self.links.run_url.clone());
        let env_url = record.environment_url.clone();
        let environment = self.github_environment(record);

        let Some(status) = status_for(record, event) else {
            return match event {
                Event::RolledBack { to } => {
                    self.github_rollback(&client, record, to, log_url, env_url)
                        .await
                }
                _ => Err(format!("no GitHub status for event {}", event.name())),
            };
        };
        let (id, created) = self.ensure_deployment(&client, record).await?;
        let status = status.log_url(log_url).environment_url(env_url);
        let state = status.state.as_str();
        client
            .create_status(id, &status)
            .await
            .map_err(|e| e.to_string())?;
        Ok(if created {
            format!("deployment {id} created for `{environment}`, status {state}")
        } else {
            format!("deployment {id} status {state}")
        })
    }

    async fn github_rollback(
        &mut self,
        client: &Client,
        record: &DeploymentRecord,
        to: &RollbackTarget,
        log_url: Option<String>,
        env_url: Option<String>,
    ) -> Result<String, String> {
        let environment = self.github_environment(record);
        let mut done = Vec::new();
        let superseded = match self.deployment_id {
            Some(id) => Some(id),
            None => client
                .latest_deployment(&environment)
                .await
                .map_err(|e| e.to_string())?
                .filter(|d| {
                    DeploymentPayload::version_of(d) != Some(to.revision.as_str())
                        || to.revision.is_empty()
                })
                .map(|d| d.id),
        };
        if let Some(id) = superseded {
            let state = match to.reason {
                RollbackReason::DeployFailed => StatusState::Failure,
                RollbackReason::Manual => StatusState::Inactive,
            };
            let new_status = status(state)
                .description(format!("rolled back to {}", to.revision))
                .log_url(log_url.clone());
            client
                .create_status(id, &new_status)
                .await
                .map_err(|e| e.to_string())?;
            done.push(format!(
                "deployment {id} marked {} (rolled back to {})",
                state.as_str(),
                to.revision
            ));
        } else {
            done.push(format!("no earlier deployment of `{environment}` to mark"));
        }
        if let Some(git_ref) = to.git_ref.as_deref().filter(|r| !r.trim().is_empty()) {
            let payload = DeploymentPayload {
                service: record.service.clone(),
                image: to.image.clone(),
                version: Some(to.revision.clone()).filter(|r| !r.is_empty()),
                task_definition_arn: to.task_definition_arn.clone(),
            };
            let mut new = self
                .new_deployment(git_ref, &environment, payload)
                .description(format!("Rollback of {} to {}", record.service, to.revision));
            new.task = "deploy:rollback".into();
            let d = client
                .create_deployment(&new)
                .await
                .map_err(|e| e.to_string())?;
            let new_status = status(StatusState::Success)
                .description(format!("Rolled back to {}", to.revision))
                .log_url(log_url)
                .environment_url(env_url);
            client
                .create_status(d.id, &new_status)
                .await
                .map_err(|e| e.to_string())?;
            self.deployment_id = Some(d.id);
            done.push(format!(
                "deployment {} created for {} (success)",
                d.id, to.revision
            ));
        }
        Ok(done.join("; "))
    }
}

/// `sent`'s outcome, or a warning that `channel` did not answer before `deadline`.
async fn by_deadline(
    channel: Channel,
    event: &Event,
    deadline: &Deadline,
    sent: impl std::future::Future<Output = NotifyOutcome>,
) -> NotifyOutcome {
    tokio::select! {
        outcome = sent => outcome,
        () = deadline.reached() => NotifyOutcome::Warning {
            channel,
            message: not_in_time(channel, event, deadline.budget()),
        },
    }
}

/// What a notification cut off by its deadline means for the user.
pub fn not_in_time(channel: Channel, event: &Event, budget: Option<std::time::Duration>) -> String {
    let within = budget
        .map(|b| format!(" within the {} s notification budget", b.as_secs()))
        .unwrap_or_default();
    format!(
        "the \"{}\" notification was not delivered: {channel} did not answer{within}, and \
         deployer does not hold up a deploy for a notification; the deploy itself is not \
         affected (check that {} is reachable from the runner)",
        event.name(),
        match channel {
            Channel::GithubDeployments => "the GitHub API (GITHUB_API_URL)",
            Channel::Slack => "the Slack webhook URL",
        }
    )
}

/// The status an event sets on this deploy's GitHub deployment (`None` for a rollback,
/// which touches two deployments).
fn status_for(record: &DeploymentRecord, event: &Event) -> Option<NewStatus> {
    let what = record.what();
    Some(match event {
        Event::Started => status(StatusState::InProgress).description(format!("Deploying {what}")),
        Event::TestTrafficReady { test_url } => {
            let at = test_url
                .as_ref()
                .or(record.test_url.as_ref())
                .map(|u| format!(" at {u}"))
                .unwrap_or_default();
            status(StatusState::InProgress)
                .description(format!("Test traffic ready{at}; waiting for cutover"))
        }
        Event::Succeeded => status(StatusState::Success).description(format!("Deployed {what}")),
        Event::Failed { kind } => {
            let state = match kind {
                FailureKind::Deploy => StatusState::Failure,
                FailureKind::Error => StatusState::Error,
            };
            let cause = record
                .cause
                .as_deref()
                .and_then(|c| c.lines().find(|l| !l.trim().is_empty()))
                .map(|c| format!(": {}", c.trim()))
                .unwrap_or_default();
            status(state).description(format!("Failed{cause}"))
        }
        Event::RolledBack { .. } => return None,
    })
}
