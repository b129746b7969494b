//! What users send and what they get back.

use std::sync::Arc;

use bytes::Bytes;

/// One record header. Keys may repeat (KIP-82); order is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Header key.
    pub key: String,
    /// Header value; `None` is null, distinct from empty.
    pub value: Option<Bytes>,
}

impl Header {
    /// The header as the batch encoder takes it (borrowed, no copy).
    pub fn as_wire(&self) -> kafka_wire::record::RecordHeader<'_> {
        kafka_wire::record::RecordHeader {
            key: &self.key,
            value: self.value.as_deref(),
        }
    }
}

/// Headers as the batch encoder takes them (borrowed; no allocation when
/// there are none).
pub fn wire_headers(headers: &[Header]) -> Vec<kafka_wire::record::RecordHeader<'_>> {
    headers.iter().map(Header::as_wire).collect()
}

/// A record to produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerRecord {
    /// Destination topic. Shared, so that many records for one topic (and
    /// the producer's routing tables) hold one allocation of its name.
    pub topic: Arc<str>,
    /// Explicit partition; `None` lets the partitioner choose (murmur2 of the
    /// key when there is one, sticky otherwise).
    pub partition: Option<i32>,
    /// Key; `None` is null.
    pub key: Option<Bytes>,
    /// Value; `None` is null (a tombstone on compacted topics).
    pub value: Option<Bytes>,
    /// Timestamp in milliseconds since the epoch; `None` means now.
    pub timestamp: Option<i64>,
    /// Headers, in order.
    pub headers: Vec<Header>,
}

impl ProducerRecord {
    /// A record with a value and nothing else.
    pub fn new(topic: impl Into<Arc<str>>, value: impl Into<Bytes>) -> Self {
        ProducerRecord {
            topic: topic.into(),
            partition: None,
            key: None,
            value: Some(value.into()),
            timestamp: None,
            headers: Vec::new(),
        }
    }

    /// Sets the key.
    pub fn key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets an explicit partition.
    pub fn partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Sets an explicit timestamp (milliseconds since the epoch).
    pub fn timestamp(mut self, timestamp_ms: i64) -> Self {
        self.timestamp = Some(timestamp_ms);
        self
    }

    /// Appends a header (duplicate keys are allowed).
    pub fn header(mut self, key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.headers.push(Header {
            key: key.into(),
            value: Some(value.into()),
        });
        self
    }
}

/// Whose clock a record's timestamp comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimestampType {
    /// The producer's timestamp (0 on the wire).
    CreateTime,
    /// The broker's append time, for topics with
    /// `message.timestamp.type=LogAppendTime` (1 on the wire).
    LogAppendTime,
}

impl TimestampType {
    /// The numeric value Kafka uses.
    pub fn code(self) -> i8 {
        match self {
            TimestampType::CreateTime => 0,
            TimestampType::LogAppendTime => 1,
        }
    }
}

/// Where and when a record was written (the `Ack` of a `Produce`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    /// Topic.
    pub topic: Arc<str>,
    /// Partition.
    pub partition: i32,
    /// Offset in the partition; -1 when it is unknown (acks=0, or a
    /// duplicate detected by an idempotent producer's broker).
    pub offset: i64,
    /// The record's timestamp: the producer's, or the broker's append time.
    pub timestamp: i64,
    /// Which clock `timestamp` comes from.
    pub timestamp_type: TimestampType,
    /// The partition's log start offset when the batch was written; -1 when
    /// unknown.
    pub log_start_offset: i64,
}
