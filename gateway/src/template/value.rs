//! Run-time values: what Velocity's Java objects become here, with Java's
//! `toString` for output and JSON for `$input.json`.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::hash_map::{Entry, HashMap, RandomState};
use std::fmt::Write as _;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::rc::Rc;

use super::eval::MAX_TEXT;

/// Where a list or map came from: Jayway JsonPath's lists render as JSON
/// (`["a","b"]`), Velocity's own as `java.util` does (`[a, b]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Json,
    Vtl,
}

pub(crate) type Map<'r> = Rc<MapData<'r>>;

/// A map's entries, each key once, in order; with an index built the first
/// time a key is looked up in a map of more than [`SMALL_OBJECT`] entries,
/// so that a template looking keys up in a loop costs one pass over a
/// client's large object rather than one per lookup.
#[derive(Debug, Default)]
pub(crate) struct MapData<'r> {
    entries: Vec<(Cow<'r, str>, Value<'r>)>,
    /// Keys' hashes (SipHash with a random key: a client cannot make them
    /// collide) to their places. Holding no `'r`, it leaves `Value<'r>`
    /// covariant.
    index: OnceCell<KeyIndex>,
}

#[derive(Debug)]
struct KeyIndex {
    keys: RandomState,
    places: HashMap<u64, usize, BuildHasherDefault<Prehashed>>,
}

impl<'r> MapData<'r> {
    /// A map of these entries, whose keys must be distinct.
    pub(crate) fn new(entries: Vec<(Cow<'r, str>, Value<'r>)>) -> Rc<Self> {
        Rc::new(MapData {
            entries,
            index: OnceCell::new(),
        })
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Value<'r>> {
        let linear = || self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        if self.entries.len() <= SMALL_OBJECT {
            return linear();
        }
        let index = self.index.get_or_init(|| {
            let keys = RandomState::new();
            let mut places =
                HashMap::with_capacity_and_hasher(self.entries.len(), Default::default());
            for (i, (k, _)) in self.entries.iter().enumerate() {
                // Two keys of one hash: the first keeps the place, the
                // other is found by the search below.
                places.entry(keys.hash_one(&**k)).or_insert(i);
            }
            KeyIndex { keys, places }
        });
        match index.places.get(&index.keys.hash_one(key)) {
            None => None,
            Some(&i) if self.entries[i].0 == key => Some(&self.entries[i].1),
            Some(_) => linear(),
        }
    }
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl<'r> std::ops::Deref for MapData<'r> {
    type Target = [(Cow<'r, str>, Value<'r>)];

    fn deref(&self) -> &Self::Target {
        &self.entries
    }
}

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
            Value::Map(m, _) => m.get(key).cloned().unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }

    /// Appends Java's `String.valueOf(x)` (except null, which API Gateway
    /// renders as nothing) to `out`, failing if `out` would pass
    /// [`MAX_TEXT`]. A list or map is measured first and written only if
    /// it fits: a deep scan's matches repeat their subtrees, so the text of
    /// a small document's value can be a hundred times its size, and what
    /// is refused is never built.
    pub(crate) fn append_text(&self, out: &mut String) -> Result<(), TooLong> {
        if let Value::List(..) | Value::Map(..) = self {
            let mut size = Count(out.len());
            self.write_to(&mut size)?;
            out.reserve(size.0 - out.len());
        }
        self.write_to(out)
    }

    /// The work of writing `len` bytes of this value's text: twice that
    /// for a list or map, measured before it is written.
    pub(crate) fn text_cost(&self, len: usize) -> usize {
        match self {
            Value::List(..) | Value::Map(..) => 2 * len,
            _ => len,
        }
    }

    /// The text of [`Value::append_text`].
    pub(crate) fn to_text(&self) -> Result<String, TooLong> {
        let mut s = String::new();
        self.append_text(&mut s)?;
        Ok(s)
    }

    /// Appends compact JSON, as `$input.json` returns it; measured first
    /// and bounded as [`Value::append_text`] is.
    pub(crate) fn append_json(&self, out: &mut String) -> Result<(), TooLong> {
        if let Value::List(..) | Value::Map(..) = self {
            let mut size = Count(out.len());
            self.write_json(&mut size)?;
            out.reserve(size.0 - out.len());
        }
        self.write_json(out)
    }

    fn write_to<S: Sink>(&self, out: &mut S) -> Result<(), TooLong> {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => put(out, if *b { "true" } else { "false" }),
            Value::Int(i) => put_display(out, i),
            Value::Float(f) => {
                let mut s = String::new();
                write_java_double(*f, &mut s);
                put(out, &s)
            }
            Value::Str(s) => put(out, s),
            Value::List(items, Origin::Json) => write_json_list(items, out),
            Value::List(items, Origin::Vtl) => {
                put(out, "[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        put(out, ", ")?;
                    }
                    item.write_java_element(out)?;
                }
                put(out, "]")
            }
            Value::Map(entries, _) => {
                put(out, "{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        put(out, ", ")?;
                    }
                    put(out, k)?;
                    put(out, "=")?;
                    v.write_java_element(out)?;
                }
                put(out, "}")
            }
            Value::Input => put(out, "$input"),
            Value::Util => put(out, "$util"),
        }
    }

    /// An element inside a Java collection's `toString`: null is "null".
    fn write_java_element<S: Sink>(&self, out: &mut S) -> Result<(), TooLong> {
        match self {
            Value::Null => put(out, "null"),
            other => other.write_to(out),
        }
    }

    fn write_json<S: Sink>(&self, out: &mut S) -> Result<(), TooLong> {
        match self {
            Value::Null | Value::Input | Value::Util => put(out, "null"),
            Value::Bool(_) | Value::Int(_) => self.write_to(out),
            Value::Float(f) if f.is_finite() => {
                put_display(out, f)?;
                if f.fract() == 0.0 && f.abs() < 1e16 {
                    put(out, ".0")?;
                }
                Ok(())
            }
            Value::Float(_) => put(out, "null"),
            Value::Str(s) => write_json_str(s, out),
            Value::List(items, _) => write_json_list(items, out),
            Value::Map(entries, _) => {
                put(out, "{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        put(out, ",")?;
                    }
                    write_json_str(k, out)?;
                    put(out, ":")?;
                    v.write_json(out)?;
                }
                put(out, "}")
            }
        }
    }
}

/// A value whose text would pass [`MAX_TEXT`]; the render fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLong;

/// Where text is written: a `String`, or a [`Count`] of its bytes.
trait Sink: std::fmt::Write {
    fn len(&self) -> usize;
}

impl Sink for String {
    fn len(&self) -> usize {
        String::len(self)
    }
}

/// The length text would have, measured without building it.
struct Count(usize);

impl std::fmt::Write for Count {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

impl Sink for Count {
    fn len(&self) -> usize {
        self.0
    }
}

/// Appends `s` unless that would pass the limit (checked first, so a large
/// string is never copied only to be refused).
fn put<S: Sink>(out: &mut S, s: &str) -> Result<(), TooLong> {
    if out.len() + s.len() > MAX_TEXT {
        return Err(TooLong);
    }
    out.write_str(s).map_err(|_| TooLong)
}

/// Appends a number (at most a few dozen bytes).
fn put_display<S: Sink>(out: &mut S, v: &impl std::fmt::Display) -> Result<(), TooLong> {
    write!(out, "{v}").map_err(|_| TooLong)?;
    if out.len() > MAX_TEXT {
        return Err(TooLong);
    }
    Ok(())
}

/// [`put`] for a `String`.
pub(crate) fn push_bounded(out: &mut String, s: &str) -> Result<(), TooLong> {
    put(out, s)
}

fn write_json_list<S: Sink>(items: &[Value<'_>], out: &mut S) -> Result<(), TooLong> {
    put(out, "[")?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            put(out, ",")?;
        }
        item.write_json(out)?;
    }
    put(out, "]")
}

/// A JSON string as `serde_json` writes it: `"` and `\` escaped, the short
/// escapes for backspace, form feed, newline, carriage return and tab,
/// `\u00xx` (lower-case) for the other control characters, everything
/// else as it is.
fn write_json_str<S: Sink>(s: &str, out: &mut S) -> Result<(), TooLong> {
    put(out, "\"")?;
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Escaped bytes are ASCII: `i` is a character boundary.
        put(out, &s[start..i])?;
        start = i + 1;
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let code = [
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ];
            put(out, std::str::from_utf8(&code).unwrap_or_default())?;
        } else {
            put(out, short)?;
        }
    }
    put(out, &s[start..])?;
    put(out, "\"")
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
/// (Jayway's `LinkedHashMap`). Strings and keys without escapes borrow
/// from the text rather than copy it.
pub(crate) struct Json<'de>(pub(crate) Value<'de>);

impl<'de> serde::Deserialize<'de> for Json<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor).map(Json)
    }
}

/// An object key, borrowed from the text when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor).map(Key)
    }
}

struct KeyVisitor;

impl<'de> serde::de::Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Value<'de>;

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
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Value::Str(Cow::Borrowed(v)))
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
        // A repeated key keeps its first place and its last value (Jayway's
        // LinkedHashMap). Small objects, most of them, are searched as
        // they are read; a larger one is read whole, then rid of its
        // repeated keys in one pass: O(n), not O(n^2).
        let mut entries: Vec<(Cow<'de, str>, Value<'de>)> = Vec::new();
        while let Some((Key(k), Json(v))) = map.next_entry()? {
            if entries.len() < SMALL_OBJECT {
                if let Some(slot) = entries.iter_mut().find(|(old, _)| *old == k) {
                    slot.1 = v;
                    continue;
                }
            }
            entries.push((k, v));
        }
        if entries.len() > SMALL_OBJECT {
            drop_repeated_keys(&mut entries);
        }
        Ok(Value::Map(MapData::new(entries), Origin::Json))
    }
}

/// Up to this many keys a map is searched in place.
const SMALL_OBJECT: usize = 16;

/// Moves each repeated key's values, in order, to its first place (so the
/// last wins) and removes the repeats. The keys go through a hash map
/// (SipHash with a random key, so a client cannot make them collide) that
/// borrows them: it copies no string.
fn drop_repeated_keys(entries: &mut Vec<(Cow<'_, str>, Value<'_>)>) {
    // (first place, later place) of each repeat, later places ascending.
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(entries.len());
    for (i, (k, _)) in entries.iter().enumerate() {
        match first.entry(k) {
            Entry::Occupied(at) => repeats.push((*at.get(), i)),
            Entry::Vacant(at) => {
                at.insert(i);
            }
        }
    }
    drop(first);
    if repeats.is_empty() {
        return;
    }
    let mut repeated = vec![false; entries.len()];
    for &(to, from) in &repeats {
        entries[to].1 = std::mem::replace(&mut entries[from].1, Value::Null);
        repeated[from] = true;
    }
    let mut at = 0;
    entries.retain(|_| {
        at += 1;
        !repeated[at - 1]
    });
}

/// Parses JSON text, borrowing its strings; `serde_json` bounds the
/// nesting depth (128).
pub(crate) fn parse_json(text: &str) -> Result<Value<'_>, serde_json::Error> {
    serde_json::from_str::<Json<'_>>(text).map(|j| j.0)
}

/// [`parse_json`] of text that does not outlive the value: strings are
/// copied.
pub(crate) fn parse_json_owned(text: &str) -> Result<Value<'static>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_reader(text.as_bytes());
    let v = <Json<'static> as serde::Deserialize>::deserialize(&mut de)?;
    de.end()?;
    Ok(v.0)
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
        assert_eq!(v.to_text().unwrap(), r#"{b=1, a=[{"c":"x"}], d={e=null}}"#);
        assert_eq!(json(&v), r#"{"b":1,"a":[{"c":"x"}],"d":{"e":null}}"#);
    }

    fn json(v: &Value<'_>) -> String {
        let mut j = String::new();
        v.append_json(&mut j).unwrap();
        j
    }

    #[test]
    fn a_repeated_key_keeps_its_first_place_and_its_last_value() {
        // Below and past the size where objects switch to a hash index.
        for n in [3, SMALL_OBJECT - 1, SMALL_OBJECT, SMALL_OBJECT + 1, 1_000] {
            let keys: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
            let text = format!("{{{},\"k1\":\"last\",\"k0\":null}}", keys.join(","));
            let v = parse_json(&text).unwrap();
            let Value::Map(entries, _) = &v else {
                panic!("{text}")
            };
            assert_eq!(entries.len(), n, "{text}");
            let mut expected: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
            expected[0] = "\"k0\":null".into();
            expected[1] = "\"k1\":\"last\"".into();
            assert_eq!(json(&v), format!("{{{}}}", expected.join(",")));
        }
    }

    #[test]
    fn strings_are_borrowed_unless_escaped() {
        let v = parse_json(r#"{"a":"plain","b\u0062":"esc\n"}"#).unwrap();
        let Value::Map(entries, _) = &v else { panic!() };
        assert!(matches!(entries[0].0, Cow::Borrowed("a")));
        assert!(matches!(entries[0].1, Value::Str(Cow::Borrowed("plain"))));
        assert!(matches!(&entries[1].0, Cow::Owned(k) if k == "bb"));
        assert!(matches!(&entries[1].1, Value::Str(Cow::Owned(s)) if s == "esc\n"));
        let owned = parse_json_owned(r#"{"a":"plain"}"#).unwrap();
        assert_eq!(json(&owned), r#"{"a":"plain"}"#);
        assert!(parse_json_owned("{} x").is_err());
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut all: String = (0u32..0x80).filter_map(char::from_u32).collect();
        all.push_str("é€😀\u{2028}");
        for s in [all.as_str(), "", "\"", "a\\b", "\u{1f}x\u{7f}"] {
            let mut out = String::new();
            write_json_str(s, &mut out).unwrap();
            assert_eq!(out, serde_json::to_string(s).unwrap());
        }
    }

    #[test]
    fn text_past_the_limit_is_refused_before_it_is_built() {
        // 11 items of 1 MiB: 11 MiB of text from 1 MiB of data.
        let big = Value::str("x".repeat(1 << 20));
        let list = Value::List(Rc::new(vec![big; 11]), Origin::Json);
        let mut out = String::new();
        assert_eq!(list.append_json(&mut out), Err(TooLong));
        assert_eq!(list.append_text(&mut out), Err(TooLong));
        assert_eq!(list.to_text(), Err(TooLong));
        assert_eq!(out.capacity(), 0, "nothing was written");
        // Ten a little smaller fit, with what is already there counted.
        let item = (1 << 20) - 4;
        let list = Value::List(Rc::new(vec![Value::str("x".repeat(item)); 10]), Origin::Vtl);
        assert_eq!(list.to_text().unwrap().len(), 10 * item + 2 + 9 * 2);
        let mut out = "y".repeat(1 << 20);
        assert_eq!(list.append_text(&mut out), Err(TooLong));
        assert_eq!(out.len(), 1 << 20);
    }
}
