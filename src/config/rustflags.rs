//! Where rustflags come from, and which source wins: cargo's precedence,
//! decided here once for every caller (the sysroot's crates, and the user's
//! crates under `sysgen cargo`).

use anyhow::Result;

use crate::toolchain::flags::check;
use crate::user_bail;

/// A variable's value; `None` when unset. rustc takes only UTF-8
/// arguments, so a value that is not is refused (cargo refuses it too),
/// never dropped.
fn var(name: &str) -> Result<Option<String>> {
    match std::env::var(name) {
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            user_bail!(
                "{name} is not valid UTF-8; rustc takes only UTF-8 flags: fix or unset {name}"
            )
        }
    }
}

/// Flags from the environment as cargo reads them: `encoded` (0x1f
/// separated) wins over `plain` (space separated); `None` when neither is
/// set.
pub fn from_env(encoded: &str, plain: &str) -> Result<Option<Vec<String>>> {
    if let Some(enc) = var(encoded)? {
        let flags: Vec<String> = enc
            .split('\u{1f}')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        check(encoded, &flags)?;
        return Ok(Some(flags));
    }
    let Some(p) = var(plain)? else {
        return Ok(None);
    };
    let flags: Vec<String> = p.split_whitespace().map(str::to_string).collect();
    check(plain, &flags)?;
    Ok(Some(flags))
}

/// CARGO_ENCODED_RUSTFLAGS, else RUSTFLAGS, else nothing.
pub fn env_rustflags() -> Result<Vec<String>> {
    Ok(from_env("CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS")?.unwrap_or_default())
}

/// Whether RUSTFLAGS or CARGO_ENCODED_RUSTFLAGS is set (then they replace
/// the project's .cargo/config.toml rustflags, as in cargo).
pub fn env_rustflags_set() -> bool {
    std::env::var_os("CARGO_ENCODED_RUSTFLAGS").is_some() || std::env::var_os("RUSTFLAGS").is_some()
}

/// Flags as cargo picks them for the user's crates: the environment, else
/// the project's config.
pub fn as_cargo_reads(encoded: &str, plain: &str, from_config: Vec<String>) -> Result<Vec<String>> {
    Ok(from_env(encoded, plain)?.unwrap_or(from_config))
}

/// A sysroot crate's flags for one target, in cargo's order: the project's
/// config rustflags (unless the environment's replace them), sysgen.toml's
/// `[sysgen] rustflags`, then the environment's and the command line's.
pub fn for_sysroot(
    project: Vec<String>,
    sysgen_toml: Option<&[String]>,
    user: &[String],
    env_set: bool,
) -> Vec<String> {
    let mut f = if env_set { Vec::new() } else { project };
    f.extend(sysgen_toml.unwrap_or_default().iter().cloned());
    f.extend(user.iter().cloned());
    f
}
