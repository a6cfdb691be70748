//! ARCHITECTURE.md can be followed in the code: every file it names exists, and every
//! function or type of its deploy path is defined in the workspace.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_path_buf()
}

fn sources(dir: &Path, out: &mut String) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                sources(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
}

/// Backticked words of the form `crates/…` in the document.
fn named_paths(doc: &str) -> Vec<String> {
    doc.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with("crates/") || s.starts_with("actions/"))
        .map(String::from)
        .collect()
}

#[test]
fn every_file_architecture_md_names_exists() {
    let root = root();
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let paths = named_paths(&doc);
    assert!(paths.len() >= 15, "the document names files: {paths:?}");
    let missing: Vec<&String> = paths
        .iter()
        .filter(|p| !p.contains('<') && !root.join(p).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names files that do not exist: {missing:?}"
    );
}

#[test]
fn every_step_of_the_deploy_path_is_defined() {
    let root = root();
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut code = String::new();
    sources(&root.join("crates"), &mut code);
    let steps = [
        "fn validate",
        "fn requests",
        "fn aws_context",
        "fn plan_service",
        "fn with_timeout",
        "fn wait_for_other_deployment",
        "fn in_flight",
        "fn failed_beside_serving",
        "fn execute_plan_cancellable",
        "fn find_deployment",
        "fn watch",
        "fn read_other_deployment",
        "fn should_list_stopped",
        "fn judge",
        "fn judge_deployment",
        "fn newer_other_deployment",
        "fn started_by_deployment",
        "fn task_failure",
        "fn reached",
        "fn finish",
        "fn apply_verdict",
        "fn on_failure",
        "fn on_cancel",
        "fn summary",
        "fn report_json",
        "fn conclude",
        "fn continue_paused",
        "fn deploy_service",
        "struct DeployRequest",
        "struct Snapshot",
        "struct DeployReport",
    ];
    for step in steps {
        let name = step.split_whitespace().last().unwrap_or(step);
        assert!(
            doc.contains(&format!("`{name}`")) || doc.contains(&format!("{name}`")),
            "ARCHITECTURE.md does not mention `{name}`"
        );
        assert!(
            code.contains(&format!("{step}("))
                || code.contains(&format!("{step} "))
                || code.contains(&format!("{step}<")),
            "`{step}` is in ARCHITECTURE.md's deploy path but defined nowhere: update the document"
        );
    }
}
