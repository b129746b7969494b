//! Kafka error codes (being written).

/// A Kafka error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub i16);
