//! The real Linux kernel takes its Rust `core` from sysgen's Make fragment
//! (examples/linux-kernel): Debian's linux-source-6.12, patched, configured
//! by the example's script, built with `make LLVM=1 SYSGEN=…`, booted in
//! qemu-system-x86_64 with its Rust sample; then rebuilt as Kbuild users
//! expect. Needs what scripts/setup installs (the kernel source, LLVM,
//! libclang, bindgen, qemu-system-x86). The patched tree and its
//! configuration are kept in the target directory between runs; `make
//! clean` at the end leaves only those.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::run_ok;

const TARBALL: &str = "/usr/src/linux-source-6.12.tar.xz";
/// The stable the matrix develops on: 6.12.118 knows it.
const TOOLCHAIN: &str = "1.95.0";

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/linux-kernel")
}

/// The source, extracted and patched once for each version of the patch.
fn source_tree(patch: &Path) -> PathBuf {
    let digest = sysgen::base::fingerprint::sha256_hex(&std::fs::read(patch).unwrap());
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kernel");
    let src = base.join(format!("src-{}", &digest[..12]));
    if !src.is_dir() {
        let tmp = base.join("src.partial");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).unwrap();
        run_ok(
            Command::new("tar")
                .args(["-xJf", TARBALL, "--strip-components=1", "-C"])
                .arg(&tmp),
        );
        run_ok(
            Command::new("patch")
                .args(["-p1", "-i"])
                .arg(patch)
                .current_dir(&tmp),
        );
        std::fs::rename(&tmp, &src).unwrap();
    }
    src
}

struct Kernel {
    src: PathBuf,
    obj: PathBuf,
    rustc: PathBuf,
}

impl Kernel {
    /// `make` in the tree, for the object tree, with LLVM, the pinned
    /// compiler and sysgen; what it printed.
    fn make(&self, args: &[&str]) -> String {
        run_ok(
            Command::new("make")
                .arg("-C")
                .arg(&self.src)
                .arg(format!("O={}", self.obj.display()))
                .arg("LLVM=1")
                .arg(format!("RUSTC={}", self.rustc.display()))
                .arg(format!("SYSGEN={}", env!("CARGO_BIN_EXE_sysgen")))
                .args(args)
                .env_remove("RUSTFLAGS")
                .env_remove("MAKEFLAGS"),
        )
    }

    fn core(&self) -> PathBuf {
        self.obj.join("rust/core.o")
    }

    fn mtime(&self) -> std::time::SystemTime {
        std::fs::metadata(self.core()).unwrap().modified().unwrap()
    }
}

#[test]
fn linux_takes_core_from_sysgen_boots_its_rust_sample_and_rebuilds_as_kbuild_does() {
    let src = source_tree(&example().join("sysgen-core.patch"));
    let rustc = PathBuf::from(
        String::from_utf8(
            Command::new("rustup")
                .args(["which", "--toolchain", TOOLCHAIN, "rustc"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap()
        .trim(),
    );
    let k = Kernel {
        obj: src.with_file_name(format!(
            "{}-build",
            src.file_name().unwrap().to_string_lossy()
        )),
        src,
        rustc,
    };
    if !k.obj.join(".config").is_file() {
        std::fs::create_dir_all(&k.obj).unwrap();
        run_ok(
            Command::new(example().join("configure.sh"))
                .arg(&k.src)
                .arg(&k.obj)
                .arg(format!("RUSTC={}", k.rustc.display())),
        );
    }

    // A run that stopped half-way left objects: start from a clean tree.
    if k.core().exists() {
        k.make(&["clean"]);
    }

    // The build: core comes from the fragment, and Kbuild post-processes
    // the copy it takes.
    let out = k.make(&["-j2", "bzImage"]);
    assert!(out.contains("RUSTC   core 0.0.0 (target)"), "{out}");
    assert!(out.contains("SYSGEN  rust/core.o"), "{out}");
    let saved = std::fs::read_to_string(k.obj.join("rust/.core.o.cmd")).unwrap();
    assert!(
        saved.contains("rust/sysgen/build/target/obj/core.o")
            && saved.contains("--redefine-sym __udivti3=__rust__udivti3"),
        "{saved}"
    );

    // It boots, and the Rust sample's init runs.
    let boot = Command::new("timeout")
        .args(["300", "qemu-system-x86_64", "-accel", "tcg", "-m", "256M"])
        .args(["-nographic", "-no-reboot", "-kernel"])
        .arg(k.obj.join("arch/x86/boot/bzImage"))
        .args(["-append", "console=ttyS0 panic=-1"])
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&boot.stdout);
    assert!(
        console.contains("rust_minimal: Rust minimal sample (init)"),
        "{console}"
    );

    // A second make compiles nothing: neither sysgen's part nor Kbuild's.
    let before = k.mtime();
    let out = k.make(&["-j2", "bzImage"]);
    for busy in ["RUSTC", "SYSGEN", "GEN     sysgen", "  CC ", "  LD "] {
        assert!(!out.contains(busy), "{busy} in a second make:\n{out}");
    }
    assert_eq!(k.mtime(), before);

    // A changed kernel flag for core reaches the fragment, which rebuilds
    // core with it; Kbuild takes the new object.
    let out = k.make(&["-j2", "RUSTFLAGS_core.o=-Coverflow-checks=n", "rust/core.o"]);
    assert!(out.contains("RUSTC   core 0.0.0 (target)"), "{out}");
    assert!(out.contains("SYSGEN  rust/core.o"), "{out}");
    let cmd_file = k
        .obj
        .join("rust/sysgen/build/cmd/sysroot/lib/rustlib/target/lib/libcore.rlib.cmd");
    let saved = std::fs::read_to_string(&cmd_file).unwrap();
    assert!(saved.contains(" -Coverflow-checks=n "), "{saved}");

    // `make clean` removes sysgen's outputs with the kernel's.
    k.make(&["clean"]);
    assert!(!k.obj.join("rust/sysgen").exists());
    assert!(!k.core().exists());
}
