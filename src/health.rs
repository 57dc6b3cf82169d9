//! Liveness and readiness state shared by the bus (which sets it) and the HTTP
//! listener (which reports it on `/healthz` and `/readyz`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Shared, cheap-to-clone health flags.
#[derive(Debug, Clone, Default)]
pub struct Health {
    inner: Arc<Flags>,
}

#[derive(Debug, Default)]
struct Flags {
    connected: AtomicBool,
    consuming: AtomicBool,
    shutting_down: AtomicBool,
    stalled: AtomicBool,
}

impl Health {
    /// New flags: not connected, not consuming.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bus connection went up or down.
    pub fn set_connected(&self, connected: bool) {
        self.inner.connected.store(connected, Ordering::Relaxed);
    }

    /// The source has (or has lost) its subscription / pull consumer.
    pub fn set_consuming(&self, consuming: bool) {
        self.inner.consuming.store(consuming, Ordering::Relaxed);
    }

    /// Shutdown started: readiness goes false so load balancers and probes stop routing.
    pub fn set_shutting_down(&self) {
        self.inner.shutting_down.store(true, Ordering::Relaxed);
    }

    /// A stage held one story past `pipeline.stall_timeout`: liveness fails from now on
    /// (the worker is about to exit for its supervisor to restart it).
    pub fn set_stalled(&self) {
        self.inner.stalled.store(true, Ordering::Relaxed);
    }

    /// Whether a stage stalled (see [`Health::set_stalled`]).
    pub fn is_stalled(&self) -> bool {
        self.inner.stalled.load(Ordering::Relaxed)
    }

    /// Ready to take work: connected, consuming, not shutting down.
    pub fn is_ready(&self) -> bool {
        self.inner.connected.load(Ordering::Relaxed)
            && self.inner.consuming.load(Ordering::Relaxed)
            && !self.inner.shutting_down.load(Ordering::Relaxed)
    }

    /// Whether the bus connection is currently up.
    pub fn is_connected(&self) -> bool {
        self.inner.connected.load(Ordering::Relaxed)
    }
}
