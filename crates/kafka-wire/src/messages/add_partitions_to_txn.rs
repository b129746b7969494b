//! AddPartitionsToTxn (key 24): register partitions in the ongoing
//! transaction before producing to them (transaction.version 1).
//!
//! Versions v0..=v3, flexible in v3. v1 and v2 change only broker behaviour.
//! v4+ is a different, batched form (several transactions per request) that
//! brokers send to each other for verification (KIP-890); clients stop at v3,
//! and so does this module. With transaction.version 2, Produce v12+ adds
//! partitions implicitly and this request is not needed.

use crate::api::ApiKey;
use crate::codec::{DecodeError, EncodeError, Reader, Writer};
use crate::messages::{Request, Response};
use crate::ErrorCode;

/// Adds partitions to a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddPartitionsToTxnRequest {
    /// The transactional id.
    pub transactional_id: String,
    /// The producer id in use by the transactional id.
    pub producer_id: i64,
    /// The producer's current epoch.
    pub producer_epoch: i16,
    /// The partitions to add, by topic.
    pub topics: Vec<AddPartitionsToTxnTopic>,
}

/// The partitions of one topic to add to a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddPartitionsToTxnTopic {
    /// The topic name.
    pub name: String,
    /// The partition indexes.
    pub partitions: Vec<i32>,
}

impl Request for AddPartitionsToTxnRequest {
    const API_KEY: ApiKey = ApiKey::AddPartitionsToTxn;
    type Response = AddPartitionsToTxnResponse;

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
        w.array(&self.topics, |w, topic| {
            w.string(&topic.name)?;
            w.array(&topic.partitions, |w, &partition| {
                w.i32(partition);
                Ok(())
            })?;
            w.empty_tagged_fields();
            Ok(())
        })?;
        w.empty_tagged_fields();
        Ok(())
    }
}

/// The outcome for each partition of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddPartitionsToTxnResponse {
    /// How long the request was throttled by a quota, in milliseconds.
    pub throttle_time_ms: i32,
    /// Results by topic.
    pub results: Vec<AddPartitionsToTxnTopicResult>,
}

/// The results for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddPartitionsToTxnTopicResult {
    /// The topic name.
    pub name: String,
    /// Results by partition.
    pub results: Vec<AddPartitionsToTxnPartitionResult>,
}

/// The result for one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddPartitionsToTxnPartitionResult {
    /// The partition index.
    pub partition_index: i32,
    /// The error for this partition, or `ErrorCode(0)`.
    pub partition_error_code: ErrorCode,
}

impl Response for AddPartitionsToTxnResponse {
    fn decode(r: &mut Reader<'_>, version: i16) -> Result<Self, DecodeError> {
        let api = ApiKey::AddPartitionsToTxn;
        if !api.supported().contains(version) {
            return Err(DecodeError::UnsupportedVersion { api, version });
        }
        // Smallest encodings: name and array count, (partition_index,
        // error_code), each plus tagged fields when flexible.
        let (topic_min, partition_min) = if r.is_flexible() {
            (1 + 1 + 1, 4 + 2 + 1)
        } else {
            (2 + 4, 4 + 2)
        };
        let throttle_time_ms = r.i32()?;
        let results = r.array("results", topic_min, |r| {
            let name = r.string("name")?;
            let results = r.array("partition results", partition_min, |r| {
                let result = AddPartitionsToTxnPartitionResult {
                    partition_index: r.i32()?,
                    partition_error_code: ErrorCode(r.i16()?),
                };
                r.skip_tagged_fields()?;
                Ok(result)
            })?;
            r.skip_tagged_fields()?;
            Ok(AddPartitionsToTxnTopicResult { name, results })
        })?;
        r.skip_tagged_fields()?;
        Ok(AddPartitionsToTxnResponse {
            throttle_time_ms,
            results,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(request: &AddPartitionsToTxnRequest, version: i16) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new(ApiKey::AddPartitionsToTxn.is_flexible(version));
        request.encode(version, &mut w)?;
        Ok(w.into_bytes().to_vec())
    }

    fn decode(bytes: &[u8], version: i16) -> Result<AddPartitionsToTxnResponse, DecodeError> {
        let mut r = Reader::new(bytes, ApiKey::AddPartitionsToTxn.is_flexible(version));
        let response = AddPartitionsToTxnResponse::decode(&mut r, version)?;
        r.expect_end()?;
        Ok(response)
    }

    fn request() -> AddPartitionsToTxnRequest {
        AddPartitionsToTxnRequest {
            transactional_id: "tx".into(),
            producer_id: 1,
            producer_epoch: 2,
            topics: vec![AddPartitionsToTxnTopic {
                name: "t".into(),
                partitions: vec![0, 5],
            }],
        }
    }

    #[test]
    fn encodes_v2_classic() {
        #[rustfmt::skip]
        let expected = [
            0, 2, b't', b'x', // transactional_id
            0, 0, 0, 0, 0, 0, 0, 1, // producer_id
            0, 2, // producer_epoch
            0, 0, 0, 1, // one topic
            0, 1, b't', // name
            0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 5, // partitions [0, 5]
        ];
        assert_eq!(encode(&request(), 2).unwrap(), expected);
    }

    #[test]
    fn encodes_v3_flexible() {
        #[rustfmt::skip]
        let expected = [
            3, b't', b'x', // transactional_id
            0, 0, 0, 0, 0, 0, 0, 1, // producer_id
            0, 2, // producer_epoch
            2, // one topic
            2, b't', // name
            3, 0, 0, 0, 0, 0, 0, 0, 5, // partitions [0, 5]
            0, // topic tagged fields
            0, // tagged fields
        ];
        assert_eq!(encode(&request(), 3).unwrap(), expected);
        assert!(matches!(
            encode(&request(), 4),
            Err(EncodeError::UnsupportedVersion { .. })
        ));
    }

    #[rustfmt::skip]
    const V0_RESPONSE: &[u8] = &[
        0, 0, 0, 9, // throttle_time_ms
        0, 0, 0, 1, // one topic
        0, 1, b't', // name
        0, 0, 0, 2, // two partitions
        0, 0, 0, 0, 0, 0, // 0: ok
        0, 0, 0, 5, 0, 48, // 5: INVALID_PRODUCER_EPOCH
    ];

    fn expected() -> AddPartitionsToTxnResponse {
        AddPartitionsToTxnResponse {
            throttle_time_ms: 9,
            results: vec![AddPartitionsToTxnTopicResult {
                name: "t".into(),
                results: vec![
                    AddPartitionsToTxnPartitionResult {
                        partition_index: 0,
                        partition_error_code: ErrorCode(0),
                    },
                    AddPartitionsToTxnPartitionResult {
                        partition_index: 5,
                        partition_error_code: ErrorCode(48),
                    },
                ],
            }],
        }
    }

    #[rustfmt::skip]
    const V3_RESPONSE: &[u8] = &[
        0, 0, 0, 9, // throttle_time_ms
        2, // one topic
        2, b't', // name
        3, // two partitions
        0, 0, 0, 0, 0, 0, 0, // 0: ok
        0, 0, 0, 5, 0, 48, 0, // 5: INVALID_PRODUCER_EPOCH
        0, // topic tagged fields
        0, // tagged fields
    ];

    #[test]
    fn decodes_classic_and_flexible() {
        assert_eq!(decode(V0_RESPONSE, 0).unwrap(), expected());
        assert_eq!(decode(V3_RESPONSE, 3).unwrap(), expected());
    }

    #[test]
    fn truncated_responses_fail() {
        for (bytes, version) in [(V0_RESPONSE, 1), (V3_RESPONSE, 3)] {
            for len in 0..bytes.len() {
                assert!(decode(&bytes[..len], version).is_err(), "v{version} prefix {len}");
            }
        }
    }

    #[test]
    fn hostile_counts_fail() {
        // 0x10000 topics announced, each at least 6 bytes.
        let topics = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        assert!(matches!(
            decode(&topics, 0),
            Err(DecodeError::CountExceedsRemaining { what: "results", .. })
        ));
        // One topic, then 2 partitions announced with 6 of 12 bytes present.
        let partitions = &V0_RESPONSE[..21];
        assert!(matches!(
            decode(partitions, 0),
            Err(DecodeError::CountExceedsRemaining {
                what: "partition results",
                ..
            })
        ));
    }
}
