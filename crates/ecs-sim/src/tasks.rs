//! Task lifecycle: PROVISIONING -> PENDING -> RUNNING -> (DEACTIVATING ->) STOPPED.

use serde_json::{Value, json};

use crate::health::{self, ContainerHealth, Target};
use crate::scenario::{Behavior, HealthSpec, Kind, Outcome};
use crate::state::{ContainerState, LogLine, Plan, State, StopPlan, Task, TaskExit, ts};
use crate::timing;

/// Who asked a task to start.
pub struct Launch<'a> {
    pub cluster: &'a str,
    pub task_def: &'a Value,
    pub group: String,
    pub started_by: Option<String>,
    pub service: Option<String>,
    pub deployment_id: Option<String>,
    pub overrides: Option<&'a Value>,
    pub network_configuration: Option<&'a Value>,
    pub launch_type: Option<&'a str>,
    /// (target group ARN, container name) when the service has `loadBalancers`.
    pub target: Option<(String, String)>,
    /// The service's `healthCheckGracePeriodSeconds`.
    pub grace: f64,
}

/// Whether any container image of the task definition is unplaceable (no capacity).
pub fn unplaceable(state: &State, task_def: &Value) -> bool {
    containers(task_def).iter().any(|c| {
        let image = c.get("image").and_then(Value::as_str).unwrap_or("");
        state.scenario.behavior_for(image).kind == Kind::Unplaceable
    })
}

/// The command a container runs: its `containerOverrides` entry, else its definition's
/// `command`, with arguments joined by single spaces.
fn effective_command(container: &Value, overrides: Option<&Value>) -> Option<String> {
    let name = container.get("name").and_then(Value::as_str)?;
    let overridden = overrides
        .and_then(|o| o.get("containerOverrides"))
        .and_then(Value::as_array)
        .and_then(|list| {
            list.iter()
                .find(|o| o.get("name").and_then(Value::as_str) == Some(name))
        })
        .and_then(|o| o.get("command"));
    let command = overridden
        .or_else(|| container.get("command"))?
        .as_array()?;
    let words: Vec<&str> = command.iter().filter_map(Value::as_str).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

fn containers(task_def: &Value) -> Vec<Value> {
    task_def
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Resolve each container's behaviour for this launch, counting launches per scenario rule
/// (for `first-launches` / `one-in`).
fn behaviours(state: &mut State, defs: &[Value], overrides: Option<&Value>) -> Vec<Behavior> {
    defs.iter()
        .map(|c| {
            let image = c.get("image").and_then(Value::as_str).unwrap_or("");
            let command = effective_command(c, overrides);
            let (key, rule) = state.scenario.rule_for_container(image, command.as_deref());
            let rule = rule.clone();
            let n = state.launches.entry(key).or_insert(0);
            *n += 1;
            rule.for_launch(*n).clone()
        })
        .collect()
}

/// The planned start (or failure to start) of a task from its containers' behaviours.
fn plan(now: f64, defs: &[Value], behaviors: &[Behavior]) -> Plan {
    let mut running_at = now + 1.0;
    let mut fail: Option<(f64, String)> = None;
    for (c, b) in defs.iter().zip(behaviors) {
        let image = c.get("image").and_then(Value::as_str).unwrap_or("");
        match b.kind {
            Kind::PullFailure => {
                let at = now + b.after().max(0.5);
                let reason = b.reason.clone().unwrap_or_else(|| {
                    format!(
                        "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref {image}: not found"
                    )
                });
                if fail.as_ref().is_none_or(|(t, _)| at < *t) {
                    fail = Some((at, reason));
                }
            }
            _ => running_at = running_at.max(now + b.start_after()),
        }
    }
    let first_step = fail.as_ref().map_or(running_at, |(t, _)| *t) - now;
    Plan {
        pending_at: now + timing::PROVISIONING.min(first_step / 2.0),
        running_at: if fail.is_some() {
            None
        } else {
            Some(running_at)
        },
        fail_to_start_at: fail.as_ref().map(|(t, _)| *t),
        fail_reason: fail.map(|(_, r)| r),
    }
}

fn container_state(
    state: &mut State,
    c: &Value,
    b: &Behavior,
    task_id: &str,
    running_at: f64,
) -> ContainerState {
    let name = c
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let image = c
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let essential = c.get("essential").and_then(Value::as_bool).unwrap_or(true);
    let exit_at = match b.kind {
        Kind::CrashLoop | Kind::DiesAfter | Kind::Exits => Some(running_at + b.after().max(0.001)),
        _ => None,
    };
    let log_target = awslogs_target(c, &name, task_id);
    let end = exit_at.unwrap_or(running_at + b.logs.len() as f64);
    let n = b.logs.len() as f64;
    let logs = b
        .logs
        .iter()
        .enumerate()
        .map(|(i, m)| LogLine {
            at: running_at + (end - running_at) * (i as f64 + 0.5) / n.max(1.0),
            message: m.clone(),
        })
        .collect();
    // A crash-looping container never passes a check (its documented meaning).
    let never = (b.kind == Kind::CrashLoop).then_some(HealthSpec::Always(Outcome::Fail));
    let health_spec = b.health.clone().or_else(|| never.clone());
    let target_spec = b
        .target_health
        .clone()
        .or_else(|| b.health.clone())
        .or(never)
        .unwrap_or(HealthSpec::Always(Outcome::Pass));
    ContainerState {
        name,
        image,
        essential,
        last_status: "PENDING",
        exit_code: None,
        reason: None,
        runtime_id: format!("{}-{}", task_id, state.rng.digits(10)),
        log_target,
        logs,
        exit_at,
        exit_code_planned: b.exit_code(),
        health: ContainerHealth::from_definition(c, health_spec.as_ref()),
        target_spec,
        stop_timeout: c
            .get("stopTimeout")
            .and_then(Value::as_f64)
            .unwrap_or(timing::STOP_TIMEOUT)
            .clamp(0.0, 3600.0),
        stop_after: b.stop_after,
    }
}

/// Create a task (already placed) and return its id.
pub fn launch(state: &mut State, l: Launch<'_>) -> String {
    let now = state.now;
    let id = state.rng.hex(32);
    let arn = state.arn(&format!("task/{}/{}", l.cluster, id));
    let cluster_arn = state.arn(&format!("cluster/{}", l.cluster));
    let td_arn = l
        .task_def
        .get("taskDefinitionArn")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let defs = containers(l.task_def);
    let behaviors = behaviours(state, &defs, l.overrides);
    let plan = plan(now, &defs, &behaviors);
    let running_at = plan.running_at.unwrap_or(now + 1.0);
    let cs: Vec<ContainerState> = defs
        .iter()
        .zip(&behaviors)
        .map(|(c, b)| container_state(state, c, b, &id, running_at))
        .collect();
    let launch_type = l
        .launch_type
        .map(str::to_string)
        .or_else(|| {
            l.task_def
                .get("requiresCompatibilities")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| "FARGATE".into());
    let attachments = match l
        .network_configuration
        .and_then(|n| n.get("awsvpcConfiguration"))
    {
        Some(vpc) => {
            let subnet = vpc
                .get("subnets")
                .and_then(|s| s.get(0))
                .and_then(Value::as_str)
                .unwrap_or("");
            let ip = format!(
                "10.0.{}.{}",
                state.rng.next_u64() % 250 + 1,
                state.rng.next_u64() % 250 + 1
            );
            json!([{
                "id": state.rng.uuid(), "type": "ElasticNetworkInterface", "status": "ATTACHED",
                "details": [
                    {"name": "subnetId", "value": subnet},
                    {"name": "networkInterfaceId", "value": format!("eni-{}", state.rng.hex(17))},
                    {"name": "privateIPv4Address", "value": ip},
                ]
            }])
        }
        None => json!([]),
    };
    let task = Task {
        id: id.clone(),
        arn,
        cluster: l.cluster.to_string(),
        cluster_arn,
        task_definition_arn: td_arn,
        cpu: l
            .task_def
            .get("cpu")
            .and_then(Value::as_str)
            .map(str::to_string),
        memory: l
            .task_def
            .get("memory")
            .and_then(Value::as_str)
            .map(str::to_string),
        group: l.group,
        started_by: l.started_by,
        service: l.service,
        deployment_id: l.deployment_id,
        last_status: "PROVISIONING",
        desired_status: "RUNNING",
        health: "UNKNOWN",
        created_at: now,
        pull_started_at: None,
        pull_stopped_at: None,
        started_at: None,
        stopping_at: None,
        stopped_at: None,
        stop_code: None,
        stopped_reason: None,
        containers: cs,
        overrides: l.overrides.cloned().unwrap_or_else(
            || json!({"containerOverrides": [], "inferenceAcceleratorOverrides": []}),
        ),
        attachments,
        launch_type,
        plan,
        healthy_at: None,
        target: l.target.map(|(group, container)| {
            let settings = state.scenario.target_group(&group);
            Target::new(group, container, settings)
        }),
        grace: l.grace,
        stopped_for_health: false,
        stop_plan: None,
        version: 1,
    };
    state.tasks.insert(id.clone(), task);
    id
}

fn awslogs_target(c: &Value, name: &str, task_id: &str) -> Option<(String, String)> {
    let lc = c.get("logConfiguration")?;
    if lc.get("logDriver").and_then(Value::as_str) != Some("awslogs") {
        return None;
    }
    let opts = lc.get("options")?;
    let group = opts
        .get("awslogs-group")
        .and_then(Value::as_str)?
        .to_string();
    let stream = match opts.get("awslogs-stream-prefix").and_then(Value::as_str) {
        Some(p) if !p.is_empty() => format!("{p}/{name}/{task_id}"),
        _ => format!("{name}/{task_id}"),
    };
    Some((group, stream))
}

/// Ask a task to stop (user or scheduler). A RUNNING task goes through the task lifecycle
/// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html):
/// DEACTIVATING while its load-balancer target drains (the target group's deregistration
/// delay), STOPPING while its containers get SIGTERM and up to `stopTimeout` before SIGKILL,
/// DEPROVISIONING, then STOPPED. A task that never ran stops after a short DEPROVISIONING.
pub fn request_stop(task: &mut Task, now: f64, code: &'static str, reason: String) {
    if task.last_status == "STOPPED" || task.desired_status == "STOPPED" {
        return;
    }
    task.desired_status = "STOPPED";
    task.stopping_at = Some(now);
    task.stop_code = Some(code);
    task.stopped_reason = Some(reason);
    let running = task.last_status == "RUNNING";
    let drain = match &task.target {
        Some(t) if running => t.settings.deregistration_delay,
        _ => 0.0,
    };
    let deactivated_at = now + drain;
    let exit = task
        .containers
        .iter()
        .filter(|c| c.last_status == "RUNNING")
        .map(|c| {
            c.stop_after
                .map_or(c.stop_timeout, |s| s.min(c.stop_timeout))
        })
        .fold(0.0, f64::max);
    let stopped_running_at = if running { deactivated_at + exit } else { now };
    task.stop_plan = Some(StopPlan {
        deactivated_at,
        stopped_running_at,
        exit_code: 137,
        stopped_at: stopped_running_at + timing::DEPROVISIONING,
    });
    if running {
        task.last_status = if drain > 0.0 {
            "DEACTIVATING"
        } else {
            "STOPPING"
        };
    }
    task.version += 1;
}

/// Move a task with a requested stop along its stop plan.
fn advance_stop(task: &mut Task, now: f64, exits: &mut Vec<TaskExit>) {
    let Some(p) = task.stop_plan else {
        return;
    };
    if task.last_status == "DEACTIVATING" && now >= p.deactivated_at {
        task.last_status = "STOPPING";
        task.version += 1;
    }
    if matches!(task.last_status, "STOPPING" | "RUNNING") && now >= p.stopped_running_at {
        for c in &mut task.containers {
            if c.last_status == "RUNNING" {
                c.last_status = "STOPPED";
                // Exited on SIGTERM (143) or was killed at the stop timeout (137).
                let on_term = c.stop_after.is_some_and(|s| s < c.stop_timeout);
                c.exit_code = Some(if on_term { 143 } else { p.exit_code });
                c.logs.retain(|l| l.at <= p.stopped_running_at);
            }
        }
        task.last_status = "DEPROVISIONING";
        task.version += 1;
    }
    if matches!(task.last_status, "PROVISIONING" | "PENDING") {
        task.last_status = "DEPROVISIONING";
        for c in &mut task.containers {
            c.last_status = "STOPPED";
        }
        task.version += 1;
    }
    if task.last_status == "DEPROVISIONING" && now >= p.stopped_at {
        task.last_status = "STOPPED";
        task.stopped_at = Some(p.stopped_at);
        if task.healthy_at.is_none() && task.health == "HEALTHY" {
            task.health = "UNKNOWN";
        }
        task.version += 1;
        push_exit(task, exits);
    }
}

/// The image could not be pulled: STOPPED with TaskFailedToStart.
fn fail_to_start(task: &mut Task, at: f64, exits: &mut Vec<TaskExit>) {
    let reason = task.plan.fail_reason.clone().unwrap_or_default();
    task.desired_status = "STOPPED";
    task.stop_code = Some("TaskFailedToStart");
    task.stopped_reason = Some(reason.clone());
    task.stopping_at = Some(at);
    for c in &mut task.containers {
        c.last_status = "STOPPED";
        if c.reason.is_none() && reason.contains(&c.image) {
            c.reason = Some(reason.clone());
        }
    }
    if task.containers.iter().all(|c| c.reason.is_none())
        && let Some(c) = task.containers.first_mut()
    {
        c.reason = Some(reason.clone());
    }
    task.last_status = "STOPPED";
    task.stopped_at = Some(at);
    task.version += 1;
    push_exit(task, exits);
}

fn become_running(task: &mut Task, at: f64) {
    task.last_status = "RUNNING";
    task.pull_stopped_at = Some(at - 0.2);
    task.started_at = Some(at);
    for c in &mut task.containers {
        c.last_status = "RUNNING";
    }
    health::on_running(task, at);
    task.version += 1;
}

/// Containers that exit on their own; the first essential one stops the task.
fn container_exits(task: &mut Task, now: f64, exits: &mut Vec<TaskExit>) {
    let mut essential_exit: Option<f64> = None;
    for c in &mut task.containers {
        if c.last_status == "RUNNING"
            && let Some(at) = c.exit_at
            && now >= at
        {
            c.last_status = "STOPPED";
            c.exit_code = Some(c.exit_code_planned);
            if c.essential && essential_exit.is_none_or(|t| at < t) {
                essential_exit = Some(at);
            }
        }
    }
    if let Some(at) = essential_exit {
        task.desired_status = "STOPPED";
        task.stop_code = Some("EssentialContainerExited");
        task.stopped_reason = Some("Essential container in task exited".into());
        task.stopping_at = Some(at);
        finish_stop(task, at, 137, exits);
    }
}

/// Move every task along its plan up to `state.now`.
pub fn advance(state: &mut State) {
    let now = state.now;
    let origin = state.origin;
    let mut exits = Vec::new();
    let mut healthy = Vec::new();
    for task in state.tasks.values_mut() {
        if task.last_status == "STOPPED" {
            continue;
        }
        if task.desired_status == "STOPPED" {
            advance_stop(task, now, &mut exits);
            continue;
        }
        if task.last_status == "PROVISIONING" && now >= task.plan.pending_at {
            task.last_status = "PENDING";
            task.pull_started_at = Some(task.plan.pending_at);
            for c in &mut task.containers {
                c.last_status = "PENDING";
            }
            task.version += 1;
        }
        if let Some(at) = task.plan.fail_to_start_at
            && now >= at
        {
            fail_to_start(task, at, &mut exits);
            continue;
        }
        if let Some(at) = task.plan.running_at
            && task.last_status != "RUNNING"
            && now >= at
        {
            become_running(task, at);
        }
        if task.last_status == "RUNNING" {
            health::advance(task, now, origin);
            if task.healthy_at.is_none() && health::counts_healthy(task, now) {
                task.healthy_at = Some(now);
                if let (Some(s), Some(d)) = (&task.service, &task.deployment_id) {
                    healthy.push((s.clone(), d.clone()));
                }
            }
            container_exits(task, now, &mut exits);
        }
    }
    state.exits.extend(exits);
    state.became_healthy.extend(healthy);
}

fn finish_stop(task: &mut Task, at: f64, other_exit: i32, exits: &mut Vec<TaskExit>) {
    let was_running = task.started_at.is_some();
    task.last_status = "STOPPED";
    task.stopped_at = Some(at);
    for c in &mut task.containers {
        if c.last_status != "STOPPED" {
            c.last_status = "STOPPED";
            if was_running {
                c.exit_code = Some(other_exit);
            }
        }
        // Lines planned after the stop never get written.
        c.logs.retain(|l| l.at <= at);
    }
    task.version += 1;
    push_exit(task, exits);
}

fn push_exit(task: &Task, exits: &mut Vec<TaskExit>) {
    if let (Some(service), Some(dep)) = (&task.service, &task.deployment_id) {
        exits.push(TaskExit {
            service: service.clone(),
            deployment_id: dep.clone(),
            failure: crate::breaker::is_failure(task),
            never_ran: task.started_at.is_none() && task.stop_code == Some("TaskFailedToStart"),
        });
    }
}

/// The DescribeTasks shape of a task.
pub fn to_json(task: &Task) -> Value {
    let containers: Vec<Value> = task
        .containers
        .iter()
        .map(|c| {
            let mut v = json!({
                "containerArn": format!("{}/{}", task.arn.replace(":task/", ":container/"), c.runtime_id),
                "taskArn": task.arn,
                "name": c.name,
                "image": c.image,
                "runtimeId": c.runtime_id,
                "lastStatus": c.last_status,
                "networkBindings": [],
                "networkInterfaces": [],
                "healthStatus": c.health.as_ref().map_or("UNKNOWN", |h| h.status),
            });
            if let Some(code) = c.exit_code {
                v["exitCode"] = json!(code);
            }
            if let Some(r) = &c.reason {
                v["reason"] = json!(r);
            }
            v
        })
        .collect();
    let mut v = json!({
        "taskArn": task.arn,
        "clusterArn": task.cluster_arn,
        "taskDefinitionArn": task.task_definition_arn,
        "lastStatus": task.last_status,
        "desiredStatus": task.desired_status,
        "healthStatus": task.health,
        "createdAt": ts(task.created_at),
        "group": task.group,
        "launchType": task.launch_type,
        "containers": containers,
        "overrides": task.overrides,
        "attachments": task.attachments,
        "attributes": [],
        "tags": [],
        "version": task.version,
        "connectivity": "CONNECTED",
        "connectivityAt": ts(task.created_at + 0.1),
        "availabilityZone": "us-east-1a",
        "enableExecuteCommand": false,
    });
    if task.launch_type == "FARGATE" {
        v["platformVersion"] = json!("1.4.0");
        v["platformFamily"] = json!("Linux");
    }
    let opt = [
        ("cpu", task.cpu.as_ref().map(|x| json!(x))),
        ("memory", task.memory.as_ref().map(|x| json!(x))),
        ("startedBy", task.started_by.as_ref().map(|x| json!(x))),
        ("pullStartedAt", task.pull_started_at.map(ts)),
        ("pullStoppedAt", task.pull_stopped_at.map(ts)),
        ("startedAt", task.started_at.map(ts)),
        ("stoppingAt", task.stopping_at.map(ts)),
        ("stoppedAt", task.stopped_at.map(ts)),
        ("executionStoppedAt", task.stopped_at.map(ts)),
        ("stopCode", task.stop_code.map(|x| json!(x))),
        (
            "stoppedReason",
            task.stopped_reason.as_ref().map(|x| json!(x)),
        ),
    ];
    for (k, val) in opt {
        if let Some(val) = val {
            v[k] = val;
        }
    }
    v
}
