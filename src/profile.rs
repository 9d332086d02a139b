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

use crate::user_bail;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Profile {
    /// `dev`, `release`, `dist`, …
    pub name: String,
    pub opt_level: String,
    /// Only passed when the profile sets it.
    pub codegen_units: Option<u32>,
    pub debuginfo: u32,
    pub debug_assertions: bool,
    pub overflow_checks: bool,
    pub lto: bool,
    pub strip: Option<String>,
    pub rustflags: Vec<String>,
}

impl Profile {
    fn builtin(name: &str) -> Option<Profile> {
        let release = Profile {
            name: "release".into(),
            opt_level: "3".into(),
            codegen_units: None,
            debuginfo: 0,
            debug_assertions: false,
            overflow_checks: false,
            lto: false,
            strip: None,
            rustflags: Vec::new(),
        };
        match name {
            "release" => Some(release),
            "dev" => Some(Profile {
                name: "dev".into(),
                opt_level: "0".into(),
                debuginfo: 2,
                debug_assertions: true,
                overflow_checks: true,
                ..release
            }),
            _ => None,
        }
    }

    fn merge(&mut self, t: &TomlProfile) {
        if let Some(o) = &t.opt_level {
            self.opt_level = o.0.clone();
        }
        if let Some(c) = t.codegen_units {
            self.codegen_units = Some(c);
        }
        if let Some(d) = &t.debug {
            self.debuginfo = match d {
                TomlDebugInfo::None => 0,
                TomlDebugInfo::LineDirectivesOnly | TomlDebugInfo::LineTablesOnly => 1,
                TomlDebugInfo::Limited => 1,
                TomlDebugInfo::Full => 2,
            };
        }
        if let Some(d) = t.debug_assertions {
            self.debug_assertions = d;
        }
        if let Some(o) = t.overflow_checks {
            self.overflow_checks = o;
        }
        if let Some(l) = &t.lto {
            self.lto = !matches!(l, StringOrBool::Bool(false))
                && !matches!(l, StringOrBool::String(s) if s == "off");
        }
        if let Some(s) = &t.strip {
            self.strip = Some(match s {
                StringOrBool::Bool(true) => "symbols".into(),
                StringOrBool::Bool(false) => "none".into(),
                StringOrBool::String(s) => s.clone(),
            });
        }
        if let Some(r) = &t.rustflags {
            self.rustflags = r.clone();
        }
    }
}

/// Which unit a profile is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileFor {
    Target,
    /// Build scripts and their dependencies.
    Host,
}

pub struct Profiles {
    base: Profile,
    root: String,
    table: TomlProfiles,
}

impl Profiles {
    pub fn new(table: &TomlProfiles, name: &str) -> Result<Profiles> {
        // Follow `inherits` down to a built-in.
        let mut chain = vec![name.to_string()];
        let mut cur = name.to_string();
        let base = loop {
            if let Some(b) = Profile::builtin(&cur) {
                break b;
            }
            let Some(p) = table.0.get(cur.as_str()) else {
                user_bail!(
                    "unknown profile `{name}`; use dev, release, or a profile of the library's Cargo.toml such as dist"
                );
            };
            let Some(parent) = &p.inherits else {
                user_bail!(
                    "profile `{cur}` in the library's Cargo.toml has no `inherits`; it cannot be used"
                );
            };
            if chain.contains(parent) {
                user_bail!("profile `{name}` inherits in a cycle");
            }
            chain.push(parent.clone());
            cur = parent.clone();
        };
        let root = cur;
        let mut p = base;
        for n in chain.iter().rev() {
            if let Some(t) = table.0.get(n.as_str()) {
                p.merge(t);
            }
        }
        p.name = name.to_string();
        Ok(Profiles {
            base: p,
            root,
            table: table.clone(),
        })
    }

    pub fn is_release_like(&self) -> bool {
        self.root == "release"
    }

    /// The profile for `package` (its per-package overrides applied).
    pub fn get(&self, package: &str, for_: ProfileFor) -> Profile {
        let mut p = self.base.clone();
        if for_ == ProfileFor::Host {
            // cargo's default `build-override`: no optimisation, no debuginfo.
            p.opt_level = "0".into();
            p.codegen_units = None;
            p.debuginfo = 0;
            p.rustflags.clear();
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
                p.merge(o);
            }
        }
        p
    }
}
