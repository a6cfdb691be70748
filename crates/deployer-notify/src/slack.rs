//! Slack incoming webhook: one Block Kit message per deploy event.
//!
//! The webhook URL is a secret (anyone holding it can post to the channel): it is
//! registered with [`deployer_core::mask::add`] before anything else, never printed, and
//! stripped from transport errors. Links are `mrkdwn` links rather than buttons: a button
//! in a message from an incoming webhook without an interactive app shows an error mark
//! when clicked, and deployer has no bot (the seed's Slack flow, without interactivity).
//!
//! A failed post is a [`NotifyOutcome::Warning`], never an error: a notification problem
//! must not fail a deploy.

use std::time::Duration;

use deployer_core::mask::{add as add_secret, redact};
use deployer_core::{Classify, ErrorKind};
use deployer_github::retry::{Answer, RetryPolicy, Verdict, retry_after, send_with_retries};
use reqwest::{StatusCode, Url};
use serde_json::{Value, json};

use crate::links::Links;
use crate::notifier::{Channel, Event, NotifyOutcome};
use crate::record::DeploymentRecord;
use crate::text::{error_chain, human_duration, short_sha, truncate_chars};

/// Slack limits: header text 150, section field 2000, section text 3000 characters.
const MAX_HEADER: usize = 150;
const MAX_FIELD: usize = 2000;
const MAX_SECTION: usize = 3000;
/// Causes are cut well below the section limit so the message stays readable.
const MAX_CAUSE: usize = 1500;

#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    #[error(
        "the Slack webhook URL is not a valid http(s) URL (value hidden: it is a secret); \
         pass the incoming-webhook URL, e.g. `slack-webhook-url: ${{{{ secrets.SLACK_WEBHOOK_URL }}}}`"
    )]
    BadUrl,
    #[error("cannot set up the HTTP client for Slack: {0}")]
    Client(String),
}

impl Classify for SlackError {
    fn kind(&self) -> ErrorKind {
        match self {
            SlackError::BadUrl => ErrorKind::BadInput,
            SlackError::Client(_) => ErrorKind::Failed,
        }
    }
}

/// An incoming webhook.
#[derive(Clone)]
pub struct SlackWebhook {
    http: reqwest::Client,
    url: Url,
    retry: RetryPolicy,
}

impl std::fmt::Debug for SlackWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackWebhook").field("url", &"***").finish()
    }
}

impl SlackWebhook {
    /// Masks the URL (whole, normalised, and its path, which carries the secret), then
    /// validates it.
    pub fn new(webhook_url: &str) -> Result<Self, SlackError> {
        let raw = webhook_url.trim();
        add_secret(raw);
        let url = Url::parse(raw).map_err(|_| SlackError::BadUrl)?;
        add_secret(url.as_str());
        let path = url.path();
        if path.len() >= 8 {
            add_secret(path);
        }
        // The last path segment is the actual secret of a Slack webhook.
        if let Some(last) = path.rsplit('/').next().filter(|s| s.len() >= 8) {
            add_secret(last);
        }
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
            return Err(SlackError::BadUrl);
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("deployer/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| SlackError::Client(redact(&error_chain(&e.without_url()))))?;
        Ok(SlackWebhook {
            http,
            url,
            retry: RetryPolicy {
                max_attempts: 3,
                ..RetryPolicy::default()
            },
        })
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Posts `payload`. Retries 429 and 5xx (bounded); any failure is a warning.
    pub async fn post(&self, payload: &Value) -> NotifyOutcome {
        let answer = send_with_retries(
            &self.retry,
            "Slack webhook",
            || self.http.post(self.url.clone()).json(payload),
            |a: &Answer| {
                if a.status == StatusCode::TOO_MANY_REQUESTS || a.status.is_server_error() {
                    Verdict::Retry(retry_after(&a.headers))
                } else {
                    Verdict::Done
                }
            },
        )
        .await;
        match answer {
            Ok(a) if a.status.is_success() => NotifyOutcome::Sent {
                channel: Channel::Slack,
                detail: "message posted".into(),
            },
            Ok(a) => warning(explain(a.status, &a.body)),
            Err(e) => warning(format!("cannot reach Slack ({})", e.message)),
        }
    }

    /// Builds the message for `event` and posts it.
    pub async fn notify(
        &self,
        record: &DeploymentRecord,
        event: &Event,
        links: &Links,
    ) -> NotifyOutcome {
        self.post(&message(record, event, links)).await
    }
}

fn warning(text: String) -> NotifyOutcome {
    NotifyOutcome::Warning {
        channel: Channel::Slack,
        message: redact(&format!("{text}; the deploy itself is not affected")),
    }
}

/// What a non-2xx answer means and what to do about it.
fn explain(status: StatusCode, body: &str) -> String {
    let code = body.trim();
    let code = if code.is_empty() || code.len() > 100 || code.contains(char::is_whitespace) {
        truncate_chars(
            code.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .as_str(),
            100,
        )
    } else {
        code.to_string()
    };
    let what = match (status.as_u16(), code.as_str()) {
        (_, "channel_is_archived") | (410, _) => {
            "the webhook's channel is archived: unarchive it or create a webhook for another channel and update the secret"
        }
        (_, "no_service" | "channel_not_found" | "no_team" | "team_disabled") | (404, _) => {
            "the webhook no longer exists (app removed or channel deleted): create a new incoming webhook and update the secret"
        }
        (_, "invalid_token" | "action_prohibited") | (401 | 403, _) => {
            "the webhook is not allowed to post: create a new incoming webhook and update the secret"
        }
        (_, "invalid_payload" | "no_text") | (400, _) => {
            "Slack rejected the message format (please report this deployer bug)"
        }
        (429, _) => "Slack kept rate-limiting the webhook",
        _ => "Slack could not take the message",
    };
    let code = if code.is_empty() {
        String::new()
    } else {
        format!(" {code}")
    };
    format!(
        "Slack notification not delivered (HTTP {}{code}): {what}",
        status.as_u16()
    )
}

/// Escapes text for `mrkdwn` (Slack treats `&`, `<`, `>` as control characters).
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `<url|label>` with both parts made safe.
fn link(url: &str, label: &str) -> String {
    let url = url
        .replace('>', "%3E")
        .replace('|', "%7C")
        .replace(' ', "%20");
    format!("<{url}|{}>", esc(label).replace('|', "/"))
}

fn field(name: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": truncate_chars(&format!("*{name}*\n{value}"), MAX_FIELD)})
}

/// The Block Kit message for `event` (secrets redacted).
pub fn message(record: &DeploymentRecord, event: &Event, links: &Links) -> Value {
    let service = &record.service;
    let env = &record.environment;
    let what = record.what();
    let (emoji, title) = match event {
        Event::Started => ("🚀", format!("Deploying {what} to {env}")),
        Event::TestTrafficReady { .. } => ("🧪", format!("{what} is ready for testing in {env}")),
        Event::Succeeded => ("✅", format!("{what} deployed to {env}")),
        Event::Failed { .. } => ("❌", format!("Deploy of {what} to {env} failed")),
        Event::RolledBack { to } => (
            "↩️",
            format!("{service} rolled back to {} in {env}", to.revision),
        ),
    };
    let header = truncate_chars(&format!("{emoji} {title}"), MAX_HEADER);

    let mut fields = vec![
        field("Service", &esc(service)),
        field("Environment", &esc(env)),
    ];
    if let Some(v) = &record.version {
        fields.push(field("Version", &esc(v)));
    }
    if let Some(i) = &record.image {
        fields.push(field("Image", &format!("`{}`", esc(i))));
    }
    if let Event::RolledBack { to } = event {
        fields.push(field("Rolled back to", &esc(&to.revision)));
    }
    if !matches!(event, Event::Started)
        && let Some(d) = record.elapsed()
    {
        fields.push(field("Duration", &human_duration(d)));
    }
    let test_url = match event {
        Event::TestTrafficReady { test_url } => test_url.as_ref().or(record.test_url.as_ref()),
        _ => None,
    };
    if let Some(u) = test_url {
        fields.push(field("Test endpoint", &link(u, u)));
    }
    if matches!(event, Event::Succeeded)
        && let Some(u) = &record.environment_url
    {
        fields.push(field("URL", &link(u, u)));
    }

    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": header, "emoji": true}}),
        json!({"type": "section", "fields": fields}),
    ];

    if matches!(event, Event::Failed { .. } | Event::RolledBack { .. })
        && let Some(cause) = record.cause.as_deref().filter(|c| !c.trim().is_empty())
    {
        let cause = truncate_chars(cause.trim(), MAX_CAUSE).replace("```", "'''");
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate_chars(&format!("*Cause*\n```{}```", esc(&cause)), MAX_SECTION)}}));
    }

    let mut link_parts = Vec::new();
    if let Some(u) = &links.run_url {
        link_parts.push(link(u, "View run"));
    }
    let continue_link = links
        .continue_workflow
        .as_ref()
        .map(|(name, u)| link(u, &format!("Continue ({name})")));
    let rollback_link = links
        .rollback_workflow
        .as_ref()
        .map(|(name, u)| link(u, &format!("Roll back ({name})")));
    match event {
        Event::TestTrafficReady { .. } => {
            link_parts.extend(continue_link.into_iter().chain(rollback_link))
        }
        Event::Succeeded | Event::Failed { .. } => link_parts.extend(rollback_link),
        Event::Started | Event::RolledBack { .. } => {}
    }
    if !link_parts.is_empty() {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": link_parts.join("  ·  ")}}));
    }

    let mut context = Vec::new();
    if let Some(a) = &record.actor {
        context.push(format!("by {}", esc(a)));
    }
    if let Some(s) = &record.git_sha {
        context.push(format!("commit `{}`", esc(short_sha(s))));
    }
    if let Some(t) = &record.task_definition_arn {
        context.push(format!(
            "task definition `{}`",
            esc(t.rsplit('/').next().unwrap_or(t))
        ));
    }
    if !context.is_empty() {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": context.join(" · ")}]}));
    }

    let text = redact(&format!("{emoji} {title}"));
    let mut value = json!({"text": text, "blocks": blocks});
    redact_strings(&mut value);
    value
}

/// Redacts every string in a JSON value.
fn redact_strings(value: &mut Value) {
    match value {
        Value::String(s) => {
            let r = redact(s);
            if r != *s {
                *s = r;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_strings),
        Value::Object(map) => map.values_mut().for_each(redact_strings),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explanations_name_the_fix() {
        let m = explain(StatusCode::NOT_FOUND, "no_service");
        assert!(
            m.contains("HTTP 404 no_service") && m.contains("create a new incoming webhook"),
            "{m}"
        );
        let m = explain(StatusCode::GONE, "channel_is_archived");
        assert!(m.contains("archived"), "{m}");
        let m = explain(StatusCode::INTERNAL_SERVER_ERROR, "");
        assert!(m.contains("HTTP 500)"), "{m}");
    }

    #[test]
    fn mrkdwn_is_escaped() {
        assert_eq!(esc("a<b>&c"), "a&lt;b&gt;&amp;c");
        assert_eq!(
            link("https://x/y?a=1|2", "A|B"),
            "<https://x/y?a=1%7C2|A/B>"
        );
    }

    #[test]
    fn bad_url_error_hides_the_value() {
        let err = SlackWebhook::new("not a url but a s3cr3t-webhook-value").expect_err("invalid");
        assert!(!err.to_string().contains("s3cr3t"));
        let err = SlackWebhook::new("ftp://hooks.example.com/services/T/B/abc")
            .expect_err("invalid scheme");
        assert!(!err.to_string().contains("hooks.example.com"));
    }
}
