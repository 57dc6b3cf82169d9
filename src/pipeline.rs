//! SKELETON: `pipeline` is being written.
