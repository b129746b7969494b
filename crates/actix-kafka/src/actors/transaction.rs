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
//! Transactions (FindCoordinator, the transaction state machine, AddPartitions
//! / AddOffsets / TxnOffsetCommit / EndTxn) join this actor in the next
//! milestone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use kafka_wire::messages::init_producer_id::InitProducerIdRequest;
use tokio::sync::oneshot;

use super::metadata::{AnyConnection, MetadataActor};
use super::partition::connection_error;
use crate::accumulator::ProducerIdentity;
use crate::config::ProducerConfig;
use crate::connection::{Call, ConnectionError};
use crate::error::ProducerError;

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
        }
    }
}

/// InitProducerId until it succeeds, a non-retriable error, or `deadline`.
/// With `current`, asks for an epoch bump of that identity.
async fn init_producer_id(
    metadata: Addr<MetadataActor>,
    current: Option<ProducerIdentity>,
    timeout_ms: i32,
    backoff: Duration,
    deadline: Instant,
) -> Result<ProducerIdentity, ProducerError> {
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
            Ok((node_id, connection)) => match connection.send(Call(request.clone())).await {
                Ok(Ok(response)) if response.error_code.is_ok() => {
                    return Ok(ProducerIdentity {
                        producer_id: response.producer_id,
                        producer_epoch: response.producer_epoch,
                    })
                }
                Ok(Ok(response)) => ProducerError::from_broker(response.error_code, None),
                // A broker before KIP-360 (InitProducerId < v3) cannot bump:
                // a fresh producer id serves the same purpose.
                Ok(Err(ConnectionError::Encode(_))) if request.producer_id >= 0 => {
                    request = InitProducerIdRequest::new(None, timeout_ms);
                    continue;
                }
                Ok(Err(e)) => connection_error(node_id, e),
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
            Some(msg.from),
            i32::try_from(c.transaction_timeout_ms).unwrap_or(i32::MAX),
            c.retry_backoff(),
            Instant::now() + c.request_timeout() * 10,
        );
        work.into_actor(self)
            .map(move |result, actor, ctx| {
                actor.bumping = false;
                match result {
                    Ok(identity) => {
                        tracing::info!(
                            producer_id = identity.producer_id,
                            epoch = identity.producer_epoch,
                            "producer epoch bumped"
                        );
                        actor.identity = Some(identity);
                        actor.listeners.retain(|l| l.connected());
                        for listener in &actor.listeners {
                            listener.do_send(IdentityChanged(identity));
                        }
                    }
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
