//! Produce checked against the `kafka-protocol` crate, for every version.

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::produce_response as kp_resp;
use kafka_protocol::messages::{
    BrokerId, ProduceRequest as KpRequest, ProduceResponse as KpResponse, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafka_wire::messages::produce::*;
use kafka_wire::messages::{Request, Response};
use kafka_wire::{ApiKey, ErrorCode, Reader, Writer};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

const API: ApiKey = ApiKey::Produce;

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

fn request() -> impl Strategy<Value = ProduceRequest> {
    let partition =
        (any::<i32>(), option::weighted(0.9, vec(any::<u8>(), 0..200))).prop_map(|(index, records)| {
            PartitionProduceData {
                index,
                records: records.map(Bytes::from),
            }
        });
    let topic = (name(), vec(partition, 0..4))
        .prop_map(|(name, partition_data)| TopicProduceData { name, partition_data });
    (
        option::of(name()),
        prop_oneof![Just(0i16), Just(1), Just(-1)],
        any::<i32>(),
        vec(topic, 0..4),
    )
        .prop_map(
            |(transactional_id, acks, timeout_ms, topic_data)| ProduceRequest {
                transactional_id,
                acks,
                timeout_ms,
                topic_data,
            },
        )
}

fn response() -> impl Strategy<Value = ProduceResponse> {
    let record_error =
        (any::<i32>(), option::of(".{0,12}")).prop_map(|(batch_index, message)| BatchIndexAndErrorMessage {
            batch_index,
            batch_index_error_message: message,
        });
    let leader = (any::<i32>(), any::<i32>()).prop_map(|(leader_id, leader_epoch)| LeaderIdAndEpoch {
        leader_id,
        leader_epoch,
    });
    let partition = (
        (
            any::<i32>(),
            any::<i16>(),
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
        ),
        vec(record_error, 0..3),
        option::of(".{0,12}"),
        option::of(leader),
    )
        .prop_map(
            |(
                (index, error_code, base_offset, log_append_time_ms, log_start_offset),
                record_errors,
                error_message,
                current_leader,
            )| {
                PartitionProduceResponse {
                    index,
                    error_code: ErrorCode(error_code),
                    base_offset,
                    log_append_time_ms,
                    log_start_offset,
                    record_errors,
                    error_message,
                    current_leader,
                }
            },
        );
    let topic = (name(), vec(partition, 0..4)).prop_map(|(name, partition_responses)| TopicProduceResponse {
        name,
        partition_responses,
    });
    let endpoint =
        (any::<i32>(), name(), any::<i32>(), option::of(name())).prop_map(|(node_id, host, port, rack)| {
            NodeEndpoint {
                node_id,
                host,
                port,
                rack,
            }
        });
    (vec(topic, 0..4), any::<i32>(), vec(endpoint, 0..3)).prop_map(
        |(responses, throttle_time_ms, node_endpoints)| ProduceResponse {
            responses,
            throttle_time_ms,
            node_endpoints,
        },
    )
}

/// Drops what `version` cannot carry (and what the encoder omits as default).
fn for_version(mut response: ProduceResponse, version: i16) -> ProduceResponse {
    if version < 10 {
        response.node_endpoints.clear();
    }
    for partition in response
        .responses
        .iter_mut()
        .flat_map(|t| &mut t.partition_responses)
    {
        if version < 5 {
            partition.log_start_offset = -1;
        }
        if version < 8 {
            partition.record_errors.clear();
            partition.error_message = None;
        }
        let unknown = LeaderIdAndEpoch {
            leader_id: -1,
            leader_epoch: -1,
        };
        if version < 10 || partition.current_leader == Some(unknown) {
            partition.current_leader = None;
        }
    }
    response
}

fn to_kp(response: &ProduceResponse) -> KpResponse {
    let partition = |p: &PartitionProduceResponse| {
        let mut theirs = kp_resp::PartitionProduceResponse::default()
            .with_index(p.index)
            .with_error_code(p.error_code.0)
            .with_base_offset(p.base_offset)
            .with_log_append_time_ms(p.log_append_time_ms)
            .with_log_start_offset(p.log_start_offset)
            .with_record_errors(
                p.record_errors
                    .iter()
                    .map(|e| {
                        kp_resp::BatchIndexAndErrorMessage::default()
                            .with_batch_index(e.batch_index)
                            .with_batch_index_error_message(e.batch_index_error_message.as_deref().map(s))
                    })
                    .collect(),
            )
            .with_error_message(p.error_message.as_deref().map(s));
        if let Some(leader) = p.current_leader {
            theirs = theirs.with_current_leader(
                kp_resp::LeaderIdAndEpoch::default()
                    .with_leader_id(BrokerId(leader.leader_id))
                    .with_leader_epoch(leader.leader_epoch),
            );
        }
        theirs
    };
    KpResponse::default()
        .with_responses(
            response
                .responses
                .iter()
                .map(|t| {
                    kp_resp::TopicProduceResponse::default()
                        .with_name(TopicName(s(&t.name)))
                        .with_partition_responses(t.partition_responses.iter().map(partition).collect())
                })
                .collect(),
        )
        .with_throttle_time_ms(response.throttle_time_ms)
        .with_node_endpoints(
            response
                .node_endpoints
                .iter()
                .map(|e| {
                    kp_resp::NodeEndpoint::default()
                        .with_node_id(BrokerId(e.node_id))
                        .with_host(s(&e.host))
                        .with_port(e.port)
                        .with_rack(e.rack.as_deref().map(s))
                })
                .collect(),
        )
}

fn encode_ours(request: &ProduceRequest, version: i16) -> Bytes {
    let mut w = Writer::new(API.is_flexible(version));
    request.encode(version, &mut w).unwrap();
    w.into_bytes()
}

fn decode_ours(bytes: &[u8], version: i16) -> ProduceResponse {
    let mut r = Reader::new(bytes, API.is_flexible(version));
    let response = ProduceResponse::decode(&mut r, version).unwrap();
    r.expect_end().unwrap();
    response
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn request_matches_kafka_protocol(request in request()) {
        for version in versions() {
            let mut bytes = encode_ours(&request, version);
            let theirs = KpRequest::decode(&mut bytes, version).unwrap();
            prop_assert!(bytes.is_empty(), "v{} left bytes", version);
            prop_assert_eq!(
                theirs.transactional_id.as_ref().map(|t| t.0.as_str()),
                request.transactional_id.as_deref()
            );
            prop_assert_eq!(theirs.acks, request.acks);
            prop_assert_eq!(theirs.timeout_ms, request.timeout_ms);
            let topics: Vec<_> = theirs
                .topic_data
                .iter()
                .map(|t| {
                    let partitions: Vec<_> = t.partition_data.iter().map(|p| (p.index, p.records.clone())).collect();
                    (t.name.0.to_string(), partitions)
                })
                .collect();
            let expected: Vec<_> = request
                .topic_data
                .iter()
                .map(|t| {
                    let partitions: Vec<_> = t.partition_data.iter().map(|p| (p.index, p.records.clone())).collect();
                    (t.name.clone(), partitions)
                })
                .collect();
            prop_assert_eq!(topics, expected, "v{}", version);
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
