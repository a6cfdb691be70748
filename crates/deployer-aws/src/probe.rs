//! The AWS implementation of [`EnvironmentProbe`]: what gate-check's `ecs-service` and
//! `stacks` gates read. Read-only: DescribeServices, ListServiceDeployments,
//! DescribeServiceDeployments, DescribeServiceRevisions and DescribeTaskDefinition for a
//! service; CloudFormation DescribeStacks (by name, or paginated for a prefix) for stacks.
//!
//! The verdicts themselves (image matching, stack-status classification and wording) live
//! in `deployer_gates::environment`; this module only gathers facts.

use aws_config::SdkConfig;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use deployer_core::{Classify, ErrorKind};
use deployer_gates::environment::{
    DeploymentState, EcsServiceState, EnvironmentProbe, ProbeError, ProbeFuture, StackHealth,
    StackState, classify_stack_status,
};
use serde_json::Value;

use crate::ecs::{Ecs, EcsDeployment};
use crate::error::{Error, Result};
use crate::states::{RolloutState, ServiceDeploymentStatus};

/// At most this many DescribeStacks pages (100 stacks each) are read for a prefix.
const MAX_STACK_PAGES: usize = 50;

/// Reads ECS services and CloudFormation stacks for the environment-health gates.
#[derive(Debug, Clone)]
pub struct AwsProbe {
    pub ecs: Ecs,
    pub cloudformation: aws_sdk_cloudformation::Client,
}

impl AwsProbe {
    pub fn new(config: &SdkConfig) -> AwsProbe {
        AwsProbe {
            ecs: Ecs::new(config),
            cloudformation: aws_sdk_cloudformation::Client::from_conf(
                aws_sdk_cloudformation::config::Builder::from(config)
                    .interceptor(crate::error::EndpointRecorder)
                    .build(),
            ),
        }
    }

    /// The service's primary task definition, its containers' images and the most recent
    /// service deployment.
    pub async fn service_state(&self, cluster: &str, service: &str) -> Result<EcsServiceState> {
        let info = self.ecs.describe_service(cluster, service).await?;
        let task_definition = info
            .primary()
            .map(|d| d.task_definition.clone())
            .filter(|td| !td.is_empty())
            .unwrap_or_else(|| info.task_definition.clone());
        if task_definition.is_empty() {
            return Err(Error::Failed(format!(
                "service {service} in cluster {cluster} has no task definition"
            )));
        }
        let raw = self
            .ecs
            .describe_task_definition_raw(&task_definition)
            .await?;
        let containers = containers_of(&raw);
        let listed = self
            .ecs
            .list_service_deployments(cluster, service, None)
            .await?;
        let last_deployment = match listed.first() {
            Some(brief) => {
                let d = self.ecs.describe_service_deployment(&brief.arn).await?;
                let revision = d
                    .target_revision
                    .clone()
                    .or_else(|| brief.target_revision.clone());
                let task_definition = match revision {
                    Some(rev) => self.ecs.revision_task_definition(&rev).await?,
                    None => String::new(),
                };
                Some(DeploymentState {
                    id: short_id(&brief.arn).to_string(),
                    succeeded: d.status == ServiceDeploymentStatus::Successful,
                    status: d.status.to_string(),
                    task_definition,
                })
            }
            // Services without service deployments (older or external controllers): judge
            // the primary deployment by its rollout state.
            None => info
                .primary()
                .map(|p| from_primary(p, info.deployments.len())),
        };
        Ok(EcsServiceState {
            task_definition,
            containers,
            last_deployment,
        })
    }

    /// The named stacks that exist plus every stack whose name starts with `prefix`;
    /// deleted stacks are left out, each stack appears once.
    pub async fn stack_states(
        &self,
        names: &[String],
        prefix: Option<&str>,
    ) -> Result<Vec<StackState>> {
        let mut out: Vec<StackState> = Vec::new();
        for name in names {
            let answer = self
                .cloudformation
                .describe_stacks()
                .stack_name(name)
                .send()
                .await;
            match answer {
                Ok(page) => out.extend(page.stacks().iter().filter_map(stack_state)),
                Err(e) if stack_missing(e.as_service_error()) => {}
                Err(e) => return Err(Error::aws("DescribeStacks", e)),
            }
        }
        if let Some(prefix) = prefix {
            let mut token: Option<String> = None;
            for _ in 0..MAX_STACK_PAGES {
                let mut req = self.cloudformation.describe_stacks();
                if let Some(t) = &token {
                    req = req.next_token(t);
                }
                let page = req
                    .send()
                    .await
                    .map_err(|e| Error::aws("DescribeStacks", e))?;
                out.extend(
                    page.stacks()
                        .iter()
                        .filter_map(stack_state)
                        .filter(|s| s.name.starts_with(prefix)),
                );
                token = page
                    .next_token()
                    .map(String::from)
                    .filter(|t| !t.is_empty());
                if token.is_none() {
                    break;
                }
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        out.retain(|s| {
            classify_stack_status(&s.status) != StackHealth::Deleted && seen.insert(s.name.clone())
        });
        Ok(out)
    }
}

impl EnvironmentProbe for AwsProbe {
    fn ecs_service<'a>(
        &'a self,
        cluster: &'a str,
        service: &'a str,
    ) -> ProbeFuture<'a, EcsServiceState> {
        Box::pin(async move {
            self.service_state(cluster, service)
                .await
                .map_err(probe_error)
        })
    }

    fn stacks<'a>(
        &'a self,
        names: &'a [String],
        prefix: Option<&'a str>,
    ) -> ProbeFuture<'a, Vec<StackState>> {
        Box::pin(async move { self.stack_states(names, prefix).await.map_err(probe_error) })
    }
}

fn probe_error(e: Error) -> ProbeError {
    match e.kind() {
        ErrorKind::BadInput => ProbeError::BadInput(e.to_string()),
        _ => ProbeError::Failed(e.to_string()),
    }
}

/// `(name, image)` of every container of a DescribeTaskDefinition answer.
fn containers_of(raw: &Value) -> Vec<(String, String)> {
    raw.get("taskDefinition")
        .and_then(|td| td.get("containerDefinitions"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|c| {
                    let field = |k: &str| {
                        c.get(k)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    (field("name"), field("image"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `arn:…:service-deployment/cluster/service/abc` → `abc`.
fn short_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// A deployment state from DescribeServices' PRIMARY deployment when ECS lists no service
/// deployments.
fn from_primary(primary: &EcsDeployment, deployments: usize) -> DeploymentState {
    let succeeded = match &primary.rollout_state {
        Some(state) => *state == RolloutState::Completed,
        // No rollout state: done once it is the only deployment and at its desired count.
        None => deployments == 1 && primary.running == primary.desired,
    };
    let status = match &primary.rollout_state {
        Some(state) => format!("rollout {state}"),
        None if succeeded => "steady".to_string(),
        None => "rolling out".to_string(),
    };
    DeploymentState {
        id: primary.id.clone(),
        succeeded,
        status,
        task_definition: primary.task_definition.clone(),
    }
}

fn stack_state(stack: &aws_sdk_cloudformation::types::Stack) -> Option<StackState> {
    Some(StackState {
        name: stack.stack_name()?.to_string(),
        status: stack
            .stack_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
    })
}

/// CloudFormation answers DescribeStacks for an unknown name with
/// `ValidationError: Stack with id NAME does not exist`.
fn stack_missing(err: Option<&impl ProvideErrorMetadata>) -> bool {
    err.is_some_and(|e| {
        e.code() == Some("ValidationError") && e.message().is_some_and(is_missing_message)
    })
}

fn is_missing_message(message: &str) -> bool {
    message.contains("does not exist")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::states::DeploymentRole;
    use serde_json::json;

    #[test]
    fn containers_from_raw_task_definition() {
        let raw = json!({"taskDefinition": {"containerDefinitions": [
            {"name": "api", "image": "repo/api:v1"},
            {"name": "sidecar", "image": "envoy:1"}
        ]}, "tags": []});
        assert_eq!(
            containers_of(&raw),
            vec![
                ("api".to_string(), "repo/api:v1".to_string()),
                ("sidecar".to_string(), "envoy:1".to_string())
            ]
        );
        assert!(containers_of(&json!({})).is_empty());
    }

    #[test]
    fn primary_fallback() {
        let mut p = EcsDeployment {
            id: "ecs-svc/1".into(),
            status: DeploymentRole::Primary,
            task_definition: "td:1".into(),
            desired: 2,
            running: 2,
            pending: 0,
            failed_tasks: 0,
            rollout_state: Some(RolloutState::Completed),
            rollout_reason: None,
            created_at: None,
        };
        let seen = |p: &EcsDeployment, n| {
            let s = from_primary(p, n);
            (s.succeeded, s.status)
        };
        assert_eq!(seen(&p, 1), (true, "rollout COMPLETED".into()));
        p.rollout_state = Some(RolloutState::InProgress);
        assert_eq!(seen(&p, 2), (false, "rollout IN_PROGRESS".into()));
        p.rollout_state = Some(RolloutState::Failed);
        assert_eq!(seen(&p, 2), (false, "rollout FAILED".into()));
        p.rollout_state = None;
        assert_eq!(seen(&p, 1), (true, "steady".into()));
        assert_eq!(seen(&p, 2), (false, "rolling out".into()));
        assert!(is_missing_message("Stack with id nope does not exist"));
        assert_eq!(
            short_id("arn:aws:ecs:us-east-1:1:service-deployment/shop/api/abc"),
            "abc"
        );
    }
}
