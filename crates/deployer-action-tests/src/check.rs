//! The comparison of one action with its binary, as a list of typed findings, each of
//! which says what is wrong and what to change.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::manifest::{Action, RUN_STEP_ID, input_refs, named_flags};
use crate::surface::Flag;

/// Differences the test accepts, each with the reason it is deliberate.
#[derive(Debug, Default, Clone, Copy)]
pub struct Allowances<'a> {
    /// clap variables no input maps to: `(variable, reason)`.
    pub not_exposed: &'a [(&'a str, &'a str)],
    /// Inputs whose default differs from clap's: `(input, reason)`.
    pub default_differs: &'a [(&'a str, &'a str)],
    /// Run-step variables the binary reads outside clap (e.g. `GITHUB_TOKEN`): `(variable, reason)`.
    pub outside_clap: &'a [(&'a str, &'a str)],
}

/// What one action is compared with.
#[derive(Debug, Clone)]
pub struct Spec<'a> {
    /// The directory under `actions/`, e.g. `ecs-deploy`.
    pub action: &'a str,
    /// The binary the run step executes (for messages).
    pub binary: &'a str,
    /// The binary's flags that read environment variables.
    pub flags: Vec<Flag>,
    /// The outputs the binary declares (its `OUTPUTS`).
    pub outputs: &'a [&'a str],
    pub allowances: Allowances<'a>,
}

/// One difference between an action and its binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    InputNotPassed {
        input: String,
    },
    UndeclaredInput {
        var: String,
        input: String,
    },
    UnknownVariable {
        var: String,
        inputs: Vec<String>,
    },
    DefaultDiffers {
        input: String,
        flag: String,
        action: String,
        clap: String,
    },
    RequiredNotRequired {
        input: String,
        flag: String,
    },
    DescriptionNamesOtherFlag {
        input: String,
        named: String,
        flag: String,
    },
    FlagNotExposed {
        flag: String,
        var: String,
    },
    OutputNotDeclared {
        output: String,
    },
    OutputMissing {
        output: String,
    },
    OutputValue {
        output: String,
        value: String,
    },
    StaleAllowance {
        list: &'static str,
        name: String,
    },
    NoReason {
        list: &'static str,
        name: String,
    },
}

/// A finding with the action and binary it is about, ready to print.
pub struct Report<'a> {
    pub spec: &'a Spec<'a>,
    pub finding: &'a Finding,
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = (self.spec.action, self.spec.binary);
        write!(f, "actions/{a}/action.yml: ")?;
        match self.finding {
            Finding::InputNotPassed { input } => write!(
                f,
                "input `{input}` reaches no variable of the `{RUN_STEP_ID}` step's env:, so {b} never sees it; \
                 add `DEPLOYER_…: ${{{{ inputs.{input} }}}}` with the variable of its clap flag, or remove the input"
            ),
            Finding::UndeclaredInput { var, input } => write!(
                f,
                "env `{var}` reads `inputs.{input}`, which the action does not declare; add the input or fix the name"
            ),
            Finding::UnknownVariable { var, inputs } => write!(
                f,
                "env `{var}` ({}) is read by no clap flag of {b}, so the value is ignored; \
                 rename it to the flag's variable (`{b} --help` shows each [env: …]), or, if {b} reads it \
                 outside clap, list it in the test's outside_clap with the reason",
                if inputs.is_empty() {
                    "a fixed value".to_string()
                } else {
                    format!("from input {}", quoted(inputs))
                }
            ),
            Finding::DefaultDiffers {
                input,
                flag,
                action,
                clap,
            } => write!(
                f,
                "input `{input}` defaults to `{action}` but {b} {flag} defaults to `{clap}`; make them equal \
                 (or leave the input's default empty), or list the input in the test's default_differs with the reason"
            ),
            Finding::RequiredNotRequired { input, flag } => write!(
                f,
                "{b} requires {flag} but input `{input}` is not `required: true` and has no default; mark it required"
            ),
            Finding::DescriptionNamesOtherFlag { input, named, flag } => write!(
                f,
                "input `{input}`'s description says (--{named}) but the input sets {b} {flag}; correct the description"
            ),
            Finding::FlagNotExposed { flag, var } => write!(
                f,
                "{b} {flag} (env {var}) cannot be set from the action; add an input and `{var}: ${{{{ inputs.<name> }}}}` \
                 to the `{RUN_STEP_ID}` step, or list {var} in the test's not_exposed with the reason"
            ),
            Finding::OutputNotDeclared { output } => write!(
                f,
                "output `{output}` is not one {b} sets (its OUTPUTS); remove it, or set it in {b} and add it to OUTPUTS"
            ),
            Finding::OutputMissing { output } => write!(
                f,
                "{b} sets output `{output}` but the action does not declare it, so workflows cannot read it; \
                 add `{output}: {{ description: …, value: ${{{{ steps.{RUN_STEP_ID}.outputs.{output} }}}} }}`"
            ),
            Finding::OutputValue { output, value } => write!(
                f,
                "output `{output}` has value `{value}`; it must be `${{{{ steps.{RUN_STEP_ID}.outputs.{output} }}}}` \
                 (the binary's output of the same name)"
            ),
            Finding::StaleAllowance { list, name } => write!(
                f,
                "the test's {list} lists `{name}`, which no longer differs; remove it from the list"
            ),
            Finding::NoReason { list, name } => write!(
                f,
                "the test's {list} lists `{name}` without a reason; say why the difference is deliberate"
            ),
        }
    }
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every difference between `action` and the binary `spec` describes.
pub fn check(spec: &Spec, action: &Action) -> Vec<Finding> {
    let env = action.run_env();
    let mut findings = Vec::new();
    findings.extend(inputs_reach_flags(spec, action, &env));
    findings.extend(flags_reachable(spec, &env));
    findings.extend(defaults_agree(spec, action, &env));
    findings.extend(outputs_agree(spec, action));
    findings.extend(reasons_given(spec));
    findings
}

/// Checks 1 and its converse: every input feeds a variable, every variable fed by an input
/// is one clap reads (or is listed as read outside clap), every referenced input exists.
fn inputs_reach_flags(spec: &Spec, action: &Action, env: &BTreeMap<&str, String>) -> Vec<Finding> {
    let clap_vars: BTreeSet<&str> = spec.flags.iter().map(|f| f.env.as_str()).collect();
    let outside = names(spec.allowances.outside_clap);
    let mut used = BTreeSet::new();
    let mut findings = Vec::new();
    for (var, value) in env {
        let refs = input_refs(value);
        for input in &refs {
            used.insert(*input);
            if !action.inputs.contains_key(*input) {
                findings.push(Finding::UndeclaredInput {
                    var: var.to_string(),
                    input: input.to_string(),
                });
            }
        }
        // A fixed `DEPLOYER_*` value (e.g. `DEPLOYER_JSON: "false"`) must name a flag too.
        let meant_for_binary = !refs.is_empty() || var.starts_with("DEPLOYER_");
        if meant_for_binary && !clap_vars.contains(var) && !outside.contains(var) {
            let inputs = refs.iter().map(|s| s.to_string()).collect();
            findings.push(Finding::UnknownVariable {
                var: var.to_string(),
                inputs,
            });
        }
    }
    for input in action.inputs.keys().filter(|i| !used.contains(i.as_str())) {
        findings.push(Finding::InputNotPassed {
            input: input.clone(),
        });
    }
    for var in outside
        .iter()
        .filter(|v| !env.contains_key(**v) || clap_vars.contains(**v))
    {
        findings.push(Finding::StaleAllowance {
            list: "outside_clap",
            name: var.to_string(),
        });
    }
    findings
}

/// Check 2: every clap variable appears in the run step's env:, or is listed as not exposed.
fn flags_reachable(spec: &Spec, env: &BTreeMap<&str, String>) -> Vec<Finding> {
    let not_exposed = names(spec.allowances.not_exposed);
    let mut findings = Vec::new();
    for flag in &spec.flags {
        match (
            env.contains_key(flag.env.as_str()),
            not_exposed.contains(flag.env.as_str()),
        ) {
            (false, false) => findings.push(Finding::FlagNotExposed {
                flag: flag.long.clone(),
                var: flag.env.clone(),
            }),
            (true, true) => findings.push(Finding::StaleAllowance {
                list: "not_exposed",
                name: flag.env.clone(),
            }),
            _ => {}
        }
    }
    let known: BTreeSet<&str> = spec.flags.iter().map(|f| f.env.as_str()).collect();
    for var in not_exposed.iter().filter(|v| !known.contains(**v)) {
        findings.push(Finding::StaleAllowance {
            list: "not_exposed",
            name: var.to_string(),
        });
    }
    findings
}

/// Defaults, `required` and the flag the description names, for each input that is the whole value of a clap variable.
fn defaults_agree(spec: &Spec, action: &Action, env: &BTreeMap<&str, String>) -> Vec<Finding> {
    let differs = names(spec.allowances.default_differs);
    let mut listed_and_differing = BTreeSet::new();
    let mut findings = Vec::new();
    for flag in &spec.flags {
        let Some(value) = env.get(flag.env.as_str()) else {
            continue;
        };
        let [input] = input_refs(value)[..] else {
            continue;
        };
        let Some(decl) = action.inputs.get(input) else {
            continue;
        };
        let action_default = decl.default_text();
        let long = flag.long.trim_start_matches("--");
        for named in named_flags(&decl.description)
            .into_iter()
            .filter(|n| *n != long)
        {
            findings.push(Finding::DescriptionNamesOtherFlag {
                input: input.to_string(),
                named: named.to_string(),
                flag: flag.long.clone(),
            });
        }
        if flag.required && !decl.required && action_default.is_none() {
            findings.push(Finding::RequiredNotRequired {
                input: input.to_string(),
                flag: flag.long.clone(),
            });
        }
        let (Some(a), Some(c)) = (action_default, flag.default.clone()) else {
            continue;
        };
        if a == c {
            continue;
        }
        if differs.contains(input) {
            listed_and_differing.insert(input);
        } else {
            findings.push(Finding::DefaultDiffers {
                input: input.to_string(),
                flag: flag.long.clone(),
                action: a,
                clap: c,
            });
        }
    }
    for input in differs.difference(&listed_and_differing) {
        findings.push(Finding::StaleAllowance {
            list: "default_differs",
            name: input.to_string(),
        });
    }
    findings
}

/// Check 3: the action's outputs are exactly the binary's, each read from the run step.
fn outputs_agree(spec: &Spec, action: &Action) -> Vec<Finding> {
    let declared: BTreeSet<&str> = spec.outputs.iter().copied().collect();
    let mut findings = Vec::new();
    for (name, output) in &action.outputs {
        if !declared.contains(name.as_str()) {
            findings.push(Finding::OutputNotDeclared {
                output: name.clone(),
            });
        }
        let expected = format!("${{{{ steps.{RUN_STEP_ID}.outputs.{name} }}}}");
        if output.value.trim() != expected {
            findings.push(Finding::OutputValue {
                output: name.clone(),
                value: output.value.clone(),
            });
        }
    }
    for name in declared
        .iter()
        .filter(|n| !action.outputs.contains_key(**n))
    {
        findings.push(Finding::OutputMissing {
            output: name.to_string(),
        });
    }
    findings
}

fn reasons_given(spec: &Spec) -> Vec<Finding> {
    let a = &spec.allowances;
    [
        ("not_exposed", a.not_exposed),
        ("default_differs", a.default_differs),
        ("outside_clap", a.outside_clap),
    ]
    .into_iter()
    .flat_map(|(list, entries)| {
        entries
            .iter()
            .filter(|(_, reason)| reason.trim().is_empty())
            .map(move |(name, _)| Finding::NoReason {
                list,
                name: name.to_string(),
            })
    })
    .collect()
}

fn names<'a>(entries: &[(&'a str, &str)]) -> BTreeSet<&'a str> {
    entries.iter().map(|(name, _)| *name).collect()
}
