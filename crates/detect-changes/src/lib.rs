//! `detect-changes`: Decide which services changed in a push, pull request or merge group.

use deployer_core::cli::CommonArgs;
use deployer_core::{Classify, ErrorKind, Runtime};

/// Decide which services changed in a push, pull request or merge group.
#[derive(Debug, clap::Parser)]
#[command(name = "detect-changes", version, about = "Decide which services changed in a push, pull request or merge group")]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("detect-changes is not implemented yet; nothing was changed")]
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
