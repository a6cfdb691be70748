//! `ecs-deploy`: Deploy new images to ECS services and wait for a verdict you can trust.

use deployer_core::cli::CommonArgs;
use deployer_core::{Classify, ErrorKind, Runtime};

/// Deploy new images to ECS services and wait for a verdict you can trust.
#[derive(Debug, clap::Parser)]
#[command(name = "ecs-deploy", version, about = "Deploy new images to ECS services and wait for a verdict you can trust")]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("ecs-deploy is not implemented yet; nothing was changed")]
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
