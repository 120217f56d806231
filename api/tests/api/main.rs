//! Black-box HTTP tests: each spawns the application on port 0 with its own database and
//! talks to it over HTTP, on SQLite/embedded always and on PostgreSQL/Redis when
//! `WUFEI_TEST_DATABASE_URL` and `WUFEI_TEST_REDIS_URL` are set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod articles;
mod audit;
mod auth;
mod catalog;
mod concurrency;
mod devices;
mod disclosure;
mod dispatch;
mod errors;
mod faults;
mod flows;
mod helpers;
mod idempotency;
mod mall;
mod marketplace;
mod notifications;
mod openapi;
mod operations;
mod pages;
mod pickups;
mod points;
mod process;
mod rate_limit;
mod recyclers;
mod scale;
mod slots;
mod stats;
mod uploads;
mod users_admin;
mod voice;
mod ws;
