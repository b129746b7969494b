//! The secured test broker: its listeners, users, certificates and ACLs, and
//! Kafka's own console tools pointed at it.
//!
//! `scripts/kafka.sh secure-up` starts one KRaft node whose client listeners
//! all authenticate. This module mirrors that script (and
//! `integration/kafka/README.md`, "The secured node"); when one changes, the
//! other must too.
//!
//! # What is where
//!
//! - [`Listener`]: every client listener with its port (all on 127.0.0.1,
//!   9301-9309; the controller is on [`CONTROLLER_PORT`]).
//! - [`User`]: the SASL users ([`ADMIN`], [`ALICE`], [`CAROL`], [`DAVE`],
//!   [`WEIRD`]), each with password `<name>-secret`. TLS without a client
//!   certificate authenticates as [`TLS_PRINCIPAL`], mTLS as
//!   [`MTLS_PRINCIPAL`].
//! - [`cert_dir`] and the `*_PEM`/`*_P12` file names: the PKI written by
//!   `scripts/certs.sh`.
//! - [`ClientKind`]: one of the Kafka client configs that `secure-up` writes
//!   for the console tools, and so one way to connect.
//!
//! # ACLs
//!
//! `admin` is the only super user. [`ALICE`], [`MTLS_PRINCIPAL`],
//! [`TLS_PRINCIPAL`] and [`WEIRD`] may do everything on every topic, have
//! `IdempotentWrite` on the cluster and may read in any group; alice also has
//! every transactional id and every group operation. [`CAROL`] may read,
//! write and describe topics starting with [`ACL_OK_TOPIC`], only describe
//! [`ACL_NOWRITE_TOPIC`], do nothing on [`ACL_HIDDEN_TOPIC`], use
//! transactional ids starting with [`ACL_TXN_PREFIX`] and read in the group
//! [`ACL_GROUP_OK`] only. [`DAVE`] may only describe [`ACL_OK_TOPIC`].
//!
//! With Kafka 4.4, `Write` on any topic lets a producer be idempotent
//! without `IdempotentWrite` on the cluster (KIP-679): carol's idempotent
//! producer works, dave's gets `CLUSTER_AUTHORIZATION_FAILED` from
//! InitProducerId (and `TOPIC_AUTHORIZATION_FAILED` when not idempotent).
//!
//! # Never skipped
//!
//! [`Listener::bootstrap`] panics with instructions when nothing answers, so
//! a test against an absent broker fails.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::repo_root;

/// The KRaft controller listener (SASL_PLAINTEXT, PLAIN as `admin`); not
/// for clients.
pub const CONTROLLER_PORT: u16 = 9300;

/// The session lifetime, in milliseconds, of the re-authentication
/// listeners ([`Listener::SaslPlaintextReauth`], [`Listener::SaslSslReauth`]):
/// their `connections.max.reauth.ms`.
pub const REAUTH_MS: u64 = 3000;

/// A client listener of the secured node, all on 127.0.0.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Listener {
    /// 9301, SASL_PLAINTEXT with PLAIN for `admin` only: the inter-broker
    /// listener, which the set-up tools use too.
    Internal,
    /// 9302, TLS without client authentication (principal
    /// [`TLS_PRINCIPAL`]); the certificate has SANs `DNS:localhost` and
    /// `IP:127.0.0.1`.
    Ssl,
    /// 9303, TLS that requires a client certificate signed by the test CA
    /// (principal [`MTLS_PRINCIPAL`] for [`CLIENT_PEM`]).
    Mtls,
    /// 9304, TLS presenting [`WRONG_NAME_PEM`]: SAN `DNS:wrong.example.com`
    /// only, signed by the test CA.
    SslWrongName,
    /// 9305, TLS presenting [`EXPIRED_PEM`]: valid SANs, signed by the test
    /// CA, expired at the end of 2020.
    SslExpired,
    /// 9306, SASL over TCP: every [`Mechanism`].
    SaslPlaintext,
    /// 9307, SASL over TLS: every [`Mechanism`].
    SaslSsl,
    /// 9308, as [`Listener::SaslPlaintext`], but sessions last
    /// [`REAUTH_MS`] (KIP-368 re-authentication).
    SaslPlaintextReauth,
    /// 9309, as [`Listener::SaslSsl`], but sessions last [`REAUTH_MS`].
    SaslSslReauth,
}

impl Listener {
    /// Every client listener.
    pub const ALL: [Listener; 9] = [
        Listener::Internal,
        Listener::Ssl,
        Listener::Mtls,
        Listener::SslWrongName,
        Listener::SslExpired,
        Listener::SaslPlaintext,
        Listener::SaslSsl,
        Listener::SaslPlaintextReauth,
        Listener::SaslSslReauth,
    ];

    /// Its port on 127.0.0.1.
    pub const fn port(self) -> u16 {
        match self {
            Listener::Internal => 9301,
            Listener::Ssl => 9302,
            Listener::Mtls => 9303,
            Listener::SslWrongName => 9304,
            Listener::SslExpired => 9305,
            Listener::SaslPlaintext => 9306,
            Listener::SaslSsl => 9307,
            Listener::SaslPlaintextReauth => 9308,
            Listener::SaslSslReauth => 9309,
        }
    }

    /// Its name in the broker's `listeners`.
    pub const fn name(self) -> &'static str {
        match self {
            Listener::Internal => "INTERNAL",
            Listener::Ssl => "SSL",
            Listener::Mtls => "MTLS",
            Listener::SslWrongName => "SSL_WRONG_NAME",
            Listener::SslExpired => "SSL_EXPIRED",
            Listener::SaslPlaintext => "SASL_PLAINTEXT",
            Listener::SaslSsl => "SASL_SSL",
            Listener::SaslPlaintextReauth => "SASL_PLAINTEXT_REAUTH",
            Listener::SaslSslReauth => "SASL_SSL_REAUTH",
        }
    }

    /// The client's `security.protocol` for it.
    pub const fn security_protocol(self) -> &'static str {
        match (self.uses_tls(), self.uses_sasl()) {
            (true, true) => "SASL_SSL",
            (true, false) => "SSL",
            (false, true) => "SASL_PLAINTEXT",
            (false, false) => "PLAINTEXT",
        }
    }

    /// Whether the connection is TLS.
    pub const fn uses_tls(self) -> bool {
        matches!(
            self,
            Listener::Ssl
                | Listener::Mtls
                | Listener::SslWrongName
                | Listener::SslExpired
                | Listener::SaslSsl
                | Listener::SaslSslReauth
        )
    }

    /// Whether clients authenticate with SASL.
    pub const fn uses_sasl(self) -> bool {
        matches!(
            self,
            Listener::Internal
                | Listener::SaslPlaintext
                | Listener::SaslSsl
                | Listener::SaslPlaintextReauth
                | Listener::SaslSslReauth
        )
    }

    /// `127.0.0.1:<port>`, without checking that anything answers.
    pub fn address(self) -> String {
        format!("127.0.0.1:{}", self.port())
    }

    /// [`Listener::address`], after checking that it accepts TCP
    /// connections. Panics with instructions otherwise: tests never skip.
    pub fn bootstrap(self) -> String {
        let address = self.address();
        let socket: SocketAddr = address.parse().expect("a loopback socket address");
        if let Err(e) = TcpStream::connect_timeout(&socket, Duration::from_secs(5)) {
            panic!(
                "the secured Kafka node does not answer on {address} ({}: {e}). Start it with \
                 `scripts/kafka.sh secure-up` (the README's test command does this); \
                 integration tests never skip.",
                self.name()
            );
        }
        address
    }

    /// The part of client config file names that names this listener.
    const fn file_part(self) -> &'static str {
        match self {
            Listener::Internal => "internal",
            Listener::Ssl => "ssl",
            Listener::Mtls => "mtls",
            Listener::SslWrongName => "ssl-wrong-name",
            Listener::SslExpired => "ssl-expired",
            Listener::SaslPlaintext => "sasl-plaintext",
            Listener::SaslSsl => "sasl-ssl",
            Listener::SaslPlaintextReauth => "sasl-plaintext-reauth",
            Listener::SaslSslReauth => "sasl-ssl-reauth",
        }
    }
}

/// A SASL mechanism; every SASL listener but [`Listener::Internal`] enables
/// all four.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// PLAIN; the users are in the listener's JAAS config.
    Plain,
    /// SCRAM-SHA-256 (4096 iterations), credentials in the cluster metadata.
    ScramSha256,
    /// SCRAM-SHA-512 (4096 iterations), credentials in the cluster metadata.
    ScramSha512,
    /// OAUTHBEARER checked by Kafka's unsecured JWT validator: any unsigned
    /// token (`alg: none`) whose `sub` is the principal.
    OAuthBearer,
}

impl Mechanism {
    /// Every mechanism.
    pub const ALL: [Mechanism; 4] = [
        Mechanism::Plain,
        Mechanism::ScramSha256,
        Mechanism::ScramSha512,
        Mechanism::OAuthBearer,
    ];

    /// Its name in SaslHandshake and in `sasl.mechanism`.
    pub const fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha512 => "SCRAM-SHA-512",
            Mechanism::OAuthBearer => "OAUTHBEARER",
        }
    }

    const fn file_part(self) -> &'static str {
        match self {
            Mechanism::Plain => "plain",
            Mechanism::ScramSha256 => "scram256",
            Mechanism::ScramSha512 => "scram512",
            Mechanism::OAuthBearer => "oauthbearer",
        }
    }
}

/// A SASL user of the secured node (PLAIN and both SCRAMs; OAUTHBEARER
/// takes any `sub`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct User {
    /// The user name, also the principal (`User:<name>`).
    pub name: &'static str,
    /// `<name>-secret`.
    pub password: &'static str,
    /// The part of client config file names that names this user.
    file_part: &'static str,
}

/// The super user (the broker's own principal).
pub const ADMIN: User = User {
    name: "admin",
    password: "admin-secret",
    file_part: "admin",
};
/// Allowed everything on topics, groups and transactional ids.
pub const ALICE: User = User {
    name: "alice",
    password: "alice-secret",
    file_part: "",
};
/// The restricted user of the authorization tests (see the module docs).
pub const CAROL: User = User {
    name: "carol",
    password: "carol-secret",
    file_part: "carol",
};
/// Describe on [`ACL_OK_TOPIC`] and nothing else.
pub const DAVE: User = User {
    name: "dave",
    password: "dave-secret",
    file_part: "dave",
};
/// A name with the two characters SCRAM must escape (`,` as `=2C`, `=` as
/// `=3D`); allowed what alice is allowed on topics.
pub const WEIRD: User = User {
    name: "we,ird=user",
    password: "we,ird=user-secret",
    file_part: "weird",
};
/// Every SASL user.
pub const USERS: [User; 5] = [ADMIN, ALICE, CAROL, DAVE, WEIRD];

/// The principal of a TLS client without a certificate ([`Listener::Ssl`]).
pub const TLS_PRINCIPAL: &str = "ANONYMOUS";
/// The principal of [`CLIENT_PEM`] on [`Listener::Mtls`]: its CN, through
/// `ssl.principal.mapping.rules`.
pub const MTLS_PRINCIPAL: &str = "alice-client";

/// Carol may read, write and describe topics starting with this (prefixed ACL);
/// dave may only describe this topic. Pre-created, 3 partitions.
pub const ACL_OK_TOPIC: &str = "acl-ok";
/// Carol may describe it but not write it. Pre-created, 3 partitions.
pub const ACL_NOWRITE_TOPIC: &str = "acl-nowrite";
/// Carol may not even describe it. Pre-created, 3 partitions.
pub const ACL_HIDDEN_TOPIC: &str = "acl-hidden";
/// Carol may use (Write, Describe) transactional ids starting with this.
pub const ACL_TXN_PREFIX: &str = "acl-txn-ok";
/// The only group carol may read in.
pub const ACL_GROUP_OK: &str = "acl-group-ok";
/// A group nobody but alice (and admin) may use.
pub const ACL_GROUP_DENIED: &str = "acl-group-denied";
/// Further pre-created topics (3 partitions) anyone allowed may use.
pub const SECURE_TOPICS: [&str; 3] = ["secure-tls", "secure-sasl", "secure-reauth"];

/// The test CA (PEM); it signed every certificate below.
pub const CA_PEM: &str = "ca.pem";
/// The test CA's key (PKCS#8 PEM).
pub const CA_KEY_PEM: &str = "ca-key.pem";
/// The broker's certificate: SANs `DNS:localhost`, `IP:127.0.0.1`.
pub const BROKER_PEM: &str = "broker.pem";
/// Its key (PKCS#8 PEM).
pub const BROKER_KEY_PEM: &str = "broker-key.pem";
/// A certificate for `DNS:wrong.example.com` only.
pub const WRONG_NAME_PEM: &str = "wrong-name.pem";
/// Its key (PKCS#8 PEM).
pub const WRONG_NAME_KEY_PEM: &str = "wrong-name-key.pem";
/// A certificate with the broker's SANs, valid only during 2020.
pub const EXPIRED_PEM: &str = "expired.pem";
/// Its key (PKCS#8 PEM).
pub const EXPIRED_KEY_PEM: &str = "expired-key.pem";
/// The mTLS client certificate, `CN=alice-client`, extended key usage
/// clientAuth.
pub const CLIENT_PEM: &str = "client.pem";
/// Its key (PKCS#8 PEM, unencrypted).
pub const CLIENT_KEY_PEM: &str = "client-key.pem";
/// The same key, encrypted PKCS#8 (`BEGIN ENCRYPTED PRIVATE KEY`) with
/// [`CLIENT_KEY_PASSWORD`].
pub const CLIENT_KEY_ENCRYPTED_PEM: &str = "client-key-encrypted.pem";
/// [`CLIENT_PEM`] followed by [`CA_PEM`].
pub const CLIENT_CHAIN_PEM: &str = "client-chain.pem";
/// A CA that signed nothing here: trusting only it must fail.
pub const OTHER_CA_PEM: &str = "other-ca.pem";
/// The broker's PKCS12 keystore (key, certificate, CA).
pub const BROKER_P12: &str = "broker.p12";
/// The wrong-name listener's PKCS12 keystore.
pub const WRONG_NAME_P12: &str = "wrong-name.p12";
/// The expired listener's PKCS12 keystore.
pub const EXPIRED_P12: &str = "expired.p12";
/// The mTLS client's PKCS12 keystore.
pub const CLIENT_P12: &str = "client.p12";
/// The CA as a PKCS12 truststore (the mTLS listener's).
pub const TRUSTSTORE_P12: &str = "truststore.p12";
/// The password of every PKCS12 file.
pub const STORE_PASSWORD: &str = "test-store-pass";
/// The password of [`CLIENT_KEY_ENCRYPTED_PEM`].
pub const CLIENT_KEY_PASSWORD: &str = "client-key-pass";

/// The secured node's state directory: `$ACTIX_KAFKA_STATE/secure`, or
/// `<repo>/.kafka/secure` (as `scripts/kafka.sh` has it).
pub fn secure_dir() -> PathBuf {
    std::env::var_os("ACTIX_KAFKA_STATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".kafka"))
        .join("secure")
}

/// The directory of the certificates and keys (the `*_PEM` and `*_P12`
/// constants are file names in it).
pub fn cert_dir() -> PathBuf {
    secure_dir().join("certs")
}

/// `file` (one of the `*_PEM` / `*_P12` constants) in [`cert_dir`]. Panics
/// if it does not exist, naming the command that writes it.
pub fn cert_path(file: &str) -> PathBuf {
    let path = cert_dir().join(file);
    assert!(
        path.is_file(),
        "{} does not exist: run `scripts/kafka.sh secure-up` (or `scripts/certs.sh {}`)",
        path.display(),
        cert_dir().display()
    );
    path
}

/// One of the Kafka client configs `secure-up` writes into
/// `<secure_dir>/clients/`, which says how to connect and as whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKind {
    /// [`Listener::Internal`], PLAIN as [`ADMIN`] (`admin.properties`).
    Admin,
    /// [`Listener::Ssl`], trusting the test CA (`client-ssl.properties`).
    Ssl,
    /// [`Listener::Mtls`] with [`CLIENT_P12`] (`client-mtls.properties`).
    Mtls,
    /// [`Listener::SslWrongName`] with hostname verification turned off
    /// (`client-ssl-wrong-name-noverify.properties`).
    SslWrongNameNoVerify,
    /// A SASL listener other than [`Listener::Internal`], with a mechanism
    /// and a user
    /// (`client-<listener>-<mechanism>[-<user>].properties`; alice's have
    /// no user part).
    Sasl {
        /// [`Listener::SaslPlaintext`], [`Listener::SaslSsl`] or one of the
        /// re-authentication listeners.
        listener: Listener,
        /// How to authenticate.
        mechanism: Mechanism,
        /// As whom.
        user: User,
    },
}

impl ClientKind {
    /// Shorthand for [`ClientKind::Sasl`].
    pub const fn sasl(listener: Listener, mechanism: Mechanism, user: User) -> ClientKind {
        ClientKind::Sasl {
            listener,
            mechanism,
            user,
        }
    }

    /// The listener it connects to.
    pub const fn listener(self) -> Listener {
        match self {
            ClientKind::Admin => Listener::Internal,
            ClientKind::Ssl => Listener::Ssl,
            ClientKind::Mtls => Listener::Mtls,
            ClientKind::SslWrongNameNoVerify => Listener::SslWrongName,
            ClientKind::Sasl { listener, .. } => listener,
        }
    }

    /// The principal the broker sees (without `User:`).
    pub const fn principal(self) -> &'static str {
        match self {
            ClientKind::Admin => ADMIN.name,
            ClientKind::Ssl | ClientKind::SslWrongNameNoVerify => TLS_PRINCIPAL,
            ClientKind::Mtls => MTLS_PRINCIPAL,
            ClientKind::Sasl { user, .. } => user.name,
        }
    }

    /// The client config file (for `--command-config`). Panics if it does
    /// not exist: the node was never started here, or the kind names a
    /// combination `secure-up` writes no file for.
    pub fn config_file(self) -> PathBuf {
        let name = match self {
            ClientKind::Admin => "admin".to_string(),
            ClientKind::Ssl => "client-ssl".to_string(),
            ClientKind::Mtls => "client-mtls".to_string(),
            ClientKind::SslWrongNameNoVerify => "client-ssl-wrong-name-noverify".to_string(),
            ClientKind::Sasl {
                listener,
                mechanism,
                user,
            } => {
                let mut name = format!("client-{}-{}", listener.file_part(), mechanism.file_part());
                if !user.file_part.is_empty() {
                    name.push('-');
                    name.push_str(user.file_part);
                }
                name
            }
        };
        let path = secure_dir().join("clients").join(format!("{name}.properties"));
        assert!(
            path.is_file(),
            "no client config {} for {self:?}: `scripts/kafka.sh secure-up` writes one for \
             every SASL listener but INTERNAL, mechanism and user",
            path.display()
        );
        path
    }

    /// Its listener's [`Listener::bootstrap`] (panics if nothing answers).
    pub fn bootstrap(self) -> String {
        self.listener().bootstrap()
    }
}

/// What a console tool run did.
#[derive(Debug, Clone)]
pub struct ToolRun {
    /// Whether it exited with status 0 (the console producer also exits 0
    /// when sends failed: look at [`ToolRun::stderr`]).
    pub success: bool,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error (Kafka's warnings and errors).
    pub stderr: String,
}

impl ToolRun {
    /// Whether it exited with 0 and logged no ERROR.
    pub fn clean(&self) -> bool {
        self.success && !self.stderr.contains(" ERROR ")
    }
}

/// Runs `scripts/kafka.sh ARGS` with `BOOTSTRAP` set, feeding it `stdin`,
/// and kills it after `timeout`. Panics if it cannot be started or has to
/// be killed.
fn run_kafka_sh(bootstrap: &str, args: &[&str], stdin: &str, timeout: Duration) -> ToolRun {
    let script = repo_root().join("scripts/kafka.sh");
    let mut child = Command::new("bash")
        .arg(&script)
        .args(args)
        .env("BOOTSTRAP", bootstrap)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    // Pipes are drained on their own threads so a chatty tool never blocks.
    let mut input = child.stdin.take().expect("piped stdin");
    let stdin = stdin.to_owned();
    let writer = thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes()); // closing it ends the console producer
    });
    let mut out = child.stdout.take().expect("piped stdout");
    let reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let mut err = child.stderr.take().expect("piped stderr");
    let err_reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                // kafka.sh execs the JVM, so this is the tool itself.
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "scripts/kafka.sh {args:?} did not finish within {timeout:?}; stderr:\n{}",
                    err_reader.join().unwrap_or_default()
                );
            }
            Err(e) => panic!("waiting for scripts/kafka.sh {args:?}: {e}"),
        }
    };
    let _ = writer.join();
    ToolRun {
        success: status.success(),
        stdout: reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

/// How long a tool JVM may take beyond the time it is asked to wait for.
const JVM_SLACK: Duration = Duration::from_secs(60);

/// Writes `values` (one record each, no key) to `topic` with Kafka's console
/// producer connecting as `kind`, giving up after `timeout`. Authorization
/// failures are not panics: they show in the returned [`ToolRun`].
pub fn console_produce(kind: ClientKind, topic: &str, values: &[&str], timeout: Duration) -> ToolRun {
    let config = kind.config_file();
    let config = config.to_str().expect("a UTF-8 path");
    let mut stdin = values.join("\n");
    stdin.push('\n');
    // Fail within `timeout` when metadata never comes (e.g. a hidden topic).
    let max_block = format!("max.block.ms={}", timeout.as_millis());
    run_kafka_sh(
        &kind.bootstrap(),
        &[
            "produce",
            topic,
            "--producer.config",
            config,
            "--producer-property",
            &max_block,
        ],
        &stdin,
        timeout + JVM_SLACK,
    )
}

/// Reads `n` record values of `topic` from the beginning with Kafka's
/// console consumer connecting as `kind`, in a fresh consumer group, waiting
/// at most `timeout` for each next record. Panics (with the tool's output)
/// unless exactly `n` records arrive.
///
/// The principal needs Read on the group: carol and dave have none on
/// `console-consumer-*` groups, so this fails for them by design (see
/// [`console_consume_with`] and `--group`).
pub fn console_consume(kind: ClientKind, topic: &str, n: usize, timeout: Duration) -> Vec<String> {
    console_consume_with(kind, topic, n, timeout, &[])
}

/// [`console_consume`] with more console consumer arguments, e.g.
/// `["--isolation-level", "read_committed"]`, `["--group", ACL_GROUP_OK]`
/// or `["--property", "print.key=true"]` (then each line is what the
/// consumer prints, not only the value).
pub fn console_consume_with(
    kind: ClientKind,
    topic: &str,
    n: usize,
    timeout: Duration,
    extra: &[&str],
) -> Vec<String> {
    let config = kind.config_file();
    let config = config.to_str().expect("a UTF-8 path");
    let count = n.to_string();
    let timeout_ms = timeout.as_millis().to_string();
    let mut args = vec![
        "consume",
        topic,
        "--from-beginning",
        "--max-messages",
        &count,
        "--timeout-ms",
        &timeout_ms,
        "--consumer.config",
        config,
    ];
    args.extend_from_slice(extra);
    let run = run_kafka_sh(&kind.bootstrap(), &args, "", timeout + JVM_SLACK);
    let values: Vec<String> = run.stdout.lines().map(str::to_owned).collect();
    assert_eq!(
        values.len(),
        n,
        "the console consumer ({kind:?}, {extra:?}) read {} of {n} records of {topic}:\nstdout:\n{}\nstderr:\n{}",
        values.len(),
        run.stdout,
        run.stderr
    );
    values
}

/// The end offset of every partition of `topic`, read with Kafka's
/// `GetOffsetShell` connecting as `kind`. Panics if the tool fails.
pub fn end_offsets(kind: ClientKind, topic: &str) -> BTreeMap<i32, i64> {
    let config = kind.config_file();
    let config = config.to_str().expect("a UTF-8 path");
    let bootstrap = kind.bootstrap();
    let run = run_kafka_sh(
        &bootstrap,
        &[
            "run-class",
            "org.apache.kafka.tools.GetOffsetShell",
            "--bootstrap-server",
            &bootstrap,
            "--command-config",
            config,
            "--topic",
            topic,
        ],
        "",
        JVM_SLACK,
    );
    assert!(run.success, "GetOffsetShell on {topic} failed:\n{}", run.stderr);
    // Lines are `topic:partition:offset`; the topic may contain ':' only in theory.
    run.stdout
        .lines()
        .filter_map(|line| {
            let mut parts = line.rsplitn(3, ':');
            let offset = parts.next()?.parse().ok()?;
            let partition = parts.next()?.parse().ok()?;
            (parts.next()? == topic).then_some((partition, offset))
        })
        .collect()
}

/// Creates `topic` with `partitions` partitions (replication factor 1) as
/// [`ADMIN`] over [`Listener::Internal`]. Panics if it fails.
pub fn create_topic(topic: &str, partitions: u32) {
    let config = ClientKind::Admin.config_file();
    let config = config.to_str().expect("a UTF-8 path");
    let bootstrap = Listener::Internal.bootstrap();
    let partitions = partitions.to_string();
    let run = run_kafka_sh(
        &bootstrap,
        &[
            "run-class",
            "org.apache.kafka.tools.TopicCommand",
            "--bootstrap-server",
            &bootstrap,
            "--command-config",
            config,
            "--create",
            "--topic",
            topic,
            "--partitions",
            &partitions,
            "--replication-factor",
            "1",
        ],
        "",
        JVM_SLACK,
    );
    assert!(
        run.success,
        "creating {topic} failed:\n{}\n{}",
        run.stdout, run.stderr
    );
}
