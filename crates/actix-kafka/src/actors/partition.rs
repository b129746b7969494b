//! `PartitionAccumulatorActor`: one per topic-partition, a driver of the
//! core's [`PartitionState`] (the queue, the leader, the transaction
//! registration, flush markers). Each message becomes a `handle_*` call;
//! each [`PartitionEvent`] becomes a message to the metadata actor, the
//! leader's connection, the transaction coordinator or the producer; one
//! timer wakes it at the state's deadline (linger, backoff, expiry).

use std::time::Instant;

use actix::prelude::*;
use kafka_producer_core::partition::{Delivered, PartitionEvent, PartitionState, RecordToAppend};
use tokio::sync::oneshot;

use super::metadata::{GetLeader, MetadataActor};
use crate::clock::Wakeup;

use super::transaction::{BumpEpoch, TransactionCoordinatorActor, TxnAddPartition, TxnBatchFailed};
use crate::accumulator::PartitionQueue;
use crate::connection::{BrokerConnectionActor, ProducePartition};
use crate::delivery::{DeliveryEvent, Ticket};
use crate::error::ProducerError;
use crate::record::ProducerRecord;
use crate::transaction::ProducerIdentity;

pub use kafka_producer_core::partition::PartitionSettings;

/// Appends one record (topic and partition already resolved).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Append {
    /// The record.
    pub record: ProducerRecord,
    /// Its timestamp (resolved: explicit or now).
    pub timestamp: i64,
    /// Buffer bytes reserved for it.
    pub reserved: usize,
    /// Where its delivery result goes.
    pub ticket: Ticket,
}

/// Appends many records of this partition, in order, with one mailbox
/// message (what `send_all` produces): one message and one pass of the
/// queue's rules per chunk instead of per record.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AppendAll(pub Vec<Append>);

/// Queues a batch the user built with `create_batch`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AppendBatch {
    /// The records, encoded.
    pub builder: kafka_wire::record::RecordBatchBuilder,
    /// Buffer bytes reserved for it.
    pub reserved: usize,
    /// Receives the metadata of the batch's first record.
    pub ticket: Ticket,
}

/// Sends everything queued now and answers when every record appended before
/// this message has completed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct FlushPartition(pub oneshot::Sender<()>);

/// Gives up on every record (a stop whose deadline passed), then stops the
/// actor: the batch in flight fails as `Disconnected` (its outcome is
/// unknown), the others as `Cancelled` (never sent).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Abandon;

/// What a finished batch reports to the producer: the event its delivery
/// subscribers get, and the buffer bytes to return.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct BatchCompleted {
    /// The batch's outcome.
    pub event: DeliveryEvent,
    /// Buffer bytes to return.
    pub released: usize,
}

/// The producer identity changed (idempotence: first id, or an epoch bump).
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetIdentity(pub ProducerIdentity);

type State = PartitionState<Ticket, Addr<BrokerConnectionActor>, oneshot::Sender<()>>;

/// See the module documentation.
pub struct PartitionAccumulatorActor {
    state: State,
    metadata: Addr<MetadataActor>,
    completed_to: Recipient<BatchCompleted>,
    /// Idempotence: where to ask for epoch bumps (and transactions).
    coordinator: Option<Addr<TransactionCoordinatorActor>>,
    wakeup: Wakeup,
}

impl PartitionAccumulatorActor {
    /// An actor for one partition.
    pub fn new(
        queue: PartitionQueue<Ticket>,
        settings: PartitionSettings,
        metadata: Addr<MetadataActor>,
        completed_to: Recipient<BatchCompleted>,
        coordinator: Option<Addr<TransactionCoordinatorActor>>,
    ) -> Self {
        PartitionAccumulatorActor {
            state: PartitionState::new(queue, settings),
            metadata,
            completed_to,
            coordinator,
            wakeup: Wakeup::default(),
        }
    }

    /// Carries out what the state asks, then sleeps until its deadline.
    fn act(&mut self, ctx: &mut Context<Self>) {
        while let Some(event) = self.state.poll_event() {
            match event {
                PartitionEvent::Register => self.register(ctx),
                PartitionEvent::LookupLeader { refresh } => self.lookup_leader(refresh, ctx),
                PartitionEvent::Send {
                    batch,
                    leader,
                    node_id,
                    batch_id,
                } => {
                    leader
                        .send(ProducePartition(batch))
                        .into_actor(self)
                        .map(move |answer, actor, ctx| {
                            let now = Instant::now();
                            match answer {
                                Ok(answer) => actor.state.handle_produced(now, batch_id, answer),
                                Err(_) => actor.state.handle_connection_lost(now, batch_id, node_id),
                            }
                            actor.act(ctx);
                        })
                        .spawn(ctx);
                }
                PartitionEvent::FailTransaction(error) => {
                    if let Some(coordinator) = &self.coordinator {
                        coordinator.do_send(TxnBatchFailed(error));
                    }
                }
                PartitionEvent::Delivered(delivered) => self.deliver(delivered),
                PartitionEvent::BumpEpoch { from } => match &self.coordinator {
                    Some(coordinator) => coordinator.do_send(BumpEpoch { from }),
                    None => self.internal_error("an epoch bump without an idempotence coordinator"),
                },
                PartitionEvent::Flushed(waiter) => {
                    let _ = waiter.send(());
                }
            }
        }
        let deadline = self.state.poll_deadline();
        self.wakeup.arm(
            deadline,
            ctx,
            |actor| &mut actor.wakeup,
            |actor, ctx| {
                actor.state.handle_timeout(Instant::now());
                actor.act(ctx);
            },
        );
    }

    /// Registers the partition in the open transaction through the
    /// coordinator before the next batch.
    fn register(&mut self, ctx: &mut Context<Self>) {
        let Some(coordinator) = self.coordinator.clone() else {
            let what = "a transactional partition without a coordinator";
            tracing::error!(topic = %self.state.topic(), partition = self.state.partition(), "{what}");
            self.state
                .handle_registered(Instant::now(), Err(ProducerError::Internal { what }));
            return; // act() is polling the events this queued
        };
        let request = TxnAddPartition {
            topic: self.state.topic().clone(),
            partition: self.state.partition(),
        };
        coordinator
            .send(request)
            .into_actor(self)
            .map(|answer, actor, ctx| {
                let answer = answer.unwrap_or(Err(ProducerError::Closed));
                actor.state.handle_registered(Instant::now(), answer);
                actor.act(ctx);
            })
            .spawn(ctx);
    }

    fn lookup_leader(&mut self, refresh: bool, ctx: &mut Context<Self>) {
        let (reply, answer) = oneshot::channel();
        self.metadata.do_send(GetLeader {
            topic: self.state.topic().clone(),
            partition: self.state.partition(),
            refresh,
            reply,
        });
        async move { answer.await.unwrap_or(Err(ProducerError::Closed)) }
            .into_actor(self)
            .map(|answer, actor, ctx| {
                if let Err(e) = &answer {
                    tracing::debug!(topic = %actor.state.topic(), partition = actor.state.partition(),
                        error = %e, "no leader yet");
                }
                let answer = answer.map(|leader| (leader.node_id, leader.connection));
                actor.state.handle_leader(Instant::now(), answer);
                actor.act(ctx);
            })
            .spawn(ctx);
    }

    /// A bug: the records waiting here could never be sent; they fail instead
    /// of waiting forever.
    fn internal_error(&mut self, what: &'static str) {
        tracing::error!(topic = %self.state.topic(), partition = self.state.partition(), "{what}");
        self.state.fail_waiting(&ProducerError::Internal { what });
    }

    /// Hands results to their callers and reports the batch to the producer.
    fn deliver(&mut self, delivered: Delivered<Ticket>) {
        let record_count = delivered.completions.len();
        for (ticket, result) in delivered.completions {
            // A caller that dropped its delivery future does not cancel the
            // send; its result is simply not read.
            ticket.deliver(result);
        }
        self.completed_to.do_send(BatchCompleted {
            event: DeliveryEvent {
                topic: self.state.topic().clone(),
                partition: self.state.partition(),
                base_offset: delivered.base_offset,
                record_count,
                error: delivered.error,
            },
            released: delivered.released,
        });
    }
}

impl Actor for PartitionAccumulatorActor {
    type Context = Context<Self>;
}

impl Append {
    fn into_core(self) -> RecordToAppend<Ticket> {
        RecordToAppend {
            record: self.record,
            timestamp: self.timestamp,
            reserved: self.reserved,
            ticket: self.ticket,
        }
    }
}

impl Handler<Append> for PartitionAccumulatorActor {
    type Result = ();

    fn handle(&mut self, msg: Append, ctx: &mut Context<Self>) {
        self.state.handle_records(Instant::now(), [msg.into_core()]);
        self.act(ctx);
    }
}

impl Handler<AppendAll> for PartitionAccumulatorActor {
    type Result = ();

    fn handle(&mut self, msg: AppendAll, ctx: &mut Context<Self>) {
        let records = msg.0.into_iter().map(Append::into_core);
        self.state.handle_records(Instant::now(), records);
        self.act(ctx);
    }
}

impl Handler<SetIdentity> for PartitionAccumulatorActor {
    type Result = ();

    fn handle(&mut self, msg: SetIdentity, ctx: &mut Context<Self>) {
        self.state.handle_identity(Instant::now(), msg.0);
        self.act(ctx);
    }
}

impl Handler<AppendBatch> for PartitionAccumulatorActor {
    type Result = ();

    fn handle(&mut self, msg: AppendBatch, ctx: &mut Context<Self>) {
        self.state
            .handle_batch(Instant::now(), msg.builder, msg.ticket, msg.reserved);
        self.act(ctx);
    }
}

impl Handler<FlushPartition> for PartitionAccumulatorActor {
    type Result = ();

    fn handle(&mut self, msg: FlushPartition, ctx: &mut Context<Self>) {
        self.state.handle_flush(Instant::now(), msg.0);
        self.act(ctx);
    }
}

impl Handler<Abandon> for PartitionAccumulatorActor {
    type Result = ();

    fn handle(&mut self, _: Abandon, ctx: &mut Context<Self>) {
        self.state.abandon();
        self.act(ctx);
        ctx.stop();
    }
}
