//! The rules of one partition's queue, without clocks or sockets.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use kafka_wire::compression::Compression;
use kafka_wire::record::{
    read_batches, BatchError, ProducerStamp, RecordBatch, RecordBatchBuilder, RecordHeader,
};
use kafka_wire::ErrorCode;

use crate::error::{DataOutcome, EncodeFailure, ProducerError};
use crate::record::{RecordMetadata, TimestampType};
use crate::transaction::ProducerIdentity;

/// The settings a queue needs.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Largest batch, in encoded bytes before compression.
    pub max_batch_size: usize,
    /// How long a batch that is not full waits for more records.
    pub linger: Duration,
    /// Pause before a failed batch is retried.
    pub retry_backoff: Duration,
    /// How long a batch may live after its linger ended before it fails:
    /// retries stop there (`request_timeout_ms`).
    pub delivery_timeout: Duration,
    /// Batch compression.
    pub compression: Compression,
    /// Idempotent mode: batches carry the producer id, epoch and sequences;
    /// they never expire and retriable errors are retried without a deadline
    /// (a gap would break the sequences); a duplicate is a success.
    pub idempotent: bool,
    /// Batches belong to transactions (implies `idempotent`). A sequence
    /// error then fails the batch (the transaction must abort) instead of
    /// bumping the epoch.
    pub transactional: bool,
}

/// A record handed to [`PartitionQueue::append`].
#[derive(Debug, Clone, Copy)]
pub struct NewRecord<'a> {
    /// Timestamp, milliseconds since the epoch.
    pub timestamp: i64,
    /// Key.
    pub key: Option<&'a [u8]>,
    /// Value.
    pub value: Option<&'a [u8]>,
    /// Headers.
    pub headers: &'a [RecordHeader<'a>],
}

/// The result for one record, paired with the token its caller gave.
pub type Completion<T> = (T, Result<RecordMetadata, ProducerError>);

/// One record waiting in a batch.
#[derive(Debug)]
struct Pending<T> {
    token: T,
    timestamp: i64,
}

/// Bytes a record's entry takes in its batch (beyond its encoded bytes).
pub const fn pending_size<T>() -> usize {
    std::mem::size_of::<Pending<T>>()
}

#[derive(Debug)]
struct Batch<T> {
    id: u64,
    /// Records are encoded here as they arrive. The batch is closed
    /// (compressed, stamped, checksummed) when first sent, which is when an
    /// idempotent producer assigns its sequence; then `builder` becomes
    /// `encoded`, and retries re-send exactly those bytes.
    builder: Option<RecordBatchBuilder>,
    encoded: Option<RecordBatch>,
    records: Vec<Pending<T>>,
    created: Instant,
    attempts: u32,
    retry_at: Option<Instant>,
    last_error: Option<ProducerError>,
    /// Buffer bytes reserved for its records, returned when it completes.
    reserved: usize,
}

impl<T> Batch<T> {
    fn new(id: u64, now: Instant, config: &QueueConfig) -> Self {
        Self::reusing(id, now, config, BytesMut::new(), 0)
    }

    /// A batch encoding into `buffer`, with room for `expected` records.
    fn reusing(id: u64, now: Instant, config: &QueueConfig, buffer: BytesMut, expected: usize) -> Self {
        Batch {
            id,
            builder: Some(RecordBatchBuilder::with_buffer(
                config.compression,
                config.max_batch_size,
                buffer,
            )),
            encoded: None,
            records: Vec::with_capacity(expected),
            created: now,
            attempts: 0,
            retry_at: None,
            last_error: None,
            reserved: 0,
        }
    }

    /// Appends to the builder; `Ok(false)` when the batch is full.
    fn try_append(&mut self, record: &NewRecord<'_>) -> Result<bool, BatchError> {
        let Some(builder) = &mut self.builder else {
            return Ok(false);
        };
        Ok(builder
            .append(record.timestamp, record.key, record.value, record.headers)?
            .is_some())
    }

    fn is_full(&self, config: &QueueConfig) -> bool {
        self.builder
            .as_ref()
            .is_none_or(|b| b.size() >= config.max_batch_size)
    }

    /// The encoded batch, closing the builder with `stamp` on first use;
    /// `stamp` gets the number of records.
    fn encode(&mut self, stamp: impl FnOnce(i32) -> ProducerStamp) -> Result<RecordBatch, BatchError> {
        if let Some(builder) = self.builder.take() {
            let count = builder.record_count();
            self.encoded = Some(builder.close(stamp(count))?);
        }
        self.encoded.clone().ok_or(BatchError::Empty)
    }

    /// When retries stop: `delivery_timeout` after the batch became
    /// sendable (its linger ended), so a linger longer than the timeout does
    /// not expire batches before they could ever be sent.
    fn deadline(&self, config: &QueueConfig) -> Instant {
        self.created + config.linger + config.delivery_timeout
    }
}

/// What [`PartitionQueue::poll_send`] decided.
#[derive(Debug)]
pub enum Poll<T> {
    /// Nothing to send now.
    Idle,
    /// Send this batch.
    Send(Outgoing),
    /// The batch could not be encoded and failed without being sent.
    Failed {
        /// One result per record.
        completions: Vec<Completion<T>>,
        /// Buffer bytes it held.
        released: usize,
        /// Why.
        error: ProducerError,
    },
}

/// A batch to put on the wire.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Identifies the batch in [`PartitionQueue::on_response`].
    pub batch_id: u64,
    /// The encoded batch; a retry returns the same bytes.
    pub records: Bytes,
    /// Number of records in it.
    pub record_count: usize,
    /// How many times it was sent before.
    pub attempt: u32,
    /// When its first record arrived.
    pub created: Instant,
    /// When retries stop; `None` when batches never expire (idempotence).
    pub deadline: Option<Instant>,
}

/// How a sent batch ended.
#[derive(Debug, Clone)]
pub enum SendOutcome {
    /// The broker appended it (or acks=0: it was written to the socket).
    Appended {
        /// Offset of the first record, -1 if unknown.
        base_offset: i64,
        /// Broker append time for LogAppendTime topics, else -1.
        log_append_time_ms: i64,
        /// The partition's log start offset, -1 if unknown.
        log_start_offset: i64,
    },
    /// It failed; the error says whether a retry may help.
    Failed(ProducerError),
}

/// What the actor should do after a response.
#[derive(Debug)]
pub enum AfterResponse<T> {
    /// The batch is done; deliver these and return `released` buffer bytes.
    Completed {
        /// One result per record, in order.
        completions: Vec<Completion<T>>,
        /// Buffer bytes the batch held.
        released: usize,
        /// Offset of the first record (-1 on failure or when unknown).
        base_offset: i64,
        /// The error, when the batch failed.
        error: Option<ProducerError>,
    },
    /// The batch goes back to the head of the queue and is retried after the
    /// backoff; `refresh_metadata` asks for new leader information first.
    Retrying {
        /// Whether the error means our metadata is stale.
        refresh_metadata: bool,
    },
    /// The batch goes back to the head of the queue; the broker did not
    /// accept its sequence under `from`, so the producer epoch must be bumped
    /// (KIP-360). The queue resumes once [`PartitionQueue::set_identity`]
    /// gives the new identity.
    BumpEpoch {
        /// The identity the batch was sent with.
        from: ProducerIdentity,
    },
    /// The response was for no batch we know (already completed); ignore.
    Unknown,
}

/// The batches of one topic-partition.
///
/// Invariants: records leave in append order; at most one batch is in
/// flight; a retried batch goes back to the head of the queue, so a later
/// batch is never written before an earlier one.
#[derive(Debug)]
pub struct PartitionQueue<T> {
    topic: Arc<str>,
    partition: i32,
    config: QueueConfig,
    /// Closed to appends, oldest first; the head may be waiting for a retry.
    sealed: VecDeque<Batch<T>>,
    /// Accepting appends.
    open: Option<Batch<T>>,
    in_flight: Option<Batch<T>>,
    flushing: bool,
    next_id: u64,
    /// Idempotence: the identity to stamp, and this partition's next sequence.
    identity: Option<ProducerIdentity>,
    next_sequence: i32,
    /// The identity changed while a batch was in flight: renumber the queue
    /// once it returns.
    renumber_pending: bool,
    /// An epoch bump was asked for: send nothing until the new identity.
    awaiting_identity: bool,
    /// The buffer of the last completed batch, for the next one.
    spare_buffer: Option<BytesMut>,
    /// Records in the last batch sealed: room reserved for the next one.
    last_record_count: usize,
}

impl<T> PartitionQueue<T> {
    /// An empty queue for `topic`/`partition`.
    pub fn new(topic: Arc<str>, partition: i32, config: QueueConfig) -> Self {
        PartitionQueue {
            topic,
            partition,
            config,
            sealed: VecDeque::new(),
            open: None,
            in_flight: None,
            flushing: false,
            next_id: 0,
            identity: None,
            next_sequence: 0,
            renumber_pending: false,
            awaiting_identity: false,
            spare_buffer: None,
            last_record_count: 0,
        }
    }

    /// Sets the producer identity (idempotence). A new identity (an epoch
    /// bump) restarts this partition's sequences at 0: batches already
    /// encoded are restamped, in order, once nothing is in flight.
    pub fn set_identity(&mut self, identity: ProducerIdentity) {
        if self.identity == Some(identity) {
            return;
        }
        self.awaiting_identity = false;
        let first = self.identity.is_none();
        self.identity = Some(identity);
        if first {
            return;
        }
        if self.in_flight.is_some() {
            self.renumber_pending = true;
        } else {
            self.renumber();
        }
    }

    /// The identity batches are stamped with, if any.
    pub fn identity(&self) -> Option<ProducerIdentity> {
        self.identity
    }

    /// Restarts this partition's sequences at 0 (a new epoch).
    fn renumber(&mut self) {
        self.renumber_pending = false;
        self.renumber_from(0);
    }

    /// Gives the next batches sequences from `start`, restamping those
    /// already encoded, in order.
    fn renumber_from(&mut self, start: i32) {
        self.next_sequence = start;
        let Some(identity) = self.identity else {
            return;
        };
        for batch in &mut self.sealed {
            if let Some(encoded) = &batch.encoded {
                let count = encoded.record_count();
                batch.encoded =
                    Some(encoded.restamped(stamp(identity, self.next_sequence, self.config.transactional)));
                self.next_sequence = next_sequence(self.next_sequence, count);
            }
        }
    }

    /// The topic.
    pub fn topic(&self) -> &Arc<str> {
        &self.topic
    }

    /// The partition.
    pub fn partition(&self) -> i32 {
        self.partition
    }

    /// Whether no record is queued or in flight.
    pub fn is_empty(&self) -> bool {
        self.open.is_none() && self.sealed.is_empty() && self.in_flight.is_none()
    }

    /// Whether a batch is on the wire.
    pub fn has_in_flight(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Appends a record, reserving `reserved` buffer bytes for it until its
    /// batch completes. A full open batch is sealed and a new one started;
    /// records keep their order.
    pub fn append(
        &mut self,
        now: Instant,
        record: NewRecord<'_>,
        token: T,
        reserved: usize,
    ) -> Result<(), (T, ProducerError)> {
        // The builder refuses only what no batch can hold (fields or batches
        // beyond i32::MAX bytes); the producer checks max_request_size first.
        let too_large = |_: BatchError| ProducerError::RecordTooLarge {
            size: record.key.map_or(0, <[u8]>::len) + record.value.map_or(0, <[u8]>::len),
            max: i32::MAX as usize,
        };
        let appended = match &mut self.open {
            Some(open) => open.try_append(&record),
            None => Ok(false),
        };
        match appended {
            Ok(true) => {}
            Ok(false) => {
                self.seal_open();
                let buffer = self.spare_buffer.take().unwrap_or_default();
                let mut batch =
                    Batch::reusing(self.next_id, now, &self.config, buffer, self.last_record_count);
                self.next_id += 1;
                // A fresh batch always accepts its first record.
                match batch.try_append(&record) {
                    Ok(true) => self.open = Some(batch),
                    Ok(false) => return Err((token, too_large(BatchError::BatchTooLarge))),
                    Err(e) => return Err((token, too_large(e))),
                }
            }
            Err(e) => return Err((token, too_large(e))),
        }
        let Some(open) = &mut self.open else {
            return Err((token, ProducerError::Closed));
        };
        open.records.push(Pending {
            token,
            timestamp: record.timestamp,
        });
        open.reserved += reserved;
        if open.is_full(&self.config) {
            self.seal_open();
        }
        Ok(())
    }

    /// Queues a batch the caller built (`create_batch`/`send_batch`) behind
    /// everything appended so far. Its one token receives the metadata of its
    /// first record.
    pub fn push_batch(&mut self, now: Instant, builder: RecordBatchBuilder, token: T, reserved: usize) {
        self.seal_open();
        let mut batch = Batch::new(self.next_id, now, &self.config);
        self.next_id += 1;
        batch.records.push(Pending {
            token,
            timestamp: builder.base_timestamp(),
        });
        batch.builder = Some(builder);
        batch.reserved = reserved;
        self.sealed.push_back(batch);
    }

    fn seal_open(&mut self) {
        if let Some(open) = self.open.take() {
            self.last_record_count = open.records.len();
            if !open.records.is_empty() {
                self.sealed.push_back(open);
            }
        }
    }

    /// Sends the open batch as soon as possible, whatever its linger, until
    /// the queue is empty.
    pub fn begin_flush(&mut self) {
        self.flushing = true;
    }

    /// The next batch to send, if one may go now. `stamp` gives the producer
    /// id, epoch and base sequence for a batch sent for the first time, from
    /// its record count.
    pub fn poll_send(&mut self, now: Instant) -> Poll<T> {
        if self.in_flight.is_some()
            || self.awaiting_identity
            || (self.config.idempotent && self.identity.is_none())
        {
            return Poll::Idle;
        }
        if self.sealed.is_empty() {
            let Some(open) = &self.open else {
                return Poll::Idle;
            };
            if now < open.created + self.config.linger && !self.flushing {
                return Poll::Idle;
            }
            self.seal_open();
        }
        if self
            .sealed
            .front()
            .and_then(|b| b.retry_at)
            .is_some_and(|at| now < at)
        {
            return Poll::Idle;
        }
        let Some(mut batch) = self.sealed.pop_front() else {
            return Poll::Idle;
        };
        let identity = self.identity;
        let transactional = self.config.transactional;
        let sequence = &mut self.next_sequence;
        let encoded = batch.encode(|count| match identity {
            Some(identity) => {
                let stamped = stamp(identity, *sequence, transactional);
                *sequence = next_sequence(*sequence, count);
                stamped
            }
            None => ProducerStamp::NONE,
        });
        match encoded {
            Ok(encoded) => {
                let outgoing = Outgoing {
                    batch_id: batch.id,
                    records: encoded.bytes().clone(),
                    record_count: batch.records.len(),
                    attempt: batch.attempts,
                    created: batch.created,
                    deadline: (!self.config.idempotent).then(|| batch.deadline(&self.config)),
                };
                batch.attempts += 1;
                self.in_flight = Some(batch);
                Poll::Send(outgoing)
            }
            Err(e) => {
                // Nothing was sent; fail the batch rather than block the
                // partition behind it.
                let error = ProducerError::Encode {
                    reason: EncodeFailure::from(&e),
                };
                let (completions, released) = self.drop_batch(batch, &error);
                Poll::Failed {
                    completions,
                    released,
                    error,
                }
            }
        }
    }

    /// Applies the outcome of the in-flight batch `batch_id`.
    pub fn on_response(&mut self, now: Instant, batch_id: u64, outcome: SendOutcome) -> AfterResponse<T> {
        if self.in_flight.as_ref().map(|b| b.id) != Some(batch_id) {
            return AfterResponse::Unknown;
        }
        let Some(batch) = self.in_flight.take() else {
            return AfterResponse::Unknown;
        };
        let after = if self.config.idempotent {
            self.on_idempotent_response(now, batch, outcome)
        } else {
            self.apply(now, batch, outcome)
        };
        if self.renumber_pending {
            self.renumber();
        }
        after
    }

    /// The idempotent producer's rules before the common ones: a duplicate
    /// is a success; a sequence the broker does not accept needs an epoch
    /// bump; a batch of an older epoch is renumbered and retried.
    fn on_idempotent_response(
        &mut self,
        now: Instant,
        mut batch: Batch<T>,
        outcome: SendOutcome,
    ) -> AfterResponse<T> {
        let code = match &outcome {
            SendOutcome::Failed(ProducerError::Broker { code, .. }) => *code,
            _ => return self.apply(now, batch, outcome),
        };
        let sent_with = batch.encoded.as_ref().map(|e| e.stamp());
        match code {
            ErrorCode::DUPLICATE_SEQUENCE_NUMBER => {
                // Written before; the broker no longer knows where.
                let written = SendOutcome::Appended {
                    base_offset: -1,
                    log_append_time_ms: -1,
                    log_start_offset: -1,
                };
                self.apply(now, batch, written)
            }
            ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER | ErrorCode::UNKNOWN_PRODUCER_ID
                if !self.config.transactional =>
            {
                // KIP-360: not written; retry under a bumped epoch with
                // sequences restarted.
                let from = sent_with.map(|s| ProducerIdentity {
                    producer_id: s.producer_id,
                    producer_epoch: s.producer_epoch,
                });
                if let SendOutcome::Failed(error) = outcome {
                    batch.last_error = Some(error);
                }
                self.sealed.push_front(batch);
                self.renumber_pending |= from != self.identity;
                match from {
                    Some(from) if Some(from) == self.identity => {
                        self.awaiting_identity = true;
                        AfterResponse::BumpEpoch { from }
                    }
                    _ => AfterResponse::Retrying {
                        refresh_metadata: false,
                    },
                }
            }
            ErrorCode::INVALID_PRODUCER_EPOCH
                if sent_with.map(|s| s.producer_epoch) != self.identity.map(|i| i.producer_epoch) =>
            {
                // Sent under an epoch since bumped: renumber and retry.
                self.sealed.push_front(batch);
                self.renumber_pending = true;
                AfterResponse::Retrying {
                    refresh_metadata: false,
                }
            }
            _ => self.apply(now, batch, outcome),
        }
    }

    /// The rules common to every mode.
    fn apply(&mut self, now: Instant, mut batch: Batch<T>, outcome: SendOutcome) -> AfterResponse<T> {
        match outcome {
            SendOutcome::Appended {
                base_offset,
                log_append_time_ms,
                log_start_offset,
            } => {
                let completions = batch
                    .records
                    .into_iter()
                    .enumerate()
                    .map(|(i, pending)| {
                        let (timestamp, timestamp_type) = if log_append_time_ms >= 0 {
                            (log_append_time_ms, TimestampType::LogAppendTime)
                        } else {
                            (pending.timestamp, TimestampType::CreateTime)
                        };
                        let metadata = RecordMetadata {
                            topic: self.topic.clone(),
                            partition: self.partition,
                            // -1 when the broker gave none, or one so near
                            // i64::MAX that the batch's offsets do not exist.
                            offset: if base_offset >= 0 {
                                base_offset.checked_add(i as i64).unwrap_or(-1)
                            } else {
                                -1
                            },
                            timestamp,
                            timestamp_type,
                            log_start_offset,
                        };
                        (pending.token, Ok(metadata))
                    })
                    .collect();
                self.after_completion();
                // Its request is over; the buffer is reused only if no one
                // else holds it (`into_buffer` checks), and only kept while
                // more records wait: an idle partition holds no memory.
                if self.open.is_some() || !self.sealed.is_empty() {
                    self.spare_buffer = batch.encoded.and_then(|encoded| encoded.into_buffer());
                }
                AfterResponse::Completed {
                    completions,
                    released: batch.reserved,
                    base_offset,
                    error: None,
                }
            }
            SendOutcome::Failed(error) if is_message_too_large(&error) && batch.records.len() > 1 => {
                // The broker refused the batch as a whole; its records may
                // still fit one by one. Split in two and send both halves
                // before anything else, in order.
                let base_sequence = batch.encoded.as_ref().map(|e| e.stamp().base_sequence);
                match split(&mut batch, &self.config, now) {
                    Some((mut first, mut second)) => {
                        // Nothing was written: the halves take the sequences
                        // the whole batch had (they are stamped when sent).
                        if let (true, Some(sequence)) = (self.config.idempotent, base_sequence) {
                            self.renumber_from(sequence);
                        }
                        first.id = self.next_id;
                        second.id = self.next_id + 1;
                        self.next_id += 2;
                        self.sealed.push_front(second);
                        self.sealed.push_front(first);
                        AfterResponse::Retrying {
                            refresh_metadata: false,
                        }
                    }
                    None => self.fail_batch(batch, error),
                }
            }
            SendOutcome::Failed(error) => {
                let retry_at = now + self.config.retry_backoff;
                let in_time = self.config.idempotent || retry_at < batch.deadline(&self.config);
                if error.is_retriable() && in_time {
                    let refresh_metadata = needs_metadata_refresh(&error);
                    tracing::debug!(
                        topic = %self.topic, partition = self.partition, attempt = batch.attempts,
                        error = %error, "retrying batch"
                    );
                    batch.retry_at = Some(retry_at);
                    batch.last_error = Some(error);
                    self.sealed.push_front(batch);
                    AfterResponse::Retrying { refresh_metadata }
                } else {
                    // Certainly not written: its sequences go to the next
                    // batches, or the broker would see a gap (as the Java
                    // client does for transactional batches).
                    let sent_with = batch.encoded.as_ref().map(|e| e.stamp());
                    if let (true, DataOutcome::NotWritten, Some(sent_with)) =
                        (self.config.idempotent, error.outcome(), sent_with)
                    {
                        if Some(sent_with.producer_epoch) == self.identity.map(|i| i.producer_epoch) {
                            self.renumber_from(sent_with.base_sequence);
                        }
                    }
                    self.fail_batch(batch, error)
                }
            }
        }
    }

    /// Removes a batch for good, failing its records with `error`; returns
    /// the completions and the buffer bytes it held.
    fn drop_batch(&mut self, batch: Batch<T>, error: &ProducerError) -> (Vec<Completion<T>>, usize) {
        let released = batch.reserved;
        let completions = fail_records(batch.records, error);
        self.after_completion();
        (completions, released)
    }

    fn fail_batch(&mut self, batch: Batch<T>, error: ProducerError) -> AfterResponse<T> {
        let (completions, released) = self.drop_batch(batch, &error);
        AfterResponse::Completed {
            completions,
            released,
            base_offset: -1,
            error: Some(error),
        }
    }

    fn after_completion(&mut self) {
        if self.is_empty() {
            self.flushing = false;
        }
    }

    /// Fails batches that waited past their delivery deadline without being
    /// in flight, with their last error (or [`ProducerError::BatchExpired`]).
    /// Returns the completions and the buffer bytes released.
    pub fn expire(&mut self, now: Instant) -> (Vec<Completion<T>>, usize) {
        let mut completions = Vec::new();
        let mut released = 0;
        if self.config.idempotent {
            return (completions, released);
        }
        let config = &self.config;
        let mut expired: Vec<Batch<T>> = Vec::new();
        // Batches expire in order: a later batch never outlives an earlier
        // one that is still waiting, so checking from the head keeps order.
        while self.sealed.front().is_some_and(|b| now >= b.deadline(config)) {
            expired.extend(self.sealed.pop_front());
        }
        if self.sealed.is_empty() && self.open.as_ref().is_some_and(|b| now >= b.deadline(config)) {
            expired.extend(self.open.take());
        }
        for batch in expired {
            let waited_ms = now.saturating_duration_since(batch.created).as_millis() as u64;
            let error = batch
                .last_error
                .clone()
                .unwrap_or(ProducerError::BatchExpired { waited_ms });
            released += batch.reserved;
            completions.extend(fail_records(batch.records, &error));
        }
        self.after_completion();
        (completions, released)
    }

    /// Fails everything not in flight (the producer is stopping without
    /// flushing, or hit a fatal error). Returns completions and bytes released.
    pub fn fail_queued(&mut self, error: &ProducerError) -> (Vec<Completion<T>>, usize) {
        let mut completions = Vec::new();
        let mut released = 0;
        self.seal_open();
        for batch in self.sealed.drain(..) {
            released += batch.reserved;
            completions.extend(fail_records(batch.records, error));
        }
        self.after_completion();
        (completions, released)
    }

    /// Gives up on everything (a stop whose deadline passed): the batch in
    /// flight fails with `in_flight` (its outcome is unknown), the others
    /// with `queued`. Returns the completions and the buffer bytes held.
    pub fn abandon(
        &mut self,
        in_flight: &ProducerError,
        queued: &ProducerError,
    ) -> (Vec<Completion<T>>, usize) {
        let (mut completions, mut released) = match self.in_flight.take() {
            Some(batch) => (fail_records(batch.records, in_flight), batch.reserved),
            None => (Vec::new(), 0),
        };
        let (rest, rest_released) = self.fail_queued(queued);
        completions.extend(rest);
        released += rest_released;
        (completions, released)
    }

    /// When [`poll_send`](Self::poll_send) or [`expire`](Self::expire) next
    /// has something to do, if anything is waiting on time.
    pub fn next_wakeup(&self) -> Option<Instant> {
        match (self.next_send(), self.next_expiry()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// When [`poll_send`](Self::poll_send) next may send: the end of the
    /// head batch's retry backoff, or of the open batch's linger.
    pub fn next_send(&self) -> Option<Instant> {
        if self.in_flight.is_some() {
            return None;
        }
        match (self.sealed.front(), &self.open) {
            (Some(head), _) => head.retry_at,
            (None, Some(open)) if !self.flushing => Some(open.created + self.config.linger),
            _ => None,
        }
    }

    /// When [`expire`](Self::expire) next fails the oldest waiting batch
    /// (never for an idempotent producer).
    pub fn next_expiry(&self) -> Option<Instant> {
        if self.config.idempotent {
            return None;
        }
        let oldest_waiting = self.sealed.front().or(self.open.as_ref());
        oldest_waiting.map(|b| b.deadline(&self.config))
    }
}

fn stamp(identity: ProducerIdentity, base_sequence: i32, transactional: bool) -> ProducerStamp {
    ProducerStamp {
        producer_id: identity.producer_id,
        producer_epoch: identity.producer_epoch,
        base_sequence,
        transactional,
    }
}

/// Sequences wrap from `i32::MAX` to 0, as Kafka's do.
fn next_sequence(sequence: i32, count: i32) -> i32 {
    ((i64::from(sequence) + i64::from(count)) % (i64::from(i32::MAX) + 1)) as i32
}

fn is_message_too_large(error: &ProducerError) -> bool {
    matches!(error, ProducerError::Broker { code, .. } if *code == ErrorCode::MESSAGE_TOO_LARGE)
}

/// Splits a batch the broker found too large into two batches of its records,
/// re-encoded from its own bytes (the records are not kept elsewhere). Only
/// batches with one token per record can be split; a caller-built batch
/// (`send_batch`) fails as a whole.
fn split<T>(batch: &mut Batch<T>, config: &QueueConfig, now: Instant) -> Option<(Batch<T>, Batch<T>)> {
    let decoded = match batch
        .encoded
        .as_ref()
        .map(|e| read_batches(e.bytes(), usize::MAX))
    {
        Some(Ok(decoded)) if decoded.len() == 1 && decoded[0].records.len() == batch.records.len() => decoded,
        _ => return None,
    };
    let source = &decoded[0];
    let mid = batch.records.len() / 2;
    let mut halves = [
        Batch::new(batch.id, now, config),
        Batch::new(batch.id, now, config),
    ];
    for (i, record) in source.records.iter().enumerate() {
        let half = &mut halves[usize::from(i >= mid)];
        let headers: Vec<RecordHeader<'_>> = record
            .headers
            .iter()
            .map(|(k, v)| RecordHeader {
                key: k,
                value: v.as_deref(),
            })
            .collect();
        let appended = half.builder.as_mut().map(|b| {
            b.append(
                source.base_timestamp + record.timestamp_delta,
                record.key.as_deref(),
                record.value.as_deref(),
                &headers,
            )
        });
        if !matches!(appended, Some(Ok(Some(_)))) {
            // Not expected: each half is smaller than the batch it came from.
            return None;
        }
    }
    let second_records = batch.records.split_off(mid);
    let first_records = std::mem::take(&mut batch.records);
    let [mut first, mut second] = halves;
    for (half, records) in [(&mut first, first_records), (&mut second, second_records)] {
        half.created = batch.created;
        half.reserved = batch.reserved * records.len() / source.records.len();
        half.records = records;
        half.attempts = batch.attempts;
    }
    second.reserved = batch.reserved - first.reserved;
    Some((first, second))
}

fn fail_records<T>(records: Vec<Pending<T>>, error: &ProducerError) -> Vec<Completion<T>> {
    records
        .into_iter()
        .map(|p| (p.token, Err(error.clone())))
        .collect()
}

/// Whether an error means the leader may have moved.
fn needs_metadata_refresh(error: &ProducerError) -> bool {
    match error {
        ProducerError::Broker { code, .. } => code.is_invalid_metadata(),
        ProducerError::Disconnected { .. }
        | ProducerError::Connection { .. }
        | ProducerError::RequestTimedOut { .. } => true,
        _ => false,
    }
}
