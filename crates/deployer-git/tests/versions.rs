//! Version computation against real repositories.

use deployer_git::glob::PathFilter;
use deployer_git::testing::TestRepo;
use deployer_git::version::{Decision, NonConventional, Plan, ReleaseSettings, VersionError, plan};
use semver::Version;

fn settings(prefix: &str) -> ReleaseSettings {
    ReleaseSettings {
        tag_prefix: prefix.into(),
        ..Default::default()
    }
}

fn run(
    r: &TestRepo,
    prefix: &str,
    paths: Option<&[&str]>,
    pre: Option<&str>,
) -> Result<Plan, VersionError> {
    let filter = paths.map(|p| PathFilter::new(p).expect("filter"));
    plan(&r.repo, r.head(), &settings(prefix), filter.as_ref(), pre)
}

fn next(r: &TestRepo, prefix: &str, pre: Option<&str>) -> String {
    match run(r, prefix, None, pre).expect("plan").decision {
        Decision::Release { version, .. } => version.to_string(),
        other => panic!("expected a release, got {other:?}"),
    }
}

#[test]
fn first_release_uses_initial_version_and_chores_release_nothing() {
    let mut r = TestRepo::new();
    r.commit_file("a", "1", "chore: init");
    assert_eq!(
        run(&r, "v", None, None).expect("plan").decision,
        Decision::NoRelease { current: None }
    );
    r.commit_file("b", "1", "fix: first bug");
    assert_eq!(next(&r, "v", None), "0.1.0");
}

#[test]
fn highest_reachable_tag_annotated_peeled_foreign_ignored() {
    let mut r = TestRepo::new();
    r.commit_file("a", "1", "feat: a");
    r.tag_annotated("v1.2.0", "release 1.2.0 [skip ci]");
    r.tag("latest");
    r.tag("v1");
    r.tag("api-gateway-v9.0.0");
    r.tag("v1.1.9");
    // A higher tag on a branch HEAD does not reach (hotfix line must not see it).
    r.branch("next");
    r.checkout("next");
    r.commit_file("n", "1", "feat!: next major");
    r.tag("v2.0.0");
    r.checkout("main");
    r.commit_file("b", "1", "fix: bug");
    let p = run(&r, "v", None, None).expect("plan");
    assert_eq!(
        p.last_final.as_ref().map(|t| t.name.as_str()),
        Some("v1.2.0")
    );
    assert_eq!(
        p.decision,
        Decision::Release {
            version: Version::new(1, 2, 1),
            previous: Some(Version::new(1, 2, 0))
        }
    );
    assert_eq!(p.commits.len(), 1);
}

#[test]
fn bump_levels_and_zero_x() {
    let mut r = TestRepo::new();
    r.commit_file("a", "1", "feat: a");
    r.tag("v1.0.0");
    r.commit_file("b", "1", "fix: b");
    assert_eq!(next(&r, "v", None), "1.0.1");
    r.commit_file("c", "1", "feat(x): c");
    assert_eq!(next(&r, "v", None), "1.1.0");
    r.commit_file("d", "1", "refactor!: d");
    assert_eq!(next(&r, "v", None), "2.0.0");

    let mut z = TestRepo::new();
    z.commit_file("a", "1", "feat: a");
    z.tag("v0.3.2");
    z.commit_file("b", "1", "feat: b");
    assert_eq!(next(&z, "v", None), "0.3.3");
    z.commit_file("c", "1", "fix: c\n\nBREAKING CHANGE: gone");
    assert_eq!(next(&z, "v", None), "0.4.0");
    z.commit_file("d", "1", "chore: graduate\n\nRelease-As: 1.0.0");
    assert_eq!(next(&z, "v", None), "1.0.0");
}

#[test]
fn conventional_merge_commits_count_and_reverts_cancel() {
    let mut r = TestRepo::new();
    r.commit_file("a", "1", "feat: a");
    r.tag("v1.0.0");
    r.branch("feature");
    r.checkout("feature");
    r.commit_file("f", "1", "fix: in branch");
    r.checkout("main");
    r.commit_file("m", "1", "docs: main");
    r.merge("feature", "feat: a merge message counts (#3)");
    let p = run(&r, "v", None, None).expect("plan");
    assert_eq!(
        p.decision,
        Decision::Release {
            version: Version::new(1, 1, 0),
            previous: Some(Version::new(1, 0, 0))
        }
    );
    // Both sides of the merge are walked, and so is the merge, whose message is
    // conventional (as for git-cliff, cog and semantic-release); `docs:` is counted
    // but not kept (it changes neither the version nor the changelog).
    let subjects: Vec<String> = p.commits.iter().map(|c| c.subject()).collect();
    assert_eq!(
        subjects,
        ["feat: a merge message counts (#3)", "fix: in branch"]
    );
    assert_eq!(p.conventional, 3);
    let feat = r.commit_file("g", "1", "feat: oops");
    r.commit_file(
        "g",
        "2",
        &format!("Revert \"feat: oops\"\n\nThis reverts commit {feat}."),
    );
    let p = run(&r, "v", None, None).expect("plan");
    assert_eq!(
        p.decision,
        Decision::Release {
            version: Version::new(1, 1, 0),
            previous: Some(Version::new(1, 0, 0))
        },
        "feat and its revert cancel"
    );
}

#[test]
fn default_merge_subjects_are_skipped_silently() {
    let mut r = TestRepo::new();
    r.commit_file("a", "1", "feat: a");
    r.tag("v1.0.0");
    r.branch("feature");
    r.checkout("feature");
    r.commit_file("f", "1", "fix: in branch");
    r.checkout("main");
    r.commit_file("m", "1", "docs: main");
    r.merge(
        "feature",
        "Merge pull request #3 from o/feature\n\nfeat: title",
    );
    let s = ReleaseSettings {
        non_conventional: NonConventional::Error,
        ..settings("v")
    };
    let p = plan(&r.repo, r.head(), &s, None, None).expect("a merge is not a bad commit");
    assert_eq!(
        p.decision,
        Decision::Release {
            version: Version::new(1, 0, 1),
            previous: Some(Version::new(1, 0, 0))
        }
    );
    assert!(p.ignored.is_empty(), "{:?}", p.ignored);
}

#[test]
fn a_revert_of_an_unreleased_commit_cancels_it() {
    let mut r = TestRepo::new();
    r.commit_file("a", "1", "feat: a");
    r.tag("v1.0.0");

    let feat = r.commit_file("g", "1", "feat: oops");
    r.commit_file(
        "g",
        "2",
        &format!("Revert \"feat: oops\"\n\nThis reverts commit {feat}."),
    );
    let p = run(&r, "v", None, None).expect("plan");
    assert!(
        matches!(p.decision, Decision::NoRelease { .. }),
        "feat and its revert cancel: {:?}",
        p.decision
    );
}

#[test]
fn revert_of_a_released_commit_is_a_patch() {
    let mut r = TestRepo::new();
    let feat = r.commit_file("a", "1", "feat: a");
    r.tag("v1.0.0");
    r.commit_file(
        "a",
        "2",
        &format!("Revert \"feat: a\"\n\nThis reverts commit {feat}."),
    );
    assert_eq!(next(&r, "v", None), "1.0.1");
}

#[test]
fn monorepo_prefixes_are_anchored_and_commits_attributed_by_paths() {
    let mut r = TestRepo::new();
    r.commit_file("services/api/main.py", "1", "feat: api");
    r.commit_file("services/api-gateway/main.go", "1", "feat: gateway");
    r.tag("api-v1.0.0");
    r.tag("api-gateway-v3.1.0");
    r.commit_file(
        "services/api-gateway/main.go",
        "2",
        "feat(api): scope says api but path says gateway",
    );
    r.commit_file("services/api/main.py", "2", "fix: api bug");
    let api = run(&r, "api-v", Some(&["services/api/**"]), None).expect("plan");
    assert_eq!(
        api.decision,
        Decision::Release {
            version: Version::new(1, 0, 1),
            previous: Some(Version::new(1, 0, 0))
        }
    );
    assert_eq!(api.tag().as_deref(), Some("api-v1.0.1"));
    let gw = run(
        &r,
        "api-gateway-v",
        Some(&["services/api-gateway/**"]),
        None,
    )
    .expect("plan");
    assert_eq!(
        gw.decision,
        Decision::Release {
            version: Version::new(3, 2, 0),
            previous: Some(Version::new(3, 1, 0))
        }
    );
    // A commit touching both services bumps both.
    r.write("services/api/main.py", "3");
    r.write("services/api-gateway/main.go", "3");
    r.commit("feat: shared change");
    assert_eq!(next(&r, "api-v", None), "1.1.0");
}

#[test]
fn prerelease_sequence_rebase_and_graduation() {
    let mut r = TestRepo::new();
    r.commit_file("a", "1", "feat: a");
    r.tag("v1.2.3");
    r.commit_file("b", "1", "fix: b");
    assert_eq!(next(&r, "v", Some("rc")), "1.2.4-rc.1");
    r.tag("v1.2.4-rc.1");
    // Re-run on the same commit: the existing pre-release comes back.
    let p = run(&r, "v", None, Some("rc")).expect("plan");
    assert!(
        matches!(p.decision, Decision::AlreadyReleased { ref version, .. } if version.to_string() == "1.2.4-rc.1")
    );
    r.commit_file("c", "1", "fix: c");
    assert_eq!(next(&r, "v", Some("rc")), "1.2.4-rc.2");
    r.tag("v1.2.4-rc.2");
    r.commit_file("d", "1", "feat: d");
    assert_eq!(next(&r, "v", Some("rc")), "1.3.0-rc.1", "a feat re-bases");
    r.tag("v1.3.0-rc.1");
    r.commit_file("e", "1", "fix: e");
    assert_eq!(next(&r, "v", Some("rc")), "1.3.0-rc.2");
    // Graduation: the changelog spans everything since 1.2.3.
    let p = run(&r, "v", None, None).expect("plan");
    assert_eq!(
        p.decision,
        Decision::Release {
            version: Version::new(1, 3, 0),
            previous: Some(Version::new(1, 2, 3))
        }
    );
    assert_eq!(p.commits.len(), 4);
    r.tag("v1.3.0");
    let p = run(&r, "v", None, Some("rc")).expect("plan");
    assert!(
        matches!(p.decision, Decision::NoRelease { .. }),
        "{:?}",
        p.decision
    );
}

#[test]
fn prerelease_of_a_released_base_is_refused() {
    let mut r = TestRepo::new();
    r.commit_file("a", "1", "feat: a");
    r.tag("v1.0.0");
    r.branch("old");
    r.commit_file("b", "1", "fix: b");
    r.tag("v1.0.1");
    r.checkout("old");
    r.commit_file("c", "1", "fix: c");
    let err = run(&r, "v", None, Some("rc")).expect_err("refused");
    assert!(
        matches!(err, VersionError::PrereleaseBaseReleased { .. }),
        "{err}"
    );
}

#[test]
fn non_conventional_policy() {
    let mut r = TestRepo::new();
    r.commit_file("a", "1", "feat: a");
    r.commit_file("b", "1", "Update README");
    let p = run(&r, "v", None, None).expect("plan");
    assert_eq!(p.ignored.len(), 1);
    let strict = ReleaseSettings {
        non_conventional: NonConventional::Error,
        ..settings("v")
    };
    let err = plan(&r.repo, r.head(), &strict, None, None).expect_err("strict");
    assert!(err.to_string().contains("Update README"), "{err}");
}

#[test]
fn shallow_clone_without_tags_fails_loudly() {
    let mut r = TestRepo::new();
    r.commit_file("a", "1", "feat: a");
    r.tag("v1.4.0");
    r.commit_file("b", "1", "fix: b");
    r.add_origin();
    let shallow = r.clone_origin("shallow", 1, "main", false);
    let repo = git2::Repository::open(&shallow).expect("open");
    let head = repo.head().expect("head").peel_to_commit().expect("c").id();
    let err = plan(&repo, head, &settings("v"), None, None).expect_err("shallow");
    let text = err.to_string();
    assert!(
        text.contains("fetch-depth: 0") && text.contains("shallow"),
        "{text}"
    );
    // A full clone with tags works.
    let full = r.clone_origin("full", 0, "main", true);
    let repo = git2::Repository::open(&full).expect("open");
    let p = plan(&repo, head, &settings("v"), None, None).expect("plan");
    assert_eq!(
        p.decision,
        Decision::Release {
            version: Version::new(1, 4, 1),
            previous: Some(Version::new(1, 4, 0))
        }
    );
}

fn revert_of(sha: git2::Oid, subject: &str) -> String {
    format!("Revert \"{subject}\"\n\nThis reverts commit {sha}.")
}

#[test]
fn reverts_pair_with_their_targets_whatever_the_target_type() {
    let mut r = TestRepo::new();
    r.commit_file("a", "1", "feat: a");
    r.tag("v1.0.0");
    // A revert of a `docs:` commit cancels with it: nothing releasable is left.
    let docs = r.commit_file("d", "1", "docs: typo");
    r.commit_file("d", "2", &revert_of(docs, "docs: typo"));
    let p = run(&r, "v", None, None).expect("plan");
    assert!(
        matches!(p.decision, Decision::NoRelease { .. }),
        "{:?}",
        p.decision
    );
    assert!(p.commits.is_empty(), "{:?}", p.commits);

    // A revert of an unreleased commit that is not conventional (or a `fixup!`) undoes
    // nothing a release lists: both drop out, no patch release.
    let odd = r.commit_file("o", "1", "Update README");
    r.commit_file("o", "2", &revert_of(odd, "Update README"));
    let fixup = r.commit_file("o", "3", "fixup! docs: typo");
    r.commit_file("o", "4", &revert_of(fixup, "fixup! docs: typo"));
    let p = run(&r, "v", None, None).expect("plan");
    assert!(
        matches!(p.decision, Decision::NoRelease { .. }),
        "{:?}",
        p.decision
    );
    assert!(p.commits.is_empty(), "{:?}", p.commits);
}

#[test]
fn a_revert_of_a_revert_and_a_second_revert_of_one_commit() {
    let mut r = TestRepo::new();
    r.commit_file("a", "1", "feat: a");
    r.tag("v1.0.0");
    // feat, its revert, and a revert of that revert: the feature is back. The outer
    // revert cancels the inner one, which then cancels nothing.
    let feat = r.commit_file("b", "1", "feat: b");
    let undo = r.commit_file("b", "2", &revert_of(feat, "feat: b"));
    r.commit_file("b", "3", &revert_of(undo, "Revert \"feat: b\""));
    let p = run(&r, "v", None, None).expect("plan");
    let kept: Vec<git2::Oid> = p.commits.iter().map(|c| c.id).collect();
    assert_eq!(kept, [feat]);
    assert_eq!(next(&r, "v", None), "1.1.0");
    // Three deep (git 2.47 writes `Reapply` for a revert of a revert): undone again.
    r.commit_file(
        "b",
        "4",
        &format!(
            "Revert \"Reapply \"feat: b\"\"\n\nThis reverts commit {}.",
            r.head()
        ),
    );
    let p = run(&r, "v", None, None).expect("plan");
    assert!(
        matches!(p.decision, Decision::NoRelease { .. }),
        "{:?}",
        p.decision
    );

    // Two reverts of the same fix: the newer one pairs with it, the older stays.
    let fix = r.commit_file("c", "1", "fix: c");
    let older = r.commit_file("c", "2", &revert_of(fix, "fix: c"));
    let newer = r.commit_file("c", "3", &revert_of(fix, "fix: c"));
    let p = run(&r, "v", None, None).expect("plan");
    let kept: Vec<git2::Oid> = p.commits.iter().map(|c| c.id).collect();
    assert_eq!(kept, [older], "newer {newer} pairs with {fix}");
    assert_eq!(p.conventional, 7);
}

#[test]
fn shallow_rerun_on_a_tagged_head_says_it_is_a_rerun() {
    let mut r = TestRepo::new();
    r.commit_file("a", "1", "feat: a");
    r.tag("v1.4.0");
    r.commit_file("b", "1", "fix: b");
    r.tag("v1.4.1");
    r.add_origin();
    let shallow = r.clone_origin("shallow", 1, "main", true);
    let repo = git2::Repository::open(&shallow).expect("open");
    let head = repo.head().expect("head").peel_to_commit().expect("c").id();
    let err = plan(&repo, head, &settings("v"), None, None).expect_err("shallow");
    assert!(
        matches!(&err, VersionError::ShallowRerun { tag, previous } if tag == "v1.4.1" && previous.starts_with("the release before it")),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("already released as `v1.4.1`") && text.contains("fetch-depth: 0"),
        "{text}"
    );
}

#[test]
fn an_empty_repository_has_no_commits_yet() {
    let r = TestRepo::new();
    let err = deployer_git::version::resolve(&r.repo, "HEAD").expect_err("unborn");
    assert!(
        matches!(err, deployer_git::GitError::NoCommits { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("no commits yet"), "{err}");
}
