//! A real 3-node `nats-server` JetStream cluster on loopback for the cluster tests and the
//! soak bench: free client, route and monitoring ports per node, one cluster name, every
//! node routing to every other, a distinct `server_name` and its own store directory.
//! Nodes can be SIGKILLed and restarted on the same ports and store; helpers find which
//! node leads a stream and wait until the cluster (or a stream) has a leader again.
//!
//! Self-contained (std, tempfile, tokio, async-nats) so `benches/soak.rs` includes it with
//! `#[path]`. Must not: mock NATS, leave a server running (every node is killed on drop),
//! or skip when `nats-server` is missing (it panics with a hint).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream;

/// How many nodes [`NatsCluster::start`] runs.
pub(crate) const NODES: usize = 3;

/// One node of the cluster: its ports, store and process.
pub(crate) struct ClusterNode {
    /// `server_name`, as JetStream reports it in `cluster.leader`.
    pub(crate) name: String,
    /// Client port.
    pub(crate) port: u16,
    /// Route (cluster) port.
    pub(crate) route_port: u16,
    /// Monitoring port (`/healthz`).
    pub(crate) http_port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    args: Vec<String>,
}

impl ClusterNode {
    /// `nats://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Whether the process is running (not killed by the test).
    pub(crate) fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Everything the node logged so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))
            .expect("node log");
        let child = Command::new(nats_server_binary())
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start `{}` ({e}). The cluster tests need a real NATS server: \
                     install it with `apt-get install -y nats-server`, or point \
                     NATS_SERVER_BIN at the binary.",
                    nats_server_binary()
                )
            });
        self.child = Some(child);
    }

    /// SIGKILL and reap; a no-op when already down.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `/healthz` answers 200: the node is up, knows the JetStream meta leader and its
    /// streams and consumers are current.
    pub(crate) fn healthy(&self) -> bool {
        self.is_running() && http_status(self.http_port, "/healthz") == Some(200)
    }
}

/// A 3-node JetStream cluster, torn down on drop.
pub(crate) struct NatsCluster {
    nodes: Vec<ClusterNode>,
}

impl NatsCluster {
    /// Starts three nodes and waits until every one is healthy (JetStream meta leader
    /// elected, all nodes current).
    pub(crate) fn start() -> Self {
        Self::start_nodes(NODES)
    }

    /// Starts `count` routed nodes (at least 3 for JetStream replication to make sense).
    pub(crate) fn start_nodes(count: usize) -> Self {
        let cluster_name = format!("we_{}_{}", std::process::id(), next_id());
        let ports: Vec<(u16, u16, u16)> = free_ports(3 * count)
            .chunks_exact(3)
            .map(|p| (p[0], p[1], p[2]))
            .collect();
        let routes = ports
            .iter()
            .map(|(_, route, _)| format!("nats://127.0.0.1:{route}"))
            .collect::<Vec<_>>()
            .join(",");
        let nodes = ports
            .iter()
            .enumerate()
            .map(|(i, &(port, route_port, http_port))| {
                let dir = tempfile::tempdir().expect("node temp dir");
                let name = format!("{cluster_name}_n{i}");
                let args = vec![
                    "-js".to_owned(),
                    "-a".to_owned(),
                    "127.0.0.1".to_owned(),
                    "-p".to_owned(),
                    port.to_string(),
                    "-m".to_owned(),
                    http_port.to_string(),
                    "-sd".to_owned(),
                    dir.path().join("store").display().to_string(),
                    "--server_name".to_owned(),
                    name.clone(),
                    "--cluster_name".to_owned(),
                    cluster_name.clone(),
                    "--cluster".to_owned(),
                    format!("nats://127.0.0.1:{route_port}"),
                    "--routes".to_owned(),
                    routes.clone(),
                ];
                ClusterNode {
                    name,
                    port,
                    route_port,
                    http_port,
                    dir,
                    child: None,
                    args,
                }
            })
            .collect();
        let mut cluster = Self { nodes };
        for node in &mut cluster.nodes {
            node.spawn();
        }
        cluster.wait_all_healthy(Duration::from_secs(60));
        cluster
    }

    /// Every node's client URL, comma-separated (what `nats.url` takes).
    pub(crate) fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(ClusterNode::url)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The nodes.
    pub(crate) fn nodes(&self) -> &[ClusterNode] {
        &self.nodes
    }

    /// Node `i`.
    pub(crate) fn node(&self, i: usize) -> &ClusterNode {
        &self.nodes[i]
    }

    /// The index of the node called `server_name`.
    pub(crate) fn index_of(&self, server_name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == server_name)
    }

    /// SIGKILLs node `i`.
    pub(crate) fn kill(&mut self, i: usize) {
        self.nodes[i].kill();
    }

    /// Starts node `i` again on the same ports with the same store (killing it first if
    /// it still runs) and waits until it is healthy, i.e. has caught up.
    pub(crate) fn restart(&mut self, i: usize) {
        self.nodes[i].kill();
        self.nodes[i].spawn();
        self.wait_healthy(i, Duration::from_secs(60));
    }

    /// Waits until node `i` answers `/healthz` with 200.
    pub(crate) fn wait_healthy(&self, i: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.nodes[i].healthy() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "cluster node {} not healthy within {timeout:?}; log:\n{}",
            self.nodes[i].name,
            self.nodes[i].log()
        );
    }

    /// Waits until every running node is healthy.
    pub(crate) fn wait_all_healthy(&self, timeout: Duration) {
        for (i, node) in self.nodes.iter().enumerate() {
            if node.is_running() {
                self.wait_healthy(i, timeout);
            }
        }
    }

    /// Which node leads `stream` now, from JetStream stream info (`cluster.leader`
    /// matched to a node's `server_name`); None while there is no leader or the info
    /// cannot be read.
    pub(crate) async fn stream_leader(
        &self,
        js: &jetstream::Context,
        stream: &str,
    ) -> Option<usize> {
        let mut handle = js.get_stream(stream).await.ok()?;
        let info = handle.info().await.ok()?;
        let leader = info.cluster.as_ref()?.leader.as_deref()?;
        self.index_of(leader)
    }

    /// Waits until `stream` has a leader that is a running node and returns it; panics
    /// after `timeout`.
    pub(crate) async fn wait_stream_leader(
        &self,
        js: &jetstream::Context,
        stream: &str,
        timeout: Duration,
    ) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self.stream_leader(js, stream).await {
                if self.nodes[i].is_running() {
                    return i;
                }
            }
            assert!(
                Instant::now() < deadline,
                "stream {stream} has no running leader after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until `stream` is led by a running node other than `old` (after `old` was
    /// killed or stepped down) and returns the new leader.
    pub(crate) async fn wait_new_stream_leader(
        &self,
        js: &jetstream::Context,
        stream: &str,
        old: usize,
        timeout: Duration,
    ) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self.stream_leader(js, stream).await {
                if i != old && self.nodes[i].is_running() {
                    return i;
                }
            }
            assert!(
                Instant::now() < deadline,
                "stream {stream} has no new leader after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.kill();
        }
    }
}

/// `nats-server` from `NATS_SERVER_BIN`, else `PATH`.
pub(crate) fn nats_server_binary() -> String {
    std::env::var("NATS_SERVER_BIN").unwrap_or_else(|_| "nats-server".to_owned())
}

fn next_id() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// `count` distinct free TCP ports on localhost. All are held until every one is chosen:
/// ports bound and released one at a time can repeat (a node once got the same port for
/// its monitor and its routes, and failed to start).
fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<std::net::TcpListener> = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local addr").port())
        .collect()
}

/// The status of a bare HTTP/1.0 GET on localhost.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}
