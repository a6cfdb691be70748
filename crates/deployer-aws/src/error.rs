//! One error type for the AWS layer; every variant reads as "what happened, why, what to do".

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
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
    /// An SDK error of `operation`. An answer the SDK cannot read as the AWS API's (an HTML
    /// page from a proxy, a truncated body, a wrong AWS_ENDPOINT_URL) is bad input, like a bad
    /// flag, and is described by its status and first bytes instead of the SDK's raw dump.
    pub fn aws<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: std::error::Error + 'static,
    {
        match &err {
            SdkError::ResponseError(context) => {
                return Error::BadInput(not_an_aws_answer(operation, context.raw()));
            }
            // A success status whose body could not be read: AWS never answers that way.
            SdkError::ServiceError(context) if context.raw().status().is_success() => {
                return Error::BadInput(not_an_aws_answer(operation, context.raw()));
            }
            _ => {}
        }
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

/// "DescribeServices: the endpoint answered HTTP 200 with something that is not an AWS API
/// answer (`<html>…`)", plus what to check.
fn not_an_aws_answer(operation: &str, raw: &HttpResponse) -> String {
    let status = raw.status().as_u16();
    let start: String = raw
        .body()
        .bytes()
        .map(|b| String::from_utf8_lossy(&b[..b.len().min(60)]).into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let start = start.trim();
    let shown = if start.is_empty() {
        "an empty body".to_string()
    } else {
        format!("`{}`", deployer_core::mask::redact(start))
    };
    format!(
        "{operation}: the endpoint answered HTTP {status} with something that is not an AWS API \
         answer ({shown}); check AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>, the region and \
         any proxy between the runner and AWS"
    )
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
