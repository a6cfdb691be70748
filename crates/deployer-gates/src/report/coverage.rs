//! Coverage reports: Cobertura XML (coverage.py `coverage xml`, JaCoCo converters,
//! cargo-llvm-cov `--cobertura`), LCOV tracefiles (`LF`/`LH`/`BRF`/`BRH`), and JSON
//! summaries (coverage.py `coverage json`, Istanbul `coverage-summary.json`).

use quick_xml::Reader;
use quick_xml::events::Event;
use serde::Serialize;
use serde_json::Value;

use super::{num_attr, xml_attributes};
use crate::ReportError;
use crate::error::text;

/// Which parser to use; [`CoverageFormat::Auto`] looks at the first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CoverageFormat {
    #[default]
    Auto,
    Cobertura,
    Lcov,
    Json,
}

impl std::str::FromStr for CoverageFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(CoverageFormat::Auto),
            "cobertura" | "xml" => Ok(CoverageFormat::Cobertura),
            "lcov" => Ok(CoverageFormat::Lcov),
            "json" => Ok(CoverageFormat::Json),
            other => Err(format!(
                "unknown coverage format {other:?}; use auto, cobertura, lcov or json"
            )),
        }
    }
}

/// Coverage in percent (0–100).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageSummary {
    /// Line (statement) coverage.
    pub line: f64,
    /// Branch coverage, when the report measured branches.
    pub branch: Option<f64>,
    /// How many lines (statements) the report measured, when it gives a count. `Some(0)`
    /// means it measured nothing: the coverage gate fails on it, whatever `line` says
    /// (tools write 100 % or "Unknown" for 0 of 0).
    pub lines: Option<u64>,
    /// "Cobertura XML", "LCOV", "coverage.py JSON", "Istanbul JSON".
    pub format: &'static str,
}

pub fn parse(
    bytes: &[u8],
    origin: &str,
    format: CoverageFormat,
) -> Result<CoverageSummary, ReportError> {
    let format = match format {
        CoverageFormat::Auto => {
            let t = text(bytes, origin, "coverage")?;
            match t.trim_start().chars().next() {
                Some('<') => CoverageFormat::Cobertura,
                Some('{') => CoverageFormat::Json,
                _ => CoverageFormat::Lcov,
            }
        }
        f => f,
    };
    match format {
        CoverageFormat::Cobertura => parse_cobertura(bytes, origin),
        CoverageFormat::Lcov => parse_lcov(bytes, origin),
        _ => parse_json(bytes, origin),
    }
}

pub fn parse_cobertura(bytes: &[u8], origin: &str) -> Result<CoverageSummary, ReportError> {
    const F: &str = "Cobertura XML";
    let text = text(bytes, origin, F)?;
    let mut reader = Reader::from_str(text);
    let err = |p: String| ReportError::new(origin, F, p);
    loop {
        match reader.read_event().map_err(|e| {
            err(format!(
                "malformed XML near byte {}: {e}",
                reader.buffer_position()
            ))
        })? {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if name != "coverage" {
                    return Err(err(format!(
                        "the root element is <{name}>, expected <coverage>; is this a Cobertura report?"
                    )));
                }
                let attrs = xml_attributes(&e, origin, F)?;
                let n = |k: &str| num_attr(&attrs, k, "coverage", origin, F);
                let rate = |r: f64, k: &str| {
                    if (0.0..=1.0).contains(&r) {
                        Ok(r * 100.0)
                    } else {
                        Err(err(format!("{k}=\"{r}\" is outside 0–1")))
                    }
                };
                let (line, lines) =
                    cobertura_line(n("line-rate")?, n("lines-valid")?, n("lines-covered")?)
                        .map_err(err)?;
                // coverage.py writes branch-rate="0" with branches-valid="0" when branches were not measured.
                let branch = match (n("branch-rate")?, n("branches-valid")?) {
                    (_, Some(valid)) if valid <= 0.0 => None,
                    (Some(r), _) => Some(rate(r, "branch-rate")?),
                    (None, _) => None,
                };
                return Ok(CoverageSummary {
                    line,
                    branch,
                    lines,
                    format: F,
                });
            }
            Event::Eof => return Err(err("contains no <coverage> element".into())),
            _ => {}
        }
    }
}

/// How far `line-rate` may be from `lines-covered / lines-valid`: coverage.py rounds the
/// rate to 4 decimals, other writers to 2; anything further apart is a contradiction.
const RATE_TOLERANCE: f64 = 0.006;

/// Line coverage (percent) and the measured line count from `<coverage>`'s attributes.
/// The counts win when present (they are exact); a `line-rate` that contradicts them is
/// refused instead of silently overriding them.
fn cobertura_line(
    rate: Option<f64>,
    valid: Option<f64>,
    covered: Option<f64>,
) -> Result<(f64, Option<u64>), String> {
    if let Some(r) = rate.filter(|r| !(0.0..=1.0).contains(r)) {
        return Err(format!("line-rate=\"{r}\" is outside 0–1"));
    }
    match (rate, valid, covered) {
        (_, Some(valid), Some(covered)) => {
            // Without this check a mangled report (more lines covered than exist)
            // would measure thousands of percent and pass any threshold.
            if valid < 0.0 || !(0.0..=valid).contains(&covered) {
                return Err(format!(
                    "lines-covered=\"{covered}\" is not between 0 and lines-valid=\"{valid}\""
                ));
            }
            if valid == 0.0 {
                return Ok((0.0, Some(0)));
            }
            let counted = covered / valid;
            if let Some(r) = rate.filter(|r| (r - counted).abs() > RATE_TOLERANCE) {
                return Err(format!(
                    "line-rate=\"{r}\" contradicts lines-covered=\"{covered}\" of lines-valid=\"{valid}\" ({:.2} %); the report was edited or is corrupt, regenerate it",
                    counted * 100.0
                ));
            }
            Ok((counted * 100.0, Some(valid as u64)))
        }
        (Some(_), Some(valid), None) if valid <= 0.0 => Ok((0.0, Some(0))),
        (Some(r), _, _) => Ok((r * 100.0, None)),
        _ => Err("<coverage> has no line-rate attribute".into()),
    }
}

pub fn parse_lcov(bytes: &[u8], origin: &str) -> Result<CoverageSummary, ReportError> {
    const F: &str = "LCOV";
    let text = text(bytes, origin, F)?;
    let (mut lf, mut lh, mut brf, mut brh) = (0u64, 0u64, 0u64, 0u64);
    let (mut da_total, mut da_hit) = (0u64, 0u64);
    let mut saw_lf = false;
    let mut saw_record = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let Some((key, value)) = line.split_once(':') else {
            if line.is_empty() || line == "end_of_record" {
                continue;
            }
            return Err(ReportError::new(
                origin,
                F,
                format!("line {}: {line:?} is not an LCOV record (KEY:VALUE)", i + 1),
            ));
        };
        let number = || {
            value.trim().parse::<u64>().map_err(|_| {
                ReportError::new(
                    origin,
                    F,
                    format!("line {}: {key}:{value} is not a count", i + 1),
                )
            })
        };
        match key {
            "SF" | "TN" => saw_record = true,
            "LF" => {
                lf = lf.saturating_add(number()?);
                saw_lf = true;
            }
            "LH" => lh = lh.saturating_add(number()?),
            "BRF" => brf = brf.saturating_add(number()?),
            "BRH" => brh = brh.saturating_add(number()?),
            "DA" => {
                da_total += 1;
                let hits = value.split(',').nth(1).map(str::trim).unwrap_or("0");
                if hits != "0" && hits != "-" {
                    da_hit += 1;
                }
            }
            _ => {}
        }
    }
    if !saw_lf && da_total == 0 {
        let hint = if saw_record {
            "has no LF/LH or DA records"
        } else {
            "has no SF/LF/LH records; is this an LCOV tracefile?"
        };
        return Err(ReportError::new(origin, F, hint));
    }
    let (valid, hit) = if saw_lf { (lf, lh) } else { (da_total, da_hit) };
    if hit > valid {
        return Err(ReportError::new(
            origin,
            F,
            format!("reports {hit} lines hit out of {valid}"),
        ));
    }
    // LF:0 is a tracefile of nothing; 0 % plus `lines: Some(0)` fails the gate (it used to
    // score 100 %).
    let line = if valid == 0 {
        0.0
    } else {
        hit as f64 / valid as f64 * 100.0
    };
    let branch = (brf > 0).then(|| brh.min(brf) as f64 / brf as f64 * 100.0);
    Ok(CoverageSummary {
        line,
        branch,
        lines: Some(valid),
        format: F,
    })
}

pub fn parse_json(bytes: &[u8], origin: &str) -> Result<CoverageSummary, ReportError> {
    const F: &str = "coverage JSON";
    let text = text(bytes, origin, F)?;
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ReportError::new(origin, F, format!("is not valid JSON: {e}")))?;
    if let Some(totals) = value.get("totals") {
        return check(coverage_py(totals, origin)?, origin);
    }
    if let Some(total) = value.get("total") {
        return check(istanbul(total, origin)?, origin);
    }
    Err(ReportError::new(
        origin,
        F,
        "has neither `totals` (coverage.py `coverage json`) nor `total` (Istanbul json-summary)",
    ))
}

/// A number at `path` under `v` (serde_json never yields NaN or infinities).
fn num(v: &Value, path: &[&str]) -> Option<f64> {
    let mut cur = v;
    for key in path {
        cur = cur.get(key)?;
    }
    cur.as_f64()
}

/// coverage.py `coverage json`: `totals`.
fn coverage_py(totals: &Value, origin: &str) -> Result<CoverageSummary, ReportError> {
    const F: &str = "coverage.py JSON";
    let statements = num(totals, &["num_statements"]);
    // coverage.py: `percent_covered` mixes statements and branches when branches are measured,
    // so line coverage is statements only (like Cobertura's line-rate).
    let line = if statements.is_some_and(|n| n <= 0.0) {
        // 0 statements: nothing was measured (coverage.py reports 100 %).
        0.0
    } else {
        num(totals, &["percent_statements_covered"])
            .or_else(|| match (num(totals, &["covered_lines"]), statements) {
                (Some(c), Some(n)) => Some(c / n * 100.0),
                _ => None,
            })
            .or_else(|| num(totals, &["percent_covered"]))
            .ok_or_else(|| {
                ReportError::new(
                    origin,
                    F,
                    "totals has no percent_covered; is this `coverage json` output?",
                )
            })?
    };
    let branch = match (
        num(totals, &["covered_branches"]),
        num(totals, &["num_branches"]),
    ) {
        (Some(c), Some(n)) if n > 0.0 => Some(c / n * 100.0),
        _ => None,
    };
    Ok(CoverageSummary {
        line,
        branch,
        lines: statements.map(|n| n.max(0.0) as u64),
        format: F,
    })
}

/// Istanbul `coverage-summary.json`: `total`.
fn istanbul(total: &Value, origin: &str) -> Result<CoverageSummary, ReportError> {
    const F: &str = "Istanbul JSON";
    let lines = num(total, &["lines", "total"]).map(|n| n.max(0.0) as u64);
    // Istanbul writes `"pct": "Unknown"` (or 100) for 0 of 0 lines: nothing was measured.
    let line = if lines == Some(0) {
        0.0
    } else {
        num(total, &["lines", "pct"]).ok_or_else(|| {
            ReportError::new(origin, F, "total.lines.pct is missing or not a number")
        })?
    };
    let branch = match (
        num(total, &["branches", "total"]),
        num(total, &["branches", "pct"]),
    ) {
        (Some(t), Some(p)) if t > 0.0 => Some(p),
        _ => None,
    };
    Ok(CoverageSummary {
        line,
        branch,
        lines,
        format: F,
    })
}

fn check(summary: CoverageSummary, origin: &str) -> Result<CoverageSummary, ReportError> {
    let ok = |v: f64| (0.0..=100.0).contains(&v);
    if !ok(summary.line) || !summary.branch.is_none_or(ok) {
        return Err(ReportError::new(
            origin,
            summary.format,
            "has a percentage outside 0–100",
        ));
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lcov_sums_records_and_falls_back_to_da() {
        let lcov = b"TN:\nSF:a.rs\nDA:1,1\nLF:4\nLH:3\nBRF:2\nBRH:1\nend_of_record\nSF:b.rs\nLF:6\nLH:6\nend_of_record\n";
        let s = parse(lcov, "lcov.info", CoverageFormat::Auto).expect("parses");
        assert_eq!(s.line, 90.0);
        assert_eq!(s.branch, Some(50.0));
        let da = parse_lcov(b"SF:a\nDA:1,0\nDA:2,3\nend_of_record\n", "x").expect("parses");
        assert_eq!(da.line, 50.0);
        assert_eq!(da.branch, None);
    }

    #[test]
    fn huge_lcov_counts_saturate_instead_of_overflowing() {
        let lcov =
            b"LF:18446744073709551615\nLF:18446744073709551615\nLH:18446744073709551615\nLH:9\n";
        assert!(parse_lcov(lcov, "x").is_ok());
    }

    #[test]
    fn istanbul_summary() {
        let json = br#"{"total":{"lines":{"total":10,"covered":9,"pct":90},"branches":{"total":0,"covered":0,"pct":100}}}"#;
        let s = parse(json, "coverage-summary.json", CoverageFormat::Auto).expect("parses");
        assert_eq!((s.line, s.branch), (90.0, None));
    }

    #[test]
    fn cobertura_without_branches() {
        let xml = br#"<?xml version="1.0" ?><coverage line-rate="0.8" branch-rate="0" branches-valid="0"></coverage>"#;
        let s = parse(xml, "c.xml", CoverageFormat::Auto).expect("parses");
        assert!((s.line - 80.0).abs() < 1e-9);
        assert_eq!(s.branch, None);
    }

    /// Issue 16: these scored 100 % and passed any threshold.
    #[test]
    fn reports_of_nothing_say_they_measured_nothing() {
        for (bytes, format) in [
            (&b"TN:\nSF:a.py\nLF:0\nLH:0\nend_of_record\n"[..], "LCOV"),
            (
                br#"{"totals":{"covered_lines":0,"num_statements":0,"percent_covered":100.0,"percent_statements_covered":100.0}}"#,
                "coverage.py JSON",
            ),
            (
                br#"{"total":{"lines":{"total":0,"covered":0,"skipped":0,"pct":"Unknown"}}}"#,
                "Istanbul JSON",
            ),
            (
                br#"<coverage line-rate="1" lines-valid="0" lines-covered="0"/>"#,
                "Cobertura XML",
            ),
            (br#"<coverage line-rate="1" lines-valid="0"/>"#, "Cobertura XML"),
        ] {
            let s = parse(bytes, "cov", CoverageFormat::Auto)
                .unwrap_or_else(|e| panic!("{format}: {e}"));
            assert_eq!((s.lines, s.format), (Some(0), format));
            assert_eq!(s.line, 0.0, "{format}");
        }
    }

    #[test]
    fn cobertura_counts_win_and_a_contradicting_line_rate_is_refused() {
        // coverage.py rounds the rate to 4 decimals: 5 of 6 lines is 0.8333.
        let ok = parse_cobertura(
            br#"<coverage line-rate="0.8333" lines-valid="6" lines-covered="5"/>"#,
            "c.xml",
        )
        .expect("consistent");
        assert!((ok.line - 500.0 / 6.0).abs() < 1e-9);
        assert_eq!(ok.lines, Some(6));
        let err = parse_cobertura(
            br#"<coverage line-rate="1" lines-valid="100" lines-covered="10"/>"#,
            "c.xml",
        )
        .expect_err("contradiction")
        .to_string();
        assert!(
            err.contains("line-rate=\"1\" contradicts lines-covered=\"10\""),
            "{err}"
        );
        let rate_only = parse_cobertura(br#"<coverage line-rate="0.9"/>"#, "c.xml").expect("ok");
        assert_eq!(rate_only.lines, None);
    }

    #[test]
    fn malformed_coverage_reports() {
        for (bytes, needle) in [
            (&b"<report/>"[..], "root element is <report>"),
            (b"<coverage branch-rate=\"0.5\"/>", "no line-rate"),
            (b"<coverage line-rate=\"80\"/>", "outside 0"),
            (b"<coverage line-rate=\"x\"/>", "not a number"),
            (b"{\"meta\":{}}", "neither `totals`"),
            (b"{\"totals\":", "not valid JSON"),
            (b"hello world", "not an LCOV record"),
            (b"SF:a\nLF:two\n", "not a count"),
            (b"SF:a\nend_of_record\n", "no LF/LH"),
            (b"SF:a\nLF:1\nLH:5\n", "5 lines hit out of 1"),
        ] {
            let msg = parse(bytes, "cov", CoverageFormat::Auto)
                .expect_err("malformed")
                .to_string();
            assert!(msg.contains("report cov: "), "{msg}");
            assert!(msg.contains(needle), "{msg} should mention {needle}");
        }
    }
}
