//! The transaction state machine, without I/O.
//!
//! ```text
//!   Ready ──begin──▶ InTransaction ──commit──▶ Committing ──ended──▶ Ready
//!                         │    └────abort────▶ Aborting  ──ended──▶ Ready
//!                         └─ a batch failed ─▶ AbortableError ──abort──▶ Aborting
//!   any ── ProducerFenced / fatal ──▶ Fatal
//! ```
//!
//! The [`TransactionManager`](super::TransactionManager) owns one and asks it
//! what is allowed; misuse (commit without begin, begin twice, ...) is a typed
//! error.
//!
//! Each transaction runs under one [`TxnProtocol`], chosen at begin from what
//! the cluster has finalized, so that a cluster upgraded to
//! `transaction.version` 2 is followed at the next transaction boundary,
//! never in the middle of one.

use std::collections::HashSet;
use std::sync::Arc;

use kafka_wire::api::{ApiKey, VersionRange};
use kafka_wire::messages::api_versions::ApiVersionsResponse;
use kafka_wire::ErrorCode;

use crate::error::{ErrorClass, Misuse, ProducerError};

/// The transaction protocol generation (the cluster's finalized
/// `transaction.version` feature).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnProtocol {
    /// `transaction.version` 0/1: AddPartitionsToTxn before a partition's
    /// first batch, AddOffsetsToTxn before TxnOffsetCommit, and an epoch that
    /// stays for the producer's session (bumped only after sequence errors,
    /// KIP-360).
    V1,
    /// `transaction.version` 2 (KIP-890): Produce v12+ adds partitions
    /// implicitly, TxnOffsetCommit v5+ adds the offsets implicitly, and every
    /// EndTxn (v5+) bumps the epoch and returns it (sequences restart at 0).
    V2,
}

impl TxnProtocol {
    /// The protocol a broker's ApiVersions answer allows: V2 when the cluster
    /// finalized `transaction.version` >= 2 and the broker speaks the
    /// versions V2 needs (Produce 12, EndTxn 5, TxnOffsetCommit 5).
    pub fn from_api_versions(versions: &ApiVersionsResponse) -> TxnProtocol {
        let finalized = versions.finalized_feature("transaction.version").unwrap_or(0);
        let speaks = |api: ApiKey| {
            let needed = TxnProtocol::V2.versions(api).map_or(i16::MIN, |r| r.min);
            versions
                .api_keys
                .iter()
                .any(|v| v.api_key == api.code() && v.max_version >= needed)
        };
        let apis = [ApiKey::Produce, ApiKey::EndTxn, ApiKey::TxnOffsetCommit];
        if finalized >= 2 && apis.into_iter().all(speaks) {
            TxnProtocol::V2
        } else {
            TxnProtocol::V1
        }
    }

    /// The versions `api` may be sent at under this protocol (`None`: any).
    pub fn versions(self, api: ApiKey) -> Option<VersionRange> {
        let first_v2 = match api {
            ApiKey::Produce => 12,
            ApiKey::EndTxn | ApiKey::TxnOffsetCommit => 5,
            _ => return None,
        };
        let ours = api.supported();
        Some(match self {
            TxnProtocol::V1 => VersionRange::new(ours.min, first_v2 - 1),
            TxnProtocol::V2 => VersionRange::new(first_v2, ours.max),
        })
    }
}

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
    /// The protocol of the open (or last) transaction.
    protocol: TxnProtocol,
    /// A batch failed for its sequence (V1): the epoch must be bumped
    /// (InitProducerId with the current id and epoch) once the transaction
    /// has ended, or the partition would stay out of order (KIP-360).
    bump_epoch: bool,
    /// Partitions registered with the coordinator in this transaction.
    partitions: HashSet<(Arc<str>, i32)>,
    /// Whether offsets were added (AddOffsetsToTxn) in this transaction.
    has_offsets: bool,
}

impl Default for Transaction {
    fn default() -> Self {
        Transaction {
            state: TxnState::Ready,
            protocol: TxnProtocol::V1,
            bump_epoch: false,
            partitions: HashSet::new(),
            has_offsets: false,
        }
    }
}

/// A [`ProducerError::TransactionalMisuse`].
pub(super) fn misuse(misuse: Misuse) -> ProducerError {
    ProducerError::TransactionalMisuse { misuse }
}

impl Transaction {
    /// The current state.
    pub fn state(&self) -> &TxnState {
        &self.state
    }

    /// The protocol of the open (or last) transaction.
    pub fn protocol(&self) -> TxnProtocol {
        self.protocol
    }

    /// Opens a transaction under `protocol`.
    pub fn begin(&mut self, protocol: TxnProtocol) -> Result<(), ProducerError> {
        self.can_begin()?;
        self.state = TxnState::InTransaction;
        self.protocol = protocol;
        self.partitions.clear();
        self.has_offsets = false;
        Ok(())
    }

    /// Whether a transaction may begin now.
    pub fn can_begin(&self) -> Result<(), ProducerError> {
        match &self.state {
            TxnState::Ready => Ok(()),
            TxnState::Fatal(e) => Err(e.clone()),
            TxnState::InTransaction | TxnState::AbortableError(_) => Err(misuse(Misuse::BeginInTransaction)),
            TxnState::Committing | TxnState::Aborting => Err(misuse(Misuse::BeginWhileEnding)),
        }
    }

    /// Whether records may be sent now.
    pub fn check_send(&self) -> Result<(), ProducerError> {
        match &self.state {
            TxnState::InTransaction => Ok(()),
            TxnState::AbortableError(e) | TxnState::Fatal(e) => Err(e.clone()),
            _ => Err(misuse(Misuse::SendOutsideTransaction)),
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
            (TxnState::Ready, true) => return Err(misuse(Misuse::CommitWithoutBegin)),
            (TxnState::Ready, false) => return Err(misuse(Misuse::AbortWithoutBegin)),
            (TxnState::Committing, false) | (TxnState::Aborting, true) => {
                return Err(misuse(Misuse::EndingTheOtherWay))
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
            if self.protocol == TxnProtocol::V2 {
                self.bump_epoch = false; // EndTxn v5 bumped it
            }
        }
    }

    /// Whether the epoch must be bumped (InitProducerId with the current id
    /// and epoch) before the next transaction begins: a V1 transaction had a
    /// sequence error.
    pub fn needs_epoch_bump(&self) -> bool {
        self.bump_epoch && self.state == TxnState::Ready
    }

    /// The epoch was bumped.
    pub fn epoch_bumped(&mut self) {
        self.bump_epoch = false;
    }

    /// A batch or request of the transaction failed with `error`.
    pub fn fail(&mut self, error: ProducerError) {
        if matches!(self.state, TxnState::Fatal(_)) {
            return;
        }
        let code = error.error_code();
        if matches!(
            code,
            Some(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER | ErrorCode::UNKNOWN_PRODUCER_ID)
        ) {
            self.bump_epoch = true;
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
        t.begin(TxnProtocol::V1).unwrap();
        assert!(is_misuse(t.begin(TxnProtocol::V1)), "begin twice");
        t.check_send().unwrap();
        let topic: Arc<str> = Arc::from("t");
        assert!(t.needs_partition(&topic, 0));
        t.partition_added(topic.clone(), 0);
        assert!(!t.needs_partition(&topic, 0));
        assert!(t.begin_end(true).unwrap(), "touched a partition: EndTxn needed");
        assert!(t.begin_end(true).unwrap(), "the same commit may be retried");
        assert!(is_misuse(t.begin_end(false)), "no switching to abort mid-commit");
        t.ended();
        assert!(!t.needs_epoch_bump(), "no sequence error: no epoch bump");
        assert_eq!(t.state(), &TxnState::Ready);
        assert!(t.needs_partition(&topic, 0), "partitions are per transaction");
    }

    #[test]
    fn misuse_is_typed() {
        let mut t = Transaction::default();
        let misuse = |r: Result<bool, ProducerError>| match r {
            Err(ProducerError::TransactionalMisuse { misuse }) => misuse,
            other => panic!("expected misuse, got {other:?}"),
        };
        assert_eq!(misuse(t.begin_end(true)), Misuse::CommitWithoutBegin);
        assert_eq!(misuse(t.begin_end(false)), Misuse::AbortWithoutBegin);
        assert!(matches!(
            t.check_send(),
            Err(ProducerError::TransactionalMisuse {
                misuse: Misuse::SendOutsideTransaction
            })
        ));
        t.begin(TxnProtocol::V1).unwrap();
        assert!(
            !t.begin_end(false).unwrap(),
            "an empty transaction needs no EndTxn"
        );
        t.ended();
    }

    #[test]
    fn a_failed_batch_allows_only_abort() {
        let mut t = Transaction::default();
        t.begin(TxnProtocol::V1).unwrap();
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
        t.begin(TxnProtocol::V1).unwrap();
        t.fail(ProducerError::ProducerFenced);
        assert_eq!(t.begin_end(false), Err(ProducerError::ProducerFenced));
        assert_eq!(t.begin(TxnProtocol::V2), Err(ProducerError::ProducerFenced));
    }

    #[test]
    fn a_sequence_error_under_v1_asks_for_an_epoch_bump_after_the_abort() {
        let mut t = Transaction::default();
        t.begin(TxnProtocol::V1).unwrap();
        t.partition_added(Arc::from("t"), 0);
        t.fail(ProducerError::Broker {
            code: ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
            message: None,
        });
        assert!(!t.needs_epoch_bump(), "not while the transaction is open");
        assert!(t.begin_end(false).unwrap());
        t.ended();
        assert!(t.needs_epoch_bump(), "bump after the abort");
        t.epoch_bumped();
        assert!(!t.needs_epoch_bump(), "once only");
    }

    #[test]
    fn under_v2_end_txn_bumps_so_no_separate_bump_is_asked() {
        let mut t = Transaction::default();
        t.begin(TxnProtocol::V2).unwrap();
        assert_eq!(t.protocol(), TxnProtocol::V2);
        t.fail(ProducerError::Broker {
            code: ErrorCode::UNKNOWN_PRODUCER_ID,
            message: None,
        });
        t.begin_end(false).unwrap();
        t.ended();
        assert!(!t.needs_epoch_bump());
    }

    #[test]
    fn the_protocol_is_chosen_per_transaction() {
        let mut t = Transaction::default();
        t.begin(TxnProtocol::V1).unwrap();
        t.begin_end(true).unwrap();
        t.ended();
        t.begin(TxnProtocol::V2).unwrap();
        assert_eq!(t.protocol(), TxnProtocol::V2);
    }

    fn api_versions(transaction_version: Option<i16>, produce_max: i16) -> ApiVersionsResponse {
        use kafka_wire::messages::api_versions::{ApiVersion, FinalizedFeature};
        let api = |key: ApiKey, max: i16| ApiVersion {
            api_key: key.code(),
            min_version: 0,
            max_version: max,
        };
        ApiVersionsResponse {
            error_code: ErrorCode::NONE,
            api_keys: vec![
                api(ApiKey::Produce, produce_max),
                api(ApiKey::EndTxn, 5),
                api(ApiKey::TxnOffsetCommit, 5),
            ],
            throttle_time_ms: 0,
            supported_features: Vec::new(),
            finalized_features_epoch: 1,
            finalized_features: transaction_version
                .map(|level| FinalizedFeature {
                    name: "transaction.version".to_string(),
                    max_version_level: level,
                    min_version_level: level,
                })
                .into_iter()
                .collect(),
            zk_migration_ready: false,
        }
    }

    #[test]
    fn v2_needs_the_finalized_feature_and_the_request_versions() {
        assert_eq!(
            TxnProtocol::from_api_versions(&api_versions(Some(2), 12)),
            TxnProtocol::V2
        );
        assert_eq!(
            TxnProtocol::from_api_versions(&api_versions(Some(1), 12)),
            TxnProtocol::V1
        );
        assert_eq!(
            TxnProtocol::from_api_versions(&api_versions(None, 12)),
            TxnProtocol::V1
        );
        assert_eq!(
            TxnProtocol::from_api_versions(&api_versions(Some(2), 11)),
            TxnProtocol::V1
        );
    }

    #[test]
    fn each_protocol_pins_its_request_versions() {
        let v1 = TxnProtocol::V1;
        let v2 = TxnProtocol::V2;
        assert_eq!(v1.versions(ApiKey::Produce).map(|r| r.max), Some(11));
        assert_eq!(v2.versions(ApiKey::Produce).map(|r| r.min), Some(12));
        assert_eq!(v1.versions(ApiKey::EndTxn).map(|r| r.max), Some(4));
        assert_eq!(v2.versions(ApiKey::EndTxn).map(|r| r.min), Some(5));
        assert_eq!(v1.versions(ApiKey::TxnOffsetCommit).map(|r| r.max), Some(4));
        assert_eq!(v2.versions(ApiKey::TxnOffsetCommit).map(|r| r.min), Some(5));
        assert_eq!(v2.versions(ApiKey::Metadata), None);
    }
}
