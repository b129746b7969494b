//! Metadata checked against the `kafka-protocol` crate, for every version.

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::metadata_response as kp_resp;
use kafka_protocol::messages::{
    BrokerId, MetadataRequest as KpRequest, MetadataResponse as KpResponse, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafka_wire::messages::metadata::*;
use kafka_wire::messages::{Request, Response};
use kafka_wire::{ApiKey, EncodeError, ErrorCode, Reader, Writer};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

const API: ApiKey = ApiKey::Metadata;

fn versions() -> impl Iterator<Item = i16> {
    let range = API.supported();
    range.min..=range.max
}

fn s(value: &str) -> StrBytes {
    StrBytes::from_string(value.to_owned())
}

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._-]{0,16}"
}

fn request() -> impl Strategy<Value = MetadataRequest> {
    let topic = (any::<[u8; 16]>(), option::weighted(0.9, name()))
        .prop_map(|(topic_id, name)| MetadataRequestTopic { topic_id, name });
    (
        option::of(vec(topic, 0..5)),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(topics, allow_auto_topic_creation, include_cluster, include_topic)| MetadataRequest {
                topics,
                allow_auto_topic_creation,
                include_cluster_authorized_operations: include_cluster,
                include_topic_authorized_operations: include_topic,
            },
        )
}

fn response() -> impl Strategy<Value = MetadataResponse> {
    let broker =
        (any::<i32>(), name(), any::<i32>(), option::of(name())).prop_map(|(node_id, host, port, rack)| {
            MetadataBroker {
                node_id,
                host,
                port,
                rack,
            }
        });
    let partition = (
        any::<i16>(),
        any::<i32>(),
        any::<i32>(),
        any::<i32>(),
        vec(any::<i32>(), 0..5),
        vec(any::<i32>(), 0..5),
        vec(any::<i32>(), 0..3),
    )
        .prop_map(
            |(
                error_code,
                partition_index,
                leader_id,
                leader_epoch,
                replica_nodes,
                isr_nodes,
                offline_replicas,
            )| {
                MetadataPartition {
                    error_code: ErrorCode(error_code),
                    partition_index,
                    leader_id,
                    leader_epoch,
                    replica_nodes,
                    isr_nodes,
                    offline_replicas,
                }
            },
        );
    let topic = (
        any::<i16>(),
        option::weighted(0.9, name()),
        any::<[u8; 16]>(),
        any::<bool>(),
        vec(partition, 0..4),
        any::<i32>(),
    )
        .prop_map(
            |(error_code, name, topic_id, is_internal, partitions, operations)| MetadataTopic {
                error_code: ErrorCode(error_code),
                name,
                topic_id,
                is_internal,
                partitions,
                topic_authorized_operations: operations,
            },
        );
    (
        any::<i32>(),
        vec(broker, 0..4),
        option::of(name()),
        any::<i32>(),
        vec(topic, 0..4),
        any::<i32>(),
    )
        .prop_map(
            |(throttle_time_ms, brokers, cluster_id, controller_id, topics, operations)| MetadataResponse {
                throttle_time_ms,
                brokers,
                cluster_id,
                controller_id,
                topics,
                cluster_authorized_operations: operations,
            },
        )
}

/// Drops what `version` cannot carry.
fn for_version(mut response: MetadataResponse, version: i16) -> MetadataResponse {
    if !(8..=10).contains(&version) {
        response.cluster_authorized_operations = AUTHORIZED_OPERATIONS_OMITTED;
    }
    for topic in &mut response.topics {
        if version < 12 && topic.name.is_none() {
            topic.name = Some(String::new());
        }
        if version < 10 {
            topic.topic_id = [0; 16];
        }
        if version < 8 {
            topic.topic_authorized_operations = AUTHORIZED_OPERATIONS_OMITTED;
        }
        for partition in &mut topic.partitions {
            if version < 7 {
                partition.leader_epoch = -1;
            }
            if version < 5 {
                partition.offline_replicas.clear();
            }
        }
    }
    response
}

/// A `kafka-protocol` topic id (its `uuid` type is not re-exported, so it is
/// named by inference).
fn uuid<T: TryFrom<Vec<u8>>>(bytes: &[u8; 16]) -> T
where
    T::Error: std::fmt::Debug,
{
    T::try_from(bytes.to_vec()).unwrap()
}

fn brokers(ids: &[i32]) -> Vec<BrokerId> {
    ids.iter().copied().map(BrokerId).collect()
}

fn to_kp(response: &MetadataResponse) -> KpResponse {
    KpResponse::default()
        .with_throttle_time_ms(response.throttle_time_ms)
        .with_brokers(
            response
                .brokers
                .iter()
                .map(|b| {
                    kp_resp::MetadataResponseBroker::default()
                        .with_node_id(BrokerId(b.node_id))
                        .with_host(s(&b.host))
                        .with_port(b.port)
                        .with_rack(b.rack.as_deref().map(s))
                })
                .collect(),
        )
        .with_cluster_id(response.cluster_id.as_deref().map(s))
        .with_controller_id(BrokerId(response.controller_id))
        .with_topics(
            response
                .topics
                .iter()
                .map(|t| {
                    kp_resp::MetadataResponseTopic::default()
                        .with_error_code(t.error_code.0)
                        .with_name(t.name.as_deref().map(|n| TopicName(s(n))))
                        .with_topic_id(uuid(&t.topic_id))
                        .with_is_internal(t.is_internal)
                        .with_partitions(
                            t.partitions
                                .iter()
                                .map(|p| {
                                    kp_resp::MetadataResponsePartition::default()
                                        .with_error_code(p.error_code.0)
                                        .with_partition_index(p.partition_index)
                                        .with_leader_id(BrokerId(p.leader_id))
                                        .with_leader_epoch(p.leader_epoch)
                                        .with_replica_nodes(brokers(&p.replica_nodes))
                                        .with_isr_nodes(brokers(&p.isr_nodes))
                                        .with_offline_replicas(brokers(&p.offline_replicas))
                                })
                                .collect(),
                        )
                        .with_topic_authorized_operations(t.topic_authorized_operations)
                })
                .collect(),
        )
        .with_cluster_authorized_operations(response.cluster_authorized_operations)
}

fn encode_ours(request: &MetadataRequest, version: i16) -> Result<Bytes, EncodeError> {
    let mut w = Writer::new(API.is_flexible(version));
    request.encode(version, &mut w)?;
    Ok(w.into_bytes())
}

fn decode_ours(bytes: &[u8], version: i16) -> MetadataResponse {
    let mut r = Reader::new(bytes, API.is_flexible(version));
    let response = MetadataResponse::decode(&mut r, version).unwrap();
    r.expect_end().unwrap();
    response
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn request_matches_kafka_protocol(request in request()) {
        for version in versions() {
            let unnamed = request.topics.iter().flatten().any(|t| t.name.is_none());
            let mut bytes = match encode_ours(&request, version) {
                Err(EncodeError::InvalidForVersion { .. }) if unnamed && version < 12 => continue,
                other => other.unwrap(),
            };
            let theirs = KpRequest::decode(&mut bytes, version).unwrap();
            prop_assert!(bytes.is_empty(), "v{} left bytes", version);

            let topics = theirs.topics.map(|topics| {
                topics
                    .into_iter()
                    .map(|t| (*t.topic_id.as_bytes(), t.name.map(|n| n.0.to_string())))
                    .collect::<Vec<_>>()
            });
            let expected = request.topics.as_ref().map(|topics| {
                topics
                    .iter()
                    .map(|t| (if version >= 10 { t.topic_id } else { [0; 16] }, t.name.clone()))
                    .collect::<Vec<_>>()
            });
            prop_assert_eq!(topics, expected, "v{}", version);
            prop_assert_eq!(theirs.allow_auto_topic_creation, request.allow_auto_topic_creation);
            prop_assert_eq!(
                theirs.include_cluster_authorized_operations,
                (8..=10).contains(&version) && request.include_cluster_authorized_operations
            );
            prop_assert_eq!(
                theirs.include_topic_authorized_operations,
                version >= 8 && request.include_topic_authorized_operations
            );
        }
    }

    #[test]
    fn response_matches_kafka_protocol(response in response()) {
        for version in versions() {
            let expected = for_version(response.clone(), version);
            let mut buf = BytesMut::new();
            to_kp(&expected).encode(&mut buf, version).unwrap();
            prop_assert_eq!(&decode_ours(&buf, version), &expected, "v{}", version);
        }
    }
}
