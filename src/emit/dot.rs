//! `sysgen graph --format dot`: the DAG for Graphviz, one cluster per stage.

use std::collections::BTreeMap;

use anyhow::Result;
use minijinja::context;
use serde::Serialize;

use crate::resolve::graph::BuildGraph;

const TEMPLATE: &str = include_str!("../../templates/graph.dot.j2");

#[derive(Serialize)]
struct Node {
    id: usize,
    label: String,
    host: bool,
    root: bool,
}

#[derive(Serialize)]
struct Stage {
    number: u32,
    units: Vec<Node>,
}

#[derive(Serialize)]
struct Edge {
    from: usize,
    to: usize,
    style: Option<&'static str>,
}

/// Escape a string for a double-quoted DOT label.
fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

pub fn to_string(g: &BuildGraph) -> Result<String> {
    let json = super::json::graph_json(g);
    let roots: std::collections::HashSet<_> = g.roots.iter().flatten().copied().collect();
    let order = g.units();
    let mut stages: BTreeMap<u32, Vec<Node>> = BTreeMap::new();
    let mut edges = Vec::new();
    for (u, &n) in json.units.iter().zip(&order) {
        let what = match u.step {
            Some(step) => format!("build-script {step}"),
            None => u.kind.to_string(),
        };
        let label = format!("{} {}\\n{} · {}", u.krate, u.version, what, u.target);
        stages.entry(u.stage).or_default().push(Node {
            id: u.id,
            label: dot_escape(&label).replace("\\\\n", "\\n"),
            host: u.host,
            root: roots.contains(&n),
        });
        for &d in &u.dep_ids {
            let style = (json.units[d].kind != "lib" || u.kind != "lib").then_some("dashed");
            edges.push(Edge {
                from: u.id,
                to: d,
                style,
            });
        }
    }
    let stages: Vec<Stage> = stages
        .into_iter()
        .map(|(number, units)| Stage { number, units })
        .collect();
    super::render(
        "graph.dot",
        TEMPLATE,
        context! { stages => super::value(&stages), edges => super::value(&edges) },
    )
}
