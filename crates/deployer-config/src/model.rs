//! The configuration types. Doc comments on fields become the JSON Schema descriptions
//! that editors show, so they are written for the person editing `deployer.yml`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::gates;
use crate::unique;

/// Default `release.tag-prefix`.
pub const DEFAULT_TAG_PREFIX: &str = "v";
/// Default `release.initial-version`.
pub const DEFAULT_INITIAL_VERSION: &str = "0.1.0";
/// Default `release.prerelease-label`.
pub const DEFAULT_PRERELEASE_LABEL: &str = "rc";
/// Default `markers.deploy-all`.
pub const DEFAULT_DEPLOY_ALL_MARKER: &str = "[deploy-all]";
/// Default `markers.skip`: the markers GitHub itself honours for push and pull_request.
pub const DEFAULT_SKIP_MARKERS: [&str; 5] = [
    "[skip ci]",
    "[ci skip]",
    "[no ci]",
    "[skip actions]",
    "[actions skip]",
];
/// Default `health.timeout-seconds`.
pub const DEFAULT_HEALTH_TIMEOUT_SECONDS: u64 = 60;
/// Pattern of service and environment names.
const NAME_PATTERN: &str = "^[a-z0-9][a-z0-9_-]*$";
/// Pattern of IAM role ARNs (schema only; validation checks the same).
const ROLE_PATTERN: &str = r"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/.+$";
/// Migration presets `migration.preset` accepts.
pub const MIGRATION_PRESETS: [&str; 1] = ["alembic"];

/// `.github/deployer.yml`: the services a repository ships to Amazon ECS, the
/// environments it ships them to, and how releases are versioned.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[schemars(title = "deployer configuration (.github/deployer.yml)")]
pub struct Config {
    /// The services of this repository, keyed by service name (`[a-z0-9][a-z0-9-_]*`).
    /// The name is how commands and change detection refer to the service, and the
    /// default container name.
    #[serde(deserialize_with = "unique::map")]
    #[schemars(with = "BTreeMap<String, Service>", extend("propertyNames" = {"pattern": NAME_PATTERN}))]
    pub services: BTreeMap<String, Service>,

    /// Deployment environments keyed by name (`[a-z0-9][a-z0-9-_]*`), e.g. `dev`,
    /// `staging`, `production`. The name replaces `{env}` in templates.
    #[serde(default, deserialize_with = "unique::map")]
    #[schemars(with = "BTreeMap<String, Environment>", extend("propertyNames" = {"pattern": NAME_PATTERN}))]
    pub environments: BTreeMap<String, Environment>,

    /// How versions and tags are computed. Every key has a default.
    #[serde(default)]
    pub release: Release,

    /// Commit-message markers that change what the pipeline does.
    #[serde(default)]
    pub markers: Markers,
}

/// One deployable service: which files belong to it, which image it is built into and
/// which ECS service runs it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Service {
    /// Files that belong to this service, as GitHub-style globs relative to the repository
    /// root (`services/api/**`). Evaluated in order; a pattern starting with `!` excludes
    /// files matched by earlier patterns. A change to a matching file marks the service
    /// as changed. Must not be empty.
    #[schemars(length(min = 1))]
    pub paths: Vec<String>,

    /// Container image repository, WITHOUT a tag or digest
    /// (`111111111111.dkr.ecr.us-east-1.amazonaws.com/api`). The tag is computed per
    /// build (`dev-<sha>`, `v1.2.3`).
    #[schemars(pattern(r"^([^/:@\s]+(:[0-9]+)?/)?[^:@\s]+$"))]
    pub image: Option<String>,

    /// ECS cluster name or ARN. May contain `{env}`, replaced by the environment name
    /// (`storefront-{env}`). An environment's `cluster` overrides it.
    pub cluster: Option<String>,

    /// ECS service name. May contain `{env}` (`api-{env}`).
    pub service: Option<String>,

    /// Containers of the task definition whose image is replaced on deploy.
    /// Default: one container named like the service key.
    #[serde(default)]
    pub containers: Vec<String>,

    /// Git tag prefix of this service's releases (`api-v` gives `api-v1.2.3`); lets
    /// several services of one repository be versioned independently.
    /// Default: `release.tag-prefix`.
    pub tag_prefix: Option<String>,

    /// Database migration run as a one-off ECS task before the deploy.
    pub migration: Option<Migration>,

    /// HTTP endpoints checked after the deploy.
    pub health: Option<Health>,
}

/// A database migration run as a one-off ECS task from the service's task definition
/// (same image, network configuration taken from the service).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Migration {
    /// Container of the task definition that runs the command.
    /// Default: the first of the service's `containers`.
    pub container: Option<String>,

    /// Command (exec form, one list item per argument) that applies pending migrations,
    /// e.g. `[alembic, upgrade, head]`. Required unless `preset` is set.
    #[serde(default)]
    pub command: Vec<String>,

    /// A known migration tool (`alembic`). Gives the default command
    /// (`alembic upgrade head`) and tells `run-migration` which tool's commands
    /// (`downgrade -1`, `current`, `history`) the migrate workflow may run. `command`,
    /// if also set, replaces the default.
    pub preset: Option<String>,
}

/// Health endpoints checked after a deploy. Each may contain `{env}`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Health {
    /// General health URL; a 2xx answer means healthy
    /// (`https://api.{env}.example.com/health`).
    pub url: Option<String>,

    /// Readiness URL: the service accepts traffic.
    pub ready: Option<String>,

    /// Liveness URL: the process is alive.
    pub live: Option<String>,

    /// How long to keep retrying until every URL answers 2xx, in seconds. Default: 60.
    #[schemars(range(min = 1), extend("default" = 60))]
    pub timeout_seconds: Option<u64>,
}

/// A deployment environment (an AWS account/region plus promotion rules).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Environment {
    /// IAM role ARN assumed through GitHub OIDC (`arn:aws:iam::111111111111:role/deployer-dev`).
    /// Without it the default AWS credential chain is used.
    #[schemars(pattern(ROLE_PATTERN))]
    pub role: Option<String>,

    /// AWS region (`us-east-1`). Default: the region of the AWS environment
    /// (`AWS_REGION`).
    #[schemars(pattern(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$"))]
    pub region: Option<String>,

    /// Optional second role assumed with the first role's credentials
    /// (cross-account role chaining).
    #[schemars(pattern(ROLE_PATTERN))]
    pub chain_role: Option<String>,

    /// ECS cluster for every service in this environment; overrides the services'
    /// `cluster`. May contain `{env}`.
    pub cluster: Option<String>,

    /// Environment URL shown on GitHub deployments. May contain `{env}`.
    pub url: Option<String>,

    /// Promotion gates that must pass before deploying to this environment.
    #[serde(default)]
    pub gates: Vec<gates::GateSpec>,
}

/// How versions and tags are computed from conventional commits.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Release {
    /// Prefix of release tags (`v` gives `v1.2.3`). Services may override it.
    pub tag_prefix: String,

    /// Version of the first release when no tag exists yet (SemVer, e.g. `0.1.0`).
    pub initial_version: String,

    /// Label of pre-releases (`rc` gives `v1.3.0-rc.1`). Letters, digits and `-`.
    pub prerelease_label: String,

    /// What to do with commits that are not conventional commits:
    /// `ignore` them (no version bump) or fail with an `error`.
    pub non_conventional: NonConventional,
}

impl Default for Release {
    fn default() -> Self {
        Release {
            tag_prefix: DEFAULT_TAG_PREFIX.to_owned(),
            initial_version: DEFAULT_INITIAL_VERSION.to_owned(),
            prerelease_label: DEFAULT_PRERELEASE_LABEL.to_owned(),
            non_conventional: NonConventional::Ignore,
        }
    }
}

/// Handling of commits that do not follow the conventional-commit format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NonConventional {
    /// Such commits do not bump the version.
    #[default]
    Ignore,
    /// Such commits fail the release computation (exit 1).
    Error,
}

/// Commit-message markers, matched case-insensitively as substrings. Skip markers are read
/// from the head commit of a push only, as GitHub reads them, and apply to push events
/// only; `[deploy-all]` counts in any commit of the push (or of a pull request, with its
/// title and body) for every event.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Markers {
    /// Deploy every service, whatever changed.
    pub deploy_all: String,

    /// Skip the pipeline when in the head commit of a push. Default: the markers GitHub
    /// honours itself (`[skip ci]`, `[ci skip]`, `[no ci]`, `[skip actions]`, `[actions skip]`).
    pub skip: Vec<String>,
}

impl Default for Markers {
    fn default() -> Self {
        Markers {
            deploy_all: DEFAULT_DEPLOY_ALL_MARKER.to_owned(),
            skip: DEFAULT_SKIP_MARKERS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }
}

/// Replaces every `{env}` in `template` with `env`.
pub fn substitute_env(template: &str, env: &str) -> String {
    template.replace("{env}", env)
}

impl Config {
    /// The service called `name`; the error lists the services that exist.
    pub fn service(&self, name: &str) -> Result<&Service, ConfigError> {
        self.services
            .get(name)
            .ok_or_else(|| ConfigError::UnknownService {
                name: name.to_owned(),
                known: self.services.keys().cloned().collect(),
            })
    }

    /// The environment called `name`; the error lists the environments that exist.
    pub fn environment(&self, name: &str) -> Result<&Environment, ConfigError> {
        self.environments
            .get(name)
            .ok_or_else(|| ConfigError::UnknownEnvironment {
                name: name.to_owned(),
                known: self.environments.keys().cloned().collect(),
            })
    }

    /// Service names, sorted.
    pub fn service_names(&self) -> Vec<&str> {
        self.services.keys().map(String::as_str).collect()
    }

    /// Release tag prefix of service `name`: its own `tag-prefix`, else
    /// `release.tag-prefix`. An unknown service gets `release.tag-prefix`.
    pub fn tag_prefix_for(&self, name: &str) -> &str {
        self.services
            .get(name)
            .and_then(|s| s.tag_prefix.as_deref())
            .unwrap_or(&self.release.tag_prefix)
    }
}

/// One health endpoint of a service, `{env}` already substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthUrl {
    /// `url`, `ready` or `live`.
    pub kind: &'static str,
    pub url: String,
}

impl Service {
    /// Cluster of this service in environment `env`: the environment's `cluster`
    /// override first, then the service's own `cluster`; `{env}` substituted.
    pub fn cluster_for(&self, env: &str, environment: &Environment) -> Option<String> {
        environment
            .cluster
            .as_deref()
            .or(self.cluster.as_deref())
            .map(|t| substitute_env(t, env))
    }

    /// ECS service name in environment `env`, `{env}` substituted.
    pub fn service_for(&self, env: &str) -> Option<String> {
        self.service.as_deref().map(|t| substitute_env(t, env))
    }

    /// Health endpoints (`url`, `ready`, `live`, in that order, those that are set) for
    /// environment `env`.
    pub fn health_urls(&self, env: &str) -> Vec<HealthUrl> {
        let Some(health) = &self.health else {
            return Vec::new();
        };
        [
            ("url", &health.url),
            ("ready", &health.ready),
            ("live", &health.live),
        ]
        .into_iter()
        .filter_map(|(kind, url)| {
            url.as_deref().map(|u| HealthUrl {
                kind,
                url: substitute_env(u, env),
            })
        })
        .collect()
    }

    /// Health timeout in seconds (`health.timeout-seconds`, default 60).
    pub fn health_timeout_seconds(&self) -> u64 {
        self.health
            .as_ref()
            .and_then(|h| h.timeout_seconds)
            .unwrap_or(DEFAULT_HEALTH_TIMEOUT_SECONDS)
    }
}

impl Health {
    /// `timeout-seconds` or the default 60.
    pub fn timeout_or_default(&self) -> u64 {
        self.timeout_seconds
            .unwrap_or(DEFAULT_HEALTH_TIMEOUT_SECONDS)
    }
}

impl Migration {
    /// The command that applies pending migrations: `command` if set, else the
    /// preset's default (`alembic upgrade head`). Empty only if neither is set, which
    /// validation rejects.
    pub fn upgrade_command(&self) -> Vec<String> {
        if !self.command.is_empty() {
            return self.command.clone();
        }
        match self.preset.as_deref() {
            Some("alembic") => vec!["alembic".into(), "upgrade".into(), "head".into()],
            _ => Vec::new(),
        }
    }

    /// Container that runs the migration: `container`, else the first of the
    /// service's containers.
    pub fn container_in<'a>(&'a self, service: &'a Service) -> Option<&'a str> {
        self.container
            .as_deref()
            .or(service.containers.first().map(String::as_str))
    }
}

impl Environment {
    /// Environment URL for `env`, `{env}` substituted.
    pub fn url_for(&self, env: &str) -> Option<String> {
        self.url.as_deref().map(|u| substitute_env(u, env))
    }
}
