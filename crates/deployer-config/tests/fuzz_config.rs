//! Fuzz target: the `deployer.yml` loader (YAML parse, schema, validation, globs).
//! Replays `tests/corpus/config/*` (`ok-*` must load, `bad-*` must be refused as bad input
//! with a message naming the file) and mutates it. No input may panic.

use deployer_config::{ConfigError, MAX_DEPTH, MAX_PROBLEMS, parse};
use deployer_core::{Classify, ErrorKind};
use deployer_security_tests as fuzz;
use proptest::prelude::*;

const ORIGIN: &str = ".github/deployer.yml";

const TOKENS: &[&str] = &[
    "\n",
    "  ",
    "\t",
    ":",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a ",
    "*a",
    "<<: ",
    "!!str ",
    "!!binary ",
    "---\n",
    "...\n",
    "#",
    "'",
    "\"",
    "|\n",
    ">-\n",
    "~",
    "null",
    "0x1F",
    ".inf",
    "services:",
    "paths:",
    "image:",
    "cluster:",
    "{env}",
    "{nope}",
    "environments:",
    "gates:",
    "role: ",
    "arn:aws:iam::111111111111:role/x",
    "**",
    "!",
    "\u{feff}",
    "\u{0}",
    "é",
];

fn check(bytes: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(bytes);
    match parse(&text, ORIGIN) {
        Ok(_) => Ok(()),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(ORIGIN), "error does not name the file: {msg}");
            assert_eq!(
                e.kind(),
                ErrorKind::BadInput,
                "not classified as bad input: {msg}"
            );
            if let ConfigError::Invalid { problems, .. } = &e {
                assert!(!problems.is_empty(), "Invalid without problems: {msg}");
            }
            Err(msg)
        }
    }
}

#[test]
fn corpus_replays() {
    for (name, bytes) in fuzz::corpus(env!("CARGO_MANIFEST_DIR"), "config") {
        let result = check(&bytes);
        match fuzz::expectation(&name) {
            fuzz::Expect::Ok => assert!(result.is_ok(), "{name}: {result:?}"),
            fuzz::Expect::Err => assert!(result.is_err(), "{name} loaded"),
            fuzz::Expect::Either => {}
        }
    }
}

/// Found by this target: these loaded, then detect-changes refused them without a line.
#[test]
fn globs_detect_changes_refuses_are_refused_here_with_the_field() {
    for (text, needle) in [
        (
            "services:\n  api:\n    paths: [\"/abs/**\"]\n",
            "starts with `/`",
        ),
        (
            "services:\n  api:\n    paths: [\"y/**\", \"!/x\"]\n",
            "starts with `/`",
        ),
        (
            "services:\n  api:\n    paths: [\"!docs/**\"]\n",
            "only exclusions",
        ),
    ] {
        let msg = check(text.as_bytes()).expect_err(text);
        assert!(msg.contains("services.api.paths"), "{msg}");
        assert!(msg.contains(needle), "{msg}");
    }
}

#[test]
fn unreadable_and_missing_files_are_bad_input_naming_the_path() {
    let dir = tempfile::tempdir().expect("dir");
    let missing = deployer_config::load(&dir.path().join("nope.yml")).expect_err("missing");
    assert_eq!(missing.kind(), ErrorKind::BadInput);
    assert!(missing.to_string().contains("nope.yml"), "{missing}");
    // A directory where the file should be.
    let err = deployer_config::load(dir.path()).expect_err("directory");
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(
        err.to_string().contains(&dir.path().display().to_string()),
        "{err}"
    );
    // Not UTF-8.
    let bin = dir.path().join("bin.yml");
    std::fs::write(&bin, b"services:\n  \xff\xfe: {}\n").expect("write");
    let err = deployer_config::load(&bin).expect_err("binary");
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(err.to_string().contains("bin.yml"), "{err}");
}

proptest! {
    #![proptest_config(fuzz::config(600))]

    #[test]
    fn mutated_corpus_never_panics(
        bytes in fuzz::mutated(fuzz::seeds(&fuzz::corpus(env!("CARGO_MANIFEST_DIR"), "config")), TOKENS)
    ) {
        let _ = check(&bytes);
    }
}

/// `levels` block mappings (`k0:`, `  k1:`, …), then under `v:` a flow value opening one
/// collection per entry of `flow` (`[` or `{a: `, each `[` optionally led by a decoy
/// element that holds a closing bracket or `#` inside quotes). Returns the text and its
/// true nesting depth.
fn nested(levels: usize, flow: &[(bool, usize)]) -> (String, usize) {
    const DECOYS: [&str; 4] = ["", "\"]\", ", "'}', ", "\"#]\", "];
    let mut text = String::new();
    for level in 0..levels {
        text.push_str(&format!("{}k{level}:\n", "  ".repeat(level)));
    }
    text.push_str(&format!("{}v: ", "  ".repeat(levels)));
    let mut closers = String::new();
    for &(seq, decoy) in flow {
        if seq {
            text.push('[');
            text.push_str(DECOYS[decoy % DECOYS.len()]);
            closers.insert(0, ']');
        } else {
            text.push_str("{a: ");
            closers.insert(0, '}');
        }
    }
    text.push('x');
    text.push_str(&closers);
    text.push('\n');
    (text, levels + 1 + flow.len())
}

/// The depth refusal comes before any YAML parsing (pass 0), so a refused document cost
/// one linear scan, whatever its shape.
fn refused_for_depth(text: &str) -> bool {
    match parse(text, ORIGIN) {
        Ok(_) => false,
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(ORIGIN), "{msg}");
            assert_eq!(e.kind(), ErrorKind::BadInput, "{msg}");
            msg.contains(&format!("deeper than {MAX_DEPTH} levels"))
        }
    }
}

#[test]
fn two_hundred_kilobytes_of_nesting_are_refused_before_parsing() {
    let (flow, _) = nested(0, &vec![(true, 1); 40_000]);
    assert!(flow.len() > 200_000, "{}", flow.len());
    assert!(refused_for_depth(&flow));
    let block = "- ".repeat(100_000) + "x\n";
    assert!(refused_for_depth(&block));
}

#[test]
fn thousands_of_validation_problems_are_capped() {
    let mut text = String::from("services:\n");
    for i in 0..5_000 {
        text.push_str(&format!("  svc{i}:\n    paths: [\"\"]\n"));
    }
    let err = parse(&text, ORIGIN).expect_err("empty globs are refused");
    let problems = err.problems();
    assert_eq!(problems.len(), MAX_PROBLEMS + 1, "{err}");
    let last = problems.last().expect("summary");
    assert!(
        last.message
            .contains(&format!("{} more problems", 5_000 - MAX_PROBLEMS)),
        "{}",
        last.message
    );
}

proptest! {
    #![proptest_config(fuzz::config(300))]

    /// Deep nesting of any mix of block mappings, flow lists and flow mappings: refused
    /// for depth exactly when it is deeper than the limit, never a panic, always a result.
    #[test]
    fn deep_nesting_is_refused_exactly_past_the_limit(
        levels in 0usize..40,
        flow in prop::collection::vec((any::<bool>(), 0usize..4), 0..80),
    ) {
        let (text, depth) = nested(levels, &flow);
        prop_assert_eq!(refused_for_depth(&text), depth > MAX_DEPTH, "depth {}:\n{}", depth, text);
    }
}
