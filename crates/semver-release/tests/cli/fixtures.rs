//! The fixture directories of `tests/fixtures` (see its README): one history per
//! behaviour, built by its `commit.sh`, with the outputs and changelog it must give.

use std::path::{Path, PathBuf};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// Builds the fixture's history in `dir` with `lib.sh` and `commit.sh`.
fn build(fixture: &Path, dir: &Path) -> Result<(), String> {
    let script = format!(
        "source '{}/lib.sh'; source '{}/commit.sh'",
        FIXTURES,
        fixture.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .current_dir(dir)
        // No user or system git configuration: signing, hooks or templates would change
        // the commits and their SHAs.
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .map_err(|e| format!("cannot run bash: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "commit.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// `output=value` lines (blank lines and `#` comments skipped).
fn expected_outputs(fixture: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(fixture.join("expected.txt")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn args(fixture: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(fixture.join("args")).unwrap_or_default();
    std::iter::once("--dry-run".to_string())
        .chain(text.lines().filter(|l| !l.is_empty()).map(str::to_string))
        .collect()
}

/// What is wrong with `fixture`'s answer (empty when nothing is).
fn check(fixture: &Path) -> Vec<String> {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("repo");
    std::fs::create_dir_all(&dir).expect("mkdir");
    if let Err(e) = build(fixture, &dir) {
        return vec![e];
    }
    let args = args(fixture);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let res = super::run(&dir, &args);
    let mut problems = Vec::new();
    if res.code != 0 {
        problems.push(format!("exit code {}: {}", res.code, res.log));
    }
    let expected = expected_outputs(fixture);
    if expected.is_empty() {
        problems.push("expected.txt is missing or lists no output".into());
    }
    for (name, want) in expected {
        let got = res.outputs.get(&name).map(String::as_str);
        if got != Some(want.as_str()) {
            problems.push(format!("{name}: expected {want:?}, got {got:?}"));
        }
    }
    let changelog = res.outputs.get("changelog").cloned().unwrap_or_default();
    match std::fs::read_to_string(fixture.join("expected.md")) {
        Ok(want) if want != changelog => problems.push(format!(
            "changelog differs from expected.md:\n--- expected\n{want}\n--- got\n{changelog}"
        )),
        Ok(_) => {}
        // Writing a missing file, on request, for a fixture being added (see the README).
        Err(_) if !changelog.is_empty() && std::env::var_os("BLESS_FIXTURES").is_some() => {
            std::fs::write(fixture.join("expected.md"), &changelog).expect("write expected.md");
        }
        Err(_) if !changelog.is_empty() => {
            problems.push(format!("no expected.md; the changelog was:\n{changelog}"))
        }
        Err(_) => {}
    }
    problems
}

fn fixtures() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(FIXTURES)
        .expect("tests/fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("commit.sh").is_file())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn fixtures_give_their_expected_version_and_changelog() {
    let dirs = fixtures();
    assert!(dirs.len() >= 20, "only {} fixtures found", dirs.len());
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|dir| {
            let problems = check(dir);
            let name = dir.file_name()?.to_string_lossy().into_owned();
            (!problems.is_empty()).then(|| format!("{name}:\n  {}", problems.join("\n  ")))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
