//! Fuzz targets: the report parsers gate-check reads (JUnit, Cobertura, LCOV, SARIF, k6,
//! Locust). Each replays `tests/corpus/<format>/*` (`ok-*` must parse, `bad-*` must be
//! refused with a message naming the file and the format) and mutates it. No input may
//! panic, and nothing that parses may carry a value a gate could misread as a pass
//! (coverage or success rate outside 0–100, NaN, infinite or negative times).

use deployer_gates::ReportError;
use deployer_gates::report::coverage::{self, CoverageFormat};
use deployer_gates::report::{junit, perf, sarif};
use deployer_security_tests as fuzz;
use proptest::prelude::*;

const ORIGIN: &str = "reports/fuzz-input";

const XML_TOKENS: &[&str] = &[
    "<",
    ">",
    "/>",
    "</",
    "=\"",
    "\"",
    "<testsuite ",
    "<testsuites ",
    "<testcase ",
    "<failure",
    "<error",
    "<skipped/>",
    "tests=\"",
    "failures=\"",
    "errors=\"",
    "skipped=\"",
    "<coverage ",
    "line-rate=\"",
    "branch-rate=\"",
    "lines-valid=\"",
    "lines-covered=\"",
    "NaN",
    "inf",
    "-1",
    "1e308",
    "18446744073709551616",
    "&amp;",
    "&#0;",
    "&bogus;",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "<?xml version=\"1.0\"?>",
    "\u{feff}",
    "\u{0}",
];

const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "-1",
    "1e999",
    "NaN",
    "-0",
    "1e308",
    "\"runs\":",
    "\"results\":",
    "\"level\":",
    "\"error\"",
    "\"security-severity\":",
    "\"properties\":",
    "\"rules\":",
    "\"metrics\":",
    "\"http_reqs\":",
    "\"http_req_failed\":",
    "\"http_req_duration\":",
    "\"values\":",
    "\"count\":",
    "\"rate\":",
    "\"avg\":",
    "\"p(95)\":",
    "\"totals\":",
    "\"percent_covered\":",
    "\"total\":",
    "\"lines\":",
    "\"pct\":",
    "\u{0}",
];

const LINE_TOKENS: &[&str] = &[
    "\n",
    ",",
    "SF:",
    "DA:",
    "LF:",
    "LH:",
    "BRF:",
    "BRH:",
    "end_of_record",
    "TN:",
    "-1",
    "NaN",
    "18446744073709551616",
    "\"",
    "Aggregated",
    "N/A",
    "Request Count",
    "Failure Count",
    "Average Response Time",
    "95%",
    "inf",
    "\r\n",
    "\u{0}",
];

fn pct_ok(v: f64) -> bool {
    v.is_finite() && (0.0..=100.0).contains(&v)
}

fn err_ok(e: &ReportError, format_words: &[&str]) -> Result<(), String> {
    let msg = e.to_string();
    if !msg.contains(ORIGIN) {
        return Err(format!("message does not name the file: {msg}"));
    }
    if !format_words.iter().any(|w| msg.contains(w)) {
        return Err(format!("message does not name the format: {msg}"));
    }
    if e.problem.trim().is_empty() {
        return Err(format!("empty problem: {msg}"));
    }
    Ok(())
}

/// Parses with the target's parser. Ok(true) = parsed with sane values, Ok(false) = refused
/// with a good message, Err = an invariant broke (a finding).
fn run(target: &str, bytes: &[u8]) -> Result<bool, String> {
    match target {
        "junit" => match junit::parse(bytes, ORIGIN) {
            Ok(s) if s.failures > s.tests.saturating_add(s.failures) => Err(format!("{s:?}")),
            Ok(_) => Ok(true),
            Err(e) => err_ok(&e, &["JUnit"]).map(|_| false),
        },
        "cobertura" | "lcov" => {
            let format = if target == "lcov" {
                CoverageFormat::Lcov
            } else {
                CoverageFormat::Cobertura
            };
            let auto = coverage::parse(bytes, ORIGIN, CoverageFormat::Auto);
            if let Ok(s) = &auto
                && (!pct_ok(s.line) || s.branch.is_some_and(|b| !pct_ok(b)))
            {
                return Err(format!("auto: out-of-range coverage {s:?}"));
            }
            match coverage::parse(bytes, ORIGIN, format) {
                Ok(s) if !pct_ok(s.line) || s.branch.is_some_and(|b| !pct_ok(b)) => {
                    Err(format!("out-of-range coverage {s:?}"))
                }
                Ok(_) => Ok(true),
                Err(e) => err_ok(&e, &["Cobertura", "LCOV", "coverage"]).map(|_| false),
            }
        }
        "sarif" => match sarif::parse(bytes, ORIGIN) {
            Ok(s) => {
                let _ = s.counts();
                Ok(true)
            }
            Err(e) => err_ok(&e, &["SARIF"]).map(|_| false),
        },
        "k6" | "locust" => {
            let parsed = if target == "k6" {
                perf::parse_k6(bytes, ORIGIN)
            } else {
                perf::parse_locust(bytes, ORIGIN)
            };
            match parsed {
                Ok(s) => {
                    let times_ok = s.average_ms.is_finite()
                        && s.average_ms >= 0.0
                        && s.p95_ms.is_none_or(|p| p.is_finite() && p >= 0.0);
                    if !pct_ok(s.success_rate) || !times_ok {
                        return Err(format!("insane performance summary {s:?}"));
                    }
                    Ok(true)
                }
                Err(e) => err_ok(&e, &["k6", "Locust"]).map(|_| false),
            }
        }
        other => unreachable!("no target {other}"),
    }
}

fn replay(target: &str) {
    for (name, bytes) in fuzz::corpus(env!("CARGO_MANIFEST_DIR"), target) {
        let result = run(target, &bytes);
        match (fuzz::expectation(&name), &result) {
            (_, Err(finding)) => panic!("{target}/{name}: {finding}"),
            (fuzz::Expect::Ok, Ok(false)) => panic!("{target}/{name} was refused"),
            (fuzz::Expect::Err, Ok(true)) => panic!("{target}/{name} parsed"),
            _ => {}
        }
    }
}

#[test]
fn corpora_replay() {
    for target in ["junit", "cobertura", "lcov", "sarif", "k6", "locust"] {
        replay(target);
    }
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    fuzz::seeds(&fuzz::corpus(env!("CARGO_MANIFEST_DIR"), target))
}

proptest! {
    #![proptest_config(fuzz::config(400))]

    #[test]
    fn junit_mutations(bytes in fuzz::mutated(seeds("junit"), XML_TOKENS)) {
        run("junit", &bytes).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn cobertura_mutations(bytes in fuzz::mutated(seeds("cobertura"), XML_TOKENS)) {
        run("cobertura", &bytes).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn lcov_mutations(bytes in fuzz::mutated(seeds("lcov"), LINE_TOKENS)) {
        run("lcov", &bytes).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn sarif_mutations(bytes in fuzz::mutated(seeds("sarif"), JSON_TOKENS)) {
        run("sarif", &bytes).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn k6_mutations(bytes in fuzz::mutated(seeds("k6"), JSON_TOKENS)) {
        run("k6", &bytes).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn locust_mutations(bytes in fuzz::mutated(seeds("locust"), LINE_TOKENS)) {
        run("locust", &bytes).map_err(TestCaseError::fail)?;
    }
}
