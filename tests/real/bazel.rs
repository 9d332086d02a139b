//! `sysgen bazel`, checked with a real Bazel (Debian's bazel-bootstrap,
//! installed by scripts/setup): sysroots built by Bazel are byte-identical
//! to the Ninja build's, programs run against them, a second build executes
//! nothing, a copy elsewhere gets every action from a shared disk cache and
//! a checkout elsewhere every action from a remote cache (nginx), the
//! query graph is sysgen's graph, and monorepos can use the generated
//! repository or generate it at fetch time.

use std::collections::BTreeSet;

use std::path::{Path, PathBuf};

use std::process::Command;

use crate::support::*;

/// `bazel --batch …` in `ws` with an output base of its own (no server
/// outlives the test).
fn bazel(ws: &Path, args: &[&str]) -> String {
    let base = ws.with_extension("output-base");
    run_ok(
        Command::new("bazel")
            .current_dir(ws)
            .arg("--batch")
            .arg(format!("--output_base={}", base.display()))
            .args(args),
    )
}

/// Bazel's summary of what it ran: `45 processes: 32 remote cache hit, 13 internal.`
pub(crate) fn processes(out: &str) -> String {
    out.lines()
        .filter_map(|l| l.strip_prefix("INFO: "))
        .find(|l| l.contains(" process"))
        .unwrap_or_else(|| panic!("no process summary in:\n{out}"))
        .to_string()
}

/// An empty directory of the test's own, and no Bazel output base beside it.
pub(crate) fn fresh(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    let _ = std::fs::remove_dir_all(d.with_extension("output-base"));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn host() -> String {
    run_ok(Command::new("rustc").arg("-vV"))
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .unwrap()
}

/// The units' dependency edges as (from, to) names a reader recognises:
/// `T/crate`, `host/crate`, `script/package`, `run/T/package`.
fn model_edges(args: &[&str]) -> BTreeSet<(String, String)> {
    let o = sysgen_in(
        Path::new("."),
        &[&["graph", "--format", "crates"], args].concat(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let units = m["units"].as_array().unwrap();
    let target = |u: &serde_json::Value| match u["target"].as_u64() {
        Some(t) => m["targets"][t as usize]["name"]
            .as_str()
            .unwrap()
            .to_string(),
        None => "host".into(),
    };
    let name = |id: &serde_json::Value| {
        let u = &units[id.as_u64().unwrap() as usize];
        let b = &u["body"];
        match (b["kind"].as_str().unwrap(), b["crate_type"].as_str()) {
            ("run", _) => format!("run/{}/{}", target(u), u["package"].as_str().unwrap()),
            (_, Some("bin")) => format!("script/{}", u["package"].as_str().unwrap()),
            _ => format!("{}/{}", target(u), b["crate_name"].as_str().unwrap()),
        }
    };
    let mut edges = BTreeSet::new();
    for u in units {
        let from = name(&u["id"]);
        let b = &u["body"];
        for d in b["deps"].as_array().into_iter().flatten() {
            edges.insert((from.clone(), name(&d["unit"])));
        }
        if !b["build_script"].is_null() {
            edges.insert((from.clone(), name(&b["build_script"])));
        }
        if !b["script"].is_null() {
            edges.insert((from.clone(), name(&b["script"])));
        }
        for l in b["links_deps"].as_array().into_iter().flatten() {
            edges.insert((from.clone(), name(&l[1])));
        }
    }
    edges
}

/// The same edges from `bazel query … --output=graph`.
fn bazel_edges(ws: &Path, sysroot: &str) -> BTreeSet<(String, String)> {
    let q =
        format!("kind(\"rust_library|rust_build_script|cargo_build_script\", deps(//:{sysroot}))");
    let out = bazel(ws, &["query", &q, "--output=graph", "--nograph:factored"]);
    let name = |label: &str| {
        let l = label.trim_matches('"').trim_start_matches("//:");
        if let Some(rest) = l.strip_suffix("-build-script-run") {
            let (t, pkg) = rest.split_once('/').unwrap();
            format!("run/{t}/{pkg}")
        } else if let Some(rest) = l.strip_suffix("-build-script") {
            // host/<package>-<hash>-build-script
            let pkg = rest.trim_start_matches("host/");
            format!("script/{}", &pkg[..pkg.rfind('-').unwrap()])
        } else if let Some(rest) = l.strip_prefix("host/") {
            format!("host/{}", &rest[..rest.rfind('-').unwrap()])
        } else {
            l.to_string()
        }
    };
    out.lines()
        .filter_map(|l| l.trim().split_once(" -> "))
        .map(|(a, b)| (name(a), name(b)))
        .collect()
}

#[test]
fn host_std_built_by_bazel_is_the_ninja_sysroot_and_runs_programs() {
    let h = host();
    let ws = fresh("bazel-host");
    let cache = fresh("bazel-disk-cache");
    let o = sysgen_in(&ws, &[&["bazel", "-o", "."], HOST_STD].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A user's program in the same workspace, compiled by the rust_binary rule.
    write(
        &ws.join("examples/hello/main.rs"),
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/host_std.rs"),
        )
        .unwrap(),
    );
    write(
        &ws.join("examples/hello/BUILD.bazel"),
        &format!(
            "load(\"//:defs.bzl\", \"rust_binary\")\n\nrust_binary(\n    name = \"hello\",\n    crate_name = \"host_std\",\n    crate_root = \"main.rs\",\n    sysroot = \"//:sysroot-{h}\",\n    rustc_flags = [\"-O\", \"-g\"],\n)\n"
        ),
    );
    let disk_cache = format!("--disk_cache={}", cache.display());
    let sysroot_target = format!("//:sysroot-{h}");
    bazel(&ws, &["build", &disk_cache, &sysroot_target]);

    // Byte for byte the Ninja build's sysroot.
    let ninja = shared_build("host-std", HOST_STD);
    let lib = format!("sysroot-{h}/lib/rustlib/{h}/lib");
    let bazel_sysroot = ws.join("bazel-bin").join(format!("sysroot-{h}"));
    let diffs = sysroot_differences(&bazel_sysroot, &ninja.join("sysroot"));
    assert!(diffs.is_empty(), "{diffs:#?}");
    assert!(
        ws.join("bazel-bin")
            .join(&lib)
            .join("libstd.rlib")
            .is_file()
    );

    // A program against it, by rustc --sysroot and by the Bazel rule.
    let exe = ws.with_extension("host_std");
    run_ok(
        Command::new("rustc")
            .arg("--sysroot")
            .arg(ws.join("bazel-bin").join(format!("sysroot-{h}")))
            .args(["-O", "-g", "-o"])
            .arg(&exe)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/host_std.rs")),
    );
    let expected = "sum of squares: 14\ncaught panic: true\nbacktrace names main: true\n";
    assert_eq!(run_ok(&mut Command::new(&exe)), expected);
    let out = bazel(&ws, &["run", &disk_cache, "//examples/hello"]);
    assert!(out.contains(expected), "{out}");

    // A second build executes no action.
    let again = bazel(&ws, &["build", &disk_cache, &sysroot_target]);
    assert_eq!(processes(&again), "1 process: 1 internal.", "{again}");

    // The same repository in another directory: every action a cache hit.
    let copy = fresh("bazel-host-copy");
    for e in std::fs::read_dir(&ws).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, copy.join(p.file_name().unwrap())).unwrap();
        }
    }
    copy_dir(&ws.join("manifests"), &copy.join("manifests"));
    let out = bazel(&copy, &["build", &disk_cache, &sysroot_target]);
    let summary = processes(&out);
    assert!(
        summary.contains("remote cache hit") && !summary.contains("sandbox"),
        "every action a cache hit: {summary}"
    );

    // The query graph is sysgen's graph.
    let want = model_edges(HOST_STD);
    assert!(want.len() > 40, "{want:?}");
    assert_eq!(bazel_edges(&ws, &format!("sysroot-{h}")), want);
}

/// Bazel's remote cache across checkouts: a second checkout, with rust-src,
/// the registry sources and the output at other absolute paths, gets
/// every action from the same nginx (Bazel's HTTP cache protocol) and the
/// same libcore.
#[test]
fn a_checkout_elsewhere_gets_every_action_from_a_shared_remote_cache() {
    let nginx = crate::cache_server::Nginx::start(&tempdir());
    let remote = format!("--remote_cache={}", nginx.url());
    let target = "//:sysroot-thumbv6m-none-eabi";
    let select = ["--target", "thumbv6m-none-eabi", "--crates", "core,alloc"];
    let a = fresh("bazel-remote-a");
    let o = sysgen_in(&a, &[&["bazel", "-o", "."], &select[..]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let first = processes(&bazel(&a, &["build", &remote, target]));
    assert!(!first.contains("remote cache hit"), "a cold cache: {first}");
    assert!(!nginx.ac().is_empty(), "Bazel uploaded its action results");

    let b = fresh("bazel-remote-b");
    let (library, vendor) = relocated_sources(&fresh("bazel-remote-b-sources"));
    let (library, vendor) = (library.to_str().unwrap(), vendor.to_str().unwrap());
    let o = sysgen_in(
        &b,
        &[
            &[
                "bazel",
                "-o",
                ".",
                "--rust-src",
                library,
                "--vendor",
                vendor,
            ],
            &select[..],
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = processes(&bazel(&b, &["build", &remote, target]));
    // `9 processes: 7 remote cache hit, 2 internal.`
    let hits: usize = summary
        .split([':', ','])
        .find(|p| p.ends_with("remote cache hit"))
        .and_then(|p| p.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    assert!(hits > 0, "{summary}");
    eprintln!("second checkout: {summary}");
    for local in ["sandbox", "local", "worker"] {
        assert!(!summary.contains(local), "no action ran here: {summary}");
    }
    let core =
        "bazel-bin/sysroot-thumbv6m-none-eabi/lib/rustlib/thumbv6m-none-eabi/lib/libcore.rlib";
    assert_eq!(
        std::fs::read(a.join(core)).unwrap(),
        std::fs::read(b.join(core)).unwrap(),
        "the same libcore"
    );
}

/// A monorepo that points at the generated repository with local_repository:
/// two bare-metal targets and a stage-1 crate built against stage 0; and one
/// that generates the repository at fetch time with the rule of
/// repository.bzl.
#[test]
fn monorepos_use_the_generated_repository_or_generate_it_at_fetch_time() {
    let project = fresh("bazel-project");
    write(
        &project.join("sysgen.toml"),
        "[dependencies]\ncore = {}\nalloc = {}\ntiny = { path = \"tiny\", stage = 1 }\n\n[sysgen]\ntargets = [\"thumbv6m-none-eabi\", \"riscv64gc-unknown-none-elf\"]\n",
    );
    write(
        &project.join("tiny/Cargo.toml"),
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(
        &project.join("tiny/src/lib.rs"),
        "#![no_std]\nextern crate alloc;\npub fn twice(v: &alloc::vec::Vec<u32>) -> u32 { v.iter().sum::<u32>() * 2 }\n",
    );
    let generated = project.join("third_party/sysroot");
    let o = sysgen_in(&project, &["bazel", "-o", "third_party/sysroot"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mono = fresh("bazel-monorepo");
    write(
        &mono.join("WORKSPACE"),
        &format!(
            "workspace(name = \"mono\")\n\nlocal_repository(name = \"sysgen_sysroot\", path = \"{}\")\n\nload(\"@sysgen_sysroot//:defs.bzl\", \"sysgen_repositories\")\n\nsysgen_repositories()\n",
            generated.display()
        ),
    );
    write(&mono.join("BUILD.bazel"), "");
    bazel(
        &mono,
        &[
            "build",
            "@sysgen_sysroot//:sysroot-thumbv6m-none-eabi",
            "@sysgen_sysroot//:sysroot-riscv64gc-unknown-none-elf",
        ],
    );
    for t in ["thumbv6m-none-eabi", "riscv64gc-unknown-none-elf"] {
        let lib = mono
            .join("bazel-bin/external/sysgen_sysroot")
            .join(format!("sysroot-{t}/lib/rustlib/{t}/lib"));
        for f in ["libcore.rlib", "liballoc.rlib", "libtiny.rlib"] {
            assert!(lib.join(f).is_file(), "{t}: {f}");
        }
    }
    // A no_std program for Cortex-M0 against it runs under qemu.
    let sysroot = mono.join("bazel-bin/external/sysgen_sysroot/sysroot-thumbv6m-none-eabi");
    let exe = mono.join("bare_arm");
    run_ok(
        Command::new("rustc")
            .arg("--sysroot")
            .arg(&sysroot)
            .args([
                "--target",
                "thumbv6m-none-eabi",
                "-O",
                "-Cpanic=abort",
                "-o",
            ])
            .arg(&exe)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/bare_arm.rs")),
    );
    assert_eq!(
        run_ok(Command::new("qemu-arm").arg(&exe)),
        "no_std sum: 55\n"
    );

    // Generated at fetch time from a config label.
    let fetch = fresh("bazel-fetch");
    std::fs::copy(generated.join("repository.bzl"), fetch.join("sysgen.bzl")).unwrap();
    write(&fetch.join("sysroot.toml"), "[dependencies]\ncore = {}\n");
    write(
        &fetch.join("BUILD.bazel"),
        "exports_files([\"sysroot.toml\"])\n",
    );
    write(
        &fetch.join("WORKSPACE"),
        &format!(
            "workspace(name = \"fetch\")\n\nload(\"//:sysgen.bzl\", \"sysgen_sysroot\")\n\nsysgen_sysroot(\n    name = \"sysroot\",\n    sysgen = \"{}\",\n    config = \"//:sysroot.toml\",\n    targets = [\"thumbv6m-none-eabi\"],\n)\n\nload(\"@sysroot//:defs.bzl\", \"sysgen_repositories\")\n\nsysgen_repositories()\n",
            env!("CARGO_BIN_EXE_sysgen")
        ),
    );
    bazel(&fetch, &["build", "@sysroot//:sysroot-thumbv6m-none-eabi"]);
    let lib = fetch.join(
        "bazel-bin/external/sysroot/sysroot-thumbv6m-none-eabi/lib/rustlib/thumbv6m-none-eabi/lib",
    );
    assert!(lib.join("libcore.rlib").is_file() && lib.join("libcompiler_builtins.rlib").is_file());
}

/// Under Bazel too, every rustflag reaches rustc byte for byte, from a
/// rust-src whose path Starlark must quote: a handful of hostile flags go
/// to the stand-in rustc, which records its argv (outside the sandbox:
/// Bazel gives actions an environment of its own, so the place is written
/// into a copy of the stand-in). Nothing runs but sysgen and rustc: the
/// actions' PATH holds no `pwned`, and Bazel runs argv without a shell.
#[test]
fn every_rustflag_reaches_rustc_byte_for_byte_under_bazel() {
    let t = fresh("bazel-argv");
    let argv = t.join("argv");
    std::fs::create_dir_all(&argv).unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-toolchain"),
        &t.join("tc"),
    );
    let rustc = t.join("tc/bin/rustc");
    let text = std::fs::read_to_string(&rustc).unwrap();
    let text = text.replacen(
        "set -u\n",
        &format!("set -u\nFAKE_RUSTC_ARGV='{}'\n", argv.display()),
        1,
    );
    std::fs::write(&rustc, text).unwrap();
    let lib = t.join("li\"b\\ $x'é");
    copy_dir(&mock_dir().join("library"), &lib);
    let flags = [
        "-Ca=x\"y\\z",
        "-Cb=$(pwned)`pwned`;pwned",
        "-Cc=a b\tc",
        "-Cd={}%s{0}",
        "-Ce=#'é😀",
        "-Cf=${pwd}/$PWD",
        "-Cg=$(location //:x) @x",
        // Bazel's Make-variable and location forms, and its `$$` escape:
        // defs.bzl expands none of them (it never calls
        // ctx.expand_make_variables or ctx.expand_location), so each must
        // arrive as written.
        "-Ch=$(BINDIR)/$(TARGET_CPU) $(COMPILATION_MODE)",
        "-Ci=$(exe //:x)$(execpath //:x)$(rootpath //:x)$(locations //:x)",
        "-Cj=$$ $$(x) \\$(x) $(",
    ];
    let ws = t.join("ws");
    let o = sysgen_cmd(&t)
        .args(["bazel", "--no-config", "--crates", "core", "-o"])
        .arg(&ws)
        .args(["--rustc".as_ref(), rustc.as_os_str()])
        .args(&mock_toolchain(&lib)[2..])
        .args(flags.iter().map(|f| format!("--rustflag={f}")))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let h = "x86_64-unknown-linux-gnu";
    bazel(
        &ws,
        &[
            "build",
            "--spawn_strategy=local",
            &format!("//:sysroot-{h}"),
        ],
    );
    let mut compiles = 0;
    for e in std::fs::read_dir(&argv).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        let args: Vec<&str> = text.split_terminator('\0').collect();
        if args.contains(&"core") {
            compiles += 1;
            assert!(
                args.windows(flags.len()).any(|w| w == flags),
                "the flags did not reach rustc as given: {args:?}"
            );
        }
    }
    assert_eq!(compiles, 1, "core was compiled once");
}
