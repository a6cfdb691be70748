//! `rollback`: Roll an ECS service back to its last successful deployment or a named target.

use deployer_core::cli::CommonArgs;
use deployer_core::{Classify, ErrorKind, Runtime};

/// Roll an ECS service back to its last successful deployment or a named target.
#[derive(Debug, clap::Parser)]
#[command(name = "rollback", version, about = "Roll an ECS service back to its last successful deployment or a named target")]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("rollback is not implemented yet; nothing was changed")]
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
