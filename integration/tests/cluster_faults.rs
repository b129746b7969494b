//! The fault run of the exactly-once milestone for the idempotent producer, in
//! the style of Kafka's own system tests: an idempotent producer writes
//! records with unique ids to a 6-partition, RF=3, `min.insync.replicas=2`
//! topic of the 3-node cluster while another thread SIGKILLs partition
//! leaders and restarts them. Everything is then read back with Kafka's
//! console consumer and checked by the shared checker
//! (`actix_kafka_integration::checker`): no acknowledged record lost, no
//! record written twice, every partition in send order, every ack at its
//! offset, no "not written" failure in the log.
//!
//! Sizes come from the environment: `FAULT_RECORDS` (30000) and `FAULT_KILLS`
//! (2) for CI; `just fault-run` does the full run (200000 records, 5 kills).
//! Also `FAULT_DOWN_SECS` (3, how long a killed node stays down),
//! `FAULT_CHUNK` (1000 records per `send_all`), `FAULT_OUTSTANDING` (10
//! chunks awaiting delivery at most) and `FAULT_TIMEOUT_SECS` (300, after
//! which a producer that has not delivered everything fails the test).
//!
//! Needs the cluster: `scripts/kafka.sh cluster-up`. Whatever happens, every
//! cluster node runs again when the test ends.

mod common;

use common::cluster::{
    env_or, first_few, kill_in_segments, restore_nodes, wait_full_isr, FaultThread, NodeFault, Plan,
};

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_kafka::error::DataOutcome;
use actix_kafka::{DeliveryFuture, Producer, ProducerConfig, ProducerError, ProducerRecord};
use actix_kafka_integration::checker::{check, History, Outcome, Read};
use actix_kafka_integration::{cluster_bootstrap, kafka_sh, unique_topic};

const PARTITIONS: u64 = 6;

struct Settings {
    records: u64,
    kills: u64,
    down: Duration,
    chunk: u64,
    outstanding: usize,
    timeout: Duration,
}

impl Settings {
    fn from_env() -> Settings {
        let settings = Settings {
            records: env_or("FAULT_RECORDS", 30_000),
            kills: env_or("FAULT_KILLS", 2),
            down: Duration::from_secs(env_or("FAULT_DOWN_SECS", 3)),
            chunk: env_or("FAULT_CHUNK", 1_000),
            outstanding: env_or("FAULT_OUTSTANDING", 10),
            timeout: Duration::from_secs(env_or("FAULT_TIMEOUT_SECS", 300)),
        };
        assert!(settings.records > 0 && settings.chunk > 0 && settings.outstanding > 0);
        settings
    }
}

fn record(topic: &str, id: u64) -> ProducerRecord {
    ProducerRecord::new(topic.to_string(), (id / PARTITIONS).to_string())
        .key(id.to_string())
        .partition((id % PARTITIONS) as i32)
}

/// Produces every id, in chunks, within the allowance of the fault schedule;
/// returns each id's outcome and the errors seen (by message).
async fn produce(
    producer: &Producer,
    topic: &str,
    settings: &Settings,
    guard: &FaultThread,
    started: Instant,
) -> (Vec<Outcome>, BTreeMap<String, u64>) {
    let deadline = tokio::time::Instant::from_std(started + settings.timeout);
    let n = settings.records;
    let mut outcomes = vec![Outcome::NotSent; n as usize];
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut pending: VecDeque<(u64, Vec<Result<DeliveryFuture, ProducerError>>)> = VecDeque::new();
    let mut next = 0u64;
    let stalled = |outcomes: &[Outcome], pending: usize, what: &str| -> ! {
        let acked = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Acked { .. }))
            .count();
        let first_unacked = outcomes.iter().position(|o| !matches!(o, Outcome::Acked { .. }));
        panic!(
            "the producer stalled: {what} did not complete within FAULT_TIMEOUT_SECS={}s; \
             {acked} of {n} records acked, {pending} chunks outstanding, first unacked id {first_unacked:?}",
            settings.timeout.as_secs()
        )
    };
    while next < n || !pending.is_empty() {
        let allowed = if guard.done() {
            n
        } else {
            guard.schedule.allowed.load(Ordering::SeqCst)
        };
        if next < allowed && pending.len() < settings.outstanding {
            let end = (next + settings.chunk).min(allowed);
            let records = (next..end).map(|id| record(topic, id)).collect();
            let results = match tokio::time::timeout_at(deadline, producer.send_all(records)).await {
                Ok(results) => results,
                Err(_) => stalled(&outcomes, pending.len(), "send_all"),
            };
            assert_eq!(results.len() as u64, end - next);
            pending.push_back((next, results));
            next = end;
            guard.schedule.progress.store(next, Ordering::SeqCst);
            continue;
        }
        let Some((first, results)) = pending.pop_front() else {
            // Waiting for the fault thread to open the next segment.
            if tokio::time::Instant::now() >= deadline {
                stalled(&outcomes, 0, "the fault schedule");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        for (id, result) in (first..).zip(results) {
            outcomes[id as usize] = match result {
                Err(e) => {
                    *errors.entry(format!("enqueue: {e}")).or_default() += 1;
                    Outcome::NotEnqueued
                }
                Ok(delivery) => match tokio::time::timeout_at(deadline, delivery).await {
                    Err(_) => stalled(&outcomes, pending.len() + 1, &format!("the delivery of id {id}")),
                    Ok(Ok(metadata)) => Outcome::Acked {
                        partition: metadata.partition,
                        offset: metadata.offset,
                    },
                    Ok(Err(e)) => {
                        *errors.entry(format!("delivery: {e}")).or_default() += 1;
                        match e.outcome() {
                            DataOutcome::NotWritten => Outcome::FailedNotWritten,
                            _ => Outcome::FailedUnknown,
                        }
                    }
                },
            };
        }
    }
    if tokio::time::timeout_at(deadline, producer.stop()).await.is_err() {
        stalled(&outcomes, 0, "Producer::stop");
    }
    (outcomes, errors)
}

/// The reader's records as the checker's [`Read`]s, and those that do not
/// fit the run's scheme (key = id, partition = id % 6, value = id / 6).
fn reads(outcomes: &[Outcome], consumed: &[common::Consumed]) -> (Vec<Read>, Vec<String>) {
    let mut reads = Vec::with_capacity(consumed.len());
    let mut corrupt = Vec::new();
    for c in consumed {
        match c.key.parse::<u64>() {
            Ok(id) if (id as usize) < outcomes.len() => {
                if c.partition as u64 != id % PARTITIONS || c.value != (id / PARTITIONS).to_string() {
                    corrupt.push(format!("{c:?}"));
                }
                reads.push(Read {
                    id,
                    partition: c.partition,
                    offset: c.offset,
                });
            }
            _ => corrupt.push(format!("{c:?}")),
        }
    }
    (reads, corrupt)
}

#[actix_rt::test]
async fn idempotent_producer_loses_and_duplicates_nothing_while_leaders_are_killed() {
    fault_run(NodeFault::Kill, Settings::from_env()).await;
}

/// A gray failure: the leader is frozen (SIGSTOP) for longer than the
/// cluster's broker session timeout (9 s), so the controller fences it and
/// moves its leaderships while the producer's connections to it stay open
/// and unanswered; then it is thawed. `FREEZE_RECORDS` (10000),
/// `FREEZE_KILLS` (1), `FREEZE_SECS` (12).
#[actix_rt::test]
async fn idempotent_producer_loses_and_duplicates_nothing_while_a_leader_is_frozen() {
    let mut settings = Settings::from_env();
    settings.records = env_or("FREEZE_RECORDS", 10_000);
    settings.kills = env_or("FREEZE_KILLS", 1);
    settings.down = Duration::from_secs(env_or("FREEZE_SECS", 12));
    fault_run(NodeFault::Freeze, settings).await;
}

/// The fault runs share the cluster: one at a time (the tests of a binary run
/// in parallel, and a node one run kills cannot be frozen by the other).
static ONE_RUN_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn fault_run(fault: NodeFault, settings: Settings) {
    let _cluster = ONE_RUN_AT_A_TIME.lock().await;
    let started = Instant::now();
    let bootstrap = cluster_bootstrap();
    // A node left down by an earlier, interrupted run.
    restore_nodes(&bootstrap);

    let topic = unique_topic("fault-run");
    kafka_sh(
        &bootstrap,
        &[
            "topic-create",
            &topic,
            &PARTITIONS.to_string(),
            "3",
            "--config",
            "min.insync.replicas=2",
        ],
    );
    wait_full_isr(&bootstrap, &topic, PARTITIONS, &AtomicBool::new(false));

    let config = ProducerConfig {
        client_id: "cluster-faults".to_string(),
        enable_idempotence: true,
        request_timeout_ms: 10_000,
        retry_backoff_ms: 100,
        linger_ms: 5,
        max_block_ms: 60_000,
        ..ProducerConfig::new(bootstrap.clone())
    };
    let producer = Producer::start(config)
        .await
        .expect("start the idempotent producer");
    let plan = Plan {
        fault,
        records: settings.records,
        kills: settings.kills,
        down: settings.down,
        burst_wait: Duration::from_secs(5),
    };
    let (b, t) = (bootstrap.clone(), topic.clone());
    // Each kill hits the leader of another partition.
    let mut guard = FaultThread::start(&bootstrap, plan, move |schedule| {
        kill_in_segments(&b, (&t, PARTITIONS), plan, &schedule, |kill, leaders| {
            let partition = kill % PARTITIONS;
            (leaders[&partition], format!("leader of partition {partition}"))
        })
    });
    let (outcomes, errors) = produce(&producer, &topic, &settings, &guard, started).await;
    let produced_in = started.elapsed();
    let kill_log = guard.join();
    restore_nodes(&bootstrap);

    // Kafka's own reader: everything the topic holds (no transactions, so
    // the end offsets count records).
    let total = common::record_count(&bootstrap, &topic);
    let consumed = common::consume(&bootstrap, &topic, total as usize, 60_000, &[]);
    let (reads, corrupt) = reads(&outcomes, &consumed);
    let history = History {
        outcomes: outcomes.clone(),
        txn: Vec::new(),
    };
    let verdict = check(&history, &reads, None);

    let acked_as_duplicate = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Acked { offset: -1, .. }))
        .count();
    let not_acked = outcomes.len() - verdict.acked;
    for line in &kill_log {
        println!("fault run: {line}");
    }
    println!(
        "fault run detail: topic={topic} in_topic={total} not_acked={not_acked} errors={errors:?} \
         acked_offset_unknown={acked_as_duplicate} corrupt={} produced_in={:.1}s",
        corrupt.len(),
        produced_in.as_secs_f64()
    );
    println!(
        "fault run: fault={fault:?} faults={} {} elapsed={:.1}s",
        kill_log.len(),
        verdict.line(),
        started.elapsed().as_secs_f64()
    );

    assert_eq!(
        kill_log.len() as u64,
        settings.kills,
        "every planned kill happened"
    );
    assert_eq!(
        verdict.anomalies(),
        0,
        "{}; lost {}, duplicated {}, reordered at {}, offset mismatch {}, definite failure written {}",
        verdict.line(),
        first_few(&verdict.lost),
        first_few(&verdict.duplicated),
        first_few(&verdict.reordered),
        first_few(&verdict.offset_mismatch),
        first_few(&verdict.definite_failure_written),
    );
    assert!(corrupt.is_empty(), "unexpected records: {}", first_few(&corrupt));
    // docs/guarantees.md: an idempotent producer retries retriable errors
    // without a deadline, so under these faults every record is delivered.
    assert!(
        errors.is_empty() && not_acked == 0,
        "{not_acked} records not acked; errors: {errors:?}"
    );
}
