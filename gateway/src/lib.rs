//! `cognito-gateway`: an Amazon API Gateway REST stand-in built on
//! [`tower-cognito`](https://docs.rs/tower-cognito).
//!
//! This crate currently holds the mapping-template engine, [`template`]:
//! API Gateway's dialect of Apache Velocity, parsed once and rendered per
//! request.

pub mod template;
