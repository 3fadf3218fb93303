use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use super::check::Run;
use super::Plan;
use crate::validation::body::{Parsed, ParsedBody};
use crate::validation::models::Models;

/// The model of `schema` as the gateway compiles it (the export's
/// `components/schemas` beside it), with its plan.
fn compiled(schema: &Value) -> crate::validation::Model {
    let export = json!({"openapi": "3.0.1", "components": {"schemas": {
        "Node": {"type": "object", "properties": {
            "next": {"$ref": "#/components/schemas/Node"},
            "v": {"type": "integer"}}},
        "Tag": {"type": "string", "pattern": "^[a-z]{1,8}$"},
        "Loop": {"$ref": "#/components/schemas/Loop"},
        "Ping": {"allOf": [{"$ref": "#/components/schemas/Pong"}]},
        "Pong": {"anyOf": [{"$ref": "#/components/schemas/Ping"}]},
        "Either": {"anyOf": [
            {"properties": {"next": {"$ref": "#/components/schemas/Either"}, "v": {"type": "string"}}},
            {"properties": {"next": {"$ref": "#/components/schemas/Either"}, "v": {"type": "integer"}}}]}}}});
    Models::new(&export).compile(schema).unwrap()
}

/// `accepts` of the plan, `None` without one.
fn accepts(model: &crate::validation::Model, body: &Value) -> Option<bool> {
    let bytes = serde_json::to_vec(body).unwrap();
    let parsed = ParsedBody::parse(&bytes).unwrap();
    let Parsed::Tape { tape, .. } = &parsed.0 else {
        panic!("{body} is not a tape");
    };
    Some(model.plan.as_ref()?.accepts(tape, bytes.len()))
}

/// Each case: a model, a body, and whether the plan accepts it; the
/// crate must agree with every acceptance, and here with every refusal.
#[test]
fn each_keyword_as_draft_4_reads_it() {
    let cases = [
        (json!({"type": "integer"}), json!(3), true),
        (json!({"type": "integer"}), json!(-3), true),
        (json!({"type": "integer"}), json!(u64::MAX), true),
        (json!({"type": "integer"}), json!(1.5), false),
        (json!({"type": "number"}), json!(3), true),
        (json!({"type": "number"}), json!(1.5), true),
        (json!({"type": ["string", "null"]}), json!(null), true),
        (json!({"type": ["string", "null"]}), json!(false), false),
        (json!({"type": "object"}), json!([]), false),
        (json!({"minLength": 2, "maxLength": 3}), json!("éé"), true),
        (json!({"minLength": 2, "maxLength": 3}), json!("é"), false),
        (
            json!({"minLength": 2, "maxLength": 3}),
            json!("🦀🦀🦀🦀"),
            false,
        ),
        (json!({"minLength": 2}), json!(7), true),
        (json!({"pattern": "^[a-z]+$"}), json!("abc"), true),
        (json!({"pattern": "^[a-z]+$"}), json!("abC"), false),
        (json!({"pattern": "b+"}), json!("abc"), true),
        (json!({"pattern": "b+"}), json!("ac"), false),
        (
            json!({"minimum": 0, "exclusiveMinimum": true}),
            json!(0),
            false,
        ),
        (
            json!({"minimum": 0, "exclusiveMinimum": true}),
            json!(0.5),
            true,
        ),
        (
            json!({"minimum": 0, "exclusiveMinimum": false}),
            json!(0),
            true,
        ),
        (json!({"maximum": 1.5}), json!(1.5), true),
        (
            json!({"maximum": 1.5, "exclusiveMaximum": true}),
            json!(1.5),
            false,
        ),
        (json!({"maximum": 2}), json!(-1e300), true),
        (json!({"maximum": u64::MAX}), json!(u64::MAX), true),
        (json!({"minimum": -5}), json!(i64::MIN), false),
        (json!({"enum": ["a", 1, null]}), json!(1.0), true),
        (json!({"enum": ["a", 1, null]}), json!("b"), false),
        (json!({"enum": [{"a": [1]}]}), json!({"a": [1]}), true),
        (json!({"multipleOf": 0.5}), json!(2.5), true),
        (json!({"multipleOf": 0.5}), json!(2.25), false),
        (json!({"uniqueItems": true}), json!([1, 2]), true),
        (json!({"uniqueItems": true}), json!([1, 1.0]), false),
        (json!({"format": "email"}), json!("a@b.c"), true),
        (json!({"format": "email"}), json!("nope"), false),
        (
            json!({"items": {"type": "string"}, "minItems": 1, "maxItems": 2}),
            json!(["a"]),
            true,
        ),
        (
            json!({"items": {"type": "string"}, "minItems": 1, "maxItems": 2}),
            json!([]),
            false,
        ),
        (json!({"items": {"type": "string"}}), json!(["a", 1]), false),
        (
            json!({"items": {"type": "array"}}),
            json!([[1, [2]], []]),
            true,
        ),
        (
            json!({"required": ["a", "z"], "properties": {"a": {}}}),
            json!({"a": 1, "z": 2}),
            true,
        ),
        (
            json!({"required": ["a", "z"], "properties": {"a": {}}}),
            json!({"a": 1}),
            false,
        ),
        (
            json!({"properties": {"a": {"type": "string"}}}),
            json!({"b": 1}),
            true,
        ),
        (
            json!({"properties": {"a": {"type": "string"}}}),
            json!({"a": 1}),
            false,
        ),
        (
            json!({"properties": {"a": {}}, "additionalProperties": false}),
            json!({"a": 1}),
            true,
        ),
        (
            json!({"properties": {"a": {}}, "additionalProperties": false}),
            json!({"b": 1}),
            false,
        ),
        (
            json!({"additionalProperties": {"type": "integer"}}),
            json!({"b": 1}),
            true,
        ),
        (
            json!({"additionalProperties": {"type": "integer"}}),
            json!({"b": "1"}),
            false,
        ),
        (
            json!({"minProperties": 1, "maxProperties": 1}),
            json!({"b": 1}),
            true,
        ),
        (
            json!({"minProperties": 1, "maxProperties": 1}),
            json!({}),
            false,
        ),
        (
            json!({"allOf": [{"type": "string"}, {"maxLength": 1}]}),
            json!("a"),
            true,
        ),
        (
            json!({"allOf": [{"type": "string"}, {"maxLength": 1}]}),
            json!("ab"),
            false,
        ),
        (
            json!({"anyOf": [{"type": "string"}, {"minimum": 3}]}),
            json!(4),
            true,
        ),
        (
            json!({"anyOf": [{"type": "string"}, {"minimum": 3}]}),
            json!(2),
            false,
        ),
        (
            json!({"$ref": "#/components/schemas/Node"}),
            json!({"next": {"v": 1}}),
            true,
        ),
        (
            json!({"$ref": "#/components/schemas/Node"}),
            json!({"next": {"v": "1"}}),
            false,
        ),
        (
            json!({"items": {"$ref": "#/components/schemas/Tag"}}),
            json!(["ab"]),
            true,
        ),
        (
            json!({"items": {"$ref": "#/components/schemas/Tag"}}),
            json!(["AB"]),
            false,
        ),
        (
            json!({"title": "t", "x-note": 1, "example": {"id": "x"}}),
            json!(1),
            true,
        ),
        (
            json!({"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"}),
            json!(1.0),
            false,
        ),
        (
            json!({"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"}),
            json!(7),
            true,
        ),
    ];
    for (schema, body, expected) in cases {
        let model = compiled(&schema);
        assert_eq!(accepts(&model, &body), Some(expected), "{schema} on {body}");
        assert_eq!(
            model.value.is_valid(&body),
            expected,
            "crate: {schema} on {body}"
        );
    }
}

/// Wide objects (their names sorted in the tape) are merged with the
/// model's properties: present, absent, extra, and long names that share
/// their first eight bytes.
#[test]
fn wide_objects_are_merged_by_name() {
    let mut properties = serde_json::Map::new();
    for i in 0..30 {
        properties.insert(format!("field{i:02}"), json!({"type": "integer"}));
    }
    properties.insert("longname_one".into(), json!({"type": "string"}));
    properties.insert("longname_two".into(), json!({"type": "integer"}));
    let required: Vec<String> = (0..30).map(|i| format!("field{i:02}")).collect();
    let model = compiled(&json!({"type": "object", "properties": properties,
        "required": required, "additionalProperties": false}));
    let mut body: serde_json::Map<String, Value> = (0..30)
        .map(|i| (format!("field{i:02}"), json!(i)))
        .collect();
    body.insert("longname_one".into(), json!("x"));
    assert_eq!(accepts(&model, &Value::Object(body.clone())), Some(true));
    let mut wrong = body.clone();
    wrong.insert("longname_one".into(), json!(1));
    assert_eq!(accepts(&model, &Value::Object(wrong)), Some(false));
    let mut extra = body.clone();
    extra.insert("longname_six".into(), json!(1));
    assert_eq!(accepts(&model, &Value::Object(extra)), Some(false));
    let mut missing = body.clone();
    missing.remove("field07");
    assert_eq!(accepts(&model, &Value::Object(missing)), Some(false));
    // The second of two names alike in their first eight bytes.
    let mut second = body.clone();
    second.remove("longname_one");
    second.insert("longname_two".into(), json!(2));
    assert_eq!(accepts(&model, &Value::Object(second.clone())), Some(true));
    second.insert("longname_two".into(), json!("2"));
    assert_eq!(accepts(&model, &Value::Object(second)), Some(false));
    // And in a small object, scanned rather than merged.
    let small = compiled(&json!({"additionalProperties": false, "properties": {
        "longname_one": {"type": "string"}, "longname_two": {"type": "integer"}}}));
    assert_eq!(accepts(&small, &json!({"longname_two": 2})), Some(true));
    assert_eq!(accepts(&small, &json!({"longname_two": "2"})), Some(false));
    assert_eq!(accepts(&small, &json!({"longname_one": "1"})), Some(true));
}

#[test]
fn models_beyond_the_plan_have_none() {
    for schema in [
        json!({"not": {"type": "string"}}),
        json!({"oneOf": [{"type": "string"}]}),
        json!({"patternProperties": {"^a": {}}}),
        json!({"dependencies": {"a": ["b"]}}),
        json!({"items": [{"type": "string"}]}),
        json!({"id": "http://example.com/x", "type": "string"}),
        json!({"$ref": "#/components/schemas/Tag", "maxLength": 2}),
        json!({"$ref": "#/components/schemas/Loop"}),
        json!({"$ref": "#/components/schemas/Ping"}),
        json!({"unknownKeyword": 1}),
        json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "integer"}),
    ] {
        assert!(compiled(&schema).plan.is_none(), "{schema}");
    }
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-20_i64..20).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-40_i32..40).prop_map(|n| json!(f64::from(n) / 4.0)),
        Just(json!(9_007_199_254_740_993_u64)),
        Just(json!(9_007_199_254_740_992.0)),
        "[a-c]{0,4}".prop_map(Value::from),
        "[a-zé🦀 A]{0,6}".prop_map(Value::from),
    ]
}

/// An object of 14 to 24 names: past the members scanned one by one, so
/// its names are sorted in the tape.
fn wide() -> impl Strategy<Value = Value> {
    let names: Vec<String> = (0..24).map(|i| format!("f{i}")).collect();
    // Values the wide model mostly accepts, so that whole objects pass.
    let value = prop_oneof![
        8 => (-20_i64..20).prop_map(Value::from),
        8 => "[a-c]{0,3}".prop_map(Value::from),
        4 => Just(Value::Null),
        1 => leaf(),
    ];
    prop::collection::btree_map(prop::sample::select(names), value, 14..24)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn body() -> impl Strategy<Value = Value> {
    prop_oneof![3 => nested(), 1 => wide()]
}

fn nested() -> impl Strategy<Value = Value> {
    let names = prop::sample::select(vec!["a", "b", "c", "n", "tags", "v", "next"]);
    leaf().prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(names.clone().prop_map(String::from), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            wide(),
        ]
    })
}

/// Random bodies: the plan never accepts what the crate refuses, and
/// accepts what it accepts (the cases it leaves to the crate, numbers
/// beyond 2^53 against bounds, are rare here).
#[test]
fn the_plan_accepts_only_what_the_crate_accepts() {
    let wide: serde_json::Map<String, Value> = (0..24)
        .map(|i| {
            (
                format!("f{i}"),
                json!({"type": ["integer", "string", "null"], "maxLength": 3}),
            )
        })
        .collect();
    let schemas = [
        json!({"type": ["object", "array", "integer", "string"], "minLength": 1,
               "pattern": "^[a-c]+$", "minimum": -10, "maximum": 10, "exclusiveMaximum": true,
               "items": {"type": ["integer", "number", "string"], "maxLength": 2}, "maxItems": 4,
               "properties": {"a": {"type": "integer"}, "b": {"enum": [null, "a", 1.5, true]}},
               "additionalProperties": {"type": ["string", "boolean", "null"]}}),
        json!({"type": "object", "properties": wide, "required": ["f1", "f2", "f3"],
               "additionalProperties": false, "minProperties": 15}),
        json!({"anyOf": [{"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                         {"$ref": "#/components/schemas/Node"}]}),
        json!({"items": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": u64::MAX},
                                   {"type": "number", "minimum": -1.5, "maximum": 1e10}]},
               "uniqueItems": true}),
    ];
    let models: Vec<_> = schemas.iter().map(compiled).collect();
    let tally = std::cell::RefCell::new(vec![(0_u32, 0_u32); models.len()]);
    let mut runner = TestRunner::new(Config {
        cases: 3000,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&body(), |body| {
        for (i, model) in models.iter().enumerate() {
            let valid = model.value.is_valid(&body);
            let accepted = accepts(model, &body).expect("the model has a plan");
            prop_assert!(!accepted || valid, "{} accepted {}", schemas[i], body);
            if valid {
                let mut tally = tally.borrow_mut();
                tally[i].0 += 1;
                tally[i].1 += u32::from(accepted);
            }
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    for (i, (valid, accepted)) in tally.into_inner().iter().enumerate() {
        assert!(*valid >= 50, "{}: only {valid} valid bodies", schemas[i]);
        assert!(
            f64::from(*accepted) >= 0.95 * f64::from(*valid),
            "{}: accepted {accepted} of {valid} valid bodies",
            schemas[i]
        );
    }
}

#[test]
fn plans_are_not_made_for_pointers_the_crate_resolves_differently() {
    let root =
        json!({"definitions": {"a b": {"type": "string"}, "x": {"id": "y", "type": "string"}}});
    assert!(Plan::compile(&root, &json!({"$ref": "#/definitions/a%20b"})).is_none());
    assert!(Plan::compile(&root, &json!({"$ref": "#/definitions/x"})).is_none());
    assert!(Plan::compile(&root, &json!({"$ref": "#"})).is_none());
    assert!(Plan::compile(&root, &json!({"$ref": "#x"})).is_none());
    assert!(Plan::compile(&root, &json!({"$ref": "other.json#/x"})).is_none());
}

/// Two `anyOf` branches that both read a nested body to its end and fail
/// there: read naively, 2^depth checks. The plan stops within its budget,
/// linear in the body, and leaves the body to the crate (which refuses it
/// promptly).
#[test]
fn branches_that_reread_a_deep_body_stop_within_the_budget() {
    let model = compiled(&json!({"$ref": "#/components/schemas/Either"}));
    let plan = model.plan.as_ref().expect("a plan");
    for (depth, spent) in [(4, false), (60, true)] {
        let mut body = json!({"v": null});
        for _ in 0..depth {
            body = json!({"next": body});
        }
        let bytes = serde_json::to_vec(&body).unwrap();
        let parsed = ParsedBody::parse(&bytes).unwrap();
        let Parsed::Tape { tape, .. } = &parsed.0 else {
            panic!("a tape");
        };
        let run = Run::new(tape, bytes.len());
        assert!(!plan.run(&run), "depth {depth}");
        assert_eq!(run.exhausted(), spent, "depth {depth}");
        assert!(!model.value.is_valid(&body));
    }
}
