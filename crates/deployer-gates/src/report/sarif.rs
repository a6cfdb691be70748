//! SARIF 2.1.0 (Bandit `-f sarif`, Semgrep, CodeQL, Trivy, cargo-audit via converters).
//!
//! A result's severity is, in order: the CVSS-like `properties.security-severity` of the
//! result or of its rule (GitHub code scanning's convention: ≥ 9 critical, ≥ 7 high,
//! ≥ 4 medium, > 0 low), else its `level` (or the rule's `defaultConfiguration.level`,
//! else SARIF's default `warning`): error → high, warning → medium, note → low,
//! none → note. Suppressed results are not counted.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::ReportError;
use crate::error::text;

const FORMAT: &str = "SARIF";

/// The severity scale is the one `deployer.yml` uses (`fail-on:`); this module only maps
/// SARIF's scores and levels onto it.
pub use deployer_config::gates::Severity;

/// CVSS-style `security-severity` score → severity.
fn severity_from_score(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Note
    }
}

/// SARIF `level` → severity.
fn severity_from_level(level: &str) -> Option<Severity> {
    match level {
        "error" => Some(Severity::High),
        "warning" => Some(Severity::Medium),
        "note" => Some(Severity::Low),
        "none" => Some(Severity::Note),
        _ => None,
    }
}

/// One finding, reduced to what a summary shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    /// `path:line` of the first location, when given.
    pub location: Option<String>,
    /// The tool that reported it (`runs[].tool.driver.name`).
    pub tool: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SarifSummary {
    pub findings: Vec<Finding>,
    pub suppressed: u64,
}

impl SarifSummary {
    pub fn at_or_above(&self, severity: Severity) -> Vec<&Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity >= severity)
            .collect()
    }

    pub fn counts(&self) -> BTreeMap<Severity, u64> {
        let mut counts = BTreeMap::new();
        for f in &self.findings {
            *counts.entry(f.severity).or_insert(0) += 1;
        }
        counts
    }

    pub fn merge(&mut self, other: SarifSummary) {
        self.findings.extend(other.findings);
        self.suppressed += other.suppressed;
    }
}

pub fn parse(bytes: &[u8], origin: &str) -> Result<SarifSummary, ReportError> {
    let text = text(bytes, origin, FORMAT)?;
    let err = |p: String| ReportError::new(origin, FORMAT, p);
    let doc: Value =
        serde_json::from_str(text).map_err(|e| err(format!("is not valid JSON: {e}")))?;
    let version = doc.get("version").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("2.") {
        return Err(err(format!(
            "has version {version:?}; SARIF 2.1.0 is expected"
        )));
    }
    let runs = doc
        .get("runs")
        .and_then(Value::as_array)
        .ok_or_else(|| err("has no `runs` array".into()))?;
    let mut summary = SarifSummary::default();
    for (r, run) in runs.iter().enumerate() {
        let driver = run.pointer("/tool/driver");
        let tool = driver
            .and_then(|d| d.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("unknown tool")
            .to_string();
        let rules: &[Value] = driver
            .and_then(|d| d.get("rules"))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let Some(results) = run.get("results") else {
            continue;
        };
        let results = results
            .as_array()
            .ok_or_else(|| err(format!("runs[{r}].results is not an array")))?;
        for (i, result) in results.iter().enumerate() {
            if !result.is_object() {
                return Err(err(format!("runs[{r}].results[{i}] is not an object")));
            }
            if result
                .get("suppressions")
                .and_then(Value::as_array)
                .is_some_and(|s| !s.is_empty())
            {
                summary.suppressed += 1;
                continue;
            }
            let rule_id = result
                .get("ruleId")
                .and_then(Value::as_str)
                .or_else(|| result.pointer("/rule/id").and_then(Value::as_str));
            let rule_index = result
                .get("ruleIndex")
                .or_else(|| result.pointer("/rule/index"))
                .and_then(Value::as_u64)
                .and_then(|i| usize::try_from(i).ok());
            let rule = rule_index.and_then(|i| rules.get(i)).or_else(|| {
                rule_id.and_then(|id| {
                    rules
                        .iter()
                        .find(|rule| rule.get("id").and_then(Value::as_str) == Some(id))
                })
            });
            let severity = severity_of(result, rule)
                .map_err(|p| err(format!("runs[{r}].results[{i}]: {p}")))?;
            let message = result
                .pointer("/message/text")
                .or_else(|| result.pointer("/message/markdown"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            let location = result
                .pointer("/locations/0/physicalLocation")
                .and_then(|loc| {
                    let uri = loc
                        .pointer("/artifactLocation/uri")
                        .and_then(Value::as_str)?;
                    Some(
                        match loc.pointer("/region/startLine").and_then(Value::as_u64) {
                            Some(line) => format!("{uri}:{line}"),
                            None => uri.to_string(),
                        },
                    )
                });
            summary.findings.push(Finding {
                rule: rule_id
                    .or_else(|| rule.and_then(|r| r.get("id")).and_then(Value::as_str))
                    .unwrap_or("(no rule id)")
                    .to_string(),
                severity,
                message,
                location,
                tool: tool.clone(),
            });
        }
    }
    Ok(summary)
}

fn severity_of(result: &Value, rule: Option<&Value>) -> Result<Severity, String> {
    let score = |v: &Value| -> Result<Option<f64>, String> {
        match v.pointer("/properties/security-severity") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .map(Some)
                .map_err(|_| format!("properties.security-severity {s:?} is not a number")),
            Some(other) => Err(format!(
                "properties.security-severity {other} is not a number"
            )),
        }
    };
    if let Some(s) = score(result)? {
        return Ok(severity_from_score(s));
    }
    if let Some(s) = rule.map(score).transpose()?.flatten() {
        return Ok(severity_from_score(s));
    }
    let level = result
        .get("level")
        .and_then(Value::as_str)
        .or_else(|| {
            rule.and_then(|r| r.pointer("/defaultConfiguration/level"))
                .and_then(Value::as_str)
        })
        .unwrap_or("warning");
    severity_from_level(level)
        .ok_or_else(|| format!("level {level:?} is not one of none, note, warning, error"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_precedence() {
        let doc = br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t","rules":[
            {"id":"R1","properties":{"security-severity":"9.8"}},
            {"id":"R2","defaultConfiguration":{"level":"note"}},
            {"id":"R3"}]}},
          "results":[
            {"ruleId":"R1","level":"note","message":{"text":"cve"}},
            {"ruleId":"R2","message":{"text":"style"}},
            {"ruleId":"R3","message":{"text":"default level"}},
            {"ruleId":"R3","level":"error","properties":{"security-severity":"5.0"},"message":{"text":"own score"},
             "locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.py"},"region":{"startLine":3}}}]},
            {"ruleId":"R3","level":"error","suppressions":[{"kind":"inSource"}],"message":{"text":"accepted"}}]}]}"#;
        let s = parse(doc, "x.sarif").expect("parses");
        let sev: Vec<Severity> = s.findings.iter().map(|f| f.severity).collect();
        assert_eq!(
            sev,
            vec![
                Severity::Critical,
                Severity::Low,
                Severity::Medium,
                Severity::Medium
            ]
        );
        assert_eq!(s.suppressed, 1);
        assert_eq!(s.findings[3].location.as_deref(), Some("a.py:3"));
        assert_eq!(s.at_or_above(Severity::High).len(), 1);
    }

    #[test]
    fn severity_names_parse() {
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert_eq!("error".parse::<Severity>(), Ok(Severity::High));
        assert!("severe".parse::<Severity>().is_err());
    }

    #[test]
    fn malformed_sarif() {
        for (bytes, needle) in [
            (&b"{"[..], "not valid JSON"),
            (
                b"{\"version\":\"1.0.0\",\"runs\":[]}",
                "SARIF 2.1.0 is expected",
            ),
            (b"{\"version\":\"2.1.0\"}", "no `runs` array"),
            (
                b"{\"version\":\"2.1.0\",\"runs\":[{\"results\":{}}]}",
                "not an array",
            ),
            (
                b"{\"version\":\"2.1.0\",\"runs\":[{\"results\":[{\"level\":\"fatal\"}]}]}",
                "level \"fatal\"",
            ),
        ] {
            let msg = parse(bytes, "scan.sarif")
                .expect_err("malformed")
                .to_string();
            assert!(msg.starts_with("SARIF report scan.sarif: "), "{msg}");
            assert!(msg.contains(needle), "{msg} should mention {needle}");
        }
    }
}
