//! Claims from any JSON value, and their API Gateway rendering.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_cognito::claims::CognitoClaims;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(claims) = CognitoClaims::from_json(value) {
        let map = claims.api_gateway();
        for (k, v) in map.iter() {
            assert_eq!(map.get(k), Some(v));
        }
        let _ = (claims.username(), claims.client_id(), claims.scopes().count());
        let _ = claims.groups().count();
    }
});
