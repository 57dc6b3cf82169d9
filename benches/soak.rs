//! Soak: the worker against a 3-node JetStream cluster for a long time at a steady rate.
//!
//! Starts a 3-node `nats-server` cluster on loopback (the test harness's
//! `tests/it/support/cluster.rs`), one `wire-enricher run` (the release build cargo made for
//! this bench) with R3 input, output and dead-letter streams, and publishes the story mix
//! (`benches/support/mix.rs`) round robin at `--rate` stories/s for `--minutes` (default
//! 30), each with a unique `Nats-Msg-Id` and record id (`benches/support/shapes.rs`: stories
//! with an id of their own go as JSON envelopes, as in the e2e bench). Every `--sample-secs` (default 10) it writes one
//! CSV row: elapsed seconds, stories published, the worker's `VmRSS`, and the consumer lag
//! of the durable consumer (`num_pending + num_ack_pending`), and the messages in the output
//! and dead-letter streams (records plus dead letters = published once drained). After publishing stops it
//! keeps sampling until the lag is zero (or two minutes pass), then renders the CSV as a
//! PNG with `benches/plot_soak.py` (python3 + matplotlib) when that is available.
//!
//! Run: `cargo bench --bench soak -- [--rate 50] [--minutes 30] [--out benches/results]`.
//!
//! Must not: talk to anything but the loopback cluster it started, leave a process behind,
//! or assert anything: it reports memory and lag, a human reads the plot.

#[path = "support/mix.rs"]
mod mix;
#[path = "support/program.rs"]
mod program;
#[path = "support/shapes.rs"]
mod shapes;
use program::{parse_num, Cmd};
use shapes::Plan;

#[path = "../tests/it/support/cluster.rs"]
mod cluster;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, message::PublishMessage};
use wire_enricher::enrich::{EnrichOptions, Enricher};

type BenchError = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, BenchError>;

const INPUT_STREAM: &str = "SOAK_RAW";
const INPUT_SUBJECT: &str = "soak.raw";
const DURABLE: &str = "soak-worker";
const OUTPUT_STREAM: &str = "SOAK_ENRICHED";
const OUTPUT_SUBJECT: &str = "soak.enriched";
const DEAD_STREAM: &str = "SOAK_DEAD";
const DEAD_SUBJECT: &str = "soak.dead";

/// How long to wait for the lag to drain after publishing stops.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);

const USAGE: &str = "\
Soak: the worker on a 3-node JetStream cluster (R3 streams) at a steady rate.

  cargo bench --bench soak -- [OPTIONS]

Options:
  --rate R          stories per second, published steadily (default 50)
  --minutes M       how long to publish (default 30; fractions allowed)
  --sample-secs S   sampling period for the CSV (default 10)
  --out DIR         where soak.csv and soak.png go (default benches/results)
  --worker-bin PATH the worker binary (default: this build's wire-enricher, or
                    $WIRE_ENRICHER_BIN)
  --help            this text

Writes DIR/soak.csv (elapsed_s, published, rss_kib, num_pending, num_ack_pending, lag,
records, dead_letters) and, when python3 has matplotlib, DIR/soak.png via
benches/plot_soak.py.";

struct Options {
    rate: f64,
    minutes: f64,
    sample: Duration,
    out: PathBuf,
    worker_bin: PathBuf,
}

fn parse_args(args: Vec<String>) -> Result<Cmd<Options>, String> {
    if args.is_empty() {
        return Ok(Cmd::NotUnderTest);
    }
    let mut options = Options {
        rate: 50.0,
        minutes: 30.0,
        sample: Duration::from_secs(10),
        out: Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/results"),
        worker_bin: std::env::var_os("WIRE_ENRICHER_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_wire-enricher"))),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            // `cargo bench` passes --bench to every harness = false target.
            "--bench" => {}
            "--help" | "-h" => return Ok(Cmd::Help),
            "--rate" => options.rate = parse_num(&value("--rate")?)?,
            "--minutes" => options.minutes = parse_num(&value("--minutes")?)?,
            "--sample-secs" => {
                options.sample = Duration::from_secs_f64(parse_num(&value("--sample-secs")?)?);
            }
            "--out" => options.out = PathBuf::from(value("--out")?),
            "--worker-bin" => options.worker_bin = PathBuf::from(value("--worker-bin")?),
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    if !(options.rate > 0.0 && options.minutes > 0.0 && !options.sample.is_zero()) {
        return Err("--rate, --minutes and --sample-secs must be positive".to_owned());
    }
    Ok(Cmd::Run(options))
}

fn main() -> ExitCode {
    program::main_of(
        "soak",
        USAGE,
        "a 30-minute run: `cargo bench --bench soak`",
        parse_args(std::env::args().skip(1).collect()),
        |options| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(BenchError::from)
                .and_then(|rt| rt.block_on(soak(options)))
        },
    )
}

/// One `wire-enricher run` process, killed on drop.
struct Worker {
    child: Child,
    http_port: u16,
}

impl Worker {
    fn start(bin: &Path, urls: &str, log: &Path) -> Res<Self> {
        let http_port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut command = Command::new(bin);
        command.arg("run");
        for (key, _) in std::env::vars() {
            if key.starts_with("WIRE_ENRICHER__") {
                command.env_remove(key);
            }
        }
        let settings = [
            ("NATS__URL", urls.to_owned()),
            ("INPUT__STREAM", INPUT_STREAM.to_owned()),
            ("INPUT__SUBJECTS", INPUT_SUBJECT.to_owned()),
            ("INPUT__DURABLE", DURABLE.to_owned()),
            ("INPUT__REPLICAS", "3".to_owned()),
            ("OUTPUT__STREAM", OUTPUT_STREAM.to_owned()),
            ("OUTPUT__SUBJECT", OUTPUT_SUBJECT.to_owned()),
            ("OUTPUT__REPLICAS", "3".to_owned()),
            ("DEAD_LETTER__STREAM", DEAD_STREAM.to_owned()),
            ("DEAD_LETTER__SUBJECT", DEAD_SUBJECT.to_owned()),
            ("DEAD_LETTER__REPLICAS", "3".to_owned()),
            ("HTTP__LISTEN", format!("127.0.0.1:{http_port}")),
            ("LOG__LEVEL", "warn".to_owned()),
        ];
        command.envs(
            settings
                .iter()
                .map(|(k, v)| (format!("WIRE_ENRICHER__{k}"), v)),
        );
        let file = std::fs::File::create(log)?;
        command.stdout(Stdio::null()).stderr(file);
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        Ok(Self { child, http_port })
    }

    async fn wait_ready(&mut self, timeout: Duration) -> Res<()> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Err(format!("worker exited early: {status}").into());
            }
            if http_status(self.http_port, "/readyz") == Some(200) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("worker not ready within {timeout:?}").into())
    }

    /// Resident memory in KiB (`VmRSS` of `/proc/<pid>/status`).
    fn rss_kib(&self) -> Option<u64> {
        program::status_kib(self.child.id(), "VmRSS:")
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_status(port: u16, path: &str) -> Option<u16> {
    use std::io::Read as _;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}

/// One CSV row.
struct Sample {
    elapsed: Duration,
    published: u64,
    rss_kib: Option<u64>,
    pending: Option<(u64, u64)>,
    records: u64,
    dead_letters: u64,
}

impl Sample {
    const HEADER: &'static str =
        "elapsed_s,published,rss_kib,num_pending,num_ack_pending,lag,records,dead_letters";

    fn lag(&self) -> Option<u64> {
        self.pending
            .map(|(pending, ack_pending)| pending + ack_pending)
    }

    fn csv(&self) -> String {
        let opt = |v: Option<u64>| v.map_or_else(String::new, |v| v.to_string());
        format!(
            "{:.0},{},{},{},{},{},{},{}",
            self.elapsed.as_secs_f64(),
            self.published,
            opt(self.rss_kib),
            opt(self.pending.map(|p| p.0)),
            opt(self.pending.map(|p| p.1)),
            opt(self.lag()),
            self.records,
            self.dead_letters,
        )
    }
}

async fn soak(options: Options) -> Res<()> {
    let mix = mix::load()?;
    let enricher = Enricher::with_embedded_model(EnrichOptions::default());
    let plan = Plan::new(&enricher, &mix);
    drop(enricher);
    println!("soak: story mix: {}", plan.description);
    println!(
        "soak: {} stories/s for {} min, sampling every {:?}; starting a 3-node cluster",
        options.rate, options.minutes, options.sample
    );
    let cluster = cluster::NatsCluster::start();
    let work = tempfile::tempdir()?;
    let log = work.path().join("worker.log");
    let mut worker = Worker::start(&options.worker_bin, &cluster.urls(), &log)?;
    worker.wait_ready(Duration::from_secs(120)).await?;
    let nats = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(cluster.urls().split(',').collect::<Vec<_>>())
        .await?;
    let js = jetstream::new(nats);
    let input = js.get_stream(INPUT_STREAM).await?;
    let replicas = input.cached_info().config.num_replicas;
    println!(
        "soak: worker ready (pid {}), input stream {INPUT_STREAM} has {replicas} replicas",
        worker.child.id()
    );

    std::fs::create_dir_all(&options.out)?;
    let csv_path = options.out.join("soak.csv");
    let mut csv = std::fs::File::create(&csv_path)?;
    writeln!(csv, "{}", Sample::HEADER)?;

    let published = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let publish_for = Duration::from_secs_f64(options.minutes * 60.0);
    let publisher = tokio::spawn(publish_steadily(
        js.clone(),
        plan,
        options.rate,
        publish_for,
        std::sync::Arc::clone(&published),
    ));

    let started = Instant::now();
    let mut ticks = tokio::time::interval(options.sample);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut drain_started: Option<Instant> = None;
    let mut rows = Vec::new();
    loop {
        ticks.tick().await;
        let sample = Sample {
            elapsed: started.elapsed(),
            published: published.load(std::sync::atomic::Ordering::Relaxed),
            rss_kib: worker.rss_kib(),
            pending: consumer_pending(&js).await,
            records: stream_messages(&js, OUTPUT_STREAM).await,
            dead_letters: stream_messages(&js, DEAD_STREAM).await,
        };
        writeln!(csv, "{}", sample.csv())?;
        csv.flush()?;
        println!("soak: {}", sample.csv());
        let lag = sample.lag();
        rows.push(sample);
        if publisher.is_finished() {
            let since = *drain_started.get_or_insert_with(Instant::now);
            if lag == Some(0) || since.elapsed() > DRAIN_LIMIT {
                break;
            }
        }
    }
    let errors = publisher.await??;
    summarise(&rows, errors, options.rate);
    drop(worker);
    drop(cluster);
    plot(&csv_path, &options.out.join("soak.png"), options.rate);
    Ok(())
}

/// Publishes the mix round robin at `rate` per second for `duration`, each with a unique
/// `Nats-Msg-Id` and record id ([`Plan`]), awaiting every ack (retrying a failed publish). Returns how many
/// publish attempts failed and were retried.
async fn publish_steadily(
    js: jetstream::Context,
    plan: Plan,
    rate: f64,
    duration: Duration,
    published: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> Res<u64> {
    let run = format!("soak-{}", std::process::id());
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    // A late tick is made up for, so the average rate holds.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut errors = 0u64;
    let mut n = 0u64;
    while started.elapsed() < duration {
        ticks.tick().await;
        let (id, payload) = plan.message(&run, usize::try_from(n)?);
        loop {
            let message = PublishMessage::build()
                .payload(payload.clone())
                .message_id(&id);
            let acked = async { js.send_publish(INPUT_SUBJECT, message).await?.await };
            match tokio::time::timeout(Duration::from_secs(10), acked).await {
                Ok(Ok(_)) => break,
                _ => {
                    errors += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        n += 1;
        published.store(n, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(errors)
}

async fn consumer_pending(js: &jetstream::Context) -> Option<(u64, u64)> {
    let stream = js.get_stream(INPUT_STREAM).await.ok()?;
    let mut consumer: jetstream::consumer::PullConsumer =
        stream.get_consumer(DURABLE).await.ok()?;
    let info = consumer.info().await.ok()?;
    Some((info.num_pending, info.num_ack_pending as u64))
}

async fn stream_messages(js: &jetstream::Context, name: &str) -> u64 {
    match js.get_stream(name).await {
        Ok(mut stream) => stream.info().await.map_or(0, |i| i.state.messages),
        Err(_) => 0,
    }
}

/// Prints RSS at the start, middle and end of the publishing phase and the final lag.
fn summarise(rows: &[Sample], publish_errors: u64, rate: f64) {
    let rss: Vec<u64> = rows.iter().filter_map(|r| r.rss_kib).collect();
    if let (Some(first), Some(last)) = (rss.first(), rss.last()) {
        let max = rss.iter().max().copied().unwrap_or(0);
        let min = rss.iter().min().copied().unwrap_or(0);
        let mid = rss[rss.len() / 2];
        println!(
            "soak: worker VmRSS first {} MiB, middle {} MiB, last {} MiB, min {} MiB, max {} MiB",
            first / 1024,
            mid / 1024,
            last / 1024,
            min / 1024,
            max / 1024
        );
    }
    let max_lag = rows.iter().filter_map(Sample::lag).max().unwrap_or(0);
    let last = rows.last();
    println!(
        "soak: rate {rate}/s, published {}, max lag {max_lag}, final lag {:?}, records {}, \
         dead letters {}, publish retries {publish_errors}",
        last.map_or(0, |r| r.published),
        last.and_then(Sample::lag),
        last.map_or(0, |r| r.records),
        last.map_or(0, |r| r.dead_letters),
    );
}

/// Renders the CSV with `benches/plot_soak.py`, or says how to.
fn plot(csv: &Path, png: &Path, rate: f64) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/plot_soak.py");
    let status = Command::new("python3")
        .arg(&script)
        .arg(csv)
        .arg(png)
        .arg("--title")
        .arg(format!(
            "wire-enricher soak: 3-node cluster, R3, {rate} stories/s"
        ))
        .status();
    match status {
        Ok(s) if s.success() => println!("soak: wrote {} and {}", csv.display(), png.display()),
        _ => println!(
            "soak: wrote {}; no plot (needs python3 with matplotlib): python3 {} {} {}",
            csv.display(),
            script.display(),
            csv.display(),
            png.display()
        ),
    }
}
