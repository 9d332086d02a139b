//! The environment through which a jobserver reaches a process.

use std::process::Command;

/// The variables that name a jobserver.
pub const VARS: [&str; 3] = ["CARGO_MAKEFLAGS", "MAKEFLAGS", "MFLAGS"];

/// `cmd` without any jobserver's variables: for a process that needs no
/// tokens (a compiler asked a question) started where the descriptors they
/// name may be closed (a make recipe without `+`), which rustc warns about.
pub fn forget(cmd: &mut Command) -> &mut Command {
    for v in VARS {
        cmd.env_remove(v);
    }
    cmd
}
