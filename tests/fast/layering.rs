//! The pipeline's stages and their order, declared once (here, and in
//! lib.rs, which lists them in the same order): a stage's files name only
//! stages before it, so no arrow runs back up and no import forms a circle.
//! ARCHITECTURE.md explains each stage.

use std::path::Path;

/// Bottom to top.
const STAGES: &[&str] = &[
    "base",
    "toolchain",
    "library",
    "config",
    "resolve",
    "model",
    "exec",
    "lower",
    "report",
    "emit",
    "store",
    "cli",
];

/// `crate::` names that are not stages: the error macros, exported at the
/// crate root, belong to `base`.
fn stage_of(name: &str) -> Option<usize> {
    match name {
        "user_bail" | "user_err" => Some(0),
        _ => STAGES.iter().position(|s| *s == name),
    }
}

/// The text without `//` comments (doc comments mention higher stages).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every top-level module a source text names through `crate::`, with the
/// line it is on; `crate::{a::x, b}` names `a` and `b`.
fn crate_names(text: &str) -> Vec<(usize, String)> {
    let text = code(text);
    let mut out = Vec::new();
    let mut rest = text.as_str();
    let line_of = |s: &str| text[..text.len() - s.len()].matches('\n').count() + 1;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `$crate::` or `foocrate::`
        }
        let line = line_of(rest);
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group: at depth 0, after `{` or `,`.
            let (mut depth, mut start) = (0, true);
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && (c.is_alphabetic() || c == '_') => {
                        let name: String = group[j..]
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        out.push((line, name));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push((line, name));
        }
    }
    out
}

/// `file:line: stage -> stage` for every name of a stage that is not
/// below `own` (its own stage is fine), and every unknown name.
fn violations(file: &str, own: usize, text: &str) -> Vec<String> {
    let mut v = Vec::new();
    for (line, name) in crate_names(text) {
        if name == "self" {
            continue;
        }
        match stage_of(&name) {
            Some(s) if s <= own => {}
            Some(_) => v.push(format!("{file}:{line}: {} -> {name}", STAGES[own])),
            None => v.push(format!("{file}:{line}: crate::{name} is not a stage")),
        }
    }
    v
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn every_stage_names_only_the_stages_below_it() {
    let mut found = Vec::new();
    let mut files = 0;
    for (own, stage) in STAGES.iter().enumerate() {
        let mut list = Vec::new();
        rust_files(&src().join(stage), &mut list);
        assert!(!list.is_empty(), "src/{stage}/ has no Rust files");
        for f in list {
            let rel = f.strip_prefix(src()).unwrap().display().to_string();
            found.extend(violations(&rel, own, &std::fs::read_to_string(&f).unwrap()));
            files += 1;
        }
    }
    assert!(files > 40, "only {files} files were read");
    assert!(
        found.is_empty(),
        "imports that run back up (declared order: {}):\n{}",
        STAGES.join(" < "),
        found.join("\n")
    );
}

#[test]
fn every_file_of_src_is_in_a_stage_and_lib_rs_only_lists_them() {
    for e in std::fs::read_dir(src()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if p.is_dir() {
            assert!(
                stage_of(&name).is_some_and(|s| STAGES[s] == name),
                "src/{name}/ is not a stage"
            );
        } else {
            assert!(
                name == "lib.rs" || name == "main.rs",
                "src/{name} is outside every stage"
            );
        }
    }
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let lib = code(&lib);
    let mods: Vec<&str> = lib
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.strip_prefix("pub mod ")
                .and_then(|l| l.strip_suffix(';'))
                .unwrap_or_else(|| panic!("lib.rs holds more than module declarations: {l}"))
        })
        .collect();
    assert_eq!(mods, STAGES, "lib.rs lists the stages bottom-up");
    let main = std::fs::read_to_string(src().join("main.rs")).unwrap();
    assert!(main.contains("sysgen::cli::main()") && main.lines().count() <= 5);
}

#[test]
fn the_check_reports_an_arrow_back_up_and_reads_groups() {
    let text = "use crate::base::fsx;\nuse crate::{\n    lower::Word,\n    user_bail,\n};\n// crate::cli in a comment\nfn f() { crate::store::x(); }\n";
    assert_eq!(
        violations("model/x.rs", 5, text),
        [
            "model/x.rs:2: model -> lower",
            "model/x.rs:7: model -> store"
        ]
    );
    assert_eq!(
        violations("x.rs", 0, "use crate::nothing;"),
        ["x.rs:1: crate::nothing is not a stage"]
    );
}
