//! SKELETON: `config` is being written.
