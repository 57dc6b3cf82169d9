//! SKELETON: `shutdown` is being written.
