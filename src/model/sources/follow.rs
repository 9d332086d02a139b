//! Source lists: every file rustc reads to compile a crate, before it runs.
//!
//! Bazel needs a crate's `srcs` and `compile_data` up front (rustc's
//! dep-info only exists after a build), and a content-addressed sysroot
//! store needs to know what to hash. sysgen reads them the way rustc finds
//! them: from the crate root it follows `mod` items (`#[path]` and
//! `#[cfg_attr(…, path = …)]` included), `include!`, `include_str!` and
//! `include_bytes!` with a literal path, and the arms of `cfg_if!` and
//! `cfg_select!`, evaluating every `#[cfg]` for the unit's target, features,
//! profile and panic strategy.
//!
//! A cfg can be unknown at generation time: a name that only a build script
//! sets (`cargo::rustc-cfg`) in a crate that has one. Files behind an
//! unknown cfg are listed too, marked [`Certainty::Maybe`]: they may or may
//! not be read. Everything else is exact, which the tests check against the
//! dep-info of real builds in both directions.
//!
//! Macros: a `macro_rules!` whose body declares `mod name;` or includes a
//! literal path does so where it is invoked; one whose body includes a path
//! made of one parameter (`include_str!($doc)`, or `concat!` of literals and
//! `stringify!($t)`) includes, at each invocation, the paths that its
//! string and identifier arguments make and that exist. Not followed: includes whose path is
//! built (`include!(concat!(env!("OUT_DIR"), …))` reads a file the build
//! script writes, which is its output, not a source).

use crate::base::fsx::normalize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------- lexing --

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// A string literal's value (raw, byte and C strings too).
    Str(String),
    /// Any other literal (numbers, chars).
    Lit,
    Punct(char),
    Group(char, Vec<Tok>),
}

/// Token trees of Rust source text. Comments vanish; a lexing problem ends
/// the file early (rustc would reject it anyway).
fn lex(text: &str) -> Vec<Tok> {
    let chars: Vec<char> = text.chars().collect();
    let mut stack: Vec<(char, Vec<Tok>)> = vec![(' ', Vec::new())];
    let mut i = 0;
    let n = chars.len();
    let push = |stack: &mut Vec<(char, Vec<Tok>)>, t: Tok| {
        stack.last_mut().expect("the root level").1.push(t)
    };
    while i < n {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < n && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < n {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            let (s, next) = string(&chars, i + 1);
            push(&mut stack, Tok::Str(s));
            i = next;
        } else if let Some((s, next)) = prefixed_string(&chars, i) {
            push(&mut stack, Tok::Str(s));
            i = next;
        } else if c == '\'' || (c == 'b' && chars.get(i + 1) == Some(&'\'')) {
            let start = if c == 'b' { i + 1 } else { i };
            match char_literal_end(&chars, start) {
                Some(end) => {
                    push(&mut stack, Tok::Lit);
                    i = end;
                }
                None => {
                    // A lifetime or label: the quote, then the identifier.
                    push(&mut stack, Tok::Punct('\''));
                    i = start + 1;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let s = i;
            while i < n && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[s..i].iter().collect();
            // `r#ident`
            if word == "r" && chars.get(i) == Some(&'#') {
                i += 1;
                continue;
            }
            push(&mut stack, Tok::Ident(word));
        } else if c.is_ascii_digit() {
            while i < n
                && (chars[i].is_alphanumeric()
                    || chars[i] == '_'
                    || (chars[i] == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())))
            {
                i += 1;
            }
            push(&mut stack, Tok::Lit);
        } else if matches!(c, '(' | '[' | '{') {
            stack.push((c, Vec::new()));
            i += 1;
        } else if matches!(c, ')' | ']' | '}') {
            if stack.len() > 1 {
                let (open, toks) = stack.pop().expect("checked");
                push(&mut stack, Tok::Group(open, toks));
            }
            i += 1;
        } else {
            push(&mut stack, Tok::Punct(c));
            i += 1;
        }
    }
    while stack.len() > 1 {
        let (open, toks) = stack.pop().expect("checked");
        push(&mut stack, Tok::Group(open, toks));
    }
    stack.pop().map(|(_, t)| t).unwrap_or_default()
}

/// A `"…"` string from just after its quote: (value, index after it).
fn string(chars: &[char], mut i: usize) -> (String, usize) {
    let mut s = String::new();
    while i < chars.len() && chars[i] != '"' {
        if chars[i] == '\\' && i + 1 < chars.len() {
            match chars[i + 1] {
                'n' => s.push('\n'),
                't' => s.push('\t'),
                '\\' => s.push('\\'),
                '"' => s.push('"'),
                '\'' => s.push('\''),
                '\n' => {
                    // A line continuation: skip the newline and the indent.
                    i += 2;
                    while i < chars.len() && chars[i].is_whitespace() {
                        i += 1;
                    }
                    continue;
                }
                c => {
                    s.push('\\');
                    s.push(c);
                }
            }
            i += 2;
        } else {
            s.push(chars[i]);
            i += 1;
        }
    }
    (s, i + 1)
}

/// `r"…"`, `r#"…"#`, `b"…"`, `br"…"`, `c"…"`, `cr#"…"#` at `i`.
fn prefixed_string(chars: &[char], i: usize) -> Option<(String, usize)> {
    let mut j = i;
    if matches!(chars.get(j), Some('b') | Some('c')) {
        j += 1;
    }
    let raw = chars.get(j) == Some(&'r');
    if raw {
        j += 1;
    }
    if j == i {
        return None;
    }
    // Not part of a longer identifier (`bar"` cannot happen, `br` can).
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    if !raw {
        return (chars.get(j) == Some(&'"')).then(|| string(chars, j + 1));
    }
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    if chars.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    let start = j;
    while j < chars.len() {
        if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
            return Some((chars[start..j].iter().collect(), j + 1 + hashes));
        }
        j += 1;
    }
    Some((chars[start..].iter().collect(), chars.len()))
}

/// The index after a char literal starting at the quote `i`, or `None` for
/// a lifetime.
fn char_literal_end(chars: &[char], i: usize) -> Option<usize> {
    match chars.get(i + 1)? {
        '\\' => {
            let mut j = i + 2;
            while j < chars.len() && chars[j] != '\'' {
                j += 1;
            }
            Some(j + 1)
        }
        _ => (chars.get(i + 2) == Some(&'\'')).then_some(i + 3),
    }
}

// ---------------------------------------------------------------- cfgs --

/// A `cfg(…)` predicate.
#[derive(Debug, Clone, PartialEq)]
pub enum Pred {
    All(Vec<Pred>),
    Any(Vec<Pred>),
    Not(Box<Pred>),
    Name(String),
    KeyValue(String, String),
    Bool(bool),
}

fn split_commas(toks: &[Tok]) -> Vec<&[Tok]> {
    toks.split(|t| *t == Tok::Punct(','))
        .filter(|s| !s.is_empty())
        .collect()
}

fn parse_pred(toks: &[Tok]) -> Option<Pred> {
    match toks {
        [Tok::Ident(n)] if n == "true" => Some(Pred::Bool(true)),
        [Tok::Ident(n)] if n == "false" => Some(Pred::Bool(false)),
        [Tok::Ident(n)] => Some(Pred::Name(n.clone())),
        [Tok::Ident(k), Tok::Punct('='), Tok::Str(v)] => Some(Pred::KeyValue(k.clone(), v.clone())),
        [Tok::Ident(f), Tok::Group('(', inner)] => {
            let parts: Option<Vec<Pred>> =
                split_commas(inner).into_iter().map(parse_pred).collect();
            let mut parts = parts?;
            match f.as_str() {
                "all" => Some(Pred::All(parts)),
                "any" => Some(Pred::Any(parts)),
                "not" if parts.len() == 1 => Some(Pred::Not(Box::new(parts.remove(0)))),
                _ => None,
            }
        }
        _ => None,
    }
}

/// True, false, or not known before the build scripts have run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    True,
    False,
    Unknown,
}

impl Tri {
    fn and(self, o: Tri) -> Tri {
        match (self, o) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::True, Tri::True) => Tri::True,
            _ => Tri::Unknown,
        }
    }
    fn or(self, o: Tri) -> Tri {
        match (self, o) {
            (Tri::True, _) | (_, Tri::True) => Tri::True,
            (Tri::False, Tri::False) => Tri::False,
            _ => Tri::Unknown,
        }
    }
    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }
}

/// cfg names and keys that rustc itself defines: absent means false.
fn well_known(name: &str) -> bool {
    name.starts_with("target_")
        || name.starts_with("sanitizer")
        || matches!(
            name,
            "unix"
                | "windows"
                | "panic"
                | "debug_assertions"
                | "overflow_checks"
                | "ub_checks"
                | "contract_checks"
                | "relocation_model"
                | "sanitize"
                | "fmt_debug"
                | "emscripten_wasm_eh"
                | "proc_macro"
                | "test"
                | "doc"
                | "doctest"
                | "miri"
                | "clippy"
                | "rustfmt"
                | "feature"
                | "bootstrap"
                | "docsrs"
                | "rustdoc"
        )
}

/// What is known about the cfgs of one unit's compile.
#[derive(Debug, Clone, Default)]
pub struct CfgEnv {
    pub names: HashSet<String>,
    pub pairs: HashSet<(String, String)>,
    /// The crate has a build script, so names rustc does not define may be
    /// set by it: they are unknown rather than false.
    pub build_script: bool,
}

impl CfgEnv {
    fn eval(&self, p: &Pred) -> Tri {
        match p {
            Pred::Bool(b) => {
                if *b {
                    Tri::True
                } else {
                    Tri::False
                }
            }
            Pred::Name(n) => {
                if self.names.contains(n) {
                    Tri::True
                } else if well_known(n) || !self.build_script {
                    Tri::False
                } else {
                    Tri::Unknown
                }
            }
            Pred::KeyValue(k, v) => {
                if self.pairs.contains(&(k.clone(), v.clone())) {
                    Tri::True
                } else if well_known(k) || !self.build_script {
                    Tri::False
                } else {
                    Tri::Unknown
                }
            }
            Pred::Not(p) => self.eval(p).not(),
            Pred::All(ps) => ps.iter().fold(Tri::True, |a, p| a.and(self.eval(p))),
            Pred::Any(ps) => ps.iter().fold(Tri::False, |a, p| a.or(self.eval(p))),
        }
    }

    fn eval_all(&self, ps: &[Pred]) -> Tri {
        ps.iter().fold(Tri::True, |a, p| a.and(self.eval(p)))
    }
}

// -------------------------------------------------------------- scanning --

/// What one file says about other files.
#[derive(Debug, Clone)]
enum Fact {
    /// `mod name;` or `mod name { … }`.
    Mod {
        name: String,
        cond: Vec<Pred>,
        /// `#[path]` (`None`) and `#[cfg_attr(pred, path = …)]` (`Some`).
        paths: Vec<(Option<Pred>, String)>,
        inline: Option<Vec<Fact>>,
    },
    Include {
        rust: bool,
        path: String,
        cond: Vec<Pred>,
    },
    /// `cfg_if!` / `cfg_select!`: the first arm whose predicate holds
    /// (`None`: the `else` / `_` arm).
    Select {
        cond: Vec<Pred>,
        arms: Vec<(Option<Pred>, Vec<Fact>)>,
    },
    /// `macro_rules! name`: the files its expansion names. `facts`: its
    /// literal `mod x;` items and includes; `param_includes`: includes of a
    /// path made with a parameter (`include!`: true).
    MacroDef {
        name: String,
        facts: Vec<Fact>,
        param_includes: Vec<(bool, Template)>,
    },
    /// `name!(…)` with the string literals and identifiers of its arguments.
    MacroCall {
        name: String,
        cond: Vec<Pred>,
        args: Vec<String>,
    },
}

/// What the attributes in front of an item say.
#[derive(Default)]
struct Attrs {
    cond: Vec<Pred>,
    paths: Vec<(Option<Pred>, String)>,
    /// `include_str!`/`include_bytes!` in the attributes (`#[doc = …]`).
    includes: Vec<Fact>,
}

/// An `include*!("lit")` at `toks[i]`: (is it `include!`, path).
fn include_at(toks: &[Tok], i: usize) -> Option<(bool, String)> {
    let Tok::Ident(name) = &toks[i] else {
        return None;
    };
    let rust = match name.as_str() {
        "include" => true,
        "include_str" | "include_bytes" => false,
        _ => return None,
    };
    match (toks.get(i + 1), toks.get(i + 2)) {
        (Some(Tok::Punct('!')), Some(Tok::Group(_, args))) => match args.as_slice() {
            [Tok::Str(p)] | [Tok::Str(p), Tok::Punct(',')] => Some((rust, p.clone())),
            _ => None,
        },
        _ => None,
    }
}

/// Every literal include anywhere in `toks` (an item's body, an attribute).
fn includes_in(toks: &[Tok], cond: &[Pred], out: &mut Vec<Fact>) {
    for i in 0..toks.len() {
        if let Some((rust, path)) = include_at(toks, i) {
            out.push(Fact::Include {
                rust,
                path,
                cond: cond.to_vec(),
            });
        } else if let Tok::Group(_, inner) = &toks[i] {
            includes_in(inner, cond, out);
        }
    }
}

fn parse_attr(toks: &[Tok], attrs: &mut Attrs, pred: Option<&Pred>) {
    let cond: Vec<Pred> = pred.cloned().into_iter().collect();
    match toks {
        [Tok::Ident(a), Tok::Group('(', inner)] if a == "cfg" => {
            if let Some(p) = parse_pred(inner) {
                attrs.cond.push(match pred {
                    // cfg_attr(P, cfg(Q)): Q only applies when P holds.
                    Some(outer) => Pred::Any(vec![Pred::Not(Box::new(outer.clone())), p]),
                    None => p,
                });
            }
        }
        [Tok::Ident(a), Tok::Punct('='), Tok::Str(p)] if a == "path" => {
            attrs.paths.push((pred.cloned(), p.clone()));
        }
        [Tok::Ident(a), Tok::Group('(', inner)] if a == "cfg_attr" => {
            let parts = split_commas(inner);
            if let Some((first, rest)) = parts.split_first()
                && let Some(p) = parse_pred(first)
            {
                let p = match pred {
                    Some(outer) => Pred::All(vec![outer.clone(), p]),
                    None => p,
                };
                for r in rest {
                    parse_attr(r, attrs, Some(&p));
                }
            }
        }
        _ => includes_in(toks, &cond, &mut attrs.includes),
    }
}

/// The facts of a list of items (a file, an inline module, an arm).
fn scan_items(toks: &[Tok]) -> Vec<Fact> {
    let mut facts = Vec::new();
    let mut attrs = Attrs::default();
    let mut inner_cond: Vec<Pred> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        // Attributes: `#[…]` (the next item's) and `#![…]` (the enclosing
        // module's: a cfg there gates everything in it).
        if toks[i] == Tok::Punct('#') {
            let inner = toks.get(i + 1) == Some(&Tok::Punct('!'));
            let g = if inner { i + 2 } else { i + 1 };
            if let Some(Tok::Group('[', a)) = toks.get(g) {
                if inner {
                    let mut module_attrs = Attrs::default();
                    parse_attr(a, &mut module_attrs, None);
                    inner_cond.extend(module_attrs.cond);
                    facts.extend(module_attrs.includes);
                } else {
                    parse_attr(a, &mut attrs, None);
                }
                i = g + 1;
                continue;
            }
        }
        if toks[i] == Tok::Punct(';') {
            i += 1;
            continue;
        }
        // The item: up to a `;` or a `{…}` group at this level.
        let start = i;
        let mut end = i;
        while end < toks.len() {
            match &toks[end] {
                Tok::Punct(';') => break,
                Tok::Group('{', _) => break,
                _ => end += 1,
            }
        }
        let item = &toks[start..(end + 1).min(toks.len())];
        i = end + 1;
        let a = std::mem::take(&mut attrs);
        // `#[doc = include_str!(…)]` is read only if the item is compiled.
        for mut inc in a.includes {
            if let Fact::Include { cond, .. } = &mut inc {
                cond.extend(a.cond.iter().cloned());
            }
            facts.push(inc);
        }
        facts.extend(scan_item(item, a.cond, a.paths));
    }
    if inner_cond.is_empty() {
        facts
    } else {
        vec![Fact::Select {
            cond: inner_cond,
            arms: vec![(None, facts)],
        }]
    }
}

fn scan_item(item: &[Tok], cond: Vec<Pred>, paths: Vec<(Option<Pred>, String)>) -> Vec<Fact> {
    // Skip visibility: `pub`, `pub(crate)`, `pub(in …)`.
    let mut k = 0;
    if item.first() == Some(&Tok::Ident("pub".into())) {
        k = 1;
        if let Some(Tok::Group('(', _)) = item.get(1) {
            k = 2;
        }
    }
    let rest = &item[k..];
    match rest {
        [Tok::Ident(m), Tok::Ident(name), Tok::Punct(';')] if m == "mod" => {
            return vec![Fact::Mod {
                name: name.clone(),
                cond,
                paths,
                inline: None,
            }];
        }
        [Tok::Ident(m), Tok::Ident(name), Tok::Group('{', body)] if m == "mod" => {
            return vec![Fact::Mod {
                name: name.clone(),
                cond,
                paths,
                inline: Some(scan_items(body)),
            }];
        }
        [
            Tok::Ident(m),
            Tok::Punct('!'),
            Tok::Ident(name),
            Tok::Group(_, body),
        ] if m == "macro_rules" => {
            let mut facts = Vec::new();
            let mut param_includes = Vec::new();
            macro_body(body, &mut facts, &mut param_includes);
            return if facts.is_empty() && param_includes.is_empty() {
                Vec::new()
            } else {
                vec![Fact::MacroDef {
                    name: name.clone(),
                    facts,
                    param_includes,
                }]
            };
        }
        _ => {}
    }
    // `cfg_if! {…}`, `cfg_if::cfg_if! {…}`, `cfg_select! {…}`.
    let macro_name = rest
        .iter()
        .position(|t| *t == Tok::Punct('!'))
        .and_then(
            |bang| match (rest.get(bang.wrapping_sub(1)), rest.get(bang + 1)) {
                (Some(Tok::Ident(n)), Some(Tok::Group(d, body))) => Some((n.as_str(), *d, body)),
                _ => None,
            },
        );
    match macro_name {
        Some(("cfg_if", '{', body)) => {
            if let Some(arms) = cfg_if_arms(body) {
                return vec![Fact::Select { cond, arms }];
            }
        }
        Some(("cfg_select", '{', body)) => {
            if let Some(arms) = cfg_select_arms(body) {
                return vec![Fact::Select { cond, arms }];
            }
        }
        Some((name, _, body)) if !name.starts_with("include") => {
            let mut args = Vec::new();
            words_in(body, &mut args);
            return vec![Fact::MacroCall {
                name: name.to_string(),
                cond,
                args,
            }];
        }
        _ => {}
    }
    let mut out = Vec::new();
    if let Some((rust, path)) = (0..rest.len()).find_map(|j| include_at(rest, j)) {
        // `include!` as an item: its file's items join this module.
        out.push(Fact::Include { rust, path, cond });
        return out;
    }
    includes_in(rest, &cond, &mut out);
    // cfg_select! inside a function body chooses expressions, but may
    // still include files.
    out
}

/// A path in a macro body: literal pieces around one parameter.
#[derive(Debug, Clone, PartialEq)]
struct Template {
    before: String,
    after: String,
}

/// `$p`, or `concat!("…", stringify!($p), "…")`.
fn template(args: &[Tok]) -> Option<Template> {
    match args {
        [Tok::Punct('$'), Tok::Ident(_)] => Some(Template {
            before: String::new(),
            after: String::new(),
        }),
        [Tok::Ident(c), Tok::Punct('!'), Tok::Group('(', parts)] if c == "concat" => {
            let mut t = Template {
                before: String::new(),
                after: String::new(),
            };
            let mut seen_param = false;
            for part in split_commas(parts) {
                match part {
                    [Tok::Str(s)] if seen_param => t.after.push_str(s),
                    [Tok::Str(s)] => t.before.push_str(s),
                    [Tok::Ident(st), Tok::Punct('!'), Tok::Group('(', p)]
                        if st == "stringify" && !seen_param =>
                    {
                        match p.as_slice() {
                            [Tok::Punct('$'), Tok::Ident(_)] => seen_param = true,
                            _ => return None,
                        }
                    }
                    _ => return None,
                }
            }
            seen_param.then_some(t)
        }
        _ => None,
    }
}

/// What a `macro_rules!` body names: literal `mod x;` items and includes,
/// and includes of a path made with a parameter.
fn macro_body(toks: &[Tok], facts: &mut Vec<Fact>, param_includes: &mut Vec<(bool, Template)>) {
    for i in 0..toks.len() {
        match &toks[i..] {
            [Tok::Ident(m), Tok::Ident(name), Tok::Punct(';'), ..] if m == "mod" => {
                facts.push(Fact::Mod {
                    name: name.clone(),
                    cond: Vec::new(),
                    paths: Vec::new(),
                    inline: None,
                });
            }
            [Tok::Ident(inc), Tok::Punct('!'), Tok::Group(_, args), ..]
                if matches!(inc.as_str(), "include" | "include_str" | "include_bytes") =>
            {
                let rust = inc == "include";
                match args.as_slice() {
                    [Tok::Str(p)] => facts.push(Fact::Include {
                        rust,
                        path: p.clone(),
                        cond: Vec::new(),
                    }),
                    a => {
                        if let Some(t) = template(a) {
                            param_includes.push((rust, t));
                        }
                    }
                }
            }
            [Tok::Group(_, inner), ..] => macro_body(inner, facts, param_includes),
            _ => {}
        }
    }
}

/// The string literals and identifiers of a macro invocation's arguments.
fn words_in(toks: &[Tok], out: &mut Vec<String>) {
    for t in toks {
        match t {
            Tok::Str(s) | Tok::Ident(s) => out.push(s.clone()),
            Tok::Group(_, inner) => words_in(inner, out),
            _ => {}
        }
    }
}

/// `if #[cfg(P)] { … } else if #[cfg(Q)] { … } else { … }`
fn cfg_if_arms(body: &[Tok]) -> Option<Vec<(Option<Pred>, Vec<Fact>)>> {
    let mut arms = Vec::new();
    let mut i = 0;
    loop {
        if body.get(i) == Some(&Tok::Ident("if".into())) {
            let Some(Tok::Group('[', attr)) = body.get(i + 2) else {
                return None;
            };
            let pred = match attr.as_slice() {
                [Tok::Ident(c), Tok::Group('(', p)] if c == "cfg" => parse_pred(p)?,
                _ => return None,
            };
            let Some(Tok::Group('{', items)) = body.get(i + 3) else {
                return None;
            };
            arms.push((Some(pred), scan_items(items)));
            i += 4;
        } else if let Some(Tok::Group('{', items)) = body.get(i) {
            arms.push((None, scan_items(items)));
            i += 1;
        } else {
            return None;
        }
        match body.get(i) {
            None => return Some(arms),
            Some(Tok::Ident(e)) if e == "else" => i += 1,
            _ => return None,
        }
    }
}

/// `P => { … }` arms, `_ => { … }` last.
fn cfg_select_arms(body: &[Tok]) -> Option<Vec<(Option<Pred>, Vec<Fact>)>> {
    let mut arms = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let arrow = (i..body.len().saturating_sub(1))
            .find(|&j| body[j] == Tok::Punct('=') && body[j + 1] == Tok::Punct('>'))?;
        let pred_toks = &body[i..arrow];
        let pred = match pred_toks {
            [Tok::Ident(u)] if u == "_" => None,
            p => Some(parse_pred(p)?),
        };
        let (facts, next) = match body.get(arrow + 2) {
            Some(Tok::Group('{', items)) => (scan_items(items), arrow + 3),
            _ => {
                // An arm without braces: up to the next comma.
                let end = (arrow + 2..body.len())
                    .find(|&j| body[j] == Tok::Punct(','))
                    .unwrap_or(body.len());
                (scan_items(&body[arrow + 2..end]), end)
            }
        };
        arms.push((pred, facts));
        i = next;
        if body.get(i) == Some(&Tok::Punct(',')) {
            i += 1;
        }
    }
    Some(arms)
}

// ------------------------------------------------------------- following --

/// Whether a file is surely read, or read only if a build script's cfg says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Certainty {
    Maybe,
    Sure,
}

/// The files of one crate: `.rs` sources and everything else it reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileList {
    pub srcs: BTreeMap<PathBuf, Certainty>,
    pub data: BTreeMap<PathBuf, Certainty>,
}

impl FileList {
    fn add(map: &mut BTreeMap<PathBuf, Certainty>, p: PathBuf, c: Certainty) {
        let e = map.entry(p).or_insert(c);
        *e = (*e).max(c);
    }
}

/// Scans files once, however many crates and targets read them.
#[derive(Default)]
pub struct Scanner {
    facts: HashMap<PathBuf, std::rc::Rc<Vec<Fact>>>,
}

/// What a macro's expansion names: literal facts, and parameter includes.
type MacroFiles = (Vec<Fact>, Vec<(bool, Template)>);

struct Walk<'a> {
    env: &'a CfgEnv,
    out: FileList,
    /// Files being walked (an `include!` cycle would not end).
    active: Vec<PathBuf>,
    /// The crate's macros seen so far.
    macros: HashMap<String, MacroFiles>,
}

impl Scanner {
    fn facts(&mut self, file: &Path) -> Option<std::rc::Rc<Vec<Fact>>> {
        if let Some(f) = self.facts.get(file) {
            return Some(f.clone());
        }
        let text = std::fs::read_to_string(file).ok()?;
        let facts = std::rc::Rc::new(scan_items(&lex(&text)));
        self.facts.insert(file.to_path_buf(), facts.clone());
        Some(facts)
    }

    /// The files rustc reads for the crate whose root is `root`.
    pub fn crate_files(&mut self, root: &Path, env: &CfgEnv) -> FileList {
        let mut w = Walk {
            env,
            out: FileList::default(),
            active: Vec::new(),
            macros: HashMap::new(),
        };
        let dir = root.parent().unwrap_or(Path::new("")).to_path_buf();
        self.file(&mut w, root, &dir, Tri::True);
        w.out
    }

    /// Walk a module file: `mod_dir` is where its `mod x;` items live.
    fn file(&mut self, w: &mut Walk, file: &Path, mod_dir: &Path, cond: Tri) {
        let certainty = if cond == Tri::True {
            Certainty::Sure
        } else {
            Certainty::Maybe
        };
        FileList::add(&mut w.out.srcs, file.to_path_buf(), certainty);
        if w.active.iter().any(|a| a == file) {
            return;
        }
        let Some(facts) = self.facts(file) else {
            return;
        };
        w.active.push(file.to_path_buf());
        let file_dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
        self.facts_in(w, &facts, &file_dir, mod_dir, false, cond);
        w.active.pop();
    }

    fn facts_in(
        &mut self,
        w: &mut Walk,
        facts: &[Fact],
        file_dir: &Path,
        mod_dir: &Path,
        in_inline: bool,
        cond: Tri,
    ) {
        for f in facts {
            match f {
                Fact::Mod {
                    name,
                    cond: c,
                    paths,
                    inline,
                } => {
                    let here = cond.and(w.env.eval_all(c));
                    if here == Tri::False {
                        continue;
                    }
                    // #[path] inside inline modules is relative to the module
                    // directory; outside, to the file's directory.
                    let base = if in_inline { mod_dir } else { file_dir };
                    let mut by_path = false;
                    for (p, path) in paths {
                        let pc = match p {
                            Some(p) => here.and(w.env.eval(p)),
                            None => here,
                        };
                        if pc == Tri::False {
                            continue;
                        }
                        by_path = by_path || p.is_none() || pc == Tri::True;
                        let target = normalize(&base.join(path));
                        match inline {
                            Some(body) => {
                                self.facts_in(w, body, file_dir, &target, true, pc);
                            }
                            None => {
                                let dir = target.parent().unwrap_or(Path::new("")).to_path_buf();
                                self.file(w, &target, &dir, pc);
                            }
                        }
                    }
                    if by_path {
                        continue;
                    }
                    let dir = mod_dir.join(name);
                    match inline {
                        Some(body) => self.facts_in(w, body, file_dir, &dir, true, here),
                        None => {
                            let flat = mod_dir.join(format!("{name}.rs"));
                            let nested = dir.join("mod.rs");
                            if flat.is_file() {
                                self.file(w, &flat, &dir, here);
                            } else if nested.is_file() {
                                self.file(w, &nested, &dir, here);
                            }
                        }
                    }
                }
                Fact::Include {
                    rust,
                    path,
                    cond: c,
                } => {
                    let here = cond.and(w.env.eval_all(c));
                    if here == Tri::False {
                        continue;
                    }
                    let target = normalize(&file_dir.join(path));
                    if *rust {
                        // Its items join the current module; its own includes
                        // are relative to itself.
                        let certainty = if here == Tri::True {
                            Certainty::Sure
                        } else {
                            Certainty::Maybe
                        };
                        FileList::add(&mut w.out.srcs, target.clone(), certainty);
                        if w.active.contains(&target) {
                            continue;
                        }
                        if let Some(facts) = self.facts(&target) {
                            w.active.push(target.clone());
                            let dir = target.parent().unwrap_or(Path::new("")).to_path_buf();
                            self.facts_in(w, &facts, &dir, mod_dir, in_inline, here);
                            w.active.pop();
                        }
                    } else {
                        let certainty = if here == Tri::True {
                            Certainty::Sure
                        } else {
                            Certainty::Maybe
                        };
                        FileList::add(&mut w.out.data, target, certainty);
                    }
                }
                Fact::Select { cond: c, arms } => {
                    let mut here = cond.and(w.env.eval_all(c));
                    for (p, body) in arms {
                        if here == Tri::False {
                            break;
                        }
                        let holds = p.as_ref().map_or(Tri::True, |p| w.env.eval(p));
                        let arm = here.and(holds);
                        if arm != Tri::False {
                            self.facts_in(w, body, file_dir, mod_dir, in_inline, arm);
                        }
                        // Later arms only if this one did not hold.
                        here = here.and(holds.not());
                    }
                }
                Fact::MacroDef {
                    name,
                    facts,
                    param_includes,
                } => {
                    w.macros
                        .insert(name.clone(), (facts.clone(), param_includes.clone()));
                }
                Fact::MacroCall {
                    name,
                    cond: c,
                    args,
                } => {
                    let here = cond.and(w.env.eval_all(c));
                    let Some((facts, param_includes)) = w.macros.get(name).cloned() else {
                        continue;
                    };
                    if here == Tri::False {
                        continue;
                    }
                    self.facts_in(w, &facts, file_dir, mod_dir, in_inline, here);
                    let certainty = if here == Tri::True {
                        Certainty::Sure
                    } else {
                        Certainty::Maybe
                    };
                    for (rust, t) in param_includes {
                        for a in args.iter() {
                            let p =
                                normalize(&file_dir.join(format!("{}{a}{}", t.before, t.after)));
                            if p.is_file() {
                                let map = if rust {
                                    &mut w.out.srcs
                                } else {
                                    &mut w.out.data
                                };
                                FileList::add(map, p, certainty);
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes_strings_comments_lifetimes_and_chars() {
        let t = lex(
            r##"/* a /* nested */ */ fn f<'a>(x: &'a str) -> char { 'x' } // "no"
            const S: &str = r#"raw "quoted""#; const B: &[u8] = b"by\"te";"##,
        );
        let strs: Vec<&Tok> = t.iter().filter(|t| matches!(t, Tok::Str(_))).collect();
        assert_eq!(
            strs,
            [
                &Tok::Str("raw \"quoted\"".into()),
                &Tok::Str("by\"te".into())
            ]
        );
    }

    #[test]
    fn cfg_select_arms_are_first_match() {
        let facts = scan_items(&lex(
            "cfg_select! { unix => { mod a; } windows => { mod b; } _ => { mod c; } }",
        ));
        let Fact::Select { arms, .. } = &facts[0] else {
            panic!("{facts:?}")
        };
        assert_eq!(arms.len(), 3);
        assert_eq!(arms[2].0, None);
    }
}
