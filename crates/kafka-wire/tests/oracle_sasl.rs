//! SaslHandshake and SaslAuthenticate checked against the `kafka-protocol`
//! crate, for every version.

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{
    SaslAuthenticateRequest as KpAuthRequest, SaslAuthenticateResponse as KpAuthResponse,
    SaslHandshakeRequest as KpHandshakeRequest, SaslHandshakeResponse as KpHandshakeResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafka_wire::messages::sasl_authenticate::*;
use kafka_wire::messages::sasl_handshake::*;
use kafka_wire::messages::{Request, Response};
use kafka_wire::{ApiKey, ErrorCode, Reader, VersionRange, Writer};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

fn versions(api: ApiKey) -> impl Iterator<Item = i16> {
    let VersionRange { min, max } = api.supported();
    min..=max
}

fn s(value: &str) -> StrBytes {
    StrBytes::from_string(value.to_owned())
}

fn encode_ours<R: Request>(request: &R, version: i16) -> Bytes {
    let mut w = Writer::new(R::API_KEY.is_flexible(version));
    request.encode(version, &mut w).unwrap();
    w.into_bytes()
}

fn decode_ours<R: Response>(api: ApiKey, bytes: &[u8], version: i16) -> R {
    let mut r = Reader::new(bytes, api.is_flexible(version));
    let response = R::decode(&mut r, version).unwrap();
    r.expect_end().unwrap();
    response
}

fn handshake_response() -> impl Strategy<Value = SaslHandshakeResponse> {
    (any::<i16>(), vec("[A-Z0-9-]{0,16}", 0..5)).prop_map(|(error_code, mechanisms)| SaslHandshakeResponse {
        error_code: ErrorCode(error_code),
        mechanisms,
    })
}

fn authenticate_response() -> impl Strategy<Value = SaslAuthenticateResponse> {
    (
        any::<i16>(),
        option::of(".{0,24}"),
        vec(any::<u8>(), 0..64),
        any::<i64>(),
    )
        .prop_map(|(error_code, error_message, auth_bytes, session_lifetime_ms)| {
            SaslAuthenticateResponse {
                error_code: ErrorCode(error_code),
                error_message,
                auth_bytes,
                session_lifetime_ms,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn handshake_request_matches(mechanism in "[A-Z0-9-]{0,20}") {
        let request = SaslHandshakeRequest { mechanism };
        for version in versions(ApiKey::SaslHandshake) {
            let mut bytes = encode_ours(&request, version);
            let theirs = KpHandshakeRequest::decode(&mut bytes, version).unwrap();
            prop_assert!(bytes.is_empty());
            prop_assert_eq!(theirs.mechanism.as_str(), request.mechanism.as_str());
        }
    }

    #[test]
    fn handshake_response_matches(response in handshake_response()) {
        for version in versions(ApiKey::SaslHandshake) {
            let theirs = KpHandshakeResponse::default()
                .with_error_code(response.error_code.0)
                .with_mechanisms(response.mechanisms.iter().map(|m| s(m)).collect());
            let mut buf = BytesMut::new();
            theirs.encode(&mut buf, version).unwrap();
            let ours: SaslHandshakeResponse = decode_ours(ApiKey::SaslHandshake, &buf, version);
            prop_assert_eq!(&ours, &response);
        }
    }

    #[test]
    fn authenticate_request_matches(auth_bytes in vec(any::<u8>(), 0..300)) {
        let request = SaslAuthenticateRequest { auth_bytes };
        for version in versions(ApiKey::SaslAuthenticate) {
            let mut bytes = encode_ours(&request, version);
            let theirs = KpAuthRequest::decode(&mut bytes, version).unwrap();
            prop_assert!(bytes.is_empty());
            prop_assert_eq!(theirs.auth_bytes.as_ref(), request.auth_bytes.as_slice());
        }
    }

    #[test]
    fn authenticate_response_matches(response in authenticate_response()) {
        for version in versions(ApiKey::SaslAuthenticate) {
            let mut expected = response.clone();
            if version < 1 {
                expected.session_lifetime_ms = 0;
            }
            let theirs = KpAuthResponse::default()
                .with_error_code(expected.error_code.0)
                .with_error_message(expected.error_message.as_deref().map(s))
                .with_auth_bytes(Bytes::from(expected.auth_bytes.clone()))
                .with_session_lifetime_ms(expected.session_lifetime_ms);
            let mut buf = BytesMut::new();
            theirs.encode(&mut buf, version).unwrap();
            let ours: SaslAuthenticateResponse = decode_ours(ApiKey::SaslAuthenticate, &buf, version);
            prop_assert_eq!(&ours, &expected, "v{}", version);
        }
    }
}
