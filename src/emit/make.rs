//! `sysgen make`: the lowered actions as a GNU Make fragment in Kbuild's
//! style, meant to be `include`d by a larger Makefile (and a tiny Makefile
//! that includes it, for `make -C DIR`).
//!
//! - Everything is namespaced `SYSGEN_…` / `sysgen-…`, so the fragment
//!   coexists with the includer's variables and targets.
//! - The includer may set `SYSGEN_OUT` (where outputs go), `SYSGEN_RUSTC`
//!   and `SYSGEN_SYSGEN`, and append flags: `SYSGEN_RUSTFLAGS` for every
//!   sysroot crate, `SYSGEN_RUSTFLAGS_<crate>` for one.
//! - A rule runs when a prerequisite is newer (rustc's depfiles are
//!   included) or when its command line changed: the command is kept in
//!   `<output>.cmd` and compared, as Kbuild's `if_changed` does.
//! - Quiet `  RUSTC   core …` lines unless `V=1`.
//! - No pipelining (the lowering is asked for one action per crate); edges
//!   with several outputs are grouped targets (`&:`, GNU Make 4.3).
//!
//! Make cannot name a path with a space, `$`, `:`, `#` or `%` in a rule, so
//! such paths are refused (one line, before anything is written).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Result;
use minijinja::context;
use serde::Serialize;

use crate::lower::{ActionKind, Part, Plan, Word};
use crate::model::{Body, Model};
use crate::user_bail;

/// Where the fragment keeps the command lines that built its outputs
/// (Kbuild's `.cmd` files), relative to `SYSGEN_OUT`.
pub const CMD_DIR: &str = "build/cmd";

const TEMPLATE: &str = include_str!("../../templates/sysgen.mk.j2");

/// The characters a path may hold to stand unquoted in a rule and in a
/// recipe (`$(SYSGEN_OUT)/…` is expanded by Make, then read by the shell):
/// letters and digits (any script) and `_ @ + , . / -`. Everything else
/// means something to Make (space, `$ : # % = ; \\`, wildcards, `~`) or to
/// the shell, so the first such character is returned.
pub fn unnameable(path: &str) -> Option<char> {
    path.chars()
        .find(|c| !(c.is_alphanumeric() || "_@+,./-".contains(*c)))
}

/// Refuse a path Make cannot name in a rule: here, with one line, before
/// anything is written — never accepted and then broken (or run: a
/// backquote in `-o` was a command substitution).
pub fn check_path(what: &str, p: &Path) -> Result<()> {
    let s = p.to_string_lossy();
    if let Some(c) = unnameable(&s) {
        user_bail!(
            "{what} {s} holds {c:?}, which GNU Make cannot name in a rule; use a path without it (or `sysgen ninja`, which can)"
        );
    }
    Ok(())
}

/// Text as the value of a variable assignment (`=`, `:=`, `?=`), which
/// Make expands to exactly `s`: `$` is doubled; a `#` would start a
/// comment, so it is escaped, and the backslashes before it doubled (Make
/// reads `\\#` as one backslash and a comment); a line ending in a
/// backslash would continue onto the next, and leading blanks would be
/// dropped, so either is guarded with `$()` (a reference to the empty
/// variable).
pub fn make_var(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    if s.starts_with([' ', '\t']) {
        out.push_str("$()");
    }
    let mut backslashes = 0;
    for c in s.chars() {
        match c {
            '\\' => {
                backslashes += 1;
                out.push(c);
                continue;
            }
            '#' => {
                out.push_str(&"\\".repeat(backslashes + 1));
                out.push('#');
            }
            '$' => out.push_str("$$"),
            c => out.push(c),
        }
        backslashes = 0;
    }
    if backslashes > 0 {
        out.push_str("$()");
    }
    out
}

/// Text in a recipe line, which Make expands and hands to the shell: `$`
/// is doubled, and a trailing backslash guarded (it would join the next
/// line). `#` means nothing to Make there.
pub fn make_recipe(s: &str) -> String {
    let mut out = s.replace('$', "$$");
    if out.ends_with('\\') {
        out.push_str("$()");
    }
    out
}

/// One shell word as a variable's value: `shell_quote`, then `make_var`.
pub fn shell_var(s: &str) -> String {
    make_var(&super::shell::shell_quote(s))
}

struct Render<'a> {
    rustc: String,
    sysgen: String,
    /// Paths of generated files (they live beside the fragment).
    generated: &'a BTreeSet<String>,
}

impl Render<'_> {
    /// A path as a rule names it: every path the fragment holds passes
    /// here, so none that Make would misread is ever written.
    fn path(&self, p: &str) -> Result<String> {
        check_path("a path the build names,", Path::new(p))?;
        Ok(if Path::new(p).is_absolute() {
            p.to_string()
        } else if self.generated.contains(p) {
            format!("$(SYSGEN_DIR)/{p}")
        } else {
            format!("$(SYSGEN_OUT)/{p}")
        })
    }

    /// One shell word of a command, as the value of its variable.
    fn word(&self, w: &Word) -> Result<String> {
        let s =
            w.0.iter()
                .map(|p| {
                    Ok(match p {
                        Part::Text(t) if t.is_empty() => String::new(),
                        Part::Text(t) if *t == self.rustc => "$(SYSGEN_RUSTC)".into(),
                        Part::Text(t) => shell_var(t),
                        Part::Out(rel) => self.path(rel)?,
                        Part::OutDir => "$(SYSGEN_OUT)".into(),
                        Part::Cwd => "$(CURDIR)".into(),
                    })
                })
                .collect::<Result<String>>()?;
        Ok(if s.is_empty() { "''".into() } else { s })
    }

    fn paths<'p>(&self, ps: impl IntoIterator<Item = &'p String>) -> Result<Vec<String>> {
        ps.into_iter().map(|p| self.path(p)).collect()
    }
}

#[derive(Serialize)]
struct MakeRule {
    id: String,
    targets: String,
    grouped: bool,
    prereqs: String,
    cmd: String,
    desc: String,
    depfile: String,
    /// Where the command that last ran is kept (`build/cmd/…`, outside
    /// the sysroot).
    cmdfile: String,
}

#[derive(Serialize)]
struct Sysroot {
    name: String,
    libs: String,
    /// The provenance manifest in the sysroot, and its generated source.
    manifest: String,
    manifest_src: String,
}

pub struct MakeMeta {
    pub version: String,
    pub rust_src: String,
    /// `rust_src` with every link resolved, as Make's `$(realpath)` gives
    /// another SYSGEN_RUST_SRC to compare with it.
    pub rust_src_real: String,
    pub rustc: PathBuf,
    /// The compiler's sysroot, every link resolved: another SYSGEN_RUSTC
    /// is another compiler when its sysroot is another directory.
    pub rustc_sysroot: String,
    pub sysgen: PathBuf,
    /// The command line that regenerates the fragment, but for its
    /// `--out-dir` (the template appends the fragment's directory).
    pub regen_cmd: String,
    pub regen_inputs: Vec<String>,
}

/// The fragment (`sysgen.mk`) and the standalone `Makefile`.
pub fn to_strings(m: &Model, plan: &Plan, meta: &MakeMeta) -> Result<(String, String)> {
    // Files generation writes beside the fragment.
    let generated: BTreeSet<String> = plan
        .files
        .iter()
        .map(|(p, _)| p.to_string_lossy().to_string())
        .chain(
            plan.sysroot_libs
                .iter()
                .map(|(name, _)| manifest_source(name)),
        )
        .collect();
    let r = Render {
        rustc: meta.rustc.display().to_string(),
        sysgen: meta.sysgen.display().to_string(),
        generated: &generated,
    };
    let mut rules = Vec::new();
    let mut clean = BTreeSet::new();
    for (i, a) in plan.actions.iter().enumerate() {
        let u = m.unit(a.unit);
        let id = format!("u{i}");
        let program = if a.program == r.sysgen {
            "$(SYSGEN_SYSGEN)".to_string()
        } else if a.program == r.rustc {
            "$(SYSGEN_RUSTC)".to_string()
        } else {
            shell_var(&a.program)
        };
        let mut cmd = Vec::new();
        if let ActionKind::RunBuildScript = a.kind {
            // The runner resolves its spec's paths where it runs.
            cmd.push("cd $(SYSGEN_OUT) &&".to_string());
        }
        if !a.env.is_empty() {
            cmd.push("env".into());
            for (k, v) in &a.env {
                let mut w = vec![Part::Text(format!("{k}="))];
                w.extend(v.0.iter().cloned());
                cmd.push(r.word(&Word(w))?);
            }
        }
        cmd.push(program);
        for w in &a.args {
            cmd.push(r.word(w)?);
        }
        if let Some(c) = u.krate().filter(|c| c.in_sysroot) {
            cmd.push(format!(
                "$(SYSGEN_RUSTFLAGS) $(SYSGEN_RUSTFLAGS_{})",
                c.crate_name
            ));
        }
        let mut prereqs = r.paths(a.inputs.iter().chain(&a.implicit_inputs))?;
        prereqs.dedup();
        let what = match (&a.kind, &u.body) {
            (ActionKind::RunBuildScript, _) => "BUILD",
            (_, Body::Crate(c)) if c.crate_type == crate::model::CrateType::Bin => "RUSTC",
            _ => "RUSTC",
        };
        let targets = r.paths(&a.outputs)?;
        clean.extend(targets.iter().cloned());
        let cmdfile = match a.outputs.first() {
            Some(o) if Path::new(o).is_relative() && !generated.contains(o.as_str()) => {
                format!("$(SYSGEN_OUT)/{CMD_DIR}/{o}.cmd")
            }
            _ => format!("$(SYSGEN_OUT)/{CMD_DIR}/{id}.cmd"),
        };
        if let Some(d) = &a.depfile {
            clean.insert(r.path(d)?);
        }
        rules.push(MakeRule {
            id,
            cmdfile,
            targets: targets.join(" "),
            grouped: a.outputs.len() > 1,
            prereqs: prereqs.join(" "),
            cmd: cmd.join(" "),
            desc: make_var(&format!("{what:<7} {}", a.description)),
            depfile: match (&a.kind, &a.depfile) {
                (_, None) => String::new(),
                // The runner writes one for Make beside Ninja's.
                (ActionKind::RunBuildScript, Some(d)) => r.path(
                    &Path::new(d)
                        .with_file_name(crate::exec::runscript::MAKE_DEPFILE)
                        .to_string_lossy(),
                )?,
                (_, Some(d)) => r.path(d)?,
            },
        });
    }
    // A build script's OUT_DIR and raw output.
    for u in &m.units {
        if let Body::Run(_) = u.body {
            let t = u
                .target
                .map(|t| m.target(t).name.as_str())
                .unwrap_or("host");
            let dir = format!("build/{t}/{}-{}", u.package, &u.hash[..12]);
            clean.insert(r.path(&format!("{dir}/out"))?);
            clean.insert(r.path(&format!("{dir}/output"))?);
        }
    }
    clean.insert(format!("$(SYSGEN_OUT)/{CMD_DIR}"));
    let sysroots = plan
        .sysroot_libs
        .iter()
        .map(|(name, libs)| {
            Ok(Sysroot {
                name: {
                    check_path("the target name", Path::new(name))?;
                    name.clone()
                },
                libs: r.paths(libs)?.join(" "),
                manifest: r.path(&format!(
                    "sysroot/lib/rustlib/{name}/{}",
                    crate::report::provenance::MANIFEST
                ))?,
                manifest_src: r.path(&manifest_source(name))?,
            })
        })
        .collect::<Result<Vec<Sysroot>>>()?;
    let fragment = super::render(
        "sysgen.mk",
        TEMPLATE,
        context! {
            version => meta.version.clone(),
            rust_src => meta.rust_src.clone(),
            rustc => shell_var(&r.rustc),
            sysgen => shell_var(&r.sysgen),
            rules => super::value(&rules),
            sysroots => super::value(&sysroots),
            clean => clean.into_iter().collect::<Vec<_>>(),
            rust_src_real => make_var(&meta.rust_src_real),
            rust_src_word => shell_var(&meta.rust_src),
            rustc_sysroot => make_var(&meta.rustc_sysroot),
            regen_cmd => make_recipe(&meta.regen_cmd),
            regen_inputs => r.paths(&meta.regen_inputs)?.join(" "),
        },
    )?;
    let makefile = format!(
        "# Generated by sysgen {}: `make -C <this directory> -j` builds the sysroot.\ninclude sysgen.mk\n\n.DEFAULT_GOAL := sysgen-all\n\nclean: sysgen-clean\n.PHONY: clean\n",
        meta.version
    );
    Ok((fragment, makefile))
}

/// Where generation writes target `name`'s provenance manifest, which the
/// fragment copies into `$(SYSGEN_OUT)`'s sysroot.
pub fn manifest_source(name: &str) -> String {
    format!("build/manifest/{name}.json")
}
