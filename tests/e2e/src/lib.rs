//! End-to-end harness: deployer's starter workflows (workflows-templates/) run under `act`
//! in host mode against local stand-ins — ecs-sim for ECS and CloudWatch Logs, the shared
//! moto server for STS, and loopback servers for the runner's OIDC token service, the
//! GitHub REST API and the services' health endpoints.
//!
//! Used by the integration tests (tests/templates.rs) and by `deployer-e2e demo`
//! (scripts/demo): one harness for both.

pub mod act;
pub mod demo;
pub mod servers;
pub mod world;

pub use act::{ActRun, Trigger};
pub use world::{Tools, World, WorldOptions};
