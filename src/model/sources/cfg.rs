//! `#[cfg]` predicates and their three-valued evaluation for one unit (a
//! cfg only a build script sets is unknown).

use std::collections::HashSet;

use super::lex::*;

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

pub(super) fn split_commas(toks: &[Tok]) -> Vec<&[Tok]> {
    toks.split(|t| *t == Tok::Punct(','))
        .filter(|s| !s.is_empty())
        .collect()
}

pub(super) fn parse_pred(toks: &[Tok]) -> Option<Pred> {
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
    pub(super) fn and(self, o: Tri) -> Tri {
        match (self, o) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::True, Tri::True) => Tri::True,
            _ => Tri::Unknown,
        }
    }
    pub(super) fn or(self, o: Tri) -> Tri {
        match (self, o) {
            (Tri::True, _) | (_, Tri::True) => Tri::True,
            (Tri::False, Tri::False) => Tri::False,
            _ => Tri::Unknown,
        }
    }
    pub(super) fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }
}

/// cfg names and keys that rustc itself defines: absent means false.
pub(super) fn well_known(name: &str) -> bool {
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
    pub(super) fn eval(&self, p: &Pred) -> Tri {
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

    pub(super) fn eval_all(&self, ps: &[Pred]) -> Tri {
        ps.iter().fold(Tri::True, |a, p| a.and(self.eval(p)))
    }
}
