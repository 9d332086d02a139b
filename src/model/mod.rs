//! The crate model: one declaration per unit of the graph, with every rustc
//! flag decided, and the source files each crate reads.

pub mod builder;
pub mod declare;
mod env;
mod flags;
pub mod schema;
pub mod sources;

pub use builder::{ModelOptions, build};
pub use schema::*;
