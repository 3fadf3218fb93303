//! JSON pointers and typed reads of `serde_json` values, with errors that
//! name where they are.

use serde_json::{Map, Value};

use super::ImportError;

/// Appends one reference token to a JSON pointer, escaped per RFC 6901.
pub(super) fn child(pointer: &str, token: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + token.len() + 1);
    out.push_str(pointer);
    out.push('/');
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn expect_object<'v>(
    value: &'v Value,
    pointer: &str,
) -> Result<&'v Map<String, Value>, ImportError> {
    value.as_object().ok_or_else(|| {
        ImportError::new(
            pointer,
            format!("expected an object, found {}", kind(value)),
        )
    })
}

pub(super) fn optional_object<'v>(
    parent: &'v Map<String, Value>,
    parent_ptr: &str,
    key: &str,
) -> Result<Option<&'v Map<String, Value>>, ImportError> {
    parent
        .get(key)
        .map(|v| expect_object(v, &child(parent_ptr, key)))
        .transpose()
}

pub(super) fn required_str<'v>(
    parent: &'v Map<String, Value>,
    parent_ptr: &str,
    key: &str,
) -> Result<&'v str, ImportError> {
    match parent.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(ImportError::new(
            child(parent_ptr, key),
            format!("`{key}` must not be empty"),
        )),
        Some(other) => Err(ImportError::new(
            child(parent_ptr, key),
            format!("expected a string, found {}", kind(other)),
        )),
        None => Err(ImportError::new(parent_ptr, format!("missing `{key}`"))),
    }
}

pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
