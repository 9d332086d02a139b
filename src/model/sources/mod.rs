//! The files a crate reads, found by scanning its sources: lexing, cfg
//! evaluation, scanning one file, following modules and includes from the
//! crate root.

mod cfg;
mod follow;
mod lex;
mod scan;

pub use cfg::{CfgEnv, Pred, Tri};
pub use follow::{Certainty, FileList, Scanner};
