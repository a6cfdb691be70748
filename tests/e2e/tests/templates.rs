//! The starter workflows (workflows-templates/), copied unmodified into a repository made
//! from examples/storefront, run under act (host mode) against ecs-sim, moto (STS), and
//! loopback OIDC, GitHub API and health servers. Each test has its own world (sim,
//! servers, repository), so cargo runs them in parallel safely.

use deployer_e2e::world::REGISTRY;
use deployer_e2e::{ActRun, Tools, Trigger, World, WorldOptions};
use serde_json::json;

fn world(environments: &[&str], scenario: Option<&str>) -> Option<World> {
    let tools = Tools::for_tests()?;
    let mut options = WorldOptions::demo(&tools.root, environments).expect("demo scenario");
    if let Some(s) = scenario {
        options.scenario = s.to_string();
    }
    Some(World::start(&tools, &options).expect("start the world"))
}

fn expect_success(run: &ActRun) {
    assert!(run.success, "expected success:\n{}", run.describe());
}

fn expect_failure(run: &ActRun) {
    assert!(
        !run.success,
        "expected the run to fail:\n{}",
        run.describe()
    );
}

/// Operations that change ECS; a refused or stopped run must not have made any of them.
const WRITES: [&str; 4] = [
    "RegisterTaskDefinition",
    "UpdateService",
    "RunTask",
    "StopTask",
];

fn writes(world: &World) -> Vec<u64> {
    WRITES.iter().map(|op| world.sim.call_count(op)).collect()
}

#[test]
fn dev_push_deploys_only_the_changed_service() {
    let Some(world) = world(&["dev"], None) else {
        return;
    };
    let message = "feat(api): look up one order";
    let (before, after) = world
        .commit("services/api/app/main.py", "\n# orders\n", message)
        .unwrap();
    let web_before = world.service("storefront-dev", "web-dev").unwrap();
    let run = world
        .run("dev.yml", &world.push_event(&before, &after, message))
        .unwrap();
    expect_success(&run);

    let api = world.service("storefront-dev", "api-dev").unwrap();
    assert_eq!(
        api.image,
        format!("{REGISTRY}/api:dev-{}", &after[..7]),
        "{}",
        run.describe()
    );
    assert_eq!(run.job("deploy api → dev"), Some("success"));
    assert!(
        run.jobs_matching("deploy web").is_empty(),
        "web did not change, yet a web deploy job ran:\n{}",
        run.describe()
    );
    assert_eq!(
        world.service("storefront-dev", "web-dev").unwrap(),
        web_before
    );
    // Migration as a one-off task, OIDC role assumption, health from deployer.yml.
    assert_eq!(world.sim.call_count("RunTask"), 1);
    assert!(world.stand_ins.oidc_requests() >= 1);
    assert!(
        world
            .stand_ins
            .health_hits()
            .get("/api.dev/health")
            .is_some_and(|n| *n >= 1),
        "the health URL of deployer.yml was not checked: {:?}",
        world.stand_ins.health_hits()
    );
    let summaries = run.all_summaries();
    assert!(summaries.contains("| api | ✅ yes |"), "{summaries}");
    assert!(summaries.contains("## ✅ ECS deploy"), "{summaries}");
    assert!(summaries.contains("alembic upgrade head"), "{summaries}");
    let calls = world.stand_ins.github_calls();
    assert!(
        calls
            .iter()
            .any(|c| c.path == "deployments" && c.body["environment"] == "dev/api"),
        "no GitHub deployment record for dev/api: {calls:?}"
    );
}

#[test]
fn staging_push_gates_releases_and_deploys() {
    let Some(world) = world(&["staging"], None) else {
        return;
    };
    let message = "feat(api): look up one order";
    let (before, after) = world
        .commit("services/api/app/main.py", "\n# orders\n", message)
        .unwrap();
    let run = world
        .run("staging.yml", &world.push_event(&before, &after, message))
        .unwrap();
    expect_success(&run);

    assert_eq!(run.job("test gate"), Some("success"));
    let summaries = run.all_summaries();
    assert!(summaries.contains("All required gates met"), "{summaries}");
    let calls = world.stand_ins.github_calls();
    let release = calls
        .iter()
        .find(|c| c.method == "POST" && c.path == "releases")
        .unwrap_or_else(|| panic!("no release was created: {calls:?}"));
    // 0.x: a feature bumps the patch version.
    assert_eq!(release.body["tag_name"], "v0.1.1", "{release:?}");
    assert_eq!(release.repository, "org/storefront");
    let tag = calls
        .iter()
        .find(|c| c.method == "POST" && c.path == "git/refs")
        .unwrap_or_else(|| panic!("no tag ref was created: {calls:?}"));
    assert_eq!(tag.body["ref"], "refs/tags/v0.1.1");
    assert_eq!(tag.body["sha"], after.as_str());

    let api = world.service("storefront-staging", "api-staging").unwrap();
    assert_eq!(
        api.image,
        format!("{REGISTRY}/api:v0.1.1"),
        "{}",
        run.describe()
    );
    let web = world.service("storefront-staging", "web-staging").unwrap();
    assert_eq!(web.image, format!("{REGISTRY}/web:v0.1.0"));
}

#[test]
fn production_deploy_crash_rollback_and_rollback_on_request() {
    let Some(world) = world(&["production"], None) else {
        return;
    };
    let original = world.service("storefront-prod", "api-production").unwrap();
    let deploy = |tag: &str| {
        world
            .run(
                "production.yml",
                &Trigger::dispatch(json!({
                    "service": "api", "image-tag": tag, "confirm": "DEPLOY",
                    "emergency": false, "emergency-reason": ""
                })),
            )
            .unwrap()
    };

    // 1. A good release.
    let run = deploy("v0.2.0");
    expect_success(&run);
    let good = world.service("storefront-prod", "api-production").unwrap();
    assert_eq!(good.image, format!("{REGISTRY}/api:v0.2.0"));
    assert_ne!(good.task_definition, original.task_definition);

    // 2. A crash-looping build: the deploy fails and the service is back on the good one.
    let run = deploy("v0.1.2");
    expect_failure(&run);
    assert_eq!(run.job("deploy api → production"), Some("failure"));
    let after_crash = world.service("storefront-prod", "api-production").unwrap();
    assert_eq!(
        after_crash.task_definition,
        good.task_definition,
        "not rolled back:\n{}",
        run.describe()
    );
    let summaries = run.all_summaries();
    assert!(
        summaries.contains("## ❌ ECS deploy") && summaries.contains("ROLLBACK_SUCCESSFUL"),
        "{summaries}"
    );
    assert!(
        summaries.contains("KeyError: 'DATABASE_URL'"),
        "{summaries}"
    );

    // 3. Rollback by request: the last successful deployment before the current one.
    let run = world
        .run(
            "rollback.yml",
            &Trigger::dispatch(json!({
                "environment": "production", "service": "api", "target": "",
                "confirm": "ROLLBACK"
            })),
        )
        .unwrap();
    expect_success(&run);
    let rolled = world.service("storefront-prod", "api-production").unwrap();
    assert_eq!(
        rolled.image,
        format!("{REGISTRY}/api:v0.1.0"),
        "{}",
        run.describe()
    );
    assert!(
        run.all_summaries()
            .contains("migrations are NOT rolled back"),
        "{}",
        run.all_summaries()
    );
}

#[test]
fn production_refuses_a_mistyped_confirmation() {
    let Some(world) = world(&["production"], None) else {
        return;
    };
    let before = world.service("storefront-prod", "api-production").unwrap();
    let counts = writes(&world);
    let run = world
        .run(
            "production.yml",
            &Trigger::dispatch(json!({
                "service": "all", "image-tag": "v0.2.0", "confirm": "deploy",
                "emergency": false, "emergency-reason": ""
            })),
        )
        .unwrap();
    expect_failure(&run);
    assert!(
        run.jobs_matching("gate (production)")
            .iter()
            .all(|j| j.result == "failure"),
        "{}",
        run.describe()
    );
    assert!(
        run.jobs_matching("deploy api").is_empty() && run.jobs_matching("deploy web").is_empty(),
        "a deploy job ran after the refusal:\n{}",
        run.describe()
    );
    assert_eq!(writes(&world), counts, "ECS was changed: {WRITES:?}");
    assert_eq!(
        world.service("storefront-prod", "api-production").unwrap(),
        before
    );
    assert!(world.stand_ins.github_calls().is_empty());
    let summaries = run.all_summaries();
    assert!(summaries.contains("confirmation"), "{summaries}");
    assert!(summaries.contains("DEPLOY"), "{summaries}");
}

#[test]
fn failing_migration_stops_the_deploy() {
    let scenario = r#"
default: {kind: healthy, start-after: 20}
commands:
  "alembic upgrade*":
    kind: exits
    start-after: 5
    after: 4
    exit-code: 1
    logs:
      - "INFO  [alembic.runtime.migration] Running upgrade 0001 -> 0002, add order status"
      - "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) column \"status\" already exists"
"#;
    let Some(world) = world(&["production"], Some(scenario)) else {
        return;
    };
    let before = world.service("storefront-prod", "api-production").unwrap();
    let run = world
        .run(
            "production.yml",
            &Trigger::dispatch(json!({
                "service": "api", "image-tag": "v0.2.0", "confirm": "DEPLOY",
                "emergency": false, "emergency-reason": ""
            })),
        )
        .unwrap();
    expect_failure(&run);
    assert_eq!(run.job("deploy api → production"), Some("failure"));
    assert_eq!(world.sim.call_count("RunTask"), 1);
    assert_eq!(
        world.sim.call_count("UpdateService"),
        0,
        "{}",
        run.describe()
    );
    assert_eq!(
        world.service("storefront-prod", "api-production").unwrap(),
        before
    );
    let calls = world.stand_ins.github_calls();
    assert!(
        !calls.iter().any(|c| c.path == "deployments"),
        "a deployment was recorded although the migration failed: {calls:?}"
    );
    let summaries = run.all_summaries();
    assert!(
        summaries.contains("the migration exited with code 1"),
        "{summaries}"
    );
    // The container's log is streamed into the step's log.
    assert!(
        run.log_contains("column \"status\" already exists"),
        "{}",
        run.describe()
    );
}

#[test]
fn migrate_template_runs_alembic_as_a_one_off_task() {
    let Some(world) = world(&["dev"], None) else {
        return;
    };
    let before = world.service("storefront-dev", "api-dev").unwrap();
    let run = world
        .run(
            "migrate.yml",
            &Trigger::dispatch(json!({
                "environment": "dev", "service": "api", "action": "upgrade",
                "revision": "", "confirm": ""
            })),
        )
        .unwrap();
    expect_success(&run);
    assert_eq!(world.sim.call_count("RunTask"), 1);
    assert_eq!(world.sim.call_count("UpdateService"), 0);
    assert_eq!(world.service("storefront-dev", "api-dev").unwrap(), before);
    let summaries = run.all_summaries();
    assert!(summaries.contains("alembic upgrade head"), "{summaries}");
    assert!(
        run.log_contains("Running upgrade  -> 0001"),
        "{}",
        run.describe()
    );
}

#[test]
fn cross_repo_dispatch_deploys_the_given_tags() {
    let Some(world) = world(&["staging"], None) else {
        return;
    };
    let sha = world.git(&["rev-parse", "HEAD"]).unwrap();
    let run = world
        .run(
            "cross-repo.yml",
            &Trigger {
                event_name: "repository_dispatch".into(),
                payload: json!({
                    "action": "staging-deploy",
                    "client_payload": {
                        "repository": "org/storefront-app", "sha": sha,
                        "image-tags": { "web": "v0.2.0" }
                    },
                    "repository": { "full_name": "org/storefront", "default_branch": "main" }
                }),
            },
        )
        .unwrap();
    expect_success(&run);
    let web = world.service("storefront-staging", "web-staging").unwrap();
    assert_eq!(
        web.image,
        format!("{REGISTRY}/web:v0.2.0"),
        "{}",
        run.describe()
    );
    let api = world.service("storefront-staging", "api-staging").unwrap();
    assert_eq!(api.image, format!("{REGISTRY}/api:v0.1.0"));
    // The application commit is recorded on the new revision (rollback to-sha finds it).
    let td = world
        .ecs(
            "DescribeTaskDefinition",
            json!({ "taskDefinition": web.task_definition, "include": ["TAGS"] }),
        )
        .unwrap();
    assert!(
        td["tags"]
            .as_array()
            .is_some_and(|tags| tags.iter().any(|t| t["value"] == sha.as_str())),
        "deployer:git-sha not recorded: {td}"
    );
}

#[test]
fn blue_green_stops_at_test_traffic_then_cuts_over() {
    let Some(tools) = Tools::for_tests() else {
        return;
    };
    let mut options = WorldOptions::demo(&tools.root, &["production"]).expect("demo scenario");
    options.blue_green = vec!["api-production".into()];
    let mut world = World::start(&tools, &options).expect("start the world");
    let test_url = format!("{}/bg-test", world.stand_ins.health_url());
    world
        .act
        .vars
        .push(("BLUE_GREEN_TEST_URL".into(), test_url));
    let blue = world.service("storefront-prod", "api-production").unwrap();
    let run = world
        .run(
            "blue-green.yml",
            &Trigger::dispatch(
                json!({ "service": "api", "image-tag": "v0.2.0", "confirm": "DEPLOY" }),
            ),
        )
        .unwrap();
    expect_success(&run);
    assert_eq!(
        run.output("deploy api → production", "status"),
        Some("reached")
    );
    assert_eq!(run.job("test green"), Some("success"));
    assert_eq!(run.job("cut over"), Some("success"));
    assert!(
        run.jobs_matching("roll back to blue").is_empty(),
        "{}",
        run.describe()
    );
    assert!(
        world
            .stand_ins
            .health_hits()
            .get("/bg-test/health")
            .is_some_and(|n| *n >= 1),
        "the test listener was not checked: {:?}",
        world.stand_ins.health_hits()
    );
    assert!(world.sim.call_count("ContinueServiceDeployment") >= 1);
    let green = world.service("storefront-prod", "api-production").unwrap();
    assert_eq!(
        green.image,
        format!("{REGISTRY}/api:v0.2.0"),
        "{}",
        run.describe()
    );
    assert_ne!(green.task_definition, blue.task_definition);
    assert_eq!(
        green.deployments,
        1,
        "blue is still running:\n{}",
        run.describe()
    );
    // The cutover finished the deployment record the deploy job started.
    let records: Vec<_> = world
        .stand_ins
        .github_calls()
        .into_iter()
        .filter(|c| c.method == "POST" && c.path == "deployments")
        .collect();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].body["environment"], "production/api");
}
