//! `sysgen buck2` on the mock library: the cell evaluates under
//! starlark-rust against stand-ins for the prelude in every configuration
//! its toolchain selects on and says what the crate model says (see
//! tests/buck2/check.rs), buildifier finds nothing to reformat, the cells
//! are snapshot-tested, and what it cannot express is refused with one
//! line.

use std::path::{Path, PathBuf};

use crate::buck2_check::check_against_model;
use crate::support::*;

const HOST_STD: &[&str] = &[
    "--target",
    "x86_64-unknown-linux-gnu",
    "--crates",
    "std,panic_abort",
];
const THUMB: &[&str] = &["--target", "thumbv6m-none-eabi", "--crates", "core,alloc"];

/// A cell generated into a new directory: its path.
fn cell(args: &[&str]) -> PathBuf {
    let dir = tempdir();
    let o = sysgen_fake(&dir, &[&["buck2", "-o", "cell"], args].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    dir.join("cell")
}

fn crates(args: &[&str]) -> serde_json::Value {
    let dir = tempdir();
    let o = sysgen_fake(&dir, &[&["graph", "--format", "crates"], args].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn a_cortex_m0_cell_evaluates_to_the_crate_model_in_every_configuration() {
    check_against_model(&cell(THUMB), &crates(THUMB));
}

#[test]
fn a_host_std_cell_evaluates_to_the_crate_model_in_every_configuration() {
    check_against_model(&cell(HOST_STD), &crates(HOST_STD));
}

#[test]
fn with_panic_abort_the_toolchain_passes_it_and_no_rule_does() {
    let args = [HOST_STD, &["--panic", "abort"]].concat();
    let c = cell(&args);
    check_against_model(&c, &crates(&args));
    let ev = crate::buck2_check::evaluated(&c, "DEFAULT");
    assert_eq!(ev["toolchain"]["panic_runtime"], "abort");
}

/// The cell as text, for a snapshot: every file, and where its source
/// links point (the checkout's path as $ROOT).
fn render(args: &[&str]) -> String {
    let c = cell(args);
    let mut out = String::new();
    for f in ["BUCK", "toolchain.bzl"] {
        out.push_str(&format!(
            "# ==> {f}\n{}",
            std::fs::read_to_string(c.join(f)).unwrap()
        ));
    }
    let mut links: Vec<_> = std::fs::read_dir(c.join("sources"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    links.sort();
    for l in links {
        out.push_str(&format!(
            "# ==> sources/{} -> {}\n",
            l.file_name().unwrap().to_string_lossy(),
            std::fs::read_link(&l).unwrap().display()
        ));
    }
    out.replace(env!("CARGO_MANIFEST_DIR"), "$ROOT")
}

#[test]
fn the_host_std_cell_matches_the_snapshot() {
    check_snapshot("mock-host-std.buck2", || render(HOST_STD));
}

#[test]
fn the_cortex_m0_cell_matches_the_snapshot() {
    check_snapshot("mock-thumbv6m.buck2", || render(THUMB));
}

#[test]
fn what_the_prelude_cannot_express_is_one_line_and_writes_nothing() {
    let spec_dir = tempdir();
    // The stand-in compiler knows a spec file by its name.
    let spec = spec_dir.join("thumbv6m-none-eabi.json");
    std::fs::write(&spec, "{}").unwrap();
    let staged = tempdir();
    write(
        &staged.join("sysgen.toml"),
        "[dependencies]\ncore = {}\ntiny = { path = \"tiny\", stage = 1 }\n",
    );
    write(
        &staged.join("tiny/Cargo.toml"),
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(&staged.join("tiny/src/lib.rs"), "#![no_std]\n");
    let cases: Vec<(PathBuf, Vec<String>, &str)> = vec![
        (
            tempdir(),
            [
                "--target",
                "thumbv6m-none-eabi",
                "--target",
                "x86_64-unknown-linux-gnu",
                "--crates",
                "core",
            ]
            .map(String::from)
            .to_vec(),
            "takes one --target",
        ),
        (
            tempdir(),
            vec![
                "--target".into(),
                spec.display().to_string(),
                "--crates".into(),
                "core".into(),
            ],
            "takes a built-in target",
        ),
        (
            staged.clone(),
            ["--target", "thumbv6m-none-eabi", "--config", "sysgen.toml"]
                .map(String::from)
                .to_vec(),
            "builds one stage",
        ),
    ];
    for (dir, args, says) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = sysgen_fake(&dir, &[&["buck2", "-o", "cell"], &args[..]].concat());
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let line = one_line_error(&o);
        assert!(line.contains(says), "{args:?}: {line}");
        assert!(!dir.join("cell").exists(), "{args:?}: nothing written");
    }
}

#[test]
fn a_build_file_inside_the_sources_is_refused() {
    let lib = edited_library(|l| std::fs::write(l.join("core/src/BUCK"), "").unwrap());
    let dir = tempdir();
    let o = sysgen_cmd(&dir)
        .args(["buck2", "-o", "cell"])
        .args(THUMB)
        .args(mock_toolchain(&lib))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let line = one_line_error(&o);
    assert!(
        line.contains("Buck2 build file inside the sources"),
        "{line}"
    );
    assert!(!dir.join("cell").exists());
}

#[test]
fn regenerating_replaces_the_source_links_it_made_and_nothing_else() {
    let dir = tempdir();
    let o = sysgen_fake(&dir, &[&["buck2", "-o", "cell"], THUMB].concat());
    assert!(o.status.success());
    let link = dir.join("cell/sources/library");
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        mock_dir().join("library")
    );
    // Another rust-src: the link follows.
    let lib = edited_library(|_| {});
    let o = sysgen_cmd(&dir)
        .args(["buck2", "-o", "cell"])
        .args(THUMB)
        .args(mock_toolchain(&lib))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_link(&link).unwrap(), lib);
    // A directory the user put there is theirs.
    std::fs::remove_file(&link).unwrap();
    std::fs::create_dir(&link).unwrap();
    let o = sysgen_fake(&dir, &[&["buck2", "-o", "cell"], THUMB].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(one_line_error(&o).contains("is not a symlink sysgen made"));
    assert!(Path::new(&link).is_dir());
}

/// A refused regeneration writes nothing: every file and link is checked
/// before any is replaced. (Found: `sources/registry` made a directory, and
/// a regeneration replaced BUCK and the manifests and repointed the user's
/// own `sources/library` link before it refused.)
#[test]
fn a_refused_regeneration_leaves_the_cell_as_it_was() {
    let std = [
        "--target",
        "x86_64-unknown-linux-gnu",
        "--crates",
        "std",
        "--no-config",
    ];
    let snapshot = |cell: &Path| -> Vec<(std::path::PathBuf, Vec<u8>, Option<std::path::PathBuf>)> {
        files_below(cell)
            .into_iter()
            .map(|f| {
                let p = cell.join(&f);
                (
                    f,
                    std::fs::read(&p).unwrap_or_default(),
                    std::fs::read_link(&p).ok(),
                )
            })
            .collect()
    };
    // Regenerated from another rust-src, each time refused: once for a
    // directory where the registry link was, once for the user's own link
    // where sysgen's library link was.
    for case in ["registry became a directory", "the user's own link"] {
        let dir = tempdir();
        let o = sysgen_fake(&dir, &[&["buck2", "-o", "cell"], &std[..]].concat());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let cell = dir.join("cell");
        let mine = tempdir();
        if case == "registry became a directory" {
            std::fs::remove_file(cell.join("sources/registry")).unwrap();
            std::fs::create_dir(cell.join("sources/registry")).unwrap();
        } else {
            std::fs::remove_file(cell.join("sources/library")).unwrap();
            std::os::unix::fs::symlink(&mine, cell.join("sources/library")).unwrap();
        }
        let before = snapshot(&cell);
        let lib = edited_library(|l| {
            let f = l.join("core/src/lib.rs");
            let t = std::fs::read_to_string(&f).unwrap();
            std::fs::write(&f, format!("{t}\n// another\n")).unwrap();
        });
        let o = sysgen_cmd(&dir)
            .args(["buck2", "-o", "cell"])
            .args(std)
            .args(mock_toolchain(&lib))
            .output()
            .unwrap();
        let e = one_line_error(&o);
        assert!(
            e.contains("sysgen made") || e.contains("sysgen did not make"),
            "{case}: {e}"
        );
        assert!(before == snapshot(&cell), "{case}: the cell changed");
    }
}
