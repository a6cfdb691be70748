//! `detect-changes`: decide which services changed in a push, pull request or merge group.
//!
//! Pure local git (no network except fetching missing commits from `origin`, no token).
//! The base commit is chosen per event (see [`deployer_git::base`]); markers are read
//! from **every commit message of the push** (the payload's `commits[]` and
//! `head_commit`), or from the commits in `base..head` for other events, plus the pull
//! request title and body for pull requests. Skip markers (`[skip ci]`, …,
//! `skip-checks: true`) are honoured for `push` only: GitHub already applies them to
//! push and pull_request runs before a workflow starts, and for pull requests, merge
//! queues, dispatches and schedules a marker in one commit must never hide a change
//! from checks. `[deploy-all]` counts for every event. A skip marker wins over
//! `[deploy-all]`.
//!
//! Outputs: `<service>` (`true`/`false` per service), `changes` (JSON array of changed
//! services), `matrix` (`{"include":[{"service":"api"},…]}`; never empty — when nothing
//! changed it holds one placeholder entry `{"service":"","placeholder":true}`, so gate
//! the matrix job on `any-changed`), `any-changed`, `files` (JSON array of changed paths,
//! both sides of renames; empty when every service counts as changed without a diff, or
//! when the list is larger than `--files-limit`, in which case `files-path` names a JSON
//! file holding it), `files-count`, `base`, `head` (SHAs; `base` empty when there was no
//! diff), `reason`, `skipped`, `deploy-all`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use deployer_core::cli::CommonArgs;
use deployer_core::event::{self, Event};
use deployer_core::markdown::{Table, escape_cell};
use deployer_core::runtime::RuntimeError;
use deployer_core::{Classify, ErrorKind, Runtime};
use deployer_git::GitError;
use deployer_git::base::{BaseRequest, Resolver, Selection};
use deployer_git::diff::{self, ChangedFile};
use deployer_git::glob::{FilterSet, GlobError, Patterns};
use deployer_git::markers::{self, MarkerSettings};
use serde::Deserialize;

/// Output names a filter may not use.
pub const RESERVED_OUTPUTS: [&str; 11] = [
    "changes",
    "matrix",
    "any-changed",
    "files",
    "files-path",
    "files-count",
    "base",
    "head",
    "reason",
    "skipped",
    "deploy-all",
];

/// Above this many bytes the changed-file list goes to a file (`files-path`) instead of
/// the `files` output (GitHub limits job outputs to 1 MB in total).
pub const DEFAULT_FILES_LIMIT: usize = 64 * 1024;

/// Decide which services changed in a push, pull request or merge group.
#[derive(Debug, clap::Parser)]
#[command(
    name = "detect-changes",
    version,
    about = "Decide which services changed in a push, pull request or merge group"
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// deployer.yml to read services and their `paths` from [default: <repo>/.github/deployer.yml]
    #[arg(long, env = "DEPLOYER_CONFIG")]
    pub config: Option<PathBuf>,

    /// Inline YAML filters instead of the config file: `name: [glob, ...]` per service.
    #[arg(long, env = "DEPLOYER_FILTERS")]
    pub filters: Option<String>,

    /// Compare with this commit (SHA or revision) instead of the event's base.
    #[arg(long, env = "DEPLOYER_BASE")]
    pub base: Option<String>,

    /// The commit to inspect [default: the event's head, else HEAD].
    #[arg(long, env = "DEPLOYER_HEAD")]
    pub head: Option<String>,

    /// Event name [default: $GITHUB_EVENT_NAME].
    #[arg(long, env = "DEPLOYER_EVENT_NAME")]
    pub event_name: Option<String>,

    /// Event payload JSON file [default: $GITHUB_EVENT_PATH].
    #[arg(long, env = "DEPLOYER_EVENT_PATH")]
    pub event_path: Option<PathBuf>,

    /// Default branch of the repository [default: from the event payload, else main].
    #[arg(long, env = "DEPLOYER_DEFAULT_BRANCH")]
    pub default_branch: Option<String>,

    /// Last successfully deployed commit: the base for dispatch, schedule, tag and force-push runs.
    #[arg(long, env = "DEPLOYER_LAST_DEPLOYED_SHA")]
    pub last_deployed_sha: Option<String>,

    /// Repository directory.
    #[arg(long, env = "DEPLOYER_REPO", default_value = ".")]
    pub repo: PathBuf,

    /// Byte size above which the file list is written to a file (`files-path`).
    #[arg(long, env = "DEPLOYER_FILES_LIMIT", default_value_t = DEFAULT_FILES_LIMIT)]
    pub files_limit: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] deployer_config::ConfigError),
    #[error(
        "--filters is not valid YAML filters ({0}). Write one entry per service, e.g.\n  api:\n    - 'services/api/**'\n  web: ['services/web/**', '!**/*.md']"
    )]
    Filters(String),
    #[error("filter `{name}`: {source}")]
    Glob { name: String, source: GlobError },
    #[error("filter name `{0}` is not usable as an output name: use letters, digits, `-` and `_`")]
    BadFilterName(String),
    #[error("filter name `{0}` collides with the aggregate output of the same name; rename the service/filter (reserved: {reserved})", reserved = RESERVED_OUTPUTS.join(", "))]
    ReservedFilterName(String),
    #[error(
        "no services to check: the config defines no services with `paths` and --filters is empty"
    )]
    NoFilters,
    #[error(transparent)]
    Event(#[from] event::EventError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("{flag} is empty: give a value, or leave the flag out ({default})")]
    Blank {
        flag: &'static str,
        default: &'static str,
    },
    #[error("cannot write the changed-file list to {path}: {source}")]
    FilesPath {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Classify for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(e) => e.kind(),
            Error::Event(e) => e.kind(),
            Error::Git(e) => e.kind(),
            Error::Runtime(_) | Error::FilesPath { .. } => ErrorKind::Failed,
            _ => ErrorKind::BadInput,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FilterSpec {
    One(String),
    Many(Vec<String>),
    Object { paths: Vec<String> },
}

/// Parses inline filters (`name: [globs]`, `name: glob` or `name: {paths: [globs]}`).
pub fn parse_filters(yaml: &str) -> Result<Vec<(String, Vec<String>)>, Error> {
    let map: BTreeMap<String, FilterSpec> =
        yaml_serde::from_str(yaml).map_err(|e| Error::Filters(e.to_string()))?;
    Ok(map
        .into_iter()
        .map(|(name, spec)| {
            let globs = match spec {
                FilterSpec::One(s) => vec![s],
                FilterSpec::Many(v) | FilterSpec::Object { paths: v } => v,
            };
            (name, globs)
        })
        .collect())
}

/// Validates names and parses the globs (they are compiled together, once, in [`detect`]).
pub fn compile_filters(raw: Vec<(String, Vec<String>)>) -> Result<Vec<(String, Patterns)>, Error> {
    if raw.is_empty() {
        return Err(Error::NoFilters);
    }
    raw.into_iter()
        .map(|(name, globs)| {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(Error::BadFilterName(name));
            }
            if RESERVED_OUTPUTS.contains(&name.as_str()) {
                return Err(Error::ReservedFilterName(name));
            }
            let filter = Patterns::parse(&globs).map_err(|source| Error::Glob {
                name: name.clone(),
                source,
            })?;
            Ok((name, filter))
        })
        .collect()
}

/// The outcome, before it is written as outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Every filter with its verdict and the files that matched it.
    pub services: Vec<(String, bool, Vec<String>)>,
    pub files: Vec<ChangedFile>,
    pub base: Option<String>,
    pub head: Option<String>,
    pub reason: String,
    pub skipped: bool,
    pub deploy_all: bool,
}

impl Outcome {
    pub fn changed(&self) -> Vec<&str> {
        self.services
            .iter()
            .filter(|(_, c, _)| *c)
            .map(|(n, _, _)| n.as_str())
            .collect()
    }
}

struct Loaded {
    filters: Vec<(String, Patterns)>,
    markers: MarkerSettings,
}

fn load_filters(args: &Args) -> Result<Loaded, Error> {
    if let Some(yaml) = args.filters.as_deref().filter(|s| !s.trim().is_empty()) {
        return Ok(Loaded {
            filters: compile_filters(parse_filters(yaml)?)?,
            markers: MarkerSettings::default(),
        });
    }
    let path = match &args.config {
        Some(p) => p.clone(),
        None => args.repo.join(deployer_config::DEFAULT_PATH),
    };
    let config = deployer_config::load(&path)?;
    let raw: Vec<(String, Vec<String>)> = config
        .services
        .iter()
        .filter(|(_, s)| !s.paths.is_empty())
        .map(|(n, s)| (n.clone(), s.paths.clone()))
        .collect();
    let markers = MarkerSettings {
        deploy_all: config.markers.deploy_all.clone(),
        skip: config.markers.skip.clone(),
        skip_checks_trailer: true,
    };
    Ok(Loaded {
        filters: compile_filters(raw)?,
        markers,
    })
}

fn honours_skip(event: Option<&Event>) -> bool {
    matches!(event, Some(Event::Push(_)))
}

/// Computes the outcome (no output is written).
pub fn detect(
    repo_dir: &Path,
    filters: &[(String, Patterns)],
    marker_settings: &MarkerSettings,
    req: &BaseRequest<'_>,
) -> Result<(Outcome, Vec<String>), Error> {
    let mut resolver = Resolver::open(repo_dir)?;
    let selection = resolver.select(req)?;
    let all = |changed: bool| -> Vec<(String, bool, Vec<String>)> {
        filters
            .iter()
            .map(|(n, _)| (n.clone(), changed, Vec::new()))
            .collect()
    };
    let (base, head) = match &selection {
        Selection::Diff { base, head, .. } => (Some(*base), Some(*head)),
        Selection::All { head, .. } => (None, *head),
        Selection::Nothing { .. } => (None, None),
    };
    let mut outcome = Outcome {
        services: all(false),
        files: Vec::new(),
        base: base.map(|b| b.to_string()),
        head: head.map(|h| h.to_string()),
        reason: selection.reason().to_string(),
        skipped: false,
        deploy_all: false,
    };
    if let Selection::Nothing { .. } = selection {
        return Ok((outcome, resolver.notes));
    }
    // Markers.
    let mut messages: Vec<String> = match req.event {
        Some(Event::Push(p)) => p.messages().into_iter().map(str::to_string).collect(),
        _ => Vec::new(),
    };
    if messages.is_empty()
        && let Some(h) = head
    {
        messages = resolver.messages(base, h, 1000);
        if messages.is_empty() || base.is_none() {
            messages.truncate(1);
        }
    }
    if let Some(Event::PullRequest { payload, .. }) = req.event {
        messages.extend(payload.pull_request.title.iter().cloned());
        messages.extend(payload.pull_request.body.iter().cloned());
    }
    let found = markers::scan(messages.iter().map(String::as_str), marker_settings);
    if let Some(hit) = found.skip.filter(|_| honours_skip(req.event)) {
        outcome.skipped = true;
        outcome.reason = format!(
            "skipped: commit \"{}\" carries `{}`",
            hit.subject, hit.marker
        );
        return Ok((outcome, resolver.notes));
    }
    // Files are listed for a real diff only ("everything changed" lists none).
    if let (Some(b), Some(h)) = (base, head) {
        outcome.files = diff::changed_files(resolver.repo(), Some(b), h)?;
    }
    if let Some(hit) = found.deploy_all {
        outcome.deploy_all = true;
        outcome.services = all(true);
        outcome.reason = format!(
            "commit \"{}\" carries `{}`: every service counts as changed",
            hit.subject, hit.marker
        );
        return Ok((outcome, resolver.notes));
    }
    if let Selection::All { .. } = selection {
        outcome.services = all(true);
        return Ok((outcome, resolver.notes));
    }
    let set = FilterSet::new(filters.iter().map(|(_, f)| f)).map_err(|source| Error::Glob {
        name: "*".into(),
        source,
    })?;
    let mut matched: Vec<Vec<String>> = vec![Vec::new(); filters.len()];
    let (mut buf, mut hit, mut any) = (Vec::new(), Vec::new(), vec![false; filters.len()]);
    for f in &outcome.files {
        any.iter_mut().for_each(|a| *a = false);
        for p in f.paths() {
            set.matches_into(p, &mut buf, &mut hit);
            for (a, h) in any.iter_mut().zip(&hit) {
                *a |= *h;
            }
        }
        for (i, a) in any.iter().enumerate() {
            if *a {
                matched[i].push(f.path.clone());
            }
        }
    }
    outcome.services = filters
        .iter()
        .zip(matched)
        .map(|((name, _), m)| (name.clone(), !m.is_empty(), m))
        .collect();
    Ok((outcome, resolver.notes))
}

/// `{"include":[{"service":"api"},…]}`; a single placeholder entry when nothing changed.
pub fn matrix(changed: &[&str]) -> String {
    let include: Vec<serde_json::Value> = if changed.is_empty() {
        vec![serde_json::json!({"service": "", "placeholder": true})]
    } else {
        changed
            .iter()
            .map(|s| serde_json::json!({"service": s}))
            .collect()
    };
    serde_json::json!({ "include": include }).to_string()
}

/// An explicit but blank revision flag used to be dropped silently, so the event's base
/// (or HEAD) was compared instead of what the caller meant. (An empty `DEPLOYER_*`
/// variable still counts as not given: `deployer_core::cli::parse_args` drops it.)
fn check_not_blank(args: &Args) -> Result<(), Error> {
    let flags: [(&'static str, &Option<String>, &'static str); 5] = [
        ("--base", &args.base, "the event's base is used"),
        ("--head", &args.head, "the event's head, else HEAD, is used"),
        (
            "--default-branch",
            &args.default_branch,
            "the payload's, else main",
        ),
        (
            "--last-deployed-sha",
            &args.last_deployed_sha,
            "every service counts as changed where it would be the base",
        ),
        (
            "--event-name",
            &args.event_name,
            "GITHUB_EVENT_NAME is used",
        ),
    ];
    match flags
        .into_iter()
        .find(|(_, value, _)| value.as_deref().is_some_and(|v| v.trim().is_empty()))
    {
        Some((flag, _, default)) => Err(Error::Blank { flag, default }),
        None => Ok(()),
    }
}

pub fn run(args: &Args, runtime: &mut Runtime) -> Result<(), Error> {
    check_not_blank(args)?;
    let loaded = load_filters(args)?;
    let event = event::load_with_overrides(args.event_name.as_deref(), args.event_path.as_deref())?;
    let clean = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let (base, head, default_branch, last) = (
        clean(&args.base),
        clean(&args.head),
        clean(&args.default_branch),
        clean(&args.last_deployed_sha),
    );
    let req = BaseRequest {
        event: event.as_ref(),
        explicit_base: base.as_deref(),
        explicit_head: head.as_deref(),
        default_branch: default_branch.as_deref(),
        last_deployed: last.as_deref(),
    };
    let outcome = {
        let _group = runtime.group("Comparing commits");
        let (outcome, notes) = detect(&args.repo, &loaded.filters, &loaded.markers, &req)?;
        for note in &notes {
            runtime.say(note);
        }
        outcome
    };
    runtime.say(format!("detect-changes: {}", outcome.reason));

    let changed = outcome.changed();
    for (name, is_changed, _) in &outcome.services {
        runtime.set_output(name, if *is_changed { "true" } else { "false" })?;
    }
    runtime.set_output(
        "changes",
        serde_json::to_string(&changed).unwrap_or_else(|_| "[]".into()),
    )?;
    runtime.set_output("matrix", matrix(&changed))?;
    runtime.set_output(
        "any-changed",
        if changed.is_empty() { "false" } else { "true" },
    )?;
    let mut paths: Vec<&str> = outcome.files.iter().flat_map(ChangedFile::paths).collect();
    paths.sort();
    paths.dedup();
    let files_json = serde_json::to_string(&paths).unwrap_or_else(|_| "[]".into());
    runtime.set_output("files-count", paths.len().to_string())?;
    if files_json.len() > args.files_limit {
        let dir = std::env::var_os("RUNNER_TEMP")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let path = dir.join(format!(
            "deployer-changed-files-{}.json",
            std::process::id()
        ));
        std::fs::write(&path, &files_json).map_err(|source| Error::FilesPath {
            path: path.clone(),
            source,
        })?;
        runtime.set_output("files", "")?;
        runtime.set_output("files-path", path.display().to_string())?;
    } else {
        runtime.set_output("files", files_json)?;
    }
    runtime.set_output("base", outcome.base.clone().unwrap_or_default())?;
    runtime.set_output("head", outcome.head.clone().unwrap_or_default())?;
    runtime.set_output("reason", outcome.reason.clone())?;
    runtime.set_output("skipped", if outcome.skipped { "true" } else { "false" })?;
    runtime.set_output(
        "deploy-all",
        if outcome.deploy_all { "true" } else { "false" },
    )?;

    let mut table = Table::new(["service", "changed", "matching files"]);
    for (name, is_changed, matched) in &outcome.services {
        let shown: Vec<String> = matched
            .iter()
            .take(5)
            .map(|p| format!("`{}`", p.replace('`', "'")))
            .collect();
        let more = if matched.len() > 5 {
            format!(" … and {} more", matched.len() - 5)
        } else {
            String::new()
        };
        table.row([
            name.clone(),
            if *is_changed {
                "✅ yes".into()
            } else {
                "no".into()
            },
            format!("{}{more}", shown.join(", ")),
        ]);
    }
    let range = match (&outcome.base, &outcome.head) {
        (Some(b), Some(h)) => format!("`{}..{}`", &b[..b.len().min(12)], &h[..h.len().min(12)]),
        (None, Some(h)) => format!("everything at `{}`", &h[..h.len().min(12)]),
        _ => "nothing".into(),
    };
    runtime.summary(&format!(
        "### detect-changes\n\n{}\n\nCompared: {range} ({} changed files)\n\n{}",
        escape_cell(&outcome.reason),
        paths.len(),
        table.render()
    ))?;
    runtime.say(format!(
        "changed services: {}",
        if changed.is_empty() {
            "none".to_string()
        } else {
            changed.join(", ")
        }
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_filters_forms_and_name_rules() {
        let raw = parse_filters(
            "api: ['services/api/**']\nweb: services/web/**\non: {paths: ['x/**']}\n",
        )
        .expect("yaml");
        let names: Vec<&str> = raw.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["api", "on", "web"]);
        assert!(compile_filters(raw).is_ok());
        assert!(matches!(
            compile_filters(vec![("changes".into(), vec!["a".into()])]),
            Err(Error::ReservedFilterName(_))
        ));
        assert!(matches!(
            compile_filters(vec![("a b".into(), vec!["a".into()])]),
            Err(Error::BadFilterName(_))
        ));
        assert!(matches!(
            compile_filters(vec![("a".into(), vec!["!x".into()])]),
            Err(Error::Glob { .. })
        ));
        assert!(matches!(compile_filters(vec![]), Err(Error::NoFilters)));
        assert!(matches!(
            parse_filters("- just a list"),
            Err(Error::Filters(_))
        ));
    }

    #[test]
    fn matrix_is_never_empty() {
        assert_eq!(
            matrix(&["api", "web"]),
            r#"{"include":[{"service":"api"},{"service":"web"}]}"#
        );
        assert_eq!(
            matrix(&[]),
            r#"{"include":[{"placeholder":true,"service":""}]}"#
        );
    }
}
