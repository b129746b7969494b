//! SASL against the scripted fake broker: what a real broker will not do on
//! demand (a SCRAM server that does not extend our nonce, asks for 1 or 10^9
//! iterations, sends a wrong or no ServerSignature; a handshake that never
//! answers), and the happy paths whose wire bytes we want to see (PLAIN,
//! OAUTHBEARER with KIP-342 extensions, KIP-368 renewal).
//!
//! Each failure test asserts the exact typed error from `Producer::start`,
//! that it came at once (well before `max_block_ms`: authentication failures
//! are fatal, not retried), and how many connections were made (no retry
//! storm). Every test is bounded by [`START_BOUND`] or its own deadline.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_kafka::config::Secret;
use actix_kafka::error::{AuthenticationFailure, ConnectFailure, ScramFailure};
use actix_kafka::probe::ProbeConnection;
use actix_kafka::security::sasl::{OAuthBearerToken, TokenFuture};
use actix_kafka::wire::ErrorCode;
use actix_kafka::{Producer, ProducerConfig, ProducerError, ProducerRecord};
use actix_kafka_integration::fake_broker::scram::{ScramHash, ScramServer};
use actix_kafka_integration::fake_broker::{codes, FakeCluster, FakeConfig, Fault, SaslAnswer, SaslTurn};
use futures_util::future::join_all;
use kafka_wire::api::ApiKey;
use kafka_wire::messages::metadata::MetadataRequest;
use kafka_wire::messages::sasl_authenticate::SaslAuthenticateRequest;
use kafka_wire::messages::sasl_handshake::SaslHandshakeRequest;

const TOPIC: &str = "t";
const USER: &str = "alice";
const PASSWORD: &str = "alice-secret";

/// The longest any `start` may take before the test gives up.
const START_BOUND: Duration = Duration::from_secs(20);

/// How fast a fatal authentication failure must come back (with
/// `max_block_ms` = 10 s).
const FAST: Duration = Duration::from_secs(2);

/// Base64 of 32 zero bytes: a well-formed but wrong SHA-256 ServerSignature.
const ZERO_SIGNATURE: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/// Base64 of `saltsalt`.
const SALT: &str = "c2FsdHNhbHQ=";

/// A one-broker SASL fake with topic `t` (one partition), offering
/// `mechanisms` and answering with `server`.
fn sasl_cluster(
    mechanisms: &[&str],
    server: impl Fn(SaslTurn) -> SaslAnswer + Send + Sync + 'static,
) -> FakeCluster {
    FakeCluster::start(
        FakeConfig::with_brokers(1)
            .topic(TOPIC, 1, 0)
            .sasl(mechanisms, server),
    )
}

/// `SASL_PLAINTEXT` with `mechanism`, alice's credentials (unless
/// OAUTHBEARER), `max_block_ms` 10 s and short backoffs.
fn sasl_config(cluster: &FakeCluster, mechanism: &str) -> ProducerConfig {
    let mut config = ProducerConfig {
        request_timeout_ms: 5_000,
        retry_backoff_ms: 50,
        reconnect_backoff_ms: 50,
        max_block_ms: 10_000,
        ..ProducerConfig::new(cluster.bootstrap())
    };
    config
        .set("security.protocol", "SASL_PLAINTEXT")
        .expect("protocol");
    config.set("sasl.mechanism", mechanism).expect("mechanism");
    if mechanism != "OAUTHBEARER" {
        config.sasl_plain_username = Some(USER.into());
        config.sasl_plain_password = Some(PASSWORD.into());
    }
    config
}

/// Starts a producer that must fail; returns the error and how long `start`
/// took.
async fn start_failure(config: ProducerConfig) -> (ProducerError, Duration) {
    let started = Instant::now();
    let result = tokio::time::timeout(START_BOUND, Producer::start(config))
        .await
        .expect("start answers within the test's bound");
    match result {
        Ok(producer) => {
            producer.stop().await;
            panic!("the producer started, but authentication should have failed");
        }
        Err(e) => (e, started.elapsed()),
    }
}

/// The SASL failure inside `error`, which must be a connection error.
fn sasl_failure(error: &ProducerError) -> &AuthenticationFailure {
    match error {
        ProducerError::Connection {
            cause: ConnectFailure::Sasl(failure),
            ..
        } => failure,
        other => panic!("expected a SASL connection failure, got {other:?}"),
    }
}

/// Starts with `config`, expects a fatal SASL failure within [`FAST`] and at
/// most two connections; returns the failure.
async fn fatal_failure(cluster: &FakeCluster, config: ProducerConfig) -> AuthenticationFailure {
    let (error, took) = start_failure(config).await;
    assert!(
        took < FAST,
        "start took {took:?}; an authentication failure must end it at once"
    );
    assert!(
        error.is_authentication(),
        "{error:?} must be an authentication error"
    );
    assert!(error.is_fatal(), "{error:?} must be fatal");
    let connections = cluster.connection_count(0);
    assert!(
        (1..=2).contains(&connections),
        "{connections} connections: an authentication failure must not be retried"
    );
    assert_eq!(cluster.produce_request_count(0), 0);
    assert_eq!(
        cluster.unauthenticated_requests(0),
        0,
        "nothing may be sent before authentication"
    );
    sasl_failure(&error).clone()
}

/// The client nonce of a SCRAM client-first message `n,,n=<user>,r=<nonce>`.
fn client_nonce(client_first: &[u8]) -> String {
    let text = std::str::from_utf8(client_first).expect("client-first is UTF-8");
    let bare = text
        .strip_prefix("n,,")
        .expect("GS2 header without channel binding");
    let (user, nonce) = bare.split_once(",r=").expect("n=...,r=...");
    assert_eq!(user, format!("n={USER}"));
    assert!(nonce.len() >= 24, "a short client nonce: {nonce:?}");
    nonce.to_string()
}

/// A SCRAM server: step 0 answers `first(client nonce)` as server-first,
/// step 1 answers `last` as a successful server-final.
fn scram_server(
    first: impl Fn(&str) -> String + Send + Sync + 'static,
    last: &'static [u8],
) -> impl Fn(SaslTurn) -> SaslAnswer + Send + Sync + 'static {
    move |turn: SaslTurn| match turn.step {
        0 => SaslAnswer::challenge(first(&client_nonce(&turn.client_message))),
        1 => {
            let text = String::from_utf8_lossy(&turn.client_message).into_owned();
            assert!(text.starts_with("c=biws,r="), "client-final: {text}");
            assert!(text.contains(",p="), "client-final has a proof: {text}");
            SaslAnswer::success(last)
        }
        step => panic!("SCRAM has two client messages, got step {step}"),
    }
}

/// A well-formed server-first for `nonce` with `iterations`.
fn server_first(nonce: &str, iterations: u64) -> String {
    format!("r={nonce}fake-server-nonce,s={SALT},i={iterations}")
}

/// Sends `values` to t-0 one `send_all` at a time and returns the offsets.
async fn produce(producer: &Producer, values: &[&str]) -> Vec<i64> {
    let records = values
        .iter()
        .map(|v| ProducerRecord::new(TOPIC, v.to_string()).partition(0))
        .collect();
    let deliveries: Vec<_> = producer
        .send_all(records)
        .await
        .into_iter()
        .map(|r| r.expect("enqueued"))
        .collect();
    join_all(deliveries)
        .await
        .into_iter()
        .map(|r| r.expect("delivered").offset)
        .collect()
}

fn log_values(cluster: &FakeCluster) -> Vec<String> {
    cluster
        .log(TOPIC, 0)
        .into_iter()
        .map(|r| String::from_utf8(r.value.expect("value")).expect("UTF-8"))
        .collect()
}

// ---- hostile SCRAM servers ------------------------------------------------

#[actix_rt::test]
async fn scram_nonce_that_does_not_extend_ours_is_refused() {
    let cluster = sasl_cluster(
        &["SCRAM-SHA-256"],
        scram_server(
            |_ours| server_first("someone-elses-nonce-0123456789", 4096),
            b"v=unused",
        ),
    );
    let failure = fatal_failure(&cluster, sasl_config(&cluster, "SCRAM-SHA-256")).await;
    assert_eq!(
        failure,
        AuthenticationFailure::Scram(ScramFailure::NonceNotExtended)
    );
    // The client gave up after server-first: no client-final was sent.
    assert_eq!(cluster.request_count(0, ApiKey::SaslAuthenticate), 1);
}

#[actix_rt::test]
async fn scram_nonce_echoed_without_a_server_part_is_refused() {
    // RFC 5802: the server appends its own nonce; an exact echo is a replay.
    let cluster = sasl_cluster(
        &["SCRAM-SHA-256"],
        scram_server(|ours| format!("r={ours},s={SALT},i=4096"), b"v=unused"),
    );
    let failure = fatal_failure(&cluster, sasl_config(&cluster, "SCRAM-SHA-256")).await;
    assert_eq!(
        failure,
        AuthenticationFailure::Scram(ScramFailure::NonceNotExtended)
    );
}

#[actix_rt::test]
async fn scram_iteration_count_of_one_is_too_low() {
    let cluster = sasl_cluster(
        &["SCRAM-SHA-256"],
        scram_server(|ours| server_first(ours, 1), b"v=unused"),
    );
    let failure = fatal_failure(&cluster, sasl_config(&cluster, "SCRAM-SHA-256")).await;
    assert_eq!(
        failure,
        AuthenticationFailure::Scram(ScramFailure::IterationsTooLow { got: 1, min: 4096 })
    );
    assert_eq!(cluster.request_count(0, ApiKey::SaslAuthenticate), 1);
}

#[actix_rt::test]
async fn scram_iteration_count_of_a_billion_is_refused_without_computing() {
    let cluster = sasl_cluster(
        &["SCRAM-SHA-512"],
        scram_server(|ours| server_first(ours, 1_000_000_000), b"v=unused"),
    );
    let started = Instant::now();
    let failure = fatal_failure(&cluster, sasl_config(&cluster, "SCRAM-SHA-512")).await;
    assert_eq!(
        failure,
        AuthenticationFailure::Scram(ScramFailure::IterationsTooHigh {
            got: 1_000_000_000,
            max: 1_000_000,
        })
    );
    // 10^9 PBKDF2 rounds would take minutes; refusing takes nothing.
    assert!(started.elapsed() < FAST);
    assert_eq!(cluster.request_count(0, ApiKey::SaslAuthenticate), 1);
}

#[actix_rt::test]
async fn scram_wrong_server_signature_is_refused() {
    let cluster = sasl_cluster(
        &["SCRAM-SHA-256"],
        scram_server(
            |ours| server_first(ours, 4096),
            format!("v={ZERO_SIGNATURE}").leak().as_bytes(),
        ),
    );
    let failure = fatal_failure(&cluster, sasl_config(&cluster, "SCRAM-SHA-256")).await;
    assert_eq!(
        failure,
        AuthenticationFailure::Scram(ScramFailure::WrongServerSignature)
    );
    // The broker said "authenticated" (error code 0), the client refused it.
    let auths = cluster.authentications(0);
    assert_eq!(auths.len(), 1, "{auths:?}");
    assert_eq!(auths[0].error_code, codes::NONE);
    assert_eq!(auths[0].client_messages.len(), 2);
}

#[actix_rt::test]
async fn scram_server_final_without_a_signature_is_refused() {
    // No `v=` at all, an empty message, and an empty `v=`.
    let cases: [&'static [u8]; 3] = [b"x=not-a-signature", b"", b"v="];
    for last in cases {
        let cluster = sasl_cluster(
            &["SCRAM-SHA-256"],
            scram_server(|ours| server_first(ours, 4096), last),
        );
        let failure = fatal_failure(&cluster, sasl_config(&cluster, "SCRAM-SHA-256")).await;
        assert_eq!(
            failure,
            AuthenticationFailure::Scram(ScramFailure::MissingServerSignature),
            "server-final {:?}",
            String::from_utf8_lossy(last)
        );
        assert_eq!(cluster.request_count(0, ApiKey::SaslAuthenticate), 2);
    }
}

#[actix_rt::test]
async fn scram_server_error_is_reported_with_its_message() {
    let cluster = sasl_cluster(
        &["SCRAM-SHA-512"],
        scram_server(|ours| server_first(ours, 4096), b"e=invalid-proof"),
    );
    let failure = fatal_failure(&cluster, sasl_config(&cluster, "SCRAM-SHA-512")).await;
    assert_eq!(
        failure,
        AuthenticationFailure::Scram(ScramFailure::ServerError {
            message: "invalid-proof".into()
        })
    );
}

// ---- broker refusals -----------------------------------------------------

#[actix_rt::test]
async fn rejected_credentials_are_fatal_with_the_brokers_message() {
    let message = "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256";
    let cluster = sasl_cluster(&["SCRAM-SHA-256"], move |_turn| {
        SaslAnswer::error(codes::SASL_AUTHENTICATION_FAILED, message)
    });
    let failure = fatal_failure(&cluster, sasl_config(&cluster, "SCRAM-SHA-256")).await;
    assert_eq!(
        failure,
        AuthenticationFailure::Rejected {
            mechanism: "SCRAM-SHA-256".into(),
            code: ErrorCode(codes::SASL_AUTHENTICATION_FAILED),
            message: Some(message.into()),
        }
    );
    // Not retried: one handshake, one authenticate, on one connection.
    assert_eq!(cluster.request_count(0, ApiKey::SaslHandshake), 1);
    assert_eq!(cluster.request_count(0, ApiKey::SaslAuthenticate), 1);
    assert_eq!(cluster.connection_count(0), 1);
    let auths = cluster.authentications(0);
    assert_eq!(auths.len(), 1);
    assert_eq!(auths[0].error_code, codes::SASL_AUTHENTICATION_FAILED);
}

#[actix_rt::test]
async fn wrong_plain_password_is_rejected_once() {
    let cluster = sasl_cluster(&["PLAIN", "SCRAM-SHA-512"], |turn| {
        if turn.client_message == b"\0alice\0right-password" {
            SaslAnswer::success(Vec::new())
        } else {
            SaslAnswer::error(
                codes::SASL_AUTHENTICATION_FAILED,
                "Authentication failed: Invalid username or password",
            )
        }
    });
    let failure = fatal_failure(&cluster, sasl_config(&cluster, "PLAIN")).await;
    assert!(
        matches!(
            &failure,
            AuthenticationFailure::Rejected { mechanism, code, message: Some(m) }
                if mechanism == "PLAIN" && code.0 == 58 && m.contains("Invalid username or password")
        ),
        "{failure:?}"
    );
    // The error names the user's problem but never the password.
    let shown = format!("{failure} {failure:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");
}

#[actix_rt::test]
async fn mechanism_not_offered_lists_what_the_broker_offers() {
    let cluster = sasl_cluster(&["PLAIN"], |turn| {
        panic!("no SaslAuthenticate expected: {turn:?}")
    });
    let failure = fatal_failure(&cluster, sasl_config(&cluster, "SCRAM-SHA-512")).await;
    assert_eq!(
        failure,
        AuthenticationFailure::MechanismNotOffered {
            wanted: "SCRAM-SHA-512".into(),
            offered: vec!["PLAIN".into()],
        }
    );
    assert_eq!(cluster.request_count(0, ApiKey::SaslHandshake), 1);
    assert_eq!(cluster.request_count(0, ApiKey::SaslAuthenticate), 0);
}

#[actix_rt::test]
async fn sasl_client_against_a_plaintext_listener_is_refused() {
    // No FakeConfig::sasl: the broker answers SaslHandshake as Kafka's
    // request handler does on a PLAINTEXT listener.
    let cluster = FakeCluster::start(FakeConfig::with_brokers(1).topic(TOPIC, 1, 0));
    let failure = fatal_failure(&cluster, sasl_config(&cluster, "PLAIN")).await;
    assert_eq!(
        failure,
        AuthenticationFailure::HandshakeRefused {
            code: ErrorCode(codes::ILLEGAL_SASL_STATE)
        }
    );
}

// ---- no answer -----------------------------------------------------------

#[actix_rt::test]
async fn handshake_without_answer_times_out_and_is_retried_until_max_block() {
    let cluster = sasl_cluster(&["PLAIN"], |_turn| SaslAnswer::success(Vec::new()));
    cluster.script(0, ApiKey::SaslHandshake, None, Fault::NoResponse, 100);
    let mut config = sasl_config(&cluster, "PLAIN");
    config.request_timeout_ms = 1_500;
    config.max_block_ms = 3_000;
    let (error, took) = start_failure(config).await;

    // A lost answer says nothing about the credentials: retried, not fatal,
    // until max_block_ms.
    assert!(!error.is_authentication(), "{error:?}");
    assert!(error.is_retriable(), "{error:?}");
    assert!(
        took >= Duration::from_millis(2_900) && took < Duration::from_millis(6_000),
        "start took {took:?}, max_block_ms is 3000"
    );
    assert_eq!(
        *sasl_failure(&error),
        AuthenticationFailure::NoAnswer { after_ms: 1_500 },
        "{error}"
    );
    // One attempt per request timeout (plus backoff), not a storm.
    let connections = cluster.connection_count(0);
    assert!((2..=3).contains(&connections), "{connections} connections in 3 s");
    assert_eq!(cluster.request_count(0, ApiKey::SaslHandshake), connections);
    assert_eq!(cluster.request_count(0, ApiKey::SaslAuthenticate), 0);
}

#[actix_rt::test]
async fn disconnect_during_authentication_is_retried_and_then_succeeds() {
    let cluster = sasl_cluster(&["PLAIN"], |_turn| SaslAnswer::success(Vec::new()));
    cluster.script(
        0,
        ApiKey::SaslAuthenticate,
        None,
        Fault::Disconnect { append: false },
        1,
    );
    let producer = tokio::time::timeout(START_BOUND, Producer::start(sasl_config(&cluster, "PLAIN")))
        .await
        .expect("bounded")
        .expect("the second connection authenticates");
    assert_eq!(produce(&producer, &["after-a-lost-connection"]).await, [0]);
    assert_eq!(log_values(&cluster), ["after-a-lost-connection"]);
    assert!(cluster.connection_count(0) >= 2);
    assert_eq!(cluster.pending_faults(), 0);
    producer.stop().await;
}

// ---- success paths ------------------------------------------------------

#[actix_rt::test]
async fn plain_authenticates_and_produces() {
    let cluster = sasl_cluster(&["SCRAM-SHA-512", "PLAIN"], |turn| {
        assert_eq!(turn.mechanism, "PLAIN");
        assert_eq!(turn.step, 0, "PLAIN is one message");
        if turn.client_message == format!("\0{USER}\0{PASSWORD}").as_bytes() {
            SaslAnswer::success(Vec::new())
        } else {
            SaslAnswer::error(codes::SASL_AUTHENTICATION_FAILED, "unexpected PLAIN message")
        }
    });
    let producer = tokio::time::timeout(START_BOUND, Producer::start(sasl_config(&cluster, "PLAIN")))
        .await
        .expect("bounded")
        .expect("authenticated");
    assert_eq!(produce(&producer, &["one", "two"]).await, [0, 1]);
    assert_eq!(log_values(&cluster), ["one", "two"]);
    producer.stop().await;

    let auths = cluster.authentications(0);
    assert!(!auths.is_empty());
    for auth in &auths {
        assert_eq!(auth.mechanism, "PLAIN");
        assert_eq!(auth.error_code, codes::NONE);
        assert_eq!(
            auth.client_messages,
            [format!("\0{USER}\0{PASSWORD}").into_bytes()]
        );
    }
    // Every connection authenticated before anything else.
    assert_eq!(cluster.unauthenticated_requests(0), 0);
    assert_eq!(auths.len(), cluster.connection_count(0));
    // SaslHandshake right after ApiVersions on each connection.
    let requests = cluster.requests(0);
    let keys: Vec<i16> = requests.iter().take(3).map(|r| r.api_key).collect();
    assert_eq!(
        keys,
        [
            ApiKey::ApiVersions.code(),
            ApiKey::SaslHandshake.code(),
            ApiKey::SaslAuthenticate.code()
        ]
    );
    let authenticate = requests
        .iter()
        .find(|r| r.api_key == ApiKey::SaslAuthenticate.code())
        .expect("authenticate");
    assert_eq!(
        authenticate.api_version, 2,
        "SaslAuthenticate v2 is offered, so used"
    );
    let handshake = requests
        .iter()
        .find(|r| r.api_key == ApiKey::SaslHandshake.code())
        .expect("handshake");
    assert_eq!(handshake.api_version, 1);
}

#[actix_rt::test]
async fn oauthbearer_static_token_carries_the_configured_extensions() {
    let cluster = sasl_cluster(&["OAUTHBEARER"], |turn| {
        let expected = b"n,,\x01auth=Bearer static.jwt.token\x01logicalCluster=lkc-123\x01tenant=t1\x01\x01";
        if turn.client_message == expected {
            SaslAnswer::success(Vec::new())
        } else {
            SaslAnswer::error(
                codes::SASL_AUTHENTICATION_FAILED,
                "unexpected OAUTHBEARER message",
            )
        }
    });
    let mut config = sasl_config(&cluster, "OAUTHBEARER");
    config.sasl_oauthbearer_token = Some("static.jwt.token".into());
    config
        .set("sasl.oauthbearer.extensions", "tenant=t1,logicalCluster=lkc-123")
        .expect("extensions");
    let producer = tokio::time::timeout(START_BOUND, Producer::start(config))
        .await
        .expect("bounded")
        .expect("authenticated");
    assert_eq!(produce(&producer, &["oauth"]).await, [0]);
    assert_eq!(log_values(&cluster), ["oauth"]);
    producer.stop().await;
    let auths = cluster.authentications(0);
    assert!(
        !auths.is_empty() && auths.iter().all(|a| a.error_code == codes::NONE),
        "{auths:?}"
    );
}

#[actix_rt::test]
async fn oauthbearer_token_provider_is_asked_per_connection() {
    let cluster = sasl_cluster(&["OAUTHBEARER"], |turn| {
        let text = String::from_utf8_lossy(&turn.client_message).into_owned();
        // The configured extensions, with the token's own overriding by key.
        let ok = text.starts_with("n,,\x01auth=Bearer provided.token.")
            && text.ends_with("\x01tenant=t1\x01traceId=abc\x01\x01")
            && !text.contains("configured");
        if ok {
            SaslAnswer::success(Vec::new())
        } else {
            SaslAnswer::error(
                codes::SASL_AUTHENTICATION_FAILED,
                "unexpected OAUTHBEARER message",
            )
        }
    });
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let provider = move || -> TokenFuture {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            Ok(OAuthBearerToken {
                token: Secret::new(format!("provided.token.{n}")),
                lifetime: Some(Duration::from_secs(3600)),
                extensions: vec![("traceId".into(), "abc".into())],
            })
        })
    };
    let mut config = sasl_config(&cluster, "OAUTHBEARER");
    config
        .set("sasl.oauthbearer.extensions", "tenant=t1,traceId=configured")
        .expect("extensions");
    let producer = tokio::time::timeout(
        START_BOUND,
        Producer::builder(config)
            .oauthbearer_token_provider(Arc::new(provider))
            .start(),
    )
    .await
    .expect("bounded")
    .expect("authenticated");
    assert_eq!(produce(&producer, &["from-provider"]).await, [0]);
    assert_eq!(log_values(&cluster), ["from-provider"]);
    producer.stop().await;

    let auths = cluster.authentications(0);
    assert!(
        !auths.is_empty() && auths.iter().all(|a| a.error_code == codes::NONE),
        "{auths:?}"
    );
    // One token per authentication: the provider is asked on each connection.
    assert_eq!(calls.load(Ordering::SeqCst), auths.len());
    let tokens: Vec<String> = auths
        .iter()
        .map(|a| String::from_utf8_lossy(&a.client_messages[0]).into_owned())
        .collect();
    for (n, token) in tokens.iter().enumerate() {
        assert!(tokens[..n].iter().all(|t| t != token), "token reused: {tokens:?}");
    }
}

#[actix_rt::test]
async fn oauthbearer_refusal_is_reported_with_the_servers_status() {
    // RFC 7628: the server answers an error JSON; the client acknowledges
    // with a single 0x01; the broker then fails the authentication.
    let cluster = sasl_cluster(&["OAUTHBEARER"], |turn| match turn.step {
        0 => SaslAnswer::challenge(r#"{"status":"invalid_token"}"#),
        _ => {
            assert_eq!(turn.client_message, b"\x01", "the RFC 7628 acknowledgement");
            SaslAnswer::error(codes::SASL_AUTHENTICATION_FAILED, "invalid token")
        }
    });
    let mut config = sasl_config(&cluster, "OAUTHBEARER");
    config.sasl_oauthbearer_token = Some("expired.jwt.token".into());
    let failure = fatal_failure(&cluster, config).await;
    match failure {
        AuthenticationFailure::OAuthBearer(inner) => {
            assert!(inner.to_string().contains("invalid_token"), "{inner}")
        }
        other => panic!("expected an OAUTHBEARER failure, got {other:?}"),
    }
    assert_eq!(cluster.request_count(0, ApiKey::SaslAuthenticate), 2);
}

#[actix_rt::test]
async fn scram_sha256_and_sha512_authenticate_against_an_honest_server() {
    for hash in [ScramHash::Sha256, ScramHash::Sha512] {
        let mechanism = hash.mechanism();
        let cluster = sasl_cluster(
            &["PLAIN", mechanism],
            ScramServer::new(hash, USER, PASSWORD).into_fn(),
        );
        let producer = tokio::time::timeout(START_BOUND, Producer::start(sasl_config(&cluster, mechanism)))
            .await
            .expect("bounded")
            .unwrap_or_else(|e| panic!("{mechanism}: {e}"));
        assert_eq!(produce(&producer, &[mechanism]).await, [0]);
        assert_eq!(log_values(&cluster), [mechanism]);
        producer.stop().await;
        let auths = cluster.authentications(0);
        assert!(!auths.is_empty(), "{mechanism}");
        for auth in &auths {
            assert_eq!(auth.mechanism, mechanism);
            assert_eq!(auth.error_code, codes::NONE, "{mechanism}: {auth:?}");
            assert_eq!(auth.client_messages.len(), 2, "client-first and client-final");
        }
        assert_eq!(cluster.unauthenticated_requests(0), 0);
    }
}

#[actix_rt::test]
async fn scram_username_with_comma_and_equals_is_escaped() {
    let user = "al,ice=admin";
    let cluster = sasl_cluster(
        &["SCRAM-SHA-256"],
        ScramServer::new(ScramHash::Sha256, user, PASSWORD).into_fn(),
    );
    let mut config = sasl_config(&cluster, "SCRAM-SHA-256");
    config.sasl_plain_username = Some(user.into());
    let producer = tokio::time::timeout(START_BOUND, Producer::start(config))
        .await
        .expect("bounded")
        .expect("authenticated");
    producer.stop().await;
    let auths = cluster.authentications(0);
    assert!(!auths.is_empty());
    let first = String::from_utf8_lossy(&auths[0].client_messages[0]).into_owned();
    assert!(first.starts_with("n,,n=al=2Cice=3Dadmin,r="), "{first}");
    assert_eq!(auths[0].error_code, codes::NONE);
}

#[actix_rt::test]
async fn scram_wrong_password_is_rejected_by_the_server_once() {
    let cluster = sasl_cluster(
        &["SCRAM-SHA-512"],
        ScramServer::new(ScramHash::Sha512, USER, "the-real-password").into_fn(),
    );
    let failure = fatal_failure(&cluster, sasl_config(&cluster, "SCRAM-SHA-512")).await;
    assert_eq!(
        failure,
        AuthenticationFailure::Rejected {
            mechanism: "SCRAM-SHA-512".into(),
            code: ErrorCode(codes::SASL_AUTHENTICATION_FAILED),
            message: Some(
                "Authentication failed during authentication due to invalid credentials with SASL \
                 mechanism SCRAM-SHA-512"
                    .into()
            ),
        }
    );
    assert_eq!(cluster.connection_count(0), 1);
    assert_eq!(cluster.request_count(0, ApiKey::SaslAuthenticate), 2);
    let shown = format!("{failure} {failure:?}");
    assert!(
        !shown.contains(PASSWORD) && !shown.contains("the-real-password"),
        "{shown}"
    );
}

// ---- KIP-368 -------------------------------------------------------------

#[actix_rt::test]
async fn session_lifetime_is_renewed_without_losing_duplicating_or_reordering() {
    const LIFETIME_MS: i64 = 1_500;
    let cluster = sasl_cluster(&["PLAIN"], |_turn| {
        SaslAnswer::success(Vec::new()).session_lifetime_ms(LIFETIME_MS)
    });
    let mut config = sasl_config(&cluster, "PLAIN");
    config.linger_ms = 5;
    let producer = tokio::time::timeout(START_BOUND, Producer::start(config))
        .await
        .expect("bounded")
        .expect("authenticated");

    // Keep producing for about five session lifetimes' worth of time (over
    // three lifetimes), a few records every 20 ms, without awaiting each.
    let mut sent = Vec::new();
    let mut deliveries = Vec::new();
    let until = Instant::now() + Duration::from_millis(5_000);
    let mut n = 0;
    while Instant::now() < until {
        let records: Vec<_> = (0..4)
            .map(|i| {
                let value = format!("r{:05}", n + i);
                sent.push(value.clone());
                ProducerRecord::new(TOPIC, value).partition(0)
            })
            .collect();
        n += 4;
        for result in producer.send_all(records).await {
            deliveries.push(result.expect("enqueued"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let offsets: Vec<i64> = tokio::time::timeout(Duration::from_secs(20), join_all(deliveries))
        .await
        .expect("every delivery completes")
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|e| panic!("record {i} failed: {e}")).offset)
        .collect();
    producer.stop().await;

    // Each record acknowledged once, in send order, at consecutive offsets.
    let expected: Vec<i64> = (0..sent.len() as i64).collect();
    assert_eq!(offsets, expected);
    // The log holds each exactly once, in order.
    assert_eq!(log_values(&cluster), sent);
    // Several authentications, all successful; no request was ever refused
    // for a lapsed session or a missing authentication.
    let auths = cluster.authentications(0);
    assert!(
        auths.len() >= 3,
        "only {} authentications in 5 s with 1.5 s sessions",
        auths.len()
    );
    assert!(auths
        .iter()
        .all(|a| a.error_code == codes::NONE && a.session_lifetime_ms == LIFETIME_MS));
    assert_eq!(cluster.expired_session_requests(0), 0);
    assert_eq!(cluster.unauthenticated_requests(0), 0);
}

#[actix_rt::test]
async fn short_lived_oauthbearer_tokens_renew_the_connection_without_a_broker_lifetime() {
    // The broker sets no session lifetime; the token says it lasts 1 s.
    let cluster = sasl_cluster(&["OAUTHBEARER"], |_turn| SaslAnswer::success(Vec::new()));
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let provider = move || -> TokenFuture {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            Ok(OAuthBearerToken {
                token: Secret::new(format!("short.lived.{n}")),
                lifetime: Some(Duration::from_millis(1_000)),
                extensions: Vec::new(),
            })
        })
    };
    let mut config = sasl_config(&cluster, "OAUTHBEARER");
    config
        .set("sasl.oauthbearer.extensions", "tenant=t1,traceId=configured")
        .expect("extensions");
    let producer = tokio::time::timeout(
        START_BOUND,
        Producer::builder(config)
            .oauthbearer_token_provider(Arc::new(provider))
            .start(),
    )
    .await
    .expect("bounded")
    .expect("authenticated");
    let mut sent = Vec::new();
    let mut deliveries = Vec::new();
    let until = Instant::now() + Duration::from_millis(3_000);
    while Instant::now() < until {
        let value = format!("v{:04}", sent.len());
        sent.push(value.clone());
        deliveries.push(
            producer
                .send(ProducerRecord::new(TOPIC, value).partition(0))
                .await
                .expect("enqueued"),
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let offsets: Vec<i64> = tokio::time::timeout(Duration::from_secs(20), join_all(deliveries))
        .await
        .expect("every delivery completes")
        .into_iter()
        .map(|r| r.expect("delivered").offset)
        .collect();
    producer.stop().await;
    assert_eq!(offsets, (0..sent.len() as i64).collect::<Vec<_>>());
    assert_eq!(log_values(&cluster), sent);
    let auths = cluster.authentications(0);
    assert!(
        auths.len() >= 3,
        "{} authentications in 3 s with 1 s tokens",
        auths.len()
    );
    assert!(auths.iter().all(|a| a.error_code == codes::NONE));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        auths.len(),
        "a fresh token per authentication"
    );
}

// ---- the fake itself -----------------------------------------------------

#[test]
fn fake_refuses_requests_before_authentication() {
    let cluster = sasl_cluster(&["PLAIN"], |_turn| SaslAnswer::success(Vec::new()));
    let mut conn =
        ProbeConnection::connect(&cluster.addr(0), "sasl-selftest", Duration::from_secs(3)).expect("connect");
    let metadata = MetadataRequest {
        topics: None,
        allow_auto_topic_creation: false,
        include_cluster_authorized_operations: false,
        include_topic_authorized_operations: false,
    };
    assert!(
        conn.call(&metadata).is_err(),
        "Metadata before SASL must close the connection"
    );
    assert_eq!(cluster.unauthenticated_requests(0), 1);
}

#[test]
fn fake_serves_a_full_plain_exchange_to_a_probe() {
    let cluster = sasl_cluster(&["PLAIN", "OAUTHBEARER"], |turn| {
        SaslAnswer::success(b"done".to_vec()).session_lifetime_ms(60_000 + turn.step as i64)
    });
    let mut conn =
        ProbeConnection::connect(&cluster.addr(0), "sasl-selftest", Duration::from_secs(3)).expect("connect");
    let refused = conn
        .call(&SaslHandshakeRequest {
            mechanism: "plain".into(),
        })
        .expect("answered");
    assert_eq!(
        refused.error_code,
        ErrorCode(codes::UNSUPPORTED_SASL_MECHANISM),
        "names are exact"
    );
    assert_eq!(refused.mechanisms, ["PLAIN", "OAUTHBEARER"]);
    // Kafka closes the connection after refusing a mechanism.
    assert!(conn
        .call(&SaslHandshakeRequest {
            mechanism: "PLAIN".into()
        })
        .is_err());

    let mut conn =
        ProbeConnection::connect(&cluster.addr(0), "sasl-selftest", Duration::from_secs(3)).expect("connect");
    let handshake = conn
        .call(&SaslHandshakeRequest {
            mechanism: "PLAIN".into(),
        })
        .expect("answered");
    assert_eq!(handshake.error_code, ErrorCode(codes::NONE));
    let answer = conn
        .call(&SaslAuthenticateRequest {
            auth_bytes: b"\0u\0p".to_vec(),
        })
        .expect("answered");
    assert_eq!(answer.error_code, ErrorCode(codes::NONE));
    assert_eq!(answer.auth_bytes, b"done");
    assert_eq!(answer.session_lifetime_ms, 60_000);
    // Authenticated: other requests are served now.
    let metadata = MetadataRequest {
        topics: None,
        allow_auto_topic_creation: false,
        include_cluster_authorized_operations: false,
        include_topic_authorized_operations: false,
    };
    assert!(conn.call(&metadata).is_ok());
    let auths = cluster.authentications(0);
    assert_eq!(auths.len(), 1);
    assert_eq!(auths[0].connection, 2);
    assert_eq!(auths[0].client_messages, [b"\0u\0p".to_vec()]);
}

#[test]
fn fake_refuses_requests_after_the_session_expired() {
    let cluster = sasl_cluster(&["PLAIN"], |_turn| {
        SaslAnswer::success(Vec::new()).session_lifetime_ms(300)
    });
    let mut conn =
        ProbeConnection::connect(&cluster.addr(0), "sasl-selftest", Duration::from_secs(3)).expect("connect");
    let handshake = conn
        .call(&SaslHandshakeRequest {
            mechanism: "PLAIN".into(),
        })
        .expect("answered");
    assert_eq!(handshake.error_code, ErrorCode(codes::NONE));
    let answer = conn
        .call(&SaslAuthenticateRequest {
            auth_bytes: b"\0u\0p".to_vec(),
        })
        .expect("answered");
    assert_eq!(answer.session_lifetime_ms, 300);
    let metadata = MetadataRequest {
        topics: None,
        allow_auto_topic_creation: false,
        include_cluster_authorized_operations: false,
        include_topic_authorized_operations: false,
    };
    assert!(conn.call(&metadata).is_ok(), "within the session");
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        conn.call(&metadata).is_err(),
        "after the session the broker closes the connection"
    );
    assert_eq!(cluster.expired_session_requests(0), 1);
    assert_eq!(cluster.unauthenticated_requests(0), 0);
}
