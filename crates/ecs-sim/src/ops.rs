//! ECS operation handlers: thin functions over `State`.

use serde_json::{Value, json};

use crate::protocol::{ApiError, ApiResult, boolean, int, required, s, short_name, strings};
use crate::rolling::{self, counts};
use crate::state::{ACCOUNT, Cluster, Service, State, service_key, ts};
use crate::tasks;

pub fn handle(state: &mut State, op: &str, body: &Value) -> ApiResult {
    match op {
        "CreateCluster" => create_cluster(state, body),
        "DescribeClusters" => describe_clusters(state, body),
        "ListClusters" => Ok(
            json!({"clusterArns": state.clusters.values().map(|c| c.arn.clone()).collect::<Vec<_>>()}),
        ),
        "RegisterTaskDefinition" => register_task_definition(state, body),
        "DescribeTaskDefinition" => describe_task_definition(state, body),
        "ListTaskDefinitions" => list_task_definitions(state, body),
        "ListTaskDefinitionFamilies" => list_families(state, body),
        "DeregisterTaskDefinition" => deregister_task_definition(state, body),
        "TagResource" => tag_resource(state, body),
        "UntagResource" => untag_resource(state, body),
        "ListTagsForResource" => list_tags(state, body),
        "CreateService" => create_service(state, body),
        "DescribeServices" => describe_services(state, body),
        "UpdateService" => update_service(state, body),
        "DeleteService" => delete_service(state, body),
        "ListServices" => list_services(state, body),
        "ListServiceDeployments" => list_service_deployments(state, body),
        "DescribeServiceDeployments" => describe_service_deployments(state, body),
        "StopServiceDeployment" => stop_service_deployment(state, body),
        "ContinueServiceDeployment" => crate::hooks::continue_deployment(state, body),
        "DescribeServiceRevisions" => describe_service_revisions(state, body),
        "RunTask" => run_task(state, body),
        "DescribeTasks" => describe_tasks(state, body),
        "ListTasks" => list_tasks(state, body),
        "StopTask" => stop_task(state, body),
        _ => Err(ApiError::new(
            400,
            "UnknownOperationException",
            format!("Operation {op} is not supported by ecs-sim."),
        )),
    }
}

fn cluster_name(body: &Value) -> String {
    short_name(s(body, "cluster").unwrap_or("default")).to_string()
}

fn need_cluster(state: &State, body: &Value) -> Result<String, ApiError> {
    let name = cluster_name(body);
    if state.clusters.contains_key(&name) {
        Ok(name)
    } else {
        Err(ApiError::cluster_not_found())
    }
}

fn tags_of(state: &State, arn: &str) -> Value {
    json!(state.tags.get(arn).cloned().unwrap_or_default())
}

fn set_tags(state: &mut State, arn: &str, tags: Option<&Value>) {
    let Some(list) = tags.and_then(Value::as_array) else {
        return;
    };
    let entry = state.tags.entry(arn.to_string()).or_default();
    for t in list {
        let Some(k) = t.get("key").and_then(Value::as_str) else {
            continue;
        };
        entry.retain(|e| e.get("key").and_then(Value::as_str) != Some(k));
        entry
            .push(json!({"key": k, "value": t.get("value").and_then(Value::as_str).unwrap_or("")}));
    }
}

fn include_tags(body: &Value) -> bool {
    strings(body, "include").iter().any(|i| i == "TAGS")
}

// ---- clusters -------------------------------------------------------------------------------

fn cluster_json(state: &State, c: &Cluster, with_tags: bool) -> Value {
    let running = state
        .tasks
        .values()
        .filter(|t| t.cluster == c.name && t.last_status == "RUNNING")
        .count();
    let pending = state
        .tasks
        .values()
        .filter(|t| t.cluster == c.name && matches!(t.last_status, "PROVISIONING" | "PENDING"))
        .count();
    let services = state
        .services
        .values()
        .filter(|s| s.cluster == c.name && s.status == "ACTIVE")
        .count();
    let mut v = json!({
        "clusterArn": c.arn, "clusterName": c.name, "status": "ACTIVE",
        "registeredContainerInstancesCount": 0, "runningTasksCount": running, "pendingTasksCount": pending,
        "activeServicesCount": services, "statistics": [], "settings": c.request.get("settings").cloned().unwrap_or(json!([])),
        "capacityProviders": c.request.get("capacityProviders").cloned().unwrap_or(json!([])),
        "defaultCapacityProviderStrategy": c.request.get("defaultCapacityProviderStrategy").cloned().unwrap_or(json!([])),
    });
    if with_tags {
        v["tags"] = tags_of(state, &c.arn);
    }
    v
}

fn create_cluster(state: &mut State, body: &Value) -> ApiResult {
    let name = s(body, "clusterName").unwrap_or("default").to_string();
    let arn = state.arn(&format!("cluster/{name}"));
    if !state.clusters.contains_key(&name) {
        state.clusters.insert(
            name.clone(),
            Cluster {
                name: name.clone(),
                arn: arn.clone(),
                request: body.clone(),
            },
        );
        set_tags(state, &arn, body.get("tags"));
    }
    let c = state
        .clusters
        .get(&name)
        .cloned()
        .ok_or_else(ApiError::server)?;
    Ok(json!({"cluster": cluster_json(state, &c, true)}))
}

fn describe_clusters(state: &mut State, body: &Value) -> ApiResult {
    let mut names = strings(body, "clusters");
    if names.is_empty() {
        names.push("default".into());
    }
    let (mut out, mut failures) = (Vec::new(), Vec::new());
    for n in names {
        match state.clusters.get(short_name(&n)) {
            Some(c) => out.push(cluster_json(state, c, include_tags(body))),
            None => failures.push(json!({"arn": if n.starts_with("arn:") { n.clone() } else { state.arn(&format!("cluster/{n}")) }, "reason": "MISSING"})),
        }
    }
    Ok(json!({"clusters": out, "failures": failures}))
}

// ---- task definitions -----------------------------------------------------------------------

fn register_task_definition(state: &mut State, body: &Value) -> ApiResult {
    let family = required(body, "family")?.to_string();
    if !family
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        || family.len() > 255
    {
        return Err(ApiError::client(
            "Family contains invalid characters: up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.",
        ));
    }
    let defs = body.get("containerDefinitions").and_then(Value::as_array);
    if defs.is_none_or(|d| d.is_empty()) {
        return Err(ApiError::client("Container list cannot be empty."));
    }
    for c in defs.into_iter().flatten() {
        if c.get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
            || c.get("image")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        {
            return Err(ApiError::client(
                "Container.name and Container.image should not be null or empty.",
            ));
        }
    }
    let revision = state.task_defs.get(&family).map(|r| r.len()).unwrap_or(0) + 1;
    let arn = state.arn(&format!("task-definition/{family}:{revision}"));
    let mut td = body.clone();
    let Some(obj) = td.as_object_mut() else {
        return Err(ApiError::serialization("Expected a JSON object."));
    };
    obj.remove("tags");
    let mut compat: Vec<Value> = vec![json!("EC2")];
    for c in body
        .get("requiresCompatibilities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if !compat.contains(c) {
            compat.push(c.clone());
        }
    }
    obj.insert("taskDefinitionArn".into(), json!(arn));
    obj.insert("revision".into(), json!(revision));
    obj.insert("status".into(), json!("ACTIVE"));
    obj.insert("registeredAt".into(), ts(state.now));
    obj.insert(
        "registeredBy".into(),
        json!(format!("arn:aws:iam::{ACCOUNT}:root")),
    );
    obj.insert("compatibilities".into(), json!(compat));
    obj.entry("requiresAttributes").or_insert(json!([]));
    obj.entry("volumes").or_insert(json!([]));
    obj.entry("placementConstraints").or_insert(json!([]));
    state.task_defs.entry(family).or_default().push(td.clone());
    set_tags(state, &arn, body.get("tags"));
    Ok(json!({"taskDefinition": td, "tags": tags_of(state, &arn)}))
}

fn describe_task_definition(state: &mut State, body: &Value) -> ApiResult {
    let r = required(body, "taskDefinition")?;
    let td = state
        .find_task_def(r)
        .cloned()
        .ok_or_else(|| ApiError::client("Unable to describe task definition."))?;
    let mut out = json!({"taskDefinition": td});
    if include_tags(body) {
        let arn = td
            .get("taskDefinitionArn")
            .and_then(Value::as_str)
            .unwrap_or("");
        out["tags"] = tags_of(state, arn);
    }
    Ok(out)
}

fn paginate(items: Vec<String>, body: &Value, key: &str) -> Value {
    let start = s(body, "nextToken")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0)
        .min(items.len());
    let max = int(body, "maxResults")
        .filter(|m| *m > 0)
        .map(|m| m as usize)
        .unwrap_or(100);
    let end = start.saturating_add(max).min(items.len());
    let mut out = json!({ key: items[start..end].to_vec() });
    if end < items.len() {
        out["nextToken"] = json!(end.to_string());
    }
    out
}

fn list_task_definitions(state: &mut State, body: &Value) -> ApiResult {
    let family = s(body, "familyPrefix");
    let status = s(body, "status").unwrap_or("ACTIVE");
    let mut arns: Vec<String> = state
        .task_defs
        .iter()
        .filter(|(f, _)| family.is_none_or(|p| *f == p))
        .flat_map(|(_, revs)| revs.iter())
        .filter(|td| td.get("status").and_then(Value::as_str) == Some(status))
        .filter_map(|td| {
            td.get("taskDefinitionArn")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    if s(body, "sort") == Some("DESC") {
        arns.reverse();
    }
    Ok(paginate(arns, body, "taskDefinitionArns"))
}

fn list_families(state: &mut State, body: &Value) -> ApiResult {
    let prefix = s(body, "familyPrefix").unwrap_or("");
    let fams = state
        .task_defs
        .keys()
        .filter(|f| f.starts_with(prefix))
        .cloned()
        .collect();
    Ok(paginate(fams, body, "families"))
}

fn deregister_task_definition(state: &mut State, body: &Value) -> ApiResult {
    let r = required(body, "taskDefinition")?;
    let tail = r.rsplit('/').next().unwrap_or(r);
    let Some((family, rev)) = tail.rsplit_once(':') else {
        return Err(ApiError::client(
            "The specified task definition identifier is invalid. Specify a valid name or ARN and try again.",
        ));
    };
    let idx = rev
        .parse::<usize>()
        .ok()
        .filter(|r| *r >= 1)
        .ok_or_else(|| ApiError::client("The specified task definition identifier is invalid."))?;
    let now = state.now;
    let td = state
        .task_defs
        .get_mut(family)
        .and_then(|r| r.get_mut(idx - 1))
        .ok_or_else(|| ApiError::client("The specified task definition does not exist. Specify a valid account, family, revision and try again."))?;
    td["status"] = json!("INACTIVE");
    td["deregisteredAt"] = ts(now);
    Ok(json!({"taskDefinition": td.clone()}))
}

fn resource_exists(state: &State, arn: &str) -> bool {
    state.clusters.values().any(|c| c.arn == arn)
        || state.services.values().any(|s| s.arn == arn)
        || state.tasks.values().any(|t| t.arn == arn)
        || state
            .task_defs
            .values()
            .flatten()
            .any(|td| td.get("taskDefinitionArn").and_then(Value::as_str) == Some(arn))
}

fn tag_resource(state: &mut State, body: &Value) -> ApiResult {
    let arn = required(body, "resourceArn")?.to_string();
    if !resource_exists(state, &arn) {
        return Err(ApiError::invalid(
            "The specified resource could not be found.",
        ));
    }
    set_tags(state, &arn, body.get("tags"));
    Ok(json!({}))
}

fn untag_resource(state: &mut State, body: &Value) -> ApiResult {
    let arn = required(body, "resourceArn")?.to_string();
    if !resource_exists(state, &arn) {
        return Err(ApiError::invalid(
            "The specified resource could not be found.",
        ));
    }
    let keys = strings(body, "tagKeys");
    if let Some(list) = state.tags.get_mut(&arn) {
        list.retain(|t| {
            !keys
                .iter()
                .any(|k| t.get("key").and_then(Value::as_str) == Some(k))
        });
    }
    Ok(json!({}))
}

fn list_tags(state: &mut State, body: &Value) -> ApiResult {
    let arn = required(body, "resourceArn")?;
    if !resource_exists(state, arn) {
        return Err(ApiError::invalid(
            "The specified resource could not be found.",
        ));
    }
    Ok(json!({"tags": tags_of(state, arn)}))
}

// ---- services -------------------------------------------------------------------------------

fn deployment_json(d: &crate::state::Deployment, desired: u64) -> Value {
    let mut v = json!({
        "id": d.id, "status": d.status, "taskDefinition": d.task_definition,
        "desiredCount": if d.status == "PRIMARY" { desired } else { d.running + d.pending },
        "pendingCount": d.pending, "runningCount": d.running, "failedTasks": d.failed_tasks,
        "createdAt": ts(d.created_at), "updatedAt": ts(d.updated_at),
        "rolloutState": d.rollout_state, "rolloutStateReason": d.rollout_reason,
    });
    if let Some(l) = &d.launch_type {
        v["launchType"] = json!(l);
        if l == "FARGATE" {
            v["platformVersion"] = json!("1.4.0");
            v["platformFamily"] = json!("Linux");
        }
    }
    if let Some(n) = &d.network_configuration {
        v["networkConfiguration"] = n.clone();
    }
    v
}

fn service_json(state: &State, svc: &Service, with_tags: bool) -> Value {
    let running: u64 = svc.deployments.iter().map(|d| d.running).sum();
    let pending: u64 = svc.deployments.iter().map(|d| d.pending).sum();
    let r = &svc.request;
    let mut v = json!({
        "serviceArn": svc.arn, "serviceName": svc.name,
        "clusterArn": state.arn(&format!("cluster/{}", svc.cluster)),
        "loadBalancers": r.get("loadBalancers").cloned().unwrap_or(json!([])),
        "serviceRegistries": r.get("serviceRegistries").cloned().unwrap_or(json!([])),
        "status": svc.status, "desiredCount": svc.desired_count,
        "runningCount": running, "pendingCount": pending,
        "taskDefinition": svc.task_definition,
        "deploymentConfiguration": svc.deployment_configuration,
        "deployments": svc.deployments.iter().map(|d| deployment_json(d, svc.desired_count)).collect::<Vec<_>>(),
        "events": svc.events,
        "createdAt": ts(svc.created_at),
        "placementConstraints": r.get("placementConstraints").cloned().unwrap_or(json!([])),
        "placementStrategy": r.get("placementStrategy").cloned().unwrap_or(json!([])),
        "schedulingStrategy": r.get("schedulingStrategy").cloned().unwrap_or(json!("REPLICA")),
        "deploymentController": r.get("deploymentController").cloned().unwrap_or(json!({"type": "ECS"})),
        "createdBy": format!("arn:aws:iam::{ACCOUNT}:root"),
        "enableECSManagedTags": r.get("enableECSManagedTags").cloned().unwrap_or(json!(false)),
        "propagateTags": r.get("propagateTags").cloned().unwrap_or(json!("NONE")),
        "enableExecuteCommand": r.get("enableExecuteCommand").cloned().unwrap_or(json!(false)),
        "availabilityZoneRebalancing": r.get("availabilityZoneRebalancing").cloned().unwrap_or(json!("DISABLED")),
    });
    for k in [
        "launchType",
        "networkConfiguration",
        "healthCheckGracePeriodSeconds",
        "capacityProviderStrategy",
        "platformVersion",
        "roleArn",
    ] {
        if let Some(x) = r.get(k) {
            v[k] = x.clone();
        }
    }
    if r.get("launchType").and_then(Value::as_str) == Some("FARGATE")
        && r.get("platformVersion").is_none()
    {
        v["platformVersion"] = json!("LATEST");
        v["platformFamily"] = json!("Linux");
    }
    // Service shape: "currentServiceDeployment The ARN of the current service deployment",
    // "currentServiceRevisions The list of the service revisions" (API reference).
    if let Some(p) = svc.deployments.first() {
        v["currentServiceDeployment"] = json!(p.sd_arn);
    }
    v["currentServiceRevisions"] = json!(current_revisions(state, svc));
    if with_tags {
        v["tags"] = tags_of(state, &svc.arn);
    }
    v
}

/// One `ServiceCurrentRevisionSummary` per revision that still has a deployment.
fn current_revisions(state: &State, svc: &Service) -> Vec<Value> {
    let key = service_key(&svc.cluster, &svc.name);
    svc.deployments
        .iter()
        .map(|d| {
            let c = counts(state, &key, &d.id);
            let requested = if d.status == "PRIMARY" {
                svc.desired_count
            } else {
                c.active
            };
            json!({"arn": d.revision_arn, "requestedTaskCount": requested,
                   "runningTaskCount": c.running, "pendingTaskCount": c.pending})
        })
        .collect()
}

/// Validate what the service would look like after this request (see `validate.rs`).
fn validate_effective(
    config: &Value,
    request: &Value,
    base: Option<&Value>,
) -> Result<(), ApiError> {
    let pick = |k: &str| request.get(k).or_else(|| base.and_then(|b| b.get(k)));
    let lbs = pick("loadBalancers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    crate::validate::check(&crate::validate::Effective {
        config,
        load_balancers: &lbs,
        service_connect: pick("serviceConnectConfiguration")
            .and_then(|c| c.get("enabled"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

fn normalise_deployment_configuration(input: Option<&Value>, base: Option<&Value>) -> Value {
    let mut cfg = base.cloned().unwrap_or_else(|| {
        json!({
            "deploymentCircuitBreaker": {"enable": false, "rollback": false},
            "maximumPercent": 200, "minimumHealthyPercent": 100,
        })
    });
    if let (Some(obj), Some(inp)) = (cfg.as_object_mut(), input.and_then(Value::as_object)) {
        for (k, v) in inp {
            obj.insert(k.clone(), v.clone());
        }
    }
    // "Only valid when the deployment strategy is LINEAR/CANARY" (API reference); a real
    // service described after UpdateService showed canaryConfiguration dropped under
    // BLUE_GREEN, so the other strategy's settings are not kept.
    let strategy = cfg
        .get("strategy")
        .and_then(Value::as_str)
        .unwrap_or("ROLLING")
        .to_string();
    if let Some(obj) = cfg.as_object_mut() {
        if strategy != "LINEAR" {
            obj.remove("linearConfiguration");
        }
        if strategy != "CANARY" {
            obj.remove("canaryConfiguration");
        }
    }
    cfg
}

/// ECS allows at most 5,000 tasks per service.
fn check_desired(d: i64) -> Result<(), ApiError> {
    if !(0..=5000).contains(&d) {
        return Err(ApiError::invalid(format!(
            "desiredCount must be between 0 and 5000, got {d}."
        )));
    }
    Ok(())
}

fn create_service(state: &mut State, body: &Value) -> ApiResult {
    let cluster = need_cluster(state, body)?;
    let name = required(body, "serviceName")?.to_string();
    let key = service_key(&cluster, &name);
    if state
        .services
        .get(&key)
        .is_some_and(|s| s.status != "INACTIVE")
    {
        return Err(ApiError::invalid("Creation of service was not idempotent."));
    }
    let td_ref = required(body, "taskDefinition")?;
    let td = state
        .find_task_def(td_ref)
        .cloned()
        .ok_or_else(|| ApiError::client("TaskDefinition not found."))?;
    if td.get("status").and_then(Value::as_str) != Some("ACTIVE") {
        return Err(ApiError::client("TaskDefinition is inactive"));
    }
    let td_arn = td
        .get("taskDefinitionArn")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let desired = int(body, "desiredCount").unwrap_or(0);
    check_desired(desired)?;
    let config = normalise_deployment_configuration(body.get("deploymentConfiguration"), None);
    validate_effective(&config, body, None)?;
    let arn = state.arn(&format!("service/{cluster}/{name}"));
    let svc = Service {
        cluster: cluster.clone(),
        name: name.clone(),
        arn: arn.clone(),
        status: "ACTIVE",
        desired_count: desired as u64,
        task_definition: td_arn.clone(),
        deployment_configuration: config,
        request: body.clone(),
        created_at: state.now,
        events: Vec::new(),
        deployments: Vec::new(),
        last_completed: None,
        steady: false,
        start_failures: 0,
        throttle_logged: false,
    };
    state.services.insert(key.clone(), svc);
    set_tags(state, &arn, body.get("tags"));
    rolling::start_deployment(state, &key, &td_arn);
    let svc = state.services.get(&key).ok_or_else(ApiError::server)?;
    Ok(json!({"service": service_json(state, svc, false)}))
}

fn find_service<'a>(state: &'a State, cluster: &str, name: &str) -> Result<&'a Service, ApiError> {
    match state.services.get(&service_key(cluster, short_name(name))) {
        Some(s) => Ok(s),
        None => Err(ApiError::service_not_found()),
    }
}

fn describe_services(state: &mut State, body: &Value) -> ApiResult {
    let cluster = need_cluster(state, body)?;
    let names = strings(body, "services");
    if names.is_empty() {
        return Err(ApiError::invalid("Services cannot be empty."));
    }
    if names.len() > 10 {
        return Err(ApiError::invalid(
            "The service names or ARNs cannot contain more than 10 items.",
        ));
    }
    let (mut out, mut failures) = (Vec::new(), Vec::new());
    for n in names {
        match state.services.get(&service_key(&cluster, short_name(&n))) {
            Some(svc) => out.push(service_json(state, svc, include_tags(body))),
            None => failures.push(json!({"arn": if n.starts_with("arn:") { n.clone() } else { state.arn(&format!("service/{cluster}/{n}")) }, "reason": "MISSING"})),
        }
    }
    Ok(json!({"services": out, "failures": failures}))
}

fn list_services(state: &mut State, body: &Value) -> ApiResult {
    let cluster = need_cluster(state, body)?;
    let arns = state
        .services
        .values()
        .filter(|s| s.cluster == cluster && s.status == "ACTIVE")
        .map(|s| s.arn.clone())
        .collect();
    Ok(paginate(arns, body, "serviceArns"))
}

fn update_service(state: &mut State, body: &Value) -> ApiResult {
    let cluster = need_cluster(state, body)?;
    let name = required(body, "service")?;
    let svc = find_service(state, &cluster, name)?;
    if svc.status != "ACTIVE" {
        return Err(ApiError::new(
            400,
            "ServiceNotActiveException",
            "Service was not ACTIVE.",
        ));
    }
    let key = service_key(&svc.cluster, &svc.name);
    let current_td = svc.task_definition.clone();
    let new_td = match s(body, "taskDefinition") {
        Some(r) => {
            let td = state
                .find_task_def(r)
                .ok_or_else(|| ApiError::client("TaskDefinition not found."))?;
            if td.get("status").and_then(Value::as_str) != Some("ACTIVE") {
                return Err(ApiError::client("TaskDefinition is inactive"));
            }
            Some(
                td.get("taskDefinitionArn")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )
        }
        None => None,
    };
    if let Some(d) = int(body, "desiredCount") {
        check_desired(d)?;
    }
    let force = boolean(body, "forceNewDeployment").unwrap_or(false);
    let config = normalise_deployment_configuration(
        body.get("deploymentConfiguration"),
        Some(&svc.deployment_configuration),
    );
    validate_effective(&config, body, Some(&svc.request))?;
    let svc = state
        .services
        .get_mut(&key)
        .ok_or_else(ApiError::service_not_found)?;
    if let Some(d) = int(body, "desiredCount") {
        svc.desired_count = d as u64;
        svc.steady = false;
    }
    if body.get("deploymentConfiguration").is_some() {
        svc.deployment_configuration = config;
    }
    if let Some(obj) = svc.request.as_object_mut() {
        for k in [
            "networkConfiguration",
            "loadBalancers",
            "serviceRegistries",
            "serviceConnectConfiguration",
            "healthCheckGracePeriodSeconds",
            "platformVersion",
            "capacityProviderStrategy",
            "enableExecuteCommand",
            "propagateTags",
        ] {
            if let Some(v) = body.get(k) {
                obj.insert(k.to_string(), v.clone());
            }
        }
    }
    let changed_td = new_td.as_ref().is_some_and(|t| *t != current_td);
    if changed_td || force || body.get("networkConfiguration").is_some() {
        let td = new_td.unwrap_or(current_td);
        rolling::start_deployment(state, &key, &td);
    } else if let Some(sd) = svc.deployments.first().map(|d| d.sd_arn.clone()) {
        let desired = svc.desired_count;
        if let Some(sd) = state.service_deployments.get_mut(&sd) {
            sd.threshold = crate::breaker::threshold(&sd.deployment_configuration, desired);
        }
    }
    let svc = state
        .services
        .get(&key)
        .ok_or_else(ApiError::service_not_found)?;
    Ok(json!({"service": service_json(state, svc, false)}))
}

fn delete_service(state: &mut State, body: &Value) -> ApiResult {
    let cluster = need_cluster(state, body)?;
    let name = required(body, "service")?;
    let svc = find_service(state, &cluster, name)?;
    let key = service_key(&svc.cluster, &svc.name);
    if svc.desired_count > 0 && !boolean(body, "force").unwrap_or(false) {
        return Err(ApiError::invalid(
            "The service cannot be stopped while it is scaled above 0.",
        ));
    }
    let now = state.now;
    for t in state
        .tasks
        .values_mut()
        .filter(|t| t.service.as_deref() == Some(key.as_str()))
    {
        tasks::request_stop(
            t,
            now,
            "ServiceSchedulerInitiated",
            "Service deleted".into(),
        );
    }
    let svc = state
        .services
        .get_mut(&key)
        .ok_or_else(ApiError::service_not_found)?;
    svc.status = "DRAINING";
    svc.desired_count = 0;
    let svc = state
        .services
        .get(&key)
        .ok_or_else(ApiError::service_not_found)?;
    Ok(json!({"service": service_json(state, svc, false)}))
}

// ---- service deployments --------------------------------------------------------------------

fn revision_summary(
    state: &State,
    sd: &crate::state::ServiceDeployment,
    rev: &str,
    target: bool,
) -> Value {
    let key = service_key(&sd.cluster, &sd.service);
    let (mut running, mut pending, mut requested) = (0, 0, 0);
    if let Some(svc) = state.services.get(&key) {
        for d in svc.deployments.iter().filter(|d| d.revision_arn == rev) {
            let c = counts(state, &key, &d.id);
            running += c.running;
            pending += c.pending;
            requested += if d.status == "PRIMARY" {
                svc.desired_count
            } else {
                c.active
            };
        }
    }
    let mut v = json!({"arn": rev, "requestedTaskCount": requested, "runningTaskCount": running, "pendingTaskCount": pending});
    if rolling::strategy(&sd.deployment_configuration).shifts_traffic() {
        let (prod, test) = (
            crate::bluegreen::production_weight(state, sd),
            crate::bluegreen::test_weight(state, sd),
        );
        let (prod, test) = if target {
            (prod, test)
        } else {
            (100.0 - prod, 100.0 - test)
        };
        v["requestedProductionTrafficWeight"] = json!(prod);
        v["requestedTestTrafficWeight"] = json!(test);
    }
    v
}

fn sd_json(state: &State, sd: &crate::state::ServiceDeployment) -> Value {
    let mut v = json!({
        "serviceDeploymentArn": sd.arn, "serviceArn": sd.service_arn, "clusterArn": sd.cluster_arn,
        "createdAt": ts(sd.created_at), "updatedAt": ts(sd.updated_at),
        "sourceServiceRevisions": sd.source_revisions.iter().map(|r| revision_summary(state, sd, r, false)).collect::<Vec<_>>(),
        "targetServiceRevision": revision_summary(state, sd, &sd.target_revision, true),
        "status": sd.status,
        "deploymentConfiguration": sd.deployment_configuration,
        "deploymentCircuitBreaker": {"status": sd.breaker_status, "failureCount": sd.failure_count, "threshold": sd.threshold},
        "alarms": sd.alarms.to_json(),
    });
    let opt = [
        ("startedAt", sd.started_at.map(ts)),
        ("finishedAt", sd.finished_at.map(ts)),
        ("stoppedAt", sd.stopped_at.map(ts)),
        ("statusReason", sd.status_reason.as_ref().map(|r| json!(r))),
        ("rollback", sd.rollback.clone()),
        ("lifecycleStage", sd.lifecycle_stage.map(|l| json!(l))),
    ];
    for (k, val) in opt {
        if let Some(val) = val {
            v[k] = val;
        }
    }
    if !sd.hooks.is_empty() {
        v["lifecycleHookDetails"] = json!(sd
            .hooks
            .iter()
            .map(|h| {
                let mut x = json!({"hookId": h.hook_id, "targetType": h.target_type, "status": h.status,
                    "expiresAt": ts(h.expires_at), "timeoutAction": h.timeout_action});
                if let Some(a) = &h.target_arn {
                    x["targetArn"] = json!(a);
                }
                x
            })
            .collect::<Vec<_>>());
    }
    v
}

fn list_service_deployments(state: &mut State, body: &Value) -> ApiResult {
    let cluster = need_cluster(state, body)?;
    let name = required(body, "service")?;
    let svc = find_service(state, &cluster, name)?;
    let statuses = strings(body, "status");
    let after = body
        .get("createdAt")
        .and_then(|c| c.get("after"))
        .and_then(Value::as_f64);
    let before = body
        .get("createdAt")
        .and_then(|c| c.get("before"))
        .and_then(Value::as_f64);
    let mut list: Vec<&crate::state::ServiceDeployment> = state
        .service_deployments
        .values()
        .filter(|sd| sd.cluster == svc.cluster && sd.service == svc.name)
        .filter(|sd| statuses.is_empty() || statuses.iter().any(|s| s == sd.status))
        .filter(|sd| {
            after.is_none_or(|a| sd.created_at >= a) && before.is_none_or(|b| sd.created_at <= b)
        })
        .collect();
    list.sort_by(|a, b| {
        b.created_at
            .total_cmp(&a.created_at)
            .then(b.arn.cmp(&a.arn))
    });
    let start = s(body, "nextToken")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0)
        .min(list.len());
    let max = int(body, "maxResults")
        .filter(|m| *m > 0)
        .map(|m| m as usize)
        .unwrap_or(20);
    let end = start.saturating_add(max).min(list.len());
    let briefs: Vec<Value> = list[start..end]
        .iter()
        .map(|sd| {
            let mut v = json!({"serviceDeploymentArn": sd.arn, "serviceArn": sd.service_arn, "clusterArn": sd.cluster_arn,
                "createdAt": ts(sd.created_at), "status": sd.status, "targetServiceRevisionArn": sd.target_revision});
            if let Some(t) = sd.started_at {
                v["startedAt"] = ts(t);
            }
            if let Some(t) = sd.finished_at {
                v["finishedAt"] = ts(t);
            }
            if let Some(r) = &sd.status_reason {
                v["statusReason"] = json!(r);
            }
            v
        })
        .collect();
    let mut out = json!({"serviceDeployments": briefs});
    if end < list.len() {
        out["nextToken"] = json!(end.to_string());
    }
    Ok(out)
}

fn describe_service_deployments(state: &mut State, body: &Value) -> ApiResult {
    let arns = strings(body, "serviceDeploymentArns");
    if arns.is_empty() {
        return Err(ApiError::invalid("serviceDeploymentArns cannot be empty."));
    }
    // "You can specify a maximum of 20 ARNs." (API reference)
    if arns.len() > 20 {
        return Err(ApiError::invalid(
            "serviceDeploymentArns cannot contain more than 20 items: describe them in batches of 20.",
        ));
    }
    let (mut out, mut failures) = (Vec::new(), Vec::new());
    for a in arns {
        match state.service_deployments.get(&a) {
            Some(sd) => out.push(sd_json(state, sd)),
            None => failures.push(
                json!({"arn": a, "reason": "MISSING", "detail": "Service deployment not found."}),
            ),
        }
    }
    Ok(json!({"serviceDeployments": out, "failures": failures}))
}

/// StopServiceDeployment. Sources: API reference ("stopType … The valid values are
/// ROLLBACK"; ROLLBACK "rolls back the service deployment to the previous service revision.
/// You can use this option even if you didn't configure the service deployment for the
/// rollback option"); developer guide "Stopping Amazon ECS service deployments" (PENDING and
/// IN_PROGRESS move to ROLLBACK_REQUESTED; STOP_REQUESTED, ROLLBACK_REQUESTED and
/// ROLLBACK_IN_PROGRESS can be stopped and "continue" what they were doing). ABORT is in the
/// model's enum but documented nowhere as valid, so it is refused (stricter; testable).
fn stop_service_deployment(state: &mut State, body: &Value) -> ApiResult {
    let arn = required(body, "serviceDeploymentArn")?.to_string();
    match s(body, "stopType").unwrap_or("ROLLBACK") {
        "ROLLBACK" => {}
        "ABORT" => {
            return Err(ApiError::invalid(
                "stopType ABORT is not supported: the valid value is ROLLBACK (StopServiceDeployment rolls the deployment back to the previous service revision).",
            ));
        }
        other => {
            return Err(ApiError::invalid(format!(
                "Invalid stopType {other}. The valid value is ROLLBACK."
            )));
        }
    }
    let now = state.now;
    let sd = state
        .service_deployments
        .get_mut(&arn)
        .ok_or_else(ApiError::sd_not_found)?;
    match sd.status {
        "PENDING" | "IN_PROGRESS" => {
            sd.status = "ROLLBACK_REQUESTED";
            sd.requested_stop = Some("ROLLBACK".to_string());
            sd.updated_at = now;
        }
        // Already stopping or rolling back: it carries on.
        "STOP_REQUESTED" | "ROLLBACK_REQUESTED" | "ROLLBACK_IN_PROGRESS" => {}
        done => {
            return Err(ApiError::new(
                400,
                "ConflictException",
                format!(
                    "The service deployment is in status {done} and can't be stopped: only PENDING, IN_PROGRESS, STOP_REQUESTED, ROLLBACK_REQUESTED and ROLLBACK_IN_PROGRESS deployments can. Start a new deployment (UpdateService) to change what the service runs."
                ),
            ));
        }
    }
    Ok(json!({"serviceDeploymentArn": arn}))
}

fn describe_service_revisions(state: &mut State, body: &Value) -> ApiResult {
    let arns = strings(body, "serviceRevisionArns");
    if arns.is_empty() {
        return Err(ApiError::invalid("serviceRevisionArns cannot be empty."));
    }
    let (mut out, mut failures) = (Vec::new(), Vec::new());
    for a in arns {
        match state.revisions.get(&a) {
            Some(r) => out.push(r.clone()),
            None => failures.push(json!({"arn": a, "reason": "MISSING"})),
        }
    }
    Ok(json!({"serviceRevisions": out, "failures": failures}))
}

// ---- tasks ----------------------------------------------------------------------------------

fn run_task(state: &mut State, body: &Value) -> ApiResult {
    let cluster = cluster_name(body);
    if let Some(token) = s(body, "clientToken")
        && let Some(prev) = state.client_tokens.get(token)
    {
        let ids: Vec<String> = prev
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        let tasks: Vec<Value> = ids
            .iter()
            .filter_map(|id| state.tasks.get(id))
            .map(tasks::to_json)
            .collect();
        return Ok(json!({"tasks": tasks, "failures": []}));
    }
    if !state.clusters.contains_key(&cluster) {
        return Ok(
            json!({"tasks": [], "failures": [{"arn": state.arn(&format!("cluster/{cluster}")), "reason": "MISSING"}]}),
        );
    }
    let r = required(body, "taskDefinition")?;
    let td = state
        .find_task_def(r)
        .cloned()
        .ok_or_else(|| ApiError::client("Unable to find task definition."))?;
    if td.get("status").and_then(Value::as_str) != Some("ACTIVE") {
        return Err(ApiError::client("TaskDefinition is inactive"));
    }
    let count = int(body, "count").unwrap_or(1);
    if !(1..=10).contains(&count) {
        return Err(ApiError::invalid("count must be between 1 and 10."));
    }
    if let Some(co) = body
        .get("overrides")
        .and_then(|o| o.get("containerOverrides"))
        .and_then(Value::as_array)
    {
        let names: Vec<&str> = td
            .get("containerDefinitions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("name").and_then(Value::as_str))
            .collect();
        for o in co {
            if let Some(n) = o.get("name").and_then(Value::as_str)
                && !names.contains(&n)
            {
                return Err(ApiError::invalid(format!(
                    "Override for container named {n} is not a container in the TaskDefinition."
                )));
            }
        }
    }
    if tasks::unplaceable(state, &td) {
        let failures: Vec<Value> = (0..count)
            .map(|_| {
                let id = state.rng.hex(32);
                json!({"arn": state.arn(&format!("container-instance/{cluster}/{id}")), "reason": "RESOURCE:MEMORY"})
            })
            .collect();
        return Ok(json!({"tasks": [], "failures": failures}));
    }
    let family = td
        .get("family")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut ids = Vec::new();
    for _ in 0..count {
        let id = tasks::launch(
            state,
            tasks::Launch {
                cluster: &cluster,
                task_def: &td,
                group: s(body, "group")
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("family:{family}")),
                started_by: s(body, "startedBy").map(str::to_string),
                service: None,
                deployment_id: None,
                overrides: body.get("overrides"),
                network_configuration: body.get("networkConfiguration"),
                launch_type: s(body, "launchType"),
                target: None,
                grace: 0.0,
            },
        );
        if let Some(t) = state.tasks.get(&id) {
            let arn = t.arn.clone();
            set_tags(state, &arn, body.get("tags"));
        }
        ids.push(id);
    }
    if let Some(token) = s(body, "clientToken") {
        state.client_tokens.insert(token.to_string(), json!(ids));
    }
    let tasks: Vec<Value> = ids
        .iter()
        .filter_map(|id| state.tasks.get(id))
        .map(tasks::to_json)
        .collect();
    Ok(json!({"tasks": tasks, "failures": []}))
}

fn describe_tasks(state: &mut State, body: &Value) -> ApiResult {
    let cluster = need_cluster(state, body)?;
    let ids = strings(body, "tasks");
    if ids.is_empty() {
        return Err(ApiError::invalid("Tasks cannot be empty."));
    }
    if ids.len() > 100 {
        return Err(ApiError::invalid(
            "Tasks cannot contain more than 100 items.",
        ));
    }
    let (mut out, mut failures) = (Vec::new(), Vec::new());
    for r in ids {
        match state
            .tasks
            .get(short_name(&r))
            .filter(|t| t.cluster == cluster)
        {
            Some(t) => {
                let mut v = tasks::to_json(t);
                if include_tags(body) {
                    v["tags"] = tags_of(state, &t.arn);
                }
                out.push(v)
            }
            None => failures.push(json!({"arn": r, "reason": "MISSING"})),
        }
    }
    Ok(json!({"tasks": out, "failures": failures}))
}

fn list_tasks(state: &mut State, body: &Value) -> ApiResult {
    let cluster = need_cluster(state, body)?;
    let service = s(body, "serviceName").map(|n| service_key(&cluster, short_name(n)));
    if let Some(k) = &service
        && !state.services.contains_key(k)
    {
        return Err(ApiError::service_not_found());
    }
    let family = s(body, "family");
    let started_by = s(body, "startedBy");
    let desired = s(body, "desiredStatus").unwrap_or("RUNNING");
    let launch_type = s(body, "launchType");
    let mut list: Vec<(f64, String)> = state
        .tasks
        .values()
        .filter(|t| t.cluster == cluster)
        .filter(|t| {
            service
                .as_ref()
                .is_none_or(|k| t.service.as_deref() == Some(k.as_str()))
        })
        .filter(|t| {
            family.is_none_or(|f| {
                t.task_definition_arn
                    .rsplit('/')
                    .next()
                    .and_then(|x| x.rsplit_once(':'))
                    .is_some_and(|(fam, _)| fam == f)
            })
        })
        .filter(|t| started_by.is_none_or(|b| t.started_by.as_deref() == Some(b)))
        .filter(|t| launch_type.is_none_or(|l| t.launch_type == l))
        .filter(|t| match desired {
            "STOPPED" => t.desired_status == "STOPPED",
            "PENDING" => t.desired_status == "RUNNING" && t.last_status != "RUNNING",
            _ => t.desired_status == "RUNNING",
        })
        .map(|t| (t.created_at, t.arn.clone()))
        .collect();
    list.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    Ok(paginate(
        list.into_iter().map(|(_, a)| a).collect(),
        body,
        "taskArns",
    ))
}

fn stop_task(state: &mut State, body: &Value) -> ApiResult {
    let cluster = need_cluster(state, body)?;
    let r = required(body, "task")?;
    let now = state.now;
    let reason = s(body, "reason")
        .unwrap_or("Task stopped by user")
        .to_string();
    let t = state
        .tasks
        .get_mut(short_name(r))
        .filter(|t| t.cluster == cluster)
        .ok_or_else(|| ApiError::invalid("The referenced task was not found."))?;
    tasks::request_stop(t, now, "UserInitiated", reason);
    Ok(json!({"task": tasks::to_json(t)}))
}
