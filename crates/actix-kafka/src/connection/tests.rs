//! Actor tests against a tiny scripted broker on 127.0.0.1.
//!
//! The fake broker parses request headers (and produce request bodies) with
//! `kafka_wire`'s reader and hand-encodes the few responses it needs. It
//! advertises `ApiVersions` only up to v3, so every connection also exercises
//! the `UNSUPPORTED_VERSION` fallback.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::{Actor, Addr};
use bytes::{Bytes, BytesMut};
use kafka_wire::api::ApiKey;
use kafka_wire::frame::FrameDecoder;
use kafka_wire::messages::init_producer_id::InitProducerIdRequest;
use kafka_wire::messages::metadata::MetadataRequest;
use kafka_wire::messages::produce::ProduceRequest;
use kafka_wire::{ErrorCode, Reader, Writer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// A request as the fake broker saw it.
#[derive(Debug, Clone)]
struct Seen {
    /// 1-based index of the connection it arrived on.
    conn: usize,
    api_key: i16,
    version: i16,
    correlation_id: i32,
    body: Bytes,
}

/// What the fake broker does with a request.
enum Action {
    /// Answer with this body (the header is added).
    Reply(Vec<u8>),
    /// Wait, then answer with this body.
    ReplyAfter(Duration, Vec<u8>),
    /// Send these bytes as they are (size prefix included).
    Raw(Vec<u8>),
    /// Send nothing.
    Ignore,
    /// Close the connection.
    Close,
}

#[derive(Default)]
struct Stats {
    connections: AtomicUsize,
    /// Every request after the handshake, in arrival order.
    requests: Mutex<Vec<Seen>>,
    /// Every produce request.
    produce: Mutex<Vec<SeenProduce>>,
    /// Whether a request arrived while an earlier one was still unanswered.
    pipelined: AtomicBool,
}

/// One produce request: acks and `(topic, partition, records)`.
type SeenProduce = (i16, Vec<(String, i32, Bytes)>);

type Script = Arc<dyn Fn(&Seen, &Stats) -> Action + Send + Sync>;

struct FakeBroker {
    addr: String,
    stats: Arc<Stats>,
}

const PRODUCE_MAX_VERSION: i16 = 9;

fn start_broker(script: impl Fn(&Seen, &Stats) -> Action + Send + Sync + 'static) -> FakeBroker {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let stats = Arc::new(Stats::default());
    let script: Script = Arc::new(script);
    let server_stats = stats.clone();
    actix_rt::spawn(async move {
        let listener = TcpListener::from_std(listener).unwrap();
        while let Ok((socket, _)) = listener.accept().await {
            let conn = server_stats.connections.fetch_add(1, Ordering::SeqCst) + 1;
            actix_rt::spawn(serve(socket, conn, script.clone(), server_stats.clone()));
        }
    });
    FakeBroker { addr, stats }
}

fn normal_broker() -> FakeBroker {
    start_broker(default_action)
}

async fn serve(mut socket: TcpStream, conn: usize, script: Script, stats: Arc<Stats>) {
    let decoder = FrameDecoder::new(1 << 20);
    let mut buf = BytesMut::new();
    loop {
        let frame = loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => break frame,
                Ok(None) => {}
                Err(_) => return,
            }
            match socket.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        };
        let Some(seen) = parse_request(conn, &frame) else {
            return;
        };
        if seen.api_key != ApiKey::ApiVersions.code() {
            stats.requests.lock().unwrap().push(seen.clone());
        }
        let (delay, bytes) = match script(&seen, &stats) {
            Action::Reply(body) => (None, response_frame(&seen, &body)),
            Action::ReplyAfter(delay, body) => (Some(delay), response_frame(&seen, &body)),
            Action::Raw(bytes) => (None, bytes),
            Action::Ignore => continue,
            Action::Close => return,
        };
        if let Some(delay) = delay {
            actix_rt::time::sleep(delay).await;
            let _ = socket.try_read_buf(&mut buf);
            if !buf.is_empty() {
                stats.pipelined.store(true, Ordering::SeqCst);
            }
        }
        if socket.write_all(&bytes).await.is_err() {
            return;
        }
    }
}

fn parse_request(conn: usize, frame: &[u8]) -> Option<Seen> {
    let mut r = Reader::new(frame, false);
    let api_key = r.i16().ok()?;
    let version = r.i16().ok()?;
    let correlation_id = r.i32().ok()?;
    r.nullable_string("client_id").ok()?;
    if ApiKey::from_code(api_key)?.request_header_version(version) >= 2 {
        r.set_flexible(true);
        r.skip_tagged_fields().ok()?;
    }
    Some(Seen {
        conn,
        api_key,
        version,
        correlation_id,
        body: Bytes::copy_from_slice(r.rest()),
    })
}

/// Size prefix, response header (v1 for flexible non-ApiVersions), body.
fn response_frame(seen: &Seen, body: &[u8]) -> Vec<u8> {
    let mut header = seen.correlation_id.to_be_bytes().to_vec();
    let api = ApiKey::from_code(seen.api_key).unwrap();
    if api.response_header_version(seen.version) >= 1 {
        header.push(0);
    }
    raw_frame(&[header, body.to_vec()].concat())
}

fn raw_frame(payload: &[u8]) -> Vec<u8> {
    [(payload.len() as i32).to_be_bytes().to_vec(), payload.to_vec()].concat()
}

fn default_action(seen: &Seen, stats: &Stats) -> Action {
    match ApiKey::from_code(seen.api_key) {
        Some(ApiKey::ApiVersions) => Action::Reply(api_versions_body(seen.version)),
        Some(ApiKey::Metadata) => Action::Reply(metadata_v4_body()),
        Some(ApiKey::Produce) => produce_action(seen, stats),
        _ => Action::Close,
    }
}

/// `ApiVersions` 0..=3, `Metadata` 0..=4, `Produce` 3..=9; at v4 an
/// `UNSUPPORTED_VERSION` answer in the v0 format.
fn api_versions_body(version: i16) -> Vec<u8> {
    let keys: &[(i16, i16, i16)] = if version > 3 {
        &[(18, 0, 3)]
    } else {
        &[(18, 0, 3), (3, 0, 4), (0, 3, PRODUCE_MAX_VERSION)]
    };
    let flexible = version == 3;
    let mut w = Writer::new(flexible);
    w.i16(if version > 3 { 35 } else { 0 });
    w.array_len(keys.len()).unwrap();
    for &(key, min, max) in keys {
        w.i16(key);
        w.i16(min);
        w.i16(max);
        w.empty_tagged_fields();
    }
    if (1..=3).contains(&version) {
        w.i32(0);
    }
    w.empty_tagged_fields();
    w.into_bytes().to_vec()
}

/// Metadata v4: one broker (node 1), no topics.
fn metadata_v4_body() -> Vec<u8> {
    let mut w = Writer::new(false);
    w.i32(0);
    w.array_len(1).unwrap();
    w.i32(1);
    w.string("localhost").unwrap();
    w.i32(9092);
    w.nullable_string(None).unwrap();
    w.nullable_string(Some("cluster")).unwrap();
    w.i32(1);
    w.array_len(0).unwrap();
    w.into_bytes().to_vec()
}

/// Records the produce request; answers (unless acks=0) with base offset
/// `1000 * partition + records length` per partition.
fn produce_action(seen: &Seen, stats: &Stats) -> Action {
    let flexible = ApiKey::Produce.is_flexible(seen.version);
    let mut r = Reader::new(&seen.body, flexible);
    let parsed = (|| {
        r.nullable_string("transactional_id")?;
        let acks = r.i16()?;
        r.i32()?;
        let topics = r.array("topics", 1, |r| {
            let name = r.string("topic")?;
            let partitions = r.array("partitions", 1, |r| {
                let index = r.i32()?;
                let records = Bytes::copy_from_slice(r.nullable_bytes("records")?.unwrap_or_default());
                r.skip_tagged_fields()?;
                Ok((index, records))
            })?;
            r.skip_tagged_fields()?;
            Ok((name, partitions))
        })?;
        Ok::<_, kafka_wire::DecodeError>((acks, topics))
    })();
    let Ok((acks, topics)) = parsed else {
        return Action::Close;
    };
    let flat = topics
        .iter()
        .flat_map(|(name, ps)| ps.iter().map(|(p, records)| (name.clone(), *p, records.clone())))
        .collect();
    stats.produce.lock().unwrap().push((acks, flat));
    if acks == 0 {
        return Action::Ignore;
    }
    let version = seen.version;
    let mut w = Writer::new(flexible);
    w.array_len(topics.len()).unwrap();
    for (name, partitions) in &topics {
        w.string(name).unwrap();
        w.array_len(partitions.len()).unwrap();
        for (index, records) in partitions {
            w.i32(*index);
            w.i16(0);
            w.i64(1000 * i64::from(*index) + records.len() as i64);
            w.i64(-1);
            if version >= 5 {
                w.i64(0);
            }
            if version >= 8 {
                w.array_len(0).unwrap();
                w.nullable_string(None).unwrap();
            }
            w.empty_tagged_fields();
        }
        w.empty_tagged_fields();
    }
    w.i32(0);
    w.empty_tagged_fields();
    Action::Reply(w.into_bytes().to_vec())
}

fn config(addr: &str) -> ConnectionConfig {
    ConnectionConfig {
        request_timeout: Duration::from_millis(300),
        connect_timeout: Duration::from_secs(1),
        reconnect_backoff: Duration::from_millis(20),
        ..ConnectionConfig::new(1, addr)
    }
}

fn batch(partition: i32, records: &'static [u8], acks: i16) -> ProducePartition {
    ProducePartition(PendingBatch {
        topic: "t".into(),
        partition,
        records: Bytes::from_static(records),
        acks,
        timeout_ms: 1000,
        transactional_id: None,
        deadline: None,
        versions: None,
    })
}

async fn metadata(
    addr: &Addr<BrokerConnectionActor>,
) -> Result<kafka_wire::messages::metadata::MetadataResponse, ConnectionError> {
    addr.send(Call(MetadataRequest::for_topics(["t"]))).await.unwrap()
}

/// Runs a test body with a 5 s bound.
async fn bounded<F: Future<Output = ()>>(body: F) {
    tokio::time::timeout(Duration::from_secs(5), body)
        .await
        .expect("test took over 5 s");
}

#[actix_rt::test]
async fn negotiates_then_round_trips_a_metadata_call() {
    bounded(async {
        let broker = normal_broker();
        let actor = BrokerConnectionActor::new(config(&broker.addr)).start();

        let versions = actor.send(GetApiVersions).await.unwrap().unwrap();
        assert!(versions.error_code.is_ok());
        assert_eq!(versions.api_keys.len(), 3, "the v3 answer after the v4 fallback");

        let response = metadata(&actor).await.unwrap();
        assert_eq!(response.brokers.len(), 1);
        assert_eq!(response.brokers[0].node_id, 1);
        assert_eq!(response.cluster_id.as_deref(), Some("cluster"));

        let requests = broker.stats.requests.lock().unwrap().clone();
        assert_eq!(requests.len(), 1);
        assert_eq!(
            (requests[0].api_key, requests[0].version),
            (3, 4),
            "Metadata at the negotiated v4"
        );
        assert_eq!(
            requests[0].correlation_id, 2,
            "after ApiVersions v4 (0) and v3 (1)"
        );

        // Not advertised by the broker: refused without sending.
        let err = actor
            .send(Call(InitProducerIdRequest::new(None, 60_000)))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(
            err,
            ConnectionError::NoCommonVersion {
                node_id: 1,
                api: ApiKey::InitProducerId
            }
        );
        assert!(!err.maybe_sent());
        // acks=0 through Call would never be answered: refused.
        let unanswered = ProduceRequest {
            transactional_id: None,
            acks: 0,
            timeout_ms: 1000,
            topic_data: Vec::new(),
        };
        let err = actor.send(Call(unanswered)).await.unwrap().unwrap_err();
        assert!(
            matches!(err, ConnectionError::Unanswerable { node_id: 1 }),
            "{err:?}"
        );

        assert_eq!(broker.stats.requests.lock().unwrap().len(), 1);
        assert_eq!(broker.stats.connections.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[actix_rt::test]
async fn pending_partitions_are_coalesced_into_one_produce_request() {
    bounded(async {
        let broker = normal_broker();
        let actor = BrokerConnectionActor::new(config(&broker.addr)).start();

        // Sent before the connection exists: both wait, then share a request.
        let a = actor.send(batch(0, b"aaaa", 1));
        let b = actor.send(batch(1, b"bb", 1));
        let (a, b) = futures_util::future::join(a, b).await;
        let (a, b) = (a.unwrap().unwrap(), b.unwrap().unwrap());
        assert_eq!((a.error_code, a.base_offset), (ErrorCode::NONE, 4));
        assert_eq!((b.error_code, b.base_offset), (ErrorCode::NONE, 1002));
        assert_eq!(a.log_start_offset, 0);

        // Connected: sent back to back, coalesced by the Flush; the second
        // batch for partition 0 goes into a request of its own.
        let a = actor.send(batch(0, b"a", 1));
        let b = actor.send(batch(1, b"bbb", 1));
        let c = actor.send(batch(0, b"cc", 1));
        let (a, b, c) = futures_util::future::join3(a, b, c).await;
        assert_eq!(a.unwrap().unwrap().base_offset, 1);
        assert_eq!(b.unwrap().unwrap().base_offset, 1003);
        assert_eq!(c.unwrap().unwrap().base_offset, 2);

        let produce = broker.stats.produce.lock().unwrap().clone();
        let layout: Vec<Vec<(i32, &[u8])>> = produce
            .iter()
            .map(|(_, ps)| ps.iter().map(|(_, p, r)| (*p, r.as_ref())).collect())
            .collect();
        assert_eq!(
            layout,
            vec![
                vec![(0, &b"aaaa"[..]), (1, &b"bb"[..])],
                vec![(0, &b"a"[..]), (1, &b"bbb"[..])],
                vec![(0, &b"cc"[..])],
            ]
        );
        let versions: Vec<i16> = broker
            .stats
            .requests
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.version)
            .collect();
        assert_eq!(versions, [PRODUCE_MAX_VERSION; 3], "flexible Produce v9");
    })
    .await;
}

#[actix_rt::test]
async fn a_request_timeout_closes_the_connection_and_the_next_call_reconnects() {
    bounded(async {
        // The first connection never answers Metadata.
        let broker = start_broker(|seen, stats| match (seen.conn, ApiKey::from_code(seen.api_key)) {
            (1, Some(ApiKey::Metadata)) => Action::Ignore,
            _ => default_action(seen, stats),
        });
        let actor = BrokerConnectionActor::new(config(&broker.addr)).start();

        let started = Instant::now();
        let err = metadata(&actor).await.unwrap_err();
        let elapsed = started.elapsed();
        assert_eq!(
            err,
            ConnectionError::Timeout {
                node_id: 1,
                timeout_ms: 300
            }
        );
        assert!(err.maybe_sent());
        assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");

        let response = metadata(&actor).await.unwrap();
        assert_eq!(response.brokers[0].node_id, 1);
        assert_eq!(broker.stats.connections.load(Ordering::SeqCst), 2);
    })
    .await;
}

#[actix_rt::test]
async fn a_connection_closed_mid_request_fails_it_as_disconnected() {
    bounded(async {
        let broker = start_broker(|seen, stats| match ApiKey::from_code(seen.api_key) {
            Some(ApiKey::Metadata) => Action::Close,
            _ => default_action(seen, stats),
        });
        let actor = BrokerConnectionActor::new(config(&broker.addr)).start();

        let err = metadata(&actor).await.unwrap_err();
        assert!(
            matches!(err, ConnectionError::Disconnected { node_id: 1, .. }),
            "{err:?}"
        );
        assert!(err.maybe_sent());
        // Produce still works on a new connection.
        let result = actor.send(batch(3, b"x", -1)).await.unwrap().unwrap();
        assert_eq!(result.base_offset, 3001);
        assert_eq!(broker.stats.connections.load(Ordering::SeqCst), 2);
    })
    .await;
}

#[actix_rt::test]
async fn garbage_responses_are_protocol_errors() {
    bounded(async {
        // Connection 1: a truncated body; 2: an unknown correlation id;
        // 3: a frame above max_frame_size; 4: a truncated produce response.
        let broker = start_broker(|seen, stats| {
            let cid = seen.correlation_id;
            match (seen.conn, ApiKey::from_code(seen.api_key)) {
                (1, Some(ApiKey::Metadata)) => {
                    Action::Raw(raw_frame(&[&cid.to_be_bytes()[..], &[0xff; 3]].concat()))
                }
                (2, Some(ApiKey::Metadata)) => {
                    let body = [&(cid + 1000).to_be_bytes()[..], &metadata_v4_body()].concat();
                    Action::Raw(raw_frame(&body))
                }
                (3, Some(ApiKey::Metadata)) => Action::Raw(vec![0x7f, 0xff, 0xff, 0xff]),
                (4, Some(ApiKey::Produce)) => {
                    produce_action(seen, stats);
                    Action::Raw(raw_frame(&[&cid.to_be_bytes()[..], &[0, 0, 0, 9]].concat()))
                }
                _ => default_action(seen, stats),
            }
        });
        let actor = BrokerConnectionActor::new(config(&broker.addr)).start();

        for conn in 1..=3 {
            let err = metadata(&actor).await.unwrap_err();
            assert!(
                matches!(err, ConnectionError::Protocol { node_id: 1, .. }),
                "conn {conn}: {err:?}"
            );
            assert!(err.maybe_sent());
        }
        let err = actor.send(batch(0, b"x", 1)).await.unwrap().unwrap_err();
        assert!(
            matches!(err, ConnectionError::Protocol { node_id: 1, .. }),
            "{err:?}"
        );

        // No panic, and the actor recovers.
        assert!(metadata(&actor).await.is_ok());
        assert_eq!(broker.stats.connections.load(Ordering::SeqCst), 5);
    })
    .await;
}

#[actix_rt::test]
async fn acks_zero_resolves_once_written() {
    bounded(async {
        let broker = normal_broker();
        let actor = BrokerConnectionActor::new(config(&broker.addr)).start();

        let a = actor.send(batch(0, b"a", 0));
        let b = actor.send(batch(1, b"b", 0));
        let (a, b) = futures_util::future::join(a, b).await;
        assert_eq!(a.unwrap().unwrap(), PartitionResult::no_ack());
        assert_eq!(b.unwrap().unwrap(), PartitionResult::no_ack());

        // The unanswered request does not disturb the correlation of the next.
        assert!(metadata(&actor).await.is_ok());
        let produce = broker.stats.produce.lock().unwrap().clone();
        assert_eq!(produce.len(), 1);
        assert_eq!(produce[0].0, 0);
        assert_eq!(produce[0].1.len(), 2);
    })
    .await;
}

#[actix_rt::test]
async fn max_in_flight_bounds_pipelining() {
    bounded(async {
        for (max_in_flight, expect_pipelined) in [(1, false), (3, true)] {
            let broker = start_broker(|seen, stats| match ApiKey::from_code(seen.api_key) {
                Some(ApiKey::Metadata) => Action::ReplyAfter(Duration::from_millis(50), metadata_v4_body()),
                _ => default_action(seen, stats),
            });
            let actor = BrokerConnectionActor::new(ConnectionConfig {
                max_in_flight,
                ..config(&broker.addr)
            })
            .start();
            let calls = (0..3).map(|_| actor.send(Call(MetadataRequest::for_topics(["t"]))));
            for result in futures_util::future::join_all(calls).await {
                assert!(result.unwrap().is_ok());
            }
            assert_eq!(broker.stats.requests.lock().unwrap().len(), 3);
            assert_eq!(
                broker.stats.pipelined.load(Ordering::SeqCst),
                expect_pipelined,
                "max_in_flight {max_in_flight}"
            );
        }
    })
    .await;
}

#[actix_rt::test]
async fn an_unreachable_broker_fails_queued_requests_with_connect() {
    bounded(async {
        let addr = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().to_string()
        };
        let actor = BrokerConnectionActor::new(config(&addr)).start();
        let (call, batch) = futures_util::future::join(metadata(&actor), actor.send(batch(0, b"x", 1))).await;
        for err in [call.unwrap_err(), batch.unwrap().unwrap_err()] {
            assert!(
                matches!(&err, ConnectionError::Connect { addr: a, .. } if *a == addr),
                "{err:?}"
            );
            assert!(!err.maybe_sent());
        }
        // After the backoff the next message tries again (and fails again).
        assert!(matches!(
            actor.send(GetApiVersions).await.unwrap(),
            Err(ConnectionError::Connect { .. })
        ));
    })
    .await;
}

#[actix_rt::test]
async fn close_fails_in_flight_and_stops_the_actor() {
    bounded(async {
        let broker = start_broker(|seen, stats| match ApiKey::from_code(seen.api_key) {
            Some(ApiKey::Metadata) => Action::Ignore,
            _ => default_action(seen, stats),
        });
        let actor = BrokerConnectionActor::new(ConnectionConfig {
            request_timeout: Duration::from_secs(10),
            ..config(&broker.addr)
        })
        .start();
        let pending = actor.send(Call(MetadataRequest::for_topics(["t"])));
        let closer = async {
            while broker.stats.requests.lock().unwrap().is_empty() {
                actix_rt::time::sleep(Duration::from_millis(5)).await;
            }
            actor.do_send(Close);
        };
        let (result, ()) = futures_util::future::join(pending, closer).await;
        let err = result.unwrap().unwrap_err();
        assert!(matches!(err, ConnectionError::Disconnected { .. }), "{err:?}");
        // Stopped: the mailbox is closed.
        actix_rt::time::sleep(Duration::from_millis(20)).await;
        assert!(!actor.connected());
    })
    .await;
}

#[actix_rt::test]
async fn an_idle_connection_is_closed_and_the_next_call_reconnects() {
    bounded(async {
        let broker = normal_broker();
        let idle = ConnectionConfig {
            idle_timeout: Duration::from_millis(200),
            ..config(&broker.addr)
        };
        let actor = BrokerConnectionActor::new(idle).start();
        metadata(&actor).await.unwrap();
        metadata(&actor).await.unwrap();
        assert_eq!(
            broker.stats.connections.load(Ordering::SeqCst),
            1,
            "busy: one connection"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        metadata(&actor).await.unwrap();
        assert_eq!(
            broker.stats.connections.load(Ordering::SeqCst),
            2,
            "idle: closed, then reconnected"
        );
    })
    .await;
}
