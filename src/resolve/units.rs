//! Adding units and edges to the graph: one node per (package, kind,
//! platform, stage, features), the dependency edges cargo would draw, and
//! build-script compile and run units.

use crate::library::manifest::DepKind;
use crate::library::workspace::PkgId;
use crate::resolve::features::Resolution;
use crate::resolve::graph::{BuildGraph, CompileKind, EdgeKind, Unit, UnitKind};
use crate::user_bail;
use anyhow::Result;
use petgraph::graph::NodeIndex;
use std::collections::BTreeSet;

impl BuildGraph {
    pub(super) fn key(
        &self,
        p: PkgId,
        kind: UnitKind,
        plat: CompileKind,
        res: &Resolution,
        stage: u32,
    ) -> (PkgId, UnitKind, CompileKind, u32, Vec<String>) {
        let features: Vec<String> = res
            .features
            .get(&p)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        // Host units never enter a sysroot: every stage shares them.
        let stage = if plat == CompileKind::Host { 0 } else { stage };
        (p, kind, plat, stage, features)
    }

    pub(super) fn node(
        &mut self,
        key: (PkgId, UnitKind, CompileKind, u32, Vec<String>),
    ) -> (NodeIndex, bool) {
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
    pub(super) fn active_deps(
        &self,
        p: PkgId,
        kind: DepKind,
        plat: CompileKind,
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
    pub(super) fn externs(
        &self,
        p: PkgId,
        kind: DepKind,
        plat: CompileKind,
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
    pub(super) fn add_lib(
        &mut self,
        p: PkgId,
        plat: CompileKind,
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
        if plat != CompileKind::Host
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
        if plat != CompileKind::Host {
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

    pub(super) fn add_run(
        &mut self,
        p: PkgId,
        plat: CompileKind,
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

    pub(super) fn add_compile(&mut self, p: PkgId, res: &Resolution) -> Result<NodeIndex> {
        let (n, new) =
            self.node(self.key(p, UnitKind::BuildScriptCompile, CompileKind::Host, res, 0));
        if !new {
            return Ok(n);
        }
        for (name, _, q) in self.externs(p, DepKind::Build, CompileKind::Host, res) {
            let child = self.add_lib(q, CompileKind::Host, res, 0)?;
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
