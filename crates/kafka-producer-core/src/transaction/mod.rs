//! Transactions and the producer's identity, without I/O.
//!
//! An idempotent producer needs an identity, a producer id and epoch
//! ([`ProducerIdentity`]), before it sends anything; a transactional one also
//! runs transactions at its *coordinator*, the broker that owns its
//! `transactional_id`. Two types hold the rules:
//!
//! * [`Transaction`] is the state machine of one transaction (Ready, open,
//!   committing, aborting, failed) and says what the user may call when.
//! * [`TransactionManager`] owns the identity, a `Transaction`, the protocol
//!   generation ([`TxnProtocol`]) and the retry policy. It never sends
//!   anything itself: the driver asks it what to send
//!   ([`poll_request`](TransactionManager::poll_request)), reports each
//!   answer ([`handle_response`](TransactionManager::handle_response),
//!   [`handle_failure`](TransactionManager::handle_failure)) and wakes it at
//!   [`poll_deadline`](TransactionManager::poll_deadline); the user's answers
//!   come out of [`poll_event`](TransactionManager::poll_event).
//!
//! ```text
//!   driver                       TransactionManager
//!   ──────                       ──────────────────
//!   user: commit ──────────────▶ end(commit, reply, now)
//!   poll_request(now) ◀───────── FindCoordinator to any broker
//!   answer ────────────────────▶ handle_response(id, node, answer, now)
//!   poll_request(now) ◀───────── EndTxn to node 3
//!   timeout / lost ────────────▶ handle_failure(id, error, now) -> Retry { at }
//!   timer at poll_deadline() ──▶ handle_timeout(now)
//!   poll_request(now) ◀───────── FindCoordinator, EndTxn (the same commit)
//!   answer ────────────────────▶ handle_response(..) -> Done
//!   poll_event() ◀────────────── Answer(reply, Ok(Done))
//! ```

mod manager;
mod state;
mod wire;

pub use manager::{Answer, ManagerSettings, Next, TransactionManager, TxnEvent};
pub use state::{Transaction, TxnProtocol, TxnState};
pub use wire::{CallError, CoordinatorRequest, RequestId, Target, TxnRequest, TxnResponse};

/// The producer id and epoch an idempotent producer stamps on its batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProducerIdentity {
    /// Producer id.
    pub producer_id: i64,
    /// Producer epoch.
    pub producer_epoch: i16,
}

#[cfg(test)]
mod manager_tests;
