//! Changed paths between two commits (tree to tree, no working tree involved).
//!
//! Renames are detected and count for **both** the old and the new path; deletions
//! count; names are taken as raw bytes from git (no `core.quotepath` quoting), so
//! spaces, newlines and non-ASCII names come through intact (non-UTF-8 bytes are
//! replaced with U+FFFD).

use std::cell::RefCell;
use std::rc::Rc;

use git2::{Delta, DiffFindOptions, DiffOptions, Oid, Repository};
use serde::Serialize;

use crate::GitError;
use crate::glob::PathFilter;

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
///
/// The trees are compared by hand rather than with libgit2's tree-to-tree diff, which
/// reads every tree of both commits: here a subtree whose id is the same on both sides
/// is skipped unread, so the cost follows the size of the change, not of the repository
/// (what `git diff-tree` does). The trees are read through gitoxide's object store (see
/// [`Trees`]). Rename detection is still libgit2's, run over the added and deleted
/// files only (see [`find_renames`]).
pub fn changed_files(
    repo: &Repository,
    base: Option<Oid>,
    head: Oid,
) -> Result<Vec<ChangedFile>, GitError> {
    let tree_of = |id: Oid| {
        repo.find_commit(id)
            .map(|c| c.tree_id())
            .map_err(GitError::git(format!("cannot read commit {id}")))
    };
    let head_tree = tree_of(head)?;
    let base_tree = base.map(tree_of).transpose()?;
    let compare = |raw: &mut Vec<RawChange>| {
        raw.clear();
        let trees = Trees::open(repo)?;
        compare_trees(&trees, base_tree, Some(head_tree), &mut Vec::new(), raw)
    };
    let mut raw = Vec::new();
    match compare(&mut raw) {
        Ok(()) => {}
        // A treeless clone (`filter: tree:0`) lacks the trees of commits it has not
        // checked out: fetch both commits' trees in one go, as git would one by one.
        Err(e @ GitError::Objects { .. }) => {
            let Some(promisor) = Promisor::of(repo) else {
                return Err(e);
            };
            tracing::debug!("fetching the compared trees: {e}");
            promisor.fetch(base_tree.into_iter().chain([head_tree]))?;
            compare(&mut raw)?;
        }
        Err(e) => return Err(e),
    }
    // The packs gitoxide mapped are unmapped by now (its store is dropped), before
    // libgit2 reads the rename candidates through its own mappings: the pages both
    // touched would otherwise count twice in the peak.
    let renames = find_renames(repo, &raw)?;
    let mut out = Vec::with_capacity(raw.len());
    let mut renamed_away = vec![false; raw.len()];
    for &(from, _) in &renames {
        renamed_away[from] = true;
    }
    let rename_of: std::collections::HashMap<usize, usize> =
        renames.iter().map(|&(from, to)| (to, from)).collect();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    for (i, r) in raw.iter().enumerate() {
        if renamed_away[i] {
            continue;
        }
        let (status, old_path) = match (r.status, rename_of.get(&i)) {
            (Status::Added, Some(&from)) => (Status::Renamed, Some(text(&raw[from].path))),
            (s, _) => (s, None),
        };
        out.push(ChangedFile {
            status,
            path: text(&r.path),
            old_path,
        });
    }
    // By path; a path that is both deleted and added (a type change) lists the deletion
    // first (libgit2's own order for that pair depends on whether renames were found).
    out.sort_by(|a, b| {
        a.path
            .cmp(&b.path)
            .then_with(|| (a.status != Status::Deleted).cmp(&(b.status != Status::Deleted)))
    });
    Ok(out)
}

/// Answers, commit after commit of a history walk, whether a commit changes a path that
/// a filter matches (`semver-release --service`): one object store for the whole walk
/// (opening one per commit cost 12 `openat` and 4 `mmap` a commit), and only the
/// directories the filter's patterns can lead into are read. Renames are not looked for:
/// a rename's old and new paths are a deletion and an addition here, the same paths
/// [`changed_files`] lets count.
pub struct PathProbe<'a> {
    repo: &'a Repository,
    trees: Trees<'a>,
    filter: &'a PathFilter,
}

impl<'a> PathProbe<'a> {
    pub fn open(repo: &'a Repository, filter: &'a PathFilter) -> Result<Self, GitError> {
        Self::with_store(repo, filter, open_store(repo)?)
    }

    /// A probe reading through `store` (see [`open_store`]), shared with a history walk.
    pub fn with_store(
        repo: &'a Repository,
        filter: &'a PathFilter,
        store: gix_odb::Handle,
    ) -> Result<Self, GitError> {
        let prefixes = filter.parsed().literal_prefixes();
        let odb = repo
            .odb()
            .map_err(GitError::git("cannot open the object database"))?;
        let trees = Trees {
            store,
            scope: Some(prefixes.into_iter().map(String::into_bytes).collect()),
            recent: Some(Default::default()),
            history: Some(odb),
        };
        Ok(PathProbe {
            repo,
            trees,
            filter,
        })
    }

    /// True when `head` changes, against `base` (`None`: every file of `head`), a path
    /// the filter matches.
    pub fn touches(&self, base: Option<Oid>, head: Oid) -> Result<bool, GitError> {
        let trees = || -> Result<_, GitError> {
            let head_tree = self.trees.commit_tree(head)?;
            let base_tree = base.map(|b| self.trees.commit_tree(b)).transpose()?;
            Ok((base_tree, head_tree))
        };
        match trees() {
            Ok((base_tree, head_tree)) => self.touches_trees((base, base_tree), (head, head_tree)),
            Err(GitError::Objects { .. }) => self.touches_by_diff(base, head),
            Err(e) => Err(e),
        }
    }

    /// [`Self::touches`] for commits whose trees are known (a history walk read them):
    /// `(commit, its tree)` for the base and the head.
    pub fn touches_trees(
        &self,
        (base, base_tree): (Option<Oid>, Option<Oid>),
        (head, head_tree): (Oid, Oid),
    ) -> Result<bool, GitError> {
        match self.compare(base_tree, head_tree) {
            // A partial clone lacks these objects: the full diff fetches them.
            Err(GitError::Objects { .. }) => self.touches_by_diff(base, head),
            other => other,
        }
    }

    fn touches_by_diff(&self, base: Option<Oid>, head: Oid) -> Result<bool, GitError> {
        let files = changed_files(self.repo, base, head)?;
        Ok(files
            .iter()
            .any(|f| f.paths().any(|p| self.filter.is_match(p))))
    }

    fn compare(&self, base_tree: Option<Oid>, head_tree: Oid) -> Result<bool, GitError> {
        let mut raw = Vec::new();
        compare_trees(
            &self.trees,
            base_tree,
            Some(head_tree),
            &mut Vec::new(),
            &mut raw,
        )?;
        Ok(raw
            .iter()
            .any(|r| self.filter.is_match(&String::from_utf8_lossy(&r.path))))
    }
}

/// gitoxide's object store on `repo`'s objects, with a cache of delta bases (see
/// [`DELTA_BASE_CACHE`]).
pub fn open_store(repo: &Repository) -> Result<gix_odb::Handle, GitError> {
    Trees::open(repo).map(|t| t.store)
}

/// One side of a raw change: what `git diff-tree -r` prints before rename detection.
#[derive(Debug, Clone)]
struct RawChange {
    status: Status,
    path: Vec<u8>,
    /// The blob (or submodule commit) on the side that has the file: the new one for
    /// additions and modifications, the old one for deletions.
    id: Oid,
    mode: i32,
}

const MODE_TREE: i32 = 0o040000;
const MODE_COMMIT: i32 = 0o160000;

/// Tree entries in git's order: names compare as bytes, a tree as if followed by `/`.
fn entry_order(a: &[u8], a_tree: bool, b: &[u8], b_tree: bool) -> std::cmp::Ordering {
    let n = a.len().min(b.len());
    a[..n].cmp(&b[..n]).then_with(|| {
        let end =
            |name: &[u8], tree: bool| name.get(n).copied().unwrap_or(if tree { b'/' } else { 0 });
        end(a, a_tree).cmp(&end(b, b_tree))
    })
}

/// The kind of entry as far as a diff cares: a tree, a submodule, a symlink or a file
/// (the executable bit is a modification, not a type change).
fn entry_type(mode: i32) -> i32 {
    mode & 0o170000
}

/// One entry of a raw tree object: `<octal mode> <name>\0<20-byte id>`.
struct Entry<'a> {
    name: &'a [u8],
    id: Oid,
    mode: i32,
}

/// Where the compared trees come from: gitoxide's object store on the repository's
/// object directory, with a cache of delta bases.
///
/// Not libgit2's, which the rest of this crate uses: on a 100k-file monorepo, reading
/// the 5,000 trees of a 2,000-file push took libgit2 about 50 ms and gitoxide about
/// 21 ms (libgit2 sets up a zlib stream, copies the object and evicts from its delta
/// cache by a full scan, for every object), and that read is most of detect-changes'
/// run (BENCHMARKS.md).
struct Trees<'r> {
    store: gix_odb::Handle,
    /// Directories to descend into: only those a prefix leads into or out of (see
    /// [`crate::glob::Patterns::literal_prefixes`]); `None` for every directory.
    scope: Option<Vec<Vec<u8>>>,
    /// The trees read last, for a history walk (`None` for one comparison, which reads
    /// each tree once): a commit's trees are read again as its child's base, usually
    /// right after, which halved the trees inflated by `semver-release --service`.
    recent: Option<RefCell<Recent>>,
    /// For a history walk, trees are read through libgit2's object database instead:
    /// the versions of one directory along a history are delta chains through each
    /// other, and libgit2 keeps the bases it resolves on the way (as git does), where
    /// gitoxide keeps only the object asked for and inflates the rest of each chain
    /// again. The 7,216 root trees of the bench's real-shaped history took gitoxide
    /// 34–56 ms and libgit2 11 ms; one comparison of far-apart trees (detect-changes)
    /// goes the other way.
    history: Option<git2::Odb<'r>>,
}

/// The last [`RECENT_TREES`] trees read, newest last.
#[derive(Default)]
struct Recent {
    trees: std::collections::VecDeque<(Oid, Rc<[u8]>)>,
    /// Trees asked for, and found here (logged at debug level).
    asked: u64,
    found: u64,
}

impl Drop for Recent {
    fn drop(&mut self) {
        tracing::debug!(
            "{} trees compared, {} of them read again from the recent ones",
            self.asked,
            self.found
        );
    }
}

/// Trees kept by [`Recent`]: a commit's and its parent's along the paths compared.
const RECENT_TREES: usize = 32;

impl Recent {
    fn get(&mut self, id: Oid) -> Option<Rc<[u8]>> {
        self.asked += 1;
        let data = self
            .trees
            .iter()
            .rev()
            .find(|(tree, _)| *tree == id)
            .map(|(_, data)| data.clone());
        self.found += u64::from(data.is_some());
        data
    }

    fn put(&mut self, id: Oid, data: Rc<[u8]>) {
        if self.trees.len() == RECENT_TREES {
            self.trees.pop_front();
        }
        self.trees.push_back((id, data));
    }
}

/// Delta bases kept while comparing (trees of nearby commits share their bases). On the
/// bench's monorepo anything from 1 to 64 MiB reads as fast and peaks as high; the bound
/// is for repositories whose trees are far larger.
const DELTA_BASE_CACHE: usize = 8 << 20;

impl Trees<'_> {
    fn open(repo: &Repository) -> Result<Trees<'static>, GitError> {
        // The common directory: a linked worktree shares the main checkout's objects.
        let dir = repo.commondir().join("objects");
        let mut store = gix_odb::at(&dir, gix_hash::Kind::Sha1).map_err(|e| GitError::Objects {
            what: format!("cannot open the object database at {}", dir.display()),
            source: Box::new(e),
        })?;
        store.set_pack_cache(|| {
            Box::new(gix_odb::pack::cache::lru::MemoryCappedHashmap::new(
                DELTA_BASE_CACHE,
            ))
        });
        Ok(Trees {
            store,
            scope: None,
            recent: None,
            history: None,
        })
    }

    /// True when a path below `dir` (empty, or ending in `/`) may be in scope.
    fn in_scope(&self, dir: &[u8]) -> bool {
        self.scope.as_ref().is_none_or(|prefixes| {
            prefixes
                .iter()
                .any(|p| p.starts_with(dir) || dir.starts_with(p))
        })
    }

    /// The tree of commit `id`, read through the same store.
    fn commit_tree(&self, id: Oid) -> Result<Oid, GitError> {
        let unreadable = |source: Box<dyn std::error::Error + Send + Sync>| GitError::Objects {
            what: format!("cannot read commit {id}"),
            source,
        };
        let key =
            gix_hash::ObjectId::try_from(id.as_bytes()).map_err(|e| unreadable(Box::new(e)))?;
        let mut data = Vec::new();
        let found = gix_odb::pack::Find::try_find(&self.store, &key, &mut data)
            .map_err(|e| unreadable(e.into()))?
            .map(|(object, _)| object.kind.is_commit());
        match found {
            Some(true) => {}
            Some(false) => return Err(corrupt(id, "not a commit")),
            None => return Err(unreadable("the object is not in the repository".into())),
        }
        data.strip_prefix(b"tree ")
            .and_then(|rest| rest.get(..40))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| Oid::from_str(hex).ok())
            .ok_or_else(|| corrupt(id, "not a commit with a tree"))
    }

    /// The tree `id`, or an empty one for an absent side.
    fn read(&self, id: Option<Oid>) -> Result<RawTree, GitError> {
        let Some(id) = id else {
            return Ok(RawTree {
                id: None,
                data: TreeBytes::Owned(Vec::new()),
            });
        };
        if let Some(data) = self.recent.as_ref().and_then(|r| r.borrow_mut().get(id)) {
            return Ok(RawTree {
                id: Some(id),
                data: TreeBytes::Shared(data),
            });
        }
        let unreadable = |source: Box<dyn std::error::Error + Send + Sync>| GitError::Objects {
            what: format!("cannot read tree {id}"),
            source,
        };
        let (found, data) = match &self.history {
            Some(odb) => match odb.read(id) {
                Ok(object) => (
                    Some(object.kind() == git2::ObjectType::Tree),
                    object.data().to_vec(),
                ),
                Err(e) if e.code() == git2::ErrorCode::NotFound => (None, Vec::new()),
                Err(e) => return Err(unreadable(Box::new(e))),
            },
            None => {
                let key = gix_hash::ObjectId::try_from(id.as_bytes())
                    .map_err(|e| unreadable(Box::new(e)))?;
                let mut data = Vec::new();
                let found = gix_odb::pack::Find::try_find(&self.store, &key, &mut data)
                    .map_err(|e| unreadable(e.into()))?
                    .map(|(object, _)| object.kind.is_tree());
                (found, data)
            }
        };
        match found {
            Some(true) => {
                let data = match &self.recent {
                    Some(recent) => {
                        let shared: Rc<[u8]> = Rc::from(data);
                        recent.borrow_mut().put(id, shared.clone());
                        TreeBytes::Shared(shared)
                    }
                    None => TreeBytes::Owned(data),
                };
                Ok(RawTree { id: Some(id), data })
            }
            Some(false) => Err(corrupt(id, "not a tree")),
            None => Err(unreadable("the object is not in the repository".into())),
        }
    }
}

/// A tree's raw bytes: entries are parsed on demand and borrow their names from them.
struct RawTree {
    id: Option<Oid>,
    data: TreeBytes,
}

/// A tree's bytes: its own, or shared with [`Recent`].
enum TreeBytes {
    Owned(Vec<u8>),
    Shared(Rc<[u8]>),
}

impl std::ops::Deref for TreeBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            TreeBytes::Owned(v) => v,
            TreeBytes::Shared(r) => r,
        }
    }
}

impl RawTree {
    fn entries(&self) -> Result<Vec<Entry<'_>>, GitError> {
        match self.id {
            None => Ok(Vec::new()),
            Some(id) => parse_tree(&self.data).ok_or_else(|| corrupt(id, "malformed tree object")),
        }
    }
}

fn corrupt(id: Oid, what: &str) -> GitError {
    GitError::Git {
        what: format!("cannot read tree {id}"),
        source: git2::Error::from_str(what),
    }
}

/// Parses a tree object's bytes; `None` when they are not a well-formed tree.
fn parse_tree(mut data: &[u8]) -> Option<Vec<Entry<'_>>> {
    let mut out = Vec::with_capacity(data.len() / 40 + 1);
    while !data.is_empty() {
        let space = data.iter().position(|&b| b == b' ')?;
        let mut mode = 0i32;
        for &c in &data[..space] {
            if !(b'0'..=b'7').contains(&c) || space > 7 {
                return None;
            }
            mode = mode * 8 + i32::from(c - b'0');
        }
        let rest = &data[space + 1..];
        let nul = rest.iter().position(|&b| b == 0)?;
        let name = &rest[..nul];
        let id = Oid::from_bytes(rest.get(nul + 1..nul + 21)?).ok()?;
        if name.is_empty() {
            return None;
        }
        out.push(Entry { name, id, mode });
        data = &rest[nul + 21..];
    }
    Some(out)
}

/// Appends the file-level differences between two trees (either may be absent) under
/// `prefix`, descending only into subtrees whose ids differ.
fn compare_trees(
    trees: &Trees<'_>,
    old: Option<Oid>,
    new: Option<Oid>,
    prefix: &mut Vec<u8>,
    out: &mut Vec<RawChange>,
) -> Result<(), GitError> {
    if old == new || !trees.in_scope(prefix) {
        return Ok(());
    }
    let (old_tree, new_tree) = (trees.read(old)?, trees.read(new)?);
    let old = old_tree.entries()?;
    let new = new_tree.entries()?;
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        let order = match (old.get(i), new.get(j)) {
            (Some(o), Some(n)) => {
                entry_order(o.name, o.mode == MODE_TREE, n.name, n.mode == MODE_TREE)
            }
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                side(trees, &old[i], Status::Deleted, prefix, out)?;
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                side(trees, &new[j], Status::Added, prefix, out)?;
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let (o, n) = (&old[i], &new[j]);
                if o.id != n.id || o.mode != n.mode {
                    if o.mode == MODE_TREE {
                        let len = prefix.len();
                        prefix.extend_from_slice(o.name);
                        prefix.push(b'/');
                        compare_trees(trees, Some(o.id), Some(n.id), prefix, out)?;
                        prefix.truncate(len);
                    } else if entry_type(o.mode) == entry_type(n.mode) {
                        out.push(RawChange {
                            status: Status::Modified,
                            path: joined(prefix, n.name),
                            id: n.id,
                            mode: n.mode,
                        });
                    } else {
                        // A type change (file ↔ symlink ↔ submodule) is a deletion and an
                        // addition, as libgit2 reports it without INCLUDE_TYPECHANGE.
                        side(trees, o, Status::Deleted, prefix, out)?;
                        side(trees, n, Status::Added, prefix, out)?;
                    }
                }
                i += 1;
                j += 1;
            }
        }
    }
    Ok(())
}

fn joined(prefix: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(prefix.len() + name.len());
    p.extend_from_slice(prefix);
    p.extend_from_slice(name);
    p
}

/// An entry present on one side only: the file, or every file below the tree.
fn side(
    trees: &Trees<'_>,
    e: &Entry,
    status: Status,
    prefix: &mut Vec<u8>,
    out: &mut Vec<RawChange>,
) -> Result<(), GitError> {
    if e.mode == MODE_TREE {
        let len = prefix.len();
        prefix.extend_from_slice(e.name);
        prefix.push(b'/');
        let (old, new) = match status {
            Status::Deleted => (Some(e.id), None),
            _ => (None, Some(e.id)),
        };
        compare_trees(trees, old, new, prefix, out)?;
        prefix.truncate(len);
    } else {
        out.push(RawChange {
            status,
            path: joined(prefix, e.name),
            id: e.id,
            mode: e.mode,
        });
    }
    Ok(())
}

/// Pairs deleted with added files the way libgit2's rename detection does
/// (`find_similar` with `renames`), returning `(deleted index, added index)` pairs.
///
/// libgit2 can only detect renames inside a `Diff`, so the deleted and the added files
/// are put into two flat trees, written to an in-memory object database of a second
/// handle on the repository (nothing reaches the disk), and diffed: every delta of that
/// diff is an addition or a deletion, exactly the candidates of the full diff, in the
/// same order.
fn find_renames(repo: &Repository, raw: &[RawChange]) -> Result<Vec<(usize, usize)>, GitError> {
    let candidate = |status: Status| {
        raw.iter()
            .enumerate()
            .filter(move |(_, r)| r.status == status && r.mode != MODE_COMMIT)
            .map(|(i, _)| i)
            .collect::<Vec<_>>()
    };
    let deleted = candidate(Status::Deleted);
    let added = candidate(Status::Added);
    if deleted.is_empty() || added.is_empty() {
        return Ok(Vec::new());
    }
    let err = |what: &str| GitError::git(format!("cannot detect renames ({what})"));
    // A blobless clone (`filter: blob:none`, or actions/checkout's sparse-checkout) has
    // no blob it did not check out; libgit2 cannot fetch them lazily as git does.
    let odb = repo.odb().map_err(err("object database"))?;
    let missing: Vec<Oid> = deleted
        .iter()
        .chain(&added)
        .map(|&i| raw[i].id)
        .filter(|id| !odb.exists(*id))
        .collect();
    drop(odb);
    if let Some(first) = missing.first() {
        match Promisor::of(repo) {
            Some(promisor) => promisor.fetch(missing.iter().copied())?,
            None => {
                return Err(GitError::Missing {
                    count: missing.len(),
                    first: first.to_string(),
                });
            }
        }
    }
    let scratch = Repository::open(repo.path()).map_err(err("open"))?;
    let odb = scratch.odb().map_err(err("object database"))?;
    // Highest priority: tree writes go to memory, reads of the blobs fall through.
    let _mempack = odb
        .add_new_mempack_backend(1000)
        .map_err(err("in-memory objects"))?;
    // Names sort like the real paths (zero-padded indexes), so ties break the same way.
    let flat = |indexes: &[usize], tag: char| -> Result<Oid, GitError> {
        let mut tb = scratch.treebuilder(None).map_err(err("tree builder"))?;
        for (n, &i) in indexes.iter().enumerate() {
            tb.insert(format!("{tag}{n:010}"), raw[i].id, raw[i].mode)
                .map_err(err("tree entry"))?;
        }
        tb.write().map_err(err("tree write"))
    };
    let old_tree = scratch
        .find_tree(flat(&deleted, 'd')?)
        .map_err(err("tree"))?;
    let new_tree = scratch.find_tree(flat(&added, 'a')?).map_err(err("tree"))?;
    let mut opts = DiffOptions::new();
    opts.skip_binary_check(true).ignore_submodules(false);
    let mut diff = scratch
        .diff_tree_to_tree(Some(&old_tree), Some(&new_tree), Some(&mut opts))
        .map_err(GitError::git("cannot compute the diff"))?;
    let mut find = DiffFindOptions::new();
    find.renames(true);
    diff.find_similar(Some(&mut find))
        .map_err(GitError::git("cannot detect renames"))?;
    let index = |file: git2::DiffFile<'_>, tag: u8, set: &[usize]| {
        let name = file.path_bytes()?;
        if name.first() != Some(&tag) {
            return None;
        }
        let n: usize = std::str::from_utf8(&name[1..]).ok()?.parse().ok()?;
        set.get(n).copied()
    };
    Ok(diff
        .deltas()
        .filter(|d| d.status() == Delta::Renamed)
        .filter_map(|d| {
            Some((
                index(d.old_file(), b'd', &deleted)?,
                index(d.new_file(), b'a', &added)?,
            ))
        })
        .collect())
}

/// The remote a partial clone fetches its missing objects from (`remote.<name>.promisor`).
struct Promisor {
    dir: std::path::PathBuf,
    remote: String,
}

impl Promisor {
    fn of(repo: &Repository) -> Option<Promisor> {
        let config = repo.config().ok()?.snapshot().ok()?;
        let promised = |name: &str| {
            config
                .get_bool(&format!("remote.{name}.promisor"))
                .unwrap_or(false)
        };
        let remote = config
            .get_string("extensions.partialclone")
            .ok()
            .or_else(|| {
                let remotes = repo.remotes().ok()?;
                let mut names = remotes.iter().filter_map(|name| name.ok().flatten());
                names.find(|name| promised(name)).map(str::to_string)
            })?;
        Some(Promisor {
            dir: crate::cli_dir(repo),
            remote,
        })
    }

    /// Fetches `ids` (trees come with their subtrees, never with blobs) the way git's
    /// own lazy fetch does, in batches that keep the command line short.
    fn fetch(&self, ids: impl Iterator<Item = Oid>) -> Result<(), GitError> {
        let ids: Vec<String> = ids.map(|id| id.to_string()).collect();
        for batch in ids.chunks(1000) {
            let mut args = vec![
                "-c",
                "fetch.negotiationAlgorithm=noop",
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                "--recurse-submodules=no",
                "--filter=blob:none",
                self.remote.as_str(),
            ];
            args.extend(batch.iter().map(String::as_str));
            crate::git_cli(&self.dir, &args)?;
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_trees_parse_and_malformed_ones_are_refused() {
        let id = [7u8; 20];
        let mut data = b"100644 a file\0".to_vec();
        data.extend_from_slice(&id);
        data.extend_from_slice(b"40000 dir\0");
        data.extend_from_slice(&id);
        let e = parse_tree(&data).expect("tree");
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].name, e[0].mode), (&b"a file"[..], 0o100644));
        assert_eq!((e[1].name, e[1].mode), (&b"dir"[..], MODE_TREE));
        assert_eq!(e[1].id, Oid::from_bytes(&id).expect("oid"));
        assert!(parse_tree(b"").expect("empty tree").is_empty());
        assert!(parse_tree(&data[..data.len() - 1]).is_none(), "short id");
        assert!(parse_tree(b"10x644 a\0").is_none(), "bad mode");
        assert!(parse_tree(b"100644 a").is_none(), "no NUL");
        let mut unnamed = b"100644 \0".to_vec();
        unnamed.extend_from_slice(&id);
        assert!(parse_tree(&unnamed).is_none(), "empty name");
    }

    #[test]
    fn entries_sort_in_git_order() {
        use std::cmp::Ordering::*;
        // "a.txt" < "a/" (tree) because '.' < '/'; a file "a" sorts before a tree "a".
        assert_eq!(entry_order(b"a.txt", false, b"a", true), Less);
        assert_eq!(entry_order(b"a", false, b"a", true), Less);
        assert_eq!(entry_order(b"a", true, b"a", true), Equal);
        assert_eq!(entry_order(b"ab", false, b"a", true), Greater);
    }
}
