//! Environment-health gates that read AWS state through the [`EnvironmentProbe`] seam:
//! the AWS crate implements the probe; tests use a fake.

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

use crate::gate::GateResult;

/// A boxed future, so the probe can be used as `&dyn EnvironmentProbe`.
pub type ProbeFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ProbeError>> + Send + 'a>>;

/// A probe failure (credentials, throttling, not found): the gate fails with this text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ProbeError(pub String);

/// What the ECS gate needs to know about a service.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EcsServiceState {
    /// The task definition the service is set to (ARN or family:revision).
    pub task_definition: String,
    /// (container name, image) of that task definition.
    pub containers: Vec<(String, String)>,
    /// The most recent service deployment, if any.
    pub last_deployment: Option<DeploymentState>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeploymentState {
    pub id: String,
    /// ECS service-deployment status: PENDING, IN_PROGRESS, SUCCESSFUL, STOPPED, ROLLBACK_*...
    pub status: String,
    /// The task definition that deployment rolled out.
    pub task_definition: String,
}

/// A CloudFormation stack and its status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackState {
    pub name: String,
    pub status: String,
}

/// Read-only view of the environment.
pub trait EnvironmentProbe: Sync {
    fn ecs_service<'a>(
        &'a self,
        cluster: &'a str,
        service: &'a str,
    ) -> ProbeFuture<'a, EcsServiceState>;
    /// The named stacks (a missing name is simply absent from the answer) plus every stack whose
    /// name starts with `prefix`; deleted stacks are not listed.
    fn stacks<'a>(
        &'a self,
        names: &'a [String],
        prefix: Option<&'a str>,
    ) -> ProbeFuture<'a, Vec<StackState>>;
}

/// What the ECS gate expects.
#[derive(Debug, Clone, PartialEq)]
pub struct EcsExpectation {
    pub cluster: String,
    pub service: String,
    pub image: String,
    /// Compare only this container's image; default: any container.
    pub container: Option<String>,
}

/// Passes when the service runs the expected image and its last deployment is SUCCESSFUL.
pub fn ecs_service_gate(
    expect: &EcsExpectation,
    state: Result<&EcsServiceState, &ProbeError>,
) -> GateResult {
    let threshold = format!("image {} and last deployment SUCCESSFUL", expect.image);
    let state = match state {
        Ok(s) => s,
        Err(e) => {
            return GateResult::new(
                "ecs-service",
                false,
                "unknown",
                threshold,
                format!(
                    "cannot read service {} in cluster {}: {e}",
                    expect.service, expect.cluster
                ),
            );
        }
    };
    let images: Vec<&(String, String)> = state
        .containers
        .iter()
        .filter(|(name, _)| expect.container.as_deref().is_none_or(|c| c == name))
        .collect();
    let status = state
        .last_deployment
        .as_ref()
        .map(|d| d.status.as_str())
        .unwrap_or("none");
    let shown_images = images
        .iter()
        .map(|(_, image)| image.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let measured = format!(
        "image {}, last deployment {status}",
        if shown_images.is_empty() {
            "none"
        } else {
            &shown_images
        }
    );
    let mut problems = Vec::new();
    if images.is_empty() {
        problems.push(match &expect.container {
            Some(c) => format!(
                "task definition {} has no container named {c}",
                state.task_definition
            ),
            None => format!(
                "task definition {} has no containers",
                state.task_definition
            ),
        });
    } else if !images.iter().any(|(_, image)| image == &expect.image) {
        problems.push(format!(
            "{}/{} runs {shown_images}, not {}",
            expect.cluster, expect.service, expect.image
        ));
    }
    match &state.last_deployment {
        None => problems.push("the service has no deployments".to_string()),
        Some(d) if d.status != "SUCCESSFUL" => {
            problems.push(format!("its last deployment {} is {}", d.id, d.status))
        }
        Some(d) if !d.task_definition.is_empty() && d.task_definition != state.task_definition => {
            problems.push(format!(
                "its last deployment rolled out {}, but the service is set to {}",
                d.task_definition, state.task_definition
            ))
        }
        Some(_) => {}
    }
    GateResult::new(
        "ecs-service",
        problems.is_empty(),
        measured,
        threshold,
        problems.join("; "),
    )
}

/// A healthy stack: `*_COMPLETE` but not a rollback and not deleted.
pub fn stack_is_healthy(status: &str) -> bool {
    status.ends_with("_COMPLETE") && !status.contains("ROLLBACK") && status != "DELETE_COMPLETE"
}

/// Passes when every named stack exists and every matched stack is healthy.
pub fn stacks_gate(
    names: &[String],
    prefix: Option<&str>,
    stacks: Result<&[StackState], &ProbeError>,
) -> GateResult {
    let mut selector = names.join(", ");
    if let Some(p) = prefix {
        selector = if selector.is_empty() {
            format!("{p}*")
        } else {
            format!("{selector}, {p}*")
        };
    }
    let threshold = "*_COMPLETE, not a rollback".to_string();
    let stacks = match stacks {
        Ok(s) => s,
        Err(e) => {
            return GateResult::new(
                "stacks",
                false,
                "unknown",
                threshold,
                format!("cannot read stacks {selector}: {e}"),
            );
        }
    };
    let mut problems = Vec::new();
    for name in names {
        if !stacks.iter().any(|s| &s.name == name) {
            problems.push(format!("stack {name} does not exist"));
        }
    }
    if stacks.is_empty() && names.is_empty() {
        problems.push(format!("no stack matches {selector}"));
    }
    let unhealthy: Vec<String> = stacks
        .iter()
        .filter(|s| !stack_is_healthy(&s.status))
        .map(|s| format!("{} is {}", s.name, s.status))
        .collect();
    problems.extend(unhealthy);
    let healthy = stacks
        .iter()
        .filter(|s| stack_is_healthy(&s.status))
        .count();
    let measured = format!("{healthy}/{} stacks healthy", stacks.len().max(names.len()));
    GateResult::new(
        "stacks",
        problems.is_empty(),
        measured,
        threshold,
        problems.join("; "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_statuses() {
        for ok in ["CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"] {
            assert!(stack_is_healthy(ok), "{ok}");
        }
        for bad in [
            "UPDATE_ROLLBACK_COMPLETE",
            "ROLLBACK_COMPLETE",
            "DELETE_COMPLETE",
            "UPDATE_IN_PROGRESS",
            "CREATE_FAILED",
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        ] {
            assert!(!stack_is_healthy(bad), "{bad}");
        }
    }
}
