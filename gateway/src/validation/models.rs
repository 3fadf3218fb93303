//! The export's models (JSON Schema draft 4), compiled once each, and the
//! schemas an operation's body may be checked against.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::body::TapeJson;
use super::pattern;
use super::plan::Plan;

/// A compiled model (JSON Schema draft 4), shared by the methods using it.
///
/// Compiled twice from the same schema and options: `tape` decides whether
/// a body is valid; `value` (the crate's own reading of a
/// `serde_json::Value`) says why one is not, and checks the rare body that
/// is not a tape (`body.rs`). `plan`, when the model has one, accepts most
/// valid bodies before either is asked (`plan.rs`).
#[derive(Clone)]
pub struct Model {
    pub(super) value: Arc<jsonschema::Validator>,
    pub(super) tape: Arc<jsonschema::Validator<TapeJson>>,
    pub(super) plan: Option<Arc<Plan>>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Model").field(&self.value).finish()
    }
}

/// An export's models, compiled on first use; one per distinct schema.
#[derive(Debug)]
pub struct Models<'d> {
    pub(super) document: &'d Value,
    compiled: HashMap<String, Model>,
    /// `components/schemas` (OpenAPI 3) or `definitions` (2.0), with AWS's
    /// model URLs rewritten to point into them.
    definitions: Value,
    pointer_base: &'static str,
}

impl<'d> Models<'d> {
    /// The models of `document` (an API Gateway export, OpenAPI 3 or 2.0).
    pub fn new(document: &'d Value) -> Self {
        let (pointer_base, definitions) = match document.get("swagger") {
            Some(_) => ("#/definitions/", document.get("definitions")),
            None => (
                "#/components/schemas/",
                document.pointer("/components/schemas"),
            ),
        };
        let mut definitions = definitions.cloned().unwrap_or(Value::Null);
        rewrite_model_urls(&mut definitions, pointer_base);
        Self {
            document,
            compiled: HashMap::new(),
            definitions,
            pointer_base,
        }
    }

    /// The compiled model of `schema` (a `$ref` or an inline schema).
    pub(super) fn compile(&mut self, schema: &Value) -> Result<Model, String> {
        let mut schema = schema.clone();
        rewrite_model_urls(&mut schema, self.pointer_base);
        let key = schema.to_string();
        if let Some(model) = self.compiled.get(&key) {
            return Ok(model.clone());
        }
        // The export's models travel with the schema, so `$ref`s into them
        // resolve in this one document (draft 4 ignores unknown keywords);
        // `allOf` keeps the schema's own keywords beside a top-level `$ref`.
        let mut root = serde_json::Map::new();
        root.insert("allOf".to_owned(), Value::Array(vec![schema]));
        let holder = if self.pointer_base.starts_with("#/definitions") {
            root.insert("definitions".to_owned(), self.definitions.clone());
            None
        } else {
            Some(serde_json::json!({"schemas": self.definitions}))
        };
        if let Some(components) = holder {
            root.insert("components".to_owned(), components);
        }
        let root = Value::Object(root);
        let value = jsonschema::draft4::options()
            .with_pattern_options(jsonschema::PatternOptions::regex())
            .build(&root)
            .map_err(|e| format!("model does not compile: {e}"))?;
        let tape = tape_options()
            .build(&root)
            .map_err(|e| format!("model does not compile: {e}"))?;
        let plan = root
            .get("allOf")
            .and_then(|all| all.get(0))
            .and_then(|schema| Plan::compile(&root, schema));
        let model = Model {
            value: Arc::new(value),
            tape: Arc::new(tape),
            plan: plan.map(Arc::new),
        };
        self.compiled.insert(key, model.clone());
        Ok(model)
    }
}

/// The options of a model read on the tape: the `Value`'s options, with
/// `pattern` given its faster form (pattern.rs) where it is provably the
/// same.
pub(super) fn tape_options(
) -> jsonschema::ValidationOptions<'static, Arc<dyn jsonschema::Retrieve>, TapeJson> {
    jsonschema::options_for::<TapeJson>()
        .with_draft(jsonschema::Draft::Draft4)
        .with_pattern_options(jsonschema::PatternOptions::regex())
        .with_keyword("pattern", pattern::keyword::<TapeJson>)
}

/// Points AWS's model URLs (`https://apigateway.amazonaws.com/restapis/ID/models/NAME`)
/// at the export's own models. Recursion follows the export's own nesting,
/// which the import already bounds.
fn rewrite_model_urls(value: &mut Value, base: &str) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(s) if key == "$ref" => {
                        if let Some(name) = s
                            .strip_prefix("https://apigateway.amazonaws.com/restapis/")
                            .and_then(|rest| rest.split_once("/models/"))
                            .map(|(_, name)| name.to_owned())
                        {
                            *s = format!("{base}{name}");
                        }
                    }
                    other => rewrite_model_urls(other, base),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_model_urls(v, base)),
        _ => {}
    }
}

/// A parameter or request body, its `$ref` (one level, inside the export)
/// followed.
pub(super) fn resolve<'v>(document: &'v Value, value: &'v Value) -> Result<&'v Value, String> {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .strip_prefix('#')
            .and_then(|pointer| document.pointer(pointer))
            .ok_or_else(|| format!("$ref {reference:?} leads nowhere in the export")),
        None => Ok(value),
    }
}

/// The body models of an operation: `(media type, schema)`.
pub(super) fn body_schemas<'v>(
    document: &'v Value,
    operation: &'v Value,
) -> Result<Vec<(String, &'v Value)>, String> {
    let mut out = Vec::new();
    if let Some(body) = operation.get("requestBody") {
        let body = resolve(document, body)?;
        if let Some(content) = body.get("content").and_then(Value::as_object) {
            for (media, entry) in content {
                if let Some(schema) = entry.get("schema") {
                    out.push((media.to_ascii_lowercase(), schema));
                }
            }
        }
        return Ok(out);
    }
    // OpenAPI 2.0: the `in: body` parameter, for each type the method consumes.
    let Some(params) = operation.get("parameters").and_then(Value::as_array) else {
        return Ok(out);
    };
    for param in params {
        let param = resolve(document, param)?;
        if param.get("in").and_then(Value::as_str) != Some("body") {
            continue;
        }
        let Some(schema) = param.get("schema") else {
            continue;
        };
        let consumes = operation
            .get("consumes")
            .or_else(|| document.get("consumes"))
            .and_then(Value::as_array);
        match consumes {
            Some(types) if !types.is_empty() => {
                for media in types.iter().filter_map(Value::as_str) {
                    out.push((media.to_ascii_lowercase(), schema));
                }
            }
            _ => out.push(("application/json".to_owned(), schema)),
        }
    }
    Ok(out)
}
