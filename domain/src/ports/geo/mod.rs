//! Placeholder: the geo port arrives with its adapters.
