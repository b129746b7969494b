//! `SaslHandshake` (key 17), v0–v1; never flexible.
//!
//! Chooses the SASL mechanism. With v0 the SASL tokens that follow are sent
//! raw (size-prefixed, outside Kafka framing); with v1 they go in
//! `SaslAuthenticate` requests.

use crate::api::ApiKey;
use crate::codec::{DecodeError, EncodeError, Reader, Writer};
use crate::messages::{Request, Response};
use crate::ErrorCode;

/// Proposes a SASL mechanism.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslHandshakeRequest {
    /// The mechanism, e.g. `PLAIN` or `SCRAM-SHA-512`.
    pub mechanism: String,
}

impl Request for SaslHandshakeRequest {
    const API_KEY: ApiKey = ApiKey::SaslHandshake;
    type Response = SaslHandshakeResponse;

    fn encode(&self, _version: i16, w: &mut Writer) -> Result<(), EncodeError> {
        w.string(&self.mechanism)
    }
}

/// The broker's answer to [`SaslHandshakeRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslHandshakeResponse {
    /// `UNSUPPORTED_SASL_MECHANISM` (33) if the mechanism is not enabled.
    pub error_code: ErrorCode,
    /// The mechanisms the broker has enabled.
    pub mechanisms: Vec<String>,
}

impl Response for SaslHandshakeResponse {
    fn decode(r: &mut Reader<'_>, _version: i16) -> Result<Self, DecodeError> {
        Ok(SaslHandshakeResponse {
            error_code: ErrorCode(r.i16()?),
            mechanisms: r.array("mechanisms", 2, |r| r.string("mechanism"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], version: i16) -> Result<SaslHandshakeResponse, DecodeError> {
        let mut r = Reader::new(bytes, false);
        let response = SaslHandshakeResponse::decode(&mut r, version)?;
        r.expect_end()?;
        Ok(response)
    }

    const BODY: [u8; 18] = [
        0, 33, 0, 0, 0, 2, 0, 5, b'P', b'L', b'A', b'I', b'N', 0, 3, b'G', b'S', b'S',
    ];

    #[test]
    fn request_bytes() {
        let request = SaslHandshakeRequest {
            mechanism: "PLAIN".into(),
        };
        for version in 0..=1 {
            let mut w = Writer::new(false);
            request.encode(version, &mut w).unwrap();
            assert_eq!(w.into_bytes().as_ref(), &[0, 5, b'P', b'L', b'A', b'I', b'N']);
        }
    }

    #[test]
    fn decodes_response() {
        for version in 0..=1 {
            let response = decode(&BODY, version).unwrap();
            assert_eq!(response.error_code, ErrorCode(33));
            assert_eq!(response.mechanisms, vec!["PLAIN".to_owned(), "GSS".to_owned()]);
        }
    }

    #[test]
    fn truncated_input_fails() {
        for len in 0..BODY.len() {
            assert!(decode(&BODY[..len], 1).is_err(), "prefix {len}");
        }
    }

    #[test]
    fn hostile_counts_fail_before_allocating() {
        let body = [0, 0, 0, 0, 0, 3, 0, 1, b'x'];
        assert!(matches!(
            decode(&body, 1),
            Err(DecodeError::CountExceedsRemaining { .. })
        ));
    }
}
