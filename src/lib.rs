//! sysgen: a declarative build-graph generator for the Rust standard library.
//!
//! Data flow: [`source`] finds rustc and rust-src → [`workspace`] reads the
//! library workspace and lockfile → [`resolve`] computes features →
//! [`graph`] builds the unit DAG → [`model`] declares every crate →
//! [`lower`] lays it out for a build → [`emit`] renders it; [`driver`]
//! runs these steps for the command line. See ARCHITECTURE.md.

pub mod cache;
pub mod cargo_cmd;
pub mod config;
pub mod driver;
pub mod emit;
pub mod error;
pub mod explain;
pub mod fetch;
pub mod fingerprint;
pub mod fsx;
pub mod git;
pub mod graph;
pub mod lower;
pub mod manifest;
pub mod model;
pub mod options;
pub mod outdir;
pub mod pipe;
pub mod profile;
pub mod project;
pub mod provenance;
pub mod resolve;
pub mod rules;
pub mod runscript;
pub mod source;
pub mod sources;
pub mod store;
pub mod target;
pub mod timings;
pub mod util;
pub mod verify;
pub mod workspace;

pub use driver::{
    BuildOptions, GraphOptions, Loaded, ModelFlags, declare, default_frontend_threads,
    env_rustflags, generate_bazel, generate_make, generate_ninja, load, load_graph, run_ninja,
    sysroot_in_store,
};
pub use error::UserError;
