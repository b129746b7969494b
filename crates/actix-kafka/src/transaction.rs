//! The transaction state machine, without I/O.
//!
//! ```text
//!   Ready ──begin──▶ InTransaction ──commit──▶ Committing ──ended──▶ Ready
//!                         │    └────abort────▶ Aborting  ──ended──▶ Ready
//!                         └─ a batch failed ─▶ AbortableError ──abort──▶ Aborting
//!   any ── ProducerFenced / fatal ──▶ Fatal
//! ```
//!
//! The `TransactionCoordinatorActor` owns one and asks it what is allowed;
//! misuse (commit without begin, begin twice, ...) is a typed error.

use std::collections::HashSet;
use std::sync::Arc;

use crate::error::{ErrorClass, ProducerError};

/// Where a transactional producer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnState {
    /// No transaction open.
    Ready,
    /// Between begin and commit/abort.
    InTransaction,
    /// EndTxn(commit) under way.
    Committing,
    /// EndTxn(abort) under way.
    Aborting,
    /// A batch or request failed; only abort is possible.
    AbortableError(ProducerError),
    /// The producer cannot go on (fenced, unauthorized).
    Fatal(ProducerError),
}

/// The state and the partitions of the open transaction.
#[derive(Debug)]
pub struct Transaction {
    state: TxnState,
    /// Partitions registered with the coordinator in this transaction.
    partitions: HashSet<(Arc<str>, i32)>,
    /// Whether offsets were added (AddOffsetsToTxn) in this transaction.
    has_offsets: bool,
}

impl Default for Transaction {
    fn default() -> Self {
        Transaction {
            state: TxnState::Ready,
            partitions: HashSet::new(),
            has_offsets: false,
        }
    }
}

fn misuse(reason: &str) -> ProducerError {
    ProducerError::TransactionalMisuse {
        reason: reason.to_string(),
    }
}

impl Transaction {
    /// The current state.
    pub fn state(&self) -> &TxnState {
        &self.state
    }

    /// Opens a transaction.
    pub fn begin(&mut self) -> Result<(), ProducerError> {
        match &self.state {
            TxnState::Ready => {
                self.state = TxnState::InTransaction;
                self.partitions.clear();
                self.has_offsets = false;
                Ok(())
            }
            TxnState::Fatal(e) => Err(e.clone()),
            TxnState::InTransaction | TxnState::AbortableError(_) => {
                Err(misuse("begin_transaction called while a transaction is open"))
            }
            TxnState::Committing | TxnState::Aborting => Err(misuse(
                "begin_transaction called while the previous transaction is ending",
            )),
        }
    }

    /// Whether records may be sent now.
    pub fn check_send(&self) -> Result<(), ProducerError> {
        match &self.state {
            TxnState::InTransaction => Ok(()),
            TxnState::AbortableError(e) | TxnState::Fatal(e) => Err(e.clone()),
            _ => Err(misuse(
                "a transactional producer sends only inside a transaction (begin_transaction first)",
            )),
        }
    }

    /// Whether `partition` still needs AddPartitionsToTxn in this transaction.
    pub fn needs_partition(&self, topic: &Arc<str>, partition: i32) -> bool {
        !self.partitions.contains(&(topic.clone(), partition))
    }

    /// Records that the coordinator accepted `partition`.
    pub fn partition_added(&mut self, topic: Arc<str>, partition: i32) {
        self.partitions.insert((topic, partition));
    }

    /// Whether AddOffsetsToTxn may be sent now.
    pub fn check_offsets(&mut self) -> Result<(), ProducerError> {
        self.check_send()?;
        self.has_offsets = true;
        Ok(())
    }

    /// Starts commit (`commit`) or abort. Returns whether an EndTxn request is
    /// needed: a transaction that touched nothing ends locally.
    pub fn begin_end(&mut self, commit: bool) -> Result<bool, ProducerError> {
        match (&self.state, commit) {
            (TxnState::InTransaction, _) => {}
            (TxnState::AbortableError(e), true) => return Err(e.clone()),
            (TxnState::AbortableError(_), false) => {}
            (TxnState::Fatal(e), _) => return Err(e.clone()),
            (TxnState::Ready, true) => {
                return Err(misuse("commit_transaction called without begin_transaction"))
            }
            (TxnState::Ready, false) => {
                return Err(misuse("abort_transaction called without begin_transaction"))
            }
            (TxnState::Committing, false) | (TxnState::Aborting, true) => {
                return Err(misuse("the transaction is already ending the other way"))
            }
            // Retrying the same end after an indefinite result.
            (TxnState::Committing, true) | (TxnState::Aborting, false) => return Ok(true),
        }
        self.state = if commit {
            TxnState::Committing
        } else {
            TxnState::Aborting
        };
        Ok(!self.partitions.is_empty() || self.has_offsets)
    }

    /// The EndTxn completed: back to Ready.
    pub fn ended(&mut self) {
        if matches!(self.state, TxnState::Committing | TxnState::Aborting) {
            self.state = TxnState::Ready;
            self.partitions.clear();
            self.has_offsets = false;
        }
    }

    /// A batch or request of the transaction failed with `error`.
    pub fn fail(&mut self, error: ProducerError) {
        if matches!(self.state, TxnState::Fatal(_)) {
            return;
        }
        self.state = if error.class() == ErrorClass::Fatal {
            TxnState::Fatal(error)
        } else if matches!(self.state, TxnState::InTransaction) {
            TxnState::AbortableError(error)
        } else {
            return;
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_misuse(r: Result<impl std::fmt::Debug, ProducerError>) -> bool {
        matches!(r, Err(ProducerError::TransactionalMisuse { .. }))
    }

    #[test]
    fn a_transaction_goes_ready_open_committing_ready() {
        let mut t = Transaction::default();
        assert!(is_misuse(t.check_send()), "send outside a transaction");
        t.begin().unwrap();
        assert!(is_misuse(t.begin()), "begin twice");
        t.check_send().unwrap();
        let topic: Arc<str> = Arc::from("t");
        assert!(t.needs_partition(&topic, 0));
        t.partition_added(topic.clone(), 0);
        assert!(!t.needs_partition(&topic, 0));
        assert!(t.begin_end(true).unwrap(), "touched a partition: EndTxn needed");
        assert!(t.begin_end(true).unwrap(), "the same commit may be retried");
        assert!(is_misuse(t.begin_end(false)), "no switching to abort mid-commit");
        t.ended();
        assert_eq!(t.state(), &TxnState::Ready);
        assert!(t.needs_partition(&topic, 0), "partitions are per transaction");
    }

    #[test]
    fn misuse_is_typed() {
        let mut t = Transaction::default();
        assert!(is_misuse(t.begin_end(true)), "commit without begin");
        assert!(is_misuse(t.begin_end(false)), "abort without begin");
        t.begin().unwrap();
        assert!(
            !t.begin_end(false).unwrap(),
            "an empty transaction needs no EndTxn"
        );
        t.ended();
    }

    #[test]
    fn a_failed_batch_allows_only_abort() {
        let mut t = Transaction::default();
        t.begin().unwrap();
        let error = ProducerError::Broker {
            code: kafka_wire::ErrorCode::INVALID_RECORD,
            message: None,
        };
        t.fail(error.clone());
        assert_eq!(t.check_send(), Err(error.clone()));
        assert_eq!(t.begin_end(true), Err(error));
        assert!(t.begin_end(false).is_ok());
    }

    #[test]
    fn fencing_is_fatal() {
        let mut t = Transaction::default();
        t.begin().unwrap();
        t.fail(ProducerError::ProducerFenced);
        assert_eq!(t.begin_end(false), Err(ProducerError::ProducerFenced));
        assert_eq!(t.begin(), Err(ProducerError::ProducerFenced));
    }
}
