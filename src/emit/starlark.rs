//! Starlark, the language of Bazel's and Buck2's BUILD files: string
//! literals, values and rule instances, typed and serialized in one place.

/// A Starlark value of a rule attribute.
#[derive(Debug, Clone)]
pub enum Value {
    Str(String),
    Bool(bool),
    None,
    List(Vec<String>),
    Dict(Vec<(String, String)>),
    /// `select({condition: value, …})`, conditions in the order given.
    Select(Vec<(String, Value)>),
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

    /// Any value, even an empty one (a `select` branch, `False`).
    pub fn value(mut self, k: &'static str, v: Value) -> Rule {
        self.attrs.push((k, v));
        self
    }

    /// `k = True`, when `on`.
    pub fn flag(mut self, k: &'static str, on: bool) -> Rule {
        if on {
            self.attrs.push((k, Value::Bool(true)));
        }
        self
    }

    pub fn render(&self) -> String {
        let mut o = format!("{}(\n    name = {},\n", self.kind, quote(&self.name));
        for (k, v) in &self.attrs {
            o.push_str(&format!("    {k} = {},\n", render_value(v, 1)));
        }
        o.push_str(")\n");
        o
    }
}

/// `v` as Starlark, its continuation lines indented `depth` levels (four
/// spaces each), in buildifier's layout.
pub fn render_value(v: &Value, depth: usize) -> String {
    let pad = "    ".repeat(depth + 1);
    let end = "    ".repeat(depth);
    match v {
        Value::Str(s) => quote(s),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::None => "None".into(),
        Value::List(l) if l.is_empty() => "[]".into(),
        Value::List(l) if l.len() == 1 => format!("[{}]", quote(&l[0])),
        Value::List(l) => {
            let mut o = String::from("[\n");
            for x in l {
                o.push_str(&format!("{pad}{},\n", quote(x)));
            }
            o.push_str(&format!("{end}]"));
            o
        }
        Value::Dict(d) if d.is_empty() => "{}".into(),
        Value::Dict(d) => {
            let mut o = String::from("{\n");
            for (a, b) in d {
                o.push_str(&format!("{pad}{}: {},\n", quote(a), quote(b)));
            }
            o.push_str(&format!("{end}}}"));
            o
        }
        Value::Select(branches) => {
            let mut o = String::from("select({\n");
            for (cond, val) in branches {
                o.push_str(&format!(
                    "{pad}{}: {},\n",
                    quote(cond),
                    render_value(val, depth + 1)
                ));
            }
            o.push_str(&format!("{end}}})"));
            o
        }
    }
}
