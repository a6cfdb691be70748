//! `gate-check`: Check promotion gates: tests, coverage, scans, performance, health, approvals.

use deployer_core::cli::CommonArgs;
use deployer_core::{Classify, ErrorKind, Runtime};

/// Check promotion gates: tests, coverage, scans, performance, health, approvals.
#[derive(Debug, clap::Parser)]
#[command(name = "gate-check", version, about = "Check promotion gates: tests, coverage, scans, performance, health, approvals")]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("gate-check is not implemented yet; nothing was changed")]
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
