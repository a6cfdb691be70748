//! The wait engine. [`judge`] is pure: it looks at one snapshot (the deployment record,
//! the service, new events, stopped tasks of the new revision) plus what earlier ticks
//! saw, and decides. [`watch`] polls and feeds it.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_ecs::config::{AsyncSleep, Sleep};
use serde_json::Value;

use crate::ecs::{Ecs, ServiceDeploymentInfo, ServiceEvent, ServiceInfo, TaskInfo, short_td};
use crate::error::{Error, Result};
use crate::logs::{Logs, awslogs_target};
use crate::states::{
    HookStatus, LifecycleStage, MonitorStatus, RolloutState, ServiceDeploymentStatus as Sds,
    StopCode, TaskStatus,
};

/// Where a blue/green deployment may stop waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitUntil {
    /// The deployment is SUCCESSFUL and its revision serving.
    #[default]
    Deployed,
    /// Test traffic reaches the new revision (POST_TEST_TRAFFIC_SHIFT or a pause hook there).
    TestTraffic,
    /// A pause hook awaits ContinueServiceDeployment.
    Paused,
}

impl std::str::FromStr for WaitUntil {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "deployed" => Ok(WaitUntil::Deployed),
            "test-traffic" | "test_traffic" => Ok(WaitUntil::TestTraffic),
            "paused" => Ok(WaitUntil::Paused),
            other => Err(format!(
                "`{other}` is not one of deployed, test-traffic, paused"
            )),
        }
    }
}

#[derive(Debug, Clone)]
pub struct JudgeOptions {
    /// Stopped tasks of the new revision (failed to start / essential container exited)
    /// that end the deployment. Default 1.
    pub max_task_failures: u32,
    /// How long "unable to place" may persist without progress. Default 60 s.
    pub unplaceable_grace: Duration,
    pub timeout: Duration,
    pub wait_until: WaitUntil,
    /// Non-essential containers (their exits are ignored).
    pub non_essential: BTreeSet<String>,
}

impl Default for JudgeOptions {
    fn default() -> Self {
        JudgeOptions {
            max_task_failures: 1,
            unplaceable_grace: Duration::from_secs(60),
            timeout: Duration::from_secs(15 * 60),
            wait_until: WaitUntil::Deployed,
            non_essential: BTreeSet::new(),
        }
    }
}

/// One tick's view.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Our service deployment (None when the API gave nothing this tick).
    pub deployment: Option<ServiceDeploymentInfo>,
    /// ARN of our deployment (to detect supersession).
    pub deployment_arn: String,
    /// The task definition this run deploys.
    pub target_task_definition: String,
    pub service_task_definition: String,
    pub primary_task_definition: Option<String>,
    pub primary_rollout_state: Option<RolloutState>,
    pub current_service_deployment: Option<String>,
    pub running: i32,
    pub pending: i32,
    pub desired: i32,
    pub deployments_count: usize,
    /// Events first seen this tick, oldest first.
    pub new_events: Vec<ServiceEvent>,
    /// All stopped tasks of the target revision seen so far. Only those this deployment
    /// started count against it (see [`started_by_deployment`]).
    pub stopped_tasks: Vec<TaskInfo>,
    /// When our deployment was created (ECS's clock): the service deployment's `createdAt`,
    /// else the PRIMARY deployment's when it runs our task definition.
    pub deployment_started_at: Option<f64>,
    /// The record of the service's `currentServiceDeployment` when it is not ours: it
    /// supersedes ours only if it is newer.
    pub other_deployment: Option<ServiceDeploymentInfo>,
}

impl Snapshot {
    /// The view of one read of the service and (when known) of our deployment `arn`,
    /// deploying `task_definition`. Events and stopped tasks are added by the caller.
    pub fn of(
        task_definition: &str,
        arn: &str,
        svc: &ServiceInfo,
        deployment: Option<ServiceDeploymentInfo>,
    ) -> Snapshot {
        let primary_started = svc
            .primary()
            .filter(|p| p.task_definition == task_definition)
            .and_then(|p| p.created_at);
        Snapshot {
            deployment_started_at: deployment
                .as_ref()
                .and_then(|d| d.created_at)
                .or(primary_started),
            other_deployment: None,
            deployment,
            deployment_arn: arn.to_string(),
            target_task_definition: task_definition.to_string(),
            service_task_definition: svc.task_definition.clone(),
            primary_task_definition: svc.primary().map(|p| p.task_definition.clone()),
            primary_rollout_state: svc.primary().and_then(|p| p.rollout_state.clone()),
            current_service_deployment: svc.current_service_deployment.clone(),
            running: svc.running,
            pending: svc.pending,
            desired: svc.desired,
            deployments_count: svc.deployments.len(),
            new_events: Vec::new(),
            stopped_tasks: Vec::new(),
        }
    }
}

/// What earlier ticks saw; updated by [`observe`].
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Seconds since the wait started when "unable to place" was first seen (and not cleared).
    pub unplaceable_since: Option<f64>,
    pub unplaceable_message: Option<String>,
    pub unplaceable_running: i32,
    pub events: Vec<ServiceEvent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CauseKind {
    DeploymentFailed,
    RolledBack,
    CircuitBreaker,
    Stopped,
    TaskFailedToStart,
    ContainerExited,
    HealthCheck,
    Unplaceable,
    Superseded,
}

impl CauseKind {
    pub fn label(self) -> &'static str {
        match self {
            CauseKind::DeploymentFailed => "deployment failed",
            CauseKind::RolledBack => "rolled back by ECS",
            CauseKind::CircuitBreaker => "circuit breaker tripped",
            CauseKind::Stopped => "deployment stopped",
            CauseKind::TaskFailedToStart => "task failed to start",
            CauseKind::ContainerExited => "essential container exited",
            CauseKind::HealthCheck => "task failed health checks",
            CauseKind::Unplaceable => "tasks cannot be placed",
            CauseKind::Superseded => "superseded by another deployment",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    pub kind: CauseKind,
    pub summary: String,
    /// The crashed task whose logs should be shown.
    pub task: Option<Box<TaskInfo>>,
    pub events: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    InProgress,
    Success,
    /// Blue/green: the requested stage is reached (hook id when a pause hook waits).
    Reached {
        stage: LifecycleStage,
        hook_id: Option<String>,
    },
    Failed(Cause),
    TimedOut,
    /// ECS could not be read for too long (endpoint down, timeouts): the deployment may
    /// still succeed or fail on its own. Never a success, never a failure.
    Unknown(String),
}

pub fn is_unplaceable(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("unable to place") || m.contains("was unable to place")
}

/// Whether `task` is one this deployment started. ECS keeps stopped tasks listable for
/// about an hour and `ListTasks desiredStatus=STOPPED` has no time filter, so a task of the
/// same revision that crashed before this deployment (a forced redeploy over an old OOM
/// kill, a rollback to a revision that once had a task die) is not evidence against it: a
/// task created before the deployment was is not one of its tasks. Without a creation
/// time (an API that does not send it), a task that stopped before the deployment began is
/// not either; with neither known, it counts (the stricter reading).
pub fn started_by_deployment(task: &TaskInfo, deployment_started_at: Option<f64>) -> bool {
    let Some(since) = deployment_started_at else {
        return true;
    };
    match (task.created_at, task.stopped_at) {
        (Some(created), _) => created >= since,
        (None, Some(stopped)) => stopped >= since,
        (None, None) => true,
    }
}

/// Why a stopped task of the new revision counts as a failure (None: it does not).
pub fn task_failure(
    task: &TaskInfo,
    non_essential: &BTreeSet<String>,
) -> Option<(CauseKind, String)> {
    let reason = task.stopped_reason.clone().unwrap_or_default();
    let code = task.stop_code.as_ref();
    if code == Some(&StopCode::TaskFailedToStart) {
        let detail = task
            .containers
            .iter()
            .filter_map(|c| c.reason.as_deref())
            .next()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        return Some((
            CauseKind::TaskFailedToStart,
            format!("task {} failed to start: {reason}{detail}", task.id()),
        ));
    }
    let lower = reason.to_ascii_lowercase();
    if lower.contains("health check") {
        return Some((
            CauseKind::HealthCheck,
            format!("task {} stopped: {reason}", task.id()),
        ));
    }
    if code == Some(&StopCode::EssentialContainerExited) || lower.contains("essential container") {
        let exited: Vec<String> = task
            .containers
            .iter()
            .filter(|c| !non_essential.contains(&c.name))
            .filter(|c| {
                c.exit_code.is_some_and(|x| x != 0) || c.exit_code.is_none() && c.reason.is_some()
            })
            .map(|c| match c.exit_code {
                Some(x) => format!("container `{}` exited with code {x}", c.name),
                None => format!(
                    "container `{}`: {}",
                    c.name,
                    c.reason.clone().unwrap_or_default()
                ),
            })
            .collect();
        let what = if exited.is_empty() {
            "an essential container exited".to_string()
        } else {
            exited.join(", ")
        };
        return Some((
            CauseKind::ContainerExited,
            format!("task {} stopped: {what} ({reason})", task.id()),
        ));
    }
    None
}

/// Updates `history` with the snapshot (events, unplaceable tracking). `elapsed` = seconds since start.
pub fn observe(history: &mut History, snap: &Snapshot, elapsed: f64) {
    let running = snap
        .deployment
        .as_ref()
        .map(|d| d.target_running)
        .unwrap_or(snap.running);
    for e in &snap.new_events {
        if is_unplaceable(&e.message) {
            if history.unplaceable_since.is_none() {
                history.unplaceable_since = Some(elapsed);
                history.unplaceable_running = running;
            }
            history.unplaceable_message = Some(e.message.clone());
        }
        history.events.push(e.clone());
    }
    // Progress clears the suspicion: a task of the new revision got placed and runs.
    if history.unplaceable_since.is_some() && running > history.unplaceable_running {
        history.unplaceable_since = None;
        history.unplaceable_message = None;
    }
}

fn recent_events(history: &History, n: usize) -> Vec<String> {
    history
        .events
        .iter()
        .rev()
        .take(n)
        .rev()
        .map(|e| e.message.clone())
        .collect()
}

fn failed(kind: CauseKind, summary: String, history: &History) -> Verdict {
    Verdict::Failed(Cause {
        kind,
        summary,
        task: None,
        events: recent_events(history, 5),
    })
}

/// The verdict. Pure: same inputs, same answer.
pub fn judge(snap: &Snapshot, history: &History, elapsed: f64, opts: &JudgeOptions) -> Verdict {
    let target = snap.target_task_definition.as_str();
    if let Some(d) = &snap.deployment
        && let Some(verdict) = judge_deployment(d, snap, history, opts)
    {
        return verdict;
    }
    if snap.deployment.is_none() && snap.deployment_arn.is_empty() {
        // No service-deployments API: fall back to the service's own deployments.
        if snap
            .primary_task_definition
            .as_deref()
            .is_some_and(|p| p != target)
        {
            return failed(
                CauseKind::Superseded,
                format!(
                    "the service's primary deployment runs {}, not {}",
                    short_td(snap.primary_task_definition.as_deref().unwrap_or("")),
                    short_td(target)
                ),
                history,
            );
        }
        match snap.primary_rollout_state {
            Some(RolloutState::Completed)
                if snap.deployments_count == 1 && snap.running == snap.desired =>
            {
                return Verdict::Success;
            }
            Some(RolloutState::Failed) => {
                return failed(
                    CauseKind::DeploymentFailed,
                    "the deployment's rollout FAILED".into(),
                    history,
                );
            }
            _ => {}
        }
    }
    // Another deployment took over: decided from its own record, only when it is newer
    // than ours (one read of `currentServiceDeployment` can lag behind).
    if let Some(current) = newer_other_deployment(snap) {
        return failed(
            CauseKind::Superseded,
            format!(
                "another deployment ({current}) replaced this one; the service now targets {}",
                short_td(&snap.service_task_definition)
            ),
            history,
        );
    }
    // Tasks of the new revision that failed.
    let failures: Vec<(&TaskInfo, CauseKind, String)> = snap
        .stopped_tasks
        .iter()
        .filter(|t| started_by_deployment(t, snap.deployment_started_at))
        .filter_map(|t| task_failure(t, &opts.non_essential).map(|(k, s)| (t, k, s)))
        .collect();
    if failures.len() as u32 >= opts.max_task_failures.max(1)
        && let Some((task, kind, summary)) = failures.last()
    {
        let total = failures.len();
        let summary = if total > 1 {
            format!("{summary} ({total} tasks of the new revision failed)")
        } else {
            summary.clone()
        };
        return Verdict::Failed(Cause {
            kind: *kind,
            summary,
            task: Some(Box::new((*task).clone())),
            events: recent_events(history, 5),
        });
    }
    if let Some(since) = history.unplaceable_since
        && elapsed - since >= opts.unplaceable_grace.as_secs_f64()
    {
        return failed(
            CauseKind::Unplaceable,
            format!(
                "ECS has been unable to place tasks for {:.0} s: {}",
                elapsed - since,
                history.unplaceable_message.clone().unwrap_or_default()
            ),
            history,
        );
    }
    if let Some(d) = &snap.deployment
        && let Some(reached) = reached(d, opts.wait_until)
    {
        return reached;
    }
    if elapsed >= opts.timeout.as_secs_f64() {
        return Verdict::TimedOut;
    }
    Verdict::InProgress
}

/// The service's current deployment when it is another one, newer than ours by the
/// creation times of both records (ECS's clock). Without both records, nothing is decided
/// here: a deployment really replaced ends STOPPED, which its own record says.
fn newer_other_deployment(snap: &Snapshot) -> Option<&str> {
    let current = snap.current_service_deployment.as_deref()?;
    if snap.deployment_arn.is_empty() || current == snap.deployment_arn {
        return None;
    }
    let other = snap
        .other_deployment
        .as_ref()
        .filter(|o| o.arn == current)?;
    let ours = snap.deployment.as_ref()?.created_at?;
    (other.created_at? > ours).then_some(current)
}

/// What the deployment record alone says, when it says something final: SUCCESSFUL (and
/// serving), ECS rolling back, stopped, or the circuit breaker tripped.
fn judge_deployment(
    d: &ServiceDeploymentInfo,
    snap: &Snapshot,
    history: &History,
    opts: &JudgeOptions,
) -> Option<Verdict> {
    let target = snap.target_task_definition.as_str();
    let reason = d.status_reason.clone().unwrap_or_default();
    let status = &d.status;
    let breaker = d.breaker_status == Some(MonitorStatus::Triggered);
    let alarms = d.alarms_status == Some(MonitorStatus::Triggered);
    match status {
        Sds::Successful => {
            let serving = snap.service_task_definition == target
                && snap
                    .primary_task_definition
                    .as_deref()
                    .is_none_or(|p| p == target);
            Some(if serving {
                Verdict::Success
            } else {
                failed(
                    CauseKind::Superseded,
                    format!(
                        "deployment {} finished SUCCESSFUL but the service now runs {}, not {}",
                        d.arn,
                        short_td(&snap.service_task_definition),
                        short_td(target)
                    ),
                    history,
                )
            })
        }
        s if s.is_rollback() => {
            let why = if breaker {
                format!(
                    "the circuit breaker tripped ({} failed tasks, threshold {})",
                    d.breaker_failures, d.breaker_threshold
                )
            } else if alarms {
                "a deployment alarm went into ALARM".to_string()
            } else {
                d.rollback_reason.clone().unwrap_or_else(|| reason.clone())
            };
            let kind = if breaker {
                CauseKind::CircuitBreaker
            } else {
                CauseKind::RolledBack
            };
            let mut v = failed(
                kind,
                format!("ECS is rolling back ({status}): {why}"),
                history,
            );
            attach_task(&mut v, snap, opts);
            Some(v)
        }
        Sds::Stopped | Sds::StopRequested if breaker => {
            // ECS stopped it because the circuit breaker tripped (rollback off): the cause is
            // the breaker and the tasks that tripped it, not "stopped".
            let mut v = failed(
                CauseKind::CircuitBreaker,
                format!(
                    "the circuit breaker tripped ({} failed tasks, threshold {}) and ECS stopped the deployment ({status}{}); the circuit breaker's rollback is off, so nothing was rolled back by ECS",
                    d.breaker_failures,
                    d.breaker_threshold,
                    if reason.is_empty() {
                        String::new()
                    } else {
                        format!(": {reason}")
                    }
                ),
                history,
            );
            attach_task(&mut v, snap, opts);
            Some(v)
        }
        Sds::Stopped | Sds::StopRequested => {
            let other = newer_other_deployment(snap);
            if other.is_some()
                || reason.to_ascii_lowercase().contains("supersed")
                || snap.service_task_definition != target
            {
                return Some(failed(
                    CauseKind::Superseded,
                    format!(
                        "another deployment{} replaced this one ({status}: {reason}); the service now targets {}",
                        other.map(|o| format!(" ({o})")).unwrap_or_default(),
                        short_td(&snap.service_task_definition)
                    ),
                    history,
                ));
            }
            Some(failed(
                CauseKind::Stopped,
                format!("the deployment was stopped ({status}): {reason}"),
                history,
            ))
        }
        _ if breaker => {
            let mut v = failed(
                CauseKind::CircuitBreaker,
                format!(
                    "the circuit breaker tripped ({} failed tasks, threshold {})",
                    d.breaker_failures, d.breaker_threshold
                ),
                history,
            );
            attach_task(&mut v, snap, opts);
            Some(v)
        }
        _ => None,
    }
}

/// Blue/green: whether the stage `wait_until` asks for is reached.
fn reached(d: &ServiceDeploymentInfo, wait_until: WaitUntil) -> Option<Verdict> {
    let awaiting = d
        .hooks
        .iter()
        .find(|h| h.status == HookStatus::AwaitingAction);
    let stage = d
        .lifecycle_stage
        .clone()
        .unwrap_or_else(|| LifecycleStage::Unknown(String::new()));
    let at = |hook: Option<&crate::ecs::Hook>| Verdict::Reached {
        stage: stage.clone(),
        hook_id: hook.map(|h| h.id.clone()),
    };
    match wait_until {
        WaitUntil::Deployed => None,
        WaitUntil::Paused => awaiting.map(|h| at(Some(h))),
        WaitUntil::TestTraffic => (stage.test_traffic_reached()
            || (stage == LifecycleStage::TestTrafficShift && awaiting.is_some()))
        .then(|| at(awaiting)),
    }
}

/// Adds the crashed task behind an ECS-level failure: the root cause, not just the mechanism.
fn attach_task(v: &mut Verdict, snap: &Snapshot, opts: &JudgeOptions) {
    if let Verdict::Failed(cause) = v
        && cause.task.is_none()
    {
        let found = snap
            .stopped_tasks
            .iter()
            .rev()
            .filter(|t| started_by_deployment(t, snap.deployment_started_at))
            .find_map(|t| task_failure(t, &opts.non_essential).map(|(_, why)| (t.clone(), why)));
        if let Some((task, why)) = found {
            cause.summary = format!("{}; {why}", cause.summary);
            cause.task = Some(Box::new(task));
        }
    }
}

/// What [`watch`] needs to know about the deployment.
#[derive(Debug, Clone)]
pub struct WatchTarget {
    pub cluster: String,
    pub service: String,
    /// Empty when the service-deployments API gave no ARN.
    pub deployment_arn: String,
    pub task_definition: String,
    /// The registered definition (for awslogs settings and essential flags).
    pub task_definition_json: Value,
    /// Event ids already seen before this deployment started.
    pub seen_events: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub judge: JudgeOptions,
    pub poll_interval: Duration,
    /// How often a progress line is printed at the least.
    pub progress_every: Duration,
    pub log_lines: usize,
    /// How long after the last successful read of the deployment state the verdict is
    /// "unknown" if ECS has not answered since (connection refused, calls that hang, 5xx,
    /// throttling). Default 5 min. The bound holds whatever the SDK's per-attempt timeout
    /// and retries are: each tick is cut off when the time left runs out.
    pub max_unreachable: Duration,
    /// Time as the wait sees it: real in production; tests run it in step with ecs-sim's
    /// clock so that the defaults above are what they exercise, only faster.
    pub clock: Clock,
    /// `judge.timeout` is a placeholder: the deploy computes the timeout from the service's
    /// own configuration ([`crate::budget`]) once it has read it.
    pub auto_timeout: bool,
}

/// The wait's clock: real time, or real time run `scale` times faster (tests only: a
/// simulator at time scale 10 and a wait on `Clock::scaled(10.0)` agree on what 300 s is).
/// It is also an [`AsyncSleep`] so that a test can put the SDK's own timeouts and retry
/// back-off on the same clock (`SdkConfig::builder().sleep_impl(clock)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clock {
    scale: f64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::real()
    }
}

impl Clock {
    pub fn real() -> Clock {
        Clock { scale: 1.0 }
    }

    /// `scale` clock seconds per real second; anything but a finite positive number is 1.
    pub fn scaled(scale: f64) -> Clock {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        Clock { scale }
    }

    /// Clock time since `origin`.
    pub fn since(&self, origin: Instant) -> Duration {
        origin.elapsed().mul_f64(self.scale)
    }

    /// The real time that `d` of clock time takes.
    fn real_time(&self, d: Duration) -> Duration {
        d.div_f64(self.scale)
    }

    pub async fn sleep(&self, d: Duration) {
        tokio::time::sleep(self.real_time(d)).await;
    }

    /// `f`, or `Err` once `d` of clock time has passed without it finishing.
    pub async fn timeout<F: std::future::Future>(
        &self,
        d: Duration,
        f: F,
    ) -> std::result::Result<F::Output, tokio::time::error::Elapsed> {
        tokio::time::timeout(self.real_time(d), f).await
    }
}

impl AsyncSleep for Clock {
    fn sleep(&self, d: Duration) -> Sleep {
        Sleep::new(tokio::time::sleep(self.real_time(d)))
    }
}

/// When ECS last answered a whole tick, and what went wrong since: the clock of the
/// "unknown" verdict. Times are clock time since the wait started.
#[derive(Debug, Default)]
struct Contact {
    last_answer: Duration,
    /// When the first failed tick since the last answer ended (None: in contact).
    lost_at: Option<Duration>,
    last_error: Option<String>,
}

impl Contact {
    /// How long the next tick may take before `bound` without an answer is reached.
    fn left(&self, now: Duration, bound: Duration) -> Duration {
        bound.saturating_sub(self.silent_for(now))
    }

    /// Whether a tick failed since ECS last answered.
    fn lost(&self) -> bool {
        self.lost_at.is_some()
    }

    fn silent_for(&self, now: Duration) -> Duration {
        now.saturating_sub(self.last_answer)
    }

    /// ECS answered at `now`; returns for how long it had not, if a tick had failed since.
    fn answered(&mut self, now: Duration) -> Option<Duration> {
        let silent = self.silent_for(now);
        self.last_answer = now;
        self.last_error = None;
        self.lost_at.take().map(|_| silent)
    }

    fn failed(&mut self, now: Duration, error: String) {
        self.lost_at.get_or_insert(now);
        self.last_error = Some(error);
    }

    /// A tick was cut off at the bound (or the timeout) while a call still waited.
    fn unanswered(&mut self, now: Duration) {
        let cut = "a call still unanswered when the wait gave up on it";
        let error = match self.last_error.take() {
            Some(e) => format!("{e}; then {cut}"),
            None => cut.to_string(),
        };
        self.failed(now, error);
    }

    /// Why the verdict is unknown, with the real length of the silence.
    fn why_unknown(&self, now: Duration) -> String {
        format!(
            "no answer from ECS for {} s (last error: {})",
            self.silent_for(now).as_secs(),
            self.last_error.as_deref().unwrap_or("none")
        )
    }
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            judge: JudgeOptions::default(),
            poll_interval: Duration::from_secs(5),
            progress_every: Duration::from_secs(15),
            log_lines: 20,
            max_unreachable: Duration::from_secs(300),
            clock: Clock::real(),
            auto_timeout: false,
        }
    }
}

/// The end of a watch.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub verdict: Verdict,
    pub elapsed: Duration,
    pub last: Option<ServiceDeploymentInfo>,
    pub running: i32,
    pub desired: i32,
    /// Timeline lines (seconds since start, text).
    pub timeline: Vec<(u64, String)>,
    /// Last log lines of the crashed task, when there was one.
    pub log_lines: Vec<String>,
}

fn jittered(d: Duration) -> Duration {
    let f: f64 = rand::random_range(0.9..=1.1);
    d.mul_f64(f)
}

pub fn non_essential(td: &Value) -> BTreeSet<String> {
    let inner = td.get("taskDefinition").unwrap_or(td);
    inner
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter(|c| c.get("essential").and_then(Value::as_bool) == Some(false))
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub fn progress_line(
    service: &str,
    svc: Option<&ServiceInfo>,
    d: Option<&ServiceDeploymentInfo>,
) -> String {
    let mut line = format!("[{service}]");
    if let Some(d) = d {
        line.push_str(&format!(" {}", d.status));
        if let Some(stage) = &d.lifecycle_stage {
            line.push_str(&format!(" / {stage}"));
        }
        line.push_str(&format!(
            " · new revision {} running, {} pending of {}",
            d.target_running, d.target_pending, d.target_requested
        ));
        if d.breaker_failures > 0 {
            line.push_str(&format!(
                " · breaker {}/{}",
                d.breaker_failures, d.breaker_threshold
            ));
        }
    }
    if let Some(s) = svc {
        line.push_str(&format!(
            " · service {} running, {} pending, {} desired",
            s.running, s.pending, s.desired
        ));
        if d.is_none()
            && let Some(p) = s.primary()
        {
            line.push_str(&format!(
                " · rollout {}",
                p.rollout_state.as_ref().map_or("", |r| r.as_str())
            ));
        }
    }
    line
}

/// What ECS already tells us, without listing tasks, about tasks of the new revision
/// stopping: the failed-task and circuit-breaker counts, how many run, and new events.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StopSignals {
    pub failed_tasks: i32,
    pub breaker_failures: i32,
    pub running: i32,
    pub new_events: usize,
}

impl StopSignals {
    fn read(
        svc: &ServiceInfo,
        dep: Option<&ServiceDeploymentInfo>,
        task_definition: &str,
        seen_events: &BTreeSet<String>,
    ) -> Self {
        let ours = svc
            .deployments
            .iter()
            .filter(|d| d.task_definition == task_definition);
        StopSignals {
            failed_tasks: ours.clone().map(|d| d.failed_tasks).sum(),
            breaker_failures: dep.map_or(0, |d| d.breaker_failures),
            running: ours.map(|d| d.running).sum(),
            new_events: svc
                .events
                .iter()
                .filter(|e| !seen_events.contains(&e.id))
                .count(),
        }
    }
}

/// A full listing at least this often, whatever the signals say (tasks that crash after
/// reaching RUNNING are not always counted as failed by ECS).
pub const LIST_STOPPED_AT_LEAST_EVERY: u32 = 4;

/// Whether this tick lists the service's stopped tasks. Listing on every tick would be a
/// third of the API calls of a wait; a stop almost always shows first in what each tick
/// reads anyway — a failed-task or breaker count going up, fewer tasks of the new revision
/// running, a new service event (ECS starts a replacement) — and the periodic listing
/// catches the rest within [`LIST_STOPPED_AT_LEAST_EVERY`] ticks.
pub fn should_list_stopped(
    previous_tick: Option<&StopSignals>,
    now: &StopSignals,
    ticks_since_listing: u32,
) -> bool {
    let Some(before) = previous_tick else {
        return true;
    };
    now.new_events > 0
        || now.failed_tasks > before.failed_tasks
        || now.breaker_failures > before.breaker_failures
        || now.running < before.running
        || ticks_since_listing + 1 >= LIST_STOPPED_AT_LEAST_EVERY
}

/// Polls until a verdict other than InProgress. `say` prints one human line.
pub async fn watch(
    ecs: &Ecs,
    logs: &Logs,
    target: &WatchTarget,
    opts: &WatchOptions,
    say: &dyn Fn(&str),
) -> Result<Outcome> {
    let started = Instant::now();
    let mut history = History::default();
    let mut seen = target.seen_events.clone();
    let mut stopped: Vec<TaskInfo> = Vec::new();
    let mut settled: BTreeSet<String> = BTreeSet::new();
    let mut interval = opts.poll_interval;
    let mut last_progress: Option<Duration> = None;
    let mut last_line = String::new();
    let mut timeline: Vec<(u64, String)> = Vec::new();
    let mut last_status = String::new();
    let mut consecutive_errors = 0u32;
    let clock = opts.clock;
    let mut contact = Contact::default();
    let mut judge_opts = opts.judge.clone();
    judge_opts
        .non_essential
        .extend(non_essential(&target.task_definition_json));
    let mut last_dep: Option<ServiceDeploymentInfo> = None;
    let (mut running, mut desired) = (0, 0);
    // The signals of the previous tick; None = list on the next tick whatever they say.
    let mut previous: Option<StopSignals> = None;
    let mut ticks_since_listing = 0u32;
    // Records of other deployments the service named as current (their creation time
    // decides whether they supersede ours; it never changes, so each is read once).
    let mut others: Vec<ServiceDeploymentInfo> = Vec::new();
    loop {
        let elapsed = clock.since(started);
        // The tick may use only what is left of the bound: a call that hangs, or the SDK
        // retrying for its whole operation timeout, cannot overrun it. Nor the timeout,
        // except by one poll interval: the look that can say "timed out".
        let bound_left = contact.left(elapsed, opts.max_unreachable);
        let timeout_left = opts.judge.timeout.saturating_sub(elapsed);
        if bound_left.is_zero() || timeout_left.is_zero() && contact.lost() {
            return Ok(unknown(
                contact.why_unknown(elapsed),
                elapsed,
                last_dep,
                (running, desired),
                timeline,
            ));
        }
        let left = bound_left.min(timeout_left.max(opts.poll_interval));
        let tick = async {
            let svc = ecs
                .describe_service(&target.cluster, &target.service)
                .await?;
            let dep = if target.deployment_arn.is_empty() {
                None
            } else {
                Some(
                    ecs.describe_service_deployment(&target.deployment_arn)
                        .await?,
                )
            };
            let other =
                read_other_deployment(ecs, &svc, &target.deployment_arn, &mut others).await?;
            let signals = StopSignals::read(&svc, dep.as_ref(), &target.task_definition, &seen);
            if !should_list_stopped(previous.as_ref(), &signals, ticks_since_listing) {
                return Ok::<_, Error>((svc, dep, other, signals, None));
            }
            // Describe only stopped tasks not yet seen in their final state.
            let arns = ecs
                .stopped_task_arns(&target.cluster, &target.service)
                .await?;
            let fresh: Vec<String> = arns.into_iter().filter(|a| !settled.contains(a)).collect();
            let tasks = if fresh.is_empty() {
                vec![]
            } else {
                ecs.describe_tasks(&target.cluster, &fresh).await?
            };
            Ok((svc, dep, other, signals, Some(tasks)))
        };
        let Ok(tick) = clock.timeout(left, tick).await else {
            contact.unanswered(clock.since(started));
            continue; // the next turn says unknown
        };
        let (svc, dep, other, signals, listing) = match tick {
            Ok(v) => {
                consecutive_errors = 0;
                let now = clock.since(started);
                if let Some(silent) = contact.answered(now) {
                    say(&format!(
                        "[{}] ECS answers again after {} s",
                        target.service,
                        silent.as_secs()
                    ));
                    timeline.push((now.as_secs(), "ECS reachable again".into()));
                }
                interval = opts.poll_interval;
                v
            }
            Err(e) => {
                consecutive_errors += 1;
                let now = clock.since(started);
                contact.failed(now, e.to_string());
                if e.is_throttle() {
                    interval = (interval * 2).min(Duration::from_secs(60));
                    say(&format!(
                        "[{}] AWS is throttling us; polling every {} s for now",
                        target.service,
                        interval.as_secs()
                    ));
                } else {
                    say(&format!(
                        "[{}] could not read the deployment state (will retry): {e}",
                        target.service
                    ));
                }
                // A request ECS keeps refusing (access denied, service deleted) is an error;
                // an ECS we cannot reach is not a verdict on the deployment.
                if consecutive_errors >= 10 && !e.is_transient() {
                    return Err(e);
                }
                if contact.left(now, opts.max_unreachable).is_zero() || now >= opts.judge.timeout {
                    let why = contact.why_unknown(now);
                    return Ok(unknown(why, now, last_dep, (running, desired), timeline));
                }
                // Never sleep past the bound: the last look is at the bound, not after it.
                let pause = jittered(interval).min(contact.left(now, opts.max_unreachable));
                clock.sleep(pause).await;
                continue;
            }
        };
        let mut new_events: Vec<ServiceEvent> = svc
            .events
            .iter()
            .filter(|e| !seen.contains(&e.id))
            .cloned()
            .collect();
        // ECS lists events newest first; events sharing a timestamp keep that order through
        // the stable sort, so reverse first to print them in the order they happened.
        new_events.reverse();
        new_events.sort_by(|a, b| a.at.partial_cmp(&b.at).unwrap_or(std::cmp::Ordering::Equal));
        for e in &new_events {
            seen.insert(e.id.clone());
            say(&format!("[{}] event: {}", target.service, e.message));
            timeline.push((elapsed.as_secs(), format!("event: {}", e.message)));
        }
        let tasks = match listing {
            Some(tasks) => {
                // A task still stopping is looked at again on the next tick.
                let still_stopping = tasks.iter().any(|t| t.last_status != TaskStatus::Stopped);
                previous = (!still_stopping).then_some(signals);
                ticks_since_listing = 0;
                tasks
            }
            None => {
                previous = Some(signals);
                ticks_since_listing += 1;
                vec![]
            }
        };
        let since = Snapshot::of(
            &target.task_definition,
            &target.deployment_arn,
            &svc,
            dep.clone(),
        )
        .deployment_started_at;
        for t in tasks {
            if t.last_status != TaskStatus::Stopped {
                continue; // still stopping: its stop code and exit codes are not final yet
            }
            settled.insert(t.arn.clone());
            if t.task_definition != target.task_definition || !started_by_deployment(&t, since) {
                continue; // another revision's, or from before this deployment
            }
            if !stopped.iter().any(|s| s.arn == t.arn) {
                if let Some((_, why)) = task_failure(&t, &judge_opts.non_essential) {
                    say(&format!("[{}] {why}", target.service));
                    timeline.push((elapsed.as_secs(), why));
                }
                stopped.push(t);
            }
        }
        if let Some(d) = &dep {
            let status = format!(
                "{}{}",
                d.status,
                d.lifecycle_stage
                    .as_ref()
                    .map(|s| format!(" / {s}"))
                    .unwrap_or_default()
            );
            if status != last_status {
                timeline.push((elapsed.as_secs(), format!("deployment {status}")));
                last_status = status;
            }
        }
        running = svc.running;
        desired = svc.desired;
        let snap = Snapshot {
            new_events,
            stopped_tasks: stopped.clone(),
            other_deployment: other,
            ..Snapshot::of(
                &target.task_definition,
                &target.deployment_arn,
                &svc,
                dep.clone(),
            )
        };
        observe(&mut history, &snap, elapsed.as_secs_f64());
        let verdict = judge(&snap, &history, elapsed.as_secs_f64(), &judge_opts);
        let line = progress_line(&target.service, Some(&svc), dep.as_ref());
        let due = last_progress.is_none_or(|t| elapsed.saturating_sub(t) >= opts.progress_every);
        if verdict == Verdict::InProgress && (due || line != last_line) {
            say(&format!("{line} · {} s", elapsed.as_secs()));
            last_progress = Some(elapsed);
            last_line = line;
        }
        last_dep = dep;
        if verdict != Verdict::InProgress {
            let mut log_lines = Vec::new();
            if let Verdict::Failed(Cause {
                task: Some(task), ..
            }) = &verdict
            {
                log_lines =
                    crash_logs(logs, &target.task_definition_json, task, opts.log_lines).await;
            }
            timeline.push((elapsed.as_secs(), verdict_label(&verdict)));
            return Ok(Outcome {
                verdict,
                elapsed,
                last: last_dep,
                running,
                desired,
                timeline,
                log_lines,
            });
        }
        clock.sleep(jittered(interval)).await;
    }
}

/// The record of the service's current deployment when it is not `ours` (read once per
/// ARN and kept in `cache`); None when it is ours or unnamed.
async fn read_other_deployment(
    ecs: &Ecs,
    svc: &ServiceInfo,
    ours: &str,
    cache: &mut Vec<ServiceDeploymentInfo>,
) -> Result<Option<ServiceDeploymentInfo>> {
    let Some(current) = svc.current_service_deployment.as_deref() else {
        return Ok(None);
    };
    if ours.is_empty() || current == ours {
        return Ok(None);
    }
    if let Some(known) = cache.iter().find(|d| d.arn == current) {
        return Ok(Some(known.clone()));
    }
    let record = ecs.describe_service_deployment(current).await?;
    cache.push(record.clone());
    Ok(Some(record))
}

/// The "unknown" end of a watch: ECS did not answer for too long (or past the timeout).
fn unknown(
    why: String,
    elapsed: Duration,
    last: Option<ServiceDeploymentInfo>,
    (running, desired): (i32, i32),
    mut timeline: Vec<(u64, String)>,
) -> Outcome {
    timeline.push((elapsed.as_secs(), format!("UNKNOWN: {why}")));
    Outcome {
        verdict: Verdict::Unknown(why),
        elapsed,
        last,
        running,
        desired,
        timeline,
        log_lines: vec![],
    }
}

pub fn verdict_label(v: &Verdict) -> String {
    match v {
        Verdict::InProgress => "in progress".into(),
        Verdict::Success => "SUCCESS".into(),
        Verdict::Reached { stage, .. } => format!("reached {stage}"),
        Verdict::Failed(c) => format!("FAILED: {}", c.kind.label()),
        Verdict::TimedOut => "TIMED OUT".into(),
        Verdict::Unknown(_) => "UNKNOWN: lost contact with ECS".into(),
    }
}

/// The last lines each failed container of `task` wrote (awslogs only).
pub async fn crash_logs(logs: &Logs, td: &Value, task: &TaskInfo, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let candidates: Vec<&str> = {
        let failed: Vec<&str> = task
            .containers
            .iter()
            .filter(|c| c.exit_code.is_some_and(|x| x != 0))
            .map(|c| c.name.as_str())
            .collect();
        if failed.is_empty() {
            task.containers.iter().map(|c| c.name.as_str()).collect()
        } else {
            failed
        }
    };
    for name in candidates {
        let Some(target) = awslogs_target(td, name, task.id()) else {
            continue;
        };
        match logs.tail(&target, n).await {
            Ok(lines) if !lines.is_empty() => {
                out.push(format!(
                    "--- last {} log lines of container {name} (log group {}, stream {}) ---",
                    lines.len(),
                    target.group,
                    target.stream
                ));
                out.extend(lines);
            }
            Ok(_) => {}
            Err(e) => out.push(format!("(could not read the logs of {name}: {e})")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn stopped_tasks_are_listed_when_a_signal_moves_or_every_few_ticks() {
        let quiet = StopSignals {
            failed_tasks: 0,
            breaker_failures: 0,
            running: 2,
            new_events: 0,
        };
        assert!(should_list_stopped(None, &quiet, 0), "the first tick lists");
        assert!(!should_list_stopped(Some(&quiet), &quiet, 0));
        assert!(!should_list_stopped(Some(&quiet), &quiet, 1));
        assert!(
            should_list_stopped(Some(&quiet), &quiet, LIST_STOPPED_AT_LEAST_EVERY - 1),
            "the periodic listing"
        );
        for moved in [
            StopSignals {
                new_events: 1,
                ..quiet.clone()
            },
            StopSignals {
                failed_tasks: 1,
                ..quiet.clone()
            },
            StopSignals {
                breaker_failures: 1,
                ..quiet.clone()
            },
            StopSignals {
                running: 1,
                ..quiet.clone()
            },
        ] {
            assert!(should_list_stopped(Some(&quiet), &moved, 0), "{moved:?}");
        }
        let more_running = StopSignals {
            running: 3,
            ..quiet.clone()
        };
        assert!(!should_list_stopped(Some(&quiet), &more_running, 0));
    }

    use super::*;
    use crate::ecs::{ContainerState, Hook};

    #[test]
    fn the_unknown_bound_counts_from_the_last_answer_and_reports_the_real_silence() {
        let s = Duration::from_secs;
        let bound = s(300);
        let mut c = Contact::default();
        assert_eq!(c.left(s(5), bound), s(295), "from the start of the wait");
        assert_eq!(c.answered(s(10)), None, "no outage to report");
        c.failed(s(135), "dispatch failure".into());
        assert!(c.lost());
        assert_eq!(
            c.left(s(250), bound),
            s(60),
            "from the last answer, not the first error"
        );
        assert_eq!(c.left(s(400), bound), Duration::ZERO);
        assert_eq!(
            c.why_unknown(s(310)),
            "no answer from ECS for 300 s (last error: dispatch failure)"
        );
        assert_eq!(c.answered(s(200)), Some(s(190)), "silent since 10 s");
        assert!(!c.lost());
        assert_eq!(c.left(s(200), bound), bound);
    }

    #[test]
    fn a_scaled_clock_runs_faster_and_bad_scales_are_real_time() {
        let fast = Clock::scaled(10.0);
        assert_eq!(
            fast.real_time(Duration::from_secs(300)),
            Duration::from_secs(30)
        );
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(Clock::scaled(bad), Clock::real(), "{bad}");
        }
    }

    const TD: &str = "arn:aws:ecs:us-east-1:1:task-definition/api:8";
    const OLD: &str = "arn:aws:ecs:us-east-1:1:task-definition/api:7";
    const ARN: &str = "arn:aws:ecs:us-east-1:1:service-deployment/c/api/abc";

    fn dep(status: &str) -> ServiceDeploymentInfo {
        ServiceDeploymentInfo {
            arn: ARN.into(),
            status: status.into(),
            target_requested: 2,
            ..Default::default()
        }
    }

    fn snap(d: Option<ServiceDeploymentInfo>) -> Snapshot {
        Snapshot {
            deployment: d,
            deployment_arn: ARN.into(),
            target_task_definition: TD.into(),
            service_task_definition: TD.into(),
            primary_task_definition: Some(TD.into()),
            current_service_deployment: Some(ARN.into()),
            desired: 2,
            ..Default::default()
        }
    }

    fn task(stop_code: &str, reason: &str, exit: Option<i32>) -> TaskInfo {
        TaskInfo {
            arn: "arn:aws:ecs:us-east-1:1:task/c/t1".into(),
            task_definition: TD.into(),
            last_status: "STOPPED".into(),
            desired_status: "STOPPED".into(),
            stop_code: Some(stop_code.into()),
            stopped_reason: Some(reason.into()),
            stopped_at: None,
            started_at: None,
            created_at: None,
            started_by: None,
            containers: vec![
                ContainerState {
                    name: "api".into(),
                    exit_code: exit,
                    reason: None,
                    last_status: None,
                    runtime_id: None,
                },
                ContainerState {
                    name: "log-router".into(),
                    exit_code: Some(137),
                    reason: None,
                    last_status: None,
                    runtime_id: None,
                },
            ],
        }
    }

    fn opts() -> JudgeOptions {
        JudgeOptions::default()
    }

    fn kind(v: &Verdict) -> Option<CauseKind> {
        match v {
            Verdict::Failed(c) => Some(c.kind),
            _ => None,
        }
    }

    #[test]
    fn success_needs_successful_and_serving() {
        let h = History::default();
        assert_eq!(
            judge(&snap(Some(dep("SUCCESSFUL"))), &h, 10.0, &opts()),
            Verdict::Success
        );
        let mut s = snap(Some(dep("SUCCESSFUL")));
        s.service_task_definition = OLD.into();
        s.primary_task_definition = Some(OLD.into());
        assert_eq!(
            kind(&judge(&s, &h, 10.0, &opts())),
            Some(CauseKind::Superseded)
        );
        assert_eq!(
            judge(&snap(Some(dep("IN_PROGRESS"))), &h, 10.0, &opts()),
            Verdict::InProgress
        );
    }

    #[test]
    fn breaker_rollback_is_a_failure_never_a_success() {
        let mut d = dep("ROLLBACK_SUCCESSFUL");
        d.breaker_status = Some("TRIGGERED".into());
        d.breaker_failures = 3;
        d.breaker_threshold = 3;
        let mut s = snap(Some(d));
        // After the rollback the service is stable on the old revision.
        s.service_task_definition = OLD.into();
        s.primary_task_definition = Some(OLD.into());
        let v = judge(&s, &History::default(), 100.0, &opts());
        assert_eq!(kind(&v), Some(CauseKind::CircuitBreaker));
        for st in [
            "ROLLBACK_REQUESTED",
            "ROLLBACK_IN_PROGRESS",
            "ROLLBACK_FAILED",
        ] {
            assert_eq!(
                kind(&judge(
                    &snap(Some(dep(st))),
                    &History::default(),
                    1.0,
                    &opts()
                )),
                Some(CauseKind::RolledBack)
            );
        }
        // FAILED is not a ServiceDeployment status (the API reference lists PENDING,
        // SUCCESSFUL, STOPPED, STOP_REQUESTED, IN_PROGRESS and the four ROLLBACK_ values): a
        // status deployer does not know is neither a success nor a failure; the wait goes on
        // until the deployment says more or the timeout.
        assert_eq!(
            judge(
                &snap(Some(dep("FAILED"))),
                &History::default(),
                1.0,
                &opts()
            ),
            Verdict::InProgress
        );
        assert_eq!(
            kind(&judge(
                &snap(Some(dep("STOPPED"))),
                &History::default(),
                1.0,
                &opts()
            )),
            Some(CauseKind::Stopped)
        );
        let mut d = dep("IN_PROGRESS");
        d.breaker_status = Some("TRIGGERED".into());
        assert_eq!(
            kind(&judge(&snap(Some(d)), &History::default(), 1.0, &opts())),
            Some(CauseKind::CircuitBreaker)
        );
    }

    /// A forced redeploy (same revision) over a task that crashed an hour ago: ECS still
    /// lists it as STOPPED, but this deployment did not start it.
    #[test]
    fn a_task_that_stopped_before_this_deployment_is_not_its_failure() {
        let mut d = dep("IN_PROGRESS");
        d.created_at = Some(10_000.0);
        let mut s = snap(Some(d));
        s.deployment_started_at = Some(10_000.0);
        let mut old = task(
            "EssentialContainerExited",
            "Essential container in task exited",
            Some(137),
        );
        old.created_at = Some(6_000.0);
        old.stopped_at = Some(6_400.0);
        s.stopped_tasks = vec![old.clone()];
        assert_eq!(
            judge(&s, &History::default(), 20.0, &opts()),
            Verdict::InProgress,
            "an hour-old crash of the same revision"
        );
        // No creation time: the stop time decides.
        old.created_at = None;
        s.stopped_tasks = vec![old.clone()];
        assert_eq!(
            judge(&s, &History::default(), 20.0, &opts()),
            Verdict::InProgress
        );
        // A task this deployment started that crashes is its failure, at once.
        let mut ours = old.clone();
        ours.arn = "arn:aws:ecs:us-east-1:1:task/c/t2".into();
        ours.created_at = Some(10_003.0);
        ours.stopped_at = Some(10_020.0);
        s.stopped_tasks = vec![old, ours];
        let Verdict::Failed(c) = judge(&s, &History::default(), 20.0, &opts()) else {
            panic!("our own crash is a failure")
        };
        assert!(c.task.is_some_and(|t| t.arn.ends_with("t2")));
        assert!(!c.summary.contains("2 tasks"), "{}", c.summary);
    }

    #[test]
    fn the_deployment_start_comes_from_its_record_or_the_primary_running_our_revision() {
        let mut svc = ServiceInfo {
            arn: String::new(),
            name: "api".into(),
            cluster_arn: String::new(),
            status: "ACTIVE".into(),
            task_definition: TD.into(),
            desired: 1,
            running: 1,
            pending: 0,
            controller: "ECS".into(),
            strategy: None,
            rollout: Default::default(),
            current_service_deployment: None,
            deployments: vec![crate::ecs::EcsDeployment {
                id: "ecs-svc/2".into(),
                status: "PRIMARY".into(),
                task_definition: TD.into(),
                desired: 1,
                running: 1,
                pending: 0,
                failed_tasks: 0,
                rollout_state: None,
                rollout_reason: None,
                created_at: Some(500.0),
            }],
            events: vec![],
            network_configuration: None,
            launch_type: None,
            capacity_provider_strategy: vec![],
            platform_version: None,
        };
        let mut d = dep("IN_PROGRESS");
        d.created_at = Some(499.0);
        assert_eq!(
            Snapshot::of(TD, ARN, &svc, Some(d)).deployment_started_at,
            Some(499.0)
        );
        assert_eq!(
            Snapshot::of(TD, "", &svc, None).deployment_started_at,
            Some(500.0)
        );
        svc.deployments[0].task_definition = OLD.into();
        assert_eq!(Snapshot::of(TD, "", &svc, None).deployment_started_at, None);
    }

    /// One read of `currentServiceDeployment` that names an older deployment (a lagging
    /// read) is not a supersession; a newer one is.
    #[test]
    fn supersession_is_decided_by_the_newer_deployments_own_record() {
        const OTHER: &str = "arn:aws:ecs:us-east-1:1:service-deployment/c/api/other";
        let mut d = dep("IN_PROGRESS");
        d.created_at = Some(1_000.0);
        let mut s = snap(Some(d));
        s.current_service_deployment = Some(OTHER.into());
        let mut other = dep("SUCCESSFUL");
        other.arn = OTHER.into();
        other.created_at = Some(900.0);
        s.other_deployment = Some(other.clone());
        assert_eq!(
            judge(&s, &History::default(), 5.0, &opts()),
            Verdict::InProgress,
            "an older deployment named current is a stale read"
        );
        s.other_deployment = None;
        assert_eq!(
            judge(&s, &History::default(), 5.0, &opts()),
            Verdict::InProgress,
            "no record of the other deployment: nothing decided"
        );
        other.created_at = Some(1_100.0);
        s.other_deployment = Some(other);
        assert_eq!(
            kind(&judge(&s, &History::default(), 5.0, &opts())),
            Some(CauseKind::Superseded)
        );
    }

    /// With the breaker's rollback off, ECS ends the deployment STOPPED: the cause is the
    /// breaker, with the task that crashed.
    #[test]
    fn a_breaker_stop_without_rollback_names_the_breaker_and_the_crashed_task() {
        let mut d = dep("STOPPED");
        d.breaker_status = Some("TRIGGERED".into());
        d.breaker_failures = 3;
        d.breaker_threshold = 3;
        d.status_reason = Some("ECS deployment circuit breaker: tasks failed to start.".into());
        let mut s = snap(Some(d));
        s.stopped_tasks = vec![task(
            "EssentialContainerExited",
            "Essential container in task exited",
            Some(3),
        )];
        let o = JudgeOptions {
            max_task_failures: 50,
            ..opts()
        };
        let Verdict::Failed(c) = judge(&s, &History::default(), 30.0, &o) else {
            panic!("a failure")
        };
        assert_eq!(c.kind, CauseKind::CircuitBreaker);
        assert!(c.summary.contains("exited with code 3"), "{}", c.summary);
        assert!(c.summary.contains("rollback is off"), "{}", c.summary);
        assert!(c.task.is_some());
    }

    #[test]
    fn first_crashed_task_fails_fast_with_exit_code() {
        let mut s = snap(Some(dep("IN_PROGRESS")));
        s.stopped_tasks = vec![task(
            "EssentialContainerExited",
            "Essential container in task exited",
            Some(3),
        )];
        let v = judge(&s, &History::default(), 20.0, &opts());
        let Verdict::Failed(c) = v else {
            panic!("expected failure")
        };
        assert_eq!(c.kind, CauseKind::ContainerExited);
        assert!(
            c.summary.contains("`api` exited with code 3"),
            "{}",
            c.summary
        );
        assert!(c.task.is_some());
        let o = JudgeOptions {
            max_task_failures: 2,
            ..opts()
        };
        assert_eq!(
            judge(&s, &History::default(), 20.0, &o),
            Verdict::InProgress
        );
    }

    #[test]
    fn sidecar_exit_alone_is_ignored_when_non_essential() {
        let mut t = task(
            "EssentialContainerExited",
            "Essential container in task exited",
            None,
        );
        t.containers[1].exit_code = Some(1);
        let mut ne = BTreeSet::new();
        ne.insert("log-router".to_string());
        let (_, why) =
            task_failure(&t, &ne).expect("still a failure: an essential container exited");
        assert!(!why.contains("log-router"), "{why}");
        // A task scaled in by the scheduler is not a failure.
        let t = task(
            "ServiceSchedulerInitiated",
            "Scaling activity initiated by deployment",
            Some(143),
        );
        assert!(task_failure(&t, &ne).is_none());
    }

    #[test]
    fn failed_to_start_and_health_checks_have_their_own_kind() {
        let mut s = snap(Some(dep("IN_PROGRESS")));
        s.stopped_tasks = vec![task(
            "TaskFailedToStart",
            "CannotPullContainerError: pull access denied",
            None,
        )];
        let v = judge(&s, &History::default(), 5.0, &opts());
        assert_eq!(kind(&v), Some(CauseKind::TaskFailedToStart));
        s.stopped_tasks = vec![task(
            "ServiceSchedulerInitiated",
            "Task failed ELB health checks in (target-group x)",
            Some(143),
        )];
        assert_eq!(
            kind(&judge(&s, &History::default(), 5.0, &opts())),
            Some(CauseKind::HealthCheck)
        );
    }

    #[test]
    fn unplaceable_needs_to_persist_without_progress() {
        let mut h = History::default();
        let mut s = snap(Some(dep("IN_PROGRESS")));
        s.new_events = vec![ServiceEvent {
            id: "e1".into(),
            at: 0.0,
            message: "(service api) was unable to place a task because no container instance met all of its requirements.".into(),
        }];
        observe(&mut h, &s, 10.0);
        assert_eq!(judge(&s, &h, 30.0, &opts()), Verdict::InProgress);
        assert_eq!(
            kind(&judge(&s, &h, 71.0, &opts())),
            Some(CauseKind::Unplaceable)
        );
        // Progress clears it.
        let mut s2 = snap(Some(ServiceDeploymentInfo {
            target_running: 1,
            ..dep("IN_PROGRESS")
        }));
        s2.new_events.clear();
        observe(&mut h, &s2, 40.0);
        assert_eq!(
            judge(
                &s2,
                &h,
                200.0,
                &JudgeOptions {
                    timeout: Duration::from_secs(900),
                    ..opts()
                }
            ),
            Verdict::InProgress
        );
    }

    #[test]
    fn superseded_by_another_deployment() {
        // The other deployment's own record says it is newer than ours.
        let newer = |ours: ServiceDeploymentInfo| {
            let mut ours = ours;
            ours.created_at = Some(100.0);
            let mut s = snap(Some(ours));
            s.current_service_deployment = Some("arn:other".into());
            s.other_deployment = Some(ServiceDeploymentInfo {
                arn: "arn:other".into(),
                created_at: Some(150.0),
                ..dep("IN_PROGRESS")
            });
            s
        };
        let s = newer(dep("IN_PROGRESS"));
        assert_eq!(
            kind(&judge(&s, &History::default(), 1.0, &opts())),
            Some(CauseKind::Superseded)
        );
        // ECS marks the replaced deployment STOPPED: still "superseded", not "stopped".
        let s = newer(dep("STOPPED"));
        assert_eq!(
            kind(&judge(&s, &History::default(), 1.0, &opts())),
            Some(CauseKind::Superseded)
        );
        let mut d = dep("STOPPED");
        d.status_reason =
            Some("Service deployment was superseded by a new service deployment (x)".into());
        let mut s = snap(Some(d));
        s.current_service_deployment = None;
        assert_eq!(
            kind(&judge(&s, &History::default(), 1.0, &opts())),
            Some(CauseKind::Superseded)
        );
    }

    #[test]
    fn timeout_is_never_success() {
        let s = snap(Some(dep("IN_PROGRESS")));
        let o = JudgeOptions {
            timeout: Duration::from_secs(60),
            ..opts()
        };
        assert_eq!(judge(&s, &History::default(), 61.0, &o), Verdict::TimedOut);
    }

    #[test]
    fn blue_green_stops_at_test_traffic_or_pause() {
        let mut d = dep("IN_PROGRESS");
        d.lifecycle_stage = Some("SCALE_UP".into());
        let o = JudgeOptions {
            wait_until: WaitUntil::TestTraffic,
            ..opts()
        };
        assert_eq!(
            judge(&snap(Some(d.clone())), &History::default(), 1.0, &o),
            Verdict::InProgress
        );
        d.lifecycle_stage = Some("POST_TEST_TRAFFIC_SHIFT".into());
        assert_eq!(
            judge(&snap(Some(d.clone())), &History::default(), 1.0, &o),
            Verdict::Reached {
                stage: "POST_TEST_TRAFFIC_SHIFT".into(),
                hook_id: None
            }
        );
        d.hooks = vec![Hook {
            id: "h-1".into(),
            status: "AWAITING_ACTION".into(),
        }];
        let o = JudgeOptions {
            wait_until: WaitUntil::Paused,
            ..opts()
        };
        assert_eq!(
            judge(&snap(Some(d)), &History::default(), 1.0, &o),
            Verdict::Reached {
                stage: "POST_TEST_TRAFFIC_SHIFT".into(),
                hook_id: Some("h-1".into())
            }
        );
        assert_eq!(
            "test-traffic".parse::<WaitUntil>(),
            Ok(WaitUntil::TestTraffic)
        );
        assert!("soon".parse::<WaitUntil>().is_err());
    }

    #[test]
    fn fallback_without_deployment_api() {
        let mut s = snap(None);
        s.deployment_arn = String::new();
        s.current_service_deployment = None;
        s.primary_rollout_state = Some("COMPLETED".into());
        s.deployments_count = 1;
        s.running = 2;
        assert_eq!(
            judge(&s, &History::default(), 1.0, &opts()),
            Verdict::Success
        );
        s.primary_task_definition = Some(OLD.into());
        assert_eq!(
            kind(&judge(&s, &History::default(), 1.0, &opts())),
            Some(CauseKind::Superseded)
        );
    }
}
