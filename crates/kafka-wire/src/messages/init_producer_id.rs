//! InitProducerId (key 22): obtain a producer id and epoch, or bump the epoch.
//!
//! Versions v0..=v5, flexible from v2. v3 adds the current producer id and
//! epoch, so a producer can bump its epoch after an abortable error instead of
//! starting over (KIP-360). v4 (`PRODUCER_FENCED`) and v5
//! (`TRANSACTION_ABORTABLE`, KIP-890) only add error codes.

use crate::api::ApiKey;
use crate::codec::{DecodeError, EncodeError, Reader, Writer};
use crate::messages::{Request, Response};
use crate::ErrorCode;

/// Asks the transaction coordinator (or any broker, for an idempotent
/// producer without a transactional id) for a producer id and epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitProducerIdRequest {
    /// The transactional id, or `None` for an idempotent, non-transactional producer.
    pub transactional_id: Option<String>,
    /// How long the coordinator waits before aborting an idle transaction
    /// (only meaningful with a transactional id).
    pub transaction_timeout_ms: i32,
    /// The current producer id when bumping the epoch (v3+), else -1.
    pub producer_id: i64,
    /// The current producer epoch when bumping the epoch (v3+), else -1.
    pub producer_epoch: i16,
}

impl InitProducerIdRequest {
    /// A request for a fresh producer id (no epoch bump).
    pub fn new(transactional_id: Option<String>, transaction_timeout_ms: i32) -> Self {
        InitProducerIdRequest {
            transactional_id,
            transaction_timeout_ms,
            producer_id: -1,
            producer_epoch: -1,
        }
    }
}

impl Request for InitProducerIdRequest {
    const API_KEY: ApiKey = ApiKey::InitProducerId;
    type Response = InitProducerIdResponse;

    fn encode(&self, version: i16, w: &mut Writer) -> Result<(), EncodeError> {
        if !Self::API_KEY.supported().contains(version) {
            return Err(EncodeError::UnsupportedVersion {
                api: Self::API_KEY,
                version,
            });
        }
        w.nullable_string(self.transactional_id.as_deref())?;
        w.i32(self.transaction_timeout_ms);
        if version >= 3 {
            w.i64(self.producer_id);
            w.i16(self.producer_epoch);
        } else if self.producer_id != -1 || self.producer_epoch != -1 {
            return Err(EncodeError::InvalidForVersion {
                api: Self::API_KEY,
                version,
                detail: "producer_id and producer_epoch (an epoch bump) need v3+",
            });
        }
        w.empty_tagged_fields();
        Ok(())
    }
}

/// The producer id and epoch the coordinator assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitProducerIdResponse {
    /// How long the request was throttled by a quota, in milliseconds.
    pub throttle_time_ms: i32,
    /// The error, or `ErrorCode(0)`.
    pub error_code: ErrorCode,
    /// The assigned producer id (-1 on error).
    pub producer_id: i64,
    /// The assigned producer epoch.
    pub producer_epoch: i16,
}

impl Response for InitProducerIdResponse {
    fn decode(r: &mut Reader<'_>, version: i16) -> Result<Self, DecodeError> {
        let api = ApiKey::InitProducerId;
        if !api.supported().contains(version) {
            return Err(DecodeError::UnsupportedVersion { api, version });
        }
        let response = InitProducerIdResponse {
            throttle_time_ms: r.i32()?,
            error_code: ErrorCode(r.i16()?),
            producer_id: r.i64()?,
            producer_epoch: r.i16()?,
        };
        r.skip_tagged_fields()?;
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(request: &InitProducerIdRequest, version: i16) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new(ApiKey::InitProducerId.is_flexible(version));
        request.encode(version, &mut w)?;
        Ok(w.into_bytes().to_vec())
    }

    fn decode(bytes: &[u8], version: i16) -> Result<InitProducerIdResponse, DecodeError> {
        let mut r = Reader::new(bytes, ApiKey::InitProducerId.is_flexible(version));
        let response = InitProducerIdResponse::decode(&mut r, version)?;
        r.expect_end()?;
        Ok(response)
    }

    #[test]
    fn encodes_v1_classic() {
        let request = InitProducerIdRequest::new(Some("tx".into()), 60_000);
        #[rustfmt::skip]
        let expected = [
            0, 2, b't', b'x', // transactional_id
            0, 0, 0xea, 0x60, // transaction_timeout_ms
        ];
        assert_eq!(encode(&request, 1).unwrap(), expected);
    }

    #[test]
    fn encodes_null_transactional_id() {
        let request = InitProducerIdRequest::new(None, 1);
        assert_eq!(encode(&request, 0).unwrap(), [0xff, 0xff, 0, 0, 0, 1]);
        assert_eq!(encode(&request, 2).unwrap(), [0, 0, 0, 0, 1, 0]);
    }

    #[test]
    fn encodes_v4_flexible_with_epoch_bump() {
        let request = InitProducerIdRequest {
            transactional_id: Some("tx".into()),
            transaction_timeout_ms: 100,
            producer_id: 7,
            producer_epoch: 3,
        };
        #[rustfmt::skip]
        let expected = [
            3, b't', b'x', // transactional_id (compact)
            0, 0, 0, 100, // transaction_timeout_ms
            0, 0, 0, 0, 0, 0, 0, 7, // producer_id
            0, 3, // producer_epoch
            0, // tagged fields
        ];
        assert_eq!(encode(&request, 4).unwrap(), expected);
    }

    #[test]
    fn epoch_bump_needs_v3() {
        let request = InitProducerIdRequest {
            producer_id: 7,
            producer_epoch: 3,
            ..InitProducerIdRequest::new(Some("tx".into()), 100)
        };
        for version in 0..3 {
            assert!(matches!(
                encode(&request, version),
                Err(EncodeError::InvalidForVersion { version: v, .. }) if v == version
            ));
        }
        assert!(encode(&request, 3).is_ok());
    }

    #[test]
    fn rejects_unsupported_versions() {
        let request = InitProducerIdRequest::new(None, 1);
        assert!(matches!(
            encode(&request, 6),
            Err(EncodeError::UnsupportedVersion { .. })
        ));
        assert!(matches!(
            decode(&[], -1),
            Err(DecodeError::UnsupportedVersion { .. })
        ));
    }

    #[rustfmt::skip]
    const V0_RESPONSE: [u8; 16] = [
        0, 0, 0, 5, // throttle_time_ms
        0, 0, // error_code
        0, 0, 0, 0, 0, 0, 0x30, 0x39, // producer_id 12345
        0, 2, // producer_epoch
    ];

    #[test]
    fn decodes_classic_and_flexible() {
        let expected = InitProducerIdResponse {
            throttle_time_ms: 5,
            error_code: ErrorCode(0),
            producer_id: 12345,
            producer_epoch: 2,
        };
        assert_eq!(decode(&V0_RESPONSE, 0).unwrap(), expected);
        // Flexible: the same fields plus a tagged-field section holding an
        // unknown tag 9 with two bytes, which must be skipped.
        let mut flexible = V0_RESPONSE.to_vec();
        flexible.extend_from_slice(&[1, 9, 2, 0xaa, 0xbb]);
        assert_eq!(decode(&flexible, 5).unwrap(), expected);
    }

    #[test]
    fn truncated_responses_fail() {
        let mut flexible = V0_RESPONSE.to_vec();
        flexible.push(0);
        for (bytes, version) in [(&V0_RESPONSE[..], 0), (&flexible[..], 2)] {
            for len in 0..bytes.len() {
                assert!(decode(&bytes[..len], version).is_err(), "v{version} prefix {len}");
            }
        }
    }

    #[test]
    fn hostile_tagged_field_count_fails() {
        let mut bytes = V0_RESPONSE.to_vec();
        bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(matches!(
            decode(&bytes, 3),
            Err(DecodeError::CountExceedsRemaining { .. })
        ));
    }
}
