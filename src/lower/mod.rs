//! The crate model laid out for a file-based build: the plan's types
//! (actions, words) and the layout that fills them (outputs, pipelining,
//! depfiles, `@args`).

pub mod layout;
pub mod plan;
pub mod schedule;

pub use layout::{LowerOptions, lower, sysroot_libraries, sysroot_library, unit_dir};
pub use plan::{Action, ActionKind, BuildPath, Part, Plan, Word};
