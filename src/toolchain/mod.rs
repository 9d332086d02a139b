//! The compiler and the sources it comes with: finding rustc, rust-src and
//! the registry sources, and what rustc says about itself and each target.

pub mod flags;
pub mod locate;
pub mod probe_cache;
pub mod target;
