//! Notifications never delay a deploy (issue 16): a Slack webhook and a GitHub API that
//! never answer leave the deploy's verdict and exit code unchanged, and the command ends
//! within the deploy's own time plus the notification budget.

use std::time::{Duration, Instant};

use assert_cmd::Command;
use deployer_aws::ecs::Ecs;
use ecs_deploy::notify::FINISH_BUDGET;
use ecs_sim::{Scenario, SimConfig};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "ghs_FAKEtokenBudget7Z3xk9Pzz";
const SLACK_SECRET: &str = "XSLACKbudgetW9v2Lq8Hd";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
/// Longer than any run here: a server that never answers.
const HUNG: Duration = Duration::from_secs(600);

struct Servers {
    github: MockServer,
    slack: MockServer,
}

/// GitHub and Slack answering at once, or after `delay` (`HUNG`: never in practice).
fn servers(rt: &tokio::runtime::Runtime, github_delay: Duration, slack_delay: Duration) -> Servers {
    rt.block_on(async {
        let github = MockServer::start().await;
        let created =
            serde_json::json!({"id": 4242, "sha": SHA, "ref": SHA, "environment": "shop/api"});
        Mock::given(method("POST"))
            .and(path("/repos/org/app/deployments"))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(created)
                    .set_delay(github_delay),
            )
            .mount(&github)
            .await;
        let status = serde_json::json!({"id": 1, "state": "x"});
        Mock::given(method("POST"))
            .and(path_regex(r"^/repos/org/app/deployments/\d+/statuses$"))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(status)
                    .set_delay(github_delay),
            )
            .mount(&github)
            .await;
        let slack = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_string("ok")
                    .set_delay(slack_delay),
            )
            .mount(&slack)
            .await;
        Servers { github, slack }
    })
}

fn deploy(endpoint: &str, dir: &std::path::Path, s: &Servers, image: &str) -> Command {
    let mut c = Command::cargo_bin("ecs-deploy").expect("binary");
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL_ECS", endpoint)
        .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", endpoint)
        .env("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "2")
        .env("DEPLOYER_CLUSTER", "shop")
        .env("DEPLOYER_SERVICE", "api")
        .env("DEPLOYER_IMAGE", format!("api={image}"))
        .env("DEPLOYER_POLL_INTERVAL", "0.2s")
        .env("GITHUB_OUTPUT", dir.join("out"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
        .env("GITHUB_API_URL", s.github.uri())
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_REPOSITORY", "org/app")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_SHA", SHA)
        .env("GITHUB_RUN_ID", "16")
        .env("DEPLOYER_GITHUB_DEPLOYMENTS", "true")
        .env(
            "DEPLOYER_SLACK_WEBHOOK_URL",
            format!("{}/services/T0001/B0001/{SLACK_SECRET}", s.slack.uri()),
        );
    c
}

struct Run {
    code: Option<i32>,
    took: Duration,
    /// stdout, stderr and the job summary.
    text: String,
    status: Option<String>,
}

fn run(mut c: Command, dir: &std::path::Path) -> Run {
    let _ = std::fs::remove_file(dir.join("out"));
    let _ = std::fs::remove_file(dir.join("summary.md"));
    let start = Instant::now();
    let out = c.output().expect("run");
    let took = start.elapsed();
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    let status = deployer_core::runtime::parse_output_file(&read("out"))
        .expect("outputs")
        .into_iter()
        .find(|(k, _)| k == "status")
        .map(|(_, v)| v);
    Run {
        code: out.status.code(),
        took,
        text: format!(
            "{}{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            read("summary.md")
        ),
        status,
    }
}

fn github_states(rt: &tokio::runtime::Runtime, s: &Servers) -> Vec<String> {
    rt.block_on(s.github.received_requests())
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path().ends_with("/statuses"))
        .map(|r| {
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
            body["state"].as_str().unwrap_or("").to_string()
        })
        .collect()
}

#[test]
fn hung_slack_and_github_do_not_delay_the_deploy_or_change_its_verdict() {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::default(),
        time_scale: 10.0,
        seed: 16,
    })
    .expect("sim");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
        let ecs = Ecs::new(&ctx.config);
        deployer_aws::testing::create_service(&ecs, "shop", "api", "repo/api:v1", 2, false, 200)
            .await
    });
    let dir = tempfile::tempdir().expect("dir");

    // The deploy's own time, with notifications that answer at once.
    let healthy = servers(&rt, Duration::ZERO, Duration::ZERO);
    let base = run(
        deploy(&sim.endpoint(), dir.path(), &healthy, "repo/api:v2"),
        dir.path(),
    );
    assert_eq!(base.code, Some(0), "{}", base.text);
    assert_eq!(github_states(&rt, &healthy), ["in_progress", "success"]);

    // Slack never answers: GitHub's record is complete, Slack's silence is a warning.
    let slack_hung = servers(&rt, Duration::ZERO, HUNG);
    let r = run(
        deploy(&sim.endpoint(), dir.path(), &slack_hung, "repo/api:v3"),
        dir.path(),
    );
    assert_eq!(
        (r.code, r.status.as_deref()),
        (Some(0), Some("succeeded")),
        "{}",
        r.text
    );
    assert_eq!(
        github_states(&rt, &slack_hung),
        ["in_progress", "success"],
        "{}",
        r.text
    );
    assert!(
        r.text
            .contains("the \"started\" notification was not delivered: Slack did not answer")
            && r.text
                .contains("the \"succeeded\" notification was not delivered: Slack did not answer"),
        "{}",
        r.text
    );
    assert_within_budget(&base, &r);

    // Neither answers: same verdict, same exit code, same bound.
    let all_hung = servers(&rt, HUNG, HUNG);
    let r = run(
        deploy(&sim.endpoint(), dir.path(), &all_hung, "repo/api:v4"),
        dir.path(),
    );
    assert_eq!(
        (r.code, r.status.as_deref()),
        (Some(0), Some("succeeded")),
        "{}",
        r.text
    );
    assert!(
        r.text
            .contains("GitHub deployments did not answer within the 10 s notification budget")
            && r.text.contains("### Notifications"),
        "{}",
        r.text
    );
    assert!(
        !r.text.contains(TOKEN) && !r.text.contains(SLACK_SECRET),
        "{}",
        r.text
    );
    assert_within_budget(&base, &r);
}

/// The deploy's own time (the healthy run's) plus the notification budget, with a
/// generous 30 s for a loaded machine; before issue 16 a hung webhook alone added 96 s.
fn assert_within_budget(base: &Run, hung: &Run) {
    let bound = base.took + FINISH_BUDGET + Duration::from_secs(30);
    eprintln!(
        "deploy alone {:?}; with hung notifications {:?}",
        base.took, hung.took
    );
    assert!(
        hung.took < bound,
        "took {:?}; the deploy alone took {:?} and notifications may add {:?}:\n{}",
        hung.took,
        base.took,
        FINISH_BUDGET,
        hung.text
    );
}
