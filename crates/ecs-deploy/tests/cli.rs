//! The `ecs-deploy` binary against ecs-sim, configured only through env variables.

use assert_cmd::Command;
use deployer_aws::ecs::Ecs;
use ecs_sim::{Scenario, SimConfig};

const SCENARIO: &str = r#"
images:
  "repo/api:crash": {kind: crash-loop, start-after: 2, after: 3, exit-code: 3, logs: ["FATAL: cannot connect to database"]}
"#;

fn cmd(endpoint: &str, dir: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("ecs-deploy").expect("binary");
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL_ECS", endpoint)
        .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", endpoint)
        .env("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9") // no STS here: the identity line is skipped
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "2")
        .env("DEPLOYER_CLUSTER", "shop")
        .env("DEPLOYER_POLL_INTERVAL", "0.2s")
        .env("GITHUB_OUTPUT", dir.join("out"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"));
    c
}

#[test]
fn deploys_then_fails_a_crash_loop_with_cause_and_rollback() {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::from_yaml(SCENARIO).expect("s"),
        time_scale: 10.0,
        seed: 3,
    })
    .expect("sim");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let v1 = rt.block_on(async {
        let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
        let ecs = Ecs::new(&ctx.config);
        deployer_aws::testing::create_service(&ecs, "shop", "api", "repo/api:v1", 4, false, 125)
            .await
    });
    let dir = tempfile::tempdir().expect("dir");

    let ok = cmd(&sim.endpoint(), dir.path())
        .env("DEPLOYER_SERVICE", "api")
        .env("DEPLOYER_IMAGE", "api=repo/api:v2")
        .env("DEPLOYER_TAGS", "git-sha=0123456789abcdef")
        .output()
        .expect("run");
    let text =
        String::from_utf8_lossy(&ok.stdout).to_string() + &String::from_utf8_lossy(&ok.stderr);
    assert_eq!(ok.status.code(), Some(0), "{text}");
    let outputs = deployer_core::runtime::parse_output_file(
        &std::fs::read_to_string(dir.path().join("out")).expect("out"),
    )
    .expect("parse");
    assert_eq!(outputs.get("status").map(String::as_str), Some("succeeded"));
    assert_eq!(outputs.get("previous-task-definition-arn"), Some(&v1));
    assert!(
        outputs
            .get("task-definition-arn")
            .is_some_and(|a| a.ends_with("api:2")),
        "{outputs:?}"
    );
    assert!(
        outputs
            .get("service-deployment-arn")
            .is_some_and(|a| a.contains("service-deployment"))
    );

    std::fs::remove_file(dir.path().join("out")).ok();
    let bad = cmd(&sim.endpoint(), dir.path())
        .env("DEPLOYER_SERVICE", "api")
        .env("DEPLOYER_IMAGE", "api=repo/api:crash")
        .output()
        .expect("run");
    let text =
        String::from_utf8_lossy(&bad.stdout).to_string() + &String::from_utf8_lossy(&bad.stderr);
    eprintln!("{text}");
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(text.contains("exited with code 3"), "{text}");
    assert!(text.contains("FATAL: cannot connect to database"), "{text}");
    assert!(
        text.contains("rollback: StopServiceDeployment(ROLLBACK) → ROLLBACK_SUCCESSFUL"),
        "{text}"
    );
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).expect("summary");
    assert!(summary.contains("essential container exited"), "{summary}");
    assert!(summary.contains("timeline"), "{summary}");
    let outputs = deployer_core::runtime::parse_output_file(
        &std::fs::read_to_string(dir.path().join("out")).expect("out"),
    )
    .expect("parse");
    assert_eq!(outputs.get("status").map(String::as_str), Some("failed"));
}

#[test]
fn bad_input_exits_2_with_a_message() {
    let dir = tempfile::tempdir().expect("dir");
    let out = cmd("http://127.0.0.1:9", dir.path())
        .env("DEPLOYER_SERVICE", "api")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to deploy"));
    let out = cmd("http://127.0.0.1:9", dir.path())
        .args([
            "--service",
            "api",
            "--image",
            "x:1",
            "--on-failure",
            "panic",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn several_services_deploy_concurrently_with_one_table() {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::default(),
        time_scale: 20.0,
        seed: 5,
    })
    .expect("sim");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
        let ecs = Ecs::new(&ctx.config);
        deployer_aws::testing::create_service(&ecs, "shop", "api", "repo/api:v1", 2, false, 200)
            .await;
        deployer_aws::testing::create_service(
            &ecs,
            "shop",
            "worker",
            "repo/worker:v1",
            1,
            false,
            200,
        )
        .await;
    });
    let dir = tempfile::tempdir().expect("dir");
    let out = cmd(&sim.endpoint(), dir.path())
        .args([
            "--service",
            "api,worker",
            "--image",
            "api=repo/app:v2",
            "--json",
        ])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("--json prints JSON on stdout");
    assert_eq!(json["status"], "succeeded");
    let services: serde_json::Value =
        serde_json::from_str(json["services-json"].as_str().expect("services-json")).expect("json");
    assert_eq!(services.as_array().map(Vec::len), Some(2));
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).expect("summary");
    assert!(
        summary.contains("| api (shop) | succeeded")
            && summary.contains("| worker (shop) | succeeded"),
        "{summary}"
    );
}

// ---------------------------------------------------------------------------------------
// Notifications (wiremock GitHub + Slack) and provenance tags.

use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "ghs_FAKEtokenQ7Z3xk9PzzTop";
const SLACK_SECRET: &str = "XSLACKsecretW9v2Lq8Hd";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

struct Mocks {
    github: MockServer,
    slack: MockServer,
}

impl Mocks {
    fn slack_url(&self) -> String {
        format!("{}/services/T0001/B0001/{SLACK_SECRET}", self.slack.uri())
    }

    /// Bodies of the requests one server received whose path matches `suffix`.
    fn bodies(
        &self,
        rt: &tokio::runtime::Runtime,
        server: &MockServer,
        suffix: &str,
    ) -> Vec<serde_json::Value> {
        rt.block_on(server.received_requests())
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path().ends_with(suffix))
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null))
            .collect()
    }

    fn github_states(&self, rt: &tokio::runtime::Runtime) -> Vec<String> {
        self.bodies(rt, &self.github, "/statuses")
            .iter()
            .map(|b| b["state"].as_str().unwrap_or("").to_string())
            .collect()
    }

    /// The header text of every Slack message, in order.
    fn slack_titles(&self, rt: &tokio::runtime::Runtime) -> Vec<String> {
        self.bodies(rt, &self.slack, SLACK_SECRET)
            .iter()
            .map(|b| {
                b["blocks"][0]["text"]["text"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }
}

fn mocks(rt: &tokio::runtime::Runtime, slack_status: u16) -> Mocks {
    rt.block_on(async {
        let github = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/repos/org/app/deployments"))
            .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
                "id": 4242, "sha": SHA, "ref": SHA, "environment": "shop/api", "payload": {}
            })))
            .mount(&github)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(r"^/repos/org/app/deployments/\d+/statuses$"))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(serde_json::json!({"id": 1, "state": "x"})),
            )
            .mount(&github)
            .await;
        let slack = MockServer::start().await;
        let answer = if slack_status == 200 {
            ResponseTemplate::new(200).set_body_string("ok")
        } else {
            ResponseTemplate::new(slack_status).set_body_string("no_service")
        };
        Mock::given(method("POST"))
            .respond_with(answer)
            .mount(&slack)
            .await;
        Mocks { github, slack }
    })
}

fn notify_cmd(endpoint: &str, dir: &std::path::Path, m: &Mocks, run_id: &str) -> Command {
    let mut c = cmd(endpoint, dir);
    c.env("GITHUB_API_URL", m.github.uri())
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_REPOSITORY", "org/app")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_SHA", SHA)
        .env("GITHUB_RUN_ID", run_id)
        .env("GITHUB_ACTOR", "octocat")
        .env("DEPLOYER_GITHUB_DEPLOYMENTS", "true")
        .env("DEPLOYER_SLACK_WEBHOOK_URL", m.slack_url())
        .env("DEPLOYER_SERVICE", "api");
    c
}

/// Everything the run wrote where people or other steps can see it.
fn visible(out: &std::process::Output, dir: &std::path::Path) -> String {
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    format!(
        "{}{}{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        read("out"),
        read("summary.md")
    )
}

fn assert_no_secrets(text: &str) {
    assert!(!text.contains(TOKEN), "GitHub token leaked:\n{text}");
    assert!(
        !text.contains(SLACK_SECRET),
        "Slack webhook leaked:\n{text}"
    );
}

fn outputs(dir: &std::path::Path) -> std::collections::HashMap<String, String> {
    deployer_core::runtime::parse_output_file(
        &std::fs::read_to_string(dir.join("out")).unwrap_or_default(),
    )
    .expect("parse outputs")
    .into_iter()
    .collect()
}

async fn tags_of(endpoint: &str, arn: &str) -> Vec<(String, String)> {
    let ctx = deployer_aws::testing::context(endpoint).await;
    let ecs = Ecs::new(&ctx.config);
    let out = ecs
        .client
        .describe_task_definition()
        .task_definition(arn)
        .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
        .send()
        .await
        .expect("describe");
    out.tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or("").to_string(),
                t.value().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn sim_with_api(
    scenario: &str,
    desired: i32,
    max_percent: i32,
) -> (ecs_sim::SimHandle, tokio::runtime::Runtime) {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::from_yaml(scenario).expect("s"),
        time_scale: 10.0,
        seed: 11,
    })
    .expect("sim");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
        let ecs = Ecs::new(&ctx.config);
        deployer_aws::testing::create_service(
            &ecs,
            "shop",
            "api",
            "repo/api:v1",
            desired,
            false,
            max_percent,
        )
        .await
    });
    (sim, rt)
}

#[test]
fn good_deploy_records_a_github_deployment_posts_to_slack_and_tags_the_revision() {
    let (sim, rt) = sim_with_api(SCENARIO, 2, 200);
    let m = mocks(&rt, 200);
    let dir = tempfile::tempdir().expect("dir");
    let out = notify_cmd(&sim.endpoint(), dir.path(), &m, "777")
        .env("DEPLOYER_IMAGE", "api=repo/api:v2.0.0")
        .env("DEPLOYER_TAGS", "team=core")
        .output()
        .expect("run");
    let text = visible(&out, dir.path());
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_no_secrets(&text);

    // GitHub: one deployment, in_progress then success, with the run as log URL.
    let created = m.bodies(&rt, &m.github, "/deployments");
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["ref"], SHA);
    assert_eq!(created[0]["environment"], "shop/api");
    assert_eq!(created[0]["payload"]["version"], "v2.0.0");
    assert_eq!(m.github_states(&rt), ["in_progress", "success"]);
    let statuses = m.bodies(&rt, &m.github, "/statuses");
    assert_eq!(
        statuses[1]["log_url"],
        "https://github.com/org/app/actions/runs/777"
    );
    // Slack: started, then succeeded.
    let titles = m.slack_titles(&rt);
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(
        titles[0].contains("Deploying api v2.0.0 to shop"),
        "{titles:?}"
    );
    assert!(
        titles[1].contains("api v2.0.0 deployed to shop"),
        "{titles:?}"
    );

    let outs = outputs(dir.path());
    assert_eq!(
        outs.get("github-deployment-id").map(String::as_str),
        Some("4242")
    );
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).expect("summary");
    assert!(summary.contains("### Notifications"), "{summary}");
    assert!(summary.contains("deployment 4242 created"), "{summary}");

    // The new revision says what it runs; the user's tag is kept.
    let arn = outs.get("task-definition-arn").cloned().expect("arn");
    let tags = rt.block_on(tags_of(&sim.endpoint(), &arn));
    let tag = |k: &str| {
        tags.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(tag("deployer:git-sha"), Some(SHA), "{tags:?}");
    assert_eq!(tag("deployer:version"), Some("v2.0.0"), "{tags:?}");
    assert_eq!(
        tag("deployer:run-url"),
        Some("https://github.com/org/app/actions/runs/777"),
        "{tags:?}"
    );
    assert_eq!(tag("deployer:deployed-by"), Some("octocat"), "{tags:?}");
    assert_eq!(tag("team"), Some("core"), "{tags:?}");

    // A re-run of the same commit (new run, new run URL) registers nothing and deploys
    // nothing, so it announces nothing either.
    let registered = sim.call_count("RegisterTaskDefinition");
    std::fs::remove_file(dir.path().join("out")).ok();
    let again = notify_cmd(&sim.endpoint(), dir.path(), &m, "778")
        .env("DEPLOYER_IMAGE", "api=repo/api:v2.0.0")
        .env("DEPLOYER_TAGS", "team=core")
        .output()
        .expect("run");
    let text = visible(&again, dir.path());
    assert_eq!(again.status.code(), Some(0), "{text}");
    assert_eq!(
        sim.call_count("RegisterTaskDefinition"),
        registered,
        "{text}"
    );
    assert_eq!(
        outputs(dir.path()).get("status").map(String::as_str),
        Some("unchanged"),
        "{text}"
    );
    assert_eq!(m.bodies(&rt, &m.github, "/deployments").len(), 1);
    assert_eq!(m.slack_titles(&rt).len(), 2);
    assert_no_secrets(&text);
}

#[test]
fn crash_loop_deploy_reports_failure_and_rollback() {
    let (sim, rt) = sim_with_api(SCENARIO, 4, 125);
    let m = mocks(&rt, 200);
    let dir = tempfile::tempdir().expect("dir");
    let out = notify_cmd(&sim.endpoint(), dir.path(), &m, "900")
        .env("DEPLOYER_IMAGE", "api=repo/api:crash")
        .env("DEPLOYER_TIMEOUT", "120s")
        .output()
        .expect("run");
    let text = visible(&out, dir.path());
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_no_secrets(&text);
    // in_progress, failure (the deploy), failure again "rolled back to …" (the rollback).
    assert_eq!(
        m.github_states(&rt),
        ["in_progress", "failure", "failure"],
        "{text}"
    );
    let statuses = m.bodies(&rt, &m.github, "/statuses");
    assert!(
        statuses[1]["description"]
            .as_str()
            .is_some_and(|d| d.contains("exited with code 3")),
        "{statuses:?}"
    );
    assert!(
        statuses[2]["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("rolled back to api:1")),
        "{statuses:?}"
    );
    let titles = m.slack_titles(&rt);
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert!(
        titles[1].contains("Deploy of api crash to shop failed"),
        "{titles:?}"
    );
    assert!(
        titles[2].contains("api rolled back to api:1 in shop"),
        "{titles:?}"
    );
    let failed = m.bodies(&rt, &m.slack, SLACK_SECRET)[1].to_string();
    assert!(
        failed.contains("FATAL: cannot connect to database"),
        "{failed}"
    );
}

#[test]
fn slack_404_is_a_warning_and_a_good_deploy_still_exits_0() {
    let (sim, rt) = sim_with_api(SCENARIO, 2, 200);
    let m = mocks(&rt, 404);
    let dir = tempfile::tempdir().expect("dir");
    let out = notify_cmd(&sim.endpoint(), dir.path(), &m, "901")
        .env("DEPLOYER_IMAGE", "api=repo/api:v2")
        .output()
        .expect("run");
    let text = visible(&out, dir.path());
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("Slack notification not delivered (HTTP 404 no_service)"),
        "{text}"
    );
    assert_eq!(
        outputs(dir.path()).get("status").map(String::as_str),
        Some("succeeded")
    );
    // GitHub is unaffected by Slack's trouble.
    assert_eq!(m.github_states(&rt), ["in_progress", "success"]);
    assert_no_secrets(&text);
}

#[test]
fn blue_green_test_traffic_is_announced_and_continue_resumes_the_deployment() {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::default(),
        time_scale: 30.0,
        seed: 13,
    })
    .expect("sim");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
        let ecs = Ecs::new(&ctx.config);
        deployer_aws::testing::create_service(&ecs, "shop", "api", "repo/api:v1", 2, true, 200)
            .await
    });
    let m = mocks(&rt, 200);
    let dir = tempfile::tempdir().expect("dir");
    let out = notify_cmd(&sim.endpoint(), dir.path(), &m, "950")
        .env("DEPLOYER_IMAGE", "api=repo/api:v2")
        .env("DEPLOYER_WAIT_UNTIL", "test-traffic")
        .output()
        .expect("run");
    let text = visible(&out, dir.path());
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(
        m.github_states(&rt),
        ["in_progress", "in_progress"],
        "{text}"
    );
    let titles = m.slack_titles(&rt);
    assert!(
        titles[1].contains("api v2 is ready for testing in shop"),
        "{titles:?}"
    );
    let id = outputs(dir.path())
        .get("github-deployment-id")
        .cloned()
        .expect("deployment id");

    std::fs::remove_file(dir.path().join("out")).ok();
    let out = notify_cmd(&sim.endpoint(), dir.path(), &m, "951")
        .env("DEPLOYER_CONTINUE", "true")
        .env("DEPLOYER_GITHUB_DEPLOYMENT_ID", &id)
        .output()
        .expect("run");
    let text = visible(&out, dir.path());
    assert_eq!(out.status.code(), Some(0), "{text}");
    // No second deployment: the first one ends in success.
    assert_eq!(m.bodies(&rt, &m.github, "/deployments").len(), 1, "{text}");
    assert_eq!(
        m.github_states(&rt),
        ["in_progress", "in_progress", "success"],
        "{text}"
    );
    let titles = m.slack_titles(&rt);
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert!(titles[2].contains("deployed to shop"), "{titles:?}");
    assert_no_secrets(&text);
}
