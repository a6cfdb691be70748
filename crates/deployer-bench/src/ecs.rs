//! The ECS rows of issue 8, measured against ecs-sim running in this process at time scale
//! 1 (one simulated second per real second), so the release binaries and the `aws` CLI
//! wait in real time exactly as they would against ECS.
//!
//! Instants are taken from the simulator's own timestamps (`finishedAt` of the service
//! deployment, `stoppedAt` of the first stopped task, `createdAt` of the breaker's event)
//! and converted to this process's clock with one `sim_now()` reading: the simulator's
//! clock is the wall clock × scale, so nothing has to poll at a fine interval to find them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use deployer_aws::ecs::Ecs;
use deployer_aws::states::ServiceDeploymentStatus;
use ecs_sim::{Scenario, SimConfig, SimHandle};

use crate::BenchError;
use crate::bench::{Options, Results, Scratch, output_value, say};
use crate::measure::{self, Run, Sample, Spec};
use crate::report::{self, Row, Target, Value};

const CLUSTER: &str = "bench";
/// The deploy poll interval under test: ecs-deploy's default.
const POLL: Duration = Duration::from_secs(5);
/// The `aws ecs wait services-stable` waiter's fixed delay (awscli 1.x).
const AWS_WAITER_DELAY: &str = "15 s";
const PARALLEL: usize = 20;
/// How long the parallel rows' rollouts take: between two polls (every 5 s from the
/// deploy's start), so that the ratio measures what 20 services cost and not which side
/// of a poll the deployment happened to finish on.
const PARALLEL_ROLLOUT_SECS: f64 = 12.0;

/// Peak RSS samples of the AWS binaries, for the footprint rows.
#[derive(Debug, Default)]
pub struct Footprints {
    pub ecs_deploy: Option<Sample>,
    pub ecs_deploy_parallel: Option<Sample>,
    pub rollback: Option<Sample>,
    pub run_migration: Option<Sample>,
    pub gate_check: Option<Sample>,
}

/// Maps simulator time (epoch seconds, scaled) to this process's clock.
struct SimClock {
    at: Instant,
    sim: f64,
    scale: f64,
}

impl SimClock {
    fn read(sim: &SimHandle, scale: f64) -> SimClock {
        SimClock {
            at: Instant::now(),
            sim: sim.sim_now(),
            scale,
        }
    }

    fn instant(&self, sim_time: f64) -> Instant {
        let back = (self.sim - sim_time) / self.scale;
        if back >= 0.0 {
            self.at - Duration::from_secs_f64(back)
        } else {
            self.at + Duration::from_secs_f64(-back)
        }
    }
}

/// `end - start`, or zero when the end came first (cannot happen for a real lag).
fn since(start: Instant, end: Instant) -> Duration {
    end.saturating_duration_since(start)
}

/// Spreads `runs` values over `[start, start + span)` with the golden-ratio sequence, so
/// the instants the runs measure from fall at different phases of both pollers (the
/// 5 s of ecs-deploy and the 15 s of the `aws` waiter) instead of all at the same one.
pub fn spread(runs: usize, start: f64, span: f64) -> Vec<f64> {
    const PHI: f64 = 0.618_033_988_749_895;
    (0..runs)
        .map(|k| {
            let x = start + (k as f64 * PHI).fract() * span;
            (x * 100.0).round() / 100.0
        })
        .collect()
}

/// Healthy-rollout lengths (simulated seconds): 8 s plus up to one `aws` waiter period.
pub fn lag_rollouts(runs: usize) -> Vec<f64> {
    spread(runs, 8.0, 15.0)
}

/// Crash-loop timings: how long the container runs before it exits, spread over one
/// ecs-deploy poll interval.
pub fn crash_after(runs: usize) -> Vec<f64> {
    spread(runs, 3.0, POLL.as_secs_f64())
}

/// The scenario of every ECS row, keyed by image.
pub fn scenario_yaml(lags: &[f64], crashes: &[f64], api_wait_secs: u64) -> String {
    let mut s = format!(
        "default: {{kind: healthy, start-after: 10}}\nimages:\n  \"repo/*:v1\": {{kind: healthy, start-after: 1}}\n  \"repo/api:par*\": {{kind: healthy, start-after: {PARALLEL_ROLLOUT_SECS}}}\n",
    );
    for (k, secs) in lags.iter().enumerate() {
        s.push_str(&format!(
            "  \"repo/api:lag{k}\": {{kind: healthy, start-after: {secs}}}\n"
        ));
    }
    for (k, secs) in crashes.iter().enumerate() {
        s.push_str(&format!(
            "  \"repo/api:crash{k}\": {{kind: crash-loop, start-after: 2, after: {secs}, exit-code: 3, logs: [\"FATAL: cannot connect to database\"]}}\n"
        ));
    }
    s.push_str(&format!(
        "  \"repo/slow:wait\": {{kind: healthy, start-after: {api_wait_secs}}}\ncommands:\n  \"migrate*\": {{kind: exits, start-after: 1, after: 3, exit-code: 0, logs: [\"applying 0001_init\", \"applying 0002_orders\"]}}\n"
    ));
    s
}

struct Bench<'a> {
    opts: &'a Options,
    sim: SimHandle,
    rt: tokio::runtime::Runtime,
    ecs: Ecs,
    scratch: Scratch,
    aws_cli: Option<PathBuf>,
}

fn tool(e: impl std::fmt::Display) -> BenchError {
    BenchError::Tool(e.to_string())
}

impl Bench<'_> {
    /// The env of every AWS binary: the simulator for ECS and Logs, no STS (the identity
    /// line is skipped), static keys, outputs to files as on a runner.
    fn aws_spec(&self, program: impl Into<PathBuf>, dir: &Path) -> Spec {
        let endpoint = self.sim.endpoint();
        self.scratch.actions_env(
            Spec::new(program, dir)
                .env("AWS_ENDPOINT_URL_ECS", endpoint.clone())
                .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", endpoint)
                .env("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
                .env("AWS_ACCESS_KEY_ID", "AKIDBENCH")
                .env("AWS_SECRET_ACCESS_KEY", "bench-secret")
                .env("AWS_REGION", "us-east-1")
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .env("AWS_MAX_ATTEMPTS", "2")
                .env("DEPLOYER_CLUSTER", CLUSTER),
        )
    }

    fn deploy_spec(&self, services: &[String], image: &str, on_failure: &str) -> Spec {
        self.aws_spec(self.opts.bin("ecs-deploy"), &self.scratch.dir)
            .arg("--service")
            .arg(services.join(","))
            .arg("--image")
            .arg(format!("api={image}"))
            .args(["--on-failure", on_failure, "--timeout", "15m"])
    }

    fn block<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.rt.block_on(f)
    }

    fn create_services(&self, names: &[String], image: &str, desired: i32) {
        let futures = names.iter().map(|n| {
            deployer_aws::testing::create_service(&self.ecs, CLUSTER, n, image, desired, false, 200)
        });
        self.block(futures_util::future::join_all(futures));
    }

    fn run_logged(&self, name: &str, spec: &Spec) -> Result<(Run, String), BenchError> {
        let log = self.opts.log(name)?;
        let r = measure::run_once(spec, Some(&log), self.opts.timeout)?;
        Ok((r, std::fs::read_to_string(&log).unwrap_or_default()))
    }

    /// Newest service deployment of `service` (after a deploy: the one it created).
    fn newest_deployment(&self, service: &str) -> Option<deployer_aws::ecs::DeploymentBrief> {
        self.block(self.ecs.list_service_deployments(CLUSTER, service, None))
            .ok()?
            .into_iter()
            .next()
    }

    /// Waits until `service` has a deployment newer than `before` (UpdateService done).
    fn wait_for_new_deployment(&self, service: &str, before: &str, give_up: Instant) -> bool {
        while Instant::now() < give_up {
            if self
                .newest_deployment(service)
                .is_some_and(|d| d.arn != before)
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

struct LagRun {
    ours: Duration,
    aws: Option<Duration>,
    run: Run,
}

/// One healthy rollout: ecs-deploy and (once the deployment exists) `aws ecs wait
/// services-stable` on the same rollout; both lags from the deployment's `finishedAt`.
fn lag_run(b: &Bench<'_>, k: usize) -> Result<LagRun, BenchError> {
    let before = b
        .newest_deployment("api")
        .map(|d| d.arn)
        .unwrap_or_default();
    let spec = b.deploy_spec(&["api".into()], &format!("repo/api:lag{k}"), "rollback");
    let log = b.opts.log(&format!("ecs-deploy-lag{k}"))?;
    let timeout = b.opts.timeout;
    let (ours, aws) = std::thread::scope(|s| {
        b.scratch.reset();
        let ours = s.spawn(|| measure::run_once(&spec, Some(&log), timeout));
        let aws = b.aws_cli.as_ref().and_then(|cli| {
            if !b.wait_for_new_deployment("api", &before, Instant::now() + Duration::from_secs(60))
            {
                return None;
            }
            let spec = Spec::new(cli.clone(), &b.scratch.dir)
                .args(["ecs", "wait", "services-stable", "--cluster", CLUSTER])
                .args(["--services", "api", "--region", "us-east-1"])
                .arg("--endpoint-url")
                .arg(b.sim.endpoint())
                .env("AWS_ACCESS_KEY_ID", "AKIDBENCH")
                .env("AWS_SECRET_ACCESS_KEY", "bench-secret")
                .env("AWS_EC2_METADATA_DISABLED", "true");
            let log = b.opts.log(&format!("aws-wait-lag{k}")).ok()?;
            Some(s.spawn(move || measure::run_once(&spec, Some(&log), timeout)))
        });
        let ours = ours
            .join()
            .unwrap_or_else(|_| Err(tool("ecs-deploy thread panicked")));
        let aws = aws.map(|h| {
            h.join()
                .unwrap_or_else(|_| Err(tool("aws thread panicked")))
        });
        (ours, aws)
    });
    let ours = ours?;
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    if !ours.success {
        return Err(tool(format!(
            "ecs-deploy failed on a healthy rollout (see {}):\n{}",
            log.display(),
            tail(&text)
        )));
    }
    let d = b
        .newest_deployment("api")
        .filter(|d| d.status == ServiceDeploymentStatus::Successful && d.arn != before)
        .ok_or_else(|| tool("the healthy rollout has no SUCCESSFUL service deployment"))?;
    let finished = d
        .finished_at
        .ok_or_else(|| tool("the SUCCESSFUL service deployment has no finishedAt"))?;
    let clock = SimClock::read(&b.sim, 1.0);
    let t = clock.instant(finished);
    let aws = match aws {
        Some(Ok(r)) if r.success => Some(since(t, r.ended)),
        _ => None,
    };
    Ok(LagRun {
        ours: since(t, ours.ended),
        aws,
        run: ours,
    })
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

struct FailRun {
    verdict: Duration,
    breaker: Option<Duration>,
    run: Run,
}

/// A crash-looping image: time from the first new task's `stoppedAt` to ecs-deploy's
/// exit (which must name the exit code and the log line), and to the circuit breaker's
/// "deployment failed" event on the same rollout (ecs-deploy is told to leave the
/// deployment alone so the breaker runs its course).
fn failure_run(b: &Bench<'_>, k: usize, old_td: &str) -> Result<FailRun, BenchError> {
    let start_sim = b.sim.sim_now();
    let spec = b.deploy_spec(&["crashy".into()], &format!("repo/api:crash{k}"), "leave");
    b.scratch.reset();
    let (run, text) = b.run_logged(&format!("ecs-deploy-failure{k}"), &spec)?;
    if run.success {
        return Err(tool(
            "ecs-deploy reported success for a crash-looping image",
        ));
    }
    if !(text.contains("exited with code 3") && text.contains("FATAL: cannot connect to database"))
    {
        return Err(tool(format!(
            "ecs-deploy failed without naming the cause (exit code 3 and the log line):\n{}",
            tail(&text)
        )));
    }
    // The breaker: its event on the service, from the simulator.
    let give_up = Instant::now() + Duration::from_secs(120);
    let mut breaker_at = None;
    while Instant::now() < give_up {
        if let Ok(s) = b.block(b.ecs.describe_service(CLUSTER, "crashy"))
            && let Some(e) = s
                .events
                .iter()
                .find(|e| e.at >= start_sim && e.message.contains("deployment failed"))
        {
            breaker_at = Some(e.at);
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let tasks = b
        .block(async {
            let arns = b.ecs.stopped_task_arns(CLUSTER, "crashy").await?;
            b.ecs.describe_tasks(CLUSTER, &arns).await
        })
        .map_err(tool)?;
    let first_stop = tasks
        .iter()
        .filter(|t| t.task_definition != old_td)
        .filter_map(|t| t.stopped_at)
        .filter(|at| *at >= start_sim)
        .fold(None, |m: Option<f64>, at| Some(m.map_or(at, |m| m.min(at))))
        .ok_or_else(|| tool("no task of the new revision stopped"))?;
    let clock = SimClock::read(&b.sim, 1.0);
    let t = clock.instant(first_stop);
    let verdict = since(t, run.ended);
    let breaker = breaker_at.map(|at| since(t, clock.instant(at)));
    // Back to a healthy service (the breaker rolls back to v1) before the next run.
    let give_up = Instant::now() + Duration::from_secs(120);
    while Instant::now() < give_up {
        if b.newest_deployment("crashy").is_some_and(|d| {
            d.status.is_rollback() && d.status != ServiceDeploymentStatus::RollbackInProgress
        }) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(FailRun {
        verdict,
        breaker,
        run,
    })
}

fn median_of(values: &[Duration]) -> Option<Duration> {
    measure::median(values.to_vec())
}

fn fmt_all(values: &[Duration]) -> String {
    values
        .iter()
        .map(|d| report::fmt_duration(*d))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs every ECS row; pushes rows and notes into `res`, returns the footprint samples.
pub fn run(opts: &Options, res: &mut Results) -> Result<Footprints, BenchError> {
    let quick = opts.scale.0 < 1.0;
    let lag_runs = if quick { opts.runs.min(3) } else { opts.runs };
    let fail_runs = if quick { 2 } else { 3.min(opts.runs) };
    let par_runs = if quick { 1 } else { 3.min(opts.runs) };
    // The API-cost wait: 5 minutes at full scale (a quick run shortens it, min 30 s).
    let api_wait = ((300.0 * opts.scale.0).round() as u64).clamp(30, 300);
    let lags = lag_rollouts(lag_runs);
    let crashes = crash_after(fail_runs);
    let scenario = Scenario::from_yaml(&scenario_yaml(&lags, &crashes, api_wait)).map_err(tool)?;
    let sim = ecs_sim::spawn(SimConfig {
        scenario,
        time_scale: 1.0,
        seed: opts.seed,
    })
    .map_err(|e| BenchError::Io("cannot start ecs-sim".into(), e))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| BenchError::Io("cannot start a tokio runtime".into(), e))?;
    let ecs = rt.block_on(async {
        let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
        Ecs::new(&ctx.config)
    });
    let aws_cli = opts.aws_cli.clone().filter(|p| p.exists());
    let b = Bench {
        opts,
        sim,
        rt,
        ecs,
        scratch: Scratch::new(&opts.cache, "ecs")?,
        aws_cli,
    };
    let mut fp = Footprints::default();

    say("ecs: creating services on ecs-sim ...");
    let par_names: Vec<String> = (0..PARALLEL).map(|i| format!("p{i:02}")).collect();
    let mut all = vec!["api".to_string(), "crashy".into(), "slow".into()];
    all.extend(par_names.iter().cloned());
    b.create_services(&all[..3], "repo/api:v1", 2);
    let old_crashy_td = b
        .block(b.ecs.describe_service(CLUSTER, "crashy"))
        .map(|s| s.task_definition)
        .map_err(tool)?;
    b.create_services(&par_names, "repo/api:v1", 2);

    // Success lag.
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut runs = Vec::new();
    for (k, secs) in lags.iter().enumerate() {
        say(&format!(
            "ecs: healthy rollout {}/{lag_runs} ({secs:.1} s) ...",
            k + 1
        ));
        let r = lag_run(&b, k)?;
        say(&format!(
            "  ecs-deploy lag {}, aws wait lag {}",
            report::fmt_duration(r.ours),
            r.aws
                .map(report::fmt_duration)
                .unwrap_or_else(|| "—".into())
        ));
        ours.push(r.ours);
        if let Some(a) = r.aws {
            theirs.push(a);
        }
        runs.push(r.run);
    }
    fp.ecs_deploy = Some(Sample { runs });
    let aws_value = match (&b.aws_cli, median_of(&theirs)) {
        (None, _) => Value::Missing(format!(
            "skipped: the aws CLI is not at {} (scripts/testbed installs it into .venv)",
            opts.aws_cli
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "--aws-cli".into())
        )),
        (Some(_), Some(m)) if theirs.len() == ours.len() => Value::Time(m),
        _ => Value::Missing("failed (see target/bench-cache/logs/aws-wait-lag*.log)".into()),
    };
    res.rows.push(Row {
        what: "ecs-deploy success lag".into(),
        workload: format!(
            "ecs-sim (time scale 1), healthy rolling deployment of 2 tasks (tasks healthy after {} s); time from the service deployment's SUCCESSFUL (`finishedAt`) to exit, for ecs-deploy (polls every 5 s) and for the `aws` waiter (polls every {AWS_WAITER_DELAY}) on the same rollout; median of {lag_runs}",
            lags.iter().map(|l| format!("{l:.1}")).collect::<Vec<_>>().join(", ")
        ),
        deployer: median_of(&ours).map_or(Value::Missing("no runs".into()), Value::Time),
        baseline: Some((
            "aws ecs wait services-stable".to_string(),
            aws_value,
        )),
        target: Target::SecondsAtMost(POLL.as_secs_f64()),
    });
    res.notes.push(format!(
        "Success lag per run: ecs-deploy {}; `aws ecs wait services-stable` {} (poll interval 5 s for ecs-deploy, its default).",
        fmt_all(&ours),
        if theirs.is_empty() { "—".into() } else { fmt_all(&theirs) }
    ));

    // Footprint runs on the healthy service: gate-check, rollback, run-migration.
    let last_image = format!("repo/api:lag{}", lag_runs.saturating_sub(1));
    fp.gate_check = Some(gate_check_run(&b, &last_image, res)?);
    fp.rollback = Some(simple_run(
        &b,
        "rollback",
        &[
            "--service",
            "api",
            "--poll-interval",
            "1s",
            "--timeout",
            "5m",
        ],
        res,
    )?);
    fp.run_migration = Some(simple_run(
        &b,
        "run-migration",
        &[
            "--service",
            "api",
            "--command",
            "migrate up",
            "--poll-interval",
            "1s",
        ],
        res,
    )?);

    // Failure verdict.
    let mut verdicts = Vec::new();
    let mut breakers = Vec::new();
    let mut failure_error = None;
    for k in 0..fail_runs {
        say(&format!(
            "ecs: crash-loop rollout {}/{fail_runs} ...",
            k + 1
        ));
        match failure_run(&b, k, &old_crashy_td) {
            Ok(r) => {
                say(&format!(
                    "  verdict {}, circuit breaker {}",
                    report::fmt_duration(r.verdict),
                    r.breaker
                        .map(report::fmt_duration)
                        .unwrap_or_else(|| "—".into())
                ));
                verdicts.push(r.verdict);
                if let Some(x) = r.breaker {
                    breakers.push(x);
                }
                if let Some(s) = fp.ecs_deploy.as_mut() {
                    s.runs.push(r.run);
                }
            }
            Err(e) => {
                say(&format!("  {e}"));
                failure_error = Some(e.to_string());
                break;
            }
        }
    }
    res.rows.push(Row {
        what: "ecs-deploy failure verdict".into(),
        workload: format!(
            "ecs-sim crash-loop (2 tasks; the container exits with code 3 after {} s; breaker threshold 3); time from the first new task STOPPED to ecs-deploy's exit naming the exit code and log line, and to the circuit breaker's \"deployment failed\" event on the same rollout; median of {fail_runs}",
            crashes.iter().map(|c| format!("{c:.1}")).collect::<Vec<_>>().join(", ")
        ),
        deployer: match (&failure_error, median_of(&verdicts)) {
            (Some(e), _) => Value::Missing(format!("failed: {e}")),
            (None, Some(m)) => Value::Time(m),
            (None, None) => Value::Missing("no runs".into()),
        },
        baseline: Some((
            "deploymentCircuitBreaker".into(),
            median_of(&breakers).map_or(Value::Missing("the breaker did not trip".into()), Value::Time),
        )),
        target: Target::SecondsAtMost(POLL.as_secs_f64()),
    });

    // Parallel deploy.
    let mut one = Vec::new();
    let mut twenty = Vec::new();
    let mut par_samples = Vec::new();
    for k in 0..par_runs {
        for (n, out) in [(1usize, &mut one), (PARALLEL, &mut twenty)] {
            say(&format!(
                "ecs: parallel deploy {}/{par_runs}: {n} service(s) ...",
                k + 1
            ));
            b.scratch.reset();
            let spec = b.deploy_spec(&par_names[..n], &format!("repo/api:par{k}n{n}"), "rollback");
            let (r, text) = b.run_logged(&format!("ecs-deploy-parallel{k}-{n}"), &spec)?;
            if !r.success {
                return Err(tool(format!(
                    "ecs-deploy of {n} service(s) failed on healthy rollouts:\n{}",
                    tail(&text)
                )));
            }
            say(&format!("  {}", report::fmt_duration(r.wall)));
            out.push(r.wall);
            if n == PARALLEL {
                par_samples.push(r);
            }
        }
    }
    fp.ecs_deploy_parallel = Some(Sample { runs: par_samples });
    res.rows.push(Row {
        what: "parallel deploy".into(),
        workload: format!(
            "ecs-sim, {PARALLEL} services (2 tasks each, healthy after {PARALLEL_ROLLOUT_SECS} s, between two polls) in one ecs-deploy call, against one service alone; median of {par_runs}"
        ),
        deployer: median_of(&twenty).map_or(Value::Missing("no runs".into()), Value::Time),
        baseline: Some((
            "ecs-deploy --service p00".into(),
            median_of(&one).map_or(Value::Missing("no runs".into()), Value::Time),
        )),
        target: Target::RatioOfBaselineAtMost(1.3),
    });

    // API cost: nothing else runs meanwhile.
    say(&format!(
        "ecs: API cost: a rollout that takes {api_wait} s (nothing else is measured meanwhile) ..."
    ));
    let ops = [
        "DescribeServices",
        "ListServiceDeployments",
        "DescribeServiceDeployments",
        "ListTasks",
        "DescribeTasks",
        "GetLogEvents",
        "DescribeTaskDefinition",
    ];
    let before_total = b.sim.total_calls();
    let before_ops: Vec<u64> = ops.iter().map(|o| b.sim.call_count(o)).collect();
    b.scratch.reset();
    let spec = b.aws_spec(opts.bin("ecs-deploy"), &b.scratch.dir).args([
        "--service",
        "slow",
        "--image",
        "api=repo/slow:wait",
        "--timeout",
        "30m",
    ]);
    let (r, text) = b.run_logged("ecs-deploy-api-cost", &spec)?;
    let calls = b.sim.total_calls() - before_total;
    let minutes = r.wall.as_secs_f64() / 60.0;
    let value = if r.success && minutes > 0.0 {
        Value::PerMinute(calls as f64 / minutes)
    } else {
        say(&tail(&text));
        Value::Missing("failed (see target/bench-cache/logs/ecs-deploy-api-cost.log)".into())
    };
    let per_op: Vec<String> = ops
        .iter()
        .zip(&before_ops)
        .map(|(o, before)| format!("{o} {}", b.sim.call_count(o) - before))
        .filter(|s| !s.ends_with(" 0"))
        .collect();
    res.notes.push(format!(
        "API cost: {calls} ECS/Logs calls in {} of deploying and waiting ({}).",
        report::fmt_duration(r.wall),
        per_op.join(", ")
    ));
    res.rows.push(Row {
        what: "API cost".into(),
        workload: format!(
            "ecs-deploy on ecs-sim waiting for a rollout that takes {} (every call counted by the simulator, start-up included)",
            if api_wait == 300 { "5 minutes".to_string() } else { format!("{api_wait} s (quick run; 5 minutes at full scale)") }
        ),
        deployer: value,
        baseline: None,
        target: Target::PerMinuteAtMost(30.0),
    });
    Ok(fp)
}

fn simple_run(
    b: &Bench<'_>,
    name: &str,
    args: &[&str],
    res: &mut Results,
) -> Result<Sample, BenchError> {
    say(&format!("ecs: {name} {} ...", args.join(" ")));
    b.scratch.reset();
    let spec = b
        .aws_spec(b.opts.bin(name), &b.scratch.dir)
        .args(args.iter().copied());
    let (r, text) = b.run_logged(name, &spec)?;
    if !r.success {
        res.notes.push(format!(
            "`{name}` failed against ecs-sim (see target/bench-cache/logs/{name}.log): its RSS row is from a failed run."
        ));
        say(&tail(&text));
    } else {
        say(&format!("  {} in {}", name, report::fmt_duration(r.wall)));
    }
    Ok(Sample { runs: vec![r] })
}

fn gate_check_run(b: &Bench<'_>, image: &str, res: &mut Results) -> Result<Sample, BenchError> {
    let dir = b.scratch.dir.join("gate");
    crate::workload::write_file(
        &dir.join(".github/deployer.yml"),
        format!(
            "services:\n  api:\n    paths: [\"api/**\"]\nenvironments:\n  bench:\n    region: us-east-1\n    gates:\n      - ecs-service: {{ cluster: {CLUSTER}, service: api, image: \"{image}\" }}\n"
        )
        .as_bytes(),
    )?;
    say("ecs: gate-check --environment bench ...");
    b.scratch.reset();
    let spec = b
        .aws_spec(b.opts.bin("gate-check"), &dir)
        .env("AWS_ENDPOINT_URL_CLOUDFORMATION", b.sim.endpoint())
        .args(["--environment", "bench"]);
    let (r, text) = b.run_logged("gate-check", &spec)?;
    let passed = output_value(
        &std::fs::read_to_string(b.scratch.output()).unwrap_or_default(),
        "passed",
    );
    if !r.success || passed.as_deref() != Some("true") {
        res.notes.push(
            "`gate-check` did not pass its ecs-service gate on ecs-sim (see target/bench-cache/logs/gate-check.log)."
                .into(),
        );
        say(&tail(&text));
    }
    Ok(Sample { runs: vec![r] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_spread_over_the_poll_phases_and_the_scenario_parses() {
        let lags = lag_rollouts(5);
        assert_eq!(lags, vec![8.0, 17.27, 11.54, 20.81, 15.08]);
        // Different phases of the 5 s poller (no two runs within 0.4 s of each other).
        let mut phases: Vec<f64> = lags.iter().map(|l| l % 5.0).collect();
        phases.sort_by(f64::total_cmp);
        assert!(phases.windows(2).all(|w| w[1] - w[0] > 0.4), "{phases:?}");
        let crashes = crash_after(3);
        assert_eq!(crashes, vec![3.0, 6.09, 4.18]);
        let yaml = scenario_yaml(&lag_rollouts(3), &crashes, 300);
        let s = Scenario::from_yaml(&yaml).expect("scenario parses");
        drop(s);
        assert!(yaml.contains("\"repo/api:lag1\": {kind: healthy, start-after: 17.27}"));
        assert!(
            yaml.contains("\"repo/api:crash2\": {kind: crash-loop, start-after: 2, after: 4.18,")
        );
        assert!(yaml.contains("\"repo/slow:wait\": {kind: healthy, start-after: 300}"));
    }

    #[test]
    fn sim_times_map_to_instants() {
        let now = Instant::now();
        let c = SimClock {
            at: now,
            sim: 1000.0,
            scale: 2.0,
        };
        assert_eq!(c.instant(1000.0), now);
        assert_eq!(c.instant(990.0), now - Duration::from_secs(5));
        assert_eq!(c.instant(1004.0), now + Duration::from_secs(2));
        assert_eq!(since(now, now - Duration::from_secs(1)), Duration::ZERO);
    }
}
