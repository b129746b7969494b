//! Micro-benchmarks of the accumulator side of the hot path, without a broker:
//!
//! * `accumulator_append/{100,1024}B`: the sans-IO `PartitionQueue::append` alone,
//!   512 records into a fresh queue (64 KiB batches, linger 5 ms, no
//!   compression), reported per record;
//! * `partition_actor_hop/{100,1024}B`: the same 512 records as `Append`
//!   messages to a running `PartitionAccumulatorActor`, each with its own
//!   delivery ticket: the mailbox hop, the actor's `drive` after every record
//!   and the queue append. The 512th message is sent with `Addr::send` and
//!   awaited, so the timing ends when the actor has handled all of them.
//!
//! The partition actor has no broker: its metadata actor points at a closed
//! port, so it never finds a leader and its batches are never sent; they fail
//! with `BatchExpired` 200 ms after their linger (`request_timeout_ms`), which
//! keeps memory bounded. That expiry work is part of the measurement, as the
//! completion of sent batches would be in a real run.
//!
//! Not isolated here: the first hop, `Producer::send_all` → `ProducerActor`
//! (validation, partitioner, buffer accounting, one `Append` per record). The
//! producer actor only routes records of topics whose metadata came from a
//! broker, so that hop is measured end to end by `scripts/bench.sh` instead.
//!
//! Run: `cargo bench -p actix-kafka --bench actor_hop -- --quick`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_kafka::accumulator::{NewRecord, PartitionQueue, QueueConfig};
use actix_kafka::actors::metadata::MetadataActor;
use actix_kafka::actors::partition::{Append, BatchCompleted, PartitionAccumulatorActor, PartitionSettings};
use actix_kafka::delivery::Ticket;
use actix_kafka::wire::compression::Compression;
use actix_kafka::{ProducerConfig, ProducerRecord};
use bytes::Bytes;
use criterion::{criterion_main, BatchSize, Criterion, Throughput};

/// Records per measured step, as `actix-kafka perf` enqueues them per `send_all`.
const CHUNK: usize = 512;
const TOPIC: &str = "bench-topic";
/// A fixed record timestamp (milliseconds).
const TIMESTAMP: i64 = 1_700_000_000_000;

fn queue_config() -> QueueConfig {
    QueueConfig {
        max_batch_size: 65_536,
        linger: Duration::from_millis(5),
        retry_backoff: Duration::from_millis(100),
        delivery_timeout: Duration::from_millis(200),
        compression: Compression::None,
        idempotent: false,
        transactional: false,
    }
}

/// One value of `size` upper-case letters, shared by every record (as the perf tools do).
fn value(size: usize) -> Bytes {
    Bytes::from((0..size).map(|i| b'A' + (i % 26) as u8).collect::<Vec<u8>>())
}

fn accumulator_append(c: &mut Criterion) {
    let mut group = c.benchmark_group("accumulator_append");
    group.throughput(Throughput::Elements(CHUNK as u64));
    for size in [100, 1024] {
        let value = value(size);
        group.bench_function(format!("{size}B"), |b| {
            b.iter_batched_ref(
                || PartitionQueue::<()>::new(Arc::from(TOPIC), 0, queue_config()),
                |queue| {
                    let now = Instant::now();
                    for i in 0..CHUNK {
                        let record = NewRecord {
                            timestamp: TIMESTAMP + i as i64,
                            key: None,
                            value: Some(&value),
                            headers: &[],
                        };
                        if queue.append(now, record, (), size + 82).is_err() {
                            panic!("append refused");
                        }
                    }
                    black_box(queue.is_empty())
                },
                // One queue at a time: its batch buffers reuse the memory of the last one.
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// Takes the partition actor's batch completions (the producer actor's role).
struct Completions;

impl Actor for Completions {
    type Context = Context<Self>;
}

impl Handler<BatchCompleted> for Completions {
    type Result = ();

    fn handle(&mut self, msg: BatchCompleted, _: &mut Context<Self>) {
        black_box(msg);
    }
}

fn append_message(value: &Bytes) -> Append {
    let (_group, mut ticket) = Ticket::single(None);
    ticket.enqueue();
    Append {
        record: ProducerRecord::new(TOPIC, value.clone()),
        timestamp: TIMESTAMP,
        reserved: value.len() + 82,
        ticket,
    }
}

fn partition_actor_hop(c: &mut Criterion) {
    let system = actix_rt::System::new();
    let addr = system.block_on(async {
        let mut config = ProducerConfig::new("127.0.0.1:1");
        config.request_timeout_ms = 200;
        let metadata = MetadataActor::new(Arc::new(config)).start();
        let completions = Completions.start();
        let settings = PartitionSettings {
            acks: 1,
            request_timeout_ms: 200,
            retry_backoff: Duration::from_millis(100),
            transactional_id: None,
        };
        let queue = PartitionQueue::new(Arc::from(TOPIC), 0, queue_config());
        PartitionAccumulatorActor::new(queue, settings, metadata, completions.recipient(), None).start()
    });
    let mut group = c.benchmark_group("partition_actor_hop");
    group.throughput(Throughput::Elements(CHUNK as u64));
    for size in [100, 1024] {
        let value = value(size);
        group.bench_function(format!("{size}B"), |b| {
            b.iter_custom(|iters| {
                system.block_on(async {
                    let mut spent = Duration::ZERO;
                    for _ in 0..iters {
                        // The messages are built outside the timing; the hop is what counts.
                        let mut messages: Vec<Append> = (0..CHUNK).map(|_| append_message(&value)).collect();
                        let last = messages.pop().expect("a chunk");
                        let started = Instant::now();
                        for message in messages {
                            addr.do_send(message);
                        }
                        addr.send(last).await.expect("the partition actor runs");
                        spent += started.elapsed();
                    }
                    spent
                })
            })
        });
    }
    group.finish();
}

/// The benchmark group (`criterion_group!` makes a public function, which
/// would need a doc comment at the crate root).
mod group {
    criterion::criterion_group!(benches, super::accumulator_append, super::partition_actor_hop);
}
criterion_main!(group::benches);
