//! Bad input at the command line: one line on stderr naming the problem and
//! the fix, exit status 2, and no output file written.

mod common;

use std::process::Command;

use common::*;

fn sysgen_fails(args: &[&str]) -> String {
    let dir = tempdir();
    let out = dir.join("graph.json");
    let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .args(args)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("sysgen: error: "), "{stderr}");
    assert!(!out.exists(), "nothing may be written on error");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn mock_args<'a>(lib: &'a str, vendor: &'a str) -> Vec<&'a str> {
    vec!["graph", "--rust-src", lib, "--vendor", vendor]
}

#[test]
fn unknown_target() {
    let m = mock_dir();
    let (lib, ven) = (m.join("library"), m.join("vendor"));
    let mut a = mock_args(lib.to_str().unwrap(), ven.to_str().unwrap());
    a.extend(["--target", "x86_64-unknown-nowhere"]);
    let e = sysgen_fails(&a);
    assert!(
        e.contains("unknown target `x86_64-unknown-nowhere`") && e.contains("--print target-list"),
        "{e}"
    );
}

#[test]
fn unknown_crate() {
    let m = mock_dir();
    let (lib, ven) = (m.join("library"), m.join("vendor"));
    let mut a = mock_args(lib.to_str().unwrap(), ven.to_str().unwrap());
    a.extend(["--crates", "sdt"]);
    assert!(sysgen_fails(&a).contains("unknown crate `sdt`"));
}

#[test]
fn unknown_feature() {
    let m = mock_dir();
    let (lib, ven) = (m.join("library"), m.join("vendor"));
    let mut a = mock_args(lib.to_str().unwrap(), ven.to_str().unwrap());
    a.extend(["--features", "turbo"]);
    assert!(sysgen_fails(&a).contains("unknown feature `turbo`"));
}

#[test]
fn missing_rust_src() {
    let e = sysgen_fails(&["graph", "--rust-src", "/nonexistent/rust-src"]);
    assert!(
        e.contains("/nonexistent/rust-src") && e.contains("library"),
        "{e}"
    );
}

#[test]
fn missing_registry_sources() {
    let m = mock_dir();
    let empty = tempdir();
    let lib = m.join("library");
    let e = sysgen_fails(&mock_args(lib.to_str().unwrap(), empty.to_str().unwrap()));
    assert!(
        e.contains("hashmapx 0.3.1") && e.contains("sysgen fetch --vendor"),
        "{e}"
    );
}

#[test]
fn malformed_manifest() {
    let lib = tempdir();
    copy_dir(&mock_dir().join("library"), &lib);
    std::fs::write(lib.join("std/Cargo.toml"), "[package\nname = 1\n").unwrap();
    let ven = mock_dir().join("vendor");
    let e = sysgen_fails(&mock_args(lib.to_str().unwrap(), ven.to_str().unwrap()));
    assert!(
        e.contains("malformed manifest") && e.contains("std/Cargo.toml") && e.contains("line 1"),
        "{e}"
    );
}

#[test]
fn malformed_lockfile() {
    let lib = tempdir();
    copy_dir(&mock_dir().join("library"), &lib);
    std::fs::write(lib.join("Cargo.lock"), "[[package]\n").unwrap();
    let ven = mock_dir().join("vendor");
    let e = sysgen_fails(&mock_args(lib.to_str().unwrap(), ven.to_str().unwrap()));
    assert!(e.contains("malformed lockfile"), "{e}");
}

#[test]
fn graph_of_the_mock_workspace_succeeds() {
    // The same arguments without a mistake work, so the failures above are
    // about the mistakes and nothing else.
    let m = mock_dir();
    let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .args(mock_args(
            m.join("library").to_str().unwrap(),
            m.join("vendor").to_str().unwrap(),
        ))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v["units"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["crate"] == "std")
    );
}
