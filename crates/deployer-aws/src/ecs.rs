//! A narrow seam over aws-sdk-ecs: the calls the engines make, answered in plain types.
//!
//! Every call is retried by the SDK (standard mode, more attempts: see
//! [`crate::credentials::LoadOptions::max_attempts`]) on throttling and 5xx. Task
//! definitions travel as raw JSON in both directions so no field is ever dropped.

use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_sdk_ecs::types as t;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::DateTime;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::states::{
    Controller, DeploymentRole, HookStatus, LifecycleStage, MonitorStatus, RolloutState,
    ServiceDeploymentStatus, ServiceStatus, StopCode, Strategy, TaskStatus,
};
use deployer_core::Classify;

pub fn epoch(dt: Option<&DateTime>) -> Option<f64> {
    dt.map(|d| d.as_secs_f64())
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceEvent {
    pub id: String,
    pub at: f64,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EcsDeployment {
    /// `ecs-svc/…`: what the service's tasks carry as `startedBy`.
    pub id: String,
    pub status: DeploymentRole,
    pub task_definition: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub failed_tasks: i32,
    pub rollout_state: Option<RolloutState>,
    pub rollout_reason: Option<String>,
    pub created_at: Option<f64>,
}

/// How the service rolls a deployment out: what the timeout is designed against.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RolloutConfig {
    /// None: ROLLING (the API's default).
    pub strategy: Option<Strategy>,
    pub minimum_healthy_percent: Option<i32>,
    pub maximum_percent: Option<i32>,
    pub bake_time_minutes: Option<i32>,
    /// LINEAR: (stepPercent, stepBakeTimeInMinutes), each None when AWS's default applies.
    pub linear: Option<(Option<f64>, Option<i32>)>,
    /// CANARY: (canaryPercent, canaryBakeTimeInMinutes).
    pub canary: Option<(Option<f64>, Option<i32>)>,
    pub health_check_grace_seconds: Option<i32>,
    /// Behind at least one load balancer (target group health, deregistration delay).
    pub load_balanced: bool,
}

#[derive(Debug, Clone)]
pub struct ServiceInfo {
    pub arn: String,
    pub name: String,
    pub cluster_arn: String,
    pub status: ServiceStatus,
    pub task_definition: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub controller: Controller,
    pub strategy: Option<Strategy>,
    pub rollout: RolloutConfig,
    pub current_service_deployment: Option<String>,
    pub deployments: Vec<EcsDeployment>,
    pub events: Vec<ServiceEvent>,
    pub network_configuration: Option<t::NetworkConfiguration>,
    pub launch_type: Option<t::LaunchType>,
    pub capacity_provider_strategy: Vec<t::CapacityProviderStrategyItem>,
    pub platform_version: Option<String>,
}

impl ServiceInfo {
    pub fn primary(&self) -> Option<&EcsDeployment> {
        self.deployments
            .iter()
            .find(|d| d.status == DeploymentRole::Primary)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentBrief {
    pub arn: String,
    pub status: ServiceDeploymentStatus,
    pub created_at: Option<f64>,
    pub finished_at: Option<f64>,
    pub target_revision: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    pub id: String,
    pub status: HookStatus,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceDeploymentInfo {
    pub arn: String,
    pub status: ServiceDeploymentStatus,
    pub status_reason: Option<String>,
    pub target_revision: Option<String>,
    pub source_revisions: Vec<String>,
    pub target_running: i32,
    pub target_pending: i32,
    pub target_requested: i32,
    pub created_at: Option<f64>,
    pub finished_at: Option<f64>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub breaker_status: Option<MonitorStatus>,
    pub breaker_failures: i32,
    pub breaker_threshold: i32,
    pub alarms_status: Option<MonitorStatus>,
    pub rollback_reason: Option<String>,
    pub rollback_revision: Option<String>,
    pub hooks: Vec<Hook>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContainerState {
    pub name: String,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    pub last_status: Option<TaskStatus>,
    pub runtime_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskInfo {
    pub arn: String,
    pub task_definition: String,
    pub last_status: TaskStatus,
    pub desired_status: TaskStatus,
    pub stop_code: Option<StopCode>,
    pub stopped_reason: Option<String>,
    pub stopped_at: Option<f64>,
    pub started_at: Option<f64>,
    /// When ECS created the task (server clock): a task created before a deployment
    /// began is not one of its tasks.
    pub created_at: Option<f64>,
    /// `ecs-svc/…` for tasks a service deployment launched (the service's deployment id).
    pub started_by: Option<String>,
    pub containers: Vec<ContainerState>,
}

impl TaskInfo {
    pub fn id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or(&self.arn)
    }
}

/// Captures the raw JSON body of a response (for lossless DescribeTaskDefinition).
#[derive(Debug, Clone, Default)]
struct RawBody(Arc<Mutex<Option<Vec<u8>>>>);

impl Intercept for RawBody {
    fn name(&self) -> &'static str {
        "deployer-raw-body"
    }
    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(bytes) = context.response().body().bytes()
            && let Ok(mut slot) = self.0.lock()
        {
            *slot = Some(bytes.to_vec());
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct Ecs {
    pub client: aws_sdk_ecs::Client,
}

fn s(v: Option<&str>) -> String {
    v.unwrap_or_default().to_string()
}

fn task_info(task: &t::Task) -> TaskInfo {
    TaskInfo {
        arn: s(task.task_arn()),
        task_definition: s(task.task_definition_arn()),
        last_status: TaskStatus::parse(task.last_status().unwrap_or_default()),
        desired_status: TaskStatus::parse(task.desired_status().unwrap_or_default()),
        stop_code: task.stop_code().map(|c| StopCode::parse(c.as_str())),
        stopped_reason: task.stopped_reason().map(String::from),
        stopped_at: epoch(task.stopped_at()),
        started_at: epoch(task.started_at()),
        created_at: epoch(task.created_at()),
        started_by: task.started_by().map(String::from),
        containers: task
            .containers()
            .iter()
            .map(|c| ContainerState {
                name: s(c.name()),
                exit_code: c.exit_code(),
                reason: c.reason().map(String::from),
                last_status: c.last_status().map(TaskStatus::parse),
                runtime_id: c.runtime_id().map(String::from),
            })
            .collect(),
    }
}

fn rollout_config(svc: &t::Service) -> RolloutConfig {
    let config = svc.deployment_configuration();
    RolloutConfig {
        strategy: config
            .and_then(|c| c.strategy())
            .map(|s| Strategy::parse(s.as_str())),
        minimum_healthy_percent: config.and_then(|c| c.minimum_healthy_percent()),
        maximum_percent: config.and_then(|c| c.maximum_percent()),
        bake_time_minutes: config.and_then(|c| c.bake_time_in_minutes()),
        linear: config
            .and_then(|c| c.linear_configuration())
            .map(|l| (l.step_percent(), l.step_bake_time_in_minutes())),
        canary: config
            .and_then(|c| c.canary_configuration())
            .map(|c| (c.canary_percent(), c.canary_bake_time_in_minutes())),
        health_check_grace_seconds: svc.health_check_grace_period_seconds(),
        load_balanced: !svc.load_balancers().is_empty(),
    }
}

impl Ecs {
    pub fn new(config: &SdkConfig) -> Ecs {
        Ecs {
            client: aws_sdk_ecs::Client::from_conf(
                aws_sdk_ecs::config::Builder::from(config)
                    .retry_classifier(crate::credentials::ExpiredTokenRetry)
                    .interceptor(crate::error::EndpointRecorder)
                    .build(),
            ),
        }
    }

    /// `err`, or, when ECS answered ClusterNotFoundException, a bad-input error that names
    /// the cluster, the account (when known), the region and where the name came from.
    pub fn in_cluster(&self, cluster: &str, err: Error) -> Error {
        if err.aws_code() != Some("ClusterNotFoundException") {
            return err;
        }
        let region = self
            .client
            .config()
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "?".into());
        let account = crate::credentials::known_account()
            .or_else(|| cluster.split(':').nth(4).map(String::from))
            .filter(|a| !a.is_empty())
            .map(|a| format!("account {a}, "))
            .unwrap_or_default();
        let request_id = err
            .as_aws()
            .and_then(|a| a.request_id.clone())
            .map(|id| format!(", request id {id}"))
            .unwrap_or_default();
        Error::BadInput(format!(
            "cluster `{cluster}` does not exist in {account}region {region} (ECS answered \
             ClusterNotFoundException{request_id}): check `cluster` in deployer.yml (or --cluster / \
             DEPLOYER_CLUSTER), the region (--region / AWS_REGION, `region` of the environment) \
             and that the credentials are for the account the cluster is in"
        ))
    }

    pub async fn describe_service(&self, cluster: &str, service: &str) -> Result<ServiceInfo> {
        let out = self
            .client
            .describe_services()
            .cluster(cluster)
            .services(service)
            .send()
            .await
            .map_err(|e| self.in_cluster(cluster, Error::aws("DescribeServices", e)))?;
        if let Some(f) = out.failures().first() {
            return Err(Error::BadInput(format!(
                "service `{service}` was not found in cluster `{cluster}` ({}); check --cluster/--service and the region",
                f.reason().unwrap_or("MISSING")
            )));
        }
        let Some(svc) = out.services().first() else {
            return Err(Error::BadInput(format!(
                "service `{service}` was not found in cluster `{cluster}`"
            )));
        };
        let status = ServiceStatus::parse(svc.status().unwrap_or_default());
        if status != ServiceStatus::Active {
            return Err(Error::BadInput(format!(
                "service `{service}` is {status}, not ACTIVE: it cannot be deployed to"
            )));
        }
        Ok(ServiceInfo {
            arn: s(svc.service_arn()),
            name: s(svc.service_name()),
            cluster_arn: s(svc.cluster_arn()),
            status,
            task_definition: s(svc.task_definition()),
            desired: svc.desired_count(),
            running: svc.running_count(),
            pending: svc.pending_count(),
            controller: svc
                .deployment_controller()
                .map_or(Controller::Ecs, |c| Controller::parse(c.r#type().as_str())),
            strategy: svc
                .deployment_configuration()
                .and_then(|c| c.strategy())
                .map(|s| Strategy::parse(s.as_str())),
            rollout: rollout_config(svc),
            current_service_deployment: svc.current_service_deployment().map(String::from),
            deployments: svc
                .deployments()
                .iter()
                .map(|d| EcsDeployment {
                    id: s(d.id()),
                    status: DeploymentRole::parse(d.status().unwrap_or_default()),
                    task_definition: s(d.task_definition()),
                    desired: d.desired_count(),
                    running: d.running_count(),
                    pending: d.pending_count(),
                    failed_tasks: d.failed_tasks(),
                    rollout_state: d.rollout_state().map(|r| RolloutState::parse(r.as_str())),
                    rollout_reason: d.rollout_state_reason().map(String::from),
                    created_at: epoch(d.created_at()),
                })
                .collect(),
            events: svc
                .events()
                .iter()
                .map(|e| ServiceEvent {
                    id: s(e.id()),
                    at: epoch(e.created_at()).unwrap_or(0.0),
                    message: s(e.message()),
                })
                .collect(),
            network_configuration: svc.network_configuration().cloned(),
            launch_type: svc.launch_type().cloned(),
            capacity_provider_strategy: svc.capacity_provider_strategy().to_vec(),
            platform_version: svc.platform_version().map(String::from),
        })
    }

    /// DescribeTaskDefinition (with tags) as the raw JSON ECS answered.
    pub async fn describe_task_definition_raw(&self, task_definition: &str) -> Result<Value> {
        let capture = RawBody::default();
        let result = self
            .client
            .describe_task_definition()
            .task_definition(task_definition)
            .include(t::TaskDefinitionField::Tags)
            .customize()
            .interceptor(capture.clone())
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(e) => {
                let err = Error::aws("DescribeTaskDefinition", e);
                // ECS answers ClientException ("Unable to describe task definition") for a
                // family or revision that does not exist.
                if err.aws_code() == Some("ClientException") {
                    return Err(Error::BadInput(format!(
                        "task definition `{task_definition}` does not exist: {err}"
                    )));
                }
                return Err(err);
            }
        }
        let bytes = capture
            .0
            .lock()
            .ok()
            .and_then(|mut b| b.take())
            .ok_or_else(|| {
                Error::Failed("DescribeTaskDefinition: the response body was not available".into())
            })?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::Failed(format!(
                "DescribeTaskDefinition answered with invalid JSON: {e}"
            ))
        })
    }

    /// RegisterTaskDefinition with `body` (a RegisterTaskDefinition input as JSON) sent
    /// verbatim, so every field reaches ECS. Returns the new ARN.
    pub async fn register_task_definition(&self, body: &Value) -> Result<String> {
        let family = body
            .get("family")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::Failed(format!("cannot encode the task definition: {e}")))?;
        // The typed input only has to pass the SDK's own validation; the body replaces it.
        let placeholder = t::ContainerDefinition::builder()
            .name("placeholder")
            .image("placeholder")
            .build();
        let out = self
            .client
            .register_task_definition()
            .family(&family)
            .container_definitions(placeholder)
            .customize()
            .mutate_request(move |req| {
                let len = bytes.len();
                *req.body_mut() = SdkBody::from(bytes.clone());
                req.headers_mut().insert("content-length", len.to_string());
            })
            .send()
            .await
            .map_err(|e| {
                let err = Error::aws("RegisterTaskDefinition", e);
                if err.aws_code() == Some("ClientException") {
                    Error::BadInput(format!("ECS rejected the task definition: {err}"))
                } else {
                    err
                }
            })?;
        out.task_definition()
            .and_then(|td| td.task_definition_arn())
            .map(String::from)
            .ok_or_else(|| Error::Failed("RegisterTaskDefinition returned no ARN".into()))
    }

    pub async fn update_service(
        &self,
        cluster: &str,
        service: &str,
        task_definition: &str,
        desired: Option<i32>,
        force: bool,
    ) -> Result<ServiceInfo> {
        let mut req = self
            .client
            .update_service()
            .cluster(cluster)
            .service(service)
            .task_definition(task_definition)
            .force_new_deployment(force);
        if let Some(d) = desired {
            req = req.desired_count(d);
        }
        req.send()
            .await
            .map_err(|e| self.in_cluster(cluster, Error::aws("UpdateService", e)))?;
        // The update is made: a throttled or failed read now must not turn into "the deploy
        // failed" while ECS rolls it out. Retry the read a while before giving up.
        let mut last = None;
        for attempt in 0..8u32 {
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(500 * u64::from(attempt)))
                    .await;
            }
            match self.describe_service(cluster, service).await {
                Ok(svc) => return Ok(svc),
                Err(e) if e.kind() == deployer_core::ErrorKind::BadInput => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::Failed("DescribeServices gave nothing".into())))
    }

    pub async fn list_service_deployments(
        &self,
        cluster: &str,
        service: &str,
        created_after: Option<f64>,
    ) -> Result<Vec<DeploymentBrief>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..20 {
            let mut req = self
                .client
                .list_service_deployments()
                .cluster(cluster)
                .service(service)
                .max_results(100);
            if let Some(after) = created_after {
                req = req.created_at(
                    t::CreatedAt::builder()
                        .after(DateTime::from_secs_f64(after))
                        .build(),
                );
            }
            if let Some(tk) = &token {
                req = req.next_token(tk);
            }
            let page = req
                .send()
                .await
                .map_err(|e| Error::aws("ListServiceDeployments", e))?;
            for d in page.service_deployments() {
                out.push(DeploymentBrief {
                    arn: s(d.service_deployment_arn()),
                    status: ServiceDeploymentStatus::parse(
                        d.status().map(|x| x.as_str()).unwrap_or_default(),
                    ),
                    created_at: epoch(d.created_at()),
                    finished_at: epoch(d.finished_at()),
                    target_revision: d.target_service_revision_arn().map(String::from),
                });
            }
            token = page.next_token().map(String::from);
            if token.is_none() {
                break;
            }
        }
        // Newest first.
        out.sort_by(|a, b| {
            b.created_at
                .partial_cmp(&a.created_at)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        Ok(out)
    }

    pub async fn describe_service_deployment(&self, arn: &str) -> Result<ServiceDeploymentInfo> {
        let out = self
            .client
            .describe_service_deployments()
            .service_deployment_arns(arn)
            .send()
            .await
            .map_err(|e| Error::aws("DescribeServiceDeployments", e))?;
        let Some(d) = out.service_deployments().first() else {
            return Err(Error::Failed(format!(
                "service deployment {arn} was not found"
            )));
        };
        let target = d.target_service_revision();
        Ok(ServiceDeploymentInfo {
            arn: s(d.service_deployment_arn()),
            status: ServiceDeploymentStatus::parse(
                d.status().map(|x| x.as_str()).unwrap_or_default(),
            ),
            status_reason: d.status_reason().map(String::from),
            target_revision: target.and_then(|r| r.arn()).map(String::from),
            source_revisions: d
                .source_service_revisions()
                .iter()
                .filter_map(|r| r.arn())
                .map(String::from)
                .collect(),
            target_running: target.map(|r| r.running_task_count()).unwrap_or(0),
            target_pending: target.map(|r| r.pending_task_count()).unwrap_or(0),
            target_requested: target.map(|r| r.requested_task_count()).unwrap_or(0),
            created_at: epoch(d.created_at()),
            finished_at: epoch(d.finished_at()),
            lifecycle_stage: d
                .lifecycle_stage()
                .map(|x| LifecycleStage::parse(x.as_str())),
            breaker_status: d
                .deployment_circuit_breaker()
                .and_then(|b| b.status())
                .map(|x| MonitorStatus::parse(x.as_str())),
            breaker_failures: d
                .deployment_circuit_breaker()
                .map(|b| b.failure_count())
                .unwrap_or(0),
            breaker_threshold: d
                .deployment_circuit_breaker()
                .map(|b| b.threshold())
                .unwrap_or(0),
            alarms_status: d
                .alarms()
                .and_then(|a| a.status())
                .map(|x| MonitorStatus::parse(x.as_str())),
            rollback_reason: d.rollback().and_then(|r| r.reason()).map(String::from),
            rollback_revision: d
                .rollback()
                .and_then(|r| r.service_revision_arn())
                .map(String::from),
            hooks: d
                .lifecycle_hook_details()
                .iter()
                .map(|h| Hook {
                    id: s(h.hook_id()),
                    status: HookStatus::parse(h.status().map(|x| x.as_str()).unwrap_or_default()),
                })
                .collect(),
        })
    }

    /// The task definition of a service revision.
    pub async fn revision_task_definition(&self, revision_arn: &str) -> Result<String> {
        let out = self
            .client
            .describe_service_revisions()
            .service_revision_arns(revision_arn)
            .send()
            .await
            .map_err(|e| Error::aws("DescribeServiceRevisions", e))?;
        out.service_revisions()
            .first()
            .and_then(|r| r.task_definition())
            .map(String::from)
            .ok_or_else(|| {
                Error::Failed(format!(
                    "service revision {revision_arn} has no task definition"
                ))
            })
    }

    pub async fn describe_tasks(&self, cluster: &str, arns: &[String]) -> Result<Vec<TaskInfo>> {
        let mut out = Vec::new();
        for chunk in arns.chunks(100) {
            let resp = self
                .client
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| Error::aws("DescribeTasks", e))?;
            out.extend(resp.tasks().iter().map(task_info));
        }
        Ok(out)
    }

    /// Stopped tasks of `service` that ran `task_definition`.
    pub async fn stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        task_definition: &str,
    ) -> Result<Vec<TaskInfo>> {
        let arns = self.stopped_task_arns(cluster, service).await?;
        if arns.is_empty() {
            return Ok(vec![]);
        }
        let tasks = self.describe_tasks(cluster, &arns).await?;
        Ok(tasks
            .into_iter()
            .filter(|t| t.task_definition == task_definition)
            .collect())
    }

    /// ARNs of the service's stopped (or stopping) tasks (at most 500).
    pub async fn stopped_task_arns(&self, cluster: &str, service: &str) -> Result<Vec<String>> {
        let mut arns = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..5 {
            let mut req = self
                .client
                .list_tasks()
                .cluster(cluster)
                .service_name(service)
                .desired_status(t::DesiredStatus::Stopped)
                .max_results(100);
            if let Some(tk) = &token {
                req = req.next_token(tk);
            }
            let page = req.send().await.map_err(|e| Error::aws("ListTasks", e))?;
            arns.extend(page.task_arns().iter().cloned());
            token = page.next_token().map(String::from);
            if token.is_none() {
                break;
            }
        }
        Ok(arns)
    }

    pub async fn stop_service_deployment(&self, arn: &str, rollback: bool) -> Result<()> {
        let stop_type = if rollback {
            t::StopServiceDeploymentStopType::Rollback
        } else {
            t::StopServiceDeploymentStopType::Abort
        };
        self.client
            .stop_service_deployment()
            .service_deployment_arn(arn)
            .stop_type(stop_type)
            .send()
            .await
            .map_err(|e| Error::aws("StopServiceDeployment", e))?;
        Ok(())
    }

    pub async fn continue_service_deployment(
        &self,
        arn: &str,
        hook_id: Option<&str>,
        rollback: bool,
    ) -> Result<()> {
        let action = if rollback {
            t::DeploymentLifecycleHookAction::Rollback
        } else {
            t::DeploymentLifecycleHookAction::Continue
        };
        let mut req = self
            .client
            .continue_service_deployment()
            .service_deployment_arn(arn)
            .action(action);
        if let Some(h) = hook_id {
            req = req.hook_id(h);
        }
        req.send()
            .await
            .map_err(|e| Error::aws("ContinueServiceDeployment", e))?;
        Ok(())
    }

    pub async fn stop_task(&self, cluster: &str, task: &str, reason: &str) -> Result<()> {
        self.client
            .stop_task()
            .cluster(cluster)
            .task(task)
            .reason(reason)
            .send()
            .await
            .map_err(|e| Error::aws("StopTask", e))?;
        Ok(())
    }

    /// Task definition ARNs of a family, newest first.
    pub async fn list_task_definitions(&self, family: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..20 {
            let mut req = self
                .client
                .list_task_definitions()
                .family_prefix(family)
                .sort(t::SortOrder::Desc)
                .max_results(100);
            if let Some(tk) = &token {
                req = req.next_token(tk);
            }
            let page = req
                .send()
                .await
                .map_err(|e| Error::aws("ListTaskDefinitions", e))?;
            out.extend(page.task_definition_arns().iter().cloned());
            token = page.next_token().map(String::from);
            if token.is_none() {
                break;
            }
        }
        // family_prefix also matches `<family>-migrate`: keep the exact family only.
        out.retain(|arn| family_of_arn(arn) == Some(family));
        Ok(out)
    }
}

/// `arn:…:task-definition/api:7` → `api`.
pub fn family_of_arn(arn: &str) -> Option<&str> {
    let tail = arn.rsplit('/').next()?;
    tail.rsplit_once(':').map(|(f, _)| f)
}

/// `arn:…:task-definition/api:7` → 7.
pub fn revision_of_arn(arn: &str) -> Option<u32> {
    arn.rsplit(':').next()?.parse().ok()
}

/// `arn:…:task-definition/api:7` → `api:7`.
pub fn short_td(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_helpers() {
        let arn = "arn:aws:ecs:us-east-1:1:task-definition/api-migrate:12";
        assert_eq!(family_of_arn(arn), Some("api-migrate"));
        assert_eq!(revision_of_arn(arn), Some(12));
        assert_eq!(short_td(arn), "api-migrate:12");
    }
}
