//! sysgen's guarantees (README, "What sysgen promises"), one test each:
//! what it never deletes or overwrites, what a failed run leaves, and what
//! an interrupted or repeated build leaves. Fast: the mock library and
//! stand-in programs, no real compile.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::*;

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
    let o = sysgen_in(
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

/// `sysgen ninja` against the mock library, in `cwd`.
fn generate(cwd: &Path, args: &[&str]) -> Output {
    let m = mock_dir();
    let mut a = vec![
        "ninja",
        "--rust-src",
        m.join("library").to_str().unwrap(),
        "--vendor",
        m.join("vendor").to_str().unwrap(),
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    a.extend(args.iter().map(|s| s.to_string()));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    sysgen_in(cwd, &a)
}

fn user_error_line(o: &Output) -> String {
    one_line_error(o)
}

#[test]
fn a_failed_generation_creates_nothing() {
    let t = tempdir();
    let out = t.join("out");
    let o = generate(&t, &["--target", "x86_64-unknown-nowhere", "-o", "out"]);
    user_error_line(&o);
    assert!(!out.exists(), "the output directory was created");
    let o = generate(&t, &["--crates", "sdt", "-o", "out/deeper"]);
    user_error_line(&o);
    assert!(!out.exists(), "the output directory was created");
}

#[test]
fn a_build_file_or_build_directory_sysgen_did_not_write_is_never_touched() {
    for foreign in ["build.ninja", "build/CMakeCache.txt", "sysroot/README"] {
        let t = tempdir();
        write(&t.join(foreign), "not sysgen's\n");
        let before = tree(&t);
        let e = user_error_line(&generate(&t, &["--crates", "core"]));
        let top = foreign.split('/').next().unwrap();
        assert!(
            e.contains(top) && e.contains("not written by sysgen"),
            "{e}"
        );
        assert_eq!(tree(&t), before, "{foreign}: the directory changed");
        assert_eq!(
            std::fs::read_to_string(t.join(foreign)).unwrap(),
            "not sysgen's\n"
        );
    }
    // A project directory with other files is fine: sysgen adds its own.
    let t = tempdir();
    write(&t.join("src/main.rs"), "fn main() {}\n");
    let o = generate(&t, &["--crates", "core"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(t.join("build.ninja").is_file() && t.join("src/main.rs").is_file());
    // …and regenerating into it is allowed: sysgen owns its files now.
    let o = generate(&t, &["--crates", "core"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Pretend the build ran: create every sysroot library the build file lists.
fn fake_build(out: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(out.join("build.ninja")).unwrap();
    let mut made = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("build ") else {
            continue;
        };
        let outputs = rest.split(": ").next().unwrap();
        for o in outputs.split(' ') {
            if o.starts_with("sysroot/") || o.contains("/meta/") {
                write(&out.join(o), "built\n");
                made.push(o.to_string());
            }
        }
    }
    made
}

fn sysroot_files(out: &Path) -> Vec<String> {
    tree(&out.join("sysroot"))
        .into_iter()
        .filter(|f| !f.ends_with('/'))
        .collect()
}

#[test]
fn the_sysroot_holds_exactly_the_current_selection_after_regeneration() {
    let t = tempdir();
    let target = ["--target", "x86_64-unknown-linux-gnu"];
    let with = |args: &[&str]| {
        let mut a = target.to_vec();
        a.extend(args);
        a.extend(["-o", "out"]);
        let o = generate(&t, &a);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    let out = t.join("out");
    with(&["--crates", "std"]);
    fake_build(&out);
    assert!(
        sysroot_files(&out)
            .iter()
            .any(|f| f.ends_with("libstd.rlib"))
    );
    // Fewer crates: std and what only it needs leave the sysroot.
    with(&["--crates", "core"]);
    assert_eq!(
        sysroot_files(&out),
        [
            "lib/rustlib/x86_64-unknown-linux-gnu/lib/libcompiler_builtins.rlib",
            "lib/rustlib/x86_64-unknown-linux-gnu/lib/libcore.rlib",
            "lib/rustlib/x86_64-unknown-linux-gnu/sysgen-manifest.json"
        ]
    );
    // A metadata-only sysroot, then a full one: no .rmeta stays beside the
    // .rlib it would shadow.
    with(&["--crates", "core", "--check"]);
    fake_build(&out);
    assert!(
        sysroot_files(&out)
            .iter()
            .filter(|f| f.contains("/lib/"))
            .all(|f| f.ends_with(".rmeta"))
    );
    with(&["--crates", "core"]);
    fake_build(&out);
    assert_eq!(
        sysroot_files(&out),
        [
            "lib/rustlib/x86_64-unknown-linux-gnu/lib/libcompiler_builtins.rlib",
            "lib/rustlib/x86_64-unknown-linux-gnu/lib/libcore.rlib",
            "lib/rustlib/x86_64-unknown-linux-gnu/sysgen-manifest.json"
        ]
    );
    // Ninja's own files and the user's are not sysgen's to clean.
    write(&out.join(".ninja_log"), "# ninja log v5\n");
    write(&out.join("notes.txt"), "mine\n");
    with(&["--crates", "alloc"]);
    assert!(out.join(".ninja_log").is_file() && out.join("notes.txt").is_file());
}

#[test]
fn output_paths_that_cannot_work_are_refused_with_the_reason() {
    let t = tempdir();
    for (dir, why) in [("new\nline", "control character"), ("a:b", "PATH")] {
        let e = user_error_line(&generate(&t, &["--crates", "core", "-o", dir]));
        assert!(e.contains(why), "{dir:?}: {e}");
        assert!(!t.join(dir).exists());
    }
    write(&t.join("file"), "mine\n");
    let e = user_error_line(&generate(&t, &["--crates", "core", "-o", "file"]));
    assert!(e.contains("is a file"), "{e}");
}

#[test]
fn graph_into_a_directory_is_a_user_error() {
    let t = tempdir();
    let m = mock_dir();
    let o = sysgen_in(
        &t,
        &[
            "graph",
            "--rust-src",
            m.join("library").to_str().unwrap(),
            "--vendor",
            m.join("vendor").to_str().unwrap(),
            "-o",
            t.to_str().unwrap(),
        ],
    );
    let e = user_error_line(&o);
    assert!(e.contains("is a directory"), "{e}");
}

#[test]
fn interrupting_a_build_stops_every_process_it_started() {
    use std::os::unix::process::CommandExt;
    let t = tempdir();
    let o = sysgen_fake(&t, &["ninja", "--crates", "core", "-o", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let pids = t.join("pids");
    std::fs::create_dir_all(&pids).unwrap();
    let go = t.join("go");
    // ninja in a process group of its own, as a shell runs a job; code
    // generation is held until `go` exists.
    let mut ninja = Command::new("ninja")
        .arg("-C")
        .arg(t.join("out"))
        .env("FAKE_RUSTC_GO", &go)
        .env("FAKE_RUSTC_PIDS", &pids)
        .stdout(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let meta = t.join("out/build/x86_64-unknown-linux-gnu/meta/libcore.rmeta");
    wait_until("core's metadata is written", || meta.exists());
    // Ctrl-C: SIGINT to the foreground process group.
    let st = Command::new("kill")
        .args(["-INT", "--", &format!("-{}", ninja.id())])
        .status()
        .unwrap();
    assert!(st.success());
    ninja.wait().unwrap();
    let started: Vec<u32> = std::fs::read_dir(&pids)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().parse().unwrap())
        .collect();
    assert!(!started.is_empty());
    for pid in started {
        wait_until(&format!("compiler {pid} is gone"), || !process_alive(pid));
    }
    std::fs::write(&go, "").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // Only what generation wrote before the build started.
    assert_eq!(
        sysroot_files(&t.join("out")),
        ["lib/rustlib/x86_64-unknown-linux-gnu/sysgen-manifest.json"],
        "nothing is written into the sysroot after the build stopped"
    );
}

#[test]
fn an_unwritable_output_directory_is_a_one_line_error_naming_it() {
    let ro = Mount::tmpfs("ro,size=1m");
    let t = tempdir();
    let out = ro.dir.join("out");
    let e = user_error_line(&generate(
        &t,
        &["--crates", "core", "-o", out.to_str().unwrap()],
    ));
    assert!(
        e.contains(out.to_str().unwrap()) && e.contains("Read-only"),
        "{e}"
    );
}

#[test]
fn a_full_disk_leaves_no_half_written_build_file() {
    let full = Mount::tmpfs("size=12k");
    let t = tempdir();
    let out = full.dir.join("out");
    let e = user_error_line(&generate(
        &t,
        &["--crates", "std", "-o", out.to_str().unwrap()],
    ));
    assert!(
        e.contains("No space left") && e.contains("free some disk space"),
        "{e}"
    );
    let left: Vec<String> = tree(&out)
        .into_iter()
        .filter(|f| f.ends_with("build.ninja") || f.contains(".tmp."))
        .collect();
    assert!(left.is_empty(), "half-written files: {left:?}");
}

#[test]
fn a_read_only_cache_is_a_one_line_error_naming_it() {
    let ro = Mount::tmpfs("ro,size=1m");
    let t = tempdir();
    write(
        &t.join("sysgen.toml"),
        "[dependencies]\ncore = {}\nx = { git = \"file:///nonexistent\", stage = 1 }\n",
    );
    let m = mock_dir();
    let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .current_dir(&t)
        .env("SYSGEN_CACHE_DIR", &ro.dir)
        .args(["graph", "--rustc"])
        .arg(fake_rustc_path())
        .arg("--rust-src")
        .arg(m.join("library"))
        .arg("--vendor")
        .arg(m.join("vendor"))
        .output()
        .unwrap();
    let e = user_error_line(&o);
    assert!(
        e.contains(ro.dir.to_str().unwrap()) && e.contains("Read-only"),
        "{e}"
    );
}

#[test]
fn a_relative_cargo_home_still_regenerates_from_inside_the_build() {
    let t = tempdir();
    // A Cargo home, named relative to the working directory, whose registry
    // holds the mock library's registry crates.
    let index = t.join("home/registry/src/index.crates.io-0000000000000000");
    copy_dir(&mock_dir().join("vendor"), &index);
    let lib = t.join("library");
    copy_dir(&mock_dir().join("library"), &lib);
    let generate_here = |cwd: &Path| {
        Command::new(env!("CARGO_BIN_EXE_sysgen"))
            .current_dir(cwd)
            .env("CARGO_HOME", "home")
            .env("SYSGEN_CACHE_DIR", t.join(".cache"))
            .args(["ninja", "--crates", "core", "-o", "out", "--rustc"])
            .arg(fake_rustc_path())
            .arg("--rust-src")
            .arg(&lib)
            .output()
            .unwrap()
    };
    let o = generate_here(&t);
    assert!(o.status.success(), "{}", stderr(&o));
    // Touch an input: ninja regenerates build.ninja from inside `out`.
    let manifest = lib.join("core/Cargo.toml");
    let f = std::fs::File::options()
        .append(true)
        .open(&manifest)
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
    let o = Command::new("ninja")
        .arg("-C")
        .arg(t.join("out"))
        .arg("build.ninja")
        .env_remove("CARGO_HOME")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "regeneration failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
}

#[test]
fn a_moved_output_directory_builds_in_place() {
    let t = tempdir();
    let lib = t.join("library");
    copy_dir(&mock_dir().join("library"), &lib);
    let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .current_dir(&t)
        .env("SYSGEN_CACHE_DIR", t.join(".cache"))
        .args([
            "ninja",
            "--target",
            "x86_64-unknown-linux-gnu",
            "-o",
            "first",
            "--rustc",
        ])
        .arg(fake_rustc_path())
        .arg("--rust-src")
        .arg(&lib)
        .arg("--vendor")
        .arg(mock_dir().join("vendor"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let ninja = |dir: &Path, args: &[&str]| {
        let o = Command::new("ninja")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout).to_string() + &stderr(&o);
        assert!(o.status.success(), "{text}");
        text
    };
    ninja(&t.join("first"), &[]);
    let moved = t.join("moved here");
    std::fs::rename(t.join("first"), &moved).unwrap();
    assert!(
        ninja(&moved, &[]).contains("no work to do"),
        "nothing rebuilds after a move"
    );
    // A deleted library is compiled again, in the new place.
    let lib_dir = moved.join("sysroot/lib/rustlib/x86_64-unknown-linux-gnu/lib");
    std::fs::remove_file(lib_dir.join("libstd.rlib")).unwrap();
    ninja(&moved, &[]);
    assert!(lib_dir.join("libstd.rlib").is_file());
    // An edited input regenerates the build file here, not where it was
    // generated, and build scripts run from here.
    let f = std::fs::File::options()
        .append(true)
        .open(lib.join("std/Cargo.toml"))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(2))
        .unwrap();
    let log = ninja(&moved, &[]);
    assert!(log.contains("REGENERATE"), "{log}");
    assert!(
        !t.join("first").exists(),
        "nothing is written where it was generated"
    );
    let spec = std::fs::read_to_string(
        std::fs::read_dir(moved.join("build/x86_64-unknown-linux-gnu"))
            .unwrap()
            .map(|e| e.unwrap().path().join("run.json"))
            .find(|p| p.is_file())
            .unwrap(),
    )
    .unwrap();
    assert!(
        !spec.contains("first"),
        "run.json names the old place: {spec}"
    );
}

#[test]
fn over_long_and_non_utf8_output_paths_are_one_line_errors() {
    use std::os::unix::ffi::OsStrExt;
    let t = tempdir();
    let long = "d".repeat(300);
    let e = user_error_line(&generate(&t, &["--crates", "core", "-o", &long]));
    assert!(
        e.contains("File name too long") || e.contains("name too long"),
        "{e}"
    );
    let m = mock_dir();
    let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .current_dir(&t)
        .args(["ninja", "--crates", "core", "--rust-src"])
        .arg(m.join("library"))
        .arg("--vendor")
        .arg(m.join("vendor"))
        .arg("-o")
        .arg(std::ffi::OsStr::from_bytes(b"out\xff"))
        .output()
        .unwrap();
    let e = user_error_line(&o);
    assert!(e.contains("not valid UTF-8"), "{e}");
    assert_eq!(tree(&t), Vec::<String>::new(), "nothing was created");
}

#[test]
fn without_home_sysgen_finds_the_cargo_home_as_cargo_does() {
    let t = tempdir();
    let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .current_dir(&t)
        .env_remove("HOME")
        .env_remove("CARGO_HOME")
        .env("SYSGEN_CACHE_DIR", t.join(".cache"))
        .args(["ninja", "--crates", "core", "-o", "out", "--rustc"])
        .arg(fake_rustc_path())
        .arg("--rust-src")
        .arg(mock_dir().join("library"))
        .arg("--vendor")
        .arg(mock_dir().join("vendor"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(t.join("out/build.ninja").is_file());
}
