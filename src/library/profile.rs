//! Cargo profiles as the library workspace declares them.
//!
//! Built-in defaults for `dev` and `release` (cargo's), then the library's
//! `[profile.<name>]` (following `inherits`), then its per-package overrides
//! and `profile-rustflags`. Build scripts and host dependencies get cargo's
//! `build-override` defaults (no optimisation, no debuginfo).

use anyhow::Result;
use cargo_util_schemas::manifest::{
    ProfilePackageSpec, StringOrBool, TomlDebugInfo, TomlProfile, TomlProfiles,
};

use crate::{user_bail, user_err};

/// How panics are handled in every crate of a sysroot (`-Cpanic=…`) and
/// which panic runtime the sysroot gets (rules/build-std.toml).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum PanicStrategy {
    #[default]
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

/// `opt-level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptLevel {
    O0,
    O1,
    O2,
    O3,
    /// Optimise for size.
    S,
    /// Optimise for size, harder.
    Z,
}

impl OptLevel {
    fn parse(s: &str) -> Option<OptLevel> {
        Some(match s {
            "0" => OptLevel::O0,
            "1" => OptLevel::O1,
            "2" => OptLevel::O2,
            "3" => OptLevel::O3,
            "s" => OptLevel::S,
            "z" => OptLevel::Z,
            _ => return None,
        })
    }

    /// What rustc's `-C opt-level` and build scripts' `OPT_LEVEL` take.
    pub fn as_str(self) -> &'static str {
        match self {
            OptLevel::O0 => "0",
            OptLevel::O1 => "1",
            OptLevel::O2 => "2",
            OptLevel::O3 => "3",
            OptLevel::S => "s",
            OptLevel::Z => "z",
        }
    }
}

/// `debug`: how much debuginfo rustc emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DebugInfo {
    None,
    LineDirectivesOnly,
    LineTablesOnly,
    Limited,
    Full,
}

impl DebugInfo {
    /// What rustc's `-C debuginfo` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            DebugInfo::None => "0",
            DebugInfo::LineDirectivesOnly => "line-directives-only",
            DebugInfo::LineTablesOnly => "line-tables-only",
            DebugInfo::Limited => "1",
            DebugInfo::Full => "2",
        }
    }
}

/// `strip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strip {
    None,
    Debuginfo,
    Symbols,
}

impl Strip {
    pub fn as_str(self) -> &'static str {
        match self {
            Strip::None => "none",
            Strip::Debuginfo => "debuginfo",
            Strip::Symbols => "symbols",
        }
    }
}

/// `lto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lto {
    Off,
    Thin,
    Fat,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Profile {
    /// `dev`, `release`, `dist`, …
    pub name: String,
    pub opt_level: OptLevel,
    /// Only passed when the profile sets it.
    pub codegen_units: Option<u32>,
    pub debuginfo: DebugInfo,
    pub debug_assertions: bool,
    pub overflow_checks: bool,
    pub lto: Lto,
    pub strip: Option<Strip>,
    pub rustflags: Vec<String>,
    /// Not part of [`Profile::identity`]: a unit's identity holds the
    /// sysroot's panic strategy beside it.
    pub panic: PanicStrategy,
}

impl Profile {
    fn builtin(name: &str) -> Option<Profile> {
        let release = Profile {
            name: "release".into(),
            opt_level: OptLevel::O3,
            codegen_units: None,
            debuginfo: DebugInfo::None,
            debug_assertions: false,
            overflow_checks: false,
            lto: Lto::Off,
            strip: None,
            rustflags: Vec::new(),
            panic: PanicStrategy::Unwind,
        };
        match name {
            "release" => Some(release),
            "dev" => Some(Profile {
                name: "dev".into(),
                opt_level: OptLevel::O0,
                debuginfo: DebugInfo::Full,
                debug_assertions: true,
                overflow_checks: true,
                ..release
            }),
            _ => None,
        }
    }

    /// Everything that changes what the profile compiles, as one stable
    /// string (part of every unit's identity).
    pub fn identity(&self) -> String {
        format!(
            "opt={} cgu={:?} debug={} da={} oc={} lto={:?} strip={:?} flags={}",
            self.opt_level.as_str(),
            self.codegen_units,
            self.debuginfo.as_str(),
            self.debug_assertions,
            self.overflow_checks,
            self.lto,
            self.strip.map(Strip::as_str),
            self.rustflags.join("\u{1f}")
        )
    }

    /// Apply one `[profile.*]` table; `which` names it in errors.
    fn merge(&mut self, t: &TomlProfile, which: &str) -> Result<()> {
        let bad = |key: &str, value: &str, want: &str| {
            user_err!(
                "{which}: `{key} = {value}` is not valid (use {want}); fix the profile in the project's or the library's Cargo.toml"
            )
        };
        if let Some(o) = &t.opt_level {
            self.opt_level = OptLevel::parse(&o.0).ok_or_else(|| {
                bad(
                    "opt-level",
                    &format!("{:?}", o.0),
                    "0, 1, 2, 3, \"s\" or \"z\"",
                )
            })?;
        }
        if let Some(c) = t.codegen_units {
            self.codegen_units = Some(c);
        }
        if let Some(d) = &t.debug {
            self.debuginfo = match d {
                TomlDebugInfo::None => DebugInfo::None,
                TomlDebugInfo::LineDirectivesOnly => DebugInfo::LineDirectivesOnly,
                TomlDebugInfo::LineTablesOnly => DebugInfo::LineTablesOnly,
                TomlDebugInfo::Limited => DebugInfo::Limited,
                TomlDebugInfo::Full => DebugInfo::Full,
            };
        }
        if let Some(d) = t.debug_assertions {
            self.debug_assertions = d;
        }
        if let Some(o) = t.overflow_checks {
            self.overflow_checks = o;
        }
        if let Some(l) = &t.lto {
            self.lto = match l {
                StringOrBool::Bool(false) => Lto::Off,
                StringOrBool::Bool(true) => Lto::Fat,
                StringOrBool::String(s) => match s.as_str() {
                    "off" => Lto::Off,
                    "thin" => Lto::Thin,
                    "fat" => Lto::Fat,
                    _ => {
                        return Err(bad(
                            "lto",
                            &format!("{s:?}"),
                            "true, false, \"thin\", \"fat\" or \"off\"",
                        ));
                    }
                },
            };
        }
        if let Some(s) = &t.strip {
            self.strip = Some(match s {
                StringOrBool::Bool(true) => Strip::Symbols,
                StringOrBool::Bool(false) => Strip::None,
                StringOrBool::String(s) => match s.as_str() {
                    "none" => Strip::None,
                    "debuginfo" => Strip::Debuginfo,
                    "symbols" => Strip::Symbols,
                    _ => {
                        return Err(bad(
                            "strip",
                            &format!("{s:?}"),
                            "true, false, \"none\", \"debuginfo\" or \"symbols\"",
                        ));
                    }
                },
            });
        }
        if let Some(r) = &t.rustflags {
            crate::toolchain::flags::check(&format!("{which}: rustflags"), r)?;
            self.rustflags = r.clone();
        }
        Ok(())
    }
}

/// Which unit a profile is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileFor {
    Target,
    /// Build scripts and their dependencies.
    Host,
}

/// The resolved profile of a sysroot build: the named profile over its
/// `inherits` chain, checked once, with the panic strategy decided for the
/// build; [`Profiles::get`] gives each unit's.
#[derive(Debug, Clone)]
pub struct Profiles {
    base: Profile,
    root: String,
    table: TomlProfiles,
}

/// The profiles from `name` up its `inherits` chain, as far as `table`
/// defines them: the walk stops at a built-in profile (dev, release), at a
/// name `table` lacks, or at a profile without `inherits`, and refuses a
/// cycle. The one walker of `inherits`, for the library's profiles and the
/// project's.
pub fn inherits_chain(table: &TomlProfiles, name: &str) -> Result<Vec<String>> {
    let mut chain = vec![name.to_string()];
    loop {
        let cur = chain.last().expect("the chain starts with `name`");
        if Profile::builtin(cur).is_some() {
            return Ok(chain);
        }
        let Some(parent) = table.0.get(cur.as_str()).and_then(|p| p.inherits.clone()) else {
            return Ok(chain);
        };
        if chain.contains(&parent) {
            user_bail!("profile `{name}` inherits in a cycle");
        }
        chain.push(parent);
    }
}

/// What cargo refuses in any profile, used or not: a `panic` that is not
/// a strategy, and `codegen-units = 0`.
fn check_every_profile(table: &TomlProfiles) -> Result<()> {
    fn check(t: &TomlProfile, which: &str) -> Result<()> {
        if let Some(p) = &t.panic
            && PanicStrategy::parse(p).is_none()
        {
            user_bail!(
                "{which}: `panic = {p:?}` is not valid (use \"unwind\", \"abort\" or \"immediate-abort\"); fix the profile in the project's or the library's Cargo.toml"
            );
        }
        if t.codegen_units == Some(0) {
            user_bail!(
                "{which}: `codegen-units = 0` is not valid (use 1 or more); fix the profile in the project's or the library's Cargo.toml"
            );
        }
        for (spec, o) in t.package.iter().flatten() {
            let name = match spec {
                ProfilePackageSpec::All => "\"*\"".to_string(),
                ProfilePackageSpec::Spec(s) => s.name().to_string(),
            };
            check(o, &format!("{which}.package.{name}"))?;
        }
        if let Some(b) = &t.build_override {
            check(b, &format!("{which}.build-override"))?;
        }
        Ok(())
    }
    for (name, t) in &table.0 {
        check(t, &format!("[profile.{name}]"))?;
    }
    Ok(())
}

impl Profiles {
    /// The profile `name` of `table`, checked (overrides included), for a
    /// sysroot whose crates use `panic`.
    pub fn new(table: &TomlProfiles, name: &str, panic: PanicStrategy) -> Result<Profiles> {
        check_every_profile(table)?;
        let chain = inherits_chain(table, name)?;
        let cur = chain.last().expect("the chain starts with `name`").clone();
        let Some(base) = Profile::builtin(&cur) else {
            if !table.0.contains_key(cur.as_str()) {
                user_bail!(
                    "unknown profile `{name}`; use dev, release, or a profile of the library's Cargo.toml such as dist"
                );
            }
            user_bail!(
                "profile `{cur}` in the library's Cargo.toml has no `inherits`; it cannot be used"
            );
        };
        let root = cur;
        let mut p = base;
        for n in chain.iter().rev() {
            if let Some(t) = table.0.get(n.as_str()) {
                p.merge(t, &format!("[profile.{n}]"))?;
            }
        }
        p.name = name.to_string();
        // Per-package and build overrides are applied later, per unit:
        // check them now, so that applying them cannot fail.
        for n in &chain {
            let Some(t) = table.0.get(n.as_str()) else {
                continue;
            };
            let mut scratch = p.clone();
            for (spec, o) in t.package.iter().flatten() {
                let which = match spec {
                    ProfilePackageSpec::All => format!("[profile.{n}.package.\"*\"]"),
                    ProfilePackageSpec::Spec(s) => format!("[profile.{n}.package.{}]", s.name()),
                };
                scratch.merge(o, &which)?;
            }
            if let Some(b) = &t.build_override {
                scratch.merge(b, &format!("[profile.{n}.build-override]"))?;
            }
        }
        p.panic = panic;
        Ok(Profiles {
            base: p,
            root,
            table: table.clone(),
        })
    }

    /// The profile's name (`release`, `dev`, `dist`, …).
    pub fn name(&self) -> &str {
        &self.base.name
    }

    /// The sysroot's panic strategy.
    pub fn panic(&self) -> PanicStrategy {
        self.base.panic
    }

    pub fn is_release_like(&self) -> bool {
        self.root == "release"
    }

    /// The profile for `package` (its per-package overrides applied).
    pub fn get(&self, package: &str, for_: ProfileFor) -> Profile {
        let mut p = self.base.clone();
        if for_ == ProfileFor::Host {
            // cargo's default `build-override`: no optimisation, no debuginfo.
            p.opt_level = OptLevel::O0;
            p.codegen_units = None;
            p.debuginfo = DebugInfo::None;
            p.rustflags.clear();
            // Build scripts and proc macros unwind, as under cargo.
            p.panic = PanicStrategy::Unwind;
        }
        // Per-package overrides, from the root profile up to the named one.
        let mut names = vec![self.root.clone()];
        if self.base.name != self.root {
            names.push(self.base.name.clone());
        }
        for n in names {
            let Some(t) = self.table.0.get(n.as_str()) else {
                continue;
            };
            let overrides = if for_ == ProfileFor::Host {
                t.build_override
                    .as_deref()
                    .map(|b| vec![b])
                    .unwrap_or_default()
            } else {
                t.package
                    .iter()
                    .flatten()
                    .filter(|(spec, _)| match spec {
                        ProfilePackageSpec::All => true,
                        ProfilePackageSpec::Spec(s) => s.name() == package,
                    })
                    .map(|(_, v)| v)
                    .collect()
            };
            for o in overrides {
                p.merge(o, "an override")
                    .expect("overrides are checked in Profiles::new");
            }
        }
        p
    }
}
