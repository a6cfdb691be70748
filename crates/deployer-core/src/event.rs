//! GitHub webhook payloads read from `$GITHUB_EVENT_PATH`.
//!
//! Only the fields deployer acts on are modelled; unknown fields are ignored because
//! GitHub adds fields over time. Events deployer does not model (e.g. `release`) parse
//! as [`Event::Other`] so a command can still run on them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The all-zero SHA GitHub uses for "no commit" (`before` of a new branch, `after` of a
/// deleted one).
pub const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

/// True for an absent SHA: empty, or all zeros (GitHub sends 40 zeros; SHA-256
/// repositories would send 64).
pub fn is_zero_sha(sha: &str) -> bool {
    sha.is_empty() || sha.chars().all(|c| c == '0')
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error(
        "cannot read the GitHub event payload {path}: {source}. GITHUB_EVENT_PATH must point at the JSON file the runner wrote; outside Actions, unset GITHUB_EVENT_NAME or pass the event file explicitly"
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the GitHub `{event}` event payload ({origin}) is not valid: {source}. The file must be the webhook JSON GitHub provides in GITHUB_EVENT_PATH"
    )]
    Malformed {
        event: String,
        origin: String,
        source: serde_json::Error,
    },
    #[error(
        "the GitHub `{event}` event payload ({origin}) is not a JSON object (it starts with {start:?}). The file must be the webhook JSON GitHub provides in GITHUB_EVENT_PATH"
    )]
    NotAnObject {
        event: String,
        origin: String,
        start: String,
    },
    #[error(
        "the GitHub `{event}` event payload ({origin}) has no `{field}` (or it is empty): GitHub always sends it, so this is not the webhook JSON GitHub provides in GITHUB_EVENT_PATH. Without it deployer cannot tell what changed; point GITHUB_EVENT_PATH at the runner's payload file (outside Actions, unset GITHUB_EVENT_NAME and GITHUB_EVENT_PATH and pass --base/--head)"
    )]
    MissingField {
        event: String,
        origin: String,
        /// The JSON path of the field, e.g. `pull_request.base.sha`.
        field: &'static str,
    },
    #[error(
        "GITHUB_EVENT_NAME is `{event}` but GITHUB_EVENT_PATH is not set: a `{event}` run needs its payload to tell what changed. Set both (the runner sets them) or neither"
    )]
    MissingPayload { event: String },
    #[error(
        "GITHUB_EVENT_PATH is set but GITHUB_EVENT_NAME is not: set both (the runner sets them) or neither"
    )]
    MissingName,
}

impl crate::Classify for EventError {
    fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::BadInput
    }
}

/// A parsed event. Variant chosen by the event name (`GITHUB_EVENT_NAME`).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Push(PushEvent),
    /// `pull_request` and `pull_request_target`; `target` tells which.
    PullRequest {
        target: bool,
        payload: PullRequestEvent,
    },
    MergeGroup(MergeGroupEvent),
    WorkflowDispatch(WorkflowDispatchEvent),
    RepositoryDispatch(RepositoryDispatchEvent),
    Schedule(CommonPayload),
    /// Any other event name, kept with its repository info.
    Other {
        name: String,
        common: CommonPayload,
    },
}

impl Event {
    /// The event name as GitHub spells it (`push`, `pull_request`, …).
    pub fn name(&self) -> &str {
        match self {
            Event::Push(_) => "push",
            Event::PullRequest { target: false, .. } => "pull_request",
            Event::PullRequest { target: true, .. } => "pull_request_target",
            Event::MergeGroup(_) => "merge_group",
            Event::WorkflowDispatch(_) => "workflow_dispatch",
            Event::RepositoryDispatch(_) => "repository_dispatch",
            Event::Schedule(_) => "schedule",
            Event::Other { name, .. } => name,
        }
    }

    /// The repository block most payloads carry.
    pub fn repository(&self) -> Option<&Repository> {
        match self {
            Event::Push(p) => p.repository.as_ref(),
            Event::PullRequest { payload, .. } => payload.repository.as_ref(),
            Event::MergeGroup(m) => m.repository.as_ref(),
            Event::WorkflowDispatch(w) => w.repository.as_ref(),
            Event::RepositoryDispatch(r) => r.repository.as_ref(),
            Event::Schedule(c) | Event::Other { common: c, .. } => c.repository.as_ref(),
        }
    }

    /// The repository's default branch, when the payload names it.
    pub fn default_branch(&self) -> Option<&str> {
        self.repository()
            .and_then(|r| r.default_branch.as_deref())
            .filter(|b| !b.is_empty())
    }

    pub fn is_pull_request(&self) -> bool {
        matches!(self, Event::PullRequest { .. })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Repository {
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub default_branch: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CommonPayload {
    #[serde(default)]
    pub repository: Option<Repository>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Commit {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PushEvent {
    /// `refs/heads/main` or `refs/tags/v1.2.3`.
    #[serde(rename = "ref", default)]
    pub git_ref: String,
    #[serde(default)]
    pub before: String,
    #[serde(default)]
    pub after: String,
    #[serde(default)]
    pub created: bool,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub forced: bool,
    #[serde(default)]
    pub base_ref: Option<String>,
    #[serde(default)]
    pub commits: Vec<Commit>,
    #[serde(default)]
    pub head_commit: Option<Commit>,
    #[serde(default)]
    pub repository: Option<Repository>,
}

impl PushEvent {
    /// The branch name for a branch push (`refs/heads/x` → `x`).
    pub fn branch(&self) -> Option<&str> {
        self.git_ref.strip_prefix("refs/heads/")
    }

    /// True for a tag push.
    pub fn is_tag(&self) -> bool {
        self.git_ref.starts_with("refs/tags/")
    }

    /// Every commit message of the push: `commits[]` plus `head_commit` when it is not
    /// already listed (GitHub omits `commits[]` for some pushes, e.g. tag pushes).
    pub fn messages(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.commits.iter().map(|c| c.message.as_str()).collect();
        if let Some(head) = &self.head_commit
            && !self
                .commits
                .iter()
                .any(|c| c.id == head.id && !c.id.is_empty())
        {
            out.push(&head.message);
        }
        out
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct GitSide {
    #[serde(default)]
    pub sha: String,
    #[serde(rename = "ref", default)]
    pub git_ref: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PullRequest {
    #[serde(default)]
    pub number: u64,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    pub base: GitSide,
    pub head: GitSide,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PullRequestEvent {
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub number: Option<u64>,
    pub pull_request: PullRequest,
    #[serde(default)]
    pub repository: Option<Repository>,
}

impl PullRequestEvent {
    pub fn number(&self) -> u64 {
        self.number.unwrap_or(self.pull_request.number)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct MergeGroup {
    pub base_sha: String,
    pub head_sha: String,
    #[serde(default)]
    pub base_ref: Option<String>,
    #[serde(default)]
    pub head_ref: Option<String>,
    #[serde(default)]
    pub head_commit: Option<Commit>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MergeGroupEvent {
    pub merge_group: MergeGroup,
    #[serde(default)]
    pub repository: Option<Repository>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct WorkflowDispatchEvent {
    /// Inputs as GitHub sends them (strings, booleans, numbers).
    #[serde(default)]
    pub inputs: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(rename = "ref", default)]
    pub git_ref: Option<String>,
    #[serde(default)]
    pub repository: Option<Repository>,
}

impl WorkflowDispatchEvent {
    /// An input as text (booleans and numbers rendered as JSON scalars).
    pub fn input(&self, name: &str) -> Option<String> {
        let value = self.inputs.as_ref()?.get(name)?;
        match value {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RepositoryDispatchEvent {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub client_payload: serde_json::Value,
    #[serde(default)]
    pub branch: Option<String>,
    #[serde(default)]
    pub repository: Option<Repository>,
}

/// The fields GitHub always sends and deployer cannot act without, checked after
/// deserialising: serde's defaults would turn `{}` into a push of nothing to nowhere,
/// which reads as "nothing changed" — a silent pass. Each entry is (JSON path, value).
fn required_fields(event: &Event) -> Vec<(&'static str, &str)> {
    match event {
        Event::Push(p) => vec![
            ("ref", p.git_ref.as_str()),
            ("before", p.before.as_str()),
            ("after", p.after.as_str()),
        ],
        Event::PullRequest { payload, .. } => vec![
            (
                "pull_request.base.sha",
                payload.pull_request.base.sha.as_str(),
            ),
            (
                "pull_request.head.sha",
                payload.pull_request.head.sha.as_str(),
            ),
        ],
        Event::MergeGroup(m) => vec![
            ("merge_group.base_sha", m.merge_group.base_sha.as_str()),
            ("merge_group.head_sha", m.merge_group.head_sha.as_str()),
        ],
        _ => Vec::new(),
    }
}

/// Refuses a payload without a field [`required_fields`] lists.
fn check_required(event: Event, origin: &str) -> Result<Event, EventError> {
    let missing = required_fields(&event)
        .into_iter()
        .find(|(_, value)| value.trim().is_empty())
        .map(|(field, _)| field);
    match missing {
        Some(field) => Err(EventError::MissingField {
            event: event.name().to_string(),
            origin: origin.to_string(),
            field,
        }),
        None => Ok(event),
    }
}

/// Parses a payload for the event `name`. `origin` names the source in error messages.
pub fn parse(name: &str, json: &str, origin: &str) -> Result<Event, EventError> {
    fn typed<T: serde::de::DeserializeOwned>(
        name: &str,
        json: &str,
        origin: &str,
    ) -> Result<T, EventError> {
        serde_json::from_str(json).map_err(|source| EventError::Malformed {
            event: name.to_string(),
            origin: origin.to_string(),
            source,
        })
    }
    // serde accepts a JSON array for a struct whose fields all have defaults, so `[]`
    // would pass as an empty push; every webhook payload is an object.
    let body = json.trim_start();
    if !body.is_empty() && !body.starts_with('{') {
        return Err(EventError::NotAnObject {
            event: name.to_string(),
            origin: origin.to_string(),
            start: body.chars().take(20).collect(),
        });
    }
    let event = match name {
        "push" => Event::Push(typed(name, json, origin)?),
        "pull_request" | "pull_request_target" => Event::PullRequest {
            target: name == "pull_request_target",
            payload: typed(name, json, origin)?,
        },
        "merge_group" => Event::MergeGroup(typed(name, json, origin)?),
        "workflow_dispatch" => Event::WorkflowDispatch(typed(name, json, origin)?),
        "repository_dispatch" => Event::RepositoryDispatch(typed(name, json, origin)?),
        "schedule" => Event::Schedule(typed(name, json, origin)?),
        other => Event::Other {
            name: other.to_string(),
            common: typed(name, json, origin)?,
        },
    };
    check_required(event, origin)
}

/// Reads and parses the payload file at `path` for the event `name`.
pub fn load(name: &str, path: &Path) -> Result<Event, EventError> {
    let text = crate::files::read_text_limited(
        path,
        "the event payload",
        crate::files::limit::EVENT_PAYLOAD,
    )
    .map_err(|e| EventError::Read {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    parse(name, &text, &path.display().to_string())
}

/// Reads `GITHUB_EVENT_NAME` and `GITHUB_EVENT_PATH`. `Ok(None)` outside Actions (no
/// event name); an event name without a payload file yields the event with empty fields
/// only for payload-less events, otherwise an error.
pub fn load_from_env() -> Result<Option<Event>, EventError> {
    load_with_overrides(None, None)
}

/// The event named by the command's flags, each falling back to its `GITHUB_EVENT_*`
/// variable; an empty value counts as not given.
pub fn load_with_overrides(
    name: Option<&str>,
    path: Option<&Path>,
) -> Result<Option<Event>, EventError> {
    let name = name
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .or_else(|| {
            std::env::var("GITHUB_EVENT_NAME")
                .ok()
                .filter(|v| !v.is_empty())
        });
    let path = path
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os("GITHUB_EVENT_PATH")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
    load_optional(name.as_deref(), path.as_deref())
}

/// Like [`load_from_env`] with explicit values (flags override the environment).
pub fn load_optional(name: Option<&str>, path: Option<&Path>) -> Result<Option<Event>, EventError> {
    match (name, path) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(EventError::MissingName),
        (Some(name), Some(path)) => load(name, path).map(Some),
        // Payload-less events (schedule, dispatches) run on an empty object; events
        // whose payload says what changed cannot.
        (Some(name), None) => match parse(name, "{}", "no GITHUB_EVENT_PATH") {
            Ok(event) => Ok(Some(event)),
            Err(_) => Err(EventError::MissingPayload {
                event: name.to_string(),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_that_is_not_an_object_is_refused_naming_event_and_file() {
        for body in ["[]", " [1]", "\"push\"", "null", "42", "true"] {
            let err = parse("push", body, "ev.json").expect_err(body).to_string();
            assert!(err.contains("`push`") && err.contains("ev.json"), "{err}");
            assert!(err.contains("not a JSON object"), "{err}");
        }
        assert!(parse("schedule", " \n{}", "ev.json").is_ok());
        // An empty file stays a JSON syntax error (with its position), not this one.
        assert!(matches!(
            parse("push", "", "ev.json"),
            Err(EventError::Malformed { .. })
        ));
    }

    /// Issue 16: `{}` as a push payload read as "nothing changed" and exited 0.
    #[test]
    fn a_push_without_ref_before_or_after_is_refused_naming_the_field() {
        let full = r#"{"ref":"refs/heads/main","before":"aaa","after":"bbb"}"#;
        assert!(parse("push", full, "ev.json").is_ok());
        for (body, field) in [
            ("{}", "ref"),
            (r#"{"ref":"","before":"a","after":"b"}"#, "ref"),
            (r#"{"ref":"refs/heads/main","after":"b"}"#, "before"),
            (
                r#"{"ref":"refs/heads/main","before":"a","after":"  "}"#,
                "after",
            ),
            (r#"{"commits":[{"id":"1","message":"feat: x"}]}"#, "ref"),
        ] {
            let err = parse("push", body, "ev.json").expect_err(body);
            assert!(
                matches!(&err, EventError::MissingField { field: f, .. } if *f == field),
                "{body}: {err:?}"
            );
            let text = err.to_string();
            assert!(
                text.contains(&format!("no `{field}`")) && text.contains("ev.json"),
                "{text}"
            );
        }
    }

    #[test]
    fn pull_requests_and_merge_groups_without_shas_are_refused() {
        for (name, body, field) in [
            (
                "pull_request",
                r#"{"pull_request":{"base":{"ref":"main"},"head":{"sha":"h"}}}"#,
                "pull_request.base.sha",
            ),
            (
                "pull_request_target",
                r#"{"pull_request":{"base":{"sha":"b"},"head":{"sha":""}}}"#,
                "pull_request.head.sha",
            ),
            (
                "merge_group",
                r#"{"merge_group":{"base_sha":"","head_sha":"y"}}"#,
                "merge_group.base_sha",
            ),
        ] {
            let err = parse(name, body, "ev.json").expect_err(body);
            assert!(
                matches!(&err, EventError::MissingField { field: f, .. } if *f == field),
                "{body}: {err:?}"
            );
        }
    }

    #[test]
    fn an_event_that_needs_a_payload_without_one_is_refused() {
        for name in ["push", "pull_request", "merge_group"] {
            let err = load_optional(Some(name), None).expect_err(name);
            assert!(matches!(&err, EventError::MissingPayload { event } if event == name));
            assert!(
                err.to_string().contains("GITHUB_EVENT_PATH is not set"),
                "{err}"
            );
        }
        for name in [
            "schedule",
            "workflow_dispatch",
            "repository_dispatch",
            "release",
        ] {
            assert!(load_optional(Some(name), None).is_ok(), "{name}");
        }
    }

    #[test]
    fn push_payload_fields() {
        let json = r#"{"ref":"refs/heads/main","before":"aaa","after":"bbb","created":false,"deleted":false,
            "forced":true,"commits":[{"id":"1","message":"feat: a"},{"id":"2","message":"fix: b [skip ci]"}],
            "head_commit":{"id":"2","message":"fix: b [skip ci]"},
            "repository":{"full_name":"o/r","default_branch":"main","extra":1}}"#;
        let Event::Push(p) = parse("push", json, "test").expect("parses") else {
            panic!("push")
        };
        assert_eq!(p.branch(), Some("main"));
        assert!(p.forced && !p.created && !p.deleted);
        assert_eq!(p.messages(), vec!["feat: a", "fix: b [skip ci]"]);
        assert_eq!(
            parse("push", json, "t").expect("ok").default_branch(),
            Some("main")
        );
    }

    #[test]
    fn pull_request_and_merge_group() {
        let json = r#"{"action":"opened","number":7,"pull_request":{"number":7,"base":{"sha":"b","ref":"main"},"head":{"sha":"h","ref":"feature"}}}"#;
        let event = parse("pull_request_target", json, "t").expect("parses");
        assert_eq!(event.name(), "pull_request_target");
        let Event::PullRequest { payload, target } = event else {
            panic!("pr")
        };
        assert!(target);
        assert_eq!(payload.number(), 7);
        assert_eq!(payload.pull_request.base.git_ref, "main");
        let mg = parse(
            "merge_group",
            r#"{"merge_group":{"base_sha":"x","head_sha":"y"}}"#,
            "t",
        )
        .expect("ok");
        assert!(matches!(mg, Event::MergeGroup(m) if m.merge_group.base_sha == "x"));
    }

    #[test]
    fn dispatch_events() {
        let wd = parse(
            "workflow_dispatch",
            r#"{"inputs":{"env":"prod","force":true}}"#,
            "t",
        )
        .expect("ok");
        let Event::WorkflowDispatch(wd) = wd else {
            panic!("wd")
        };
        assert_eq!(wd.input("env").as_deref(), Some("prod"));
        assert_eq!(wd.input("force").as_deref(), Some("true"));
        assert_eq!(wd.input("missing"), None);
        let rd = parse(
            "repository_dispatch",
            r#"{"action":"deploy","client_payload":{"tag":"v1"}}"#,
            "t",
        )
        .expect("ok");
        let Event::RepositoryDispatch(rd) = rd else {
            panic!("rd")
        };
        assert_eq!(rd.action, "deploy");
        assert_eq!(rd.client_payload["tag"], "v1");
    }

    #[test]
    fn malformed_payloads_are_clear_errors() {
        let err = parse("pull_request", r#"{"pull_request":{}}"#, "event.json")
            .expect_err("missing base");
        let text = err.to_string();
        assert!(
            text.contains("pull_request") && text.contains("event.json"),
            "{text}"
        );
        assert!(parse("push", "not json", "x").is_err());
        assert!(matches!(
            parse("release", "{}", "x"),
            Ok(Event::Other { .. })
        ));
        assert!(is_zero_sha(ZERO_SHA) && is_zero_sha("") && !is_zero_sha("0a"));
    }

    #[test]
    fn env_loading_rules() {
        assert!(matches!(load_optional(None, None), Ok(None)));
        assert!(matches!(
            load_optional(None, Some(Path::new("x"))),
            Err(EventError::MissingName)
        ));
        assert!(matches!(
            load_optional(Some("schedule"), None),
            Ok(Some(Event::Schedule(_)))
        ));
        assert!(matches!(
            load_optional(Some("push"), Some(Path::new("/nonexistent/e.json"))),
            Err(EventError::Read { .. })
        ));
    }
}
