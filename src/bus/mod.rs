//! The I/O edge to NATS: where stories come from ([`Source`]), where records and dead
//! letters go ([`Sink`]), and how an input is settled ([`AckHandle`]).
//!
//! `Source` and `Sink` are closed enums over the two transports the worker supports:
//! a JetStream durable pull consumer with a JetStream publisher (at-least-once), and a
//! core NATS queue group with a core publisher (at-most-once). The NATS details live in
//! [`nats`]; `replay` publishes fixture streams for tests and demos; [`rescue`]
//! dead-letters the stories JetStream stopped delivering.
//!
//! Must not: parse or enrich stories, decide what a story's outcome is (the pipeline
//! does), or log story bodies above debug.

pub mod nats;
pub mod replay;
pub mod rescue;

use std::time::Duration;

use bytes::Bytes;
use thiserror::Error;

pub use nats::{AckHandle, CoreSource, JetStreamSource, NatsSink};

/// Headers of a dead letter, and the `Wire-Enricher-Error` reason kinds the bus adds on
/// top of [`crate::enrich::ParseError::kind`].
pub mod headers {
    /// Stable reason kind (`empty`, `too_large`, `invalid_utf8`, `malformed_json`, ...).
    pub const ERROR: &str = "Wire-Enricher-Error";
    /// Human-readable reason.
    pub const ERROR_MESSAGE: &str = "Wire-Enricher-Error-Message";
    /// The input's id: its `Nats-Msg-Id`, else the content hash of its bytes.
    pub const ORIGINAL_ID: &str = "Wire-Enricher-Original-Id";
    /// The subject the input arrived on.
    pub const ORIGINAL_SUBJECT: &str = "Wire-Enricher-Original-Subject";
    /// The input's stream sequence (JetStream only).
    pub const ORIGINAL_SEQUENCE: &str = "Wire-Enricher-Original-Sequence";
    /// How many times the input had been delivered.
    pub const DELIVERED: &str = "Wire-Enricher-Delivered";
    /// Reason kind: publishing the record kept failing until `input.max_deliver`.
    pub const REASON_PUBLISH_FAILED: &str = "publish_failed";
    /// Reason kind: a stage panicked on this story (a bug; the story is kept).
    pub const REASON_INTERNAL: &str = "internal_error";
    /// Reason kind: the server stopped delivering the story after `max_deliver`
    /// deliveries without an outcome (see [`super::rescue`]).
    pub const REASON_MAX_DELIVERIES: &str = "max_deliveries";
}

/// What went wrong talking to NATS.
#[derive(Debug, Error)]
pub enum BusError {
    /// A secret or credentials file could not be read.
    #[error("cannot read {what} file {path}")]
    ReadSecret {
        /// Which setting (`nats.token_file`, ...).
        what: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The client could not be built or connected.
    #[error("cannot connect to NATS")]
    Connect {
        /// The client error.
        #[source]
        source: async_nats::ConnectError,
    },
    /// A stream could not be looked up or created.
    #[error("cannot set up stream {stream}")]
    Stream {
        /// The stream name.
        stream: String,
        /// The JetStream error.
        #[source]
        source: async_nats::Error,
    },
    /// The durable consumer could not be looked up or created.
    #[error("cannot set up consumer {durable} on stream {stream}")]
    Consumer {
        /// The stream name.
        stream: String,
        /// The durable name.
        durable: String,
        /// The JetStream error.
        #[source]
        source: async_nats::Error,
    },
    /// A core subscription could not be made.
    #[error("cannot subscribe to {subject}")]
    Subscribe {
        /// The subject.
        subject: String,
        /// The client error.
        #[source]
        source: async_nats::SubscribeError,
    },
}

/// Why one publish did not get its acknowledgement. Transient: the story is retried.
#[derive(Debug, Error)]
pub enum PublishError {
    /// The server did not answer within `output.publish_timeout`.
    #[error("no publish acknowledgement within {0:?}")]
    Timeout(Duration),
    /// The client or the server refused the publish.
    #[error("publish failed")]
    Failed(#[source] async_nats::Error),
}

/// An error and its causes on one line (`outer: inner: root`), for logs: error types
/// keep their causes in `source()`, not in their own message.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// Where raw stories come from.
#[derive(Debug)]
pub enum Source {
    /// JetStream durable pull consumer: at-least-once, acked after publish.
    JetStream(JetStreamSource),
    /// Core NATS queue group: at-most-once.
    Core(CoreSource),
}

/// Where records and dead letters go.
#[derive(Debug, Clone)]
pub enum Sink {
    /// NATS: JetStream publish with acks, or core publish (see [`NatsSink`]).
    Nats(NatsSink),
}

impl Sink {
    /// Publishes one record with its id as `Nats-Msg-Id` and CloudEvents headers.
    ///
    /// # Errors
    /// [`PublishError`] when the publish is not acknowledged; the caller retries.
    pub async fn publish_record(
        &self,
        record: &OutboundRecord,
        input: &InputMeta,
    ) -> Result<(), PublishError> {
        match self {
            Sink::Nats(sink) => sink.publish_record(record, input).await,
        }
    }

    /// Publishes a dead letter: the original bytes with the reason headers.
    ///
    /// # Errors
    /// [`PublishError`] when the publish is not acknowledged; the caller retries.
    pub async fn publish_dead_letter(
        &self,
        letter: &DeadLetter,
        input: &InputMeta,
        payload: Bytes,
    ) -> Result<(), PublishError> {
        match self {
            Sink::Nats(sink) => sink.publish_dead_letter(letter, input, payload).await,
        }
    }
}

/// A serialised record ready to publish.
#[derive(Debug, Clone)]
pub struct OutboundRecord {
    /// The record id: `Nats-Msg-Id` and `ce-id`.
    pub id: String,
    /// The record as JSON.
    pub json: Bytes,
}

/// Why an input becomes a dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The stable reason kind (`Wire-Enricher-Error`).
    pub kind: &'static str,
    /// The human-readable reason (`Wire-Enricher-Error-Message`).
    pub message: String,
}

/// What the transport knows about one input message.
#[derive(Debug, Clone)]
pub struct InputMeta {
    /// The subject it arrived on.
    pub subject: String,
    /// The JetStream stream (None in core mode).
    pub stream: Option<String>,
    /// The stream sequence (None in core mode).
    pub stream_sequence: Option<u64>,
    /// Delivery count, 1 on first delivery (always 1 in core mode).
    pub delivered: u64,
    /// The consumer's delivery limit as the server applies it (the existing consumer's,
    /// which may differ from the config); None when unlimited or in core mode.
    pub max_deliver: Option<u64>,
    /// The input's `Nats-Msg-Id` header.
    pub message_id: Option<String>,
    /// The input's `Content-Type` header.
    pub content_type: Option<String>,
    /// When the worker received it.
    pub received_at: jiff::Timestamp,
    /// When the JetStream stream stored it (None in core mode).
    pub stored_at: Option<jiff::Timestamp>,
}

impl InputMeta {
    /// The UTC day the story reached the bus (stored, else received): the year anchor for
    /// a dateline written without a year (see `RawStory::reference_date`).
    pub fn reference_date(&self) -> jiff::civil::Date {
        self.stored_at
            .unwrap_or(self.received_at)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
    }

    /// Whether the server will not deliver this message again after a nak.
    pub fn is_last_delivery(&self) -> bool {
        self.max_deliver.is_some_and(|max| self.delivered >= max)
    }

    /// The input's id for dead letters: its message id, else the hash of its bytes.
    pub fn original_id(&self, payload: &[u8]) -> String {
        self.message_id
            .clone()
            .filter(|id| !id.trim().is_empty())
            .unwrap_or_else(|| crate::enrich::content_hash_id(payload))
    }
}

/// One message as the source hands it to the pipeline.
#[derive(Debug)]
pub struct Delivery {
    /// Transport facts.
    pub meta: InputMeta,
    /// The payload exactly as received.
    pub payload: Bytes,
    /// How to settle it.
    pub ack: AckHandle,
    /// The story's span, entered by every stage.
    pub span: tracing::Span,
}

impl Delivery {
    /// Wraps a received message, opens its span and counts it in.
    pub fn new(meta: InputMeta, payload: Bytes, ack: AckHandle) -> Self {
        crate::metrics::story_in(payload.len());
        if meta.delivered > 1 {
            crate::metrics::redelivered();
        }
        let span = crate::telemetry::story_span(
            &meta.original_id(&payload),
            &meta.subject,
            meta.stream_sequence,
            Some(meta.delivered),
        );
        Self {
            meta,
            payload,
            ack,
            span,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_delivery_follows_the_consumer_limit() {
        let mut meta = InputMeta {
            subject: "s".to_owned(),
            stream: None,
            stream_sequence: None,
            delivered: 2,
            max_deliver: Some(2),
            message_id: None,
            content_type: None,
            received_at: jiff::Timestamp::UNIX_EPOCH,
            stored_at: None,
        };
        assert!(meta.is_last_delivery());
        meta.delivered = 1;
        assert!(!meta.is_last_delivery());
        meta.max_deliver = None;
        meta.delivered = 1000;
        assert!(!meta.is_last_delivery(), "unlimited");
    }

    #[test]
    fn error_chain_joins_causes() {
        let error = BusError::ReadSecret {
            what: "nats.token_file",
            path: "/run/token".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        };
        assert_eq!(
            error_chain(&error),
            "cannot read nats.token_file file /run/token: gone"
        );
    }
}
