//! The JSON parsers (ninjs items, the plain JSON envelope, the text fallback for
//! JSON-looking dumps) on their own, without detection: `parse::parse_as(.., Sniffed::Json)`.
//!
//! The body and its invariant checks live in `fuzz/src/lib.rs` (`run`), shared with the
//! regression replay in `tests/fuzz_regressions.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wire_enricher_fuzz::{run, Target};

fuzz_target!(|data: &[u8]| run(Target::ParseJson, data));
