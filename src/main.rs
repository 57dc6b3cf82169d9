//! The `wire-enricher` binary. SKELETON: the CLI is being written.

fn main() {}
