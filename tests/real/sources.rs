//! Source lists (src/sources.rs): the files rustc will read, known before
//! the build. First the rules, on a fixture crate (`tests/fixtures/srcwalk`,
//! never compiled); then the lists against the dep-info of real builds, in
//! both directions: every file rustc read is listed, and every listed file
//! is read unless only a build script's cfg decides it.

use std::collections::{BTreeMap, BTreeSet};

use std::path::Path;

use std::process::Command;

use crate::support::unexplained;

// ------------------------------------------------------ real dep-info --
/// What rustc read per output, from ninja's record of the depfiles.
fn ninja_deps(out: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let o = Command::new("ninja")
        .arg("-C")
        .arg(out)
        .args(["-t", "deps"])
        .output()
        .unwrap();
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut cur = None;
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        if line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            let k = line.split(':').next().unwrap().to_string();
            deps.insert(k.clone(), BTreeSet::new());
            cur = Some(k);
        } else if let Some(k) = &cur {
            deps.get_mut(k).unwrap().insert(line.trim().to_string());
        }
    }
    deps
}

/// Compare `sysgen graph --format crates ARGS` with the dep-info of the
/// shared build of ARGS. Returns the number of crates compared.
fn check_against_build(name: &str, args: &[&str]) -> usize {
    let out = crate::support::shared_build(name, args);
    check_lists(&out, args)
}

/// Compare `sysgen graph --format crates ARGS` with the dep-info of the
/// Ninja build of ARGS in `out`. Returns the number of crates compared.
pub fn check_lists(out: &Path, args: &[&str]) -> usize {
    let out = out.to_path_buf();
    let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .args(["graph", "--format", "crates"])
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let roots: BTreeMap<String, String> = m["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().into(),
                r["path"].as_str().unwrap().into(),
            )
        })
        .collect();
    let real = |p: &serde_json::Value| {
        let rel = p["rel"].as_str().unwrap();
        match roots.get(p["root"].as_str().unwrap()) {
            Some(r) => format!("{r}/{rel}"),
            None => rel.to_string(),
        }
    };
    let deps = ninja_deps(&out);
    let mut compared = 0;
    let mut problems = Vec::new();
    for u in m["units"].as_array().unwrap() {
        let b = &u["body"];
        if b["kind"] != "crate" || b["crate_type"] == "bin" || u["target"].is_null() {
            continue;
        }
        let target = m["targets"][u["target"].as_u64().unwrap() as usize]["name"]
            .as_str()
            .unwrap();
        let key = format!(
            "build/{target}/meta/lib{}.rmeta",
            b["crate_name"].as_str().unwrap()
        );
        let Some(read) = deps.get(&key) else {
            problems.push(format!("{key}: no dep-info"));
            continue;
        };
        // Files under the output directory are build-script outputs.
        let read: BTreeSet<String> = read
            .iter()
            .filter(|f| !f.starts_with("build/"))
            .cloned()
            .collect();
        let s = &b["sources"];
        let listed: BTreeSet<String> = s["srcs"]
            .as_array()
            .unwrap()
            .iter()
            .chain(s["compile_data"].as_array().unwrap())
            .map(real)
            .collect();
        let maybe: BTreeSet<String> = s["maybe"].as_array().unwrap().iter().map(real).collect();
        let (missing, extra) = unexplained(&listed, &maybe, &read);
        if !missing.is_empty() || !extra.is_empty() {
            problems.push(format!(
                "{key}: not listed {missing:#?}, listed but unread {extra:#?}"
            ));
        }
        compared += 1;
    }
    assert!(problems.is_empty(), "{problems:#?}");
    compared
}

#[test]
fn the_host_std_lists_are_exactly_what_rustc_reads() {
    let n = check_against_build("host-std", crate::support::HOST_STD);
    assert!(n >= 20, "only {n} crates compared");
}

#[test]
fn thumbv6m_core_and_alloc_lists_are_exactly_what_rustc_reads() {
    let n = check_against_build("thumbv6m-core-alloc", crate::support::THUMBV6M_CORE_ALLOC);
    assert!(n >= 3, "only {n} crates compared");
}
