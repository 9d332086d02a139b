//! User-facing errors.
//!
//! A [`UserError`] is a mistake in sysgen's input (flags, environment, files
//! it reads). It renders as one line that names the problem and the fix, and
//! makes the process exit with status 2. Any other error is a bug in sysgen.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError(pub String);

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

impl UserError {
    /// A message on one line: control characters a path or a file brought
    /// in (a newline in a manifest's `path`) are shown escaped.
    pub fn new(msg: String) -> UserError {
        if !msg.contains(|c: char| c.is_control()) {
            return UserError(msg);
        }
        UserError(
            msg.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
        )
    }
}

/// Build an `anyhow::Error` carrying a [`UserError`].
#[macro_export]
macro_rules! user_err {
    ($($arg:tt)*) => {
        ::anyhow::Error::new($crate::base::error::UserError::new(format!($($arg)*)))
    };
}

/// Return early with a [`UserError`].
#[macro_export]
macro_rules! user_bail {
    ($($arg:tt)*) => {
        return Err($crate::user_err!($($arg)*))
    };
}

/// Another library's message (it may span lines) as part of one line.
pub fn one_line(msg: &str) -> String {
    msg.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// One line for a TOML parse error: the message and the line it points at.
pub fn toml_error_line(err: &toml::de::Error, text: &str) -> String {
    let msg = err
        .message()
        .lines()
        .next()
        .unwrap_or("invalid TOML")
        .trim();
    match err.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {msg}")
        }
        None => msg.to_string(),
    }
}
