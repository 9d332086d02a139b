//! `sysgen buck2` under a real buck2 (`../shared/tools/buck2`, facebook/buck2
//! at 13baa8a1 with its prelude bundled; installed by scripts/setup): a
//! project set up as README's Buck2 section says builds the sysroot's
//! crates and a user's program against them, and a second build runs
//! nothing; the crates get the flags the Ninja build gives them but for the
//! differences listed here, each explained; a Cortex-M0 cell builds a
//! `#![no_std]` library and a binary that runs under qemu; and hostile
//! rustflags reach a stand-in rustc byte for byte, Buck2's macro syntax
//! (`$(exe …)`, `$(location …)`) expanding nothing. (The starlark-rust
//! evaluation of the cell, in tests/fast/buck2.rs, stays as the quick check.)

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::oracle;
use crate::support::*;

/// A Buck2 project as README's Buck2 section sets one up: the sysroot cell
/// in `third_party/sysroot`, the prelude bundled in buck2, the prelude's
/// system toolchains (gcc as the C++ toolchain; `linker` its linker for
/// code of the user's configuration, gcc for build scripts), and
/// `toolchains//:rust` pointing at the cell's toolchain. Its daemon is
/// killed when dropped.
struct Project {
    dir: PathBuf,
}

impl Project {
    fn new(name: &str, cell_args: &[&str], rustc: Option<&Path>, linker: Option<&Path>) -> Project {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("buck2")
            .join(name);
        if dir.exists() {
            let _ = Command::new("buck2").arg("kill").current_dir(&dir).output();
            std::fs::remove_dir_all(&dir).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        let mut c = Command::new(env!("CARGO_BIN_EXE_sysgen"));
        c.current_dir(&dir)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .args(["buck2", "-o", "third_party/sysroot"])
            .args(cell_args);
        if let Some(r) = rustc {
            c.arg("--rustc").arg(r);
        }
        run_ok(&mut c);
        write(&dir.join(".buckconfig"), BUCKCONFIG);
        let linker = match linker {
            Some(l) => format!(
                "select({{\"sysroot//:build-script\": \"g++\", \"DEFAULT\": \"{}\"}})",
                l.display()
            ),
            None => "\"g++\"".into(),
        };
        write(
            &dir.join("toolchains/BUCK"),
            &TOOLCHAINS.replace("LINKER", &linker),
        );
        write(&dir.join("BUCK"), "");
        Project { dir }
    }

    fn buck2(&self, args: &[&str]) -> String {
        run_ok(
            Command::new("buck2")
                .current_dir(&self.dir)
                .args(args)
                .env_remove("RUSTFLAGS")
                .env_remove("CARGO_ENCODED_RUSTFLAGS"),
        )
    }

    /// Build `target`: the path of its output.
    fn build(&self, target: &str) -> PathBuf {
        let out = self.buck2(&["build", target, "--show-output"]);
        let line = out
            .lines()
            .find(|l| {
                l.split_whitespace()
                    .next()
                    .is_some_and(|label| label.ends_with(target))
            })
            .unwrap_or_else(|| panic!("no output of {target} in {out}"));
        self.dir.join(line.split_whitespace().last().unwrap())
    }

    /// The commands the last build ran.
    fn what_ran(&self) -> Vec<String> {
        self.buck2(&["log", "what-ran"])
            .lines()
            .filter(|l| !l.starts_with("Showing commands"))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = Command::new("buck2")
            .arg("kill")
            .current_dir(&self.dir)
            .output();
    }
}

const BUCKCONFIG: &str = "[cells]
  root = .
  prelude = prelude
  toolchains = toolchains
  none = none
  sysroot = third_party/sysroot

[external_cells]
  prelude = bundled

[cell_aliases]
  config = prelude
  ovr_config = prelude
  fbcode = none
  fbsource = none
  fbcode_macros = none
  buck = none

[parser]
  target_platform_detector_spec = target:root//...->prelude//platforms:default target:prelude//...->prelude//platforms:default target:toolchains//...->prelude//platforms:default target:sysroot//...->prelude//platforms:default

[build]
  execution_platforms = prelude//platforms:default

[buildfile]
  name = BUCK
";

const TOOLCHAINS: &str = "load(\"@prelude//toolchains:cxx.bzl\", \"system_cxx_toolchain\")
load(\"@prelude//toolchains:genrule.bzl\", \"system_genrule_toolchain\")
load(\"@prelude//toolchains:python.bzl\", \"system_python_bootstrap_toolchain\", \"system_python_toolchain\")
load(\"@sysroot//:toolchain.bzl\", \"toolchain_alias\")

system_cxx_toolchain(
    name = \"cxx\",
    compiler = \"gcc\",
    compiler_type = \"gcc\",
    cxx_compiler = \"g++\",
    linker = LINKER,
    visibility = [\"PUBLIC\"],
)
system_genrule_toolchain(name = \"genrule\", visibility = [\"PUBLIC\"])
system_python_bootstrap_toolchain(name = \"python_bootstrap\", visibility = [\"PUBLIC\"])
system_python_toolchain(name = \"python\", visibility = [\"PUBLIC\"])
toolchain_alias(name = \"rust\", actual = \"sysroot//:rust\", visibility = [\"PUBLIC\"])
";

fn program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/programs")
        .join(name)
}

/// What only Buck2's prelude passes to a sysroot crate, and why: the
/// reasons its rlibs are not the Ninja build's bytes. Besides these, the
/// prelude's `-Cmetadata` (from the target's label and configuration),
/// `-Cextra-filename`, `--sysroot` (an empty directory), its JSON
/// diagnostics flags and its paths differ, and the comparison skips them,
/// as it skips Ninja's.
const BUCK2_ONLY: &[(&str, &str)] = &[
    (
        "-Crelocation-model=pic",
        "the prelude builds every rlib position-independent (its `[pic]` link style), where the Ninja build follows the target's default",
    ),
    (
        "-Zremap-cwd-prefix=.",
        "the prelude makes rustc record paths relative to the project; sysgen remaps each root to a fixed name instead",
    ),
];

/// A flag set in one spelling: Buck2 writes `--flag=value` where the Ninja
/// build writes `--flag value`; `--extern` by name only (the prelude
/// passes no `priv:`, which only changes which dependencies rustc reports
/// as exported-private); what names a path, the edition and the crate type
/// (the prelude's `rlib` is rustc's `lib` for a library: the same output)
/// left out.
fn canonical(set: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in set {
        let f = ["--cfg=", "--check-cfg=", "--cap-lints=", "--target="]
            .iter()
            .find_map(|p| {
                f.strip_prefix(p)
                    .map(|v| format!("{} {v}", p.trim_end_matches('=')))
            })
            .unwrap_or_else(|| f.clone());
        if let Some(e) = f
            .strip_prefix("--extern")
            .map(|e| e.trim_start_matches([' ', '=']))
        {
            let e = e.split('=').next().unwrap();
            out.insert(format!("--extern {}", e.rsplit(':').next().unwrap()));
            continue;
        }
        let skip = [
            "--edition",
            "--crate-type",
            "--crate-name",
            "--sysroot",
            "-Cextra-filename=",
            "-Cmetadata=",
            "--out-dir",
            "-Ldependency=",
            "-L dependency=",
        ];
        if !skip.iter().any(|p| f.starts_with(p)) {
            out.insert(f);
        }
    }
    out
}

/// Every `--check-cfg` a build script printed in the Ninja build in `out`:
/// the prelude's buildscript_run passes a script's `rustc-cfg`, `rustc-env`
/// and link lines, not its `rustc-check-cfg` (every sysroot crate's lints
/// are capped, so nothing is reported either way).
fn script_check_cfgs(out: &Path) -> BTreeSet<String> {
    let mut v = BTreeSet::new();
    for f in files_below(&out.join("build")) {
        if f.file_name().is_some_and(|n| n == "args") {
            let text = std::fs::read_to_string(out.join("build").join(&f)).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for w in lines.windows(2) {
                if w[0] == "--check-cfg" {
                    v.insert(format!("--check-cfg {}", w[1]));
                }
            }
        }
    }
    v
}

/// A sysroot crate's rustc flags under Buck2, from its rlib action's
/// argument file (the prelude's rustc_action wrapper arguments left out,
/// `@files` read in, relative to the project).
fn buck2_calls(p: &Project) -> oracle::Calls {
    let art = p.dir.join("buck-out/v2/art/sysroot");
    let mut calls = oracle::Calls::new();
    for f in files_below(&art) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with("-rlib-diag.args") || !f.to_string_lossy().contains("/LPPR/") {
            continue;
        }
        let text = std::fs::read_to_string(art.join(&f)).unwrap();
        let words: Vec<String> = text.lines().map(str::to_string).collect();
        let Some(sep) = words.iter().position(|w| w == "--rustc-action-separator") else {
            continue;
        };
        let args = &words[sep + 1..];
        let Some(krate) = args.iter().find_map(|a| a.strip_prefix("--crate-name=")) else {
            continue;
        };
        let src = args.iter().find(|a| a.ends_with(".rs")).unwrap();
        let rel = src.split("/sources/").nth(1).unwrap_or(src);
        let rel = rel.split_once('/').map_or(rel, |(_, r)| r);
        calls.insert(
            (krate.to_string(), rel.to_string()),
            canonical(&oracle::normalize(args, Some(&p.dir))),
        );
    }
    calls
}

#[test]
fn a_host_std_cell_builds_a_users_program_and_a_second_build_runs_nothing() {
    let p = Project::new("host-std", HOST_STD, None, None);
    write(
        &p.dir.join("hello/BUCK"),
        "rust_binary(name = \"host_std\", srcs = [\"host_std.rs\"], crate_root = \"host_std.rs\")\n",
    );
    std::fs::copy(program("host_std.rs"), p.dir.join("hello/host_std.rs")).unwrap();
    let exe = p.build("//hello:host_std");
    let out = stdout_ok(&mut Command::new(&exe));
    assert!(
        out.starts_with("sum of squares: 14\ncaught panic: true\n"),
        "{out}"
    );
    // A second build runs nothing.
    p.build("//hello:host_std");
    assert_eq!(p.what_ran(), Vec::<String>::new());

    // The sysroot's crates: the Ninja build's flags, but for what the
    // prelude does otherwise (each listed above with its reason).
    let out = shared_build("host-std", HOST_STD);
    let from_scripts = script_check_cfgs(&out);
    let ninja = oracle::sysgen_calls(&out);
    let buck2 = buck2_calls(&p);
    assert!(buck2.len() >= 20, "{} crates read", buck2.len());
    let mut problems = Vec::new();
    let mut used = BTreeSet::new();
    for (key, want) in ninja.iter().filter(|((c, _), _)| c != "build_script_build") {
        let Some(got) = buck2.get(key) else {
            problems.push(format!("{key:?}: no Buck2 action"));
            continue;
        };
        let want = canonical(want);
        for f in got.difference(&want) {
            // A build script's `rustc-env`: the prelude writes it as
            // `--env-set`, which the cell's compiler (`sysgen rustc-env`)
            // moves into rustc's environment, where Ninja's wrapper sets it.
            if f.starts_with("--env-set=") {
                continue;
            }
            match BUCK2_ONLY.iter().find(|(b, _)| b == f) {
                Some(_) => {
                    used.insert(f.clone());
                }
                None => problems.push(format!("{} ({}): only Buck2 passes `{f}`", key.0, key.1)),
            }
        }
        for f in want.difference(got) {
            if !from_scripts.contains(f) {
                problems.push(format!("{} ({}): only Ninja passes `{f}`", key.0, key.1));
            }
        }
    }
    for (f, _) in BUCK2_ONLY {
        if !used.contains(*f) {
            problems.push(format!("`{f}` is listed but never differs"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_cortex_m0_cell_builds_a_no_std_library_and_a_binary_that_runs() {
    let lld = oracle::rustc_of(None);
    let sysroot = stdout_ok(Command::new(&lld).args(["--print", "sysroot"]));
    let lld = Path::new(sysroot.trim()).join("lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld");
    let p = Project::new(
        "thumbv6m",
        &["--target", "thumbv6m-none-eabi", "--crates", "core,alloc"],
        None,
        Some(&lld),
    );
    write(
        &p.dir.join("nostd/BUCK"),
        "rust_library(name = \"twice\", srcs = [\"lib.rs\"], crate_root = \"lib.rs\")\n\
         rust_binary(name = \"bare_arm\", srcs = [\"bare_arm.rs\", \"bump.rs\"], crate_root = \"bare_arm.rs\", deps = [\":twice\"], rustc_flags = [\"-Cpanic=abort\"])\n",
    );
    write(
        &p.dir.join("nostd/lib.rs"),
        "#![no_std]\nextern crate alloc;\npub fn twice(v: &alloc::vec::Vec<u32>) -> u32 { v.iter().sum::<u32>() * 2 }\n",
    );
    for f in ["bare_arm.rs", "bump.rs"] {
        std::fs::copy(program(f), p.dir.join("nostd").join(f)).unwrap();
    }
    p.build("//nostd:twice");
    let exe = p.build("//nostd:bare_arm");
    assert_eq!(
        stdout_ok(Command::new("qemu-arm").arg(&exe)),
        "no_std sum: 55\n"
    );
}

/// Every rustflag reaches rustc byte for byte under Buck2 too: Buck2's
/// macros (`$(exe …)`, `$(location …)`, an escaped `\$(`) expand nothing,
/// and nothing runs but the prelude's tools and rustc. (Found by the
/// hostile probe: `--rustflag '-Clink-arg=$(exe //:evil)'` pulled a target
/// into the sysroot's build.)
#[test]
fn every_rustflag_reaches_rustc_byte_for_byte_under_buck2() {
    let t = tempdir();
    let argv = t.join("argv");
    std::fs::create_dir_all(&argv).unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-toolchain"),
        &t.join("tc"),
    );
    let rustc = t.join("tc/bin/rustc");
    let text = std::fs::read_to_string(&rustc).unwrap();
    executable(
        &rustc,
        &text.replacen(
            "set -u\n",
            &format!("set -u\nFAKE_RUSTC_ARGV='{}'\n", argv.display()),
            1,
        ),
    );
    let flags = [
        "-Ca=$(exe //:evil)",
        "-Cb=$(location //:evil) $(query_targets //...)",
        "-Cc=\\\\$(exe //:evil)",
        "-Cd=x\"y\\z #'é😀",
        "-Ce=$(a $(b)) $(c",
        "-Cf=${pwd}/$PWD;`pwned`",
        "-Cg=$$(x) $",
    ];
    let mut args: Vec<String> = [
        "--target",
        "thumbv6m-none-eabi",
        "--crates",
        "core",
        "--no-config",
        "--vendor",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(mock_dir().join("vendor").display().to_string());
    args.push("--rust-src".into());
    args.push(mock_dir().join("library").display().to_string());
    args.extend(flags.iter().map(|f| format!("--rustflag={f}")));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let p = Project::new("hostile", &refs, Some(&rustc), None);
    // A target that must never be built: `$(exe //:evil)` would run it.
    write(
        &p.dir.join("BUCK"),
        "genrule(name = \"evil\", out = \"evil\", cmd = \"touch $OUT; touch /tmp/sysgen-buck2-pwned\")\n",
    );
    let _ = std::fs::remove_file("/tmp/sysgen-buck2-pwned");
    p.buck2(&["build", "sysroot//:sysroot-core"]);
    assert!(
        !Path::new("/tmp/sysgen-buck2-pwned").exists(),
        "a macro ran //:evil"
    );
    let mut compiles = 0;
    for e in std::fs::read_dir(&argv).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        let args: Vec<&str> = text.split_terminator('\0').collect();
        if args.contains(&"--crate-name=core") {
            compiles += 1;
            assert!(
                args.windows(flags.len()).any(|w| w == flags),
                "the flags did not reach rustc as given: {args:?}"
            );
        }
    }
    assert!(compiles >= 1, "core was compiled");
}
