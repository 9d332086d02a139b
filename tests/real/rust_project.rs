//! `sysgen rust-project`, checked by rust-analyzer itself: the project file
//! loads, every listed crate resolves its dependencies and its cfg'd code,
//! and rust-analyzer infers the types of almost every pattern. A project
//! with the dependencies taken out is the control that shows the measure
//! can fail.

use std::path::{Path, PathBuf};

use std::process::Command;

use crate::support::*;

/// What `rust-analyzer analysis-stats` reports for a project.
#[derive(Debug, Default)]
struct Stats {
    crates: u64,
    pats: u64,
    /// Patterns whose type is unknown (`??ty`).
    unknown: u64,
    /// Type mismatches (`!ty`).
    mismatches: u64,
    panics: u64,
}

fn number(line: &str, key: &str) -> Option<u64> {
    let rest = &line[line.find(key)? + key.len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '_')
        .filter(|c| *c != '_')
        .collect();
    digits.parse().ok()
}

fn analysis_stats(dir: &Path) -> Stats {
    let ra = Command::new("rustup")
        .args(["which", "rust-analyzer"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .unwrap_or_else(|| "rust-analyzer".into());
    let o = Command::new(&ra)
        .arg("analysis-stats")
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (scripts/setup installs it)", ra.display()));
    let text = String::from_utf8_lossy(&o.stdout).replace('\r', "\n")
        + &String::from_utf8_lossy(&o.stderr).replace('\r', "\n");
    assert!(o.status.success(), "rust-analyzer failed:\n{text}");
    let mut s = Stats::default();
    for line in text.lines() {
        if line.trim_start().starts_with("crates:") {
            s.crates = number(line, "crates:").unwrap();
        }
        if line.trim_start().starts_with("pats:") {
            s.pats = number(line, "pats:").unwrap();
            s.unknown = number(line, "??ty:").unwrap();
            s.mismatches = number(line, "!ty:").unwrap();
        }
        if line.trim_start().starts_with("panics:") {
            s.panics = number(line, "panics:").unwrap();
        }
    }
    assert!(s.pats > 0, "no statistics in:\n{text}");
    s
}

fn rust_project(cwd: &Path, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .current_dir(cwd)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .arg("rust-project")
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    err
}

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn krate<'a>(project: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    project["crates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["display_name"] == name)
        .unwrap_or_else(|| panic!("no crate {name}"))
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn rust_analyzer_understands_core_and_alloc_for_a_bare_metal_target() {
    let t = tempdir();
    rust_project(&t, THUMBV6M_CORE_ALLOC);
    let project = read_json(&t.join("rust-project.json"));
    // The target's cfgs and the crate's features, as rustc gets them.
    let core = krate(&project, "core");
    assert_eq!(core["target"], "thumbv6m-none-eabi");
    let cfg = strings(&core["cfg"]);
    for c in [
        "target_arch=\"arm\"",
        "target_os=\"none\"",
        "panic=\"abort\"",
    ] {
        assert!(cfg.contains(&c.to_string()), "{c} in {cfg:?}");
    }
    let alloc = krate(&project, "alloc");
    assert!(strings(&alloc["cfg"]).contains(&"feature=\"compiler-builtins-mem\"".to_string()));

    let good = analysis_stats(&t);
    assert_eq!(good.crates, 3, "{good:?}");
    assert_eq!(good.panics, 0, "{good:?}");
    assert!(
        good.unknown * 100 <= good.pats * 3,
        "under 3% unknown types: {good:?}"
    );
    assert!(good.mismatches <= 10, "{good:?}");

    // The control: alloc and compiler_builtins without their deps.
    let mut broken = project.clone();
    for c in broken["crates"].as_array_mut().unwrap() {
        c["deps"] = serde_json::json!([]);
    }
    let b = tempdir();
    std::fs::write(b.join("rust-project.json"), broken.to_string()).unwrap();
    let bad = analysis_stats(&b);
    assert!(
        bad.unknown > good.unknown * 3,
        "the measure sees missing deps: {good:?} vs {bad:?}"
    );
}

#[test]
fn rust_analyzer_understands_host_std_with_the_build_script_cfgs_of_a_finished_build() {
    let build = shared_build("host-std", HOST_STD);
    let t = tempdir();

    // Without a build: the crates whose build scripts print cfgs are named.
    let note = rust_project(&t, HOST_STD);
    assert!(
        note.contains("not included") && note.contains("std"),
        "{note}"
    );

    let mut args = HOST_STD.to_vec();
    args.extend(["--build-dir", build.to_str().unwrap()]);
    let note = rust_project(&t, &args);
    assert!(!note.contains("not included"), "{note}");
    let project = read_json(&t.join("rust-project.json"));
    // Every `--cfg` std's build script printed, as the build passed it.
    let std = krate(&project, "std");
    let cfg = strings(&std["cfg"]);
    let script_out = std::fs::read_dir(build.join("build/x86_64-unknown-linux-gnu"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name().unwrap().to_string_lossy().starts_with("std-") && p.join("args").exists()
        })
        .expect("std's build-script output");
    let printed = std::fs::read_to_string(script_out.join("args")).unwrap();
    let lines: Vec<&str> = printed.lines().collect();
    let printed_cfgs: Vec<&str> = lines
        .windows(2)
        .filter(|w| w[0] == "--cfg")
        .map(|w| w[1])
        .collect();
    assert!(
        !printed_cfgs.is_empty(),
        "std's build script prints cfgs: {printed}"
    );
    for c in printed_cfgs {
        assert!(cfg.contains(&c.to_string()), "{c} in {cfg:?}");
    }
    assert_eq!(
        std["env"]["OUT_DIR"].as_str().unwrap(),
        script_out.join("out").to_str().unwrap()
    );

    let s = analysis_stats(&t);
    assert_eq!(
        s.crates,
        project["crates"].as_array().unwrap().len() as u64,
        "{s:?}"
    );
    assert_eq!(s.panics, 0, "{s:?}");
    assert!(
        s.unknown * 100 <= s.pats * 3,
        "under 3% unknown types: {s:?}"
    );
    assert!(s.mismatches <= 10, "{s:?}");
}
