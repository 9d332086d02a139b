//! Snapshots of every emitted build file for the mock workspace (Ninja,
//! GNU Make, Bazel): any change to what sysgen emits shows up as a diff
//! here. Rewrite the snapshots after an intended change with
//! `UPDATE_SNAPSHOTS=1 cargo test --test fast snapshot`.

use std::path::PathBuf;

use crate::support::*;
use sysgen::emit::ninja::{self, NinjaMeta};
use sysgen::lower::{self, LowerOptions};
use sysgen::model::{self, ModelOptions};

fn mock_model() -> (sysgen::resolve::graph::BuildGraph, model::Model) {
    let g = graph(vec![linux(), bare()], &request(Some(&["std"]), None));
    let rules = sysgen::library::rules::Rules::load().unwrap();
    let m = model::build(
        &g,
        &rules,
        &ModelOptions {
            rustflags: ["x86_64-unknown-linux-gnu", "thumbv6m-none-eabi"]
                .into_iter()
                .map(|t| (t.to_string(), vec!["-Cforce-frame-pointers=yes".into()]))
                .collect(),
            ..model_options(&g)
        },
    )
    .unwrap();
    (g, m)
}

fn regen_inputs(g: &sysgen::resolve::graph::BuildGraph) -> Vec<String> {
    g.ws.inputs
        .iter()
        .map(|p| p.display().to_string())
        .collect()
}

fn render() -> String {
    let (g, m) = mock_model();
    let p = lower::lower(
        &m,
        &LowerOptions {
            out_dir: PathBuf::from("/out dir $x"),
            check: false,
            sysgen: PathBuf::from("/usr/bin/sysgen"),
            pipeline: true,
            runs_in_out_dir: true,
            rustc_wrapper: None,
        },
    )
    .unwrap();
    let meta = NinjaMeta {
        version: "test".into(),
        rust_src: g.ws.root.display().to_string(),
        profile: "release".into(),
        regen_cmd: "sysgen ninja".into(),
        regen_inputs: regen_inputs(&g),
        sysgen: "/usr/bin/sysgen".into(),
        // As after a build script printed `rerun-if-env-changed=MYVAR`.
        env_vars: vec!["MYVAR".into()],
        restorable: p
            .files
            .iter()
            .map(|(f, _)| f.display().to_string())
            .collect(),
    };
    let text = ninja::to_string(&p, &meta).unwrap();
    text.replace(env!("CARGO_MANIFEST_DIR"), "$ROOT")
}

fn render_make() -> String {
    let (g, m) = mock_model();
    let p = lower::lower(
        &m,
        &LowerOptions {
            out_dir: PathBuf::from("/out"),
            check: false,
            sysgen: PathBuf::from("/usr/bin/sysgen"),
            pipeline: false,
            runs_in_out_dir: false,
            rustc_wrapper: None,
        },
    )
    .unwrap();
    let meta = sysgen::emit::make::MakeMeta {
        version: "test".into(),
        rust_src: g.ws.root.display().to_string(),
        rust_src_real: g.ws.root.display().to_string(),
        rustc: m.rustc.clone(),
        rustc_sysroot: "/toolchain".into(),
        sysgen: PathBuf::from("/usr/bin/sysgen"),
        regen_cmd: "sysgen make".into(),
        regen_inputs: regen_inputs(&g),
    };
    let (fragment, makefile) = sysgen::emit::make::to_strings(&m, &p, &meta).unwrap();
    format!("# ==> sysgen.mk\n{fragment}# ==> Makefile\n{makefile}")
        .replace(env!("CARGO_MANIFEST_DIR"), "$ROOT")
}

fn render_bazel() -> String {
    let (_, m) = mock_model();
    let out = sysgen::emit::bazel::generate(
        &m,
        std::path::Path::new("/opt/rust"),
        std::path::Path::new("/usr/bin/sysgen"),
    )
    .unwrap();
    out.files
        .iter()
        .map(|(name, text)| format!("# ==> {}\n{text}", name.display()))
        .collect::<String>()
        .replace(env!("CARGO_MANIFEST_DIR"), "$ROOT")
}

#[test]
fn mock_workspace_ninja_file_matches_the_snapshot() {
    check_snapshot("mock.ninja", render);
}

#[test]
fn mock_workspace_make_fragment_matches_the_snapshot() {
    check_snapshot("mock.mk", render_make);
}

#[test]
fn mock_workspace_bazel_repository_matches_the_snapshot() {
    check_snapshot("mock.bazel", render_bazel);
}

#[test]
fn the_make_fragment_names_its_output_directory_only_through_sysgen_out() {
    let text = render_make();
    assert!(!text.contains("/out/"), "the output directory is named");
    assert!(text.contains("$(SYSGEN_OUT)/sysroot/lib/rustlib/thumbv6m-none-eabi/lib/libcore.rlib"));
    // Per-crate flags come last, so the includer's win.
    assert!(text.contains("$(SYSGEN_RUSTFLAGS) $(SYSGEN_RUSTFLAGS_core)\n"));
}

#[test]
fn the_build_file_never_names_its_own_directory() {
    let text = render();
    // Relocatable: inside the output directory every path is relative, and
    // where rustc needs it absolute the shell supplies it ("$PWD", `$`
    // doubled for ninja).
    assert!(!text.contains("/out dir"), "the output directory is named");
    assert!(
        text.contains("OUT_DIR=\"$$PWD\"/build/"),
        "OUT_DIR from the directory the build runs in"
    );
    assert!(text.contains("--remap-path-prefix=\"$$PWD\"=/sysgen"));
}

#[test]
fn paths_with_spaces_and_dollars_are_escaped_for_ninja_and_the_shell() {
    let text = render();
    // rustc's dep-info `$` is doubled for ninja when a root path has one.
    assert!(
        text.contains("&& sed -i 's/\\$$/$$$$/g' "),
        "dep-info escaping expected"
    );
    assert_eq!(sysgen::emit::shell::shell_quote("it's"), "'it'\\''s'");
    assert_eq!(ninja::ninja_path("a b:$c"), "a$ b$:$$c");
}
