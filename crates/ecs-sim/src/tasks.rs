//! Task lifecycle: PROVISIONING -> PENDING -> RUNNING -> (DEACTIVATING ->) STOPPED.

use serde_json::{Value, json};

use crate::scenario::Kind;
use crate::state::{ContainerState, LogLine, Plan, State, Task, TaskExit, ts};

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

    // Per-container behaviour.
    let mut running_at = now + 1.0;
    let mut fail: Option<(f64, String)> = None;
    let mut healthy = true;
    let mut cs = Vec::new();
    let behaviors: Vec<_> = defs
        .iter()
        .map(|c| {
            let image = c.get("image").and_then(Value::as_str).unwrap_or("");
            let command = effective_command(c, l.overrides);
            state
                .scenario
                .behavior_for_container(image, command.as_deref())
                .clone()
        })
        .collect();
    for (c, b) in defs.iter().zip(&behaviors) {
        let image = c
            .get("image")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let essential = c.get("essential").and_then(Value::as_bool).unwrap_or(true);
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
        if essential && !matches!(b.kind, Kind::Healthy | Kind::DiesAfter) {
            healthy = false;
        }
        let _ = image;
    }
    for (c, b) in defs.iter().zip(&behaviors) {
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
            Kind::CrashLoop | Kind::DiesAfter | Kind::Exits => {
                Some(running_at + b.after().max(0.001))
            }
            _ => None,
        };
        let log_target = awslogs_target(c, &name, &id);
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
        cs.push(ContainerState {
            name,
            image,
            essential,
            last_status: "PENDING",
            exit_code: None,
            reason: None,
            runtime_id: format!("{}-{}", id, state.rng.digits(10)),
            log_target,
            logs,
            exit_at,
            exit_code_planned: b.exit_code(),
        });
    }
    let plan = Plan {
        pending_at: now + (running_at - now).min(1.0) / 2.0,
        running_at: if fail.is_some() {
            None
        } else {
            Some(running_at)
        },
        healthy: healthy && fail.is_none(),
        fail_to_start_at: fail.as_ref().map(|(t, _)| *t),
        fail_reason: fail.map(|(_, r)| r),
    };
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
        ever_healthy: false,
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

/// Ask a task to stop (user or scheduler). It reaches STOPPED one simulated second later.
pub fn request_stop(task: &mut Task, now: f64, code: &'static str, reason: String) {
    if task.last_status == "STOPPED" || task.desired_status == "STOPPED" {
        return;
    }
    task.desired_status = "STOPPED";
    task.stopping_at = Some(now);
    task.stop_code = Some(code);
    task.stopped_reason = Some(reason);
    if task.last_status == "RUNNING" {
        task.last_status = "DEACTIVATING";
    }
    task.version += 1;
}

/// Move every task along its plan up to `state.now`.
pub fn advance(state: &mut State) {
    let now = state.now;
    let mut exits = Vec::new();
    for task in state.tasks.values_mut() {
        if task.last_status == "STOPPED" {
            continue;
        }
        // Requested stops complete after 1 s.
        if task.desired_status == "STOPPED" {
            if task.stopping_at.is_some_and(|t| now >= t + 1.0) {
                finish_stop(task, now, 143, &mut exits, false);
            }
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
            push_exit(task, true, &mut exits);
            continue;
        }
        if let Some(at) = task.plan.running_at
            && task.last_status != "RUNNING"
            && now >= at
        {
            task.last_status = "RUNNING";
            task.pull_stopped_at = Some(at - 0.2);
            task.started_at = Some(at);
            for c in &mut task.containers {
                c.last_status = "RUNNING";
            }
            if task.plan.healthy {
                task.health = "HEALTHY";
                task.ever_healthy = true;
            }
            task.version += 1;
        }
        if task.last_status == "RUNNING" {
            // Containers that exit on their own.
            let mut essential_exit: Option<(f64, String)> = None;
            for c in &mut task.containers {
                if c.last_status == "RUNNING"
                    && let Some(at) = c.exit_at
                    && now >= at
                {
                    c.last_status = "STOPPED";
                    c.exit_code = Some(c.exit_code_planned);
                    if c.essential && essential_exit.as_ref().is_none_or(|(t, _)| at < *t) {
                        essential_exit = Some((at, c.name.clone()));
                    }
                }
            }
            if let Some((at, _name)) = essential_exit {
                task.desired_status = "STOPPED";
                task.stop_code = Some("EssentialContainerExited");
                task.stopped_reason = Some("Essential container in task exited".into());
                task.stopping_at = Some(at);
                let failure = !task.ever_healthy;
                finish_stop(task, at, 137, &mut exits, failure);
            }
        }
    }
    state.exits.extend(exits);
}

fn finish_stop(
    task: &mut Task,
    at: f64,
    other_exit: i32,
    exits: &mut Vec<TaskExit>,
    failure: bool,
) {
    let was_running = task.started_at.is_some();
    task.last_status = "STOPPED";
    task.stopped_at = Some(at);
    task.health = if task.ever_healthy {
        task.health
    } else {
        "UNKNOWN"
    };
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
    push_exit(task, failure, exits);
}

fn push_exit(task: &Task, failure: bool, exits: &mut Vec<TaskExit>) {
    if let (Some(service), Some(dep)) = (&task.service, &task.deployment_id) {
        exits.push(TaskExit {
            service: service.clone(),
            deployment_id: dep.clone(),
            failure,
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
                "healthStatus": if task.health == "HEALTHY" { "HEALTHY" } else { "UNKNOWN" },
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
