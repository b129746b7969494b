//! [`TransactionManager`]: the identity, the transaction, and every request
//! to the coordinator, as decisions on the caller's clock.
//!
//! The user's calls become *operations*: get the first identity, bump the
//! epoch, begin, add a partition, add offsets, end. An operation is a short
//! list of requests (*steps*), sent one after the other; each step is retried
//! on its own rule until the operation's deadline:
//!
//! * **to the coordinator** (InitProducerId with a `transactional_id`,
//!   AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn): every
//!   attempt starts with a FindCoordinator to any broker, since the
//!   coordinator may have moved (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE,
//!   a lost connection all say so). A retriable error waits
//!   `retry_backoff_ms`, CONCURRENT_TRANSACTIONS only 20 ms (as the Java
//!   client does: the previous transaction is still ending). Neither the
//!   lookup nor the request may outlast the deadline: the manager fails the
//!   attempt at the deadline ([`TransactionManager::handle_timeout`]).
//! * **InitProducerId to any broker** (an idempotent producer has no
//!   coordinator): retried after `retry_backoff_ms`; a broker too old to bump
//!   an epoch (it cannot encode InitProducerId v3) is asked for a fresh
//!   producer id at once instead, which serves the same purpose.
//! * **the cluster's protocol**, from any broker's ApiVersions answer, at
//!   each begin ([`TxnProtocol`]).
//!
//! Deadlines: `max_block_ms` for each call; `transaction_timeout_ms` for
//! EndTxn, whose indefinite result (a timeout, a lost connection) is retried
//! as the same commit or abort, never the other outcome; ten times
//! `request_timeout_ms` for an epoch bump, which no caller waits for and
//! which is tried again `retry_backoff_ms` after it fails (the partitions
//! wait for it).
//!
//! Epoch bumps (KIP-360): a partition whose sequences the broker refused asks
//! with the identity its batch carried; a request for an identity that was
//! already bumped, or is being bumped, is ignored, so many partitions cause
//! one bump. Under protocol V2 (KIP-890) every EndTxn returns the next
//! identity, which is adopted. Each new identity is announced with
//! [`TxnEvent::IdentityChanged`] (the partitions restart their sequences).
//!
//! Operations run concurrently (the driver does not wait for one to finish
//! before it starts the next), as the partitions of one transaction register
//! themselves at the same time. Replies are the driver's `R`, handed back with
//! the answer in [`TxnEvent::Answer`].

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_wire::api::{ApiKey, VersionRange};
use kafka_wire::messages::add_offsets_to_txn::AddOffsetsToTxnRequest;
use kafka_wire::messages::add_partitions_to_txn::{AddPartitionsToTxnRequest, AddPartitionsToTxnTopic};
use kafka_wire::messages::end_txn::EndTxnRequest;
use kafka_wire::messages::find_coordinator::{CoordinatorType, FindCoordinatorRequest};
use kafka_wire::messages::init_producer_id::InitProducerIdRequest;
use kafka_wire::ErrorCode;

use super::state::misuse;
use super::wire::{found_coordinator, outcome, txn_offset_commit, Outcome};
use super::{
    CallError, CoordinatorRequest, ProducerIdentity, RequestId, Target, Transaction, TxnProtocol, TxnRequest,
    TxnResponse,
};
use crate::config::ProducerConfig;
use crate::connection::ConnectionError;
use crate::error::{ErrorClass, Misuse, ProducerError};

/// How long CONCURRENT_TRANSACTIONS waits before the retry: the previous
/// transaction is still being written, which takes milliseconds.
const CONCURRENT_TRANSACTIONS_BACKOFF: Duration = Duration::from_millis(20);

/// The settings the manager follows (from [`ProducerConfig`]).
#[derive(Debug, Clone)]
pub struct ManagerSettings {
    /// `transactional_id`: `None` for an idempotent producer.
    pub transactional_id: Option<String>,
    /// `max_block_ms`: the deadline of each call but EndTxn.
    pub max_block: Duration,
    /// `transaction_timeout_ms`: the deadline of EndTxn, and the timeout
    /// InitProducerId asks the coordinator for.
    pub transaction_timeout: Duration,
    /// `retry_backoff_ms`: the pause before a retry.
    pub retry_backoff: Duration,
    /// `request_timeout_ms`: an epoch bump retries for ten times this.
    pub request_timeout: Duration,
}

impl ManagerSettings {
    /// The settings `config` asks for.
    pub fn from_config(config: &ProducerConfig) -> Self {
        ManagerSettings {
            transactional_id: config.transactional_id.clone(),
            max_block: config.max_block(),
            transaction_timeout: config.transaction_timeout(),
            retry_backoff: config.retry_backoff(),
            request_timeout: config.request_timeout(),
        }
    }

    /// InitProducerId's `transaction_timeout_ms` field.
    fn init_timeout_ms(&self) -> i32 {
        i32::try_from(self.transaction_timeout.as_millis()).unwrap_or(i32::MAX)
    }
}

/// What follows a reported answer or failure.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Next {
    /// A request is ready: call [`TransactionManager::poll_request`].
    Send,
    /// The attempt failed; the next one goes out at `at`.
    Retry {
        /// When.
        at: Instant,
    },
    /// The operation finished; its answer (if a caller waits) is in
    /// [`TransactionManager::poll_event`].
    Done,
    /// The operation failed with this error (also in the answer).
    Fail(ProducerError),
    /// The answer was for an attempt already given up on: ignored.
    Stale,
}

/// A successful operation's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Answer {
    /// The identity ([`TransactionManager::init_identity`]).
    Identity(ProducerIdentity),
    /// The Produce versions a partition's batches must be sent at
    /// ([`TransactionManager::add_partition`]).
    ProduceVersions(Option<VersionRange>),
    /// Done, nothing to report (begin, offsets, end).
    Done,
}

/// What the driver must pass on (from [`TransactionManager::poll_event`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum TxnEvent<R> {
    /// An operation's answer, for the reply handle it was started with.
    Answer(R, Result<Answer, ProducerError>),
    /// The identity changed: every partition adopts it and restarts its
    /// sequences at 0.
    IdentityChanged(ProducerIdentity),
}

/// What an operation is for, and what it learned so far.
#[derive(Debug)]
enum Work {
    /// The first identity.
    Init,
    /// An epoch bump of `from`, asked by a partition (no caller waits).
    Bump { from: ProducerIdentity },
    /// A begin; `bumped` is the identity a first step bumped to.
    Begin { bumped: Option<ProducerIdentity> },
    /// AddPartitionsToTxn for one partition.
    AddPartition {
        topic: Arc<str>,
        partition: i32,
        produce_versions: Option<VersionRange>,
    },
    /// AddOffsetsToTxn (V1), then TxnOffsetCommit (`then`).
    SendOffsets { then: Option<Step> },
    /// EndTxn under `protocol`.
    End { protocol: TxnProtocol },
}

/// One request of an operation, with the retry rule it follows.
#[derive(Debug, Clone)]
enum Step {
    /// To the coordinator of `key`, found again for every attempt.
    Coordinator {
        key_type: CoordinatorType,
        key: String,
        request: TxnRequest,
    },
    /// InitProducerId to any broker.
    InitAnyBroker(InitProducerIdRequest),
    /// The cluster's protocol, from any broker's ApiVersions.
    ClusterProtocol,
}

impl Step {
    fn api(&self) -> ApiKey {
        match self {
            Step::Coordinator { request, .. } => request.api(),
            Step::InitAnyBroker(_) => ApiKey::InitProducerId,
            Step::ClusterProtocol => ApiKey::ApiVersions,
        }
    }

    fn request(&self) -> TxnRequest {
        match self {
            Step::Coordinator { request, .. } => request.clone(),
            Step::InitAnyBroker(request) => TxnRequest::InitProducerId(request.clone()),
            Step::ClusterProtocol => TxnRequest::ApiVersions,
        }
    }
}

/// Where a step's attempt is.
#[derive(Debug)]
enum Phase {
    /// To be sent at `at`.
    Waiting { at: Instant },
    /// FindCoordinator in flight since `since`.
    Finding { id: RequestId, since: Instant },
    /// The coordinator is known: the request goes to it next.
    Found { node_id: i32, addr: String },
    /// The request is in flight since `since` (to the coordinator `node_id`).
    Sent {
        id: RequestId,
        since: Instant,
        node_id: Option<i32>,
    },
}

#[derive(Debug)]
struct Operation<R> {
    work: Work,
    step: Step,
    phase: Phase,
    deadline: Instant,
    reply: Option<R>,
}

/// See the module documentation. `R` is the driver's reply handle.
#[derive(Debug)]
pub struct TransactionManager<R> {
    settings: ManagerSettings,
    identity: Option<ProducerIdentity>,
    txn: Transaction,
    /// The transaction coordinator the last lookup found.
    coordinator: Option<(i32, String)>,
    operations: BTreeMap<u64, Operation<R>>,
    next_operation: u64,
    next_request: u64,
    /// An epoch bump (no transactional id) is under way.
    bumping: bool,
    /// A begin is under way.
    beginning: bool,
    /// Failed epoch bumps, to try again (of that identity) at that time.
    bumps_to_retry: Vec<(ProducerIdentity, Instant)>,
    events: VecDeque<TxnEvent<R>>,
}

impl<R> TransactionManager<R> {
    /// A manager with no identity yet.
    pub fn new(settings: ManagerSettings) -> Self {
        TransactionManager {
            settings,
            identity: None,
            txn: Transaction::default(),
            coordinator: None,
            operations: BTreeMap::new(),
            next_operation: 0,
            next_request: 0,
            bumping: false,
            beginning: false,
            bumps_to_retry: Vec::new(),
            events: VecDeque::new(),
        }
    }

    /// The current identity, once known.
    pub fn identity(&self) -> Option<ProducerIdentity> {
        self.identity
    }

    /// The transaction state machine.
    pub fn transaction(&self) -> &Transaction {
        &self.txn
    }

    /// The transaction coordinator (node id, `host:port`) the last lookup
    /// found; `None` before the first, and after an error that says it moved.
    pub fn coordinator(&self) -> Option<(i32, &str)> {
        self.coordinator.as_ref().map(|(id, addr)| (*id, addr.as_str()))
    }

    /// Gets the first identity: InitProducerId (at the coordinator, with a
    /// `transactional_id`, fencing any earlier instance), within
    /// `max_block_ms`. Answers [`Answer::Identity`].
    pub fn init_identity(&mut self, reply: R, now: Instant) {
        let timeout_ms = self.settings.init_timeout_ms();
        let step = match &self.settings.transactional_id {
            Some(id) => Step::Coordinator {
                key_type: CoordinatorType::Transaction,
                key: id.clone(),
                request: TxnRequest::InitProducerId(InitProducerIdRequest::new(Some(id.clone()), timeout_ms)),
            },
            None => Step::InitAnyBroker(InitProducerIdRequest::new(None, timeout_ms)),
        };
        let deadline = now + self.settings.max_block;
        self.start(Work::Init, step, deadline, Some(reply), now);
    }

    /// A partition's batch sent with `from` was refused for its sequence:
    /// bump the epoch (KIP-360), unless `from` is no longer the identity or a
    /// bump is under way.
    pub fn bump_epoch(&mut self, from: ProducerIdentity, now: Instant) {
        if self.bumping || self.identity != Some(from) {
            return; // already bumped, or being bumped
        }
        self.bumping = true;
        let mut request = InitProducerIdRequest::new(None, self.settings.init_timeout_ms());
        request.producer_id = from.producer_id;
        request.producer_epoch = from.producer_epoch;
        // No caller waits: retry for as long as the partitions would.
        let deadline = now + self.settings.request_timeout * 10;
        self.start(
            Work::Bump { from },
            Step::InitAnyBroker(request),
            deadline,
            None,
            now,
        );
    }

    /// Opens a transaction under the protocol the cluster finalized now,
    /// first bumping the epoch if the last V1 transaction had a sequence
    /// error. Answers [`Answer::Done`].
    pub fn begin(&mut self, reply: R, now: Instant) {
        // Refuse misuse at once; the state changes only after the lookups.
        let checked = self
            .txn_context()
            .and_then(|context| self.txn.can_begin().map(|_| context));
        let (id, identity) = match checked {
            Ok(_) if self.beginning => {
                let error = misuse(Misuse::BeginTwice);
                return self.answer(Some(reply), Err(error));
            }
            Ok(context) => context,
            Err(e) => return self.answer(Some(reply), Err(e)),
        };
        self.beginning = true;
        let step = if self.txn.needs_epoch_bump() {
            // V1 after a sequence error: InitProducerId with the current id
            // and epoch bumps the epoch before the next transaction.
            let mut request = InitProducerIdRequest::new(Some(id.clone()), self.settings.init_timeout_ms());
            request.producer_id = identity.producer_id;
            request.producer_epoch = identity.producer_epoch;
            Step::Coordinator {
                key_type: CoordinatorType::Transaction,
                key: id,
                request: TxnRequest::InitProducerId(request),
            }
        } else {
            Step::ClusterProtocol
        };
        let deadline = now + self.settings.max_block;
        self.start(Work::Begin { bumped: None }, step, deadline, Some(reply), now);
    }

    /// Registers `partition` in the open transaction before its next batch:
    /// AddPartitionsToTxn under V1 (once per transaction), nothing under V2.
    /// Answers [`Answer::ProduceVersions`].
    pub fn add_partition(&mut self, topic: Arc<str>, partition: i32, reply: R, now: Instant) {
        let checked = self.txn.check_send().and_then(|_| self.txn_context());
        let (id, identity) = match checked {
            Ok(context) => context,
            Err(e) => return self.answer(Some(reply), Err(e)),
        };
        let protocol = self.txn.protocol();
        let produce_versions = protocol.versions(ApiKey::Produce);
        if protocol == TxnProtocol::V2 {
            // Produce v12+ adds the partition on the broker side.
            self.txn.partition_added(topic, partition);
            return self.answer(Some(reply), Ok(Answer::ProduceVersions(produce_versions)));
        }
        if !self.txn.needs_partition(&topic, partition) {
            return self.answer(Some(reply), Ok(Answer::ProduceVersions(produce_versions)));
        }
        let request = AddPartitionsToTxnRequest {
            transactional_id: id.clone(),
            producer_id: identity.producer_id,
            producer_epoch: identity.producer_epoch,
            topics: vec![AddPartitionsToTxnTopic {
                name: topic.to_string(),
                partitions: vec![partition],
            }],
        };
        let step = Step::Coordinator {
            key_type: CoordinatorType::Transaction,
            key: id,
            request: TxnRequest::AddPartitionsToTxn(request),
        };
        let work = Work::AddPartition {
            topic,
            partition,
            produce_versions,
        };
        let deadline = now + self.settings.max_block;
        self.start(work, step, deadline, Some(reply), now);
    }

    /// Adds consumer offsets (`(topic, partition, next offset to consume)`)
    /// of `group_id` to the open transaction: AddOffsetsToTxn (V1 only), then
    /// TxnOffsetCommit at the group's coordinator. Answers [`Answer::Done`].
    pub fn send_offsets(
        &mut self,
        group_id: String,
        offsets: Vec<(String, i32, i64)>,
        reply: R,
        now: Instant,
    ) {
        if group_id.is_empty() {
            let error = misuse(Misuse::EmptyGroupId);
            return self.answer(Some(reply), Err(error));
        }
        let checked = self.txn.check_offsets().and_then(|_| self.txn_context());
        let (id, identity) = match checked {
            Ok(context) => context,
            Err(e) => return self.answer(Some(reply), Err(e)),
        };
        let protocol = self.txn.protocol();
        let commit = Step::Coordinator {
            key_type: CoordinatorType::Group,
            key: group_id.clone(),
            request: TxnRequest::TxnOffsetCommit {
                request: txn_offset_commit(id.clone(), identity, group_id.clone(), offsets),
                versions: protocol.versions(ApiKey::TxnOffsetCommit),
            },
        };
        let (step, then) = match protocol {
            // V2's TxnOffsetCommit v5+ adds the offsets by itself.
            TxnProtocol::V2 => (commit, None),
            TxnProtocol::V1 => {
                let add = AddOffsetsToTxnRequest {
                    transactional_id: id.clone(),
                    producer_id: identity.producer_id,
                    producer_epoch: identity.producer_epoch,
                    group_id,
                };
                let add = Step::Coordinator {
                    key_type: CoordinatorType::Transaction,
                    key: id,
                    request: TxnRequest::AddOffsetsToTxn(add),
                };
                (add, Some(commit))
            }
        };
        let deadline = now + self.settings.max_block;
        self.start(Work::SendOffsets { then }, step, deadline, Some(reply), now);
    }

    /// Commits (`commit`) or aborts the open transaction with EndTxn, within
    /// `transaction_timeout_ms` (the coordinator keeps the transaction that
    /// long anyway). The caller has flushed every batch of it. A transaction
    /// that touched nothing ends without a request. Answers [`Answer::Done`].
    pub fn end(&mut self, commit: bool, reply: R, now: Instant) {
        let needs_request = match self.txn.begin_end(commit) {
            Ok(needs) => needs,
            Err(e) => return self.answer(Some(reply), Err(e)),
        };
        let (id, identity) = match self.txn_context() {
            Ok(context) => context,
            Err(e) => return self.answer(Some(reply), Err(e)),
        };
        if !needs_request {
            self.txn.ended();
            return self.answer(Some(reply), Ok(Answer::Done));
        }
        let protocol = self.txn.protocol();
        let request = EndTxnRequest {
            transactional_id: id.clone(),
            producer_id: identity.producer_id,
            producer_epoch: identity.producer_epoch,
            committed: commit,
        };
        let step = Step::Coordinator {
            key_type: CoordinatorType::Transaction,
            key: id,
            request: TxnRequest::EndTxn {
                request,
                versions: protocol.versions(ApiKey::EndTxn),
            },
        };
        let deadline = now + self.settings.transaction_timeout;
        self.start(Work::End { protocol }, step, deadline, Some(reply), now);
    }

    /// A batch of the open transaction failed: only abort remains possible
    /// (or nothing, if the error is fatal).
    pub fn batch_failed(&mut self, error: ProducerError) {
        self.txn.fail(error);
    }

    /// The next request to send, if any is due at `now`. Call until `None`
    /// after every input.
    pub fn poll_request(&mut self, now: Instant) -> Option<CoordinatorRequest> {
        let id = RequestId(self.next_request);
        for operation in self.operations.values_mut() {
            let (phase, target, request) = match &operation.phase {
                Phase::Waiting { at } if *at <= now => match &operation.step {
                    Step::Coordinator { key_type, key, .. } => (
                        Phase::Finding { id, since: now },
                        Target::AnyBroker,
                        TxnRequest::FindCoordinator(FindCoordinatorRequest::single(*key_type, key)),
                    ),
                    step => (
                        Phase::Sent {
                            id,
                            since: now,
                            node_id: None,
                        },
                        Target::AnyBroker,
                        step.request(),
                    ),
                },
                Phase::Found { node_id, addr } => (
                    Phase::Sent {
                        id,
                        since: now,
                        node_id: Some(*node_id),
                    },
                    Target::Node {
                        node_id: *node_id,
                        addr: addr.clone(),
                    },
                    operation.step.request(),
                ),
                _ => continue,
            };
            operation.phase = phase;
            self.next_request += 1;
            return Some(CoordinatorRequest { id, target, request });
        }
        None
    }

    /// The next answer or identity change to pass on.
    pub fn poll_event(&mut self) -> Option<TxnEvent<R>> {
        self.events.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next: the
    /// earliest retry, or deadline of a request in flight. Ask after
    /// draining [`poll_request`](Self::poll_request).
    pub fn poll_deadline(&self) -> Option<Instant> {
        let operations = self.operations.values().filter_map(|operation| {
            let to_coordinator = matches!(operation.step, Step::Coordinator { .. });
            match operation.phase {
                Phase::Waiting { at } => Some(at),
                Phase::Finding { .. } | Phase::Sent { .. } if to_coordinator => Some(operation.deadline),
                // Bounded by the connection's request_timeout_ms.
                Phase::Sent { .. } | Phase::Finding { .. } | Phase::Found { .. } => None,
            }
        });
        let bumps = self.bumps_to_retry.iter().map(|(_, at)| *at);
        operations.chain(bumps).min()
    }

    /// Time passed: requests to the coordinator still in flight at their
    /// operation's deadline fail (and with them the operation), failed epoch
    /// bumps whose pause is over start again. Then drain
    /// [`poll_request`](Self::poll_request) (retries may be due).
    pub fn handle_timeout(&mut self, now: Instant) {
        let expired: Vec<(u64, ProducerError)> = self
            .operations
            .iter()
            .filter(|(_, operation)| now >= operation.deadline)
            .filter_map(|(&key, operation)| {
                let left = |since: Instant| operation.deadline.saturating_duration_since(since);
                let error = match (&operation.phase, &operation.step) {
                    (Phase::Finding { since, .. }, Step::Coordinator { key, .. }) => {
                        ProducerError::CoordinatorUnavailable {
                            key: key.clone(),
                            waited_ms: left(*since).as_millis() as u64,
                        }
                    }
                    (
                        Phase::Sent {
                            since,
                            node_id: Some(node_id),
                            ..
                        },
                        Step::Coordinator { .. },
                    ) => ProducerError::RequestTimedOut {
                        broker: (*node_id).into(),
                        timeout_ms: left(*since).as_millis() as u64,
                    },
                    _ => return None,
                };
                Some((key, error))
            })
            .collect();
        for (key, error) in expired {
            self.attempt_failed(key, error, now);
        }
        let (due, later) = self.bumps_to_retry.drain(..).partition(|(_, at)| *at <= now);
        self.bumps_to_retry = later;
        for (from, _) in due {
            self.bump_epoch(from, now);
        }
    }

    /// The answer to request `id`, from broker `node_id`.
    pub fn handle_response(
        &mut self,
        id: RequestId,
        node_id: i32,
        response: TxnResponse,
        now: Instant,
    ) -> Next {
        let Some(key) = self.waiting_for(id) else {
            return Next::Stale;
        };
        let operation = &self.operations[&key];
        let result = match (&operation.phase, &operation.step) {
            (Phase::Finding { .. }, Step::Coordinator { key_type, key, .. }) => {
                found_coordinator(node_id, key, response).map(|(node_id, addr)| {
                    if *key_type == CoordinatorType::Transaction {
                        self.coordinator = Some((node_id, addr.clone()));
                    }
                    Phase::Found { node_id, addr }
                })
            }
            (_, step) => match outcome(node_id, step.api(), response) {
                Ok(outcome) => return self.step_succeeded(key, outcome, now),
                Err(e) => Err(e),
            },
        };
        match result {
            Ok(phase) => {
                if let Some(operation) = self.operations.get_mut(&key) {
                    operation.phase = phase;
                }
                Next::Send
            }
            Err(e) => self.attempt_failed(key, e, now),
        }
    }

    /// Request `id` got no answer.
    pub fn handle_failure(&mut self, id: RequestId, error: CallError, now: Instant) -> Next {
        let Some(key) = self.waiting_for(id) else {
            return Next::Stale;
        };
        let timeout_ms = self.settings.init_timeout_ms();
        if let Some(operation) = self.operations.get_mut(&key) {
            if let (Step::InitAnyBroker(request), CallError::Connection(ConnectionError::Encode { .. })) =
                (&mut operation.step, &error)
            {
                // A broker before KIP-360 (InitProducerId < v3) cannot bump:
                // a fresh producer id serves the same purpose.
                if request.producer_id >= 0 {
                    *request = InitProducerIdRequest::new(None, timeout_ms);
                    operation.phase = Phase::Waiting { at: now };
                    return Next::Send;
                }
            }
        }
        self.attempt_failed(key, ProducerError::from(error), now)
    }

    fn txn_context(&self) -> Result<(String, ProducerIdentity), ProducerError> {
        let id = self
            .settings
            .transactional_id
            .clone()
            .ok_or_else(|| misuse(Misuse::NotTransactional))?;
        let identity = self.identity.ok_or(ProducerError::Closed)?;
        Ok((id, identity))
    }

    fn start(&mut self, work: Work, step: Step, deadline: Instant, reply: Option<R>, now: Instant) {
        let operation = Operation {
            work,
            step,
            phase: Phase::Waiting { at: now },
            deadline,
            reply,
        };
        self.operations.insert(self.next_operation, operation);
        self.next_operation += 1;
    }

    fn answer(&mut self, reply: Option<R>, result: Result<Answer, ProducerError>) {
        if let Some(reply) = reply {
            self.events.push_back(TxnEvent::Answer(reply, result));
        }
    }

    /// The operation whose request `id` is in flight.
    fn waiting_for(&self, id: RequestId) -> Option<u64> {
        self.operations
            .iter()
            .find_map(|(&key, operation)| match operation.phase {
                Phase::Finding { id: sent, .. } | Phase::Sent { id: sent, .. } if sent == id => Some(key),
                _ => None,
            })
    }

    /// Adopts a new identity and announces it (the partitions restart their
    /// sequences at 0).
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
        self.events.push_back(TxnEvent::IdentityChanged(identity));
    }

    /// An attempt of operation `key` failed with `error`: retry on the step's
    /// rule, or fail the operation.
    fn attempt_failed(&mut self, key: u64, error: ProducerError, now: Instant) -> Next {
        let Some(operation) = self.operations.get_mut(&key) else {
            return Next::Stale;
        };
        let backoff = self.settings.retry_backoff;
        let (wait, why) = match &operation.step {
            Step::Coordinator { key_type, .. } => {
                if *key_type == CoordinatorType::Transaction && moved(&error) {
                    self.coordinator = None;
                }
                let wait = match error.error_code() {
                    Some(ErrorCode::CONCURRENT_TRANSACTIONS) => CONCURRENT_TRANSACTIONS_BACKOFF,
                    _ => backoff,
                };
                (wait, "coordinator request failed; retrying")
            }
            Step::InitAnyBroker(_) => (backoff, "InitProducerId failed; retrying"),
            Step::ClusterProtocol => (backoff, "cannot read the cluster's features yet; retrying"),
        };
        // A retry that could not start before the deadline is not tried.
        let retry_at = (error.is_retriable() && now + wait < operation.deadline).then_some(now + wait);
        if retry_at.is_some() {
            tracing::debug!(%error, "{why}");
        }
        match retry_at {
            Some(at) => {
                operation.phase = Phase::Waiting { at };
                Next::Retry { at }
            }
            None => {
                if let Some(operation) = self.operations.remove(&key) {
                    self.operation_failed(operation, error.clone(), now);
                }
                Next::Fail(error)
            }
        }
    }

    /// Operation `operation` failed for good with `error`.
    fn operation_failed(&mut self, operation: Operation<R>, error: ProducerError, now: Instant) {
        match operation.work {
            Work::Init => {}
            Work::Bump { from } => {
                self.bumping = false;
                tracing::error!(%error, "epoch bump failed; trying again");
                self.bumps_to_retry
                    .push((from, now + self.settings.retry_backoff));
                return;
            }
            Work::Begin { .. } => {
                self.beginning = false;
                if error.class() == ErrorClass::Fatal {
                    self.txn.fail(error.clone());
                }
            }
            Work::AddPartition { .. } | Work::SendOffsets { .. } => self.txn.fail(error.clone()),
            Work::End { .. } => {
                // A failed commit leaves the transaction Committing: the same
                // commit may be called again.
                if error.class() == ErrorClass::Fatal {
                    self.txn.fail(error.clone());
                }
            }
        }
        self.answer(operation.reply, Err(error));
    }

    /// The current step of operation `key` succeeded with `outcome`: go on to
    /// the next step, or finish.
    fn step_succeeded(&mut self, key: u64, outcome: Outcome, now: Instant) -> Next {
        let Some(mut operation) = self.operations.remove(&key) else {
            return Next::Stale;
        };
        let result = match (operation.work, outcome) {
            (Work::Init, Outcome::Identity(identity)) => {
                tracing::info!(
                    producer_id = identity.producer_id,
                    epoch = identity.producer_epoch,
                    "producer id"
                );
                self.identity = Some(identity);
                Ok(Answer::Identity(identity))
            }
            (Work::Bump { .. }, Outcome::Identity(identity)) => {
                self.bumping = false;
                self.adopt_identity(identity, "sequence error (KIP-360)");
                return Next::Done;
            }
            (Work::Begin { .. }, Outcome::Identity(identity)) => {
                operation.work = Work::Begin {
                    bumped: Some(identity),
                };
                return self.next_step(key, operation, Step::ClusterProtocol, now);
            }
            (Work::Begin { bumped }, Outcome::Protocol(protocol)) => {
                self.beginning = false;
                if let Some(identity) = bumped {
                    self.txn.epoch_bumped();
                    self.adopt_identity(identity, "sequence error in the last transaction (KIP-360)");
                }
                self.txn.begin(protocol).map(|()| {
                    tracing::debug!(?protocol, "transaction begun");
                    Answer::Done
                })
            }
            (
                Work::AddPartition {
                    topic,
                    partition,
                    produce_versions,
                },
                Outcome::Accepted,
            ) => {
                self.txn.partition_added(topic, partition);
                Ok(Answer::ProduceVersions(produce_versions))
            }
            (Work::SendOffsets { then: Some(commit) }, Outcome::Accepted) => {
                operation.work = Work::SendOffsets { then: None };
                return self.next_step(key, operation, commit, now);
            }
            (Work::SendOffsets { then: None }, Outcome::Accepted) => Ok(Answer::Done),
            (Work::End { protocol }, Outcome::Identity(bumped)) => {
                // V2: the coordinator bumped the epoch (or gave a new id).
                if protocol == TxnProtocol::V2 && bumped.producer_id >= 0 && bumped.producer_epoch >= 0 {
                    self.adopt_identity(bumped, "EndTxn v5 (KIP-890)");
                }
                self.txn.ended();
                Ok(Answer::Done)
            }
            (work, outcome) => {
                // Cannot happen: each step's answer was checked against its
                // request. Fail the operation rather than guess.
                tracing::error!(
                    ?outcome,
                    ?work,
                    "a transaction answer that does not fit its request"
                );
                let error = ProducerError::Internal {
                    what: "a transaction answer that does not fit its request",
                };
                operation.work = work;
                self.operation_failed(operation, error.clone(), now);
                return Next::Fail(error);
            }
        };
        let next = match &result {
            Ok(_) => Next::Done,
            Err(e) => Next::Fail(e.clone()),
        };
        self.answer(operation.reply, result);
        next
    }

    fn next_step(&mut self, key: u64, mut operation: Operation<R>, step: Step, now: Instant) -> Next {
        operation.step = step;
        operation.phase = Phase::Waiting { at: now };
        self.operations.insert(key, operation);
        Next::Send
    }
}

/// Whether `error` says the coordinator may have moved: look it up again.
fn moved(error: &ProducerError) -> bool {
    match error.error_code() {
        Some(code) => matches!(
            code,
            ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE
        ),
        None => true, // no answer from it
    }
}
