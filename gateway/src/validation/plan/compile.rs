//! A model compiled into its plan: the keywords read into tables, `$ref`s
//! followed inside the document, and whatever the plan does not cover
//! refused (the model then has no plan).

use std::collections::HashMap;

use jsonschema::Validator;
use serde_json::{Map, Value};

use super::{Additional, Bound, Kind, Objects, Plan, Property, Schema, ANY};
use crate::validation::body::{key, tail, TapeJson};
use crate::validation::pattern::AsciiClass;

/// Keywords the crate does not enforce (annotations, containers of other
/// schemas reached through `$ref`, vendor extensions).
const IGNORED: &[&str] = &[
    "title",
    "description",
    "default",
    "example",
    "examples",
    "definitions",
    "readOnly",
    "writeOnly",
    "deprecated",
    "xml",
    "externalDocs",
    "nullable",
];

/// Keywords left to the crate's own validator, built from the keyword
/// alone: none depends on a sibling or holds a schema.
const DELEGATED: &[&str] = &["format", "multipleOf", "uniqueItems"];

impl Kind {
    fn of(name: &str) -> Option<Self> {
        Some(match name {
            "null" => Self::Null,
            "boolean" => Self::Boolean,
            "object" => Self::Object,
            "array" => Self::Array,
            "number" => Self::Number,
            "string" => Self::String,
            "integer" => Self::Integer,
            _ => return None,
        })
    }
}

/// Why a model gets no plan (never shown: the crate checks it instead).
type Unsupported = ();

impl Plan {
    /// The plan of `schema`, its `$ref`s read in `root`; `None` when the
    /// model uses what the plan does not cover (module docs).
    pub(in crate::validation) fn compile(root: &Value, schema: &Value) -> Option<Self> {
        let mut compiler = Compiler {
            root,
            schemas: Vec::new(),
            references: HashMap::new(),
        };
        let root_schema = compiler.schema(schema).ok()?;
        for schema in &mut compiler.schemas {
            schema.simple = schema.is_simple();
        }
        let plan = Self {
            schemas: compiler.schemas,
            root: root_schema,
        };
        plan.is_well_founded().then_some(plan)
    }

    /// No schema reaches itself without reading into the instance
    /// (`$ref`, `allOf`, `anyOf`): the check always moves on.
    fn is_well_founded(&self) -> bool {
        // 0: not seen, 1: on the path, 2: done.
        let mut state = vec![0_u8; self.schemas.len()];
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for start in 0..self.schemas.len() {
            if state[start] != 0 {
                continue;
            }
            state[start] = 1;
            stack.push((start, 0));
            while let Some((at, next)) = stack.pop() {
                let schema = &self.schemas[at];
                let edge = schema
                    .alias
                    .iter()
                    .chain(&schema.all_of)
                    .chain(&schema.any_of)
                    .nth(next);
                match edge {
                    Some(&to) => {
                        stack.push((at, next + 1));
                        match state[to] {
                            1 => return false,
                            0 => {
                                state[to] = 1;
                                stack.push((to, 0));
                            }
                            _ => {}
                        }
                    }
                    None => state[at] = 2,
                }
            }
        }
        true
    }
}

struct Compiler<'r> {
    root: &'r Value,
    schemas: Vec<Schema>,
    /// `$ref` targets compiled so far, by JSON pointer.
    references: HashMap<String, usize>,
}

impl Compiler<'_> {
    fn push(&mut self, schema: Schema) -> usize {
        self.schemas.push(schema);
        self.schemas.len() - 1
    }

    fn schema(&mut self, schema: &Value) -> Result<usize, Unsupported> {
        let schema = schema.as_object().ok_or(())?;
        if let Some(reference) = schema.get("$ref") {
            let target = self.reference(reference.as_str().ok_or(())?)?;
            // Siblings of `$ref` are ignored in draft 4; rather than rely
            // on it, a plan is made only when they are annotations.
            if schema
                .iter()
                .any(|(k, v)| k != "$ref" && !is_annotation(k, v))
            {
                return Err(());
            }
            return Ok(self.push(Schema {
                alias: Some(target),
                types: ANY,
                ..Schema::default()
            }));
        }
        let mut out = Schema {
            types: ANY,
            ..Schema::default()
        };
        for (keyword, value) in schema {
            self.keyword(&mut out, schema, keyword, value)?;
        }
        Ok(self.push(out))
    }

    fn keyword(
        &mut self,
        out: &mut Schema,
        schema: &Map<String, Value>,
        keyword: &str,
        value: &Value,
    ) -> Result<(), Unsupported> {
        match keyword {
            "type" => out.types = types(value)?,
            "enum" => out.enumeration = Some(value.as_array().ok_or(())?.clone()),
            "minLength" => out.string.min_length = count(value)?,
            "maxLength" => out.string.max_length = count(value)?,
            "pattern" => {
                let pattern = value.as_str().ok_or(())?;
                match AsciiClass::of(pattern) {
                    Some(class) => out.string.classes.push(class),
                    None => out.delegated.push(delegate(keyword, value)?),
                }
            }
            "minimum" => out.numbers.minimum = Some(bound(schema, value, "exclusiveMinimum")?),
            "maximum" => out.numbers.maximum = Some(bound(schema, value, "exclusiveMaximum")?),
            // Read with the bound they qualify; alone, the crate ignores them.
            "exclusiveMinimum" | "exclusiveMaximum" => {
                value.as_bool().ok_or(())?;
            }
            "items" => out.array.items = Some(self.schema(value)?),
            "minItems" => out.array.min_items = size(value)?,
            "maxItems" => out.array.max_items = Some(size(value)?),
            "properties"
            | "required"
            | "additionalProperties"
            | "minProperties"
            | "maxProperties" => self.object(out, keyword, value)?,
            "allOf" | "anyOf" => {
                let branches = value.as_array().filter(|b| !b.is_empty()).ok_or(())?;
                let mut ids = Vec::with_capacity(branches.len());
                for branch in branches {
                    ids.push(self.schema(branch)?);
                }
                if keyword == "allOf" {
                    out.all_of = ids;
                } else {
                    out.any_of = ids;
                }
            }
            k if DELEGATED.contains(&k) => out.delegated.push(delegate(keyword, value)?),
            k if is_annotation(k, value) => {}
            _ => return Err(()),
        }
        Ok(())
    }

    fn object(
        &mut self,
        out: &mut Schema,
        keyword: &str,
        value: &Value,
    ) -> Result<(), Unsupported> {
        let object = out.object.get_or_insert_with(|| {
            Box::new(Objects {
                properties: Vec::new(),
                required_here: 0,
                required_elsewhere: Vec::new(),
                additional: Additional::Allowed,
                min_properties: 0,
                max_properties: None,
            })
        });
        match keyword {
            "properties" => {
                for (name, schema) in value.as_object().ok_or(())? {
                    let schema = self.schema(schema)?;
                    // `object` is borrowed again: `self.schema` needed `self`.
                    let object = out.object.as_mut().ok_or(())?;
                    object.properties.push(Property {
                        name: name.clone(),
                        key: key(name),
                        schema,
                        required: false,
                    });
                }
                let object = out.object.as_mut().ok_or(())?;
                object.properties.sort_by(|a, b| {
                    a.key
                        .cmp(&b.key)
                        .then_with(|| tail(&a.name).cmp(tail(&b.name)))
                });
                // Required names may have come first.
                let required = std::mem::take(&mut object.required_elsewhere);
                for name in required {
                    mark_required(object, name);
                }
            }
            "required" => {
                for name in value.as_array().ok_or(())? {
                    mark_required(object, name.as_str().ok_or(())?.to_owned());
                }
            }
            "additionalProperties" => {
                object.additional = match value {
                    Value::Bool(true) => Additional::Allowed,
                    Value::Bool(false) => Additional::Forbidden,
                    schema => {
                        let schema = self.schema(schema)?;
                        let object = out.object.as_mut().ok_or(())?;
                        object.additional = Additional::Schema(schema);
                        return Ok(());
                    }
                };
            }
            "minProperties" => object.min_properties = size(value)?,
            _ => object.max_properties = Some(size(value)?),
        }
        Ok(())
    }

    /// The schema a `$ref` names inside the document.
    fn reference(&mut self, reference: &str) -> Result<usize, Unsupported> {
        let pointer = reference.strip_prefix('#').ok_or(())?;
        // Percent-encoded pointers, anchors (`#name`) and changes of base
        // (`id`) are the crate's to resolve.
        if pointer.contains('%') || !pointer.starts_with('/') {
            return Err(());
        }
        if let Some(&id) = self.references.get(pointer) {
            return Ok(id);
        }
        let mut at = self.root;
        for token in pointer.split('/').skip(1) {
            if at.get("id").is_some_and(Value::is_string) {
                return Err(());
            }
            let token = token.replace("~1", "/").replace("~0", "~");
            at = match at {
                Value::Object(map) => map.get(&token).ok_or(())?,
                Value::Array(items) => items
                    .get(token.parse::<usize>().map_err(|_| ())?)
                    .ok_or(())?,
                _ => return Err(()),
            };
        }
        if pointer.is_empty() || at.get("id").is_some() {
            return Err(());
        }
        // A placeholder first, so that a model reaching itself ends.
        let id = self.push(Schema::default());
        self.references.insert(pointer.to_owned(), id);
        let compiled = self.schema(at)?;
        self.schemas[id].alias = Some(compiled);
        self.schemas[id].types = ANY;
        Ok(id)
    }
}

/// A keyword the crate does not enforce: [`IGNORED`], a vendor extension,
/// or `$schema` naming draft 4 itself, as API Gateway's models do (another
/// draft could change how the crate reads the schema).
fn is_annotation(keyword: &str, value: &Value) -> bool {
    const DRAFT_4: [&str; 2] = [
        "http://json-schema.org/draft-04/schema#",
        "http://json-schema.org/draft-04/schema",
    ];
    IGNORED.contains(&keyword)
        || keyword.starts_with("x-")
        || keyword == "$schema" && value.as_str().is_some_and(|uri| DRAFT_4.contains(&uri))
}

fn mark_required(object: &mut Objects, name: String) {
    match object.properties.iter_mut().find(|p| p.name == name) {
        Some(property) if !property.required => {
            property.required = true;
            object.required_here += 1;
        }
        Some(_) => {}
        None if !object.required_elsewhere.contains(&name) => object.required_elsewhere.push(name),
        None => {}
    }
}

fn types(value: &Value) -> Result<u8, Unsupported> {
    let kind = |v: &Value| v.as_str().and_then(Kind::of).map(|k| k as u8).ok_or(());
    match value {
        Value::Array(names) if !names.is_empty() => {
            names.iter().try_fold(0, |all, name| Ok(all | kind(name)?))
        }
        single => kind(single),
    }
}

fn count(value: &Value) -> Result<u64, Unsupported> {
    value.as_u64().ok_or(())
}

fn size(value: &Value) -> Result<usize, Unsupported> {
    usize::try_from(count(value)?).map_err(|_| ())
}

fn bound(schema: &Map<String, Value>, limit: &Value, flag: &str) -> Result<Bound, Unsupported> {
    let exclusive = match schema.get(flag) {
        None => false,
        Some(flag) => flag.as_bool().ok_or(())?,
    };
    match limit {
        Value::Number(limit) => Ok(Bound {
            limit: limit.clone(),
            exclusive,
        }),
        _ => Err(()),
    }
}

/// The crate's validator for one keyword alone, built as the model's.
fn delegate(keyword: &str, value: &Value) -> Result<Validator<TapeJson>, Unsupported> {
    let mut schema = Map::new();
    schema.insert(keyword.to_owned(), value.clone());
    crate::validation::models::tape_options()
        .build(&Value::Object(schema))
        .map_err(|_| ())
}
