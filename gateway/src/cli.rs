//! The command line: every flag of `cognito-gateway`, each with its
//! environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod commands;
pub use self::commands::{RevokeArgs, TestInvokeArgs};

/// `cognito-gateway`: an API Gateway REST export (OpenAPI with API Gateway's
/// extensions) served on loopback or in front of any backend, its
/// `COGNITO_USER_POOLS` authorizers enforced as API Gateway enforces them.
///
/// ```
/// use clap::Parser;
/// use tower_cognito_gateway::Cli;
///
/// let cli = Cli::try_parse_from(["cognito-gateway", "--listen", "127.0.0.1:0"]).unwrap();
/// assert_eq!(cli.serve.listen.port(), 0);
/// assert!(cli.command.is_none());
/// ```
#[derive(Debug, Parser)]
#[command(
    name = "cognito-gateway",
    version,
    about = "Serve an API Gateway REST export with its Cognito authorizers, mock, http, http_proxy and Lambda aws_proxy integrations",
    long_about = "Serve an API Gateway REST export (OpenAPI 3.x or 2.0 with API Gateway's \
extensions, JSON or YAML) as API Gateway would: COGNITO_USER_POOLS authorizers, mock, http \
and http_proxy integrations with their mapping templates, aws_proxy integrations with a Lambda \
Invoke API (--lambda-endpoint), API Gateway's own error answers byte for byte.\n\nWith no arguments it \
serves the shipped petstore export (mock integrations) behind an embedded dev issuer, offline, \
and prints curl lines to paste.\n\nExit status: 0 after a clean stop, 1 on a runtime failure, \
2 on a configuration or usage error. Apart from COGNITO_TOKEN_VALIDATION, an environment \
variable set to the empty string counts as unset."
)]
pub struct Cli {
    /// Serving options (used when no subcommand is given).
    #[command(flatten)]
    pub serve: ServeArgs,
    /// A subcommand instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The console's Test button: what would API Gateway do with this token on
    /// this route, and why. Exit status: 0 allow, 1 deny, 2 usage or
    /// configuration error.
    TestInvoke(TestInvokeArgs),
    /// Revoke tokens in the shared revocation list (Redis) that gateways
    /// started with `--redis` hold: a token's family (what Cognito's
    /// RevokeToken ends), a family by `origin_jti`, or a user's sessions
    /// (global sign-out). Exit status: 0 revoked, 1 Redis unreachable, 2 bad
    /// arguments.
    Revoke(RevokeArgs),
}

/// What a gateway does with its shared revocation list while Redis is away.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutageMode {
    /// Keep serving with the last list loaded.
    Serve,
    /// Refuse every token (500) until the list is fresh again.
    Deny,
}

/// `on` or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

/// What an operation without integration answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EchoMode {
    /// `{"route":"GET /pets/{petId}","claims":{...}}`.
    Full,
    /// `{}`, so a benchmark compares the authorizer alone.
    Empty,
}

/// The longest connection timeout accepted, a day: past that, deadlines
/// would overflow the clock.
const MAX_TIMEOUT_MS: u64 = 86_400_000;

/// Options of the server.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The export to serve (JSON or YAML, OpenAPI 3.x or 2.0); default: the
    /// shipped petstore export (built into the binary).
    #[arg(long, env = "OPENAPI_FILE", value_name = "FILE")]
    pub openapi: Option<PathBuf>,

    /// A SAM or CloudFormation template (JSON or YAML; `cdk.out/*.template.json`
    /// too) to serve instead of an export: its REST API as deployed, its
    /// Cognito authorizers enforced, its functions invoked at
    /// `--lambda-endpoint`. See docs/sam.md.
    #[arg(
        long,
        env = "TEMPLATE_FILE",
        value_name = "FILE",
        conflicts_with = "openapi"
    )]
    pub template: Option<PathBuf>,

    /// Template parameter values as SAM CLI takes them: `NAME=VALUE` pairs
    /// separated by spaces (quote a value holding spaces), or
    /// `ParameterKey=NAME,ParameterValue=VALUE`; repeatable. Pseudo
    /// parameters too (`AWS::Region=eu-west-1`).
    #[arg(
        long = "parameter-overrides",
        env = "TEMPLATE_PARAMETER_OVERRIDES",
        value_name = "NAME=VALUE",
        requires = "template"
    )]
    pub parameter_overrides: Vec<String>,

    /// The logical ID of the REST API to serve, when the template has several.
    #[arg(
        long = "template-api",
        env = "TEMPLATE_API",
        value_name = "LOGICAL_ID",
        requires = "template"
    )]
    pub template_api: Option<String>,

    /// Address to listen on (port 0: any free port).
    #[arg(
        long,
        env = "GATEWAY_ADDR",
        value_name = "ADDR",
        default_value = "127.0.0.1:3000"
    )]
    pub listen: SocketAddr,

    /// Serving threads, each with its own runtime, listener (one port,
    /// shared with `SO_REUSEPORT`) and backend connection pool; default: one
    /// per CPU but one (at least 1), leaving a CPU to the clients, backends
    /// and kernel beside it. Outside Linux always 1.
    #[arg(long, env = "GATEWAY_WORKERS", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: Option<u16>,

    /// A stage variable for `${stageVariables.NAME}` (repeatable; the variable
    /// takes a comma-separated list).
    #[arg(long = "stage-variable", env = "STAGE_VARIABLES", value_name = "NAME=VALUE",
          value_delimiter = ',', value_parser = name_value)]
    pub stage_variables: Vec<(String, String)>,

    /// A file of `NAME=VALUE` lines (`#` comments), stage variables read at
    /// startup and on every reload; they win over `--stage-variable`.
    #[arg(long, env = "STAGE_VARIABLES_FILE", value_name = "FILE")]
    pub stage_variables_file: Option<PathBuf>,

    /// Reload when the export (or the stage variables file) changes, polling
    /// every `--watch-interval-ms`; `SIGHUP` reloads in any case.
    #[arg(long, env = "GATEWAY_WATCH")]
    pub watch: bool,

    /// How often `--watch` looks at the files.
    #[arg(
        long,
        env = "GATEWAY_WATCH_MILLIS",
        value_name = "MS",
        default_value_t = 1000
    )]
    pub watch_interval_ms: u64,

    /// The stage name, for `$context.stage`.
    #[arg(
        long,
        env = "GATEWAY_STAGE",
        value_name = "NAME",
        default_value = "local"
    )]
    pub stage: String,

    /// User pool ARNs or IDs replacing every authorizer's `providerARNs`
    /// (repeatable; the variable takes a comma-separated list).
    #[arg(
        long = "user-pool",
        env = "COGNITO_USER_POOL_ARNS",
        value_name = "ARN_OR_ID",
        value_delimiter = ','
    )]
    pub user_pools: Vec<String>,

    /// Base URL replacing `https://cognito-idp.{region}.amazonaws.com` for
    /// fetching `/{userPoolId}/.well-known/jwks.json` (an emulator such as moto).
    #[arg(long, env = "COGNITO_JWKS_ENDPOINT", value_name = "URL")]
    pub jwks_endpoint: Option<String>,

    /// The same for the expected `iss`.
    #[arg(long, env = "COGNITO_ISSUER_ENDPOINT", value_name = "URL")]
    pub issuer_endpoint: Option<String>,

    /// Regular expression `aud` must match, replacing every
    /// `identityValidationExpression` (empty: none).
    #[arg(long, env = "COGNITO_TOKEN_VALIDATION", value_name = "REGEX")]
    pub token_validation: Option<String>,

    /// The embedded dev issuer: `1` on, `0` off. Default: on when no export
    /// and none of the Cognito options above is given.
    #[arg(long, env = "GATEWAY_DEV_ISSUER", value_name = "1|0",
          value_parser = clap::builder::PossibleValuesParser::new(["1", "0"]))]
    pub dev_issuer: Option<String>,

    /// `*` or comma-separated origins: a CORS layer outside the authorizer, so
    /// rejections carry CORS headers and preflights are answered first.
    #[arg(
        long = "cors-origin",
        env = "GATEWAY_CORS_ORIGIN",
        value_name = "ORIGINS"
    )]
    pub cors_origin: Option<String>,

    /// Integration URIs starting with FROM are sent to TO instead (a private
    /// backend, a VPC_LINK integration, a local port); `Host` is still set from
    /// the original URI (repeatable; the variable takes a comma-separated list).
    #[arg(long = "integration-base", env = "INTEGRATION_BASES", value_name = "FROM=TO",
          value_delimiter = ',', value_parser = name_value)]
    pub integration_bases: Vec<(String, String)>,

    /// Base URL of the Lambda Invoke API for `aws_proxy` integrations (a local
    /// Lambda emulator such as `cargo lambda watch`): functions are invoked
    /// with `POST {URL}/2015-03-31/functions/{name}/invocations`.
    #[arg(long, env = "LAMBDA_ENDPOINT", value_name = "URL")]
    pub lambda_endpoint: Option<String>,

    /// How long a Lambda authorizer may take to answer; past it the request
    /// gets API Gateway's 500 `{"message":null}`
    /// (`AuthorizerConfigurationException`). Default 10 s, the Lambda
    /// authorizer timeout AWS publishes.
    #[arg(
        long,
        env = "GATEWAY_AUTHORIZER_TIMEOUT_MS",
        value_name = "MS",
        default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_MS)
    )]
    pub authorizer_timeout_ms: u64,

    /// Largest request body accepted (API Gateway's payload limit, 10 MB);
    /// larger: 413 `RequestTooLargeException`.
    #[arg(
        long,
        env = "GATEWAY_MAX_BODY_BYTES",
        value_name = "BYTES",
        default_value_t = 10_485_760
    )]
    pub max_body_bytes: u64,

    /// Operations with an unsupported integration type (`aws`, AWS service
    /// integrations; `aws_proxy` without `--lambda-endpoint`) answer 500
    /// instead of stopping startup.
    #[arg(long, env = "GATEWAY_ALLOW_UNSUPPORTED")]
    pub allow_unsupported: bool,

    /// Serve methods protected by what the gateway does not check (IAM,
    /// API keys, Lambda authorizers) instead of stopping startup: each
    /// answers as AWS answers a request without valid credentials (IAM: 403
    /// Missing Authentication Token; API key: 403 Forbidden; Lambda
    /// authorizer: 401 Unauthorized), never as a public method.
    #[arg(long, env = "GATEWAY_REFUSE_UNSUPPORTED_AUTH")]
    pub refuse_unsupported_auth: bool,

    /// Refuse to start (exit status 2) when the export holds what AWS
    /// deploys but answers otherwise than written, instead of serving it as
    /// AWS does with a `warning:` line for each: a URI naming an unset stage
    /// variable or a `requestParameters` mapping onto `Content-Length` (AWS
    /// answers every request 500), a mapping onto a header AWS does not
    /// send, a `context.*` variable with no value in the gateway, a
    /// `responseParameters` header AWS renames `x-amzn-Remapped-*`. For CI.
    #[arg(long, env = "GATEWAY_STRICT")]
    pub strict: bool,

    /// `off`: no authorizer at all (a benchmark baseline).
    #[arg(long, env = "GATEWAY_AUTH", value_enum, default_value = "on")]
    pub auth: Switch,

    /// What operations without integration answer.
    #[arg(long, env = "GATEWAY_ECHO", value_enum, default_value = "full")]
    pub echo: EchoMode,

    /// `off`, or the verified-token cache's capacity in entries (default 10,000).
    #[arg(long, env = "GATEWAY_TOKEN_CACHE", value_name = "off|ENTRIES")]
    pub token_cache: Option<String>,

    /// Background key refresh interval in seconds (default 3600).
    #[arg(long, env = "GATEWAY_KEY_REFRESH_SECS", value_name = "SECS")]
    pub key_refresh_secs: Option<u64>,

    /// With the dev issuer: write `--dev-tokens` distinct valid ID tokens
    /// there, one per line.
    #[arg(long, env = "GATEWAY_DEV_TOKENS_FILE", value_name = "FILE")]
    pub dev_tokens_file: Option<PathBuf>,

    /// With the dev issuer: the same number of ID tokens that expired a minute ago.
    #[arg(long, env = "GATEWAY_DEV_EXPIRED_TOKENS_FILE", value_name = "FILE")]
    pub dev_expired_tokens_file: Option<PathBuf>,

    /// How many tokens the token files get.
    #[arg(
        long,
        env = "GATEWAY_DEV_TOKENS",
        value_name = "COUNT",
        default_value_t = 1000
    )]
    pub dev_tokens: usize,

    /// With the dev issuer: every so many seconds, publish a new extra key in
    /// place of the previous extra one (the signing keys stay); 0: never.
    #[arg(long, env = "GATEWAY_DEV_ROTATE_SECS", value_name = "SECS")]
    pub dev_rotate_secs: Option<u64>,

    /// A Redis URL (`redis://`, `rediss://`, a managed or Cluster endpoint):
    /// refuse tokens revoked in the list shared there (see `revoke`). The
    /// list is loaded before the gateway listens. Off by default, as on API
    /// Gateway.
    #[arg(long, env = "REDIS_URL", value_name = "URL", hide_env_values = true)]
    pub redis: Option<String>,

    /// With `--redis`: what to do while Redis is unreachable.
    #[arg(
        long,
        env = "GATEWAY_REVOCATION_OUTAGE",
        value_enum,
        default_value = "serve"
    )]
    pub revocation_outage: OutageMode,

    /// With `--redis`: how often the list is reconciled with Redis.
    #[arg(
        long,
        env = "GATEWAY_REVOCATION_RECONCILE_MS",
        value_name = "MS",
        default_value_t = 5000
    )]
    pub revocation_reconcile_ms: u64,

    /// The admin listener (off by default; never the public one): `/metrics`
    /// (Prometheus text), `/ready` (200 once every pool has keys, 503 with the
    /// missing pools otherwise) and `/live`.
    #[arg(long = "admin-listen", env = "GATEWAY_ADMIN_ADDR", value_name = "ADDR")]
    pub admin_listen: Option<SocketAddr>,

    /// One line per request on standard output, in API Gateway's access-log
    /// format: `$context.requestId`, `$context.identity.sourceIp`,
    /// `$context.httpMethod`, `$context.resourcePath`, `$context.status`,
    /// `$context.responseLength`, `$context.authorizer.claims.NAME`,
    /// `$context.error.message`, `$context.integrationLatency`,
    /// `$context.responseLatency`... (AWS's CLF and JSON examples work as
    /// given; what the gateway cannot know is `-`).
    #[arg(
        long = "access-log-format",
        env = "GATEWAY_ACCESS_LOG_FORMAT",
        value_name = "FORMAT"
    )]
    pub access_log_format: Option<String>,

    /// How long a client has to send a whole request head, from the moment
    /// the connection waits for one (HTTP/1; on a keep-alive connection the
    /// wait for the next request counts too); then the connection is closed
    /// without an answer. Default 10 s.
    #[arg(
        long,
        env = "GATEWAY_HEADER_READ_TIMEOUT_MS",
        value_name = "MS",
        default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_MS)
    )]
    pub header_read_timeout_ms: u64,

    /// A connection with no request in flight for this long is closed (HTTP/2:
    /// GOAWAY, open streams finish). Default 60 s; an HTTP/1 connection is
    /// closed sooner when the header-read timeout is shorter.
    #[arg(
        long,
        env = "GATEWAY_IDLE_TIMEOUT_MS",
        value_name = "MS",
        default_value_t = 60_000,
        value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_MS)
    )]
    pub idle_timeout_ms: u64,

    /// How long a request body may go without a byte arriving while the
    /// gateway waits for it; then the request is answered 408 and the
    /// connection closed. Default 30 s.
    #[arg(
        long,
        env = "GATEWAY_BODY_READ_TIMEOUT_MS",
        value_name = "MS",
        default_value_t = 30_000,
        value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_MS)
    )]
    pub body_read_timeout_ms: u64,

    /// Open client connections per process; at the cap, accepting pauses
    /// until one closes. Default: half of the open-file limit
    /// (`RLIMIT_NOFILE`) less 64, since a connection may hold a backend
    /// connection too.
    #[arg(long, env = "GATEWAY_MAX_CONNECTIONS", value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,

    /// HTTP/2: a PING after this long without a frame from the client;
    /// 0: none. Default 30 s.
    #[arg(
        long,
        env = "GATEWAY_HTTP2_KEEP_ALIVE_INTERVAL_MS",
        value_name = "MS",
        default_value_t = 30_000,
        value_parser = clap::value_parser!(u64).range(0..=MAX_TIMEOUT_MS)
    )]
    pub http2_keep_alive_interval_ms: u64,

    /// HTTP/2: the connection is closed when a PING is not answered within
    /// this long. Default 20 s.
    #[arg(
        long,
        env = "GATEWAY_HTTP2_KEEP_ALIVE_TIMEOUT_MS",
        value_name = "MS",
        default_value_t = 20_000,
        value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_MS)
    )]
    pub http2_keep_alive_timeout_ms: u64,

    /// HTTP/2: streams a client may have open at once on one connection
    /// (nginx's default, 128).
    #[arg(
        long,
        env = "GATEWAY_HTTP2_MAX_CONCURRENT_STREAMS",
        value_name = "N",
        default_value_t = 128,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub http2_max_concurrent_streams: u32,
}

/// `Name: value` as a pair.
fn header_line(text: &str) -> Result<(String, String), String> {
    pair(text, ':', "\"Name: value\"", "header name")
}

/// `NAME=VALUE` as a pair.
fn name_value(text: &str) -> Result<(String, String), String> {
    pair(text, '=', "NAME=VALUE", "name")
}

/// `text` split at its first `separator`, both sides trimmed; the name must
/// not be empty.
fn pair(text: &str, separator: char, form: &str, what: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(separator)
        .ok_or_else(|| format!("{text:?}: expected {form}"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("{text:?}: empty {what}"));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}
