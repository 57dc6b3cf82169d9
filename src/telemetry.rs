//! SKELETON: `telemetry` is being written.
