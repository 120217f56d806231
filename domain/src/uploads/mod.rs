//! Uploads: not yet written.
