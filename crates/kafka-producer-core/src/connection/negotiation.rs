//! `ApiVersions` negotiation, the first exchange on every connection.
//!
//! The client asks at its highest `ApiVersions` version. A broker that does
//! not know that version answers `UNSUPPORTED_VERSION` in the v0 format,
//! listing the `ApiVersions` versions it does support; the client then asks
//! again at the highest of those (KIP-511). The driver writes
//! [`request`](ApiVersionsNegotiation::request), reads one frame, and hands it
//! to [`handle_response`](ApiVersionsNegotiation::handle_response) until it
//! says [`Negotiated::Done`].

use bytes::Bytes;
use kafka_wire::api::ApiKey;
use kafka_wire::frame::encode_request;
use kafka_wire::header::decode_response_header;
use kafka_wire::messages::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_wire::{ErrorCode, Reader};

use crate::error::NegotiationFailure;

/// One connection's negotiation. See the module documentation.
#[derive(Debug, Clone)]
pub struct ApiVersionsNegotiation {
    version: i16,
    correlation_id: i32,
}

/// What a response means.
#[derive(Debug)]
pub enum Negotiated {
    /// Ask again (at a lower version): write [`ApiVersionsNegotiation::request`].
    Retry,
    /// The broker's answer, and the next free correlation id.
    Done(ApiVersionsResponse, i32),
}

impl Default for ApiVersionsNegotiation {
    fn default() -> Self {
        ApiVersionsNegotiation {
            version: ApiKey::ApiVersions.supported().max,
            correlation_id: 0,
        }
    }
}

impl ApiVersionsNegotiation {
    /// The version the next request is sent at.
    pub fn version(&self) -> i16 {
        self.version
    }

    /// The next request, encoded and framed.
    pub fn request(&self, client_id: &str) -> Result<Vec<Bytes>, NegotiationFailure> {
        let request = ApiVersionsRequest::default();
        encode_request(&request, self.version, self.correlation_id, Some(client_id))
            .map_err(NegotiationFailure::Encode)
    }

    /// The broker's answer (a frame body, header included) to the last
    /// request.
    pub fn handle_response(&mut self, body: &[u8]) -> Result<Negotiated, NegotiationFailure> {
        let version = self.version;
        let mut header = Reader::new(body, false);
        let got = decode_response_header(&mut header, ApiKey::ApiVersions, version)
            .map_err(NegotiationFailure::Undecodable)?;
        if got != self.correlation_id {
            return Err(NegotiationFailure::WrongCorrelationId {
                got,
                expected: self.correlation_id,
            });
        }
        let response = ApiVersionsResponse::decode_any(header.rest(), version)
            .map_err(NegotiationFailure::Undecodable)?;
        self.correlation_id += 1;
        if response.error_code == ErrorCode::UNSUPPORTED_VERSION {
            if let Some(lower) = response.fallback_version().filter(|&lower| lower < version) {
                tracing::debug!(from = version, to = lower, "ApiVersions version fallback");
                self.version = lower;
                return Ok(Negotiated::Retry);
            }
        }
        if !response.error_code.is_ok() {
            let code = response.error_code;
            return Err(NegotiationFailure::Refused { version, code });
        }
        Ok(Negotiated::Done(response, self.correlation_id))
    }
}

/// Whether the first bytes a broker sent look like a TLS record (a handshake
/// or an alert, TLS 1.0 to 1.3) rather than a Kafka frame: the answer of a
/// TLS listener to a plaintext request. Read as a frame length, such bytes
/// are over 350 MB, so a frame-size error comes first; this says why.
pub fn looks_like_tls(first_bytes: &[u8]) -> bool {
    matches!(first_bytes, [0x15 | 0x16, 0x03, 0x00..=0x04, ..])
}

#[cfg(test)]
mod tests {
    use kafka_wire::Writer;

    #[test]
    fn a_tls_alert_or_hello_is_recognised_and_a_frame_is_not() {
        assert!(looks_like_tls(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a]));
        assert!(looks_like_tls(&[0x16, 0x03, 0x01, 0x02, 0x00]));
        // An ApiVersions answer of 38 bytes, and a short read.
        assert!(!looks_like_tls(&[0x00, 0x00, 0x00, 0x26, 0x00]));
        assert!(!looks_like_tls(&[0x15, 0x03]));
    }

    use super::*;

    /// A response frame body: correlation id, then an ApiVersions body in
    /// `format` (v0 for an `UNSUPPORTED_VERSION` answer).
    fn response(correlation_id: i32, error: i16, format: i16, apis: &[(i16, i16, i16)]) -> Vec<u8> {
        let flexible = format >= 3;
        let mut w = Writer::new(flexible);
        w.i32(correlation_id);
        w.i16(error);
        w.array_len(apis.len()).unwrap();
        for &(key, min, max) in apis {
            w.i16(key);
            w.i16(min);
            w.i16(max);
            w.empty_tagged_fields();
        }
        if format >= 1 {
            w.i32(0);
        }
        w.empty_tagged_fields();
        w.into_bytes().to_vec()
    }

    #[test]
    fn an_unsupported_version_answer_retries_at_the_brokers_highest() {
        let mut n = ApiVersionsNegotiation::default();
        let first = n.version();
        assert!(first > 2, "we start at our highest version");
        let step = n.handle_response(&response(0, 35, 0, &[(18, 0, 2)])).unwrap();
        assert!(matches!(step, Negotiated::Retry));
        assert_eq!(n.version(), 2);
        assert!(!n.request("c").unwrap().is_empty());
        let step = n
            .handle_response(&response(1, 0, 2, &[(18, 0, 2), (0, 3, 9)]))
            .unwrap();
        match step {
            Negotiated::Done(answer, next) => {
                assert_eq!(next, 2, "two ids used");
                assert_eq!(answer.broker_versions().len(), 2);
            }
            other => panic!("expected done, got {other:?}"),
        }
    }

    #[test]
    fn a_fallback_that_does_not_go_down_is_an_error_not_a_loop() {
        let mut n = ApiVersionsNegotiation::default();
        let ours = n.version();
        let err = n
            .handle_response(&response(0, 35, 0, &[(18, 0, ours)]))
            .unwrap_err();
        assert!(
            matches!(err, NegotiationFailure::Refused { code, .. } if code == ErrorCode::UNSUPPORTED_VERSION),
            "{err}"
        );
    }

    #[test]
    fn a_wrong_correlation_id_or_an_error_code_fails_the_connection() {
        let mut n = ApiVersionsNegotiation::default();
        let v = n.version();
        let err = n.handle_response(&response(7, 0, v, &[(18, 0, v)])).unwrap_err();
        assert_eq!(
            err,
            NegotiationFailure::WrongCorrelationId { got: 7, expected: 0 }
        );

        let mut n = ApiVersionsNegotiation::default();
        let err = n.handle_response(&response(0, 31, v, &[])).unwrap_err();
        assert!(matches!(err, NegotiationFailure::Refused { .. }), "{err}");

        let mut n = ApiVersionsNegotiation::default();
        let err = n.handle_response(&[0, 0]).unwrap_err();
        assert!(matches!(err, NegotiationFailure::Undecodable(_)), "{err}");
    }
}
