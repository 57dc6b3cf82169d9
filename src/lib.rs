//! wire-enricher: raw news wire stories in, structured enriched records out.
//!
//! # Layout
//!
//! ```text
//!   main.rs (binary edge: CLI, anyhow, exit codes)
//!      |
//!      +--> config      TOML file + WIRE_ENRICHER__* env -> Config (validated)
//!      +--> telemetry   tracing subscriber, per-story spans
//!      +--> metrics     Prometheus recorder + names of every metric
//!      +--> http        /healthz, /readyz, /metrics
//!      +--> shutdown    OS signals -> CancellationToken
//!      +--> bus         NATS JetStream / core source, publish sink, dead letters
//!      +--> pipeline    source -> parse -> quotes -> entities -> sink, bounded channels
//!      +--> stall       marks of the story each stage thread holds; the stall watchdog
//!      +--> daemon      `run`: wires config, bus, pipeline, http and shutdown together
//!      +--> offline     file / directory / JSONL / stdin inputs for `enrich` and `replay`
//!      +--> eval        offline accuracy runs against ../shared dev data
//!      +--> train       `train-ner`: trains the entity model from CoNLL-style data
//!      |
//!      +--> enrich      the pure, synchronous core (no I/O, no async, no clock, no env)
//!             parse     raw bytes -> Story (or ParseError)
//!             quotes    &Story -> quotations with speakers
//!             entities  &Story -> entities (tagger + clustering), completes speaker links
//!             record    EnrichedRecord: the published JSON contract
//! ```
//!
//! # Invariants
//!
//! - Dependencies point one way: the shell modules use `enrich`; `enrich` uses none of them.
//! - Every input message ends as exactly one record or one dead letter (the rare
//!   exceptions are listed in `bus::rescue`).
//! - Offsets in a published record are Unicode code point offsets into the field they
//!   name (`body` unless a mention says otherwise); inside the core they are byte offsets
//!   until [`enrich::record::EnrichedRecord`] is built.

pub mod bus;
pub mod config;
pub mod daemon;
pub mod enrich;
pub mod eval;
pub mod health;
pub mod http;
pub mod metrics;
pub mod offline;
pub mod pipeline;
pub mod shutdown;
pub mod stall;
pub mod telemetry;
pub mod train;
