//! The crate model (src/model.rs), specified against the mock library: what
//! each declaration says, whatever emitter renders it. Milliseconds; no
//! rustc, no output directory.

use crate::support::*;
use sysgen::library::profile::PanicStrategy;
use sysgen::model::{
    self, Body, CrateDecl, CrateType, Emit, EnvValue, Model, ModelOptions, Origin, RootId, RunDecl,
    UnitDecl,
};

fn model_of(
    targets: Vec<sysgen::toolchain::target::Target>,
    crates: &[&str],
    panic: PanicStrategy,
) -> Model {
    let mut req = request(Some(crates), None);
    req.panic = panic;
    let g = graph(targets, &req);
    let rules = sysgen::library::rules::Rules::load().unwrap();
    model::build(
        &g,
        &rules,
        &ModelOptions {
            rustflags: [(
                "x86_64-unknown-linux-gnu".to_string(),
                vec!["-Cforce-frame-pointers=yes".to_string()],
            )]
            .into_iter()
            .collect(),
            sources: true,
            ..model_options_with(
                sysgen::library::profile::Profiles::new(&g.ws.profiles, "release", panic).unwrap(),
            )
        },
    )
    .unwrap()
}

fn std_model() -> Model {
    model_of(vec![linux()], &["std"], PanicStrategy::Unwind)
}

/// The library unit of `package` for target 0.
fn lib<'m>(m: &'m Model, package: &str) -> (&'m UnitDecl, &'m CrateDecl) {
    m.units
        .iter()
        .filter(|u| {
            u.package == package && u.target == Some(sysgen::toolchain::target::TargetId(0))
        })
        .find_map(|u| u.krate().map(|c| (u, c)))
        .unwrap_or_else(|| panic!("no library unit for {package}"))
}

fn run(m: &Model, id: model::UnitId) -> &RunDecl {
    match &m.unit(id).body {
        Body::Run(r) => r,
        Body::Crate(_) => panic!("unit {id:?} is not a build-script run"),
    }
}

fn env<'a>(vars: &'a [(String, EnvValue)], name: &str) -> &'a EnvValue {
    &vars
        .iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no {name}"))
        .1
}

fn args_with_origin(c: &CrateDecl, pred: impl Fn(&Origin) -> bool) -> Vec<String> {
    c.flags
        .iter()
        .filter(|f| pred(&f.origin))
        .flat_map(|f| f.args.clone())
        .collect()
}

#[test]
fn a_crate_is_declared_by_its_root_edition_and_type() {
    let m = std_model();
    let (_, std) = lib(&m, "std");
    assert_eq!(std.crate_name, "std");
    assert_eq!(std.root.root, RootId::Library);
    assert_eq!(std.root.rel, "std/src/lib.rs");
    assert_eq!(std.edition, "2024");
    assert_eq!(
        std.crate_type,
        CrateType::Rlib,
        "std asks for dylib and rlib"
    );
    assert_eq!(lib(&m, "core").1.crate_type, CrateType::Lib);
    let (_, hm) = lib(&m, "hashmapx");
    assert_eq!(
        hm.root.root,
        RootId::Registry,
        "registry crates are rooted there"
    );
    assert_eq!(hm.root.rel, "hashmapx-0.3.1/src/lib.rs");
}

#[test]
fn a_renamed_dependency_keeps_its_extern_name_and_says_what_it_renames() {
    let m = std_model();
    let (_, std) = lib(&m, "std");
    let hm = std
        .deps
        .iter()
        .find(|d| d.extern_name == "hashmap")
        .unwrap();
    assert_eq!(hm.renamed_from.as_deref(), Some("hashmapx"));
    assert_eq!(m.unit(hm.unit).package, "hashmapx");
    let core = std.deps.iter().find(|d| d.extern_name == "core").unwrap();
    assert_eq!(core.renamed_from, None);
    let (_, pa) = lib(&m, "panic_abort");
    let core = pa.deps.iter().find(|d| d.extern_name == "core").unwrap();
    assert_eq!(
        core.renamed_from.as_deref(),
        Some("rustc_std_workspace_core")
    );
}

#[test]
fn every_flag_says_where_it_comes_from() {
    let m = std_model();
    let (_, std) = lib(&m, "std");
    assert!(std.features.contains(&"panic-unwind".to_string()));
    let args = std.args();
    assert_eq!(
        args[..5],
        [
            "--crate-name",
            "std",
            "--edition=2024",
            "--crate-type",
            "rlib"
        ]
    );
    assert!(
        args.contains(&"feature=\"panic-unwind\"".to_string()),
        "{args:?}"
    );
    let manifest = args_with_origin(std, |o| *o == Origin::Manifest);
    assert!(
        manifest
            .iter()
            .any(|a| a.starts_with("cfg(feature, values(")),
        "{manifest:?}"
    );
    let profile = args_with_origin(
        std,
        |o| matches!(o, Origin::Profile { name } if name == "release"),
    );
    assert!(profile.contains(&"opt-level=3".to_string()), "{profile:?}");
    let rules = args_with_origin(
        std,
        |o| matches!(o, Origin::Rules { key, .. } if key == "standard-library"),
    );
    assert!(rules.contains(&"-Zforce-unstable-if-unmarked".to_string()));
    let user = args_with_origin(std, |o| *o == Origin::UserFlags);
    assert_eq!(user, ["-Cforce-frame-pointers=yes"]);
    // std's parallel front end makes its output nondeterministic: off.
    assert!(
        !std.flags
            .iter()
            .flat_map(|f| &f.args)
            .any(|a| a.starts_with("-Zthreads"))
    );
    let (_, core) = lib(&m, "core");
    assert!(
        core.flags
            .iter()
            .flat_map(|f| &f.args)
            .any(|a| a == "-Zthreads=2")
    );
}

#[test]
fn the_panic_strategy_reaches_every_sysroot_crate_and_says_so() {
    let m = model_of(vec![linux()], &["std", "panic_abort"], PanicStrategy::Abort);
    for u in m
        .units
        .iter()
        .filter(|u| u.krate().is_some_and(|c| c.in_sysroot))
    {
        let c = u.krate().unwrap();
        let panic = args_with_origin(c, |o| *o == Origin::Panic);
        assert_eq!(panic, ["-C", "panic=abort"], "{}", u.description);
    }
}

#[test]
fn a_build_script_is_declared_with_cargos_environment() {
    let m = std_model();
    let (_, std) = lib(&m, "std");
    let run_id = std.build_script.expect("std has a build script");
    let r = run(&m, run_id);
    assert_eq!(
        env(&r.env, "TARGET"),
        &EnvValue::Text("x86_64-unknown-linux-gnu".into())
    );
    assert_eq!(
        env(&r.env, "CARGO_CFG_TARGET_OS"),
        &EnvValue::Text("linux".into())
    );
    assert_eq!(
        env(&r.env, "OUT_DIR"),
        &EnvValue::OutDir(run_id),
        "symbolic: the layout decides"
    );
    assert_eq!(env(&r.env, "RUSTC"), &EnvValue::Rustc);
    let EnvValue::Path(dir) = env(&r.env, "CARGO_MANIFEST_DIR") else {
        panic!("a path")
    };
    assert_eq!((dir.root, dir.rel.as_str()), (RootId::Library, "std"));
    // The crate reads the run's OUT_DIR; the run runs the compiled script.
    assert_eq!(env(&std.env, "OUT_DIR"), &EnvValue::OutDir(run_id));
    let script = m.unit(r.script);
    assert_eq!(script.target, None, "build scripts run on the host");
    let sc = script.krate().unwrap();
    assert_eq!(sc.crate_type, CrateType::Bin);
    assert_eq!(sc.root.rel, "std/build.rs");
}

#[test]
fn every_emitter_asks_rustc_for_the_same_outputs_and_diagnostics() {
    // Both change an rlib's bytes (an experiment with rustc 1.95: adding
    // `metadata` to `--emit`, or `--json=artifacts`, changes lib.rmeta).
    let m = std_model();
    let (_, std) = lib(&m, "std");
    assert_eq!(std.emit, [Emit::DepInfo, Emit::Metadata, Emit::Link]);
    assert!(std.args().contains(&"--json=artifacts".to_string()));
    let script = m
        .units
        .iter()
        .find_map(|u| u.krate().filter(|c| c.crate_type == CrateType::Bin))
        .unwrap();
    assert_eq!(
        script.emit,
        [Emit::DepInfo, Emit::Link],
        "host tools are not in a sysroot"
    );
}

#[test]
fn a_crate_without_a_build_script_has_no_out_dir() {
    let m = std_model();
    let (_, core) = lib(&m, "core");
    assert_eq!(core.build_script, None);
    assert!(!core.env.iter().any(|(k, _)| k == "OUT_DIR"));
}

#[test]
fn sources_are_listed_for_the_emitters_that_ask() {
    let m = std_model();
    let (_, std) = lib(&m, "std");
    let s = std.sources.as_ref().expect("asked for");
    assert!(s.srcs.iter().any(|p| p.rel == "std/src/lib.rs"));
    assert!(s.srcs.iter().all(|p| p.rel.ends_with(".rs")));
}

#[test]
fn targets_whose_features_agree_share_the_compiled_build_scripts() {
    let aarch64 = sysgen::toolchain::target::Target::from_cfg_text(
        "aarch64-unknown-linux-gnu",
        &LINUX.replace("x86_64", "aarch64"),
        Some(true),
    )
    .unwrap();
    let m = model_of(vec![linux(), aarch64], &["std"], PanicStrategy::Unwind);
    let scripts: Vec<&UnitDecl> = m
        .units
        .iter()
        .filter(|u| {
            u.package == "compiler_builtins"
                && u.krate().is_some_and(|c| c.crate_type == CrateType::Bin)
        })
        .collect();
    assert_eq!(
        scripts.len(),
        1,
        "one compiled build script serves both targets"
    );
    let runs = m
        .units
        .iter()
        .filter(|u| u.package == "compiler_builtins" && matches!(u.body, Body::Run(_)))
        .count();
    assert_eq!(runs, 2, "but it runs once per target");
}
