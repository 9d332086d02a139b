//! The user's project, as Xargo read it: the `[profile.*]` of its
//! `Cargo.toml` and the rustflags of its `.cargo/config.toml` chain. Both
//! reach every sysroot crate, and both are generator inputs, so editing
//! them regenerates the build and rebuilds the sysroot.

use std::path::{Path, PathBuf};

use anyhow::Result;
use cargo_platform::Platform;
use cargo_util_schemas::manifest::TomlProfiles;

use crate::base::error::toml_error_line;
use crate::library::profile::PanicStrategy;
use crate::toolchain::target::{CompileTarget, Target};
use crate::{user_bail, user_err};

#[derive(Debug, Clone, Default)]
pub struct Project {
    /// `[profile]` of the project's Cargo.toml.
    pub profiles: Option<TomlProfiles>,
    /// Files read (for the generator's rebuild rule).
    pub inputs: Vec<PathBuf>,
    /// `build.rustflags`, merged over the config chain.
    build_rustflags: Option<Vec<String>>,
    /// `target.<triple or cfg>.rustflags`.
    target_rustflags: Vec<(Platform, Vec<String>)>,
    /// `build.rustdocflags`, merged over the config chain.
    pub build_rustdocflags: Option<Vec<String>>,
    /// `build.target` of the nearest config that sets it (`.json` paths
    /// made absolute, as cargo resolves them).
    pub build_target: Vec<String>,
    /// `build.rustc-wrapper` of the nearest config that sets it.
    pub rustc_wrapper: Option<String>,
}

/// The directory a config file's relative paths start from: the one
/// holding its `.cargo/`.
fn config_base(file: &Path) -> &Path {
    file.parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("/"))
}

/// A config value that may be a path: relative paths with a `/` are
/// relative to the directory holding `.cargo/`.
fn config_relative(value: &str, file: &Path) -> String {
    if value.contains('/') && Path::new(value).is_relative() {
        config_base(file).join(value).display().to_string()
    } else {
        value.to_string()
    }
}

fn read_toml(path: &Path) -> Result<Option<toml::Table>> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = crate::base::fsx::read_text(path)?;
    let t: toml::Table = toml::from_str(&text).map_err(|e| {
        user_err!(
            "malformed {}: {}; fix the file or move it away",
            path.display(),
            toml_error_line(&e, &text)
        )
    })?;
    Ok(Some(t))
}

/// A rustflags value: an array of flags, or one space-separated string.
fn flags(v: &toml::Value, file: &Path, key: &str) -> Result<Vec<String>> {
    let flags = flag_list(v, file, key)?;
    crate::toolchain::flags::check(&format!("{}: `{key}`", file.display()), &flags)?;
    Ok(flags)
}

fn flag_list(v: &toml::Value, file: &Path, key: &str) -> Result<Vec<String>> {
    match v {
        toml::Value::String(s) => Ok(s.split_whitespace().map(str::to_string).collect()),
        toml::Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    user_err!("{}: `{key}` must be a list of strings", file.display())
                })
            })
            .collect(),
        _ => Err(user_err!(
            "{}: `{key}` must be a string or a list of strings",
            file.display()
        )),
    }
}

impl Project {
    pub fn load(dir: &Path) -> Result<Project> {
        let mut p = Project::default();
        let manifest = dir.join("Cargo.toml");
        if let Some(t) = read_toml(&manifest)? {
            p.inputs.push(manifest.clone());
            if let Some(prof) = t.get("profile") {
                let profiles: TomlProfiles = prof.clone().try_into().map_err(|e| {
                    user_err!(
                        "{}: bad [profile] table: {}",
                        manifest.display(),
                        crate::base::error::one_line(&e.to_string())
                    )
                })?;
                p.profiles = Some(profiles);
            }
        }
        // Cargo's config chain: the project directory up to the root, then
        // the Cargo home; nearer files come first and win for target flags,
        // arrays of build flags are joined (farther first, like cargo).
        let mut files = Vec::new();
        for d in dir.ancestors() {
            for name in ["config.toml", "config"] {
                let f = d.join(".cargo").join(name);
                if f.is_file() {
                    files.push(f);
                    break;
                }
            }
        }
        if let Ok(home) = crate::toolchain::locate::cargo_home() {
            let f = home.join("config.toml");
            if f.is_file() && !files.contains(&f) {
                files.push(f);
            }
        }
        let mut build: Vec<Vec<String>> = Vec::new();
        let mut rustdoc: Vec<Vec<String>> = Vec::new();
        let mut target_set = false;
        for f in &files {
            let Some(t) = read_toml(f)? else { continue };
            p.inputs.push(f.clone());
            if let Some(v) = t.get("build").and_then(|b| b.get("rustflags")) {
                build.push(flags(v, f, "build.rustflags")?);
            }
            if let Some(v) = t.get("build").and_then(|b| b.get("rustdocflags")) {
                rustdoc.push(flags(v, f, "build.rustdocflags")?);
            }
            if let Some(v) = t.get("build").and_then(|b| b.get("target"))
                && !target_set
            {
                target_set = true;
                p.build_target = flags(v, f, "build.target")?
                    .iter()
                    .map(|t| {
                        CompileTarget::parse(t)
                            .relative_to(config_base(f))
                            .rustc_arg()
                    })
                    .collect();
            }
            if let Some(v) = t.get("build").and_then(|b| b.get("rustc-wrapper"))
                && p.rustc_wrapper.is_none()
            {
                let Some(w) = v.as_str() else {
                    user_bail!("{}: `build.rustc-wrapper` must be a string", f.display());
                };
                p.rustc_wrapper = Some(config_relative(w, f));
            }
            if let Some(toml::Value::Table(targets)) = t.get("target") {
                for (name, table) in targets {
                    let Some(v) = table.get("rustflags") else {
                        continue;
                    };
                    let platform: Platform = name.parse().map_err(|e| {
                        user_err!(
                            "{}: [target.{name}] is not a target or cfg ({e})",
                            f.display()
                        )
                    })?;
                    p.target_rustflags
                        .push((platform, flags(v, f, &format!("target.{name}.rustflags"))?));
                }
            }
        }
        if !build.is_empty() {
            p.build_rustflags = Some(build.into_iter().rev().flatten().collect());
        }
        if !rustdoc.is_empty() {
            p.build_rustdocflags = Some(rustdoc.into_iter().rev().flatten().collect());
        }
        Ok(p)
    }

    /// Flags for `target` as cargo picks them from config: every matching
    /// `target.*.rustflags` if any, else `build.rustflags`.
    pub fn rustflags_for(&self, target: &Target) -> Vec<String> {
        let matching: Vec<&String> = self
            .target_rustflags
            .iter()
            .filter(|(p, _)| target.matches(Some(p)))
            .flat_map(|(_, f)| f)
            .collect();
        if !matching.is_empty() {
            return matching.into_iter().cloned().collect();
        }
        self.build_rustflags.clone().unwrap_or_default()
    }

    /// `panic` of the project's profile `name` (following `inherits`).
    pub fn panic(&self, name: &str) -> Result<Option<PanicStrategy>> {
        let Some(profiles) = self.profiles.as_ref() else {
            return Ok(None);
        };
        for cur in crate::library::profile::inherits_chain(profiles, name)? {
            let Some(panic) = profiles.0.get(cur.as_str()).and_then(|p| p.panic.as_ref()) else {
                continue;
            };
            return PanicStrategy::parse(panic).map(Some).ok_or_else(|| {
                user_err!(
                    "{}: [profile.{cur}] panic = {panic:?} is not unwind, abort or immediate-abort",
                    self.inputs
                        .first()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                )
            });
        }
        Ok(None)
    }
}
