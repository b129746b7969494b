//! The producer's transaction handlers: begin, end (flush then commit or
//! abort) and offsets. They open and close the enqueue stage's send gate and
//! forward the protocol work to the transaction coordinator.

use actix::prelude::*;

use super::{ProducerActor, State};
use crate::actors::transaction::{TransactionCoordinatorActor, TxnBegin, TxnEnd, TxnSendOffsets};
use crate::error::{Misuse, ProducerError};
/// Opens a transaction (transactional producers only).
#[derive(Message)]
#[rtype(result = "Result<(), ProducerError>")]
pub struct BeginTransaction;

/// Flushes the open transaction's records, then commits (`commit`) or aborts
/// it. Sends are refused from the moment this is handled until the next
/// begin. Runs to completion once handled, whoever waits for the answer.
#[derive(Message)]
#[rtype(result = "Result<(), ProducerError>")]
pub struct EndTransaction {
    /// Commit or abort.
    pub commit: bool,
}

/// Adds consumer group offsets to the open transaction.
#[derive(Message)]
#[rtype(result = "Result<(), ProducerError>")]
pub struct SendOffsetsToTransaction {
    /// `(topic, partition, next offset to consume)`.
    pub offsets: Vec<(String, i32, i64)>,
    /// The consumer group.
    pub group_id: String,
}

fn not_transactional() -> ProducerError {
    ProducerError::TransactionalMisuse {
        misuse: Misuse::NotTransactional,
    }
}

impl ProducerActor {
    fn txn_coordinator(&self) -> Result<Addr<TransactionCoordinatorActor>, ProducerError> {
        match (&self.coordinator, self.config.is_transactional()) {
            (Some(coordinator), true) => Ok(coordinator.clone()),
            _ => Err(not_transactional()),
        }
    }
}

impl Handler<BeginTransaction> for ProducerActor {
    type Result = ResponseActFuture<Self, Result<(), ProducerError>>;

    fn handle(&mut self, _: BeginTransaction, _: &mut Context<Self>) -> Self::Result {
        let coordinator = match self.txn_coordinator() {
            Ok(c) if self.state == State::Running => c,
            Ok(_) => return Box::pin(fut::ready(Err(ProducerError::Closed))),
            Err(e) => return Box::pin(fut::ready(Err(e))),
        };
        Box::pin(
            coordinator
                .send(TxnBegin)
                .into_actor(self)
                .map(|result, actor, _| {
                    let result = result.unwrap_or(Err(ProducerError::Closed));
                    if result.is_ok() {
                        actor.stage.gate_mut().begin_transaction();
                    }
                    result
                }),
        )
    }
}

impl Handler<EndTransaction> for ProducerActor {
    type Result = ResponseActFuture<Self, Result<(), ProducerError>>;

    fn handle(&mut self, msg: EndTransaction, ctx: &mut Context<Self>) -> Self::Result {
        let coordinator = match self.txn_coordinator() {
            Ok(c) => c,
            Err(e) => return Box::pin(fut::ready(Err(e))),
        };
        self.stage.gate_mut().end_transaction();
        // Records admitted before this message belong to the transaction:
        // they reach their partitions (or are refused, dooming it) and
        // complete before EndTxn.
        Box::pin(self.flush_everything(ctx).then(move |_, actor: &mut Self, _| {
            async move {
                coordinator
                    .send(TxnEnd { commit: msg.commit })
                    .await
                    .unwrap_or(Err(ProducerError::Closed))
            }
            .into_actor(actor)
        }))
    }
}

impl Handler<SendOffsetsToTransaction> for ProducerActor {
    type Result = ResponseFuture<Result<(), ProducerError>>;

    fn handle(&mut self, msg: SendOffsetsToTransaction, _: &mut Context<Self>) -> Self::Result {
        let coordinator = match self.txn_coordinator() {
            Ok(c) => c,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        Box::pin(async move {
            coordinator
                .send(TxnSendOffsets {
                    offsets: msg.offsets,
                    group_id: msg.group_id,
                })
                .await
                .unwrap_or(Err(ProducerError::Closed))
        })
    }
}
