//! The simulator's state: plain data behind one mutex, advanced by pure-ish functions.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::scenario::Scenario;

pub const ACCOUNT: &str = "123456789012";

/// Deterministic PRNG (SplitMix64): same seed, same ids and fault decisions.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn hex(&mut self, len: usize) -> String {
        let mut out = String::with_capacity(len);
        while out.len() < len {
            out.push_str(&format!("{:016x}", self.next_u64()));
        }
        out.truncate(len);
        out
    }
    pub fn digits(&mut self, len: usize) -> String {
        let mut out = String::with_capacity(len);
        out.push(char::from(b'1' + (self.next_u64() % 9) as u8));
        while out.len() < len {
            out.push(char::from(b'0' + (self.next_u64() % 10) as u8));
        }
        out
    }
    pub fn alnum(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| char::from(CHARS[(self.next_u64() % CHARS.len() as u64) as usize]))
            .collect()
    }
    pub fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    pub arn: String,
    pub request: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Rolling,
    BlueGreen,
    Linear,
    Canary,
}

impl Strategy {
    /// Blue/green, linear and canary share the lifecycle-stage engine (`bluegreen.rs`).
    pub fn shifts_traffic(self) -> bool {
        self != Strategy::Rolling
    }
}

/// One entry of `service.deployments[]`.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub id: String,
    pub status: &'static str, // PRIMARY | ACTIVE
    pub task_definition: String,
    pub revision_arn: String,
    pub sd_arn: String,
    pub created_at: f64,
    pub updated_at: f64,
    pub rollout_state: &'static str, // IN_PROGRESS | COMPLETED | FAILED
    pub rollout_reason: String,
    pub failed_tasks: u64,
    pub running: u64,
    pub pending: u64,
    /// False once the deployment failed/stalled/was aborted: no more task launches.
    pub can_launch: bool,
    pub next_launch_at: f64,
    pub last_unplaceable_event: Option<f64>,
    pub strategy: Strategy,
    pub network_configuration: Option<Value>,
    pub launch_type: Option<String>,
    /// Blue/green progress (index into `bluegreen::STAGES`) and when the stage began.
    pub stage: usize,
    pub stage_started: f64,
    /// Rolling: when the rollout reached its target and the bake time began.
    pub bake_started: Option<f64>,
    /// Production traffic shifts completed (linear and canary shift more than once).
    pub shifts: usize,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub cluster: String,
    pub name: String,
    pub arn: String,
    pub status: &'static str,
    pub desired_count: u64,
    pub task_definition: String,
    pub deployment_configuration: Value,
    pub request: Value,
    pub created_at: f64,
    pub events: Vec<Value>,
    pub deployments: Vec<Deployment>,
    /// (deployment id, task definition, revision arn) of the last COMPLETED deployment.
    pub last_completed: Option<(String, String, String)>,
    pub steady: bool,
    /// Consecutive tasks that never reached RUNNING (service throttle logic).
    pub start_failures: u32,
    /// "is unable to consistently start tasks successfully" was logged for this streak.
    pub throttle_logged: bool,
}

/// A lifecycle hook awaiting (or past) action.
#[derive(Debug, Clone)]
pub struct HookDetail {
    pub hook_id: String,
    pub target_type: String,
    pub target_arn: Option<String>,
    pub status: &'static str,
    pub expires_at: f64,
    pub timeout_action: String,
    pub stage: &'static str,
    /// Set by ContinueServiceDeployment, consumed by the blue/green engine.
    pub decision: Option<String>,
    /// Which traffic shift the hook belongs to (PRE_/PRODUCTION_TRAFFIC_SHIFT run per step).
    pub round: usize,
    /// Lambda hooks: when the simulated function returns its final `hookStatus`, and which.
    pub resolves_at: Option<f64>,
    pub result: Option<crate::hooks::LambdaResult>,
}

/// A service-deployment record (ListServiceDeployments / DescribeServiceDeployments).
#[derive(Debug, Clone)]
pub struct ServiceDeployment {
    pub arn: String,
    pub cluster: String,
    pub service: String,
    pub service_arn: String,
    pub cluster_arn: String,
    pub created_at: f64,
    pub started_at: Option<f64>,
    pub finished_at: Option<f64>,
    pub stopped_at: Option<f64>,
    pub updated_at: f64,
    pub status: &'static str,
    pub status_reason: Option<String>,
    pub source_revisions: Vec<String>,
    pub target_revision: String,
    pub deployment_configuration: Value,
    pub breaker_enabled: bool,
    pub breaker_status: &'static str,
    pub failure_count: u64,
    pub threshold: u64,
    pub rollback: Option<Value>,
    /// What a rollback goes back to: (task definition, revision arn).
    pub rollback_target: Option<(String, String)>,
    pub lifecycle_stage: Option<&'static str>,
    pub hooks: Vec<HookDetail>,
    /// (stage, round) pairs whose hooks were already created.
    pub hook_rounds: Vec<(&'static str, usize)>,
    /// STOP_REQUESTED / ROLLBACK_REQUESTED are applied on the next tick.
    pub requested_stop: Option<String>,
    /// CloudWatch alarms of `deploymentConfiguration.alarms`.
    pub alarms: crate::alarms::Monitor,
}

#[derive(Debug, Clone)]
pub struct LogLine {
    pub at: f64,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct ContainerState {
    pub name: String,
    pub image: String,
    pub essential: bool,
    pub last_status: &'static str,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    pub runtime_id: String,
    /// awslogs (group, stream) if configured.
    pub log_target: Option<(String, String)>,
    pub logs: Vec<LogLine>,
    /// When this container exits on its own (relative to nothing: absolute sim time).
    pub exit_at: Option<f64>,
    pub exit_code_planned: i32,
    /// The container definition's `healthCheck`, if any, and its running state.
    pub health: Option<crate::health::ContainerHealth>,
    /// What a load-balancer check of this container answers.
    pub target_spec: crate::scenario::HealthSpec,
    /// `stopTimeout` (seconds from SIGTERM to SIGKILL).
    pub stop_timeout: f64,
    /// Seconds the process takes to exit on SIGTERM (None: only SIGKILL stops it).
    pub stop_after: Option<f64>,
}

/// The planned life of a task (absolute simulated times).
#[derive(Debug, Clone)]
pub struct Plan {
    pub pending_at: f64,
    pub running_at: Option<f64>,
    pub fail_to_start_at: Option<f64>,
    pub fail_reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub id: String,
    pub arn: String,
    pub cluster: String,
    pub cluster_arn: String,
    pub task_definition_arn: String,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub group: String,
    pub started_by: Option<String>,
    pub service: Option<String>,
    pub deployment_id: Option<String>,
    pub last_status: &'static str,
    pub desired_status: &'static str,
    pub health: &'static str,
    pub created_at: f64,
    pub pull_started_at: Option<f64>,
    pub pull_stopped_at: Option<f64>,
    pub started_at: Option<f64>,
    pub stopping_at: Option<f64>,
    pub stopped_at: Option<f64>,
    pub stop_code: Option<&'static str>,
    pub stopped_reason: Option<String>,
    pub containers: Vec<ContainerState>,
    pub overrides: Value,
    pub attachments: Value,
    pub launch_type: String,
    pub plan: Plan,
    /// When the service scheduler first counted the task healthy (breaker reset).
    pub healthy_at: Option<f64>,
    /// The load-balancer target this task registers as, if its service has `loadBalancers`.
    pub target: Option<crate::health::Target>,
    /// `healthCheckGracePeriodSeconds` of its service (0 for other tasks).
    pub grace: f64,
    /// Why the scheduler stopped it, for circuit-breaker accounting.
    pub stopped_for_health: bool,
    /// The stop sequence once a stop was requested: DEACTIVATING until the first time,
    /// STOPPING until the second, DEPROVISIONING until the third.
    pub stop_plan: Option<StopPlan>,
    pub version: u64,
}

/// Absolute simulated times of the steps of a requested stop.
#[derive(Debug, Clone, Copy)]
pub struct StopPlan {
    pub deactivated_at: f64,
    pub stopped_running_at: f64,
    pub exit_code: i32,
    pub stopped_at: f64,
}

impl Task {
    pub fn is_active(&self) -> bool {
        self.desired_status == "RUNNING" && self.last_status != "STOPPED"
    }
}

/// A stopped task of a service deployment, for circuit-breaker accounting.
#[derive(Debug, Clone)]
pub struct TaskExit {
    pub service: String,
    pub deployment_id: String,
    /// Counts toward the circuit breaker (see `breaker::is_failure`).
    pub failure: bool,
    /// Never reached RUNNING (drives the service throttle logic).
    pub never_ran: bool,
}

pub struct State {
    pub region: String,
    pub now: f64,
    pub rng: Rng,
    pub fault_rng: Rng,
    pub scenario: Scenario,
    pub clusters: BTreeMap<String, Cluster>,
    /// family -> revisions (index = revision - 1); full request JSON + computed fields.
    pub task_defs: BTreeMap<String, Vec<Value>>,
    pub tags: BTreeMap<String, Vec<Value>>,
    /// key: "cluster/service"
    pub services: BTreeMap<String, Service>,
    pub tasks: BTreeMap<String, Task>,
    pub service_deployments: BTreeMap<String, ServiceDeployment>,
    pub revisions: BTreeMap<String, Value>,
    pub client_tokens: BTreeMap<String, Value>,
    pub exits: Vec<TaskExit>,
    /// Tasks that first counted healthy this step: (service key, deployment id).
    pub became_healthy: Vec<(String, String)>,
    /// Launches per scenario rule, for `first-launches` / `one-in`.
    pub launches: BTreeMap<String, u64>,
    /// When the simulator started (alarm and health timelines count from here).
    pub origin: f64,
    /// Alarm states set through `SimHandle::set_alarm` (they win over the scenario).
    pub alarm_overrides: BTreeMap<String, bool>,
}

impl State {
    pub fn new(scenario: Scenario, seed: u64, now: f64) -> State {
        State {
            region: "us-east-1".into(),
            now,
            rng: Rng::new(seed),
            fault_rng: Rng::new(seed.wrapping_add(1)),
            scenario,
            clusters: BTreeMap::new(),
            task_defs: BTreeMap::new(),
            tags: BTreeMap::new(),
            services: BTreeMap::new(),
            tasks: BTreeMap::new(),
            service_deployments: BTreeMap::new(),
            revisions: BTreeMap::new(),
            client_tokens: BTreeMap::new(),
            exits: Vec::new(),
            became_healthy: Vec::new(),
            launches: BTreeMap::new(),
            origin: now,
            alarm_overrides: BTreeMap::new(),
        }
    }

    pub fn arn(&self, resource: &str) -> String {
        format!("arn:aws:ecs:{}:{ACCOUNT}:{resource}", self.region)
    }

    /// Advance the simulation to `target` (simulated epoch seconds) in steps of at most 1 s.
    pub fn advance(&mut self, target: f64) {
        if !target.is_finite() || target <= self.now {
            return;
        }
        // Bound the work per call; a long idle gap is jumped over in coarser steps.
        let gap = target - self.now;
        let step = (gap / 20_000.0).max(1.0);
        while self.now < target {
            self.now = (self.now + step).min(target);
            crate::tasks::advance(self);
            crate::rolling::advance(self);
        }
    }

    pub fn event(&mut self, service_key: &str, message: String) {
        let id = self.rng.uuid();
        let now = self.now;
        if let Some(svc) = self.services.get_mut(service_key) {
            svc.events.insert(
                0,
                json!({"id": id, "createdAt": ts(now), "message": message}),
            );
            svc.events.truncate(100);
        }
    }

    /// Resolve a task definition reference (family, family:revision or ARN).
    pub fn find_task_def(&self, reference: &str) -> Option<&Value> {
        let tail = reference.rsplit('/').next().unwrap_or(reference);
        let (family, revision) = match tail.rsplit_once(':') {
            Some((f, r)) => (f, r.parse::<usize>().ok()),
            None => (tail, None),
        };
        let revs = self.task_defs.get(family)?;
        match revision {
            Some(r) if r >= 1 => revs.get(r - 1),
            Some(_) => None,
            None => revs
                .iter()
                .rev()
                .find(|td| td.get("status").and_then(Value::as_str) == Some("ACTIVE")),
        }
    }
}

/// Timestamps in the JSON 1.1 protocol: epoch seconds as a number (millisecond precision).
pub fn ts(t: f64) -> Value {
    json!((t * 1000.0).round() / 1000.0)
}

pub fn service_key(cluster: &str, service: &str) -> String {
    format!("{cluster}/{service}")
}
