//! Helpers shared by the gateway's integration test binaries (`mod support;`).

pub(crate) mod loopback;
// The library's moto client, shared rather than copied.
pub(crate) mod backend;
#[path = "../../../tests/support/moto.rs"]
pub(crate) mod moto;
pub(crate) mod process;
