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

use crate::manifest::DepKind;
use crate::resolve::{self, Resolution};
use crate::rules::Rules;
use crate::target::{Rustc, Target};
use crate::workspace::{PkgId, Workspace};
use crate::{user_bail, user_err};

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
pub enum Platform {
    Host,
    Target(usize),
}

#[derive(Debug, Clone)]
pub struct Unit {
    pub pkg: PkgId,
    pub kind: UnitKind,
    pub platform: Platform,
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
    /// `unwind`, `abort` or `immediate-abort`.
    pub panic: String,
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
    index: HashMap<(PkgId, UnitKind, Platform, u32, Vec<String>), NodeIndex>,
}

impl BuildGraph {
    pub fn platform_name(&self, p: Platform) -> &str {
        match p {
            Platform::Host => &self.host.name,
            Platform::Target(i) => &self.targets[i].name,
        }
    }

    pub fn target_of(&self, p: Platform) -> &Target {
        match p {
            Platform::Host => &self.host,
            Platform::Target(i) => &self.targets[i],
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
            u.platform == Platform::Host,
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
        let mut resolutions = Vec::new();
        let mut all_crates = Vec::new();
        let mut root_pkgs = Vec::new();
        for target in &targets {
            let requested = match &req.crates {
                Some(c) => c.clone(),
                None => {
                    let mut c = if target.maybe_supports_std() {
                        rules.build_std.default_crates_std.clone()
                    } else {
                        rules.build_std.default_crates_no_std.clone()
                    };
                    if target.maybe_supports_std() {
                        let rt = rules.build_std.panic_runtime.get(&req.panic).ok_or_else(|| {
                            user_err!("unknown panic strategy `{}`; use unwind, abort or immediate-abort", req.panic)
                        })?;
                        c.push(rt.clone());
                    }
                    c
                }
            };
            let crates = rules.expand_crates(&requested);
            let features = match &req.features {
                Some(f) => f.clone(),
                None => rules.default_features(target)?,
            };
            let mut root_ids = Vec::new();
            for name in crates.iter().chain(&rules.build_std.resolve_roots) {
                match resolve::find_package(&mut ws, name)? {
                    Some(id) => root_ids.push(id),
                    None => {
                        let known = resolve::local_package_names(&mut ws)?;
                        user_bail!(
                            "unknown crate `{name}` in --crates; the standard library has: {}",
                            known.join(", ")
                        );
                    }
                }
            }
            let res = resolve::resolve(&mut ws, &root_ids, &features)?;
            resolutions.push(res);
            root_pkgs.push(root_ids[..crates.len()].to_vec());
            all_crates.push(crates);
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
        };
        for (t, res) in resolutions.iter().enumerate() {
            let mut nodes = Vec::new();
            for &p in &root_pkgs[t] {
                nodes.push(g.add_lib(p, Platform::Target(t), res)?);
            }
            g.roots.push(nodes);
        }
        Ok(g)
    }

    fn key(
        &self,
        p: PkgId,
        kind: UnitKind,
        plat: Platform,
        res: &Resolution,
    ) -> (PkgId, UnitKind, Platform, u32, Vec<String>) {
        let features: Vec<String> = res
            .features
            .get(&p)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        (p, kind, plat, 0, features)
    }

    fn node(&mut self, key: (PkgId, UnitKind, Platform, u32, Vec<String>)) -> (NodeIndex, bool) {
        if let Some(&n) = self.index.get(&key) {
            return (n, false);
        }
        let (pkg, kind, platform, stage, features) = key.clone();
        let n = self.graph.add_node(Unit {
            pkg,
            kind,
            platform,
            stage,
            features,
        });
        self.index.insert(key, n);
        (n, true)
    }

    /// Active dependency edges of `p` of `kind` for `plat`: (dep index, package).
    fn active_deps(
        &self,
        p: PkgId,
        kind: DepKind,
        plat: Platform,
        res: &Resolution,
    ) -> Vec<(usize, PkgId)> {
        let target = self.target_of(plat);
        let pkg = &self.ws.packages[p];
        let mut out = Vec::new();
        for (i, d) in pkg.deps.iter().enumerate() {
            if d.kind != kind
                || !res.dep_active(&self.ws, p, i)
                || !target.matches(d.platform.as_ref())
            {
                continue;
            }
            if let Some(Some(q)) = res.edges.get(&(p, i)) {
                out.push((i, *q));
            }
        }
        out
    }

    /// The `--extern`s of `p` through `kind` dependencies for `plat`:
    /// (extern name, public, package). A renamed dependency is known by its
    /// key; otherwise by the library's crate name. The first of several
    /// platform tables naming one dependency wins.
    fn externs(
        &self,
        p: PkgId,
        kind: DepKind,
        plat: Platform,
        res: &Resolution,
    ) -> Vec<(String, bool, PkgId)> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (i, q) in self.active_deps(p, kind, plat, res) {
            let dep = &self.ws.packages[p].deps[i];
            let Some(lib) = &self.ws.packages[q].lib else {
                continue;
            };
            let name = if dep.package != dep.name {
                dep.name.replace('-', "_")
            } else {
                lib.name.clone()
            };
            if seen.insert(name.clone()) {
                out.push((name, dep.public, q));
            }
        }
        out
    }

    fn add_lib(&mut self, p: PkgId, plat: Platform, res: &Resolution) -> Result<NodeIndex> {
        let (n, new) = self.node(self.key(p, UnitKind::Lib, plat, res));
        if !new {
            return Ok(n);
        }
        for (name, public, q) in self.externs(p, DepKind::Normal, plat, res) {
            let child = self.add_lib(q, plat, res)?;
            self.graph
                .add_edge(n, child, EdgeKind::Extern { name, public });
        }
        if self.ws.packages[p].build_script.is_some() {
            let run = self.add_run(p, plat, res)?;
            self.graph.add_edge(n, run, EdgeKind::BuildScript);
        }
        Ok(n)
    }

    fn add_run(&mut self, p: PkgId, plat: Platform, res: &Resolution) -> Result<NodeIndex> {
        let (n, new) = self.node(self.key(p, UnitKind::BuildScriptRun, plat, res));
        if !new {
            return Ok(n);
        }
        let compile = self.add_compile(p, res)?;
        self.graph.add_edge(n, compile, EdgeKind::BuildScript);
        for (_, q) in self.active_deps(p, DepKind::Normal, plat, res) {
            let qp = &self.ws.packages[q];
            if qp.links.is_some() && qp.build_script.is_some() {
                let other = self.add_run(q, plat, res)?;
                self.graph.add_edge(n, other, EdgeKind::LinksMetadata);
            }
        }
        Ok(n)
    }

    fn add_compile(&mut self, p: PkgId, res: &Resolution) -> Result<NodeIndex> {
        let (n, new) = self.node(self.key(p, UnitKind::BuildScriptCompile, Platform::Host, res));
        if !new {
            return Ok(n);
        }
        for (name, _, q) in self.externs(p, DepKind::Build, Platform::Host, res) {
            let child = self.add_lib(q, Platform::Host, res)?;
            self.graph.add_edge(
                n,
                child,
                EdgeKind::Extern {
                    name,
                    public: false,
                },
            );
        }
        Ok(n)
    }
}
