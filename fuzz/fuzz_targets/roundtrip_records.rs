//! Correctness oracle for record batches: records appended to a
//! `RecordBatchBuilder` (any codec, any stamp) come back from `read_batches`
//! exactly as they went in, with the header fields the builder promises.
#![no_main]

use arbitrary::Arbitrary;
use kafka_wire::compression::Compression;
use kafka_wire::record::{
    read_batches, BatchError, ProducerStamp, RecordBatchBuilder, RecordHeader, BATCH_HEADER_SIZE,
};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    codec: u8,
    max_size: u16,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    transactional: bool,
    records: Vec<Record>,
}

#[derive(Debug, Arbitrary)]
struct Record {
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
}

fuzz_target!(|input: Input| {
    let codec = Compression::ALL[usize::from(input.codec) % Compression::ALL.len()];
    let stamp = ProducerStamp {
        producer_id: input.producer_id,
        producer_epoch: input.producer_epoch,
        base_sequence: input.base_sequence,
        transactional: input.transactional,
    };
    let mut builder = RecordBatchBuilder::new(codec, usize::from(input.max_size));
    let mut appended = Vec::new();
    for record in &input.records {
        let headers: Vec<RecordHeader<'_>> = record
            .headers
            .iter()
            .map(|(key, value)| RecordHeader { key, value: value.as_deref() })
            .collect();
        let (key, value) = (record.key.as_deref(), record.value.as_deref());
        let predicted = builder.record_size(record.timestamp, key, value, &headers);
        let before = builder.size();
        let Some(info) = builder.append(record.timestamp, key, value, &headers).unwrap() else {
            assert!(before + predicted > usize::from(input.max_size), "refused a record that fits");
            break;
        };
        assert_eq!(info.offset_delta as usize, appended.len());
        assert_eq!(info.encoded_size, predicted);
        assert_eq!(builder.size(), before + predicted);
        appended.push(record);
    }
    let uncompressed = builder.size() - BATCH_HEADER_SIZE;
    let batch = match builder.close(stamp) {
        Err(BatchError::Empty) => return assert!(appended.is_empty()),
        other => other.unwrap(),
    };
    assert_eq!(batch.record_count() as usize, appended.len());
    assert_eq!(batch.stamp(), stamp);

    // The exact uncompressed size must be enough: the limit is inclusive.
    let decoded = read_batches(batch.bytes(), uncompressed).unwrap();
    let [decoded] = &decoded[..] else { panic!("{} batches", decoded.len()) };
    let first = appended[0].timestamp;
    assert_eq!(decoded.base_offset, 0);
    assert_eq!(decoded.partition_leader_epoch, -1);
    assert_eq!(decoded.compression, codec);
    assert_eq!(decoded.is_transactional(), stamp.transactional);
    assert!(!decoded.is_control() && !decoded.is_log_append_time());
    assert_eq!(decoded.last_offset_delta as usize, appended.len() - 1);
    assert_eq!(decoded.base_timestamp, first);
    assert_eq!(decoded.max_timestamp, appended.iter().map(|r| r.timestamp).max().unwrap());
    assert_eq!(decoded.producer_id, stamp.producer_id);
    assert_eq!(decoded.producer_epoch, stamp.producer_epoch);
    assert_eq!(decoded.base_sequence, stamp.base_sequence);
    assert_eq!(decoded.records.len(), appended.len());
    for (i, (got, want)) in decoded.records.iter().zip(&appended).enumerate() {
        assert_eq!(got.offset_delta as usize, i);
        assert_eq!(got.timestamp_delta, want.timestamp.wrapping_sub(first));
        assert_eq!(got.key, want.key);
        assert_eq!(got.value, want.value);
        assert_eq!(got.headers, want.headers);
    }

    // Restamping changes the stamp and nothing else.
    let other = ProducerStamp {
        producer_id: !stamp.producer_id,
        producer_epoch: stamp.producer_epoch.wrapping_add(1),
        base_sequence: 0,
        transactional: !stamp.transactional,
    };
    let restamped = batch.restamped(other);
    assert_eq!(restamped.stamp(), other);
    let again = read_batches(restamped.bytes(), uncompressed).unwrap();
    assert_eq!(again[0].records, decoded.records);
    assert_eq!(again[0].is_transactional(), other.transactional);
});
