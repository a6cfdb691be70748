//! JUnit XML: `<testsuites>` or a single `<testsuite>` root (pytest `--junitxml`, Maven
//! Surefire, Jest, cargo-nextest, go-junit-report...).
//!
//! Test cases are counted one by one (`<failure>`, `<error>`, `<skipped>` children), so
//! nested suites are not double-counted. A report with suites but no `<testcase>`
//! elements falls back to the `tests`/`failures`/`errors`/`skipped` attributes of the
//! outermost suites.

use quick_xml::Reader;
use quick_xml::events::Event;
use serde::Serialize;

use super::{attr, num_attr, xml_attributes};
use crate::ReportError;
use crate::error::text;

const FORMAT: &str = "JUnit XML";
/// How many failing test names a summary keeps.
const KEEP_NAMES: usize = 10;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TestSummary {
    pub tests: u64,
    pub failures: u64,
    pub errors: u64,
    pub skipped: u64,
    /// `classname.name` of the first failing or erroring test cases.
    pub failed_names: Vec<String>,
}

impl TestSummary {
    pub fn passed(&self) -> u64 {
        self.tests.saturating_sub(
            self.failures
                .saturating_add(self.errors)
                .saturating_add(self.skipped),
        )
    }

    /// Adds another report's counts (several `--junit` files make one gate).
    pub fn merge(&mut self, other: &TestSummary) {
        self.tests = self.tests.saturating_add(other.tests);
        self.failures = self.failures.saturating_add(other.failures);
        self.errors = self.errors.saturating_add(other.errors);
        self.skipped = self.skipped.saturating_add(other.skipped);
        for name in &other.failed_names {
            if self.failed_names.len() < KEEP_NAMES {
                self.failed_names.push(name.clone());
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum CaseState {
    Passed,
    Failure,
    Error,
    Skipped,
}

pub fn parse(bytes: &[u8], origin: &str) -> Result<TestSummary, ReportError> {
    let text = text(bytes, origin, FORMAT)?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let err = |problem: String| ReportError::new(origin, FORMAT, problem);

    let mut summary = TestSummary::default();
    let mut attr_totals = TestSummary::default();
    let mut saw_root = false;
    let mut suite_depth = 0usize;
    // The test case being read: its name and what its children said so far.
    let mut case: Option<(String, CaseState)> = None;
    let mut cases = 0u64;

    loop {
        let event = reader.read_event().map_err(|e| {
            err(format!(
                "malformed XML near byte {}: {e}",
                reader.buffer_position()
            ))
        })?;
        let (e, empty) = match &event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                match e.local_name().as_ref() {
                    b"testsuite" => suite_depth = suite_depth.saturating_sub(1),
                    b"testcase" => {
                        if let Some((name, state)) = case.take() {
                            record(&mut summary, name, state);
                        }
                    }
                    _ => {}
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let local = e.local_name();
        let element = String::from_utf8_lossy(local.as_ref()).into_owned();
        if !saw_root {
            if element != "testsuites" && element != "testsuite" {
                return Err(err(format!(
                    "the root element is <{element}>, expected <testsuites> or <testsuite>; is this a JUnit XML report?"
                )));
            }
            saw_root = true;
        }
        match element.as_str() {
            "testsuite" => {
                if suite_depth == 0 {
                    let attrs = xml_attributes(e, origin, FORMAT)?;
                    let count = |n: &str| {
                        num_attr(&attrs, n, "testsuite", origin, FORMAT)
                            .map(|v| v.unwrap_or(0.0).max(0.0) as u64)
                    };
                    let t = &mut attr_totals;
                    t.tests = t.tests.saturating_add(count("tests")?);
                    t.failures = t.failures.saturating_add(count("failures")?);
                    t.errors = t.errors.saturating_add(count("errors")?);
                    t.skipped = t
                        .skipped
                        .saturating_add(count("skipped")?)
                        .saturating_add(count("disabled")?);
                }
                if !empty {
                    suite_depth += 1;
                }
            }
            "testcase" => {
                let attrs = xml_attributes(e, origin, FORMAT)?;
                let name = attr(&attrs, "name").unwrap_or("(unnamed)");
                let name = match attr(&attrs, "classname").filter(|c| !c.is_empty()) {
                    Some(class) => format!("{class}.{name}"),
                    None => name.to_string(),
                };
                cases += 1;
                if empty {
                    record(&mut summary, name, CaseState::Passed);
                } else {
                    case = Some((name, CaseState::Passed));
                }
            }
            "failure" | "error" | "skipped" => {
                if let Some((_, state)) = case.as_mut() {
                    let new = match element.as_str() {
                        "failure" => CaseState::Failure,
                        "error" => CaseState::Error,
                        _ => CaseState::Skipped,
                    };
                    // An error outranks a failure, which outranks a skip.
                    let rank = |s: CaseState| match s {
                        CaseState::Passed => 0,
                        CaseState::Skipped => 1,
                        CaseState::Failure => 2,
                        CaseState::Error => 3,
                    };
                    if rank(new) > rank(*state) {
                        *state = new;
                    }
                }
            }
            _ => {}
        }
    }
    if !saw_root {
        return Err(err(
            "contains no XML elements; expected <testsuites> or <testsuite>".into(),
        ));
    }
    if case.is_some() {
        return Err(err("ends inside a <testcase>: the file is truncated".into()));
    }
    if cases == 0 {
        return Ok(attr_totals);
    }
    Ok(summary)
}

fn record(summary: &mut TestSummary, name: String, state: CaseState) {
    summary.tests += 1;
    match state {
        CaseState::Passed => {}
        CaseState::Skipped => summary.skipped += 1,
        CaseState::Failure | CaseState::Error => {
            if state == CaseState::Failure {
                summary.failures += 1;
            } else {
                summary.errors += 1;
            }
            if summary.failed_names.len() < KEEP_NAMES {
                summary.failed_names.push(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_testsuite_root_with_error_and_skip() {
        let xml = br#"<?xml version="1.0"?>
<testsuite name="s" tests="4">
  <testcase classname="a.B" name="ok"/>
  <testcase classname="a.B" name="bad"><failure message="boom">trace</failure></testcase>
  <testcase name="broken"><error message="x"/></testcase>
  <testcase name="later"><skipped/></testcase>
</testsuite>"#;
        let s = parse(xml, "t.xml").expect("parses");
        assert_eq!((s.tests, s.failures, s.errors, s.skipped), (4, 1, 1, 1));
        assert_eq!(
            s.failed_names,
            vec!["a.B.bad".to_string(), "broken".to_string()]
        );
        assert_eq!(s.passed(), 1);
    }

    #[test]
    fn nested_suites_are_not_double_counted() {
        let xml = br#"<testsuites tests="2"><testsuite name="outer" tests="2"><testsuite name="inner" tests="2">
            <testcase name="a"/><testcase name="b"/></testsuite></testsuite></testsuites>"#;
        let s = parse(xml, "t.xml").expect("parses");
        assert_eq!(s.tests, 2);
    }

    #[test]
    fn summary_only_reports_use_suite_attributes() {
        let xml = br#"<testsuites><testsuite tests="5" failures="1" errors="0" skipped="2"/><testsuite tests="3" failures="0" errors="1"/></testsuites>"#;
        let s = parse(xml, "t.xml").expect("parses");
        assert_eq!((s.tests, s.failures, s.errors, s.skipped), (8, 1, 1, 2));
    }

    #[test]
    fn absurd_counts_saturate_instead_of_overflowing() {
        let xml = br#"<testsuites><testsuite tests="1e30" failures="1e30" skipped="1e30" disabled="1e30"/><testsuite tests="1e30"/></testsuites>"#;
        let s = parse(xml, "t.xml").expect("parses");
        assert_eq!(s.tests, u64::MAX);
        assert_eq!(s.passed(), 0);
    }

    #[test]
    fn malformed_reports_are_errors_that_name_the_file() {
        for (bytes, needle) in [
            (&b""[..], "empty"),
            (b"<html><body/></html>", "root element is <html>"),
            (b"<testsuite><testcase name=\"a\">", "truncated"),
            (
                b"<testsuite><testcase name=\"a\"></testsuite>",
                "malformed XML",
            ),
            (b"<testsuite tests=\"many\"/>", "tests is not a number"),
            (b"\xff\xfe<", "not UTF-8"),
            (b"just text", "no XML elements"),
        ] {
            let e = parse(bytes, "reports/junit.xml").expect_err("malformed");
            let msg = e.to_string();
            assert!(
                msg.starts_with("JUnit XML report reports/junit.xml: "),
                "{msg}"
            );
            assert!(msg.contains(needle), "{msg} should mention {needle}");
        }
    }
}
