//! actix-kafka: a Kafka producer runtime on the actix actor framework.
//!
//! This crate is a skeleton; the actor runtime arrives with the next milestone.
//! The wire protocol lives in [`kafka_wire`], re-exported here as [`wire`].

#![deny(unsafe_code)]

pub use kafka_wire as wire;

pub mod probe;
