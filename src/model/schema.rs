//! The crate model: one declaration per unit of the graph, saying *what* to
//! compile and never *where the output goes*. Every emitter renders it.
//!
//! A [`CrateDecl`] is a rustc invocation without its output paths: crate
//! name, root file, edition, crate type, features, every path-free flag in
//! order (each with where it came from), environment, dependencies with
//! their extern names, and the build script whose output the crate reads.
//! A [`RunDecl`] is a build-script run: the environment cargo would give
//! it. Source files are [`SrcPath`]s (a root and a path under it), and the
//! roots carry the virtual names their paths are remapped to, so every
//! emitter remaps alike and produces the same bytes. Outputs are symbolic
//! ([`EnvValue::OutDir`] is "the OUT_DIR of that run"): each emitter's
//! layout decides where they live.
//!
//! Everything a crate's output depends on is decided here, once. The
//! emitters add only what depends on their own layout: the root file's
//! real path, `--emit` paths, `--extern` and `-L` paths, `--sysroot`,
//! `--remap-path-prefix` of their output directory, and the build script's
//! argument file.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Result;
use petgraph::graph::NodeIndex;
use serde::Serialize;

use crate::base::hash::stable_hash;
use crate::library::panic::PanicStrategy;
use crate::library::profile::{ProfileFor, Profiles};
use crate::library::rules::Rules;
use crate::resolve::graph::{BuildGraph, EdgeKind, Platform, UnitKind};

/// A unit's place in [`Model::units`] (the graph's stable order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct UnitId(pub usize);

/// Where a source path is rooted. The real directory is this machine's;
/// the virtual name is what rustc records instead (`--remap-path-prefix`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RootId {
    /// rust-src's `library/` directory.
    Library,
    /// The registry sources: a vendor directory or the Cargo home's index dir.
    Registry,
    /// The directory of a package outside both: a custom path or git crate,
    /// a `[patch]` (numbered in the units' stable order).
    Crate(u32),
    /// A file outside every root (`rel` is then its absolute path).
    Absolute,
}

/// A file or directory as a root and a path under it (`/`-separated).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SrcPath {
    pub root: RootId,
    pub rel: String,
}

/// A root directory of the build's sources.
#[derive(Debug, Clone, Serialize)]
pub struct Root {
    pub id: RootId,
    /// This machine's directory.
    pub path: PathBuf,
    /// What rustc records instead of `path` (debuginfo, panic locations).
    pub virtual_name: Option<String>,
}

/// What rustc records for the build's output directory (OUT_DIRs, the
/// working directory in debuginfo).
pub const OUT_VIRTUAL_NAME: &str = "/sysgen";

/// An environment variable's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvValue {
    Text(String),
    Path(SrcPath),
    /// The absolute OUT_DIR of a build-script run (the emitter's layout).
    OutDir(UnitId),
    /// The compiler's absolute path.
    Rustc,
}

/// Where a flag of a crate's invocation comes from (for `sysgen explain`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Origin {
    /// The package's manifest (name, edition, features, `[lints]`).
    Manifest,
    /// sysgen's own choice, with the reason.
    Sysgen { why: &'static str },
    /// The profile (the library's `[profile.*]` merged with the project's).
    Profile { name: String },
    /// `rules/<file>`, under `key`.
    Rules { file: &'static str, key: String },
    /// RUSTFLAGS, `--rustflags`, `.cargo/config.toml`, sysgen.toml.
    UserFlags,
    /// The panic strategy of the sysroot.
    Panic,
}

/// Some arguments of a crate's rustc call, and where they come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    pub args: Vec<String>,
    pub origin: Origin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrateType {
    /// `--crate-type lib` (the library asks for no type).
    Lib,
    /// `--crate-type rlib` (the library lists `rlib` among others: std).
    Rlib,
    /// A build script.
    Bin,
}

impl CrateType {
    pub fn as_str(self) -> &'static str {
        match self {
            CrateType::Lib => "lib",
            CrateType::Rlib => "rlib",
            CrateType::Bin => "bin",
        }
    }
}

/// One `--extern`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dep {
    /// The name the crate uses (`--extern NAME=…`).
    pub extern_name: String,
    pub unit: UnitId,
    /// Passed as `priv:` (the crate opts into public/private dependencies
    /// and this one is not public).
    pub private: bool,
    /// The package's own crate name when the manifest renames it.
    pub renamed_from: Option<String>,
}

/// What rustc writes (`--emit`): part of *what* is compiled, because the set
/// of kinds changes the rlib's bytes (so does `--json=artifacts`): every
/// emitter asks for the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Emit {
    DepInfo,
    Metadata,
    Link,
    /// An object file of the whole crate (`--objects`, for kernels that
    /// link objects rather than rlibs).
    Obj,
}

impl Emit {
    pub fn as_str(self) -> &'static str {
        match self {
            Emit::DepInfo => "dep-info",
            Emit::Metadata => "metadata",
            Emit::Link => "link",
            Emit::Obj => "obj",
        }
    }
}

/// Compile one crate.
#[derive(Debug, Clone, Serialize)]
pub struct CrateDecl {
    pub crate_name: String,
    pub edition: String,
    pub crate_type: CrateType,
    pub root: SrcPath,
    /// Enabled features (`--cfg feature="…"`).
    pub features: Vec<String>,
    /// What rustc writes; an emitter chooses only where.
    pub emit: Vec<Emit>,
    /// Every other argument but the root file and the layout's paths, in
    /// order (after the identity and features, see [`CrateDecl::args`]).
    pub flags: Vec<Flag>,
    pub env: Vec<(String, EnvValue)>,
    pub deps: Vec<Dep>,
    /// The build-script run whose directives (`@args`) this crate reads.
    pub build_script: Option<UnitId>,
    /// Lower-stage sysroot libraries this crate may use without naming
    /// them (stage N > 0 builds against the sysroot of stages below).
    pub sysroot_deps: Vec<UnitId>,
    /// Compiled for a target and put into its sysroot (not a host tool).
    pub in_sysroot: bool,
    /// The files rustc reads, when the model was built with sources
    /// ([`ModelOptions::sources`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<Sources>,
}

/// The files a crate's compile reads ([`crate::model::sources`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Sources {
    /// `.rs` files: the root, its modules, `include!`d files.
    pub srcs: Vec<SrcPath>,
    /// Everything else (`include_str!`, `include_bytes!`: the `*.md` docs).
    pub compile_data: Vec<SrcPath>,
    /// Those of `srcs` and `compile_data` that are read only if a cfg set by
    /// the crate's build script says so (unknown before it runs).
    pub maybe: Vec<SrcPath>,
    /// The cfgs rustc will see, as far as they are known before the build
    /// script runs: the target's, features, the profile's, `--cfg` flags
    /// (`unix`, `feature="std"`), sorted.
    pub cfg: Vec<String>,
}

/// Run one build script.
#[derive(Debug, Clone, Serialize)]
pub struct RunDecl {
    /// The compiled script.
    pub script: UnitId,
    /// The package directory (the script's working directory).
    pub cwd: SrcPath,
    pub env: Vec<(String, EnvValue)>,
    /// `links` dependencies whose metadata becomes `DEP_<LINKS>_<KEY>`.
    pub links_deps: Vec<(String, UnitId)>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Body {
    Crate(Box<CrateDecl>),
    Run(RunDecl),
}

#[derive(Debug, Clone, Serialize)]
pub struct Unit {
    pub id: UnitId,
    pub package: String,
    pub version: String,
    /// `None`: the host (build scripts and what they link).
    pub target: Option<usize>,
    pub stage: u32,
    /// Everything that changes the unit's output, hashed: `-C metadata`,
    /// and what an output layout may name the unit by.
    pub hash: String,
    /// For progress lines: `core 0.0.0 (thumbv6m-none-eabi)`.
    pub description: String,
    pub body: Body,
}

impl Unit {
    pub fn krate(&self) -> Option<&CrateDecl> {
        match &self.body {
            Body::Crate(c) => Some(c),
            Body::Run(_) => None,
        }
    }

    /// All path-free arguments of the crate's rustc call, in order.
    pub fn args(&self) -> Vec<String> {
        self.krate().map(CrateDecl::args).unwrap_or_default()
    }
}

impl CrateDecl {
    /// All path-free arguments, in the one order every emitter uses:
    /// crate name, edition, crate type, features, then `flags`.
    pub fn args(&self) -> Vec<String> {
        let mut a = vec![
            "--crate-name".to_string(),
            self.crate_name.clone(),
            format!("--edition={}", self.edition),
            "--crate-type".into(),
            self.crate_type.as_str().into(),
        ];
        for f in &self.features {
            a.extend(["--cfg".into(), format!("feature=\"{f}\"")]);
        }
        a.extend(self.flags.iter().flat_map(|f| f.args.clone()));
        a
    }
}

/// rustc's machine-readable diagnostics with artifact notices: pipelining
/// needs them, and they change the rlib's bytes, so every sysroot crate
/// gets them in every emitter (which render the diagnostics back to text).
pub const JSON_DIAGNOSTICS: [&str; 2] = ["--error-format=json", "--json=artifacts"];

/// A target of the model.
#[derive(Debug, Clone, Serialize)]
pub struct TargetDecl {
    /// The triple, or a spec file's stem.
    pub name: String,
    /// A custom target's spec file (absolute): `--target` takes its path.
    pub spec_file: Option<PathBuf>,
}

/// The declarations of one sysroot build.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub roots: Vec<Root>,
    pub rustc: PathBuf,
    pub host: String,
    pub targets: Vec<TargetDecl>,
    pub units: Vec<Unit>,
}

impl Model {
    pub fn unit(&self, id: UnitId) -> &Unit {
        &self.units[id.0]
    }

    pub fn root(&self, id: RootId) -> Option<&Root> {
        self.roots.iter().find(|r| r.id == id)
    }

    /// This machine's path of `p`.
    pub fn real_path(&self, p: &SrcPath) -> PathBuf {
        match self.root(p.root) {
            Some(r) if p.rel.is_empty() => r.path.clone(),
            Some(r) => r.path.join(&p.rel),
            // `Absolute`: the path is the whole of `rel`.
            None => PathBuf::from(&p.rel),
        }
    }

    /// The sysroot libraries of target `t`, in the stable order.
    pub fn sysroot_libs(&self, t: usize) -> impl Iterator<Item = &Unit> {
        self.units
            .iter()
            .filter(move |u| u.target == Some(t) && u.krate().is_some_and(|c| c.in_sysroot))
    }
}

/// How the user wants the sysroot built (what is not in the graph).
#[derive(Debug, Clone)]
pub struct ModelOptions {
    pub profile: String,
    pub panic: PanicStrategy,
    /// Per target name: extra flags for every sysroot crate (the project's
    /// config rustflags, sysgen.toml's, RUSTFLAGS and --rustflags).
    pub rustflags: BTreeMap<String, Vec<String>>,
    /// Metadata-only sysroot (part of every unit's identity).
    pub check: bool,
    /// `-Zthreads=N` for the crates rules/rustc.toml marks
    /// `parallel-frontend`; 1 leaves rustc's default.
    pub frontend_threads: usize,
    /// Also for the crates whose output it makes nondeterministic.
    pub nondeterministic_frontend: bool,
    /// List every crate's source files (reads every one of them: only for
    /// the emitters that need the lists up front).
    pub sources: bool,
    /// Also emit each sysroot crate as one object file (`--emit=obj`).
    pub objects: bool,
}

struct Builder<'a> {
    g: &'a BuildGraph,
    rules: &'a Rules,
    opts: &'a ModelOptions,
    profiles: Profiles,
    ids: HashMap<NodeIndex, UnitId>,
    hashes: HashMap<NodeIndex, String>,
    roots: Vec<Root>,
    scanner: std::cell::RefCell<crate::model::sources::Scanner>,
}

/// Build the declarations of every unit of `g`.
pub fn build(g: &BuildGraph, rules: &Rules, opts: &ModelOptions) -> Result<Model> {
    let order = g.units();
    let commit = g.rustc.commit_hash.as_deref().unwrap_or("sysgen");
    let mut roots = vec![Root {
        id: RootId::Library,
        path: g.ws.root.clone(),
        virtual_name: Some(format!("/rustc/{commit}/library")),
    }];
    if let Some(reg) = g.ws.registry_root() {
        roots.push(Root {
            id: RootId::Registry,
            path: reg,
            virtual_name: Some("/rust/deps".into()),
        });
    }
    // Custom crates and patches, in the stable order of their first unit.
    let mut n = 0;
    for &u in &order {
        let p = &g.ws.packages[g.graph[u].pkg];
        let dir = p.dir();
        if roots.iter().any(|r| dir.starts_with(&r.path)) {
            continue;
        }
        roots.push(Root {
            id: RootId::Crate(n),
            path: dir.to_path_buf(),
            virtual_name: Some(format!("/rust/crates/{}-{}", p.name, p.version)),
        });
        n += 1;
    }
    let mut b = Builder {
        g,
        rules,
        opts,
        profiles: Profiles::new(&g.ws.profiles, &opts.profile)?,
        ids: order
            .iter()
            .enumerate()
            .map(|(i, &n)| (n, UnitId(i)))
            .collect(),
        hashes: HashMap::new(),
        roots,
        scanner: Default::default(),
    };
    b.hashes = g.graph.node_indices().map(|n| (n, b.hash(n))).collect();
    let units = order.iter().map(|&n| b.unit(n)).collect();
    Ok(Model {
        roots: b.roots,
        rustc: g.rustc.path.clone(),
        host: g.host.name.clone(),
        targets: g
            .targets
            .iter()
            .map(|t| TargetDecl {
                name: t.name.clone(),
                spec_file: t.spec_file.clone(),
            })
            .collect(),
        units,
    })
}

impl Builder<'_> {
    fn src_path(&self, p: &Path) -> SrcPath {
        for r in &self.roots {
            if r.id == RootId::Absolute {
                continue;
            }
            if let Ok(rel) = p.strip_prefix(&r.path) {
                return SrcPath {
                    root: r.id,
                    rel: rel.to_string_lossy().into_owned(),
                };
            }
        }
        SrcPath {
            root: RootId::Absolute,
            rel: p.to_string_lossy().into_owned(),
        }
    }

    fn for_(&self, n: NodeIndex) -> ProfileFor {
        match self.g.graph[n].platform {
            Platform::Host => ProfileFor::Host,
            Platform::Target(_) => ProfileFor::Target,
        }
    }

    /// The user's extra flags for units of `plat` (none for the host, as
    /// cargo with `--target` gives build scripts none).
    fn user_flags(&self, plat: Platform) -> &[String] {
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

    /// Identity of a unit: everything that changes its output.
    fn hash(&self, n: NodeIndex) -> String {
        let u = &self.g.graph[n];
        let p = &self.g.ws.packages[u.pkg];
        let profile = self.profiles.get(&p.name, self.for_(n));
        let host = if u.platform == Platform::Host {
            "host"
        } else {
            "target"
        };
        stable_hash(&[
            &p.name,
            &p.version.to_string(),
            &format!("{:?}", u.kind),
            self.g.platform_name(u.platform),
            host,
            &u.stage.to_string(),
            &u.features.join(","),
            &profile.identity(),
            &self.user_flags(u.platform).join("\u{1f}"),
            self.opts.panic.as_str(),
            if self.opts.check { "check" } else { "build" },
            &self.g.rustc.version,
        ])
    }

    fn in_sysroot(&self, n: NodeIndex) -> bool {
        let u = &self.g.graph[n];
        u.kind == UnitKind::Lib && u.platform != Platform::Host
    }

    fn unit(&self, n: NodeIndex) -> Unit {
        let u = &self.g.graph[n];
        let p = &self.g.ws.packages[u.pkg];
        let plat = self.g.platform_name(u.platform);
        let description = match u.kind {
            UnitKind::Lib => format!("{} {} ({plat})", p.name, p.version),
            UnitKind::BuildScriptCompile => format!("{} {} build script", p.name, p.version),
            UnitKind::BuildScriptRun => {
                format!("{} {} build script run ({plat})", p.name, p.version)
            }
        };
        let body = match u.kind {
            UnitKind::Lib | UnitKind::BuildScriptCompile => {
                Body::Crate(Box::new(self.crate_decl(n)))
            }
            UnitKind::BuildScriptRun => Body::Run(self.run_decl(n)),
        };
        Unit {
            id: self.ids[&n],
            package: p.name.clone(),
            version: p.version.to_string(),
            target: match u.platform {
                Platform::Host => None,
                Platform::Target(i) => Some(i),
            },
            stage: u.stage,
            hash: self.hashes[&n].clone(),
            description,
            body,
        }
    }

    /// `CARGO_PKG_*` and friends, as cargo sets them for a compile or a run.
    fn pkg_env(&self, n: NodeIndex) -> Vec<(String, EnvValue)> {
        let u = &self.g.graph[n];
        let p = &self.g.ws.packages[u.pkg];
        let v = &p.version;
        let text = |s: String| {
            // A build file cannot carry a newline inside a command, and
            // every emitter must give the same value: the only multi-line
            // value in practice is a description.
            let s = if s.contains(['\n', '\r']) {
                s.split_whitespace().collect::<Vec<_>>().join(" ")
            } else {
                s
            };
            EnvValue::Text(s)
        };
        let crate_name = match u.kind {
            UnitKind::Lib => p.lib.as_ref().map(|l| l.name.clone()).unwrap_or_default(),
            _ => "build_script_build".into(),
        };
        vec![
            (
                "CARGO_MANIFEST_DIR".into(),
                EnvValue::Path(self.src_path(p.dir())),
            ),
            (
                "CARGO_MANIFEST_PATH".into(),
                EnvValue::Path(self.src_path(&p.manifest_path)),
            ),
            ("CARGO_PKG_NAME".into(), text(p.name.clone())),
            ("CARGO_PKG_VERSION".into(), text(v.to_string())),
            ("CARGO_PKG_VERSION_MAJOR".into(), text(v.major.to_string())),
            ("CARGO_PKG_VERSION_MINOR".into(), text(v.minor.to_string())),
            ("CARGO_PKG_VERSION_PATCH".into(), text(v.patch.to_string())),
            ("CARGO_PKG_VERSION_PRE".into(), text(v.pre.to_string())),
            ("CARGO_PKG_AUTHORS".into(), text(p.meta.authors.join(":"))),
            (
                "CARGO_PKG_DESCRIPTION".into(),
                text(p.meta.description.clone()),
            ),
            ("CARGO_PKG_HOMEPAGE".into(), text(p.meta.homepage.clone())),
            (
                "CARGO_PKG_REPOSITORY".into(),
                text(p.meta.repository.clone()),
            ),
            ("CARGO_PKG_LICENSE".into(), text(p.meta.license.clone())),
            (
                "CARGO_PKG_LICENSE_FILE".into(),
                text(p.meta.license_file.clone()),
            ),
            (
                "CARGO_PKG_RUST_VERSION".into(),
                text(p.meta.rust_version.clone()),
            ),
            ("CARGO_PKG_README".into(), text(p.meta.readme.clone())),
            ("CARGO_CRATE_NAME".into(), text(crate_name)),
        ]
    }

    fn crate_decl(&self, n: NodeIndex) -> CrateDecl {
        let u = &self.g.graph[n];
        let p = &self.g.ws.packages[u.pkg];
        let is_target = u.platform != Platform::Host;
        let (crate_name, edition, root, crate_type) = if u.kind == UnitKind::Lib {
            let lib = p.lib.as_ref().expect("lib unit has a lib");
            let t = if p.crate_types_has_rlib() {
                CrateType::Rlib
            } else {
                CrateType::Lib
            };
            (lib.name.clone(), lib.edition.clone(), lib.path.clone(), t)
        } else {
            let script = p.build_script.clone().expect("package has a build script");
            (
                "build_script_build".to_string(),
                p.edition.clone(),
                script,
                CrateType::Bin,
            )
        };
        let in_sysroot = self.in_sysroot(n);
        let mut flags = Vec::new();
        let emit = if !in_sysroot {
            vec![Emit::DepInfo, Emit::Link]
        } else if self.opts.check {
            vec![Emit::DepInfo, Emit::Metadata]
        } else if self.opts.objects {
            vec![Emit::DepInfo, Emit::Metadata, Emit::Link, Emit::Obj]
        } else {
            vec![Emit::DepInfo, Emit::Metadata, Emit::Link]
        };
        if in_sysroot {
            flags.push(Flag {
                args: JSON_DIAGNOSTICS.iter().map(|s| s.to_string()).collect(),
                origin: Origin::Sysgen {
                    why: "pipelining reads rustc's artifact notices, and the flag changes the rlib's bytes, so every emitter passes it",
                },
            });
        }
        flags.extend(self.profile_flags(n));
        flags.extend(self.feature_flags(n));
        flags.push(Flag {
            args: vec!["-C".into(), format!("metadata={}", &self.hashes[&n][..16])],
            origin: Origin::Sysgen {
                why: "the unit's identity: everything that changes its output",
            },
        });
        if is_target && self.g.target_of(u.platform).spec_file.is_none() {
            flags.push(Flag {
                args: vec!["--target".into(), self.g.target_of(u.platform).arg.clone()],
                origin: Origin::Sysgen {
                    why: "the sysroot's target",
                },
            });
        }
        let (unit_rules, key) = if is_target {
            (&self.rules.rustc.target_lib, "target-lib")
        } else {
            (&self.rules.rustc.host, "host")
        };
        flags.push(Flag {
            args: unit_rules.flags.clone(),
            origin: Origin::Rules {
                file: "rustc.toml",
                key: key.into(),
            },
        });
        if is_target {
            let prof = self.profiles.get(&p.name, ProfileFor::Target);
            flags.push(Flag {
                args: prof.rustflags.clone(),
                origin: Origin::Profile {
                    name: self.opts.profile.clone(),
                },
            });
            flags.push(Flag {
                args: self.user_flags(u.platform).to_vec(),
                origin: Origin::UserFlags,
            });
        }
        if let Some(extra) = self
            .rules
            .rustc
            .krate
            .get(&p.name)
            .filter(|_| u.kind == UnitKind::Lib)
        {
            let key = format!("crate.{}", p.name);
            flags.push(Flag {
                args: extra.flags.clone(),
                origin: Origin::Rules {
                    file: "rustc.toml",
                    key: key.clone(),
                },
            });
            use crate::library::rules::ParallelFrontend;
            let parallel = match extra.parallel_frontend {
                ParallelFrontend::Off => false,
                ParallelFrontend::On => true,
                ParallelFrontend::Nondeterministic => self.opts.nondeterministic_frontend,
            };
            if parallel && self.opts.frontend_threads > 1 {
                flags.push(Flag {
                    args: vec![format!("-Zthreads={}", self.opts.frontend_threads)],
                    origin: Origin::Rules {
                        file: "rustc.toml",
                        key: format!("{key}.parallel-frontend"),
                    },
                });
            }
        }
        if emit.contains(&Emit::Obj) {
            flags.push(Flag {
                args: vec!["-C".into(), "codegen-units=1".into()],
                origin: Origin::Sysgen {
                    why: "--objects: one object file per crate needs one codegen unit",
                },
            });
        }
        flags.retain(|f| !f.args.is_empty());
        let mut env: Vec<(String, EnvValue)> = unit_rules
            .env
            .iter()
            .map(|(k, v)| (k.clone(), EnvValue::Text(v.clone())))
            .collect();
        env.extend(self.pkg_env(n));
        let build_script = self.run_of(n);
        if let Some(run) = build_script {
            env.push(("OUT_DIR".into(), EnvValue::OutDir(run)));
        }
        let priv_deps = is_target && p.cargo_features.iter().any(|f| f == "public-dependency");
        let mut deps = Vec::new();
        for (d, e) in self.g.deps(n) {
            if let EdgeKind::Extern { name, public } = e {
                let dp = &self.g.ws.packages[self.g.graph[d].pkg];
                let own = dp.lib.as_ref().map(|l| l.name.clone()).unwrap_or_default();
                deps.push(Dep {
                    extern_name: name.clone(),
                    unit: self.ids[&d],
                    private: priv_deps && !public,
                    renamed_from: (own != *name).then_some(own),
                });
            }
        }
        let mut sysroot_deps = Vec::new();
        if is_target && u.stage > 0 {
            for m in self.g.units() {
                let lower = &self.g.graph[m];
                if self.in_sysroot(m) && lower.platform == u.platform && lower.stage < u.stage {
                    sysroot_deps.push(self.ids[&m]);
                }
            }
        }
        let sources = self.opts.sources.then(|| {
            let env = self.cfg_env(n, &flags, build_script.is_some());
            let files = self.scanner.borrow_mut().crate_files(&root, &env);
            let mut cfg: Vec<String> = env.names.iter().cloned().collect();
            cfg.extend(env.pairs.iter().map(|(k, v)| format!("{k}=\"{v}\"")));
            cfg.sort();
            let path = |p: &PathBuf| self.src_path(p);
            Sources {
                srcs: files.srcs.keys().map(path).collect(),
                compile_data: files.data.keys().map(path).collect(),
                maybe: files
                    .srcs
                    .iter()
                    .chain(&files.data)
                    .filter(|(_, c)| **c == crate::model::sources::Certainty::Maybe)
                    .map(|(p, _)| path(p))
                    .collect(),
                cfg,
            }
        });
        CrateDecl {
            crate_name,
            edition,
            crate_type,
            root: self.src_path(&root),
            features: u.features.clone(),
            emit,
            flags,
            env,
            deps,
            build_script,
            sysroot_deps,
            in_sysroot: self.in_sysroot(n),
            sources,
        }
    }

    /// The cfgs rustc will see compiling `n` with `flags`, as far as they
    /// are known before its build script (if any) has run.
    fn cfg_env(
        &self,
        n: NodeIndex,
        flags: &[Flag],
        build_script: bool,
    ) -> crate::model::sources::CfgEnv {
        let u = &self.g.graph[n];
        let p = &self.g.ws.packages[u.pkg];
        let prof = self.profiles.get(&p.name, self.for_(n));
        let mut env = crate::model::sources::CfgEnv {
            build_script,
            ..Default::default()
        };
        for c in &self.g.target_of(u.platform).cfg {
            match c {
                cargo_platform::Cfg::Name(name) => {
                    env.names.insert(name.as_str().to_string());
                }
                cargo_platform::Cfg::KeyPair(k, v) => {
                    env.pairs.insert((k.as_str().to_string(), v.clone()));
                }
            }
        }
        // The probe ran without -O: the profile decides these.
        env.names.remove("debug_assertions");
        env.names.remove("overflow_checks");
        if prof.debug_assertions {
            env.names.insert("debug_assertions".into());
        }
        if prof.overflow_checks {
            env.names.insert("overflow_checks".into());
        }
        if self.in_sysroot(n) && self.opts.panic != PanicStrategy::Unwind {
            env.pairs.retain(|(k, _)| k != "panic");
            env.pairs
                .insert(("panic".into(), self.opts.panic.as_str().to_string()));
        }
        for f in &u.features {
            env.pairs.insert(("feature".into(), f.clone()));
        }
        // `--cfg` flags (RUSTFLAGS, profile rustflags, rules).
        let args: Vec<&String> = flags.iter().flat_map(|f| &f.args).collect();
        for (i, a) in args.iter().enumerate() {
            let spec = if *a == "--cfg" {
                args.get(i + 1).map(|s| s.as_str())
            } else {
                a.strip_prefix("--cfg=")
            };
            let Some(spec) = spec else { continue };
            match spec.split_once('=') {
                Some((k, v)) => {
                    env.pairs
                        .insert((k.to_string(), v.trim_matches('"').to_string()));
                }
                None => {
                    env.names.insert(spec.to_string());
                }
            }
        }
        env
    }

    fn run_of(&self, n: NodeIndex) -> Option<UnitId> {
        self.g
            .deps(n)
            .find(|(d, e)| {
                **e == EdgeKind::BuildScript && self.g.graph[*d].kind == UnitKind::BuildScriptRun
            })
            .map(|(d, _)| self.ids[&d])
    }

    fn feature_flags(&self, n: NodeIndex) -> Vec<Flag> {
        let u = &self.g.graph[n];
        let p = &self.g.ws.packages[u.pkg];
        let mut manifest = p.lint_flags.clone();
        for c in &p.check_cfg {
            manifest.extend(["--check-cfg".into(), c.clone()]);
        }
        let mut always = Vec::new();
        for c in &self.rules.rustc.check_cfg.always {
            always.extend(["--check-cfg".into(), c.clone()]);
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
        vec![
            Flag {
                args: manifest,
                origin: Origin::Manifest,
            },
            Flag {
                args: always,
                origin: Origin::Rules {
                    file: "rustc.toml",
                    key: "check-cfg.always".into(),
                },
            },
            Flag {
                args: vec![
                    "--check-cfg".into(),
                    format!("cfg(feature, values({}))", values.join(", ")),
                ],
                origin: Origin::Manifest,
            },
        ]
    }

    fn profile_flags(&self, n: NodeIndex) -> Vec<Flag> {
        let u = &self.g.graph[n];
        let p = &self.g.ws.packages[u.pkg];
        let prof = self.profiles.get(&p.name, self.for_(n));
        let profile = |args: Vec<String>| Flag {
            args,
            origin: Origin::Profile {
                name: self.opts.profile.clone(),
            },
        };
        let c = |s: String| vec!["-C".to_string(), s];
        use crate::library::profile::{DebugInfo, Lto, OptLevel, Strip};
        let mut out = Vec::new();
        if prof.opt_level != OptLevel::O0 {
            out.push(profile(c(format!("opt-level={}", prof.opt_level.as_str()))));
        }
        if self.in_sysroot(n) && self.opts.panic != PanicStrategy::Unwind {
            out.push(Flag {
                args: c(format!("panic={}", self.opts.panic)),
                origin: Origin::Panic,
            });
        }
        let mut a = Vec::new();
        if prof.lto == Lto::Off {
            a.extend(c("embed-bitcode=no".into()));
        }
        if let Some(cgu) = prof.codegen_units {
            a.extend(c(format!("codegen-units={cgu}")));
        }
        if prof.debuginfo != DebugInfo::None {
            a.extend(c(format!("debuginfo={}", prof.debuginfo.as_str())));
        }
        let opt_default_da = prof.opt_level == OptLevel::O0;
        if prof.debug_assertions != opt_default_da {
            let on = if prof.debug_assertions { "on" } else { "off" };
            a.extend(c(format!("debug-assertions={on}")));
        }
        if prof.overflow_checks != prof.debug_assertions {
            let on = if prof.overflow_checks { "on" } else { "off" };
            a.extend(c(format!("overflow-checks={on}")));
        }
        let strip = prof.strip.or_else(|| {
            (prof.debuginfo == DebugInfo::None && self.profiles.is_release_like())
                .then_some(Strip::Debuginfo)
        });
        if let Some(s) = strip.filter(|s| *s != Strip::None) {
            a.extend(c(format!("strip={}", s.as_str())));
        }
        out.push(profile(a));
        out
    }

    fn run_decl(&self, n: NodeIndex) -> RunDecl {
        let u = &self.g.graph[n];
        let p = &self.g.ws.packages[u.pkg];
        let target = self.g.target_of(u.platform);
        let script = self
            .g
            .deps(n)
            .find(|(d, _)| self.g.graph[*d].kind == UnitKind::BuildScriptCompile)
            .map(|(d, _)| self.ids[&d])
            .expect("run has a compile");
        let prof = self.profiles.get(&p.name, ProfileFor::Target);
        let mut env: BTreeMap<String, EnvValue> = self.pkg_env(n).into_iter().collect();
        let text = |s: &str| EnvValue::Text(s.to_string());
        env.insert("OUT_DIR".into(), EnvValue::OutDir(self.ids[&n]));
        env.insert("TARGET".into(), text(&target.name));
        env.insert("HOST".into(), text(&self.g.host.name));
        env.insert("NUM_JOBS".into(), text("1"));
        env.insert("OPT_LEVEL".into(), text(prof.opt_level.as_str()));
        let debug = prof.debuginfo != crate::library::profile::DebugInfo::None;
        env.insert("DEBUG".into(), text(&debug.to_string()));
        let release = if self.profiles.is_release_like() {
            "release"
        } else {
            "debug"
        };
        env.insert("PROFILE".into(), text(release));
        env.insert("RUSTC".into(), EnvValue::Rustc);
        env.insert("RUSTC_BOOTSTRAP".into(), text("1"));
        let mut flags = prof.rustflags.clone();
        flags.extend(self.user_flags(u.platform).iter().cloned());
        env.insert(
            "CARGO_ENCODED_RUSTFLAGS".into(),
            text(&flags.join("\u{1f}")),
        );
        if let Some(l) = &p.links {
            env.insert("CARGO_MANIFEST_LINKS".into(), text(l));
        }
        for f in &u.features {
            env.insert(
                format!("CARGO_FEATURE_{}", f.to_uppercase().replace('-', "_")),
                text("1"),
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
            env.insert(
                format!("CARGO_CFG_{}", k.to_uppercase()),
                text(&v.join(",")),
            );
        }
        let mut links_deps = Vec::new();
        for (d, e) in self.g.deps(n) {
            if *e == EdgeKind::LinksMetadata {
                let other = &self.g.ws.packages[self.g.graph[d].pkg];
                links_deps.push((other.links.clone().unwrap_or_default(), self.ids[&d]));
            }
        }
        RunDecl {
            script,
            cwd: self.src_path(p.dir()),
            env: env.into_iter().collect(),
            links_deps,
        }
    }
}
