//! The enqueue stage: a record's life from `send` until it sits in its
//! partition's queue.
//!
//! Before a record reaches its partition's queue the producer must decide,
//! in this order:
//!
//! 1. **Is a send accepted now?** The [`SendGate`]: the producer runs, and a
//!    transactional producer is inside a transaction.
//! 2. **Does the record fit?** Its [`estimated_size`] must stay under
//!    `max_request_size` and what `buffer_memory` can ever hold.
//! 3. **Is its topic known?** If not, the record waits, behind earlier
//!    records of the same topic, while the driver fetches the topic's
//!    metadata; an answer that does not come by `max_block_ms` refuses them.
//! 4. **Which partition?** [`choose_partition`]: the explicit one (checked),
//!    the key's (murmur2, as Java), or the sticky partitioner's.
//! 5. **Is there buffer space?** The record reserves its bytes from
//!    `buffer_memory`, or waits for space until its `max_block_ms` deadline
//!    (counted from when it began to wait for anything).
//!
//! Then it is handed over. [`EnqueueStage`] runs these steps as a state
//! machine with no clock and no I/O: the driver calls `handle_*` with what
//! happened and drains `poll_event` for what to do (fetch a topic, hand a
//! record over, refuse one), and calls `handle_timeout` by each `poll_deadline`.
//!
//! A refusal inside a transaction dooms the transaction (as in the Java
//! client), so that it never commits without a record its caller sent:
//! [`refusal_dooms_transaction`] decides, and each refusal says so.

mod rules;
mod stage;

pub use rules::{
    check_record_size, choose_partition, estimated_size, max_record_size, refusal_dooms_transaction, SendGate,
};
pub use stage::{EnqueueEvent, EnqueueLimits, EnqueueStage, HandOver, LazyNow, Payload};
