//! Load-test summaries: k6 (`k6 run --summary-export`, and the `data` object that
//! `handleSummary` receives, written with `JSON.stringify`) and Locust (`--csv` prefix
//! `_stats.csv`, the `Aggregated` row).

use serde::Serialize;
use serde_json::Value;

use crate::ReportError;
use crate::error::text;

/// What a performance gate compares. Times are milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerfSummary {
    pub requests: u64,
    /// Requests that failed, when the tool counts them (k6 reports a rate).
    pub failures: Option<u64>,
    /// Percent of requests that succeeded (0–100).
    pub success_rate: f64,
    pub average_ms: f64,
    pub p95_ms: Option<f64>,
    /// "k6" or "Locust".
    pub tool: &'static str,
}

pub fn parse_k6(bytes: &[u8], origin: &str) -> Result<PerfSummary, ReportError> {
    const F: &str = "k6 summary";
    let text = text(bytes, origin, F)?;
    let err = |p: String| ReportError::new(origin, F, p);
    let doc: Value =
        serde_json::from_str(text).map_err(|e| err(format!("is not valid JSON: {e}")))?;
    let metrics = doc
        .get("metrics")
        .and_then(Value::as_object)
        .ok_or_else(|| err("has no `metrics` object; write it with `k6 run --summary-export FILE` or JSON.stringify(data) in handleSummary".into()))?;
    // --summary-export puts the numbers on the metric; handleSummary's data nests them under `values`.
    let metric = |name: &str| metrics.get(name).map(|m| m.get("values").unwrap_or(m));
    let number = |name: &str, keys: &[&str]| -> Option<f64> {
        let m = metric(name)?;
        keys.iter()
            .find_map(|k| m.get(*k).and_then(Value::as_f64))
            .filter(|v| v.is_finite())
    };
    let requests = number("http_reqs", &["count"]).ok_or_else(|| {
        err("metrics.http_reqs.count is missing: did the test make HTTP requests?".into())
    })?;
    let failed_rate = number("http_req_failed", &["rate", "value"]).ok_or_else(|| {
        err("metrics.http_req_failed has no rate/value (k6 ≥ 0.31 writes it)".into())
    })?;
    if !(0.0..=1.0).contains(&failed_rate) {
        return Err(err(format!(
            "http_req_failed rate {failed_rate} is outside 0–1"
        )));
    }
    let average_ms = number("http_req_duration", &["avg"])
        .ok_or_else(|| err("metrics.http_req_duration.avg is missing".into()))?;
    let p95_ms = number("http_req_duration", &["p(95)"]);
    // A mangled summary with negative numbers would pass any "at most N ms" gate.
    for (what, v) in [
        ("http_reqs.count", Some(requests)),
        ("http_req_duration.avg", Some(average_ms)),
        ("http_req_duration.p(95)", p95_ms),
    ] {
        if let Some(v) = v.filter(|v| *v < 0.0) {
            return Err(err(format!("metrics.{what} {v} is negative")));
        }
    }
    // The Rate metric's `passes` counts true values, i.e. failed requests.
    let failures = number("http_req_failed", &["passes"]).map(|v| v.max(0.0) as u64);
    Ok(PerfSummary {
        requests: requests.max(0.0) as u64,
        failures,
        success_rate: (1.0 - failed_rate) * 100.0,
        average_ms,
        p95_ms,
        tool: "k6",
    })
}

pub fn parse_locust(bytes: &[u8], origin: &str) -> Result<PerfSummary, ReportError> {
    const F: &str = "Locust stats CSV";
    let text = text(bytes, origin, F)?;
    let err = |p: String| ReportError::new(origin, F, p);
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = split_csv(lines.next().unwrap_or(""));
    let column = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    };
    let name_col = column(&["Name"]).ok_or_else(|| {
        err("has no Name column; pass the *_stats.csv file written by `locust --csv PREFIX`".into())
    })?;
    let requests_col = column(&["Request Count", "# requests"])
        .ok_or_else(|| err("has no `Request Count` column".into()))?;
    let failures_col = column(&["Failure Count", "# failures"])
        .ok_or_else(|| err("has no `Failure Count` column".into()))?;
    let average_col = column(&["Average Response Time", "Average response time"])
        .ok_or_else(|| err("has no `Average Response Time` column".into()))?;
    let p95_col = column(&["95%"]);
    let row = lines
        .map(split_csv)
        .find(|cells| {
            cells.get(name_col).is_some_and(|n| {
                n.eq_ignore_ascii_case("Aggregated") || n.eq_ignore_ascii_case("Total")
            })
        })
        .ok_or_else(|| err("has no `Aggregated` row".into()))?;
    let cell = |i: usize, what: &str| -> Result<f64, ReportError> {
        let raw = row.get(i).map(String::as_str).unwrap_or("");
        raw.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| err(format!("Aggregated row: {what} {raw:?} is not a number")))
    };
    let requests = cell(requests_col, "Request Count")? as u64;
    let failures = cell(failures_col, "Failure Count")? as u64;
    let average_ms = cell(average_col, "Average Response Time")?;
    let p95_ms = match p95_col {
        Some(i)
            if row
                .get(i)
                .is_some_and(|v| !v.trim().eq_ignore_ascii_case("N/A") && !v.trim().is_empty()) =>
        {
            Some(cell(i, "95%")?)
        }
        _ => None,
    };
    // Locust counts a failed request in both Request Count and Failure Count.
    let success_rate = if requests == 0 {
        0.0
    } else {
        requests.saturating_sub(failures) as f64 / requests as f64 * 100.0
    };
    Ok(PerfSummary {
        requests,
        failures: Some(failures),
        success_rate,
        average_ms,
        p95_ms,
        tool: "Locust",
    })
}

/// One CSV line (RFC 4180 quoting; Locust quotes names that contain commas).
fn split_csv(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        assert_eq!(
            split_csv(r#"GET,"/a,b ""x""",3"#),
            vec!["GET", "/a,b \"x\"", "3"]
        );
    }

    #[test]
    fn malformed_perf_reports() {
        for (bytes, needle) in [
            (&b"{}"[..], "no `metrics`"),
            (b"{\"metrics\":{}}", "http_reqs.count"),
            (
                b"{\"metrics\":{\"http_reqs\":{\"count\":3}}}",
                "http_req_failed",
            ),
            (
                b"{\"metrics\":{\"http_reqs\":{\"count\":3},\"http_req_failed\":{\"value\":2}}}",
                "outside 0",
            ),
            (
                b"{\"metrics\":{\"http_reqs\":{\"count\":3},\"http_req_failed\":{\"value\":0}}}",
                "avg is missing",
            ),
            (
                b"{\"metrics\":{\"http_reqs\":{\"count\":3},\"http_req_failed\":{\"value\":0},\"http_req_duration\":{\"avg\":-5}}}",
                "avg -5 is negative",
            ),
        ] {
            let msg = parse_k6(bytes, "k6.json")
                .expect_err("malformed")
                .to_string();
            assert!(msg.starts_with("k6 summary report k6.json: "), "{msg}");
            assert!(msg.contains(needle), "{msg} should mention {needle}");
        }
        for (bytes, needle) in [
            (&b"a,b\n1,2\n"[..], "no Name column"),
            (b"Type,Name,Request Count,Failure Count,Average Response Time\nGET,/,1,0,5\n", "no `Aggregated` row"),
            (b"Type,Name,Request Count,Failure Count,Average Response Time\n,Aggregated,lots,0,5\n", "Request Count \"lots\""),
        ] {
            let msg = parse_locust(bytes, "stats.csv").expect_err("malformed").to_string();
            assert!(msg.starts_with("Locust stats CSV report stats.csv: "), "{msg}");
            assert!(msg.contains(needle), "{msg} should mention {needle}");
        }
    }
}
