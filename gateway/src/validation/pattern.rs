//! `pattern` as the deciding validator runs it: a pattern that is one
//! ASCII character class repeated and anchored at both ends (`^[a-z0-9 ]+$`,
//! `^[A-Z]{2,8}$`) is decided by comparing the string's bytes with the
//! class's ranges sixteen at a time; every other pattern is left to the
//! crate's own `pattern` keyword.
//!
//! Why the two agree: the crate matches a pattern `P` as the Rust regex
//! `jsonschema_regex::to_rust_regex(P)` (its translation of ECMA 262 syntax;
//! its faster forms give the same answers). The fast form is taken only
//! when that very regex parses (`regex_syntax`, the `regex` crate's own
//! parser and defaults) to `^`, one class (or one character) repeated
//! `min..=max` times, `$`, with `^` and `$` the start and end of the text.
//! Such a regex matches a string exactly when every character is in the
//! class and their count is within the bounds. Every member being ASCII, a
//! string matches only if it is ASCII (a byte of 0x80 or more is in no
//! range), and then its characters are its bytes: checking bytes against
//! the ranges, and the byte length against the bounds, gives the same
//! answer. The crate itself checks such a pattern byte by byte through a
//! table (`jsonschema_regex::Sequence`); comparing against a few ranges a
//! block at a time lets the compiler use vector instructions, about eight
//! times faster on 800-character strings.

use jsonschema::json::{Json, Node};
use jsonschema::paths::Location;
use jsonschema::{Keyword, PatternOptions, ValidationError, Validator};
use regex_syntax::hir::{Class, HirKind, Look};
use serde_json::{Map, Value};

/// More ranges than this are checked by the crate's table instead.
const MAX_RANGES: usize = 8;

/// The `pattern` keyword's factory, for `ValidationOptions::with_keyword`.
pub(super) fn keyword<'a, F: Json>(
    _parent: &'a Map<String, Value>,
    value: &'a Value,
    _location: Location,
) -> Result<Box<dyn for<'i> Keyword<'i, F>>, ValidationError<'a>> {
    if let Some(class) = value.as_str().and_then(AsciiClass::of) {
        return Ok(Box::new(class));
    }
    // The crate's own keyword, built alone with the model's options.
    let mut schema = Map::new();
    schema.insert("pattern".to_owned(), value.clone());
    let validator = jsonschema::options_for::<F>()
        .with_draft(jsonschema::Draft::Draft4)
        .with_pattern_options(PatternOptions::regex())
        .build(&Value::Object(schema))?;
    Ok(Box::new(Crate(validator)))
}

/// A pattern the crate matches.
struct Crate<F: Json>(Validator<F>);

impl<'i, F: Json> Keyword<'i, F> for Crate<F> {
    fn validate(&self, instance: F::Node<'i>) -> Result<(), ValidationError<'i>> {
        self.0.validate(instance)
    }

    fn is_valid(&self, instance: F::Node<'i>) -> bool {
        self.0.is_valid(instance)
    }
}

/// `^C{min,max}$` with `C` a class of ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AsciiClass {
    /// `(first, last - first)` of each range.
    ranges: Vec<(u8, u8)>,
    min: usize,
    max: Option<usize>,
    pattern: String,
}

impl AsciiClass {
    /// The pattern's class and bounds when it has this form (module docs).
    pub(super) fn of(pattern: &str) -> Option<Self> {
        let translated = jsonschema_regex::to_rust_regex(pattern).ok()?;
        let hir = regex_syntax::Parser::new().parse(&translated).ok()?;
        let HirKind::Concat(items) = hir.kind() else {
            return None;
        };
        let [start, repeated, end] = items.as_slice() else {
            return None;
        };
        if start.kind() != &HirKind::Look(Look::Start) || end.kind() != &HirKind::Look(Look::End) {
            return None;
        }
        let HirKind::Repetition(repetition) = repeated.kind() else {
            return None;
        };
        let ranges: Vec<(u8, u8)> = match repetition.sub.kind() {
            HirKind::Class(Class::Unicode(class)) => class
                .ranges()
                .iter()
                .map(|r| {
                    let (first, last) =
                        (u8::try_from(r.start()).ok()?, u8::try_from(r.end()).ok()?);
                    (last.is_ascii()).then_some((first, last - first))
                })
                .collect::<Option<_>>()?,
            HirKind::Literal(literal) => match &*literal.0 {
                [byte] if byte.is_ascii() => vec![(*byte, 0)],
                _ => return None,
            },
            _ => return None,
        };
        if ranges.is_empty() || ranges.len() > MAX_RANGES {
            return None;
        }
        Some(Self {
            ranges,
            min: usize::try_from(repetition.min).ok()?,
            max: repetition.max.map(usize::try_from).transpose().ok()?,
            pattern: pattern.to_owned(),
        })
    }

    /// Whether `text` matches.
    pub(super) fn is_match(&self, text: &str) -> bool {
        let len = text.len();
        // Bytes, not characters: a string that is not ASCII never matches.
        if len < self.min || self.max.is_some_and(|max| len > max) {
            return false;
        }
        let bytes = text.as_bytes();
        // The loop compiled for each count of ranges, so that it keeps
        // them in registers and compares a block in a few instructions.
        match self.ranges.len() {
            1 => all_in::<1>(&self.ranges, bytes),
            2 => all_in::<2>(&self.ranges, bytes),
            3 => all_in::<3>(&self.ranges, bytes),
            4 => all_in::<4>(&self.ranges, bytes),
            5 => all_in::<5>(&self.ranges, bytes),
            6 => all_in::<6>(&self.ranges, bytes),
            7 => all_in::<7>(&self.ranges, bytes),
            _ => all_in::<MAX_RANGES>(&self.ranges, bytes),
        }
    }
}

/// Every byte of `bytes` in one of `ranges` (`N` of them).
fn all_in<const N: usize>(ranges: &[(u8, u8)], bytes: &[u8]) -> bool {
    let ranges: &[(u8, u8); N] = ranges.try_into().expect("N ranges");
    let in_ranges = |byte: u8| {
        ranges
            .iter()
            .any(|(first, span)| byte.wrapping_sub(*first) <= *span)
    };
    let mut blocks = bytes.chunks_exact(16);
    for block in &mut blocks {
        // Sixteen lanes and no early exit inside the block: the compiler
        // compares them at once.
        let mut hit = [false; 16];
        for (first, span) in ranges {
            for (h, byte) in hit.iter_mut().zip(block) {
                *h |= byte.wrapping_sub(*first) <= *span;
            }
        }
        if !hit.iter().fold(true, |all, h| all & h) {
            return false;
        }
    }
    blocks.remainder().iter().all(|byte| in_ranges(*byte))
}

impl<'i, F: Json> Keyword<'i, F> for AsciiClass {
    fn validate(&self, instance: F::Node<'i>) -> Result<(), ValidationError<'i>> {
        if Keyword::<F>::is_valid(self, instance.clone()) {
            return Ok(());
        }
        Err(ValidationError::custom(format!(
            "{} does not match {:?}",
            instance.to_value(),
            self.pattern
        )))
    }

    fn is_valid(&self, instance: F::Node<'i>) -> bool {
        instance.as_string().is_none_or(|text| self.is_match(&text))
    }
}

#[cfg(test)]
mod tests;
