//! `semver-release`: Compute the next semantic version from Conventional Commits, tag and release.

use deployer_core::cli::CommonArgs;
use deployer_core::{Classify, ErrorKind, Runtime};

/// Compute the next semantic version from Conventional Commits, tag and release.
#[derive(Debug, clap::Parser)]
#[command(name = "semver-release", version, about = "Compute the next semantic version from Conventional Commits, tag and release")]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("semver-release is not implemented yet; nothing was changed")]
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
