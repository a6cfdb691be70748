//! `run-migration`: Run a database migration as a one-off ECS task and return its exit code.

use deployer_core::cli::CommonArgs;
use deployer_core::{Classify, ErrorKind, Runtime};

/// Run a database migration as a one-off ECS task and return its exit code.
#[derive(Debug, clap::Parser)]
#[command(name = "run-migration", version, about = "Run a database migration as a one-off ECS task and return its exit code")]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("run-migration is not implemented yet; nothing was changed")]
    NotImplemented,
}

impl Classify for Error {
    fn kind(&self) -> ErrorKind {
        ErrorKind::BadInput
    }
}

pub fn run(_args: &Args, _runtime: &mut Runtime) -> Result<(), Error> {
    Err(Error::NotImplemented)
}
