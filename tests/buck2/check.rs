//! Checking a cell from `sysgen buck2` by evaluation (shared by the fast
//! and the real tests): evaluate.py runs it through starlark-rust against
//! stand-ins for the prelude, once per configuration the toolchain selects
//! on, and the evaluated rules alone must name the same crates, features,
//! flags, dependency edges and build-script wiring as the crate model
//! (`sysgen graph --format crates`).

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

pub const CONFIGS: &[&str] = &["sysroot-crate", "build-script", "DEFAULT"];

/// What evaluate.py printed for `cell` in `config`.
pub fn evaluated(cell: &Path, config: &str) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/buck2/evaluate.py");
    let o = Command::new("python3")
        .arg(&script)
        .arg(cell)
        .arg(config)
        .output()
        .expect("python3");
    assert!(
        o.status.success(),
        "evaluating {} in {config}: {}\n(starlark-pyo3 comes from scripts/setup)",
        cell.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// buildifier (npm's @bazel/buildifier, from scripts/setup) finds nothing
/// to reformat.
pub fn buildifier_clean(cell: &Path) {
    let o = Command::new("buildifier")
        .arg("--mode=check")
        .arg(cell.join("BUCK"))
        .arg(cell.join("toolchain.bzl"))
        .output()
        .expect("buildifier is installed by scripts/setup (npm @bazel/buildifier)");
    assert!(
        o.status.success(),
        "buildifier: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Flags the prelude passes itself (prelude/rust/build.bzl,
/// `_compute_common_args` and `_rustc_emit`): a rule's rustc_flags may hold
/// none of them, or rustc would get them twice.
const PRELUDE_ADDS: &[&str] = &[
    "--crate-name",
    "--crate-type",
    "--edition",
    "-Cmetadata",
    "-Cextra-filename",
    "-Crelocation-model",
    "-Cprefer-dynamic",
    "--error-format",
    "--json",
    "--target",
    "--cfg=feature",
    "--extern",
    "--emit",
    "--out-dir",
    "--sysroot",
];

fn rule_flags_twice(flags: &[String], abort: bool) -> Vec<String> {
    let mut bad = Vec::new();
    for (i, f) in flags.iter().enumerate() {
        let joined = if (f == "-C" || f == "-Z") && i + 1 < flags.len() {
            format!("{f}{}", flags[i + 1])
        } else {
            f.clone()
        };
        if PRELUDE_ADDS.iter().any(|p| joined.starts_with(p))
            || (abort && joined.starts_with("-Cpanic"))
        {
            bad.push(joined);
        }
    }
    bad
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// The model's path of a unit's file as the cell names it.
fn cell_path(p: &Value) -> String {
    let root = match p["root"].as_str().unwrap() {
        "library" => "sources/library".to_string(),
        "registry" => "sources/registry".to_string(),
        other => format!("sources/{other}"),
    };
    let rel = p["rel"].as_str().unwrap();
    if rel.is_empty() {
        root
    } else {
        format!("{root}/{rel}")
    }
}

/// Compare the evaluated cell with the crate model `crates` (the JSON of
/// `sysgen graph --format crates`), for every configuration.
pub fn check_against_model(cell: &Path, crates: &Value) {
    buildifier_clean(cell);
    let units = crates["units"].as_array().unwrap();
    let host = crates["host"].as_str().unwrap();
    let target = crates["targets"][0]["name"].as_str().unwrap();
    let unit = |id: u64| &units[id as usize];
    let key = |u: &Value| {
        let b = &u["body"];
        let name = if b["crate_type"] == "bin" {
            "build_script_build".to_string()
        } else {
            b["crate_name"].as_str().unwrap().to_string()
        };
        (name, cell_path(&b["root"]))
    };
    let has_std = units
        .iter()
        .any(|u| u["target"].is_u64() && u["body"]["crate_name"] == "std");
    let sysroot_panic = evaluated(cell, "sysroot-crate")["toolchain"]["panic_runtime"].clone();
    for config in CONFIGS {
        let ev = evaluated(cell, config);
        let rules: BTreeMap<String, &Value> = ev["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["name"].as_str().unwrap().to_string(), r))
            .collect();
        let kind = |n: &str| rules[n]["kind"].as_str().unwrap().to_string();
        let label = |l: &str| {
            l.trim_start_matches(':')
                .split('[')
                .next()
                .unwrap()
                .to_string()
        };
        // Crates: one rule per crate unit, keyed by crate and root.
        let mut by_key: BTreeMap<(String, String), &Value> = BTreeMap::new();
        for r in rules.values() {
            if matches!(r["kind"].as_str(), Some("rust_library" | "rust_binary")) {
                let k = (
                    r["attrs"]["crate"].as_str().unwrap().to_string(),
                    r["attrs"]["crate_root"].as_str().unwrap().to_string(),
                );
                assert!(by_key.insert(k.clone(), r).is_none(), "two rules for {k:?}");
            }
        }
        let rule_key = |name: &str| {
            let a = &rules[name]["attrs"];
            (
                a["crate"].as_str().unwrap().to_string(),
                a["crate_root"].as_str().unwrap().to_string(),
            )
        };
        let model_crates: BTreeSet<(String, String)> = units
            .iter()
            .filter(|u| u["body"]["kind"] == "crate")
            .map(key)
            .collect();
        assert_eq!(
            by_key.keys().cloned().collect::<BTreeSet<_>>(),
            model_crates,
            "{config}: the same crates"
        );
        // The sysroot's crates are built in the sysroot-crate configuration:
        // its panic runtime decides whether the prelude passes -Cpanic.
        let abort = sysroot_panic == "abort";
        for u in units.iter().filter(|u| u["body"]["kind"] == "crate") {
            let b = &u["body"];
            let k = key(u);
            let r = by_key[&k];
            let a = &r["attrs"];
            let want_kind = if b["crate_type"] == "bin" {
                "rust_binary"
            } else {
                "rust_library"
            };
            assert_eq!(r["kind"], want_kind, "{k:?}");
            assert_eq!(a["edition"], b["edition"], "{k:?}");
            let mut features = strings(&a["features"]);
            features.sort();
            let mut want = strings(&b["features"]);
            want.sort();
            assert_eq!(features, want, "{config}: features of {k:?}");
            // Flags, per the table: the prelude's own and sysgen's
            // pipelining flags out, the build script's directives in.
            let mut flags = Vec::new();
            for f in b["flags"].as_array().unwrap() {
                let args = strings(&f["args"]);
                let first = args[0].as_str();
                let prelude = first.starts_with("--error-format")
                    || (first == "-C" && args[1].starts_with("metadata="))
                    || first == "--target"
                    || (abort && (args == ["-Cpanic=abort"] || args == ["-C", "panic=abort"]));
                if !prelude {
                    flags.extend(args);
                }
            }
            let mut run_name = None;
            if let Some(run) = b["build_script"].as_u64() {
                let out_dir = a["env"]["OUT_DIR"].as_str().expect("OUT_DIR from the run");
                let name = label(
                    out_dir
                        .trim_start_matches("$(location ")
                        .trim_end_matches(')'),
                );
                assert_eq!(out_dir, format!("$(location :{name}[out_dir])"));
                flags.push(format!("@$(location :{name}[rustc_flags])"));
                run_name = Some((name, run));
            }
            let got = strings(&a["rustc_flags"]);
            assert_eq!(got, flags, "{config}: rustc_flags of {k:?}");
            assert_eq!(
                rule_flags_twice(&got, abort),
                Vec::<String>::new(),
                "{config}: flags the prelude adds itself, in {k:?}"
            );
            // Dependency edges, renamed ones as named_deps.
            let mut deps: BTreeSet<(String, (String, String))> = BTreeSet::new();
            for d in strings(&a["deps"]) {
                deps.insert((String::new(), rule_key(&label(&d))));
            }
            if let Some(named) = a["named_deps"].as_object() {
                for (n, d) in named {
                    deps.insert((n.clone(), rule_key(&label(d.as_str().unwrap()))));
                }
            }
            let want: BTreeSet<(String, (String, String))> = b["deps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    let name = if d["renamed_from"].is_null() {
                        String::new()
                    } else {
                        d["extern_name"].as_str().unwrap().to_string()
                    };
                    (name, key(unit(d["unit"].as_u64().unwrap())))
                })
                .collect();
            assert_eq!(deps, want, "{config}: dependencies of {k:?}");
            // The build script: run by buildscript_run, its binary through
            // a configured_alias on the build-scripts platform.
            if let Some((name, run)) = run_name {
                assert_eq!(kind(&name), "buildscript_run");
                let run_unit = unit(run);
                let ra = &rules[&name]["attrs"];
                assert_eq!(ra["package_name"], run_unit["package"]);
                assert_eq!(ra["version"], run_unit["version"]);
                assert_eq!(
                    ra["local_manifest_dir"].as_str().unwrap(),
                    cell_path(&run_unit["body"]["cwd"])
                );
                let mut rf = strings(&ra["features"]);
                rf.sort();
                let mut bf = strings(&b["features"]);
                bf.sort();
                assert_eq!(rf, bf, "CARGO_FEATURE_* of {name}");
                let alias = label(ra["buildscript_rule"].as_str().unwrap());
                assert_eq!(kind(&alias), "configured_alias");
                assert_eq!(rules[&alias]["attrs"]["platform"], ":build-scripts");
                let bin = label(rules[&alias]["attrs"]["actual"].as_str().unwrap());
                let script = unit(run_unit["body"]["script"].as_u64().unwrap());
                assert_eq!(rule_key(&bin), key(script), "{name} runs its script");
            }
        }
        // Platforms and the toolchain of this configuration.
        for (platform, value) in [
            ("sysroot-crates", ":sysroot-crate"),
            ("build-scripts", ":build-script"),
        ] {
            assert_eq!(
                strings(&rules[platform]["attrs"]["constraint_values"]),
                vec![value.to_string()]
            );
        }
        let t = &ev["toolchain"];
        let explicit = &t["explicit_sysroot_deps"];
        match *config {
            "sysroot-crate" => {
                assert_eq!(t["rustc_target_triple"], target);
                for slot in ["core", "proc_macro", "std", "panic_unwind", "panic_abort"] {
                    assert!(explicit[slot].is_null(), "{config}: {explicit}");
                }
                assert_eq!(explicit["others"], serde_json::json!([]));
            }
            "build-script" => {
                assert!(explicit.is_null(), "build scripts use the host's std");
                assert_eq!(t["rustc_target_triple"], host);
                assert_eq!(t["panic_runtime"], "unwind");
            }
            _ => {
                assert_eq!(t["rustc_target_triple"], target);
                let want_panic = if !has_std {
                    "none"
                } else if crates["units"].as_array().unwrap().iter().any(|u| {
                    u["body"]["flags"]
                        .as_array()
                        .is_some_and(|f| f.iter().any(|f| f["origin"]["kind"] == "panic"))
                }) {
                    "abort"
                } else {
                    "unwind"
                };
                assert_eq!(t["panic_runtime"], want_panic);
                // Every crate of the sysroot, through an alias configured
                // for the sysroot's crates; the prelude's slots by name.
                let mut given: BTreeSet<(String, String)> = BTreeSet::new();
                for slot in ["core", "proc_macro", "std", "panic_unwind", "panic_abort"] {
                    if let Some(l) = explicit[slot].as_str() {
                        let k = rule_key(&label(
                            rules[&label(l)]["attrs"]["actual"].as_str().unwrap(),
                        ));
                        assert_eq!(k.0, slot, "the {slot} slot");
                        given.insert(k);
                    }
                }
                for l in strings(&explicit["others"]) {
                    let alias = &rules[&label(&l)]["attrs"];
                    assert_eq!(alias["platform"], ":sysroot-crates");
                    given.insert(rule_key(&label(alias["actual"].as_str().unwrap())));
                }
                let sysroot: BTreeSet<(String, String)> = units
                    .iter()
                    .filter(|u| u["body"]["in_sysroot"] == true)
                    .map(key)
                    .collect();
                assert_eq!(given, sysroot, "users' code gets exactly the sysroot");
            }
        }
    }
}
