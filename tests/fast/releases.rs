//! Every release sysgen's users run: the layouts rust-src had
//! (rules/layouts.toml), crates that were registry packages in one release
//! and path crates in another, and what each release's cargo passed
//! (rules/rustc.toml's release ranges). On the mock library and stand-in
//! compilers that report the release under test; tests/real/toolchains.rs
//! checks the same against each real toolchain and its cargo.

use std::path::{Path, PathBuf};

use crate::support::*;

fn compiler(release: &str) -> PathBuf {
    fake_compiler(release)
}

/// The mock library laid out as rust-src was before the library became a
/// workspace of its own (Rust 1.71 to 1.81): the compiler's lockfile at
/// rust-src's root, no `library/Cargo.toml`.
fn inside_the_compilers_workspace(root: &Path) -> PathBuf {
    let lib = root.join("rust/library");
    copy_dir(&mock_dir().join("library"), &lib);
    std::fs::rename(lib.join("Cargo.lock"), root.join("rust/Cargo.lock")).unwrap();
    std::fs::remove_file(lib.join("Cargo.toml")).unwrap();
    lib
}

fn sysgen_with(t: &Path, rustc: &Path, library: &Path, args: &[&str]) -> std::process::Output {
    sysgen_cmd(t)
        .args(args)
        .arg("--rustc")
        .arg(rustc)
        .arg("--rust-src")
        .arg(library)
        .arg("--vendor")
        .arg(mock_dir().join("vendor"))
        .output()
        .unwrap()
}

fn json(o: &std::process::Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// (crate, features) of every target library unit of `graph --format json`.
fn libs(v: &serde_json::Value) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = v["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["kind"] == "lib" && u["host"] == false)
        .map(|u| {
            let f = u["features"].as_array().unwrap();
            (
                u["crate"].as_str().unwrap().to_string(),
                f.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Every rustc argument the model gives `krate` (`graph --format crates`).
fn flags_of(v: &serde_json::Value, krate: &str) -> Vec<String> {
    let u = v["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["body"]["crate_name"] == krate && u["target"].is_number())
        .unwrap_or_else(|| panic!("no target unit of {krate}"));
    u["body"]["flags"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["args"].as_array().unwrap().iter())
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_library_inside_the_compilers_workspace_resolves_as_that_releases_cargo_made_it_up() {
    let t = tempdir();
    let old = inside_the_compilers_workspace(&t);
    let rustc = compiler("1.78.0");
    let args = [
        "graph",
        "--no-config",
        "--target",
        "x86_64-unknown-linux-gnu",
        "--crates",
        "std,panic_abort",
        "--format",
        "json",
    ];
    let before = libs(&json(&sysgen_with(&t, &rustc, &old, &args)));
    let after = libs(&json(&sysgen_with(
        &t,
        &rustc,
        &mock_dir().join("library"),
        &args,
    )));
    // The same crates and versions from the lockfile at rust-src's root and
    // the `[patch]` cargo added itself (rustc-std-workspace-core).
    assert_eq!(before, after);
    assert!(before.iter().any(|(c, _)| c == "rustc-std-workspace-core"));
    // cargo made `sysroot` the current package: command-line features
    // reach the other crates only through it. std defines
    // optimize_for_size, sysroot does not: the layout with a workspace
    // manifest takes it, the older one refuses it as cargo did.
    let mut with = args.to_vec();
    with.extend(["--features", "optimize_for_size"]);
    let new = json(&sysgen_with(&t, &rustc, &mock_dir().join("library"), &with));
    assert!(
        libs(&new)
            .iter()
            .any(|(c, f)| c == "std" && f.contains(&"optimize_for_size".to_string()))
    );
    let e = one_line_error(&sysgen_with(&t, &rustc, &old, &with));
    assert!(
        e.contains("unknown feature `optimize_for_size`") && e.contains("sysroot"),
        "{e}"
    );
    // The generated build reads the lockfile where it is: an input of the
    // regeneration.
    let out = t.join("out");
    let o = sysgen_with(
        &t,
        &rustc,
        &old,
        &[
            "ninja",
            "--no-config",
            "--crates",
            "core",
            "--target",
            "thumbv6m-none-eabi",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ninja = std::fs::read_to_string(out.join("build.ninja")).unwrap();
    assert!(ninja.contains(&format!("{}/rust/Cargo.lock", t.display())));
}

#[test]
fn rust_src_older_than_any_layout_is_one_line_naming_its_release_and_the_oldest_supported() {
    // Rust 1.70's layout: `test` was the root, there was no `sysroot` crate.
    let lib = toolchain_with_rust_src("1.70.0 (90c541806 2023-05-31)");
    let rust = lib.parent().unwrap();
    std::fs::rename(lib.join("Cargo.lock"), rust.join("Cargo.lock")).unwrap();
    std::fs::remove_file(lib.join("Cargo.toml")).unwrap();
    std::fs::remove_dir_all(lib.join("sysroot")).unwrap();
    let t = tempdir();
    let e = one_line_error(&sysgen_with(&t, &compiler("1.70.0"), &lib, &["graph"]));
    assert!(
        e.contains("Rust 1.70.0")
            && e.contains("older than any sysgen reads")
            && e.contains("1.78.0"),
        "{e}"
    );
}

#[test]
fn rust_src_is_not_installed_only_when_it_is_not_there() {
    let rustc = compiler("1.78.0");
    let t = tempdir();
    let graph = |args: &[&str]| {
        sysgen_cmd(&t)
            .arg("graph")
            .args(args)
            .arg("--rustc")
            .arg(&rustc)
            .arg("--vendor")
            .arg(mock_dir().join("vendor"))
            .output()
            .unwrap()
    };
    let e = one_line_error(&graph(&["--no-config"]));
    assert!(e.contains("rust-src is not installed"), "{e}");
    // Installed in the layout of its release: found, no complaint.
    let toolchain = rustc.parent().unwrap().parent().unwrap();
    inside_the_compilers_workspace(&toolchain.join("lib/rustlib/src"));
    let o = graph(&[
        "--no-config",
        "--crates",
        "core",
        "--target",
        "thumbv6m-none-eabi",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // There, but in no layout sysgen knows: says so, not "not installed".
    std::fs::remove_file(toolchain.join("lib/rustlib/src/rust/Cargo.lock")).unwrap();
    let e = one_line_error(&graph(&["--no-config"]));
    assert!(
        !e.contains("not installed") && e.contains("no way sysgen knows"),
        "{e}"
    );
}

#[test]
fn a_requested_crate_may_be_a_registry_package_the_resolution_reaches() {
    // compiler_builtins came from crates.io until Rust 1.86; cargo finds
    // every requested crate in its resolve, path crate or not.
    let t = tempdir();
    let o = sysgen_fake(
        &t,
        &[
            "graph",
            "--no-config",
            "--target",
            "thumbv6m-none-eabi",
            "--crates",
            "core,libcx",
            "--format",
            "json",
        ],
    );
    let names: Vec<String> = libs(&json(&o)).into_iter().map(|(c, _)| c).collect();
    assert!(names.contains(&"libcx".to_string()), "{names:?}");
    let e = one_line_error(&sysgen_fake(
        &t,
        &["graph", "--no-config", "--crates", "core,nosuchcrate"],
    ));
    assert!(e.contains("unknown crate `nosuchcrate`"), "{e}");
}

#[test]
fn flags_follow_what_each_releases_cargo_passed() {
    // The mock alloc with the `[lints]` tables of today's nightly.
    let lib = tempdir().join("library");
    copy_dir(&mock_dir().join("library"), &lib);
    let manifest = lib.join("alloc/Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str(
        "\n[lints.rust.unexpected_cfgs]\nlevel = \"warn\"\ncheck-cfg = ['cfg(no_rc)']\n\n[lints.cargo]\nunused_dependencies = \"allow\"\n",
    );
    write(&manifest, &text);
    let flags = |release: &str| {
        let t = tempdir();
        let o = sysgen_with(
            &t,
            &compiler(release),
            &lib,
            &[
                "graph",
                "--no-config",
                "--crates",
                "alloc",
                "--target",
                "thumbv6m-none-eabi",
                "--format",
                "crates",
            ],
        );
        flags_of(&json(&o), "alloc").join(" ")
    };
    // 1.78: no --check-cfg at all, no implicit strip (cargo 0.79 stripped
    // only without --target).
    let f = flags("1.78.0");
    assert!(!f.contains("--check-cfg") && !f.contains("strip="), "{f}");
    assert!(f.contains("--warn=unexpected_cfgs"), "{f}");
    // 1.84: check-cfg with cfg(docsrs), the manifest's list, the strip.
    let f = flags("1.84.0");
    assert!(
        f.contains("--check-cfg cfg(docsrs) ") && f.contains("cfg(no_rc)"),
        "{f}"
    );
    assert!(f.contains("strip=debuginfo"), "{f}");
    // 1.95: cfg(docsrs,test).
    let f = flags("1.95.0");
    assert!(
        f.contains("--check-cfg cfg(docsrs,test)") && f.contains("cfg(no_rc)"),
        "{f}"
    );
    // 1.101 nightly: no [lints] for a crate whose lints are capped.
    let f = flags("1.101.0-nightly");
    assert!(f.contains("--check-cfg cfg(docsrs,test)"), "{f}");
    assert!(
        !f.contains("unexpected_cfgs") && !f.contains("no_rc"),
        "{f}"
    );
    // cargo's own lints never reach rustc, in any release.
    for r in ["1.78.0", "1.84.0", "1.95.0", "1.101.0-nightly"] {
        assert!(!flags(r).contains("cargo::"), "{r}");
    }
}

/// The compile of compiler_builtins, its build script printing `lines`,
/// under `emitter` with the stand-in compiler; the environment and the
/// arguments the compile got.
fn compile_after_script(emitter: &str, lines: &[&str]) -> (String, Vec<String>) {
    let t = tempdir();
    let lib = t.join("library");
    copy_dir(&mock_dir().join("library"), &lib);
    let mut script = String::new();
    for l in lines {
        script.push_str(&format!("//! fake-script: echo '{l}'\n"));
    }
    script.push_str("fn main() {}\n");
    write(&lib.join("compiler-builtins/build.rs"), &script);
    let out = t.join("out");
    let o = sysgen_cmd(&t)
        .args([
            emitter,
            "--no-config",
            "--crates",
            "core",
            "--target",
            "thumbv6m-none-eabi",
            "-o",
        ])
        .arg(&out)
        .args(mock_toolchain(&lib))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let envs = t.join("envs");
    let argvs = t.join("argv");
    std::fs::create_dir_all(&envs).unwrap();
    std::fs::create_dir_all(&argvs).unwrap();
    let mut c = match emitter {
        "ninja" => {
            let mut c = std::process::Command::new("ninja");
            c.arg("-C").arg(&out);
            c
        }
        _ => {
            let mut c = std::process::Command::new("make");
            c.arg("-C")
                .arg(&out)
                .env_remove("MAKEFLAGS")
                .env_remove("MFLAGS");
            c
        }
    };
    run_ok(
        c.env("FAKE_RUSTC_ENV", &envs)
            .env("FAKE_RUSTC_ARGV", &argvs),
    );
    let env = std::fs::read_to_string(envs.join("compiler_builtins")).unwrap();
    let argv = std::fs::read_dir(&argvs)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .find(|a| String::from_utf8_lossy(a).contains("compiler_builtins\0"))
        .expect("compiler_builtins was compiled");
    let mut args: Vec<String> = String::from_utf8(argv)
        .unwrap()
        .split_terminator('\0')
        .map(str::to_string)
        .collect();
    // The arguments rustc reads from `@args`, one a line, as it reads them.
    let mut expanded = Vec::new();
    for a in args.drain(..) {
        match a.strip_prefix('@') {
            Some(f) => {
                let text = std::fs::read_to_string(out.join(f)).unwrap();
                expanded.extend(text.split_terminator('\n').map(str::to_string));
            }
            None => expanded.push(a),
        }
    }
    (env, expanded)
}

#[test]
fn a_build_scripts_rustc_env_reaches_rustc_in_its_environment_under_every_emitter() {
    for emitter in ["ninja", "make"] {
        let (env, args) = compile_after_script(
            emitter,
            &[
                "cargo:rustc-env=STD_ENV_ARCH=thumb v6",
                "cargo::rustc-env=EMPTY=",
            ],
        );
        assert!(
            env.lines().any(|l| l == "STD_ENV_ARCH=thumb v6"),
            "{emitter}: {env}"
        );
        assert!(env.lines().any(|l| l == "EMPTY="), "{emitter}: {env}");
        // Never as an unstable flag a release may drop.
        assert!(
            !args.iter().any(|a| a.starts_with("--env-set")),
            "{emitter}: {args:?}"
        );
    }
}

#[test]
fn a_build_script_that_says_nothing_gives_rustc_no_empty_argument() {
    // The commonest build script: `rerun-if-changed` and nothing for rustc.
    for emitter in ["ninja", "make"] {
        let (_, args) = compile_after_script(emitter, &["cargo:rerun-if-changed=build.rs"]);
        assert!(!args.iter().any(String::is_empty), "{emitter}: {args:?}");
    }
}
