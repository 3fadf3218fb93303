//! The JSONPath subset AWS documents for `$input.json` and `$input.path`:
//! `$`, `.name`, `['name']`, `[n]` (negative counts from the end), `[*]`,
//! `.*` and `..name` / `..*`. Filters, unions and slices are refused when
//! the path is parsed.

use std::rc::Rc;

use super::value::{Origin, Value};

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Child(String),
    Index(i64),
    Wildcard,
    Descend(Option<String>),
}

/// A parsed path. A path with `[*]`, `.*` or `..` is indefinite: it yields
/// a list of every match, as Jayway JsonPath does.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonPath {
    steps: Vec<Step>,
    definite: bool,
}

impl JsonPath {
    pub(crate) fn parse(src: &str) -> Result<Self, String> {
        let s = src.trim();
        let mut rest = s
            .strip_prefix('$')
            .ok_or_else(|| format!("JSONPath `{src}` must start with `$`"))?;
        let mut steps = Vec::new();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("..") {
                let (name, r) = take_name(r);
                if name.is_empty() {
                    let r = r.strip_prefix('*').ok_or_else(|| bad(src))?;
                    steps.push(Step::Descend(None));
                    rest = r;
                } else {
                    steps.push(Step::Descend(Some(name.to_owned())));
                    rest = r;
                }
            } else if let Some(r) = rest.strip_prefix('.') {
                if let Some(r) = r.strip_prefix('*') {
                    steps.push(Step::Wildcard);
                    rest = r;
                } else {
                    let (name, r) = take_name(r);
                    if name.is_empty() {
                        return Err(bad(src));
                    }
                    steps.push(Step::Child(name.to_owned()));
                    rest = r;
                }
            } else if let Some(r) = rest.strip_prefix('[') {
                let close = r.find(']').ok_or_else(|| bad(src))?;
                let inner = r[..close].trim();
                rest = &r[close + 1..];
                steps.push(bracket(inner).ok_or_else(|| {
                    format!("JSONPath `{src}`: `[{inner}]` is not supported (only ['name'], [n] and [*])")
                })?);
            } else {
                return Err(bad(src));
            }
        }
        let definite = steps
            .iter()
            .all(|s| matches!(s, Step::Child(_) | Step::Index(_)));
        Ok(JsonPath { steps, definite })
    }

    /// Applies the path to a document. A definite path that matches
    /// nothing yields null; an indefinite one an empty list.
    pub(crate) fn eval<'r>(&self, root: &Value<'r>) -> Value<'r> {
        let mut current = vec![root.clone()];
        for step in &self.steps {
            let mut next = Vec::new();
            for node in &current {
                apply(step, node, &mut next);
            }
            current = next;
        }
        if self.definite {
            current.into_iter().next().unwrap_or(Value::Null)
        } else {
            Value::List(Rc::new(current), Origin::Json)
        }
    }
}

fn bad(src: &str) -> String {
    format!("JSONPath `{src}` is malformed")
}

fn take_name(s: &str) -> (&str, &str) {
    let end = s.find(['.', '[']).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

fn bracket(inner: &str) -> Option<Step> {
    if inner == "*" {
        return Some(Step::Wildcard);
    }
    for q in ['\'', '"'] {
        if let Some(name) = inner.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            if name.contains(q) {
                return None;
            }
            return Some(Step::Child(name.to_owned()));
        }
    }
    inner.parse().ok().map(Step::Index)
}

fn children<'r>(node: &Value<'r>, out: &mut Vec<Value<'r>>) {
    match node {
        Value::Map(m, _) => out.extend(m.iter().map(|(_, v)| v.clone())),
        Value::List(l, _) => out.extend(l.iter().cloned()),
        _ => {}
    }
}

fn apply<'r>(step: &Step, node: &Value<'r>, out: &mut Vec<Value<'r>>) {
    match step {
        Step::Child(name) => {
            if let Value::Map(m, _) = node {
                if let Some((_, v)) = m.iter().find(|(k, _)| k == name) {
                    out.push(v.clone());
                }
            }
        }
        Step::Index(i) => {
            if let Value::List(l, _) = node {
                let len = l.len() as i64;
                let at = if *i < 0 { len + i } else { *i };
                if (0..len).contains(&at) {
                    out.push(l[at as usize].clone());
                }
            }
        }
        Step::Wildcard => children(node, out),
        Step::Descend(name) => descend(name.as_deref(), node, out, 0),
    }
}

/// Depth is bounded by the JSON parser's own limit (128); the guard keeps
/// that true for values built any other way.
fn descend<'r>(name: Option<&str>, node: &Value<'r>, out: &mut Vec<Value<'r>>, depth: u32) {
    if depth > 256 {
        return;
    }
    match name {
        Some(n) => apply(&Step::Child(n.to_owned()), node, out),
        None => children(node, out),
    }
    let mut kids = Vec::new();
    children(node, &mut kids);
    for kid in &kids {
        descend(name, kid, out, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::super::value::parse_json;
    use super::*;

    fn json_of(path: &str, doc: &str) -> String {
        let v = JsonPath::parse(path)
            .unwrap()
            .eval(&parse_json(doc).unwrap());
        let mut s = String::new();
        v.write_json(&mut s);
        s
    }

    #[test]
    fn the_documented_subset() {
        let doc = r#"{"pets":[{"id":1,"type":"dog"},{"id":2,"type":"cat"}],"a b":{"c":true}}"#;
        assert_eq!(json_of("$", "[1]"), "[1]");
        assert_eq!(json_of("$.pets[1].type", doc), r#""cat""#);
        assert_eq!(json_of("$.pets[-1].id", doc), "2");
        assert_eq!(json_of("$['a b']['c']", doc), "true");
        assert_eq!(json_of("$.pets[*].id", doc), "[1,2]");
        assert_eq!(json_of("$..type", doc), r#"["dog","cat"]"#);
        assert_eq!(json_of("$.missing", doc), "null");
        assert_eq!(json_of("$.pets.*.id", doc), "[1,2]");
    }

    #[test]
    fn unsupported_paths_are_refused() {
        for p in [
            "pets",
            "$.pets[?(@.id==1)]",
            "$.pets[0:1]",
            "$.pets[0,1]",
            "$.",
            "$x",
            "$[",
        ] {
            assert!(JsonPath::parse(p).is_err(), "{p}");
        }
    }
}
