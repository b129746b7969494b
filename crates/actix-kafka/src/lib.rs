//! actix-kafka: a Kafka producer runtime on the actix actor framework.
//!
//! The wire protocol lives in [`kafka_wire`], re-exported here as [`wire`].

#![deny(unsafe_code)]

pub use kafka_wire as wire;

pub use kafka_producer_core::{accumulator, config, error, metadata, partitioner, record, transaction};

pub mod actors;
mod clock;
pub mod connection;
pub mod delivery;
pub mod probe;
mod producer;

pub use actors::{DeliveryEvent, Produce, ProduceAll, ProducerActor};
pub use config::ProducerConfig;
pub use delivery::{DeliveryCallback, DeliveryFuture, DeliveryResult};
pub use error::{ErrorClass, ProducerError};
pub use producer::{BatchBuilder, BatchRecordInfo, Producer};
pub use record::{Header, ProducerRecord, RecordMetadata, TimestampType};
