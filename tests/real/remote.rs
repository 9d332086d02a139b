//! Sysroots across machines through a real remote cache (nginx, WebDAV):
//! a second "machine" — its own store, rust-src and the registry sources
//! copied to other paths — runs `sysgen cargo` for Cortex-M0 core,alloc and
//! for host std with no rustc run for the sysroot.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cache_server::Nginx;
use crate::support::*;

/// A RUSTC_WRAPPER that logs every rustc command line, then runs it.
fn logging_wrapper(dir: &Path) -> PathBuf {
    let shim = dir.join("log-rustc");
    executable(
        &shim,
        &format!(
            "#!/bin/sh\necho \"$*\" >> {}\nexec \"$@\"\n",
            dir.join("rustc.log").display()
        ),
    );
    shim
}

struct Machine {
    store: PathBuf,
    env: Vec<(String, PathBuf)>,
    bin: PathBuf,
}

impl Machine {
    fn sysgen_cargo(&self, project: &Path, cache: &str, args: &[&str]) -> (String, String) {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sysgen"));
        c.current_dir(project)
            .env("SYSGEN_CACHE_DIR", &self.store)
            .env("SYSGEN_REMOTE_CACHE", cache)
            .env("RUSTC_WRAPPER", logging_wrapper(&self.bin))
            .env("XDG_CONFIG_HOME", self.store.join("no-config"))
            .env_remove("SYSGEN_REMOTE_CACHE_UPLOAD")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("CARGO_TARGET_DIR")
            .arg("cargo")
            .args(args);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "sysgen cargo {args:?}:\n{err}");
        (String::from_utf8_lossy(&o.stdout).into_owned(), err)
    }

    /// The standard library's compiles this machine's rustc ran (only
    /// they get `-Zforce-unstable-if-unmarked`).
    fn sysroot_compiles(&self) -> Vec<String> {
        std::fs::read_to_string(self.bin.join("rustc.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("-Zforce-unstable-if-unmarked"))
            .map(str::to_string)
            .collect()
    }
}

fn projects() -> [(PathBuf, Vec<&'static str>, &'static str); 2] {
    let no_std = project(&[
        ("Xargo.toml", "[dependencies.alloc]\n"),
        (
            "src/lib.rs",
            "#![no_std]\nextern crate alloc;\npub fn v() -> alloc::vec::Vec<u8> { alloc::vec![1] }\n",
        ),
    ]);
    let host = project(&[(
        "src/main.rs",
        "fn main() {\n    let v: Vec<u32> = (1..=4).collect();\n    println!(\"sum: {}\", v.iter().sum::<u32>());\n}\n",
    )]);
    [
        (
            no_std,
            vec!["build", "--target", "thumbv6m-none-eabi"],
            "thumbv6m-none-eabi (alloc, compiler_builtins, core)",
        ),
        (
            host,
            vec!["run", "--target", "x86_64-unknown-linux-gnu"],
            "x86_64-unknown-linux-gnu",
        ),
    ]
}

#[test]
fn a_fresh_machine_gets_cortex_m0_and_host_std_sysroots_without_running_rustc_for_them() {
    let nginx = Nginx::start(&tempdir());
    // The first machine: rust-src where rustup keeps it, the Cargo home's
    // registry sources.
    let one = Machine {
        store: tempdir(),
        env: vec![],
        bin: tempdir(),
    };
    for (p, args, what) in projects() {
        let (_, err) = one.sysgen_cargo(&p, &nginx.url(), &args);
        assert!(err.contains(&format!("built sysroot for {what}")), "{err}");
        assert!(err.contains("uploaded the sysroot"), "{err}");
        assert!(!err.contains("warning: remote"), "{err}");
    }
    assert!(!one.sysroot_compiles().is_empty());

    // The second: rust-src and `sysgen fetch --vendor` at other paths.
    let root = tempdir();
    let (library, vendor) = relocated_sources(&root);
    let two = Machine {
        store: root.join("store"),
        env: vec![
            ("SYSGEN_RUST_SRC".into(), library),
            ("SYSGEN_VENDOR".into(), vendor),
        ],
        bin: root.join("bin"),
    };
    std::fs::create_dir_all(&two.bin).unwrap();
    for (p, args, what) in projects() {
        let (out, err) = two.sysgen_cargo(&p, &nginx.url(), &args);
        assert!(
            err.contains(&format!(
                "downloaded from {} the sysroot for {what}",
                nginx.url()
            )),
            "{err}"
        );
        if args[0] == "run" {
            assert_eq!(out, "sum: 10\n", "{err}");
        }
    }
    assert_eq!(
        two.sysroot_compiles(),
        Vec::<String>::new(),
        "rustc ran for the sysroot"
    );
    assert!(
        !two.store.join("sysroots/build").exists(),
        "no sysroot build"
    );
}
