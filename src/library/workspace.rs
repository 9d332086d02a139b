//! The library workspace: `library/Cargo.toml`, `library/Cargo.lock`, and the
//! package behind every dependency edge.
//!
//! Nothing here hard-codes the library's layout. Members, `[patch]`,
//! profiles and every path come from the workspace manifest; registry
//! packages come from the lockfile and are looked up in a vendor directory or
//! in the Cargo home's registry source cache.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Result;
use cargo_util_schemas::lockfile::TomlLockfile;
use cargo_util_schemas::manifest::{TomlProfiles, TomlWorkspace};

use crate::base::error::toml_error_line;
use crate::library::layout::StdSource;
use crate::library::manifest::{self, Dependency, Package};
use crate::{user_bail, user_err};

/// A loaded package: an index into [`Workspace::packages`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PkgId(pub usize);

/// The loaded packages, indexed by [`PkgId`].
#[derive(Debug, Clone, Default)]
pub struct Packages(Vec<Package>);

impl std::ops::Index<PkgId> for Packages {
    type Output = Package;
    fn index(&self, id: PkgId) -> &Package {
        &self.0[id.0]
    }
}

impl std::ops::IndexMut<PkgId> for Packages {
    fn index_mut(&mut self, id: PkgId) -> &mut Package {
        &mut self.0[id.0]
    }
}

impl std::ops::Deref for Packages {
    type Target = [Package];
    fn deref(&self) -> &[Package] {
        &self.0
    }
}

pub use crate::toolchain::locate::RegistrySources;

#[derive(Debug, Clone)]
struct LockEntry {
    name: String,
    version: semver::Version,
    registry: bool,
    /// The registry archive's SHA-256, as the lockfile pins it.
    checksum: Option<String>,
    /// `name version` strings of its dependencies, as the lockfile writes them.
    deps: Vec<(String, Option<String>)>,
}

pub struct Workspace {
    /// The `library/` directory.
    pub root: PathBuf,
    /// The workspace manifest; `None` where cargo made the workspace up
    /// (rules/layouts.toml).
    pub root_manifest: Option<PathBuf>,
    pub lockfile: PathBuf,
    pub profiles: TomlProfiles,
    /// What members inherit (`field.workspace = true`) from.
    ws_table: TomlWorkspace,
    /// The members' directories.
    members: Vec<PathBuf>,
    /// The member cargo made the current package of a made-up workspace
    /// (the one command-line features apply to).
    current: Option<PathBuf>,
    patches: BTreeMap<String, PathBuf>,
    /// Packages patched by the user's config (their versions are checked).
    user_patches: BTreeSet<String>,
    lock: Vec<LockEntry>,
    pub registry: RegistrySources,
    /// Loaded packages; a `PkgId` indexes this.
    pub packages: Packages,
    by_manifest: HashMap<PathBuf, PkgId>,
    /// `(package, version)` of registry packages whose source is missing.
    pub missing: BTreeSet<(String, String)>,
    /// Every file read so far (for the generator's rebuild rule).
    pub inputs: BTreeSet<PathBuf>,
}

impl Workspace {
    pub fn load(src: &StdSource, registry: RegistrySources) -> Result<Workspace> {
        let library = src.library.as_path();
        let lockfile = src.lockfile.clone();
        let (root_manifest, ws_table, members, patches, profiles) = match (
            &src.manifest,
            &src.synthesized,
        ) {
            (Some(root_manifest), _) => {
                let (m, _) = manifest::read_toml_manifest(root_manifest)?;
                let ws_table = m.workspace.clone().ok_or_else(|| {
                    user_err!(
                        "{} has no [workspace] table; --rust-src must point at the standard library's `library` directory",
                        root_manifest.display()
                    )
                })?;
                let mut patches = BTreeMap::new();
                for (_source, table) in m.patch.iter().flatten() {
                    for (name, dep) in table {
                        if let cargo_util_schemas::manifest::TomlDependency::Detailed(d) = dep
                            && let Some(p) = &d.path
                        {
                            patches.insert(name.to_string(), library.join(p));
                        }
                    }
                }
                let members = ws_table
                    .members
                    .iter()
                    .flatten()
                    .map(|m| library.join(m))
                    .collect();
                let profiles = m.profile.clone().unwrap_or_default();
                (
                    Some(root_manifest.clone()),
                    ws_table,
                    members,
                    patches,
                    profiles,
                )
            }
            (None, Some(synth)) => (
                None,
                TomlWorkspace::default(),
                synth.members.clone(),
                synth.patch.clone(),
                TomlProfiles::default(),
            ),
            (None, None) => user_bail!(
                "rust-src at {} ({}) has neither a workspace manifest nor rules for one; reinstall it with `rustup component add rust-src`",
                library.display(),
                src.layout
            ),
        };
        if !lockfile.is_file() {
            user_bail!(
                "no {} in rust-src; sysgen needs the lockfile rust-src ships (reinstall with `rustup component add rust-src`)",
                lockfile.display()
            );
        }
        let text = crate::base::fsx::read_text(&lockfile)?;
        let lock: TomlLockfile = toml::from_str(&text).map_err(|e| {
            user_err!(
                "malformed lockfile {}: {}; reinstall rust-src with `rustup component add rust-src`",
                lockfile.display(),
                toml_error_line(&e, &text)
            )
        })?;
        // Cargo.lock versions sysgen knows: 1 to 4 (cargo writes 4).
        if let Some(v) = lock.version.filter(|v| !(1..=4).contains(v)) {
            user_bail!(
                "{} has `version = {v}`, which sysgen does not know (it reads versions 1 to 4); use rust-src from a matching toolchain (`rustup component add rust-src`)",
                lockfile.display()
            );
        }
        let mut entries = Vec::new();
        for p in lock.package.unwrap_or_default() {
            let version = semver::Version::parse(&p.version).map_err(|e| {
                user_err!(
                    "malformed lockfile {}: package `{}` has version `{}` ({e}); reinstall rust-src with `rustup component add rust-src`",
                    lockfile.display(),
                    p.name,
                    p.version
                )
            })?;
            entries.push(LockEntry {
                name: p.name,
                version,
                registry: p.source.as_ref().is_some_and(|s| {
                    s.source_str().starts_with("registry+") || s.source_str().starts_with("sparse+")
                }),
                checksum: p.checksum,
                deps: p
                    .dependencies
                    .unwrap_or_default()
                    .into_iter()
                    .map(|d| (d.name, d.version))
                    .collect(),
            });
        }
        let inputs = src.files().into_iter().collect();
        Ok(Workspace {
            root: library.to_path_buf(),
            root_manifest,
            lockfile,
            profiles,
            ws_table,
            members,
            current: src.synthesized.as_ref().and_then(|s| s.current.clone()),
            patches,
            user_patches: BTreeSet::new(),
            lock: entries,
            registry,
            packages: Packages::default(),
            by_manifest: HashMap::new(),
            missing: BTreeSet::new(),
            inputs,
        })
    }

    /// A user's `[patch]`: `package` is replaced by the crate in `dir`
    /// everywhere in the graph (over the library's own patches).
    pub fn patch_with(&mut self, package: &str, dir: &Path) {
        self.patches.insert(package.to_string(), dir.to_path_buf());
        self.user_patches.insert(package.to_string());
    }

    pub fn is_patched(&self, package: &str) -> bool {
        self.patches.contains_key(package)
    }

    /// The package whose manifest is `dir/Cargo.toml`.
    pub fn load_path(&mut self, dir: &Path) -> Result<PkgId> {
        let manifest = crate::base::fsx::normalize(&dir.join("Cargo.toml"));
        if let Some(&id) = self.by_manifest.get(&manifest) {
            return Ok(id);
        }
        if !manifest.is_file() {
            user_bail!(
                "{} does not exist; the rust-src tree is incomplete (reinstall with `rustup component add rust-src`)",
                manifest.display()
            );
        }
        let inside = manifest.starts_with(&self.root);
        let pkg = manifest::load_package(&manifest, inside.then_some(&self.ws_table))?;
        self.inputs.insert(manifest.clone());
        let id = PkgId(self.packages.len());
        self.packages.0.push(pkg);
        self.by_manifest.insert(manifest, id);
        Ok(id)
    }

    /// Load the workspace members (and, through `load_dep`, whatever they reach).
    pub fn load_members(&mut self) -> Result<Vec<PkgId>> {
        let mut ids = Vec::new();
        for dir in self.members.clone() {
            ids.push(self.load_path(&dir)?);
        }
        Ok(ids)
    }

    /// The current package of a made-up workspace (rules/layouts.toml), if
    /// the layout has one.
    pub fn current_member(&mut self) -> Result<Option<PkgId>> {
        match self.current.clone() {
            Some(dir) => self.load_path(&dir).map(Some),
            None => Ok(None),
        }
    }

    /// The package a dependency edge of `from` points at. `None` when the
    /// package is a registry package whose source is not on this machine (it
    /// is then recorded in `missing`).
    pub fn load_dep(&mut self, from: PkgId, dep_index: usize) -> Result<Option<PkgId>> {
        let dep: Dependency = self.packages[from].deps[dep_index].clone();
        if let Some(path) = &dep.path {
            return self.load_path(path).map(Some);
        }
        if let Some(path) = self.patches.get(&dep.package).cloned() {
            let id = self.load_path(&path)?;
            let got = &self.packages[id];
            if self.user_patches.contains(&dep.package)
                && let Some(req) = &dep.req
                && !req.matches(&got.version)
            {
                user_bail!(
                    "the [patch] for `{}` ({} {} at {}) does not match `{} = \"{req}\"` required by `{}`; patch with a version that matches",
                    dep.package,
                    got.name,
                    got.version,
                    got.dir().display(),
                    dep.package,
                    self.packages[from].name
                );
            }
            return Ok(Some(id));
        }
        let from_pkg = &self.packages[from];
        let from_lock = self
            .lock
            .iter()
            .find(|e| e.name == from_pkg.name && e.version == from_pkg.version);
        let candidates: Vec<&LockEntry> = self
            .lock
            .iter()
            .filter(|e| e.registry && e.name == dep.package)
            .filter(|e| dep.req.as_ref().is_none_or(|r| r.matches(&e.version)))
            .collect();
        let chosen = match candidates.len() {
            0 => None,
            1 => Some(candidates[0]),
            _ => candidates.iter().copied().find(|e| {
                from_lock.is_some_and(|f| {
                    f.deps.iter().any(|(n, v)| {
                        *n == e.name && v.as_deref().is_none_or(|v| v == e.version.to_string())
                    })
                })
            }),
        };
        let Some(entry) = chosen else {
            if !from_pkg.manifest_path.starts_with(&self.root) && !self.is_registry_package(from) {
                user_bail!(
                    "custom sysroot crate `{}` depends on `{} {}`, which is neither in the standard library's Cargo.lock nor a path dependency; give it a `path` (or add a [patch] for it)",
                    from_pkg.name,
                    dep.package,
                    dep.req.map(|r| r.to_string()).unwrap_or_default()
                );
            }
            user_bail!(
                "{} has no entry for `{}` {} (needed by `{}`); the lockfile and the manifests disagree, reinstall rust-src with `rustup component add rust-src`",
                self.lockfile.display(),
                dep.package,
                dep.req.map(|r| r.to_string()).unwrap_or_default(),
                from_pkg.name
            );
        };
        let (name, version) = (entry.name.clone(), entry.version.clone());
        match self.registry_dir(&name, &version) {
            Some(dir) => {
                let id = self.load_path(&dir)?;
                let got = &self.packages[id];
                if got.version != version || got.name != name {
                    user_bail!(
                        "{} holds `{} {}` but Cargo.lock wants `{name} {version}`; refresh the sources with `sysgen fetch`",
                        dir.display(),
                        got.name,
                        got.version
                    );
                }
                Ok(Some(id))
            }
            None => {
                self.missing.insert((name, version.to_string()));
                Ok(None)
            }
        }
    }

    /// Whether `p` is part of the standard library: rust-src's own crates,
    /// the registry crates they use, and `[patch]`es standing in for
    /// either. The rest are custom crates a config added, ordinary crates
    /// as under Xargo.
    pub fn is_standard_library(&self, p: PkgId) -> bool {
        let pkg = &self.packages[p];
        pkg.manifest_path.starts_with(&self.root)
            || self.patches.contains_key(&pkg.name)
            || self.is_registry_package(p)
    }

    /// Whether `p` came from the registry sources (not a path crate).
    pub fn is_registry_package(&self, p: PkgId) -> bool {
        self.registry_lock_entry(p).is_some()
    }

    fn registry_lock_entry(&self, p: PkgId) -> Option<&LockEntry> {
        let pkg = &self.packages[p];
        if self.patches.contains_key(&pkg.name) {
            return None;
        }
        self.lock
            .iter()
            .find(|e| e.registry && e.name == pkg.name && e.version == pkg.version)
    }

    /// The lockfile's checksum of registry package `p` (the SHA-256 of its
    /// `.crate` archive); `None` for path crates or a lockfile without one.
    pub fn lock_checksum(&self, p: PkgId) -> Option<&str> {
        self.registry_lock_entry(p)?.checksum.as_deref()
    }

    fn registry_dir(&self, name: &str, version: &semver::Version) -> Option<PathBuf> {
        let versioned = format!("{name}-{version}");
        match &self.registry {
            RegistrySources::Vendor(dir) => {
                let a = dir.join(&versioned);
                if a.join("Cargo.toml").is_file() {
                    return Some(a);
                }
                // `cargo vendor` without --versioned-dirs uses the bare name
                // for the only version of a package.
                let b = dir.join(name);
                let text = std::fs::read_to_string(b.join("Cargo.toml")).ok()?;
                let wanted = format!("version = \"{version}\"");
                text.lines().any(|l| l.trim() == wanted).then_some(b)
            }
            RegistrySources::CargoHome(home) => {
                let src = home.join("registry").join("src");
                let mut indexes: Vec<PathBuf> = std::fs::read_dir(&src)
                    .ok()?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .collect();
                indexes.sort();
                indexes
                    .into_iter()
                    .map(|i| i.join(&versioned))
                    .find(|d| d.join("Cargo.toml").is_file())
            }
        }
    }

    /// The directory registry sources live under (for path remapping).
    pub fn registry_root(&self) -> Option<PathBuf> {
        match &self.registry {
            RegistrySources::Vendor(d) => Some(d.clone()),
            RegistrySources::CargoHome(h) => {
                // The index directory that actually holds the loaded packages.
                self.packages
                    .iter()
                    .find(|p| p.manifest_path.starts_with(h))
                    .and_then(|p| p.dir().parent().map(Path::to_path_buf))
            }
        }
    }

    /// The one error for every missing registry source.
    pub fn check_missing(&self) -> Result<()> {
        if self.missing.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = self
            .missing
            .iter()
            .map(|(n, v)| format!("{n} {v}"))
            .collect();
        if let RegistrySources::Vendor(d) = &self.registry {
            check_vendor_dir(d)?;
        }
        let (place, fix) = match &self.registry {
            RegistrySources::Vendor(d) => (
                format!("vendor directory {}", d.display()),
                format!("sysgen fetch --vendor {}", d.display()),
            ),
            RegistrySources::CargoHome(h) => (
                format!("Cargo home {}", h.display()),
                "sysgen fetch".to_string(),
            ),
        };
        user_bail!(
            "the standard library needs registry sources that are not in the {place}: {}; run `{fix}`",
            list.join(", ")
        )
    }
}

/// A vendor directory that is missing packages because it is not one at
/// all gets a message saying so, never "fetch into it" (which, for `/` or a
/// project directory, would be the wrong advice).
fn check_vendor_dir(d: &Path) -> Result<()> {
    let fill = "`sysgen fetch --vendor DIR` (or `cargo vendor`) makes one";
    let entries = match std::fs::read_dir(d) {
        Err(_) if !d.exists() => user_bail!(
            "the vendor directory {} does not exist; run `sysgen fetch --vendor {}` to make it, or pass --vendor the directory you vendored into",
            d.display(),
            d.display()
        ),
        Err(_) if !d.is_dir() => user_bail!(
            "the vendor directory {} is not a directory; pass --vendor a directory: {fill}",
            d.display()
        ),
        Err(e) => return Err(crate::base::fsx::io_error("read", d, &e)),
        Ok(entries) => entries,
    };
    let mut any = false;
    for e in entries.flatten() {
        any = true;
        if e.path().join(".cargo-checksum.json").is_file() {
            return Ok(());
        }
    }
    if any {
        user_bail!(
            "{} is not a vendor directory (no package in it has a .cargo-checksum.json); pass --vendor the directory you vendored into, or make a new one: {fill}",
            d.display()
        );
    }
    Ok(())
}
