//! `sysgen timings [DIR]`: a self-contained HTML report of a finished Ninja
//! build, in the style of `cargo build --timings`.
//!
//! Inputs: the actions generation wrote (`.sysgen/actions.json`: each
//! action's crate, kind, first output, the actions it waits for, and a
//! pipelined call's state directory), Ninja's `.ninja_log` (edge start and
//! end, in milliseconds since the build started; the same columns in the
//! log versions 5 to 7), and each pipelined rustc's own record
//! (`STATE/times`: start, `.rmeta` written, end), because its code
//! generation runs after its Ninja edge ended.
//!
//! The critical path is the longest chain of Ninja edges by their logged
//! durations along the actions' dependencies.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::lower::{Action, ActionKind};
use crate::user_bail;

/// The file generation writes for this report.
pub const ACTIONS: &str = ".sysgen/actions.json";

#[derive(Debug, Serialize, Deserialize)]
pub struct ActionInfo {
    /// `core 0.0.0 (thumbv6m-none-eabi)`, `libc 0.2.178 build script`.
    pub description: String,
    pub kind: String,
    /// The first output (the name `.ninja_log` records).
    pub output: String,
    /// Indices of the actions whose outputs it reads.
    pub deps: Vec<usize>,
    pub state: Option<String>,
}

/// What `.sysgen/actions.json` holds for `actions`.
pub fn action_infos(actions: &[Action]) -> String {
    let mut producer: HashMap<&str, usize> = HashMap::new();
    for (i, a) in actions.iter().enumerate() {
        for o in &a.outputs {
            producer.insert(o, i);
        }
    }
    let infos: Vec<ActionInfo> = actions
        .iter()
        .map(|a| {
            let mut deps: Vec<usize> = a
                .inputs
                .iter()
                .chain(&a.implicit_inputs)
                .filter_map(|i| producer.get(i.as_str()).copied())
                .collect();
            deps.sort();
            deps.dedup();
            ActionInfo {
                description: a.description.clone(),
                kind: match a.kind {
                    ActionKind::Rustc => "rustc",
                    ActionKind::RustcBegin => "rustc-begin",
                    ActionKind::RustcEnd => "rustc-end",
                    ActionKind::RunBuildScript => "run-build-script",
                }
                .into(),
                output: a.outputs[0].clone(),
                deps,
                state: a.state.clone(),
            }
        })
        .collect();
    serde_json::to_string(&infos).expect("serializable")
}

/// One bar of the report (milliseconds since the build started).
#[derive(Debug, Clone)]
struct Bar {
    name: String,
    start: f64,
    /// End of the front end (`.rmeta`) for pipelined crates, else the end.
    split: f64,
    end: f64,
    pipelined: bool,
    build_script: bool,
    critical: bool,
}

/// `.ninja_log`: output → (start, end) in ms, the last run of each.
fn ninja_log(dir: &Path) -> Result<HashMap<String, (f64, f64)>> {
    let path = dir.join(".ninja_log");
    let Ok(text) = std::fs::read_to_string(&path) else {
        user_bail!(
            "{} has no .ninja_log: run the build (`ninja -C {}`) before `sysgen timings`",
            dir.display(),
            dir.display()
        );
    };
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let Some(version) = header
        .strip_prefix("# ninja log v")
        .and_then(|v| v.trim().parse::<u32>().ok())
    else {
        user_bail!(
            "{} does not start with `# ninja log vN`; it is not a Ninja log",
            path.display()
        );
    };
    if !(5..=7).contains(&version) {
        user_bail!(
            "{} is a Ninja log of version {version}; sysgen reads versions 5 to 7 (ninja 1.10 to 1.13)",
            path.display()
        );
    }
    // The last run of each edge (a later build appends its edges).
    let mut runs: HashMap<String, (f64, f64)> = HashMap::new();
    for line in lines {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 4 {
            continue;
        }
        let (Ok(start), Ok(end)) = (cols[0].parse::<f64>(), cols[1].parse::<f64>()) else {
            continue;
        };
        runs.insert(cols[3].to_string(), (start, end));
    }
    Ok(runs)
}

/// Whether the actions' dependencies name actions that exist and form no
/// cycle (a hand-edited file may do either; the critical path walks them).
fn check_actions(actions: &[ActionInfo]) -> std::result::Result<(), String> {
    let n = actions.len();
    let mut waiting = vec![0usize; n];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, a) in actions.iter().enumerate() {
        for &d in &a.deps {
            if d >= n {
                return Err(format!(
                    "action {i} depends on action {d}, and there are {n}"
                ));
            }
            waiting[i] += 1;
            dependents[d].push(i);
        }
    }
    // Kahn's algorithm: what is never freed is on a cycle.
    let mut ready: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut done = 0;
    while let Some(i) = ready.pop() {
        done += 1;
        for &j in &dependents[i] {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.push(j);
            }
        }
    }
    if done < n {
        let i = (0..n).find(|&i| waiting[i] > 0).unwrap_or(0);
        return Err(format!("action {i} depends on itself through a cycle"));
    }
    Ok(())
}

/// Build the report for the finished build in `dir`.
pub fn report(dir: &Path) -> Result<String> {
    let actions_path = dir.join(ACTIONS);
    let Ok(text) = std::fs::read_to_string(&actions_path) else {
        user_bail!(
            "{} is not a sysgen Ninja build directory (no {ACTIONS}); pass the directory of `sysgen ninja -o DIR`",
            dir.display()
        );
    };
    let actions: Vec<ActionInfo> = serde_json::from_str(&text).map_err(|e| {
        crate::user_err!(
            "{} is malformed ({e}); generate the build again with `sysgen ninja`",
            actions_path.display()
        )
    })?;
    check_actions(&actions).map_err(|why| {
        crate::user_err!(
            "{} is malformed ({why}); generate the build again with `sysgen ninja`",
            actions_path.display()
        )
    })?;
    let log = ninja_log(dir)?;
    let ran = |a: &ActionInfo| log.get(&a.output).copied();
    if actions.iter().all(|a| ran(a).is_none()) {
        user_bail!(
            "the build in {} has not run yet (its .ninja_log names none of its edges); run `ninja -C {}` first",
            dir.display(),
            dir.display()
        );
    }

    // Critical path: the longest chain of logged edge durations.
    let mut chain: Vec<Option<(f64, Option<usize>)>> = vec![None; actions.len()];
    fn longest(
        i: usize,
        actions: &[ActionInfo],
        dur: &dyn Fn(usize) -> f64,
        memo: &mut Vec<Option<(f64, Option<usize>)>>,
    ) -> f64 {
        if let Some((d, _)) = memo[i] {
            return d;
        }
        let mut best = (0.0, None);
        for &d in &actions[i].deps {
            let l = longest(d, actions, dur, memo);
            if l > best.0 {
                best = (l, Some(d));
            }
        }
        let total = best.0 + dur(i);
        memo[i] = Some((total, best.1));
        total
    }
    let dur = |i: usize| ran(&actions[i]).map_or(0.0, |(s, e)| e - s);
    let mut tip = 0;
    let mut critical_ms = 0.0;
    for i in 0..actions.len() {
        let l = longest(i, &actions, &dur, &mut chain);
        if l > critical_ms {
            critical_ms = l;
            tip = i;
        }
    }
    let mut on_path = vec![false; actions.len()];
    let mut critical_names: Vec<String> = Vec::new();
    let mut at = Some(tip);
    while let Some(i) = at {
        on_path[i] = true;
        if !critical_names.contains(&actions[i].description) {
            critical_names.push(actions[i].description.clone());
        }
        at = chain[i].and_then(|(_, prev)| prev);
    }
    // From the first edge of the chain to the last.
    critical_names.reverse();

    // Pipelined calls' own times, placed on Ninja's clock by the offset
    // between a call's recorded start and its begin edge's logged start.
    let times = |a: &ActionInfo| -> Option<(f64, f64, f64)> {
        let t = std::fs::read_to_string(dir.join(a.state.as_ref()?).join(crate::exec::pipe::TIMES))
            .ok()?;
        let v: Vec<f64> = t
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        (v.len() == 3).then(|| (v[0], v[1], v[2]))
    };
    let mut offsets: Vec<f64> = actions
        .iter()
        .filter(|a| a.kind == "rustc-begin")
        .filter_map(|a| Some(times(a)?.0 - ran(a)?.0))
        .collect();
    offsets.sort_by(f64::total_cmp);
    let offset = offsets.get(offsets.len() / 2).copied();

    let mut bars: BTreeMap<String, Bar> = BTreeMap::new();
    for (i, a) in actions.iter().enumerate() {
        let Some((start, end)) = ran(a) else { continue };
        let build_script = a.kind == "run-build-script" || a.description.contains("build script");
        let entry = bars.entry(a.description.clone()).or_insert(Bar {
            name: a.description.clone(),
            start,
            split: end,
            end,
            pipelined: false,
            build_script,
            critical: false,
        });
        entry.critical |= on_path[i];
        match a.kind.as_str() {
            "rustc-begin" => {
                entry.pipelined = true;
                entry.start = start;
                entry.split = end;
                if let (Some((_, m, e)), Some(off)) = (times(a), offset) {
                    entry.split = (m - off).max(start);
                    entry.end = entry.end.max(e - off);
                }
                entry.end = entry.end.max(end);
            }
            "rustc-end" => {
                entry.end = entry.end.max(end);
            }
            _ => {
                entry.start = entry.start.min(start);
                entry.end = entry.end.max(end);
                entry.split = entry.end;
            }
        }
    }
    let mut bars: Vec<Bar> = bars.into_values().collect();
    bars.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.name.cmp(&b.name)));
    Ok(render(&bars, &critical_names, critical_ms))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Colours of the bars (checked by the screenshot test).
pub const FRONT_END: &str = "#4e79a7";
pub const CODEGEN: &str = "#b07aa1";
pub const BUILD_SCRIPT: &str = "#f28e2b";

fn render(bars: &[Bar], critical: &[String], critical_ms: f64) -> String {
    let total = bars.iter().fold(1.0f64, |m, b| m.max(b.end));
    let (label_w, chart_w, row_h) = (380.0, 840.0, 18.0);
    let x = |t: f64| label_w + t / total * chart_w;
    let mut svg = String::new();
    let height = bars.len() as f64 * row_h + 30.0;
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" font-family="sans-serif" font-size="12">"#,
        label_w + chart_w + 50.0
    );
    // A grid line every tenth of the build.
    for k in 0..=10 {
        let t = total * k as f64 / 10.0;
        let _ = write!(
            svg,
            r##"<line x1="{0:.1}" y1="0" x2="{0:.1}" y2="{1}" stroke="#ddd"/><text x="{0:.1}" y="{2}" fill="#555">{3:.1}s</text>"##,
            x(t),
            height - 18.0,
            height - 4.0,
            t / 1000.0
        );
    }
    for (i, b) in bars.iter().enumerate() {
        let y = i as f64 * row_h;
        let weight = if b.critical { "bold" } else { "normal" };
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-weight="{weight}">{}</text>"#,
            label_w - 6.0,
            y + 13.0,
            esc(&b.name)
        );
        let first = if b.build_script {
            BUILD_SCRIPT
        } else {
            FRONT_END
        };
        let stroke = if b.critical {
            r##" stroke="#d62728" stroke-width="2""##
        } else {
            ""
        };
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{first}"{stroke}><title>{} {:.2}s</title></rect>"#,
            x(b.start),
            y + 2.0,
            (x(b.split) - x(b.start)).max(1.0),
            row_h - 4.0,
            esc(&b.name),
            (b.split - b.start) / 1000.0
        );
        if b.pipelined && b.end > b.split {
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{CODEGEN}"{stroke}><title>{} code generation {:.2}s</title></rect>"#,
                x(b.split),
                y + 2.0,
                (x(b.end) - x(b.split)).max(1.0),
                row_h - 4.0,
                esc(&b.name),
                (b.end - b.split) / 1000.0
            );
        }
    }
    svg.push_str("</svg>");

    // Parallelism over time: how many bars are active, sampled.
    let samples = 300;
    let mut conc = String::new();
    let (ch, cw) = (120.0, chart_w);
    let max_conc = bars.len().max(1) as f64;
    let mut points = Vec::new();
    let mut peak = 0usize;
    for k in 0..=samples {
        let t = total * k as f64 / samples as f64;
        let n = bars.iter().filter(|b| b.start <= t && t < b.end).count();
        peak = peak.max(n);
        points.push((t, n));
    }
    let scale = (peak.max(1) as f64).min(max_conc);
    let _ = write!(
        conc,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="12"><polyline fill="none" stroke="#59a14f" stroke-width="2" points=""##,
        label_w + cw + 20.0,
        ch + 20.0
    );
    for (t, n) in &points {
        let _ = write!(
            conc,
            "{:.1},{:.1} ",
            x(*t),
            ch - *n as f64 / scale * (ch - 10.0)
        );
    }
    let _ = write!(
        conc,
        r##""/><text x="{:.1}" y="14" text-anchor="end">{peak} at once (peak)</text><text x="{:.1}" y="{ch}" text-anchor="end">0</text></svg>"##,
        label_w - 6.0,
        label_w - 6.0
    );

    let mut rows: Vec<&Bar> = bars.iter().collect();
    rows.sort_by(|a, b| {
        (b.end - b.start)
            .total_cmp(&(a.end - a.start))
            .then(a.name.cmp(&b.name))
    });
    let mut table = String::from(
        "<table><tr><th>crate</th><th>total</th><th>front end</th><th>code generation</th></tr>",
    );
    for b in rows {
        let cg = if b.pipelined { b.end - b.split } else { 0.0 };
        let _ = write!(
            table,
            "<tr{}><td>{}</td><td>{:.2}s</td><td>{:.2}s</td><td>{}</td></tr>",
            if b.critical {
                " class=\"critical\""
            } else {
                ""
            },
            esc(&b.name),
            (b.end - b.start) / 1000.0,
            (b.split - b.start) / 1000.0,
            if b.pipelined {
                format!("{:.2}s", cg / 1000.0)
            } else {
                "—".into()
            }
        );
    }
    table.push_str("</table>");
    let path: Vec<String> = critical.iter().map(|c| esc(c)).collect();
    format!(
        r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>sysgen build timings</title>
<style>
body {{ font-family: sans-serif; margin: 1em 2em; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 2px 10px; text-align: left; }}
tr:nth-child(even) {{ background: #f4f4f4; }} tr.critical td {{ font-weight: bold; color: #d62728; }}
.key span {{ display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; }}
</style></head><body>
<h1>sysgen build timings</h1>
<p>{} crates and build scripts, {:.1} s from the first edge to the last. Critical path ({:.1} s, bold and outlined in red): <span id="critical-path" data-ms="{:.0}">{}</span>.</p>
<p class="key"><span style="background:{FRONT_END}"></span>front end (until the .rmeta)<span style="background:{CODEGEN}"></span>code generation (pipelined, after its Ninja edge)<span style="background:{BUILD_SCRIPT}"></span>build scripts</p>
{svg}
<h2>Parallelism</h2>
{conc}
<h2>By duration</h2>
{table}
</body></html>
"#,
        bars.len(),
        total / 1000.0,
        critical_ms / 1000.0,
        critical_ms,
        path.join(" → "),
    )
}
