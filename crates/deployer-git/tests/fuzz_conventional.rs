//! Fuzz target: the Conventional Commits parser. Replays `tests/corpus/conventional/*`
//! (names say what must happen: `ok-*` parses, `bad-*` is refused) and mutates it; no
//! input may panic, and whatever parses must satisfy the parser's own invariants.

use deployer_git::conventional::{self, Bump};
use deployer_security_tests as fuzz;
use proptest::prelude::*;

const TOKENS: &[&str] = &[
    "feat",
    "fix",
    "(",
    ")",
    "!",
    ":",
    ": ",
    "\n",
    "\n\n",
    "BREAKING CHANGE: ",
    "BREAKING-CHANGE #",
    "Release-As: ",
    "v1.2.3",
    "Revert \"",
    "This reverts commit ",
    "Merge pull request #",
    "fixup! ",
    "squash! ",
    " #",
    "\r\n",
    "é",
    "🚀",
    "\u{0}",
];

fn check(bytes: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(bytes);
    match conventional::parse(&text) {
        Ok(c) => {
            if c.kind.is_empty() {
                return Err(format!("parsed with an empty type: {c:?}"));
            }
            if c.kind != c.kind.to_lowercase() {
                return Err(format!("type not lower-cased: {c:?}"));
            }
            if c.breaking != (c.bump() == Bump::Major) {
                return Err(format!("breaking and bump disagree: {c:?}"));
            }
            Ok(())
        }
        Err(e) if e.to_string().is_empty() => Err("an error without a message".into()),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn corpus_replays() {
    for (name, bytes) in fuzz::corpus(env!("CARGO_MANIFEST_DIR"), "conventional") {
        let result = check(&bytes);
        match fuzz::expectation(&name) {
            fuzz::Expect::Ok => assert!(result.is_ok(), "{name}: {result:?}"),
            fuzz::Expect::Err => assert!(result.is_err(), "{name} parsed"),
            fuzz::Expect::Either => {}
        }
    }
}

proptest! {
    #![proptest_config(fuzz::config(2000))]

    #[test]
    fn mutated_corpus_never_panics(
        bytes in fuzz::mutated(fuzz::seeds(&fuzz::corpus(env!("CARGO_MANIFEST_DIR"), "conventional")), TOKENS)
    ) {
        if let Err(e) = check(&bytes) {
            prop_assert!(!e.starts_with("parsed with") && !e.starts_with("type not") && !e.starts_with("breaking and"), "{e}");
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = conventional::parse(&text);
    }
}
