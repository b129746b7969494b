//! The actors. Each owns its state, receives typed messages, and calls into
//! the plain logic of [`crate::accumulator`], [`crate::metadata`] and
//! [`crate::partitioner`]:
//!
//! ```text
//!  user ──Produce/Enqueue──▶ ProducerActor ──Append──▶ PartitionAccumulatorActor (per partition)
//!                              │    ▲                        │  ProducePartition
//!                   GetTopic   │    │ BatchCompleted         ▼
//!                              ▼    │               BrokerConnectionActor (per broker)
//!                          MetadataActor ──Call(Metadata)──▶ ┘
//! ```
//!
//! The `TransactionCoordinatorActor` ([`transaction`]) owns the idempotent
//! producer's id and epoch; transactions join it next.

pub mod metadata;
pub mod partition;
pub mod producer;
pub mod transaction;

pub use metadata::MetadataActor;
pub use partition::PartitionAccumulatorActor;
pub use producer::{
    DeliveryEvent, Enqueue, EnqueueAll, Flush, PartitionsFor, Produce, ProduceAll, ProducerActor, Stop,
    Subscribe,
};
