//! Cluster tests: the real worker against a real 3-node JetStream cluster with R3 input,
//! output and dead-letter streams (`input.replicas` / `output.replicas` /
//! `dead_letter.replicas` = 3, `nats.url` = all three nodes), while nodes and workers are
//! SIGKILLed and restarted under it.
//!
//! Each test publishes stories steadily from a background task while it breaks something,
//! then checks the worker's promise: every published story ends as exactly one record or
//! one dead letter, and no id appears twice in the output stream. Waits are bounded by
//! progress (no new outcome for [`STALL`]), not by fixed sleeps, so a loaded machine only
//! makes them slower.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;

use crate::support::cluster::NatsCluster;
use crate::support::*;

/// How long no new record or dead letter may appear before a test gives up.
const STALL: Duration = Duration::from_secs(90);

/// Pause between two published stories (about 40 stories/s offered).
const PUBLISH_PACE: Duration = Duration::from_millis(25);

/// Worker settings for the cluster: R3 streams.
const R3: [(&str, &str); 3] = [
    ("INPUT__REPLICAS", "3"),
    ("OUTPUT__REPLICAS", "3"),
    ("DEAD_LETTER__REPLICAS", "3"),
];

/// A test client on every node of the cluster.
async fn cluster_js(cluster: &NatsCluster) -> jetstream::Context {
    let nats = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(cluster.urls().split(',').collect::<Vec<_>>())
        .await
        .expect("connect test client to the cluster");
    jetstream::new(nats)
}

/// Starts a worker on the whole cluster with R3 streams plus `extra`, waits until ready.
fn start_worker(cluster: &NatsCluster, topology: &Topology, extra: &[(&str, &str)]) -> Worker {
    let settings: Vec<(&str, &str)> = R3.iter().chain(extra).copied().collect();
    let mut worker = Worker::start(topology, &cluster.urls(), &settings);
    worker.wait_ready(Duration::from_secs(60));
    worker
}

/// Asserts the worker created `stream` with three replicas: a leader and two peers.
async fn assert_replicated(js: &jetstream::Context, stream: &str) {
    let mut handle = js.get_stream(stream).await.expect("stream exists");
    let info = handle.info().await.expect("stream info");
    assert_eq!(info.config.num_replicas, 3, "{stream} replicas");
    let cluster = info.cluster.as_ref().expect("clustered stream info");
    assert!(cluster.leader.is_some(), "{stream} has a leader");
    assert_eq!(cluster.replicas.len(), 2, "{stream} peers: {cluster:?}");
}

/// Publishes generated stories one by one (each ack awaited, retried while the cluster
/// re-elects) until `stop` is set, and returns the stories it published.
struct Publisher {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<Vec<u8>>>,
}

impl Publisher {
    const MAX_STORIES: usize = 3_000;

    fn start(js: &jetstream::Context, subject: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(publish_until(
            js.clone(),
            subject.to_owned(),
            Arc::clone(&stop),
        ));
        Self { stop, task }
    }

    /// Stops publishing and returns what was published.
    async fn finish(self) -> Vec<Vec<u8>> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("publisher task")
    }
}

async fn publish_until(
    js: jetstream::Context,
    subject: String,
    stop: Arc<AtomicBool>,
) -> Vec<Vec<u8>> {
    let stories = generated_stories(Publisher::MAX_STORIES);
    let mut published = Vec::new();
    for story in stories {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        publish_one_within(&js, &subject, story.clone(), STALL).await;
        published.push(story);
        tokio::time::sleep(PUBLISH_PACE).await;
    }
    published
}

/// Records plus dead letters so far.
async fn outcomes(js: &jetstream::Context, topology: &Topology) -> u64 {
    stream_count(js, &topology.output_stream).await + stream_count(js, &topology.dead_stream).await
}

/// Waits until at least `at_least` outcomes exist, failing when none is added for [`STALL`].
async fn wait_outcomes(js: &jetstream::Context, topology: &Topology, at_least: u64) -> u64 {
    let mut last = outcomes(js, topology).await;
    let mut last_progress = Instant::now();
    while last < at_least {
        assert!(
            last_progress.elapsed() < STALL,
            "stuck at {last} of {at_least} outcomes for {STALL:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = outcomes(js, topology).await;
        if now > last {
            last = now;
            last_progress = Instant::now();
        }
    }
    last
}

/// Waits until `more` outcomes were added to what exists now (stories still flow).
async fn wait_more_outcomes(js: &jetstream::Context, topology: &Topology, more: u64) -> u64 {
    let now = outcomes(js, topology).await;
    wait_outcomes(js, topology, now + more).await
}

/// Waits for one outcome per story, lets late redeliveries land (past `ack_wait`), then
/// asserts each story is exactly one record or one dead letter and no id is repeated.
async fn assert_every_story_once(
    js: &jetstream::Context,
    topology: &Topology,
    stories: &[Vec<u8>],
    workers: &[&Worker],
) {
    assert!(!stories.is_empty(), "nothing was published");
    wait_outcomes(js, topology, stories.len() as u64).await;
    // Past ack_wait (3s): a redelivery that would duplicate would have landed by now.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let records = read_stream(
        js,
        &topology.output_stream,
        0,
        Duration::ZERO,
        Duration::ZERO,
    )
    .await;
    let dead = read_stream(js, &topology.dead_stream, 0, Duration::ZERO, Duration::ZERO).await;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for record in &records {
        let id = header(record, "Nats-Msg-Id").expect("record has Nats-Msg-Id");
        *seen.entry(id).or_default() += 1;
    }
    for letter in &dead {
        let id = header(letter, "Wire-Enricher-Original-Id").expect("dead letter has its id");
        *seen.entry(id).or_default() += 1;
    }
    let duplicates: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    let expected = expected_ids(stories);
    let missing: Vec<_> = expected
        .iter()
        .filter(|id| !seen.contains_key(*id))
        .collect();
    let context = || {
        workers
            .iter()
            .map(|w| w.log())
            .collect::<Vec<_>>()
            .join("\n----\n")
    };
    assert!(
        duplicates.is_empty(),
        "duplicated outcomes: {duplicates:?}; worker logs:\n{}",
        context()
    );
    assert!(
        missing.is_empty(),
        "{} of {} stories have no outcome, e.g. {:?}",
        missing.len(),
        expected.len(),
        missing.iter().take(3).collect::<Vec<_>>()
    );
    assert_eq!(
        records.len() + dead.len(),
        expected.len(),
        "records + dead letters != inputs"
    );
    eprintln!(
        "cluster test: {} stories, {} records, {} dead letters",
        expected.len(),
        records.len(),
        dead.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_input_streams_leader_mid_stream_loses_and_duplicates_nothing() {
    let mut cluster = NatsCluster::start();
    let topology = Topology::unique();
    let worker = start_worker(&cluster, &topology, &[]);
    let js = cluster_js(&cluster).await;
    for stream in [
        &topology.input_stream,
        &topology.output_stream,
        &topology.dead_stream,
    ] {
        assert_replicated(&js, stream).await;
    }
    let publisher = Publisher::start(&js, &topology.input_subject);

    wait_outcomes(&js, &topology, 30).await;
    let leader = cluster
        .wait_stream_leader(&js, &topology.input_stream, STALL)
        .await;
    cluster.kill(leader);
    let new_leader = cluster
        .wait_new_stream_leader(&js, &topology.input_stream, leader, STALL)
        .await;
    eprintln!("input leader {leader} killed, {new_leader} leads now");
    wait_more_outcomes(&js, &topology, 30).await;
    cluster.restart(leader);
    wait_more_outcomes(&js, &topology, 20).await;

    let stories = publisher.finish().await;
    assert_every_story_once(&js, &topology, &stories, &[&worker]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_of_every_node_loses_and_duplicates_nothing() {
    let mut cluster = NatsCluster::start();
    let topology = Topology::unique();
    let worker = start_worker(&cluster, &topology, &[]);
    let js = cluster_js(&cluster).await;
    let publisher = Publisher::start(&js, &topology.input_subject);

    wait_outcomes(&js, &topology, 20).await;
    for node in 0..cluster.nodes().len() {
        cluster.kill(node);
        wait_more_outcomes(&js, &topology, 15).await;
        // Waits until the node is healthy again (caught up) before the next goes down.
        cluster.restart(node);
        wait_more_outcomes(&js, &topology, 10).await;
    }

    let stories = publisher.finish().await;
    assert_every_story_once(&js, &topology, &stories, &[&worker]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_stream_on_the_cluster_loses_and_duplicates_nothing() {
    let cluster = NatsCluster::start();
    let topology = Topology::unique();
    // ack_wait is 3s (Topology::env): the victim's unacked stories come back promptly.
    let extra = [("INPUT__BATCH", "8"), ("PIPELINE__PARALLELISM", "1")];
    let mut victim = start_worker(&cluster, &topology, &extra);
    let survivor = start_worker(&cluster, &topology, &extra);
    let js = cluster_js(&cluster).await;
    let publisher = Publisher::start(&js, &topology.input_subject);

    let deadline = Instant::now() + STALL;
    while victim.log_count("Published record.") < 10 {
        assert!(
            Instant::now() < deadline,
            "victim published nothing; log:\n{}",
            victim.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    victim.kill9();
    wait_more_outcomes(&js, &topology, 40).await;

    let stories = publisher.finish().await;
    assert_every_story_once(&js, &topology, &stories, &[&survivor]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_output_streams_leader_while_publishing_records_loses_and_duplicates_nothing() {
    let mut cluster = NatsCluster::start();
    let topology = Topology::unique();
    let worker = start_worker(&cluster, &topology, &[]);
    let js = cluster_js(&cluster).await;
    let publisher = Publisher::start(&js, &topology.input_subject);

    wait_outcomes(&js, &topology, 30).await;
    let leader = cluster
        .wait_stream_leader(&js, &topology.output_stream, STALL)
        .await;
    cluster.kill(leader);
    let new_leader = cluster
        .wait_new_stream_leader(&js, &topology.output_stream, leader, STALL)
        .await;
    eprintln!("output leader {leader} killed, {new_leader} leads now");
    wait_more_outcomes(&js, &topology, 30).await;
    cluster.restart(leader);
    wait_more_outcomes(&js, &topology, 20).await;

    let stories = publisher.finish().await;
    assert_every_story_once(&js, &topology, &stories, &[&worker]).await;
    eprintln!(
        "record publishes that failed and were retried: {}",
        worker.log_count("Record publish failed.")
    );
}
