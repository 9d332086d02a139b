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

use crate::library::manifest::DepKind;
use crate::library::rules::Rules;
use crate::library::workspace::{PkgId, Workspace};
use crate::resolve::{self, Resolution};
use crate::toolchain::target::{Rustc, Target};
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
    pub panic: crate::library::panic::PanicStrategy,
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
    fn stage_config(&self) -> Option<&crate::config::Config> {
        self.config.as_ref().filter(|_| self.crates.is_none())
    }
}

/// One root crate of one stage, with the features asked of it.
struct StageRoot {
    pkg: PkgId,
    /// Features that this root must define (from the config).
    features: Vec<String>,
    /// Whether the default features (rules/build-std.toml) apply to it.
    defaults: bool,
    /// Listed in the config with `stage = N > 0` (not implied by another).
    staged: bool,
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
    /// The panic strategy the graph was resolved for.
    pub panic: crate::library::panic::PanicStrategy,
    index: HashMap<(PkgId, UnitKind, Platform, u32, Vec<String>), NodeIndex>,
    /// Per target and crate name: the library unit that puts that crate into
    /// the sysroot (one per name, or the sysroot breaks).
    sysroot_names: HashMap<(Platform, String), NodeIndex>,
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
            for (stage, roots) in stages {
                let ids: Vec<PkgId> = roots.iter().map(|r| r.pkg).collect();
                let mut extra = Vec::new();
                if stage == 0 {
                    for name in &rules.build_std.resolve_roots {
                        if let Some(id) = resolve::find_package(&mut ws, name)? {
                            extra.push(id);
                        }
                    }
                }
                // The config's crates carry their own features; --crates
                // and the defaults use cargo's one-list-for-all-roots rule.
                let res = if req.stage_config().is_some() {
                    let strict: Vec<(PkgId, Vec<String>, bool)> = roots
                        .iter()
                        .map(|r| (r.pkg, r.features.clone(), r.defaults))
                        .collect();
                    resolve::resolve_stage(&mut ws, &strict, &extra, &features)?
                } else {
                    let mut all = ids.clone();
                    all.extend(extra);
                    resolve::resolve(&mut ws, &all, &features)?
                };
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
            panic: req.panic,
            index: HashMap::new(),
            sysroot_names: HashMap::new(),
        };
        for (t, per_stage) in plans.iter().enumerate() {
            let mut nodes = Vec::new();
            for (stage, res, ids, staged) in per_stage {
                for (&p, &staged) in ids.iter().zip(staged) {
                    let n = g.add_lib(p, Platform::Target(t), res, *stage)?;
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

    /// The root crates of each stage for `target`: from `--crates` (or the
    /// defaults) as one stage 0, or from the config's stages.
    fn stage_roots(
        ws: &mut Workspace,
        target: &Target,
        rules: &Rules,
        req: &Request,
    ) -> Result<Vec<(u32, Vec<StageRoot>)>> {
        let runtime = || {
            rules
                .build_std
                .panic_runtime
                .get(req.panic.as_str())
                .cloned()
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "rules/build-std.toml names no panic runtime for `{}`",
                        req.panic
                    )
                })
        };
        let library_root = |ws: &mut Workspace, name: &str, what: &str| -> Result<PkgId> {
            match resolve::find_package(ws, name)? {
                Some(id) => Ok(id),
                None => {
                    let known = resolve::local_package_names(ws)?;
                    user_bail!(
                        "unknown crate `{name}` in {what}; the standard library has: {}",
                        known.join(", ")
                    );
                }
            }
        };
        let Some(config) = req.stage_config() else {
            let requested = match &req.crates {
                Some(c) => c.clone(),
                None => {
                    let mut c = if target.maybe_supports_std() {
                        rules.build_std.default_crates_std.clone()
                    } else {
                        rules.build_std.default_crates_no_std.clone()
                    };
                    if target.maybe_supports_std() {
                        c.push(runtime()?);
                    }
                    c
                }
            };
            let mut requested = rules.expand_crates(&requested);
            if req.test_harness && requested.iter().any(|c| c == "std") {
                for t in &rules.build_std.test_harness {
                    if !requested.contains(t) {
                        requested.push(t.clone());
                    }
                }
            }
            let mut roots = Vec::new();
            for name in requested {
                roots.push(StageRoot {
                    pkg: library_root(ws, &name, "--crates")?,
                    features: Vec::new(),
                    defaults: true,
                    staged: false,
                });
            }
            return Ok(vec![(0, roots)]);
        };
        let what = config.path.display().to_string();
        let mut out = Vec::new();
        for (stage, specs) in config.stages_for(target)? {
            let mut roots = Vec::new();
            let mut library: Vec<String> = Vec::new();
            for spec in &specs {
                let pkg = match &spec.source {
                    crate::config::CrateSource::Library => {
                        library.push(spec.name.clone());
                        library_root(ws, &spec.name, &what)?
                    }
                    crate::config::CrateSource::Git { .. } => {
                        unreachable!("the driver checks out git sources before the graph")
                    }
                    crate::config::CrateSource::Path(dir) => {
                        let id = ws.load_path(dir)?;
                        if ws.packages[id].name != spec.name {
                            user_bail!(
                                "{what}: `{}` points at package `{}` ({}); use the package's name as the key",
                                spec.name,
                                ws.packages[id].name,
                                dir.display()
                            );
                        }
                        id
                    }
                };
                roots.push(StageRoot {
                    pkg,
                    features: spec.features.clone(),
                    defaults: spec.default_features,
                    staged: spec.stage > 0,
                });
            }
            // What a listed library crate brings along, as with --crates.
            let mut implied = rules.expand_crates(&library);
            if req.test_harness && implied.iter().any(|c| c == "std") {
                implied.extend(rules.build_std.test_harness.iter().cloned());
            }
            let needs_runtime = library
                .iter()
                .any(|c| rules.build_std.panic_runtime_with.contains(c));
            if needs_runtime && target.maybe_supports_std() {
                implied.push(runtime()?);
            }
            for name in implied {
                if specs.iter().any(|s| s.name == name) {
                    continue;
                }
                let pkg = library_root(ws, &name, &what)?;
                if roots.iter().any(|r| r.pkg == pkg) {
                    continue;
                }
                roots.push(StageRoot {
                    pkg,
                    features: Vec::new(),
                    defaults: true,
                    staged: false,
                });
            }
            out.push((stage, roots));
        }
        Ok(out)
    }

    fn key(
        &self,
        p: PkgId,
        kind: UnitKind,
        plat: Platform,
        res: &Resolution,
        stage: u32,
    ) -> (PkgId, UnitKind, Platform, u32, Vec<String>) {
        let features: Vec<String> = res
            .features
            .get(&p)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        // Host units never enter a sysroot: every stage shares them.
        let stage = if plat == Platform::Host { 0 } else { stage };
        (p, kind, plat, stage, features)
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

    /// The library unit of `p` for `plat` in `stage`. A crate that a lower
    /// stage already puts into the sysroot is reused when that build has
    /// every feature this stage needs; anything else would put a second
    /// crate of the same name into the sysroot, which is an error here
    /// rather than "multiple matching crates" in the middle of a build.
    fn add_lib(
        &mut self,
        p: PkgId,
        plat: Platform,
        res: &Resolution,
        stage: u32,
    ) -> Result<NodeIndex> {
        let key = self.key(p, UnitKind::Lib, plat, res, stage);
        if let Some(&n) = self.index.get(&key) {
            return Ok(n);
        }
        let crate_name = self.ws.packages[p]
            .lib
            .as_ref()
            .map(|l| l.name.clone())
            .unwrap_or_else(|| self.ws.packages[p].name.replace('-', "_"));
        if plat != Platform::Host
            && let Some(&other) = self.sysroot_names.get(&(plat, crate_name.clone()))
        {
            let o = &self.graph[other];
            let wanted = &key.4;
            let reusable =
                o.pkg == p && o.stage < stage && wanted.iter().all(|f| o.features.contains(f));
            if reusable {
                return Ok(other);
            }
            let describe = |pkg: PkgId, stage: u32, features: &[String]| {
                let pk = &self.ws.packages[pkg];
                format!(
                    "stage {stage} builds {} {} ({}) with features [{}]",
                    pk.name,
                    pk.version,
                    pk.dir().display(),
                    features.join(", ")
                )
            };
            user_bail!(
                "crate `{crate_name}` would enter the {} sysroot twice: {}, and {}; give both the same features, or list the crate in one stage only",
                self.platform_name(plat),
                describe(o.pkg, o.stage, &o.features),
                describe(p, stage, wanted)
            );
        }
        let (n, _) = self.node(key);
        if plat != Platform::Host {
            self.sysroot_names.insert((plat, crate_name), n);
        }
        for (name, public, q) in self.externs(p, DepKind::Normal, plat, res) {
            let child = self.add_lib(q, plat, res, stage)?;
            self.graph
                .add_edge(n, child, EdgeKind::Extern { name, public });
        }
        if self.ws.packages[p].build_script.is_some() {
            let run = self.add_run(p, plat, res, stage)?;
            self.graph.add_edge(n, run, EdgeKind::BuildScript);
        }
        Ok(n)
    }

    fn add_run(
        &mut self,
        p: PkgId,
        plat: Platform,
        res: &Resolution,
        stage: u32,
    ) -> Result<NodeIndex> {
        let (n, new) = self.node(self.key(p, UnitKind::BuildScriptRun, plat, res, stage));
        if !new {
            return Ok(n);
        }
        let compile = self.add_compile(p, res)?;
        self.graph.add_edge(n, compile, EdgeKind::BuildScript);
        for (_, q) in self.active_deps(p, DepKind::Normal, plat, res) {
            let qp = &self.ws.packages[q];
            if qp.links.is_some() && qp.build_script.is_some() {
                let other = self.add_run(q, plat, res, stage)?;
                self.graph.add_edge(n, other, EdgeKind::LinksMetadata);
            }
        }
        Ok(n)
    }

    fn add_compile(&mut self, p: PkgId, res: &Resolution) -> Result<NodeIndex> {
        let (n, new) = self.node(self.key(p, UnitKind::BuildScriptCompile, Platform::Host, res, 0));
        if !new {
            return Ok(n);
        }
        for (name, _, q) in self.externs(p, DepKind::Build, Platform::Host, res) {
            let child = self.add_lib(q, Platform::Host, res, 0)?;
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
