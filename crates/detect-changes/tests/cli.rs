//! Drives the `detect-changes` binary against real repositories and parses $GITHUB_OUTPUT.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use deployer_core::event::ZERO_SHA;
use deployer_core::runtime::parse_output_file;
use deployer_git::testing::TestRepo;

const CONFIG: &str = "services:\n  api:\n    paths: ['services/api/**', 'libs/**', '!**/*.md']\n  web:\n    paths: ['services/web/**']\n";

struct Run {
    code: i32,
    outputs: BTreeMap<String, String>,
    stderr: String,
    summary: String,
}

fn run(repo: &Path, event: Option<(&str, String)>, args: &[&str]) -> Run {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("output");
    let summary = tmp.path().join("summary");
    std::fs::write(&out, "").expect("touch");
    let mut cmd = Command::cargo_bin("detect-changes").expect("binary");
    cmd.current_dir(repo)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &out)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("RUNNER_TEMP", tmp.path())
        .env_remove("GITHUB_EVENT_NAME")
        .env_remove("GITHUB_EVENT_PATH")
        .env_remove("DEPLOYER_CONFIG")
        .env_remove("DEPLOYER_FILTERS")
        .env_remove("DEPLOYER_BASE")
        .env_remove("DEPLOYER_HEAD")
        .env_remove("DEPLOYER_LAST_DEPLOYED_SHA")
        .args(args);
    if let Some((name, json)) = event {
        let path = tmp.path().join("event.json");
        std::fs::write(&path, json).expect("event");
        cmd.env("GITHUB_EVENT_NAME", name)
            .env("GITHUB_EVENT_PATH", &path);
    }
    let output = cmd.output().expect("run");
    let text = std::fs::read_to_string(&out).expect("read output");
    Run {
        code: output.status.code().unwrap_or(-1),
        outputs: parse_output_file(&text).expect("parse"),
        stderr: String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
    }
}

fn push(
    before: impl ToString,
    after: impl ToString,
    messages: &[&str],
    extra: &str,
) -> (&'static str, String) {
    let commits: Vec<String> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| serde_json::json!({"id": format!("c{i}"), "message": m}).to_string())
        .collect();
    (
        "push",
        format!(
            r#"{{"ref":"refs/heads/main","before":"{}","after":"{}","commits":[{}],"repository":{{"default_branch":"main"}}{extra}}}"#,
            before.to_string(),
            after.to_string(),
            commits.join(",")
        ),
    )
}

fn repo_with_config() -> TestRepo {
    let mut r = TestRepo::new();
    r.write(".github/deployer.yml", CONFIG);
    r.write("services/api/app.py", "1");
    r.write("services/web/index.js", "1");
    r.commit("chore: init");
    r
}

#[test]
fn push_marks_only_the_changed_service() {
    let mut r = repo_with_config();
    let before = r.head();
    r.commit_file("services/api/app.py", "2", "fix(api): bug");
    r.commit_file("services/api/README.md", "doc", "docs(api): readme only");
    let after = r.head();
    let res = run(
        &r.path(),
        Some(push(
            before,
            after,
            &["fix(api): bug", "docs(api): readme only"],
            "",
        )),
        &[],
    );
    assert_eq!(res.code, 0, "{}", res.stderr);
    let o = &res.outputs;
    assert_eq!(o["api"], "true");
    assert_eq!(o["web"], "false");
    assert_eq!(o["changes"], r#"["api"]"#);
    assert_eq!(o["matrix"], r#"{"include":[{"service":"api"}]}"#);
    assert_eq!(o["any-changed"], "true");
    assert_eq!(
        o["files"],
        r#"["services/api/README.md","services/api/app.py"]"#
    );
    assert_eq!(o["files-count"], "2");
    assert_eq!(o["base"], before.to_string());
    assert_eq!(o["head"], after.to_string());
    assert_eq!(o["skipped"], "false");
    assert!(
        o["reason"].starts_with("push: comparing with the previous tip"),
        "{}",
        o["reason"]
    );
    assert!(res.summary.contains("| api | ✅ yes |"), "{}", res.summary);
}

#[test]
fn markdown_only_change_is_excluded_by_ordered_negation() {
    let mut r = repo_with_config();
    let before = r.head();
    let after = r.commit_file("libs/NOTES.md", "x", "docs: notes");
    let res = run(
        &r.path(),
        Some(push(before, after, &["docs: notes"], "")),
        &[],
    );
    assert_eq!(res.outputs["api"], "false");
    assert_eq!(res.outputs["changes"], "[]");
    assert_eq!(res.outputs["any-changed"], "false");
    assert_eq!(
        res.outputs["matrix"],
        r#"{"include":[{"placeholder":true,"service":""}]}"#
    );
}

#[test]
fn skip_marker_in_the_head_commit_skips() {
    let mut r = repo_with_config();
    let before = r.head();
    r.commit_file("services/api/app.py", "3", "fix: a");
    let after = r.commit_file("services/web/index.js", "3", "fix: b [CI SKIP]");
    let res = run(
        &r.path(),
        Some(push(before, after, &["fix: a", "fix: b [CI SKIP]"], "")),
        &[],
    );
    assert_eq!(res.code, 0, "{}", res.stderr);
    assert_eq!(res.outputs["skipped"], "true");
    assert_eq!(res.outputs["any-changed"], "false");
    assert_eq!(res.outputs["api"], "false");
    assert_eq!(
        res.outputs["reason"],
        "skipped: the head commit \"fix: b [CI SKIP]\" carries `[ci skip]`"
    );
}

/// Issue 19: `[skip ci]` on the middle commit of a three-commit push. GitHub reads the
/// head commit and starts the run, so detect-changes must not skip it: the head commit's
/// fix is deployed (`[deploy-all]` on a non-head commit still counts, tested below).
#[test]
fn skip_marker_on_a_middle_commit_does_not_skip_the_push() {
    for with_head_commit in [false, true] {
        let mut r = repo_with_config();
        let before = r.head();
        r.commit_file("services/web/index.js", "2", "feat(web): first");
        r.commit_file("docs/typo.md", "x", "docs: typo [skip ci]");
        let after = r.commit_file("services/api/app.py", "2", "fix(api): rounding");
        let messages = [
            "feat(web): first",
            "docs: typo [skip ci]",
            "fix(api): rounding",
        ];
        let extra = if with_head_commit {
            format!(r#","head_commit":{{"id":"{after}","message":"fix(api): rounding"}}"#)
        } else {
            String::new()
        };
        let res = run(&r.path(), Some(push(before, after, &messages, &extra)), &[]);
        assert_eq!(res.code, 0, "{}", res.stderr);
        assert_eq!(
            res.outputs["skipped"], "false",
            "head_commit: {with_head_commit}"
        );
        assert_eq!(res.outputs["changes"], r#"["api","web"]"#);
        assert!(
            res.outputs["reason"].starts_with("push: comparing with the previous tip"),
            "{}",
            res.outputs["reason"]
        );
    }
}

#[test]
fn deploy_all_counts_from_any_commit_of_the_push() {
    let mut r = repo_with_config();
    let before = r.head();
    r.commit_file("README.md", "x", "chore: redeploy [deploy-all]");
    let after = r.commit_file("docs/more.md", "x", "docs: plain");
    let messages = ["chore: redeploy [deploy-all]", "docs: plain"];
    let extra = format!(r#","head_commit":{{"id":"{after}","message":"docs: plain"}}"#);
    let res = run(&r.path(), Some(push(before, after, &messages, &extra)), &[]);
    assert_eq!(res.outputs["deploy-all"], "true", "{}", res.stderr);
    assert_eq!(res.outputs["changes"], r#"["api","web"]"#);
    assert_eq!(res.outputs["skipped"], "false");
}

#[test]
fn deploy_all_marker_marks_everything() {
    let mut r = repo_with_config();
    let before = r.head();
    let after = r.commit_file("README.md", "x", "chore: redeploy [deploy-all]");
    let res = run(
        &r.path(),
        Some(push(before, after, &["chore: redeploy [deploy-all]"], "")),
        &[],
    );
    assert_eq!(res.outputs["changes"], r#"["api","web"]"#);
    assert_eq!(res.outputs["deploy-all"], "true");
    assert!(res.outputs["reason"].contains("[deploy-all]"));
}

#[test]
fn unreachable_before_in_shallow_clone_means_everything() {
    let mut r = repo_with_config();
    r.add_origin();
    let after = r.commit_file("services/web/index.js", "2", "fix: web");
    r.push_all();
    let clone = r.clone_origin("ci", 1, "main", false);
    let gone = "1234567890123456789012345678901234567890";
    let res = run(
        &clone,
        Some(push(gone, after, &["fix: web"], r#","forced":true"#)),
        &[],
    );
    assert_eq!(res.code, 0, "{}", res.stderr);
    assert_eq!(res.outputs["changes"], r#"["api","web"]"#);
    assert_eq!(res.outputs["any-changed"], "true");
    assert_eq!(res.outputs["base"], "");
    assert!(
        res.outputs["reason"].contains("could not be fetched"),
        "{}",
        res.outputs["reason"]
    );
}

#[test]
fn before_missing_from_shallow_clone_is_fetched() {
    let mut r = repo_with_config();
    let before = r.head();
    r.add_origin();
    r.commit_file("services/web/index.js", "2", "fix: web");
    let after = r.commit_file("services/web/more.js", "2", "feat: web");
    r.push_all();
    let clone = r.clone_origin("ci", 1, "main", false);
    let res = run(
        &clone,
        Some(push(before, after, &["fix: web", "feat: web"], "")),
        &[],
    );
    assert_eq!(res.outputs["changes"], r#"["web"]"#, "{}", res.stderr);
    assert_eq!(res.outputs["base"], before.to_string());
}

#[test]
fn branch_deletion_reports_nothing() {
    let r = repo_with_config();
    let (_, json) = push(r.head(), ZERO_SHA, &[], r#","deleted":true"#);
    let res = run(&r.path(), Some(("push", json)), &[]);
    assert_eq!(res.code, 0, "{}", res.stderr);
    assert_eq!(res.outputs["any-changed"], "false");
    assert_eq!(res.outputs["api"], "false");
    assert!(res.outputs["reason"].contains("deleted"));
}

#[test]
fn renames_count_for_both_services_and_odd_names_survive() {
    let mut r = repo_with_config();
    let before = r.head();
    r.rename("services/api/app.py", "services/web/app py ünï\nnew.py");
    let after = r.commit("refactor: move");
    let res = run(
        &r.path(),
        Some(push(before, after, &["refactor: move"], "")),
        &[],
    );
    assert_eq!(res.outputs["changes"], r#"["api","web"]"#);
    let files: Vec<String> = serde_json::from_str(&res.outputs["files"]).expect("json");
    assert_eq!(
        files,
        ["services/api/app.py", "services/web/app py ünï\nnew.py"]
    );
}

#[test]
fn inline_filters_and_explicit_base_without_event() {
    let mut r = repo_with_config();
    let base = r.head().to_string();
    r.commit_file("docs/guide.md", "x", "docs: guide");
    let res = run(
        &r.path(),
        None,
        &[
            "--filters",
            "docs: ['docs/**']\napi: ['services/api/**']",
            "--base",
            &base,
            "--json",
        ],
    );
    assert_eq!(res.code, 0, "{}", res.stderr);
    assert_eq!(res.outputs["docs"], "true");
    assert_eq!(res.outputs["api"], "false");
    // Without an event or base: everything, with the reason.
    let res = run(&r.path(), None, &[]);
    assert_eq!(res.outputs["changes"], r#"["api","web"]"#);
    assert!(
        res.outputs["reason"].contains("no GitHub event"),
        "{}",
        res.outputs["reason"]
    );
}

#[test]
fn workflow_dispatch_uses_last_deployed_sha() {
    let mut r = repo_with_config();
    let deployed = r.head().to_string();
    r.commit_file("services/web/x.js", "1", "feat: web");
    let ev = (
        "workflow_dispatch",
        r#"{"inputs":{"environment":"prod"}}"#.to_string(),
    );
    let res = run(&r.path(), Some(ev), &["--last-deployed-sha", &deployed]);
    assert_eq!(res.outputs["changes"], r#"["web"]"#, "{}", res.stderr);
    assert!(res.outputs["reason"].contains("last deployed"));
}

#[test]
fn large_file_lists_go_to_a_file() {
    let mut r = repo_with_config();
    let before = r.head();
    for i in 0..40 {
        r.write(&format!("services/api/gen/file-{i:03}.py"), "x");
    }
    let after = r.commit("feat: many files");
    let res = run(
        &r.path(),
        Some(push(before, after, &["feat: many files"], "")),
        &["--files-limit", "200"],
    );
    assert_eq!(res.outputs["files"], "");
    assert_eq!(res.outputs["files-count"], "40");
    let path = &res.outputs["files-path"];
    assert!(path.ends_with(".json"), "{path}");
}

#[test]
fn bad_inputs_exit_2_with_clear_messages() {
    let r = repo_with_config();
    let res = run(&r.path(), None, &["--filters", "changes: ['a/**']"]);
    assert_eq!(res.code, 2);
    assert!(
        res.stderr.contains("collides with the aggregate output"),
        "{}",
        res.stderr
    );
    let res = run(&r.path(), None, &["--config", "missing.yml"]);
    assert_eq!(res.code, 2, "{}", res.stderr);
    let res = run(
        &r.path(),
        Some(("pull_request", "{\"pull_request\":{}}".into())),
        &[],
    );
    assert_eq!(res.code, 2);
    assert!(res.stderr.contains("pull_request"), "{}", res.stderr);
    let res = run(&r.path(), None, &["--filters", "api: ['/abs/**']"]);
    assert_eq!(res.code, 2);
    assert!(res.stderr.contains("abs/**"), "{}", res.stderr);
}

#[test]
fn pull_request_from_shallow_merge_checkout() {
    let mut r = repo_with_config();
    r.branch("feature");
    r.checkout("feature");
    r.commit_file(
        "services/web/feature.js",
        "1",
        "feat(web): feature [skip ci]",
    );
    r.checkout("main");
    r.commit_file("services/api/main-moved.py", "1", "fix(api): on main");
    r.add_origin();
    let clone = r.clone_origin("pr", 1, "feature", false);
    let json = format!(
        r#"{{"number":5,"pull_request":{{"number":5,"title":"Feature","body":null,"base":{{"sha":"{}","ref":"main"}},"head":{{"sha":"{}","ref":"feature"}}}}}}"#,
        r.head(),
        git2::Repository::open(&clone)
            .expect("o")
            .head()
            .expect("h")
            .peel_to_commit()
            .expect("c")
            .id()
    );
    let res = run(&clone, Some(("pull_request", json)), &[]);
    assert_eq!(res.code, 0, "{}", res.stderr);
    assert_eq!(
        res.outputs["changes"], r#"["web"]"#,
        "{}",
        res.outputs["reason"]
    );
    assert_eq!(
        res.outputs["skipped"], "false",
        "skip markers never hide pull request changes"
    );
}

#[test]
fn deploy_all_in_pull_request_title() {
    let mut r = repo_with_config();
    let base = r.head();
    let head = r.commit_file("services/web/x.js", "1", "feat: x");
    let json = format!(
        r#"{{"number":6,"pull_request":{{"number":6,"title":"Rebuild all [deploy-all]","base":{{"sha":"{base}","ref":"main"}},"head":{{"sha":"{head}","ref":"feature"}}}}}}"#
    );
    let res = run(
        &r.path(),
        Some(("pull_request", json)),
        &["--head", &head.to_string()],
    );
    assert_eq!(res.outputs["changes"], r#"["api","web"]"#, "{}", res.stderr);
    assert_eq!(res.outputs["deploy-all"], "true");
}

#[test]
fn new_branch_push_compares_with_the_default_branch() {
    let mut r = repo_with_config();
    r.add_origin();
    r.branch("feature");
    r.checkout("feature");
    let head = r.commit_file("services/web/f.js", "1", "feat: web");
    r.checkout("main");
    r.commit_file("services/api/later.py", "1", "fix: api on main");
    r.push_all();
    let clone = r.clone_origin("ci", 1, "feature", false);
    let json = format!(
        r#"{{"ref":"refs/heads/feature","before":"{ZERO_SHA}","after":"{head}","created":true,"commits":[{{"id":"{head}","message":"feat: web"}}],"repository":{{"default_branch":"main"}}}}"#
    );
    let res = run(&clone, Some(("push", json)), &[]);
    assert_eq!(res.code, 0, "{}", res.stderr);
    assert_eq!(
        res.outputs["changes"], r#"["web"]"#,
        "{}",
        res.outputs["reason"]
    );
    assert!(
        res.outputs["reason"].contains("merge-base with main"),
        "{}",
        res.outputs["reason"]
    );
}

#[test]
fn merge_group_uses_the_event_base() {
    let mut r = repo_with_config();
    let base = r.head();
    let head = r.commit_file("services/api/q.py", "1", "feat: queued");
    let json = format!(
        r#"{{"merge_group":{{"base_sha":"{base}","head_sha":"{head}","head_commit":{{"id":"{head}","message":"feat: queued"}}}}}}"#
    );
    let res = run(&r.path(), Some(("merge_group", json)), &[]);
    assert_eq!(res.outputs["changes"], r#"["api"]"#, "{}", res.stderr);
    assert_eq!(res.outputs["base"], base.to_string());
}
