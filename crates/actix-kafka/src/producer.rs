//! The async facade: aiokafka's `AIOKafkaProducer` semantics over the actors.
//!
//! ```no_run
//! # async fn run() -> Result<(), actix_kafka::ProducerError> {
//! use actix_kafka::{Producer, ProducerConfig, ProducerRecord};
//! let producer = Producer::start(ProducerConfig::new("127.0.0.1:9092")).await?;
//! // First await: the record is enqueued. Second await: it is delivered.
//! let delivery = producer.send(ProducerRecord::new("events", "hello")).await?;
//! let metadata = delivery.await?;
//! println!("written at offset {}", metadata.offset);
//! producer.stop().await;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::actors::metadata::{AwaitCluster, MetadataActor, ShutdownMetadata};
use crate::actors::producer::{
    BeginTransaction, EndTransaction, Enqueue, EnqueueAll, EnqueueBatch, Flush, PartitionsFor, ProducerActor,
    SendOffsetsToTransaction, Stop, Subscribe,
};
use crate::actors::transaction::{InitIdentity, TransactionCoordinatorActor};
use crate::actors::DeliveryEvent;
use crate::clock::now_ms;
use crate::config::ProducerConfig;
use crate::delivery::{DeliveryFuture, DeliveryResult, Group, Ticket};
use crate::error::ProducerError;
use crate::record::{wire_headers, Header, ProducerRecord, RecordMetadata};
use crate::security::{ConnectionSecurity, ProducerBuilder};
use kafka_wire::compression::Compression;
use kafka_wire::record::RecordBatchBuilder;

/// A running producer. Cloning it is cheap; all clones feed the same actors.
#[derive(Clone)]
pub struct Producer {
    addr: Addr<ProducerActor>,
    max_block: Duration,
    compression: Compression,
    max_batch_size: usize,
    max_request_size: usize,
}

/// A batch built by the caller: [`Producer::create_batch`], then
/// [`append`](BatchBuilder::append) records, then [`Producer::send_batch`].
#[derive(Debug)]
pub struct BatchBuilder {
    builder: RecordBatchBuilder,
    max_request_size: usize,
    closed: bool,
}

/// Where an appended record sits in its batch (aiokafka's `append` result).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchRecordInfo {
    /// Position in the batch; the record's offset is the batch's base offset
    /// plus this.
    pub offset_delta: i32,
    /// The record's timestamp.
    pub timestamp: i64,
    /// The record's encoded size in bytes.
    pub size: usize,
}

impl BatchBuilder {
    /// Appends a record, or returns `None` when the batch is full or closed.
    /// The first record is always accepted, unless it alone exceeds
    /// `max_request_size`.
    pub fn append(
        &mut self,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: Option<i64>,
        headers: &[Header],
    ) -> Option<BatchRecordInfo> {
        if self.closed {
            return None;
        }
        let timestamp = timestamp.unwrap_or_else(now_ms);
        let headers = wire_headers(headers);
        let size = self.builder.record_size(timestamp, key, value, &headers);
        if self.builder.size() + size > self.max_request_size {
            return None;
        }
        let info = self.builder.append(timestamp, key, value, &headers).ok()??;
        Some(BatchRecordInfo {
            offset_delta: info.offset_delta,
            timestamp,
            size: info.encoded_size,
        })
    }

    /// Refuses further appends.
    pub fn close(&mut self) {
        self.closed = true;
    }

    /// Number of records appended.
    pub fn record_count(&self) -> usize {
        self.builder.record_count() as usize
    }

    /// Encoded size so far, before compression.
    pub fn size(&self) -> usize {
        self.builder.size()
    }
}

impl Producer {
    /// Validates `config`, starts the actors in the current actix system, and
    /// waits until the cluster answers a metadata request (up to
    /// `max_block_ms`).
    ///
    /// TLS and SASL follow the configuration; [`Producer::builder`] can also
    /// take a ready `rustls::ClientConfig` or an OAUTHBEARER token provider.
    pub async fn start(config: ProducerConfig) -> Result<Producer, ProducerError> {
        ProducerBuilder::new(config).start().await
    }

    /// A builder, for what a configuration cannot hold (a TLS
    /// `ClientConfig`, a token provider).
    pub fn builder(config: ProducerConfig) -> ProducerBuilder {
        ProducerBuilder::new(config)
    }

    /// Starts the actors over connections secured by `security` (the
    /// configuration is validated already).
    pub(crate) async fn start_with(
        config: ProducerConfig,
        security: Arc<ConnectionSecurity>,
    ) -> Result<Producer, ProducerError> {
        let config = Arc::new(config);
        let deadline = Instant::now() + Duration::from_millis(config.max_block_ms);
        let metadata = MetadataActor::with_security(config.clone(), security).start();
        let (reply, answer) = oneshot::channel();
        metadata.do_send(AwaitCluster { deadline, reply });
        if let Err(e) = answer.await.unwrap_or(Err(ProducerError::Closed)) {
            metadata.do_send(ShutdownMetadata);
            return Err(e);
        }
        let idempotence = if config.is_idempotent() {
            let coordinator = TransactionCoordinatorActor::new(config.clone(), metadata.clone()).start();
            match coordinator.send(InitIdentity).await {
                Ok(Ok(identity)) => Some((coordinator, identity)),
                Ok(Err(e)) => {
                    metadata.do_send(ShutdownMetadata);
                    return Err(e);
                }
                Err(_) => return Err(ProducerError::Closed),
            }
        } else {
            None
        };
        let producer = Producer {
            addr: ProducerActor::new(config.clone(), metadata, idempotence).start(),
            max_block: config.max_block(),
            compression: config.compression_type,
            max_batch_size: config.max_batch_size,
            max_request_size: config.max_request_size,
        };
        Ok(producer)
    }

    /// The actor address, for actor-level messages (`Produce`, `ProduceAll`,
    /// `Subscribe`, ...).
    pub fn addr(&self) -> &Addr<ProducerActor> {
        &self.addr
    }

    /// Enqueues `record`. The returned future is the delivery. If this
    /// await fails, times out or is dropped, the record is never sent.
    pub async fn send(&self, record: ProducerRecord) -> Result<DeliveryFuture, ProducerError> {
        let (group, ticket) = Ticket::single(None);
        // Made before posting: if this future is dropped, the record is abandoned.
        let stage = group.enqueue_stage();
        self.post(Enqueue { record, ticket }).await?;
        stage.await;
        group.enqueue_result(0)?;
        Ok(group.delivery(0))
    }

    /// Puts a message in the producer's mailbox, waiting up to `max_block_ms`
    /// while it is full. A message not posted is never handled.
    async fn post<M>(&self, message: M) -> Result<(), ProducerError>
    where
        M: Message<Result = ()> + Send + 'static,
        ProducerActor: Handler<M>,
    {
        let started = Instant::now();
        match tokio::time::timeout(self.max_block, self.addr.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(ProducerError::Closed),
            Err(_) => Err(ProducerError::EnqueueTimeout {
                waited_ms: started.elapsed().as_millis() as u64,
            }),
        }
    }

    /// Enqueues many records with one mailbox message. Each element is that
    /// record's delivery future, or why it was not enqueued.
    pub async fn send_all(&self, records: Vec<ProducerRecord>) -> Vec<Result<DeliveryFuture, ProducerError>> {
        let group = Group::new(records.len(), None);
        if let Err(e) = self.enqueue_group(&group, records).await {
            return (0..group.len()).map(|_| Err(e.clone())).collect();
        }
        (0..group.len())
            .map(|index| group.enqueue_result(index).map(|()| group.delivery(index)))
            .collect()
    }

    /// Enqueues many records with one mailbox message, like
    /// [`send_all`](Self::send_all), but delivers each result to
    /// `on_delivery(index, result)` (`index` is the record's position in
    /// `records`) instead of a future: the lightest way to send, as the Java
    /// client's callbacks. The callback runs on the producer's actors once per
    /// enqueued record, in completion order; keep it short.
    ///
    /// Answers, per record, whether it was enqueued; a record refused here is
    /// never sent and never reaches the callback.
    pub async fn send_all_with<F>(
        &self,
        records: Vec<ProducerRecord>,
        on_delivery: F,
    ) -> Vec<Result<(), ProducerError>>
    where
        F: Fn(usize, DeliveryResult) + Send + Sync + 'static,
    {
        let group = Group::new(records.len(), Some(Box::new(on_delivery)));
        if let Err(e) = self.enqueue_group(&group, records).await {
            return (0..group.len()).map(|_| Err(e.clone())).collect();
        }
        (0..group.len())
            .map(|index| group.enqueue_result(index))
            .collect()
    }

    /// Posts `records` with `group`'s tickets and waits for their enqueue stage.
    async fn enqueue_group(
        &self,
        group: &Arc<Group>,
        records: Vec<ProducerRecord>,
    ) -> Result<(), ProducerError> {
        // Made before posting: if this future is dropped, the records are abandoned.
        let stage = group.enqueue_stage();
        let messages = records
            .into_iter()
            .zip(group.tickets())
            .map(|(record, ticket)| Enqueue { record, ticket })
            .collect();
        self.post(EnqueueAll(messages)).await?;
        stage.await;
        Ok(())
    }

    /// An empty batch with this producer's compression and `max_batch_size`.
    pub fn create_batch(&self) -> BatchBuilder {
        BatchBuilder {
            builder: RecordBatchBuilder::new(self.compression, self.max_batch_size),
            max_request_size: self.max_request_size,
            closed: false,
        }
    }

    /// Enqueues a batch for `topic`/`partition` (two stages, like
    /// [`send`](Self::send)); the delivery result is the metadata of the
    /// batch's first record.
    pub async fn send_batch(
        &self,
        batch: BatchBuilder,
        topic: &str,
        partition: i32,
    ) -> Result<DeliveryFuture, ProducerError> {
        let (group, ticket) = Ticket::single(None);
        let stage = group.enqueue_stage();
        self.post(EnqueueBatch {
            builder: batch.builder,
            topic: topic.to_string(),
            partition,
            ticket,
        })
        .await?;
        stage.await;
        group.enqueue_result(0)?;
        Ok(group.delivery(0))
    }

    /// Sends `record` and waits for its delivery.
    pub async fn send_and_wait(&self, record: ProducerRecord) -> Result<RecordMetadata, ProducerError> {
        self.send(record).await?.await
    }

    /// Sends everything buffered now and waits until it is delivered or failed.
    pub async fn flush(&self) {
        let _ = self.addr.send(Flush).await;
    }

    /// The partitions of `topic`, waiting for metadata up to `max_block_ms`.
    pub async fn partitions_for(&self, topic: &str) -> Result<Vec<i32>, ProducerError> {
        self.addr
            .send(PartitionsFor(topic.to_string()))
            .await
            .map_err(|_| ProducerError::Closed)?
    }

    /// Subscribes `recipient` to delivery events (one per batch).
    pub fn subscribe(&self, recipient: Recipient<DeliveryEvent>) {
        self.addr.do_send(Subscribe(recipient));
    }

    /// Opens a transaction (a producer with a `transactional_id`).
    pub async fn begin_transaction(&self) -> Result<(), ProducerError> {
        self.addr
            .send(BeginTransaction)
            .await
            .map_err(|_| ProducerError::Closed)?
    }

    /// Flushes the transaction's records and commits it. Once started it runs
    /// to completion even if this future is dropped. After an error whose
    /// outcome is unknown (a timeout), call it again: the same commit is
    /// retried, never switched to an abort.
    pub async fn commit_transaction(&self) -> Result<(), ProducerError> {
        self.end_transaction(true).await
    }

    /// Flushes the transaction's records and aborts it: `read_committed`
    /// consumers never see them. Runs to completion once started.
    pub async fn abort_transaction(&self) -> Result<(), ProducerError> {
        self.end_transaction(false).await
    }

    async fn end_transaction(&self, commit: bool) -> Result<(), ProducerError> {
        // The request is owned by a spawned task, so the actor handles it
        // whether or not the caller keeps waiting.
        let request = self.addr.send(EndTransaction { commit });
        let (reply, answer) = oneshot::channel();
        actix_rt::spawn(async move {
            let _ = reply.send(request.await);
        });
        answer
            .await
            .map_err(|_| ProducerError::Closed)?
            .map_err(|_| ProducerError::Closed)?
    }

    /// Runs `body` in a transaction: commits when it returns `Ok`, aborts
    /// when it returns `Err` (and returns that error).
    ///
    /// A commit that fails because the transaction can only be aborted (one
    /// of its records failed) is followed by the abort, and its error is
    /// returned. A commit whose outcome is unknown (a timeout) is not
    /// aborted — the transaction may have committed: call
    /// [`Producer::commit_transaction`] again to learn the outcome.
    pub async fn transaction<T, F, Fut>(&self, body: F) -> Result<T, ProducerError>
    where
        F: FnOnce(Producer) -> Fut,
        Fut: Future<Output = Result<T, ProducerError>>,
    {
        self.begin_transaction().await?;
        let result = body(self.clone()).await;
        let error = match result {
            Ok(value) => match self.commit_transaction().await {
                Ok(()) => return Ok(value),
                Err(error) => error,
            },
            Err(error) => error,
        };
        // Refused (without effect) when the transaction is committing or the
        // producer is fenced: the coordinator's state machine decides.
        if let Err(abort_error) = self.abort_transaction().await {
            tracing::debug!(%abort_error, %error, "no abort after the failed transaction");
        }
        Err(error)
    }

    /// Adds consumed offsets (`(topic, partition, next offset)`) of
    /// `group_id` to the open transaction: they are committed for the group
    /// only if the transaction commits.
    pub async fn send_offsets_to_transaction(
        &self,
        offsets: Vec<(String, i32, i64)>,
        group_id: &str,
    ) -> Result<(), ProducerError> {
        let message = SendOffsetsToTransaction {
            offsets,
            group_id: group_id.to_string(),
        };
        self.addr.send(message).await.map_err(|_| ProducerError::Closed)?
    }

    /// Refuses new records, flushes everything enqueued, and stops. Waits as
    /// long as the records take: forever for an idempotent producer whose
    /// brokers stay away (its batches never expire); see
    /// [`Producer::stop_within`].
    pub async fn stop(&self) {
        let _ = self.addr.send(Stop::default()).await;
    }

    /// Like [`Producer::stop`], but gives up on the records still undelivered
    /// when `timeout` passes: those never sent fail with
    /// [`ProducerError::Cancelled`], those in flight with
    /// [`ProducerError::Disconnected`] (their outcome is unknown). Returns
    /// whether everything was flushed in time.
    pub async fn stop_within(&self, timeout: Duration) -> bool {
        let stop = Stop {
            timeout: Some(timeout),
        };
        self.addr.send(stop).await.unwrap_or(true)
    }
}
