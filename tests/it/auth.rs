//! Integration tests of the NATS auth methods that need generated key material: an nkey
//! seed file, server TLS (`tls_ca`) and mutual TLS (`tls_cert` + `tls_key`). Keys and
//! certificates are made in each test (`nkeys`, `rcgen`); the server gets them through a
//! configuration file in its temp dir.
//!
//! Must not: ship fixed keys or certificates, or pass without a story going through the
//! real worker over the authenticated connection.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::support::*;

/// How long a worker with bad credentials gets to (wrongly) become ready.
const REJECT_GRACE: Duration = Duration::from_secs(2);

fn path_str(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Asserts the server refused a connection for the expected reason, so a rejected
/// worker is not-ready because of its credentials and not for some other fault.
fn assert_server_logged(server: &NatsServer, reason: &str) {
    let log = server.log();
    assert!(
        log.contains(reason),
        "the server should have logged {reason:?}; server log:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nkey_seed_from_a_file_works_and_the_seed_is_never_logged() {
    let user = nkeys::KeyPair::new_user();
    let seed = user.seed().expect("user seed");
    let server = NatsServer::start_with_config(&format!(
        "authorization {{ users = [ {{ nkey: \"{}\" }} ] }}",
        user.public_key()
    ));
    let topology = Topology::unique();
    let dir = tempfile::tempdir().unwrap();
    let seed_file = dir.path().join("user.nk");
    std::fs::write(&seed_file, format!("{seed}\n")).unwrap();
    let stranger = nkeys::KeyPair::new_user();
    let stranger_seed = stranger.seed().expect("stranger seed");
    let stranger_file = dir.path().join("stranger.nk");
    std::fs::write(&stranger_file, &stranger_seed).unwrap();

    let mut authed = Worker::start(
        &topology,
        &server.url(),
        &[
            ("NATS__NKEY_SEED_FILE", path_str(&seed_file).as_str()),
            ("LOG__LEVEL", "debug"),
        ],
    );
    authed.wait_ready(Duration::from_secs(20));
    let rejected = Worker::start(
        &topology,
        &server.url(),
        &[
            ("NATS__NKEY_SEED_FILE", path_str(&stranger_file).as_str()),
            ("LOG__LEVEL", "debug"),
        ],
    );
    tokio::time::sleep(REJECT_GRACE).await;
    assert!(
        !rejected.ready(),
        "a worker with an unknown nkey must not become ready"
    );
    assert!(
        server.log().contains(&format!(
            "authentication error - Nkey \"{}\"",
            stranger.public_key()
        )),
        "the server should have refused the unknown nkey; server log:\n{}",
        server.log()
    );

    let nats = async_nats::ConnectOptions::with_nkey(seed.clone())
        .connect(server.url())
        .await
        .expect("test client with nkey");
    one_record_per_story(nats, &topology, 10).await;
    for (worker, secret) in [(&authed, &seed), (&rejected, &stranger_seed)] {
        assert!(
            !worker.log().contains(secret.as_str()),
            "seed leaked into the log"
        );
    }
}

/// A test certificate authority, a server certificate for `localhost` and `127.0.0.1`
/// and a client certificate, all ECDSA P-256 (what rustls with `ring` and Go both take),
/// written as PEM files into a temp dir.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn generate() -> Self {
        let dir = tempfile::tempdir().expect("pki dir");
        let ca_key = KeyPair::generate().expect("ca key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "wire-enricher test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign ca");
        let issuer = Issuer::new(ca_params, ca_key);
        write(dir.path(), "ca.pem", &ca_cert.pem());

        let leaf = |name: &str, sans: Vec<String>, usage: ExtendedKeyUsagePurpose| {
            let key = KeyPair::generate().expect("leaf key");
            let mut params = CertificateParams::new(sans).expect("leaf params");
            params.distinguished_name.push(DnType::CommonName, name);
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            params.extended_key_usages = vec![usage];
            params.use_authority_key_identifier_extension = true;
            let cert = params.signed_by(&key, &issuer).expect("sign leaf");
            write(dir.path(), &format!("{name}.pem"), &cert.pem());
            write(dir.path(), &format!("{name}-key.pem"), &key.serialize_pem());
        };
        leaf(
            "server",
            vec!["localhost".to_owned(), "127.0.0.1".to_owned()],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        leaf(
            "client",
            vec!["wire-enricher".to_owned()],
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The server's `tls { }` block; `verify` asks for a client certificate signed by
    /// the CA.
    fn server_tls_block(&self, verify: bool) -> String {
        let mut block = format!(
            "tls {{\n  cert_file: \"{}\"\n  key_file: \"{}\"\n  timeout: 2\n",
            self.path("server.pem").display(),
            self.path("server-key.pem").display()
        );
        if verify {
            block.push_str(&format!(
                "  ca_file: \"{}\"\n  verify: true\n",
                self.path("ca.pem").display()
            ));
        }
        block.push('}');
        block
    }

    /// A test client trusting the CA, with the client certificate when `with_cert`.
    async fn client(&self, url: &str, with_cert: bool) -> async_nats::Client {
        let mut options = async_nats::ConnectOptions::new()
            .add_root_certificates(self.path("ca.pem"))
            .require_tls(true);
        if with_cert {
            options = options
                .add_client_certificate(self.path("client.pem"), self.path("client-key.pem"));
        }
        options.connect(url).await.expect("TLS test client")
    }

    /// The base64 body lines of a private key file, none of which may reach a log.
    fn key_lines(&self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.path(name))
            .expect("read key")
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() > 16)
            .map(str::to_owned)
            .collect()
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("write {name}: {e}"));
}

fn tls_url(server: &NatsServer) -> String {
    format!("tls://127.0.0.1:{}", server.port())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_private_ca_works() {
    let pki = Pki::generate();
    let server = NatsServer::start_with_config(&pki.server_tls_block(false));
    let topology = Topology::unique();
    let url = tls_url(&server);
    let ca = path_str(&pki.path("ca.pem"));

    let mut worker = Worker::start(&topology, &url, &[("NATS__TLS_CA", ca.as_str())]);
    worker.wait_ready(Duration::from_secs(20));
    // Without the CA the server's certificate is not trusted.
    let untrusting = Worker::start(&topology, &url, &[]);
    tokio::time::sleep(REJECT_GRACE).await;
    assert!(
        !untrusting.ready(),
        "a worker that does not trust the server's CA must not become ready"
    );
    assert_server_logged(&server, "unknown certificate authority");

    one_record_per_story(pki.client(&url, false).await, &topology, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_needs_the_client_certificate_and_never_logs_the_key() {
    let pki = Pki::generate();
    let server = NatsServer::start_with_config(&pki.server_tls_block(true));
    let topology = Topology::unique();
    let url = tls_url(&server);
    let ca = path_str(&pki.path("ca.pem"));
    let cert = path_str(&pki.path("client.pem"));
    let key = path_str(&pki.path("client-key.pem"));

    let mut authed = Worker::start(
        &topology,
        &url,
        &[
            ("NATS__TLS_CA", ca.as_str()),
            ("NATS__TLS_CERT", cert.as_str()),
            ("NATS__TLS_KEY", key.as_str()),
            ("LOG__LEVEL", "debug"),
        ],
    );
    authed.wait_ready(Duration::from_secs(20));
    let rejected = Worker::start(
        &topology,
        &url,
        &[("NATS__TLS_CA", ca.as_str()), ("LOG__LEVEL", "debug")],
    );
    tokio::time::sleep(REJECT_GRACE).await;
    assert!(
        !rejected.ready(),
        "a worker without a client certificate must not become ready"
    );
    assert_server_logged(&server, "client didn't provide a certificate");

    one_record_per_story(pki.client(&url, true).await, &topology, 10).await;
    for worker in [&authed, &rejected] {
        for line in pki.key_lines("client-key.pem") {
            assert!(
                !worker.log().contains(&line),
                "private key leaked into the log"
            );
        }
    }
}

/// Decentralised auth (operator mode): an operator, a system account, an account with
/// JetStream and a user, as NATS v2 JWTs (`ed25519-nkey`) signed with generated nkeys,
/// loaded into the server through a memory resolver.
struct Operator {
    dir: tempfile::TempDir,
    operator: nkeys::KeyPair,
    system: nkeys::KeyPair,
    account: nkeys::KeyPair,
}

impl Operator {
    fn generate() -> Self {
        Self {
            dir: tempfile::tempdir().expect("jwt dir"),
            operator: nkeys::KeyPair::new_operator(),
            system: nkeys::KeyPair::new_account(),
            account: nkeys::KeyPair::new_account(),
        }
    }

    /// The server configuration: trusted operator, system account, preloaded accounts.
    fn server_config(&self) -> String {
        let operator_jwt = sign_jwt(
            &self.operator,
            &self.operator.public_key(),
            "test-operator",
            serde_json::json!({
                "type": "operator",
                "version": 2,
                "system_account": self.system.public_key(),
            }),
        );
        let operator_file = self.dir.path().join("operator.jwt");
        std::fs::write(&operator_file, &operator_jwt).expect("write operator jwt");
        let account_jwt = |account: &nkeys::KeyPair, name: &str, jetstream: bool| {
            let storage = if jetstream { -1 } else { 0 };
            sign_jwt(
                &self.operator,
                &account.public_key(),
                name,
                serde_json::json!({
                    "type": "account",
                    "version": 2,
                    "limits": {
                        "subs": -1, "data": -1, "payload": -1, "imports": -1,
                        "exports": -1, "wildcards": true, "conn": -1, "leaf": -1,
                        "mem_storage": storage, "disk_storage": storage,
                        "streams": -1, "consumer": -1,
                    },
                    "default_permissions": { "pub": {}, "sub": {} },
                }),
            )
        };
        format!(
            "operator: \"{}\"\nsystem_account: {}\nresolver: MEMORY\n\
             resolver_preload: {{\n  {}: \"{}\"\n  {}: \"{}\"\n}}\n",
            operator_file.display(),
            self.system.public_key(),
            self.system.public_key(),
            account_jwt(&self.system, "SYS", false),
            self.account.public_key(),
            account_jwt(&self.account, "stories", true),
        )
    }

    /// A `.creds` file body for a new user of `account`.
    fn user_creds(account: &nkeys::KeyPair) -> (String, String) {
        let user = nkeys::KeyPair::new_user();
        let jwt = sign_jwt(
            account,
            &user.public_key(),
            "enricher",
            serde_json::json!({
                "type": "user",
                "version": 2,
                "pub": {}, "sub": {},
                "subs": -1, "data": -1, "payload": -1,
            }),
        );
        let seed = user.seed().expect("user seed");
        let creds = format!(
            "-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n\
             ************************* IMPORTANT *************************\n\
             NKEY Seed printed below can be used to sign and prove identity.\n\
             NKEYs are sensitive and should be treated as secrets.\n\n\
             -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n\n\
             *************************************************************\n"
        );
        (creds, seed)
    }
}

/// A NATS v2 JWT: `{"typ":"JWT","alg":"ed25519-nkey"}`, claims with `jti` = base32 of
/// the SHA-512/256 of the claims without it (as the Go library computes it), signed by
/// `issuer` over `header.payload`.
fn sign_jwt(issuer: &nkeys::KeyPair, subject: &str, name: &str, nats: serde_json::Value) -> String {
    use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD};
    use sha2::Digest;
    let issued_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let mut claims = serde_json::json!({
        "jti": "",
        "iat": issued_at,
        "iss": issuer.public_key(),
        "name": name,
        "sub": subject,
        "nats": nats,
    });
    let unhashed = serde_json::to_vec(&claims).expect("claims json");
    claims["jti"] = BASE32_NOPAD
        .encode(&sha2::Sha512_256::digest(&unhashed))
        .into();
    let header = BASE64URL_NOPAD.encode(br#"{"typ":"JWT","alg":"ed25519-nkey"}"#);
    let payload = BASE64URL_NOPAD.encode(&serde_json::to_vec(&claims).expect("claims json"));
    let signed = format!("{header}.{payload}");
    let signature = issuer.sign(signed.as_bytes()).expect("sign jwt");
    format!("{signed}.{}", BASE64URL_NOPAD.encode(&signature))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_file_works_in_operator_mode_and_the_seed_is_never_logged() {
    let operator = Operator::generate();
    let server = NatsServer::start_with_config(&operator.server_config());
    let topology = Topology::unique();
    let dir = tempfile::tempdir().unwrap();
    let (creds, seed) = Operator::user_creds(&operator.account);
    let creds_file = dir.path().join("enricher.creds");
    std::fs::write(&creds_file, &creds).unwrap();
    // A user signed by an account the operator never issued.
    let (rogue_creds, rogue_seed) = Operator::user_creds(&nkeys::KeyPair::new_account());
    let rogue_file = dir.path().join("rogue.creds");
    std::fs::write(&rogue_file, &rogue_creds).unwrap();

    let mut authed = Worker::start(
        &topology,
        &server.url(),
        &[
            ("NATS__CREDENTIALS_FILE", path_str(&creds_file).as_str()),
            ("LOG__LEVEL", "debug"),
        ],
    );
    authed.wait_ready(Duration::from_secs(20));
    let rejected = Worker::start(
        &topology,
        &server.url(),
        &[
            ("NATS__CREDENTIALS_FILE", path_str(&rogue_file).as_str()),
            ("LOG__LEVEL", "debug"),
        ],
    );
    tokio::time::sleep(REJECT_GRACE).await;
    assert!(
        !rejected.ready(),
        "a worker whose user JWT no trusted account signed must not become ready"
    );
    assert_server_logged(&server, "authentication error");

    let nats = async_nats::ConnectOptions::with_credentials(&creds)
        .expect("parse test creds")
        .connect(server.url())
        .await
        .expect("test client with creds");
    one_record_per_story(nats, &topology, 10).await;
    for (worker, secret) in [(&authed, &seed), (&rejected, &rogue_seed)] {
        assert!(
            !worker.log().contains(secret.as_str()),
            "seed leaked into the log"
        );
    }
}
