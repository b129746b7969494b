//! The messages a `ProducerActor` answers: the actor-level API.

use std::time::Duration;

use actix::prelude::*;

pub use crate::delivery::DeliveryEvent;
use crate::delivery::Ticket;
use crate::error::ProducerError;
use crate::record::{ProducerRecord, RecordMetadata};
use kafka_wire::record::RecordBatchBuilder;

/// Messages the producer's mailbox holds before `Addr::send` waits.
pub const MAILBOX_CAPACITY: usize = 4096;

/// Enqueues a record; its `ticket` answers when the record is in its
/// partition's queue, or why it never will be, and then its delivery.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Enqueue {
    /// The record.
    pub record: ProducerRecord,
    /// Where the enqueue and delivery results go.
    pub ticket: Ticket,
}

/// Produces a record and answers with its delivery result: the actor-level
/// `Produce` → `Ack` exchange.
#[derive(Message)]
#[rtype(result = "Result<RecordMetadata, ProducerError>")]
pub struct Produce(pub ProducerRecord);

/// Produces many records with one mailbox message; answers with one result
/// per record, in order, once all are delivered.
#[derive(Message)]
#[rtype(result = "Vec<Result<RecordMetadata, ProducerError>>")]
pub struct ProduceAll(pub Vec<ProducerRecord>);

/// Enqueues many records with one mailbox message; each ticket answers as
/// that record is enqueued.
#[derive(Message)]
#[rtype(result = "()")]
pub struct EnqueueAll(pub Vec<Enqueue>);

/// Sends everything buffered and answers when every record enqueued before
/// the flush has completed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Flush;

/// Refuses new records, flushes, then stops the runtime's actors. Answers
/// whether everything was flushed.
///
/// With a `timeout`, gives up when it passes: records still waiting to be
/// enqueued or sent fail with [`ProducerError::Cancelled`] (never sent), and
/// those in flight with [`ProducerError::Disconnected`] (outcome unknown).
/// Without one it waits as long as the records take — forever for an
/// idempotent producer whose brokers stay away, since its batches never expire.
#[derive(Message, Default)]
#[rtype(result = "bool")]
pub struct Stop {
    /// How long the flush may take.
    pub timeout: Option<Duration>,
}

/// The partitions of a topic (waits for metadata up to `max_block_ms`).
#[derive(Message)]
#[rtype(result = "Result<Vec<i32>, ProducerError>")]
pub struct PartitionsFor(pub String);

/// Subscribes to [`DeliveryEvent`]s.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Subscribe(pub Recipient<DeliveryEvent>);

/// Enqueues a batch built with `create_batch` for an explicit partition; the
/// delivery result is the metadata of the batch's first record.
#[derive(Message)]
#[rtype(result = "()")]
pub struct EnqueueBatch {
    /// The records, encoded.
    pub builder: RecordBatchBuilder,
    /// Destination topic.
    pub topic: String,
    /// Destination partition.
    pub partition: i32,
    /// Where the enqueue and delivery results go.
    pub ticket: Ticket,
}
