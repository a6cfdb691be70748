//! Every report gate, pass and fail, on real report files (see fixtures/README.md).

use std::path::PathBuf;

use deployer_gates::checks::{self, PerfThresholds};
use deployer_gates::report::coverage::{self, CoverageFormat};
use deployer_gates::report::sarif::{self, Severity};
use deployer_gates::report::{junit, perf};

fn fixture(name: &str) -> (Vec<u8>, String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let bytes = std::fs::read(&path).expect("fixture exists");
    (bytes, path.display().to_string())
}

#[test]
fn pytest_junit_passing_run_passes_the_tests_gate() {
    let (bytes, origin) = fixture("passing-junit.xml");
    let summary = junit::parse(&bytes, &origin).expect("pytest junit parses");
    assert_eq!(
        (
            summary.tests,
            summary.failures,
            summary.errors,
            summary.skipped
        ),
        (2, 0, 0, 0)
    );
    let gate = checks::tests(&summary, Some(2));
    assert!(gate.passed, "{gate:?}");
    assert_eq!(
        gate.measured,
        "2 tests: 2 passed, 0 failed, 0 errors, 0 skipped"
    );
}

#[test]
fn pytest_junit_failing_run_fails_the_tests_gate_and_names_the_test() {
    let (bytes, origin) = fixture("failing-junit.xml");
    let summary = junit::parse(&bytes, &origin).expect("pytest junit parses");
    assert_eq!(
        (
            summary.tests,
            summary.failures,
            summary.errors,
            summary.skipped
        ),
        (3, 1, 0, 1)
    );
    let gate = checks::tests(&summary, None);
    assert!(!gate.passed);
    assert!(
        gate.detail.contains("test_calc.test_add"),
        "{}",
        gate.detail
    );
}

#[test]
fn minimum_test_count_fails_when_too_few_ran() {
    let (bytes, origin) = fixture("passing-junit.xml");
    let summary = junit::parse(&bytes, &origin).expect("parses");
    let gate = checks::tests(&summary, Some(50));
    assert!(!gate.passed);
    assert!(
        gate.detail.contains("only 2 tests ran, 50 are required"),
        "{}",
        gate.detail
    );
}

#[test]
fn coverage_py_cobertura_lcov_and_json_agree_on_line_coverage() {
    for (variant, expected_line, expected_branch) in [
        ("passing", 100.0, Some(100.0)),
        ("failing", 58.62, Some(12.5)),
    ] {
        for ext in ["xml", "lcov", "json"] {
            let (bytes, origin) = fixture(&format!("{variant}-coverage.{ext}"));
            let s =
                coverage::parse(&bytes, &origin, CoverageFormat::Auto).expect("coverage parses");
            assert!(
                (s.line - expected_line).abs() < 0.01,
                "{variant}.{ext}: line {}",
                s.line
            );
            let branch = s.branch.map(|b| (b * 100.0).round() / 100.0);
            assert_eq!(branch, expected_branch, "{variant}.{ext}");
        }
    }
}

#[test]
fn coverage_gate_pass_and_fail() {
    let (bytes, origin) = fixture("passing-coverage.xml");
    let s = coverage::parse(&bytes, &origin, CoverageFormat::Cobertura).expect("parses");
    assert!(checks::coverage(&s, 80.0, Some(80.0)).passed);

    let (bytes, origin) = fixture("failing-coverage.xml");
    let s = coverage::parse(&bytes, &origin, CoverageFormat::Auto).expect("parses");
    let gate = checks::coverage(&s, 80.0, None);
    assert!(!gate.passed);
    assert_eq!(gate.measured, "58.62 % lines, 12.5 % branches");
    assert_eq!(gate.threshold, "lines ≥ 80 %");
    assert!(gate.detail.contains("line coverage 58.62 % is below 80 %"));
    let branch_only = checks::coverage(&s, 50.0, Some(20.0));
    assert!(!branch_only.passed);
    assert!(
        branch_only
            .detail
            .contains("branch coverage 12.5 % is below 20 %"),
        "{}",
        branch_only.detail
    );
    assert!(checks::coverage(&s, 50.0, Some(10.0)).passed);
}

#[test]
fn wrong_format_for_a_coverage_file_is_a_clear_error() {
    let (bytes, origin) = fixture("passing-junit.xml");
    let e =
        coverage::parse(&bytes, &origin, CoverageFormat::Auto).expect_err("junit is not coverage");
    let msg = e.to_string();
    assert!(msg.contains("passing-junit.xml"), "{msg}");
    assert!(
        msg.contains("root element is <testsuites>, expected <coverage>"),
        "{msg}"
    );
}

#[test]
fn bandit_sarif_clean_passes_and_findings_fail_at_their_severity() {
    let (bytes, origin) = fixture("passing-bandit.sarif");
    let clean = sarif::parse(&bytes, &origin).expect("bandit sarif parses");
    assert!(clean.findings.is_empty());
    let gate = checks::security(&clean, Severity::Low);
    assert!(gate.passed);
    assert_eq!(gate.measured, "no findings");

    let (bytes, origin) = fixture("failing-bandit.sarif");
    let found = sarif::parse(&bytes, &origin).expect("bandit sarif parses");
    // Bandit: B404 LOW → note, B602 HIGH → error, B307 MEDIUM → no level (SARIF default warning).
    let mut rules: Vec<(String, Severity)> = found
        .findings
        .iter()
        .map(|f| (f.rule.clone(), f.severity))
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        vec![
            ("B307".into(), Severity::Medium),
            ("B404".into(), Severity::Low),
            ("B602".into(), Severity::High)
        ]
    );
    let high = checks::security(&found, Severity::High);
    assert!(!high.passed);
    assert_eq!(high.measured, "1 high, 1 medium, 1 low");
    assert!(
        high.detail.contains("high B602 at calc.py:18"),
        "{}",
        high.detail
    );
    assert!(checks::security(&found, Severity::Critical).passed);
    assert!(!checks::security(&found, Severity::Medium).passed);
}

#[test]
fn k6_summary_export_passes_and_handle_summary_fails() {
    let (bytes, origin) = fixture("passing-k6-summary-export.json");
    let s = perf::parse_k6(&bytes, &origin).expect("k6 summary-export parses");
    assert_eq!(s.requests, 3000);
    assert_eq!(s.failures, Some(6));
    assert!((s.success_rate - 99.8).abs() < 1e-9);
    let gate = checks::performance(
        &s,
        &PerfThresholds {
            max_p95_ms: Some(500.0),
            ..PerfThresholds::default()
        },
    );
    assert!(gate.passed, "{gate:?}");
    assert_eq!(
        gate.measured,
        "3000 requests, 99.8 % success, avg 184 ms, p95 413 ms"
    );

    let tight_p95 = checks::performance(
        &s,
        &PerfThresholds {
            max_p95_ms: Some(400.0),
            ..PerfThresholds::default()
        },
    );
    assert!(!tight_p95.passed);
    assert!(
        tight_p95.detail.contains("p95 413 ms is not below 400 ms"),
        "{}",
        tight_p95.detail
    );

    let (bytes, origin) = fixture("failing-k6-handle-summary.json");
    let s = perf::parse_k6(&bytes, &origin).expect("k6 handleSummary parses");
    assert_eq!((s.requests, s.failures), (1200, Some(120)));
    let gate = checks::performance(&s, &PerfThresholds::default());
    assert!(!gate.passed);
    assert!(
        gate.detail.contains("success rate 90 % is below 95 %"),
        "{}",
        gate.detail
    );
    assert!(
        gate.detail
            .contains("average response time 2432 ms is not below 2000 ms"),
        "{}",
        gate.detail
    );
}

#[test]
fn locust_stats_pass_and_fail() {
    let (bytes, origin) = fixture("passing-locust_stats.csv");
    let s = perf::parse_locust(&bytes, &origin).expect("locust csv parses");
    assert_eq!(
        (s.requests, s.failures, s.p95_ms),
        (2000, Some(10), Some(120.0))
    );
    assert!((s.success_rate - 99.5).abs() < 1e-9);
    assert!(
        checks::performance(
            &s,
            &PerfThresholds {
                max_p95_ms: Some(200.0),
                ..PerfThresholds::default()
            }
        )
        .passed
    );

    let (bytes, origin) = fixture("failing-locust_stats.csv");
    let s = perf::parse_locust(&bytes, &origin).expect("locust csv parses");
    let gate = checks::performance(&s, &PerfThresholds::default());
    assert!(!gate.passed);
    assert_eq!(
        gate.measured,
        "2000 requests, 85 % success, avg 2500 ms, p95 4500 ms"
    );
    assert!(gate.detail.contains("success rate 85 % is below 95 %"));
}

#[test]
fn every_parser_survives_every_fixture_without_panicking() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for entry in std::fs::read_dir(dir).expect("fixtures dir") {
        let path = entry.expect("entry").path();
        if !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read");
        let origin = path.display().to_string();
        let truncated = &bytes[..bytes.len() / 2];
        for b in [&bytes[..], truncated] {
            let _ = junit::parse(b, &origin);
            let _ = coverage::parse(b, &origin, CoverageFormat::Auto);
            let _ = sarif::parse(b, &origin);
            let _ = perf::parse_k6(b, &origin);
            let _ = perf::parse_locust(b, &origin);
        }
    }
}

#[test]
fn real_locust_runs_against_a_local_server_pass_and_fail() {
    let (bytes, origin) = fixture("locust-real-passing_stats.csv");
    let s = perf::parse_locust(&bytes, &origin).expect("locust 2.47 csv parses");
    assert_eq!((s.requests, s.failures), (366, Some(0)));
    assert_eq!(s.p95_ms, Some(8.0));
    assert!(checks::performance(&s, &PerfThresholds::default()).passed);

    let (bytes, origin) = fixture("locust-real-failing_stats.csv");
    let s = perf::parse_locust(&bytes, &origin).expect("locust 2.47 csv parses");
    assert_eq!((s.requests, s.failures), (355, Some(88)));
    let gate = checks::performance(&s, &PerfThresholds::default());
    assert!(!gate.passed);
    assert!(
        gate.detail.contains("success rate 75.21 % is below 95 %"),
        "{}",
        gate.detail
    );
}
