//! Exit codes: 0 success, 1 the operation failed, 2 bad input or configuration.

use std::process::ExitCode;

/// What kind of failure an error is, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The operation ran and failed: deploy failed, gate not met, migration failed.
    Failed,
    /// The input (flags, config, event payload, server answer) was unusable.
    BadInput,
}

impl ErrorKind {
    pub fn code(self) -> u8 {
        match self {
            ErrorKind::Failed => 1,
            ErrorKind::BadInput => 2,
        }
    }
}

/// Implemented by every library error enum so binaries can pick the exit code.
pub trait Classify {
    fn kind(&self) -> ErrorKind;
}

pub fn exit_code_for(kind: ErrorKind) -> ExitCode {
    ExitCode::from(kind.code())
}
