//! Fuzz targets: the report parsers gate-check reads (JUnit, Cobertura, LCOV, SARIF, k6,
//! Locust). Each replays `tests/corpus/<format>/*` (`ok-*` must parse, `bad-*` must be
//! refused with a message naming the file and the format) and mutates it. No input may
//! panic, and nothing that parses may carry a value a gate could misread as a pass
//! (coverage or success rate outside 0–100, NaN, infinite or negative times). A report that
//! measured nothing (no lines, no tests run, no SARIF run or results, no requests) never
//! passes its gate, even at the loosest threshold (issue 16).

use deployer_gates::ReportError;
use deployer_gates::checks::{self, PerfThresholds};
use deployer_gates::report::coverage::{self, CoverageFormat, CoverageSummary};
use deployer_gates::report::junit::TestSummary;
use deployer_gates::report::perf::PerfSummary;
use deployer_gates::report::sarif::{SarifSummary, Severity};
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

/// The loosest thresholds a user could set: only "measured nothing" can fail them.
fn loosest() -> PerfThresholds {
    PerfThresholds {
        min_success_rate: 0.0,
        max_average_ms: f64::MAX,
        max_p95_ms: None,
    }
}

/// A parsed report that measured nothing must fail its gate, whatever the threshold.
fn coverage_gate_ok(s: &CoverageSummary) -> Result<(), String> {
    if s.lines == Some(0) && checks::coverage(s, 0.0, None).passed {
        return Err(format!("a coverage report of 0 lines passed: {s:?}"));
    }
    Ok(())
}

fn tests_gate_ok(s: &TestSummary) -> Result<(), String> {
    let ran = s.tests.saturating_sub(s.skipped);
    if ran == 0 && (checks::tests(s, Some(0)).passed || checks::tests(s, None).passed) {
        return Err(format!("a JUnit report with no test run passed: {s:?}"));
    }
    Ok(())
}

fn security_gate_ok(s: &SarifSummary) -> Result<(), String> {
    let nothing = s.runs == 0 || !s.unmeasured.is_empty();
    if nothing && checks::security(s, Severity::Critical).passed {
        return Err(format!("a SARIF log that measured nothing passed: {s:?}"));
    }
    Ok(())
}

fn perf_gate_ok(s: &PerfSummary) -> Result<(), String> {
    if s.requests == 0 && checks::performance(s, &loosest()).passed {
        return Err(format!("a load test of 0 requests passed: {s:?}"));
    }
    Ok(())
}

/// Parses with the target's parser. Ok(true) = parsed with sane values, Ok(false) = refused
/// with a good message, Err = an invariant broke (a finding).
fn run(target: &str, bytes: &[u8]) -> Result<bool, String> {
    match target {
        "junit" => match junit::parse(bytes, ORIGIN) {
            Ok(s) if s.failures > s.tests.saturating_add(s.failures) => Err(format!("{s:?}")),
            Ok(s) => tests_gate_ok(&s).map(|_| true),
            Err(e) => err_ok(&e, &["JUnit"]).map(|_| false),
        },
        "cobertura" | "lcov" => {
            let format = if target == "lcov" {
                CoverageFormat::Lcov
            } else {
                CoverageFormat::Cobertura
            };
            let auto = coverage::parse(bytes, ORIGIN, CoverageFormat::Auto);
            if let Ok(s) = &auto {
                if !pct_ok(s.line) || s.branch.is_some_and(|b| !pct_ok(b)) {
                    return Err(format!("auto: out-of-range coverage {s:?}"));
                }
                coverage_gate_ok(s)?;
            }
            match coverage::parse(bytes, ORIGIN, format) {
                Ok(s) if !pct_ok(s.line) || s.branch.is_some_and(|b| !pct_ok(b)) => {
                    Err(format!("out-of-range coverage {s:?}"))
                }
                Ok(s) => coverage_gate_ok(&s).map(|_| true),
                Err(e) => err_ok(&e, &["Cobertura", "LCOV", "coverage"]).map(|_| false),
            }
        }
        "sarif" => match sarif::parse(bytes, ORIGIN) {
            Ok(s) => {
                let _ = s.counts();
                security_gate_ok(&s).map(|_| true)
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
                    perf_gate_ok(&s).map(|_| true)
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

/// Numbers no report may carry into a verdict, in the spellings parsers accept.
const NON_NUMBERS: &[&str] = &[
    "NaN",
    "nan",
    "-NaN",
    "inf",
    "-inf",
    "Infinity",
    "-Infinity",
    "1e999",
    "-1e999",
];

/// A report of each format that measured nothing, with arbitrary decoration (rates,
/// percentages, names) that a parser might mistake for a measurement.
fn nothing_measured() -> impl Strategy<Value = (&'static str, Vec<u8>)> {
    let rate = 0.0f64..=1.0;
    let pct = 0.0f64..=100.0;
    let name = "[A-Za-z][A-Za-z0-9_.-]{0,12}";
    prop_oneof![
        (1usize..4).prop_map(|files| {
            let body: String = (0..files)
                .map(|i| format!("TN:\nSF:src/f{i}.rs\nLF:0\nLH:0\nend_of_record\n"))
                .collect();
            ("lcov", body.into_bytes())
        }),
        rate.clone().prop_map(|r| (
            "cobertura",
            format!(r#"<coverage line-rate="{r}" lines-valid="0" lines-covered="0"/>"#).into_bytes()
        )),
        pct.clone().prop_map(|p| (
            "coverage-json",
            format!(r#"{{"totals":{{"covered_lines":0,"num_statements":0,"percent_covered":{p},"percent_statements_covered":{p}}}}}"#).into_bytes()
        )),
        pct.prop_map(|p| (
            "coverage-json",
            format!(r#"{{"total":{{"lines":{{"total":0,"covered":0,"pct":{p}}}}}}}"#).into_bytes()
        )),
        (0usize..4, proptest::bool::ANY).prop_map(|(suites, skipped)| {
            let case = if skipped { r#"<testcase name="t"><skipped/></testcase>"# } else { "" };
            let body: String = (0..suites)
                .map(|i| format!(r#"<testsuite name="s{i}" tests="0">{case}</testsuite>"#))
                .collect();
            ("junit", format!("<testsuites>{body}</testsuites>").into_bytes())
        }),
        (proptest::collection::vec(name, 0..3), proptest::bool::ANY).prop_map(|(tools, null)| {
            let results = if null { r#","results":null"# } else { "" };
            let runs: Vec<String> = tools
                .iter()
                .map(|t| format!(r#"{{"tool":{{"driver":{{"name":"{t}"}}}}{results}}}"#))
                .collect();
            ("sarif", format!(r#"{{"version":"2.1.0","runs":[{}]}}"#, runs.join(",")).into_bytes())
        }),
        (rate, 0.0f64..5000.0).prop_map(|(failed, avg)| (
            "k6",
            format!(r#"{{"metrics":{{"http_reqs":{{"count":0}},"http_req_failed":{{"rate":{failed}}},"http_req_duration":{{"avg":{avg}}}}}}}"#).into_bytes()
        )),
        (0.0f64..5000.0).prop_map(|avg| (
            "locust",
            format!("Type,Name,Request Count,Failure Count,Average Response Time\n,Aggregated,0,0,{avg}\n").into_bytes()
        )),
    ]
}

/// A report of each format with a non-number where a number belongs.
fn non_numbers() -> impl Strategy<Value = (&'static str, Vec<u8>)> {
    proptest::sample::select(NON_NUMBERS).prop_flat_map(|x| {
        let cases: Vec<(&'static str, String)> = vec![
            ("cobertura", format!(r#"<coverage line-rate="{x}"/>"#)),
            ("cobertura", format!(r#"<coverage line-rate="0.9" lines-valid="{x}" lines-covered="9"/>"#)),
            ("junit", format!(r#"<testsuite tests="{x}" failures="0"/>"#)),
            ("lcov", format!("SF:a\nLF:{x}\nLH:1\nend_of_record\n")),
            ("sarif", format!(r#"{{"version":"2.1.0","runs":[{{"results":[{{"ruleId":"R","properties":{{"security-severity":"{x}"}}}}]}}]}}"#)),
            ("sarif", format!(r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"rules":[{{"id":"R","properties":{{"security-severity":"{x}"}}}}]}}}},"results":[{{"ruleId":"R"}}]}}]}}"#)),
            ("k6", format!(r#"{{"metrics":{{"http_reqs":{{"count":10}},"http_req_failed":{{"rate":0}},"http_req_duration":{{"avg":"{x}"}}}}}}"#)),
            ("locust", format!("Type,Name,Request Count,Failure Count,Average Response Time\n,Aggregated,10,0,{x}\n")),
        ];
        proptest::sample::select(cases).prop_map(|(t, body)| (t, body.into_bytes()))
    })
}

/// Runs a generated report through its target (`coverage-json` through the coverage parsers).
fn run_generated(target: &str, bytes: &[u8]) -> Result<bool, String> {
    match target {
        "coverage-json" => match coverage::parse(bytes, ORIGIN, CoverageFormat::Json) {
            Ok(s) => coverage_gate_ok(&s).map(|_| true),
            Err(e) => err_ok(&e, &["coverage"]).map(|_| false),
        },
        other => run(other, bytes),
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

    /// Issue 16: never a pass from a report that measured nothing.
    #[test]
    fn reports_that_measured_nothing_never_pass((target, bytes) in nothing_measured()) {
        run_generated(target, &bytes).map_err(TestCaseError::fail)?;
    }

    /// NaN and infinities are refused (named) or never reach a verdict as numbers.
    #[test]
    fn non_numbers_are_refused((target, bytes) in non_numbers()) {
        let parsed = run_generated(target, &bytes).map_err(TestCaseError::fail)?;
        prop_assert!(!parsed, "{target}: {} parsed", String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn locust_mutations(bytes in fuzz::mutated(seeds("locust"), LINE_TOKENS)) {
        run("locust", &bytes).map_err(TestCaseError::fail)?;
    }
}
