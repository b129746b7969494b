//! Primitive types of the Kafka protocol.
//!
//! [`Reader`] decodes from a borrowed slice and returns a typed [`DecodeError`]
//! instead of panicking; [`Writer`] encodes into an owned buffer and can carry
//! large shared payloads (record batches) as separate segments, so a batch is
//! never copied between the moment it is encoded and the socket write.
//!
//! Both carry a `flexible` flag: in flexible message versions (KIP-482) strings,
//! bytes and arrays use compact (unsigned varint) lengths and every structure
//! ends with tagged fields. Message code calls `string()` or `array_len()` and the
//! flag picks the form, so version checks stay where the schema changes.

mod error;
mod reader;
pub(crate) mod writer;

pub use error::{DecodeError, EncodeError};
pub use reader::Reader;
pub use writer::Writer;

#[cfg(test)]
mod tests;
