//! One service's deploy: render → register (only if changed) → UpdateService → identify
//! the service deployment → wait → on failure roll back (or stop, or leave) and wait again.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::budget;
use crate::ecs::{Ecs, EcsDeployment, ServiceDeploymentInfo, ServiceInfo, short_td};
use crate::error::{Error, Result};
use crate::logs::Logs;
use crate::states::{
    Controller, DeploymentRole, HookStatus, RolloutState, ServiceDeploymentStatus,
    TaskDefinitionStatus,
};
use crate::taskdef::{self, EnvSpec, ImageSpec, RenderOptions};
use crate::wait::{self, Cause, Outcome, Verdict, WaitUntil, WatchOptions, WatchTarget};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFailure {
    #[default]
    Rollback,
    Stop,
    Leave,
}

impl std::str::FromStr for OnFailure {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rollback" => Ok(OnFailure::Rollback),
            "stop" => Ok(OnFailure::Stop),
            "leave" => Ok(OnFailure::Leave),
            other => Err(format!("`{other}` is not one of rollback, stop, leave")),
        }
    }
}

/// Where the new task definition comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The service's live definition, rendered with images/env/tags.
    Live,
    /// A user file (JSON/YAML), rendered with images/env/tags.
    File(Value),
    /// An existing, registered task definition (rollback).
    Existing(String),
}

#[derive(Debug, Clone)]
pub struct DeployRequest {
    pub cluster: String,
    pub service: String,
    pub source: Source,
    pub images: Vec<ImageSpec>,
    pub default_containers: Vec<String>,
    pub env: Vec<EnvSpec>,
    pub tags: Vec<(String, String)>,
    pub desired_count: Option<i32>,
    pub force_new_deployment: bool,
    /// What to do when the deployment fails.
    pub on_failure: OnFailure,
    /// What to do when the timeout is reached while the deployment is still in progress:
    /// by default it is left alone (a healthy, slow deployment is not a failure).
    pub on_timeout: OnFailure,
    pub watch: WatchOptions,
    /// Blue/green: continue the paused deployment instead of starting one.
    pub continue_deployment: bool,
    /// With `continue_deployment`: only watch the deployment in progress to its end; send
    /// nothing to ECS (`ecs-deploy --watch`).
    pub watch_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Succeeded,
    Unchanged,
    /// Blue/green: the requested stage is reached (not the end of the deployment).
    Reached,
    Failed,
    TimedOut,
    /// The run was cancelled (SIGINT/SIGTERM) while the deployment was in flight.
    Cancelled,
    /// ECS could not be read for too long: the outcome is not known.
    Unknown,
    /// Deployed with a desired count of 0: the revision is set, no task ran.
    NoTasks,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Succeeded => "succeeded",
            Status::Unchanged => "unchanged",
            Status::Reached => "reached",
            Status::Failed => "failed",
            Status::TimedOut => "timed-out",
            Status::Cancelled => "cancelled",
            Status::Unknown => "unknown",
            Status::NoTasks => "no-tasks",
        }
    }
    pub fn ok(&self) -> bool {
        matches!(
            self,
            Status::Succeeded | Status::Unchanged | Status::Reached | Status::NoTasks
        )
    }
}

#[derive(Debug, Clone)]
pub struct RollbackReport {
    pub action: String,
    pub to_task_definition: Option<String>,
    pub final_status: String,
    pub ok: bool,
}

#[derive(Debug, Clone)]
pub struct DeployReport {
    pub cluster: String,
    pub service: String,
    pub status: Status,
    pub task_definition_arn: String,
    pub previous_task_definition_arn: String,
    pub service_deployment_arn: String,
    pub registered: bool,
    pub changes: Vec<String>,
    pub duration: Duration,
    pub cause: Option<Cause>,
    pub log_lines: Vec<String>,
    pub timeline: Vec<(u64, String)>,
    pub stage: Option<String>,
    pub hook_id: Option<String>,
    pub rollback: Option<RollbackReport>,
    /// What to do next (timeouts, reached stages).
    pub next_step: Option<String>,
    pub running: i32,
    pub desired: i32,
}

impl DeployReport {
    fn new(req: &DeployRequest) -> Self {
        DeployReport {
            cluster: req.cluster.clone(),
            service: req.service.clone(),
            status: Status::Failed,
            task_definition_arn: String::new(),
            previous_task_definition_arn: String::new(),
            service_deployment_arn: String::new(),
            registered: false,
            changes: vec![],
            duration: Duration::ZERO,
            cause: None,
            log_lines: vec![],
            timeline: vec![],
            stage: None,
            hook_id: None,
            rollback: None,
            next_step: None,
            running: 0,
            desired: 0,
        }
    }

    /// The failure explained in plain text (cause, tasks, logs, events).
    pub fn explain(&self) -> String {
        let mut out = String::new();
        if let Some(c) = &self.cause {
            out.push_str(&format!("{}: {}\n", c.kind.label(), c.summary));
            if let Some(t) = &c.task {
                out.push_str(&format!(
                    "  task {}: stopCode={} stoppedReason={}\n",
                    t.id(),
                    t.stop_code.as_ref().map_or("", |c| c.as_str()),
                    t.stopped_reason.clone().unwrap_or_default()
                ));
                for ct in &t.containers {
                    out.push_str(&format!(
                        "    container {}: exit code {}{}\n",
                        ct.name,
                        ct.exit_code
                            .map(|x| x.to_string())
                            .unwrap_or_else(|| "none".into()),
                        ct.reason
                            .as_ref()
                            .map(|r| format!(" ({r})"))
                            .unwrap_or_default()
                    ));
                }
            }
            if !c.events.is_empty() {
                out.push_str("  recent service events:\n");
                for e in &c.events {
                    out.push_str(&format!("    {e}\n"));
                }
            }
        }
        if !self.log_lines.is_empty() {
            for l in &self.log_lines {
                out.push_str(&format!("  {l}\n"));
            }
        }
        out
    }
}

/// Finds the service deployment UpdateService created for `task_definition`.
async fn find_deployment(
    ecs: &Ecs,
    req: &DeployRequest,
    before: &ServiceInfo,
    after: &ServiceInfo,
    task_definition: &str,
) -> Result<String> {
    if let Some(cur) = &after.current_service_deployment
        && before.current_service_deployment.as_ref() != Some(cur)
    {
        return Ok(cur.clone());
    }
    // Lower bound in the server's clock: the primary deployment's createdAt.
    let since = after.primary().and_then(|p| p.created_at).map(|t| t - 2.0);
    for attempt in 0..10 {
        // Errors (throttling, 5xx) here only delay identification: UpdateService is done.
        let list = ecs
            .list_service_deployments(&req.cluster, &req.service, since)
            .await
            .unwrap_or_default();
        for d in &list {
            if before.current_service_deployment.as_deref() == Some(d.arn.as_str()) {
                continue;
            }
            let Some(rev) = &d.target_revision else {
                continue;
            };
            if ecs.revision_task_definition(rev).await.ok().as_deref() == Some(task_definition) {
                return Ok(d.arn.clone());
            }
        }
        if attempt < 9 {
            tokio::time::sleep(Duration::from_millis(500 + 200 * attempt)).await;
            if let Ok(svc) = ecs.describe_service(&req.cluster, &req.service).await
                && let Some(cur) = svc.current_service_deployment
                && before.current_service_deployment.as_ref() != Some(&cur)
            {
                return Ok(cur);
            }
        }
    }
    Ok(String::new())
}

/// Waits for a deployment that is rolling back (or was asked to) to finish.
pub async fn wait_rollback(
    ecs: &Ecs,
    arn: &str,
    timeout: Duration,
    poll: Duration,
    say: &dyn Fn(&str),
    service: &str,
) -> Result<ServiceDeploymentInfo> {
    let start = Instant::now();
    let mut last_print: Option<Instant> = None;
    let mut last_status: Option<ServiceDeploymentStatus> = None;
    loop {
        match ecs.describe_service_deployment(arn).await {
            Ok(d) => {
                if d.status == ServiceDeploymentStatus::Successful {
                    // Completed before the rollback request took effect.
                    return Ok(d);
                }
                if d.status.is_finished() {
                    say(&format!("[{service}] rollback finished: {}", d.status));
                    return Ok(d);
                }
                if last_status.as_ref() != Some(&d.status)
                    || last_print.is_none_or(|t| t.elapsed() >= Duration::from_secs(15))
                {
                    say(&format!(
                        "[{service}] rolling back: {} · {} s",
                        d.status,
                        start.elapsed().as_secs()
                    ));
                    last_print = Some(Instant::now());
                    last_status = Some(d.status.clone());
                }
            }
            Err(e) => say(&format!(
                "[{service}] could not read the rollback state (will retry): {e}"
            )),
        }
        if start.elapsed() >= timeout {
            return Err(Error::Failed(format!(
                "the rollback of {arn} did not finish within {} s; check the service in the ECS console",
                timeout.as_secs()
            )));
        }
        tokio::time::sleep(poll).await;
    }
}

/// Tags whose key starts with this prefix record provenance (`deployer:git-sha`,
/// `deployer:version`, `deployer:run-url`, `deployer:deployed-by`); the prefix is reserved.
pub const PROVENANCE_TAG_PREFIX: &str = "deployer:";

fn is_provenance(tag: &Value) -> bool {
    tag.get("key")
        .and_then(Value::as_str)
        .is_some_and(|k| k.starts_with(PROVENANCE_TAG_PREFIX))
}

/// `td` (a RegisterTaskDefinition input or a DescribeTaskDefinition answer) without the
/// `deployer:*` tags at its top level.
pub fn without_provenance_tags(td: &Value) -> Value {
    let mut out = td.clone();
    if let Some(tags) = out.get_mut("tags").and_then(Value::as_array_mut) {
        tags.retain(|t| !is_provenance(t));
    }
    out
}

/// What [`plan_service`] decided: the task definition to deploy (registered if it
/// changed) and whether anything will happen at all. [`execute_plan`] carries it out.
/// Split in two so a caller can act between the decision and UpdateService (e.g. send a
/// "deploy started" notification only when something is deployed).
#[derive(Debug, Clone)]
pub struct Plan {
    before: ServiceInfo,
    report: DeployReport,
    started: Instant,
    td_json: Value,
    noop: bool,
    /// The timeout the wait runs under (computed with `--timeout auto`).
    timeout: Duration,
}

impl Plan {
    /// The task definition that will be deployed (empty for `--continue`: read later).
    pub fn task_definition_arn(&self) -> &str {
        &self.report.task_definition_arn
    }
    pub fn previous_task_definition_arn(&self) -> &str {
        &self.report.previous_task_definition_arn
    }
    /// A new revision was registered.
    pub fn registered(&self) -> bool {
        self.report.registered
    }
    /// Nothing to do: the service already runs this definition and is steady.
    pub fn is_noop(&self) -> bool {
        self.noop
    }
}

/// Deploys one service and returns the report (errors only for bad input / broken API).
pub async fn deploy_service(
    ecs: &Ecs,
    logs: &Logs,
    req: &DeployRequest,
    say: &dyn Fn(&str),
) -> Result<DeployReport> {
    let plan = plan_service(ecs, req, say).await?;
    execute_plan(ecs, logs, req, plan, say).await
}

/// Another deployment is still moving tasks: the service has more than one deployment and
/// the newest (PRIMARY) has not failed. A deployment the circuit breaker FAILED with
/// rollback off stays listed beside the older ones but launches nothing more
/// (DeploymentConfiguration: "a service deployment will transition to a failed state and
/// stop launching new tasks"): deploying over it is the fix-forward.
fn in_flight(svc: &ServiceInfo) -> bool {
    svc.deployments.len() > 1
        && svc
            .primary()
            .is_none_or(|p| p.rollout_state != Some(RolloutState::Failed))
}

/// The deployment the circuit breaker failed with rollback off (PRIMARY, rollout FAILED)
/// and the newest older deployment beside it, whose revision still serves.
fn failed_beside_serving(svc: &ServiceInfo) -> Option<(&EcsDeployment, &EcsDeployment)> {
    let failed = svc
        .primary()
        .filter(|p| p.rollout_state == Some(RolloutState::Failed))?;
    let serving = svc
        .deployments
        .iter()
        .filter(|d| d.status == DeploymentRole::Active)
        .max_by(|a, b| {
            a.created_at
                .partial_cmp(&b.created_at)
                .unwrap_or(std::cmp::Ordering::Equal)
        })?;
    Some((failed, serving))
}

/// Another deployment of the service is in progress (a second run, someone in the console):
/// deploying now would supersede it, and rendering from the live task definition would carry
/// its changes even if it later rolls back. So wait for it to end (up to the wait timeout),
/// then plan from the settled service.
async fn wait_for_other_deployment(
    ecs: &Ecs,
    req: &DeployRequest,
    mut svc: ServiceInfo,
    say: &dyn Fn(&str),
) -> Result<ServiceInfo> {
    if !in_flight(&svc) {
        return Ok(svc);
    }
    let started = Instant::now();
    let mut other = svc.current_service_deployment.clone().unwrap_or_default();
    if other.is_empty() {
        other = ecs
            .list_service_deployments(&req.cluster, &req.service, None)
            .await
            .unwrap_or_default()
            .into_iter()
            .find(|d| d.status.is_rolling_out())
            .map(|d| d.arn)
            .unwrap_or_default();
    }
    // Without a service-deployment record, name it by the service's own deployment id.
    let check = if other.is_empty() {
        other = svc
            .deployments
            .iter()
            .find(|d| {
                d.rollout_state
                    .as_ref()
                    .is_none_or(|r| *r == RolloutState::InProgress)
            })
            .map(|d| d.id.clone())
            .unwrap_or_else(|| "a deployment".into());
        format!(
            "aws ecs describe-services --cluster {} --services {}",
            req.cluster, req.service
        )
    } else {
        format!("aws ecs describe-service-deployments --service-deployment-arns {other}")
    };
    let other_td = short_td(&svc.task_definition).to_string();
    say(&format!(
        "[{}] another deployment is in progress ({other}, {other_td}); waiting for it to finish before deploying",
        req.service
    ));
    let mut last_print = Instant::now();
    while in_flight(&svc) {
        if started.elapsed() >= req.watch.judge.timeout {
            return Err(Error::Failed(format!(
                "service `{}` has had another deployment in progress ({other}, {other_td}) for {} s; \
                 not deploying over it. Wait for it to finish (`{check}`), continue it if it is a paused blue/green deployment \
                 (`ecs-deploy --continue`), or roll it back (`rollback --cluster {} --service {}`), then re-run",
                req.service,
                started.elapsed().as_secs(),
                req.cluster,
                req.service
            )));
        }
        tokio::time::sleep(req.watch.poll_interval).await;
        match ecs.describe_service(&req.cluster, &req.service).await {
            Ok(s) => svc = s,
            Err(e) => say(&format!(
                "[{}] could not read the service (will retry): {e}",
                req.service
            )),
        }
        if last_print.elapsed() >= req.watch.progress_every {
            say(&format!(
                "[{}] still waiting for {other} · {} running, {} pending, {} desired · {} s",
                req.service,
                svc.running,
                svc.pending,
                svc.desired,
                started.elapsed().as_secs()
            ));
            last_print = Instant::now();
        }
    }
    say(&format!(
        "[{}] the other deployment ended after {} s; the service runs {}",
        req.service,
        started.elapsed().as_secs(),
        short_td(&svc.task_definition)
    ));
    Ok(svc)
}

/// `req` with the timeout it waits under: the one given, or with `--timeout auto` the one
/// computed from the service's own configuration (strategy, bake times, health checks,
/// desired count), said in the first lines of the output.
fn with_timeout(req: &DeployRequest, svc: &ServiceInfo, say: &dyn Fn(&str)) -> DeployRequest {
    let mut req = req.clone();
    if req.watch.auto_timeout {
        let desired = req.desired_count.unwrap_or(svc.desired);
        let b = budget::for_service(svc, desired);
        say(&format!(
            "[{}] timeout {} ({}; set --timeout to choose another)",
            req.service,
            budget::human(b.timeout),
            b.why
        ));
        req.watch.judge.timeout = b.timeout;
        req.watch.auto_timeout = false;
    }
    req
}

/// First half of [`deploy_service`]: checks the service, renders the definition and
/// registers it when it changed. Nothing is deployed yet.
pub async fn plan_service(ecs: &Ecs, req: &DeployRequest, say: &dyn Fn(&str)) -> Result<Plan> {
    let started = Instant::now();
    let mut report = DeployReport::new(req);
    let before = ecs.describe_service(&req.cluster, &req.service).await?;
    match &before.controller {
        Controller::Ecs => {}
        Controller::CodeDeploy => {
            return Err(Error::BadInput(format!(
                "service `{}` uses the CODE_DEPLOY deployment controller; ecs-deploy does not drive CodeDeploy yet. \
                 Move the service to ECS-native blue/green (deploymentController ECS, strategy BLUE_GREEN) \
                 or deploy it with CodeDeploy (aws deploy create-deployment with an AppSpec)",
                req.service
            )));
        }
        other => {
            return Err(Error::BadInput(format!(
                "service `{}` uses the {other} deployment controller; only ECS-controlled services are supported",
                req.service
            )));
        }
    }
    let req = &with_timeout(req, &before, say);
    let before = if req.continue_deployment {
        before
    } else {
        wait_for_other_deployment(ecs, req, before, say).await?
    };
    report.previous_task_definition_arn = before.task_definition.clone();
    if let Some((failed, serving)) = failed_beside_serving(&before) {
        say(&format!(
            "[{}] the service's last deployment ({}, {}) FAILED{} and is stopped; {} still serves. \
             Deploying over it (fix-forward); a rollback goes back to {}",
            req.service,
            failed.id,
            short_td(&failed.task_definition),
            failed
                .rollout_reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default(),
            short_td(&serving.task_definition),
            short_td(&serving.task_definition),
        ));
        report.previous_task_definition_arn = serving.task_definition.clone();
    }
    report.desired = before.desired;

    if req.continue_deployment {
        return Ok(Plan {
            before,
            report,
            started,
            td_json: Value::Null,
            noop: false,
            timeout: req.watch.judge.timeout,
        });
    }

    // Render and register.
    let (td_arn, td_json) = match &req.source {
        Source::Existing(arn) => {
            let raw = ecs.describe_task_definition_raw(arn).await?;
            let inner = raw.get("taskDefinition").cloned().unwrap_or(Value::Null);
            let status = TaskDefinitionStatus::parse(
                inner.get("status").and_then(Value::as_str).unwrap_or(""),
            );
            if status != TaskDefinitionStatus::Active {
                return Err(Error::BadInput(format!(
                    "task definition {arn} is {status}, not ACTIVE: it cannot be deployed"
                )));
            }
            let arn = inner
                .get("taskDefinitionArn")
                .and_then(Value::as_str)
                .unwrap_or(arn)
                .to_string();
            (arn, inner)
        }
        Source::Live | Source::File(_) => {
            let current = ecs
                .describe_task_definition_raw(&before.task_definition)
                .await?;
            // Provenance tags (`deployer:*`) describe the revision that carries them: they
            // are never inherited from the base, only set by this run's `req.tags`.
            let base = without_provenance_tags(match &req.source {
                Source::File(v) => v,
                _ => &current,
            });
            let opts = RenderOptions {
                images: req.images.clone(),
                default_containers: req.default_containers.clone(),
                env: req.env.clone(),
                tags: req.tags.clone(),
            };
            let (rendered, changes) = taskdef::render(&base, &opts)?;
            report.changes = changes;
            // Compared WITHOUT the provenance tags: they change on every run (the run
            // URL), and a re-run of the same commit must not register a new revision. The
            // revision that stays keeps the tags of the run that registered it, which is
            // what they describe. They go into the RegisterTaskDefinition body rather than
            // a TagResource call afterwards: one call, and no untagged revision if the
            // second call failed.
            if taskdef::is_same(&current, &without_provenance_tags(&rendered)) {
                say(&format!(
                    "[{}] task definition unchanged: keeping {}",
                    req.service,
                    short_td(&before.task_definition)
                ));
                (before.task_definition.clone(), rendered)
            } else {
                let arn = ecs.register_task_definition(&rendered).await?;
                report.registered = true;
                say(&format!("[{}] registered {}", req.service, short_td(&arn)));
                (arn, rendered)
            }
        }
    };
    report.task_definition_arn = td_arn.clone();
    report
        .timeline
        .push((0, format!("task definition {}", short_td(&td_arn))));

    let steady = before.deployments.len() == 1 && before.running == before.desired;
    let noop = td_arn == before.task_definition
        && !req.force_new_deployment
        && req.desired_count.is_none()
        && steady;
    if noop {
        say(&format!(
            "[{}] already running {}; nothing to deploy",
            req.service,
            short_td(&td_arn)
        ));
        report.status = Status::Unchanged;
        report.running = before.running;
        report.duration = started.elapsed();
    }
    Ok(Plan {
        before,
        report,
        started,
        td_json,
        noop,
        timeout: req.watch.judge.timeout,
    })
}

/// Resolves (with the signal's name) when the run is cancelled; see `cli::cancelled`.
pub type Cancel = Pin<Box<dyn Future<Output = &'static str> + Send>>;

/// A [`Cancel`] that never fires.
pub fn never_cancelled() -> Cancel {
    Box::pin(std::future::pending())
}

/// Second half of [`deploy_service`]: UpdateService (or ContinueServiceDeployment), wait
/// for the verdict, roll back on failure as `req.on_failure` says.
pub async fn execute_plan(
    ecs: &Ecs,
    logs: &Logs,
    req: &DeployRequest,
    plan: Plan,
    say: &dyn Fn(&str),
) -> Result<DeployReport> {
    execute_plan_cancellable(ecs, logs, req, plan, say, never_cancelled()).await
}

/// [`execute_plan`] that stops waiting when `cancel` fires (the workflow was cancelled):
/// a few quick calls settle what happens to the deployment in flight (see
/// [`on_cancel`]) and the report says so, with status [`Status::Cancelled`] unless the
/// deployment had already finished.
pub async fn execute_plan_cancellable(
    ecs: &Ecs,
    logs: &Logs,
    req: &DeployRequest,
    plan: Plan,
    say: &dyn Fn(&str),
    mut cancel: Cancel,
) -> Result<DeployReport> {
    let Plan {
        before,
        report,
        started,
        td_json,
        noop,
        timeout,
    } = plan;
    let mut effective = req.clone();
    effective.watch.judge.timeout = timeout;
    effective.watch.auto_timeout = false;
    let req = &effective;
    if noop {
        return Ok(report);
    }
    if req.continue_deployment {
        return continue_paused(ecs, logs, req, &before, report, started, say).await;
    }
    let mut report = report;
    let td_arn = report.task_definition_arn.clone();
    let after = ecs
        .update_service(
            &req.cluster,
            &req.service,
            &td_arn,
            req.desired_count,
            req.force_new_deployment,
        )
        .await?;
    report
        .timeline
        .push((started.elapsed().as_secs(), "UpdateService".into()));
    let found = std::sync::Mutex::new(String::new());
    let watched = async {
        let arn = find_deployment(ecs, req, &before, &after, &td_arn).await?;
        if let Ok(mut f) = found.lock() {
            f.clone_from(&arn);
        }
        if arn.is_empty() {
            say(&format!(
                "[{}] could not identify the service deployment (service-deployments API unavailable?); judging from the service's deployments",
                req.service
            ));
        } else {
            say(&format!("[{}] service deployment {arn}", req.service));
        }
        let target = WatchTarget {
            cluster: req.cluster.clone(),
            service: req.service.clone(),
            deployment_arn: arn.clone(),
            task_definition: td_arn.clone(),
            task_definition_json: td_json,
            seen_events: before
                .events
                .iter()
                .map(|e| e.id.clone())
                .collect::<BTreeSet<_>>(),
        };
        let outcome = wait::watch(ecs, logs, &target, &req.watch, say).await?;
        Ok::<_, Error>((arn, outcome))
    };
    let (arn, outcome) = tokio::select! {
        r = watched => r?,
        signal = &mut cancel => {
            let arn = found.lock().map(|f| f.clone()).unwrap_or_default();
            report.service_deployment_arn = arn;
            return Ok(on_cancel(ecs, req, report, signal, started, say).await);
        }
    };
    report.service_deployment_arn = arn;
    tokio::select! {
        r = finish(ecs, logs, req, report.clone(), outcome.clone(), started, say) => r,
        signal = &mut cancel => {
            // Cancelled during the rollback wait: the verdict stands, the rollback goes on.
            let mut report = report;
            apply_verdict(req, &mut report, &outcome, say);
            report.rollback = Some(RollbackReport {
                action: "rollback after the failure".into(),
                to_task_definition: Some(report.previous_task_definition_arn.clone()),
                final_status: format!(
                    "cancelled ({signal}) while waiting for it; it continues in ECS — check with \
                     `aws ecs describe-services --cluster {} --services {}`",
                    req.cluster, req.service
                ),
                ok: false,
            });
            report.duration = started.elapsed();
            Ok(report)
        }
    }
}

/// Bounds each call made after a cancellation: GitHub sends SIGKILL ~10 s after SIGINT.
const CANCEL_CALL_TIMEOUT: Duration = Duration::from_secs(3);

fn bounded_call<F: Future>(f: F) -> tokio::time::Timeout<F> {
    tokio::time::timeout(CANCEL_CALL_TIMEOUT, f)
}

/// The run was cancelled while `report`'s deployment was in flight. One look at the
/// deployment (it may have just finished: then that is the verdict), then, if it is still in
/// progress, what `on_failure` says: Rollback → StopServiceDeployment(ROLLBACK), Stop →
/// StopServiceDeployment(ABORT), Leave → nothing. The report says what is in flight and how
/// to check on it.
pub async fn on_cancel(
    ecs: &Ecs,
    req: &DeployRequest,
    mut report: DeployReport,
    signal: &str,
    started: Instant,
    say: &dyn Fn(&str),
) -> DeployReport {
    report.status = Status::Cancelled;
    report
        .timeline
        .push((started.elapsed().as_secs(), format!("cancelled ({signal})")));
    say(&format!(
        "[{}] cancelled ({signal}) while deploying {}",
        req.service,
        short_td(&report.task_definition_arn)
    ));
    let mut arn = report.service_deployment_arn.clone();
    if arn.is_empty()
        && let Ok(Ok(svc)) = bounded_call(ecs.describe_service(&req.cluster, &req.service)).await
        && svc.task_definition == report.task_definition_arn
    {
        arn = svc.current_service_deployment.unwrap_or_default();
        report.service_deployment_arn.clone_from(&arn);
    }
    let check = if arn.is_empty() {
        format!(
            "aws ecs describe-services --cluster {} --services {}",
            req.cluster, req.service
        )
    } else {
        format!("aws ecs describe-service-deployments --service-deployment-arns {arn}")
    };
    let back = format!(
        "rollback --cluster {} --service {}",
        req.cluster, req.service
    );
    let what = format!(
        "deployment {} of {}",
        if arn.is_empty() {
            "(ARN unknown)"
        } else {
            &arn
        },
        short_td(&report.task_definition_arn)
    );
    // One look: it may have just finished. The verdict is judge's, as in the wait.
    if let Some(ended) = ended_before_cancel(ecs, req, &report, &arn).await {
        match ended {
            Verdict::Success => {
                report.status = Status::Succeeded;
                report.next_step = Some(format!(
                    "cancelled ({signal}) just after {what} finished SUCCESSFUL; it is serving"
                ));
            }
            other => {
                let why = match &other {
                    Verdict::Failed(cause) => cause.summary.clone(),
                    _ => wait::verdict_label(&other),
                };
                report.next_step = Some(format!(
                    "cancelled ({signal}); {what} had already ended ({why}): it did not deploy. Check with `{check}`"
                ));
            }
        }
        report.duration = started.elapsed();
        return report;
    }
    let previous = short_td(&report.previous_task_definition_arn).to_string();
    let next = match req.on_failure {
        OnFailure::Rollback | OnFailure::Stop if !arn.is_empty() => {
            let rollback = req.on_failure == OnFailure::Rollback;
            let action = if rollback {
                "StopServiceDeployment(ROLLBACK)"
            } else {
                "StopServiceDeployment(ABORT)"
            };
            say(&format!("[{}] {action} on {arn}", req.service));
            let res = bounded_call(ecs.stop_service_deployment(&arn, rollback)).await;
            let (ok, final_status) = match res {
                Ok(Ok(())) => (
                    true,
                    if rollback {
                        ServiceDeploymentStatus::RollbackRequested.to_string()
                    } else {
                        ServiceDeploymentStatus::StopRequested.to_string()
                    },
                ),
                Ok(Err(e)) => (false, format!("request failed: {e}")),
                Err(_) => (false, "request timed out".to_string()),
            };
            report.rollback = Some(RollbackReport {
                action: action.into(),
                to_task_definition: rollback.then(|| report.previous_task_definition_arn.clone()),
                final_status,
                ok,
            });
            match (ok, rollback) {
                (true, true) => format!(
                    "cancelled ({signal}) while {what} was in progress; rollback to {previous} requested \
                     (StopServiceDeployment ROLLBACK); it continues in ECS. Check with `{check}`"
                ),
                (true, false) => format!(
                    "cancelled ({signal}) while {what} was in progress; it was asked to stop \
                     (StopServiceDeployment ABORT): the tasks it started keep running until you deploy \
                     or roll back. Check with `{check}`; go back with `{back}`"
                ),
                (false, _) => format!(
                    "cancelled ({signal}) while {what} was in progress; asking ECS to {} it failed, \
                     so it continues on its own. Check with `{check}`; go back with `{back}`",
                    if rollback { "roll back" } else { "stop" }
                ),
            }
        }
        _ => format!(
            "cancelled ({signal}) while {what} was in progress; it was left running and continues in \
             ECS (on-failure={}). Check with `{check}`; go back to {previous} with `{back}`",
            match req.on_failure {
                OnFailure::Leave => "leave",
                OnFailure::Stop => "stop",
                OnFailure::Rollback => "rollback",
            }
        ),
    };
    say(&format!("[{}] {next}", req.service));
    report.next_step = Some(next);
    report.duration = started.elapsed();
    report
}

/// The verdict on `arn` if it has already finished (SUCCESSFUL, stopped, rolled back), from
/// one bounded read of the deployment and the service; None while it is still in flight or
/// when ECS does not answer in time.
async fn ended_before_cancel(
    ecs: &Ecs,
    req: &DeployRequest,
    report: &DeployReport,
    arn: &str,
) -> Option<Verdict> {
    if arn.is_empty() {
        return None;
    }
    let dep = bounded_call(ecs.describe_service_deployment(arn))
        .await
        .ok()?
        .ok()?;
    if !dep.status.is_finished() && !dep.status.is_rollback() {
        return None;
    }
    let svc = bounded_call(ecs.describe_service(&req.cluster, &req.service))
        .await
        .ok()?
        .ok()?;
    let snap = wait::Snapshot::of(&report.task_definition_arn, arn, &svc, Some(dep));
    let verdict = wait::judge(
        &snap,
        &wait::History::default(),
        0.0,
        &wait::JudgeOptions::default(),
    );
    Some(match verdict {
        // Finished but judge would wait (a state it has no rule for): not a success.
        Verdict::InProgress | Verdict::TimedOut => Verdict::Unknown(format!(
            "the deployment ended {}",
            snap.deployment
                .map(|d| d.status.to_string())
                .unwrap_or_default()
        )),
        v => v,
    })
}

async fn continue_paused(
    ecs: &Ecs,
    logs: &Logs,
    req: &DeployRequest,
    before: &ServiceInfo,
    mut report: DeployReport,
    started: Instant,
    say: &dyn Fn(&str),
) -> Result<DeployReport> {
    let mut arn = before
        .current_service_deployment
        .clone()
        .unwrap_or_default();
    if arn.is_empty() {
        let list = ecs
            .list_service_deployments(&req.cluster, &req.service, None)
            .await?;
        arn = list
            .iter()
            .find(|d| d.status.is_rolling_out())
            .map(|d| d.arn.clone())
            .unwrap_or_default();
    }
    let flag = if req.watch_only {
        "--watch"
    } else {
        "--continue"
    };
    if arn.is_empty() {
        return Err(Error::BadInput(format!(
            "{flag}: service `{}` has no deployment in progress",
            req.service
        )));
    }
    let dep = ecs.describe_service_deployment(&arn).await?;
    if !dep.status.is_rolling_out() {
        return Err(Error::BadInput(format!(
            "{flag}: the service's current deployment {arn} is {}, not in progress; nothing to {}",
            dep.status,
            if req.watch_only { "watch" } else { "continue" }
        )));
    }
    let hook = dep
        .hooks
        .iter()
        .find(|h| h.status == HookStatus::AwaitingAction)
        .map(|h| h.id.clone());
    if req.watch_only {
        say(&format!(
            "[{}] watching {arn} to its end (nothing is sent to ECS{})",
            req.service,
            if hook.is_some() {
                "; a pause hook is waiting: `ecs-deploy --continue` sends CONTINUE"
            } else {
                ""
            }
        ));
    } else if hook.is_none() {
        say(&format!(
            "[{}] no pause hook is waiting; continuing to wait for the deployment",
            req.service
        ));
    } else {
        ecs.continue_service_deployment(&arn, hook.as_deref(), false)
            .await?;
        say(&format!("[{}] sent CONTINUE to {arn}", req.service));
    }
    let td = match &dep.target_revision {
        Some(rev) => ecs.revision_task_definition(rev).await?,
        None => before.task_definition.clone(),
    };
    let td_json = ecs
        .describe_task_definition_raw(&td)
        .await
        .ok()
        .and_then(|v| v.get("taskDefinition").cloned())
        .unwrap_or(Value::Null);
    report.task_definition_arn = td.clone();
    report.service_deployment_arn = arn.clone();
    if let Some(src) = dep.source_revisions.first()
        && let Ok(prev) = ecs.revision_task_definition(src).await
    {
        report.previous_task_definition_arn = prev;
    }
    let target = WatchTarget {
        cluster: req.cluster.clone(),
        service: req.service.clone(),
        deployment_arn: arn,
        task_definition: td,
        task_definition_json: td_json,
        seen_events: before.events.iter().map(|e| e.id.clone()).collect(),
    };
    let mut watch = req.watch.clone();
    watch.judge.wait_until = WaitUntil::Deployed;
    let outcome = wait::watch(ecs, logs, &target, &watch, say).await?;
    finish(ecs, logs, req, report, outcome, started, say).await
}

/// Sets status, cause and next step from the watch's verdict.
fn apply_verdict(
    req: &DeployRequest,
    report: &mut DeployReport,
    outcome: &Outcome,
    say: &dyn Fn(&str),
) {
    report.timeline.extend(outcome.timeline.iter().cloned());
    report.log_lines = outcome.log_lines.clone();
    report.running = outcome.running;
    report.desired = outcome.desired;
    match &outcome.verdict {
        Verdict::Success if outcome.desired == 0 => {
            // ECS calls it COMPLETED, and it is: but no task ran, so nothing showed that the
            // new revision starts.
            report.status = Status::NoTasks;
            report.next_step = Some(format!(
                "{} is the service's revision, but its desired count is 0: no task ran, so nothing \
                 proved it starts. Scale the service up (`ecs-deploy --desired-count N`) to try it",
                short_td(&report.task_definition_arn)
            ));
        }
        Verdict::Success => report.status = Status::Succeeded,
        Verdict::Reached { stage, hook_id } => {
            report.status = Status::Reached;
            report.stage = Some(stage.to_string());
            report.hook_id = hook_id.clone();
            report.next_step = Some(format!(
                "the deployment is at {stage}; test the new revision through the test listener, then run \
                 `ecs-deploy --continue --cluster {} --service {}` to shift production traffic, or `rollback` to abandon it",
                req.cluster, req.service
            ));
        }
        Verdict::Failed(cause) => {
            report.status = Status::Failed;
            report.cause = Some(cause.clone());
            // The cause goes on screen now, before any rollback wait.
            say(&format!(
                "[{}] ❌ FAILED after {} s",
                req.service,
                outcome.elapsed.as_secs()
            ));
            for line in report.explain().lines() {
                say(&format!("[{}] {line}", req.service));
            }
        }
        Verdict::TimedOut => {
            report.status = Status::TimedOut;
            let state = outcome
                .last
                .as_ref()
                .map(|d| {
                    format!(
                        "{}{}, new revision {} running / {} pending of {}",
                        d.status,
                        d.lifecycle_stage
                            .as_ref()
                            .map(|s| format!(" / {s}"))
                            .unwrap_or_default(),
                        d.target_running,
                        d.target_pending,
                        d.target_requested
                    )
                })
                .unwrap_or_else(|| {
                    format!("{} of {} tasks running", outcome.running, outcome.desired)
                });
            let (cluster, service) = (&req.cluster, &req.service);
            report.next_step = Some(format!(
                "the deployment is still in progress after {} s ({state}) and nothing has failed. {}",
                outcome.elapsed.as_secs(),
                match req.on_timeout {
                    OnFailure::Leave => format!(
                        "It was left running (--on-timeout leave). Watch it to its end with \
                         `ecs-deploy --watch --cluster {cluster} --service {service}`, or go back with \
                         `rollback --cluster {cluster} --service {service}`; if it is this slow by design, \
                         raise --timeout"
                    ),
                    OnFailure::Stop => "It was asked to stop (--on-timeout stop)".to_string(),
                    OnFailure::Rollback =>
                        "It is being rolled back (--on-timeout rollback)".to_string(),
                }
            ));
        }
        Verdict::Unknown(why) => {
            report.status = Status::Unknown;
            let arn = &report.service_deployment_arn;
            let check = if arn.is_empty() {
                format!(
                    "aws ecs describe-services --cluster {} --services {}",
                    req.cluster, req.service
                )
            } else {
                format!("aws ecs describe-service-deployments --service-deployment-arns {arn}")
            };
            report.next_step = Some(format!(
                "the outcome is UNKNOWN: deployer lost contact with ECS ({why}). The deployment of {} \
                 was left as it is and may still succeed or fail on its own; nothing was rolled back. \
                 Check it with `{check}`; if it is not what you want, run `rollback --cluster {} --service {}`",
                short_td(&report.task_definition_arn),
                req.cluster,
                req.service
            ));
            say(&format!(
                "[{}] ❓ {}",
                req.service,
                report.next_step.clone().unwrap_or_default()
            ));
        }
        Verdict::InProgress => {}
    }
}

#[allow(clippy::too_many_arguments)] // two call sites; a struct would only rename the list
async fn finish(
    ecs: &Ecs,
    logs: &Logs,
    req: &DeployRequest,
    mut report: DeployReport,
    outcome: Outcome,
    started: Instant,
    say: &dyn Fn(&str),
) -> Result<DeployReport> {
    apply_verdict(req, &mut report, &outcome, say);
    let last_status = outcome.last.as_ref().map(|d| d.status.clone());
    let superseded = matches!(&report.cause, Some(c) if c.kind == wait::CauseKind::Superseded);
    let action = match report.status {
        Status::Failed if !superseded => Some(req.on_failure),
        Status::TimedOut => Some(req.on_timeout),
        _ => None,
    };
    if let Some(action) = action {
        report.rollback =
            on_failure(ecs, logs, req, action, &report, last_status.as_ref(), say).await;
    }
    report.timeline.push((
        started.elapsed().as_secs(),
        format!("done: {}", report.status.as_str()),
    ));
    report.duration = started.elapsed();
    Ok(report)
}

/// Carries out `action` (the on-failure or on-timeout choice) on the deployment of `report`.
async fn on_failure(
    ecs: &Ecs,
    logs: &Logs,
    req: &DeployRequest,
    action: OnFailure,
    report: &DeployReport,
    last_status: Option<&ServiceDeploymentStatus>,
    say: &dyn Fn(&str),
) -> Option<RollbackReport> {
    let arn = report.service_deployment_arn.as_str();
    let poll = req.watch.poll_interval;
    let timeout = req.watch.judge.timeout.max(Duration::from_secs(600));
    let already_rolling = last_status.is_some_and(ServiceDeploymentStatus::is_rollback);
    let finished = last_status.is_some_and(ServiceDeploymentStatus::is_finished);
    match action {
        OnFailure::Leave if !already_rolling => {
            let flag = if report.status == Status::TimedOut {
                "on-timeout"
            } else {
                "on-failure"
            };
            say(&format!(
                "[{}] {flag}=leave: the deployment is left as it is",
                req.service
            ));
            None
        }
        OnFailure::Stop if !already_rolling => {
            if arn.is_empty() || finished {
                return None;
            }
            let res = ecs.stop_service_deployment(arn, false).await;
            Some(RollbackReport {
                action: "StopServiceDeployment(ABORT)".into(),
                to_task_definition: None,
                final_status: match &res {
                    Ok(()) => ServiceDeploymentStatus::StopRequested.to_string(),
                    Err(e) => format!("stop failed: {e}"),
                },
                ok: res.is_ok(),
            })
        }
        _ => {
            // A rollback ECS finished is waited for too (the wait returns at once).
            let settled = matches!(
                last_status,
                Some(ServiceDeploymentStatus::Stopped | ServiceDeploymentStatus::Successful)
            );
            if !arn.is_empty() && !settled {
                let action = if already_rolling {
                    say(&format!(
                        "[{}] ECS is already rolling back; waiting for it",
                        req.service
                    ));
                    "ECS rollback (circuit breaker / alarms)".to_string()
                } else {
                    say(&format!(
                        "[{}] rolling back: StopServiceDeployment(ROLLBACK) on {arn}",
                        req.service
                    ));
                    if let Err(e) = ecs.stop_service_deployment(arn, true).await {
                        return Some(RollbackReport {
                            action: "StopServiceDeployment(ROLLBACK)".into(),
                            to_task_definition: Some(report.previous_task_definition_arn.clone()),
                            final_status: format!("request failed: {e}"),
                            ok: false,
                        });
                    }
                    "StopServiceDeployment(ROLLBACK)".to_string()
                };
                let end = wait_rollback(ecs, arn, timeout, poll, say, &req.service).await;
                let serving = ecs
                    .describe_service(&req.cluster, &req.service)
                    .await
                    .ok()
                    .map(|s| s.task_definition);
                return Some(match end {
                    Ok(d) => RollbackReport {
                        action,
                        to_task_definition: serving,
                        ok: matches!(
                            d.status,
                            ServiceDeploymentStatus::RollbackSuccessful
                                | ServiceDeploymentStatus::Stopped
                        ),
                        final_status: d.status.to_string(),
                    },
                    Err(e) => RollbackReport {
                        action,
                        to_task_definition: serving,
                        final_status: e.to_string(),
                        ok: false,
                    },
                });
            }
            // No deployment record to roll back: redeploy the revision that was serving.
            // (A deployment someone STOPPED, or one that finished, is not ours to override.)
            if !arn.is_empty() || report.previous_task_definition_arn == report.task_definition_arn
            {
                return None;
            }
            say(&format!(
                "[{}] rolling back: redeploying {}",
                req.service,
                short_td(&report.previous_task_definition_arn)
            ));
            let mut back = req.clone();
            back.source = Source::Existing(report.previous_task_definition_arn.clone());
            back.on_failure = OnFailure::Leave;
            back.on_timeout = OnFailure::Leave;
            back.desired_count = None;
            back.force_new_deployment = false;
            back.watch.judge.wait_until = WaitUntil::Deployed;
            let result = Box::pin(deploy_service(ecs, logs, &back, say)).await;
            Some(match result {
                Ok(r) => RollbackReport {
                    action: format!(
                        "redeploy {}",
                        short_td(&report.previous_task_definition_arn)
                    ),
                    to_task_definition: Some(report.previous_task_definition_arn.clone()),
                    final_status: r.status.as_str().to_string(),
                    ok: r.status.ok(),
                },
                Err(e) => RollbackReport {
                    action: format!(
                        "redeploy {}",
                        short_td(&report.previous_task_definition_arn)
                    ),
                    to_task_definition: Some(report.previous_task_definition_arn.clone()),
                    final_status: e.to_string(),
                    ok: false,
                },
            })
        }
    }
}

/// With several services in one call, each `container=image` pair goes to the services
/// whose task definition has that container. Checked before anything changes: every pair
/// must land somewhere and every service must get at least one image, or nothing is
/// deployed. Bare images (no container) keep their per-service meaning and are left alone.
pub async fn assign_images(ecs: &Ecs, reqs: &mut [DeployRequest]) -> Result<()> {
    let named = |r: &DeployRequest| r.images.iter().any(|s| s.container.is_some());
    if reqs.len() < 2 || !reqs.iter().any(named) {
        return Ok(());
    }
    let mut containers = Vec::with_capacity(reqs.len());
    for req in reqs.iter() {
        let definition = match &req.source {
            Source::File(v) => v.clone(),
            Source::Existing(arn) => ecs.describe_task_definition_raw(arn).await?,
            Source::Live => {
                let service = ecs.describe_service(&req.cluster, &req.service).await?;
                ecs.describe_task_definition_raw(&service.task_definition)
                    .await?
            }
        };
        let inner = definition.get("taskDefinition").unwrap_or(&definition);
        containers.push((req.service.clone(), taskdef::container_names(inner)));
    }
    let specs = reqs.first().map(|r| r.images.clone()).unwrap_or_default();
    let assigned = split_images_by_container(&specs, &containers)?;
    for (req, images) in reqs.iter_mut().zip(assigned) {
        req.images = images;
    }
    Ok(())
}

/// Pure part of [`assign_images`]: `services` lists each service with its containers.
pub fn split_images_by_container(
    specs: &[ImageSpec],
    services: &[(String, Vec<String>)],
) -> Result<Vec<Vec<ImageSpec>>> {
    let mut out = vec![Vec::new(); services.len()];
    for spec in specs {
        let Some(container) = &spec.container else {
            for images in out.iter_mut() {
                images.push(spec.clone());
            }
            continue;
        };
        let mut landed = false;
        for ((_, names), images) in services.iter().zip(out.iter_mut()) {
            if names.contains(container) {
                images.push(spec.clone());
                landed = true;
            }
        }
        if !landed {
            let known: Vec<String> = services
                .iter()
                .map(|(service, names)| format!("{service}: {}", names.join(", ")))
                .collect();
            return Err(Error::BadInput(format!(
                "image `{container}={}` names a container that none of the services has \
                 (containers — {}); nothing was deployed",
                spec.image,
                known.join("; ")
            )));
        }
    }
    if let Some(((service, names), _)) = services.iter().zip(&out).find(|(_, i)| i.is_empty()) {
        return Err(Error::BadInput(format!(
            "no image given for {service} (its containers: {}); add `container=image` for it \
             or deploy it in a separate call; nothing was deployed",
            names.join(", ")
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod provenance_tests {
    use super::*;
    use serde_json::json;

    fn described(tags: Value) -> Value {
        json!({"taskDefinition": {
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:1:task-definition/api:2",
            "family": "api", "revision": 2, "status": "ACTIVE",
            "containerDefinitions": [{"name": "api", "image": "repo/api:v2"}]
        }, "tags": tags})
    }

    fn render_with(current: &Value, tags: &[(&str, &str)]) -> Value {
        let opts = RenderOptions {
            images: taskdef::parse_images("api=repo/api:v2").expect("images"),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        };
        taskdef::render(&without_provenance_tags(current), &opts)
            .expect("render")
            .0
    }

    #[test]
    fn a_new_run_url_alone_registers_nothing_but_a_user_tag_does() {
        let current = described(json!([
            {"key": "deployer:git-sha", "value": "abc"},
            {"key": "deployer:run-url", "value": "https://github.com/o/r/actions/runs/1"},
            {"key": "team", "value": "core"}
        ]));
        let rerun = render_with(
            &current,
            &[
                ("deployer:git-sha", "abc"),
                ("deployer:run-url", "https://github.com/o/r/actions/runs/2"),
            ],
        );
        assert!(taskdef::is_same(&current, &without_provenance_tags(&rerun)));
        let user = render_with(&current, &[("team", "web")]);
        assert!(!taskdef::is_same(&current, &without_provenance_tags(&user)));
    }

    #[test]
    fn provenance_is_not_inherited_from_the_base() {
        let current = described(json!([
            {"key": "deployer:deployed-by", "value": "alice"},
            {"key": "team", "value": "core"}
        ]));
        let rendered = render_with(&current, &[("deployer:git-sha", "def")]);
        assert_eq!(
            rendered["tags"],
            json!([{"key": "team", "value": "core"}, {"key": "deployer:git-sha", "value": "def"}])
        );
    }
}

#[cfg(test)]
mod image_assignment_tests {
    use super::*;

    fn spec(container: &str, image: &str) -> ImageSpec {
        ImageSpec {
            container: Some(container.into()),
            image: image.into(),
        }
    }

    fn services() -> Vec<(String, Vec<String>)> {
        vec![
            (
                "api-staging".into(),
                vec!["api".into(), "log-router".into()],
            ),
            ("web-staging".into(), vec!["web".into()]),
        ]
    }

    #[test]
    fn pairs_go_to_the_services_that_have_the_container() {
        let out =
            split_images_by_container(&[spec("api", "api:v2"), spec("web", "web:v2")], &services())
                .expect("assigned");
        assert_eq!(
            out,
            vec![vec![spec("api", "api:v2")], vec![spec("web", "web:v2")]]
        );
    }

    #[test]
    fn a_pair_no_service_has_is_refused_naming_the_containers() {
        let err =
            split_images_by_container(&[spec("api", "api:v2"), spec("wbe", "web:v2")], &services())
                .expect_err("typo refused");
        let text = err.to_string();
        assert!(text.contains("`wbe=web:v2`"), "{text}");
        assert!(text.contains("web-staging: web"), "{text}");
    }

    #[test]
    fn a_service_without_any_image_is_refused() {
        let err =
            split_images_by_container(&[spec("api", "api:v2")], &services()).expect_err("refused");
        assert!(
            err.to_string().contains("no image given for web-staging"),
            "{err}"
        );
    }
}
