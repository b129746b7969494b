//! Micro-benchmarks of the wire-level hot path of a producer:
//!
//! * `record_append/{100,1024}B`: encoding records into a 64 KiB batch buffer
//!   (`RecordBatchBuilder::append`), reported per record;
//! * `batch_close/<codec>`: closing a full 64 KiB batch of 100-byte records:
//!   compression (none, gzip, snappy, lz4, zstd), header and CRC32C, reported
//!   per uncompressed byte; plus `batch_close/zstd_reused_context_reference`,
//!   the zstd crate with one context kept across batches, for comparison;
//! * `produce_request_encode`: framing a Produce request (latest version) that
//!   carries one closed 64 KiB batch for each of 8 partitions.
//!
//! Values are random upper-case letters, different for every record, so the
//! codecs see text with some entropy rather than one repeated value.
//!
//! Run: `cargo bench -p kafka-wire --bench hot_path -- --quick`.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_main, BatchSize, Criterion, Throughput};
use kafka_wire::compression::Compression;
use kafka_wire::frame::encode_request;
use kafka_wire::messages::produce::{PartitionProduceData, ProduceRequest, TopicProduceData};
use kafka_wire::record::{ProducerStamp, RecordBatchBuilder, BATCH_HEADER_SIZE};
use kafka_wire::ApiKey;

/// The benchmark harness's `batch.size`.
const BATCH_SIZE: usize = 65_536;
/// A fixed record timestamp (milliseconds).
const TIMESTAMP: i64 = 1_700_000_000_000;

/// `count` values of `size` random upper-case letters (xorshift, fixed seed).
fn values(count: usize, size: usize) -> Vec<Vec<u8>> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..count)
        .map(|_| {
            (0..size)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    b'A' + (state % 26) as u8
                })
                .collect()
        })
        .collect()
}

/// Appends `values` (cycling) until the batch refuses one; returns the count.
fn fill(builder: &mut RecordBatchBuilder, values: &[Vec<u8>]) -> usize {
    let mut appended = 0;
    for (i, value) in values.iter().cycle().enumerate() {
        let timestamp = TIMESTAMP + i as i64;
        match builder.append(timestamp, None, Some(value), &[]) {
            Ok(Some(_)) => appended += 1,
            Ok(None) => break,
            Err(e) => panic!("append failed: {e}"),
        }
    }
    appended
}

/// How many records of `size` bytes one batch holds.
fn records_per_batch(values: &[Vec<u8>]) -> usize {
    fill(
        &mut RecordBatchBuilder::new(Compression::None, BATCH_SIZE),
        values,
    )
}

fn record_append(c: &mut Criterion) {
    let mut group = c.benchmark_group("record_append");
    for size in [100, 1024] {
        let values = values(1024, size);
        let per_batch = records_per_batch(&values);
        group.throughput(Throughput::Elements(per_batch as u64));
        group.bench_function(format!("{size}B"), |b| {
            b.iter_batched_ref(
                || RecordBatchBuilder::new(Compression::None, BATCH_SIZE),
                |builder| black_box(fill(builder, &values)),
                // One builder at a time, as a producer has: the allocator hands back the
                // memory of the previous one, already touched (no page faults timed).
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

fn batch_close(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch_close");
    let values = values(1024, 100);
    for codec in Compression::ALL {
        let full = || {
            let mut builder = RecordBatchBuilder::new(codec, BATCH_SIZE);
            fill(&mut builder, &values);
            builder
        };
        group.throughput(Throughput::Bytes(full().size() as u64));
        group.bench_function(format!("{codec:?}").to_lowercase(), |b| {
            b.iter_batched(
                full,
                |builder| black_box(builder.close(ProducerStamp::NONE).expect("close")),
                BatchSize::PerIteration,
            )
        });
    }
    // A reference point, not our code path: zstd at the same level with one context
    // reused for every batch (the codec above creates a new one per batch).
    let mut records = RecordBatchBuilder::new(Compression::None, BATCH_SIZE);
    fill(&mut records, &values);
    let input = records.close(ProducerStamp::NONE).expect("close").bytes()[BATCH_HEADER_SIZE..].to_vec();
    let mut compressor = zstd::bulk::Compressor::new(3).expect("a zstd context");
    let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(input.len()));
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("zstd_reused_context_reference", |b| {
        b.iter(|| {
            out.clear();
            compressor
                .compress_to_buffer(black_box(&input[..]), &mut out)
                .expect("compress");
            black_box(out.len())
        })
    });
    group.finish();
}

fn produce_request_encode(c: &mut Criterion) {
    let values = values(1024, 100);
    let partition_data = (0..8)
        .map(|index| {
            let mut builder = RecordBatchBuilder::new(Compression::None, BATCH_SIZE);
            fill(&mut builder, &values);
            let batch = builder.close(ProducerStamp::NONE).expect("close");
            PartitionProduceData {
                index,
                records: Some(Bytes::clone(batch.bytes())),
            }
        })
        .collect();
    let request = ProduceRequest {
        transactional_id: None,
        acks: 1,
        timeout_ms: 30_000,
        topic_data: vec![TopicProduceData {
            name: "bench-topic".to_string(),
            partition_data,
        }],
    };
    let version = ApiKey::Produce.supported().max;
    let mut group = c.benchmark_group("produce_request_encode");
    group.throughput(Throughput::Elements(8));
    group.bench_function(format!("v{version}_8_partitions"), |b| {
        b.iter(|| {
            black_box(encode_request(
                black_box(&request),
                version,
                7,
                Some("perf-producer-client"),
            ))
            .expect("encode")
        })
    });
    group.finish();
}

/// The benchmark group (`criterion_group!` makes a public function, which
/// would need a doc comment at the crate root).
mod group {
    criterion::criterion_group!(
        benches,
        super::record_append,
        super::batch_close,
        super::produce_request_encode
    );
}
criterion_main!(group::benches);
