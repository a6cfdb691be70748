//! The demo (scripts/demo): the storefront sample repository goes dev → staging →
//! production through the starter workflows, run by act exactly as the end-to-end tests
//! run them. One production deploy crash-loops and is rolled back automatically; then
//! staging is rolled back on request. Each run's job summaries are printed, and a final
//! table compares every step's expected and actual outcome.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::json;

use crate::act::{self, ActRun, Trigger};
use crate::world::{REGISTRY, ServiceState, Tools, World, WorldOptions};

fn bold(text: &str) {
    println!("\n\x1b[1m{text}\x1b[0m");
}

fn note(text: &str) {
    println!("   {text}");
}

/// One row of the final table.
struct Row {
    title: String,
    expected: &'static str,
    actual: String,
    check: Result<String, String>,
    seconds: f64,
}

impl Row {
    fn ok(&self) -> bool {
        self.actual == self.expected && self.check.is_ok()
    }
}

pub fn run() -> Result<bool> {
    let moto = std::env::var("DEPLOYER_MOTO_ENDPOINT")
        .context("DEPLOYER_MOTO_ENDPOINT is not set: run the demo through scripts/demo")?;
    let venv = std::env::var_os("DEPLOYER_VENV")
        .map(PathBuf::from)
        .context("DEPLOYER_VENV is not set: run the demo through scripts/demo")?;
    let root = deployer_testbed::workspace_root();
    let tools = Tools::beside_executable(root.clone(), venv.join("bin/act"), moto)?;

    bold("Starting the stand-ins and the storefront's infrastructure");
    let world = World::start(
        &tools,
        &WorldOptions::demo(&root, &["dev", "staging", "production"])?,
    )?;
    note(&format!(
        "ecs-sim (ECS, Logs)      {}  (3 simulated seconds per second)",
        world.sim.endpoint()
    ));
    note(&format!("moto (STS)               {}", tools.moto));
    note(&format!(
        "OIDC token service       {}",
        world.stand_ins.oidc_url()
    ));
    note(&format!(
        "GitHub API stand-in      {}",
        world.stand_ins.github_api_url()
    ));
    note(&format!(
        "health endpoints         {}",
        world.stand_ins.health_url()
    ));
    note(
        "clusters storefront-dev, storefront-staging, storefront-prod; services api-<env> and web-<env> on v0.1.0",
    );
    note(&format!(
        "consumer repository      {} (examples/storefront + workflows-templates/*.yml in .github/workflows, unmodified)",
        world.repo.display()
    ));

    let message = "feat(api): look up one order";
    let (before, after) = world.commit(
        "services/api/app/main.py",
        "\n\n@app.get(\"/orders/{order_id}\")\ndef order(order_id: int) -> dict:\n    return {\"id\": order_id}\n",
        message,
    )?;
    let short = &after[..7];
    note(&format!("pushed to main: {short} {message}"));
    let push = world.push_event(&before, &after, message);

    let mut rows = Vec::new();
    let dispatch_deploy = |tag: &str, confirm: &str| {
        Trigger::dispatch(json!({
            "service": "api", "image-tag": tag, "confirm": confirm,
            "emergency": false, "emergency-reason": ""
        }))
    };

    bold("━━ dev: every push deploys the services it changed ━━");
    rows.push(step(
        &world,
        "dev.yml (push): detect changes → migrate → deploy api to dev",
        "dev.yml",
        &push,
        "success",
        |w, _| {
            let api = svc(w, "storefront-dev", "api-dev")?;
            expect_image(&api.image, &format!("{REGISTRY}/api:dev-{short}"))?;
            let web = svc(w, "storefront-dev", "web-dev")?;
            expect_image(&web.image, &format!("{REGISTRY}/web:v0.1.0"))?;
            Ok(format!("api-dev on api:dev-{short}, web-dev untouched"))
        },
    ));

    bold("━━ staging: test gate → semantic release → deploy ━━");
    rows.push(step(
        &world,
        "staging.yml (push): gates, release, deploy api to staging",
        "staging.yml",
        &push,
        "success",
        |w, _| {
            let release = w
                .stand_ins
                .github_calls()
                .into_iter()
                .find(|c| c.method == "POST" && c.path == "releases")
                .ok_or("no GitHub release was created")?;
            let tag = release.body["tag_name"].as_str().unwrap_or("").to_string();
            if tag != "v0.1.1" {
                return Err(format!("release tag {tag}, expected v0.1.1"));
            }
            let api = svc(w, "storefront-staging", "api-staging")?;
            expect_image(&api.image, &format!("{REGISTRY}/api:v0.1.1"))?;
            Ok("GitHub release v0.1.1 created; api-staging on api:v0.1.1".into())
        },
    ));

    bold("━━ production: by hand, with the word DEPLOY ━━");
    let before_refusal = world.service("storefront-prod", "api-production")?;
    let writes_before = world.sim.call_count("UpdateService")
        + world.sim.call_count("RegisterTaskDefinition")
        + world.sim.call_count("RunTask");
    rows.push(step(
        &world,
        "production.yml: 'deploy' typed instead of DEPLOY (refused)",
        "production.yml",
        &dispatch_deploy("v0.1.1", "deploy"),
        "failure",
        |w, _| {
            let writes = w.sim.call_count("UpdateService")
                + w.sim.call_count("RegisterTaskDefinition")
                + w.sim.call_count("RunTask");
            if writes != writes_before {
                return Err("ECS was changed although the confirmation was refused".into());
            }
            if svc(w, "storefront-prod", "api-production")? != before_refusal {
                return Err("api-production changed".into());
            }
            Ok("ECS untouched".into())
        },
    ));
    rows.push(step(
        &world,
        "production.yml: api v0.1.1, DEPLOY typed",
        "production.yml",
        &dispatch_deploy("v0.1.1", "DEPLOY"),
        "success",
        |w, _| {
            let api = svc(w, "storefront-prod", "api-production")?;
            expect_image(&api.image, &format!("{REGISTRY}/api:v0.1.1"))?;
            Ok("api-production on api:v0.1.1".into())
        },
    ));
    let good = world.service("storefront-prod", "api-production")?;

    bold("━━ production: a hotfix build that crash-loops ━━");
    note(
        "api:v0.1.2 forgot DATABASE_URL: ecs-deploy stops at the first crashed tasks and rolls back.",
    );
    rows.push(step(
        &world,
        "production.yml: api v0.1.2 crash-loops → rolled back",
        "production.yml",
        &dispatch_deploy("v0.1.2", "DEPLOY"),
        "failure",
        |w, run| {
            let api = svc(w, "storefront-prod", "api-production")?;
            if api.task_definition != good.task_definition {
                return Err(format!(
                    "api-production is on {}, not back on {}",
                    api.task_definition, good.task_definition
                ));
            }
            if !run.all_summaries().contains("KeyError: 'DATABASE_URL'") {
                return Err("the summary does not show the crash's cause".into());
            }
            Ok("back on api:v0.1.1; the summary shows KeyError: 'DATABASE_URL'".into())
        },
    ));

    bold("━━ staging: rollback on request, with the word ROLLBACK ━━");
    rows.push(step(
        &world,
        "rollback.yml: staging api to its last successful deployment",
        "rollback.yml",
        &Trigger::dispatch(json!({
            "environment": "staging", "service": "api", "target": "", "confirm": "ROLLBACK"
        })),
        "success",
        |w, _| {
            let api = svc(w, "storefront-staging", "api-staging")?;
            expect_image(&api.image, &format!("{REGISTRY}/api:v0.1.0"))?;
            Ok("api-staging back on api:v0.1.0".into())
        },
    ));

    bold("Results");
    let width = rows
        .iter()
        .map(|r| r.title.chars().count())
        .max()
        .unwrap_or(10);
    println!(
        "   {:<width$}  {:<8} {:<8} {:>5}  check",
        "step", "expected", "actual", "secs"
    );
    let mut all_ok = true;
    for row in &rows {
        all_ok &= row.ok();
        let mark = if row.ok() { "✅" } else { "❌" };
        let check = match &row.check {
            Ok(s) => s.clone(),
            Err(e) => format!("FAILED: {e}"),
        };
        println!(
            "{mark} {:<width$}  {:<8} {:<8} {:>5.0}  {check}",
            row.title, row.expected, row.actual, row.seconds
        );
    }
    if all_ok {
        bold(
            "Demo complete: dev → staging → production under act, one automatic rollback, one rollback on request.",
        );
    } else {
        bold("Demo FAILED: a step's outcome differs from what was expected (see the table).");
    }
    Ok(all_ok)
}

fn svc(world: &World, cluster: &str, service: &str) -> Result<ServiceState, String> {
    world
        .service(cluster, service)
        .map_err(|e| format!("{e:#}"))
}

fn expect_image(actual: &str, expected: &str) -> Result<(), String> {
    if actual == expected {
        Ok(())
    } else {
        Err(format!("image {actual}, expected {expected}"))
    }
}

/// Runs one workflow with live progress, prints its job summaries, and checks the result.
fn step(
    world: &World,
    title: &str,
    workflow: &str,
    trigger: &Trigger,
    expected: &'static str,
    check: impl Fn(&World, &ActRun) -> Result<String, String>,
) -> Row {
    println!("\n\x1b[1m▶ {title}\x1b[0m");
    println!(
        "   $ act {} -W .github/workflows/{workflow} -P ubuntu-latest=-self-hosted --local-repository org/deployer@v1=…",
        trigger.event_name
    );
    let started = Instant::now();
    // A composite action's step result is logged for each level: print it once.
    let mut last = String::new();
    let result = world.run_with(workflow, trigger, &mut |record| {
        let Some(line) = act::progress_line(record) else {
            return;
        };
        let shown: Vec<&str> = line
            .lines()
            .filter(|l| {
                !l.contains("│ deployer: using the prebuilt") && !l.contains("│ deployer: added")
            })
            .collect();
        if shown.is_empty() || line == last {
            return;
        }
        println!("   {}", shown.join("\n   "));
        last = line;
    });
    let seconds = started.elapsed().as_secs_f64();
    let run = match result {
        Ok(run) => run,
        Err(e) => {
            return Row {
                title: title.into(),
                expected,
                actual: "error".into(),
                check: Err(format!("{e:#}")),
                seconds,
            };
        }
    };
    for summary in &run.summaries {
        println!("   ── job summary: {} ──", summary.job.trim());
        for line in summary.content.trim_end().lines() {
            println!("   ┊ {line}");
        }
    }
    let actual = if run.success { "success" } else { "failure" };
    let check = check(world, &run);
    match &check {
        Ok(s) if actual == expected => println!("   ✅ {actual} (as expected): {s}"),
        Ok(s) => println!("   ❌ {actual}, expected {expected} ({s})"),
        Err(e) => println!("   ❌ {actual} (expected {expected}); check failed: {e}"),
    }
    Row {
        title: title.into(),
        expected,
        actual: actual.into(),
        check,
        seconds,
    }
}
