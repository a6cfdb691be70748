//! Changed paths between two commits (tree to tree, no working tree involved).
//!
//! Renames are detected and count for **both** the old and the new path; deletions
//! count; names are taken as raw bytes from git (no `core.quotepath` quoting), so
//! spaces, newlines and non-ASCII names come through intact (non-UTF-8 bytes are
//! replaced with U+FFFD).

use git2::{Delta, DiffFindOptions, DiffOptions, Oid, Repository};
use serde::Serialize;

use crate::GitError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Added,
    Modified,
    Deleted,
    Renamed,
    Copied,
    TypeChanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedFile {
    pub status: Status,
    pub path: String,
    /// The previous path of a rename or copy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
}

impl ChangedFile {
    /// The paths that count for matching: the new path and, for renames, the old one.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.path.as_str()).chain(self.old_path.as_deref())
    }
}

/// Files that differ between `base` and `head` (`None` base = every file of `head`).
pub fn changed_files(
    repo: &Repository,
    base: Option<Oid>,
    head: Oid,
) -> Result<Vec<ChangedFile>, GitError> {
    let head_tree = repo
        .find_commit(head)
        .and_then(|c| c.tree())
        .map_err(GitError::git(format!("cannot read commit {head}")))?;
    let base_tree = match base {
        Some(b) => Some(
            repo.find_commit(b)
                .and_then(|c| c.tree())
                .map_err(GitError::git(format!("cannot read commit {b}")))?,
        ),
        None => None,
    };
    let mut opts = DiffOptions::new();
    opts.skip_binary_check(true).ignore_submodules(false);
    let mut diff = repo
        .diff_tree_to_tree(base_tree.as_ref(), Some(&head_tree), Some(&mut opts))
        .map_err(GitError::git("cannot compute the diff"))?;
    let mut find = DiffFindOptions::new();
    find.renames(true);
    diff.find_similar(Some(&mut find))
        .map_err(GitError::git("cannot detect renames"))?;
    let mut out = Vec::new();
    for delta in diff.deltas() {
        let status = match delta.status() {
            Delta::Added => Status::Added,
            Delta::Deleted => Status::Deleted,
            Delta::Modified => Status::Modified,
            Delta::Renamed => Status::Renamed,
            Delta::Copied => Status::Copied,
            Delta::Typechange => Status::TypeChanged,
            _ => continue,
        };
        let name = |file: git2::DiffFile<'_>| {
            file.path_bytes()
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        let new = name(delta.new_file());
        let old = name(delta.old_file());
        let (path, old_path) = match status {
            Status::Deleted => (old, None),
            Status::Renamed | Status::Copied => (new, old),
            _ => (new.or(old), None),
        };
        if let Some(path) = path {
            out.push(ChangedFile {
                status,
                path,
                old_path,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// The best common ancestor of `a` and `b`, `None` when they share no history (or the
/// shallow clone does not reach it).
pub fn merge_base(repo: &Repository, a: Oid, b: Oid) -> Option<Oid> {
    repo.merge_base(a, b).ok()
}

/// True when `ancestor` is `descendant` or one of its ancestors.
pub fn is_ancestor(repo: &Repository, ancestor: Oid, descendant: Oid) -> bool {
    ancestor == descendant
        || repo
            .graph_descendant_of(descendant, ancestor)
            .unwrap_or(false)
}
