//! Checks the IAM documents shipped in `examples/iam/` against what deployer really does.
//!
//! This crate exists for its tests (`tests/`): they run the real deploy, crash-loop +
//! rollback, blue/green, migration, rollback and gate-probe flows of `deployer-aws`
//! against `ecs-sim`, read which ECS and CloudWatch Logs operations the simulator saw, and
//! assert that `examples/iam/deploy-role-policy.json` allows every one of them and nothing
//! else (apart from an explicit, commented allowlist of actions needed by paths the flows
//! do not exercise). They also check the OIDC trust policy's `aud`/`sub` conditions.
//!
//! The library part is only the small policy reader those tests share.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// `examples/iam/` of this workspace.
pub fn iam_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/iam")
}

/// Reads and parses one JSON document of `examples/iam/`.
pub fn load(name: &str) -> Result<Value, String> {
    let path = iam_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not valid JSON: {e}", path.display()))
}

/// The policy's statements (a single statement object is accepted too).
pub fn statements(policy: &Value) -> Vec<&Value> {
    match policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => vec![],
    }
}

/// A string-or-list field as a list.
pub fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => vec![],
    }
}

/// Every action an `Allow` statement names, exactly as written (e.g. `ecs:RunTask`).
pub fn allowed_actions(policy: &Value) -> BTreeSet<String> {
    statements(policy)
        .into_iter()
        .filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .flat_map(|s| strings(s.get("Action")))
        .collect()
}

/// Whether `action` is granted, honouring `*` wildcards in the policy's actions
/// (case-insensitive, as IAM compares action names).
pub fn allows(policy: &Value, action: &str) -> bool {
    allowed_actions(policy)
        .iter()
        .any(|pattern| wildcard_match(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase()))
}

/// IAM-style glob: `*` any run of characters, `?` one character — the same rule as
/// ecs-sim's image patterns, so one matcher serves both.
pub use ecs_sim::scenario::glob_match as wildcard_match;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("ecs:*", "ecs:runtask"));
        assert!(wildcard_match("ecs:describe*", "ecs:describeservices"));
        assert!(!wildcard_match("ecs:describe*", "ecs:runtask"));
        assert!(wildcard_match("repo:*", "repo:org/x:environment:prod"));
        assert!(!wildcard_match("repo:org/x:*", "repo:org/y:ref:main"));
    }
}
