//! Checks that every `actions/*/action.yml` matches the binary it runs.
//!
//! The actions are kept by hand beside the clap flags; this crate compares them so they
//! cannot drift apart silently:
//!
//! - [`manifest`] reads an `action.yml`: inputs, outputs and the `env:` of the `run` step;
//! - [`surface`] reads a binary's flags from its clap `Command` (variable, default, required);
//! - [`check`] compares the two and returns typed [`check::Finding`]s that say what to fix;
//! - [`sources`] checks each binary's `OUTPUTS` list against the `set_output` calls in its source.
//!
//! The per-action expectations (which flags are deliberately not exposed, and why) live in
//! `tests/actions.rs`.

pub mod check;
pub mod manifest;
pub mod sources;
pub mod surface;
