//! Notifications (GitHub Deployments, Slack) and task-definition provenance tags for a deploy.
//!
//! A notification problem is only ever a warning: it never changes the verdict or the
//! exit code of the deploy.

use deployer_aws::deploy::{DeployReport, Status};
use deployer_aws::ecs::Ecs;
use deployer_aws::rollback::rollback_target;
use deployer_aws::wait::WaitUntil;
use deployer_notify::{
    DeploymentRecord, DeploymentStatus, Event, FailureKind, Notifier, NotifierConfig, NotifyReport,
    RollbackReason, RunContext, deployment_tags,
};

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
    notifier: Notifier,
    record: DeploymentRecord,
    /// (event name, outcomes) in order.
    pub reports: Vec<(String, NotifyReport)>,
}

impl ServiceNotifications {
    pub fn new(config: &NotifierConfig, subject: &Subject) -> Self {
        let mut record = DeploymentRecord::new(&subject.name, &subject.environment)
            .with_run(&RunContext::from_env());
        record.version = subject.version.clone();
        record.image = subject.image.clone();
        record.environment_url = subject.environment_url.clone();
        ServiceNotifications {
            notifier: Notifier::from_env(config),
            record,
            reports: Vec::new(),
        }
    }

    pub fn deployment_id(&self) -> Option<u64> {
        self.notifier.deployment_id()
    }

    pub fn set_task_definition(&mut self, arn: &str) {
        if !arn.is_empty() {
            self.record.task_definition_arn = Some(arn.to_string());
        }
    }

    async fn send(&mut self, event: Event, warn: &dyn Fn(&str)) {
        let report = self.notifier.notify(&self.record, &event).await;
        for w in report.warnings() {
            warn(&format!("{} ({}): {w}", self.record.service, event.name()));
        }
        self.reports.push((event.name().to_string(), report));
    }

    pub async fn started(&mut self, warn: &dyn Fn(&str)) {
        self.send(Event::Started, warn).await;
    }

    /// Events for how the deploy ended.
    pub async fn finished(
        &mut self,
        ecs: &Ecs,
        result: &Result<DeployReport, deployer_aws::Error>,
        wait_until: WaitUntil,
        warn: &dyn Fn(&str),
    ) {
        let r = match result {
            Ok(r) => r,
            Err(e) => {
                self.record
                    .finish(DeploymentStatus::Failed, Some(e.to_string()));
                self.send(
                    Event::Failed {
                        kind: FailureKind::Error,
                    },
                    warn,
                )
                .await;
                return;
            }
        };
        self.set_task_definition(&r.task_definition_arn);
        if !r.service_deployment_arn.is_empty() {
            self.record.service_deployment_arn = Some(r.service_deployment_arn.clone());
        }
        match r.status {
            Status::Succeeded | Status::Unchanged => {
                self.record.finish(DeploymentStatus::Succeeded, None);
                self.send(Event::Succeeded, warn).await;
            }
            Status::Reached => {
                // Only a stop at test traffic is news; a pause elsewhere stays in progress.
                if wait_until == WaitUntil::TestTraffic {
                    self.record.status = DeploymentStatus::TestTrafficReady;
                    self.send(Event::TestTrafficReady { test_url: None }, warn)
                        .await;
                }
            }
            Status::Cancelled | Status::Unknown => {
                // Only requested or not known: never announced as rolled back.
                let cause = r
                    .next_step
                    .clone()
                    .unwrap_or_else(|| format!("deploy {}", r.status.as_str()));
                self.record.finish(DeploymentStatus::Failed, Some(cause));
                self.send(
                    Event::Failed {
                        kind: FailureKind::Deploy,
                    },
                    warn,
                )
                .await;
            }
            Status::Failed | Status::TimedOut => {
                let cause = match (&r.cause, &r.next_step) {
                    (Some(_), _) => r.explain(),
                    (None, Some(next)) => format!("timed out: {next}"),
                    (None, None) => format!("deploy {}", r.status.as_str()),
                };
                self.record
                    .finish(DeploymentStatus::Failed, Some(cause.trim_end().to_string()));
                self.send(
                    Event::Failed {
                        kind: FailureKind::Deploy,
                    },
                    warn,
                )
                .await;
                if let Some(b) = &r.rollback
                    && b.ok
                    && let Some(to) = &b.to_task_definition
                {
                    let target = rollback_target(ecs, to, RollbackReason::DeployFailed).await;
                    self.record.status = DeploymentStatus::RolledBack;
                    self.record.rolled_back_to = Some(target.revision.clone());
                    self.send(Event::RolledBack { to: target }, warn).await;
                }
            }
        }
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
