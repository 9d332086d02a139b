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

use std::path::PathBuf;

use serde::Serialize;

use crate::toolchain::target::TargetId;

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
    /// How long the front end takes, in tenths of a second on the reference
    /// machine (rules/rustc.toml): a scheduling hint only, which changes no
    /// byte of any output, so it is not part of the serialized model.
    #[serde(skip)]
    pub frontend_cost: u32,
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
    /// Whether the script's `rustc-check-cfg` lines become `--check-cfg`
    /// flags (the release's cargo passes them: rules/rustc.toml).
    pub check_cfg: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Body {
    Crate(Box<CrateDecl>),
    Run(RunDecl),
}

#[derive(Debug, Clone, Serialize)]
pub struct UnitDecl {
    pub id: UnitId,
    pub package: String,
    pub version: String,
    /// `None`: the host (build scripts and what they link).
    pub target: Option<TargetId>,
    pub stage: u32,
    /// Everything that changes the unit's output, hashed: `-C metadata`,
    /// and what an output layout may name the unit by.
    pub hash: String,
    /// For progress lines: `core 0.0.0 (thumbv6m-none-eabi)`.
    pub description: String,
    pub body: Body,
}

impl UnitDecl {
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
    /// A custom target's spec file (absolute): `--target` takes its path,
    /// unless it was found by name.
    pub spec_file: Option<PathBuf>,
    /// For a custom target found by name: the RUST_TARGET_PATH under which
    /// `--target NAME` (a flag of its units, as for a triple) finds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_path: Option<PathBuf>,
}

impl TargetDecl {
    /// The spec file `--target` names by path (not a custom target found
    /// by name, which `--target NAME` names).
    pub fn spec_by_path(&self) -> Option<&std::path::Path> {
        self.spec_file
            .as_deref()
            .filter(|_| self.target_path.is_none())
    }
}

/// The declarations of one sysroot build.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub roots: Vec<Root>,
    pub rustc: PathBuf,
    pub host: String,
    pub targets: Vec<TargetDecl>,
    pub units: Vec<UnitDecl>,
}

impl Model {
    pub fn target(&self, id: TargetId) -> &TargetDecl {
        &self.targets[id.0]
    }

    /// The targets with their ids, in order.
    pub fn targets_by_id(&self) -> impl Iterator<Item = (TargetId, &TargetDecl)> {
        self.targets
            .iter()
            .enumerate()
            .map(|(i, t)| (TargetId(i), t))
    }

    pub fn unit(&self, id: UnitId) -> &UnitDecl {
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
    pub fn sysroot_libs(&self, t: TargetId) -> impl Iterator<Item = &UnitDecl> {
        self.units
            .iter()
            .filter(move |u| u.target == Some(t) && u.krate().is_some_and(|c| c.in_sysroot))
    }
}
