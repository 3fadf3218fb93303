//! The Lambda emulator the `aws_proxy` and Lambda-authorizer suites call
//! (`scripts/lambda-env.sh` starts it and names it in
//! `TOWER_COGNITO_LAMBDA_ENDPOINT`).
#![allow(dead_code)] // only the suites that call Lambda functions use it

/// The variable naming the emulator's address.
const ENDPOINT_VAR: &str = "TOWER_COGNITO_LAMBDA_ENDPOINT";

/// The emulator's address. Without one, the test says so and how to get
/// one, and is skipped; under `scripts/test`
/// (`TOWER_COGNITO_REQUIRE_INTEROP=1`) a missing emulator fails it.
/// `suite` is the test binary's name, for the command that runs it.
pub(crate) fn emulator(suite: &str) -> Option<String> {
    if let Some(endpoint) = std::env::var(ENDPOINT_VAR)
        .ok()
        .filter(|e| !e.trim().is_empty())
    {
        return Some(endpoint.trim().to_owned());
    }
    if std::env::var("TOWER_COGNITO_REQUIRE_INTEROP").is_ok_and(|v| v == "1") {
        panic!(
            "TOWER_COGNITO_REQUIRE_INTEROP=1 but {ENDPOINT_VAR} is not set: start the Lambda \
             emulator with scripts/lambda-env.sh (or run the suite with scripts/test)"
        );
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "{suite} test skipped: it needs the Lambda emulator; run scripts/test, or \
         scripts/lambda-env.sh run cargo test -p tower-cognito-gateway --test {suite}"
    );
    None
}
