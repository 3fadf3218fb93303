//! The export's `x-amazon-apigateway-binary-media-types`: which request
//! bodies go to a function as base64, and for which `Accept` a function's
//! base64 body is decoded.
//!
//! An entry matches a media type (parameters ignored, case-insensitively):
//! - `type/subtype`: that type exactly;
//! - `type/*`: any subtype of `type` (AWS: "You can use the wildcard
//!   character (`*`) to cover multiple media types");
//! - `*/*`: every type (AWS: "set your API's binary media types to `*/*`");
//! - `*/subtype`: nothing. AWS does not read a wildcard on the left: with
//!   `*/test` listed, `Accept: random/test` and even `Accept: */test` got the
//!   base64 text back (LocalStack's `test_aws_proxy_binary_response`,
//!   recorded against AWS).
//!
//! A wildcard in the *request's* type is no wildcard either: `Accept: image/*`
//! with `image/png` listed is not binary (same recording).

use serde_json::Value;

/// `x-amazon-apigateway-binary-media-types`, parsed once per deployment.
#[derive(Clone, Debug, Default)]
pub(crate) struct BinaryMediaTypes {
    /// Lowercase `(type, subtype)`.
    types: Vec<(String, String)>,
}

impl BinaryMediaTypes {
    /// Reads the list at the document's root; exports write `/` as `~1`.
    pub(crate) fn from_document(document: &Value) -> Result<Self, String> {
        let Some(list) = document.get("x-amazon-apigateway-binary-media-types") else {
            return Ok(Self::default());
        };
        let list = list
            .as_array()
            .ok_or("x-amazon-apigateway-binary-media-types: expected a list")?;
        let mut types = Vec::with_capacity(list.len());
        for entry in list {
            let text = entry.as_str().ok_or_else(|| {
                format!("x-amazon-apigateway-binary-media-types: {entry} is no string")
            })?;
            let text = text.replace("~1", "/").to_ascii_lowercase();
            let (t, s) = text
                .split_once('/')
                .map(|(t, s)| (t.trim(), s.trim()))
                .filter(|(t, s)| !t.is_empty() && !s.is_empty())
                .ok_or_else(|| {
                    format!("x-amazon-apigateway-binary-media-types: {text:?} is no media type")
                })?;
            types.push((t.to_owned(), s.to_owned()));
        }
        Ok(Self { types })
    }

    /// Whether a `Content-Type` or `Accept` value (parameters ignored) is
    /// binary. Runs on every request: compares in place, no lowercase copy.
    pub(crate) fn matches(&self, media_type: &str) -> bool {
        if self.types.is_empty() {
            return false;
        }
        let essence = media_type.split(';').next().unwrap_or("").trim();
        let Some((t, s)) = essence.split_once('/') else {
            return false;
        };
        let (t, s) = (t.trim(), s.trim());
        self.types
            .iter()
            .any(|(bt, bs)| match (bt.as_str(), bs.as_str()) {
                ("*", "*") => true,
                ("*", _) => false,
                (bt, "*") => bt.eq_ignore_ascii_case(t),
                (bt, bs) => bt.eq_ignore_ascii_case(t) && bs.eq_ignore_ascii_case(s),
            })
    }
}
