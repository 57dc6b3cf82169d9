//! Test harness: a real `nats-server` per test (free port, temporary JetStream store,
//! kill/restart on the same port and store), the real `wire-enricher` binary as worker
//! processes, and helpers to publish stories and read streams back.
//!
//! Must not: mock NATS, or skip when `nats-server` is missing (it panics with a hint).

#![allow(dead_code)]

pub(crate) mod cluster;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use bytes::Bytes;

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_wire-enricher");

/// A free TCP port on localhost (bound then released).
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// A unique name for streams and subjects in this test.
pub(crate) fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}_{}_{n}", std::process::id())
}

/// One `nats-server -js` process with its own port and store.
pub(crate) struct NatsServer {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    max_payload: Option<usize>,
    extra_args: Vec<String>,
    config: Option<String>,
}

impl NatsServer {
    /// Starts a server with JetStream.
    pub(crate) fn start() -> Self {
        Self::start_with_max_payload(None)
    }

    /// Starts a server whose `max_payload` is raised to `bytes`.
    pub(crate) fn start_with_max_payload(max_payload: Option<usize>) -> Self {
        Self::start_with(max_payload, &[])
    }

    /// Starts a server with extra command-line arguments (`--auth TOKEN`, ...).
    pub(crate) fn start_with(max_payload: Option<usize>, extra_args: &[&str]) -> Self {
        let mut server = Self {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            max_payload,
            extra_args: extra_args.iter().map(|a| (*a).to_owned()).collect(),
            config: None,
        };
        server.spawn_on_a_free_port();
        server
    }

    /// Starts a server on `port` if it is free, else on another free port (a check of the
    /// harness's retry: tests otherwise use [`Self::start`]).
    pub(crate) fn start_trying_port(port: u16) -> Self {
        let mut server = Self {
            child: None,
            port,
            dir: tempfile::tempdir().expect("temp dir"),
            max_payload: None,
            extra_args: Vec::new(),
            config: None,
        };
        server.spawn_on_a_free_port();
        server
    }

    /// Starts a server with a configuration file holding `config` (auth, TLS blocks);
    /// port, address, JetStream and store still come from the command line.
    pub(crate) fn start_with_config(config: &str) -> Self {
        let mut server = Self {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            max_payload: None,
            extra_args: Vec::new(),
            config: Some(config.to_owned()),
        };
        server.spawn_on_a_free_port();
        server
    }

    /// The server's port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Everything the server logged so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// `nats://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn binary() -> String {
        std::env::var("NATS_SERVER_BIN").unwrap_or_else(|_| "nats-server".to_owned())
    }

    /// Starts the server, moving to another free port when the chosen one was taken
    /// between choosing it and the server binding it (parallel tests pick ports too).
    fn spawn_on_a_free_port(&mut self) {
        const ATTEMPTS: usize = 5;
        for attempt in 1..=ATTEMPTS {
            match self.try_spawn() {
                Ok(()) => return,
                Err(why) if attempt < ATTEMPTS => {
                    eprintln!(
                        "nats-server on port {}: {why}; trying another port",
                        self.port
                    );
                    self.port = free_port();
                }
                Err(why) => self.fail_to_start(&why),
            }
        }
    }

    /// Starts the server on its port (a restart keeps the port: failing there is fatal).
    fn spawn(&mut self) {
        if let Err(why) = self.try_spawn() {
            self.fail_to_start(&why);
        }
    }

    fn fail_to_start(&self, why: &str) -> ! {
        panic!(
            "nats-server on port {} did not start: {why}\n--- its log:\n{}",
            self.port,
            self.log()
        )
    }

    /// Spawns the process and waits until it says it is ready; an error when it exits
    /// first (a port already in use, say) or stays silent too long.
    fn try_spawn(&mut self) -> Result<(), String> {
        let store = self.dir.path().join("store");
        let log = self.dir.path().join("server.log");
        let mut command = Command::new(Self::binary());
        command
            .arg("-js")
            .arg("-a")
            .arg("127.0.0.1")
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-sd")
            .arg(&store)
            .args(&self.extra_args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("server log"));
        let mut conf_text = String::new();
        if let Some(bytes) = self.max_payload {
            conf_text.push_str(&format!("max_payload: {bytes}\n"));
        }
        if let Some(config) = &self.config {
            conf_text.push_str(config);
            conf_text.push('\n');
        }
        if !conf_text.is_empty() {
            let conf = self.dir.path().join("server.conf");
            std::fs::write(&conf, conf_text).expect("server conf");
            command.arg("-c").arg(conf);
        }
        let child = command.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start `{}` ({e}). The integration tests need a real NATS server: \
                 install it with `apt-get install -y nats-server`, or point NATS_SERVER_BIN \
                 at the binary.",
                Self::binary()
            )
        });
        let ready = wait_until_ready(child, &log, Duration::from_secs(10));
        let child = ready?;
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(10));
        Ok(())
    }

    /// Kills the server (SIGKILL) and waits for it to exit.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port with the same store.
    pub(crate) fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits for `Server is ready` in the server's own log, so that a port answered by some
/// other process never passes for this server. Kills the child on a timeout.
fn wait_until_ready(mut child: Child, log: &Path, timeout: Duration) -> Result<Child, String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("it exited ({status})"));
        }
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains("Server is ready") {
            return Ok(child);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("not ready within {timeout:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_for_port(port: u16, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nats-server did not listen on port {port} within {timeout:?}");
}

/// Names and settings of one test's streams, turned into worker environment variables.
#[derive(Debug, Clone)]
pub(crate) struct Topology {
    /// Input stream.
    pub(crate) input_stream: String,
    /// Input subject.
    pub(crate) input_subject: String,
    /// Durable consumer.
    pub(crate) durable: String,
    /// Output stream.
    pub(crate) output_stream: String,
    /// Output subject.
    pub(crate) output_subject: String,
    /// Dead-letter stream.
    pub(crate) dead_stream: String,
    /// Dead-letter subject.
    pub(crate) dead_subject: String,
}

impl Topology {
    /// Fresh names for one test.
    pub(crate) fn unique() -> Self {
        let tag = unique("t").to_uppercase();
        Self {
            input_stream: format!("RAW_{tag}"),
            input_subject: format!("raw.{tag}"),
            durable: format!("durable-{tag}"),
            output_stream: format!("OUT_{tag}"),
            output_subject: format!("out.{tag}"),
            dead_stream: format!("DEAD_{tag}"),
            dead_subject: format!("dead.{tag}"),
        }
    }

    /// Environment for a worker on `server`: short timeouts so tests stay quick.
    pub(crate) fn env(&self, server_url: &str) -> Vec<(String, String)> {
        let pairs = [
            ("NATS__URL", server_url),
            ("NATS__RECONNECT_MAX_DELAY", "300ms"),
            ("INPUT__STREAM", &self.input_stream),
            ("INPUT__SUBJECTS", &self.input_subject),
            ("INPUT__DURABLE", &self.durable),
            ("INPUT__ACK_WAIT", "3s"),
            ("INPUT__MAX_DELIVER", "5"),
            ("INPUT__BATCH", "16"),
            ("INPUT__FETCH_EXPIRES", "1s"),
            ("OUTPUT__STREAM", &self.output_stream),
            ("OUTPUT__SUBJECT", &self.output_subject),
            ("OUTPUT__PUBLISH_TIMEOUT", "2s"),
            ("DEAD_LETTER__STREAM", &self.dead_stream),
            ("DEAD_LETTER__SUBJECT", &self.dead_subject),
            ("PIPELINE__CHANNEL_CAPACITY", "8"),
            ("PIPELINE__PARALLELISM", "2"),
            ("SHUTDOWN__TIMEOUT", "10s"),
            ("LOG__LEVEL", "wire_enricher=debug,async_nats=warn"),
        ];
        pairs
            .iter()
            .map(|(k, v)| (format!("WIRE_ENRICHER__{k}"), (*v).to_owned()))
            .collect()
    }
}

/// One `wire-enricher run` process.
pub(crate) struct Worker {
    child: Option<Child>,
    /// Its HTTP port (`/readyz`, `/metrics`).
    pub(crate) http_port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Worker {
    /// Starts `wire-enricher run` with the topology's env plus `extra`.
    pub(crate) fn start(topology: &Topology, server_url: &str, extra: &[(&str, &str)]) -> Self {
        Self::start_subcommand("run", topology, server_url, extra)
    }

    /// Starts `wire-enricher <subcommand>` (`run` or the hidden `relay`) like [`Self::start`].
    pub(crate) fn start_subcommand(
        subcommand: &str,
        topology: &Topology,
        server_url: &str,
        extra: &[(&str, &str)],
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("worker.log");
        let http_port = free_port();
        let mut command = Command::new(BIN);
        command.arg(subcommand);
        clear_config_env(&mut command);
        command
            .envs(topology.env(server_url))
            .env(
                "WIRE_ENRICHER__HTTP__LISTEN",
                format!("127.0.0.1:{http_port}"),
            )
            .envs(
                extra
                    .iter()
                    .map(|(k, v)| (format!("WIRE_ENRICHER__{k}"), *v)),
            );
        // Logs go to stderr, but capture stdout too so the tests never depend on which.
        let file = std::fs::File::create(&log).expect("worker log");
        command
            .stdout(file.try_clone().expect("clone log file"))
            .stderr(file);
        let child = command.spawn().expect("start wire-enricher");
        Self {
            child: Some(child),
            http_port,
            log,
            _dir: dir,
        }
    }

    /// Waits until `/readyz` answers 200.
    pub(crate) fn wait_ready(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.ready() {
                return;
            }
            if let Some(status) = self.try_exit_status() {
                panic!("worker exited early ({status}); log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("worker not ready within {timeout:?}; log:\n{}", self.log());
    }

    /// Whether `/readyz` answers 200 now.
    pub(crate) fn ready(&self) -> bool {
        http_get(self.http_port, "/readyz").is_some_and(|(status, _)| status == 200)
    }

    /// The `/metrics` text.
    pub(crate) fn metrics(&self) -> String {
        http_get(self.http_port, "/metrics")
            .map(|(_, body)| body)
            .unwrap_or_default()
    }

    /// Everything the worker logged so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Lines of the log containing `needle`.
    pub(crate) fn log_count(&self, needle: &str) -> usize {
        self.log().lines().filter(|l| l.contains(needle)).count()
    }

    /// Sends a signal by name (`TERM`, `INT`, `KILL`).
    pub(crate) fn signal(&self, name: &str) {
        if let Some(child) = &self.child {
            let status = Command::new("kill")
                .arg(format!("-{name}"))
                .arg(child.id().to_string())
                .status()
                .expect("run kill");
            assert!(status.success(), "kill -{name} failed");
        }
    }

    /// SIGKILL and reap.
    pub(crate) fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn try_exit_status(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Waits for the process to exit; None on timeout.
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.try_exit_status() {
                self.child = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Removes inherited `WIRE_ENRICHER__*` variables so tests see only what they set.
pub(crate) fn clear_config_env(command: &mut Command) {
    for (key, _) in std::env::vars() {
        if key.starts_with("WIRE_ENRICHER__") {
            command.env_remove(key);
        }
    }
}

/// A bare HTTP/1.0 GET on localhost: (status, body).
pub(crate) fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

/// Connects a test client.
pub(crate) async fn client(url: &str) -> async_nats::Client {
    async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(url)
        .await
        .expect("connect test client")
}

/// Publishes each story to `subject` through JetStream with `Nats-Msg-Id` = content hash,
/// awaiting every ack.
pub(crate) async fn publish_all(js: &jetstream::Context, subject: &str, stories: &[Vec<u8>]) {
    for story in stories {
        publish_one(js, subject, story.clone()).await;
    }
}

/// Publishes one story (retrying while the server is away) and awaits its ack.
pub(crate) async fn publish_one(js: &jetstream::Context, subject: &str, story: Vec<u8>) {
    publish_one_within(js, subject, story, Duration::from_secs(20)).await;
}

/// [`publish_one`], retrying for up to `patience` (the stream de-duplicates the retries by
/// `Nats-Msg-Id` = content hash): a cluster electing a new leader needs longer.
pub(crate) async fn publish_one_within(
    js: &jetstream::Context,
    subject: &str,
    story: Vec<u8>,
    patience: Duration,
) {
    let id = wire_enricher::enrich::content_hash_id(&story);
    let deadline = Instant::now() + patience;
    loop {
        let message = jetstream::message::PublishMessage::build()
            .payload(Bytes::from(story.clone()))
            .message_id(&id);
        let acked = async {
            js.send_publish(subject.to_owned(), message)
                .await
                .map_err(|e| e.to_string())?
                .await
                .map_err(|e| e.to_string())
        };
        match acked.await {
            Ok(_) => return,
            Err(error) if Instant::now() < deadline => {
                eprintln!("test publish retry: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => panic!("test publish failed: {error}"),
        }
    }
}

/// Waits until `stream` holds at least `expected` messages (or `timeout` passes), then
/// waits `settle` more so late duplicates would show, and returns every message.
pub(crate) async fn read_stream(
    js: &jetstream::Context,
    stream: &str,
    expected: u64,
    timeout: Duration,
    settle: Duration,
) -> Vec<jetstream::message::StreamMessage> {
    let deadline = Instant::now() + timeout;
    loop {
        let count = stream_count(js, stream).await;
        if count >= expected || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(settle).await;
    let mut handle = match js.get_stream(stream).await {
        Ok(handle) => handle,
        Err(_) => return Vec::new(),
    };
    let state = handle.info().await.expect("stream info").state.clone();
    let mut messages = Vec::new();
    if state.messages == 0 {
        return messages;
    }
    for seq in state.first_sequence..=state.last_sequence {
        if let Ok(message) = handle.get_raw_message(seq).await {
            messages.push(message);
        }
    }
    messages
}

/// How many messages `stream` holds now (0 when it does not exist yet).
pub(crate) async fn stream_count(js: &jetstream::Context, stream: &str) -> u64 {
    match js.get_stream(stream).await {
        Ok(mut handle) => handle.info().await.map_or(0, |i| i.state.messages),
        Err(_) => 0,
    }
}

/// A header's value as a string.
pub(crate) fn header(message: &jetstream::message::StreamMessage, name: &str) -> Option<String> {
    message.headers.get(name).map(|v| v.as_str().to_owned())
}

/// Asserts a dead letter's reason kind and delivery count headers.
pub(crate) fn assert_dead_letter(
    letter: &jetstream::message::StreamMessage,
    kind: &str,
    delivered: &str,
) {
    assert_eq!(header(letter, "Wire-Enricher-Error").as_deref(), Some(kind));
    assert_eq!(
        header(letter, "Wire-Enricher-Delivered").as_deref(),
        Some(delivered)
    );
}

/// `count` distinct plain-text wire stories; no stage quality is assumed, only that each
/// parses (non-empty UTF-8 under the size limit).
pub(crate) fn generated_stories(count: usize) -> Vec<Vec<u8>> {
    const CITIES: [&str; 5] = ["PARIS", "NAIROBI", "LIMA", "OSLO", "HANOI"];
    const PEOPLE: [&str; 5] = [
        "Maria Lopez",
        "John Okafor",
        "Anna Berg",
        "Tran Van Minh",
        "Pedro Castillo",
    ];
    (0..count)
        .map(|i| {
            let city = CITIES[i % CITIES.len()];
            let person = PEOPLE[(i / 5) % PEOPLE.len()];
            format!(
                "Council approves budget number {i}\n\n\
                 {city} (Reuters) - The city council approved spending plan {i} on Tuesday, \
                 officials said.\n\n\
                 \"This plan number {i} keeps the buses running,\" said {person}, who chairs \
                 the finance committee.\n\n\
                 The vote was {} to {}.\n",
                20 + i % 7,
                i % 5
            )
            .into_bytes()
        })
        .collect()
}

/// The seed fixture story.
pub(crate) fn seed_story() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stories/syria-deal.txt");
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Every input story shipped in `tests/fixtures/stories/` (the seed, hand-written cases
/// and the attributed corpus renderings in every raw format), read the way offline
/// `enrich` reads a directory.
pub(crate) fn fixture_stories() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stories");
    wire_enricher::offline::read_inputs(&[dir])
        .expect("read tests/fixtures/stories")
        .into_iter()
        .map(|story| story.bytes)
        .collect()
}

/// Writes stories as `NNNN.txt` files into a new directory.
pub(crate) fn write_story_dir(stories: &[Vec<u8>]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (i, story) in stories.iter().enumerate() {
        std::fs::write(dir.path().join(format!("{i:04}.txt")), story).expect("write story");
    }
    dir
}

/// Creates the input stream itself (as a producer would), so publishing can start before
/// any worker is up.
pub(crate) async fn create_input_stream(js: &jetstream::Context, topology: &Topology) {
    js.get_or_create_stream(jetstream::stream::Config {
        name: topology.input_stream.clone(),
        subjects: vec![topology.input_subject.clone()],
        ..Default::default()
    })
    .await
    .expect("create input stream");
}

/// How most tests start: their own nats-server, a unique topology (subjects, streams,
/// durable) and a JetStream context on that server.
pub(crate) struct Scene {
    pub(crate) server: NatsServer,
    pub(crate) topology: Topology,
    pub(crate) js: jetstream::Context,
}

impl Scene {
    /// A fresh server and topology; nothing created on the server yet.
    pub(crate) async fn start() -> Self {
        let server = NatsServer::start();
        let js = jetstream::new(client(&server.url()).await);
        Self {
            server,
            topology: Topology::unique(),
            js,
        }
    }

    /// [`Scene::start`] with the topology's input stream created, so stories can be
    /// published before any worker is up.
    pub(crate) async fn with_input_stream() -> Self {
        let scene = Self::start().await;
        create_input_stream(&scene.js, &scene.topology).await;
        scene
    }
}

/// Asserts each of `ids` appears exactly once among the output records' `Nats-Msg-Id`s
/// and nothing else is there.
pub(crate) fn assert_exactly_once(
    records: &[jetstream::message::StreamMessage],
    expected_ids: &[String],
) {
    use std::collections::BTreeMap;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for record in records {
        let id = header(record, "Nats-Msg-Id").expect("record has Nats-Msg-Id");
        *seen.entry(id).or_default() += 1;
    }
    let duplicates: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "duplicated records: {duplicates:?}");
    let missing: Vec<_> = expected_ids
        .iter()
        .filter(|id| !seen.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} stories have no record, e.g. {:?}",
        missing.len(),
        expected_ids.len(),
        missing.iter().take(3).collect::<Vec<_>>()
    );
    assert_eq!(
        records.len(),
        expected_ids.len(),
        "unexpected extra records"
    );
}

/// The record ids the worker will give these stories: the payload's own id when it has
/// one, else the input's `Nats-Msg-Id`, which the test publishers set to the content hash.
pub(crate) fn expected_ids(stories: &[Vec<u8>]) -> Vec<String> {
    use wire_enricher::enrich::{content_hash_id, story_id, EnrichOptions, Enricher, RawStory};
    // What the worker does: the payload's own id (ninjs uri, envelope id) wins over the
    // Nats-Msg-Id that replay sets to the content hash.
    let enricher = Enricher::with_embedded_model(EnrichOptions::default());
    stories
        .iter()
        .map(|bytes| {
            let hash = content_hash_id(bytes);
            let raw = RawStory {
                bytes,
                message_id: Some(&hash),
                content_type: None,
                reference_date: None,
            };
            match enricher.parse(&raw) {
                Ok(stage) => story_id(&stage.story, &raw),
                Err(_) => hash.clone(),
            }
        })
        .collect()
}

/// Publishes `count` stories through `nats` and asserts each comes out exactly once.
pub(crate) async fn one_record_per_story(
    nats: async_nats::Client,
    topology: &Topology,
    count: usize,
) {
    let js = async_nats::jetstream::new(nats);
    let stories = generated_stories(count);
    publish_all(&js, &topology.input_subject, &stories).await;
    let records = read_stream(
        &js,
        &topology.output_stream,
        stories.len() as u64,
        crate::DRAIN,
        Duration::from_millis(300),
    )
    .await;
    assert_exactly_once(&records, &expected_ids(&stories));
}
