//! Every `actions/*/action.yml` matches the binary it runs: each input reaches a clap flag
//! through the run step's `env:` with the same default, each flag is reachable (or listed
//! below with the reason it is not), and the outputs are exactly the binary's `OUTPUTS`,
//! which in turn are exactly the names its source sets.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use deployer_action_tests::check::{Allowances, Finding, Report, Spec, check};
use deployer_action_tests::manifest::Action;
use deployer_action_tests::{sources, surface};

/// Read by deployer-github / the notifier straight from the environment, where GitHub
/// puts tokens by convention; never a flag, so it cannot end up in a process listing.
const GITHUB_TOKEN: (&str, &str) = (
    "GITHUB_TOKEN",
    "read from the environment by the GitHub client, never a flag (a flag value shows in process listings)",
);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(action: &str) -> Action {
    let path = workspace().join("actions").join(action).join("action.yml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    Action::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn specs() -> Vec<Spec<'static>> {
    let spec = |action, command, outputs, allowances| Spec {
        action,
        binary: action,
        flags: surface::flags(command),
        outputs,
        allowances,
    };
    let token_only = Allowances {
        outside_clap: &[GITHUB_TOKEN],
        ..Allowances::default()
    };
    vec![
        spec(
            "detect-changes",
            detect_changes::Args::command(),
            detect_changes::OUTPUTS,
            token_only,
        ),
        spec(
            "semver-release",
            semver_release::Args::command(),
            semver_release::OUTPUTS,
            token_only,
        ),
        spec(
            "ecs-deploy",
            ecs_deploy::Args::command(),
            ecs_deploy::OUTPUTS,
            token_only,
        ),
        spec(
            "run-migration",
            run_migration::Args::command(),
            run_migration::OUTPUTS,
            Allowances::default(),
        ),
        spec(
            "rollback",
            rollback::Args::command(),
            rollback::OUTPUTS,
            token_only,
        ),
        spec(
            "gate-check",
            gate_check::Args::command(),
            gate_check::OUTPUTS,
            Allowances::default(),
        ),
    ]
}

fn assert_matches(action: &str) {
    let specs = specs();
    let spec = specs
        .iter()
        .find(|s| s.action == action)
        .expect("a spec per action");
    let findings = check(spec, &load(action));
    let text: Vec<String> = findings
        .iter()
        .map(|finding| Report { spec, finding }.to_string())
        .collect();
    assert!(
        text.is_empty(),
        "{} difference(s):\n{}",
        text.len(),
        text.join("\n")
    );
}

#[test]
fn detect_changes_action_matches_its_binary() {
    assert_matches("detect-changes");
}

#[test]
fn semver_release_action_matches_its_binary() {
    assert_matches("semver-release");
}

#[test]
fn ecs_deploy_action_matches_its_binary() {
    assert_matches("ecs-deploy");
}

#[test]
fn run_migration_action_matches_its_binary() {
    assert_matches("run-migration");
}

#[test]
fn rollback_action_matches_its_binary() {
    assert_matches("rollback");
}

#[test]
fn gate_check_action_matches_its_binary() {
    assert_matches("gate-check");
}

#[test]
fn every_action_directory_is_checked() {
    let mut dirs: Vec<String> = std::fs::read_dir(workspace().join("actions"))
        .expect("actions/ exists")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("action.yml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut checked: Vec<String> = specs().iter().map(|s| s.action.to_string()).collect();
    checked.sort();
    assert_eq!(
        dirs, checked,
        "every actions/<name>/action.yml needs a spec in specs() (tests/actions.rs)"
    );
}

#[test]
fn every_binary_declares_exactly_the_outputs_its_source_sets() {
    let mut drift = Vec::new();
    for spec in specs() {
        let src = workspace().join("crates").join(spec.binary).join("src");
        drift.extend(
            sources::drift(spec.binary, &src, spec.outputs).expect("the crate's src/ is readable"),
        );
    }
    let text: Vec<String> = drift.iter().map(ToString::to_string).collect();
    assert!(text.is_empty(), "{}", text.join("\n"));
}

// ---- the check is not vacuous: a broken copy of a real action is flagged ----

fn ecs_deploy_findings(edit: impl Fn(String) -> String) -> Vec<Finding> {
    let specs = specs();
    let spec = specs.iter().find(|s| s.action == "ecs-deploy").unwrap();
    let text = std::fs::read_to_string(workspace().join("actions/ecs-deploy/action.yml")).unwrap();
    check(spec, &Action::parse(&edit(text)).unwrap())
}

fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "`{from}` must occur once in the fixture"
    );
    text.replacen(from, to, 1)
}

#[test]
fn a_renamed_variable_is_flagged_twice_unknown_and_flag_unreachable() {
    let findings = ecs_deploy_findings(|t| {
        replace_once(
            &t,
            "DEPLOYER_TIMEOUT: ${{ inputs.timeout }}",
            "DEPLOYER_TIMEOUTS: ${{ inputs.timeout }}",
        )
    });
    assert_eq!(
        findings,
        [
            Finding::UnknownVariable {
                var: "DEPLOYER_TIMEOUTS".into(),
                inputs: vec!["timeout".into()]
            },
            Finding::FlagNotExposed {
                flag: "--timeout".into(),
                var: "DEPLOYER_TIMEOUT".into()
            },
        ]
    );
}

#[test]
fn an_input_that_reaches_no_variable_is_flagged() {
    let findings = ecs_deploy_findings(|t| {
        replace_once(&t, "        DEPLOYER_WATCH: ${{ inputs.watch }}\n", "")
    });
    assert_eq!(
        findings,
        [
            Finding::InputNotPassed {
                input: "watch".into()
            },
            Finding::FlagNotExposed {
                flag: "--watch".into(),
                var: "DEPLOYER_WATCH".into()
            },
        ]
    );
}

#[test]
fn a_default_that_differs_from_clap_is_flagged_with_both_values() {
    let findings =
        ecs_deploy_findings(|t| replace_once(&t, "default: \"auto\"", "default: \"15m\""));
    assert_eq!(
        findings,
        [Finding::DefaultDiffers {
            input: "timeout".into(),
            flag: "--timeout".into(),
            action: "15m".into(),
            clap: "auto".into(),
        }]
    );
}

#[test]
fn a_required_flag_behind_an_optional_input_is_flagged() {
    let findings = ecs_deploy_findings(|t| {
        replace_once(
            &t,
            "comma-separated to deploy several at once (--service).\"\n    required: true",
            "comma-separated to deploy several at once (--service).\"\n    required: false",
        )
    });
    assert_eq!(
        findings,
        [Finding::RequiredNotRequired {
            input: "service".into(),
            flag: "--service".into()
        }]
    );
}

#[test]
fn a_missing_an_extra_and_a_miswired_output_are_flagged() {
    let findings = ecs_deploy_findings(|t| {
        let t = replace_once(&t, "  hook-id:\n", "  hook-ids:\n");
        replace_once(
            &t,
            "${{ steps.run.outputs.duration-seconds }}",
            "${{ steps.run.outputs.status }}",
        )
    });
    assert_eq!(
        findings,
        [
            Finding::OutputValue {
                output: "duration-seconds".into(),
                value: "${{ steps.run.outputs.status }}".into(),
            },
            Finding::OutputNotDeclared {
                output: "hook-ids".into()
            },
            Finding::OutputValue {
                output: "hook-ids".into(),
                value: "${{ steps.run.outputs.hook-id }}".into()
            },
            Finding::OutputMissing {
                output: "hook-id".into()
            },
        ]
    );
}

#[test]
fn findings_name_the_action_the_input_and_the_fix() {
    let specs = specs();
    let spec = specs.iter().find(|s| s.action == "ecs-deploy").unwrap();
    let finding = Finding::FlagNotExposed {
        flag: "--watch".into(),
        var: "DEPLOYER_WATCH".into(),
    };
    let text = Report {
        spec,
        finding: &finding,
    }
    .to_string();
    assert!(
        text.starts_with("actions/ecs-deploy/action.yml: ecs-deploy --watch (env DEPLOYER_WATCH)"),
        "{text}"
    );
    assert!(
        text.contains("add an input") && text.contains("not_exposed"),
        "{text}"
    );
}

#[test]
fn an_allowance_that_no_longer_applies_or_has_no_reason_is_flagged() {
    let mut specs = specs();
    let spec = specs
        .iter_mut()
        .find(|s| s.action == "run-migration")
        .unwrap();
    spec.allowances = Allowances {
        not_exposed: &[("DEPLOYER_TIMEOUT", "stale: the action passes it")],
        default_differs: &[("alembic", "")],
        outside_clap: &[],
    };
    let findings = check(spec, &load("run-migration"));
    assert_eq!(
        findings,
        [
            Finding::StaleAllowance {
                list: "not_exposed",
                name: "DEPLOYER_TIMEOUT".into()
            },
            Finding::StaleAllowance {
                list: "default_differs",
                name: "alembic".into()
            },
            Finding::NoReason {
                list: "default_differs",
                name: "alembic".into()
            },
        ]
    );
}

#[test]
fn an_output_set_in_source_but_not_declared_is_flagged() {
    let dir = tempdir();
    std::fs::write(
        dir.join("lib.rs"),
        "runtime.set_output(\"new-one\", v)?;\nset(runtime, \"status\", s)?;\n",
    )
    .unwrap();
    let drift = sources::drift("ecs-deploy", &dir, &["status", "gone"]).unwrap();
    let text: Vec<String> = drift.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 2, "{text:?}");
    assert!(
        text[0].contains("sets output `new-one`, which is not in ecs-deploy's OUTPUTS"),
        "{}",
        text[0]
    );
    assert!(
        text[1].contains("OUTPUTS lists `gone` but no set_output call"),
        "{}",
        text[1]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A fresh directory under the target dir (no extra dev-dependency for one test).
fn tempdir() -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("action-tests-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_fixed_deployer_variable_no_flag_reads_is_flagged() {
    let findings = ecs_deploy_findings(|t| {
        replace_once(&t, "DEPLOYER_JSON: \"false\"", "DEPLOYER_JSNO: \"false\"")
    });
    assert_eq!(
        findings,
        [
            Finding::UnknownVariable {
                var: "DEPLOYER_JSNO".into(),
                inputs: vec![]
            },
            Finding::FlagNotExposed {
                flag: "--json".into(),
                var: "DEPLOYER_JSON".into()
            },
        ]
    );
}

#[test]
fn a_description_naming_another_flag_is_flagged() {
    let findings = ecs_deploy_findings(|t| replace_once(&t, "(--poll-interval)", "(--poll)"));
    assert_eq!(
        findings,
        [Finding::DescriptionNamesOtherFlag {
            input: "poll-interval".into(),
            named: "poll".into(),
            flag: "--poll-interval".into(),
        }]
    );
}

/// The root action runs any binary by `command:` (no typed inputs to compare), but the
/// commands its input check accepts must be exactly the ones with an action here.
#[test]
fn root_action_accepts_exactly_the_checked_commands() {
    let text = std::fs::read_to_string(workspace().join("action.yml")).expect("root action.yml");
    let case = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("detect-changes") && l.ends_with(") ;;"))
        .expect("the `case \"$ACTION_COMMAND\"` pattern listing the commands in action.yml");
    let mut accepted: Vec<&str> = case
        .trim_end_matches(") ;;")
        .split('|')
        .map(str::trim)
        .collect();
    accepted.sort();
    let specs = specs();
    let mut binaries: Vec<&str> = specs.iter().map(|s| s.binary).collect();
    binaries.sort();
    assert_eq!(
        accepted, binaries,
        "action.yml (root): the `command` check accepts other commands than the binaries with an action; \
         list exactly these in its case pattern and error message"
    );
}
