//! Decoding record batches (for tests, fuzzing and the fake broker).

use super::{
    ATTR_COMPRESSION_MASK, ATTR_CONTROL, ATTR_LOG_APPEND_TIME, ATTR_TRANSACTIONAL, BATCH_HEADER_SIZE, MAGIC,
};
use crate::codec::{DecodeError, Reader};
use crate::compression::{self, Compression};

/// A decoded batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedBatch {
    /// Offset of the first record.
    pub base_offset: i64,
    /// Leader epoch stamped by the broker (-1 from a producer).
    pub partition_leader_epoch: i32,
    /// Raw attributes.
    pub attributes: i16,
    /// Compression codec.
    pub compression: Compression,
    /// Offset delta of the last record.
    pub last_offset_delta: i32,
    /// Timestamp of the first record.
    pub base_timestamp: i64,
    /// Largest timestamp in the batch.
    pub max_timestamp: i64,
    /// Producer id (-1 when not idempotent).
    pub producer_id: i64,
    /// Producer epoch (-1 when not idempotent).
    pub producer_epoch: i16,
    /// Sequence of the first record (-1 when not idempotent).
    pub base_sequence: i32,
    /// The records.
    pub records: Vec<DecodedRecord>,
}

impl DecodedBatch {
    /// Whether the batch is part of a transaction.
    pub fn is_transactional(&self) -> bool {
        self.attributes & ATTR_TRANSACTIONAL != 0
    }

    /// Whether the batch holds a control record.
    pub fn is_control(&self) -> bool {
        self.attributes & ATTR_CONTROL != 0
    }

    /// Whether timestamps are the broker's append time.
    pub fn is_log_append_time(&self) -> bool {
        self.attributes & ATTR_LOG_APPEND_TIME != 0
    }
}

/// A decoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedRecord {
    /// Position in the batch.
    pub offset_delta: i32,
    /// Timestamp relative to the batch's base timestamp.
    pub timestamp_delta: i64,
    /// Key, `None` when null.
    pub key: Option<Vec<u8>>,
    /// Value, `None` when null.
    pub value: Option<Vec<u8>>,
    /// Headers in order, duplicates kept.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// Decodes every batch in `bytes` (the `records` field of a produce request or
/// a fetch response). Checks magic and CRC; decompressed data is capped at
/// `max_uncompressed` bytes per batch.
pub fn read_batches(bytes: &[u8], max_uncompressed: usize) -> Result<Vec<DecodedBatch>, DecodeError> {
    let mut r = Reader::new(bytes, false);
    let mut batches = Vec::new();
    while !r.is_empty() {
        batches.push(read_batch(&mut r, max_uncompressed)?);
    }
    Ok(batches)
}

fn corrupt(detail: impl Into<String>) -> DecodeError {
    DecodeError::Corrupt {
        what: "record batch",
        detail: detail.into(),
    }
}

fn read_batch(r: &mut Reader<'_>, max_uncompressed: usize) -> Result<DecodedBatch, DecodeError> {
    let base_offset = r.i64()?;
    let batch_length = r.i32()?;
    let length = usize::try_from(batch_length)
        .ok()
        .filter(|len| *len >= BATCH_HEADER_SIZE - 12)
        .ok_or_else(|| corrupt(format!("batch length {batch_length}")))?;
    let mut b = Reader::new(r.take(length)?, false);
    let partition_leader_epoch = b.i32()?;
    let magic = b.i8()?;
    if magic != MAGIC {
        return Err(corrupt(format!("magic {magic}, expected {MAGIC}")));
    }
    let crc = b.u32()?;
    let computed = crc32c::crc32c(b.rest());
    if crc != computed {
        return Err(corrupt(format!("crc {crc:#010x}, computed {computed:#010x}")));
    }
    let attributes = b.i16()?;
    let compression = Compression::from_attribute_bits(attributes & ATTR_COMPRESSION_MASK)
        .map_err(|e| corrupt(e.to_string()))?;
    let last_offset_delta = b.i32()?;
    let base_timestamp = b.i64()?;
    let max_timestamp = b.i64()?;
    let producer_id = b.i64()?;
    let producer_epoch = b.i16()?;
    let base_sequence = b.i32()?;
    let count = b.i32()?;
    let count = usize::try_from(count).map_err(|_| corrupt(format!("record count {count}")))?;

    let mut decompressed = Vec::new();
    let records_bytes = if compression == Compression::None {
        b.rest()
    } else {
        compression::decompress(compression, b.rest(), max_uncompressed, &mut decompressed)
            .map_err(|e| corrupt(e.to_string()))?;
        &decompressed
    };
    let mut rr = Reader::new(records_bytes, false);
    // Every record takes at least 7 bytes (length, attributes, two deltas,
    // key, value, header count), which bounds the allocation.
    if count.saturating_mul(7) > rr.remaining() {
        return Err(DecodeError::CountExceedsRemaining {
            what: "records",
            count,
            remaining: rr.remaining(),
        });
    }
    let mut records = Vec::with_capacity(count);
    for _ in 0..count {
        records.push(read_record(&mut rr)?);
    }
    rr.expect_end()?;
    Ok(DecodedBatch {
        base_offset,
        partition_leader_epoch,
        attributes,
        compression,
        last_offset_delta,
        base_timestamp,
        max_timestamp,
        producer_id,
        producer_epoch,
        base_sequence,
        records,
    })
}

fn read_record(r: &mut Reader<'_>) -> Result<DecodedRecord, DecodeError> {
    let length = r.varint()?;
    let length = usize::try_from(length).map_err(|_| corrupt(format!("record length {length}")))?;
    let mut rec = Reader::new(r.take(length)?, false);
    let _attributes = rec.i8()?;
    let timestamp_delta = rec.varlong()?;
    let offset_delta = rec.varint()?;
    let key = varint_field(&mut rec)?;
    let value = varint_field(&mut rec)?;
    let header_count = rec.varint()?;
    let header_count =
        usize::try_from(header_count).map_err(|_| corrupt(format!("header count {header_count}")))?;
    // A header takes at least two bytes (key length and value length).
    if header_count.saturating_mul(2) > rec.remaining() {
        return Err(DecodeError::CountExceedsRemaining {
            what: "record headers",
            count: header_count,
            remaining: rec.remaining(),
        });
    }
    let mut headers = Vec::with_capacity(header_count);
    for _ in 0..header_count {
        let key = varint_field(&mut rec)?.ok_or(DecodeError::UnexpectedNull { what: "header key" })?;
        let key = String::from_utf8(key).map_err(|_| DecodeError::InvalidUtf8 { what: "header key" })?;
        headers.push((key, varint_field(&mut rec)?));
    }
    rec.expect_end()?;
    Ok(DecodedRecord {
        offset_delta,
        timestamp_delta,
        key,
        value,
        headers,
    })
}

/// A varint-length-prefixed nullable field (-1 is null).
fn varint_field(r: &mut Reader<'_>) -> Result<Option<Vec<u8>>, DecodeError> {
    match r.varint()? {
        -1 => Ok(None),
        len if len < 0 => Err(DecodeError::InvalidLength {
            what: "record field",
            length: i64::from(len),
        }),
        len => Ok(Some(r.take(len as usize)?.to_vec())),
    }
}
