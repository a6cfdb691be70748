//! Errors: a report that cannot be read or understood, or a gate that is configured wrongly.
//! Both are bad input (exit 2); a gate that is *not met* is a [`crate::GateResult`], not an error.

use std::path::{Path, PathBuf};

use deployer_core::{Classify, ErrorKind};

/// A report file that could not be read or does not have the documented shape.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{format} report {origin}: {problem}")]
pub struct ReportError {
    /// The file (or other origin) the bytes came from.
    pub origin: String,
    /// "JUnit XML", "Cobertura XML", "SARIF", ...
    pub format: &'static str,
    /// What is wrong, in words a user can act on.
    pub problem: String,
}

impl ReportError {
    pub fn new(origin: &str, format: &'static str, problem: impl Into<String>) -> Self {
        ReportError {
            origin: origin.to_string(),
            format,
            problem: problem.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(
        "cannot read {what} {path}: {source}; check the path (it is relative to the working directory) and that the step producing it ran"
    )]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
}

impl GateError {
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        GateError::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl Classify for ReportError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::BadInput
    }
}

impl Classify for GateError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::BadInput
    }
}

/// Reads a report file (a regular file of at most `files::limit::REPORT`); the error names
/// the file.
pub fn read_report(path: &Path, what: &'static str) -> Result<Vec<u8>, GateError> {
    deployer_core::files::read_limited(path, what, deployer_core::files::limit::REPORT).map_err(
        |e| GateError::Read {
            what,
            path: path.to_path_buf(),
            source: e.into(),
        },
    )
}

/// Bytes to text: UTF-8 (a leading byte-order mark is dropped), otherwise a report error.
pub(crate) fn text<'a>(
    bytes: &'a [u8],
    origin: &str,
    format: &'static str,
) -> Result<&'a str, ReportError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ReportError::new(origin, format, format!("is not UTF-8 text ({e})")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(ReportError::new(
            origin,
            format,
            "is empty; did the tool that writes it run and finish?",
        ));
    }
    Ok(text)
}
