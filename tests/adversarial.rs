//! The adversarial corpus: forged and malformed requests, table-driven. Each
//! case must get exactly its API Gateway rejection (status, body, error type and
//! `RejectionKind`) and never reach the inner service, while valid controls sent
//! through the same layers in the same test pass.
//!
//! Forgeries are realistic where they can be: HMAC tags keyed with the pool's
//! public key in every common encoding, RS384/RS512/PS256 signatures made with a
//! key the pool really publishes, ECDSA P-256 signatures, key material in the
//! header pointing at a live loopback server that must never be asked.

mod common;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _, RsaEncoding};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use common::*;
use http::{HeaderName, HeaderValue};
use serde_json::{json, Map, Value};
use std::time::{SystemTime, UNIX_EPOCH};
use tower_cognito::testing::TestIssuer;
use tower_cognito::{CognitoAuthBuilder, CognitoAuthLayer, RejectionKind};

const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;
const EXPIRED: &str = r#"{"message":"The incoming token has expired"}"#;
const CONFIGURATION: &str = r#"{"message":null}"#;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An RSA key of our own, for signatures the test issuer cannot make (RS384,
/// RS512, PS256). `published` keys go into the pool's JWKS; others are an
/// attacker's.
struct RsaKey {
    pair: KeyPair,
    kid: String,
}

impl RsaKey {
    fn new(kid: &str) -> Self {
        Self {
            pair: KeyPair::generate(KeySize::Rsa2048).unwrap(),
            kid: kid.to_owned(),
        }
    }

    fn n(&self) -> Vec<u8> {
        self.pair
            .public_key()
            .modulus()
            .big_endian_without_leading_zero()
            .to_vec()
    }

    fn e(&self) -> Vec<u8> {
        self.pair
            .public_key()
            .exponent()
            .big_endian_without_leading_zero()
            .to_vec()
    }

    fn jwk(&self) -> Value {
        json!({"alg": "RS256", "e": b64(self.e()), "kid": self.kid, "kty": "RSA", "n": b64(self.n()), "use": "sig"})
    }

    fn sign_with(&self, encoding: &'static dyn RsaEncoding, input: &str) -> String {
        let mut sig = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(encoding, &SystemRandom::new(), input.as_bytes(), &mut sig)
            .unwrap();
        format!("{input}.{}", b64(sig))
    }
}

// ---- DER and PEM of an RSA public key, for HMAC key-confusion secrets -------

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    if v.first().is_some_and(|b| b & 0x80 != 0) {
        v.insert(0, 0);
    }
    der(0x02, &v)
}

/// PKCS#1 `RSAPublicKey`.
fn pkcs1_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    der(0x30, &[der_uint(n), der_uint(e)].concat())
}

/// X.509 `SubjectPublicKeyInfo` with rsaEncryption.
fn spki_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    let oid = der(
        0x06,
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
    );
    let alg = der(0x30, &[oid, vec![0x05, 0x00]].concat());
    let mut bits = vec![0u8];
    bits.extend(pkcs1_der(n, e));
    der(0x30, &[alg, der(0x03, &bits)].concat())
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn hmac_token(alg: hmac::Algorithm, secret: &[u8], input: &str) -> String {
    let key = hmac::Key::new(alg, secret);
    format!("{input}.{}", b64(hmac::sign(&key, input.as_bytes())))
}

// ---- The corpus -------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum On {
    /// Route without scopes (ID tokens), default 8 KiB cap.
    Identity,
    /// Route with scopes `pets/read`, `pets/write`.
    Scoped,
    /// Route without scopes, token cap raised to 2 MiB so that huge tokens
    /// reach the parser.
    Big,
}

struct Case {
    name: String,
    on: On,
    headers: Vec<(HeaderName, HeaderValue)>,
    expect: RejectionKind,
}

fn auth(value: impl AsRef<[u8]>) -> Vec<(HeaderName, HeaderValue)> {
    vec![(
        http::header::AUTHORIZATION,
        HeaderValue::from_bytes(value.as_ref()).expect("a valid header value"),
    )]
}

/// What SPEC §4 says a rejection of this kind looks like: status, body,
/// `x-amzn-ErrorType`.
fn gateway_response(kind: RejectionKind) -> (u16, &'static str, &'static str) {
    match kind {
        RejectionKind::Expired => (401, EXPIRED, "UnauthorizedException"),
        RejectionKind::KeysUnavailable => (500, CONFIGURATION, "AuthorizerConfigurationException"),
        _ => (401, UNAUTHORIZED, "UnauthorizedException"),
    }
}

struct Fixture {
    issuer: TestIssuer,
    /// Published in the pool's JWKS next to the issuer's key.
    published: RsaKey,
    /// Not published: an attacker's key.
    attacker: RsaKey,
    /// Same kid as the issuer's key, different key.
    impostor: TestIssuer,
    identity: CognitoAuthLayer,
    scoped: CognitoAuthLayer,
    big: CognitoAuthLayer,
    /// A live server holding the attacker's JWKS, for `jku`/`x5u`.
    evil: JwksServer,
}

fn fixture() -> Fixture {
    let issuer = TestIssuer::new(POOL);
    let published = RsaKey::new("published-2");
    let attacker = RsaKey::new("attacker-1");
    let impostor = TestIssuer::new(POOL).kid(issuer.key_id());
    let jwks = json!({"keys": [issuer.jwk(), published.jwk()]}).to_string();
    // POOL2 is configured but never has keys: its JWKS endpoint is a closed
    // loopback port.
    let base = || -> CognitoAuthBuilder {
        CognitoAuthLayer::builder()
            .user_pools([POOL, POOL2])
            .jwks_endpoint("http://127.0.0.1:1")
            .jwks(POOL, jwks.clone())
    };
    let evil = JwksServer::start();
    evil.set_jwks(POOL, json!({"keys": [attacker.jwk()]}).to_string());
    Fixture {
        identity: base().build().unwrap(),
        scoped: base().scopes(["pets/read", "pets/write"]).build().unwrap(),
        big: base().max_token_len(2 << 20).build().unwrap(),
        issuer,
        published,
        attacker,
        impostor,
        evil,
    }
}

impl Fixture {
    fn layer(&self, on: On) -> &CognitoAuthLayer {
        match on {
            On::Identity => &self.identity,
            On::Scoped => &self.scoped,
            On::Big => &self.big,
        }
    }

    fn id_claims(&self) -> Map<String, Value> {
        self.issuer.id_token().claims().clone()
    }

    fn header(&self) -> Value {
        json!({"kid": self.issuer.key_id(), "alg": "RS256"})
    }

    /// `b64(header).b64(payload)` from texts as given.
    fn input(header: &str, payload: &str) -> String {
        format!("{}.{}", b64(header), b64(payload))
    }

    /// A valid ID token's signing input with the standard header.
    fn id_input(&self) -> String {
        Self::input(
            &self.header().to_string(),
            &Value::Object(self.id_claims()).to_string(),
        )
    }

    /// Signed by the pool's real key over exactly this header and payload text.
    fn signed_text(&self, header: &str, payload: &str) -> String {
        self.issuer.sign_input(Self::input(header, payload))
    }

    /// Signed by the pool's real key with the standard header and these claims.
    fn signed_claims(&self, claims: &Map<String, Value>) -> String {
        self.issuer
            .sign_raw(&self.header(), &Value::Object(claims.clone()))
    }

    fn id_with(&self, key: &str, value: Value) -> String {
        let mut c = self.id_claims();
        c.insert(key.into(), value);
        self.signed_claims(&c)
    }

    fn id_without(&self, key: &str) -> String {
        let mut c = self.id_claims();
        c.remove(key);
        self.signed_claims(&c)
    }

    /// The ID token's payload as text, with the members named removed, ready
    /// for more members to be appended by hand: `{"a":1,...` without the `}`.
    fn payload_prefix(&self, without: &[&str]) -> String {
        let mut c = self.id_claims();
        for k in without {
            c.remove(*k);
        }
        let text = Value::Object(c).to_string();
        text[..text.len() - 1].to_owned()
    }
}

fn split(token: &str) -> (String, String, String) {
    let mut it = token.split('.');
    let parts = (
        it.next().unwrap().to_owned(),
        it.next().unwrap().to_owned(),
        it.next().unwrap().to_owned(),
    );
    assert!(it.next().is_none());
    parts
}

/// Replaces the last character of a base64url segment (whose length is not a
/// multiple of 4) by one that decodes to the same bytes only if the unused
/// trailing bits are ignored.
fn set_trailing_bits(segment: &str) -> String {
    assert_ne!(segment.len() % 4, 0);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = *segment.as_bytes().last().unwrap();
    let v = ALPHABET.iter().position(|&c| c == last).unwrap();
    assert_eq!(v & 1, 0, "a canonical final symbol has its low bit clear");
    let mut out = segment[..segment.len() - 1].to_owned();
    out.push(ALPHABET[v | 1] as char);
    out
}

fn nested_arrays(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn nested_objects(depth: usize) -> String {
    format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
}

fn corpus(f: &Fixture) -> Vec<Case> {
    use RejectionKind::*;
    let i = &f.issuer;
    let now = now();
    let mut cases: Vec<Case> = Vec::new();
    let mut add = |name: &str, on: On, headers: Vec<(HeaderName, HeaderValue)>, expect| {
        cases.push(Case {
            name: name.to_owned(),
            on,
            headers,
            expect,
        })
    };
    let kid = i.key_id();
    let claims_text = Value::Object(f.id_claims()).to_string();
    let good = i.id_token().sign();
    let (gh, gp, gs) = split(&good);
    let sig_bytes = URL_SAFE_NO_PAD.decode(&gs).unwrap();

    // -- alg: none ------------------------------------------------------------
    let none = format!(r#"{{"alg":"none","kid":"{kid}"}}"#);
    add(
        "alg none, empty signature",
        On::Identity,
        auth(format!("{}.", Fixture::input(&none, &claims_text))),
        MalformedToken,
    );
    add(
        "alg none, no signature segment",
        On::Identity,
        auth(Fixture::input(&none, &claims_text)),
        MalformedToken,
    );
    for alg in ["none", "None", "NONE", "nOnE", ""] {
        let header = format!(r#"{{"alg":"{alg}","kid":"{kid}"}}"#);
        add(
            &format!("alg {alg:?} with a real RS256 signature"),
            On::Identity,
            auth(f.signed_text(&header, &claims_text)),
            UnsupportedHeader,
        );
    }

    // -- HMAC keyed with the public key (algorithm confusion) --------------------
    let (n, e) = {
        let jwk = i.jwk();
        (
            URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap(),
            URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap(),
        )
    };
    let spki = spki_der(&n, &e);
    let pkcs1 = pkcs1_der(&n, &e);
    let secrets: Vec<(&str, Vec<u8>)> = vec![
        ("SPKI PEM", pem("PUBLIC KEY", &spki).into_bytes()),
        (
            "SPKI PEM without final newline",
            pem("PUBLIC KEY", &spki).trim_end().as_bytes().to_vec(),
        ),
        ("PKCS#1 PEM", pem("RSA PUBLIC KEY", &pkcs1).into_bytes()),
        ("SPKI DER", spki.clone()),
        ("PKCS#1 DER", pkcs1),
        ("modulus bytes", n.clone()),
        ("JWK text", i.jwk().to_string().into_bytes()),
        ("JWKS text", i.jwks().into_bytes()),
    ];
    for (what, secret) in &secrets {
        for (alg_name, alg) in [
            ("HS256", hmac::HMAC_SHA256),
            ("HS384", hmac::HMAC_SHA384),
            ("HS512", hmac::HMAC_SHA512),
        ] {
            let header = format!(r#"{{"alg":"{alg_name}","kid":"{kid}"}}"#);
            add(
                &format!("{alg_name} keyed with the {what}"),
                On::Identity,
                auth(hmac_token(
                    alg,
                    secret,
                    &Fixture::input(&header, &claims_text),
                )),
                UnsupportedHeader,
            );
        }
        // The same tag under a header that claims RS256.
        add(
            &format!("HS256 tag keyed with the {what}, header says RS256"),
            On::Identity,
            auth(hmac_token(hmac::HMAC_SHA256, secret, &f.id_input())),
            InvalidSignature,
        );
    }

    // -- other algorithms, signed by a key the pool really publishes -------------
    let p = &f.published;
    let rsa_algs: [(&str, &'static dyn RsaEncoding); 5] = [
        ("RS384", &signature::RSA_PKCS1_SHA384),
        ("RS512", &signature::RSA_PKCS1_SHA512),
        ("PS256", &signature::RSA_PSS_SHA256),
        ("PS384", &signature::RSA_PSS_SHA384),
        ("PS512", &signature::RSA_PSS_SHA512),
    ];
    for (alg, encoding) in rsa_algs {
        let header = format!(r#"{{"alg":"{alg}","kid":"{}"}}"#, p.kid);
        add(
            &format!("{alg} signed by a published key"),
            On::Identity,
            auth(p.sign_with(encoding, &Fixture::input(&header, &claims_text))),
            UnsupportedHeader,
        );
        let header = format!(r#"{{"alg":"RS256","kid":"{}"}}"#, p.kid);
        add(
            &format!("{alg} signature by a published key, header says RS256"),
            On::Identity,
            auth(p.sign_with(encoding, &Fixture::input(&header, &claims_text))),
            InvalidSignature,
        );
    }
    let ec = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    for (alg, what, expect) in [
        (
            "ES256",
            "ES256 by an attacker's P-256 key",
            UnsupportedHeader,
        ),
        (
            "RS256",
            "ES256 signature, header says RS256",
            InvalidSignature,
        ),
    ] {
        let input = Fixture::input(&format!(r#"{{"alg":"{alg}","kid":"{kid}"}}"#), &claims_text);
        let sig = ec.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        add(
            what,
            On::Identity,
            auth(format!("{input}.{}", b64(sig))),
            expect,
        );
    }
    for alg in ["rs256", "RS256 ", " RS256", "RS256\u{0000}", "Rs256"] {
        let header = json!({"alg": alg, "kid": kid}).to_string();
        add(
            &format!("alg {alg:?}"),
            On::Identity,
            auth(f.signed_text(&header, &claims_text)),
            UnsupportedHeader,
        );
    }
    for (what, header) in [
        ("alg missing", format!(r#"{{"kid":"{kid}"}}"#)),
        ("alg null", format!(r#"{{"alg":null,"kid":"{kid}"}}"#)),
        (
            "alg an array",
            format!(r#"{{"alg":["RS256"],"kid":"{kid}"}}"#),
        ),
        (
            "alg twice (none, RS256)",
            format!(r#"{{"alg":"none","alg":"RS256","kid":"{kid}"}}"#),
        ),
        (
            "alg twice (RS256, none)",
            format!(r#"{{"alg":"RS256","alg":"none","kid":"{kid}"}}"#),
        ),
        (
            "alg twice, second escaped",
            format!(r#"{{"alg":"none","\u0061lg":"RS256","kid":"{kid}"}}"#),
        ),
        ("header an array", r#"["RS256"]"#.to_owned()),
        ("header a string", r#""RS256""#.to_owned()),
        ("header null", "null".to_owned()),
        ("header empty", String::new()),
    ] {
        add(
            what,
            On::Identity,
            auth(f.signed_text(&header, &claims_text)),
            MalformedToken,
        );
    }

    // -- kid ----------------------------------------------------------------------
    let kid_cases: Vec<(&str, Value, RejectionKind)> = vec![
        ("kid missing", Value::Null, MissingKeyId),
        ("kid empty", json!(""), MissingKeyId),
        ("kid unknown", json!("not-a-key"), UnknownKeyId),
        ("kid very long", json!("k".repeat(4000)), UnknownKeyId),
        (
            "kid differing in case",
            json!(kid.to_uppercase()),
            UnknownKeyId,
        ),
        (
            "kid with a trailing space",
            json!(format!("{kid} ")),
            UnknownKeyId,
        ),
        (
            "kid with a NUL",
            json!(format!("{kid}\u{0000}")),
            UnknownKeyId,
        ),
        ("kid a path", json!(format!("../{kid}")), UnknownKeyId),
        ("kid a number", json!(5), MalformedToken),
        ("kid an array", json!([kid]), MalformedToken),
        ("kid an object", json!({"kid": kid}), MalformedToken),
        ("kid a boolean", json!(true), MalformedToken),
    ];
    for (what, value, expect) in kid_cases {
        let mut header = json!({"alg": "RS256"});
        if what != "kid missing" {
            header["kid"] = value;
        }
        add(
            what,
            On::Identity,
            auth(f.signed_text(&header.to_string(), &claims_text)),
            expect,
        );
    }
    add(
        "kid null",
        On::Identity,
        auth(f.signed_text(r#"{"alg":"RS256","kid":null}"#, &claims_text)),
        MissingKeyId,
    );
    add(
        "kid twice",
        On::Identity,
        auth(f.signed_text(
            &format!(
                r#"{{"alg":"RS256","kid":"{}","kid":"{kid}"}}"#,
                f.attacker.kid
            ),
            &claims_text,
        )),
        MalformedToken,
    );
    add(
        "kid of 200,000 characters",
        On::Big,
        auth(f.signed_text(
            &json!({"alg": "RS256", "kid": "k".repeat(200_000)}).to_string(),
            &claims_text,
        )),
        UnknownKeyId,
    );

    // -- key material named in the header --------------------------------------
    let a = &f.attacker;
    let evil_jwks = format!("{}/{POOL}/.well-known/jwks.json", f.evil.base_url());
    let material: Vec<(&str, Value)> = vec![
        ("jwk embedding the attacker's key", json!({"jwk": a.jwk()})),
        (
            "jku pointing at the attacker's JWKS",
            json!({"jku": evil_jwks}),
        ),
        (
            "x5u pointing at the attacker's server",
            json!({"x5u": evil_jwks}),
        ),
        (
            "x5c carrying a certificate",
            json!({"x5c": [STANDARD.encode(spki_der(&a.n(), &a.e()))]}),
        ),
        ("jku an empty string", json!({"jku": ""})),
        ("crit naming exp", json!({"crit": ["exp"]})),
        ("crit empty", json!({"crit": []})),
        ("crit a string", json!({"crit": "b64", "b64": false})),
    ];
    for (what, extra) in material {
        for (signer, kid_used) in [
            ("attacker-signed", a.kid.as_str()),
            ("attacker-signed, real kid", kid),
        ] {
            let mut header = json!({"alg": "RS256", "kid": kid_used});
            for (k, v) in extra.as_object().unwrap() {
                header[k] = v.clone();
            }
            let input = Fixture::input(&header.to_string(), &claims_text);
            add(
                &format!("{what} ({signer})"),
                On::Identity,
                auth(a.sign_with(&signature::RSA_PKCS1_SHA256, &input)),
                UnsupportedHeader,
            );
        }
    }

    // -- signature -------------------------------------------------------------------
    let with_sig = |sig: &[u8]| format!("{gh}.{gp}.{}", b64(sig));
    add(
        "signature removed",
        On::Identity,
        auth(format!("{gh}.{gp}")),
        MalformedToken,
    );
    add(
        "signature empty",
        On::Identity,
        auth(format!("{gh}.{gp}.")),
        MalformedToken,
    );
    add(
        "signature truncated by one character",
        On::Identity,
        auth(&good[..good.len() - 1]),
        MalformedToken,
    );
    add(
        "signature truncated by one byte",
        On::Identity,
        auth(with_sig(&sig_bytes[..255])),
        InvalidSignature,
    );
    add(
        "signature truncated to 32 bytes",
        On::Identity,
        auth(with_sig(&sig_bytes[..32])),
        InvalidSignature,
    );
    for (what, index) in [("first", 0usize), ("middle", 128), ("last", 255)] {
        let mut s = sig_bytes.clone();
        s[index] ^= 1;
        add(
            &format!("signature with its {what} byte flipped"),
            On::Identity,
            auth(with_sig(&s)),
            InvalidSignature,
        );
    }
    add(
        "signature all zeros",
        On::Identity,
        auth(with_sig(&[0; 256])),
        InvalidSignature,
    );
    add(
        "signature all ones",
        On::Identity,
        auth(with_sig(&[0xff; 256])),
        InvalidSignature,
    );
    add(
        "signature equal to the modulus",
        On::Identity,
        auth(with_sig(&n)),
        InvalidSignature,
    );
    add(
        "signature with a leading zero byte",
        On::Identity,
        auth(with_sig(&[&[0u8][..], &sig_bytes].concat())),
        InvalidSignature,
    );
    add(
        "signature of 1024 bytes",
        On::Identity,
        auth(with_sig(&[1; 1024])),
        InvalidSignature,
    );
    add(
        "signature of 1025 bytes",
        On::Identity,
        auth(with_sig(&[1; 1025])),
        MalformedToken,
    );
    add(
        "signature by another key with the same kid",
        On::Identity,
        auth(f.impostor.id_token().sign()),
        InvalidSignature,
    );
    add(
        "signature by the attacker's key with the real kid",
        On::Identity,
        auth(a.sign_with(&signature::RSA_PKCS1_SHA256, &f.id_input())),
        InvalidSignature,
    );
    add(
        "signature by the other published key under this kid",
        On::Identity,
        auth(p.sign_with(&signature::RSA_PKCS1_SHA256, &f.id_input())),
        InvalidSignature,
    );
    let other = i.id_token().claim("cognito:username", "mallory").sign();
    let (_, _, other_sig) = split(&other);
    add(
        "signature moved from another valid token",
        On::Identity,
        auth(format!("{gh}.{gp}.{other_sig}")),
        InvalidSignature,
    );
    add(
        "a fourth segment",
        On::Identity,
        auth(format!("{good}.{gs}")),
        MalformedToken,
    );
    add(
        "a trailing dot",
        On::Identity,
        auth(format!("{good}.")),
        MalformedToken,
    );
    add(
        "a leading dot",
        On::Identity,
        auth(format!(".{good}")),
        MalformedToken,
    );
    add(
        "header segment empty",
        On::Identity,
        auth(format!(".{gp}.{gs}")),
        MalformedToken,
    );
    add(
        "payload segment empty",
        On::Identity,
        auth(format!("{gh}..{gs}")),
        MalformedToken,
    );
    add("only dots", On::Identity, auth(".."), MalformedToken);

    // -- token_use ----------------------------------------------------------------------
    add(
        "access token on a route without scopes",
        On::Identity,
        auth(i.access_token().sign()),
        WrongTokenUse,
    );
    add(
        "ID token carrying the scope on a route with scopes",
        On::Scoped,
        auth(i.id_token().claim("scope", "pets/read").sign()),
        WrongTokenUse,
    );
    for (what, value) in [
        ("token_use \"ID\"", json!("ID")),
        ("token_use \"id \"", json!("id ")),
        ("token_use refresh", json!("refresh")),
        ("token_use an array", json!(["id"])),
        ("token_use null", Value::Null),
    ] {
        add(
            what,
            On::Identity,
            auth(f.id_with("token_use", value)),
            InvalidClaims,
        );
    }
    add(
        "token_use missing",
        On::Identity,
        auth(f.id_without("token_use")),
        InvalidClaims,
    );

    // -- iss ------------------------------------------------------------------------------
    let iss = i.issuer().to_owned();
    for (what, value) in [
        (
            "iss of an unconfigured pool",
            json!(issuer_of("us-west-2_Unknown1")),
        ),
        ("iss with a trailing slash", json!(format!("{iss}/"))),
        ("iss over http", json!(iss.replace("https://", "http://"))),
        ("iss in upper case", json!(iss.to_uppercase())),
        (
            "iss with the pool ID in lower case",
            json!(iss.replace(POOL, &POOL.to_lowercase())),
        ),
        ("iss with a trailing space", json!(format!("{iss} "))),
        ("iss with a NUL", json!(format!("{iss}\u{0000}"))),
        ("iss with a query", json!(format!("{iss}?x=1"))),
        ("iss an array", json!([iss])),
        ("iss null", Value::Null),
        ("iss the bare pool ID", json!(POOL)),
    ] {
        add(
            what,
            On::Identity,
            auth(f.id_with("iss", value)),
            UnknownIssuer,
        );
    }
    add(
        "iss missing",
        On::Identity,
        auth(f.id_without("iss")),
        UnknownIssuer,
    );
    add(
        "iss of a configured pool whose keys cannot be had",
        On::Identity,
        auth(f.id_with("iss", json!(issuer_of(POOL2)))),
        KeysUnavailable,
    );
    add(
        "iss of a configured pool whose keys cannot be had, unknown kid",
        On::Identity,
        auth(
            f.signed_text(
                r#"{"alg":"RS256","kid":"anything"}"#,
                &Value::Object({
                    let mut c = f.id_claims();
                    c.insert("iss".into(), json!(issuer_of(POOL2)));
                    c
                })
                .to_string(),
            ),
        ),
        KeysUnavailable,
    );

    // -- exp, nbf, iat -----------------------------------------------------------------------
    add(
        "exp missing",
        On::Identity,
        auth(f.id_without("exp")),
        InvalidClaims,
    );
    for (what, value) in [
        ("exp a string", json!((now + 3600).to_string())),
        ("exp a float", json!((now + 3600) as f64 + 0.5)),
        ("exp a whole float", json!((now + 3600) as f64)),
        ("exp huge (1e20)", json!(1e20)),
        ("exp past year 9999", json!(253_402_300_800i64)),
        ("exp u64::MAX", json!(u64::MAX)),
        ("exp i64::MAX", json!(i64::MAX)),
        ("exp negative", json!(-1)),
        ("exp i64::MIN", json!(i64::MIN)),
        ("exp null", Value::Null),
        ("exp a boolean", json!(true)),
        ("exp an array", json!([now + 3600])),
        (
            "exp an object",
            json!({"$numberLong": (now + 3600).to_string()}),
        ),
        ("auth_time a float", json!(1.5)),
    ] {
        let key = if what.starts_with("auth_time") {
            "auth_time"
        } else {
            "exp"
        };
        add(
            what,
            On::Identity,
            auth(f.id_with(key, value)),
            InvalidClaims,
        );
    }
    for (what, text, expect) in [
        (
            "exp in exponent notation",
            format!("{}e0", now + 3600),
            InvalidClaims,
        ),
        (
            "exp with a fraction of zero",
            format!("{}.0", now + 3600),
            InvalidClaims,
        ),
        ("exp 1e400", "1e400".to_owned(), MalformedToken),
        (
            "exp with a plus sign",
            format!("+{}", now + 3600),
            MalformedToken,
        ),
        (
            "exp with a leading zero",
            format!("0{}", now + 3600),
            MalformedToken,
        ),
        ("exp hexadecimal", "0x7fffffff".to_owned(), MalformedToken),
        ("exp NaN", "NaN".to_owned(), MalformedToken),
        ("exp Infinity", "Infinity".to_owned(), MalformedToken),
    ] {
        let payload = format!(r#"{},"exp":{text}}}"#, f.payload_prefix(&["exp"]));
        add(
            what,
            On::Identity,
            auth(f.signed_text(&f.header().to_string(), &payload)),
            expect,
        );
    }
    add(
        "expired by one second",
        On::Identity,
        auth(f.id_with("exp", json!(now - 1))),
        Expired,
    );
    add(
        "exp zero",
        On::Identity,
        auth(f.id_with("exp", json!(0))),
        Expired,
    );
    add(
        "expired access token on a route with scopes",
        On::Scoped,
        auth(i.access_token().scopes(["pets/read"]).expires_in(-1).sign()),
        Expired,
    );
    for (what, key, value) in [
        ("nbf an hour ahead", "nbf", now + 3600),
        ("nbf in year 9999", "nbf", 253_402_300_799),
        ("iat an hour ahead", "iat", now + 3600),
        ("iat in year 9999", "iat", 253_402_300_799),
    ] {
        add(
            what,
            On::Identity,
            auth(f.id_with(key, json!(value))),
            NotYetValid,
        );
    }
    add(
        "iat a string",
        On::Identity,
        auth(f.id_with("iat", json!(now.to_string()))),
        InvalidClaims,
    );
    add(
        "nbf negative",
        On::Identity,
        auth(f.id_with("nbf", json!(-1))),
        InvalidClaims,
    );

    // -- repeated members in the payload (hand-written, really signed) -----------------------
    let h = f.header().to_string();
    let future = now + 3600;
    let foreign = issuer_of("us-west-2_Unknown1");
    for (what, members) in [
        (
            "exp twice, expired first",
            format!(r#""exp":1,"exp":{future}"#),
        ),
        (
            "exp twice, expired last",
            format!(r#""exp":{future},"exp":1"#),
        ),
        (
            "exp twice, second escaped",
            format!(r#""exp":1,"\u0065xp":{future}"#),
        ),
        (
            "iss twice, foreign first",
            format!(r#""iss":"{foreign}","iss":"{iss}""#),
        ),
        (
            "iss twice, foreign last",
            format!(r#""iss":"{iss}","iss":"{foreign}""#),
        ),
        (
            "token_use twice",
            r#""token_use":"access","token_use":"id""#.to_owned(),
        ),
    ] {
        let key = what.split(' ').next().unwrap();
        let payload = format!("{},{members}}}", f.payload_prefix(&[key]));
        add(
            what,
            On::Identity,
            auth(f.signed_text(&h, &payload)),
            MalformedToken,
        );
    }

    // -- payload not a JSON object ------------------------------------------------------------
    for (what, payload) in [
        ("payload an array", "[]".to_owned()),
        ("payload a string", r#""claims""#.to_owned()),
        ("payload null", "null".to_owned()),
        ("payload a number", "1".to_owned()),
        ("payload true", "true".to_owned()),
        ("payload two objects", format!("{claims_text}{claims_text}")),
        ("payload with trailing garbage", format!("{claims_text}x")),
        (
            "payload with a byte-order mark",
            format!("\u{feff}{claims_text}"),
        ),
        ("payload not JSON", "hello".to_owned()),
        (
            "payload truncated",
            claims_text[..claims_text.len() - 1].to_owned(),
        ),
        (
            "payload with a lone surrogate",
            format!(r#"{},"name":"\ud800"}}"#, f.payload_prefix(&[])),
        ),
        (
            "payload with a raw control character",
            format!("{},\"name\":\"a\u{0001}b\"}}", f.payload_prefix(&[])),
        ),
    ] {
        add(
            what,
            On::Identity,
            auth(f.signed_text(&h, &payload)),
            MalformedToken,
        );
    }
    {
        let mut input = b64(h.as_bytes());
        input.push('.');
        let mut payload = f.payload_prefix(&[]).into_bytes();
        payload.extend_from_slice(b",\"name\":\"\xff\xfe\"}");
        input.push_str(&b64(&payload));
        add(
            "payload with invalid UTF-8",
            On::Identity,
            auth(i.sign_input(input)),
            MalformedToken,
        );
    }

    // -- deep nesting (really signed; must not overflow the stack) ------------------------------
    for (what, value) in [
        ("10,000 nested arrays in a claim", nested_arrays(10_000)),
        ("100,000 nested arrays in a claim", nested_arrays(100_000)),
        ("10,000 nested objects in a claim", nested_objects(10_000)),
    ] {
        let payload = format!(r#"{},"deep":{value}}}"#, f.payload_prefix(&[]));
        add(
            what,
            On::Big,
            auth(f.signed_text(&h, &payload)),
            MalformedToken,
        );
    }
    // The header is read with the payload's rules: nesting past serde_json's
    // limit is malformed wherever it is, and refused before anything else.
    for (what, member, expect) in [
        (
            "100,000 nested arrays in an unknown header member",
            "x",
            MalformedToken,
        ),
        ("100,000 nested arrays in jwk", "jwk", MalformedToken),
        ("100,000 nested arrays in crit", "crit", MalformedToken),
        (
            "126 nested arrays in an unknown header member",
            "x",
            InvalidSignature,
        ),
        ("126 nested arrays in jwk", "jwk", UnsupportedHeader),
    ] {
        let depth = if what.starts_with("126") {
            126
        } else {
            100_000
        };
        let header = format!(
            r#"{{"alg":"RS256","kid":"{kid}","{member}":{}}}"#,
            nested_arrays(depth)
        );
        let input = Fixture::input(&header, &claims_text);
        add(what, On::Big, auth(f.impostor.sign_input(input)), expect);
    }
    add(
        "10,000 nested arrays in the header (default cap)",
        On::Identity,
        auth(f.signed_text(&nested_arrays(10_000), &claims_text)),
        TokenTooLarge,
    );

    // -- size --------------------------------------------------------------------------------------
    let mib = 1 << 20;
    add(
        "1 MiB header value",
        On::Identity,
        auth("a".repeat(mib)),
        TokenTooLarge,
    );
    add(
        "1 MiB header value after Bearer",
        On::Identity,
        auth(format!("Bearer {}", "a".repeat(mib))),
        TokenTooLarge,
    );
    add(
        "1 MiB of dots",
        On::Big,
        auth(".".repeat(mib)),
        MalformedToken,
    );
    {
        let payload = format!(r#"{},"pad":"{}"}}"#, f.payload_prefix(&[]), "x".repeat(mib));
        let signed = f.signed_text(&h, &payload);
        let (sh, sp, _) = split(&signed);
        add(
            "1 MiB token with a moved signature",
            On::Big,
            auth(format!("{sh}.{sp}.{gs}")),
            InvalidSignature,
        );
    }

    // -- bytes that are not base64url ------------------------------------------------------------
    add(
        "non-UTF-8 bytes",
        On::Identity,
        auth(b"\xff\xfe\xfd"),
        MalformedToken,
    );
    let mut bytes = good.clone().into_bytes();
    bytes.insert(gh.len() + 5, 0x80);
    add(
        "a non-ASCII byte inside the token",
        On::Identity,
        auth(&bytes),
        MalformedToken,
    );
    let mut bytes = good.clone().into_bytes();
    bytes.push(0xff);
    add(
        "a 0xff byte after the token",
        On::Identity,
        auth(&bytes),
        MalformedToken,
    );
    add(
        "a tab inside the payload",
        On::Identity,
        auth(format!("{gh}.{}\t{}.{gs}", &gp[..10], &gp[10..])),
        MalformedToken,
    );
    add(
        "a tab after the token",
        On::Identity,
        auth(format!("{good}\t")),
        MalformedToken,
    );
    add(
        "a tab after Bearer",
        On::Identity,
        auth(format!("Bearer\t{good}")),
        MalformedToken,
    );
    add(
        "a no-break space after Bearer",
        On::Identity,
        auth([&b"Bearer\xa0"[..], good.as_bytes()].concat()),
        MalformedToken,
    );
    add(
        "a space inside the payload",
        On::Identity,
        auth(format!("{gh}.{} {}.{gs}", &gp[..10], &gp[10..])),
        MalformedToken,
    );
    add(
        "spaces around the dots",
        On::Identity,
        auth(format!("{gh} . {gp} . {gs}")),
        MalformedToken,
    );
    add(
        "a leading space",
        On::Identity,
        auth(format!(" {good}")),
        MalformedToken,
    );
    add(
        "a trailing space",
        On::Identity,
        auth(format!("{good} ")),
        MalformedToken,
    );
    add(
        "header JSON that is not UTF-8",
        On::Identity,
        auth(format!(
            "{}.{gp}.{gs}",
            b64(b"{\"alg\":\"RS256\",\"kid\":\"\xff\"}")
        )),
        MalformedToken,
    );

    // -- padded and standard-alphabet base64 (really signed over the odd text) ----------------
    let claims_b64 = b64(&claims_text);
    let header_b64 = b64(&h);
    // A header whose encoding needs padding.
    let mut padded_header = f.header();
    padded_header["x"] = json!("");
    while padded_header.to_string().len().is_multiple_of(3) {
        let s = padded_header["x"].as_str().unwrap().to_owned() + "x";
        padded_header["x"] = json!(s);
    }
    let padded_header = padded_header.to_string();
    assert!(URL_SAFE.encode(&padded_header).ends_with('='));
    add(
        "header segment padded",
        On::Identity,
        auth(i.sign_input(format!("{}.{claims_b64}", URL_SAFE.encode(&padded_header)))),
        MalformedToken,
    );
    // A payload whose encoding needs padding: pad the claims text until it does.
    let mut padded_claims = f.id_claims();
    padded_claims.insert("p".into(), json!(""));
    while Value::Object(padded_claims.clone())
        .to_string()
        .len()
        .is_multiple_of(3)
    {
        let s = padded_claims["p"].as_str().unwrap().to_owned() + "x";
        padded_claims.insert("p".into(), json!(s));
    }
    let padded_text = Value::Object(padded_claims).to_string();
    add(
        "payload segment padded",
        On::Identity,
        auth(i.sign_input(format!("{header_b64}.{}", URL_SAFE.encode(&padded_text)))),
        MalformedToken,
    );
    add(
        "signature segment padded",
        On::Identity,
        auth(format!("{gh}.{gp}.{}", URL_SAFE.encode(&sig_bytes))),
        MalformedToken,
    );
    let mut std_claims = f.id_claims();
    std_claims.insert("note".into(), json!("~~~~~~~~~????????????"));
    let std_text = Value::Object(std_claims).to_string();
    let std_payload = STANDARD_NO_PAD.encode(&std_text);
    assert!(std_payload.contains('+') && std_payload.contains('/'));
    add(
        "payload in the standard alphabet",
        On::Identity,
        auth(i.sign_input(format!("{header_b64}.{std_payload}"))),
        MalformedToken,
    );
    add(
        "whole token in standard base64 with padding",
        On::Identity,
        auth(i.sign_input(format!(
            "{}.{}",
            STANDARD.encode(&h),
            STANDARD.encode(&std_text)
        ))),
        MalformedToken,
    );
    let std_sig = STANDARD_NO_PAD.encode(&sig_bytes);
    if std_sig != gs {
        add(
            "signature in the standard alphabet",
            On::Identity,
            auth(format!("{gh}.{gp}.{std_sig}")),
            MalformedToken,
        );
    }
    // Non-canonical final symbols: the same bytes if trailing bits were ignored,
    // and signed over the odd text, so only a strict decoder refuses them.
    let mut canon = f.id_claims();
    canon.insert("p".into(), json!(""));
    while b64(Value::Object(canon.clone()).to_string())
        .len()
        .is_multiple_of(4)
        || !b64(Value::Object(canon.clone()).to_string())
            .ends_with(|c: char| "AEIMQUYcgkosw048".contains(c))
    {
        let s = canon["p"].as_str().unwrap().to_owned() + "x";
        canon.insert("p".into(), json!(s));
    }
    let odd_payload = set_trailing_bits(&b64(Value::Object(canon).to_string()));
    add(
        "payload with non-zero trailing bits",
        On::Identity,
        auth(i.sign_input(format!("{header_b64}.{odd_payload}"))),
        MalformedToken,
    );
    add(
        "signature with non-zero trailing bits",
        On::Identity,
        auth(format!("{gh}.{gp}.{}", set_trailing_bits(&gs))),
        MalformedToken,
    );

    // -- the header itself -------------------------------------------------------------------------
    add(
        "two Authorization headers",
        On::Identity,
        [auth(&good), auth(&good)].concat(),
        MultipleTokens,
    );
    add(
        "two Authorization headers, the second empty",
        On::Identity,
        [auth(&good), auth("")].concat(),
        MultipleTokens,
    );
    add(
        "two Authorization headers, a forgery first",
        On::Identity,
        [auth(f.impostor.id_token().sign()), auth(&good)].concat(),
        MultipleTokens,
    );
    add(
        "Bearer with no token",
        On::Identity,
        auth("Bearer"),
        MissingToken,
    );
    add(
        "Bearer and a space",
        On::Identity,
        auth("Bearer "),
        MissingToken,
    );
    add(
        "Bearer and spaces",
        On::Identity,
        auth("Bearer     "),
        MissingToken,
    );
    add("empty header", On::Identity, auth(""), MissingToken);
    add("no header", On::Identity, Vec::new(), MissingToken);
    add(
        "token in another header",
        On::Identity,
        vec![(
            HeaderName::from_static("x-amz-security-token"),
            HeaderValue::from_str(&good).unwrap(),
        )],
        MissingToken,
    );
    add(
        "Bearer twice",
        On::Identity,
        auth(format!("Bearer Bearer {good}")),
        MalformedToken,
    );
    add(
        "Bearer without a space",
        On::Identity,
        auth(format!("Bearer{good}")),
        MalformedToken,
    );
    add(
        "Basic credentials",
        On::Identity,
        auth("Basic dXNlcjpwYXNz"),
        MalformedToken,
    );
    add(
        "another scheme",
        On::Identity,
        auth(format!("Token {good}")),
        MalformedToken,
    );
    add(
        "two tokens in one header",
        On::Identity,
        auth(format!("{good}, {good}")),
        MalformedToken,
    );

    // -- scopes ---------------------------------------------------------------------------------------
    let scoped = |scope: Value| i.access_token().claim("scope", scope).sign();
    for (what, scope) in [
        ("scope in upper case", json!("PETS/READ")),
        ("scope with a capital", json!("Pets/read")),
        ("scope a prefix of the route's", json!("pets/rea")),
        ("scope the route's plus a suffix", json!("pets/reads")),
        ("scope with a trailing slash", json!("pets/read/")),
        ("scope the resource server only", json!("pets")),
        (
            "scope behind a URL prefix",
            json!("https://api.example.com/pets/read"),
        ),
        ("scopes joined by a comma", json!("pets/read,pets/write")),
        ("scopes joined by a tab", json!("pets/read\tpets/write")),
        (
            "scopes joined by a no-break space",
            json!("pets/read\u{a0}pets/write"),
        ),
        ("scopes run together", json!("pets/readpets/write")),
        ("scope an array", json!(["pets/read"])),
        ("scope empty", json!("")),
        ("scope null", Value::Null),
    ] {
        add(what, On::Scoped, auth(scoped(scope)), InsufficientScope);
    }
    add(
        "scope missing",
        On::Scoped,
        auth(i.access_token().without("scope").sign()),
        InsufficientScope,
    );

    cases
}

/// Valid requests through each layer: they must pass, in the same test.
async fn assert_controls_pass(f: &Fixture) {
    let i = &f.issuer;
    let controls: Vec<(&str, On, String)> = vec![
        ("ID token", On::Identity, i.id_token().sign()),
        (
            "ID token after Bearer",
            On::Identity,
            format!("Bearer {}", i.id_token().sign()),
        ),
        (
            "ID token by the other published key",
            On::Identity,
            f.published.sign_with(
                &signature::RSA_PKCS1_SHA256,
                &Fixture::input(
                    &json!({"alg": "RS256", "kid": f.published.kid}).to_string(),
                    &Value::Object(f.id_claims()).to_string(),
                ),
            ),
        ),
        (
            "access token with a listed scope",
            On::Scoped,
            i.access_token().scopes(["openid", "pets/write"]).sign(),
        ),
        (
            "scope with a leading space",
            On::Scoped,
            i.access_token().claim("scope", " pets/read").sign(),
        ),
        (
            "ID token under the raised cap",
            On::Big,
            i.id_token().sign(),
        ),
        (
            "ID token with 100 nested arrays in a claim",
            On::Big,
            i.id_token()
                .claim(
                    "deep",
                    serde_json::from_str::<Value>(&nested_arrays(100)).unwrap(),
                )
                .sign(),
        ),
        (
            "ID token expiring in 30 seconds",
            On::Identity,
            i.id_token().expires_in(30).sign(),
        ),
    ];
    for (what, on, token) in controls {
        let out = send_values(f.layer(on), auth(&token)).await;
        assert_eq!(out.status, 200, "control {what:?}: {:?}", out.error);
        assert_eq!(out.body_str(), "ok", "control {what:?}");
        assert!(out.claims.is_some(), "control {what:?} reached no claims");
    }
}

#[tokio::test]
async fn every_forgery_and_malformation_is_refused_exactly() {
    let f = fixture();
    assert_controls_pass(&f).await;
    let cases = corpus(&f);
    assert!(cases.len() >= 50, "only {} cases", cases.len());
    let mut names = std::collections::HashSet::new();
    let mut wrong = Vec::new();
    for case in &cases {
        assert!(
            names.insert(case.name.as_str()),
            "duplicate case {:?}",
            case.name
        );
        let out = send_values(f.layer(case.on), case.headers.clone()).await;
        // Never print the request: it holds tokens.
        let (status, body, error_type) = gateway_response(case.expect);
        let right = out.error == Some(case.expect)
            && out.status == status
            && out.body_str() == body
            && out
                .headers
                .get("content-type")
                .is_some_and(|v| v == "application/json")
            && out
                .headers
                .get("x-amzn-errortype")
                .is_some_and(|v| v == error_type)
            && out.claims.is_none();
        if !right {
            wrong.push(format!(
                "{:?}: expected {:?}, got {} {:?}",
                case.name, case.expect, out.status, out.error
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases not refused as expected:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    // Nothing in any token made the layer talk to the attacker's server.
    assert_eq!(
        f.evil.total_hits(),
        0,
        "a URL from a token header was fetched"
    );
    // And the controls still pass after the whole corpus.
    assert_controls_pass(&f).await;
    println!("{} adversarial cases refused", cases.len());
}

#[tokio::test]
async fn the_largest_token_cap_does_not_overflow() {
    // `max_token_len(usize::MAX)` means "no cap": the cap arithmetic must not
    // overflow (a panic in debug builds, every token refused in release).
    let issuer = TestIssuer::new(POOL);
    let layer = seeded(&issuer).max_token_len(usize::MAX).build().unwrap();
    let token = issuer.id_token().sign();
    for value in [token.clone(), format!("Bearer {token}")] {
        let out = send_token(&layer, &value).await;
        assert_eq!(out.status, 200, "{:?}", out.error);
    }
    let out = send_token(&layer, &format!("{token}x")).await;
    assert_eq!(out.kind(), RejectionKind::MalformedToken);
}

#[tokio::test]
async fn the_largest_leeway_does_not_overflow() {
    // A leeway of i64::MAX seconds fits the i64 the checks compute in; adding
    // it to the clock must not overflow.
    let issuer = TestIssuer::new(POOL);
    let layer = seeded(&issuer)
        .leeway(std::time::Duration::from_secs(i64::MAX as u64))
        .build()
        .unwrap();
    let out = send_token(&layer, &issuer.id_token().claim("nbf", now() + 60).sign()).await;
    assert_eq!(out.status, 200, "{:?}", out.error);
    let out = send_token(&layer, &issuer.id_token().claim("exp", 0).sign()).await;
    assert_eq!(out.status, 200, "{:?}", out.error);
}

#[tokio::test(flavor = "current_thread")]
async fn the_longest_refresh_intervals_do_not_kill_the_refresh_task() {
    // `Duration::MAX` means "never": scheduling the next round must not
    // overflow `Instant` and panic the background task (which would abort a
    // process built with panic = "abort"). The endpoint is a closed port, so no
    // connection task blurs the count.
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline = metrics.num_alive_tasks();
    let issuer = TestIssuer::new(POOL);
    for seeded in [false, true] {
        let mut builder = CognitoAuthLayer::builder()
            .user_pool(POOL)
            .jwks_endpoint("http://127.0.0.1:1")
            .refresh_interval(std::time::Duration::MAX)
            .retry_interval(std::time::Duration::MAX);
        if seeded {
            builder = builder.jwks(POOL, issuer.jwks());
        } else {
            // The first round fetches (and fails) before scheduling the next.
        }
        let layer = builder.build().unwrap();
        if !seeded {
            let store = layer.key_store().clone();
            wait_until("the first fetch", move || {
                store.status().pools[0].fetches >= 1
            })
            .await;
        }
        for _ in 0..20 {
            tokio::task::yield_now().await;
            real_sleep(1).await;
        }
        assert_eq!(
            metrics.num_alive_tasks(),
            baseline + 1,
            "the refresh task died (seeded: {seeded})"
        );
        drop(layer);
        for _ in 0..1000 {
            if metrics.num_alive_tasks() == baseline {
                break;
            }
            tokio::task::yield_now().await;
            real_sleep(1).await;
        }
        assert_eq!(metrics.num_alive_tasks(), baseline, "seeded: {seeded}");
    }
}
