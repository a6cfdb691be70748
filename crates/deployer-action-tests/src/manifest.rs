//! The parts of a composite action's `action.yml` the check reads: inputs, outputs, and
//! the `env:` of the step that runs the binary.
//!
//! Metadata syntax: "Metadata syntax for GitHub Actions" (docs.github.com/en/actions/
//! reference/workflows-and-actions/metadata-syntax): `inputs.<id>.{required,default}`,
//! `outputs.<id>.value` (composite only), `runs.steps[*].{id,env,run}`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The id of the step that runs the binary; every action's outputs read `steps.run.outputs`.
pub const RUN_STEP_ID: &str = "run";

/// An `action.yml`, reduced to what is compared with the binary.
#[derive(Debug, Deserialize)]
pub struct Action {
    #[serde(default)]
    pub inputs: BTreeMap<String, Input>,
    #[serde(default)]
    pub outputs: BTreeMap<String, Output>,
    pub runs: Runs,
}

/// One `inputs.<id>` entry.
#[derive(Debug, Deserialize)]
pub struct Input {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub required: bool,
    /// Kept as YAML so an unquoted `default: 1` or `default: false` reads as its text.
    pub default: Option<yaml_serde::Value>,
}

/// One `outputs.<id>` entry of a composite action.
#[derive(Debug, Deserialize)]
pub struct Output {
    #[serde(default)]
    pub value: String,
}

/// `runs:` of a composite action.
#[derive(Debug, Deserialize)]
pub struct Runs {
    pub using: String,
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// One step of `runs.steps`.
#[derive(Debug, Deserialize)]
pub struct Step {
    pub id: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, yaml_serde::Value>,
}

/// Why an `action.yml` could not be read as a composite action that runs a binary.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("not valid action metadata: {0}")]
    Syntax(#[from] yaml_serde::Error),
    #[error("`runs.using` is `{0}`, not `composite`: the check only knows composite actions")]
    NotComposite(String),
    #[error(
        "no step has `id: {RUN_STEP_ID}`: the step that runs the binary must have that id (the outputs read steps.{RUN_STEP_ID}.outputs)"
    )]
    NoRunStep,
}

impl Action {
    /// Parses `action.yml` text.
    pub fn parse(text: &str) -> Result<Action, ManifestError> {
        let action: Action = yaml_serde::from_str(text)?;
        if action.runs.using != "composite" {
            return Err(ManifestError::NotComposite(action.runs.using));
        }
        if action.run_step().is_none() {
            return Err(ManifestError::NoRunStep);
        }
        Ok(action)
    }

    /// The step that runs the binary.
    pub fn run_step(&self) -> Option<&Step> {
        self.runs
            .steps
            .iter()
            .find(|s| s.id.as_deref() == Some(RUN_STEP_ID))
    }

    /// The run step's `env:` as text, variable name → value.
    pub fn run_env(&self) -> BTreeMap<&str, String> {
        self.run_step()
            .map(|s| s.env.iter().map(|(k, v)| (k.as_str(), text(v))).collect())
            .unwrap_or_default()
    }
}

impl Input {
    /// The default as the text the runner passes; `None` when absent or empty, which the
    /// run step treats as "not given" (it unsets empty `DEPLOYER_*` variables).
    pub fn default_text(&self) -> Option<String> {
        self.default.as_ref().map(text).filter(|s| !s.is_empty())
    }
}

/// The flags a description names as `(--flag`, e.g. `timeout` in "How long (--timeout): …".
pub fn named_flags(description: &str) -> Vec<&str> {
    description
        .match_indices("(--")
        .map(|(at, m)| {
            let rest = &description[at + m.len()..];
            &rest[..rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .unwrap_or(rest.len())]
        })
        .collect()
}

/// The inputs an expression reads: every `inputs.<id>` in it, e.g. both names in
/// `${{ inputs.since == 'last-deployed' && inputs.github-token || '' }}`.
pub fn input_refs(expression: &str) -> Vec<&str> {
    let id_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    expression
        .match_indices("inputs.")
        .filter(|(at, _)| {
            // `steps.x.inputs.y` or `myinputs.y` is not the action's input.
            !expression[..*at].ends_with(|c: char| id_char(c) || c == '.')
        })
        .map(|(at, m)| {
            let rest = &expression[at + m.len()..];
            &rest[..rest.find(|c| !id_char(c)).unwrap_or(rest.len())]
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// A scalar YAML value as the runner would pass it in `env:` or as a default.
fn text(value: &yaml_serde::Value) -> String {
    match value {
        yaml_serde::Value::String(s) => s.clone(),
        yaml_serde::Value::Bool(b) => b.to_string(),
        yaml_serde::Value::Number(n) => n.to_string(),
        yaml_serde::Value::Null => String::new(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_refs_reads_every_input_of_an_expression() {
        assert_eq!(input_refs("${{ inputs.timeout }}"), ["timeout"]);
        assert_eq!(
            input_refs("${{ inputs.since == 'last-deployed' && inputs.github-token || '' }}"),
            ["since", "github-token"]
        );
        assert!(input_refs("${{ steps.install.outputs.bin-dir }}").is_empty());
        assert!(input_refs("${{ steps.x.inputs.y }}").is_empty());
        assert!(input_refs("false").is_empty());
    }

    #[test]
    fn named_flags_reads_each_parenthesised_flag() {
        assert_eq!(
            named_flags("URLs, one per line (--health-url, repeated)."),
            ["health-url"]
        );
        assert_eq!(named_flags("How long (--timeout): 90s"), ["timeout"]);
        assert!(named_flags("Token for --github-release").is_empty());
    }

    #[test]
    fn defaults_read_as_text_and_empty_means_none() {
        let action = Action::parse(
            "inputs:\n  a: { default: 1 }\n  b: { default: false }\n  c: { default: '' }\n  d: {}\n\
             runs:\n  using: composite\n  steps:\n    - id: run\n      env: { X: 1 }\n",
        )
        .unwrap();
        let d = |n: &str| action.inputs[n].default_text();
        assert_eq!(d("a").as_deref(), Some("1"));
        assert_eq!(d("b").as_deref(), Some("false"));
        assert_eq!(d("c"), None);
        assert_eq!(d("d"), None);
        assert_eq!(action.run_env()["X"], "1");
    }

    #[test]
    fn an_action_without_a_run_step_or_not_composite_is_refused() {
        let no_step = "runs:\n  using: composite\n  steps:\n    - id: other\n";
        assert!(matches!(
            Action::parse(no_step),
            Err(ManifestError::NoRunStep)
        ));
        let node = "runs:\n  using: node20\n  main: index.js\n";
        assert!(matches!(
            Action::parse(node),
            Err(ManifestError::NotComposite(_))
        ));
    }
}
