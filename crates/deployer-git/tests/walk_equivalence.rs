//! `walk::walk` transcribes libgit2's revwalk (`TOPOLOGICAL | TIME`, one tip, one hidden
//! commit) so that semver-release's changelog order and revert pairing stay what they
//! were. These tests hold it to libgit2's own revwalk, commit for commit, on random
//! graphs: merges (octopus too), several roots, commit times that tie and that go
//! backwards (clock skew, which is where the slop of libgit2's `limit_list` matters),
//! hidden commits that are ancestors, descendants, unrelated or the tip itself, and
//! shallow clones' boundaries (a `shallow` file, which both read as grafts).

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use deployer_git::{diff, walk};
use git2::{Oid, Repository, Sort};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A random graph of `n` commits through `git fast-import`; returns the commit ids.
fn random_graph(dir: &Path, rng: &mut Rng, n: usize) -> Vec<Oid> {
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    git(&["init", "-q"]);
    let mut stream = String::new();
    for i in 0..n {
        stream.push_str(&format!("commit refs/heads/b{i}\nmark :{}\n", i + 1));
        // Times from a small range: many ties, and children older than parents.
        let time = 1_700_000_000 + rng.below(12) * 60 + i as u64 * rng.below(3) * 20;
        stream.push_str(&format!("committer C <c@x> {time} +0000\n"));
        let message = format!("commit {i}\n");
        stream.push_str(&format!("data {}\n{message}", message.len()));
        if i > 0 && rng.below(10) != 0 {
            // The first parent is usually recent (branches are short), sometimes old.
            let span = if rng.below(4) == 0 { i } else { i.min(4) };
            let first = i - 1 - rng.below(span as u64) as usize;
            stream.push_str(&format!("from :{}\n", first + 1));
            let extra = match rng.below(8) {
                0 | 1 => 1,
                2 => 2,
                _ => 0,
            };
            for _ in 0..extra {
                let other = rng.below(i as u64) as usize;
                if other != first {
                    stream.push_str(&format!("merge :{}\n", other + 1));
                }
            }
        }
        stream.push_str(&format!(
            "M 644 inline f\ndata {}\n{i}\n\n",
            format!("{i}\n").len()
        ));
    }
    stream.push_str("done\n");
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet", "--done", "--export-marks=marks"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()
        .expect("fast-import");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("write");
    assert!(child.wait().expect("wait").success());
    let marks = std::fs::read_to_string(dir.join("marks")).expect("marks");
    let mut ids = vec![Oid::ZERO_SHA1; n];
    for line in marks.lines() {
        let (mark, id) = line.split_once(' ').expect("mark line");
        let mark: usize = mark.trim_start_matches(':').parse().expect("mark");
        ids[mark - 1] = Oid::from_str(id).expect("oid");
    }
    ids
}

fn libgit2_order(repo: &Repository, head: Oid, hide: Option<Oid>) -> Vec<Oid> {
    let mut walk = repo.revwalk().expect("revwalk");
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
        .expect("sorting");
    walk.push(head).expect("push");
    if let Some(h) = hide {
        walk.hide(h).expect("hide");
    }
    walk.map(|id| id.expect("walk")).collect()
}

fn our_order(repo: &Repository, head: Oid, hide: Option<Oid>, roots: &HashSet<Oid>) -> Vec<Oid> {
    let store = diff::open_store(repo).expect("store");
    let visits = walk::walk(repo, &store, head, hide, roots, |c| c.id)
        .expect("walk")
        .expect("every commit here parses");
    for v in &visits {
        assert_eq!(v.item, v.id, "the extracted item travels with its commit");
        assert_eq!(v.shallow_root, roots.contains(&v.id));
        let commit = repo.find_commit(v.id).expect("commit");
        assert_eq!(v.tree, commit.tree_id());
        assert_eq!(v.merge, commit.parent_count() > 1);
        assert_eq!(v.first_parent, commit.parent_id(0).ok());
        assert_eq!(
            v.hidden_parent,
            hide.is_some_and(|h| commit.parent_ids().any(|p| p == h))
        );
    }
    visits.into_iter().map(|v| v.id).collect()
}

#[test]
fn the_walk_is_libgit2s_revwalk_on_random_graphs() {
    for seed in 1..=12u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let tmp = tempfile::tempdir().expect("tmp");
        let ids = random_graph(tmp.path(), &mut rng, 40 + 15 * seed as usize);
        let repo = Repository::open(tmp.path()).expect("open");
        let none = HashSet::new();
        for _ in 0..25 {
            let head = ids[ids.len() - 1 - rng.below(ids.len() as u64 / 3) as usize];
            let hide = match rng.below(5) {
                0 => None,
                1 => Some(head),
                _ => Some(ids[rng.below(ids.len() as u64) as usize]),
            };
            assert_eq!(
                our_order(&repo, head, hide, &none),
                libgit2_order(&repo, head, hide),
                "seed {seed}, head {head}, hide {hide:?}"
            );
        }
    }
}

#[test]
fn shallow_boundaries_are_grafts_for_both() {
    for seed in 20..=25u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let tmp = tempfile::tempdir().expect("tmp");
        let ids = random_graph(tmp.path(), &mut rng, 120);
        let roots: HashSet<Oid> = (0..6).map(|_| ids[40 + rng.below(60) as usize]).collect();
        let shallow: String = roots.iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(tmp.path().join(".git/shallow"), shallow).expect("shallow");
        let repo = Repository::open(tmp.path()).expect("open");
        assert!(repo.is_shallow());
        for _ in 0..10 {
            let head = ids[ids.len() - 1 - rng.below(20) as usize];
            let hide = (rng.below(3) != 0).then(|| ids[rng.below(ids.len() as u64) as usize]);
            assert_eq!(
                our_order(&repo, head, hide, &roots),
                libgit2_order(&repo, head, hide),
                "seed {seed}, head {head}, hide {hide:?}"
            );
        }
    }
}
