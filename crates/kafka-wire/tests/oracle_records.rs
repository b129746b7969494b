//! Record batches checked against an independent implementation: batches we
//! build are decoded by the `kafka-protocol` crate, and batches it builds are
//! read by ours, for every codec.
//!
//! `kafka-protocol` keeps headers in a map, so the generated headers have
//! unique keys here; duplicate keys are covered by our own tests and by the
//! real-broker test with Kafka's console consumer.

use bytes::{Bytes, BytesMut};
use indexmap::IndexMap;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression as TheirCompression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions,
    TimestampType,
};
use kafka_wire::compression::Compression;
use kafka_wire::record::{read_batches, ProducerStamp, RecordBatchBuilder, RecordHeader};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct TestRecord {
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
}

fn test_record() -> impl Strategy<Value = TestRecord> {
    let bytes = || proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64));
    let headers = proptest::collection::btree_map("[a-z]{1,8}", bytes(), 0..4)
        .prop_map(|m| m.into_iter().collect::<Vec<_>>());
    (0i64..2_000_000_000_000, bytes(), bytes(), headers).prop_map(|(timestamp, key, value, headers)| {
        TestRecord {
            timestamp,
            key,
            value,
            headers,
        }
    })
}

fn codec() -> impl Strategy<Value = Compression> {
    prop_oneof![
        Just(Compression::None),
        Just(Compression::Gzip),
        Just(Compression::Snappy),
        Just(Compression::Lz4),
        Just(Compression::Zstd),
    ]
}

fn theirs(codec: Compression) -> TheirCompression {
    match codec {
        Compression::Gzip => TheirCompression::Gzip,
        Compression::Snappy => TheirCompression::Snappy,
        Compression::Lz4 => TheirCompression::Lz4,
        Compression::Zstd => TheirCompression::Zstd,
        _ => TheirCompression::None,
    }
}

fn build_ours(records: &[TestRecord], codec: Compression, stamp: ProducerStamp) -> Bytes {
    let mut b = RecordBatchBuilder::new(codec, usize::MAX);
    for r in records {
        let headers: Vec<RecordHeader<'_>> = r
            .headers
            .iter()
            .map(|(k, v)| RecordHeader {
                key: k,
                value: v.as_deref(),
            })
            .collect();
        b.append(r.timestamp, r.key.as_deref(), r.value.as_deref(), &headers)
            .unwrap()
            .expect("unbounded batch accepts every record");
    }
    b.close(stamp).unwrap().bytes().clone()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn our_batches_decode_with_kafka_protocol(
        records in proptest::collection::vec(test_record(), 1..20),
        codec in codec(),
        producer_id in 0i64..1_000_000,
        producer_epoch in 0i16..100,
        base_sequence in 0i32..1_000_000,
        transactional in any::<bool>(),
    ) {
        let stamp = ProducerStamp { producer_id, producer_epoch, base_sequence, transactional };
        let mut bytes = build_ours(&records, codec, stamp);
        let set = RecordBatchDecoder::decode(&mut bytes).unwrap();
        prop_assert_eq!(set.compression, theirs(codec));
        prop_assert_eq!(set.records.len(), records.len());
        for (i, (got, want)) in set.records.iter().zip(&records).enumerate() {
            prop_assert_eq!(got.offset, i as i64);
            prop_assert_eq!(got.timestamp, want.timestamp);
            prop_assert_eq!(got.timestamp_type, TimestampType::Creation);
            prop_assert_eq!(got.key.as_deref(), want.key.as_deref());
            prop_assert_eq!(got.value.as_deref(), want.value.as_deref());
            prop_assert_eq!((got.producer_id, got.producer_epoch), (producer_id, producer_epoch));
            prop_assert_eq!(got.sequence, base_sequence + i as i32);
            prop_assert_eq!(got.transactional, transactional);
            let headers: Vec<(String, Option<Vec<u8>>)> = got
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_ref().map(|b| b.to_vec())))
                .collect();
            prop_assert_eq!(&headers, &want.headers);
        }
    }

    #[test]
    fn kafka_protocol_batches_read_with_ours(
        records in proptest::collection::vec(test_record(), 1..20),
        codec in codec(),
    ) {
        let theirs_records: Vec<Record> = records
            .iter()
            .enumerate()
            .map(|(i, r)| Record {
                transactional: false,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: -1,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset: i as i64,
                sequence: -1,
                timestamp: r.timestamp,
                key: r.key.clone().map(Bytes::from),
                value: r.value.clone().map(Bytes::from),
                headers: r
                    .headers
                    .iter()
                    .map(|(k, v)| (StrBytes::from_string(k.clone()), v.clone().map(Bytes::from)))
                    .collect::<IndexMap<_, _>>(),
            })
            .collect();
        let mut buf = BytesMut::new();
        let options = RecordEncodeOptions { version: 2, compression: theirs(codec) };
        RecordBatchEncoder::encode(&mut buf, &theirs_records, &options).unwrap();
        let batches = read_batches(&buf, 1 << 24).unwrap();
        let decoded: Vec<_> = batches.iter().flat_map(|b| b.records.iter().map(move |r| (b, r))).collect();
        prop_assert_eq!(decoded.len(), records.len());
        for ((batch, got), want) in decoded.iter().zip(&records) {
            prop_assert_eq!(batch.compression, codec);
            prop_assert_eq!(batch.base_timestamp + got.timestamp_delta, want.timestamp);
            prop_assert_eq!(&got.key, &want.key);
            prop_assert_eq!(&got.value, &want.value);
            prop_assert_eq!(&got.headers, &want.headers);
        }
    }
}
