//! `SaslAuthenticate` (key 36), v0–v2; flexible from v2.
//!
//! Carries the SASL tokens after a v1 `SaslHandshake`. The request's bytes
//! hold credentials, so its `Debug` output shows only their length.

use std::fmt;

use crate::api::ApiKey;
use crate::codec::{DecodeError, EncodeError, Reader, Writer};
use crate::messages::{Request, Response};
use crate::ErrorCode;

/// One SASL token from the client.
#[derive(Clone, PartialEq, Eq)]
pub struct SaslAuthenticateRequest {
    /// The token, as defined by the mechanism (may contain a password).
    pub auth_bytes: Vec<u8>,
}

impl fmt::Debug for SaslAuthenticateRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslAuthenticateRequest")
            .field(
                "auth_bytes",
                &format_args!("<{} bytes redacted>", self.auth_bytes.len()),
            )
            .finish()
    }
}

impl Request for SaslAuthenticateRequest {
    const API_KEY: ApiKey = ApiKey::SaslAuthenticate;
    type Response = SaslAuthenticateResponse;

    fn encode(&self, _version: i16, w: &mut Writer) -> Result<(), EncodeError> {
        w.bytes(&self.auth_bytes)?;
        w.empty_tagged_fields();
        Ok(())
    }
}

/// The broker's answer to [`SaslAuthenticateRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslAuthenticateResponse {
    /// `SASL_AUTHENTICATION_FAILED` (58) and others.
    pub error_code: ErrorCode,
    /// Why authentication failed, if it did.
    pub error_message: Option<String>,
    /// The broker's token, as defined by the mechanism.
    pub auth_bytes: Vec<u8>,
    /// Session lifetime in ms after which the client must re-authenticate
    /// (KIP-368; v1+, 0 means no limit).
    pub session_lifetime_ms: i64,
}

impl Response for SaslAuthenticateResponse {
    fn decode(r: &mut Reader<'_>, version: i16) -> Result<Self, DecodeError> {
        let error_code = ErrorCode(r.i16()?);
        let error_message = r.nullable_string("error_message")?;
        let auth_bytes = r.bytes("auth_bytes")?.to_vec();
        let session_lifetime_ms = if version >= 1 { r.i64()? } else { 0 };
        r.skip_tagged_fields()?;
        Ok(SaslAuthenticateResponse {
            error_code,
            error_message,
            auth_bytes,
            session_lifetime_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(request: &SaslAuthenticateRequest, version: i16) -> Vec<u8> {
        let mut w = Writer::new(ApiKey::SaslAuthenticate.is_flexible(version));
        request.encode(version, &mut w).unwrap();
        w.into_bytes().to_vec()
    }

    fn decode(bytes: &[u8], version: i16) -> Result<SaslAuthenticateResponse, DecodeError> {
        let mut r = Reader::new(bytes, ApiKey::SaslAuthenticate.is_flexible(version));
        let response = SaslAuthenticateResponse::decode(&mut r, version)?;
        r.expect_end()?;
        Ok(response)
    }

    fn request() -> SaslAuthenticateRequest {
        SaslAuthenticateRequest {
            auth_bytes: b"\0u\0secret".to_vec(),
        }
    }

    #[test]
    fn request_bytes() {
        let token = b"\0u\0secret";
        let classic = [&[0, 0, 0, 9][..], token].concat();
        assert_eq!(encode(&request(), 0), classic);
        assert_eq!(encode(&request(), 1), classic);
        assert_eq!(encode(&request(), 2), [&[10][..], token, &[0]].concat());
    }

    #[test]
    fn debug_redacts_the_token() {
        let shown = format!("{:?}", request());
        assert!(!shown.contains("secret") && !shown.contains("115"), "{shown}");
        assert!(shown.contains("9 bytes redacted"), "{shown}");
    }

    fn v0_body() -> Vec<u8> {
        vec![0, 58, 0, 3, b'b', b'a', b'd', 0, 0, 0, 1, 0xaa]
    }

    fn v2_body() -> Vec<u8> {
        let mut b = vec![0, 0, 0, 2, 0xaa];
        b.extend(3_600_000i64.to_be_bytes());
        b.push(0);
        b
    }

    #[test]
    fn decodes_responses() {
        let v0 = decode(&v0_body(), 0).unwrap();
        assert_eq!(v0.error_code, ErrorCode(58));
        assert_eq!(v0.error_message.as_deref(), Some("bad"));
        assert_eq!(v0.auth_bytes, [0xaa]);
        assert_eq!(v0.session_lifetime_ms, 0);

        let mut v1 = v0_body();
        v1.extend(5i64.to_be_bytes());
        assert_eq!(decode(&v1, 1).unwrap().session_lifetime_ms, 5);

        let v2 = decode(&v2_body(), 2).unwrap();
        assert_eq!(v2.error_code, ErrorCode(0));
        assert_eq!(v2.error_message, None);
        assert_eq!(v2.auth_bytes, [0xaa]);
        assert_eq!(v2.session_lifetime_ms, 3_600_000);
    }

    #[test]
    fn truncated_input_fails() {
        for (body, version) in [(v0_body(), 0), (v2_body(), 2)] {
            for len in 0..body.len() {
                assert!(decode(&body[..len], version).is_err(), "v{version} prefix {len}");
            }
        }
    }

    #[test]
    fn oversized_lengths_fail() {
        let classic = [0, 0, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff];
        assert!(matches!(
            decode(&classic, 0),
            Err(DecodeError::UnexpectedEof { .. })
        ));
    }
}
