//! TxnOffsetCommit (key 28): commit consumer offsets as part of a
//! transaction; sent to the group coordinator after AddOffsetsToTxn.
//!
//! Versions v0..=v5, flexible from v3. v2 adds each partition's committed
//! leader epoch; v3 adds the consumer group metadata (generation, member id,
//! group instance id) so the coordinator can fence zombie consumers
//! (KIP-447); v4 and v5 only add errors and broker behaviour (KIP-890).

use crate::api::ApiKey;
use crate::codec::{DecodeError, EncodeError, Reader, Writer};
use crate::messages::{Request, Response};
use crate::ErrorCode;

/// Commits offsets of a consumer group within a transaction.
///
/// `Default` gives the schema defaults: ids and epochs -1, no group metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOffsetCommitRequest {
    /// The transactional id.
    pub transactional_id: String,
    /// The consumer group.
    pub group_id: String,
    /// The producer id in use by the transactional id.
    pub producer_id: i64,
    /// The producer's current epoch.
    pub producer_epoch: i16,
    /// The consumer's group generation (v3+; -1 if unknown).
    pub generation_id: i32,
    /// The consumer's member id (v3+; empty if unknown).
    pub member_id: String,
    /// The consumer's static group instance id (v3+).
    pub group_instance_id: Option<String>,
    /// The offsets to commit, by topic.
    pub topics: Vec<TxnOffsetCommitRequestTopic>,
}

impl Default for TxnOffsetCommitRequest {
    fn default() -> Self {
        TxnOffsetCommitRequest {
            transactional_id: String::new(),
            group_id: String::new(),
            producer_id: -1,
            producer_epoch: -1,
            generation_id: -1,
            member_id: String::new(),
            group_instance_id: None,
            topics: Vec::new(),
        }
    }
}

/// The offsets to commit for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOffsetCommitRequestTopic {
    /// The topic name.
    pub name: String,
    /// The offsets, by partition.
    pub partitions: Vec<TxnOffsetCommitRequestPartition>,
}

/// The offset to commit for one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOffsetCommitRequestPartition {
    /// The partition index.
    pub partition_index: i32,
    /// The offset to commit (the next offset the consumer will read).
    pub committed_offset: i64,
    /// The leader epoch of the last consumed record, or -1. Sent from v2 on;
    /// older versions silently leave it out, as the Java client does (it only
    /// helps the coordinator detect log truncation).
    pub committed_leader_epoch: i32,
    /// Metadata kept with the offset.
    pub committed_metadata: Option<String>,
}

impl Request for TxnOffsetCommitRequest {
    const API_KEY: ApiKey = ApiKey::TxnOffsetCommit;
    type Response = TxnOffsetCommitResponse;

    fn encode(&self, version: i16, w: &mut Writer) -> Result<(), EncodeError> {
        if !Self::API_KEY.supported().contains(version) {
            return Err(EncodeError::UnsupportedVersion {
                api: Self::API_KEY,
                version,
            });
        }
        w.string(&self.transactional_id)?;
        w.string(&self.group_id)?;
        w.i64(self.producer_id);
        w.i16(self.producer_epoch);
        if version >= 3 {
            w.i32(self.generation_id);
            w.string(&self.member_id)?;
            w.nullable_string(self.group_instance_id.as_deref())?;
        } else if self.generation_id != -1 || !self.member_id.is_empty() || self.group_instance_id.is_some() {
            // Without it the coordinator cannot fence a zombie consumer.
            return Err(EncodeError::InvalidForVersion {
                api: Self::API_KEY,
                version,
                detail: "group metadata (generation_id, member_id, group_instance_id) needs v3+",
            });
        }
        w.array(&self.topics, |w, topic| {
            w.string(&topic.name)?;
            w.array(&topic.partitions, |w, partition| {
                w.i32(partition.partition_index);
                w.i64(partition.committed_offset);
                if version >= 2 {
                    w.i32(partition.committed_leader_epoch);
                }
                w.nullable_string(partition.committed_metadata.as_deref())?;
                w.empty_tagged_fields();
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
pub struct TxnOffsetCommitResponse {
    /// How long the request was throttled by a quota, in milliseconds.
    pub throttle_time_ms: i32,
    /// Results by topic.
    pub topics: Vec<TxnOffsetCommitResponseTopic>,
}

/// The results for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOffsetCommitResponseTopic {
    /// The topic name.
    pub name: String,
    /// Results by partition.
    pub partitions: Vec<TxnOffsetCommitResponsePartition>,
}

/// The result for one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnOffsetCommitResponsePartition {
    /// The partition index.
    pub partition_index: i32,
    /// The error for this partition, or `ErrorCode(0)`.
    pub error_code: ErrorCode,
}

impl Response for TxnOffsetCommitResponse {
    fn decode(r: &mut Reader<'_>, version: i16) -> Result<Self, DecodeError> {
        let api = ApiKey::TxnOffsetCommit;
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
        let topics = r.array("topics", topic_min, |r| {
            let name = r.string("name")?;
            let partitions = r.array("partitions", partition_min, |r| {
                let partition = TxnOffsetCommitResponsePartition {
                    partition_index: r.i32()?,
                    error_code: ErrorCode(r.i16()?),
                };
                r.skip_tagged_fields()?;
                Ok(partition)
            })?;
            r.skip_tagged_fields()?;
            Ok(TxnOffsetCommitResponseTopic { name, partitions })
        })?;
        r.skip_tagged_fields()?;
        Ok(TxnOffsetCommitResponse {
            throttle_time_ms,
            topics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(request: &TxnOffsetCommitRequest, version: i16) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new(ApiKey::TxnOffsetCommit.is_flexible(version));
        request.encode(version, &mut w)?;
        Ok(w.into_bytes().to_vec())
    }

    fn decode(bytes: &[u8], version: i16) -> Result<TxnOffsetCommitResponse, DecodeError> {
        let mut r = Reader::new(bytes, ApiKey::TxnOffsetCommit.is_flexible(version));
        let response = TxnOffsetCommitResponse::decode(&mut r, version)?;
        r.expect_end()?;
        Ok(response)
    }

    fn request() -> TxnOffsetCommitRequest {
        TxnOffsetCommitRequest {
            transactional_id: "tx".into(),
            group_id: "g".into(),
            producer_id: 1,
            producer_epoch: 0,
            topics: vec![TxnOffsetCommitRequestTopic {
                name: "t".into(),
                partitions: vec![TxnOffsetCommitRequestPartition {
                    partition_index: 2,
                    committed_offset: 300,
                    committed_leader_epoch: 7,
                    committed_metadata: None,
                }],
            }],
            ..TxnOffsetCommitRequest::default()
        }
    }

    #[test]
    fn encodes_v1_classic_without_leader_epoch() {
        #[rustfmt::skip]
        let expected = [
            0, 2, b't', b'x', // transactional_id
            0, 1, b'g', // group_id
            0, 0, 0, 0, 0, 0, 0, 1, // producer_id
            0, 0, // producer_epoch
            0, 0, 0, 1, // one topic
            0, 1, b't', // name
            0, 0, 0, 1, // one partition
            0, 0, 0, 2, // partition_index
            0, 0, 0, 0, 0, 0, 1, 0x2c, // committed_offset 300
            0xff, 0xff, // committed_metadata (null)
        ];
        assert_eq!(encode(&request(), 1).unwrap(), expected);
    }

    #[test]
    fn encodes_v2_classic_with_leader_epoch() {
        let bytes = encode(&request(), 2).unwrap();
        let v1 = encode(&request(), 1).unwrap();
        // v2 inserts the epoch after the offset, 2 bytes from the end.
        let mut expected = v1.clone();
        expected.splice(v1.len() - 2..v1.len() - 2, [0, 0, 0, 7]);
        assert_eq!(bytes, expected);
    }

    #[test]
    fn encodes_v3_flexible() {
        let request = TxnOffsetCommitRequest {
            generation_id: 5,
            member_id: "m".into(),
            group_instance_id: None,
            ..request()
        };
        #[rustfmt::skip]
        let expected = [
            3, b't', b'x', // transactional_id
            2, b'g', // group_id
            0, 0, 0, 0, 0, 0, 0, 1, // producer_id
            0, 0, // producer_epoch
            0, 0, 0, 5, // generation_id
            2, b'm', // member_id
            0, // group_instance_id (null)
            2, // one topic
            2, b't', // name
            2, // one partition
            0, 0, 0, 2, // partition_index
            0, 0, 0, 0, 0, 0, 1, 0x2c, // committed_offset 300
            0, 0, 0, 7, // committed_leader_epoch
            0, // committed_metadata (null)
            0, // partition tagged fields
            0, // topic tagged fields
            0, // tagged fields
        ];
        assert_eq!(encode(&request, 3).unwrap(), expected);
    }

    #[test]
    fn group_metadata_needs_v3() {
        let cases = [
            TxnOffsetCommitRequest {
                generation_id: 1,
                ..request()
            },
            TxnOffsetCommitRequest {
                member_id: "m".into(),
                ..request()
            },
            TxnOffsetCommitRequest {
                group_instance_id: Some("i".into()),
                ..request()
            },
        ];
        for request in &cases {
            for version in 0..3 {
                assert!(matches!(
                    encode(request, version),
                    Err(EncodeError::InvalidForVersion { .. })
                ));
            }
            assert!(encode(request, 3).is_ok());
        }
    }

    #[rustfmt::skip]
    const V0_RESPONSE: &[u8] = &[
        0, 0, 0, 0, // throttle_time_ms
        0, 0, 0, 1, // one topic
        0, 1, b't', // name
        0, 0, 0, 1, // one partition
        0, 0, 0, 2, 0, 22, // 2: ILLEGAL_GENERATION
    ];

    #[rustfmt::skip]
    const V3_RESPONSE: &[u8] = &[
        0, 0, 0, 0, // throttle_time_ms
        2, // one topic
        2, b't', // name
        2, // one partition
        0, 0, 0, 2, 0, 22, 0, // 2: ILLEGAL_GENERATION
        0, // topic tagged fields
        0, // tagged fields
    ];

    #[test]
    fn decodes_classic_and_flexible() {
        let expected = TxnOffsetCommitResponse {
            throttle_time_ms: 0,
            topics: vec![TxnOffsetCommitResponseTopic {
                name: "t".into(),
                partitions: vec![TxnOffsetCommitResponsePartition {
                    partition_index: 2,
                    error_code: ErrorCode(22),
                }],
            }],
        };
        assert_eq!(decode(V0_RESPONSE, 0).unwrap(), expected);
        assert_eq!(decode(V3_RESPONSE, 5).unwrap(), expected);
    }

    #[test]
    fn truncated_responses_fail() {
        for (bytes, version) in [(V0_RESPONSE, 2), (V3_RESPONSE, 3)] {
            for len in 0..bytes.len() {
                assert!(decode(&bytes[..len], version).is_err(), "v{version} prefix {len}");
            }
        }
    }

    #[test]
    fn hostile_counts_fail() {
        // 2^31 - 1 topics announced.
        let topics = [0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0];
        assert!(matches!(
            decode(&topics, 0),
            Err(DecodeError::CountExceedsRemaining { what: "topics", .. })
        ));
        // Flexible: one topic with 1000 partitions announced.
        let partitions = [0, 0, 0, 0, 2, 2, b't', 0xe9, 0x07, 0, 0, 0];
        assert!(matches!(
            decode(&partitions, 3),
            Err(DecodeError::CountExceedsRemaining {
                what: "partitions",
                ..
            })
        ));
    }
}
