//! Helpers shared by the gateway's integration test binaries (`mod support;`).

pub(crate) mod backend;
pub(crate) mod emulator;
// The library's loopback HTTP client and moto client, shared rather than copied.
#[path = "../../../tests/support/loopback.rs"]
pub(crate) mod loopback;
#[path = "../../../tests/support/moto.rs"]
pub(crate) mod moto;
pub(crate) mod process;
pub(crate) mod python;
#[path = "../../../tests/support/redis.rs"]
pub(crate) mod redis;
