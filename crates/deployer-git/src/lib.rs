//! Git plumbing shared by `detect-changes` and `semver-release`.
//!
//! Every module is "data in, data out" where it can be (the shape of release-plz's
//! `next_version`): [`glob`], [`markers`], [`conventional`], [`version::next_version`],
//! [`changelog`] and [`tags`] are pure functions; [`diff`], [`base`] and
//! [`version::collect`] read a repository with `git2` and shell out to the `git` CLI
//! only to fetch missing objects into a shallow clone (libgit2 cannot deepen one).
//! [`diff`] reads the trees it compares, and [`walk`] the commits of a release's
//! history, through gitoxide's object store, which reads an object in less than half
//! libgit2's time.

pub mod base;
pub mod changelog;
pub mod conventional;
pub mod diff;
pub mod glob;
pub mod markers;
pub mod tags;
pub mod version;
pub mod walk;

use deployer_core::{Classify, ErrorKind};

/// Errors from repository access.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(
        "cannot open the git repository at {path}: {source}. Run the command inside a checkout (actions/checkout) or pass --repo"
    )]
    Open { path: String, source: git2::Error },
    #[error("{what}: {source}")]
    Git { what: String, source: git2::Error },
    /// From gitoxide's object store (the trees compared by [`diff::changed_files`]).
    #[error("{what}: {source}")]
    Objects {
        what: String,
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    #[error("{0}")]
    BadRevision(String),
    /// HEAD is unborn: `git init` and nothing committed yet.
    #[error(
        "the repository at {path} has no commits yet, so there is nothing to look at. Commit first, or point --repo at the checkout that has the history"
    )]
    NoCommits { path: String },
    #[error("`git {args}` failed: {message}")]
    Cli { args: String, message: String },
    /// Objects a diff needs are absent and no remote promises them.
    #[error(
        "{count} object(s) this diff needs are not in the repository (the first: {first}), and this is not a partial clone that could fetch them (no remote.<name>.promisor). Clone again without --filter, or keep the promisor remote the partial clone was made with"
    )]
    Missing { count: usize, first: String },
}

impl GitError {
    /// A `map_err` adapter: `.map_err(GitError::git("cannot read HEAD"))`.
    pub fn git(what: impl Into<String>) -> impl FnOnce(git2::Error) -> GitError {
        let what = what.into();
        move |source| GitError::Git { what, source }
    }
}

impl Classify for GitError {
    fn kind(&self) -> ErrorKind {
        match self {
            GitError::BadRevision(_) | GitError::NoCommits { .. } => ErrorKind::BadInput,
            _ => ErrorKind::Failed,
        }
    }
}

/// Opens the repository at `path` (searching upward like git does).
pub fn open(path: &std::path::Path) -> Result<git2::Repository, GitError> {
    // git itself does not re-hash objects it reads; libgit2 does by default (SHA-1DC).
    git2::opts::strict_hash_verification(false);
    // Nothing here writes objects to a repository but the in-memory trees of rename
    // detection, whose entries are blobs the diff has just listed: checking that each
    // exists would resolve its pack header, delta chain and all, for nothing.
    git2::opts::strict_object_creation(false);
    limit_memory();
    git2::Repository::discover(path).map_err(|source| GitError::Open {
        path: path.display().to_string(),
        source,
    })
}

/// Pack window size: small windows, so that only the parts of a pack that are read are
/// mapped (libgit2 maps 1 GiB windows by default on 64-bit; every page read through a
/// mapping counts towards the process's resident set).
pub const PACK_WINDOW: usize = 128 << 10;
/// Mapped pack data kept at once; older windows are unmapped beyond it.
pub const PACK_MAPPED_LIMIT: usize = 2 << 20;

/// Bounds libgit2's memory, once per process, before the first repository is opened.
fn limit_memory() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: these only change global limits read when packs are mapped; `Once` runs
        // this before any repository of this process is opened through `open`, and the
        // values never change afterwards.
        unsafe {
            let _ = git2::opts::set_mwindow_size(PACK_WINDOW);
            let _ = git2::opts::set_mwindow_mapped_limit(PACK_MAPPED_LIMIT);
        }
        // The object cache (256 MiB by default) pays off only for objects read twice; the
        // tree comparison and the history walk read each object once.
        git2::opts::enable_caching(false);
    });
}

/// Where the git CLI runs for `repo`: its work tree, or the repository itself when bare.
pub(crate) fn cli_dir(repo: &git2::Repository) -> std::path::PathBuf {
    repo.workdir().unwrap_or(repo.path()).to_path_buf()
}

/// Runs the git CLI in `dir`; returns stdout on success.
pub fn git_cli(dir: &std::path::Path, args: &[&str]) -> Result<String, GitError> {
    tracing::debug!("git {}", args.join(" "));
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| GitError::Cli {
            args: args.join(" "),
            message: format!("cannot run git: {e}"),
        })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(GitError::Cli {
            args: args.join(" "),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

#[cfg(feature = "testing")]
pub mod testing;
