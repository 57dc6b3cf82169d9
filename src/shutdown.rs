//! OS signals to the one shutdown [`CancellationToken`] that `main` owns.
//!
//! The first SIGTERM or SIGINT cancels the token (the source stops fetching and the
//! pipeline drains); a second one exits the process at once with
//! [`SECOND_SIGNAL_EXIT_CODE`].
//!
//! Must not: do any draining itself, or watch anything but signals.

use tokio_util::sync::CancellationToken;

/// Exit code when a second signal interrupts the drain: 128 + SIGINT, what shells report
/// for an interrupted process.
pub const SECOND_SIGNAL_EXIT_CODE: i32 = 130;

/// Spawns the signal task: the first signal cancels `token`, the second exits at once.
///
/// # Errors
/// When the signal handlers cannot be installed.
pub fn install(token: CancellationToken) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let mut signals = Signals::new()?;
    Ok(tokio::spawn(async move {
        let first = signals.next().await;
        tracing::info!(
            signal = first,
            "Shutdown requested, draining in-flight stories."
        );
        token.cancel();
        let second = signals.next().await;
        tracing::warn!(signal = second, "Second signal, exiting at once.");
        std::process::exit(SECOND_SIGNAL_EXIT_CODE);
    }))
}

/// SIGTERM and SIGINT (Ctrl-C elsewhere).
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Self {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    /// Waits for the next signal and names it.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "ctrl-c"
        }
    }
}
