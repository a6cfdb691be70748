//! Shared ground for every deployer command.
//!
//! * [`runtime`] speaks the GitHub Actions runtime protocol (outputs, job summary,
//!   workflow commands) and falls back to plain text and `--json` outside Actions.
//! * [`mask`] keeps the list of secrets and redacts them from everything we print.
//! * [`exit`] maps error kinds to the exit codes every binary promises.
//! * [`event`] parses the webhook payload at `$GITHUB_EVENT_PATH`.
//! * [`markdown`] builds the tables used in job summaries.
//! * [`files`] reads files named from outside with a type check and a size limit.

pub mod cli;
pub mod event;
pub mod exit;
pub mod files;
pub mod markdown;
pub mod mask;
pub mod runtime;

pub use exit::{Classify, ErrorKind, exit_code_for};
pub use runtime::Runtime;
