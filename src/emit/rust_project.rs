//! `sysgen rust-project`: the crate model as rust-analyzer's
//! `rust-project.json`, so people hacking on std, core or a kernel crate get
//! working go-to-definition without Cargo.
//!
//! Every sysroot crate is listed with its root module, edition, deps (by
//! extern name), cfgs (the target's, features, the profile's, `--cfg`
//! flags) and env. The sysroot crates are listed explicitly, so neither
//! `sysroot` nor `sysroot_src` is given (rust-analyzer would add a second
//! copy of std). cfgs that build scripts print (`cargo::rustc-cfg`) exist only
//! after a build: given a finished build directory, they are read from its
//! `@args` files; without one, the crates that have build scripts are named
//! in a note.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::base::fsx;
use crate::model::{EnvValue, Model, UnitDecl};

/// Marks a file sysgen wrote (rust-analyzer ignores fields it does not
/// know), so that sysgen overwrites its own file and no one else's.
const GENERATED_BY: &str = "sysgen";

#[derive(Serialize)]
struct Project {
    generated_by: &'static str,
    crates: Vec<Crate>,
}

/// Refuse, before anything else is done, to replace anything but a
/// rust-project.json sysgen wrote (the rule of [`fsx::check_output`]).
pub fn check_output(path: &Path) -> Result<()> {
    fsx::check_output(path, fsx::Replace::Ours(written_by_sysgen))
}

fn written_by_sysgen(old: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(old)
        .ok()
        .is_some_and(|v| v.get("generated_by").and_then(|g| g.as_str()) == Some(GENERATED_BY))
}

#[derive(Serialize)]
struct Dep {
    #[serde(rename = "crate")]
    krate: usize,
    name: String,
}

#[derive(Serialize)]
struct Source {
    include_dirs: Vec<String>,
    exclude_dirs: Vec<String>,
}

#[derive(Serialize)]
struct Crate {
    display_name: String,
    root_module: String,
    edition: String,
    version: String,
    deps: Vec<Dep>,
    cfg: Vec<String>,
    env: BTreeMap<String, String>,
    is_workspace_member: bool,
    is_proc_macro: bool,
    target: String,
    source: Source,
}

/// The project file, and the crates whose build-script cfgs are missing.
pub fn to_string(m: &Model, build_dir: Option<&Path>) -> Result<(String, Vec<String>)> {
    let listed: Vec<&UnitDecl> = m
        .units
        .iter()
        .filter(|u| u.krate().is_some_and(|c| c.in_sysroot))
        .collect();
    let index: BTreeMap<usize, usize> = listed
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id.0, i))
        .collect();
    let mut missing = Vec::new();
    let mut crates = Vec::new();
    for u in &listed {
        let c = u.krate().expect("filtered");
        let target = &m.target(u.target.expect("a sysroot crate"));
        let sources = c.sources.clone().unwrap_or_default();
        let mut cfg = sources.cfg.clone();
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in &c.env {
            match v {
                EnvValue::Text(s) => {
                    env.insert(k.clone(), s.clone());
                }
                EnvValue::Path(p) => {
                    env.insert(k.clone(), m.real_path(p).display().to_string());
                }
                EnvValue::Rustc => {
                    env.insert(k.clone(), m.rustc.display().to_string());
                }
                EnvValue::OutDir(_) => {}
            }
        }
        if let Some(run) = c.build_script {
            let dir = crate::lower::unit_dir(m, m.unit(run));
            match build_dir {
                Some(b) => {
                    let path = b.join(&dir).join("args");
                    if !path.exists() {
                        crate::user_bail!(
                            "--build-dir {} holds no output of {}'s build script ({} is missing): it was built with other options or not finished; pass the same options as its build, after building it",
                            b.display(),
                            u.package,
                            dir.display()
                        );
                    }
                    let args = std::fs::read_to_string(&path).map_err(|e| {
                        crate::base::fsx::io_error("read the build-script output", &path, &e)
                    })?;
                    let lines: Vec<&str> = args.lines().collect();
                    for w in lines.windows(2) {
                        if w[0] == "--cfg" {
                            cfg.push(w[1].to_string());
                        }
                    }
                    env.insert(
                        "OUT_DIR".into(),
                        b.join(&dir).join("out").display().to_string(),
                    );
                    // `cargo:rustc-env` variables, which rustc's `env!`
                    // reads (std's STD_ENV_ARCH on recent releases).
                    let env_file = b.join(&dir).join("env");
                    for (k, v) in crate::exec::runscript::read_env_file(&env_file)? {
                        env.insert(k, v);
                    }
                }
                None => missing.push(u.package.clone()),
            }
        }
        cfg.sort();
        cfg.dedup();
        // The directories its files live in (stdarch, portable-simd, …).
        let mut dirs: Vec<String> = sources
            .srcs
            .iter()
            .map(|p| {
                let real = m.real_path(p);
                top_dir(&m.real_path(&c.root), &real)
            })
            .collect();
        dirs.sort();
        dirs.dedup();
        // Minimal: no directory inside another one listed.
        let all = dirs.clone();
        dirs.retain(|d| {
            !all.iter()
                .any(|o| o != d && Path::new(d).starts_with(Path::new(o)))
        });
        let deps = c
            .deps
            .iter()
            .filter_map(|d| {
                Some(Dep {
                    krate: *index.get(&d.unit.0)?,
                    name: d.extern_name.clone(),
                })
            })
            .collect();
        crates.push(Crate {
            display_name: c.crate_name.clone(),
            root_module: m.real_path(&c.root).display().to_string(),
            edition: c.edition.clone(),
            version: u.version.clone(),
            deps,
            cfg,
            env,
            is_workspace_member: true,
            is_proc_macro: false,
            target: target.name.clone(),
            source: Source {
                include_dirs: dirs,
                exclude_dirs: Vec::new(),
            },
        });
    }
    let mut s = serde_json::to_string_pretty(&Project {
        generated_by: GENERATED_BY,
        crates,
    })?;
    s.push('\n');
    missing.sort();
    missing.dedup();
    Ok((s, missing))
}

/// The directory a crate's file belongs to: the crate root's directory when
/// it is below it, else the file's own directory (an out-of-tree module).
fn top_dir(root: &Path, file: &Path) -> String {
    let base = root.parent().unwrap_or(Path::new("/"));
    let dir: PathBuf = if file.starts_with(base) {
        base.to_path_buf()
    } else {
        file.parent().unwrap_or(Path::new("/")).to_path_buf()
    };
    crate::base::fsx::normalize(&dir).display().to_string()
}
