//! NATS adapters: connecting (auth, TLS, reconnect), making sure the streams and the
//! durable consumer exist, the JetStream pull source, the core queue-group source, and
//! the publisher of records and dead letters.
//!
//! Must not: change an existing stream or consumer (differences are logged and the
//! existing one is used as it is), log secrets or story bodies, or ack an input before
//! its outcome is published (acking is the pipeline's call, through [`AckHandle`]).

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, PullConsumer};
use async_nats::jetstream::message::{Acker, PublishMessage};
use async_nats::jetstream::stream;
use async_nats::jetstream::AckKind;
use async_nats::{HeaderMap, Subject};
use backon::BackoffBuilder;
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use super::{BusError, DeadLetter, Delivery, InputMeta, OutboundRecord, PublishError};
use crate::config::{Config, NatsConfig};
use crate::health::Health;

/// CloudEvents `ce-type` of a published record.
pub const RECORD_EVENT_TYPE: &str = "org.wire-enricher.story.enriched.v1";

/// How long the source waits for messages already pulled in a batch to arrive when it
/// stops, so they can be nak'ed instead of waiting out `ack_wait`.
const PREFETCH_NAK_GRACE_MS: u64 = 200;

/// Connects to NATS with the configured servers, auth and TLS. The client reconnects
/// on its own (unlimited by default, with a capped delay); each connection change is
/// logged once and mirrored into `health`.
///
/// # Errors
/// [`BusError::ReadSecret`] for unreadable secret files, [`BusError::Connect`] when the
/// options are invalid. An unreachable server is not an error: the client keeps trying.
pub async fn connect(config: &NatsConfig, health: Health) -> Result<async_nats::Client, BusError> {
    connect_with_signal(config, health, Arc::new(Notify::new())).await
}

/// [`connect`], also waking everyone waiting on `reconnected` each time the connection
/// comes back, so a source can renew its pull request at once instead of waiting for
/// the lost one to expire.
///
/// # Errors
/// See [`connect`].
pub async fn connect_with_signal(
    config: &NatsConfig,
    health: Health,
    reconnected: Arc<Notify>,
) -> Result<async_nats::Client, BusError> {
    let options = connect_options(config, health, reconnected).await?;
    let servers: Vec<async_nats::ServerAddr> = config
        .servers()
        .iter()
        .map(|s| s.parse())
        .collect::<Result<_, _>>()
        .map_err(|source: std::io::Error| BusError::Connect {
            source: async_nats::ConnectError::with_source(
                async_nats::ConnectErrorKind::ServerParse,
                source,
            ),
        })?;
    options
        .connect(servers)
        .await
        .map_err(|source| BusError::Connect { source })
}

async fn connect_options(
    config: &NatsConfig,
    health: Health,
    reconnected: Arc<Notify>,
) -> Result<async_nats::ConnectOptions, BusError> {
    let max_delay = config.reconnect_max_delay;
    let mut options = async_nats::ConnectOptions::new()
        .name(concat!("wire-enricher/", env!("CARGO_PKG_VERSION")))
        .connection_timeout(config.connect_timeout)
        .retry_on_initial_connect()
        .max_reconnects((config.max_reconnects > 0).then_some(config.max_reconnects))
        .reconnect_delay_callback(move |attempts| reconnect_delay(attempts, max_delay))
        .event_callback(move |event| {
            let health = health.clone();
            let reconnected = Arc::clone(&reconnected);
            async move { on_event(&health, &reconnected, event) }
        });
    if let Some(path) = &config.credentials_file {
        options = options
            .credentials_file(path)
            .await
            .map_err(|source| BusError::ReadSecret {
                what: "nats.credentials_file",
                path: path.clone(),
                source,
            })?;
    }
    if let Some(path) = &config.nkey_seed_file {
        options = options.nkey(read_secret("nats.nkey_seed_file", path)?);
    }
    if let Some(path) = &config.token_file {
        options = options.token(read_secret("nats.token_file", path)?);
    }
    if let Some(token) = &config.token {
        options = options.token(token.expose().to_owned());
    }
    if let Some(user) = &config.user {
        let password = match (&config.password_file, &config.password) {
            (Some(path), _) => read_secret("nats.password_file", path)?,
            (None, Some(secret)) => secret.expose().to_owned(),
            (None, None) => String::new(),
        };
        options = options.user_and_password(user.clone(), password);
    }
    if let Some(ca) = &config.tls_ca {
        options = options.add_root_certificates(ca.clone()).require_tls(true);
    }
    if let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) {
        options = options
            .add_client_certificate(cert.clone(), key.clone())
            .require_tls(true);
    }
    Ok(options)
}

fn read_secret(what: &'static str, path: &std::path::Path) -> Result<String, BusError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|source| BusError::ReadSecret {
            what,
            path: path.to_owned(),
            source,
        })
}

/// Reconnect delay: 100ms doubling per attempt, capped at `max`.
fn reconnect_delay(attempts: usize, max: Duration) -> Duration {
    let exponent = u32::try_from(attempts.min(16)).unwrap_or(16);
    Duration::from_millis(100)
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(max)
}

fn on_event(health: &Health, reconnected: &Notify, event: async_nats::Event) {
    match event {
        async_nats::Event::Connected => {
            health.set_connected(true);
            reconnected.notify_waiters();
            tracing::info!("Connected to NATS.");
        }
        async_nats::Event::Disconnected => {
            health.set_connected(false);
            tracing::warn!("Disconnected from NATS, reconnecting.");
        }
        async_nats::Event::Closed => {
            health.set_connected(false);
            tracing::info!("NATS connection closed.");
        }
        // Every failed reconnect attempt reports one of these; the disconnect itself was
        // already logged once above.
        async_nats::Event::ClientError(error) => {
            tracing::debug!(%error, "NATS client error.");
        }
        async_nats::Event::Draining => tracing::info!("NATS connection draining."),
        other => tracing::warn!(event = %other, "NATS client event."),
    }
}

/// Makes sure the input, output and dead-letter streams exist (creating missing ones);
/// an existing stream is used as it is and any difference from the config is logged.
///
/// # Errors
/// [`BusError::Stream`] when a stream can be neither read nor created.
pub async fn ensure_streams(
    js: &async_nats::jetstream::Context,
    config: &Config,
) -> Result<(), BusError> {
    let wanted = [
        stream::Config {
            name: config.input.stream.clone(),
            subjects: config.input.subjects.clone(),
            num_replicas: config.input.replicas,
            ..Default::default()
        },
        stream::Config {
            name: config.output.stream.clone(),
            subjects: vec![config.output.subject.clone()],
            num_replicas: config.output.replicas,
            duplicate_window: config.output.duplicate_window,
            ..Default::default()
        },
        stream::Config {
            name: config.dead_letter.stream.clone(),
            subjects: vec![config.dead_letter.subject.clone()],
            num_replicas: config.dead_letter.replicas,
            duplicate_window: config.output.duplicate_window,
            ..Default::default()
        },
        // Before the first pull, so the server's first max-deliveries advisory is kept.
        super::rescue::advisory_stream_config(
            &config.input.stream,
            &config.input.durable,
            config.input.replicas,
        ),
    ];
    for want in wanted {
        ensure_stream(js, want).await?;
    }
    Ok(())
}

pub(super) async fn ensure_stream(
    js: &async_nats::jetstream::Context,
    want: stream::Config,
) -> Result<(), BusError> {
    let name = want.name.clone();
    let stream_error = |source: async_nats::Error| BusError::Stream {
        stream: name.clone(),
        source,
    };
    match js.get_stream(&name).await {
        Ok(existing) => {
            log_stream_differences(&existing.cached_info().config, &want);
            Ok(())
        }
        Err(e) if is_not_found(&e) => match js.create_stream(want).await {
            Ok(_) => {
                tracing::info!(stream = %name, "Created stream.");
                Ok(())
            }
            // Another worker may have created it in the meantime.
            Err(create) => match js.get_stream(&name).await {
                Ok(_) => Ok(()),
                Err(_) => Err(stream_error(Box::new(create))),
            },
        },
        Err(e) => Err(stream_error(Box::new(e))),
    }
}

fn is_not_found(error: &async_nats::jetstream::context::GetStreamError) -> bool {
    use async_nats::jetstream::context::GetStreamErrorKind;
    use async_nats::jetstream::ErrorCode;
    matches!(error.kind(), GetStreamErrorKind::JetStream(e) if e.error_code() == ErrorCode::STREAM_NOT_FOUND)
}

fn log_stream_differences(have: &stream::Config, want: &stream::Config) {
    let mut differences = Vec::new();
    let mut have_subjects = have.subjects.clone();
    let mut want_subjects = want.subjects.clone();
    have_subjects.sort();
    want_subjects.sort();
    if have_subjects != want_subjects {
        differences.push(format!(
            "subjects {have_subjects:?} (config {want_subjects:?})"
        ));
    }
    if have.num_replicas != want.num_replicas {
        differences.push(format!(
            "replicas {} (config {})",
            have.num_replicas, want.num_replicas
        ));
    }
    if !want.duplicate_window.is_zero() && have.duplicate_window != want.duplicate_window {
        differences.push(format!(
            "duplicate_window {:?} (config {:?})",
            have.duplicate_window, want.duplicate_window
        ));
    }
    if !differences.is_empty() {
        tracing::warn!(
            stream = %have.name,
            differences = %differences.join("; "),
            "Existing stream differs from the config; using it as it is."
        );
    }
}

/// Gets the durable pull consumer, creating it when missing; an existing consumer is used
/// as it is and any difference from the config is logged.
///
/// # Errors
/// [`BusError::Consumer`] when it can be neither read nor created.
pub async fn ensure_consumer(
    js: &async_nats::jetstream::Context,
    config: &Config,
) -> Result<PullConsumer, BusError> {
    let input = &config.input;
    let consumer_error = |source: async_nats::Error| BusError::Consumer {
        stream: input.stream.clone(),
        durable: input.durable.clone(),
        source,
    };
    let stream = js
        .get_stream(&input.stream)
        .await
        .map_err(|e| consumer_error(Box::new(e)))?;
    let want = pull::Config {
        durable_name: Some(input.durable.clone()),
        ack_policy: AckPolicy::Explicit,
        ack_wait: input.ack_wait,
        max_deliver: input.max_deliver,
        max_ack_pending: input.max_ack_pending,
        ..Default::default()
    };
    match stream.get_consumer::<pull::Config>(&input.durable).await {
        Ok(consumer) => {
            log_consumer_differences(&consumer.cached_info().config, &want);
            Ok(consumer)
        }
        Err(_) => match stream.create_consumer(want).await {
            Ok(consumer) => {
                tracing::info!(stream = %input.stream, durable = %input.durable, "Created consumer.");
                Ok(consumer)
            }
            Err(create) => stream
                .get_consumer(&input.durable)
                .await
                .map_err(|_| consumer_error(Box::new(create))),
        },
    }
}

fn log_consumer_differences(have: &async_nats::jetstream::consumer::Config, want: &pull::Config) {
    let mut differences = Vec::new();
    if have.ack_wait != want.ack_wait {
        differences.push(format!(
            "ack_wait {:?} (config {:?})",
            have.ack_wait, want.ack_wait
        ));
    }
    if have.max_deliver != want.max_deliver {
        differences.push(format!(
            "max_deliver {} (config {})",
            have.max_deliver, want.max_deliver
        ));
    }
    if have.max_ack_pending != want.max_ack_pending {
        differences.push(format!(
            "max_ack_pending {} (config {})",
            have.max_ack_pending, want.max_ack_pending
        ));
    }
    if !differences.is_empty() {
        tracing::warn!(
            durable = ?have.durable_name,
            differences = %differences.join("; "),
            "Existing consumer differs from the config; using it as it is."
        );
    }
}

/// Settles one input message: ack, term or nak, and keeps it alive meanwhile.
///
/// While the handle lives, a task sends in-progress acks every third of `ack_wait`, so
/// long work never lets the server redeliver. Dropping the handle unsettled stops the
/// keep-alive and lets the server redeliver after `ack_wait`.
pub struct AckHandle {
    acker: Option<Acker>,
    keepalive: Option<tokio::task::JoinHandle<()>>,
}

impl fmt::Debug for AckHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AckHandle")
            .field("jetstream", &self.acker.is_some())
            .finish()
    }
}

impl AckHandle {
    /// A handle with nothing to settle (core NATS).
    pub fn none() -> Self {
        Self {
            acker: None,
            keepalive: None,
        }
    }

    /// A handle for a JetStream message, sending in-progress acks every third of
    /// `ack_wait` until it is settled or dropped.
    pub fn jetstream(message: &async_nats::jetstream::Message, ack_wait: Duration) -> Self {
        let reply: Option<Subject> = message.message.reply.clone();
        let progress = Acker::new(message.context.clone(), reply.clone());
        let period = (ack_wait / 3).max(Duration::from_millis(100));
        let keepalive = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                if let Err(error) = progress.ack_with(AckKind::Progress).await {
                    tracing::debug!(%error, "In-progress ack failed.");
                }
            }
        });
        Self {
            acker: Some(Acker::new(message.context.clone(), reply)),
            keepalive: Some(keepalive),
        }
    }

    /// Whether settling this handle tells the server anything (JetStream).
    pub fn is_acknowledged(&self) -> bool {
        self.acker.is_some()
    }

    /// Done: the outcome is published.
    pub async fn ack(self) {
        self.settle(AckKind::Ack).await;
    }

    /// Never redeliver: the input went to the dead letters.
    pub async fn term(self) {
        self.settle(AckKind::Term).await;
    }

    /// Redeliver after `delay`.
    pub async fn nak(self, delay: Option<Duration>) {
        self.settle(AckKind::Nak(delay)).await;
    }

    async fn settle(mut self, kind: AckKind) {
        if let Some(keepalive) = self.keepalive.take() {
            keepalive.abort();
        }
        if let Some(acker) = self.acker.take() {
            // A lost ack only means a redelivery, which Nats-Msg-Id de-duplicates.
            if let Err(error) = acker.ack_with(kind).await {
                tracing::warn!(%error, ?kind, "Could not settle input message.");
            }
        }
    }
}

impl Drop for AckHandle {
    fn drop(&mut self) {
        if let Some(keepalive) = self.keepalive.take() {
            keepalive.abort();
        }
    }
}

/// The JetStream durable pull source.
pub struct JetStreamSource {
    js: async_nats::jetstream::Context,
    config: Config,
    health: Health,
    reconnected: Arc<Notify>,
}

impl fmt::Debug for JetStreamSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JetStreamSource")
            .field("stream", &self.config.input.stream)
            .field("durable", &self.config.input.durable)
            .finish()
    }
}

/// Why one pull batch ended.
enum BatchEnd {
    /// All its messages arrived (or it expired): pull the next one.
    Done,
    /// The pull failed: recreate the consumer handle before pulling again.
    Failed,
    /// Shutdown: stop pulling.
    Cancelled,
}

impl JetStreamSource {
    /// A source on `config.input`, using an already connected JetStream context.
    pub fn new(js: async_nats::jetstream::Context, config: Config, health: Health) -> Self {
        Self {
            js,
            config,
            health,
            reconnected: Arc::new(Notify::new()),
        }
    }

    /// Renews the pull request whenever `reconnected` fires (see [`connect_with_signal`]):
    /// pull requests do not survive a server restart.
    pub fn with_reconnect_signal(mut self, reconnected: Arc<Notify>) -> Self {
        self.reconnected = reconnected;
        self
    }

    /// Pulls batches until `token` is cancelled, handing each message to `tx`. A full
    /// channel stops pulling (backpressure). Failures recreate the consumer with a
    /// growing, capped delay; they never end the loop.
    pub async fn run(self, tx: mpsc::Sender<Delivery>, token: CancellationToken) {
        let mut failures = 0usize;
        'consumer: while !token.is_cancelled() {
            let consumer = tokio::select! {
                _ = token.cancelled() => break,
                result = async {
                    ensure_streams(&self.js, &self.config).await?;
                    ensure_consumer(&self.js, &self.config).await
                } => result,
            };
            let consumer = match consumer {
                Ok(consumer) => consumer,
                Err(error) => {
                    self.health.set_consuming(false);
                    let delay = retry_delay(failures);
                    failures += 1;
                    tracing::warn!(error = %super::error_chain(&error), ?delay, "Cannot get the input consumer, retrying.");
                    if sleep_or_cancel(delay, &token).await {
                        break;
                    }
                    continue;
                }
            };
            if failures > 0 || !self.health.is_ready() {
                tracing::info!(durable = %self.config.input.durable, "Consuming.");
            }
            self.health.set_consuming(true);
            failures = 0;
            loop {
                match self.run_batch(&consumer, &tx, &token).await {
                    BatchEnd::Done => {}
                    BatchEnd::Cancelled => break 'consumer,
                    BatchEnd::Failed => {
                        self.health.set_consuming(false);
                        if sleep_or_cancel(retry_delay(failures), &token).await {
                            break 'consumer;
                        }
                        failures += 1;
                        continue 'consumer;
                    }
                }
                if tx.is_closed() {
                    break 'consumer;
                }
            }
        }
        self.health.set_consuming(false);
        tracing::info!("Source stopped fetching.");
    }

    /// One pull request: receive its messages into a small queue while feeding the
    /// channel, so a slow pipeline never lets a pulled message expire unseen.
    async fn run_batch(
        &self,
        consumer: &PullConsumer,
        tx: &mpsc::Sender<Delivery>,
        token: &CancellationToken,
    ) -> BatchEnd {
        let input = &self.config.input;
        // The limit the server applies is the existing consumer's, whatever the config says.
        let max_deliver = u64::try_from(consumer.cached_info().config.max_deliver)
            .ok()
            .filter(|max| *max > 0);
        let request = consumer
            .batch()
            .max_messages(input.batch)
            .expires(input.fetch_expires)
            .messages();
        let reconnected = self.reconnected.notified();
        tokio::pin!(reconnected);
        let mut batch = tokio::select! {
            _ = token.cancelled() => return BatchEnd::Cancelled,
            result = request => match result {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::warn!(%error, "Pull request failed.");
                    return BatchEnd::Failed;
                }
            },
        };
        let mut queue: VecDeque<Delivery> = VecDeque::new();
        let mut received_all = false;
        let mut end = BatchEnd::Done;
        while !(received_all && queue.is_empty()) {
            tokio::select! {
                biased;
                _ = token.cancelled() => {
                    self.nak_prefetched(queue, batch).await;
                    return BatchEnd::Cancelled;
                }
                () = &mut reconnected, if !received_all => {
                    // The pull request died with the old connection: stop waiting for it,
                    // hand on what already arrived, then pull again.
                    tracing::info!("Reconnected; renewing the pull request.");
                    received_all = true;
                    end = BatchEnd::Failed;
                }
                permit = tx.reserve(), if !queue.is_empty() => match permit {
                    Ok(permit) => {
                        if let Some(delivery) = queue.pop_front() {
                            permit.send(delivery);
                        }
                        crate::metrics::channel_depth("source", tx.max_capacity() - tx.capacity());
                    }
                    Err(_) => {
                        self.nak_prefetched(queue, batch).await;
                        return BatchEnd::Cancelled;
                    }
                },
                next = batch.next(), if !received_all => match next {
                    Some(Ok(message)) => queue.push_back(self.delivery(message, max_deliver)),
                    Some(Err(error)) => {
                        tracing::warn!(%error, "Pull batch failed.");
                        received_all = true;
                        end = BatchEnd::Failed;
                    }
                    None => received_all = true,
                },
            }
        }
        end
    }

    /// Shutdown: gives back what was pulled but not started, so another worker gets it
    /// at once instead of after `ack_wait`.
    async fn nak_prefetched(&self, queue: VecDeque<Delivery>, mut batch: pull::Batch) {
        let mut count = 0usize;
        for delivery in queue {
            delivery.ack.nak(None).await;
            count += 1;
        }
        let grace = Duration::from_millis(PREFETCH_NAK_GRACE_MS);
        while let Ok(Some(Ok(message))) = tokio::time::timeout(grace, batch.next()).await {
            self.delivery(message, None).ack.nak(None).await;
            count += 1;
        }
        if count > 0 {
            tracing::info!(count, "Gave back prefetched messages.");
        }
    }

    fn delivery(
        &self,
        message: async_nats::jetstream::Message,
        max_deliver: Option<u64>,
    ) -> Delivery {
        let received_at = jiff::Timestamp::now();
        let (stream, stream_sequence, delivered, stored_at) = match message.info() {
            Ok(info) => (
                Some(info.stream.to_owned()),
                Some(info.stream_sequence),
                u64::try_from(info.delivered).unwrap_or(1),
                jiff::Timestamp::from_second(info.published.unix_timestamp()).ok(),
            ),
            Err(_) => (Some(self.config.input.stream.clone()), None, 1, None),
        };
        let ack = AckHandle::jetstream(&message, self.config.input.ack_wait);
        let headers = message.message.headers.as_ref();
        let meta = InputMeta {
            subject: message.message.subject.to_string(),
            stream,
            stream_sequence,
            delivered,
            max_deliver,
            message_id: header(headers, "Nats-Msg-Id"),
            content_type: header(headers, "Content-Type"),
            received_at,
            stored_at,
        };
        Delivery::new(meta, message.message.payload.clone(), ack)
    }
}

fn header(headers: Option<&HeaderMap>, name: &str) -> Option<String> {
    headers
        .and_then(|h| h.get(name))
        .map(|v| v.as_str().to_owned())
}

/// Delay before the `failures`-th retry of a broken consumer: 200ms doubling, capped at
/// 5s, with jitter so restarted workers do not retry in step.
pub(super) fn retry_delay(failures: usize) -> Duration {
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(usize::MAX)
        .with_jitter()
        .build()
        .nth(failures.min(32))
        .unwrap_or(Duration::from_secs(5))
}

/// Sleeps for `delay` unless `token` is cancelled first; true when cancelled.
pub(super) async fn sleep_or_cancel(delay: Duration, token: &CancellationToken) -> bool {
    tokio::select! {
        _ = token.cancelled() => true,
        _ = tokio::time::sleep(delay) => false,
    }
}

/// The core NATS queue-group source: at-most-once, nothing to ack.
pub struct CoreSource {
    client: async_nats::Client,
    config: Config,
    health: Health,
}

impl fmt::Debug for CoreSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoreSource")
            .field("subjects", &self.config.input.subjects)
            .field("queue_group", &self.config.input.queue_group)
            .finish()
    }
}

impl CoreSource {
    /// A source on `config.input.subjects` in `config.input.queue_group`.
    pub fn new(client: async_nats::Client, config: Config, health: Health) -> Self {
        Self {
            client,
            config,
            health,
        }
    }

    /// Receives until `token` is cancelled. A full channel stops reading; the client's
    /// subscription buffer then fills and the server drops messages for this worker
    /// (core NATS is at-most-once).
    ///
    /// # Errors
    /// [`BusError::Subscribe`] when a subscription cannot be made.
    pub async fn run(
        self,
        tx: mpsc::Sender<Delivery>,
        token: CancellationToken,
    ) -> Result<(), BusError> {
        let mut subscriptions = Vec::new();
        for subject in &self.config.input.subjects {
            let subscription = self
                .client
                .queue_subscribe(subject.clone(), self.config.input.queue_group.clone())
                .await
                .map_err(|source| BusError::Subscribe {
                    subject: subject.clone(),
                    source,
                })?;
            subscriptions.push(subscription);
        }
        // Readiness only once the server has the subscriptions (flush = PING/PONG).
        if let Err(error) = self.client.flush().await {
            tracing::warn!(%error, "Flush after subscribing failed.");
        }
        let mut messages = futures::stream::select_all(subscriptions);
        self.health.set_consuming(true);
        loop {
            let message = tokio::select! {
                _ = token.cancelled() => break,
                message = messages.next() => message,
            };
            let Some(message) = message else { break };
            let headers = message.headers.as_ref();
            let meta = InputMeta {
                subject: message.subject.to_string(),
                stream: None,
                stream_sequence: None,
                delivered: 1,
                max_deliver: None,
                message_id: header(headers, "Nats-Msg-Id"),
                content_type: header(headers, "Content-Type"),
                received_at: jiff::Timestamp::now(),
                stored_at: None,
            };
            let delivery = Delivery::new(meta, message.payload.clone(), AckHandle::none());
            tokio::select! {
                _ = token.cancelled() => break,
                sent = tx.send(delivery) => if sent.is_err() { break },
            }
            crate::metrics::channel_depth("source", tx.max_capacity() - tx.capacity());
        }
        self.health.set_consuming(false);
        for subscription in messages.iter_mut() {
            let _ = subscription.unsubscribe().await;
        }
        tracing::info!("Source stopped receiving.");
        Ok(())
    }
}

/// Publishes records and dead letters: through JetStream (awaiting the stream's ack) or,
/// in core mode, as plain core messages.
#[derive(Clone)]
pub struct NatsSink {
    client: async_nats::Client,
    js: Option<async_nats::jetstream::Context>,
    record_subject: String,
    dead_letter_subject: String,
    publish_timeout: Duration,
}

impl fmt::Debug for NatsSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsSink")
            .field("jetstream", &self.js.is_some())
            .field("record_subject", &self.record_subject)
            .field("dead_letter_subject", &self.dead_letter_subject)
            .finish()
    }
}

impl NatsSink {
    /// A sink publishing through JetStream (`js` given) or core NATS (`js` None).
    pub fn new(
        client: async_nats::Client,
        js: Option<async_nats::jetstream::Context>,
        config: &Config,
    ) -> Self {
        Self {
            client,
            js,
            record_subject: config.output.subject.clone(),
            dead_letter_subject: config.dead_letter.subject.clone(),
            publish_timeout: config.output.publish_timeout,
        }
    }

    /// See [`super::Sink::publish_record`].
    ///
    /// # Errors
    /// [`PublishError`] when not acknowledged in time.
    pub async fn publish_record(
        &self,
        record: &OutboundRecord,
        input: &InputMeta,
    ) -> Result<(), PublishError> {
        let headers = record_headers(record, input);
        self.publish(
            &self.record_subject,
            &record.id,
            headers,
            record.json.clone(),
        )
        .await
    }

    /// See [`super::Sink::publish_dead_letter`].
    ///
    /// # Errors
    /// [`PublishError`] when not acknowledged in time.
    pub async fn publish_dead_letter(
        &self,
        letter: &DeadLetter,
        input: &InputMeta,
        payload: Bytes,
    ) -> Result<(), PublishError> {
        let original_id = input.original_id(&payload);
        let headers = dead_letter_headers(letter, input, &original_id);
        // One dead letter per input message: redeliveries of the same message share it.
        let message_id = match (&input.stream, input.stream_sequence) {
            (Some(stream), Some(seq)) => format!("dead:{stream}:{seq}"),
            _ => format!("dead:{original_id}"),
        };
        self.publish(&self.dead_letter_subject, &message_id, headers, payload)
            .await
    }

    async fn publish(
        &self,
        subject: &str,
        message_id: &str,
        mut headers: HeaderMap,
        payload: Bytes,
    ) -> Result<(), PublishError> {
        let timeout = self.publish_timeout;
        let Some(js) = &self.js else {
            headers.insert("Nats-Msg-Id", message_id);
            return self
                .client
                .publish_with_headers(subject.to_owned(), headers, payload)
                .await
                .map_err(|e| PublishError::Failed(Box::new(e)));
        };
        let message = PublishMessage::build()
            .payload(payload)
            .headers(headers)
            .message_id(message_id);
        let acked = async {
            let ack = js
                .send_publish(subject.to_owned(), message)
                .await
                .map_err(|e| PublishError::Failed(Box::new(e)))?;
            ack.await.map_err(|e| PublishError::Failed(Box::new(e)))
        };
        match tokio::time::timeout(timeout, acked).await {
            Ok(Ok(_ack)) => Ok(()),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(PublishError::Timeout(timeout)),
        }
    }
}

/// `Content-Type` plus the CloudEvents binary-mode headers of a record.
fn record_headers(record: &OutboundRecord, input: &InputMeta) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("Content-Type", "application/json");
    headers.insert("ce-specversion", "1.0");
    headers.insert("ce-id", record.id.as_str());
    headers.insert("ce-type", RECORD_EVENT_TYPE);
    headers.insert("ce-source", event_source(input).as_str());
    headers.insert("ce-time", jiff::Timestamp::now().to_string().as_str());
    headers
}

/// `ce-source`: where the story came from, as a URI reference.
fn event_source(input: &InputMeta) -> String {
    match &input.stream {
        Some(stream) => format!("/wire-enricher/{stream}/{}", input.subject),
        None => format!("/wire-enricher/{}", input.subject),
    }
}

fn dead_letter_headers(letter: &DeadLetter, input: &InputMeta, original_id: &str) -> HeaderMap {
    use super::headers as h;
    let mut headers = HeaderMap::new();
    headers.insert(h::ERROR, letter.kind);
    headers.insert(h::ERROR_MESSAGE, single_line(&letter.message).as_str());
    headers.insert(h::ORIGINAL_ID, original_id);
    headers.insert(h::ORIGINAL_SUBJECT, input.subject.as_str());
    if let Some(seq) = input.stream_sequence {
        headers.insert(h::ORIGINAL_SEQUENCE, seq.to_string().as_str());
    }
    headers.insert(h::DELIVERED, input.delivered.to_string().as_str());
    if let Some(content_type) = &input.content_type {
        headers.insert("Content-Type", content_type.as_str());
    }
    headers
}

/// Header values cannot hold line breaks; long messages are cut.
fn single_line(text: &str) -> String {
    const MAX_HEADER_CHARS: usize = 512;
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_HEADER_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> InputMeta {
        InputMeta {
            subject: "stories.raw".to_owned(),
            stream: Some("RAW".to_owned()),
            stream_sequence: Some(7),
            delivered: 2,
            max_deliver: Some(5),
            message_id: None,
            content_type: None,
            received_at: jiff::Timestamp::UNIX_EPOCH,
            stored_at: None,
        }
    }

    #[test]
    fn reconnect_delay_grows_and_is_capped() {
        let max = Duration::from_secs(5);
        assert!(reconnect_delay(1, max) < reconnect_delay(3, max));
        assert_eq!(reconnect_delay(1000, max), max);
    }

    #[test]
    fn retry_delay_is_capped() {
        assert!(retry_delay(0) <= Duration::from_millis(400));
        assert!(retry_delay(100) <= Duration::from_secs(10));
    }

    #[test]
    fn dead_letter_headers_carry_reason_and_origin() {
        let letter = DeadLetter {
            kind: "empty",
            message: "story is empty\nreally".to_owned(),
        };
        let headers = dead_letter_headers(&letter, &meta(), "sha256:abc");
        let get = |k: &str| headers.get(k).map(|v| v.as_str().to_owned());
        assert_eq!(get("Wire-Enricher-Error").as_deref(), Some("empty"));
        assert_eq!(
            get("Wire-Enricher-Error-Message").as_deref(),
            Some("story is empty really")
        );
        assert_eq!(
            get("Wire-Enricher-Original-Id").as_deref(),
            Some("sha256:abc")
        );
        assert_eq!(
            get("Wire-Enricher-Original-Subject").as_deref(),
            Some("stories.raw")
        );
        assert_eq!(get("Wire-Enricher-Original-Sequence").as_deref(), Some("7"));
        assert_eq!(get("Wire-Enricher-Delivered").as_deref(), Some("2"));
    }

    #[test]
    fn record_headers_are_cloudevents_binary_mode() {
        let record = OutboundRecord {
            id: "story-1".to_owned(),
            json: Bytes::from_static(b"{}"),
        };
        let headers = record_headers(&record, &meta());
        let get = |k: &str| headers.get(k).map(|v| v.as_str().to_owned());
        assert_eq!(get("ce-specversion").as_deref(), Some("1.0"));
        assert_eq!(get("ce-id").as_deref(), Some("story-1"));
        assert_eq!(get("ce-type").as_deref(), Some(RECORD_EVENT_TYPE));
        assert_eq!(
            get("ce-source").as_deref(),
            Some("/wire-enricher/RAW/stories.raw")
        );
        assert!(get("ce-time").unwrap().parse::<jiff::Timestamp>().is_ok());
        assert_eq!(get("Content-Type").as_deref(), Some("application/json"));
    }

    #[test]
    fn original_id_prefers_the_message_id() {
        let mut m = meta();
        assert!(m.original_id(b"x").starts_with("sha256:"));
        m.message_id = Some("msg-1".to_owned());
        assert_eq!(m.original_id(b"x"), "msg-1");
    }
}
