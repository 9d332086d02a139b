//! Layout and lowering: from crate declarations ([`crate::model`]) to the
//! actions of a file-based build (Ninja): where every output goes inside
//! the output directory, and the command that makes it.
//!
//! Layout (paths relative to the output directory):
//! - `sysroot/lib/rustlib/<target>/lib/lib<crate>.rlib`: one file per crate
//!   name, so a rebuild replaces a crate and never leaves a second
//!   candidate (`.rmeta` with `--check`);
//! - `build/<target>/meta/lib<crate>.rmeta`: a pipelined crate's metadata,
//!   what its dependents compile against, outside the sysroot;
//! - `build/<platform>/<package>-<hash>/`: a unit's own directory (the
//!   pipelining state, a build script's binary, a run's OUT_DIR and the
//!   `@args` its directives become); `build/host/deps/`: host libraries.
//!
//! The only decisions made here are about the build itself: pipelining
//! (one rustc over two edges, [`crate::exec::pipe`]), depfiles, `@args` files,
//! and the paths the layout implies. Every other argument comes from the
//! model, unchanged.
//!
//! The build is relocatable: every path inside the output directory is
//! relative to it (the build runs there), and where rustc needs it
//! absolute (a build script's `OUT_DIR`, the remap prefix of the working
//! directory) a command names [`Part::OutDir`], which the emitter renders
//! as the directory the build runs in (`$PWD` for Ninja). A moved or
//! copied output directory builds in place.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::exec::runscript::RunSpec;
use crate::lower::plan::{Action, ActionKind, BuildPath, Part, Plan, Word, words};
use crate::model::{
    Body, CrateType, Emit, EnvValue, Model, OUT_VIRTUAL_NAME, SrcPath, UnitDecl, UnitId,
};
use crate::toolchain::target::TargetId;

/// How the build runs.
#[derive(Debug, Clone)]
pub struct LowerOptions {
    /// Where the output directory is now (only to know whether dep-info
    /// will hold a `$`): nothing in the build depends on it.
    pub out_dir: PathBuf,
    /// Metadata-only sysroot: `.rmeta` files, no code generation.
    pub check: bool,
    /// The sysgen binary, which runs build scripts and pipelined compiles.
    pub sysgen: PathBuf,
    /// Split each target library's rustc call over a metadata edge and a
    /// codegen edge, so dependents start once the `.rmeta` exists.
    pub pipeline: bool,
    /// Commands run in the output directory (Ninja). Otherwise (Make) they
    /// run elsewhere, and that directory is remapped too.
    pub runs_in_out_dir: bool,
    /// `RUSTC_WRAPPER`: every rustc call becomes `WRAPPER rustc …`, as
    /// cargo calls it. It must not change what rustc writes.
    pub rustc_wrapper: Option<String>,
}

struct Layout<'a> {
    m: &'a Model,
    opts: &'a LowerOptions,
    /// `--remap-path-prefix` flags, the same for every call.
    remaps: Vec<Word>,
    /// Whether a root path holds a `$` (see [`Action::escape_depfile_dollars`]).
    escape_dollars: bool,
    /// Front ends off the critical path ([`super::schedule`]).
    background: BTreeSet<UnitId>,
}

impl<'a> Layout<'a> {
    fn new(m: &'a Model, opts: &'a LowerOptions) -> Layout<'a> {
        let mut remaps: Vec<Word> = m
            .roots
            .iter()
            .filter_map(|r| {
                let v = r.virtual_name.as_ref()?;
                Some(format!("--remap-path-prefix={}={v}", r.path.display()).into())
            })
            .collect();
        let remap = |p: Part| {
            Word(vec![
                Part::Text("--remap-path-prefix=".into()),
                p,
                Part::Text(format!("={OUT_VIRTUAL_NAME}")),
            ])
        };
        // rustc uses the last remapping that matches: the output directory
        // wins over a working directory that contains it.
        if !opts.runs_in_out_dir {
            remaps.push(remap(Part::Cwd));
        }
        remaps.push(remap(Part::OutDir));
        let escape_dollars = m
            .roots
            .iter()
            .filter(|r| r.virtual_name.is_some())
            .map(|r| r.path.as_path())
            .chain([opts.out_dir.as_path()])
            .any(|p| p.to_string_lossy().contains('$'));
        Layout {
            background: if opts.pipeline {
                super::schedule::background_front_ends(m)
            } else {
                BTreeSet::new()
            },
            m,
            opts,
            remaps,
            escape_dollars,
        }
    }

    /// A layout path (relative to the output directory) or an input's
    /// absolute path, as the build names it.
    fn rel(&self, p: &Path) -> BuildPath {
        p.to_string_lossy().to_string()
    }

    fn src(&self, p: &SrcPath) -> String {
        self.m.real_path(p).display().to_string()
    }

    fn sysroot_lib_dir(&self, target: TargetId) -> PathBuf {
        Path::new("sysroot/lib/rustlib")
            .join(&self.m.target(target).name)
            .join("lib")
    }

    fn lib_dir(&self, u: &UnitDecl) -> PathBuf {
        match u.target {
            None => PathBuf::from("build/host/deps"),
            Some(t) => self.sysroot_lib_dir(t),
        }
    }

    fn unit_dir(&self, u: &UnitDecl) -> PathBuf {
        unit_dir(self.m, u)
    }

    /// `--env-stamps .sysgen/env` where a build runs in the output
    /// directory (Ninja): the variables a compile reads are tracked there
    /// ([`crate::exec::envdeps`]). Make's fragment runs elsewhere and has
    /// no such check.
    fn env_stamps(&self) -> Vec<Word> {
        if self.opts.runs_in_out_dir {
            vec!["--env-stamps".into(), Word::out(crate::exec::envdeps::DIR)]
        } else {
            Vec::new()
        }
    }

    fn crate_name(u: &UnitDecl) -> &str {
        &u.krate().expect("a crate unit").crate_name
    }

    /// The library file a lib unit produces.
    fn lib_output(&self, u: &UnitDecl) -> PathBuf {
        let name = Self::crate_name(u);
        match u.target {
            Some(t) => Path::new("sysroot").join(sysroot_library(self.m, t, name, self.opts.check)),
            None => self
                .lib_dir(u)
                .join(format!("lib{name}-{}.rlib", &u.hash[..12])),
        }
    }

    /// Whether the unit's rustc call is pipelined: sysroot libraries,
    /// whose dependents are libraries too (build scripts link host ones).
    fn pipelined(&self, u: &UnitDecl) -> bool {
        self.opts.pipeline && !self.opts.check && u.krate().is_some_and(|c| c.in_sysroot)
    }

    fn meta_dir(&self, target: TargetId) -> PathBuf {
        Path::new("build")
            .join(&self.m.target(target).name)
            .join("meta")
    }

    fn meta_output(&self, u: &UnitDecl) -> PathBuf {
        let t = u.target.expect("a pipelined unit is a target's");
        self.meta_dir(t)
            .join(format!("lib{}.rmeta", Self::crate_name(u)))
    }

    /// What dependents pass to `--extern`: the metadata when pipelined.
    fn extern_output(&self, u: &UnitDecl) -> PathBuf {
        if self.pipelined(u) {
            self.meta_output(u)
        } else {
            self.lib_output(u)
        }
    }

    fn out_dir_of(&self, run: UnitId) -> PathBuf {
        self.unit_dir(self.m.unit(run)).join("out")
    }

    fn env_value(&self, v: &EnvValue) -> Word {
        match v {
            EnvValue::Text(s) => s.clone().into(),
            EnvValue::Path(p) => self.src(p).into(),
            // An absolute path: include!(concat!(env!("OUT_DIR"), …)) is
            // resolved relative to the including file otherwise.
            EnvValue::OutDir(run) => Word::in_out_dir(&self.rel(&self.out_dir_of(*run))),
            EnvValue::Rustc => self.m.rustc.display().to_string().into(),
        }
    }

    /// The rustc call of a crate: one action, or two when pipelined.
    fn rustc_actions(&self, u: &UnitDecl) -> Vec<Action> {
        let c = u.krate().expect("a crate unit");
        let bin = c.crate_type == CrateType::Bin;
        let (out, depfile) = if bin {
            let dir = self.unit_dir(u);
            (
                dir.join("build-script-build"),
                dir.join("build-script-build.d"),
            )
        } else {
            (self.lib_output(u), self.unit_dir(u).with_extension("d"))
        };
        let pipelined = self.pipelined(u);
        // The model says what rustc writes; the layout says where. A check
        // sysroot's metadata is its library; otherwise metadata goes beside
        // the sysroot, where pipelined dependents read it.
        let meta = if !c.emit.contains(&Emit::Metadata) || !c.emit.contains(&Emit::Link) {
            out.clone()
        } else {
            self.meta_output(u)
        };
        // `--objects`: one object per crate, beside the build (kernels link
        // `core.o`).
        let object = match u.target {
            Some(t) => Path::new("build")
                .join(&self.m.target(t).name)
                .join("obj")
                .join(format!("{}.o", c.crate_name)),
            None => out.with_extension("o"),
        };
        let mut emit = vec![Part::Text("--emit=".into())];
        for (i, e) in c.emit.iter().enumerate() {
            let path = match e {
                Emit::DepInfo => &depfile,
                Emit::Metadata => &meta,
                Emit::Link => &out,
                Emit::Obj => &object,
            };
            let sep = if i == 0 { "" } else { "," };
            emit.push(Part::Text(format!("{sep}{}=", e.as_str())));
            emit.push(Part::Out(self.rel(path)));
        }
        let src = self.src(&c.root);
        let mut args = vec![Word::from(src.clone()), Word(emit)];
        args.extend(words(u.args()));
        if let Some(spec) = u.target.and_then(|t| self.m.target(t).spec_by_path()) {
            args.extend(["--target".into(), spec.display().to_string().into()]);
        }
        let dep_dir = match (pipelined, u.target) {
            (true, Some(t)) => self.meta_dir(t),
            _ => self.lib_dir(u),
        };
        args.push("-L".into());
        args.push(Word::prefixed("dependency=", self.rel(&dep_dir)));
        let mut implicit = vec![self.rel(&self.m.rustc)];
        // A custom target's spec: what it says is an input of every compile
        // for it (a kernel's target.json changes with its configuration).
        implicit.extend(self.spec_input(u));
        for d in &c.deps {
            let path = self.rel(&self.extern_output(self.m.unit(d.unit)));
            let prefix = if d.private { "priv:" } else { "" };
            args.push("--extern".into());
            args.push(Word::prefixed(format!("{prefix}{}=", d.extern_name), &path));
            implicit.push(path);
        }
        for &l in &c.sysroot_deps {
            implicit.push(self.rel(&self.lib_output(self.m.unit(l))));
        }
        if u.target.is_some() {
            // A sysroot in which only what this build made is visible: the
            // prebuilt std can never be picked up (no duplicate lang items).
            args.push("--sysroot".into());
            args.push(Word::out("sysroot"));
        }
        args.extend(self.remaps.iter().cloned());
        let env: Vec<(String, Word)> = c
            .env
            .iter()
            .map(|(k, v)| (k.clone(), self.env_value(v)))
            .collect();
        // A build script's directives: its flags as an `@args` file, its
        // `rustc-env` variables set by the wrapper (`--env-file`).
        let mut wrapper_args: Vec<Word> = Vec::new();
        if let Some(run) = c.build_script {
            let dir = self.unit_dir(self.m.unit(run));
            let args_file = dir.join("args");
            args.push(Word::prefixed("@", self.rel(&args_file)));
            implicit.push(self.rel(&args_file));
            let env_file = dir.join("env");
            wrapper_args.extend(["--env-file".into(), Word::out(self.rel(&env_file))]);
            implicit.push(self.rel(&env_file));
        }
        let rustc = self.m.rustc.display().to_string();
        // `[wrapper] rustc`.
        let mut compiler: Vec<String> = self.opts.rustc_wrapper.iter().cloned().collect();
        compiler.push(rustc);
        if !pipelined {
            let mut outputs = vec![self.rel(&out)];
            if c.emit.contains(&Emit::Obj) {
                outputs.push(self.rel(&object));
            }
            if c.in_sysroot && meta != out {
                outputs.push(self.rel(&meta));
            }
            let (program, args) = if c.in_sysroot || !wrapper_args.is_empty() {
                // rustc speaks JSON (the model says so): show its
                // diagnostics as text; set a build script's variables.
                let mut a: Vec<Word> = words(vec!["run-rustc".into()]);
                a.extend(self.env_stamps());
                a.extend(wrapper_args);
                a.push("--".into());
                a.extend(words(compiler));
                a.extend(args);
                (self.opts.sysgen.display().to_string(), a)
            } else {
                let program = compiler.remove(0);
                let mut a = words(compiler);
                a.extend(args);
                (program, a)
            };
            return vec![Action {
                unit: u.id,
                kind: ActionKind::Rustc,
                outputs,
                inputs: vec![src],
                implicit_inputs: implicit,
                program,
                args,
                env,
                depfile: Some(self.rel(&depfile)),
                escape_depfile_dollars: self.escape_dollars,
                description: u.description.clone(),
                state: None,
            }];
        }
        let state = self.rel(&self.unit_dir(u));
        // rustc writes the rlib while Ninja may not have started the codegen
        // edge (whose output directory that is) for a long time.
        let rlib_dir = self.rel(out.parent().expect("an output has a directory"));
        let mut begin_args: Vec<Word> =
            vec!["pipe-begin".into(), "--mkdir".into(), Word::out(rlib_dir)];
        begin_args.extend(self.env_stamps());
        begin_args.extend(wrapper_args);
        if self.background.contains(&u.id) {
            begin_args.push("--background".into());
        }
        let mut end_outputs = vec![self.rel(&out)];
        if c.emit.contains(&Emit::Obj) {
            let obj_dir = self.rel(object.parent().expect("an output has a directory"));
            begin_args.extend(["--mkdir".into(), Word::out(obj_dir)]);
            end_outputs.push(self.rel(&object));
        }
        begin_args.extend([Word::out(&state), "--".into()]);
        begin_args.extend(words(compiler));
        begin_args.extend(args);
        // Not an input: a new sysgen regenerates the build file, and only a
        // changed command line rebuilds.
        let sysgen = self.opts.sysgen.display().to_string();
        vec![
            Action {
                unit: u.id,
                kind: ActionKind::RustcBegin,
                outputs: vec![self.rel(&meta)],
                inputs: vec![src],
                implicit_inputs: implicit,
                program: sysgen.clone(),
                args: begin_args,
                // pipe-end compiles again with the same variables, from
                // its own command line: nothing of the environment is
                // written down (it may hold secrets).
                env: env.clone(),
                depfile: Some(self.rel(&depfile)),
                escape_depfile_dollars: self.escape_dollars,
                description: u.description.clone(),
                state: Some(state.clone()),
            },
            Action {
                unit: u.id,
                kind: ActionKind::RustcEnd,
                outputs: end_outputs,
                inputs: vec![self.rel(&meta)],
                implicit_inputs: Vec::new(),
                program: sysgen,
                args: vec![
                    "pipe-end".into(),
                    Word::out(&state),
                    Word::out(self.rel(&meta)),
                    Word::out(self.rel(&out)),
                ],
                env,
                depfile: None,
                escape_depfile_dollars: false,
                description: u.description.clone(),
                state: Some(state),
            },
        ]
    }

    /// The spec file of the custom target `u` is built for, as an input.
    fn spec_input(&self, u: &UnitDecl) -> Option<BuildPath> {
        let f = self.m.target(u.target?).spec_file.as_ref()?;
        Some(self.rel(f))
    }

    fn run_action(&self, u: &UnitDecl, files: &mut Vec<(PathBuf, String)>) -> Result<Action> {
        let Body::Run(r) = &u.body else {
            unreachable!("a run unit")
        };
        let dir = self.unit_dir(u);
        let exe = self
            .unit_dir(self.m.unit(r.script))
            .join("build-script-build");
        let mut implicit = vec![self.rel(&exe)];
        // The script sees the spec through its CARGO_CFG_* variables.
        implicit.extend(self.spec_input(u));
        let mut links_deps = Vec::new();
        for (links, d) in &r.links_deps {
            let f = self.unit_dir(self.m.unit(*d)).join("metadata");
            implicit.push(self.rel(&f));
            links_deps.push((links.clone(), f));
        }
        let spec = RunSpec {
            program: exe,
            cwd: self.m.real_path(&r.cwd),
            // OUT_DIR is the runner's to make absolute where it runs.
            env: r
                .env
                .iter()
                .filter_map(|(k, v)| match v {
                    EnvValue::OutDir(_) => None,
                    EnvValue::Text(s) => Some((k.clone(), s.clone())),
                    EnvValue::Path(p) => Some((k.clone(), self.src(p))),
                    EnvValue::Rustc => Some((k.clone(), self.m.rustc.display().to_string())),
                })
                .collect(),
            // Paths here are absolute, or relative to the output directory.
            env_paths: Default::default(),
            out_dir: dir.join("out"),
            args_file: dir.join("args"),
            env_file: dir.join("env"),
            check_cfg: r.check_cfg,
            output_file: dir.join("output"),
            metadata_file: dir.join("metadata"),
            links_deps,
            env_stamps: Some(PathBuf::from(crate::exec::envdeps::DIR)),
            package: u.package.clone(),
        };
        let spec_path = dir.join("run.json");
        files.push((
            PathBuf::from(self.rel(&spec_path)),
            serde_json::to_string_pretty(&spec)? + "\n",
        ));
        Ok(Action {
            unit: u.id,
            kind: ActionKind::RunBuildScript,
            outputs: vec![
                self.rel(&spec.args_file),
                self.rel(&spec.env_file),
                self.rel(&spec.metadata_file),
            ],
            inputs: vec![self.rel(&spec_path)],
            implicit_inputs: implicit,
            program: self.opts.sysgen.display().to_string(),
            args: vec!["run-build-script".into(), Word::out(self.rel(&spec_path))],
            env: Vec::new(),
            depfile: Some(self.rel(&dir.join("args.d"))),
            escape_depfile_dollars: false,
            description: u.description.clone(),
            state: None,
        })
    }
}

/// Where a sysroot crate's library is below the sysroot:
/// `lib/rustlib/<target>/lib/lib<crate>.rlib` (`.rmeta` for a
/// metadata-only sysroot).
pub fn sysroot_library(m: &Model, target: TargetId, crate_name: &str, check: bool) -> PathBuf {
    Path::new("lib/rustlib")
        .join(&m.target(target).name)
        .join("lib")
        .join(format!(
            "lib{crate_name}.{}",
            if check { "rmeta" } else { "rlib" }
        ))
}

/// Every crate library a sysroot of `m` holds, below the sysroot, sorted.
pub fn sysroot_libraries(m: &Model, check: bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = m
        .units
        .iter()
        .filter_map(|u| {
            let c = u.krate().filter(|c| c.in_sysroot)?;
            Some(sysroot_library(m, u.target?, &c.crate_name, check))
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// A unit's own directory in the layout (relative to the output
/// directory): `build/<platform>/<package>-<hash>`.
pub fn unit_dir(m: &Model, u: &UnitDecl) -> PathBuf {
    let plat = match u.target {
        None => "host",
        Some(t) => &m.target(t).name,
    };
    Path::new("build")
        .join(plat)
        .join(format!("{}-{}", u.package, &u.hash[..12]))
}

/// The actions of a file-based build of `m`.
pub fn lower(m: &Model, opts: &LowerOptions) -> Result<Plan> {
    let l = Layout::new(m, opts);
    let mut actions = Vec::new();
    let mut files = Vec::new();
    for u in &m.units {
        match &u.body {
            Body::Crate(_) => actions.extend(l.rustc_actions(u)),
            Body::Run(_) => actions.push(l.run_action(u, &mut files)?),
        }
    }
    let mut keep: BTreeSet<PathBuf> = m
        .units
        .iter()
        .map(|u| PathBuf::from(l.rel(&l.unit_dir(u))))
        .collect();
    for a in &actions {
        keep.extend(a.outputs.iter().chain(&a.depfile).map(PathBuf::from));
    }
    keep.retain(|p| p.is_relative());
    let mut sysroot_libs = Vec::new();
    for (t, target) in m.targets_by_id() {
        let mut libs: Vec<BuildPath> = m.sysroot_libs(t).map(|u| l.rel(&l.lib_output(u))).collect();
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
