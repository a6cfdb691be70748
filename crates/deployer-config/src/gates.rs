//! Promotion gates of an environment: `environments.<env>.gates` in `deployer.yml`.
//!
//! Each list item names exactly one kind of gate (`tests`, `coverage`, `security`,
//! `performance`, `health`, `confirmation`, `wait`, `freeze`, `ecs-service`, `stacks`)
//! plus the optional common keys `name` and `required`. `gate-check --environment <env>`
//! evaluates them; the `deployer-gates` crate holds the logic.
//!
//! ```yaml
//! environments:
//!   production:
//!     gates:
//!       - tests: { junit: [reports/junit.xml], min-tests: 50 }
//!       - coverage: { report: coverage.xml, min-line: 80 }
//!       - security: { sarif: [bandit.sarif], fail-on: high }
//!       - performance: { k6: k6-summary.json, min-success-rate: 95, max-average-ms: 2000 }
//!       - freeze: { windows: ["fri 18:00 - mon 06:00"] }
//!       - confirmation: { expect: DEPLOY }
//!       - wait: { seconds: 300 }
//! ```

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One promotion gate. Set exactly one of the gate kinds (`tests`, `coverage`,
/// `security`, `performance`, `health`, `confirmation`, `wait`, `freeze`,
/// `ecs-service`, `stacks`); `name` and `required` apply to any kind.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct GateSpec {
    /// Name shown in the summary and accepted by `--emergency-bypass`.
    /// Default: the gate kind (`tests`, `coverage`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,

    /// Whether a failure blocks the promotion (exit 1). A gate with `required: false`
    /// is reported as a warning only. Default: `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,

    /// Test results from JUnit XML: no failures and no errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<TestsGate>,

    /// Line (and optionally branch) coverage from Cobertura XML, LCOV or a JSON summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<CoverageGate>,

    /// Security scan results (SARIF 2.1.0): no findings at or above a severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<SecurityGate>,

    /// Load-test results (k6 summary JSON or Locust stats CSV).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance: Option<PerformanceGate>,

    /// HTTP endpoints that must answer 2xx within a deadline (retried with backoff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthGate>,

    /// A word the person starting the run must type exactly (`--confirm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<ConfirmationGate>,

    /// Wait this long before passing (evaluated last; skipped if another gate failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<WaitGate>,

    /// Change-freeze windows during which promotion is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze: Option<FreezeGate>,

    /// An ECS service (typically in the previous environment) must run the expected
    /// image and its last deployment must be SUCCESSFUL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecs_service: Option<EcsServiceGate>,

    /// CloudFormation stacks must be in a `*_COMPLETE` state that is not a rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stacks: Option<StacksGate>,
}

/// The single kind a [`GateSpec`] sets, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GateKind<'a> {
    Tests(&'a TestsGate),
    Coverage(&'a CoverageGate),
    Security(&'a SecurityGate),
    Performance(&'a PerformanceGate),
    Health(&'a HealthGate),
    Confirmation(&'a ConfirmationGate),
    Wait(&'a WaitGate),
    Freeze(&'a FreezeGate),
    EcsService(&'a EcsServiceGate),
    Stacks(&'a StacksGate),
}

impl GateKind<'_> {
    /// The key of this kind in `deployer.yml` (also the default gate name).
    pub fn key(&self) -> &'static str {
        match self {
            GateKind::Tests(_) => "tests",
            GateKind::Coverage(_) => "coverage",
            GateKind::Security(_) => "security",
            GateKind::Performance(_) => "performance",
            GateKind::Health(_) => "health",
            GateKind::Confirmation(_) => "confirmation",
            GateKind::Wait(_) => "wait",
            GateKind::Freeze(_) => "freeze",
            GateKind::EcsService(_) => "ecs-service",
            GateKind::Stacks(_) => "stacks",
        }
    }
}

/// The gate kinds a [`GateSpec`] can set.
pub const GATE_KINDS: [&str; 10] = [
    "tests",
    "coverage",
    "security",
    "performance",
    "health",
    "confirmation",
    "wait",
    "freeze",
    "ecs-service",
    "stacks",
];

impl GateSpec {
    /// The one kind this gate sets; an error message when it sets none or several.
    pub fn kind(&self) -> Result<GateKind<'_>, String> {
        let mut kinds = Vec::new();
        if let Some(g) = &self.tests {
            kinds.push(GateKind::Tests(g));
        }
        if let Some(g) = &self.coverage {
            kinds.push(GateKind::Coverage(g));
        }
        if let Some(g) = &self.security {
            kinds.push(GateKind::Security(g));
        }
        if let Some(g) = &self.performance {
            kinds.push(GateKind::Performance(g));
        }
        if let Some(g) = &self.health {
            kinds.push(GateKind::Health(g));
        }
        if let Some(g) = &self.confirmation {
            kinds.push(GateKind::Confirmation(g));
        }
        if let Some(g) = &self.wait {
            kinds.push(GateKind::Wait(g));
        }
        if let Some(g) = &self.freeze {
            kinds.push(GateKind::Freeze(g));
        }
        if let Some(g) = &self.ecs_service {
            kinds.push(GateKind::EcsService(g));
        }
        if let Some(g) = &self.stacks {
            kinds.push(GateKind::Stacks(g));
        }
        match kinds.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!("a gate must set one of: {}", GATE_KINDS.join(", "))),
            many => Err(format!(
                "a gate sets {} kinds ({}); split it into one list item per kind",
                many.len(),
                many.iter()
                    .map(GateKind::key)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// The name shown in summaries: `name`, else the kind's key.
    pub fn display_name(&self) -> String {
        match (&self.name, self.kind()) {
            (Some(n), _) => n.clone(),
            (None, Ok(k)) => k.key().to_string(),
            (None, Err(_)) => "gate".to_string(),
        }
    }

    /// `required`, defaulting to `true`.
    pub fn is_required(&self) -> bool {
        self.required.unwrap_or(true)
    }
}

/// Test results from JUnit XML reports.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TestsGate {
    /// JUnit XML files (pytest `--junitxml`, Surefire, Jest, nextest...); their counts are added up.
    pub junit: Vec<String>,

    /// Fail unless at least this many tests ran (guards against tests silently not collected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_tests: Option<u64>,
}

/// Format of a coverage report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CoverageFormat {
    /// Detect from the content: `<` Cobertura, `{` JSON, otherwise LCOV.
    #[default]
    Auto,
    /// Cobertura XML (`coverage xml`, cargo-llvm-cov `--cobertura`).
    Cobertura,
    /// LCOV tracefile (`LF`/`LH`/`BRF`/`BRH`).
    Lcov,
    /// coverage.py `coverage json` or Istanbul `coverage-summary.json`.
    Json,
}

/// Coverage thresholds, in percent.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CoverageGate {
    /// The coverage report file.
    pub report: String,

    /// Report format. Default: `auto`.
    #[serde(default)]
    pub format: CoverageFormat,

    /// Minimum line coverage in percent. Default: 80.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub min_line: Option<f64>,

    /// Minimum branch coverage in percent (the report must contain branch data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub min_branch: Option<f64>,
}

/// Severity of a security finding, lowest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// SARIF level `none`.
    Note,
    /// SARIF level `note`, or security-severity below 4.
    Low,
    /// SARIF level `warning`, or security-severity 4 to 6.9.
    Medium,
    /// SARIF level `error`, or security-severity 7 to 8.9.
    High,
    /// security-severity 9 or more.
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Note,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The names above, plus SARIF's `error` (high) and `warning` (medium), any case.
impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .or_else(|| (s == "error").then_some(Severity::High))
            .or_else(|| (s == "warning").then_some(Severity::Medium))
            .ok_or_else(|| {
                format!("unknown severity {s:?}; use note, low, medium, high or critical")
            })
    }
}

/// Security scan results.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SecurityGate {
    /// SARIF 2.1.0 files (Bandit `-f sarif`, Semgrep, Trivy, CodeQL...).
    pub sarif: Vec<String>,

    /// Fail when any finding is at or above this severity. Default: `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_on: Option<Severity>,
}

/// Load-test thresholds. Set `k6` or `locust`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PerformanceGate {
    /// k6 summary JSON (`k6 run --summary-export FILE`, or `JSON.stringify(data)` from `handleSummary`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k6: Option<String>,

    /// Locust `*_stats.csv` (`locust --headless --csv PREFIX`); the `Aggregated` row is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locust: Option<String>,

    /// Minimum percentage of successful requests. Default: 95.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub min_success_rate: Option<f64>,

    /// The average response time must be below this many milliseconds. Default: 2000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub max_average_ms: Option<f64>,

    /// The 95th percentile response time must be below this many milliseconds (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub max_p95_ms: Option<f64>,
}

/// HTTP health endpoints.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct HealthGate {
    /// URLs that must answer 2xx to a GET (`https://staging.example.com/health`). May contain `{env}`.
    pub urls: Vec<String>,

    /// How long each URL may take to become healthy, retries included. Default: 120.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub deadline_seconds: Option<u64>,

    /// Timeout of one request in seconds. Default: 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub timeout_seconds: Option<u64>,
}

/// Typed confirmation: the input given with `--confirm` (a `workflow_dispatch` input)
/// must equal `expect` exactly (case-sensitive, surrounding spaces ignored).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ConfirmationGate {
    /// The word to type, e.g. `DEPLOY` or `ROLLBACK`.
    #[schemars(length(min = 1))]
    pub expect: String,
}

/// A wait timer (bake time).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct WaitGate {
    /// Seconds to wait; progress is printed at least every 15 s.
    pub seconds: u64,
}

/// Change-freeze windows (UTC).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FreezeGate {
    /// Windows during which promotion is refused. Either an RFC 3339 range
    /// (`2026-12-24T00:00:00Z .. 2026-12-27T00:00:00Z`), a weekly window
    /// (`fri 18:00 - mon 06:00`) or a daily one (`daily 22:00 - 06:00`); times are UTC.
    pub windows: Vec<String>,
}

/// State of an ECS service.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct EcsServiceGate {
    /// ECS cluster. May contain `{env}`.
    pub cluster: String,

    /// ECS service name. May contain `{env}`.
    pub service: String,

    /// The image the service must run (`repo:tag` or `repo@sha256:...`).
    /// Default: gate-check's `--expected-image`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,

    /// Container whose image is compared. Default: any container of the task definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

/// State of CloudFormation stacks. Set `names`, `prefix` or both.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StacksGate {
    /// Stack names. May contain `{env}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,

    /// Every stack whose name starts with this prefix. May contain `{env}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gates(yaml: &str) -> Result<Vec<GateSpec>, String> {
        yaml_serde::from_str::<Vec<GateSpec>>(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn each_kind_parses_with_kebab_case_keys() {
        let list = gates(
            r#"
- tests: { junit: [reports/junit.xml], min-tests: 10 }
- name: line-coverage
  required: false
  coverage: { report: coverage.xml, format: cobertura, min-line: 80, min-branch: 60 }
- security: { sarif: [bandit.sarif], fail-on: critical }
- performance: { k6: k6.json, min-success-rate: 95, max-average-ms: 2000, max-p95-ms: 3000 }
- health: { urls: ["https://{env}.example.com/health"], deadline-seconds: 60, timeout-seconds: 5 }
- confirmation: { expect: DEPLOY }
- wait: { seconds: 300 }
- freeze: { windows: ["fri 18:00 - mon 06:00"] }
- ecs-service: { cluster: "shop-{env}", service: api, image: "repo/api:v1", container: api }
- stacks: { prefix: "shop-{env}-" }
"#,
        )
        .expect("valid gates");
        let keys: Vec<&str> = list
            .iter()
            .map(|g| g.kind().map(|k| k.key()).unwrap_or("?"))
            .collect();
        assert_eq!(keys, GATE_KINDS);
        assert_eq!(list[1].display_name(), "line-coverage");
        assert!(!list[1].is_required());
        assert_eq!(list[0].display_name(), "tests");
        assert!(list[0].is_required());
        assert_eq!(
            list[2].security.as_ref().and_then(|s| s.fail_on),
            Some(Severity::Critical)
        );
    }

    #[test]
    fn unknown_keys_and_wrong_kind_counts_are_errors() {
        let e = gates("- coverage: { report: c.xml, minimum: 80 }").expect_err("unknown key");
        assert!(e.contains("minimum"), "{e}");
        let e = gates("- typo: {}").expect_err("unknown kind");
        assert!(e.contains("typo"), "{e}");
        let none = gates("- name: nothing").expect("parses");
        assert!(
            none[0]
                .kind()
                .expect_err("no kind")
                .contains("must set one of")
        );
        let two =
            gates("- wait: { seconds: 1 }\n  confirmation: { expect: DEPLOY }").expect("parses");
        assert!(
            two[0]
                .kind()
                .expect_err("two kinds")
                .contains("a gate sets 2 kinds (confirmation, wait)")
        );
    }

    #[test]
    fn schema_documents_the_gate_kinds() {
        let schema = serde_json::to_string(&schemars::schema_for!(GateSpec)).expect("schema");
        assert!(schema.contains("\"ecs-service\""));
        assert!(schema.contains("\"min-line\""));
        assert!(schema.contains("Fail when any finding is at or above this severity"));
    }
}
