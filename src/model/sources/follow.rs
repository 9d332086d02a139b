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
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::cfg::*;
use super::lex::*;
use super::scan::*;

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
                        keep_dirs(w, &base.join(path), file_dir);
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
                    keep_dirs(w, &file_dir.join(path), file_dir);
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
                Fact::AnyArm { cond: c, arms } => {
                    let here = cond.and(w.env.eval_all(c));
                    if here == Tri::False {
                        continue;
                    }
                    for body in arms {
                        self.facts_in(
                            w,
                            body,
                            file_dir,
                            mod_dir,
                            in_inline,
                            here.and(Tri::Unknown),
                        );
                    }
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

/// A path that leaves a directory by `..` (`#[path = "../../x86/…"]` in
/// libc's `nptl/bits`) needs that directory to exist, which a sandbox or a
/// symlink forest of the listed files (Bazel's, Buck2's) has only if a
/// file in it is listed: one is, as undecided data (never read). The
/// directory of the file that names the path, and those above it, are
/// there already.
fn keep_dirs(w: &mut Walk, joined: &Path, file_dir: &Path) {
    let mut cur = PathBuf::new();
    for c in joined.components() {
        if c == std::path::Component::ParentDir {
            let dir = normalize(&cur);
            if !file_dir.starts_with(&dir)
                && let Some(keeper) = first_file(&dir, 0)
            {
                FileList::add(&mut w.out.data, keeper, Certainty::Maybe);
            }
        }
        cur.push(c);
    }
}

/// The first regular file below `dir`, by name, depth first.
fn first_file(dir: &Path, depth: usize) -> Option<PathBuf> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in &entries {
        if e.file_type().is_ok_and(|t| t.is_file()) {
            return Some(e.path());
        }
    }
    if depth < 4 {
        for e in &entries {
            if e.file_type().is_ok_and(|t| t.is_dir())
                && let Some(f) = first_file(&e.path(), depth + 1)
            {
                return Some(f);
            }
        }
    }
    None
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
