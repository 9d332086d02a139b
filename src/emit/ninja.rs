//! `sysgen ninja`: the plan as a Ninja file (from `templates/build.ninja.j2`).
//!
//! Every path is escaped twice over: for the shell (the command line) and
//! for Ninja (`$`, and in build lines also spaces and colons). The output
//! directory in a command is `"$PWD"`: ninja runs every command there, so
//! the build works wherever the directory is moved.

use anyhow::Result;
use minijinja::context;
use serde::Serialize;

use crate::emit::shell::{command_line, shell_quote};
use crate::exec::envdeps;
use crate::lower::{ActionKind, Part, Plan, Word};

const TEMPLATE: &str = include_str!("../../templates/build.ninja.j2");

/// Escape a path for a Ninja `build` line (`|` cannot be escaped: see
/// [`paths`], which refuses it).
pub fn ninja_path(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '$' => o.push_str("$$"),
            ' ' => o.push_str("$ "),
            ':' => o.push_str("$:"),
            '\n' => o.push_str("$\n"),
            c => o.push(c),
        }
    }
    o
}

/// Escape a variable value for Ninja.
pub fn ninja_value(s: &str) -> String {
    s.replace('$', "$$")
}

#[derive(Serialize)]
struct Edge {
    outputs: String,
    rule: &'static str,
    inputs: String,
    implicit: String,
    cmd: String,
    depfile: String,
    desc: String,
}

#[derive(Serialize)]
struct Sysroot {
    name: String,
    phony: String,
    libs: String,
}

pub struct NinjaMeta {
    pub version: String,
    pub rust_src: String,
    pub profile: String,
    pub regen_cmd: String,
    pub regen_inputs: Vec<String>,
    /// The sysgen binary the build calls.
    pub sysgen: String,
    /// Environment variables earlier builds in the directory were told to
    /// track ([`crate::exec::envdeps`]).
    pub env_vars: Vec<String>,
    /// The other files generation writes (relative): outputs of a
    /// regeneration edge with no inputs, so a deleted one is written again.
    pub restorable: Vec<String>,
}

/// Paths for a build line. Ninja has no escape for `|` in a path (it always
/// starts the implicit-dependency or validation list), so a path holding
/// one is refused with one line, never written and then misread.
fn paths(v: &[String]) -> Result<String> {
    if let Some(p) = v.iter().find(|p| p.contains('|')) {
        crate::user_bail!(
            "the path {p:?} holds `|`, which a Ninja build line cannot name; rename it, or use `sysgen make` or `sysgen bazel`"
        );
    }
    Ok(v.iter()
        .map(|p| ninja_path(p))
        .collect::<Vec<_>>()
        .join(" "))
}

pub fn to_string(plan: &Plan, meta: &NinjaMeta) -> Result<String> {
    let actions: Vec<Edge> = plan
        .actions
        .iter()
        .map(|a| -> Result<Edge> {
            Ok(Edge {
                outputs: paths(&a.outputs)?,
                rule: match a.kind {
                    ActionKind::Rustc => "rustc",
                    ActionKind::RustcBegin => "rustc_begin",
                    ActionKind::RustcEnd => "rustc_end",
                    ActionKind::RunBuildScript => "build_script",
                },
                inputs: paths(&a.inputs)?,
                implicit: if a.implicit_inputs.is_empty() {
                    String::new()
                } else {
                    format!(" | {}", paths(&a.implicit_inputs)?)
                },
                cmd: ninja_value(&{
                    let mut c = command_line(&a.env, &a.program, &a.args);
                    if let (true, Some(d)) = (a.escape_depfile_dollars, &a.depfile) {
                        c.push_str(&format!(" && sed -i 's/\\$/$$/g' {}", shell_quote(d)));
                    }
                    c
                }),
                depfile: ninja_value(a.depfile.as_deref().unwrap_or("")),
                desc: ninja_value(&a.description),
            })
        })
        .collect::<Result<_>>()?;
    let sysroots: Vec<Sysroot> = plan
        .sysroot_libs
        .iter()
        .map(|(name, libs)| -> Result<Sysroot> {
            Ok(Sysroot {
                name: name.clone(),
                phony: ninja_path(&format!("sysroot-{name}")),
                libs: paths(libs)?,
            })
        })
        .collect::<Result<_>>()?;
    let targets: Vec<&str> = plan.sysroot_libs.iter().map(|(n, _)| n.as_str()).collect();
    let stamps: Vec<String> = meta
        .env_vars
        .iter()
        .map(|v| format!("{}/{}", envdeps::DIR, envdeps::file_name(v)))
        .collect();
    let text = |s: &str| Word(vec![Part::Text(s.to_string())]);
    let mut env_args = vec![text("env-check")];
    env_args.extend(stamps.iter().map(|s| text(s)));
    super::render(
        "build.ninja",
        TEMPLATE,
        context! {
            version => meta.version.clone(),
            rust_src => meta.rust_src.replace('\n', " "),
            profile => meta.profile.clone(),
            targets => targets.join(", "),
            regen_cmd => ninja_value(&meta.regen_cmd),
            regen_inputs => paths(&meta.regen_inputs)?,
            restorable => paths(&meta.restorable)?,
            env_dir => ninja_path(envdeps::DIR),
            env_stamps => paths(&stamps)?,
            env_cmd => ninja_value(&command_line(&[], &meta.sysgen, &env_args)),
            env_desc => ninja_value(&meta.env_vars.join(" ")),
            actions => super::value(&actions),
            sysroots => super::value(&sysroots),
        },
    )
}
