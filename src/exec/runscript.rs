//! `sysgen run-build-script SPEC`: the build-time half of a build script.
//!
//! Runs the compiled script with the environment cargo would give it (fixed
//! at generation time in SPEC), then turns its `cargo:`/`cargo::` directives
//! into a rustc argument file (`@args`, one argument per line), an
//! environment file (`env`: `cargo:rustc-env=NAME=VALUE` lines, which reach
//! rustc as cargo passes them, in its environment — never as an unstable
//! flag a release may drop), a metadata file for `links` dependents, and a
//! depfile of its `rerun-if-changed` paths. Files are written only when their contents change, so ninja's
//! `restat` skips recompiling a crate whose script said the same again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::base::fsx::write_atomic;

/// Written at generation time for each build-script run; read by
/// `sysgen run-build-script`. Paths inside the output directory are
/// relative to it (the runner runs there, wherever it has moved); the
/// runner makes them absolute where the script needs them (`OUT_DIR`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunSpec {
    pub program: PathBuf,
    /// The package directory: the script's working directory.
    pub cwd: PathBuf,
    /// The script's environment, but `OUT_DIR`, as it is.
    pub env: BTreeMap<String, String>,
    /// Variables whose values are paths relative to the directory the
    /// runner runs in (a Bazel action's execution root, known only there).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env_paths: BTreeMap<String, String>,
    pub out_dir: PathBuf,
    /// rustc argument file the directives become.
    pub args_file: PathBuf,
    /// The variables of `cargo:rustc-env`, `NAME=VALUE` a line: what the
    /// compile's wrapper sets in rustc's environment (`--env-file`).
    pub env_file: PathBuf,
    /// Whether `rustc-check-cfg` directives become `--check-cfg` flags (the
    /// compiler's release decides: rules/rustc.toml `[check-cfg]`).
    #[serde(default = "yes")]
    pub check_cfg: bool,
    /// Raw stdout of the script.
    pub output_file: PathBuf,
    /// `cargo:KEY=VALUE` metadata for dependents' `DEP_<LINKS>_<KEY>`.
    pub metadata_file: PathBuf,
    /// Metadata files of `links` dependencies: (links name, file).
    pub links_deps: Vec<(String, PathBuf)>,
    /// Where the stamps of `rerun-if-env-changed` variables go (see
    /// [`crate::exec::envdeps`]); none where the build's environment is
    /// fixed (Bazel's actions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_stamps: Option<PathBuf>,
    pub package: String,
}

fn yes() -> bool {
    true
}

/// What a script's output means for the crate's rustc call.
#[derive(Debug, Default, PartialEq)]
pub struct Directives {
    pub rustc_args: Vec<String>,
    /// `rustc-check-cfg` values (flags only where the release checks cfgs).
    pub check_cfg: Vec<String>,
    /// `rustc-env`: set in rustc's environment.
    pub rustc_env: Vec<(String, String)>,
    pub metadata: Vec<(String, String)>,
    pub rerun_if_changed: Vec<String>,
    pub rerun_if_env_changed: Vec<String>,
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
}

/// Parse build-script stdout, both the `cargo:` and the `cargo::` syntax.
pub fn parse(stdout: &str) -> Directives {
    let mut d = Directives::default();
    for line in stdout.lines() {
        let (rest, new_syntax) = if let Some(r) = line.strip_prefix("cargo::") {
            (r, true)
        } else if let Some(r) = line.strip_prefix("cargo:") {
            (r, false)
        } else {
            continue;
        };
        let Some((key, value)) = rest.split_once('=') else {
            continue;
        };
        let value = value.to_string();
        match key {
            "rustc-cfg" => d.rustc_args.extend(["--cfg".into(), value]),
            "rustc-check-cfg" => d.check_cfg.push(value),
            "rustc-env" if !value.contains('=') => d.errors.push(format!(
                "`cargo:rustc-env={value}` has no `=`: it takes NAME=VALUE"
            )),
            "rustc-env" => {
                let (k, v) = value.split_once('=').expect("checked above");
                d.rustc_env.push((k.to_string(), v.to_string()));
            }
            "rustc-link-lib" => d.rustc_args.extend(["-l".into(), value]),
            "rustc-link-search" => d.rustc_args.extend(["-L".into(), value]),
            "rustc-flags" => {
                let mut it = value.split_whitespace();
                while let Some(flag) = it.next() {
                    match flag {
                        "-l" | "-L" => {
                            if let Some(v) = it.next() {
                                d.rustc_args.extend([flag.to_string(), v.to_string()]);
                            }
                        }
                        f if f.starts_with("-l") || f.starts_with("-L") => d
                            .rustc_args
                            .extend([f[..2].to_string(), f[2..].to_string()]),
                        f => d.errors.push(format!(
                            "`cargo:rustc-flags` allows only -l and -L flags, not `{f}` (use `cargo:rustc-cfg` and the other directives for the rest)"
                        )),
                    }
                }
            }
            "warning" => d.warnings.push(value),
            "error" => d.errors.push(value),
            "rerun-if-changed" => d.rerun_if_changed.push(value),
            "rerun-if-env-changed" => d.rerun_if_env_changed.push(value),
            // Linker arguments apply to binaries, never to a sysroot rlib.
            "rustc-link-arg"
            | "rustc-link-arg-bins"
            | "rustc-link-arg-tests"
            | "rustc-link-arg-examples"
            | "rustc-link-arg-benches"
            | "rustc-link-arg-cdylib"
            | "rustc-cdylib-link-arg"
            | "rustc-link-arg-bin" => {}
            "metadata" if new_syntax => {
                if let Some((k, v)) = value.split_once('=') {
                    d.metadata.push((k.to_string(), v.to_string()));
                }
            }
            k if !new_syntax => d.metadata.push((k.to_string(), value)),
            _ => {}
        }
    }
    d
}

/// The variables of an environment file (`--env-file`), as the build
/// script's run wrote them. A missing file is none (a crate compiled before
/// its script ran cannot be).
pub fn read_env_file(path: &Path) -> Result<Vec<(String, String)>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(crate::base::fsx::io_error("read", path, &e)),
    };
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// The depfile of a run for Make, beside its `args`.
pub const MAKE_DEPFILE: &str = "args.mk.d";

fn depfile_escape(p: &str) -> String {
    p.replace('\\', "\\\\")
        .replace(' ', "\\ ")
        .replace('$', "$$")
        .replace('#', "\\#")
}

/// What a script's run depends on, with cargo's rules: the paths of
/// `rerun-if-changed` (relative to the package directory; a directory
/// stands for itself and every file below it), the stamps of
/// `rerun-if-env-changed` variables, and — when the script printed no
/// `rerun-if` line at all — every file of the package.
fn inputs(spec: &RunSpec, d: &Directives, started: std::time::SystemTime) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if d.rerun_if_changed.is_empty() && d.rerun_if_env_changed.is_empty() {
        files_below(&spec.cwd, true, &mut out);
    }
    for p in &d.rerun_if_changed {
        let p = PathBuf::from(p);
        let abs = if p.is_absolute() { p } else { spec.cwd.join(p) };
        if abs.is_dir() {
            files_below(&abs, false, &mut out);
        }
        out.push(abs);
    }
    if let Some(dir) = &spec.env_stamps {
        for var in &d.rerun_if_env_changed {
            let stamp = crate::exec::envdeps::record(dir, var, started).with_context(|| {
                format!(
                    "the build script of `{}` names the variable {var:?} (rerun-if-env-changed)",
                    spec.package
                )
            })?;
            out.push(stamp);
        }
        crate::exec::envdeps::own(
            &spec.args_file.with_file_name("env-vars"),
            &d.rerun_if_env_changed,
            dir,
        )?;
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Every file below `dir` (as cargo lists a package's files: not its
/// `target` directory nor hidden ones, when `package` is set).
fn files_below(dir: &Path, package: bool, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if package && (name.starts_with('.') || name == "target") {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => files_below(&e.path(), package, out),
            Ok(t) if t.is_file() => out.push(e.path()),
            _ => {}
        }
    }
}

pub fn run(spec_path: &Path) -> Result<()> {
    let text = crate::base::fsx::read_text(spec_path)?;
    let spec: RunSpec =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", spec_path.display()))?;
    crate::base::fsx::create_dir_all(&spec.out_dir)?;
    let here = crate::base::fsx::current_dir()?;
    let mut cmd = Command::new(here.join(&spec.program));
    cmd.current_dir(&spec.cwd)
        .envs(&spec.env)
        .envs(spec.env_paths.iter().map(|(k, p)| (k, here.join(p))))
        .env("OUT_DIR", here.join(&spec.out_dir));
    for (links, file) in &spec.links_deps {
        let meta = std::fs::read_to_string(file).unwrap_or_default();
        for line in meta.lines() {
            if let Some((k, v)) = line.split_once('=') {
                let name = format!(
                    "DEP_{}_{}",
                    links.to_uppercase().replace('-', "_"),
                    k.to_uppercase().replace('-', "_")
                );
                cmd.env(name, v);
            }
        }
    }
    let started = std::time::SystemTime::now();
    let out = cmd
        .output()
        .with_context(|| format!("running build script {}", spec.program.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    write_atomic(&spec.output_file, stdout.as_bytes())?;
    let d = parse(&stdout);
    for w in &d.warnings {
        eprintln!("warning: {}: {w}", spec.package);
    }
    if !out.status.success() || !d.errors.is_empty() {
        eprintln!(
            "error: the build script of `{}` failed ({})",
            spec.package, out.status
        );
        eprintln!(
            "--- stdout\n{stdout}--- stderr\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for e in &d.errors {
            eprintln!("error: {}: {e}", spec.package);
        }
        std::process::exit(1);
    }
    // One argument a line, each ended: a script that says nothing makes an
    // empty file, never an empty argument.
    let check_cfg = d
        .check_cfg
        .iter()
        .filter(|_| spec.check_cfg)
        .flat_map(|c| ["--check-cfg", c.as_str()]);
    let args: String = d
        .rustc_args
        .iter()
        .map(String::as_str)
        .chain(check_cfg)
        .map(|a| format!("{a}\n"))
        .collect();
    write_atomic(&spec.args_file, args.as_bytes())?;
    let env: String = d
        .rustc_env
        .iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    write_atomic(&spec.env_file, env.as_bytes())?;
    let meta: String = d
        .metadata
        .iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    write_atomic(&spec.metadata_file, meta.as_bytes())?;
    let inputs = inputs(&spec, &d, started)?;
    // Ninja's names the output as the build file does (relative to the
    // output directory), Make's absolutely, as its fragment does.
    let depfile = |target: &Path, deps: &mut dyn Iterator<Item = PathBuf>| {
        let deps: Vec<String> = deps
            .map(|p| depfile_escape(&p.display().to_string()))
            .collect();
        format!(
            "{}: {}\n",
            depfile_escape(&target.display().to_string()),
            deps.join(" ")
        )
    };
    let ninja = depfile(&spec.args_file, &mut inputs.iter().cloned());
    write_atomic(&spec.args_file.with_file_name("args.d"), ninja.as_bytes())?;
    let make = depfile(
        &here.join(&spec.args_file),
        &mut inputs.iter().map(|p| here.join(p)),
    );
    write_atomic(
        &spec.args_file.with_file_name(MAKE_DEPFILE),
        make.as_bytes(),
    )?;
    Ok(())
}
