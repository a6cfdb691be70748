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

/// Parses the command line. Call first thing in `main`, before any thread starts.
///
/// A composite action maps every input through `env:`, so an input left empty arrives as
/// an empty `DEPLOYER_*` variable; clap would take it as a given-but-invalid value (an
/// empty number, path or bool). Empty means "not given", so those variables are dropped.
pub fn parse_args<A: clap::Parser>() -> A {
    for name in empty_deployer_variables(std::env::vars_os()) {
        // SAFETY: called at the start of `main`, before any other thread exists.
        unsafe { std::env::remove_var(name) };
    }
    A::parse()
}

fn empty_deployer_variables(
    vars: impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Vec<std::ffi::OsString> {
    vars.filter(|(name, value)| {
        value.is_empty() && name.to_str().is_some_and(|n| n.starts_with("DEPLOYER_"))
    })
    .map(|(name, _)| name)
    .collect()
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
pub fn conclude<E: Classify + Display>(
    command: &str,
    runtime: &mut Runtime,
    result: Result<(), E>,
) -> ExitCode {
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
            let _ = runtime.summary(&format!(
                "### ❌ {title}\n\n{}\n",
                crate::markdown::code_block("text", &message)
            ));
            crate::exit_code_for(kind)
        }
    };
    runtime.finish();
    code
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn only_empty_deployer_variables_are_dropped() {
        let vars = [
            ("DEPLOYER_JSON", ""),
            ("DEPLOYER_CLUSTER", "prod"),
            ("HOME", ""),
            ("DEPLOYER_TIMEOUT", ""),
        ]
        .into_iter()
        .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        assert_eq!(
            empty_deployer_variables(vars),
            vec![
                OsString::from("DEPLOYER_JSON"),
                OsString::from("DEPLOYER_TIMEOUT")
            ]
        );
    }
}
