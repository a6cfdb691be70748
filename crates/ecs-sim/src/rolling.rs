//! Service scheduler: rolling deployments, circuit breaker, rollback, service-deployment records.

use serde_json::{Value, json};

use crate::state::{Deployment, ServiceDeployment, State, Strategy, TaskExit, ts};
use crate::tasks;

/// Per-deployment task counts.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub active: u64,
    /// Asked to stop but not STOPPED yet (draining, stopping, deprovisioning).
    pub draining: u64,
    pub healthy: u64,
    pub running: u64,
    pub pending: u64,
    /// (task id, healthy) of tasks still meant to run, oldest first.
    pub tasks: Vec<(String, bool)>,
}

pub fn counts(state: &State, key: &str, deployment_id: &str) -> Counts {
    let mut c = Counts::default();
    let mut list: Vec<(f64, String, bool)> = Vec::new();
    for t in state.tasks.values() {
        if t.service.as_deref() != Some(key) || t.deployment_id.as_deref() != Some(deployment_id) {
            continue;
        }
        if t.last_status == "RUNNING" {
            c.running += 1;
        }
        if t.desired_status == "STOPPED" && t.last_status != "STOPPED" {
            c.draining += 1;
        }
        if t.is_active() {
            c.active += 1;
            let healthy = crate::health::counts_healthy(t, state.now);
            if healthy {
                c.healthy += 1;
            }
            if matches!(t.last_status, "PROVISIONING" | "PENDING") {
                c.pending += 1;
            }
            list.push((t.created_at, t.id.clone(), healthy));
        }
    }
    list.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    c.tasks = list.into_iter().map(|(_, id, h)| (id, h)).collect();
    c
}

/// Circuit-breaker threshold with the default threshold configuration (see `breaker`).
pub fn threshold(desired: u64) -> u64 {
    crate::breaker::threshold(&Value::Null, desired)
}

fn pct(config: &Value, key: &str, default: u64) -> u64 {
    config
        .get(key)
        .and_then(Value::as_u64)
        .unwrap_or(default)
        .min(10_000)
}

pub fn breaker_config(config: &Value) -> (bool, bool) {
    let cb = config.get("deploymentCircuitBreaker");
    let get = |k: &str| {
        cb.and_then(|c| c.get(k))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    (get("enable"), get("rollback"))
}

pub fn strategy(config: &Value) -> Strategy {
    match config.get("strategy").and_then(Value::as_str) {
        Some("BLUE_GREEN") => Strategy::BlueGreen,
        Some("LINEAR") => Strategy::Linear,
        Some("CANARY") => Strategy::Canary,
        _ => Strategy::Rolling,
    }
}

/// Start a new deployment of `task_definition` for the service at `key`, superseding any
/// deployment in progress. Creates the service revision and the service-deployment record.
/// Returns the deployment id.
pub fn start_deployment(state: &mut State, key: &str, task_definition: &str) -> Option<String> {
    let now = state.now;
    let svc = state.services.get(key)?;
    let (cluster, name, service_arn) = (svc.cluster.clone(), svc.name.clone(), svc.arn.clone());
    let config = svc.deployment_configuration.clone();
    let network = svc.request.get("networkConfiguration").cloned();
    let launch_type = svc
        .request
        .get("launchType")
        .and_then(Value::as_str)
        .map(str::to_string);
    let desired = svc.desired_count;
    let previous = svc.deployments.first().map(|d| {
        (
            d.id.clone(),
            d.sd_arn.clone(),
            d.rollout_state,
            d.task_definition.clone(),
            d.revision_arn.clone(),
        )
    });
    let sources: Vec<String> = {
        let mut v: Vec<String> = Vec::new();
        for d in &svc.deployments {
            if !v.contains(&d.revision_arn) {
                v.push(d.revision_arn.clone());
            }
        }
        v
    };

    let id = format!("ecs-svc/{}", state.rng.digits(19));
    let rev_id = state.rng.digits(19);
    let revision_arn = state.arn(&format!("service-revision/{cluster}/{name}/{rev_id}"));
    let sd_id = state.rng.alnum(21);
    let sd_arn = state.arn(&format!("service-deployment/{cluster}/{name}/{sd_id}"));
    let cluster_arn = state.arn(&format!("cluster/{cluster}"));
    let mut revision = json!({
        "serviceRevisionArn": revision_arn,
        "serviceArn": service_arn,
        "clusterArn": cluster_arn,
        "taskDefinition": task_definition,
        "createdAt": ts(now),
        "loadBalancers": svc.request.get("loadBalancers").cloned().unwrap_or(json!([])),
        "serviceRegistries": svc.request.get("serviceRegistries").cloned().unwrap_or(json!([])),
    });
    if let Some(n) = &network {
        revision["networkConfiguration"] = n.clone();
    }
    if let Some(l) = &launch_type {
        revision["launchType"] = json!(l);
    }
    state.revisions.insert(revision_arn.clone(), revision);

    // Supersede the deployment in progress.
    if let Some((prev_id, prev_sd, prev_state, _, _)) = &previous {
        if *prev_state == "IN_PROGRESS"
            && let Some(sd) = state.service_deployments.get_mut(prev_sd)
            && matches!(
                sd.status,
                "PENDING"
                    | "IN_PROGRESS"
                    | "ROLLBACK_IN_PROGRESS"
                    | "STOP_REQUESTED"
                    | "ROLLBACK_REQUESTED"
            )
        {
            sd.status = "STOPPED";
            sd.status_reason = Some(format!(
                "Service deployment was superseded by a new service deployment ({sd_arn}) started for the service."
            ));
            sd.stopped_at = Some(now);
            sd.finished_at = Some(now);
            sd.updated_at = now;
            sd.lifecycle_stage = None;
        }
        let _ = prev_id;
    }
    let (enabled, _) = breaker_config(&config);
    let rollback_target = previous
        .as_ref()
        .map(|(_, _, _, td, rev)| (td.clone(), rev.clone()))
        .or_else(|| {
            state
                .services
                .get(key)
                .and_then(|s| s.last_completed.clone())
                .map(|(_, td, rev)| (td, rev))
        });
    state.service_deployments.insert(
        sd_arn.clone(),
        ServiceDeployment {
            arn: sd_arn.clone(),
            cluster: cluster.clone(),
            service: name.clone(),
            service_arn,
            cluster_arn,
            created_at: now,
            started_at: None,
            finished_at: None,
            stopped_at: None,
            updated_at: now,
            status: "PENDING",
            status_reason: None,
            source_revisions: sources,
            target_revision: revision_arn.clone(),
            deployment_configuration: config.clone(),
            breaker_enabled: enabled,
            breaker_status: if enabled { "MONITORING" } else { "DISABLED" },
            failure_count: 0,
            threshold: crate::breaker::threshold(&config, desired),
            rollback: None,
            rollback_target,
            // Traffic-shifting strategies report the stage their engine is in (bluegreen.rs).
            lifecycle_stage: (!strategy(&config).shifts_traffic()).then_some("RECONCILE_SERVICE"),
            hooks: Vec::new(),
            hook_rounds: Vec::new(),
            requested_stop: None,
            alarms: crate::alarms::Monitor::from_config(&config),
        },
    );
    let dep = Deployment {
        id: id.clone(),
        status: "PRIMARY",
        task_definition: task_definition.to_string(),
        revision_arn,
        sd_arn,
        created_at: now,
        updated_at: now,
        rollout_state: "IN_PROGRESS",
        rollout_reason: "ECS deployment ".to_string() + &id + " in progress.",
        failed_tasks: 0,
        running: 0,
        pending: 0,
        can_launch: true,
        next_launch_at: now,
        last_unplaceable_event: None,
        strategy: strategy(&config),
        network_configuration: network,
        launch_type,
        stage: 0,
        stage_started: now,
        bake_started: None,
        shifts: 0,
    };
    let svc = state.services.get_mut(key)?;
    // "If you update your service to use a new task definition, your service returns to a
    // normal, non-throttled state immediately" (service throttle logic).
    if svc.task_definition != task_definition {
        svc.start_failures = 0;
        svc.throttle_logged = false;
    }
    for d in &mut svc.deployments {
        d.status = "ACTIVE";
        d.updated_at = now;
    }
    svc.deployments.insert(0, dep);
    svc.task_definition = task_definition.to_string();
    svc.steady = false;
    Some(id)
}

/// Roll the service back to (task definition, revision). An ACTIVE deployment still on that
/// revision is promoted back to PRIMARY; otherwise a new deployment is started.
pub fn rollback_to(state: &mut State, key: &str, sd_arn: &str, td: &str, rev: &str, reason: &str) {
    let now = state.now;
    let new_id = format!("ecs-svc/{}", state.rng.digits(19));
    let Some(svc) = state.services.get_mut(key) else {
        return;
    };
    if let Some(p) = svc.deployments.first_mut() {
        p.status = "ACTIVE";
        p.can_launch = false;
        p.updated_at = now;
        if p.rollout_state == "IN_PROGRESS" {
            p.rollout_state = "FAILED";
            p.rollout_reason = format!("ECS deployment {} rolled back: {reason}", p.id);
        }
    }
    if let Some(pos) = svc
        .deployments
        .iter()
        .position(|d| d.status == "ACTIVE" && d.revision_arn == rev && d.rollout_state != "FAILED")
    {
        let mut d = svc.deployments.remove(pos);
        d.status = "PRIMARY";
        d.rollout_state = "IN_PROGRESS";
        d.rollout_reason = format!("ECS deployment {} in progress.", d.id);
        d.strategy = Strategy::Rolling;
        d.sd_arn = sd_arn.to_string();
        d.can_launch = true;
        d.bake_started = None;
        d.updated_at = now;
        svc.deployments.insert(0, d);
    } else {
        let template = svc.deployments.first().cloned();
        let dep = Deployment {
            id: new_id.clone(),
            status: "PRIMARY",
            task_definition: td.to_string(),
            revision_arn: rev.to_string(),
            sd_arn: sd_arn.to_string(),
            created_at: now,
            updated_at: now,
            rollout_state: "IN_PROGRESS",
            rollout_reason: format!("ECS deployment {new_id} in progress."),
            failed_tasks: 0,
            running: 0,
            pending: 0,
            can_launch: true,
            next_launch_at: now,
            last_unplaceable_event: None,
            strategy: Strategy::Rolling,
            network_configuration: template
                .as_ref()
                .and_then(|t| t.network_configuration.clone()),
            launch_type: template.and_then(|t| t.launch_type),
            stage: 0,
            stage_started: now,
            bake_started: None,
            shifts: 0,
        };
        svc.deployments.insert(0, dep);
    }
    svc.task_definition = td.to_string();
    svc.steady = false;
    if let Some(sd) = state.service_deployments.get_mut(sd_arn) {
        sd.status = "ROLLBACK_IN_PROGRESS";
        sd.updated_at = now;
        sd.rollback =
            Some(json!({"reason": reason, "startedAt": ts(now), "serviceRevisionArn": rev}));
    }
}

/// Run the scheduler for every service at `state.now`.
pub fn advance(state: &mut State) {
    let exits = std::mem::take(&mut state.exits);
    let healthy = std::mem::take(&mut state.became_healthy);
    let keys: Vec<String> = state.services.keys().cloned().collect();
    for key in keys {
        step_service(state, &key, &exits, &healthy);
    }
}

/// A stopped task: circuit-breaker count, and the relaunch delay (service throttle logic).
fn account_exit(state: &mut State, key: &str, e: &TaskExit) {
    let now = state.now;
    let Some(svc) = state.services.get_mut(key) else {
        return;
    };
    let name = svc.name.clone();
    if e.never_ran {
        svc.start_failures = svc.start_failures.saturating_add(1);
    } else {
        svc.start_failures = 0;
        svc.throttle_logged = false;
    }
    let delay = if e.never_ran {
        crate::timing::relaunch_delay(svc.start_failures)
    } else {
        crate::timing::REPLACEMENT_DELAY
    };
    let throttled = e.never_ran && svc.start_failures >= 2 && !svc.throttle_logged;
    if throttled {
        svc.throttle_logged = true;
    }
    if let Some(d) = svc.deployments.iter_mut().find(|d| d.id == e.deployment_id) {
        d.next_launch_at = d.next_launch_at.max(now + delay);
        d.updated_at = now;
        if e.failure {
            d.failed_tasks += 1;
            if d.status == "PRIMARY"
                && d.rollout_state == "IN_PROGRESS"
                && let Some(sd) = state.service_deployments.get_mut(&d.sd_arn)
            {
                sd.failure_count += 1;
                sd.updated_at = now;
            }
        }
    }
    if throttled {
        state.event(
            key,
            format!("(service {name}) is unable to consistently start tasks successfully."),
        );
    }
}

/// A task of `dep` first counted healthy: `resetOnHealthyTask` (default true) resets the
/// failure count ("The failure count resets to 0 each time a task reaches a healthy state").
fn account_healthy(state: &mut State, key: &str, dep: &str) {
    let Some(d) = state
        .services
        .get_mut(key)
        .and_then(|s| s.deployments.iter_mut().find(|d| d.id == dep))
    else {
        return;
    };
    if let Some(sd) = state.service_deployments.get_mut(&d.sd_arn)
        && crate::breaker::resets_on_healthy(&sd.deployment_configuration)
        && matches!(sd.status, "IN_PROGRESS" | "PENDING")
    {
        sd.failure_count = 0;
        d.failed_tasks = 0;
    }
}

/// The scheduler stops tasks that failed their container or ELB health checks (after the
/// grace period) and logs why.
fn replace_unhealthy(state: &mut State, key: &str) {
    let now = state.now;
    let Some(name) = state.services.get(key).map(|s| s.name.clone()) else {
        return;
    };
    let failed: Vec<(String, String)> = state
        .tasks
        .values()
        .filter(|t| t.service.as_deref() == Some(key))
        .filter_map(|t| crate::health::failed_check(t, now).map(|r| (t.id.clone(), r)))
        .collect();
    for (id, reason) in failed {
        let elb = reason.contains("ELB");
        let group = state
            .tasks
            .get(&id)
            .and_then(|t| t.target.as_ref())
            .map(|t| t.group_arn.clone())
            .unwrap_or_default();
        if let Some(t) = state.tasks.get_mut(&id) {
            t.stopped_for_health = true;
            tasks::request_stop(t, now, "ServiceSchedulerInitiated", reason);
        }
        let message = if elb {
            format!(
                "(service {name}) (task {id}) is unhealthy in (target-group {group}) due to (reason Health checks failed)."
            )
        } else {
            format!("(service {name}) (task {id}) failed container health checks.")
        };
        state.event(key, message);
        state.event(
            key,
            format!("(service {name}) has stopped 1 running tasks: (task {id})."),
        );
    }
}

fn step_service(state: &mut State, key: &str, exits: &[TaskExit], healthy: &[(String, String)]) {
    for e in exits.iter().filter(|e| e.service == key) {
        account_exit(state, key, e);
    }
    for (_, dep) in healthy.iter().filter(|(s, _)| s == key) {
        account_healthy(state, key, dep);
    }
    replace_unhealthy(state, key);
    let now = state.now;
    let Some(svc) = state.services.get(key) else {
        return;
    };
    if svc.status != "ACTIVE" {
        return;
    }
    let svc_name = svc.name.clone();
    let Some(primary) = svc.deployments.first().cloned() else {
        return;
    };

    // PENDING -> IN_PROGRESS on the scheduler's first pass.
    if let Some(sd) = state.service_deployments.get_mut(&primary.sd_arn)
        && sd.status == "PENDING"
    {
        sd.status = "IN_PROGRESS";
        sd.started_at = Some(now);
        sd.updated_at = now;
    }

    // Requested stops (StopServiceDeployment).
    let requested = state
        .service_deployments
        .get(&primary.sd_arn)
        .and_then(|sd| sd.requested_stop.clone());
    if let Some(kind) = requested {
        if let Some(sd) = state.service_deployments.get_mut(&primary.sd_arn) {
            sd.requested_stop = None;
        }
        apply_stop_request(state, key, &primary.sd_arn, &kind);
        return;
    }

    // Circuit breaker, on the latest desired count.
    let desired = state.services.get(key).map_or(0, |s| s.desired_count);
    if let Some(sd) = state.service_deployments.get_mut(&primary.sd_arn) {
        sd.threshold = crate::breaker::threshold(&sd.deployment_configuration, desired);
    }
    if primary.rollout_state == "IN_PROGRESS"
        && let Some(sd) = state.service_deployments.get(&primary.sd_arn)
        && sd.breaker_enabled
        && sd.failure_count >= sd.threshold
        && sd.status == "IN_PROGRESS"
    {
        fail_deployment(state, key, &primary, Failure::Breaker);
        return;
    }
    if let Some(firing) = alarms_firing(state, key, &primary) {
        fail_deployment(state, key, &primary, Failure::Alarms(firing));
        return;
    }

    if primary.strategy.shifts_traffic() && primary.rollout_state == "IN_PROGRESS" {
        crate::bluegreen::step(state, key);
    } else {
        rolling_step(state, key, &svc_name);
    }
    refresh(state, key, &svc_name);
}

fn apply_stop_request(state: &mut State, key: &str, sd_arn: &str, kind: &str) {
    let now = state.now;
    if kind == "ABORT" {
        if let Some(svc) = state.services.get_mut(key)
            && let Some(p) = svc.deployments.first_mut()
        {
            p.can_launch = false;
            p.rollout_state = "FAILED";
            p.rollout_reason = format!(
                "ECS deployment {} stopped by StopServiceDeployment (ABORT).",
                p.id
            );
        }
        if let Some(sd) = state.service_deployments.get_mut(sd_arn) {
            sd.status = "STOPPED";
            sd.status_reason = Some("Service deployment stopped by user request (StopServiceDeployment, stopType ABORT).".into());
            sd.stopped_at = Some(now);
            sd.finished_at = Some(now);
            sd.updated_at = now;
        }
        return;
    }
    let target = state
        .service_deployments
        .get(sd_arn)
        .and_then(|sd| sd.rollback_target.clone());
    match target {
        Some((td, rev)) => rollback_to(
            state,
            key,
            sd_arn,
            &td,
            &rev,
            "Service deployment rolled back because of a StopServiceDeployment request.",
        ),
        None => {
            if let Some(sd) = state.service_deployments.get_mut(sd_arn) {
                sd.status = "ROLLBACK_FAILED";
                sd.status_reason =
                    Some("There is no previous service revision to roll back to.".into());
                sd.finished_at = Some(now);
                sd.updated_at = now;
            }
            if let Some(svc) = state.services.get_mut(key)
                && let Some(p) = svc.deployments.first_mut()
            {
                p.can_launch = false;
                p.rollout_state = "FAILED";
            }
        }
    }
}

/// Why a deployment failed.
enum Failure {
    Breaker,
    Alarms(Vec<String>),
}

impl Failure {
    fn reason(&self) -> String {
        match self {
            Failure::Breaker => "ECS deployment circuit breaker: tasks failed to start.".into(),
            Failure::Alarms(names) => format!(
                "ECS deployment alarms: CloudWatch alarm(s) {} in ALARM state.",
                names.join(", ")
            ),
        }
    }
    fn event(&self) -> &'static str {
        match self {
            Failure::Breaker => "tasks failed to start.",
            Failure::Alarms(_) => "alarm detected.",
        }
    }
}

/// The configured alarms in ALARM for the primary deployment, once monitoring started (a
/// task of the deployment is RUNNING, or it is baking).
fn alarms_firing(state: &State, key: &str, primary: &Deployment) -> Option<Vec<String>> {
    let sd = state.service_deployments.get(&primary.sd_arn)?;
    if !sd.alarms.enabled || sd.status != "IN_PROGRESS" || primary.rollout_state != "IN_PROGRESS" {
        return None;
    }
    let started = primary.bake_started.is_some() || counts(state, key, &primary.id).running > 0;
    if !started {
        return None;
    }
    let firing = sd.alarms.firing(
        &state.scenario,
        &state.alarm_overrides,
        state.origin,
        sd.started_at.unwrap_or(sd.created_at),
        state.now,
    );
    (!firing.is_empty()).then_some(firing)
}

fn fail_deployment(state: &mut State, key: &str, primary: &Deployment, why: Failure) {
    let now = state.now;
    let Some(svc) = state.services.get_mut(key) else {
        return;
    };
    let name = svc.name.clone();
    let rollback = match &why {
        Failure::Breaker => breaker_config(&svc.deployment_configuration).1,
        Failure::Alarms(_) => state
            .service_deployments
            .get(&primary.sd_arn)
            .is_some_and(|sd| sd.alarms.rollback),
    };
    let reason = why.reason();
    let last = svc.last_completed.clone();
    if let Some(p) = svc.deployments.first_mut() {
        p.rollout_state = "FAILED";
        p.rollout_reason = reason.clone();
        p.can_launch = false;
        p.updated_at = now;
    }
    state.event(
        key,
        format!(
            "(service {name}) (deployment {}) deployment failed: {}",
            primary.id,
            why.event()
        ),
    );
    let sd_arn = primary.sd_arn.clone();
    if let Some(sd) = state.service_deployments.get_mut(&sd_arn) {
        match &why {
            Failure::Breaker => sd.breaker_status = "TRIGGERED",
            Failure::Alarms(names) => sd.alarms.triggered = names.clone(),
        }
        sd.updated_at = now;
    }
    if !rollback {
        if let Some(sd) = state.service_deployments.get_mut(&sd_arn) {
            sd.status = "STOPPED";
            sd.status_reason = Some(reason);
            sd.stopped_at = Some(now);
            sd.finished_at = Some(now);
        }
        return;
    }
    let trigger = match why {
        Failure::Breaker => "Circuit Breaker triggered",
        Failure::Alarms(_) => "CloudWatch alarm triggered",
    };
    match last {
        Some((dep_id, td, rev)) if rev != primary.revision_arn => {
            state.event(
                key,
                format!("(service {name}) rolling back to deployment {dep_id}."),
            );
            rollback_to(
                state,
                key,
                &sd_arn,
                &td,
                &rev,
                &format!("{trigger}. Rolling back to the last COMPLETED deployment ({dep_id})."),
            );
        }
        _ => {
            if let Some(sd) = state.service_deployments.get_mut(&sd_arn) {
                sd.status = "ROLLBACK_FAILED";
                sd.status_reason = Some(format!(
                    "{reason} No deployment in the COMPLETED state to roll back to."
                ));
                sd.finished_at = Some(now);
            }
        }
    }
}

fn stop_tasks(state: &mut State, key: &str, name: &str, ids: &[String], by: &str) {
    if ids.is_empty() {
        return;
    }
    let now = state.now;
    for id in ids {
        if let Some(t) = state.tasks.get_mut(id) {
            tasks::request_stop(
                t,
                now,
                "ServiceSchedulerInitiated",
                format!("Scaling activity initiated by (deployment {by})"),
            );
        }
    }
    let list: Vec<String> = ids.iter().map(|i| format!("(task {i})")).collect();
    state.event(
        key,
        format!(
            "(service {name}) has stopped {} running tasks: {}.",
            ids.len(),
            list.join(" ")
        ),
    );
}

/// Launch up to `n` tasks for the primary deployment; returns false when unplaceable.
pub fn launch_tasks(state: &mut State, key: &str, name: &str, n: u64) {
    if n == 0 {
        return;
    }
    let Some(svc) = state.services.get(key) else {
        return;
    };
    let Some(p) = svc.deployments.first().cloned() else {
        return;
    };
    let cluster = svc.cluster.clone();
    let Some(td) = state.find_task_def(&p.task_definition).cloned() else {
        return;
    };
    if tasks::unplaceable(state, &td) {
        unplaceable_attempt(state, key, name, &p, &td, n);
        return;
    }
    let (target, grace) = service_target(state, key);
    let mut ids = Vec::new();
    for _ in 0..n {
        let id = tasks::launch(
            state,
            tasks::Launch {
                cluster: &cluster,
                task_def: &td,
                group: format!("service:{name}"),
                started_by: Some(p.id.clone()),
                service: Some(key.to_string()),
                deployment_id: Some(p.id.clone()),
                overrides: None,
                network_configuration: p.network_configuration.as_ref(),
                launch_type: p.launch_type.as_deref(),
                target: target.clone(),
                grace,
            },
        );
        ids.push(format!("(task {id})"));
    }
    state.event(
        key,
        format!(
            "(service {name}) has started {} tasks: {}.",
            ids.len(),
            ids.join(" ")
        ),
    );
}

/// (target group ARN, container name) of the service's first load balancer, and its
/// `healthCheckGracePeriodSeconds`.
fn service_target(state: &State, key: &str) -> (Option<(String, String)>, f64) {
    let Some(svc) = state.services.get(key) else {
        return (None, 0.0);
    };
    let lb = svc
        .request
        .get("loadBalancers")
        .and_then(Value::as_array)
        .and_then(|l| l.first());
    let target = lb.map(|lb| {
        let s = |k: &str| lb.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let group = match s("targetGroupArn") {
            g if g.is_empty() => format!("loadBalancer/{}", s("loadBalancerName")),
            g => g,
        };
        (group, s("containerName"))
    });
    let grace = svc
        .request
        .get("healthCheckGracePeriodSeconds")
        .and_then(Value::as_f64)
        .unwrap_or(0.0)
        .clamp(0.0, 2_147_483_647.0);
    (target, grace)
}

/// One failed placement of `n` tasks: each counts as a task "the service scheduler can't
/// launch" (Deployment.failedTasks), and lack of resources starts the service throttle logic.
fn unplaceable_attempt(
    state: &mut State,
    key: &str,
    name: &str,
    p: &Deployment,
    td: &Value,
    n: u64,
) {
    let now = state.now;
    let reason = state
        .scenario
        .behavior_for(&first_unplaceable_image(state, td))
        .reason
        .clone()
        .unwrap_or_else(|| "No Container Instances were found in your cluster.".into());
    let Some(svc) = state.services.get_mut(key) else {
        return;
    };
    svc.start_failures = svc.start_failures.saturating_add(1);
    let delay =
        crate::timing::PLACEMENT_RETRY.max(crate::timing::relaunch_delay(svc.start_failures));
    let throttled = svc.start_failures >= 2 && !svc.throttle_logged;
    svc.throttle_logged |= throttled;
    if let Some(d) = svc.deployments.first_mut() {
        d.last_unplaceable_event = Some(now);
        d.next_launch_at = now + delay;
        d.failed_tasks += n;
    }
    if p.rollout_state == "IN_PROGRESS"
        && let Some(sd) = state.service_deployments.get_mut(&p.sd_arn)
        && sd.status == "IN_PROGRESS"
    {
        sd.failure_count += n;
        sd.updated_at = now;
    }
    state.event(
        key,
        format!(
            "(service {name}) was unable to place a task because no container instance met all of its requirements. Reason: {reason} For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."
        ),
    );
    if throttled {
        state.event(
            key,
            format!("(service {name}) is unable to consistently start tasks successfully."),
        );
    }
}

fn first_unplaceable_image(state: &State, td: &Value) -> String {
    td.get("containerDefinitions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("image").and_then(Value::as_str))
        .find(|i| state.scenario.behavior_for(i).kind == crate::scenario::Kind::Unplaceable)
        .unwrap_or("")
        .to_string()
}

fn rolling_step(state: &mut State, key: &str, name: &str) {
    let now = state.now;
    let Some(svc) = state.services.get(key) else {
        return;
    };
    let desired = svc.desired_count;
    let config = svc.deployment_configuration.clone();
    let deployments = svc.deployments.clone();
    let Some(p) = deployments.first() else { return };
    let min_pct = pct(&config, "minimumHealthyPercent", 100);
    let max_pct = pct(&config, "maximumPercent", 200);
    let max_total = if desired == 0 {
        0
    } else {
        (desired * max_pct / 100).max(1)
    };
    let min_healthy = (desired * min_pct).div_ceil(100);

    let pc = counts(state, key, &p.id);
    let olds: Vec<(String, Counts)> = deployments[1..]
        .iter()
        .map(|d| (d.id.clone(), counts(state, key, &d.id)))
        .collect();
    let total: u64 = pc.active + olds.iter().map(|(_, c)| c.active).sum::<u64>();

    // Scale in (desired count lowered): stop surplus primary tasks, unhealthy first.
    if pc.active > desired {
        let mut order = pc.tasks.clone();
        order.sort_by_key(|(_, h)| *h);
        let ids: Vec<String> = order
            .into_iter()
            .take((pc.active - desired) as usize)
            .map(|(id, _)| id)
            .collect();
        stop_tasks(state, key, name, &ids, &p.id);
    } else if p.can_launch && now >= p.next_launch_at && p.rollout_state != "FAILED" {
        let room = max_total.saturating_sub(total);
        let n = (desired - pc.active).min(room);
        launch_tasks(state, key, name, n);
    }

    // Drain older deployments while keeping the minimum healthy.
    let mut healthy_total = pc.healthy + olds.iter().map(|(_, c)| c.healthy).sum::<u64>();
    let mut to_stop = Vec::new();
    for (_, c) in olds.iter().rev() {
        for (id, healthy) in &c.tasks {
            if !healthy || pc.healthy >= desired {
                to_stop.push(id.clone());
                if *healthy {
                    healthy_total = healthy_total.saturating_sub(1);
                }
            } else if healthy_total > min_healthy {
                to_stop.push(id.clone());
                healthy_total -= 1;
            }
        }
    }
    stop_tasks(state, key, name, &to_stop, &p.id);

    // Completion: the target is reached once the new tasks are healthy and every old task
    // has STOPPED (draining and stopping included); then the bake time, if any.
    let old_left: u64 = olds
        .iter()
        .map(|(id, _)| {
            let c = counts(state, key, id);
            c.active + c.draining
        })
        .sum();
    let pc = counts(state, key, &p.id);
    if p.rollout_state == "IN_PROGRESS"
        && pc.healthy >= desired
        && pc.active == desired
        && old_left == 0
        && bake_done(state, key, p)
    {
        complete(state, key, name);
    }
}

/// Rolling bake time: an explicit `bakeTimeInMinutes` (the API reference documents it for
/// BLUE_GREEN; DeploymentEarlySuccessCriteria says a rolling deployment completes "after this
/// percentage of tasks is healthy and the bake time elapses"), and the bake time the
/// deployment alarms add. Default 0.
fn bake_done(state: &mut State, key: &str, p: &Deployment) -> bool {
    let now = state.now;
    let Some(sd) = state.service_deployments.get(&p.sd_arn) else {
        return true;
    };
    let explicit = sd
        .deployment_configuration
        .get("bakeTimeInMinutes")
        .and_then(Value::as_f64)
        .unwrap_or(0.0)
        .clamp(0.0, 1440.0)
        * 60.0;
    let bake = explicit.max(sd.alarms.bake_seconds(&state.scenario));
    if bake <= 0.0 {
        return true;
    }
    let Some(d) = state
        .services
        .get_mut(key)
        .and_then(|s| s.deployments.first_mut())
    else {
        return true;
    };
    let started = *d.bake_started.get_or_insert(now);
    now >= started + bake
}

/// Mark the primary deployment COMPLETED, drop the drained ones, finish its record.
pub fn complete(state: &mut State, key: &str, name: &str) {
    let now = state.now;
    let Some(svc) = state.services.get_mut(key) else {
        return;
    };
    let Some(p) = svc.deployments.first_mut() else {
        return;
    };
    p.rollout_state = "COMPLETED";
    p.rollout_reason = format!("ECS deployment {} completed.", p.id);
    p.updated_at = now;
    let (id, td, rev, sd_arn) = (
        p.id.clone(),
        p.task_definition.clone(),
        p.revision_arn.clone(),
        p.sd_arn.clone(),
    );
    svc.deployments.truncate(1);
    svc.last_completed = Some((id.clone(), td, rev));
    if let Some(sd) = state.service_deployments.get_mut(&sd_arn) {
        sd.status = match sd.status {
            "ROLLBACK_IN_PROGRESS" | "ROLLBACK_REQUESTED" => "ROLLBACK_SUCCESSFUL",
            "IN_PROGRESS" | "PENDING" => "SUCCESSFUL",
            other => other,
        };
        if sd.finished_at.is_none() {
            sd.finished_at = Some(now);
        }
        sd.updated_at = now;
        sd.lifecycle_stage = None;
        if sd.breaker_status == "MONITORING" {
            sd.breaker_status = "MONITORING_COMPLETE";
        }
        sd.alarms.completed = true;
    }
    state.event(
        key,
        format!("(service {name}) (deployment {id}) deployment completed."),
    );
}

/// Update the counts shown in `deployments[]` and emit "has reached a steady state".
fn refresh(state: &mut State, key: &str, name: &str) {
    let ids: Vec<String> = state
        .services
        .get(key)
        .map(|s| s.deployments.iter().map(|d| d.id.clone()).collect())
        .unwrap_or_default();
    let all: Vec<Counts> = ids.iter().map(|id| counts(state, key, id)).collect();
    let Some(svc) = state.services.get_mut(key) else {
        return;
    };
    for (d, c) in svc.deployments.iter_mut().zip(&all) {
        d.running = c.running;
        d.pending = c.pending;
    }
    let stable = svc.deployments.len() == 1
        && svc.deployments[0].rollout_state == "COMPLETED"
        && all
            .first()
            .is_some_and(|c| c.running == svc.desired_count && c.active == svc.desired_count);
    if stable && !svc.steady {
        svc.steady = true;
        state.event(key, format!("(service {name}) has reached a steady state."));
    } else if !stable {
        svc.steady = false;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scenario::Scenario;

    fn call(state: &mut State, op: &str, body: Value) -> Value {
        crate::ops::handle(state, op, &body).unwrap_or_else(|e| panic!("{op}: {e:?}"))
    }

    fn setup(desired: u64, min: u64, max: u64) -> State {
        setup_with(Scenario::default(), desired, min, max)
    }

    fn setup_with(scenario: Scenario, desired: u64, min: u64, max: u64) -> State {
        let mut st = State::new(scenario, 1, 1_000_000.0);
        call(&mut st, "CreateCluster", json!({"clusterName": "c"}));
        for image in ["a:1", "a:2"] {
            call(
                &mut st,
                "RegisterTaskDefinition",
                json!({"family": "a", "containerDefinitions": [{"name": "a", "image": image,
                    "healthCheck": {"command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"], "interval": 10}}]}),
            );
        }
        call(
            &mut st,
            "CreateService",
            json!({"cluster": "c", "serviceName": "s", "taskDefinition": "a:1", "desiredCount": desired,
                   "deploymentConfiguration": {"minimumHealthyPercent": min, "maximumPercent": max}}),
        );
        let t = st.now + 300.0;
        st.advance(t);
        assert_eq!(st.services["c/s"].deployments[0].rollout_state, "COMPLETED");
        st
    }

    #[test]
    fn blue_green_crash_trips_breaker_and_keeps_blue() {
        let scenario =
            Scenario::from_yaml("images: {'a:2': {kind: crash-loop}}").expect("scenario");
        let mut st = setup_with(scenario, 2, 100, 200);
        let blue: Vec<String> = st
            .tasks
            .values()
            .filter(|t| t.is_active())
            .map(|t| t.id.clone())
            .collect();
        call(
            &mut st,
            "UpdateService",
            json!({"cluster": "c", "service": "s", "taskDefinition": "a:2",
                   "deploymentConfiguration": {"strategy": "BLUE_GREEN",
                       "deploymentCircuitBreaker": {"enable": true, "rollback": true}}}),
        );
        let sd_arn = st.services["c/s"].deployments[0].sd_arn.clone();
        let t = st.now + 1200.0;
        st.advance(t);
        let sd = &st.service_deployments[&sd_arn];
        assert_eq!(sd.status, "ROLLBACK_SUCCESSFUL");
        assert_eq!(sd.breaker_status, "TRIGGERED");
        let svc = &st.services["c/s"];
        assert!(svc.task_definition.ends_with("a:1"));
        assert_eq!(svc.deployments.len(), 1);
        // Blue tasks were never replaced.
        let active: Vec<String> = st
            .tasks
            .values()
            .filter(|t| t.is_active())
            .map(|t| t.id.clone())
            .collect();
        assert_eq!(active, blue);
    }

    #[test]
    fn threshold_is_clamped() {
        assert_eq!(threshold(1), 3);
        assert_eq!(threshold(10), 5);
        assert_eq!(threshold(11), 6);
        assert_eq!(threshold(1000), 200);
    }

    #[test]
    fn rolling_respects_min_and_max_percent() {
        let mut st = setup(4, 50, 100);
        call(
            &mut st,
            "UpdateService",
            json!({"cluster": "c", "service": "s", "taskDefinition": "a:2"}),
        );
        let (mut max_active, mut min_healthy) = (0, u64::MAX);
        for _ in 0..900 {
            let t = st.now + 1.0;
            st.advance(t);
            let active = st.tasks.values().filter(|t| t.is_active()).count() as u64;
            let healthy = st
                .tasks
                .values()
                .filter(|t| t.is_active() && t.last_status == "RUNNING")
                .count() as u64;
            max_active = max_active.max(active);
            min_healthy = min_healthy.min(healthy);
        }
        let svc = &st.services["c/s"];
        assert_eq!(svc.deployments.len(), 1);
        assert_eq!(svc.deployments[0].rollout_state, "COMPLETED");
        assert!(svc.task_definition.ends_with("a:2"));
        assert!(max_active <= 4, "maximumPercent 100 exceeded: {max_active}");
        assert!(
            min_healthy >= 2,
            "minimumHealthyPercent 50 violated: {min_healthy}"
        );
    }

    #[test]
    fn scale_in_without_new_deployment() {
        let mut st = setup(3, 100, 200);
        let before = st.service_deployments.len();
        call(
            &mut st,
            "UpdateService",
            json!({"cluster": "c", "service": "s", "desiredCount": 1}),
        );
        let t = st.now + 60.0;
        st.advance(t);
        assert_eq!(st.service_deployments.len(), before);
        assert_eq!(st.tasks.values().filter(|t| t.is_active()).count(), 1);
        assert_eq!(
            st.services["c/s"].events[0]["message"],
            "(service s) has reached a steady state."
        );
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let mut st = State::new(Scenario::default(), 1, 0.0);
        for op in [
            "CreateService",
            "UpdateService",
            "RunTask",
            "DescribeTasks",
            "StopTask",
            "RegisterTaskDefinition",
            "ListServiceDeployments",
            "DescribeServiceDeployments",
            "StopServiceDeployment",
            "ContinueServiceDeployment",
            "DescribeServices",
            "DeregisterTaskDefinition",
            "TagResource",
            "Bogus",
        ] {
            for body in [
                json!({}),
                json!({"cluster": 5, "taskDefinition": [], "desiredCount": -1, "family": "x/y"}),
                json!({"containerDefinitions": "nope", "family": "f", "nextToken": "99999999999999999999", "maxResults": i64::MAX}),
            ] {
                let _ = crate::ops::handle(&mut st, op, &body);
            }
        }
        for op in ["GetLogEvents", "FilterLogEvents", "DescribeLogStreams"] {
            let _ = crate::logs::handle(
                &mut st,
                op,
                &json!({"logGroupName": "g", "logStreamName": "s", "nextToken": "f/999999999999999999999", "limit": -5}),
            );
        }
    }
}
