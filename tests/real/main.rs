//! The real tests: rust-src, the real compiler and the tools a user has
//! (ninja, make, Bazel, qemu, rust-analyzer, cargo as the oracle). Run by
//! `scripts/test` with one test thread, so that no two std builds share the
//! two cores (see ARCHITECTURE.md, "Tests").

#[path = "../support.rs"]
mod support;
#[path = "../cache_server.rs"]
mod cache_server;
#[path = "../buck2/check.rs"]
mod buck2_check;

mod bazel;
mod buck2;
mod cargo;
mod e2e;
mod examples;
mod explain;
mod flags;
mod kernel;
mod make;
mod miri;
mod oracle;
mod parity;
mod remote;
mod remote_exec;
mod reproducible;
mod rust_project;
mod sources;
mod timings;
mod toolchains;
