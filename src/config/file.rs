//! The user's sysroot configuration: `Xargo.toml` as Xargo defines it, or
//! sysgen's own `sysgen.toml` (the same keys plus a `[sysgen]` table).
//!
//! ```toml
//! [dependencies]                      # crates of the sysroot (default: core)
//! std = { features = ["panic_immediate_abort"], default-features = false }
//! test = { stage = 1 }                # built against the stage-0 sysroot
//! facade = { path = "facade", stage = 1 }
//! mycrate = { git = "https://…", rev = "…" }
//!
//! [target.thumbv6m-none-eabi.dependencies]   # only for that target (or cfg(…))
//! alloc = {}
//!
//! [patch.crates-io]                   # replace a crate throughout the graph
//! libc = { path = "../libc" }
//!
//! [sysgen]                            # sysgen.toml only: defaults for flags
//! targets = ["thumbv6m-none-eabi"]    # when no --target is given
//! panic = "abort"
//! profile = "release"
//! rustflags = ["-Cforce-frame-pointers=yes"]
//! ```
//!
//! The file is found in the working directory or its nearest ancestor that
//! has one (`sysgen.toml` before `Xargo.toml`), or given with `--config`.
//! Its directory is the project: the project's `Cargo.toml` profiles and
//! `.cargo/config.toml` rustflags apply to every sysroot crate (see
//! [`Project`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use cargo_platform::Platform;
use serde::Deserialize;

use crate::base::error::toml_error_line;
use crate::config::git::{self, GitRef};
use crate::toolchain::target::{CompileTarget, Target};
use crate::{user_bail, user_err};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    dependencies: Option<BTreeMap<String, RawDep>>,
    target: Option<BTreeMap<String, RawTarget>>,
    patch: Option<BTreeMap<String, BTreeMap<String, RawDep>>>,
    sysgen: Option<RawSysgen>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    dependencies: Option<BTreeMap<String, RawDep>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDep {
    features: Option<Vec<String>>,
    #[serde(alias = "default_features")]
    default_features: Option<bool>,
    stage: Option<u32>,
    path: Option<PathBuf>,
    git: Option<String>,
    branch: Option<String>,
    tag: Option<String>,
    rev: Option<String>,
    /// Accepted for Cargo.toml familiarity, never read: the lockfile
    /// decides versions.
    #[serde(rename = "version")]
    _version: Option<String>,
    /// `package = "…"`: the crate is a renamed package.
    package: Option<String>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawSysgen {
    /// Targets when no `--target` is given (JSON paths are relative to the
    /// config file).
    pub targets: Option<Vec<String>>,
    pub panic: Option<crate::library::profile::PanicStrategy>,
    pub profile: Option<String>,
    pub rustflags: Option<Vec<String>>,
}

/// Where a configured crate's source comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CrateSource {
    /// A package of the standard library (found by name).
    Library,
    /// A crate directory (absolute).
    Path(PathBuf),
    /// A git repository, cloned into sysgen's cache at generation time.
    Git { url: String, reference: GitRef },
}

impl CrateSource {
    /// The directory holding the package `name` (a git source is checked
    /// out first).
    pub fn dir(&self, name: &str) -> Result<PathBuf> {
        match self {
            CrateSource::Library => unreachable!("library crates are found by name"),
            CrateSource::Path(p) => Ok(p.clone()),
            CrateSource::Git { url, reference } => git::package_dir(url, reference, name),
        }
    }
}

/// One crate the user puts in the sysroot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CrateSpec {
    /// The package name.
    pub name: String,
    pub features: Vec<String>,
    pub default_features: bool,
    pub stage: u32,
    pub source: CrateSource,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The file read.
    pub path: PathBuf,
    deps: Vec<CrateSpec>,
    /// `[target.<triple or cfg>.dependencies]`.
    target_deps: Vec<(Platform, Vec<CrateSpec>)>,
    /// `[patch.<source>]`: package name → replacement.
    pub patches: BTreeMap<String, CrateSource>,
    pub sysgen: RawSysgen,
    /// Git sources checked out by [`Config::check_out_git_sources`]: where
    /// each came from (provenance), and the directory it now names.
    pub checkouts: Vec<(CrateSource, PathBuf)>,
}

/// Refuse what `--config` cannot name, saying what it is instead: a
/// missing path, a directory, or a Cargo manifest (rust-src's `library`
/// workspace above all, which is what sysgen builds, not how).
fn check_config_path(p: &Path) -> Result<()> {
    let is_library = crate::library::layout::is_library;
    const TAKES: &str = "--config takes your project's sysgen.toml or Xargo.toml";
    if p.is_dir() {
        if is_library(p) {
            user_bail!(
                "{} is rust-src's `library` directory, not a config; {TAKES}, and rust-src is found from rustc or given with --rust-src",
                p.display()
            );
        }
        let inside = ["sysgen.toml", "Xargo.toml"]
            .iter()
            .map(|n| p.join(n))
            .find(|f| f.is_file());
        match inside {
            Some(f) => user_bail!(
                "{} is a directory; {TAKES}: pass --config {}",
                p.display(),
                f.display()
            ),
            None => user_bail!("{} is a directory; {TAKES}", p.display()),
        }
    }
    if !p.is_file() {
        user_bail!(
            "config file {} does not exist; pass an existing sysgen.toml or Xargo.toml to --config",
            p.display()
        );
    }
    if p.file_name().is_some_and(|n| n == "Cargo.toml") {
        let dir = p.parent().unwrap_or(Path::new("."));
        if is_library(dir) || dir.parent().is_some_and(is_library) {
            user_bail!(
                "{} is a manifest of rust-src's library workspace, not a config; {TAKES}, and rust-src is found from rustc or given with --rust-src",
                p.display()
            );
        }
        user_bail!(
            "{} is a Cargo manifest, not a config; {TAKES} (its [dependencies] name the sysroot's crates)",
            p.display()
        );
    }
    Ok(())
}

impl Config {
    /// The config for this run: `explicit`, or the nearest `sysgen.toml` /
    /// `Xargo.toml` from `cwd` up.
    pub fn find(explicit: Option<&Path>, cwd: &Path) -> Result<Option<Config>> {
        if let Some(p) = explicit {
            check_config_path(p)?;
            let p =
                std::fs::canonicalize(p).map_err(|e| crate::base::fsx::io_error("read", p, &e))?;
            return Config::load(&p).map(Some);
        }
        for dir in cwd.ancestors() {
            for name in ["sysgen.toml", "Xargo.toml"] {
                let p = dir.join(name);
                if p.is_file() {
                    return Config::load(&p).map(Some);
                }
            }
        }
        Ok(None)
    }

    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| user_err!("cannot read {}: {e}", path.display()))?;
        Config::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Config> {
        // Where builds are uploaded is the user's choice, never a cloned
        // repository's.
        if let Ok(table) = toml::from_str::<toml::Table>(text)
            && table.contains_key("remote-cache")
        {
            crate::user_bail!(
                "{}: a project's config cannot name a remote cache (a cloned repository would choose where your builds go); set SYSGEN_REMOTE_CACHE, or [remote-cache] in ~/.config/sysgen/config.toml",
                path.display()
            );
        }
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            user_err!(
                "malformed {}: {}; see the keys sysgen.toml accepts in README.md",
                path.display(),
                toml_error_line(&e, text)
            )
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let deps = specs(
            raw.dependencies.unwrap_or_default(),
            dir,
            path,
            "dependencies",
        )?;
        let mut target_deps = Vec::new();
        for (t, table) in raw.target.unwrap_or_default() {
            let platform: Platform = t.parse().map_err(|e| {
                user_err!(
                    "{}: `[target.{t}]` is neither a target name nor a cfg(…) expression ({e})",
                    path.display()
                )
            })?;
            let list = specs(
                table.dependencies.unwrap_or_default(),
                dir,
                path,
                &format!("target.{t}.dependencies"),
            )?;
            target_deps.push((platform, list));
        }
        let mut patches = BTreeMap::new();
        for (source, table) in raw.patch.unwrap_or_default() {
            if source != "crates-io" {
                user_bail!(
                    "{}: [patch.{source}]: the standard library's dependencies all come from crates-io; use [patch.crates-io]",
                    path.display()
                );
            }
            for (name, d) in table {
                let src = source_of(&d, dir, path, &format!("patch.{source}.{name}"))?;
                if src == CrateSource::Library {
                    user_bail!(
                        "{}: [patch.{source}.{name}] needs a `path` or `git` to patch with",
                        path.display()
                    );
                }
                patches.insert(d.package.clone().unwrap_or(name), src);
            }
        }
        let sysgen = raw.sysgen.unwrap_or_default();
        crate::toolchain::flags::check(
            &format!("{}: [sysgen] rustflags", path.display()),
            sysgen.rustflags.as_deref().unwrap_or_default(),
        )?;
        Ok(Config {
            path: path.to_path_buf(),
            deps,
            target_deps,
            patches,
            sysgen,
            checkouts: Vec::new(),
        })
    }

    /// Check out every `git` source into the cache and make it a `Path`
    /// source, so that resolving and building the graph never touches the
    /// network (the git origins stay in [`Config::checkouts`]).
    pub fn check_out_git_sources(&mut self) -> Result<()> {
        let mut checkouts = Vec::new();
        let specs = self
            .deps
            .iter_mut()
            .chain(self.target_deps.iter_mut().flat_map(|(_, l)| l.iter_mut()));
        for spec in specs {
            if let CrateSource::Git { .. } = &spec.source {
                let dir = spec.source.dir(&spec.name)?;
                let git = std::mem::replace(&mut spec.source, CrateSource::Path(dir.clone()));
                checkouts.push((git, dir));
            }
        }
        for (name, source) in self.patches.iter_mut() {
            if let CrateSource::Git { .. } = source {
                let dir = source.dir(name)?;
                let git = std::mem::replace(source, CrateSource::Path(dir.clone()));
                checkouts.push((git, dir));
            }
        }
        self.checkouts.extend(checkouts);
        Ok(())
    }

    /// Every crate the file lists, in `[dependencies]` and per target.
    pub fn specs(&self) -> impl Iterator<Item = &CrateSpec> {
        self.deps
            .iter()
            .chain(self.target_deps.iter().flat_map(|(_, l)| l.iter()))
    }

    /// `[sysgen] targets`, with JSON paths made absolute.
    pub fn targets(&self) -> Vec<String> {
        self.sysgen
            .targets
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|t| {
                CompileTarget::parse(&t)
                    .relative_to(self.project_dir())
                    .rustc_arg()
            })
            .collect()
    }

    /// The directory of the config file: the user's project.
    pub fn project_dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// The crates of the sysroot for `target`, by stage. Nothing listed
    /// means `core` (Xargo's default).
    pub fn stages_for(&self, target: &Target) -> Result<BTreeMap<u32, Vec<CrateSpec>>> {
        let mut all: BTreeMap<String, CrateSpec> = BTreeMap::new();
        for d in &self.deps {
            all.insert(d.name.clone(), d.clone());
        }
        for (platform, list) in &self.target_deps {
            if !target.matches(Some(platform)) {
                continue;
            }
            for d in list {
                if all.insert(d.name.clone(), d.clone()).is_some() {
                    user_bail!(
                        "{}: `{}` is listed both in [dependencies] and in [target.{platform}.dependencies]; keep one",
                        self.path.display(),
                        d.name
                    );
                }
            }
        }
        if all.is_empty() {
            all.insert(
                "core".into(),
                CrateSpec {
                    name: "core".into(),
                    features: Vec::new(),
                    default_features: true,
                    stage: 0,
                    source: CrateSource::Library,
                },
            );
        }
        let mut stages: BTreeMap<u32, Vec<CrateSpec>> = BTreeMap::new();
        for d in all.into_values() {
            stages.entry(d.stage).or_default().push(d);
        }
        Ok(stages)
    }
}

fn specs(
    table: BTreeMap<String, RawDep>,
    dir: &Path,
    file: &Path,
    section: &str,
) -> Result<Vec<CrateSpec>> {
    let mut out = Vec::new();
    for (name, d) in table {
        let source = source_of(&d, dir, file, &format!("{section}.{name}"))?;
        out.push(CrateSpec {
            name: d.package.clone().unwrap_or(name),
            features: d.features.clone().unwrap_or_default(),
            default_features: d.default_features.unwrap_or(true),
            stage: d.stage.unwrap_or(0),
            source,
        });
    }
    Ok(out)
}

fn source_of(d: &RawDep, dir: &Path, file: &Path, key: &str) -> Result<CrateSource> {
    match (&d.path, &d.git) {
        (Some(_), Some(_)) => user_bail!(
            "{}: `{key}` has both `path` and `git`; keep one",
            file.display()
        ),
        (Some(p), None) => {
            let p = dir.join(p);
            if !p.join("Cargo.toml").is_file() {
                user_bail!(
                    "{}: `{key}.path` = {} has no Cargo.toml; point it at a crate directory",
                    file.display(),
                    p.display()
                );
            }
            Ok(CrateSource::Path(crate::base::fsx::normalize(&p)))
        }
        (None, Some(url)) => {
            let reference = match (&d.branch, &d.tag, &d.rev) {
                (None, None, None) => GitRef::DefaultBranch,
                (Some(b), None, None) => GitRef::Branch(b.clone()),
                (None, Some(t), None) => GitRef::Tag(t.clone()),
                (None, None, Some(r)) => GitRef::Rev(r.clone()),
                _ => user_bail!(
                    "{}: `{key}` may name one of `branch`, `tag` and `rev`; keep one",
                    file.display()
                ),
            };
            Ok(CrateSource::Git {
                url: url.clone(),
                reference,
            })
        }
        (None, None) => {
            if d.branch.is_some() || d.tag.is_some() || d.rev.is_some() {
                user_bail!(
                    "{}: `{key}` has `branch`/`tag`/`rev` but no `git`",
                    file.display()
                );
            }
            Ok(CrateSource::Library)
        }
    }
}
