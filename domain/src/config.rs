//! Configuration: not yet written.
