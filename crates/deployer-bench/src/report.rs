//! The Markdown report: one row per comparison, with medians, ratio, target and verdict.

use std::time::Duration;

/// What a row is judged against.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// deployer median ≤ factor × baseline median.
    RatioAtMost(f64),
    /// deployer median ≤ factor × baseline median, where the baseline is deployer itself
    /// on a smaller job (not a floor).
    RatioOfBaselineAtMost(f64),
    /// deployer median < baseline median (a peer).
    FasterThan,
    /// A time of at most this many seconds (a lag).
    SecondsAtMost(f64),
    /// A rate of at most this many calls per minute.
    PerMinuteAtMost(f64),
    /// A value below this many milliseconds.
    MillisBelow(f64),
    /// A value below this many MiB.
    MibBelow(f64),
    /// Listed only.
    Info,
}

impl Target {
    pub fn describe(&self) -> String {
        match self {
            Target::RatioAtMost(f) => format!("≤ {f} × floor"),
            Target::RatioOfBaselineAtMost(f) => format!("≤ {f} × baseline"),
            Target::FasterThan => "faster than the peer (< 1 ×)".into(),
            Target::SecondsAtMost(s) => format!("≤ {s} s"),
            Target::PerMinuteAtMost(n) => format!("≤ {n} calls/min"),
            Target::MillisBelow(ms) => format!("< {ms} ms"),
            Target::MibBelow(mib) => format!("< {mib} MB"),
            Target::Info => "listed".into(),
        }
    }
}

/// The measured value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Time(Duration),
    Mib(f64),
    Bytes(u64),
    /// Calls per minute.
    PerMinute(f64),
    /// Not measured, with the reason (e.g. "skipped: needs a remote").
    Missing(String),
}

impl Value {
    pub fn render(&self) -> String {
        match self {
            Value::Time(d) => fmt_duration(*d),
            Value::Mib(m) => format!("{m:.1} MB"),
            Value::Bytes(b) => format!("{:.1} MB", *b as f64 / (1024.0 * 1024.0)),
            Value::PerMinute(n) => format!("{n:.1} calls/min"),
            Value::Missing(why) => why.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub what: String,
    pub workload: String,
    pub deployer: Value,
    /// Baseline name (rendered as code) and its value; `None` for rows without one.
    pub baseline: Option<(String, Value)>,
    pub target: Target,
}

/// `812 µs`, `12.3 ms`, `1.23 s`.
pub fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 0.001 {
        format!("{:.0} µs", s * 1e6)
    } else if s < 0.1 {
        format!("{:.1} ms", s * 1e3)
    } else if s < 1.0 {
        format!("{:.0} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// deployer / baseline, when both are times.
pub fn ratio(deployer: &Value, baseline: &Value) -> Option<f64> {
    match (deployer, baseline) {
        (Value::Time(a), Value::Time(b)) if !b.is_zero() => Some(a.as_secs_f64() / b.as_secs_f64()),
        _ => None,
    }
}

pub fn fmt_ratio(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0} ×")
    } else {
        format!("{r:.2} ×")
    }
}

impl Row {
    /// `Some(true)` pass, `Some(false)` fail, `None` not judged (missing data or Info).
    pub fn verdict(&self) -> Option<bool> {
        let base = self.baseline.as_ref().map(|(_, v)| v);
        match (&self.target, &self.deployer) {
            (_, Value::Missing(_)) | (Target::Info, _) => None,
            (Target::RatioAtMost(f) | Target::RatioOfBaselineAtMost(f), d) => {
                ratio(d, base?).map(|r| r <= *f)
            }
            (Target::SecondsAtMost(max), Value::Time(t)) => Some(t.as_secs_f64() <= *max),
            (Target::PerMinuteAtMost(max), Value::PerMinute(n)) => Some(n <= max),
            (Target::FasterThan, d) => ratio(d, base?).map(|r| r < 1.0),
            (Target::MillisBelow(ms), Value::Time(t)) => Some(t.as_secs_f64() * 1e3 < *ms),
            (Target::MibBelow(mib), Value::Mib(m)) => Some(m < mib),
            _ => None,
        }
    }

    fn cells(&self) -> [String; 7] {
        let base = self.baseline.as_ref();
        let ratio_cell = base
            .and_then(|(_, b)| ratio(&self.deployer, b))
            .map(fmt_ratio)
            .unwrap_or_else(|| "—".into());
        let verdict = match self.verdict() {
            Some(true) => "✅",
            Some(false) => "❌",
            None => "—",
        };
        [
            self.what.clone(),
            self.workload.clone(),
            self.deployer.render(),
            base.map(|(name, v)| format!("`{name}`: {}", v.render()))
                .unwrap_or_else(|| "—".into()),
            ratio_cell,
            self.target.describe(),
            verdict.into(),
        ]
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown table of `rows`.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| what | workload | deployer median | baseline median | ratio | target | verdict |\n|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let cells: Vec<String> = r.cells().iter().map(|c| cell(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Value {
        Value::Time(Duration::from_millis(n))
    }

    #[test]
    fn durations_and_ratios() {
        assert_eq!(fmt_duration(Duration::from_micros(812)), "812 µs");
        assert_eq!(fmt_duration(Duration::from_micros(12_345)), "12.3 ms");
        assert_eq!(fmt_duration(Duration::from_millis(250)), "250 ms");
        assert_eq!(fmt_duration(Duration::from_millis(1234)), "1.23 s");
        assert_eq!(ratio(&ms(130), &ms(100)), Some(1.3));
        assert_eq!(ratio(&ms(1), &Value::Missing("x".into())), None);
        assert_eq!(fmt_ratio(1.234), "1.23 ×");
        assert_eq!(fmt_ratio(42.4), "42 ×");
    }

    #[test]
    fn verdicts_and_table() {
        let row = |d: Value, b: Value, t: Target| Row {
            what: "detect-changes".into(),
            workload: "w | x".into(),
            deployer: d,
            baseline: Some(("git diff".into(), b)),
            target: t,
        };
        assert_eq!(
            row(ms(130), ms(100), Target::RatioAtMost(1.3)).verdict(),
            Some(true)
        );
        assert_eq!(
            row(ms(131), ms(100), Target::RatioAtMost(1.3)).verdict(),
            Some(false)
        );
        assert_eq!(
            row(ms(99), ms(100), Target::FasterThan).verdict(),
            Some(true)
        );
        assert_eq!(
            row(ms(100), ms(100), Target::FasterThan).verdict(),
            Some(false)
        );
        assert_eq!(
            row(
                ms(1),
                Value::Missing("skipped: needs a remote".into()),
                Target::FasterThan
            )
            .verdict(),
            None
        );
        let startup = Row {
            what: "footprint".into(),
            workload: "--help".into(),
            deployer: ms(3),
            baseline: None,
            target: Target::MillisBelow(20.0),
        };
        assert_eq!(startup.verdict(), Some(true));
        let lag = |secs: u64, t: Target| Row {
            deployer: Value::Time(Duration::from_secs(secs)),
            target: t,
            ..startup.clone()
        };
        assert_eq!(lag(5, Target::SecondsAtMost(5.0)).verdict(), Some(true));
        assert_eq!(lag(6, Target::SecondsAtMost(5.0)).verdict(), Some(false));
        let rate = |n: f64| Row {
            deployer: Value::PerMinute(n),
            target: Target::PerMinuteAtMost(30.0),
            ..startup.clone()
        };
        assert_eq!(rate(30.0).verdict(), Some(true));
        assert_eq!(rate(30.5).verdict(), Some(false));
        assert_eq!(rate(12.34).deployer.render(), "12.3 calls/min");
        assert_eq!(
            row(ms(140), ms(100), Target::RatioOfBaselineAtMost(1.3)).verdict(),
            Some(false)
        );
        assert_eq!(
            Target::RatioOfBaselineAtMost(1.3).describe(),
            "≤ 1.3 × baseline"
        );
        let rss = Row {
            deployer: Value::Mib(41.0),
            target: Target::MibBelow(40.0),
            ..startup.clone()
        };
        assert_eq!(rss.verdict(), Some(false));
        let t = table(&[
            row(ms(120), ms(100), Target::RatioAtMost(1.3)),
            startup,
            Row {
                deployer: Value::Missing(
                    "not measured yet (the ECS rows are not in the bench yet)".into(),
                ),
                ..rss
            },
        ]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(
            lines[2],
            "| detect-changes | w \\| x | 120 ms | `git diff`: 100 ms | 1.20 × | ≤ 1.3 × floor | ✅ |"
        );
        assert_eq!(
            lines[3],
            "| footprint | --help | 3.0 ms | — | — | < 20 ms | ✅ |"
        );
        assert!(
            lines[4].contains("not measured yet (the ECS rows are not in the bench yet)")
                && lines[4].ends_with("| — |")
        );
    }
}
