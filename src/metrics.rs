//! Prometheus metrics: the one place that names every metric the worker exports, and
//! the helpers the pipeline calls to record them.
//!
//! The worker records through the `metrics` facade; [`install`] puts a
//! `metrics-exporter-prometheus` recorder behind it and returns a [`MetricsHandle`] that
//! `crate::http` renders on `/metrics`. Every metric is described and pre-registered at
//! install time, so a scrape right after start-up already shows each one at zero.
//!
//! Must not: open sockets (the HTTP listener lives in `crate::http`), log, or be called
//! from `crate::enrich` (the core stays free of global state).

use std::sync::Mutex;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics::{SetRecorderError, Unit};
use metrics_exporter_prometheus::{
    BuildError, Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use thiserror::Error;

/// Raw stories taken from the input (one per message, redeliveries included).
pub const STORIES_IN: &str = "wire_enricher_stories_in_total";
/// Enriched records published (or printed).
pub const STORIES_OUT: &str = "wire_enricher_stories_out_total";
/// Inputs that ended as a dead letter, labelled with `reason` (a `ParseError::kind`, or a
/// transport reason chosen by the bus).
pub const DEAD_LETTERS: &str = "wire_enricher_dead_letters_total";
/// Messages JetStream delivered more than once: a sign of slow acks or crashes.
pub const REDELIVERIES: &str = "wire_enricher_redeliveries_total";
/// Publish attempts that failed and were retried.
pub const PUBLISH_RETRIES: &str = "wire_enricher_publish_retries_total";
/// Wall time one story spends in one stage, labelled with `stage`.
pub const STAGE_SECONDS: &str = "wire_enricher_stage_seconds";
/// Items waiting in a bounded pipeline channel, labelled with `channel`: the stage that
/// fills it (`source`, `parse`, `quotes`, `entities`). A channel that stays full means the
/// stage after the one it is labelled with is the bottleneck.
pub const CHANNEL_DEPTH: &str = "wire_enricher_channel_depth";
/// Payload bytes taken from the input.
pub const BYTES_IN: &str = "wire_enricher_bytes_in_total";
/// Record bytes published (serialised JSON).
pub const BYTES_OUT: &str = "wire_enricher_bytes_out_total";

/// Every metric name, for tests and documentation.
pub const ALL_METRICS: [&str; 9] = [
    STORIES_IN,
    STORIES_OUT,
    DEAD_LETTERS,
    REDELIVERIES,
    PUBLISH_RETRIES,
    STAGE_SECONDS,
    CHANNEL_DEPTH,
    BYTES_IN,
    BYTES_OUT,
];

/// Histogram bucket bounds for [`STAGE_SECONDS`], in seconds: parsing a short story takes
/// tens of microseconds, a publish round trip to a slow server can take seconds, so the
/// buckets run from 50 µs to 5 s in roughly 1-2.5-5 steps.
pub const STAGE_SECONDS_BUCKETS: [f64; 15] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 5.0,
];

/// Stage labels pre-registered at install, so their histograms show from the first scrape.
/// Other labels may still be used; they appear once first recorded.
pub const KNOWN_STAGES: [&str; 4] = ["parse", "quotes", "entities", "publish"];

/// Channel labels pre-registered at install: each bounded channel of the pipeline, named
/// by the stage that fills it (the source's own, then each CPU stage's output; the
/// entity stage's feeds the sink). The relay's channel appears once it is used.
pub const KNOWN_CHANNELS: [&str; 4] = ["source", "parse", "quotes", "entities"];

/// Dead-letter reasons pre-registered at install: every `ParseError::kind`, plus the
/// spine's own `publish_failed` (retries exhausted), `internal_error` (a stage panicked)
/// and `max_deliveries` (the server stopped delivering it; see `bus::rescue`).
pub const KNOWN_DEAD_LETTER_REASONS: [&str; 12] = [
    "empty",
    "too_large",
    "invalid_utf8",
    "binary",
    "malformed_json",
    "malformed_html",
    "malformed_xml",
    "no_body",
    "not_a_story",
    "publish_failed",
    "internal_error",
    "max_deliveries",
];

/// Why the metrics recorder could not be installed.
#[derive(Debug, Error)]
pub enum MetricsError {
    /// The exporter rejected its configuration (e.g. empty bucket list).
    #[error("cannot build the Prometheus recorder")]
    Build(#[source] BuildError),
    /// Another `metrics` recorder is already installed in this process.
    #[error("another metrics recorder is already installed")]
    AlreadyInstalled(#[source] SetRecorderError<PrometheusRecorder>),
}

/// Renders the installed recorder's metrics. Cheap to clone.
#[derive(Debug, Clone)]
pub struct MetricsHandle {
    inner: PrometheusHandle,
}

impl MetricsHandle {
    /// The current metrics in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        self.inner.render()
    }

    /// Drains recorded histogram samples into their buckets. Rendering does this too; call
    /// it periodically so samples do not pile up when nobody scrapes.
    pub fn run_upkeep(&self) {
        self.inner.run_upkeep();
    }
}

/// The handle of the recorder this process installed, so a second [`install`] (tests,
/// or `main` and a test harness in one process) returns it instead of failing.
static INSTALLED: Mutex<Option<MetricsHandle>> = Mutex::new(None);

/// Installs the Prometheus recorder as the global `metrics` recorder, describes and
/// pre-registers every metric, and returns the handle to render them.
///
/// Calling it again in the same process returns the same handle.
///
/// # Errors
/// [`MetricsError::AlreadyInstalled`] when some other recorder is already installed;
/// [`MetricsError::Build`] when the recorder cannot be configured.
pub fn install() -> Result<MetricsHandle, MetricsError> {
    // A poisoned lock only means a panic elsewhere while holding it; the Option inside is
    // still either set or unset, so keep going.
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(handle) = installed.as_ref() {
        return Ok(handle.clone());
    }
    let recorder = build_recorder()?;
    let handle = MetricsHandle {
        inner: recorder.handle(),
    };
    metrics::set_global_recorder(recorder).map_err(MetricsError::AlreadyInstalled)?;
    describe_all();
    register_all();
    *installed = Some(handle.clone());
    Ok(handle)
}

/// A recorder configured with the worker's histogram buckets, not yet installed.
fn build_recorder() -> Result<PrometheusRecorder, MetricsError> {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(STAGE_SECONDS.to_owned()),
            &STAGE_SECONDS_BUCKETS,
        )
        .map_err(MetricsError::Build)?;
    Ok(builder.build_recorder())
}

/// Gives every metric its `# HELP` line and unit.
fn describe_all() {
    describe_counter!(STORIES_IN, Unit::Count, "Raw stories taken from the input.");
    describe_counter!(STORIES_OUT, Unit::Count, "Enriched records published.");
    describe_counter!(
        DEAD_LETTERS,
        Unit::Count,
        "Inputs that ended as a dead letter, by reason."
    );
    describe_counter!(
        REDELIVERIES,
        Unit::Count,
        "Messages delivered more than once by JetStream."
    );
    describe_counter!(
        PUBLISH_RETRIES,
        Unit::Count,
        "Failed publish attempts that were retried."
    );
    describe_histogram!(
        STAGE_SECONDS,
        Unit::Seconds,
        "Time one story spends in one pipeline stage."
    );
    describe_gauge!(
        CHANNEL_DEPTH,
        Unit::Count,
        "Items waiting in a bounded pipeline channel."
    );
    describe_counter!(BYTES_IN, Unit::Bytes, "Payload bytes taken from the input.");
    describe_counter!(BYTES_OUT, Unit::Bytes, "Record bytes published.");
}

/// Registers every metric (and the known label values) at zero.
fn register_all() {
    for name in [
        STORIES_IN,
        STORIES_OUT,
        REDELIVERIES,
        PUBLISH_RETRIES,
        BYTES_IN,
        BYTES_OUT,
    ] {
        counter!(name).absolute(0);
    }
    for reason in KNOWN_DEAD_LETTER_REASONS {
        counter!(DEAD_LETTERS, "reason" => reason).absolute(0);
    }
    for stage in KNOWN_STAGES {
        // Registering is enough: the histogram renders with zero counts.
        let _ = histogram!(STAGE_SECONDS, "stage" => stage);
    }
    for channel in KNOWN_CHANNELS {
        gauge!(CHANNEL_DEPTH, "channel" => channel).set(0.0);
    }
}

/// One raw story of `bytes` bytes came in.
pub fn story_in(bytes: usize) {
    counter!(STORIES_IN).increment(1);
    counter!(BYTES_IN).increment(as_u64(bytes));
}

/// One record of `bytes` bytes went out.
pub fn story_out(bytes: usize) {
    counter!(STORIES_OUT).increment(1);
    counter!(BYTES_OUT).increment(as_u64(bytes));
}

/// One input ended as a dead letter for `reason`.
pub fn dead_letter(reason: &'static str) {
    counter!(DEAD_LETTERS, "reason" => reason).increment(1);
}

/// One message arrived that JetStream had delivered before.
pub fn redelivered() {
    counter!(REDELIVERIES).increment(1);
}

/// One publish failed and will be retried.
pub fn publish_retry() {
    counter!(PUBLISH_RETRIES).increment(1);
}

/// One story spent `secs` seconds in `stage`.
pub fn stage_seconds(stage: &'static str, secs: f64) {
    histogram!(STAGE_SECONDS, "stage" => stage).record(secs);
}

/// `channel` currently holds `depth` items.
pub fn channel_depth(channel: &'static str, depth: usize) {
    // Channel depths are small (bounded by config), so the f64 conversion is exact.
    gauge!(CHANNEL_DEPTH, "channel" => channel).set(depth as f64);
}

fn as_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` against a fresh, non-global recorder and returns what it renders.
    fn render_with(f: impl FnOnce()) -> String {
        let recorder = build_recorder().expect("static bucket config is valid");
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            describe_all();
            register_all();
            f();
        });
        handle.render()
    }

    #[test]
    fn fresh_recorder_shows_every_metric_at_zero() {
        let text = render_with(|| {});
        for name in ALL_METRICS {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
        assert!(text.contains("wire_enricher_stories_in_total 0"), "{text}");
        assert!(
            text.contains("wire_enricher_dead_letters_total{reason=\"malformed_json\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("wire_enricher_stage_seconds_count{stage=\"parse\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE wire_enricher_stage_seconds histogram"),
            "{text}"
        );
    }

    #[test]
    fn helpers_update_the_named_metrics() {
        let text = render_with(|| {
            story_in(100);
            story_in(20);
            story_out(300);
            dead_letter("binary");
            redelivered();
            publish_retry();
            publish_retry();
            stage_seconds("quotes", 0.000_2);
            channel_depth("entities", 7);
        });
        for line in [
            "wire_enricher_stories_in_total 2",
            "wire_enricher_bytes_in_total 120",
            "wire_enricher_stories_out_total 1",
            "wire_enricher_bytes_out_total 300",
            "wire_enricher_dead_letters_total{reason=\"binary\"} 1",
            "wire_enricher_redeliveries_total 1",
            "wire_enricher_publish_retries_total 2",
            "wire_enricher_stage_seconds_bucket{stage=\"quotes\",le=\"0.00025\"} 1",
            "wire_enricher_stage_seconds_bucket{stage=\"quotes\",le=\"0.0001\"} 0",
            "wire_enricher_channel_depth{channel=\"entities\"} 7",
        ] {
            assert!(text.contains(line), "{line:?} missing from:\n{text}");
        }
    }

    #[test]
    fn install_is_idempotent_and_renders_every_name() {
        let first = install().expect("first install in this test process");
        let second = install().expect("second install returns the same handle");
        story_in(5);
        let text = second.render();
        for name in ALL_METRICS {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
        assert!(first.render().contains(STORIES_IN));
    }
}
