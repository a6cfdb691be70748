//! What every binary's `main` shares: common flags, logging, and turning a result into
//! an exit code with a message the user can act on.

use std::fmt::Display;
use std::process::ExitCode;

use crate::runtime::{Annotation, Runtime};
use crate::{Classify, ErrorKind};

/// Flags every command accepts.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Print the outputs as one JSON object on stdout (human text moves to stderr).
    #[arg(long, env = "DEPLOYER_JSON", global = true)]
    pub json: bool,
}

/// Logs go to stderr; `DEPLOYER_LOG=debug` (tracing filter syntax) shows more.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DEPLOYER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Reports `result` and returns the process exit code: 0, 1 (failed) or 2 (bad input).
pub fn conclude<E: Classify + Display>(command: &str, runtime: &mut Runtime, result: Result<(), E>) -> ExitCode {
    let code = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let kind = err.kind();
            let title = match kind {
                ErrorKind::Failed => format!("{command} failed"),
                ErrorKind::BadInput => format!("{command}: bad input"),
            };
            let message = err.to_string();
            runtime.error(&message, &Annotation::titled(title.clone()));
            let _ = runtime.summary(&format!("### ❌ {title}\n\n{}\n", crate::markdown::code_block("text", &message)));
            crate::exit_code_for(kind)
        }
    };
    runtime.finish();
    code
}
