use super::*;

fn round_trip(flexible: bool, write: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::new(flexible);
    write(&mut w);
    w.into_bytes().to_vec()
}

#[test]
fn varints_match_known_encodings() {
    // Values and encodings from the protobuf/Kafka varint definition.
    let cases: [(i32, &[u8]); 6] = [
        (0, &[0x00]),
        (-1, &[0x01]),
        (1, &[0x02]),
        (-64, &[0x7f]),
        (64, &[0x80, 0x01]),
        (i32::MIN, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
    ];
    for (value, bytes) in cases {
        assert_eq!(round_trip(false, |w| w.varint(value)), bytes, "{value}");
        assert_eq!(Reader::new(bytes, false).varint().unwrap(), value);
    }
}

#[test]
fn varlong_extremes_round_trip() {
    for v in [0, 1, -1, i64::MAX, i64::MIN, 1 << 40, -(1 << 40)] {
        let bytes = round_trip(false, |w| w.varlong(v));
        let mut r = Reader::new(&bytes, false);
        assert_eq!(r.varlong().unwrap(), v);
        assert!(r.is_empty());
    }
}

#[test]
fn overlong_varints_are_errors() {
    let eleven = [0xffu8; 11];
    assert!(matches!(
        Reader::new(&eleven, false).uvarlong(),
        Err(DecodeError::VarintTooLong { .. })
    ));
    // Five bytes whose value exceeds u32.
    let big = [0xff, 0xff, 0xff, 0xff, 0x7f];
    assert!(Reader::new(&big, false).uvarint().is_err());
    assert!(matches!(
        Reader::new(&[0x80], false).uvarint(),
        Err(DecodeError::UnexpectedEof { .. })
    ));
}

#[test]
fn strings_classic_and_compact() {
    assert_eq!(round_trip(false, |w| w.string("ab").unwrap()), [0, 2, b'a', b'b']);
    assert_eq!(round_trip(true, |w| w.string("ab").unwrap()), [3, b'a', b'b']);
    assert_eq!(
        round_trip(false, |w| w.nullable_string(None).unwrap()),
        [0xff, 0xff]
    );
    assert_eq!(round_trip(true, |w| w.nullable_string(None).unwrap()), [0]);
    for flexible in [false, true] {
        let bytes = round_trip(flexible, |w| {
            w.string("héllo").unwrap();
            w.nullable_string(None).unwrap();
        });
        let mut r = Reader::new(&bytes, flexible);
        assert_eq!(r.str("a").unwrap(), "héllo");
        assert_eq!(r.nullable_str("b").unwrap(), None);
        r.expect_end().unwrap();
    }
}

#[test]
fn null_where_not_allowed_is_typed() {
    assert_eq!(
        Reader::new(&[0xff, 0xff], false).str("topic"),
        Err(DecodeError::UnexpectedNull { what: "topic" })
    );
    assert!(matches!(
        Reader::new(&[0xff, 0xfe], false).str("topic"),
        Err(DecodeError::InvalidLength { .. })
    ));
    assert!(matches!(
        Reader::new(&[0, 2, 0xc3, 0x28], false).str("topic"),
        Err(DecodeError::InvalidUtf8 { .. })
    ));
}

#[test]
fn array_counts_are_checked_before_allocation() {
    // A count of 2^31-1 with four bytes behind it must not allocate.
    let hostile = [0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0];
    let err = Reader::new(&hostile, false)
        .array("partitions", 4, |r| r.i32())
        .unwrap_err();
    assert!(matches!(
        err,
        DecodeError::CountExceedsRemaining {
            count: 0x7fff_ffff,
            ..
        }
    ));
    let compact_hostile = [0xff, 0xff, 0xff, 0xff, 0x0f];
    assert!(Reader::new(&compact_hostile, true).array_len("x", 1).is_err());
}

#[test]
fn arrays_round_trip() {
    for flexible in [false, true] {
        let items = [1i32, 2, 3];
        let bytes = round_trip(flexible, |w| {
            w.array(&items, |w, v| {
                w.i32(*v);
                Ok(())
            })
            .unwrap()
        });
        let got = Reader::new(&bytes, flexible).array("x", 4, |r| r.i32()).unwrap();
        assert_eq!(got, items);
    }
}

#[test]
fn tagged_fields_are_visited_and_unknown_ones_skipped() {
    // Two fields: tag 0 with an i32, tag 7 with two unknown bytes.
    let bytes = [2, 0, 4, 0, 0, 0, 42, 7, 2, 0xaa, 0xbb, 0x99];
    let mut r = Reader::new(&bytes, true);
    let mut seen = Vec::new();
    r.tagged_fields(|tag, field| {
        if tag == 0 {
            seen.push(field.i32()?);
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, [42]);
    assert_eq!(r.rest(), &[0x99]);
    // Classic readers have no tagged section at all.
    let mut classic = Reader::new(&bytes, false);
    classic.skip_tagged_fields().unwrap();
    assert_eq!(classic.remaining(), bytes.len());
}

#[test]
fn shared_bytes_become_their_own_segment() {
    let payload = bytes::Bytes::from_static(b"record batch");
    let mut w = Writer::new(false);
    w.i16(7);
    w.shared_bytes(Some(payload.clone())).unwrap();
    w.i16(8);
    let segments = w.into_segments();
    assert_eq!(segments.len(), 3);
    assert_eq!(segments[1].as_ptr(), payload.as_ptr(), "not copied");
    assert_eq!(segments[0].as_ref(), &[0, 7, 0, 0, 0, 12]);
    assert_eq!(segments[2].as_ref(), &[0, 8]);
}
