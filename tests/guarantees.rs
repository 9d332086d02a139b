//! sysgen's guarantees (README, "What sysgen promises"), one test each:
//! what it never deletes or overwrites, what a failed run leaves, and what
//! an interrupted or repeated build leaves. Fast: the mock library and
//! stand-in programs, no real compile.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;

fn sysgen(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .current_dir(cwd)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every file below `dir`, relative, sorted (directories end in `/`).
fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            if p.is_dir() {
                out.push(format!("{rel}/"));
                walk(base, &p, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn executable(path: &Path, text: &str) {
    write(path, text);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A stand-in for cargo that does what `cargo vendor DEST` does: empty
/// DEST, then write the packages into it.
const FAKE_CARGO_VENDOR: &str = r#"#!/bin/sh
for a in "$@"; do dest=$a; done
rm -rf "$dest"/* "$dest"/.[!.]* 2>/dev/null
mkdir -p "$dest/libcx-0.1.2"
echo '{"files":{},"package":"abc"}' > "$dest/libcx-0.1.2/.cargo-checksum.json"
echo '[package]' > "$dest/libcx-0.1.2/Cargo.toml"
"#;

fn fetch_into(vendor: &Path, cargo: &Path) -> Output {
    let m = mock_dir();
    Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .env("CARGO", cargo)
        .args(["fetch", "--rust-src"])
        .arg(m.join("library"))
        .arg("--vendor")
        .arg(vendor)
        .output()
        .unwrap()
}

#[test]
fn fetch_never_deletes_or_overwrites_what_the_vendor_directory_held() {
    let t = tempdir();
    let cargo = t.join("fake-cargo");
    executable(&cargo, FAKE_CARGO_VENDOR);
    let vendor = t.join("my project");
    write(&vendor.join("precious.txt"), "mine\n");
    write(&vendor.join("src/main.rs"), "fn main() {}\n");
    write(&vendor.join(".hidden"), "mine too\n");
    let o = fetch_into(&vendor, &cargo);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        tree(&vendor),
        [
            ".hidden",
            "libcx-0.1.2/",
            "libcx-0.1.2/.cargo-checksum.json",
            "libcx-0.1.2/Cargo.toml",
            "precious.txt",
            "src/",
            "src/main.rs"
        ],
        "the user's files are all there, the fetched package beside them, no staging left"
    );
    // Fetching again is a no-op; a package directory with other contents
    // is reported and left as it was.
    let o = fetch_into(&vendor, &cargo);
    assert!(o.status.success(), "{}", stderr(&o));
    write(&vendor.join("libcx-0.1.2/Cargo.toml"), "# my edit\n");
    write(&vendor.join("libcx-0.1.2/.cargo-checksum.json"), "{}");
    let o = fetch_into(&vendor, &cargo);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("libcx-0.1.2") && stderr(&o).contains("left untouched"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(vendor.join("libcx-0.1.2/Cargo.toml")).unwrap(),
        "# my edit\n"
    );
    assert!(vendor.join("precious.txt").is_file());
}

#[test]
fn the_advice_for_missing_sources_is_a_fetch_that_keeps_the_directory() {
    let t = tempdir();
    let vendor = t.join("vendor");
    write(&vendor.join("precious.txt"), "mine\n");
    let m = mock_dir();
    let o = sysgen(
        &t,
        &[
            "graph",
            "--rust-src",
            m.join("library").to_str().unwrap(),
            "--vendor",
            vendor.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let advice = stderr(&o);
    let cmd = advice
        .split('`')
        .nth(1)
        .unwrap_or_else(|| panic!("no command in: {advice}"));
    assert!(cmd.starts_with("sysgen fetch --vendor "), "{advice}");
    // Follow the advice, with the stand-in cargo.
    let cargo = t.join("fake-cargo");
    executable(&cargo, FAKE_CARGO_VENDOR);
    let o = fetch_into(&vendor, &cargo);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        vendor.join("precious.txt").is_file(),
        "advice destroyed data"
    );
}

#[test]
fn fetch_into_a_file_is_refused() {
    let t = tempdir();
    let file = t.join("notes.txt");
    write(&file, "mine\n");
    let o = fetch_into(&file, Path::new("/bin/false"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is a file"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine\n");
}
