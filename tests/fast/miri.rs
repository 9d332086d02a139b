//! Miri's sysroot (`--for miri`, `sysgen cargo miri`): compiled by Miri's
//! driver the way cargo-miri's setup compiles it, never mistaken for a
//! sysroot rustc compiled, and handed to cargo-miri in MIRI_SYSROOT.
//!
//! The stand-in toolchain is copied with its rustc also installed as
//! `miri` and its cargo as `cargo-miri` (see their headers); the real
//! driver is in `tests/real/miri.rs`.

use std::path::{Path, PathBuf};

use crate::support::*;
use sysgen::library::profile::{PanicStrategy, Profiles};
use sysgen::library::rules::Rules;
use sysgen::library::workspace::{RegistrySources, Workspace};
use sysgen::resolve::graph::BuildGraph;
use sysgen::toolchain::target::{Driver, Rustc};

/// A copy of the stand-in toolchain with Miri installed: its rustc.
fn toolchain_with_miri() -> PathBuf {
    let rustc = fake_compiler("1.95.0");
    let bin = rustc.parent().unwrap();
    std::fs::copy(&rustc, bin.join("miri")).unwrap();
    std::fs::copy(bin.join("cargo"), bin.join("cargo-miri")).unwrap();
    rustc
}

/// The files in `dir`, by name, as text.
fn files(dir: &Path) -> std::collections::BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).to_string();
            (p.file_name().unwrap().to_string_lossy().to_string(), text)
        })
        .collect()
}

#[test]
fn the_driver_compiles_the_sysroot_with_cargo_miris_environment_and_flags() {
    let rustc = toolchain_with_miri();
    let dir = tempdir();
    let (env_dir, argv_dir) = (dir.join("env"), dir.join("argv"));
    std::fs::create_dir_all(&env_dir).unwrap();
    std::fs::create_dir_all(&argv_dir).unwrap();
    let o = sysgen_cmd(&dir)
        .args(["build", "--for", "miri", "-o", "out", "--rust-src"])
        .arg(mock_dir().join("library"))
        .arg("--vendor")
        .arg(mock_dir().join("vendor"))
        .arg("--rustc")
        .arg(&rustc)
        .env("FAKE_RUSTC_ENV", &env_dir)
        .env("FAKE_RUSTC_ARGV", &argv_dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.trim_end().lines().last().unwrap().contains(&format!(
            "MIRI_SYSROOT={} cargo miri run",
            dir.join("out/sysroot").display()
        )),
        "the last line says how Miri takes it: {err}"
    );

    // Miri's driver, beside rustc, compiles every crate: a sysroot crate
    // as Miri's target, a build script as plain rustc.
    let ninja = std::fs::read_to_string(dir.join("out/build.ninja")).unwrap();
    assert!(ninja.contains(&rustc.with_file_name("miri").display().to_string()));
    let env = files(&env_dir);
    for krate in ["core", "alloc", "std", "panic_abort", "hashmapx"] {
        assert!(
            env[krate].lines().any(|l| l == "MIRI_BE_RUSTC=target"),
            "{krate}"
        );
    }
    assert!(
        env["build_script_build"]
            .lines()
            .any(|l| l == "MIRI_BE_RUSTC=host")
    );

    // cargo-miri's setup flags for the sysroot's crates, not for build scripts.
    let argv: Vec<Vec<String>> = files(&argv_dir)
        .into_values()
        .map(|t| t.split('\0').map(str::to_string).collect())
        .collect();
    let of = |name: &str| {
        argv.iter()
            .find(|a| a.windows(2).any(|w| w[0] == "--crate-name" && w[1] == name))
            .unwrap_or_else(|| panic!("{name} compiled"))
    };
    for flag in ["-Cdebug-assertions=off", "-Coverflow-checks=on"] {
        assert!(of("core").iter().any(|a| a == flag), "{flag}");
        assert!(
            !of("build_script_build").iter().any(|a| a == flag),
            "{flag}"
        );
    }

    // A build script that runs $RUSTC runs the driver as the target's
    // compiler, and sees the driver's cfgs (`cfg(miri)`), as under cargo-miri.
    let run = std::fs::read_dir(dir.join("out/build/x86_64-unknown-linux-gnu"))
        .unwrap()
        .map(|e| e.unwrap().path().join("run.json"))
        .find(|p| p.is_file() && p.parent().unwrap().to_string_lossy().contains("/std-"))
        .expect("std's build script runs");
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run).unwrap()).unwrap();
    let run_env = &spec["env"];
    assert_eq!(run_env["MIRI_BE_RUSTC"], "target");
    assert_eq!(
        run_env["RUSTC"],
        rustc.with_file_name("miri").display().to_string()
    );
    assert!(run_env.get("CARGO_CFG_MIRI").is_some());

    // Regeneration builds for Miri again.
    assert!(ninja.contains("--for=miri"));
}

/// The model of the mock std for the host, compiled by `rustc`.
fn model_with(rustc: Rustc) -> (sysgen::model::Model, Rustc, Profiles) {
    let m = mock_dir();
    let src = sysgen::library::layout::StdSource::at(&m.join("library")).unwrap();
    let ws = Workspace::load(&src, RegistrySources::Vendor(m.join("vendor"))).unwrap();
    let g = BuildGraph::build(
        ws,
        rustc.clone(),
        vec![linux()],
        linux(),
        &Rules::load().unwrap(),
        &request(Some(&["std"]), None),
    )
    .unwrap();
    let profile = Profiles::new(&g.ws.profiles, "release", PanicStrategy::Unwind).unwrap();
    let model = sysgen::model::build(&g, &Rules::load().unwrap(), &model_options(&g)).unwrap();
    (model, rustc, profile)
}

fn miri(version: &str) -> Rustc {
    Rustc {
        driver: Some(Driver {
            name: "miri".into(),
            path: PathBuf::from("/opt/rust/bin/miri"),
            version: version.into(),
            probe_env: vec![],
        }),
        ..fake_rustc()
    }
}

#[test]
fn a_miri_sysroot_is_never_a_rustc_sysroot_nor_another_miris() {
    let key = |rustc: Rustc| {
        let (m, rustc, profile) = model_with(rustc);
        let core = m
            .units
            .iter()
            .find(|u| u.krate().is_some_and(|c| c.crate_name == "core"))
            .unwrap()
            .hash
            .clone();
        let family = sysgen::store::key::Family::of(&m, &rustc, &profile, false).unwrap();
        (m.rustc, core, family.key)
    };
    let plain = key(fake_rustc());
    let for_miri = key(miri("miri 0.1.0 (aaaa 2026-10-28)"));
    let newer_miri = key(miri("miri 0.1.0 (bbbb 2026-11-02)"));
    assert_eq!(plain.0, PathBuf::from("/opt/rust/bin/rustc"));
    assert_eq!(for_miri.0, PathBuf::from("/opt/rust/bin/miri"));
    // Another identity for every crate (its -C metadata), and another entry
    // of the store: neither is ever handed to the other's compiler.
    assert_ne!(plain.1, for_miri.1);
    assert_ne!(plain.2, for_miri.2);
    assert_ne!(for_miri.1, newer_miri.1);
    assert_ne!(for_miri.2, newer_miri.2);
}

#[test]
fn a_toolchain_without_miri_gets_the_rustup_command_that_installs_it() {
    let rustc = fake_compiler("1.95.0");
    let dir = tempdir();
    let o = sysgen_cmd(&dir)
        .args(["ninja", "--for", "miri", "-o", "out", "--rustc"])
        .arg(&rustc)
        .output()
        .unwrap();
    let e = one_line_error(&o);
    assert!(
        e.contains("rustup component add miri --toolchain toolchain"),
        "{e}"
    );
    assert!(!dir.join("out").exists(), "nothing written");
    let o = sysgen_cmd(&dir)
        .args(["ninja", "--for", "mir", "-o", "out"])
        .output()
        .unwrap();
    assert!(
        one_line_error(&o).contains("--for takes one of: miri"),
        "a tool sysgen does not know is named with those it knows"
    );
}

#[test]
fn emitters_whose_builds_do_not_run_the_driver_refuse_it() {
    let rustc = toolchain_with_miri();
    let dir = tempdir();
    for emitter in ["make", "bazel", "buck2"] {
        let o = sysgen_cmd(&dir)
            .args([emitter, "--for", "miri", "-o", "out", "--rustc"])
            .arg(&rustc)
            .args(["--rust-src"])
            .arg(mock_dir().join("library"))
            .output()
            .unwrap();
        let e = one_line_error(&o);
        assert!(e.contains("sysgen ninja --for miri"), "{emitter}: {e}");
        assert!(!dir.join("out").exists(), "{emitter}: nothing written");
    }
}

#[test]
fn sysgen_cargo_miri_hands_cargo_miri_the_stored_sysroot_built_once() {
    let rustc = toolchain_with_miri();
    let bin = rustc.parent().unwrap().to_path_buf();
    let project = project(&[
        (
            "Cargo.toml",
            "[package]\nname = \"p\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("src/main.rs", "fn main() {}\n"),
    ]);
    let store = project.join("store");
    let run = |args: &[&str]| {
        let o = sysgen_cargo(&project, &store, &mock_dir().join("library"))
            .env("RUSTC", &rustc)
            .env("CARGO", bin.join("cargo"))
            .env("FAKE_RUSTC_LOG", store.join("rustc.log"))
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o
    };
    let log = || -> std::collections::BTreeMap<String, String> {
        std::fs::read_to_string(project.join("cargo.log"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let compiled = || {
        std::fs::read_to_string(store.join("rustc.log"))
            .unwrap_or_default()
            .lines()
            .count()
    };

    let o = run(&["miri", "test", "--", "--nocapture"]);
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("built miri sysroot for x86_64-unknown-linux-gnu")
    );
    let first = log();
    // cargo-miri, run as cargo runs a subcommand, with the store's sysroot.
    assert_eq!(first["args"], "miri test -- --nocapture");
    assert_eq!(first["CARGO"], bin.join("cargo").display().to_string());
    let sysroot = PathBuf::from(&first["MIRI_SYSROOT"]);
    assert!(sysroot.starts_with(&store), "{}", sysroot.display());
    let lib = sysroot.join("lib/rustlib/x86_64-unknown-linux-gnu/lib");
    for krate in ["libstd.rlib", "libtest.rlib", "libpanic_unwind.rlib"] {
        assert!(
            lib.join(krate).is_file(),
            "{krate}: the harness and the unwinder"
        );
    }
    // cargo fingerprints the sysroot through the target crates' flags.
    assert!(first["CARGO_ENCODED_RUSTFLAGS"].starts_with("-Cmetadata=sysgen-sysroot-"));

    // `run` takes the same sysroot: nothing is compiled again.
    let before = compiled();
    let o = run(&["miri", "run"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("reusing miri sysroot"));
    assert_eq!(compiled(), before);
    assert_eq!(log()["MIRI_SYSROOT"], sysroot.display().to_string());

    // `setup` only makes sure of it; `--print-sysroot` prints just its path.
    std::fs::remove_file(project.join("cargo.log")).unwrap();
    let o = run(&["miri", "setup", "--print-sysroot"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim_end(),
        sysroot.display().to_string()
    );
    assert!(
        !project.join("cargo.log").exists(),
        "cargo-miri's own setup never runs"
    );

    // Installed as `xargo`, with `miri` after it: the same.
    let xargo = project.join("xargo");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_sysgen"), &xargo).unwrap();
    let c = sysgen_cargo(&project, &store, &mock_dir().join("library"));
    let o = c
        .get_envs()
        .fold(std::process::Command::new(&xargo), |mut x, (k, v)| {
            match v {
                Some(v) => x.env(k, v),
                None => x.env_remove(k),
            };
            x
        })
        .current_dir(&project)
        .env("RUSTC", &rustc)
        .args(["miri", "setup", "--print-sysroot"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim_end(),
        sysroot.display().to_string()
    );

    let o = std::process::Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .env("SYSGEN_CACHE_DIR", &store)
        .args(["cache", "list"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("x86_64-unknown-linux-gnu (for miri)"));
}
