//! What rustc can take as one argument, checked for every rustflag
//! whatever its source (the command line, the environment, sysgen.toml,
//! `.cargo/config.toml`, a profile's `rustflags`).

use anyhow::Result;

use crate::user_bail;

/// The contract every rustflag meets, whatever its source: any Unicode
/// character but NUL, LF and CR (rustc's `@args` files hold one argument a
/// line, and a build file's command is one line). A flag that breaks it is
/// refused with one line naming `source`, never passed on or split.
///
/// A flag `@PATH` (rustc reads more arguments from the file) is refused
/// too: a change to the file's contents would reach no build's inputs and
/// no store key, and its arguments would escape the check above.
pub fn check(source: &str, flags: &[String]) -> Result<()> {
    if let Some(f) = flags.iter().find(|f| f.contains(['\n', '\r', '\0'])) {
        user_bail!(
            "{source}: the rustflag {f:?} holds a line break or NUL, which no build file or rustc @args file can pass; remove it"
        );
    }
    if let Some(f) = flags.iter().find(|f| f.starts_with('@')) {
        user_bail!(
            "{source}: the rustflag {f:?} has rustc read arguments from a file whose changes sysgen cannot track; put those arguments in the rustflags themselves"
        );
    }
    Ok(())
}
