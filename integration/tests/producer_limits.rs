//! Batching and limits against the real broker: linger batching seen in
//! delivery events and in the broker's own segment files, buffer_memory /
//! max_block_ms backpressure, and record size limits.

mod common;

use std::time::{Duration, Instant};

use actix_kafka::{DeliveryEvent, Producer, ProducerConfig, ProducerError, ProducerRecord};
use actix_kafka_integration::{bootstrap, create_topic, unique_topic};
use common::{collect_events, consume, dump_batches, end_offsets, record_count};
use futures_util::future::join_all;

async fn start(config: ProducerConfig) -> Producer {
    Producer::start(config).await.expect("producer starts")
}

/// Lets the collector actor drain its mailbox, then takes the events.
async fn take_events(events: &std::sync::Mutex<Vec<DeliveryEvent>>) -> Vec<DeliveryEvent> {
    actix_rt::time::sleep(Duration::from_millis(100)).await;
    std::mem::take(&mut *events.lock().expect("events lock"))
}

/// `(base_offset, record_count)` per batch, from our events and from the broker.
fn event_batches(events: &[DeliveryEvent]) -> Vec<(i64, i64)> {
    let mut batches: Vec<(i64, i64)> = events
        .iter()
        .map(|e| {
            assert!(e.error.is_none(), "failed batch {e:?}");
            (e.base_offset, e.record_count as i64)
        })
        .collect();
    batches.sort();
    batches
}

#[actix_rt::test]
async fn linger_batches_records_and_no_linger_sends_each_awaited_record_alone() {
    let bootstrap = bootstrap();
    let topic = unique_topic("linger");
    create_topic(&bootstrap, &topic, 2, &[]);

    // linger_ms=0, one send_and_wait at a time: one record per batch.
    let producer = start(ProducerConfig::new(bootstrap.clone())).await;
    let (recipient, events) = collect_events();
    producer.subscribe(recipient);
    for i in 0..30 {
        producer
            .send_and_wait(ProducerRecord::new(topic.clone(), format!("alone-{i}")).partition(0))
            .await
            .expect("delivered");
    }
    producer.stop().await;
    let alone = event_batches(&take_events(&events).await);
    assert_eq!(alone, (0..30).map(|i| (i, 1)).collect::<Vec<_>>());

    // linger_ms=200: records trickling in (one every 10 ms) and a fast burst
    // of 1,000 single sends are grouped.
    let producer = start(ProducerConfig {
        linger_ms: 200,
        ..ProducerConfig::new(bootstrap.clone())
    })
    .await;
    let (recipient, events) = collect_events();
    producer.subscribe(recipient);

    let started = Instant::now();
    producer
        .send_and_wait(ProducerRecord::new(topic.clone(), "lingered").partition(1))
        .await
        .expect("delivered");
    let lingered = started.elapsed();
    assert!(
        lingered >= Duration::from_millis(180),
        "a lone record left after {lingered:?}, before linger_ms=200"
    );

    let mut trickle = Vec::new();
    for i in 0..20 {
        trickle.push(
            producer
                .send(ProducerRecord::new(topic.clone(), format!("trickle-{i}")).partition(1))
                .await
                .expect("enqueued"),
        );
        actix_rt::time::sleep(Duration::from_millis(10)).await;
    }
    for result in join_all(trickle).await {
        result.expect("delivered");
    }
    let trickle_batches = event_batches(&take_events(&events).await);
    assert_eq!(trickle_batches.iter().map(|b| b.1).sum::<i64>(), 21);
    assert!(
        trickle_batches.len() <= 4,
        "1 + 20 records 10 ms apart with linger_ms=200 took {} batches: {trickle_batches:?}",
        trickle_batches.len()
    );

    let mut burst = Vec::new();
    for i in 0..1_000 {
        burst.push(
            producer
                .send(ProducerRecord::new(topic.clone(), format!("burst-{i}")).partition(1))
                .await
                .expect("enqueued"),
        );
    }
    for result in join_all(burst).await {
        result.expect("delivered");
    }
    producer.stop().await;
    let burst_batches = event_batches(&take_events(&events).await);
    assert_eq!(burst_batches.iter().map(|b| b.1).sum::<i64>(), 1_000);
    assert!(
        burst_batches.len() <= 20,
        "1,000 quick records took {} batches",
        burst_batches.len()
    );

    // The broker's segment files hold exactly the batches our events report.
    let stored = |partition| -> Vec<(i64, i64)> {
        dump_batches(&bootstrap, &topic, partition)
            .into_iter()
            .map(|b| (b.base_offset, b.count))
            .collect()
    };
    assert_eq!(stored(0), alone, "partition 0 batches (DumpLogSegments)");
    let mut lingered_batches = trickle_batches.clone();
    lingered_batches.extend(burst_batches);
    assert_eq!(
        stored(1),
        lingered_batches,
        "partition 1 batches (DumpLogSegments)"
    );

    let read = consume(&bootstrap, &topic, 30 + 1 + 20 + 1_000, 30_000, &[]);
    let partition_1: Vec<&str> = read
        .iter()
        .filter(|r| r.partition == 1)
        .map(|r| r.value.as_str())
        .collect();
    assert_eq!(partition_1.len(), 1_021);
    assert_eq!(partition_1[0], "lingered");
    assert_eq!(partition_1[1], "trickle-0");
    assert_eq!(partition_1[1_020], "burst-999");
}

#[actix_rt::test]
async fn every_batch_of_a_busy_producer_is_reported_to_subscribers() {
    // Many partitions on one broker: one produce response completes dozens
    // of batches at once, more than an actor mailbox's default capacity (16).
    const PARTITIONS: usize = 48;
    const RECORDS: usize = PARTITIONS * 100;
    let bootstrap = bootstrap();
    let topic = unique_topic("events");
    create_topic(&bootstrap, &topic, PARTITIONS as u32, &[]);
    let producer = start(ProducerConfig {
        linger_ms: 20,
        max_batch_size: 512,
        ..ProducerConfig::new(bootstrap.clone())
    })
    .await;
    let (recipient, events) = collect_events();
    producer.subscribe(recipient);
    let records = (0..RECORDS)
        .map(|i| ProducerRecord::new(topic.clone(), format!("e{i}")).partition((i % PARTITIONS) as i32))
        .collect();
    let deliveries: Vec<_> = producer
        .send_all(records)
        .await
        .into_iter()
        .map(|r| r.expect("enqueued"))
        .collect();
    for result in join_all(deliveries).await {
        result.expect("delivered");
    }
    producer.stop().await;
    let events = take_events(&events).await;

    let mut per_partition = vec![0i64; PARTITIONS];
    for event in &events {
        assert!(event.error.is_none(), "{event:?}");
        per_partition[event.partition as usize] += event.record_count as i64;
    }
    let stored = end_offsets(&bootstrap, &topic);
    assert_eq!(stored.values().sum::<i64>(), RECORDS as i64);
    assert_eq!(
        per_partition,
        stored.values().copied().collect::<Vec<_>>(),
        "records reported by {} delivery events vs stored per partition",
        events.len()
    );
}

#[actix_rt::test]
async fn a_full_buffer_fails_the_send_after_max_block_ms_and_the_record_is_never_sent() {
    let bootstrap = bootstrap();
    let topic = unique_topic("buffer-full");
    create_topic(&bootstrap, &topic, 4, &[]);
    // Batches never fill (1 MiB) nor linger out (60 s): the 64 KiB buffer only
    // empties on flush.
    let producer = start(ProducerConfig {
        buffer_memory: 64 * 1024,
        max_block_ms: 500,
        linger_ms: 60_000,
        max_batch_size: 1024 * 1024,
        ..ProducerConfig::new(bootstrap.clone())
    })
    .await;
    let value = "b".repeat(1_000);
    let mut deliveries = Vec::new();
    let failure = loop {
        let i = deliveries.len();
        assert!(i < 1_000, "64 KiB of buffer took {i} records of 1 KB");
        let record = ProducerRecord::new(topic.clone(), format!("{i:04}{value}")).partition((i % 4) as i32);
        let started = Instant::now();
        match producer.send(record).await {
            Ok(delivery) => deliveries.push(delivery),
            Err(e) => break (e, started.elapsed()),
        }
    };
    let accepted = deliveries.len();
    let (error, waited) = failure;
    assert!(
        matches!(error, ProducerError::BufferFull { .. }),
        "expected BufferFull, got {error:?}"
    );
    assert!(
        waited >= Duration::from_millis(450) && waited < Duration::from_secs(5),
        "BufferFull after {waited:?}, max_block_ms=500"
    );
    assert!(
        (40..=64).contains(&accepted),
        "{accepted} records of 1 KB fit in 64 KiB"
    );

    producer.flush().await;
    for (i, result) in join_all(deliveries).await.into_iter().enumerate() {
        result.unwrap_or_else(|e| panic!("accepted record {i} failed: {e}"));
    }
    // The space is back: the next record is enqueued at once (and flushed,
    // as linger_ms is 60 s).
    let started = Instant::now();
    let after = producer
        .send(ProducerRecord::new(topic.clone(), "after-flush").partition(0))
        .await
        .expect("buffer space released by flush");
    assert!(
        started.elapsed() < Duration::from_millis(450),
        "enqueued without waiting for space"
    );
    producer.flush().await;
    assert!(after.await.expect("delivered").offset >= 0);
    producer.stop().await;

    assert_eq!(record_count(&bootstrap, &topic), accepted as i64 + 1);
    let read = consume(&bootstrap, &topic, accepted + 1, 30_000, &[]);
    let mut indexes: Vec<usize> = read
        .iter()
        .filter(|r| r.value != "after-flush")
        .map(|r| r.value[..4].parse().expect("index prefix"))
        .collect();
    indexes.sort();
    assert_eq!(
        indexes,
        (0..accepted).collect::<Vec<_>>(),
        "the refused record {accepted} was never written"
    );
}

#[actix_rt::test]
async fn record_size_limits() {
    let bootstrap = bootstrap();
    let topic = unique_topic("sizes");
    create_topic(&bootstrap, &topic, 1, &[]);
    let producer = start(ProducerConfig {
        buffer_memory: 4 * 1024 * 1024,
        ..ProducerConfig::new(bootstrap.clone())
    })
    .await;

    // Larger than max_request_size (1 MiB): refused at once.
    let started = Instant::now();
    let too_large = producer
        .send(ProducerRecord::new(topic.clone(), vec![b'x'; 2 * 1024 * 1024]))
        .await;
    match too_large {
        Err(ProducerError::RecordTooLarge { size, max }) => {
            assert!(size > 2 * 1024 * 1024, "size {size}");
            assert_eq!(max, 1024 * 1024);
        }
        other => panic!("expected RecordTooLarge, got {:?}", other.map(|_| "a delivery")),
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "refused without waiting"
    );

    // Larger than max_batch_size (16 KiB) but within max_request_size: a
    // batch of its own, between ordinary records.
    let big = vec![b'y'; 100_000];
    let near_max = vec![b'z'; 1_000_000];
    let records = vec![
        ProducerRecord::new(topic.clone(), "small-0"),
        ProducerRecord::new(topic.clone(), big.clone()),
        ProducerRecord::new(topic.clone(), "small-1"),
        ProducerRecord::new(topic.clone(), near_max),
        ProducerRecord::new(topic.clone(), "small-2"),
    ];
    for (i, result) in producer.send_all(records).await.into_iter().enumerate() {
        let metadata = result
            .unwrap_or_else(|e| panic!("record {i} refused: {e}"))
            .await
            .unwrap_or_else(|e| panic!("record {i} failed: {e}"));
        assert_eq!(metadata.offset, i as i64);
    }
    producer.stop().await;

    assert_eq!(record_count(&bootstrap, &topic), 5);
    let batches = dump_batches(&bootstrap, &topic, 0);
    for offset in [1, 3] {
        assert!(
            batches.iter().any(|b| b.base_offset == offset && b.count == 1),
            "record {offset} is not alone in its batch: {batches:?}"
        );
    }
    let small = consume(&bootstrap, &topic, 5, 30_000, &[])
        .into_iter()
        .map(|r| (r.offset, r.value.len()))
        .collect::<Vec<_>>();
    assert_eq!(
        small,
        [(0, 7), (1, 100_000), (2, 7), (3, 1_000_000), (4, 7)],
        "(offset, value length)"
    );
}

#[actix_rt::test]
async fn a_linger_longer_than_request_timeout_is_rejected_or_still_delivers() {
    let bootstrap = bootstrap();
    let topic = unique_topic("long-linger");
    create_topic(&bootstrap, &topic, 1, &[]);
    // Java rejects delivery.timeout.ms < linger.ms + request.timeout.ms; here
    // either the configuration is refused, or the lingering record is sent.
    let config = ProducerConfig {
        linger_ms: 2_000,
        request_timeout_ms: 1_000,
        ..ProducerConfig::new(bootstrap.clone())
    };
    let producer = match Producer::start(config).await {
        Err(ProducerError::Config { .. }) => return,
        Err(e) => panic!("start failed: {e}"),
        Ok(producer) => producer,
    };
    let result = producer
        .send_and_wait(ProducerRecord::new(topic.clone(), "lingered"))
        .await;
    producer.stop().await;
    let metadata = result.expect("a record that waited out linger_ms is sent, not expired");
    assert_eq!(metadata.offset, 0);
    assert_eq!(consume(&bootstrap, &topic, 1, 30_000, &[])[0].value, "lingered");
}
