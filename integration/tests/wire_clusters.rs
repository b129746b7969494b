//! kafka-wire against the other broker setups the project provisions: a
//! broker formatted with `transaction.version=1`, and the 3-node cluster.

use std::time::Duration;

use actix_kafka::probe::ProbeConnection;
use actix_kafka_integration::{bootstrap, cluster_bootstrap, tv1_bootstrap, unique_topic};
use kafka_wire::api::ApiKey;
use kafka_wire::compression::Compression;
use kafka_wire::messages::metadata::MetadataRequest;
use kafka_wire::messages::produce::{PartitionProduceData, ProduceRequest, TopicProduceData};
use kafka_wire::record::{ProducerStamp, RecordBatchBuilder};

fn connect(addr: &str) -> ProbeConnection {
    ProbeConnection::connect(addr, "wire-cluster-test", Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"))
}

#[test]
fn transaction_version_feature_tells_the_two_formats_apart() {
    let v2 = connect(&bootstrap());
    assert_eq!(
        v2.api_versions().finalized_feature("transaction.version"),
        Some(2)
    );
    let v1 = connect(&tv1_bootstrap());
    assert_eq!(
        v1.api_versions().finalized_feature("transaction.version"),
        Some(1)
    );
    // Both still speak the newest Produce we do.
    assert_eq!(v1.versions().version(ApiKey::Produce), Some(12));
}

#[test]
fn three_node_cluster_metadata_and_acks_all_produce_to_each_leader() {
    let bootstrap = cluster_bootstrap();
    let topic = unique_topic("wire-rf3");
    actix_kafka_integration::kafka_sh(
        &bootstrap,
        &[
            "topic-create",
            &topic,
            "3",
            "3",
            "--config",
            "min.insync.replicas=2",
        ],
    );
    let first = bootstrap.split(',').next().unwrap();
    let mut conn = connect(first);

    // Leaders are elected asynchronously after creation: poll briefly.
    let mut metadata = conn.call(&MetadataRequest::for_topics([topic.as_str()])).unwrap();
    for _ in 0..50 {
        let t = &metadata.topics[0];
        if t.error_code.is_ok() && t.partitions.len() == 3 && t.partitions.iter().all(|p| p.leader_id >= 0) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        metadata = conn.call(&MetadataRequest::for_topics([topic.as_str()])).unwrap();
    }
    assert_eq!(metadata.brokers.len(), 3, "{metadata:?}");
    let t = &metadata.topics[0];
    assert!(t.error_code.is_ok(), "{}", t.error_code);
    for p in &t.partitions {
        assert_eq!(p.replica_nodes.len(), 3, "RF 3: {p:?}");
        let leader = metadata
            .brokers
            .iter()
            .find(|b| b.node_id == p.leader_id)
            .expect("leader is a broker");
        let mut to_leader = connect(&format!("{}:{}", leader.host, leader.port));
        let mut batch = RecordBatchBuilder::new(Compression::Lz4, 1 << 16);
        batch.append(1, None, Some(b"replicated"), &[]).unwrap();
        let request = ProduceRequest {
            transactional_id: None,
            acks: -1,
            timeout_ms: 30_000,
            topic_data: vec![TopicProduceData {
                name: topic.clone(),
                partition_data: vec![PartitionProduceData {
                    index: p.partition_index,
                    records: Some(batch.close(ProducerStamp::NONE).unwrap().bytes().clone()),
                }],
            }],
        };
        let response = to_leader.call(&request).unwrap();
        let result = &response.responses[0].partition_responses[0];
        assert!(
            result.error_code.is_ok(),
            "partition {}: {}",
            p.partition_index,
            result.error_code
        );
        assert_eq!(result.base_offset, 0);
    }
}
