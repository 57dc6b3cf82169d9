//! Format detection and the whole parse stage as the worker runs it: any bytes plus a
//! Content-Type hint (first byte) -> `parse::sniff` -> `parse::parse`.
//!
//! The body and its invariant checks live in `fuzz/src/lib.rs` (`run`), shared with the
//! regression replay in `tests/fuzz_regressions.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wire_enricher_fuzz::{run, Target};

fuzz_target!(|data: &[u8]| run(Target::Detect, data));
