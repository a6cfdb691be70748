//! Environment-health gates that read AWS state through the [`EnvironmentProbe`] seam:
//! the AWS crate implements the probe; tests use a fake.

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

use crate::gate::GateResult;

/// A boxed future, so the probe can be used as `&dyn EnvironmentProbe`.
pub type ProbeFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ProbeError>> + Send + 'a>>;

/// Why a probe could not read the state.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProbeError {
    /// The state could not be read now (throttling, an outage, refused permissions that
    /// may be fixed by a re-run): the gate fails with this text.
    #[error("{0}")]
    Failed(String),
    /// The gate names what cannot exist as configured (a missing cluster, an endpoint or
    /// region that cannot be reached): bad configuration, so gate-check exits 2 with this
    /// text instead of reporting a failed gate.
    #[error("{0}")]
    BadInput(String),
}

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
    /// ECS service-deployment status as AWS spells it (for the message).
    pub status: String,
    /// It finished SUCCESSFUL (decided where ECS's answer is parsed, not here).
    pub succeeded: bool,
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
/// The expected image may be a bare tag or a reference without its registry (see
/// [`image_matches`]); the threshold then names the full image it matched.
pub fn ecs_service_gate(
    expect: &EcsExpectation,
    state: Result<&EcsServiceState, &ProbeError>,
) -> GateResult {
    let threshold = |image: &str| format!("image {image} and last deployment SUCCESSFUL");
    let state = match state {
        Ok(s) => s,
        Err(e) => {
            return GateResult::new(
                "ecs-service",
                false,
                "unknown",
                threshold(&expect.image),
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
    let matched = images
        .iter()
        .find(|(_, image)| image_matches(image, &expect.image))
        .map(|(_, image)| image.as_str());
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
    } else if matched.is_none() {
        problems.push(format!(
            "{}/{} runs {shown_images}, not {}",
            expect.cluster, expect.service, expect.image
        ));
    }
    match &state.last_deployment {
        None => problems.push("the service has no deployments".to_string()),
        Some(d) if !d.succeeded => {
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
        threshold(matched.unwrap_or(&expect.image)),
        problems.join("; "),
    )
}

/// Whether a service's container image is the expected one: equal, or ending with it —
/// a bare tag (`v1.2.3`) matches `repo:v1.2.3`, `api:v1` matches `registry/team/api:v1`,
/// `sha256:…` matches `repo@sha256:…`, and `:v1` / `@sha256:…` match any repository.
pub fn image_matches(actual: &str, expected: &str) -> bool {
    let (actual, expected) = (actual.trim(), expected.trim());
    if expected.is_empty() || actual.is_empty() {
        return false;
    }
    if actual == expected {
        return true;
    }
    if expected.starts_with(':') || expected.starts_with('@') {
        return actual.ends_with(expected);
    }
    let Some(head) = actual.strip_suffix(expected) else {
        return false;
    };
    if expected.contains([':', '/', '@']) {
        // A repository with or without its registry, or a digest.
        head.ends_with('/') || head.ends_with('@')
    } else {
        // A bare tag (not the tail of a digest).
        head.ends_with(':') && !head.contains('@')
    }
}

/// How healthy a CloudFormation stack status is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackHealth {
    /// `*_COMPLETE`, not a rollback, not deleted.
    Healthy,
    /// `*_IN_PROGRESS` (including `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`, `REVIEW_IN_PROGRESS`).
    InProgress,
    /// `ROLLBACK_COMPLETE`, `UPDATE_ROLLBACK_COMPLETE`, `IMPORT_ROLLBACK_COMPLETE`.
    RolledBack,
    /// `*_FAILED`.
    Failed,
    /// `DELETE_COMPLETE`.
    Deleted,
    /// Anything else (a status CloudFormation does not document today).
    Unknown,
}

/// The one classification of CloudFormation stack statuses the stacks gate judges by.
pub fn classify_stack_status(status: &str) -> StackHealth {
    if status.ends_with("_IN_PROGRESS") {
        StackHealth::InProgress
    } else if status.ends_with("_FAILED") {
        StackHealth::Failed
    } else if status == "DELETE_COMPLETE" {
        StackHealth::Deleted
    } else if status.ends_with("_COMPLETE") && status.contains("ROLLBACK") {
        StackHealth::RolledBack
    } else if status.ends_with("_COMPLETE") {
        StackHealth::Healthy
    } else {
        StackHealth::Unknown
    }
}

/// A healthy stack: `*_COMPLETE` but not a rollback and not deleted.
pub fn stack_is_healthy(status: &str) -> bool {
    classify_stack_status(status) == StackHealth::Healthy
}

/// Why a stack blocks promotion, or `None` when its status is healthy.
pub fn stack_problem(name: &str, status: &str) -> Option<String> {
    Some(match classify_stack_status(status) {
        StackHealth::Healthy => return None,
        StackHealth::InProgress => format!(
            "stack {name} is still in progress ({status}); run the gate again once it has finished"
        ),
        StackHealth::RolledBack => format!(
            "stack {name} rolled back ({status}): its last change failed; fix the template or parameters and deploy the stack again"
        ),
        StackHealth::Failed => {
            format!("stack {name} failed ({status}); see its events in the CloudFormation console")
        }
        StackHealth::Deleted => format!("stack {name} was deleted"),
        StackHealth::Unknown if status.is_empty() => {
            format!("stack {name} has no status")
        }
        StackHealth::Unknown => format!("stack {name} is {status}, not *_COMPLETE"),
    })
}

/// Passes when every named stack exists and every matched stack is healthy; the detail
/// says what each problem means (missing, still in progress, rolled back, failed).
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
        problems.push(match prefix {
            Some(p) => format!("no stack name starts with {p}"),
            None => format!("no stack matches {selector}"),
        });
    }
    problems.extend(
        stacks
            .iter()
            .filter_map(|s| stack_problem(&s.name, &s.status)),
    );
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

    /// Every StackStatus CloudFormation documents.
    const STATUSES: [&str; 23] = [
        "CREATE_IN_PROGRESS",
        "CREATE_FAILED",
        "CREATE_COMPLETE",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_FAILED",
        "ROLLBACK_COMPLETE",
        "DELETE_IN_PROGRESS",
        "DELETE_FAILED",
        "DELETE_COMPLETE",
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_COMPLETE",
        "UPDATE_FAILED",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_FAILED",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
        "REVIEW_IN_PROGRESS",
        "IMPORT_IN_PROGRESS",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_IN_PROGRESS",
        "IMPORT_ROLLBACK_FAILED",
        "IMPORT_ROLLBACK_COMPLETE",
    ];

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

    #[test]
    fn stack_status_classification() {
        use StackHealth::*;
        let expect = |s: &str, h: StackHealth| assert_eq!(classify_stack_status(s), h, "{s}");
        for s in ["CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"] {
            expect(s, Healthy);
        }
        for s in [
            "ROLLBACK_COMPLETE",
            "UPDATE_ROLLBACK_COMPLETE",
            "IMPORT_ROLLBACK_COMPLETE",
        ] {
            expect(s, RolledBack);
        }
        for s in [
            "CREATE_IN_PROGRESS",
            "UPDATE_IN_PROGRESS",
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            "UPDATE_ROLLBACK_IN_PROGRESS",
            "ROLLBACK_IN_PROGRESS",
            "REVIEW_IN_PROGRESS",
        ] {
            expect(s, InProgress);
        }
        for s in ["CREATE_FAILED", "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED"] {
            expect(s, Failed);
        }
        expect("DELETE_COMPLETE", Deleted);
        expect("", Unknown);
        expect("SOMETHING_NEW", Unknown);
    }

    #[test]
    fn classification_agrees_with_the_gate() {
        for s in STATUSES {
            assert_eq!(
                classify_stack_status(s) == StackHealth::Healthy,
                stack_is_healthy(s),
                "{s}"
            );
            assert_eq!(stack_problem("x", s).is_none(), stack_is_healthy(s), "{s}");
        }
    }

    #[test]
    fn stack_problems_read_well() {
        let p = stack_problem("net", "UPDATE_IN_PROGRESS").expect("problem");
        assert!(p.contains("still in progress"), "{p}");
        let p = stack_problem("net", "UPDATE_ROLLBACK_COMPLETE").expect("problem");
        assert!(p.contains("rolled back"), "{p}");
        let p = stack_problem("net", "ROLLBACK_COMPLETE").expect("problem");
        assert!(p.contains("rolled back"), "{p}");
        assert!(stack_problem("net", "CREATE_COMPLETE").is_none());
    }

    #[test]
    fn images() {
        let full = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api:v1.2.3";
        assert!(image_matches(full, full));
        assert!(image_matches(full, "v1.2.3"));
        assert!(image_matches(full, ":v1.2.3"));
        assert!(image_matches(full, "shop/api:v1.2.3"));
        assert!(image_matches(full, "api:v1.2.3"));
        assert!(!image_matches(full, "1.2.3"));
        assert!(!image_matches(full, "pi:v1.2.3"));
        assert!(!image_matches(full, "v1.2"));
        assert!(!image_matches(full, "other/api:v1.2.3"));
        assert!(!image_matches(full, ""));
        let digest = "repo/api@sha256:abc";
        assert!(image_matches(digest, "sha256:abc"));
        assert!(image_matches(digest, "@sha256:abc"));
        assert!(image_matches(digest, "api@sha256:abc"));
        assert!(!image_matches(digest, "abc"));
        // A repository named like the tag is not the tag.
        assert!(!image_matches("registry/v1", "v1"));
    }

    fn state(image: &str, status: &str) -> EcsServiceState {
        EcsServiceState {
            task_definition: "arn:td/api:3".into(),
            containers: vec![
                ("api".into(), image.into()),
                ("envoy".into(), "envoy:v1".into()),
            ],
            last_deployment: Some(DeploymentState {
                id: "d1".into(),
                status: status.into(),
                succeeded: status == "SUCCESSFUL",
                task_definition: "arn:td/api:3".into(),
            }),
        }
    }

    fn expect(image: &str, container: Option<&str>) -> EcsExpectation {
        EcsExpectation {
            cluster: "shop".into(),
            service: "api".into(),
            image: image.into(),
            container: container.map(String::from),
        }
    }

    #[test]
    fn a_tag_matches_the_full_image() {
        let s = state("1.dkr.ecr.us-east-1.amazonaws.com/api:v2", "SUCCESSFUL");
        for wanted in ["v2", "api:v2", "1.dkr.ecr.us-east-1.amazonaws.com/api:v2"] {
            let r = ecs_service_gate(&expect(wanted, None), Ok(&s));
            assert!(r.passed, "{wanted}");
            // The threshold names the full image the expectation matched.
            assert_eq!(
                r.threshold,
                "image 1.dkr.ecr.us-east-1.amazonaws.com/api:v2 and last deployment SUCCESSFUL"
            );
        }
        for wanted in ["v3", "2", "other:v2"] {
            let r = ecs_service_gate(&expect(wanted, None), Ok(&s));
            assert!(!r.passed, "{wanted}");
        }
        // With no container named, any container counts; with one, only that one.
        assert!(!ecs_service_gate(&expect("v1", Some("api")), Ok(&s)).passed);
        assert!(ecs_service_gate(&expect("v1", Some("envoy")), Ok(&s)).passed);
        // The right image does not excuse a deployment that rolled back.
        let s = state("repo/api:v2", "ROLLBACK_SUCCESSFUL");
        let r = ecs_service_gate(&expect("v2", None), Ok(&s));
        assert!(!r.passed);
        assert!(r.detail.contains("ROLLBACK_SUCCESSFUL"), "{}", r.detail);
    }

    #[test]
    fn stack_problems_are_explained() {
        let stacks = vec![
            StackState {
                name: "net".into(),
                status: "UPDATE_IN_PROGRESS".into(),
            },
            StackState {
                name: "db".into(),
                status: "UPDATE_ROLLBACK_COMPLETE".into(),
            },
            StackState {
                name: "app".into(),
                status: "CREATE_COMPLETE".into(),
            },
        ];
        let names = vec!["net".to_string(), "db".into(), "app".into(), "gone".into()];
        let r = stacks_gate(&names, None, Ok(&stacks));
        assert!(!r.passed);
        assert!(
            r.detail.contains("stack gone does not exist"),
            "{}",
            r.detail
        );
        assert!(
            r.detail.contains("stack net is still in progress"),
            "{}",
            r.detail
        );
        assert!(r.detail.contains("stack db rolled back"), "{}", r.detail);
        assert!(!r.detail.contains("app"), "{}", r.detail);

        let r = stacks_gate(&[], Some("x-"), Ok(&[]));
        assert!(!r.passed);
        assert!(
            r.detail.contains("no stack name starts with x-"),
            "{}",
            r.detail
        );

        // A passing verdict carries no problem.
        let ok = vec![stacks[2].clone()];
        let passed = stacks_gate(&[], Some("a"), Ok(&ok));
        assert!(passed.passed, "{passed:?}");
        assert_eq!(passed.detail, "");
    }
}
