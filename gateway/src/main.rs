//! `cognito-gateway`: see the library's documentation, or `--help`.

use clap::Parser;

// glibc's allocator spends a fifth of a proxied request's instructions;
// mimalloc's thread-local free lists cost a fraction of that (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tower_cognito_gateway::main_with(tower_cognito_gateway::Cli::parse()).await
}
