//! Test support shared by the integration suites under `domain/tests/`. Nothing here is
//! compiled into Wufei itself.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod queue;
pub mod s3_double;
