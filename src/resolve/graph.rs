//! The unit graph: the product every emitter is a view of.
//!
//! A unit is one crate built one way: package × kind (library, build-script
//! compile, build-script run) × platform (a target, or the host) × stage,
//! with its resolved features. Edges point from a unit to what it needs.
//! Host-side units (build scripts and their build-dependencies) are shared
//! by every target whose resolution gives them the same features.

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::library::rules::Rules;
use crate::library::workspace::{PkgId, Workspace};
use crate::resolve::features::{self, Resolution};
use crate::toolchain::target::{Rustc, Target, TargetId};
use crate::user_bail;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitKind {
    Lib,
    BuildScriptCompile,
    BuildScriptRun,
}

/// Where a unit's output runs: the host (build scripts and what they link),
/// or one of the graph's targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CompileKind {
    Host,
    Target(TargetId),
}

#[derive(Debug, Clone)]
pub struct Unit {
    pub pkg: PkgId,
    pub kind: UnitKind,
    pub platform: CompileKind,
    pub stage: u32,
    pub features: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdgeKind {
    /// `--extern name=…`.
    Extern { name: String, public: bool },
    /// A library's build-script run, or a run's compiled script.
    BuildScript,
    /// A run that reads a `links` dependency's build-script metadata.
    LinksMetadata,
}

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct Request {
    pub crates: Option<Vec<String>>,
    pub features: Option<Vec<String>>,
    pub panic: crate::library::profile::PanicStrategy,
    /// A sysgen.toml / Xargo.toml: its `[dependencies]` choose the crates
    /// and stages when `crates` is `None`.
    pub config: Option<crate::config::Config>,
    /// A test harness will link against the sysroot (`sysgen cargo test`):
    /// where std is built, so are rules/build-std.toml's `test-harness`
    /// crates.
    pub test_harness: bool,
}

impl Request {
    /// The config whose `[dependencies]` choose the crates: `--crates`
    /// replaces them.
    pub(super) fn stage_config(&self) -> Option<&crate::config::Config> {
        self.config.as_ref().filter(|_| self.crates.is_none())
    }
}

/// One root crate of one stage, with the features asked of it.
pub(super) struct StageRoot {
    /// The package, when it is one of the library's own (path) crates;
    /// `None` until the resolution names the registry package it is.
    pub(super) pkg: Option<PkgId>,
    /// The crate's name, as requested.
    pub(super) name: String,
    /// Where it was requested (`--crates` or the config's path), for errors.
    pub(super) what: String,
    /// Features that this root must define (from the config).
    pub(super) features: Vec<String>,
    /// Whether the default features (rules/build-std.toml) apply to it.
    pub(super) defaults: bool,
    /// Listed in the config with `stage = N > 0` (not implied by another).
    pub(super) staged: bool,
}

pub struct BuildGraph {
    pub graph: DiGraph<Unit, EdgeKind>,
    pub ws: Workspace,
    pub targets: Vec<Target>,
    pub host: Target,
    pub rustc: Rustc,
    /// Per target: the crates requested (after implied crates are added).
    pub crates: Vec<Vec<String>>,
    /// Per target: the root library units.
    pub roots: Vec<Vec<NodeIndex>>,
    pub(super) index: HashMap<(PkgId, UnitKind, CompileKind, u32, Vec<String>), NodeIndex>,
    /// Per target and crate name: the library unit that puts that crate into
    /// the sysroot (one per name, or the sysroot breaks).
    pub(super) sysroot_names: HashMap<(CompileKind, String), NodeIndex>,
}

impl BuildGraph {
    pub fn platform_name(&self, p: CompileKind) -> &str {
        match p {
            CompileKind::Host => &self.host.name,
            CompileKind::Target(i) => &self.targets[i.0].name,
        }
    }

    pub fn target_of(&self, p: CompileKind) -> &Target {
        match p {
            CompileKind::Host => &self.host,
            CompileKind::Target(i) => &self.targets[i.0],
        }
    }

    pub fn deps(&self, n: NodeIndex) -> impl Iterator<Item = (NodeIndex, &EdgeKind)> {
        let mut v: Vec<_> = self
            .graph
            .edges(n)
            .map(|e| (e.target(), e.weight()))
            .collect();
        v.sort_by_key(|(t, _)| self.sort_key(*t));
        v.into_iter()
    }

    /// A stable order for units: stage, platform name, crate, kind, version.
    pub fn sort_key(&self, n: NodeIndex) -> (u32, String, String, UnitKind, String, bool) {
        let u = &self.graph[n];
        let p = &self.ws.packages[u.pkg];
        (
            u.stage,
            self.platform_name(u.platform).to_string(),
            p.name.clone(),
            u.kind,
            p.version.to_string(),
            u.platform == CompileKind::Host,
        )
    }

    /// All units in the stable order.
    pub fn units(&self) -> Vec<NodeIndex> {
        let mut v: Vec<NodeIndex> = self.graph.node_indices().collect();
        v.sort_by_key(|&n| self.sort_key(n));
        v
    }

    pub fn build(
        mut ws: Workspace,
        rustc: Rustc,
        targets: Vec<Target>,
        host: Target,
        rules: &Rules,
        req: &Request,
    ) -> Result<BuildGraph> {
        // Per target, per stage: (stage, resolution, root units' packages,
        // and whether the config gave each its stage).
        type StagePlan = (u32, Resolution, Vec<PkgId>, Vec<bool>);
        let mut plans: Vec<Vec<StagePlan>> = Vec::new();
        let mut all_crates = Vec::new();
        for target in &targets {
            let stages = Self::stage_roots(&mut ws, target, rules, req)?;
            let mut per_stage = Vec::new();
            let mut names = Vec::new();
            let features = match &req.features {
                Some(f) => f.clone(),
                None => rules.default_features(target)?,
            };
            for (stage, mut roots) in stages {
                let mut extra = Vec::new();
                if stage == 0 {
                    for name in &rules.build_std.resolve_roots {
                        if let Some(id) = features::find_package(&mut ws, name)? {
                            extra.push(id);
                        }
                    }
                }
                let mut res = Self::resolve_roots(&mut ws, &roots, &extra, &features, req)?;
                // Roots that are registry packages: the resolution names
                // them. One the config gives features becomes a root of
                // the resolution too (as Xargo's generated manifest made it
                // a dependency), so it is resolved again.
                let late = roots.iter().any(|r| r.pkg.is_none());
                for r in roots.iter_mut().filter(|r| r.pkg.is_none()) {
                    r.pkg = Some(Self::resolved_package(&mut ws, &res, &r.name, &r.what)?);
                }
                if late && roots.iter().any(|r| !r.features.is_empty()) {
                    res = Self::resolve_roots(&mut ws, &roots, &extra, &features, req)?;
                }
                let ids: Vec<PkgId> = roots.iter().filter_map(|r| r.pkg).collect();
                names.extend(ids.iter().map(|&i| ws.packages[i].name.clone()));
                let staged = roots.iter().map(|r| r.staged).collect();
                per_stage.push((stage, res, ids, staged));
            }
            plans.push(per_stage);
            all_crates.push(names);
        }
        ws.check_missing()?;
        let mut g = BuildGraph {
            graph: DiGraph::new(),
            ws,
            targets,
            host,
            rustc,
            crates: all_crates,
            roots: Vec::new(),
            index: HashMap::new(),
            sysroot_names: HashMap::new(),
        };
        for (t, per_stage) in plans.iter().enumerate() {
            let mut nodes = Vec::new();
            for (stage, res, ids, staged) in per_stage {
                for (&p, &staged) in ids.iter().zip(staged) {
                    let n = g.add_lib(p, CompileKind::Target(TargetId(t)), res, *stage)?;
                    if staged && g.graph[n].stage < *stage {
                        g.lowered_stage_error(n, *stage, req)?;
                    }
                    nodes.push(n);
                }
            }
            g.roots.push(nodes);
        }
        g.check_acyclic()?;
        Ok(g)
    }

    /// Resolve one stage's features from its roots that are known packages
    /// (and `extra`, cargo's `sysroot` root). The config's crates carry
    /// their own features; --crates and the defaults use cargo's
    /// one-list-for-all-roots rule.
    fn resolve_roots(
        ws: &mut Workspace,
        roots: &[StageRoot],
        extra: &[PkgId],
        features: &[String],
        req: &Request,
    ) -> Result<Resolution> {
        if req.stage_config().is_some() {
            let strict: Vec<(PkgId, Vec<String>, bool)> = roots
                .iter()
                .filter_map(|r| Some((r.pkg?, r.features.clone(), r.defaults)))
                .collect();
            features::resolve_stage(ws, &strict, extra, features)
        } else {
            let mut all: Vec<PkgId> = roots.iter().filter_map(|r| r.pkg).collect();
            all.extend(extra);
            features::resolve(ws, &all, features)
        }
    }

    /// The package named `name` in a resolution: a requested crate that is
    /// not one of the library's path crates (a registry package, such as
    /// compiler_builtins before Rust 1.86), as cargo's `Resolve::query`
    /// finds it.
    fn resolved_package(
        ws: &mut Workspace,
        res: &Resolution,
        name: &str,
        what: &str,
    ) -> Result<PkgId> {
        let found: Vec<PkgId> = res
            .activated
            .iter()
            .copied()
            .filter(|&p| ws.packages[p].name == name)
            .collect();
        match found[..] {
            [one] => Ok(one),
            [] => {
                let mut known = features::local_package_names(ws)?;
                known.sort();
                user_bail!(
                    "unknown crate `{name}` in {what}; the standard library has: {}",
                    known.join(", ")
                );
            }
            _ => {
                let versions: Vec<String> = found
                    .iter()
                    .map(|&p| ws.packages[p].version.to_string())
                    .collect();
                user_bail!(
                    "crate `{name}` in {what} names {} packages of the standard library's graph ({}); name a crate that is there once",
                    found.len(),
                    versions.join(", ")
                );
            }
        }
    }

    /// A crate the config puts into stage N that a crate of a lower stage
    /// already needs, so it is built there: say so rather than build it in
    /// another stage than the config says.
    fn lowered_stage_error(&self, n: NodeIndex, wanted: u32, req: &Request) -> Result<()> {
        let u = &self.graph[n];
        let name = &self.ws.packages[u.pkg].name;
        let dependent = self
            .graph
            .neighbors_directed(n, petgraph::Direction::Incoming)
            .filter(|&d| self.graph[d].stage == u.stage)
            .map(|d| self.ws.packages[self.graph[d].pkg].name.clone())
            .min()
            .unwrap_or_else(|| "another crate".into());
        let file = req
            .config
            .as_ref()
            .map(|c| c.path.display().to_string())
            .unwrap_or_default();
        user_bail!(
            "{file}: `{name}` has stage = {wanted}, but `{dependent}` of stage {} needs it, so it would be built in stage {}; give `{name}` stage = {} or leave its stage out",
            u.stage,
            u.stage,
            u.stage
        );
    }

    /// A dependency cycle (possible with `[patch]` or path crates) would
    /// only surface as ninja's "dependency cycle" with file names; name the
    /// crates instead.
    fn check_acyclic(&self) -> Result<()> {
        for scc in petgraph::algo::kosaraju_scc(&self.graph) {
            let start = scc[0];
            let self_loop = self.graph.contains_edge(start, start);
            if scc.len() < 2 && !self_loop {
                continue;
            }
            // The shortest way from `start` back to it, inside the component.
            let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
            let mut parent: HashMap<NodeIndex, NodeIndex> = HashMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            let mut last = start;
            'search: while let Some(cur) = queue.pop_front() {
                for (next, _) in self.deps(cur) {
                    if next == start {
                        last = cur;
                        break 'search;
                    }
                    if members.contains(&next) && !parent.contains_key(&next) {
                        parent.insert(next, cur);
                        queue.push_back(next);
                    }
                }
            }
            let mut path = vec![start, last];
            while let Some(&p) = parent.get(path.last().expect("non-empty")) {
                path.push(p);
            }
            path.reverse();
            path.dedup();
            if path.len() == 1 {
                path.push(start);
            }
            let names: Vec<String> = path
                .iter()
                .map(|&n| {
                    let u = &self.graph[n];
                    let name = self.ws.packages[u.pkg].name.clone();
                    match u.kind {
                        UnitKind::Lib => name,
                        _ => format!("{name} (build script)"),
                    }
                })
                .collect();
            user_bail!(
                "the sysroot's crates depend on each other in a cycle: {} (for {}); a crate cannot depend on itself, so check the [patch] and path crates that close it",
                names.join(" -> "),
                self.platform_name(self.graph[start].platform)
            );
        }
        Ok(())
    }
}
