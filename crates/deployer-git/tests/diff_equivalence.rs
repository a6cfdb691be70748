//! `diff::changed_files` compares trees by hand (skipping identical subtrees) and runs
//! libgit2's rename detection over the added and deleted files only. These tests hold it
//! to the answer of libgit2's full tree-to-tree diff with `find_similar(renames)`, on
//! every pair of commits of a history with nested directories, renames (exact and
//! edited), whole directories deleted, a file replaced by a directory, exec-bit and
//! symlink changes, and odd names.

use std::os::unix::fs::PermissionsExt;

use deployer_git::diff::{self, ChangedFile, Status};
use deployer_git::testing::TestRepo;
use git2::{Delta, DiffFindOptions, DiffOptions, Oid, Repository};

/// The previous implementation: libgit2's diff of the whole trees.
fn reference(repo: &Repository, base: Option<Oid>, head: Oid) -> Vec<ChangedFile> {
    let head_tree = repo.find_commit(head).and_then(|c| c.tree()).expect("tree");
    let base_tree = base.map(|b| repo.find_commit(b).and_then(|c| c.tree()).expect("tree"));
    let mut opts = DiffOptions::new();
    opts.skip_binary_check(true).ignore_submodules(false);
    let mut diff = repo
        .diff_tree_to_tree(base_tree.as_ref(), Some(&head_tree), Some(&mut opts))
        .expect("diff");
    let mut find = DiffFindOptions::new();
    find.renames(true);
    diff.find_similar(Some(&mut find)).expect("renames");
    let name = |f: git2::DiffFile<'_>| {
        f.path_bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    let mut out: Vec<ChangedFile> = diff
        .deltas()
        .filter_map(|d| {
            let status = match d.status() {
                Delta::Added => Status::Added,
                Delta::Deleted => Status::Deleted,
                Delta::Modified => Status::Modified,
                Delta::Renamed => Status::Renamed,
                Delta::Copied => Status::Copied,
                Delta::Typechange => Status::TypeChanged,
                _ => return None,
            };
            let (new, old) = (name(d.new_file()), name(d.old_file()));
            let (path, old_path) = match status {
                Status::Deleted => (old, None),
                Status::Renamed | Status::Copied => (new, old),
                _ => (new.or(old), None),
            };
            Some(ChangedFile {
                status,
                path: path?,
                old_path,
            })
        })
        .collect();
    // libgit2 orders the deletion and the addition of one path (a type change)
    // differently depending on whether it found renames; changed_files lists the
    // deletion first.
    out.sort_by(|a, b| {
        a.path
            .cmp(&b.path)
            .then_with(|| (a.status != Status::Deleted).cmp(&(b.status != Status::Deleted)))
    });
    out
}

fn body(seed: usize, lines: usize) -> String {
    (0..lines)
        .map(|i| format!("line {i} of a file that is long enough to be similar {seed}\n"))
        .collect()
}

fn set_exec(r: &TestRepo, path: &str, exec: bool) {
    let p = r.path().join(path);
    let mut perm = std::fs::metadata(&p).expect("meta").permissions();
    perm.set_mode(if exec { 0o755 } else { 0o644 });
    std::fs::set_permissions(&p, perm).expect("chmod");
}

/// A history with every kind of change the comparison must get right.
fn varied_history() -> (TestRepo, Vec<Oid>) {
    let mut r = TestRepo::new();
    let mut commits = Vec::new();
    for d in 0..4 {
        for f in 0..5 {
            r.write(&format!("svc/d{d}/sub/f{f}.txt"), &body(d * 10 + f, 30));
        }
        r.write(&format!("svc/d{d}/README"), "readme\n");
    }
    r.write("top.txt", &body(99, 10));
    r.write("odd/with space.md", "a\n");
    r.write("odd/new\nline.md", "b\n");
    r.write("odd/ünïcödé.md", "c\n");
    r.write("x", "a file that becomes a directory\n");
    r.write("tool.sh", "#!/bin/sh\necho hi\n");
    r.write("link-target.txt", "target\n");
    commits.push(r.commit("init"));

    // An exact rename, an edited rename, a modification deep down.
    r.rename("svc/d0/sub/f0.txt", "svc/moved/f0.txt");
    r.rename("svc/d1/sub/f1.txt", "svc/d1/f1-renamed.txt");
    r.write("svc/d1/f1-renamed.txt", &(body(11, 30) + "one more line\n"));
    r.write("svc/d2/sub/f2.txt", &body(1000, 30));
    commits.push(r.commit("renames"));

    // A whole directory deleted, a file replaced by a directory, exec bit, odd names.
    for f in 0..5 {
        r.remove(&format!("svc/d3/sub/f{f}.txt"));
    }
    r.remove("x");
    r.write("x/inside.txt", "now a directory\n");
    set_exec(&r, "tool.sh", true);
    r.remove("odd/with space.md");
    r.write("odd/another name.md", "a\n");
    commits.push(r.commit("deletions and types"));

    // A file becomes a symlink; a new directory appears; nothing else.
    r.remove("top.txt");
    std::os::unix::fs::symlink("link-target.txt", r.path().join("top.txt")).expect("symlink");
    for f in 0..3 {
        r.write(&format!("new/deep/er/f{f}.txt"), &body(500 + f, 5));
    }
    commits.push(r.commit("symlink and new dir"));
    // Identical trees.
    commits.push(r.commit("empty"));
    (r, commits)
}

/// `changed_files` against the reference, from nothing and between every two commits.
fn assert_matches_reference(repo: &Repository, commits: &[Oid]) {
    let mut compared = 0;
    for (i, &a) in commits.iter().enumerate() {
        assert_eq!(
            diff::changed_files(repo, None, a).expect("diff"),
            reference(repo, None, a),
            "everything in commit {i}"
        );
        for (j, &b) in commits.iter().enumerate() {
            let ours = diff::changed_files(repo, Some(a), b).expect("diff");
            assert_eq!(ours, reference(repo, Some(a), b), "commits {i} → {j}");
            compared += 1;
        }
    }
    assert_eq!(compared, commits.len() * commits.len());
}

#[test]
fn matches_libgit2_full_diff_on_every_pair_of_commits() {
    let (r, commits) = varied_history();
    let repo = &r.repo;
    assert_matches_reference(repo, &commits);
    // The cases the history was built for are really in it.
    let step = diff::changed_files(repo, Some(commits[0]), commits[1]).expect("diff");
    let renamed: Vec<_> = step
        .iter()
        .filter(|f| f.status == Status::Renamed)
        .map(|f| (f.old_path.as_deref().unwrap_or(""), f.path.as_str()))
        .collect();
    assert_eq!(
        renamed,
        [
            ("svc/d1/sub/f1.txt", "svc/d1/f1-renamed.txt"),
            ("svc/d0/sub/f0.txt", "svc/moved/f0.txt")
        ]
    );
    let step = diff::changed_files(repo, Some(commits[1]), commits[2]).expect("diff");
    assert!(
        step.iter()
            .any(|f| f.path == "x" && f.status == Status::Deleted)
    );
    assert!(
        step.iter()
            .any(|f| f.path == "x/inside.txt" && f.status == Status::Added)
    );
    assert!(
        step.iter()
            .any(|f| f.path == "tool.sh" && f.status == Status::Modified)
    );
    assert!(
        diff::changed_files(repo, Some(commits[3]), commits[4])
            .expect("diff")
            .is_empty()
    );
}

/// The trees are read through gitoxide's object store: packed objects (deltas against
/// each other), a linked worktree and a clone borrowing its objects (alternates) must
/// all give libgit2's answer.
#[test]
fn matches_from_a_pack_a_linked_worktree_and_a_clone_with_alternates() {
    let (r, commits) = varied_history();
    r.git(&["gc", "-q", "--aggressive", "--prune=now"]);
    let loose = std::fs::read_dir(r.path().join(".git/objects"))
        .expect("objects")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().len() == 2)
        .count();
    assert_eq!(loose, 0, "every object is packed");
    let packed = deployer_git::open(&r.path()).expect("open");
    assert_matches_reference(&packed, &commits);

    let worktree = r.dir.path().join("linked");
    let last = commits.last().expect("commits").to_string();
    r.git(&[
        "worktree",
        "add",
        "-q",
        "--detach",
        worktree.to_str().expect("utf8"),
        &last,
    ]);
    let linked = deployer_git::open(&worktree).expect("open the worktree");
    assert_ne!(linked.path(), linked.commondir(), "a linked worktree");
    assert_matches_reference(&linked, &commits);

    let shared = r.dir.path().join("shared");
    deployer_git::testing::run_git(
        r.dir.path(),
        &[
            "clone",
            "-q",
            "--shared",
            r.path().to_str().expect("utf8"),
            shared.to_str().expect("utf8"),
        ],
    );
    assert!(shared.join(".git/objects/info/alternates").exists());
    let borrowing = deployer_git::open(&shared).expect("open the clone");
    assert_matches_reference(&borrowing, &commits);
}

#[test]
fn a_missing_tree_is_an_error_that_names_it() {
    let mut r = TestRepo::new();
    r.write("a/deep/file.txt", "one\n");
    let base = r.commit("one");
    r.write("a/deep/file.txt", "two\n");
    let head = r.commit("two");
    let tree = r
        .repo
        .find_commit(head)
        .and_then(|c| c.tree())
        .expect("tree")
        .get_path(std::path::Path::new("a/deep"))
        .expect("a/deep")
        .id()
        .to_string();
    let object = r
        .path()
        .join(".git/objects")
        .join(&tree[..2])
        .join(&tree[2..]);
    std::fs::remove_file(&object).expect("remove the loose tree");
    let err = diff::changed_files(&r.repo, Some(base), head)
        .expect_err("a tree is missing")
        .to_string();
    assert!(err.contains(&format!("cannot read tree {tree}")), "{err}");
}

#[test]
fn rename_detection_writes_nothing_to_the_repository() {
    let mut r = TestRepo::new();
    r.write("a/file.txt", &body(1, 40));
    let base = r.commit("one");
    r.rename("a/file.txt", "b/file.txt");
    let head = r.commit("two");
    let count = |r: &TestRepo| {
        let mut n = 0;
        r.repo
            .odb()
            .expect("odb")
            .foreach(|_| {
                n += 1;
                true
            })
            .expect("foreach");
        n
    };
    let before = count(&r);
    let files = diff::changed_files(&r.repo, Some(base), head).expect("diff");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].status, Status::Renamed);
    assert_eq!(count(&r), before, "no tree object may be written to disk");
}

/// `PathProbe` (one store per walk, only the directories a filter can reach) answers as
/// `changed_files` and the filter do, on every pair of commits, for filters that prune
/// at each depth, that cannot prune (`**/…`), with exclusions and on renames' old paths.
#[test]
fn path_probe_agrees_with_changed_files_and_the_filter() {
    use deployer_git::glob::PathFilter;
    let (r, commits) = varied_history();
    let repo = &r.repo;
    let filters: &[&[&str]] = &[
        &["svc/d1/**"],
        &["svc/d0/sub/"],
        &["svc/moved/"],
        &["x"],
        &["x/**"],
        &["**/*.md"],
        &["svc/**", "!svc/d3/**"],
        &["odd/*"],
        &["new/deep/er/f1.txt"],
        &["top.txt"],
        &["svc/d*/README"],
        &["nothing/here/**"],
    ];
    let mut touched = 0;
    for patterns in filters {
        let filter = PathFilter::new(patterns).expect("filter");
        let probe = diff::PathProbe::open(repo, &filter).expect("probe");
        let bases = std::iter::once(None).chain(commits.iter().copied().map(Some));
        for base in bases {
            for &head in &commits {
                let want = diff::changed_files(repo, base, head)
                    .expect("diff")
                    .iter()
                    .any(|f| f.paths().any(|p| filter.is_match(p)));
                let got = probe.touches(base, head).expect("probe");
                assert_eq!(got, want, "{patterns:?}: {base:?} → {head}");
                touched += usize::from(got);
            }
        }
    }
    assert!(touched > 20, "the filters match something: {touched}");
}
