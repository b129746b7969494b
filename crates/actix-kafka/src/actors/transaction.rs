//! `TransactionCoordinatorActor`: the driver of the producer's
//! [`TransactionManager`].
//!
//! An idempotent producer gets a producer id and epoch with InitProducerId
//! (from any broker, since it has no transactional id) before it sends
//! anything. When a partition learns that the broker no longer accepts its
//! sequences (UNKNOWN_PRODUCER_ID, OUT_OF_ORDER_SEQUENCE_NUMBER), it asks for
//! an epoch bump ([`BumpEpoch`], KIP-360); the new identity goes to every
//! listener ([`IdentityChanged`]), and the partitions restart their sequences
//! at 0. With a `transactional_id` it also runs transactions at the
//! coordinator, under the protocol the cluster finalized ([`TxnProtocol`]:
//! V1, or KIP-890's V2).
//!
//! Every rule (which request, when to retry, which error ends what) is the
//! manager's; see [`kafka_producer_core::transaction`]. This actor only
//!
//! 1. hands each message to the manager with `Instant::now()`,
//! 2. sends what [`TransactionManager::poll_request`] asks, through the
//!    [`MetadataActor`] (any broker, or the coordinator's address) and that
//!    broker's connection, and reports the answer,
//! 3. passes on [`TransactionManager::poll_event`]: replies and identity
//!    changes,
//! 4. keeps one timer at [`TransactionManager::poll_deadline`].
//!
//! [`TxnProtocol`]: crate::transaction::TxnProtocol

use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use kafka_producer_core::transaction::{
    Answer, CallError, CoordinatorRequest, ManagerSettings, Target, TransactionManager, TxnEvent, TxnRequest,
    TxnResponse,
};
use kafka_wire::api::VersionRange;
use kafka_wire::messages::Request;
use tokio::sync::oneshot;

use super::metadata::{AnyConnection, ConnectionTo, MetadataActor};
use crate::clock::Wakeup;
use crate::config::ProducerConfig;
use crate::connection::{BrokerConnectionActor, Call, CallWithin, ConnectionError, GetApiVersions};
use crate::error::ProducerError;
use crate::transaction::ProducerIdentity;

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

/// Where the manager's answer for one caller goes.
#[derive(Debug)]
enum Reply {
    Identity(oneshot::Sender<Result<ProducerIdentity, ProducerError>>),
    ProduceVersions(oneshot::Sender<Result<Option<VersionRange>, ProducerError>>),
    Done(oneshot::Sender<Result<(), ProducerError>>),
}

impl Reply {
    /// Sends `answer` (a caller that went away is no one's problem).
    fn send(self, answer: Result<Answer, ProducerError>) {
        let unexpected = |answer: Answer| {
            let what = "the transaction manager answered another kind of call";
            tracing::error!(?answer, "{what}");
            ProducerError::Internal { what }
        };
        match self {
            Reply::Identity(tx) => {
                let _ = tx.send(answer.and_then(|a| match a {
                    Answer::Identity(identity) => Ok(identity),
                    other => Err(unexpected(other)),
                }));
            }
            Reply::ProduceVersions(tx) => {
                let _ = tx.send(answer.and_then(|a| match a {
                    Answer::ProduceVersions(versions) => Ok(versions),
                    other => Err(unexpected(other)),
                }));
            }
            Reply::Done(tx) => {
                let _ = tx.send(answer.and_then(|a| match a {
                    Answer::Done => Ok(()),
                    other => Err(unexpected(other)),
                }));
            }
        }
    }
}

/// See the module documentation.
pub struct TransactionCoordinatorActor {
    metadata: Addr<MetadataActor>,
    manager: TransactionManager<Reply>,
    listeners: Vec<Recipient<IdentityChanged>>,
    /// The wake-up at the manager's deadline.
    wakeup: Wakeup,
}

impl TransactionCoordinatorActor {
    /// The coordinator of an idempotent (or transactional) producer.
    pub fn new(config: Arc<ProducerConfig>, metadata: Addr<MetadataActor>) -> Self {
        TransactionCoordinatorActor {
            metadata,
            manager: TransactionManager::new(ManagerSettings::from_config(&config)),
            listeners: Vec::new(),
            wakeup: Wakeup::default(),
        }
    }

    /// After every input: send what is due, pass on what is decided, and
    /// wake up at the next deadline.
    fn drive(&mut self, ctx: &mut Context<Self>) {
        let now = Instant::now();
        while let Some(request) = self.manager.poll_request(now) {
            self.send(request, ctx);
        }
        while let Some(event) = self.manager.poll_event() {
            match event {
                TxnEvent::Answer(reply, answer) => reply.send(answer),
                TxnEvent::IdentityChanged(identity) => {
                    self.listeners.retain(|l| l.connected());
                    for listener in &self.listeners {
                        listener.do_send(IdentityChanged(identity));
                    }
                }
                other => tracing::error!(?other, "bug: unknown transaction event"),
            }
        }
        let deadline = self.manager.poll_deadline();
        self.wakeup.arm(
            deadline,
            ctx,
            |actor| &mut actor.wakeup,
            |actor, ctx| {
                actor.manager.handle_timeout(Instant::now());
                actor.drive(ctx);
            },
        );
    }

    /// Sends one request and reports its answer to the manager.
    fn send(
        &mut self,
        CoordinatorRequest { id, target, request }: CoordinatorRequest,
        ctx: &mut Context<Self>,
    ) {
        let metadata = self.metadata.clone();
        let work = async move {
            let (node_id, connection) = connect(&metadata, target).await?;
            Ok::<_, CallError>((node_id, call(&connection, request).await?))
        };
        work.into_actor(self)
            .map(move |result, actor, ctx| {
                let now = Instant::now();
                match result {
                    Ok((node_id, response)) => actor.manager.handle_response(id, node_id, response, now),
                    Err(error) => actor.manager.handle_failure(id, error, now),
                };
                actor.drive(ctx);
            })
            .spawn(ctx);
    }
}

/// A connection to `target`, and its node id.
async fn connect(
    metadata: &Addr<MetadataActor>,
    target: Target,
) -> Result<(i32, Addr<BrokerConnectionActor>), CallError> {
    match target {
        Target::AnyBroker => {
            let (reply, answer) = oneshot::channel();
            metadata.do_send(AnyConnection { reply });
            Ok(answer.await.unwrap_or(Err(ProducerError::Closed))?)
        }
        Target::Node { node_id, addr } => {
            let connection = metadata.send(ConnectionTo { node_id, addr }).await;
            Ok((node_id, connection.map_err(|_| ProducerError::Closed)?))
        }
    }
}

/// Sends `request` on `connection`.
async fn call(
    connection: &Addr<BrokerConnectionActor>,
    request: TxnRequest,
) -> Result<TxnResponse, CallError> {
    Ok(match request {
        TxnRequest::FindCoordinator(r) => TxnResponse::FindCoordinator(within(connection, r, None).await?),
        TxnRequest::InitProducerId(r) => TxnResponse::InitProducerId(within(connection, r, None).await?),
        TxnRequest::AddPartitionsToTxn(r) => {
            TxnResponse::AddPartitionsToTxn(within(connection, r, None).await?)
        }
        TxnRequest::AddOffsetsToTxn(r) => TxnResponse::AddOffsetsToTxn(within(connection, r, None).await?),
        TxnRequest::TxnOffsetCommit { request, versions } => {
            TxnResponse::TxnOffsetCommit(within(connection, request, versions).await?)
        }
        TxnRequest::EndTxn { request, versions } => {
            TxnResponse::EndTxn(within(connection, request, versions).await?)
        }
        TxnRequest::ApiVersions => {
            let versions = connection.send(GetApiVersions).await;
            TxnResponse::ApiVersions(sent(versions)?)
        }
    })
}

/// Sends `request` on `connection`, within `versions` if given.
async fn within<R>(
    connection: &Addr<BrokerConnectionActor>,
    request: R,
    versions: Option<VersionRange>,
) -> Result<R::Response, CallError>
where
    R: Request + Send + 'static,
    R::Response: Send + 'static,
{
    sent(match versions {
        None => connection.send(Call(request)).await,
        Some(versions) => connection.send(CallWithin { request, versions }).await,
    })
}

/// A connection's answer; a dead mailbox means the producer is stopping.
fn sent<T>(answer: Result<Result<T, ConnectionError>, MailboxError>) -> Result<T, CallError> {
    Ok(answer.map_err(|_| ProducerError::Closed)??)
}

impl Actor for TransactionCoordinatorActor {
    type Context = Context<Self>;
}

/// A handler's answer: what the manager will say through `rx`.
fn answer_from<T: Send + 'static>(
    rx: oneshot::Receiver<Result<T, ProducerError>>,
) -> ResponseFuture<Result<T, ProducerError>> {
    Box::pin(async move { rx.await.unwrap_or(Err(ProducerError::Closed)) })
}

impl Handler<InitIdentity> for TransactionCoordinatorActor {
    type Result = ResponseFuture<Result<ProducerIdentity, ProducerError>>;

    fn handle(&mut self, _: InitIdentity, ctx: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.manager.init_identity(Reply::Identity(tx), Instant::now());
        self.drive(ctx);
        answer_from(rx)
    }
}

impl Handler<BumpEpoch> for TransactionCoordinatorActor {
    type Result = ();

    fn handle(&mut self, msg: BumpEpoch, ctx: &mut Context<Self>) {
        self.manager.bump_epoch(msg.from, Instant::now());
        self.drive(ctx);
    }
}

impl Handler<ListenForIdentity> for TransactionCoordinatorActor {
    type Result = ();

    fn handle(&mut self, msg: ListenForIdentity, _: &mut Context<Self>) {
        self.listeners.push(msg.0);
    }
}

impl Handler<TxnBegin> for TransactionCoordinatorActor {
    type Result = ResponseFuture<Result<(), ProducerError>>;

    fn handle(&mut self, _: TxnBegin, ctx: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.manager.begin(Reply::Done(tx), Instant::now());
        self.drive(ctx);
        answer_from(rx)
    }
}

impl Handler<TxnBatchFailed> for TransactionCoordinatorActor {
    type Result = ();

    fn handle(&mut self, msg: TxnBatchFailed, _: &mut Context<Self>) {
        self.manager.batch_failed(msg.0);
    }
}

impl Handler<TxnAddPartition> for TransactionCoordinatorActor {
    type Result = ResponseFuture<Result<Option<VersionRange>, ProducerError>>;

    fn handle(&mut self, msg: TxnAddPartition, ctx: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        let reply = Reply::ProduceVersions(tx);
        self.manager
            .add_partition(msg.topic, msg.partition, reply, Instant::now());
        self.drive(ctx);
        answer_from(rx)
    }
}

impl Handler<TxnSendOffsets> for TransactionCoordinatorActor {
    type Result = ResponseFuture<Result<(), ProducerError>>;

    fn handle(&mut self, msg: TxnSendOffsets, ctx: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        let reply = Reply::Done(tx);
        self.manager
            .send_offsets(msg.group_id, msg.offsets, reply, Instant::now());
        self.drive(ctx);
        answer_from(rx)
    }
}

impl Handler<TxnEnd> for TransactionCoordinatorActor {
    type Result = ResponseFuture<Result<(), ProducerError>>;

    fn handle(&mut self, msg: TxnEnd, ctx: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.manager.end(msg.commit, Reply::Done(tx), Instant::now());
        self.drive(ctx);
        answer_from(rx)
    }
}
