//! Property tests: arbitrary header values and token-shaped strings never
//! panic and never pass; any single-byte change to a valid token makes it fail.
//! Failing inputs are reported by length and position, never as token text.

mod common;

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use common::*;
use http::{HeaderName, HeaderValue};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::fmt;
use std::sync::OnceLock;
use tower_cognito::testing::TestIssuer;
use tower_cognito::CognitoAuthLayer;

struct Setup {
    rt: tokio::runtime::Runtime,
    issuer: TestIssuer,
    identity: CognitoAuthLayer,
    scoped: CognitoAuthLayer,
    /// A valid ID token for `identity`.
    token: String,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let issuer = TestIssuer::new(POOL);
        let (identity, scoped) = rt.block_on(async {
            let base = || seeded(&issuer);
            (
                base().build().unwrap(),
                base().scopes(["pets/read"]).build().unwrap(),
            )
        });
        let token = issuer.id_token().sign();
        Setup {
            rt,
            issuer,
            identity,
            scoped,
            token,
        }
    })
}

/// Bytes that may hold token material: shown by length only.
#[derive(Clone)]
struct Redacted(Vec<u8>);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0.len())
    }
}

/// Sends `value` as the Authorization header through both layers; asserts a
/// rejection that never reached the inner service.
fn assert_refused(value: &[u8]) -> Result<(), TestCaseError> {
    let s = setup();
    let Ok(value) = HeaderValue::from_bytes(value) else {
        // Not a header value at all: no request can carry it.
        return Ok(());
    };
    for layer in [&s.identity, &s.scoped] {
        let headers: Vec<(HeaderName, HeaderValue)> =
            vec![(http::header::AUTHORIZATION, value.clone())];
        let out = s.rt.block_on(send_values(layer, headers));
        prop_assert!(out.error.is_some(), "passed with status {}", out.status);
        prop_assert!(out.claims.is_none());
        prop_assert!(out.status == 401 || out.status == 500, "{}", out.status);
    }
    Ok(())
}

/// Any bytes, with those no header value can hold mapped to `.` (which also
/// makes segment separators common).
fn header_bytes() -> impl Strategy<Value = Redacted> {
    proptest::collection::vec(any::<u8>(), 0..1200).prop_map(|bytes| {
        Redacted(
            bytes
                .into_iter()
                .map(|b| {
                    if (b < 0x20 && b != b'\t') || b == 0x7f {
                        b'.'
                    } else {
                        b
                    }
                })
                .collect(),
        )
    })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Token-shaped strings: JOSE headers and claims close to the real ones, with
/// any of their members replaced, in various encodings, with a signature nobody
/// made.
fn token_strings() -> impl Strategy<Value = Redacted> {
    let s = setup();
    let kid = s.issuer.key_id().to_owned();
    let iss = s.issuer.issuer().to_owned();
    let header = (
        prop_oneof![
            Just(json!("RS256")),
            Just(json!("none")),
            Just(json!("HS256")),
            json_value()
        ],
        prop_oneof![Just(json!(kid)), Just(Value::Null), json_value()],
        proptest::option::of((
            prop_oneof![
                Just("jku"),
                Just("jwk"),
                Just("x5c"),
                Just("crit"),
                Just("typ")
            ],
            json_value(),
        )),
    )
        .prop_map(|(alg, kid, extra)| {
            let mut h = json!({"alg": alg, "kid": kid});
            if let Some((k, v)) = extra {
                h[k] = v;
            }
            h.to_string()
        });
    let claims = (
        prop_oneof![Just(json!(iss)), json_value()],
        prop_oneof![Just(json!(4_000_000_000i64)), json_value()],
        prop_oneof![Just(json!("id")), Just(json!("access")), json_value()],
        proptest::collection::btree_map(".{0,8}", json_value(), 0..3),
    )
        .prop_map(|(iss, exp, token_use, extra)| {
            let mut c = serde_json::Map::new();
            for (k, v) in extra {
                c.insert(k, v);
            }
            c.insert("iss".into(), iss);
            c.insert("exp".into(), exp);
            c.insert("token_use".into(), token_use);
            Value::Object(c).to_string()
        });
    let signature = proptest::collection::vec(any::<u8>(), 0..600);
    (header, claims, signature, 0..4u8, any::<bool>()).prop_map(
        |(header, claims, sig, encoding, bearer)| {
            let enc = |b: &[u8]| match encoding {
                0 | 1 => URL_SAFE_NO_PAD.encode(b),
                2 => URL_SAFE.encode(b),
                _ => STANDARD.encode(b),
            };
            let mut t = if bearer {
                "Bearer ".to_owned()
            } else {
                String::new()
            };
            t.push_str(&format!(
                "{}.{}.{}",
                enc(header.as_bytes()),
                enc(claims.as_bytes()),
                enc(&sig)
            ));
            Redacted(t.into_bytes())
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_header_values_never_pass(value in header_bytes()) {
        assert_refused(&value.0)?;
    }

    #[test]
    fn arbitrary_token_strings_never_pass(token in token_strings()) {
        assert_refused(&token.0)?;
    }

    #[test]
    fn changing_any_byte_of_a_valid_token_makes_it_fail(
        index in 0..setup().token.len(),
        byte in any::<u8>(),
    ) {
        let mut t = setup().token.clone().into_bytes();
        prop_assume!(t[index] != byte);
        t[index] = byte;
        assert_refused(&t)?;
    }

    #[test]
    fn inserting_or_deleting_any_byte_makes_it_fail(
        index in 0..=setup().token.len(),
        byte in proptest::option::of(any::<u8>()),
    ) {
        let mut t = setup().token.clone().into_bytes();
        match byte {
            Some(b) => t.insert(index, b),
            None => {
                prop_assume!(index < t.len());
                t.remove(index);
            }
        }
        assert_refused(&t)?;
    }
}

#[test]
fn the_unmutated_token_passes() {
    // The control for the mutation properties: the token they start from is valid.
    let s = setup();
    let out = s.rt.block_on(send_token(&s.identity, &s.token));
    assert_eq!(out.status, 200, "{:?}", out.error);
    assert!(out.claims.is_some());
}
