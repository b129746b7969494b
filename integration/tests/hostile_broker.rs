//! Hostile broker answers (issue 11, section 4), against the in-process fake
//! cluster: broken frames, Produce and Metadata answers that lie, version
//! ranges that make no sense, and brokers that stall or trickle.
//!
//! Every case checks the same four things: the caller gets a typed
//! [`ProducerError`] (which variant is asserted), nothing panics, the call
//! ends within a bound (`request_timeout_ms` / `max_block_ms`, asserted on
//! the elapsed time), and no acknowledgement lands on the wrong record (a
//! delivered record's offset is where the fake's log holds it). Most end
//! with [`Producer::stop_within`], which must return in time too.
//!
//! Raw answers are encoded with `kafka-protocol` (the fake's own, independent
//! codec). To keep them simple the fake is pinned to non-flexible versions of
//! Produce (v8) and Metadata (v8), so a body needs no tagged fields.
//!
//! Cases that show a producer bug not fixed yet are in the last section,
//! `#[ignore]`d with what they observed (an idempotent batch that can never
//! be sent is retried without end until delivery.timeout.ms exists); run
//! them with `--ignored`.

use std::future::Future;
use std::time::{Duration, Instant};

use actix_kafka::config::Acks;
use actix_kafka::error::{DataOutcome, Disconnect, Misuse, ProtocolViolation};
use actix_kafka::wire::ErrorCode;
use actix_kafka::{
    DeliveryFuture, Producer, ProducerConfig, ProducerError, ProducerRecord, RecordMetadata, TimestampType,
};
use actix_kafka_integration::fake_broker::{FakeCluster, FakeConfig, Fault};
use bytes::BytesMut;
use futures_util::future::join_all;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{BrokerId, MetadataResponse, ProduceResponse, TopicName};
use kafka_protocol::protocol::{Encodable, StrBytes};
use kafka_wire::api::ApiKey;

const TOPIC: &str = "t";
/// The Produce and Metadata version the fake serves (non-flexible).
const PINNED_VERSION: i16 = 8;
const REQUEST_TIMEOUT: Duration = Duration::from_millis(1_000);
const MAX_BLOCK: Duration = Duration::from_millis(2_000);
/// Slack on top of a deadline for scheduling on a busy 2-core machine.
const SLACK: Duration = Duration::from_millis(1_500);

// ---- helpers ----------------------------------------------------------------

fn fake_config(brokers: usize, partitions: i32) -> FakeConfig {
    FakeConfig::with_brokers(brokers)
        .topic(TOPIC, partitions, 0)
        .api_range(ApiKey::Produce, 3, PINNED_VERSION)
        .api_range(ApiKey::Metadata, 4, PINNED_VERSION)
}

fn fake(partitions: i32) -> FakeCluster {
    FakeCluster::start(fake_config(1, partitions))
}

/// acks=1, not idempotent, small timeouts.
fn config(cluster: &FakeCluster) -> ProducerConfig {
    ProducerConfig {
        acks: Some(Acks::Leader),
        request_timeout_ms: REQUEST_TIMEOUT.as_millis() as u64,
        max_block_ms: MAX_BLOCK.as_millis() as u64,
        retry_backoff_ms: 50,
        reconnect_backoff_ms: 50,
        ..ProducerConfig::new(cluster.bootstrap())
    }
}

async fn start(config: ProducerConfig) -> Producer {
    bounded(MAX_BLOCK + SLACK, Producer::start(config))
        .await
        .expect("producer starts")
}

/// Awaits `f`, failing the test if it takes longer than `limit`.
async fn bounded<F: Future>(limit: Duration, f: F) -> F::Output {
    actix_rt::time::timeout(limit, f)
        .await
        .unwrap_or_else(|_| panic!("not done within {limit:?}"))
}

/// Awaits `f` within `limit`, returning its output and how long it took.
async fn timed<F: Future>(limit: Duration, f: F) -> (F::Output, Duration) {
    let started = Instant::now();
    let output = bounded(limit, f).await;
    (output, started.elapsed())
}

fn record(partition: i32, value: &str) -> ProducerRecord {
    ProducerRecord::new(TOPIC, value.to_string()).partition(partition)
}

/// `stop_within` a short timeout returns in time (whether or not everything
/// was flushed).
async fn stop_in_time(producer: &Producer) {
    let (_, took) = timed(
        Duration::from_secs(5),
        producer.stop_within(Duration::from_millis(500)),
    )
    .await;
    assert!(
        took < Duration::from_millis(500) + SLACK,
        "stop_within took {took:?}"
    );
}

/// Every delivered record is in the fake's log at the offset it was acked
/// with (an offset of -1 means "unknown" and is not checked here).
fn assert_acks_match_log(cluster: &FakeCluster, delivered: &[(String, RecordMetadata)]) {
    for (value, metadata) in delivered {
        if metadata.offset < 0 {
            continue;
        }
        let log = cluster.log(&metadata.topic, metadata.partition);
        let stored = log
            .iter()
            .find(|r| r.offset == metadata.offset)
            .unwrap_or_else(|| {
                panic!(
                    "{value:?} acked at offset {} which the log lacks",
                    metadata.offset
                )
            });
        assert_eq!(
            stored.value.as_deref(),
            Some(value.as_bytes()),
            "{value:?} acked at offset {} which holds another record",
            metadata.offset
        );
    }
}

async fn send_values(producer: &Producer, records: &[(i32, &str)]) -> Vec<DeliveryFuture> {
    let batch = records.iter().map(|(p, v)| record(*p, v)).collect();
    producer
        .send_all(batch)
        .await
        .into_iter()
        .map(|r| r.expect("enqueued"))
        .collect()
}

fn values(cluster: &FakeCluster, partition: i32) -> Vec<String> {
    cluster
        .log(TOPIC, partition)
        .into_iter()
        .map(|r| String::from_utf8(r.value.unwrap_or_default()).expect("utf-8"))
        .collect()
}

fn encode<M: Encodable>(message: &M, version: i16) -> Vec<u8> {
    let mut buf = BytesMut::new();
    message.encode(&mut buf, version).expect("encodable test answer");
    buf.to_vec()
}

/// One partition's result in a raw Produce answer.
#[derive(Clone, Copy)]
struct PartitionResult {
    partition: i32,
    error: i16,
    base_offset: i64,
    log_append_time: i64,
}

fn ok_at(partition: i32, base_offset: i64) -> PartitionResult {
    PartitionResult {
        partition,
        error: 0,
        base_offset,
        log_append_time: -1,
    }
}

/// A Produce v8 response body for topic `t`.
fn produce_body(results: &[PartitionResult], throttle_time_ms: i32) -> Vec<u8> {
    let partitions = results
        .iter()
        .map(|r| {
            PartitionProduceResponse::default()
                .with_index(r.partition)
                .with_error_code(r.error)
                .with_base_offset(r.base_offset)
                .with_log_append_time_ms(r.log_append_time)
                .with_log_start_offset(0)
        })
        .collect();
    let topic = TopicProduceResponse::default()
        .with_name(TopicName(StrBytes::from_static_str(TOPIC)))
        .with_partition_responses(partitions);
    let body = ProduceResponse::default()
        .with_responses(vec![topic])
        .with_throttle_time_ms(throttle_time_ms);
    encode(&body, PINNED_VERSION)
}

fn broker(id: i32, host: &str, port: i32) -> MetadataResponseBroker {
    MetadataResponseBroker::default()
        .with_node_id(BrokerId(id))
        .with_host(StrBytes::from_string(host.to_string()))
        .with_port(port)
}

fn topic(name: &str, leaders: &[i32]) -> MetadataResponseTopic {
    let partitions = leaders
        .iter()
        .enumerate()
        .map(|(index, leader)| {
            MetadataResponsePartition::default()
                .with_partition_index(index as i32)
                .with_leader_id(BrokerId(*leader))
                .with_replica_nodes(vec![BrokerId(*leader)])
                .with_isr_nodes(vec![BrokerId(*leader)])
        })
        .collect();
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(StrBytes::from_string(name.to_string()))))
        .with_partitions(partitions)
}

/// A Metadata v8 response body.
fn metadata_body(brokers: Vec<MetadataResponseBroker>, topics: Vec<MetadataResponseTopic>) -> Vec<u8> {
    let controller = brokers.first().map_or(BrokerId(-1), |b| b.node_id);
    let body = MetadataResponse::default()
        .with_brokers(brokers)
        .with_controller_id(controller)
        .with_topics(topics);
    encode(&body, PINNED_VERSION)
}

fn protocol_cause(result: &Result<RecordMetadata, ProducerError>) -> Option<&ProtocolViolation> {
    match result {
        Err(ProducerError::Protocol { cause, .. }) => Some(cause),
        _ => None,
    }
}

/// Scripts `fault` for the next `times` produces, sends one record to t-0,
/// and returns its result and how long it took. Once: a retry (over a fresh
/// connection) is answered normally. Many: every retry gets the fault until
/// request_timeout_ms ends them with the last error.
async fn bad_produce_answers(
    cluster: &FakeCluster,
    producer: &Producer,
    fault: Fault,
    times: usize,
) -> (Result<RecordMetadata, ProducerError>, Duration) {
    cluster.script(0, ApiKey::Produce, None, fault, times);
    timed(
        REQUEST_TIMEOUT * 3 + SLACK,
        producer.send_and_wait(record(0, "x")),
    )
    .await
}

// ---- frames -----------------------------------------------------------------

/// A broken frame on a produce answer: the connection is closed at once (no
/// waiting for request_timeout_ms) and the record is retried over a fresh
/// connection, where it is acked with the offset of the copy that was
/// written last. The broken answer's request was appended too, so the log
/// holds the record twice (acks=1 without idempotence: at least once).
async fn broken_frame_is_retried_on_a_new_connection(frame: Vec<u8>) {
    let cluster = fake(1);
    let producer = start(config(&cluster)).await;
    let (result, took) = bad_produce_answers(&cluster, &producer, Fault::RawFrame(frame), 1).await;
    let metadata = result.expect("the retry is delivered");
    assert!(
        took < REQUEST_TIMEOUT,
        "the broken frame was noticed at once, took {took:?}"
    );
    assert_eq!(values(&cluster, 0), ["x", "x"]);
    assert_eq!(metadata.offset, 1, "the ack is the retry's");
    assert!(
        cluster.connection_count(0) >= 2,
        "the broken connection was replaced"
    );
    stop_in_time(&producer).await;
}

#[actix_rt::test]
async fn frame_length_zero() {
    broken_frame_is_retried_on_a_new_connection(vec![0, 0, 0, 0]).await;
}

#[actix_rt::test]
async fn frame_length_negative() {
    broken_frame_is_retried_on_a_new_connection(vec![0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1]).await;
}

#[actix_rt::test]
async fn frame_length_i32_max_is_refused_without_allocating_it() {
    // Followed by a few bytes only: a reader that allocated 2 GiB and waited
    // for them would hit request_timeout_ms instead of failing at once.
    broken_frame_is_retried_on_a_new_connection(vec![0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0]).await;
}

#[actix_rt::test]
async fn correlation_id_never_sent_is_a_protocol_error() {
    let cluster = fake(1);
    let producer = start(config(&cluster)).await;
    // A well-formed frame for correlation id 0x7f000001.
    let frame = vec![0, 0, 0, 4, 0x7f, 0, 0, 1];
    let (result, took) = bad_produce_answers(&cluster, &producer, Fault::RawFrame(frame), 10_000).await;
    assert!(
        matches!(
            protocol_cause(&result),
            Some(
                ProtocolViolation::OutOfOrder { got: 0x7f00_0001, .. }
                    | ProtocolViolation::UnknownCorrelationId(0x7f00_0001)
            )
        ),
        "{result:?}"
    );
    assert!(took < REQUEST_TIMEOUT + SLACK, "took {took:?}");
    let error = result.unwrap_err();
    assert_eq!(error.outcome(), DataOutcome::Unknown);
    assert!(
        cluster.connection_count(0) >= 2,
        "each bad answer closed its connection"
    );
    // The next record goes over a clean connection.
    cluster.clear_script();
    let next = bounded(REQUEST_TIMEOUT * 2, producer.send_and_wait(record(0, "y"))).await;
    assert_acks_match_log(&cluster, &[("y".into(), next.expect("delivered"))]);
    stop_in_time(&producer).await;
}

#[actix_rt::test]
async fn frame_cut_short_then_closed_is_a_disconnect_not_a_timeout() {
    let cluster = fake(1);
    let producer = start(config(&cluster)).await;
    // Says 100 bytes, sends two, closes.
    let fault = Fault::RawFrameThenClose(vec![0, 0, 0, 100, 0, 0]);
    let (result, took) = bad_produce_answers(&cluster, &producer, fault, 10_000).await;
    assert!(
        matches!(
            result,
            Err(ProducerError::Disconnected {
                cause: Disconnect::ClosedByBroker | Disconnect::Read(_),
                ..
            })
        ),
        "{result:?}"
    );
    assert!(took < REQUEST_TIMEOUT + SLACK, "took {took:?}");
    assert_eq!(result.unwrap_err().outcome(), DataOutcome::Unknown);
    let attempts = cluster.produce_request_count(0);
    assert!(
        attempts >= 2,
        "each close was noticed at once and retried ({attempts} attempts)"
    );
    stop_in_time(&producer).await;
}

#[actix_rt::test]
async fn second_answer_with_the_same_correlation_id_acks_nothing_else() {
    let cluster = fake(2);
    let producer = start(config(&cluster)).await;
    // The first produce is answered twice. The duplicate arrives when
    // another request (or none) is due: the connection is closed, and
    // whatever was in flight on it is retried, never acked by the duplicate.
    cluster.script(0, ApiKey::Produce, None, Fault::AnswerTwice, 1);
    let first = bounded(REQUEST_TIMEOUT * 2, producer.send_and_wait(record(0, "a"))).await;
    let mut delivered = vec![("a".to_string(), first.expect("a delivered"))];
    let names: Vec<String> = (0..20).map(|i| format!("r{i}")).collect();
    let sends: Vec<(i32, &str)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| ((i % 2) as i32, n.as_str()))
        .collect();
    let deliveries = send_values(&producer, &sends).await;
    let results = bounded(REQUEST_TIMEOUT * 4, join_all(deliveries)).await;
    for ((_, value), result) in sends.iter().zip(results) {
        delivered.push((
            value.to_string(),
            result.unwrap_or_else(|e| panic!("{value}: {e:?}")),
        ));
    }
    assert_acks_match_log(&cluster, &delivered);
    assert_eq!(values(&cluster, 0).first().map(String::as_str), Some("a"));
    stop_in_time(&producer).await;
}

// ---- Produce answers ----------------------------------------------------------

#[actix_rt::test]
async fn produce_answer_for_another_partition_is_missing_partition() {
    let cluster = fake(2);
    let producer = start(config(&cluster)).await;
    // t-0 was sent; the answer is about t-1 only.
    let fault = Fault::RawResponse(produce_body(&[ok_at(1, 40)], 0));
    let (result, took) = bad_produce_answers(&cluster, &producer, fault, 10_000).await;
    assert!(
        matches!(
            protocol_cause(&result),
            Some(ProtocolViolation::MissingPartition { partition: 0, .. })
        ),
        "{result:?}"
    );
    assert!(took < REQUEST_TIMEOUT + SLACK, "took {took:?}");
    cluster.clear_script();
    // Nothing on t-1 was acked by it: its next record gets its real offset.
    let next = bounded(REQUEST_TIMEOUT * 2, producer.send_and_wait(record(1, "p1"))).await;
    let next = next.expect("t-1 delivered");
    assert_eq!(next.offset, 0);
    assert_acks_match_log(&cluster, &[("p1".into(), next)]);
    stop_in_time(&producer).await;
}

#[actix_rt::test]
async fn produce_answer_missing_one_of_two_partitions_fails_only_that_one() {
    // The case needs t-0 and t-1 in one request. They are coalesced when both
    // batches reach the connection together (leaders known, same linger);
    // on a loaded machine they may still go apart, so the scenario is tried
    // again, at most three times, until they share a request.
    for attempt in 1..=3 {
        let cluster = fake(2);
        let producer = start(ProducerConfig {
            linger_ms: 300,
            ..config(&cluster)
        })
        .await;
        // Leaders known first, so that both batches start lingering together.
        let warm = send_values(&producer, &[(0, "w0"), (1, "w1")]).await;
        for result in bounded(REQUEST_TIMEOUT * 2 + SLACK, join_all(warm)).await {
            result.expect("warm-up delivered");
        }
        let before = cluster.requests(0).len();
        // The answer has t-0 only.
        cluster.script(
            0,
            ApiKey::Produce,
            None,
            Fault::RawResponse(produce_body(&[ok_at(0, 1)], 0)),
            10_000,
        );
        let deliveries = send_values(&producer, &[(0, "p0"), (1, "p1")]).await;
        let results = bounded(REQUEST_TIMEOUT * 2 + SLACK, join_all(deliveries)).await;
        let first = cluster.requests(0)[before..]
            .iter()
            .find_map(|r| r.produce.clone())
            .expect("a produce");
        if first.len() != 2 {
            assert!(attempt < 3, "t-0 and t-1 never shared a request in 3 attempts");
            stop_in_time(&producer).await;
            continue;
        }
        let p0 = results[0].clone().expect("t-0 is answered");
        assert_eq!(p0.offset, 1);
        assert!(
            matches!(
                protocol_cause(&results[1]),
                Some(ProtocolViolation::MissingPartition { partition: 1, .. })
            ),
            "{:?}",
            results[1]
        );
        assert_acks_match_log(&cluster, &[("p0".into(), p0)]);
        stop_in_time(&producer).await;
        return;
    }
}

#[actix_rt::test]
async fn produce_answer_naming_the_partition_twice_acks_once() {
    let cluster = fake(1);
    let producer = start(config(&cluster)).await;
    // The fake appended at offset 0; the answer says 0, then 77.
    let fault = Fault::RawResponse(produce_body(&[ok_at(0, 0), ok_at(0, 77)], 0));
    let (result, _) = bad_produce_answers(&cluster, &producer, fault, 1).await;
    eprintln!("observed: {result:?}");
    match &result {
        // The answer is refused (two results for one partition); the retry
        // of this non-idempotent record is acked where it really is.
        Ok(metadata) => assert_acks_match_log(&cluster, &[("x".into(), metadata.clone())]),
        Err(ProducerError::Protocol { .. }) => {}
        other => panic!("{other:?}"),
    }
    let next = bounded(REQUEST_TIMEOUT * 2, producer.send_and_wait(record(0, "y"))).await;
    let next = next.expect("delivered");
    assert_acks_match_log(&cluster, &[("y".into(), next)]);
    stop_in_time(&producer).await;
}

#[actix_rt::test]
async fn base_offset_minus_one_on_success_gives_unknown_offsets() {
    let cluster = fake(1);
    let producer = start(ProducerConfig {
        linger_ms: 100,
        ..config(&cluster)
    })
    .await;
    cluster.script(
        0,
        ApiKey::Produce,
        None,
        Fault::RawResponse(produce_body(&[ok_at(0, -1)], 0)),
        1,
    );
    let deliveries = send_values(&producer, &[(0, "a"), (0, "b"), (0, "c")]).await;
    let results = bounded(REQUEST_TIMEOUT * 2, join_all(deliveries)).await;
    let offsets: Vec<i64> = results
        .into_iter()
        .map(|r| r.expect("acked with an unknown offset").offset)
        .collect();
    // Not -1, 0, 1: an unknown base offset makes every offset unknown.
    assert_eq!(offsets, [-1, -1, -1]);
    assert_eq!(values(&cluster, 0), ["a", "b", "c"]);
    stop_in_time(&producer).await;
}

#[actix_rt::test]
async fn log_append_time_i64_min_is_ignored_without_panicking() {
    let cluster = fake(1);
    let producer = start(config(&cluster)).await;
    let answer = PartitionResult {
        log_append_time: i64::MIN,
        ..ok_at(0, 0)
    };
    let fault = Fault::RawResponse(produce_body(&[answer], 0));
    let (result, _) = bad_produce_answers(&cluster, &producer, fault, 1).await;
    let metadata = result.expect("delivered");
    assert_eq!(metadata.offset, 0);
    // A negative log-append time is "none" (Kafka's -1 means CreateTime): the
    // record keeps its own timestamp rather than i64::MIN.
    assert_eq!(metadata.timestamp_type, TimestampType::CreateTime);
    assert!(metadata.timestamp > 0, "{metadata:?}");
    stop_in_time(&producer).await;
}

#[actix_rt::test]
async fn throttle_time_i32_max_does_not_stall_for_24_days() {
    let cluster = fake(1);
    let producer = start(config(&cluster)).await;
    let fault = Fault::RawResponse(produce_body(&[ok_at(0, 0)], i32::MAX));
    let (result, _) = bad_produce_answers(&cluster, &producer, fault, 1).await;
    assert_eq!(result.expect("delivered").offset, 0);
    // The throttle is honoured but bounded: the next record still ends
    // (delivered, or at worst expired) within a few request timeouts.
    let (next, took) = timed(
        REQUEST_TIMEOUT * 4 + SLACK,
        producer.send_and_wait(record(0, "after")),
    )
    .await;
    match next {
        Ok(metadata) => assert_acks_match_log(&cluster, &[("after".into(), metadata)]),
        Err(e) => assert!(
            matches!(
                e,
                ProducerError::BatchExpired { .. } | ProducerError::RequestTimedOut { .. }
            ),
            "{e:?}"
        ),
    }
    assert!(took < REQUEST_TIMEOUT * 4 + SLACK, "took {took:?}");
    stop_in_time(&producer).await;
}

// ---- Metadata answers -----------------------------------------------------------

/// Sends to `partition` and expects a typed error within max_block_ms /
/// request_timeout_ms (no hang, no Internal).
async fn fails_in_bounded_time(producer: &Producer, partition: i32) -> ProducerError {
    let limit = MAX_BLOCK + REQUEST_TIMEOUT + SLACK;
    let (result, took) = timed(limit, producer.send_and_wait(record(partition, "doomed"))).await;
    assert!(took < limit, "took {took:?}");
    let error = result.expect_err("cannot be delivered");
    eprintln!("observed after {took:?}: {error:?}");
    assert!(!matches!(error, ProducerError::Internal { .. }), "{error:?}");
    error
}

/// acks=all, idempotent (a producer id, sequences; batches are retried
/// until delivery_timeout_ms rather than request_timeout_ms).
fn idempotent(cluster: &FakeCluster) -> ProducerConfig {
    ProducerConfig {
        enable_idempotence: true,
        acks: Some(Acks::All),
        ..config(cluster)
    }
}

/// t-0 is led by `leader`, which no Metadata broker list names (7) or which
/// is -1: its record expires in bounded time; t-1 (node 0) is unaffected.
async fn unreachable_leader(config: ProducerConfig, cluster: &FakeCluster) {
    let producer = start(config).await;
    let error = fails_in_bounded_time(&producer, 0).await;
    assert!(matches!(error, ProducerError::BatchExpired { .. }), "{error:?}");
    let other = bounded(REQUEST_TIMEOUT * 2, producer.send_and_wait(record(1, "ok"))).await;
    assert_acks_match_log(cluster, &[("ok".into(), other.expect("t-1 unaffected"))]);
    assert!(values(cluster, 0).is_empty());
    stop_in_time(&producer).await;
}

#[actix_rt::test]
async fn leader_not_in_the_broker_list_fails_in_bounded_time_and_spares_other_partitions() {
    let cluster = fake(2);
    cluster.set_leader(TOPIC, 0, 7);
    unreachable_leader(config(&cluster), &cluster).await;
}

#[actix_rt::test]
async fn idempotent_batch_with_no_leader_still_stops_within_its_timeout() {
    // The batch itself is retried without end (see the known bugs below), but
    // stop_within must still end it: cancelled, never sent.
    let cluster = fake(2);
    cluster.set_leader(TOPIC, 0, -1);
    let producer = start(idempotent(&cluster)).await;
    let pending = producer.send(record(0, "stuck")).await.expect("enqueued");
    let (flushed, took) = timed(
        Duration::from_secs(5),
        producer.stop_within(Duration::from_millis(500)),
    )
    .await;
    assert!(!flushed, "the record cannot have been flushed");
    assert!(
        took < Duration::from_millis(500) + SLACK,
        "stop_within took {took:?}"
    );
    let pending = bounded(SLACK, pending).await;
    assert_eq!(pending, Err(ProducerError::Cancelled));
    assert!(values(&cluster, 0).is_empty());
}

#[actix_rt::test]
async fn leader_minus_one_fails_in_bounded_time_and_spares_other_partitions() {
    let cluster = fake(2);
    cluster.set_leader(TOPIC, 0, -1);
    unreachable_leader(config(&cluster), &cluster).await;
}

/// t-2 exists, then the topic shrinks to one partition: the next record for
/// t-2 ends in bounded time (the leader refuses it with
/// UNKNOWN_TOPIC_OR_PARTITION until the deadline); t-0 still works.
async fn partition_count_shrinks(config: fn(&FakeCluster) -> ProducerConfig) {
    let cluster = fake(3);
    let producer = start(config(&cluster)).await;
    let first = bounded(REQUEST_TIMEOUT * 2, producer.send_and_wait(record(2, "before"))).await;
    assert_eq!(first.expect("delivered").offset, 0);
    cluster.create_topic(TOPIC, 1, 0);
    let error = fails_in_bounded_time(&producer, 2).await;
    assert!(
        matches!(
            error,
            ProducerError::PartitionOutOfRange {
                partition: 2,
                partitions: 1,
                ..
            } | ProducerError::Broker {
                code: ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                ..
            } | ProducerError::BatchExpired { .. }
        ),
        "{error:?}"
    );
    let kept = bounded(REQUEST_TIMEOUT * 2, producer.send_and_wait(record(0, "kept"))).await;
    assert_acks_match_log(&cluster, &[("kept".into(), kept.expect("t-0 still there"))]);
    stop_in_time(&producer).await;
}

#[actix_rt::test]
async fn partition_count_that_shrinks_ends_with_a_typed_error() {
    partition_count_shrinks(config).await;
}

/// `t` is deleted after a first delivery: the next record for it ends in
/// bounded time; another topic is unaffected.
async fn topic_vanishes(config: fn(&FakeCluster) -> ProducerConfig) {
    let cluster = FakeCluster::start(fake_config(1, 1).topic("other", 1, 0));
    let producer = start(config(&cluster)).await;
    let first = bounded(REQUEST_TIMEOUT * 2, producer.send_and_wait(record(0, "before"))).await;
    assert_eq!(first.expect("delivered").offset, 0);
    cluster.delete_topic(TOPIC);
    let error = fails_in_bounded_time(&producer, 0).await;
    assert!(
        matches!(
            error,
            ProducerError::UnknownTopic { .. }
                | ProducerError::Broker {
                    code: ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                    ..
                }
                | ProducerError::BatchExpired { .. }
        ),
        "{error:?}"
    );
    let other = ProducerRecord::new("other", "fine".to_string()).partition(0);
    let other = bounded(REQUEST_TIMEOUT * 2, producer.send_and_wait(other)).await;
    assert_eq!(other.expect("the other topic is unaffected").offset, 0);
    stop_in_time(&producer).await;
}

#[actix_rt::test]
async fn topic_that_vanishes_ends_with_a_typed_error() {
    topic_vanishes(config).await;
}

/// Two brokers; the Metadata answers advertise node 1 at `host:port`, and
/// t-1 is led by node 1. t-0 (node 0) must be unaffected; t-1 fails typed,
/// without a connection attempt to the bad address.
async fn broker_with_bad_endpoint(host: &str, port: i32) {
    let cluster = FakeCluster::start(fake_config(2, 2));
    cluster.set_leader(TOPIC, 1, 1);
    let node0 = cluster.socket_addr(0);
    let body = metadata_body(
        vec![
            broker(0, "127.0.0.1", i32::from(node0.port())),
            broker(1, host, port),
        ],
        vec![topic(TOPIC, &[0, 1])],
    );
    cluster.script(0, ApiKey::Metadata, None, Fault::RawResponse(body), 10_000);
    let producer = start(config(&cluster)).await;
    let good = bounded(REQUEST_TIMEOUT * 2, producer.send_and_wait(record(0, "good"))).await;
    assert_acks_match_log(&cluster, &[("good".into(), good.expect("t-0 unaffected"))]);
    let error = fails_in_bounded_time(&producer, 1).await;
    // The unusable endpoint is dropped from the metadata, so t-1 has no
    // reachable leader: its batch expires, never sent, and nothing tries to
    // connect to the bad address.
    assert!(matches!(error, ProducerError::BatchExpired { .. }), "{error:?}");
    assert_eq!(cluster.connection_count(1), 0, "node 1 is never reached");
    stop_in_time(&producer).await;
}

#[actix_rt::test]
async fn broker_with_an_empty_host() {
    broker_with_bad_endpoint("", 9092).await;
}

#[actix_rt::test]
async fn broker_with_port_zero() {
    broker_with_bad_endpoint("127.0.0.1", 0).await;
}

#[actix_rt::test]
async fn broker_with_port_70000() {
    broker_with_bad_endpoint("127.0.0.1", 70_000).await;
}

/// Resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[actix_rt::test]
async fn metadata_with_100_000_topics_is_handled_in_bounded_time_and_memory() {
    let cluster = fake(1);
    let node0 = cluster.socket_addr(0);
    let mut topics: Vec<_> = (0..100_000).map(|i| topic(&format!("spam-{i}"), &[0])).collect();
    topics.push(topic(TOPIC, &[0]));
    let body = metadata_body(vec![broker(0, "127.0.0.1", i32::from(node0.port()))], topics);
    let answer_bytes = body.len();
    cluster.script(0, ApiKey::Metadata, None, Fault::RawResponse(body), 3);
    let before = rss_kib();
    let (producer, took) = timed(MAX_BLOCK + SLACK, Producer::start(config(&cluster))).await;
    let producer = producer.expect("starts");
    let sent = bounded(Duration::from_secs(10), producer.send_and_wait(record(0, "x"))).await;
    assert_acks_match_log(&cluster, &[("x".into(), sent.expect("delivered"))]);
    let grown_kib = rss_kib().saturating_sub(before);
    // Other tests run in this process too: the bound is loose, but far below
    // what a per-topic blow-up (actors, connections) would take.
    assert!(
        grown_kib < 512 * 1024,
        "RSS grew by {grown_kib} KiB for a {answer_bytes}-byte answer"
    );
    assert!(took < MAX_BLOCK + SLACK, "start took {took:?}");
    stop_in_time(&producer).await;
}

// ---- ApiVersions --------------------------------------------------------------

/// A producer over a fake whose ApiVersions answer is `config`'s: start or
/// the first send fails with a typed error in bounded time.
async fn unusable_produce_versions(fake_config: FakeConfig) {
    let cluster = FakeCluster::start(fake_config);
    let limit = MAX_BLOCK + REQUEST_TIMEOUT + SLACK;
    let started = Instant::now();
    match bounded(limit, Producer::start(config(&cluster))).await {
        Err(error) => {
            eprintln!("observed at start: {error:?}");
            assert!(!matches!(error, ProducerError::Internal { .. }), "{error:?}");
        }
        Ok(producer) => {
            let result = bounded(limit, producer.send_and_wait(record(0, "x"))).await;
            assert!(
                matches!(
                    protocol_cause(&result),
                    Some(ProtocolViolation::NoCommonVersion { api: ApiKey::Produce })
                ),
                "{result:?}"
            );
            stop_in_time(&producer).await;
        }
    }
    assert!(started.elapsed() < limit, "took {:?}", started.elapsed());
    assert_eq!(
        cluster.produce_request_count(0),
        0,
        "no Produce at an unsupported version"
    );
}

#[actix_rt::test]
async fn api_versions_with_produce_min_above_max() {
    unusable_produce_versions(FakeConfig::with_brokers(1).topic(TOPIC, 1, 0).api_range(
        ApiKey::Produce,
        9,
        4,
    ))
    .await;
}

#[actix_rt::test]
async fn api_versions_without_produce() {
    unusable_produce_versions(
        FakeConfig::with_brokers(1)
            .topic(TOPIC, 1, 0)
            .without_api(ApiKey::Produce),
    )
    .await;
}

#[actix_rt::test]
async fn api_versions_with_produce_max_below_3() {
    unusable_produce_versions(FakeConfig::with_brokers(1).topic(TOPIC, 1, 0).api_range(
        ApiKey::Produce,
        0,
        2,
    ))
    .await;
}

// ---- InitProducerId / EndTxn -------------------------------------------------------

fn transactional(cluster: &FakeCluster) -> ProducerConfig {
    ProducerConfig {
        transactional_id: Some("hostile-txn".to_string()),
        transaction_timeout_ms: 10_000,
        acks: Some(Acks::All),
        ..config(cluster)
    }
}

#[actix_rt::test]
async fn commit_without_begin_sends_no_end_txn() {
    let cluster = fake(1);
    let producer = start(transactional(&cluster)).await;
    let result = bounded(MAX_BLOCK, producer.commit_transaction()).await;
    assert_eq!(
        result,
        Err(ProducerError::TransactionalMisuse {
            misuse: Misuse::CommitWithoutBegin
        })
    );
    assert_eq!(cluster.request_count(0, ApiKey::EndTxn), 0);
    stop_in_time(&producer).await;
}

#[actix_rt::test]
async fn an_empty_transaction_sends_no_end_txn_and_the_next_one_commits() {
    let cluster = fake(1);
    let producer = start(transactional(&cluster)).await;
    bounded(MAX_BLOCK, producer.begin_transaction())
        .await
        .expect("begin");
    bounded(MAX_BLOCK + SLACK, producer.commit_transaction())
        .await
        .expect("an empty transaction commits locally");
    // Nothing was added to it: no EndTxn (a broker would answer one for a
    // transaction it never began with INVALID_TXN_STATE).
    assert_eq!(cluster.request_count(0, ApiKey::EndTxn), 0);
    bounded(MAX_BLOCK, producer.begin_transaction())
        .await
        .expect("begin");
    bounded(MAX_BLOCK + SLACK, producer.send_and_wait(record(0, "real")))
        .await
        .expect("sent");
    bounded(MAX_BLOCK + SLACK, producer.commit_transaction())
        .await
        .expect("committed");
    assert_eq!(
        cluster.request_count(0, ApiKey::EndTxn),
        1,
        "the second transaction's own"
    );
    let ended = cluster.ended_transactions();
    assert_eq!(
        ended.last().map(|e| (e.committed, e.partitions.clone())),
        Some((true, vec![(TOPIC.to_string(), 0)]))
    );
    stop_in_time(&producer).await;
}

#[actix_rt::test]
async fn a_stale_end_txn_success_does_not_commit_the_next_transaction() {
    let cluster = fake(1);
    let producer = start(transactional(&cluster)).await;
    // The first commit's EndTxn is answered twice: the second success is for
    // a transaction that is not (yet) begun.
    cluster.script(0, ApiKey::EndTxn, None, Fault::AnswerTwice, 1);
    for value in ["one", "two"] {
        bounded(MAX_BLOCK, producer.begin_transaction())
            .await
            .expect("begin");
        let sent = bounded(MAX_BLOCK + SLACK, producer.send_and_wait(record(0, value))).await;
        sent.unwrap_or_else(|e| panic!("{value}: {e:?}"));
        bounded(MAX_BLOCK + SLACK, producer.commit_transaction())
            .await
            .unwrap_or_else(|e| panic!("commit {value}: {e:?}"));
    }
    assert_eq!(
        cluster.request_count(0, ApiKey::EndTxn),
        2,
        "the second commit sent its own EndTxn"
    );
    let ended = cluster.ended_transactions();
    assert_eq!(ended.len(), 2);
    assert!(ended.iter().all(|e| e.committed));
    assert_eq!(values(&cluster, 0), ["one", "two"]);
    stop_in_time(&producer).await;
}

// ---- Brokers that stall -------------------------------------------------------

/// Starting against a broker scripted with `fault` on `api` fails at
/// max_block_ms with a typed error.
async fn start_fails_at_max_block(api: ApiKey, fault: Fault) -> ProducerError {
    let cluster = fake(1);
    cluster.script(0, api, None, fault, 10_000);
    let (result, took) = timed(MAX_BLOCK + SLACK, Producer::start(config(&cluster))).await;
    let error = match result {
        Ok(producer) => {
            stop_in_time(&producer).await;
            panic!("started against a broker that does not answer")
        }
        Err(error) => error,
    };
    eprintln!("observed after {took:?}: {error:?}");
    assert!(
        took >= MAX_BLOCK - Duration::from_millis(100),
        "gave up early: {took:?}"
    );
    assert!(took < MAX_BLOCK + SLACK, "took {took:?}");
    error
}

#[actix_rt::test]
async fn broker_that_accepts_and_never_answers() {
    let error = start_fails_at_max_block(ApiKey::ApiVersions, Fault::NoResponse).await;
    assert!(
        matches!(
            error,
            ProducerError::MetadataTimeout { .. } | ProducerError::Connection { .. }
        ),
        "{error:?}"
    );
}

#[actix_rt::test]
async fn broker_that_answers_api_versions_then_stalls() {
    let error = start_fails_at_max_block(ApiKey::Metadata, Fault::NoResponse).await;
    // Each Metadata attempt times out at request_timeout_ms; start gives up
    // at max_block_ms with the last of them.
    assert!(
        matches!(
            error,
            ProducerError::MetadataTimeout { .. }
                | ProducerError::RequestTimedOut {
                    timeout_ms: 1_000,
                    ..
                }
        ),
        "{error:?}"
    );
}

#[actix_rt::test]
async fn broker_that_trickles_api_versions() {
    let error = start_fails_at_max_block(ApiKey::ApiVersions, Fault::Trickle(Duration::from_secs(1))).await;
    assert!(
        matches!(
            error,
            ProducerError::MetadataTimeout { .. } | ProducerError::Connection { .. }
        ),
        "{error:?}"
    );
}

/// A running producer whose produce answers suffer `fault`: the send ends at
/// request_timeout_ms, and `stop_within` returns in time.
async fn produce_stalls(fault: Fault) {
    let cluster = fake(1);
    let producer = start(config(&cluster)).await;
    cluster.script(0, ApiKey::Produce, None, fault, 10_000);
    let (result, took) = timed(REQUEST_TIMEOUT + SLACK, producer.send_and_wait(record(0, "slow"))).await;
    assert!(
        matches!(
            result,
            Err(ProducerError::RequestTimedOut {
                timeout_ms: 1_000,
                ..
            })
        ),
        "{result:?}"
    );
    assert!(
        took >= REQUEST_TIMEOUT - Duration::from_millis(100),
        "gave up early: {took:?}"
    );
    // One more in flight while stopping: stop_within ends it in time.
    let pending = producer.send(record(0, "pending")).await.expect("enqueued");
    stop_in_time(&producer).await;
    let pending = bounded(SLACK, pending).await;
    assert!(pending.is_err(), "{pending:?}");
}

#[actix_rt::test]
async fn produce_never_answered() {
    produce_stalls(Fault::NoResponse).await;
}

#[actix_rt::test]
async fn produce_answer_trickles_a_byte_a_second() {
    produce_stalls(Fault::Trickle(Duration::from_secs(1))).await;
}

// ---- Known bugs (ignored until fixed; see the report for issue 11) ----------
//
// Each of these fails today. They assert what the producer should do; the
// lead fixes the producer and removes the `ignore`.

#[actix_rt::test]
#[ignore = "known bug, issue 11 (needs delivery.timeout.ms, issue 14): idempotent batch for a leader missing from Metadata's broker list is retried forever (not done within 4.5 s)"]
async fn idempotent_leader_not_in_the_broker_list_fails_in_bounded_time() {
    let cluster = fake(2);
    cluster.set_leader(TOPIC, 0, 7);
    unreachable_leader(idempotent(&cluster), &cluster).await;
}

#[actix_rt::test]
#[ignore = "known bug, issue 11 (needs delivery.timeout.ms, issue 14): idempotent batch for a partition with leader -1 is retried forever (not done within 4.5 s)"]
async fn idempotent_leader_minus_one_fails_in_bounded_time() {
    let cluster = fake(2);
    cluster.set_leader(TOPIC, 0, -1);
    unreachable_leader(idempotent(&cluster), &cluster).await;
}

#[actix_rt::test]
#[ignore = "known bug, issue 11 (needs delivery.timeout.ms, issue 14): idempotent batch for a partition that no longer exists is retried forever (not done within 4.5 s)"]
async fn idempotent_partition_count_that_shrinks_ends_with_a_typed_error() {
    partition_count_shrinks(idempotent).await;
}

#[actix_rt::test]
#[ignore = "known bug, issue 11 (needs delivery.timeout.ms, issue 14): idempotent batch for a deleted topic is retried forever (not done within 4.5 s)"]
async fn idempotent_topic_that_vanishes_ends_with_a_typed_error() {
    topic_vanishes(idempotent).await;
}

#[actix_rt::test]
async fn init_producer_id_minus_one_without_error_is_not_used() {
    // InitProducerId v1 (non-flexible): throttle, error 0, producer id -1, epoch 0.
    let mut body = vec![0, 0, 0, 0, 0, 0];
    body.extend_from_slice(&(-1i64).to_be_bytes());
    body.extend_from_slice(&0i16.to_be_bytes());
    let cluster = FakeCluster::start(fake_config(1, 1).api_range(ApiKey::InitProducerId, 0, 1));
    cluster.script(0, ApiKey::InitProducerId, None, Fault::RawResponse(body), 10_000);
    let limit = MAX_BLOCK + REQUEST_TIMEOUT + SLACK;
    let started = Instant::now();
    let producer = bounded(
        limit,
        Producer::start(ProducerConfig {
            enable_idempotence: true,
            acks: Some(Acks::All),
            ..config(&cluster)
        }),
    )
    .await;
    if let Ok(producer) = producer {
        let result = bounded(limit, producer.send_and_wait(record(0, "x"))).await;
        let ids: Vec<(i64, i16)> = cluster
            .log(TOPIC, 0)
            .iter()
            .map(|r| (r.producer_id, r.producer_epoch))
            .collect();
        eprintln!("observed: {result:?}; (producer id, epoch) of the stored records: {ids:?}");
        let error = result.expect_err("no producer id: nothing idempotent can be sent");
        assert!(!matches!(error, ProducerError::Internal { .. }), "{error:?}");
        stop_in_time(&producer).await;
    }
    assert!(started.elapsed() < limit * 2, "took {:?}", started.elapsed());
    assert!(
        cluster.log(TOPIC, 0).iter().all(|r| r.producer_id != -1),
        "no batch was written as idempotent with producer id -1"
    );
}

#[actix_rt::test]
#[ignore = "known bug, issue 11 (needs delivery.timeout.ms, issue 14): an idempotent producer whose broker offers no Produce version retries forever (not done within 10 s)"]
async fn idempotent_api_versions_without_produce() {
    let cluster = FakeCluster::start(
        FakeConfig::with_brokers(1)
            .topic(TOPIC, 1, 0)
            .without_api(ApiKey::Produce),
    );
    let producer = start(idempotent(&cluster)).await;
    let limit = MAX_BLOCK + REQUEST_TIMEOUT + SLACK;
    let result = bounded(limit, producer.send_and_wait(record(0, "x"))).await;
    assert!(
        matches!(
            protocol_cause(&result),
            Some(ProtocolViolation::NoCommonVersion { api: ApiKey::Produce })
        ),
        "{result:?}"
    );
    stop_in_time(&producer).await;
}

#[actix_rt::test]
async fn produce_answer_naming_the_partition_twice_is_a_protocol_error() {
    let cluster = fake(1);
    let producer = start(config(&cluster)).await;
    // The fake appended at offset 0; the answer says 77, then 0: which one is
    // the batch's cannot be known, so neither may be used.
    let fault = Fault::RawResponse(produce_body(&[ok_at(0, 77), ok_at(0, 0)], 0));
    let (result, _) = bad_produce_answers(&cluster, &producer, fault, 1).await;
    match result {
        Ok(metadata) => assert_acks_match_log(&cluster, &[("x".into(), metadata)]),
        Err(error) => assert!(matches!(error, ProducerError::Protocol { .. }), "{error:?}"),
    }
    stop_in_time(&producer).await;
}
