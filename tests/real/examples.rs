//! Every directory of `examples/` builds: the test copies it, runs its
//! `setup.sh` if it has one, and runs the `sysgen …` command its README
//! shows, exactly as written. Then a check per example that the sysroot is
//! the one its README promises. Needs rust-src and the fetched sources.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::copy_dir;

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Copy examples/NAME, set it up, run its README's command; the copy.
fn build_example(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("example-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&examples_dir().join(name), &dir);
    let _ = std::fs::remove_dir_all(dir.join("out"));
    if dir.join("setup.sh").exists() {
        let st = Command::new("sh")
            .arg("setup.sh")
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(st.success(), "{name}: setup.sh failed");
    }
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let line = readme
        .lines()
        .find_map(|l| l.strip_prefix("    sysgen "))
        .unwrap_or_else(|| panic!("{name}: README shows no `    sysgen …` command"));
    let out = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .args(line.split_whitespace())
        .current_dir(&dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: `sysgen {line}` failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn libs(dir: &Path, target: &str) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir.join("out/sysroot/lib/rustlib").join(target).join("lib"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
    v.sort();
    v
}

fn build_ninja(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("out/build.ninja")).unwrap()
}

#[test]
fn every_example_has_a_test() {
    let mut names: Vec<String> = std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let this = std::fs::read_to_string(file!()).unwrap();
    // The Linux kernel's recipe is not a sysgen command, and Miri's runs
    // programs: their own tests build and run them.
    let own: Vec<String> = ["kernel.rs", "miri.rs"]
        .iter()
        .map(|f| std::fs::read_to_string(Path::new(file!()).with_file_name(f)).unwrap())
        .collect();
    for n in names {
        assert!(
            this.contains(&format!("build_example(\"{n}\")"))
                || own.iter().any(|t| t.contains(&format!("\"examples/{n}\""))),
            "examples/{n} is not built by tests/real/examples.rs, kernel.rs or miri.rs"
        );
    }
}

#[test]
fn thumbv6m_core() {
    let d = build_example("thumbv6m-core");
    let l = libs(&d, "thumbv6m-none-eabi");
    assert_eq!(l, ["libcompiler_builtins.rlib", "libcore.rlib"]);
}

#[test]
fn alloc_no_std() {
    let d = build_example("alloc-no-std");
    let l = libs(&d, "riscv64imac-unknown-none-elf");
    assert!(l.contains(&"liballoc.rlib".to_string()), "{l:?}");
    assert!(
        build_ninja(&d).contains("feature=\"mem\""),
        "compiler_builtins provides memcpy on a target without libc"
    );
}

#[test]
fn i686_std_panic_abort() {
    let d = build_example("i686-std-panic-abort");
    let l = libs(&d, "i686-unknown-linux-gnu");
    assert!(
        l.contains(&"libstd.rlib".to_string()) && l.contains(&"libpanic_abort.rlib".to_string()),
        "{l:?}"
    );
    let n = build_ninja(&d);
    let std_cmd = n
        .lines()
        .find(|l| l.contains("--crate-name std ") && l.contains("pipe-begin"))
        .unwrap();
    assert!(std_cmd.contains("-C panic=abort"), "{std_cmd}");
    assert!(
        std_cmd.contains("-C opt-level=s"),
        "the project's profile: {std_cmd}"
    );
    assert!(
        std_cmd.contains("feature=\"optimize_for_size\""),
        "{std_cmd}"
    );
}

#[test]
fn custom_target() {
    let d = build_example("custom-target");
    let l = libs(&d, "x86_64-sysgen-linux-gnu");
    assert!(l.contains(&"libstd.rlib".to_string()), "{l:?}");
    // A program for the custom target runs here.
    let exe = d.join("hello");
    let st = Command::new("rustc")
        .arg("--sysroot")
        .arg(d.join("out/sysroot"))
        .arg("--target")
        .arg(d.join("x86_64-sysgen-linux-gnu.json"))
        .args(["-Zunstable-options", "-O", "-o"])
        .arg(&exe)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/hello.rs"))
        .env("RUSTC_BOOTSTRAP", "1")
        .status()
        .unwrap();
    assert!(st.success());
    let out = Command::new(&exe).output().unwrap();
    assert!(out.status.success());
    assert!(!out.stdout.is_empty());
}

#[test]
fn two_stage_test() {
    let d = build_example("two-stage-test");
    let host = String::from_utf8(Command::new("rustc").arg("-vV").output().unwrap().stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .unwrap();
    let l = libs(&d, &host);
    assert!(l.contains(&"libtest.rlib".to_string()), "{l:?}");
    assert_eq!(
        l.iter().filter(|f| f.starts_with("libstd.")).count(),
        1,
        "std is built once, in stage 0"
    );
    library_tests_pass_against(&d.join("out/sysroot"));
}

/// The standard library's own tests (`library/coretests`,
/// `library/alloctests`) compiled with `--test` against `sysroot` and run.
/// cargo only drives them here, as a user would with
/// `RUSTFLAGS=--sysroot=…`; every crate, test harness included, comes
/// from sysgen's sysroot.
fn library_tests_pass_against(sysroot: &Path) {
    let library = crate::support::rust_src_library();
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("library-tests");
    for (pkg, test) in [("coretests", "coretests"), ("alloctests", "alloctests")] {
        let out = Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
            .current_dir(&library)
            .env("RUSTC_BOOTSTRAP", "1")
            .env("RUSTFLAGS", format!("--sysroot={}", sysroot.display()))
            .env("CARGO_TARGET_DIR", &target_dir)
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .args([
                "test",
                "--release",
                "--offline",
                "--locked",
                "-p",
                pkg,
                "--test",
                test,
                "--",
                "-q",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{pkg} against sysgen's sysroot failed:\n{text}"
        );
        assert!(text.contains("test result: ok"), "{pkg}: {text}");
    }
}

#[test]
fn patch_libc() {
    let d = build_example("patch-libc");
    let n = build_ninja(&d);
    assert!(
        n.contains(&format!("{}/libc/src/lib.rs", d.display())),
        "libc is compiled from the local copy"
    );
}

#[test]
fn rust_for_linux_core() {
    let d = build_example("rust-for-linux-core");
    let l = libs(&d, "x86_64-unknown-none");
    assert!(l.contains(&"libcore.rlib".to_string()), "{l:?}");
    let n = build_ninja(&d);
    let core = n
        .lines()
        .find(|l| l.contains("--crate-name core ") && l.contains("pipe-begin"))
        .unwrap();
    for f in [
        "-Csymbol-mangling-version=v0",
        "-Crelocation-model=static",
        "no_fp_fmt_parse",
        "-C panic=abort",
    ] {
        assert!(core.contains(f), "{f}: {core}");
    }
}
