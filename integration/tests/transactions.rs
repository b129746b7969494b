//! The transactional producer against real brokers formatted with
//! transaction.version 2 (127.0.0.1:9092) and 1 (127.0.0.1:9192), read back
//! by Kafka's console consumer with read_committed and read_uncommitted, and
//! committed group offsets checked with Kafka's consumer-groups tool. Which
//! protocol generation the producer spoke shows in the stored batches' epochs
//! and sequences (Kafka's DumpLogSegments).

mod common;

use actix_kafka::{Producer, ProducerConfig, ProducerError, ProducerRecord};
use actix_kafka_integration::{bootstrap, create_topic, tv1_bootstrap, unique_topic};

fn transactional(bootstrap: &str, id: &str) -> ProducerConfig {
    ProducerConfig {
        transactional_id: Some(id.to_string()),
        ..ProducerConfig::new(bootstrap)
    }
}

fn values(bootstrap: &str, topic: &str, count: usize, isolation: &str) -> Vec<String> {
    let records = common::consume(bootstrap, topic, count, 30_000, &["--isolation-level", isolation]);
    records.into_iter().map(|r| r.value).collect()
}

fn record(topic: &str, value: &str) -> ProducerRecord {
    ProducerRecord::new(topic.to_string(), value.to_string()).partition(0)
}

async fn committed_and_aborted_on(bootstrap: String) {
    let topic = unique_topic("txn");
    create_topic(&bootstrap, &topic, 1, &[]);
    let producer = Producer::start(transactional(&bootstrap, &unique_topic("txn-id")))
        .await
        .unwrap();

    producer.begin_transaction().await.unwrap();
    for v in ["c1", "c2", "c3"] {
        producer.send_and_wait(record(&topic, v)).await.unwrap();
    }
    producer.commit_transaction().await.unwrap();

    producer.begin_transaction().await.unwrap();
    for v in ["a1", "a2"] {
        producer.send_and_wait(record(&topic, v)).await.unwrap();
    }
    producer.abort_transaction().await.unwrap();

    // The scoped helper: Ok commits, Err aborts (and returns the error).
    let t = topic.clone();
    producer
        .transaction(|p| async move {
            p.send(record(&t, "h1")).await?;
            Ok(())
        })
        .await
        .unwrap();
    let t = topic.clone();
    let failed: Result<(), ProducerError> = producer
        .transaction(|p| async move {
            p.send(record(&t, "a3")).await?;
            Err(ProducerError::Cancelled)
        })
        .await;
    assert_eq!(failed, Err(ProducerError::Cancelled));
    producer.stop().await;

    assert_eq!(
        values(&bootstrap, &topic, 4, "read_committed"),
        ["c1", "c2", "c3", "h1"]
    );
    assert_eq!(
        values(&bootstrap, &topic, 7, "read_uncommitted"),
        ["c1", "c2", "c3", "a1", "a2", "h1", "a3"]
    );
}

#[actix_rt::test]
async fn committed_records_are_visible_and_aborted_ones_never_transaction_version_2() {
    committed_and_aborted_on(bootstrap()).await;
}

#[actix_rt::test]
async fn committed_records_are_visible_and_aborted_ones_never_transaction_version_1() {
    committed_and_aborted_on(tv1_bootstrap()).await;
}

/// Three transactions (commit, abort, commit) of two batches each to one
/// partition; returns each stored data batch's `(producer epoch, base
/// sequence)` and the number of transaction markers, read from the broker's
/// segment files with Kafka's DumpLogSegments.
async fn epochs_and_sequences(bootstrap: String, log_dir: &str) -> (Vec<(i16, i32)>, usize) {
    let topic = unique_topic("txn-protocol");
    create_topic(&bootstrap, &topic, 1, &[]);
    let producer = Producer::start(transactional(&bootstrap, &unique_topic("txn-id")))
        .await
        .unwrap();
    for (round, commit) in [true, false, true].into_iter().enumerate() {
        producer.begin_transaction().await.unwrap();
        for i in 0..2 {
            // Awaited one by one: one batch each.
            producer
                .send_and_wait(record(&topic, &format!("t{round}-{i}")))
                .await
                .unwrap();
        }
        if commit {
            producer.commit_transaction().await.unwrap();
        } else {
            producer.abort_transaction().await.unwrap();
        }
    }
    producer.stop().await;
    let batches = common::dump_batches_in(&common::broker_log_dir(log_dir), &bootstrap, &topic, 0);
    let data = batches
        .iter()
        .filter(|b| !b.is_control)
        .map(|b| (b.producer_epoch, b.base_sequence))
        .collect();
    (data, batches.iter().filter(|b| b.is_control).count())
}

/// transaction.version 2 (KIP-890): every EndTxn bumps the epoch, so each
/// transaction's batches carry the next epoch and sequences from 0 — proof
/// that the producer spoke Produce v12 / EndTxn v5 and adopted the epochs.
#[actix_rt::test]
async fn transaction_version_2_bumps_the_epoch_at_every_transaction_end() {
    let (data, markers) = epochs_and_sequences(bootstrap(), "single").await;
    assert_eq!(markers, 3, "one marker per transaction");
    let e = data[0].0;
    assert_eq!(
        data,
        [(e, 0), (e, 1), (e + 1, 0), (e + 1, 1), (e + 2, 0), (e + 2, 1)]
    );
}

/// transaction.version 1: the epoch stays for the producer's session and the
/// sequences continue across transactions.
#[actix_rt::test]
async fn transaction_version_1_keeps_the_epoch_across_transactions() {
    let (data, markers) = epochs_and_sequences(tv1_bootstrap(), "single-tv1-9192").await;
    assert_eq!(markers, 3, "one marker per transaction");
    let e = data[0].0;
    assert_eq!(data, [(e, 0), (e, 1), (e, 2), (e, 3), (e, 4), (e, 5)]);
}

fn is_misuse<T: std::fmt::Debug>(result: Result<T, ProducerError>) -> bool {
    matches!(result, Err(ProducerError::TransactionalMisuse { .. }))
}

#[actix_rt::test]
async fn misuse_gets_a_clear_error() {
    let bootstrap = bootstrap();
    let topic = unique_topic("txn-misuse");
    create_topic(&bootstrap, &topic, 1, &[]);
    let producer = Producer::start(transactional(&bootstrap, &unique_topic("txn-id")))
        .await
        .unwrap();
    assert!(
        is_misuse(producer.send(record(&topic, "outside")).await),
        "send outside a transaction"
    );
    assert!(
        is_misuse(producer.commit_transaction().await),
        "commit without begin"
    );
    assert!(
        is_misuse(producer.abort_transaction().await),
        "abort without begin"
    );
    producer.begin_transaction().await.unwrap();
    assert!(is_misuse(producer.begin_transaction().await), "begin twice");
    assert!(
        is_misuse(
            producer
                .send_offsets_to_transaction(vec![(topic.clone(), 0, 1)], "")
                .await
        ),
        "empty group id"
    );
    producer.send_and_wait(record(&topic, "inside")).await.unwrap();
    producer.commit_transaction().await.unwrap();
    producer.stop().await;
    assert_eq!(values(&bootstrap, &topic, 1, "read_committed"), ["inside"]);

    let plain = Producer::start(ProducerConfig::new(bootstrap.clone()))
        .await
        .unwrap();
    assert!(
        is_misuse(plain.begin_transaction().await),
        "transactions on a plain producer"
    );
    plain.stop().await;
}

#[actix_rt::test]
async fn a_second_instance_fences_the_first_and_takes_over() {
    let bootstrap = bootstrap();
    let topic = unique_topic("txn-fence");
    create_topic(&bootstrap, &topic, 1, &[]);
    let id = unique_topic("txn-id");
    let first = Producer::start(transactional(&bootstrap, &id)).await.unwrap();
    first.begin_transaction().await.unwrap();
    first.send_and_wait(record(&topic, "zombie")).await.unwrap();

    // Same transactional id: InitProducerId bumps the epoch and aborts the
    // first instance's open transaction.
    let second = Producer::start(transactional(&bootstrap, &id)).await.unwrap();
    let error = first.commit_transaction().await.unwrap_err();
    assert!(
        matches!(error, ProducerError::ProducerFenced) || error.is_fatal(),
        "the fenced instance gets a fatal error, got {error:?}"
    );
    assert!(
        first.begin_transaction().await.is_err(),
        "the fenced instance stays unusable"
    );
    first.stop().await;

    second.begin_transaction().await.unwrap();
    second.send_and_wait(record(&topic, "survivor")).await.unwrap();
    second.commit_transaction().await.unwrap();
    second.stop().await;
    assert_eq!(values(&bootstrap, &topic, 1, "read_committed"), ["survivor"]);
}

/// The committed offset of `group` for `topic`-0, from Kafka's consumer-groups tool.
fn committed_offset(bootstrap: &str, group: &str, topic: &str) -> Option<i64> {
    common::committed_offsets(bootstrap, group, topic)
        .get(&0)
        .copied()
}

#[actix_rt::test]
async fn offsets_are_committed_only_with_the_transaction() {
    let bootstrap = bootstrap();
    let input = unique_topic("txn-in");
    let output = unique_topic("txn-out");
    create_topic(&bootstrap, &input, 1, &[]);
    create_topic(&bootstrap, &output, 1, &[]);
    let group = unique_topic("txn-group");
    let producer = Producer::start(transactional(&bootstrap, &unique_topic("txn-id")))
        .await
        .unwrap();

    producer.begin_transaction().await.unwrap();
    producer.send_and_wait(record(&output, "aborted")).await.unwrap();
    producer
        .send_offsets_to_transaction(vec![(input.clone(), 0, 5)], &group)
        .await
        .unwrap();
    producer.abort_transaction().await.unwrap();

    producer.begin_transaction().await.unwrap();
    producer
        .send_and_wait(record(&output, "committed"))
        .await
        .unwrap();
    producer
        .send_offsets_to_transaction(vec![(input.clone(), 0, 7)], &group)
        .await
        .unwrap();
    producer.commit_transaction().await.unwrap();
    producer.stop().await;

    assert_eq!(
        committed_offset(&bootstrap, &group, &input),
        Some(7),
        "only the committed offset"
    );
    assert_eq!(values(&bootstrap, &output, 1, "read_committed"), ["committed"]);
}

/// A record the producer refuses before it reaches a batch (here: a
/// partition that does not exist) dooms the open transaction, as any failed
/// batch does: the commit fails with the refusal, only the abort is
/// possible, and the records sent before it are never visible.
#[actix_rt::test]
async fn a_record_refused_in_the_enqueue_stage_dooms_the_transaction() {
    let bootstrap = bootstrap();
    let topic = unique_topic("txn-refused");
    create_topic(&bootstrap, &topic, 1, &[]);
    let producer = Producer::start(transactional(&bootstrap, &unique_topic("txn-id")))
        .await
        .unwrap();

    producer.begin_transaction().await.unwrap();
    producer.send_and_wait(record(&topic, "doomed")).await.unwrap();
    let refused = producer
        .send(ProducerRecord::new(topic.clone(), "nowhere").partition(7))
        .await
        .map(|_| ())
        .expect_err("partition 7 does not exist");
    assert!(
        matches!(refused, ProducerError::PartitionOutOfRange { .. }),
        "{refused:?}"
    );
    assert_eq!(producer.commit_transaction().await, Err(refused.clone()));
    producer.abort_transaction().await.unwrap();

    // The scoped helper does the same: the failed commit is followed by the
    // abort, and the next transaction commits.
    let t = topic.clone();
    let helper = producer
        .transaction(|p| async move {
            p.send(record(&t, "doomed too")).await?;
            let _ = p
                .send(ProducerRecord::new(t.clone(), "nowhere").partition(7))
                .await;
            Ok(())
        })
        .await;
    assert_eq!(helper, Err(refused));
    let t = topic.clone();
    producer
        .transaction(|p| async move {
            p.send(record(&t, "kept")).await?;
            Ok(())
        })
        .await
        .expect("the helper aborted, so a new transaction can begin");
    producer.stop().await;

    assert_eq!(values(&bootstrap, &topic, 1, "read_committed"), ["kept"]);
    assert_eq!(
        values(&bootstrap, &topic, 3, "read_uncommitted"),
        ["doomed", "doomed too", "kept"]
    );
}

/// A commit waits for records still in the enqueue stage (here: waiting for
/// the metadata of a topic that does not exist): they belong to the
/// transaction, so their refusal dooms it instead of being overtaken by the
/// commit.
#[actix_rt::test]
async fn a_commit_waits_for_records_still_being_enqueued() {
    let bootstrap = bootstrap();
    let topic = unique_topic("txn-enqueue");
    create_topic(&bootstrap, &topic, 1, &[]);
    let config = ProducerConfig {
        max_block_ms: 2_000,
        ..transactional(&bootstrap, &unique_topic("txn-id"))
    };
    let producer = Producer::start(config).await.unwrap();

    producer.begin_transaction().await.unwrap();
    producer.send_and_wait(record(&topic, "doomed")).await.unwrap();
    let sender = producer.clone();
    let missing = unique_topic("txn-missing");
    let pending = actix_rt::spawn(async move { sender.send(ProducerRecord::new(missing, "x")).await.err() });
    // Let the record reach the producer and wait for its topic.
    actix_rt::time::sleep(std::time::Duration::from_millis(300)).await;
    let commit = producer.commit_transaction().await;
    let refused = pending.await.unwrap().expect("the topic does not exist");
    assert!(
        matches!(refused, ProducerError::UnknownTopic { .. }),
        "{refused:?}"
    );
    assert_eq!(commit, Err(refused));
    producer.abort_transaction().await.unwrap();
    producer.begin_transaction().await.unwrap();
    producer.send_and_wait(record(&topic, "kept")).await.unwrap();
    producer.commit_transaction().await.unwrap();
    producer.stop().await;
    // Read from the beginning: "doomed" would come first if it were visible.
    assert_eq!(values(&bootstrap, &topic, 1, "read_committed"), ["kept"]);
    assert_eq!(
        values(&bootstrap, &topic, 2, "read_uncommitted"),
        ["doomed", "kept"]
    );
}
