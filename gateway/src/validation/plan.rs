//! A model's common keywords compiled for the tape: a check that can only
//! accept. When it accepts a body, the body is valid; when it does not, the
//! crate decides (`Model::check`), so answers stay the crate's.
//!
//! Why hand-written: the crate walks a model through one boxed validator
//! per keyword and a generic reading of the instance; on a typical model
//! (tens of properties, arrays of short strings) that walk costs more than
//! the request validator's budget. Here a model is a table of plain
//! structs read against the tape directly: an object's members are merged
//! with the model's properties in the order the tape sorts them, an
//! array's elements are read slot by slot.
//!
//! Why it agrees with the crate: it covers draft 4's `type`, `enum`,
//! `properties`, `required`, `additionalProperties`, `minProperties`,
//! `maxProperties`, `items` (one schema), `minItems`, `maxItems`,
//! `minLength`, `maxLength`, `pattern`, `minimum`, `maximum` (with their
//! `exclusive` flags), `allOf`, `anyOf` and `$ref` inside the document, each
//! as draft 4 defines it and the crate implements it (`tests.rs` holds each
//! corner). `format`, `multipleOf`, `uniqueItems` and patterns that are not
//! one ASCII class are the crate's own validators, built alone from the
//! keyword. A model with any other keyword that the crate would enforce
//! (`not`, `oneOf`, `patternProperties`, `dependencies`, tuple `items`,
//! `id`...) gets no plan and is checked by the crate alone. Where exactness
//! would take more than a comparison (a number bound compared across `u64`
//! and `f64` beyond 2^53) the plan does not accept and the crate decides.
//! Compiled in `compile.rs`, read in `check.rs`; its work is bounded by
//! the body: branches that would read a body over and over stop undecided.

use jsonschema::Validator;
use serde_json::{Number, Value};

use super::body::TapeJson;
use super::pattern::AsciiClass;

mod check;
mod compile;

/// A model's plan: `schemas[root]` is the model.
pub(in crate::validation) struct Plan {
    schemas: Vec<Schema>,
    root: usize,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Plan({} schemas)", self.schemas.len())
    }
}

/// One schema's keywords; those of one instance type apply to that type
/// only, as in draft 4.
#[derive(Default)]
struct Schema {
    /// A `$ref`: this schema is that one (draft 4 ignores its siblings).
    alias: Option<usize>,
    /// Bit per [`Kind`]; `ANY` when the schema has no `type`.
    types: u8,
    enumeration: Option<Vec<Value>>,
    string: Strings,
    numbers: Numbers,
    object: Option<Box<Objects>>,
    array: Arrays,
    all_of: Vec<usize>,
    any_of: Vec<usize>,
    /// The crate's validators for [`DELEGATED`] keywords and patterns.
    delegated: Vec<Validator<TapeJson>>,
    /// Nothing beyond `type` and the keywords of strings and numbers.
    simple: bool,
}

impl Schema {
    fn is_simple(&self) -> bool {
        self.alias.is_none()
            && self.enumeration.is_none()
            && self.object.is_none()
            && self.array.items.is_none()
            && self.array.min_items == 0
            && self.array.max_items.is_none()
            && self.all_of.is_empty()
            && self.any_of.is_empty()
            && self.delegated.is_empty()
    }
}

struct Strings {
    min_length: u64,
    max_length: u64,
    classes: Vec<AsciiClass>,
}

impl Default for Strings {
    fn default() -> Self {
        Self {
            min_length: 0,
            max_length: u64::MAX,
            classes: Vec::new(),
        }
    }
}

#[derive(Default)]
struct Numbers {
    minimum: Option<Bound>,
    maximum: Option<Bound>,
}

struct Bound {
    limit: Number,
    exclusive: bool,
}

struct Objects {
    /// Sorted as the tape sorts names: by [`key`], then [`tail`].
    properties: Vec<Property>,
    /// How many of `properties` are required.
    required_here: usize,
    /// Required names that `properties` does not list.
    required_elsewhere: Vec<String>,
    additional: Additional,
    min_properties: usize,
    max_properties: Option<usize>,
}

struct Property {
    name: String,
    key: u128,
    schema: usize,
    required: bool,
}

enum Additional {
    Allowed,
    Forbidden,
    Schema(usize),
}

#[derive(Default)]
struct Arrays {
    items: Option<usize>,
    min_items: usize,
    max_items: Option<usize>,
}

/// Instance types as `type` names them; `Integer` is a number written
/// without fraction or exponent.
#[derive(Clone, Copy)]
enum Kind {
    Null = 1,
    Boolean = 2,
    Object = 4,
    Array = 8,
    Number = 16,
    String = 32,
    Integer = 64,
}

const ANY: u8 = 0x7f;

#[cfg(test)]
mod tests;
