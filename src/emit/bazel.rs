//! `sysgen bazel`: the crate model as a Bazel repository.
//!
//! Every unit becomes one rule instance (`rust_library`,
//! `rust_build_script`, `cargo_build_script`), a typed [`Rule`] serialized
//! to Starlark, so the BUILD file is deterministic by construction. The
//! rules themselves (`templates/defs.bzl.j2`) add only the paths Bazel
//! knows; every flag comes from the model. Sources are reached through
//! local repositories (`@sysgen_library`, `@sysgen_registry`, one per custom
//! crate or target spec), each with a BUILD file that exports exactly the
//! files the model lists: never copied, never downloaded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Result;
use minijinja::context;
use serde::Serialize;

use crate::emit::starlark::{Rule, check_label, quote};
use crate::model::{Body, CrateType, EnvValue, Model, OUT_VIRTUAL_NAME, RootId, SrcPath, UnitDecl};
use crate::toolchain::target::TargetId;
use crate::user_bail;

const BUILD: &str = include_str!("../../templates/BUILD.bazel.j2");
const DEFS: &str = include_str!("../../templates/defs.bzl.j2");
const WORKSPACE: &str = include_str!("../../templates/WORKSPACE.j2");
const REPOSITORY: &str = include_str!("../../templates/repository.bzl");

/// A local repository the rules read files from.
#[derive(Debug, Clone, Serialize)]
struct Repo {
    /// `sysgen_library`, `sysgen_registry`, `sysgen_crate_0`, …
    name: String,
    path: PathBuf,
    virtual_name: Option<String>,
}

/// The generated repository: (file name, contents).
pub struct Output {
    pub files: Vec<(PathBuf, String)>,
}

/// Environment variables of a rule attribute, in order.
type Env = Vec<(String, String)>;

struct Gen<'a> {
    m: &'a Model,
    /// Repo name per root.
    repos: BTreeMap<RootId, Repo>,
    /// Target spec files: (repo, file name) per target index.
    specs: BTreeMap<TargetId, (Repo, String)>,
    /// Files each repository must export.
    exports: BTreeMap<String, BTreeSet<String>>,
}

impl Gen<'_> {
    fn label(&mut self, p: &SrcPath) -> Result<String> {
        let Some(repo) = self.repos.get(&p.root) else {
            user_bail!(
                "{} lies outside rust-src, the registry sources and every crate's directory, so no Bazel repository can reach it; move it into its crate",
                p.rel
            );
        };
        check_label("the source file", &p.rel)?;
        self.exports
            .entry(repo.name.clone())
            .or_default()
            .insert(p.rel.clone());
        Ok(format!("@{}//:{}", repo.name, p.rel))
    }

    fn labels(&mut self, ps: &[SrcPath]) -> Result<Vec<String>> {
        let mut v: Vec<String> = ps.iter().map(|p| self.label(p)).collect::<Result<_>>()?;
        v.sort();
        v.dedup();
        Ok(v)
    }

    /// A path as an action sees it: `external/<repo>/<rel>`.
    fn exec_path(&self, p: &SrcPath) -> String {
        match self.repos.get(&p.root) {
            Some(r) if p.rel.is_empty() => format!("external/{}", r.name),
            Some(r) => format!("external/{}/{}", r.name, p.rel),
            None => p.rel.clone(),
        }
    }

    /// An action's environment: text as it is, and paths relative to the
    /// directory the action runs in (which the runner prefixes, only
    /// there: nothing in a value is ever rewritten).
    fn env(&self, vars: &[(String, EnvValue)]) -> (Env, Env) {
        let (mut text, mut paths) = (Vec::new(), Vec::new());
        for (k, v) in vars {
            match v {
                EnvValue::Text(s) => text.push((k.clone(), s.clone())),
                EnvValue::Path(p) => paths.push((k.clone(), self.exec_path(p))),
                // The rules add these where the action runs.
                EnvValue::OutDir(_) | EnvValue::Rustc => {}
            }
        }
        (text, paths)
    }

    fn target_name(&self, u: &UnitDecl) -> &str {
        match u.target {
            Some(t) => &self.m.target(t).name,
            None => "host",
        }
    }

    /// The Bazel target of a unit.
    fn name(&self, u: &UnitDecl) -> String {
        let plat = self.target_name(u);
        match &u.body {
            Body::Crate(c) if c.crate_type == CrateType::Bin => {
                format!("host/{}-{}-build-script", u.package, &u.hash[..12])
            }
            Body::Crate(c) if c.in_sysroot => format!("{plat}/{}", c.crate_name),
            Body::Crate(c) => format!("host/{}-{}", c.crate_name, &u.hash[..12]),
            Body::Run(_) => format!("{plat}/{}-build-script-run", u.package),
        }
    }

    fn below_stage(&self, t: TargetId, stage: u32) -> String {
        format!("sysroot-{}-below-stage{stage}", self.m.target(t).name)
    }

    fn crate_rule(&mut self, u: &UnitDecl) -> Result<Rule> {
        let Body::Crate(c) = &u.body else {
            unreachable!("a crate unit")
        };
        let kind = if c.crate_type == CrateType::Bin {
            "rust_build_script"
        } else {
            "rust_library"
        };
        let output_name = match (c.crate_type, c.in_sysroot) {
            (CrateType::Bin, _) => format!("{}-{}", u.package, &u.hash[..12]),
            (_, true) => format!("lib{}", c.crate_name),
            (_, false) => format!("lib{}-{}", c.crate_name, &u.hash[..12]),
        };
        let root = self.label(&c.root)?;
        let sources = c.sources.clone().unwrap_or_default();
        let srcs = self.labels(&sources.srcs)?;
        let data = self.labels(&sources.compile_data)?;
        let deps: Vec<String> = c
            .deps
            .iter()
            .map(|d| format!(":{}", self.name(self.m.unit(d.unit))))
            .collect();
        let aliases: Vec<(String, String)> = c
            .deps
            .iter()
            .filter(|d| d.renamed_from.is_some())
            .map(|d| {
                (
                    format!(":{}", self.name(self.m.unit(d.unit))),
                    d.extern_name.clone(),
                )
            })
            .collect();
        let private: Vec<String> = c
            .deps
            .iter()
            .filter(|d| d.private)
            .map(|d| format!(":{}", self.name(self.m.unit(d.unit))))
            .collect();
        let sysroot = match u.target {
            Some(t) if u.stage > 0 => format!(":{}", self.below_stage(t, u.stage)),
            Some(_) => ":empty-sysroot".into(),
            None => String::new(),
        };
        let spec = match u.target.and_then(|t| self.specs.get(&t)) {
            Some((repo, file)) => {
                let (repo, file) = (repo.name.clone(), file.clone());
                self.exports
                    .entry(repo.clone())
                    .or_default()
                    .insert(file.clone());
                format!("@{repo}//:{file}")
            }
            None => String::new(),
        };
        let build_script = c
            .build_script
            .map(|r| format!(":{}", self.name(self.m.unit(r))))
            .unwrap_or_default();
        let flags: Vec<String> = c.flags.iter().flat_map(|f| f.args.clone()).collect();
        let (env, env_paths) = self.env(&c.env);
        Ok(Rule::new(kind, self.name(u))
            .s("crate_name", c.crate_name.clone())
            .s("crate_root", root)
            .list("srcs", srcs)
            .list("compile_data", data)
            .s("edition", c.edition.clone())
            .s("crate_type", c.crate_type.as_str())
            .list("crate_features", c.features.clone())
            .list("rustc_flags", flags)
            .dict("rustc_env", env)
            .dict("rustc_env_paths", env_paths)
            .list("deps", deps)
            .dict("aliases", aliases)
            .list("private_deps", private)
            .s("build_script", build_script)
            .list(
                "emit",
                c.emit.iter().map(|e| e.as_str().to_string()).collect(),
            )
            .s("version", u.version.clone())
            .s("description", u.description.clone())
            .s(
                "target",
                u.target
                    .map(|t| self.m.target(t).name.clone())
                    .unwrap_or_default(),
            )
            .s("target_spec", spec)
            .s("sysroot", sysroot)
            .s("output_name", output_name))
    }

    fn run_rule(&mut self, u: &UnitDecl) -> Result<Rule> {
        let Body::Run(r) = &u.body else {
            unreachable!("a run unit")
        };
        // The package's files, which the script may read.
        let mut data = Vec::new();
        for other in &self.m.units {
            if let Body::Crate(c) = &other.body
                && c.build_script == Some(u.id)
                && let Some(s) = &c.sources
            {
                data.extend(s.srcs.iter().chain(&s.compile_data).cloned());
            }
        }
        let data = self.labels(&data)?;
        let links: Vec<(String, String)> = r
            .links_deps
            .iter()
            .map(|(l, d)| (format!(":{}", self.name(self.m.unit(*d))), l.clone()))
            .collect();
        let links_name = r
            .env
            .iter()
            .find(|(k, _)| k == "CARGO_MANIFEST_LINKS")
            .and_then(|(_, v)| match v {
                EnvValue::Text(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let (env, env_paths) = self.env(&r.env);
        let mut rule = Rule::new("cargo_build_script", self.name(u));
        if !r.check_cfg {
            rule = rule.value("check_cfg", crate::emit::starlark::Value::Bool(false));
        }
        Ok(rule
            .s("script", format!(":{}", self.name(self.m.unit(r.script))))
            .dict("build_script_env", env)
            .dict("build_script_env_paths", env_paths)
            .s("links", links_name)
            .dict("links_deps", links)
            .s("manifest_dir", self.exec_path(&r.cwd))
            .s("package", u.package.clone())
            .list("data", data)
            .s("description", u.description.clone()))
    }
}

/// Files of the Bazel repository for `m` (which must list sources).
pub fn generate(m: &Model, rustc_sysroot: &Path, sysgen: &Path) -> Result<Output> {
    let mut repos = BTreeMap::new();
    for r in &m.roots {
        let name = match r.id {
            RootId::Library => "sysgen_library".to_string(),
            RootId::Registry => "sysgen_registry".to_string(),
            RootId::Crate(n) => format!("sysgen_crate_{n}"),
            RootId::Absolute => continue,
        };
        repos.insert(
            r.id,
            Repo {
                name,
                path: r.path.clone(),
                virtual_name: r.virtual_name.clone(),
            },
        );
    }
    let mut specs = BTreeMap::new();
    for (i, t) in m.targets_by_id() {
        // Rules are named after the target (`sysroot-<target>`, …).
        check_label("the target", &t.name)?;
        if let (Some(f), Some(_)) = (&t.spec_file, &t.target_path) {
            crate::user_bail!(
                "the target `{}` was found by name ({}); Bazel takes a custom target as its spec file: pass --target {}",
                t.name,
                f.display(),
                f.display()
            );
        }
        if let Some(f) = &t.spec_file {
            let dir = f.parent().unwrap_or(Path::new("/")).to_path_buf();
            let file = f
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            check_label("the target spec file", &file)?;
            specs.insert(
                i,
                (
                    Repo {
                        name: format!("sysgen_spec_{}", i.0),
                        path: dir,
                        virtual_name: None,
                    },
                    file,
                ),
            );
        }
    }
    let mut g = Gen {
        m,
        repos,
        specs,
        exports: BTreeMap::new(),
    };
    let mut rules = Vec::new();
    for u in &m.units {
        rules.push(match &u.body {
            Body::Crate(_) => g.crate_rule(u)?,
            Body::Run(_) => g.run_rule(u)?,
        });
    }
    // Sysroots: empty (stage 0), below each higher stage, and each target's.
    rules.push(Rule::new("rust_sysroot", "empty-sysroot".into()));
    let mut below: BTreeSet<(TargetId, u32)> = BTreeSet::new();
    for u in &m.units {
        if let (Some(t), true) = (u.target, u.stage > 0) {
            below.insert((t, u.stage));
        }
    }
    for (t, stage) in below {
        let libs: Vec<String> = m
            .sysroot_libs(t)
            .filter(|l| l.stage < stage)
            .map(|l| format!(":{}", g.name(l)))
            .collect();
        rules.push(
            Rule::new("rust_sysroot", g.below_stage(t, stage))
                .s("target", m.target(t).name.clone())
                .list("libs", libs),
        );
    }
    let mut sysroots = Vec::new();
    for (t, target) in m.targets_by_id() {
        let libs: Vec<String> = m
            .sysroot_libs(t)
            .map(|l| format!(":{}", g.name(l)))
            .collect();
        rules.push(
            Rule::new("rust_sysroot", format!("sysroot-{}", target.name))
                .s("target", target.name.clone())
                .list("libs", libs.clone())
                .s("manifest", manifest_file(&target.name)),
        );
        // What rules_rust's rust_stdlib_filegroup takes as `srcs`.
        rules.push(Rule::new("filegroup", format!("rust_std-{}", target.name)).list("srcs", libs));
        sysroots.push(target.name.clone());
    }
    let rules: Vec<String> = rules.iter().map(Rule::render).collect();
    let mut files = Vec::new();
    let version = env!("CARGO_PKG_VERSION");
    files.push((
        PathBuf::from("BUILD.bazel"),
        super::render(
            "BUILD.bazel",
            BUILD,
            context! { version, rules, sysroots => sysroots.clone() },
        )?,
    ));
    let mut all_repos: Vec<Repo> = g.repos.values().cloned().collect();
    all_repos.extend(g.specs.values().map(|(r, _)| r.clone()));
    let roots: Vec<BTreeMap<&str, String>> = all_repos
        .iter()
        .filter_map(|r| {
            Some(BTreeMap::from([
                ("repo", r.name.clone()),
                ("virtual_name", r.virtual_name.clone()?),
            ]))
        })
        .collect();
    let library = g.repos[&RootId::Library].path.display().to_string();
    let registry = match g.repos.get(&RootId::Registry) {
        Some(r) => quote(&r.path.display().to_string()),
        None => "None".into(),
    };
    let extra: Vec<String> = all_repos
        .iter()
        .filter(|r| r.name.starts_with("sysgen_crate_") || r.name.starts_with("sysgen_spec_"))
        .map(|r| {
            format!(
                "{}: {}",
                quote(&r.name),
                quote(&r.path.display().to_string())
            )
        })
        .collect();
    let sysgen_name = sysgen
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    check_label("the sysgen binary", &sysgen_name)?;
    files.push((
        PathBuf::from("defs.bzl"),
        super::render(
            "defs.bzl",
            DEFS,
            context! {
                version,
                roots,
                out_virtual_name => OUT_VIRTUAL_NAME,
                sysgen_name,
                library,
                registry,
                rustc_sysroot => rustc_sysroot.display().to_string(),
                sysgen_dir => sysgen.parent().unwrap_or(Path::new("/")).display().to_string(),
                crates => format!("{{{}}}", extra.join(", ")),
            },
        )?,
    ));
    files.push((
        PathBuf::from("WORKSPACE"),
        super::render("WORKSPACE", WORKSPACE, context! { version })?,
    ));
    files.push((PathBuf::from("repository.bzl"), REPOSITORY.to_string()));
    // Each repository exports exactly the files the rules name.
    for r in &all_repos {
        let exported: Vec<String> = g
            .exports
            .get(&r.name)
            .map(|s| s.iter().map(|f| format!("    {},\n", quote(f))).collect())
            .unwrap_or_default();
        let file = match r.name.as_str() {
            "sysgen_library" => "library.BUILD".to_string(),
            "sysgen_registry" => "registry.BUILD".to_string(),
            n => format!("{n}.BUILD"),
        };
        files.push((
            PathBuf::from(file),
            format!(
                "# Generated by sysgen {version}: the files of {} that the sysroot's rules read.\nexports_files([\n{}])\n",
                r.path.display(),
                exported.concat()
            ),
        ));
    }
    files.push((
        PathBuf::from("rustc.BUILD"),
        format!(
            "# Generated by sysgen {version}: the compiler, a declared input of every action.\nexports_files([\"bin/rustc\"])\n\n# The libraries rustc loads (its driver and LLVM, whose file names end\n# in a version: libLLVM.so.22.1-rust-1.95.0-stable): an action that runs\n# where only its inputs are, on a remote executor's sandbox, needs them.\nfilegroup(\n    name = \"rustc_lib\",\n    srcs = glob([\"lib/*.so\", \"lib/*.so.*\"]),\n    visibility = [\"//visibility:public\"],\n)\n\n# The prebuilt host std that build scripts link, and the linker rustc\n# drives for the host (rust-lld and its gcc-ld shims).\nfilegroup(\n    name = \"host_std\",\n    srcs = glob([\"lib/rustlib/{host}/lib/*\", \"lib/rustlib/{host}/bin/**\"]),\n    visibility = [\"//visibility:public\"],\n)\n",
            host = m.host
        ),
    ));
    Ok(Output { files })
}

/// The provenance manifest of target `name`'s sysroot, a file of the
/// repository that the driver writes (see `provenance.rs`).
pub fn manifest_file(name: &str) -> String {
    format!("manifests/{name}.json")
}
