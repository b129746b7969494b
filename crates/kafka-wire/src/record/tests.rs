use super::*;
use crate::compression::Compression;

fn header<'a>(key: &'a str, value: Option<&'a [u8]>) -> RecordHeader<'a> {
    RecordHeader { key, value }
}

fn idempotent(base_sequence: i32) -> ProducerStamp {
    ProducerStamp {
        producer_id: 4242,
        producer_epoch: 3,
        base_sequence,
        transactional: false,
    }
}

#[test]
fn records_round_trip_with_duplicate_headers_and_nulls() {
    let mut b = RecordBatchBuilder::new(Compression::None, 16 * 1024);
    let headers = [
        header("h", Some(b"1")),
        header("h", Some(b"2")),
        header("n", None),
    ];
    b.append(1_000, Some(b"k1"), Some(b"v1"), &headers)
        .unwrap()
        .unwrap();
    b.append(999, None, Some(b""), &[]).unwrap().unwrap();
    b.append(1_005, Some(b""), None, &[]).unwrap().unwrap();
    let batch = b.close(idempotent(7)).unwrap();

    let decoded = read_batches(batch.bytes(), 1 << 20).unwrap();
    assert_eq!(decoded.len(), 1);
    let d = &decoded[0];
    assert_eq!((d.base_timestamp, d.max_timestamp), (1_000, 1_005));
    assert_eq!((d.producer_id, d.producer_epoch, d.base_sequence), (4242, 3, 7));
    assert_eq!(d.last_offset_delta, 2);
    assert!(!d.is_transactional() && !d.is_control());
    let r = &d.records;
    assert_eq!(r[0].key.as_deref(), Some(&b"k1"[..]));
    assert_eq!(
        r[0].headers,
        vec![
            ("h".to_string(), Some(b"1".to_vec())),
            ("h".to_string(), Some(b"2".to_vec())),
            ("n".to_string(), None)
        ]
    );
    assert_eq!(
        (r[1].key.as_deref(), r[1].value.as_deref()),
        (None, Some(&b""[..]))
    );
    assert_eq!(r[1].timestamp_delta, -1, "earlier timestamps are negative deltas");
    assert_eq!(
        (r[2].key.as_deref(), r[2].value.as_deref()),
        (Some(&b""[..]), None)
    );
    assert_eq!(r.iter().map(|r| r.offset_delta).collect::<Vec<_>>(), [0, 1, 2]);
}

#[test]
fn a_buffer_comes_back_only_when_unshared_and_encodes_the_same_batch_again() {
    let build = |buffer: bytes::BytesMut| {
        let mut b = RecordBatchBuilder::with_buffer(Compression::None, 4096, buffer);
        b.append(5, Some(b"k"), Some(b"value"), &[]).unwrap().unwrap();
        b.close(idempotent(1)).unwrap()
    };
    let batch = build(bytes::BytesMut::new());
    let expected = batch.bytes().to_vec();
    // A request still holds a clone: the buffer must not come back.
    let in_flight = batch.bytes().clone();
    assert!(batch.clone().into_buffer().is_none());
    drop(in_flight);
    let buffer = batch.into_buffer().expect("nothing else holds it");
    assert!(buffer.capacity() >= 4096);
    assert_eq!(build(buffer).bytes().as_ref(), expected.as_slice());
}

#[test]
fn size_is_exact_at_every_step() {
    let mut b = RecordBatchBuilder::new(Compression::None, 1 << 20);
    assert_eq!(b.size(), BATCH_HEADER_SIZE);
    for i in 0..200u32 {
        let key = i.to_string();
        let value = vec![b'x'; (i as usize * 37) % 300];
        let predicted = b.record_size(i64::from(i) * 1000, Some(key.as_bytes()), Some(&value), &[]);
        let before = b.size();
        let info = b
            .append(i64::from(i) * 1000, Some(key.as_bytes()), Some(&value), &[])
            .unwrap()
            .unwrap();
        assert_eq!(info.encoded_size, predicted);
        assert_eq!(b.size(), before + predicted);
    }
    let size = b.size();
    assert_eq!(b.close(ProducerStamp::NONE).unwrap().len(), size);
}

#[test]
fn full_batch_refuses_but_first_record_always_fits() {
    let mut b = RecordBatchBuilder::new(Compression::None, 100);
    let big = vec![0u8; 500];
    assert!(
        b.append(0, None, Some(&big), &[]).unwrap().is_some(),
        "first record always accepted"
    );
    assert!(
        b.append(0, None, Some(b"x"), &[]).unwrap().is_none(),
        "then the batch is full"
    );
    assert_eq!(b.record_count(), 1);

    let mut b = RecordBatchBuilder::new(Compression::None, 100);
    let mut accepted = 0;
    while b.append(0, None, Some(b"0123456789"), &[]).unwrap().is_some() {
        accepted += 1;
    }
    assert!(b.size() <= 100);
    assert_eq!(accepted, b.record_count());
}

#[test]
fn empty_batch_cannot_close() {
    let b = RecordBatchBuilder::new(Compression::None, 100);
    assert!(matches!(b.close(ProducerStamp::NONE), Err(BatchError::Empty)));
}

#[test]
fn every_codec_round_trips_and_sets_attributes() {
    for codec in [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        let mut b = RecordBatchBuilder::new(codec, 1 << 20);
        for i in 0..1000 {
            let value = format!("value-{i}-{}", "abc".repeat(i % 10));
            b.append(i as i64, None, Some(value.as_bytes()), &[])
                .unwrap()
                .unwrap();
        }
        let batch = b.close(ProducerStamp::NONE).unwrap();
        let d = &read_batches(batch.bytes(), 1 << 24).unwrap()[0];
        assert_eq!(d.compression, codec);
        assert_eq!(d.attributes & ATTR_COMPRESSION_MASK, codec.attribute_bits());
        assert_eq!(d.records.len(), 1000);
        assert_eq!(
            d.records[999].value.as_deref(),
            Some(format!("value-999-{}", "abc".repeat(9)).as_bytes())
        );
    }
}

#[test]
fn corruption_is_detected_by_crc() {
    let mut b = RecordBatchBuilder::new(Compression::None, 1024);
    b.append(5, Some(b"key"), Some(b"value"), &[]).unwrap();
    let batch = b.close(ProducerStamp::NONE).unwrap();
    for i in 21..batch.len() {
        let mut bytes = batch.bytes().to_vec();
        bytes[i] ^= 0x40;
        let err = read_batches(&bytes, 1 << 20).unwrap_err();
        assert!(matches!(err, DecodeError::Corrupt { .. }), "byte {i}: {err:?}");
    }
}

#[test]
fn restamp_changes_producer_fields_and_crc_only() {
    let mut b = RecordBatchBuilder::new(Compression::Lz4, 1024);
    b.append(5, Some(b"key"), Some(b"value"), &[]).unwrap();
    let first = b.close(idempotent(10)).unwrap();
    let txn = ProducerStamp {
        producer_id: 99,
        producer_epoch: 0,
        base_sequence: 0,
        transactional: true,
    };
    let second = first.restamped(txn);
    assert_eq!(first.stamp(), idempotent(10), "original untouched");
    assert_eq!(second.stamp(), txn);
    let a = &read_batches(first.bytes(), 1 << 20).unwrap()[0];
    let b = &read_batches(second.bytes(), 1 << 20).unwrap()[0];
    assert!(b.is_transactional() && !a.is_transactional());
    assert_eq!(a.records, b.records);
    assert_eq!(
        first.bytes()[61..],
        second.bytes()[61..],
        "records not re-encoded"
    );
}

#[test]
fn truncated_batches_are_errors() {
    let mut b = RecordBatchBuilder::new(Compression::None, 1024);
    b.append(5, Some(b"key"), Some(b"value"), &[header("a", Some(b"b"))])
        .unwrap();
    let batch = b.close(ProducerStamp::NONE).unwrap();
    for len in 1..batch.len() {
        assert!(
            read_batches(&batch.bytes()[..len], 1 << 20).is_err(),
            "prefix {len}"
        );
    }
}

use crate::codec::DecodeError;
