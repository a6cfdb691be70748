//! Choosing what to roll back to: the last successful service deployment (never
//! "revision − 1"), or a named revision / ARN / image tag / commit SHA.

use serde_json::Value;

use crate::ecs::{Ecs, ServiceInfo, family_of_arn, revision_of_arn, short_td};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The last SUCCESSFUL service deployment whose revision is not the one serving now.
    Auto,
    Revision(u32),
    TaskDefinition(String),
    /// An image tag (`v1.2.3`) or a commit SHA (matches image tags and task-definition tags).
    ImageTag(String),
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub task_definition: String,
    pub why: String,
}

/// Does this task definition (DescribeTaskDefinition JSON with tags) run `tag`?
pub fn runs_tag(described: &Value, tag: &str) -> bool {
    let inner = described.get("taskDefinition").unwrap_or(described);
    let images = inner
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let image_match = images
        .iter()
        .filter_map(|c| c.get("image").and_then(Value::as_str))
        .any(|img| {
            let t = img
                .rsplit_once(':')
                .map(|(_, t)| t)
                .filter(|t| !t.contains('/'))
                .unwrap_or("");
            t == tag || img.ends_with(&format!("@{tag}")) || (tag.len() >= 7 && t.contains(tag))
        });
    let tag_match = described
        .get("tags")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .filter_map(|t| t.get("value").and_then(Value::as_str))
                .any(|v| {
                    v == tag
                        || (tag.len() >= 7
                            && (v.starts_with(tag) || tag.starts_with(v) && v.len() >= 7))
                })
        })
        .unwrap_or(false);
    image_match || tag_match
}

/// Resolves `target` for `svc` and verifies the task definition exists and is ACTIVE.
pub async fn resolve(
    ecs: &Ecs,
    cluster: &str,
    svc: &ServiceInfo,
    target: &Target,
) -> Result<Resolved> {
    let family = family_of_arn(&svc.task_definition)
        .ok_or_else(|| Error::Failed(format!("cannot read the family of {}", svc.task_definition)))?
        .to_string();
    let resolved = match target {
        Target::Auto => {
            let list = ecs
                .list_service_deployments(cluster, &svc.name, None)
                .await?;
            let mut found = None;
            for d in &list {
                if d.status != "SUCCESSFUL" {
                    continue;
                }
                let Some(rev) = &d.target_revision else {
                    continue;
                };
                let td = ecs.revision_task_definition(rev).await?;
                if td != svc.task_definition {
                    found = Some(Resolved {
                        why: format!(
                            "last successful deployment before the current one ({})",
                            d.arn
                        ),
                        task_definition: td,
                    });
                    break;
                }
            }
            found.ok_or_else(|| {
                Error::BadInput(format!(
                    "service `{}` has no earlier successful deployment in its deployment history \
                     (ECS keeps 90 days); name the target with --to-revision, --to-task-definition or --to-image-tag",
                    svc.name
                ))
            })?
        }
        Target::Revision(n) => Resolved {
            task_definition: format!("{family}:{n}"),
            why: format!("revision {n} of {family}"),
        },
        Target::TaskDefinition(arn) => Resolved {
            task_definition: arn.clone(),
            why: "named task definition".into(),
        },
        Target::ImageTag(tag) => {
            let arns = ecs.list_task_definitions(&family).await?;
            let mut found = None;
            for arn in arns.iter().take(100) {
                let raw = ecs.describe_task_definition_raw(arn).await?;
                if runs_tag(&raw, tag) {
                    found = Some(Resolved {
                        task_definition: arn.clone(),
                        why: format!("newest revision of {family} that runs `{tag}`"),
                    });
                    break;
                }
            }
            found.ok_or_else(|| {
                Error::BadInput(format!(
                    "no revision of {family} (newest 100 searched) runs an image tagged `{tag}` or carries it as a tag"
                ))
            })?
        }
    };
    let raw = ecs
        .describe_task_definition_raw(&resolved.task_definition)
        .await?;
    let inner = raw.get("taskDefinition").cloned().unwrap_or(Value::Null);
    let status = inner
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("UNKNOWN");
    if status != "ACTIVE" {
        return Err(Error::BadInput(format!(
            "rollback target {} is {status}, not ACTIVE; pick another target (nothing was changed)",
            resolved.task_definition
        )));
    }
    let arn = inner
        .get("taskDefinitionArn")
        .and_then(Value::as_str)
        .unwrap_or(&resolved.task_definition)
        .to_string();
    if family_of_arn(&arn).is_some_and(|f| f.ends_with("-migrate")) {
        return Err(Error::BadInput(format!(
            "{} is a migration task definition, not a service revision",
            short_td(&arn)
        )));
    }
    let _ = revision_of_arn(&arn);
    Ok(Resolved {
        task_definition: arn,
        why: resolved.why,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_tags_and_shas() {
        let td = json!({"taskDefinition": {"containerDefinitions": [
            {"name": "api", "image": "1.dkr.ecr.us-east-1.amazonaws.com/api:v1.2.3"},
            {"name": "w", "image": "registry:5000/worker:dev-0123456789abcdef"}
        ]}, "tags": [{"key": "git-sha", "value": "fedcba9876543210"}]});
        assert!(runs_tag(&td, "v1.2.3"));
        assert!(!runs_tag(&td, "v1.2"));
        assert!(runs_tag(&td, "0123456"));
        assert!(runs_tag(&td, "fedcba9"));
        assert!(!runs_tag(&td, "5000"));
    }
}
