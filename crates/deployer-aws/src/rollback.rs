//! Choosing what to roll back to: the last successful service deployment (never
//! "revision − 1"), or a named revision / ARN / image tag / commit SHA.

use serde_json::Value;

use crate::ecs::{Ecs, ServiceInfo, family_of_arn, revision_of_arn, short_td};
use crate::error::{Error, Result};
use crate::states::{ServiceDeploymentStatus, TaskDefinitionStatus};

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

/// How a wanted value is matched against image tags and tag values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagMatch {
    /// `--to-image-tag`: the image tag (or digest, or a tag value) is exactly the value.
    /// `v1.10.1` never matches `v1.10.12`.
    Exact,
    /// `--to-sha`: a git SHA of at least 7 characters, also found as a prefix of a longer
    /// SHA and as one `-`/`_`/`.`-separated part of an image tag (`dev-0123456789ab`).
    GitSha,
}

/// Does this task definition (DescribeTaskDefinition JSON with tags) run `wanted`?
pub fn runs_tag(described: &Value, wanted: &str, mode: TagMatch) -> bool {
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
            let tag = img
                .rsplit_once(':')
                .map(|(_, t)| t)
                .filter(|t| !t.contains('/'))
                .unwrap_or("");
            tag == wanted
                || img.ends_with(&format!("@{wanted}"))
                || mode == TagMatch::GitSha
                    && tag
                        .split(['-', '_', '.'])
                        .any(|part| sha_matches(part, wanted))
        });
    let tag_match = described
        .get("tags")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .filter_map(|t| t.get("value").and_then(Value::as_str))
                .any(|v| v == wanted || mode == TagMatch::GitSha && sha_matches(v, wanted))
        })
        .unwrap_or(false);
    image_match || tag_match
}

/// One SHA is a prefix of the other, both at least 7 characters (git's short SHA).
fn sha_matches(found: &str, wanted: &str) -> bool {
    found.len() >= 7
        && wanted.len() >= 7
        && (found.starts_with(wanted) || wanted.starts_with(found))
}

/// How many of the newest revisions a search by tag or SHA looks at.
pub const SEARCH_LIMIT: usize = 100;

/// One revision of a family: its ARN, the DescribeTaskDefinition answer (with tags) and
/// the tags as `(key, value)` pairs.
#[derive(Debug, Clone)]
pub struct Revision {
    pub arn: String,
    pub described: Value,
    pub tags: Vec<(String, String)>,
}

/// The task-definition tags of a DescribeTaskDefinition answer as `(key, value)` pairs.
pub fn tags_of(described: &Value) -> Vec<(String, String)> {
    described
        .get("tags")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .filter_map(|t| {
                    Some((
                        t.get("key")?.as_str()?.to_string(),
                        t.get("value")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The newest `limit` revisions of `family`, newest first, described with their tags.
pub async fn newest_revisions(ecs: &Ecs, family: &str, limit: usize) -> Result<Vec<Revision>> {
    let arns = ecs.list_task_definitions(family).await?;
    let mut out = Vec::new();
    for arn in arns.into_iter().take(limit) {
        let described = ecs.describe_task_definition_raw(&arn).await?;
        out.push(Revision {
            tags: tags_of(&described),
            arn,
            described,
        });
    }
    Ok(out)
}

/// `(arn, tags)` pairs for tag lookups (e.g. `deployer_notify::find_by_sha`).
pub fn tag_candidates(revisions: &[Revision]) -> Vec<(String, Vec<(String, String)>)> {
    revisions
        .iter()
        .map(|r| (r.arn.clone(), r.tags.clone()))
        .collect()
}

/// The newest revision that runs `tag` (image tag, digest or any tag value; see [`runs_tag`]).
pub fn first_running_tag<'a>(
    revisions: &'a [Revision],
    tag: &str,
    mode: TagMatch,
) -> Option<&'a str> {
    revisions
        .iter()
        .find(|r| runs_tag(&r.described, tag, mode))
        .map(|r| r.arn.as_str())
}

/// The task-definition family of the revision `svc` serves.
pub fn service_family(svc: &ServiceInfo) -> Result<String> {
    family_of_arn(&svc.task_definition)
        .map(String::from)
        .ok_or_else(|| Error::Failed(format!("cannot read the family of {}", svc.task_definition)))
}

/// Resolves `target` for `svc` and verifies the task definition exists and is ACTIVE.
pub async fn resolve(
    ecs: &Ecs,
    cluster: &str,
    svc: &ServiceInfo,
    target: &Target,
) -> Result<Resolved> {
    let family = service_family(svc)?;
    let resolved = match target {
        Target::Auto => {
            let list = ecs
                .list_service_deployments(cluster, &svc.name, None)
                .await?;
            let mut found = None;
            for d in &list {
                if d.status != ServiceDeploymentStatus::Successful {
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
            let revisions = newest_revisions(ecs, &family, SEARCH_LIMIT).await?;
            let arn = first_running_tag(&revisions, tag, TagMatch::Exact).ok_or_else(|| {
                Error::BadInput(format!(
                    "no revision of {family} (newest {SEARCH_LIMIT} searched) runs an image tagged `{tag}` or carries it as a tag"
                ))
            })?;
            Resolved {
                task_definition: arn.to_string(),
                why: format!("newest revision of {family} that runs `{tag}`"),
            }
        }
    };
    let raw = ecs
        .describe_task_definition_raw(&resolved.task_definition)
        .await?;
    let inner = raw.get("taskDefinition").cloned().unwrap_or(Value::Null);
    let status = TaskDefinitionStatus::parse(
        inner
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("UNKNOWN"),
    );
    if status != TaskDefinitionStatus::Active {
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

/// Describes a rollback target for notifications, from its task-definition tags (version,
/// commit) when it has them.
pub async fn rollback_target(
    ecs: &Ecs,
    arn: &str,
    reason: deployer_notify::RollbackReason,
) -> deployer_notify::RollbackTarget {
    let described = ecs.describe_task_definition_raw(arn).await.ok();
    let tags = described.as_ref().map(tags_of).unwrap_or_default();
    let tag = |k: &str| {
        tags.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let image = described
        .as_ref()
        .and_then(|d| crate::taskdef::images(d).into_iter().next().map(|(_, i)| i));
    deployer_notify::RollbackTarget {
        revision: tag(deployer_notify::tags::TAG_VERSION)
            .unwrap_or_else(|| crate::ecs::short_td(arn).to_string()),
        git_ref: tag(deployer_notify::tags::TAG_GIT_SHA),
        image,
        task_definition_arn: Some(arn.to_string()),
        reason,
    }
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
        assert!(runs_tag(&td, "v1.2.3", TagMatch::Exact));
        assert!(!runs_tag(&td, "v1.2", TagMatch::Exact));
        assert!(runs_tag(&td, "0123456", TagMatch::GitSha));
        assert!(runs_tag(&td, "fedcba9", TagMatch::GitSha));
        assert!(!runs_tag(&td, "5000", TagMatch::GitSha));
        assert!(
            !runs_tag(&td, "0123456", TagMatch::Exact),
            "an image tag is matched whole"
        );
    }

    /// `rollback --to-image-tag v1.10.1` once picked the revision running `v1.10.12`.
    #[test]
    fn an_image_tag_is_matched_exactly_never_as_a_substring() {
        let running = |image: &str| json!({"taskDefinition": {"containerDefinitions": [{"name": "api", "image": image}]}});
        let newer = running("repo/api:v1.10.12");
        let wanted = running("repo/api:v1.10.1");
        assert!(!runs_tag(&newer, "v1.10.1", TagMatch::Exact));
        assert!(runs_tag(&wanted, "v1.10.1", TagMatch::Exact));
        assert!(!runs_tag(
            &running("repo/api:v1.10.1-rc.1"),
            "v1.10.1",
            TagMatch::Exact
        ));
        let revisions = [
            Revision {
                arn: "td/api:12".into(),
                tags: vec![],
                described: newer,
            },
            Revision {
                arn: "td/api:11".into(),
                tags: vec![],
                described: wanted,
            },
        ];
        assert_eq!(
            first_running_tag(&revisions, "v1.10.1", TagMatch::Exact),
            Some("td/api:11")
        );
    }
}
