//! The cost of a request validator on one request: a 10 KB JSON body parsed
//! and checked against a compiled 30-property model (and each half: the
//! parse into the validator's tape, the check of a parsed body), against
//! the floor of authorizing that request (one RSA-2048 PKCS#1 v1.5 SHA-256 verification
//! with a pre-parsed key). The budget is at most 0.1x, measured as a paired
//! ratio (both sides alternated within milliseconds, the median of the
//! rounds: benches/common/paired.rs), recorded for scripts/bench-report.py.
//! The check of the parsed body is the model's cost; parsing is
//! serde_json's (BENCHMARKS.md).

use std::hint::black_box;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Map, Value};
use tower_cognito::testing::TestIssuer;
use tower_cognito_gateway::validation::{Models, ParsedBody, RequestValidator};

#[allow(dead_code)] // the library's benches use more of it
#[path = "../../benches/common/paired.rs"]
mod paired;

/// An export whose POST /orders has a 30-property model, and a body of
/// about 10 KB that matches it.
fn export_and_body() -> (Value, Vec<u8>) {
    let mut properties = Map::new();
    let mut body = Map::new();
    for i in 0..30 {
        let (schema, value) = match i % 5 {
            0 => (
                json!({"type": "string", "pattern": "^[a-z0-9 ]+$", "maxLength": 1000}),
                json!("lorem ipsum dolor sit amet ".repeat(30).trim_end()),
            ),
            1 => (
                json!({"type": "integer", "minimum": 0, "maximum": 1_000_000}),
                json!(i * 1000),
            ),
            2 => (
                json!({"type": "string", "enum": ["new", "paid", "shipped", "done"]}),
                json!("paid"),
            ),
            3 => (
                json!({"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 50}),
                json!((0..40).map(|j| format!("item-{j:04}")).collect::<Vec<_>>()),
            ),
            _ => (
                json!({"type": "object", "required": ["a", "b"],
                       "properties": {"a": {"type": "number"}, "b": {"type": "boolean"}}}),
                json!({"a": 1.5, "b": true}),
            ),
        };
        properties.insert(format!("field{i:02}"), schema);
        body.insert(format!("field{i:02}"), value);
    }
    let required: Vec<String> = (0..30).map(|i| format!("field{i:02}")).collect();
    let export = json!({
        "openapi": "3.0.1",
        "x-amazon-apigateway-request-validators": {"body": {"validateRequestBody": true}},
        "paths": {"/orders": {"post": {
            "x-amazon-apigateway-request-validator": "body",
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}}
        }}},
        "components": {"schemas": {"Order": {"type": "object", "required": required, "properties": properties}}}
    });
    let body = serde_json::to_vec_pretty(&Value::Object(body)).unwrap();
    (export, body)
}

fn bench(c: &mut Criterion) {
    let (export, body) = export_and_body();
    assert!(
        (9_000..12_000).contains(&body.len()),
        "{} bytes",
        body.len()
    );
    let mut models = Models::new(&export);
    let validator = RequestValidator::for_operation(&mut models, "/paths/~1orders/post", "/orders")
        .unwrap()
        .unwrap();
    validator.check_body(None, &body).expect("the body matches");

    let issuer = TestIssuer::new("us-east-1_BenchPool1");
    let token = issuer.id_token().sign();
    let (input, sig_b64) = token.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig_b64).unwrap();
    let jwk = issuer.jwk();
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
    let key = aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e }
        .to_parsed_public_key(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256)
        .unwrap();

    let mut group = c.benchmark_group("validation");
    group.bench_function("floor_rsa_verify", |b| {
        b.iter(|| {
            key.verify_sig(black_box(input.as_bytes()), black_box(&sig))
                .unwrap()
        })
    });
    group.bench_function("body_10k_30_properties", |b| {
        b.iter(|| validator.check_body(None, black_box(&body)).unwrap())
    });
    // The two parts of that cost, for the breakdown in BENCHMARKS.md.
    group.bench_function("parse_only_10k", |b| {
        b.iter(|| ParsedBody::parse(black_box(&body)).unwrap())
    });
    let parsed = ParsedBody::parse(&body).unwrap();
    group.bench_function("validate_parsed_30_properties", |b| {
        b.iter(|| validator.check_parsed(None, black_box(&parsed)).unwrap())
    });
    // The same through a `serde_json::Value`, as before the tape.
    group.bench_function("parse_value_10k", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&body)).unwrap())
    });
    let value: Value = serde_json::from_slice(&body).unwrap();
    group.bench_function("validate_value_30_properties", |b| {
        b.iter(|| validator.check_value(black_box(&value)).unwrap())
    });
    group.finish();

    paired::ratio(
        "validate_parsed_30_properties_vs_floor",
        &mut |n| paired::looped(n, || validator.check_parsed(None, &parsed).unwrap()),
        &mut |n| paired::looped(n, || key.verify_sig(input.as_bytes(), &sig).unwrap()),
    );
    paired::ratio(
        "validation_10k_30_properties_vs_floor",
        &mut |n| paired::looped(n, || validator.check_body(None, &body).unwrap()),
        &mut |n| paired::looped(n, || key.verify_sig(input.as_bytes(), &sig).unwrap()),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
