//! The rescue of stories the server stopped delivering.
//!
//! When an input reaches the consumer's `max_deliver` without being settled (each of its
//! deliveries crashed the worker holding it, stalled it until a restart, or outlived a
//! worker that was killed or lost its connection), JetStream never delivers it again and
//! publishes a max-deliveries advisory instead. Nothing in the pipeline ever sees the
//! story again, so without this task it would be lost to the worker without a trace.
//!
//! Every worker on the durable subscribes to that advisory in one queue group, so one of
//! them receives each advisory. It reads the stored story by its stream sequence and
//! publishes it to the dead letters with the reason `max_deliveries`, under the same
//! `Nats-Msg-Id` as any other dead letter of that input (`dead:<stream>:<sequence>`),
//! so a story dead-lettered twice is stored once.
//!
//! Limits, all logged:
//! - an advisory is a core NATS message: one sent while no worker is connected is not
//!   kept, and the story stays in the input stream unrescued;
//! - a story whose record was published by a worker that died before acking it, on its
//!   last delivery, ends as a record and a dead letter;
//! - the rescued story is not deleted from the input stream (a work-queue stream keeps it
//!   until `max_age`).
//!
//! Must not: process the story (a story that crashed the worker `max_deliver` times must
//! not be given another chance to), or ack anything (the server has given up on it).

use std::fmt;
use std::time::Duration;

use futures::StreamExt;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::{headers, BusError, DeadLetter, InputMeta, NatsSink};
use crate::config::Config;

/// How many times one rescue is tried (the stream leader may be failing over).
const RESCUE_ATTEMPTS: usize = 5;

/// The subject of the consumer's max-deliveries advisories.
pub fn advisory_subject(stream: &str, durable: &str) -> String {
    format!("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{durable}")
}

/// The queue group the durable's workers share, so one of them handles each advisory.
pub fn queue_group(durable: &str) -> String {
    format!("wire-enricher-rescue.{durable}")
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
    /// The JSON error when the payload is not such an advisory.
    pub fn from_json(payload: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(payload)
    }

    /// The dead letter the story becomes.
    pub fn dead_letter(&self) -> DeadLetter {
        DeadLetter {
            kind: headers::REASON_MAX_DELIVERIES,
            message: format!(
                "delivered {} times without an outcome (each delivery crashed or stalled the \
                 worker, or outlived it); the server will not deliver it again",
                self.deliveries
            ),
        }
    }
}

/// The advisory subscription and what a rescue needs; see the module docs.
pub struct Rescue {
    subscriber: async_nats::Subscriber,
    js: async_nats::jetstream::Context,
    sink: NatsSink,
    stream: String,
    durable: String,
}

impl fmt::Debug for Rescue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rescue")
            .field("stream", &self.stream)
            .field("durable", &self.durable)
            .finish_non_exhaustive()
    }
}

/// What one rescue attempt did.
enum Rescued {
    DeadLettered,
    /// The story is no longer in the input stream (removed by a limit or by hand).
    Gone,
}

impl Rescue {
    /// Subscribes to the durable's max-deliveries advisories and makes sure the server
    /// has the subscription before returning, so it is in place before the source pulls.
    ///
    /// # Errors
    /// [`BusError::Subscribe`] when the subscription cannot be made.
    pub async fn subscribe(
        client: &async_nats::Client,
        sink: NatsSink,
        config: &Config,
    ) -> Result<Self, BusError> {
        let input = &config.input;
        let subject = advisory_subject(&input.stream, &input.durable);
        let subscriber = client
            .queue_subscribe(subject.clone(), queue_group(&input.durable))
            .await
            .map_err(|source| BusError::Subscribe { subject, source })?;
        if let Err(error) = client.flush().await {
            tracing::warn!(%error, "Flush after subscribing to the max-deliveries advisories failed.");
        }
        Ok(Self {
            subscriber,
            js: async_nats::jetstream::new(client.clone()),
            sink,
            stream: input.stream.clone(),
            durable: input.durable.clone(),
        })
    }

    /// Rescues each story an advisory names until `token` is cancelled.
    pub async fn run(mut self, token: CancellationToken) {
        loop {
            let message = tokio::select! {
                _ = token.cancelled() => break,
                message = self.subscriber.next() => message,
            };
            let Some(message) = message else { break };
            match MaxDeliveriesAdvisory::from_json(&message.payload) {
                Ok(advisory)
                    if advisory.stream == self.stream && advisory.consumer == self.durable =>
                {
                    self.rescue(&advisory, &token).await;
                }
                Ok(advisory) => {
                    tracing::debug!(stream = %advisory.stream, consumer = %advisory.consumer, "Advisory for another consumer; ignored.");
                }
                Err(error) => {
                    tracing::warn!(%error, "Unreadable max-deliveries advisory; ignored.");
                }
            }
        }
        let _ = self.subscriber.unsubscribe().await;
    }

    /// Dead-letters the story `advisory` names, retrying a few times on failure.
    async fn rescue(&self, advisory: &MaxDeliveriesAdvisory, token: &CancellationToken) {
        let sequence = advisory.stream_seq;
        for attempt in 1..=RESCUE_ATTEMPTS {
            match self.try_rescue(advisory).await {
                Ok(Rescued::DeadLettered) => {
                    crate::metrics::dead_letter(headers::REASON_MAX_DELIVERIES);
                    tracing::warn!(
                        sequence,
                        deliveries = advisory.deliveries,
                        reason = headers::REASON_MAX_DELIVERIES,
                        "The server stopped delivering a story; dead-lettered it."
                    );
                    return;
                }
                Ok(Rescued::Gone) => {
                    tracing::warn!(
                        sequence,
                        deliveries = advisory.deliveries,
                        "The server stopped delivering a story that is no longer in the input stream; nothing to dead-letter."
                    );
                    return;
                }
                Err(error) if attempt < RESCUE_ATTEMPTS => {
                    tracing::warn!(sequence, attempt, %error, "Could not dead-letter a story the server stopped delivering; retrying.");
                    let delay = Duration::from_millis(500) * u32::try_from(attempt).unwrap_or(1);
                    tokio::select! {
                        _ = token.cancelled() => return,
                        () = tokio::time::sleep(delay) => {}
                    }
                }
                Err(error) => {
                    tracing::error!(
                        sequence,
                        stream = %self.stream,
                        %error,
                        "Could not dead-letter a story the server stopped delivering; it stays in the input stream at this sequence."
                    );
                }
            }
        }
    }

    async fn try_rescue(
        &self,
        advisory: &MaxDeliveriesAdvisory,
    ) -> Result<Rescued, async_nats::Error> {
        use async_nats::jetstream::stream::RawMessageErrorKind;

        let stream = self.js.get_stream(&advisory.stream).await?;
        let stored = match stream.get_raw_message(advisory.stream_seq).await {
            Ok(stored) => stored,
            Err(error) if error.kind() == RawMessageErrorKind::NoMessageFound => {
                return Ok(Rescued::Gone)
            }
            Err(error) => return Err(error.into()),
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
    fn subjects_name_the_stream_and_durable() {
        assert_eq!(
            advisory_subject("STORIES_RAW", "wire-enricher"),
            "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.STORIES_RAW.wire-enricher"
        );
        assert_eq!(
            queue_group("wire-enricher"),
            "wire-enricher-rescue.wire-enricher"
        );
    }
}
