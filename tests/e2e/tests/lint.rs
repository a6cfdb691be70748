//! actionlint and zizmor report nothing on the actions, the reusable workflows and the
//! starter templates (scripts/lint-workflows, with the project's zizmor.yml).

use std::process::Command;

#[test]
fn actions_workflows_and_templates_lint_clean() {
    if deployer_testbed::venv_tool("actionlint").is_none()
        || deployer_testbed::venv_tool("zizmor").is_none()
    {
        return;
    }
    let root = deployer_testbed::workspace_root();
    let out = Command::new(root.join("scripts/lint-workflows"))
        .current_dir(&root)
        .output()
        .expect("run scripts/lint-workflows");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "scripts/lint-workflows found problems:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("clean"), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("No findings to report") || stderr.contains("No findings to report"),
        "zizmor did not report a clean run:\n{stdout}\n{stderr}"
    );
}
