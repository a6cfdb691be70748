//! `detect-changes`: decide which services changed in a push, pull request or merge group.
//!
//! Pure local git by default (no network except fetching missing commits from `origin`,
//! no token). The base commit is chosen per event (see [`deployer_git::base`]), or, with
//! `--since last-deployed --environment <env>`, per service: the commit of its last
//! successful deployment there, from the GitHub deployment records (see [`bases`]; this
//! mode reads the GitHub API and needs `deployments: read`).
//!
//! Skip markers (`[skip ci]`, …, `skip-checks: true`) are read from the **head commit**
//! only, as GitHub reads them (sources in [`deployer_git::markers`]), and honoured for
//! `push` only: GitHub already applies them to push and pull_request runs before a
//! workflow starts, so a run that exists was not skipped by GitHub, and for pull
//! requests, merge queues, dispatches and schedules a marker must never hide a change
//! from checks. `[deploy-all]` counts from **every commit message of the push** (the
//! payload's `commits[]` and `head_commit`), or from the commits in `base..head` for
//! other events, plus the pull request title and body, for every event. A skip marker
//! wins over `[deploy-all]`.
//!
//! Outputs: `<service>` (`true`/`false` per service), `changes` (JSON array of changed
//! services), `matrix` (`{"include":[{"service":"api"},…]}`; never empty — when nothing
//! changed it holds one placeholder entry `{"service":"","placeholder":true}`, so gate
//! the matrix job on `any-changed`), `any-changed`, `files` (JSON array of changed paths,
//! both sides of renames; empty when every service counts as changed without a diff, or
//! when the list is larger than `--files-limit`, in which case `files-path` names a JSON
//! file holding it), `files-count`, `base`, `head` (SHAs; `base` empty when there was no
//! diff, or when services have different bases), `reason`, `skipped`, `deploy-all`, and
//! `bases` (JSON: per service its `base` SHA, `source`, `deployment-id` and `reason`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use deployer_core::cli::CommonArgs;
use deployer_core::event::{self, Event};
use deployer_core::markdown::{Table, escape_cell};
use deployer_core::runtime::{Annotation, RuntimeError};
use deployer_core::{Classify, ErrorKind, Runtime};
use deployer_git::GitError;
use deployer_git::base::{BaseRequest, Resolver, Selection};
use deployer_git::diff::{self, ChangedFile};
use deployer_git::glob::{FilterSet, GlobError, Patterns};
use deployer_git::markers::{self, MarkerSettings, Markers};
use deployer_github::{Client, GithubError};
use git2::Oid;
use serde::Deserialize;

pub mod bases;

use bases::{ServiceBase, Since};

/// Output names a filter may not use.
pub const RESERVED_OUTPUTS: [&str; 12] = [
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
    "bases",
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

    /// Where the bases come from: the event's, or per service its last successful deployment to --environment.
    #[arg(long, env = "DEPLOYER_SINCE", value_enum, default_value_t = Since::Event)]
    pub since: Since,

    /// The environment whose running commits are the bases (with --since last-deployed).
    #[arg(long, env = "DEPLOYER_ENVIRONMENT")]
    pub environment: Option<String>,

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
    #[error(
        "--since last-deployed needs --environment: the environment whose running commits are the bases (e.g. --environment staging)"
    )]
    SinceNeedsEnvironment,
    #[error(
        "--environment is only read with --since last-deployed (compare each service with its last successful deployment there); add --since last-deployed, or drop --environment"
    )]
    EnvironmentNeedsSince,
    #[error(
        "{flag} and --since last-deployed both choose the base: give one of them ({flag} compares every service with one commit; --since last-deployed each with what runs in --environment)"
    )]
    SinceConflict { flag: &'static str },
    #[error(
        "--since last-deployed reads the GitHub deployment records deployer writes, and that failed: {0}"
    )]
    Records(GithubError),
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
            Error::Records(e) => e.kind(),
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

/// A service, whether it changed, and the files that matched it.
pub type Verdict = (String, bool, Vec<String>);

/// The outcome, before it is written as outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Every filter with its verdict and the files that matched it.
    pub services: Vec<Verdict>,
    pub files: Vec<ChangedFile>,
    pub base: Option<String>,
    pub head: Option<String>,
    pub reason: String,
    pub skipped: bool,
    pub deploy_all: bool,
    /// Each service's base, in the order of `services` (empty when nothing was compared).
    pub bases: Vec<ServiceBase>,
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

/// Where the bases come from, with what [`detect`] needs to read them.
pub enum BasePlan<'a> {
    /// The event's base for every service.
    Event,
    /// Per service, the commit running in `environment` (GitHub deployment records).
    LastDeployed {
        environment: &'a str,
        client: &'a Client,
    },
}

fn message_of(resolver: &Resolver, id: Oid) -> Option<String> {
    let commit = resolver.repo().find_commit(id).ok()?;
    Some(String::from_utf8_lossy(commit.message_bytes()).into_owned())
}

/// The markers of this run: skip markers from the head commit (the push payload's
/// `head_commit`, else the commit itself), `[deploy-all]` from every commit of the push
/// (or of `base..head`) and a pull request's title and body.
fn find_markers(
    resolver: &Resolver,
    req: &BaseRequest<'_>,
    base: Option<Oid>,
    head: Oid,
    settings: &MarkerSettings,
) -> Markers {
    let (head_message, mut others): (Option<String>, Vec<String>) = match req.event {
        Some(Event::Push(p)) => (
            p.head_commit
                .as_ref()
                .or_else(|| p.commits.iter().find(|c| c.id == p.after))
                .map(|c| c.message.clone())
                .or_else(|| message_of(resolver, head)),
            p.messages().into_iter().map(str::to_string).collect(),
        ),
        _ => (message_of(resolver, head), Vec::new()),
    };
    if others.is_empty() {
        others = resolver.messages(base, head, 1000);
        if base.is_none() {
            others.truncate(1);
        }
    }
    if let Some(Event::PullRequest { payload, .. }) = req.event {
        others.extend(payload.pull_request.title.iter().cloned());
        others.extend(payload.pull_request.body.iter().cloned());
    }
    markers::scan(
        head_message.as_deref(),
        others.iter().map(String::as_str),
        settings,
    )
}

/// Each service's base under `plan`.
fn service_bases(
    resolver: &mut Resolver,
    names: &[String],
    selection: &Selection,
    plan: &BasePlan<'_>,
) -> Result<Vec<ServiceBase>, Error> {
    let BasePlan::LastDeployed {
        environment,
        client,
    } = plan
    else {
        return Ok(bases::from_event(names, selection));
    };
    let lookups = bases::look_up(client, environment, names).map_err(Error::Records)?;
    Ok(names
        .iter()
        .zip(lookups)
        .map(|(name, lookup)| bases::resolve(resolver, environment, name, lookup, selection))
        .collect())
}

/// The services' files that changed, for the services whose base is `base`.
struct Compared {
    base: Oid,
    files: Vec<ChangedFile>,
    /// Per filter, the files it matched.
    matched: Vec<Vec<String>>,
}

fn compare(
    resolver: &Resolver,
    set: &FilterSet,
    filters: usize,
    base: Oid,
    head: Oid,
) -> Result<Compared, Error> {
    let files = diff::changed_files(resolver.repo(), Some(base), head)?;
    let mut matched: Vec<Vec<String>> = vec![Vec::new(); filters];
    let (mut buf, mut hit, mut any) = (Vec::new(), Vec::new(), vec![false; filters]);
    for f in &files {
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
    Ok(Compared {
        base,
        files,
        matched,
    })
}

/// One diff per distinct base; every service's verdict from its own base's diff (a
/// service without a base counts as changed).
fn verdicts(
    resolver: &Resolver,
    filters: &[(String, Patterns)],
    bases: &[ServiceBase],
    head: Oid,
) -> Result<(Vec<Verdict>, Vec<ChangedFile>), Error> {
    let set = FilterSet::new(filters.iter().map(|(_, f)| f)).map_err(|source| Error::Glob {
        name: "*".into(),
        source,
    })?;
    let mut compared: Vec<Compared> = Vec::new();
    for base in bases.iter().filter_map(|b| b.base) {
        if !compared.iter().any(|c| c.base == base) {
            compared.push(compare(resolver, &set, filters.len(), base, head)?);
        }
    }
    let services = filters
        .iter()
        .zip(bases)
        .enumerate()
        .map(|(i, ((name, _), b))| {
            match b.base.and_then(|id| compared.iter().find(|c| c.base == id)) {
                Some(c) => (name.clone(), !c.matched[i].is_empty(), c.matched[i].clone()),
                None => (name.clone(), true, Vec::new()),
            }
        })
        .collect();
    let mut files: Vec<ChangedFile> = Vec::new();
    for f in compared.into_iter().flat_map(|c| c.files) {
        if !files.contains(&f) {
            files.push(f);
        }
    }
    Ok((services, files))
}

/// The `reason` of a `--since last-deployed` run: every service's clause.
fn per_service_reason(environment: &str, names: &[String], bases: &[ServiceBase]) -> String {
    let clauses: Vec<String> = names
        .iter()
        .zip(bases)
        .map(|(name, b)| format!("{name} {}", b.reason))
        .collect();
    format!(
        "comparing each service with its last successful deployment to {environment}: {}",
        clauses.join("; ")
    )
}

/// Computes the outcome (no output is written).
pub fn detect(
    repo_dir: &Path,
    filters: &[(String, Patterns)],
    marker_settings: &MarkerSettings,
    req: &BaseRequest<'_>,
    plan: &BasePlan<'_>,
) -> Result<(Outcome, Vec<String>), Error> {
    let mut resolver = Resolver::open(repo_dir)?;
    let selection = resolver.select(req)?;
    let names: Vec<String> = filters.iter().map(|(n, _)| n.clone()).collect();
    let all = |changed: bool| -> Vec<Verdict> {
        names
            .iter()
            .map(|n| (n.clone(), changed, Vec::new()))
            .collect()
    };
    let (event_base, head) = match &selection {
        Selection::Diff { base, head, .. } => (Some(*base), Some(*head)),
        Selection::All { head, .. } => (None, *head),
        Selection::Nothing { .. } => (None, None),
    };
    let mut outcome = Outcome {
        services: all(false),
        files: Vec::new(),
        base: event_base.map(|b| b.to_string()),
        head: head.map(|h| h.to_string()),
        reason: selection.reason().to_string(),
        skipped: false,
        deploy_all: false,
        bases: Vec::new(),
    };
    let Some(head) = head else {
        return Ok((outcome, resolver.notes));
    };
    let found = find_markers(&resolver, req, event_base, head, marker_settings);
    if let Some(hit) = found.skip.filter(|_| honours_skip(req.event)) {
        outcome.skipped = true;
        outcome.reason = format!(
            "skipped: the head commit \"{}\" carries `{}`",
            hit.subject, hit.marker
        );
        outcome.bases = bases::from_event(&names, &selection);
        return Ok((outcome, resolver.notes));
    }
    let bases = service_bases(&mut resolver, &names, &selection, plan)?;
    let (services, files) = verdicts(&resolver, filters, &bases, head)?;
    // One `base` output when every service has the same one.
    outcome.base = match bases.first().and_then(|b| b.base) {
        Some(first) if bases.iter().all(|b| b.base == Some(first)) => Some(first.to_string()),
        _ => None,
    };
    if let BasePlan::LastDeployed { environment, .. } = plan {
        outcome.reason = per_service_reason(environment, &names, &bases);
    }
    outcome.services = services;
    outcome.files = files;
    outcome.bases = bases;
    if let Some(hit) = found.deploy_all {
        outcome.deploy_all = true;
        outcome.services = all(true);
        outcome.reason = format!(
            "commit \"{}\" carries `{}`: every service counts as changed",
            hit.subject, hit.marker
        );
    }
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
    let flags: [(&'static str, &Option<String>, &'static str); 6] = [
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
        (
            "--environment",
            &args.environment,
            "only read with --since last-deployed",
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

/// The GitHub client and environment of `--since last-deployed`, after checking that
/// the flags agree.
fn records_source(args: &Args) -> Result<Option<(Client, String)>, Error> {
    let environment = args
        .environment
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    match (args.since, environment) {
        (Since::Event, None) => Ok(None),
        (Since::Event, Some(_)) => Err(Error::EnvironmentNeedsSince),
        (Since::LastDeployed, None) => Err(Error::SinceNeedsEnvironment),
        (Since::LastDeployed, Some(environment)) => {
            if args.base.is_some() {
                return Err(Error::SinceConflict { flag: "--base" });
            }
            if args.last_deployed_sha.is_some() {
                return Err(Error::SinceConflict {
                    flag: "--last-deployed-sha",
                });
            }
            let client = Client::from_env(None).map_err(Error::Records)?;
            Ok(Some((client, environment.to_string())))
        }
    }
}

/// The `bases` output: per service its base SHA (empty: counts as changed without a
/// diff), where it came from, the deployment it was read from and why.
pub fn bases_json(outcome: &Outcome) -> String {
    let map: serde_json::Map<String, serde_json::Value> = outcome
        .services
        .iter()
        .zip(&outcome.bases)
        .map(|((name, _, _), b)| {
            let value = serde_json::json!({
                "base": b.base.map(|id| id.to_string()).unwrap_or_default(),
                "source": b.source,
                "deployment-id": b.deployment_id,
                "reason": b.reason,
            });
            (name.clone(), value)
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn base_cell(b: Option<&ServiceBase>) -> String {
    match b {
        Some(ServiceBase {
            base: Some(id),
            deployment_id: Some(d),
            ..
        }) => format!("`{}` (deployment {d})", &id.to_string()[..12]),
        Some(ServiceBase { base: Some(id), .. }) => format!("`{}`", &id.to_string()[..12]),
        Some(b) => escape_cell(&b.reason),
        None => String::new(),
    }
}

pub fn run(args: &Args, runtime: &mut Runtime) -> Result<(), Error> {
    check_not_blank(args)?;
    let records = records_source(args)?;
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
        let plan = match &records {
            Some((client, environment)) => BasePlan::LastDeployed {
                environment,
                client,
            },
            None => BasePlan::Event,
        };
        let (outcome, notes) = detect(&args.repo, &loaded.filters, &loaded.markers, &req, &plan)?;
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
    runtime.set_output("bases", bases_json(&outcome))?;
    if let Some(unread) = outcome
        .bases
        .iter()
        .find(|b| b.source == bases::Source::RecordsUnreadable)
    {
        runtime.warning(
            &unread.reason,
            &Annotation::titled("detect-changes: deployment records not read"),
        );
    }
    runtime.set_output("skipped", if outcome.skipped { "true" } else { "false" })?;
    runtime.set_output(
        "deploy-all",
        if outcome.deploy_all { "true" } else { "false" },
    )?;

    let mut table = Table::new(["service", "changed", "base", "matching files"]);
    for (i, (name, is_changed, matched)) in outcome.services.iter().enumerate() {
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
            base_cell(outcome.bases.get(i)),
            format!("{}{more}", shown.join(", ")),
        ]);
    }
    let per_service = outcome
        .bases
        .iter()
        .any(|b| b.source != bases::Source::Event);
    let range = match (&outcome.base, &outcome.head) {
        (Some(b), Some(h)) => format!("`{}..{}`", &b[..b.len().min(12)], &h[..h.len().min(12)]),
        (None, Some(h)) if per_service => {
            format!(
                "each service's base (below) with `{}`",
                &h[..h.len().min(12)]
            )
        }
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
