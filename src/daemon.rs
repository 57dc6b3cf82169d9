//! `wire-enricher run`: wires config, NATS, the pipeline, the HTTP listener and the
//! shutdown token together, and owns the bounded drain at the end.
//!
//! Order: bind HTTP (so `/healthz` answers at once and `/readyz` says not-ready), connect
//! (the client retries on its own), build source and sink, run the pipeline until the
//! token is cancelled, wait for it to drain for at most `shutdown.timeout`, then drain the
//! NATS client so every ack and publish leaves before exit.
//!
//! Must not: install signal handlers or telemetry (main does), or parse stories.

use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio_util::sync::CancellationToken;

use crate::bus::{self, BusError, CoreSource, JetStreamSource, NatsSink, Sink, Source};
use crate::config::{Config, InputMode};
use crate::enrich::{EnrichOptions, Enricher};
use crate::health::Health;
use crate::metrics::MetricsHandle;
use crate::pipeline;
use crate::stall::{Held, StallWatch};

/// Time always left for the final client drain, even when the pipeline used up the
/// shutdown budget: acks already sent must still reach the server.
const MIN_CLIENT_DRAIN_MS: u64 = 500;

/// Why the daemon stopped with an error.
#[derive(Debug, Error)]
pub enum DaemonError {
    /// The HTTP listen address could not be bound.
    #[error("cannot listen on {address}")]
    Listen {
        /// The configured address.
        address: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// NATS failed in a way the worker cannot recover from.
    #[error(transparent)]
    Bus(#[from] BusError),
    /// `entities.model_file` could not be read.
    #[error("cannot read entities.model_file {path}")]
    ModelFile {
        /// The configured file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A stage held one story past `pipeline.stall_timeout`; the worker exits so its
    /// supervisor restarts it.
    #[error(
        "{0}, past pipeline.stall_timeout; exiting for a restart (in JetStream mode the story is redelivered, and dead-lettered as max_deliveries once input.max_deliver deliveries are spent)"
    )]
    Stalled(Held),
    /// `entities.model_file` is not a usable model.
    #[error("entities.model_file {path} is not a usable model")]
    Model {
        /// The configured file.
        path: std::path::PathBuf,
        /// Why the model was refused.
        #[source]
        source: crate::enrich::entities::ModelError,
    },
}

/// The enrichment core as configured: the embedded entity model, or the model file named
/// by `entities.model_file`, with the configured limits. Offline `enrich` uses it too, so
/// both produce the same records.
///
/// # Errors
/// [`DaemonError::ModelFile`] / [`DaemonError::Model`] when the model file cannot be used.
pub fn load_enricher(config: &Config) -> Result<Enricher, DaemonError> {
    let options = EnrichOptions {
        max_story_bytes: config.limits.max_story_bytes,
    };
    let Some(path) = &config.entities.model_file else {
        return Ok(Enricher::with_embedded_model(options));
    };
    let bytes = std::fs::read(path).map_err(|source| DaemonError::ModelFile {
        path: path.clone(),
        source,
    })?;
    let model =
        crate::enrich::entities::Model::load(&bytes).map_err(|source| DaemonError::Model {
            path: path.clone(),
            source,
        })?;
    Ok(Enricher::new(options, model))
}

/// What the daemon runs between its source and its sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The worker: parse, quotes, entities; one record per story (`wire-enricher run`).
    Enrich,
    /// Pass-through, stages skipped, no model loaded: a benchmarking tool whose output is
    /// the input bytes, not records (`wire-enricher relay`; see [`pipeline::Work::Relay`]).
    Relay,
}

/// Runs the worker until `token` is cancelled (then drains and returns `Ok`) or a fatal
/// error occurs.
///
/// # Errors
/// [`DaemonError`] when the listener cannot be bound or NATS cannot be set up.
pub async fn run(
    config: Config,
    mode: Mode,
    health: Health,
    metrics: MetricsHandle,
    token: CancellationToken,
) -> Result<(), DaemonError> {
    let http_token = CancellationToken::new();
    let http = start_http(&config, health.clone(), metrics, http_token.clone()).await?;
    let result = run_worker(&config, mode, &health, &token).await;
    http_token.cancel();
    let _ = http.await;
    result
}

async fn start_http(
    config: &Config,
    health: Health,
    metrics: MetricsHandle,
    token: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, DaemonError> {
    let address = config.http.listen.clone();
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|source| DaemonError::Listen {
            address: address.clone(),
            source,
        })?;
    let local = listener.local_addr().map_or(address, |a| a.to_string());
    tracing::info!(address = %local, "HTTP listening (/healthz, /readyz, /metrics).");
    Ok(tokio::spawn(async move {
        if let Err(error) = crate::http::serve(listener, health, metrics, token).await {
            tracing::error!(%error, "HTTP listener failed.");
        }
    }))
}

async fn run_worker(
    config: &Config,
    mode: Mode,
    health: &Health,
    token: &CancellationToken,
) -> Result<(), DaemonError> {
    tracing::info!(
        servers = %config.nats.redacted_url(),
        mode = ?config.input.mode,
        "Connecting to NATS."
    );
    warn_on_short_duplicate_window(config);
    let reconnected = Arc::new(tokio::sync::Notify::new());
    let client =
        bus::nats::connect_with_signal(&config.nats, health.clone(), Arc::clone(&reconnected))
            .await?;
    let (source, sink) = build_bus(&client, config, health, reconnected);
    let work = pipeline_work(config, mode)?;
    let rescue = start_rescue(&client, config, &sink, token);
    let settings = pipeline::Settings::from_config(config);
    let watch = Arc::clone(&settings.watch);
    // Cancelled by a signal (the parent) or by a stall.
    let pipeline_token = token.child_token();
    let pipeline = pipeline::run(source, sink, work, settings, pipeline_token.clone());
    tokio::pin!(pipeline);

    let mut stall = None;
    let mut result = tokio::select! {
        result = &mut pipeline => result,
        () = token.cancelled() => Ok(()),
        held = stalled(&watch, config.pipeline.stall_limit()) => {
            health.set_stalled();
            let error = DaemonError::Stalled(held);
            tracing::error!(%error, "Stage stalled; shutting down.");
            stall = Some(error);
            pipeline_token.cancel();
            Ok(())
        }
    };
    let shutdown_started = Instant::now();
    health.set_shutting_down();
    if pipeline_token.is_cancelled() {
        // Keep a little of the budget for the client drain, so the whole shutdown fits.
        let pipeline_budget = config
            .shutdown
            .timeout
            .saturating_sub(Duration::from_millis(MIN_CLIENT_DRAIN_MS));
        match tokio::time::timeout(pipeline_budget, &mut pipeline).await {
            Ok(drained) => result = drained,
            Err(_) => tracing::warn!(
                timeout = ?config.shutdown.timeout,
                "Shutdown timeout reached with stories in flight; they stay unacked and will be redelivered."
            ),
        }
    }
    if let Some(rescue) = rescue {
        // Safe at any point: an advisory is acked only once its dead letter is stored.
        rescue.abort();
    }
    drain_client(&client, config.shutdown.timeout, shutdown_started).await;
    match stall {
        Some(error) => Err(error),
        None => result.map_err(DaemonError::from),
    }
}

/// Resolves once a stage has held one story for `limit`; never when `limit` is `None`.
async fn stalled(watch: &StallWatch, limit: Option<Duration>) -> Held {
    match limit {
        Some(limit) => watch.stalled(limit).await,
        None => std::future::pending().await,
    }
}

/// The pipeline's work for `mode`; only the worker loads the entity model.
fn pipeline_work(config: &Config, mode: Mode) -> Result<pipeline::Work, DaemonError> {
    match mode {
        Mode::Enrich => {
            let enricher = Arc::new(load_enricher(config)?);
            tracing::info!(
                model = enricher.model_name(),
                parallelism = config.pipeline.effective_parallelism(),
                "Worker started."
            );
            Ok(pipeline::Work::Enrich(enricher))
        }
        Mode::Relay => {
            tracing::warn!(
                output = %config.output.subject,
                "Relay started: stages skipped, inputs are published unchanged (benchmarking only; the output is not records)."
            );
            Ok(pipeline::Work::Relay)
        }
    }
}

/// Redeliveries outside the output stream's duplicate window would publish a record
/// twice; the window should cover every delivery of a story.
fn warn_on_short_duplicate_window(config: &Config) {
    if config.input.mode != InputMode::Jetstream {
        return;
    }
    let deliveries = u32::try_from(config.input.max_deliver).unwrap_or(u32::MAX);
    let worst = config.input.ack_wait.saturating_mul(deliveries);
    if config.output.duplicate_window < worst {
        tracing::warn!(
            duplicate_window = ?config.output.duplicate_window,
            ack_wait_times_max_deliver = ?worst,
            "output.duplicate_window is shorter than ack_wait x max_deliver; a late redelivery could duplicate a record."
        );
    }
}

fn build_bus(
    client: &async_nats::Client,
    config: &Config,
    health: &Health,
    reconnected: Arc<tokio::sync::Notify>,
) -> (Source, Sink) {
    match config.input.mode {
        InputMode::Jetstream => {
            let js = async_nats::jetstream::new(client.clone());
            let source = JetStreamSource::new(js.clone(), config.clone(), health.clone())
                .with_reconnect_signal(reconnected);
            let sink = NatsSink::new(client.clone(), Some(js), config);
            (Source::JetStream(source), Sink::Nats(sink))
        }
        InputMode::Core => {
            let source = CoreSource::new(client.clone(), config.clone(), health.clone());
            let sink = NatsSink::new(client.clone(), None, config);
            (Source::Core(source), Sink::Nats(sink))
        }
    }
}

/// In JetStream mode, starts the rescue of the stories the server stops delivering (see
/// [`bus::rescue`]); it sets itself up and retries on its own, so nothing here waits on
/// NATS.
fn start_rescue(
    client: &async_nats::Client,
    config: &Config,
    sink: &Sink,
    token: &CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    if !matches!(config.input.mode, InputMode::Jetstream) {
        return None;
    }
    let Sink::Nats(sink) = sink;
    let js = async_nats::jetstream::new(client.clone());
    let rescue = bus::rescue::Rescue::new(js, sink.clone(), config);
    Some(tokio::spawn(rescue.run(token.clone())))
}

/// Flushes and closes the connection within what is left of the shutdown budget.
async fn drain_client(client: &async_nats::Client, budget: Duration, since: Instant) {
    let left = budget
        .saturating_sub(since.elapsed())
        .max(Duration::from_millis(MIN_CLIENT_DRAIN_MS));
    let drained = tokio::time::timeout(left, async {
        let _ = client.flush().await;
        client.drain().await
    })
    .await;
    match drained {
        Ok(Ok(())) => tracing::info!("NATS connection drained."),
        Ok(Err(error)) => tracing::warn!(%error, "NATS drain failed."),
        Err(_) => tracing::warn!("NATS drain timed out."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enricher_uses_the_embedded_model_unless_a_model_file_is_set() {
        let config = Config::default();
        let enricher = load_enricher(&config).expect("embedded model");
        assert_eq!(
            enricher.model_name(),
            crate::enrich::entities::Model::embedded().name()
        );
    }

    #[test]
    fn a_missing_or_broken_model_file_is_a_clear_startup_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::default();
        config.entities.model_file = Some(dir.path().join("absent.bin"));
        assert!(matches!(
            load_enricher(&config),
            Err(DaemonError::ModelFile { .. })
        ));
        let broken = dir.path().join("broken.bin");
        std::fs::write(&broken, b"not a model").expect("write");
        config.entities.model_file = Some(broken);
        let error = load_enricher(&config).expect_err("garbage is refused");
        assert!(matches!(error, DaemonError::Model { .. }), "{error}");
        assert!(error.to_string().contains("entities.model_file"), "{error}");
    }
}
