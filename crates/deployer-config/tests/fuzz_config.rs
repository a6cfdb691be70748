//! Fuzz target: the `deployer.yml` loader (YAML parse, schema, validation, globs).
//! Replays `tests/corpus/config/*` (`ok-*` must load, `bad-*` must be refused as bad input
//! with a message naming the file) and mutates it. No input may panic.

use deployer_config::{ConfigError, parse};
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
