//! The AWS side of deployer.
//!
//! * `credentials`: OIDC web-identity role assumption (with an optional second hop),
//!   the default chain otherwise, and endpoint overrides for the local stand-ins.
//! * `taskdef`: lossless render of a task definition with new images/env/tags.
//! * `ecs`: the narrow seam over the ECS API the engines use.
//! * `wait`: the pure verdict function and the polling loop.
//! * `deploy`: render → register → UpdateService → wait → rollback on failure.
//! * `rollback`: finding the last successful deployment and going back to it.
//! * `migration`: one-off tasks with live awslogs streaming.
//! * `logs`: CloudWatch Logs reading shared by `wait` and `migration`.

pub mod budget;
pub mod cli;
pub mod credentials;
pub mod deploy;
pub mod ecs;
pub mod error;
pub mod logs;
pub mod migration;
pub mod probe;
pub mod rollback;
pub mod states;
pub mod taskdef;
#[doc(hidden)]
#[cfg(feature = "testing")]
pub mod testing;
pub mod wait;

pub use credentials::{AwsContext, LoadOptions};
pub use error::{Error, Result};
