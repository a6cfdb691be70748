//! Diffs and base selection against real repositories (git2 + git CLI clones).

use deployer_core::event::{self, Event, ZERO_SHA};
use deployer_git::base::{BaseRequest, Resolver, Selection};
use deployer_git::diff::{self, ChangedFile, Status};
use deployer_git::testing::TestRepo;
use git2::Oid;

fn push_event(git_ref: &str, before: &str, after: &str, extra: &str) -> Event {
    let json = format!(
        r#"{{"ref":"{git_ref}","before":"{before}","after":"{after}","repository":{{"default_branch":"main"}}{extra}}}"#
    );
    event::parse("push", &json, "test").expect("event")
}

fn select(dir: &std::path::Path, req: &BaseRequest<'_>) -> Selection {
    Resolver::open(dir)
        .expect("open")
        .select(req)
        .expect("select")
}

fn changed(dir: &std::path::Path, sel: &Selection) -> Vec<String> {
    let repo = deployer_git::open(dir).expect("open");
    let Selection::Diff { base, head, .. } = sel else {
        panic!("expected a diff, got {sel:?}")
    };
    let mut out: Vec<String> = diff::changed_files(&repo, Some(*base), *head)
        .expect("diff")
        .iter()
        .flat_map(|f| f.paths().map(str::to_string).collect::<Vec<_>>())
        .collect();
    out.sort();
    out
}

#[test]
fn renames_deletions_and_odd_names() {
    let mut r = TestRepo::new();
    r.write("services/api/main.py", "print('api')\n".repeat(20).as_str());
    r.write("services/web/old.js", "x");
    let base = r.commit("init");
    r.rename("services/api/main.py", "services/core/main.py");
    r.remove("services/web/old.js");
    r.write("docs/with space.md", "a");
    r.write("docs/new\nline.md", "b");
    r.write("docs/ünïcödé.md", "c");
    let head = r.commit("changes");
    let files = diff::changed_files(&r.repo, Some(base), head).expect("diff");
    let find = |p: &str| files.iter().find(|f| f.path == p).cloned();
    assert_eq!(
        find("services/core/main.py"),
        Some(ChangedFile {
            status: Status::Renamed,
            path: "services/core/main.py".into(),
            old_path: Some("services/api/main.py".into())
        })
    );
    assert_eq!(
        find("services/web/old.js").map(|f| f.status),
        Some(Status::Deleted)
    );
    for odd in ["docs/with space.md", "docs/new\nline.md", "docs/ünïcödé.md"] {
        assert_eq!(find(odd).map(|f| f.status), Some(Status::Added), "{odd:?}");
    }
    // All files of head when there is no base.
    let all = diff::changed_files(&r.repo, None, head).expect("diff");
    assert_eq!(all.len(), 4);
}

#[test]
fn push_uses_before_and_fetches_it_into_a_shallow_clone() {
    let mut r = TestRepo::new();
    r.commit_file("a/x", "1", "one");
    let before = r.commit_file("b/x", "1", "two");
    r.add_origin();
    r.commit_file("c/x", "1", "three");
    let after = r.commit_file("d/x", "1", "four");
    r.push_all();
    let clone = r.clone_origin("shallow", 1, "main", false);
    let repo = git2::Repository::open(&clone).expect("open");
    assert!(repo.is_shallow());
    assert!(
        repo.find_commit(before).is_err(),
        "before is not in a depth-1 clone"
    );
    let ev = push_event(
        "refs/heads/main",
        &before.to_string(),
        &after.to_string(),
        "",
    );
    let sel = select(
        &clone,
        &BaseRequest {
            event: Some(&ev),
            ..Default::default()
        },
    );
    assert!(
        matches!(&sel, Selection::Diff { base, head, .. } if *base == before && *head == after),
        "{sel:?}"
    );
    assert_eq!(changed(&clone, &sel), ["c/x", "d/x"]);
}

#[test]
fn force_pushed_away_before_means_everything() {
    let mut r = TestRepo::new();
    let root = r.commit_file("a/x", "1", "one");
    r.add_origin();
    let lost = r.commit_file("b/x", "1", "will be rewritten");
    r.push_all();
    r.reset_hard(root);
    let after = r.commit_file("c/x", "1", "rewritten");
    r.push_all();
    r.gc_origin();
    let clone = r.clone_origin("shallow", 1, "main", false);
    let ev = push_event(
        "refs/heads/main",
        &lost.to_string(),
        &after.to_string(),
        r#","forced":true"#,
    );
    let sel = select(
        &clone,
        &BaseRequest {
            event: Some(&ev),
            ..Default::default()
        },
    );
    let Selection::All { reason, .. } = sel else {
        panic!("expected everything, got {sel:?}")
    };
    assert!(reason.contains("could not be fetched"), "{reason}");
}

#[test]
fn force_push_with_last_deployed_sha() {
    let mut r = TestRepo::new();
    let deployed = r.commit_file("a/x", "1", "deployed");
    r.add_origin();
    let lost = r.commit_file("b/x", "1", "rewritten later");
    r.reset_hard(deployed);
    let after = r.commit_file("c/x", "1", "new");
    r.push_all();
    let ev = push_event(
        "refs/heads/main",
        &lost.to_string(),
        &after.to_string(),
        r#","forced":true"#,
    );
    let d = deployed.to_string();
    let sel = select(
        &r.path(),
        &BaseRequest {
            event: Some(&ev),
            last_deployed: Some(&d),
            ..Default::default()
        },
    );
    assert!(
        matches!(&sel, Selection::Diff { base, .. } if *base == deployed),
        "{sel:?}"
    );
    assert_eq!(changed(&r.path(), &sel), ["c/x"]);
    // A last-deployed SHA that is not an ancestor falls back to everything.
    let l = lost.to_string();
    let sel = select(
        &r.path(),
        &BaseRequest {
            event: Some(&ev),
            last_deployed: Some(&l),
            ..Default::default()
        },
    );
    assert!(
        matches!(&sel, Selection::All { reason, .. } if reason.contains("not an ancestor")),
        "{sel:?}"
    );
}

#[test]
fn new_branch_uses_merge_base_with_default_branch() {
    let mut r = TestRepo::new();
    r.commit_file("a/x", "1", "one");
    r.commit_file("b/x", "1", "two");
    r.add_origin();
    r.branch("feature");
    r.checkout("feature");
    r.commit_file("c/x", "1", "feature 1");
    let head = r.commit_file("d/x", "1", "feature 2");
    r.checkout("main");
    r.commit_file("e/x", "1", "main moved on");
    r.push_all();
    let clone = r.clone_origin("shallow", 1, "feature", false);
    let ev = push_event(
        "refs/heads/feature",
        ZERO_SHA,
        &head.to_string(),
        r#","created":true"#,
    );
    let sel = select(
        &clone,
        &BaseRequest {
            event: Some(&ev),
            ..Default::default()
        },
    );
    assert!(sel.reason().contains("merge-base"), "{sel:?}");
    assert_eq!(
        changed(&clone, &sel),
        ["c/x", "d/x"],
        "both feature commits, none of main's"
    );

    // First push of the default branch itself: everything.
    let ev = push_event(
        "refs/heads/main",
        ZERO_SHA,
        &head.to_string(),
        r#","created":true"#,
    );
    let sel = select(
        &clone,
        &BaseRequest {
            event: Some(&ev),
            ..Default::default()
        },
    );
    assert!(matches!(sel, Selection::All { .. }), "{sel:?}");
}

#[test]
fn branch_deletion_is_nothing() {
    let mut r = TestRepo::new();
    let head = r.commit_file("a/x", "1", "one");
    let ev = push_event(
        "refs/heads/gone",
        &head.to_string(),
        ZERO_SHA,
        r#","deleted":true"#,
    );
    let sel = select(
        &r.path(),
        &BaseRequest {
            event: Some(&ev),
            ..Default::default()
        },
    );
    assert!(matches!(sel, Selection::Nothing { .. }), "{sel:?}");
}

fn pr_event(base_sha: Oid, base_ref: &str, head_sha: Oid) -> Event {
    let json = format!(
        r#"{{"action":"synchronize","number":12,"pull_request":{{"number":12,"base":{{"sha":"{base_sha}","ref":"{base_ref}"}},"head":{{"sha":"{head_sha}","ref":"feature"}}}}}}"#
    );
    event::parse("pull_request", &json, "test").expect("event")
}

#[test]
fn pull_request_uses_merge_base_even_when_base_sha_is_stale() {
    let mut r = TestRepo::new();
    let stale = r.commit_file("a/x", "1", "one");
    r.branch("feature");
    r.checkout("main");
    r.commit_file("m/x", "1", "main 2");
    r.checkout("feature");
    r.commit_file("f/x", "1", "feature");
    r.checkout("main");
    r.commit_file("n/x", "1", "main 3");
    r.checkout("feature");
    let head = r.head();
    r.add_origin();
    let clone = r.clone_origin("pr", 1, "feature", false);
    let ev = pr_event(stale, "main", head);
    let sel = select(
        &clone,
        &BaseRequest {
            event: Some(&ev),
            ..Default::default()
        },
    );
    assert_eq!(changed(&clone, &sel), ["f/x"], "{sel:?}");
}

#[test]
fn pull_request_merge_commit_checkout() {
    let mut r = TestRepo::new();
    r.commit_file("a/x", "1", "one");
    r.branch("feature");
    r.checkout("feature");
    r.commit_file("f/x", "1", "feature");
    r.checkout("main");
    let base = r.commit_file("m/x", "1", "main 2");
    // The synthetic merge commit GitHub checks out for a pull request.
    let merge = r.merge("feature", "Merge feature into main");
    r.reset_hard(base);
    r.add_origin();
    let merge_s = merge.to_string();
    let ev = pr_event(base, "main", merge);
    let sel = select(
        &r.path(),
        &BaseRequest {
            event: Some(&ev),
            explicit_head: Some(&merge_s),
            ..Default::default()
        },
    );
    assert_eq!(changed(&r.path(), &sel), ["f/x"], "{sel:?}");
}

#[test]
fn merge_group_uses_base_sha() {
    let mut r = TestRepo::new();
    let base = r.commit_file("a/x", "1", "one");
    let head = r.commit_file("q/x", "1", "queued");
    let json = format!(r#"{{"merge_group":{{"base_sha":"{base}","head_sha":"{head}"}}}}"#);
    let ev = event::parse("merge_group", &json, "t").expect("event");
    let sel = select(
        &r.path(),
        &BaseRequest {
            event: Some(&ev),
            ..Default::default()
        },
    );
    assert_eq!(changed(&r.path(), &sel), ["q/x"]);
}

#[test]
fn dispatch_and_tags_need_an_explicit_base() {
    let mut r = TestRepo::new();
    let first = r.commit_file("a/x", "1", "one");
    r.commit_file("b/x", "1", "two");
    let ev = event::parse("workflow_dispatch", r#"{"inputs":{}}"#, "t").expect("event");
    let sel = select(
        &r.path(),
        &BaseRequest {
            event: Some(&ev),
            ..Default::default()
        },
    );
    assert!(
        matches!(&sel, Selection::All { reason, .. } if reason.contains("workflow_dispatch")),
        "{sel:?}"
    );
    let f = first.to_string();
    let sel = select(
        &r.path(),
        &BaseRequest {
            event: Some(&ev),
            last_deployed: Some(&f),
            ..Default::default()
        },
    );
    assert_eq!(changed(&r.path(), &sel), ["b/x"]);
    let sel = select(
        &r.path(),
        &BaseRequest {
            event: Some(&ev),
            explicit_base: Some("HEAD~1"),
            ..Default::default()
        },
    );
    assert_eq!(changed(&r.path(), &sel), ["b/x"]);
    let tag = push_event(
        "refs/tags/v1.0.0",
        ZERO_SHA,
        &r.head().to_string(),
        r#","created":true"#,
    );
    let sel = select(
        &r.path(),
        &BaseRequest {
            event: Some(&tag),
            ..Default::default()
        },
    );
    assert!(
        matches!(&sel, Selection::All { reason, .. } if reason.contains("tag push")),
        "{sel:?}"
    );
    let err = Resolver::open(&r.path())
        .expect("open")
        .select(&BaseRequest {
            event: Some(&ev),
            explicit_base: Some("nope"),
            ..Default::default()
        })
        .expect_err("bad base");
    assert!(err.to_string().contains("--base `nope`"), "{err}");
}

/// A history with an edited rename and a change deep down, pushed to an origin that
/// serves partial clones; returns (base, head).
fn partial_clone_history(r: &mut TestRepo) -> (Oid, Oid) {
    let body: String = (0..40)
        .map(|i| format!("line {i} of a file to rename\n"))
        .collect();
    r.write("svc/a/file.txt", &body);
    r.write("svc/b/deep/er/x.txt", "one\n");
    let base = r.commit("init");
    r.rename("svc/a/file.txt", "svc/b/moved.txt");
    r.write("svc/b/moved.txt", &(body + "one more line\n"));
    r.write("svc/b/deep/er/x.txt", "two\n");
    let head = r.commit("move and edit");
    let origin = r.add_origin();
    deployer_git::testing::run_git(&origin, &["config", "uploadpack.allowFilter", "true"]);
    r.push_all();
    (base, head)
}

fn partial_clone(r: &TestRepo, name: &str, filter: &str) -> std::path::PathBuf {
    let dest = r.dir.path().join(name);
    deployer_git::testing::run_git(
        r.dir.path(),
        &[
            "clone",
            "-q",
            "--no-checkout",
            &format!("--filter={filter}"),
            &r.origin_url(),
            dest.to_str().expect("utf8"),
        ],
    );
    dest
}

fn has(repo: &git2::Repository, id: Oid) -> bool {
    repo.odb().expect("odb").exists(id)
}

#[test]
fn blobless_clone_fetches_the_blobs_rename_detection_compares() {
    let mut r = TestRepo::new();
    let (base, head) = partial_clone_history(&mut r);
    let expected = diff::changed_files(&r.repo, Some(base), head).expect("full clone");
    assert!(expected.iter().any(|f| f.status == Status::Renamed));
    let clone = partial_clone(&r, "blobless", "blob:none");
    let repo = deployer_git::open(&clone).expect("open");
    let old_blob = r
        .repo
        .find_commit(base)
        .and_then(|c| c.tree())
        .and_then(|t| t.get_path(std::path::Path::new("svc/a/file.txt")))
        .expect("blob")
        .id();
    assert!(!has(&repo, old_blob), "the clone starts without the blob");
    let files = diff::changed_files(&repo, Some(base), head).expect("diff");
    assert_eq!(files, expected, "the same answer as a full clone");
    assert!(has(&repo, old_blob), "fetched from the promisor remote");
}

#[test]
fn treeless_clone_fetches_the_trees_it_compares() {
    let mut r = TestRepo::new();
    let (base, head) = partial_clone_history(&mut r);
    let expected = diff::changed_files(&r.repo, Some(base), head).expect("full clone");
    let clone = partial_clone(&r, "treeless", "tree:0");
    let repo = deployer_git::open(&clone).expect("open");
    let base_tree = repo.find_commit(base).expect("commit").tree_id();
    assert!(!has(&repo, base_tree), "the clone starts without the trees");
    let files = diff::changed_files(&repo, Some(base), head).expect("diff");
    assert_eq!(files, expected, "the same answer as a full clone");
}

#[test]
fn missing_objects_without_a_promisor_remote_are_an_error_that_says_what_to_do() {
    let mut r = TestRepo::new();
    let (base, head) = partial_clone_history(&mut r);
    let clone = partial_clone(&r, "orphaned", "blob:none");
    let repo = deployer_git::open(&clone).expect("open");
    let mut config = repo
        .config()
        .expect("config")
        .open_level(git2::ConfigLevel::Local)
        .expect("local");
    assert!(
        config
            .get_bool("remote.origin.promisor")
            .expect("a partial clone")
    );
    config.remove("remote.origin.promisor").expect("unset");
    // Older git marks the promisor here too.
    let _ = config.remove("extensions.partialclone");
    let err = diff::changed_files(&repo, Some(base), head)
        .expect_err("blobs are missing")
        .to_string();
    assert!(err.contains("not in the repository"), "{err}");
    assert!(err.contains("without --filter"), "{err}");
}
