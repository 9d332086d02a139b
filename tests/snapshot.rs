//! Snapshot of the Ninja file for the mock workspace: any change to what
//! sysgen emits shows up as a diff here. Rewrite the snapshot after an
//! intended change with `UPDATE_SNAPSHOTS=1 cargo test --test snapshot`.

mod common;

use std::path::PathBuf;

use common::*;
use sysgen::emit::ninja::{self, NinjaMeta};
use sysgen::lower::{self, LowerOptions};
use sysgen::model::{self, ModelOptions};

fn render() -> String {
    let g = graph(vec![linux(), bare()], &request(Some(&["std"]), None));
    let rules = sysgen::rules::Rules::load().unwrap();
    let m = model::build(
        &g,
        &rules,
        &ModelOptions {
            profile: "release".into(),
            panic: sysgen::options::PanicStrategy::Unwind,
            rustflags: ["x86_64-unknown-linux-gnu", "thumbv6m-none-eabi"]
                .into_iter()
                .map(|t| (t.to_string(), vec!["-Cforce-frame-pointers=yes".into()]))
                .collect(),
            check: false,
            frontend_threads: 2,
            nondeterministic_frontend: false,
            sources: false,
        },
    )
    .unwrap();
    let p = lower::lower(
        &m,
        &LowerOptions {
            out_dir: PathBuf::from("/out dir $x"),
            check: false,
            sysgen: PathBuf::from("/usr/bin/sysgen"),
            pipeline: true,
        },
    )
    .unwrap();
    let meta = NinjaMeta {
        version: "test".into(),
        rust_src: g.ws.root.display().to_string(),
        profile: "release".into(),
        regen_cmd: "sysgen ninja".into(),
        regen_inputs: g
            .ws
            .inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
    };
    let text = ninja::to_string(&p, &meta).unwrap();
    text.replace(env!("CARGO_MANIFEST_DIR"), "$ROOT")
}

#[test]
fn mock_workspace_ninja_file_matches_the_snapshot() {
    let got = render();
    assert_eq!(
        got,
        render(),
        "two renders of the same inputs must be byte-identical"
    );
    let path = mock_dir().parent().unwrap().join("snapshots/mock.ninja");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want =
        std::fs::read_to_string(&path).expect("snapshot exists (UPDATE_SNAPSHOTS=1 writes it)");
    assert!(
        got == want,
        "build.ninja differs from {}; diff it, and rewrite with UPDATE_SNAPSHOTS=1 if intended",
        path.display()
    );
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
    assert_eq!(ninja::shell_quote("it's"), "'it'\\''s'");
    assert_eq!(ninja::ninja_path("a b:$c"), "a$ b$:$$c");
}
