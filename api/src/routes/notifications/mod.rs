//! `/v1/notifications`: the caller's in-app inbox. Only ever the caller's own notifications.

pub mod list;
pub mod read;
pub mod read_all;
