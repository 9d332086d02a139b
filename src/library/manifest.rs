//! One package's `Cargo.toml`, reduced to what building it needs.
//!
//! Parsing is Cargo's own schema (`cargo-util-schemas`), so every form Cargo
//! accepts (string or table dependencies, `package =` renames, target tables,
//! `dep:`/weak features, workspace inheritance) deserialises the same way.
//! This module only normalises that schema into [`Package`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Result;
use cargo_platform::Platform;
use cargo_util_schemas::manifest::{
    InheritableDependency, InheritableField, TomlDependency, TomlManifest, TomlPackageBuild,
    TomlWorkspace,
};

use crate::base::error::toml_error_line;
use crate::user_err;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DepKind {
    Normal,
    Build,
    Dev,
}

#[derive(Debug, Clone)]
pub struct Dependency {
    /// The key in the manifest: the extern crate name (after `-` → `_`).
    pub name: String,
    /// The package it names (differs from `name` with `package =`).
    pub package: String,
    pub req: Option<semver::VersionReq>,
    /// Absolute path for `path =` dependencies.
    pub path: Option<PathBuf>,
    pub kind: DepKind,
    pub optional: bool,
    pub default_features: bool,
    pub features: Vec<String>,
    pub platform: Option<Platform>,
    pub public: bool,
}

#[derive(Debug, Clone)]
pub struct LibTarget {
    /// Crate name (`-` already replaced by `_`).
    pub name: String,
    /// `crate-type` as written (empty: `lib`).
    pub crate_types: Vec<String>,
    pub path: PathBuf,
    pub edition: String,
}

/// Package metadata cargo exports to the compiler as `CARGO_PKG_*`.
#[derive(Debug, Clone, Default)]
pub struct PkgMeta {
    pub authors: Vec<String>,
    pub description: String,
    pub homepage: String,
    pub repository: String,
    pub license: String,
    pub license_file: String,
    pub rust_version: String,
    pub readme: String,
}

#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    pub version: semver::Version,
    pub manifest_path: PathBuf,
    pub edition: String,
    pub lib: Option<LibTarget>,
    pub build_script: Option<PathBuf>,
    pub links: Option<String>,
    pub deps: Vec<Dependency>,
    /// `[features]` as written.
    pub features: BTreeMap<String, Vec<String>>,
    /// `cargo-features = [...]` of the manifest.
    pub cargo_features: Vec<String>,
    /// `--check-cfg` values from `[lints.rust.unexpected_cfgs]`.
    pub check_cfg: Vec<String>,
    /// `[lints]` as rustc flags (`--allow=clippy::x`, `--warn=unexpected_cfgs`).
    pub lint_flags: Vec<String>,
    pub meta: PkgMeta,
}

impl Package {
    /// Whether the library asks for an `rlib` by name (std: `["dylib", "rlib"]`);
    /// sysroots hold rlibs only.
    pub fn crate_types_has_rlib(&self) -> bool {
        self.lib
            .as_ref()
            .is_some_and(|l| l.crate_types.iter().any(|t| t == "rlib"))
    }

    pub fn dir(&self) -> &Path {
        self.manifest_path.parent().expect("manifest has a parent")
    }

    /// Optional dependencies that `dep:` syntax hides from the feature namespace.
    pub fn has_implicit_feature(&self, dep_name: &str) -> bool {
        let hidden = format!("dep:{dep_name}");
        self.deps.iter().any(|d| d.optional && d.name == dep_name)
            && !self.features.values().flatten().any(|v| *v == hidden)
    }
}

/// Read and parse a manifest file.
pub fn read_toml_manifest(path: &Path) -> Result<(TomlManifest, String)> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        user_err!(
            "cannot read {}: {e}; check the path, or reinstall rust-src with `rustup component add rust-src`",
            path.display()
        )
    })?;
    let manifest: TomlManifest = toml::from_str(&text).map_err(|e| {
        user_err!(
            "malformed manifest {}: {}; fix the file or reinstall rust-src",
            path.display(),
            toml_error_line(&e, &text)
        )
    })?;
    Ok((manifest, text))
}

/// Load a package manifest. `ws` is the workspace root's `[workspace]` table
/// for members that inherit fields from it.
pub fn load_package(path: &Path, ws: Option<&TomlWorkspace>) -> Result<Package> {
    let (m, _) = read_toml_manifest(path)?;
    let bad = |what: &str| {
        user_err!(
            "malformed manifest {}: {what}; fix the file or reinstall rust-src",
            path.display()
        )
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let pkg = m
        .package
        .as_ref()
        .ok_or_else(|| bad("no [package] table"))?;
    let ws_pkg = ws.and_then(|w| w.package.as_ref());

    macro_rules! inherit {
        ($field:ident) => {
            match &pkg.$field {
                None => None,
                Some(InheritableField::Value(v)) => Some(v.clone()),
                Some(InheritableField::Inherit(_)) => {
                    Some(ws_pkg.and_then(|p| p.$field.clone()).ok_or_else(|| {
                        bad(concat!(
                            "`",
                            stringify!($field),
                            ".workspace = true` but the workspace does not set it"
                        ))
                    })?)
                }
            }
        };
    }

    let name = pkg
        .name
        .as_ref()
        .ok_or_else(|| bad("package has no name"))?
        .to_string();
    let version = inherit!(version).unwrap_or_else(|| semver::Version::new(0, 0, 0));
    let edition = inherit!(edition).unwrap_or_else(|| "2015".to_string());

    let lib = if let Some(l) = &m.lib {
        let lname = l
            .name
            .clone()
            .unwrap_or_else(|| name.clone())
            .replace('-', "_");
        let lpath = l
            .path
            .as_ref()
            .map(|p| dir.join(&p.0))
            .unwrap_or_else(|| dir.join("src/lib.rs"));
        Some(LibTarget {
            name: lname,
            crate_types: l
                .crate_type
                .clone()
                .or(l.crate_type2.clone())
                .unwrap_or_default(),
            path: lpath,
            edition: l.edition.clone().unwrap_or_else(|| edition.clone()),
        })
    } else if dir.join("src/lib.rs").exists() {
        Some(LibTarget {
            name: name.replace('-', "_"),
            crate_types: Vec::new(),
            path: dir.join("src/lib.rs"),
            edition: edition.clone(),
        })
    } else {
        None
    };

    let build_script = match &pkg.build {
        Some(TomlPackageBuild::Auto(false)) => None,
        Some(TomlPackageBuild::SingleScript(s)) => Some(dir.join(s)),
        Some(TomlPackageBuild::MultipleScript(_)) => {
            return Err(bad(
                "several build scripts (`build = [...]`) are not supported",
            ));
        }
        Some(TomlPackageBuild::Auto(true)) => Some(dir.join("build.rs")),
        None => Some(dir.join("build.rs")).filter(|p| p.exists()),
    };

    let mut deps = Vec::new();
    let ws_deps = ws.and_then(|w| w.dependencies.as_ref());
    let mut add = |table: Option<&BTreeMap<_, InheritableDependency>>,
                   kind: DepKind,
                   platform: Option<&Platform>|
     -> Result<()> {
        for (key, dep) in table.into_iter().flatten() {
            let key: &cargo_util_schemas::manifest::PackageName = key;
            deps.push(convert_dep(
                key.as_str(),
                dep,
                kind,
                platform,
                dir,
                ws_deps,
                path,
            )?);
        }
        Ok(())
    };
    add(m.dependencies.as_ref(), DepKind::Normal, None)?;
    add(
        m.build_dependencies
            .as_ref()
            .or(m.build_dependencies2.as_ref()),
        DepKind::Build,
        None,
    )?;
    add(
        m.dev_dependencies.as_ref().or(m.dev_dependencies2.as_ref()),
        DepKind::Dev,
        None,
    )?;
    for (spec, table) in m.target.iter().flatten() {
        let platform =
            Platform::from_str(spec).map_err(|e| bad(&format!("invalid target `{spec}`: {e}")))?;
        add(
            table.dependencies.as_ref(),
            DepKind::Normal,
            Some(&platform),
        )?;
        add(
            table
                .build_dependencies
                .as_ref()
                .or(table.build_dependencies2.as_ref()),
            DepKind::Build,
            Some(&platform),
        )?;
        add(
            table
                .dev_dependencies
                .as_ref()
                .or(table.dev_dependencies2.as_ref()),
            DepKind::Dev,
            Some(&platform),
        )?;
    }

    let features = m
        .features
        .iter()
        .flatten()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();

    let (lint_flags, check_cfg) = manifest_lints(&m, ws);

    let s = |f: Option<String>| f.unwrap_or_default();
    let meta = PkgMeta {
        authors: inherit!(authors).unwrap_or_default(),
        description: s(inherit!(description)),
        homepage: s(inherit!(homepage)),
        repository: s(inherit!(repository)),
        license: s(inherit!(license)),
        license_file: s(inherit!(license_file)),
        rust_version: inherit!(rust_version)
            .map(|v| v.to_string())
            .unwrap_or_default(),
        readme: match inherit!(readme) {
            Some(cargo_util_schemas::manifest::StringOrBool::String(s)) => s,
            _ => String::new(),
        },
    };

    Ok(Package {
        name,
        version,
        manifest_path: path.to_path_buf(),
        edition,
        lib,
        build_script,
        links: pkg.links.clone(),
        deps,
        features,
        cargo_features: m.cargo_features.clone().unwrap_or_default(),
        check_cfg,
        lint_flags,
        meta,
    })
}

fn convert_dep(
    key: &str,
    dep: &InheritableDependency,
    kind: DepKind,
    platform: Option<&Platform>,
    dir: &Path,
    ws_deps: Option<&BTreeMap<cargo_util_schemas::manifest::PackageName, TomlDependency>>,
    manifest: &Path,
) -> Result<Dependency> {
    let mut features = Vec::new();
    let mut optional = false;
    let mut default_features = None;
    let mut public = false;
    let toml_dep: TomlDependency = match dep {
        InheritableDependency::Value(d) => d.clone(),
        InheritableDependency::Inherit(w) => {
            features = w.features.clone().unwrap_or_default();
            optional = w.optional.unwrap_or(false);
            public = w.public.unwrap_or(false);
            default_features = w.default_features.or(w.default_features2);
            ws_deps
                .and_then(|t| t.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v.clone()))
                .ok_or_else(|| {
                    user_err!(
                        "malformed manifest {}: dependency `{key}` says `workspace = true` but [workspace.dependencies] has no `{key}`",
                        manifest.display()
                    )
                })?
        }
    };
    // Workspace-inherited paths are relative to the workspace root; sysgen's
    // library manifests use none, so relative-to-member is the only form here.
    let (req, path, package) = match &toml_dep {
        TomlDependency::Simple(v) => (Some(v.clone()), None, None),
        TomlDependency::Detailed(d) => {
            features.extend(d.features.clone().unwrap_or_default());
            optional |= d.optional.unwrap_or(false);
            public |= d.public.unwrap_or(false);
            default_features = default_features
                .or(d.default_features())
                .or(d.default_features2);
            if d.git.is_some() {
                return Err(user_err!(
                    "{}: git dependency `{key}` is not supported in the library workspace; vendor it and use `path =`",
                    manifest.display()
                ));
            }
            (
                d.version.clone(),
                d.path.as_ref().map(|p| dir.join(p)),
                d.package.as_ref().map(|p| p.to_string()),
            )
        }
    };
    let req = match req {
        Some(r) => Some(semver::VersionReq::parse(&r).map_err(|e| {
            user_err!(
                "malformed manifest {}: dependency `{key}` has invalid version requirement `{r}`: {e}",
                manifest.display()
            )
        })?),
        None => None,
    };
    Ok(Dependency {
        name: key.to_string(),
        package: package.unwrap_or_else(|| key.to_string()),
        req,
        path,
        kind,
        optional,
        default_features: default_features.unwrap_or(true),
        features,
        platform: platform.cloned(),
        public,
    })
}

/// `[lints.rust.unexpected_cfgs]`: its level and its `check-cfg` list, as cargo
/// turns them into `--warn=unexpected_cfgs` and `--check-cfg` flags.
/// `[lints]` as cargo passes them to rustc (`--allow=clippy::x`,
/// `--warn=unexpected_cfgs`, …, ordered by priority then name), and the
/// `check-cfg` list of `[lints.rust.unexpected_cfgs]`.
fn manifest_lints(m: &TomlManifest, ws: Option<&TomlWorkspace>) -> (Vec<String>, Vec<String>) {
    use cargo_util_schemas::manifest::{InheritableLints, TomlLint};
    let lints = match &m.lints {
        Some(InheritableLints {
            workspace: true, ..
        }) => ws.and_then(|w| w.lints.as_ref()),
        Some(l) => Some(&l.lints),
        None => None,
    };
    let mut flags: Vec<(i8, String, String)> = Vec::new();
    let mut check_cfg = Vec::new();
    for (tool, table) in lints.into_iter().flatten() {
        // cargo's own lints (`[lints.cargo]`) are cargo's: rustc does not
        // know the tool, and cargo never passes them.
        if tool == "cargo" {
            continue;
        }
        for (name, lint) in table {
            let full = if tool == "rust" {
                name.clone()
            } else {
                format!("{tool}::{name}")
            };
            let (level, priority) = match lint {
                TomlLint::Level(l) => (*l, 0),
                TomlLint::Config(c) => {
                    if tool == "rust"
                        && name == "unexpected_cfgs"
                        && let Some(a) = c.config.get("check-cfg").and_then(|v| v.as_array())
                    {
                        check_cfg.extend(a.iter().filter_map(|v| v.as_str().map(str::to_string)));
                    }
                    (c.level, c.priority)
                }
            };
            flags.push((
                priority,
                full.clone(),
                format!("--{}={full}", level_name(level)),
            ));
        }
    }
    flags.sort();
    (flags.into_iter().map(|(_, _, f)| f).collect(), check_cfg)
}

fn level_name(l: cargo_util_schemas::manifest::TomlLintLevel) -> String {
    use cargo_util_schemas::manifest::TomlLintLevel::*;
    match l {
        Forbid => "forbid",
        Deny => "deny",
        Warn => "warn",
        Allow => "allow",
    }
    .to_string()
}
