//! Errors a user can act on: every problem names the file, the line and column, the
//! field path, what is wrong and how to fix it.

use std::fmt;
use std::path::PathBuf;

use deployer_core::{Classify, ErrorKind};

/// What sort of problem a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The text is not valid YAML.
    Syntax,
    /// A key that is not allowed at that place.
    UnknownKey,
    /// A value of the wrong type (a string where a list is expected, ...).
    WrongType,
    /// A required field is absent.
    MissingField,
    /// The same key twice in one mapping.
    DuplicateKey,
    /// The value has the right type but is not acceptable (bad ARN, bad name, ...).
    InvalidValue,
}

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// Field path such as `services.api.migration.command`; `.` is the top level. For
    /// syntax errors it is the nearest enclosing key found by indentation.
    pub path: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Problem {
    /// `file:line:column: `path`: message. hint` — the form used in every error.
    pub fn render(&self, origin: &str) -> String {
        let mut out = String::from(origin);
        if let Some(line) = self.line {
            out.push_str(&format!(":{line}"));
            if let Some(column) = self.column {
                out.push_str(&format!(":{column}"));
            }
        }
        let field = if self.path == "." || self.path.is_empty() {
            "(top level)".to_owned()
        } else {
            format!("`{}`", self.path)
        };
        match self.kind {
            ProblemKind::Syntax => out.push_str(&format!(": invalid YAML near field {field}")),
            _ => out.push_str(&format!(": field {field}")),
        }
        out.push_str(": ");
        out.push_str(&self.message);
        if let Some(hint) = &self.hint {
            out.push_str(". ");
            out.push_str(hint);
        }
        out
    }
}

/// Why a configuration could not be loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file does not exist.
    #[error(
        "configuration file `{}` not found. Create it (see the deployer-config README), or \
         pass the right path with `--config <path>` (environment variable DEPLOYER_CONFIG)",
        path.display()
    )]
    NotFound { path: PathBuf },

    /// The file exists but cannot be read.
    #[error(
        "cannot read configuration file `{}`: {source}. Check the file, or pass another \
         path with `--config <path>` (environment variable DEPLOYER_CONFIG)",
        path.display()
    )]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file has no content (only blanks or comments).
    #[error(
        "{origin}:1: the configuration is empty. It needs at least a `services:` mapping, \
         e.g.\n  services:\n    api:\n      paths: [\"services/api/**\"]"
    )]
    Empty { origin: String },

    /// The file has syntax, type or validation problems.
    #[error("{}", render_problems(origin, problems))]
    Invalid {
        origin: String,
        problems: Vec<Problem>,
    },

    /// A command asked for a service the configuration does not define.
    #[error(
        "unknown service `{name}`. {}Services defined in the configuration: {}",
        suggest_phrase(name, known),
        list_or_none(known)
    )]
    UnknownService { name: String, known: Vec<String> },

    /// A command asked for an environment the configuration does not define.
    #[error(
        "unknown environment `{name}`. {}Environments defined in the configuration: {}",
        suggest_phrase(name, known),
        list_or_none(known)
    )]
    UnknownEnvironment { name: String, known: Vec<String> },
}

impl ConfigError {
    /// The individual problems (empty for errors that are not about the file's content).
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }

    /// The file the error is about, as given to `load`/`parse`.
    pub fn origin(&self) -> Option<String> {
        match self {
            ConfigError::NotFound { path } | ConfigError::Read { path, .. } => {
                Some(path.display().to_string())
            }
            ConfigError::Empty { origin } | ConfigError::Invalid { origin, .. } => {
                Some(origin.clone())
            }
            _ => None,
        }
    }
}

impl Classify for ConfigError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::BadInput
    }
}

fn render_problems(origin: &str, problems: &[Problem]) -> String {
    match problems {
        [] => format!("{origin}: invalid configuration"),
        [one] => one.render(origin),
        many => {
            let mut out = format!("{} problems in {origin}:", many.len());
            for p in many {
                out.push_str("\n  - ");
                out.push_str(&p.render(origin));
            }
            out
        }
    }
}

fn list_or_none(known: &[String]) -> String {
    if known.is_empty() {
        "none".to_owned()
    } else {
        known
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn suggest_phrase(name: &str, known: &[String]) -> String {
    match crate::diagnose::closest(name, known.iter().map(String::as_str)) {
        Some(best) => format!("Did you mean `{best}`? "),
        None => String::new(),
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            ProblemKind::Syntax => "syntax",
            ProblemKind::UnknownKey => "unknown key",
            ProblemKind::WrongType => "wrong type",
            ProblemKind::MissingField => "missing field",
            ProblemKind::DuplicateKey => "duplicate key",
            ProblemKind::InvalidValue => "invalid value",
        })
    }
}
