//! SKELETON: the daemon (`wire-enricher run`) is being written.
