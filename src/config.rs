//! Configuration: a TOML file (optional) plus `WIRE_ENRICHER__SECTION__KEY` environment
//! overrides, deserialised into typed, validated [`Config`] structs with defaults.
//!
//! The doc comments on the fields are the user documentation; `config/default.toml`
//! mirrors them key by key. Unknown keys and bad values are rejected at startup with an
//! error naming the key.
//!
//! Must not: connect to anything, read secret files (that happens when the bus connects),
//! or print secrets — [`Secret`] redacts itself in `Debug` and when serialised.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// Prefix of the environment variables that override configuration keys.
pub const ENV_PREFIX: &str = "WIRE_ENRICHER__";

/// Why the configuration could not be loaded.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML.
    #[error("config file {path} is not valid TOML")]
    Toml {
        /// The file.
        path: PathBuf,
        /// The TOML error.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// An environment variable does not name a `section.key`.
    #[error("environment variable {var} must look like {ENV_PREFIX}SECTION__KEY")]
    EnvName {
        /// The variable's name.
        var: String,
    },
    /// A key is unknown or its value is invalid.
    #[error("config key `{key}`: {message}")]
    Key {
        /// The dotted key (`input.ack_wait`).
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

/// The whole worker configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Connection to NATS.
    pub nats: NatsConfig,
    /// Where raw stories come from.
    pub input: InputConfig,
    /// Where enriched records go.
    pub output: OutputConfig,
    /// Where stories that cannot be enriched go.
    pub dead_letter: DeadLetterConfig,
    /// Channel sizes and CPU parallelism.
    pub pipeline: PipelineConfig,
    /// Input limits.
    pub limits: LimitsConfig,
    /// The entity model.
    pub entities: EntitiesConfig,
    /// The health and metrics listener.
    pub http: HttpConfig,
    /// Logging.
    pub log: LogConfig,
    /// Graceful shutdown.
    pub shutdown: ShutdownConfig,
}

/// `[nats]`: servers, authentication and TLS.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NatsConfig {
    /// Server URL, or a comma-separated list of them (the client picks and fails over).
    pub url: String,
    /// A `.creds` file (JWT + nkey seed) for decentralised auth.
    pub credentials_file: Option<PathBuf>,
    /// A file holding an nkey seed (`SU...`).
    pub nkey_seed_file: Option<PathBuf>,
    /// A file holding the auth token.
    pub token_file: Option<PathBuf>,
    /// The auth token itself; prefer `token_file` or the environment.
    pub token: Option<Secret>,
    /// User name for user/password auth.
    pub user: Option<String>,
    /// A file holding the password for `user`.
    pub password_file: Option<PathBuf>,
    /// The password itself; prefer `password_file` or the environment.
    pub password: Option<Secret>,
    /// CA certificate(s) to trust, PEM; setting it requires TLS.
    pub tls_ca: Option<PathBuf>,
    /// Client certificate, PEM (with `tls_key`).
    pub tls_cert: Option<PathBuf>,
    /// Client private key, PEM (with `tls_cert`).
    pub tls_key: Option<PathBuf>,
    /// How long one connection attempt may take.
    #[serde(with = "duration_str")]
    pub connect_timeout: Duration,
    /// Reconnect attempts after a lost connection; 0 means unlimited.
    pub max_reconnects: usize,
    /// The longest wait between two reconnect attempts (the delay grows up to it).
    #[serde(with = "duration_str")]
    pub reconnect_max_delay: Duration,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self {
            url: "nats://127.0.0.1:4222".to_owned(),
            credentials_file: None,
            nkey_seed_file: None,
            token_file: None,
            token: None,
            user: None,
            password_file: None,
            password: None,
            tls_ca: None,
            tls_cert: None,
            tls_key: None,
            connect_timeout: Duration::from_secs(5),
            max_reconnects: 0,
            reconnect_max_delay: Duration::from_secs(5),
        }
    }
}

impl fmt::Debug for NatsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsConfig")
            .field("url", &self.redacted_url())
            .field("credentials_file", &self.credentials_file)
            .field("nkey_seed_file", &self.nkey_seed_file)
            .field("token_file", &self.token_file)
            .field("token", &self.token)
            .field("user", &self.user)
            .field("password_file", &self.password_file)
            .field("password", &self.password)
            .field("tls_ca", &self.tls_ca)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_reconnects", &self.max_reconnects)
            .field("reconnect_max_delay", &self.reconnect_max_delay)
            .finish()
    }
}

impl NatsConfig {
    /// `url` with any password inside it replaced by `<redacted>`: safe to log.
    pub fn redacted_url(&self) -> String {
        self.servers()
            .iter()
            .map(|u| redact_url(u))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The server URLs, split on commas and trimmed.
    pub fn servers(&self) -> Vec<String> {
        self.url
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The authentication methods that are set, each named by the key that sets it
    /// (`user` for user and password): the worker presents one, so [`Config::validate`]
    /// rejects more than one. Credentials inside `url` are the server's to read, not counted.
    fn auth_methods(&self) -> Vec<&'static str> {
        [
            ("credentials_file", self.credentials_file.is_some()),
            ("nkey_seed_file", self.nkey_seed_file.is_some()),
            // Both token keys together are rejected before this is asked.
            ("token_file", self.token_file.is_some()),
            ("token", self.token.is_some()),
            ("user", self.user.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }
}

/// How the worker consumes its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputMode {
    /// A JetStream durable pull consumer: at-least-once, shared by all workers.
    Jetstream,
    /// A core NATS queue-group subscription: at-most-once (no acks, no redelivery).
    Core,
}

/// `[input]`: the raw story stream and the durable consumer on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InputConfig {
    /// `jetstream` (at-least-once) or `core` (queue group, at-most-once).
    pub mode: InputMode,
    /// Input stream name; created when missing.
    pub stream: String,
    /// Subjects of the input stream (and of the core subscription).
    #[serde(deserialize_with = "string_list")]
    pub subjects: Vec<String>,
    /// Durable consumer name; every worker with the same name shares the work.
    pub durable: String,
    /// How long the server waits for an ack before redelivering. The worker sends
    /// in-progress acks for long work, so this bounds the silence of a dead worker.
    #[serde(with = "duration_str")]
    pub ack_wait: Duration,
    /// Deliveries before a failing story goes to the dead-letter subject.
    pub max_deliver: i64,
    /// Unacked messages the server lets the consumer have outstanding.
    pub max_ack_pending: i64,
    /// Messages asked for per pull request.
    pub batch: usize,
    /// How long one pull request waits for messages before it is renewed.
    #[serde(with = "duration_str")]
    pub fetch_expires: Duration,
    /// Queue group name for `core` mode.
    pub queue_group: String,
    /// Replicas of the input stream when the worker creates it.
    pub replicas: usize,
}

impl Default for InputConfig {
    fn default() -> Self {
        Self {
            mode: InputMode::Jetstream,
            stream: "STORIES_RAW".to_owned(),
            subjects: vec!["stories.raw".to_owned()],
            durable: "wire-enricher".to_owned(),
            ack_wait: Duration::from_secs(30),
            max_deliver: 5,
            max_ack_pending: 1000,
            batch: 64,
            fetch_expires: Duration::from_secs(5),
            queue_group: "wire-enricher".to_owned(),
            replicas: 1,
        }
    }
}

/// `[output]`: the enriched record stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    /// Output stream name; created when missing.
    pub stream: String,
    /// Subject records are published to.
    pub subject: String,
    /// Window in which a repeated `Nats-Msg-Id` is dropped by the server; must cover the
    /// longest redelivery delay so redeliveries never duplicate records.
    #[serde(with = "duration_str")]
    pub duplicate_window: Duration,
    /// Replicas of the output stream when the worker creates it.
    pub replicas: usize,
    /// How long to wait for the server's publish ack before the story is retried.
    #[serde(with = "duration_str")]
    pub publish_timeout: Duration,
}

impl Default for OutputConfig {
    fn default() -> Self {
        Self {
            stream: "STORIES_ENRICHED".to_owned(),
            subject: "stories.enriched".to_owned(),
            duplicate_window: Duration::from_secs(300),
            replicas: 1,
            publish_timeout: Duration::from_secs(5),
        }
    }
}

/// `[dead_letter]`: where unparseable or undeliverable stories go, with their bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeadLetterConfig {
    /// Dead-letter stream name; created when missing.
    pub stream: String,
    /// Subject dead letters are published to.
    pub subject: String,
    /// Replicas of the dead-letter stream when the worker creates it.
    pub replicas: usize,
}

impl Default for DeadLetterConfig {
    fn default() -> Self {
        Self {
            stream: "STORIES_DEAD".to_owned(),
            subject: "stories.dead".to_owned(),
            replicas: 1,
        }
    }
}

/// `[pipeline]`: channel capacities and CPU parallelism.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Capacity of every channel between two stages; a full channel slows fetching.
    pub channel_capacity: usize,
    /// Threads of each CPU stage (each takes the next story plus a share of those queued,
    /// 1 to 8 stories at a time); 0 means the number of cores.
    pub parallelism: usize,
    /// How long one stage may hold one story before the worker counts it as stalled,
    /// fails `/healthz` and exits for its supervisor to restart it; 0 turns this off.
    #[serde(with = "duration_str")]
    pub stall_timeout: Duration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            channel_capacity: 64,
            parallelism: 0,
            stall_timeout: Duration::from_secs(60),
        }
    }
}

impl PipelineConfig {
    /// `stall_timeout`, or `None` when it is 0 (off).
    pub fn stall_limit(&self) -> Option<Duration> {
        Some(self.stall_timeout).filter(|limit| !limit.is_zero())
    }

    /// `parallelism`, with 0 resolved to the number of cores.
    pub fn effective_parallelism(&self) -> usize {
        if self.parallelism > 0 {
            return self.parallelism;
        }
        std::thread::available_parallelism().map_or(1, usize::from)
    }
}

/// `[limits]`: what the worker accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Larger stories are dead-lettered as `too_large`.
    pub max_story_bytes: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_story_bytes: 1024 * 1024,
        }
    }
}

/// `[entities]`: which entity model the worker uses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EntitiesConfig {
    /// A model file written by `wire-enricher train-ner` to use instead of the model
    /// embedded in the binary (unset: the embedded one). It must have been trained with
    /// the embedded gazetteer; a mismatch stops the worker at startup.
    pub model_file: Option<PathBuf>,
}

/// `[http]`: `/healthz`, `/readyz` and `/metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Listen address (`host:port`); port 0 picks a free port.
    pub listen: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9464".to_owned(),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `[log]`: format and filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// An `EnvFilter` directive (`info`, `wire_enricher=debug,async_nats=warn`).
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info,async_nats=warn".to_owned(),
        }
    }
}

/// `[shutdown]`: the graceful drain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShutdownConfig {
    /// Longest time from the first signal to exit; in-flight work not done by then is
    /// left unacked (the server redelivers it).
    #[serde(with = "duration_str")]
    pub timeout: Duration,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(20),
        }
    }
}

/// A secret string: never shown by `Debug`, serialised as `"<redacted>"`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret value; only for handing to the NATS client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("<redacted>")
    }
}

impl Config {
    /// Loads the defaults, then `file` (if given), then the `WIRE_ENRICHER__*` variables of
    /// the process environment, and validates the result.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the file, variable or key at fault.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(file, std::env::vars())
    }

    /// [`Config::load`] with the environment passed in (for tests).
    ///
    /// # Errors
    /// See [`Config::load`].
    pub fn load_with_env(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut table = match file {
            Some(path) => read_table(path)?,
            None => toml::Table::new(),
        };
        let typed = apply_env(&mut table, env)?;
        // A value like `42` from the environment is first read as a number; when the key
        // wants a string, read it again as the string it was.
        let mut retried = BTreeMap::new();
        loop {
            match Self::deserialize_table(table.clone()) {
                Err(ConfigError::Key { key, .. })
                    if typed.contains_key(&key) && !retried.contains_key(&key) =>
                {
                    let raw = typed[&key].clone();
                    if let Some((section, name)) = key.split_once('.') {
                        if let Some(toml::Value::Table(t)) = table.get_mut(section) {
                            t.insert(name.to_owned(), toml::Value::String(raw.clone()));
                        }
                    }
                    retried.insert(key, raw);
                }
                Err(e) => return Err(e),
                Ok(config) => {
                    config.validate()?;
                    return Ok(config);
                }
            }
        }
    }

    /// Parses a TOML document (no environment), validating it.
    ///
    /// # Errors
    /// See [`Config::load`].
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let table: toml::Table = text.parse().map_err(|e| ConfigError::Toml {
            path: PathBuf::from("<string>"),
            source: Box::new(e),
        })?;
        Self::from_table(table)
    }

    fn from_table(table: toml::Table) -> Result<Self, ConfigError> {
        let config = Self::deserialize_table(table)?;
        config.validate()?;
        Ok(config)
    }

    fn deserialize_table(table: toml::Table) -> Result<Self, ConfigError> {
        serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().message().to_owned();
            ConfigError::Key {
                key: full_key(&path, &message),
                message,
            }
        })
    }

    /// Checks what types cannot: non-empty names, positive sizes, paired files.
    ///
    /// # Errors
    /// [`ConfigError::Key`] for the first bad key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, message: &str| {
            Err(ConfigError::Key {
                key: key.to_owned(),
                message: message.to_owned(),
            })
        };
        if self.nats.servers().is_empty() {
            return bad("nats.url", "at least one server URL is required");
        }
        for server in self.nats.servers() {
            if server.parse::<async_nats::ServerAddr>().is_err() {
                return Err(ConfigError::Key {
                    key: "nats.url".to_owned(),
                    message: format!("{} is not a NATS server URL", redact_url(&server)),
                });
            }
        }
        if self.nats.tls_cert.is_some() != self.nats.tls_key.is_some() {
            return bad("nats.tls_cert", "tls_cert and tls_key must be set together");
        }
        if self.nats.token.is_some() && self.nats.token_file.is_some() {
            return bad("nats.token", "set token or token_file, not both");
        }
        if self.nats.password.is_some() && self.nats.password_file.is_some() {
            return bad("nats.password", "set password or password_file, not both");
        }
        if (self.nats.password.is_some() || self.nats.password_file.is_some())
            && self.nats.user.is_none()
        {
            return bad("nats.user", "a password needs a user");
        }
        let methods = self.nats.auth_methods();
        if let [first, second, ..] = methods.as_slice() {
            return Err(ConfigError::Key {
                key: format!("nats.{second}"),
                message: format!(
                    "set one authentication method, not several (found {first} and {second})"
                ),
            });
        }
        let names = [
            ("input.stream", &self.input.stream),
            ("input.durable", &self.input.durable),
            ("input.queue_group", &self.input.queue_group),
            ("output.stream", &self.output.stream),
            ("output.subject", &self.output.subject),
            ("dead_letter.stream", &self.dead_letter.stream),
            ("dead_letter.subject", &self.dead_letter.subject),
        ];
        for (key, value) in names {
            if value.trim().is_empty() {
                return bad(key, "must not be empty");
            }
        }
        if self.input.subjects.is_empty() || self.input.subjects.iter().any(|s| s.is_empty()) {
            return bad(
                "input.subjects",
                "at least one non-empty subject is required",
            );
        }
        let positive = [
            ("input.max_deliver", self.input.max_deliver),
            ("input.max_ack_pending", self.input.max_ack_pending),
            ("input.batch", self.input.batch as i64),
            ("input.replicas", self.input.replicas as i64),
            ("output.replicas", self.output.replicas as i64),
            ("dead_letter.replicas", self.dead_letter.replicas as i64),
            (
                "pipeline.channel_capacity",
                self.pipeline.channel_capacity as i64,
            ),
            ("limits.max_story_bytes", self.limits.max_story_bytes as i64),
        ];
        for (key, value) in positive {
            if value < 1 {
                return bad(key, "must be at least 1");
            }
        }
        let durations = [
            ("nats.connect_timeout", self.nats.connect_timeout),
            ("nats.reconnect_max_delay", self.nats.reconnect_max_delay),
            ("input.ack_wait", self.input.ack_wait),
            ("input.fetch_expires", self.input.fetch_expires),
            ("output.duplicate_window", self.output.duplicate_window),
            ("output.publish_timeout", self.output.publish_timeout),
            ("shutdown.timeout", self.shutdown.timeout),
        ];
        for (key, value) in durations {
            if value.is_zero() {
                return bad(key, "must be longer than zero");
            }
        }
        if self.input.ack_wait < Duration::from_secs(1) {
            return bad("input.ack_wait", "must be at least 1s");
        }
        if self.http.listen.parse::<std::net::SocketAddr>().is_err() {
            return bad("http.listen", "must be an address like 127.0.0.1:9464");
        }
        Ok(())
    }

    /// The configuration as TOML with secrets (and passwords inside URLs) redacted: what
    /// `wire-enricher print-config` shows.
    pub fn to_redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.nats.url = self.nats.redacted_url();
        toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }
}

/// The dotted key an error is about: serde reports an unknown field at its parent's
/// path, so the field's own name is appended from the message.
fn full_key(path: &str, message: &str) -> String {
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    match unknown {
        Some(name) if path == "." || path.is_empty() => name.to_owned(),
        Some(name) if !path.ends_with(name) => format!("{path}.{name}"),
        _ => path.to_owned(),
    }
}

/// Hides the password part of `scheme://user:password@host`.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:<redacted>@{host}"),
        None => format!("{scheme}://<redacted>@{host}"),
    }
}

fn read_table(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    text.parse().map_err(|e| ConfigError::Toml {
        path: path.to_owned(),
        source: Box::new(e),
    })
}

/// Writes every `WIRE_ENRICHER__SECTION__KEY=value` into `table` as `section.key`.
/// Values that parse as a TOML value (number, bool, array) are taken as such; anything
/// else is a string. Returns the keys whose value was typed, with their raw text.
fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut typed = BTreeMap::new();
    let overrides: BTreeMap<String, String> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX))
        .collect();
    for (var, raw) in overrides {
        let rest = &var[ENV_PREFIX.len()..];
        let Some((section, key)) = rest.split_once("__") else {
            return Err(ConfigError::EnvName { var });
        };
        if section.is_empty() || key.is_empty() || key.contains("__") {
            return Err(ConfigError::EnvName { var });
        }
        let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
        let entry = table
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(section_table) = entry else {
            return Err(ConfigError::Key {
                key: section,
                message: "must be a table".to_owned(),
            });
        };
        let value = env_value(&raw);
        if !value.is_str() {
            typed.insert(format!("{section}.{key}"), raw);
        }
        section_table.insert(key, value);
    }
    Ok(typed)
}

fn env_value(raw: &str) -> toml::Value {
    let trimmed = raw.trim();
    let looks_typed = trimmed.starts_with('[')
        || trimmed == "true"
        || trimmed == "false"
        || (!trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()));
    if looks_typed {
        if let Ok(value) = toml::Value::from_str(trimmed) {
            return value;
        }
    }
    toml::Value::String(raw.to_owned())
}

/// Accepts a list of strings or one comma-separated string.
fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(
        match OneOrMany::deserialize(d).map_err(|_| {
            serde::de::Error::custom("expected a list of strings or a comma-separated string")
        })? {
            OneOrMany::One(s) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            OneOrMany::Many(v) => v,
        },
    )
}

/// Parses `"30s"`, `"1m 30s"`, `"250ms"`, `"2h"` (jiff's friendly format) into a duration.
///
/// # Errors
/// A message saying what was expected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let signed: jiff::SignedDuration = text.trim().parse().map_err(|e| {
        format!("invalid duration {text:?} (expected e.g. \"30s\", \"250ms\", \"1m 30s\"): {e}")
    })?;
    Duration::try_from(signed).map_err(|_| format!("duration {text:?} must not be negative"))
}

/// Formats a duration the way [`parse_duration`] reads it.
pub fn format_duration(duration: Duration) -> String {
    match jiff::SignedDuration::try_from(duration) {
        Ok(d) => format!("{d:#}"),
        Err(_) => format!("{}s", duration.as_secs()),
    }
}

/// serde adapter: durations as friendly strings.
mod duration_str {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_duration(*d))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn key_error(result: Result<Config, ConfigError>) -> (String, String) {
        match result {
            Err(ConfigError::Key { key, message }) => (key, message),
            other => panic!("expected a key error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_load_and_validate() {
        let config = Config::load_with_env(None, Vec::new()).unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.nats.url, "nats://127.0.0.1:4222");
        assert_eq!(config.input.stream, "STORIES_RAW");
        assert_eq!(config.input.subjects, vec!["stories.raw"]);
        assert_eq!(config.output.subject, "stories.enriched");
        assert_eq!(config.dead_letter.stream, "STORIES_DEAD");
        assert_eq!(config.http.listen, "127.0.0.1:9464");
    }

    #[test]
    fn shipped_default_toml_equals_the_built_in_defaults() {
        let text = include_str!("../config/default.toml");
        assert_eq!(Config::from_toml_str(text).unwrap(), Config::default());
    }

    #[test]
    fn env_overrides_file_values_and_types() {
        let config = Config::load_with_env(
            None,
            env(&[
                ("WIRE_ENRICHER__INPUT__ACK_WAIT", "1m 30s"),
                ("WIRE_ENRICHER__INPUT__BATCH", "7"),
                ("WIRE_ENRICHER__INPUT__SUBJECTS", "a.raw, b.raw"),
                ("WIRE_ENRICHER__INPUT__MODE", "core"),
                ("WIRE_ENRICHER__NATS__URL", "nats://a:4222,nats://b:4222"),
                ("WIRE_ENRICHER__LOG__FORMAT", "json"),
                ("OTHER", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(config.input.ack_wait, Duration::from_secs(90));
        assert_eq!(config.input.batch, 7);
        assert_eq!(config.input.subjects, vec!["a.raw", "b.raw"]);
        assert_eq!(config.input.mode, InputMode::Core);
        assert_eq!(
            config.nats.servers(),
            vec!["nats://a:4222", "nats://b:4222"]
        );
        assert_eq!(config.log.format, LogFormat::Json);
    }

    #[test]
    fn numeric_looking_strings_stay_strings_where_strings_are_expected() {
        let config = Config::load_with_env(
            None,
            env(&[
                ("WIRE_ENRICHER__INPUT__DURABLE", "42"),
                ("WIRE_ENRICHER__INPUT__MAX_DELIVER", "3"),
            ]),
        )
        .unwrap();
        assert_eq!(config.input.durable, "42");
        assert_eq!(config.input.max_deliver, 3);
        let (key, _) = key_error(Config::load_with_env(
            None,
            env(&[("WIRE_ENRICHER__INPUT__BATCH", "many")]),
        ));
        assert_eq!(key, "input.batch");
    }

    #[test]
    fn unknown_key_is_rejected_with_its_name() {
        let (key, message) = key_error(Config::from_toml_str("[input]\nack_wiat = \"3s\"\n"));
        assert_eq!(key, "input.ack_wiat");
        assert!(message.contains("expected one of"), "{message}");
        let (key, message) = key_error(Config::load_with_env(
            None,
            env(&[("WIRE_ENRICHER__OUTPUT__SUBJCT", "x")]),
        ));
        assert_eq!(key, "output.subjct");
        assert!(message.contains("subject"), "{message}");
    }

    #[test]
    fn unknown_section_is_rejected() {
        let (key, _) = key_error(Config::from_toml_str("[nope]\nx = 1\n"));
        assert_eq!(key, "nope");
    }

    #[test]
    fn bad_duration_names_the_key() {
        let (key, message) = key_error(Config::from_toml_str("[input]\nack_wait = \"soon\"\n"));
        assert_eq!(key, "input.ack_wait");
        assert!(message.contains("soon"), "{message}");
        let (key, _) = key_error(Config::from_toml_str("[shutdown]\ntimeout = \"-3s\"\n"));
        assert_eq!(key, "shutdown.timeout");
    }

    #[test]
    fn bad_values_are_rejected_by_validation() {
        let (key, _) = key_error(Config::from_toml_str("[input]\nbatch = 0\n"));
        assert_eq!(key, "input.batch");
        let (key, _) = key_error(Config::from_toml_str("[http]\nlisten = \"nowhere\"\n"));
        assert_eq!(key, "http.listen");
        let (key, _) = key_error(Config::from_toml_str("[nats]\ntls_cert = \"c.pem\"\n"));
        assert_eq!(key, "nats.tls_cert");
        let (key, _) = key_error(Config::from_toml_str("[input]\nmode = \"kafka\"\n"));
        assert_eq!(key, "input.mode");
        let (key, _) = key_error(Config::from_toml_str(
            "[nats]\nurl = \"nats://a:4222,http://[::1\"\n",
        ));
        assert_eq!(key, "nats.url");
    }

    #[test]
    fn more_than_one_authentication_method_is_rejected() {
        let (key, message) = key_error(Config::from_toml_str(
            "[nats]\ncredentials_file = \"w.creds\"\ntoken_file = \"t\"\n",
        ));
        assert_eq!(key, "nats.token_file");
        assert!(
            message.contains("credentials_file and token_file"),
            "{message}"
        );
        let (key, _) = key_error(Config::from_toml_str(
            "[nats]\nnkey_seed_file = \"w.nk\"\nuser = \"u\"\npassword_file = \"p\"\n",
        ));
        assert_eq!(key, "nats.user");
        for one in [
            "credentials_file = \"w.creds\"",
            "nkey_seed_file = \"w.nk\"",
            "token_file = \"t\"",
            "user = \"u\"\npassword_file = \"p\"",
        ] {
            let config = Config::from_toml_str(&format!("[nats]\n{one}\n"));
            assert!(config.is_ok(), "{one}: {config:?}");
        }
    }

    #[test]
    fn bad_env_name_is_rejected() {
        let result = Config::load_with_env(None, env(&[("WIRE_ENRICHER__BATCH", "3")]));
        assert!(
            matches!(result, Err(ConfigError::EnvName { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn secrets_are_redacted_everywhere_they_are_shown() {
        let config = Config::load_with_env(
            None,
            env(&[
                ("WIRE_ENRICHER__NATS__USER", "bob"),
                ("WIRE_ENRICHER__NATS__PASSWORD", "hunter2"),
                ("WIRE_ENRICHER__NATS__URL", "nats://bob:hunter2@host:4222"),
            ]),
        )
        .unwrap();
        let shown = config.to_redacted_toml();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(!format!("{config:?}").contains("hunter2"));
        assert_eq!(config.nats.password.as_ref().unwrap().expose(), "hunter2");
    }

    #[test]
    fn redacted_toml_reads_back_for_non_secret_keys() {
        let config = Config::default();
        let back = Config::from_toml_str(&config.to_redacted_toml()).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn durations_round_trip() {
        for text in ["30s", "250ms", "1m 30s", "2h"] {
            let d = parse_duration(text).unwrap();
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d, "{text}");
        }
        assert!(parse_duration("").is_err());
        assert!(parse_duration("3 parsecs").is_err());
    }
}
