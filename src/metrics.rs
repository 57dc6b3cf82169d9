//! SKELETON: `metrics` is being written.
