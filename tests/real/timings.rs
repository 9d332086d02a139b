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

/// RGB pixels of a PNG.
fn pixels(png_file: &Path) -> Vec<[u8; 3]> {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_file).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    buf[..info.buffer_size()]
        .chunks(step)
        .map(|p| [p[0], p[1], p[2]])
        .collect()
}

fn rgb(hex: &str) -> [u8; 3] {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap();
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

#[test]
fn a_real_thumbv6m_report_renders_its_bars_in_headless_chromium() {
    let dir = shared_build("thumbv6m-core-alloc", THUMBV6M_CORE_ALLOC);
    let t = tempdir();
    let html = timings(&dir, &t.join("report.html"));
    let (ms, names) = reported_path(&html);
    let (want_ms, want_names) = longest_chain(&dir);
    assert_eq!((ms, &names), (want_ms.round(), &want_names));
    assert!(names.iter().any(|n| n.starts_with("core ")), "{names:?}");

    let shot = t.join("shot.png");
    let o = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1300,900",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", t.join("report.html").display()))
        .output()
        .expect("chromium (scripts/setup installs Debian's package)");
    assert!(
        shot.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let px = pixels(&shot);
    let count = |c: [u8; 3]| {
        px.iter()
            .filter(|p| p.iter().zip(c).all(|(a, b)| a.abs_diff(b) <= 3))
            .count()
    };
    let front = count(rgb(sysgen::report::timings::FRONT_END));
    let codegen = count(rgb(sysgen::report::timings::CODEGEN));
    // core's front end alone is most of the chart's width, ~14 px high.
    assert!(front > 5_000, "front-end bars: {front} pixels");
    assert!(codegen > 500, "code-generation bars: {codegen} pixels");
}
