//! SKELETON: the bus adapters are being written.
