//! OpenAPI import: any document (JSON or YAML) is parsed, and an accepted one
//! is built into a layer and summarised.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_cognito::openapi::{ImportOptions, OpenApiImport};
use tower_cognito::CognitoAuthLayer;

fuzz_target!(|data: &[u8]| {
    let Ok(document) = std::str::from_utf8(data) else {
        return;
    };
    let options = ImportOptions::new().stage_variable("userPoolId", "us-east-1_AbCdEf123");
    let Ok(import) = OpenApiImport::parse(document, &options) else {
        return;
    };
    // Built outside a runtime: nothing is fetched until a request comes.
    if let Ok(layer) = CognitoAuthLayer::builder()
        .openapi_import(&import)
        .jwks_endpoint("http://127.0.0.1:1")
        .build()
    {
        let summary = layer.policy_summary();
        for route in &summary.routes {
            let _ = route.to_string();
        }
    }
});
