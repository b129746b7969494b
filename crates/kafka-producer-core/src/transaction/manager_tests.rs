//! The transaction manager on simulated time: each test fixes `t0` once and
//! moves the clock by adding durations; the "broker" is the test, answering
//! each request the manager polls.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_wire::api::ApiKey;
use kafka_wire::messages::add_offsets_to_txn::AddOffsetsToTxnResponse;
use kafka_wire::messages::add_partitions_to_txn::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnResponse, AddPartitionsToTxnTopicResult,
};
use kafka_wire::messages::api_versions::{ApiVersion, ApiVersionsResponse, FinalizedFeature};
use kafka_wire::messages::end_txn::EndTxnResponse;
use kafka_wire::messages::find_coordinator::{Coordinator, CoordinatorType, FindCoordinatorResponse};
use kafka_wire::messages::init_producer_id::InitProducerIdResponse;
use kafka_wire::messages::txn_offset_commit::{
    TxnOffsetCommitResponse, TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_wire::ErrorCode;

use super::*;
use crate::connection::ConnectionError;
use crate::error::{BrokerId, ConnectFailure, Disconnect, IoFailure, ProducerError};

const BACKOFF: Duration = Duration::from_millis(100);
const MAX_BLOCK: Duration = Duration::from_millis(1_000);
const TXN_TIMEOUT: Duration = Duration::from_millis(5_000);
const REQUEST_TIMEOUT: Duration = Duration::from_millis(200);
const ID: ProducerIdentity = ProducerIdentity {
    producer_id: 1,
    producer_epoch: 0,
};

/// The reply handle: a label naming the call.
type Manager = TransactionManager<&'static str>;

fn manager(transactional: bool) -> Manager {
    TransactionManager::new(ManagerSettings {
        transactional_id: transactional.then(|| "txn".to_string()),
        max_block: MAX_BLOCK,
        transaction_timeout: TXN_TIMEOUT,
        retry_backoff: BACKOFF,
        request_timeout: REQUEST_TIMEOUT,
    })
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn found(node_id: i32) -> TxnResponse {
    TxnResponse::FindCoordinator(FindCoordinatorResponse {
        throttle_time_ms: 0,
        coordinators: vec![Coordinator {
            key: None,
            node_id,
            host: format!("broker{node_id}"),
            port: 9092,
            error_code: ErrorCode::NONE,
            error_message: None,
        }],
    })
}

fn init(identity: ProducerIdentity, error_code: ErrorCode) -> TxnResponse {
    TxnResponse::InitProducerId(InitProducerIdResponse {
        throttle_time_ms: 0,
        error_code,
        producer_id: identity.producer_id,
        producer_epoch: identity.producer_epoch,
    })
}

fn partitions_added(partition_error_code: ErrorCode) -> TxnResponse {
    TxnResponse::AddPartitionsToTxn(AddPartitionsToTxnResponse {
        throttle_time_ms: 0,
        results: vec![AddPartitionsToTxnTopicResult {
            name: "t".to_string(),
            results: vec![AddPartitionsToTxnPartitionResult {
                partition_index: 0,
                partition_error_code,
            }],
        }],
    })
}

fn ended(error_code: ErrorCode, producer_id: i64, producer_epoch: i16) -> TxnResponse {
    TxnResponse::EndTxn(EndTxnResponse {
        throttle_time_ms: 0,
        error_code,
        producer_id,
        producer_epoch,
    })
}

fn cluster(protocol: TxnProtocol) -> TxnResponse {
    let api = |key: ApiKey, max_version| ApiVersion {
        api_key: key.code(),
        min_version: 0,
        max_version,
    };
    let level = if protocol == TxnProtocol::V2 { 2 } else { 1 };
    TxnResponse::ApiVersions(Arc::new(ApiVersionsResponse {
        error_code: ErrorCode::NONE,
        api_keys: vec![
            api(ApiKey::Produce, 12),
            api(ApiKey::EndTxn, 5),
            api(ApiKey::TxnOffsetCommit, 5),
        ],
        throttle_time_ms: 0,
        supported_features: Vec::new(),
        finalized_features_epoch: 1,
        finalized_features: vec![FinalizedFeature {
            name: "transaction.version".to_string(),
            max_version_level: level,
            min_version_level: level,
        }],
        zk_migration_ready: false,
    }))
}

fn broker(code: ErrorCode) -> ProducerError {
    ProducerError::Broker { code, message: None }
}

/// Answers the FindCoordinator the manager sends now with `node` and returns
/// the request that then goes to `node`.
fn via_coordinator(m: &mut Manager, node: i32, now: Instant) -> CoordinatorRequest {
    let find = m.poll_request(now).expect("a FindCoordinator");
    assert!(matches!(find.request, TxnRequest::FindCoordinator(_)), "{find:?}");
    assert_eq!(find.target, Target::AnyBroker);
    assert_eq!(m.handle_response(find.id, 0, found(node), now), Next::Send);
    let request = m.poll_request(now).expect("the request for the coordinator");
    let addr = format!("broker{node}:9092");
    assert_eq!(request.target, Target::Node { node_id: node, addr });
    request
}

/// Every answer so far, with identity changes as `("identity", ..)`.
fn events(m: &mut Manager) -> Vec<(&'static str, Result<Answer, ProducerError>)> {
    std::iter::from_fn(|| m.poll_event())
        .map(|event| match event {
            TxnEvent::Answer(reply, answer) => (reply, answer),
            TxnEvent::IdentityChanged(identity) => ("identity", Ok(Answer::Identity(identity))),
        })
        .collect()
}

/// A transactional manager with identity [`ID`] and a transaction open
/// under `protocol`, at `t0`.
fn open(protocol: TxnProtocol, t0: Instant) -> Manager {
    let mut m = manager(true);
    m.init_identity("init", t0);
    let request = via_coordinator(&mut m, 1, t0);
    assert!(matches!(request.request, TxnRequest::InitProducerId(_)));
    assert_eq!(
        m.handle_response(request.id, 1, init(ID, ErrorCode::NONE), t0),
        Next::Done
    );
    assert_eq!(events(&mut m), [("init", Ok(Answer::Identity(ID)))]);
    m.begin("begin", t0);
    let request = m.poll_request(t0).expect("ApiVersions");
    assert!(matches!(request.request, TxnRequest::ApiVersions));
    assert_eq!(
        m.handle_response(request.id, 0, cluster(protocol), t0),
        Next::Done
    );
    assert_eq!(events(&mut m), [("begin", Ok(Answer::Done))]);
    m
}

/// `open`, with partition t-0 in the transaction (so that EndTxn is sent).
fn open_with_partition(protocol: TxnProtocol, t0: Instant) -> Manager {
    let mut m = open(protocol, t0);
    m.add_partition(Arc::from("t"), 0, "add", t0);
    if protocol == TxnProtocol::V1 {
        let request = via_coordinator(&mut m, 1, t0);
        let answer = partitions_added(ErrorCode::NONE);
        assert_eq!(m.handle_response(request.id, 1, answer, t0), Next::Done);
    }
    let versions = protocol.versions(ApiKey::Produce);
    assert_eq!(events(&mut m), [("add", Ok(Answer::ProduceVersions(versions)))]);
    m
}

#[test]
fn a_coordinator_request_retries_after_the_backoff_until_the_deadline_then_fails_with_the_last_error() {
    let t0 = Instant::now();
    let mut m = open(TxnProtocol::V1, t0);
    m.add_partition(Arc::from("t"), 0, "add", t0);
    let mut now = t0;
    let mut attempts = 0;
    let loading = ErrorCode::COORDINATOR_LOAD_IN_PROGRESS;
    let last = loop {
        let request = via_coordinator(&mut m, 1, now);
        attempts += 1;
        match m.handle_response(request.id, 1, partitions_added(loading), now) {
            Next::Retry { at } => {
                assert_eq!(at, now + BACKOFF);
                assert!(m.poll_request(now).is_none(), "nothing before the backoff");
                assert_eq!(m.poll_deadline(), Some(at));
                now = at;
            }
            other => break other,
        }
    };
    // Attempts at 0, 100, ..., 900 ms: the next would start at the deadline.
    assert_eq!(attempts, 10);
    assert_eq!(now, t0 + ms(900));
    assert_eq!(last, Next::Fail(broker(loading)));
    assert_eq!(events(&mut m), [("add", Err(broker(loading)))]);
    assert_eq!(
        m.transaction().state(),
        &TxnState::AbortableError(broker(loading))
    );
    assert_eq!(m.poll_deadline(), None);
}

#[test]
fn concurrent_transactions_backs_off_20_ms_not_the_retry_backoff() {
    let t0 = Instant::now();
    let mut m = open(TxnProtocol::V1, t0);
    m.add_partition(Arc::from("t"), 0, "add", t0);
    let request = via_coordinator(&mut m, 1, t0);
    let busy = partitions_added(ErrorCode::CONCURRENT_TRANSACTIONS);
    assert_eq!(
        m.handle_response(request.id, 1, busy, t0),
        Next::Retry { at: t0 + ms(20) }
    );
    assert!(m.poll_request(t0 + ms(19)).is_none());
    let request = via_coordinator(&mut m, 1, t0 + ms(20));
    let accepted = partitions_added(ErrorCode::NONE);
    assert_eq!(
        m.handle_response(request.id, 1, accepted, t0 + ms(20)),
        Next::Done
    );
    let versions = TxnProtocol::V1.versions(ApiKey::Produce);
    assert_eq!(events(&mut m), [("add", Ok(Answer::ProduceVersions(versions)))]);
    assert!(!m.transaction().needs_partition(&Arc::from("t"), 0));
}

#[test]
fn not_coordinator_and_coordinator_not_available_find_the_coordinator_again() {
    for code in [ErrorCode::NOT_COORDINATOR, ErrorCode::COORDINATOR_NOT_AVAILABLE] {
        let t0 = Instant::now();
        let mut m = open_with_partition(TxnProtocol::V2, t0);
        m.end(true, "commit", t0);
        let request = via_coordinator(&mut m, 1, t0);
        assert_eq!(m.coordinator(), Some((1, "broker1:9092")));
        let at = t0 + BACKOFF;
        assert_eq!(
            m.handle_response(request.id, 1, ended(code, -1, -1), t0),
            Next::Retry { at }
        );
        assert_eq!(m.coordinator(), None, "{code:?}: the coordinator moved");
        // The retry looks the coordinator up again, and goes where it moved.
        let request = via_coordinator(&mut m, 2, at);
        let TxnRequest::EndTxn { request: end, .. } = &request.request else {
            panic!("{request:?}")
        };
        assert!(end.committed);
        let done = ended(ErrorCode::NONE, -1, -1);
        assert_eq!(m.handle_response(request.id, 2, done, at), Next::Done);
        assert_eq!(events(&mut m), [("commit", Ok(Answer::Done))]);
        assert_eq!(m.transaction().state(), &TxnState::Ready);
    }
}

#[test]
fn producer_fenced_is_fatal_and_not_retried() {
    let t0 = Instant::now();
    let mut m = open_with_partition(TxnProtocol::V1, t0);
    m.end(true, "commit", t0);
    let request = via_coordinator(&mut m, 1, t0);
    let fenced = ended(ErrorCode::PRODUCER_FENCED, -1, -1);
    assert_eq!(
        m.handle_response(request.id, 1, fenced, t0),
        Next::Fail(ProducerError::ProducerFenced)
    );
    assert_eq!(events(&mut m), [("commit", Err(ProducerError::ProducerFenced))]);
    assert_eq!(
        m.transaction().state(),
        &TxnState::Fatal(ProducerError::ProducerFenced)
    );
    m.begin("begin", t0 + ms(1));
    assert!(m.poll_request(t0 + ms(1)).is_none(), "nothing is sent any more");
    assert_eq!(events(&mut m), [("begin", Err(ProducerError::ProducerFenced))]);
}

#[test]
fn an_indefinite_end_txn_is_retried_as_the_same_commit_never_an_abort() {
    let t0 = Instant::now();
    let mut m = open_with_partition(TxnProtocol::V1, t0);
    m.end(true, "commit", t0);
    let first = via_coordinator(&mut m, 1, t0);
    let timed_out = ConnectionError::Timeout {
        node_id: 1,
        timeout_ms: 200,
    };
    let now = t0 + ms(200);
    let at = now + BACKOFF;
    assert_eq!(
        m.handle_failure(first.id, timed_out.into(), now),
        Next::Retry { at }
    );
    // Meanwhile an abort is refused: the commit may have happened.
    m.abort_refused_while_committing(now);
    let second = via_coordinator(&mut m, 1, at);
    let lost = ConnectionError::Disconnected {
        node_id: 1,
        cause: Disconnect::ClosedByBroker,
    };
    let at2 = at + BACKOFF;
    assert_eq!(
        m.handle_failure(second.id, lost.into(), at),
        Next::Retry { at: at2 }
    );
    let third = via_coordinator(&mut m, 1, at2);
    for request in [&first, &second, &third] {
        let TxnRequest::EndTxn { request: end, .. } = &request.request else {
            panic!("{request:?}")
        };
        assert!(end.committed, "always the same commit");
    }
    let done = ended(ErrorCode::NONE, -1, -1);
    assert_eq!(m.handle_response(third.id, 1, done, at2), Next::Done);
    assert_eq!(events(&mut m), [("commit", Ok(Answer::Done))]);
    assert_eq!(m.transaction().state(), &TxnState::Ready);
}

impl Manager {
    /// Asks for an abort and checks it is refused as misuse.
    fn abort_refused_while_committing(&mut self, now: Instant) {
        self.end(false, "abort", now);
        let answers = events(self);
        assert!(
            matches!(
                answers.as_slice(),
                [("abort", Err(ProducerError::TransactionalMisuse { .. }))]
            ),
            "{answers:?}"
        );
        assert_eq!(self.transaction().state(), &TxnState::Committing);
    }
}

#[test]
fn many_partitions_asking_with_the_same_epoch_cause_one_bump() {
    let t0 = Instant::now();
    let mut m = manager(false);
    m.init_identity("init", t0);
    let request = m.poll_request(t0).expect("InitProducerId");
    assert_eq!(
        request.target,
        Target::AnyBroker,
        "an idempotent producer has no coordinator"
    );
    assert_eq!(
        m.handle_response(request.id, 0, init(ID, ErrorCode::NONE), t0),
        Next::Done
    );
    assert_eq!(events(&mut m), [("init", Ok(Answer::Identity(ID)))]);

    for _ in 0..3 {
        m.bump_epoch(ID, t0 + ms(1));
    }
    let bump = m.poll_request(t0 + ms(1)).expect("one InitProducerId");
    assert!(m.poll_request(t0 + ms(1)).is_none(), "only one");
    let TxnRequest::InitProducerId(asked) = &bump.request else {
        panic!("{bump:?}")
    };
    assert_eq!(
        (asked.producer_id, asked.producer_epoch),
        (1, 0),
        "KIP-360: bump this identity"
    );
    let bumped = ProducerIdentity {
        producer_id: 1,
        producer_epoch: 1,
    };
    let now = t0 + ms(2);
    assert_eq!(
        m.handle_response(bump.id, 0, init(bumped, ErrorCode::NONE), now),
        Next::Done
    );
    assert_eq!(events(&mut m), [("identity", Ok(Answer::Identity(bumped)))]);
    assert_eq!(m.identity(), Some(bumped));
    // A partition late with the old epoch: already bumped.
    m.bump_epoch(ID, now);
    assert!(m.poll_request(now).is_none());
}

#[test]
fn a_failed_epoch_bump_is_tried_again_after_the_backoff() {
    let t0 = Instant::now();
    let mut m = manager(false);
    m.init_identity("init", t0);
    let request = m.poll_request(t0).unwrap();
    m.handle_response(request.id, 0, init(ID, ErrorCode::NONE), t0);
    events(&mut m);
    m.bump_epoch(ID, t0);
    let bump = m.poll_request(t0).unwrap();
    let refused = init(ID, ErrorCode::CLUSTER_AUTHORIZATION_FAILED);
    let error = broker(ErrorCode::CLUSTER_AUTHORIZATION_FAILED);
    assert_eq!(m.handle_response(bump.id, 0, refused, t0), Next::Fail(error));
    assert!(events(&mut m).is_empty(), "no caller waits for a bump");
    assert_eq!(m.poll_deadline(), Some(t0 + BACKOFF));
    m.handle_timeout(t0 + ms(99));
    assert!(m.poll_request(t0 + ms(99)).is_none());
    m.handle_timeout(t0 + BACKOFF);
    let again = m.poll_request(t0 + BACKOFF).expect("the bump again");
    assert!(matches!(again.request, TxnRequest::InitProducerId(_)));
}

#[test]
fn a_broker_that_cannot_bump_an_epoch_is_asked_for_a_fresh_producer_id() {
    let t0 = Instant::now();
    let mut m = manager(false);
    m.init_identity("init", t0);
    let request = m.poll_request(t0).unwrap();
    m.handle_response(request.id, 0, init(ID, ErrorCode::NONE), t0);
    m.bump_epoch(ID, t0);
    let bump = m.poll_request(t0).unwrap();
    let old_broker = ConnectionError::Encode {
        node_id: 0,
        error: kafka_wire::EncodeError::InvalidForVersion {
            api: ApiKey::InitProducerId,
            version: 2,
            detail: "no producer id before v3",
        },
    };
    assert_eq!(m.handle_failure(bump.id, old_broker.into(), t0), Next::Send);
    let fresh = m.poll_request(t0).expect("at once, no backoff");
    let TxnRequest::InitProducerId(asked) = &fresh.request else {
        panic!("{fresh:?}")
    };
    assert_eq!((asked.producer_id, asked.producer_epoch), (-1, -1));
    let new_id = ProducerIdentity {
        producer_id: 8,
        producer_epoch: 0,
    };
    m.handle_response(fresh.id, 0, init(new_id, ErrorCode::NONE), t0);
    let answers = events(&mut m);
    assert_eq!(answers.last(), Some(&("identity", Ok(Answer::Identity(new_id)))));
}

#[test]
fn protocol_v2_end_txn_adopts_the_identity_it_returns() {
    let t0 = Instant::now();
    let mut m = open_with_partition(TxnProtocol::V2, t0);
    m.end(true, "commit", t0);
    let request = via_coordinator(&mut m, 1, t0);
    let TxnRequest::EndTxn { versions, .. } = &request.request else {
        panic!("{request:?}")
    };
    assert_eq!(versions.map(|v| v.min), Some(5), "KIP-890: EndTxn v5+");
    assert_eq!(
        m.handle_response(request.id, 1, ended(ErrorCode::NONE, 1, 1), t0),
        Next::Done
    );
    let bumped = ProducerIdentity {
        producer_id: 1,
        producer_epoch: 1,
    };
    assert_eq!(
        events(&mut m),
        [
            ("identity", Ok(Answer::Identity(bumped))),
            ("commit", Ok(Answer::Done))
        ]
    );
    assert_eq!(m.identity(), Some(bumped));
}

#[test]
fn protocol_v1_end_txn_keeps_the_identity() {
    let t0 = Instant::now();
    let mut m = open_with_partition(TxnProtocol::V1, t0);
    m.end(false, "abort", t0);
    let request = via_coordinator(&mut m, 1, t0);
    m.handle_response(request.id, 1, ended(ErrorCode::NONE, -1, -1), t0);
    assert_eq!(events(&mut m), [("abort", Ok(Answer::Done))]);
    assert_eq!(m.identity(), Some(ID));
}

#[test]
fn transaction_timeout_not_max_block_bounds_end_txn() {
    let t0 = Instant::now();
    let mut m = open_with_partition(TxnProtocol::V1, t0);
    m.end(true, "commit", t0);
    let request = via_coordinator(&mut m, 3, t0);
    assert_eq!(m.poll_deadline(), Some(t0 + TXN_TIMEOUT));
    m.handle_timeout(t0 + MAX_BLOCK);
    assert!(events(&mut m).is_empty(), "max_block_ms does not bound EndTxn");
    m.handle_timeout(t0 + TXN_TIMEOUT);
    let timed_out = ProducerError::RequestTimedOut {
        broker: BrokerId(3),
        timeout_ms: 5_000,
    };
    assert_eq!(events(&mut m), [("commit", Err(timed_out))]);
    // The same commit may be called again; a late answer is ignored.
    assert_eq!(m.transaction().state(), &TxnState::Committing);
    let late = ended(ErrorCode::NONE, -1, -1);
    assert_eq!(
        m.handle_response(request.id, 3, late, t0 + TXN_TIMEOUT),
        Next::Stale
    );
}

#[test]
fn a_coordinator_not_found_within_max_block_fails_the_call() {
    let t0 = Instant::now();
    let mut m = open(TxnProtocol::V1, t0);
    m.add_partition(Arc::from("t"), 0, "add", t0);
    let find = m.poll_request(t0).unwrap();
    assert_eq!(m.poll_deadline(), Some(t0 + MAX_BLOCK));
    m.handle_timeout(t0 + MAX_BLOCK);
    let not_found = ProducerError::CoordinatorUnavailable {
        key: "txn".to_string(),
        waited_ms: 1000,
    };
    assert_eq!(events(&mut m), [("add", Err(not_found))]);
    assert_eq!(
        m.handle_response(find.id, 0, found(1), t0 + MAX_BLOCK),
        Next::Stale
    );
}

#[test]
fn after_a_v1_sequence_error_begin_bumps_the_epoch_at_the_coordinator_first() {
    let t0 = Instant::now();
    let mut m = open_with_partition(TxnProtocol::V1, t0);
    m.batch_failed(broker(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER));
    m.end(false, "abort", t0);
    let request = via_coordinator(&mut m, 1, t0);
    m.handle_response(request.id, 1, ended(ErrorCode::NONE, -1, -1), t0);
    assert_eq!(events(&mut m), [("abort", Ok(Answer::Done))]);

    m.begin("begin", t0);
    let bump = via_coordinator(&mut m, 1, t0);
    let TxnRequest::InitProducerId(asked) = &bump.request else {
        panic!("{bump:?}")
    };
    assert_eq!(asked.transactional_id.as_deref(), Some("txn"));
    assert_eq!((asked.producer_id, asked.producer_epoch), (1, 0));
    let bumped = ProducerIdentity {
        producer_id: 1,
        producer_epoch: 1,
    };
    assert_eq!(
        m.handle_response(bump.id, 1, init(bumped, ErrorCode::NONE), t0),
        Next::Send
    );
    let features = m.poll_request(t0).expect("then the cluster's protocol");
    assert!(matches!(features.request, TxnRequest::ApiVersions));
    m.handle_response(features.id, 0, cluster(TxnProtocol::V1), t0);
    assert_eq!(
        events(&mut m),
        [
            ("identity", Ok(Answer::Identity(bumped))),
            ("begin", Ok(Answer::Done))
        ]
    );
    assert!(!m.transaction().needs_epoch_bump());
}

#[test]
fn v1_offsets_go_through_add_offsets_then_the_group_coordinator() {
    let t0 = Instant::now();
    let mut m = open(TxnProtocol::V1, t0);
    let offsets = vec![
        ("t".to_string(), 0, 5),
        ("u".to_string(), 0, 1),
        ("t".to_string(), 1, 6),
    ];
    m.send_offsets("group".to_string(), offsets, "offsets", t0);
    let add = via_coordinator(&mut m, 1, t0);
    assert!(matches!(add.request, TxnRequest::AddOffsetsToTxn(_)), "{add:?}");
    let accepted = TxnResponse::AddOffsetsToTxn(AddOffsetsToTxnResponse {
        throttle_time_ms: 0,
        error_code: ErrorCode::NONE,
    });
    assert_eq!(m.handle_response(add.id, 1, accepted, t0), Next::Send);
    let find = m.poll_request(t0).unwrap();
    let TxnRequest::FindCoordinator(asked) = &find.request else {
        panic!("{find:?}")
    };
    assert_eq!(
        (asked.key_type, asked.keys.as_slice()),
        (CoordinatorType::Group, &["group".to_string()][..])
    );
    m.handle_response(find.id, 0, found(2), t0);
    let commit = m.poll_request(t0).unwrap();
    let TxnRequest::TxnOffsetCommit { request, versions } = &commit.request else {
        panic!("{commit:?}")
    };
    assert_eq!(versions.map(|v| v.max), Some(4));
    let grouped: Vec<(&str, usize)> = request
        .topics
        .iter()
        .map(|t| (t.name.as_str(), t.partitions.len()))
        .collect();
    assert_eq!(grouped, [("t", 2), ("u", 1)], "grouped by topic");
    let committed = TxnResponse::TxnOffsetCommit(TxnOffsetCommitResponse {
        throttle_time_ms: 0,
        topics: vec![TxnOffsetCommitResponseTopic {
            name: "t".to_string(),
            partitions: vec![TxnOffsetCommitResponsePartition {
                partition_index: 0,
                error_code: ErrorCode::NONE,
            }],
        }],
    });
    assert_eq!(m.handle_response(commit.id, 2, committed, t0), Next::Done);
    assert_eq!(events(&mut m), [("offsets", Ok(Answer::Done))]);
}

#[test]
fn v2_offsets_skip_add_offsets() {
    let t0 = Instant::now();
    let mut m = open(TxnProtocol::V2, t0);
    m.send_offsets("group".to_string(), vec![("t".to_string(), 0, 5)], "offsets", t0);
    let commit = via_coordinator(&mut m, 2, t0);
    let TxnRequest::TxnOffsetCommit { versions, .. } = &commit.request else {
        panic!("{commit:?}")
    };
    assert_eq!(versions.map(|v| v.min), Some(5));
}

#[test]
fn misuse_is_answered_at_once_without_a_request() {
    let t0 = Instant::now();
    let mut m = open(TxnProtocol::V1, t0);
    m.end(true, "empty commit", t0);
    m.send_offsets(String::new(), Vec::new(), "no group", t0);
    assert!(m.poll_request(t0).is_none(), "an empty transaction ends locally");
    let answers = events(&mut m);
    assert_eq!(answers[0], ("empty commit", Ok(Answer::Done)));
    assert!(matches!(
        answers[1],
        ("no group", Err(ProducerError::TransactionalMisuse { .. }))
    ));

    m.begin("first", t0);
    m.begin("second", t0);
    let answers = events(&mut m);
    assert!(
        matches!(
            answers.as_slice(),
            [("second", Err(ProducerError::TransactionalMisuse { .. }))]
        ),
        "{answers:?}"
    );

    let mut idempotent = manager(false);
    idempotent.begin("begin", t0);
    assert!(matches!(
        events(&mut idempotent).as_slice(),
        [("begin", Err(ProducerError::TransactionalMisuse { .. }))]
    ));
}

#[test]
fn concurrent_operations_each_get_the_answer_to_their_own_request() {
    let t0 = Instant::now();
    let mut m = open(TxnProtocol::V1, t0);
    m.add_partition(Arc::from("t"), 0, "t-0", t0);
    m.add_partition(Arc::from("t"), 1, "t-1", t0);
    let first = m.poll_request(t0).unwrap();
    let second = m.poll_request(t0).unwrap();
    assert!(m.poll_request(t0).is_none());
    // Answered out of order: the second partition's lookup first.
    assert_eq!(m.handle_response(second.id, 0, found(1), t0), Next::Send);
    let second = m.poll_request(t0).unwrap();
    assert_eq!(m.handle_response(first.id, 0, found(1), t0), Next::Send);
    let first = m.poll_request(t0).unwrap();
    let refused = partitions_added(ErrorCode::TOPIC_AUTHORIZATION_FAILED);
    let error = broker(ErrorCode::TOPIC_AUTHORIZATION_FAILED);
    assert_eq!(
        m.handle_response(second.id, 1, refused, t0),
        Next::Fail(error.clone()),
        "not retriable"
    );
    assert_eq!(
        m.handle_response(first.id, 1, partitions_added(ErrorCode::NONE), t0),
        Next::Done
    );
    let versions = TxnProtocol::V1.versions(ApiKey::Produce);
    assert_eq!(
        events(&mut m),
        [
            ("t-1", Err(error.clone())),
            ("t-0", Ok(Answer::ProduceVersions(versions)))
        ]
    );
    assert_eq!(m.transaction().state(), &TxnState::AbortableError(error));
}

/// A TCP connect refused.
fn refused_io() -> ConnectFailure {
    ConnectFailure::Io(IoFailure {
        kind: std::io::ErrorKind::ConnectionRefused,
        message: "refused".into(),
    })
}

#[test]
fn an_idempotent_init_retries_after_the_backoff_then_fails_at_max_block() {
    let t0 = Instant::now();
    let mut m = manager(false);
    m.init_identity("init", t0);
    let mut now = t0;
    let mut attempts = 0;
    let last = loop {
        let request = m.poll_request(now).expect("InitProducerId");
        attempts += 1;
        assert_eq!(
            m.poll_deadline(),
            None,
            "bounded by the connection's request timeout"
        );
        let refused = ConnectionError::Connect {
            node_id: 0,
            addr: "broker0:9092".to_string(),
            cause: refused_io(),
        };
        match m.handle_failure(request.id, refused.into(), now) {
            Next::Retry { at } => {
                assert_eq!(at, now + BACKOFF);
                now = at;
            }
            other => break other,
        }
    };
    assert_eq!(attempts, 10);
    let error = ProducerError::Connection {
        broker: BrokerId(0),
        addr: "broker0:9092".to_string(),
        cause: refused_io(),
    };
    assert_eq!(last, Next::Fail(error.clone()));
    assert_eq!(events(&mut m), [("init", Err(error))]);
    assert_eq!(m.identity(), None);
}

#[test]
fn begin_retries_reading_the_cluster_protocol_and_v2_adds_partitions_without_a_request() {
    let t0 = Instant::now();
    let mut m = manager(true);
    m.init_identity("init", t0);
    let request = via_coordinator(&mut m, 1, t0);
    m.handle_response(request.id, 1, init(ID, ErrorCode::NONE), t0);
    events(&mut m);
    m.begin("begin", t0);
    let features = m.poll_request(t0).unwrap();
    let lost = ConnectionError::Disconnected {
        node_id: 0,
        cause: Disconnect::ClosedByBroker,
    };
    let at = t0 + BACKOFF;
    assert_eq!(m.handle_failure(features.id, lost.into(), t0), Next::Retry { at });
    assert!(events(&mut m).is_empty(), "the begin still waits");
    let features = m.poll_request(at).expect("ApiVersions again");
    assert_eq!(
        m.handle_response(features.id, 0, cluster(TxnProtocol::V2), at),
        Next::Done
    );
    assert_eq!(events(&mut m), [("begin", Ok(Answer::Done))]);
    assert_eq!(m.transaction().protocol(), TxnProtocol::V2);

    m.add_partition(Arc::from("t"), 0, "add", at);
    assert!(m.poll_request(at).is_none(), "Produce v12+ adds the partition");
    let versions = TxnProtocol::V2.versions(ApiKey::Produce);
    assert_eq!(events(&mut m), [("add", Ok(Answer::ProduceVersions(versions)))]);
}
