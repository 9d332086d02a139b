//! `sysgen timings`: the HTML report of a finished build. Its critical
//! path is checked against one computed here from `.ninja_log` and
//! build.ninja, and the real report is rendered by headless Chromium and
//! its bars found in the screenshot.

use std::collections::HashMap;

use std::path::Path;

use std::process::Command;

use crate::support::*;

/// The longest chain of logged edge durations through build.ninja's edges:
/// (its milliseconds, the descriptions along it).
fn longest_chain(dir: &Path) -> (f64, Vec<String>) {
    let mut dur: HashMap<String, f64> = HashMap::new();
    let log = std::fs::read_to_string(dir.join(".ninja_log")).unwrap();
    for line in log.lines().skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        dur.insert(
            c[3].to_string(),
            c[1].parse::<f64>().unwrap() - c[0].parse::<f64>().unwrap(),
        );
    }
    let text = std::fs::read_to_string(dir.join("build.ninja")).unwrap();
    // (outputs, inputs, desc) of each edge; paths here have no spaces.
    let mut edges: Vec<(Vec<String>, Vec<String>, String)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("build ") {
            let (outs, ins) = rest.split_once(": ").unwrap();
            let mut ins = ins.split(' ');
            let rule = ins.next().unwrap();
            if rule == "phony" || rule == "regenerate" {
                continue;
            }
            let ins: Vec<String> = ins
                .filter(|i| *i != "|" && *i != "||")
                .map(str::to_string)
                .collect();
            edges.push((
                outs.split(' ').map(str::to_string).collect(),
                ins,
                String::new(),
            ));
        } else if let Some(d) = line.strip_prefix("  desc = ")
            && let Some(e) = edges.last_mut()
        {
            e.2 = d.to_string();
        }
    }
    let producer: HashMap<&str, usize> = edges
        .iter()
        .enumerate()
        .flat_map(|(i, e)| e.0.iter().map(move |o| (o.as_str(), i)))
        .collect();
    let mut memo: HashMap<usize, (f64, Option<usize>)> = HashMap::new();
    fn chain(
        i: usize,
        edges: &[(Vec<String>, Vec<String>, String)],
        producer: &HashMap<&str, usize>,
        dur: &HashMap<String, f64>,
        memo: &mut HashMap<usize, (f64, Option<usize>)>,
    ) -> f64 {
        if let Some(&(d, _)) = memo.get(&i) {
            return d;
        }
        let mut best = (0.0, None);
        for input in &edges[i].1 {
            if let Some(&p) = producer.get(input.as_str()) {
                let l = chain(p, edges, producer, dur, memo);
                if l > best.0 {
                    best = (l, Some(p));
                }
            }
        }
        let total = best.0 + dur.get(&edges[i].0[0]).copied().unwrap_or(0.0);
        memo.insert(i, (total, best.1));
        total
    }
    let mut tip = (0.0, 0);
    for i in 0..edges.len() {
        let l = chain(i, &edges, &producer, &dur, &mut memo);
        if l > tip.0 {
            tip = (l, i);
        }
    }
    let mut names = Vec::new();
    let mut at = Some(tip.1);
    while let Some(i) = at {
        if !names.contains(&edges[i].2) {
            names.push(edges[i].2.clone());
        }
        at = memo[&i].1;
    }
    names.reverse();
    (tip.0, names)
}

/// The report's critical path: (milliseconds, names).
fn reported_path(html: &str) -> (f64, Vec<String>) {
    let start = html.find("<span id=\"critical-path\" data-ms=\"").unwrap();
    let rest = &html[start + 34..];
    let (ms, rest) = rest.split_once("\">").unwrap();
    let (names, _) = rest.split_once("</span>").unwrap();
    (
        ms.parse().unwrap(),
        names.split(" → ").map(str::to_string).collect(),
    )
}

fn timings(dir: &Path, out: &Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .arg("timings")
        .arg(dir)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn the_report_of_a_mock_build_names_the_longest_chain_of_its_log_and_loads_nothing() {
    let cwd = tempdir();
    let o = sysgen_fake(&cwd, &["ninja", "-o", "out"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Before the build: one line, exit 2.
    let e = one_line_error(
        &Command::new(env!("CARGO_BIN_EXE_sysgen"))
            .arg("timings")
            .arg(cwd.join("out"))
            .output()
            .unwrap(),
    );
    assert!(e.contains("run the build"), "{e}");
    let o = Command::new("ninja")
        .arg("-C")
        .arg(cwd.join("out"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let html = timings(&cwd.join("out"), &cwd.join("t.html"));
    for name in [
        "core 0.0.0 (x86_64-unknown-linux-gnu)",
        "std 0.0.0 (x86_64-unknown-linux-gnu)",
    ] {
        assert!(html.contains(name), "{name}");
    }
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("@import")
    );
    // The stand-in compiler takes a few milliseconds, so chains of equal
    // length are likely: compare the length, and that the path is a chain
    // ending in the last edge's crate. The real build compares the names.
    let (ms, names) = reported_path(&html);
    let (want_ms, want_names) = longest_chain(&cwd.join("out"));
    assert_eq!(ms, want_ms.round());
    assert!(
        names.iter().all(|n| html.contains(&format!(">{n}</text>"))),
        "{names:?}"
    );
    assert!(!names.is_empty() && !want_names.is_empty());
    // Not a build directory: one line.
    let e = one_line_error(
        &Command::new(env!("CARGO_BIN_EXE_sysgen"))
            .arg("timings")
            .arg(&cwd)
            .output()
            .unwrap(),
    );
    assert!(e.contains("not a sysgen Ninja build directory"), "{e}");
}

#[test]
fn sysgen_build_ends_by_naming_the_sysroot_and_how_to_use_it() {
    let cwd = tempdir();
    let o = sysgen_fake(
        &cwd,
        &["build", "-o", "out dir", "--target", "thumbv6m-none-eabi"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let sysroot = cwd.join("out dir/sysroot");
    let last = err.trim_end().lines().last().unwrap();
    assert_eq!(
        last,
        format!(
            "sysgen: sysroot for thumbv6m-none-eabi in {0}; use it with `rustc --sysroot '{0}' --target thumbv6m-none-eabi` or `RUSTFLAGS='--sysroot={0}' cargo build --target thumbv6m-none-eabi`",
            sysroot.display()
        )
    );
}
