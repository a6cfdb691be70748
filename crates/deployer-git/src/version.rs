//! Next version from Conventional Commits and SemVer tags.
//!
//! [`next_version`] is a pure function (data in, data out). [`plan`] gathers its input
//! from a repository: version tags with an **anchored** prefix (`api-v` never matches
//! `api-gateway-v1.0.0`, because the rest must parse as SemVer), annotated tags peeled
//! to their commit, the highest *final* tag reachable from HEAD, and one revwalk from
//! HEAD down to that tag.
//!
//! Policy:
//! * breaking → major, `feat` → minor, `fix`/`perf`/`revert` → patch, others nothing;
//! * on 0.x: breaking → minor, feat → patch, fix → patch (never an automatic 1.0.0;
//!   use `Release-As: 1.0.0`);
//! * no tag yet → the configured initial version (default 0.1.0) when anything is
//!   releasable;
//! * `Release-As: x.y.z` (newest commit wins) overrides the computed version;
//! * merge commits are skipped (the commits they bring in are walked themselves);
//!   a revert whose reverted commit is also unreleased cancels both;
//! * pre-releases `X.Y.Z-<label>.N`: the base is computed from the changes since the
//!   last **final** release, N = 1 + the highest existing `X.Y.Z-<label>.N` tag (any
//!   branch), so a bigger bump re-bases to a new `.1`; a pre-release of an already
//!   released base is refused; releasing without a label graduates to `X.Y.Z`.

use std::collections::HashSet;
use std::path::Path;

use git2::{Oid, Repository, Sort};
use semver::{Prerelease, Version};

use crate::changelog::EntryRef;
use crate::conventional::{self, Bump, ConventionalCommit};
use crate::glob::PathFilter;
use crate::tags::SHORT_SHA_LEN;
use crate::{GitError, diff, walk};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NonConventional {
    /// Skip commits that are not Conventional Commits (default).
    #[default]
    Ignore,
    /// Fail the release when one is found.
    Error,
}

/// Release settings (mirrors `deployer.yml`'s `release:` block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseSettings {
    pub tag_prefix: String,
    pub initial_version: Version,
    pub non_conventional: NonConventional,
}

impl Default for ReleaseSettings {
    fn default() -> Self {
        ReleaseSettings {
            tag_prefix: "v".into(),
            initial_version: Version::new(0, 1, 0),
            non_conventional: NonConventional::Ignore,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(
        "this is a shallow clone and the history from HEAD back to the last `{prefix}` release tag is not all here{detail}, so the next version cannot be computed (it would wrongly start again at the initial version). Fix: check out with full history and tags, e.g. `actions/checkout` with `fetch-depth: 0`"
    )]
    ShallowHistory { prefix: String, detail: String },
    #[error(
        "HEAD is already released as `{tag}` (this is a re-run), but this shallow clone lacks the history back to {previous} that the release's changelog is made from. Fix: check out with full history and tags, e.g. `actions/checkout` with `fetch-depth: 0`"
    )]
    ShallowRerun { tag: String, previous: String },
    #[error(
        "commit {sha} has `Release-As: {value}`, which is not a SemVer version (e.g. `Release-As: 1.0.0`)"
    )]
    BadReleaseAs { sha: String, value: String },
    #[error(
        "commit {sha} has `Release-As: {requested}`, but {current} is already released; Release-As must name a higher version"
    )]
    ReleaseAsNotHigher {
        sha: String,
        requested: Version,
        current: Version,
    },
    #[error(
        "cannot make a pre-release of {base}: {base} is already released (tag `{tag}`). Release a higher version or drop the pre-release label"
    )]
    PrereleaseBaseReleased { base: Version, tag: String },
    #[error(
        "the next version is {version}, but tag `{tag}` already exists and is not reachable from HEAD (released from another branch?). Merge that branch, or force a version with a `Release-As:` footer"
    )]
    TagElsewhere { version: Version, tag: String },
    #[error(
        "`{label}` is not a valid pre-release label: use letters, digits and `-` (e.g. `rc`, `beta`)"
    )]
    BadLabel { label: String },
    #[error(
        "release.non-conventional is `error` and these commits are not Conventional Commits:\n{list}\nReword them (`type(scope): description`) or set release.non-conventional: ignore"
    )]
    NonConventional { list: String },
}

impl deployer_core::Classify for VersionError {
    fn kind(&self) -> deployer_core::ErrorKind {
        use deployer_core::ErrorKind::*;
        match self {
            VersionError::Git(e) => e.kind(),
            VersionError::BadReleaseAs { .. } | VersionError::BadLabel { .. } => BadInput,
            _ => Failed,
        }
    }
}

/// Strips an anchored prefix and parses the rest as SemVer (`None` for foreign tags).
pub fn parse_tag(name: &str, prefix: &str) -> Option<Version> {
    let rest = name.strip_prefix(prefix)?;
    // SemVer starts with a digit; this keeps `api-v` from matching `api-vnext-1.0.0`.
    if !rest.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Version::parse(rest).ok()
}

/// Applies `bump` with the 0.x policy (breaking → minor, feature → patch).
pub fn bump_version(current: &Version, bump: Bump) -> Version {
    let (major, minor, patch) = (current.major, current.minor, current.patch);
    match (major, bump) {
        (_, Bump::None) => Version::new(major, minor, patch),
        (0, Bump::Major) => Version::new(0, minor + 1, 0),
        (0, _) => Version::new(0, minor, patch + 1),
        (_, Bump::Major) => Version::new(major + 1, 0, 0),
        (_, Bump::Minor) => Version::new(major, minor + 1, 0),
        (_, Bump::Patch) => Version::new(major, minor, patch + 1),
    }
}

fn check_label(label: &str) -> Result<(), VersionError> {
    let ok = !label.is_empty()
        && label.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && !label.chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(VersionError::BadLabel {
            label: label.to_string(),
        })
    }
}

/// The counter of `version` when it is `<base>-<label>.N`.
fn pre_counter(version: &Version, base: &Version, label: &str) -> Option<u64> {
    if (version.major, version.minor, version.patch) != (base.major, base.minor, base.patch) {
        return None;
    }
    version
        .pre
        .as_str()
        .strip_prefix(label)?
        .strip_prefix('.')?
        .parse()
        .ok()
}

fn max_precedence<'a, I: IntoIterator<Item = &'a Version>>(it: I) -> Option<&'a Version> {
    it.into_iter().max_by(|a, b| a.cmp_precedence(b))
}

/// Everything [`next_version`] needs.
#[derive(Debug, Clone)]
pub struct VersionInput<'a> {
    /// Highest final (non-pre-release) version reachable from HEAD.
    pub last_final: Option<&'a Version>,
    /// Every version tag with this prefix, reachable or not.
    pub existing: &'a [Version],
    /// Versions tagged on HEAD itself.
    pub head_versions: &'a [Version],
    /// Highest bump of the commits since `last_final`.
    pub bump: Bump,
    /// A `Release-As:` override (already parsed) and the commit that asked for it.
    pub release_as: Option<(&'a Version, &'a str)>,
    pub prerelease: Option<&'a str>,
    pub initial: &'a Version,
    pub tag_prefix: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Release this new version.
    Release {
        version: Version,
        previous: Option<Version>,
    },
    /// HEAD already carries the version this run would release (a re-run).
    AlreadyReleased {
        version: Version,
        previous: Option<Version>,
    },
    /// Nothing releasable since `current`.
    NoRelease { current: Option<Version> },
}

/// The first final version, before any is released: the configured initial version, or
/// the version already being pre-released when that is higher (`v1.0.0-rc.1` exists:
/// the next is 1.0.0, or 1.0.0-rc.2 with the label). Nothing is released yet, so no
/// change can be more than that version: semantic-release does the same on a
/// pre-release channel. Basing on the initial version instead would go *down* from the
/// pre-release (0.1.0 after 1.0.0-rc.1).
fn first_version(initial: &Version, existing: &[Version]) -> Version {
    let cores = existing
        .iter()
        .filter(|v| !v.pre.is_empty())
        .map(|v| Version::new(v.major, v.minor, v.patch));
    std::iter::once(initial.clone())
        .chain(cores)
        .max_by(|a, b| a.cmp_precedence(b))
        .unwrap_or_else(|| initial.clone())
}

/// Decides the next version.
pub fn next_version(input: &VersionInput<'_>) -> Result<Decision, VersionError> {
    if let Some(label) = input.prerelease {
        check_label(label)?;
    }
    let previous_of = |v: &Version| {
        max_precedence(
            input
                .existing
                .iter()
                .filter(|e| e.pre.is_empty() && e.cmp_precedence(v).is_lt()),
        )
        .cloned()
    };
    // A re-run on an already tagged HEAD returns that tag.
    let head_match = match input.prerelease {
        None => max_precedence(input.head_versions.iter().filter(|v| v.pre.is_empty())),
        Some(label) => max_precedence(input.head_versions.iter().filter(|v| {
            v.pre
                .as_str()
                .strip_prefix(label)
                .and_then(|r| r.strip_prefix('.'))
                .is_some_and(|n| n.parse::<u64>().is_ok())
        })),
    };
    if let Some(v) = head_match {
        return Ok(Decision::AlreadyReleased {
            version: v.clone(),
            previous: previous_of(v),
        });
    }
    let base = if let Some((requested, sha)) = input.release_as {
        let requested = Version::new(requested.major, requested.minor, requested.patch);
        if let Some(current) = input.last_final
            && requested.cmp_precedence(current).is_le()
        {
            return Err(VersionError::ReleaseAsNotHigher {
                sha: sha.to_string(),
                requested,
                current: current.clone(),
            });
        }
        requested
    } else if input.bump == Bump::None {
        return Ok(Decision::NoRelease {
            current: input.last_final.cloned(),
        });
    } else {
        match input.last_final {
            None => first_version(input.initial, input.existing),
            Some(current) => bump_version(current, input.bump),
        }
    };
    let final_exists = |v: &Version| {
        input
            .existing
            .iter()
            .any(|e| e.pre.is_empty() && e.cmp_precedence(v).is_eq())
    };
    let version = match input.prerelease {
        Some(label) => {
            if final_exists(&base) {
                return Err(VersionError::PrereleaseBaseReleased {
                    tag: format!("{}{base}", input.tag_prefix),
                    base,
                });
            }
            let n = input
                .existing
                .iter()
                .filter_map(|v| pre_counter(v, &base, label))
                .max()
                .map_or(1, |n| n + 1);
            let mut v = base.clone();
            v.pre =
                Prerelease::new(&format!("{label}.{n}")).map_err(|_| VersionError::BadLabel {
                    label: label.to_string(),
                })?;
            v
        }
        None => {
            if final_exists(&base) {
                return Err(VersionError::TagElsewhere {
                    tag: format!("{}{base}", input.tag_prefix),
                    version: base,
                });
            }
            base
        }
    };
    Ok(Decision::Release {
        version,
        previous: input.last_final.cloned(),
    })
}

/// A version tag in the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionTag {
    pub name: String,
    pub version: Version,
    pub commit: Oid,
}

/// A commit that matters to the release: it bumps the version (and so appears in the
/// changelog), names a version with `Release-As:`, or reverts another commit. Only these
/// are kept, reduced to what the version and the changelog use: a history of 100k
/// commits would otherwise hold every message and parsed body in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseCommit {
    pub id: Oid,
    short: [u8; SHORT_SHA_LEN],
    /// Lower-cased type (`feat`, `fix`, …).
    pub kind: Box<str>,
    pub scope: Option<Box<str>>,
    pub description: Box<str>,
    /// What breaks (the footer's text, or the description when only `!` was used).
    pub breaking: Option<Box<str>>,
    pub release_as: Option<Box<str>>,
    /// For reverts: the SHA named in "This reverts commit <sha>".
    pub reverts: Option<Box<str>>,
    /// A merge commit whose own message is conventional.
    pub merge: bool,
}

impl ReleaseCommit {
    /// What makes two commits the same changelog line: type, scope and description
    /// (without the ` (#12)` GitHub appends to a pull request's title).
    fn line_key(&self) -> (&str, Option<&str>, &str) {
        (
            &self.kind,
            self.scope.as_deref(),
            without_pr_number(&self.description),
        )
    }

    /// True when `self`, a merge, says nothing that a commit it may have brought in does
    /// not: the same changelog line (`lines`: the highest bump per line of the non-merge
    /// commits) with a bump at least as high, and no `Release-As:` or revert of its own.
    /// The bump is a maximum, so dropping such a merge changes only the changelog, where
    /// the change would otherwise be listed twice.
    fn repeated_in(
        &self,
        lines: &std::collections::HashMap<(&str, Option<&str>, &str), Bump>,
    ) -> bool {
        self.release_as.is_none()
            && self.reverts.is_none()
            && lines
                .get(&self.line_key())
                .is_some_and(|&bump| bump >= self.bump())
    }

    /// `None` for commits that do not matter to the release (see the type's doc).
    fn of(id: Oid, commit: ConventionalCommit) -> Option<Self> {
        if commit.bump() == Bump::None && commit.release_as.is_none() && commit.reverts.is_none() {
            return None;
        }
        let breaking = commit.breaking_text().map(Into::into);
        Some(ReleaseCommit {
            id,
            short: short_sha(id),
            kind: commit.kind.into(),
            scope: commit.scope.map(Into::into),
            description: commit.description.into(),
            breaking,
            release_as: commit.release_as.map(Into::into),
            reverts: commit.reverts.map(Into::into),
            merge: false,
        })
    }

    /// The abbreviated SHA shown in logs and changelogs.
    pub fn short(&self) -> &str {
        std::str::from_utf8(&self.short).unwrap_or_default()
    }

    pub fn bump(&self) -> Bump {
        Bump::of(&self.kind, self.breaking.is_some())
    }

    /// This commit's line in the changelog.
    pub fn entry(&self) -> EntryRef<'_> {
        EntryRef {
            short_sha: self.short(),
            kind: &self.kind,
            scope: self.scope.as_deref(),
            description: &self.description,
            breaking: self.breaking.as_deref(),
        }
    }

    /// The header as a changelog reads it: `type(scope): description`.
    pub fn subject(&self) -> String {
        match &self.scope {
            Some(scope) => format!("{}({scope}): {}", self.kind, self.description),
            None => format!("{}: {}", self.kind, self.description),
        }
    }
}

fn short_sha(id: Oid) -> [u8; SHORT_SHA_LEN] {
    let mut short = [b'0'; SHORT_SHA_LEN];
    for (slot, digit) in short.iter_mut().zip(id.to_string().bytes()) {
        *slot = digit;
    }
    short
}

/// A commit whose message is not a Conventional Commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredCommit {
    pub id: Oid,
    /// The first line of the message.
    pub subject: String,
}

impl IgnoredCommit {
    pub fn short(&self) -> String {
        String::from_utf8_lossy(&short_sha(self.id)).into_owned()
    }
}

/// Commits gathered by a walk (newest first), with reverts paired as they are met: a
/// revert is always newer than the commit it reverts, so by the time that commit is
/// walked its revert is already known, and so is whether that revert was itself undone.
#[derive(Debug, Default)]
struct Gathered {
    commits: Vec<ReleaseCommit>,
    /// `cancelled[i]` for `commits[i]`: a revert and the unreleased commit it reverts.
    cancelled: Vec<bool>,
    /// Reverts whose target has not been walked yet: (SHA as written, index in `commits`).
    pending_reverts: Vec<(Box<str>, usize)>,
    conventional: usize,
    ignored: Vec<IgnoredCommit>,
    hit_boundary: bool,
    top_seen: bool,
}

/// What kind of commit [`Gathered::add`] is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parents {
    One,
    /// A merge commit: it counts when its own message is conventional (GitHub's "create
    /// a merge commit" can write the pull request's title, `feat!: new API (#12)`), as it
    /// does for git-cliff, cog and semantic-release; otherwise (`Merge pull request #…`)
    /// it is skipped silently, since the commits it brings in are walked themselves.
    Merge,
}

/// What one commit's message means to the release, whatever the order of the walk:
/// [`Gathered::push`] then pairs reverts in the walk's order.
#[derive(Debug)]
enum Classified {
    /// A merge whose message is not conventional (`Merge pull request #…`).
    Skipped,
    /// Not a Conventional Commit.
    Ignored(IgnoredCommit),
    /// Conventional: what the release keeps of it, when anything (see [`ReleaseCommit`]).
    Conventional(Option<ReleaseCommit>),
}

impl Classified {
    fn of(id: Oid, message: &str, parents: Parents) -> Classified {
        let parsed = match conventional::parse(message) {
            Ok(parsed) => parsed,
            Err(_) if parents == Parents::Merge => return Classified::Skipped,
            Err(_) => {
                return Classified::Ignored(IgnoredCommit {
                    id,
                    subject: message.lines().next().unwrap_or("").to_string(),
                });
            }
        };
        Classified::Conventional(ReleaseCommit::of(id, parsed).map(|mut commit| {
            commit.merge = parents == Parents::Merge;
            commit
        }))
    }
}

impl Gathered {
    fn add(&mut self, id: Oid, message: &str, parents: Parents) {
        self.push(id, Classified::of(id, message, parents));
    }

    /// Adds the next commit of the walk (newest first).
    fn push(&mut self, id: Oid, classified: Classified) {
        let undone = self.undone_by(id);
        let commit = match classified {
            Classified::Skipped => return,
            // A revert of a commit that is not conventional (`Update README`, a
            // `fixup!`) undoes nothing a release would list: both drop out.
            Classified::Ignored(ignored) => {
                self.ignored.push(ignored);
                return;
            }
            Classified::Conventional(commit) => {
                self.conventional += 1;
                match commit {
                    Some(commit) => commit,
                    None => return,
                }
            }
        };
        if let Some(sha) = &commit.reverts {
            self.pending_reverts.push((sha.clone(), self.commits.len()));
        }
        self.commits.push(commit);
        self.cancelled.push(undone);
    }

    /// True when a revert walked before (newer than) `id` undoes it and is not itself
    /// undone; that revert is then cancelled with it. Pairing this way is right in any
    /// nesting: `Revert "Revert "feat: x""` (or git 2.47's `Reapply "feat: x"`) cancels
    /// the first revert, which then cancels nothing, so `feat: x` counts again.
    fn undone_by(&mut self, id: Oid) -> bool {
        let hex = id.to_string();
        let mut undone = false;
        let cancelled = &mut self.cancelled;
        self.pending_reverts.retain(|(sha, revert)| {
            if !hex.starts_with(&**sha) {
                return true;
            }
            if !undone && !cancelled[*revert] {
                cancelled[*revert] = true;
                undone = true;
            }
            false
        });
        undone
    }

    /// The commits that count: cancelled reverts and their targets dropped, and merge
    /// commits whose changelog line a branch commit already gives.
    fn into_walked(self) -> Walked {
        let mut cancelled = self.cancelled.into_iter();
        let mut commits = self.commits;
        commits.retain(|_| !cancelled.next().unwrap_or(false));
        // The highest bump per changelog line among the non-merge commits, so that each
        // merge is checked in one look-up (a history of pull-request-title merges would
        // otherwise compare every merge with every commit).
        let mut lines: std::collections::HashMap<_, Bump> = std::collections::HashMap::new();
        for c in commits.iter().filter(|c| !c.merge) {
            let bump = lines.entry(c.line_key()).or_insert(Bump::None);
            *bump = (*bump).max(c.bump());
        }
        let duplicates: Vec<bool> = commits
            .iter()
            .map(|c| c.merge && c.repeated_in(&lines))
            .collect();
        let mut duplicates = duplicates.into_iter();
        commits.retain(|_| !duplicates.next().unwrap_or(false));
        Walked {
            commits,
            conventional: self.conventional,
            ignored: self.ignored,
            hit_boundary: self.hit_boundary,
            top_seen: self.top_seen,
        }
    }
}

/// A description without the ` (#123)` GitHub appends to a pull request's title.
fn without_pr_number(description: &str) -> &str {
    let trimmed = description.trim_end();
    if let Some(open) = trimmed.rfind(" (#")
        && let Some(number) = trimmed[open + 3..].strip_suffix(')')
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
    {
        return &trimmed[..open];
    }
    trimmed
}

/// The result of [`plan`].
#[derive(Debug, Clone)]
pub struct Plan {
    pub head: Oid,
    pub decision: Decision,
    pub last_final: Option<VersionTag>,
    /// The commits that matter to the release (see [`ReleaseCommit`]), after revert
    /// pairing and path attribution, newest first.
    pub commits: Vec<ReleaseCommit>,
    /// Conventional commits walked since the last release (also those that change
    /// nothing, such as `docs:` and `chore:`).
    pub conventional: usize,
    /// Commits ignored as not conventional (newest first).
    pub ignored: Vec<IgnoredCommit>,
    pub tag_prefix: String,
}

impl Plan {
    /// The version this run stands for (new or already tagged on HEAD).
    pub fn version(&self) -> Option<&Version> {
        match &self.decision {
            Decision::Release { version, .. } | Decision::AlreadyReleased { version, .. } => {
                Some(version)
            }
            Decision::NoRelease { current } => current.as_ref(),
        }
    }

    pub fn tag(&self) -> Option<String> {
        self.version().map(|v| format!("{}{v}", self.tag_prefix))
    }
}

/// Every tag named `<prefix><semver>`, peeled to its commit (tags pointing at trees or
/// missing objects are skipped).
pub fn version_tags(repo: &Repository, prefix: &str) -> Result<Vec<VersionTag>, GitError> {
    version_tags_in(repo, &diff::open_store(repo)?, prefix)
}

fn version_tags_in(
    repo: &Repository,
    store: &gix_odb::Handle,
    prefix: &str,
) -> Result<Vec<VersionTag>, GitError> {
    let mut out = Vec::new();
    let refs = repo
        .references_glob("refs/tags/*")
        .map_err(GitError::git("cannot list tags"))?;
    for reference in refs.flatten() {
        let Some(name) = reference.shorthand().ok().map(str::to_string) else {
            continue;
        };
        let Some(version) = parse_tag(&name, prefix) else {
            continue;
        };
        let Some(commit) = tag_commit(store, &reference) else {
            continue;
        };
        out.push(VersionTag {
            name,
            version,
            commit,
        });
    }
    out.sort_by(|a, b| {
        a.version
            .cmp_precedence(&b.version)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(out)
}

/// Annotated tags nested deeper than this are not followed (git itself stops at none,
/// but a loop of tag objects cannot be written, so this only bounds a corrupt store).
const TAG_DEPTH: usize = 32;

/// The commit a tag names, or `None` (a tag of a tree or a blob, a missing object).
/// packed-refs carries the peeled id of annotated tags (`^<id>` lines, which `git
/// pack-refs`, `git gc` and every clone write): only that object's header is read, not
/// the tag and the commit, which for thousands of tags was most of a release's run.
fn tag_commit(store: &gix_odb::Handle, reference: &git2::Reference<'_>) -> Option<Oid> {
    let Some(mut id) = reference.target_peel().or_else(|| reference.target()) else {
        // A symbolic reference under refs/tags: rare enough for libgit2 to resolve.
        return reference.peel_to_commit().ok().map(|c| c.id());
    };
    let mut data = Vec::new();
    for _ in 0..TAG_DEPTH {
        let key = gix_hash::ObjectId::try_from(id.as_bytes()).ok()?;
        let kind = gix_odb::Header::try_header(store, &key).ok()??.kind();
        if kind.is_commit() {
            return Some(id);
        }
        if !kind.is_tag() {
            return None;
        }
        gix_odb::pack::Find::try_find(store, &key, &mut data).ok()??;
        let hex = data.strip_prefix(b"object ")?.get(..40)?;
        id = Oid::from_str(std::str::from_utf8(hex).ok()?).ok()?;
    }
    None
}

fn shallow_roots(repo: &Repository) -> HashSet<Oid> {
    std::fs::read_to_string(repo.path().join("shallow"))
        .map(|text| {
            text.lines()
                .filter_map(|l| Oid::from_str(l.trim()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Gathers tags and commits from `repo` at `head` and decides the next version.
/// `paths` attributes commits to a service by the files they touch (monorepo).
pub fn plan(
    repo: &Repository,
    head: Oid,
    settings: &ReleaseSettings,
    paths: Option<&PathFilter>,
    prerelease: Option<&str>,
) -> Result<Plan, VersionError> {
    let prefix = settings.tag_prefix.as_str();
    // One object store for the tags and the walks (each store maps the packs it reads).
    let store = diff::open_store(repo)?;
    let started = std::time::Instant::now();
    let tags = version_tags_in(repo, &store, prefix)?;
    tracing::debug!(
        "{} `{prefix}` tags read in {:?}",
        tags.len(),
        started.elapsed()
    );
    // On a re-run for a final release HEAD already carries its tag: walk from the release
    // before it so the changelog is complete again. `tags` is sorted by precedence, so the
    // first reachable candidate from the top is the highest: usually one ancestry check
    // instead of one per tag (each check can walk the whole history).
    let shallow = repo.is_shallow();
    let roots = if shallow {
        shallow_roots(repo)
    } else {
        HashSet::new()
    };
    let candidates: Vec<&VersionTag> = tags
        .iter()
        .rev()
        .filter(|t| t.version.pre.is_empty() && !(prerelease.is_none() && t.commit == head))
        .collect();
    // Optimistic: the highest final tag is usually reachable. The walk below (hiding it)
    // proves that for free: it is reachable iff it is HEAD or a parent of a walked commit.
    let mut last_final = candidates.first().map(|t| (*t).clone());
    let mut walked = walk_since(repo, &store, head, last_final.as_ref(), &roots, paths)?;
    if let Some(top) = &last_final
        && !(top.commit == head || walked.top_seen)
    {
        // Released elsewhere: fall back to an ancestry check per candidate.
        last_final = candidates
            .iter()
            .skip(1)
            .find(|t| diff::is_ancestor(repo, t.commit, head))
            .map(|t| (*t).clone());
        walked = walk_since(repo, &store, head, last_final.as_ref(), &roots, paths)?;
    }

    tracing::debug!(
        "{} commits kept, {} conventional, {} ignored; walked in {:?}",
        walked.commits.len(),
        walked.conventional,
        walked.ignored.len(),
        started.elapsed()
    );
    if shallow && walked.hit_boundary {
        shallow_rerun(&tags, head, prerelease, last_final.as_ref())?;
    }
    if shallow && (walked.hit_boundary || tags.is_empty()) {
        let detail = if tags.is_empty() {
            format!(" (no `{prefix}<version>` tags were fetched)")
        } else {
            String::new()
        };
        return Err(VersionError::ShallowHistory {
            prefix: prefix.to_string(),
            detail,
        });
    }
    if settings.non_conventional == NonConventional::Error && !walked.ignored.is_empty() {
        return Err(VersionError::NonConventional {
            list: listing(&walked.ignored),
        });
    }
    let bump = walked
        .commits
        .iter()
        .map(ReleaseCommit::bump)
        .max()
        .unwrap_or(Bump::None);
    // Newest Release-As wins (commits are newest first).
    let mut release_as: Option<(Version, String)> = None;
    if let Some(c) = walked.commits.iter().find(|c| c.release_as.is_some()) {
        let value = c.release_as.as_deref().unwrap_or_default();
        let v = Version::parse(value.trim_start_matches(['v', 'V'])).map_err(|_| {
            VersionError::BadReleaseAs {
                sha: c.short().to_string(),
                value: value.to_string(),
            }
        })?;
        release_as = Some((v, c.short().to_string()));
    }
    let existing: Vec<Version> = tags.iter().map(|t| t.version.clone()).collect();
    let head_versions: Vec<Version> = tags
        .iter()
        .filter(|t| t.commit == head)
        .map(|t| t.version.clone())
        .collect();
    let decision = next_version(&VersionInput {
        last_final: last_final.as_ref().map(|t| &t.version),
        existing: &existing,
        head_versions: &head_versions,
        bump,
        release_as: release_as.as_ref().map(|(v, s)| (v, s.as_str())),
        prerelease,
        initial: &settings.initial_version,
        tag_prefix: prefix,
    })?;
    Ok(Plan {
        head,
        decision,
        last_final,
        commits: walked.commits,
        conventional: walked.conventional,
        ignored: walked.ignored,
        tag_prefix: prefix.to_string(),
    })
}

/// On a shallow clone whose walk hit the boundary: when HEAD already carries the tag a
/// re-run would answer, say so (the plain "history is not all here" error reads as if
/// the version itself could not be found).
fn shallow_rerun(
    tags: &[VersionTag],
    head: Oid,
    prerelease: Option<&str>,
    last_final: Option<&VersionTag>,
) -> Result<(), VersionError> {
    let on_head = tags.iter().rev().find(|t| {
        t.commit == head
            && match prerelease {
                None => t.version.pre.is_empty(),
                Some(label) => t.version.pre.as_str().starts_with(label),
            }
    });
    match on_head {
        None => Ok(()),
        Some(tag) => Err(VersionError::ShallowRerun {
            tag: tag.name.clone(),
            previous: last_final.map_or_else(
                || "the release before it (whose tag is not here either)".to_string(),
                |t| format!("`{}`", t.name),
            ),
        }),
    }
}

/// At most this many ignored commits are listed in an error; the rest are counted.
const IGNORED_LISTED: usize = 50;

/// The ignored commits, one per line (the first [`IGNORED_LISTED`], then a count).
pub fn listing(ignored: &[IgnoredCommit]) -> String {
    let mut lines: Vec<String> = ignored
        .iter()
        .take(IGNORED_LISTED)
        .map(|c| format!("  {} {}", c.short(), c.subject))
        .collect();
    if ignored.len() > IGNORED_LISTED {
        lines.push(format!("  … and {} more", ignored.len() - IGNORED_LISTED));
    }
    lines.join("\n")
}

/// What a walk from HEAD down to the last release found.
#[derive(Debug)]
struct Walked {
    /// See [`Plan::commits`].
    commits: Vec<ReleaseCommit>,
    conventional: usize,
    ignored: Vec<IgnoredCommit>,
    /// The walk reached a shallow clone's boundary.
    hit_boundary: bool,
    /// The last release is a parent of a walked commit.
    top_seen: bool,
}

/// Commits from `head` down to (excluding) `last_final`.
fn walk_since(
    repo: &Repository,
    store: &gix_odb::Handle,
    head: Oid,
    last_final: Option<&VersionTag>,
    roots: &HashSet<Oid>,
    paths: Option<&PathFilter>,
) -> Result<Walked, VersionError> {
    // One probe, on the same object store, for the whole walk.
    let probe = paths
        .map(|f| diff::PathProbe::with_store(repo, f, store.clone()))
        .transpose()?;
    if let Some(walked) = walk_linear(repo, head, last_final, roots, probe.as_ref())? {
        return Ok(walked);
    }
    if let Some(walked) = walk_once(repo, store, head, last_final, roots, probe.as_ref())? {
        return Ok(walked);
    }
    walk_graph(repo, head, last_final, roots, probe.as_ref())
}

/// Any history, each commit read once (see [`walk`]): its message is classified as it is
/// read, its tree and its first parent's come with it for `--service`. `None` when the
/// walk leaves a commit to libgit2 (then [`walk_graph`] decides).
fn walk_once(
    repo: &Repository,
    store: &gix_odb::Handle,
    head: Oid,
    last_final: Option<&VersionTag>,
    roots: &HashSet<Oid>,
    paths: Option<&diff::PathProbe<'_>>,
) -> Result<Option<Walked>, VersionError> {
    let visits = walk::walk(
        repo,
        store,
        head,
        last_final.map(|t| t.commit),
        roots,
        |c| {
            // libgit2's message is a C string: it ends at the first NUL.
            let bytes = c.message.split(|&b| b == 0).next().unwrap_or_default();
            let parents = if c.parents > 1 {
                Parents::Merge
            } else {
                Parents::One
            };
            Classified::of(c.id, &String::from_utf8_lossy(bytes), parents)
        },
    )?;
    let Some(visits) = visits else {
        return Ok(None);
    };
    let mut gathered = Gathered::default();
    for v in visits {
        gathered.hit_boundary |= v.shallow_root;
        gathered.top_seen |= v.hidden_parent;
        if let Some(probe) = paths {
            let base = (v.first_parent, v.first_parent_tree);
            if !probe.touches_trees(base, (v.id, v.tree))? {
                continue;
            }
        }
        gathered.push(v.id, v.item);
    }
    Ok(Some(gathered.into_walked()))
}

/// A commit as [`walk_linear`] reads it: parents and message straight from the object.
struct RawCommit {
    parents: Vec<Oid>,
    message: String,
}

/// Parses a raw commit object: `parent` headers and the message after the first blank
/// line (leading newlines dropped, as libgit2's `git_commit_message` does). `None` when
/// the bytes are not a commit.
fn parse_commit(data: &[u8]) -> Option<RawCommit> {
    let mut parents = Vec::new();
    let mut rest = data;
    loop {
        let end = rest.iter().position(|&b| b == b'\n')?;
        let line = &rest[..end];
        rest = &rest[end + 1..];
        if line.is_empty() {
            break;
        }
        if let Some(hex) = line.strip_prefix(b"parent ") {
            parents.push(Oid::from_str(std::str::from_utf8(hex).ok()?).ok()?);
        }
    }
    let start = rest.iter().position(|&b| b != b'\n').unwrap_or(rest.len());
    Some(RawCommit {
        parents,
        message: String::from_utf8_lossy(&rest[start..]).into_owned(),
    })
}

/// The common case, read in one pass: from `head` along single-parent commits down to
/// `last_final` (or the root), each commit read once from the object database. A chain
/// has only one topological order, so the answer is the revwalk's. Returns `None` (the
/// caller then walks the graph) on the first merge commit, or when `last_final` is given
/// but is not on the chain (it may then hide part of it, which only a graph walk knows).
fn walk_linear(
    repo: &Repository,
    head: Oid,
    last_final: Option<&VersionTag>,
    roots: &HashSet<Oid>,
    paths: Option<&diff::PathProbe<'_>>,
) -> Result<Option<Walked>, VersionError> {
    let odb = repo
        .odb()
        .map_err(GitError::git("cannot open the object database"))?;
    let stop = last_final.map(|t| t.commit);
    let mut gathered = Gathered::default();
    let mut next = Some(head);
    while let Some(id) = next {
        if Some(id) == stop {
            // Reached (or HEAD is the tag itself, for a pre-release): nothing below counts.
            gathered.top_seen = true;
            break;
        }
        let obj = odb
            .read(id)
            .map_err(GitError::git(format!("cannot read commit {id}")))?;
        if obj.kind() != git2::ObjectType::Commit {
            return Ok(None);
        }
        let Some(raw) = parse_commit(obj.data()) else {
            return Ok(None);
        };
        drop(obj);
        let shallow_root = roots.contains(&id);
        let parents: &[Oid] = if shallow_root { &[] } else { &raw.parents };
        if parents.len() > 1 {
            return Ok(None);
        }
        gathered.hit_boundary |= shallow_root;
        next = parents.first().copied();
        if let Some(probe) = paths
            && !probe.touches(next, id)?
        {
            continue;
        }
        gathered.add(id, &raw.message, Parents::One);
    }
    if stop.is_some() && !gathered.top_seen {
        return Ok(None);
    }
    Ok(Some(gathered.into_walked()))
}

/// Any history: libgit2's revwalk (topological, then by time), hiding `last_final`.
fn walk_graph(
    repo: &Repository,
    head: Oid,
    last_final: Option<&VersionTag>,
    roots: &HashSet<Oid>,
    paths: Option<&diff::PathProbe<'_>>,
) -> Result<Walked, VersionError> {
    let mut walk = repo
        .revwalk()
        .map_err(GitError::git("cannot walk history"))?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
        .map_err(GitError::git("cannot walk history"))?;
    walk.push(head)
        .map_err(GitError::git(format!("cannot walk from {head}")))?;
    if let Some(t) = last_final {
        walk.hide(t.commit)
            .map_err(GitError::git(format!("cannot walk down to {}", t.name)))?;
    }
    let mut gathered = Gathered::default();
    for id in walk {
        let id = id.map_err(GitError::git("cannot walk history"))?;
        if roots.contains(&id) {
            gathered.hit_boundary = true;
        }
        let commit = repo
            .find_commit(id)
            .map_err(GitError::git(format!("cannot read commit {id}")))?;
        if let Some(t) = last_final
            && commit.parent_ids().any(|p| p == t.commit)
        {
            gathered.top_seen = true;
        }
        let parents = if commit.parent_count() > 1 {
            Parents::Merge
        } else {
            Parents::One
        };
        if let Some(probe) = paths {
            let parent = if roots.contains(&id) {
                None
            } else {
                commit.parent_id(0).ok()
            };
            if !probe.touches(parent, id)? {
                continue;
            }
        }
        gathered.add(
            id,
            &String::from_utf8_lossy(commit.message_bytes()),
            parents,
        );
    }
    Ok(gathered.into_walked())
}

/// Resolves a revision (`HEAD`, a SHA, a branch) to a commit id.
pub fn resolve(repo: &Repository, rev: &str) -> Result<Oid, GitError> {
    // An unborn HEAD (nothing committed yet) fails to resolve with "reference
    // 'refs/heads/main' not found", which reads like a typo in the revision.
    if repo
        .head()
        .is_err_and(|e| e.code() == git2::ErrorCode::UnbornBranch)
    {
        return Err(GitError::NoCommits {
            path: crate::cli_dir(repo).display().to_string(),
        });
    }
    repo.revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map(|c| c.id())
        .map_err(|e| {
            GitError::BadRevision(format!(
                "`{rev}` is not a commit in this repository: {}",
                e.message()
            ))
        })
}

/// Convenience for callers holding a path.
pub fn plan_at(
    path: &Path,
    rev: &str,
    settings: &ReleaseSettings,
    paths: Option<&PathFilter>,
    prerelease: Option<&str>,
) -> Result<Plan, VersionError> {
    let repo = crate::open(path)?;
    let head = resolve(&repo, rev)?;
    plan(&repo, head, settings, paths, prerelease)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("version")
    }

    fn decide(
        last: Option<&str>,
        existing: &[&str],
        head: &[&str],
        bump: Bump,
        pre: Option<&str>,
    ) -> Result<Decision, VersionError> {
        let last = last.map(v);
        let existing: Vec<Version> = existing.iter().map(|s| v(s)).collect();
        let head: Vec<Version> = head.iter().map(|s| v(s)).collect();
        let initial = v("0.1.0");
        next_version(&VersionInput {
            last_final: last.as_ref(),
            existing: &existing,
            head_versions: &head,
            bump,
            release_as: None,
            prerelease: pre,
            initial: &initial,
            tag_prefix: "v",
        })
    }

    fn released(d: Result<Decision, VersionError>) -> String {
        match d.expect("decision") {
            Decision::Release { version, .. } => version.to_string(),
            other => panic!("expected a release, got {other:?}"),
        }
    }

    #[test]
    fn anchored_prefixes() {
        assert_eq!(parse_tag("api-v1.2.3", "api-v"), Some(v("1.2.3")));
        assert_eq!(parse_tag("api-gateway-v1.2.3", "api-v"), None);
        assert_eq!(parse_tag("v1.2.3", "api-v"), None);
        assert_eq!(parse_tag("v1", "v"), None);
        assert_eq!(parse_tag("latest", "v"), None);
        assert_eq!(parse_tag("1.2.3", ""), Some(v("1.2.3")));
        assert_eq!(parse_tag("v1.2.3-rc.1", "v"), Some(v("1.2.3-rc.1")));
    }

    #[test]
    fn stable_bumps_and_zero_x_policy() {
        assert_eq!(bump_version(&v("1.2.3"), Bump::Major), v("2.0.0"));
        assert_eq!(bump_version(&v("1.2.3"), Bump::Minor), v("1.3.0"));
        assert_eq!(bump_version(&v("1.2.3"), Bump::Patch), v("1.2.4"));
        assert_eq!(bump_version(&v("0.2.3"), Bump::Major), v("0.3.0"));
        assert_eq!(bump_version(&v("0.2.3"), Bump::Minor), v("0.2.4"));
        assert_eq!(bump_version(&v("0.2.3"), Bump::Patch), v("0.2.4"));
    }

    #[test]
    fn first_release_and_no_release() {
        assert_eq!(released(decide(None, &[], &[], Bump::Minor, None)), "0.1.0");
        assert_eq!(
            decide(Some("1.0.0"), &["1.0.0"], &[], Bump::None, None).expect("ok"),
            Decision::NoRelease {
                current: Some(v("1.0.0"))
            }
        );
        assert_eq!(
            decide(None, &[], &[], Bump::None, None).expect("ok"),
            Decision::NoRelease { current: None }
        );
    }

    #[test]
    fn prerelease_counter_rebase_and_graduation() {
        assert_eq!(
            released(decide(
                Some("1.2.3"),
                &["1.2.3"],
                &[],
                Bump::Patch,
                Some("rc")
            )),
            "1.2.4-rc.1"
        );
        assert_eq!(
            released(decide(
                Some("1.2.3"),
                &["1.2.3", "1.2.4-rc.1", "1.2.4-rc.9"],
                &[],
                Bump::Patch,
                Some("rc")
            )),
            "1.2.4-rc.10"
        );
        // a feat arrives: re-base to 1.3.0-rc.1
        assert_eq!(
            released(decide(
                Some("1.2.3"),
                &["1.2.3", "1.2.4-rc.2"],
                &[],
                Bump::Minor,
                Some("rc")
            )),
            "1.3.0-rc.1"
        );
        // other labels don't count
        assert_eq!(
            released(decide(
                Some("1.2.3"),
                &["1.2.3", "1.2.4-beta.4"],
                &[],
                Bump::Patch,
                Some("rc")
            )),
            "1.2.4-rc.1"
        );
        // graduation
        assert_eq!(
            released(decide(
                Some("1.2.3"),
                &["1.2.3", "1.2.4-rc.2"],
                &[],
                Bump::Patch,
                None
            )),
            "1.2.4"
        );
        // never a pre-release of a released base
        assert!(matches!(
            decide(
                Some("1.2.3"),
                &["1.2.3", "1.2.4"],
                &[],
                Bump::Patch,
                Some("rc")
            ),
            Err(VersionError::PrereleaseBaseReleased { .. })
        ));
        assert!(matches!(
            decide(Some("1.2.3"), &["1.2.3", "1.2.4"], &[], Bump::Patch, None),
            Err(VersionError::TagElsewhere { .. })
        ));
        assert!(matches!(
            decide(None, &[], &[], Bump::Patch, Some("r c")),
            Err(VersionError::BadLabel { .. })
        ));
        assert!(matches!(
            decide(None, &[], &[], Bump::Patch, Some("12")),
            Err(VersionError::BadLabel { .. })
        ));
    }

    #[test]
    fn pre_release_only_histories_base_on_the_pre_release() {
        // v1.0.0-rc.1 and no final tag: a fix goes on to 1.0.0, never down to 0.1.0.
        let existing = ["1.0.0-rc.1"];
        assert_eq!(
            released(decide(None, &existing, &[], Bump::Patch, None)),
            "1.0.0"
        );
        assert_eq!(
            released(decide(None, &existing, &[], Bump::Major, Some("rc"))),
            "1.0.0-rc.2"
        );
        // The initial version wins when it is the higher one.
        assert_eq!(
            released(decide(None, &["0.0.3-beta.1"], &[], Bump::Patch, None)),
            "0.1.0"
        );
    }

    #[test]
    fn reruns_are_idempotent() {
        let d = decide(
            Some("1.3.0"),
            &["1.2.0", "1.3.0"],
            &["1.3.0"],
            Bump::None,
            None,
        )
        .expect("ok");
        assert_eq!(
            d,
            Decision::AlreadyReleased {
                version: v("1.3.0"),
                previous: Some(v("1.2.0"))
            }
        );
        let d = decide(
            Some("1.2.0"),
            &["1.2.0", "1.3.0-rc.1"],
            &["1.3.0-rc.1"],
            Bump::Minor,
            Some("rc"),
        )
        .expect("ok");
        assert_eq!(
            d,
            Decision::AlreadyReleased {
                version: v("1.3.0-rc.1"),
                previous: Some(v("1.2.0"))
            }
        );
    }

    #[test]
    fn release_as_override() {
        let last = v("0.9.1");
        let req = v("1.0.0");
        let initial = v("0.1.0");
        let existing = [last.clone()];
        let input = VersionInput {
            last_final: Some(&last),
            existing: &existing,
            head_versions: &[],
            bump: Bump::None,
            release_as: Some((&req, "abc1234")),
            prerelease: None,
            initial: &initial,
            tag_prefix: "v",
        };
        assert_eq!(released(next_version(&input)), "1.0.0");
        let low = v("0.5.0");
        let input = VersionInput {
            release_as: Some((&low, "abc1234")),
            ..input
        };
        assert!(matches!(
            next_version(&input),
            Err(VersionError::ReleaseAsNotHigher { .. })
        ));
    }

    #[test]
    fn raw_commits_parse_like_libgit2() {
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 0123456789abcdef0123456789abcdef01234567\nparent 89abcdef0123456789abcdef0123456789abcdef\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n line\n -----END PGP SIGNATURE-----\n\n\nfeat: x\n\nbody\n";
        let c = parse_commit(raw).expect("commit");
        assert_eq!(c.parents.len(), 2);
        assert_eq!(
            c.parents[1].to_string(),
            "89abcdef0123456789abcdef0123456789abcdef"
        );
        assert_eq!(c.message, "feat: x\n\nbody\n");
        assert!(parse_commit(b"tree x\nno blank line").is_none());
        assert!(parse_commit(b"parent nothex\n\nmsg").is_none());
        let empty =
            parse_commit(b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\n").expect("commit");
        assert!(empty.parents.is_empty() && empty.message.is_empty());
    }

    /// The previous reading of every tag: libgit2's `peel_to_commit`.
    fn peeled_by_libgit2(repo: &Repository, prefix: &str) -> Vec<(String, Oid)> {
        let mut out: Vec<(String, Oid)> = repo
            .references_glob("refs/tags/*")
            .expect("refs")
            .flatten()
            .filter_map(|r| {
                let name = r.shorthand().ok()?.to_string();
                parse_tag(&name, prefix)?;
                Some((name, r.peel_to_commit().ok()?.id()))
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn tags_peel_to_the_commit_libgit2_finds_loose_and_packed() {
        let mut r = crate::testing::TestRepo::new();
        let first = r.commit_file("a", "1", "feat: one");
        r.tag("v1.0.0");
        r.tag_annotated("v1.1.0", "Release v1.1.0");
        r.commit_file("b", "1", "fix: two");
        r.tag_annotated("v1.1.1", "Release v1.1.1");
        // A tag of a tag, a tag of a tree, a tag of a blob: only the first names a commit.
        r.git(&["tag", "-a", "-m", "nested", "v1.2.0", "v1.1.1"]);
        r.git(&["tag", "-a", "-m", "tree", "v9.0.0", "HEAD^{tree}"]);
        r.git(&["tag", "v9.0.1", "HEAD:a"]);
        r.git(&["tag", "other-1.0.0", &first.to_string()]);
        let ours = |repo: &Repository| {
            let mut tags: Vec<(String, Oid)> = version_tags(repo, "v")
                .expect("tags")
                .into_iter()
                .map(|t| (t.name, t.commit))
                .collect();
            tags.sort();
            tags
        };
        let loose = ours(&r.repo);
        assert_eq!(loose, peeled_by_libgit2(&r.repo, "v"));
        let names: Vec<&str> = loose.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["v1.0.0", "v1.1.0", "v1.1.1", "v1.2.0"]);
        // packed-refs with `^<id>` peeled lines, as `git pack-refs`, gc and clones write.
        r.git(&["pack-refs", "--all"]);
        let packed = std::fs::read_to_string(r.path().join(".git/packed-refs")).expect("packed");
        assert!(packed.lines().any(|l| l.starts_with('^')), "{packed}");
        let repo = Repository::open(r.path()).expect("reopen");
        assert_eq!(ours(&repo), loose);
        assert_eq!(peeled_by_libgit2(&repo, "v"), loose);
    }

    type Summary = (Vec<(Oid, String)>, usize, Vec<Oid>, bool, bool);

    fn summary(w: &Walked) -> Summary {
        (
            w.commits.iter().map(|c| (c.id, c.subject())).collect(),
            w.conventional,
            w.ignored.iter().map(|c| c.id).collect(),
            w.hit_boundary,
            w.top_seen,
        )
    }

    #[test]
    fn the_linear_walk_and_the_single_read_walk_agree_with_the_revwalk() {
        let mut r = crate::testing::TestRepo::new();
        r.commit_file("a", "1", "feat: one");
        let tagged = r.commit_file("b", "1", "fix: two");
        let tag = VersionTag {
            name: "v1.0.0".into(),
            version: Version::new(1, 0, 0),
            commit: tagged,
        };
        r.commit_file("c", "1", "chore: not conventional? no, it is");
        r.commit_file("d", "1", "Update README");
        let head = r.commit_file("svc/e", "1", "feat(svc)!: three\n\nBREAKING CHANGE: gone");
        let none = HashSet::new();
        let filter = PathFilter::new(&["svc/**"]).expect("filter");
        let probe = diff::PathProbe::open(&r.repo, &filter).expect("probe");
        let store = diff::open_store(&r.repo).expect("store");
        for (last, paths) in [(Some(&tag), None), (None, None), (Some(&tag), Some(&probe))] {
            let linear = walk_linear(&r.repo, head, last, &none, paths)
                .expect("walk")
                .expect("a chain");
            let graph = walk_graph(&r.repo, head, last, &none, paths).expect("walk");
            assert_eq!(summary(&linear), summary(&graph));
            let once = walk_once(&r.repo, &store, head, last, &none, paths)
                .expect("walk")
                .expect("parsed");
            assert_eq!(summary(&once), summary(&graph));
        }
        drop(probe);
        // A tag that is not on the chain: the graph walk decides.
        r.branch("side");
        r.checkout("side");
        let elsewhere = r.commit_file("f", "1", "fix: side");
        r.checkout("main");
        let other = VersionTag {
            commit: elsewhere,
            ..tag.clone()
        };
        assert!(
            walk_linear(&r.repo, head, Some(&other), &none, None)
                .expect("walk")
                .is_none()
        );
        // A merge: the graph walk decides.
        let merged = r.merge("side", "Merge branch 'side'");
        assert!(
            walk_linear(&r.repo, merged, Some(&tag), &none, None)
                .expect("walk")
                .is_none()
        );
        let all = walk_since(&r.repo, &store, merged, Some(&tag), &none, None).expect("walk");
        assert!(all.commits.iter().any(|c| c.id == elsewhere));
        // A merge: the walk that reads each commit once agrees with libgit2's revwalk.
        let probe = diff::PathProbe::open(&r.repo, &filter).expect("probe");
        for (last, paths) in [(Some(&tag), None), (None, None), (Some(&tag), Some(&probe))] {
            let graph = walk_graph(&r.repo, merged, last, &none, paths).expect("walk");
            let once = walk_once(&r.repo, &store, merged, last, &none, paths)
                .expect("walk")
                .expect("parsed");
            assert_eq!(summary(&once), summary(&graph));
        }
    }
}
