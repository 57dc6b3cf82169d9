//! End to end over NATS: starts its own `nats-server` (JetStream, file storage, temp dir),
//! preloads N stories into the input stream, starts `wire-enricher run` (the release build
//! cargo made for this bench; default config except the server URL, the HTTP port and the
//! log level), and measures until every story is a record (or a dead letter):
//!
//! - throughput (stories/s, from the first record to the last),
//! - end-to-end latency p50/p99/p99.9 at a fixed offered rate of half that maximum, from
//!   the moment each story was due to be published to the moment its record arrived
//!   (open loop, so a stalled publisher cannot hide latency),
//! - peak resident memory (`VmHWM`) and RSS along the run, CPU seconds per 1,000 stories
//!   (`utime + stime` from `/proc`),
//!
//! for the worker with 1 and/or 2 processes on one durable consumer, and for the bus
//! limit: `wire-enricher relay`, the same binary and configuration with the stages
//! skipped (the worker's own source, sink, acks, headers and metrics; payload passed on).
//! The offline ceiling (in-process `Enricher::enrich` + JSON on as many threads as the
//! worker uses) is measured on the same payloads. One table with the ratios closes the run.
//!
//! Run: `cargo bench --bench e2e -- [--stories N] [--quick] [--workers 1,2] [--no-relay]`
//! (`--help` lists every option).
//!
//! Must not: talk to anything but the loopback nats-server it started, leave a process
//! behind (every child is stopped, the server killed, the temp dir removed), or assert
//! on timings: it reports, it does not judge.

#[path = "support/cpu.rs"]
mod cpu;
#[path = "support/mix.rs"]
mod mix;
#[path = "support/program.rs"]
mod program;
#[path = "support/shapes.rs"]
mod shapes;
use program::{parse_num, Cmd};
use shapes::Plan;

use std::future::IntoFuture;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, stream};
use bytes::Bytes;
use futures::stream::{BoxStream, FuturesUnordered};
use futures::StreamExt;
use wire_enricher::enrich::record::{Format, SourceInfo};
use wire_enricher::enrich::{EnrichOptions, Enricher, RawStory};

/// The allocator the `wire-enricher` binary uses (src/main.rs), so the figures here are
/// the shipped binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type BenchError = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, BenchError>;

/// Names and settings of the worker's default configuration (`config/default.toml`),
/// which the bench creates the streams with.
mod defaults {
    use std::time::Duration;
    pub(crate) const INPUT_STREAM: &str = "STORIES_RAW";
    pub(crate) const INPUT_SUBJECT: &str = "stories.raw";
    pub(crate) const OUTPUT_STREAM: &str = "STORIES_ENRICHED";
    pub(crate) const OUTPUT_SUBJECT: &str = "stories.enriched";
    pub(crate) const DEAD_STREAM: &str = "STORIES_DEAD";
    pub(crate) const DEAD_SUBJECT: &str = "stories.dead";
    pub(crate) const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
}
use defaults::*;

const USAGE: &str = "\
e2e bench: wire-enricher over a local NATS JetStream, against the bus limit and offline enrich.

  cargo bench --bench e2e -- [OPTIONS]

  --stories N         stories preloaded per run (default 20000)
  --quick             smoke run: 2000 stories, 5 s latency phase
  --workers LIST      worker process counts to run, e.g. 1 or 1,2 (default 1,2)
  --latency-secs S    length of the fixed-rate latency phase (default 20)
  --rate R            offered rate of the latency phase (default: half the measured maximum)
  --no-relay          skip the bus-limit relay
  --no-worker         run only the relay (and offline), e.g. before the worker exists
  --worker-bin PATH   the worker binary (default: WIRE_ENRICHER_BIN, else cargo's build)
  --soak-secs S       after the latency phase, offer stories at a steady rate for S seconds
                      and sample the worker's VmRSS every 10 s (default 0: no soak)
  --soak-rate R       offered rate of the soak (default: 0.9 x the measured maximum)
  --soak-dir DIR      where the soak writes soak-<system>.csv (default: target)
  env NATS_SERVER_BIN the nats-server binary (default: nats-server on PATH)
  env WIRE_ENRICHER_SHARED  the shared data folder for the corpus part of the mix";

/// What one bench invocation asked for.
#[derive(Debug, Clone)]
struct Options {
    stories: usize,
    workers: Vec<usize>,
    latency_secs: f64,
    rate: Option<f64>,
    relay: bool,
    worker: bool,
    worker_bin: PathBuf,
    soak_secs: f64,
    soak_rate: Option<f64>,
    soak_dir: PathBuf,
}

fn parse_args(args: Vec<String>) -> Result<Cmd<Options>, String> {
    if args.is_empty() {
        return Ok(Cmd::NotUnderTest);
    }
    let mut options = Options {
        stories: 20_000,
        workers: vec![1, 2],
        latency_secs: 20.0,
        rate: None,
        relay: true,
        worker: true,
        worker_bin: std::env::var_os("WIRE_ENRICHER_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_wire-enricher"))),
        soak_secs: 0.0,
        soak_rate: None,
        soak_dir: PathBuf::from("target"),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            // `cargo bench` passes --bench to every harness = false target.
            "--bench" => {}
            "--help" | "-h" => return Ok(Cmd::Help),
            "--quick" => {
                options.stories = 2_000;
                options.latency_secs = 5.0;
            }
            "--stories" => options.stories = parse_num(&value("--stories")?)?,
            "--workers" => {
                options.workers = value("--workers")?
                    .split(',')
                    .map(parse_num)
                    .collect::<Result<_, _>>()?;
            }
            "--latency-secs" => options.latency_secs = parse_num(&value("--latency-secs")?)?,
            "--rate" => options.rate = Some(parse_num(&value("--rate")?)?),
            "--no-relay" => options.relay = false,
            "--no-worker" => options.worker = false,
            "--worker-bin" => options.worker_bin = PathBuf::from(value("--worker-bin")?),
            "--soak-secs" => options.soak_secs = parse_num(&value("--soak-secs")?)?,
            "--soak-rate" => options.soak_rate = Some(parse_num(&value("--soak-rate")?)?),
            "--soak-dir" => options.soak_dir = PathBuf::from(value("--soak-dir")?),
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    if options.stories == 0 || options.workers.contains(&0) {
        return Err("--stories and --workers must be positive".to_owned());
    }
    Ok(Cmd::Run(options))
}

fn main() -> ExitCode {
    program::main_of(
        "e2e",
        USAGE,
        "run `cargo bench --bench e2e`",
        parse_args(std::env::args().skip(1).collect()),
        |options| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(BenchError::from)
                .and_then(|rt| rt.block_on(run_bench(options)))
        },
    )
}

// ---------------------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------------------

fn index_of(id: &str, prefix: &str) -> Option<usize> {
    id.strip_prefix(prefix)?.strip_prefix('-')?.parse().ok()
}

// ---------------------------------------------------------------------------------------
// Offline ceiling
// ---------------------------------------------------------------------------------------

/// In-process enrich + record JSON over the same stories: the ceiling the worker is
/// compared with.
#[derive(Debug, Clone, Copy)]
struct Offline {
    /// Stories per second of wall time.
    rate: f64,
    /// CPU seconds per 1,000 stories, summed over the enriching threads' own CPU time (so
    /// time a thread waited for a core on a busy machine is not counted).
    cpu_per_1k: f64,
}

/// Offline enrich + record JSON over `messages` on `threads` threads.
fn offline_rate(enricher: &Enricher, messages: &[(String, Bytes)], threads: usize) -> Offline {
    let chunk = messages.len().div_ceil(threads.max(1)).max(1);
    let started = Instant::now();
    let cpu: Duration = std::thread::scope(|scope| {
        let handles: Vec<_> = messages
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let cpu_start = cpu::thread_cpu_time();
                    for (id, payload) in part {
                        let raw = RawStory {
                            bytes: payload,
                            message_id: Some(id),
                            content_type: None,
                            reference_date: None,
                        };
                        let source = SourceInfo {
                            subject: INPUT_SUBJECT.to_owned(),
                            stream: Some(INPUT_STREAM.to_owned()),
                            stream_sequence: Some(1),
                            format: Format::Text,
                            received_at: "2026-01-01T00:00:00Z".to_owned(),
                        };
                        if let Ok(record) = enricher.enrich(&raw, source) {
                            std::hint::black_box(serde_json::to_vec(&record).ok());
                        }
                    }
                    cpu::thread_cpu_time().saturating_sub(cpu_start)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).sum()
    });
    let stories = messages.len().max(1) as f64;
    Offline {
        rate: messages.len() as f64 / started.elapsed().as_secs_f64().max(1e-9),
        cpu_per_1k: cpu.as_secs_f64() * 1000.0 / stories,
    }
}

// ---------------------------------------------------------------------------------------
// Processes: nats-server, workers, relay
// ---------------------------------------------------------------------------------------

/// A nats-server with JetStream on a free loopback port, storing in its own temp dir.
struct NatsServer {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl NatsServer {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn start() -> Res<Self> {
        let bin = std::env::var_os("NATS_SERVER_BIN").unwrap_or_else(|| "nats-server".into());
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(dir.path().join("nats-server.log"))?;
        let child = Command::new(&bin)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(dir.path().join("jetstream"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.to_string_lossy()))?;
        let server = Self {
            child,
            url: format!("nats://127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("nats-server did not listen within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A process under test: a worker or the relay, its log kept in the run's temp dir.
struct Proc {
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn spawn(mut command: Command, log: PathBuf) -> Res<Self> {
        let file = std::fs::File::create(&log)?;
        let child = command
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .map_err(|e| format!("cannot start {command:?}: {e}"))?;
        Ok(Self { child, log })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// SIGTERM (the graceful drain), then SIGKILL if still alive after 30 s.
    fn stop(mut self) {
        if let Ok(pid) = i32::try_from(self.pid()) {
            // SAFETY: plain kill(2) on our own child's pid; it has not been reaped yet.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!(
            "e2e: pid {} ignored SIGTERM for 30 s; killing it",
            self.pid()
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU seconds (user + system) and memory of one process, from /proc.
#[derive(Debug, Clone, Copy, Default)]
struct ProcStats {
    cpu_secs: f64,
    rss_kb: u64,
    hwm_kb: u64,
}

fn proc_stats(pid: u32) -> ProcStats {
    let field = |name: &str| program::status_kib(pid, name).unwrap_or(0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15 (1-based).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    ProcStats {
        cpu_secs: (ticks(11) + ticks(12)) as f64 / hz,
        rss_kb: field("VmRSS:"),
        hwm_kb: field("VmHWM:"),
    }
}

/// Summed over processes, except the peak, which is the largest single process.
fn stats_of(procs: &[Proc]) -> ProcStats {
    procs
        .iter()
        .map(|p| proc_stats(p.pid()))
        .fold(ProcStats::default(), |a, s| ProcStats {
            cpu_secs: a.cpu_secs + s.cpu_secs,
            rss_kb: a.rss_kb.max(s.rss_kb),
            hwm_kb: a.hwm_kb.max(s.hwm_kb),
        })
}

fn worker_config(dir: &Path, url: &str) -> Res<PathBuf> {
    let path = dir.join("worker.toml");
    let mut file = std::fs::File::create(&path)?;
    // Everything else is the worker's default configuration.
    writeln!(
        file,
        "[nats]\nurl = \"{url}\"\n\n[http]\nlisten = \"127.0.0.1:0\"\n\n[log]\nlevel = \"warn\""
    )?;
    Ok(path)
}

/// What runs between the input and output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum System {
    /// `wire-enricher run`, this many processes on one durable consumer.
    Worker(usize),
    /// `wire-enricher relay` (the worker with its stages skipped): the bus limit.
    Relay,
}

impl System {
    fn label(self) -> String {
        match self {
            System::Worker(n) => format!("w{n}"),
            System::Relay => "relay".to_owned(),
        }
    }

    fn name(self) -> String {
        match self {
            System::Worker(1) => "worker x1".to_owned(),
            System::Worker(n) => format!("worker x{n}"),
            System::Relay => "bus limit (relay)".to_owned(),
        }
    }

    fn start(self, options: &Options, url: &str, dir: &Path) -> Res<Vec<Proc>> {
        match self {
            System::Worker(count) => {
                let config = worker_config(dir, url)?;
                (0..count)
                    .map(|i| {
                        let mut command = Command::new(&options.worker_bin);
                        command.arg("run").arg("--config").arg(&config);
                        Proc::spawn(command, dir.join(format!("worker-{i}.log")))
                    })
                    .collect()
            }
            System::Relay => {
                let config = worker_config(dir, url)?;
                let mut command = Command::new(&options.worker_bin);
                command.arg("relay").arg("--config").arg(&config);
                Ok(vec![Proc::spawn(command, dir.join("relay.log"))?])
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The NATS side of the bench
// ---------------------------------------------------------------------------------------

/// One output message: a record or a dead letter, the bench id it carries, when it came.
struct Arrival {
    id: Option<String>,
    dead: bool,
    at: Instant,
}

type Arrivals = BoxStream<'static, Arrival>;

async fn subscribe(client: &async_nats::Client) -> Res<Arrivals> {
    let header = |m: &async_nats::Message, name: &str| {
        m.headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_owned())
    };
    let records = client
        .subscribe(OUTPUT_SUBJECT)
        .await?
        .map(move |m| Arrival {
            id: header(&m, "Nats-Msg-Id"),
            dead: false,
            at: Instant::now(),
        });
    let dead = client.subscribe(DEAD_SUBJECT).await?.map(move |m| Arrival {
        id: header(&m, "Wire-Enricher-Original-Id"),
        dead: true,
        at: Instant::now(),
    });
    Ok(futures::stream::select(records, dead).boxed())
}

/// Deletes and recreates the three streams exactly as the worker would create them, except
/// that with `max_bytes` (the soak, which would otherwise write many GB) each stream drops
/// its oldest messages past that size.
async fn reset_streams(js: &jetstream::Context, max_bytes: Option<i64>) -> Res<()> {
    for name in [INPUT_STREAM, OUTPUT_STREAM, DEAD_STREAM] {
        let _ = js.delete_stream(name).await;
    }
    let max_bytes = max_bytes.unwrap_or(-1);
    js.create_stream(stream::Config {
        name: INPUT_STREAM.to_owned(),
        subjects: vec![INPUT_SUBJECT.to_owned()],
        max_bytes,
        ..Default::default()
    })
    .await?;
    for (name, subject) in [(OUTPUT_STREAM, OUTPUT_SUBJECT), (DEAD_STREAM, DEAD_SUBJECT)] {
        js.create_stream(stream::Config {
            name: name.to_owned(),
            subjects: vec![subject.to_owned()],
            duplicate_window: DUPLICATE_WINDOW,
            max_bytes,
            ..Default::default()
        })
        .await?;
    }
    Ok(())
}

async fn stream_messages(js: &jetstream::Context, name: &str) -> Res<u64> {
    Ok(js.get_stream(name).await?.get_info().await?.state.messages)
}

async fn stream_bytes(js: &jetstream::Context, name: &str) -> Res<u64> {
    Ok(js.get_stream(name).await?.get_info().await?.state.bytes)
}

/// Publishes every message as fast as acks allow (at most 2,048 acks outstanding).
async fn preload(js: &jetstream::Context, messages: &[(String, Bytes)]) -> Res<()> {
    let mut acks = FuturesUnordered::new();
    for (id, payload) in messages {
        let message = PublishMessage::build()
            .payload(payload.clone())
            .message_id(id);
        acks.push(IntoFuture::into_future(
            js.send_publish(INPUT_SUBJECT, message).await?,
        ));
        while acks.len() >= 2048 {
            if let Some(ack) = acks.next().await {
                ack?;
            }
        }
    }
    while let Some(ack) = acks.next().await {
        ack?;
    }
    Ok(())
}

/// Publishes at a fixed rate (open loop); returns when each message was due.
async fn publish_paced(
    js: jetstream::Context,
    messages: Vec<(String, Bytes)>,
    rate: f64,
) -> Res<Vec<Instant>> {
    let start = Instant::now() + Duration::from_millis(20);
    let mut due_times = Vec::with_capacity(messages.len());
    let mut acks = FuturesUnordered::new();
    for (i, (id, payload)) in messages.into_iter().enumerate() {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(due.into()) => break,
                Some(ack) = acks.next(), if !acks.is_empty() => { ack?; }
            }
        }
        due_times.push(due);
        let message = PublishMessage::build().payload(payload).message_id(id);
        acks.push(IntoFuture::into_future(
            js.send_publish(INPUT_SUBJECT, message).await?,
        ));
    }
    while let Some(ack) = acks.next().await {
        ack?;
    }
    Ok(due_times)
}

/// What arrived for one batch of ids.
struct Collected {
    arrived: Vec<Option<Instant>>,
    dead: usize,
    first: Instant,
    last: Instant,
    /// Stats when the first output arrived and when the last did.
    at_first: ProcStats,
    at_last: ProcStats,
    /// The nats-server's CPU seconds at the same two moments.
    server_cpu: (f64, f64),
    /// RSS (largest process, kB) at each tenth of the run.
    rss_kb: Vec<u64>,
}

/// Waits until every id `{prefix}-0..count` arrived as a record or a dead letter.
async fn collect(
    arrivals: &mut Arrivals,
    prefix: &str,
    count: usize,
    procs: &[Proc],
    server_pid: u32,
) -> Res<Collected> {
    let mut arrived = vec![None; count];
    let (mut seen, mut dead) = (0usize, 0usize);
    let mut first = None;
    let mut at_first = ProcStats::default();
    let mut server_at_first = 0.0;
    let mut rss_kb = Vec::new();
    let mut next_sample = count.div_ceil(10);
    loop {
        let stall = if first.is_none() { 180 } else { 30 };
        let arrival = tokio::time::timeout(Duration::from_secs(stall), arrivals.next()).await;
        let Ok(Some(arrival)) = arrival else {
            let tails: Vec<String> = procs.iter().map(Proc::log_tail).collect();
            return Err(format!(
                "stalled: {seen} of {count} `{prefix}` stories arrived, none in {stall} s\n\
                 process logs (tail):\n{}",
                tails.join("\n---\n")
            )
            .into());
        };
        let Some(i) = arrival.id.as_deref().and_then(|id| index_of(id, prefix)) else {
            continue;
        };
        if i >= count || arrived[i].is_some() {
            continue;
        }
        arrived[i] = Some(arrival.at);
        seen += 1;
        dead += usize::from(arrival.dead);
        if first.is_none() {
            first = Some(arrival.at);
            at_first = stats_of(procs);
            server_at_first = proc_stats(server_pid).cpu_secs;
        }
        if seen >= next_sample {
            rss_kb.push(stats_of(procs).rss_kb);
            next_sample += count.div_ceil(10);
        }
        if seen == count {
            let first = first.unwrap_or(arrival.at);
            return Ok(Collected {
                arrived,
                dead,
                first,
                last: arrival.at,
                at_first,
                at_last: stats_of(procs),
                server_cpu: (server_at_first, proc_stats(server_pid).cpu_secs),
                rss_kb,
            });
        }
    }
}

// ---------------------------------------------------------------------------------------
// One system's run and the report
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
struct Latency {
    rate: f64,
    count: usize,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
}

#[derive(Debug, Clone)]
struct RunResult {
    system: System,
    stories: usize,
    dead: usize,
    rate: f64,
    wall_rate: f64,
    cpu_per_1k: f64,
    /// The nats-server's CPU seconds per 1,000 stories over the same span.
    server_cpu_per_1k: f64,
    hwm_mb: f64,
    rss_mb: Vec<f64>,
    latency: Option<Latency>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn run_system(
    system: System,
    options: &Options,
    server: &NatsServer,
    plan: &Plan,
) -> Res<RunResult> {
    let label = system.label();
    println!(
        "--- {}: preloading {} stories",
        system.name(),
        options.stories
    );
    let client = async_nats::ConnectOptions::new()
        .name("wire-enricher-e2e-bench")
        .subscription_capacity(1 << 20)
        .connect(&server.url)
        .await?;
    let js = jetstream::new(client.clone());
    // 2 GiB per stream: far more than a preloaded run or the soak's backlog needs.
    let soak_limit = (options.soak_secs > 0.0).then_some(2_i64 << 30);
    reset_streams(&js, soak_limit).await?;
    let mut arrivals = subscribe(&client).await?;
    client.flush().await?;
    let messages = plan.messages(&label, options.stories);
    preload(&js, &messages).await?;
    drop(messages);

    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let procs = system.start(options, &server.url, dir.path())?;
    let result = measure(
        system,
        options,
        (&js, &mut arrivals, server.pid()),
        plan,
        &procs,
        started,
    )
    .await;
    if result.is_err() {
        for p in &procs {
            eprintln!("--- log of pid {} ---\n{}", p.pid(), p.log_tail());
        }
    }
    for p in procs {
        p.stop();
    }
    result
}

async fn measure(
    system: System,
    options: &Options,
    (js, arrivals, server_pid): (&jetstream::Context, &mut Arrivals, u32),
    plan: &Plan,
    procs: &[Proc],
    started: Instant,
) -> Res<RunResult> {
    let label = system.label();
    let n = options.stories;
    let full = collect(arrivals, &label, n, procs, server_pid).await?;
    let span = full.last.duration_since(full.first).as_secs_f64().max(1e-9);
    let rate = (n.saturating_sub(1)).max(1) as f64 / span;
    let wall_rate = n as f64 / full.last.duration_since(started).as_secs_f64();
    let cpu = full.at_last.cpu_secs - full.at_first.cpu_secs;
    let cpu_per_1k = cpu / (n.saturating_sub(1)).max(1) as f64 * 1000.0;
    let server_cpu_per_1k =
        (full.server_cpu.1 - full.server_cpu.0) / (n.saturating_sub(1)).max(1) as f64 * 1000.0;
    println!(
        "    {n} done ({} dead letters): {rate:.0} stories/s steady, {wall_rate:.0}/s incl. \
         start-up; CPU {:.2} s total",
        full.dead, full.at_last.cpu_secs
    );

    let latency = if options.latency_secs > 0.0 {
        let offered = options.rate.unwrap_or(rate / 2.0).max(1.0);
        // At least 200 samples; at most 20,000 (the relay's rate would otherwise fill the
        // disk for nothing: its latency percentiles are stable long before).
        let count = ((offered * options.latency_secs) as usize).clamp(200, 20_000);
        println!("    latency phase: {count} stories at {offered:.0}/s");
        let prefix = format!("{label}L");
        let messages = plan.messages(&prefix, count);
        // Publisher and collector share this task, so neither needs a thread of its own.
        let (due, paced) = tokio::join!(
            publish_paced(js.clone(), messages, offered),
            collect(arrivals, &prefix, count, procs, server_pid)
        );
        let (due, paced) = (due?, paced?);
        let mut millis: Vec<f64> = due
            .iter()
            .zip(&paced.arrived)
            .filter_map(|(sent, got)| got.map(|g| g.saturating_duration_since(*sent)))
            .map(|d| d.as_secs_f64() * 1e3)
            .collect();
        millis.sort_by(f64::total_cmp);
        Some(Latency {
            rate: offered,
            count,
            p50_ms: percentile(&millis, 50.0),
            p99_ms: percentile(&millis, 99.0),
            p999_ms: percentile(&millis, 99.9),
            max_ms: millis.last().copied().unwrap_or(f64::NAN),
        })
    } else {
        None
    };
    let end = stats_of(procs);
    let expected = n + latency.as_ref().map_or(0, |l| l.count);
    let stored =
        stream_messages(js, OUTPUT_STREAM).await? + stream_messages(js, DEAD_STREAM).await?;
    if stored != expected as u64 {
        println!("    WARNING: output + dead-letter streams hold {stored}, expected {expected}");
    }
    let (bytes_in, bytes_out) = (
        stream_bytes(js, INPUT_STREAM).await?,
        stream_bytes(js, OUTPUT_STREAM).await?,
    );
    println!(
        "    stream bytes: input {:.1} MB, output {:.1} MB ({:.2}x)",
        bytes_in as f64 / 1e6,
        bytes_out as f64 / 1e6,
        bytes_out as f64 / (bytes_in.max(1)) as f64
    );
    if options.soak_secs > 0.0 && matches!(system, System::Worker(_)) {
        let offered = options.soak_rate.unwrap_or(rate * 0.9).max(1.0);
        let samples = soak(
            js,
            arrivals,
            plan,
            procs,
            &label,
            offered,
            options.soak_secs,
        )
        .await?;
        report_soak(
            &samples,
            &options.soak_dir.join(format!("soak-{label}.csv")),
        )?;
    }
    Ok(RunResult {
        system,
        stories: n,
        dead: full.dead,
        rate,
        wall_rate,
        cpu_per_1k,
        server_cpu_per_1k,
        hwm_mb: end.hwm_kb as f64 / 1024.0,
        rss_mb: full.rss_kb.iter().map(|kb| *kb as f64 / 1024.0).collect(),
        latency,
    })
}

/// One soak sample: the worker's memory and CPU, and the stories in and out so far.
struct SoakSample {
    secs: f64,
    rss_kb: u64,
    hwm_kb: u64,
    cpu_secs: f64,
    published: usize,
    arrived: usize,
}

/// Seconds between two soak samples.
const SOAK_SAMPLE_SECS: u64 = 10;
/// Publish acks the soak publisher leaves outstanding before it waits for some.
const SOAK_MAX_PENDING_ACKS: usize = 4096;

/// Offers stories open loop at `rate` for `secs` seconds (generated one by one, never held
/// all at once) while counting arrivals, and samples the worker processes every
/// [`SOAK_SAMPLE_SECS`]: a memory trend at steady load, not a pass/fail check.
async fn soak(
    js: &jetstream::Context,
    arrivals: &mut Arrivals,
    plan: &Plan,
    procs: &[Proc],
    label: &str,
    rate: f64,
    secs: f64,
) -> Res<Vec<SoakSample>> {
    println!("    soak: {secs:.0} s at {rate:.0} stories/s, VmRSS every {SOAK_SAMPLE_SECS} s");
    let prefix = format!("{label}S");
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(secs);
    let mut ticks = tokio::time::interval(Duration::from_secs(SOAK_SAMPLE_SECS));
    let mut acks = FuturesUnordered::new();
    let (mut published, mut arrived) = (0usize, 0usize);
    let mut samples = Vec::new();
    loop {
        let due = start + Duration::from_secs_f64(published as f64 / rate);
        let may_publish = due < end && acks.len() < SOAK_MAX_PENDING_ACKS;
        tokio::select! {
            biased;
            _ = ticks.tick() => {
                let stats = stats_of(procs);
                let secs = start.elapsed().as_secs_f64();
                samples.push(SoakSample {
                    secs,
                    rss_kb: stats.rss_kb,
                    hwm_kb: stats.hwm_kb,
                    cpu_secs: stats.cpu_secs,
                    published,
                    arrived,
                });
                println!(
                    "    soak t={secs:>4.0}s RSS {:.1} MB, published {published}, arrived {arrived}",
                    stats.rss_kb as f64 / 1024.0
                );
                if Instant::now() >= end {
                    break;
                }
            }
            Some(arrival) = arrivals.next() => {
                if arrival.id.as_deref().and_then(|id| index_of(id, &prefix)).is_some() {
                    arrived += 1;
                }
            }
            Some(ack) = acks.next(), if !acks.is_empty() => { ack?; }
            () = tokio::time::sleep_until(due.into()), if may_publish => {
                let (id, payload) = plan.message(&prefix, published);
                let message = PublishMessage::build().payload(payload).message_id(id);
                acks.push(IntoFuture::into_future(
                    js.send_publish(INPUT_SUBJECT, message).await?,
                ));
                published += 1;
            }
        }
    }
    while let Some(ack) = acks.next().await {
        ack?;
    }
    Ok(samples)
}

/// Writes the soak samples as CSV and prints the first and last minute's mean RSS.
fn report_soak(samples: &[SoakSample], path: &Path) -> Res<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut csv = String::from("secs,rss_mb,hwm_mb,cpu_secs,published,arrived\n");
    for s in samples {
        csv.push_str(&format!(
            "{:.0},{:.1},{:.1},{:.1},{},{}\n",
            s.secs,
            s.rss_kb as f64 / 1024.0,
            s.hwm_kb as f64 / 1024.0,
            s.cpu_secs,
            s.published,
            s.arrived
        ));
    }
    std::fs::write(path, csv)?;
    let per_minute = (60 / SOAK_SAMPLE_SECS) as usize;
    let mean_mb = |part: &[SoakSample]| {
        part.iter().map(|s| s.rss_kb as f64).sum::<f64>() / part.len().max(1) as f64 / 1024.0
    };
    let first = &samples[..per_minute.min(samples.len())];
    let last = &samples[samples.len().saturating_sub(per_minute)..];
    println!(
        "    soak: mean RSS first minute {:.1} MB, last minute {:.1} MB, peak {:.1} MB; \
         series in {}",
        mean_mb(first),
        mean_mb(last),
        samples.iter().map(|s| s.hwm_kb).max().unwrap_or(0) as f64 / 1024.0,
        path.display()
    );
    Ok(())
}

async fn run_bench(options: Options) -> Res<()> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!("e2e bench: {} cores, {}", cores, cpu_model());
    let mix = mix::load()?;
    let enricher = Enricher::with_embedded_model(EnrichOptions::default());
    let plan = Plan::new(&enricher, &mix);
    println!("mix: {}", plan.description);
    println!("model: {}", enricher.model_name());

    let offline_messages = plan.messages("offline", options.stories);
    let offline_1 = offline_rate(&enricher, &offline_messages, 1);
    let offline_n = offline_rate(&enricher, &offline_messages, cores);
    drop(offline_messages);
    println!(
        "offline enrich + JSON: {:.0} stories/s on 1 thread ({:.2} CPU s per 1k), {:.0}/s on {cores}",
        offline_1.rate,
        offline_1.cpu_per_1k,
        offline_n.rate
    );

    let server = NatsServer::start()?;
    println!("nats-server at {} (JetStream, file storage)", server.url);
    let mut systems = Vec::new();
    if options.relay {
        systems.push(System::Relay);
    }
    if options.worker {
        systems.extend(options.workers.iter().map(|&n| System::Worker(n)));
    }
    let mut results = Vec::new();
    for system in systems {
        results.push(run_system(system, &options, &server, &plan).await?);
    }
    report(&results, offline_1, offline_n, cores);
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

fn report(results: &[RunResult], offline_1: Offline, offline_n: Offline, cores: usize) {
    let relay = results.iter().find(|r| r.system == System::Relay);
    let one = results.iter().find(|r| r.system == System::Worker(1));
    println!();
    println!(
        "| system | stories | dead | stories/s | /s incl. start | vs bus limit | vs offline ({cores} thr) \
         | offered/s | p50 ms | p99 ms | p99.9 ms | max ms | peak RSS MB | RSS 10%..100% MB | CPU s/1k \
         | CPU vs offline | nats-server CPU s/1k |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| offline enrich, 1 thread | - | - | {:.0} | - | - | {:.2} | - | - | - | - | - | - | - | {:.2} | 1.00 | - |",
        offline_1.rate,
        offline_1.rate / offline_n.rate,
        offline_1.cpu_per_1k
    );
    println!(
        "| offline enrich, {cores} threads | - | - | {:.0} | - | - | 1.00 | - | - | - | - | - | - | - | {:.2} | - | - |",
        offline_n.rate,
        offline_n.cpu_per_1k
    );
    for r in results {
        let vs_relay = relay.map_or("-".to_owned(), |b| format!("{:.2}", r.rate / b.rate));
        let latency = r.latency.as_ref().map_or_else(
            || "- | - | - | - | -".to_owned(),
            |l| {
                format!(
                    "{:.0} | {:.2} | {:.2} | {:.2} | {:.2}",
                    l.rate, l.p50_ms, l.p99_ms, l.p999_ms, l.max_ms
                )
            },
        );
        let rss: Vec<String> = r.rss_mb.iter().map(|m| format!("{m:.0}")).collect();
        println!(
            "| {} | {} | {} | {:.0} | {:.0} | {} | {:.2} | {latency} | {:.1} | {} | {:.2} | {} | {:.2} |",
            r.system.name(),
            r.stories,
            r.dead,
            r.rate,
            r.wall_rate,
            vs_relay,
            r.rate / offline_n.rate,
            r.hwm_mb,
            rss.join(" "),
            r.cpu_per_1k,
            match r.system {
                System::Worker(_) =>
                    format!("{:.2}", offline_1.cpu_per_1k / r.cpu_per_1k.max(1e-9)),
                System::Relay => "-".to_owned(),
            },
            r.server_cpu_per_1k,
        );
    }
    if let (Some(one), Some(two)) = (one, results.iter().find(|r| r.system == System::Worker(2))) {
        println!(
            "\nscaling: 2 workers / 1 worker = {:.2} ({cores} cores on this machine)",
            two.rate / one.rate
        );
    }
    println!(
        "\nstories/s: first to last record of the preloaded run; latency: due-to-publish to \
         record arrival at the offered rate; peak RSS: largest worker process VmHWM; CPU: \
         utime+stime of all worker processes between the first and last record; CPU vs offline: \
         offline CPU per story (1 thread, the thread's own CPU time) / the system's CPU per \
         story, the share of the worker's CPU that is enrichment. The relay is `wire-enricher relay`: the worker's \
         own source, sink, acks and metrics with the stages skipped. nats-server CPU: the \
         server's utime+stime over the same span, on the same cores: what the bus itself \
         takes from the enrichment's share of the machine."
    );
}
