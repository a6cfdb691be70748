//! The deployment record: what was deployed where, by whom, and how it ended.

use deployer_core::markdown::{Table, code_block};
use deployer_core::mask::redact;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::links::RunContext;
use crate::text::{human_duration, short_sha};

/// Where a deployment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeploymentStatus {
    InProgress,
    /// Blue/green: the new revision answers on the test listener, production traffic has
    /// not moved yet.
    TestTrafficReady,
    Succeeded,
    Failed,
    RolledBack,
}

impl DeploymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::InProgress => "in progress",
            DeploymentStatus::TestTrafficReady => "test traffic ready",
            DeploymentStatus::Succeeded => "succeeded",
            DeploymentStatus::Failed => "failed",
            DeploymentStatus::RolledBack => "rolled back",
        }
    }

    pub(crate) fn emoji(self) -> &'static str {
        match self {
            DeploymentStatus::InProgress => "🚀",
            DeploymentStatus::TestTrafficReady => "🧪",
            DeploymentStatus::Succeeded => "✅",
            DeploymentStatus::Failed => "❌",
            DeploymentStatus::RolledBack => "↩️",
        }
    }
}

impl std::fmt::Display for DeploymentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One deploy of one service to one environment. Serialised with kebab-case keys and
/// RFC 3339 times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct DeploymentRecord {
    pub service: String,
    pub environment: String,
    pub version: Option<String>,
    pub image: Option<String>,
    pub git_sha: Option<String>,
    pub task_definition_arn: Option<String>,
    pub service_deployment_arn: Option<String>,
    pub status: DeploymentStatus,
    #[serde(with = "rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "rfc3339_option", default)]
    pub finished_at: Option<OffsetDateTime>,
    /// Why it failed or was rolled back (deployment state, stopped-task reason, log lines).
    pub cause: Option<String>,
    pub run_url: Option<String>,
    pub actor: Option<String>,
    /// Where the environment answers (GitHub shows it on the deployment).
    pub environment_url: Option<String>,
    /// Blue/green test listener URL.
    pub test_url: Option<String>,
    /// The revision a rollback returned to (version, tag or task-definition revision).
    pub rolled_back_to: Option<String>,
}

impl DeploymentRecord {
    /// A record for a deploy starting now.
    pub fn new(service: impl Into<String>, environment: impl Into<String>) -> Self {
        DeploymentRecord {
            service: service.into(),
            environment: environment.into(),
            version: None,
            image: None,
            git_sha: None,
            task_definition_arn: None,
            service_deployment_arn: None,
            status: DeploymentStatus::InProgress,
            started_at: OffsetDateTime::now_utc(),
            finished_at: None,
            cause: None,
            run_url: None,
            actor: None,
            environment_url: None,
            test_url: None,
            rolled_back_to: None,
        }
    }

    /// Fills run URL, actor and git SHA from the run (fields already set are kept).
    pub fn with_run(mut self, ctx: &RunContext) -> Self {
        if self.run_url.is_none() {
            self.run_url = ctx.run_url();
        }
        if self.actor.is_none() {
            self.actor = ctx.actor.clone();
        }
        if self.git_sha.is_none() {
            self.git_sha = ctx.sha.clone();
        }
        self
    }

    /// Sets the final status, the cause (if any) and `finished_at` = now.
    pub fn finish(&mut self, status: DeploymentStatus, cause: Option<String>) {
        self.status = status;
        if cause.is_some() {
            self.cause = cause;
        }
        self.finished_at = Some(OffsetDateTime::now_utc());
    }

    /// Finished − started, or `None` while running (or if the clock went backwards).
    pub fn duration(&self) -> Option<std::time::Duration> {
        let end = self.finished_at?;
        std::time::Duration::try_from(end - self.started_at).ok()
    }

    /// Time since the start: the duration when finished, else the elapsed time so far.
    pub(crate) fn elapsed(&self) -> Option<std::time::Duration> {
        let end = self.finished_at.unwrap_or_else(OffsetDateTime::now_utc);
        std::time::Duration::try_from(end - self.started_at).ok()
    }

    /// `api v1.2.3` or just `api`.
    pub(crate) fn what(&self) -> String {
        match &self.version {
            Some(v) => format!("{} {v}", self.service),
            None => self.service.clone(),
        }
    }

    /// A Markdown section for `$GITHUB_STEP_SUMMARY` (secrets redacted).
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "### {} Deployment of {} to {}: {}\n\n",
            self.status.emoji(),
            self.what(),
            self.environment,
            self.status
        );
        let mut table = Table::new(["Field", "Value"]);
        let mut row = |k: &str, v: Option<String>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                table.row([k.to_string(), v]);
            }
        };
        let code = |v: &Option<String>| v.as_ref().map(|v| format!("`{}`", v.replace('`', "'")));
        row("Service", Some(self.service.clone()));
        row("Environment", Some(self.environment.clone()));
        row("Status", Some(self.status.to_string()));
        row("Version", self.version.clone());
        row("Image", code(&self.image));
        row(
            "Git SHA",
            self.git_sha.as_ref().map(|s| format!("`{}`", short_sha(s))),
        );
        row("Task definition", code(&self.task_definition_arn));
        row("Service deployment", code(&self.service_deployment_arn));
        row("Started", format_time(self.started_at));
        row("Finished", self.finished_at.and_then(format_time));
        row("Duration", self.duration().map(human_duration));
        row("Rolled back to", self.rolled_back_to.clone());
        row("Environment URL", self.environment_url.clone());
        row("Test URL", self.test_url.clone());
        row("Deployed by", self.actor.as_ref().map(|a| format!("@{a}")));
        row("Run", self.run_url.as_ref().map(|u| format!("[{u}]({u})")));
        out.push_str(&table.render());
        if let Some(cause) = self.cause.as_deref().filter(|c| !c.trim().is_empty()) {
            out.push_str("\n**Cause**\n\n");
            out.push_str(&code_block("text", cause));
        }
        redact(&out)
    }

    /// The record as a JSON value (kebab-case keys, RFC 3339 times).
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Pretty JSON, secrets redacted.
    pub fn to_json(&self) -> String {
        let text = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        redact(&text)
    }
}

pub(crate) fn format_time(t: OffsetDateTime) -> Option<String> {
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        let text = t.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(d)?;
        OffsetDateTime::parse(&text, &Rfc3339).map_err(D::Error::custom)
    }
}

mod rfc3339_option {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub fn serialize<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::rfc3339::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => OffsetDateTime::parse(&text, &Rfc3339)
                .map(Some)
                .map_err(D::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn record() -> DeploymentRecord {
        let mut r = DeploymentRecord::new("api", "staging");
        r.version = Some("v1.2.3".into());
        r.image = Some("1111.dkr.ecr.us-east-1.amazonaws.com/api:v1.2.3".into());
        r.git_sha = Some("0123456789abcdef0123456789abcdef01234567".into());
        r.task_definition_arn = Some("arn:aws:ecs:us-east-1:1111:task-definition/api:7".into());
        r.started_at = datetime!(2026-11-24 09:00:00 UTC);
        r.finished_at = Some(datetime!(2026-11-24 09:03:12 UTC));
        r.status = DeploymentStatus::Failed;
        r.cause = Some(
            "task stopped: Essential container in task exited (exit code 1)\nTraceback | x".into(),
        );
        r.actor = Some("octocat".into());
        r.run_url = Some("https://github.com/org/app/actions/runs/42".into());
        r
    }

    #[test]
    fn markdown_has_table_and_cause() {
        let md = record().to_markdown();
        assert!(
            md.starts_with("### ❌ Deployment of api v1.2.3 to staging: failed\n"),
            "{md}"
        );
        assert!(md.contains("| Duration | 3m 12s |"), "{md}");
        assert!(md.contains("| Git SHA | `0123456` |"), "{md}");
        assert!(md.contains("| Deployed by | @octocat |"), "{md}");
        assert!(md.contains("**Cause**\n\n```text\ntask stopped"), "{md}");
        assert!(
            !md.contains("Service deployment"),
            "empty fields are left out: {md}"
        );
    }

    #[test]
    fn json_round_trips_with_kebab_case_keys() {
        let r = record();
        let json = r.to_json();
        let v: serde_json::Value = serde_json::from_str(&json).expect("json");
        assert_eq!(
            v["task-definition-arn"],
            "arn:aws:ecs:us-east-1:1111:task-definition/api:7"
        );
        assert_eq!(v["started-at"], "2026-11-24T09:00:00Z");
        assert_eq!(v["status"], "failed");
        let back: DeploymentRecord = serde_json::from_value(v).expect("parse back");
        assert_eq!(back, r);
    }

    #[test]
    fn duration_only_when_finished() {
        let mut r = record();
        assert_eq!(r.duration(), Some(std::time::Duration::from_secs(192)));
        r.finished_at = None;
        assert_eq!(r.duration(), None);
    }
}
