//! Views for people: explain, timings, provenance and the SBOM.

pub mod explain;
pub mod provenance;
pub mod timings;
