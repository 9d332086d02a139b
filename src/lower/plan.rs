//! A lowered build: actions with their inputs, outputs and commands, in
//! words whose parts are text, paths inside the output directory, or the
//! output directory itself (which each emitter renders its own way).

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Serialize;

use crate::model::UnitId;

#[derive(Debug, Clone, Serialize)]
pub enum ActionKind {
    Rustc,
    /// Starts a pipelined rustc call; done once its `.rmeta` is written.
    RustcBegin,
    /// Waits for a pipelined rustc call to finish its `.rlib`.
    RustcEnd,
    RunBuildScript,
}

/// A path as the build sees it: inside the output directory (relative), or
/// outside it (absolute).
pub type BuildPath = String;

/// A piece of a command word. Each emitter renders the parts that depend
/// on where its build runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Part {
    Text(String),
    /// A path inside the output directory, relative to it.
    Out(String),
    /// The output directory's absolute path, where the build runs.
    OutDir,
    /// The directory the command runs in (rustc records it in debuginfo).
    Cwd,
}

/// One argument or environment value of a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Word(pub Vec<Part>);

impl Word {
    /// `<the output directory>/rel`, absolute.
    pub(super) fn in_out_dir(rel: &str) -> Word {
        Word(vec![Part::OutDir, Part::Text(format!("/{rel}"))])
    }

    /// A path inside the output directory.
    pub(super) fn out(rel: impl Into<String>) -> Word {
        Word(vec![Part::Out(rel.into())])
    }

    /// `prefix<path inside the output directory>`.
    pub(super) fn prefixed(prefix: impl Into<String>, rel: impl Into<String>) -> Word {
        Word(vec![Part::Text(prefix.into()), Part::Out(rel.into())])
    }
}

impl From<String> for Word {
    fn from(s: String) -> Word {
        Word(vec![Part::Text(s)])
    }
}

impl From<&str> for Word {
    fn from(s: &str) -> Word {
        Word(vec![Part::Text(s.to_string())])
    }
}

pub(super) fn words(v: Vec<String>) -> Vec<Word> {
    v.into_iter().map(Word::from).collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct Action {
    pub unit: UnitId,
    pub kind: ActionKind,
    pub outputs: Vec<BuildPath>,
    pub inputs: Vec<BuildPath>,
    pub implicit_inputs: Vec<BuildPath>,
    pub program: BuildPath,
    pub args: Vec<Word>,
    pub env: Vec<(String, Word)>,
    pub depfile: Option<BuildPath>,
    /// rustc writes `$` unescaped into dep-info, which Ninja reads as an
    /// escape: double it after the call when a path of the build has one.
    pub escape_depfile_dollars: bool,
    pub description: String,
    /// A pipelined call's state directory (where `pipe.rs` records its
    /// times), on both of its actions.
    pub state: Option<BuildPath>,
}

pub struct Plan {
    pub actions: Vec<Action>,
    /// Files to write before the build runs: (path inside the output
    /// directory, contents).
    pub files: Vec<(PathBuf, String)>,
    /// Per target: the library outputs that make up its sysroot.
    pub sysroot_libs: Vec<(String, Vec<BuildPath>)>,
    /// Everything inside the output directory the build produces or uses
    /// (files, and unit directories kept whole): the rest is stale.
    pub keep: BTreeSet<PathBuf>,
}
