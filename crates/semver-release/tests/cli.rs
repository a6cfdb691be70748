//! Drives the `semver-release` binary against real repositories; GitHub is wiremock.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use deployer_core::runtime::parse_output_file;
use deployer_git::testing::{TestRepo, run_git};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Run {
    code: i32,
    outputs: BTreeMap<String, String>,
    log: String,
    summary: String,
}

fn run_with(repo: &Path, args: &[&str], env: &[(&str, &str)], event: Option<(&str, &str)>) -> Run {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("output");
    let summary = tmp.path().join("summary");
    let mut cmd = Command::cargo_bin("semver-release").expect("binary");
    cmd.current_dir(repo)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &out)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env_remove("GITHUB_EVENT_NAME")
        .env_remove("GITHUB_EVENT_PATH")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_API_URL")
        .env_remove("GITHUB_REF_NAME")
        .env_remove("DEPLOYER_CONFIG")
        .env_remove("DEPLOYER_PRERELEASE")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some((name, json)) = event {
        let p = tmp.path().join("event.json");
        std::fs::write(&p, json).expect("event");
        cmd.env("GITHUB_EVENT_NAME", name)
            .env("GITHUB_EVENT_PATH", &p);
    }
    let output = cmd.output().expect("run");
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    Run {
        code: output.status.code().unwrap_or(-1),
        outputs: parse_output_file(&text).expect("parse"),
        log: String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
    }
}

fn run(repo: &Path, args: &[&str]) -> Run {
    run_with(repo, args, &[], None)
}

fn released_repo() -> TestRepo {
    let mut r = TestRepo::new();
    r.commit_file("a", "1", "feat: first");
    r.tag_annotated("v1.2.0", "v1.2.0");
    r
}

#[test]
fn dry_run_computes_version_changelog_and_dev_tag() {
    let mut r = released_repo();
    r.commit_file("b", "1", "feat(api): add orders");
    let fix = r.commit_file("c", "1", "fix: crash on empty cart");
    r.commit_file("d", "1", "Update readme");
    let res = run(&r.path(), &["--dry-run"]);
    assert_eq!(res.code, 0, "{}", res.log);
    let o = &res.outputs;
    assert_eq!(o["version"], "1.3.0");
    assert_eq!(o["previous-version"], "1.2.0");
    assert_eq!(o["tag"], "v1.3.0");
    assert_eq!(o["released"], "false");
    assert_eq!(o["created"], "false");
    assert_eq!(o["prerelease"], "false");
    assert_eq!(
        o["image-tags"],
        format!("dev-{}", &r.head().to_string()[..7])
    );
    let short = &fix.to_string()[..7];
    assert!(
        o["changelog"].contains(&format!("### Bug fixes\n\n- crash on empty cart ({short})")),
        "{}",
        o["changelog"]
    );
    assert!(
        o["changelog"].starts_with("## v1.3.0\n\n### Features\n\n- **api:** add orders"),
        "{}",
        o["changelog"]
    );
    assert!(
        res.log
            .contains("ignored 1 commit(s) that are not Conventional Commits:\n  "),
        "{}",
        res.log
    );
    assert!(res.log.contains(" Update readme"), "{}", res.log);
    assert!(res.summary.contains("dry run"), "{}", res.summary);
    assert!(
        r.repo.find_reference("refs/tags/v1.3.0").is_err(),
        "dry run creates no tag"
    );
}

#[test]
fn create_tag_pushes_and_reruns_are_idempotent() {
    let mut r = released_repo();
    r.add_origin();
    r.commit_file("b", "1", "feat: b");
    r.push_all();
    let res = run(&r.path(), &["--create-tag"]);
    assert_eq!(res.code, 0, "{}", res.log);
    assert_eq!(res.outputs["version"], "1.3.0");
    assert_eq!(res.outputs["released"], "true");
    assert_eq!(res.outputs["created"], "true");
    assert_eq!(res.outputs["image-tags"], "v1.3.0\n1.3\n1");
    assert_eq!(res.outputs["image-tags-json"], r#"["v1.3.0","1.3","1"]"#);
    let remote = run_git(&r.path(), &["ls-remote", "origin", "refs/tags/v1.3.0^{}"]);
    assert!(remote.starts_with(&r.head().to_string()), "{remote}");
    let first_changelog = res.outputs["changelog"].clone();

    let again = run(&r.path(), &["--create-tag"]);
    assert_eq!(again.code, 0, "{}", again.log);
    assert_eq!(again.outputs["version"], "1.3.0");
    assert_eq!(again.outputs["released"], "true");
    assert_eq!(again.outputs["created"], "false");
    assert_eq!(again.outputs["previous-version"], "1.2.0");
    assert_eq!(again.outputs["changelog"], first_changelog);
}

#[test]
fn no_releasable_change_is_a_normal_outcome() {
    let mut r = released_repo();
    let head = r.commit_file("b", "1", "chore: tidy\n\nnothing user facing");
    let res = run(&r.path(), &["--create-tag"]);
    assert_eq!(res.code, 0, "{}", res.log);
    assert_eq!(res.outputs["released"], "false");
    assert_eq!(res.outputs["version"], "1.2.0");
    assert_eq!(res.outputs["tag"], "v1.2.0");
    assert_eq!(res.outputs["changelog"], "");
    assert_eq!(
        res.outputs["image-tags"],
        format!("dev-{}", &head.to_string()[..7])
    );
    assert!(
        res.summary.contains("No releasable change since v1.2.0"),
        "{}",
        res.summary
    );
}

#[test]
fn refuses_pull_request_events_but_previews_them() {
    let mut r = released_repo();
    r.commit_file("b", "1", "fix: b");
    let ev = r#"{"number":3,"pull_request":{"number":3,"base":{"sha":"x","ref":"main"},"head":{"sha":"y","ref":"f"}}}"#;
    let res = run_with(
        &r.path(),
        &["--create-tag"],
        &[],
        Some(("pull_request", ev)),
    );
    assert_eq!(res.code, 2, "{}", res.log);
    assert!(
        res.log
            .contains("refusing to release from a `pull_request` event"),
        "{}",
        res.log
    );
    let res = run_with(
        &r.path(),
        &["--create-tag", "--dry-run"],
        &[],
        Some(("pull_request", ev)),
    );
    assert_eq!(res.code, 0, "{}", res.log);
    assert_eq!(res.outputs["version"], "1.2.1");
}

#[test]
fn refuses_when_behind_the_remote() {
    let mut r = released_repo();
    r.add_origin();
    let other = r.clone_origin("other", 0, "main", true);
    r.commit_file("b", "1", "fix: b");
    r.push_all();
    // `other` is now behind origin/main.
    let res = run(&other, &["--create-tag"]);
    assert_eq!(res.code, 1, "{}", res.log);
    assert!(res.log.contains("is behind origin/main"), "{}", res.log);
}

#[test]
fn shallow_clone_without_tags_fails_loudly() {
    let mut r = released_repo();
    r.commit_file("b", "1", "fix: b");
    r.add_origin();
    let shallow = r.clone_origin("shallow", 1, "main", false);
    let res = run(&shallow, &["--dry-run"]);
    assert_eq!(res.code, 1, "{}", res.log);
    assert!(res.log.contains("fetch-depth: 0"), "{}", res.log);
    assert!(
        !res.outputs.contains_key("version"),
        "no version is emitted"
    );
}

#[test]
fn monorepo_service_with_prefix_and_prerelease_label_from_config() {
    let mut r = TestRepo::new();
    r.write(
        ".github/deployer.yml",
        "services:\n  api:\n    paths: ['services/api/**']\n    tag-prefix: api-v\n  api-gateway:\n    paths: ['services/api-gateway/**']\n    tag-prefix: api-gateway-v\nrelease:\n  prerelease-label: beta\n",
    );
    r.commit_file("services/api/a.py", "1", "feat: api");
    r.tag("api-v2.0.0");
    r.tag("api-gateway-v5.0.0");
    r.commit_file("services/api-gateway/g.go", "1", "feat: gateway only");
    r.commit_file("services/api/a.py", "2", "fix: api");
    let res = run(
        &r.path(),
        &["--service", "api", "--prerelease", "true", "--dry-run"],
    );
    assert_eq!(res.code, 0, "{}", res.log);
    assert_eq!(res.outputs["version"], "2.0.1-beta.1");
    assert_eq!(res.outputs["tag"], "api-v2.0.1-beta.1");
    assert_eq!(res.outputs["prerelease"], "true");
    let res = run(&r.path(), &["--service", "api-gateway", "--dry-run"]);
    assert_eq!(res.outputs["tag"], "api-gateway-v5.1.0");
    let res = run(&r.path(), &["--service", "nope", "--dry-run"]);
    assert_eq!(res.code, 2, "{}", res.log);
}

#[test]
fn github_release_through_the_api() {
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let server = rt.block_on(MockServer::start());
    let mut r = released_repo();
    r.add_origin();
    let head = r.commit_file("b", "1", "feat: b");
    r.push_all();
    let sha = head.to_string();
    rt.block_on(async {
        Mock::given(method("GET"))
            .and(path("/repos/o/r/git/ref/tags/v1.3.0-rc.1"))
            .respond_with(ResponseTemplate::new(404).set_body_json(serde_json::json!({"message":"Not Found"})))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/repos/o/r/git/refs"))
            .and(header("authorization", "Bearer ghs_testtoken123456"))
            .and(body_partial_json(serde_json::json!({"ref":"refs/tags/v1.3.0-rc.1","sha": sha})))
            .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"ref":"refs/tags/v1.3.0-rc.1"})))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/repos/o/r/releases/tags/v1.3.0-rc.1"))
            .respond_with(ResponseTemplate::new(404).set_body_json(serde_json::json!({"message":"Not Found"})))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/repos/o/r/releases"))
            .and(body_partial_json(serde_json::json!({"tag_name":"v1.3.0-rc.1","prerelease":true,"draft":false,"make_latest":"false"})))
            .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
                "id": 1, "tag_name": "v1.3.0-rc.1", "html_url": "https://github.com/o/r/releases/tag/v1.3.0-rc.1", "prerelease": true
            })))
            .expect(1)
            .mount(&server)
            .await;
    });
    let uri = server.uri();
    let env = [
        ("GITHUB_API_URL", uri.as_str()),
        ("GITHUB_TOKEN", "ghs_testtoken123456"),
        ("GITHUB_REPOSITORY", "o/r"),
    ];
    let res = run_with(
        &r.path(),
        &["--github-release", "--prerelease", "rc"],
        &env,
        None,
    );
    assert_eq!(res.code, 0, "{}", res.log);
    assert_eq!(res.outputs["version"], "1.3.0-rc.1");
    assert_eq!(
        res.outputs["release-url"],
        "https://github.com/o/r/releases/tag/v1.3.0-rc.1"
    );
    assert_eq!(res.outputs["image-tags"], "v1.3.0-rc.1");
    assert_eq!(res.outputs["created"], "true");
    let leaked = res
        .log
        .lines()
        .any(|l| l.contains("ghs_testtoken123456") && !l.starts_with("::add-mask::"));
    assert!(!leaked, "token leaked: {}", res.log);
    assert!(
        res.log.contains("::add-mask::ghs_testtoken123456"),
        "token announced as a mask first: {}",
        res.log
    );
    rt.block_on(server.verify());
}

/// A successful `--dry-run` with its own `RUNNER_TEMP` (removed when the `TempDir` is
/// dropped).
fn dry_run_with_runner_temp(r: &TestRepo) -> (Run, tempfile::TempDir) {
    let temp = tempfile::tempdir().expect("tmp");
    let runner_temp = temp.path().to_str().expect("utf-8");
    let res = run_with(
        &r.path(),
        &["--dry-run"],
        &[("RUNNER_TEMP", runner_temp)],
        None,
    );
    assert_eq!(res.code, 0, "{}", res.log);
    (res, temp)
}

#[test]
fn a_changelog_longer_than_a_release_holds_is_shortened_and_kept_whole_in_a_file() {
    let mut r = released_repo();
    let padding = "x".repeat(90);
    for n in 0..1500 {
        r.commit(&format!("fix(core): handle case {n} {padding}"));
    }
    let (res, runner_temp) = dry_run_with_runner_temp(&r);
    let path = &res.outputs["changelog-path"];
    assert!(
        std::path::Path::new(path).starts_with(runner_temp.path()),
        "{path}"
    );
    let full = std::fs::read_to_string(path).expect("full changelog");
    assert_eq!(full.lines().filter(|l| l.starts_with("- ")).count(), 1500);
    assert!(
        full.contains("handle case 0 "),
        "the oldest entry is in the file"
    );

    let shown = &res.outputs["changelog"];
    assert!(shown.len() <= 125_000, "{} bytes", shown.len());
    assert!(full.starts_with(&shown[..shown.find("\n_… and").expect("a note")]));
    let kept = shown.lines().filter(|l| l.starts_with("- ")).count();
    assert!(
        shown.ends_with(&format!(
            "_… and {} more entries: GitHub holds at most 125000 characters of release notes. The full changelog is in the `changelog-path` file of the run that made this release._\n",
            1500 - kept
        )),
        "{}",
        &shown[shown.len() - 300..]
    );
    assert!(
        res.log.contains("the changelog has 1500 entries"),
        "{}",
        res.log
    );
    assert!(
        res.summary.contains("more entries"),
        "{}",
        res.summary.len()
    );
}

#[test]
fn a_short_changelog_is_given_whole_and_in_its_file() {
    let mut r = released_repo();
    r.commit_file("b", "1", "feat: b");
    let (res, _runner_temp) = dry_run_with_runner_temp(&r);
    let full = std::fs::read_to_string(&res.outputs["changelog-path"]).expect("file");
    assert_eq!(full, res.outputs["changelog"]);
    assert!(!full.contains("more entries"), "{full}");

    // Nothing to release: no changelog, no file.
    let mut quiet = released_repo();
    quiet.commit_file("d", "1", "docs: typo");
    let none = run(&quiet.path(), &["--dry-run"]);
    assert_eq!(none.code, 0, "{}", none.log);
    assert_eq!(none.outputs["changelog"], "");
    assert_eq!(none.outputs["changelog-path"], "");
}

#[test]
fn dry_run_says_its_decision_and_why() {
    let mut r = released_repo();
    let chore = r.commit_file("b", "1", "chore: tidy");
    let res = run(&r.path(), &["--dry-run"]);
    assert_eq!(res.code, 0, "{}", res.log);
    assert_eq!(res.outputs["decision"], "nothing-to-release");
    assert_eq!(
        res.outputs["reason"],
        "none of the 1 conventional commit(s) since `v1.2.0` bumps the version (0 not conventional, ignored)"
    );
    let feat = r.commit_file("c", "1", "feat(api): orders");
    let res = run(&r.path(), &["--dry-run"]);
    assert_eq!(res.outputs["decision"], "release");
    assert_eq!(
        res.outputs["reason"],
        format!(
            "1 commit(s) since `v1.2.0` change the release; the strongest, {} `feat(api): orders`, asks for a minor bump",
            &feat.to_string()[..7]
        )
    );
    assert!(
        res.log.contains("Why: 1 commit(s) since `v1.2.0`"),
        "{}",
        res.log
    );
    r.tag("v1.3.0");
    let res = run(&r.path(), &["--dry-run"]);
    assert_eq!(res.outputs["decision"], "already-released");
    assert_eq!(
        res.outputs["reason"],
        "HEAD is already tagged `v1.3.0` (a re-run)"
    );
    assert!(
        res.summary.contains("Why: HEAD is already tagged"),
        "{}",
        res.summary
    );
    let _ = chore;
}

#[test]
fn a_pull_request_build_without_create_tag_is_not_called_a_release() {
    let mut r = TestRepo::new();
    r.commit_file("a", "1", "feat: a");
    r.tag("v0.1.0");
    let head = r.commit_file("b", "1", "fix: b");
    let ev = r#"{"number":3,"pull_request":{"number":3,"base":{"sha":"x","ref":"main"},"head":{"sha":"y","ref":"f"}}}"#;
    let res = run_with(&r.path(), &[], &[], Some(("pull_request", ev)));
    assert_eq!(res.code, 0, "{}", res.log);
    assert_eq!(res.outputs["version"], "0.1.1");
    assert_eq!(res.outputs["decision"], "release");
    assert_eq!(res.outputs["released"], "false");
    assert_eq!(res.outputs["created"], "false");
    assert_eq!(
        res.outputs["image-tags"],
        format!("dev-{}", &head.to_string()[..7])
    );
    assert!(!res.log.contains("Released"), "{}", res.log);
    assert!(
        res.log.contains(
            "Next version would be v0.1.1 (pull request build: nothing is tagged or released"
        ),
        "{}",
        res.log
    );
    assert!(r.repo.find_reference("refs/tags/v0.1.1").is_err());
    // A push without a write flag computes the version and says it tagged nothing.
    let res = run(&r.path(), &[]);
    assert_eq!(res.outputs["released"], "true");
    assert_eq!(res.outputs["created"], "false");
    assert!(!res.log.contains("Released"), "{}", res.log);
    assert!(
        res.log.contains("Next version is v0.1.1; not tagged"),
        "{}",
        res.log
    );
}

#[test]
fn create_tag_without_origin_tags_locally_and_says_it_was_not_pushed() {
    let mut r = released_repo();
    let head = r.commit_file("b", "1", "fix: b");
    let res = run(&r.path(), &["--create-tag"]);
    assert_eq!(res.code, 0, "{}", res.log);
    assert_eq!(res.outputs["created"], "true");
    assert_eq!(res.outputs["released"], "true");
    let tagged = r
        .repo
        .revparse_single("refs/tags/v1.2.1")
        .and_then(|o| o.peel_to_commit())
        .expect("local tag");
    assert_eq!(tagged.id(), head);
    assert!(!res.log.contains("Released"), "{}", res.log);
    assert!(
        res.log.contains(
            "Tagged v1.2.1 in this repository only (not pushed: there is no `origin` remote)"
        ),
        "{}",
        res.log
    );
    assert!(res.summary.contains("not pushed"), "{}", res.summary);
}

#[test]
fn an_empty_repository_says_no_commits_yet() {
    let r = TestRepo::new();
    let res = run(&r.path(), &["--dry-run"]);
    assert_eq!(res.code, 2, "{}", res.log);
    assert!(res.log.contains("has no commits yet"), "{}", res.log);
}

#[path = "cli/fixtures.rs"]
mod fixtures;
