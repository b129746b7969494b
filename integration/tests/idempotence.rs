//! The idempotent producer: against the real broker (sequences and producer
//! id read back with Kafka's DumpLogSegments, records with the console
//! consumer) and against the fake cluster for the faults a real broker rarely
//! shows (a lost answer after an append, DuplicateSequence,
//! OutOfOrderSequence, UNKNOWN_PRODUCER_ID with an epoch bump).

mod common;

use std::collections::BTreeMap;

use actix_kafka::config::Acks;
use actix_kafka::{Producer, ProducerConfig, ProducerError, ProducerRecord};
use actix_kafka_integration::fake_broker::{codes, FakeCluster, FakeConfig, Fault};
use actix_kafka_integration::{bootstrap, create_topic, unique_topic};
use kafka_wire::api::ApiKey;

fn idempotent(bootstrap: String) -> ProducerConfig {
    ProducerConfig {
        enable_idempotence: true,
        ..ProducerConfig::new(bootstrap)
    }
}

#[actix_rt::test]
async fn explicit_acks_other_than_all_is_a_configuration_error() {
    for acks in [Acks::None, Acks::Leader] {
        let config = ProducerConfig {
            acks: Some(acks),
            ..idempotent("127.0.0.1:9".to_string())
        };
        let error = Producer::start(config).await.err().expect("refused");
        assert!(matches!(error, ProducerError::Config { .. }), "{error}");
    }
    assert_eq!(idempotent("x:1".to_string()).effective_acks(), Acks::All);
}

#[actix_rt::test]
async fn real_broker_stores_producer_id_and_gapless_sequences() {
    let bootstrap = bootstrap();
    let topic = unique_topic("idempotent");
    create_topic(&bootstrap, &topic, 3, &[]);
    let producer = Producer::start(ProducerConfig {
        linger_ms: 5,
        ..idempotent(bootstrap.clone())
    })
    .await
    .unwrap();
    let n = 3_000;
    let records: Vec<ProducerRecord> = (0..n)
        .map(|i| ProducerRecord::new(topic.clone(), format!("{i}")).partition(i % 3))
        .collect();
    let mut acked = Vec::new();
    for delivery in producer.send_all(records).await {
        acked.push(delivery.unwrap().await.unwrap());
    }
    producer.stop().await;

    // Kafka's own reader: every record once, in order per partition.
    let consumed = common::consume(&bootstrap, &topic, n as usize, 60_000, &[]);
    let mut per_partition: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    for c in &consumed {
        per_partition
            .entry(c.partition)
            .or_default()
            .push(c.value.parse().unwrap());
    }
    for (partition, values) in &per_partition {
        let expected: Vec<i64> = (0..i64::from(n))
            .filter(|i| i % 3 == i64::from(*partition))
            .collect();
        assert_eq!(values, &expected, "partition {partition}");
    }

    // The broker's segments: one producer id, epoch 0, sequences without gaps.
    for partition in 0..3 {
        let batches = common::dump_batches(&bootstrap, &topic, partition);
        assert!(!batches.is_empty());
        let producer_id = batches[0].producer_id;
        assert!(producer_id >= 0, "an idempotent batch carries a producer id");
        let mut next_sequence = 0;
        for b in &batches {
            assert_eq!((b.producer_id, b.producer_epoch), (producer_id, 0));
            assert_eq!(
                b.base_sequence, next_sequence,
                "partition {partition}: {batches:?}"
            );
            next_sequence += b.count as i32;
        }
        assert_eq!(next_sequence, 1_000);
    }
}

/// A one-partition topic on a one-broker fake cluster that checks sequences
/// like Kafka.
fn fake() -> FakeCluster {
    FakeCluster::start(FakeConfig::with_brokers(1).topic("t", 1, 0).check_sequences(true))
}

fn fake_config(cluster: &FakeCluster) -> ProducerConfig {
    ProducerConfig {
        request_timeout_ms: 1_000,
        retry_backoff_ms: 50,
        max_block_ms: 3_000,
        ..idempotent(cluster.bootstrap())
    }
}

fn values(cluster: &FakeCluster) -> Vec<String> {
    cluster
        .log("t", 0)
        .into_iter()
        .map(|r| String::from_utf8(r.value.unwrap()).unwrap())
        .collect()
}

#[actix_rt::test]
async fn a_lost_answer_after_the_append_is_retried_without_a_duplicate() {
    let cluster = fake();
    let producer = Producer::start(fake_config(&cluster)).await.unwrap();
    // Written, then the connection drops before the answer: outcome unknown.
    cluster.script(
        0,
        ApiKey::Produce,
        Some(("t", 0)),
        Fault::Disconnect { append: true },
        1,
    );
    let first = producer
        .send_and_wait(ProducerRecord::new("t", "once").partition(0))
        .await
        .unwrap();
    let second = producer
        .send_and_wait(ProducerRecord::new("t", "after").partition(0))
        .await
        .unwrap();
    assert_eq!(
        values(&cluster),
        ["once", "after"],
        "the retry was recognised as a duplicate"
    );
    assert_eq!((first.offset, second.offset), (0, 1));
    producer.stop().await;
}

#[actix_rt::test]
async fn a_request_timeout_is_retried_not_surfaced() {
    let cluster = fake();
    let producer = Producer::start(fake_config(&cluster)).await.unwrap();
    // Three lost answers (each appended) take three request timeouts, longer
    // than request_timeout_ms in all: the idempotent producer keeps going.
    cluster.script(0, ApiKey::Produce, Some(("t", 0)), Fault::NoResponse, 3);
    let metadata = producer
        .send_and_wait(ProducerRecord::new("t", "v").partition(0))
        .await
        .unwrap();
    assert_eq!(values(&cluster), ["v"]);
    assert_eq!(metadata.offset, 0);
    producer.stop().await;
}

#[actix_rt::test]
async fn duplicate_sequence_is_a_success_with_unknown_offset() {
    let cluster = fake();
    let producer = Producer::start(fake_config(&cluster)).await.unwrap();
    cluster.script(
        0,
        ApiKey::Produce,
        Some(("t", 0)),
        Fault::ProduceError {
            code: codes::DUPLICATE_SEQUENCE_NUMBER,
        },
        1,
    );
    let metadata = producer
        .send_and_wait(ProducerRecord::new("t", "v").partition(0))
        .await
        .unwrap();
    assert_eq!(metadata.offset, -1);
    producer.stop().await;
}

#[actix_rt::test]
async fn sequence_errors_bump_the_epoch_and_sequences_restart() {
    for code in [codes::UNKNOWN_PRODUCER_ID, codes::OUT_OF_ORDER_SEQUENCE_NUMBER] {
        let cluster = fake();
        let producer = Producer::start(fake_config(&cluster)).await.unwrap();
        producer
            .send_and_wait(ProducerRecord::new("t", "a").partition(0))
            .await
            .unwrap();
        cluster.script(
            0,
            ApiKey::Produce,
            Some(("t", 0)),
            Fault::ProduceError { code },
            1,
        );
        producer
            .send_and_wait(ProducerRecord::new("t", "b").partition(0))
            .await
            .unwrap();
        producer
            .send_and_wait(ProducerRecord::new("t", "c").partition(0))
            .await
            .unwrap();
        assert_eq!(values(&cluster), ["a", "b", "c"], "code {code}");
        let log = cluster.log("t", 0);
        assert_eq!((log[0].producer_epoch, log[0].sequence), (0, 0));
        assert_eq!(
            (log[1].producer_epoch, log[1].sequence),
            (1, 0),
            "bumped epoch, sequence 0"
        );
        assert_eq!((log[2].producer_epoch, log[2].sequence), (1, 1));
        assert_eq!(log[1].producer_id, log[0].producer_id, "same producer id");
        let init_calls = cluster
            .requests(0)
            .iter()
            .filter(|r| r.api_key == ApiKey::InitProducerId.code())
            .count();
        assert_eq!(init_calls, 2, "one InitProducerId at start, one bump");
        producer.stop().await;
    }
}

/// An idempotent producer never expires its batches, so `stop` would wait for
/// a broker that never answers forever; `stop_within` gives up at its
/// deadline: the batch in flight fails as `Disconnected` (outcome unknown),
/// the one queued behind it as `Cancelled` (never sent).
#[actix_rt::test]
async fn stop_within_bounds_the_flush_of_an_idempotent_producer() {
    let cluster = fake();
    let producer = Producer::start(fake_config(&cluster)).await.unwrap();
    // Every answer is lost: the first batch is retried without end.
    cluster.script(0, ApiKey::Produce, Some(("t", 0)), Fault::Ignore, 1_000);
    let first = producer
        .send(ProducerRecord::new("t", "first").partition(0))
        .await
        .unwrap();
    // Sent once the first is in flight, so that it queues behind it.
    actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
    let second = producer
        .send(ProducerRecord::new("t", "second").partition(0))
        .await
        .unwrap();

    let started = std::time::Instant::now();
    let flushed = producer
        .stop_within(std::time::Duration::from_millis(1_500))
        .await;
    let took = started.elapsed();
    assert!(!flushed, "nothing could be flushed");
    assert!(
        took < std::time::Duration::from_secs(5),
        "stop_within took {took:?}"
    );

    let first = first.await.expect_err("never acknowledged");
    assert!(
        matches!(
            first,
            ProducerError::Disconnected { .. } | ProducerError::Cancelled
        ),
        "in flight, or between two attempts: {first:?}"
    );
    assert_eq!(second.await, Err(ProducerError::Cancelled), "never sent");
    assert!(values(&cluster).is_empty());
    assert!(
        producer
            .send(ProducerRecord::new("t", "late").partition(0))
            .await
            .is_err(),
        "stopped"
    );
}
