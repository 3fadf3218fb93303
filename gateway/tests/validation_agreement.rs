//! A body checked through the validator's tape (`check_parsed`,
//! `check_body`) gets the very answer the crate gives for the same body
//! parsed into a `serde_json::Value` (`check_value`): valid alike, invalid
//! with the same errors. Random bodies against models that use every
//! draft 4 keyword (patterns of each form among them), objects wide enough
//! to be searched through their sorted names, and names that share their
//! first eight bytes.

use std::cell::RefCell;
use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};
use tower_cognito_gateway::validation::{Models, ParsedBody, RequestValidator};

/// Property names: short ones, ones the models name, and long ones sharing
/// their first eight bytes and their length.
fn names() -> Vec<String> {
    let mut names: Vec<String> = (0..24).map(|i| format!("f{i}")).collect();
    names.extend(
        [
            "a",
            "b",
            "c",
            "name",
            "tags",
            "count",
            "next",
            "v",
            "longname_one",
            "longname_two",
            "longname_six",
            "",
        ]
        .map(String::from),
    );
    names
}

const STRINGS: &[&str] = &[
    "",
    "a",
    "tea",
    "TEA",
    "AB",
    "ABCD",
    "abc def",
    "lorem ipsum dolor sit amet lorem ipsum",
    "é",
    "héllo",
    "🦀",
    "quote \" and \\ backslash",
    "line\nbreak",
    "trailing\n",
    "2024-01-02T03:04:05Z",
    "f3",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-20_i64..20).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!(u64::MAX)),
        (-40_i32..40).prop_map(|n| json!(f64::from(n) / 4.0)),
        Just(json!(1.0)),
        Just(json!(1e300)),
        prop::sample::select(STRINGS).prop_map(Value::from),
        "[a-zé ]{0,40}".prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let names = names();
    leaf().prop_recursive(4, 96, 32, move |inner| {
        let names = names.clone();
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(names.clone()), inner.clone()), 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            // Wide: most names present, past the members scanned one by one.
            prop::collection::vec((prop::bool::weighted(0.05), inner), names.len()).prop_map(
                move |picks| {
                    let members = names
                        .iter()
                        .zip(picks)
                        .filter(|(_, (drop, _))| !drop)
                        .map(|(name, (_, v))| (name.clone(), v));
                    Value::Object(members.collect())
                }
            ),
        ]
    })
}

/// An object of most names with plain values: wide, and often complete;
/// the long names come and go more often, so that one is alone with the
/// first eight bytes and the length it shares with a name looked for.
fn flat_wide() -> impl Strategy<Value = Value> {
    let names = names();
    prop::collection::vec((0.0..1.0_f64, leaf()), names.len()).prop_map(move |picks| {
        let members = names
            .iter()
            .zip(picks)
            .filter(|(name, (dice, _))| {
                let drop = if name.starts_with("longname") {
                    0.4
                } else {
                    0.03
                };
                *dice >= drop
            })
            .map(|(name, (_, v))| (name.clone(), v));
        Value::Object(members.collect())
    })
}

/// Bodies shaped like the "an order" model, right or nearly.
fn order() -> impl Strategy<Value = Value> {
    let field = |name: &'static str, values: Vec<Value>| {
        (prop::bool::weighted(0.9), prop::sample::select(values))
            .prop_map(move |(keep, v)| keep.then(|| (name.to_owned(), v)))
    };
    // Mostly values the model accepts, one it refuses in each list.
    (
        field(
            "name",
            vec![
                json!("tea"),
                json!("abc def"),
                json!("tea cup"),
                json!("TEA"),
            ],
        ),
        field("count", vec![json!(1), json!(3), json!(7), json!(0)]),
        field(
            "tags",
            vec![
                json!(["x", "y"]),
                json!([]),
                json!(["a"]),
                json!(["x", "x"]),
            ],
        ),
        field(
            "a",
            vec![json!("AB"), json!("ABCD"), json!("XYZ"), json!("ABCDE")],
        ),
        field(
            "b",
            vec![json!("abc "), json!("x y"), json!("a\n"), json!("abc")],
        ),
        (
            prop::bool::weighted(0.05),
            prop::sample::select(vec![json!("ab"), json!("abc"), json!("éé"), json!("héllo")]),
        ),
    )
        .prop_map(|(name, count, tags, a, b, (extra, c))| {
            let mut members: Map<String, Value> =
                [name, count, tags, a, b].into_iter().flatten().collect();
            members.insert(if extra { "d" } else { "c" }.to_owned(), c);
            Value::Object(members)
        })
}

fn body() -> impl Strategy<Value = Value> {
    prop_oneof![2 => value(), 1 => flat_wide(), 1 => order()]
}

/// Models exercising the keywords of draft 4, as API Gateway models.
fn schemas() -> Vec<(&'static str, Value)> {
    let wide_required: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
    let mut wide_properties = Map::new();
    for i in 0..24 {
        let schema = match i % 4 {
            0 => json!({"not": {"type": "object"}}),
            1 => json!({"type": ["string", "number", "null", "boolean"]}),
            2 => json!({"not": {"type": "string"}}),
            _ => json!({}),
        };
        wide_properties.insert(format!("f{i}"), schema);
    }
    vec![
        (
            "an order",
            json!({"type": "object", "required": ["name"], "additionalProperties": false,
                   "properties": {
                       "name": {"type": "string", "pattern": "^[a-z ]+$", "maxLength": 10},
                       "count": {"type": "integer", "minimum": 0, "exclusiveMinimum": true},
                       "tags": {"type": "array", "items": {"type": "string", "minLength": 1},
                                "uniqueItems": true, "maxItems": 5},
                       "a": {"type": "string", "pattern": "^[A-Z]{2,4}$"},
                       "b": {"type": "string", "pattern": "[a-z]+\\s"},
                       "c": {"type": "string", "minLength": 2, "maxLength": 3}}}),
        ),
        (
            "wide required",
            json!({"type": "object", "required": wide_required, "properties": wide_properties}),
        ),
        (
            "long names",
            json!({"required": ["longname_one", "longname_two", "f0", "f1", "f2", "f3", "f4",
                                "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12", "f13", "f14"],
                   "properties": {"longname_one": {"type": "integer"},
                                  "longname_two": {"type": ["integer", "string"]}}}),
        ),
        (
            "enums",
            json!({"anyOf": [
                {"enum": [1, "a", null, [1, {"a": 1.0}], {"b": [true]}, 0.5]},
                {"type": "object", "maxProperties": 1},
                {"type": "array", "items": [{"type": "integer"}, {"type": "string"}],
                 "additionalItems": false, "minItems": 1}]}),
        ),
        (
            "combinators",
            json!({"oneOf": [
                {"type": "string", "pattern": "^[a-z0-9 ]+$"},
                {"type": "number", "multipleOf": 0.5, "maximum": 10, "exclusiveMaximum": true},
                {"not": {"type": ["string", "number"]}}]}),
        ),
        (
            "objects",
            json!({"type": "object", "minProperties": 2, "maxProperties": 30,
                   "patternProperties": {"^f[0-9]+$": {"not": {"type": "boolean"}}},
                   "additionalProperties": {"type": ["string", "null", "object", "number", "array"]},
                   "dependencies": {"a": ["b"], "c": {"required": ["name"]}}}),
        ),
        ("recursive", json!({"$ref": "#/components/schemas/Node"})),
        (
            "numbers",
            json!({"type": "array", "items": {"anyOf": [
                {"type": "integer", "minimum": -5, "maximum": 18446744073709551615u64},
                {"type": "number", "minimum": -1.5, "maximum": 1e10}]}}),
        ),
    ]
}

fn validator(schema: &Value) -> RequestValidator {
    let export = json!({
        "openapi": "3.0.1",
        "x-amazon-apigateway-request-validators": {"body": {"validateRequestBody": true}},
        "paths": {"/x": {"post": {
            "x-amazon-apigateway-request-validator": "body",
            "requestBody": {"content": {"application/json": {"schema": schema}}}
        }}},
        "components": {"schemas": {"Node": {"type": "object", "properties": {
            "next": {"$ref": "#/components/schemas/Node"},
            "v": {"type": "integer"},
            "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}}}
    });
    RequestValidator::for_operation(&mut Models::new(&export), "/paths/~1x/post", "/x")
        .unwrap()
        .unwrap()
}

#[test]
fn the_tape_answers_as_the_value_does() {
    let validators: Vec<(&str, RequestValidator)> = schemas()
        .iter()
        .map(|(name, schema)| (*name, validator(schema)))
        .collect();
    // Per model: how many bodies were valid and how many not, so that a
    // model no body ever passes (or fails) cannot make the test vacuous.
    let outcomes: RefCell<BTreeMap<&str, (u32, u32)>> = RefCell::new(BTreeMap::new());
    let mut runner = TestRunner::new(Config {
        cases: 2000,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&(body(), any::<bool>()), |(body, pretty)| {
        let bytes = if pretty {
            serde_json::to_vec_pretty(&body)
        } else {
            serde_json::to_vec(&body)
        }
        .unwrap();
        let parsed = ParsedBody::parse(&bytes).unwrap();
        for (name, validator) in &validators {
            let expected = validator.check_value(&body);
            prop_assert_eq!(
                &validator.check_parsed(None, &parsed),
                &expected,
                "{} on {}",
                name,
                body
            );
            prop_assert_eq!(&validator.check_body(None, &bytes), &expected, "{}", name);
            let mut outcomes = outcomes.borrow_mut();
            let entry = outcomes.entry(name).or_default();
            if expected.is_ok() {
                entry.0 += 1;
            } else {
                entry.1 += 1;
            }
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    for (name, (valid, invalid)) in outcomes.into_inner() {
        assert!(
            valid >= 20 && invalid >= 20,
            "{name}: {valid} valid, {invalid} invalid"
        );
    }
}

#[test]
fn a_repeated_name_is_judged_by_its_last_value() {
    // serde_json's `Value` keeps the last of repeated names; so does the check.
    let v = validator(&json!({"type": "object", "properties": {"a": {"type": "string"}}}));
    assert!(v.check_body(None, br#"{"a": 1, "a": "x"}"#).is_ok());
    assert!(v.check_body(None, br#"{"a": "x", "a": 1}"#).is_err());
    let wide: String = (0..20).map(|i| format!("\"k{i}\": {i}, ")).collect();
    let body = format!("{{\"a\": 1, {wide}\"a\": \"x\"}}");
    assert!(v.check_body(None, body.as_bytes()).is_ok());
    let body = format!("{{\"a\": \"x\", {wide}\"a\": 1}}");
    assert!(v.check_body(None, body.as_bytes()).is_err());
}
