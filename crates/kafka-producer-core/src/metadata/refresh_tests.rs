//! The metadata manager on simulated time; reply handles are numbers.

use super::*;
use crate::error::IoFailure;
use kafka_wire::messages::metadata::{MetadataBroker, MetadataPartition, MetadataTopic};

const MS: Duration = Duration::from_millis(1);

type Manager = MetadataManager<u32, u32, u32>;

/// A refresh that failed because the broker refused the connection.
fn refused() -> ProducerError {
    ProducerError::Connection {
        broker: BrokerId(-1),
        addr: "b1:9092".into(),
        cause: ConnectFailure::Io(IoFailure {
            kind: std::io::ErrorKind::ConnectionRefused,
            message: "connection refused".into(),
        }),
    }
}

fn manager() -> Manager {
    MetadataManager::new(RefreshConfig {
        bootstrap: vec!["b1:9092".into(), "b2:9092".into()],
        max_age: 1000 * MS,
        retry_backoff: 100 * MS,
    })
}

fn response(topics: &[(&str, ErrorCode, i32)]) -> MetadataResponse {
    MetadataResponse {
        throttle_time_ms: 0,
        brokers: vec![MetadataBroker {
            node_id: 7,
            host: "h7".into(),
            port: 1,
            rack: None,
        }],
        cluster_id: None,
        controller_id: 7,
        topics: topics
            .iter()
            .map(|&(name, error_code, partitions)| MetadataTopic {
                error_code,
                name: Some(name.into()),
                topic_id: [0; 16],
                is_internal: false,
                partitions: (0..partitions)
                    .map(|index| MetadataPartition {
                        error_code: ErrorCode::NONE,
                        partition_index: index,
                        leader_id: 7,
                        leader_epoch: 0,
                        replica_nodes: vec![7],
                        isr_nodes: vec![7],
                        offline_replicas: vec![],
                    })
                    .collect(),
                topic_authorized_operations: i32::MIN,
            })
            .collect(),
        cluster_authorized_operations: i32::MIN,
    }
}

/// The events so far, summarised: `topic 1 ok`, `leader 2 err`, ...
fn drain(m: &mut Manager) -> Vec<String> {
    std::iter::from_fn(|| m.poll_event())
        .map(|event| match event {
            MetadataEvent::Topic(id, r) => format!("topic {id} {}", if r.is_ok() { "ok" } else { "err" }),
            MetadataEvent::Leader(id, r) => format!("leader {id} {}", if r.is_ok() { "ok" } else { "err" }),
            MetadataEvent::Cluster(id, r) => format!("cluster {id} {}", if r.is_ok() { "ok" } else { "err" }),
            MetadataEvent::TopicsUpdated(topics) => format!("updated {}", topics.len()),
        })
        .collect()
}

#[test]
fn the_first_refresh_asks_the_bootstrap_list_and_one_at_a_time() {
    let t0 = Instant::now();
    let mut m = manager();
    let first = m.poll_refresh(t0).expect("a refresh is due at start");
    assert_eq!((first.node_id, first.addr.as_str()), (-1, "b1:9092"));
    m.handle_get_topic("t".into(), t0 + 500 * MS, 1, t0);
    assert_eq!(m.poll_refresh(t0), None, "never two refreshes at once");
    m.handle_refresh_response(&response(&[]), t0 + MS);
    // The answer did not know "t" (it was not asked yet): asked after the backoff.
    assert_eq!(m.poll_refresh(t0 + 100 * MS), None);
    let next = m
        .poll_refresh(t0 + 101 * MS)
        .expect("the topic asked meanwhile is asked next");
    assert_eq!(next.topics, ["t"]);
    assert_eq!(
        (next.node_id, next.addr.as_str()),
        (7, "h7:1"),
        "known brokers replace the bootstrap list"
    );
}

#[test]
fn a_topic_waiter_is_answered_when_the_topic_arrives() {
    let t0 = Instant::now();
    let mut m = manager();
    m.handle_get_topic("t".into(), t0 + 500 * MS, 1, t0);
    m.poll_refresh(t0).unwrap();
    m.handle_refresh_response(&response(&[("t", ErrorCode::NONE, 3)]), t0 + MS);
    assert_eq!(drain(&mut m), ["updated 1", "topic 1 ok"]);
    // Known now: answered at once, no refresh needed.
    m.handle_get_topic("t".into(), t0 + 500 * MS, 2, t0 + 2 * MS);
    assert_eq!(drain(&mut m), ["topic 2 ok"]);
    assert_eq!(m.poll_refresh(t0 + 2 * MS), None);
}

#[test]
fn a_missing_topic_is_asked_again_after_the_backoff_until_the_deadline() {
    let t0 = Instant::now();
    let mut m = manager();
    m.handle_get_topic("t".into(), t0 + 250 * MS, 1, t0);
    m.poll_refresh(t0).unwrap();
    m.handle_refresh_response(&response(&[("t", ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, 0)]), t0);
    assert_eq!(drain(&mut m), ["updated 0"]);
    assert_eq!(m.poll_refresh(t0 + 99 * MS), None, "backing off");
    assert!(m.poll_refresh(t0 + 100 * MS).is_some());
    m.handle_refresh_response(
        &response(&[("t", ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, 0)]),
        t0 + 100 * MS,
    );
    drain(&mut m);
    m.handle_timeout(t0 + 249 * MS);
    assert!(drain(&mut m).is_empty());
    m.handle_timeout(t0 + 250 * MS);
    match m.poll_event() {
        Some(MetadataEvent::Topic(1, Err(ProducerError::UnknownTopic { waited_ms: 250, .. }))) => {}
        other => panic!("expected UnknownTopic after 250 ms, got {other:?}"),
    }
}

#[test]
fn a_topic_the_broker_refuses_fails_at_once() {
    let t0 = Instant::now();
    let mut m = manager();
    m.handle_get_topic("t".into(), t0 + 500 * MS, 1, t0);
    m.poll_refresh(t0).unwrap();
    m.handle_refresh_response(&response(&[("t", ErrorCode::TOPIC_AUTHORIZATION_FAILED, 0)]), t0);
    match std::iter::from_fn(|| m.poll_event()).last() {
        Some(MetadataEvent::Topic(1, Err(ProducerError::Broker { code, .. }))) => {
            assert_eq!(code, ErrorCode::TOPIC_AUTHORIZATION_FAILED)
        }
        other => panic!("expected the broker's error, got {other:?}"),
    }
}

#[test]
fn a_failed_refresh_rotates_brokers_backs_off_and_answers_leader_waiters() {
    let t0 = Instant::now();
    let mut m = manager();
    m.poll_refresh(t0).unwrap();
    m.handle_get_leader("t".into(), 0, true, 5);
    m.handle_refresh_failed(refused(), t0);
    assert_eq!(drain(&mut m), ["leader 5 err"]);
    assert_eq!(m.poll_refresh(t0 + 50 * MS), None);
    let retry = m.poll_refresh(t0 + 100 * MS).unwrap();
    assert_eq!((retry.node_id, retry.addr.as_str()), (-2, "b2:9092"));
}

#[test]
fn leader_waiters_wait_for_the_next_refresh_when_asked_to() {
    let t0 = Instant::now();
    let mut m = manager();
    m.handle_get_topic("t".into(), t0 + 1000 * MS, 9, t0);
    m.poll_refresh(t0).unwrap();
    m.handle_refresh_response(&response(&[("t", ErrorCode::NONE, 2)]), t0);
    drain(&mut m);
    m.handle_get_leader("t".into(), 1, false, 1);
    assert_eq!(drain(&mut m), ["leader 1 ok"]);
    m.handle_get_leader("t".into(), 1, true, 2);
    m.handle_get_leader("t".into(), 9, false, 3);
    assert!(drain(&mut m).is_empty());
    assert!(
        m.poll_refresh(t0).is_some(),
        "a stale leader asks for a refresh at once"
    );
    m.handle_refresh_response(&response(&[("t", ErrorCode::NONE, 2)]), t0 + MS);
    assert_eq!(drain(&mut m), ["updated 1", "leader 2 ok", "leader 3 err"]);
    assert_eq!(m.leader("t", 1), Some((7, "h7:1".to_string())));
}

#[test]
fn metadata_is_refreshed_when_older_than_max_age() {
    let t0 = Instant::now();
    let mut m = manager();
    m.poll_refresh(t0).unwrap();
    m.handle_refresh_response(&response(&[]), t0);
    assert_eq!(m.poll_refresh(t0 + 999 * MS), None);
    assert!(m.poll_refresh(t0 + 1000 * MS).is_some());
}

#[test]
fn a_cluster_waiter_without_any_answer_learns_that_no_broker_answered() {
    let t0 = Instant::now();
    let mut m = manager();
    m.handle_await_cluster(t0 + 300 * MS, 1);
    m.poll_refresh(t0).unwrap();
    m.handle_timeout(t0 + 300 * MS);
    match m.poll_event() {
        Some(MetadataEvent::Cluster(
            1,
            Err(ProducerError::Connection {
                broker,
                addr,
                cause: ConnectFailure::NoBrokerAnswered,
            }),
        )) => assert_eq!((broker, addr.as_str()), (BrokerId(-1), "b1:9092,b2:9092")),
        other => panic!("expected no broker answered, got {other:?}"),
    }
}

#[test]
fn cluster_waiters_get_the_first_success_or_the_last_error_at_their_deadline() {
    let t0 = Instant::now();
    let mut m = manager();
    m.handle_await_cluster(t0 + 300 * MS, 1);
    m.poll_refresh(t0).unwrap();
    m.handle_refresh_failed(refused(), t0);
    m.handle_timeout(t0 + 300 * MS);
    match m.poll_event() {
        Some(MetadataEvent::Cluster(1, Err(error))) => assert_eq!(error, refused()),
        other => panic!("expected the last error, got {other:?}"),
    }
    m.handle_await_cluster(t0 + 900 * MS, 2);
    m.poll_refresh(t0 + 400 * MS).unwrap();
    m.handle_refresh_response(&response(&[]), t0 + 400 * MS);
    assert_eq!(drain(&mut m), ["cluster 2 ok", "updated 0"]);
    m.handle_await_cluster(t0 + 900 * MS, 3);
    assert_eq!(drain(&mut m), ["cluster 3 ok"]);
}

#[test]
fn close_answers_every_waiter() {
    let t0 = Instant::now();
    let mut m = manager();
    m.handle_get_topic("t".into(), t0 + 500 * MS, 1, t0);
    m.handle_get_leader("t".into(), 0, true, 2);
    m.handle_await_cluster(t0 + 500 * MS, 3);
    m.close(ProducerError::Closed);
    assert_eq!(drain(&mut m), ["topic 1 err", "leader 2 err", "cluster 3 err"]);
}

/// A refresh that failed because the broker's certificate is not trusted.
fn untrusted() -> ProducerError {
    ProducerError::Connection {
        broker: BrokerId(-1),
        addr: "b1:9093".into(),
        cause: ConnectFailure::Tls(crate::error::TlsFailure::UnknownIssuer),
    }
}

#[test]
fn an_authentication_failure_answers_every_waiter_at_once_and_slows_refreshes() {
    let t0 = Instant::now();
    let mut m = manager();
    m.handle_await_cluster(t0 + 60_000 * MS, 1);
    m.handle_get_topic("t".into(), t0 + 60_000 * MS, 2, t0);
    let refresh = m.poll_refresh(t0).expect("first refresh");
    assert_eq!(refresh.node_id, -1);
    m.handle_refresh_failed(untrusted(), t0 + 5 * MS);
    let mut answered = Vec::new();
    while let Some(event) = m.poll_event() {
        match event {
            MetadataEvent::Cluster(1, Err(e)) | MetadataEvent::Topic(2, Err(e)) => {
                assert!(e.is_authentication() && e.is_fatal(), "{e}");
                answered.push(e);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        answered.len(),
        2,
        "both waiters answered without waiting for their deadline"
    );
    // The next attempt waits a second, not retry_backoff (100 ms).
    assert!(m.poll_refresh(t0 + 500 * MS).is_none());
    assert!(m.poll_refresh(t0 + 1006 * MS).is_some());
}

#[test]
fn a_refused_connection_keeps_waiters_waiting() {
    let t0 = Instant::now();
    let mut m = manager();
    m.handle_await_cluster(t0 + 60_000 * MS, 1);
    m.poll_refresh(t0).expect("first refresh");
    m.handle_refresh_failed(refused(), t0 + 5 * MS);
    assert!(
        m.poll_event().is_none(),
        "a retriable failure is retried until the deadline"
    );
    assert!(m.poll_refresh(t0 + 105 * MS).is_some());
}

#[test]
fn once_every_known_broker_failed_the_bootstrap_list_is_asked_again() {
    let t0 = Instant::now();
    let mut m = manager();
    m.poll_refresh(t0).expect("first refresh");
    m.handle_refresh_response(&response(&[]), t0);
    // Node 7 (h7:1) is the only known broker; the bootstrap list is not asked.
    assert_eq!(m.any_broker(), (7, "h7:1".to_string()));
    m.rotate_broker();
    assert_eq!(m.any_broker(), (7, "h7:1".to_string()));

    m.handle_refresh_failed(refused(), t0 + MS);
    // Every known broker failed: the rotation is node 7, then b1, b2.
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(m.any_broker());
        m.rotate_broker();
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            (-2, "b2:9092".to_string()),
            (-1, "b1:9092".to_string()),
            (7, "h7:1".to_string())
        ]
    );

    // A success forgets the failures.
    m.handle_refresh_response(&response(&[]), t0 + 2 * MS);
    for _ in 0..3 {
        assert_eq!(m.any_broker().0, 7);
        m.rotate_broker();
    }
}

#[test]
fn topics_nobody_asked_about_are_not_kept() {
    let t0 = Instant::now();
    let mut m = manager();
    m.handle_get_topic("t".into(), t0 + 1000 * MS, 1, t0);
    m.poll_refresh(t0).expect("refresh");
    // The answer names t and 1000 topics nobody asked about.
    let mut topics: Vec<(String, ErrorCode, i32)> =
        (0..1000).map(|i| (format!("x{i}"), ErrorCode::NONE, 1)).collect();
    topics.push(("t".into(), ErrorCode::NONE, 1));
    let named: Vec<(&str, ErrorCode, i32)> = topics.iter().map(|(n, c, p)| (n.as_str(), *c, *p)).collect();
    m.handle_refresh_response(&response(&named), t0 + MS);
    assert!(m.cluster().topic("t").is_some());
    assert!(m.cluster().topic("x0").is_none() && m.cluster().topic("x999").is_none());
}
