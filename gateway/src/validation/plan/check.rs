//! A plan read against a tape: `true` only when the body is valid.

use std::cell::Cell;
use std::cmp::Ordering;

use jsonschema::json::Node;
use serde_json::Number;

use super::{Additional, Bound, Kind, Objects, Plan, Property, Schema};
use crate::validation::body::{key, tail, NodeRef, Slot, Tape, UNSORTED};
use crate::validation::pattern::AsciiClass;

/// Units of work a check may spend per slot of the tape and per sixteen
/// bytes of the body, beyond [`BASE_BUDGET`]: `allOf` and `anyOf` read
/// values more than once, and branches that reach each other through
/// `$ref` could read them exponentially often. Past the budget the plan
/// stops, undecided, and the crate decides (without such blowup).
const BUDGET_PER_UNIT: usize = 8;
const BASE_BUDGET: usize = 1024;

/// One check of a body: the tape and the work left.
pub(super) struct Run<'t, 'b> {
    tape: &'t Tape<'b>,
    left: Cell<usize>,
}

impl<'t, 'b> Run<'t, 'b> {
    pub(super) fn new(tape: &'t Tape<'b>, body_len: usize) -> Self {
        let units = tape.slots.len().saturating_add(body_len / 16);
        Self {
            tape,
            left: Cell::new(
                units
                    .saturating_mul(BUDGET_PER_UNIT)
                    .saturating_add(BASE_BUDGET),
            ),
        }
    }

    /// Takes `units` of work; `false` when the budget is spent.
    fn spend(&self, units: usize) -> bool {
        match self.left.get().checked_sub(units) {
            Some(left) => {
                self.left.set(left);
                true
            }
            None => {
                self.left.set(0);
                false
            }
        }
    }

    /// Whether the budget ran out.
    #[cfg(test)]
    pub(super) fn exhausted(&self) -> bool {
        self.left.get() == 0
    }
}

impl Plan {
    /// Whether the plan accepts the body (`body_len` bytes); `false` also
    /// when it cannot tell.
    pub(in crate::validation) fn accepts(&self, tape: &Tape<'_>, body_len: usize) -> bool {
        self.run(&Run::new(tape, body_len))
    }

    pub(super) fn run(&self, run: &Run<'_, '_>) -> bool {
        self.check(self.root, run, 0)
    }

    fn check(&self, schema: usize, run: &Run<'_, '_>, at: u32) -> bool {
        let schema = &self.schemas[schema];
        let slot = &run.tape.slots[at as usize];
        schema.leaf_ok(slot, run)
            && (schema.simple || run.spend(1) && self.rest(schema, run, at, slot))
    }

    /// The keywords beyond [`Schema::leaf_ok`]: kept out of line, so that
    /// the check of a plain value (most of a body) stays a few instructions.
    #[inline(never)]
    fn rest(&self, schema: &Schema, run: &Run<'_, '_>, at: u32, slot: &Slot<'_>) -> bool {
        let tape = run.tape;
        if let Some(target) = schema.alias {
            return self.check(target, run, at);
        }
        let own = match slot {
            Slot::Object { len, end, sorted } => match &schema.object {
                Some(object) => self.object_ok(object, run, at, *len, *end, *sorted),
                None => true,
            },
            Slot::Array { len, end } => self.array_ok(schema, run, at, *len, *end),
            _ => true,
        };
        own && schema
            .enumeration
            .as_ref()
            .is_none_or(|values| in_enum(values, tape, at, slot))
            && schema.all_of.iter().all(|s| self.check(*s, run, at))
            && (schema.any_of.is_empty() || schema.any_of.iter().any(|s| self.check(*s, run, at)))
            && (schema.delegated.is_empty()
                || run.spend(1 + size(slot))
                    && schema
                        .delegated
                        .iter()
                        .all(|v| v.is_valid(NodeRef::new(tape, at))))
    }

    fn array_ok(&self, schema: &Schema, run: &Run<'_, '_>, at: u32, len: u32, end: u32) -> bool {
        let tape = run.tape;
        let rules = &schema.array;
        let len = len as usize;
        if len < rules.min_items || rules.max_items.is_some_and(|max| len > max) {
            return false;
        }
        let Some(items) = rules.items else {
            return true;
        };
        if !run.spend(len) {
            return false;
        }
        let plain = &self.schemas[items];
        if plain.simple && plain.types & (Kind::Array as u8 | Kind::Object as u8) == 0 {
            // Elements of one plain schema that refuses containers
            // (`{"type": "string"}`): a container is refused where it
            // starts, so the slots up to `end` are the elements.
            return tape.slots[at as usize + 1..end as usize]
                .iter()
                .all(|slot| plain.leaf_ok(slot, run));
        }
        let mut next = at + 1;
        while next < end {
            if !self.check(items, run, next) {
                return false;
            }
            next = after(tape, next);
        }
        true
    }

    fn object_ok(
        &self,
        rules: &Objects,
        run: &Run<'_, '_>,
        at: u32,
        len: u32,
        end: u32,
        sorted: u32,
    ) -> bool {
        let tape = run.tape;
        let len = len as usize;
        if len < rules.min_properties
            || rules.max_properties.is_some_and(|max| len > max)
            || !run.spend(len)
        {
            return false;
        }
        let properties = &rules.properties;
        let mut required = 0;
        // Each member against its property's schema, or `additionalProperties`.
        let mut member = |name_at: u32, property: Option<&Property>| -> bool {
            match property {
                Some(property) => {
                    required += usize::from(property.required);
                    self.check(property.schema, run, name_at + 1)
                }
                None => match rules.additional {
                    Additional::Allowed => true,
                    Additional::Forbidden => false,
                    Additional::Schema(schema) => self.check(schema, run, name_at + 1),
                },
            }
        };
        if sorted == UNSORTED {
            let mut next = at + 1;
            while next < end {
                let name = tape.name(next);
                let name_key = key(name);
                let found = properties
                    .binary_search_by(|p| order(p.key, &p.name, name_key, name))
                    .ok()
                    .map(|i| &properties[i]);
                if !member(next, found) {
                    return false;
                }
                next = after(tape, next + 1);
            }
        } else {
            // Both sorted the same way: one merge.
            let mut p = 0;
            for entry in &tape.sorted[sorted as usize..][..len] {
                let name = tape.name(entry.at);
                while p < properties.len()
                    && order(properties[p].key, &properties[p].name, entry.key, name)
                        == Ordering::Less
                {
                    p += 1;
                }
                let found = properties
                    .get(p)
                    .filter(|q| q.key == entry.key && (name.len() <= 8 || q.name == name));
                if !member(entry.at, found) {
                    return false;
                }
            }
        }
        required == rules.required_here
            && rules
                .required_elsewhere
                .iter()
                .all(|name| has_member(tape, at, end, sorted, len, name))
    }
}

impl Schema {
    /// `type` and the keywords of strings and numbers: inlined into the
    /// loops over members and elements, the rare work out of line.
    #[inline(always)]
    fn leaf_ok(&self, slot: &Slot<'_>, run: &Run<'_, '_>) -> bool {
        let kind = match slot {
            Slot::String(text) => {
                return self.types & Kind::String as u8 != 0 && self.string_ok(text, run);
            }
            Slot::Number(number) => return self.number_ok(number),
            Slot::Null => Kind::Null,
            Slot::Bool(_) => Kind::Boolean,
            Slot::Array { .. } => Kind::Array,
            Slot::Object { .. } => Kind::Object,
            Slot::Name(_) => Kind::String,
        };
        self.types & kind as u8 != 0
    }

    #[inline(always)]
    fn string_ok(&self, text: &str, run: &Run<'_, '_>) -> bool {
        let rules = &self.string;
        let bytes = text.len() as u64;
        // A character takes one to four bytes: the byte length decides
        // most strings without counting.
        (rules.min_length <= bytes.div_ceil(4) && bytes <= rules.max_length
            || length_within(text, rules.min_length, rules.max_length, run))
            && (rules.classes.is_empty() || classes_ok(&rules.classes, text, run))
    }

    #[inline(never)]
    fn number_ok(&self, number: &Number) -> bool {
        // Draft 4: a number with a fraction or an exponent (read by
        // serde_json as `f64`) is not an integer.
        let kind = if number.is_f64() {
            Kind::Number as u8
        } else {
            Kind::Number as u8 | Kind::Integer as u8
        };
        if self.types & kind == 0 {
            return false;
        }
        let rules = &self.numbers;
        let above = |bound: &Bound| match compare(number, &bound.limit) {
            Some(Ordering::Greater) => true,
            Some(Ordering::Equal) => !bound.exclusive,
            _ => false,
        };
        let below = |bound: &Bound| match compare(number, &bound.limit) {
            Some(Ordering::Less) => true,
            Some(Ordering::Equal) => !bound.exclusive,
            _ => false,
        };
        rules.minimum.as_ref().is_none_or(above) && rules.maximum.as_ref().is_none_or(below)
    }
}

#[inline(never)]
fn classes_ok(classes: &[AsciiClass], text: &str, run: &Run<'_, '_>) -> bool {
    run.spend(classes.len().saturating_mul(1 + text.len() / 16))
        && classes.iter().all(|class| class.is_match(text))
}

/// Whether `text` has `min..=max` characters (code points), as the crate
/// counts them.
#[cold]
#[inline(never)]
fn length_within(text: &str, min: u64, max: u64, run: &Run<'_, '_>) -> bool {
    let bytes = text.len() as u64;
    if bytes < min || bytes.div_ceil(4) > max || !run.spend(1 + text.len() / 16) {
        return false;
    }
    (min..=max).contains(&(text.chars().count() as u64))
}

/// Whether the value at `at` equals one of `values`, as the crate compares
/// them (strings byte for byte, numbers by value...).
fn in_enum(values: &[serde_json::Value], tape: &Tape<'_>, at: u32, slot: &Slot<'_>) -> bool {
    match slot {
        // The common enum of short strings, compared without `memcmp`.
        Slot::String(text) => values.iter().any(|v| {
            v.as_str().is_some_and(|option| {
                option.len() == text.len() && option.bytes().zip(text.bytes()).all(|(a, b)| a == b)
            })
        }),
        _ => values
            .iter()
            .any(|v| NodeRef::new(tape, at).equals_value(v)),
    }
}

/// `a` against `b`, exactly; `None` where that needs more than a
/// comparison of two integers or two `f64`s (the plan then does not accept).
fn compare(a: &Number, b: &Number) -> Option<Ordering> {
    let integer = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    // Integers up to 2^53 are exact as `f64`.
    let exact = |i: i128| (i.unsigned_abs() <= 1 << 53).then_some(i as f64);
    match (integer(a), integer(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        (Some(a), None) => exact(a)?.partial_cmp(&b.as_f64()?),
        (None, Some(b)) => a.as_f64()?.partial_cmp(&exact(b)?),
        (None, None) => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// Property order, as the tape sorts names. Equal keys mean equal
/// lengths, and names of up to eight bytes are their keys: those compare
/// without a call to `memcmp` (costly enough to matter here).
#[inline(always)]
fn order(a_key: u128, a: &str, b_key: u128, b: &str) -> Ordering {
    match a_key.cmp(&b_key) {
        Ordering::Equal if a.len() > 8 => tail(a).cmp(tail(b)),
        other => other,
    }
}

/// What a delegated validator may read of a value, in units of work.
fn size(slot: &Slot<'_>) -> usize {
    match slot {
        Slot::Array { len, .. } | Slot::Object { len, .. } => *len as usize,
        Slot::String(text) => text.len() / 16,
        _ => 0,
    }
}

/// The slot after the value at `at` and everything it holds.
fn after(tape: &Tape<'_>, at: u32) -> u32 {
    match &tape.slots[at as usize] {
        Slot::Array { end, .. } | Slot::Object { end, .. } => *end,
        _ => at + 1,
    }
}

/// Whether the object at `at` has a member `name`.
fn has_member(tape: &Tape<'_>, at: u32, end: u32, sorted: u32, len: usize, name: &str) -> bool {
    if sorted != UNSORTED {
        let wanted = key(name);
        return tape.sorted[sorted as usize..][..len]
            .binary_search_by(|e| order(e.key, tape.name(e.at), wanted, name))
            .is_ok();
    }
    let mut next = at + 1;
    while next < end {
        if tape.name(next) == name {
            return true;
        }
        next = after(tape, next + 1);
    }
    false
}
