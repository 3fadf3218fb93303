//! Helpers shared by integration test binaries (`mod support;`).

pub(crate) mod loopback;
pub(crate) mod moto;
