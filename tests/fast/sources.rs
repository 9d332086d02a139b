//! Source lists (src/sources.rs): the files rustc will read, known before
//! the build. First the rules, on a fixture crate (`tests/fixtures/srcwalk`,
//! never compiled); then the lists against the dep-info of real builds, in
//! both directions: every file rustc read is listed, and every listed file
//! is read unless only a build script's cfg decides it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use sysgen::model::sources::{Certainty, CfgEnv, FileList, Scanner};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/srcwalk")
}

fn linux(build_script: bool) -> CfgEnv {
    CfgEnv {
        names: ["unix".to_string()].into_iter().collect(),
        pairs: [("target_os".to_string(), "linux".to_string())]
            .into_iter()
            .collect(),
        build_script,
    }
}

fn rel(map: &BTreeMap<PathBuf, Certainty>, c: Certainty) -> Vec<String> {
    let root = fixture();
    let mut v: Vec<String> = map
        .iter()
        .filter(|(_, v)| **v == c)
        .map(|(p, _)| p.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    v.sort();
    v
}

fn walk(env: &CfgEnv) -> FileList {
    Scanner::default().crate_files(&fixture().join("src/lib.rs"), env)
}

#[test]
fn modules_includes_and_cfgs_are_followed_as_rustc_follows_them() {
    let files = walk(&linux(true));
    assert_eq!(
        rel(&files.srcs, Certainty::Sure),
        [
            // `mod elsewhere;` via #[path]; a #[path] file's own modules
            // live beside it.
            "src/elsewhere/renamed.rs",
            "src/elsewhere/sub.rs",
            // cfg_select!: the first arm that holds.
            "src/first_match.rs",
            // A non-mod-rs file's modules live in a directory of its name.
            "src/flat.rs",
            "src/flat/child.rs",
            // A `macro_rules!` that declares a module, where it is invoked.
            "src/from_macro.rs",
            // include!: its items join the module; its includes are
            // relative to itself.
            "src/included.rs",
            "src/inline/inner.rs",
            "src/lib.rs",
            "src/nested/child.rs",
            "src/nested/mod.rs",
            // cfg_if!: the else arm when the if does not hold.
            "src/otherwise.rs",
            "src/unix.rs",
            // #[cfg_attr(unix, path = …)] replaces the default file.
            "src/unix_impl.rs",
        ]
    );
    assert_eq!(
        rel(&files.srcs, Certainty::Maybe),
        ["src/maybe.rs"],
        "a cfg only a build script can set leaves the file undecided"
    );
    assert_eq!(
        rel(&files.data, Certainty::Sure),
        [
            "README.md",
            "src/data/x.txt",
            // concat!("docs/", stringify!($t), ".md") for each argument.
            "src/docs/alpha.md",
            "src/docs/beta.md"
        ],
        "never.md is behind #[cfg(doctest)]"
    );
}

#[test]
fn without_a_build_script_unknown_cfgs_are_false_and_features_are_known() {
    let mut env = linux(false);
    let files = walk(&env);
    assert!(rel(&files.srcs, Certainty::Maybe).is_empty());
    assert!(!rel(&files.srcs, Certainty::Sure).contains(&"src/maybe.rs".to_string()));
    assert!(!rel(&files.srcs, Certainty::Sure).contains(&"src/extra.rs".to_string()));
    env.pairs.insert(("feature".into(), "extra".into()));
    let files = walk(&env);
    assert!(rel(&files.srcs, Certainty::Sure).contains(&"src/extra.rs".to_string()));
}

#[test]
fn a_bare_metal_target_reads_other_files() {
    let env = CfgEnv {
        pairs: [("target_os".to_string(), "none".to_string())]
            .into_iter()
            .collect(),
        ..Default::default()
    };
    let sure = rel(&walk(&env).srcs, Certainty::Sure);
    for f in [
        "src/bare.rs",
        "src/bare_too.rs",
        "src/fallback.rs",
        "src/platform.rs",
    ] {
        assert!(sure.contains(&f.to_string()), "{f}: {sure:#?}");
    }
    for f in ["src/unix.rs", "src/first_match.rs", "src/otherwise.rs"] {
        assert!(!sure.contains(&f.to_string()), "{f}");
    }
}

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

/// Files rustc read that are not listed, and listed files it did not read
/// that nothing explains (a build script's cfg may decide `maybe` files).
fn unexplained(
    listed: &BTreeSet<String>,
    maybe: &BTreeSet<String>,
    read: &BTreeSet<String>,
) -> (Vec<String>, Vec<String>) {
    let missing = read.difference(listed).cloned().collect();
    let extra = listed
        .difference(read)
        .filter(|f| !maybe.contains(*f))
        .cloned()
        .collect();
    (missing, extra)
}

/// Compare `sysgen graph --format crates ARGS` with the dep-info of the
/// shared build of ARGS. Returns the number of crates compared.
fn check_against_build(name: &str, args: &[&str]) -> usize {
    let out = common::shared_build(name, args);
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
    let n = check_against_build("host-std", common::HOST_STD);
    assert!(n >= 20, "only {n} crates compared");
}

#[test]
fn thumbv6m_core_and_alloc_lists_are_exactly_what_rustc_reads() {
    let n = check_against_build("thumbv6m-core-alloc", common::THUMBV6M_CORE_ALLOC);
    assert!(n >= 3, "only {n} crates compared");
}

#[test]
fn listing_every_file_of_the_library_is_not_a_source_list() {
    // The check above must be able to fail: a list of everything (what a
    // glob would give) leaves files rustc never read unexplained.
    let lib = std::fs::read_dir(fixture().join("src"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect::<BTreeSet<_>>();
    let read: BTreeSet<String> = [fixture().join("src/lib.rs").display().to_string()]
        .into_iter()
        .collect();
    let (_, extra) = unexplained(&lib, &BTreeSet::new(), &read);
    assert!(!extra.is_empty());
}
