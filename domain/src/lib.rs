//! Wufei's domain: entities, services, ports and adapters shared by `wufei-api` and
//! `wufei-worker`. Nothing here knows about HTTP; services take a connection (`&impl
//! ConnectionTrait`) so the same code runs inside a caller's transaction.

pub mod config;
pub mod entities;
pub mod ports;
pub mod uploads;
