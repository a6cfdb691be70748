//! `--since last-deployed`: each service compared with the commit that runs in the
//! environment, read from GitHub deployment records that deployer-notify's `Notifier`
//! wrote into the Deployments stand-in, exactly as ecs-deploy and rollback write them.
//! Issue 19's repro: pushes that are skipped, cancelled, fail before deploying or roll
//! back, then another push: every service whose code changed since its running commit is
//! changed.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use deployer_core::runtime::parse_output_file;
use deployer_git::testing::TestRepo;
use deployer_github::testing::{Answer, StandIn};
use deployer_github::{Client, RetryPolicy};
use deployer_notify::notifier::{Event, FailureKind, RollbackReason, RollbackTarget};
use deployer_notify::{DeploymentRecord, EnvironmentNaming, Links, Notifier, RunContext};
use detect_changes::bases::{Source, github_environment};
use git2::Oid;

const REPOSITORY: &str = "org/shop";
const TOKEN: &str = "ghs_fakeTokenForDetectChanges_0001";
const CONFIG: &str = "services:\n  billing:\n    paths: ['billing/**', 'libs/common/**']\n  search:\n    paths: ['search/**', 'libs/common/**']\n  frontend:\n    paths: ['frontend/**']\n";
const SINCE: [&str; 4] = ["--since", "last-deployed", "--environment", "staging"];

struct Run {
    code: i32,
    outputs: BTreeMap<String, String>,
    log: String,
    summary: String,
}

struct World {
    repo: TestRepo,
    github: StandIn,
}

/// How one service's deploy of a commit ended.
#[derive(Clone, Copy)]
enum Ends {
    Succeeded,
    /// The run was cancelled during the deploy: `in_progress`, never finished.
    Cancelled,
    /// deployer could not do its job before changing the service (GitHub `error`).
    FailedBeforeDeploy,
    /// The deploy failed and was rolled back to this commit.
    RolledBackTo(Oid),
}

impl World {
    fn new() -> World {
        let mut repo = TestRepo::new();
        repo.write(".github/deployer.yml", CONFIG);
        for dir in ["billing", "search", "frontend", "libs/common"] {
            repo.write(&format!("{dir}/main.txt"), "1");
        }
        repo.commit("chore: init");
        World {
            repo,
            github: StandIn::start(),
        }
    }

    fn client(&self) -> Client {
        Client::new(&self.github.uri(), Some(TOKEN.into()), REPOSITORY)
            .expect("client")
            .with_retry(RetryPolicy::fast(2))
    }

    /// `service`'s deploy of `sha` to staging, reported as ecs-deploy reports it.
    fn deploy(&self, service: &str, sha: Oid, ends: Ends) {
        let ctx = RunContext {
            server_url: "https://github.com".into(),
            repository: REPOSITORY.into(),
            run_id: Some("1".into()),
            actor: Some("octocat".into()),
            sha: Some(sha.to_string()),
        };
        let record = DeploymentRecord::new(service, "staging").with_run(&ctx);
        let mut notifier = Notifier::new(Links::new(&ctx, None, None)).with_github(self.client());
        self.github.block_on(async {
            notifier.notify(&record, &Event::Started).await;
            let last = match ends {
                Ends::Succeeded => Some(Event::Succeeded),
                Ends::Cancelled => None,
                Ends::FailedBeforeDeploy => Some(Event::Failed {
                    kind: FailureKind::Error,
                }),
                Ends::RolledBackTo(to) => Some(Event::RolledBack {
                    to: RollbackTarget {
                        revision: "previous".into(),
                        git_ref: Some(to.to_string()),
                        reason: RollbackReason::DeployFailed,
                        ..Default::default()
                    },
                }),
            };
            if let Some(event) = last {
                let report = notifier.notify(&record, &event).await;
                assert_eq!(report.warnings().count(), 0, "{report:?}");
            }
        });
    }

    fn commit(&mut self, path: &str, message: &str) -> Oid {
        let n = self.repo.head().to_string();
        self.repo.commit_file(path, &n, message)
    }

    fn run(&self, dir: &Path, before: Oid, after: Oid, args: &[&str]) -> Run {
        let event = serde_json::json!({
            "ref": "refs/heads/main", "before": before.to_string(), "after": after.to_string(),
            "commits": [{"id": after.to_string(), "message": "a push"}],
            "head_commit": {"id": after.to_string(), "message": "a push"},
            "repository": {"default_branch": "main", "full_name": REPOSITORY},
        });
        let tmp = tempfile::tempdir().expect("tmp");
        let (out, summary, path) = (
            tmp.path().join("output"),
            tmp.path().join("summary"),
            tmp.path().join("event.json"),
        );
        std::fs::write(&out, "").expect("touch");
        std::fs::write(&path, event.to_string()).expect("event");
        let output = Command::cargo_bin("detect-changes")
            .expect("binary")
            .current_dir(dir)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &out)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_EVENT_NAME", "push")
            .env("GITHUB_EVENT_PATH", &path)
            .env("GITHUB_API_URL", self.github.uri())
            .env("GITHUB_TOKEN", TOKEN)
            .env("GITHUB_REPOSITORY", REPOSITORY)
            .env("RUNNER_TEMP", tmp.path())
            .env_remove("DEPLOYER_SINCE")
            .env_remove("DEPLOYER_ENVIRONMENT")
            .env_remove("DEPLOYER_BASE")
            .env_remove("DEPLOYER_LAST_DEPLOYED_SHA")
            .args(args)
            .output()
            .expect("run");
        Run {
            code: output.status.code().unwrap_or(-1),
            outputs: parse_output_file(&std::fs::read_to_string(&out).expect("read"))
                .expect("parse"),
            log: String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr),
            summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        }
    }
}

fn bases(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.outputs["bases"]).expect("bases is JSON")
}

#[test]
fn the_environment_name_is_the_one_deployer_writes() {
    assert_eq!(
        github_environment("staging", "billing"),
        EnvironmentNaming::PerService.name("staging", "billing")
    );
}

#[test]
fn skipped_cancelled_failed_and_rolled_back_pushes_lose_no_change() {
    let mut w = World::new();
    let c0 = w.repo.head();
    for service in ["billing", "search", "frontend"] {
        w.deploy(service, c0, Ends::Succeeded);
    }
    // Push 1 changes billing; GitHub skipped the run ([skip ci] on its head): no record.
    w.commit("billing/main.txt", "fix(billing): rounding [skip ci]");
    // Push 2 changes search; the run was cancelled while deploying it.
    let c2 = w.commit("search/main.txt", "feat(search): facets");
    w.deploy("search", c2, Ends::Cancelled);
    // Push 3 changes frontend; the run failed before deploying it.
    let c3 = w.commit("frontend/main.txt", "feat(frontend): banner");
    w.deploy("frontend", c3, Ends::FailedBeforeDeploy);
    // Push 4 changes the shared library; billing's deploy failed and was rolled back.
    let c4 = w.commit("libs/common/main.txt", "fix(common): parse");
    w.deploy("billing", c4, Ends::RolledBackTo(c0));
    // Push 5 changes nothing a service owns.
    let c5 = w.commit("README.md", "docs: readme");

    // Compared with the push's `before`, every earlier change is lost.
    let by_event = w.run(&w.repo.path(), c4, c5, &[]);
    assert_eq!(by_event.code, 0, "{}", by_event.log);
    assert_eq!(by_event.outputs["changes"], "[]");

    let run = w.run(&w.repo.path(), c4, c5, &SINCE);
    assert_eq!(run.code, 0, "{}", run.log);
    assert_eq!(
        run.outputs["changes"], r#"["billing","frontend","search"]"#,
        "{}",
        run.outputs["reason"]
    );
    let b = bases(&run);
    for service in ["billing", "search", "frontend"] {
        assert_eq!(b[service]["base"], c0.to_string(), "{service}: {b}");
        assert_eq!(b[service]["source"], "last-deployed", "{service}: {b}");
    }
    assert_eq!(run.outputs["base"], c0.to_string(), "one base for all");
    let reason = &run.outputs["reason"];
    assert!(
        reason
            .starts_with("comparing each service with its last successful deployment to staging: ")
            && reason.contains("billing runs ")
            && reason.contains("a rollback")
            && reason.contains("1 newer deploy(s) did not succeed"),
        "{reason}"
    );
    assert!(
        run.summary.contains("| billing | ✅ yes | `"),
        "{}",
        run.summary
    );

    // frontend deploys at c5 and succeeds; the next push is compared per service.
    w.deploy("frontend", c5, Ends::Succeeded);
    let c6 = w.commit("docs/guide.md", "docs: guide");
    let run = w.run(&w.repo.path(), c5, c6, &SINCE);
    assert_eq!(
        run.outputs["changes"], r#"["billing","search"]"#,
        "{}",
        run.log
    );
    let b = bases(&run);
    assert_eq!(b["frontend"]["base"], c5.to_string());
    assert_eq!(b["billing"]["base"], c0.to_string());
    assert_eq!(run.outputs["base"], "", "services have different bases");
    assert!(
        run.summary.contains("each service's base"),
        "{}",
        run.summary
    );
}

#[test]
fn a_service_never_deployed_there_is_changed_and_says_so() {
    let mut w = World::new();
    let c0 = w.repo.head();
    w.deploy("billing", c0, Ends::Succeeded);
    w.deploy("search", c0, Ends::Succeeded);
    let c1 = w.commit("README.md", "docs: readme");
    let run = w.run(&w.repo.path(), c0, c1, &SINCE);
    assert_eq!(run.code, 0, "{}", run.log);
    assert_eq!(run.outputs["changes"], r#"["frontend"]"#);
    let b = bases(&run);
    assert_eq!(b["frontend"]["source"], "never-deployed");
    assert_eq!(b["frontend"]["base"], "");
    assert!(
        run.outputs["reason"].contains(
            "frontend never deployed to staging (no GitHub deployment in `staging/frontend`): counts as changed"
        ),
        "{}",
        run.outputs["reason"]
    );
}

#[test]
fn a_service_whose_every_deploy_failed_stays_changed_until_one_succeeds() {
    let mut w = World::new();
    let c0 = w.repo.head();
    for service in ["billing", "search"] {
        w.deploy(service, c0, Ends::Succeeded);
    }
    w.deploy("frontend", c0, Ends::FailedBeforeDeploy);
    let c1 = w.commit("README.md", "docs: readme");
    let run = w.run(&w.repo.path(), c0, c1, &SINCE);
    assert_eq!(run.outputs["changes"], r#"["frontend"]"#, "{}", run.log);
    assert_eq!(bases(&run)["frontend"]["source"], "no-successful-deploy");
    assert!(
        run.outputs["reason"].contains("is error): counts as changed until one succeeds"),
        "{}",
        run.outputs["reason"]
    );
}

#[test]
fn a_running_commit_missing_from_a_shallow_clone_is_fetched_or_counts_as_changed() {
    let mut w = World::new();
    let c0 = w.repo.head();
    w.repo.add_origin();
    let gone = "1234567890123456789012345678901234567890"
        .parse::<Oid>()
        .expect("oid");
    w.deploy("billing", c0, Ends::Succeeded);
    w.deploy("search", c0, Ends::Succeeded);
    // frontend runs a commit no longer anywhere (force-pushed away and collected).
    w.deploy("frontend", gone, Ends::Succeeded);
    w.commit("search/main.txt", "feat(search): x");
    let c2 = w.commit("README.md", "docs: y");
    w.repo.push_all();
    let clone = w.repo.clone_origin("ci", 1, "main", false);
    let run = w.run(&clone, c0, c2, &SINCE);
    assert_eq!(run.code, 0, "{}", run.log);
    assert_eq!(
        run.outputs["changes"], r#"["frontend","search"]"#,
        "{}",
        run.log
    );
    let b = bases(&run);
    assert_eq!(b["billing"]["base"], c0.to_string(), "fetched by SHA");
    assert_eq!(b["frontend"]["source"], "not-fetchable");
    assert!(
        b["frontend"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not in this clone and could not be fetched")),
        "{b}"
    );
}

#[test]
fn a_token_without_deployments_read_exits_2_naming_the_permission() {
    let w = World::new();
    let c0 = w.repo.head();
    w.github.records.set_answer(Answer::Forbidden);
    let run = w.run(&w.repo.path(), c0, c0, &SINCE);
    assert_eq!(run.code, 2, "{}", run.log);
    assert!(
        run.log
            .contains("--since last-deployed reads the GitHub deployment records")
            && run.log.contains("permissions: deployments: read"),
        "{}",
        run.log
    );
}

#[test]
fn since_flags_that_do_not_fit_together_exit_2() {
    let w = World::new();
    let c0 = w.repo.head();
    let cases: [(&[&str], &str); 4] = [
        (&["--since", "last-deployed"], "needs --environment"),
        (
            &["--environment", "staging"],
            "only read with --since last-deployed",
        ),
        (
            &[
                "--since",
                "last-deployed",
                "--environment",
                "staging",
                "--base",
                "HEAD",
            ],
            "--base and --since last-deployed",
        ),
        (&["--since", "somewhen"], "somewhen"),
    ];
    for (args, words) in cases {
        let run = w.run(&w.repo.path(), c0, c0, args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.log);
        assert!(run.log.contains(words), "{args:?}: {}", run.log);
    }
}

/// An unreadable API (down after the retries) falls back to the event's base, per
/// service, and says so (library level, with fast retries).
#[test]
fn unreadable_records_fall_back_to_the_pushs_before_and_say_so() {
    let mut w = World::new();
    let c0 = w.repo.head();
    let c1 = w.commit("search/main.txt", "feat(search): x");
    w.github.records.set_answer(Answer::Unavailable);
    let event_json = serde_json::json!({
        "ref": "refs/heads/main", "before": c0.to_string(), "after": c1.to_string(),
        "commits": [], "repository": {"default_branch": "main"},
    });
    let event =
        deployer_core::event::parse("push", &event_json.to_string(), "test").expect("event");
    let filters = detect_changes::compile_filters(vec![
        ("billing".into(), vec!["billing/**".into()]),
        ("search".into(), vec!["search/**".into()]),
    ])
    .expect("filters");
    let client = w.client();
    let req = deployer_git::base::BaseRequest {
        event: Some(&event),
        ..Default::default()
    };
    let plan = detect_changes::BasePlan::LastDeployed {
        environment: "staging",
        client: &client,
    };
    let (outcome, _) = detect_changes::detect(
        &w.repo.path(),
        &filters,
        &deployer_git::markers::MarkerSettings::default(),
        &req,
        &plan,
    )
    .expect("detect");
    assert_eq!(outcome.changed(), ["search"]);
    assert!(
        outcome
            .bases
            .iter()
            .all(|b| b.source == Source::RecordsUnreadable && b.base == Some(c0))
    );
    assert!(
        outcome.reason.contains("could not be read")
            && outcome
                .reason
                .contains("compared as for the event: push: comparing with the previous tip"),
        "{}",
        outcome.reason
    );
    // Two attempts for the first service; the second is not asked.
    assert_eq!(w.github.records.requests(), 2);
}

/// The same through the binary: the reason and a warning annotation say the records were
/// not read (the binary's default retries: 4 attempts, about 7 s of backoff).
#[test]
fn the_binary_warns_when_the_records_cannot_be_read() {
    let mut w = World::new();
    let c0 = w.repo.head();
    let c1 = w.commit("billing/main.txt", "fix(billing): x");
    w.github.records.set_answer(Answer::Unavailable);
    let run = w.run(&w.repo.path(), c0, c1, &SINCE);
    assert_eq!(run.code, 0, "{}", run.log);
    assert_eq!(run.outputs["changes"], r#"["billing"]"#);
    assert_eq!(run.outputs["base"], c0.to_string());
    assert!(
        run.log
            .contains("::warning title=detect-changes%3A deployment records not read::")
            && run.log.contains("could not be read"),
        "{}",
        run.log
    );
    assert_eq!(bases(&run)["search"]["source"], "records-unreadable");
}
