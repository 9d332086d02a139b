//! Typed build options, parsed once at the edge (command line, config
//! files) so the rest of sysgen never compares strings or looks for `""`
//! meaning "not given" (that is an `Option`).

use serde::{Deserialize, Serialize};

/// How panics are handled in every crate of a sysroot (`-Cpanic=…`) and
/// which panic runtime the sysroot gets (rules/build-std.toml).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum PanicStrategy {
    Unwind,
    Abort,
    ImmediateAbort,
}

impl PanicStrategy {
    /// The name rustc, cargo and the config files use.
    pub fn as_str(self) -> &'static str {
        match self {
            PanicStrategy::Unwind => "unwind",
            PanicStrategy::Abort => "abort",
            PanicStrategy::ImmediateAbort => "immediate-abort",
        }
    }

    pub fn parse(s: &str) -> Option<PanicStrategy> {
        [Self::Unwind, Self::Abort, Self::ImmediateAbort]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

impl std::fmt::Display for PanicStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
