//! EndTxn (key 26): commit or abort the ongoing transaction.
//!
//! Versions v0..=v5, flexible from v3. v4 adds the `PRODUCER_FENCED` error;
//! v5 (KIP-890, transaction.version 2) makes the coordinator bump the epoch
//! on every commit or abort and return the new producer id and epoch, which
//! the producer must use from then on.

use crate::api::ApiKey;
use crate::codec::{DecodeError, EncodeError, Reader, Writer};
use crate::messages::{Request, Response};
use crate::ErrorCode;

/// Commits or aborts a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndTxnRequest {
    /// The transactional id.
    pub transactional_id: String,
    /// The producer id in use by the transactional id.
    pub producer_id: i64,
    /// The producer's current epoch.
    pub producer_epoch: i16,
    /// `true` to commit, `false` to abort.
    pub committed: bool,
}

impl Request for EndTxnRequest {
    const API_KEY: ApiKey = ApiKey::EndTxn;
    type Response = EndTxnResponse;

    fn encode(&self, version: i16, w: &mut Writer) -> Result<(), EncodeError> {
        if !Self::API_KEY.supported().contains(version) {
            return Err(EncodeError::UnsupportedVersion {
                api: Self::API_KEY,
                version,
            });
        }
        w.string(&self.transactional_id)?;
        w.i64(self.producer_id);
        w.i16(self.producer_epoch);
        w.bool(self.committed);
        w.empty_tagged_fields();
        Ok(())
    }
}

/// The outcome of an EndTxn request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndTxnResponse {
    /// How long the request was throttled by a quota, in milliseconds.
    pub throttle_time_ms: i32,
    /// The error, or `ErrorCode(0)`.
    pub error_code: ErrorCode,
    /// The producer id to use from now on (v5+; -1 in older versions).
    pub producer_id: i64,
    /// The producer epoch to use from now on (v5+; -1 in older versions).
    pub producer_epoch: i16,
}

impl Response for EndTxnResponse {
    fn decode(r: &mut Reader<'_>, version: i16) -> Result<Self, DecodeError> {
        let api = ApiKey::EndTxn;
        if !api.supported().contains(version) {
            return Err(DecodeError::UnsupportedVersion { api, version });
        }
        let throttle_time_ms = r.i32()?;
        let error_code = ErrorCode(r.i16()?);
        let (producer_id, producer_epoch) = if version >= 5 {
            (r.i64()?, r.i16()?)
        } else {
            (-1, -1)
        };
        r.skip_tagged_fields()?;
        Ok(EndTxnResponse {
            throttle_time_ms,
            error_code,
            producer_id,
            producer_epoch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(request: &EndTxnRequest, version: i16) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new(ApiKey::EndTxn.is_flexible(version));
        request.encode(version, &mut w)?;
        Ok(w.into_bytes().to_vec())
    }

    fn decode(bytes: &[u8], version: i16) -> Result<EndTxnResponse, DecodeError> {
        let mut r = Reader::new(bytes, ApiKey::EndTxn.is_flexible(version));
        let response = EndTxnResponse::decode(&mut r, version)?;
        r.expect_end()?;
        Ok(response)
    }

    fn request(committed: bool) -> EndTxnRequest {
        EndTxnRequest {
            transactional_id: "tx".into(),
            producer_id: 4,
            producer_epoch: 9,
            committed,
        }
    }

    #[test]
    fn encodes_v0_classic() {
        #[rustfmt::skip]
        let expected = [
            0, 2, b't', b'x', // transactional_id
            0, 0, 0, 0, 0, 0, 0, 4, // producer_id
            0, 9, // producer_epoch
            1, // committed
        ];
        assert_eq!(encode(&request(true), 0).unwrap(), expected);
    }

    #[test]
    fn encodes_v5_flexible() {
        #[rustfmt::skip]
        let expected = [
            3, b't', b'x', // transactional_id
            0, 0, 0, 0, 0, 0, 0, 4, // producer_id
            0, 9, // producer_epoch
            0, // committed (abort)
            0, // tagged fields
        ];
        assert_eq!(encode(&request(false), 5).unwrap(), expected);
        assert!(matches!(
            encode(&request(false), 6),
            Err(EncodeError::UnsupportedVersion { .. })
        ));
    }

    const V2_RESPONSE: &[u8] = &[0, 0, 0, 0, 0, 0];
    #[rustfmt::skip]
    const V5_RESPONSE: &[u8] = &[
        0, 0, 0, 0, // throttle_time_ms
        0, 0, // error_code
        0, 0, 0, 0, 0, 0, 0, 4, // producer_id
        0, 10, // producer_epoch (bumped)
        0, // tagged fields
    ];

    #[test]
    fn decodes_classic_and_v5() {
        assert_eq!(
            decode(V2_RESPONSE, 2).unwrap(),
            EndTxnResponse {
                throttle_time_ms: 0,
                error_code: ErrorCode(0),
                producer_id: -1,
                producer_epoch: -1,
            }
        );
        assert_eq!(
            decode(V5_RESPONSE, 5).unwrap(),
            EndTxnResponse {
                throttle_time_ms: 0,
                error_code: ErrorCode(0),
                producer_id: 4,
                producer_epoch: 10,
            }
        );
        // v4 has the v3 layout: no producer id and epoch.
        assert!(matches!(
            decode(V5_RESPONSE, 4),
            Err(DecodeError::TrailingBytes { .. })
        ));
    }

    #[test]
    fn truncated_responses_fail() {
        for (bytes, version) in [(V2_RESPONSE, 2), (V5_RESPONSE, 5)] {
            for len in 0..bytes.len() {
                assert!(decode(&bytes[..len], version).is_err(), "v{version} prefix {len}");
            }
        }
    }

    #[test]
    fn hostile_tagged_field_count_fails() {
        let bytes = [0, 0, 0, 0, 0, 0, 0x7f, 0];
        assert!(matches!(
            decode(&bytes, 3),
            Err(DecodeError::CountExceedsRemaining { .. })
        ));
    }
}
