//! The operations HTTP listener: `/healthz`, `/readyz` and `/metrics`.
//!
//! `/healthz` answers 200 as long as the process can serve a request and no stage has
//! stalled (liveness);
//! `/readyz` answers 200 only while [`Health::is_ready`] holds, else 503 with the reason
//! (readiness: connected, consuming, not shutting down); `/metrics` renders the
//! Prometheus registry. The listener stops gracefully when the shutdown token fires.
//!
//! Must not: take part in story processing, change health flags, or serve anything
//! beyond these three read-only endpoints.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio_util::sync::CancellationToken;

use crate::health::Health;
use crate::metrics::MetricsHandle;

/// The content type Prometheus expects for the text exposition format.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// How often histogram samples are folded into buckets when nobody scrapes, so they
/// cannot pile up in memory between scrapes.
pub const METRICS_UPKEEP_INTERVAL_SECS: u64 = 5;

/// What the handlers need.
#[derive(Clone)]
struct AppState {
    health: Health,
    metrics: MetricsHandle,
}

/// Serves the three endpoints on `listener` until `shutdown` is cancelled, then lets
/// in-flight requests finish and returns.
///
/// # Errors
/// An I/O error from the listener.
pub async fn serve(
    listener: tokio::net::TcpListener,
    health: Health,
    metrics: MetricsHandle,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "HTTP listener started.");
    }
    let upkeep = tokio::spawn(run_metrics_upkeep(metrics.clone(), shutdown.clone()));
    let app = router(AppState { health, metrics });
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await;
    shutdown.cancel();
    // The upkeep loop ends with the token; it has nothing to report.
    let _ = upkeep.await;
    tracing::info!("HTTP listener stopped.");
    result
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.health.is_stalled() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "stalled: a stage held one story past pipeline.stall_timeout",
        )
    } else {
        (StatusCode::OK, "ok")
    }
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match not_ready_reason(&state.health) {
        None => (StatusCode::OK, "ready"),
        Some(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason),
    }
}

/// Why the worker is not ready, or `None` when it is.
fn not_ready_reason(health: &Health) -> Option<&'static str> {
    if health.is_stalled() {
        Some("not ready: stalled")
    } else if health.is_ready() {
        None
    } else if !health.is_connected() {
        Some("not ready: not connected to the bus")
    } else {
        Some("not ready: not consuming, or shutting down")
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)],
        state.metrics.render(),
    )
}

/// Folds histogram samples into buckets every few seconds until shutdown.
async fn run_metrics_upkeep(metrics: MetricsHandle, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(METRICS_UPKEEP_INTERVAL_SECS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => metrics.run_upkeep(),
        }
    }
}

/// How long `wire-enricher healthcheck` waits for the listener before it reports failure.
pub const PROBE_TIMEOUT_SECS: u64 = 3;

/// Asks a running worker's listener for `path` (e.g. `/healthz`) and returns the HTTP
/// status code. This backs `wire-enricher healthcheck`, the container `HEALTHCHECK` of an
/// image that has no shell or curl. A wildcard listen address (`0.0.0.0`, `::`) is probed
/// on loopback. Blocking on purpose: it is a one-shot CLI call, not part of the daemon.
///
/// # Errors
/// Connection, timeout and I/O errors, and a response that is not HTTP.
pub fn probe(listen: std::net::SocketAddr, path: &str) -> std::io::Result<u16> {
    use std::io::{Read, Write};
    let mut addr = listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    let timeout = Duration::from_secs(PROBE_TIMEOUT_SECS);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head)?;
    let line = std::str::from_utf8(&head[..n]).unwrap_or("");
    line.strip_prefix("HTTP/1.1 ")
        .or_else(|| line.strip_prefix("HTTP/1.0 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    struct Server {
        addr: std::net::SocketAddr,
        shutdown: CancellationToken,
        task: tokio::task::JoinHandle<std::io::Result<()>>,
    }

    async fn start(health: Health) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let metrics = crate::metrics::install().expect("metrics recorder");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(serve(listener, health, metrics, shutdown.clone()));
        Server {
            addr,
            shutdown,
            task,
        }
    }

    /// One HTTP/1.1 GET over a plain TCP stream: (status code, headers, body).
    async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String, String) {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read");
        let text = String::from_utf8(raw).expect("utf-8 response");
        let (head, body) = text.split_once("\r\n\r\n").expect("header/body split");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status code");
        (status, head.to_ascii_lowercase(), body.to_owned())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn probe_reads_the_status_code_and_maps_wildcard_to_loopback() {
        let server = start(Health::new()).await;
        let wildcard = std::net::SocketAddr::from(([0, 0, 0, 0], server.addr.port()));
        let codes = tokio::task::spawn_blocking(move || {
            (
                probe(wildcard, "/healthz").ok(),
                probe(wildcard, "/readyz").ok(),
            )
        })
        .await
        .expect("join");
        assert_eq!(codes, (Some(200), Some(503)));
        server.shutdown.cancel();
        server.task.await.expect("join").expect("clean stop");
        let closed = tokio::task::spawn_blocking(move || probe(wildcard, "/healthz"))
            .await
            .expect("join");
        assert!(closed.is_err(), "a stopped listener must fail the probe");
    }

    #[tokio::test]
    async fn healthz_is_ok_while_running() {
        let server = start(Health::new()).await;
        let (status, _, body) = get(server.addr, "/healthz").await;
        assert_eq!((status, body.as_str()), (200, "ok"));
        server.shutdown.cancel();
        server.task.await.expect("join").expect("clean stop");
    }

    #[tokio::test]
    async fn healthz_and_readyz_fail_once_a_stage_stalled() {
        let health = Health::new();
        health.set_connected(true);
        health.set_consuming(true);
        let server = start(health.clone()).await;
        health.set_stalled();
        let (status, _, body) = get(server.addr, "/healthz").await;
        assert_eq!(status, 503);
        assert!(body.starts_with("stalled"), "{body}");
        let (status, _, body) = get(server.addr, "/readyz").await;
        assert_eq!((status, body.as_str()), (503, "not ready: stalled"));
        server.shutdown.cancel();
        server.task.await.expect("join").expect("clean stop");
    }

    #[tokio::test]
    async fn readyz_flips_from_503_to_200_and_back() {
        let health = Health::new();
        let server = start(health.clone()).await;

        let (status, _, body) = get(server.addr, "/readyz").await;
        assert_eq!(status, 503);
        assert!(body.contains("not connected"), "{body}");

        health.set_connected(true);
        let (status, _, body) = get(server.addr, "/readyz").await;
        assert_eq!(status, 503);
        assert!(body.contains("not consuming"), "{body}");

        health.set_consuming(true);
        let (status, _, _) = get(server.addr, "/readyz").await;
        assert_eq!(status, 200);

        health.set_shutting_down();
        let (status, _, _) = get(server.addr, "/readyz").await;
        assert_eq!(status, 503);

        server.shutdown.cancel();
        server.task.await.expect("join").expect("clean stop");
    }

    #[tokio::test]
    async fn metrics_renders_prometheus_text() {
        let server = start(Health::new()).await;
        crate::metrics::story_in(11);
        let (status, head, body) = get(server.addr, "/metrics").await;
        assert_eq!(status, 200);
        assert!(
            head.contains("content-type: text/plain; version=0.0.4"),
            "{head}"
        );
        for name in crate::metrics::ALL_METRICS {
            assert!(body.contains(name), "{name} missing from:\n{body}");
        }
        server.shutdown.cancel();
        server.task.await.expect("join").expect("clean stop");
    }

    #[tokio::test]
    async fn unknown_path_is_404_and_shutdown_closes_the_port() {
        let server = start(Health::new()).await;
        let (status, _, _) = get(server.addr, "/nope").await;
        assert_eq!(status, 404);
        server.shutdown.cancel();
        server.task.await.expect("join").expect("clean stop");
        assert!(TcpStream::connect(server.addr).await.is_err());
    }
}
