//! Integration tests: the real binary against a real `nats-server` per test.
//!
//! Every test checks the worker's promise: each input ends as exactly one record or one
//! dead letter, whatever happens to the workers or the server. They do not depend on the
//! quality of the enrichment stages.

mod auth;
mod cluster;
mod support;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

/// Generous bound for a pipeline to finish a few hundred small stories.
pub(crate) const DRAIN: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_stories_come_out_once_each_and_equal_offline_enrich() {
    let server = NatsServer::start();
    let topology = Topology::unique();
    let mut worker = Worker::start(&topology, &server.url(), &[]);
    worker.wait_ready(Duration::from_secs(20));

    // Every shipped fixture story (seed, corpus renderings in all formats), topped up with
    // generated wire stories and one yearless wire dateline to 221.
    let mut stories = fixture_stories();
    assert!(
        stories.len() >= 25,
        "fixture stories missing: {}",
        stories.len()
    );
    stories.extend(generated_stories(220 - stories.len()));
    // A dateline without a year in a story that writes no dated mention: the worker dates
    // it by the day the stream stored it.
    stories.push(YEARLESS_WIRE_STORY.as_bytes().to_vec());
    let dir = write_story_dir(&stories);
    // The CLI replay: a directory, Nats-Msg-Id = content hash, JetStream acks awaited.
    let replay = Command::new(BIN)
        .args(["replay", "--server", &server.url(), "--subject"])
        .arg(&topology.input_subject)
        .arg(dir.path())
        .output()
        .expect("run replay");
    assert!(
        replay.status.success(),
        "replay failed: {}",
        String::from_utf8_lossy(&replay.stderr)
    );

    let nats = client(&server.url()).await;
    let js = async_nats::jetstream::new(nats);
    let records = read_stream(
        &js,
        &topology.output_stream,
        stories.len() as u64,
        DRAIN,
        Duration::from_millis(500),
    )
    .await;
    assert_exactly_once(&records, &expected_ids(&stories));
    assert_eq!(
        stream_count(&js, &topology.dead_stream).await,
        0,
        "no dead letters"
    );

    // Record headers: CloudEvents binary mode, ce-id = record id = Nats-Msg-Id.
    for record in &records {
        let json: Value = serde_json::from_slice(&record.payload).expect("record is JSON");
        let id = json["id"].as_str().expect("record id");
        assert_eq!(header(record, "Nats-Msg-Id").as_deref(), Some(id));
        assert_eq!(header(record, "ce-id").as_deref(), Some(id));
        assert_eq!(header(record, "ce-specversion").as_deref(), Some("1.0"));
        assert!(header(record, "ce-type").is_some_and(|t| !t.is_empty()));
        assert!(header(record, "ce-source").is_some_and(|t| !t.is_empty()));
        assert!(header(record, "ce-time").is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok()));
        assert_eq!(
            header(record, "Content-Type").as_deref(),
            Some("application/json")
        );
        assert_eq!(
            json["source"]["stream"].as_str(),
            Some(topology.input_stream.as_str())
        );
        assert_eq!(
            json["source"]["subject"].as_str(),
            Some(topology.input_subject.as_str())
        );
        assert!(json["source"]["stream_sequence"].as_u64().is_some());
    }

    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let yearless = records
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.payload).expect("record is JSON"))
        .find(|json| {
            json["body"]
                .as_str()
                .is_some_and(|b| b.contains("The port reopened"))
        })
        .expect("the yearless wire story's record");
    assert_eq!(
        yearless["published"].as_str(),
        Some(format!("{}-01-01", today.year()).as_str()),
        "a yearless dateline is dated by the stream's store day"
    );

    // Same record as offline `enrich` given the same reference day, transport facts aside.
    let offline = Command::new(BIN)
        .args(["enrich", "--reference-date", &today.to_string()])
        .arg(dir.path())
        .output()
        .expect("run enrich");
    assert!(
        offline.status.success(),
        "{}",
        String::from_utf8_lossy(&offline.stderr)
    );
    let offline: BTreeMap<String, Value> = String::from_utf8_lossy(&offline.stdout)
        .lines()
        .map(|line| {
            let record: Value = serde_json::from_str(line).expect("offline record is JSON");
            (comparable_key(&record), comparable(record))
        })
        .collect();
    assert_eq!(
        offline.len(),
        stories.len(),
        "offline enrich printed one record per story"
    );
    for record in &records {
        let online: Value = serde_json::from_slice(&record.payload).expect("record is JSON");
        let key = comparable_key(&online);
        let expected = offline
            .get(&key)
            .unwrap_or_else(|| panic!("no offline record with body {key:.60}"));
        assert_eq!(&comparable(online), expected);
    }
    worker.signal("TERM");
    assert!(worker
        .wait_exit(Duration::from_secs(15))
        .is_some_and(|s| s.success()));
}

/// A wire story whose dateline (`Jan 1`) has no year and whose text writes no date.
const YEARLESS_WIRE_STORY: &str = "Harbour reopens after storm\n\n\
    VALPARAISO, Jan 1 (Harbor City Press) - The port reopened on Monday after a storm \
    closed it for three days, officials said.\n\n\
    Ships queued outside the breakwater as pilots returned to work.\n";

/// Offline and daemon records of one story share their body.
fn comparable_key(record: &Value) -> String {
    record["body"].as_str().unwrap_or_default().to_owned()
}

/// A record with what only the transport knows removed: the id (a file name offline, the
/// message id online), the receive time, the subject and the stream fields.
fn comparable(mut record: Value) -> Value {
    if let Some(object) = record.as_object_mut() {
        object.remove("id");
        if let Some(source) = object.get_mut("source").and_then(Value::as_object_mut) {
            for key in ["received_at", "subject", "stream", "stream_sequence"] {
                source.remove(key);
            }
        }
    }
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_moves_every_story_once_with_its_bytes_unchanged() {
    let Scene {
        server,
        topology,
        js,
    } = Scene::start().await;
    let mut relay = Worker::start_subcommand("relay", &topology, &server.url(), &[]);
    relay.wait_ready(Duration::from_secs(20));

    // Parseable stories (whose own ids the relay must ignore) and bytes the worker would
    // dead-letter (binary, empty body): the relay passes all of them through.
    let mut stories = fixture_stories();
    stories.extend(generated_stories(150));
    publish_all(&js, &topology.input_subject, &stories).await;
    // One input without a Nats-Msg-Id: its id falls back to the content hash.
    let binary = b"\x00\x01\xffnot a story\x00".to_vec();
    js.publish(topology.input_subject.clone(), binary.clone().into())
        .await
        .expect("publish")
        .await
        .expect("ack");
    stories.push(binary);

    let records = read_stream(
        &js,
        &topology.output_stream,
        stories.len() as u64,
        DRAIN,
        Duration::from_millis(500),
    )
    .await;
    let hashes: Vec<String> = stories
        .iter()
        .map(|s| wire_enricher::enrich::content_hash_id(s))
        .collect();
    assert_exactly_once(&records, &hashes);
    let by_id: BTreeMap<&str, &Vec<u8>> = hashes
        .iter()
        .map(String::as_str)
        .zip(stories.iter())
        .collect();
    for record in &records {
        let id = header(record, "Nats-Msg-Id").expect("id");
        assert_eq!(
            record.payload.as_ref(),
            by_id[id.as_str()].as_slice(),
            "payload of {id} changed"
        );
    }
    assert_eq!(stream_count(&js, &topology.dead_stream).await, 0);
    let metrics = relay.metrics();
    let out = format!("wire_enricher_stories_out_total {}", stories.len());
    assert!(metrics.contains(&out), "{out} not in:\n{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_on_one_durable_share_the_work_exactly_once() {
    let Scene {
        server,
        topology,
        js,
    } = Scene::with_input_stream().await;
    let stories = generated_stories(300);

    // Small batches and one story at a time per stage so no single worker grabs it all;
    // all three are consuming before the first story arrives.
    let extra = [
        ("INPUT__BATCH", "4"),
        ("PIPELINE__PARALLELISM", "1"),
        ("PIPELINE__CHANNEL_CAPACITY", "2"),
    ];
    let mut workers: Vec<Worker> = (0..3)
        .map(|_| Worker::start(&topology, &server.url(), &extra))
        .collect();
    for worker in &mut workers {
        worker.wait_ready(Duration::from_secs(20));
    }
    publish_all(&js, &topology.input_subject, &stories).await;
    let records = read_stream(
        &js,
        &topology.output_stream,
        stories.len() as u64,
        DRAIN,
        Duration::from_millis(500),
    )
    .await;
    assert_exactly_once(&records, &expected_ids(&stories));
    let done: Vec<usize> = workers
        .iter()
        .map(|w| w.log_count("Published record."))
        .collect();
    assert!(
        done.iter().all(|n| *n > 0),
        "every worker published some: {done:?}"
    );
    assert!(done.iter().sum::<usize>() >= stories.len(), "{done:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_loses_nothing_and_duplicates_nothing() {
    let Scene {
        server,
        topology,
        js,
    } = Scene::with_input_stream().await;
    let stories = generated_stories(300);

    let extra = [("INPUT__BATCH", "8"), ("PIPELINE__PARALLELISM", "1")];
    let mut victim = Worker::start(&topology, &server.url(), &extra);
    let mut survivor = Worker::start(&topology, &server.url(), &extra);
    victim.wait_ready(Duration::from_secs(20));
    survivor.wait_ready(Duration::from_secs(20));

    // Publish while the workers run; kill one once it has done some of the work.
    let (first, rest) = stories.split_at(150);
    publish_all(&js, &topology.input_subject, first).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while victim.log_count("Published record.") < 10 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    victim.kill9();
    publish_all(&js, &topology.input_subject, rest).await;

    let records = read_stream(
        &js,
        &topology.output_stream,
        stories.len() as u64,
        DRAIN,
        Duration::from_secs(4), // past ack_wait: late redeliveries would show as duplicates
    )
    .await;
    assert_exactly_once(&records, &expected_ids(&stories));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_server_restart_mid_stream_is_survived() {
    let mut server = NatsServer::start();
    let topology = Topology::unique();
    // Long pull requests: recovery must not wait for the one lost with the old server.
    let extra = [("INPUT__BATCH", "8"), ("INPUT__FETCH_EXPIRES", "60s")];
    let mut worker = Worker::start(&topology, &server.url(), &extra);
    worker.wait_ready(Duration::from_secs(20));
    let all = generated_stories(300);
    let (stories, late) = all.split_at(240);
    let (first, rest) = stories.split_at(120);
    {
        let nats = client(&server.url()).await;
        let js = async_nats::jetstream::new(nats.clone());
        publish_all(&js, &topology.input_subject, first).await;
        // Restart while the first half is (probably) still being worked on.
        let deadline = Instant::now() + Duration::from_secs(10);
        while stream_count(&js, &topology.output_stream).await == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = nats.drain().await;
    }
    server.kill();
    // Not ready while the server is away.
    let deadline = Instant::now() + Duration::from_secs(10);
    while worker.ready() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !worker.ready(),
        "/readyz must report not-ready while NATS is down"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.restart();
    worker.wait_ready(Duration::from_secs(30));

    let nats = client(&server.url()).await;
    let js = async_nats::jetstream::new(nats);
    publish_all(&js, &topology.input_subject, rest).await;
    let published = Instant::now();
    let records = read_stream(
        &js,
        &topology.output_stream,
        stories.len() as u64,
        Duration::from_secs(20),
        Duration::ZERO,
    )
    .await;
    assert!(
        published.elapsed() < Duration::from_secs(20),
        "records stalled after the restart; log:\n{}",
        worker.log()
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    let records = read_stream(
        &js,
        &topology.output_stream,
        records.len() as u64,
        DRAIN,
        Duration::ZERO,
    )
    .await;
    assert_exactly_once(&records, &expected_ids(stories));
    assert!(
        worker.log_count("Disconnected from NATS") >= 1,
        "{}",
        worker.log()
    );

    // Again while idle: the worker is waiting on a 60s pull request that dies with the
    // server; it must renew it on reconnect rather than wait it out.
    drop(js);
    server.restart();
    worker.wait_ready(Duration::from_secs(30));
    let nats = client(&server.url()).await;
    let js = async_nats::jetstream::new(nats);
    publish_all(&js, &topology.input_subject, late).await;
    let records = read_stream(
        &js,
        &topology.output_stream,
        all.len() as u64,
        Duration::from_secs(15),
        Duration::from_millis(500),
    )
    .await;
    assert_exactly_once(&records, &expected_ids(&all));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_inputs_become_dead_letters_and_the_worker_keeps_going() {
    const LIMIT: usize = 64 * 1024;
    let server = NatsServer::start_with_max_payload(Some(4 * 1024 * 1024));
    let topology = Topology::unique();
    let limit = LIMIT.to_string();
    let mut worker = Worker::start(
        &topology,
        &server.url(),
        &[("LIMITS__MAX_STORY_BYTES", limit.as_str())],
    );
    worker.wait_ready(Duration::from_secs(20));

    let mut random = Vec::with_capacity(4096);
    let mut state: u32 = 0x9e37_79b9;
    for _ in 0..4096 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        random.push((state & 0xff) as u8);
    }
    random[0] = 0xff; // never valid UTF-8 at the start
    let poison: Vec<(Vec<u8>, &[&str])> = vec![
        (Vec::new(), &["empty"]),
        (b"  \n\t ".to_vec(), &["empty"]),
        (vec![b'a'; LIMIT + 1], &["too_large"]),
        (vec![b'x'; 2 * 1024 * 1024], &["too_large"]),
        (random, &["invalid_utf8", "binary"]),
        (
            b"caf\xe9 au lait \xc3\x28 is not UTF-8".to_vec(),
            &["invalid_utf8"],
        ),
        (br#"{"id":"x","body":"#.to_vec(), &["malformed_json"]),
        // Nested 10,000 deep (issue 8's hostile JSON), on the worker's own stage threads.
        (r#"{"a":"#.repeat(10_000).into_bytes(), &["malformed_json"]),
    ];
    let good = generated_stories(20);
    let nats = client(&server.url()).await;
    let js = async_nats::jetstream::new(nats);
    // Interleave: good, poison, good, ... so the worker must keep going after each.
    let mut expected_reasons = Vec::new();
    for (i, story) in good.iter().enumerate() {
        publish_one(&js, &topology.input_subject, story.clone()).await;
        if let Some((bytes, reasons)) = poison.get(i) {
            // Poison may repeat bytes (two empties): give each its own message id.
            let message = async_nats::jetstream::message::PublishMessage::build()
                .payload(bytes::Bytes::from(bytes.clone()))
                .message_id(format!("poison-{i}"));
            js.send_publish(topology.input_subject.clone(), message)
                .await
                .expect("publish poison")
                .await
                .expect("poison ack");
            expected_reasons.push((format!("poison-{i}"), *reasons, bytes.clone()));
        }
    }

    // Wait until every input has an outcome (a record or a dead letter), then check which.
    let total = (good.len() + poison.len()) as u64;
    let deadline = Instant::now() + DRAIN;
    while stream_count(&js, &topology.output_stream).await
        + stream_count(&js, &topology.dead_stream).await
        < total
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let dead = read_stream(&js, &topology.dead_stream, 0, DRAIN, Duration::ZERO).await;
    let records = read_stream(&js, &topology.output_stream, 0, DRAIN, Duration::ZERO).await;
    for (id, reasons, bytes) in &expected_reasons {
        let letter = dead
            .iter()
            .find(|m| header(m, "Wire-Enricher-Original-Id").as_deref() == Some(id.as_str()))
            .unwrap_or_else(|| {
                panic!("no dead letter for {id} (want reason {reasons:?}); did it become a record?")
            });
        let reason = header(letter, "Wire-Enricher-Error").unwrap_or_default();
        assert!(
            reasons.contains(&reason.as_str()),
            "{id}: reason {reason:?}, want {reasons:?}"
        );
        assert_eq!(
            letter.payload.as_ref(),
            bytes.as_slice(),
            "{id}: original bytes kept"
        );
        assert!(header(letter, "Wire-Enricher-Error-Message").is_some_and(|m| !m.is_empty()));
        assert_eq!(
            header(letter, "Wire-Enricher-Original-Subject").as_deref(),
            Some(topology.input_subject.as_str())
        );
        assert!(header(letter, "Wire-Enricher-Original-Sequence")
            .is_some_and(|s| s.parse::<u64>().is_ok()));
        assert_eq!(
            header(letter, "Wire-Enricher-Delivered").as_deref(),
            Some("1")
        );
    }
    assert_eq!(dead.len(), poison.len(), "one dead letter per poison input");
    assert_exactly_once(&records, &expected_ids(&good));
    // Terminated, not redelivered: nothing more shows up after ack_wait.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        stream_count(&js, &topology.dead_stream).await,
        poison.len() as u64
    );

    let metrics = worker.metrics();
    for reason in ["empty", "too_large", "malformed_json"] {
        let label = format!("reason=\"{reason}\"");
        let counted: f64 = metrics
            .lines()
            .filter(|l| !l.starts_with('#') && l.contains("dead") && l.contains(&label))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        assert!(
            counted >= 1.0,
            "/metrics counts {reason} dead letters:\n{metrics}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_stream_exits_zero_with_nothing_lost_or_duplicated() {
    let Scene {
        server,
        topology,
        js,
    } = Scene::with_input_stream().await;
    let stories = generated_stories(1000);
    publish_all(&js, &topology.input_subject, &stories).await;

    let extra = [("PIPELINE__PARALLELISM", "1")];
    let mut worker = Worker::start(&topology, &server.url(), &extra);
    worker.wait_ready(Duration::from_secs(20));
    let deadline = Instant::now() + Duration::from_secs(20);
    while worker.log_count("Published record.") < 20 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let signalled = Instant::now();
    worker.signal("TERM");
    let status = worker
        .wait_exit(Duration::from_secs(12))
        .unwrap_or_else(|| {
            panic!(
                "no exit within the shutdown timeout; log:\n{}",
                worker.log()
            )
        });
    assert!(
        status.success(),
        "exit status {status}; log:\n{}",
        worker.log()
    );
    assert!(signalled.elapsed() < Duration::from_secs(10));
    let after_first = stream_count(&js, &topology.output_stream).await;
    assert!(
        (after_first as usize) < stories.len(),
        "the worker was stopped mid-stream ({after_first} of {})",
        stories.len()
    );

    // A second worker finishes the rest: nothing lost (no ack without a record), nothing
    // duplicated (Nats-Msg-Id de-duplication covers anything published but not acked).
    let mut second = Worker::start(&topology, &server.url(), &[]);
    second.wait_ready(Duration::from_secs(20));
    let records = read_stream(
        &js,
        &topology.output_stream,
        stories.len() as u64,
        DRAIN,
        Duration::from_secs(4),
    )
    .await;
    assert_exactly_once(&records, &expected_ids(&stories));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_stage_makes_the_worker_exit_for_a_restart_and_nothing_is_lost() {
    let Scene {
        server,
        topology,
        js,
    } = Scene::with_input_stream().await;
    // A story a few hundred KB long holds a stage far longer than 1 ms in any build.
    let paragraph = "Officials in Geneva said on Tuesday that talks would resume. \"We will \
                     go on,\" said Anna Berg, a spokeswoman for the United Nations.\n\n";
    let big = format!("Talks to resume in Geneva\n\n{}", paragraph.repeat(2500)).into_bytes();
    let mut worker = Worker::start(
        &topology,
        &server.url(),
        &[("PIPELINE__STALL_TIMEOUT", "1ms")],
    );
    worker.wait_ready(Duration::from_secs(20));
    publish_one(&js, &topology.input_subject, big.clone()).await;
    let status = worker
        .wait_exit(Duration::from_secs(60))
        .unwrap_or_else(|| panic!("no exit after a stall; log:\n{}", worker.log()));
    assert_eq!(status.code(), Some(1), "log:\n{}", worker.log());
    assert_eq!(worker.log_count("Stage stalled; shutting down."), 1);
    assert!(
        worker.log().contains("(stream sequence 1)")
            && worker.log().contains("past pipeline.stall_timeout"),
        "{}",
        worker.log()
    );

    // The restarted worker (stall watch off) finishes it, if the first did not in its
    // drain: one record either way.
    let mut second = Worker::start(
        &topology,
        &server.url(),
        &[("PIPELINE__STALL_TIMEOUT", "0s")],
    );
    second.wait_ready(Duration::from_secs(20));
    let records = read_stream(
        &js,
        &topology.output_stream,
        1,
        DRAIN,
        Duration::from_secs(2),
    )
    .await;
    assert_exactly_once(&records, &expected_ids(&[big]));
}

fn print_config(env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(BIN);
    command.arg("print-config");
    clear_config_env(&mut command);
    command.envs(env.iter().copied());
    command.output().expect("run print-config")
}

#[test]
fn config_defaults_load_and_env_overrides_apply() {
    let output = print_config(&[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shown = String::from_utf8(output.stdout).unwrap();
    let config =
        wire_enricher::config::Config::from_toml_str(&shown).expect("printed config reads back");
    assert_eq!(config, wire_enricher::config::Config::default());

    let output = print_config(&[
        ("WIRE_ENRICHER__INPUT__ACK_WAIT", "45s"),
        ("WIRE_ENRICHER__NATS__PASSWORD", "s3cret-value"),
        ("WIRE_ENRICHER__NATS__USER", "worker"),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shown = String::from_utf8(output.stdout).unwrap();
    assert!(shown.contains("ack_wait = \"45s\""), "{shown}");
    assert!(
        !shown.contains("s3cret-value"),
        "secrets are redacted: {shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harness_moves_a_server_off_a_port_another_process_holds() {
    // Another test's server (here: a plain listener) got the port first. The harness must
    // not mistake that listener for its own server, and must start on another port.
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = squatter.local_addr().unwrap().port();
    let server = NatsServer::start_trying_port(taken);
    assert_ne!(server.port(), taken);
    let client = async_nats::connect(server.url()).await.expect("connect");
    async_nats::jetstream::new(client)
        .get_or_create_stream(async_nats::jetstream::stream::Config {
            name: "HARNESS".to_owned(),
            subjects: vec!["harness.>".to_owned()],
            ..Default::default()
        })
        .await
        .expect("the harness's own JetStream server answers");
}

#[test]
fn config_unknown_key_and_bad_duration_fail_with_the_key_named() {
    let output = print_config(&[("WIRE_ENRICHER__INPUT__ACK_WIAT", "3s")]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("input.ack_wiat"), "{stderr}");

    let output = print_config(&[("WIRE_ENRICHER__SHUTDOWN__TIMEOUT", "soonish")]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("shutdown.timeout"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("worker.toml");
    std::fs::write(&file, "[output]\nsubject = \"x\"\ncolour = \"red\"\n").unwrap();
    let output = Command::new(BIN)
        .arg("--config")
        .arg(&file)
        .arg("print-config")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("output.colour"));
}

#[cfg(feature = "shared-data")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_shared_corpus_replays_to_one_outcome_per_story() {
    let shared = std::env::var_os("WIRE_ENRICHER_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let corpus = shared.join("corpus/raw");
    assert!(
        corpus.is_dir(),
        "shared-data tests need {} (set WIRE_ENRICHER_SHARED)",
        corpus.display()
    );
    let mut paths: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        // Stories are NNNN.<format>; manifest.jsonl describes them and is not one.
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 100,
        "expected the 200-story corpus, found {}",
        paths.len()
    );
    let stories: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();

    let Scene {
        server,
        topology,
        js,
    } = Scene::start().await;
    let mut worker = Worker::start(&topology, &server.url(), &[]);
    worker.wait_ready(Duration::from_secs(20));
    publish_all(&js, &topology.input_subject, &stories).await;
    let total = stories.len() as u64;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = stream_count(&js, &topology.output_stream).await
            + stream_count(&js, &topology.dead_stream).await;
        if done >= total || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let records = stream_count(&js, &topology.output_stream).await;
    let dead = stream_count(&js, &topology.dead_stream).await;
    assert_eq!(
        records + dead,
        total,
        "{records} records + {dead} dead letters"
    );

    // Every record equals what offline `enrich` prints for the same story, given the day
    // the stream stored it (which dates the wire datelines written without a year).
    let records = read_stream(&js, &topology.output_stream, records, DRAIN, Duration::ZERO).await;
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let offline = Command::new(BIN)
        .args(["enrich", "--reference-date", &today.to_string()])
        .args(&paths)
        .output()
        .expect("run enrich");
    let offline: BTreeMap<String, Value> = String::from_utf8_lossy(&offline.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .map(|record| (comparable_key(&record), comparable(record)))
        .collect();
    for record in &records {
        let online: Value = serde_json::from_slice(&record.payload).expect("record is JSON");
        let key = comparable_key(&online);
        let expected = offline
            .get(&key)
            .unwrap_or_else(|| panic!("no offline record with body {key:.60}"));
        assert_eq!(&comparable(online), expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_that_cannot_be_published_are_retried_then_dead_lettered() {
    let Scene {
        server,
        topology,
        js,
    } = Scene::start().await;
    // An existing output stream that refuses every record (too small a message limit):
    // the worker must use it as it is, nak with a delay, and give up after max_deliver.
    js.get_or_create_stream(async_nats::jetstream::stream::Config {
        name: topology.output_stream.clone(),
        subjects: vec![topology.output_subject.clone()],
        max_message_size: 64,
        ..Default::default()
    })
    .await
    .expect("create output stream");
    // An existing consumer allowing 2 deliveries while the config says 5: the limit the
    // server applies wins, or the last nak would silently drop the story.
    create_input_stream(&js, &topology).await;
    js.get_stream(&topology.input_stream)
        .await
        .unwrap()
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            durable_name: Some(topology.durable.clone()),
            ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
            ack_wait: Duration::from_secs(3),
            max_deliver: 2,
            ..Default::default()
        })
        .await
        .expect("create consumer");
    let mut worker = Worker::start(&topology, &server.url(), &[("INPUT__MAX_DELIVER", "5")]);
    worker.wait_ready(Duration::from_secs(20));
    let stories = generated_stories(5);
    publish_all(&js, &topology.input_subject, &stories).await;

    let dead = read_stream(
        &js,
        &topology.dead_stream,
        stories.len() as u64,
        DRAIN,
        Duration::from_secs(4),
    )
    .await;
    assert_eq!(
        dead.len(),
        stories.len(),
        "one dead letter per story; log:\n{}",
        worker.log()
    );
    for letter in &dead {
        assert_dead_letter(letter, "publish_failed", "2");
        assert!(stories
            .iter()
            .any(|s| s.as_slice() == letter.payload.as_ref()));
    }
    assert_eq!(stream_count(&js, &topology.output_stream).await, 0);
    assert!(worker
        .metrics()
        .lines()
        .any(|l| l.contains("publish_failed")));
    // The existing stream (2m duplicate window, config says 5m) and consumer were used as
    // they are, with the differences logged, not changed.
    assert!(
        worker.log_count("Existing stream differs from the config") >= 1,
        "{}",
        worker.log()
    );
    assert!(
        worker.log_count("Existing consumer differs from the config") >= 1,
        "{}",
        worker.log()
    );
    let mut output = js.get_stream(&topology.output_stream).await.unwrap();
    let info = output.info().await.unwrap();
    assert_eq!(info.config.max_message_size, 64);
    assert_eq!(info.config.duplicate_window, Duration::from_secs(120));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stories_the_server_stops_delivering_are_dead_lettered() {
    use async_nats::jetstream::consumer::{pull, AckPolicy};
    use futures::StreamExt;

    let Scene {
        server,
        topology,
        js,
    } = Scene::with_input_stream().await;
    // The advisory stream as provisioning creates it (deploy/nats/provision.sh): servers
    // from 2.10.22 send the advisories when ack_wait runs out after the fetch below,
    // before the worker is up to create it.
    js.create_stream(wire_enricher::bus::rescue::advisory_stream_config(
        &topology.input_stream,
        &topology.durable,
        1,
    ))
    .await
    .expect("create the advisory stream");
    // The durable as a worker with max_deliver = 1 creates it.
    let ack_wait = Duration::from_secs(1);
    let consumer = js
        .get_stream(&topology.input_stream)
        .await
        .unwrap()
        .create_consumer(pull::Config {
            durable_name: Some(topology.durable.clone()),
            ack_policy: AckPolicy::Explicit,
            ack_wait,
            max_deliver: 1,
            ..Default::default()
        })
        .await
        .expect("create consumer");
    let stories = generated_stories(3);
    publish_all(&js, &topology.input_subject, &stories).await;
    // A worker takes two stories and dies before settling them: their only delivery is
    // spent, so the server will never deliver them again.
    let taken: Vec<Vec<u8>> = consumer
        .fetch()
        .max_messages(2)
        .expires(Duration::from_secs(1))
        .messages()
        .await
        .expect("fetch")
        .map(|m| m.expect("message").message.payload.to_vec())
        .collect()
        .await;
    assert_eq!(taken.len(), 2);

    let worker = Worker::start(
        &topology,
        &server.url(),
        &[("INPUT__MAX_DELIVER", "1"), ("INPUT__ACK_WAIT", "1s")],
    );
    let dead = read_stream(&js, &topology.dead_stream, 2, DRAIN, Duration::from_secs(1)).await;
    let records = read_stream(
        &js,
        &topology.output_stream,
        1,
        DRAIN,
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(
        dead.len(),
        2,
        "each spent story is dead-lettered once; log:\n{}",
        worker.log()
    );
    for letter in &dead {
        assert_dead_letter(letter, "max_deliveries", "1");
        assert!(header(letter, "Wire-Enricher-Original-Sequence").is_some());
        assert!(taken
            .iter()
            .any(|t| t.as_slice() == letter.payload.as_ref()));
    }
    assert_ne!(dead[0].payload, dead[1].payload);
    // The story nobody had taken is enriched as usual.
    let untaken: Vec<Vec<u8>> = stories
        .iter()
        .filter(|s| !taken.contains(s))
        .cloned()
        .collect();
    assert_exactly_once(&records, &expected_ids(&untaken));
    assert!(
        worker
            .metrics()
            .lines()
            .any(|l| l == "wire_enricher_dead_letters_total{reason=\"max_deliveries\"} 2"),
        "{}",
        worker.metrics()
    );
    assert_eq!(
        worker.log_count("The server stopped delivering a story; dead-lettered it."),
        2,
        "{}",
        worker.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_that_fails_on_the_last_delivery_is_rescued_later() {
    use async_nats::jetstream::stream::Config as StreamConfig;

    let Scene {
        server,
        topology,
        js,
    } = Scene::with_input_stream().await;
    // Records and dead letters both refused (too small a message limit), one delivery.
    let refusing = |name: &str, subject: &str| StreamConfig {
        name: name.to_owned(),
        subjects: vec![subject.to_owned()],
        max_message_size: 64,
        ..Default::default()
    };
    js.get_or_create_stream(refusing(&topology.output_stream, &topology.output_subject))
        .await
        .expect("create output stream");
    js.get_or_create_stream(refusing(&topology.dead_stream, &topology.dead_subject))
        .await
        .expect("create dead-letter stream");
    let worker = Worker::start(
        &topology,
        &server.url(),
        &[("INPUT__MAX_DELIVER", "1"), ("INPUT__ACK_WAIT", "2s")],
    );
    let story = generated_stories(1).remove(0);
    publish_one(&js, &topology.input_subject, story.clone()).await;
    let deadline = Instant::now() + DRAIN;
    while worker.log_count("left unsettled") == 0 {
        assert!(
            Instant::now() < deadline,
            "never left unsettled; log:\n{}",
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The dead letters accept it again before the server gives up on the story: the
    // rescue, not the pipeline (which would have termed and dropped it), stores it.
    js.update_stream(StreamConfig {
        max_message_size: -1,
        ..refusing(&topology.dead_stream, &topology.dead_subject)
    })
    .await
    .expect("lift the dead-letter limit");
    let dead = read_stream(&js, &topology.dead_stream, 1, DRAIN, Duration::from_secs(1)).await;
    assert_eq!(dead.len(), 1, "log:\n{}", worker.log());
    assert_eq!(
        header(&dead[0], "Wire-Enricher-Error").as_deref(),
        Some("max_deliveries")
    );
    assert_eq!(dead[0].payload.as_ref(), story.as_slice());
    assert_eq!(stream_count(&js, &topology.output_stream).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_mode_queue_group_consumes_and_publishes() {
    let server = NatsServer::start();
    let topology = Topology::unique();
    let nats = client(&server.url()).await;
    let js = async_nats::jetstream::new(nats.clone());
    // Core mode creates no streams; capture the output subject to read it back.
    js.get_or_create_stream(async_nats::jetstream::stream::Config {
        name: topology.output_stream.clone(),
        subjects: vec![topology.output_subject.clone()],
        ..Default::default()
    })
    .await
    .expect("create output stream");
    let mut worker = Worker::start(&topology, &server.url(), &[("INPUT__MODE", "core")]);
    worker.wait_ready(Duration::from_secs(20));
    let stories = generated_stories(50);
    for story in &stories {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            "Nats-Msg-Id",
            wire_enricher::enrich::content_hash_id(story).as_str(),
        );
        nats.publish_with_headers(
            topology.input_subject.clone(),
            headers,
            story.clone().into(),
        )
        .await
        .expect("core publish");
    }
    nats.flush().await.expect("flush");
    let records = read_stream(
        &js,
        &topology.output_stream,
        stories.len() as u64,
        DRAIN,
        Duration::from_millis(300),
    )
    .await;
    assert_exactly_once(&records, &expected_ids(&stories));
    for record in &records {
        let json: Value = serde_json::from_slice(&record.payload).unwrap();
        assert!(
            json["source"]["stream"].is_null(),
            "core mode has no input stream"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_progress_acks_keep_slow_work_from_being_redelivered() {
    use async_nats::jetstream::consumer::{pull, AckPolicy};
    use futures::StreamExt;

    // `_server` keeps the server alive until the end of the test.
    let Scene {
        server: _server,
        topology,
        js,
    } = Scene::with_input_stream().await;
    let stream = js.get_stream(&topology.input_stream).await.unwrap();
    let ack_wait = Duration::from_secs(1);
    let consumer = stream
        .create_consumer(pull::Config {
            durable_name: Some(topology.durable.clone()),
            ack_policy: AckPolicy::Explicit,
            ack_wait,
            ..Default::default()
        })
        .await
        .unwrap();
    publish_one(&js, &topology.input_subject, b"slow story".to_vec()).await;
    let fetch = |consumer: async_nats::jetstream::consumer::PullConsumer| async move {
        consumer
            .fetch()
            .max_messages(1)
            .expires(Duration::from_millis(500))
            .messages()
            .await
            .unwrap()
            .next()
            .await
            .map(Result::unwrap)
    };
    let message = fetch(consumer.clone()).await.expect("first delivery");
    let handle = wire_enricher::bus::AckHandle::jetstream(&message, ack_wait);
    // "Work" for three times ack_wait: without progress acks it would be redelivered.
    tokio::time::sleep(ack_wait * 3).await;
    assert!(
        fetch(consumer.clone()).await.is_none(),
        "redelivered despite in-progress acks"
    );
    handle.ack().await;
    tokio::time::sleep(ack_wait * 2).await;
    assert!(
        fetch(consumer.clone()).await.is_none(),
        "redelivered after ack"
    );
    let mut consumer = consumer;
    let info = consumer.info().await.unwrap();
    assert_eq!(info.num_ack_pending, 0);
    assert_eq!(info.num_redelivered, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_auth_from_a_file_works_and_the_token_is_never_logged() {
    const TOKEN: &str = "t0ken-that-must-not-leak";
    let server = NatsServer::start_with(None, &["--auth", TOKEN]);
    let topology = Topology::unique();
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let token_path = token_file.to_string_lossy().into_owned();

    let mut authed = Worker::start(
        &topology,
        &server.url(),
        &[
            ("NATS__TOKEN_FILE", token_path.as_str()),
            ("LOG__LEVEL", "debug"),
        ],
    );
    authed.wait_ready(Duration::from_secs(20));
    let rejected = Worker::start(&topology, &server.url(), &[("LOG__LEVEL", "debug")]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !rejected.ready(),
        "a worker without the token must not become ready"
    );

    let nats = async_nats::ConnectOptions::with_token(TOKEN.to_owned())
        .connect(server.url())
        .await
        .expect("test client with token");
    one_record_per_story(nats, &topology, 10).await;
    for worker in [&authed, &rejected] {
        assert!(!worker.log().contains(TOKEN), "token leaked into the log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_consumer_is_recreated() {
    let Scene {
        server,
        topology,
        js,
    } = Scene::start().await;
    let mut worker = Worker::start(&topology, &server.url(), &[]);
    worker.wait_ready(Duration::from_secs(20));
    let stories = generated_stories(40);
    let (first, rest) = stories.split_at(20);
    publish_all(&js, &topology.input_subject, first).await;
    read_stream(&js, &topology.output_stream, 20, DRAIN, Duration::ZERO).await;

    let stream = js.get_stream(&topology.input_stream).await.unwrap();
    stream
        .delete_consumer(&topology.durable)
        .await
        .expect("delete consumer");
    publish_all(&js, &topology.input_subject, rest).await;
    // The recreated durable starts from the stream's first message again; Nats-Msg-Id
    // de-duplication keeps the first half from being published twice.
    let records = read_stream(
        &js,
        &topology.output_stream,
        stories.len() as u64,
        DRAIN,
        Duration::from_millis(500),
    )
    .await;
    assert_exactly_once(&records, &expected_ids(&stories));
    assert!(
        worker.log_count("Created consumer.") >= 2,
        "{}",
        worker.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_at_once() {
    let mut server = NatsServer::start();
    let topology = Topology::unique();
    let nats = client(&server.url()).await;
    let js = async_nats::jetstream::new(nats.clone());
    create_input_stream(&js, &topology).await;
    // Enough stories that the worker is still busy when the server goes away.
    publish_all(&js, &topology.input_subject, &generated_stories(1000)).await;
    let _ = nats.drain().await;
    // Publishes hang once the server is gone, so the drain after the first signal waits.
    let extra = [
        ("OUTPUT__PUBLISH_TIMEOUT", "60s"),
        ("SHUTDOWN__TIMEOUT", "60s"),
        ("PIPELINE__PARALLELISM", "1"),
    ];
    let mut worker = Worker::start(&topology, &server.url(), &extra);
    worker.wait_ready(Duration::from_secs(20));
    let deadline = Instant::now() + Duration::from_secs(20);
    while worker.log_count("Published record.") < 5 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    worker.signal("TERM");
    assert!(
        worker.wait_exit(Duration::from_secs(1)).is_none(),
        "the first signal drains, which waits for the hung publishes; log:\n{}",
        worker.log()
    );
    let signalled = Instant::now();
    worker.signal("TERM");
    let status = worker
        .wait_exit(Duration::from_secs(5))
        .expect("the second signal exits at once");
    assert!(signalled.elapsed() < Duration::from_secs(3));
    assert_eq!(status.code(), Some(130), "{}", worker.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_and_password_from_a_file_work_and_the_password_is_never_logged() {
    const PASSWORD: &str = "pa55-that-must-not-leak";
    let server = NatsServer::start_with(None, &["--user", "enricher", "--pass", PASSWORD]);
    let topology = Topology::unique();
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, PASSWORD).unwrap();
    let password_path = password_file.to_string_lossy().into_owned();
    let mut worker = Worker::start(
        &topology,
        &server.url(),
        &[
            ("NATS__USER", "enricher"),
            ("NATS__PASSWORD_FILE", password_path.as_str()),
            ("LOG__LEVEL", "debug"),
        ],
    );
    worker.wait_ready(Duration::from_secs(20));
    let nats =
        async_nats::ConnectOptions::with_user_and_password("enricher".into(), PASSWORD.into())
            .connect(server.url())
            .await
            .expect("test client");
    one_record_per_story(nats, &topology, 5).await;
    assert!(
        !worker.log().contains(PASSWORD),
        "password leaked into the log"
    );
}
