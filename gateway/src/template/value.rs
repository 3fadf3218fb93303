//! Run-time values: what Velocity's Java objects become here, with Java's
//! `toString` for output and JSON for `$input.json`.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::hash_map::{Entry, HashMap, RandomState};
use std::fmt::Write as _;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::rc::Rc;

use super::eval::MAX_TEXT;

mod write;
pub(crate) use self::write::*;

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
mod tests;
