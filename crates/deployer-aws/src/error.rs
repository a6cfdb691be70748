//! One error type for the AWS layer; every variant reads as "what happened, why, what to do".

use deployer_core::{Classify, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Flags, config or a referenced AWS resource are unusable (exit 2).
    #[error("{0}")]
    BadInput(String),
    /// The operation ran and failed (exit 1).
    #[error("{0}")]
    Failed(String),
    /// An AWS call failed after retries.
    #[error("AWS {operation} failed: {message}")]
    Aws {
        operation: &'static str,
        message: String,
    },
    /// A one-off task finished with this exit code (run-migration exits with it).
    #[error("{message}")]
    ExitCode { code: u8, message: String },
}

impl Error {
    pub fn aws<E>(operation: &'static str, err: E) -> Self
    where
        E: std::error::Error + 'static,
    {
        let message = aws_smithy_types::error::display::DisplayErrorContext(&err).to_string();
        Error::Aws {
            operation,
            message: deployer_core::mask::redact(&message),
        }
    }

    /// The process exit code this error should produce.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::ExitCode { code, .. } => *code,
            other => other.kind().code(),
        }
    }
}

impl Classify for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::BadInput(_) => ErrorKind::BadInput,
            _ => ErrorKind::Failed,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
