//! sysgen.toml / Xargo.toml, specified against the mock library: stages,
//! the duplicate-crate error, custom path and git crates, [patch], the
//! project's profile and rustflags, check-only sysroots, and malformed
//! files. Generation only (milliseconds; rustc answers are cached).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::*;

/// A project directory holding `files` (path, contents).
fn project(files: &[(&str, &str)]) -> PathBuf {
    let dir = tempdir();
    for (p, text) in files {
        let f = dir.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, text).unwrap();
    }
    dir
}

/// `sysgen ARGS --rust-src mock --vendor mock`, run in `cwd`.
fn sysgen(cwd: &Path, args: &[&str]) -> Output {
    let m = mock_dir();
    Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .current_dir(cwd)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .args(args)
        .arg("--rust-src")
        .arg(m.join("library"))
        .arg("--vendor")
        .arg(m.join("vendor"))
        .output()
        .unwrap()
}

fn units(cwd: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let mut a = vec!["graph"];
    a.extend(args);
    let o = sysgen(cwd, &a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["units"].as_array().unwrap().clone()
}

fn libs<'a>(units: &'a [serde_json::Value], krate: &str) -> Vec<&'a serde_json::Value> {
    units
        .iter()
        .filter(|u| u["crate"] == krate && u["kind"] == "lib" && u["host"] == false)
        .collect()
}

fn ninja_file(cwd: &Path, args: &[&str]) -> String {
    let out = cwd.join("out");
    let mut a = vec!["ninja", "-o", out.to_str().unwrap()];
    a.extend(args);
    let o = sysgen(cwd, &a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(out.join("build.ninja")).unwrap()
}

fn error_of(cwd: &Path, args: &[&str]) -> String {
    let o = sysgen(cwd, args);
    let e = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
    assert!(!e.contains("panicked"), "{e}");
    e
}

/// The rustc command of crate `krate`'s library in a Ninja file.
fn command_of<'a>(ninja: &'a str, krate: &str) -> &'a str {
    ninja
        .lines()
        .filter(|l| l.starts_with("  cmd = "))
        .find(|l| l.contains(&format!("--crate-name {krate} ")) && !l.contains("build_script"))
        .unwrap_or_else(|| panic!("no rustc call for {krate}"))
}

const BARE: &str = "thumbv6m-none-eabi";
const LINUX_TRIPLE: &str = "x86_64-unknown-linux-gnu";

#[test]
fn without_dependencies_an_xargo_toml_builds_core_only() {
    let p = project(&[("Xargo.toml", "[patch.crates-io]\n")]);
    let u = units(&p, &["--target", BARE]);
    assert_eq!(libs(&u, "core").len(), 1);
    assert!(libs(&u, "alloc").is_empty(), "only core and what it needs");
}

#[test]
fn a_stage_builds_on_the_stages_below_and_reuses_their_crates() {
    let p = project(&[(
        "Xargo.toml",
        "[dependencies]\ncore = {}\n\n[dependencies.alloc]\nstage = 1\n",
    )]);
    let u = units(&p, &["--target", BARE]);
    let core = libs(&u, "core");
    assert_eq!(core.len(), 1, "core is built once, in stage 0");
    assert_eq!(core[0]["stage"], 0);
    let alloc = libs(&u, "alloc");
    assert_eq!(alloc.len(), 1);
    assert_eq!(alloc[0]["stage"], 1);
    assert!(
        alloc[0]["dep_ids"]
            .as_array()
            .unwrap()
            .contains(&core[0]["id"]),
        "stage-1 alloc links the stage-0 core"
    );
}

#[test]
fn a_stage_one_crate_waits_for_the_whole_stage_zero_sysroot() {
    let p = project(&[
        (
            "sysgen.toml",
            "[dependencies]\nalloc = {}\nfacade = { path = \"facade\", stage = 1 }\n",
        ),
        (
            "facade/Cargo.toml",
            "[package]\nname = \"facade\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("facade/src/lib.rs", "#![no_std]\nextern crate alloc;\n"),
    ]);
    let n = ninja_file(&p, &["--target", BARE]);
    let edge = n
        .lines()
        .find(|l| l.starts_with("build ") && l.contains("libfacade.rmeta:"))
        .expect("facade is in the sysroot");
    assert!(
        edge.contains("lib/liballoc.rlib"),
        "an implicit `extern crate alloc` needs stage 0's alloc first: {edge}"
    );
}

#[test]
fn a_crate_entering_the_sysroot_twice_is_an_error_naming_both() {
    let m = mock_dir();
    let core = m.join("library/core");
    let p = project(&[
        (
            "Xargo.toml",
            "[dependencies]\ncore = {}\nsmall = { path = \"small\", stage = 1 }\n",
        ),
        (
            "small/Cargo.toml",
            &format!(
                "[package]\nname = \"small\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ncore = {{ path = {:?}, features = [\"optimize_for_size\"] }}\n",
                core.display().to_string()
            ),
        ),
        ("small/src/lib.rs", "#![no_std]\n"),
    ]);
    let e = error_of(&p, &["graph", "--target", BARE]);
    assert!(
        e.contains("crate `core` would enter the thumbv6m-none-eabi sysroot twice"),
        "{e}"
    );
    assert!(
        e.contains("stage 0 builds core") && e.contains("stage 1 builds core"),
        "{e}"
    );
    assert!(e.contains("optimize_for_size"), "{e}");
}

#[test]
fn a_malformed_config_names_the_key_and_its_line() {
    let p = project(&[(
        "Xargo.toml",
        "[dependencies]\ncore = {}\n\n[dependencies.alloc]\nstgae = 1\n",
    )]);
    let e = error_of(&p, &["graph", "--target", BARE]);
    assert!(e.contains("Xargo.toml") && e.contains("stgae"), "{e}");
    assert!(e.contains("line 5"), "{e}");
}

#[test]
fn a_feature_the_crate_lacks_is_an_error() {
    let p = project(&[(
        "sysgen.toml",
        "[dependencies]\ncore = { features = [\"turbo\"] }\n",
    )]);
    let e = error_of(&p, &["graph", "--target", BARE]);
    assert!(e.contains("unknown feature `turbo` for `core`"), "{e}");
}

#[test]
fn target_tables_add_crates_for_matching_targets_only() {
    let p = project(&[(
        "Xargo.toml",
        "[dependencies]\ncore = {}\n\n[target.'cfg(target_os = \"none\")'.dependencies]\nalloc = {}\n",
    )]);
    assert_eq!(libs(&units(&p, &["--target", BARE]), "alloc").len(), 1);
    let host = units(&p, &["--target", "x86_64-unknown-linux-gnu"]);
    assert!(libs(&host, "alloc").is_empty());
}

#[test]
fn patch_replaces_a_registry_crate_throughout_the_graph() {
    let m = mock_dir();
    let p = project(&[(
        "Xargo.toml",
        "[dependencies]\nstd = {}\n\n[patch.crates-io]\nlibcx = { path = \"libcx\" }\n",
    )]);
    copy_dir(&m.join("vendor/libcx-0.1.2"), &p.join("libcx"));
    let n = ninja_file(&p, &["--target", "x86_64-unknown-linux-gnu"]);
    let libcx = command_of(&n, "libcx");
    assert!(
        libcx.contains(&format!("{}/libcx/src/lib.rs", p.display())),
        "the local copy is compiled: {libcx}"
    );
    assert!(
        !n.contains("vendor/libcx-0.1.2/src"),
        "the registry copy is gone"
    );
}

#[test]
fn a_patch_with_the_wrong_version_says_which_requirement_it_misses() {
    let m = mock_dir();
    let p = project(&[(
        "Xargo.toml",
        "[dependencies]\nstd = {}\n\n[patch.crates-io]\nlibcx = { path = \"libcx\" }\n",
    )]);
    copy_dir(&m.join("vendor/libcx-0.1.2"), &p.join("libcx"));
    let manifest = p.join("libcx/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("0.1.2", "9.0.0")).unwrap();
    let e = error_of(&p, &["graph", "--target", "x86_64-unknown-linux-gnu"]);
    assert!(
        e.contains("the [patch] for `libcx`") && e.contains("9.0.0"),
        "{e}"
    );
}

#[test]
fn a_custom_crate_with_an_unknown_registry_dependency_is_explained() {
    let p = project(&[
        (
            "sysgen.toml",
            "[dependencies]\ncore = {}\nmine = { path = \"mine\", stage = 1 }\n",
        ),
        (
            "mine/Cargo.toml",
            "[package]\nname = \"mine\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nserde = \"1\"\n",
        ),
        ("mine/src/lib.rs", "#![no_std]\n"),
    ]);
    let e = error_of(&p, &["graph", "--target", BARE]);
    assert!(
        e.contains("custom sysroot crate `mine` depends on `serde")
            && e.contains("give it a `path`"),
        "{e}"
    );
}

#[test]
fn git_crates_are_cloned_with_the_git_cli() {
    let repo = project(&[
        (
            "Cargo.toml",
            "[package]\nname = \"gitcrate\"\nversion = \"0.3.0\"\nedition = \"2021\"\n",
        ),
        ("src/lib.rs", "#![no_std]\n"),
    ]);
    let git = |args: &[&str]| {
        let st = Command::new("git")
            .current_dir(&repo)
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .status()
            .unwrap();
        assert!(st.success());
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "init"]);
    let cache = tempdir();
    let p = project(&[(
        "sysgen.toml",
        &format!(
            "[dependencies]\ncore = {{}}\ngitcrate = {{ git = \"file://{}\", stage = 1 }}\n",
            repo.display()
        ),
    )]);
    let m = mock_dir();
    let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .current_dir(&p)
        .env("SYSGEN_CACHE_DIR", &cache)
        .args(["graph", "--target", BARE, "--rust-src"])
        .arg(m.join("library"))
        .arg("--vendor")
        .arg(m.join("vendor"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let u = v["units"].as_array().unwrap();
    let g = libs(u, "gitcrate");
    assert_eq!(g.len(), 1);
    assert_eq!(g[0]["stage"], 1);
    assert!(
        cache.join("git").is_dir(),
        "the checkout lives in the cache"
    );
}

#[test]
fn the_projects_profile_and_cargo_config_reach_every_sysroot_crate() {
    let p = project(&[
        ("Xargo.toml", "[dependencies]\nalloc = {}\n"),
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[profile.release]\nopt-level = \"z\"\npanic = \"abort\"\n",
        ),
        (
            ".cargo/config.toml",
            "[build]\nrustflags = [\"-Cforce-frame-pointers=yes\"]\n\n[target.thumbv6m-none-eabi]\nrustflags = \"-Ctarget-cpu=cortex-m0 -g\"\n",
        ),
    ]);
    let n = ninja_file(&p, &["--target", BARE]);
    for krate in ["core", "alloc", "compiler_builtins"] {
        let c = command_of(&n, krate);
        assert!(c.contains("-C opt-level=z"), "{krate}: {c}");
        assert!(
            c.contains("-C panic=abort"),
            "{krate}: profile panic = abort: {c}"
        );
        assert!(
            c.contains("-Ctarget-cpu=cortex-m0 -g"),
            "{krate}: target.<triple>.rustflags: {c}"
        );
        assert!(
            !c.contains("-Cforce-frame-pointers"),
            "{krate}: target rustflags replace build.rustflags, as in cargo: {c}"
        );
    }
    assert!(
        n.lines().any(|l| l.starts_with("build build.ninja:")
            && l.contains("Cargo.toml")
            && l.contains(".cargo/config.toml")),
        "editing the project's files regenerates the build"
    );
    // RUSTFLAGS replaces the config's flags, as in cargo.
    let out = p.join("out2");
    let m = mock_dir();
    let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .current_dir(&p)
        .env("RUSTFLAGS", "-Cdebug-assertions=on")
        .args([
            "ninja",
            "--target",
            BARE,
            "-o",
            out.to_str().unwrap(),
            "--rust-src",
        ])
        .arg(m.join("library"))
        .arg("--vendor")
        .arg(m.join("vendor"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let n2 = std::fs::read_to_string(out.join("build.ninja")).unwrap();
    let c = command_of(&n2, "core");
    assert!(
        c.contains("-Cdebug-assertions=on") && !c.contains("cortex-m0"),
        "{c}"
    );
}

#[test]
fn panic_abort_from_the_profile_selects_panic_abort() {
    let p = project(&[
        ("Xargo.toml", "[dependencies]\nstd = {}\n"),
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[profile.release]\npanic = \"abort\"\n",
        ),
    ]);
    let u = units(&p, &["--target", "x86_64-unknown-linux-gnu"]);
    assert_eq!(libs(&u, "panic_abort").len(), 1);
}

#[test]
fn check_builds_a_metadata_only_sysroot() {
    let p = project(&[("Xargo.toml", "[dependencies]\nalloc = {}\n")]);
    let n = ninja_file(&p, &["--target", BARE, "--check"]);
    let core = command_of(&n, "core");
    assert!(
        core.contains(&format!(
            "metadata=sysroot/lib/rustlib/{BARE}/lib/libcore.rmeta"
        )),
        "{core}"
    );
    assert!(!core.contains("link="), "no code generation: {core}");
    assert!(
        !n.contains(".rlib"),
        "no rlib anywhere in the target sysroot"
    );
}

#[test]
fn command_line_crates_override_the_configs_dependencies() {
    let p = project(&[("Xargo.toml", "[dependencies]\nalloc = {}\n")]);
    let u = units(&p, &["--target", BARE, "--crates", "core"]);
    assert!(libs(&u, "alloc").is_empty());
    let u = units(&p, &["--target", BARE, "--no-config"]);
    assert!(libs(&u, "alloc").is_empty(), "--no-config ignores the file");
}

#[test]
fn a_missing_config_file_is_an_error() {
    let p = project(&[]);
    let e = error_of(&p, &["graph", "--config", "nope.toml"]);
    assert!(e.contains("nope.toml") && e.contains("--config"), "{e}");
}

#[test]
fn immediate_abort_is_a_panic_strategy_of_the_whole_sysroot() {
    let p = project(&[(
        "sysgen.toml",
        "[dependencies]\nstd = {}\n\n[sysgen]\npanic = \"immediate-abort\"\n",
    )]);
    let n = ninja_file(&p, &["--target", "x86_64-unknown-linux-gnu"]);
    for krate in ["core", "alloc", "std"] {
        let c = command_of(&n, krate);
        assert!(c.contains("-C panic=immediate-abort"), "{krate}: {c}");
    }
    assert!(
        n.contains("lib/libpanic_abort.rlib"),
        "its runtime is panic_abort"
    );
}

#[test]
fn the_configs_profile_is_used_unless_the_command_line_names_one() {
    let p = project(&[(
        "sysgen.toml",
        "[dependencies]\ncore = {}\n\n[sysgen]\nprofile = \"dev\"\n",
    )]);
    let n = ninja_file(&p, &["--target", LINUX_TRIPLE]);
    let core = command_of(&n, "core");
    assert!(
        core.contains("-C debuginfo=2") && !core.contains("opt-level=3"),
        "dev profile: {core}"
    );
    assert!(n.contains("profile: dev"), "the header names it");
    let n = ninja_file(&p, &["--target", LINUX_TRIPLE, "--profile", "release"]);
    assert!(command_of(&n, "core").contains("opt-level=3"));
    let p = project(&[(
        "sysgen.toml",
        "[dependencies]\ncore = {}\n\n[sysgen]\nprofile = \"turbo\"\n",
    )]);
    let e = error_of(&p, &["ninja", "--target", LINUX_TRIPLE, "-o", "out"]);
    assert!(
        e.contains("sysgen.toml") && e.contains("unknown profile `turbo`"),
        "{e}"
    );
    assert!(!p.join("out").exists());
}

#[test]
fn a_crate_given_a_stage_that_a_lower_stage_needs_is_an_error() {
    let p = project(&[(
        "sysgen.toml",
        "[dependencies]\nstd = {}\nalloc = { stage = 1 }\n",
    )]);
    let e = error_of(&p, &["graph", "--target", LINUX_TRIPLE]);
    assert!(
        e.contains("`alloc` has stage = 1") && e.contains("stage 0 needs it"),
        "{e}"
    );
}

#[test]
fn a_git_server_that_never_answers_stops_generation_with_an_error() {
    // A server that accepts connections and says nothing.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            held.push(s);
        }
    });
    for url in [
        format!("http://127.0.0.1:{port}/repo.git"),
        format!("git://127.0.0.1:{port}/repo.git"),
    ] {
        let p = project(&[(
            "sysgen.toml",
            &format!("[dependencies]\ncore = {{}}\nx = {{ git = \"{url}\", stage = 1 }}\n"),
        )]);
        let m = mock_dir();
        let start = std::time::Instant::now();
        let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
            .current_dir(&p)
            .env("SYSGEN_CACHE_DIR", p.join("cache"))
            .env("SYSGEN_GIT_TIMEOUT", "2")
            .args(["graph", "--target", BARE, "--rust-src"])
            .arg(m.join("library"))
            .arg("--vendor")
            .arg(m.join("vendor"))
            .output()
            .unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{url}: {e}");
        assert!(e.contains("did not finish within 2 s"), "{url}: {e}");
        assert!(
            start.elapsed().as_secs() < 20,
            "{url}: took {:?}",
            start.elapsed()
        );
        let leftovers: Vec<_> = std::fs::read_dir(p.join("cache/git"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(leftovers.is_empty(), "no half clone is left: {leftovers:?}");
    }
}

/// The standard library's crates are built unstable to stable code
/// (`-Zforce-unstable-if-unmarked`, as cargo -Zbuild-std does), and so is a
/// `[patch]` standing in for one of them; a custom crate of the config is
/// an ordinary crate, usable from stable code, as under Xargo. (Found: a
/// stage-1 custom crate was marked too, so `extern crate foo;` failed on
/// stable with E0658.)
#[test]
fn only_the_standard_librarys_crates_are_unstable_to_stable_code() {
    let m = mock_dir();
    let p = project(&[
        (
            "sysgen.toml",
            "[dependencies]\nstd = {}\nfacade = { path = \"facade\", stage = 1 }\n\n[patch.crates-io]\nlibcx = { path = \"libcx\" }\n",
        ),
        (
            "facade/Cargo.toml",
            "[package]\nname = \"facade\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("facade/src/lib.rs", "#![no_std]\n"),
    ]);
    copy_dir(&m.join("vendor/libcx-0.1.2"), &p.join("libcx"));
    let n = ninja_file(&p, &["--target", "x86_64-unknown-linux-gnu"]);
    for krate in ["core", "alloc", "std", "hashmapx", "libcx"] {
        assert!(
            command_of(&n, krate).contains("-Zforce-unstable-if-unmarked"),
            "{krate} is the standard library's"
        );
    }
    let facade = command_of(&n, "facade");
    assert!(!facade.contains("-Zforce-unstable-if-unmarked"), "{facade}");
    assert!(facade.contains("--cap-lints allow"), "{facade}");
}

/// A target that is not built in is looked up by name as rustc looks it
/// up — `NAME.json` in RUST_TARGET_PATH's directories, the working
/// directory when that is unset — once, at generation: from then on it is
/// that spec file, in the build, in regeneration, in `sysgen cargo`.
/// (Found: Xargo's documented `--target powerpc-unknown-linux-uclibc`
/// beside `powerpc-unknown-linux-uclibc.json` passed generation, then
/// failed mid-build with "could not find specification for target",
/// because ninja runs rustc in the build directory.)
#[test]
fn a_custom_target_by_name_is_found_where_rustc_finds_it_and_kept_as_that_file() {
    const NAME: &str = "x86_64-sysgen-linux-gnu";
    let t = tempdir();
    let specs = t.join("specs");
    write(&specs.join(format!("{NAME}.json")), "{}\n");
    let spec = std::fs::canonicalize(specs.join(format!("{NAME}.json"))).unwrap();
    let generate = |cwd: &Path, target_path: Option<&Path>, target: &str| {
        let mut c = sysgen_cmd(cwd);
        c.args([
            "ninja",
            "--no-config",
            "--crates",
            "core",
            "--target",
            target,
            "-o",
        ])
        .arg(t.join("out"))
        .args(mock_toolchain(&mock_dir().join("library")));
        match target_path {
            Some(p) => c.env("RUST_TARGET_PATH", p),
            None => c.env_remove("RUST_TARGET_PATH"),
        };
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read_to_string(t.join("out/build.ninja")).unwrap()
    };
    // Found: compiled by name (its crates carry the name, as the user's
    // compiles by name expect), with RUST_TARGET_PATH at the file's
    // directory, in every compile and in regeneration.
    let found = |n: &str| {
        let dir = format!("RUST_TARGET_PATH={}", spec.parent().unwrap().display());
        n.contains(&format!("--target {NAME} "))
            && n.matches(&dir).count() >= 2
            && !n.contains(&format!("--target {}", spec.display()))
    };
    // In the working directory, when RUST_TARGET_PATH is unset.
    let n = generate(&specs, None, NAME);
    assert!(found(&n), "{n}");
    // In RUST_TARGET_PATH, from anywhere.
    let elsewhere = t.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let n = generate(&elsewhere, Some(&specs), NAME);
    assert!(found(&n));
    // …and then not in the working directory, as in rustc.
    let n = generate(&specs, Some(&elsewhere), NAME);
    assert!(!found(&n) && !n.contains("RUST_TARGET_PATH"));
    // A built-in target is built in, whatever file has its name.
    write(&specs.join("thumbv6m-none-eabi.json"), "{}\n");
    let n = generate(&specs, None, "thumbv6m-none-eabi");
    assert!(n.contains("--target thumbv6m-none-eabi") && !n.contains("thumbv6m-none-eabi.json"));
    // The build, run from elsewhere, compiles against the file.
    let n = generate(&specs, None, NAME);
    assert!(found(&n));
    run_ok(
        Command::new("ninja")
            .arg("-C")
            .arg(t.join("out"))
            .current_dir(&elsewhere),
    );
    assert!(
        t.join(format!("out/sysroot/lib/rustlib/{NAME}/lib/libcore.rlib"))
            .is_file()
    );
    // Bazel takes a custom target as a file: by name is refused, naming it.
    let o = sysgen_cmd(&specs)
        .env_remove("RUST_TARGET_PATH")
        .args([
            "bazel",
            "--no-config",
            "--crates",
            "core",
            "--target",
            NAME,
            "-o",
        ])
        .arg(t.join("bazel"))
        .args(mock_toolchain(&mock_dir().join("library")))
        .output()
        .unwrap();
    let e = one_line_error(&o);
    assert!(
        e.contains(&format!("pass --target {}", spec.display())),
        "{e}"
    );
    // sysgen cargo: the same lookup, and cargo is told it is a spec file.
    let p = crate::support::project(&[("Xargo.toml", "[dependencies.core]\n")]);
    std::fs::copy(&spec, p.join(format!("{NAME}.json"))).unwrap();
    let o = sysgen_cargo(&p, &t.join("store"), &mock_dir().join("library"))
        .env_remove("RUST_TARGET_PATH")
        .args(["build", "--target", NAME])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains(&format!("built sysroot for {NAME}")), "{err}");
    let log = std::fs::read_to_string(p.join("cargo.log")).unwrap();
    assert!(
        log.contains("CARGO_UNSTABLE_JSON_TARGET_SPEC=true"),
        "{log}"
    );
}

/// A custom target's spec is an input like a source file: editing it
/// rebuilds what was compiled for that target, and gives those crates new
/// identities (-C metadata), as cargo's hash of the spec does — two specs
/// of one name never share a crate.
#[test]
fn editing_a_custom_targets_spec_rebuilds_its_crates_under_new_identities() {
    let t = tempdir();
    let spec = t.join("x86_64-sysgen-none.json");
    write(&spec, "{\"llvm-target\": \"x86_64-unknown-none\"}\n");
    let out = t.join("out");
    let generate = || {
        run_ok(
            sysgen_cmd(&t)
                .args(["ninja", "--no-config", "--crates", "core", "--target"])
                .arg(&spec)
                .arg("-o")
                .arg(&out)
                .args(mock_toolchain(&mock_dir().join("library"))),
        );
    };
    // core's -C metadata in the build file as it is now.
    let identity = || {
        std::fs::read_to_string(out.join("build.ninja"))
            .unwrap()
            .split_whitespace()
            .find(|w| w.starts_with("metadata="))
            .expect("core has -C metadata")
            .to_string()
    };
    generate();
    let before = identity();
    let n = std::fs::read_to_string(out.join("build.ninja")).unwrap();
    assert!(n.contains(&spec.display().to_string()), "{n}");
    run_ok(Command::new("ninja").arg("-C").arg(&out));
    let up_to_date = |out: &Path| {
        let o = Command::new("ninja")
            .args(["-n", "-d", "explain", "-C"])
            .arg(out)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).contains("no work to do")
    };
    assert!(up_to_date(&out));
    // The same name, another spec: the build rebuilds core…
    write(
        &spec,
        "{\"llvm-target\": \"x86_64-unknown-none\", \"cpu\": \"x86-64-v3\"}\n",
    );
    assert!(!up_to_date(&out), "an edited spec rebuilds nothing");
    let o = run_ok(Command::new("ninja").arg("-C").arg(&out));
    assert!(o.contains("RUSTC core"), "{o}");
    assert!(up_to_date(&out));
    // …under another identity.
    assert_ne!(identity(), before);
    // The same spec again: the same identity (the spec's content counts,
    // not when it was written).
    write(&spec, "{\"llvm-target\": \"x86_64-unknown-none\"}\n");
    generate();
    assert_eq!(identity(), before);
}

/// A spec reached through a symbolic link is that link, as rustc reads it:
/// rustc names the target after the stem of what it was given, and looks
/// for `NAME.json` in a directory — following the link to its target's
/// directory would find another file there. (Found: `link2.json ->
/// d3/m0.json` with another `d3/link2.json` present compiled with the
/// other spec.) A FIFO is said to be one, not "missing".
#[test]
fn a_spec_reached_through_a_link_is_that_link_everywhere() {
    const LINK: &str = "link-sysgen-linux-gnu";
    let t = tempdir();
    let specs = t.join("specs");
    write(
        &specs.join("d3/m0-sysgen-linux-gnu.json"),
        "{\"the\": \"linked one\"}\n",
    );
    write(
        &specs.join(format!("d3/{LINK}.json")),
        "{\"the\": \"other one\"}\n",
    );
    std::os::unix::fs::symlink(
        specs.join("d3/m0-sysgen-linux-gnu.json"),
        specs.join(format!("{LINK}.json")),
    )
    .unwrap();
    let generate = |target: &str| {
        let o = sysgen_cmd(&specs)
            .env_remove("RUST_TARGET_PATH")
            .args([
                "ninja",
                "--no-config",
                "--crates",
                "core",
                "--target",
                target,
                "-o",
            ])
            .arg(t.join("out"))
            .args(mock_toolchain(&mock_dir().join("library")))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read_to_string(t.join("out/build.ninja")).unwrap()
    };
    let specs_dir = std::fs::canonicalize(&specs).unwrap();
    // By name: RUST_TARGET_PATH is where the link is, not where it points.
    let n = generate(LINK);
    assert!(
        n.contains(&format!("RUST_TARGET_PATH={} ", specs_dir.display())),
        "{n}"
    );
    assert!(!n.contains("/d3"), "{n}");
    // By path: the target is named after the link, as rustc names it.
    let n = generate(&format!("{LINK}.json"));
    assert!(
        n.contains(&format!("--target {}/{LINK}.json", specs_dir.display())),
        "{n}"
    );
    assert!(n.contains(&format!("sysroot/lib/rustlib/{LINK}/lib/libcore.rlib")));

    // A FIFO where a spec is named: said so, never opened.
    let fifo = specs.join("fifo-sysgen-linux-gnu.json");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let o = sysgen_cmd(&specs)
        .args(["graph", "--no-config", "--crates", "core", "--target"])
        .arg(&fifo)
        .args(mock_toolchain(&mock_dir().join("library")))
        .output()
        .unwrap();
    let e = one_line_error(&o);
    assert!(e.contains("is a FIFO"), "{e}");
}
