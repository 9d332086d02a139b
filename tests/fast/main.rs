//! The fast tests: the mock library in `tests/mock`, synthetic targets,
//! and a stand-in compiler and cargo (`tests/fake-toolchain`) for runs
//! through real ninja. No rust-src and no real compile: seconds.
//! `cargo test --test fast` is the quick loop.

#[path = "../support.rs"]
mod support;
#[path = "../cache_server.rs"]
mod cache_server;
#[path = "../buck2/check.rs"]
mod buck2_check;

mod argv;
mod bazel;
mod buck2;
mod cargo;
mod cli;
mod config;
mod escapers;
mod explain;
mod fuzz;
mod graph_mock;
mod guarantees;
mod jobserver;
mod layering;
mod make;
mod miri;
mod model;
mod orphans;
mod outputs;
mod pipe;
mod refusals;
mod releases;
mod remote;
mod remote_trust;
mod rerun;
mod rust_project;
mod schedule;
mod serialized;
mod snapshot;
mod store_trust;
mod sources;
mod timings;
mod verify;
mod written;
