//! Real builds against rust-src: `sysgen ninja` + `ninja`, then programs
//! compiled against the sysroot and run (under qemu for other targets).
//! Needs rust-src, the fetched registry sources, ninja, qemu-user and
//! gcc-riscv64-linux-gnu — `.ci/run` installs them.

use std::path::{Path, PathBuf};

use crate::support::{copy_dir, executable, planned_work};
use std::process::Command;

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn sysgen(args: &[&str], out: &Path) {
    run(Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .arg("ninja")
        .args(args)
        .arg("-o")
        .arg(out));
}

fn ninja(dir: &Path, extra: &[&str]) -> String {
    run(Command::new("ninja").arg("-C").arg(dir).args(extra))
}

fn rustc_sysroot() -> PathBuf {
    let out = run(Command::new("rustc").args(["--print", "sysroot"]));
    PathBuf::from(out.trim())
}

fn program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/programs")
        .join(name)
}

fn compile(out: &Path, target: &str, src: &str, extra: &[&str]) -> PathBuf {
    let exe = out.join(src.trim_end_matches(".rs"));
    run(Command::new("rustc")
        .arg("--sysroot")
        .arg(out.join("sysroot"))
        .args(["--target", target, "-O"])
        .args(extra)
        .arg(program(src))
        .arg("-o")
        .arg(&exe));
    exe
}

/// Host std from a copy of rust-src and into an output directory whose paths
/// hold a space and a `$`: the program runs, a second ninja does nothing,
/// and touching alloc rebuilds alloc and its dependents but not core.
#[test]
fn host_std_builds_runs_and_rebuilds_exactly_what_changed() {
    let base = tmp("e2e-host");
    let src = base.join("rust src $HOME").join("library");
    copy_dir(&rustc_sysroot().join("lib/rustlib/src/rust/library"), &src);
    let out = base.join("out dir $x");
    sysgen(
        &[
            "--rust-src",
            src.to_str().unwrap(),
            "--crates",
            "std,panic_abort",
        ],
        &out,
    );
    ninja(&out, &[]);
    let exe = compile(&out, "x86_64-unknown-linux-gnu", "host_std.rs", &["-g"]);
    let printed = run(&mut Command::new(&exe));
    assert_eq!(
        printed,
        "sum of squares: 14\ncaught panic: true\nbacktrace names main: true\n"
    );

    // The first no-op regenerates build.ninja with the variables a build
    // script said it reads (libc's `rerun-if-env-changed`); from then on
    // a no-op checks them and does nothing else. (Real runs: a dry run
    // cannot know that the check finds nothing, so `ninja -n` lists what
    // depends on those variables.)
    ninja(&out, &[]);
    let again = ninja(&out, &[]);
    assert!(
        planned_work(&again).is_empty(),
        "second ninja must be a no-op: {again}"
    );

    let lib = src.join("alloc/src/lib.rs");
    let f = std::fs::File::options().append(true).open(&lib).unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
    let ran = ninja(&out, &[]);
    assert!(ran.contains("RUSTC alloc "), "{ran}");
    assert!(ran.contains("RUSTC std "), "{ran}");
    assert!(
        !ran.contains("RUSTC core "),
        "core does not depend on alloc:\n{ran}"
    );
    assert!(
        !ran.contains("build script"),
        "no build script depends on alloc:\n{ran}"
    );
}

#[test]
fn thumbv6m_core_alloc_program_runs_under_qemu() {
    let out = tmp("e2e-thumbv6m");
    sysgen(
        &["--target", "thumbv6m-none-eabi", "--crates", "core,alloc"],
        &out,
    );
    ninja(&out, &[]);
    let exe = compile(
        &out,
        "thumbv6m-none-eabi",
        "bare_arm.rs",
        &["-Cpanic=abort"],
    );
    assert_eq!(run(Command::new("qemu-arm").arg(exe)), "no_std sum: 55\n");
}

#[test]
fn riscv64_none_core_alloc_program_runs_under_qemu() {
    let out = tmp("e2e-rv64-none");
    sysgen(
        &[
            "--target",
            "riscv64gc-unknown-none-elf",
            "--crates",
            "core,alloc",
        ],
        &out,
    );
    ninja(&out, &[]);
    let exe = compile(
        &out,
        "riscv64gc-unknown-none-elf",
        "bare_riscv.rs",
        &["-Cpanic=abort"],
    );
    assert_eq!(
        run(Command::new("qemu-riscv64").arg(exe)),
        "no_std sum: 55\n"
    );
}

#[test]
fn riscv64_linux_std_hello_runs_under_qemu() {
    let out = tmp("e2e-rv64-linux");
    sysgen(&["--target", "riscv64gc-unknown-linux-gnu"], &out);
    ninja(&out, &[]);
    let exe = compile(
        &out,
        "riscv64gc-unknown-linux-gnu",
        "hello.rs",
        &["-Clinker=riscv64-linux-gnu-gcc"],
    );
    let printed = run(Command::new("qemu-riscv64")
        .args(["-L", "/usr/riscv64-linux-gnu"])
        .arg(exe));
    assert_eq!(printed, "hello from riscv64\n");
}

/// A target-spec JSON: a built-in spec copied under another name builds core.
#[test]
fn custom_target_json_builds_core() {
    let dir = tmp("e2e-custom");
    let spec = run(Command::new("rustc").env("RUSTC_BOOTSTRAP", "1").args([
        "-Zunstable-options",
        "--print",
        "target-spec-json",
        "--target",
        "riscv64gc-unknown-none-elf",
    ]));
    let mut v: serde_json::Value = serde_json::from_str(&spec).unwrap();
    v.as_object_mut().unwrap().remove("is-builtin");
    let file = dir.join("my-rv64.json");
    std::fs::write(&file, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let out = dir.join("out");
    sysgen(
        &["--target", file.to_str().unwrap(), "--crates", "core"],
        &out,
    );
    ninja(&out, &[]);
    for lib in ["libcore.rlib", "libcompiler_builtins.rlib"] {
        assert!(
            out.join("sysroot/lib/rustlib/my-rv64/lib")
                .join(lib)
                .is_file(),
            "{lib} missing"
        );
    }
}

/// musl: std builds and a static hello, linked by zig's cc (which brings
/// musl's C runtime and libunwind), runs under qemu.
#[test]
fn riscv64_musl_std_static_hello_runs_under_qemu() {
    let out = tmp("e2e-rv64-musl");
    sysgen(&["--target", "riscv64gc-unknown-linux-musl"], &out);
    ninja(&out, &[]);
    let linker = out.join("zig-cc");
    executable(
        &linker,
        "#!/bin/bash\nargs=()\nfor a in \"$@\"; do case \"$a\" in -lgcc_s) args+=(-lunwind);; *) args+=(\"$a\");; esac; done\n\
         exec python3 -m ziglang cc -target riscv64-linux-musl \"${args[@]}\"\n",
    );
    let exe = compile(
        &out,
        "riscv64gc-unknown-linux-musl",
        "hello.rs",
        &[
            &format!("-Clinker={}", linker.display()),
            "-Ctarget-feature=+crt-static",
            "-Clink-self-contained=no",
        ],
    );
    assert_eq!(
        run(Command::new("qemu-riscv64").arg(exe)),
        "hello from riscv64\n"
    );
}

/// A two-stage thumbv6m sysroot from a sysgen.toml: changing the features
/// of a stage-1 crate reruns only stage 1; changing the project's
/// `[profile.release]` or RUSTFLAGS rebuilds everything.
#[test]
fn stages_rebuild_only_what_a_config_change_touches() {
    let p = tmp("e2e-stages");
    let write = |f: &str, text: &str| {
        let path = p.join(f);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let config = |feature: &str| {
        format!(
            "[dependencies]\ncore = {{}}\ntiny = {{ path = \"tiny\", stage = 1, features = [\"{feature}\"] }}\n\n[sysgen]\ntargets = [\"thumbv6m-none-eabi\"]\n"
        )
    };
    let profile = |opt: &str| {
        format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[profile.release]\nopt-level = {opt}\n"
        )
    };
    write("sysgen.toml", &config("a"));
    write("Cargo.toml", &profile("3"));
    write(
        "tiny/Cargo.toml",
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[features]\na = []\nb = []\n",
    );
    write(
        "tiny/src/lib.rs",
        "#![no_std]\n#[cfg(feature = \"a\")]\npub fn a() -> u32 { 1 }\n#[cfg(feature = \"b\")]\npub fn b() -> u32 { core::hint::black_box(2) }\n",
    );
    let out = p.join("out");
    let generate = |envs: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sysgen"));
        c.current_dir(&p)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .args(["ninja", "-o"])
            .arg(&out);
        for (k, v) in envs {
            c.env(k, v);
        }
        run(&mut c);
    };
    let planned = || -> Vec<String> { planned_work(&ninja(&out, &["-n"])) };
    generate(&[]);
    ninja(&out, &[]);
    let lib = out.join("sysroot/lib/rustlib/thumbv6m-none-eabi/lib");
    assert!(lib.join("libtiny.rlib").is_file() && lib.join("libcore.rlib").is_file());

    write("sysgen.toml", &config("b"));
    generate(&[]);
    let edges = planned();
    assert!(!edges.is_empty(), "the feature change rebuilds tiny");
    assert!(
        edges.iter().all(|l| l.contains(" tiny ")),
        "only stage-1 edges: {edges:#?}"
    );
    ninja(&out, &[]);

    write("Cargo.toml", &profile("\"s\""));
    generate(&[]);
    let edges = planned();
    for krate in [" core ", " compiler_builtins ", " tiny "] {
        assert!(
            edges.iter().any(|l| l.contains(krate)),
            "opt-level rebuilds{krate}: {edges:#?}"
        );
    }
    write("Cargo.toml", &profile("3"));
    generate(&[("RUSTFLAGS", "-Cforce-frame-pointers=yes")]);
    let edges = planned();
    for krate in [" core ", " compiler_builtins ", " tiny "] {
        assert!(
            edges.iter().any(|l| l.contains(krate)),
            "RUSTFLAGS rebuilds{krate}: {edges:#?}"
        );
    }
}
