//! Notifications (GitHub Deployments, Slack) and task-definition provenance tags for a deploy.
//!
//! A notification problem is only ever a warning: it never changes the verdict or the
//! exit code of the deploy, and a notification never delays it. "Started" is sent while
//! the deploy runs (a spawned task); when the deploy ends, that task and the "finished"
//! events share one short budget ([`FINISH_BUDGET`]), of which "started" may use only the
//! first [`STARTED_GRACE`] (a channel hung on "started" must not starve the others'
//! "finished"); a channel that has not answered in time is given up on with a warning in
//! the log and the job summary.

use std::time::Duration;

use deployer_aws::deploy::{DeployReport, Status};
use deployer_aws::ecs::Ecs;
use deployer_aws::rollback::rollback_target;
use deployer_aws::wait::WaitUntil;
use deployer_notify::{
    Channel, Deadline, DeadlineSetter, DeploymentRecord, DeploymentStatus, Event, FailureKind,
    Notifier, NotifierConfig, NotifyOutcome, NotifyReport, RollbackReason, RunContext,
    deployment_tags,
};
use tokio::task::JoinHandle;

/// How long, after the deploy ends, notifications may still take: the rest of "started"
/// and every "finished" event together. A notification is a few HTTP calls that take well
/// under a second when the service answers; a channel that has not answered in 10 s is
/// down, and waiting longer would only delay the job.
pub const FINISH_BUDGET: Duration = Duration::from_secs(10);

/// How long "started" may still take once the deploy has ended (part of [`FINISH_BUDGET`]):
/// the GitHub deployment it creates is what "finished" updates, so it gets a moment;
/// a "Deploying…" message later than that is stale anyway.
pub const STARTED_GRACE: Duration = Duration::from_secs(3);

pub use deployer_aws::cli::NotifyArgs;

/// `v1.2.3` from `repo/api:v1.2.3` (a digest is ignored; no tag → `None`).
pub fn image_tag(image: &str) -> Option<String> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let (_, tag) = without_digest.rsplit_once(':')?;
    (!tag.is_empty() && !tag.contains('/')).then(|| tag.to_string())
}

/// The provenance tags of this run followed by the user's `--tag` values: rendering upserts
/// in order, so a user's tag with the same key wins.
pub fn merged_tags(version: Option<&str>, user: Vec<(String, String)>) -> Vec<(String, String)> {
    let ctx = RunContext::from_env();
    let mut tags = deployment_tags(
        ctx.sha.as_deref().unwrap_or(""),
        version.unwrap_or(""),
        ctx.run_url().as_deref().unwrap_or(""),
        ctx.actor.as_deref().unwrap_or(""),
    );
    tags.extend(user);
    tags
}

/// What one service's deploy is about, for the record.
#[derive(Debug, Clone)]
pub struct Subject {
    /// deployer.yml key or ECS service name.
    pub name: String,
    pub environment: String,
    pub version: Option<String>,
    pub image: Option<String>,
    pub environment_url: Option<String>,
}

/// The notifications of one service's deploy.
#[derive(Debug)]
pub struct ServiceNotifications {
    sender: Sender,
    record: DeploymentRecord,
    /// (event name, outcomes) in order.
    pub reports: Vec<(String, NotifyReport)>,
}

/// Who holds the notifier: this struct, or the task sending "started" while the deploy runs.
#[derive(Debug)]
enum Sender {
    Ready(Box<Notifier>),
    Started {
        task: JoinHandle<(Box<Notifier>, NotifyReport)>,
        deadline: DeadlineSetter,
    },
    /// The "started" task was lost (it panicked or outlived its deadline).
    Lost,
}

impl ServiceNotifications {
    pub fn new(config: &NotifierConfig, subject: &Subject) -> Self {
        let mut record = DeploymentRecord::new(&subject.name, &subject.environment)
            .with_run(&RunContext::from_env());
        record.version = subject.version.clone();
        record.image = subject.image.clone();
        record.environment_url = subject.environment_url.clone();
        ServiceNotifications {
            sender: Sender::Ready(Box::new(Notifier::from_env(config))),
            record,
            reports: Vec::new(),
        }
    }

    pub fn deployment_id(&self) -> Option<u64> {
        match &self.sender {
            Sender::Ready(n) => n.deployment_id(),
            Sender::Started { .. } | Sender::Lost => None,
        }
    }

    pub fn set_task_definition(&mut self, arn: &str) {
        if !arn.is_empty() {
            self.record.task_definition_arn = Some(arn.to_string());
        }
    }

    /// Sends `event` by `deadline` and prints its warnings.
    async fn send(&mut self, event: Event, deadline: &Deadline, warn: &dyn Fn(&str)) {
        let Sender::Ready(notifier) = &mut self.sender else {
            let why = "the \"started\" one did not finish";
            return self.not_sent(&event, why, warn);
        };
        let report = notifier.notify_by(&self.record, &event, deadline).await;
        self.report(event.name(), report, warn);
    }

    fn report(&mut self, event: &str, report: NotifyReport, warn: &dyn Fn(&str)) {
        for w in report.warnings() {
            warn(&format!("{} ({event}): {w}", self.record.service));
        }
        self.reports.push((event.to_string(), report));
    }

    /// An event that was not sent to any channel, and `why`.
    fn not_sent(&mut self, event: &Event, why: &str, warn: &dyn Fn(&str)) {
        let message = format!(
            "the \"{}\" notification was not sent: {why}; the deploy itself is not affected",
            event.name()
        );
        let outcomes = [Channel::GithubDeployments, Channel::Slack]
            .map(|channel| NotifyOutcome::Warning {
                channel,
                message: message.clone(),
            })
            .to_vec();
        let report = NotifyReport {
            outcomes,
            deployment_id: None,
        };
        self.report(event.name(), report, warn);
    }

    /// Starts sending "started" and returns at once: the deploy goes on while it is sent.
    /// Its warnings are printed when [`ServiceNotifications::finished`] collects it.
    /// Needs a Tokio runtime.
    pub async fn started(&mut self, _warn: &dyn Fn(&str)) {
        if !matches!(self.sender, Sender::Ready(_)) {
            return; // Already started (or lost): nothing to send again.
        }
        let Sender::Ready(mut notifier) = std::mem::replace(&mut self.sender, Sender::Lost) else {
            return;
        };
        let record = self.record.clone();
        let (deadline, until) = Deadline::later();
        let task = tokio::spawn(async move {
            let report = notifier.notify_by(&record, &Event::Started, &until).await;
            (notifier, report)
        });
        self.sender = Sender::Started { task, deadline };
    }

    /// Gives "started" `grace` more to finish and takes the notifier back.
    async fn collect_started(&mut self, grace: Duration, warn: &dyn Fn(&str)) {
        if !matches!(self.sender, Sender::Started { .. }) {
            return; // Nothing in flight (a continued deploy sends no "started").
        }
        let Sender::Started {
            task,
            deadline: setter,
        } = std::mem::replace(&mut self.sender, Sender::Lost)
        else {
            return;
        };
        setter.set(grace);
        // The task gives up on its channels at that deadline; the extra second only guards
        // against a task that does not (it is then aborted and counted lost).
        let mut task = task;
        let guard = grace + Duration::from_secs(1);
        let joined = tokio::time::timeout(guard, &mut task)
            .await
            .ok()
            .and_then(Result::ok);
        match joined {
            Some((notifier, report)) => {
                self.sender = Sender::Ready(notifier);
                self.report(Event::Started.name(), report, warn);
            }
            None => {
                task.abort();
                let why = "it did not finish within the notification budget";
                self.not_sent(&Event::Started, why, warn);
            }
        }
    }

    /// Events for how the deploy ended, all of them (and the rest of "started") within
    /// [`FINISH_BUDGET`].
    pub async fn finished(
        &mut self,
        ecs: &Ecs,
        result: &Result<DeployReport, deployer_aws::Error>,
        wait_until: WaitUntil,
        warn: &dyn Fn(&str),
    ) {
        self.finished_within(FINISH_BUDGET, ecs, result, wait_until, warn)
            .await;
    }

    /// [`ServiceNotifications::finished`] with another budget.
    pub async fn finished_within(
        &mut self,
        budget: Duration,
        ecs: &Ecs,
        result: &Result<DeployReport, deployer_aws::Error>,
        wait_until: WaitUntil,
        warn: &dyn Fn(&str),
    ) {
        let deadline = Deadline::after(budget);
        self.collect_started(budget.min(STARTED_GRACE), warn).await;
        let r = match result {
            Ok(r) => r,
            Err(e) => {
                self.record
                    .finish(DeploymentStatus::Failed, Some(e.to_string()));
                let failed = Event::Failed {
                    kind: FailureKind::Error,
                };
                return self.send(failed, &deadline, warn).await;
            }
        };
        self.set_task_definition(&r.task_definition_arn);
        if !r.service_deployment_arn.is_empty() {
            self.record.service_deployment_arn = Some(r.service_deployment_arn.clone());
        }
        match r.status {
            Status::Succeeded | Status::Unchanged | Status::NoTasks => {
                self.record.finish(DeploymentStatus::Succeeded, None);
                self.send(Event::Succeeded, &deadline, warn).await;
            }
            Status::Reached => {
                // Only a stop at test traffic is news; a pause elsewhere stays in progress.
                if wait_until == WaitUntil::TestTraffic {
                    self.record.status = DeploymentStatus::TestTrafficReady;
                    let ready = Event::TestTrafficReady { test_url: None };
                    self.send(ready, &deadline, warn).await;
                }
            }
            Status::Cancelled | Status::Unknown => {
                // Only requested or not known: never announced as rolled back.
                let cause = r
                    .next_step
                    .clone()
                    .unwrap_or_else(|| format!("deploy {}", r.status.as_str()));
                self.record.finish(DeploymentStatus::Failed, Some(cause));
                let failed = Event::Failed {
                    kind: FailureKind::Deploy,
                };
                self.send(failed, &deadline, warn).await;
            }
            Status::Failed | Status::TimedOut => self.failed(ecs, r, &deadline, warn).await,
        }
    }

    /// "failed", then "rolled back" when the circuit breaker's rollback worked.
    async fn failed(
        &mut self,
        ecs: &Ecs,
        r: &DeployReport,
        deadline: &Deadline,
        warn: &dyn Fn(&str),
    ) {
        let cause = match (&r.cause, &r.next_step) {
            (Some(_), _) => r.explain(),
            (None, Some(next)) => format!("timed out: {next}"),
            (None, None) => format!("deploy {}", r.status.as_str()),
        };
        self.record
            .finish(DeploymentStatus::Failed, Some(cause.trim_end().to_string()));
        let failed = Event::Failed {
            kind: FailureKind::Deploy,
        };
        self.send(failed, deadline, warn).await;
        let Some(to) = r
            .rollback
            .as_ref()
            .filter(|b| b.ok)
            .and_then(|b| b.to_task_definition.as_ref())
        else {
            return;
        };
        // Looking up the target is an AWS call made only for the message: within the budget.
        let target = tokio::select! {
            t = rollback_target(ecs, to, RollbackReason::DeployFailed) => t,
            () = deadline.reached() => {
                let why = format!(
                    "looking up rollback target {to} took longer than the notification budget"
                );
                let rolled_back = Event::RolledBack { to: Default::default() };
                return self.not_sent(&rolled_back, &why, warn);
            }
        };
        self.record.status = DeploymentStatus::RolledBack;
        self.record.rolled_back_to = Some(target.revision.clone());
        self.send(Event::RolledBack { to: target }, deadline, warn)
            .await;
    }

    /// A Markdown section with every event's outcomes.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        for (event, report) in &self.reports {
            md.push_str(&format!("**{}: {event}**\n\n", self.record.service));
            md.push_str(&report.to_markdown());
            md.push('\n');
        }
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tags() {
        assert_eq!(image_tag("repo/api:v1.2.3").as_deref(), Some("v1.2.3"));
        assert_eq!(
            image_tag("registry:5000/api:dev-0123").as_deref(),
            Some("dev-0123")
        );
        assert_eq!(image_tag("registry:5000/api"), None);
        assert_eq!(image_tag("repo/api:v1@sha256:abcd").as_deref(), Some("v1"));
        assert_eq!(image_tag("repo/api@sha256:abcd"), None);
    }

    #[test]
    fn user_tags_come_last_so_they_win() {
        let tags = merged_tags(
            Some("v1"),
            vec![("deployer:version".into(), "custom".into())],
        );
        let last = tags
            .iter()
            .rev()
            .find(|(k, _)| k == "deployer:version")
            .map(|(_, v)| v.as_str());
        assert_eq!(last, Some("custom"));
    }
}
