//! actix-kafka: a Kafka producer runtime on the [actix](https://actix.rs) actor framework.
//!
//! It gives an actix or actix-web service what aiokafka's `AIOKafkaProducer` gives a
//! Python one: a two-stage send (the first await *enqueues*, the second is the
//! *delivery*), batches per partition with at most one in flight, retries until
//! `request_timeout_ms`, `buffer_memory` and `max_block_ms` limits, compression,
//! Java-compatible partitioning, the idempotent producer and transactions.
//!
//! # Two ways in
//!
//! * The async facade [`Producer`]: `send`, `send_and_wait`, `send_all`, direct batches
//!   ([`Producer::create_batch`]), `flush`, transactions, `stop`.
//! * The actor address [`Producer::addr`]: send it [`Produce`] (answered with the
//!   record's [`RecordMetadata`], the `Ack`) or [`ProduceAll`], and [`Subscribe`] to
//!   [`DeliveryEvent`]s.
//!
//! ```no_run
//! use actix_kafka::{Producer, ProducerConfig, ProducerRecord};
//!
//! #[actix_rt::main]
//! async fn main() -> Result<(), actix_kafka::ProducerError> {
//!     let producer = Producer::start(ProducerConfig::new("127.0.0.1:9092")).await?;
//!     // First await: the record is in its partition's queue (or refused, never sent).
//!     let delivery = producer.send(ProducerRecord::new("events", "hello").key("k")).await?;
//!     // Second await: the broker wrote it. Dropping this future does not cancel the send.
//!     let ack = delivery.await?;
//!     println!("{}:{} at offset {}", ack.topic, ack.partition, ack.offset);
//!     producer.stop().await; // flushes everything first
//!     Ok(())
//! }
//! ```
//!
//! # Layers
//!
//! * [`kafka_wire`]: bytes in, typed values out (the protocol, record batches, codecs).
//! * [`kafka_producer_core`]: every producer rule as a plain struct driven by `now`,
//!   without I/O or a clock.
//! * this crate: the actors that drive those rules with messages, timers and sockets,
//!   and the public API below.
//!
//! What each guarantee and error means for your data is in `docs/guarantees.md`; the
//! life of a record, hop by hop, in `docs/architecture.md`.

#![deny(unsafe_code)]

pub use kafka_producer_core::config;
pub use kafka_producer_core::error;
pub use kafka_producer_core::record;

// Internals: public only for the project's benches, integration tests and CLI.
#[doc(hidden)]
pub use kafka_producer_core::{accumulator, metadata, partitioner, transaction};
#[doc(hidden)]
pub use kafka_wire as wire;
#[doc(hidden)]
pub mod actors;
mod clock;
#[doc(hidden)]
pub mod connection;
#[doc(hidden)]
pub mod delivery;
#[doc(hidden)]
pub mod probe;
mod producer;
pub mod security;

pub use actors::producer::{BeginTransaction, EndTransaction, SendOffsetsToTransaction};
pub use actors::{DeliveryEvent, Flush, PartitionsFor, Produce, ProduceAll, ProducerActor, Stop, Subscribe};
pub use config::{Acks, ProducerConfig};
pub use delivery::{DeliveryCallback, DeliveryFuture, DeliveryResult};
pub use error::{DataOutcome, ErrorClass, ProducerError};
pub use kafka_wire::compression::Compression;
pub use producer::{BatchBuilder, BatchRecordInfo, Producer};
pub use record::{Header, ProducerRecord, RecordMetadata, TimestampType};
