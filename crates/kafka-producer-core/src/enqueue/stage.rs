//! [`EnqueueStage`]: the enqueue stage's state machine (see the module above).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_wire::record::RecordBatchBuilder;

use super::rules::{
    check_record_size, choose_partition, estimated_size, max_record_size, refusal_dooms_transaction, SendGate,
};
use crate::accumulator::BufferPool;
use crate::error::{EncodeFailure, ProducerError};
use crate::metadata::{validate_topic_name, TopicInfo};
use crate::partitioner::{FastRng, StickyPartitioner};
use crate::record::ProducerRecord;

/// Maps looked up per record: a fast hasher (keys are our own topic names).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The current time, read only when a rule needs it and then at most once.
///
/// Most records never wait, so most never need the time, and a clock read
/// costs as much as the rest of their enqueue. The driver passes a clock
/// function; a test passes a fixed instant.
#[derive(Debug)]
pub struct LazyNow {
    read: fn() -> Instant,
    at: Option<Instant>,
}

impl LazyNow {
    /// The time `read` tells, read on first use.
    pub fn new(read: fn() -> Instant) -> Self {
        LazyNow { read, at: None }
    }

    /// A fixed instant (simulated time).
    pub fn at(now: Instant) -> Self {
        fn unreachable_clock() -> Instant {
            unreachable!("a fixed LazyNow never reads a clock")
        }
        LazyNow {
            read: unreachable_clock,
            at: Some(now),
        }
    }

    /// The time, read now if it was not yet.
    pub fn get(&mut self) -> Instant {
        *self.at.get_or_insert_with(self.read)
    }
}

/// The limits the stage enforces, from the producer's config.
#[derive(Debug, Clone, Copy)]
pub struct EnqueueLimits {
    /// `max_block_ms`: how long a record may wait for metadata and buffer
    /// space together.
    pub max_block: Duration,
    /// `max_request_size`.
    pub max_request_size: usize,
    /// `buffer_memory`.
    pub buffer_memory: usize,
    /// `max_batch_size`: when the sticky partitioner moves on.
    pub max_batch_size: usize,
    /// Memory each record holds besides its bytes until its batch completes
    /// (the driver's delivery slot and batch entry); reserved with them.
    pub bookkeeping: usize,
    /// Whether sends are accepted only inside a transaction.
    pub transactional: bool,
}

/// What is being enqueued.
#[derive(Debug)]
pub enum Payload {
    /// One record; the stage picks its partition.
    Record(ProducerRecord),
    /// A batch the caller built (`create_batch`), for an explicit partition.
    Batch {
        /// The encoded records.
        builder: RecordBatchBuilder,
        /// The partition the caller chose (checked against the topic).
        partition: i32,
    },
}

/// A record or batch leaving the stage for its partition's queue.
#[derive(Debug)]
pub struct HandOver<T> {
    /// Topic.
    pub topic: Arc<str>,
    /// The chosen partition.
    pub partition: i32,
    /// The record or batch.
    pub payload: Payload,
    /// Bytes reserved from `buffer_memory`; given back with
    /// [`EnqueueStage::handle_release`] when the batch completes, or at once
    /// if the caller no longer waits.
    pub reserved: usize,
    /// The caller's ticket.
    pub ticket: T,
}

/// What the driver must do next (from [`EnqueueStage::poll_event`]).
#[derive(Debug)]
pub enum EnqueueEvent<T> {
    /// Fetch `topic`'s metadata, answering [`EnqueueStage::handle_topic`] by
    /// `deadline` at the latest (with the error if it is not known by then).
    FetchTopic {
        /// The topic.
        topic: Arc<str>,
        /// When its first waiting record's `max_block_ms` ends.
        deadline: Instant,
    },
    /// Hand the record over to its partition's queue.
    HandOver(HandOver<T>),
    /// Refuse the record: it is never sent.
    Refuse {
        /// The caller's ticket.
        ticket: T,
        /// Why.
        error: ProducerError,
        /// The record was sent inside a transaction, which must now abort.
        dooms_transaction: bool,
    },
}

/// A record past its first checks, waiting for its topic or buffer space.
#[derive(Debug)]
struct Waiting<T> {
    topic: Arc<str>,
    payload: Payload,
    /// Encoded size (estimated for a record) plus bookkeeping.
    reservation: usize,
    /// When it began to wait, if it has.
    since: Option<Instant>,
    ticket: T,
    /// Sent inside a transaction: it belongs to that transaction.
    in_transaction: bool,
}

/// The enqueue stage of one producer, generic over the caller's ticket `T`
/// (whatever the driver answers the caller through).
#[derive(Debug)]
pub struct EnqueueStage<T> {
    limits: EnqueueLimits,
    gate: SendGate,
    topics: FastMap<Arc<str>, TopicInfo>,
    /// Records waiting for their topic's metadata, per topic, in order.
    awaiting_topic: FastMap<Arc<str>, VecDeque<Waiting<T>>>,
    pool: BufferPool<(Waiting<T>, i32)>,
    sticky: StickyPartitioner,
    rng: FastRng,
    events: VecDeque<EnqueueEvent<T>>,
    /// The earliest buffer-wait deadline added since the driver last asked.
    new_deadline: Option<Instant>,
}

impl<T> EnqueueStage<T> {
    /// An empty stage; `seed` seeds the keyless partitioner's choices.
    pub fn new(limits: EnqueueLimits, seed: u64) -> Self {
        EnqueueStage {
            gate: SendGate::new(limits.transactional),
            topics: FastMap::default(),
            awaiting_topic: FastMap::default(),
            pool: BufferPool::new(limits.buffer_memory),
            sticky: StickyPartitioner::new(limits.max_batch_size),
            rng: FastRng::new(seed),
            events: VecDeque::new(),
            new_deadline: None,
            limits,
        }
    }

    /// The send gate (transaction boundaries and close open and shut it).
    pub fn gate(&self) -> &SendGate {
        &self.gate
    }

    /// See [`gate`](Self::gate).
    pub fn gate_mut(&mut self) -> &mut SendGate {
        &mut self.gate
    }

    /// A record sent by a caller.
    pub fn handle_record(&mut self, record: ProducerRecord, ticket: T, now: &mut LazyNow) {
        let in_transaction = self.gate.in_transaction();
        let max = max_record_size(
            self.limits.max_request_size,
            self.limits.buffer_memory,
            self.limits.bookkeeping,
        );
        let size = match self
            .gate
            .check()
            .and_then(|()| check_timestamp(record.timestamp))
            .and_then(|()| check_record_size(estimated_size(&record), max))
        {
            Ok(size) => size,
            Err(error) => return self.refuse(ticket, error, in_transaction),
        };
        // The common case, with one map lookup: the topic is known (so its
        // name is valid) and no record of any topic waits for metadata.
        if self.awaiting_topic.is_empty() {
            if let Some(info) = self.topics.get(&record.topic) {
                let (explicit, key) = (record.partition, record.key.as_deref());
                let sticky = &mut self.sticky;
                return match choose_partition(info, explicit, key, size, sticky, &mut self.rng) {
                    Ok(partition) => {
                        let topic = record.topic.clone();
                        let waiting = self.waiting(topic, Payload::Record(record), size, ticket);
                        self.reserve(waiting, partition, now)
                    }
                    Err(error) => self.refuse(ticket, error, in_transaction),
                };
            }
        }
        if let Err(error) = check_topic_name(&record.topic) {
            return self.refuse(ticket, error, in_transaction);
        }
        let topic = record.topic.clone();
        let waiting = self.waiting(topic, Payload::Record(record), size, ticket);
        self.admit(waiting, now);
    }

    /// A batch built by the caller, for an explicit partition.
    pub fn handle_batch(
        &mut self,
        builder: RecordBatchBuilder,
        topic: &str,
        partition: i32,
        ticket: T,
        now: &mut LazyNow,
    ) {
        let checked = self.gate.check().and_then(|()| {
            if builder.is_empty() {
                Err(ProducerError::Encode {
                    reason: EncodeFailure::EmptyBatch,
                })
            } else {
                check_topic_name(topic)
            }
        });
        if let Err(error) = checked {
            let in_transaction = self.gate.in_transaction();
            return self.refuse(ticket, error, in_transaction);
        }
        let size = builder.size();
        let payload = Payload::Batch { builder, partition };
        let waiting = self.waiting(Arc::from(topic), payload, size, ticket);
        self.admit(waiting, now);
    }

    /// The answer to a [`EnqueueEvent::FetchTopic`]: the records waiting for
    /// `topic` go on, or are all refused with the error.
    pub fn handle_topic(
        &mut self,
        topic: &Arc<str>,
        answer: Result<TopicInfo, ProducerError>,
        now: &mut LazyNow,
    ) {
        let waiting = self.awaiting_topic.remove(topic).unwrap_or_default();
        match answer {
            Ok(info) => {
                self.topics.insert(topic.clone(), info);
                for waiting in waiting {
                    self.route(waiting, now);
                }
            }
            Err(error) => {
                for waiting in waiting {
                    let in_transaction = waiting.in_transaction;
                    self.refuse(waiting.ticket, error.clone(), in_transaction);
                }
            }
        }
    }

    /// Newer metadata for topics the stage may know; a topic whose partition
    /// count changed starts a new sticky choice.
    pub fn handle_topics_updated(&mut self, topics: impl IntoIterator<Item = TopicInfo>) {
        for info in topics {
            if let Some(known) = self.topics.get_mut(&info.name) {
                if known.partition_count != info.partition_count {
                    self.sticky.reset(&info.name);
                }
                *known = info;
            }
        }
    }

    /// Buffer bytes given back (a batch completed, or a hand-over whose
    /// caller no longer waited): records waiting for space go on.
    pub fn handle_release(&mut self, bytes: usize) {
        for (waiting, partition) in self.pool.release(bytes) {
            self.hand_over(waiting, partition);
        }
    }

    /// Time passed: records whose `max_block_ms` ended while waiting for
    /// buffer space are refused.
    pub fn handle_timeout(&mut self, now: Instant) {
        let (expired, ready) = self.pool.expire(now);
        for (waiting, _) in expired {
            let error = ProducerError::BufferFull {
                requested: waiting.reservation,
                waited_ms: waiting
                    .since
                    .map_or(0, |since| now.saturating_duration_since(since).as_millis() as u64),
            };
            let in_transaction = waiting.in_transaction;
            self.refuse(waiting.ticket, error, in_transaction);
        }
        for (waiting, partition) in ready {
            self.hand_over(waiting, partition);
        }
        // Scans the waiters, but only when a timer fired.
        self.new_deadline = self.pool.next_deadline();
    }

    /// The next thing for the driver to do, in order.
    pub fn poll_event(&mut self) -> Option<EnqueueEvent<T>> {
        self.events.pop_front()
    }

    /// A deadline by which [`handle_timeout`](Self::handle_timeout) must be
    /// called, if a record began to wait for buffer space since the last
    /// call (or a timeout left waiters): the driver arms a timer for it
    /// unless one already fires earlier. Constant time, so it can be asked
    /// after every record.
    pub fn poll_deadline(&mut self) -> Option<Instant> {
        self.new_deadline.take()
    }

    /// Whether no record waits for metadata or buffer space.
    pub fn is_drained(&self) -> bool {
        self.awaiting_topic.is_empty() && !self.pool.has_waiters()
    }

    /// Empties the stage (a stop gave up): the tickets of every waiting
    /// record, none of which was sent.
    pub fn abandon(&mut self) -> Vec<T> {
        let mut tickets: Vec<T> = self
            .awaiting_topic
            .drain()
            .flat_map(|(_, queue)| queue)
            .map(|waiting| waiting.ticket)
            .collect();
        tickets.extend(self.pool.take_waiters().into_iter().map(|(w, _)| w.ticket));
        tickets
    }

    fn waiting(&self, topic: Arc<str>, payload: Payload, size: usize, ticket: T) -> Waiting<T> {
        Waiting {
            topic,
            payload,
            reservation: size + self.limits.bookkeeping,
            since: None,
            ticket,
            in_transaction: self.gate.in_transaction(),
        }
    }

    /// Routes now if the topic is known, else waits for its metadata behind
    /// earlier records of the same topic.
    fn admit(&mut self, mut waiting: Waiting<T>, now: &mut LazyNow) {
        if let Some(queue) = self.awaiting_topic.get_mut(&waiting.topic) {
            waiting.since = Some(now.get());
            queue.push_back(waiting);
        } else if self.topics.contains_key(&waiting.topic) {
            self.route(waiting, now);
        } else {
            let since = now.get();
            waiting.since = Some(since);
            let topic = waiting.topic.clone();
            self.awaiting_topic
                .entry(topic.clone())
                .or_default()
                .push_back(waiting);
            let deadline = since + self.limits.max_block;
            self.events
                .push_back(EnqueueEvent::FetchTopic { topic, deadline });
        }
    }

    /// Picks the partition (the topic is known) and reserves buffer space.
    fn route(&mut self, waiting: Waiting<T>, now: &mut LazyNow) {
        let Some(info) = self.topics.get(&waiting.topic) else {
            // Unreachable: topics are routed only once known, and never forgotten.
            let error = ProducerError::UnknownTopic {
                topic: waiting.topic.to_string(),
                waited_ms: 0,
            };
            let in_transaction = waiting.in_transaction;
            return self.refuse(waiting.ticket, error, in_transaction);
        };
        let (explicit, key) = match &waiting.payload {
            Payload::Record(record) => (record.partition, record.key.as_deref()),
            Payload::Batch { partition, .. } => (Some(*partition), None),
        };
        let size = waiting.reservation - self.limits.bookkeeping;
        match choose_partition(info, explicit, key, size, &mut self.sticky, &mut self.rng) {
            Ok(partition) => self.reserve(waiting, partition, now),
            Err(error) => {
                let in_transaction = waiting.in_transaction;
                self.refuse(waiting.ticket, error, in_transaction)
            }
        }
    }

    /// Reserves buffer space and hands the record over, or queues it until
    /// space is released or its deadline passes.
    fn reserve(&mut self, mut waiting: Waiting<T>, partition: i32, now: &mut LazyNow) {
        if self.pool.try_reserve(waiting.reservation) {
            return self.hand_over(waiting, partition);
        }
        let deadline = *waiting.since.get_or_insert_with(|| now.get()) + self.limits.max_block;
        let reservation = waiting.reservation;
        self.pool.wait(reservation, deadline, (waiting, partition));
        self.new_deadline = Some(self.new_deadline.map_or(deadline, |d| d.min(deadline)));
    }

    fn hand_over(&mut self, waiting: Waiting<T>, partition: i32) {
        self.events.push_back(EnqueueEvent::HandOver(HandOver {
            topic: waiting.topic,
            partition,
            payload: waiting.payload,
            reserved: waiting.reservation,
            ticket: waiting.ticket,
        }));
    }

    fn refuse(&mut self, ticket: T, error: ProducerError, in_transaction: bool) {
        let dooms_transaction = refusal_dooms_transaction(&error, in_transaction);
        self.events.push_back(EnqueueEvent::Refuse {
            ticket,
            error,
            dooms_transaction,
        });
    }
}

fn check_timestamp(timestamp: Option<i64>) -> Result<(), ProducerError> {
    match timestamp {
        Some(timestamp_ms) if timestamp_ms < 0 => Err(ProducerError::InvalidTimestamp { timestamp_ms }),
        _ => Ok(()),
    }
}

fn check_topic_name(topic: &str) -> Result<(), ProducerError> {
    validate_topic_name(topic).map_err(|reason| ProducerError::InvalidTopic {
        topic: topic.to_string(),
        reason,
    })
}

#[cfg(test)]
#[path = "stage_tests.rs"]
mod tests;
