//! A dev issuer for tests and local development (feature `testing`).
//!
//! [`TestIssuer`] holds a fresh RSA-2048 key and mints Cognito-shaped ID and
//! access tokens for a pool, with the pool's AWS-form issuer, so a layer
//! configured for that pool accepts them once seeded with [`TestIssuer::jwks`].
//!
//! ```
//! use tower_cognito::{testing::TestIssuer, CognitoAuthLayer};
//!
//! let issuer = TestIssuer::new("us-east-1_AbCdEf123");
//! let layer = CognitoAuthLayer::builder()
//!     .user_pool("us-east-1_AbCdEf123")
//!     .jwks("us-east-1_AbCdEf123", issuer.jwks())
//!     .build()
//!     .unwrap();
//! let token = issuer.id_token().claim("custom:role", "admin").sign();
//! assert_eq!(token.split('.').count(), 3);
//! # drop(layer);
//! ```
//!
//! # Keys over HTTP
//!
//! [`JwksServer`] publishes issuers' keys on loopback the way Cognito does, at
//! `{base_url}/{userPoolId}/.well-known/jwks.json`, so a layer fetches them over
//! HTTP through [`jwks_endpoint`](crate::CognitoAuthBuilder::jwks_endpoint), as
//! in a real deployment, while tokens keep the AWS-form `iss`. The gateway
//! example's dev issuer is built from these two types.
//!
//! ```
//! use tower_cognito::{testing::TestIssuer, CognitoAuthLayer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let issuer = TestIssuer::new("us-east-1_AbCdEf123");
//! let server = issuer.serve_jwks().await?; // http://127.0.0.1:PORT, until dropped
//! let layer = CognitoAuthLayer::builder()
//!     .user_pool("us-east-1_AbCdEf123")
//!     .jwks_endpoint(server.base_url())
//!     .build()?;
//! layer.key_store().load().await?;
//! assert_eq!(server.hits(), 1);
//! # Ok(())
//! # }
//! ```

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

mod jwks_server;
pub use jwks_server::JwksServer;
use std::time::{SystemTime, UNIX_EPOCH};

/// A signing key standing in for a Cognito user pool. See the [module docs](self).
pub struct TestIssuer {
    key: KeyPair,
    kid: String,
    pool_id: String,
    issuer: String,
    client_id: String,
}

impl fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestIssuer")
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

static SERIAL: AtomicU64 = AtomicU64::new(1);

impl TestIssuer {
    /// A new key for `pool_id`, with the AWS-form issuer
    /// `https://cognito-idp.{region}.amazonaws.com/{pool_id}` (region: the part of
    /// the ID before `_`).
    ///
    /// # Panics
    /// If the system cannot generate an RSA key.
    pub fn new(pool_id: &str) -> Self {
        let region = pool_id.split('_').next().unwrap_or(pool_id);
        let issuer = format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}");
        Self::with_issuer(pool_id, issuer)
    }

    /// A new key for `pool_id` whose tokens carry `iss` = `issuer`.
    ///
    /// # Panics
    /// If the system cannot generate an RSA key.
    pub fn with_issuer(pool_id: &str, issuer: impl Into<String>) -> Self {
        let key = KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation failed");
        let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
        Self {
            key,
            kid: format!("test-key-{serial}"),
            pool_id: pool_id.to_owned(),
            issuer: issuer.into(),
            client_id: "testclient0123456789abcdef".to_owned(),
        }
    }

    /// Replaces the key ID (default `test-key-N`).
    pub fn kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = kid.into();
        self
    }

    /// Replaces the app client ID put in `aud` / `client_id`.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// The key ID.
    pub fn key_id(&self) -> &str {
        &self.kid
    }

    /// The pool ID.
    pub fn pool_id(&self) -> &str {
        &self.pool_id
    }

    /// The issuer tokens carry.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The app client ID tokens carry.
    pub fn app_client_id(&self) -> &str {
        &self.client_id
    }

    /// The public key as a JWK, as Cognito publishes it.
    pub fn jwk(&self) -> Value {
        let public = self.key.public_key();
        json!({
            "alg": "RS256",
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
            "kid": self.kid,
            "kty": "RSA",
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "use": "sig",
        })
    }

    /// A JWKS document holding this key.
    pub fn jwks(&self) -> String {
        Self::jwks_of(&[self])
    }

    /// A JWKS document holding several issuers' keys (for key rotation).
    pub fn jwks_of(issuers: &[&TestIssuer]) -> String {
        json!({ "keys": issuers.iter().map(|i| i.jwk()).collect::<Vec<_>>() }).to_string()
    }

    /// Serves this issuer's key on a free `127.0.0.1` port until the returned
    /// server is dropped; see [`JwksServer`]. Needs a Tokio runtime.
    pub async fn serve_jwks(&self) -> std::io::Result<JwksServer> {
        JwksServer::start(&[self]).await
    }

    /// Signs `header` and `claims` as given, with no checks: for tokens that
    /// must be refused.
    pub fn sign_raw(&self, header: &Value, claims: &Value) -> String {
        let mut input = URL_SAFE_NO_PAD.encode(header.to_string());
        input.push('.');
        input.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
        self.sign_input(input)
    }

    /// Signs an already encoded `header.payload`.
    pub fn sign_input(&self, mut input: String) -> String {
        let mut sig = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .expect("RSA signing failed");
        input.push('.');
        input.push_str(&URL_SAFE_NO_PAD.encode(sig));
        input
    }

    fn base(&self) -> Map<String, Value> {
        let now = now();
        let mut m = Map::new();
        m.insert("sub".into(), json!("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"));
        m.insert("iss".into(), json!(self.issuer));
        m.insert(
            "origin_jti".into(),
            json!(format!("jti-{}", SERIAL.fetch_add(1, Ordering::Relaxed))),
        );
        m.insert(
            "event_id".into(),
            json!("00000000-0000-0000-0000-000000000000"),
        );
        m.insert("auth_time".into(), json!(now));
        m.insert("exp".into(), json!(now + 3600));
        m.insert("iat".into(), json!(now));
        m.insert(
            "jti".into(),
            json!(format!("jti-{}", SERIAL.fetch_add(1, Ordering::Relaxed))),
        );
        m
    }

    /// An ID token as Cognito issues it: `token_use: "id"`, `aud`,
    /// `cognito:username`, `email`, one hour of life.
    pub fn id_token(&self) -> TokenBuilder<'_> {
        let mut claims = self.base();
        claims.insert("token_use".into(), json!("id"));
        claims.insert("aud".into(), json!(self.client_id));
        claims.insert("cognito:username".into(), json!("testuser"));
        claims.insert("email".into(), json!("testuser@example.com"));
        claims.insert("email_verified".into(), json!(true));
        TokenBuilder::new(self, claims)
    }

    /// An access token as Cognito issues it: `token_use: "access"`, `client_id`,
    /// `username`, `scope: "aws.cognito.signin.user.admin"`, one hour of life.
    pub fn access_token(&self) -> TokenBuilder<'_> {
        let mut claims = self.base();
        claims.insert("token_use".into(), json!("access"));
        claims.insert("client_id".into(), json!(self.client_id));
        claims.insert("username".into(), json!("testuser"));
        claims.insert("scope".into(), json!("aws.cognito.signin.user.admin"));
        claims.insert("version".into(), json!(2));
        TokenBuilder::new(self, claims)
    }
}

/// A token being minted; finish with [`sign`](Self::sign).
#[must_use]
pub struct TokenBuilder<'a> {
    issuer: &'a TestIssuer,
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

impl fmt::Debug for TokenBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenBuilder")
            .field("header", &self.header)
            .field("claims", &self.claims)
            .finish()
    }
}

impl<'a> TokenBuilder<'a> {
    fn new(issuer: &'a TestIssuer, claims: Map<String, Value>) -> Self {
        let mut header = Map::new();
        header.insert("kid".into(), json!(issuer.kid));
        header.insert("alg".into(), json!("RS256"));
        Self {
            issuer,
            header,
            claims,
        }
    }

    /// Sets a claim.
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.claims.insert(name.to_owned(), value.into());
        self
    }

    /// Removes a claim.
    pub fn without(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Sets a header field.
    pub fn header(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.header.insert(name.to_owned(), value.into());
        self
    }

    /// Sets `scope` (space-separated, as Cognito does).
    pub fn scopes<I, S>(self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined = scopes
            .into_iter()
            .map(|s| s.as_ref().to_owned())
            .collect::<Vec<_>>()
            .join(" ");
        self.claim("scope", joined)
    }

    /// Sets `cognito:groups`.
    pub fn groups<I, S>(self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let list: Vec<Value> = groups
            .into_iter()
            .map(|g| Value::String(g.into()))
            .collect();
        self.claim("cognito:groups", list)
    }

    /// Sets `exp` to now plus `seconds` (negative for an expired token).
    pub fn expires_in(self, seconds: i64) -> Self {
        self.claim("exp", now() + seconds)
    }

    /// The claims as they stand.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// Signs and encodes the token.
    pub fn sign(self) -> String {
        self.issuer
            .sign_raw(&Value::Object(self.header), &Value::Object(self.claims))
    }
}
