//! `Produce` (key 0), v3–v12; flexible from v9.
//!
//! The request layout is the same in every supported version (v13 would
//! switch topic names to ids). Record batches are carried as [`Bytes`] and
//! attached to the writer as their own segments, so they are never copied.
//! With `acks = 0` the broker sends no response at all
//! ([`ProduceRequest::expects_response`]).
//!
//! From v10 (KIP-951) a partition that failed with `NOT_LEADER_OR_FOLLOWER`
//! may carry its new leader (tag 0), and the response the endpoints of those
//! leaders (tag 0), so a client can redirect without a metadata round trip.

use bytes::Bytes;

use crate::api::ApiKey;
use crate::codec::{DecodeError, EncodeError, Reader, Writer};
use crate::messages::{Request, Response};
use crate::ErrorCode;

/// Appends record batches to partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceRequest {
    /// The transactional id, for transactional producers.
    pub transactional_id: Option<String>,
    /// Acknowledgements required: 0 (none, no response), 1 (leader), -1 (all ISR).
    pub acks: i16,
    /// How long the broker may wait for the acknowledgements, in ms.
    pub timeout_ms: i32,
    /// The data, per topic.
    pub topic_data: Vec<TopicProduceData>,
}

impl ProduceRequest {
    /// Whether the broker answers this request (it does not when `acks == 0`).
    pub fn expects_response(&self) -> bool {
        self.acks != 0
    }
}

/// The data for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicProduceData {
    /// Topic name.
    pub name: String,
    /// The data, per partition.
    pub partition_data: Vec<PartitionProduceData>,
}

/// The data for one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionProduceData {
    /// Partition index.
    pub index: i32,
    /// Encoded record batches (v2 format), or `None`.
    pub records: Option<Bytes>,
}

impl Request for ProduceRequest {
    const API_KEY: ApiKey = ApiKey::Produce;
    type Response = ProduceResponse;

    fn expects_response(&self) -> bool {
        ProduceRequest::expects_response(self)
    }

    fn encode(&self, _version: i16, w: &mut Writer) -> Result<(), EncodeError> {
        w.nullable_string(self.transactional_id.as_deref())?;
        w.i16(self.acks);
        w.i32(self.timeout_ms);
        w.array(&self.topic_data, |w, topic| {
            w.string(&topic.name)?;
            w.array(&topic.partition_data, |w, partition| {
                w.i32(partition.index);
                w.shared_bytes(partition.records.clone())?;
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

/// The broker's answer to [`ProduceRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceResponse {
    /// Results, per topic.
    pub responses: Vec<TopicProduceResponse>,
    /// Throttle time in ms.
    pub throttle_time_ms: i32,
    /// Endpoints of the leaders named in `current_leader` fields (v10+, tag 0).
    pub node_endpoints: Vec<NodeEndpoint>,
}

/// Results for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicProduceResponse {
    /// Topic name.
    pub name: String,
    /// Results, per partition.
    pub partition_responses: Vec<PartitionProduceResponse>,
}

/// The result for one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionProduceResponse {
    /// Partition index.
    pub index: i32,
    /// Partition-level error.
    pub error_code: ErrorCode,
    /// Offset of the first record appended.
    pub base_offset: i64,
    /// Broker append time if the topic uses `LogAppendTime`, else -1.
    pub log_append_time_ms: i64,
    /// The partition's log start offset (v5+; -1 before).
    pub log_start_offset: i64,
    /// Records that caused the batch to be dropped (v8+).
    pub record_errors: Vec<BatchIndexAndErrorMessage>,
    /// Human-readable error message (v8+).
    pub error_message: Option<String>,
    /// The new leader, on `NOT_LEADER_OR_FOLLOWER` (v10+, tag 0).
    pub current_leader: Option<LeaderIdAndEpoch>,
}

/// A record that made its batch fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchIndexAndErrorMessage {
    /// Index of the record within the batch.
    pub batch_index: i32,
    /// Why it failed.
    pub batch_index_error_message: Option<String>,
}

/// A partition's current leader (KIP-951).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaderIdAndEpoch {
    /// The leader's broker id (-1 if unknown).
    pub leader_id: i32,
    /// The leader epoch (-1 if unknown).
    pub leader_epoch: i32,
}

/// How to reach a broker (KIP-951).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEndpoint {
    /// Broker id.
    pub node_id: i32,
    /// Host name.
    pub host: String,
    /// Port.
    pub port: i32,
    /// Rack, if configured.
    pub rack: Option<String>,
}

/// The smallest encodings of a string and of an array, and of an empty
/// tagged-field section, in the reader's form.
fn min_sizes(r: &Reader<'_>) -> (usize, usize, usize) {
    if r.is_flexible() {
        (1, 1, 1)
    } else {
        (2, 4, 0)
    }
}

impl Response for ProduceResponse {
    fn decode(r: &mut Reader<'_>, version: i16) -> Result<Self, DecodeError> {
        let (string, array, tags) = min_sizes(r);
        let responses = r.array("responses", string + array + tags, |r| {
            let name = r.string("topic name")?;
            let partition_responses = r.array(
                "partition_responses",
                PartitionProduceResponse::min_size(r, version),
                |r| PartitionProduceResponse::decode(r, version),
            )?;
            r.skip_tagged_fields()?;
            Ok(TopicProduceResponse {
                name,
                partition_responses,
            })
        })?;
        let throttle_time_ms = r.i32()?;
        let mut node_endpoints = Vec::new();
        r.tagged_fields(|tag, f| {
            if version >= 10 && tag == 0 {
                node_endpoints = f.array("node_endpoints", 4 + 1 + 4 + 1 + 1, |f| {
                    let endpoint = NodeEndpoint {
                        node_id: f.i32()?,
                        host: f.string("endpoint host")?,
                        port: f.i32()?,
                        rack: f.nullable_string("endpoint rack")?,
                    };
                    f.skip_tagged_fields()?;
                    Ok(endpoint)
                })?;
            }
            Ok(())
        })?;
        Ok(ProduceResponse {
            responses,
            throttle_time_ms,
            node_endpoints,
        })
    }
}

impl PartitionProduceResponse {
    fn min_size(r: &Reader<'_>, version: i16) -> usize {
        let (string, array, tags) = min_sizes(r);
        let log_start_offset = if version >= 5 { 8 } else { 0 };
        let errors = if version >= 8 { array + string } else { 0 };
        4 + 2 + 8 + 8 + log_start_offset + errors + tags
    }

    fn decode(r: &mut Reader<'_>, version: i16) -> Result<Self, DecodeError> {
        let (string, _, tags) = min_sizes(r);
        let index = r.i32()?;
        let error_code = ErrorCode(r.i16()?);
        let base_offset = r.i64()?;
        let log_append_time_ms = r.i64()?;
        let log_start_offset = if version >= 5 { r.i64()? } else { -1 };
        let (record_errors, error_message) = if version >= 8 {
            let record_errors = r.array("record_errors", 4 + string + tags, |r| {
                let error = BatchIndexAndErrorMessage {
                    batch_index: r.i32()?,
                    batch_index_error_message: r.nullable_string("batch_index_error_message")?,
                };
                r.skip_tagged_fields()?;
                Ok(error)
            })?;
            (record_errors, r.nullable_string("error_message")?)
        } else {
            (Vec::new(), None)
        };
        let mut current_leader = None;
        r.tagged_fields(|tag, f| {
            if version >= 10 && tag == 0 {
                let leader = LeaderIdAndEpoch {
                    leader_id: f.i32()?,
                    leader_epoch: f.i32()?,
                };
                f.skip_tagged_fields()?;
                current_leader = Some(leader);
            }
            Ok(())
        })?;
        Ok(PartitionProduceResponse {
            index,
            error_code,
            base_offset,
            log_append_time_ms,
            log_start_offset,
            record_errors,
            error_message,
            current_leader,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(records: Option<Bytes>) -> ProduceRequest {
        ProduceRequest {
            transactional_id: None,
            acks: -1,
            timeout_ms: 1000,
            topic_data: vec![TopicProduceData {
                name: "t".into(),
                partition_data: vec![PartitionProduceData { index: 2, records }],
            }],
        }
    }

    fn encode(request: &ProduceRequest, version: i16) -> Vec<Bytes> {
        let mut w = Writer::new(ApiKey::Produce.is_flexible(version));
        request.encode(version, &mut w).unwrap();
        w.into_segments()
    }

    fn decode(bytes: &[u8], version: i16) -> Result<ProduceResponse, DecodeError> {
        let mut r = Reader::new(bytes, ApiKey::Produce.is_flexible(version));
        let response = ProduceResponse::decode(&mut r, version)?;
        r.expect_end()?;
        Ok(response)
    }

    #[test]
    fn classic_request_bytes_keep_the_batch_as_a_segment() {
        let batch = Bytes::from_static(b"BATCH");
        let segments = encode(&request(Some(batch.clone())), 3);
        let head: &[u8] = &[
            0xff, 0xff, // null transactional id
            0xff, 0xff, // acks -1
            0, 0, 0x03, 0xe8, // timeout 1000
            0, 0, 0, 1, 0, 1, b't', // one topic "t"
            0, 0, 0, 1, 0, 0, 0, 2, // one partition, index 2
            0, 0, 0, 5, // records length
        ];
        assert_eq!(segments.len(), 2);
        assert_eq!(segments[0].as_ref(), head);
        assert_eq!(segments[1], batch);
        // The batch segment shares the caller's buffer.
        assert_eq!(segments[1].as_ptr(), batch.as_ptr());
    }

    #[test]
    fn flexible_request_bytes() {
        let mut request = request(Some(Bytes::from_static(b"BATCH")));
        request.transactional_id = Some("x".into());
        let segments = encode(&request, 9);
        assert_eq!(segments.len(), 3);
        assert_eq!(
            segments[0].as_ref(),
            &[2, b'x', 0xff, 0xff, 0, 0, 0x03, 0xe8, 2, 2, b't', 2, 0, 0, 0, 2, 6]
        );
        assert_eq!(segments[1].as_ref(), b"BATCH");
        // Tagged fields of the partition, the topic and the request.
        assert_eq!(segments[2].as_ref(), &[0, 0, 0]);
    }

    #[test]
    fn null_records_and_acks_zero() {
        let mut request = request(None);
        assert!(request.expects_response());
        request.acks = 0;
        assert!(!request.expects_response());
        let segments = encode(&request, 12);
        assert_eq!(segments.len(), 1);
        assert_eq!(
            segments[0].as_ref(),
            &[0, 0, 0, 0, 0, 0x03, 0xe8, 2, 2, b't', 2, 0, 0, 0, 2, 0, 0, 0, 0]
        );
    }

    /// v3: topic "t", partition 2, error 0, base offset 7, append time -1;
    /// throttle 3.
    fn v3_body() -> Vec<u8> {
        let mut b = vec![0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 1, 0, 0, 0, 2, 0, 0];
        b.extend(7i64.to_be_bytes());
        b.extend((-1i64).to_be_bytes());
        b.extend([0, 0, 0, 3]);
        b
    }

    /// v10: partition 2 failed with NOT_LEADER_OR_FOLLOWER (6), log start 0,
    /// one record error (index 1, "bad"), message "moved", current leader
    /// 4 epoch 9; node endpoint 4 "h":9092 rack null; throttle 0.
    fn v10_body() -> Vec<u8> {
        let mut b = vec![2, 2, b't', 2, 0, 0, 0, 2, 0, 6];
        b.extend((-1i64).to_be_bytes());
        b.extend((-1i64).to_be_bytes());
        b.extend(0i64.to_be_bytes());
        b.extend([2, 0, 0, 0, 1, 4, b'b', b'a', b'd', 0]);
        b.extend([6, b'm', b'o', b'v', b'e', b'd']);
        b.extend([1, 0, 9, 0, 0, 0, 4, 0, 0, 0, 9, 0]);
        b.extend([0]); // topic tags
        b.extend([0, 0, 0, 0]); // throttle
        b.extend([1, 0, 13, 2, 0, 0, 0, 4, 2, b'h', 0, 0, 0x23, 0x84, 0, 0]);
        b
    }

    #[test]
    fn decodes_v3() {
        let response = decode(&v3_body(), 3).unwrap();
        assert_eq!(response.throttle_time_ms, 3);
        assert_eq!(
            response.responses,
            vec![TopicProduceResponse {
                name: "t".into(),
                partition_responses: vec![PartitionProduceResponse {
                    index: 2,
                    error_code: ErrorCode(0),
                    base_offset: 7,
                    log_append_time_ms: -1,
                    log_start_offset: -1,
                    record_errors: vec![],
                    error_message: None,
                    current_leader: None,
                }],
            }]
        );
    }

    #[test]
    fn decodes_v10_leader_hints() {
        let response = decode(&v10_body(), 10).unwrap();
        let partition = &response.responses[0].partition_responses[0];
        assert_eq!(partition.error_code, ErrorCode(6));
        assert_eq!(partition.log_start_offset, 0);
        assert_eq!(
            partition.record_errors,
            vec![BatchIndexAndErrorMessage {
                batch_index: 1,
                batch_index_error_message: Some("bad".into())
            }]
        );
        assert_eq!(partition.error_message.as_deref(), Some("moved"));
        assert_eq!(
            partition.current_leader,
            Some(LeaderIdAndEpoch {
                leader_id: 4,
                leader_epoch: 9
            })
        );
        assert_eq!(
            response.node_endpoints,
            vec![NodeEndpoint {
                node_id: 4,
                host: "h".into(),
                port: 9092,
                rack: None
            }]
        );
        // v9 has the same layout but no tag 0: it is skipped.
        let response = decode(&v10_body(), 9).unwrap();
        assert_eq!(response.responses[0].partition_responses[0].current_leader, None);
        assert!(response.node_endpoints.is_empty());
    }

    #[test]
    fn truncated_input_fails() {
        for (body, version) in [(v3_body(), 3), (v10_body(), 10)] {
            for len in 0..body.len() {
                assert!(decode(&body[..len], version).is_err(), "v{version} prefix {len}");
            }
        }
    }

    #[test]
    fn hostile_counts_fail_before_allocating() {
        let classic = [0x01, 0, 0, 0, 0, 1, b't'];
        assert!(matches!(
            decode(&classic, 3),
            Err(DecodeError::CountExceedsRemaining { .. })
        ));
        let flexible = [0xff, 0xff, 0xff, 0x0f];
        assert!(matches!(
            decode(&flexible, 9),
            Err(DecodeError::CountExceedsRemaining { .. })
        ));
        // A node_endpoints tag claiming 100 endpoints in 2 bytes.
        let tagged = [1, 0, 0, 0, 0, 1, 0, 2, 101, 0];
        assert!(matches!(
            decode(&tagged, 10),
            Err(DecodeError::CountExceedsRemaining { .. })
        ));
    }
}
