//! Placeholder: the pubsub port arrives with its adapters.
