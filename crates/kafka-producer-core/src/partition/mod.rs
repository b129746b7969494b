//! One partition's life around its queue: the leader, the transaction
//! registration, flush markers.
//!
//! A [`PartitionQueue`] knows how records become batches and what a response
//! means for them. Around it a partition needs a little more before a batch
//! can leave:
//!
//! 1. **Registration.** Inside a transaction (protocol v1) a partition must be
//!    added to the transaction (AddPartitionsToTxn) before its first batch.
//!    [`PartitionState`] asks for it before every batch; the coordinator
//!    answers at once when the partition already is registered.
//! 2. **The leader.** Batches go to the partition's leader. It is looked up
//!    when unknown, again (with a forced metadata refresh) after an error
//!    that means our metadata is stale, and no sooner than `retry_backoff`
//!    after a failed lookup.
//! 3. **Flush markers.** A flush waits for every record appended before it,
//!    counted by position: the marker is the number of records appended when
//!    the flush arrived.
//!
//! Everything is driven by `now`: the caller calls a `handle_*` method for
//! each input, then takes [`PartitionEvent`]s from
//! [`poll_event`](PartitionState::poll_event) and sleeps until
//! [`poll_deadline`](PartitionState::poll_deadline). The type parameters are
//! the caller's: `T` a record's ticket, `L` its handle on a leader's
//! connection, `W` a flush waiter.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_wire::api::VersionRange;
use kafka_wire::record::RecordBatchBuilder;

use crate::accumulator::{AfterResponse, Completion, NewRecord, Outgoing, PartitionQueue, Poll, SendOutcome};
use crate::connection::coalesce::PendingBatch;
use crate::connection::{ConnectionError, PartitionResult};
use crate::error::{Disconnect, ProducerError};
use crate::record::{wire_headers, ProducerRecord};
use crate::transaction::ProducerIdentity;

#[cfg(test)]
mod tests;

/// The producer settings a partition uses for its produce requests.
#[derive(Debug, Clone)]
pub struct PartitionSettings {
    /// acks for its produce requests.
    pub acks: i16,
    /// The broker-side timeout of its produce requests.
    pub request_timeout_ms: i32,
    /// Pause before looking for a leader again after a failed lookup.
    pub retry_backoff: Duration,
    /// The transactional id, for a transactional producer.
    pub transactional_id: Option<String>,
}

/// A record to append, with what the producer resolved for it.
#[derive(Debug)]
pub struct RecordToAppend<T> {
    /// The record (topic and partition already resolved).
    pub record: ProducerRecord,
    /// Its timestamp: explicit, or the time it was enqueued.
    pub timestamp: i64,
    /// Buffer bytes reserved for it.
    pub reserved: usize,
    /// Where its result goes.
    pub ticket: T,
}

/// Records that completed together (one batch, or refused records).
#[derive(Debug)]
pub struct Delivered<T> {
    /// One result per record, in append order.
    pub completions: Vec<Completion<T>>,
    /// Buffer bytes to return to the pool.
    pub released: usize,
    /// Offset of the first record, -1 when unknown or failed.
    pub base_offset: i64,
    /// The error every record got, when they failed.
    pub error: Option<ProducerError>,
}

/// What the caller must do, in order.
#[derive(Debug)]
pub enum PartitionEvent<T, L, W> {
    /// Add the partition to the open transaction, then call
    /// [`PartitionState::handle_registered`].
    Register,
    /// Find the partition's leader, then call
    /// [`PartitionState::handle_leader`]; `refresh` forces a metadata
    /// refresh first (what we knew proved stale).
    LookupLeader {
        /// Refresh metadata before answering.
        refresh: bool,
    },
    /// Write this batch to `leader`, then call
    /// [`PartitionState::handle_produced`] with `batch_id`.
    Send {
        /// The batch as the connection takes it.
        batch: PendingBatch,
        /// Where it goes.
        leader: L,
        /// The leader's node id.
        node_id: i32,
        /// Identifies the batch in the answer.
        batch_id: u64,
    },
    /// A batch failed inside a transaction: tell the coordinator, whose
    /// commit then reports this error. Comes before the [`Delivered`] of the
    /// same records, so that a commit following a flush sees it.
    FailTransaction(ProducerError),
    /// Hand these results to their callers and return the buffer bytes.
    Delivered(Delivered<T>),
    /// The broker rejected our sequences under `from`: ask for an epoch bump
    /// (KIP-360); [`PartitionState::handle_identity`] resumes the queue.
    BumpEpoch {
        /// The identity the rejected batch carried.
        from: ProducerIdentity,
    },
    /// Every record appended before this waiter's flush has completed.
    Flushed(W),
}

/// Where the partition stands with the open transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Registration {
    /// Not a transactional producer: nothing to register.
    NotNeeded,
    /// Must be registered before the next batch.
    Needed,
    /// The coordinator was asked.
    Asked,
    /// Registered: the next batch may go, at these Produce versions.
    Done(Option<VersionRange>),
}

/// What the partition knows of its leader.
#[derive(Debug)]
enum LeaderState<L> {
    /// Unknown; look it up (refreshing metadata first when `stale`), but not
    /// before `not_before`.
    Unknown {
        stale: bool,
        not_before: Option<Instant>,
    },
    /// A lookup is under way.
    LookingUp,
    /// Known.
    Known { node_id: i32, leader: L },
}

/// See the module documentation.
#[derive(Debug)]
pub struct PartitionState<T, L, W> {
    queue: PartitionQueue<T>,
    settings: PartitionSettings,
    leader: LeaderState<L>,
    registration: Registration,
    /// The batch in flight: its id and when its first record arrived.
    in_flight: Option<(u64, Instant)>,
    appended: u64,
    completed: u64,
    /// Each waiter with the number of records appended before its flush.
    flush_waiters: Vec<(u64, W)>,
    events: VecDeque<PartitionEvent<T, L, W>>,
}

impl<T, L: Clone, W> PartitionState<T, L, W> {
    /// The state of a partition whose queue is `queue`.
    pub fn new(queue: PartitionQueue<T>, settings: PartitionSettings) -> Self {
        let registration = match settings.transactional_id {
            Some(_) => Registration::Needed,
            None => Registration::NotNeeded,
        };
        PartitionState {
            queue,
            settings,
            leader: LeaderState::Unknown {
                stale: false,
                not_before: None,
            },
            registration,
            in_flight: None,
            appended: 0,
            completed: 0,
            flush_waiters: Vec::new(),
            events: VecDeque::new(),
        }
    }

    /// The topic.
    pub fn topic(&self) -> &Arc<str> {
        self.queue.topic()
    }

    /// The partition index.
    pub fn partition(&self) -> i32 {
        self.queue.partition()
    }

    /// The leader's node id, when known.
    pub fn leader_id(&self) -> Option<i32> {
        match &self.leader {
            LeaderState::Known { node_id, .. } => Some(*node_id),
            _ => None,
        }
    }

    /// Appends records in order (a refused one is delivered its error at once).
    pub fn handle_records(&mut self, now: Instant, records: impl IntoIterator<Item = RecordToAppend<T>>) {
        for record in records {
            self.append(now, record);
        }
        self.drive(now);
    }

    /// Queues a batch the user built (`create_batch`) as it is.
    pub fn handle_batch(&mut self, now: Instant, builder: RecordBatchBuilder, ticket: T, reserved: usize) {
        self.appended += 1;
        self.queue.push_batch(now, builder, ticket, reserved);
        self.drive(now);
    }

    /// A flush: `waiter` comes back as [`PartitionEvent::Flushed`] once every
    /// record appended so far has completed. Sends what is queued now,
    /// without waiting for linger.
    pub fn handle_flush(&mut self, now: Instant, waiter: W) {
        if self.completed >= self.appended {
            self.events.push_back(PartitionEvent::Flushed(waiter));
            return;
        }
        self.flush_waiters.push((self.appended, waiter));
        self.queue.begin_flush();
        self.drive(now);
    }

    /// A new producer identity (the first one, or an epoch bump).
    pub fn handle_identity(&mut self, now: Instant, identity: ProducerIdentity) {
        self.queue.set_identity(identity);
        self.drive(now);
    }

    /// The coordinator's answer to [`PartitionEvent::Register`]: the Produce
    /// versions the transaction's protocol allows, or why the partition
    /// cannot join it.
    pub fn handle_registered(&mut self, now: Instant, answer: Result<Option<VersionRange>, ProducerError>) {
        match answer {
            Ok(versions) => self.registration = Registration::Done(versions),
            Err(error) => {
                self.registration = Registration::Needed;
                // The transaction cannot take these records: they were never
                // sent, and it can only be aborted (its commit reports the
                // error). A fatal error (fencing) is passed on as it is.
                let error = if error.is_fatal() {
                    error
                } else {
                    ProducerError::TransactionAborted
                };
                let (failed, released) = self.queue.fail_queued(&error);
                self.deliver(failed, released, -1);
            }
        }
        self.drive(now);
    }

    /// The answer to [`PartitionEvent::LookupLeader`]: the leader's node id
    /// and the caller's handle on its connection, or why there is none yet
    /// (looked up again after `retry_backoff`, with a refresh).
    pub fn handle_leader(&mut self, now: Instant, answer: Result<(i32, L), ProducerError>) {
        self.leader = match answer {
            Ok((node_id, leader)) => LeaderState::Known { node_id, leader },
            Err(_) => LeaderState::Unknown {
                stale: true,
                not_before: Some(now + self.settings.retry_backoff),
            },
        };
        self.drive(now);
    }

    /// The connection's answer for batch `batch_id`.
    pub fn handle_produced(
        &mut self,
        now: Instant,
        batch_id: u64,
        answer: Result<PartitionResult, ConnectionError>,
    ) {
        let outcome = match answer {
            Ok(r) if r.error_code.is_ok() => SendOutcome::Appended {
                base_offset: r.base_offset,
                log_append_time_ms: r.log_append_time_ms,
                log_start_offset: r.log_start_offset,
            },
            Ok(r) => SendOutcome::Failed(ProducerError::Broker {
                code: r.error_code,
                message: r.error_message,
            }),
            Err(ConnectionError::Expired { .. }) => {
                let created = match self.in_flight {
                    Some((id, created)) if id == batch_id => created,
                    _ => now,
                };
                SendOutcome::Failed(ProducerError::BatchExpired {
                    waited_ms: now.saturating_duration_since(created).as_millis() as u64,
                })
            }
            Err(e) => SendOutcome::Failed(e.into()),
        };
        self.handle_outcome(now, batch_id, outcome);
    }

    /// The leader's connection went away before answering batch `batch_id`:
    /// its outcome is unknown.
    pub fn handle_connection_lost(&mut self, now: Instant, batch_id: u64, node_id: i32) {
        let error = ProducerError::Disconnected {
            broker: node_id.into(),
            cause: Disconnect::ConnectionStopped,
        };
        self.handle_outcome(now, batch_id, SendOutcome::Failed(error));
    }

    /// Wakes for linger, backoff and expiry (call at
    /// [`poll_deadline`](Self::poll_deadline)).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.drive(now);
    }

    /// Fails every record that waits, with `error` (a part the partition
    /// needs is missing: nothing could ever send them).
    pub fn fail_waiting(&mut self, error: &ProducerError) {
        let (failed, released) = self.queue.fail_queued(error);
        self.deliver(failed, released, -1);
    }

    /// Gives up on every record (a stop whose deadline passed): the batch in
    /// flight fails as `Disconnected` (its outcome is unknown), the others as
    /// `Cancelled` (never sent).
    pub fn abandon(&mut self) {
        let in_flight = ProducerError::Disconnected {
            broker: self.leader_id().unwrap_or(-1).into(),
            cause: Disconnect::ProducerStopped,
        };
        let (failed, released) = self.queue.abandon(&in_flight, &ProducerError::Cancelled);
        self.in_flight = None;
        self.deliver(failed, released, -1);
    }

    /// The next thing to do, if any.
    pub fn poll_event(&mut self) -> Option<PartitionEvent<T, L, W>> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) next has work. While
    /// the next batch waits for its leader or its registration, linger and
    /// backoff cannot send it, so only expiry and the lookup's backoff count.
    pub fn poll_deadline(&self) -> Option<Instant> {
        let send = if self.can_send() {
            self.queue.next_send()
        } else {
            None
        };
        let lookup = match &self.leader {
            LeaderState::Unknown { not_before, .. } if self.wants_leader() => *not_before,
            _ => None,
        };
        [send, self.queue.next_expiry(), lookup]
            .into_iter()
            .flatten()
            .min()
    }

    /// Whether [`drive`](Self::drive) would ask the queue for a batch.
    fn can_send(&self) -> bool {
        let waits_for_registration =
            self.wants_leader() && matches!(self.registration, Registration::Needed | Registration::Asked);
        matches!(self.leader, LeaderState::Known { .. }) && !waits_for_registration
    }

    fn append(&mut self, now: Instant, append: RecordToAppend<T>) {
        let record = &append.record;
        let headers = wire_headers(&record.headers);
        let new = NewRecord {
            timestamp: append.timestamp,
            key: record.key.as_deref(),
            value: record.value.as_deref(),
            headers: &headers,
        };
        self.appended += 1;
        if let Err((ticket, error)) = self.queue.append(now, new, append.ticket, append.reserved) {
            self.deliver(vec![(ticket, Err(error))], append.reserved, -1);
        }
    }

    fn handle_outcome(&mut self, now: Instant, batch_id: u64, outcome: SendOutcome) {
        if self.in_flight.is_some_and(|(id, _)| id == batch_id) {
            self.in_flight = None;
        }
        match self.queue.on_response(now, batch_id, outcome) {
            AfterResponse::Completed {
                completions,
                released,
                base_offset,
                ..
            } => self.deliver(completions, released, base_offset),
            AfterResponse::Retrying { refresh_metadata } => {
                if refresh_metadata {
                    self.leader = LeaderState::Unknown {
                        stale: true,
                        not_before: None,
                    };
                }
            }
            AfterResponse::BumpEpoch { from } => self.events.push_back(PartitionEvent::BumpEpoch { from }),
            AfterResponse::Unknown => {}
        }
        self.drive(now);
    }

    /// Nothing is in flight and something waits: the next batch needs a
    /// registration and a leader.
    fn wants_leader(&self) -> bool {
        !self.queue.has_in_flight() && !self.queue.is_empty()
    }

    /// Does everything that can be done at `now`.
    fn drive(&mut self, now: Instant) {
        loop {
            let (expired, released) = self.queue.expire(now);
            self.deliver(expired, released, -1);

            let idle = self.wants_leader();
            match self.registration {
                Registration::Needed if idle => {
                    self.registration = Registration::Asked;
                    self.events.push_back(PartitionEvent::Register);
                    return;
                }
                Registration::Needed | Registration::Asked if idle => return,
                _ => {}
            }
            let (node_id, leader) = match &mut self.leader {
                LeaderState::Known { node_id, leader } => (*node_id, leader.clone()),
                LeaderState::Unknown { stale, not_before } => {
                    if idle && not_before.is_none_or(|at| now >= at) {
                        let refresh = std::mem::take(stale);
                        self.leader = LeaderState::LookingUp;
                        self.events.push_back(PartitionEvent::LookupLeader { refresh });
                    }
                    return;
                }
                LeaderState::LookingUp => return,
            };
            match self.queue.poll_send(now) {
                Poll::Idle => return,
                Poll::Send(outgoing) => return self.send(outgoing, node_id, leader),
                Poll::Failed {
                    completions,
                    released,
                    ..
                } => self.deliver(completions, released, -1),
            }
        }
    }

    fn send(&mut self, outgoing: Outgoing, node_id: i32, leader: L) {
        let versions = match self.registration {
            Registration::Done(versions) => versions,
            _ => None,
        };
        self.in_flight = Some((outgoing.batch_id, outgoing.created));
        let batch = PendingBatch {
            topic: self.queue.topic().to_string(),
            partition: self.queue.partition(),
            records: outgoing.records,
            acks: self.settings.acks,
            timeout_ms: self.settings.request_timeout_ms,
            transactional_id: self.settings.transactional_id.clone(),
            deadline: outgoing.deadline,
            versions,
        };
        self.events.push_back(PartitionEvent::Send {
            batch,
            leader,
            node_id,
            batch_id: outgoing.batch_id,
        });
    }

    /// Queues the results of records that completed together, then answers
    /// the flushes they complete.
    fn deliver(&mut self, completions: Vec<Completion<T>>, released: usize, base_offset: i64) {
        if completions.is_empty() {
            return;
        }
        // The next batch asks the coordinator again: a new transaction may
        // have started.
        if self.registration != Registration::NotNeeded && self.registration != Registration::Asked {
            self.registration = Registration::Needed;
        }
        let error = completions.iter().find_map(|(_, r)| r.as_ref().err().cloned());
        if let (Some(error), Some(_)) = (&error, &self.settings.transactional_id) {
            self.events
                .push_back(PartitionEvent::FailTransaction(error.clone()));
        }
        self.completed += completions.len() as u64;
        self.events.push_back(PartitionEvent::Delivered(Delivered {
            completions,
            released,
            base_offset,
            error,
        }));
        let completed = self.completed;
        let (done, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.flush_waiters)
            .into_iter()
            .partition(|(mark, _)| *mark <= completed);
        self.flush_waiters = waiting;
        self.events.extend(
            done.into_iter()
                .map(|(_, waiter)| PartitionEvent::Flushed(waiter)),
        );
    }
}
