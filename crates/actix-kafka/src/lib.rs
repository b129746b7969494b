//! actix-kafka: a Kafka producer runtime on the actix actor framework.
//!
//! The wire protocol lives in [`kafka_wire`], re-exported here as [`wire`].

#![deny(unsafe_code)]

pub use kafka_wire as wire;

pub mod accumulator;
pub mod actors;
pub mod config;
pub mod connection;
pub mod delivery;
pub mod error;
pub mod metadata;
pub mod partitioner;
pub mod probe;
mod producer;
pub mod record;
pub mod transaction;

pub use actors::{DeliveryEvent, Produce, ProduceAll, ProducerActor};
pub use config::ProducerConfig;
pub use delivery::{DeliveryCallback, DeliveryFuture, DeliveryResult};
pub use error::{ErrorClass, ProducerError};
pub use producer::{BatchBuilder, BatchRecordInfo, Producer};
pub use record::{Header, ProducerRecord, RecordMetadata, TimestampType};
