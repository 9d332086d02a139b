//! Targets: built-in triples and target-spec JSON files, and what rustc
//! says about them (`--print cfg`, the spec's `metadata.std`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;
use cargo_platform::{Cfg, Platform};

use crate::{user_bail, user_err};

/// How sysgen calls the compiler.
#[derive(Debug, Clone)]
pub struct Rustc {
    pub path: PathBuf,
    pub sysroot: PathBuf,
    pub host: String,
    /// `rustc -vV` first line, for the build's fingerprint.
    pub version: String,
    /// `release:` of `rustc -vV` (`1.95.0`, `1.97.0-nightly`).
    pub release: String,
    /// `commit-hash` of `rustc -vV`: the prebuilt std's `/rustc/<hash>` prefix.
    pub commit_hash: Option<String>,
    /// A tool that compiles the sysroot in this compiler's place (`--for`).
    pub driver: Option<Driver>,
}

/// A driver built on the compiler's own (Miri's) that compiles the sysroot
/// in its place: found in the compiler's `<sysroot>/bin`, asked about
/// targets with `probe_env`.
#[derive(Debug, Clone)]
pub struct Driver {
    /// What `--for` called it.
    pub name: String,
    pub path: PathBuf,
    /// Its own version line (part of every unit's identity).
    pub version: String,
    /// Its environment when it answers for a target (`--print cfg`).
    pub probe_env: Vec<(String, String)>,
}

impl Driver {
    /// `binary` beside the compiler, with its version; a missing one is the
    /// user's to install with rustup's `component`.
    pub fn find(
        rustc: &Rustc,
        name: &str,
        binary: &str,
        component: &str,
        version_args: &[String],
        probe_env: Vec<(String, String)>,
    ) -> Result<Driver> {
        let path = rustc.sysroot.join("bin").join(binary);
        if !path.is_file() {
            let toolchain = rustc
                .sysroot
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            user_bail!(
                "{name} is not installed for {} (no {}); install it with `rustup component add {component} --toolchain {toolchain}` ({name} ships with nightly toolchains)",
                rustc.version,
                path.display()
            );
        }
        let key = crate::toolchain::probe_cache::identity(&path)
            .map(|id| format!("driver {id} {}", version_args.join(" ")));
        let version = match key.as_deref().and_then(crate::toolchain::probe_cache::get) {
            Some(v) => v,
            None => {
                let out = probe(&path)
                    .args(version_args)
                    .output()
                    .map_err(|e| cannot_run(&path, &e))?;
                let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
                if !out.status.success() || v.is_empty() {
                    user_bail!(
                        "`{} {}` failed ({}); reinstall it with `rustup component add {component}`",
                        path.display(),
                        version_args.join(" "),
                        first_line(&out.stderr)
                    );
                }
                if let Some(k) = &key {
                    crate::toolchain::probe_cache::put(k, &v);
                }
                v
            }
        };
        Ok(Driver {
            name: name.to_string(),
            path,
            version,
            probe_env,
        })
    }
}

/// The cache key of `rustc --print sysroot`: the binary's identity and,
/// for a rustup proxy, everything rustup picks the toolchain from
/// (`RUSTUP_TOOLCHAIN`, the settings file with its default and directory
/// overrides, `rust-toolchain` files from the working directory up).
fn sysroot_key(path: &Path) -> Option<String> {
    let resolved = if path.components().count() > 1 {
        path.to_path_buf()
    } else {
        let paths = std::env::var_os("PATH")?;
        std::env::split_paths(&paths)
            .map(|d| d.join(path))
            .find(|p| p.is_file())?
    };
    let mut key = format!(
        "rustc --print sysroot {}",
        crate::toolchain::probe_cache::identity(&resolved)?
    );
    let real = std::fs::canonicalize(&resolved).ok()?;
    let is_proxy = real
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("rustup"));
    if is_proxy {
        let cwd = std::env::current_dir().ok()?;
        key.push_str(&format!(
            " toolchain={:?} cwd={}",
            std::env::var_os("RUSTUP_TOOLCHAIN"),
            cwd.display()
        ));
        let home = home::rustup_home().ok()?;
        let settings = std::fs::read_to_string(home.join("settings.toml")).unwrap_or_default();
        key.push_str(&format!(
            " settings={}",
            crate::base::hash::stable_hash(&[&settings])
        ));
        for dir in cwd.ancestors() {
            for f in ["rust-toolchain", "rust-toolchain.toml"] {
                if let Ok(t) = std::fs::read_to_string(dir.join(f)) {
                    key.push_str(&format!(
                        " {}={}",
                        dir.join(f).display(),
                        crate::base::hash::stable_hash(&[&t])
                    ));
                }
            }
        }
    }
    Some(key)
}

impl Rustc {
    /// `rustc --print sysroot`, from the cache when nothing that chooses the
    /// compiler changed (through the rustup proxy it costs ~25 ms).
    fn sysroot(path: &Path) -> Result<PathBuf> {
        let key = sysroot_key(path);
        if let Some(s) = key.as_deref().and_then(crate::toolchain::probe_cache::get) {
            let s = PathBuf::from(s);
            if s.join("bin").is_dir() {
                return Ok(s);
            }
        }
        let out = probe(path)
            .args(["--print", "sysroot"])
            .output()
            .map_err(|e| cannot_run(path, &e))?;
        if !out.status.success() {
            user_bail!(
                "`{} --print sysroot` failed: {}; pass a working compiler with --rustc PATH",
                path.display(),
                first_line(&out.stderr)
            );
        }
        let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if sysroot.is_empty() || !Path::new(&sysroot).is_dir() {
            user_bail!(
                "`{} --print sysroot` printed {:?}, not a directory; {} does not look like rustc: pass a real compiler with --rustc PATH",
                path.display(),
                sysroot,
                path.display()
            );
        }
        if let Some(k) = &key {
            crate::toolchain::probe_cache::put(k, &sysroot);
        }
        Ok(PathBuf::from(sysroot))
    }

    pub fn probe(path: &Path) -> Result<Rustc> {
        let sysroot = Self::sysroot(path)?;
        // Prefer the real compiler over a rustup proxy: build files then name
        // a binary whose change ninja can see, and the cache keys on it.
        let real = sysroot.join("bin").join("rustc");
        let path = if real.is_file() {
            real
        } else {
            path.to_path_buf()
        };
        let key =
            crate::toolchain::probe_cache::identity(&path).map(|id| format!("rustc -vV {id}"));
        // A cached answer that does not parse is a miss, not an error.
        let cached = key
            .as_deref()
            .and_then(crate::toolchain::probe_cache::get)
            .and_then(|t| VersionInfo::parse(&t));
        let info = match cached {
            Some(i) => i,
            None => {
                let out = probe(&path)
                    .arg("-vV")
                    .output()
                    .map_err(|e| cannot_run(&path, &e))?;
                if !out.status.success() {
                    user_bail!(
                        "`{} -vV` failed: {}; pass a working compiler with --rustc PATH",
                        path.display(),
                        first_line(&out.stderr)
                    );
                }
                let t = String::from_utf8_lossy(&out.stdout).to_string();
                let Some(info) = VersionInfo::parse(&t) else {
                    user_bail!(
                        "`{} -vV` printed no `host:` line; it does not look like rustc: pass a real compiler with --rustc PATH",
                        path.display()
                    );
                };
                if let Some(k) = &key {
                    crate::toolchain::probe_cache::put(k, &t);
                }
                info
            }
        };
        let VersionInfo {
            host,
            version,
            release,
            commit_hash,
        } = info;
        Ok(Rustc {
            path,
            sysroot,
            host,
            version,
            release,
            commit_hash,
            driver: None,
        })
    }

    /// What compiles the sysroot's crates: the driver, else rustc.
    pub fn compiler(&self) -> &Path {
        self.driver.as_ref().map_or(&self.path, |d| &d.path)
    }
}

/// What `rustc -vV` says.
struct VersionInfo {
    host: String,
    version: String,
    release: String,
    commit_hash: Option<String>,
}

impl VersionInfo {
    fn parse(text: &str) -> Option<VersionInfo> {
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_string())
        };
        let host = field("host: ").filter(|h| !h.is_empty())?;
        let version = text.lines().next()?.to_string();
        Some(VersionInfo {
            host,
            release: field("release: ")
                .unwrap_or_else(|| version.split_whitespace().nth(1).unwrap_or("").to_string()),
            commit_hash: field("commit-hash: ").filter(|h| h != "unknown"),
            version,
        })
    }
}

fn first_line(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output")
        .trim()
        .to_string()
}

/// One of a build's targets: an index into its list of targets (the
/// graph's `targets`, and the model's in the same order).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct TargetId(pub usize);

/// A spec file as rustc reads it: an absolute path whose directories are
/// resolved but whose name is the one given — rustc names the target after
/// the file's stem and, by name, looks for `NAME.json` in a directory, so
/// a symbolic link must not be replaced by what it points at. Refused with
/// one line when it is not there or is no regular file (a FIFO would hang
/// the probe).
fn spec_path(p: &Path, given: &str) -> Result<PathBuf> {
    let meta = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => user_bail!(
            "target spec file {given} does not exist; pass a built-in triple or an existing .json file"
        ),
        Err(e) => return Err(crate::base::fsx::io_error("read the target spec", p, &e)),
    };
    if !meta.is_file() {
        user_bail!(
            "target spec file {given} is {}, not a JSON file; pass a built-in triple or a .json file",
            crate::base::fsx::file_kind(&meta)
        );
    }
    let dir = match p.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.to_path_buf(),
        None => PathBuf::from("."),
    };
    let dir = std::fs::canonicalize(&dir)
        .map_err(|e| crate::base::fsx::io_error("read the target spec", p, &e))?;
    Ok(dir.join(p.file_name().unwrap_or_default()))
}

/// What `--target` names, parsed once (rustc's rule: a value ending in
/// `.json` is a target-spec file, anything else a built-in triple).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CompileTarget {
    Triple(String),
    SpecFile(PathBuf),
    /// A custom target rustc finds by name (`NAME.json` in
    /// RUST_TARGET_PATH, see [`Target::probe`]), pinned to the file found:
    /// compiled as `--target NAME` with RUST_TARGET_PATH set to the spec's
    /// directory, so its crates carry the name, as the user's own compiles
    /// by that name expect (rustc tells a target given by path apart by a
    /// hash of the file).
    Named {
        name: String,
        spec: PathBuf,
    },
}

impl CompileTarget {
    pub fn parse(s: &str) -> CompileTarget {
        if s.ends_with(".json") {
            CompileTarget::SpecFile(PathBuf::from(s))
        } else {
            CompileTarget::Triple(s.to_string())
        }
    }

    /// A relative spec file made absolute against `base` (where the value
    /// was written: the working directory, a config's directory).
    pub fn relative_to(self, base: &Path) -> CompileTarget {
        match self {
            CompileTarget::SpecFile(p) if p.is_relative() => CompileTarget::SpecFile(base.join(p)),
            t => t,
        }
    }

    /// What to pass to rustc's `--target`.
    pub fn rustc_arg(&self) -> String {
        match self {
            CompileTarget::Triple(t) | CompileTarget::Named { name: t, .. } => t.clone(),
            CompileTarget::SpecFile(p) => p.display().to_string(),
        }
    }

    /// The RUST_TARGET_PATH under which `--target` finds the spec by name.
    pub fn target_path(&self) -> Option<&Path> {
        match self {
            CompileTarget::Named { spec, .. } => spec.parent(),
            _ => None,
        }
    }

    /// The name rustc and the sysroot use: the triple, or the file's stem.
    pub fn short_name(&self) -> String {
        match self {
            CompileTarget::Triple(t) | CompileTarget::Named { name: t, .. } => t.clone(),
            CompileTarget::SpecFile(p) => p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }

    pub fn spec_file(&self) -> Option<&Path> {
        match self {
            CompileTarget::Triple(_) => None,
            CompileTarget::SpecFile(p) | CompileTarget::Named { spec: p, .. } => Some(p),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Target {
    /// The name rustc and the sysroot use: a triple, or a JSON file's stem.
    pub name: String,
    /// What `--target` names (a spec file by its canonical path).
    pub kind: CompileTarget,
    pub cfg: Vec<Cfg>,
    /// `metadata.std` of the target spec.
    pub supports_std: Option<bool>,
}

impl Target {
    /// The JSON file of a custom target.
    pub fn spec_file(&self) -> Option<&Path> {
        self.kind.spec_file()
    }

    pub fn matches(&self, platform: Option<&Platform>) -> bool {
        platform.is_none_or(|p| p.matches(&self.name, &self.cfg))
    }

    pub fn cfg_value(&self, key: &str) -> Option<&str> {
        self.cfg.iter().find_map(|c| match c {
            Cfg::KeyPair(k, v) if k.as_str() == key => Some(v.as_str()),
            _ => None,
        })
    }

    pub fn has_cfg(&self, name: &str) -> bool {
        self.cfg
            .iter()
            .any(|c| matches!(c, Cfg::Name(n) if n.as_str() == name))
    }

    /// Whether std is expected to build (cargo's `maybe_support_std`).
    pub fn maybe_supports_std(&self) -> bool {
        self.supports_std != Some(false)
    }

    /// A target from `rustc --print cfg` text, without asking rustc (tests,
    /// and cached probes).
    pub fn from_cfg_text(name: &str, cfg_text: &str, supports_std: Option<bool>) -> Result<Target> {
        let mut cfg = Vec::new();
        for line in cfg_text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            cfg.push(
                line.parse::<Cfg>()
                    .map_err(|e| anyhow::anyhow!("cfg `{line}`: {e}"))?,
            );
        }
        Ok(Target {
            name: name.to_string(),
            kind: CompileTarget::Triple(name.to_string()),
            cfg,
            supports_std,
        })
    }

    /// A target as the sysroot's compiler sees it (through the driver,
    /// when there is one: Miri's adds `cfg(miri)`).
    pub fn probe(rustc: &Rustc, spec: &str) -> Result<Target> {
        Self::probe_as(rustc, rustc.driver.as_ref(), spec)
    }

    /// The host as build scripts are compiled for it: by plain rustc.
    pub fn probe_host(rustc: &Rustc) -> Result<Target> {
        Self::probe_as(rustc, None, &rustc.host)
    }

    fn probe_as(rustc: &Rustc, driver: Option<&Driver>, spec: &str) -> Result<Target> {
        let compiler = driver.map_or(&rustc.path, |d| &d.path);
        let kind = match CompileTarget::parse(spec) {
            CompileTarget::SpecFile(p) => CompileTarget::SpecFile(spec_path(&p, spec)?),
            CompileTarget::Triple(name) => Self::by_name(rustc, &name)?,
            named @ CompileTarget::Named { .. } => named,
        };
        let (name, arg, spec_file) = (
            kind.short_name(),
            kind.rustc_arg(),
            kind.spec_file().map(Path::to_path_buf),
        );
        let spec_text = match &spec_file {
            Some(f) => crate::base::fsx::read_text(f)?,
            None => String::new(),
        };
        let probe_env: &[(String, String)] = driver.map_or(&[], |d| &d.probe_env);
        let key = crate::toolchain::probe_cache::identity(compiler).map(|id| {
            format!(
                "target {id} {arg} {} {probe_env:?}",
                crate::base::hash::stable_hash(&[&spec_text])
            )
        });
        // A cached answer that does not parse is a miss, not an error.
        if let Some(t) = key
            .as_deref()
            .and_then(crate::toolchain::probe_cache::get)
            .and_then(|text| Target::from_probe_output(&name, kind.clone(), &text).ok())
        {
            return Ok(t);
        }
        let mut cmd = probe(compiler);
        cmd.envs(probe_env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = kind.target_path() {
            cmd.env("RUST_TARGET_PATH", dir);
        }
        let out = cmd
            .env("RUSTC_BOOTSTRAP", "1")
            .args([
                "-Zunstable-options",
                "--print",
                "cfg",
                "--print",
                "target-spec-json",
                "--target",
                &arg,
            ])
            .output()
            .map_err(|e| cannot_run(compiler, &e))?;
        if !out.status.success() {
            let msg = first_line(&out.stderr);
            if spec_file.is_some() {
                user_bail!(
                    "target spec {spec} is invalid: {msg}; fix the JSON (compare `rustc -Z unstable-options --print target-spec-json --target <triple>`)"
                );
            }
            user_bail!(
                "unknown target `{spec}`: {msg}; see `rustc --print target-list` or pass a target-spec .json file"
            );
        }
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let t = Target::from_probe_output(&name, kind, &text).map_err(|e| {
            user_err!(
                "`{} --print cfg --target {arg}` printed something that is not a cfg list ({e}); pass a real compiler with --rustc PATH",
                compiler.display()
            )
        })?;
        if let Some(k) = &key {
            crate::toolchain::probe_cache::put(k, &text);
        }
        Ok(t)
    }

    /// A target given by name, resolved once, as rustc resolves it: a
    /// built-in target, else `NAME.json` in RUST_TARGET_PATH's directories
    /// (the working directory when it is unset or empty). A spec found so
    /// is that spec file from then on, wherever the build runs
    /// ([`CompileTarget::Named`]).
    fn by_name(rustc: &Rustc, name: &str) -> Result<CompileTarget> {
        let path = std::env::var_os("RUST_TARGET_PATH").unwrap_or_default();
        let cwd = crate::base::fsx::current_dir()?;
        let found = std::env::split_paths(&path)
            .map(|d| cwd.join(d).join(format!("{name}.json")))
            .find(|f| f.is_file());
        let Some(file) = found else {
            return Ok(CompileTarget::Triple(name.to_string()));
        };
        if Self::built_in(rustc)?.iter().any(|t| t == name) {
            return Ok(CompileTarget::Triple(name.to_string()));
        }
        let spec = spec_path(&file, name)?;
        Ok(CompileTarget::Named {
            name: name.to_string(),
            spec,
        })
    }

    /// `rustc --print target-list`, cached.
    fn built_in(rustc: &Rustc) -> Result<Vec<String>> {
        let key = crate::toolchain::probe_cache::identity(&rustc.path)
            .map(|id| format!("target-list {id}"));
        if let Some(text) = key.as_deref().and_then(crate::toolchain::probe_cache::get) {
            return Ok(text.lines().map(str::to_string).collect());
        }
        let out = probe(&rustc.path)
            .args(["--print", "target-list"])
            .output()
            .map_err(|e| cannot_run(&rustc.path, &e))?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if out.status.success()
            && let Some(k) = &key
        {
            crate::toolchain::probe_cache::put(k, &text);
        }
        Ok(text.lines().map(str::to_string).collect())
    }

    /// Parse rustc's answer to `--print cfg --print target-spec-json`.
    pub fn from_probe_output(name: &str, kind: CompileTarget, text: &str) -> Result<Target> {
        let json_start = text.find("\n{").map(|i| i + 1).unwrap_or(text.len());
        let (cfg_text, json_text) = text.split_at(json_start);
        let supports_std = serde_json::from_str::<serde_json::Value>(json_text)
            .ok()
            .and_then(|v| v.get("metadata")?.get("std")?.as_bool());
        let mut t = Target::from_cfg_text(name, cfg_text, supports_std)?;
        t.kind = kind;
        Ok(t)
    }
}

/// The one message for a compiler that cannot be started.
fn cannot_run(rustc: &Path, e: &std::io::Error) -> anyhow::Error {
    user_err!(
        "cannot run rustc `{}`: {e}; pass --rustc PATH or set RUSTC",
        rustc.display()
    )
}

/// The compiler run to ask it something: without the jobserver variables of
/// a make that runs sysgen from a recipe (its descriptors are closed there,
/// and rustc warns that it cannot reach them; a question needs no tokens).
fn probe(rustc: &Path) -> Command {
    let mut c = Command::new(rustc);
    crate::base::jobserver_env::forget(&mut c);
    c
}
