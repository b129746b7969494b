//! `Metadata` (key 3), v4–v12; flexible from v9.
//!
//! Brokers, the controller, and per topic its partitions with their leaders
//! and replicas. v10 adds topic ids. The schema lets a requested topic have a
//! null name (lookup by id) from v10, but brokers implement that only from
//! v12, so we refuse it below v12; in v12 a response topic may have a null
//! name (when it was looked up by id).

use crate::api::ApiKey;
use crate::codec::{DecodeError, EncodeError, Reader, Writer};
use crate::messages::{Request, Response};
use crate::ErrorCode;

/// The value of an authorized-operations field that was not requested
/// (or that the version does not carry).
pub const AUTHORIZED_OPERATIONS_OMITTED: i32 = i32::MIN;

/// Asks for cluster and topic metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRequest {
    /// The topics to describe; `None` means all topics.
    pub topics: Option<Vec<MetadataRequestTopic>>,
    /// Whether the broker may create a requested topic that does not exist
    /// (if it is configured to). The schema default, `true`.
    pub allow_auto_topic_creation: bool,
    /// Whether to return the cluster's authorized operations (v8–v10 only;
    /// ignored by other versions).
    pub include_cluster_authorized_operations: bool,
    /// Whether to return each topic's authorized operations (v8+).
    pub include_topic_authorized_operations: bool,
}

impl Default for MetadataRequest {
    /// All topics, auto-creation allowed, no authorized operations.
    fn default() -> Self {
        MetadataRequest {
            topics: None,
            allow_auto_topic_creation: true,
            include_cluster_authorized_operations: false,
            include_topic_authorized_operations: false,
        }
    }
}

impl MetadataRequest {
    /// A request for every topic in the cluster.
    pub fn all_topics() -> Self {
        MetadataRequest::default()
    }

    /// A request for the topics named `names`.
    pub fn for_topics<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        MetadataRequest {
            topics: Some(names.into_iter().map(MetadataRequestTopic::named).collect()),
            ..MetadataRequest::default()
        }
    }
}

/// One requested topic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataRequestTopic {
    /// Topic id (v10+); all zeros when the topic is named.
    pub topic_id: [u8; 16],
    /// Topic name; may be `None` only from v12, when looking up by id.
    pub name: Option<String>,
}

impl MetadataRequestTopic {
    /// A topic requested by name.
    pub fn named(name: impl Into<String>) -> Self {
        MetadataRequestTopic {
            topic_id: [0; 16],
            name: Some(name.into()),
        }
    }
}

impl Request for MetadataRequest {
    const API_KEY: ApiKey = ApiKey::Metadata;
    type Response = MetadataResponse;

    fn encode(&self, version: i16, w: &mut Writer) -> Result<(), EncodeError> {
        match &self.topics {
            None => w.nullable_array_len(None)?,
            Some(topics) => w.array(topics, |w, topic| {
                if topic.name.is_none() && version < 12 {
                    return Err(EncodeError::InvalidForVersion {
                        api: ApiKey::Metadata,
                        version,
                        detail: "a topic without a name (looked up by id) needs v12+",
                    });
                }
                if version >= 10 {
                    w.uuid(&topic.topic_id);
                }
                w.nullable_string(topic.name.as_deref())?;
                w.empty_tagged_fields();
                Ok(())
            })?,
        }
        w.bool(self.allow_auto_topic_creation);
        if (8..=10).contains(&version) {
            w.bool(self.include_cluster_authorized_operations);
        }
        if version >= 8 {
            w.bool(self.include_topic_authorized_operations);
        }
        w.empty_tagged_fields();
        Ok(())
    }
}

/// The broker's answer to [`MetadataRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponse {
    /// Throttle time in ms.
    pub throttle_time_ms: i32,
    /// The live brokers.
    pub brokers: Vec<MetadataBroker>,
    /// The cluster id, if any.
    pub cluster_id: Option<String>,
    /// The controller's broker id (-1 if unknown).
    pub controller_id: i32,
    /// The requested (or all) topics.
    pub topics: Vec<MetadataTopic>,
    /// The cluster's authorized operations bit field (v8–v10), else
    /// [`AUTHORIZED_OPERATIONS_OMITTED`].
    pub cluster_authorized_operations: i32,
}

/// A broker in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataBroker {
    /// Broker id.
    pub node_id: i32,
    /// Host name.
    pub host: String,
    /// Port.
    pub port: i32,
    /// Rack, if configured.
    pub rack: Option<String>,
}

/// A topic's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataTopic {
    /// Topic-level error.
    pub error_code: ErrorCode,
    /// Topic name (null only from v12, for a topic looked up by id).
    pub name: Option<String>,
    /// Topic id (v10+; zeros before).
    pub topic_id: [u8; 16],
    /// Whether the topic is internal (e.g. `__transaction_state`).
    pub is_internal: bool,
    /// The topic's partitions.
    pub partitions: Vec<MetadataPartition>,
    /// Authorized operations bit field (v8+), else
    /// [`AUTHORIZED_OPERATIONS_OMITTED`].
    pub topic_authorized_operations: i32,
}

/// A partition's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataPartition {
    /// Partition-level error.
    pub error_code: ErrorCode,
    /// Partition index.
    pub partition_index: i32,
    /// The leader's broker id (-1 if none).
    pub leader_id: i32,
    /// The leader epoch (v7+; -1 before).
    pub leader_epoch: i32,
    /// All replicas.
    pub replica_nodes: Vec<i32>,
    /// In-sync replicas.
    pub isr_nodes: Vec<i32>,
    /// Offline replicas (v5+; empty before).
    pub offline_replicas: Vec<i32>,
}

impl Response for MetadataResponse {
    fn decode(r: &mut Reader<'_>, version: i16) -> Result<Self, DecodeError> {
        let throttle_time_ms = r.i32()?;
        let brokers = r.array("brokers", MetadataBroker::min_size(r), MetadataBroker::decode)?;
        let cluster_id = r.nullable_string("cluster_id")?;
        let controller_id = r.i32()?;
        let topics = r.array("topics", MetadataTopic::min_size(r, version), |r| {
            MetadataTopic::decode(r, version)
        })?;
        let cluster_authorized_operations = if (8..=10).contains(&version) {
            r.i32()?
        } else {
            AUTHORIZED_OPERATIONS_OMITTED
        };
        r.skip_tagged_fields()?;
        Ok(MetadataResponse {
            throttle_time_ms,
            brokers,
            cluster_id,
            controller_id,
            topics,
            cluster_authorized_operations,
        })
    }
}

/// The smallest encodings of a string and of an array/bytes field, and of an
/// empty tagged-field section, in the reader's form.
fn min_sizes(r: &Reader<'_>) -> (usize, usize, usize) {
    if r.is_flexible() {
        (1, 1, 1)
    } else {
        (2, 4, 0)
    }
}

impl MetadataBroker {
    fn min_size(r: &Reader<'_>) -> usize {
        let (string, _, tags) = min_sizes(r);
        4 + string + 4 + string + tags
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let broker = MetadataBroker {
            node_id: r.i32()?,
            host: r.string("broker host")?,
            port: r.i32()?,
            rack: r.nullable_string("broker rack")?,
        };
        r.skip_tagged_fields()?;
        Ok(broker)
    }
}

impl MetadataTopic {
    fn min_size(r: &Reader<'_>, version: i16) -> usize {
        let (string, array, tags) = min_sizes(r);
        let topic_id = if version >= 10 { 16 } else { 0 };
        let operations = if version >= 8 { 4 } else { 0 };
        2 + string + topic_id + 1 + array + operations + tags
    }

    fn decode(r: &mut Reader<'_>, version: i16) -> Result<Self, DecodeError> {
        let error_code = ErrorCode(r.i16()?);
        let name = r.nullable_string("topic name")?;
        let topic_id = if version >= 10 { r.uuid()? } else { [0; 16] };
        let is_internal = r.bool()?;
        let partitions = r.array("partitions", MetadataPartition::min_size(r, version), |r| {
            MetadataPartition::decode(r, version)
        })?;
        let topic_authorized_operations = if version >= 8 {
            r.i32()?
        } else {
            AUTHORIZED_OPERATIONS_OMITTED
        };
        r.skip_tagged_fields()?;
        Ok(MetadataTopic {
            error_code,
            name,
            topic_id,
            is_internal,
            partitions,
            topic_authorized_operations,
        })
    }
}

impl MetadataPartition {
    fn min_size(r: &Reader<'_>, version: i16) -> usize {
        let (_, array, tags) = min_sizes(r);
        let leader_epoch = if version >= 7 { 4 } else { 0 };
        let offline = if version >= 5 { array } else { 0 };
        2 + 4 + 4 + leader_epoch + 2 * array + offline + tags
    }

    fn decode(r: &mut Reader<'_>, version: i16) -> Result<Self, DecodeError> {
        let error_code = ErrorCode(r.i16()?);
        let partition_index = r.i32()?;
        let leader_id = r.i32()?;
        let leader_epoch = if version >= 7 { r.i32()? } else { -1 };
        let replica_nodes = r.array("replica_nodes", 4, Reader::i32)?;
        let isr_nodes = r.array("isr_nodes", 4, Reader::i32)?;
        let offline_replicas = if version >= 5 {
            r.array("offline_replicas", 4, Reader::i32)?
        } else {
            Vec::new()
        };
        r.skip_tagged_fields()?;
        Ok(MetadataPartition {
            error_code,
            partition_index,
            leader_id,
            leader_epoch,
            replica_nodes,
            isr_nodes,
            offline_replicas,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(request: &MetadataRequest, version: i16) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new(ApiKey::Metadata.is_flexible(version));
        request.encode(version, &mut w)?;
        Ok(w.into_bytes().to_vec())
    }

    fn decode(bytes: &[u8], version: i16) -> Result<MetadataResponse, DecodeError> {
        let mut r = Reader::new(bytes, ApiKey::Metadata.is_flexible(version));
        let response = MetadataResponse::decode(&mut r, version)?;
        r.expect_end()?;
        Ok(response)
    }

    #[test]
    fn classic_request_bytes() {
        let request = MetadataRequest::for_topics(["ab"]);
        assert_eq!(encode(&request, 4).unwrap(), [0, 0, 0, 1, 0, 2, b'a', b'b', 1]);
        // v8 adds both authorized-operations flags.
        assert_eq!(
            encode(&request, 8).unwrap(),
            [0, 0, 0, 1, 0, 2, b'a', b'b', 1, 0, 0]
        );
        // All topics: a null array.
        let all = MetadataRequest {
            allow_auto_topic_creation: false,
            ..MetadataRequest::all_topics()
        };
        assert_eq!(encode(&all, 5).unwrap(), [0xff, 0xff, 0xff, 0xff, 0]);
    }

    #[test]
    fn flexible_request_bytes() {
        let request = MetadataRequest {
            allow_auto_topic_creation: false,
            include_cluster_authorized_operations: true,
            include_topic_authorized_operations: true,
            ..MetadataRequest::for_topics(["ab"])
        };
        assert_eq!(encode(&request, 9).unwrap(), [2, 3, b'a', b'b', 0, 0, 1, 1, 0]);
        let mut v10 = vec![2];
        v10.extend([0; 16]);
        v10.extend([3, b'a', b'b', 0, 0, 1, 1, 0]);
        assert_eq!(encode(&request, 10).unwrap(), v10);
        // v11 drops the cluster flag.
        let mut v11 = vec![2];
        v11.extend([0; 16]);
        v11.extend([3, b'a', b'b', 0, 0, 1, 0]);
        assert_eq!(encode(&request, 11).unwrap(), v11);
        assert_eq!(encode(&MetadataRequest::all_topics(), 12).unwrap(), [0, 1, 0, 0]);
    }

    #[test]
    fn topic_by_id_needs_v12() {
        let request = MetadataRequest {
            topics: Some(vec![MetadataRequestTopic {
                topic_id: [7; 16],
                name: None,
            }]),
            ..MetadataRequest::default()
        };
        for version in 4..=11 {
            assert!(matches!(
                encode(&request, version),
                Err(EncodeError::InvalidForVersion { .. })
            ));
        }
        let mut expected = vec![2];
        expected.extend([7; 16]);
        expected.extend([0, 0, 1, 0, 0]);
        assert_eq!(encode(&request, 12).unwrap(), expected);
    }

    /// v4: throttle 5, broker 1 "h":9092 no rack, cluster "c", controller 1,
    /// topic "t" (error 0, not internal) with partition 0 led by 1, replicas
    /// [1], isr [1], offline [] (offline is absent in v4).
    fn v4_body() -> Vec<u8> {
        let mut b = vec![0, 0, 0, 5];
        b.extend([0, 0, 0, 1, 0, 0, 0, 1, 0, 1, b'h', 0, 0, 0x23, 0x84, 0xff, 0xff]);
        b.extend([0, 1, b'c', 0, 0, 0, 1]);
        b.extend([0, 0, 0, 1, 0, 0, 0, 1, b't', 0]);
        b.extend([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        b.extend([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
        b
    }

    /// The same in v12, plus rack "r", topic id, leader epoch 3, offline
    /// [], topic authorized operations 8.
    fn v12_body() -> Vec<u8> {
        let mut b = vec![0, 0, 0, 5];
        b.extend([2, 0, 0, 0, 1, 2, b'h', 0, 0, 0x23, 0x84, 2, b'r', 0]);
        b.extend([2, b'c', 0, 0, 0, 1]);
        b.extend([2, 0, 0, 2, b't']);
        b.extend([9; 16]);
        b.extend([0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3]);
        b.extend([2, 0, 0, 0, 1, 2, 0, 0, 0, 1, 1, 0]);
        b.extend([0, 0, 0, 8, 0, 0]);
        b
    }

    #[test]
    fn decodes_v4() {
        let response = decode(&v4_body(), 4).unwrap();
        assert_eq!(response.throttle_time_ms, 5);
        assert_eq!(
            response.brokers,
            vec![MetadataBroker {
                node_id: 1,
                host: "h".into(),
                port: 9092,
                rack: None
            }]
        );
        assert_eq!(response.cluster_id.as_deref(), Some("c"));
        assert_eq!(response.controller_id, 1);
        assert_eq!(
            response.cluster_authorized_operations,
            AUTHORIZED_OPERATIONS_OMITTED
        );
        let topic = &response.topics[0];
        assert_eq!(topic.name.as_deref(), Some("t"));
        assert_eq!(topic.topic_authorized_operations, AUTHORIZED_OPERATIONS_OMITTED);
        assert_eq!(
            topic.partitions,
            vec![MetadataPartition {
                error_code: ErrorCode(0),
                partition_index: 0,
                leader_id: 1,
                leader_epoch: -1,
                replica_nodes: vec![1],
                isr_nodes: vec![1],
                offline_replicas: vec![],
            }]
        );
    }

    #[test]
    fn decodes_v12() {
        let response = decode(&v12_body(), 12).unwrap();
        assert_eq!(response.brokers[0].rack.as_deref(), Some("r"));
        let topic = &response.topics[0];
        assert_eq!(topic.topic_id, [9; 16]);
        assert_eq!(topic.topic_authorized_operations, 8);
        assert_eq!(topic.partitions[0].leader_epoch, 3);
        assert_eq!(topic.partitions[0].isr_nodes, vec![1]);
        assert!(topic.partitions[0].offline_replicas.is_empty());
    }

    #[test]
    fn truncated_input_fails() {
        for (body, version) in [(v4_body(), 4), (v12_body(), 12)] {
            decode(&body, version).unwrap();
            for len in 0..body.len() {
                assert!(decode(&body[..len], version).is_err(), "v{version} prefix {len}");
            }
        }
    }

    #[test]
    fn hostile_counts_fail_before_allocating() {
        let classic = [0, 0, 0, 0, 0x00, 0x10, 0, 0];
        assert!(matches!(
            decode(&classic, 4),
            Err(DecodeError::CountExceedsRemaining { .. })
        ));
        let flexible = [0, 0, 0, 0, 0xff, 0xff, 0x03];
        assert!(matches!(
            decode(&flexible, 9),
            Err(DecodeError::CountExceedsRemaining { .. })
        ));
        // Replica count too large for the bytes left.
        let mut body = v4_body();
        let replicas = body.len() - 16;
        body[replicas + 3] = 200;
        assert!(matches!(
            decode(&body, 4),
            Err(DecodeError::CountExceedsRemaining { .. })
        ));
    }
}
