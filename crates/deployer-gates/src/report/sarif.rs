//! SARIF 2.1.0 (Bandit `-f sarif`, Semgrep, CodeQL, Trivy, cargo-audit via converters).
//!
//! A result's severity is, in order: the CVSS-like `properties.security-severity` of the
//! result or of its rule (GitHub code scanning's convention: ≥ 9 critical, ≥ 7 high,
//! ≥ 4 medium, > 0 low), else its `level` (or the rule's `defaultConfiguration.level`,
//! else SARIF's default `warning`): error → high, warning → medium, note → low,
//! none → note. Suppressed results are not counted.
//!
//! A log that measured nothing is recorded, not passed: no runs at all, or a run without a
//! `results` array. SARIF 2.1.0 §3.14.23 (`run.results`): results MAY be absent only when
//! the tool failed to start or failed to begin its analysis; "if the tool did not detect
//! any results, results SHALL be present and SHALL be empty"
//! (<https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>, TC discussion:
//! <http://lists.oasis-open.org/archives/sarif/201809/msg00049.html>). So an empty array is
//! a clean scan and an absent one is an unknown, which fails the gate. Likewise a run whose
//! `invocations[].executionSuccessful` is `false` (§3.20.14) did not finish its analysis.

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
    /// How many runs the log(s) held. 0: no tool's analysis is recorded.
    pub runs: u64,
    /// Runs that did not analyse (no `results` array, or execution not successful), each
    /// as a sentence naming the run and the tool. Any entry fails the gate.
    pub unmeasured: Vec<String>,
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
        self.runs = self.runs.saturating_add(other.runs);
        self.unmeasured.extend(other.unmeasured);
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
        summary.runs += 1;
        if let Some(why) = not_analysed(run) {
            summary
                .unmeasured
                .push(format!("{origin} runs[{r}] ({tool}) {why}"));
        }
        let Some(results) = run.get("results").filter(|v| !v.is_null()) else {
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

/// Why a run did not analyse, when it did not (see the module comment).
fn not_analysed(run: &Value) -> Option<&'static str> {
    let failed = run
        .get("invocations")
        .and_then(Value::as_array)
        .is_some_and(|inv| {
            inv.iter()
                .any(|i| i.get("executionSuccessful").and_then(Value::as_bool) == Some(false))
        });
    if failed {
        return Some(
            "reports executionSuccessful: false: the tool did not finish its analysis; see its invocation notifications",
        );
    }
    match run.get("results") {
        None | Some(Value::Null) => Some(
            "has no `results` array: per SARIF 2.1.0 the tool failed to start or to begin its analysis (a clean scan writes `\"results\": []`)",
        ),
        Some(_) => None,
    }
}

/// A `security-severity` score must be a CVSS-style number from 0.0 to 10.0 (GitHub code
/// scanning: <https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#reportingdescriptor-object>);
/// `"NaN"` compares false with every threshold and used to rank as a mere note.
fn score_in_range(score: f64, raw: &str) -> Result<f64, String> {
    if score.is_finite() && (0.0..=10.0).contains(&score) {
        Ok(score)
    } else {
        Err(format!(
            "properties.security-severity {raw} is not a score from 0.0 to 10.0"
        ))
    }
}

fn severity_of(result: &Value, rule: Option<&Value>) -> Result<Severity, String> {
    let score = |v: &Value| -> Result<Option<f64>, String> {
        match v.pointer("/properties/security-severity") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_f64()
                .map(|f| score_in_range(f, &n.to_string()))
                .transpose(),
            Some(Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("properties.security-severity {s:?} is not a number"))
                .and_then(|f| score_in_range(f, &format!("{s:?}")))
                .map(Some),
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

    fn log(runs: &str) -> Vec<u8> {
        format!(r#"{{"version":"2.1.0","runs":{runs}}}"#).into_bytes()
    }

    /// SARIF 2.1.0 §3.14.23: absent results = the tool did not analyse; empty = clean.
    #[test]
    fn runs_without_results_or_without_success_are_unmeasured() {
        let none = parse(&log("[]"), "s.sarif").expect("parses");
        assert_eq!((none.runs, none.unmeasured.len()), (0, 0));
        let clean = parse(
            &log(r#"[{"tool":{"driver":{"name":"bandit"}},"results":[]}]"#),
            "s.sarif",
        )
        .expect("parses");
        assert_eq!((clean.runs, clean.unmeasured.len()), (1, 0));
        for (runs, words) in [
            (
                r#"[{"tool":{"driver":{"name":"bandit"}}}]"#,
                "no `results` array",
            ),
            (
                r#"[{"tool":{"driver":{"name":"bandit"}},"results":null}]"#,
                "no `results` array",
            ),
            (
                r#"[{"tool":{"driver":{"name":"bandit"}},"invocations":[{"executionSuccessful":false}],"results":[]}]"#,
                "executionSuccessful: false",
            ),
        ] {
            let s = parse(&log(runs), "s.sarif").expect("parses");
            assert_eq!(s.runs, 1);
            assert_eq!(s.unmeasured.len(), 1, "{runs}");
            assert!(
                s.unmeasured[0].contains("s.sarif runs[0] (bandit)")
                    && s.unmeasured[0].contains(words),
                "{:?}",
                s.unmeasured
            );
        }
    }

    #[test]
    fn security_severity_outside_0_to_10_is_refused() {
        for score in [
            r#""NaN""#,
            r#""inf""#,
            r#""-Infinity""#,
            r#""11""#,
            "-1",
            "10.5",
        ] {
            let runs = format!(
                r#"[{{"results":[{{"ruleId":"R","properties":{{"security-severity":{score}}}}}]}}]"#
            );
            let err = parse(&log(&runs), "s.sarif").expect_err(score).to_string();
            assert!(
                err.contains("not a score from 0.0 to 10.0"),
                "{score}: {err}"
            );
        }
        let runs = r#"[{"results":[{"ruleId":"R","properties":{"security-severity":"10.0"}}]}]"#;
        assert_eq!(
            parse(&log(runs), "s.sarif")
                .expect("10 is critical")
                .findings[0]
                .severity,
            Severity::Critical
        );
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
