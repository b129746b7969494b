//! kafka-wire against a real Apache Kafka broker: versions negotiated,
//! metadata decoded, hand-built batches (every codec, classic and flexible
//! Produce versions, acks 0/1/all) acknowledged, and the records read back by
//! Kafka's own console consumer.

use std::time::Duration;

use actix_kafka::probe::ProbeConnection;
use actix_kafka_integration::{bootstrap, console_consume, create_topic, unique_topic};
use bytes::Bytes;
use kafka_wire::api::ApiKey;
use kafka_wire::compression::Compression;
use kafka_wire::messages::metadata::MetadataRequest;
use kafka_wire::messages::produce::{
    PartitionProduceData, ProduceRequest, ProduceResponse, TopicProduceData,
};
use kafka_wire::record::{ProducerStamp, RecordBatchBuilder, RecordHeader};
use kafka_wire::ErrorCode;

fn connect(bootstrap: &str) -> ProbeConnection {
    ProbeConnection::connect(bootstrap, "wire-test", Duration::from_secs(30)).expect("connect and negotiate")
}

/// One batch of `values` with key `k<i>`, fixed timestamps and two headers that
/// share a key.
fn batch(codec: Compression, values: &[&str], timestamp: i64) -> Bytes {
    let mut b = RecordBatchBuilder::new(codec, 1 << 20);
    for (i, value) in values.iter().enumerate() {
        let key = format!("k{i}");
        let headers = [
            RecordHeader {
                key: "dup",
                value: Some(b"one"),
            },
            RecordHeader {
                key: "dup",
                value: Some(b"two"),
            },
        ];
        b.append(
            timestamp + i as i64,
            Some(key.as_bytes()),
            Some(value.as_bytes()),
            &headers,
        )
        .unwrap()
        .expect("fits");
    }
    b.close(ProducerStamp::NONE).unwrap().bytes().clone()
}

fn produce(topic: &str, partition: i32, acks: i16, records: Bytes) -> ProduceRequest {
    ProduceRequest {
        transactional_id: None,
        acks,
        timeout_ms: 30_000,
        topic_data: vec![TopicProduceData {
            name: topic.to_string(),
            partition_data: vec![PartitionProduceData {
                index: partition,
                records: Some(records),
            }],
        }],
    }
}

fn single_partition_result(response: &ProduceResponse) -> (ErrorCode, i64) {
    assert_eq!(response.responses.len(), 1, "{response:?}");
    let partitions = &response.responses[0].partition_responses;
    assert_eq!(partitions.len(), 1, "{response:?}");
    (partitions[0].error_code, partitions[0].base_offset)
}

#[test]
fn negotiates_versions_and_reads_metadata() {
    let bootstrap = bootstrap();
    let topic = unique_topic("wire-meta");
    create_topic(&bootstrap, &topic, 3, &[]);
    let mut conn = connect(&bootstrap);

    // Kafka 4.x: Produce v3..=v12+, flexible ApiVersions with features.
    assert_eq!(conn.versions().version(ApiKey::Produce), Some(12));
    assert_eq!(conn.versions().version(ApiKey::Metadata), Some(12));
    assert_eq!(conn.versions().version(ApiKey::ApiVersions), Some(4));
    for api in ApiKey::ALL {
        assert!(conn.versions().version(api).is_some(), "{api:?} negotiated");
    }
    let txn_version = conn.api_versions().finalized_feature("transaction.version");
    assert!(txn_version.is_some(), "broker reports transaction.version");

    // The oldest and newest Metadata versions we speak both decode.
    for version in [ApiKey::Metadata.supported().min, ApiKey::Metadata.supported().max] {
        let metadata = conn
            .call_at(&MetadataRequest::for_topics([topic.as_str()]), version)
            .unwrap_or_else(|e| panic!("metadata v{version}: {e}"));
        assert_eq!(metadata.brokers.len(), 1, "v{version}");
        assert_eq!(metadata.brokers[0].host, "127.0.0.1");
        assert_eq!(metadata.brokers[0].port, 9092);
        let t = &metadata.topics[0];
        assert_eq!(t.name.as_deref(), Some(topic.as_str()));
        assert!(t.error_code.is_ok(), "{}", t.error_code);
        let mut partitions: Vec<i32> = t.partitions.iter().map(|p| p.partition_index).collect();
        partitions.sort_unstable();
        assert_eq!(partitions, [0, 1, 2]);
        assert!(t
            .partitions
            .iter()
            .all(|p| p.leader_id == metadata.brokers[0].node_id));
    }

    // An unknown topic is an error code, not a decode failure.
    let missing = conn
        .call(&MetadataRequest {
            allow_auto_topic_creation: false,
            ..MetadataRequest::for_topics([unique_topic("missing").as_str()])
        })
        .unwrap();
    assert_eq!(
        missing.topics[0].error_code,
        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
    );
}

#[test]
fn every_codec_and_version_is_acknowledged_and_read_back_by_kafka() {
    let bootstrap = bootstrap();
    let topic = unique_topic("wire-produce");
    // The records carry 2023 timestamps; retention must not delete them first.
    create_topic(&bootstrap, &topic, 2, &["retention.ms=-1"]);
    let mut conn = connect(&bootstrap);

    // Classic (v3, the oldest Kafka 4 accepts) and flexible (v12) Produce,
    // one batch per codec, acks=all then acks=1, all to partition 1.
    let codecs = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];
    let mut expected = Vec::new();
    let mut next_offset = 0;
    for (round, version) in [3i16, 12].into_iter().enumerate() {
        for (i, codec) in codecs.into_iter().enumerate() {
            let values: Vec<String> = (0..3)
                .map(|j| format!("v{version}-{}-{j}", codec.name()))
                .collect();
            let value_refs: Vec<&str> = values.iter().map(String::as_str).collect();
            let timestamp = 1_700_000_000_000 + (round * 100 + i * 10) as i64;
            let acks = if i % 2 == 0 { -1 } else { 1 };
            let request = produce(&topic, 1, acks, batch(codec, &value_refs, timestamp));
            let response = conn
                .call_at(&request, version)
                .unwrap_or_else(|e| panic!("produce v{version} {codec:?}: {e}"));
            let (error, base_offset) = single_partition_result(&response);
            if codec == Compression::Zstd && version < 7 {
                // zstd needs Produce v7+ (KIP-110); the broker refuses it below.
                assert_eq!(error, ErrorCode::UNSUPPORTED_COMPRESSION_TYPE);
                continue;
            }
            assert!(error.is_ok(), "v{version} {codec:?}: {error}");
            assert_eq!(base_offset, next_offset, "v{version} {codec:?}");
            for (j, value) in values.iter().enumerate() {
                expected.push((
                    next_offset + j as i64,
                    format!("k{j}"),
                    value.clone(),
                    timestamp + j as i64,
                ));
            }
            next_offset += 3;
        }
    }

    // acks=0: no response at all; the record must still land.
    conn.send_only(&produce(
        &topic,
        1,
        0,
        batch(Compression::None, &["fire-and-forget"], 1_700_000_001_000),
    ))
    .unwrap();
    expected.push((
        next_offset,
        "k0".to_string(),
        "fire-and-forget".to_string(),
        1_700_000_001_000,
    ));

    let lines = console_consume(
        &bootstrap,
        &topic,
        expected.len(),
        &[
            "--partition",
            "1",
            "--property",
            "print.headers=true",
            "--property",
            "print.timestamp=true",
        ],
    );
    for (line, (offset, key, value, timestamp)) in lines.iter().zip(&expected) {
        let want =
            format!("CreateTime:{timestamp}|Partition:1|Offset:{offset}|dup:one,dup:two|{key}|{value}");
        assert_eq!(line, &want);
    }
}
