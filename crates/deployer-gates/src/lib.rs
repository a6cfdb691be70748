//! Promotion gates for deployer.
//!
//! Every gate is a pure function from measured values to a [`GateResult`]: the report
//! parsers in [`report`] turn the bytes of a JUnit, Cobertura, LCOV, coverage.py, SARIF,
//! k6 or Locust file into numbers, the checks in [`checks`] compare those numbers with a
//! threshold, and the result says what was measured, against what, and why it failed.
//!
//! Gates with side effects live in their own modules and are usable from other commands:
//! [`http::check_health`] (ecs-deploy's post-deploy health check), [`human`] (typed
//! confirmation, wait timer), [`freeze`] (change-freeze windows), [`emergency`] (bypass
//! with an audit trail) and [`environment`] (ECS / CloudFormation state behind the
//! [`environment::EnvironmentProbe`] seam that the AWS crate implements).

pub mod checks;
pub mod emergency;
pub mod environment;
pub mod error;
pub mod freeze;
pub mod gate;
pub mod http;
pub mod human;
pub mod report;

pub use error::{GateError, ReportError};
pub use gate::{GateResult, Outcome, summary_table};
