//! `.github/deployer.yml`: the configuration every deployer command reads.
//!
//! [`load`] reads, parses and validates a file; [`parse`] does the same for text.
//! Every error names the file, the line and column, the field path
//! (`services.api.migration.command`), what is wrong and how to fix it, and classifies
//! as [`deployer_core::ErrorKind::BadInput`] (exit 2).
//!
//! The JSON Schema for editors is generated from these types ([`json_schema`]) and
//! committed at `schema/deployer.schema.json`; the crate README is the reference.

use std::path::Path;

use serde::de::IgnoredAny;

mod depth;
mod diagnose;
mod error;
pub mod gates;
mod locate;
mod model;
mod unique;
mod validate;

pub use error::{ConfigError, Problem, ProblemKind};
pub use locate::{FieldPath, Seg};
pub use model::*;

/// The deepest nesting of mappings and lists a configuration may have; deeper documents
/// are refused before parsing (the YAML scanner is quadratic in nesting depth).
pub const MAX_DEPTH: usize = depth::MAX_DEPTH;

/// At most this many validation problems are reported (each is located by a walk of the
/// document, so thousands would take minutes); a last entry counts the rest.
pub const MAX_PROBLEMS: usize = 20;

/// Default location of the configuration file, relative to the repository root.
pub const DEFAULT_PATH: &str = ".github/deployer.yml";

/// Reads, parses and validates the configuration file at `path`: a regular file of at
/// most [`deployer_core::files::limit::CONFIG`] bytes (a FIFO, device or directory is
/// refused without blocking), nested at most [`MAX_DEPTH`] levels.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let limit = deployer_core::files::limit::CONFIG;
    let text = match deployer_core::files::read_text_limited(path, "deployer.yml", limit) {
        Ok(text) => text,
        Err(e) if e.io_kind() == Some(std::io::ErrorKind::NotFound) => {
            return Err(ConfigError::NotFound {
                path: path.to_owned(),
            });
        }
        Err(e) => {
            return Err(ConfigError::Read {
                path: path.to_owned(),
                source: e.into(),
            });
        }
    };
    parse(&text, &path.display().to_string())
}

/// Parses and validates configuration `text`; `origin` (usually the file path) prefixes
/// every error message.
pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
    let invalid = |problem: Problem| ConfigError::Invalid {
        origin: origin.to_owned(),
        problems: vec![problem],
    };
    if is_blank(text) {
        return Err(ConfigError::Empty {
            origin: origin.to_owned(),
        });
    }

    // Pass 0: nesting depth, before the parser spends quadratic time on it.
    if let Err(deep) = depth::check(text) {
        return Err(invalid(diagnose::too_deep(deep.line, text)));
    }

    // Pass 1: YAML only, so syntax errors are told apart from type errors.
    if let Err(err) = yaml_serde::from_str::<IgnoredAny>(text) {
        if err.to_string().starts_with("EOF while parsing") {
            return Err(ConfigError::Empty {
                origin: origin.to_owned(),
            });
        }
        return Err(invalid(diagnose::syntax(&err, text)));
    }

    // Pass 2: the configuration types, tracking the field path.
    let deserializer = yaml_serde::Deserializer::from_str(text);
    let mut config: Config = match serde_path_to_error::deserialize(deserializer) {
        Ok(config) => config,
        Err(err) => {
            let problem = diagnose::typed(&err, text);
            if problem.path == "." && problem.message.contains("found unit value") {
                return Err(ConfigError::Empty {
                    origin: origin.to_owned(),
                });
            }
            return Err(invalid(problem));
        }
    };

    // Defaults that depend on the service key.
    for (name, service) in &mut config.services {
        if service.containers.is_empty() {
            service.containers.push(name.clone());
        }
    }

    // Pass 3: checks beyond types.
    let findings = validate::validate(&config);
    if !findings.is_empty() {
        let more = findings.len().saturating_sub(MAX_PROBLEMS);
        let mut problems: Vec<Problem> = findings
            .into_iter()
            .take(MAX_PROBLEMS)
            .map(|finding| {
                let position = locate::locate(text, &finding.path, finding.target);
                Problem {
                    kind: ProblemKind::InvalidValue,
                    path: finding.path.to_string(),
                    line: position.map(|p| p.0),
                    column: position.map(|p| p.1),
                    message: finding.message,
                    hint: Some(finding.hint),
                }
            })
            .collect();
        if more > 0 {
            problems.push(diagnose::more_problems(more));
        }
        return Err(ConfigError::Invalid {
            origin: origin.to_owned(),
            problems,
        });
    }
    Ok(config)
}

/// Only blanks, comments and document markers.
fn is_blank(text: &str) -> bool {
    text.lines().all(|line| {
        let t = line.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    })
}

/// The JSON Schema of `deployer.yml`, as committed at `schema/deployer.schema.json`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Config);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
