//! What the [`TransactionManager`](super::TransactionManager) sends and
//! hears: the typed requests, their answers, and how an answer is read (its
//! error code, or what it carries).

use std::sync::Arc;

use kafka_wire::api::{ApiKey, VersionRange};
use kafka_wire::messages::add_offsets_to_txn::{AddOffsetsToTxnRequest, AddOffsetsToTxnResponse};
use kafka_wire::messages::add_partitions_to_txn::{AddPartitionsToTxnRequest, AddPartitionsToTxnResponse};
use kafka_wire::messages::api_versions::ApiVersionsResponse;
use kafka_wire::messages::end_txn::{EndTxnRequest, EndTxnResponse};
use kafka_wire::messages::find_coordinator::{FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_wire::messages::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use kafka_wire::messages::txn_offset_commit::{
    TxnOffsetCommitRequest, TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
    TxnOffsetCommitResponse,
};
use kafka_wire::ErrorCode;

use super::{ProducerIdentity, TxnProtocol};
use crate::connection::ConnectionError;
use crate::error::{ProducerError, ProtocolViolation};

/// Names one request, to match its answer (stale answers, for attempts the
/// manager gave up on, are ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub(super) u64);

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Any broker (the driver picks one and reports its node id).
    AnyBroker,
    /// One broker: the coordinator a FindCoordinator named.
    Node {
        /// Its node id.
        node_id: i32,
        /// Its `host:port`.
        addr: String,
    },
}

/// A request the manager wants sent. Every kind must be sent by the driver,
/// so this enum is exhaustive on purpose: a new kind must not compile
/// unhandled.
#[derive(Debug, Clone)]
pub enum TxnRequest {
    /// Where the coordinator of a key is.
    FindCoordinator(FindCoordinatorRequest),
    /// A producer id and epoch (or an epoch bump).
    InitProducerId(InitProducerIdRequest),
    /// Registers partitions in the transaction (protocol V1).
    AddPartitionsToTxn(AddPartitionsToTxnRequest),
    /// Registers a consumer group in the transaction (protocol V1).
    AddOffsetsToTxn(AddOffsetsToTxnRequest),
    /// Consumer offsets, at the group coordinator.
    TxnOffsetCommit {
        /// The request.
        request: TxnOffsetCommitRequest,
        /// The versions it may be sent at (`None`: any).
        versions: Option<VersionRange>,
    },
    /// Commits or aborts.
    EndTxn {
        /// The request.
        request: EndTxnRequest,
        /// The versions it may be sent at (`None`: any).
        versions: Option<VersionRange>,
    },
    /// The connection's ApiVersions answer (already negotiated: nothing new
    /// goes on the wire).
    ApiVersions,
}

impl TxnRequest {
    pub(super) fn api(&self) -> ApiKey {
        match self {
            TxnRequest::FindCoordinator(_) => ApiKey::FindCoordinator,
            TxnRequest::InitProducerId(_) => ApiKey::InitProducerId,
            TxnRequest::AddPartitionsToTxn(_) => ApiKey::AddPartitionsToTxn,
            TxnRequest::AddOffsetsToTxn(_) => ApiKey::AddOffsetsToTxn,
            TxnRequest::TxnOffsetCommit { .. } => ApiKey::TxnOffsetCommit,
            TxnRequest::EndTxn { .. } => ApiKey::EndTxn,
            TxnRequest::ApiVersions => ApiKey::ApiVersions,
        }
    }
}

/// The answer to a [`TxnRequest`], of the same kind.
#[derive(Debug, Clone)]
pub enum TxnResponse {
    /// To [`TxnRequest::FindCoordinator`].
    FindCoordinator(FindCoordinatorResponse),
    /// To [`TxnRequest::InitProducerId`].
    InitProducerId(InitProducerIdResponse),
    /// To [`TxnRequest::AddPartitionsToTxn`].
    AddPartitionsToTxn(AddPartitionsToTxnResponse),
    /// To [`TxnRequest::AddOffsetsToTxn`].
    AddOffsetsToTxn(AddOffsetsToTxnResponse),
    /// To [`TxnRequest::TxnOffsetCommit`].
    TxnOffsetCommit(TxnOffsetCommitResponse),
    /// To [`TxnRequest::EndTxn`].
    EndTxn(EndTxnResponse),
    /// To [`TxnRequest::ApiVersions`].
    ApiVersions(Arc<ApiVersionsResponse>),
}

impl TxnResponse {
    pub(super) fn api(&self) -> ApiKey {
        match self {
            TxnResponse::FindCoordinator(_) => ApiKey::FindCoordinator,
            TxnResponse::InitProducerId(_) => ApiKey::InitProducerId,
            TxnResponse::AddPartitionsToTxn(_) => ApiKey::AddPartitionsToTxn,
            TxnResponse::AddOffsetsToTxn(_) => ApiKey::AddOffsetsToTxn,
            TxnResponse::TxnOffsetCommit(_) => ApiKey::TxnOffsetCommit,
            TxnResponse::EndTxn(_) => ApiKey::EndTxn,
            TxnResponse::ApiVersions(_) => ApiKey::ApiVersions,
        }
    }
}

/// A request to send now (from [`TransactionManager::poll_request`](super::TransactionManager::poll_request)).
#[derive(Debug, Clone)]
pub struct CoordinatorRequest {
    /// Report its answer under this id.
    pub id: RequestId,
    /// Where it goes.
    pub target: Target,
    /// What to send.
    pub request: TxnRequest,
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// No connection to send it on (no broker known, the driver is
    /// stopping).
    Unreachable(ProducerError),
    /// The connection failed it.
    Connection(ConnectionError),
}

impl From<ConnectionError> for CallError {
    fn from(error: ConnectionError) -> Self {
        CallError::Connection(error)
    }
}

impl From<ProducerError> for CallError {
    fn from(error: ProducerError) -> Self {
        CallError::Unreachable(error)
    }
}

impl From<CallError> for ProducerError {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Unreachable(e) => e,
            CallError::Connection(e) => ProducerError::from(e),
        }
    }
}

/// What a step's successful answer carried.
#[derive(Debug)]
pub(super) enum Outcome {
    /// InitProducerId's identity, or the one EndTxn v5 returned.
    Identity(ProducerIdentity),
    /// The protocol a broker's ApiVersions allows.
    Protocol(TxnProtocol),
    /// Accepted, nothing to learn.
    Accepted,
}

/// The coordinator a FindCoordinator answer (from broker `from`) names for
/// `key`: node id and `host:port`.
pub(super) fn found_coordinator(
    from: i32,
    key: &str,
    response: TxnResponse,
) -> Result<(i32, String), ProducerError> {
    let TxnResponse::FindCoordinator(response) = response else {
        return Err(mismatched(from, ApiKey::FindCoordinator));
    };
    let found = response.coordinator(key).ok_or_else(|| ProducerError::Protocol {
        broker: from.into(),
        cause: ProtocolViolation::NoCoordinator { key: key.to_owned() },
    })?;
    if !found.error_code.is_ok() {
        return Err(ProducerError::from_broker(
            found.error_code,
            found.error_message.clone(),
        ));
    }
    Ok((found.node_id, format!("{}:{}", found.host, found.port)))
}

/// The driver handed back an answer of another kind than the request: a bug.
fn mismatched(from: i32, api: ApiKey) -> ProducerError {
    tracing::error!(
        node_id = from,
        ?api,
        "the answer to a transaction request is of another kind"
    );
    ProducerError::Internal {
        what: "the answer to a transaction request is of another kind",
    }
}

/// What `response` (from broker `from`) to a request of `asked` says: its error
/// code (the first failed partition's, for per-partition answers) or what it
/// carries.
pub(super) fn outcome(from: i32, asked: ApiKey, response: TxnResponse) -> Result<Outcome, ProducerError> {
    if response.api() != asked {
        return Err(mismatched(from, asked));
    }
    let identity = |producer_id, producer_epoch| {
        Outcome::Identity(ProducerIdentity {
            producer_id,
            producer_epoch,
        })
    };
    let (code, outcome) = match response {
        TxnResponse::InitProducerId(r)
            if r.error_code.is_ok() && (r.producer_id < 0 || r.producer_epoch < 0) =>
        {
            // Batches stamped with it would carry no idempotence at all.
            return Err(ProducerError::Protocol {
                broker: from.into(),
                cause: ProtocolViolation::InvalidProducerId {
                    producer_id: r.producer_id,
                    epoch: r.producer_epoch,
                },
            });
        }
        TxnResponse::InitProducerId(r) => (r.error_code, identity(r.producer_id, r.producer_epoch)),
        TxnResponse::EndTxn(r) => (r.error_code, identity(r.producer_id, r.producer_epoch)),
        TxnResponse::AddPartitionsToTxn(r) => {
            let codes = r.results.iter().flat_map(|t| t.results.iter());
            (
                first_error(codes.map(|p| p.partition_error_code)),
                Outcome::Accepted,
            )
        }
        TxnResponse::AddOffsetsToTxn(r) => (r.error_code, Outcome::Accepted),
        TxnResponse::TxnOffsetCommit(r) => {
            let codes = r.topics.iter().flat_map(|t| t.partitions.iter());
            (first_error(codes.map(|p| p.error_code)), Outcome::Accepted)
        }
        TxnResponse::ApiVersions(versions) => {
            return Ok(Outcome::Protocol(TxnProtocol::from_api_versions(&versions)))
        }
        TxnResponse::FindCoordinator(_) => return Err(mismatched(from, asked)),
    };
    if code.is_ok() {
        Ok(outcome)
    } else {
        Err(ProducerError::from_broker(code, None))
    }
}

/// The first error among `codes`, or NONE.
fn first_error(mut codes: impl Iterator<Item = ErrorCode>) -> ErrorCode {
    codes.find(|code| !code.is_ok()).unwrap_or(ErrorCode::NONE)
}

/// The TxnOffsetCommit request for `offsets`, grouped by topic.
pub(super) fn txn_offset_commit(
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
