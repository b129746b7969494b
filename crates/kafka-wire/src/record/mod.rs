//! Record batches, format v2 (magic 2), the only format Kafka 4.x accepts.
//!
//! ```text
//! offset  field
//!      0  base_offset             i64   (0 from a producer)
//!      8  batch_length            i32   (bytes after this field)
//!     12  partition_leader_epoch  i32   (-1 from a producer)
//!     16  magic                   i8    (2)
//!     17  crc                     u32   CRC-32C of bytes 21..
//!     21  attributes              i16   compression, timestamp type, transactional, control
//!     23  last_offset_delta       i32
//!     27  base_timestamp          i64
//!     35  max_timestamp           i64
//!     43  producer_id             i64
//!     51  producer_epoch          i16
//!     53  base_sequence           i32
//!     57  records_count           i32
//!     61  records (compressed as a whole when compression is on)
//! ```
//!
//! [`RecordBatchBuilder`] encodes each record into the batch buffer as it is
//! appended and knows the batch's exact size at every step. Closing it
//! compresses the records (if asked), stamps the producer id, epoch and base
//! sequence, and computes the CRC once. [`read_batches`] decodes batches back,
//! for tests and fuzzing.

mod builder;
mod reader;

pub use builder::{AppendInfo, BatchError, ProducerStamp, RecordBatch, RecordBatchBuilder, RecordHeader};
pub use reader::{read_batches, DecodedBatch, DecodedRecord};

/// Size of the batch header, up to and including the records count.
pub const BATCH_HEADER_SIZE: usize = 61;

/// Record batch magic (format version) written and read by this crate.
pub const MAGIC: i8 = 2;

/// Producer id meaning "not an idempotent producer".
pub const NO_PRODUCER_ID: i64 = -1;
/// Producer epoch meaning "not an idempotent producer".
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// Base sequence meaning "no sequence".
pub const NO_SEQUENCE: i32 = -1;

const CRC_OFFSET: usize = 17;
const ATTRIBUTES_OFFSET: usize = 21;

/// Attribute bit: timestamps are the broker's append time.
pub const ATTR_LOG_APPEND_TIME: i16 = 1 << 3;
/// Attribute bit: the batch belongs to a transaction.
pub const ATTR_TRANSACTIONAL: i16 = 1 << 4;
/// Attribute bit: the batch holds a control record (commit/abort marker).
pub const ATTR_CONTROL: i16 = 1 << 5;
/// Attribute bits 0-2: compression codec.
pub const ATTR_COMPRESSION_MASK: i16 = 0x07;

#[cfg(test)]
mod tests;
