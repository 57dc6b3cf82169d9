//! The rescue of stories the server stopped delivering.
//!
//! When an input reaches the consumer's `max_deliver` without an outcome (each of its
//! deliveries crashed the worker holding it, stalled it until a restart, or outlived a
//! worker that was killed or cut off), JetStream never delivers it again and publishes a
//! max-deliveries advisory instead. Nothing in the pipeline ever sees the story again, so
//! without the rescue it would be lost to the worker without a trace.
//!
//! Advisories are core NATS messages, sent once, when no worker may be running (servers
//! from 2.10.22 send it as the last delivery's `ack_wait` runs out). So a small
//! work-queue stream, `<input stream>_MAX_DELIVERIES` ([`advisory_stream`]), keeps the
//! durable's advisories, and the workers share one durable on it
//! (`<durable>-rescue`). The worker that pulls an advisory reads the stored story by its
//! stream sequence, publishes it to the dead letters with the reason `max_deliveries`
//! under the same `Nats-Msg-Id` as any other dead letter of that input
//! (`dead:<stream>:<sequence>`, so two rescues within the dead-letter stream's duplicate
//! window store one), and only then acks the advisory; a failure naks it for a retry.
//!
//! Limits: a worker killed, or cut off for longer than `ack_wait`, between publishing a
//! record and acking it on the last delivery leaves a record and a dead letter; with
//! `pipeline.parallelism` 1, the stories batched behind a stalled one on its thread are
//! redelivered with it and may reach `max_deliver` too (with more threads the others
//! finish them in the drain); a story no longer in the input stream (a limit removed it)
//! cannot be dead-lettered and is logged as an error; the rescued story is not deleted
//! from the input stream.
//!
//! Must not: process the story (one that crashed the worker `max_deliver` times must not
//! get another chance to), or settle the input (the server has given up on it).

use std::fmt;
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, PullConsumer};
use async_nats::jetstream::stream::{self, RetentionPolicy};
use async_nats::jetstream::AckKind;
use backon::BackoffBuilder;
use futures::StreamExt;
use serde::Deserialize;
use thiserror::Error;
use tokio_util::sync::CancellationToken;

use super::{headers, BusError, DeadLetter, InputMeta, NatsSink, PublishError};
use crate::config::Config;

/// How long the advisory stream keeps an advisory no worker took (as the input stream's
/// usual `max_age`).
const ADVISORY_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// Advisories asked for per pull request, and how long one request waits.
const FETCH_BATCH: usize = 16;
const FETCH_EXPIRES: Duration = Duration::from_secs(5);

/// Delay before a failed rescue's advisory is delivered again: 5 s after the first
/// attempt, doubling, at most 5 minutes (a dead letter that can never be stored is
/// retried until the advisory stream's `max_age`).
fn retry_delay(attempt: u64) -> Duration {
    let retry = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_secs(5))
        .with_max_delay(Duration::from_secs(300))
        .with_max_times(usize::MAX)
        .build()
        .nth(retry.min(32))
        .unwrap_or(Duration::from_secs(300))
}

/// The subject of the durable's max-deliveries advisories.
pub fn advisory_subject(stream: &str, durable: &str) -> String {
    format!("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{durable}")
}

/// The stream that keeps the advisories of the input stream's durable.
pub fn advisory_stream(input_stream: &str) -> String {
    format!("{input_stream}_MAX_DELIVERIES")
}

/// The advisory stream as the worker creates it when missing (the source creates it with
/// the other streams before its first pull, the rescue again before its own): a work
/// queue of `durable`'s max-deliveries advisories on `input_stream`, kept 7 days.
pub fn advisory_stream_config(
    input_stream: &str,
    durable: &str,
    replicas: usize,
) -> stream::Config {
    stream::Config {
        name: advisory_stream(input_stream),
        subjects: vec![advisory_subject(input_stream, durable)],
        retention: RetentionPolicy::WorkQueue,
        max_age: ADVISORY_MAX_AGE,
        num_replicas: replicas,
        ..Default::default()
    }
}

/// The durable the workers share on the advisory stream.
pub fn rescue_durable(durable: &str) -> String {
    format!("{durable}-rescue")
}

/// The fields of a max-deliveries advisory the rescue uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MaxDeliveriesAdvisory {
    /// The input stream.
    pub stream: String,
    /// The durable consumer.
    pub consumer: String,
    /// The story's stream sequence.
    pub stream_seq: u64,
    /// How many times it was delivered.
    pub deliveries: u64,
}

impl MaxDeliveriesAdvisory {
    /// Reads an advisory's JSON payload.
    ///
    /// # Errors
    /// [`RescueError::Advisory`] when the payload is not such an advisory.
    pub fn from_json(payload: &[u8]) -> Result<Self, RescueError> {
        serde_json::from_slice(payload).map_err(RescueError::Advisory)
    }

    /// The dead letter the story becomes.
    pub fn dead_letter(&self) -> DeadLetter {
        DeadLetter {
            kind: headers::REASON_MAX_DELIVERIES,
            message: format!(
                "delivered {} times without an outcome (the worker holding it crashed, \
                 stalled, was stopped or could not publish each time); the server will \
                 not deliver it again",
                self.deliveries
            ),
        }
    }
}

/// Why one rescue failed (it is retried).
#[derive(Debug, Error)]
pub enum RescueError {
    /// The advisory's payload is not a max-deliveries advisory.
    #[error("unreadable max-deliveries advisory")]
    Advisory(#[source] serde_json::Error),
    /// The story could not be read from the input stream.
    #[error("cannot read sequence {sequence} of stream {stream}")]
    Read {
        /// The input stream.
        stream: String,
        /// The story's sequence.
        sequence: u64,
        /// The client error.
        #[source]
        source: async_nats::Error,
    },
    /// The dead letter was not stored.
    #[error("cannot publish the dead letter")]
    Publish(#[from] PublishError),
}

/// The durable's advisory stream and what a rescue needs; see the module docs.
#[derive(Clone)]
pub struct Rescue {
    js: async_nats::jetstream::Context,
    sink: NatsSink,
    stream: String,
    durable: String,
    replicas: usize,
}

impl fmt::Debug for Rescue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rescue")
            .field("stream", &self.stream)
            .field("durable", &self.durable)
            .finish_non_exhaustive()
    }
}

/// How a run of pulls ended.
enum Pulled {
    Cancelled,
    /// A pull failed after at least one had succeeded: the retry delay starts over.
    FailedAfterPulling,
    /// The first pull failed: the retry delay keeps growing.
    FailedAtOnce,
}

/// What one rescue did.
enum Rescued {
    DeadLettered,
    /// The story is no longer in the input stream.
    Gone,
}

impl Rescue {
    /// A rescue for `config`'s input stream and durable, dead-lettering through `sink`.
    pub fn new(js: async_nats::jetstream::Context, sink: NatsSink, config: &Config) -> Self {
        Self {
            js,
            sink,
            stream: config.input.stream.clone(),
            durable: config.input.durable.clone(),
            replicas: config.input.replicas,
        }
    }

    /// Makes sure the advisory stream and its durable exist (an existing one is used as
    /// it is), then rescues each story an advisory names until `token` is cancelled.
    /// Failures are retried with a growing, capped delay; they never end the loop.
    pub async fn run(self, token: CancellationToken) {
        let mut failures = 0usize;
        while !token.is_cancelled() {
            let consumer = tokio::select! {
                _ = token.cancelled() => break,
                consumer = self.consumer() => consumer,
            };
            match consumer {
                Ok(consumer) => match self.pull_until_failure(&consumer, &token).await {
                    Pulled::Cancelled => break,
                    Pulled::FailedAfterPulling => failures = 0,
                    Pulled::FailedAtOnce => {}
                },
                Err(error) => {
                    tracing::warn!(error = %super::error_chain(&error), "Cannot set up the max-deliveries rescue, retrying.");
                }
            }
            failures += 1;
            if super::nats::sleep_or_cancel(super::nats::retry_delay(failures), &token).await {
                break;
            }
        }
    }

    /// The advisory stream's durable, created with the stream when missing.
    async fn consumer(&self) -> Result<PullConsumer, BusError> {
        let name = advisory_stream(&self.stream);
        super::nats::ensure_stream(
            &self.js,
            advisory_stream_config(&self.stream, &self.durable, self.replicas),
        )
        .await?;
        let durable = rescue_durable(&self.durable);
        let consumer_error = |source: async_nats::Error| BusError::Consumer {
            stream: name.clone(),
            durable: durable.clone(),
            source,
        };
        let stream = self
            .js
            .get_stream_no_info(&name)
            .await
            .map_err(|e| consumer_error(Box::new(e)))?;
        stream
            .get_or_create_consumer(
                &durable,
                pull::Config {
                    durable_name: Some(durable.clone()),
                    ack_policy: AckPolicy::Explicit,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| consumer_error(Box::new(e)))
    }

    /// Pulls and handles advisories until a pull fails or `token` is cancelled. An advisory
    /// taken but not yet settled is redelivered after `ack_wait`.
    async fn pull_until_failure(
        &self,
        consumer: &PullConsumer,
        token: &CancellationToken,
    ) -> Pulled {
        let mut pulled = false;
        let failed = |pulled: bool| {
            if pulled {
                Pulled::FailedAfterPulling
            } else {
                Pulled::FailedAtOnce
            }
        };
        loop {
            let request = consumer
                .batch()
                .max_messages(FETCH_BATCH)
                .expires(FETCH_EXPIRES)
                .messages();
            let mut batch = tokio::select! {
                _ = token.cancelled() => return Pulled::Cancelled,
                batch = request => match batch {
                    Ok(batch) => batch,
                    Err(error) => {
                        tracing::warn!(%error, "Pull of max-deliveries advisories failed.");
                        return failed(pulled);
                    }
                },
            };
            loop {
                let next = tokio::select! {
                    _ = token.cancelled() => return Pulled::Cancelled,
                    next = batch.next() => next,
                };
                match next {
                    Some(Ok(message)) => self.handle(message).await,
                    Some(Err(error)) => {
                        tracing::warn!(%error, "Pull of max-deliveries advisories failed.");
                        return failed(pulled);
                    }
                    None => break,
                }
            }
            pulled = true;
        }
    }

    /// Rescues the story one advisory names and settles the advisory.
    async fn handle(&self, message: async_nats::jetstream::Message) {
        let attempt = message
            .info()
            .map_or(1, |info| u64::try_from(info.delivered).unwrap_or(1));
        let settle = match MaxDeliveriesAdvisory::from_json(&message.payload) {
            Ok(advisory) => self.rescue(&advisory, attempt).await,
            Err(error) => {
                tracing::error!(error = %super::error_chain(&error), "Dropping an unreadable max-deliveries advisory.");
                AckKind::Term
            }
        };
        if let Err(error) = message.ack_with(settle).await {
            tracing::warn!(%error, "Could not settle a max-deliveries advisory; it will come again.");
        }
    }

    /// Dead-letters the story `advisory` names, on the advisory's `attempt`-th delivery;
    /// how to settle the advisory.
    async fn rescue(&self, advisory: &MaxDeliveriesAdvisory, attempt: u64) -> AckKind {
        let sequence = advisory.stream_seq;
        match self.try_rescue(advisory).await {
            Ok(Rescued::DeadLettered) => {
                crate::metrics::dead_letter(headers::REASON_MAX_DELIVERIES);
                tracing::warn!(
                    sequence,
                    deliveries = advisory.deliveries,
                    reason = headers::REASON_MAX_DELIVERIES,
                    "The server stopped delivering a story; dead-lettered it."
                );
                AckKind::Ack
            }
            Ok(Rescued::Gone) => {
                tracing::error!(
                    sequence,
                    stream = %advisory.stream,
                    deliveries = advisory.deliveries,
                    "The server stopped delivering a story that is no longer in the input stream (a limit removed it, or a late ack settled it); nothing to dead-letter."
                );
                AckKind::Ack
            }
            Err(error) => {
                let delay = retry_delay(attempt);
                tracing::warn!(sequence, attempt, ?delay, error = %super::error_chain(&error), "Could not dead-letter a story the server stopped delivering; retrying.");
                AckKind::Nak(Some(delay))
            }
        }
    }

    async fn try_rescue(&self, advisory: &MaxDeliveriesAdvisory) -> Result<Rescued, RescueError> {
        use async_nats::jetstream::stream::RawMessageErrorKind;

        let read_error = |source: async_nats::Error| RescueError::Read {
            stream: advisory.stream.clone(),
            sequence: advisory.stream_seq,
            source,
        };
        let stream = self
            .js
            .get_stream_no_info(&advisory.stream)
            .await
            .map_err(|e| read_error(Box::new(e)))?;
        let stored = match stream.get_raw_message(advisory.stream_seq).await {
            Ok(stored) => stored,
            Err(error) if error.kind() == RawMessageErrorKind::NoMessageFound => {
                return Ok(Rescued::Gone)
            }
            Err(error) => return Err(read_error(Box::new(error))),
        };
        let header = |name: &str| stored.headers.get(name).map(|v| v.as_str().to_owned());
        let meta = InputMeta {
            subject: stored.subject.to_string(),
            stream: Some(advisory.stream.clone()),
            stream_sequence: Some(stored.sequence),
            delivered: advisory.deliveries,
            // The limit the server applied is the count it gave up at.
            max_deliver: Some(advisory.deliveries),
            message_id: header("Nats-Msg-Id"),
            content_type: header("Content-Type"),
            received_at: jiff::Timestamp::now(),
            stored_at: jiff::Timestamp::from_second(stored.time.unix_timestamp()).ok(),
        };
        self.sink
            .publish_dead_letter(&advisory.dead_letter(), &meta, stored.payload)
            .await?;
        Ok(Rescued::DeadLettered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_advisory_the_server_publishes() {
        // As nats-server 2.9-2.11 write it (JSConsumerDeliveryExceededAdvisory).
        let payload = br#"{"type":"io.nats.jetstream.advisory.v1.max_deliver","id":"Ab3","timestamp":"2026-12-06T22:00:00.5Z","stream":"STORIES_RAW","consumer":"wire-enricher","stream_seq":42,"deliveries":5,"domain":"hub"}"#;
        let advisory = MaxDeliveriesAdvisory::from_json(payload).unwrap();
        assert_eq!(
            advisory,
            MaxDeliveriesAdvisory {
                stream: "STORIES_RAW".into(),
                consumer: "wire-enricher".into(),
                stream_seq: 42,
                deliveries: 5,
            }
        );
        let letter = advisory.dead_letter();
        assert_eq!(letter.kind, "max_deliveries");
        assert!(letter.message.starts_with("delivered 5 times"));
        assert!(MaxDeliveriesAdvisory::from_json(b"{\"stream\":\"S\"}").is_err());
    }

    #[test]
    fn retries_back_off_to_five_minutes() {
        assert_eq!(retry_delay(1), Duration::from_secs(5));
        assert_eq!(retry_delay(2), Duration::from_secs(10));
        assert_eq!(retry_delay(7), Duration::from_secs(300));
        assert_eq!(retry_delay(u64::MAX), Duration::from_secs(300));
    }

    #[test]
    fn names_follow_the_input_stream_and_durable() {
        assert_eq!(
            advisory_subject("STORIES_RAW", "wire-enricher"),
            "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.STORIES_RAW.wire-enricher"
        );
        assert_eq!(advisory_stream("STORIES_RAW"), "STORIES_RAW_MAX_DELIVERIES");
        assert_eq!(rescue_durable("wire-enricher"), "wire-enricher-rescue");
    }
}
