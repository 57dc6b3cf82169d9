//! `wire-enricher replay`: publishes a fixture stream (files, directories, JSONL, stdin)
//! to a subject, for demos, load tests and the integration tests.
//!
//! Each story gets `Nats-Msg-Id` = its own message id when the input has one, else
//! `enrich::content_hash_id` of its bytes, so replaying the same fixtures twice inside
//! the stream's duplicate window adds nothing. When the subject belongs to a JetStream
//! stream, publishes go through JetStream and every ack is awaited.
//!
//! Must not: enrich anything, or exit before every publish is acknowledged (or flushed,
//! for a subject outside any stream).

use std::time::Duration;

use tokio::time::Instant;

use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use thiserror::Error;

use crate::config::NatsConfig;
use crate::health::Health;
use crate::offline::InputStory;

/// Publish acks awaited at once: enough to keep the link busy, few enough to bound memory.
const MAX_IN_FLIGHT_PUBLISHES: usize = 256;

/// What `replay` does.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Target subject.
    pub subject: String,
    /// Stories per second; None for as fast as acks allow.
    pub rate: Option<f64>,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

/// Totals of one replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplaySummary {
    /// Stories published (and acknowledged, for JetStream).
    pub published: usize,
    /// Of those, how many the stream reported as duplicates.
    pub duplicates: usize,
    /// Whether JetStream publish was used.
    pub jetstream: bool,
}

/// Why a replay failed.
#[derive(Debug, Error)]
pub enum ReplayError {
    /// Connecting failed.
    #[error(transparent)]
    Bus(#[from] super::BusError),
    /// A publish failed or was not acknowledged.
    #[error("publishing story {name}")]
    Publish {
        /// The input's name.
        name: String,
        /// The error.
        #[source]
        source: async_nats::Error,
    },
    /// The final flush failed.
    #[error("flushing publishes")]
    Flush(#[source] async_nats::client::FlushError),
}

/// Publishes `stories` to `options.subject`.
///
/// # Errors
/// [`ReplayError`] on the first failed publish.
pub async fn run(
    nats: &NatsConfig,
    stories: &[InputStory],
    options: &ReplayOptions,
) -> Result<ReplaySummary, ReplayError> {
    let client = super::nats::connect(nats, Health::new()).await?;
    let js = async_nats::jetstream::new(client.clone());
    let jetstream = js.stream_by_subject(options.subject.clone()).await.is_ok();
    let bar = progress_bar(options.progress, stories.len());
    let started = Instant::now();
    let mut summary = ReplaySummary {
        jetstream,
        ..ReplaySummary::default()
    };
    let mut acks = FuturesUnordered::new();
    for (index, story) in stories.iter().enumerate() {
        pace(options.rate, index, started).await;
        let id = story
            .message_id
            .clone()
            .unwrap_or_else(|| crate::enrich::content_hash_id(&story.bytes));
        let payload = Bytes::from(story.bytes.clone());
        if jetstream {
            let message = PublishMessage::build().payload(payload).message_id(&id);
            let ack = js
                .send_publish(options.subject.clone(), message)
                .await
                .map_err(|e| publish_error(story, e))?;
            acks.push(async move { (ack.await, story) });
            while acks.len() >= MAX_IN_FLIGHT_PUBLISHES {
                settle(acks.next().await, &mut summary, &bar)?;
            }
        } else {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", id.as_str());
            client
                .publish_with_headers(options.subject.clone(), headers, payload)
                .await
                .map_err(|e| publish_error(story, e))?;
            summary.published += 1;
            bar.inc(1);
        }
    }
    while !acks.is_empty() {
        settle(acks.next().await, &mut summary, &bar)?;
    }
    client.flush().await.map_err(ReplayError::Flush)?;
    bar.finish_and_clear();
    Ok(summary)
}

type AckResult<'a> = (
    Result<
        async_nats::jetstream::publish::PublishAck,
        async_nats::jetstream::context::PublishError,
    >,
    &'a InputStory,
);

fn settle(
    next: Option<AckResult<'_>>,
    summary: &mut ReplaySummary,
    bar: &indicatif::ProgressBar,
) -> Result<(), ReplayError> {
    let Some((result, story)) = next else {
        return Ok(());
    };
    let ack = result.map_err(|e| publish_error(story, e))?;
    summary.published += 1;
    if ack.duplicate {
        summary.duplicates += 1;
    }
    bar.inc(1);
    Ok(())
}

fn publish_error(
    story: &InputStory,
    error: impl std::error::Error + Send + Sync + 'static,
) -> ReplayError {
    ReplayError::Publish {
        name: story.name.clone(),
        source: Box::new(error),
    }
}

/// Sleeps so that story `index` goes out no earlier than `index / rate` seconds in.
async fn pace(rate: Option<f64>, index: usize, started: Instant) {
    let Some(rate) = rate.filter(|r| *r > 0.0 && r.is_finite()) else {
        return;
    };
    let due = started + Duration::from_secs_f64(index as f64 / rate);
    tokio::time::sleep_until(due).await;
}

fn progress_bar(show: bool, len: usize) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} {pos}/{len} stories [{elapsed_precise}] {per_sec}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    indicatif::ProgressBar::new(len as u64).with_style(style)
}

/// Parses `--rate`: `50`, `50/s` or `50/sec`.
///
/// # Errors
/// A message for clap when the text is not a positive number.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let number = text
        .trim()
        .trim_end_matches("/sec")
        .trim_end_matches("/s")
        .trim();
    match number.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(rate),
        _ => Err(format!(
            "expected a positive rate like 50 or 50/s, got {text:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_with_or_without_unit() {
        assert_eq!(parse_rate("50"), Ok(50.0));
        assert_eq!(parse_rate("2.5/s"), Ok(2.5));
        assert_eq!(parse_rate("10/sec"), Ok(10.0));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("fast").is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn pace_spreads_publishes_over_time() {
        let started = Instant::now();
        pace(Some(10.0), 5, started).await;
        assert!(started.elapsed() >= Duration::from_millis(500));
        let before = Instant::now();
        pace(None, 1000, started).await;
        assert!(before.elapsed() < Duration::from_millis(1));
    }
}
