//! Each build language's escaper, checked against a real parser of that
//! language: random strings from a hostile alphabet go through the escaper
//! and back through `sh`, `ninja` or a Starlark-compatible literal parser
//! (Python's `ast.literal_eval`, whose string literals are a superset of the
//! escapes `starlark::quote` writes) or GNU Make, and must come out
//! byte-identical, or be refused.
//! Line breaks and NUL are refused before any escaper sees them (the
//! contract in README); the shell and Starlark escapers are checked with
//! line breaks too. `SYSGEN_ESCAPER_CASES=N` runs N cases per escaper
//! (default 2000).

use std::io::Write;
use std::process::{Command, Stdio};

use sysgen::emit::make::{make_recipe, make_var, shell_var, unnameable};
use sysgen::emit::ninja::{ninja_path, ninja_value};
use sysgen::emit::shell::shell_quote;
use sysgen::emit::starlark::quote;

use crate::support::*;

const HOSTILE: &[char] = &[
    ' ', '\t', '$', ':', '#', '%', '\'', '"', '\\', '`', ';', '|', '&', '*', '?', '(', ')', '{',
    '}', '=', '@', '~', '!', '<', '>', '[', ']', '^', ',', '-', '.', '/', '_', 'a', 'Z', '9', 'é',
    '€', 'ß', '😀', '\u{1f}', '\u{7f}',
];

fn cases() -> usize {
    std::env::var("SYSGEN_ESCAPER_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

/// Deterministic random strings (xorshift), `extra` added to the alphabet.
fn strings(seed: u64, n: usize, extra: &[char]) -> Vec<String> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let alphabet: Vec<char> = HOSTILE.iter().chain(extra).copied().collect();
    (0..n)
        .map(|_| {
            let len = (next() % 12) as usize;
            (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect()
        })
        .collect()
}

fn differences(sent: &[String], got: &[String]) -> Vec<String> {
    assert_eq!(sent.len(), got.len(), "as many strings back as sent");
    sent.iter()
        .zip(got)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("{a:?} came back as {b:?}"))
        .take(5)
        .collect()
}

#[test]
fn shell_quote_is_read_back_by_sh_byte_for_byte() {
    let all = strings(1, cases(), &['\n', '\r']);
    for batch in all.chunks(500) {
        let words: Vec<String> = batch.iter().map(|s| shell_quote(s)).collect();
        let script = format!("printf '%s\\0' {}", words.join(" "));
        let text = stdout_ok(Command::new("sh").arg("-c").arg(&script));
        // printf writes one NUL-terminated string per argument.
        let got: Vec<String> = text.split_terminator('\0').map(str::to_string).collect();
        let d = differences(batch, &got);
        assert!(d.is_empty(), "{d:#?}");
    }
}

#[test]
fn ninja_values_and_paths_are_read_back_by_ninja_byte_for_byte() {
    let all = strings(2, cases(), &[]);
    let dir = tempdir();
    for (b, batch) in all.chunks(500).enumerate() {
        // A value: `cmd` holds the string; `ninja -t commands` prints it.
        // A path: the build line's output; `ninja -t targets all` lists it.
        let mut f = String::from("rule r\n  command = $cmd\n");
        let mut paths = Vec::new();
        for (i, s) in batch.iter().enumerate() {
            f.push_str(&format!("build v{i}: r\n  cmd = x{}\n", ninja_value(s)));
            // Ninja cannot name `|` in a path at all: sysgen refuses such
            // paths (below), so they never reach `ninja_path`.
            // One component, never `.` or `..`: Ninja canonicalizes paths,
            // and sysgen's are canonical already.
            let p = format!("p{i}/q{}", s.replace(['|', '/'], "_"));
            f.push_str(&format!("build {}: phony\n", ninja_path(&p)));
            paths.push(p);
        }
        let file = dir.join(format!("b{b}.ninja"));
        std::fs::write(&file, &f).unwrap();
        let commands = stdout_ok(
            Command::new("ninja")
                .arg("-f")
                .arg(&file)
                .args(["-t", "commands"])
                .args((0..batch.len()).map(|i| format!("v{i}"))),
        );
        // One line per edge, in the order asked (the edges are independent).
        let got: Vec<String> = commands
            .lines()
            .map(|l| l.strip_prefix('x').unwrap().to_string())
            .collect();
        let d = differences(batch, &got);
        assert!(d.is_empty(), "values: {d:#?}");
        let targets = stdout_ok(
            Command::new("ninja")
                .arg("-f")
                .arg(&file)
                .args(["-t", "targets", "all"]),
        );
        let listed: std::collections::BTreeSet<String> = targets
            .lines()
            .filter_map(|l| l.strip_suffix(": phony"))
            .map(str::to_string)
            .collect();
        let missing: Vec<&String> = paths
            .iter()
            .filter(|p| !listed.contains(*p))
            .take(5)
            .collect();
        assert!(
            missing.is_empty(),
            "paths ninja did not read back: {missing:#?}"
        );
    }
}

/// Make's three contexts, read back by GNU Make itself: a variable's value
/// (`make_var`, written out by `$(file …)`), a shell word held in a
/// variable and expanded into a recipe (`shell_var`, as every command of
/// the fragment is), and text written straight into a recipe
/// (`make_recipe`, as the self-regeneration command is). The `#` after
/// backslashes and the trailing backslash are the cases that broke.
#[test]
fn make_values_and_recipes_are_read_back_by_make_byte_for_byte() {
    let all = strings(4, cases(), &['\\', '#', '\\', '#']);
    let dir = tempdir();
    for (b, batch) in all.chunks(250).enumerate() {
        let (vars, sh) = (dir.join(format!("vars{b}")), dir.join(format!("sh{b}")));
        let mut f = String::new();
        for (i, s) in batch.iter().enumerate() {
            f.push_str(&format!(
                "v{i} = {}\nw{i} := {}\n",
                make_var(s),
                shell_var(s)
            ));
        }
        f.push_str("all:\n");
        for i in 0..batch.len() {
            f.push_str(&format!("\t@$(file >>{},x$(v{i}))\n", vars.display()));
        }
        let words: Vec<String> = (0..batch.len()).map(|i| format!("$(w{i})")).collect();
        f.push_str(&format!(
            "\t@printf '%s\\0' {} > {}\n",
            words.join(" "),
            sh.display()
        ));
        for s in batch {
            let word = make_recipe(&shell_quote(s));
            f.push_str(&format!("\t@printf '%s\\0' {word} >> {}\n", sh.display()));
        }
        let file = dir.join(format!("m{b}.mk"));
        std::fs::write(&file, &f).unwrap();
        run_ok(Command::new("make").arg("-s").arg("-f").arg(&file));
        // `$(file)` ends each value with a newline; values hold none.
        let text = std::fs::read_to_string(&vars).unwrap();
        let got: Vec<String> = text
            .lines()
            .map(|l| l.strip_prefix('x').unwrap().to_string())
            .collect();
        let d = differences(batch, &got);
        assert!(d.is_empty(), "make_var: {d:#?}");
        let text = std::fs::read_to_string(&sh).unwrap();
        let got: Vec<String> = text.split_terminator('\0').map(str::to_string).collect();
        let (held, direct) = got.split_at(batch.len());
        let d = differences(batch, held);
        assert!(d.is_empty(), "shell_var in a recipe: {d:#?}");
        let d = differences(batch, direct);
        assert!(d.is_empty(), "make_recipe: {d:#?}");
    }
}

/// A path Make accepts (`unnameable` finds nothing) stands unquoted as a
/// target, as a prerequisite and in a recipe's shell words, and comes back
/// byte-identical; everything else is refused before a fragment is written.
/// (`=` was accepted, and a path holding it made Make read a rule as a
/// variable assignment.)
#[test]
fn make_paths_are_read_back_by_make_byte_for_byte() {
    // Mostly what Make can name, so that most cases are written.
    let nameable = ['_', '@', '+', ',', '.', '-', 'a', 'Z', '9', 'é', 'ß', 'ж'];
    let extra: Vec<char> = nameable
        .iter()
        .cycle()
        .take(nameable.len() * 16)
        .copied()
        .collect();
    let all: Vec<String> = strings(5, cases(), &extra);
    let nameable: Vec<&String> = all.iter().filter(|s| unnameable(s).is_none()).collect();
    assert!(nameable.len() * 4 > all.len(), "many cases are nameable");
    // Once each: a rule is defined once.
    let accepted: Vec<String> = nameable
        .iter()
        .map(|s| format!("p/q{s}"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let dir = tempdir();
    for (b, batch) in accepted.chunks(250).enumerate() {
        let out = dir.join(format!("out{b}"));
        let mut f = String::from("all:");
        for i in 0..batch.len() {
            f.push_str(&format!(" t{i}"));
        }
        f.push('\n');
        for (i, p) in batch.iter().enumerate() {
            // The prerequisite names the path; its own rule, the target,
            // prints it as the shell reads it.
            f.push_str(&format!(
                "t{i}: {p}\n\t@printf '%s\\0' $^ >> {}\n",
                out.display()
            ));
            f.push_str(&format!(
                "{p}:\n\t@printf '%s\\0' $@ >> {}\n",
                out.display()
            ));
        }
        let file = dir.join(format!("p{b}.mk"));
        std::fs::write(&file, &f).unwrap();
        run_ok(
            Command::new("make")
                .arg("-s")
                .arg("-j1")
                .arg("-f")
                .arg(&file),
        );
        let text = std::fs::read_to_string(&out).unwrap();
        let got: Vec<String> = text.split_terminator('\0').map(str::to_string).collect();
        // Each path twice: as a target, then as a prerequisite.
        let twice: Vec<String> = batch.iter().flat_map(|p| [p.clone(), p.clone()]).collect();
        let d = differences(&twice, &got);
        assert!(d.is_empty(), "{d:#?}");
    }
}

#[test]
fn starlark_quote_is_read_back_as_the_same_string() {
    let all = strings(3, cases(), &['\n', '\r']);
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import ast, sys\nfor line in sys.stdin.buffer.read().decode().split('\\0')[:-1]:\n    sys.stdout.write(ast.literal_eval(line) + '\\0')\n",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = String::new();
    for s in &all {
        input.push_str(&quote(s));
        input.push('\0');
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    let got: Vec<String> = text.split('\0').map(str::to_string).collect();
    let d = differences(&all, &got[..got.len() - 1]);
    assert!(d.is_empty(), "{d:#?}");
}

/// What Ninja cannot name is refused with one line, never written: `|` in
/// a path (found by the property test above: a rust-src or config path
/// holding `|` made a build line Ninja misread).
#[test]
fn a_path_ninja_cannot_name_is_refused() {
    let t = tempdir();
    let lib = t.join("lib|rary");
    copy_dir(&mock_dir().join("library"), &lib);
    let o = sysgen_cmd(&t)
        .args(["ninja", "--no-config", "--crates", "core", "-o", "out"])
        .args(mock_toolchain(&lib))
        .output()
        .unwrap();
    let e = one_line_error(&o);
    assert!(
        e.contains("holds `|`, which a Ninja build line cannot name"),
        "{e}"
    );
    assert!(!t.join("out").exists());
}

/// Buck2's reading of an `attrs.arg()` string, as its documentation
/// (app/buck2_node/src/attrs/attr_type/arg/parser.rs, and Buck1's
/// string_parameter_macros) states it, written here independently: a `$(`
/// after an even number of `\` starts a macro (then `None`: not literal
/// text); after an odd number, one `\` is dropped and everything up to the
/// balancing `)` is literal. The real buck2 reads the same strings in
/// tests/real/buck2.rs.
fn buck2_literal(s: &str) -> Option<String> {
    let c: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut slashes = 0;
    while i < c.len() {
        if c[i] == '$' && c.get(i + 1) == Some(&'(') {
            if slashes % 2 == 0 {
                return None;
            }
            // One `\` dropped; `$(` to the balancing `)` taken as it is.
            out.pop();
            out.push_str("$(");
            i += 2;
            let mut depth = 1;
            while i < c.len() && depth > 0 {
                match c[i] {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                out.push(c[i]);
                i += 1;
            }
            slashes = 0;
            continue;
        }
        slashes = if c[i] == '\\' { slashes + 1 } else { 0 };
        out.push(c[i]);
        i += 1;
    }
    Some(out)
}

#[test]
fn buck2_args_are_read_back_by_buck2s_macro_rules_byte_for_byte() {
    use sysgen::emit::buck2::arg_text;
    let sent = strings(0xb0c2, cases(), &['$', '(', ')', '\\', '$', '(']);
    let mut refused = 0;
    for s in &sent {
        match arg_text(s, "the flag") {
            Ok(w) => assert_eq!(
                buck2_literal(&w).as_deref(),
                Some(s.as_str()),
                "{s:?} written as {w:?}"
            ),
            Err(e) => {
                refused += 1;
                // Only what cannot be carried: `\$(` after an odd count.
                assert!(s.contains("\\$("), "{s:?}: {e}");
            }
        }
    }
    assert!(
        refused < sent.len() / 2,
        "{refused} of {} refused",
        sent.len()
    );
    for (s, w) in [
        ("$(exe //:evil)", "\\$(exe //:evil)"),
        ("a\\\\$(x)", "a\\\\\\$(x)"),
        ("$(a $(b)) $(c", "\\$(a $(b)) \\$(c"),
        ("plain \\ text $ (", "plain \\ text $ ("),
    ] {
        assert_eq!(arg_text(s, "x").unwrap(), w);
    }
    assert!(arg_text("\\$(location //:x)", "x").is_err());
}
