//! What the stand-alone bench programs (`harness = false`: e2e, soak) share: the command
//! they were asked for, number arguments, `main`'s dispatch and exit codes, and readings
//! of a process from `/proc`.

use std::fmt::Display;
use std::process::ExitCode;

/// What a bench program was asked to do.
pub(crate) enum Cmd<O> {
    /// Run with these options.
    Run(O),
    /// Built and run by `cargo test --benches` / `--all-targets` (no `--bench` flag): a
    /// benchmark is not a test, so it only says how to run it.
    NotUnderTest,
    /// Print the usage.
    Help,
}

/// Parses a number argument.
pub(crate) fn parse_num<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.trim().parse().map_err(|_| format!("not a number: {s:?}"))
}

/// `main` of a bench program called `name`: prints the usage, says how to run it when
/// run as a test, or runs it. Exit code 2 for bad arguments, 1 when the run fails.
pub(crate) fn main_of<O, E: Display>(
    name: &str,
    usage: &str,
    how_to_run: &str,
    cmd: Result<Cmd<O>, String>,
    run: impl FnOnce(O) -> Result<(), E>,
) -> ExitCode {
    let cmd = match cmd {
        Ok(cmd) => cmd,
        Err(message) => {
            eprintln!("{name}: {message}");
            return ExitCode::from(2);
        }
    };
    let result = match cmd {
        Cmd::Help => {
            println!("{usage}");
            Ok(())
        }
        Cmd::NotUnderTest => {
            println!("{name}: a benchmark, not a test; {how_to_run} (see -- --help)");
            Ok(())
        }
        Cmd::Run(options) => run(options),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{name}: error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS:`, `VmHWM:`), in KiB.
pub(crate) fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}
