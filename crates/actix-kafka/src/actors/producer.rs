//! `ProducerActor`: the address users hold.
//!
//! A thin driver of the core's [`EnqueueStage`], which holds every rule of a
//! record's way from `send` to its partition's queue (the send gate, size
//! limits, waits for metadata and buffer space up to `max_block_ms`, the
//! partition choice). This actor feeds it records and metadata answers,
//! arms its timer, and carries out what it asks: fetch a topic, refuse a
//! record, or hand one over to its partition's accumulator. It also fans out
//! delivery events and runs flush and stop.
//!
//! A record is handed over only if its caller still waits for it
//! ([`Ticket::enqueue`]), so a caller that gave up (timeout or dropped future)
//! never has its record sent.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::oneshot;

use super::metadata::{GetTopic, ListenForTopics, MetadataActor, ShutdownMetadata, TopicsUpdated};
use super::partition::{Append, AppendAll, AppendBatch, BatchCompleted};
use super::transaction::{IdentityChanged, ListenForIdentity, TransactionCoordinatorActor, TxnBatchFailed};
use crate::clock::now_ms;
use crate::clock::Wakeup;
use crate::config::ProducerConfig;
use crate::delivery::Ticket;
use crate::error::ProducerError;
use crate::transaction::ProducerIdentity;
use kafka_producer_core::enqueue::{EnqueueEvent, EnqueueLimits, EnqueueStage, HandOver, LazyNow, Payload};

mod messages;
mod outbox;
mod partitions;
mod requests;
mod transactions;

pub use messages::*;
use outbox::Outbox;
use partitions::Partitions;
pub use transactions::{BeginTransaction, EndTransaction, SendOffsetsToTransaction};

/// Memory a record holds besides its encoded bytes until its batch
/// completes: its delivery slot and its entry in the batch. Reserved from
/// `buffer_memory` with the encoded bytes, so that the buffer bounds both.
const RECORD_BOOKKEEPING: usize = crate::delivery::SLOT_SIZE + crate::accumulator::pending_size::<Ticket>();

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    Stopping,
}

/// See the module documentation.
pub struct ProducerActor {
    config: Arc<ProducerConfig>,
    metadata: Addr<MetadataActor>,
    partitions: Partitions,
    stage: EnqueueStage<Ticket>,
    subscribers: Vec<Recipient<DeliveryEvent>>,
    state: State,
    /// The wake-up at the enqueue stage's deadline (waits for metadata or
    /// buffer space).
    wakeup: Wakeup,
    /// Idempotence and transactions: who bumps the identity and who runs
    /// the transaction protocol.
    coordinator: Option<Addr<TransactionCoordinatorActor>>,
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
        let limits = EnqueueLimits {
            max_block: Duration::from_millis(config.max_block_ms),
            max_request_size: config.max_request_size,
            buffer_memory: config.buffer_memory,
            max_batch_size: config.max_batch_size,
            bookkeeping: RECORD_BOOKKEEPING,
            transactional: config.is_transactional(),
        };
        let (coordinator, identity) = idempotence.unzip();
        ProducerActor {
            stage: EnqueueStage::new(limits, seed),
            partitions: Partitions::new(config.clone(), metadata.clone(), coordinator.clone(), identity),
            config,
            metadata,
            subscribers: Vec::new(),
            state: State::Running,
            wakeup: Wakeup::default(),
            coordinator,
            drain_waiters: Vec::new(),
            outbox: None,
        }
    }

    /// Carries out what the enqueue stage decided, in order.
    fn drive(&mut self, ctx: &mut Context<Self>) {
        while let Some(event) = self.stage.poll_event() {
            match event {
                EnqueueEvent::HandOver(hand_over) => self.hand_over(hand_over, ctx),
                EnqueueEvent::FetchTopic { topic, deadline } => self.fetch_topic(topic, deadline, ctx),
                EnqueueEvent::Refuse {
                    ticket,
                    error,
                    dooms_transaction,
                } => {
                    if let (true, Some(coordinator)) = (dooms_transaction, &self.coordinator) {
                        coordinator.do_send(TxnBatchFailed(error.clone()));
                    }
                    ticket.refuse(error);
                }
            }
        }
        let deadline = self.stage.poll_deadline();
        self.wakeup.arm(
            deadline,
            ctx,
            |actor| &mut actor.wakeup,
            |actor, ctx| {
                actor.collecting(ctx, |actor, ctx| {
                    actor.stage.handle_timeout(Instant::now());
                    actor.drive(ctx);
                });
            },
        );
        if !self.drain_waiters.is_empty() && self.stage.is_drained() {
            for waiter in self.drain_waiters.drain(..) {
                let _ = waiter.send(());
            }
        }
    }

    fn enqueue(&mut self, msg: Enqueue, now: &mut LazyNow, ctx: &mut Context<Self>) {
        self.stage.handle_record(msg.record, msg.ticket, now);
        self.drive(ctx);
    }

    /// Handles many records at once: their hand-overs are collected and sent
    /// as one `AppendAll` per partition, and they share one clock read.
    fn enqueue_many(&mut self, records: impl IntoIterator<Item = Enqueue>, ctx: &mut Context<Self>) {
        let mut now = LazyNow::new(Instant::now);
        self.collecting(ctx, |actor, ctx| {
            for enqueue in records {
                actor.enqueue(enqueue, &mut now, ctx);
            }
        });
    }

    fn fetch_topic(&mut self, topic: Arc<str>, deadline: Instant, ctx: &mut Context<Self>) {
        let (reply, answer) = oneshot::channel();
        self.metadata.do_send(GetTopic {
            topic: topic.clone(),
            deadline,
            reply,
        });
        async move { answer.await.unwrap_or(Err(ProducerError::Closed)) }
            .into_actor(self)
            .map(move |answer, actor, ctx| {
                actor.collecting(ctx, |actor, ctx| {
                    let mut now = LazyNow::new(Instant::now);
                    actor.stage.handle_topic(&topic, answer, &mut now);
                    actor.drive(ctx);
                });
            })
            .spawn(ctx);
    }

    /// The end of the enqueue stage: the record goes to its accumulator, if
    /// the caller still waits for it.
    fn hand_over(&mut self, hand_over: HandOver<Ticket>, ctx: &mut Context<Self>) {
        let HandOver {
            topic,
            partition,
            payload,
            reserved,
            mut ticket,
        } = hand_over;
        if !ticket.enqueue() {
            // The caller gave up: the record is dropped, never sent.
            return self.stage.handle_release(reserved);
        }
        match payload {
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
                    None => self
                        .partitions
                        .get(&topic, partition, || ctx.address().recipient())
                        .do_send(append),
                }
            }
            Payload::Batch { builder, .. } => {
                // Behind the records already handed over, whatever their partition.
                self.send_outbox(ctx);
                self.partitions
                    .get(&topic, partition, || ctx.address().recipient())
                    .do_send(AppendBatch {
                        builder,
                        reserved,
                        ticket,
                    });
            }
        }
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
            self.partitions
                .get(&topic, partition, || ctx.address().recipient())
                .do_send(AppendAll(appends));
        }
    }

    /// Resolves once every record already in the enqueue stage is in its
    /// partition's queue or refused.
    fn enqueue_drained(&mut self, ctx: &mut Context<Self>) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        self.drain_waiters.push(tx);
        self.drive(ctx);
        rx
    }

    /// Flushes everything: waits for the enqueue stage to empty, then for
    /// every partition to complete what it holds.
    fn flush_everything(&mut self, ctx: &mut Context<Self>) -> impl ActorFuture<Self, Output = ()> {
        self.enqueue_drained(ctx)
            .into_actor(self)
            .then(|_, actor: &mut Self, _| actor.partitions.flush_all().into_actor(actor))
    }

    /// A stop's deadline passed: every record not delivered yet fails.
    fn abandon_everything(&mut self) {
        tracing::warn!("stop timed out; failing the records not delivered yet");
        for ticket in self.stage.abandon() {
            ticket.refuse(ProducerError::Cancelled);
        }
        self.partitions.abandon_all();
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
        self.enqueue(msg, &mut LazyNow::new(Instant::now), ctx);
    }
}

impl Handler<EnqueueBatch> for ProducerActor {
    type Result = ();

    fn handle(&mut self, msg: EnqueueBatch, ctx: &mut Context<Self>) {
        let mut now = LazyNow::new(Instant::now);
        let EnqueueBatch {
            builder,
            topic,
            partition,
            ticket,
        } = msg;
        self.stage
            .handle_batch(builder, &topic, partition, ticket, &mut now);
        self.drive(ctx);
    }
}

impl Handler<EnqueueAll> for ProducerActor {
    type Result = ();

    fn handle(&mut self, msg: EnqueueAll, ctx: &mut Context<Self>) {
        self.enqueue_many(msg.0, ctx);
    }
}

impl Handler<BatchCompleted> for ProducerActor {
    type Result = ();

    fn handle(&mut self, msg: BatchCompleted, ctx: &mut Context<Self>) {
        self.collecting(ctx, |actor, ctx| {
            actor.stage.handle_release(msg.released);
            actor.drive(ctx);
        });
        if self.subscribers.is_empty() {
            return;
        }
        let event = msg.event;
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
        self.stage.handle_topics_updated(msg.0);
    }
}

impl Handler<IdentityChanged> for ProducerActor {
    type Result = ();

    fn handle(&mut self, msg: IdentityChanged, _: &mut Context<Self>) {
        self.partitions.set_identity(msg.0);
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

    fn handle(&mut self, _: Flush, ctx: &mut Context<Self>) -> Self::Result {
        Box::pin(self.flush_everything(ctx))
    }
}

impl Handler<Stop> for ProducerActor {
    type Result = ResponseActFuture<Self, bool>;

    fn handle(&mut self, msg: Stop, ctx: &mut Context<Self>) -> Self::Result {
        self.state = State::Stopping;
        self.stage.gate_mut().close();
        let flushed = self.flush_everything(ctx);
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
