//! A request body parsed for its model: serde_json's own parser, making the
//! calls that build a `serde_json::Value`, written into one flat tape
//! instead of a tree of allocations, strings borrowed from the body.
//!
//! Parsing into a `Value` costs most of a validation: a `String` per string,
//! a `BTreeMap` per object, a `Vec` per array, then freeing them all. The
//! tape is one vector of slots, a container followed by its members, each
//! container knowing where it ends. What the validator reads is what the
//! `Value` would hold, because serde_json makes the same visitor calls for
//! both: the same numbers (`u64`, `i64` or `f64`, an `f64` that is not
//! finite read as `null`), the same strings, the same syntax errors and
//! nesting limit. The one difference, a key repeated in an object (the last
//! one wins in a `Value`), is not reproduced: such a body is parsed again
//! into a `Value` and validated as before.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

mod json;

pub(super) use self::json::{NodeRef, Tape as TapeJson};

/// Objects of more members than this get a sorted index of their names:
/// lookups by name and the check for a repeated name stay logarithmic
/// whatever a client sends; smaller ones are scanned.
const SCANNED_MEMBERS: usize = 16;

/// A request body parsed for validation (see
/// [`RequestValidator::check_parsed`](super::RequestValidator::check_parsed)).
///
/// ```
/// use tower_cognito_gateway::validation::ParsedBody;
///
/// assert!(ParsedBody::parse(br#"{"name": "Rex", "tags": ["a", "b"]}"#).is_ok());
/// // A body that is not JSON is refused with serde_json's message.
/// let refused = ParsedBody::parse(b"{\"name\"").unwrap_err();
/// assert!(refused.validation_error_string().contains("body is not JSON"));
/// // An empty body is `{}`, as API Gateway validates it.
/// assert!(ParsedBody::parse(b"").is_ok());
/// ```
pub struct ParsedBody<'b>(pub(super) Parsed<'b>);

pub(super) enum Parsed<'b> {
    /// The common case; `bytes` are kept to build the `Value` that the
    /// error messages are made from, on the rare path of an invalid body.
    Tape { tape: Tape<'b>, bytes: &'b [u8] },
    /// An empty body (`{}`) or one repeating a key in an object.
    Value(Value),
}

impl fmt::Debug for ParsedBody<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Parsed::Tape { tape, .. } => {
                write!(f, "ParsedBody(tape of {} slots)", tape.slots.len())
            }
            Parsed::Value(value) => write!(f, "ParsedBody({value})"),
        }
    }
}

impl<'b> ParsedBody<'b> {
    /// Parses `body` as JSON; an empty (or all-whitespace) body is `{}`.
    pub fn parse(body: &'b [u8]) -> Result<Self, super::Invalid> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Parsed::Value(Value::Object(serde_json::Map::new()))));
        }
        let not_json =
            |e: serde_json::Error| super::Invalid::Body(vec![format!("body is not JSON: {e}")]);
        let mut builder = Builder {
            // A slot per few bytes of a typical body: one allocation mostly.
            slots: Vec::with_capacity(body.len() / 8 + 4),
            sorted: Vec::new(),
            names: Vec::new(),
            fallback: false,
        };
        // A body that is UTF-8 (as JSON is) is checked once, whole, rather
        // than string by string: serde_json's `StrRead` is its `SliceRead`
        // without that check. Any other body takes `SliceRead`, for the
        // same error.
        match std::str::from_utf8(body) {
            Ok(text) => fill(serde_json::Deserializer::from_str(text), &mut builder),
            Err(_) => fill(serde_json::Deserializer::from_slice(body), &mut builder),
        }
        .map_err(not_json)?;
        if builder.fallback {
            let value = serde_json::from_slice(body).map_err(not_json)?;
            return Ok(Self(Parsed::Value(value)));
        }
        let tape = Tape {
            slots: builder.slots,
            sorted: builder.sorted,
        };
        Ok(Self(Parsed::Tape { tape, bytes: body }))
    }
}

/// Parses one JSON text into `builder`, as `serde_json::from_slice` does.
fn fill<'b, R: serde_json::de::Read<'b>>(
    mut de: serde_json::Deserializer<R>,
    builder: &mut Builder<'b>,
) -> Result<(), serde_json::Error> {
    SlotSeed(builder).deserialize(&mut de)?;
    de.end()
}

/// The parsed body: `slots[0]` is the root.
pub(super) struct Tape<'b> {
    pub(super) slots: Vec<Slot<'b>>,
    /// The names of each object of more than [`SCANNED_MEMBERS`] members,
    /// sorted, one run per object.
    pub(super) sorted: Vec<Sorted>,
}

/// A name in an object's sorted run, ordered by [`key`], then by [`tail`]
/// when keys tie: most comparisons are of one integer.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sorted {
    pub(super) key: u128,
    /// The name's slot.
    pub(super) at: u32,
}

/// A name's first eight bytes (big-endian, zero-padded) and its length:
/// the name itself when it is no longer than eight bytes.
pub(super) fn key(name: &str) -> u128 {
    let bytes = name.as_bytes();
    // One load for a long name; a short one byte by byte, without the
    // call and the stall of copying it into a padded buffer.
    let head = match bytes.first_chunk::<8>() {
        Some(head) => u64::from_be_bytes(*head),
        None => bytes
            .iter()
            .enumerate()
            .fold(0, |word, (i, byte)| word | u64::from(*byte) << (56 - 8 * i)),
    };
    (u128::from(head) << 64) | name.len() as u128
}

/// What [`key`] leaves out.
pub(super) fn tail(name: &str) -> &[u8] {
    name.as_bytes().get(8..).unwrap_or_default()
}

/// One value, or one object member's name (followed by its value).
#[derive(Debug)]
pub(super) enum Slot<'b> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'b, str>),
    /// An object member's name; its value follows.
    Name(Cow<'b, str>),
    /// Its elements follow; `end` is the slot after the last one.
    Array {
        len: u32,
        end: u32,
    },
    /// Its members follow; `sorted` is where its run in [`Tape::sorted`]
    /// starts, or [`UNSORTED`].
    Object {
        len: u32,
        end: u32,
        sorted: u32,
    },
}

/// An object scanned by name, without a sorted index.
pub(super) const UNSORTED: u32 = u32::MAX;

impl<'b> Tape<'b> {
    /// The name at `at` (a [`Slot::Name`]).
    pub(super) fn name(&self, at: u32) -> &str {
        match &self.slots[at as usize] {
            Slot::Name(name) => name,
            _ => unreachable!("object members start with their name"),
        }
    }
}

struct Builder<'b> {
    slots: Vec<Slot<'b>>,
    sorted: Vec<Sorted>,
    /// The names of the objects being parsed, innermost last.
    names: Vec<u32>,
    /// A repeated name, or a body too large for the tape's `u32` positions:
    /// parse it as a `Value` instead.
    fallback: bool,
}

impl<'b> Builder<'b> {
    fn push(&mut self, slot: Slot<'b>) -> u32 {
        let at = self.slots.len();
        self.slots.push(slot);
        u32::try_from(at).unwrap_or_else(|_| {
            self.fallback = true;
            0
        })
    }

    fn position(&mut self) -> u32 {
        u32::try_from(self.slots.len()).unwrap_or_else(|_| {
            self.fallback = true;
            0
        })
    }

    /// Closes the object whose names start at `names[first..]`: a repeated
    /// name means fallback; a wide object gets its sorted run.
    fn close_object(&mut self, first: usize) -> u32 {
        let names = &mut self.names[first..];
        let slots = &self.slots;
        let name = |at: u32| match &slots[at as usize] {
            Slot::Name(name) => name.as_ref(),
            _ => unreachable!("names are recorded for name slots"),
        };
        let mut sorted = UNSORTED;
        if names.len() <= SCANNED_MEMBERS {
            for (i, a) in names.iter().enumerate() {
                if names[..i].iter().any(|b| name(*a) == name(*b)) {
                    self.fallback = true;
                }
            }
        } else {
            let start = self.sorted.len();
            for at in names.iter() {
                self.sorted.push(Sorted {
                    key: key(name(*at)),
                    at: *at,
                });
            }
            let run = &mut self.sorted[start..];
            run.sort_unstable_by(|a, b| {
                a.key
                    .cmp(&b.key)
                    .then_with(|| tail(name(a.at)).cmp(tail(name(b.at))))
            });
            if run.windows(2).any(|w| name(w[0].at) == name(w[1].at)) {
                self.fallback = true;
            }
            sorted = u32::try_from(start).unwrap_or_else(|_| {
                self.fallback = true;
                0
            });
        }
        self.names.truncate(first);
        sorted
    }
}

/// Appends one value to the tape: the visitor of `serde_json::Value`'s
/// `Deserialize`, call for call.
struct SlotSeed<'t, 'b>(&'t mut Builder<'b>);

impl<'de> DeserializeSeed<'de> for SlotSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SlotSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<(), E> {
        self.0.push(Slot::Bool(value));
        Ok(())
    }

    fn visit_i64<E>(self, value: i64) -> Result<(), E> {
        self.0.push(Slot::Number(value.into()));
        Ok(())
    }

    fn visit_u64<E>(self, value: u64) -> Result<(), E> {
        self.0.push(Slot::Number(value.into()));
        Ok(())
    }

    fn visit_f64<E>(self, value: f64) -> Result<(), E> {
        self.0
            .push(Number::from_f64(value).map_or(Slot::Null, Slot::Number));
        Ok(())
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<(), E> {
        self.0.push(Slot::String(Cow::Borrowed(value)));
        Ok(())
    }

    fn visit_str<E>(self, value: &str) -> Result<(), E> {
        self.0.push(Slot::String(Cow::Owned(value.to_owned())));
        Ok(())
    }

    fn visit_string<E>(self, value: String) -> Result<(), E> {
        self.0.push(Slot::String(Cow::Owned(value)));
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        self.0.push(Slot::Null);
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.push(Slot::Null);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let at = self.0.push(Slot::Array { len: 0, end: 0 });
        let mut len: u32 = 0;
        while seq.next_element_seed(SlotSeed(self.0))?.is_some() {
            len = len.saturating_add(1);
        }
        let end = self.0.position();
        if let Some(Slot::Array { len: l, end: e }) = self.0.slots.get_mut(at as usize) {
            (*l, *e) = (len, end);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let at = self.0.push(Slot::Object {
            len: 0,
            end: 0,
            sorted: UNSORTED,
        });
        let first = self.0.names.len();
        let mut len: u32 = 0;
        while let Some(name) = map.next_key_seed(NameSeed(self.0))? {
            self.0.names.push(name);
            map.next_value_seed(SlotSeed(self.0))?;
            len = len.saturating_add(1);
        }
        let sorted = self.0.close_object(first);
        let end = self.0.position();
        if let Some(Slot::Object {
            len: l,
            end: e,
            sorted: s,
        }) = self.0.slots.get_mut(at as usize)
        {
            (*l, *e, *s) = (len, end, sorted);
        }
        Ok(())
    }
}

/// Appends an object member's name; returns its position.
struct NameSeed<'t, 'b>(&'t mut Builder<'b>);

impl<'de> DeserializeSeed<'de> for NameSeed<'_, 'de> {
    type Value = u32;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<u32, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed<'_, 'de> {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<u32, E> {
        Ok(self.0.push(Slot::Name(Cow::Borrowed(value))))
    }

    fn visit_str<E>(self, value: &str) -> Result<u32, E> {
        Ok(self.0.push(Slot::Name(Cow::Owned(value.to_owned()))))
    }

    fn visit_string<E>(self, value: String) -> Result<u32, E> {
        Ok(self.0.push(Slot::Name(Cow::Owned(value))))
    }
}

#[cfg(test)]
mod tests;
