//! Starlark, the language of Bazel's and Buck2's BUILD files: string
//! literals and rule instances, typed and serialized in one place.

/// A Starlark value of a rule attribute.
#[derive(Debug, Clone)]
pub enum Value {
    Str(String),
    List(Vec<String>),
    Dict(Vec<(String, String)>),
}

/// One rule instance of a BUILD file (Bazel's, and Buck2's later), typed:
/// attributes in the order given, empty ones left out; rendering is the
/// only place rule text is written, so it is deterministic by construction.
#[derive(Debug, Clone)]
pub struct Rule {
    pub kind: &'static str,
    pub name: String,
    pub attrs: Vec<(&'static str, Value)>,
}

/// A Starlark string literal holding `s` exactly.
pub fn quote(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Why Bazel (and Buck2) would refuse `name` as a target or file name in
/// a label, if it would: `:` and `\\` separate or escape, control
/// characters are refused, and as a path it must be in normal form (no
/// empty, `.` or `..` segment). Everything else, spaces and non-ASCII
/// included, Bazel takes.
pub fn unlabelable(name: &str) -> Option<String> {
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, ':' | '\\') || c.is_control())
    {
        return Some(format!("holds {c:?}"));
    }
    if name.split('/').any(|seg| matches!(seg, "" | "." | "..")) {
        return Some("is not a path in normal form".into());
    }
    None
}

/// Refuse `name` where a label must name it, with one line saying why.
pub fn check_label(what: &str, name: &str) -> anyhow::Result<()> {
    if let Some(why) = unlabelable(name) {
        crate::user_bail!(
            "{what} {name:?} {why}, which a Bazel label cannot name; rename it (or use `sysgen ninja`, which can)"
        );
    }
    Ok(())
}

impl Rule {
    pub fn new(kind: &'static str, name: String) -> Rule {
        Rule {
            kind,
            name,
            attrs: Vec::new(),
        }
    }

    pub fn s(mut self, k: &'static str, v: impl Into<String>) -> Rule {
        let v = v.into();
        if !v.is_empty() {
            self.attrs.push((k, Value::Str(v)));
        }
        self
    }

    pub fn list(mut self, k: &'static str, v: Vec<String>) -> Rule {
        if !v.is_empty() {
            self.attrs.push((k, Value::List(v)));
        }
        self
    }

    pub fn dict(mut self, k: &'static str, v: Vec<(String, String)>) -> Rule {
        if !v.is_empty() {
            self.attrs.push((k, Value::Dict(v)));
        }
        self
    }

    pub fn render(&self) -> String {
        let mut o = format!("{}(\n    name = {},\n", self.kind, quote(&self.name));
        for (k, v) in &self.attrs {
            match v {
                Value::Str(s) => o.push_str(&format!("    {k} = {},\n", quote(s))),
                Value::List(l) if l.len() == 1 => {
                    o.push_str(&format!("    {k} = [{}],\n", quote(&l[0])));
                }
                Value::List(l) => {
                    o.push_str(&format!("    {k} = [\n"));
                    for x in l {
                        o.push_str(&format!("        {},\n", quote(x)));
                    }
                    o.push_str("    ],\n");
                }
                Value::Dict(d) => {
                    o.push_str(&format!("    {k} = {{\n"));
                    for (a, b) in d {
                        o.push_str(&format!("        {}: {},\n", quote(a), quote(b)));
                    }
                    o.push_str("    },\n");
                }
            }
        }
        o.push_str(")\n");
        o
    }
}
