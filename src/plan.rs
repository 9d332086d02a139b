//! From the unit graph to actions: one rustc call or build-script run per
//! unit, with every flag, environment variable, input and output decided.
//! Emitters only format these; none decides a flag.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Result;
use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};

use crate::graph::{BuildGraph, EdgeKind, Platform, UnitKind};
use crate::profile::{ProfileFor, Profiles};
use crate::rules::Rules;
use crate::target::Target;
use crate::util::stable_hash;

/// How the user wants the sysroot built.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Absolute output directory (holds build.ninja and sysroot/).
    pub out_dir: PathBuf,
    pub profile: String,
    pub panic: crate::options::PanicStrategy,
    /// Per target name: extra flags for every sysroot crate (the project's
    /// config rustflags, sysgen.toml's, RUSTFLAGS and --rustflags).
    pub rustflags: BTreeMap<String, Vec<String>>,
    /// Metadata-only sysroot: `.rmeta` files, no code generation.
    pub check: bool,
    /// The sysgen binary, which runs build scripts at build time.
    pub sysgen: PathBuf,
    /// Split each target library's rustc call over a metadata edge and a
    /// codegen edge, so dependents start once the `.rmeta` exists (`pipe.rs`).
    pub pipeline: bool,
    /// `-Zthreads=N` for the crates rules/rustc.toml marks
    /// `parallel-frontend`; 1 leaves rustc's default.
    pub frontend_threads: usize,
}

#[derive(Debug, Clone, Serialize)]
pub enum ActionKind {
    Rustc,
    /// Starts a pipelined rustc call; done once its `.rmeta` is written.
    RustcBegin,
    /// Waits for a pipelined rustc call to finish its `.rlib`.
    RustcEnd,
    RunBuildScript,
}

/// A path as the build sees it: inside the output directory (relative), or
/// outside it (absolute).
pub type BuildPath = String;

#[derive(Debug, Clone, Serialize)]
pub struct Action {
    pub unit: usize,
    pub kind: ActionKind,
    pub crate_name: String,
    pub package: String,
    pub platform: String,
    pub outputs: Vec<BuildPath>,
    pub inputs: Vec<BuildPath>,
    pub implicit_inputs: Vec<BuildPath>,
    pub program: BuildPath,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub depfile: Option<BuildPath>,
    /// rustc writes `$` unescaped into dep-info, which Ninja reads as an
    /// escape: double it after the call when a path of the build has one.
    pub escape_depfile_dollars: bool,
    pub description: String,
}

/// Written at generation time for each build-script run; read by
/// `sysgen run-build-script`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunSpec {
    pub program: PathBuf,
    pub cwd: PathBuf,
    pub env: BTreeMap<String, String>,
    pub out_dir: PathBuf,
    /// rustc argument file the directives become.
    pub args_file: PathBuf,
    /// Raw stdout of the script.
    pub output_file: PathBuf,
    /// `cargo:KEY=VALUE` metadata for dependents' `DEP_<LINKS>_<KEY>`.
    pub metadata_file: PathBuf,
    /// Metadata files of `links` dependencies: (links name, file).
    pub links_deps: Vec<(String, PathBuf)>,
    pub package: String,
}

pub struct Plan {
    pub actions: Vec<Action>,
    /// Files to write before the build runs: (path inside the output
    /// directory, contents).
    pub files: Vec<(PathBuf, String)>,
    /// Per target: the library outputs that make up its sysroot.
    pub sysroot_libs: Vec<(String, Vec<BuildPath>)>,
    /// Everything inside the output directory the build produces or uses
    /// (files, and unit directories kept whole): the rest is stale.
    pub keep: std::collections::BTreeSet<PathBuf>,
}

struct Ctx<'a> {
    g: &'a BuildGraph,
    opts: &'a PlanOptions,
    rules: &'a Rules,
    profiles: Profiles,
    /// Per unit, computed once: everything that changes its output.
    hashes: HashMap<NodeIndex, String>,
    /// `--remap-path-prefix` flags, the same for every call.
    remaps: Vec<String>,
    /// Whether a root path holds a `$` (see [`Action::escape_depfile_dollars`]).
    escape_dollars: bool,
    /// Every library of a target sysroot, in the graph's stable order.
    sysroot_libs: Vec<NodeIndex>,
}

impl<'a> Ctx<'a> {
    fn new(g: &'a BuildGraph, rules: &'a Rules, opts: &'a PlanOptions) -> Result<Ctx<'a>> {
        let registry = g.ws.registry_root();
        let commit = g.rustc.commit_hash.as_deref().unwrap_or("sysgen");
        let mut remaps = vec![format!(
            "--remap-path-prefix={}=/rustc/{commit}/library",
            g.ws.root.display()
        )];
        if let Some(reg) = &registry {
            remaps.push(format!("--remap-path-prefix={}=/rust/deps", reg.display()));
        }
        remaps.push(format!(
            "--remap-path-prefix={}=/sysgen",
            opts.out_dir.display()
        ));
        let escape_dollars = [Some(&g.ws.root), registry.as_ref(), Some(&opts.out_dir)]
            .into_iter()
            .flatten()
            .any(|p| p.to_string_lossy().contains('$'));
        let mut cx = Ctx {
            g,
            opts,
            rules,
            profiles: Profiles::new(&g.ws.profiles, &opts.profile)?,
            hashes: HashMap::new(),
            remaps,
            escape_dollars,
            sysroot_libs: Vec::new(),
        };
        cx.sysroot_libs = g
            .units()
            .into_iter()
            .filter(|&n| cx.is_sysroot_lib(n))
            .collect();
        cx.hashes = g
            .graph
            .node_indices()
            .map(|n| (n, cx.compute_hash(n)))
            .collect();
        Ok(cx)
    }

    fn rel(&self, p: &Path) -> BuildPath {
        match p.strip_prefix(&self.opts.out_dir) {
            Ok(r) => r.to_string_lossy().to_string(),
            Err(_) => p.to_string_lossy().to_string(),
        }
    }

    fn lib_dir(&self, plat: Platform) -> PathBuf {
        match plat {
            Platform::Host => self.opts.out_dir.join("build/host/deps"),
            Platform::Target(i) => self.sysroot_lib_dir(&self.g.targets[i]),
        }
    }

    fn sysroot_lib_dir(&self, t: &Target) -> PathBuf {
        self.opts
            .out_dir
            .join("sysroot/lib/rustlib")
            .join(&t.name)
            .join("lib")
    }

    /// The user's extra flags for units of `plat` (none for the host, as
    /// cargo with `--target` gives build scripts none).
    fn flags_for(&self, plat: Platform) -> &[String] {
        match plat {
            Platform::Host => &[],
            Platform::Target(i) => self
                .opts
                .rustflags
                .get(&self.g.targets[i].name)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
        }
    }

    fn for_(&self, n: NodeIndex) -> ProfileFor {
        match self.g.graph[n].platform {
            Platform::Host => ProfileFor::Host,
            Platform::Target(_) => ProfileFor::Target,
        }
    }

    /// Identity of a unit: everything that changes its output.
    fn unit_hash(&self, n: NodeIndex) -> &str {
        &self.hashes[&n]
    }

    fn compute_hash(&self, n: NodeIndex) -> String {
        let u = &self.g.graph[n];
        let p = &self.g.ws.packages[u.pkg];
        let profile = self.profiles.get(&p.name, self.for_(n));
        let kind = format!("{:?}", u.kind);
        let stage = u.stage.to_string();
        let features = u.features.join(",");
        let prof = format!("{profile:?}");
        let flags = self.flags_for(u.platform).join("\u{1f}");
        let plat = self.g.platform_name(u.platform).to_string();
        let host = if u.platform == Platform::Host {
            "host"
        } else {
            "target"
        };
        let version = p.version.to_string();
        stable_hash(&[
            &p.name,
            &version,
            &kind,
            &plat,
            host,
            &stage,
            &features,
            &prof,
            &flags,
            self.opts.panic.as_str(),
            if self.opts.check { "check" } else { "build" },
            &self.g.rustc.version,
        ])
    }

    fn slug(&self, n: NodeIndex) -> String {
        let p = &self.g.ws.packages[self.g.graph[n].pkg];
        format!("{}-{}", p.name, &self.unit_hash(n)[..12])
    }

    fn unit_dir(&self, n: NodeIndex) -> PathBuf {
        let u = &self.g.graph[n];
        let plat = match u.platform {
            Platform::Host => "host".to_string(),
            Platform::Target(i) => self.g.targets[i].name.clone(),
        };
        self.opts
            .out_dir
            .join("build")
            .join(plat)
            .join(self.slug(n))
    }

    /// The library file a lib unit produces.
    fn lib_output(&self, n: NodeIndex) -> PathBuf {
        let u = &self.g.graph[n];
        let lib = self.g.ws.packages[u.pkg]
            .lib
            .as_ref()
            .expect("lib unit has a lib");
        match u.platform {
            // One file per crate name: a rebuild replaces it, so the sysroot
            // never holds two candidates for one crate.
            Platform::Target(_) => self.lib_dir(u.platform).join(format!(
                "lib{}.{}",
                lib.name,
                if self.opts.check { "rmeta" } else { "rlib" }
            )),
            Platform::Host => self.lib_dir(u.platform).join(format!(
                "lib{}-{}.rlib",
                lib.name,
                &self.unit_hash(n)[..12]
            )),
        }
    }

    /// Whether the unit's rustc call is pipelined: target libraries, whose
    /// dependents are libraries too (build scripts link host libraries).
    fn pipelined(&self, n: NodeIndex) -> bool {
        self.opts.pipeline && !self.opts.check && self.is_sysroot_lib(n)
    }

    /// A library built for a target: it goes into that target's sysroot.
    fn is_sysroot_lib(&self, n: NodeIndex) -> bool {
        let u = &self.g.graph[n];
        u.kind == UnitKind::Lib && u.platform != Platform::Host
    }

    /// Where a pipelined target library's `.rmeta` goes: one directory per
    /// target, outside the sysroot, one file per crate name.
    fn meta_dir(&self, plat: Platform) -> PathBuf {
        let name = &self.g.target_of(plat).name;
        self.opts.out_dir.join("build").join(name).join("meta")
    }

    fn meta_output(&self, n: NodeIndex) -> PathBuf {
        let u = &self.g.graph[n];
        let lib = self.g.ws.packages[u.pkg].lib.as_ref().expect("lib unit");
        self.meta_dir(u.platform)
            .join(format!("lib{}.rmeta", lib.name))
    }

    /// What dependents pass to `--extern`: the metadata when pipelined.
    fn extern_output(&self, n: NodeIndex) -> PathBuf {
        if self.pipelined(n) {
            self.meta_output(n)
        } else {
            self.lib_output(n)
        }
    }

    fn run_of(&self, n: NodeIndex) -> Option<NodeIndex> {
        self.g
            .deps(n)
            .find(|(d, e)| {
                **e == EdgeKind::BuildScript && self.g.graph[*d].kind == UnitKind::BuildScriptRun
            })
            .map(|(d, _)| d)
    }

    fn pkg_env(&self, n: NodeIndex) -> Vec<(String, String)> {
        let u = &self.g.graph[n];
        let p = &self.g.ws.packages[u.pkg];
        let v = &p.version;
        let mut env = vec![
            ("CARGO_MANIFEST_DIR".into(), p.dir().display().to_string()),
            (
                "CARGO_MANIFEST_PATH".into(),
                p.manifest_path.display().to_string(),
            ),
            ("CARGO_PKG_NAME".into(), p.name.clone()),
            ("CARGO_PKG_VERSION".into(), v.to_string()),
            ("CARGO_PKG_VERSION_MAJOR".into(), v.major.to_string()),
            ("CARGO_PKG_VERSION_MINOR".into(), v.minor.to_string()),
            ("CARGO_PKG_VERSION_PATCH".into(), v.patch.to_string()),
            ("CARGO_PKG_VERSION_PRE".into(), v.pre.to_string()),
            ("CARGO_PKG_AUTHORS".into(), p.meta.authors.join(":")),
            ("CARGO_PKG_DESCRIPTION".into(), p.meta.description.clone()),
            ("CARGO_PKG_HOMEPAGE".into(), p.meta.homepage.clone()),
            ("CARGO_PKG_REPOSITORY".into(), p.meta.repository.clone()),
            ("CARGO_PKG_LICENSE".into(), p.meta.license.clone()),
            ("CARGO_PKG_LICENSE_FILE".into(), p.meta.license_file.clone()),
            ("CARGO_PKG_RUST_VERSION".into(), p.meta.rust_version.clone()),
            ("CARGO_PKG_README".into(), p.meta.readme.clone()),
        ];
        let crate_name = match u.kind {
            UnitKind::Lib => p.lib.as_ref().map(|l| l.name.clone()).unwrap_or_default(),
            _ => "build_script_build".into(),
        };
        env.push(("CARGO_CRATE_NAME".into(), crate_name));
        // A build file cannot carry a newline inside a command; the only
        // multi-line value in practice is a description.
        for (_, v) in env.iter_mut() {
            if v.contains(['\n', '\r']) {
                *v = v.split_whitespace().collect::<Vec<_>>().join(" ");
            }
        }
        env
    }

    fn feature_flags(&self, n: NodeIndex) -> Vec<String> {
        let u = &self.g.graph[n];
        let p = &self.g.ws.packages[u.pkg];
        let mut args = Vec::new();
        args.extend(p.lint_flags.iter().cloned());
        for c in &p.check_cfg {
            args.push("--check-cfg".into());
            args.push(c.clone());
        }
        for f in &u.features {
            args.push("--cfg".into());
            args.push(format!("feature=\"{f}\""));
        }
        for c in &self.rules.rustc.check_cfg.always {
            args.push("--check-cfg".into());
            args.push(c.clone());
        }
        let mut all: Vec<String> = p.features.keys().cloned().collect();
        all.extend(
            p.deps
                .iter()
                .filter(|d| p.has_implicit_feature(&d.name))
                .map(|d| d.name.clone()),
        );
        all.sort();
        all.dedup();
        let values: Vec<String> = all.iter().map(|f| format!("\"{f}\"")).collect();
        args.push("--check-cfg".into());
        args.push(format!("cfg(feature, values({}))", values.join(", ")));
        args
    }

    fn profile_flags(&self, n: NodeIndex) -> Vec<String> {
        let u = &self.g.graph[n];
        let p = &self.g.ws.packages[u.pkg];
        let prof = self.profiles.get(&p.name, self.for_(n));
        let mut a = Vec::new();
        if prof.opt_level != "0" {
            a.push("-C".into());
            a.push(format!("opt-level={}", prof.opt_level));
        }
        if self.is_sysroot_lib(n) {
            use crate::options::PanicStrategy;
            match self.opts.panic {
                PanicStrategy::Unwind => {}
                p => a.extend(["-C".into(), format!("panic={p}")]),
            }
        }
        if !prof.lto {
            a.push("-C".into());
            a.push("embed-bitcode=no".into());
        }
        if let Some(c) = prof.codegen_units {
            a.push("-C".into());
            a.push(format!("codegen-units={c}"));
        }
        if prof.debuginfo != 0 {
            a.push("-C".into());
            a.push(format!("debuginfo={}", prof.debuginfo));
        }
        let opt_default_da = prof.opt_level == "0";
        if prof.debug_assertions != opt_default_da {
            a.push("-C".into());
            a.push(format!(
                "debug-assertions={}",
                if prof.debug_assertions { "on" } else { "off" }
            ));
        }
        if prof.overflow_checks != prof.debug_assertions {
            a.push("-C".into());
            a.push(format!(
                "overflow-checks={}",
                if prof.overflow_checks { "on" } else { "off" }
            ));
        }
        let strip = prof.strip.clone().or_else(|| {
            (prof.debuginfo == 0 && self.profiles.is_release_like()).then(|| "debuginfo".into())
        });
        if let Some(s) = strip.filter(|s| s != "none") {
            a.push("-C".into());
            a.push(format!("strip={s}"));
        }
        a
    }

    /// What differs between compiling a library and compiling a build
    /// script: the crate, its source, its kind and where its output goes.
    fn crate_of(
        &self,
        n: NodeIndex,
    ) -> (
        String,
        String,
        PathBuf,
        &'static str,
        PathBuf,
        PathBuf,
        String,
    ) {
        let u = &self.g.graph[n];
        let p = &self.g.ws.packages[u.pkg];
        if u.kind == UnitKind::Lib {
            let lib = p.lib.as_ref().expect("lib unit has a lib");
            let crate_type = if p.crate_types_has_rlib() {
                "rlib"
            } else {
                "lib"
            };
            let desc = format!(
                "{} {} ({})",
                p.name,
                p.version,
                self.g.platform_name(u.platform)
            );
            let depfile = self.unit_dir(n).with_extension("d");
            (
                lib.name.clone(),
                lib.edition.clone(),
                lib.path.clone(),
                crate_type,
                self.lib_output(n),
                depfile,
                desc,
            )
        } else {
            let script = p.build_script.clone().expect("package has a build script");
            let dir = self.unit_dir(n);
            let desc = format!("{} {} build script", p.name, p.version);
            let (exe, depfile) = (
                dir.join("build-script-build"),
                dir.join("build-script-build.d"),
            );
            (
                "build_script_build".into(),
                p.edition.clone(),
                script,
                "bin",
                exe,
                depfile,
                desc,
            )
        }
    }

    /// The rustc call of a library or build-script compile unit: one
    /// action, or two when pipelined (see `pipe.rs`).
    fn rustc_actions(&self, n: NodeIndex, unit: usize) -> Vec<Action> {
        let u = &self.g.graph[n];
        let p = &self.g.ws.packages[u.pkg];
        let (crate_name, edition, src, crate_type, out, depfile, description) = self.crate_of(n);
        let pipelined = self.pipelined(n);
        let meta = pipelined.then(|| self.meta_output(n));
        let emit = match &meta {
            Some(m) => format!(
                "--emit=dep-info={},metadata={},link={}",
                self.rel(&depfile),
                self.rel(m),
                self.rel(&out)
            ),
            None if self.opts.check && self.is_sysroot_lib(n) => {
                format!(
                    "--emit=dep-info={},metadata={}",
                    self.rel(&depfile),
                    self.rel(&out)
                )
            }
            None => format!(
                "--emit=dep-info={},link={}",
                self.rel(&depfile),
                self.rel(&out)
            ),
        };
        let mut args = vec![
            "--crate-name".into(),
            crate_name.clone(),
            format!("--edition={edition}"),
            src.display().to_string(),
            "--crate-type".into(),
            crate_type.into(),
            emit,
        ];
        if pipelined {
            args.extend(crate::pipe::RUSTC_FLAGS.iter().map(|f| f.to_string()));
        }
        args.extend(self.profile_flags(n));
        args.extend(self.feature_flags(n));
        args.push("-C".into());
        args.push(format!("metadata={}", &self.unit_hash(n)[..16]));
        let is_target = u.platform != Platform::Host;
        if is_target {
            args.push("--target".into());
            args.push(self.g.target_of(u.platform).arg.clone());
        }
        let unit_rules = if is_target {
            &self.rules.rustc.target_lib
        } else {
            &self.rules.rustc.host
        };
        args.extend(unit_rules.flags.iter().cloned());
        let dep_dir = if pipelined {
            self.meta_dir(u.platform)
        } else {
            self.lib_dir(u.platform)
        };
        args.push("-L".into());
        args.push(format!("dependency={}", self.rel(&dep_dir)));
        let mut implicit = vec![self.rel(&self.g.rustc.path)];
        let priv_deps = is_target && p.cargo_features.iter().any(|f| f == "public-dependency");
        for (d, e) in self.g.deps(n) {
            if let EdgeKind::Extern { name, public } = e {
                let path = self.rel(&self.extern_output(d));
                let prefix = if priv_deps && !public { "priv:" } else { "" };
                args.push("--extern".into());
                args.push(format!("{prefix}{name}={path}"));
                implicit.push(path);
            }
        }
        if is_target && u.stage > 0 {
            // A stage builds against the sysroot of the stages below, where
            // a crate may find any of their crates without declaring it.
            for &m in &self.sysroot_libs {
                let lower = &self.g.graph[m];
                if lower.platform == u.platform && lower.stage < u.stage {
                    implicit.push(self.rel(&self.lib_output(m)));
                }
            }
        }
        if is_target {
            // A sysroot in which only what this build made is visible: the
            // prebuilt std can never be picked up (no duplicate lang items).
            args.push("--sysroot".into());
            args.push(self.rel(&self.opts.out_dir.join("sysroot")));
            let prof = self.profiles.get(&p.name, ProfileFor::Target);
            args.extend(prof.rustflags.iter().cloned());
            args.extend(self.flags_for(u.platform).iter().cloned());
        }
        if let Some(extra) = self
            .rules
            .rustc
            .krate
            .get(&p.name)
            .filter(|_| u.kind == UnitKind::Lib)
        {
            args.extend(extra.flags.iter().cloned());
            if extra.parallel_frontend && self.opts.frontend_threads > 1 {
                args.push(format!("-Zthreads={}", self.opts.frontend_threads));
            }
        }
        args.extend(self.remaps.iter().cloned());
        let mut env: Vec<(String, String)> = unit_rules
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        env.extend(self.pkg_env(n));
        if let Some(run) = self.run_of(n) {
            let rd = self.unit_dir(run);
            let args_file = rd.join("args");
            args.push(format!("@{}", self.rel(&args_file)));
            implicit.push(self.rel(&args_file));
            env.push(("OUT_DIR".into(), rd.join("out").display().to_string()));
        }
        let platform = self.g.platform_name(u.platform).to_string();
        let rustc = self.g.rustc.path.display().to_string();
        let Some(meta) = meta else {
            return vec![Action {
                unit,
                kind: ActionKind::Rustc,
                crate_name,
                package: p.name.clone(),
                platform,
                outputs: vec![self.rel(&out)],
                inputs: vec![src.display().to_string()],
                implicit_inputs: implicit,
                program: rustc,
                args,
                env,
                depfile: Some(self.rel(&depfile)),
                escape_depfile_dollars: self.escape_dollars,
                description,
            }];
        };
        let state = self.rel(&self.unit_dir(n));
        // rustc writes the rlib while Ninja may not have started the codegen
        // edge (whose output directory that is) for a long time.
        let rlib_dir = self.rel(out.parent().expect("an output has a directory"));
        let mut begin_args = vec![
            "pipe-begin".to_string(),
            "--mkdir".into(),
            rlib_dir,
            state.clone(),
            "--".into(),
            rustc,
        ];
        begin_args.extend(args);
        // Not an input: a new sysgen regenerates build.ninja, and only a
        // changed command line rebuilds.
        let sysgen = self.opts.sysgen.display().to_string();
        vec![
            Action {
                unit,
                kind: ActionKind::RustcBegin,
                crate_name: crate_name.clone(),
                package: p.name.clone(),
                platform: platform.clone(),
                outputs: vec![self.rel(&meta)],
                inputs: vec![src.display().to_string()],
                implicit_inputs: implicit,
                program: sysgen.clone(),
                args: begin_args,
                env,
                depfile: Some(self.rel(&depfile)),
                escape_depfile_dollars: self.escape_dollars,
                description: description.clone(),
            },
            Action {
                unit,
                kind: ActionKind::RustcEnd,
                crate_name,
                package: p.name.clone(),
                platform,
                outputs: vec![self.rel(&out)],
                inputs: vec![self.rel(&meta)],
                implicit_inputs: Vec::new(),
                program: sysgen,
                args: vec!["pipe-end".into(), state, self.rel(&meta), self.rel(&out)],
                env: Vec::new(),
                depfile: None,
                escape_depfile_dollars: false,
                description,
            },
        ]
    }

    fn run_action(
        &self,
        n: NodeIndex,
        unit: usize,
        files: &mut Vec<(PathBuf, String)>,
    ) -> Result<Action> {
        let u = &self.g.graph[n];
        let p = &self.g.ws.packages[u.pkg];
        let target = self.g.target_of(u.platform);
        let dir = self.unit_dir(n);
        let compile = self
            .g
            .deps(n)
            .find(|(d, _)| self.g.graph[*d].kind == UnitKind::BuildScriptCompile)
            .map(|(d, _)| d)
            .expect("run has a compile");
        let exe = self.unit_dir(compile).join("build-script-build");
        let prof = self.profiles.get(&p.name, ProfileFor::Target);
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in self.pkg_env(n) {
            env.insert(k, v);
        }
        env.insert("OUT_DIR".into(), dir.join("out").display().to_string());
        env.insert("TARGET".into(), target.name.clone());
        env.insert("HOST".into(), self.g.host.name.clone());
        env.insert("NUM_JOBS".into(), "1".into());
        env.insert("OPT_LEVEL".into(), prof.opt_level.clone());
        env.insert("DEBUG".into(), (prof.debuginfo != 0).to_string());
        env.insert(
            "PROFILE".into(),
            if self.profiles.is_release_like() {
                "release"
            } else {
                "debug"
            }
            .into(),
        );
        env.insert("RUSTC".into(), self.g.rustc.path.display().to_string());
        env.insert("RUSTC_BOOTSTRAP".into(), "1".into());
        let mut flags = prof.rustflags.clone();
        flags.extend(self.flags_for(u.platform).iter().cloned());
        env.insert("CARGO_ENCODED_RUSTFLAGS".into(), flags.join("\u{1f}"));
        if let Some(l) = &p.links {
            env.insert("CARGO_MANIFEST_LINKS".into(), l.clone());
        }
        for f in &u.features {
            env.insert(
                format!("CARGO_FEATURE_{}", f.to_uppercase().replace('-', "_")),
                "1".into(),
            );
        }
        let mut cfgs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for c in &target.cfg {
            match c {
                cargo_platform::Cfg::Name(name) => {
                    cfgs.entry(name.as_str().to_string()).or_default();
                }
                cargo_platform::Cfg::KeyPair(k, v) => {
                    cfgs.entry(k.as_str().to_string())
                        .or_default()
                        .push(v.clone());
                }
            }
        }
        if !prof.debug_assertions {
            cfgs.remove("debug_assertions");
        } else {
            cfgs.entry("debug_assertions".into()).or_default();
        }
        for (k, v) in cfgs {
            env.insert(format!("CARGO_CFG_{}", k.to_uppercase()), v.join(","));
        }
        let mut links_deps = Vec::new();
        let mut implicit = vec![self.rel(&exe)];
        for (d, e) in self.g.deps(n) {
            if *e == EdgeKind::LinksMetadata {
                let other = &self.g.ws.packages[self.g.graph[d].pkg];
                let f = self.unit_dir(d).join("metadata");
                implicit.push(self.rel(&f));
                links_deps.push((other.links.clone().unwrap_or_default(), f));
            }
        }
        let spec = RunSpec {
            program: exe.clone(),
            cwd: p.dir().to_path_buf(),
            env,
            out_dir: dir.join("out"),
            args_file: dir.join("args"),
            output_file: dir.join("output"),
            metadata_file: dir.join("metadata"),
            links_deps,
            package: p.name.clone(),
        };
        let spec_path = dir.join("run.json");
        files.push((
            PathBuf::from(self.rel(&spec_path)),
            serde_json::to_string_pretty(&spec)? + "\n",
        ));
        Ok(Action {
            unit,
            kind: ActionKind::RunBuildScript,
            crate_name: "build_script_build".into(),
            package: p.name.clone(),
            platform: target.name.clone(),
            outputs: vec![self.rel(&spec.args_file), self.rel(&spec.metadata_file)],
            inputs: vec![self.rel(&spec_path)],
            implicit_inputs: implicit,
            program: self.opts.sysgen.display().to_string(),
            args: vec!["run-build-script".into(), self.rel(&spec_path)],
            env: Vec::new(),
            depfile: Some(self.rel(&dir.join("args.d"))),
            escape_depfile_dollars: false,
            description: format!(
                "{} {} build script run ({})",
                p.name, p.version, target.name
            ),
        })
    }
}

pub fn plan(g: &BuildGraph, rules: &Rules, opts: &PlanOptions) -> Result<Plan> {
    let cx = Ctx::new(g, rules, opts)?;
    let mut actions = Vec::new();
    let mut files = Vec::new();
    for (i, n) in g.units().into_iter().enumerate() {
        let a = match g.graph[n].kind {
            UnitKind::Lib | UnitKind::BuildScriptCompile => cx.rustc_actions(n, i),
            UnitKind::BuildScriptRun => vec![cx.run_action(n, i, &mut files)?],
        };
        actions.extend(a);
    }
    let mut keep: std::collections::BTreeSet<PathBuf> = g
        .graph
        .node_indices()
        .map(|n| PathBuf::from(cx.rel(&cx.unit_dir(n))))
        .collect();
    for a in &actions {
        keep.extend(a.outputs.iter().chain(&a.depfile).map(PathBuf::from));
    }
    keep.retain(|p| p.is_relative());
    let mut sysroot_libs = Vec::new();
    for (t, target) in g.targets.iter().enumerate() {
        let mut libs: Vec<BuildPath> = cx
            .sysroot_libs
            .iter()
            .filter(|&&n| g.graph[n].platform == Platform::Target(t))
            .map(|&n| cx.rel(&cx.lib_output(n)))
            .collect();
        libs.sort();
        sysroot_libs.push((target.name.clone(), libs));
    }
    Ok(Plan {
        actions,
        files,
        sysroot_libs,
        keep,
    })
}
