//! `sysgen timings`: the HTML report of a finished build. Its critical
//! path is checked against one computed here from `.ninja_log` and
//! build.ninja, and the real report is rendered by headless Chromium and
//! its bars found in the screenshot.

use std::path::Path;

use std::process::Command;

use crate::support::*;

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
