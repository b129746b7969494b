//! The partition rules on simulated time: registration, leader lookups,
//! flush markers, and what each answer does to the records.

use std::time::{Duration, Instant};

use kafka_wire::compression::Compression;
use kafka_wire::ErrorCode;

use super::*;
use crate::accumulator::QueueConfig;

/// The leader handle in these tests is just a name.
type State = PartitionState<u32, &'static str, &'static str>;
type Event = PartitionEvent<u32, &'static str, &'static str>;

const BACKOFF: Duration = Duration::from_millis(100);

fn state(transactional: bool, linger_ms: u64) -> State {
    let queue = PartitionQueue::new(
        Arc::from("t"),
        2,
        QueueConfig {
            max_batch_size: 16 * 1024,
            linger: Duration::from_millis(linger_ms),
            retry_backoff: BACKOFF,
            delivery_timeout: Duration::from_millis(1_000),
            compression: Compression::None,
            idempotent: transactional,
            transactional,
        },
    );
    let mut state = PartitionState::new(
        queue,
        PartitionSettings {
            acks: -1,
            request_timeout_ms: 30_000,
            retry_backoff: BACKOFF,
            transactional_id: transactional.then(|| "txn".to_string()),
        },
    );
    if transactional {
        state.handle_identity(
            Instant::now(),
            ProducerIdentity {
                producer_id: 9,
                producer_epoch: 0,
            },
        );
    }
    state
}

fn record(ticket: u32) -> RecordToAppend<u32> {
    RecordToAppend {
        record: ProducerRecord::new("t", format!("value-{ticket}")),
        timestamp: 1_000,
        reserved: 10,
        ticket,
    }
}

fn events(state: &mut State) -> Vec<Event> {
    std::iter::from_fn(|| state.poll_event()).collect()
}

fn ok(base_offset: i64) -> Result<PartitionResult, ConnectionError> {
    Ok(PartitionResult {
        base_offset,
        ..PartitionResult::no_ack()
    })
}

fn broker_error(code: ErrorCode) -> Result<PartitionResult, ConnectionError> {
    Ok(PartitionResult {
        error_code: code,
        ..PartitionResult::no_ack()
    })
}

/// The one `Send` among `events`: its batch id.
fn sent(events: &[Event]) -> u64 {
    let ids: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            PartitionEvent::Send { batch_id, .. } => Some(*batch_id),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 1, "expected one send in {events:?}");
    ids[0]
}

fn delivered(events: Vec<Event>) -> Delivered<u32> {
    let mut all: Vec<Delivered<u32>> = events
        .into_iter()
        .filter_map(|e| match e {
            PartitionEvent::Delivered(d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(all.len(), 1, "expected one delivery");
    all.remove(0)
}

/// Appends a record and answers the leader lookup, returning the send's id.
fn append_and_send(state: &mut State, now: Instant, ticket: u32) -> u64 {
    state.handle_records(now, [record(ticket)]);
    let first = events(state);
    if matches!(first[..], [PartitionEvent::LookupLeader { .. }]) {
        state.handle_leader(now, Ok((1, "leader-1")));
        return sent(&events(state));
    }
    sent(&first)
}

#[test]
fn a_record_waits_for_its_leader_then_goes_to_it_with_the_producer_settings() {
    let t0 = Instant::now();
    let mut s = state(false, 0);
    s.handle_records(t0, [record(1)]);
    assert!(matches!(
        events(&mut s)[..],
        [PartitionEvent::LookupLeader { refresh: false }]
    ));
    s.handle_records(t0, [record(2)]);
    assert!(events(&mut s).is_empty(), "one lookup at a time");

    s.handle_leader(t0, Ok((4, "leader-4")));
    let sends = events(&mut s);
    match &sends[..] {
        [PartitionEvent::Send {
            batch,
            leader,
            node_id,
            ..
        }] => {
            assert_eq!((batch.topic.as_str(), batch.partition), ("t", 2));
            assert_eq!((batch.acks, batch.timeout_ms), (-1, 30_000));
            assert_eq!((*leader, *node_id), ("leader-4", 4));
            assert_eq!(batch.transactional_id, None);
            assert_eq!(batch.versions, None);
        }
        other => panic!("expected one send, got {other:?}"),
    }
    s.handle_produced(t0, sent(&sends), ok(40));
    let done = delivered(events(&mut s));
    assert_eq!(done.base_offset, 40);
    assert_eq!(done.released, 20);
    assert_eq!(
        done.completions.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(done.completions[1].1.as_ref().unwrap().offset, 41);
}

#[test]
fn a_failed_lookup_is_retried_with_a_refresh_after_the_backoff_and_not_before() {
    let t0 = Instant::now();
    let mut s = state(false, 0);
    s.handle_records(t0, [record(1)]);
    events(&mut s);
    s.handle_leader(t0, Err(ProducerError::MetadataTimeout { waited_ms: 1 }));
    assert!(events(&mut s).is_empty());
    assert_eq!(
        s.poll_deadline(),
        Some(t0 + BACKOFF),
        "linger 0 has passed, but nothing can be sent before the lookup"
    );

    s.handle_records(t0 + BACKOFF / 2, [record(2)]);
    assert!(
        events(&mut s).is_empty(),
        "a new record does not cut the backoff short"
    );
    s.handle_timeout(t0 + BACKOFF);
    assert!(matches!(
        events(&mut s)[..],
        [PartitionEvent::LookupLeader { refresh: true }]
    ));
}

#[test]
fn a_stale_leader_error_looks_the_leader_up_again_with_a_refresh() {
    let t0 = Instant::now();
    let mut s = state(false, 0);
    let id = append_and_send(&mut s, t0, 1);
    s.handle_produced(t0, id, broker_error(ErrorCode::NOT_LEADER_OR_FOLLOWER));
    assert!(matches!(
        events(&mut s)[..],
        [PartitionEvent::LookupLeader { refresh: true }]
    ));
    assert_eq!(s.leader_id(), None);
    s.handle_leader(t0, Ok((2, "leader-2")));
    assert!(events(&mut s).is_empty(), "the retry waits for its backoff");
    s.handle_timeout(t0 + BACKOFF);
    match &events(&mut s)[..] {
        [PartitionEvent::Send { node_id: 2, .. }] => {}
        other => panic!("expected the retry to the new leader, got {other:?}"),
    }
}

#[test]
fn a_transactional_batch_is_registered_first_and_again_after_each_completion() {
    let t0 = Instant::now();
    let mut s = state(true, 0);
    s.handle_records(t0, [record(1)]);
    assert!(matches!(events(&mut s)[..], [PartitionEvent::Register]));
    s.handle_records(t0, [record(2)]);
    assert!(events(&mut s).is_empty(), "one registration at a time");

    let v = VersionRange { min: 3, max: 11 };
    s.handle_registered(t0, Ok(Some(v)));
    assert!(matches!(
        events(&mut s)[..],
        [PartitionEvent::LookupLeader { .. }]
    ));
    s.handle_leader(t0, Ok((1, "leader-1")));
    let sends = events(&mut s);
    match &sends[..] {
        [PartitionEvent::Send { batch, .. }] => {
            assert_eq!(batch.transactional_id.as_deref(), Some("txn"));
            assert_eq!(batch.versions, Some(v), "sent within the transaction's versions");
        }
        other => panic!("expected one send, got {other:?}"),
    }
    s.handle_produced(t0, sent(&sends), ok(0));
    delivered(events(&mut s));

    s.handle_records(t0, [record(3)]);
    assert!(
        matches!(events(&mut s)[..], [PartitionEvent::Register]),
        "a new transaction may have begun"
    );
}

#[test]
fn a_refused_registration_fails_the_queued_records_and_the_transaction() {
    let t0 = Instant::now();
    let mut s = state(true, 0);
    s.handle_records(t0, [record(1), record(2)]);
    events(&mut s);
    s.handle_registered(t0, Err(ProducerError::MetadataTimeout { waited_ms: 60_000 }));
    let all = events(&mut s);
    assert!(
        matches!(
            &all[0],
            PartitionEvent::FailTransaction(ProducerError::TransactionAborted)
        ),
        "the coordinator hears first, got {all:?}"
    );
    let done = delivered(all);
    assert_eq!(done.completions.len(), 2);
    assert!(matches!(done.error, Some(ProducerError::TransactionAborted)));
    assert_eq!(done.released, 20);

    s.handle_records(t0, [record(3)]);
    events(&mut s);
    s.handle_registered(
        t0,
        Err(ProducerError::Broker {
            code: ErrorCode::PRODUCER_FENCED,
            message: None,
        }),
    );
    let done = delivered(events(&mut s));
    assert!(
        done.error.as_ref().unwrap().is_fatal(),
        "fencing is passed on as it is"
    );
}

#[test]
fn a_flush_is_answered_once_every_record_before_it_completed() {
    let t0 = Instant::now();
    let mut s = state(false, 5_000);
    s.handle_flush(t0, "empty");
    assert!(matches!(events(&mut s)[..], [PartitionEvent::Flushed("empty")]));

    s.handle_records(t0, [record(1)]);
    assert!(matches!(
        events(&mut s)[..],
        [PartitionEvent::LookupLeader { .. }]
    ));
    s.handle_leader(t0, Ok((1, "leader-1")));
    assert!(events(&mut s).is_empty(), "lingering");
    s.handle_flush(t0, "first");
    let id = sent(&events(&mut s));
    s.handle_records(t0, [record(2)]);
    s.handle_flush(t0, "second");
    assert!(events(&mut s).is_empty());

    s.handle_produced(t0, id, ok(0));
    let all = events(&mut s);
    let flushed: Vec<_> = all
        .iter()
        .filter_map(|e| match e {
            PartitionEvent::Flushed(w) => Some(*w),
            _ => None,
        })
        .collect();
    assert_eq!(flushed, ["first"], "the second flush also waits for record 2");
    let id = sent(&all);
    s.handle_produced(t0, id, ok(1));
    assert!(matches!(
        events(&mut s)[..],
        [PartitionEvent::Delivered(_), PartitionEvent::Flushed("second")]
    ));
}

#[test]
fn an_expired_batch_reports_how_long_it_waited() {
    let t0 = Instant::now();
    let mut s = state(false, 0);
    let id = append_and_send(&mut s, t0, 1);
    // Past the batch's delivery timeout (1 s), so not retried.
    let later = t0 + Duration::from_millis(1_200);
    s.handle_produced(later, id, Err(ConnectionError::Expired { node_id: 1 }));
    let done = delivered(events(&mut s));
    assert!(
        matches!(done.error, Some(ProducerError::BatchExpired { waited_ms: 1_200 })),
        "got {:?}",
        done.error
    );
}

#[test]
fn a_vanished_connection_leaves_the_outcome_unknown() {
    let t0 = Instant::now();
    let mut s = state(false, 0);
    let id = append_and_send(&mut s, t0, 1);
    s.handle_connection_lost(t0, id, 1);
    // Disconnected is retriable and may mean a new leader: the batch goes
    // back, the leader is looked up again, and the same batch is re-sent.
    assert!(matches!(
        events(&mut s)[..],
        [PartitionEvent::LookupLeader { refresh: true }]
    ));
    s.handle_leader(t0, Ok((1, "leader-1")));
    assert!(events(&mut s).is_empty());
    s.handle_timeout(t0 + BACKOFF);
    assert_eq!(sent(&events(&mut s)), id, "the same batch is retried");
}

#[test]
fn abandon_fails_the_batch_in_flight_as_unknown_and_the_rest_as_cancelled() {
    let t0 = Instant::now();
    let mut s = state(false, 0);
    append_and_send(&mut s, t0, 1);
    s.handle_records(t0, [record(2)]);
    s.abandon();
    let done = delivered(events(&mut s));
    assert!(matches!(
        done.completions[0].1,
        Err(ProducerError::Disconnected {
            broker: crate::error::BrokerId(1),
            ..
        })
    ));
    assert!(matches!(done.completions[1].1, Err(ProducerError::Cancelled)));
    assert_eq!(done.released, 20);
}

#[test]
fn a_sequence_error_asks_for_an_epoch_bump_and_the_new_identity_resumes() {
    let t0 = Instant::now();
    let id9 = ProducerIdentity {
        producer_id: 9,
        producer_epoch: 0,
    };
    let queue = PartitionQueue::new(
        Arc::from("t"),
        2,
        QueueConfig {
            max_batch_size: 16 * 1024,
            linger: Duration::ZERO,
            retry_backoff: BACKOFF,
            delivery_timeout: Duration::from_millis(1_000),
            compression: Compression::None,
            idempotent: true,
            transactional: false,
        },
    );
    let settings = PartitionSettings {
        acks: -1,
        request_timeout_ms: 30_000,
        retry_backoff: BACKOFF,
        transactional_id: None,
    };
    let mut s: State = PartitionState::new(queue, settings);
    s.handle_identity(t0, id9);
    let id = append_and_send(&mut s, t0, 1);
    s.handle_produced(t0, id, broker_error(ErrorCode::UNKNOWN_PRODUCER_ID));
    assert!(matches!(events(&mut s)[..], [PartitionEvent::BumpEpoch { from }] if from == id9));
    s.handle_timeout(t0 + BACKOFF);
    assert!(events(&mut s).is_empty(), "waits for the new epoch");
    s.handle_identity(
        t0 + BACKOFF,
        ProducerIdentity {
            producer_id: 9,
            producer_epoch: 1,
        },
    );
    assert_eq!(sent(&events(&mut s)), id);
}
