//! AddOffsetsToTxn (key 25): register a consumer group's offsets in the
//! ongoing transaction, before sending them with TxnOffsetCommit.
//!
//! Versions v0..=v4, flexible from v3. Every version has the same fields; v4
//! only adds the `TRANSACTION_ABORTABLE` error (KIP-890).

use crate::api::ApiKey;
use crate::codec::{DecodeError, EncodeError, Reader, Writer};
use crate::messages::{Request, Response};
use crate::ErrorCode;

/// Adds a consumer group's offsets partition to a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddOffsetsToTxnRequest {
    /// The transactional id.
    pub transactional_id: String,
    /// The producer id in use by the transactional id.
    pub producer_id: i64,
    /// The producer's current epoch.
    pub producer_epoch: i16,
    /// The consumer group whose offsets will be committed.
    pub group_id: String,
}

impl Request for AddOffsetsToTxnRequest {
    const API_KEY: ApiKey = ApiKey::AddOffsetsToTxn;
    type Response = AddOffsetsToTxnResponse;

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
        w.string(&self.group_id)?;
        w.empty_tagged_fields();
        Ok(())
    }
}

/// The outcome of an AddOffsetsToTxn request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddOffsetsToTxnResponse {
    /// How long the request was throttled by a quota, in milliseconds.
    pub throttle_time_ms: i32,
    /// The error, or `ErrorCode(0)`.
    pub error_code: ErrorCode,
}

impl Response for AddOffsetsToTxnResponse {
    fn decode(r: &mut Reader<'_>, version: i16) -> Result<Self, DecodeError> {
        let api = ApiKey::AddOffsetsToTxn;
        if !api.supported().contains(version) {
            return Err(DecodeError::UnsupportedVersion { api, version });
        }
        let response = AddOffsetsToTxnResponse {
            throttle_time_ms: r.i32()?,
            error_code: ErrorCode(r.i16()?),
        };
        r.skip_tagged_fields()?;
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(request: &AddOffsetsToTxnRequest, version: i16) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new(ApiKey::AddOffsetsToTxn.is_flexible(version));
        request.encode(version, &mut w)?;
        Ok(w.into_bytes().to_vec())
    }

    fn decode(bytes: &[u8], version: i16) -> Result<AddOffsetsToTxnResponse, DecodeError> {
        let mut r = Reader::new(bytes, ApiKey::AddOffsetsToTxn.is_flexible(version));
        let response = AddOffsetsToTxnResponse::decode(&mut r, version)?;
        r.expect_end()?;
        Ok(response)
    }

    fn request() -> AddOffsetsToTxnRequest {
        AddOffsetsToTxnRequest {
            transactional_id: "tx".into(),
            producer_id: 258,
            producer_epoch: 1,
            group_id: "g".into(),
        }
    }

    #[test]
    fn encodes_v0_classic() {
        #[rustfmt::skip]
        let expected = [
            0, 2, b't', b'x', // transactional_id
            0, 0, 0, 0, 0, 0, 1, 2, // producer_id 258
            0, 1, // producer_epoch
            0, 1, b'g', // group_id
        ];
        assert_eq!(encode(&request(), 0).unwrap(), expected);
    }

    #[test]
    fn encodes_v3_flexible() {
        #[rustfmt::skip]
        let expected = [
            3, b't', b'x', // transactional_id
            0, 0, 0, 0, 0, 0, 1, 2, // producer_id 258
            0, 1, // producer_epoch
            2, b'g', // group_id
            0, // tagged fields
        ];
        assert_eq!(encode(&request(), 3).unwrap(), expected);
        assert!(matches!(
            encode(&request(), 5),
            Err(EncodeError::UnsupportedVersion { .. })
        ));
    }

    #[test]
    fn decodes_and_rejects_truncation() {
        let classic = [0, 0, 0, 1, 0, 51];
        let flexible = [0, 0, 0, 1, 0, 51, 0];
        let expected = AddOffsetsToTxnResponse {
            throttle_time_ms: 1,
            error_code: ErrorCode(51),
        };
        for (bytes, version) in [(&classic[..], 2), (&flexible[..], 4)] {
            assert_eq!(decode(bytes, version).unwrap(), expected);
            for len in 0..bytes.len() {
                assert!(decode(&bytes[..len], version).is_err(), "v{version} prefix {len}");
            }
        }
    }

    #[test]
    fn hostile_tagged_field_count_fails() {
        let bytes = [0, 0, 0, 1, 0, 0, 0x80, 0x80, 0x04];
        assert!(matches!(
            decode(&bytes, 3),
            Err(DecodeError::CountExceedsRemaining { .. })
        ));
    }
}
