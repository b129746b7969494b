//! Building a record batch as records arrive.

use bytes::{BufMut, Bytes, BytesMut};

use super::{
    ATTRIBUTES_OFFSET, ATTR_TRANSACTIONAL, BATCH_HEADER_SIZE, CRC_OFFSET, MAGIC, NO_PRODUCER_EPOCH,
    NO_PRODUCER_ID, NO_SEQUENCE,
};
use crate::codec::writer::{put_uvarlong, uvarlong_len};
use crate::compression::{self, Compression, CompressionError};

/// One record header. Keys may repeat (KIP-82); order is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordHeader<'a> {
    /// Header key.
    pub key: &'a str,
    /// Header value; `None` is a null value, distinct from empty.
    pub value: Option<&'a [u8]>,
}

/// Where an appended record sits in its batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    /// Position in the batch; the record's offset is `base_offset + offset_delta`.
    pub offset_delta: i32,
    /// The record's encoded size in bytes, its length prefix included.
    pub encoded_size: usize,
}

/// Producer identity stamped on a batch when it is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerStamp {
    /// Producer id, or -1 when not idempotent.
    pub producer_id: i64,
    /// Producer epoch, or -1 when not idempotent.
    pub producer_epoch: i16,
    /// Sequence of the batch's first record, or -1 when not idempotent.
    pub base_sequence: i32,
    /// Whether the batch is part of a transaction.
    pub transactional: bool,
}

impl ProducerStamp {
    /// The stamp of a plain (non-idempotent) producer.
    pub const NONE: ProducerStamp = ProducerStamp {
        producer_id: NO_PRODUCER_ID,
        producer_epoch: NO_PRODUCER_EPOCH,
        base_sequence: NO_SEQUENCE,
        transactional: false,
    };
}

/// Why a batch operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// A batch must hold at least one record.
    #[error("a record batch needs at least one record")]
    Empty,
    /// A key, value or header is larger than a record can express.
    #[error("record field of {len} bytes is too large")]
    FieldTooLarge {
        /// Its length.
        len: usize,
    },
    /// A batch holds at most `i32::MAX` records and bytes.
    #[error("record batch is too large")]
    BatchTooLarge,
    /// The compression codec failed.
    #[error("compression failed: {0}")]
    Compression(#[from] CompressionError),
}

/// Accumulates records into one v2 batch buffer.
///
/// Records are encoded at append time, so the buffer holds exactly what will
/// be sent (before compression) and [`RecordBatchBuilder::size`] is exact.
#[derive(Debug)]
pub struct RecordBatchBuilder {
    buf: BytesMut,
    compression: Compression,
    max_size: usize,
    record_count: i32,
    base_timestamp: i64,
    max_timestamp: i64,
}

impl RecordBatchBuilder {
    /// An empty batch that accepts records while its encoded (uncompressed)
    /// size stays within `max_size`; the first record is always accepted.
    pub fn new(compression: Compression, max_size: usize) -> Self {
        Self::with_buffer(compression, max_size, BytesMut::new())
    }

    /// Like [`new`](Self::new), but encodes into `buf` (cleared first): a
    /// buffer recycled from a completed batch saves an allocation and its
    /// page faults.
    pub fn with_buffer(compression: Compression, max_size: usize, mut buf: BytesMut) -> Self {
        buf.clear();
        buf.reserve(max_size.clamp(BATCH_HEADER_SIZE, 1 << 20));
        buf.put_bytes(0, BATCH_HEADER_SIZE);
        RecordBatchBuilder {
            buf,
            compression,
            max_size,
            record_count: 0,
            base_timestamp: 0,
            max_timestamp: i64::MIN,
        }
    }

    /// Encoded size so far, batch header included, before compression.
    pub fn size(&self) -> usize {
        self.buf.len()
    }

    /// Number of records appended.
    pub fn record_count(&self) -> i32 {
        self.record_count
    }

    /// Whether no record has been appended.
    pub fn is_empty(&self) -> bool {
        self.record_count == 0
    }

    /// Timestamp of the first record (0 while empty).
    pub fn base_timestamp(&self) -> i64 {
        self.base_timestamp
    }

    /// The codec this batch will be compressed with.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The size a record would add to this batch, its length prefix included.
    pub fn record_size(
        &self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[RecordHeader<'_>],
    ) -> usize {
        let body = self.record_body_size(timestamp, key, value, headers);
        varint_len(body as i64) + body
    }

    fn record_body_size(
        &self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[RecordHeader<'_>],
    ) -> usize {
        let timestamp_delta = timestamp.wrapping_sub(self.next_base_timestamp(timestamp));
        let headers_size: usize = headers
            .iter()
            .map(|h| field_size(Some(h.key.as_bytes())) + field_size(h.value))
            .sum();
        1 // attributes
            + varint_len(timestamp_delta)
            + varint_len(i64::from(self.record_count))
            + field_size(key)
            + field_size(value)
            + varint_len(headers.len() as i64)
            + headers_size
    }

    fn next_base_timestamp(&self, timestamp: i64) -> i64 {
        if self.record_count == 0 {
            timestamp
        } else {
            self.base_timestamp
        }
    }

    /// Appends a record, or returns `Ok(None)` if it would take the batch past
    /// its maximum size. The first record is always accepted, however large.
    pub fn append(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[RecordHeader<'_>],
    ) -> Result<Option<AppendInfo>, BatchError> {
        for len in key.iter().chain(value.iter()).map(|f| f.len()) {
            if i32::try_from(len).is_err() {
                return Err(BatchError::FieldTooLarge { len });
            }
        }
        let body = self.record_body_size(timestamp, key, value, headers);
        let encoded_size = varint_len(body as i64) + body;
        if self.record_count > 0 && self.buf.len() + encoded_size > self.max_size {
            return Ok(None);
        }
        if self.record_count == i32::MAX || i32::try_from(self.buf.len() + encoded_size).is_err() {
            return Err(BatchError::BatchTooLarge);
        }
        if self.record_count == 0 {
            self.base_timestamp = timestamp;
        }
        let offset_delta = self.record_count;
        let buf = &mut self.buf;
        buf.reserve(encoded_size);
        put_varint(buf, body as i64);
        buf.put_i8(0); // record attributes: unused
        put_varint(buf, timestamp.wrapping_sub(self.base_timestamp));
        put_varint(buf, i64::from(offset_delta));
        put_field(buf, key);
        put_field(buf, value);
        put_varint(buf, headers.len() as i64);
        for header in headers {
            put_field(buf, Some(header.key.as_bytes()));
            put_field(buf, header.value);
        }
        self.record_count += 1;
        self.max_timestamp = self.max_timestamp.max(timestamp);
        Ok(Some(AppendInfo {
            offset_delta,
            encoded_size,
        }))
    }

    /// Finishes the batch: compresses the records if asked, writes the header
    /// with `stamp`, and computes the CRC.
    pub fn close(self, stamp: ProducerStamp) -> Result<RecordBatch, BatchError> {
        if self.record_count == 0 {
            return Err(BatchError::Empty);
        }
        let mut buf = if self.compression == Compression::None {
            self.buf
        } else {
            let mut out = BytesMut::with_capacity(self.buf.len() / 2 + BATCH_HEADER_SIZE);
            out.put_bytes(0, BATCH_HEADER_SIZE);
            let mut compressed = Vec::with_capacity(self.buf.len() / 2);
            compression::compress(self.compression, &self.buf[BATCH_HEADER_SIZE..], &mut compressed)?;
            out.put_slice(&compressed);
            out
        };
        let batch_length = i32::try_from(buf.len() - 12).map_err(|_| BatchError::BatchTooLarge)?;
        // The transactional bit is set by `write_stamp` with the rest of the stamp.
        let attributes = self.compression.attribute_bits();
        let header = &mut buf[..BATCH_HEADER_SIZE];
        header[0..8].copy_from_slice(&0i64.to_be_bytes());
        header[8..12].copy_from_slice(&batch_length.to_be_bytes());
        header[12..16].copy_from_slice(&(-1i32).to_be_bytes());
        header[16] = MAGIC as u8;
        header[21..23].copy_from_slice(&attributes.to_be_bytes());
        header[23..27].copy_from_slice(&(self.record_count - 1).to_be_bytes());
        header[27..35].copy_from_slice(&self.base_timestamp.to_be_bytes());
        header[35..43].copy_from_slice(&self.max_timestamp.to_be_bytes());
        header[57..61].copy_from_slice(&self.record_count.to_be_bytes());
        write_stamp(&mut buf, stamp);
        Ok(RecordBatch {
            bytes: buf.freeze(),
            record_count: self.record_count,
        })
    }
}

/// Writes producer id, epoch and base sequence and recomputes the CRC.
fn write_stamp(buf: &mut [u8], stamp: ProducerStamp) {
    buf[43..51].copy_from_slice(&stamp.producer_id.to_be_bytes());
    buf[51..53].copy_from_slice(&stamp.producer_epoch.to_be_bytes());
    buf[53..57].copy_from_slice(&stamp.base_sequence.to_be_bytes());
    let attributes = i16::from_be_bytes([buf[ATTRIBUTES_OFFSET], buf[ATTRIBUTES_OFFSET + 1]]);
    let attributes = if stamp.transactional {
        attributes | ATTR_TRANSACTIONAL
    } else {
        attributes & !ATTR_TRANSACTIONAL
    };
    buf[ATTRIBUTES_OFFSET..ATTRIBUTES_OFFSET + 2].copy_from_slice(&attributes.to_be_bytes());
    let crc = crc32c::crc32c(&buf[ATTRIBUTES_OFFSET..]);
    buf[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
}

/// A closed, encoded batch, ready to be sent (and re-sent unchanged on retry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordBatch {
    bytes: Bytes,
    record_count: i32,
}

impl RecordBatch {
    /// The encoded batch. Cloning it is cheap and shares the buffer.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Number of records.
    pub fn record_count(&self) -> i32 {
        self.record_count
    }

    /// The buffer back for reuse, if nothing else holds it any more (every
    /// clone of [`bytes`](Self::bytes) was dropped: no request can still
    /// read it).
    pub fn into_buffer(self) -> Option<BytesMut> {
        self.bytes.try_into_mut().ok()
    }

    /// Encoded size in bytes (compressed, header included).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always false: a closed batch holds at least one record.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The stamp currently in the header.
    pub fn stamp(&self) -> ProducerStamp {
        let b = &self.bytes;
        let attributes = i16::from_be_bytes([b[21], b[22]]);
        ProducerStamp {
            producer_id: i64::from_be_bytes(b[43..51].try_into().unwrap_or_default()),
            producer_epoch: i16::from_be_bytes([b[51], b[52]]),
            base_sequence: i32::from_be_bytes(b[53..57].try_into().unwrap_or_default()),
            transactional: attributes & ATTR_TRANSACTIONAL != 0,
        }
    }

    /// A copy of this batch with a new producer stamp (after an epoch bump
    /// resets sequences). Copies the buffer: the old one may still be in a
    /// request on the wire and must not change under it.
    pub fn restamped(&self, stamp: ProducerStamp) -> RecordBatch {
        let mut buf = BytesMut::from(&self.bytes[..]);
        write_stamp(&mut buf, stamp);
        RecordBatch {
            bytes: buf.freeze(),
            record_count: self.record_count,
        }
    }
}

/// Size of a zigzag varint.
fn varint_len(v: i64) -> usize {
    uvarlong_len(((v << 1) ^ (v >> 63)) as u64)
}

fn put_varint(buf: &mut BytesMut, v: i64) {
    put_uvarlong(buf, ((v << 1) ^ (v >> 63)) as u64);
}

/// Size of a varint-length-prefixed nullable field.
fn field_size(field: Option<&[u8]>) -> usize {
    match field {
        None => 1,
        Some(f) => varint_len(f.len() as i64) + f.len(),
    }
}

fn put_field(buf: &mut BytesMut, field: Option<&[u8]>) {
    match field {
        None => put_varint(buf, -1),
        Some(f) => {
            put_varint(buf, f.len() as i64);
            buf.put_slice(f);
        }
    }
}
