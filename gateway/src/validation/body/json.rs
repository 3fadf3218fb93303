//! The tape as `jsonschema` reads an instance: its `Json` representation
//! traits, answering as the crate's own `serde_json::Value` implementation
//! answers (numbers are `serde_json::Number`s, read through the crate's
//! own `JsonNumber`; equality is the crate's `cmp`).

use std::borrow::Cow;

use jsonschema::json::{cmp, Array, Json, Node, NodeIdentity, Object};
use jsonschema::JsonType;
use serde_json::{Map, Number, Value};

use super::{key as name_key, tail, Slot, Tape as Body, UNSORTED};

/// The tape representation, for `jsonschema::options_for`.
pub(in crate::validation) struct Tape;

impl Json for Tape {
    type Node<'a> = NodeRef<'a>;
    type PreparedKey = Prepared;
    type StringBuffer = Option<Body<'static>>;

    // Wide objects are searched through a sorted index, small ones scanned:
    // about what a `BTreeMap` costs (serde_json's `Value`).
    const KEYS_PER_LOOKUP: usize = 2;
    const ACYCLIC: bool = true;

    fn prepare_key(key: &str) -> Prepared {
        Prepared {
            key: name_key(key),
            name: key.to_owned(),
        }
    }

    fn with_string_node<T>(
        buffer: &mut Option<Body<'static>>,
        string: &str,
        f: impl FnOnce(NodeRef<'_>) -> T,
    ) -> T {
        let body = buffer.get_or_insert_with(|| Body {
            slots: Vec::with_capacity(1),
            sorted: Vec::new(),
        });
        body.slots.clear();
        body.slots.push(Slot::String(Cow::Owned(string.to_owned())));
        f(NodeRef::new(body, 0))
    }
}

/// A property name of the model, with its key in sorted runs.
pub(in crate::validation) struct Prepared {
    name: String,
    key: u128,
}

/// A value in a tape.
#[derive(Clone, Copy)]
pub(in crate::validation) struct NodeRef<'a> {
    body: &'a Body<'a>,
    /// `body.slots[at]`, looked up once: validators read it several times.
    slot: &'a Slot<'a>,
    at: u32,
}

impl<'a> NodeRef<'a> {
    /// The value at `at`.
    pub(in crate::validation) fn new(body: &'a Body<'a>, at: u32) -> Self {
        Self {
            body,
            slot: &body.slots[at as usize],
            at,
        }
    }

    fn slot(&self) -> &'a Slot<'a> {
        self.slot
    }

    /// The slot after this value and everything it holds.
    fn after(&self) -> u32 {
        match self.slot {
            Slot::Array { end, .. } | Slot::Object { end, .. } => *end,
            _ => self.at + 1,
        }
    }

    fn len(&self) -> usize {
        match self.slot() {
            Slot::Array { len, .. } | Slot::Object { len, .. } => *len as usize,
            _ => 0,
        }
    }

    fn members(&self) -> Members<'a> {
        Members {
            body: self.body,
            next: self.at + 1,
            left: self.len(),
        }
    }

    fn elements(&self) -> Elements<'a> {
        Elements {
            body: self.body,
            next: self.at + 1,
            left: self.len(),
        }
    }

    fn get(&self, key: &Prepared) -> Option<NodeRef<'a>> {
        let body = self.body;
        match self.slot() {
            Slot::Object { sorted, len, .. } if *sorted != UNSORTED => {
                let run = &body.sorted[*sorted as usize..][..*len as usize];
                let from = run.partition_point(|name| name.key < key.key);
                let found = if key.name.len() <= 8 {
                    // The key is the whole name.
                    run.get(from).filter(|name| name.key == key.key)
                } else {
                    // Names that share a key (the first eight bytes and the
                    // length) are sorted by the rest.
                    let ties = &run[from..];
                    let ties = &ties[..ties.partition_point(|name| name.key == key.key)];
                    ties.binary_search_by(|name| tail(body.name(name.at)).cmp(tail(&key.name)))
                        .ok()
                        .map(|i| &ties[i])
                };
                found.map(|name| NodeRef::new(body, name.at + 1))
            }
            Slot::Object { .. } => self
                .members()
                .find(|(name, _)| *name == key.name)
                .map(|(_, node)| node),
            _ => None,
        }
    }
}

impl<'a> Node<'a, Tape> for NodeRef<'a> {
    type Object = NodeRef<'a>;
    type Array = NodeRef<'a>;
    type Number = &'a Number;

    fn as_object(&self) -> Option<NodeRef<'a>> {
        matches!(self.slot(), Slot::Object { .. }).then_some(*self)
    }

    fn as_array(&self) -> Option<NodeRef<'a>> {
        matches!(self.slot(), Slot::Array { .. }).then_some(*self)
    }

    fn as_string(&self) -> Option<Cow<'a, str>> {
        match self.slot() {
            Slot::String(string) => Some(Cow::Borrowed(string)),
            _ => None,
        }
    }

    fn as_number(&self) -> Option<&'a Number> {
        match self.slot() {
            Slot::Number(number) => Some(number),
            _ => None,
        }
    }

    fn as_boolean(&self) -> Option<bool> {
        match self.slot() {
            Slot::Bool(boolean) => Some(*boolean),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self.slot(), Slot::Null)
    }

    fn is_string(&self) -> bool {
        matches!(self.slot(), Slot::String(_))
    }

    fn json_type(&self) -> JsonType {
        match self.slot() {
            Slot::Null => JsonType::Null,
            Slot::Bool(_) => JsonType::Boolean,
            Slot::Number(_) => JsonType::Number,
            Slot::String(_) | Slot::Name(_) => JsonType::String,
            Slot::Array { .. } => JsonType::Array,
            Slot::Object { .. } => JsonType::Object,
        }
    }

    fn string_length(&self) -> Option<u64> {
        match self.slot() {
            Slot::String(string) => Some(string.chars().count() as u64),
            _ => None,
        }
    }

    fn string_length_within(&self, min: u64, max: u64) -> Option<bool> {
        let Slot::String(string) = self.slot() else {
            return None;
        };
        // A code point takes one to four bytes: the byte length often
        // decides without counting (as the crate's `Value` reading does).
        let bytes = string.len() as u64;
        if bytes < min || bytes.div_ceil(4) > max {
            return Some(false);
        }
        if min <= bytes.div_ceil(4) && bytes <= max {
            return Some(true);
        }
        Some((min..=max).contains(&(string.chars().count() as u64)))
    }

    fn equals_value(&self, expected: &Value) -> bool {
        // `cmp::equal` on the `Value` this node would be, without building it.
        match (self.slot(), expected) {
            (Slot::String(a), Value::String(b)) => a == b,
            (Slot::Bool(a), Value::Bool(b)) => a == b,
            (Slot::Null, Value::Null) => true,
            (Slot::Number(a), Value::Number(b)) => cmp::equal_numbers(a, b),
            (Slot::Array { .. }, Value::Array(items)) => {
                self.len() == items.len()
                    && self.elements().zip(items).all(|(a, b)| a.equals_value(b))
            }
            (Slot::Object { .. }, Value::Object(map)) => {
                // Names are distinct in a tape (a repeat means a `Value`).
                self.len() == map.len()
                    && self
                        .members()
                        .all(|(name, a)| map.get(name).is_some_and(|b| a.equals_value(b)))
            }
            _ => false,
        }
    }

    fn to_value(&self) -> Cow<'a, Value> {
        Cow::Owned(match self.slot() {
            Slot::Null => Value::Null,
            Slot::Bool(boolean) => Value::Bool(*boolean),
            Slot::Number(number) => Value::Number(number.clone()),
            Slot::String(string) | Slot::Name(string) => Value::String(string.to_string()),
            Slot::Array { .. } => Value::Array(
                self.elements()
                    .map(|item| item.to_value().into_owned())
                    .collect(),
            ),
            Slot::Object { .. } => Value::Object(
                self.members()
                    .map(|(name, item)| (name.to_owned(), item.to_value().into_owned()))
                    .collect::<Map<_, _>>(),
            ),
        })
    }

    fn identity(&self) -> Option<NodeIdentity> {
        Some(NodeIdentity::tagged(
            std::ptr::from_ref(self.body) as usize,
            self.at,
        ))
    }
}

impl<'a> Object<'a, Tape> for NodeRef<'a> {
    type Node = NodeRef<'a>;
    type MemberName = &'a str;
    type MembersIter = Members<'a>;

    fn len(&self) -> usize {
        NodeRef::len(self)
    }

    fn get(&self, key: &Prepared) -> Option<NodeRef<'a>> {
        NodeRef::get(self, key)
    }

    fn members(&self) -> Members<'a> {
        NodeRef::members(self)
    }
}

impl<'a> Array<'a, Tape> for NodeRef<'a> {
    type Node = NodeRef<'a>;
    type ElementsIter = Elements<'a>;

    fn len(&self) -> usize {
        NodeRef::len(self)
    }

    fn elements(&self) -> Elements<'a> {
        NodeRef::elements(self)
    }
}

/// An object's members in the body's order.
pub(in crate::validation) struct Members<'a> {
    body: &'a Body<'a>,
    /// The next member's name.
    next: u32,
    left: usize,
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, NodeRef<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let name = self.body.name(self.next);
        let value = NodeRef::new(self.body, self.next + 1);
        self.next = value.after();
        Some((name, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// An array's elements.
pub(in crate::validation) struct Elements<'a> {
    body: &'a Body<'a>,
    next: u32,
    left: usize,
}

impl<'a> Iterator for Elements<'a> {
    type Item = NodeRef<'a>;

    fn next(&mut self) -> Option<NodeRef<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let node = NodeRef::new(self.body, self.next);
        self.next = node.after();
        Some(node)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}
