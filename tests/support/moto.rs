//! Client for moto's Cognito user pool emulator, for interop tests.
//!
//! `scripts/test` starts `moto_server` on 127.0.0.1 and exports
//! `TOWER_COGNITO_MOTO_ENDPOINT`; every interop test starts with
//! `let Some(moto) = MotoCognito::require() else { return };` and ends with
//! `mark_ran("<test name>")`.
//!
//! It speaks the Cognito IdP JSON protocol directly (POST `/`,
//! `X-Amz-Target: AWSCognitoIdentityProviderService.<Action>`), so tests need
//! no AWS SDK. moto checks no signatures; it takes the region from the
//! credential scope of an `Authorization` header of SigV4 shape, and pool IDs,
//! issuers and ARNs carry that region.
//!
//! What moto 5.2.5 issues (observed; see `scripts/moto-env.sh` for the pin):
//! - header `{"alg":"RS256","kid":"dummy","typ":"JWT"}`; every pool signs
//!   with the same fixed 2048-bit key, and `{endpoint}/{anything}/.well-known/jwks.json`
//!   answers 200 with that one key, even for a pool that does not exist;
//! - `iss` in AWS form `https://cognito-idp.{region}.amazonaws.com/{poolId}`;
//! - `iat`, `auth_time`, `exp` integers, `exp = iat + 3600` whatever the client's
//!   token validity; `auth_time` is the issue time, also after a refresh;
//! - ID token: `aud`, `cognito:username`, `custom:*` attributes, standard
//!   attributes only if in the client's `ReadAttributes`; access token:
//!   `client_id`, `username`, `scope` always exactly `aws.cognito.signin.user.admin`
//!   (resource-server scopes never appear); both: `sub`, `jti`, `origin_jti`,
//!   `token_use`, and `cognito:groups` (a JSON array in no fixed order, absent
//!   when the user has no group); no `version`, `event_id` or `email_verified`.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

/// Errors are plain text: they only ever end up in a test failure message.
pub(crate) type MotoResult<T> = Result<T, String>;

const ENDPOINT_VAR: &str = "TOWER_COGNITO_MOTO_ENDPOINT";
const REQUIRE_VAR: &str = "TOWER_COGNITO_REQUIRE_INTEROP";
const MARKER_DIR_VAR: &str = "TOWER_COGNITO_INTEROP_MARKER_DIR";

/// Default region; moto defaults to it too when no `Authorization` is sent.
pub(crate) const DEFAULT_REGION: &str = "us-east-1";

/// Tokens from `InitiateAuth` / `AdminInitiateAuth`. `Debug` leaves the
/// tokens out, so no failure message ever prints one.
#[derive(Clone)]
pub(crate) struct Tokens {
    pub(crate) id_token: String,
    pub(crate) access_token: String,
    /// Absent on a `REFRESH_TOKEN_AUTH` answer.
    pub(crate) refresh_token: Option<String>,
    pub(crate) expires_in: u64,
    pub(crate) token_type: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_in", &self.expires_in)
            .field("token_type", &self.token_type)
            .finish_non_exhaustive()
    }
}

/// A user pool as the layer must be configured to accept its tokens.
#[derive(Debug, Clone)]
pub(crate) struct UserPool {
    pub(crate) id: String,
    pub(crate) region: String,
    pub(crate) arn: String,
    /// The `iss` moto puts in tokens: the AWS form, not the emulator's address.
    pub(crate) issuer: String,
    /// Where moto actually serves the JWKS: `{endpoint}/{poolId}/.well-known/jwks.json`.
    pub(crate) jwks_url: String,
}

/// A client for one moto server, in one region.
#[derive(Debug, Clone)]
pub(crate) struct MotoCognito {
    endpoint: String,
    region: String,
    http: reqwest::Client,
}

impl MotoCognito {
    /// The server named by `TOWER_COGNITO_MOTO_ENDPOINT`, if set.
    pub(crate) fn from_env() -> Option<Self> {
        let endpoint = std::env::var(ENDPOINT_VAR).ok()?;
        let endpoint = endpoint.trim();
        if endpoint.is_empty() {
            return None;
        }
        Some(Self::new(endpoint, DEFAULT_REGION))
    }

    /// Like [`Self::from_env`], but under `scripts/test`
    /// (`TOWER_COGNITO_REQUIRE_INTEROP=1`) a missing server is a failure, so
    /// the suite can never pass by skipping every interop test.
    pub(crate) fn require() -> Option<Self> {
        if let Some(moto) = Self::from_env() {
            return Some(moto);
        }
        if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
            panic!(
                "{REQUIRE_VAR}=1 but {ENDPOINT_VAR} is not set: start moto with \
                 scripts/moto-env.sh (or run the suite with scripts/test)"
            );
        }
        // Straight to the process's stderr: the test harness captures
        // `eprintln!` of passing tests, and a skip must never be silent.
        let _ = writeln!(
            std::io::stderr(),
            "interop test skipped: run scripts/test (or set {ENDPOINT_VAR} to a running moto_server)"
        );
        None
    }

    /// `endpoint` like `http://127.0.0.1:5000` (no trailing slash needed).
    pub(crate) fn new(endpoint: &str, region: &str) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            // Loopback only: an HTTP(S)_PROXY in the environment must not apply.
            .no_proxy()
            .build()
            .expect("build reqwest client");
        Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            region: region.to_owned(),
            http,
        }
    }

    /// The same server, with pools created in another region.
    pub(crate) fn with_region(&self, region: &str) -> Self {
        Self {
            region: region.to_owned(),
            ..self.clone()
        }
    }

    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub(crate) fn region(&self) -> &str {
        &self.region
    }

    /// The JWKS base URL to configure the layer with: moto serves
    /// `{endpoint}/{poolId}/.well-known/jwks.json`.
    pub(crate) fn jwks_url(&self, pool_id: &str) -> String {
        format!("{}/{pool_id}/.well-known/jwks.json", self.endpoint)
    }

    /// One Cognito IdP action; returns the JSON answer or moto's error.
    pub(crate) async fn call(&self, action: &str, body: Value) -> MotoResult<Value> {
        // SigV4 shape only: moto reads the region from the credential scope
        // (`Credential=<key>/<date>/<region>/<service>/aws4_request`) and
        // checks no signature.
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/{}/cognito-idp/aws4_request, \
             SignedHeaders=content-type;host;x-amz-target, Signature={}",
            self.region,
            "0".repeat(64)
        );
        let response = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("content-type", "application/x-amz-json-1.1")
            .header(
                "x-amz-target",
                format!("AWSCognitoIdentityProviderService.{action}"),
            )
            .header("authorization", authorization)
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| format!("{action}: request to {} failed: {e}", self.endpoint))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| format!("{action}: reading the answer failed: {e}"))?;
        let value: Value = if text.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(&text)
                .map_err(|e| format!("{action}: HTTP {status}, body is not JSON ({e}): {text}"))?
        };
        if !status.is_success() {
            let kind = value.get("__type").and_then(Value::as_str).unwrap_or("?");
            let message = value
                .get("message")
                .or_else(|| value.get("Message"))
                .and_then(Value::as_str)
                .unwrap_or("");
            return Err(format!("{action}: HTTP {status}: {kind}: {message}"));
        }
        Ok(value)
    }

    /// Creates a pool whose schema has the custom attribute `role`, so ID
    /// tokens can carry `custom:role`.
    pub(crate) async fn create_user_pool(&self, name: &str) -> MotoResult<UserPool> {
        let answer = self
            .call(
                "CreateUserPool",
                json!({
                    "PoolName": name,
                    "Schema": [{
                        "Name": "role",
                        "AttributeDataType": "String",
                        "Mutable": true,
                    }],
                }),
            )
            .await?;
        let pool = &answer["UserPool"];
        let id = str_field(pool, "Id", "CreateUserPool")?;
        let arn = str_field(pool, "Arn", "CreateUserPool")?;
        // Pool IDs are `{region}_{hex}`; the issuer uses the pool's region.
        let region = id
            .split_once('_')
            .map(|(region, _)| region.to_owned())
            .ok_or_else(|| format!("CreateUserPool: unexpected pool id {id:?}"))?;
        Ok(UserPool {
            issuer: format!("https://cognito-idp.{region}.amazonaws.com/{id}"),
            jwks_url: self.jwks_url(&id),
            id,
            region,
            arn,
        })
    }

    /// Creates an app client without a secret (so no `SECRET_HASH` is needed)
    /// that allows password sign-in with and without admin credentials.
    /// Returns the client ID.
    ///
    /// moto copies into ID tokens only the standard attributes named in
    /// `read_attributes` (e.g. `email`); `custom:*` attributes always go in.
    pub(crate) async fn create_app_client(
        &self,
        pool_id: &str,
        name: &str,
        read_attributes: &[&str],
    ) -> MotoResult<String> {
        let answer = self
            .call(
                "CreateUserPoolClient",
                json!({
                    "UserPoolId": pool_id,
                    "ClientName": name,
                    "GenerateSecret": false,
                    "ReadAttributes": read_attributes,
                    "ExplicitAuthFlows": [
                        "ALLOW_USER_PASSWORD_AUTH",
                        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                        "ALLOW_REFRESH_TOKEN_AUTH",
                    ],
                }),
            )
            .await?;
        str_field(
            &answer["UserPoolClient"],
            "ClientId",
            "CreateUserPoolClient",
        )
    }

    /// Creates a resource server; `scopes` are `(name, description)`.
    /// Note: moto never puts these scopes into tokens.
    pub(crate) async fn create_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
        scopes: &[(&str, &str)],
    ) -> MotoResult<()> {
        let scopes: Vec<Value> = scopes
            .iter()
            .map(|(name, description)| json!({"ScopeName": name, "ScopeDescription": description}))
            .collect();
        self.call(
            "CreateResourceServer",
            json!({
                "UserPoolId": pool_id,
                "Identifier": identifier,
                "Name": identifier,
                "Scopes": scopes,
            }),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn create_group(&self, pool_id: &str, group: &str) -> MotoResult<()> {
        self.call(
            "CreateGroup",
            json!({"UserPoolId": pool_id, "GroupName": group}),
        )
        .await?;
        Ok(())
    }

    /// `AdminCreateUser` without an invitation message; `attributes` are
    /// `(name, value)` such as `("email", ..)`, `("custom:role", ..)`.
    pub(crate) async fn create_user(
        &self,
        pool_id: &str,
        username: &str,
        attributes: &[(&str, &str)],
    ) -> MotoResult<()> {
        let attributes: Vec<Value> = attributes
            .iter()
            .map(|(name, value)| json!({"Name": name, "Value": value}))
            .collect();
        self.call(
            "AdminCreateUser",
            json!({
                "UserPoolId": pool_id,
                "Username": username,
                "UserAttributes": attributes,
                "MessageAction": "SUPPRESS",
            }),
        )
        .await?;
        Ok(())
    }

    /// Sets a permanent password, which also confirms the user (no
    /// `NEW_PASSWORD_REQUIRED` challenge on sign-in).
    pub(crate) async fn set_user_password(
        &self,
        pool_id: &str,
        username: &str,
        password: &str,
    ) -> MotoResult<()> {
        self.call(
            "AdminSetUserPassword",
            json!({
                "UserPoolId": pool_id,
                "Username": username,
                "Password": password,
                "Permanent": true,
            }),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn add_user_to_group(
        &self,
        pool_id: &str,
        username: &str,
        group: &str,
    ) -> MotoResult<()> {
        self.call(
            "AdminAddUserToGroup",
            json!({"UserPoolId": pool_id, "Username": username, "GroupName": group}),
        )
        .await?;
        Ok(())
    }

    /// `InitiateAuth` with `USER_PASSWORD_AUTH` (what an app does).
    pub(crate) async fn initiate_auth(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
    ) -> MotoResult<Tokens> {
        let answer = self
            .call(
                "InitiateAuth",
                json!({
                    "ClientId": client_id,
                    "AuthFlow": "USER_PASSWORD_AUTH",
                    "AuthParameters": {"USERNAME": username, "PASSWORD": password},
                }),
            )
            .await?;
        tokens(&answer, "InitiateAuth")
    }

    /// `AdminInitiateAuth` with `ADMIN_USER_PASSWORD_AUTH` (what a backend does).
    pub(crate) async fn admin_initiate_auth(
        &self,
        pool_id: &str,
        client_id: &str,
        username: &str,
        password: &str,
    ) -> MotoResult<Tokens> {
        let answer = self
            .call(
                "AdminInitiateAuth",
                json!({
                    "UserPoolId": pool_id,
                    "ClientId": client_id,
                    "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                    "AuthParameters": {"USERNAME": username, "PASSWORD": password},
                }),
            )
            .await?;
        tokens(&answer, "AdminInitiateAuth")
    }

    /// `InitiateAuth` with `REFRESH_TOKEN_AUTH`: new ID and access tokens.
    pub(crate) async fn refresh(&self, client_id: &str, refresh_token: &str) -> MotoResult<Tokens> {
        let answer = self
            .call(
                "InitiateAuth",
                json!({
                    "ClientId": client_id,
                    "AuthFlow": "REFRESH_TOKEN_AUTH",
                    "AuthParameters": {"REFRESH_TOKEN": refresh_token},
                }),
            )
            .await?;
        tokens(&answer, "InitiateAuth(REFRESH_TOKEN_AUTH)")
    }

    /// GET on a URL of this server (JWKS, openid-configuration) as JSON.
    pub(crate) async fn get_json(&self, url: &str) -> MotoResult<Value> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("GET {url} failed: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("GET {url}: HTTP {status}"));
        }
        response
            .json()
            .await
            .map_err(|e| format!("GET {url}: body is not JSON: {e}"))
    }

    /// A pool with everything the interop tests need; see [`Fixture`].
    pub(crate) async fn fixture(&self, name: &str) -> MotoResult<Fixture> {
        let pool = self.create_user_pool(name).await?;
        let client_id = self
            .create_app_client(&pool.id, "app", &["email", "custom:role"])
            .await?;
        self.create_resource_server(
            &pool.id,
            Fixture::RESOURCE_SERVER,
            &[("read", "read things"), ("write", "write things")],
        )
        .await?;
        for group in Fixture::GROUPS {
            self.create_group(&pool.id, group).await?;
        }
        self.create_user(
            &pool.id,
            Fixture::USERNAME,
            &[("email", Fixture::EMAIL), ("custom:role", Fixture::ROLE)],
        )
        .await?;
        self.set_user_password(&pool.id, Fixture::USERNAME, Fixture::PASSWORD)
            .await?;
        for group in Fixture::GROUPS {
            self.add_user_to_group(&pool.id, Fixture::USERNAME, group)
                .await?;
        }
        Ok(Fixture { pool, client_id })
    }
}

/// A pool with an app client, resource server `orders` (scopes `read`,
/// `write`), and one confirmed user in groups `admin` and `staging-manager`
/// with `email` and `custom:role` set.
#[derive(Debug, Clone)]
pub(crate) struct Fixture {
    pub(crate) pool: UserPool,
    pub(crate) client_id: String,
}

impl Fixture {
    pub(crate) const USERNAME: &'static str = "alice";
    pub(crate) const PASSWORD: &'static str = "Correct-Horse-9";
    pub(crate) const EMAIL: &'static str = "alice@example.com";
    pub(crate) const ROLE: &'static str = "editor";
    pub(crate) const GROUPS: [&'static str; 2] = ["admin", "staging-manager"];
    pub(crate) const RESOURCE_SERVER: &'static str = "orders";

    /// Signs the fixture user in with `USER_PASSWORD_AUTH`.
    pub(crate) async fn sign_in(&self, moto: &MotoCognito) -> MotoResult<Tokens> {
        moto.initiate_auth(&self.client_id, Self::USERNAME, Self::PASSWORD)
            .await
    }
}

/// Records that interop test `test_name` ran against moto; `scripts/test`
/// fails when no test left a marker.
pub(crate) fn mark_ran(test_name: &str) {
    let dir = marker_dir();
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("create interop marker dir {}: {e}", dir.display()));
    let name: String = test_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, b"")
        .unwrap_or_else(|e| panic!("write interop marker {}: {e}", path.display()));
}

fn marker_dir() -> PathBuf {
    // scripts/test sets the first; the others keep `cargo test` by hand
    // writing to the same place.
    if let Some(dir) = std::env::var_os(MARKER_DIR_VAR) {
        return PathBuf::from(dir);
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
    };
    target.join("interop-markers")
}

/// The decoded header of a JWT (no verification).
pub(crate) fn jwt_header(token: &str) -> MotoResult<Value> {
    jwt_part(token, 0)
}

/// The decoded payload of a JWT (no verification).
pub(crate) fn jwt_claims(token: &str) -> MotoResult<Value> {
    jwt_part(token, 1)
}

fn jwt_part(token: &str, index: usize) -> MotoResult<Value> {
    let part = token
        .split('.')
        .nth(index)
        .ok_or_else(|| format!("not a JWT: no part {index}"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|e| format!("JWT part {index} is not base64url: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("JWT part {index} is not JSON: {e}"))
}

fn str_field(value: &Value, field: &str, action: &str) -> MotoResult<String> {
    value
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("{action}: answer lacks {field}: {value}"))
}

fn tokens(answer: &Value, action: &str) -> MotoResult<Tokens> {
    let Some(result) = answer.get("AuthenticationResult") else {
        // No tokens in this answer, so it can be shown (a challenge, say).
        return Err(format!(
            "{action}: no AuthenticationResult (a challenge?): {answer}"
        ));
    };
    // From here on, error messages name fields only: never print tokens.
    let field_names = || {
        result
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    let str_field = |field: &str| {
        result
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                format!(
                    "{action}: AuthenticationResult lacks {field} (has: {})",
                    field_names()
                )
            })
    };
    Ok(Tokens {
        id_token: str_field("IdToken")?,
        access_token: str_field("AccessToken")?,
        refresh_token: result
            .get("RefreshToken")
            .and_then(Value::as_str)
            .map(str::to_owned),
        expires_in: result
            .get("ExpiresIn")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                format!(
                    "{action}: AuthenticationResult lacks ExpiresIn (has: {})",
                    field_names()
                )
            })?,
        token_type: result
            .get("TokenType")
            .and_then(Value::as_str)
            .unwrap_or("Bearer")
            .to_owned(),
    })
}
