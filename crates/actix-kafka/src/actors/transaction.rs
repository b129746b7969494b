//! `TransactionCoordinatorActor`: the producer's identity for idempotence and
//! transactions.
//!
//! Today it only answers with the identity of a plain producer (no producer
//! id, no epoch), which the partition actors stamp on their batches when
//! they first send them. Idempotence (InitProducerId, per-partition
//! sequences, epoch bumps) and transactions (FindCoordinator, the transaction
//! state machine, AddPartitionsToTxn / AddOffsetsToTxn / TxnOffsetCommit /
//! EndTxn) live here in the next milestone; the accumulator already stamps
//! batches at first send, which is where sequences will be assigned.

use actix::prelude::*;

/// The producer id and epoch batches are stamped with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerIdentity {
    /// Producer id, -1 when not idempotent.
    pub producer_id: i64,
    /// Producer epoch, -1 when not idempotent.
    pub producer_epoch: i16,
}

impl ProducerIdentity {
    /// A plain producer: no id, no epoch.
    pub const NONE: ProducerIdentity = ProducerIdentity {
        producer_id: -1,
        producer_epoch: -1,
    };
}

/// Asks for the current producer identity.
#[derive(Message)]
#[rtype(result = "ProducerIdentity")]
pub struct GetIdentity;

/// See the module documentation.
#[derive(Debug)]
pub struct TransactionCoordinatorActor {
    identity: ProducerIdentity,
}

impl TransactionCoordinatorActor {
    /// The coordinator of a plain (non-idempotent) producer.
    pub fn plain() -> Self {
        TransactionCoordinatorActor {
            identity: ProducerIdentity::NONE,
        }
    }
}

impl Actor for TransactionCoordinatorActor {
    type Context = Context<Self>;
}

impl Handler<GetIdentity> for TransactionCoordinatorActor {
    type Result = MessageResult<GetIdentity>;

    fn handle(&mut self, _: GetIdentity, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.identity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_rt::test]
    async fn a_plain_producer_has_no_identity() {
        let addr = TransactionCoordinatorActor::plain().start();
        assert_eq!(addr.send(GetIdentity).await.unwrap(), ProducerIdentity::NONE);
    }
}
