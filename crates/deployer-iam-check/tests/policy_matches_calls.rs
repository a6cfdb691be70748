//! The deploy role policy in examples/iam/ against the ECS and CloudWatch Logs operations
//! deployer's real flows make, as counted by ecs-sim.
#![recursion_limit = "512"]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use deployer_aws::deploy::{DeployRequest, Source, Status, deploy_service};
use deployer_aws::ecs::Ecs;
use deployer_aws::logs::Logs;
use deployer_aws::migration::{MigrationRequest, run_migration};
use deployer_aws::probe::AwsProbe;
use deployer_aws::rollback::{Target, resolve};
use deployer_aws::taskdef::parse_images;
use deployer_aws::wait::WaitUntil;
use deployer_iam_check::{allowed_actions, allows, load};
use ecs_sim::{Scenario, SimConfig, SimHandle};

const CLUSTER: &str = "shop";

/// Every operation ecs-sim serves (crates/ecs-sim/README.md, "Operations"), with the IAM
/// service prefix it is authorised under. The test also checks that these counters add up
/// to `total_calls`, so an operation missing here cannot hide.
const SIM_OPERATIONS: &[(&str, &str)] = &[
    ("ecs", "CreateCluster"),
    ("ecs", "DescribeClusters"),
    ("ecs", "ListClusters"),
    ("ecs", "RegisterTaskDefinition"),
    ("ecs", "DescribeTaskDefinition"),
    ("ecs", "ListTaskDefinitions"),
    ("ecs", "ListTaskDefinitionFamilies"),
    ("ecs", "DeregisterTaskDefinition"),
    ("ecs", "TagResource"),
    ("ecs", "UntagResource"),
    ("ecs", "ListTagsForResource"),
    ("ecs", "CreateService"),
    ("ecs", "DescribeServices"),
    ("ecs", "UpdateService"),
    ("ecs", "DeleteService"),
    ("ecs", "ListServices"),
    ("ecs", "ListServiceDeployments"),
    ("ecs", "DescribeServiceDeployments"),
    ("ecs", "StopServiceDeployment"),
    ("ecs", "ContinueServiceDeployment"),
    ("ecs", "DescribeServiceRevisions"),
    ("ecs", "RunTask"),
    ("ecs", "DescribeTasks"),
    ("ecs", "ListTasks"),
    ("ecs", "StopTask"),
    ("logs", "GetLogEvents"),
    ("logs", "FilterLogEvents"),
    ("logs", "DescribeLogStreams"),
];

/// Actions deploy-role-policy.json grants that the ECS/Logs flows below do not show as an
/// operation of their own. Each needs a reason; anything else the policy grants must be
/// observed.
const ALLOWED_WITHOUT_OBSERVED_CALL: &[(&str, &str)] = &[
    (
        "ecs:TagResource",
        "authorises the `tags` inside RegisterTaskDefinition (provenance tags); AWS checks it \
         with ecs:CreateAction = RegisterTaskDefinition, it is not a call of its own",
    ),
    (
        "iam:PassRole",
        "RegisterTaskDefinition/RunTask pass the task and execution roles named in the task \
         definition; IAM, not ECS, so ecs-sim cannot count it",
    ),
    (
        "cloudformation:DescribeStacks",
        "gate-check `stacks` gate (AwsProbe::stack_states); CloudFormation is served by moto, \
         which has no per-operation counter; see NON_ECS_CALLS in tests/trust_policies.rs",
    ),
];

/// What the test set up itself through the API (not deployer's behaviour).
const SETUP_ONLY: &[&str] = &["CreateCluster", "CreateService"];

const SCENARIO: &str = r#"
default: {kind: healthy, start-after: 10}
images:
  "repo/api:crash": {kind: crash-loop, start-after: 2, after: 3, exit-code: 3, logs: ["starting api", "FATAL: cannot connect to database db:5432"]}
  "repo/api:migrate-ok": {kind: exits, exit-code: 0, after: 5, logs: ["INFO  [alembic] Running upgrade a -> b", "done"]}
  "repo/api:migrate-slow": {kind: exits, exit-code: 0, after: 3600, logs: ["INFO  [alembic] Running upgrade a -> b"]}
"#;

fn counts(sim: &SimHandle) -> BTreeMap<&'static str, u64> {
    SIM_OPERATIONS
        .iter()
        .map(|(_, op)| (*op, sim.call_count(op)))
        .collect()
}

fn request(name: &str, image: &str) -> DeployRequest {
    DeployRequest {
        tags: vec![("deployer:version".into(), "test".into())],
        ..deployer_aws::testing::deploy_request(CLUSTER, name, image)
    }
}

fn say(s: &str) {
    eprintln!("{s}");
}

fn migration(image: &str, token: &str) -> MigrationRequest {
    MigrationRequest {
        cluster: CLUSTER.into(),
        service: "mig".into(),
        images: parse_images(&format!("api={image}")).expect("img"),
        default_containers: vec![],
        container: None,
        command: vec!["alembic".into(), "upgrade".into(), "head".into()],
        timeout: Duration::from_secs(60),
        poll_interval: Duration::from_millis(200),
        client_token: Some(token.into()),
    }
}

/// Runs every flow once and returns the operations deployer made (setup excluded).
async fn observed_operations() -> BTreeSet<String> {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::from_yaml(SCENARIO).expect("scenario"),
        time_scale: 20.0,
        seed: 11,
    })
    .expect("sim");
    let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
    let ecs = Ecs::new(&ctx.config);
    let logs = Logs::new(&ctx.config);

    // Setup through the plain API; counted separately from the flows.
    let t = deployer_aws::testing::create_service;
    t(&ecs, CLUSTER, "api", "repo/api:v1", 2, false, 200).await;
    t(&ecs, CLUSTER, "crash", "repo/api:v1", 4, false, 125).await;
    t(&ecs, CLUSTER, "web", "repo/api:v1", 2, true, 200).await;
    t(&ecs, CLUSTER, "mig", "repo/api:v1", 1, false, 200).await;
    let before = counts(&sim);
    let total_before = sim.total_calls();

    // 1. Healthy rolling deploy (twice, so rollback has history), and a no-op re-run.
    for image in ["repo/api:v2", "repo/api:v3", "repo/api:v3"] {
        let r = deploy_service(&ecs, &logs, &request("api", image), &say)
            .await
            .expect("deploy ran");
        assert!(
            matches!(r.status, Status::Succeeded | Status::Unchanged),
            "{r:?}"
        );
    }

    // 2. Crash loop: fails on the first crash, reads the logs, rolls back (automatic
    //    rollback through StopServiceDeployment).
    let r = deploy_service(&ecs, &logs, &request("crash", "repo/api:crash"), &say)
        .await
        .expect("deploy ran");
    assert_eq!(r.status, Status::Failed, "{r:?}");
    assert!(
        r.rollback.as_ref().is_some_and(|x| x.ok),
        "{:?}",
        r.rollback
    );

    // 3. Blue/green: stop at test traffic, then continue.
    let mut req = request("web", "repo/api:v2");
    req.watch.judge.wait_until = WaitUntil::TestTraffic;
    let r = deploy_service(&ecs, &logs, &req, &say)
        .await
        .expect("deploy ran");
    assert_eq!(r.status, Status::Reached, "{r:?}");
    let mut cont = request("web", "repo/api:v2");
    cont.continue_deployment = true;
    let r = deploy_service(&ecs, &logs, &cont, &say)
        .await
        .expect("deploy ran");
    assert_eq!(r.status, Status::Succeeded, "{r:?}");

    // 4. Migration: one that succeeds, one cancelled (SIGTERM) that stops its task.
    let rep = run_migration(
        &ecs,
        &logs,
        &migration("repo/api:migrate-ok", "iam-1"),
        &say,
        std::future::pending(),
    )
    .await
    .expect("migration ran");
    assert!(deployer_aws::migration::verdict(&rep).is_ok());
    let cancelled = run_migration(
        &ecs,
        &logs,
        &migration("repo/api:migrate-slow", "iam-2"),
        &say,
        async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            "SIGTERM"
        },
    )
    .await;
    eprintln!("cancelled migration: {cancelled:?}");

    // 5. Rollback command: last successful revision, deployed back with the same engine.
    let svc = ecs.describe_service(CLUSTER, "api").await.expect("svc");
    let target = resolve(&ecs, CLUSTER, &svc, &Target::Auto)
        .await
        .expect("resolve");
    let _ =
        deployer_aws::rollback::rollback_target(&ecs, &target.task_definition, Default::default())
            .await;
    let mut back = request("api", "unused");
    back.images.clear();
    back.source = Source::Existing(target.task_definition.clone());
    let r = deploy_service(&ecs, &logs, &back, &say)
        .await
        .expect("rollback deploy ran");
    assert_eq!(r.status, Status::Succeeded, "{r:?}");

    // 6. gate-check's ecs-service probe.
    let probe = AwsProbe::new(&ctx.config);
    for service in ["api", "web"] {
        probe
            .service_state(CLUSTER, service)
            .await
            .expect("service state");
    }

    let after = counts(&sim);
    let delta: u64 = after.iter().map(|(op, n)| n - before[op]).sum();
    assert_eq!(
        delta,
        sim.total_calls() - total_before,
        "ecs-sim counted an operation missing from SIM_OPERATIONS: {after:?}"
    );
    let seen: BTreeSet<String> = SIM_OPERATIONS
        .iter()
        .filter(|(_, op)| after[op] > before[op])
        .map(|(svc, op)| format!("{svc}:{op}"))
        .collect();
    eprintln!("operations made by the flows: {seen:?}");
    sim.shutdown();
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_role_policy_allows_exactly_what_the_flows_call() {
    let policy = load("deploy-role-policy.json").expect("policy");
    let seen = observed_operations().await;

    // Flows must have exercised the core of each command, or the check proves little.
    for must in [
        "ecs:RegisterTaskDefinition",
        "ecs:UpdateService",
        "ecs:StopServiceDeployment",
        "ecs:ContinueServiceDeployment",
        "ecs:RunTask",
        "ecs:StopTask",
        "logs:GetLogEvents",
    ] {
        assert!(seen.contains(must), "{must} not exercised; seen {seen:?}");
    }

    // Every observed call is allowed.
    let missing: Vec<&String> = seen.iter().filter(|a| !allows(&policy, a)).collect();
    assert!(
        missing.is_empty(),
        "deploy-role-policy.json does not allow {missing:?}, which the flows call"
    );

    // Nothing setup-only leaked into the policy.
    for op in SETUP_ONLY {
        assert!(
            !allows(&policy, &format!("ecs:{op}")),
            "policy grants ecs:{op}"
        );
    }

    // Everything allowed is observed or explicitly justified; no wildcards in actions.
    let justified: BTreeSet<&str> = ALLOWED_WITHOUT_OBSERVED_CALL
        .iter()
        .map(|(a, _)| *a)
        .collect();
    for action in allowed_actions(&policy) {
        assert!(
            !action.contains('*') && !action.contains('?'),
            "wildcard action {action} in deploy-role-policy.json"
        );
        assert!(
            seen.contains(&action) || justified.contains(action.as_str()),
            "deploy-role-policy.json grants {action}, which no flow used and \
             ALLOWED_WITHOUT_OBSERVED_CALL does not justify"
        );
    }
    // The allowlist itself stays honest: each entry is granted and not observed.
    for (action, why) in ALLOWED_WITHOUT_OBSERVED_CALL {
        assert!(
            allows(&policy, action),
            "{action} listed ({why}) but not granted"
        );
        assert!(
            !seen.contains(*action),
            "{action} is observed now; drop it from the allowlist"
        );
    }
}
