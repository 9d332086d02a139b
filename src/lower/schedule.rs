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
    // Longest chain before a unit starts, and from its start to the end.
    let mut head = vec![None; n];
    let mut tail = vec![None; n];
    for u in 0..n {
        longest(UnitId(u), &before, &|p| cost(p), &mut head, false);
        longest(UnitId(u), &after, &cost, &mut tail, true);
    }
    let through: Vec<u32> = (0..n)
        .map(|u| head[u].unwrap_or(0) + tail[u].unwrap_or(0))
        .collect();
    let critical = through.iter().copied().max().unwrap_or(0);
    (0..n)
        .filter(|&u| through[u] + SLACK < critical)
        .map(UnitId)
        .collect()
}

/// The longest chain along `next` from `u` (memoized in `memo`): with
/// `inclusive`, `u`'s own cost counts (the chain from its start onward);
/// without, only what comes before it.
fn longest(
    u: UnitId,
    next: &[Vec<UnitId>],
    cost: &dyn Fn(UnitId) -> u32,
    memo: &mut [Option<u32>],
    inclusive: bool,
) -> u32 {
    if let Some(v) = memo[u.0] {
        return v;
    }
    let mut best = 0;
    for &v in &next[u.0] {
        let through_v = longest(v, next, cost, memo, inclusive);
        // Before `u`: all of `v` and what precedes it. After `u`'s start:
        // what follows, counted from `v`'s start.
        best = best.max(if inclusive {
            through_v
        } else {
            through_v + cost(v)
        });
    }
    let v = if inclusive { best + cost(u) } else { best };
    memo[u.0] = Some(v);
    v
}
