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
                // `*` first: a name runs to the next `.` or `[`, so it would
                // take `..*` for a member named `*`.
                if let Some(r) = r.strip_prefix('*') {
                    steps.push(Step::Descend(None));
                    rest = r;
                    continue;
                }
                let (name, r) = take_name(r);
                if name.is_empty() {
                    return Err(bad(src));
                }
                steps.push(Step::Descend(Some(name.to_owned())));
                rest = r;
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
    ///
    /// Fails once a step has yielded more than [`MAX_MATCHES`] values or
    /// the walk has visited more than [`MAX_VISITS`]: a deep scan after a
    /// deep scan (`$..a..b`) meets each value once per ancestor it matched.
    /// Adds the values visited and yielded to `work`.
    pub(crate) fn eval<'r>(
        &self,
        root: &Value<'r>,
        work: &mut usize,
    ) -> Result<Value<'r>, PathTooBig> {
        let mut walk = Walk {
            out: Vec::new(),
            visits: 0,
        };
        let mut current = vec![root.clone()];
        let mut yielded = 0;
        let result = self.steps.iter().try_for_each(|step| {
            for node in &current {
                walk.apply(step, node)?;
            }
            current = std::mem::take(&mut walk.out);
            yielded += current.len();
            Ok(())
        });
        *work += walk.visits + yielded;
        result?;
        Ok(if self.definite {
            current.into_iter().next().unwrap_or(Value::Null)
        } else {
            Value::List(Rc::new(current), Origin::Json)
        })
    }
}

/// The most values a path may yield, at any step: more than a list can hold
/// and still render within the 10 MiB limit (each element takes at least a
/// byte and a comma). One deep scan of a 10 MB document stays under it.
pub(crate) const MAX_MATCHES: usize = super::eval::MAX_TEXT / 2;
/// The most values one evaluation may visit: a few deep scans of the
/// largest document.
pub(crate) const MAX_VISITS: usize = 4 * MAX_MATCHES;

/// A path whose evaluation passed [`MAX_MATCHES`] or [`MAX_VISITS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PathTooBig;

/// One evaluation: the values the current step yields, and the count of
/// values visited so far.
struct Walk<'r> {
    out: Vec<Value<'r>>,
    visits: usize,
}

impl<'r> Walk<'r> {
    fn push(&mut self, v: &Value<'r>) -> Result<(), PathTooBig> {
        if self.out.len() == MAX_MATCHES {
            return Err(PathTooBig);
        }
        self.out.push(v.clone());
        Ok(())
    }

    fn visit(&mut self, n: usize) -> Result<(), PathTooBig> {
        self.visits += n;
        if self.visits > MAX_VISITS {
            return Err(PathTooBig);
        }
        Ok(())
    }

    fn apply(&mut self, step: &Step, node: &Value<'r>) -> Result<(), PathTooBig> {
        match step {
            Step::Child(name) => self.child(name, node, false),
            Step::Index(i) => {
                if let Value::List(l, _) = node {
                    let len = l.len() as i64;
                    let at = if *i < 0 { len + i } else { *i };
                    if (0..len).contains(&at) {
                        self.push(&l[at as usize])?;
                    }
                }
                Ok(())
            }
            Step::Wildcard => self.children(node),
            Step::Descend(name) => self.descend(name.as_deref(), node, 0),
        }
    }

    /// A map's member; `scan`: by searching it (a deep scan walks every
    /// member anyway) rather than through its index.
    fn child(&mut self, name: &str, node: &Value<'r>, scan: bool) -> Result<(), PathTooBig> {
        if let Value::Map(m, _) = node {
            let found = if scan {
                self.visit(m.len())?;
                m.iter().find(|(k, _)| k == name).map(|(_, v)| v)
            } else {
                self.visit(1)?;
                m.get(name)
            };
            if let Some(v) = found {
                self.push(v)?;
            }
        }
        Ok(())
    }

    fn children(&mut self, node: &Value<'r>) -> Result<(), PathTooBig> {
        match node {
            Value::Map(m, _) => m.iter().try_for_each(|(_, v)| self.push(v)),
            Value::List(l, _) => l.iter().try_for_each(|v| self.push(v)),
            _ => Ok(()),
        }
    }

    /// Depth is bounded by the JSON parser's own limit (128); the guard
    /// keeps that true for values built any other way.
    fn descend(
        &mut self,
        name: Option<&str>,
        node: &Value<'r>,
        depth: u32,
    ) -> Result<(), PathTooBig> {
        if depth > 256 {
            return Ok(());
        }
        self.visit(1)?;
        match name {
            Some(n) => self.child(n, node, true)?,
            None => self.children(node)?,
        }
        match node {
            Value::Map(m, _) => m
                .iter()
                .try_for_each(|(_, v)| self.descend(name, v, depth + 1)),
            Value::List(l, _) => l.iter().try_for_each(|v| self.descend(name, v, depth + 1)),
            _ => Ok(()),
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

#[cfg(test)]
mod tests {
    use super::super::value::parse_json;
    use super::*;

    fn json_of(path: &str, doc: &str) -> String {
        let v = JsonPath::parse(path)
            .unwrap()
            .eval(&parse_json(doc).unwrap(), &mut 0)
            .unwrap();
        let mut s = String::new();
        v.append_json(&mut s).unwrap();
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
        assert_eq!(
            json_of("$..*", r#"{"a":[1,{"b":2}],"c":3}"#),
            r#"[[1,{"b":2}],3,1,{"b":2},2]"#
        );
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
