//! SKELETON: `http` is being written.
