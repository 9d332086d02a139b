//! The build's order of priority: which front ends are on the critical
//! path, and which may run in the background.
//!
//! A sysroot build on a few cores is as long as its chain of front ends
//! (core → compiler_builtins → alloc → object → std → proc_macro): each
//! crate's metadata lets the next one start, and nothing else may. Ninja
//! orders ready edges by how many edges follow them, not by how long they
//! take, and the kernel shares the cores out evenly, so libc's or gimli's
//! front end and compiler_builtins' thousands of codegen units slow the
//! chain down. From rules/rustc.toml's `frontend-seconds`, this module
//! finds the longest chain; a front end whose longest chain through it is
//! more than [`SLACK`] shorter runs at a lower CPU priority (`pipe-begin
//! --background`), as does every crate's code generation once its metadata
//! is written (`exec/priority.rs`). Priority changes no byte of any output.

use std::collections::BTreeSet;

use crate::model::{Body, Model, UnitId};

/// How much shorter (tenths of a second) a chain may be and still count as
/// critical: the costs are estimates from one machine.
pub const SLACK: u32 = 10;

/// The units whose front end is off the critical path by more than
/// [`SLACK`].
pub fn background_front_ends(m: &Model) -> BTreeSet<UnitId> {
    let n = m.units.len();
    // What each unit waits for, and what waits for it.
    let mut before: Vec<Vec<UnitId>> = vec![Vec::new(); n];
    for u in &m.units {
        let b = &mut before[u.id.0];
        match &u.body {
            Body::Crate(c) => {
                b.extend(c.deps.iter().map(|d| d.unit));
                b.extend(c.build_script);
                b.extend(c.sysroot_deps.iter().copied());
            }
            Body::Run(r) => {
                b.push(r.script);
                b.extend(r.links_deps.iter().map(|(_, d)| *d));
            }
        }
    }
    let mut after: Vec<Vec<UnitId>> = vec![Vec::new(); n];
    for (u, b) in before.iter().enumerate() {
        for p in b {
            after[p.0].push(UnitId(u));
        }
    }
    let cost = |u: UnitId| match &m.unit(u).body {
        Body::Crate(c) => c.frontend_cost,
        Body::Run(_) => 1,
    };
    // The longest chain that ends with each unit, and the longest that
    // starts with it: the longest through it counts it once.
    let mut to = vec![None; n];
    let mut from = vec![None; n];
    let through: Vec<u32> = (0..n)
        .map(|u| {
            let u = UnitId(u);
            longest(u, &before, &cost, &mut to) + longest(u, &after, &cost, &mut from) - cost(u)
        })
        .collect();
    let critical = through.iter().copied().max().unwrap_or(0);
    (0..n)
        .filter(|&u| through[u] + SLACK < critical)
        .map(UnitId)
        .collect()
}

/// The longest chain from `u` along `next`, `u` included (memoized in
/// `memo`).
fn longest(
    u: UnitId,
    next: &[Vec<UnitId>],
    cost: &dyn Fn(UnitId) -> u32,
    memo: &mut [Option<u32>],
) -> u32 {
    if let Some(v) = memo[u.0] {
        return v;
    }
    let mut best = 0;
    for &v in &next[u.0] {
        best = best.max(longest(v, next, cost, memo));
    }
    let v = best + cost(u);
    memo[u.0] = Some(v);
    v
}
