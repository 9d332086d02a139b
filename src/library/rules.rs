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
    pub lints: LintRules,
    pub profile: ProfileRules,
    #[serde(default, rename = "crate")]
    pub krate: BTreeMap<String, UnitFlags>,
}

/// The releases a piece of knowledge holds for: a semver requirement on
/// the compiler's version, a nightly counting as its number.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct Releases(#[serde(deserialize_with = "version_req")] semver::VersionReq);

fn version_req<'de, D: serde::Deserializer<'de>>(d: D) -> Result<semver::VersionReq, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

impl Releases {
    pub fn hold_for(&self, r: &Release) -> bool {
        self.0.matches(&r.0)
    }
}

/// A compiler's release as the rules compare it: `1.101.0-nightly` is
/// 1.101.0 (a nightly has what its release will have, or more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release(semver::Version);

impl Release {
    /// From `rustc -vV`'s `release:` (`1.95.0`, `1.101.0-nightly`,
    /// `1.85.0-dev`); `None` when it is no version at all.
    pub fn parse(release: &str) -> Option<Release> {
        let v = semver::Version::parse(release.trim()).ok()?;
        Some(Release(semver::Version::new(v.major, v.minor, v.patch)))
    }

    /// The compiler's release, or the newest there can be for one that
    /// names none (a compiler built from source may say anything): the
    /// newest rules apply.
    pub fn of(rustc: &crate::toolchain::target::Rustc) -> Release {
        Release::parse(&rustc.release).unwrap_or(Release(semver::Version::new(u64::MAX, 0, 0)))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckCfg {
    /// The releases whose cargo passes `--check-cfg` at all.
    pub rust: Releases,
    pub always: Vec<AlwaysCfgs>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlwaysCfgs {
    pub rust: Releases,
    pub cfgs: Vec<String>,
}

impl CheckCfg {
    /// Whether `--check-cfg` flags are passed for `r`.
    pub fn passed(&self, r: &Release) -> bool {
        self.rust.hold_for(r)
    }

    /// The cfgs every unit is checked against under `r`.
    pub fn always(&self, r: &Release) -> Vec<String> {
        if !self.passed(r) {
            return Vec::new();
        }
        self.always
            .iter()
            .filter(|a| a.rust.hold_for(r))
            .flat_map(|a| a.cfgs.iter().cloned())
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LintRules {
    /// The releases whose cargo passes `[lints]` to a crate whose lints it
    /// caps at `allow`.
    pub with_cap_lints_allow: Releases,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ProfileRules {
    /// The releases whose cargo strips debuginfo of sysroot crates built
    /// without any.
    pub implicit_strip: Releases,
}

/// `rules/layouts.toml`: where rust-src keeps the library's workspace,
/// release by release.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Layouts {
    /// The oldest release the test matrix builds.
    pub oldest_tested: String,
    #[serde(rename = "layout")]
    pub layouts: Vec<LayoutRule>,
}

/// One layout: how it is recognized and what cargo read from it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LayoutRule {
    pub name: String,
    /// The releases it was seen in (for people and messages).
    pub rust: String,
    /// Files that must all exist, relative to rust-src's `library` directory.
    pub detect: Vec<String>,
    /// The workspace manifest on disk, when the layout has one.
    #[serde(default)]
    pub manifest: Option<String>,
    pub lockfile: String,
    /// The workspace cargo made up in memory, when there is no manifest.
    #[serde(default)]
    pub workspace: Option<SynthesizedWorkspace>,
    /// Whether `sysgen fetch` passes `--locked` to cargo.
    #[serde(default = "yes")]
    pub fetch_locked: bool,
    /// `false`: a layout older than any sysgen reads.
    #[serde(default = "yes")]
    pub supported: bool,
}

fn yes() -> bool {
    true
}

/// A workspace cargo synthesized: members and `[patch.crates-io]`, as
/// paths relative to rust-src's `library` directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynthesizedWorkspace {
    pub members: Vec<String>,
    /// The member cargo made the current package.
    #[serde(default)]
    pub current: Option<String>,
    #[serde(default)]
    pub patch: BTreeMap<String, String>,
}

/// A tool that compiles the standard library in rustc's place
/// (`rules/drivers.toml`, `--for NAME`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DriverRules {
    /// The driver's file name in the compiler's `<sysroot>/bin`.
    pub binary: String,
    /// The rustup component that installs it.
    pub component: String,
    /// What makes the driver print its own version.
    pub version_args: Vec<String>,
    /// Its environment when it compiles a sysroot crate or probes a target.
    pub target_env: BTreeMap<String, String>,
    /// Its environment when it compiles a build script or its dependencies.
    pub host_env: BTreeMap<String, String>,
    /// Set for a build script's run, which may call `$RUSTC`.
    #[serde(default)]
    pub run_env: BTreeMap<String, String>,
    /// Flags for every sysroot crate, before the user's.
    #[serde(default)]
    pub rustflags: Vec<String>,
    /// `sysgen cargo NAME`: the sysroot also has the test harness.
    #[serde(default)]
    pub test_harness: bool,
    /// `sysgen cargo NAME`: the cargo subcommand's binary (in the
    /// compiler's `<sysroot>/bin`) and the variable naming the sysroot.
    pub cargo_subcommand: Option<String>,
    pub sysroot_env: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Rules {
    pub build_std: BuildStd,
    pub rustc: RustcRules,
    pub layouts: Layouts,
    pub drivers: BTreeMap<String, DriverRules>,
}

const BUILD_STD: &str = include_str!("../../rules/build-std.toml");
const RUSTC: &str = include_str!("../../rules/rustc.toml");
const LAYOUTS: &str = include_str!("../../rules/layouts.toml");
const DRIVERS: &str = include_str!("../../rules/drivers.toml");

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
            layouts: Self::layouts()?,
            drivers: parse("drivers.toml", DRIVERS)?,
        })
    }

    /// The driver `--for NAME` names, or a one-line error listing those
    /// sysgen knows.
    pub fn driver(&self, name: &str) -> Result<&DriverRules> {
        self.drivers.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.drivers.keys().map(String::as_str).collect();
            crate::user_err!(
                "sysgen knows no tool `{name}` to build a sysroot for; --for takes one of: {}",
                known.join(", ")
            )
        })
    }

    /// `rules/layouts.toml` alone: what finding rust-src needs.
    pub fn layouts() -> Result<Layouts> {
        parse("layouts.toml", LAYOUTS)
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
