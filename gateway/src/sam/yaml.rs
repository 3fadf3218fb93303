//! A template's text as a JSON value, within bounds: JSON (`cdk.out`), or
//! YAML with CloudFormation's short-form tags (`!Ref X` becomes
//! `{"Ref": "X"}`, `!GetAtt A.B` becomes `{"Fn::GetAtt": ["A", "B"]}`,
//! `!Sub s` becomes `{"Fn::Sub": s}`, any other `!Name v` becomes
//! `{"Fn::Name": v}`), the long form CloudFormation itself reads.
//!
//! The bounds are those of the export loader (`tower_cognito::openapi`),
//! since a reload must not take the process down either: the size; YAML
//! flow nesting, scanned before the YAML parser loads every event of the
//! text; nodes, aliases counted each time they are used; nesting depth.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess};
use serde::de::{VariantAccess, Visitor};
use serde_json::{Map, Value};

/// The largest template read, as for an export (CloudFormation's own limit,
/// 1 MB, is lower).
pub(crate) const MAX_TEMPLATE_BYTES: usize = 10 * 1024 * 1024;
/// The most nodes a YAML template may expand to, aliases replayed.
const MAX_NODES: usize = 250_000;
/// Deepest nesting (flow collections before parsing, any node while
/// building), serde_json's own limit.
const MAX_DEPTH: usize = 128;

/// Parses a template (JSON if it starts with `{`, else YAML).
pub(crate) fn load(text: &str) -> Result<Value, String> {
    if text.len() > MAX_TEMPLATE_BYTES {
        return Err(format!(
            "the template is {} bytes, more than the limit of {MAX_TEMPLATE_BYTES}",
            text.len()
        ));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"));
    }
    // The export loader's guard against deep flow nesting, before parsing.
    tower_cognito::openapi::check_yaml_flow_depth(text).map_err(|e| e.message().to_owned())?;
    let budget = std::cell::Cell::new(MAX_NODES);
    let seed = Build {
        budget: &budget,
        depth: 0,
    };
    seed.deserialize(serde_norway::Deserializer::from_str(text))
        .map_err(|e| {
            if budget.get() == 0 {
                format!(
                    "the YAML template expands to more than {MAX_NODES} nodes (aliases are \
                     counted each time they are used)"
                )
            } else {
                format!("invalid YAML: {e}")
            }
        })
}

/// The long form of a short-form tag's value.
fn intrinsic(tag: &str, value: Value) -> Result<Value, String> {
    let tag = tag.trim_start_matches('!');
    if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!("unknown YAML tag !{tag}"));
    }
    let (key, value) = match tag {
        "Ref" | "Condition" => (tag.to_owned(), value),
        // `!GetAtt Res.Attr`: the attribute may itself hold dots.
        "GetAtt" => match value {
            Value::String(s) => {
                let (resource, attribute) = s
                    .split_once('.')
                    .ok_or_else(|| format!("!GetAtt {s}: expected Resource.Attribute"))?;
                (
                    "Fn::GetAtt".to_owned(),
                    Value::Array(vec![resource.into(), attribute.into()]),
                )
            }
            other => ("Fn::GetAtt".to_owned(), other),
        },
        _ => (format!("Fn::{tag}"), value),
    };
    let mut map = Map::new();
    map.insert(key, value);
    Ok(Value::Object(map))
}

/// Builds the JSON value node by node, spending the budget.
#[derive(Clone, Copy)]
struct Build<'a> {
    budget: &'a std::cell::Cell<usize>,
    depth: usize,
}

impl Build<'_> {
    fn tick<E: de::Error>(self) -> Result<(), E> {
        match self.budget.get().checked_sub(1) {
            Some(left) if left > 0 => {
                self.budget.set(left);
                Ok(())
            }
            _ => {
                self.budget.set(0);
                Err(E::custom("node limit exceeded"))
            }
        }
    }

    fn deeper<E: de::Error>(self) -> Result<Self, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(Self {
            depth: self.depth + 1,
            ..self
        })
    }
}

impl<'de> DeserializeSeed<'de> for Build<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// A mapping key: YAML allows any scalar (`200:`), JSON only strings.
struct Key<'a>(Build<'a>);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        match self.0.deserialize(deserializer)? {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Null => Ok("null".to_owned()),
            _ => Err(de::Error::custom("a mapping key must be a scalar")),
        }
    }
}

impl<'de> Visitor<'de> for Build<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.tick()?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.tick()?;
        Ok(v.into())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.tick()?;
        Ok(v.into())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.tick()?;
        // NaN and infinities have no JSON form: kept as YAML wrote them.
        Ok(serde_json::Number::from_f64(v)
            .map_or_else(|| Value::String(v.to_string()), Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.tick()?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.tick()?;
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.tick()?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.tick()?;
        let inner = self.deeper()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.tick()?;
        let inner = self.deeper()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(Key(inner))? {
            let value = map.next_value_seed(inner)?;
            if out.insert(key.clone(), value).is_some() {
                // CloudFormation refuses a template with a key twice.
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
        }
        Ok(Value::Object(out))
    }

    /// A tagged node (`!Ref x`): the tag, then its value.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let (tag, variant): (String, _) = data.variant()?;
        let value = variant.newtype_variant_seed(inner)?;
        intrinsic(&tag, value).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_form_tags_become_the_long_form() {
        let text = r#"
Resources:
  Api:
    Properties:
      A: !Ref Param
      B: !GetAtt Pool.Arn
      C: !GetAtt [Pool, ProviderName]
      D: !Sub "arn:${AWS::Partition}:x"
      E: !Join [",", [!Ref A, !GetAtt B.Arn]]
      F: !If [IsProd, !Ref A, !Ref "AWS::NoValue"]
      G: !Select [0, !Split [",", "a,b"]]
      H: !FindInMap [M, K, V]
      I: !Equals [!Ref Env, prod]
      J: !Not [!Condition C]
      K: !And [!Equals [a, a], !Or [!Condition X, !Condition Y]]
      L: !Sub
        - "${X}-y"
        - X: !Ref Z
      M: !GetAtt Endpoint.Address.Port
      200: numeric key
"#;
        let v = load(text).unwrap();
        let p = &v["Resources"]["Api"]["Properties"];
        assert_eq!(p["A"], json!({"Ref": "Param"}));
        assert_eq!(p["B"], json!({"Fn::GetAtt": ["Pool", "Arn"]}));
        assert_eq!(p["C"], json!({"Fn::GetAtt": ["Pool", "ProviderName"]}));
        assert_eq!(p["D"], json!({"Fn::Sub": "arn:${AWS::Partition}:x"}));
        assert_eq!(
            p["E"],
            json!({"Fn::Join": [",", [{"Ref": "A"}, {"Fn::GetAtt": ["B", "Arn"]}]]})
        );
        assert_eq!(
            p["F"],
            json!({"Fn::If": ["IsProd", {"Ref": "A"}, {"Ref": "AWS::NoValue"}]})
        );
        assert_eq!(
            p["G"],
            json!({"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]})
        );
        assert_eq!(p["H"], json!({"Fn::FindInMap": ["M", "K", "V"]}));
        assert_eq!(p["I"], json!({"Fn::Equals": [{"Ref": "Env"}, "prod"]}));
        assert_eq!(p["J"], json!({"Fn::Not": [{"Condition": "C"}]}));
        assert_eq!(
            p["K"],
            json!({"Fn::And": [{"Fn::Equals": ["a", "a"]}, {"Fn::Or": [{"Condition": "X"}, {"Condition": "Y"}]}]})
        );
        assert_eq!(p["L"], json!({"Fn::Sub": ["${X}-y", {"X": {"Ref": "Z"}}]}));
        assert_eq!(p["M"], json!({"Fn::GetAtt": ["Endpoint", "Address.Port"]}));
        assert_eq!(p["200"], "numeric key");
    }

    #[test]
    fn json_templates_are_read_as_json() {
        let v = load(r#"{"Resources": {"A": {"Type": "AWS::X"}}}"#).unwrap();
        assert_eq!(v["Resources"]["A"]["Type"], "AWS::X");
        assert!(load("{\"a\": ").unwrap_err().contains("invalid JSON"));
    }

    #[test]
    fn bounds_refuse_what_would_cost_too_much() {
        // Alias expansion: 1,000 aliases of a 1,000-item list (a few KB of
        // text, a million nodes), within serde_norway's own alias guard.
        let mut text = String::from("a: &a [");
        text.push_str(&vec!["x"; 1000].join(", "));
        text.push_str("]\nb: [");
        text.push_str(&vec!["*a"; 1000].join(", "));
        text.push_str("]\n");
        let e = load(&text).unwrap_err();
        assert!(e.contains("more than 250000 nodes"), "{e}");
        // Flow nesting, refused before parsing.
        let deep = format!("a: {}", "[".repeat(MAX_DEPTH + 1));
        assert!(load(&deep).unwrap_err().contains("nested deeper"));
        // Block nesting, refused while building.
        let mut block = String::new();
        for i in 0..(MAX_DEPTH + 2) {
            block.push_str(&" ".repeat(i));
            block.push_str("a:\n");
        }
        block.push_str(&" ".repeat(MAX_DEPTH + 2));
        block.push_str("b: 1\n");
        assert!(load(&block).is_err());
        // Size.
        let big = "a".repeat(MAX_TEMPLATE_BYTES + 1);
        assert!(load(&big).unwrap_err().contains("limit"));
        // Keys twice, tags that name nothing.
        assert!(load("a: 1\na: 2\n").unwrap_err().contains("duplicate"));
        assert!(load("a: !GetAtt NoDot\n")
            .unwrap_err()
            .contains("Resource.Attribute"));
    }
}
