//! Wufei's domain: entities, services, ports and adapters shared by `wufei-api` and
//! `wufei-worker`. Nothing here knows about HTTP; services take a connection (`&impl
//! ConnectionTrait`) so the same code runs inside a caller's transaction.

pub mod audit;
pub mod auth;
pub mod catalog;
pub mod config;
pub mod db;
pub mod devices;
pub mod disclosure;
pub mod dispatch;
pub mod entities;
pub mod error;
pub mod idempotency;
pub mod indexing;
pub mod jobs;
pub mod ledger;
pub mod mall;
pub mod marketplace;
pub mod metrics;
pub mod notifications;
pub mod paging;
pub mod pickups;
pub mod platform;
pub mod points;
pub mod ports;
pub mod realtime;
pub mod recyclers;
pub mod seed;
pub mod slots;
pub mod stats;
pub mod uploads;
pub mod validate;
pub mod voice;

pub use error::{Error, Result};
pub use platform::Platform;
