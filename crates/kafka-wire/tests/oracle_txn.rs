//! The transaction APIs (InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn,
//! TxnOffsetCommit, EndTxn) checked against the `kafka-protocol` crate, for
//! every supported version: our requests decode with its request types, and
//! its responses (with random unknown tagged fields in flexible versions)
//! decode with ours.

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult as KpAddPartitionResult,
    AddPartitionsToTxnTopicResult as KpAddTopicResult,
};
use kafka_protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequestPartition as KpCommitPartition, TxnOffsetCommitRequestTopic as KpCommitTopic,
};
use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition as KpCommitPartitionResult,
    TxnOffsetCommitResponseTopic as KpCommitTopicResult,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest as KpAddOffsetsRequest, AddOffsetsToTxnResponse as KpAddOffsetsResponse,
    AddPartitionsToTxnRequest as KpAddPartitionsRequest,
    AddPartitionsToTxnResponse as KpAddPartitionsResponse, EndTxnRequest as KpEndTxnRequest,
    EndTxnResponse as KpEndTxnResponse, InitProducerIdRequest as KpInitRequest,
    InitProducerIdResponse as KpInitResponse, TxnOffsetCommitRequest as KpCommitRequest,
    TxnOffsetCommitResponse as KpCommitResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafka_wire::messages::add_offsets_to_txn::*;
use kafka_wire::messages::add_partitions_to_txn::*;
use kafka_wire::messages::end_txn::*;
use kafka_wire::messages::init_producer_id::*;
use kafka_wire::messages::txn_offset_commit::*;
use kafka_wire::messages::{Request, Response};
use kafka_wire::{ApiKey, ErrorCode, Reader, VersionRange, Writer};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;

fn versions(api: ApiKey) -> impl Iterator<Item = i16> {
    let VersionRange { min, max } = api.supported();
    min..=max
}

fn s(value: &str) -> StrBytes {
    StrBytes::from_string(value.to_owned())
}

fn encode_ours<R: Request>(request: &R, version: i16) -> Bytes {
    let mut w = Writer::new(R::API_KEY.is_flexible(version));
    request.encode(version, &mut w).unwrap();
    w.into_bytes()
}

/// Decodes with kafka-protocol and checks it read every byte.
fn decode_theirs<T: Decodable>(mut bytes: Bytes, version: i16) -> T {
    let decoded = T::decode(&mut bytes, version).unwrap();
    assert!(bytes.is_empty(), "kafka-protocol left {} bytes", bytes.len());
    decoded
}

fn encode_theirs<T: Encodable>(message: &T, version: i16) -> BytesMut {
    let mut buf = BytesMut::new();
    message.encode(&mut buf, version).unwrap();
    buf
}

fn decode_ours<R: Response>(api: ApiKey, bytes: &[u8], version: i16) -> R {
    let mut r = Reader::new(bytes, api.is_flexible(version));
    let response = R::decode(&mut r, version).unwrap();
    r.expect_end().unwrap();
    response
}

/// Unknown tagged fields for kafka-protocol to write; ours must skip them.
fn unknown_tags() -> impl Strategy<Value = BTreeMap<i32, Bytes>> {
    btree_map(0..100i32, vec(any::<u8>(), 0..6).prop_map(Bytes::from), 0..3)
}

/// The tags to send in `version`: none in classic versions.
fn tags_for(api: ApiKey, version: i16, tags: &BTreeMap<i32, Bytes>) -> BTreeMap<i32, Bytes> {
    if api.is_flexible(version) {
        tags.clone()
    } else {
        BTreeMap::new()
    }
}

const NAME: &str = ".{0,12}";

// ---------------------------------------------------------------- InitProducerId

fn init_request() -> impl Strategy<Value = InitProducerIdRequest> {
    (option::of(NAME), any::<i32>(), any::<i64>(), any::<i16>()).prop_map(
        |(transactional_id, transaction_timeout_ms, producer_id, producer_epoch)| InitProducerIdRequest {
            transactional_id,
            transaction_timeout_ms,
            producer_id,
            producer_epoch,
        },
    )
}

fn init_response() -> impl Strategy<Value = InitProducerIdResponse> {
    (any::<i32>(), any::<i16>(), any::<i64>(), any::<i16>()).prop_map(
        |(throttle_time_ms, error_code, producer_id, producer_epoch)| InitProducerIdResponse {
            throttle_time_ms,
            error_code: ErrorCode(error_code),
            producer_id,
            producer_epoch,
        },
    )
}

// ---------------------------------------------------------------- AddPartitionsToTxn

fn add_partitions_request() -> impl Strategy<Value = AddPartitionsToTxnRequest> {
    (
        NAME,
        any::<i64>(),
        any::<i16>(),
        vec((NAME, vec(any::<i32>(), 0..5)), 0..4),
    )
        .prop_map(
            |(transactional_id, producer_id, producer_epoch, topics)| AddPartitionsToTxnRequest {
                transactional_id,
                producer_id,
                producer_epoch,
                topics: topics
                    .into_iter()
                    .map(|(name, partitions)| AddPartitionsToTxnTopic { name, partitions })
                    .collect(),
            },
        )
}

fn add_partitions_response() -> impl Strategy<Value = AddPartitionsToTxnResponse> {
    let partition =
        (any::<i32>(), any::<i16>()).prop_map(|(partition_index, code)| AddPartitionsToTxnPartitionResult {
            partition_index,
            partition_error_code: ErrorCode(code),
        });
    let topic = (NAME, vec(partition, 0..4))
        .prop_map(|(name, results)| AddPartitionsToTxnTopicResult { name, results });
    (any::<i32>(), vec(topic, 0..4)).prop_map(|(throttle_time_ms, results)| AddPartitionsToTxnResponse {
        throttle_time_ms,
        results,
    })
}

// ---------------------------------------------------------------- TxnOffsetCommit

fn commit_request() -> impl Strategy<Value = TxnOffsetCommitRequest> {
    let partition = (any::<i32>(), any::<i64>(), any::<i32>(), option::of(NAME)).prop_map(
        |(partition_index, committed_offset, committed_leader_epoch, committed_metadata)| {
            TxnOffsetCommitRequestPartition {
                partition_index,
                committed_offset,
                committed_leader_epoch,
                committed_metadata,
            }
        },
    );
    let topic = (NAME, vec(partition, 0..4))
        .prop_map(|(name, partitions)| TxnOffsetCommitRequestTopic { name, partitions });
    (
        (NAME, NAME, any::<i64>(), any::<i16>()),
        (any::<i32>(), NAME, option::of(NAME)),
        vec(topic, 0..4),
    )
        .prop_map(
            |(
                (transactional_id, group_id, producer_id, producer_epoch),
                (generation_id, member_id, group_instance_id),
                topics,
            )| {
                TxnOffsetCommitRequest {
                    transactional_id,
                    group_id,
                    producer_id,
                    producer_epoch,
                    generation_id,
                    member_id,
                    group_instance_id,
                    topics,
                }
            },
        )
}

/// What `request` can carry in `version`: group metadata is refused below v3
/// (tested in the unit tests) so it is cleared here; the leader epoch is left
/// out below v2, which reads back as -1.
fn commit_request_for(request: &TxnOffsetCommitRequest, version: i16) -> TxnOffsetCommitRequest {
    let mut request = request.clone();
    if version < 3 {
        request.generation_id = -1;
        request.member_id.clear();
        request.group_instance_id = None;
    }
    if version < 2 {
        for partition in request.topics.iter_mut().flat_map(|t| t.partitions.iter_mut()) {
            partition.committed_leader_epoch = -1;
        }
    }
    request
}

fn commit_response() -> impl Strategy<Value = TxnOffsetCommitResponse> {
    let partition =
        (any::<i32>(), any::<i16>()).prop_map(|(partition_index, code)| TxnOffsetCommitResponsePartition {
            partition_index,
            error_code: ErrorCode(code),
        });
    let topic = (NAME, vec(partition, 0..4))
        .prop_map(|(name, partitions)| TxnOffsetCommitResponseTopic { name, partitions });
    (any::<i32>(), vec(topic, 0..4)).prop_map(|(throttle_time_ms, topics)| TxnOffsetCommitResponse {
        throttle_time_ms,
        topics,
    })
}

// ---------------------------------------------------------------- EndTxn

fn end_txn_request() -> impl Strategy<Value = EndTxnRequest> {
    (NAME, any::<i64>(), any::<i16>(), any::<bool>()).prop_map(
        |(transactional_id, producer_id, producer_epoch, committed)| EndTxnRequest {
            transactional_id,
            producer_id,
            producer_epoch,
            committed,
        },
    )
}

fn end_txn_response() -> impl Strategy<Value = EndTxnResponse> {
    (any::<i32>(), any::<i16>(), any::<i64>(), any::<i16>()).prop_map(
        |(throttle_time_ms, code, producer_id, producer_epoch)| EndTxnResponse {
            throttle_time_ms,
            error_code: ErrorCode(code),
            producer_id,
            producer_epoch,
        },
    )
}

// ---------------------------------------------------------------- kafka-protocol <-> ours

fn string(value: &StrBytes) -> String {
    value.to_string()
}

fn init_request_from(theirs: KpInitRequest) -> InitProducerIdRequest {
    InitProducerIdRequest {
        transactional_id: theirs.transactional_id.map(|t| string(&t.0)),
        transaction_timeout_ms: theirs.transaction_timeout_ms,
        producer_id: theirs.producer_id.0,
        producer_epoch: theirs.producer_epoch,
    }
}

fn add_partitions_request_from(theirs: KpAddPartitionsRequest) -> AddPartitionsToTxnRequest {
    assert!(theirs.transactions.is_empty(), "v4+ field set");
    AddPartitionsToTxnRequest {
        transactional_id: string(&theirs.v3_and_below_transactional_id.0),
        producer_id: theirs.v3_and_below_producer_id.0,
        producer_epoch: theirs.v3_and_below_producer_epoch,
        topics: theirs
            .v3_and_below_topics
            .into_iter()
            .map(|t| AddPartitionsToTxnTopic {
                name: string(&t.name.0),
                partitions: t.partitions,
            })
            .collect(),
    }
}

fn add_partitions_response_to(
    ours: &AddPartitionsToTxnResponse,
    tags: &BTreeMap<i32, Bytes>,
) -> KpAddPartitionsResponse {
    let topic = |topic: &AddPartitionsToTxnTopicResult| {
        let partitions = topic.results.iter().map(|p| {
            KpAddPartitionResult::default()
                .with_partition_index(p.partition_index)
                .with_partition_error_code(p.partition_error_code.0)
                .with_unknown_tagged_fields(tags.clone())
        });
        KpAddTopicResult::default()
            .with_name(s(&topic.name).into())
            .with_results_by_partition(partitions.collect())
    };
    KpAddPartitionsResponse::default()
        .with_throttle_time_ms(ours.throttle_time_ms)
        .with_results_by_topic_v3_and_below(ours.results.iter().map(topic).collect())
        .with_unknown_tagged_fields(tags.clone())
}

fn add_offsets_request_from(theirs: KpAddOffsetsRequest) -> AddOffsetsToTxnRequest {
    AddOffsetsToTxnRequest {
        transactional_id: string(&theirs.transactional_id.0),
        producer_id: theirs.producer_id.0,
        producer_epoch: theirs.producer_epoch,
        group_id: string(&theirs.group_id.0),
    }
}

fn commit_request_from(theirs: KpCommitRequest) -> TxnOffsetCommitRequest {
    let partition = |p: KpCommitPartition| TxnOffsetCommitRequestPartition {
        partition_index: p.partition_index,
        committed_offset: p.committed_offset,
        committed_leader_epoch: p.committed_leader_epoch,
        committed_metadata: p.committed_metadata.as_ref().map(string),
    };
    let topic = |t: KpCommitTopic| TxnOffsetCommitRequestTopic {
        name: string(&t.name.0),
        partitions: t.partitions.into_iter().map(partition).collect(),
    };
    TxnOffsetCommitRequest {
        transactional_id: string(&theirs.transactional_id.0),
        group_id: string(&theirs.group_id.0),
        producer_id: theirs.producer_id.0,
        producer_epoch: theirs.producer_epoch,
        generation_id: theirs.generation_id,
        member_id: string(&theirs.member_id),
        group_instance_id: theirs.group_instance_id.as_ref().map(string),
        topics: theirs.topics.into_iter().map(topic).collect(),
    }
}

fn commit_response_to(ours: &TxnOffsetCommitResponse, tags: &BTreeMap<i32, Bytes>) -> KpCommitResponse {
    let topic = |topic: &TxnOffsetCommitResponseTopic| {
        let partitions = topic.partitions.iter().map(|p| {
            KpCommitPartitionResult::default()
                .with_partition_index(p.partition_index)
                .with_error_code(p.error_code.0)
        });
        KpCommitTopicResult::default()
            .with_name(s(&topic.name).into())
            .with_partitions(partitions.collect())
            .with_unknown_tagged_fields(tags.clone())
    };
    KpCommitResponse::default()
        .with_throttle_time_ms(ours.throttle_time_ms)
        .with_topics(ours.topics.iter().map(topic).collect())
}

fn end_txn_request_from(theirs: KpEndTxnRequest) -> EndTxnRequest {
    EndTxnRequest {
        transactional_id: string(&theirs.transactional_id.0),
        producer_id: theirs.producer_id.0,
        producer_epoch: theirs.producer_epoch,
        committed: theirs.committed,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn init_producer_id_request_matches(request in init_request()) {
        for version in versions(ApiKey::InitProducerId) {
            let mut expected = request.clone();
            if version < 3 {
                // An epoch bump is refused below v3 (unit tests); send none.
                expected.producer_id = -1;
                expected.producer_epoch = -1;
            }
            let bytes = encode_ours(&expected, version);
            let decoded = init_request_from(decode_theirs(bytes, version));
            prop_assert_eq!(&decoded, &expected, "v{}", version);
        }
    }

    #[test]
    fn init_producer_id_response_matches(response in init_response(), tags in unknown_tags()) {
        let api = ApiKey::InitProducerId;
        for version in versions(api) {
            let theirs = KpInitResponse::default()
                .with_throttle_time_ms(response.throttle_time_ms)
                .with_error_code(response.error_code.0)
                .with_producer_id(response.producer_id.into())
                .with_producer_epoch(response.producer_epoch)
                .with_unknown_tagged_fields(tags_for(api, version, &tags));
            let bytes = encode_theirs(&theirs, version);
            let ours: InitProducerIdResponse = decode_ours(api, &bytes, version);
            prop_assert_eq!(&ours, &response, "v{}", version);
        }
    }

    #[test]
    fn add_partitions_to_txn_request_matches(request in add_partitions_request()) {
        for version in versions(ApiKey::AddPartitionsToTxn) {
            let bytes = encode_ours(&request, version);
            let decoded = add_partitions_request_from(decode_theirs(bytes, version));
            prop_assert_eq!(&decoded, &request, "v{}", version);
        }
    }

    #[test]
    fn add_partitions_to_txn_response_matches(
        response in add_partitions_response(),
        tags in unknown_tags(),
    ) {
        let api = ApiKey::AddPartitionsToTxn;
        for version in versions(api) {
            let theirs = add_partitions_response_to(&response, &tags_for(api, version, &tags));
            let bytes = encode_theirs(&theirs, version);
            let ours: AddPartitionsToTxnResponse = decode_ours(api, &bytes, version);
            prop_assert_eq!(&ours, &response, "v{}", version);
        }
    }

    #[test]
    fn add_offsets_to_txn_request_matches(
        (transactional_id, producer_id, producer_epoch, group_id)
            in (NAME, any::<i64>(), any::<i16>(), NAME),
    ) {
        let request =
            AddOffsetsToTxnRequest { transactional_id, producer_id, producer_epoch, group_id };
        for version in versions(ApiKey::AddOffsetsToTxn) {
            let bytes = encode_ours(&request, version);
            let decoded = add_offsets_request_from(decode_theirs(bytes, version));
            prop_assert_eq!(&decoded, &request, "v{}", version);
        }
    }

    #[test]
    fn add_offsets_to_txn_response_matches(
        throttle_time_ms in any::<i32>(),
        code in any::<i16>(),
        tags in unknown_tags(),
    ) {
        let api = ApiKey::AddOffsetsToTxn;
        let expected = AddOffsetsToTxnResponse { throttle_time_ms, error_code: ErrorCode(code) };
        for version in versions(api) {
            let theirs = KpAddOffsetsResponse::default()
                .with_throttle_time_ms(throttle_time_ms)
                .with_error_code(code)
                .with_unknown_tagged_fields(tags_for(api, version, &tags));
            let bytes = encode_theirs(&theirs, version);
            let ours: AddOffsetsToTxnResponse = decode_ours(api, &bytes, version);
            prop_assert_eq!(ours, expected, "v{}", version);
        }
    }

    #[test]
    fn txn_offset_commit_request_matches(request in commit_request()) {
        for version in versions(ApiKey::TxnOffsetCommit) {
            let expected = commit_request_for(&request, version);
            let bytes = encode_ours(&expected, version);
            let decoded = commit_request_from(decode_theirs(bytes, version));
            prop_assert_eq!(&decoded, &expected, "v{}", version);
        }
    }

    #[test]
    fn txn_offset_commit_response_matches(response in commit_response(), tags in unknown_tags()) {
        let api = ApiKey::TxnOffsetCommit;
        for version in versions(api) {
            let theirs = commit_response_to(&response, &tags_for(api, version, &tags));
            let bytes = encode_theirs(&theirs, version);
            let ours: TxnOffsetCommitResponse = decode_ours(api, &bytes, version);
            prop_assert_eq!(&ours, &response, "v{}", version);
        }
    }

    #[test]
    fn end_txn_request_matches(request in end_txn_request()) {
        for version in versions(ApiKey::EndTxn) {
            let bytes = encode_ours(&request, version);
            let decoded = end_txn_request_from(decode_theirs(bytes, version));
            prop_assert_eq!(&decoded, &request, "v{}", version);
        }
    }

    #[test]
    fn end_txn_response_matches(response in end_txn_response(), tags in unknown_tags()) {
        let api = ApiKey::EndTxn;
        for version in versions(api) {
            let mut expected = response;
            if version < 5 {
                expected.producer_id = -1;
                expected.producer_epoch = -1;
            }
            let theirs = KpEndTxnResponse::default()
                .with_throttle_time_ms(expected.throttle_time_ms)
                .with_error_code(expected.error_code.0)
                .with_producer_id(expected.producer_id.into())
                .with_producer_epoch(expected.producer_epoch)
                .with_unknown_tagged_fields(tags_for(api, version, &tags));
            let bytes = encode_theirs(&theirs, version);
            let ours: EndTxnResponse = decode_ours(api, &bytes, version);
            prop_assert_eq!(ours, expected, "v{}", version);
        }
    }
}
