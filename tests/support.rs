//! Helpers shared by both test binaries (`tests/fast`, `tests/real`): the
//! mock library workspace in `tests/mock`, synthetic targets that need no
//! rustc, the stand-in toolchain, and sysroots built once and shared.
#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use sysgen::library::rules::Rules;
use sysgen::library::workspace::{RegistrySources, Workspace};
use sysgen::resolve::graph::{BuildGraph, CompileKind, Request, Unit, UnitKind};
use sysgen::toolchain::target::{Rustc, Target};

pub fn mock_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mock")
}

pub const LINUX: &str = r#"
panic="unwind"
target_arch="x86_64"
target_endian="little"
target_env="gnu"
target_family="unix"
target_os="linux"
target_pointer_width="64"
target_vendor="unknown"
unix
"#;

pub const BARE: &str = r#"
panic="abort"
target_arch="arm"
target_endian="little"
target_env=""
target_os="none"
target_pointer_width="32"
target_vendor="unknown"
"#;

pub fn linux() -> Target {
    Target::from_cfg_text("x86_64-unknown-linux-gnu", LINUX, Some(true)).unwrap()
}

pub fn bare() -> Target {
    Target::from_cfg_text("thumbv6m-none-eabi", BARE, Some(false)).unwrap()
}

pub fn fake_rustc() -> Rustc {
    Rustc {
        path: PathBuf::from("/opt/rust/bin/rustc"),
        sysroot: PathBuf::from("/opt/rust"),
        host: "x86_64-unknown-linux-gnu".into(),
        version: "rustc 1.95.0 (test)".into(),
        release: "1.95.0".into(),
        commit_hash: None,
        driver: None,
    }
}

pub fn request(crates: Option<&[&str]>, features: Option<&[&str]>) -> Request {
    Request {
        test_harness: false,
        crates: crates.map(|c| c.iter().map(|s| s.to_string()).collect()),
        features: features.map(|f| f.iter().map(|s| s.to_string()).collect()),
        panic: sysgen::library::profile::PanicStrategy::Unwind,
        config: None,
    }
}

pub fn graph_in(
    library: &Path,
    vendor: &Path,
    targets: Vec<Target>,
    req: &Request,
) -> anyhow::Result<BuildGraph> {
    let src = sysgen::library::layout::StdSource::at(library)?;
    let ws = Workspace::load(&src, RegistrySources::Vendor(vendor.to_path_buf()))?;
    BuildGraph::build(ws, fake_rustc(), targets, linux(), &Rules::load()?, req)
}

pub fn graph(targets: Vec<Target>, req: &Request) -> BuildGraph {
    let m = mock_dir();
    graph_in(&m.join("library"), &m.join("vendor"), targets, req).expect("mock graph builds")
}

/// How the fast tests turn a mock graph into a model: release, unwinding,
/// `-Zthreads=2` pinned, no rustflags, no source lists (override fields
/// with `..model_options(&g)`).
pub fn model_options(g: &BuildGraph) -> sysgen::model::ModelOptions {
    model_options_with(
        sysgen::library::profile::Profiles::new(
            &g.ws.profiles,
            "release",
            sysgen::library::profile::PanicStrategy::Unwind,
        )
        .unwrap(),
    )
}

/// [`model_options`] with profiles of the test's own making.
pub fn model_options_with(
    profile: sysgen::library::profile::Profiles,
) -> sysgen::model::ModelOptions {
    sysgen::model::ModelOptions {
        profile,
        rustflags: Default::default(),
        check: false,
        frontend_threads: 2,
        nondeterministic_frontend: false,
        sources: false,
        objects: false,
    }
}

/// The unit of `krate` of `kind` for target index `t` (or the host).
pub fn unit<'g>(
    g: &'g BuildGraph,
    krate: &str,
    kind: UnitKind,
    plat: CompileKind,
) -> Option<&'g Unit> {
    g.graph
        .node_weights()
        .find(|u| g.ws.packages[u.pkg].name == krate && u.kind == kind && u.platform == plat)
}

pub fn lib<'g>(g: &'g BuildGraph, krate: &str) -> &'g Unit {
    unit(
        g,
        krate,
        UnitKind::Lib,
        CompileKind::Target(sysgen::toolchain::target::TargetId(0)),
    )
    .unwrap_or_else(|| panic!("no lib unit for {krate}"))
}

/// Crate names of every library unit for target 0.
pub fn lib_names(g: &BuildGraph) -> Vec<String> {
    let mut v: Vec<String> = g
        .graph
        .node_weights()
        .filter(|u| {
            u.kind == UnitKind::Lib
                && u.platform == CompileKind::Target(sysgen::toolchain::target::TargetId(0))
        })
        .map(|u| g.ws.packages[u.pkg].name.clone())
        .collect();
    v.sort();
    v
}

/// The one-line message of the user error building this graph must give.
pub fn graph_error(library: &Path, vendor: &Path, req: &Request) -> String {
    match graph_in(library, vendor, vec![linux()], req) {
        Ok(_) => panic!("expected an error"),
        Err(e) => user_error(&e),
    }
}

/// A copy of the mock library, changed by `edit`.
pub fn edited_library(edit: impl FnOnce(&Path)) -> PathBuf {
    let lib = tempdir();
    copy_dir(&mock_dir().join("library"), &lib);
    edit(&lib);
    lib
}

pub fn user_error(e: &anyhow::Error) -> String {
    e.downcast_ref::<sysgen::base::error::UserError>()
        .unwrap_or_else(|| panic!("expected a user error, got: {e:#}"))
        .0
        .clone()
}

/// A fresh empty directory under the target dir (kept for post-mortems).
pub fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "t-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// The stand-in compiler of `tests/fake-toolchain` (see its header).
pub fn fake_rustc_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-toolchain/bin/rustc")
}

/// A copy of the stand-in toolchain whose compiler reports `release`, and
/// the path of that compiler (a copy: probes are cached by the binary).
pub fn fake_compiler(release: &str) -> PathBuf {
    let tc = tempdir().join("toolchain");
    copy_dir(fake_rustc_path().parent().unwrap().parent().unwrap(), &tc);
    let rustc = tc.join("bin/rustc");
    let text = std::fs::read_to_string(&rustc).unwrap();
    let text = text
        .replace("rustc 1.95.0 (fake)", &format!("rustc {release} (fake)"))
        .replace("release: 1.95.0", &format!("release: {release}"));
    executable(&rustc, &text);
    rustc
}

/// `sysgen ARGS` against the mock library with the stand-in compiler, in
/// `cwd`, with a cache of its own under `cwd`.
pub fn sysgen_fake(cwd: &Path, args: &[&str]) -> std::process::Output {
    sysgen_cmd(cwd)
        .args(args)
        .args(mock_toolchain(&mock_dir().join("library")))
        .output()
        .unwrap()
}

/// The sysgen binary run in `cwd`, with its own cache and no rustflags
/// from the test's environment.
pub fn sysgen_cmd(cwd: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sysgen"));
    c.current_dir(cwd)
        .env("SYSGEN_CACHE_DIR", cwd.join(".cache"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    c
}

/// The stand-in compiler, `library` as rust-src and the mock vendor
/// directory, as arguments.
pub fn mock_toolchain(library: &Path) -> Vec<std::ffi::OsString> {
    vec![
        "--rustc".into(),
        fake_rustc_path().into(),
        "--rust-src".into(),
        library.into(),
        "--vendor".into(),
        mock_dir().join("vendor").into(),
    ]
}

/// Whether a process exists and is not a zombie.
pub fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| !s[s.rfind(')').unwrap() + 2..].starts_with('Z'))
}

/// Poll `f` for up to five seconds.
pub fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("timed out waiting until {what}");
}

/// The one line of a user error (exit status 2, `sysgen: error: …`, no
/// panic): what every bad input must produce.
pub fn one_line_error(o: &std::process::Output) -> String {
    let e = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "exit status 2 expected: {e}");
    assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
    assert!(e.starts_with("sysgen: error: "), "{e}");
    assert!(
        !e.contains("panicked") && !e.contains("internal error"),
        "{e}"
    );
    e
}

/// A library directory laid out as a rustup toolchain's rust-src
/// (`<toolchain>/lib/rustlib/src/rust/library`), from the mock library,
/// with the toolchain's channel manifest saying `version`.
pub fn toolchain_with_rust_src(version: &str) -> PathBuf {
    let tc = tempdir();
    let lib = tc.join("lib/rustlib/src/rust/library");
    copy_dir(&mock_dir().join("library"), &lib);
    std::fs::write(
        tc.join("lib/rustlib/multirust-channel-manifest.toml"),
        format!("[pkg.rust-src]\nversion = \"{version}\"\n"),
    )
    .unwrap();
    lib
}

/// A tmpfs mounted for one test (tests run as root, where chmod cannot make
/// a directory read-only, so a mount is the honest way to get a read-only
/// or a full file system). Unmounted on drop.
pub struct Mount {
    pub dir: PathBuf,
}

impl Mount {
    /// `options`: e.g. `ro,size=1m` or `size=16k`.
    pub fn tmpfs(options: &str) -> Mount {
        let dir = tempdir();
        let st = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(&dir)
            .status()
            .expect("mount runs");
        assert!(
            st.success(),
            "mounting a tmpfs needs root (CI runs as root)"
        );
        Mount { dir }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.dir).status();
    }
}

/// The host std sysroot most real-build tests read: std and panic_abort,
/// release, `-Zthreads=2` pinned so every machine builds the same thing.
pub const HOST_STD: &[&str] = &[
    "--target",
    "x86_64-unknown-linux-gnu",
    "--crates",
    "std,panic_abort",
    "--frontend-threads=2",
];

/// A sysroot built by `sysgen ninja ARGS && ninja`, once per sysgen binary
/// and shared by every test (in any test binary) that only reads it: full
/// std builds take most of the suite's time. Returns the output directory.
pub fn shared_build(name: &str, args: &[&str]) -> PathBuf {
    let exe = Path::new(env!("CARGO_BIN_EXE_sysgen"));
    let m = std::fs::metadata(exe).unwrap();
    let stamp = format!("{:?} {} {:?}", args, m.len(), m.modified().unwrap());
    let key = sysgen::base::hash::stable_hash(&[&stamp]);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("shared")
        .join(format!("{name}-{}", &key[..12]));
    std::fs::create_dir_all(&dir).unwrap();
    let lock = std::fs::File::create(dir.join("lock")).unwrap();
    lock.lock().unwrap();
    let out = dir.join("out");
    if dir.join("done").exists() {
        return out;
    }
    let _ = std::fs::remove_dir_all(&out);
    let o = std::process::Command::new(exe)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .arg("ninja")
        .args(args)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = std::process::Command::new("ninja")
        .arg("-C")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::write(dir.join("done"), "").unwrap();
    out
}

/// Every file below `dir` (relative paths), sorted.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

/// The files that differ between two sysroots (or exist in one only).
pub fn sysroot_differences(a: &Path, b: &Path) -> Vec<String> {
    let (fa, fb) = (files_below(a), files_below(b));
    let mut diffs = Vec::new();
    for f in fa.iter().filter(|f| !fb.contains(f)) {
        diffs.push(format!("only in {}: {}", a.display(), f.display()));
    }
    for f in fb.iter().filter(|f| !fa.contains(f)) {
        diffs.push(format!("only in {}: {}", b.display(), f.display()));
    }
    for f in fa.iter().filter(|f| fb.contains(f)) {
        if std::fs::read(a.join(f)).unwrap() != std::fs::read(b.join(f)).unwrap() {
            diffs.push(format!("differs: {}", f.display()));
        }
    }
    diffs
}

/// core and alloc for a bare-metal Cortex-M0 target.
pub const THUMBV6M_CORE_ALLOC: &[&str] =
    &["--target", "thumbv6m-none-eabi", "--crates", "core,alloc"];

/// Run `cmd`; fail with its output unless it succeeds; return stdout and
/// stderr.
pub fn run_ok(cmd: &mut std::process::Command) -> String {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// Run `cmd`, assert it succeeded (showing what it printed if not), and
/// return its standard output alone.
pub fn stdout_ok(cmd: &mut std::process::Command) -> String {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("UTF-8 output")
}

/// `sysgen ARGS` in `cwd`, with the real toolchain and no flags from the
/// environment.
pub fn sysgen_in(cwd: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .current_dir(cwd)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .args(args)
        .output()
        .unwrap()
}

// Used by both halves of bazel.rs.
pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A script at `path` (mode 0755) holding `text`.
pub fn executable(path: &Path, text: &str) {
    write(path, text);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

// Used by both halves of cargo.rs.
/// A project directory with a Cargo.toml (and `files`).
pub fn project(files: &[(&str, &str)]) -> PathBuf {
    let dir = tempdir();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"p\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

// Used by both halves of explain.rs.
pub fn stdout(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).to_string()
}

// Used by both halves of sources.rs.
/// Files rustc read that are not listed, and listed files it did not read
/// that nothing explains (a build script's cfg may decide `maybe` files).
pub fn unexplained(
    listed: &BTreeSet<String>,
    maybe: &BTreeSet<String>,
    read: &BTreeSet<String>,
) -> (Vec<String>, Vec<String>) {
    let missing = read.difference(listed).cloned().collect();
    let extra = listed
        .difference(read)
        .filter(|f| !maybe.contains(*f))
        .cloned()
        .collect();
    (missing, extra)
}

// Used by both halves of timings.rs.
/// The longest chain of logged edge durations through build.ninja's edges:
/// (its milliseconds, the descriptions along it).
pub fn longest_chain(dir: &Path) -> (f64, Vec<String>) {
    let mut dur: HashMap<String, f64> = HashMap::new();
    let log = std::fs::read_to_string(dir.join(".ninja_log")).unwrap();
    for line in log.lines().skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        dur.insert(
            c[3].to_string(),
            c[1].parse::<f64>().unwrap() - c[0].parse::<f64>().unwrap(),
        );
    }
    let text = std::fs::read_to_string(dir.join("build.ninja")).unwrap();
    // (outputs, inputs, desc) of each edge; paths here have no spaces.
    let mut edges: Vec<(Vec<String>, Vec<String>, String)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("build ") {
            let (outs, ins) = rest.split_once(": ").unwrap();
            let mut ins = ins.split(' ');
            let rule = ins.next().unwrap();
            if rule == "phony" || rule == "regenerate" {
                continue;
            }
            let ins: Vec<String> = ins
                .filter(|i| *i != "|" && *i != "||")
                .map(str::to_string)
                .collect();
            edges.push((
                outs.split(' ').map(str::to_string).collect(),
                ins,
                String::new(),
            ));
        } else if let Some(d) = line.strip_prefix("  desc = ")
            && let Some(e) = edges.last_mut()
        {
            e.2 = d.to_string();
        }
    }
    let producer: HashMap<&str, usize> = edges
        .iter()
        .enumerate()
        .flat_map(|(i, e)| e.0.iter().map(move |o| (o.as_str(), i)))
        .collect();
    let mut memo: HashMap<usize, (f64, Option<usize>)> = HashMap::new();
    fn chain(
        i: usize,
        edges: &[(Vec<String>, Vec<String>, String)],
        producer: &HashMap<&str, usize>,
        dur: &HashMap<String, f64>,
        memo: &mut HashMap<usize, (f64, Option<usize>)>,
    ) -> f64 {
        if let Some(&(d, _)) = memo.get(&i) {
            return d;
        }
        let mut best = (0.0, None);
        for input in &edges[i].1 {
            if let Some(&p) = producer.get(input.as_str()) {
                let l = chain(p, edges, producer, dur, memo);
                if l > best.0 {
                    best = (l, Some(p));
                }
            }
        }
        let total = best.0 + dur.get(&edges[i].0[0]).copied().unwrap_or(0.0);
        memo.insert(i, (total, best.1));
        total
    }
    let mut tip = (0.0, 0);
    for i in 0..edges.len() {
        let l = chain(i, &edges, &producer, &dur, &mut memo);
        if l > tip.0 {
            tip = (l, i);
        }
    }
    let mut names = Vec::new();
    let mut at = Some(tip.1);
    while let Some(i) = at {
        if !names.contains(&edges[i].2) {
            names.push(edges[i].2.clone());
        }
        at = memo[&i].1;
    }
    names.reverse();
    (tip.0, names)
}

// Used by both halves of timings.rs.
/// The report's critical path: (milliseconds, names).
pub fn reported_path(html: &str) -> (f64, Vec<String>) {
    let start = html.find("<span id=\"critical-path\" data-ms=\"").unwrap();
    let rest = &html[start + 34..];
    let (ms, rest) = rest.split_once("\">").unwrap();
    let (names, _) = rest.split_once("</span>").unwrap();
    (
        ms.parse().unwrap(),
        names.split(" → ").map(str::to_string).collect(),
    )
}

// Used by both halves of timings.rs.
pub fn timings(dir: &Path, out: &Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .arg("timings")
        .arg(dir)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(out).unwrap()
}

/// The edges a `ninja` (or `ninja -n`) run lists but the check of the
/// environment variables build scripts read, which runs on every build.
pub fn planned_work(ninja_output: &str) -> Vec<String> {
    ninja_output
        .lines()
        .filter(|l| l.starts_with('[') && !l.contains("] ENV "))
        .map(str::to_string)
        .collect()
}

/// `sysgen cargo` in `project` against `library` (rust-src) and the mock
/// vendor directory, with the stand-in rustc and cargo (which logs what it
/// was given to `project/cargo.log`), SYSGEN_CACHE_DIR=`cache`, and no
/// flags or target from the test's environment. Add the cargo arguments.
pub fn sysgen_cargo(project: &Path, cache: &Path, library: &Path) -> Command {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-toolchain/bin");
    let mut c = Command::new(env!("CARGO_BIN_EXE_sysgen"));
    c.current_dir(project)
        .env("SYSGEN_CACHE_DIR", cache)
        .env("RUSTC", bin.join("rustc"))
        .env("CARGO", bin.join("cargo"))
        .env("SYSGEN_RUST_SRC", library)
        .env("SYSGEN_VENDOR", mock_dir().join("vendor"))
        .env("FAKE_CARGO_LOG", project.join("cargo.log"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTDOCFLAGS")
        .env_remove("CARGO_ENCODED_RUSTDOCFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTC_WRAPPER")
        // No remote cache unless a test gives one: not the user's own.
        .env("XDG_CONFIG_HOME", cache.join("no-config"))
        .env_remove("SYSGEN_REMOTE_CACHE")
        .env_remove("SYSGEN_REMOTE_CACHE_HEADER")
        .env_remove("SYSGEN_REMOTE_CACHE_UPLOAD")
        .env_remove("SYSGEN_REMOTE_CACHE_TIMEOUT")
        .arg("cargo");
    c
}

/// The toolchain's rust-src `library` directory.
pub fn rust_src_library() -> PathBuf {
    let sysroot = String::from_utf8(
        Command::new("rustc")
            .args(["--print", "sysroot"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    Path::new(sysroot.trim()).join("lib/rustlib/src/rust/library")
}

/// rust-src's `library` and the registry sources std needs (`sysgen fetch
/// --vendor`) copied below `root`, as another machine would have them at
/// other paths: (library, vendor).
pub fn relocated_sources(root: &Path) -> (PathBuf, PathBuf) {
    let library = root.join("elsewhere/rust-src/library");
    copy_dir(&rust_src_library(), &library);
    let vendor = root.join("elsewhere/vendor");
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_sysgen"))
            .args(["fetch", "--rust-src"])
            .arg(&library)
            .arg("--vendor")
            .arg(&vendor),
    );
    (library, vendor)
}

/// Compare with `tests/snapshots/NAME` (rendered twice: byte-identical).
pub fn check_snapshot(name: &str, render: impl Fn() -> String) {
    let got = render();
    assert_eq!(
        got,
        render(),
        "two renders of the same inputs must be byte-identical"
    );
    let path = mock_dir().parent().unwrap().join("snapshots").join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want =
        std::fs::read_to_string(&path).expect("snapshot exists (UPDATE_SNAPSHOTS=1 writes it)");
    assert!(
        got == want,
        "the output differs from {}; diff it, and rewrite with UPDATE_SNAPSHOTS=1 if intended",
        path.display()
    );
}
