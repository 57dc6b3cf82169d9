//! The pipeline: source -> parse -> quotes -> entities -> sink, one task per stage, a
//! bounded channel between each two, and the outcome of each story settled at the end.
//!
//! ```text
//!  Source --Delivery--> parse --Envelope<Parsed>--> quotes --Envelope<Quoted>-->
//!        entities (+ record, JSON) --Envelope<OutboundRecord>--> sink: publish, then ack
//! ```
//!
//! - Backpressure: every channel is bounded (`pipeline.channel_capacity`); a full channel
//!   blocks the stage before it, and finally the source, which then stops pulling.
//! - Each CPU stage runs on `pipeline.parallelism` threads of its own that block on its
//!   channels: a thread takes the next story plus a share of those queued behind it (up to
//!   8), works through them, and sends their results on together. Records may leave in a
//!   different order than stories came in.
//! - Outcomes ([`Outcome`]): `Published` -> ack; `Rejected` (parse error or a stage panic,
//!   permanent) -> dead letter, then `Term`; `Retry` (publish failed) -> `Nak(delay)`, or a
//!   dead letter on the consumer's last allowed delivery; `Unsettled` (even that dead
//!   letter failed on the last delivery) -> nothing, for `bus::rescue`. Every input ends
//!   as one record or one dead letter; a story the server stops delivering (it crashed
//!   or stalled the worker on every delivery) is dead-lettered by `bus::rescue`.
//! - Shutdown: only the source watches the token. It stops and drops its sender; each
//!   stage finishes what it holds and drops its own sender, so the close cascades to the
//!   sink, which awaits its last publish acks and acks the inputs.
//!
//! - [`Work::Relay`] (the hidden `wire-enricher relay` command, a benchmarking tool)
//!   replaces the three stages with one pass-through task: the payload leaves unchanged
//!   under the input's `Nats-Msg-Id` (else `enrich::content_hash_id`). Source, sink, acks,
//!   headers and metrics are the same code as in [`Work::Enrich`]; its output is not records.
//!
//! Must not: know NATS details (that is `bus`), or hold anything unbounded.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use bytes::Bytes;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::bus::{headers, AckHandle, BusError, DeadLetter, Delivery, InputMeta, OutboundRecord};
use crate::bus::{Sink, Source};
use crate::enrich::record::SourceInfo;
use crate::enrich::story::{Stage1, Stage2};
use crate::enrich::{Enricher, RawStory};
use crate::stall::{Slot, StallWatch};

/// One story travelling through the stages: the work so far (or why it stopped), how to
/// settle its input, and its span.
#[derive(Debug)]
pub struct Envelope<T> {
    /// The stage output, or the dead letter the story became.
    pub item: Result<T, DeadLetter>,
    /// Transport facts about the input.
    pub meta: InputMeta,
    /// The input bytes, kept for the dead letter.
    pub payload: Bytes,
    /// Settles the input once the outcome is published.
    pub ack: AckHandle,
    /// The story's span; every stage enters it.
    pub span: tracing::Span,
}

impl From<Delivery> for Envelope<()> {
    fn from(delivery: Delivery) -> Self {
        Self {
            item: Ok(()),
            meta: delivery.meta,
            payload: delivery.payload,
            ack: delivery.ack,
            span: delivery.span,
        }
    }
}

/// The parse stage's output: the story and its id.
#[derive(Debug)]
pub struct Parsed {
    /// The parsed story.
    pub stage: Stage1,
    /// The record id (`enrich::story_id`).
    pub id: String,
}

/// The quotes stage's output.
#[derive(Debug)]
pub struct Quoted {
    /// The story with its quotes.
    pub stage: Stage2,
    /// The record id.
    pub id: String,
}

/// How one story ended; drives how its input is settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The record is in the output stream: ack.
    Published,
    /// The story is in the dead letters: term.
    Rejected(&'static str),
    /// Publishing failed: nak, redelivered after the delay.
    Retry(Duration),
    /// Even the dead letter failed on the last delivery: left unsettled, so the server
    /// gives up on it after `ack_wait` and the rescue dead-letters it (`bus::rescue`).
    Unsettled,
}

/// What runs between the source and the sink.
#[derive(Debug, Clone)]
pub enum Work {
    /// parse -> quotes -> entities with this core: the worker (`wire-enricher run`).
    Enrich(Arc<Enricher>),
    /// One pass-through task, every stage skipped: each input leaves as an output message
    /// holding the input bytes unchanged. Measures the bus limit; the output is not records.
    Relay,
}

/// Pipeline knobs taken from the config.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Capacity of each channel.
    pub channel_capacity: usize,
    /// Stories each CPU stage works on at once.
    pub parallelism: usize,
    /// Where the CPU stage threads mark the story they hold (see [`crate::stall`]).
    pub watch: Arc<StallWatch>,
}

impl Settings {
    /// Settings from the worker config.
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            channel_capacity: config.pipeline.channel_capacity,
            parallelism: config.pipeline.effective_parallelism(),
            watch: Arc::new(StallWatch::new()),
        }
    }
}

/// Runs the pipeline until the source stops (token cancelled, or a source error) and every
/// story taken in has been settled.
///
/// # Errors
/// The source's [`BusError`], after the stages have drained.
pub async fn run(
    source: Source,
    sink: Sink,
    work: Work,
    settings: Settings,
    token: CancellationToken,
) -> Result<(), BusError> {
    let capacity = settings.channel_capacity;
    let (source_tx, source_rx) = mpsc::channel::<Delivery>(capacity);
    let (record_tx, record_rx) = mpsc::channel::<Envelope<OutboundRecord>>(capacity);

    let mut stages = JoinSet::new();
    match work {
        Work::Enrich(enricher) => {
            spawn_enrich_stages(&mut stages, source_rx, record_tx, enricher, &settings);
        }
        Work::Relay => {
            stages.spawn(run_relay_stage(source_rx, record_tx));
        }
    }
    stages.spawn(run_sink(record_rx, sink, capacity));

    let source_result = match source {
        Source::JetStream(source) => {
            source.run(source_tx, token).await;
            Ok(())
        }
        Source::Core(source) => source.run(source_tx, token).await,
    };
    while let Some(done) = stages.join_next().await {
        if let Err(error) = done {
            tracing::error!(%error, "A pipeline stage failed.");
        }
    }
    tracing::info!("Pipeline drained.");
    source_result
}

/// parse -> quotes -> entities, each a CPU stage with a bounded channel to the next.
fn spawn_enrich_stages(
    stages: &mut JoinSet<()>,
    source_rx: mpsc::Receiver<Delivery>,
    record_tx: mpsc::Sender<Envelope<OutboundRecord>>,
    enricher: Arc<Enricher>,
    settings: &Settings,
) {
    let capacity = settings.channel_capacity;
    let parallelism = settings.parallelism.max(1);
    let (watch_parse, watch_quotes, watch_entities) = (
        Arc::clone(&settings.watch),
        Arc::clone(&settings.watch),
        Arc::clone(&settings.watch),
    );
    let (parsed_tx, parsed_rx) = mpsc::channel::<Envelope<Parsed>>(capacity);
    let (quoted_tx, quoted_rx) = mpsc::channel::<Envelope<Quoted>>(capacity);
    let parse = {
        let enricher = Arc::clone(&enricher);
        move |meta: &InputMeta, payload: &Bytes, (): ()| parse(&enricher, meta, payload)
    };
    stages.spawn_blocking(move || {
        let stage = CpuStage::new("parse", parallelism, &watch_parse);
        run_cpu_stage(&stage, source_rx, parsed_tx, parse);
    });
    let quotes = {
        let enricher = Arc::clone(&enricher);
        move |_: &InputMeta, _: &Bytes, parsed: Parsed| {
            Ok(Quoted {
                stage: enricher.quotes(parsed.stage),
                id: parsed.id,
            })
        }
    };
    stages.spawn_blocking(move || {
        let stage = CpuStage::new("quotes", parallelism, &watch_quotes);
        run_cpu_stage(&stage, parsed_rx, quoted_tx, quotes);
    });
    let entities =
        move |meta: &InputMeta, _: &Bytes, quoted: Quoted| finish(&enricher, meta, quoted);
    stages.spawn_blocking(move || {
        let stage = CpuStage::new("entities", parallelism, &watch_entities);
        run_cpu_stage(&stage, quoted_rx, record_tx, entities);
    });
}

/// The relay's only stage: every delivery becomes a pass-through output message, in
/// order, on the async task itself (there is no CPU work to move off it). Ends when the
/// source closes its channel.
async fn run_relay_stage(
    mut rx: mpsc::Receiver<Delivery>,
    tx: mpsc::Sender<Envelope<OutboundRecord>>,
) {
    while let Some(delivery) = rx.recv().await {
        let envelope = relay_envelope(Envelope::from(delivery));
        if tx.send(envelope).await.is_err() {
            tracing::error!(stage = "relay", "Sink closed; story left for redelivery.");
        }
        crate::metrics::channel_depth("relay", tx.max_capacity() - tx.capacity());
    }
    tracing::debug!(stage = "relay", "Stage drained.");
}

/// The pass-through output of one input: its bytes unchanged, under its `Nats-Msg-Id`
/// or, without one, the content hash the worker would also fall back to.
fn relay_envelope(envelope: Envelope<()>) -> Envelope<OutboundRecord> {
    let Envelope {
        item,
        meta,
        payload,
        ack,
        span,
    } = envelope;
    let item = item.map(|()| {
        let id = meta
            .message_id
            .as_deref()
            .filter(|id| !id.trim().is_empty())
            .map_or_else(|| crate::enrich::content_hash_id(&payload), str::to_owned);
        span.record("story_id", id.as_str());
        OutboundRecord {
            id,
            json: payload.clone(),
        }
    });
    Envelope {
        item,
        meta,
        payload,
        ack,
        span,
    }
}

fn parse(enricher: &Enricher, meta: &InputMeta, payload: &Bytes) -> Result<Parsed, DeadLetter> {
    let raw = raw_story(meta, payload);
    match enricher.parse(&raw) {
        Ok(stage) => {
            let id = crate::enrich::story_id(&stage.story, &raw);
            tracing::Span::current().record("story_id", id.as_str());
            Ok(Parsed { stage, id })
        }
        Err(error) => Err(DeadLetter {
            kind: error.kind(),
            message: error.to_string(),
        }),
    }
}

fn raw_story<'a>(meta: &'a InputMeta, payload: &'a Bytes) -> RawStory<'a> {
    RawStory {
        bytes: payload,
        message_id: meta.message_id.as_deref(),
        content_type: meta.content_type.as_deref(),
        reference_date: Some(meta.reference_date()),
    }
}

/// Entities, the record, and its JSON: the last CPU step.
fn finish(
    enricher: &Enricher,
    meta: &InputMeta,
    quoted: Quoted,
) -> Result<OutboundRecord, DeadLetter> {
    let stage = enricher.entities(quoted.stage);
    let source = SourceInfo {
        subject: meta.subject.clone(),
        stream: meta.stream.clone(),
        stream_sequence: meta.stream_sequence,
        format: stage.story.format,
        received_at: meta.received_at.to_string(),
    };
    let record = enricher.finish(stage, quoted.id, source);
    let json = serde_json::to_vec(&record).map_err(|e| DeadLetter {
        kind: headers::REASON_INTERNAL,
        message: format!("record does not serialise: {e}"),
    })?;
    Ok(OutboundRecord {
        id: record.id,
        json: Bytes::from(json),
    })
}

/// One CPU stage: `threads` threads take envelopes from `rx`, run `work` on each and send
/// the results on. Envelopes that already carry a dead letter pass through untouched.
/// Blocks until `rx` is closed and every result is sent; run it on the blocking pool.
///
/// The stage's threads live as long as the stage and block on the channels themselves, so
/// a story costs no task spawn and no async wake-up per stage: a thread sleeps only when
/// its input is empty and is woken by the send that fills it. A take is the story just
/// received plus a fair share of those queued behind it ([`batch_len`]); its results go
/// on together when it is done, so under load one lock of the receiver and one wake-up of
/// the next stage serve several stories, and the sink publishes them in one burst. A take
/// waits in its thread's [`Taken`] queue; once the input is closed, idle threads finish
/// the takes of busy ones (a stalled thread's included).
/// (Measured in the e2e bench against the earlier design, a blocking-pool task per batch
/// driven by an async loop: more throughput, less CPU per story, half the p99 latency and
/// a third less memory; sending each result as soon as it was done cost more CPU than
/// either, in the worker and in nats-server.)
fn run_cpu_stage<R, I, O, F>(
    stage: &CpuStage<'_>,
    rx: mpsc::Receiver<R>,
    tx: mpsc::Sender<Envelope<O>>,
    work: F,
) where
    R: Into<Envelope<I>> + Send,
    I: Send,
    O: Send,
    F: Fn(&InputMeta, &Bytes, I) -> Result<O, DeadLetter> + Sync,
{
    let name = stage.name;
    let rx = Mutex::new(rx);
    let taken = Taken::new(stage.threads);
    std::thread::scope(|scope| {
        for n in 1..stage.threads {
            let (rx, taken, tx, work) = (&rx, &taken, tx.clone(), &work);
            let spawned = std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn_scoped(scope, move || {
                    run_stage_thread(stage, n, rx, taken, &tx, work)
                });
            if let Err(error) = spawned {
                tracing::warn!(stage = name, %error, "Could not start a stage thread; running with fewer.");
            }
        }
        run_stage_thread(stage, 0, &rx, &taken, &tx, &work);
    });
    tracing::debug!(stage = name, "Stage drained.");
}

/// A CPU stage: its name, how many threads it runs, and the watch its threads mark.
struct CpuStage<'a> {
    name: &'static str,
    threads: usize,
    watch: &'a StallWatch,
}

impl<'a> CpuStage<'a> {
    fn new(name: &'static str, threads: usize, watch: &'a StallWatch) -> Self {
        Self {
            name,
            threads: threads.max(1),
            watch,
        }
    }
}

/// Each thread's take: the stories it has taken but not started, and the results it has
/// finished but not yet sent (a take's results go on together). A thread works through its
/// own; once the input is closed, the threads also finish and send what the others still
/// hold, so the stories taken with one that stalls its thread, before it or after it, are
/// not held back with it (they are published before the stalled worker exits, rather than
/// redelivered with it).
struct Taken<I, O> {
    todo: Vec<Mutex<VecDeque<Envelope<I>>>>,
    done: Vec<Mutex<Vec<Envelope<O>>>>,
}

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<I, O> Taken<I, O> {
    fn new(threads: usize) -> Self {
        let threads = threads.max(1);
        Self {
            todo: (0..threads).map(|_| Mutex::default()).collect(),
            done: (0..threads).map(|_| Mutex::default()).collect(),
        }
    }

    /// Thread `n` takes `batch`.
    fn put(&self, n: usize, batch: Vec<Envelope<I>>) {
        locked(&self.todo[n]).extend(batch);
    }

    /// The next story thread `n` took and has not started.
    fn next(&self, n: usize) -> Option<Envelope<I>> {
        locked(&self.todo[n]).pop_front()
    }

    /// A story any thread took and has not started.
    fn any(&self) -> Option<Envelope<I>> {
        (0..self.todo.len()).find_map(|n| self.next(n))
    }

    /// Thread `n` finished `result`.
    fn finish(&self, n: usize, result: Envelope<O>) {
        locked(&self.done[n]).push(result);
    }

    /// The results thread `n` finished and nobody has sent yet.
    fn finished(&self, n: usize) -> Vec<Envelope<O>> {
        std::mem::take(&mut *locked(&self.done[n]))
    }
}

/// Thread `n` of a CPU stage: takes, works and sends until the input is closed and empty,
/// then finishes and sends what the other threads took and have not started or sent;
/// marks each story it holds on the stage's watch.
fn run_stage_thread<R, I, O, F>(
    stage: &CpuStage<'_>,
    n: usize,
    rx: &Mutex<mpsc::Receiver<R>>,
    taken: &Taken<I, O>,
    tx: &mpsc::Sender<Envelope<O>>,
    work: &F,
) where
    R: Into<Envelope<I>>,
    F: Fn(&InputMeta, &Bytes, I) -> Result<O, DeadLetter>,
{
    let slot: Arc<Slot> = stage.watch.slot(stage.name);
    let marked = |envelope: Envelope<I>| {
        stage.watch.start(&slot, envelope.meta.stream_sequence);
        let done = apply(stage.name, work, envelope);
        stage.watch.end(&slot);
        done
    };
    while take_next(rx, taken, n, stage.threads) {
        while let Some(envelope) = taken.next(n) {
            taken.finish(n, marked(envelope));
        }
        send_all(stage.name, tx, taken.finished(n));
    }
    while let Some(envelope) = taken.any() {
        send_all(stage.name, tx, vec![marked(envelope)]);
    }
    for other in 0..stage.threads {
        send_all(stage.name, tx, taken.finished(other));
    }
}

/// Sends a take's results on, in order.
fn send_all<O>(stage: &'static str, tx: &mpsc::Sender<Envelope<O>>, done: Vec<Envelope<O>>) {
    for envelope in done {
        if tx.blocking_send(envelope).is_err() {
            // The next stage is gone (it failed); the input stays unacked and is
            // redelivered after ack_wait.
            tracing::error!(stage, "Next stage closed; story left for redelivery.");
        }
    }
    crate::metrics::channel_depth(stage, tx.max_capacity() - tx.capacity());
}

/// Waits for the next envelope and puts it, with its share of those queued behind it, in
/// thread `n`'s taken queue; false once the input is closed and empty.
fn take_next<R, I, O>(
    rx: &Mutex<mpsc::Receiver<R>>,
    taken: &Taken<I, O>,
    n: usize,
    threads: usize,
) -> bool
where
    R: Into<Envelope<I>>,
{
    // The lock is held while waiting: the other threads queue on it rather than on the
    // channel, and the one holding it takes what arrives. Nothing panics while holding it
    // (work runs after it is released), so a poisoned lock still guards a sound receiver.
    // The take goes into the queue under the lock, so a thread that finds the input closed
    // sees every take made before it.
    let mut rx = rx.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(first) = rx.blocking_recv() else {
        return false;
    };
    let len = batch_len(rx.len(), threads);
    taken.put(n, take_batch(first, &mut rx, len));
    true
}

/// The most stories one take carries.
const MAX_BATCH: usize = 8;

/// How many stories the next take holds: the one just received plus its fair share of the
/// `queued` ones behind it, spread over the stage's `threads` (at least 1), capped at
/// [`MAX_BATCH`].
fn batch_len(queued: usize, threads: usize) -> usize {
    (queued + 1).div_ceil(threads.max(1)).clamp(1, MAX_BATCH)
}

/// `first` and up to `len - 1` envelopes already waiting in `rx` (never waits for more).
fn take_batch<R, I>(first: R, rx: &mut mpsc::Receiver<R>, len: usize) -> Vec<Envelope<I>>
where
    R: Into<Envelope<I>>,
{
    let mut batch = Vec::with_capacity(len);
    batch.push(first.into());
    while batch.len() < len {
        match rx.try_recv() {
            Ok(next) => batch.push(next.into()),
            Err(_) => break,
        }
    }
    batch
}

/// Runs `work` on one envelope inside its span, timing it; a panic becomes an
/// `internal_error` dead letter so a bug never loses the story or stops the worker.
fn apply<I, O, F>(stage: &'static str, work: &F, envelope: Envelope<I>) -> Envelope<O>
where
    F: Fn(&InputMeta, &Bytes, I) -> Result<O, DeadLetter>,
{
    let Envelope {
        item,
        meta,
        payload,
        ack,
        span,
    } = envelope;
    let item = span.in_scope(|| match item {
        Err(letter) => Err(letter),
        Ok(value) => {
            let started = Instant::now();
            let result =
                std::panic::catch_unwind(AssertUnwindSafe(|| work(&meta, &payload, value)))
                    .unwrap_or_else(|_| {
                        tracing::error!(stage, "Stage panicked on a story; dead-lettering it.");
                        Err(DeadLetter {
                            kind: headers::REASON_INTERNAL,
                            message: format!("the {stage} stage panicked"),
                        })
                    });
            crate::metrics::stage_seconds(stage, started.elapsed().as_secs_f64());
            result
        }
    });
    Envelope {
        item,
        meta,
        payload,
        ack,
        span,
    }
}

/// The sink stage: publishes up to `max_in_flight` outcomes at once and settles each
/// input after its publish is acknowledged.
async fn run_sink(
    mut rx: mpsc::Receiver<Envelope<OutboundRecord>>,
    sink: Sink,
    max_in_flight: usize,
) {
    let mut in_flight = FuturesUnordered::new();
    let mut open = true;
    while open || !in_flight.is_empty() {
        tokio::select! {
            biased;
            Some(_) = in_flight.next(), if !in_flight.is_empty() => {}
            next = rx.recv(), if open && in_flight.len() < max_in_flight => match next {
                Some(envelope) => in_flight.push(settle(sink.clone(), envelope)),
                None => open = false,
            },
        }
    }
    tracing::debug!("Sink drained.");
}

/// Publishes one story's outcome and settles its input accordingly.
async fn settle(sink: Sink, envelope: Envelope<OutboundRecord>) -> Outcome {
    let Envelope {
        item,
        meta,
        payload,
        ack,
        span,
    } = envelope;
    async move {
        let started = Instant::now();
        let outcome = match item {
            Ok(record) => match sink.publish_record(&record, &meta).await {
                Ok(()) => {
                    crate::metrics::story_out(record.json.len());
                    tracing::debug!(id = %record.id, "Published record.");
                    Outcome::Published
                }
                Err(error) => {
                    tracing::warn!(error = %crate::bus::error_chain(&error), delivered = meta.delivered, "Record publish failed.");
                    give_up_or_retry(&sink, &meta, payload, &ack, &error).await
                }
            },
            Err(letter) => reject(&sink, &meta, payload, &ack, letter).await,
        };
        crate::metrics::stage_seconds("publish", started.elapsed().as_secs_f64());
        match &outcome {
            Outcome::Published => ack.ack().await,
            Outcome::Rejected(_) => ack.term().await,
            Outcome::Retry(delay) => ack.nak(Some(*delay)).await,
            Outcome::Unsettled => drop(ack),
        }
        outcome
    }
    .instrument(span)
    .await
}

/// A failed record publish: dead-letter it on its last delivery, else retry later.
async fn give_up_or_retry(
    sink: &Sink,
    meta: &InputMeta,
    payload: Bytes,
    ack: &AckHandle,
    error: &crate::bus::PublishError,
) -> Outcome {
    if !ack.is_acknowledged() {
        // Core NATS: nothing will redeliver it, so the dead letters are the only place
        // left; if that fails too the story is lost, which core mode documents.
        let letter = DeadLetter {
            kind: headers::REASON_PUBLISH_FAILED,
            message: crate::bus::error_chain(error),
        };
        return reject(sink, meta, payload, ack, letter).await;
    }
    if meta.is_last_delivery() {
        let letter = DeadLetter {
            kind: headers::REASON_PUBLISH_FAILED,
            message: format!(
                "gave up after {} deliveries: {}",
                meta.delivered,
                crate::bus::error_chain(error)
            ),
        };
        return reject(sink, meta, payload, ack, letter).await;
    }
    crate::metrics::publish_retry();
    Outcome::Retry(nak_delay(meta.delivered))
}

/// Publishes a dead letter. If even that fails, the input is retried like a failed
/// record; on its last delivery it is left unsettled for the rescue (in core mode, where
/// nothing redelivers, it is dropped with an error log).
async fn reject(
    sink: &Sink,
    meta: &InputMeta,
    payload: Bytes,
    ack: &AckHandle,
    letter: DeadLetter,
) -> Outcome {
    match sink.publish_dead_letter(&letter, meta, payload).await {
        Ok(()) => {
            crate::metrics::dead_letter(letter.kind);
            tracing::warn!(reason = letter.kind, message = %letter.message, "Story dead-lettered.");
            Outcome::Rejected(letter.kind)
        }
        Err(error) if ack.is_acknowledged() && !meta.is_last_delivery() => {
            crate::metrics::publish_retry();
            tracing::warn!(error = %crate::bus::error_chain(&error), reason = letter.kind, "Dead letter publish failed; retrying.");
            Outcome::Retry(nak_delay(meta.delivered))
        }
        Err(error) if ack.is_acknowledged() => {
            tracing::error!(
                error = %crate::bus::error_chain(&error),
                reason = letter.kind,
                delivered = meta.delivered,
                "Dead letter publish failed on the last delivery; left unsettled for the server to give up on and the rescue to dead-letter."
            );
            Outcome::Unsettled
        }
        Err(error) => {
            tracing::error!(
                error = %crate::bus::error_chain(&error),
                reason = letter.kind,
                "Dead letter publish failed in core mode; the story is dropped."
            );
            Outcome::Rejected(letter.kind)
        }
    }
}

/// Nak delay after the `delivered`-th delivery failed: 1s doubling, capped at 30s.
fn nak_delay(delivered: u64) -> Duration {
    let attempt = usize::try_from(delivered.saturating_sub(1)).unwrap_or(usize::MAX);
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_secs(1))
        .with_max_delay(Duration::from_secs(30))
        .with_max_times(usize::MAX)
        .build()
        .nth(attempt.min(32))
        .unwrap_or(Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nak_delay_grows_and_is_capped() {
        assert_eq!(nak_delay(1), Duration::from_secs(1));
        assert_eq!(nak_delay(2), Duration::from_secs(2));
        assert_eq!(nak_delay(3), Duration::from_secs(4));
        assert_eq!(nak_delay(100), Duration::from_secs(30));
    }

    fn meta() -> InputMeta {
        InputMeta {
            subject: "s".to_owned(),
            stream: None,
            stream_sequence: None,
            delivered: 1,
            max_deliver: Some(5),
            message_id: None,
            content_type: None,
            received_at: jiff::Timestamp::UNIX_EPOCH,
            stored_at: None,
        }
    }

    fn envelope<T>(item: Result<T, DeadLetter>) -> Envelope<T> {
        Envelope {
            item,
            meta: meta(),
            payload: Bytes::from_static(b"x"),
            ack: AckHandle::none(),
            span: tracing::Span::none(),
        }
    }

    #[test]
    fn apply_runs_work_and_passes_dead_letters_through() {
        let double = |_: &InputMeta, _: &Bytes, n: u32| Ok::<_, DeadLetter>(n * 2);
        assert_eq!(apply("t", &double, envelope(Ok(21))).item, Ok(42));
        let letter = DeadLetter {
            kind: "empty",
            message: "m".to_owned(),
        };
        assert_eq!(
            apply("t", &double, envelope(Err(letter.clone()))).item,
            Err(letter)
        );
    }

    #[test]
    fn a_panicking_stage_becomes_an_internal_error_dead_letter() {
        let boom = |_: &InputMeta, _: &Bytes, _: u32| -> Result<u32, DeadLetter> { panic!("bug") };
        let out = apply("t", &boom, envelope(Ok(1)));
        assert_eq!(out.item.unwrap_err().kind, headers::REASON_INTERNAL);
    }

    #[tokio::test]
    async fn cpu_stage_keeps_every_item_and_closes_downstream() {
        let (in_tx, in_rx) = mpsc::channel::<Envelope<u32>>(2);
        let (out_tx, mut out_rx) = mpsc::channel::<Envelope<u32>>(2);
        let stage = tokio::task::spawn_blocking(move || {
            let watch = StallWatch::new();
            let stage = CpuStage::new("t", 3, &watch);
            run_cpu_stage(&stage, in_rx, out_tx, |_: &InputMeta, _: &Bytes, n: u32| {
                Ok(n + 1)
            });
        });
        let producer = tokio::spawn(async move {
            for n in 0..50 {
                in_tx.send(envelope(Ok(n))).await.unwrap();
            }
        });
        let mut seen = Vec::new();
        while let Some(envelope) = out_rx.recv().await {
            seen.push(envelope.item.unwrap());
        }
        producer.await.unwrap();
        stage.await.unwrap();
        seen.sort_unstable();
        assert_eq!(seen, (1..=50).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn the_story_a_stage_thread_holds_is_marked_until_it_is_done() {
        let (in_tx, in_rx) = mpsc::channel::<Envelope<u32>>(2);
        let (out_tx, mut out_rx) = mpsc::channel::<Envelope<u32>>(2);
        let watch = Arc::new(StallWatch::new());
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let release_rx = Mutex::new(release_rx);
        let stage_watch = Arc::clone(&watch);
        let stage = tokio::task::spawn_blocking(move || {
            let stage = CpuStage::new("quotes", 1, &stage_watch);
            run_cpu_stage(&stage, in_rx, out_tx, |_: &InputMeta, _: &Bytes, n: u32| {
                release_rx.lock().unwrap().recv().unwrap();
                Ok(n)
            });
        });
        let mut held = envelope(Ok(1));
        held.meta.stream_sequence = Some(41);
        in_tx.send(held).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let marked = loop {
            if let Some(marked) = watch.longest(Instant::now()) {
                break marked;
            }
            assert!(Instant::now() < deadline, "the held story was never marked");
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        assert_eq!((marked.stage, marked.sequence), ("quotes", Some(41)));
        release_tx.send(()).unwrap();
        assert_eq!(out_rx.recv().await.unwrap().item.unwrap(), 1);
        assert_eq!(
            watch.longest(Instant::now()),
            None,
            "done stories are unmarked"
        );
        drop(in_tx);
        stage.await.unwrap();
    }

    /// A stage input holding stories `0..n`, already closed.
    async fn closed_after(n: u32) -> mpsc::Receiver<Envelope<u32>> {
        let (in_tx, in_rx) = mpsc::channel::<Envelope<u32>>(16);
        for k in 0..n {
            in_tx.send(envelope(Ok(k))).await.unwrap();
        }
        in_rx
    }

    #[tokio::test]
    async fn stories_taken_with_a_stuck_one_are_finished_and_sent_by_the_other_threads() {
        let in_rx = closed_after(10).await;
        let (out_tx, mut out_rx) = mpsc::channel::<Envelope<u32>>(16);
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let release_rx = Mutex::new(release_rx);
        // Story 2 holds its thread (as a stalled story would) until released; the first
        // take is 0 to 4 (five of the ten queued for two threads), so 0 and 1 are done
        // before it and 3 and 4 wait behind it.
        let stage = tokio::task::spawn_blocking(move || {
            let watch = StallWatch::new();
            let stuck_at_two = |_: &InputMeta, _: &Bytes, n: u32| {
                if n == 2 {
                    let _ = release_rx
                        .lock()
                        .unwrap()
                        .recv_timeout(Duration::from_secs(30));
                }
                Ok(n)
            };
            run_cpu_stage(&CpuStage::new("t", 2, &watch), in_rx, out_tx, stuck_at_two);
        });
        let mut seen = Vec::new();
        for _ in 1..10 {
            let next = tokio::time::timeout(Duration::from_secs(10), out_rx.recv())
                .await
                .unwrap_or_else(|_| panic!("held back behind the stuck story; got {seen:?}"));
            seen.push(next.unwrap().item.unwrap());
        }
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 3, 4, 5, 6, 7, 8, 9]);
        release_tx.send(()).unwrap();
        assert_eq!(out_rx.recv().await.unwrap().item.unwrap(), 2);
        assert!(out_rx.recv().await.is_none());
        stage.await.unwrap();
    }

    #[tokio::test]
    async fn cpu_stage_threads_work_at_the_same_time() {
        let in_rx = closed_after(10).await;
        let (out_tx, mut out_rx) = mpsc::channel::<Envelope<u32>>(16);
        // The first story waits (up to 10 s) until a second story is being worked on:
        // only a second thread of the stage can start one meanwhile.
        let started = Arc::new((Mutex::new(0_usize), std::sync::Condvar::new()));
        let first_had_company = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen, in_work) = (Arc::clone(&first_had_company), Arc::clone(&started));
        let rendezvous = move |_: &InputMeta, _: &Bytes, n: u32| {
            let (count, changed) = &*in_work;
            let mut count = count.lock().unwrap();
            *count += 1;
            changed.notify_all();
            if *count == 1 {
                let (count, _) = changed
                    .wait_timeout_while(count, Duration::from_secs(10), |c| *c < 2)
                    .unwrap();
                seen.store(*count >= 2, std::sync::atomic::Ordering::SeqCst);
            }
            Ok(n)
        };
        let stage = tokio::task::spawn_blocking(move || {
            let watch = StallWatch::new();
            run_cpu_stage(&CpuStage::new("t", 2, &watch), in_rx, out_tx, rendezvous);
        });
        let mut count = 0;
        while out_rx.recv().await.is_some() {
            count += 1;
        }
        stage.await.unwrap();
        assert_eq!(count, 10);
        assert!(
            first_had_company.load(std::sync::atomic::Ordering::SeqCst),
            "a second thread took a story while the first was still on one"
        );
    }

    #[test]
    fn batches_share_the_queue_between_free_slots_and_are_capped() {
        assert_eq!(batch_len(0, 2), 1, "nothing queued: a batch of one");
        assert_eq!(batch_len(1, 2), 1);
        assert_eq!(batch_len(2, 2), 2);
        assert_eq!(batch_len(5, 1), 6);
        assert_eq!(batch_len(5, 0), 6, "no thread counts as one");
        assert_eq!(batch_len(1_000, 2), MAX_BATCH);
    }

    #[tokio::test]
    async fn take_batch_takes_only_what_is_queued_in_order() {
        let (tx, mut rx) = mpsc::channel::<Envelope<u32>>(8);
        for n in 1..=3 {
            tx.send(envelope(Ok(n))).await.unwrap();
        }
        let items = |batch: Vec<Envelope<u32>>| batch.into_iter().map(|e| e.item.unwrap());
        let batch = take_batch(envelope(Ok(0)), &mut rx, 2);
        assert_eq!(items(batch).collect::<Vec<_>>(), [0, 1]);
        let batch = take_batch(envelope(Ok(9)), &mut rx, 5);
        assert_eq!(
            items(batch).collect::<Vec<_>>(),
            [9, 2, 3],
            "never waits for more"
        );
    }

    #[test]
    fn relay_passes_the_payload_through_under_the_message_id_or_the_content_hash() {
        let mut with_id = envelope(Ok(()));
        with_id.meta.message_id = Some("story-7".to_owned());
        with_id.payload = Bytes::from_static(b"<p>raw bytes</p>");
        let out = relay_envelope(with_id).item.expect("relayed");
        assert_eq!(out.id, "story-7");
        assert_eq!(out.json, Bytes::from_static(b"<p>raw bytes</p>"));

        let mut without_id = envelope(Ok(()));
        without_id.meta.message_id = Some("  ".to_owned());
        without_id.payload = Bytes::from_static(b"\xff not utf-8");
        let out = relay_envelope(without_id).item.expect("relayed");
        assert_eq!(out.id, crate::enrich::content_hash_id(b"\xff not utf-8"));
        assert_eq!(out.json, Bytes::from_static(b"\xff not utf-8"));
    }

    #[tokio::test]
    async fn relay_stage_keeps_every_delivery_in_order_and_closes_downstream() {
        let (in_tx, in_rx) = mpsc::channel::<Delivery>(2);
        let (out_tx, mut out_rx) = mpsc::channel::<Envelope<OutboundRecord>>(2);
        let stage = tokio::spawn(run_relay_stage(in_rx, out_tx));
        let producer = tokio::spawn(async move {
            for n in 0..50_u32 {
                let mut meta = meta();
                meta.message_id = Some(format!("m{n}"));
                let delivery = Delivery {
                    meta,
                    payload: Bytes::from(n.to_string()),
                    ack: AckHandle::none(),
                    span: tracing::Span::none(),
                };
                in_tx.send(delivery).await.unwrap();
            }
        });
        let mut seen = Vec::new();
        while let Some(envelope) = out_rx.recv().await {
            let record = envelope.item.unwrap();
            assert_eq!(
                record.id,
                format!("m{}", std::str::from_utf8(&record.json).unwrap())
            );
            seen.push(record.id);
        }
        producer.await.unwrap();
        stage.await.unwrap();
        assert_eq!(seen, (0..50).map(|n| format!("m{n}")).collect::<Vec<_>>());
    }

    #[test]
    fn parse_failure_is_a_dead_letter_with_the_parse_kind() {
        let enricher =
            Enricher::with_embedded_model(crate::enrich::EnrichOptions { max_story_bytes: 4 });
        let letter = parse(&enricher, &meta(), &Bytes::from_static(b"")).unwrap_err();
        assert_eq!(letter.kind, "empty");
        let letter = parse(&enricher, &meta(), &Bytes::from_static(b"too long")).unwrap_err();
        assert_eq!(letter.kind, "too_large");
    }
}
