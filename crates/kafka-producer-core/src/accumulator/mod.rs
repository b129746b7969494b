//! The accumulator: records become batches, per partition.
//!
//! Everything here is plain logic driven by `now`; the
//! `PartitionAccumulatorActor` owns a [`PartitionQueue`] and turns its
//! decisions into messages and timers. Tests drive it on simulated time.

mod buffer;
mod queue;

pub use buffer::BufferPool;
pub use queue::{
    pending_size, AfterResponse, Completion, NewRecord, Outgoing, PartitionQueue, Poll, QueueConfig,
    SendOutcome,
};

#[cfg(test)]
mod tests;
