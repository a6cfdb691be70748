//! The `rollback` binary against ecs-sim.

use assert_cmd::Command;
use deployer_aws::deploy::{DeployRequest, OnFailure, deploy_service};
use deployer_aws::ecs::Ecs;
use deployer_aws::logs::Logs;
use ecs_sim::{Scenario, SimConfig};

#[test]
fn rolls_back_to_the_last_successful_revision_and_warns_about_migrations() {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::default(),
        time_scale: 20.0,
        seed: 3,
    })
    .expect("sim");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let v1 = rt.block_on(async {
        let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
        let ecs = Ecs::new(&ctx.config);
        let logs = Logs::new(&ctx.config);
        let v1 = deployer_aws::testing::create_service(
            &ecs,
            "shop",
            "api",
            "repo/api:v1",
            2,
            false,
            200,
        )
        .await;
        let req = DeployRequest {
            on_failure: OnFailure::Leave,
            ..deployer_aws::testing::deploy_request("shop", "api", "repo/api:v2")
        };
        let r = deploy_service(&ecs, &logs, &req, &|_: &str| {})
            .await
            .expect("deploy");
        assert!(r.status.ok());
        // Revisions registered later (not deployed) must not become the target.
        ecs.register_task_definition(&deployer_aws::testing::task_definition(
            "api",
            "repo/api:v3",
        ))
        .await
        .expect("stray");
        v1
    });
    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir_all(dir.path().join(".github")).expect("mkdir");
    std::fs::write(
        dir.path().join(".github/deployer.yml"),
        "services:\n  api:\n    paths: ['**']\n    cluster: shop\n    migration:\n      preset: alembic\n",
    )
    .expect("config");
    let out = Command::cargo_bin("rollback")
        .expect("bin")
        .current_dir(dir.path())
        .env_clear()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "2")
        .env("GITHUB_OUTPUT", dir.path().join("out"))
        .args(["--service", "api", "--poll-interval", "0.2s"])
        .output()
        .expect("run");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("NOT rolled back"), "{text}");
    assert!(text.contains("alembic downgrade -1"), "{text}");
    let outputs = deployer_core::runtime::parse_output_file(
        &std::fs::read_to_string(dir.path().join("out")).expect("out"),
    )
    .expect("parse");
    assert_eq!(outputs.get("task-definition-arn"), Some(&v1), "{text}");
}

// ---------------------------------------------------------------------------------------
// Targets found through the deployer:* provenance tags, with notifications.

use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SHA_V2: &str = "fedcba9876543210fedcba9876543210fedcba98";
const TOKEN: &str = "ghs_FAKErollbackTokenZ9Q4";
const SLACK_SECRET: &str = "XSLACKrollbackSecret7Kd2";

/// v1 (created, untagged) → v2 registered with provenance tags (image tag without the
/// SHA) → v3 deployed. Returns (sim, v2 ARN).
fn service_with_tagged_v2() -> (ecs_sim::SimHandle, String) {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::default(),
        time_scale: 20.0,
        seed: 9,
    })
    .expect("sim");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let v2 = rt.block_on(async {
        let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
        let ecs = Ecs::new(&ctx.config);
        let logs = Logs::new(&ctx.config);
        deployer_aws::testing::create_service(&ecs, "shop", "api", "repo/api:v1", 2, false, 200)
            .await;
        let mut td = deployer_aws::testing::task_definition("api", "repo/api:build-42");
        td["tags"] = serde_json::json!([
            {"key": "deployer:git-sha", "value": SHA_V2},
            {"key": "deployer:version", "value": "v2.0.0"}
        ]);
        let v2 = ecs.register_task_definition(&td).await.expect("v2");
        let req = DeployRequest {
            on_failure: OnFailure::Leave,
            ..deployer_aws::testing::deploy_request("shop", "api", "repo/api:v3")
        };
        let r = deploy_service(&ecs, &logs, &req, &|_: &str| {})
            .await
            .expect("deploy v3");
        assert!(r.status.ok());
        v2
    });
    (sim, v2)
}

fn rollback_cmd(endpoint: &str, dir: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("rollback").expect("bin");
    c.current_dir(dir)
        .env_clear()
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "2")
        .env("DEPLOYER_CLUSTER", "shop")
        .env("DEPLOYER_SERVICE", "api")
        .env("DEPLOYER_POLL_INTERVAL", "0.2s")
        .env("GITHUB_OUTPUT", dir.join("out"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"));
    c
}

fn outputs(dir: &std::path::Path) -> std::collections::HashMap<String, String> {
    deployer_core::runtime::parse_output_file(
        &std::fs::read_to_string(dir.join("out")).unwrap_or_default(),
    )
    .expect("parse")
    .into_iter()
    .collect()
}

#[test]
fn to_sha_finds_the_revision_by_its_git_sha_tag_and_notifies() {
    let (sim, v2) = service_with_tagged_v2();
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let (github, slack) = rt.block_on(async {
        let github = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/repos/org/app/deployments"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([
                {"id": 7, "sha": "aaa", "ref": "aaa", "environment": "shop/api", "payload": {"version": "v3"}}
            ])))
            .mount(&github)
            .await;
        Mock::given(method("POST"))
            .and(path("/repos/org/app/deployments"))
            .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
                "id": 8, "sha": SHA_V2, "ref": SHA_V2, "environment": "shop/api", "payload": {}
            })))
            .mount(&github)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(r"^/repos/org/app/deployments/\d+/statuses$"))
            .respond_with(
                ResponseTemplate::new(201).set_body_json(serde_json::json!({"id": 1, "state": "x"})),
            )
            .mount(&github)
            .await;
        let slack = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
            .mount(&slack)
            .await;
        (github, slack)
    });
    let dir = tempfile::tempdir().expect("dir");
    let out = rollback_cmd(&sim.endpoint(), dir.path())
        .env("DEPLOYER_TO_SHA", &SHA_V2[..8])
        .env("GITHUB_API_URL", github.uri())
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_REPOSITORY", "org/app")
        .env("GITHUB_SHA", "aaa")
        .env("GITHUB_RUN_ID", "55")
        .env("DEPLOYER_GITHUB_DEPLOYMENTS", "1")
        .env(
            "DEPLOYER_SLACK_WEBHOOK_URL",
            format!("{}/services/T1/B1/{SLACK_SECRET}", slack.uri()),
        )
        .output()
        .expect("run");
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap_or_default();
    let text = format!(
        "{}{}{}{summary}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(dir.path().join("out")).unwrap_or_default()
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!("tagged deployer:git-sha={}", &SHA_V2[..8])),
        "{text}"
    );
    let outs = outputs(dir.path());
    assert_eq!(outs.get("task-definition-arn"), Some(&v2), "{text}");
    assert_eq!(
        outs.get("github-deployment-id").map(String::as_str),
        Some("8")
    );
    assert!(
        !text.contains(TOKEN) && !text.contains(SLACK_SECRET),
        "{text}"
    );

    let requests = rt.block_on(github.received_requests()).unwrap_or_default();
    let body = |suffix: &str| -> Vec<serde_json::Value> {
        requests
            .iter()
            .filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with(suffix))
            .map(|r| serde_json::from_slice(&r.body).unwrap_or_default())
            .collect()
    };
    // The superseded deployment is marked inactive; the target is recorded as live.
    let statuses = body("/statuses");
    assert_eq!(statuses.len(), 2, "{statuses:?}");
    assert_eq!(statuses[0]["state"], "inactive");
    assert_eq!(statuses[1]["state"], "success");
    let created = body("/deployments");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["ref"], SHA_V2);
    let slack_bodies = rt.block_on(slack.received_requests()).unwrap_or_default();
    assert_eq!(slack_bodies.len(), 1);
    let message = String::from_utf8_lossy(&slack_bodies[0].body).to_string();
    assert!(
        message.contains("api rolled back to v2.0.0 in shop"),
        "{message}"
    );
}

#[test]
fn to_image_tag_finds_the_revision_by_its_version_tag() {
    let (sim, v2) = service_with_tagged_v2();
    let dir = tempfile::tempdir().expect("dir");
    // `2.0.0` matches the tag `deployer:version=v2.0.0`; no image is tagged 2.0.0.
    let out = rollback_cmd(&sim.endpoint(), dir.path())
        .env("DEPLOYER_TO_IMAGE_TAG", "2.0.0")
        .output()
        .expect("run");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("tagged deployer:version=2.0.0"), "{text}");
    assert_eq!(outputs(dir.path()).get("task-definition-arn"), Some(&v2));
}

#[test]
fn health_check_after_the_rollback_decides_the_verdict() {
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let server = rt.block_on(MockServer::start());
    rt.block_on(async {
        Mock::given(method("GET"))
            .and(path("/health"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/ready"))
            .respond_with(ResponseTemplate::new(503))
            .mount(&server)
            .await;
    });

    // Healthy: exit 0, and the summary shows the check.
    let (sim, v2) = service_with_tagged_v2();
    let dir = tempfile::tempdir().expect("dir");
    let out = rollback_cmd(&sim.endpoint(), dir.path())
        .env("DEPLOYER_TO_IMAGE_TAG", "2.0.0")
        .args(["--health-url", &format!("{}/health", server.uri())])
        .output()
        .expect("run");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(outputs(dir.path()).get("task-definition-arn"), Some(&v2));
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).expect("summary");
    assert!(summary.contains("| health check |"), "{summary}");

    // Unhealthy after the rollback: a failure that says where the service is and why.
    let (sim, v2) = service_with_tagged_v2();
    let dir = tempfile::tempdir().expect("dir");
    let out = rollback_cmd(&sim.endpoint(), dir.path())
        .env("DEPLOYER_TO_IMAGE_TAG", "2.0.0")
        .env("DEPLOYER_HEALTH_URLS", format!("{}/ready", server.uri()))
        .args(["--health-deadline", "1s"])
        .output()
        .expect("run");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("but the health check failed"), "{text}");
    assert!(text.contains("HTTP 503"), "{text}");
    assert_eq!(
        outputs(dir.path()).get("status").map(String::as_str),
        Some("failed")
    );
    assert_eq!(outputs(dir.path()).get("task-definition-arn"), Some(&v2));

    // A malformed URL is refused before anything changes.
    let dir = tempfile::tempdir().expect("dir");
    let out = rollback_cmd(&sim.endpoint(), dir.path())
        .env("DEPLOYER_TO_IMAGE_TAG", "2.0.0")
        .args(["--health-url", "api.example.com/health"])
        .output()
        .expect("run");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("--health-url"), "{text}");
    assert!(
        !outputs(dir.path()).contains_key("task-definition-arn"),
        "{text}"
    );
}

#[test]
fn without_health_urls_the_services_health_in_deployer_yml_is_checked() {
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let server = rt.block_on(MockServer::start());
    rt.block_on(async {
        Mock::given(method("GET"))
            .and(path("/staging/health"))
            .respond_with(ResponseTemplate::new(503))
            .expect(1..)
            .mount(&server)
            .await;
    });
    let (sim, v2) = service_with_tagged_v2();
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("deployer.yml");
    std::fs::write(
        &config,
        format!(
            "services:\n  api:\n    paths: [\"api/**\"]\n    cluster: shop\n    service: api\n    health:\n      url: {}/{{env}}/health\nenvironments:\n  staging:\n    region: us-east-1\n",
            server.uri()
        ),
    )
    .expect("config");
    let out = rollback_cmd(&sim.endpoint(), dir.path())
        .env("DEPLOYER_TO_IMAGE_TAG", "2.0.0")
        .env("DEPLOYER_CONFIG", &config)
        .env("DEPLOYER_ENVIRONMENT", "staging")
        .args(["--health-deadline", "1s"])
        .output()
        .expect("run");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("/staging/health"), "{text}");
    assert!(text.contains("but the health check failed"), "{text}");
    assert_eq!(outputs(dir.path()).get("task-definition-arn"), Some(&v2));
    rt.block_on(server.verify());
}
