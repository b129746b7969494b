//! The secured broker, checked with Kafka's own console producer and
//! consumer (Java) and `openssl s_client` only, with no code of ours on the
//! wire, so that the TLS, SASL and authorization tests of our producer stand
//! on a set-up proven independently.
//!
//! Needs `scripts/kafka.sh secure-up` (the README's test command starts it);
//! every test fails, never skips, when it does not answer.

use std::time::Duration;

use actix_kafka_integration::secure::{
    self, ClientKind, Listener, Mechanism, ACL_GROUP_OK, ACL_NOWRITE_TOPIC, ACL_OK_TOPIC, ALICE, CAROL,
};
use actix_kafka_integration::unique_topic;

/// How long a console tool waits for metadata or for the next record.
const WAIT: Duration = Duration::from_secs(30);

/// `n` values unique to this topic, so a read-back cannot be fooled by
/// records of another run.
fn values(topic: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{topic}-value-{i}")).collect()
}

fn produce_ok(kind: ClientKind, topic: &str, values: &[String]) {
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    let run = secure::console_produce(kind, topic, &refs, WAIT);
    assert!(
        run.clean(),
        "console producer ({kind:?}) to {topic} failed:\nstdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn sasl_ssl_scram_sha_512_as_alice_round_trips() {
    let kind = ClientKind::sasl(Listener::SaslSsl, Mechanism::ScramSha512, ALICE);
    let topic = unique_topic("secure-selftest-scram512");
    // One partition, so the console consumer returns them in order.
    secure::create_topic(&topic, 1);
    let sent = values(&topic, 3);
    produce_ok(kind, &topic, &sent);
    assert_eq!(secure::console_consume(kind, &topic, sent.len(), WAIT), sent);
}

#[test]
fn mtls_client_certificate_round_trips() {
    let topic = unique_topic("secure-selftest-mtls");
    secure::create_topic(&topic, 1);
    let sent = values(&topic, 3);
    produce_ok(ClientKind::Mtls, &topic, &sent);
    assert_eq!(
        secure::console_consume(ClientKind::Mtls, &topic, sent.len(), WAIT),
        sent
    );
    // Read once more by another principal over another listener: what the
    // mTLS client wrote is really in the log.
    let alice = ClientKind::sasl(Listener::SaslSsl, Mechanism::ScramSha512, ALICE);
    assert_eq!(secure::console_consume(alice, &topic, sent.len(), WAIT), sent);
}

#[test]
fn carol_cannot_write_acl_nowrite_but_can_write_acl_ok() {
    let carol = ClientKind::sasl(Listener::SaslSsl, Mechanism::ScramSha512, CAROL);
    let admin = ClientKind::Admin;
    let before = secure::end_offsets(admin, ACL_NOWRITE_TOPIC);
    assert_eq!(
        before.len(),
        3,
        "{ACL_NOWRITE_TOPIC} has 3 partitions: {before:?}"
    );

    let run = secure::console_produce(carol, ACL_NOWRITE_TOPIC, &["denied-1", "denied-2"], WAIT);
    assert!(
        run.stderr.contains("TopicAuthorizationException") && run.stderr.contains(ACL_NOWRITE_TOPIC),
        "carol's write to {ACL_NOWRITE_TOPIC} was not refused for authorization:\n{}",
        run.stderr
    );
    assert_eq!(
        secure::end_offsets(admin, ACL_NOWRITE_TOPIC),
        before,
        "records reached {ACL_NOWRITE_TOPIC}"
    );

    // The control: same user, same listener, a topic under her prefixed
    // Write ACL, with the console producer's default idempotence (KIP-679:
    // Write on a topic is enough, no IdempotentWrite on the cluster).
    let topic = unique_topic(&format!("{ACL_OK_TOPIC}-selftest"));
    secure::create_topic(&topic, 1);
    let sent = values(&topic, 2);
    produce_ok(carol, &topic, &sent);
    // Read back by carol too, in the one group she may use.
    let read = secure::console_consume_with(carol, &topic, sent.len(), WAIT, &["--group", ACL_GROUP_OK]);
    assert_eq!(read, sent);
}

/// `secure.rs` mirrors `scripts/kafka.sh`: every listener it names is in the
/// node's `listeners` with its port, and every client config it points to
/// says the protocol, mechanism and user it claims. (No JVM: this catches
/// drift between the two before a connection test fails obscurely.)
#[test]
fn secure_module_matches_the_written_configs() {
    let server = std::fs::read_to_string(secure::secure_dir().join("server.properties"))
        .expect("server.properties of the secured node: run `scripts/kafka.sh secure-up`");
    let listeners = server
        .lines()
        .find_map(|line| line.strip_prefix("listeners="))
        .expect("a listeners= line");
    for listener in Listener::ALL {
        let entry = format!("{}://{}", listener.name(), listener.address());
        assert!(
            listeners.split(',').any(|l| l == entry),
            "{entry} not in listeners={listeners}"
        );
        let protocol = format!("{}:{}", listener.name(), listener.security_protocol());
        assert!(server.contains(&protocol), "{protocol} not in the protocol map");
    }
    let controller = format!("CONTROLLER://127.0.0.1:{}", secure::CONTROLLER_PORT);
    assert!(listeners.split(',').any(|l| l == controller), "{controller}");

    let sasl_listeners = [
        Listener::SaslPlaintext,
        Listener::SaslSsl,
        Listener::SaslPlaintextReauth,
        Listener::SaslSslReauth,
    ];
    for listener in sasl_listeners {
        for mechanism in Mechanism::ALL {
            for user in secure::USERS {
                let kind = ClientKind::sasl(listener, mechanism, user);
                let config = std::fs::read_to_string(kind.config_file()).expect("readable");
                let user_option = match mechanism {
                    Mechanism::OAuthBearer => format!("unsecuredLoginStringClaim_sub=\"{}\"", user.name),
                    _ => format!("username=\"{}\" password=\"{}\"", user.name, user.password),
                };
                for want in [
                    format!("security.protocol={}\n", listener.security_protocol()),
                    format!("sasl.mechanism={}\n", mechanism.name()),
                    user_option,
                ] {
                    assert!(config.contains(&want), "{kind:?}: no {want:?} in\n{config}");
                }
            }
        }
    }
    for (kind, protocol) in [
        (ClientKind::Admin, "SASL_PLAINTEXT"),
        (ClientKind::Ssl, "SSL"),
        (ClientKind::Mtls, "SSL"),
        (ClientKind::SslWrongNameNoVerify, "SSL"),
    ] {
        let config = std::fs::read_to_string(kind.config_file()).expect("readable");
        assert!(
            config.contains(&format!("security.protocol={protocol}\n")),
            "{kind:?}:\n{config}"
        );
    }
    for file in [
        secure::CA_PEM,
        secure::BROKER_P12,
        secure::CLIENT_PEM,
        secure::CLIENT_KEY_ENCRYPTED_PEM,
        secure::OTHER_CA_PEM,
        secure::EXPIRED_PEM,
        secure::WRONG_NAME_PEM,
        secure::TRUSTSTORE_P12,
    ] {
        secure::cert_path(file);
    }
    let encrypted =
        std::fs::read_to_string(secure::cert_path(secure::CLIENT_KEY_ENCRYPTED_PEM)).expect("readable");
    assert!(encrypted.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let key = std::fs::read_to_string(secure::cert_path(secure::CLIENT_KEY_PEM)).expect("readable");
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8");
}

/// The escaping user (SCRAM), OAUTHBEARER with the unsecured validator, and
/// PLAIN on a re-authentication listener each get a record in, and one
/// reader sees all three.
#[test]
fn weird_scram_user_oauthbearer_and_reauth_listener_write() {
    let topic = unique_topic("secure-selftest-mechanisms");
    secure::create_topic(&topic, 1);
    let writers = [
        ClientKind::sasl(Listener::SaslPlaintext, Mechanism::ScramSha256, secure::WEIRD),
        ClientKind::sasl(Listener::SaslSsl, Mechanism::OAuthBearer, ALICE),
        ClientKind::sasl(Listener::SaslSslReauth, Mechanism::Plain, ALICE),
    ];
    let mut sent = Vec::new();
    for (i, kind) in writers.into_iter().enumerate() {
        let value = format!("{topic}-{i}-{}", kind.principal());
        produce_ok(kind, &topic, std::slice::from_ref(&value));
        sent.push(value);
    }
    let alice = ClientKind::sasl(Listener::SaslSsl, Mechanism::ScramSha512, ALICE);
    assert_eq!(secure::console_consume(alice, &topic, sent.len(), WAIT), sent);
}

/// Runs `openssl s_client` against a TLS listener with hostname and chain
/// verification, returning its combined output.
fn s_client(listener: Listener, ca_file: &str) -> String {
    let output = std::process::Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &listener.bootstrap(),
            "-verify_hostname",
            "localhost",
        ])
        .arg("-CAfile")
        .arg(secure::cert_path(ca_file))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl (scripts/certs.sh needs it too)");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The TLS listeners fail verification for exactly the reason their tests
/// are about, seen by openssl rather than by our client: the expired
/// listener is only expired, the wrong-name one only misnamed, and the good
/// certificate is only refused by someone trusting the other CA.
#[test]
fn tls_listeners_present_the_certificates_the_tests_expect() {
    let ok = s_client(Listener::Ssl, secure::CA_PEM);
    assert!(ok.contains("Verify return code: 0 (ok)"), "{ok}");
    let expired = s_client(Listener::SslExpired, secure::CA_PEM);
    assert!(
        expired.contains("Verify return code: 10 (certificate has expired)"),
        "{expired}"
    );
    let wrong_name = s_client(Listener::SslWrongName, secure::CA_PEM);
    assert!(
        wrong_name.contains("Verify return code: 62 (hostname mismatch)"),
        "{wrong_name}"
    );
    // The broker sends its chain with the test CA in it, which openssl
    // reports as an untrusted self-signed root.
    let unknown_ca = s_client(Listener::Ssl, secure::OTHER_CA_PEM);
    assert!(
        unknown_ca.contains("Verify return code: 19 (self-signed certificate in certificate chain)"),
        "{unknown_ca}"
    );
}
