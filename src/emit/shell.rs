//! The POSIX shell of build commands (Ninja's and Make's recipes): quoting
//! one word, and a whole `env K=V … program args…` line. The output
//! directory is `"$PWD"`: build commands run there.

use crate::lower::{Part, Word};

/// Quote one word for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// One command word for a POSIX shell; the output directory becomes
/// `"$PWD"`. An empty word stays a word (`''`).
pub fn shell_word(w: &Word) -> String {
    let s: String =
        w.0.iter()
            .map(|p| match p {
                Part::Text(t) if t.is_empty() => String::new(),
                // Commands run in the output directory.
                Part::Text(t) | Part::Out(t) => shell_quote(t),
                Part::OutDir | Part::Cwd => "\"$PWD\"".to_string(),
            })
            .collect();
    if s.is_empty() { "''".to_string() } else { s }
}

/// `env K=V … program args…` as one shell command line.
pub fn command_line(env: &[(String, Word)], program: &str, args: &[Word]) -> String {
    let mut words = Vec::new();
    if !env.is_empty() {
        words.push("env".to_string());
        for (k, v) in env {
            let mut w = vec![Part::Text(format!("{k}="))];
            w.extend(v.0.iter().cloned());
            words.push(shell_word(&Word(w)));
        }
    }
    words.push(shell_quote(program));
    words.extend(args.iter().map(shell_word));
    words.join(" ")
}
