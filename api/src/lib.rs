//! `wufei-api`: the HTTP edge. Parses and authorises; domain services decide.

pub mod cache;
pub mod cli;
pub mod extract;
pub mod idempotency;
pub mod middleware;
pub mod openapi;
pub mod problem;
pub mod routes;
pub mod startup;
pub mod telemetry;

pub use startup::Application;
