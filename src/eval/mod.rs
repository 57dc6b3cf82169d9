//! Offline accuracy evaluations against the development data in `../shared/data`.
//!
//! Each submodule runs the real enrichment core over a dev file and writes predictions
//! in the form `../shared/data/score.py` (or `data/parse/score.py`) reads.
