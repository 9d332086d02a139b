//! Environment variables as build inputs, with cargo's rule: a build
//! script that prints `cargo:rerun-if-env-changed=VAR` runs again when
//! VAR's value changes.
//!
//! Build tools track files, not variables, so each tracked variable is a
//! *stamp* file in the output directory (`.sysgen/env/<VAR>`) holding the
//! value the build last saw. The runner writes it when the script names
//! the variable, and lists it in the script's depfile; the generated build
//! has an edge, run on every build with `restat`, that rewrites the stamps
//! whose variable changed (`sysgen env-check`), so only what read a
//! changed variable runs again. A new stamp changes the directory, which
//! regenerates the build file with that edge. The store puts the same
//! text's digest in a variant's key.
//!
//! A stamp's name is the variable's, escaped, when that is a short plain
//! file name; any other name (empty, long, all slashes) gets a bounded
//! hashed name, `~<hash>`, whose variable is kept beside it in
//! [`NAMES`]. Each owner of stamps (a build script's run, a compile)
//! lists the variables it tracks (`env-vars` in its directory, or
//! `<depfile>.env-vars`); a stamp that no owner lists any more is removed,
//! so a variable a script stopped naming is no longer checked.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::base::fsx::io_error;

/// Where the stamps live, relative to the output directory.
pub const DIR: &str = ".sysgen/env";

/// Where the variables of hashed stamp names are kept, beside [`DIR`].
pub const NAMES: &str = ".sysgen/env-names";

/// The longest escaped name a stamp keeps as it is.
const PLAIN_NAME_MAX: usize = 128;

/// What a stamp holds for `var` in this process's environment: `set`, a
/// line break and the value, or `unset`; then a line break (as GNU Make's
/// `$(file >…)` writes it, so that the Make fragment keeps stamps the same
/// way).
pub fn stamp_text(var: &str) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    match std::env::var_os(var) {
        Some(v) => [b"set\n".as_slice(), v.as_bytes(), b"\n"].concat(),
        None => b"unset\n".to_vec(),
    }
}

/// The stamp's file name for `var`: letters, digits and `_` as they are,
/// anything else as `%XX`, so that any name is one plain file name; an
/// empty or long one as `~` and a hash (its variable in [`NAMES`]).
pub fn file_name(var: &str) -> String {
    let mut s = String::new();
    for b in var.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    if s.is_empty() || s.len() > PLAIN_NAME_MAX {
        let h = crate::base::fingerprint::sha256_hex(var.as_bytes());
        return format!("~{}", &h[..32]);
    }
    s
}

/// The variable a stamp (a path in [`DIR`]) stands for.
fn stamp_var(stamp: &Path) -> Option<String> {
    let name = stamp.file_name()?.to_string_lossy().into_owned();
    if name.starts_with('~') {
        let names = stamp.parent()?.parent()?.join("env-names").join(&name);
        return std::fs::read_to_string(names).ok();
    }
    var_name(&name)
}

/// The variable a stamp's file name stands for.
pub fn var_name(file_name: &str) -> Option<String> {
    let mut bytes = Vec::new();
    let mut it = file_name.bytes();
    while let Some(b) = it.next() {
        if b == b'%' {
            let hex = [it.next()?, it.next()?];
            bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).ok()
}

/// Make `stamp` hold `text`, writing (in place, so that the directory only
/// changes when a stamp is new) only when it differs; a written stamp gets
/// the time `at` (now, when `None`).
fn update(stamp: &Path, text: &[u8], at: Option<std::time::SystemTime>) -> Result<()> {
    if std::fs::read(stamp).is_ok_and(|old| old == text) {
        return Ok(());
    }
    if let Some(dir) = stamp.parent() {
        crate::base::fsx::create_dir_all(dir)?;
    }
    std::fs::write(stamp, text).map_err(|e| io_error("write", stamp, &e))?;
    if let Some(t) = at {
        std::fs::File::options()
            .append(true)
            .open(stamp)
            .and_then(|f| f.set_modified(t))
            .map_err(|e| io_error("write", stamp, &e))?;
    }
    Ok(())
}

/// Record that a build script read `var` (the runner): its stamp in
/// `dir`, which is returned. A stamp written here is dated `started`, when
/// the script started, so that it is older than the run's outputs: the
/// value it holds is the one the script saw.
pub fn record(dir: &Path, var: &str, started: std::time::SystemTime) -> Result<PathBuf> {
    let name = file_name(var);
    let stamp = dir.join(&name);
    if name.starts_with('~')
        && let Some(parent) = dir.parent()
    {
        let names = parent.join("env-names");
        crate::base::fsx::create_dir_all(&names)?;
        crate::base::fsx::write_atomic(&names.join(&name), var.as_bytes())?;
    }
    update(&stamp, &stamp_text(var), Some(started))?;
    Ok(stamp)
}

/// Every owner's list of variables below `build/` of the output directory
/// `root`: `<unit>/env-vars` and `<depfile>.env-vars`.
fn owner_lists(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().into_owned();
            match e.file_type() {
                Ok(t) if t.is_dir() && depth < 3 => walk(&e.path(), depth + 1, out),
                Ok(t) if t.is_file() && (name == "env-vars" || name.ends_with(".env-vars")) => {
                    out.push(e.path())
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(&root.join("build"), 0, &mut out);
    out
}

/// The stamp names one owner lists.
fn listed(list: &Path) -> Vec<String> {
    std::fs::read_to_string(list)
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Write `list`, the variables one owner tracks now (their stamps in
/// `dir`, whose parent's parent is the output directory), and remove the
/// stamps of the variables it dropped that no other owner lists.
pub fn own(list: &Path, vars: &[String], dir: &Path) -> Result<()> {
    let mut now: Vec<String> = vars.iter().map(|v| file_name(v)).collect();
    now.sort();
    now.dedup();
    let before = listed(list);
    let text: String = now.iter().map(|n| format!("{n}\n")).collect();
    crate::base::fsx::write_atomic(list, text.as_bytes())?;
    let dropped: Vec<&String> = before.iter().filter(|n| !now.contains(n)).collect();
    if dropped.is_empty() {
        return Ok(());
    }
    let Some(root) = dir.parent().and_then(Path::parent) else {
        return Ok(());
    };
    let kept: std::collections::BTreeSet<String> =
        owner_lists(root).iter().flat_map(|l| listed(l)).collect();
    for name in dropped {
        if !kept.contains(name) {
            let _ = std::fs::remove_file(dir.join(name));
            let _ = std::fs::remove_file(root.join(NAMES).join(name));
        }
    }
    Ok(())
}

/// What rustc's dep-info says a compile read from the environment
/// (`# env-dep:VAR`, from `env!`/`option_env!`), as cargo tracks it: but
/// for the variables the build sets itself (`CARGO_*`, `OUT_DIR`, a build
/// script's `rustc-env` ones in `set_here`, and those of a `--env-set` a
/// user's rustflags may pass, directly or in an `@args` file). Each is
/// recorded as a stamp in `dir` (dated `started`), and the stamps are added
/// to the dep-info, so that a changed value recompiles the crate. `args`
/// are rustc's.
pub fn track_dep_info(
    dir: &Path,
    args: &[std::ffi::OsString],
    set_here: &[&str],
    started: std::time::SystemTime,
) -> Result<()> {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let Some(depfile) = args.iter().find_map(|a| {
        a.strip_prefix("--emit=")?
            .split(',')
            .find_map(|e| e.strip_prefix("dep-info=").map(PathBuf::from))
    }) else {
        return Ok(());
    };
    let Ok(text) = std::fs::read_to_string(&depfile) else {
        return Ok(());
    };
    let mut set_here: Vec<String> = set_here.iter().map(|s| s.to_string()).collect();
    let mut words: Vec<String> = args.clone();
    for a in &args {
        if let Some(f) = a.strip_prefix('@')
            && let Ok(t) = std::fs::read_to_string(f)
        {
            words.extend(t.lines().map(str::to_string));
        }
    }
    for (i, w) in words.iter().enumerate() {
        let kv = match w.strip_prefix("--env-set=") {
            Some(kv) => Some(kv),
            None if w == "--env-set" => words.get(i + 1).map(String::as_str),
            None => None,
        };
        if let Some((k, _)) = kv.and_then(|kv| kv.split_once('=')) {
            set_here.push(k.to_string());
        }
    }
    let mut stamps = Vec::new();
    let mut vars = Vec::new();
    for line in text.lines() {
        let Some(dep) = line.strip_prefix("# env-dep:") else {
            continue;
        };
        let var = dep.split_once('=').map_or(dep, |(k, _)| k);
        if var.starts_with("CARGO_") || var == "OUT_DIR" || set_here.iter().any(|s| s == var) {
            continue;
        }
        let stamp = record(dir, var, started)?;
        // A stamp's name is letters, digits, `_`, `%XX` and `~`: nothing
        // a depfile would need escaped.
        stamps.push(stamp.display().to_string());
        vars.push(var.to_string());
    }
    own(
        &PathBuf::from(format!("{}.env-vars", depfile.display())),
        &vars,
        dir,
    )?;
    if stamps.is_empty() {
        return Ok(());
    }
    // The first target (before the first unescaped ": ") depends on them.
    let Some((target, _)) = text.lines().next().and_then(|l| l.split_once(": ")) else {
        return Ok(());
    };
    let text = format!("{text}\n{target}: {}\n", stamps.join(" "));
    std::fs::write(&depfile, text).map_err(|e| io_error("write", &depfile, &e))
}

/// `sysgen env-check STAMP…`: rewrite each stamp whose variable changed.
pub fn check(stamps: &[PathBuf]) -> Result<()> {
    for s in stamps {
        if let Some(var) = stamp_var(s) {
            update(s, &stamp_text(&var), None)?;
        }
    }
    Ok(())
}

/// The variables the builds in `out_dir` track, sorted.
pub fn tracked(out_dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(out_dir.join(DIR))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| stamp_var(&e.path()))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_variable_name_is_one_bounded_file_name() {
        // Plain names read back from the file name itself.
        for v in ["MYVAR", "a/b", "x y%z", "é"] {
            let f = file_name(v);
            assert!(
                f.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'%')
            );
            assert_eq!(var_name(&f).as_deref(), Some(v));
        }
        // Empty and long names are `~` and a hash (their name kept in
        // env-names), however long the name.
        let long = "/".repeat(300);
        for v in ["", long.as_str()] {
            let f = file_name(v);
            assert!(f.starts_with('~') && f.len() == 33, "{f}");
        }
        assert_ne!(file_name(""), file_name(&long));
    }
}
