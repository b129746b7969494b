//! `PartitionAccumulatorActor`: one per topic-partition. It owns a
//! [`PartitionQueue`] and turns its decisions into messages and timers: it
//! appends records, sends the ready batch to the leader's connection, applies
//! the response, and wakes itself for linger, backoff and expiry.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use kafka_wire::api::VersionRange;
use kafka_wire::record::RecordHeader;
use tokio::sync::oneshot;

use super::metadata::{GetLeader, Leader, MetadataActor};
use super::transaction::{BumpEpoch, TransactionCoordinatorActor, TxnAddPartition, TxnBatchFailed};
use crate::accumulator::ProducerIdentity;
use crate::accumulator::{AfterResponse, Completion, NewRecord, Outgoing, PartitionQueue, Poll, SendOutcome};
use crate::connection::{ConnectionError, ProducePartition};
use crate::delivery::Ticket;
use crate::error::ProducerError;
use crate::record::ProducerRecord;

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

/// What a finished batch reports to the producer (buffer accounting and
/// delivery events).
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct BatchCompleted {
    /// Topic.
    pub topic: Arc<str>,
    /// Partition.
    pub partition: i32,
    /// Offset of the first record, -1 when unknown or failed.
    pub base_offset: i64,
    /// Number of records.
    pub record_count: usize,
    /// The error, when the batch failed.
    pub error: Option<ProducerError>,
    /// Buffer bytes to return.
    pub released: usize,
}

/// See the module documentation.
pub struct PartitionAccumulatorActor {
    queue: PartitionQueue<Ticket>,
    acks: i16,
    request_timeout_ms: i32,
    retry_backoff: Duration,
    metadata: Addr<MetadataActor>,
    completed_to: Recipient<BatchCompleted>,
    leader: Option<Leader>,
    looking_up_leader: bool,
    /// Refresh metadata before the next leader lookup.
    stale_leader: bool,
    wakeup: Option<(Instant, SpawnHandle)>,
    appended: u64,
    completed: u64,
    flush_waiters: Vec<(u64, oneshot::Sender<()>)>,
    /// Idempotence: where to ask for epoch bumps (and transactions).
    coordinator: Option<Addr<TransactionCoordinatorActor>>,
    /// Transactions: the id, and whether this partition was registered in
    /// the open transaction for the next batch (asked before every batch;
    /// the coordinator answers at once when it already is).
    transactional_id: Option<String>,
    txn_partition_added: bool,
    adding_txn_partition: bool,
    /// The Produce versions the open transaction's protocol allows (`None`:
    /// any, as for a producer without transactions).
    produce_versions: Option<VersionRange>,
}

/// The producer identity changed (idempotence: first id, or an epoch bump).
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetIdentity(pub ProducerIdentity);

/// The producer settings a partition actor uses.
#[derive(Debug, Clone)]
pub struct PartitionSettings {
    /// acks for its produce requests.
    pub acks: i16,
    /// The broker-side timeout of its produce requests.
    pub request_timeout_ms: i32,
    /// Pause before looking for a leader again.
    pub retry_backoff: Duration,
    /// The transactional id, for a transactional producer.
    pub transactional_id: Option<String>,
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
            queue,
            acks: settings.acks,
            request_timeout_ms: settings.request_timeout_ms,
            retry_backoff: settings.retry_backoff,
            transactional_id: settings.transactional_id,
            txn_partition_added: false,
            adding_txn_partition: false,
            produce_versions: None,
            metadata,
            completed_to,
            leader: None,
            looking_up_leader: false,
            stale_leader: false,
            wakeup: None,
            appended: 0,
            completed: 0,
            flush_waiters: Vec::new(),
            coordinator,
        }
    }

    /// Does everything that can be done now, then sleeps until the queue's
    /// next deadline.
    fn drive(&mut self, ctx: &mut Context<Self>) {
        let now = Instant::now();
        let (expired, released) = self.queue.expire(now);
        self.deliver(expired, released, -1);

        let idle = !self.queue.has_in_flight() && !self.queue.is_empty();
        if idle && self.transactional_id.is_some() && !self.txn_partition_added {
            self.add_to_transaction(ctx);
        } else if idle && self.leader.is_none() {
            self.lookup_leader(ctx);
        } else if let Some(leader) = self.leader.clone() {
            match self.queue.poll_send(now) {
                Poll::Idle => {}
                Poll::Send(outgoing) => self.send(outgoing, leader, ctx),
                Poll::Failed {
                    completions,
                    released,
                    ..
                } => {
                    self.deliver(completions, released, -1);
                    return self.drive(ctx);
                }
            }
        }
        self.schedule_wakeup(ctx);
    }

    fn schedule_wakeup(&mut self, ctx: &mut Context<Self>) {
        let next = self.queue.next_wakeup();
        if self.wakeup.as_ref().map(|(at, _)| *at) == next {
            return;
        }
        if let Some((_, handle)) = self.wakeup.take() {
            ctx.cancel_future(handle);
        }
        if let Some(at) = next {
            let delay = at.saturating_duration_since(Instant::now());
            let handle = ctx.run_later(delay, |actor, ctx| {
                actor.wakeup = None;
                actor.drive(ctx);
            });
            self.wakeup = Some((at, handle));
        }
    }

    /// Registers the partition in the open transaction through the
    /// coordinator before the next batch.
    fn add_to_transaction(&mut self, ctx: &mut Context<Self>) {
        let Some(coordinator) = self.coordinator.clone() else {
            return;
        };
        if self.adding_txn_partition {
            return;
        }
        self.adding_txn_partition = true;
        let request = TxnAddPartition {
            topic: self.queue.topic().clone(),
            partition: self.queue.partition(),
        };
        coordinator
            .send(request)
            .into_actor(self)
            .map(|result, actor, ctx| {
                actor.adding_txn_partition = false;
                match result.unwrap_or(Err(ProducerError::Closed)) {
                    Ok(versions) => {
                        actor.txn_partition_added = true;
                        actor.produce_versions = versions;
                    }
                    Err(error) => {
                        // The transaction cannot take these records: they
                        // were never sent, and the transaction can only be
                        // aborted (its commit reports `error`). A fatal error
                        // (fencing) is passed on as it is.
                        let error = if error.is_fatal() {
                            error
                        } else {
                            ProducerError::TransactionAborted
                        };
                        let (failed, released) = actor.queue.fail_queued(&error);
                        actor.deliver(failed, released, -1);
                    }
                }
                actor.drive(ctx);
            })
            .spawn(ctx);
    }

    fn lookup_leader(&mut self, ctx: &mut Context<Self>) {
        if self.looking_up_leader {
            return;
        }
        self.looking_up_leader = true;
        let (reply, answer) = oneshot::channel();
        self.metadata.do_send(GetLeader {
            topic: self.queue.topic().clone(),
            partition: self.queue.partition(),
            refresh: std::mem::take(&mut self.stale_leader),
            reply,
        });
        async move { answer.await.unwrap_or(Err(ProducerError::Closed)) }
            .into_actor(self)
            .map(|result, actor, ctx| {
                actor.looking_up_leader = false;
                match result {
                    Ok(leader) => {
                        actor.leader = Some(leader);
                        actor.drive(ctx);
                    }
                    Err(e) => {
                        tracing::debug!(topic = %actor.queue.topic(), partition = actor.queue.partition(),
                            error = %e, "no leader yet");
                        actor.stale_leader = true;
                        ctx.run_later(actor.retry_backoff, |actor, ctx| actor.drive(ctx));
                    }
                }
            })
            .spawn(ctx);
    }

    fn send(&mut self, outgoing: Outgoing, leader: Leader, ctx: &mut Context<Self>) {
        let request = ProducePartition {
            topic: self.queue.topic().to_string(),
            partition: self.queue.partition(),
            records: outgoing.records,
            acks: self.acks,
            timeout_ms: self.request_timeout_ms,
            transactional_id: self.transactional_id.clone(),
            deadline: outgoing.deadline,
            versions: self.produce_versions,
        };
        let batch_id = outgoing.batch_id;
        let created = outgoing.created;
        let node_id = leader.node_id;
        leader
            .connection
            .send(request)
            .into_actor(self)
            .map(move |result, actor, ctx| {
                let outcome = match result {
                    Ok(Ok(r)) if r.error_code.is_ok() => SendOutcome::Appended {
                        base_offset: r.base_offset,
                        log_append_time_ms: r.log_append_time_ms,
                        log_start_offset: r.log_start_offset,
                    },
                    Ok(Ok(r)) => SendOutcome::Failed(ProducerError::Broker {
                        code: r.error_code,
                        message: r.error_message,
                    }),
                    Ok(Err(ConnectionError::Expired { .. })) => {
                        SendOutcome::Failed(ProducerError::BatchExpired {
                            waited_ms: created.elapsed().as_millis() as u64,
                        })
                    }
                    Ok(Err(e)) => SendOutcome::Failed(e.into()),
                    Err(_) => SendOutcome::Failed(ProducerError::Disconnected {
                        broker: node_id,
                        reason: "connection actor stopped".to_string(),
                    }),
                };
                actor.on_outcome(batch_id, outcome, ctx);
            })
            .spawn(ctx);
    }

    fn on_outcome(&mut self, batch_id: u64, outcome: SendOutcome, ctx: &mut Context<Self>) {
        match self.queue.on_response(Instant::now(), batch_id, outcome) {
            AfterResponse::Completed {
                completions,
                released,
                base_offset,
                ..
            } => self.deliver(completions, released, base_offset),
            AfterResponse::Retrying { refresh_metadata } => {
                if refresh_metadata {
                    self.leader = None;
                    self.stale_leader = true;
                }
            }
            AfterResponse::BumpEpoch { from } => match &self.coordinator {
                Some(coordinator) => coordinator.do_send(BumpEpoch { from }),
                None => tracing::error!("sequence error without an idempotence coordinator"),
            },
            AfterResponse::Unknown => {}
        }
        self.drive(ctx);
    }

    /// Hands results to their callers and reports the batch to the producer.
    fn deliver(&mut self, completions: Vec<Completion<Ticket>>, released: usize, base_offset: i64) {
        if completions.is_empty() {
            return;
        }
        let record_count = completions.len();
        // The next batch asks the coordinator again (a new transaction may
        // have started).
        self.txn_partition_added = false;
        let error = completions.iter().find_map(|(_, r)| r.as_ref().err().cloned());
        // A failed batch dooms the open transaction. Told before flush
        // waiters are answered, so a commit that follows the flush sees it.
        if let (Some(error), Some(coordinator), Some(_)) = (&error, &self.coordinator, &self.transactional_id)
        {
            coordinator.do_send(TxnBatchFailed(error.clone()));
        }
        for (ticket, result) in completions {
            // A caller that dropped its delivery future does not cancel the
            // send; its result is simply not read.
            ticket.deliver(result);
        }
        self.completed += record_count as u64;
        self.completed_to.do_send(BatchCompleted {
            topic: self.queue.topic().clone(),
            partition: self.queue.partition(),
            base_offset,
            record_count,
            error,
            released,
        });
        let completed = self.completed;
        let (done, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.flush_waiters)
            .into_iter()
            .partition(|(mark, _)| *mark <= completed);
        self.flush_waiters = waiting;
        for (_, waiter) in done {
            let _ = waiter.send(());
        }
    }
}

impl Actor for PartitionAccumulatorActor {
    type Context = Context<Self>;
}

impl Handler<Append> for PartitionAccumulatorActor {
    type Result = ();

    fn handle(&mut self, msg: Append, ctx: &mut Context<Self>) {
        self.append(msg, Instant::now());
        self.drive(ctx);
    }
}

impl Handler<AppendAll> for PartitionAccumulatorActor {
    type Result = ();

    fn handle(&mut self, msg: AppendAll, ctx: &mut Context<Self>) {
        let now = Instant::now();
        for append in msg.0 {
            self.append(append, now);
        }
        self.drive(ctx);
    }
}

impl PartitionAccumulatorActor {
    /// Appends one record to the queue (a refused one is delivered its error).
    fn append(&mut self, msg: Append, now: Instant) {
        let record = &msg.record;
        let headers: Vec<RecordHeader<'_>> = record
            .headers
            .iter()
            .map(|h| RecordHeader {
                key: &h.key,
                value: h.value.as_deref(),
            })
            .collect();
        let new = NewRecord {
            timestamp: msg.timestamp,
            key: record.key.as_deref(),
            value: record.value.as_deref(),
            headers: &headers,
        };
        self.appended += 1;
        if let Err((ticket, error)) = self.queue.append(now, new, msg.ticket, msg.reserved) {
            self.deliver(vec![(ticket, Err(error))], msg.reserved, -1);
        }
    }
}

impl Handler<SetIdentity> for PartitionAccumulatorActor {
    type Result = ();

    fn handle(&mut self, msg: SetIdentity, ctx: &mut Context<Self>) {
        self.queue.set_identity(msg.0);
        self.drive(ctx);
    }
}

impl Handler<AppendBatch> for PartitionAccumulatorActor {
    type Result = ();

    fn handle(&mut self, msg: AppendBatch, ctx: &mut Context<Self>) {
        self.appended += 1;
        self.queue
            .push_batch(Instant::now(), msg.builder, msg.ticket, msg.reserved);
        self.drive(ctx);
    }
}

impl Handler<FlushPartition> for PartitionAccumulatorActor {
    type Result = ();

    fn handle(&mut self, msg: FlushPartition, ctx: &mut Context<Self>) {
        if self.completed >= self.appended {
            let _ = msg.0.send(());
            return;
        }
        self.flush_waiters.push((self.appended, msg.0));
        self.queue.begin_flush();
        self.drive(ctx);
    }
}

impl Handler<Abandon> for PartitionAccumulatorActor {
    type Result = ();

    fn handle(&mut self, _: Abandon, ctx: &mut Context<Self>) {
        let in_flight = ProducerError::Disconnected {
            broker: self.leader.as_ref().map_or(-1, |l| l.node_id),
            reason: "the producer stopped before the response".to_string(),
        };
        let (failed, released) = self.queue.abandon(&in_flight, &ProducerError::Cancelled);
        self.deliver(failed, released, -1);
        ctx.stop();
    }
}
