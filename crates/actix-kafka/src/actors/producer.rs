//! `ProducerActor`: the address users hold.
//!
//! It validates records, waits for topic metadata (up to `max_block_ms`),
//! picks the partition, reserves buffer memory (waiting up to `max_block_ms`
//! for space), and hands the record to its partition's accumulator. It also
//! fans out delivery events and runs flush and stop.
//!
//! The enqueue stage ends when the record is handed to the accumulator; that
//! happens only if the caller is still waiting for it, so a caller that gave
//! up (timeout or dropped future) never has its record sent.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use futures_util::future::join_all;
use tokio::sync::oneshot;

use super::metadata::{GetTopic, ListenForTopics, MetadataActor, ShutdownMetadata, TopicsUpdated};
use super::partition::{
    Abandon, Append, AppendAll, AppendBatch, BatchCompleted, FlushPartition, PartitionAccumulatorActor,
    PartitionSettings, SetIdentity,
};
use super::transaction::{IdentityChanged, ListenForIdentity, TransactionCoordinatorActor, TxnBatchFailed};
use crate::accumulator::{BufferPool, PartitionQueue, ProducerIdentity, QueueConfig};
use crate::clock::now_ms;
use crate::config::ProducerConfig;
use crate::delivery::{Group, Ticket};
use crate::error::ProducerError;
use crate::metadata::{validate_topic_name, TopicInfo};
use crate::partitioner::{FastRng, StickyPartitioner};
use crate::record::{ProducerRecord, RecordMetadata};
use kafka_producer_core::enqueue::{
    check_record_size, choose_partition, estimated_size, max_record_size, refusal_dooms_transaction, SendGate,
};
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

/// A batch's outcome, sent to every subscriber: one event per batch, since
/// per-record events would multiply mailbox traffic by the batch size; the
/// record offsets are `base_offset..base_offset + record_count`.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct DeliveryEvent {
    /// Topic.
    pub topic: Arc<str>,
    /// Partition.
    pub partition: i32,
    /// Offset of the batch's first record; -1 when unknown (acks=0) or failed.
    pub base_offset: i64,
    /// Number of records in the batch.
    pub record_count: usize,
    /// `None` on success, else the error every record of the batch got.
    pub error: Option<ProducerError>,
}

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

/// Memory a record holds besides its encoded bytes until its batch
/// completes: its delivery slot and its entry in the batch. Reserved from
/// `buffer_memory` with the encoded bytes, so that the buffer bounds both.
const RECORD_BOOKKEEPING: usize = crate::delivery::SLOT_SIZE + crate::accumulator::pending_size::<Ticket>();

/// What waits in the enqueue stage.
enum Payload {
    Record(ProducerRecord),
    Batch {
        builder: RecordBatchBuilder,
        partition: i32,
    },
}

/// A record or batch past validation, waiting for its topic or for buffer space.
struct Waiting {
    topic: Arc<str>,
    payload: Payload,
    /// Encoded size (estimated for a record).
    size: usize,
    /// When it began to wait; read from the clock only for a record that
    /// waits (most never do, and a clock read costs as much as the rest).
    since: Option<Instant>,
    ticket: Ticket,
    /// Admitted inside a transaction: it belongs to that transaction.
    in_txn: bool,
}

impl Waiting {
    /// What it takes from `buffer_memory` until its batch completes.
    fn reservation(&self) -> usize {
        self.size + RECORD_BOOKKEEPING
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    Stopping,
}

/// A topic and one of its partitions.
type TopicPartition = (Arc<str>, i32);

/// Maps looked up per record: a fast hasher (keys are our own topic names).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The hand-overs collected while a many-record message is handled, by
/// partition, in first-seen order; sent as one `AppendAll` per partition.
#[derive(Default)]
struct Outbox {
    partitions: Vec<(TopicPartition, Vec<Append>)>,
    index: FastMap<TopicPartition, usize>,
    /// The wall clock (ms) for the records without a timestamp, read once
    /// per message.
    now_ms: Option<i64>,
    /// When the records that must wait began to, read once per message.
    now: Option<Instant>,
}

impl Outbox {
    fn push(&mut self, partition: i32, append: Append) {
        let topic = &append.record.topic;
        // Consecutive records mostly share a partition (sticky or keyed).
        if let Some(((last_topic, last_partition), appends)) = self.partitions.last_mut() {
            if *last_partition == partition && last_topic == topic {
                appends.push(append);
                return;
            }
        }
        let key = (topic.clone(), partition);
        let partitions = &mut self.partitions;
        let at = *self.index.entry(key.clone()).or_insert_with(|| {
            partitions.push((key, Vec::new()));
            partitions.len() - 1
        });
        partitions[at].1.push(append);
    }
}

/// See the module documentation.
pub struct ProducerActor {
    config: Arc<ProducerConfig>,
    acks: i16,
    metadata: Addr<MetadataActor>,
    partitions: FastMap<TopicPartition, Addr<PartitionAccumulatorActor>>,
    topics: FastMap<Arc<str>, TopicInfo>,
    /// Records waiting for their topic's metadata, per topic, in order.
    awaiting_topic: FastMap<Arc<str>, VecDeque<Waiting>>,
    pool: BufferPool<(Waiting, i32)>,
    sticky: StickyPartitioner,
    rng: FastRng,
    subscribers: Vec<Recipient<DeliveryEvent>>,
    state: State,
    /// When the buffer-wait timer fires, and its handle.
    pool_timer: Option<(Instant, SpawnHandle)>,
    /// Idempotence: the current identity and who bumps it.
    identity: Option<ProducerIdentity>,
    coordinator: Option<Addr<TransactionCoordinatorActor>>,
    /// Whether sends are accepted: the one place that decides (a
    /// transactional producer accepts them only inside a transaction).
    send_gate: SendGate,
    /// Who waits for the enqueue stage to empty (flush, commit, stop).
    drain_waiters: Vec<oneshot::Sender<()>>,
    /// While a many-record message is handled: its records by partition,
    /// sent as one `AppendAll` per partition at the end.
    outbox: Option<Outbox>,
}

impl ProducerActor {
    /// A producer with a validated `config` and a running metadata actor.
    /// An idempotent producer also has its coordinator and first identity.
    pub fn new(
        config: Arc<ProducerConfig>,
        metadata: Addr<MetadataActor>,
        idempotence: Option<(Addr<TransactionCoordinatorActor>, ProducerIdentity)>,
    ) -> Self {
        let seed = now_ms() as u64 ^ u64::from(std::process::id());
        ProducerActor {
            acks: config.effective_acks().code(),
            sticky: StickyPartitioner::new(config.max_batch_size),
            rng: FastRng::new(seed),
            pool: BufferPool::new(config.buffer_memory),
            send_gate: SendGate::new(config.is_transactional()),
            config,
            metadata,
            partitions: FastMap::default(),
            topics: FastMap::default(),
            awaiting_topic: FastMap::default(),
            subscribers: Vec::new(),
            state: State::Running,
            pool_timer: None,
            identity: idempotence.as_ref().map(|(_, identity)| *identity),
            coordinator: idempotence.map(|(coordinator, _)| coordinator),
            drain_waiters: Vec::new(),
            outbox: None,
        }
    }

    fn max_block(&self) -> Duration {
        Duration::from_millis(self.config.max_block_ms)
    }

    /// Whether a record may be enqueued now: running, and inside a
    /// transaction for a transactional producer (the send gate decides).
    fn check_open(&self) -> Result<(), ProducerError> {
        self.send_gate.check()
    }

    /// Refuses a record in the enqueue stage. Inside a transaction that dooms
    /// the transaction (as the Java client does): it may only be aborted, so
    /// that it never commits without a record its caller sent. A send
    /// refused because no transaction is open, or the producer is closed,
    /// changes nothing.
    fn refuse(&self, ticket: Ticket, error: ProducerError, in_txn: bool) {
        if let (true, Some(coordinator)) = (refusal_dooms_transaction(&error, in_txn), &self.coordinator) {
            coordinator.do_send(TxnBatchFailed(error.clone()));
        }
        ticket.refuse(error);
    }

    /// Answers the drain waiters once no record waits for metadata or
    /// buffer space.
    fn check_drained(&mut self) {
        if self.awaiting_topic.is_empty() && !self.pool.has_waiters() {
            for waiter in self.drain_waiters.drain(..) {
                let _ = waiter.send(());
            }
        }
    }

    /// Resolves once every record already in the enqueue stage is in its
    /// partition's queue or refused.
    fn enqueue_drained(&mut self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        self.drain_waiters.push(tx);
        self.check_drained();
        rx
    }

    /// Flushes everything: waits for the enqueue stage to empty, then for
    /// every partition to complete what it holds.
    fn flush_everything(&mut self) -> impl ActorFuture<Self, Output = ()> {
        self.enqueue_drained()
            .into_actor(self)
            .then(|_, actor: &mut Self, _| actor.flush_all().into_actor(actor))
    }

    /// Checks what can be checked without metadata (but the topic name, see
    /// `enqueue`), and sizes the record.
    fn validate(&self, record: &ProducerRecord) -> Result<usize, ProducerError> {
        self.check_open()?;
        let max = max_record_size(
            self.config.max_request_size,
            self.config.buffer_memory,
            RECORD_BOOKKEEPING,
        );
        check_record_size(estimated_size(record), max)
    }

    fn enqueue(&mut self, msg: Enqueue, ctx: &mut Context<Self>) {
        let Enqueue { record, ticket } = msg;
        let size = match self.validate(&record) {
            Ok(size) => size,
            Err(e) => return self.refuse(ticket, e, self.send_gate.in_transaction()),
        };
        // The common case, with one map lookup and no queuing: the topic is
        // known (so its name is valid) and no record of any topic waits for
        // metadata ahead of this one.
        if self.awaiting_topic.is_empty() {
            if let Some(info) = self.topics.get(&record.topic) {
                let (explicit, key) = (record.partition, record.key.as_deref());
                let partition =
                    match choose_partition(info, explicit, key, size, &mut self.sticky, &mut self.rng) {
                        Ok(partition) => partition,
                        Err(e) => return self.refuse(ticket, e, self.send_gate.in_transaction()),
                    };
                let waiting = self.waiting(record.topic.clone(), Payload::Record(record), size, ticket);
                return self.reserve(waiting, partition, ctx);
            }
        }
        if let Err(reason) = validate_topic_name(&record.topic) {
            let error = ProducerError::InvalidTopic {
                topic: record.topic.to_string(),
                reason: reason.to_string(),
            };
            return self.refuse(ticket, error, self.send_gate.in_transaction());
        }
        let topic = record.topic.clone();
        self.admit(topic, Payload::Record(record), size, ticket, ctx);
    }

    /// A record or batch entering the enqueue stage now.
    fn waiting(&self, topic: Arc<str>, payload: Payload, size: usize, ticket: Ticket) -> Waiting {
        Waiting {
            topic,
            payload,
            size,
            since: None,
            ticket,
            in_txn: self.send_gate.in_transaction(),
        }
    }

    fn enqueue_batch(&mut self, msg: EnqueueBatch, ctx: &mut Context<Self>) {
        let checked = if let Err(e) = self.check_open() {
            Err(e)
        } else if msg.builder.is_empty() {
            Err(ProducerError::Encode {
                reason: "a batch needs at least one record".to_string(),
            })
        } else {
            validate_topic_name(&msg.topic).map_err(|reason| ProducerError::InvalidTopic {
                topic: msg.topic.clone(),
                reason: reason.to_string(),
            })
        };
        if let Err(e) = checked {
            self.refuse(msg.ticket, e, self.send_gate.in_transaction());
            return;
        }
        let size = msg.builder.size();
        let payload = Payload::Batch {
            builder: msg.builder,
            partition: msg.partition,
        };
        self.admit(Arc::from(msg.topic.as_str()), payload, size, msg.ticket, ctx);
    }

    /// Routes now if the topic is known, else waits for its metadata behind
    /// earlier records of the same topic.
    fn admit(
        &mut self,
        topic: Arc<str>,
        payload: Payload,
        size: usize,
        ticket: Ticket,
        ctx: &mut Context<Self>,
    ) {
        let mut waiting = self.waiting(topic, payload, size, ticket);
        if let Some(queue) = self.awaiting_topic.get_mut(&waiting.topic) {
            waiting.since = Some(Instant::now());
            queue.push_back(waiting);
        } else if self.topics.contains_key(&waiting.topic) {
            self.route(waiting, ctx);
        } else {
            let now = Instant::now();
            waiting.since = Some(now);
            let topic = waiting.topic.clone();
            self.awaiting_topic
                .entry(topic.clone())
                .or_default()
                .push_back(waiting);
            self.request_topic(topic, now + self.max_block(), ctx);
        }
    }

    fn request_topic(&mut self, topic: Arc<str>, deadline: Instant, ctx: &mut Context<Self>) {
        let (reply, answer) = oneshot::channel();
        self.metadata.do_send(GetTopic {
            topic: topic.clone(),
            deadline,
            reply,
        });
        async move { answer.await.unwrap_or(Err(ProducerError::Closed)) }
            .into_actor(self)
            .map(move |result, actor, ctx| actor.topic_resolved(topic, result, ctx))
            .spawn(ctx);
    }

    fn topic_resolved(
        &mut self,
        topic: Arc<str>,
        result: Result<TopicInfo, ProducerError>,
        ctx: &mut Context<Self>,
    ) {
        let waiting = self.awaiting_topic.remove(&topic).unwrap_or_default();
        match result {
            Ok(info) => {
                self.topics.insert(topic, info);
                self.collecting(ctx, |actor, ctx| {
                    for w in waiting {
                        actor.route(w, ctx);
                    }
                });
            }
            Err(e) => {
                for w in waiting {
                    self.refuse(w.ticket, e.clone(), w.in_txn);
                }
            }
        }
        self.check_drained();
    }

    /// Picks the partition (the topic's metadata is known) and reserves
    /// buffer space, or waits for it.
    fn route(&mut self, waiting: Waiting, ctx: &mut Context<Self>) {
        let Some(info) = self.topics.get(&waiting.topic) else {
            self.refuse(waiting.ticket, ProducerError::Closed, waiting.in_txn);
            return;
        };
        let (explicit, key) = match &waiting.payload {
            Payload::Record(record) => (record.partition, record.key.as_deref()),
            Payload::Batch { partition, .. } => (Some(*partition), None),
        };
        match choose_partition(info, explicit, key, waiting.size, &mut self.sticky, &mut self.rng) {
            Ok(partition) => self.reserve(waiting, partition, ctx),
            Err(e) => self.refuse(waiting.ticket, e, waiting.in_txn),
        }
    }

    /// Reserves buffer space and hands the record over, or queues it until
    /// space is released.
    fn reserve(&mut self, mut waiting: Waiting, partition: i32, ctx: &mut Context<Self>) {
        if self.pool.try_reserve(waiting.reservation()) {
            self.hand_over(waiting, partition, ctx);
        } else {
            let now = match &mut self.outbox {
                Some(outbox) => *outbox.now.get_or_insert_with(Instant::now),
                None => Instant::now(),
            };
            let deadline = *waiting.since.get_or_insert(now) + self.max_block();
            self.pool
                .wait(waiting.reservation(), deadline, (waiting, partition));
            self.arm_pool_timer(Some(deadline), ctx);
        }
    }

    /// The end of the enqueue stage: the record goes to its accumulator, if
    /// the caller still waits for it.
    fn hand_over(&mut self, mut waiting: Waiting, partition: i32, ctx: &mut Context<Self>) {
        if !waiting.ticket.enqueue() {
            // The caller gave up: the record is dropped, never sent.
            self.release(waiting.reservation(), ctx);
            return;
        }
        let reserved = waiting.reservation();
        let ticket = waiting.ticket;
        match waiting.payload {
            Payload::Record(record) => {
                // Records handed over by one message share one clock read.
                let timestamp = match (record.timestamp, &mut self.outbox) {
                    (Some(explicit), _) => explicit,
                    (None, Some(outbox)) => *outbox.now_ms.get_or_insert_with(now_ms),
                    (None, None) => now_ms(),
                };
                let append = Append {
                    record,
                    timestamp,
                    reserved,
                    ticket,
                };
                match &mut self.outbox {
                    Some(outbox) => outbox.push(partition, append),
                    None => self.accumulator(&waiting.topic, partition, ctx).do_send(append),
                }
            }
            Payload::Batch { builder, .. } => {
                // Behind the records already handed over, whatever their partition.
                self.send_outbox(ctx);
                self.accumulator(&waiting.topic, partition, ctx)
                    .do_send(AppendBatch {
                        builder,
                        reserved,
                        ticket,
                    });
            }
        }
    }

    /// Handles many records at once: their hand-overs are collected and sent
    /// as one `AppendAll` per partition.
    fn enqueue_many(&mut self, records: impl IntoIterator<Item = Enqueue>, ctx: &mut Context<Self>) {
        self.collecting(ctx, |actor, ctx| {
            for enqueue in records {
                actor.enqueue(enqueue, ctx);
            }
        });
    }

    /// Runs `hand_overs` with the outbox collecting (unless it already is),
    /// then sends what it collected: one `AppendAll` per partition instead of
    /// one message per record.
    fn collecting(
        &mut self,
        ctx: &mut Context<Self>,
        hand_overs: impl FnOnce(&mut Self, &mut Context<Self>),
    ) {
        let outermost = self.outbox.is_none();
        if outermost {
            self.outbox = Some(Outbox::default());
        }
        hand_overs(self, ctx);
        if outermost {
            self.send_outbox(ctx);
            self.outbox = None;
        }
    }

    /// Sends the collected hand-overs (keeps collecting if it was).
    fn send_outbox(&mut self, ctx: &mut Context<Self>) {
        let Some(outbox) = self.outbox.as_mut() else {
            return;
        };
        let collected = std::mem::take(&mut outbox.partitions);
        outbox.index.clear();
        for ((topic, partition), appends) in collected {
            self.accumulator(&topic, partition, ctx)
                .do_send(AppendAll(appends));
        }
    }

    fn accumulator(
        &mut self,
        topic: &Arc<str>,
        partition: i32,
        ctx: &mut Context<Self>,
    ) -> Addr<PartitionAccumulatorActor> {
        let key = (topic.clone(), partition);
        if let Some(addr) = self.partitions.get(&key) {
            return addr.clone();
        }
        let c = &self.config;
        let queue = PartitionQueue::new(
            topic.clone(),
            partition,
            QueueConfig {
                max_batch_size: c.max_batch_size,
                linger: Duration::from_millis(c.linger_ms),
                retry_backoff: Duration::from_millis(c.retry_backoff_ms),
                delivery_timeout: Duration::from_millis(c.request_timeout_ms),
                compression: c.compression_type,
                idempotent: c.is_idempotent(),
                transactional: c.is_transactional(),
            },
        );
        let mut queue = queue;
        if let Some(identity) = self.identity {
            queue.set_identity(identity);
        }
        let settings = PartitionSettings {
            acks: self.acks,
            request_timeout_ms: i32::try_from(c.request_timeout_ms).unwrap_or(i32::MAX),
            retry_backoff: c.retry_backoff(),
            transactional_id: c.transactional_id.clone(),
        };
        let addr = PartitionAccumulatorActor::new(
            queue,
            settings,
            self.metadata.clone(),
            ctx.address().recipient(),
            self.coordinator.clone(),
        )
        .start();
        self.partitions.insert(key, addr.clone());
        addr
    }

    /// Returns buffer bytes; records waiting for space go on, many at once.
    fn release(&mut self, bytes: usize, ctx: &mut Context<Self>) {
        let ready = self.pool.release(bytes);
        if !ready.is_empty() {
            self.collecting(ctx, |actor, ctx| {
                for (waiting, partition) in ready {
                    actor.hand_over(waiting, partition, ctx);
                }
            });
        }
        self.check_drained();
    }

    /// Makes sure the buffer-wait timer fires by `deadline`. Cheap when it
    /// already does (the common case: one call per waiting record); a timer
    /// left for waiters that got space meanwhile just finds nothing to expire.
    fn arm_pool_timer(&mut self, deadline: Option<Instant>, ctx: &mut Context<Self>) {
        let Some(deadline) = deadline else {
            return;
        };
        if self
            .pool_timer
            .as_ref()
            .is_some_and(|(armed, _)| *armed <= deadline)
        {
            return;
        }
        if let Some((_, handle)) = self.pool_timer.take() {
            ctx.cancel_future(handle);
        }
        let delay = deadline.saturating_duration_since(Instant::now());
        let handle = ctx.run_later(delay, |actor, ctx| {
            actor.pool_timer = None;
            let (expired, ready) = actor.pool.expire(Instant::now());
            for (waiting, _) in expired {
                let error = ProducerError::BufferFull {
                    requested: waiting.reservation(),
                    waited_ms: waiting
                        .since
                        .map_or(0, |since| since.elapsed().as_millis() as u64),
                };
                actor.refuse(waiting.ticket, error, waiting.in_txn);
            }
            actor.collecting(ctx, |actor, ctx| {
                for (waiting, partition) in ready {
                    actor.hand_over(waiting, partition, ctx);
                }
            });
            actor.arm_pool_timer(actor.pool.next_deadline(), ctx);
            actor.check_drained();
        });
        self.pool_timer = Some((deadline, handle));
    }

    fn flush_all(&self) -> impl std::future::Future<Output = ()> {
        let waits: Vec<_> = self
            .partitions
            .values()
            .map(|addr| {
                let (tx, rx) = oneshot::channel();
                addr.do_send(FlushPartition(tx));
                rx
            })
            .collect();
        async move {
            join_all(waits).await;
        }
    }
}

impl Actor for ProducerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.metadata.do_send(ListenForTopics(ctx.address().recipient()));
        if let Some(coordinator) = &self.coordinator {
            coordinator.do_send(ListenForIdentity(ctx.address().recipient()));
        }
        // Callers that `send` wait while this many messages are queued: the
        // mailbox's share of backpressure (buffer_memory is the rest).
        ctx.set_mailbox_capacity(MAILBOX_CAPACITY);
    }
}

impl Handler<Enqueue> for ProducerActor {
    type Result = ();

    fn handle(&mut self, msg: Enqueue, ctx: &mut Context<Self>) {
        self.enqueue(msg, ctx);
    }
}

impl Handler<EnqueueBatch> for ProducerActor {
    type Result = ();

    fn handle(&mut self, msg: EnqueueBatch, ctx: &mut Context<Self>) {
        self.enqueue_batch(msg, ctx);
    }
}

impl Handler<EnqueueAll> for ProducerActor {
    type Result = ();

    fn handle(&mut self, msg: EnqueueAll, ctx: &mut Context<Self>) {
        self.enqueue_many(msg.0, ctx);
    }
}

impl Handler<Produce> for ProducerActor {
    type Result = ResponseFuture<Result<RecordMetadata, ProducerError>>;

    fn handle(&mut self, msg: Produce, ctx: &mut Context<Self>) -> Self::Result {
        let (group, ticket) = Ticket::single(None);
        let stage = group.enqueue_stage();
        self.enqueue(
            Enqueue {
                record: msg.0,
                ticket,
            },
            ctx,
        );
        Box::pin(async move {
            stage.await;
            group.enqueue_result(0)?;
            group.delivery(0).await
        })
    }
}

impl Handler<ProduceAll> for ProducerActor {
    type Result = ResponseFuture<Vec<Result<RecordMetadata, ProducerError>>>;

    fn handle(&mut self, msg: ProduceAll, ctx: &mut Context<Self>) -> Self::Result {
        let group = Group::new(msg.0.len(), None);
        let stage = group.enqueue_stage();
        let enqueues = msg
            .0
            .into_iter()
            .zip(group.tickets())
            .map(|(record, ticket)| Enqueue { record, ticket });
        self.enqueue_many(enqueues, ctx);
        Box::pin(async move {
            stage.await;
            let deliveries = (0..group.len()).map(|index| {
                let enqueued = group.enqueue_result(index);
                let delivery = group.delivery(index);
                async move {
                    enqueued?;
                    delivery.await
                }
            });
            join_all(deliveries).await
        })
    }
}

impl Handler<BatchCompleted> for ProducerActor {
    type Result = ();

    fn handle(&mut self, msg: BatchCompleted, ctx: &mut Context<Self>) {
        self.release(msg.released, ctx);
        if self.subscribers.is_empty() {
            return;
        }
        let event = DeliveryEvent {
            topic: msg.topic,
            partition: msg.partition,
            base_offset: msg.base_offset,
            record_count: msg.record_count,
            error: msg.error,
        };
        // `do_send` queues even when the subscriber's mailbox is over its
        // capacity: an event is never dropped for a slow subscriber.
        self.subscribers.retain(|s| s.connected());
        for subscriber in &self.subscribers {
            subscriber.do_send(event.clone());
        }
    }
}

impl Handler<TopicsUpdated> for ProducerActor {
    type Result = ();

    fn handle(&mut self, msg: TopicsUpdated, _: &mut Context<Self>) {
        for info in msg.0 {
            if let Some(known) = self.topics.get_mut(&info.name) {
                if known.partition_count != info.partition_count {
                    self.sticky.reset(&info.name);
                }
                *known = info;
            }
        }
    }
}

impl Handler<IdentityChanged> for ProducerActor {
    type Result = ();

    fn handle(&mut self, msg: IdentityChanged, _: &mut Context<Self>) {
        self.identity = Some(msg.0);
        for partition in self.partitions.values() {
            partition.do_send(SetIdentity(msg.0));
        }
    }
}

impl Handler<Subscribe> for ProducerActor {
    type Result = ();

    fn handle(&mut self, msg: Subscribe, _: &mut Context<Self>) {
        self.subscribers.push(msg.0);
    }
}

impl Handler<Flush> for ProducerActor {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, _: Flush, _: &mut Context<Self>) -> Self::Result {
        Box::pin(self.flush_everything())
    }
}

impl Handler<PartitionsFor> for ProducerActor {
    type Result = ResponseFuture<Result<Vec<i32>, ProducerError>>;

    fn handle(&mut self, msg: PartitionsFor, _: &mut Context<Self>) -> Self::Result {
        if let Err(reason) = validate_topic_name(&msg.0) {
            return Box::pin(std::future::ready(Err(ProducerError::InvalidTopic {
                topic: msg.0,
                reason: reason.to_string(),
            })));
        }
        let (reply, answer) = oneshot::channel();
        self.metadata.do_send(GetTopic {
            topic: Arc::from(msg.0),
            deadline: Instant::now() + self.max_block(),
            reply,
        });
        Box::pin(async move {
            let info = answer.await.map_err(|_| ProducerError::Closed)??;
            Ok((0..info.partition_count).collect())
        })
    }
}

impl Handler<Stop> for ProducerActor {
    type Result = ResponseActFuture<Self, bool>;

    fn handle(&mut self, msg: Stop, _: &mut Context<Self>) -> Self::Result {
        self.state = State::Stopping;
        self.send_gate.close();
        let flushed = self.flush_everything();
        let flushed: Pin<Box<dyn ActorFuture<Self, Output = bool>>> = match msg.timeout {
            None => Box::pin(flushed.map(|_, _, _| true)),
            Some(timeout) => Box::pin(flushed.timeout(timeout).map(|result, _, _| result.is_ok())),
        };
        Box::pin(flushed.map(|flushed, actor, ctx| {
            if !flushed {
                actor.abandon_everything();
            }
            actor.metadata.do_send(ShutdownMetadata);
            actor.partitions.clear();
            ctx.stop();
            flushed
        }))
    }
}

impl ProducerActor {
    /// A stop's deadline passed: every record not delivered yet fails.
    fn abandon_everything(&mut self) {
        tracing::warn!("stop timed out; failing the records not delivered yet");
        let waiting = self.awaiting_topic.drain().flat_map(|(_, queue)| queue);
        let waiting: Vec<Waiting> = waiting
            .chain(self.pool.take_waiters().into_iter().map(|(w, _)| w))
            .collect();
        for w in waiting {
            w.ticket.refuse(ProducerError::Cancelled);
        }
        for partition in self.partitions.values() {
            partition.do_send(Abandon);
        }
    }
}

mod transactions;
pub use transactions::{BeginTransaction, EndTransaction, SendOffsetsToTransaction};
