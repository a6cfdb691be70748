//! GitHub deployment records: what deployer records in the GitHub Deployments API. The
//! HTTP calls and wire types are `deployer-github`'s ([`deployer_github::deployments`],
//! re-exported here); this module decides names, payload and statuses.
//!
//! # Environment names
//! Deployments are created for `<environment>/<service>` (e.g. `staging/api`) by default
//! ([`EnvironmentNaming::PerService`]):
//! * `auto_inactive` (set on `success`, see [`status`]) marks older deployments *of the
//!   same environment name* inactive. With one name per environment, deploying `web` would
//!   mark the live `api` deployment inactive; per-service names keep one "active"
//!   deployment per service.
//! * A job with `environment: staging` already makes Actions create its own deployment
//!   for `staging` (and update it when the job ends). Our records would fight with those
//!   if they used the same name. Protection rules (reviewers, wait timers) come from the
//!   job's `environment:`, not from these records, so nothing is lost.
//!
//! [`EnvironmentNaming::Shared`] uses the plain environment name for repositories that
//! deploy one service.
//!
//! # Request choices
//! `required_contexts: []` and `auto_merge: false` come from [`NewDeployment::new`] (see
//! [`deployer_github::deployments`] for why). `production_environment` is true for
//! `production`/`prod`/`prod-*`/`production-*` unless overridden;
//! `transient_environment` for short-lived (preview) environments.
//!
//! Needs `permissions: deployments: write` for the job's `GITHUB_TOKEN`.

use serde::{Deserialize, Serialize};

pub use deployer_github::deployments::{
    Deployment, DeploymentStatusInfo, MAX_DESCRIPTION_CHARS, NewDeployment, NewStatus, StatusState,
};

/// How the GitHub deployment environment is named from deployer's environment + service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EnvironmentNaming {
    /// `staging/api` (default; see the module docs).
    #[default]
    PerService,
    /// `staging`.
    Shared,
}

impl EnvironmentNaming {
    pub fn name(self, environment: &str, service: &str) -> String {
        match self {
            EnvironmentNaming::PerService => format!("{environment}/{service}"),
            EnvironmentNaming::Shared => environment.to_string(),
        }
    }
}

/// `production`, `prod`, `prod-eu`, `production-2` (any case) are production environments.
pub fn is_production_name(environment: &str) -> bool {
    let e = environment.trim().to_ascii_lowercase();
    let base = e.split('/').next().unwrap_or(&e);
    ["production", "prod"].iter().any(|p| {
        base == *p || base.starts_with(&format!("{p}-")) || base.starts_with(&format!("{p}_"))
    })
}

/// `payload` of a deployment: what deployer deployed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentPayload {
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(
        rename = "task-definition-arn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub task_definition_arn: Option<String>,
}

impl DeploymentPayload {
    /// `payload.version` of a deployment deployer created.
    pub fn version_of(deployment: &Deployment) -> Option<&str> {
        deployment.payload.get("version")?.as_str()
    }
}

/// A deployment of `git_ref` to `environment` with deployer's choices: description from
/// the payload, production flag from the name, `auto_merge: false`, `required_contexts: []`.
pub fn new_deployment(
    git_ref: impl Into<String>,
    environment: impl Into<String>,
    payload: DeploymentPayload,
) -> NewDeployment {
    let description = match &payload.version {
        Some(v) => format!("Deploy {} {v}", payload.service),
        None => format!("Deploy {}", payload.service),
    };
    let mut new = NewDeployment::new(git_ref, environment).description(description);
    new.production_environment = is_production_name(&new.environment);
    new.payload = serde_json::to_value(&payload).unwrap_or_default();
    new
}

/// A status in `state`; only `success` makes older deployments of the same environment
/// inactive (`auto_inactive`).
pub fn status(state: StatusState) -> NewStatus {
    NewStatus::new(state).auto_inactive(state == StatusState::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naming_and_production_detection() {
        assert_eq!(
            EnvironmentNaming::PerService.name("staging", "api"),
            "staging/api"
        );
        assert_eq!(EnvironmentNaming::Shared.name("staging", "api"), "staging");
        assert!(is_production_name("production"));
        assert!(is_production_name("Prod"));
        assert!(is_production_name("prod-eu/api"));
        assert!(!is_production_name("staging"));
        assert!(!is_production_name("products"));
    }

    #[test]
    fn new_deployment_has_fixed_choices() {
        let d = new_deployment(
            "abc",
            "production/api",
            DeploymentPayload {
                service: "api".into(),
                ..Default::default()
            },
        );
        let v = serde_json::to_value(&d).expect("json");
        assert_eq!(v["ref"], "abc");
        assert_eq!(v["auto_merge"], false);
        assert_eq!(v["required_contexts"], serde_json::json!([]));
        assert_eq!(v["production_environment"], true);
        assert_eq!(v["payload"], serde_json::json!({"service": "api"}));
    }

    #[test]
    fn status_descriptions_are_one_short_line() {
        let s = status(StatusState::Failure)
            .description(format!("line one\nline two {}", "x".repeat(300)));
        let d = s.description.expect("description");
        assert!(!d.contains('\n'));
        assert_eq!(d.chars().count(), MAX_DESCRIPTION_CHARS);
        assert!(!s.auto_inactive);
        assert!(status(StatusState::Success).auto_inactive);
    }
}
