//! Report gates: measured values and a threshold in, a verdict out. No I/O.

use crate::gate::{GateResult, ms, pct};
use crate::report::coverage::CoverageSummary;
use crate::report::junit::TestSummary;
use crate::report::perf::PerfSummary;
use crate::report::sarif::{SarifSummary, Severity};

/// Passes when no test failed or errored, and at least `min_tests` ran (when given).
pub fn tests(summary: &TestSummary, min_tests: Option<u64>) -> GateResult {
    let measured = format!(
        "{} tests: {} passed, {} failed, {} errors, {} skipped",
        summary.tests,
        summary.passed(),
        summary.failures,
        summary.errors,
        summary.skipped
    );
    let threshold = match min_tests {
        Some(n) => format!("0 failures, 0 errors, ≥ {n} tests"),
        None => "0 failures, 0 errors".to_string(),
    };
    let mut problems = Vec::new();
    if summary.failures.saturating_add(summary.errors) > 0 {
        let mut p = format!(
            "{} test(s) failed or errored",
            summary.failures.saturating_add(summary.errors)
        );
        if !summary.failed_names.is_empty() {
            p.push_str(&format!(": {}", summary.failed_names.join(", ")));
        }
        problems.push(p);
    }
    if let Some(n) = min_tests.filter(|n| summary.tests < *n) {
        problems.push(format!(
            "only {} tests ran, {n} are required (were some not collected?)",
            summary.tests
        ));
    }
    // A report that ran nothing measured nothing: never a pass, whatever --min-tests says
    // (`--min-tests 0` used to pass an empty report).
    if summary.tests == 0 {
        problems.push(
            "the report contains no tests: nothing was measured; check that the test step collected and ran the tests"
                .to_string(),
        );
    } else if summary
        .passed()
        .saturating_add(summary.failures)
        .saturating_add(summary.errors)
        == 0
    {
        problems.push(format!(
            "all {} tests were skipped: nothing was measured; check the skip conditions of the test run",
            summary.tests
        ));
    }
    GateResult::new(
        "tests",
        problems.is_empty(),
        measured,
        threshold,
        problems.join("; "),
    )
}

/// Passes when line coverage ≥ `min_line` and, when given, branch coverage ≥ `min_branch`.
pub fn coverage(summary: &CoverageSummary, min_line: f64, min_branch: Option<f64>) -> GateResult {
    let mut measured = format!("{} lines", pct(summary.line));
    if let Some(b) = summary.branch {
        measured.push_str(&format!(", {} branches", pct(b)));
    }
    let mut threshold = format!("lines ≥ {}", pct(min_line));
    if let Some(b) = min_branch {
        threshold.push_str(&format!(", branches ≥ {}", pct(b)));
    }
    let mut problems = Vec::new();
    if summary.lines == Some(0) {
        // LCOV `LF:0`, coverage.py with 0 statements, Cobertura `lines-valid="0"`: the
        // tools print 100 %, but a report of nothing is not coverage.
        problems.push(format!(
            "the {} report measured no lines (0 lines found): nothing was measured; check that coverage ran over the source (e.g. `--cov=<package>`, the include/source settings)",
            summary.format
        ));
        measured = "no lines measured".to_string();
    }
    // Compare at the displayed precision so 79.999 does not fail while showing "80 %".
    let below = |value: f64, min: f64| (value * 100.0).round() < (min * 100.0).round();
    if summary.lines != Some(0) && below(summary.line, min_line) {
        problems.push(format!(
            "line coverage {} is below {}",
            pct(summary.line),
            pct(min_line)
        ));
    }
    if let Some(min) = min_branch {
        match summary.branch {
            Some(b) if below(b, min) => problems.push(format!("branch coverage {} is below {}", pct(b), pct(min))),
            Some(_) => {}
            None => problems.push(format!(
                "a branch threshold is set but the {} report has no branch data (coverage.py: run with --branch)",
                summary.format
            )),
        }
    }
    GateResult::new(
        "coverage",
        problems.is_empty(),
        measured,
        threshold,
        problems.join("; "),
    )
}

/// Passes when no finding is at or above `fail_at`.
pub fn security(summary: &SarifSummary, fail_at: Severity) -> GateResult {
    let counts = summary.counts();
    let measured = if counts.is_empty() {
        "no findings".to_string()
    } else {
        counts
            .iter()
            .rev()
            .map(|(s, n)| format!("{n} {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let threshold = format!("no findings ≥ {fail_at}");
    let blocking = summary.at_or_above(fail_at);
    let detail = if blocking.is_empty() {
        let mut d = String::new();
        if !summary.findings.is_empty() {
            d.push_str(&format!(
                "{} finding(s) below {fail_at}",
                summary.findings.len()
            ));
        }
        if summary.suppressed > 0 {
            d.push_str(&format!(
                "{}{} suppressed",
                if d.is_empty() { "" } else { "; " },
                summary.suppressed
            ));
        }
        d
    } else {
        let shown: Vec<String> = blocking
            .iter()
            .take(5)
            .map(|f| match &f.location {
                Some(at) => format!("{} {} at {at}", f.severity, f.rule),
                None => format!("{} {}", f.severity, f.rule),
            })
            .collect();
        let more = if blocking.len() > 5 {
            format!(" and {} more", blocking.len() - 5)
        } else {
            String::new()
        };
        format!(
            "{} finding(s) at or above {fail_at}: {}{more}",
            blocking.len(),
            shown.join(", ")
        )
    };
    // A log that measured nothing fails even with no findings; its findings still show.
    let (passed, measured, detail) = match unmeasured(summary) {
        Some(problem) if detail.is_empty() && counts.is_empty() => {
            (false, "nothing measured".to_string(), problem)
        }
        Some(problem) if detail.is_empty() => (false, measured, problem),
        Some(problem) => (false, measured, format!("{problem}; {detail}")),
        None => (blocking.is_empty(), measured, detail),
    };
    GateResult::new("security", passed, measured, threshold, detail)
}

/// Why a SARIF summary is not evidence of a clean scan, when it is not: no runs, or runs
/// that did not analyse (SARIF 2.1.0 §3.14.23; see [`crate::report::sarif`]).
fn unmeasured(summary: &SarifSummary) -> Option<String> {
    if summary.runs == 0 {
        return Some(
            "the SARIF report contains no runs: no tool's analysis is recorded; check that the scanner ran and wrote its results"
                .to_string(),
        );
    }
    if summary.unmeasured.is_empty() {
        return None;
    }
    Some(format!(
        "{} run(s) measured nothing: {}",
        summary.unmeasured.len(),
        summary.unmeasured.join("; ")
    ))
}

/// Performance thresholds; the defaults are seed 2's (≥ 95 % success, average < 2 s).
#[derive(Debug, Clone, PartialEq)]
pub struct PerfThresholds {
    pub min_success_rate: f64,
    pub max_average_ms: f64,
    pub max_p95_ms: Option<f64>,
}

impl Default for PerfThresholds {
    fn default() -> Self {
        PerfThresholds {
            min_success_rate: 95.0,
            max_average_ms: 2000.0,
            max_p95_ms: None,
        }
    }
}

/// Passes when success rate ≥ min, average < max and (when given) p95 < max.
pub fn performance(summary: &PerfSummary, t: &PerfThresholds) -> GateResult {
    let mut measured = format!(
        "{} requests, {} success, avg {}",
        summary.requests,
        pct(summary.success_rate),
        ms(summary.average_ms)
    );
    if let Some(p95) = summary.p95_ms {
        measured.push_str(&format!(", p95 {}", ms(p95)));
    }
    let mut threshold = format!(
        "success ≥ {}, avg < {}",
        pct(t.min_success_rate),
        ms(t.max_average_ms)
    );
    if let Some(p) = t.max_p95_ms {
        threshold.push_str(&format!(", p95 < {}", ms(p)));
    }
    let mut problems = Vec::new();
    if summary.requests == 0 {
        problems.push(format!("the {} run made no requests", summary.tool));
    }
    if (summary.success_rate * 100.0).round() < (t.min_success_rate * 100.0).round() {
        problems.push(format!(
            "success rate {} is below {}",
            pct(summary.success_rate),
            pct(t.min_success_rate)
        ));
    }
    if summary.average_ms >= t.max_average_ms {
        problems.push(format!(
            "average response time {} is not below {}",
            ms(summary.average_ms),
            ms(t.max_average_ms)
        ));
    }
    if let Some(max) = t.max_p95_ms {
        match summary.p95_ms {
            Some(p95) if p95 >= max => {
                problems.push(format!("p95 {} is not below {}", ms(p95), ms(max)))
            }
            Some(_) => {}
            None => problems.push(format!(
                "a p95 threshold is set but the {} report has no p95",
                summary.tool
            )),
        }
    }
    GateResult::new(
        "performance",
        problems.is_empty(),
        measured,
        threshold,
        problems.join("; "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sarif::Finding;

    fn coverage_of(line: f64, lines: Option<u64>) -> CoverageSummary {
        CoverageSummary {
            line,
            branch: None,
            lines,
            format: "LCOV",
        }
    }

    #[test]
    fn coverage_that_measured_no_lines_fails_even_at_threshold_0() {
        let gate = coverage(&coverage_of(100.0, Some(0)), 0.0, None);
        assert!(!gate.passed);
        assert!(gate.detail.contains("measured no lines"), "{}", gate.detail);
        assert_eq!(gate.measured, "no lines measured");
        assert!(coverage(&coverage_of(80.0, Some(10)), 80.0, None).passed);
        assert!(coverage(&coverage_of(80.0, None), 80.0, None).passed);
    }

    #[test]
    fn tests_that_ran_nothing_fail_whatever_min_tests_says() {
        let empty = TestSummary::default();
        for min in [None, Some(0)] {
            let gate = tests(&empty, min);
            assert!(!gate.passed, "{min:?}");
            assert!(gate.detail.contains("no tests"), "{}", gate.detail);
        }
        let skipped = TestSummary {
            tests: 4,
            skipped: 4,
            ..Default::default()
        };
        let gate = tests(&skipped, Some(1));
        assert!(!gate.passed);
        assert!(
            gate.detail.contains("all 4 tests were skipped"),
            "{}",
            gate.detail
        );
        let ran = TestSummary {
            tests: 4,
            skipped: 3,
            ..Default::default()
        };
        assert!(tests(&ran, None).passed);
    }

    #[test]
    fn sarif_that_measured_nothing_fails_and_still_lists_findings() {
        let no_runs = SarifSummary::default();
        let gate = security(&no_runs, Severity::High);
        assert!(!gate.passed);
        assert!(gate.detail.contains("no runs"), "{}", gate.detail);
        assert_eq!(gate.measured, "nothing measured");
        let clean = SarifSummary {
            runs: 1,
            ..Default::default()
        };
        assert!(security(&clean, Severity::High).passed);
        let half = SarifSummary {
            runs: 2,
            unmeasured: vec!["s.sarif runs[1] (trivy) has no `results` array".into()],
            findings: vec![Finding {
                rule: "B105".into(),
                severity: Severity::Low,
                message: "m".into(),
                location: None,
                tool: "bandit".into(),
            }],
            suppressed: 0,
        };
        let gate = security(&half, Severity::High);
        assert!(!gate.passed);
        assert!(
            gate.detail
                .contains("1 run(s) measured nothing: s.sarif runs[1] (trivy)")
                && gate.detail.contains("1 finding(s) below high"),
            "{}",
            gate.detail
        );
    }
}
