//! The `wire-enricher` binary: CLI -> Config -> telemetry -> signals -> run -> exit code.
//!
//! Exit codes: 0 success, 1 runtime error, 2 usage or configuration error,
//! 130 a second shutdown signal. `anyhow` lives here and nowhere else.
//!
//! Must not: hold logic the library should own; every command is a call into it.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use wire_enricher::bus::replay::{self, ReplayOptions};
use wire_enricher::config::{Config, LogFormat};

use wire_enricher::{daemon, eval, health, metrics, offline, shutdown, telemetry, train};

/// mimalloc, not glibc's malloc: the stage threads free on one thread what another
/// allocated. With glibc the worker did ~10% fewer stories per second at ~8% more CPU per
/// story (and offline `enrich` 5% fewer), and needed an arena cap, a fixed mmap threshold and
/// a trim thread to keep its RSS flat; with mimalloc RSS is flat by itself, at 72-75 MB
/// against glibc's 47 (benches/README.md, session 11).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit code for runtime failures.
const EXIT_RUNTIME: u8 = 1;
/// Exit code for bad configuration (clap uses it for bad usage too).
const EXIT_CONFIG: u8 = 2;

const EXAMPLES: &str = "\
Examples:
  wire-enricher run --config /etc/wire-enricher.toml
  WIRE_ENRICHER__NATS__URL=nats://nats:4222 wire-enricher run
  wire-enricher enrich tests/fixtures/stories/syria-deal.txt
  cat story.json | wire-enricher enrich -
  wire-enricher replay --subject stories.raw --rate 50/s tests/fixtures/stories/
  wire-enricher print-config --config worker.toml
  wire-enricher schema > record.schema.json";

/// Raw news wire stories in, enriched JSON records out: a NATS JetStream worker.
#[derive(Debug, Parser)]
#[command(name = "wire-enricher", version, about, after_help = EXAMPLES)]
struct Cli {
    /// Configuration file (TOML); WIRE_ENRICHER__SECTION__KEY variables override it.
    #[arg(long, short, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the worker: consume raw stories from NATS, publish enriched records.
    Run,
    /// Benchmarking tool, not for production: runs the daemon exactly like `run` (same
    /// config, NATS source and sink, acks, headers, metrics) with the parse, quotes and
    /// entities stages skipped. Each input is published to the output subject with its
    /// bytes unchanged and `Nats-Msg-Id` = the input's `Nats-Msg-Id` (else the content
    /// hash). Its output is NOT records: never point it at a stream consumers read. It
    /// measures the bus limit for `benches/e2e.rs`.
    #[command(hide = true)]
    Relay,
    /// Enrich files, directories, JSONL files or stdin (`-`) and print one record per line.
    Enrich {
        /// Inputs; `-` or nothing reads stdin.
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// The day the stories were filed (`YYYY-MM-DD`): gives the year to a dateline
        /// written without one (`DHAKA, May 9 (Agency) -`) when the story writes no dated
        /// mention. The daemon uses the day the bus stored each story.
        #[arg(long, value_name = "DATE")]
        reference_date: Option<jiff::civil::Date>,
    },
    /// Publish stories (files, directories, JSONL, stdin) to a NATS subject.
    Replay {
        /// Subject to publish to.
        #[arg(long)]
        subject: String,
        /// Stories per second (`50` or `50/s`); as fast as acks allow when absent.
        #[arg(long, value_parser = replay::parse_rate)]
        rate: Option<f64>,
        /// NATS server URL(s); defaults to `nats.url` from the config.
        #[arg(long)]
        server: Option<String>,
        /// Inputs; `-` or nothing reads stdin.
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Print the effective configuration as TOML, secrets redacted.
    PrintConfig,
    /// Print the JSON Schema of the published record.
    Schema,
    /// Probe a running worker's `/healthz` on `http.listen`; exit 0 when it answers 200
    /// (the container HEALTHCHECK: the image has no shell or curl).
    Healthcheck {
        /// Path to probe: `/healthz` (liveness) or `/readyz` (readiness).
        #[arg(long, default_value = "/healthz")]
        path: String,
    },
    /// Accuracy evaluations against the development data.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Train the entity model.
    TrainNer(train::Args),
}

#[derive(Debug, Subcommand)]
enum EvalCommand {
    /// Parse accuracy (headline, byline, dateline, body).
    Parse(eval::parse::Args),
    /// Quote extraction and attribution.
    Quotes(eval::quotes::Args),
    /// Named entity recognition.
    Ner(eval::ner::Args),
}

/// A failure and the exit code it maps to.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl Failure {
    fn config(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: EXIT_CONFIG,
            error: error.into(),
        }
    }

    fn runtime(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: EXIT_RUNTIME,
            error: error.into(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("wire-enricher: error: {:#}", failure.error);
            ExitCode::from(failure.code)
        }
    }
}

fn dispatch(cli: Cli) -> Result<(), Failure> {
    let load = || {
        Config::load(cli.config.as_deref())
            .context("invalid configuration")
            .map_err(Failure::config)
    };
    match cli.command {
        Command::Run => run_daemon(load()?, daemon::Mode::Enrich),
        Command::Relay => run_daemon(load()?, daemon::Mode::Relay),
        Command::Enrich {
            paths,
            reference_date,
        } => enrich(&load()?, &paths, reference_date),
        Command::Replay {
            subject,
            rate,
            server,
            paths,
        } => {
            let mut config = load()?;
            if let Some(server) = server {
                config.nats.url = server;
            }
            run_replay(&config, subject, rate, &paths)
        }
        Command::PrintConfig => {
            print!("{}", load()?.to_redacted_toml());
            Ok(())
        }
        Command::Schema => {
            let schema = schemars::schema_for!(wire_enricher::enrich::record::EnrichedRecord);
            let text = serde_json::to_string_pretty(&schema).map_err(Failure::runtime)?;
            println!("{text}");
            Ok(())
        }
        Command::Healthcheck { path } => healthcheck(&load()?, &path),
        Command::Eval(command) => {
            init_cli_logging()?;
            let result = match command {
                EvalCommand::Parse(args) => eval::parse::run(&args),
                EvalCommand::Quotes(args) => eval::quotes::run(&args),
                EvalCommand::Ner(args) => eval::ner::run(&args),
            };
            result
                .context("evaluation failed")
                .map_err(Failure::runtime)
        }
        Command::TrainNer(args) => {
            init_cli_logging()?;
            train::run(&args)
                .context("training failed")
                .map_err(Failure::runtime)
        }
    }
}

/// mimalloc's option index of `arena_eager_commit` (`mi_option_arena_eager_commit` in
/// mimalloc 2's `mimalloc.h`; the Rust bindings do not name it). The test
/// `allocator_commits_its_arenas_on_demand` fails if an update of the bundled mimalloc
/// moves it.
#[cfg(target_os = "linux")]
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// Tells mimalloc not to commit its arenas eagerly, unless the operator set
/// `MIMALLOC_ARENA_EAGER_COMMIT` (mimalloc reads its `MIMALLOC_*` variables itself).
///
/// On an overcommitting OS mimalloc 2 commits each arena (1 GiB) up front by default; the
/// worker's RSS in the e2e bench (10,000 stories) then peaked at 105-106 MB (mimalloc 3:
/// 159-166 MB), against 73 MB with arenas committed on demand, at the same speed
/// (benches/README.md, session 11). The first arena is reserved at the
/// first allocation, before `main` runs, so this runs as an ELF constructor
/// ([`TUNE_ALLOCATOR`]).
#[cfg(target_os = "linux")]
extern "C" fn tune_allocator() {
    if std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_none() {
        // SAFETY: mi_option_set only stores an integer in mimalloc's static option table
        // and marks it set (no allocation, no lock); any value is accepted, and the option
        // is read when an arena is reserved.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
    }
}

/// Runs [`tune_allocator`] among the program's constructors, before `main` (the test
/// `allocator_commits_its_arenas_on_demand` checks that it came early enough).
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static TUNE_ALLOCATOR: extern "C" fn() = tune_allocator;

fn healthcheck(config: &Config, path: &str) -> Result<(), Failure> {
    let listen: std::net::SocketAddr = config
        .http
        .listen
        .parse()
        .context("http.listen is not an address")
        .map_err(Failure::config)?;
    match wire_enricher::http::probe(listen, path) {
        Ok(200) => Ok(()),
        Ok(code) => Err(Failure::runtime(anyhow::anyhow!(
            "{path} on {listen} answered HTTP {code}"
        ))),
        Err(error) => Err(Failure::runtime(
            anyhow::Error::new(error).context(format!("cannot probe {path} on {listen}")),
        )),
    }
}

fn run_daemon(config: Config, mode: daemon::Mode) -> Result<(), Failure> {
    telemetry::init(config.log.format == LogFormat::Json, &config.log.level)
        .context("cannot set up logging (log.level?)")
        .map_err(Failure::config)?;
    let metrics = metrics::install()
        .context("cannot install the metrics recorder")
        .map_err(Failure::runtime)?;
    let runtime = tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")
        .map_err(Failure::runtime)?;
    let result = runtime.block_on(async {
        let token = CancellationToken::new();
        let signals = shutdown::install(token.clone())
            .context("cannot install signal handlers")
            .map_err(Failure::runtime)?;
        let result = daemon::run(config, mode, health::Health::new(), metrics, token).await;
        signals.abort();
        result.context("worker failed").map_err(Failure::runtime)
    });
    // Blocking stage threads still busy (a shutdown timeout, a stalled stage) must not hold
    // the exit, on success or failure: dropping the runtime would wait for them.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    result
}

fn enrich(
    config: &Config,
    paths: &[PathBuf],
    reference_date: Option<jiff::civil::Date>,
) -> Result<(), Failure> {
    init_cli_logging()?;
    let mut inputs = offline::read_inputs(&stdin_if_empty(paths))
        .context("cannot read inputs")
        .map_err(Failure::runtime)?;
    for input in &mut inputs {
        input.reference_date = reference_date;
    }
    let enricher = daemon::load_enricher(config)
        .context("cannot load the entity model")
        .map_err(Failure::config)?;
    let options = offline::EnrichOutput {
        progress: std::io::stderr().is_terminal(),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    offline::enrich_inputs(&inputs, &enricher, &mut out, &options)
        .context("enrichment failed")
        .map_err(Failure::runtime)?;
    std::io::Write::flush(&mut out)
        .context("cannot write stdout")
        .map_err(Failure::runtime)
}

fn run_replay(
    config: &Config,
    subject: String,
    rate: Option<f64>,
    paths: &[PathBuf],
) -> Result<(), Failure> {
    init_cli_logging()?;
    let stories = offline::read_inputs(&stdin_if_empty(paths))
        .context("cannot read inputs")
        .map_err(Failure::runtime)?;
    let options = ReplayOptions {
        subject,
        rate,
        progress: std::io::stderr().is_terminal(),
    };
    let runtime = tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")
        .map_err(Failure::runtime)?;
    let summary = runtime
        .block_on(replay::run(&config.nats, &stories, &options))
        .context("replay failed")
        .map_err(Failure::runtime)?;
    eprintln!(
        "published {} stories to {} ({}; {} duplicates)",
        summary.published,
        options.subject,
        if summary.jetstream {
            "JetStream, acked"
        } else {
            "core NATS"
        },
        summary.duplicates
    );
    Ok(())
}

/// Warnings and errors on stderr for the one-shot commands.
fn init_cli_logging() -> Result<(), Failure> {
    telemetry::init(false, "warn")
        .context("cannot set up logging")
        .map_err(Failure::runtime)
}

fn stdin_if_empty(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        paths.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn subcommands_parse() {
        let cli = Cli::try_parse_from([
            "wire-enricher",
            "replay",
            "--subject",
            "s",
            "--rate",
            "5/s",
            "a.jsonl",
        ])
        .unwrap();
        assert!(matches!(cli.command, Command::Replay { rate: Some(r), .. } if r == 5.0));
        let cli = Cli::try_parse_from(["wire-enricher", "--config", "x.toml", "run"]).unwrap();
        assert_eq!(cli.config, Some(PathBuf::from("x.toml")));
        assert!(Cli::try_parse_from(["wire-enricher", "eval", "ner"]).is_ok());
        assert!(Cli::try_parse_from(["wire-enricher", "train-ner"]).is_ok());
    }

    /// Guards [`MI_OPTION_ARENA_EAGER_COMMIT`]: were it another option's index, mimalloc
    /// would have committed its first arena (1 GiB) whole before `main`.
    #[cfg(target_os = "linux")]
    #[test]
    fn allocator_commits_its_arenas_on_demand() {
        if std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_some() {
            eprintln!("MIMALLOC_ARENA_EAGER_COMMIT is set: the operator's choice, not checked");
            return;
        }
        // 4 MiB in use while mimalloc is asked, so its peak commit is at least that.
        let kept: Vec<Vec<u8>> = (0..64).map(|i| vec![i as u8; 64 * 1024]).collect();
        std::hint::black_box(&kept);
        let [mut elapsed, mut user, mut system, mut rss, mut peak_rss] = [0usize; 5];
        let [mut commit, mut peak_commit, mut faults] = [0usize; 3];
        // SAFETY: mi_process_info writes one usize through each pointer, all of them to
        // distinct live locals.
        unsafe {
            libmimalloc_sys::mi_process_info(
                &mut elapsed,
                &mut user,
                &mut system,
                &mut rss,
                &mut peak_rss,
                &mut commit,
                &mut peak_commit,
                &mut faults,
            );
        }
        drop(kept);
        assert!(
            (4 << 20..256 << 20).contains(&peak_commit),
            "mimalloc committed at most {peak_commit} bytes: expected a few MB in use, not a whole arena"
        );
    }

    #[test]
    fn relay_parses_but_is_hidden_from_help() {
        let cli = Cli::try_parse_from(["wire-enricher", "relay"]).unwrap();
        assert!(matches!(cli.command, Command::Relay));
        let help = Cli::command().render_help().to_string();
        assert!(help.contains("print-config"), "{help}");
        assert!(!help.contains("relay"), "{help}");
    }
}
