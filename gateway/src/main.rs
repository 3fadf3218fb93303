//! `cognito-gateway`: see the library's documentation, or `--help`.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tower_cognito_gateway::main_with(tower_cognito_gateway::Cli::parse()).await
}
