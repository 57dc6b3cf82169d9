//! SKELETON: offline input reading and `enrich` are being written.
