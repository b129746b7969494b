//! The accumulator rules on simulated time: no sockets, no sleeping.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_wire::compression::Compression;
use kafka_wire::record::read_batches;
use kafka_wire::ErrorCode;

use super::*;
use crate::error::{BrokerId, Disconnect, ProducerError};
use crate::transaction::ProducerIdentity;

fn config(linger_ms: u64, max_batch_size: usize) -> QueueConfig {
    QueueConfig {
        max_batch_size,
        linger: Duration::from_millis(linger_ms),
        retry_backoff: Duration::from_millis(100),
        delivery_timeout: Duration::from_millis(1_000),
        compression: Compression::None,
        idempotent: false,
        transactional: false,
    }
}

fn queue(linger_ms: u64, max_batch_size: usize) -> PartitionQueue<u32> {
    PartitionQueue::new(Arc::from("t"), 3, config(linger_ms, max_batch_size))
}

fn append(q: &mut PartitionQueue<u32>, now: Instant, token: u32) {
    let value = format!("value-{token}");
    let record = NewRecord {
        timestamp: 1_000 + i64::from(token),
        key: None,
        value: Some(value.as_bytes()),
        headers: &[],
    };
    q.append(now, record, token, 10).map_err(|(_, e)| e).unwrap();
}

fn send(q: &mut PartitionQueue<u32>, now: Instant) -> Option<Outgoing> {
    match q.poll_send(now) {
        Poll::Send(out) => Some(out),
        Poll::Idle => None,
        Poll::Failed { error, .. } => panic!("unexpected failure {error}"),
    }
}

fn values(out: &Outgoing) -> Vec<String> {
    read_batches(&out.records, 1 << 20).unwrap()[0]
        .records
        .iter()
        .map(|r| String::from_utf8(r.value.clone().unwrap()).unwrap())
        .collect()
}

fn ok(base_offset: i64) -> SendOutcome {
    SendOutcome::Appended {
        base_offset,
        log_append_time_ms: -1,
        log_start_offset: 0,
    }
}

fn broker_error(code: ErrorCode) -> SendOutcome {
    SendOutcome::Failed(ProducerError::Broker { code, message: None })
}

fn completed(after: AfterResponse<u32>) -> Vec<Completion<u32>> {
    match after {
        AfterResponse::Completed { completions, .. } => completions,
        other => panic!("expected completion, got {other:?}"),
    }
}

#[test]
fn linger_zero_sends_at_once_and_the_next_batch_waits_for_the_first() {
    let t0 = Instant::now();
    let mut q = queue(0, 16 * 1024);
    append(&mut q, t0, 1);
    let first = send(&mut q, t0).expect("linger 0 sends immediately");
    append(&mut q, t0, 2);
    append(&mut q, t0, 3);
    assert!(send(&mut q, t0).is_none(), "one batch in flight per partition");
    let done = completed(q.on_response(t0, first.batch_id, ok(40)));
    assert_eq!(done.len(), 1);
    let second = send(&mut q, t0).expect("next batch goes when the previous completes");
    assert_eq!(
        values(&second),
        ["value-2", "value-3"],
        "records that arrived meanwhile share a batch"
    );
    let done = completed(q.on_response(t0, second.batch_id, ok(41)));
    let offsets: Vec<i64> = done.iter().map(|(_, r)| r.as_ref().unwrap().offset).collect();
    assert_eq!(offsets, [41, 42]);
    assert!(q.is_empty());
}

#[test]
fn linger_holds_a_partial_batch_until_it_expires_or_fills() {
    let t0 = Instant::now();
    let mut q = queue(50, 16 * 1024);
    append(&mut q, t0, 1);
    assert!(send(&mut q, t0 + Duration::from_millis(49)).is_none());
    assert_eq!(q.next_wakeup(), Some(t0 + Duration::from_millis(50)));
    let out = send(&mut q, t0 + Duration::from_millis(50)).expect("linger elapsed");
    assert_eq!(out.record_count, 1);

    // A full batch does not wait for linger.
    let mut q = queue(10_000, 200);
    for token in 0..50 {
        append(&mut q, t0, token);
    }
    let out = send(&mut q, t0).expect("full batch sends at once");
    assert!(out.records.len() <= 200 && out.record_count > 1);
}

#[test]
fn flush_ignores_linger() {
    let t0 = Instant::now();
    let mut q = queue(60_000, 16 * 1024);
    append(&mut q, t0, 1);
    assert!(send(&mut q, t0).is_none());
    q.begin_flush();
    assert!(send(&mut q, t0).is_some());
}

#[test]
fn retriable_error_retries_the_same_bytes_after_backoff_before_later_batches() {
    let t0 = Instant::now();
    let mut q = queue(0, 64);
    append(&mut q, t0, 1);
    let first = send(&mut q, t0).unwrap();
    for token in 2..6 {
        append(&mut q, t0, token);
    }
    let after = q.on_response(
        t0,
        first.batch_id,
        broker_error(ErrorCode::NOT_LEADER_OR_FOLLOWER),
    );
    assert!(matches!(
        after,
        AfterResponse::Retrying {
            refresh_metadata: true
        }
    ));
    assert!(send(&mut q, t0 + Duration::from_millis(99)).is_none(), "backoff");
    let retry = send(&mut q, t0 + Duration::from_millis(100)).unwrap();
    assert_eq!(retry.records, first.records, "the same encoded batch");
    assert_eq!(retry.attempt, 1);
    completed(q.on_response(t0, retry.batch_id, ok(0)));
    let next = send(&mut q, t0 + Duration::from_millis(100)).unwrap();
    assert_eq!(values(&next)[0], "value-2", "later batches follow, in order");
}

#[test]
fn retries_stop_at_the_delivery_timeout_with_the_last_error() {
    let t0 = Instant::now();
    let mut q = queue(0, 16 * 1024);
    append(&mut q, t0, 1);
    let mut now = t0;
    let mut attempts = 0;
    loop {
        let Some(out) = send(&mut q, now) else {
            now = q.next_wakeup().expect("waiting on backoff");
            continue;
        };
        attempts += 1;
        now += Duration::from_millis(150);
        match q.on_response(now, out.batch_id, broker_error(ErrorCode::NOT_ENOUGH_REPLICAS)) {
            AfterResponse::Retrying { .. } => {}
            AfterResponse::Completed {
                completions, error, ..
            } => {
                let error = error.unwrap();
                assert!(
                    matches!(error, ProducerError::Broker { code, .. } if code == ErrorCode::NOT_ENOUGH_REPLICAS)
                );
                assert!(completions[0].1.is_err());
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(now - t0 <= Duration::from_millis(1_150));
    assert!(
        attempts >= 4,
        "retried within request_timeout ({attempts} attempts)"
    );
}

#[test]
fn non_retriable_error_fails_the_whole_batch_at_once() {
    let t0 = Instant::now();
    let mut q = queue(0, 16 * 1024);
    append(&mut q, t0, 1);
    let out = send(&mut q, t0).unwrap();
    let done = completed(q.on_response(t0, out.batch_id, broker_error(ErrorCode::INVALID_RECORD)));
    assert!(
        matches!(done[0].1, Err(ProducerError::Broker { code, .. }) if code == ErrorCode::INVALID_RECORD)
    );
    assert!(q.is_empty());
}

#[test]
fn queued_batches_expire_in_order_but_in_flight_ones_wait_for_their_answer() {
    let t0 = Instant::now();
    let mut q = queue(0, 64);
    append(&mut q, t0, 1);
    let out = send(&mut q, t0).unwrap();
    append(&mut q, t0 + Duration::from_millis(10), 2);
    let (expired, released) = q.expire(t0 + Duration::from_millis(1_010));
    assert_eq!(expired.len(), 1, "only the queued record expires");
    assert_eq!(expired[0].0, 2);
    assert!(matches!(expired[0].1, Err(ProducerError::BatchExpired { .. })));
    assert_eq!(released, 10);
    assert!(q.has_in_flight());
    completed(q.on_response(t0, out.batch_id, ok(0)));
}

#[test]
fn idempotent_queues_never_expire() {
    let t0 = Instant::now();
    let mut cfg = config(0, 64);
    cfg.idempotent = true;
    let mut q = PartitionQueue::new(Arc::from("t"), 0, cfg);
    append(&mut q, t0, 1);
    assert!(q.expire(t0 + Duration::from_secs(3600)).0.is_empty());
}

#[test]
fn log_append_time_replaces_the_record_timestamp() {
    let t0 = Instant::now();
    let mut q = queue(0, 16 * 1024);
    append(&mut q, t0, 7);
    let out = send(&mut q, t0).unwrap();
    let outcome = SendOutcome::Appended {
        base_offset: 5,
        log_append_time_ms: 99_999,
        log_start_offset: 2,
    };
    let done = completed(q.on_response(t0, out.batch_id, outcome));
    let meta = done[0].1.as_ref().unwrap();
    assert_eq!(
        (
            meta.offset,
            meta.timestamp,
            meta.timestamp_type,
            meta.log_start_offset
        ),
        (5, 99_999, crate::record::TimestampType::LogAppendTime, 2)
    );
}

#[test]
fn stale_responses_are_ignored() {
    let t0 = Instant::now();
    let mut q = queue(0, 16 * 1024);
    append(&mut q, t0, 1);
    let out = send(&mut q, t0).unwrap();
    assert!(matches!(
        q.on_response(t0, out.batch_id + 1, ok(0)),
        AfterResponse::Unknown
    ));
    completed(q.on_response(t0, out.batch_id, ok(0)));
    assert!(matches!(
        q.on_response(t0, out.batch_id, ok(0)),
        AfterResponse::Unknown
    ));
}

fn idempotent_queue(identity: ProducerIdentity) -> PartitionQueue<u32> {
    let mut cfg = config(0, 16 * 1024);
    cfg.idempotent = true;
    let mut q = PartitionQueue::new(Arc::from("t"), 0, cfg);
    q.set_identity(identity);
    q
}

fn sequence(out: &Outgoing) -> (i64, i16, i32) {
    let b = &read_batches(&out.records, 1 << 20).unwrap()[0];
    (b.producer_id, b.producer_epoch, b.base_sequence)
}

const ID: ProducerIdentity = ProducerIdentity {
    producer_id: 7,
    producer_epoch: 1,
};

#[test]
fn sequences_are_assigned_at_first_send_and_kept_on_retry() {
    let t0 = Instant::now();
    let mut q = idempotent_queue(ID);
    append(&mut q, t0, 1);
    append(&mut q, t0, 2);
    let first = send(&mut q, t0).unwrap();
    assert_eq!(sequence(&first), (7, 1, 0));
    append(&mut q, t0, 3);
    let timeout = ProducerError::RequestTimedOut {
        broker: BrokerId(1),
        timeout_ms: 1,
    };
    q.on_response(t0, first.batch_id, SendOutcome::Failed(timeout));
    let retry = send(&mut q, t0 + Duration::from_millis(100)).unwrap();
    assert_eq!(retry.records, first.records, "same bytes, same sequence");
    completed(q.on_response(t0, retry.batch_id, ok(0)));
    let second = send(&mut q, t0 + Duration::from_millis(100)).unwrap();
    assert_eq!(
        sequence(&second),
        (7, 1, 2),
        "continues after the first batch's two records"
    );
}

#[test]
fn idempotent_retries_have_no_deadline() {
    let t0 = Instant::now();
    let mut q = idempotent_queue(ID);
    append(&mut q, t0, 1);
    let mut now = t0;
    for _ in 0..50 {
        let out = send(&mut q, now).unwrap();
        let after = q.on_response(now, out.batch_id, broker_error(ErrorCode::NOT_ENOUGH_REPLICAS));
        assert!(matches!(after, AfterResponse::Retrying { .. }));
        now += Duration::from_secs(10);
    }
    assert!(q.expire(now).0.is_empty());
}

#[test]
fn a_duplicate_sequence_is_a_success_without_offset() {
    let t0 = Instant::now();
    let mut q = idempotent_queue(ID);
    append(&mut q, t0, 1);
    let out = send(&mut q, t0).unwrap();
    let done = completed(q.on_response(
        t0,
        out.batch_id,
        broker_error(ErrorCode::DUPLICATE_SEQUENCE_NUMBER),
    ));
    assert_eq!(done[0].1.as_ref().unwrap().offset, -1);
}

#[test]
fn sequence_errors_ask_for_an_epoch_bump_then_resend_from_sequence_zero() {
    let t0 = Instant::now();
    let mut q = idempotent_queue(ID);
    append(&mut q, t0, 1);
    let first = send(&mut q, t0).unwrap();
    completed(q.on_response(t0, first.batch_id, ok(0)));
    append(&mut q, t0, 2);
    append(&mut q, t0, 3);
    let second = send(&mut q, t0).unwrap();
    assert_eq!(sequence(&second), (7, 1, 1));
    append(&mut q, t0, 4);
    let after = q.on_response(t0, second.batch_id, broker_error(ErrorCode::UNKNOWN_PRODUCER_ID));
    assert!(matches!(after, AfterResponse::BumpEpoch { from } if from == ID));
    let bumped = ProducerIdentity {
        producer_id: 7,
        producer_epoch: 2,
    };
    q.set_identity(bumped);
    let retry = send(&mut q, t0).unwrap();
    assert_eq!(sequence(&retry), (7, 2, 0), "restamped under the new epoch");
    assert_eq!(values(&retry), ["value-2", "value-3"]);
    completed(q.on_response(t0, retry.batch_id, ok(1)));
    let next = send(&mut q, t0).unwrap();
    assert_eq!(sequence(&next), (7, 2, 2));
}

#[test]
fn a_batch_of_an_older_epoch_is_renumbered_when_it_returns() {
    let t0 = Instant::now();
    let mut q = idempotent_queue(ID);
    append(&mut q, t0, 1);
    let out = send(&mut q, t0).unwrap();
    let bumped = ProducerIdentity {
        producer_id: 7,
        producer_epoch: 2,
    };
    q.set_identity(bumped); // another partition caused a bump meanwhile
    let after = q.on_response(t0, out.batch_id, broker_error(ErrorCode::INVALID_PRODUCER_EPOCH));
    assert!(matches!(after, AfterResponse::Retrying { .. }));
    let retry = send(&mut q, t0).unwrap();
    assert_eq!(sequence(&retry), (7, 2, 0));
}

#[test]
fn an_idempotent_queue_waits_for_its_identity() {
    let t0 = Instant::now();
    let mut cfg = config(0, 16 * 1024);
    cfg.idempotent = true;
    let mut q: PartitionQueue<u32> = PartitionQueue::new(Arc::from("t"), 0, cfg);
    append(&mut q, t0, 1);
    assert!(send(&mut q, t0).is_none());
    q.set_identity(ID);
    assert_eq!(sequence(&send(&mut q, t0).unwrap()), (7, 1, 0));
}

#[test]
fn buffer_pool_is_fifo_and_bounded() {
    let t0 = Instant::now();
    let mut pool = BufferPool::new(100);
    assert!(pool.try_reserve(60));
    assert!(!pool.try_reserve(50));
    pool.wait(50, t0 + Duration::from_millis(10), "a");
    pool.wait(10, t0 + Duration::from_millis(20), "b");
    assert!(!pool.try_reserve(10), "no jumping the queue");
    assert_eq!(pool.release(20), vec!["a", "b"], "40 + 50 + 10 fit");
    assert_eq!(pool.used(), 100);

    let mut pool = BufferPool::new(100);
    assert!(pool.try_reserve(100));
    pool.wait(80, t0 + Duration::from_millis(10), "big");
    pool.wait(5, t0 + Duration::from_millis(50), "small");
    assert_eq!(pool.next_deadline(), Some(t0 + Duration::from_millis(10)));
    let (expired, ready) = pool.expire(t0 + Duration::from_millis(10));
    assert_eq!(expired, vec!["big"]);
    assert!(ready.is_empty());
    assert_eq!(pool.release(50), vec!["small"]);
}

#[test]
fn message_too_large_splits_the_batch_and_keeps_order() {
    let t0 = Instant::now();
    let mut q = queue(0, 16 * 1024);
    append(&mut q, t0, 0);
    let first = send(&mut q, t0).unwrap();
    for token in 1..=10 {
        append(&mut q, t0, token);
    }
    completed(q.on_response(t0, first.batch_id, ok(0)));
    let big = send(&mut q, t0).unwrap();
    assert_eq!(big.record_count, 10);
    let after = q.on_response(t0, big.batch_id, broker_error(ErrorCode::MESSAGE_TOO_LARGE));
    assert!(matches!(after, AfterResponse::Retrying { .. }));
    let a = send(&mut q, t0).expect("first half goes at once");
    assert_eq!(
        values(&a),
        (1..=5).map(|i| format!("value-{i}")).collect::<Vec<_>>()
    );
    let done = completed(q.on_response(t0, a.batch_id, ok(1)));
    assert_eq!(done.iter().map(|(t, _)| *t).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    let b = send(&mut q, t0).unwrap();
    assert_eq!(
        values(&b),
        (6..=10).map(|i| format!("value-{i}")).collect::<Vec<_>>()
    );
    let done = completed(q.on_response(t0, b.batch_id, ok(6)));
    assert_eq!(done[0].1.as_ref().unwrap().offset, 6);
    assert!(q.is_empty());

    // A single record that is too large fails for good.
    append(&mut q, t0, 99);
    let single = send(&mut q, t0).unwrap();
    let done = completed(q.on_response(t0, single.batch_id, broker_error(ErrorCode::MESSAGE_TOO_LARGE)));
    assert!(done[0].1.is_err());
}

#[test]
fn a_batch_refused_for_good_gives_its_sequences_to_the_next() {
    let t0 = Instant::now();
    let mut q = idempotent_queue(ID);
    append(&mut q, t0, 1);
    let first = send(&mut q, t0).unwrap();
    completed(q.on_response(t0, first.batch_id, ok(0)));
    append(&mut q, t0, 2);
    let refused = send(&mut q, t0).unwrap();
    assert_eq!(sequence(&refused), (7, 1, 1));
    let done = completed(q.on_response(t0, refused.batch_id, broker_error(ErrorCode::INVALID_RECORD)));
    assert!(done[0].1.is_err());
    append(&mut q, t0, 3);
    assert_eq!(sequence(&send(&mut q, t0).unwrap()), (7, 1, 1), "no gap");
}

#[test]
fn abandon_fails_the_in_flight_batch_as_unknown_and_the_rest_as_not_sent() {
    let t0 = Instant::now();
    let mut q = queue(0, 64);
    append(&mut q, t0, 1);
    let first = send(&mut q, t0).unwrap();
    append(&mut q, t0, 2);
    append(&mut q, t0, 3);
    let unknown = ProducerError::Disconnected {
        broker: BrokerId(1),
        cause: Disconnect::ProducerStopped,
    };
    let (done, released) = q.abandon(&unknown, &ProducerError::Cancelled);
    let results: Vec<(u32, Result<_, ProducerError>)> = done
        .into_iter()
        .map(|(token, r)| (token, r.map(|m| m.offset)))
        .collect();
    assert_eq!(
        results,
        [
            (1, Err(unknown)),
            (2, Err(ProducerError::Cancelled)),
            (3, Err(ProducerError::Cancelled))
        ]
    );
    assert_eq!(released, 30, "every reservation comes back");
    assert!(q.is_empty());
    assert!(
        matches!(q.on_response(t0, first.batch_id, ok(0)), AfterResponse::Unknown),
        "a late answer for the abandoned batch changes nothing"
    );
}

#[test]
fn a_base_offset_at_the_end_of_i64_gives_unknown_offsets_not_an_overflow() {
    let t0 = Instant::now();
    let mut q = queue(0, 16 * 1024);
    append(&mut q, t0, 1);
    let first = send(&mut q, t0).expect("linger 0");
    append(&mut q, t0, 2);
    append(&mut q, t0, 3);
    completed(q.on_response(t0, first.batch_id, ok(0)));
    let out = send(&mut q, t0).expect("the next batch");
    let done = completed(q.on_response(t0, out.batch_id, ok(i64::MAX)));
    let offsets: Vec<i64> = done.iter().map(|(_, r)| r.as_ref().unwrap().offset).collect();
    assert_eq!(
        offsets,
        [i64::MAX, -1],
        "the second record's offset would not exist"
    );
}
