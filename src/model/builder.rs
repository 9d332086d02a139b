//! Building the crate model: one declaration per unit of the graph, every
//! flag decided here with its origin.

use crate::base::hash::stable_hash;
use crate::library::manifest::Package;
use crate::library::profile::Profile;
use crate::library::profile::{ProfileFor, Profiles};
use crate::library::rules::{Release, Rules};
use crate::model::schema::{
    Body, CrateDecl, CrateType, Dep, Emit, EnvValue, Flag, JSON_DIAGNOSTICS, Model, Origin, Root,
    RootId, Sources, SrcPath, TargetDecl, UnitDecl, UnitId,
};
use crate::resolve::graph::Unit;
use crate::resolve::graph::{BuildGraph, CompileKind, EdgeKind, UnitKind};
use anyhow::Result;
use petgraph::graph::NodeIndex;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// A front end rules/rustc.toml gives no time: a tenth of a second (most
/// of the library's small crates).
const DEFAULT_FRONTEND_COST: u32 = 1;

/// How the user wants the sysroot built (what is not in the graph).
#[derive(Debug, Clone)]
pub struct ModelOptions {
    /// The resolved profile, with the sysroot's panic strategy.
    pub profile: Profiles,
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

pub(super) struct Builder<'a> {
    pub(super) g: &'a BuildGraph,
    pub(super) rules: &'a Rules,
    pub(super) opts: &'a ModelOptions,
    pub(super) profiles: Profiles,
    pub(super) ids: HashMap<NodeIndex, UnitId>,
    pub(super) hashes: HashMap<NodeIndex, String>,
    pub(super) roots: Vec<Root>,
    /// The compiler's release, which the release-bound rules are read for.
    pub(super) release: Release,
    pub(super) scanner: std::cell::RefCell<crate::model::sources::Scanner>,
    /// The SHA-256 of each custom target's spec, by target index: what a
    /// spec says changes every unit built for it (as in cargo's hash).
    pub(super) spec_digests: Vec<Option<String>>,
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
        profiles: opts.profile.clone(),
        ids: order
            .iter()
            .enumerate()
            .map(|(i, &n)| (n, UnitId(i)))
            .collect(),
        hashes: HashMap::new(),
        roots,
        release: Release::of(&g.rustc),
        scanner: Default::default(),
        spec_digests: g
            .targets
            .iter()
            .map(|t| {
                t.spec_file()
                    .map(crate::base::fingerprint::sha256_file)
                    .transpose()
            })
            .collect::<Result<_>>()?,
    };
    b.hashes = g
        .graph
        .node_indices()
        .map(|n| (n, b.hash(&b.cx(n))))
        .collect();
    let units = order.iter().map(|&n| b.unit(n)).collect();
    Ok(Model {
        roots: b.roots,
        rustc: g.rustc.compiler().to_path_buf(),
        host: g.host.name.clone(),
        targets: g
            .targets
            .iter()
            .map(|t| TargetDecl {
                name: t.name.clone(),
                spec_file: t.spec_file().map(Path::to_path_buf),
                target_path: t.kind.target_path().map(Path::to_path_buf),
            })
            .collect(),
        units,
    })
}

/// One unit as the builder sees it, derived once (cargo's `Unit`): the
/// graph's unit, its package, its profile, and whether it goes into the
/// sysroot. Flags and env are plain functions of it.
pub(super) struct UnitCx<'a> {
    pub(super) n: NodeIndex,
    pub(super) unit: &'a Unit,
    pub(super) pkg: &'a Package,
    pub(super) profile: Profile,
    pub(super) in_sysroot: bool,
}

impl<'g> Builder<'g> {
    fn cx(&self, n: NodeIndex) -> UnitCx<'g> {
        let unit = &self.g.graph[n];
        let pkg = &self.g.ws.packages[unit.pkg];
        UnitCx {
            n,
            unit,
            pkg,
            profile: self.profiles.get(&pkg.name, self.for_(n)),
            in_sysroot: self.in_sysroot(n),
        }
    }

    pub(super) fn src_path(&self, p: &Path) -> SrcPath {
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

    pub(super) fn for_(&self, n: NodeIndex) -> ProfileFor {
        match self.g.graph[n].platform {
            CompileKind::Host => ProfileFor::Host,
            CompileKind::Target(_) => ProfileFor::Target,
        }
    }

    /// The user's extra flags for units of `plat` (none for the host, as
    /// cargo with `--target` gives build scripts none).
    /// The tool that compiles the sysroot in rustc's place, and its rules.
    pub(super) fn driver(&self) -> Option<(&str, &crate::library::rules::DriverRules)> {
        let d = self.g.rustc.driver.as_ref()?;
        Some((d.name.as_str(), self.rules.drivers.get(&d.name)?))
    }

    pub(super) fn user_flags(&self, plat: CompileKind) -> &[String] {
        match plat {
            CompileKind::Host => &[],
            CompileKind::Target(i) => self
                .opts
                .rustflags
                .get(&self.g.targets[i.0].name)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
        }
    }

    /// Identity of a unit: everything that changes its output.
    fn hash(&self, cx: &UnitCx) -> String {
        let u = cx.unit;
        let p = cx.pkg;
        let profile = &cx.profile;
        let host = if u.platform == CompileKind::Host {
            "host"
        } else {
            "target"
        };
        // A custom target's spec counts only where there is one: built-in
        // targets keep the hashes (and so the -C metadata) they always had.
        let spec = match u.platform {
            CompileKind::Target(i) => self.spec_digests[i.0].as_deref(),
            CompileKind::Host => None,
        };
        let parts: Vec<String> = [
            p.name.clone(),
            p.version.to_string(),
            format!("{:?}", u.kind),
            self.g.platform_name(u.platform).to_string(),
            host.to_string(),
            u.stage.to_string(),
            u.features.join(","),
            profile.identity(),
            self.user_flags(u.platform).join("\u{1f}"),
            self.opts.profile.panic().as_str().to_string(),
            if self.opts.check { "check" } else { "build" }.to_string(),
            self.g.rustc.version.clone(),
        ]
        .into_iter()
        .chain(spec.map(str::to_string))
        .chain(self.g.rustc.driver.as_ref().map(|d| d.version.clone()))
        .collect();
        stable_hash(&parts.iter().map(String::as_str).collect::<Vec<_>>())
    }

    pub(super) fn in_sysroot(&self, n: NodeIndex) -> bool {
        let u = &self.g.graph[n];
        u.kind == UnitKind::Lib && u.platform != CompileKind::Host
    }

    fn unit(&self, n: NodeIndex) -> UnitDecl {
        let cx = self.cx(n);
        let (u, p) = (cx.unit, cx.pkg);
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
                Body::Crate(Box::new(self.crate_decl(&cx)))
            }
            UnitKind::BuildScriptRun => Body::Run(self.run_decl(&cx)),
        };
        UnitDecl {
            id: self.ids[&cx.n],
            package: p.name.clone(),
            version: p.version.to_string(),
            target: match u.platform {
                CompileKind::Host => None,
                CompileKind::Target(i) => Some(i),
            },
            stage: u.stage,
            hash: self.hashes[&cx.n].clone(),
            description,
            body,
        }
    }

    fn crate_decl(&self, cx: &UnitCx) -> CrateDecl {
        let u = cx.unit;
        let p = cx.pkg;
        let is_target = u.platform != CompileKind::Host;
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
        let in_sysroot = cx.in_sysroot;
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
        flags.extend(self.profile_flags(cx));
        flags.extend(self.feature_flags(cx));
        flags.push(Flag {
            args: vec![
                "-C".into(),
                format!("metadata={}", &self.hashes[&cx.n][..16]),
            ],
            origin: Origin::Sysgen {
                why: "the unit's identity: everything that changes its output",
            },
        });
        let by_path = matches!(
            self.g.target_of(u.platform).kind,
            crate::toolchain::target::CompileTarget::SpecFile(_)
        );
        if is_target && !by_path {
            flags.push(Flag {
                args: vec![
                    "--target".into(),
                    self.g.target_of(u.platform).kind.rustc_arg(),
                ],
                origin: Origin::Sysgen {
                    why: "the sysroot's target",
                },
            });
        }
        if is_target && self.g.ws.is_standard_library(u.pkg) {
            flags.push(Flag {
                args: self.rules.rustc.standard_library.flags.clone(),
                origin: Origin::Rules {
                    file: "rustc.toml",
                    key: "standard-library".into(),
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
            let prof = &cx.profile;
            flags.push(Flag {
                args: prof.rustflags.clone(),
                origin: Origin::Profile {
                    name: self.opts.profile.name().to_string(),
                },
            });
            if let Some((name, d)) = self.driver() {
                flags.push(Flag {
                    args: d.rustflags.clone(),
                    origin: Origin::Rules {
                        file: "drivers.toml",
                        key: format!("{name}.rustflags"),
                    },
                });
            }
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
        if let Some((_, d)) = self.driver() {
            let driver_env = if is_target {
                &d.target_env
            } else {
                &d.host_env
            };
            env.extend(
                driver_env
                    .iter()
                    .map(|(k, v)| (k.clone(), EnvValue::Text(v.clone()))),
            );
        }
        env.extend(self.pkg_env(cx));
        if is_target && let Some(dir) = self.g.target_of(u.platform).kind.target_path() {
            env.push((
                "RUST_TARGET_PATH".into(),
                EnvValue::Text(dir.display().to_string()),
            ));
        }
        let build_script = self.run_of(cx);
        if let Some(run) = build_script {
            env.push(("OUT_DIR".into(), EnvValue::OutDir(run)));
        }
        let priv_deps = is_target && p.cargo_features.iter().any(|f| f == "public-dependency");
        let mut deps = Vec::new();
        for (d, e) in self.g.deps(cx.n) {
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
            let env = self.cfg_env(cx, &flags, build_script.is_some());
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
        let frontend_cost = self
            .rules
            .rustc
            .krate
            .get(&p.name)
            .filter(|_| u.kind == UnitKind::Lib)
            .and_then(|r| r.frontend_seconds)
            .map_or(DEFAULT_FRONTEND_COST, |s| (s * 10.0).round() as u32);
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
            in_sysroot: cx.in_sysroot,
            sources,
            frontend_cost,
        }
    }

    fn run_of(&self, cx: &UnitCx) -> Option<UnitId> {
        self.g
            .deps(cx.n)
            .find(|(d, e)| {
                **e == EdgeKind::BuildScript && self.g.graph[*d].kind == UnitKind::BuildScriptRun
            })
            .map(|(d, _)| self.ids[&d])
    }
}
