//! A small Rust lexer: enough tokens to find items, attributes, macro
//! calls and string literals; comments and whitespace are dropped.

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    /// A string literal's value (raw, byte and C strings too).
    Str(String),
    /// Any other literal (numbers, chars).
    Lit,
    Punct(char),
    Group(char, Vec<Tok>),
}

/// Token trees of Rust source text. Comments vanish; a lexing problem ends
/// the file early (rustc would reject it anyway).
pub(super) fn lex(text: &str) -> Vec<Tok> {
    let chars: Vec<char> = text.chars().collect();
    let mut stack: Vec<(char, Vec<Tok>)> = vec![(' ', Vec::new())];
    let mut i = 0;
    let n = chars.len();
    let push = |stack: &mut Vec<(char, Vec<Tok>)>, t: Tok| {
        stack.last_mut().expect("the root level").1.push(t)
    };
    while i < n {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < n && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < n {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            let (s, next) = string(&chars, i + 1);
            push(&mut stack, Tok::Str(s));
            i = next;
        } else if let Some((s, next)) = prefixed_string(&chars, i) {
            push(&mut stack, Tok::Str(s));
            i = next;
        } else if c == '\'' || (c == 'b' && chars.get(i + 1) == Some(&'\'')) {
            let start = if c == 'b' { i + 1 } else { i };
            match char_literal_end(&chars, start) {
                Some(end) => {
                    push(&mut stack, Tok::Lit);
                    i = end;
                }
                None => {
                    // A lifetime or label: the quote, then the identifier.
                    push(&mut stack, Tok::Punct('\''));
                    i = start + 1;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let s = i;
            while i < n && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[s..i].iter().collect();
            // `r#ident`
            if word == "r" && chars.get(i) == Some(&'#') {
                i += 1;
                continue;
            }
            push(&mut stack, Tok::Ident(word));
        } else if c.is_ascii_digit() {
            while i < n
                && (chars[i].is_alphanumeric()
                    || chars[i] == '_'
                    || (chars[i] == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())))
            {
                i += 1;
            }
            push(&mut stack, Tok::Lit);
        } else if matches!(c, '(' | '[' | '{') {
            stack.push((c, Vec::new()));
            i += 1;
        } else if matches!(c, ')' | ']' | '}') {
            if stack.len() > 1 {
                let (open, toks) = stack.pop().expect("checked");
                push(&mut stack, Tok::Group(open, toks));
            }
            i += 1;
        } else {
            push(&mut stack, Tok::Punct(c));
            i += 1;
        }
    }
    while stack.len() > 1 {
        let (open, toks) = stack.pop().expect("checked");
        push(&mut stack, Tok::Group(open, toks));
    }
    stack.pop().map(|(_, t)| t).unwrap_or_default()
}

/// A `"…"` string from just after its quote: (value, index after it).
pub(super) fn string(chars: &[char], mut i: usize) -> (String, usize) {
    let mut s = String::new();
    while i < chars.len() && chars[i] != '"' {
        if chars[i] == '\\' && i + 1 < chars.len() {
            match chars[i + 1] {
                'n' => s.push('\n'),
                't' => s.push('\t'),
                '\\' => s.push('\\'),
                '"' => s.push('"'),
                '\'' => s.push('\''),
                '\n' => {
                    // A line continuation: skip the newline and the indent.
                    i += 2;
                    while i < chars.len() && chars[i].is_whitespace() {
                        i += 1;
                    }
                    continue;
                }
                c => {
                    s.push('\\');
                    s.push(c);
                }
            }
            i += 2;
        } else {
            s.push(chars[i]);
            i += 1;
        }
    }
    (s, i + 1)
}

/// `r"…"`, `r#"…"#`, `b"…"`, `br"…"`, `c"…"`, `cr#"…"#` at `i`.
pub(super) fn prefixed_string(chars: &[char], i: usize) -> Option<(String, usize)> {
    let mut j = i;
    if matches!(chars.get(j), Some('b') | Some('c')) {
        j += 1;
    }
    let raw = chars.get(j) == Some(&'r');
    if raw {
        j += 1;
    }
    if j == i {
        return None;
    }
    // Not part of a longer identifier (`bar"` cannot happen, `br` can).
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    if !raw {
        return (chars.get(j) == Some(&'"')).then(|| string(chars, j + 1));
    }
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    if chars.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    let start = j;
    while j < chars.len() {
        if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
            return Some((chars[start..j].iter().collect(), j + 1 + hashes));
        }
        j += 1;
    }
    Some((chars[start..].iter().collect(), chars.len()))
}

/// The index after a char literal starting at the quote `i`, or `None` for
/// a lifetime.
pub(super) fn char_literal_end(chars: &[char], i: usize) -> Option<usize> {
    match chars.get(i + 1)? {
        '\\' => {
            let mut j = i + 2;
            while j < chars.len() && chars[j] != '\'' {
                j += 1;
            }
            Some(j + 1)
        }
        _ => (chars.get(i + 2) == Some(&'\'')).then_some(i + 3),
    }
}
