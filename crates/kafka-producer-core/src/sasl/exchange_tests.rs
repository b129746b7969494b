//! Full exchanges against hand-made broker frames, and every way a broker
//! (or something pretending to be one) can make them fail.

use kafka_wire::ErrorCode;

use super::*;
use crate::error::{CredentialProblem, ScramFailure};
use crate::sasl::tests::{authenticate_response, handshake_response, parse_request, TestServer};
use crate::sasl::{ScramMechanism, Secret};

const NONCE: [u8; 24] = [0x42; 24];

fn plain() -> SaslCredentials {
    SaslCredentials::Plain {
        username: "alice".into(),
        password: Secret::new("alice-secret"),
    }
}

fn scram(mechanism: ScramMechanism, password: &str) -> SaslCredentials {
    SaslCredentials::Scram {
        mechanism,
        username: "alice".into(),
        password: Secret::new(password),
    }
}

fn oauth() -> SaslCredentials {
    SaslCredentials::OAuthBearer {
        token: Secret::new("header.claims."),
        extensions: vec![("tenant".into(), "t1".into())],
    }
}

/// Sends the handshake and answers it with success; returns the exchange
/// ready for its first SaslAuthenticate.
fn past_handshake(credentials: SaslCredentials, authenticate_version: i16) -> SaslExchange {
    let mut x = SaslExchange::new(credentials, 1, Some(authenticate_version), &NONCE, 5).unwrap();
    let mechanism = x.mechanism();
    let (key, version, id, client_id, payload) = parse_request(&x.request("cli").unwrap().unwrap());
    assert_eq!((key, version, id, client_id.as_str()), (17, 1, 5, "cli"));
    assert_eq!(payload, mechanism.as_bytes());
    let step = x
        .handle_response(&handshake_response(5, 0, &["PLAIN", mechanism]))
        .unwrap();
    assert_eq!(step, SaslStep::Continue);
    x
}

/// The next SaslAuthenticate request: (correlation id, token).
fn next_token(x: &mut SaslExchange, version: i16) -> (i32, Vec<u8>) {
    let (key, v, id, _, token) = parse_request(&x.request("cli").unwrap().unwrap());
    assert_eq!((key, v), (36, version));
    (id, token)
}

#[test]
fn plain_at_every_authenticate_version() {
    for version in 0..=2 {
        let mut x = past_handshake(plain(), version);
        let (id, token) = next_token(&mut x, version);
        assert_eq!(id, 6);
        assert_eq!(token, b"\0alice\0alice-secret");
        let step = x
            .handle_response(&authenticate_response(version, 6, 0, None, b"", 3_600_000))
            .unwrap();
        let lifetime = (version >= 1).then_some(3_600_000);
        assert_eq!(
            step,
            SaslStep::Done {
                session_lifetime_ms: lifetime,
                next_correlation_id: 7
            },
            "v{version}"
        );
        assert_eq!(x.request("cli").unwrap(), None, "nothing after done");
    }
}

#[test]
fn a_zero_or_negative_session_lifetime_means_none() {
    for lifetime in [0, -1] {
        let mut x = past_handshake(plain(), 2);
        next_token(&mut x, 2);
        let step = x
            .handle_response(&authenticate_response(2, 6, 0, None, b"", lifetime))
            .unwrap();
        assert!(
            matches!(
                step,
                SaslStep::Done {
                    session_lifetime_ms: None,
                    ..
                }
            ),
            "{step:?}"
        );
    }
}

/// Runs a SCRAM exchange against `server`; `tamper` may change the
/// server-final token before it is sent.
fn scram_exchange(
    mechanism: ScramMechanism,
    client_password: &str,
    server: &TestServer,
    tamper: impl FnOnce(String) -> Vec<u8>,
) -> Result<SaslStep, AuthenticationFailure> {
    let mut x = past_handshake(scram(mechanism, client_password), 2);
    let (id, client_first) = next_token(&mut x, 2);
    let (bare, server_first) = server.server_first(&client_first, "%srv-nonce");
    let step = x.handle_response(&authenticate_response(2, id, 0, None, server_first.as_bytes(), 0))?;
    assert_eq!(step, SaslStep::Continue);
    let (id, client_final) = next_token(&mut x, 2);
    match server.server_final(&bare, &server_first, &client_final) {
        Some(server_final) => x.handle_response(&authenticate_response(
            2,
            id,
            0,
            None,
            &tamper(server_final),
            900_000,
        )),
        None => x.handle_response(&authenticate_response(
            2,
            id,
            58,
            Some("Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"),
            b"",
            0,
        )),
    }
}

#[test]
fn scram_sha512_and_sha256_full_exchanges() {
    for mechanism in [ScramMechanism::Sha512, ScramMechanism::Sha256] {
        let server = TestServer::new(mechanism, "alice-secret", b"some salt", 4096);
        let step = scram_exchange(mechanism, "alice-secret", &server, String::into_bytes).unwrap();
        assert_eq!(
            step,
            SaslStep::Done {
                session_lifetime_ms: Some(900_000),
                next_correlation_id: 8
            }
        );
    }
}

#[test]
fn scram_with_a_wrong_password_is_rejected_with_the_brokers_message() {
    let server = TestServer::new(ScramMechanism::Sha512, "alice-secret", b"salt", 4096);
    let err = scram_exchange(ScramMechanism::Sha512, "wrong", &server, String::into_bytes).unwrap_err();
    match &err {
        AuthenticationFailure::Rejected {
            mechanism,
            code,
            message: Some(message),
        } => {
            assert_eq!(mechanism, "SCRAM-SHA-512");
            assert_eq!(*code, ErrorCode::SASL_AUTHENTICATION_FAILED);
            assert!(message.contains("invalid credentials"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retriable());
    assert!(!err.to_string().contains("wrong"), "{err}");
}

#[test]
fn a_fake_scram_server_cannot_complete_the_exchange() {
    let server = TestServer::new(ScramMechanism::Sha512, "alice-secret", b"salt", 4096);
    // A wrong ServerSignature (the server answers success, code 0).
    let err = scram_exchange(ScramMechanism::Sha512, "alice-secret", &server, |_| {
        b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==".to_vec()
    })
    .unwrap_err();
    assert_eq!(
        err,
        AuthenticationFailure::Scram(ScramFailure::WrongServerSignature)
    );
    // No ServerSignature at all: success without proof is refused.
    let err = scram_exchange(ScramMechanism::Sha512, "alice-secret", &server, |_| Vec::new()).unwrap_err();
    assert_eq!(
        err,
        AuthenticationFailure::Scram(ScramFailure::MissingServerSignature)
    );
    // An error in the server-final message.
    let err = scram_exchange(ScramMechanism::Sha512, "alice-secret", &server, |_| {
        b"e=other-error".to_vec()
    })
    .unwrap_err();
    assert_eq!(
        err,
        AuthenticationFailure::Scram(ScramFailure::ServerError {
            message: "other-error".into()
        })
    );
}

/// Answers the SCRAM client-first with `server_first(client_nonce)`.
fn scram_first_answer(server_first: impl FnOnce(&str) -> String) -> AuthenticationFailure {
    let mut x = past_handshake(scram(ScramMechanism::Sha256, "pw"), 1);
    let (id, client_first) = next_token(&mut x, 1);
    let text = String::from_utf8(client_first).unwrap();
    let nonce = text.rsplit("r=").next().unwrap().to_owned();
    let err = x
        .handle_response(&authenticate_response(
            1,
            id,
            0,
            None,
            server_first(&nonce).as_bytes(),
            0,
        ))
        .unwrap_err();
    assert_eq!(
        x.request("cli").unwrap(),
        None,
        "nothing more is sent after a failure"
    );
    err
}

#[test]
fn hostile_server_first_messages_are_refused() {
    type ServerFirst = fn(&str) -> String;
    let cases: [(ServerFirst, ScramFailure); 5] = [
        (
            |_| "r=someone-elses-nonce,s=c2FsdA==,i=4096".to_owned(),
            ScramFailure::NonceNotExtended,
        ),
        (
            |n| format!("r={n},s=c2FsdA==,i=4096"),
            ScramFailure::NonceNotExtended,
        ),
        (
            |n| format!("r={n}x,s=c2FsdA==,i=1"),
            ScramFailure::IterationsTooLow { got: 1, min: 4096 },
        ),
        (
            |n| format!("r={n}x,s=c2FsdA==,i=1000000000"),
            ScramFailure::IterationsTooHigh {
                got: 1_000_000_000,
                max: 1_000_000,
            },
        ),
        (|n| format!("r={n}x,s=,i=4096"), ScramFailure::EmptySalt),
    ];
    for (server_first, want) in cases {
        assert_eq!(
            scram_first_answer(server_first),
            AuthenticationFailure::Scram(want)
        );
    }
}

#[test]
fn oauthbearer_success() {
    let mut x = past_handshake(oauth(), 2);
    let (id, token) = next_token(&mut x, 2);
    assert_eq!(token, b"n,,\x01auth=Bearer header.claims.\x01tenant=t1\x01\x01");
    let step = x
        .handle_response(&authenticate_response(2, id, 0, None, b"", 0))
        .unwrap();
    assert!(matches!(step, SaslStep::Done { .. }), "{step:?}");
}

#[test]
fn oauthbearer_refusal_is_acknowledged_then_reported_with_the_servers_status() {
    let status = r#"{"status":"invalid_token"}"#;
    let mut x = past_handshake(oauth(), 2);
    let (id, _) = next_token(&mut x, 2);
    let step = x
        .handle_response(&authenticate_response(2, id, 0, None, status.as_bytes(), 0))
        .unwrap();
    assert_eq!(step, SaslStep::Continue);
    let (id, ack) = next_token(&mut x, 2);
    assert_eq!(ack, b"\x01");
    let err = x
        .handle_response(&authenticate_response(
            2,
            id,
            58,
            Some("Authentication failed"),
            b"",
            0,
        ))
        .unwrap_err();
    assert_eq!(
        err,
        AuthenticationFailure::OAuthBearer(OAuthBearerFailure::ServerError {
            status: status.into()
        })
    );
    // A broker that "accepts" the acknowledgement has still refused.
    let mut x = past_handshake(oauth(), 2);
    let (id, _) = next_token(&mut x, 2);
    x.handle_response(&authenticate_response(2, id, 0, None, status.as_bytes(), 0))
        .unwrap();
    let (id, _) = next_token(&mut x, 2);
    assert!(matches!(
        x.handle_response(&authenticate_response(2, id, 0, None, b"", 0)),
        Err(AuthenticationFailure::OAuthBearer(_))
    ));
}

#[test]
fn a_mechanism_the_broker_does_not_offer_lists_the_offered_ones_bounded() {
    let mut x = SaslExchange::new(scram(ScramMechanism::Sha512, "pw"), 1, Some(2), &NONCE, 0).unwrap();
    x.request("c").unwrap().unwrap();
    let err = x
        .handle_response(&handshake_response(0, 33, &["PLAIN", "SCRAM-SHA-256"]))
        .unwrap_err();
    assert_eq!(
        err,
        AuthenticationFailure::MechanismNotOffered {
            wanted: "SCRAM-SHA-512".into(),
            offered: vec!["PLAIN".into(), "SCRAM-SHA-256".into()],
        }
    );

    let long = "M".repeat(1000);
    let many: Vec<&str> = std::iter::repeat_n(long.as_str(), 100).collect();
    let mut x = SaslExchange::new(plain(), 1, Some(2), &[], 0).unwrap();
    x.request("c").unwrap().unwrap();
    match x.handle_response(&handshake_response(0, 33, &many)).unwrap_err() {
        AuthenticationFailure::MechanismNotOffered { offered, .. } => {
            assert_eq!(offered.len(), crate::error::MAX_OFFERED_MECHANISMS);
            assert!(offered.iter().all(|m| m.chars().count() <= 65));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn other_handshake_errors_are_refusals() {
    let mut x = SaslExchange::new(plain(), 1, Some(2), &[], 0).unwrap();
    x.request("c").unwrap().unwrap();
    assert_eq!(
        x.handle_response(&handshake_response(0, 34, &[])).unwrap_err(),
        AuthenticationFailure::HandshakeRefused {
            code: ErrorCode::ILLEGAL_SASL_STATE
        }
    );
}

#[test]
fn plain_rejected_keeps_a_bounded_broker_message() {
    let mut x = past_handshake(plain(), 2);
    let (id, _) = next_token(&mut x, 2);
    let message = "y".repeat(5000);
    match x
        .handle_response(&authenticate_response(2, id, 58, Some(&message), b"", 0))
        .unwrap_err()
    {
        AuthenticationFailure::Rejected {
            mechanism,
            message: Some(kept),
            ..
        } => {
            assert_eq!(mechanism, "PLAIN");
            assert_eq!(kept.chars().count(), crate::error::MAX_SERVER_TEXT + 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn correlation_ids_are_checked() {
    let mut x = SaslExchange::new(plain(), 1, Some(2), &[], 10).unwrap();
    x.request("c").unwrap().unwrap();
    assert_eq!(
        x.handle_response(&handshake_response(11, 0, &["PLAIN"]))
            .unwrap_err(),
        AuthenticationFailure::WrongCorrelationId {
            got: 11,
            expected: 10
        }
    );
    let mut x = past_handshake(plain(), 2);
    let (id, _) = next_token(&mut x, 2);
    assert_eq!(
        x.handle_response(&authenticate_response(2, id + 1, 0, None, b"", 0))
            .unwrap_err(),
        AuthenticationFailure::WrongCorrelationId {
            got: id + 1,
            expected: id
        }
    );
}

#[test]
fn one_request_at_a_time_and_no_answer_without_a_request() {
    let mut x = SaslExchange::new(plain(), 1, Some(2), &[], 0).unwrap();
    assert_eq!(
        x.handle_response(&handshake_response(0, 0, &[])).unwrap_err(),
        AuthenticationFailure::UnexpectedResponse
    );
    // That failure ended the exchange.
    assert_eq!(x.request("c").unwrap(), None);

    let mut x = SaslExchange::new(plain(), 1, Some(2), &[], 0).unwrap();
    assert!(x.request("c").unwrap().is_some());
    assert_eq!(x.request("c").unwrap(), None, "the handshake is in flight");
}

#[test]
fn undecodable_answers_fail() {
    let mut x = SaslExchange::new(plain(), 1, Some(2), &[], 0).unwrap();
    x.request("c").unwrap().unwrap();
    assert!(matches!(
        x.handle_response(&[0, 0]).unwrap_err(),
        AuthenticationFailure::Undecodable(_)
    ));
    let mut x = past_handshake(plain(), 2);
    let (id, _) = next_token(&mut x, 2);
    let body = authenticate_response(2, id, 0, None, b"", 0);
    let err = x.handle_response(&body[..body.len() - 3]).unwrap_err();
    assert!(matches!(err, AuthenticationFailure::Undecodable(_)), "{err}");
    assert!(err.is_retriable());
}

#[test]
fn brokers_without_sasl_authenticate_and_bad_credentials_fail_before_sending() {
    assert!(matches!(
        SaslExchange::new(plain(), 1, None, &[], 0),
        Err(AuthenticationFailure::SaslAuthenticateNotOffered)
    ));
    assert!(matches!(
        SaslExchange::new(plain(), 0, Some(0), &[], 0),
        Err(AuthenticationFailure::SaslAuthenticateNotOffered)
    ));
    assert!(matches!(
        SaslExchange::new(scram(ScramMechanism::Sha256, "pw"), 1, Some(2), &[1; 8], 0),
        Err(AuthenticationFailure::BadCredentials(
            CredentialProblem::NonceTooShort { got: 8, min: 18 }
        ))
    ));
    let empty = SaslCredentials::Plain {
        username: "u".into(),
        password: Secret::new(""),
    };
    assert!(matches!(
        SaslExchange::new(empty, 1, Some(2), &[], 0),
        Err(AuthenticationFailure::BadCredentials(CredentialProblem::Empty {
            field: "password"
        }))
    ));
}

#[test]
fn an_unsupported_version_is_an_encode_error() {
    let mut x = SaslExchange::new(plain(), 1, Some(99), &[], 0).unwrap();
    x.request("c").unwrap().unwrap();
    x.handle_response(&handshake_response(0, 0, &["PLAIN"])).unwrap();
    assert!(matches!(
        x.request("c").unwrap_err(),
        AuthenticationFailure::Encode(_)
    ));
    assert_eq!(x.request("c").unwrap(), None);
}

#[test]
fn debug_of_the_exchange_shows_no_secret() {
    let mut x = past_handshake(scram(ScramMechanism::Sha512, "scram-pw-9"), 2);
    let server = TestServer::new(ScramMechanism::Sha512, "scram-pw-9", b"salt", 4096);
    let (id, first) = next_token(&mut x, 2);
    let (_, server_first) = server.server_first(&first, "s");
    x.handle_response(&authenticate_response(2, id, 0, None, server_first.as_bytes(), 0))
        .unwrap();
    let (_, client_final) = next_token(&mut x, 2);
    let proof = String::from_utf8(client_final).unwrap();
    let proof = proof.rsplit("p=").next().unwrap().to_owned();
    for shown in [format!("{x:?}"), format!("{x:#?}")] {
        assert!(
            !shown.contains("scram-pw-9") && !shown.contains(&proof),
            "{shown}"
        );
        assert!(shown.contains("scram client-final"), "{shown}");
    }
    let x = SaslExchange::new(plain(), 1, Some(2), &[], 0).unwrap();
    assert!(!format!("{x:?}").contains("alice-secret"));
}
