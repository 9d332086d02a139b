//! sysgen: a declarative build-graph generator for the Rust standard library.
//!
//! Data flow: [`source`] finds rustc and rust-src → [`workspace`] reads the
//! library workspace and lockfile → [`resolve`] computes features →
//! [`graph`] builds the unit DAG → [`emit`] renders a view of it.
//! See ARCHITECTURE.md.

pub mod emit;
pub mod error;
pub mod fetch;
pub mod graph;
pub mod manifest;
pub mod resolve;
pub mod rules;
pub mod source;
pub mod target;
pub mod util;
pub mod workspace;

use anyhow::Result;

pub use error::UserError;

/// Everything needed to compute a graph.
#[derive(Debug, Clone)]
pub struct GraphOptions {
    pub sources: source::SourceOptions,
    pub targets: Vec<String>,
    pub request: graph::Request,
}

/// Find the inputs, probe the targets, read the workspace, resolve, build the graph.
pub fn load_graph(opts: &GraphOptions) -> Result<graph::BuildGraph> {
    let rules = rules::Rules::load()?;
    let rustc = source::find_rustc(&opts.sources)?;
    let library = source::find_library(&opts.sources, &rustc)?;
    let mut targets = Vec::new();
    for t in &opts.targets {
        let probed = target::Target::probe(&rustc, t)?;
        if targets
            .iter()
            .any(|x: &target::Target| x.name == probed.name)
        {
            user_bail!(
                "target `{}` is given twice; give each --target once",
                probed.name
            );
        }
        targets.push(probed);
    }
    let host = match targets
        .iter()
        .find(|t| t.name == rustc.host && t.spec_file.is_none())
    {
        Some(t) => t.clone(),
        None => target::Target::probe(&rustc, &rustc.host.clone())?,
    };
    let ws = workspace::Workspace::load(&library, source::registry_sources(&opts.sources))?;
    graph::BuildGraph::build(ws, rustc, targets, host, &rules, &opts.request)
}
