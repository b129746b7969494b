//! The transactional fault run, in the shape of Kafka's own
//! `transactions_test`: a copier reads an input topic and writes each record
//! to an output topic in transactions that also commit its input offsets for
//! a consumer group, while another thread SIGKILLs cluster nodes (the
//! transaction coordinator and partition leaders) and restarts them. Some
//! transactions are aborted on purpose and redone. At the end Kafka's console
//! consumer reads the output with `read_committed`: it must hold every input
//! record exactly once, in input order per partition, and the group's
//! committed offsets (Kafka's consumer-groups tool) must be the input's end.
//!
//! actix-kafka is a producer only, so the copier's "consumer" is the input as
//! Kafka's console consumer printed it once at the start (partition, offset,
//! value); what the copier resumes from after a failure is the group's
//! committed offset, read with Kafka's consumer-groups tool — the same
//! information a real consumer in the group would start from.
//!
//! On any failure inside a transaction (a send, the offsets, the commit or
//! the abort), the copier does not guess the outcome: it drops the producer,
//! starts a new one with the same transactional id (which fences the old one
//! and completes or aborts its transaction), reads the committed offsets and
//! resumes from them. Some transactions also "crash" on purpose: the copier
//! stops its producer at once, with the transaction open, and recovers the
//! same way (Kafka's test bounces its copier processes).
//!
//! Sizes come from the environment: `COPIER_RECORDS` (6000), `COPIER_KILLS`
//! (2), `COPIER_TXN_SIZE` (100 records per transaction), `COPIER_ABORT_EVERY`
//! (7: every 7th transaction is aborted on purpose), `COPIER_CRASH_EVERY`
//! (11: every 11th crashes before its commit), `COPIER_DOWN_SECS` (3),
//! `COPIER_TIMEOUT_SECS` (300). `just copier-run` does a bigger run.
//!
//! Needs the cluster: `scripts/kafka.sh cluster-up`. Whatever happens, every
//! cluster node runs again when the test ends.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_kafka::{Producer, ProducerConfig, ProducerError, ProducerRecord};
use actix_kafka_integration::{cluster_bootstrap, kafka_sh, unique_topic};
use common::cluster::{
    env_or, first_few, kill_in_segments, restore_nodes, try_kafka_sh, wait_full_isr, FaultThread, NodeFault,
    Plan,
};

const PARTITIONS: u64 = 3;

struct Settings {
    records: u64,
    kills: u64,
    txn_size: usize,
    abort_every: u64,
    crash_every: u64,
    down: Duration,
    timeout: Duration,
}

impl Settings {
    fn from_env() -> Settings {
        let settings = Settings {
            records: env_or("COPIER_RECORDS", 6_000),
            kills: env_or("COPIER_KILLS", 2),
            txn_size: env_or("COPIER_TXN_SIZE", 100),
            abort_every: env_or("COPIER_ABORT_EVERY", 7),
            crash_every: env_or("COPIER_CRASH_EVERY", 11),
            down: Duration::from_secs(env_or("COPIER_DOWN_SECS", 3)),
            timeout: Duration::from_secs(env_or("COPIER_TIMEOUT_SECS", 300)),
        };
        assert!(settings.records > 0 && settings.txn_size > 0 && settings.abort_every > 1);
        settings
    }
}

/// Creates a 3-partition, RF=3, `min.insync.replicas=2` topic and waits for
/// its replicas.
fn create_replicated_topic(bootstrap: &str, topic: &str) {
    kafka_sh(
        bootstrap,
        &[
            "topic-create",
            topic,
            &PARTITIONS.to_string(),
            "3",
            "--config",
            "min.insync.replicas=2",
        ],
    );
    wait_full_isr(bootstrap, topic, PARTITIONS, &AtomicBool::new(false));
}

/// The node coordinating `transactional_id`, from Kafka's transactions tool.
fn coordinator_of(bootstrap: &str, transactional_id: &str) -> Option<u32> {
    let args = [
        "run-class",
        "org.apache.kafka.tools.TransactionsCommand",
        "--bootstrap-server",
        bootstrap,
        "describe",
        "--transactional-id",
        transactional_id,
    ];
    let out = try_kafka_sh(bootstrap, &args).ok()?;
    // A header line, then `CoordinatorId TransactionalId ...`.
    out.lines().nth(1)?.split_whitespace().next()?.parse().ok()
}

/// The input, as Kafka's console consumer printed it: values by partition,
/// indexed by offset.
fn read_input(bootstrap: &str, topic: &str, records: u64) -> BTreeMap<i32, Vec<String>> {
    let consumed = common::consume(bootstrap, topic, records as usize, 60_000, &[]);
    let mut input: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    for c in consumed {
        let values = input.entry(c.partition).or_default();
        assert_eq!(values.len() as i64, c.offset, "input offsets are dense");
        values.push(c.value);
    }
    input
}

/// How one transaction ends: committed, aborted, or left open by a crash.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ending {
    Commit,
    Abort,
    Crash,
}

/// Copies `values` (input partition `partition` from offset `from`) to the
/// same output partition in one transaction with the input offset, and ends
/// it as `ending` says (a crash leaves it open).
async fn copy_once(
    producer: &Producer,
    (output, input, group): (&str, &str, &str),
    partition: i32,
    (from, values): (usize, &[String]),
    ending: Ending,
) -> Result<Ending, ProducerError> {
    producer.begin_transaction().await?;
    let records = values
        .iter()
        .map(|v| ProducerRecord::new(output, v.clone()).partition(partition))
        .collect();
    let mut deliveries = Vec::new();
    for enqueued in producer.send_all(records).await {
        deliveries.push(enqueued?);
    }
    for delivery in deliveries {
        delivery.await?;
    }
    let next = (from + values.len()) as i64;
    producer
        .send_offsets_to_transaction(vec![(input.to_string(), partition, next)], group)
        .await?;
    match ending {
        Ending::Commit => producer.commit_transaction().await?,
        Ending::Abort => producer.abort_transaction().await?,
        Ending::Crash => {}
    }
    Ok(ending)
}

fn copier_config(bootstrap: &str, transactional_id: &str) -> ProducerConfig {
    ProducerConfig {
        client_id: "txn-copier".to_string(),
        transactional_id: Some(transactional_id.to_string()),
        request_timeout_ms: 10_000,
        retry_backoff_ms: 100,
        max_block_ms: 30_000,
        transaction_timeout_ms: 30_000,
        ..ProducerConfig::new(bootstrap)
    }
}

/// Starts a copier producer, retrying while the cluster recovers.
async fn start_copier(bootstrap: &str, transactional_id: &str, deadline: Instant) -> Producer {
    loop {
        match Producer::start(copier_config(bootstrap, transactional_id)).await {
            Ok(producer) => return producer,
            Err(e) => {
                assert!(Instant::now() < deadline, "cannot start the copier: {e}");
                eprintln!("copier: start failed ({e}); retrying");
                actix_rt::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Where each input partition resumes: the group's committed offsets.
fn resume_points(bootstrap: &str, group: &str, input: &str, deadline: Instant) -> BTreeMap<i32, usize> {
    let committed = common::committed_offsets_by(bootstrap, group, input, deadline);
    (0..PARTITIONS as i32)
        .map(|p| (p, committed.get(&p).map_or(0, |o| *o as usize)))
        .collect()
}

fn out_of_time(deadline: Instant) -> bool {
    Instant::now() >= deadline
}

#[derive(Debug, Default)]
struct Tally {
    committed: u64,
    aborted_on_purpose: u64,
    crashed: u64,
    failed_and_recovered: u64,
    errors: BTreeMap<String, u64>,
}

#[actix_rt::test]
async fn transactional_copier_copies_exactly_once_while_nodes_are_killed() {
    let started = Instant::now();
    let settings = Settings::from_env();
    let deadline = started + settings.timeout;
    let bootstrap = cluster_bootstrap();
    restore_nodes(&bootstrap); // a node left down by an interrupted run

    let input = unique_topic("copier-in");
    let output = unique_topic("copier-out");
    let group = unique_topic("copier-group");
    let transactional_id = unique_topic("copier");
    create_replicated_topic(&bootstrap, &input);
    create_replicated_topic(&bootstrap, &output);
    let lines: Vec<String> = (0..settings.records).map(|i| format!("rec-{i:07}")).collect();
    common::console_produce(&bootstrap, &input, &lines, &[]);
    let source = read_input(&bootstrap, &input, settings.records);

    let mut producer = start_copier(&bootstrap, &transactional_id, deadline).await;
    let plan = Plan {
        fault: NodeFault::Kill,
        records: settings.records,
        kills: settings.kills,
        down: settings.down,
        // Until the copier has committed a transaction of the new segment:
        // it is then in the middle of the next one.
        burst_wait: Duration::from_secs(10),
    };
    let (b, out, id) = (bootstrap.clone(), output.clone(), transactional_id.clone());
    // Even kills hit the transaction coordinator, odd ones an output leader.
    let mut guard = FaultThread::start(&bootstrap, plan, move |schedule| {
        kill_in_segments(&b, (&out, PARTITIONS), plan, &schedule, |kill, leaders| {
            let coordinator = (kill % 2 == 0).then(|| coordinator_of(&b, &id)).flatten();
            match coordinator {
                Some(node) => (node, "transaction coordinator".to_string()),
                None => {
                    let partition = kill % PARTITIONS;
                    (
                        leaders[&partition],
                        format!("leader of output partition {partition}"),
                    )
                }
            }
        })
    });
    let mut position: BTreeMap<i32, usize> = source.keys().map(|p| (*p, 0)).collect();
    let mut tally = Tally::default();
    let mut number = 0u64;
    let topics = (output.as_str(), input.as_str(), group.as_str());
    'copy: loop {
        let mut progressed = false;
        for (&partition, values) in &source {
            let from = position[&partition];
            if from >= values.len() {
                continue;
            }
            progressed = true;
            assert!(
                !out_of_time(deadline),
                "the copier did not finish in time: {tally:?}"
            );
            let schedule = &guard.schedule;
            let held = schedule.progress.load(Ordering::SeqCst) >= schedule.allowed.load(Ordering::SeqCst);
            if held && !guard.done() {
                // Waiting for the fault schedule to release more input.
                actix_rt::time::sleep(Duration::from_millis(20)).await;
                continue 'copy;
            }
            let chunk = &values[from..(from + settings.txn_size).min(values.len())];
            number += 1;
            let ending = if number.checked_rem(settings.abort_every) == Some(0) {
                Ending::Abort
            } else if number.checked_rem(settings.crash_every) == Some(0) {
                Ending::Crash
            } else {
                Ending::Commit
            };
            let attempt = copy_once(&producer, topics, partition, (from, chunk), ending);
            match tokio::time::timeout(Duration::from_secs(120), attempt).await {
                Ok(Ok(Ending::Commit)) => {
                    tally.committed += 1;
                    position.insert(partition, from + chunk.len());
                    guard
                        .schedule
                        .progress
                        .fetch_add(chunk.len() as u64, Ordering::SeqCst);
                }
                Ok(Ok(Ending::Abort)) => tally.aborted_on_purpose += 1,
                outcome => {
                    let error = match outcome {
                        Ok(Ok(_crash)) => None,
                        Ok(Err(e)) => Some(e.to_string()),
                        Err(_) => Some("no outcome within 120 s".to_string()),
                    };
                    match error {
                        None => tally.crashed += 1,
                        Some(error) => {
                            *tally.errors.entry(error).or_default() += 1;
                            tally.failed_and_recovered += 1;
                        }
                    }
                    // The outcome is not guessed: a new instance fences this
                    // one and settles its transaction; the group's offsets
                    // say where to resume.
                    let grace = match ending {
                        Ending::Crash => Duration::ZERO,
                        _ => Duration::from_secs(5),
                    };
                    producer.stop_within(grace).await;
                    producer = start_copier(&bootstrap, &transactional_id, deadline).await;
                    position = resume_points(&bootstrap, &group, &input, deadline);
                    let copied: usize = position.values().sum();
                    guard.schedule.progress.store(copied as u64, Ordering::SeqCst);
                    continue 'copy;
                }
            }
        }
        if !progressed {
            break;
        }
    }
    producer.stop().await;
    let copy_took = started.elapsed();
    let kill_log = guard.join();
    restore_nodes(&bootstrap);

    // Kafka's readers. read_committed: every input value exactly once, in
    // input order per partition (up to one record more is read, so that an
    // extra one would show).
    let committed = read_values(
        &bootstrap,
        &output,
        settings.records as usize + 1,
        "read_committed",
    );
    let mut lost = Vec::new();
    let mut duplicated = Vec::new();
    let mut reordered = Vec::new();
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    for (partition, values) in &source {
        let copied: &[String] = committed.get(partition).map_or(&[], Vec::as_slice);
        if copied != values.as_slice() {
            reordered.push(*partition);
        }
        for v in copied {
            *seen.entry(v.as_str()).or_default() += 1;
        }
    }
    for line in &lines {
        match seen.get(line.as_str()) {
            None => lost.push(line.clone()),
            Some(n) if *n > 1 => duplicated.push(line.clone()),
            Some(_) => {}
        }
    }
    let total_committed: usize = committed.values().map(Vec::len).sum();
    // read_uncommitted also shows what the aborted transactions wrote.
    let uncommitted = read_values(&bootstrap, &output, usize::MAX, "read_uncommitted");
    let total_uncommitted: usize = uncommitted.values().map(Vec::len).sum();
    let offsets = common::committed_offsets(&bootstrap, &group, &input);
    let input_ends: BTreeMap<i32, i64> = source.iter().map(|(p, v)| (*p, v.len() as i64)).collect();

    for line in &kill_log {
        println!("copier run: {line}");
    }
    println!(
        "copier run detail: errors={:?} read_uncommitted={total_uncommitted} copied_in={:.1}s",
        tally.errors,
        copy_took.as_secs_f64()
    );
    println!(
        "copier run: records={} kills={} committed_txns={} aborted_txns={} crashed_txns={} \
         recovered_failures={} read_committed={total_committed} lost={} duplicated={} reordered_partitions={} \
         elapsed={:.1}s",
        settings.records,
        kill_log.len(),
        tally.committed,
        tally.aborted_on_purpose,
        tally.crashed,
        tally.failed_and_recovered,
        lost.len(),
        duplicated.len(),
        reordered.len(),
        started.elapsed().as_secs_f64()
    );

    assert_eq!(
        kill_log.len() as u64,
        settings.kills,
        "every planned kill happened"
    );
    assert!(
        lost.is_empty(),
        "input records missing from the output: {}",
        first_few(&lost)
    );
    assert!(
        duplicated.is_empty(),
        "input records copied more than once: {}",
        first_few(&duplicated)
    );
    assert!(
        reordered.is_empty(),
        "output partitions not equal to their input partition: {reordered:?}"
    );
    assert_eq!(
        total_committed as u64, settings.records,
        "nothing else is visible"
    );
    assert_eq!(offsets, input_ends, "the group resumes at the input's end");
    assert!(tally.aborted_on_purpose > 0, "some transactions were aborted");
    assert!(tally.crashed > 0, "some copiers crashed and were replaced");
    assert!(
        total_uncommitted > total_committed,
        "the aborted transactions' records are in the log, hidden from read_committed"
    );
}

/// Every value of `topic` by partition, in offset order, read with Kafka's
/// console consumer at `isolation` until `max` records or 15 s without one.
fn read_values(bootstrap: &str, topic: &str, max: usize, isolation: &str) -> BTreeMap<i32, Vec<String>> {
    let max = if max == usize::MAX {
        "-1".to_string()
    } else {
        max.to_string()
    };
    let out = kafka_sh(
        bootstrap,
        &[
            "consume",
            topic,
            "--from-beginning",
            "--max-messages",
            &max,
            "--timeout-ms",
            "15000",
            "--isolation-level",
            isolation,
            "--property",
            "print.partition=true",
            "--property",
            "print.offset=true",
        ],
    );
    let mut values: BTreeMap<i32, Vec<(i64, String)>> = BTreeMap::new();
    for line in out.lines() {
        // `Partition:P\tOffset:O\tvalue`
        let mut fields = line.splitn(3, '\t');
        let partition = fields
            .next()
            .and_then(|f| f.strip_prefix("Partition:")?.parse().ok());
        let offset = fields
            .next()
            .and_then(|f| f.strip_prefix("Offset:")?.parse().ok());
        let (Some(partition), Some(offset), Some(value)) = (partition, offset, fields.next()) else {
            panic!("unexpected console consumer line {line:?}");
        };
        values
            .entry(partition)
            .or_default()
            .push((offset, value.to_string()));
    }
    values
        .into_iter()
        .map(|(p, mut v)| {
            v.sort();
            (p, v.into_iter().map(|(_, value)| value).collect())
        })
        .collect()
}
