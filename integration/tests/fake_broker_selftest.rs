//! Self-tests of the scripted fake broker, driven by the blocking probe client
//! and kafka-wire's request types (the fake itself decodes with
//! kafka-protocol, so each test also cross-checks the two codecs).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use actix_kafka::probe::{ProbeConnection, ProbeError};
use actix_kafka_integration::fake_broker::{codes, FakeCluster, FakeConfig, Fault};
use bytes::Bytes;
use kafka_wire::api::ApiKey;
use kafka_wire::compression::Compression;
use kafka_wire::messages::add_partitions_to_txn::{AddPartitionsToTxnRequest, AddPartitionsToTxnTopic};
use kafka_wire::messages::end_txn::EndTxnRequest;
use kafka_wire::messages::find_coordinator::{CoordinatorType, FindCoordinatorRequest};
use kafka_wire::messages::init_producer_id::InitProducerIdRequest;
use kafka_wire::messages::metadata::{MetadataRequest, MetadataResponse};
use kafka_wire::messages::produce::{
    PartitionProduceData, PartitionProduceResponse, ProduceRequest, TopicProduceData,
};
use kafka_wire::record::{ProducerStamp, RecordBatchBuilder, RecordHeader};
use kafka_wire::ErrorCode;

fn connect(cluster: &FakeCluster, node: i32) -> ProbeConnection {
    connect_with_timeout(cluster, node, Duration::from_secs(3))
}

fn connect_with_timeout(cluster: &FakeCluster, node: i32, timeout: Duration) -> ProbeConnection {
    ProbeConnection::connect(&cluster.addr(node), "fake-selftest", timeout).expect("connect and negotiate")
}

/// A batch of `values` (keys `k<i>`, timestamps `ts + i`, one header each).
fn batch(values: &[&str], ts: i64, stamp: ProducerStamp) -> Bytes {
    let mut b = RecordBatchBuilder::new(Compression::None, 1 << 20);
    for (i, value) in values.iter().enumerate() {
        let key = format!("k{i}");
        let headers = [RecordHeader {
            key: "h",
            value: Some(value.as_bytes()),
        }];
        b.append(
            ts + i as i64,
            Some(key.as_bytes()),
            Some(value.as_bytes()),
            &headers,
        )
        .unwrap()
        .expect("fits");
    }
    b.close(stamp).unwrap().bytes().clone()
}

fn produce(topic: &str, partition: i32, records: Bytes) -> ProduceRequest {
    ProduceRequest {
        transactional_id: None,
        acks: -1,
        timeout_ms: 5_000,
        topic_data: vec![TopicProduceData {
            name: topic.to_string(),
            partition_data: vec![PartitionProduceData {
                index: partition,
                records: Some(records),
            }],
        }],
    }
}

fn only_partition(conn: &mut ProbeConnection, request: &ProduceRequest) -> PartitionProduceResponse {
    let response = conn.call(request).expect("produce answered");
    assert_eq!(response.responses.len(), 1, "{response:?}");
    assert_eq!(response.responses[0].partition_responses.len(), 1, "{response:?}");
    response.responses[0].partition_responses[0].clone()
}

fn leaders(response: &MetadataResponse, topic: &str) -> Vec<(i32, i32, ErrorCode)> {
    let t = response
        .topics
        .iter()
        .find(|t| t.name.as_deref() == Some(topic))
        .expect("topic in metadata");
    t.partitions
        .iter()
        .map(|p| (p.partition_index, p.leader_id, p.error_code))
        .collect()
}

#[test]
fn negotiates_the_default_versions() {
    let cluster = FakeCluster::start(FakeConfig::default());
    let conn = connect(&cluster, 0);
    assert!(conn.api_versions().error_code.is_ok());
    assert_eq!(conn.version_of(ApiKey::Produce).unwrap(), 12);
    assert_eq!(conn.version_of(ApiKey::Metadata).unwrap(), 12);
    assert_eq!(conn.version_of(ApiKey::InitProducerId).unwrap(), 5);
    let requests = cluster.requests(0);
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].api_key, ApiKey::ApiVersions.code());
    assert_eq!(requests[0].api_version, ApiKey::ApiVersions.supported().max);
    assert_eq!(requests[0].client_id.as_deref(), Some("fake-selftest"));
    assert_eq!(cluster.connection_count(0), 1);
}

#[test]
fn unsupported_api_versions_version_falls_back() {
    let cluster = FakeCluster::start(
        FakeConfig::default()
            .max_version(ApiKey::ApiVersions, 2)
            .max_version(ApiKey::Produce, 8),
    );
    let conn = connect(&cluster, 0);
    let versions: Vec<i16> = cluster.requests(0).iter().map(|r| r.api_version).collect();
    assert_eq!(versions, vec![ApiKey::ApiVersions.supported().max, 2]);
    assert!(conn.api_versions().error_code.is_ok());
    assert_eq!(conn.version_of(ApiKey::ApiVersions).unwrap(), 2);
    assert_eq!(conn.version_of(ApiKey::Produce).unwrap(), 8);
}

#[test]
fn metadata_reflects_the_cluster_model() {
    let cluster = FakeCluster::start(FakeConfig::with_brokers(3).topic("t", 2, 0));
    let mut conn = connect(&cluster, 1);
    let response = conn.call(&MetadataRequest::all_topics()).unwrap();
    let mut brokers: Vec<(i32, String)> = response
        .brokers
        .iter()
        .map(|b| (b.node_id, format!("{}:{}", b.host, b.port)))
        .collect();
    brokers.sort();
    assert_eq!(
        brokers,
        (0..3).map(|n| (n, cluster.addr(n))).collect::<Vec<_>>(),
        "{response:?}"
    );
    assert_eq!(
        leaders(&response, "t"),
        vec![(0, 0, ErrorCode::NONE), (1, 0, ErrorCode::NONE)]
    );

    cluster.set_leader("t", 1, 2);
    cluster.create_topic("u", 1, -1);
    for version in ApiKey::Metadata.supported().min..=12 {
        let response = conn
            .call_at(&MetadataRequest::for_topics(["t", "u", "missing"]), version)
            .unwrap_or_else(|e| panic!("metadata v{version}: {e}"));
        assert_eq!(
            leaders(&response, "t"),
            vec![(0, 0, ErrorCode::NONE), (1, 2, ErrorCode::NONE)]
        );
        assert_eq!(
            leaders(&response, "u"),
            vec![(0, -1, ErrorCode::LEADER_NOT_AVAILABLE)]
        );
        let missing = response
            .topics
            .iter()
            .find(|t| t.name.as_deref() == Some("missing"))
            .unwrap();
        assert_eq!(missing.error_code, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
        if version >= 7 {
            let epochs: Vec<i32> = response.topics[0]
                .partitions
                .iter()
                .map(|p| p.leader_epoch)
                .collect();
            assert_eq!(epochs, vec![0, 1], "v{version}");
        }
    }
}

#[test]
fn produce_appends_and_assigns_offsets() {
    let cluster = FakeCluster::start(FakeConfig::with_brokers(2).topic("t", 1, 0));
    let mut conn = connect(&cluster, 0);
    let first = only_partition(
        &mut conn,
        &produce("t", 0, batch(&["a", "b", "c"], 1000, ProducerStamp::NONE)),
    );
    assert_eq!((first.error_code, first.base_offset), (ErrorCode::NONE, 0));
    let second = only_partition(
        &mut conn,
        &produce("t", 0, batch(&["d", "e"], 2000, ProducerStamp::NONE)),
    );
    assert_eq!((second.error_code, second.base_offset), (ErrorCode::NONE, 3));

    let log = cluster.log("t", 0);
    let summary: Vec<(i64, Vec<u8>, i64)> = log
        .iter()
        .map(|r| (r.offset, r.value.clone().unwrap(), r.timestamp))
        .collect();
    assert_eq!(
        summary,
        vec![
            (0, b"a".to_vec(), 1000),
            (1, b"b".to_vec(), 1001),
            (2, b"c".to_vec(), 1002),
            (3, b"d".to_vec(), 2000),
            (4, b"e".to_vec(), 2001),
        ]
    );
    assert_eq!(log[4].key.as_deref(), Some(&b"k1"[..]));
    assert_eq!(log[4].headers, vec![("h".to_string(), Some(b"e".to_vec()))]);
    assert_eq!((log[0].producer_id, log[0].sequence), (-1, -1));
    assert_eq!(
        cluster
            .batches("t", 0)
            .iter()
            .map(|b| b.base_offset)
            .collect::<Vec<_>>(),
        vec![0, 3]
    );
    assert_eq!(cluster.produce_request_count(0), 2);
    let recorded = cluster.requests(0);
    let produced = recorded[1].produce.as_ref().expect("produce recorded");
    assert_eq!(
        (
            produced[0].topic.as_str(),
            produced[0].partition,
            produced[0].acks
        ),
        ("t", 0, -1)
    );

    // Every Produce version the client speaks reaches the same log.
    for version in ApiKey::Produce.supported().min..=12 {
        let request = produce("t", 0, batch(&["v"], 3000, ProducerStamp::NONE));
        let response = conn
            .call_at(&request, version)
            .unwrap_or_else(|e| panic!("v{version}: {e}"));
        let p = &response.responses[0].partition_responses[0];
        assert_eq!(p.error_code, ErrorCode::NONE, "v{version}");
        assert_eq!(p.base_offset, 5 + i64::from(version - 3), "v{version}");
    }

    // A follower refuses, naming the leader (v10+).
    let mut follower = connect(&cluster, 1);
    let refused = only_partition(
        &mut follower,
        &produce("t", 0, batch(&["x"], 0, ProducerStamp::NONE)),
    );
    assert_eq!(refused.error_code, ErrorCode::NOT_LEADER_OR_FOLLOWER);
    assert_eq!(refused.current_leader.map(|l| l.leader_id), Some(0));
    let unknown = only_partition(
        &mut follower,
        &produce("nope", 0, batch(&["x"], 0, ProducerStamp::NONE)),
    );
    assert_eq!(unknown.error_code, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
    assert_eq!(cluster.log("t", 0).len(), 15);
}

#[test]
fn idempotent_sequences_are_checked_like_kafka() {
    let cluster = FakeCluster::start(FakeConfig::default().topic("t", 1, 0));
    let mut conn = connect(&cluster, 0);
    let init = conn.call(&InitProducerIdRequest::new(None, 60_000)).unwrap();
    assert!(init.error_code.is_ok());
    assert_eq!(init.producer_epoch, 0);
    let stamp = |sequence| ProducerStamp {
        producer_id: init.producer_id,
        producer_epoch: init.producer_epoch,
        base_sequence: sequence,
        transactional: false,
    };
    let ok = only_partition(&mut conn, &produce("t", 0, batch(&["a", "b"], 0, stamp(0))));
    assert_eq!((ok.error_code, ok.base_offset), (ErrorCode::NONE, 0));
    // A retry of the same batch gets its original offset and is not appended twice.
    let retry = only_partition(&mut conn, &produce("t", 0, batch(&["a", "b"], 0, stamp(0))));
    assert_eq!((retry.error_code, retry.base_offset), (ErrorCode::NONE, 0));
    let gap = only_partition(&mut conn, &produce("t", 0, batch(&["z"], 0, stamp(5))));
    assert_eq!(gap.error_code, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
    let next = only_partition(&mut conn, &produce("t", 0, batch(&["c"], 0, stamp(2))));
    assert_eq!((next.error_code, next.base_offset), (ErrorCode::NONE, 2));
    let sequences: Vec<i32> = cluster.log("t", 0).iter().map(|r| r.sequence).collect();
    assert_eq!(sequences, vec![0, 1, 2]);

    // InitProducerId with the current id/epoch bumps the epoch.
    let mut bump = InitProducerIdRequest::new(None, 60_000);
    bump.producer_id = init.producer_id;
    bump.producer_epoch = init.producer_epoch;
    let bumped = conn.call(&bump).unwrap();
    assert_eq!((bumped.producer_id, bumped.producer_epoch), (init.producer_id, 1));
    // The new epoch restarts at sequence 0; the partition then fences the old one.
    let mut new_epoch = stamp(0);
    new_epoch.producer_epoch = 1;
    let restarted = only_partition(&mut conn, &produce("t", 0, batch(&["d"], 0, new_epoch)));
    assert_eq!(
        (restarted.error_code, restarted.base_offset),
        (ErrorCode::NONE, 3)
    );
    let stale = only_partition(&mut conn, &produce("t", 0, batch(&["old"], 0, stamp(3))));
    assert_eq!(stale.error_code, ErrorCode::INVALID_PRODUCER_EPOCH);
}

#[test]
fn scripted_produce_error_twice_then_success() {
    let cluster = FakeCluster::start(FakeConfig::default().topic("t", 2, 0));
    cluster.script(
        0,
        ApiKey::Produce,
        Some(("t", 1)),
        Fault::ProduceError {
            code: codes::NOT_ENOUGH_REPLICAS,
        },
        2,
    );
    assert_eq!(cluster.pending_faults(), 2);
    let mut conn = connect(&cluster, 0);
    // Partition 0 is not scripted.
    let other = only_partition(
        &mut conn,
        &produce("t", 0, batch(&["p0"], 0, ProducerStamp::NONE)),
    );
    assert_eq!(other.error_code, ErrorCode::NONE);
    for _ in 0..2 {
        let failed = only_partition(&mut conn, &produce("t", 1, batch(&["a"], 0, ProducerStamp::NONE)));
        assert_eq!(
            (failed.error_code, failed.base_offset),
            (ErrorCode::NOT_ENOUGH_REPLICAS, -1)
        );
    }
    assert!(cluster.log("t", 1).is_empty());
    let ok = only_partition(&mut conn, &produce("t", 1, batch(&["a"], 0, ProducerStamp::NONE)));
    assert_eq!((ok.error_code, ok.base_offset), (ErrorCode::NONE, 0));
    assert_eq!(cluster.log("t", 1).len(), 1);
    assert_eq!(cluster.pending_faults(), 0);

    // AppendThenError appends but reports the error.
    cluster.script(
        0,
        ApiKey::Produce,
        None,
        Fault::AppendThenError {
            code: codes::NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        },
        1,
    );
    let after = only_partition(&mut conn, &produce("t", 1, batch(&["b"], 0, ProducerStamp::NONE)));
    assert_eq!(after.error_code, ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND);
    assert_eq!(cluster.log("t", 1).len(), 2);

    // Faults on other APIs set their error code.
    cluster.script(
        0,
        ApiKey::InitProducerId,
        None,
        Fault::ProduceError { code: 15 },
        1,
    );
    let init = conn.call(&InitProducerIdRequest::new(None, 60_000)).unwrap();
    assert_eq!(init.error_code, ErrorCode::COORDINATOR_NOT_AVAILABLE);
    let init = conn.call(&InitProducerIdRequest::new(None, 60_000)).unwrap();
    assert!(init.error_code.is_ok());
}

#[test]
fn no_response_makes_the_client_time_out() {
    let cluster = FakeCluster::start(FakeConfig::default().topic("t", 1, 0));
    cluster.script(0, ApiKey::Produce, Some(("t", 0)), Fault::NoResponse, 1);
    let mut conn = connect_with_timeout(&cluster, 0, Duration::from_millis(500));
    let started = Instant::now();
    let err = conn
        .call(&produce("t", 0, batch(&["a"], 0, ProducerStamp::NONE)))
        .expect_err("no answer");
    let elapsed = started.elapsed();
    match &err {
        ProbeError::Io { source, .. } => assert!(
            matches!(
                source.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "{err:?}"
        ),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(elapsed >= Duration::from_millis(450), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    // The answer was lost, not the request; the connection stays open.
    assert_eq!(cluster.log("t", 0).len(), 1);
    assert_eq!(cluster.open_connection_count(0), 1);

    // Ignore: no effect either.
    cluster.script(0, ApiKey::Produce, None, Fault::Ignore, 1);
    let mut conn = connect_with_timeout(&cluster, 0, Duration::from_millis(300));
    conn.call(&produce("t", 0, batch(&["b"], 0, ProducerStamp::NONE)))
        .expect_err("no answer");
    assert_eq!(cluster.log("t", 0).len(), 1);
}

#[test]
fn delay_delays_the_answer() {
    let cluster = FakeCluster::start(FakeConfig::default().topic("t", 1, 0));
    cluster.script(
        0,
        ApiKey::Metadata,
        None,
        Fault::Delay(Duration::from_millis(300)),
        1,
    );
    let mut conn = connect(&cluster, 0);
    let started = Instant::now();
    conn.call(&MetadataRequest::all_topics()).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    conn.call(&MetadataRequest::all_topics()).unwrap();
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[test]
fn disconnect_closes_the_socket() {
    let cluster = FakeCluster::start(FakeConfig::default().topic("t", 1, 0));
    cluster.script(0, ApiKey::Produce, None, Fault::Disconnect { append: false }, 1);
    cluster.script(0, ApiKey::Produce, None, Fault::Disconnect { append: true }, 1);

    let mut conn = connect(&cluster, 0);
    let err = conn
        .call(&produce("t", 0, batch(&["a"], 0, ProducerStamp::NONE)))
        .expect_err("disconnected");
    assert!(matches!(err, ProbeError::Io { .. }), "{err:?}");
    assert!(cluster.log("t", 0).is_empty());

    let mut conn = connect(&cluster, 0);
    conn.call(&produce("t", 0, batch(&["b"], 0, ProducerStamp::NONE)))
        .expect_err("disconnected");
    assert_eq!(
        cluster.log("t", 0).len(),
        1,
        "append: true appends before closing"
    );

    let mut conn = connect(&cluster, 0);
    let ok = only_partition(&mut conn, &produce("t", 0, batch(&["c"], 0, ProducerStamp::NONE)));
    assert_eq!((ok.error_code, ok.base_offset), (ErrorCode::NONE, 1));
    assert_eq!(cluster.connection_count(0), 3);

    // A broker-side close of every connection.
    cluster.close_connections(0);
    let err = conn.call(&MetadataRequest::all_topics()).expect_err("closed");
    assert!(matches!(err, ProbeError::Io { .. }), "{err:?}");
}

#[test]
fn raw_responses_fail_decoding_without_panics() {
    let cluster = FakeCluster::start(FakeConfig::default().topic("t", 1, 0));
    cluster.script(0, ApiKey::Metadata, None, Fault::RawResponse(vec![0xff; 3]), 1);
    let mut conn = connect(&cluster, 0);
    let err = conn
        .call(&MetadataRequest::all_topics())
        .expect_err("garbage body");
    assert!(matches!(err, ProbeError::Decode { .. }), "{err:?}");

    // A whole frame of garbage: a negative size prefix.
    cluster.script(
        0,
        ApiKey::Metadata,
        None,
        Fault::RawFrame(vec![0xff, 0xff, 0xff, 0xf0, 1, 2]),
        1,
    );
    let mut conn = connect(&cluster, 0);
    let err = conn
        .call(&MetadataRequest::all_topics())
        .expect_err("garbage frame");
    assert!(matches!(err, ProbeError::Decode { .. }), "{err:?}");

    // The fake still answers.
    let mut conn = connect(&cluster, 0);
    conn.call(&MetadataRequest::all_topics()).unwrap();
}

#[test]
fn garbage_requests_close_the_connection_only() {
    let cluster = FakeCluster::start(FakeConfig::default().topic("t", 1, 0));
    let garbage: [&[u8]; 4] = [
        &[0, 0, 0, 2, 0, 3],                                             // shorter than a header
        &[0, 0, 0, 8, 0x7f, 0x7f, 0, 0, 0, 0, 0, 1],                     // unknown API key
        &[0, 0, 0, 12, 0, 3, 0, 12, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff], // truncated metadata
        &[0x7f, 0xff, 0xff, 0xff],                                       // 2 GiB frame
    ];
    for bytes in garbage {
        let mut socket = TcpStream::connect(cluster.addr(0)).unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        socket.write_all(bytes).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(socket.read(&mut buf).unwrap(), 0, "closed after {bytes:?}");
    }
    // A version the fake does not serve also closes the connection.
    let mut conn = connect(&cluster, 0);
    let err = conn
        .call_at(&MetadataRequest::all_topics(), 13)
        .expect_err("not served");
    assert!(
        matches!(err, ProbeError::Io { .. } | ProbeError::Encode(_)),
        "{err:?}"
    );
    let mut conn = connect(&cluster, 0);
    conn.call(&MetadataRequest::all_topics()).unwrap();
}

#[test]
fn transactions_happy_path() {
    let cluster = FakeCluster::start(FakeConfig::with_brokers(2).topic("t", 2, 0));
    cluster.set_coordinator(1);
    let mut conn = connect(&cluster, 0);
    let found = conn
        .call(&FindCoordinatorRequest::single(
            CoordinatorType::Transaction,
            "tx",
        ))
        .unwrap();
    let coordinator = found.coordinator("tx").expect("coordinator").clone();
    assert_eq!(
        (coordinator.node_id, coordinator.port),
        (1, cluster.socket_addr(1).port() as i32)
    );
    for version in ApiKey::FindCoordinator.supported().min..=6 {
        let found = conn
            .call_at(
                &FindCoordinatorRequest::single(CoordinatorType::Transaction, "tx"),
                version,
            )
            .unwrap_or_else(|e| panic!("FindCoordinator v{version}: {e}"));
        assert_eq!(found.coordinators[0].node_id, 1, "v{version}");
        assert!(found.coordinators[0].error_code.is_ok(), "v{version}");
    }
    for version in 0..=5 {
        let init = conn
            .call_at(&InitProducerIdRequest::new(None, 60_000), version)
            .unwrap_or_else(|e| panic!("InitProducerId v{version}: {e}"));
        assert!(
            init.error_code.is_ok() && init.producer_id >= 0,
            "v{version}: {init:?}"
        );
    }
    let wrong = conn
        .call(&InitProducerIdRequest::new(Some("tx".into()), 60_000))
        .unwrap();
    assert_eq!(wrong.error_code, ErrorCode::NOT_COORDINATOR);

    let mut coord = connect(&cluster, 1);
    let init = coord
        .call(&InitProducerIdRequest::new(Some("tx".into()), 60_000))
        .unwrap();
    assert!(init.error_code.is_ok());
    let added = coord
        .call(&AddPartitionsToTxnRequest {
            transactional_id: "tx".into(),
            producer_id: init.producer_id,
            producer_epoch: init.producer_epoch,
            topics: vec![AddPartitionsToTxnTopic {
                name: "t".into(),
                partitions: vec![0, 1],
            }],
        })
        .unwrap();
    let codes: Vec<ErrorCode> = added.results[0]
        .results
        .iter()
        .map(|r| r.partition_error_code)
        .collect();
    assert_eq!(codes, vec![ErrorCode::NONE, ErrorCode::NONE]);

    let stamp = ProducerStamp {
        producer_id: init.producer_id,
        producer_epoch: init.producer_epoch,
        base_sequence: 0,
        transactional: true,
    };
    let mut request = produce("t", 0, batch(&["a"], 0, stamp));
    request.transactional_id = Some("tx".into());
    assert!(only_partition(&mut conn, &request).error_code.is_ok());
    assert!(cluster.log("t", 0)[0].transactional);

    let end = coord
        .call(&EndTxnRequest {
            transactional_id: "tx".into(),
            producer_id: init.producer_id,
            producer_epoch: init.producer_epoch,
            committed: true,
        })
        .unwrap();
    assert!(end.error_code.is_ok());
    let ended = cluster.ended_transactions();
    assert_eq!(ended.len(), 1);
    assert!(ended[0].committed);
    assert_eq!(
        ended[0].partitions,
        vec![("t".to_string(), 0), ("t".to_string(), 1)]
    );
    // The commit marker takes an offset.
    assert_eq!(cluster.next_offset("t", 0), Some(2));

    // Re-initialising fences the old epoch.
    let again = coord
        .call(&InitProducerIdRequest::new(Some("tx".into()), 60_000))
        .unwrap();
    assert_eq!(
        (again.producer_id, again.producer_epoch),
        (init.producer_id, init.producer_epoch + 1)
    );
    let fenced = coord
        .call(&EndTxnRequest {
            transactional_id: "tx".into(),
            producer_id: init.producer_id,
            producer_epoch: init.producer_epoch,
            committed: true,
        })
        .unwrap();
    assert_eq!(fenced.error_code, ErrorCode::PRODUCER_FENCED);
}

#[test]
fn shutdown_stops_the_listeners() {
    let cluster = FakeCluster::start(FakeConfig::with_brokers(2));
    let addrs = [cluster.socket_addr(0), cluster.socket_addr(1)];
    assert_eq!(cluster.bootstrap(), format!("{},{}", addrs[0], addrs[1]));
    let mut open = TcpStream::connect(addrs[0]).unwrap();
    let started = Instant::now();
    cluster.shutdown();
    assert!(started.elapsed() < Duration::from_secs(3));
    for addr in addrs {
        assert!(
            TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
            "{addr} still accepts"
        );
    }
    open.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 4];
    assert!(
        matches!(open.read(&mut buf), Ok(0) | Err(_)),
        "open connections are closed"
    );
}

#[actix_rt::test]
async fn works_from_an_actix_test() {
    let cluster = FakeCluster::start(FakeConfig::default().topic("t", 1, 0));
    let addr = cluster.addr(0);
    let response = actix_rt::task::spawn_blocking(move || {
        let mut conn = ProbeConnection::connect(&addr, "actix", Duration::from_secs(3)).unwrap();
        conn.call(&MetadataRequest::all_topics()).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(leaders(&response, "t"), vec![(0, 0, ErrorCode::NONE)]);
}
