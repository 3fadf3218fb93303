//! Run-time values: what Velocity's Java objects become here, with Java's
//! `toString` for output and JSON for `$input.json`.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::rc::Rc;

/// Where a list or map came from: Jayway JsonPath's lists render as JSON
/// (`["a","b"]`), Velocity's own as `java.util` does (`[a, b]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Json,
    Vtl,
}

pub(crate) type Map<'r> = Rc<Vec<(Cow<'r, str>, Value<'r>)>>;

#[derive(Debug, Clone)]
pub(crate) enum Value<'r> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'r, str>),
    List(Rc<Vec<Value<'r>>>, Origin),
    Map(Map<'r>, Origin),
    Input,
    Util,
}

impl<'r> Value<'r> {
    pub(crate) fn str(s: impl Into<Cow<'r, str>>) -> Self {
        Value::Str(s.into())
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Velocity 1.7's `#if`: null and `false` are false, everything else
    /// (the empty string included) is true.
    pub(crate) fn truthy(&self) -> bool {
        !matches!(self, Value::Null | Value::Bool(false))
    }

    pub(crate) fn map_get(&self, key: &str) -> Value<'r> {
        match self {
            Value::Map(m, _) => m
                .iter()
                .find(|(k, _)| k == key)
                .map_or(Value::Null, |(_, v)| v.clone()),
            _ => Value::Null,
        }
    }

    /// Java's `String.valueOf(x)`, except null, which API Gateway renders
    /// as nothing.
    pub(crate) fn write_to(&self, out: &mut String) {
        match self {
            Value::Null => {}
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => write_java_double(*f, out),
            Value::Str(s) => out.push_str(s),
            Value::List(items, Origin::Json) => write_json_list(items, out),
            Value::List(items, Origin::Vtl) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_java_element(out);
                }
                out.push(']');
            }
            Value::Map(entries, _) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(k);
                    out.push('=');
                    v.write_java_element(out);
                }
                out.push('}');
            }
            Value::Input => out.push_str("$input"),
            Value::Util => out.push_str("$util"),
        }
    }

    /// An element inside a Java collection's `toString`: null is "null".
    fn write_java_element(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            other => other.write_to(out),
        }
    }

    pub(crate) fn to_text(&self) -> String {
        let mut s = String::new();
        self.write_to(&mut s);
        s
    }

    /// Compact JSON, as `$input.json` returns it.
    pub(crate) fn write_json(&self, out: &mut String) {
        match self {
            Value::Null | Value::Input | Value::Util => out.push_str("null"),
            Value::Bool(_) | Value::Int(_) => self.write_to(out),
            Value::Float(f) if f.is_finite() => {
                let _ = write!(out, "{f}");
                if f.fract() == 0.0 && f.abs() < 1e16 {
                    out.push_str(".0");
                }
            }
            Value::Float(_) => out.push_str("null"),
            Value::Str(s) => write_json_str(s, out),
            Value::List(items, _) => write_json_list(items, out),
            Value::Map(entries, _) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_str(k, out);
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_json_list(items: &[Value<'_>], out: &mut String) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        item.write_json(out);
    }
    out.push(']');
}

fn write_json_str(s: &str, out: &mut String) {
    // serde_json's escaping of a str cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

/// `Double.toString`: plain between 10^-3 and 10^7, else `1.5E10`; always
/// a fractional part.
pub(crate) fn write_java_double(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
    } else if f == 0.0 || (1e-3..1e7).contains(&f.abs()) {
        let start = out.len();
        let _ = write!(out, "{f}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    } else {
        let sci = format!("{f:e}");
        let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        out.push_str(mantissa);
        if !mantissa.contains('.') {
            out.push_str(".0");
        }
        out.push('E');
        out.push_str(exp);
    }
}

/// A JSON document read into [`Value`]s, keeping the order of object keys
/// (Jayway's `LinkedHashMap`).
pub(crate) struct Json(pub(crate) Value<'static>);

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor).map(Json)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Value<'static>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Value::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Value::Str(Cow::Owned(v)))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Json(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::List(Rc::new(items), Origin::Json))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries: Vec<(Cow<'static, str>, Value<'static>)> = Vec::new();
        while let Some((k, Json(v))) = map.next_entry::<String, Json>()? {
            // A repeated key keeps its first place and its last value.
            match entries.iter_mut().find(|(old, _)| *old == k) {
                Some(slot) => slot.1 = v,
                None => entries.push((Cow::Owned(k), v)),
            }
        }
        Ok(Value::Map(Rc::new(entries), Origin::Json))
    }
}

/// Parses JSON text; `serde_json` bounds the nesting depth (128).
pub(crate) fn parse_json(text: &str) -> Result<Value<'static>, serde_json::Error> {
    serde_json::from_str::<Json>(text).map(|j| j.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn java(f: f64) -> String {
        let mut s = String::new();
        write_java_double(f, &mut s);
        s
    }

    #[test]
    fn doubles_print_as_java_does() {
        assert_eq!(java(249.99), "249.99");
        assert_eq!(java(1.0), "1.0");
        assert_eq!(java(0.001), "0.001");
        assert_eq!(java(1e7), "1.0E7");
        assert_eq!(java(1.5e-5), "1.5E-5");
        assert_eq!(java(-2.5e10), "-2.5E10");
    }

    #[test]
    fn json_keeps_key_order_and_renders_like_jayway() {
        let v = parse_json(r#"{"b":1,"a":[{"c":"x"}],"d":{"e":null}}"#).unwrap();
        assert_eq!(v.to_text(), r#"{b=1, a=[{"c":"x"}], d={e=null}}"#);
        let mut j = String::new();
        v.write_json(&mut j);
        assert_eq!(j, r#"{"b":1,"a":[{"c":"x"}],"d":{"e":null}}"#);
    }
}
