//! The entity stage (tokeniser, tagger, clustering, speaker links) after the quote stage,
//! on a story built from fuzzer text (`body \x1e headline \x1e caption...`).
//!
//! The body and its invariant checks live in `fuzz/src/lib.rs` (`run`), shared with the
//! regression replay in `tests/fuzz_regressions.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wire_enricher_fuzz::{run, Target};

fuzz_target!(|data: &[u8]| run(Target::Entities, data));
