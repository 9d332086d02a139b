//! The resolver and the unit graph, specified against the mock workspace in
//! `tests/mock` (no rust-src, no rustc: milliseconds per test).

use crate::support::*;
use sysgen::resolve::graph::{CompileKind, EdgeKind, UnitKind};

#[test]
fn std_brings_the_crates_cargo_build_std_adds() {
    let g = graph(vec![linux()], &request(Some(&["std"]), None));
    assert_eq!(
        lib_names(&g),
        [
            "addr",
            "alloc",
            "compiler_builtins",
            "core",
            "hashmapx",
            "libcx",
            "panic_abort",
            "panic_unwind",
            "proc_macro",
            "rustc-std-workspace-core",
            "std",
        ]
    );
}

#[test]
fn default_features_reach_std_through_the_sysroot_root() {
    let g = graph(vec![linux()], &request(Some(&["std"]), None));
    // `panic-unwind` and `backtrace` are requested; `addr` is an optional
    // dependency behind `dep:` so it is no feature of its own.
    assert_eq!(lib(&g, "std").features, ["backtrace", "panic-unwind"]);
    // Nothing asked for `default` on core or alloc.
    assert!(lib(&g, "alloc").features.is_empty());
}

#[test]
fn requested_features_replace_the_defaults() {
    let g = graph(
        vec![linux()],
        &request(Some(&["std"]), Some(&["optimize_for_size"])),
    );
    assert_eq!(lib(&g, "std").features, ["optimize_for_size"]);
    assert_eq!(lib(&g, "core").features, ["optimize_for_size"]);
    // Without backtrace, the optional `addr` is not built.
    assert!(!lib_names(&g).contains(&"addr".to_string()));
    // Without panic-unwind, the optional panic_unwind is only there as a requested crate.
    assert!(lib_names(&g).contains(&"panic_unwind".to_string()));
    let std_deps: Vec<_> = g
        .deps(
            g.graph
                .node_indices()
                .find(|&n| {
                    g.graph[n].kind == UnitKind::Lib && g.ws.packages[g.graph[n].pkg].name == "std"
                })
                .unwrap(),
        )
        .filter_map(|(_, e)| match e {
            EdgeKind::Extern { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    assert!(
        !std_deps.contains(&"panic_unwind".to_string()),
        "{std_deps:?}"
    );
}

#[test]
fn renamed_registry_dependency_keeps_its_extern_name() {
    let g = graph(vec![linux()], &request(Some(&["std"]), None));
    let std = g
        .graph
        .node_indices()
        .find(|&n| g.graph[n].kind == UnitKind::Lib && g.ws.packages[g.graph[n].pkg].name == "std")
        .unwrap();
    let hashmap = g
        .deps(std)
        .find(|(d, _)| g.ws.packages[g.graph[*d].pkg].name == "hashmapx")
        .expect("std depends on hashmapx");
    assert_eq!(
        hashmap.1,
        &EdgeKind::Extern {
            name: "hashmap".into(),
            public: false
        }
    );
    // `default-features = false` plus `rustc-dep-of-std` → its optional `core`.
    assert_eq!(g.graph[hashmap.0].features, ["core", "rustc-dep-of-std"]);
}

#[test]
fn patched_registry_dependency_resolves_to_the_workspace_path() {
    let g = graph(vec![linux()], &request(Some(&["std"]), None));
    let p = &g.ws.packages[lib(&g, "rustc-std-workspace-core").pkg];
    assert!(
        p.manifest_path.starts_with(mock_dir().join("library")),
        "{}",
        p.manifest_path.display()
    );
}

#[test]
fn inactive_platform_dependencies_still_unify_features_as_resolver_1_does() {
    let g = graph(vec![linux()], &request(Some(&["std"]), None));
    // winx (cfg(windows)) is not built for linux...
    assert!(!lib_names(&g).contains(&"winx".to_string()));
    // ...but the feature it asks of libcx is on, as cargo does with resolver = "1".
    assert!(
        lib(&g, "libcx")
            .features
            .contains(&"from-windows".to_string())
    );
}

#[test]
fn weak_dependency_feature_applies_only_when_the_dependency_is_on() {
    let g = graph(vec![linux()], &request(Some(&["std"]), None));
    // `libcx?/extended` in std's backtrace: libcx is a unix dependency, so on.
    assert!(lib(&g, "libcx").features.contains(&"extended".to_string()));
    assert!(
        !lib(&g, "libcx").features.contains(&"std".to_string()),
        "default-features = false everywhere"
    );
}

#[test]
fn dev_dependencies_are_not_resolved() {
    // `devonly` has no source in the vendor directory: resolving it would fail.
    let g = graph(vec![linux()], &request(Some(&["std"]), None));
    assert!(!g.ws.packages.iter().any(|p| p.name == "devonly"));
}

#[test]
fn build_scripts_compile_for_the_host_and_run_for_the_target() {
    let g = graph(vec![linux()], &request(Some(&["std"]), None));
    let compile =
        unit(&g, "std", UnitKind::BuildScriptCompile, CompileKind::Host).expect("compile unit");
    let run = unit(
        &g,
        "std",
        UnitKind::BuildScriptRun,
        CompileKind::Target(sysgen::toolchain::target::TargetId(0)),
    )
    .expect("run unit");
    assert_eq!(compile.features, run.features);
    // The library depends on the run, which depends on the compiled script.
    let json = sysgen::emit::json::graph_json(&g);
    let std_lib = json
        .units
        .iter()
        .find(|u| u.krate == "std" && u.kind == "lib")
        .unwrap();
    let dep_steps: Vec<_> = std_lib
        .dep_ids
        .iter()
        .filter_map(|&i| json.units[i].step)
        .collect();
    assert_eq!(dep_steps, ["run"]);
}

#[test]
fn links_metadata_orders_build_script_runs() {
    // std's build script runs after... nothing with `links` among std's direct
    // deps; compiler_builtins has `links` and alloc has no build script.
    let g = graph(vec![linux()], &request(Some(&["std"]), None));
    let runs: Vec<_> = g
        .graph
        .edge_indices()
        .filter(|&e| g.graph[e] == EdgeKind::LinksMetadata)
        .collect();
    assert!(runs.is_empty());
}

#[test]
fn no_std_target_defaults_to_core_and_gets_mem_intrinsics() {
    let g = graph(vec![bare()], &request(None, None));
    assert_eq!(lib_names(&g), ["compiler_builtins", "core"]);
    // rules/build-std.toml adds compiler-builtins-mem where target_os = "none";
    // with only core requested, nothing in the build defines it except
    // through the sysroot root, which forwards it to alloc → compiler_builtins.
    assert!(
        lib(&g, "compiler_builtins")
            .features
            .contains(&"mem".to_string())
    );
}

#[test]
fn several_targets_share_host_units() {
    let g = graph(
        vec![linux(), bare()],
        &request(Some(&["core", "alloc"]), Some(&["compiler-builtins-mem"])),
    );
    let compiles = g
        .graph
        .node_weights()
        .filter(|u| {
            u.kind == UnitKind::BuildScriptCompile
                && g.ws.packages[u.pkg].name == "compiler_builtins"
        })
        .count();
    assert_eq!(
        compiles, 1,
        "one host compile of the build script for both targets"
    );
    let runs = g
        .graph
        .node_weights()
        .filter(|u| {
            u.kind == UnitKind::BuildScriptRun && g.ws.packages[u.pkg].name == "compiler_builtins"
        })
        .count();
    assert_eq!(runs, 2, "one run per target");
}

#[test]
fn json_output_is_stable() {
    let a = sysgen::emit::json::to_string(&graph(vec![linux()], &request(None, None)));
    let b = sysgen::emit::json::to_string(&graph(vec![linux()], &request(None, None)));
    assert_eq!(a, b);
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    let first = &v["units"][0];
    for key in [
        "crate", "version", "target", "kind", "features", "deps", "stage",
    ] {
        assert!(first.get(key).is_some(), "unit lacks `{key}`: {first}");
    }
}

#[test]
fn dot_output_has_a_cluster_per_stage() {
    let dot = sysgen::emit::dot::to_string(&graph(vec![linux()], &request(None, None))).unwrap();
    assert!(dot.starts_with("// Generated by sysgen"));
    assert!(dot.contains("subgraph cluster_stage0"));
    assert!(dot.contains("std 0.0.0\\nlib · x86_64-unknown-linux-gnu"));
}

#[test]
fn unknown_crate_is_a_user_error_naming_the_choices() {
    let m = mock_dir();
    let msg = graph_error(
        &m.join("library"),
        &m.join("vendor"),
        &request(Some(&["stdd"]), None),
    );
    assert!(
        msg.contains("unknown crate `stdd`") && msg.contains("std"),
        "{msg}"
    );
}

#[test]
fn unknown_feature_is_a_user_error_naming_the_choices() {
    let m = mock_dir();
    let msg = graph_error(
        &m.join("library"),
        &m.join("vendor"),
        &request(None, Some(&["fast-math"])),
    );
    assert!(
        msg.contains("unknown feature `fast-math`") && msg.contains("backtrace"),
        "{msg}"
    );
}

#[test]
fn missing_registry_sources_are_listed_in_one_error_with_the_fix() {
    let msg = graph_error(
        &mock_dir().join("library"),
        &tempdir(),
        &request(None, None),
    );
    for pkg in ["addr 0.2.0", "hashmapx 0.3.1", "libcx 0.1.2", "winx 0.1.0"] {
        assert!(msg.contains(pkg), "{msg}");
    }
    assert!(msg.contains("sysgen fetch --vendor"), "{msg}");
    assert!(!msg.contains('\n'));
}

#[test]
fn wrong_vendored_version_is_reported() {
    let m = mock_dir();
    let v = tempdir();
    copy_dir(&m.join("vendor"), &v);
    // Rename a vendored crate to the bare-name layout with another version inside.
    std::fs::rename(v.join("libcx-0.1.2"), v.join("libcx")).unwrap();
    let toml = std::fs::read_to_string(v.join("libcx/Cargo.toml"))
        .unwrap()
        .replace("0.1.2", "0.1.9");
    std::fs::write(v.join("libcx/Cargo.toml"), toml).unwrap();
    let msg = graph_error(&m.join("library"), &v, &request(None, None));
    assert!(msg.contains("libcx 0.1.2"), "{msg}");
}

#[test]
fn malformed_manifest_error_names_file_and_line() {
    let lib = edited_library(|lib| {
        std::fs::write(
            lib.join("alloc/Cargo.toml"),
            "[package]\nname = \"alloc\"\nversion = \n",
        )
        .unwrap()
    });
    let msg = graph_error(&lib, &mock_dir().join("vendor"), &request(None, None));
    assert!(
        msg.contains("alloc/Cargo.toml") && msg.contains("line 3"),
        "{msg}"
    );
}

#[test]
fn malformed_lockfile_error_names_the_fix() {
    let lib = edited_library(|lib| {
        std::fs::write(
            lib.join("Cargo.lock"),
            "version = 4\n[[package]]\nname = \"core\"\nversion = \"x.y\"\n",
        )
        .unwrap()
    });
    let msg = graph_error(&lib, &mock_dir().join("vendor"), &request(None, None));
    assert!(
        msg.contains("malformed lockfile") && msg.contains("rust-src"),
        "{msg}"
    );
}

#[test]
fn workspace_inheritance_is_honoured() {
    let lib = edited_library(|lib| {
        let root = std::fs::read_to_string(lib.join("Cargo.toml")).unwrap();
        std::fs::write(
            lib.join("Cargo.toml"),
            format!("{root}\n[workspace.package]\nedition = \"2021\"\n"),
        )
        .unwrap();
        let core = std::fs::read_to_string(lib.join("core/Cargo.toml"))
            .unwrap()
            .replace("edition = \"2024\"", "edition.workspace = true");
        std::fs::write(lib.join("core/Cargo.toml"), core).unwrap();
    });
    let g = graph_in(
        &lib,
        &mock_dir().join("vendor"),
        vec![linux()],
        &request(None, None),
    )
    .unwrap();
    assert_eq!(g.ws.packages[lib_unit(&g, "core")].edition, "2021");
}

fn lib_unit(
    g: &sysgen::resolve::graph::BuildGraph,
    name: &str,
) -> sysgen::library::workspace::PkgId {
    lib(g, name).pkg
}

#[test]
fn a_test_harness_adds_test_where_std_is_built_and_nowhere_else() {
    let mut req = request(None, None);
    req.test_harness = true;
    let with_std = lib_names(&graph(vec![linux()], &req));
    assert!(with_std.contains(&"test".to_string()), "{with_std:?}");
    // core only (a no_std target): a test crate could not be built.
    let bare_only = lib_names(&graph(vec![bare()], &req));
    assert!(!bare_only.contains(&"test".to_string()), "{bare_only:?}");
    // Without a harness, as before.
    let plain = lib_names(&graph(vec![linux()], &request(None, None)));
    assert!(!plain.contains(&"test".to_string()), "{plain:?}");
}
