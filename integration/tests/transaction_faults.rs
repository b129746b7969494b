//! The transactional producer against the fake cluster, for the coordinator
//! faults a real broker will not produce on demand: CONCURRENT_TRANSACTIONS,
//! NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, a lost EndTxn answer,
//! fencing, and abortable produce errors inside a transaction. Also what the
//! transactional batches carry (transactional bit, producer id/epoch,
//! sequences), read from the fake's log.

use std::time::{Duration, Instant};

use actix_kafka::{Producer, ProducerConfig, ProducerError, ProducerRecord};
use actix_kafka_integration::fake_broker::{codes, EndedTxn, FakeCluster, FakeConfig, Fault};
use kafka_wire::api::ApiKey;
use kafka_wire::ErrorCode;

const TXN_ID: &str = "txn-faults";

/// A fake cluster of `brokers` brokers with topic `t` (`partitions`
/// partitions led by node 0), checking sequences like Kafka. The coordinator
/// is node 0.
fn fake(brokers: usize, partitions: i32) -> FakeCluster {
    FakeCluster::start(
        FakeConfig::with_brokers(brokers)
            .topic("t", partitions, 0)
            .check_sequences(true),
    )
}

fn bounded(cluster: &FakeCluster) -> ProducerConfig {
    ProducerConfig {
        request_timeout_ms: 1_000,
        retry_backoff_ms: 50,
        max_block_ms: 5_000,
        transaction_timeout_ms: 10_000,
        ..ProducerConfig::new(cluster.bootstrap())
    }
}

fn transactional(cluster: &FakeCluster) -> ProducerConfig {
    ProducerConfig {
        transactional_id: Some(TXN_ID.to_string()),
        ..bounded(cluster)
    }
}

fn record(partition: i32, value: &str) -> ProducerRecord {
    ProducerRecord::new("t", value.to_string()).partition(partition)
}

fn values(cluster: &FakeCluster, partition: i32) -> Vec<String> {
    cluster
        .log("t", partition)
        .into_iter()
        .map(|r| String::from_utf8(r.value.unwrap()).unwrap())
        .collect()
}

/// How many requests of `api` all brokers received.
fn count(cluster: &FakeCluster, api: ApiKey) -> usize {
    cluster
        .node_ids()
        .into_iter()
        .map(|node| count_on(cluster, node, api))
        .sum()
}

/// How many requests of `api` broker `node` received.
fn count_on(cluster: &FakeCluster, node: i32, api: ApiKey) -> usize {
    cluster
        .requests(node)
        .iter()
        .filter(|r| r.api_key == api.code())
        .count()
}

fn outcomes(ended: &[EndedTxn]) -> Vec<(bool, Vec<(String, i32)>)> {
    ended
        .iter()
        .map(|e| (e.committed, e.partitions.clone()))
        .collect()
}

fn t(partition: i32) -> (String, i32) {
    ("t".to_string(), partition)
}

/// One record in partition 0, committed.
async fn send_one_and_commit(producer: &Producer, value: &str) -> Result<(), ProducerError> {
    producer.begin_transaction().await?;
    producer.send_and_wait(record(0, value)).await?;
    producer.commit_transaction().await
}

#[actix_rt::test]
async fn concurrent_transactions_on_add_partitions_is_retried() {
    let cluster = fake(1, 1);
    let producer = Producer::start(transactional(&cluster)).await.unwrap();
    let fault = Fault::ProduceError {
        code: ErrorCode::CONCURRENT_TRANSACTIONS.0,
    };
    cluster.script(0, ApiKey::AddPartitionsToTxn, None, fault, 2);

    send_one_and_commit(&producer, "v").await.unwrap();

    assert_eq!(cluster.pending_faults(), 0);
    assert_eq!(
        count_on(&cluster, 0, ApiKey::AddPartitionsToTxn),
        3,
        "two refusals, then accepted"
    );
    assert_eq!(outcomes(&cluster.ended_transactions()), [(true, vec![t(0)])]);
    assert_eq!(values(&cluster, 0), ["v"]);
    producer.stop().await;
}

/// A partition that cannot join the transaction (AddPartitionsToTxn refused
/// for good): its records were never sent and fail as `TransactionAborted`
/// (not with the coordinator's error, whose outcome may read "unknown"); the
/// commit reports the coordinator's error, the abort succeeds.
#[actix_rt::test]
async fn a_partition_refused_by_the_coordinator_fails_its_records_as_aborted() {
    let cluster = fake(1, 1);
    let producer = Producer::start(transactional(&cluster)).await.unwrap();
    let code = ErrorCode::TOPIC_AUTHORIZATION_FAILED;
    cluster.script(
        0,
        ApiKey::AddPartitionsToTxn,
        None,
        Fault::ProduceError { code: code.0 },
        1,
    );

    producer.begin_transaction().await.unwrap();
    let sent = producer.send_and_wait(record(0, "never sent")).await;
    assert_eq!(sent, Err(ProducerError::TransactionAborted));
    let commit = producer.commit_transaction().await;
    assert_eq!(
        commit.as_ref().err().and_then(ProducerError::error_code),
        Some(code),
        "{commit:?}"
    );
    producer.abort_transaction().await.unwrap();
    assert!(values(&cluster, 0).is_empty());
    assert_eq!(count_on(&cluster, 0, ApiKey::Produce), 0, "nothing was sent");
    producer.stop().await;
}

/// `max_block_ms` bounds a coordinator call even when one attempt would take
/// longer: an AddPartitionsToTxn the coordinator never answers fails at
/// max_block_ms (2 s), not at request_timeout_ms (20 s).
#[actix_rt::test]
async fn an_unanswered_coordinator_request_ends_at_max_block_ms() {
    let cluster = fake(1, 1);
    let config = ProducerConfig {
        request_timeout_ms: 20_000,
        max_block_ms: 2_000,
        ..transactional(&cluster)
    };
    let producer = Producer::start(config).await.unwrap();
    cluster.script(0, ApiKey::AddPartitionsToTxn, None, Fault::NoResponse, 1);

    producer.begin_transaction().await.unwrap();
    let started = std::time::Instant::now();
    let sent = producer.send_and_wait(record(0, "never sent")).await;
    let took = started.elapsed();
    assert_eq!(sent, Err(ProducerError::TransactionAborted));
    assert!(
        took >= std::time::Duration::from_millis(1_900) && took < std::time::Duration::from_secs(5),
        "took {took:?}"
    );
    let commit = producer.commit_transaction().await;
    assert!(
        matches!(commit, Err(ProducerError::RequestTimedOut { .. })),
        "{commit:?}"
    );
    producer.abort_transaction().await.unwrap();
    producer.stop().await;
}

#[actix_rt::test]
async fn not_coordinator_on_end_txn_refinds_the_moved_coordinator() {
    let cluster = fake(2, 1);
    let producer = Producer::start(transactional(&cluster)).await.unwrap();
    producer.begin_transaction().await.unwrap();
    producer.send_and_wait(record(0, "v")).await.unwrap();

    // Node 0 answers the first EndTxn with NOT_COORDINATOR; as soon as it has
    // seen it, the coordinator moves to node 1 (the client waits
    // retry_backoff_ms = 50 ms before finding the coordinator again).
    let fault = Fault::ProduceError {
        code: codes::NOT_COORDINATOR,
    };
    cluster.script(0, ApiKey::EndTxn, None, fault, 1);
    let find_before = count(&cluster, ApiKey::FindCoordinator);
    let mover = async {
        let deadline = Instant::now() + Duration::from_secs(5);
        while count_on(&cluster, 0, ApiKey::EndTxn) == 0 && Instant::now() < deadline {
            actix_rt::time::sleep(Duration::from_millis(1)).await;
        }
        cluster.set_coordinator(1);
    };
    let (committed, ()) = futures_util::future::join(producer.commit_transaction(), mover).await;
    committed.unwrap();

    assert_eq!(cluster.pending_faults(), 0);
    assert_eq!(count_on(&cluster, 0, ApiKey::EndTxn), 1, "refused once by node 0");
    assert_eq!(count_on(&cluster, 1, ApiKey::EndTxn), 1, "then sent to node 1");
    assert!(
        count(&cluster, ApiKey::FindCoordinator) >= find_before + 2,
        "the coordinator was found again for the retry"
    );
    assert_eq!(outcomes(&cluster.ended_transactions()), [(true, vec![t(0)])]);

    // The next transaction goes to the new coordinator.
    send_one_and_commit(&producer, "w").await.unwrap();
    assert_eq!(cluster.ended_transactions().len(), 2);
    assert_eq!(values(&cluster, 0), ["v", "w"]);
    producer.stop().await;
}

#[actix_rt::test]
async fn not_coordinator_on_init_producer_id_at_start_is_retried() {
    let cluster = fake(2, 1);
    let fault = Fault::ProduceError {
        code: codes::NOT_COORDINATOR,
    };
    cluster.script(0, ApiKey::InitProducerId, None, fault, 1);
    let producer = Producer::start(transactional(&cluster)).await.unwrap();
    assert_eq!(cluster.pending_faults(), 0);
    assert_eq!(count_on(&cluster, 0, ApiKey::InitProducerId), 2);
    send_one_and_commit(&producer, "v").await.unwrap();
    assert_eq!(outcomes(&cluster.ended_transactions()), [(true, vec![t(0)])]);
    producer.stop().await;
}

#[actix_rt::test]
async fn coordinator_load_in_progress_at_start_is_retried() {
    let cluster = fake(1, 1);
    let fault = Fault::ProduceError {
        code: codes::COORDINATOR_LOAD_IN_PROGRESS,
    };
    cluster.script(0, ApiKey::InitProducerId, None, fault, 2);
    let started = Instant::now();
    let producer = Producer::start(transactional(&cluster)).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(cluster.pending_faults(), 0);
    assert_eq!(count_on(&cluster, 0, ApiKey::InitProducerId), 3);
    send_one_and_commit(&producer, "v").await.unwrap();
    assert_eq!(outcomes(&cluster.ended_transactions()), [(true, vec![t(0)])]);
    producer.stop().await;
}

/// EndTxn(commit) whose answer is lost (`NoResponse`: the commit happened)
/// or whose request is lost (`Ignore`: it did not): either way the same
/// commit is retried after request_timeout_ms and commit_transaction
/// returns Ok; nothing is ever aborted.
#[actix_rt::test]
async fn end_txn_timeout_retries_the_same_commit() {
    for fault in [Fault::NoResponse, Fault::Ignore] {
        let cluster = fake(1, 1);
        let producer = Producer::start(transactional(&cluster)).await.unwrap();
        producer.begin_transaction().await.unwrap();
        producer.send_and_wait(record(0, "v")).await.unwrap();
        cluster.script(0, ApiKey::EndTxn, None, fault.clone(), 1);

        let started = Instant::now();
        producer.commit_transaction().await.unwrap();
        let took = started.elapsed();

        assert!(took >= Duration::from_millis(900), "{fault:?}: waited {took:?}");
        assert_eq!(cluster.pending_faults(), 0, "{fault:?}");
        assert_eq!(
            count_on(&cluster, 0, ApiKey::EndTxn),
            2,
            "{fault:?}: retried once"
        );
        let ended = cluster.ended_transactions();
        assert_eq!(outcomes(&ended), [(true, vec![t(0)])], "{fault:?}: one commit");
        assert!(ended.iter().all(|e| e.committed), "{fault:?}: never aborted");

        // The producer goes on.
        send_one_and_commit(&producer, "w").await.unwrap();
        let ended = cluster.ended_transactions();
        assert_eq!(ended.len(), 2, "{fault:?}");
        assert!(ended.iter().all(|e| e.committed), "{fault:?}");
        producer.stop().await;
    }
}

#[actix_rt::test]
async fn producer_fenced_on_end_txn_is_fatal() {
    let cluster = fake(1, 1);
    let producer = Producer::start(transactional(&cluster)).await.unwrap();
    producer.begin_transaction().await.unwrap();
    producer.send_and_wait(record(0, "v")).await.unwrap();
    let fault = Fault::ProduceError {
        code: codes::PRODUCER_FENCED,
    };
    cluster.script(0, ApiKey::EndTxn, None, fault, 1);

    assert_eq!(
        producer.commit_transaction().await,
        Err(ProducerError::ProducerFenced)
    );
    assert_eq!(count_on(&cluster, 0, ApiKey::EndTxn), 1, "not retried");
    assert!(cluster.ended_transactions().is_empty());

    assert_eq!(
        producer.begin_transaction().await,
        Err(ProducerError::ProducerFenced),
        "fencing is fatal"
    );
    assert_eq!(
        producer.abort_transaction().await,
        Err(ProducerError::ProducerFenced)
    );
    assert_eq!(count_on(&cluster, 0, ApiKey::EndTxn), 1, "nothing more sent");
    producer.stop().await;
}

/// Scripts `code` on the next produce to t-0, sends one record to t-0 in a
/// new transaction, and checks: the send fails with it, commit reports it,
/// abort succeeds (EndTxn abort for t-0).
async fn abortable_send_then_abort(cluster: &FakeCluster, producer: &Producer, code: i16) {
    let fault = Fault::ProduceError { code };
    cluster.script(0, ApiKey::Produce, Some(("t", 0)), fault, 1);
    let expected = ProducerError::Broker {
        code: ErrorCode(code),
        message: None,
    };
    let ended_before = cluster.ended_transactions().len();

    producer.begin_transaction().await.unwrap();
    let sent = producer.send_and_wait(record(0, "doomed")).await;
    assert_eq!(sent.err(), Some(expected.clone()), "code {code}: the send fails");
    assert_eq!(
        producer.commit_transaction().await,
        Err(expected),
        "code {code}: commit reports the batch's error"
    );
    producer.abort_transaction().await.unwrap();
    assert_eq!(cluster.pending_faults(), 0, "code {code}");
    let ended = cluster.ended_transactions();
    assert_eq!(ended.len(), ended_before + 1, "code {code}");
    assert_eq!(
        outcomes(&ended[ended_before..]),
        [(false, vec![t(0)])],
        "code {code}: aborted"
    );
}

/// What works after an abortable produce error: the send fails, commit
/// reports the error, abort succeeds, and a new transaction on another
/// partition commits. (The same partition: the next test.)
#[actix_rt::test]
async fn abortable_produce_error_fails_the_commit_and_abort_succeeds() {
    for code in [
        ErrorCode::INVALID_RECORD.0,
        ErrorCode::TOPIC_AUTHORIZATION_FAILED.0,
    ] {
        let cluster = fake(1, 2);
        let producer = Producer::start(transactional(&cluster)).await.unwrap();
        abortable_send_then_abort(&cluster, &producer, code).await;

        producer.begin_transaction().await.unwrap();
        producer.send_and_wait(record(1, "after")).await.unwrap();
        producer.commit_transaction().await.unwrap();
        assert_eq!(
            outcomes(&cluster.ended_transactions()),
            [(false, vec![t(0)]), (true, vec![t(1)])],
            "code {code}"
        );
        assert!(values(&cluster, 0).is_empty(), "code {code}");
        assert_eq!(values(&cluster, 1), ["after"], "code {code}");
        producer.stop().await;
    }
}

/// After an abortable produce error and the abort, the next transaction
/// writes the same partition and commits.
#[actix_rt::test]
async fn abortable_produce_error_aborts_then_the_next_transaction_commits() {
    for code in [
        ErrorCode::INVALID_RECORD.0,
        ErrorCode::TOPIC_AUTHORIZATION_FAILED.0,
    ] {
        let cluster = fake(1, 1);
        let producer = Producer::start(transactional(&cluster)).await.unwrap();
        // A committed batch first: the broker knows the producer (sequence 0).
        send_one_and_commit(&producer, "before").await.unwrap();
        abortable_send_then_abort(&cluster, &producer, code).await;

        send_one_and_commit(&producer, "after").await.unwrap();
        assert_eq!(
            outcomes(&cluster.ended_transactions()),
            [(true, vec![t(0)]), (false, vec![t(0)]), (true, vec![t(0)])],
            "code {code}"
        );
        assert_eq!(values(&cluster, 0), ["before", "after"], "code {code}");
        let log = cluster.log("t", 0);
        assert_eq!(
            log[1].sequence, 1,
            "code {code}: the refused batch took no sequence"
        );
        producer.stop().await;
    }
}

/// KIP-360 under transaction.version 1: a batch refused for its sequence
/// (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID) dooms the transaction;
/// after the abort, the next begin bumps the epoch with InitProducerId (the
/// current id and epoch), and the partition restarts at sequence 0 under it.
#[actix_rt::test]
async fn a_sequence_error_bumps_the_epoch_before_the_next_transaction() {
    for code in [
        ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER.0,
        ErrorCode::UNKNOWN_PRODUCER_ID.0,
    ] {
        let cluster = fake(1, 1);
        let producer = Producer::start(transactional(&cluster)).await.unwrap();
        send_one_and_commit(&producer, "before").await.unwrap();
        abortable_send_then_abort(&cluster, &producer, code).await;
        assert_eq!(
            count(&cluster, ApiKey::InitProducerId),
            1,
            "code {code}: no bump before begin"
        );

        send_one_and_commit(&producer, "after").await.unwrap();
        assert_eq!(
            count(&cluster, ApiKey::InitProducerId),
            2,
            "code {code}: one bump"
        );
        let log = cluster.log("t", 0);
        assert_eq!(values(&cluster, 0), ["before", "after"], "code {code}");
        assert_eq!(
            (log[1].producer_id, log[1].producer_epoch, log[1].sequence),
            (log[0].producer_id, log[0].producer_epoch + 1, 0),
            "code {code}: same id, next epoch, sequences from 0"
        );
        let ended = cluster.ended_transactions();
        assert_eq!(
            ended.last().map(|e| (e.committed, e.producer_epoch)),
            Some((true, log[1].producer_epoch)),
            "code {code}: committed under the new epoch"
        );
        producer.stop().await;
    }
}

#[actix_rt::test]
async fn transactional_batches_carry_the_identity_and_sequences_from_zero() {
    let cluster = fake(1, 2);
    let producer = Producer::start(transactional(&cluster)).await.unwrap();
    for round in 0..2 {
        producer.begin_transaction().await.unwrap();
        // One batch per record (each is awaited), alternating partitions.
        for i in 0..3 {
            for partition in 0..2 {
                producer
                    .send_and_wait(record(partition, &format!("r{round}-p{partition}-{i}")))
                    .await
                    .unwrap();
            }
        }
        producer.commit_transaction().await.unwrap();
    }
    producer.stop().await;

    let ended = cluster.ended_transactions();
    assert_eq!(ended.len(), 2);
    assert!(ended.iter().all(|e| e.committed));
    // The identity InitProducerId gave is the one the coordinator recorded.
    let (producer_id, epoch) = (ended[0].producer_id, ended[0].producer_epoch);
    assert!(producer_id >= 0);
    assert_eq!(epoch, 0, "a new transactional id starts at epoch 0");
    assert_eq!(count(&cluster, ApiKey::InitProducerId), 1);
    for partition in 0..2 {
        let log = cluster.log("t", partition);
        assert_eq!(log.len(), 6, "partition {partition}");
        for (i, r) in log.iter().enumerate() {
            assert!(r.transactional, "partition {partition} record {i}");
            assert_eq!(
                (r.producer_id, r.producer_epoch),
                (producer_id, epoch),
                "partition {partition} record {i}"
            );
            assert_eq!(
                r.sequence, i as i32,
                "partition {partition}: sequences from 0, without gaps"
            );
        }
        let expected: Vec<String> = (0..2)
            .flat_map(|round| (0..3).map(move |i| format!("r{round}-p{partition}-{i}")))
            .collect();
        assert_eq!(values(&cluster, partition), expected);
    }
    for e in &ended {
        let mut partitions = e.partitions.clone();
        partitions.sort();
        assert_eq!(partitions, [t(0), t(1)]);
    }
}

/// Idempotent (not transactional): InitProducerId refused with a
/// non-retriable error makes start fail with it, well within max_block_ms.
#[actix_rt::test]
async fn idempotent_start_fails_on_a_non_retriable_init_producer_id_error() {
    let cluster = fake(1, 1);
    let code = ErrorCode::CLUSTER_AUTHORIZATION_FAILED;
    cluster.script(
        0,
        ApiKey::InitProducerId,
        None,
        Fault::ProduceError { code: code.0 },
        100,
    );
    let config = ProducerConfig {
        enable_idempotence: true,
        ..bounded(&cluster)
    };
    let started = Instant::now();
    let error = Producer::start(config).await.err().expect("start fails");
    let took = started.elapsed();
    assert_eq!(error.error_code(), Some(code), "{error}");
    assert!(error.is_fatal(), "{error}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(count_on(&cluster, 0, ApiKey::InitProducerId), 1, "not retried");
}

/// The same for a transactional producer (TRANSACTIONAL_ID_AUTHORIZATION_FAILED
/// at the coordinator).
#[actix_rt::test]
async fn transactional_start_fails_on_a_non_retriable_init_producer_id_error() {
    let cluster = fake(1, 1);
    let code = ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    cluster.script(
        0,
        ApiKey::InitProducerId,
        None,
        Fault::ProduceError { code: code.0 },
        100,
    );
    let started = Instant::now();
    let error = Producer::start(transactional(&cluster))
        .await
        .err()
        .expect("start fails");
    assert_eq!(error.error_code(), Some(code), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(count_on(&cluster, 0, ApiKey::InitProducerId), 1, "not retried");
}
