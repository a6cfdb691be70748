//! `semver-release`: compute the next semantic version from Conventional Commits, tag
//! and release.
//!
//! Reads the highest SemVer tag reachable from HEAD (see [`deployer_git::version`]),
//! walks the commits since, and decides. With `--create-tag` it makes an annotated tag
//! and pushes it with `git push origin <tag>`; with `--github-release` it creates the
//! tag ref and a GitHub release (pre-release flag for pre-releases) through the REST API
//! (`GITHUB_API_URL`, `GITHUB_TOKEN`). Both are idempotent: an existing tag at HEAD or
//! an existing release is reused. It refuses to tag from a pull request event or when
//! the branch is behind its remote, and fails loudly on a shallow clone that lacks the
//! history/tags needed.
//!
//! Outputs: `version`, `previous-version`, `tag`, `decision` (`release`,
//! `already-released` or `nothing-to-release`, also in `--dry-run`) and `reason` (why, in
//! one sentence), `released` (HEAD is a release: newly computed, or already tagged on a
//! re-run; false with no releasable change, in `--dry-run` and on a pull request event),
//! `created` (this run created the tag or release), `prerelease`, `image-tags` (one per
//! line) and `image-tags-json`, `changelog`, `release-url`.

use std::path::{Path, PathBuf};

use deployer_core::cli::CommonArgs;
use deployer_core::event::{self, Event};
use deployer_core::runtime::RuntimeError;
use deployer_core::{Classify, ErrorKind, Runtime};
use deployer_git::changelog;
use deployer_git::glob::{GlobError, PathFilter};
use deployer_git::version::{
    self, Decision, NonConventional, Plan, ReleaseCommit, ReleaseSettings, VersionError,
};
use deployer_git::{GitError, git_cli, tags};
use deployer_github::{Client, GithubError, NewRelease, TagRefOutcome};
use semver::Version;

/// Every step output this binary sets (`$GITHUB_OUTPUT`). actions/semver-release/action.yml
/// declares exactly these; deployer-action-tests checks both that and that every
/// `set_output` name in this crate is listed here.
pub const OUTPUTS: &[&str] = &[
    "version",
    "previous-version",
    "tag",
    "decision",
    "reason",
    "released",
    "created",
    "prerelease",
    "image-tags",
    "image-tags-json",
    "changelog",
    "changelog-path",
    "release-url",
];

/// Compute the next semantic version from Conventional Commits, tag and release.
#[derive(Debug, clap::Parser)]
#[command(
    name = "semver-release",
    version,
    about = "Compute the next semantic version from Conventional Commits, tag and release"
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// deployer.yml [default: <repo>/.github/deployer.yml when it exists, else built-in defaults]
    #[arg(long, env = "DEPLOYER_CONFIG")]
    pub config: Option<PathBuf>,

    /// Service to version (monorepo): its `paths` attribute commits, its `tag-prefix` names tags.
    #[arg(long, env = "DEPLOYER_SERVICE")]
    pub service: Option<String>,

    /// Make a pre-release with this label (e.g. `rc` → 1.3.0-rc.1); `true` uses release.prerelease-label.
    #[arg(long, env = "DEPLOYER_PRERELEASE")]
    pub prerelease: Option<String>,

    /// Compute and print only: no tag, no release.
    #[arg(long, env = "DEPLOYER_DRY_RUN")]
    pub dry_run: bool,

    /// Create an annotated tag at HEAD and push it with `git push origin <tag>`.
    #[arg(long, env = "DEPLOYER_CREATE_TAG")]
    pub create_tag: bool,

    /// Create the tag and a GitHub release through the API (needs GITHUB_TOKEN with contents: write).
    #[arg(long, env = "DEPLOYER_GITHUB_RELEASE")]
    pub github_release: bool,

    /// owner/name for the GitHub release [default: $GITHUB_REPOSITORY].
    #[arg(long, env = "DEPLOYER_REPOSITORY")]
    pub repository: Option<String>,

    /// Repository directory.
    #[arg(long, env = "DEPLOYER_REPO", default_value = ".")]
    pub repo: PathBuf,

    /// Commit to release [default: HEAD].
    #[arg(long, env = "DEPLOYER_HEAD")]
    pub head: Option<String>,

    /// Event name [default: $GITHUB_EVENT_NAME].
    #[arg(long, env = "DEPLOYER_EVENT_NAME")]
    pub event_name: Option<String>,

    /// Event payload JSON file [default: $GITHUB_EVENT_PATH].
    #[arg(long, env = "DEPLOYER_EVENT_PATH")]
    pub event_path: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] deployer_config::ConfigError),
    #[error("release.initial-version `{0}` is not a SemVer version (e.g. 0.1.0)")]
    InitialVersion(String),
    #[error("service `{name}` paths: {source}")]
    Glob { name: String, source: GlobError },
    #[error(transparent)]
    Event(#[from] event::EventError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Version(#[from] VersionError),
    #[error(transparent)]
    Github(#[from] GithubError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(
        "refusing to release from a `{0}` event: pull request builds must not create tags or releases. Run semver-release with --dry-run there, and release from a push to the release branch"
    )]
    PullRequest(String),
    #[error(
        "refusing to release: {branch} at {local} is behind origin/{branch} at {remote} (another push landed). Re-run on the newest commit; use a `concurrency:` group for the release job"
    )]
    Behind {
        branch: String,
        local: String,
        remote: String,
    },
    #[error(
        "tag {tag} already exists at {existing}, not at HEAD {head}: refusing to move a release tag"
    )]
    TagConflict {
        tag: String,
        existing: String,
        head: String,
    },
    #[error("cannot start the async runtime: {0}")]
    Async(std::io::Error),
    #[error("cannot write the full changelog to {path}: {source}")]
    ChangelogPath {
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
            Error::Version(e) => e.kind(),
            Error::Github(e) => e.kind(),
            Error::InitialVersion(_) | Error::Glob { .. } | Error::PullRequest(_) => {
                ErrorKind::BadInput
            }
            _ => ErrorKind::Failed,
        }
    }
}

struct Settings {
    release: ReleaseSettings,
    default_label: String,
    filter: Option<PathFilter>,
}

fn load_settings(args: &Args) -> Result<Settings, Error> {
    let explicit = args.config.is_some();
    let path = args
        .config
        .clone()
        .unwrap_or_else(|| args.repo.join(deployer_config::DEFAULT_PATH));
    let config = if explicit || path.exists() || args.service.is_some() {
        Some(deployer_config::load(&path)?)
    } else {
        None
    };
    let Some(config) = config else {
        return Ok(Settings {
            release: ReleaseSettings::default(),
            default_label: "rc".into(),
            filter: None,
        });
    };
    let initial = Version::parse(config.release.initial_version.trim_start_matches('v'))
        .map_err(|_| Error::InitialVersion(config.release.initial_version.clone()))?;
    let non_conventional = match config.release.non_conventional {
        deployer_config::NonConventional::Ignore => NonConventional::Ignore,
        deployer_config::NonConventional::Error => NonConventional::Error,
    };
    let (prefix, filter) = match args.service.as_deref().filter(|s| !s.is_empty()) {
        Some(name) => {
            let service = config.service(name)?;
            let filter = if service.paths.is_empty() {
                None
            } else {
                Some(
                    PathFilter::new(&service.paths).map_err(|source| Error::Glob {
                        name: name.to_string(),
                        source,
                    })?,
                )
            };
            (config.tag_prefix_for(name).to_string(), filter)
        }
        None => (config.release.tag_prefix.clone(), None),
    };
    Ok(Settings {
        release: ReleaseSettings {
            tag_prefix: prefix,
            initial_version: initial,
            non_conventional,
        },
        default_label: config.release.prerelease_label.clone(),
        filter,
    })
}

/// The label to use, if any: `--prerelease rc`, `true` = the configured default, `false`/empty = none.
fn label(arg: Option<&str>, default: &str) -> Option<String> {
    match arg.map(str::trim) {
        None | Some("") | Some("false") => None,
        Some("true") => Some(default.to_string()),
        Some(l) => Some(l.to_string()),
    }
}

/// The changelog section for `plan` (empty when nothing is released).
pub fn changelog_for(plan: &Plan) -> String {
    match &plan.decision {
        Decision::Release { version, .. } | Decision::AlreadyReleased { version, .. } => {
            let entries = plan.commits.iter().map(ReleaseCommit::entry);
            changelog::render_refs(&format!("{}{version}", plan.tag_prefix), entries)
        }
        Decision::NoRelease { .. } => String::new(),
    }
}

/// The most a GitHub release body holds (in characters; bytes are counted here, which is
/// never fewer). The `changelog` output and the summary are held to it as well: a job's
/// outputs are limited to 1 MB in total, and one release's notes should read the same
/// everywhere.
pub const RELEASE_NOTES_LIMIT: usize = 125_000;

/// `changelog` itself when it fits in `limit` bytes; otherwise its first lines, cut at a
/// line boundary, and a last line saying how many changelog entries were left out.
pub fn shorten(mut changelog: String, limit: usize) -> String {
    if changelog.len() <= limit {
        return changelog;
    }
    let note = |left: usize| {
        format!(
            "\n_… and {left} more entries: GitHub holds at most {RELEASE_NOTES_LIMIT} characters of release notes. The full changelog is in the `changelog-path` file of the run that made this release._\n"
        )
    };
    let total = changelog.lines().filter(|l| l.starts_with("- ")).count();
    // The note is at most this long (the count has at most 20 digits).
    let room = limit.saturating_sub(note(0).len() + 20);
    let mut cut = room.min(changelog.len());
    while !changelog.is_char_boundary(cut) {
        cut -= 1;
    }
    let cut = changelog[..cut].rfind('\n').map_or(0, |i| i + 1);
    changelog.truncate(cut);
    let kept = changelog.lines().filter(|l| l.starts_with("- ")).count();
    changelog.push_str(&note(total - kept));
    changelog
}

/// Writes the full changelog where later steps can read it (`$RUNNER_TEMP`, else the
/// system's temporary directory).
fn write_changelog(changelog: &str) -> Result<PathBuf, Error> {
    let dir = std::env::var_os("RUNNER_TEMP")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let path = dir.join(format!("deployer-changelog-{}.md", std::process::id()));
    std::fs::write(&path, changelog).map_err(|source| Error::ChangelogPath {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

fn current_branch(repo: &git2::Repository, event: Option<&Event>) -> Option<String> {
    if let Some(Event::Push(p)) = event
        && let Some(b) = p.branch()
    {
        return Some(b.to_string());
    }
    if let Ok(head) = repo.head()
        && head.is_branch()
        && let Ok(name) = head.shorthand()
    {
        return Some(name.to_string());
    }
    std::env::var("GITHUB_REF_NAME")
        .ok()
        .filter(|v| !v.is_empty())
}

fn check_not_behind(dir: &Path, head: git2::Oid, branch: &str) -> Result<(), Error> {
    let repo = deployer_git::open(dir)?;
    if repo.find_remote("origin").is_err() {
        return Ok(());
    }
    let refspec = format!("+refs/heads/{branch}:refs/remotes/origin/{branch}");
    if git_cli(dir, &["fetch", "--no-tags", "--quiet", "origin", &refspec]).is_err() {
        return Ok(()); // branch not on origin (yet): nothing to be behind
    }
    let repo = deployer_git::open(dir)?;
    let Ok(remote) = repo.refname_to_id(&format!("refs/remotes/origin/{branch}")) else {
        return Ok(());
    };
    if deployer_git::diff::is_ancestor(&repo, remote, head) {
        return Ok(());
    }
    Err(Error::Behind {
        branch: branch.to_string(),
        local: head.to_string(),
        remote: remote.to_string(),
    })
}

/// The commit `tag` points at on origin (annotated tags peeled), `None` when absent.
fn remote_tag_commit(dir: &Path, tag: &str) -> Result<Option<String>, Error> {
    let out = git_cli(
        dir,
        &[
            "ls-remote",
            "origin",
            &format!("refs/tags/{tag}"),
            &format!("refs/tags/{tag}^{{}}"),
        ],
    )?;
    let mut plain = None;
    let mut peeled = None;
    for line in out.lines() {
        let mut parts = line.split_whitespace();
        let (Some(sha), Some(name)) = (parts.next(), parts.next()) else {
            continue;
        };
        if name == format!("refs/tags/{tag}^{{}}") {
            peeled = Some(sha.to_string());
        } else if name == format!("refs/tags/{tag}") {
            plain = Some(sha.to_string());
        }
    }
    Ok(peeled.or(plain))
}

/// What `--create-tag` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct TagOutcome {
    /// This run made the tag, in the local repository or on origin.
    created: bool,
    /// There is no `origin` remote: the tag exists only in this repository.
    local_only: bool,
}

/// Creates an annotated tag at `head` (or accepts an existing one there) and pushes it.
fn create_and_push_tag(
    dir: &Path,
    tag: &str,
    head: git2::Oid,
    message: &str,
) -> Result<TagOutcome, Error> {
    let repo = deployer_git::open(dir)?;
    let mut created = false;
    match repo
        .revparse_single(&format!("refs/tags/{tag}"))
        .and_then(|o| o.peel_to_commit())
    {
        Ok(existing) if existing.id() == head => {}
        Ok(existing) => {
            return Err(Error::TagConflict {
                tag: tag.into(),
                existing: existing.id().to_string(),
                head: head.to_string(),
            });
        }
        Err(_) => {
            let sig = repo
                .signature()
                .or_else(|_| {
                    git2::Signature::now(
                        "github-actions[bot]",
                        "41898282+github-actions[bot]@users.noreply.github.com",
                    )
                })
                .map_err(GitError::git("cannot make a tagger signature"))?;
            let target = repo
                .find_object(head, None)
                .map_err(GitError::git("cannot find HEAD"))?;
            repo.tag(tag, &target, &sig, message, false)
                .map_err(GitError::git(format!("cannot create tag {tag}")))?;
            created = true;
        }
    }
    if repo.find_remote("origin").is_err() {
        return Ok(TagOutcome {
            created,
            local_only: true,
        });
    }
    {
        match remote_tag_commit(dir, tag)? {
            Some(existing) if existing == head.to_string() => {}
            Some(existing) => {
                return Err(Error::TagConflict {
                    tag: tag.into(),
                    existing,
                    head: head.to_string(),
                });
            }
            None => {
                git_cli(
                    dir,
                    &[
                        "push",
                        "--quiet",
                        "origin",
                        &format!("refs/tags/{tag}:refs/tags/{tag}"),
                    ],
                )?;
                created = true;
            }
        }
    }
    Ok(TagOutcome {
        created,
        local_only: false,
    })
}

/// Why this run is not tagging or releasing anything, when it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Preview {
    /// It writes: `--create-tag` or `--github-release`, not a dry run.
    No,
    DryRun,
    /// A pull request build: never a release (it is refused with a write flag).
    PullRequest,
    /// Neither `--create-tag` nor `--github-release`: the version is computed only.
    NotAsked,
}

/// What the run did, for the outputs and the summary.
#[derive(Debug, Default)]
struct Done {
    created: bool,
    /// `--create-tag` made or kept the tag only in this repository (no `origin`).
    local_only: bool,
    release_url: String,
}

/// The `decision` output: what semver-release decided, whether or not it wrote anything.
pub fn decision_name(decision: &Decision) -> &'static str {
    match decision {
        Decision::Release { .. } => "release",
        Decision::AlreadyReleased { .. } => "already-released",
        Decision::NoRelease { .. } => "nothing-to-release",
    }
}

/// The `reason` output: why the decision is what it is, in one sentence.
pub fn reason(plan: &Plan) -> String {
    let tag = |v: &Version| format!("`{}{v}`", plan.tag_prefix);
    let since = plan.last_final.as_ref().map_or_else(
        || "the start of history".to_string(),
        |t| format!("`{}`", t.name),
    );
    match &plan.decision {
        Decision::AlreadyReleased { version, .. } => {
            format!("HEAD is already tagged {} (a re-run)", tag(version))
        }
        Decision::NoRelease { .. } => format!(
            "none of the {} conventional commit(s) since {since} bumps the version ({} not conventional, ignored)",
            plan.conventional,
            plan.ignored.len()
        ),
        Decision::Release { version, .. } => {
            if let Some(c) = plan.commits.iter().find(|c| c.release_as.is_some()) {
                return format!(
                    "commit {} asks for {} with `Release-As: {}`",
                    c.short(),
                    tag(version),
                    c.release_as.as_deref().unwrap_or_default()
                );
            }
            let strongest = plan.commits.iter().max_by_key(|c| c.bump());
            match strongest {
                Some(c) => format!(
                    "{} commit(s) since {since} change the release; the strongest, {} `{}`, asks for a {} bump",
                    plan.commits.len(),
                    c.short(),
                    c.subject(),
                    bump_name(c.bump())
                ),
                None => format!("the next version after {since} is {}", tag(version)),
            }
        }
    }
}

fn bump_name(bump: deployer_git::conventional::Bump) -> &'static str {
    use deployer_git::conventional::Bump;
    match bump {
        Bump::Major => "major (breaking)",
        Bump::Minor => "minor",
        Bump::Patch => "patch",
        Bump::None => "no",
    }
}

fn computed_plan(
    args: &Args,
    runtime: &Runtime,
    settings: &Settings,
    label: Option<&str>,
) -> Result<(git2::Repository, Plan), Error> {
    let repo = deployer_git::open(&args.repo)?;
    let head_rev = args
        .head
        .as_deref()
        .filter(|h| !h.is_empty())
        .unwrap_or("HEAD");
    let head = version::resolve(&repo, head_rev)?;
    let plan = {
        let _g = runtime.group("Computing the next version");
        version::plan(
            &repo,
            head,
            &settings.release,
            settings.filter.as_ref(),
            label,
        )?
    };
    if !plan.ignored.is_empty() {
        runtime.say(format!(
            "ignored {} commit(s) that are not Conventional Commits:\n{}",
            plan.ignored.len(),
            version::listing(&plan.ignored)
        ));
    }
    Ok((repo, plan))
}

/// The release notes, shortened to what GitHub holds, and the file with all of them.
fn notes(plan: &Plan, runtime: &Runtime) -> Result<(String, String), Error> {
    let notes = changelog_for(plan);
    let notes_path = if notes.is_empty() {
        String::new()
    } else {
        write_changelog(&notes)?.display().to_string()
    };
    if notes.len() > RELEASE_NOTES_LIMIT {
        let full_entries = notes.lines().filter(|l| l.starts_with("- ")).count();
        runtime.say(format!(
            "the changelog has {full_entries} entries, more than a GitHub release holds: the release notes, the `changelog` output and the summary show the first ones; all are in {notes_path} (`changelog-path` output)"
        ));
    }
    Ok((shorten(notes, RELEASE_NOTES_LIMIT), notes_path))
}

/// Tags and/or creates the GitHub release for `tag` at `head`.
fn write_release(
    args: &Args,
    runtime: &Runtime,
    repo: &git2::Repository,
    event: Option<&Event>,
    (tag, version, head): (&str, &Version, git2::Oid),
    notes: &str,
) -> Result<Done, Error> {
    let mut done = Done::default();
    if let Some(branch) = current_branch(repo, event) {
        check_not_behind(&args.repo, head, &branch)?;
    }
    if args.create_tag {
        let _g = runtime.group(&format!("Tagging {tag}"));
        let outcome = create_and_push_tag(&args.repo, tag, head, &format!("Release {tag}"))?;
        done.created |= outcome.created;
        done.local_only = outcome.local_only;
        if outcome.local_only {
            runtime.say(format!(
                "tag {tag} is in this repository only: it was not pushed, because the repository has no `origin` remote. Push it with `git push <remote> {tag}`"
            ));
        }
    }
    if args.github_release {
        let _g = runtime.group(&format!("GitHub release {tag}"));
        let client = Client::from_env(args.repository.as_deref().filter(|r| !r.is_empty()))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::Async)?;
        let release = NewRelease {
            tag: tag.to_string(),
            target_sha: head.to_string(),
            name: tag.to_string(),
            body: notes.to_string(),
            prerelease: !version.pre.is_empty(),
        };
        let (release, made) = rt.block_on(async {
            if client.create_tag_ref(tag, &head.to_string()).await? == TagRefOutcome::Created {
                runtime.say(format!("created tag {tag} on GitHub"));
            }
            client.ensure_release(&release).await
        })?;
        done.created |= made;
        done.local_only = false;
        runtime.say(if made {
            format!("created release {}", release.html_url)
        } else {
            format!("release exists: {}", release.html_url)
        });
        done.release_url = release.html_url;
    }
    Ok(done)
}

pub fn run(args: &Args, runtime: &mut Runtime) -> Result<(), Error> {
    // Secrets first: the token is masked before anything could print it.
    if args.github_release
        && let Ok(token) = std::env::var("GITHUB_TOKEN")
    {
        deployer_core::mask::add(&token);
    }
    let settings = load_settings(args)?;
    let event = event::load_with_overrides(args.event_name.as_deref(), args.event_path.as_deref())?;
    let label = label(args.prerelease.as_deref(), &settings.default_label);
    let (repo, plan) = computed_plan(args, runtime, &settings, label.as_deref())?;
    let version = match &plan.decision {
        Decision::Release { version, .. } | Decision::AlreadyReleased { version, .. } => {
            Some(version.clone())
        }
        Decision::NoRelease { .. } => None,
    };
    let tag = version.as_ref().map(|v| format!("{}{v}", plan.tag_prefix));
    let (notes, notes_path) = notes(&plan, runtime)?;
    let pull_request = event.as_ref().filter(|e| e.is_pull_request());
    let preview = if args.dry_run {
        Preview::DryRun
    } else if let Some(e) = pull_request {
        if (args.create_tag || args.github_release) && version.is_some() {
            return Err(Error::PullRequest(e.name().to_string()));
        }
        Preview::PullRequest
    } else if args.create_tag || args.github_release {
        Preview::No
    } else {
        Preview::NotAsked
    };
    let done = match (&tag, &version, preview) {
        (Some(tag), Some(v), Preview::No) => write_release(
            args,
            runtime,
            &repo,
            event.as_ref(),
            (tag, v, plan.head),
            &notes,
        )?,
        _ => Done::default(),
    };
    // A preview releases nothing: `released` says what this run stands for, and a dry
    // run or a pull request build stands for no release (its image tag is `dev-<sha>`).
    let released = version.is_some() && matches!(preview, Preview::No | Preview::NotAsked);
    report(
        runtime,
        &plan,
        Report {
            version: version.as_ref(),
            tag: tag.as_deref(),
            released,
            preview,
            done: &done,
            notes: &notes,
            notes_path,
        },
    )
}

/// Everything [`report`] prints.
struct Report<'a> {
    version: Option<&'a Version>,
    tag: Option<&'a str>,
    released: bool,
    preview: Preview,
    done: &'a Done,
    notes: &'a str,
    notes_path: String,
}

/// Sets the outputs and writes the summary.
fn report(runtime: &mut Runtime, plan: &Plan, r: Report<'_>) -> Result<(), Error> {
    let previous = match &plan.decision {
        Decision::Release { previous, .. } | Decision::AlreadyReleased { previous, .. } => {
            previous.clone()
        }
        Decision::NoRelease { current } => current.clone(),
    };
    let image_tags = tags::image_tags(
        if r.released { r.version } else { None },
        &plan.head.to_string(),
    );
    let previous_text = previous
        .as_ref()
        .map(Version::to_string)
        .unwrap_or_default();
    runtime.set_output(
        "version",
        r.version
            .map(Version::to_string)
            .unwrap_or_else(|| previous_text.clone()),
    )?;
    runtime.set_output("previous-version", previous_text)?;
    runtime.set_output(
        "tag",
        r.tag.map(str::to_string).unwrap_or_else(|| {
            previous
                .as_ref()
                .map(|p| format!("{}{p}", plan.tag_prefix))
                .unwrap_or_default()
        }),
    )?;
    runtime.set_output("decision", decision_name(&plan.decision))?;
    let why = reason(plan);
    runtime.set_output("reason", why.clone())?;
    runtime.set_output("released", r.released.to_string())?;
    runtime.set_output("created", r.done.created.to_string())?;
    runtime.set_output(
        "prerelease",
        r.version.is_some_and(|v| !v.pre.is_empty()).to_string(),
    )?;
    runtime.set_output("image-tags", image_tags.join("\n"))?;
    runtime.set_output(
        "image-tags-json",
        serde_json::to_string(&image_tags).unwrap_or_else(|_| "[]".into()),
    )?;
    runtime.set_output("changelog", r.notes.to_string())?;
    runtime.set_output("changelog-path", r.notes_path)?;
    runtime.set_output("release-url", r.done.release_url.clone())?;

    let headline = headline(plan, r.preview, r.done);
    runtime.say(format!("{} Why: {why}.", headline.replace("**", "")));
    let mut summary = format!(
        "### semver-release\n\n{headline}\n\nWhy: {why}.\n\nImage tags: {}\n",
        image_tags
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !r.done.release_url.is_empty() {
        summary.push_str(&format!("\nRelease: {}\n", r.done.release_url));
    }
    if !r.notes.is_empty() {
        summary.push('\n');
        summary.push_str(
            &r.notes
                .replacen("## ", "#### ", 1)
                .replace("\n### ", "\n##### "),
        );
    }
    runtime.summary(&summary)?;
    Ok(())
}

/// One sentence that says what really happened: a release is "Released" only when this
/// run tagged or released it (or found it done), never for a preview.
fn headline(plan: &Plan, preview: Preview, done: &Done) -> String {
    let p = &plan.tag_prefix;
    match (&plan.decision, preview) {
        (Decision::Release { version, .. }, Preview::DryRun) => {
            format!("Next version would be **{p}{version}** (dry run).")
        }
        (Decision::Release { version, .. }, Preview::PullRequest) => format!(
            "Next version would be **{p}{version}** (pull request build: nothing is tagged or released; release from a push to the release branch)."
        ),
        (Decision::Release { version, .. }, Preview::NotAsked) => format!(
            "Next version is **{p}{version}**; not tagged (pass --create-tag or --github-release to tag and release it)."
        ),
        (Decision::Release { version, .. }, Preview::No) if done.local_only => format!(
            "Tagged **{p}{version}** in this repository only (not pushed: there is no `origin` remote)."
        ),
        (Decision::Release { version, .. }, Preview::No) => format!("Released **{p}{version}**."),
        (Decision::AlreadyReleased { version, .. }, _) => {
            format!("HEAD is already released as **{p}{version}**.")
        }
        (Decision::NoRelease { current }, _) => format!(
            "No releasable change since {} (only commits that do not bump the version).",
            current
                .as_ref()
                .map(|c| format!("{p}{c}"))
                .unwrap_or_else(|| "the start of history".into())
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_cuts_whole_lines_and_counts_what_it_left_out() {
        let text: String = std::iter::once("## v2.0.0\n\n### Bug fixes\n\n".to_string())
            .chain((0..100).map(|n| format!("- répare {n} é (abcdef{n})\n")))
            .collect();
        assert_eq!(shorten(text.clone(), text.len()), text);
        let short = shorten(text.clone(), 600);
        assert!(short.len() <= 600, "{}", short.len());
        let (head, note) = short.split_once("\n_… and ").expect("note");
        assert!(text.starts_with(head) && head.ends_with(")\n"), "{head}");
        let kept = head.lines().filter(|l| l.starts_with("- ")).count();
        assert!(kept > 0);
        assert!(
            note.starts_with(&format!("{} more entries", 100 - kept)),
            "{note}"
        );
        // A limit smaller than the note keeps no entry and never panics.
        assert!(shorten(text, 10).contains("100 more entries"));
    }
}
