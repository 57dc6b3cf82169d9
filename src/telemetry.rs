//! Logging setup and the per-story span.
//!
//! [`init`] installs the process-wide `tracing` subscriber (called once, from `main`):
//! an `EnvFilter` built from the configured level, writing text or JSON lines to stderr
//! (stdout belongs to offline `enrich` output). [`story_span`] builds the one span every
//! message carries through the pipeline, so every event about a story names it.
//!
//! Must not: be called from `crate::enrich`, read story bodies, or write to stdout.

use thiserror::Error;
use tracing_subscriber::filter::{EnvFilter, ParseError};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::{SubscriberInitExt, TryInitError};

/// The filter used when the configured level is empty.
pub const DEFAULT_LEVEL: &str = "info";

/// Why logging could not be set up.
#[derive(Debug, Error)]
pub enum TelemetryError {
    /// The level is not a valid `EnvFilter` directive list (e.g. `info`,
    /// `wire_enricher=debug,async_nats=warn`).
    #[error("invalid log level or filter {level:?}")]
    InvalidLevel {
        /// The rejected filter text.
        level: String,
        /// What the filter parser said.
        #[source]
        source: ParseError,
    },
    /// A global subscriber is already installed in this process.
    #[error("a tracing subscriber is already installed")]
    AlreadyInitialized(#[source] TryInitError),
}

/// Installs the global subscriber: events at or above `level` (any `EnvFilter`
/// directive list), as JSON lines when `json`, else human-readable text, on stderr.
///
/// # Errors
/// [`TelemetryError::InvalidLevel`] for a bad filter, [`TelemetryError::AlreadyInitialized`]
/// when called twice.
pub fn init(json: bool, level: &str) -> Result<(), TelemetryError> {
    let filter = filter_for(level)?;
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            )
            .try_init()
    } else {
        registry
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .try_init()
    };
    result.map_err(TelemetryError::AlreadyInitialized)
}

/// The `EnvFilter` for a configured level; an empty level means [`DEFAULT_LEVEL`].
///
/// The HTML parser's warnings are kept at error unless the level names `html5ever`: it warns
/// once per misplaced token, so one hostile page could write hundreds of thousands of lines.
fn filter_for(level: &str) -> Result<EnvFilter, TelemetryError> {
    let directives = match level.trim() {
        "" => DEFAULT_LEVEL,
        trimmed => trimmed,
    };
    let directives = if directives.contains("html5ever") {
        directives.to_owned()
    } else {
        format!("{directives},html5ever=error")
    };
    EnvFilter::try_new(directives).map_err(|source| TelemetryError::InvalidLevel {
        level: level.to_owned(),
        source,
    })
}

/// The span of one message: created by the source, entered by every stage.
///
/// Fields: `story_id`, `subject`, `stream_seq` and `delivered` (JetStream delivery count;
/// absent for core NATS and offline inputs). An empty `story_id` leaves the field
/// unset so the pipeline can fill it in once parsing found the id:
/// `span.record("story_id", id)`.
pub fn story_span(
    story_id: &str,
    subject: &str,
    stream_sequence: Option<u64>,
    delivered: Option<u64>,
) -> tracing::Span {
    let span = tracing::info_span!(
        "story",
        story_id = tracing::field::Empty,
        subject,
        stream_seq = stream_sequence,
        delivered,
    );
    if !story_id.is_empty() {
        span.record("story_id", story_id);
    }
    span
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// A writer that collects everything the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("test lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().expect("test lock")).into_owned()
        }
    }

    #[test]
    fn level_accepts_directives_and_defaults_when_empty() {
        assert!(filter_for("debug").is_ok());
        assert!(filter_for("wire_enricher=debug,async_nats=warn").is_ok());
        // The HTML parser's per-token warnings stay at error unless the level names it.
        for level in ["", "debug", "info,async_nats=warn"] {
            let filter = filter_for(level).expect("valid").to_string();
            assert!(filter.contains("html5ever=error"), "{level:?}: {filter}");
        }
        let own = filter_for("debug,html5ever=warn")
            .expect("valid")
            .to_string();
        assert!(own.contains("html5ever=warn") && !own.contains("html5ever=error"));
        let default = filter_for("  ").expect("default").to_string();
        assert!(default.split(',').any(|d| d == "info"), "{default}");
    }

    #[test]
    fn bad_level_is_a_typed_error() {
        let err = filter_for("wire_enricher=loud").expect_err("not a level");
        assert!(
            matches!(err, TelemetryError::InvalidLevel { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("wire_enricher=loud"));
    }

    /// What `f` logs, as JSON lines with the current span.
    fn json_log_of(f: impl FnOnce()) -> String {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        out.text()
    }

    #[test]
    fn story_span_carries_its_fields_into_events() {
        let text = json_log_of(|| {
            let span = story_span("", "wire.raw.reuters", Some(42), Some(2));
            span.record("story_id", "sha256:abc");
            let _entered = span.enter();
            tracing::info!("Story parsed.");
        });
        for needle in [
            "\"story_id\":\"sha256:abc\"",
            "\"subject\":\"wire.raw.reuters\"",
            "\"stream_seq\":42",
            "\"delivered\":2",
            "Story parsed.",
        ] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
    }

    #[test]
    fn story_span_omits_unknown_transport_fields() {
        let text = json_log_of(|| {
            let span = story_span("story-1", "-", None, None);
            let _entered = span.enter();
            tracing::info!("Offline story.");
        });
        assert!(text.contains("\"story_id\":\"story-1\""), "{text}");
        assert!(!text.contains("stream_seq"), "{text}");
    }
}
