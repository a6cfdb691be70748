//! Test support for deployer's fuzz tests: seed corpora kept as files and a proptest
//! strategy that mutates them (truncation, byte flips, token insertion, slice
//! duplication), so each parser's fuzz target starts from real-world and nasty samples
//! instead of random noise alone. Not part of the product.
//!
//! Case counts: the in-suite run stays short (the default each target passes to
//! [`cases`]); a dedicated run sets `PROPTEST_CASES` high, e.g.
//! `PROPTEST_CASES=200000 cargo test -p deployer-gates --test fuzz_reports --release`.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::Config;

/// The case count: `PROPTEST_CASES` when set (the dedicated long run), else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// A proptest configuration with [`cases`] cases and failures persisted next to the test
/// file (`tests/<target>.proptest-regressions`, committed), so every finding is replayed
/// before new cases on every later run.
pub fn config(default_cases: u32) -> Config {
    Config {
        cases: cases(default_cases),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..Config::default()
    }
}

/// The files of `<crate>/tests/corpus/<target>/`, sorted by name, as (name, bytes).
/// Panics when the directory is missing or empty: a fuzz target without seeds is a bug.
pub fn corpus(manifest_dir: &str, target: &str) -> Vec<(String, Vec<u8>)> {
    let dir: PathBuf = Path::new(manifest_dir)
        .join("tests")
        .join("corpus")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| {
            let bytes = std::fs::read(e.path())
                .unwrap_or_else(|err| panic!("corpus file {}: {err}", e.path().display()));
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "corpus {} is empty", dir.display());
    out
}

/// What a corpus file's name promises: `ok-*` must parse, `bad-*` must be refused with an
/// error; anything else only must not panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Ok,
    Err,
    Either,
}

pub fn expectation(name: &str) -> Expect {
    if name.starts_with("ok-") {
        Expect::Ok
    } else if name.starts_with("bad-") {
        Expect::Err
    } else {
        Expect::Either
    }
}

/// One edit of a mutation.
#[derive(Debug, Clone)]
enum Edit {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize, usize),
}

fn edit(tokens: &'static [&'static str]) -> impl Strategy<Value = Edit> {
    let token = if tokens.is_empty() {
        proptest::collection::vec(any::<u8>(), 1..8).boxed()
    } else {
        prop_oneof![
            3 => proptest::sample::select(tokens).prop_map(|t| t.as_bytes().to_vec()),
            1 => proptest::collection::vec(any::<u8>(), 1..8),
        ]
        .boxed()
    };
    prop_oneof![
        1 => any::<usize>().prop_map(Edit::Truncate),
        3 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        4 => (any::<usize>(), token).prop_map(|(i, t)| Edit::Insert(i, t)),
        2 => (any::<usize>(), 1usize..32).prop_map(|(i, n)| Edit::Delete(i, n)),
        1 => (any::<usize>(), 1usize..64, any::<usize>()).prop_map(|(i, n, j)| Edit::Duplicate(i, n, j)),
    ]
}

/// A position in `0..n` (n > 0) from a raw random number.
fn at(raw: usize, n: usize) -> usize {
    raw % n.max(1)
}

fn apply(mut data: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = data.len();
        match e {
            Edit::Truncate(i) => data.truncate(if len == 0 { 0 } else { at(*i, len) }),
            Edit::Flip(i, b) if len > 0 => {
                let pos = at(*i, len);
                data[pos] ^= b | 1;
            }
            Edit::Flip(..) => {}
            Edit::Insert(i, t) => {
                let pos = at(*i, len + 1);
                data.splice(pos..pos, t.iter().copied());
            }
            Edit::Delete(i, n) if len > 0 => {
                let pos = at(*i, len);
                data.drain(pos..(pos + n).min(len));
            }
            Edit::Delete(..) => {}
            Edit::Duplicate(i, n, j) if len > 0 => {
                let pos = at(*i, len);
                let slice = data[pos..(pos + n).min(len)].to_vec();
                let to = at(*j, len + 1);
                data.splice(to..to, slice);
            }
            Edit::Duplicate(..) => {}
        }
    }
    data
}

/// A corpus sample with 1–6 edits applied; `tokens` are format keywords worth inserting.
pub fn mutated(
    seeds: Vec<Vec<u8>>,
    tokens: &'static [&'static str],
) -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::sample::select(seeds),
        proptest::collection::vec(edit(tokens), 1..7),
    )
        .prop_map(|(seed, edits)| apply(seed, &edits))
}

/// The seeds of a corpus as a vector of byte strings (for [`mutated`]).
pub fn seeds(corpus: &[(String, Vec<u8>)]) -> Vec<Vec<u8>> {
    corpus.iter().map(|(_, b)| b.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_stay_in_bounds_on_empty_and_short_inputs() {
        let edits = vec![
            Edit::Flip(0, 1),
            Edit::Delete(3, 9),
            Edit::Duplicate(0, 5, 7),
            Edit::Insert(0, b"ab".to_vec()),
            Edit::Truncate(1),
        ];
        assert_eq!(apply(Vec::new(), &edits), b"a".to_vec());
        assert!(apply(b"xyz".to_vec(), &edits).len() <= 5);
    }

    #[test]
    fn names_choose_expectations() {
        assert_eq!(expectation("ok-push.json"), Expect::Ok);
        assert_eq!(expectation("bad-truncated.json"), Expect::Err);
        assert_eq!(expectation("weird.json"), Expect::Either);
    }
}
