//! Test support for integration tests that need the local stand-ins.
//!
//! `scripts/test` starts moto and exports `DEPLOYER_MOTO_ENDPOINT` and `DEPLOYER_VENV`,
//! and sets `DEPLOYER_TESTBED_REQUIRED=1` so a missing stand-in fails the run instead of
//! skipping. A plain `cargo test` outside that script skips those tests with a loud note.

use std::path::PathBuf;

/// True when the project's test command is running us: stand-ins must be present.
pub fn required() -> bool {
    std::env::var("DEPLOYER_TESTBED_REQUIRED").is_ok_and(|v| v == "1")
}

fn skip_or_fail(what: &str) -> Option<String> {
    if required() {
        panic!(
            "{what} is required under scripts/test but was not found; is scripts/testbed start working?"
        );
    }
    eprintln!(
        "\n*** SKIPPED: {what} is not available. Run the suite with `scripts/test` to include this test. ***\n"
    );
    None
}

/// The moto server endpoint, e.g. `http://127.0.0.1:40123`, or `None` (test should return).
pub fn moto_endpoint() -> Option<String> {
    match std::env::var("DEPLOYER_MOTO_ENDPOINT") {
        Ok(v) if !v.is_empty() => Some(v),
        _ => skip_or_fail("the moto server (DEPLOYER_MOTO_ENDPOINT)"),
    }
}

/// The project virtualenv (`.venv`), found through `DEPLOYER_VENV` or next to the workspace.
pub fn venv() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DEPLOYER_VENV").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let guess = workspace_root().join(".venv");
    if guess.join("bin").is_dir() {
        return Some(guess);
    }
    skip_or_fail("the project virtualenv (.venv, from scripts/testbed install)").map(PathBuf::from)
}

/// A tool from the project virtualenv (`aws`, `act`, `moto_server`, ...).
pub fn venv_tool(name: &str) -> Option<PathBuf> {
    let path = venv()?.join("bin").join(name);
    if path.exists() {
        Some(path)
    } else {
        skip_or_fail(&format!("{} from the project virtualenv", path.display())).map(PathBuf::from)
    }
}

/// The workspace root (the directory holding the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors().nth(2).map(PathBuf::from).unwrap_or(here)
}

/// A binary of this workspace (`ecs-deploy`, `ecs-sim`, ...) in the target directory of the
/// running test. Tests in a package other than the binary's own cannot use
/// `CARGO_BIN_EXE_*`; `cargo test --workspace` (scripts/test) builds every binary before any
/// test runs, and a narrower run needs `cargo build --bins` first.
pub fn workspace_binary(name: &str) -> Option<PathBuf> {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    // The test executable lives in <target>/<profile>/deps; its profile is the one to use.
    let profile_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(PathBuf::from))
        .filter(|dir| dir.starts_with(&target_dir))
        .unwrap_or_else(|| target_dir.join("debug"));
    let path = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        Some(path)
    } else {
        skip_or_fail(&format!(
            "the `{name}` binary at {} (run `cargo build --bins` first, or use scripts/test)",
            path.display()
        ))
        .map(PathBuf::from)
    }
}
