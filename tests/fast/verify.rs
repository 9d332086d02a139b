//! Supply chain: registry sources are checked against the lockfile before
//! sysgen reads them, and every sysroot says what went into it.
//!
//! With the mock library, its vendor directory (real `.cargo-checksum.json`
//! files, see `tests/mock/update-checksums.py`), a Cargo home made of real
//! `.crate` archives, and the stand-in compiler.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::*;

/// `sysgen ARGS` against `library` and the registry sources `registry`
/// (a vendor directory, or a Cargo home when `cargo_home`).
fn sysgen(cwd: &Path, library: &Path, registry: &Path, cargo_home: bool, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sysgen"));
    c.current_dir(cwd)
        .env("SYSGEN_CACHE_DIR", cwd.join(".cache"))
        .env("FAKE_RUSTC_LOG", cwd.join("rustc.log"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("SYSGEN_VENDOR")
        .args(args)
        .arg("--rustc")
        .arg(fake_rustc_path())
        .arg("--rust-src")
        .arg(library);
    if cargo_home {
        c.env("CARGO_HOME", registry);
    } else {
        c.arg("--vendor").arg(registry);
    }
    c.output().unwrap()
}

fn ok(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// A copy of the mock vendor directory.
fn vendor_copy() -> PathBuf {
    let v = tempdir().join("vendor");
    copy_dir(&mock_dir().join("vendor"), &v);
    v
}

/// Change one byte of `file`.
fn flip_a_byte(file: &Path) {
    let mut bytes = std::fs::read(file).unwrap();
    bytes[0] ^= 0x20;
    std::fs::write(file, bytes).unwrap();
}

fn sha256(bytes: &[u8]) -> String {
    sysgen::base::fingerprint::sha256_hex(bytes)
}

const LIBCX: &str = "libcx-0.1.2";

#[test]
fn an_untouched_vendor_directory_passes_and_the_sysroot_says_what_is_in_it() {
    let cwd = tempdir();
    let lib = mock_dir().join("library");
    ok(&sysgen(
        &cwd,
        &lib,
        &vendor_copy(),
        false,
        &["ninja", "-o", "out"],
    ));
    let manifest =
        cwd.join("out/sysroot/lib/rustlib/x86_64-unknown-linux-gnu/sysgen-manifest.json");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(m["target"], "x86_64-unknown-linux-gnu");
    assert_eq!(m["rustc"]["version"], "rustc 1.95.0 (fake)", "{m}");
    let krate = |name: &str| {
        m["crates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["package"] == name)
            .unwrap_or_else(|| panic!("{name} in {m}"))
            .clone()
    };
    let libcx = krate("libcx");
    // Vendored here, but recorded as its origin: a sysroot built from the
    // Cargo home on another machine carries the same manifest.
    assert_eq!(libcx["source"]["kind"], "registry");
    assert_eq!(
        libcx["checksum"],
        sha256(format!("mock {LIBCX}").as_bytes())
    );
    assert!(
        libcx["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "--crate-name")
    );
    let core = krate("core");
    assert_eq!(
        core["source"],
        serde_json::json!({"kind": "rust-src", "path": "core"})
    );
    assert_eq!(core["checksum"], serde_json::Value::Null);
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        !text.contains(cwd.to_str().unwrap()),
        "no output paths: {text}"
    );
}

#[test]
fn one_byte_changed_in_a_vendored_crate_is_refused_and_nothing_is_written() {
    let cwd = tempdir();
    let vendor = vendor_copy();
    flip_a_byte(&vendor.join(LIBCX).join("src/lib.rs"));
    let o = sysgen(
        &cwd,
        &mock_dir().join("library"),
        &vendor,
        false,
        &["ninja", "-o", "out"],
    );
    let e = one_line_error(&o);
    assert!(
        e.contains("`libcx 0.1.2`")
            && e.contains("src/lib.rs")
            && e.contains("sysgen fetch --vendor"),
        "{e}"
    );
    assert!(!cwd.join("out").exists());
}

#[test]
fn a_checksum_file_edited_to_match_the_change_but_not_the_lockfile_is_refused() {
    let cwd = tempdir();
    let vendor = vendor_copy();
    let dir = vendor.join(LIBCX);
    let src = dir.join("src/lib.rs");
    flip_a_byte(&src);
    let refused = || {
        one_line_error(&sysgen(
            &cwd,
            &mock_dir().join("library"),
            &vendor,
            false,
            &["ninja", "-o", "out"],
        ))
    };
    // Rewrite .cargo-checksum.json as a tamperer would: files and package.
    let sums_path = dir.join(".cargo-checksum.json");
    let mut sums: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sums_path).unwrap()).unwrap();
    sums["files"]["src/lib.rs"] = sha256(&std::fs::read(&src).unwrap()).into();
    sums["package"] = sha256(b"another package").into();
    std::fs::write(&sums_path, sums.to_string()).unwrap();
    let e = refused();
    assert!(
        e.contains("`libcx 0.1.2`") && e.contains("Cargo.lock"),
        "{e}"
    );
    // And without a checksum file at all.
    std::fs::remove_file(&sums_path).unwrap();
    let e = refused();
    assert!(
        e.contains("`libcx 0.1.2`") && e.contains("no .cargo-checksum.json"),
        "{e}"
    );
}

#[test]
fn an_edit_after_generation_stops_the_build_before_the_crate_is_compiled_again() {
    let cwd = tempdir();
    let vendor = vendor_copy();
    let lib = mock_dir().join("library");
    ok(&sysgen(&cwd, &lib, &vendor, false, &["ninja", "-o", "out"]));
    let ninja = |cwd: &Path| {
        Command::new("ninja")
            .arg("-C")
            .arg(cwd.join("out"))
            .env("FAKE_RUSTC_LOG", cwd.join("rustc.log"))
            .output()
            .unwrap()
    };
    let o = ninja(&cwd);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    std::fs::remove_file(cwd.join("rustc.log")).unwrap();
    flip_a_byte(&vendor.join(LIBCX).join("src/lib.rs"));
    let o = ninja(&cwd);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains("`libcx 0.1.2`") && out.contains("src/lib.rs"),
        "{out}"
    );
    assert!(!cwd.join("rustc.log").exists(), "nothing was compiled");
}

/// A Cargo home holding the mock vendor directory's crates as cargo leaves
/// them (archives in registry/cache, extracted in registry/src), and a
/// copy of the mock library whose lockfile pins those archives.
fn cargo_home() -> (PathBuf, PathBuf) {
    let home = tempdir().join("cargo-home");
    let index = "index.example.org-0123456789abcdef";
    let src = home.join("registry/src").join(index);
    let cache = home.join("registry/cache").join(index);
    std::fs::create_dir_all(&cache).unwrap();
    let mut lock = std::fs::read_to_string(mock_dir().join("library/Cargo.lock")).unwrap();
    for e in std::fs::read_dir(mock_dir().join("vendor")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        let dir = src.join(&name);
        copy_dir(&mock_dir().join("vendor").join(&name), &dir);
        std::fs::remove_file(dir.join(".cargo-checksum.json")).unwrap();
        let archive = cache.join(format!("{name}.crate"));
        let st = Command::new("tar")
            .arg("czf")
            .arg(&archive)
            .arg("-C")
            .arg(&src)
            .arg(&name)
            .status()
            .unwrap();
        assert!(st.success());
        std::fs::write(dir.join(".cargo-ok"), "{\"v\":1}").unwrap();
        let mock_sum = sha256(format!("mock {name}").as_bytes());
        lock = lock.replace(&mock_sum, &sha256(&std::fs::read(&archive).unwrap()));
    }
    let lib = edited_library(|l| std::fs::write(l.join("Cargo.lock"), &lock).unwrap());
    (home, lib)
}

#[test]
fn the_cargo_home_is_checked_against_its_archives_and_the_archives_against_the_lockfile() {
    let (home, lib) = cargo_home();
    let cwd = tempdir();
    let generate = |cwd: &Path| sysgen(cwd, &lib, &home, true, &["ninja", "-o", "out"]);
    ok(&generate(&cwd));
    let m = std::fs::read_to_string(
        cwd.join("out/sysroot/lib/rustlib/x86_64-unknown-linux-gnu/sysgen-manifest.json"),
    )
    .unwrap();
    assert!(m.contains("\"kind\": \"registry\""), "{m}");

    // An extracted file that differs from the archive (cargo would not notice).
    let index = std::fs::read_dir(home.join("registry/src"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let extracted = index.join(LIBCX).join("src/lib.rs");
    let original = std::fs::read(&extracted).unwrap();
    flip_a_byte(&extracted);
    let e = one_line_error(&generate(&tempdir()));
    assert!(
        e.contains("`libcx 0.1.2`")
            && e.contains("src/lib.rs")
            && e.contains("differs from the crate archive"),
        "{e}"
    );
    std::fs::write(&extracted, &original).unwrap();
    ok(&generate(&tempdir()));

    // An archive that is not the one the lockfile pins.
    let cache = home.join("registry/cache").join(index.file_name().unwrap());
    let archive = cache.join(format!("{LIBCX}.crate"));
    let pinned = std::fs::read(&archive).unwrap();
    std::fs::copy(cache.join("addr-0.2.0.crate"), &archive).unwrap();
    let e = one_line_error(&generate(&tempdir()));
    assert!(
        e.contains("`libcx 0.1.2`") && e.contains("Cargo.lock pins"),
        "{e}"
    );

    // No archive at all (cargo's cache cleaning): say so, and how to fetch.
    std::fs::remove_file(&archive).unwrap();
    let e = one_line_error(&generate(&tempdir()));
    assert!(
        e.contains("`libcx 0.1.2`") && e.contains("is gone") && e.contains("sysgen fetch"),
        "{e}"
    );
    std::fs::write(&archive, pinned).unwrap();
    ok(&generate(&tempdir()));
}

#[test]
fn the_sbom_lists_exactly_the_crates_of_the_graph_is_deterministic_and_valid_cyclonedx() {
    let cwd = tempdir();
    let lib = mock_dir().join("library");
    let vendor = mock_dir().join("vendor");
    let args = [
        "--target",
        "x86_64-unknown-linux-gnu",
        "--target",
        "thumbv6m-none-eabi",
    ];
    let sbom = ok(&sysgen(
        &cwd,
        &lib,
        &vendor,
        false,
        &[&["sbom"][..], &args].concat(),
    ));
    assert_eq!(
        sbom,
        ok(&sysgen(
            &tempdir(),
            &lib,
            &vendor,
            false,
            &[&["sbom"][..], &args].concat()
        ))
    );
    let graph: serde_json::Value = serde_json::from_str(&ok(&sysgen(
        &cwd,
        &lib,
        &vendor,
        false,
        &[&["graph"][..], &args].concat(),
    )))
    .unwrap();
    let mut want: Vec<String> = graph["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            format!(
                "{}@{}",
                u["crate"].as_str().unwrap(),
                u["version"].as_str().unwrap()
            )
        })
        .collect();
    want.sort();
    want.dedup();
    let bom: serde_json::Value = serde_json::from_str(&sbom).unwrap();
    let got: Vec<String> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, want);
    let libcx = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "libcx")
        .unwrap();
    assert_eq!(libcx["purl"], "pkg:cargo/libcx@0.1.2");
    assert_eq!(
        libcx["hashes"][0]["content"],
        sha256(format!("mock {LIBCX}").as_bytes())
    );

    // An independent validator: cyclonedx-python-lib's (scripts/setup installs it).
    let file = cwd.join("sbom.json");
    std::fs::write(&file, &sbom).unwrap();
    let check = "import sys\nfrom cyclonedx.schema import SchemaVersion\nfrom cyclonedx.validation.json import JsonStrictValidator\nerr = JsonStrictValidator(SchemaVersion.V1_5).validate_str(open(sys.argv[1]).read())\nprint(err or 'valid')\nsys.exit(1 if err else 0)\n";
    let o = Command::new("python3")
        .arg("-c")
        .arg(check)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "the CycloneDX validator (pip install 'cyclonedx-python-lib[json-validation]', which scripts/setup runs) says:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn sbom_bad_input_is_one_line_and_writes_nothing() {
    let cwd = tempdir();
    let lib = mock_dir().join("library");
    let vendor = mock_dir().join("vendor");
    std::fs::create_dir(cwd.join("a-dir")).unwrap();
    let e = one_line_error(&sysgen(
        &cwd,
        &lib,
        &vendor,
        false,
        &["sbom", "-o", "a-dir"],
    ));
    assert!(e.contains("a-dir is a directory"), "{e}");
    let e = one_line_error(&sysgen(
        &cwd,
        &lib,
        &vendor,
        false,
        &["sbom", "--crates", "nosuch"],
    ));
    assert!(e.contains("nosuch"), "{e}");
    let written: Vec<_> = std::fs::read_dir(&cwd)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != ".cache" && n != "a-dir")
        .collect();
    assert!(written.is_empty(), "{written:?}");
    assert_eq!(std::fs::read_dir(cwd.join("a-dir")).unwrap().count(), 0);
}
