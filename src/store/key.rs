//! A sysroot's key: its family (everything known before building: the
//! compiler, the path-free declarations, the target specs, sysgen's version)
//! and its variant (the digest of every file the build read, by root).

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::base::hash::stable_hash;
use crate::model::{Model, RootId};

/// The store's format: entries of another format are never hit.
pub const FORMAT: u32 = 2;

/// The root of a `FileDigest` that is an environment variable a build
/// script said it read: `path` is its name, `sha256` the digest of
/// [`crate::exec::envdeps::stamp_text`].
pub const ENV_ROOT: &str = "env";

/// The part of a sysroot's identity known before building it.
#[derive(Debug, Clone)]
pub struct Family {
    pub key: String,
    /// The SHA-256 of everything `key` is hashed from (the remote cache's
    /// keys start from it: 64 bits are enough on one machine, not between
    /// machines that do not trust each other's collisions).
    pub identity: String,
    pub summary: Summary,
}

/// What a person recognises a sysroot by (`sysgen cache list`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Summary {
    pub targets: Vec<String>,
    /// The sysroot's crates (the libraries in `lib/rustlib/<target>/lib`).
    pub crates: Vec<String>,
    pub profile: String,
    pub panic: crate::library::profile::PanicStrategy,
    pub check: bool,
    pub rustc: String,
    /// The tool whose driver compiled it (`--for`), with its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
}

/// One file a build read, by root (so that the same rust-src elsewhere
/// matches) and digest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileDigest {
    /// A model root (`library`, `registry`, `crate-0`, …), or `absolute`.
    pub root: String,
    pub path: String,
    pub sha256: String,
}

fn root_key(id: RootId) -> String {
    match id {
        RootId::Library => "library".into(),
        RootId::Registry => "registry".into(),
        RootId::Crate(n) => format!("crate-{n}"),
        RootId::Absolute => "absolute".into(),
    }
}

impl Family {
    /// The family of a model: hashed from its path-free declarations.
    pub fn of(
        m: &Model,
        rustc: &crate::toolchain::target::Rustc,
        profile: &crate::library::profile::Profiles,
        check: bool,
    ) -> Result<Family> {
        #[derive(Serialize)]
        struct Identity<'a> {
            /// The entry format: entries of another are another family.
            format: u32,
            sysgen: &'a str,
            rustc: &'a str,
            release: &'a str,
            commit: Option<&'a str>,
            /// A sysroot compiled by a driver (Miri's) is never one
            /// compiled by rustc, nor one of another driver's version.
            /// Absent for rustc's: their keys are what they were before
            /// drivers existed, so stores and remote caches keep them.
            #[serde(skip_serializing_if = "Option::is_none")]
            driver: Option<(&'a str, &'a str)>,
            host: &'a str,
            roots: Vec<(String, Option<&'a str>)>,
            targets: Vec<(&'a str, Option<String>)>,
            units: &'a [crate::model::UnitDecl],
        }
        let mut targets = Vec::new();
        for t in &m.targets {
            let spec = match &t.spec_file {
                Some(f) => Some(crate::base::fingerprint::sha256_file(f)?),
                None => None,
            };
            targets.push((t.name.as_str(), spec));
        }
        let identity = Identity {
            format: FORMAT,
            sysgen: env!("CARGO_PKG_VERSION"),
            rustc: &rustc.version,
            release: &rustc.release,
            commit: rustc.commit_hash.as_deref(),
            driver: rustc
                .driver
                .as_ref()
                .map(|d| (d.name.as_str(), d.version.as_str())),
            host: &m.host,
            roots: m
                .roots
                .iter()
                .map(|r| (root_key(r.id), r.virtual_name.as_deref()))
                .collect(),
            targets,
            units: &m.units,
        };
        let text = serde_json::to_string(&identity)?;
        let mut crates: Vec<String> = m
            .units
            .iter()
            .filter_map(|u| {
                u.krate()
                    .filter(|c| c.in_sysroot)
                    .map(|c| c.crate_name.clone())
            })
            .collect();
        crates.sort();
        crates.dedup();
        Ok(Family {
            key: stable_hash(&[&text])[..16].to_string(),
            identity: crate::base::fingerprint::sha256_hex(text.as_bytes()),
            summary: Summary {
                targets: m.targets.iter().map(|t| t.name.clone()).collect(),
                crates,
                profile: profile.name().to_string(),
                panic: profile.panic(),
                check,
                rustc: rustc.version.clone(),
                driver: rustc
                    .driver
                    .as_ref()
                    .map(|d| format!("{} ({})", d.name, d.version)),
            },
        })
    }
}

/// Where a model's roots are on this machine, for resolving `FileDigest`s.
pub struct Roots(Vec<(String, PathBuf)>);

impl Roots {
    pub fn of(m: &Model) -> Roots {
        let mut v: Vec<(String, PathBuf)> = m
            .roots
            .iter()
            .filter(|r| r.id != RootId::Absolute)
            .map(|r| (root_key(r.id), r.path.clone()))
            .collect();
        // Longest first: a root inside another one claims its files.
        v.sort_by_key(|(_, p)| std::cmp::Reverse(p.as_os_str().len()));
        Roots(v)
    }

    pub(super) fn resolve(&self, f: &FileDigest) -> Option<PathBuf> {
        if f.root == "absolute" {
            return Some(PathBuf::from(&f.path));
        }
        let (_, dir) = self.0.iter().find(|(k, _)| *k == f.root)?;
        Some(if f.path.is_empty() {
            dir.clone()
        } else {
            dir.join(&f.path)
        })
    }

    /// `path` as a root and a relative path.
    pub fn split(&self, path: &Path) -> (String, String) {
        for (k, dir) in &self.0 {
            if let Ok(rel) = path.strip_prefix(dir) {
                return (k.clone(), rel.to_string_lossy().into_owned());
            }
        }
        ("absolute".into(), path.to_string_lossy().into_owned())
    }
}
