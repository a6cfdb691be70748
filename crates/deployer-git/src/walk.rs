//! The history walk of `semver-release`: the commits of `head` not reachable from one
//! hidden commit, in the order of libgit2's revwalk with `TOPOLOGICAL | TIME`, reading
//! each commit object once through gitoxide's object store.
//!
//! Why not libgit2's revwalk itself: it reads every commit to order the walk, and the
//! caller then read each one again for its message (`find_commit`), and once more for its
//! tree with `--service`; every libgit2 read also sets up a zlib stream and copies the
//! object. On a merge-heavy history that was 2.1× `git log --format=%B` (issue 21).
//!
//! The order is libgit2's to the tie: changelog lines come out in the same order as
//! before, and a revert is still met before the commit it reverts. So the algorithm is a
//! transcription of libgit2 1.9's `revwalk.c` (`prepare_walk`, `limit_list` with its
//! slop of 5, `sort_in_topological_order`) and `pqueue.c` (the binary heap, whose order
//! between commits of equal time is part of the answer); `tests/walk_equivalence.rs`
//! holds it to libgit2's revwalk on random graphs with equal and skewed commit times.
//!
//! Anything this reader does not parse the way libgit2's quick commit parser does, or a
//! legacy `info/grafts` file (libgit2 applies it; shallow clones' grafts are applied
//! here too), makes [`walk`] answer `None`: the caller then walks with libgit2.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use git2::Oid;

use crate::GitError;

/// How many uninteresting commits libgit2 looks at after it runs out of interesting
/// ones (`SLOP` in revwalk.c), for commits whose times are out of order.
const SLOP: u32 = 5;

/// A commit as the walk reads it, handed to the `extract` callback of [`walk`].
pub struct CommitData<'a> {
    pub id: Oid,
    /// The number of parents (after a shallow clone's grafts).
    pub parents: usize,
    /// The message, leading newlines dropped (libgit2's `git_commit_message`).
    pub message: &'a [u8],
}

/// A commit of the walk's answer, in order.
#[derive(Debug)]
pub struct Visit<T> {
    pub id: Oid,
    pub tree: Oid,
    /// The first parent (`None` for a root or a shallow clone's boundary).
    pub first_parent: Option<Oid>,
    /// The first parent's tree (`None` for a root or a shallow clone's boundary).
    pub first_parent_tree: Option<Oid>,
    pub merge: bool,
    /// A parent is the hidden commit.
    pub hidden_parent: bool,
    /// The commit is a shallow clone's boundary (its parents are not here).
    pub shallow_root: bool,
    pub item: T,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    id: Oid,
    tree: Oid,
    time: i64,
    /// `parents[first..first + count]` of the walk.
    first: u32,
    count: u32,
    parsed: bool,
    seen: bool,
    added: bool,
    uninteresting: bool,
    in_degree: u32,
}

/// The walk's state: libgit2's commit nodes, in a vector, with their parent lists.
struct Graph<'a, T, F> {
    store: &'a gix_odb::Handle,
    roots: &'a HashSet<Oid>,
    nodes: Vec<Node>,
    items: Vec<Option<T>>,
    parents: Vec<u32>,
    index: HashMap<Oid, u32, BuildHasherDefault<OidHasher>>,
    buf: Vec<u8>,
    extract: F,
}

/// Why the walk stepped aside for libgit2's (the caller falls back).
struct Unsupported;

enum Failure {
    Unsupported,
    Git(GitError),
}

impl From<GitError> for Failure {
    fn from(e: GitError) -> Self {
        Failure::Git(e)
    }
}

impl From<Unsupported> for Failure {
    fn from(_: Unsupported) -> Self {
        Failure::Unsupported
    }
}

/// Walks from `head`, hiding `hide` and its ancestors, in libgit2's `TOPOLOGICAL | TIME`
/// order. `extract` is called once per commit that may be in the answer, while its
/// object is read, and its result comes back with the commit in [`Visit::item`].
/// `roots` are a shallow clone's boundary commits (walked as if they had no parents).
/// `Ok(None)`: a commit this reader does not parse as libgit2 would; walk with libgit2.
pub fn walk<T, F>(
    repo: &git2::Repository,
    store: &gix_odb::Handle,
    head: Oid,
    hide: Option<Oid>,
    roots: &HashSet<Oid>,
    extract: F,
) -> Result<Option<Vec<Visit<T>>>, GitError>
where
    F: FnMut(CommitData<'_>) -> T,
{
    // Legacy grafts rewrite parents; libgit2 honours them, this reader does not.
    if repo.commondir().join("info").join("grafts").exists() {
        return Ok(None);
    }
    let mut graph = Graph {
        store,
        roots,
        nodes: Vec::new(),
        items: Vec::new(),
        parents: Vec::new(),
        index: HashMap::default(),
        buf: Vec::new(),
        extract,
    };
    match graph.run(head, hide) {
        Ok(visits) => Ok(Some(visits)),
        Err(Failure::Unsupported) => Ok(None),
        Err(Failure::Git(e)) => Err(e),
    }
}

impl<T, F: FnMut(CommitData<'_>) -> T> Graph<'_, T, F> {
    fn run(&mut self, head: Oid, hide: Option<Oid>) -> Result<Vec<Visit<T>>, Failure> {
        // `git_revwalk_push(head)` then `git_revwalk_hide(tag)`: each inserts at the front
        // of the user input; a hide of the pushed commit itself marks it too.
        let head_node = self.lookup(head);
        let mut input = vec![head_node];
        if let Some(hidden) = hide {
            let n = self.lookup(hidden);
            if !self.nodes[n as usize].uninteresting {
                self.nodes[n as usize].uninteresting = true;
                input.insert(0, n);
            }
        }
        // prepare_walk
        let mut commits = Vec::new();
        for &n in &input {
            self.parse(n)?;
            if self.nodes[n as usize].uninteresting {
                self.mark_parents_uninteresting(n);
            }
            if !self.nodes[n as usize].seen {
                self.nodes[n as usize].seen = true;
                commits.push(n);
            }
        }
        let limited = self.limit_list(commits)?;
        let sorted = self.sort_in_topological_order(&limited);
        tracing::debug!(
            "walk: {} commits read, {} in the range",
            self.nodes.iter().filter(|n| n.parsed).count(),
            limited.len()
        );
        let hidden = hide.and_then(|h| self.index.get(&h).copied());
        let mut visits = Vec::with_capacity(sorted.len());
        for n in sorted {
            if !self.nodes[n as usize].uninteresting {
                visits.push(self.visit(n, hidden));
            }
        }
        Ok(visits)
    }

    fn visit(&mut self, n: u32, hidden: Option<u32>) -> Visit<T> {
        let node = self.nodes[n as usize];
        let parents = &self.parents[node.first as usize..(node.first + node.count) as usize];
        let first_parent = parents.first().map(|&p| self.nodes[p as usize]);
        Visit {
            id: node.id,
            tree: node.tree,
            first_parent: first_parent.map(|p| p.id),
            first_parent_tree: first_parent.map(|p| p.tree),
            merge: parents.len() > 1,
            hidden_parent: hidden.is_some_and(|h| parents.contains(&h)),
            shallow_root: self.roots.contains(&node.id),
            item: self.items[n as usize]
                .take()
                .expect("an interesting commit was interesting when it was read"),
        }
    }

    fn lookup(&mut self, id: Oid) -> u32 {
        if let Some(&n) = self.index.get(&id) {
            return n;
        }
        let n = self.nodes.len() as u32;
        self.nodes.push(Node {
            id,
            tree: Oid::ZERO_SHA1,
            time: 0,
            first: 0,
            count: 0,
            parsed: false,
            seen: false,
            added: false,
            uninteresting: false,
            in_degree: 0,
        });
        self.items.push(None);
        self.index.insert(id, n);
        n
    }

    fn parent(&self, n: u32, i: u32) -> u32 {
        self.parents[(self.nodes[n as usize].first + i) as usize]
    }

    /// `git_commit_list_parse`: reads the commit once; its message goes to `extract`
    /// unless the commit is already known to be hidden.
    fn parse(&mut self, n: u32) -> Result<(), Failure> {
        if self.nodes[n as usize].parsed {
            return Ok(());
        }
        let id = self.nodes[n as usize].id;
        let mut buf = std::mem::take(&mut self.buf);
        read_commit(self.store, id, &mut buf)?;
        let raw = parse_commit(&buf).ok_or(Unsupported)?;
        let grafted = self.roots.contains(&id);
        let first = self.parents.len() as u32;
        let mut count = 0;
        if !grafted {
            for hex in raw.parents() {
                let p = self.lookup(hex);
                self.parents.push(p);
                count += 1;
            }
        }
        let node = &mut self.nodes[n as usize];
        node.tree = raw.tree;
        node.time = raw.time;
        node.first = first;
        node.count = count;
        node.parsed = true;
        if !node.uninteresting {
            let item = (self.extract)(CommitData {
                id,
                parents: count as usize,
                message: raw.message,
            });
            self.items[n as usize] = Some(item);
        }
        self.buf = buf;
        Ok(())
    }

    /// libgit2's `git_commit_list_insert_by_date`: before the first older commit.
    fn insert_by_date(&self, list: &mut VecDeque<u32>, n: u32) {
        let time = self.nodes[n as usize].time;
        let at = list
            .iter()
            .position(|&p| self.nodes[p as usize].time < time)
            .unwrap_or(list.len());
        list.insert(at, n);
    }

    fn mark_parents_uninteresting(&mut self, n: u32) {
        let mut stack: Vec<u32> = (0..self.nodes[n as usize].count)
            .map(|i| self.parent(n, i))
            .collect();
        while let Some(mut c) = stack.pop() {
            loop {
                let node = &mut self.nodes[c as usize];
                if node.uninteresting {
                    break;
                }
                node.uninteresting = true;
                // An unparsed commit has no parent list yet.
                if !node.parsed || node.count == 0 {
                    break;
                }
                let count = node.count;
                for i in 0..count {
                    let p = self.parent(c, i);
                    stack.push(p);
                }
                c = self.parent(c, 0);
            }
        }
    }

    fn add_parents_to_list(&mut self, n: u32, list: &mut VecDeque<u32>) -> Result<(), Failure> {
        if self.nodes[n as usize].added {
            return Ok(());
        }
        self.nodes[n as usize].added = true;
        let count = self.nodes[n as usize].count;
        if self.nodes[n as usize].uninteresting {
            for i in 0..count {
                let p = self.parent(n, i);
                self.nodes[p as usize].uninteresting = true;
                self.parse(p)?;
                self.mark_parents_uninteresting(p);
                self.nodes[p as usize].seen = true;
                self.insert_by_date(list, p);
            }
            return Ok(());
        }
        for i in 0..count {
            let p = self.parent(n, i);
            self.parse(p)?;
            if !self.nodes[p as usize].seen {
                self.nodes[p as usize].seen = true;
                self.insert_by_date(list, p);
            }
        }
        Ok(())
    }

    fn still_interesting(&self, list: &VecDeque<u32>, time: i64, slop: u32) -> u32 {
        let Some(&front) = list.front() else {
            return 0;
        };
        if time <= self.nodes[front as usize].time {
            return SLOP;
        }
        let busy = list.iter().any(|&c| {
            let node = &self.nodes[c as usize];
            !node.uninteresting || node.time > time
        });
        if busy { SLOP } else { slop - 1 }
    }

    fn limit_list(&mut self, commits: Vec<u32>) -> Result<Vec<u32>, Failure> {
        let mut list: VecDeque<u32> = commits.into();
        let mut out = Vec::new();
        let mut slop = SLOP;
        let mut time = i64::MAX;
        while let Some(c) = list.pop_front() {
            self.add_parents_to_list(c, &mut list)?;
            if self.nodes[c as usize].uninteresting {
                self.mark_parents_uninteresting(c);
                slop = self.still_interesting(&list, time, slop);
                if slop > 0 {
                    continue;
                }
                break;
            }
            time = self.nodes[c as usize].time;
            out.push(c);
        }
        Ok(out)
    }

    fn sort_in_topological_order(&mut self, list: &[u32]) -> Vec<u32> {
        for &c in list {
            self.nodes[c as usize].in_degree = 1;
        }
        for &c in list {
            for i in 0..self.nodes[c as usize].count {
                let p = self.parent(c, i) as usize;
                if self.nodes[p].in_degree != 0 {
                    self.nodes[p].in_degree += 1;
                }
            }
        }
        let mut queue = TimeQueue::default();
        for &c in list {
            if self.nodes[c as usize].in_degree == 1 {
                queue.insert(&self.nodes, c);
            }
        }
        let mut out = Vec::with_capacity(list.len());
        while let Some(next) = queue.pop(&self.nodes) {
            for i in 0..self.nodes[next as usize].count {
                let p = self.parent(next, i);
                let node = &mut self.nodes[p as usize];
                if node.in_degree == 0 {
                    continue;
                }
                node.in_degree -= 1;
                if node.in_degree == 1 {
                    queue.insert(&self.nodes, p);
                }
            }
            self.nodes[next as usize].in_degree = 0;
            out.push(next);
        }
        out
    }
}

/// libgit2's `git_pqueue` with `git_commit_list_time_cmp`: a binary heap, newest first.
/// Its order among commits of equal time is the heap's, so it is transcribed as is.
#[derive(Default)]
struct TimeQueue {
    heap: Vec<u32>,
}

impl TimeQueue {
    /// `git_commit_list_time_cmp(a, b) > 0`: `a` is older.
    fn after(nodes: &[Node], a: u32, b: u32) -> bool {
        nodes[a as usize].time < nodes[b as usize].time
    }

    fn insert(&mut self, nodes: &[Node], item: u32) {
        self.heap.push(item);
        let mut el = self.heap.len() - 1;
        let kid = self.heap[el];
        while el > 0 {
            let parent_el = (el - 1) >> 1;
            let parent = self.heap[parent_el];
            if !Self::after(nodes, parent, kid) {
                break;
            }
            self.heap[el] = parent;
            el = parent_el;
        }
        self.heap[el] = kid;
    }

    fn pop(&mut self, nodes: &[Node]) -> Option<u32> {
        let top = *self.heap.first()?;
        let last = self.heap.pop()?;
        if self.heap.is_empty() {
            return Some(top);
        }
        self.heap[0] = last;
        let mut el = 0;
        let parent = last;
        loop {
            let mut kid_el = 2 * el + 1;
            let Some(&left) = self.heap.get(kid_el) else {
                break;
            };
            let mut kid = left;
            if let Some(&right) = self.heap.get(kid_el + 1)
                && Self::after(nodes, kid, right)
            {
                kid = right;
                kid_el += 1;
            }
            if !Self::after(nodes, parent, kid) {
                break;
            }
            self.heap[el] = kid;
            el = kid_el;
        }
        self.heap[el] = parent;
        Some(top)
    }
}

/// Reads commit `id` into `buf` (an error when it is missing or not a commit).
fn read_commit(store: &gix_odb::Handle, id: Oid, buf: &mut Vec<u8>) -> Result<(), GitError> {
    let unreadable = |source: Box<dyn std::error::Error + Send + Sync>| GitError::Objects {
        what: format!("cannot read commit {id}"),
        source,
    };
    let key = gix_hash::ObjectId::try_from(id.as_bytes()).map_err(|e| unreadable(Box::new(e)))?;
    let found = gix_odb::pack::Find::try_find(store, &key, buf)
        .map_err(|e| unreadable(e.into()))?
        .map(|(object, _)| object.kind.is_commit());
    match found {
        Some(true) => Ok(()),
        Some(false) => Err(unreadable("the object is not a commit".into())),
        None => Err(unreadable("the object is not in the repository".into())),
    }
}

/// A commit object's fields the walk uses, borrowed from its bytes.
pub(crate) struct RawCommit<'a> {
    pub(crate) tree: Oid,
    parents: &'a [u8],
    pub(crate) time: i64,
    pub(crate) message: &'a [u8],
}

impl RawCommit<'_> {
    /// The parent ids (checked to be hex when parsed).
    pub(crate) fn parents(&self) -> impl Iterator<Item = Oid> + '_ {
        self.parents
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .filter_map(|l| hex_oid(&l[b"parent ".len()..]))
    }
}

/// A SHA-1 in hex (40 digits, either case, as libgit2 accepts them).
fn hex_oid(hex: &[u8]) -> Option<Oid> {
    if hex.len() != 40 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut raw = [0u8; 20];
    for (byte, pair) in raw.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Oid::from_bytes(&raw).ok()
}

/// Hashes an object id by its first 8 bytes: ids are SHA-1 digests, already uniformly
/// spread, so SipHash over all 20 bytes (the default) only costs time.
#[derive(Default)]
struct OidHasher(u64);

impl Hasher for OidHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8).take(1) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(word);
        }
    }

    // `[u8; 20]` hashes its length first: nothing to mix in.
    fn write_usize(&mut self, _: usize) {}
}

/// Splits off the next header line (without its `\n`).
fn line(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = data.iter().position(|&b| b == b'\n')?;
    Some((&data[..end], &data[end + 1..]))
}

/// Parses a commit the way libgit2's quick parser reads it: `tree`, `parent`s, one or
/// more `author`s, then `committer` (its time: the number after `> `, 0 when absent);
/// then the message after the first empty line, leading newlines dropped. `None` for
/// anything else (the caller then leaves the commit to libgit2).
pub(crate) fn parse_commit(data: &[u8]) -> Option<RawCommit<'_>> {
    let (first, mut rest) = line(data)?;
    let tree = hex_oid(first.strip_prefix(b"tree ")?)?;
    let parents_start = rest;
    let mut parents_len = 0;
    while let Some((l, after)) = line(rest) {
        let Some(hex) = l.strip_prefix(b"parent ") else {
            break;
        };
        hex_oid(hex)?;
        parents_len += l.len() + 1;
        rest = after;
    }
    let parents = &parents_start[..parents_len];
    // libgit2's full parse (`find_commit`, which read the message before) needs one.
    let mut authors = 0;
    while let Some((l, after)) = line(rest) {
        if !l.starts_with(b"author ") {
            break;
        }
        authors += 1;
        rest = after;
    }
    if authors == 0 {
        return None;
    }
    let (committer, after) = line(rest)?;
    let time = signature_time(committer.strip_prefix(b"committer ")?)?;
    rest = after;
    // The other headers (encoding, gpgsig, mergetag, …) run to the first empty line.
    loop {
        if rest.first() == Some(&b'\n') {
            rest = &rest[1..];
            break;
        }
        match line(rest) {
            Some((_, after)) => rest = after,
            // No empty line: no message (libgit2 reads the message as empty too).
            None => {
                rest = &[];
                break;
            }
        }
    }
    let start = rest.iter().position(|&b| b != b'\n').unwrap_or(rest.len());
    Some(RawCommit {
        tree,
        parents,
        time,
        message: &rest[start..],
    })
}

/// The time of a signature `Name <email> 1700000000 +0000`, as libgit2 reads it; `None`
/// when it is not a plain decimal number (libgit2's parse of those is left to it).
fn signature_time(sig: &[u8]) -> Option<i64> {
    let open = sig.iter().rposition(|&b| b == b'<')?;
    let close = sig.iter().rposition(|&b| b == b'>')?;
    if close <= open {
        return None;
    }
    let Some(digits) = sig.get(close + 2..).filter(|d| !d.is_empty()) else {
        return Some(0);
    };
    let end = digits
        .iter()
        .position(|&b| b == b' ')
        .unwrap_or(digits.len());
    let number = &digits[..end];
    if number.is_empty() || number.len() > 18 || !number.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(number).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    const P1: &str = "0123456789abcdef0123456789abcdef01234567";
    const P2: &str = "89abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn commits_parse_like_libgit2s_quick_parser() {
        let raw = format!(
            "tree {TREE}\nparent {P1}\nparent {P2}\nauthor A <a@x> 1 +0000\ncommitter C <c@x> 1700000000 +0100\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n line\n -----END PGP SIGNATURE-----\n\n\nfeat: x\n\nbody\n"
        );
        let c = parse_commit(raw.as_bytes()).expect("commit");
        assert_eq!(c.tree.to_string(), TREE);
        let parents: Vec<String> = c.parents().map(|p| p.to_string()).collect();
        assert_eq!(parents, [P1, P2]);
        assert_eq!(c.time, 1_700_000_000);
        assert_eq!(c.message, b"feat: x\n\nbody\n");
        // No time: libgit2 reads 0. No empty line: no message.
        let bare = format!("tree {TREE}\nauthor A <a@x>\ncommitter C <c@x>\n");
        let c = parse_commit(bare.as_bytes()).expect("commit");
        assert_eq!((c.time, c.message), (0, &b""[..]));
        assert_eq!(c.parents().count(), 0);
    }

    #[test]
    fn what_libgit2_would_parse_differently_is_refused() {
        let a = "author A <a@x> 1 +0000";
        let refused = [
            format!("parent {P1}\ntree {TREE}\n{a}\ncommitter C <c@x> 1 +0000\n\nm"),
            format!("tree {TREE}\nparent nothex\n{a}\ncommitter C <c@x> 1 +0000\n\nm"),
            format!("tree {TREE}\n{a}\nencoding x\ncommitter C <c@x> 1 +0000\n\nm"),
            format!("tree {TREE}\n{a}\ncommitter C <c@x> -5 +0000\n\nm"),
            format!("tree {TREE}\n{a}\ncommitter C c@x 1 +0000\n\nm"),
            format!("tree {TREE}\n{a}\ncommitter C <c@x>  1 +0000\n\nm"),
            format!("tree {TREE}\ncommitter C <c@x> 1 +0000\n\nm"),
            "tree x\n\nm".to_string(),
        ];
        for raw in refused {
            assert!(parse_commit(raw.as_bytes()).is_none(), "{raw:?}");
        }
    }

    #[test]
    fn hex_ids_decode_like_libgit2() {
        for hex in [P1, P2, TREE, "ABCDEF0123456789abcdef0123456789ABCDEF01"] {
            assert_eq!(hex_oid(hex.as_bytes()), Oid::from_str(hex).ok(), "{hex}");
        }
        for bad in [&P1[..39], "g123456789abcdef0123456789abcdef01234567"] {
            assert_eq!(hex_oid(bad.as_bytes()), None, "{bad}");
        }
    }

    fn node(time: i64) -> Node {
        Node {
            id: Oid::ZERO_SHA1,
            tree: Oid::ZERO_SHA1,
            time,
            first: 0,
            count: 0,
            parsed: true,
            seen: false,
            added: false,
            uninteresting: false,
            in_degree: 0,
        }
    }

    #[test]
    fn the_queue_pops_newest_first() {
        let nodes: Vec<Node> = [5, 9, 1, 9, 3, 7, 7].into_iter().map(node).collect();
        let mut q = TimeQueue::default();
        for i in 0..nodes.len() as u32 {
            q.insert(&nodes, i);
        }
        let mut times = Vec::new();
        while let Some(n) = q.pop(&nodes) {
            times.push(nodes[n as usize].time);
        }
        assert_eq!(times, [9, 9, 7, 7, 5, 3, 1]);
    }
}
