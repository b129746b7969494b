//! `TransactionCoordinatorActor`: the producer's identity for idempotence.
//!
//! An idempotent producer gets a producer id and epoch with InitProducerId
//! (from any broker, since it has no transactional id) before it sends
//! anything. When a partition learns that the broker no longer accepts its
//! sequences (UNKNOWN_PRODUCER_ID, OUT_OF_ORDER_SEQUENCE_NUMBER), it asks for
//! an epoch bump (KIP-360: InitProducerId with the current id and epoch); the
//! new identity goes to every partition, which restart their sequences at 0.
//! Requests to bump an epoch that was already bumped are ignored, so many
//! partitions hitting the same error cause one bump.
//!
//! With a `transactional_id` it also runs transactions: FindCoordinator, then
//! InitProducerId at the coordinator (fencing any earlier instance). Each
//! transaction picks its protocol at begin, from the finalized
//! `transaction.version` a broker reports ([`TxnProtocol`]):
//!
//! * V1 (every 2.8–4.x cluster): AddPartitionsToTxn before a partition's
//!   first batch, AddOffsetsToTxn + TxnOffsetCommit (v0–4) for
//!   `send_offsets_to_transaction`, EndTxn (v0–4). After a sequence error the
//!   epoch is bumped with InitProducerId once the transaction has ended.
//! * V2 (KIP-890): partitions join implicitly through Produce v12+, offsets
//!   through TxnOffsetCommit v5+, and EndTxn v5+ returns a bumped epoch (or a
//!   new producer id), which every partition adopts with sequences from 0.
//!
//! The state machine is [`crate::transaction::Transaction`]; this actor
//! serializes every change to it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use kafka_wire::messages::init_producer_id::InitProducerIdRequest;
use tokio::sync::oneshot;

use super::metadata::{AnyConnection, ConnectionTo, MetadataActor};
use crate::accumulator::ProducerIdentity;
use crate::config::ProducerConfig;
use crate::connection::BrokerConnectionActor;
use crate::connection::{Call, CallWithin, ConnectionError, GetApiVersions};
use crate::error::ErrorClass;
use crate::error::{ProducerError, ProtocolViolation};
use crate::transaction::{Transaction, TxnProtocol};
use kafka_wire::api::{ApiKey, VersionRange};
use kafka_wire::messages::add_offsets_to_txn::AddOffsetsToTxnRequest;
use kafka_wire::messages::add_partitions_to_txn::{
    AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, AddPartitionsToTxnTopic,
};
use kafka_wire::messages::end_txn::EndTxnRequest;
use kafka_wire::messages::find_coordinator::{CoordinatorType, FindCoordinatorRequest};
use kafka_wire::messages::txn_offset_commit::{
    TxnOffsetCommitRequest, TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
    TxnOffsetCommitResponse,
};
use kafka_wire::messages::Request;
use kafka_wire::ErrorCode;

/// Obtains the first identity; answers once it is known or `max_block_ms`
/// passed.
#[derive(Message)]
#[rtype(result = "Result<ProducerIdentity, ProducerError>")]
pub struct InitIdentity;

/// Asks for an epoch bump because a partition's batch sent with `from` was
/// refused for its sequence.
#[derive(Message)]
#[rtype(result = "()")]
pub struct BumpEpoch {
    /// The identity the refused batch carried.
    pub from: ProducerIdentity,
}

/// Sent to listeners whenever the identity changes.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct IdentityChanged(pub ProducerIdentity);

/// Registers a listener for [`IdentityChanged`].
#[derive(Message)]
#[rtype(result = "()")]
pub struct ListenForIdentity(pub Recipient<IdentityChanged>);

/// See the module documentation.
pub struct TransactionCoordinatorActor {
    config: Arc<ProducerConfig>,
    metadata: Addr<MetadataActor>,
    identity: Option<ProducerIdentity>,
    listeners: Vec<Recipient<IdentityChanged>>,
    bumping: bool,
    txn: Transaction,
    /// A TxnBegin is looking up the cluster's protocol.
    beginning: bool,
}

impl TransactionCoordinatorActor {
    /// The coordinator of an idempotent producer.
    pub fn new(config: Arc<ProducerConfig>, metadata: Addr<MetadataActor>) -> Self {
        TransactionCoordinatorActor {
            config,
            metadata,
            identity: None,
            listeners: Vec::new(),
            bumping: false,
            txn: Transaction::default(),
            beginning: false,
        }
    }

    fn txn_context(&self) -> Result<(String, ProducerIdentity), ProducerError> {
        let id = self
            .config
            .transactional_id
            .clone()
            .ok_or_else(|| ProducerError::TransactionalMisuse {
                reason: "transactions need a transactional_id".to_string(),
            })?;
        let identity = self.identity.ok_or(ProducerError::Closed)?;
        Ok((id, identity))
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.config.max_block()
    }
}

/// Where requests for the transactional id (or a group) go.
type Coordinator = (i32, Addr<BrokerConnectionActor>);

/// Finds the coordinator of `key` (one attempt).
async fn find_coordinator(
    metadata: &Addr<MetadataActor>,
    key_type: CoordinatorType,
    key: &str,
) -> Result<Coordinator, ProducerError> {
    let (reply, answer) = oneshot::channel();
    metadata.do_send(AnyConnection { reply });
    let (node_id, connection) = answer.await.unwrap_or(Err(ProducerError::Closed))?;
    let response = connection
        .send(Call(FindCoordinatorRequest::single(key_type, key)))
        .await
        .map_err(|_| ProducerError::Closed)?
        .map_err(ProducerError::from)?;
    let found = response.coordinator(key).ok_or_else(|| ProducerError::Protocol {
        broker: node_id.into(),
        cause: ProtocolViolation::NoCoordinator { key: key.to_string() },
    })?;
    if !found.error_code.is_ok() {
        return Err(ProducerError::from_broker(
            found.error_code,
            found.error_message.clone(),
        ));
    }
    let addr = format!("{}:{}", found.host, found.port);
    let connection = metadata
        .send(ConnectionTo {
            node_id: found.node_id,
            addr,
        })
        .await
        .map_err(|_| ProducerError::Closed)?;
    Ok((found.node_id, connection))
}

/// How to retry a coordinator request.
#[derive(Clone, Copy)]
struct Retry {
    backoff: Duration,
    deadline: Instant,
}

/// Sends `request` (at a version in `versions`, if given) to the coordinator
/// of `key` and checks its error code, retrying retriable failures (finding
/// the coordinator again each time) until the deadline. CONCURRENT_TRANSACTIONS
/// retries after 20 ms, as the Java client does.
async fn call_coordinator<R>(
    metadata: &Addr<MetadataActor>,
    (key_type, key): (CoordinatorType, &str),
    request: R,
    versions: Option<VersionRange>,
    error_of: impl Fn(&R::Response) -> ErrorCode,
    Retry { backoff, deadline }: Retry,
) -> Result<R::Response, ProducerError>
where
    R: Request + Clone + Send + 'static,
    R::Response: Send + 'static,
{
    loop {
        // One attempt may not outlast the deadline either (a request times
        // out only after request_timeout_ms).
        let left = deadline.saturating_duration_since(Instant::now());
        let found = actix_rt::time::timeout(left, find_coordinator(metadata, key_type, key))
            .await
            .unwrap_or_else(|_| {
                Err(ProducerError::CoordinatorUnavailable {
                    key: key.to_string(),
                    waited_ms: left.as_millis() as u64,
                })
            });
        let error = match found {
            Err(e) => e,
            Ok((node_id, connection)) => {
                let left = deadline.saturating_duration_since(Instant::now());
                let attempt = call_within(&connection, request.clone(), versions);
                match actix_rt::time::timeout(left, attempt).await {
                    Ok(Ok(Ok(response))) if error_of(&response).is_ok() => return Ok(response),
                    Ok(Ok(Ok(response))) => ProducerError::from_broker(error_of(&response), None),
                    Ok(Ok(Err(e))) => ProducerError::from(e),
                    Ok(Err(_)) => ProducerError::Closed,
                    Err(_) => ProducerError::RequestTimedOut {
                        broker: node_id.into(),
                        timeout_ms: left.as_millis() as u64,
                    },
                }
            }
        };
        let wait = match error.error_code() {
            Some(ErrorCode::CONCURRENT_TRANSACTIONS) => Duration::from_millis(20),
            _ => backoff,
        };
        if !error.is_retriable() || Instant::now() + wait >= deadline {
            return Err(error);
        }
        tracing::debug!(%error, "coordinator request failed; retrying");
        actix_rt::time::sleep(wait).await;
    }
}

/// Sends `request` on `connection`, within `versions` if given.
async fn call_within<R>(
    connection: &Addr<BrokerConnectionActor>,
    request: R,
    versions: Option<VersionRange>,
) -> Result<Result<R::Response, ConnectionError>, MailboxError>
where
    R: Request + Send + 'static,
    R::Response: Send + 'static,
{
    match versions {
        None => connection.send(Call(request)).await,
        Some(versions) => connection.send(CallWithin { request, versions }).await,
    }
}

/// InitProducerId until it succeeds, a non-retriable error, or `deadline`.
/// With `current`, asks for an epoch bump of that identity.
async fn init_producer_id(
    metadata: Addr<MetadataActor>,
    transactional_id: Option<String>,
    current: Option<ProducerIdentity>,
    timeout_ms: i32,
    backoff: Duration,
    deadline: Instant,
) -> Result<ProducerIdentity, ProducerError> {
    if let Some(id) = transactional_id {
        let mut request = InitProducerIdRequest::new(Some(id.clone()), timeout_ms);
        if let Some(current) = current {
            request.producer_id = current.producer_id;
            request.producer_epoch = current.producer_epoch;
        }
        let response = call_coordinator(
            &metadata,
            (CoordinatorType::Transaction, &id),
            request,
            None,
            |r| r.error_code,
            Retry { backoff, deadline },
        )
        .await?;
        return Ok(ProducerIdentity {
            producer_id: response.producer_id,
            producer_epoch: response.producer_epoch,
        });
    }
    let mut request = InitProducerIdRequest::new(None, timeout_ms);
    if let Some(current) = current {
        request.producer_id = current.producer_id;
        request.producer_epoch = current.producer_epoch;
    }
    loop {
        let (reply, answer) = oneshot::channel();
        metadata.do_send(AnyConnection { reply });
        let error = match answer.await.unwrap_or(Err(ProducerError::Closed)) {
            Err(e) => e,
            Ok((_, connection)) => match connection.send(Call(request.clone())).await {
                Ok(Ok(response)) if response.error_code.is_ok() => {
                    return Ok(ProducerIdentity {
                        producer_id: response.producer_id,
                        producer_epoch: response.producer_epoch,
                    })
                }
                Ok(Ok(response)) => ProducerError::from_broker(response.error_code, None),
                // A broker before KIP-360 (InitProducerId < v3) cannot bump:
                // a fresh producer id serves the same purpose.
                Ok(Err(ConnectionError::Encode { .. })) if request.producer_id >= 0 => {
                    request = InitProducerIdRequest::new(None, timeout_ms);
                    continue;
                }
                Ok(Err(e)) => ProducerError::from(e),
                Err(_) => ProducerError::Closed,
            },
        };
        if !error.is_retriable() || Instant::now() + backoff >= deadline {
            return Err(error);
        }
        tracing::debug!(%error, "InitProducerId failed; retrying");
        actix_rt::time::sleep(backoff).await;
    }
}

impl Actor for TransactionCoordinatorActor {
    type Context = Context<Self>;
}

impl Handler<InitIdentity> for TransactionCoordinatorActor {
    type Result = ResponseActFuture<Self, Result<ProducerIdentity, ProducerError>>;

    fn handle(&mut self, _: InitIdentity, _: &mut Context<Self>) -> Self::Result {
        let c = &self.config;
        let work = init_producer_id(
            self.metadata.clone(),
            c.transactional_id.clone(),
            None,
            i32::try_from(c.transaction_timeout_ms).unwrap_or(i32::MAX),
            c.retry_backoff(),
            Instant::now() + c.max_block(),
        );
        Box::pin(work.into_actor(self).map(|result, actor, _| {
            if let Ok(identity) = &result {
                tracing::info!(
                    producer_id = identity.producer_id,
                    epoch = identity.producer_epoch,
                    "producer id"
                );
                actor.identity = Some(*identity);
            }
            result
        }))
    }
}

impl TransactionCoordinatorActor {
    /// Adopts a new identity and tells every listener (the partitions restart
    /// their sequences at 0).
    fn adopt_identity(&mut self, identity: ProducerIdentity, why: &'static str) {
        if self.identity == Some(identity) {
            return;
        }
        tracing::info!(
            producer_id = identity.producer_id,
            epoch = identity.producer_epoch,
            why,
            "new producer epoch"
        );
        self.identity = Some(identity);
        self.listeners.retain(|l| l.connected());
        for listener in &self.listeners {
            listener.do_send(IdentityChanged(identity));
        }
    }

    fn retry(&self) -> Retry {
        Retry {
            backoff: self.config.retry_backoff(),
            deadline: self.deadline(),
        }
    }
}

impl Handler<BumpEpoch> for TransactionCoordinatorActor {
    type Result = ();

    fn handle(&mut self, msg: BumpEpoch, ctx: &mut Context<Self>) {
        if self.bumping || self.identity != Some(msg.from) {
            return; // already bumped, or being bumped
        }
        self.bumping = true;
        let c = &self.config;
        // An epoch bump has no caller waiting: retry for as long as the
        // partitions would (they wait for it).
        let work = init_producer_id(
            self.metadata.clone(),
            None,
            Some(msg.from),
            i32::try_from(c.transaction_timeout_ms).unwrap_or(i32::MAX),
            c.retry_backoff(),
            Instant::now() + c.request_timeout() * 10,
        );
        work.into_actor(self)
            .map(move |result, actor, ctx| {
                actor.bumping = false;
                match result {
                    Ok(identity) => actor.adopt_identity(identity, "sequence error (KIP-360)"),
                    Err(error) => {
                        tracing::error!(%error, "epoch bump failed; trying again");
                        let from = msg.from;
                        ctx.run_later(actor.config.retry_backoff(), move |_, ctx| {
                            ctx.notify(BumpEpoch { from });
                        });
                    }
                }
            })
            .spawn(ctx);
    }
}

impl Handler<ListenForIdentity> for TransactionCoordinatorActor {
    type Result = ();

    fn handle(&mut self, msg: ListenForIdentity, _: &mut Context<Self>) {
        self.listeners.push(msg.0);
    }
}

/// Opens a transaction, under the protocol the cluster finalized now.
#[derive(Message)]
#[rtype(result = "Result<(), ProducerError>")]
pub struct TxnBegin;

/// Registers a partition in the open transaction before its next batch:
/// AddPartitionsToTxn under V1 (once per transaction), nothing to send under
/// V2. Answers the Produce versions the batch must be sent at.
#[derive(Message)]
#[rtype(result = "Result<Option<VersionRange>, ProducerError>")]
pub struct TxnAddPartition {
    /// Topic.
    pub topic: Arc<str>,
    /// Partition.
    pub partition: i32,
}

/// A batch of the open transaction failed: only abort remains possible (or
/// nothing, if the error is fatal).
#[derive(Message)]
#[rtype(result = "()")]
pub struct TxnBatchFailed(pub ProducerError);

/// Commits (`commit`) or aborts the open transaction with EndTxn. The caller
/// has flushed every batch of it first.
#[derive(Message)]
#[rtype(result = "Result<(), ProducerError>")]
pub struct TxnEnd {
    /// Commit or abort.
    pub commit: bool,
}

/// Adds consumer offsets to the open transaction.
#[derive(Message)]
#[rtype(result = "Result<(), ProducerError>")]
pub struct TxnSendOffsets {
    /// `(topic, partition, next offset to consume)`.
    pub offsets: Vec<(String, i32, i64)>,
    /// The consumer group.
    pub group_id: String,
}

/// The protocol a broker's ApiVersions answer allows (one attempt; any
/// broker, since finalized features are cluster-wide).
async fn cluster_protocol(metadata: &Addr<MetadataActor>) -> Result<TxnProtocol, ProducerError> {
    let (reply, answer) = oneshot::channel();
    metadata.do_send(AnyConnection { reply });
    let (_, connection) = answer.await.unwrap_or(Err(ProducerError::Closed))?;
    let versions = connection
        .send(GetApiVersions)
        .await
        .map_err(|_| ProducerError::Closed)?
        .map_err(ProducerError::from)?;
    Ok(TxnProtocol::from_api_versions(&versions))
}

impl Handler<TxnBegin> for TransactionCoordinatorActor {
    type Result = ResponseActFuture<Self, Result<(), ProducerError>>;

    fn handle(&mut self, _: TxnBegin, _: &mut Context<Self>) -> Self::Result {
        // Refuse misuse at once; the state changes only after the lookups.
        let checked = self
            .txn_context()
            .and_then(|context| self.txn.can_begin().map(|_| context));
        let (id, identity) = match checked {
            Ok(_) if self.beginning => {
                return Box::pin(fut::ready(Err(ProducerError::TransactionalMisuse {
                    reason: "begin_transaction called while another begin is under way".to_string(),
                })))
            }
            Ok(context) => context,
            Err(e) => return Box::pin(fut::ready(Err(e))),
        };
        self.beginning = true;
        // V1 after a sequence error: InitProducerId with the current id and
        // epoch bumps the epoch before the next transaction (KIP-360).
        let bump_from = self.txn.needs_epoch_bump().then_some(identity);
        let metadata = self.metadata.clone();
        let retry = self.retry();
        let timeout_ms = i32::try_from(self.config.transaction_timeout_ms).unwrap_or(i32::MAX);
        let work = async move {
            let bumped = match bump_from {
                Some(from) => {
                    let (backoff, deadline) = (retry.backoff, retry.deadline);
                    let bump = init_producer_id(
                        metadata.clone(),
                        Some(id),
                        Some(from),
                        timeout_ms,
                        backoff,
                        deadline,
                    );
                    Some(bump.await?)
                }
                None => None,
            };
            loop {
                match cluster_protocol(&metadata).await {
                    Ok(protocol) => return Ok((bumped, protocol)),
                    Err(e) if e.is_retriable() && Instant::now() + retry.backoff < retry.deadline => {
                        tracing::debug!(error = %e, "cannot read the cluster's features yet; retrying");
                        actix_rt::time::sleep(retry.backoff).await;
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        Box::pin(work.into_actor(self).map(|result, actor, _| {
            actor.beginning = false;
            let (bumped, protocol) = result.inspect_err(|e| {
                if e.class() == ErrorClass::Fatal {
                    actor.txn.fail(e.clone());
                }
            })?;
            if let Some(identity) = bumped {
                actor.txn.epoch_bumped();
                actor.adopt_identity(identity, "sequence error in the last transaction (KIP-360)");
            }
            actor.txn.begin(protocol)?;
            tracing::debug!(?protocol, "transaction begun");
            Ok(())
        }))
    }
}

impl Handler<TxnBatchFailed> for TransactionCoordinatorActor {
    type Result = ();

    fn handle(&mut self, msg: TxnBatchFailed, _: &mut Context<Self>) {
        self.txn.fail(msg.0);
    }
}

impl Handler<TxnAddPartition> for TransactionCoordinatorActor {
    type Result = ResponseActFuture<Self, Result<Option<VersionRange>, ProducerError>>;

    fn handle(&mut self, msg: TxnAddPartition, _: &mut Context<Self>) -> Self::Result {
        let checked = self.txn.check_send().and_then(|_| self.txn_context());
        let (id, identity) = match checked {
            Ok(context) => context,
            Err(e) => return Box::pin(fut::ready(Err(e))),
        };
        let protocol = self.txn.protocol();
        let produce_versions = protocol.versions(ApiKey::Produce);
        if protocol == TxnProtocol::V2 {
            // Produce v12+ adds the partition on the broker side.
            self.txn.partition_added(msg.topic, msg.partition);
            return Box::pin(fut::ready(Ok(produce_versions)));
        }
        if !self.txn.needs_partition(&msg.topic, msg.partition) {
            return Box::pin(fut::ready(Ok(produce_versions)));
        }
        let request = AddPartitionsToTxnRequest {
            transactional_id: id.clone(),
            producer_id: identity.producer_id,
            producer_epoch: identity.producer_epoch,
            topics: vec![AddPartitionsToTxnTopic {
                name: msg.topic.to_string(),
                partitions: vec![msg.partition],
            }],
        };
        let metadata = self.metadata.clone();
        let retry = self.retry();
        let work = async move {
            let partition_error = |r: &AddPartitionsToTxnResponse| {
                r.results
                    .iter()
                    .flat_map(|t| t.results.iter())
                    .map(|p| p.partition_error_code)
                    .find(|code| !code.is_ok())
                    .unwrap_or(ErrorCode::NONE)
            };
            let coordinator = (CoordinatorType::Transaction, id.as_str());
            call_coordinator(&metadata, coordinator, request, None, partition_error, retry).await
        };
        Box::pin(work.into_actor(self).map(move |result, actor, _| match result {
            Ok(_) => {
                actor.txn.partition_added(msg.topic, msg.partition);
                Ok(produce_versions)
            }
            Err(e) => {
                actor.txn.fail(e.clone());
                Err(e)
            }
        }))
    }
}

/// The TxnOffsetCommit request for `offsets`, grouped by topic.
fn txn_offset_commit(
    transactional_id: String,
    identity: ProducerIdentity,
    group_id: String,
    offsets: Vec<(String, i32, i64)>,
) -> TxnOffsetCommitRequest {
    let mut topics: Vec<TxnOffsetCommitRequestTopic> = Vec::new();
    for (topic, partition, offset) in offsets {
        let entry = TxnOffsetCommitRequestPartition {
            partition_index: partition,
            committed_offset: offset,
            committed_leader_epoch: -1,
            committed_metadata: None,
        };
        match topics.iter_mut().find(|t| t.name == topic) {
            Some(t) => t.partitions.push(entry),
            None => topics.push(TxnOffsetCommitRequestTopic {
                name: topic,
                partitions: vec![entry],
            }),
        }
    }
    TxnOffsetCommitRequest {
        transactional_id,
        group_id,
        producer_id: identity.producer_id,
        producer_epoch: identity.producer_epoch,
        topics,
        ..TxnOffsetCommitRequest::default()
    }
}

impl Handler<TxnSendOffsets> for TransactionCoordinatorActor {
    type Result = ResponseActFuture<Self, Result<(), ProducerError>>;

    fn handle(&mut self, msg: TxnSendOffsets, _: &mut Context<Self>) -> Self::Result {
        if msg.group_id.is_empty() {
            return Box::pin(fut::ready(Err(ProducerError::TransactionalMisuse {
                reason: "send_offsets_to_transaction needs a non-empty group id".to_string(),
            })));
        }
        let checked = self.txn.check_offsets().and_then(|_| self.txn_context());
        let (id, identity) = match checked {
            Ok(context) => context,
            Err(e) => return Box::pin(fut::ready(Err(e))),
        };
        let protocol = self.txn.protocol();
        let metadata = self.metadata.clone();
        let retry = self.retry();
        let work = async move {
            if protocol == TxnProtocol::V1 {
                // V2's TxnOffsetCommit v5+ adds the offsets by itself.
                let add = AddOffsetsToTxnRequest {
                    transactional_id: id.clone(),
                    producer_id: identity.producer_id,
                    producer_epoch: identity.producer_epoch,
                    group_id: msg.group_id.clone(),
                };
                let coordinator = (CoordinatorType::Transaction, id.as_str());
                call_coordinator(&metadata, coordinator, add, None, |r| r.error_code, retry).await?;
            }
            let group = msg.group_id.clone();
            let commit = txn_offset_commit(id, identity, msg.group_id, msg.offsets);
            let partition_error = |r: &TxnOffsetCommitResponse| {
                r.topics
                    .iter()
                    .flat_map(|t| t.partitions.iter())
                    .map(|p| p.error_code)
                    .find(|code| !code.is_ok())
                    .unwrap_or(ErrorCode::NONE)
            };
            let versions = protocol.versions(ApiKey::TxnOffsetCommit);
            let coordinator = (CoordinatorType::Group, group.as_str());
            call_coordinator(&metadata, coordinator, commit, versions, partition_error, retry).await?;
            Ok::<(), ProducerError>(())
        };
        Box::pin(work.into_actor(self).map(|result, actor, _| {
            if let Err(e) = &result {
                actor.txn.fail(e.clone());
            }
            result
        }))
    }
}

impl Handler<TxnEnd> for TransactionCoordinatorActor {
    type Result = ResponseActFuture<Self, Result<(), ProducerError>>;

    fn handle(&mut self, msg: TxnEnd, _: &mut Context<Self>) -> Self::Result {
        let needs_request = match self.txn.begin_end(msg.commit) {
            Ok(needs) => needs,
            Err(e) => return Box::pin(fut::ready(Err(e))),
        };
        let (id, identity) = match self.txn_context() {
            Ok(context) => context,
            Err(e) => return Box::pin(fut::ready(Err(e))),
        };
        let protocol = self.txn.protocol();
        let metadata = self.metadata.clone();
        // An indefinite result (timeout, lost connection) retries the same
        // EndTxn, never the other outcome; transaction_timeout_ms bounds how
        // long the coordinator keeps the transaction anyway.
        let retry = Retry {
            backoff: self.config.retry_backoff(),
            deadline: Instant::now() + self.config.transaction_timeout(),
        };
        let end = async move {
            if !needs_request {
                return Ok::<_, ProducerError>(None);
            }
            let request = EndTxnRequest {
                transactional_id: id.clone(),
                producer_id: identity.producer_id,
                producer_epoch: identity.producer_epoch,
                committed: msg.commit,
            };
            let versions = protocol.versions(ApiKey::EndTxn);
            let coordinator = (CoordinatorType::Transaction, id.as_str());
            let response =
                call_coordinator(&metadata, coordinator, request, versions, |r| r.error_code, retry).await?;
            // V2: the coordinator bumped the epoch (or gave a new id).
            let bumped = ProducerIdentity {
                producer_id: response.producer_id,
                producer_epoch: response.producer_epoch,
            };
            Ok(
                (protocol == TxnProtocol::V2 && bumped.producer_id >= 0 && bumped.producer_epoch >= 0)
                    .then_some(bumped),
            )
        };
        Box::pin(end.into_actor(self).map(move |result, actor, _| match result {
            Ok(bumped) => {
                if let Some(identity) = bumped {
                    actor.adopt_identity(identity, "EndTxn v5 (KIP-890)");
                }
                actor.txn.ended();
                Ok(())
            }
            Err(e) => {
                // A failed commit leaves the transaction Committing: the
                // same commit may be called again.
                if e.class() == ErrorClass::Fatal {
                    actor.txn.fail(e.clone());
                }
                Err(e)
            }
        }))
    }
}
