//! The enqueue stage on simulated time: tickets are plain numbers.

use super::*;
use kafka_wire::compression::Compression;

const MS: Duration = Duration::from_millis(1);

fn limits(buffer_memory: usize) -> EnqueueLimits {
    EnqueueLimits {
        max_block: 100 * MS,
        max_request_size: 1 << 20,
        buffer_memory,
        max_batch_size: 16384,
        bookkeeping: 10,
        transactional: false,
    }
}

fn info(name: &str, partitions: i32) -> TopicInfo {
    TopicInfo {
        name: Arc::from(name),
        partition_count: partitions,
        available: (0..partitions).collect::<Vec<_>>().into(),
        leaders: vec![1; partitions as usize].into(),
    }
}

fn record(topic: &str, partition: i32) -> ProducerRecord {
    ProducerRecord::new(topic, vec![0u8; 50]).partition(partition)
}

/// What the stage asked for, summarised: `fetch t`, `hand 7 -> p2`, `refuse 7`.
fn drain(stage: &mut EnqueueStage<u32>) -> Vec<String> {
    std::iter::from_fn(|| stage.poll_event())
        .map(|event| match event {
            EnqueueEvent::FetchTopic { topic, .. } => format!("fetch {topic}"),
            EnqueueEvent::HandOver(h) => format!("hand {} -> p{}", h.ticket, h.partition),
            EnqueueEvent::Refuse { ticket, .. } => format!("refuse {ticket}"),
        })
        .collect()
}

fn known(stage: &mut EnqueueStage<u32>, topic: &str, partitions: i32, t0: Instant) {
    stage.handle_record(record(topic, 0), 0, &mut LazyNow::at(t0));
    stage.handle_topic(
        &Arc::from(topic),
        Ok(info(topic, partitions)),
        &mut LazyNow::at(t0),
    );
    drain(stage);
}

#[test]
fn a_known_topic_hands_over_at_once_without_reading_the_clock() {
    let t0 = Instant::now();
    let mut stage = EnqueueStage::new(limits(1 << 20), 1);
    known(&mut stage, "t", 4, t0);
    let mut now = LazyNow::new(|| panic!("the fast path must not read the clock"));
    stage.handle_record(record("t", 3), 1, &mut now);
    assert_eq!(drain(&mut stage), ["hand 1 -> p3"]);
    assert!(stage.is_drained());
}

#[test]
fn records_of_an_unknown_topic_wait_in_order_and_fetch_once() {
    let t0 = Instant::now();
    let mut stage = EnqueueStage::new(limits(1 << 20), 1);
    for ticket in 1..=3 {
        stage.handle_record(record("t", 0), ticket, &mut LazyNow::at(t0));
    }
    let first = stage.poll_event();
    assert!(matches!(
        first,
        Some(EnqueueEvent::FetchTopic { ref topic, deadline }) if &**topic == "t" && deadline == t0 + 100 * MS
    ));
    assert!(stage.poll_event().is_none());
    assert!(!stage.is_drained());
    stage.handle_topic(&Arc::from("t"), Ok(info("t", 1)), &mut LazyNow::at(t0 + MS));
    assert_eq!(
        drain(&mut stage),
        ["hand 1 -> p0", "hand 2 -> p0", "hand 3 -> p0"]
    );
    assert!(stage.is_drained());
}

#[test]
fn a_known_topic_waits_behind_earlier_records_of_the_same_topic() {
    let t0 = Instant::now();
    let mut stage = EnqueueStage::new(limits(1 << 20), 1);
    known(&mut stage, "known", 1, t0);
    stage.handle_record(record("new", 0), 1, &mut LazyNow::at(t0));
    // Another topic does not wait behind "new".
    stage.handle_record(record("known", 0), 2, &mut LazyNow::at(t0));
    assert_eq!(drain(&mut stage), ["fetch new", "hand 2 -> p0"]);
    stage.handle_topic(&Arc::from("new"), Ok(info("new", 1)), &mut LazyNow::at(t0));
    assert_eq!(drain(&mut stage), ["hand 1 -> p0"]);
}

#[test]
fn a_failed_fetch_refuses_every_waiting_record() {
    let t0 = Instant::now();
    let mut stage = EnqueueStage::new(limits(1 << 20), 1);
    stage.handle_record(record("t", 0), 1, &mut LazyNow::at(t0));
    stage.handle_record(record("t", 0), 2, &mut LazyNow::at(t0));
    drain(&mut stage);
    let error = ProducerError::UnknownTopic {
        topic: "t".into(),
        waited_ms: 100,
    };
    stage.handle_topic(&Arc::from("t"), Err(error), &mut LazyNow::at(t0 + 100 * MS));
    assert_eq!(drain(&mut stage), ["refuse 1", "refuse 2"]);
    assert!(stage.is_drained());
}

#[test]
fn buffer_waiters_go_on_when_space_is_released_in_order() {
    let t0 = Instant::now();
    // Room for one record of 50 value bytes (about 120 bytes reserved).
    let mut stage = EnqueueStage::new(limits(200), 1);
    known(&mut stage, "t", 1, t0);
    stage.handle_release(stage_reserved_for_one());
    stage.handle_record(record("t", 0), 1, &mut LazyNow::at(t0));
    let reserved = match stage.poll_event() {
        Some(EnqueueEvent::HandOver(h)) => h.reserved,
        other => panic!("expected a hand-over, got {other:?}"),
    };
    stage.handle_record(record("t", 0), 2, &mut LazyNow::at(t0));
    stage.handle_record(record("t", 0), 3, &mut LazyNow::at(t0 + MS));
    assert!(drain(&mut stage).is_empty());
    assert_eq!(stage.poll_deadline(), Some(t0 + 100 * MS));
    assert_eq!(stage.poll_deadline(), None, "asked once per new deadline");
    stage.handle_release(reserved);
    assert_eq!(drain(&mut stage), ["hand 2 -> p0"]);
    stage.handle_release(reserved);
    assert_eq!(drain(&mut stage), ["hand 3 -> p0"]);
}

/// The first record `known` used reserved nothing (it waited for metadata
/// and was handed over, reserving its bytes): give them back.
fn stage_reserved_for_one() -> usize {
    estimated_size(&record("t", 0)) + 10
}

#[test]
fn a_buffer_wait_ends_at_max_block_with_buffer_full() {
    let t0 = Instant::now();
    let mut stage = EnqueueStage::new(limits(200), 1);
    known(&mut stage, "t", 1, t0);
    stage.handle_record(record("t", 0), 1, &mut LazyNow::at(t0 + 10 * MS));
    assert_eq!(stage.poll_deadline(), Some(t0 + 110 * MS));
    stage.handle_timeout(t0 + 109 * MS);
    assert!(drain(&mut stage).is_empty(), "not before its deadline");
    assert_eq!(stage.poll_deadline(), Some(t0 + 110 * MS), "still due");
    stage.handle_timeout(t0 + 110 * MS);
    match stage.poll_event() {
        Some(EnqueueEvent::Refuse {
            ticket: 1,
            error: ProducerError::BufferFull { waited_ms: 100, .. },
            dooms_transaction: false,
        }) => {}
        other => panic!("expected BufferFull after 100 ms, got {other:?}"),
    }
    assert!(stage.is_drained());
}

#[test]
fn max_block_counts_the_metadata_wait_too() {
    let t0 = Instant::now();
    let mut stage = EnqueueStage::new(limits(200), 1);
    known(&mut stage, "full", 1, t0); // its record holds most of the buffer
    stage.handle_record(record("t", 0), 1, &mut LazyNow::at(t0));
    drain(&mut stage);
    // The topic arrives after 60 ms and there is no space: the record waits
    // for space only for the 40 ms left of its max_block.
    stage.handle_topic(&Arc::from("t"), Ok(info("t", 1)), &mut LazyNow::at(t0 + 60 * MS));
    assert!(drain(&mut stage).is_empty());
    assert_eq!(stage.poll_deadline(), Some(t0 + 100 * MS));
}

#[test]
fn refusals_inside_a_transaction_doom_it() {
    let t0 = Instant::now();
    let mut stage = EnqueueStage::new(
        EnqueueLimits {
            transactional: true,
            ..limits(1 << 20)
        },
        1,
    );
    stage.handle_record(record("t", 0), 1, &mut LazyNow::at(t0));
    assert!(matches!(
        stage.poll_event(),
        Some(EnqueueEvent::Refuse {
            error: ProducerError::TransactionalMisuse { .. },
            dooms_transaction: false,
            ..
        })
    ));
    stage.gate_mut().begin_transaction();
    known(&mut stage, "t", 2, t0);
    stage.handle_record(record("t", 5), 2, &mut LazyNow::at(t0));
    assert!(matches!(
        stage.poll_event(),
        Some(EnqueueEvent::Refuse {
            ticket: 2,
            error: ProducerError::PartitionOutOfRange { .. },
            dooms_transaction: true,
        })
    ));
    // A record admitted inside the transaction still dooms it when its
    // metadata wait fails after the transaction began to end.
    stage.handle_record(record("other", 0), 3, &mut LazyNow::at(t0));
    drain(&mut stage);
    stage.gate_mut().end_transaction();
    let error = ProducerError::MetadataTimeout { waited_ms: 100 };
    stage.handle_topic(&Arc::from("other"), Err(error), &mut LazyNow::at(t0));
    assert!(matches!(
        stage.poll_event(),
        Some(EnqueueEvent::Refuse {
            ticket: 3,
            dooms_transaction: true,
            ..
        })
    ));
}

#[test]
fn bad_records_are_refused_before_waiting() {
    let t0 = Instant::now();
    let mut stage = EnqueueStage::new(limits(1 << 20), 1);
    stage.handle_record(
        ProducerRecord::new("bad topic!", vec![1u8]),
        1,
        &mut LazyNow::at(t0),
    );
    stage.handle_record(
        ProducerRecord::new("t", vec![0u8; 2 << 20]),
        2,
        &mut LazyNow::at(t0),
    );
    let builder = RecordBatchBuilder::new(Compression::None, 1024);
    stage.handle_batch(builder, "t", 0, 3, &mut LazyNow::at(t0));
    stage.handle_record(
        ProducerRecord::new("t", vec![1u8]).timestamp(-1),
        4,
        &mut LazyNow::at(t0),
    );
    let events: Vec<_> = std::iter::from_fn(|| stage.poll_event()).collect();
    assert!(matches!(
        &events[..],
        [
            EnqueueEvent::Refuse {
                ticket: 1,
                error: ProducerError::InvalidTopic { .. },
                ..
            },
            EnqueueEvent::Refuse {
                ticket: 2,
                error: ProducerError::RecordTooLarge { .. },
                ..
            },
            EnqueueEvent::Refuse {
                ticket: 3,
                error: ProducerError::Encode { .. },
                ..
            },
            EnqueueEvent::Refuse {
                ticket: 4,
                error: ProducerError::InvalidTimestamp { timestamp_ms: -1 },
                ..
            },
        ]
    ));
    assert!(stage.is_drained());
}

#[test]
fn a_closed_stage_refuses_and_abandon_returns_every_waiter() {
    let t0 = Instant::now();
    let mut stage = EnqueueStage::new(limits(200), 1);
    known(&mut stage, "t", 1, t0);
    stage.handle_record(record("t", 0), 1, &mut LazyNow::at(t0)); // waits for space
    stage.handle_record(record("u", 0), 2, &mut LazyNow::at(t0)); // waits for metadata
    drain(&mut stage);
    stage.gate_mut().close();
    stage.handle_record(record("t", 0), 3, &mut LazyNow::at(t0));
    assert!(matches!(
        stage.poll_event(),
        Some(EnqueueEvent::Refuse {
            ticket: 3,
            error: ProducerError::Closed,
            ..
        })
    ));
    let mut abandoned = stage.abandon();
    abandoned.sort();
    assert_eq!(abandoned, [1, 2]);
    assert!(stage.is_drained());
}

#[test]
fn a_partition_count_change_is_adopted() {
    let t0 = Instant::now();
    let mut stage = EnqueueStage::new(limits(1 << 20), 1);
    known(&mut stage, "t", 2, t0);
    stage.handle_record(record("t", 3), 1, &mut LazyNow::at(t0));
    assert_eq!(drain(&mut stage), ["refuse 1"]);
    stage.handle_topics_updated([info("t", 4), info("unknown", 9)]);
    stage.handle_record(record("t", 3), 2, &mut LazyNow::at(t0));
    assert_eq!(drain(&mut stage), ["hand 2 -> p3"]);
}
