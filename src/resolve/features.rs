//! Feature resolution with Cargo's semantics for the library workspace.
//!
//! The library declares `resolver = "1"`, so, like cargo:
//! - features unify across every package in the resolve, whatever target or
//!   build-dependency edge they arrive by (platform-specific dependencies for
//!   other targets still contribute features);
//! - dev-dependencies are left out (cargo resolves build-std without them);
//! - requested features apply to every root crate that defines them (a
//!   virtual workspace's command-line feature rule), and no root gets its
//!   default features unless `default` is requested.
//!
//! The result is, per package, the sorted set of enabled features and the
//! optional dependencies they switched on. Which edges are *built* for a
//! given target is the graph's business ([`crate::resolve::graph`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Result;

use crate::library::manifest::DepKind;
use crate::library::workspace::{PkgId, Workspace};
use crate::{user_bail, user_err};

#[derive(Debug, Default, Clone)]
pub struct Resolution {
    pub features: BTreeMap<PkgId, BTreeSet<String>>,
    /// Optional dependency names switched on, per package.
    pub active_optional: BTreeMap<PkgId, BTreeSet<String>>,
    /// Package behind each dependency edge `(from, dep index)`; `None` for a
    /// missing registry source.
    pub edges: HashMap<(PkgId, usize), Option<PkgId>>,
    pub activated: BTreeSet<PkgId>,
}

impl Resolution {
    pub fn dep_active(&self, ws: &Workspace, p: PkgId, i: usize) -> bool {
        let d = &ws.packages[p].deps[i];
        d.kind != DepKind::Dev
            && (!d.optional
                || self
                    .active_optional
                    .get(&p)
                    .is_some_and(|s| s.contains(&d.name)))
    }
}

struct Resolver<'w> {
    ws: &'w mut Workspace,
    r: Resolution,
    weak: Vec<(PkgId, String, String)>,
}

/// Find a package of the library by name: the workspace members and every
/// path package they reach.
pub fn find_package(ws: &mut Workspace, name: &str) -> Result<Option<PkgId>> {
    let mut queue = ws.load_members()?;
    let mut seen = BTreeSet::new();
    while let Some(p) = queue.pop() {
        if !seen.insert(p) {
            continue;
        }
        if ws.packages[p].name == name {
            return Ok(Some(p));
        }
        for i in 0..ws.packages[p].deps.len() {
            let d = &ws.packages[p].deps[i];
            if d.kind == DepKind::Dev {
                continue;
            }
            let local = d.path.is_some() || ws.is_patched(&d.package);
            if local && let Some(q) = ws.load_dep(p, i)? {
                queue.push(q);
            }
        }
    }
    Ok(None)
}

/// Every package name [`find_package`] can find, for error messages.
pub fn local_package_names(ws: &mut Workspace) -> Result<Vec<String>> {
    find_package(ws, "\0")?;
    let mut names: Vec<String> = ws
        .packages
        .iter()
        .filter(|p| p.manifest_path.starts_with(&ws.root))
        .map(|p| p.name.clone())
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// Resolve from `roots` with the command line's feature list, as cargo
/// applies it to the library's workspace: to every root that is a
/// workspace member and defines the feature — or, where cargo made the
/// workspace up with a *current* package (rules/layouts.toml), to that
/// package alone, every other member root getting its `default` feature
/// (cargo's behaviour for `-p member` outside the current package, which
/// its resolver 1 kept for compatibility).
pub fn resolve(ws: &mut Workspace, roots: &[PkgId], features: &[String]) -> Result<Resolution> {
    let members = ws.load_members()?;
    let current = ws.current_member()?;
    let mut rs = Resolver {
        ws,
        r: Resolution::default(),
        weak: Vec::new(),
    };
    let mut found = BTreeSet::new();
    let takes = |root: PkgId| match current {
        Some(c) => root == c,
        None => members.contains(&root),
    };
    for &root in roots {
        rs.activate_pkg(root)?;
        if !takes(root) {
            if current.is_some()
                && members.contains(&root)
                && rs.ws.packages[root].features.contains_key("default")
            {
                rs.enable_feature(root, "default")?;
            }
            continue;
        }
        for f in features {
            let pkg = &rs.ws.packages[root];
            let applies = match f.split_once('/') {
                Some((dep, _)) => pkg.deps.iter().any(|d| d.name == dep.trim_end_matches('?')),
                None => {
                    pkg.features.contains_key(f)
                        || pkg.deps.iter().any(|d| d.optional && d.name == *f)
                }
            };
            if applies {
                found.insert(f.clone());
                rs.enable_fv(root, f)?;
            }
        }
    }
    if let Some(unknown) = features.iter().find(|f| !found.contains(*f)) {
        let mut known: BTreeSet<String> = BTreeSet::new();
        let taking: Vec<PkgId> = roots.iter().copied().filter(|&r| takes(r)).collect();
        for &root in &taking {
            known.extend(rs.ws.packages[root].features.keys().cloned());
        }
        let names: Vec<&str> = taking
            .iter()
            .map(|&r| rs.ws.packages[r].name.as_str())
            .collect();
        user_bail!(
            "unknown feature `{unknown}`: none of {} defines it; choose from: {}",
            names.join(", "),
            known.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(rs.r)
}

/// Resolve one stage of a configured sysroot: each root gets the features
/// the config lists for it (which it must define); the `defaults` apply to
/// every root that keeps its default features and defines them, and to the
/// `extra` roots, which only unify features (cargo's `sysroot` root).
pub fn resolve_stage(
    ws: &mut Workspace,
    roots: &[(PkgId, Vec<String>, bool)],
    extra: &[PkgId],
    defaults: &[String],
) -> Result<Resolution> {
    let mut rs = Resolver {
        ws,
        r: Resolution::default(),
        weak: Vec::new(),
    };
    let all: Vec<(PkgId, bool)> = roots
        .iter()
        .map(|(p, _, d)| (*p, *d))
        .chain(extra.iter().map(|&p| (p, true)))
        .collect();
    for (root, use_defaults) in all {
        rs.activate_pkg(root)?;
        if use_defaults {
            for f in defaults {
                if defines(&rs.ws.packages[root], f) {
                    rs.enable_fv(root, f)?;
                }
            }
        }
    }
    for (root, features, _) in roots {
        for f in features {
            let pkg = &rs.ws.packages[*root];
            if !defines(pkg, f) {
                let known: Vec<&str> = pkg.features.keys().map(String::as_str).collect();
                user_bail!(
                    "unknown feature `{f}` for `{}`; it has: {}",
                    pkg.name,
                    known.join(", ")
                );
            }
            rs.enable_fv(*root, f)?;
        }
    }
    Ok(rs.r)
}

/// Whether `f` (a feature, an optional dependency, or `dep/feature`) can be
/// asked of `pkg`.
fn defines(pkg: &crate::library::manifest::Package, f: &str) -> bool {
    match f.split_once('/') {
        Some((dep, _)) => pkg.deps.iter().any(|d| d.name == dep.trim_end_matches('?')),
        None => pkg.features.contains_key(f) || pkg.deps.iter().any(|d| d.optional && d.name == f),
    }
}

impl Resolver<'_> {
    fn target_of(&mut self, p: PkgId, i: usize) -> Result<Option<PkgId>> {
        if let Some(t) = self.r.edges.get(&(p, i)) {
            return Ok(*t);
        }
        let t = self.ws.load_dep(p, i)?;
        self.r.edges.insert((p, i), t);
        Ok(t)
    }

    fn activate_pkg(&mut self, p: PkgId) -> Result<()> {
        if !self.r.activated.insert(p) {
            return Ok(());
        }
        self.r.features.entry(p).or_default();
        for i in 0..self.ws.packages[p].deps.len() {
            let d = &self.ws.packages[p].deps[i];
            if d.kind != DepKind::Dev && !d.optional {
                self.activate_edge(p, i)?;
            }
        }
        Ok(())
    }

    fn activate_edge(&mut self, p: PkgId, i: usize) -> Result<()> {
        let Some(q) = self.target_of(p, i)? else {
            return Ok(());
        };
        self.activate_pkg(q)?;
        let d = self.ws.packages[p].deps[i].clone();
        if d.default_features && self.ws.packages[q].features.contains_key("default") {
            self.enable_feature(q, "default")?;
        }
        for f in &d.features {
            self.enable_fv(q, f)?;
        }
        Ok(())
    }

    fn dep_is_on(&self, p: PkgId, name: &str) -> bool {
        self.ws.packages[p].deps.iter().any(|d| {
            d.kind != DepKind::Dev
                && d.name == name
                && (!d.optional
                    || self
                        .r
                        .active_optional
                        .get(&p)
                        .is_some_and(|s| s.contains(name)))
        })
    }

    fn activate_optional(&mut self, p: PkgId, name: &str) -> Result<()> {
        if !self
            .r
            .active_optional
            .entry(p)
            .or_default()
            .insert(name.to_string())
        {
            return Ok(());
        }
        for i in 0..self.ws.packages[p].deps.len() {
            let d = &self.ws.packages[p].deps[i];
            if d.kind != DepKind::Dev && d.optional && d.name == name {
                self.activate_edge(p, i)?;
            }
        }
        let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.weak)
            .into_iter()
            .partition(|(wp, wd, _)| *wp == p && wd == name);
        self.weak = later;
        for (_, d, f) in now {
            self.dep_feature(p, &d, &f)?;
        }
        Ok(())
    }

    fn enable_feature(&mut self, p: PkgId, f: &str) -> Result<()> {
        if !self.r.features.entry(p).or_default().insert(f.to_string()) {
            return Ok(());
        }
        let pkg = &self.ws.packages[p];
        if let Some(values) = pkg.features.get(f).cloned() {
            for v in values {
                self.enable_fv(p, &v)?;
            }
            Ok(())
        } else if pkg.has_implicit_feature(f) {
            self.activate_optional(p, f)
        } else {
            Err(user_err!(
                "package `{}` has no feature `{f}` (asked for through the manifests or --features); check {}",
                pkg.name,
                pkg.manifest_path.display()
            ))
        }
    }

    fn enable_fv(&mut self, p: PkgId, v: &str) -> Result<()> {
        if let Some(d) = v.strip_prefix("dep:") {
            return self.activate_optional(p, d);
        }
        let Some((dep, f)) = v.split_once('/') else {
            return self.enable_feature(p, v);
        };
        let (dep, weak) = match dep.strip_suffix('?') {
            Some(d) => (d, true),
            None => (dep, false),
        };
        let pkg = &self.ws.packages[p];
        let Some(decl) = pkg
            .deps
            .iter()
            .find(|d| d.kind != DepKind::Dev && d.name == dep)
        else {
            if pkg.deps.iter().any(|d| d.name == dep) {
                // A feature of a dev-dependency: inert outside the package's own tests.
                return Ok(());
            }
            user_bail!(
                "package `{}` has no dependency `{dep}` for feature value `{v}`; check {}",
                pkg.name,
                pkg.manifest_path.display()
            );
        };
        if weak {
            if self.dep_is_on(p, dep) {
                self.dep_feature(p, dep, f)?;
            } else {
                self.weak.push((p, dep.to_string(), f.to_string()));
            }
            return Ok(());
        }
        if decl.optional {
            if pkg.has_implicit_feature(dep) {
                self.enable_feature(p, dep)?;
            } else {
                self.activate_optional(p, dep)?;
            }
        }
        self.dep_feature(p, dep, f)
    }

    fn dep_feature(&mut self, p: PkgId, dep: &str, f: &str) -> Result<()> {
        for i in 0..self.ws.packages[p].deps.len() {
            let d = &self.ws.packages[p].deps[i];
            if d.kind == DepKind::Dev || d.name != dep {
                continue;
            }
            if d.optional
                && !self
                    .r
                    .active_optional
                    .get(&p)
                    .is_some_and(|s| s.contains(dep))
            {
                continue;
            }
            if let Some(q) = self.target_of(p, i)? {
                self.activate_pkg(q)?;
                self.enable_fv(q, f)?;
            }
        }
        Ok(())
    }
}
