//! The Kafka wire protocol, as much of it as a producer needs, written by hand.
//!
//! No actors, no async runtime, no sockets: this crate turns typed requests into
//! bytes and bytes into typed responses, and nothing else.
//!
//! * [`codec`]: the primitive types (`Reader` with typed [`DecodeError`]s, `Writer`).
//! * [`frame`]: length-prefixed frames with a maximum size, check-then-parse.
//! * [`header`]: request and response headers.
//! * [`api`]: API keys, the version ranges we support, and negotiation against
//!   the broker's `ApiVersions` answer.
//! * [`messages`]: one module per API (request encoders, response decoders).
//! * [`record`]: the v2 record batch builder and a reader.
//! * [`compression`]: gzip, snappy, lz4 and zstd as Kafka writes them.
//! * [`error_code`]: every error code a producer can see, with its flags.
//!
//! Decoding never panics and never allocates more than the bytes in hand justify:
//! every count read from the wire is checked against the bytes that remain.
//!
//! A record batch, built the way a producer builds one and read back the way a broker
//! would see it:
//!
//! ```
//! use kafka_wire::compression::Compression;
//! use kafka_wire::record::{read_batches, ProducerStamp, RecordBatchBuilder, RecordHeader};
//!
//! let mut builder = RecordBatchBuilder::new(Compression::Lz4, 16 * 1024);
//! let headers = [RecordHeader { key: "trace", value: Some(b"abc".as_slice()) }];
//! builder.append(1_700_000_000_000, Some(b"key"), Some(b"value"), &headers).unwrap();
//! let batch = builder.close(ProducerStamp::NONE).unwrap(); // compressed, CRC computed once
//!
//! let decoded = read_batches(batch.bytes(), 1 << 20).unwrap();
//! assert_eq!(decoded[0].records[0].value.as_deref(), Some(b"value".as_slice()));
//! ```

#![deny(unsafe_code)]

pub mod api;
pub mod codec;
pub mod compression;
pub mod error_code;
pub mod frame;
pub mod header;
pub mod messages;
pub mod record;

pub use api::{ApiKey, VersionRange};
pub use codec::{DecodeError, EncodeError, Reader, Writer};
pub use error_code::ErrorCode;
