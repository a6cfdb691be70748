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
    if summary.tests == 0 && min_tests.is_none() {
        problems.push("the report contains no tests".to_string());
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
    // Compare at the displayed precision so 79.999 does not fail while showing "80 %".
    let below = |value: f64, min: f64| (value * 100.0).round() < (min * 100.0).round();
    if below(summary.line, min_line) {
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
    GateResult::new("security", blocking.is_empty(), measured, threshold, detail)
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
