//! `sysgen explain CRATE [--flags]`: why a crate is in the sysroot's graph,
//! what turned on each of its features, and where each argument of its
//! rustc call comes from.
//!
//! Everything is read from the graph and the model that the emitters
//! render — never from a build file — so the answer is the build's.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt::Write;

use anyhow::Result;
use petgraph::Direction;
use petgraph::graph::NodeIndex;

use crate::model::{EnvValue, Model, Origin};
use crate::resolve::graph::{CompileKind, EdgeKind, UnitKind};
use crate::resolve::load::Loaded;
use crate::user_bail;

fn same_name(a: &str, b: &str) -> bool {
    a.replace('-', "_") == b.replace('-', "_")
}

/// The report for `krate` (a package or crate name), on `target` when given.
pub fn explain(
    loaded: &Loaded,
    model: &Model,
    krate: &str,
    target: Option<&str>,
    flags: bool,
) -> Result<String> {
    let g = &loaded.graph;
    let nodes: Vec<NodeIndex> = g
        .graph
        .node_indices()
        .filter(|&n| {
            let u = &g.graph[n];
            u.kind == UnitKind::Lib
                && same_name(&g.ws.packages[u.pkg].name, krate)
                && target.is_none_or(|t| is_target(loaded, u.platform, t))
        })
        .collect();
    if nodes.is_empty() {
        let targets: Vec<&str> = g.targets.iter().map(|t| t.name.as_str()).collect();
        user_bail!(
            "`{krate}` is not in the sysroot's graph for {}{}; `sysgen graph --format json` lists the crates that are",
            targets.join(", "),
            target
                .map(|t| format!(" (asked for {t})"))
                .unwrap_or_default()
        );
    }
    let mut out = String::new();
    for n in nodes {
        if flags {
            flags_of(loaded, model, n, &mut out);
        } else {
            why(loaded, n, &mut out);
        }
    }
    Ok(out)
}

/// Whether `p` is the target the user named: a triple, or a spec file
/// (whose target is named by its stem).
fn is_target(loaded: &Loaded, p: CompileKind, named: &str) -> bool {
    let t = loaded.graph.target_of(p);
    p != CompileKind::Host && (t.name == named || t.spec_file().is_some_and(|f| f.ends_with(named)))
}

fn describe(loaded: &Loaded, n: NodeIndex) -> String {
    let g = &loaded.graph;
    let u = &g.graph[n];
    let p = &g.ws.packages[u.pkg];
    let kind = match u.kind {
        UnitKind::Lib => "",
        UnitKind::BuildScriptCompile => " build script",
        UnitKind::BuildScriptRun => " build script run",
    };
    let platform = match u.platform {
        CompileKind::Host => "host".to_string(),
        CompileKind::Target(_) => g.platform_name(u.platform).to_string(),
    };
    format!(
        "{} {}{kind} ({platform}, stage {})",
        p.name, p.version, u.stage
    )
}

/// The shortest chain of dependencies from a requested root to `n`.
fn path_from_root(loaded: &Loaded, n: NodeIndex) -> Vec<NodeIndex> {
    let g = &loaded.graph;
    let roots: BTreeSet<NodeIndex> = g.roots.iter().flatten().copied().collect();
    // Search up the dependents (incoming edges) until a root.
    let mut prev: HashMap<NodeIndex, NodeIndex> = HashMap::new();
    let mut queue = VecDeque::from([n]);
    let mut seen = BTreeSet::from([n]);
    while let Some(x) = queue.pop_front() {
        if roots.contains(&x) {
            let mut chain = vec![x];
            let mut at = x;
            while let Some(&next) = prev.get(&at) {
                chain.push(next);
                at = next;
            }
            return chain;
        }
        let mut parents: Vec<NodeIndex> =
            g.graph.neighbors_directed(x, Direction::Incoming).collect();
        parents.sort();
        for p in parents {
            if seen.insert(p) {
                prev.insert(p, x);
                queue.push_back(p);
            }
        }
    }
    vec![n]
}

/// How `from` depends on `to`: the manifest entry's kind and condition.
fn edge_text(loaded: &Loaded, from: NodeIndex, to: NodeIndex) -> String {
    let g = &loaded.graph;
    let Some(e) = g.graph.edges_connecting(from, to).next() else {
        return String::new();
    };
    let from_pkg = &g.ws.packages[g.graph[from].pkg];
    let to_pkg = &g.ws.packages[g.graph[to].pkg];
    match e.weight() {
        EdgeKind::Extern { name, .. } => {
            let dep = from_pkg
                .deps
                .iter()
                .find(|d| same_name(&d.package, &to_pkg.name) && same_name(&d.name, name))
                .or_else(|| {
                    from_pkg
                        .deps
                        .iter()
                        .find(|d| same_name(&d.package, &to_pkg.name))
                });
            let mut s = format!("--extern {name}");
            if let Some(d) = dep {
                let _ = write!(s, ", {:?} dependency", d.kind);
                if d.optional {
                    s.push_str(", optional");
                }
                if let Some(p) = &d.platform {
                    let _ = write!(s, ", only for `{p}`");
                }
            }
            s
        }
        EdgeKind::BuildScript => "its build script".into(),
        EdgeKind::LinksMetadata => "reads its `links` metadata".into(),
    }
}

fn why(loaded: &Loaded, n: NodeIndex, out: &mut String) {
    let g = &loaded.graph;
    let u = &g.graph[n];
    let pkg = &g.ws.packages[u.pkg];
    let _ = writeln!(out, "{}", describe(loaded, n));
    let chain = path_from_root(loaded, n);
    let _ = writeln!(out, "  in the graph because:");
    let root = chain[0];
    let _ = writeln!(
        out,
        "    {} is requested (--crates, the config's [dependencies] or the defaults)",
        g.ws.packages[g.graph[root].pkg].name
    );
    for w in chain.windows(2) {
        let _ = writeln!(
            out,
            "    {} depends on {} ({})",
            g.ws.packages[g.graph[w[0]].pkg].name,
            g.ws.packages[g.graph[w[1]].pkg].name,
            edge_text(loaded, w[0], w[1])
        );
    }
    if u.features.is_empty() {
        let _ = writeln!(out, "  features: none");
        return;
    }
    let _ = writeln!(out, "  features:");
    let dependents: Vec<NodeIndex> = {
        let mut v: Vec<_> = g.graph.neighbors_directed(n, Direction::Incoming).collect();
        v.sort();
        v.dedup();
        v
    };
    for f in &u.features {
        let mut reasons = Vec::new();
        // Another feature of the crate implies it.
        for (g_name, implies) in &pkg.features {
            if g_name != f && u.features.contains(g_name) && implies.iter().any(|x| x == f) {
                reasons.push(format!("its feature `{g_name}` = {implies:?}"));
            }
        }
        for &d in &dependents {
            let du = &g.graph[d];
            let dpkg = &g.ws.packages[du.pkg];
            for dep in dpkg
                .deps
                .iter()
                .filter(|x| same_name(&x.package, &pkg.name))
            {
                if dep.features.iter().any(|x| x == f) {
                    reasons.push(format!(
                        "{} asks for it in its dependency on {} (features = {:?})",
                        dpkg.name, dep.name, dep.features
                    ));
                }
                if f == "default" && dep.default_features {
                    reasons.push(format!("{} uses its default features", dpkg.name));
                }
                for (df, implies) in &dpkg.features {
                    let spelled = [format!("{}/{f}", dep.name), format!("{}?/{f}", dep.name)];
                    if du.features.contains(df) && implies.iter().any(|x| spelled.contains(x)) {
                        reasons.push(format!("{}'s feature `{df}` = {implies:?}", dpkg.name));
                    }
                }
            }
        }
        let is_root = g.roots.iter().flatten().any(|&r| r == n);
        if is_root
            && let Some(req) = &loaded.features
            && req.iter().any(|x| x == f)
        {
            reasons.push("--features".into());
        }
        if let Some(c) = &loaded.config {
            for spec in c.specs().filter(|s| same_name(&s.name, &pkg.name)) {
                if spec.features.iter().any(|x| x == f) {
                    reasons.push(format!(
                        "[dependencies.{}] features in {}",
                        spec.name,
                        c.path.display()
                    ));
                }
            }
        }
        if reasons.is_empty() {
            // Cargo's resolver 1 unifies features across platforms: a
            // dependent that is not built for this target still counts.
            for other in g.ws.packages.iter() {
                for dep in other
                    .deps
                    .iter()
                    .filter(|x| same_name(&x.package, &pkg.name))
                {
                    if dep.features.iter().any(|x| x == f) {
                        reasons.push(format!(
                            "{} asks for it (features = {:?}){}; resolver 1 unifies features across platforms",
                            other.name,
                            dep.features,
                            dep.platform.as_ref().map(|p| format!(" for `{p}`")).unwrap_or_default()
                        ));
                    }
                }
            }
        }
        if reasons.is_empty() && is_root {
            reasons.push(
                "-Zbuild-std's default features (rules/build-std.toml `default-features`)".into(),
            );
        }
        reasons.sort();
        reasons.dedup();
        if reasons.is_empty() {
            reasons.push("sysgen's rules (rules/build-std.toml)".into());
        }
        let _ = writeln!(out, "    {f}: {}", reasons.join("; "));
    }
}

fn origin_text(o: &Origin) -> String {
    match o {
        Origin::Manifest => "the package's Cargo.toml".into(),
        Origin::Sysgen { why } => format!("sysgen: {why}"),
        Origin::Profile { name } => {
            format!("the `{name}` profile (the library's Cargo.toml, then the project's)")
        }
        Origin::Rules { file, key } => format!("rules/{file} [{key}]"),
        Origin::UserFlags => "RUSTFLAGS / --rustflags / .cargo/config.toml / sysgen.toml".into(),
        Origin::Panic => "the sysroot's panic strategy".into(),
    }
}

fn flags_of(loaded: &Loaded, model: &Model, n: NodeIndex, out: &mut String) {
    let g = &loaded.graph;
    let gu = &g.graph[n];
    let pkg = &g.ws.packages[gu.pkg];
    let target = match gu.platform {
        CompileKind::Host => None,
        CompileKind::Target(t) => Some(t),
    };
    let _ = writeln!(out, "{}", describe(loaded, n));
    let Some(c) = model.units.iter().find_map(|u| {
        let c = u.krate()?;
        (u.package == pkg.name
            && u.version == pkg.version.to_string()
            && u.target == target
            && u.stage == gu.stage
            && c.crate_type != crate::model::CrateType::Bin)
            .then_some(c)
    }) else {
        let _ = writeln!(out, "  (no rustc call of its own)");
        return;
    };
    let _ = writeln!(out, "  rustc arguments:");
    let _ = writeln!(
        out,
        "    --crate-name {} --edition={} --crate-type {}    ← the package's Cargo.toml",
        c.crate_name,
        c.edition,
        c.crate_type.as_str()
    );
    for f in &c.features {
        let _ = writeln!(
            out,
            "    --cfg feature=\"{f}\"    ← its features (sysgen explain {})",
            pkg.name
        );
    }
    for f in &c.flags {
        let _ = writeln!(
            out,
            "    {}    ← {}",
            f.args.join(" "),
            origin_text(&f.origin)
        );
    }
    if let Some(run) = c.build_script {
        let _ = writeln!(
            out,
            "    (at build time) the directives of {}: --cfg, -l, -L, --check-cfg    ← its build script",
            model.unit(run).description
        );
    }
    let _ = writeln!(out, "  environment:");
    for (k, v) in &c.env {
        let (value, from) = match v {
            EnvValue::Text(t) => (t.clone(), "cargo's environment for a package"),
            EnvValue::Path(p) => (
                model.real_path(p).display().to_string(),
                "cargo's environment for a package",
            ),
            EnvValue::OutDir(_) => (
                "<the build script's OUT_DIR>".into(),
                "its build script's output directory",
            ),
            EnvValue::Rustc => ("<rustc>".into(), "the compiler"),
        };
        let _ = writeln!(out, "    {k}={value}    ← {from}");
    }
}
