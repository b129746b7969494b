//! The connection's life on simulated time: no socket, no sleeping.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_wire::api::{ApiKey, VersionRange};
use kafka_wire::messages::api_versions::{ApiVersion, ApiVersionsResponse};
use kafka_wire::{DecodeError, EncodeError, ErrorCode, Writer};

use super::coalesce::PendingBatch;
use super::state::{CallAnswer, ConnectionEvent, ConnectionState, QueuedCall, ReadFailure};
use super::{ConnectionConfig, ConnectionError};
use crate::error::{ConnectFailure, Disconnect, ProtocolViolation};

type State = ConnectionState<&'static str, &'static str>;
type Event = ConnectionEvent<&'static str, &'static str>;
type Log = Rc<RefCell<Vec<String>>>;

const TIMEOUT: Duration = Duration::from_millis(300);
const BACKOFF: Duration = Duration::from_millis(20);
const IDLE: Duration = Duration::from_secs(60);

fn state(max_in_flight: usize) -> State {
    ConnectionState::new(ConnectionConfig {
        request_timeout: TIMEOUT,
        reconnect_backoff: BACKOFF,
        idle_timeout: IDLE,
        max_in_flight,
        ..ConnectionConfig::new(1, "127.0.0.1:9")
    })
}

/// A broker that speaks Metadata v0-12 and Produce v3-7.
fn broker_versions() -> ApiVersionsResponse {
    let api = |key: ApiKey, min, max| ApiVersion {
        api_key: key.code(),
        min_version: min,
        max_version: max,
    };
    ApiVersionsResponse {
        error_code: ErrorCode::NONE,
        api_keys: vec![
            api(ApiKey::ApiVersions, 0, 3),
            api(ApiKey::Metadata, 0, 12),
            api(ApiKey::Produce, 3, 7),
        ],
        throttle_time_ms: 0,
        supported_features: Vec::new(),
        finalized_features_epoch: -1,
        finalized_features: Vec::new(),
        zk_migration_ready: false,
    }
}

/// A Metadata call whose outcome is written to `log` as `name: ...`.
struct TestCall {
    name: &'static str,
    versions: Option<VersionRange>,
    log: Log,
}

struct TestAnswer {
    name: &'static str,
    log: Log,
}

impl QueuedCall for TestCall {
    fn api(&self) -> ApiKey {
        ApiKey::Metadata
    }
    fn versions(&self) -> Option<VersionRange> {
        self.versions
    }
    fn expects_response(&self) -> bool {
        self.name != "unanswered"
    }
    fn encode(&self, version: i16, correlation_id: i32, _: &str) -> Result<Vec<Bytes>, EncodeError> {
        Ok(vec![Bytes::from(format!(
            "{}#{correlation_id}@v{version}",
            self.name
        ))])
    }
    fn into_answer(self: Box<Self>) -> Box<dyn CallAnswer> {
        Box::new(TestAnswer {
            name: self.name,
            log: self.log,
        })
    }
    fn fail(self: Box<Self>, error: ConnectionError) {
        self.log
            .borrow_mut()
            .push(format!("{}: unsent {error}", self.name));
    }
}

impl CallAnswer for TestAnswer {
    fn respond(
        self: Box<Self>,
        _: i32,
        api: ApiKey,
        version: i16,
        id: i32,
        body: &[u8],
    ) -> Result<(), ProtocolViolation> {
        if body.len() > 4 && &body[4..] == b"garbage" {
            self.log.borrow_mut().push(format!("{}: undecodable", self.name));
            let error = DecodeError::UnexpectedEof {
                needed: 1,
                remaining: 0,
            };
            return Err(ProtocolViolation::Undecodable { api, version, error });
        }
        self.log
            .borrow_mut()
            .push(format!("{}: answered #{id} v{version}", self.name));
        Ok(())
    }
    fn fail(self: Box<Self>, error: ConnectionError) {
        self.log.borrow_mut().push(format!("{}: {error}", self.name));
    }
}

fn call(name: &'static str, log: &Log) -> Box<dyn QueuedCall> {
    Box::new(TestCall {
        name,
        versions: None,
        log: log.clone(),
    })
}

fn batch(partition: i32, acks: i16, deadline: Option<Instant>) -> PendingBatch {
    PendingBatch {
        topic: "t".into(),
        partition,
        records: Bytes::from_static(b"records"),
        acks,
        timeout_ms: 1000,
        transactional_id: None,
        deadline,
        versions: None,
    }
}

fn events(s: &mut State) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

/// What was written, as text (the test calls encode themselves as text).
fn writes(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            ConnectionEvent::Write(w) => Some(String::from_utf8_lossy(&w.segments.concat()).into_owned()),
            _ => None,
        })
        .collect()
}

fn frame(correlation_id: i32, rest: &[u8]) -> Vec<u8> {
    let mut body = correlation_id.to_be_bytes().to_vec();
    body.extend_from_slice(rest);
    body
}

/// A Produce v7 response body: every partition of topic `t` succeeded.
fn produce_v7(correlation_id: i32, partitions: &[(i32, i64)]) -> Vec<u8> {
    produce_v7_throttled(correlation_id, partitions, 0)
}

/// Like [`produce_v7`], with the broker's `throttle_time_ms`.
fn produce_v7_throttled(correlation_id: i32, partitions: &[(i32, i64)], throttle_ms: i32) -> Vec<u8> {
    let mut w = Writer::new(false);
    w.i32(correlation_id);
    w.array_len(1).unwrap();
    w.string("t").unwrap();
    w.array_len(partitions.len()).unwrap();
    for &(index, base_offset) in partitions {
        w.i32(index);
        w.i16(0);
        w.i64(base_offset);
        w.i64(-1);
        w.i64(0);
    }
    w.i32(throttle_ms);
    w.into_bytes().to_vec()
}

/// Connects `s` (first attempt) and returns the generation.
fn connect(s: &mut State, now: Instant) -> u64 {
    let generation = match events(s)[..] {
        [ConnectionEvent::Connect { generation }] => generation,
        ref other => panic!("expected a connect, got {other:?}"),
    };
    s.handle_connected(now, generation, broker_versions(), 2);
    generation
}

/// A connection with `names` called, connected and written; returns the
/// state, the generation and the calls' log.
fn with_calls_written(max_in_flight: usize, t0: Instant, names: &[&'static str]) -> (State, u64, Log) {
    let log = Log::default();
    let mut s = state(max_in_flight);
    for name in names {
        s.handle_call(t0, call(name, &log));
    }
    let g = connect(&mut s, t0);
    events(&mut s);
    (s, g, log)
}

#[test]
fn the_first_request_connects_and_goes_out_once_versions_are_negotiated() {
    let t0 = Instant::now();
    let log = Log::default();
    let mut s = state(5);
    assert_eq!(
        s.poll_deadline(),
        None,
        "an idle connection has nothing to wait for"
    );
    s.handle_call(t0, call("meta", &log));
    let g = connect(&mut s, t0);
    let out = events(&mut s);
    assert_eq!(
        writes(&out),
        ["meta#2@v12"],
        "ids continue after the negotiation's"
    );
    s.handle_frame(t0, g, &frame(2, b""));
    assert_eq!(*log.borrow(), ["meta: answered #2 v12"]);
}

#[test]
fn batches_queued_together_are_one_request_and_each_partition_gets_its_result() {
    let t0 = Instant::now();
    let mut s = state(5);
    s.handle_produce(batch(0, 1, None), "p0");
    s.handle_produce(batch(1, 1, None), "p1");
    s.handle_produce(batch(0, 1, None), "p0-again");
    s.handle_flush(t0);
    let g = connect(&mut s, t0);
    let out = events(&mut s);
    assert_eq!(
        writes(&out).len(),
        2,
        "a second batch for partition 0 goes in the next request"
    );
    s.handle_frame(t0, g, &produce_v7(2, &[(1, 10), (0, 20)]));
    let results: Vec<_> = events(&mut s)
        .into_iter()
        .map(|e| match e {
            ConnectionEvent::Produced(p, r) => (p, r.unwrap().base_offset),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(results, [("p0", 20), ("p1", 10)]);
}

#[test]
fn acks_zero_batches_resolve_on_write_and_acks_zero_calls_are_refused() {
    let t0 = Instant::now();
    let log = Log::default();
    let mut s = state(1);
    s.handle_call(t0, call("unanswered", &log));
    assert!(
        log.borrow()[0].starts_with("unanswered: unsent"),
        "{:?}",
        log.borrow()
    );
    assert!(events(&mut s).is_empty(), "a refused call does not connect");

    s.handle_produce(batch(0, 0, None), "p0");
    s.handle_flush(t0);
    connect(&mut s, t0);
    match &events(&mut s)[..] {
        [ConnectionEvent::Write(w)] => assert_eq!(w.no_ack, ["p0"]),
        other => panic!("expected one write, got {other:?}"),
    }
    // Nothing is in flight: a call still fits under max_in_flight = 1.
    s.handle_call(t0, call("meta", &log));
    assert_eq!(writes(&events(&mut s)).len(), 1);
}

#[test]
fn a_failed_connect_fails_what_is_queued_and_waits_out_the_backoff() {
    let t0 = Instant::now();
    let log = Log::default();
    let mut s = state(5);
    s.handle_call(t0, call("first", &log));
    s.handle_get_versions(t0, "waiter");
    let g = match events(&mut s)[..] {
        [ConnectionEvent::Connect { generation }] => generation,
        ref other => panic!("expected a connect, got {other:?}"),
    };
    s.handle_connect_failed(t0, g, ConnectFailure::TimedOut { after_ms: 10 });
    assert!(
        log.borrow()[0].contains("could not connect"),
        "{:?}",
        log.borrow()
    );
    assert!(matches!(
        &events(&mut s)[..],
        [ConnectionEvent::Versions(
            "waiter",
            Err(ConnectionError::Connect { .. })
        )]
    ));
    assert_eq!(s.phase(), "backoff");
    assert_eq!(s.poll_deadline(), Some(t0 + BACKOFF));

    s.handle_call(t0 + BACKOFF / 2, call("second", &log));
    assert!(events(&mut s).is_empty(), "no attempt during the backoff");
    s.handle_timeout(t0 + BACKOFF);
    assert!(matches!(
        events(&mut s)[..],
        [ConnectionEvent::Connect { generation: 2 }]
    ));
    s.handle_connected(t0 + BACKOFF, 1, broker_versions(), 2);
    assert_eq!(
        s.phase(),
        "connecting",
        "a late answer of the first attempt is ignored"
    );
}

#[test]
fn a_request_past_its_timeout_fails_closes_the_connection_and_the_queue_survives() {
    let t0 = Instant::now();
    let (mut s, g, log) = with_calls_written(1, t0, &["slow"]);
    s.handle_call(t0, call("queued", &log));
    assert!(events(&mut s).is_empty(), "max_in_flight = 1");
    assert_eq!(s.poll_deadline(), Some(t0 + TIMEOUT));

    s.handle_timeout(t0 + TIMEOUT);
    assert_eq!(
        *log.borrow(),
        ["slow: request to node 1 timed out after 300 ms (outcome unknown)"]
    );
    assert!(matches!(events(&mut s)[..], [ConnectionEvent::Close { generation }] if generation == g));
    s.handle_timeout(t0 + TIMEOUT + BACKOFF);
    let g2 = connect(&mut s, t0 + TIMEOUT + BACKOFF);
    assert_eq!(writes(&events(&mut s)), ["queued#2@v12"]);
    s.handle_frame(t0, g, &frame(2, b""));
    assert_eq!(log.borrow().len(), 1, "an event of the old socket is ignored");
    s.handle_frame(t0, g2, &frame(2, b""));
    assert_eq!(log.borrow()[1], "queued: answered #2 v12");
}

#[test]
fn an_unused_connection_closes_after_the_idle_timeout_and_the_next_request_reconnects() {
    let t0 = Instant::now();
    let (mut s, g, log) = with_calls_written(5, t0, &["meta"]);
    let t1 = t0 + Duration::from_secs(1);
    s.handle_frame(t1, g, &frame(2, b""));
    assert_eq!(
        s.poll_deadline(),
        Some(t1 + IDLE),
        "idle counts from the last read"
    );
    s.handle_timeout(t1 + IDLE - Duration::from_millis(1));
    assert_eq!(s.phase(), "connected");
    s.handle_timeout(t1 + IDLE);
    assert!(matches!(events(&mut s)[..], [ConnectionEvent::Close { .. }]));
    assert_eq!(s.phase(), "idle", "no backoff after an idle close");
    s.handle_call(t1 + IDLE, call("later", &log));
    assert!(matches!(
        events(&mut s)[..],
        [ConnectionEvent::Connect { generation: 2 }]
    ));
}

#[test]
fn a_stray_or_out_of_order_correlation_id_or_an_undecodable_answer_fails_everything_in_flight() {
    let t0 = Instant::now();
    let (mut s, g, log) = with_calls_written(5, t0, &["a", "b"]);
    s.handle_frame(t0, g, &frame(99, b""));
    let log_now = log.borrow().clone();
    assert!(
        log_now
            .iter()
            .all(|l| l.contains("correlation id 99 while 2 was due")),
        "{log_now:?}"
    );
    assert_eq!(log_now.len(), 2);

    // The answer to the second request before the first: out of order.
    let (mut s, g, log) = with_calls_written(5, t0, &["a", "b"]);
    s.handle_frame(t0, g, &frame(3, b""));
    let log_now = log.borrow().clone();
    assert!(
        log_now
            .iter()
            .all(|l| l.contains("correlation id 3 while 2 was due")),
        "{log_now:?}"
    );
    assert_eq!(log_now.len(), 2, "both fail: the stream cannot be trusted");

    let (mut s, g, log) = with_calls_written(5, t0, &["a", "b"]);
    s.handle_frame(t0, g, &frame(2, b"garbage"));
    assert_eq!(log.borrow()[0], "a: undecodable");
    assert!(
        log.borrow()[1].starts_with("b: connection to node 1 lost"),
        "{:?}",
        log.borrow()
    );
}

#[test]
fn a_lost_connection_fails_the_batches_in_flight_as_unknown() {
    let t0 = Instant::now();
    let mut s = state(5);
    s.handle_produce(batch(0, -1, None), "p0");
    s.handle_flush(t0);
    let g = connect(&mut s, t0);
    events(&mut s);
    s.handle_read_failed(t0, g, ReadFailure::Closed(Disconnect::ClosedByBroker));
    let out = events(&mut s);
    assert!(matches!(
        &out[..],
        [ConnectionEvent::Close { .. }, ConnectionEvent::Produced("p0", Err(e))] if e.maybe_sent()
    ));
}

#[test]
fn an_unwritten_batch_expires_at_its_deadline_while_connecting() {
    let t0 = Instant::now();
    let mut s = state(5);
    let deadline = t0 + Duration::from_millis(50);
    s.handle_produce(batch(0, 1, Some(deadline)), "p0");
    s.handle_flush(t0);
    events(&mut s);
    assert_eq!(s.poll_deadline(), Some(deadline));
    s.handle_timeout(deadline);
    assert!(matches!(
        events(&mut s)[..],
        [ConnectionEvent::Produced(
            "p0",
            Err(ConnectionError::Expired { node_id: 1 })
        )]
    ));
}

#[test]
fn a_call_outside_the_negotiated_versions_fails_unsent() {
    let t0 = Instant::now();
    let log = Log::default();
    let mut s = state(5);
    s.handle_call(
        t0,
        Box::new(TestCall {
            name: "future",
            versions: Some(VersionRange { min: 13, max: 14 }),
            log: log.clone(),
        }),
    );
    connect(&mut s, t0);
    assert!(writes(&events(&mut s)).is_empty());
    assert!(
        log.borrow()[0].contains("supports no version"),
        "{:?}",
        log.borrow()
    );
}

#[test]
fn close_fails_in_flight_as_unknown_and_queued_as_closed() {
    let t0 = Instant::now();
    let log = Log::default();
    let mut s = state(1);
    s.handle_call(t0, call("sent", &log));
    connect(&mut s, t0);
    events(&mut s);
    s.handle_call(t0, call("queued", &log));
    s.handle_produce(batch(0, 1, None), "p0");
    s.close();
    assert!(
        log.borrow()[0].starts_with("sent: connection to node 1 lost"),
        "{:?}",
        log.borrow()
    );
    assert_eq!(
        log.borrow()[1],
        "queued: unsent the connection to node 1 is closed"
    );
    assert!(matches!(
        &events(&mut s)[..],
        [
            ConnectionEvent::Close { .. },
            ConnectionEvent::Produced("p0", Err(ConnectionError::Closed { .. }))
        ]
    ));
}

#[test]
fn versions_are_answered_at_once_when_connected() {
    let t0 = Instant::now();
    let mut s = state(5);
    s.handle_get_versions(t0, "first");
    connect(&mut s, t0);
    assert!(matches!(
        events(&mut s)[..],
        [ConnectionEvent::Versions("first", Ok(_))]
    ));
    s.handle_get_versions(t0, "second");
    assert!(matches!(
        events(&mut s)[..],
        [ConnectionEvent::Versions("second", Ok(_))]
    ));
}

#[test]
fn a_sasl_session_is_renewed_by_draining_then_reconnecting_without_failing_or_reordering() {
    let t0 = Instant::now();
    let long_timeout = Duration::from_secs(5);
    let log = Log::default();
    let mut s: State = ConnectionState::new(ConnectionConfig {
        request_timeout: long_timeout,
        idle_timeout: IDLE,
        ..ConnectionConfig::new(1, "127.0.0.1:9")
    });
    s.handle_call(t0, call("first", &log));
    let g = connect(&mut s, t0);
    events(&mut s);
    // Shorter than the request timeout, so renewal comes first.
    let lifetime = Duration::from_millis(1000);
    s.handle_session_lifetime(t0, g, lifetime);
    let renew_at = t0 + lifetime.mul_f64(super::state::SESSION_RENEWAL_FRACTION);
    assert_eq!(s.poll_deadline(), Some(renew_at));

    // Renewal is due while "first" is in flight: nothing new is written.
    s.handle_timeout(renew_at);
    s.handle_call(renew_at, call("second", &log));
    s.handle_call(renew_at, call("third", &log));
    assert!(writes(&events(&mut s)).is_empty(), "no write once renewal is due");
    assert_eq!(
        s.poll_deadline(),
        Some(t0 + long_timeout),
        "only the answer in flight (or its timeout) is awaited"
    );

    // The answer comes back on the old connection, which then closes and reconnects at once.
    let t1 = renew_at + Duration::from_millis(5);
    s.handle_frame(t1, g, &frame(2, b""));
    match &events(&mut s)[..] {
        [ConnectionEvent::Close { generation: closed }, ConnectionEvent::Connect { generation: next }] => {
            assert_eq!((*closed, *next), (g, g + 1));
        }
        other => panic!("expected close then connect, got {other:?}"),
    }
    s.handle_connected(t1, g + 1, broker_versions(), 2);
    assert_eq!(
        writes(&events(&mut s)),
        ["second#2@v12", "third#3@v12"],
        "queued calls keep their order"
    );
    assert_eq!(*log.borrow(), ["first: answered #2 v12"], "nothing failed");
}

#[test]
fn an_idle_connection_whose_session_ends_closes_quietly() {
    let t0 = Instant::now();
    let (mut s, g, _log) = with_calls_written(5, t0, &["only"]);
    s.handle_frame(t0, g, &frame(2, b""));
    s.handle_session_lifetime(t0, g, Duration::from_secs(10));
    s.handle_timeout(t0 + Duration::from_millis(8500));
    assert!(matches!(events(&mut s)[..], [ConnectionEvent::Close { .. }]));
    assert_eq!(s.phase(), "idle", "no reconnect without work");
}

#[test]
fn a_tiny_session_lifetime_is_not_a_reconnect_loop() {
    let t0 = Instant::now();
    let (mut s, g, _log) = with_calls_written(5, t0, &["only"]);
    s.handle_frame(t0, g, &frame(2, b""));
    s.handle_session_lifetime(t0, g, Duration::from_millis(1));
    assert_eq!(s.poll_deadline(), Some(t0 + super::state::MIN_SESSION_RENEWAL));
    s.handle_timeout(t0 + Duration::from_millis(2));
    assert!(events(&mut s).is_empty(), "still connected");
    assert_eq!(s.phase(), "connected");
}

#[test]
fn a_throttled_answer_mutes_the_connection_for_the_throttle_time_bounded() {
    let t0 = Instant::now();
    let mut s = state(5);
    s.handle_produce(batch(0, 1, None), "first");
    s.handle_flush(t0);
    let g = connect(&mut s, t0);
    assert_eq!(writes(&events(&mut s)).len(), 1);
    // KIP-219: the broker answers at once and asks us to wait 1 s.
    s.handle_frame(t0, g, &produce_v7_throttled(2, &[(0, 5)], 1000));
    events(&mut s);
    s.handle_produce(batch(0, 1, None), "second");
    s.handle_flush(t0 + Duration::from_millis(10));
    assert!(writes(&events(&mut s)).is_empty(), "muted");
    assert_eq!(s.poll_deadline(), Some(t0 + Duration::from_millis(1000)));
    s.handle_timeout(t0 + Duration::from_millis(1000));
    assert_eq!(writes(&events(&mut s)).len(), 1, "written once the pause ends");

    // i32::MAX (24 days) is capped.
    let mut s = state(5);
    s.handle_produce(batch(0, 1, None), "first");
    s.handle_flush(t0);
    let g = connect(&mut s, t0);
    events(&mut s);
    s.handle_frame(t0, g, &produce_v7_throttled(2, &[(0, 5)], i32::MAX));
    events(&mut s);
    s.handle_produce(batch(0, 1, None), "second");
    s.handle_flush(t0);
    assert_eq!(s.poll_deadline(), Some(t0 + super::state::MAX_THROTTLE));
    s.handle_timeout(t0 + super::state::MAX_THROTTLE);
    assert_eq!(writes(&events(&mut s)).len(), 1);
}
