//! From the library and the configuration to the unit graph: features,
//! stage roots, units and their edges.

pub mod features;
pub mod graph;
pub mod load;
mod stages;
mod units;
