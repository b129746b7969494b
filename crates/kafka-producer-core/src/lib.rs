//! The rules of a Kafka producer, without I/O.
//!
//! Nothing here reads a clock, opens a socket or spawns a task. Every rule is a
//! plain struct: the caller (the `actix-kafka` actors, or a test on simulated
//! time) hands it what happened and the current `now: Instant`, and it answers
//! with what to do next.

#![deny(unsafe_code)]

pub mod accumulator;
pub mod config;
pub mod connection;
pub mod enqueue;
pub mod error;
pub mod metadata;
pub mod partition;
pub mod partitioner;
pub mod record;
pub mod sasl;
pub mod transaction;
