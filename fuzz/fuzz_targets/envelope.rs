//! The payload scan against `serde_json`: for any bytes, the scan accepts
//! exactly what the full claims parse accepts (without repeated members),
//! and reads the same issuer, time claims and policy claims.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tower_cognito::fuzz_hooks::envelope_agrees_with_serde(data);
});
