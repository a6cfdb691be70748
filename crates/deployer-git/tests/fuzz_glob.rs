//! Fuzz target: path-glob compilation and matching (`paths:` filters in deployer.yml).
//! Each corpus file is a pattern list, one per line; `bad-*` lists must be refused with a
//! message naming the pattern problem, and no list or path may panic.

use deployer_git::glob::{FilterSet, PathFilter};
use deployer_security_tests as fuzz;
use proptest::prelude::*;

const TOKENS: &[&str] = &[
    "**",
    "*",
    "?",
    "/",
    "!",
    "[",
    "]",
    "[!",
    "{",
    "}",
    ",",
    "\\",
    "./",
    "../",
    "\n",
    ".",
    "-",
    "ü",
    "services/api/",
    "**/*.rs",
];

const PATHS: &[&str] = &[
    "",
    "services/api/src/main.rs",
    "services/api/docs/openapi.yml",
    ".github/workflows/deploy.yml",
    "README.md",
    "a/b/c/d/e/f/g/h/i/j/k/l",
    "ü/x/✓",
    "[a]/x",
    "/abs",
    "dir/",
];

fn patterns(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    if lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

fn check(bytes: &[u8], extra_path: &str) -> Result<(), String> {
    let pats = patterns(bytes);
    let filter = PathFilter::new(&pats).map_err(|e| e.to_string())?;
    let set = FilterSet::new([filter.parsed(), filter.parsed()]).map_err(|e| e.to_string())?;
    let (mut buf, mut out) = (Vec::new(), Vec::new());
    for path in PATHS.iter().copied().chain([extra_path]) {
        let one = filter.is_match(path);
        set.matches_into(path, &mut buf, &mut out);
        // The combined set must agree with the single filter it was built from.
        assert_eq!(
            out,
            vec![one, one],
            "FilterSet disagrees on {path:?} for {pats:?}"
        );
    }
    Ok(())
}

#[test]
fn corpus_replays() {
    for (name, bytes) in fuzz::corpus(env!("CARGO_MANIFEST_DIR"), "glob") {
        let result = check(&bytes, "x");
        match fuzz::expectation(&name) {
            fuzz::Expect::Ok => assert!(result.is_ok(), "{name}: {result:?}"),
            fuzz::Expect::Err => {
                let err = result.expect_err(&name);
                assert!(
                    err.contains("pattern"),
                    "{name}: message does not name the pattern: {err}"
                );
            }
            fuzz::Expect::Either => {}
        }
    }
}

proptest! {
    #![proptest_config(fuzz::config(1000))]

    #[test]
    fn mutated_corpus_never_panics(
        bytes in fuzz::mutated(fuzz::seeds(&fuzz::corpus(env!("CARGO_MANIFEST_DIR"), "glob")), TOKENS),
        path in "[a-z./*?\\[\\]ü]{0,30}",
    ) {
        let _ = check(&bytes, &path);
    }
}
