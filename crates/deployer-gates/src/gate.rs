//! The result every gate returns, and the summary table built from results.

use deployer_core::markdown::Table;
use serde::Serialize;

/// How a gate ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Passed,
    Failed,
    /// Not met, but bypassed by an emergency (recorded in the summary).
    Bypassed,
    /// Not evaluated (e.g. the wait timer after another gate failed).
    Skipped,
}

/// One gate's verdict with the numbers behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateResult {
    /// Name shown to people and used by `--emergency-bypass` (defaults to the kind).
    pub name: String,
    /// tests, coverage, security, performance, health, confirmation, wait, freeze, ecs-service, stacks.
    pub kind: String,
    pub passed: bool,
    /// A failing gate that is not required is a warning, not a failure.
    pub required: bool,
    pub outcome: Outcome,
    /// What was measured, e.g. "87.5 % lines".
    pub measured: String,
    /// What it was compared with, e.g. "≥ 80 %".
    pub threshold: String,
    /// Why it failed (or a short note when it passed).
    pub detail: String,
}

impl GateResult {
    pub fn new(
        kind: &str,
        passed: bool,
        measured: impl Into<String>,
        threshold: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        GateResult {
            name: kind.to_string(),
            kind: kind.to_string(),
            passed,
            required: true,
            outcome: if passed {
                Outcome::Passed
            } else {
                Outcome::Failed
            },
            measured: measured.into(),
            threshold: threshold.into(),
            detail: detail.into(),
        }
    }

    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    pub fn required(mut self, required: bool) -> Self {
        self.required = required;
        self
    }

    pub fn skipped(kind: &str, threshold: impl Into<String>, detail: impl Into<String>) -> Self {
        GateResult {
            outcome: Outcome::Skipped,
            ..GateResult::new(kind, false, "not evaluated", threshold, detail)
        }
    }

    /// A required gate that failed and was not bypassed: this blocks the promotion.
    pub fn blocks(&self) -> bool {
        self.required && self.outcome == Outcome::Failed
    }

    /// One line for the log: `✅ coverage: 87.5 % lines (threshold ≥ 80 %)`.
    pub fn line(&self) -> String {
        let mark = match self.outcome {
            Outcome::Passed => "✅",
            Outcome::Failed if self.required => "❌",
            Outcome::Failed => "⚠️",
            Outcome::Bypassed => "⏭️",
            Outcome::Skipped => "➖",
        };
        let mut line = format!(
            "{mark} {}: {} (threshold {})",
            self.name, self.measured, self.threshold
        );
        if !self.detail.is_empty() {
            line.push_str(&format!(" — {}", self.detail));
        }
        line
    }

    fn status_cell(&self) -> &'static str {
        match self.outcome {
            Outcome::Passed => "✅ passed",
            Outcome::Failed if self.required => "❌ failed",
            Outcome::Failed => "⚠️ failed (not required)",
            Outcome::Bypassed => "⏭️ bypassed (emergency)",
            Outcome::Skipped => "➖ skipped",
        }
    }
}

/// The Markdown table of all gates: gate, status, measured, threshold, detail.
pub fn summary_table(results: &[GateResult]) -> String {
    let mut table = Table::new(["Gate", "Status", "Measured", "Threshold", "Detail"]);
    for r in results {
        table.row([
            r.name.as_str(),
            r.status_cell(),
            &r.measured,
            &r.threshold,
            &r.detail,
        ]);
    }
    table.render()
}

/// Formats a percentage with at most two decimals and no trailing zeros: 80, 87.5, 58.62.
pub fn pct(value: f64) -> String {
    let s = format!("{:.2}", value);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s} %")
}

/// Milliseconds, rounded sensibly: 1234 ms, 12.3 ms.
pub fn ms(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0} ms")
    } else {
        format!("{value:.1} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_and_milliseconds_read_well() {
        assert_eq!(pct(80.0), "80 %");
        assert_eq!(pct(87.5), "87.5 %");
        assert_eq!(pct(58.62068), "58.62 %");
        assert_eq!(ms(1999.6), "2000 ms");
        assert_eq!(ms(12.34), "12.3 ms");
    }

    #[test]
    fn only_required_failures_block() {
        let failed = GateResult::new("tests", false, "1 failed", "0 failures", "");
        assert!(failed.blocks());
        assert!(!failed.clone().required(false).blocks());
        let table = summary_table(&[failed]);
        assert!(
            table.contains("| tests | ❌ failed | 1 failed | 0 failures |  |"),
            "{table}"
        );
    }
}
