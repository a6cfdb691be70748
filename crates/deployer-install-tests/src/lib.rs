//! Tests for `scripts/install-deployer`, the binary installer shared by every action.
//!
//! The crate has no code of its own: `tests/install_script.rs` starts a loopback HTTP
//! server that serves fake release archives, writes a checksums directory, and runs the
//! script with `bash` for each path it can take — verified download, cache reuse,
//! checksum mismatch, missing checksum entry, missing asset (fallback to
//! `cargo build --release --locked` with a fake `cargo`), and unsupported platforms.
