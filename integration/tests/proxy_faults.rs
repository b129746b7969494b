//! Network faults between the producer and the broker, through the fault
//! proxy (`actix_kafka_integration::fault_proxy`) in front of the in-process
//! fake broker, which advertises the proxy's port so that every byte of the
//! producer goes through it. What was written is the fake's log, checked by
//! the shared checker; every test is bounded.

use std::time::{Duration, Instant};

use actix_kafka::error::DataOutcome;
use actix_kafka::{DeliveryFuture, Producer, ProducerConfig, ProducerError, ProducerRecord};
use actix_kafka_integration::checker::{check, History, Outcome, Read};
use actix_kafka_integration::fake_broker::{FakeCluster, FakeConfig};
use actix_kafka_integration::fault_proxy::{FaultProxy, Mode};

const TOPIC: &str = "t";
const BOUND: Duration = Duration::from_secs(30);

/// A one-partition fake broker reached only through a fault proxy.
fn proxied() -> (FakeCluster, FaultProxy) {
    let cluster = FakeCluster::start(FakeConfig::with_brokers(1).topic(TOPIC, 1, 0));
    let proxy = FaultProxy::start(&cluster.addr(0));
    cluster.advertise_port(0, proxy.port());
    (cluster, proxy)
}

fn config(proxy: &FaultProxy, idempotent: bool) -> ProducerConfig {
    ProducerConfig {
        enable_idempotence: idempotent,
        request_timeout_ms: 1_000,
        retry_backoff_ms: 50,
        reconnect_backoff_ms: 50,
        max_block_ms: 5_000,
        linger_ms: 2,
        ..ProducerConfig::new(proxy.addr())
    }
}

/// Sends ids `0..n` to partition 0 in chunks of 20 while `fault` runs from
/// the 30th id for `fault_for`, then checks the fake's log against every ack.
async fn run_through(
    proxy: &FaultProxy,
    cluster: &FakeCluster,
    producer: &Producer,
    fault: Mode,
    fault_for: Duration,
) {
    let n = 200u64;
    let mut outcomes = vec![Outcome::NotSent; n as usize];
    let mut faulted_at = None;
    let mut pending: Vec<(u64, DeliveryFuture)> = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(20) {
        if chunk[0] >= 30 && faulted_at.is_none() {
            proxy.set(fault);
            faulted_at = Some(Instant::now());
        }
        if faulted_at.is_some_and(|t| t.elapsed() >= fault_for) {
            proxy.set(Mode::Pass);
        }
        let records = chunk
            .iter()
            .map(|id| ProducerRecord::new(TOPIC, id.to_string()).partition(0))
            .collect();
        for (id, result) in chunk.iter().zip(producer.send_all(records).await) {
            match result {
                Ok(delivery) => pending.push((*id, delivery)),
                Err(_) => outcomes[*id as usize] = Outcome::NotEnqueued,
            }
        }
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    if let Some(t) = faulted_at {
        let left = fault_for.saturating_sub(t.elapsed());
        actix_rt::time::sleep(left).await;
    }
    proxy.set(Mode::Pass);
    for (id, delivery) in pending {
        outcomes[id as usize] = match tokio::time::timeout(BOUND, delivery)
            .await
            .expect("bounded delivery")
        {
            Ok(ack) => Outcome::Acked {
                partition: ack.partition,
                offset: ack.offset,
            },
            Err(e) if e.outcome() == DataOutcome::NotWritten => Outcome::FailedNotWritten,
            Err(_) => Outcome::FailedUnknown,
        };
    }
    let reads: Vec<Read> = cluster
        .log(TOPIC, 0)
        .iter()
        .map(|r| Read {
            id: String::from_utf8_lossy(r.value.as_deref().unwrap_or_default())
                .parse()
                .unwrap_or(u64::MAX),
            partition: 0,
            offset: r.offset,
        })
        .collect();
    let verdict = check(
        &History {
            outcomes,
            txn: Vec::new(),
        },
        &reads,
        None,
    );
    println!("proxy fault {fault:?} for {fault_for:?}: {}", verdict.line());
    assert_eq!(verdict.anomalies(), 0, "{}", verdict.line());
    assert_eq!(
        verdict.acked,
        n as usize,
        "the idempotent producer delivers everything: {}",
        verdict.line()
    );
}

/// An idempotent producer through a fresh proxy, through `fault` for
/// `fault_for`; returns the proxy (for its connection count).
async fn survives(fault: Mode, fault_for: Duration) -> FaultProxy {
    let (cluster, proxy) = proxied();
    let producer = Producer::start(config(&proxy, true)).await.expect("start");
    run_through(&proxy, &cluster, &producer, fault, fault_for).await;
    producer.stop().await;
    proxy
}

#[actix_rt::test]
async fn a_blackholed_link_is_survived_without_loss_duplicates_or_reordering() {
    survives(Mode::Blackhole, Duration::from_millis(2_500)).await;
}

#[actix_rt::test]
async fn resets_mid_stream_are_survived_without_loss_duplicates_or_reordering() {
    let proxy = survives(Mode::Reset, Duration::from_millis(400)).await;
    assert!(proxy.connections() >= 2, "the producer reconnected");
}

#[actix_rt::test]
async fn answers_cut_in_half_are_survived_without_loss_duplicates_or_reordering() {
    survives(Mode::Cut { after: 7 }, Duration::from_millis(2_000)).await;
}

#[actix_rt::test]
async fn a_slow_or_throttled_link_delivers_everything() {
    survives(Mode::Delay(Duration::from_millis(100)), Duration::from_secs(2)).await;
    survives(Mode::Bandwidth(20_000), Duration::from_secs(2)).await;
}

#[actix_rt::test]
async fn a_trickling_link_ends_at_the_request_timeout_and_stop_within_returns_in_time() {
    let (_cluster, proxy) = proxied();
    let producer = Producer::start(config(&proxy, false)).await.expect("start");
    // The topic's metadata first, so that the send below is enqueued.
    producer
        .send_and_wait(ProducerRecord::new(TOPIC, "warm").partition(0))
        .await
        .expect("written");
    proxy.set(Mode::Trickle(Duration::from_millis(500)));
    let sent = Instant::now();
    let delivery = producer
        .send(ProducerRecord::new(TOPIC, "slow").partition(0))
        .await
        .expect("enqueued");
    let result = tokio::time::timeout(BOUND, delivery).await.expect("bounded");
    let error = result.expect_err("cannot be delivered at 2 bytes a second");
    assert!(
        matches!(
            error,
            ProducerError::RequestTimedOut { .. }
                | ProducerError::Disconnected { .. }
                | ProducerError::BatchExpired { .. }
        ),
        "{error:?}"
    );
    // Retried until request_timeout_ms (1 s) passed, give or take a round.
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "took {:?}",
        sent.elapsed()
    );
    let stopping = Instant::now();
    producer.stop_within(Duration::from_secs(2)).await;
    assert!(
        stopping.elapsed() < Duration::from_secs(4),
        "stop took {:?}",
        stopping.elapsed()
    );
}
