//! `cognito-gateway`: an Amazon API Gateway REST export served locally or in
//! front of any backend, its `COGNITO_USER_POOLS` authorizers enforced byte for
//! byte by [`tower_cognito`].
//!
//! ```sh
//! cargo run --release -p tower-cognito-gateway
//! ```
//!
//! serves the shipped petstore export (mock integrations) behind an embedded
//! dev issuer, offline, and prints `curl` lines to paste. `--openapi FILE`
//! serves your own export; `cognito-gateway --help` lists every flag and its
//! environment variable.
//!
//! A request's way through the gateway, one module per step:
//! identifiers (`x-amzn-RequestId`, `x-amz-apigw-id`), path safety, route
//! (unknown: 403 Missing Authentication Token), the library's authorizer, the
//! operation's integration (`mock`, `http` and `http_proxy`, with their
//! mapping templates; `aws_proxy` with Lambda through the Invoke API at
//! `--lambda-endpoint`; for an operation without integration an echo of the
//! route and claims; `aws` service integrations are refused at startup, or
//! answer 500 with `--allow-unsupported`), and API Gateway's own answers
//! with the export's `x-amazon-apigateway-gateway-responses` applied.
//!
//! Around the pipeline, each request is observed once its response body is
//! sent: a tracing span (`RUST_LOG`), a sample of
//! `http_server_request_duration_seconds` for the admin listener's `/metrics`
//! (`--admin-listen`, with `/ready` and `/live`), and an access-log line in
//! API Gateway's format (`--access-log-format`).
//!
//! [`template`] holds API Gateway's mapping-template dialect (Velocity),
//! parsed once and rendered per request.
//!
//! The binary is a thin wrapper over [`main_with`]:
//!
//! ```no_run
//! use clap::Parser;
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     tower_cognito_gateway::main_with(tower_cognito_gateway::Cli::parse()).await
//! }
//! ```

mod access_log;
mod admin;
mod answers;
mod authorizers;
mod cli;
mod config;
mod dev_issuer;
mod extensions;
mod headers;
mod ids;
mod integration;
mod mapping;
mod observe;
mod path_safety;
mod pipeline;
mod reload;
mod revoke;
mod sam;
mod serve;
pub mod template;
mod test_invoke;
pub mod validation;
mod workers;

use std::process::ExitCode;

pub use cli::{Cli, Command, EchoMode, OutageMode, RevokeArgs, ServeArgs, Switch, TestInvokeArgs};

/// Runs the gateway (or its subcommand) to the end and gives the exit status:
/// serving, 0 after a clean stop, 1 on a runtime failure, 2 on a configuration
/// error; `test-invoke`, 0 allow, 1 deny, 2 configuration error.
///
/// ```no_run
/// use clap::Parser;
/// use tower_cognito_gateway::{main_with, Cli};
///
/// # async fn run() {
/// let cli = Cli::parse_from(["cognito-gateway", "--listen", "127.0.0.1:0"]);
/// let status = main_with(cli).await;
/// # drop(status); }
/// ```
pub async fn main_with(cli: Cli) -> ExitCode {
    match cli.command {
        Some(Command::TestInvoke(args)) => match test_invoke::run(args).await {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(message) => {
                eprintln!("test-invoke: {message}");
                ExitCode::from(2)
            }
        },
        Some(Command::Revoke(args)) => match revoke::run(args).await {
            Ok(done) => {
                println!("{done}");
                ExitCode::SUCCESS
            }
            Err(revoke::Failure::Usage(message)) => {
                eprintln!("revoke: {message}");
                ExitCode::from(2)
            }
            Err(revoke::Failure::Store(message)) => {
                eprintln!("revoke: {message}");
                ExitCode::FAILURE
            }
        },
        None => match serve::run(cli.serve).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(serve::Failure::Config(message)) => {
                eprintln!("cognito-gateway: configuration error: {message}");
                ExitCode::from(2)
            }
            Err(serve::Failure::Runtime(message)) => {
                eprintln!("cognito-gateway: {message}");
                ExitCode::FAILURE
            }
        },
    }
}
