//! sea-orm entities, one file per table. The schema itself is owned by `wufei-migrations`.

pub mod address;
pub mod audit_log;
pub mod category;
pub mod category_rate;
pub mod community;
pub mod district;
pub mod idempotency_key;
pub mod job;
pub mod notification;
pub mod offer;
pub mod outbox;
pub mod pickup;
pub mod pickup_event;
pub mod pickup_item;
pub mod pickup_slot;
pub mod recycler;
pub mod recycler_district;
pub mod recycler_slot_load;
pub mod refresh_token;
pub mod slot_template;
pub mod upload;
pub mod user;
