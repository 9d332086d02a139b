//! `sysgen graph --format json`: every unit, in a stable order.

use serde::Serialize;

use crate::resolve::graph::{BuildGraph, CompileKind, EdgeKind, UnitKind};

#[derive(Serialize)]
pub struct JsonUnit {
    pub id: usize,
    #[serde(rename = "crate")]
    pub krate: String,
    pub version: String,
    pub target: String,
    /// `lib` or `build-script`.
    pub kind: &'static str,
    /// For build scripts: `compile` (on the host) or `run` (for the target).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<&'static str>,
    pub host: bool,
    pub features: Vec<String>,
    /// Package names of the direct dependencies (other packages only).
    pub deps: Vec<String>,
    /// Ids of every unit this one depends on.
    pub dep_ids: Vec<usize>,
    pub stage: u32,
}

#[derive(Serialize)]
pub struct JsonGraph {
    pub version: u32,
    pub rust_src: String,
    pub host: String,
    pub targets: Vec<String>,
    pub units: Vec<JsonUnit>,
}

pub fn graph_json(g: &BuildGraph) -> JsonGraph {
    let order = g.units();
    let pos: std::collections::HashMap<_, _> =
        order.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let units = order
        .iter()
        .enumerate()
        .map(|(id, &n)| {
            let u = &g.graph[n];
            let p = &g.ws.packages[u.pkg];
            let mut deps: Vec<String> = g
                .deps(n)
                .filter(|(_, e)| matches!(e, EdgeKind::Extern { .. }))
                .map(|(d, _)| g.ws.packages[g.graph[d].pkg].name.clone())
                .collect();
            deps.sort();
            deps.dedup();
            let mut dep_ids: Vec<usize> = g.deps(n).map(|(d, _)| pos[&d]).collect();
            dep_ids.sort();
            JsonUnit {
                id,
                krate: p.name.clone(),
                version: p.version.to_string(),
                target: g.platform_name(u.platform).to_string(),
                kind: if u.kind == UnitKind::Lib {
                    "lib"
                } else {
                    "build-script"
                },
                step: match u.kind {
                    UnitKind::Lib => None,
                    UnitKind::BuildScriptCompile => Some("compile"),
                    UnitKind::BuildScriptRun => Some("run"),
                },
                host: u.platform == CompileKind::Host,
                features: u.features.clone(),
                deps,
                dep_ids,
                stage: u.stage,
            }
        })
        .collect();
    JsonGraph {
        version: 1,
        rust_src: g.ws.root.display().to_string(),
        host: g.host.name.clone(),
        targets: g.targets.iter().map(|t| t.name.clone()).collect(),
        units,
    }
}

pub fn to_string(g: &BuildGraph) -> String {
    let mut s = serde_json::to_string_pretty(&graph_json(g)).expect("graph serialises");
    s.push('\n');
    s
}
