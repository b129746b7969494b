//! The typed details some [`ProducerError`](super::ProducerError) variants
//! carry instead of a free-text reason: match on them, or print them.

use std::fmt;

use kafka_wire::record::BatchError;

/// A broker, as errors name it: its node id from the cluster metadata, or a
/// bootstrap server before any broker is known (numbered from 1 in the order
/// of `bootstrap_servers`; the producer uses node ids -1, -2, ... for them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BrokerId(pub i32);

impl BrokerId {
    /// Whether this is a bootstrap server rather than a node of the cluster.
    pub fn is_bootstrap(self) -> bool {
        self.0 < 0
    }
}

impl fmt::Display for BrokerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_bootstrap() {
            write!(f, "bootstrap server #{}", -i64::from(self.0))
        } else {
            write!(f, "node {}", self.0)
        }
    }
}

impl From<i32> for BrokerId {
    fn from(node_id: i32) -> Self {
        BrokerId(node_id)
    }
}

/// Why a topic name is not a valid Kafka topic name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopicNameError {
    /// The name is empty.
    #[error("the name is empty")]
    Empty,
    /// `.` and `..` are reserved.
    #[error("\".\" and \"..\" are not topic names")]
    Dots,
    /// Longer than Kafka's 249 characters.
    #[error("the name has {length} characters, more than 249")]
    TooLong {
        /// Its length in bytes.
        length: usize,
    },
    /// A character other than ASCII letters, digits, `.`, `_` and `-`.
    #[error("{character:?} is not allowed (only ASCII letters, digits, '.', '_' and '-')")]
    IllegalCharacter {
        /// The first such character.
        character: char,
    },
}

/// Why a record batch could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeFailure {
    /// A batch built with `create_batch` holds no record.
    #[error("a batch needs at least one record")]
    EmptyBatch,
    /// A key, value or header is larger than a record can express.
    #[error("a record field of {length} bytes is larger than the protocol allows")]
    FieldTooLarge {
        /// Its length in bytes.
        length: usize,
    },
    /// The batch would hold more than `i32::MAX` records or bytes.
    #[error("the batch is larger than the protocol allows")]
    BatchTooLarge,
    /// The compression codec failed; the codec's own message.
    #[error("compression failed: {message}")]
    Compression {
        /// What the codec said.
        message: String,
    },
}

impl From<&BatchError> for EncodeFailure {
    fn from(error: &BatchError) -> Self {
        match error {
            BatchError::Empty => EncodeFailure::EmptyBatch,
            BatchError::FieldTooLarge { len } => EncodeFailure::FieldTooLarge { length: *len },
            BatchError::BatchTooLarge => EncodeFailure::BatchTooLarge,
            BatchError::Compression(codec) => EncodeFailure::Compression {
                message: codec.to_string(),
            },
            other => EncodeFailure::Compression {
                message: other.to_string(),
            },
        }
    }
}
