//! `sysgen buck2`: the crate model as rules of Buck2's own prelude.
//!
//! One `rust_library` per sysroot crate, each build script as a
//! `rust_binary` run by the prelude's `buildscript_run` (its `[out_dir]`
//! and `[rustc_flags]` sub-targets feed the crate), and a toolchain
//! (`toolchain.bzl`) whose `explicit_sysroot_deps` select on three
//! configurations of the cell:
//!
//! - `:sysroot-crate` (the platform `:sysroot-crates`, which every crate of
//!   the sysroot is configured with through a `configured_alias`): an
//!   explicit sysroot with nothing in it — the crates name each other;
//! - `:build-script` (the platform `:build-scripts`, for build scripts and
//!   their host dependencies): no explicit sysroot, so rustc uses the
//!   host's prebuilt std;
//! - anything else (a user's `rust_binary`): the emitted crates, through
//!   those aliases.
//!
//! Every rule is a typed [`Rule`] serialized by the shared Starlark module,
//! in the model's unit order, so the cell is deterministic. Which of the
//! model's flags become attributes, which the prelude adds itself and which
//! are dropped is decided in one place, [`flag_use`] (the table in
//! ARCHITECTURE.md). Sources are reached through symlinks the command makes
//! (`sources/<root>`), since Buck2 reads sources only inside the project.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::Result;

use crate::emit::starlark::{Rule, Value, check_label};
use crate::library::profile::PanicStrategy;
use crate::model::{Body, CrateType, EnvValue, Flag, Model, RootId, SrcPath, UnitDecl};
use crate::user_bail;

const TOOLCHAIN: &str = include_str!("../../templates/toolchain.bzl");

/// What becomes of one of the model's flags under the prelude.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagUse {
    /// `rustc_flags` of the rule.
    Attr,
    /// The prelude passes it itself (from the named attribute or toolchain
    /// field): passing it too would give rustc the flag twice.
    Prelude(&'static str),
    /// Not passed, for the reason given.
    Dropped(&'static str),
}

/// The one decision of what a flag of the model becomes under Buck2.
pub fn flag_use(f: &Flag, panic: PanicRuntime) -> FlagUse {
    let first = f.args.first().map(String::as_str).unwrap_or("");
    let second = f.args.get(1).map(String::as_str).unwrap_or("");
    if first.starts_with("--error-format") {
        return FlagUse::Dropped(
            "the prelude's rustc_action sets `--error-format=json --json=diagnostic-rendered-ansi` itself; `--json=artifacts` serves only sysgen's pipelining",
        );
    }
    if first == "-C" && second.starts_with("metadata=") {
        return FlagUse::Prelude("-Cmetadata, from the target's label and configuration");
    }
    if first == "--target" {
        return FlagUse::Prelude("--target, from the toolchain's rustc_target_triple");
    }
    let is_abort = f.args == ["-Cpanic=abort"]
        || (first == "-C" && second == "panic=abort" && f.args.len() == 2);
    if is_abort && panic == PanicRuntime::Abort {
        return FlagUse::Prelude("-Cpanic=abort, from the toolchain's panic_runtime");
    }
    FlagUse::Attr
}

/// `s` written into an attribute Buck2 reads as `attrs.arg()` (a rule's
/// `rustc_flags`, `env` values), such that Buck2's macro parser yields `s`
/// byte for byte: a `$(` starts a macro unless an odd number of `\`
/// precede it, and then Buck2 drops one of them and takes everything up to
/// the balancing `)` as it is. So a `\` goes before every `$(` that
/// follows an even number of them (none), and the rest of that escaped
/// stretch is copied as it is. A `$(` after an odd number of `\` cannot be
/// written — Buck2 would always drop one — and is refused with one line.
pub fn arg_text(s: &str, what: &str) -> Result<String> {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len() + 4);
    // Copied up to `copied`; backslashes count only after `plain_from`
    // (where the last escaped stretch ended).
    let (mut i, mut copied, mut plain_from) = (0, 0, 0);
    while i + 1 < b.len() {
        if b[i] != b'$' || b[i + 1] != b'(' {
            i += 1;
            continue;
        }
        let slashes = b[plain_from..i]
            .iter()
            .rev()
            .take_while(|&&c| c == b'\\')
            .count();
        if slashes % 2 == 1 {
            user_bail!(
                "{what} {s:?} holds `\\$(` after an odd number of backslashes, which Buck2's macro syntax cannot carry (it always drops one); use `sysgen ninja` or `sysgen bazel`"
            );
        }
        out.push_str(&s[copied..i]);
        out.push('\\');
        // The escaped stretch: `$(` to its balancing `)` (or the end).
        let (mut depth, mut j) = (0, i + 1);
        loop {
            match b[j] {
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ => {}
            }
            j += 1;
            if depth == 0 || j == b.len() {
                break;
            }
        }
        out.push_str(&s[i..j]);
        (i, copied, plain_from) = (j, j, j);
    }
    out.push_str(&s[copied..]);
    Ok(out)
}

/// The toolchain's `panic_runtime` (the prelude's `PanicRuntime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanicRuntime {
    Unwind,
    Abort,
    /// No std in the sysroot (a bare-metal target).
    None,
}

impl PanicRuntime {
    fn as_str(self) -> &'static str {
        match self {
            PanicRuntime::Unwind => "unwind",
            PanicRuntime::Abort => "abort",
            PanicRuntime::None => "none",
        }
    }
}

/// The cell: files (relative path, contents) and the symlinks to the
/// sources (relative path, target).
pub struct Output {
    pub files: Vec<(PathBuf, String)>,
    pub links: Vec<(PathBuf, PathBuf)>,
}

/// The slots of the prelude's `RustExplicitSysrootDeps`; every other crate
/// goes to `others`.
const SLOTS: &[&str] = &["core", "proc_macro", "std", "panic_unwind", "panic_abort"];

/// Files Buck2 takes as a package's build file: one below a source
/// directory would make it a package of its own.
const BUILD_FILES: &[&str] = &["BUCK", "BUCK.v2", "TARGETS", "TARGETS.v2"];

struct Gen<'a> {
    m: &'a Model,
    /// Directory below the cell per root: `sources/library`, …
    roots: BTreeMap<RootId, String>,
    names: BTreeMap<usize, String>,
    panic: PanicRuntime,
    /// Directories already checked for build files.
    checked: BTreeSet<PathBuf>,
}

impl Gen<'_> {
    fn path(&mut self, p: &SrcPath) -> Result<String> {
        let Some(dir) = self.roots.get(&p.root).cloned() else {
            user_bail!(
                "{} lies outside rust-src, the registry sources and every crate's directory, so no Buck2 package can reach it; move it into its crate",
                p.rel
            );
        };
        check_label("the source file", &p.rel)?;
        self.check_no_build_file(p)?;
        Ok(if p.rel.is_empty() {
            dir
        } else {
            format!("{dir}/{}", p.rel)
        })
    }

    /// A build file on the way to a source would cut it off the cell's
    /// package.
    fn check_no_build_file(&mut self, p: &SrcPath) -> Result<()> {
        let Some(root) = self.m.root(p.root) else {
            return Ok(());
        };
        let mut dir = root.path.join(&p.rel);
        while dir.pop() && dir.starts_with(&root.path) {
            if !self.checked.insert(dir.clone()) {
                break;
            }
            for f in BUILD_FILES {
                if dir.join(f).is_file() {
                    user_bail!(
                        "{} is a Buck2 build file inside the sources, which would make its directory a package of its own; remove it or use `sysgen bazel`",
                        dir.join(f).display()
                    );
                }
            }
        }
        Ok(())
    }

    fn paths(&mut self, ps: &[SrcPath]) -> Result<Vec<String>> {
        let mut v: Vec<String> = ps.iter().map(|p| self.path(p)).collect::<Result<_>>()?;
        v.sort();
        v.dedup();
        Ok(v)
    }

    fn name(&self, u: &UnitDecl) -> &str {
        &self.names[&u.id.0]
    }

    fn env_value(&mut self, v: &EnvValue) -> Result<Option<String>> {
        Ok(match v {
            EnvValue::Text(s) => Some(arg_text(s, "the environment value")?),
            // The prelude makes CARGO_MANIFEST_DIR and OUT_DIR absolute
            // below the crate's sources; others stay relative to the cell.
            EnvValue::Path(p) => Some(arg_text(&self.path(p)?, "the path")?),
            EnvValue::OutDir(run) => Some(format!(
                "$(location :{}[out_dir])",
                self.name(self.m.unit(*run))
            )),
            // buildscript_run gives build scripts its own rustc shim.
            EnvValue::Rustc => None,
        })
    }

    fn crate_rule(&mut self, u: &UnitDecl) -> Result<Rule> {
        let Body::Crate(c) = &u.body else {
            unreachable!("a crate unit")
        };
        let kind = if c.crate_type == CrateType::Bin {
            "rust_binary"
        } else {
            "rust_library"
        };
        let root = self.path(&c.root)?;
        let sources = c.sources.clone().unwrap_or_default();
        let mut files = sources.srcs.clone();
        files.extend(sources.compile_data.iter().cloned());
        files.push(c.root.clone());
        let srcs = self.paths(&files)?;
        let (mut deps, mut named) = (Vec::new(), Vec::new());
        for d in &c.deps {
            let label = format!(":{}", self.name(self.m.unit(d.unit)));
            if d.renamed_from.is_some() {
                named.push((d.extern_name.clone(), label));
            } else {
                deps.push(label);
            }
        }
        let mut flags: Vec<String> = c
            .flags
            .iter()
            .filter(|f| flag_use(f, self.panic) == FlagUse::Attr)
            .flat_map(|f| f.args.iter())
            .map(|a| arg_text(a, "the rustc flag"))
            .collect::<Result<_>>()?;
        if let Some(run) = c.build_script {
            flags.push(format!(
                "@$(location :{}[rustc_flags])",
                self.name(self.m.unit(run))
            ));
        }
        let mut env = Vec::new();
        for (k, v) in &c.env {
            if let Some(v) = self.env_value(v)? {
                env.push((k.clone(), v));
            }
        }
        let crate_name = if c.crate_type == CrateType::Bin {
            "build_script_build".to_string()
        } else {
            c.crate_name.clone()
        };
        Ok(Rule::new(kind, self.name(u).to_string())
            .s("crate", crate_name)
            .s("crate_root", root)
            .list("srcs", srcs)
            .s("edition", c.edition.clone())
            .list("features", c.features.clone())
            .list("rustc_flags", flags)
            .dict("env", env)
            .list("deps", deps)
            .dict("named_deps", named))
    }

    /// Variables of a build-script run that `buildscript_run` sets itself
    /// (from its attributes, the toolchain, or `rustc --print cfg`).
    fn prelude_sets(name: &str) -> bool {
        matches!(
            name,
            "CARGO"
                | "CARGO_PKG_NAME"
                | "CARGO_PKG_VERSION"
                | "CARGO_MANIFEST_DIR"
                | "CARGO_ENCODED_RUSTFLAGS"
                | "OUT_DIR"
                | "RUSTC"
                | "RUSTC_LINKER"
                | "TARGET"
                | "HOST"
        ) || name.starts_with("CARGO_FEATURE_")
            || name.starts_with("CARGO_CFG_")
    }

    fn run_rules(&mut self, u: &UnitDecl) -> Result<Vec<Rule>> {
        let Body::Run(r) = &u.body else {
            unreachable!("a run unit")
        };
        if !r.links_deps.is_empty() {
            user_bail!(
                "{} reads `links` metadata of other build scripts (DEP_*), which the prelude's buildscript_run cannot pass; use `sysgen ninja` or `sysgen bazel`",
                u.description
            );
        }
        let features: Vec<String> = self
            .m
            .units
            .iter()
            .filter_map(|o| o.krate())
            .find(|c| c.build_script == Some(u.id))
            .map(|c| c.features.clone())
            .unwrap_or_default();
        let mut env = Vec::new();
        for (k, v) in &r.env {
            if Self::prelude_sets(k) {
                continue;
            }
            if let Some(v) = self.env_value(v)? {
                env.push((k.clone(), v));
            }
        }
        let script = self.name(self.m.unit(r.script)).to_string();
        let host = format!("{script}-host");
        Ok(vec![
            Rule::new("configured_alias", host.clone())
                .s("actual", format!(":{script}"))
                .s("platform", ":build-scripts"),
            Rule::new("buildscript_run", self.name(u).to_string())
                .s("buildscript_rule", format!(":{host}"))
                .s("package_name", u.package.clone())
                .s("version", u.version.clone())
                .s("local_manifest_dir", self.path(&r.cwd)?)
                .list("features", features)
                .dict("env", env)
                .s("rustc_cfg", ":rustc-cfg")
                .flag("rustc_link_lib", true)
                .flag("rustc_link_search", true),
        ])
    }
}

/// The Buck2 cell for `m` (which must list sources): one target, stage 0.
pub fn generate(
    m: &Model,
    panic: PanicStrategy,
    regen: &str,
    sysgen: &std::path::Path,
) -> Result<Output> {
    let [target] = m.targets.as_slice() else {
        user_bail!(
            "sysgen buck2 takes one --target ({} given): the cell's toolchain has one rustc_target_triple; generate one cell per target",
            m.targets.len()
        );
    };
    if target.spec_file.is_some() {
        user_bail!(
            "sysgen buck2 takes a built-in target, not the custom target `{}`: the prelude passes `--target` from the toolchain's rustc_target_triple and has no way to carry a spec file into every action; use `sysgen bazel` or `sysgen ninja`",
            target.name
        );
    }
    check_label("the target", &target.name)?;
    if let Some(u) = m.units.iter().find(|u| u.stage > 0) {
        user_bail!(
            "sysgen buck2 builds one stage, and {} is in stage {}: its crates would need a toolchain of their own; build it with `sysgen ninja` or `sysgen bazel`",
            u.description,
            u.stage
        );
    }
    let has_std = m
        .units
        .iter()
        .any(|u| u.target.is_some() && u.krate().is_some_and(|c| c.crate_name == "std"));
    let panic = match (has_std, panic) {
        (false, _) => PanicRuntime::None,
        (true, PanicStrategy::Unwind) => PanicRuntime::Unwind,
        (true, PanicStrategy::Abort) => PanicRuntime::Abort,
        (true, other) => user_bail!(
            "sysgen buck2 cannot build std with panic={other}: the prelude's panic_runtime is unwind, abort or none; use `sysgen ninja` or `sysgen bazel`"
        ),
    };
    // Sources: one symlink per root.
    let mut roots = BTreeMap::new();
    let mut links = Vec::new();
    for r in &m.roots {
        let dir = match r.id {
            RootId::Library => "sources/library".to_string(),
            RootId::Registry => "sources/registry".to_string(),
            RootId::Crate(n) => format!("sources/crate-{n}"),
            RootId::Absolute => continue,
        };
        links.push((PathBuf::from(&dir), r.path.clone()));
        roots.insert(r.id, dir);
    }
    // Target names: the crate's name for the sysroot's crates (with the
    // unit's hash when two share it), the package's for build scripts.
    let mut names = BTreeMap::new();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for u in &m.units {
        let base = match &u.body {
            Body::Crate(c) if c.crate_type == CrateType::Bin => {
                format!("{}-build-script-build", u.package)
            }
            Body::Crate(c) if c.in_sysroot => c.crate_name.clone(),
            Body::Crate(c) => format!("host-{}", c.crate_name),
            Body::Run(_) => format!("{}-build-script-run", u.package),
        };
        let name = if taken.contains(&base) {
            format!("{base}-{}", &u.hash[..12])
        } else {
            base
        };
        taken.insert(name.clone());
        names.insert(u.id.0, name);
    }
    let mut g = Gen {
        m,
        roots,
        names,
        panic,
        checked: BTreeSet::new(),
    };
    let mut rules = Vec::new();
    for u in &m.units {
        match &u.body {
            Body::Crate(_) => rules.push(g.crate_rule(u)?),
            Body::Run(_) => rules.extend(g.run_rules(u)?),
        }
    }
    // The cfgs build scripts see (CARGO_CFG_*), with the unstable ones
    // rustc prints under RUSTC_BOOTSTRAP, as sysgen's and cargo's: without
    // them compiler_builtins' script turns off its f16 and f128 code.
    rules.push(Rule::new("get_rustc_cfg", "rustc-cfg".into()).flag("enable_nightly_cfgs", true));
    // The configurations the toolchain selects on.
    rules.push(Rule::new("constraint_setting", "sysroot-role".into()));
    for (value, platform) in [
        ("sysroot-crate", "sysroot-crates"),
        ("build-script", "build-scripts"),
    ] {
        rules.push(
            Rule::new("constraint_value", value.into()).s("constraint_setting", ":sysroot-role"),
        );
        rules.push(
            Rule::new("platform", platform.into())
                .list("constraint_values", vec![format!(":{value}")]),
        );
    }
    // The sysroot's crates as users' code sees them, and the toolchain.
    let mut slots: Vec<(String, String)> = Vec::new();
    for (t, _) in m.targets_by_id() {
        for lib in m.sysroot_libs(t) {
            let name = g.name(lib).to_string();
            let alias = format!("sysroot-{name}");
            rules.push(
                Rule::new("configured_alias", alias.clone())
                    .s("actual", format!(":{name}"))
                    .s("platform", ":sysroot-crates")
                    .list("visibility", vec!["PUBLIC".into()]),
            );
            let crate_name = lib
                .krate()
                .map(|c| c.crate_name.clone())
                .unwrap_or_default();
            let key = if SLOTS.contains(&crate_name.as_str()) {
                crate_name
            } else {
                name.clone()
            };
            slots.push((key, format!(":{alias}")));
        }
    }
    slots.sort();
    let triple = target.name.clone();
    rules.push(
        Rule::new("sysgen_rust_toolchain", "rust".into())
            .s("compiler", ":rustc")
            .s("rustdoc", ":rustdoc")
            .s("clippy_driver", ":clippy-driver")
            // For your crates that set no `edition`.
            .s("default_edition", "2021")
            // The prelude passes an explicit sysroot as `--extern
            // noprelude:…`, which rustc takes only with this flag.
            .value(
                "extra_rustc_flags",
                Value::Select(vec![
                    (":build-script".into(), Value::List(vec![])),
                    (
                        "DEFAULT".into(),
                        Value::List(vec!["-Zunstable-options".into()]),
                    ),
                ]),
            )
            .value(
                "sysroot",
                Value::Select(vec![
                    (":sysroot-crate".into(), Value::Dict(vec![])),
                    (":build-script".into(), Value::None),
                    ("DEFAULT".into(), Value::Dict(slots)),
                ]),
            )
            .value(
                "rustc_target_triple",
                Value::Select(vec![
                    (":build-script".into(), Value::Str(m.host.clone())),
                    ("DEFAULT".into(), Value::Str(triple)),
                ]),
            )
            .value(
                "panic_runtime",
                Value::Select(vec![
                    (":build-script".into(), Value::Str("unwind".into())),
                    ("DEFAULT".into(), Value::Str(panic.as_str().into())),
                ]),
            )
            .list("visibility", vec!["PUBLIC".into()]),
    );
    // rustc, through sysgen: the prelude passes a build script's
    // `rustc-env` as `--env-set`, which rustc releases dropped; `sysgen
    // rustc-env` sets those variables in rustc's environment instead.
    rules.push(
        Rule::new("sysgen_tool", "rustc".into())
            .s("path", sysgen.display().to_string())
            .list(
                "args",
                vec![
                    "rustc-env".into(),
                    "--".into(),
                    m.rustc.display().to_string(),
                ],
            ),
    );
    let rustdoc = m.rustc.with_file_name("rustdoc");
    let clippy = m.rustc.with_file_name("clippy-driver");
    for (name, path) in [
        ("rustdoc", rustdoc.as_path()),
        ("clippy-driver", clippy.as_path()),
    ] {
        rules.push(Rule::new("sysgen_tool", name.into()).s("path", path.display().to_string()));
    }
    let version = env!("CARGO_PKG_VERSION");
    let mut buck = format!(
        "# Generated by sysgen {version}: the sysroot for {} as rules of Buck2's prelude.\n# Regenerate: {}\n\nload(\"@prelude//rust:cargo_buildscript.bzl\", \"buildscript_run\")\nload(\"@prelude//rust/tools:tool_rules.bzl\", \"get_rustc_cfg\")\nload(\":toolchain.bzl\", \"sysgen_rust_toolchain\", \"sysgen_tool\")\n",
        target.name,
        regen.replace('\n', " ")
    );
    for r in &rules {
        buck.push('\n');
        buck.push_str(&r.render());
    }
    let toolchain = TOOLCHAIN.replace(
        "# Generated by sysgen.",
        &format!("# Generated by sysgen {version}."),
    );
    Ok(Output {
        files: vec![
            (PathBuf::from("BUCK"), buck),
            (PathBuf::from("toolchain.bzl"), toolchain),
        ],
        links,
    })
}

/// The provenance manifest of target `name`'s sysroot, a file of the cell.
pub fn manifest_file(name: &str) -> String {
    format!("manifests/{name}.json")
}
