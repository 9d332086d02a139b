//! Per-crate knowledge that the manifests do not state, read from `rules/`.
//!
//! The files are compiled into the binary, so sysgen needs no data directory
//! at run time; `SYSGEN_RULES_DIR` points at another copy for experiments.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use cargo_platform::Platform;
use serde::Deserialize;

use crate::toolchain::target::Target;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct BuildStd {
    pub implies: BTreeMap<String, Vec<String>>,
    pub resolve_roots: Vec<String>,
    pub default_features: Vec<String>,
    pub default_crates_std: Vec<String>,
    pub default_crates_no_std: Vec<String>,
    pub panic_runtime: BTreeMap<crate::library::profile::PanicStrategy, String>,
    /// Crates that, listed in a sysroot config, bring the panic runtime.
    pub panic_runtime_with: Vec<String>,
    /// Crates added for a test harness when the sysroot has std.
    #[serde(default)]
    pub test_harness: Vec<String>,
    #[serde(default)]
    pub target_features: Vec<TargetFeatures>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetFeatures {
    pub when: String,
    pub features: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "kebab-case")]
pub struct UnitFlags {
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Give this crate rustc's parallel front end (`-Zthreads=N`): for the
    /// long crates that have the machine to themselves on the critical path.
    #[serde(default)]
    pub parallel_frontend: ParallelFrontend,
    /// How long the crate's front end takes, in seconds on a reference
    /// machine: what the build's order of priority is computed from
    /// (`lower/schedule.rs`). Unlisted crates count as short.
    #[serde(default)]
    pub frontend_seconds: Option<f64>,
}

/// Whether a crate gets rustc's parallel front end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParallelFrontend {
    #[default]
    Off,
    /// On by default: the output is the same as without it.
    On,
    /// Only with `--nondeterministic-frontend`: faster, but this compiler
    /// makes the crate's output differ from run to run.
    Nondeterministic,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RustcRules {
    pub standard_library: UnitFlags,
    pub target_lib: UnitFlags,
    pub host: UnitFlags,
    pub check_cfg: CheckCfg,
    #[serde(default, rename = "crate")]
    pub krate: BTreeMap<String, UnitFlags>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckCfg {
    pub always: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Rules {
    pub build_std: BuildStd,
    pub rustc: RustcRules,
}

const BUILD_STD: &str = include_str!("../../rules/build-std.toml");
const RUSTC: &str = include_str!("../../rules/rustc.toml");

/// A rules file: the built-in copy, or `$SYSGEN_RULES_DIR/NAME` (then a
/// mistake in it is the user's, reported with the file and line).
fn parse<T: serde::de::DeserializeOwned>(name: &str, builtin: &'static str) -> Result<T> {
    match std::env::var_os("SYSGEN_RULES_DIR") {
        Some(dir) => {
            let p = std::path::Path::new(&dir).join(name);
            let text = crate::base::fsx::read_text(&p)?;
            toml::from_str(&text).map_err(|e| {
                crate::user_err!(
                    "malformed rules file {}: {}; fix it or unset SYSGEN_RULES_DIR",
                    p.display(),
                    crate::base::error::toml_error_line(&e, &text)
                )
            })
        }
        None => toml::from_str(builtin).with_context(|| format!("parsing rules/{name}")),
    }
}

impl Rules {
    pub fn load() -> Result<Rules> {
        Ok(Rules {
            build_std: parse("build-std.toml", BUILD_STD)?,
            rustc: parse("rustc.toml", RUSTC)?,
        })
    }

    /// Expand requested crates with what they imply.
    pub fn expand_crates(&self, crates: &[String]) -> Vec<String> {
        let mut out: Vec<String> = crates.to_vec();
        for c in crates {
            for i in self.build_std.implies.get(c).into_iter().flatten() {
                if !out.contains(i) {
                    out.push(i.clone());
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The default feature list for a target.
    pub fn default_features(&self, target: &Target) -> Result<Vec<String>> {
        let mut f = self.build_std.default_features.clone();
        for tf in &self.build_std.target_features {
            let p: Platform = tf
                .when
                .parse()
                .with_context(|| format!("rules: bad cfg `{}`", tf.when))?;
            if target.matches(Some(&p)) {
                f.extend(tf.features.iter().cloned());
            }
        }
        Ok(f)
    }
}
