//! The subcommands' options: `revoke` and `test-invoke`.

use std::path::PathBuf;

use clap::Args;

use super::{header_line, name_value};

/// Options of `revoke`: one of `--token`, `--origin-jti` with `--until`, or
/// `--pool` with `--sub`.
///
/// ```
/// use clap::Parser;
/// use tower_cognito_gateway::{Cli, Command};
///
/// let cli = Cli::try_parse_from([
///     "cognito-gateway", "revoke", "--redis", "redis://127.0.0.1:6379",
///     "--pool", "us-east-1_AbCdEf123", "--sub", "3c9c4f61",
/// ]).unwrap();
/// let Some(Command::Revoke(args)) = cli.command else { panic!() };
/// assert_eq!(args.sub.as_deref(), Some("3c9c4f61"));
/// assert!(Cli::try_parse_from(["cognito-gateway", "revoke", "--redis", "redis://x", "--origin-jti", "f"]).is_err());
/// ```
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["token", "origin_jti", "pool"]))]
pub struct RevokeArgs {
    /// The Redis URL the gateways use (never printed: it may hold a password).
    #[arg(long, env = "REDIS_URL", value_name = "URL", hide_env_values = true)]
    pub redis: String,
    /// Revoke this token's family (`origin_jti`, else `jti`) until its `exp`:
    /// what RevokeToken on its refresh token revokes. Bare or `Bearer ...`;
    /// `-` reads it from stdin. Its signature is not checked.
    #[arg(long, value_name = "TOKEN", conflicts_with_all = ["origin_jti", "pool"])]
    pub token: Option<String>,
    /// Revoke the family with this `origin_jti` (or `jti`).
    #[arg(long, value_name = "ID", requires = "until", conflicts_with = "pool")]
    pub origin_jti: Option<String>,
    /// With `--origin-jti`: until when (seconds since the epoch), the last
    /// `exp` of the family's tokens.
    #[arg(long, value_name = "EPOCH", requires = "origin_jti")]
    pub until: Option<i64>,
    /// Revoke a user of this pool (ID or ARN): every token signed in before
    /// `--before`.
    #[arg(long, value_name = "POOL_ID", requires = "sub")]
    pub pool: Option<String>,
    /// With `--pool`: the user's `sub`.
    #[arg(long, value_name = "SUB", requires = "pool")]
    pub sub: Option<String>,
    /// With `--pool`: tokens with `auth_time` before this (seconds since the
    /// epoch) are refused; default: now, the current second included.
    #[arg(long, value_name = "EPOCH", requires = "pool")]
    pub before: Option<i64>,
    /// With `--pool`: the longest ID/access token validity of the pool's app
    /// clients, how long the entry is kept after `--before`.
    #[arg(long, value_name = "SECS", default_value_t = 86_400, requires = "pool")]
    pub max_token_lifetime: u64,
    /// The key prefix in Redis (as the gateways').
    #[arg(
        long,
        value_name = "PREFIX",
        default_value = "tower-cognito",
        hide = true
    )]
    pub key_prefix: String,
}

/// Options of `test-invoke`.
///
/// ```
/// use clap::Parser;
/// use tower_cognito_gateway::{Cli, Command};
///
/// let cli = Cli::try_parse_from([
///     "cognito-gateway", "test-invoke", "--token", "-", "--pool", "us-east-1_AbCdEf123",
/// ]).unwrap();
/// let Some(Command::TestInvoke(args)) = cli.command else { panic!() };
/// assert_eq!(args.pool, ["us-east-1_AbCdEf123"]);
/// ```
#[derive(Debug, Args)]
pub struct TestInvokeArgs {
    /// The token to test, bare or `Bearer ...`; `-` reads it from stdin.
    #[arg(long, value_name = "TOKEN")]
    pub token: String,
    /// API Gateway OpenAPI export (default: the shipped petstore export).
    #[arg(long, value_name = "FILE", conflicts_with = "pool")]
    pub openapi: Option<PathBuf>,
    /// A user pool (repeatable), instead of a document.
    #[arg(long, value_name = "ID_OR_ARN")]
    pub pool: Vec<String>,
    /// With --pool: require an access token with one of these scopes (repeatable).
    #[arg(long, value_name = "SCOPE", requires = "pool")]
    pub scope: Vec<String>,
    /// The request to test, `"METHOD /path"` (default with --pool: `"GET /"`;
    /// required with a document).
    #[arg(
        long,
        value_name = "\"METHOD /path\"",
        required_unless_present = "pool"
    )]
    pub route: Option<String>,
    /// The pools' keys as a JWKS document (no fetch).
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<PathBuf>,
    /// Base URL of the JWKS (as COGNITO_JWKS_ENDPOINT).
    #[arg(long, value_name = "URL")]
    pub jwks_endpoint: Option<String>,
    /// Base URL of the expected iss (as COGNITO_ISSUER_ENDPOINT).
    #[arg(long, value_name = "URL")]
    pub issuer_endpoint: Option<String>,
    /// Token validation regular expression for aud.
    #[arg(long, value_name = "REGEX")]
    pub token_validation: Option<String>,
    /// The Lambda Invoke API (as LAMBDA_ENDPOINT): a route behind a Lambda
    /// authorizer is decided by calling its function there.
    #[arg(long, value_name = "URL")]
    pub lambda_endpoint: Option<String>,
    /// A stage variable for the export's `${stageVariables.NAME}` (repeatable).
    #[arg(long = "stage-variable", value_name = "NAME=VALUE", value_parser = name_value)]
    pub stage_variables: Vec<(String, String)>,
    /// The stage, for the method ARN a Lambda authorizer gets.
    #[arg(long, value_name = "NAME", default_value = "local")]
    pub stage: String,
    /// A request header (repeatable), for a REQUEST authorizer's sources;
    /// the token fills the header sources left unset.
    #[arg(long = "header", value_name = "NAME: VALUE", value_parser = header_line)]
    pub headers: Vec<(String, String)>,
}
