//! The crate model: one declaration per unit of the graph, with every rustc
//! flag decided, and the source files each crate reads.

pub mod declare;
pub mod schema;
pub mod sources;

pub use schema::*;
