//! Typed codec errors.

use crate::api::ApiKey;

/// Why bytes from the wire could not be decoded.
///
/// A decode error means the peer sent something we cannot trust; the connection
/// that produced it should be closed (its framing may be lost).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before a field was complete.
    #[error("unexpected end of input: needed {needed} more bytes, {remaining} remain")]
    UnexpectedEof {
        /// Bytes the field needed.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A length or count field held a value that can never be valid (e.g. negative).
    #[error("invalid length {length} for {what}")]
    InvalidLength {
        /// The field being decoded.
        what: &'static str,
        /// The value read.
        length: i64,
    },
    /// A count announced more elements than the remaining bytes could hold.
    #[error("{what}: count {count} cannot fit in the {remaining} remaining bytes")]
    CountExceedsRemaining {
        /// The field being decoded.
        what: &'static str,
        /// The count read from the wire.
        count: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A varint ran past its maximum encoded length.
    #[error("varint longer than {max_bytes} bytes")]
    VarintTooLong {
        /// The maximum encoded length of that varint type.
        max_bytes: usize,
    },
    /// A string was not valid UTF-8.
    #[error("string field {what} is not valid UTF-8")]
    InvalidUtf8 {
        /// The field being decoded.
        what: &'static str,
    },
    /// A null appeared where the schema does not allow one.
    #[error("unexpected null for {what}")]
    UnexpectedNull {
        /// The field being decoded.
        what: &'static str,
    },
    /// A structure decoded completely but bytes were left over.
    #[error("{remaining} unexpected trailing bytes")]
    TrailingBytes {
        /// Bytes left over.
        remaining: usize,
    },
    /// A frame announced a size above the configured maximum.
    #[error("frame of {size} bytes exceeds the maximum of {max}")]
    FrameTooLarge {
        /// Announced size.
        size: i64,
        /// Configured maximum.
        max: usize,
    },
    /// A response arrived for a version this crate does not decode.
    #[error("{api:?} version {version} is not supported")]
    UnsupportedVersion {
        /// The API.
        api: ApiKey,
        /// The version asked for.
        version: i16,
    },
    /// The response's correlation id did not match the request's.
    #[error("correlation id mismatch: expected {expected}, got {actual}")]
    CorrelationMismatch {
        /// The id we sent.
        expected: i32,
        /// The id we received.
        actual: i32,
    },
    /// A field held a value that violates the protocol (bad magic, bad CRC, ...).
    #[error("corrupt {what}: {detail}")]
    Corrupt {
        /// The field or structure.
        what: &'static str,
        /// What exactly was wrong.
        detail: String,
    },
}

/// Why a request could not be encoded. These are caller errors, found before
/// anything is written to a socket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A string is longer than its length field can express.
    #[error("string of {len} bytes is too long for its length field")]
    StringTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// A byte field is longer than its length field can express.
    #[error("byte field of {len} bytes is too long for its length field")]
    BytesTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// An array has more elements than its count field can express.
    #[error("array of {len} elements is too long for its count field")]
    ArrayTooLong {
        /// Its element count.
        len: usize,
    },
    /// The request is too large to frame.
    #[error("request of {size} bytes is too large to frame")]
    FrameTooLarge {
        /// Its size.
        size: usize,
    },
    /// The request cannot be expressed in the chosen version.
    #[error("{api:?} version {version} is not supported")]
    UnsupportedVersion {
        /// The API.
        api: ApiKey,
        /// The version asked for.
        version: i16,
    },
    /// A field the chosen version requires was not set, or a set field cannot
    /// be expressed in the chosen version.
    #[error("{api:?} v{version}: {detail}")]
    InvalidForVersion {
        /// The API.
        api: ApiKey,
        /// The version chosen.
        version: i16,
        /// Which field and why.
        detail: &'static str,
    },
}
