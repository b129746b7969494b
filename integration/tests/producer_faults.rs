//! Fault injection against the producer runtime, with the scripted in-process
//! fake cluster (`actix_kafka_integration::fake_broker`). Every test reads the
//! fake's partition log to check what was actually written, and in which
//! order; request counts show how many attempts the producer made.
//!
//! Timeouts are small (request_timeout_ms of 1–5 s, retry_backoff_ms 50) so
//! that every test is bounded; the tests run in parallel.

use std::time::{Duration, Instant};

use actix_kafka::config::Acks;
use actix_kafka::error::DataOutcome;
use actix_kafka::wire::record::read_batches;
use actix_kafka::wire::ErrorCode;
use actix_kafka::{DeliveryFuture, Producer, ProducerConfig, ProducerError, ProducerRecord, RecordMetadata};
use actix_kafka_integration::counting_proxy::CountingProxy;
use actix_kafka_integration::fake_broker::{codes, FakeCluster, FakeConfig, Fault};
use futures_util::future::join_all;
use kafka_wire::api::ApiKey;

const TOPIC: &str = "t";

/// A one-partition topic `t` on a one-broker fake cluster (node 0 leads).
fn one_broker() -> FakeCluster {
    FakeCluster::start(FakeConfig::with_brokers(1).topic(TOPIC, 1, 0))
}

/// Small, bounded timeouts for `cluster`.
fn config(cluster: &FakeCluster, request_timeout_ms: u64) -> ProducerConfig {
    ProducerConfig {
        request_timeout_ms,
        retry_backoff_ms: 50,
        reconnect_backoff_ms: 50,
        max_block_ms: 3_000,
        ..ProducerConfig::new(cluster.bootstrap())
    }
}

async fn start(config: ProducerConfig) -> Producer {
    Producer::start(config).await.expect("producer starts")
}

fn record(value: impl Into<String>) -> ProducerRecord {
    ProducerRecord::new(TOPIC, value.into()).partition(0)
}

/// The values stored in `t`-0, in offset order.
fn log_values(cluster: &FakeCluster) -> Vec<String> {
    cluster
        .log(TOPIC, 0)
        .into_iter()
        .map(|r| String::from_utf8(r.value.expect("value")).expect("utf-8 value"))
        .collect()
}

/// The offsets stored in `t`-0, in order.
fn log_offsets(cluster: &FakeCluster) -> Vec<i64> {
    cluster.log(TOPIC, 0).iter().map(|r| r.offset).collect()
}

/// The record counts of the batches in `node`'s produce requests for `t`-0,
/// in arrival order.
fn produced_batch_sizes(cluster: &FakeCluster, node: i32) -> Vec<usize> {
    cluster
        .requests(node)
        .into_iter()
        .filter_map(|r| r.produce)
        .flatten()
        .filter(|p| p.topic == TOPIC && p.partition == 0)
        .map(|p| {
            let bytes = p.records.expect("records");
            read_batches(&bytes, usize::MAX)
                .expect("decodable batches")
                .iter()
                .map(|b| b.records.len())
                .sum()
        })
        .collect()
}

/// Enqueues every record with one `send_all`, expecting all to be enqueued.
async fn send_all(producer: &Producer, records: Vec<ProducerRecord>) -> Vec<DeliveryFuture> {
    producer
        .send_all(records)
        .await
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|e| panic!("record {i} not enqueued: {e}")))
        .collect()
}

/// Awaits every delivery, expecting success, and returns the offsets.
async fn offsets(deliveries: Vec<DeliveryFuture>) -> Vec<i64> {
    join_all(deliveries)
        .await
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.unwrap_or_else(|e| panic!("record {i} not delivered: {e}"))
                .offset
        })
        .collect()
}

fn assert_broker_error(result: Result<RecordMetadata, ProducerError>, expected: ErrorCode) -> ProducerError {
    match result {
        Err(e @ ProducerError::Broker { code, .. }) if code == expected => e,
        other => panic!("expected Broker {{ code: {expected} }}, got {other:?}"),
    }
}

// 1 -------------------------------------------------------------------------

#[actix_rt::test]
async fn request_timed_out_three_times_then_success_is_written_once() {
    let cluster = one_broker();
    let fault = Fault::ProduceError {
        code: codes::REQUEST_TIMED_OUT,
    };
    cluster.script(0, ApiKey::Produce, Some((TOPIC, 0)), fault, 3);
    let producer = start(config(&cluster, 3_000)).await;

    let metadata = producer.send_and_wait(record("once")).await.expect("delivered");
    assert_eq!(metadata.offset, 0);
    assert_eq!(metadata.partition, 0);
    assert_eq!(log_values(&cluster), ["once"]);
    assert_eq!(
        cluster.produce_request_count(0),
        3 + 1,
        "three failed attempts, then one that appends"
    );
    assert_eq!(cluster.pending_faults(), 0);
    producer.stop().await;
}

// 2 -------------------------------------------------------------------------

#[actix_rt::test]
async fn retries_stop_at_request_timeout_with_the_last_error() {
    let cluster = one_broker();
    // First REQUEST_TIMED_OUT, then NOT_ENOUGH_REPLICAS more often than fits
    // in request_timeout_ms: the error reported is the last one seen.
    let part = Some((TOPIC, 0));
    let timed_out = Fault::ProduceError {
        code: codes::REQUEST_TIMED_OUT,
    };
    let not_enough = Fault::ProduceError {
        code: codes::NOT_ENOUGH_REPLICAS,
    };
    cluster.script(0, ApiKey::Produce, part, timed_out, 2);
    cluster.script(0, ApiKey::Produce, part, not_enough, 1_000);
    let request_timeout = Duration::from_millis(1_000);
    let producer = start(config(&cluster, 1_000)).await;

    let started = Instant::now();
    let result = producer.send_and_wait(record("never")).await;
    let elapsed = started.elapsed();
    let error = assert_broker_error(result, ErrorCode::NOT_ENOUGH_REPLICAS);
    assert!(error.is_retriable());
    assert_eq!(error.outcome(), DataOutcome::NotWritten);
    // The last retry starts before the deadline minus one backoff.
    assert!(
        elapsed >= request_timeout - Duration::from_millis(100),
        "gave up after {elapsed:?}, before request_timeout_ms"
    );
    assert!(
        elapsed < request_timeout + Duration::from_millis(1_500),
        "gave up after {elapsed:?}, long after request_timeout_ms"
    );
    let attempts = cluster.produce_request_count(0);
    assert!(
        (2 + 3..=2 + 20).contains(&attempts),
        "{attempts} attempts in 1 s with a 50 ms backoff"
    );
    assert!(cluster.log(TOPIC, 0).is_empty(), "nothing is written");
    producer.stop().await;
}

// 3 -------------------------------------------------------------------------

#[actix_rt::test]
async fn not_leader_then_leader_moves_mid_stream_keeps_order_exactly_once() {
    let cluster = FakeCluster::start(FakeConfig::with_brokers(2).topic(TOPIC, 1, 0));
    // Every produce to node 0 takes 10 ms, so the stream of small batches is
    // still going when the leader moves.
    let slow = Fault::Delay(Duration::from_millis(10));
    cluster.script(0, ApiKey::Produce, None, slow, 10_000);
    let producer = start(ProducerConfig {
        linger_ms: 5,
        max_batch_size: 256,
        ..config(&cluster, 5_000)
    })
    .await;

    let n = 200;
    let deliveries = send_all(&producer, (0..n).map(|i| record(format!("v{i}"))).collect()).await;
    let waited = Instant::now();
    while cluster.log(TOPIC, 0).len() < 40 {
        assert!(
            waited.elapsed() < Duration::from_secs(5),
            "the stream never started"
        );
        actix_rt::time::sleep(Duration::from_millis(1)).await;
    }
    // Node 0 refuses the next batch explicitly; afterwards it answers
    // NOT_LEADER_OR_FOLLOWER on its own, as node 1 now leads.
    let not_leader = Fault::ProduceError {
        code: codes::NOT_LEADER_OR_FOLLOWER,
    };
    cluster.script(0, ApiKey::Produce, Some((TOPIC, 0)), not_leader, 1);
    cluster.set_leader(TOPIC, 0, 1);
    let moved_at = cluster.log(TOPIC, 0).len();

    let offsets = offsets(deliveries).await;
    assert_eq!(offsets, (0..n as i64).collect::<Vec<_>>());
    // The log is per topic-partition, shared by the brokers: it holds every
    // record once, in send order, written partly by node 0 and partly by 1.
    let expected: Vec<String> = (0..n).map(|i| format!("v{i}")).collect();
    assert_eq!(log_values(&cluster), expected);
    assert_eq!(log_offsets(&cluster), (0..n as i64).collect::<Vec<_>>());
    assert!(
        moved_at < n,
        "the leader moved after the stream ended ({moved_at} written)"
    );
    let on_node_1: usize = produced_batch_sizes(&cluster, 1).iter().sum();
    assert!(on_node_1 > 0, "node 1 never got a batch");
    assert!(
        on_node_1 <= n - 40,
        "node 1 got {on_node_1} records, but node 0 had written 40 before the move"
    );
    producer.stop().await;
}

// 4 -------------------------------------------------------------------------

#[actix_rt::test]
async fn disconnect_before_append_is_retried_and_written_once() {
    let cluster = one_broker();
    let fault = Fault::Disconnect { append: false };
    cluster.script(0, ApiKey::Produce, Some((TOPIC, 0)), fault, 1);
    let producer = start(config(&cluster, 3_000)).await;

    let metadata = producer.send_and_wait(record("once")).await.expect("delivered");
    assert_eq!(metadata.offset, 0);
    assert_eq!(log_values(&cluster), ["once"]);
    assert_eq!(cluster.produce_request_count(0), 2);
    assert!(cluster.connection_count(0) >= 2, "the producer reconnected");
    producer.stop().await;
}

#[actix_rt::test]
async fn disconnect_after_append_is_retried_and_duplicated() {
    // The outcome of a request in flight when the connection drops is
    // unknown; the non-idempotent producer retries it, so the broker that had
    // appended it appends it again (at-least-once).
    let cluster = one_broker();
    let fault = Fault::Disconnect { append: true };
    cluster.script(0, ApiKey::Produce, Some((TOPIC, 0)), fault, 1);
    let producer = start(config(&cluster, 3_000)).await;

    let metadata = producer.send_and_wait(record("dup")).await.expect("delivered");
    assert_eq!(metadata.offset, 1, "the acknowledged copy is the second one");
    let later = send_all(&producer, (0..10).map(|i| record(format!("a{i}"))).collect()).await;
    assert_eq!(offsets(later).await, (2..12).collect::<Vec<i64>>());

    let mut expected = vec!["dup".to_string(), "dup".to_string()];
    expected.extend((0..10).map(|i| format!("a{i}")));
    assert_eq!(log_values(&cluster), expected);
    assert_eq!(log_offsets(&cluster), (0..12).collect::<Vec<i64>>());
    producer.stop().await;
}

// 5 -------------------------------------------------------------------------

#[actix_rt::test]
async fn a_broker_that_never_answers_bounds_send_flush_and_stop() {
    let cluster = one_broker();
    // NoResponse: the produce takes effect but the answer is lost.
    cluster.script(0, ApiKey::Produce, None, Fault::NoResponse, 10_000);
    let request_timeout = Duration::from_millis(1_000);
    let producer = start(config(&cluster, 1_000)).await;
    let bound = request_timeout + Duration::from_millis(1_500);

    let started = Instant::now();
    let result = actix_rt::time::timeout(bound, producer.send_and_wait(record("a")))
        .await
        .expect("send_and_wait did not end within request_timeout_ms");
    let elapsed = started.elapsed();
    match &result {
        Err(ProducerError::RequestTimedOut {
            broker: actix_kafka::error::BrokerId(0),
            timeout_ms: 1_000,
        }) => {}
        other => panic!("expected RequestTimedOut from broker 0, got {other:?}"),
    }
    assert_eq!(result.unwrap_err().outcome(), DataOutcome::Unknown);
    assert!(
        elapsed >= request_timeout - Duration::from_millis(100),
        "{elapsed:?}"
    );
    // The answer was lost, the write was not: the outcome really is unknown.
    assert_eq!(log_values(&cluster), ["a"]);

    // flush waits for a batch that gets no answer, but not forever.
    let delivery = producer.send(record("b")).await.expect("enqueued");
    let started = Instant::now();
    actix_rt::time::timeout(bound, producer.flush())
        .await
        .expect("flush did not return within request_timeout_ms");
    assert!(started.elapsed() >= request_timeout - Duration::from_millis(100));
    let result = actix_rt::time::timeout(Duration::from_millis(500), delivery)
        .await
        .expect("the delivery is resolved once flush returned");
    assert!(
        matches!(
            result,
            Err(ProducerError::RequestTimedOut {
                broker: actix_kafka::error::BrokerId(0),
                ..
            })
        ),
        "{result:?}"
    );

    // stop flushes too, and is bounded the same way.
    let delivery = producer.send(record("c")).await.expect("enqueued");
    actix_rt::time::timeout(bound, producer.stop())
        .await
        .expect("stop did not return within request_timeout_ms");
    let result = actix_rt::time::timeout(Duration::from_millis(500), delivery)
        .await
        .expect("the delivery is resolved once stop returned");
    assert!(result.is_err(), "{result:?}");
    assert!(matches!(
        producer.send(record("d")).await,
        Err(ProducerError::Closed)
    ));
}

#[actix_rt::test]
async fn a_request_lost_on_the_way_in_fails_with_a_timeout_and_nothing_written() {
    let cluster = one_broker();
    cluster.script(0, ApiKey::Produce, None, Fault::Ignore, 10_000);
    let request_timeout = Duration::from_millis(1_000);
    let producer = start(config(&cluster, 1_000)).await;

    let started = Instant::now();
    let result = actix_rt::time::timeout(
        request_timeout + Duration::from_millis(1_500),
        producer.send_and_wait(record("lost")),
    )
    .await
    .expect("send_and_wait did not end within request_timeout_ms");
    assert!(
        matches!(
            result,
            Err(ProducerError::RequestTimedOut {
                broker: actix_kafka::error::BrokerId(0),
                ..
            })
        ),
        "{result:?}"
    );
    assert!(started.elapsed() >= request_timeout - Duration::from_millis(100));
    assert!(cluster.log(TOPIC, 0).is_empty());
    actix_rt::time::timeout(Duration::from_secs(3), producer.stop())
        .await
        .expect("stop is bounded");
}

// 6 -------------------------------------------------------------------------

/// Scripts `fault` for every produce until cleared: the send fails with a
/// typed error at request_timeout_ms; once the script is cleared the same
/// producer delivers again.
async fn malformed_then_recovers(fault: Fault, expect: fn(&ProducerError) -> bool) {
    let cluster = one_broker();
    cluster.script(0, ApiKey::Produce, None, fault, 10_000);
    let producer = start(config(&cluster, 1_000)).await;

    let result = actix_rt::time::timeout(
        Duration::from_millis(2_500),
        producer.send_and_wait(record("bad")),
    )
    .await
    .expect("bounded by request_timeout_ms");
    let error = result.expect_err("every answer is malformed");
    assert!(expect(&error), "unexpected error {error:?}");
    assert!(error.is_retriable());
    assert_eq!(error.outcome(), DataOutcome::Unknown);
    let attempts = cluster.produce_request_count(0);
    assert!(attempts >= 2, "the producer retried ({attempts} attempts)");
    assert!(
        cluster.connection_count(0) >= 2,
        "each malformed answer closes the connection"
    );
    // These faults still apply the request: every attempt was appended.
    assert_eq!(log_values(&cluster), vec!["bad"; attempts]);

    cluster.clear_script();
    let metadata = producer.send_and_wait(record("good")).await.expect("recovered");
    assert_eq!(metadata.offset, attempts as i64);
    assert_eq!(log_values(&cluster).last().map(String::as_str), Some("good"));
    producer.stop().await;
}

fn is_protocol(e: &ProducerError) -> bool {
    matches!(e, ProducerError::Protocol { .. })
}

#[actix_rt::test]
async fn garbage_response_body_is_a_protocol_error_and_the_producer_recovers() {
    malformed_then_recovers(Fault::RawResponse(vec![0xff; 7]), is_protocol).await;
}

#[actix_rt::test]
async fn negative_frame_size_is_a_protocol_error_and_the_producer_recovers() {
    malformed_then_recovers(
        Fault::RawFrame(vec![0xff, 0xff, 0xff, 0xfe, 1, 2, 3]),
        is_protocol,
    )
    .await;
}

#[actix_rt::test]
async fn unknown_correlation_id_is_a_protocol_error_and_the_producer_recovers() {
    // A well-framed answer to a request that was never sent.
    let frame = vec![0, 0, 0, 4, 0x7f, 0x00, 0x00, 0x01];
    malformed_then_recovers(Fault::RawFrame(frame), is_protocol).await;
}

#[actix_rt::test]
async fn truncated_frame_times_out_and_the_next_connection_is_clean() {
    // Half a frame: the answer never completes. The request times out, the
    // connection (with the half frame in its buffer) is closed, and the next
    // record goes over a fresh one.
    let cluster = one_broker();
    cluster.script(
        0,
        ApiKey::Produce,
        None,
        Fault::RawFrame(vec![0, 0, 0, 100, 0, 0]),
        1,
    );
    let producer = start(config(&cluster, 1_000)).await;
    let result = actix_rt::time::timeout(Duration::from_millis(2_500), producer.send_and_wait(record("x")))
        .await
        .expect("bounded by request_timeout_ms");
    assert!(
        matches!(
            result,
            Err(ProducerError::RequestTimedOut {
                broker: actix_kafka::error::BrokerId(0),
                ..
            })
        ),
        "{result:?}"
    );
    let metadata = producer.send_and_wait(record("y")).await.expect("delivered");
    assert_eq!(
        log_values(&cluster),
        ["x", "y"],
        "RawFrame applied the first request"
    );
    assert_eq!(metadata.offset, 1);
    assert!(cluster.connection_count(0) >= 2);
    producer.stop().await;
}

// 7 -------------------------------------------------------------------------

#[actix_rt::test]
async fn acks_zero_resolves_with_offset_minus_one_and_is_written() {
    let cluster = one_broker();
    let producer = start(ProducerConfig {
        acks: Some(Acks::None),
        ..config(&cluster, 2_000)
    })
    .await;

    let metadata = producer.send_and_wait(record("fire")).await.expect("written");
    assert_eq!(metadata.offset, -1);
    assert_eq!(metadata.partition, 0);
    let waited = Instant::now();
    while cluster.log(TOPIC, 0).is_empty() {
        assert!(
            waited.elapsed() < Duration::from_secs(2),
            "the record never reached the log"
        );
        actix_rt::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(log_values(&cluster), ["fire"]);
    let acks: Vec<i16> = cluster
        .requests(0)
        .into_iter()
        .filter_map(|r| r.produce)
        .flatten()
        .map(|p| p.acks)
        .collect();
    assert_eq!(acks, [0]);
    producer.stop().await;
}

// 8 -------------------------------------------------------------------------

#[actix_rt::test]
async fn unknown_topic_fails_after_max_block_ms() {
    let cluster = one_broker();
    let producer = start(ProducerConfig {
        max_block_ms: 1_000,
        ..config(&cluster, 2_000)
    })
    .await;

    let started = Instant::now();
    let result = producer.send(ProducerRecord::new("missing", "v")).await;
    let elapsed = started.elapsed();
    match result {
        Err(ProducerError::UnknownTopic { topic, waited_ms }) => {
            assert_eq!(topic, "missing");
            assert!(waited_ms >= 900, "waited_ms {waited_ms}");
        }
        Err(other) => panic!("expected UnknownTopic, got {other:?}"),
        Ok(_) => panic!("expected UnknownTopic, got a delivery"),
    }
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(2_500), "{elapsed:?}");
    // The known topic still works.
    producer.send_and_wait(record("ok")).await.expect("delivered");
    producer.stop().await;
}

/// An address on which nothing listens (a port bound then released).
fn dead_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    addr.to_string()
}

#[actix_rt::test]
async fn start_against_nothing_listening_fails_within_max_block_ms() {
    let config = ProducerConfig {
        max_block_ms: 1_500,
        request_timeout_ms: 3_000,
        retry_backoff_ms: 50,
        reconnect_backoff_ms: 50,
        ..ProducerConfig::new(dead_address())
    };
    let started = Instant::now();
    let result = actix_rt::time::timeout(Duration::from_secs(5), Producer::start(config))
        .await
        .expect("start is bounded");
    let elapsed = started.elapsed();
    match result {
        Err(e @ ProducerError::Connection { .. }) => assert!(e.is_retriable()),
        Err(other) => panic!("expected Connection, got {other:?}"),
        Ok(_) => panic!("started against a dead address"),
    }
    assert!(elapsed < Duration::from_millis(1_500 + 1_000), "{elapsed:?}");
}

#[actix_rt::test]
async fn start_against_a_silent_listener_fails_within_max_block_ms() {
    // Connects succeed (the kernel's backlog accepts them) but ApiVersions is
    // never answered; request_timeout_ms is longer than max_block_ms.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let config = ProducerConfig {
        max_block_ms: 1_500,
        request_timeout_ms: 5_000,
        retry_backoff_ms: 50,
        ..ProducerConfig::new(listener.local_addr().expect("addr").to_string())
    };
    let started = Instant::now();
    let result = actix_rt::time::timeout(Duration::from_secs(5), Producer::start(config))
        .await
        .expect("start is bounded");
    let elapsed = started.elapsed();
    assert!(
        matches!(result, Err(ProducerError::Connection { .. })),
        "{:?}",
        result.err()
    );
    assert!(elapsed >= Duration::from_millis(1_400), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1_500 + 1_000), "{elapsed:?}");
    drop(listener);
}

// 9 -------------------------------------------------------------------------

#[actix_rt::test]
async fn not_enough_replicas_after_append_is_retried_and_duplicated() {
    let cluster = one_broker();
    let fault = Fault::AppendThenError {
        code: codes::NOT_ENOUGH_REPLICAS_AFTER_APPEND,
    };
    cluster.script(0, ApiKey::Produce, Some((TOPIC, 0)), fault, 1);
    let producer = start(config(&cluster, 3_000)).await;

    let metadata = producer.send_and_wait(record("twice")).await.expect("delivered");
    // The first attempt was appended although it was answered with an error;
    // the retry appended it again (the seed's warning).
    assert_eq!(metadata.offset, 1);
    assert_eq!(log_values(&cluster), ["twice", "twice"]);
    assert_eq!(cluster.produce_request_count(0), 2);
    producer.stop().await;
}

#[actix_rt::test]
async fn not_enough_replicas_after_append_to_the_end_reports_appended_to_leader() {
    let cluster = one_broker();
    let fault = Fault::AppendThenError {
        code: codes::NOT_ENOUGH_REPLICAS_AFTER_APPEND,
    };
    cluster.script(0, ApiKey::Produce, Some((TOPIC, 0)), fault, 10_000);
    let producer = start(config(&cluster, 1_000)).await;

    let result = producer.send_and_wait(record("r")).await;
    let error = assert_broker_error(result, ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND);
    assert_eq!(error.outcome(), DataOutcome::AppendedToLeader);
    let attempts = cluster.produce_request_count(0);
    assert!(attempts >= 2);
    assert_eq!(
        log_values(&cluster),
        vec!["r"; attempts],
        "every attempt was appended"
    );
    producer.stop().await;
}

// 10 ------------------------------------------------------------------------

/// Sends 20 records in one batch that the broker refuses `refusals` times
/// with MESSAGE_TOO_LARGE; checks that all are delivered in order and
/// returns the sizes of the batches the broker received.
async fn split_after_message_too_large(refusals: usize) -> (Vec<usize>, usize) {
    let cluster = one_broker();
    let fault = Fault::ProduceError {
        code: ErrorCode::MESSAGE_TOO_LARGE.0,
    };
    cluster.script(0, ApiKey::Produce, Some((TOPIC, 0)), fault, refusals);
    let producer = start(ProducerConfig {
        linger_ms: 50,
        ..config(&cluster, 3_000)
    })
    .await;

    let deliveries = send_all(&producer, (0..20).map(|i| record(format!("m{i}"))).collect()).await;
    assert_eq!(offsets(deliveries).await, (0..20).collect::<Vec<i64>>());
    let expected: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
    assert_eq!(log_values(&cluster), expected);
    producer.stop().await;
    (
        produced_batch_sizes(&cluster, 0),
        cluster.produce_request_count(0),
    )
}

#[actix_rt::test]
async fn message_too_large_splits_the_batch_and_keeps_order() {
    let (sizes, requests) = split_after_message_too_large(1).await;
    // One batch of 20 refused, then its two halves, in order.
    assert_eq!(sizes, [20, 10, 10]);
    assert_eq!(requests, 3);
}

#[actix_rt::test]
async fn message_too_large_twice_splits_again() {
    let (sizes, _) = split_after_message_too_large(2).await;
    assert_eq!(sizes, [20, 10, 5, 5, 10]);
}

#[actix_rt::test]
async fn message_too_large_for_a_single_record_fails_it_and_the_partition_goes_on() {
    let cluster = one_broker();
    let fault = Fault::ProduceError {
        code: ErrorCode::MESSAGE_TOO_LARGE.0,
    };
    cluster.script(0, ApiKey::Produce, Some((TOPIC, 0)), fault, 1);
    let producer = start(config(&cluster, 3_000)).await;

    let result = producer.send_and_wait(record("big")).await;
    let error = assert_broker_error(result, ErrorCode::MESSAGE_TOO_LARGE);
    assert_eq!(error.outcome(), DataOutcome::NotWritten);
    assert_eq!(cluster.produce_request_count(0), 1, "not retried");
    let metadata = producer.send_and_wait(record("next")).await.expect("delivered");
    assert_eq!(metadata.offset, 0);
    assert_eq!(log_values(&cluster), ["next"]);
    producer.stop().await;
}

// 11 ------------------------------------------------------------------------

#[actix_rt::test]
async fn order_under_intermittent_retriable_errors() {
    let cluster = one_broker();
    // A pattern of errors that do not append, separated by successes
    // (`Delay(0)` is a no-op fault that takes one request's turn).
    let ok = Fault::Delay(Duration::ZERO);
    let error = |code| Fault::ProduceError { code };
    let pattern = [
        (error(codes::NOT_ENOUGH_REPLICAS), 1),
        (ok.clone(), 2),
        (error(codes::REQUEST_TIMED_OUT), 2),
        (ok.clone(), 1),
        (error(codes::NOT_LEADER_OR_FOLLOWER), 1),
        (ok.clone(), 3),
        (Fault::Disconnect { append: false }, 1),
        (ok.clone(), 1),
        (error(codes::LEADER_NOT_AVAILABLE), 1),
        (ok.clone(), 2),
        (error(codes::NOT_ENOUGH_REPLICAS), 3),
    ];
    let mut scripted_errors = 0;
    for _ in 0..3 {
        for (fault, times) in &pattern {
            if *fault != ok {
                scripted_errors += times;
            }
            cluster.script(0, ApiKey::Produce, Some((TOPIC, 0)), fault.clone(), *times);
        }
    }
    let producer = start(ProducerConfig {
        linger_ms: 5,
        max_batch_size: 200,
        ..config(&cluster, 5_000)
    })
    .await;

    let n = 1_000;
    let deliveries = send_all(&producer, (0..n).map(|i| record(format!("{i}"))).collect()).await;
    let offsets = actix_rt::time::timeout(Duration::from_secs(10), offsets(deliveries))
        .await
        .expect("delivered in time");
    assert_eq!(offsets, (0..n as i64).collect::<Vec<_>>());
    let expected: Vec<String> = (0..n).map(|i| format!("{i}")).collect();
    assert_eq!(log_values(&cluster), expected, "exactly 0..999, in order");
    assert_eq!(cluster.pending_faults(), 0, "the whole pattern was used");
    let sizes = produced_batch_sizes(&cluster, 0);
    assert!(sizes.len() > scripted_errors + 10, "{} requests", sizes.len());
    // No batch was written twice.
    let written: usize = cluster.batches(TOPIC, 0).iter().map(|b| b.records.len()).sum();
    assert_eq!(written, n);
    producer.stop().await;
}

// Extra: bounds, partitions and metadata -------------------------------------

#[actix_rt::test]
async fn a_batch_queued_behind_stuck_requests_still_ends_by_request_timeout() {
    // Six partitions on one broker that never answers, default
    // max_in_flight_requests_per_connection (5): the sixth partition's batch
    // waits in the connection behind five stuck requests. guarantees.md:
    // "every batch ends by request_timeout_ms after it was created".
    let cluster = FakeCluster::start(FakeConfig::with_brokers(1).topic(TOPIC, 6, 0));
    cluster.script(0, ApiKey::Produce, None, Fault::NoResponse, 10_000);
    let request_timeout = Duration::from_millis(1_000);
    let producer = start(config(&cluster, 1_000)).await;

    let started = Instant::now();
    let mut deliveries = Vec::new();
    for partition in 0..6 {
        let r = ProducerRecord::new(TOPIC, format!("p{partition}")).partition(partition);
        deliveries.push(producer.send(r).await.expect("enqueued"));
        // Separate requests, not one coalesced request.
        actix_rt::time::sleep(Duration::from_millis(5)).await;
    }
    for (partition, delivery) in deliveries.into_iter().enumerate() {
        let result = actix_rt::time::timeout(Duration::from_secs(5), delivery)
            .await
            .expect("bounded");
        let ended = started.elapsed();
        assert!(
            matches!(
                result,
                Err(ProducerError::RequestTimedOut { .. }
                    | ProducerError::Disconnected { .. }
                    | ProducerError::BatchExpired { .. })
            ),
            "partition {partition}: {result:?}"
        );
        assert!(
            ended < request_timeout + Duration::from_millis(500),
            "partition {partition} ended after {ended:?}, request_timeout_ms is {request_timeout:?}"
        );
    }
    producer.stop().await;
}

#[actix_rt::test]
async fn an_error_for_one_partition_of_a_request_retries_only_that_partition() {
    let cluster = FakeCluster::start(FakeConfig::with_brokers(1).topic(TOPIC, 3, 0));
    let fault = Fault::ProduceError {
        code: codes::NOT_ENOUGH_REPLICAS,
    };
    cluster.script(0, ApiKey::Produce, Some((TOPIC, 1)), fault, 2);
    let producer = start(ProducerConfig {
        linger_ms: 20,
        ..config(&cluster, 3_000)
    })
    .await;

    let records = (0..15)
        .map(|i| ProducerRecord::new(TOPIC, format!("p{}-{}", i % 3, i / 3)).partition(i % 3))
        .collect();
    let results = join_all(send_all(&producer, records).await).await;
    for (i, result) in results.into_iter().enumerate() {
        let metadata = result.unwrap_or_else(|e| panic!("record {i}: {e}"));
        assert_eq!(
            (metadata.partition, metadata.offset),
            (i as i32 % 3, i as i64 / 3)
        );
    }
    let mut carried = [0; 3];
    for request in cluster.requests(0).into_iter().filter_map(|r| r.produce) {
        for part in request {
            carried[part.partition as usize] += 1;
        }
    }
    assert_eq!(carried, [1, 3, 1], "requests carrying each partition");
    for partition in 0..3 {
        let values: Vec<String> = cluster
            .log(TOPIC, partition)
            .into_iter()
            .map(|r| String::from_utf8(r.value.expect("value")).expect("utf-8"))
            .collect();
        let expected: Vec<String> = (0..5).map(|i| format!("p{partition}-{i}")).collect();
        assert_eq!(values, expected, "partition {partition}");
    }
    producer.stop().await;
}

#[actix_rt::test]
async fn a_partition_without_leader_expires_its_batch_then_recovers() {
    let cluster = one_broker();
    cluster.set_leader(TOPIC, 0, -1);
    let producer = start(config(&cluster, 1_000)).await;

    let started = Instant::now();
    let result = actix_rt::time::timeout(Duration::from_secs(3), producer.send_and_wait(record("lost")))
        .await
        .expect("bounded");
    let elapsed = started.elapsed();
    match result {
        Err(e @ ProducerError::BatchExpired { waited_ms }) => {
            assert!(waited_ms >= 900, "{waited_ms}");
            assert_eq!(e.outcome(), DataOutcome::NotWritten);
        }
        other => panic!("expected BatchExpired, got {other:?}"),
    }
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(2_500), "{elapsed:?}");
    assert_eq!(cluster.produce_request_count(0), 0, "never sent");

    // The leader comes back while the next record waits for it.
    let delivery = producer.send(record("after")).await.expect("enqueued");
    actix_rt::time::sleep(Duration::from_millis(300)).await;
    cluster.set_leader(TOPIC, 0, 0);
    let metadata = delivery.await.expect("delivered once the leader is back");
    assert_eq!(metadata.offset, 0);
    assert_eq!(log_values(&cluster), ["after"]);
    producer.stop().await;
}

#[actix_rt::test]
async fn failed_metadata_refreshes_during_a_leader_move_are_retried() {
    let cluster = FakeCluster::start(FakeConfig::with_brokers(2).topic(TOPIC, 1, 0));
    let producer = start(config(&cluster, 3_000)).await;
    producer.send_and_wait(record("on-0")).await.expect("delivered");

    // Node 0 now answers NOT_LEADER_OR_FOLLOWER; the refreshes that follow
    // fail on both brokers once each before one succeeds.
    cluster.set_leader(TOPIC, 0, 1);
    for node in [0, 1] {
        let fault = Fault::Disconnect { append: false };
        cluster.script(node, ApiKey::Metadata, None, fault, 1);
    }
    let metadata = producer.send_and_wait(record("on-1")).await.expect("delivered");
    assert_eq!(metadata.offset, 1);
    assert_eq!(log_values(&cluster), ["on-0", "on-1"]);
    assert_eq!(
        produced_batch_sizes(&cluster, 1),
        [1],
        "node 1 wrote the second record"
    );
    assert_eq!(cluster.pending_faults(), 0, "both failed refreshes happened");
    producer.stop().await;
}

#[actix_rt::test]
async fn a_split_batch_keeps_keys_headers_and_timestamps() {
    let cluster = one_broker();
    let fault = Fault::ProduceError {
        code: ErrorCode::MESSAGE_TOO_LARGE.0,
    };
    cluster.script(0, ApiKey::Produce, Some((TOPIC, 0)), fault, 1);
    let producer = start(ProducerConfig {
        linger_ms: 50,
        compression_type: actix_kafka::wire::compression::Compression::Gzip,
        ..config(&cluster, 3_000)
    })
    .await;
    let records = (0..6i64)
        .map(|i| {
            record(format!("v{i}"))
                .key(format!("k{i}"))
                .header("h", format!("x{i}"))
                .timestamp(1_700_000_000_000 + i * 7)
        })
        .collect();
    assert_eq!(
        offsets(send_all(&producer, records).await).await,
        (0..6).collect::<Vec<i64>>()
    );
    assert_eq!(produced_batch_sizes(&cluster, 0), [6, 3, 3]);
    let stored = cluster.log(TOPIC, 0);
    assert_eq!(stored.len(), 6);
    for (i, r) in stored.iter().enumerate() {
        assert_eq!(r.key.as_deref(), Some(format!("k{i}").as_bytes()));
        assert_eq!(r.value.as_deref(), Some(format!("v{i}").as_bytes()));
        assert_eq!(
            r.headers,
            vec![("h".to_string(), Some(format!("x{i}").into_bytes()))]
        );
        assert_eq!(r.timestamp, 1_700_000_000_000 + i as i64 * 7);
    }
    producer.stop().await;
}

#[actix_rt::test]
async fn flush_waits_for_a_batch_in_retry() {
    let cluster = one_broker();
    let fault = Fault::ProduceError {
        code: codes::NOT_ENOUGH_REPLICAS,
    };
    cluster.script(0, ApiKey::Produce, Some((TOPIC, 0)), fault, 5);
    let producer = start(config(&cluster, 3_000)).await;
    let delivery = producer.send(record("r")).await.expect("enqueued");
    actix_rt::time::timeout(Duration::from_secs(3), producer.flush())
        .await
        .expect("flush is bounded");
    assert_eq!(
        log_values(&cluster),
        ["r"],
        "flush returned before the retried batch was written"
    );
    let metadata = actix_rt::time::timeout(Duration::from_millis(500), delivery)
        .await
        .expect("resolved once flush returned")
        .expect("delivered");
    assert_eq!(metadata.offset, 0);
    assert_eq!(cluster.produce_request_count(0), 6);
    producer.stop().await;
}

#[actix_rt::test]
async fn a_connection_closed_by_the_broker_while_idle_is_replaced() {
    let cluster = one_broker();
    let producer = start(config(&cluster, 3_000)).await;
    producer.send_and_wait(record("a")).await.expect("delivered");
    cluster.close_connections(0);
    let metadata = producer.send_and_wait(record("b")).await.expect("delivered");
    assert_eq!(metadata.offset, 1);
    assert_eq!(log_values(&cluster), ["a", "b"]);
    assert!(cluster.connection_count(0) >= 2);
    producer.stop().await;
}

#[actix_rt::test]
async fn acks_zero_cannot_see_a_lost_request() {
    // With acks=0 the delivery resolves once the request is written; a
    // request the broker drops is reported as written (offset -1) and lost.
    let cluster = one_broker();
    cluster.script(0, ApiKey::Produce, None, Fault::Disconnect { append: false }, 1);
    let producer = start(ProducerConfig {
        acks: Some(Acks::None),
        ..config(&cluster, 2_000)
    })
    .await;
    let metadata = producer.send_and_wait(record("gone")).await.expect("written");
    assert_eq!(metadata.offset, -1);
    // Give the producer time to see the closed connection, then the next
    // record goes over a new one.
    actix_rt::time::sleep(Duration::from_millis(300)).await;
    let metadata = producer.send_and_wait(record("kept")).await.expect("written");
    assert_eq!(metadata.offset, -1);
    let waited = Instant::now();
    while cluster.log(TOPIC, 0).is_empty() {
        assert!(
            waited.elapsed() < Duration::from_secs(2),
            "nothing reached the log"
        );
        actix_rt::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(log_values(&cluster), ["kept"]);
    assert!(cluster.connection_count(0) >= 2, "a new connection was made");
    producer.stop().await;
}

#[actix_rt::test]
async fn acks_zero_to_a_broker_that_stops_reading_ends_at_the_request_timeout() {
    // The broker takes the first produce in and then reads nothing: the
    // socket buffers fill and the producer's writes block. Without a write
    // deadline the acks=0 deliveries (which end when written), flush and stop
    // would wait for the idle timeout (9 minutes).
    let cluster = one_broker();
    cluster.script(0, ApiKey::Produce, None, Fault::StopReading, 1);
    let producer = start(ProducerConfig {
        acks: Some(Acks::None),
        max_batch_size: 1 << 20,
        max_request_size: 1 << 20,
        ..config(&cluster, 1_000)
    })
    .await;
    let value = "v".repeat(64 * 1024);
    let started = Instant::now();
    // 64 MiB: far more than loopback socket buffers hold.
    let records = (0..1024).map(|_| record(value.clone())).collect();
    let deliveries: Vec<DeliveryFuture> = producer
        .send_all(records)
        .await
        .into_iter()
        .map(|d| d.expect("enqueued"))
        .collect();
    let results = join_all(deliveries).await;
    let took = started.elapsed();
    let failed = results.iter().filter(|r| r.is_err()).count();
    assert!(failed > 0, "some writes could not complete");
    for error in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(
                error,
                ProducerError::Disconnected { .. } | ProducerError::BatchExpired { .. }
            ),
            "{error:?}"
        );
    }
    // One request timeout for the stuck write, then the rest fail or go over
    // a new connection (which stops reading too: it is the same broker).
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let stopped = Instant::now();
    producer.stop().await;
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "stop took {:?}",
        stopped.elapsed()
    );
}

#[actix_rt::test]
async fn a_broker_that_comes_back_at_a_new_address_is_followed() {
    let cluster = one_broker();
    let producer = start(ProducerConfig {
        metadata_max_age_ms: 200,
        ..config(&cluster, 2_000)
    })
    .await;
    producer.send_and_wait(record("before")).await.expect("written");
    // Node 0 is now reached at another port (a proxy to it); the metadata says so.
    let proxy = CountingProxy::start(&cluster.addr(0));
    let port = proxy
        .addr()
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .expect("a port");
    cluster.advertise_port(0, port);
    // A refresh (metadata_max_age_ms) sees the move and drops the old connection.
    actix_rt::time::sleep(Duration::from_millis(800)).await;
    producer.send_and_wait(record("after")).await.expect("written");
    assert!(proxy.connections() >= 1, "the new address was used");
    assert_eq!(log_values(&cluster), ["before", "after"]);
    producer.stop().await;
}

#[actix_rt::test]
async fn when_every_known_broker_fails_the_bootstrap_list_is_asked_again() {
    let cluster = one_broker();
    let producer = start(ProducerConfig {
        metadata_max_age_ms: 200,
        ..config(&cluster, 2_000)
    })
    .await;
    producer.send_and_wait(record("before")).await.expect("written");
    // The metadata moves node 0 to a port where nothing listens: the only
    // known broker becomes unreachable.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    cluster.advertise_port(0, dead);
    actix_rt::time::sleep(Duration::from_millis(800)).await;
    // The cluster is back at its real address, which only the bootstrap
    // list still names.
    let real = cluster.socket_addr(0).port();
    cluster.advertise_port(0, real);
    let sent = Instant::now();
    let ack = tokio::time::timeout(Duration::from_secs(10), producer.send_and_wait(record("after")))
        .await
        .expect("bounded")
        .expect("written after rebootstrapping");
    assert_eq!(ack.offset, 1);
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "took {:?}",
        sent.elapsed()
    );
    assert_eq!(log_values(&cluster), ["before", "after"]);
    producer.stop().await;
}
