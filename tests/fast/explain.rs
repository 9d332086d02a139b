//! `sysgen explain`: why a crate is in the graph, what enabled its
//! features, and where its rustc arguments come from — read from the model
//! the emitters render.

use crate::support::*;

fn explain_mock(args: &[&str]) -> std::process::Output {
    let cwd = tempdir();
    sysgen_fake(&cwd, &[&["explain"][..], args].concat())
}

#[test]
fn a_renamed_registry_dependency_is_explained_by_its_path_and_each_features_cause() {
    let out = stdout(&explain_mock(&["hashmapx"]));
    assert!(
        out.starts_with("hashmapx 0.3.1 (x86_64-unknown-linux-gnu, stage 0)"),
        "{out}"
    );
    assert!(out.contains("std is requested"), "{out}");
    assert!(
        out.contains("std depends on hashmapx (--extern hashmap, Normal dependency)"),
        "{out}"
    );
    assert!(
        out.contains("rustc-dep-of-std: std asks for it in its dependency on hashmap"),
        "{out}"
    );
    assert!(
        out.contains("core: its feature `rustc-dep-of-std` = [\"core\"]"),
        "{out}"
    );
}

#[test]
fn features_from_a_dependents_feature_and_from_another_platform_are_named() {
    let out = stdout(&explain_mock(&["libcx"]));
    assert!(out.contains("only for `cfg(unix)`"), "{out}");
    assert!(out.contains("extended: std's feature `backtrace`"), "{out}");
    assert!(
        out.contains("from-windows: winx asks for it"),
        "resolver 1: {out}"
    );
    // The root's features come from -Zbuild-std's defaults.
    let out = stdout(&explain_mock(&["std"]));
    assert!(
        out.contains("backtrace: -Zbuild-std's default features"),
        "{out}"
    );
}

#[test]
fn flags_name_their_source() {
    let out = stdout(&explain_mock(&["compiler_builtins", "--flags"]));
    assert!(
        out.lines().any(|l| l.contains("-C codegen-units=10000")
            && l.ends_with(
                "← the `release` profile (the library's Cargo.toml, then the project's)"
            )),
        "{out}"
    );
    assert!(out.contains("--crate-name compiler_builtins"), "{out}");
    assert!(out.contains("CARGO_PKG_NAME=compiler_builtins"), "{out}");
}

#[test]
fn a_crate_outside_the_graph_gets_one_line() {
    let e = one_line_error(&explain_mock(&["winx"]));
    assert!(
        e.contains("`winx` is not in the sysroot's graph for x86_64-unknown-linux-gnu"),
        "{e}"
    );
}
