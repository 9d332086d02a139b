//! Scanning one file's tokens for what makes rustc read another file:
//! `mod` items with their `#[path]`/`#[cfg]`, includes, `cfg_if!` /
//! `cfg_select!` arms, and macros that declare modules or include files.

use super::cfg::*;
use super::lex::*;

/// What one file says about other files.
#[derive(Debug, Clone)]
pub(super) enum Fact {
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
    /// A macro sysgen cannot expand whose input reads as `cfg_select!`
    /// arms that declare modules or include files (a crate's own wrapper
    /// around `cfg_select!`, such as libm's `cfg_select_nofmt!`): any arm
    /// may be what it expands to, so each one's files may be read.
    AnyArm {
        cond: Vec<Pred>,
        arms: Vec<Vec<Fact>>,
    },
}

/// What the attributes in front of an item say.
#[derive(Default)]
pub(super) struct Attrs {
    pub(super) cond: Vec<Pred>,
    pub(super) paths: Vec<(Option<Pred>, String)>,
    /// `include_str!`/`include_bytes!` in the attributes (`#[doc = …]`).
    pub(super) includes: Vec<Fact>,
}

/// An `include*!("lit")` at `toks[i]`: (is it `include!`, path).
pub(super) fn include_at(toks: &[Tok], i: usize) -> Option<(bool, String)> {
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
pub(super) fn includes_in(toks: &[Tok], cond: &[Pred], out: &mut Vec<Fact>) {
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

pub(super) fn parse_attr(toks: &[Tok], attrs: &mut Attrs, pred: Option<&Pred>) {
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
pub(super) fn scan_items(toks: &[Tok]) -> Vec<Fact> {
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

pub(super) fn scan_item(
    item: &[Tok],
    cond: Vec<Pred>,
    paths: Vec<(Option<Pred>, String)>,
) -> Vec<Fact> {
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
            let mut out = Vec::new();
            if let Some(arms) = cfg_select_arms(body)
                && arms.iter().any(|(_, facts)| !facts.is_empty())
            {
                out.push(Fact::AnyArm {
                    cond: cond.clone(),
                    arms: arms.into_iter().map(|(_, facts)| facts).collect(),
                });
            }
            out.push(Fact::MacroCall {
                name: name.to_string(),
                cond,
                args,
            });
            return out;
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
pub(super) struct Template {
    pub(super) before: String,
    pub(super) after: String,
}

/// `$p`, or `concat!("…", stringify!($p), "…")`.
pub(super) fn template(args: &[Tok]) -> Option<Template> {
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
pub(super) fn macro_body(
    toks: &[Tok],
    facts: &mut Vec<Fact>,
    param_includes: &mut Vec<(bool, Template)>,
) {
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
pub(super) fn words_in(toks: &[Tok], out: &mut Vec<String>) {
    for t in toks {
        match t {
            Tok::Str(s) | Tok::Ident(s) => out.push(s.clone()),
            Tok::Group(_, inner) => words_in(inner, out),
            _ => {}
        }
    }
}

/// `if #[cfg(P)] { … } else if #[cfg(Q)] { … } else { … }`
pub(super) fn cfg_if_arms(body: &[Tok]) -> Option<Vec<(Option<Pred>, Vec<Fact>)>> {
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
pub(super) fn cfg_select_arms(body: &[Tok]) -> Option<Vec<(Option<Pred>, Vec<Fact>)>> {
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
