//! Tests of the credentials' `Debug`, and helpers shared by the sasl tests:
//! an RFC 5802 server and hand-made broker frames.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use kafka_wire::{Reader, Writer};

use super::*;

/// The server's side of RFC 5802, written from the RFC independently of the
/// client's flow: stores `StoredKey` / `ServerKey` for a password, checks a
/// client-final message, answers with the signature.
pub(crate) struct TestServer {
    mechanism: ScramMechanism,
    salt: Vec<u8>,
    iterations: u32,
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
}

impl TestServer {
    pub(crate) fn new(mechanism: ScramMechanism, password: &str, salt: &[u8], iterations: u32) -> Self {
        let salted = mechanism.salted_password(password.as_bytes(), salt, iterations);
        let client_key = mechanism.hmac(&salted, b"Client Key");
        TestServer {
            mechanism,
            salt: salt.to_vec(),
            iterations,
            stored_key: mechanism.hash(&client_key).to_vec(),
            server_key: mechanism.hmac(&salted, b"Server Key").to_vec(),
        }
    }

    pub(crate) fn server_first(&self, client_first: &[u8], server_nonce: &str) -> (String, String) {
        let text = std::str::from_utf8(client_first).unwrap();
        let bare = text.strip_prefix("n,,").unwrap();
        let client_nonce = bare.split(",r=").nth(1).unwrap();
        let first = format!(
            "r={client_nonce}{server_nonce},s={},i={}",
            BASE64.encode(&self.salt),
            self.iterations
        );
        (bare.to_owned(), first)
    }

    /// `Some(server-final)` if the proof is right.
    pub(crate) fn server_final(&self, bare: &str, server_first: &str, client_final: &[u8]) -> Option<String> {
        let text = std::str::from_utf8(client_final).unwrap();
        let (without_proof, proof) = text.split_once(",p=").unwrap();
        let auth_message = format!("{bare},{server_first},{without_proof}");
        let signature = self.mechanism.hmac(&self.stored_key, auth_message.as_bytes());
        let proof = BASE64.decode(proof).unwrap();
        let client_key: Vec<u8> = proof.iter().zip(signature.iter()).map(|(p, s)| p ^ s).collect();
        if self.mechanism.hash(&client_key).as_slice() != self.stored_key.as_slice() {
            return None;
        }
        let server_signature = self.mechanism.hmac(&self.server_key, auth_message.as_bytes());
        Some(format!("v={}", BASE64.encode(&server_signature[..])))
    }
}

/// A request frame's pieces: (api key, version, correlation id, client id,
/// the SASL token for SaslAuthenticate or the mechanism for SaslHandshake).
pub(crate) fn parse_request(frame: &[bytes::Bytes]) -> (i16, i16, i32, String, Vec<u8>) {
    let bytes: Vec<u8> = frame.iter().flat_map(|b| b.iter().copied()).collect();
    let mut r = Reader::new(&bytes, false);
    let size = r.i32().unwrap();
    assert_eq!(size as usize, bytes.len() - 4, "size prefix");
    let key = r.i16().unwrap();
    let version = r.i16().unwrap();
    let correlation_id = r.i32().unwrap();
    let client_id = r.string("client_id").unwrap();
    let payload = if key == 17 {
        r.string("mechanism").unwrap().into_bytes()
    } else {
        assert_eq!(key, 36);
        if version >= 2 {
            r.set_flexible(true);
            r.skip_tagged_fields().unwrap();
        }
        let token = r.bytes("auth_bytes").unwrap().to_vec();
        r.skip_tagged_fields().unwrap();
        token
    };
    r.expect_end().unwrap();
    (key, version, correlation_id, client_id, payload)
}

/// A SaslHandshake response body (v0/v1, never flexible).
pub(crate) fn handshake_response(correlation_id: i32, error: i16, mechanisms: &[&str]) -> Vec<u8> {
    let mut w = Writer::new(false);
    w.i32(correlation_id);
    w.i16(error);
    w.array_len(mechanisms.len()).unwrap();
    for m in mechanisms {
        w.string(m).unwrap();
    }
    w.into_bytes().to_vec()
}

/// A SaslAuthenticate response body at `version` (header included).
pub(crate) fn authenticate_response(
    version: i16,
    correlation_id: i32,
    error: i16,
    message: Option<&str>,
    token: &[u8],
    session_lifetime_ms: i64,
) -> Vec<u8> {
    let flexible = version >= 2;
    let mut w = Writer::new(flexible);
    w.i32(correlation_id);
    if flexible {
        w.empty_tagged_fields();
    }
    w.i16(error);
    w.nullable_string(message).unwrap();
    w.bytes(token).unwrap();
    if version >= 1 {
        w.i64(session_lifetime_ms);
    }
    w.empty_tagged_fields();
    w.into_bytes().to_vec()
}

#[test]
fn credentials_debug_shows_no_secret() {
    let all = [
        SaslCredentials::Plain {
            username: "alice".into(),
            password: Secret::new("plain-pw-1"),
        },
        SaslCredentials::Scram {
            mechanism: ScramMechanism::Sha512,
            username: "bob".into(),
            password: Secret::new("scram-pw-2"),
        },
        SaslCredentials::OAuthBearer {
            token: Secret::new("eyJ.token-3"),
            extensions: vec![("tenant".into(), "ext-value-4".into())],
        },
    ];
    for credentials in &all {
        for shown in [format!("{credentials:?}"), format!("{credentials:#?}")] {
            for secret in ["plain-pw-1", "scram-pw-2", "eyJ.token-3", "ext-value-4"] {
                assert!(!shown.contains(secret), "{shown}");
            }
            assert!(shown.contains("<redacted>"), "{shown}");
        }
    }
    assert!(format!("{:?}", all[0]).contains("alice"));
    assert!(format!("{:?}", all[2]).contains("tenant"));
    let names: Vec<&str> = all.iter().map(SaslCredentials::mechanism_name).collect();
    assert_eq!(names, ["PLAIN", "SCRAM-SHA-512", "OAUTHBEARER"]);
}
