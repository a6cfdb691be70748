//! GitHub webhook payloads read from `$GITHUB_EVENT_PATH`.
//!
//! Only the fields deployer acts on are modelled; unknown fields are ignored because
//! GitHub adds fields over time.
