//! Delivery semantics against the real broker: the two-stage send, flush and
//! stop, headers and timestamps, timestamp types, codecs, acks and the
//! actor-level messages. Every record written is read back by Kafka's own
//! tools (console consumer, GetOffsetShell, DumpLogSegments).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_kafka::config::Acks;
use actix_kafka::wire::compression::Compression;
use actix_kafka::{
    DeliveryFuture, Header, Produce, ProduceAll, Producer, ProducerConfig, ProducerError, ProducerRecord,
    TimestampType,
};
use actix_kafka_integration::{bootstrap, create_topic, unique_topic};
use common::{consume, dump_batches, record_count};
use futures_util::FutureExt;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

async fn start(config: ProducerConfig) -> Producer {
    Producer::start(config).await.expect("producer starts")
}

/// Polls every delivery once without waiting: `Some` for the resolved ones.
/// Outside tokio's cooperative budget, which would otherwise make a ready
/// oneshot report `Pending` after 128 polls in one task turn.
async fn resolved_now(deliveries: &mut [DeliveryFuture]) -> Vec<Option<Result<i64, ProducerError>>> {
    tokio::task::unconstrained(async {
        deliveries
            .iter_mut()
            .map(|d| d.now_or_never().map(|r| r.map(|m| m.offset)))
            .collect()
    })
    .await
}

#[actix_rt::test]
async fn send_is_two_stage_and_offsets_follow_append_order() {
    let bootstrap = bootstrap();
    let topic = unique_topic("two-stage");
    create_topic(&bootstrap, &topic, 1, &[]);
    let producer = start(ProducerConfig::new(bootstrap.clone())).await;

    // Stage 1 then stage 2, one record at a time.
    for i in 0..3i64 {
        let delivery = producer
            .send(ProducerRecord::new(topic.clone(), format!("v{i}")).key(format!("k{i}")))
            .await
            .expect("enqueued");
        let metadata = delivery.await.expect("delivered");
        assert_eq!(&*metadata.topic, topic.as_str());
        assert_eq!(metadata.partition, 0);
        assert_eq!(metadata.offset, i);
        assert_eq!(metadata.timestamp_type, TimestampType::CreateTime);
    }
    // Many stage-1 awaits before any stage-2 await: offsets still follow the
    // order of the sends.
    let mut deliveries = Vec::new();
    for i in 3..10i64 {
        deliveries.push(
            producer
                .send(ProducerRecord::new(topic.clone(), format!("v{i}")).key(format!("k{i}")))
                .await
                .expect("enqueued"),
        );
    }
    for (i, delivery) in (3..10i64).zip(deliveries) {
        assert_eq!(delivery.await.expect("delivered").offset, i);
    }
    producer.stop().await;

    let records = consume(&bootstrap, &topic, 10, 30_000, &[]);
    for (i, record) in records.iter().enumerate() {
        assert_eq!(
            (
                record.partition,
                record.offset,
                record.key.as_str(),
                record.value.as_str()
            ),
            (0, i as i64, format!("k{i}").as_str(), format!("v{i}").as_str())
        );
    }
    assert_eq!(record_count(&bootstrap, &topic), 10);
}

#[actix_rt::test]
async fn dropping_the_delivery_future_does_not_cancel_the_send() {
    let bootstrap = bootstrap();
    let topic = unique_topic("drop-delivery");
    create_topic(&bootstrap, &topic, 1, &[]);
    // A long linger keeps the record buffered while its future is dropped.
    let producer = start(ProducerConfig {
        linger_ms: 2_000,
        ..ProducerConfig::new(bootstrap.clone())
    })
    .await;
    let delivery = producer
        .send(ProducerRecord::new(topic.clone(), "kept").key("k"))
        .await
        .expect("enqueued");
    drop(delivery);
    producer.flush().await;
    producer.stop().await;

    let records = consume(&bootstrap, &topic, 1, 30_000, &[]);
    assert_eq!(
        (records[0].key.as_str(), records[0].value.as_str()),
        ("k", "kept")
    );
    assert_eq!(record_count(&bootstrap, &topic), 1);
}

#[actix_rt::test]
async fn dropping_the_enqueue_stage_means_the_record_is_never_sent() {
    let bootstrap = bootstrap();
    let topic = unique_topic("drop-enqueue");
    create_topic(&bootstrap, &topic, 1, &[]);
    let producer = start(ProducerConfig::new(bootstrap.clone())).await;
    producer
        .send_and_wait(ProducerRecord::new(topic.clone(), "before"))
        .await
        .expect("delivered");

    // Poll the enqueue stage once (the message reaches the mailbox), then give up.
    let mut send = Box::pin(producer.send(ProducerRecord::new(topic.clone(), "dropped")));
    assert!(
        (&mut send).now_or_never().is_none(),
        "enqueue cannot finish without the actor running"
    );
    drop(send);

    let after = producer
        .send_and_wait(ProducerRecord::new(topic.clone(), "after"))
        .await
        .expect("delivered");
    assert_eq!(after.offset, 1, "the dropped record took no offset");
    producer.flush().await;
    producer.stop().await;

    assert_eq!(record_count(&bootstrap, &topic), 2);
    let values: Vec<String> = consume(&bootstrap, &topic, 2, 30_000, &[])
        .into_iter()
        .map(|r| r.value)
        .collect();
    assert_eq!(values, ["before", "after"]);
}

#[actix_rt::test]
async fn headers_keys_and_explicit_timestamps_round_trip() {
    let bootstrap = bootstrap();
    let topic = unique_topic("headers");
    // Old explicit timestamps: keep the retention check from deleting them.
    create_topic(&bootstrap, &topic, 1, &["retention.ms=-1"]);
    let producer = start(ProducerConfig::new(bootstrap.clone())).await;

    let mut with_null = ProducerRecord::new(topic.clone(), "v1")
        .key("k1")
        .timestamp(1_600_000_000_001);
    with_null.headers.push(Header {
        key: "n".into(),
        value: None,
    });
    with_null = with_null.header("a", "x");
    let mut null_key_and_value = ProducerRecord::new(topic.clone(), "").timestamp(1_234);
    null_key_and_value.value = None;
    let records = vec![
        // Duplicate header keys keep their order (KIP-82); an empty value is not null.
        ProducerRecord::new(topic.clone(), "v0")
            .key("k0")
            .timestamp(1_600_000_000_000)
            .header("a", "1")
            .header("a", "2")
            .header("b", ""),
        with_null,
        null_key_and_value,
    ];
    let mut expected_timestamps = Vec::new();
    for record in records {
        let timestamp = record.timestamp.expect("explicit");
        let metadata = producer.send_and_wait(record).await.expect("delivered");
        assert_eq!(metadata.timestamp, timestamp);
        assert_eq!(metadata.timestamp_type, TimestampType::CreateTime);
        expected_timestamps.push(timestamp);
    }
    producer.stop().await;

    let read = consume(
        &bootstrap,
        &topic,
        3,
        30_000,
        &[
            "--property",
            "print.headers=true",
            "--property",
            "print.timestamp=true",
        ],
    );
    let seen: Vec<(String, String, String, String)> = read
        .into_iter()
        .map(|r| {
            (
                r.timestamp.expect("timestamp printed"),
                r.headers.expect("headers printed"),
                r.key,
                r.value,
            )
        })
        .collect();
    let expected = [
        ("CreateTime:1600000000000", "a:1,a:2,b:", "k0", "v0"),
        ("CreateTime:1600000000001", "n:null,a:x", "k1", "v1"),
        ("CreateTime:1234", "NO_HEADERS", "null", "null"),
    ];
    let expected: Vec<(String, String, String, String)> = expected
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    assert_eq!(seen, expected);
}

#[actix_rt::test]
async fn log_append_time_topics_report_the_broker_timestamp() {
    let bootstrap = bootstrap();
    let append_topic = unique_topic("log-append-time");
    let create_topic_name = unique_topic("create-time");
    create_topic(
        &bootstrap,
        &append_topic,
        1,
        &["message.timestamp.type=LogAppendTime"],
    );
    // Retention would delete a 2017 record before the read-back.
    create_topic(&bootstrap, &create_topic_name, 1, &["retention.ms=-1"]);
    let producer = start(ProducerConfig::new(bootstrap.clone())).await;

    let explicit = 1_500_000_000_000;
    let before = now_ms();
    let appended = producer
        .send_and_wait(ProducerRecord::new(append_topic.clone(), "a").timestamp(explicit))
        .await
        .expect("delivered");
    let after = now_ms();
    assert_eq!(appended.timestamp_type, TimestampType::LogAppendTime);
    assert_ne!(appended.timestamp, explicit, "the broker's clock, not ours");
    assert!(
        appended.timestamp >= before - 5_000 && appended.timestamp <= after + 5_000,
        "append time {} not within [{before}, {after}] (±5 s)",
        appended.timestamp
    );

    let created = producer
        .send_and_wait(ProducerRecord::new(create_topic_name.clone(), "c").timestamp(explicit))
        .await
        .expect("delivered");
    assert_eq!(created.timestamp_type, TimestampType::CreateTime);
    assert_eq!(created.timestamp, explicit);
    producer.stop().await;

    let timestamp = ["--property", "print.timestamp=true"];
    let read = consume(&bootstrap, &append_topic, 1, 30_000, &timestamp);
    assert_eq!(
        read[0].timestamp.as_deref(),
        Some(format!("LogAppendTime:{}", appended.timestamp).as_str())
    );
    let read = consume(&bootstrap, &create_topic_name, 1, 30_000, &timestamp);
    assert_eq!(
        read[0].timestamp.as_deref(),
        Some(format!("CreateTime:{explicit}").as_str())
    );
}

#[actix_rt::test]
async fn every_codec_is_accepted_by_the_broker_and_read_back() {
    let bootstrap = bootstrap();
    let topic = unique_topic("codecs");
    let codecs = [
        (Compression::None, "none"),
        (Compression::Gzip, "gzip"),
        (Compression::Snappy, "snappy"),
        (Compression::Lz4, "lz4"),
        (Compression::Zstd, "zstd"),
    ];
    // One partition per codec; the topic keeps the producer's codec.
    create_topic(&bootstrap, &topic, codecs.len() as u32, &[]);
    const PER_CODEC: usize = 200;
    for (partition, (codec, name)) in codecs.iter().enumerate() {
        let mut config = ProducerConfig {
            linger_ms: 20,
            ..ProducerConfig::new(bootstrap.clone())
        };
        // Half the codecs through Kafka's property name, half through the field.
        if partition % 2 == 0 {
            config.set("compression.type", name).expect("a known codec");
        } else {
            config.compression_type = *codec;
        }
        assert_eq!(config.compression_type, *codec);
        let producer = start(config).await;
        let records = (0..PER_CODEC)
            .map(|i| {
                ProducerRecord::new(
                    topic.clone(),
                    format!("{name}-{i:04}-{}", "compressible ".repeat(8)),
                )
                .key(format!("{name}-{i}"))
                .partition(partition as i32)
            })
            .collect();
        for (i, result) in producer.send_all(records).await.into_iter().enumerate() {
            let metadata = result.expect("enqueued").await.expect("delivered");
            assert_eq!(
                (metadata.partition, metadata.offset),
                (partition as i32, i as i64)
            );
        }
        producer.stop().await;
    }

    let read = consume(&bootstrap, &topic, codecs.len() * PER_CODEC, 30_000, &[]);
    for (partition, (_, name)) in codecs.iter().enumerate() {
        let values: Vec<&str> = read
            .iter()
            .filter(|r| r.partition == partition as i32)
            .map(|r| r.value.as_str())
            .collect();
        let expected: Vec<String> = (0..PER_CODEC)
            .map(|i| format!("{name}-{i:04}-{}", "compressible ".repeat(8)))
            .collect();
        assert_eq!(values, expected, "partition {partition} ({name})");
        // The broker stored the batches with the codec we used.
        let batches = dump_batches(&bootstrap, &topic, partition as i32);
        assert!(!batches.is_empty());
        for batch in &batches {
            assert_eq!(&batch.codec, name, "batch {batch:?} of partition {partition}");
        }
        assert_eq!(batches.iter().map(|b| b.count).sum::<i64>(), PER_CODEC as i64);
    }
}

#[actix_rt::test]
async fn acks_zero_has_no_offsets_while_one_and_all_do() {
    let bootstrap = bootstrap();
    let topic = unique_topic("acks");
    create_topic(&bootstrap, &topic, 3, &[]);
    // acks=0 hears of no error: a fresh partition that is not ready yet
    // (seen under CI load) drops its records silently. An acknowledged record
    // first proves partition 0 ready, at offset 0.
    let ready = start(ProducerConfig::new(bootstrap.clone())).await;
    let first = ready
        .send_and_wait(ProducerRecord::new(topic.clone(), "ready").partition(0))
        .await
        .expect("partition 0 ready");
    assert_eq!(first.offset, 0);
    ready.stop().await;
    let modes = [(Acks::None, 0), (Acks::Leader, 1), (Acks::All, 2)];
    for (acks, partition) in modes {
        let producer = start(ProducerConfig {
            acks: Some(acks),
            ..ProducerConfig::new(bootstrap.clone())
        })
        .await;
        for i in 0..5i64 {
            let metadata = producer
                .send_and_wait(
                    ProducerRecord::new(topic.clone(), format!("{acks}-{i}"))
                        .key(format!("{i}"))
                        .partition(partition),
                )
                .await
                .expect("delivered");
            assert_eq!(metadata.partition, partition);
            if acks == Acks::None {
                assert_eq!(metadata.offset, -1, "acks=0: the broker does not tell the offset");
            } else {
                assert_eq!(metadata.offset, i, "acks={acks}");
            }
        }
        producer.flush().await;
        producer.stop().await;
    }

    let read = consume(&bootstrap, &topic, 16, 30_000, &[]);
    for (acks, partition) in modes {
        let values: Vec<(i64, String)> = read
            .iter()
            .filter(|r| r.partition == partition && r.value != "ready")
            .map(|r| (r.offset, r.value.clone()))
            .collect();
        let first_offset = i64::from(partition == 0);
        let expected: Vec<(i64, String)> = (0..5)
            .map(|i| (first_offset + i, format!("{acks}-{i}")))
            .collect();
        assert_eq!(values, expected, "acks={acks}: the records landed in order");
    }
}

#[actix_rt::test]
async fn send_all_with_calls_back_once_per_enqueued_record() {
    let bootstrap = bootstrap();
    let topic = unique_topic("callbacks");
    create_topic(&bootstrap, &topic, 3, &[]);
    let producer = start(ProducerConfig::new(bootstrap.clone())).await;
    let mut records: Vec<ProducerRecord> = (0..600)
        .map(|i| ProducerRecord::new(topic.clone(), format!("v{i}")).key(format!("k{}", i % 7)))
        .collect();
    // Refused in the enqueue stage: never sent, never called back.
    records.insert(300, ProducerRecord::new(topic.clone(), "refused").partition(99));
    let seen: Arc<Mutex<Vec<(usize, i32, i64)>>> = Arc::default();
    let sink = seen.clone();
    let enqueued = producer
        .send_all_with(records, move |index, result| {
            let metadata = result.expect("delivered");
            sink.lock()
                .unwrap()
                .push((index, metadata.partition, metadata.offset));
        })
        .await;
    assert!(matches!(
        enqueued[300],
        Err(ProducerError::PartitionOutOfRange { .. })
    ));
    assert_eq!(enqueued.iter().filter(|r| r.is_ok()).count(), 600);
    producer.flush().await;
    producer.stop().await;

    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    let indexes: Vec<usize> = seen.iter().map(|(i, _, _)| *i).collect();
    let expected: Vec<usize> = (0..601).filter(|i| *i != 300).collect();
    assert_eq!(indexes, expected, "each enqueued record called back exactly once");
    for partition in 0..3 {
        let offsets: Vec<i64> = seen.iter().filter(|s| s.1 == partition).map(|s| s.2).collect();
        assert!(
            offsets.windows(2).all(|w| w[0] < w[1]),
            "partition {partition} in send order"
        );
    }
    // Kafka's reader finds each record where its callback said it was.
    let read = consume(&bootstrap, &topic, 600, 30_000, &[]);
    for (index, partition, offset) in seen {
        let value_index = if index > 300 { index - 1 } else { index };
        let record = read
            .iter()
            .find(|r| r.partition == partition && r.offset == offset)
            .unwrap_or_else(|| panic!("no record at {partition}/{offset}"));
        assert_eq!(record.value, format!("v{value_index}"));
        assert_eq!(record.key, format!("k{}", value_index % 7));
    }
}

#[actix_rt::test]
async fn flush_resolves_every_earlier_delivery() {
    let bootstrap = bootstrap();
    let topic = unique_topic("flush");
    create_topic(&bootstrap, &topic, 4, &[]);
    // Without flush, nothing would leave for a minute.
    let producer = start(ProducerConfig {
        linger_ms: 60_000,
        ..ProducerConfig::new(bootstrap.clone())
    })
    .await;
    let mut deliveries = Vec::new();
    for i in 0..200 {
        deliveries.push(
            producer
                .send(ProducerRecord::new(topic.clone(), format!("v{i}")).key(format!("k{}", i % 17)))
                .await
                .expect("enqueued"),
        );
    }
    actix_rt::time::sleep(Duration::from_millis(100)).await;
    assert!(
        resolved_now(&mut deliveries).await.iter().all(Option::is_none),
        "linger_ms=60000 holds the batches until flush"
    );
    let started = Instant::now();
    producer.flush().await;
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "flush did not wait for the linger"
    );
    let outcomes = resolved_now(&mut deliveries).await;
    for (i, outcome) in outcomes.iter().enumerate() {
        match outcome {
            Some(Ok(offset)) => assert!(*offset >= 0),
            other => panic!("delivery {i} after flush: {other:?}"),
        }
    }
    producer.stop().await;
    assert_eq!(record_count(&bootstrap, &topic), 200);
}

#[actix_rt::test]
async fn stop_flushes_everything_and_later_sends_fail_closed() {
    let bootstrap = bootstrap();
    let topic = unique_topic("stop");
    create_topic(&bootstrap, &topic, 3, &[]);
    let producer = start(ProducerConfig {
        linger_ms: 60_000,
        ..ProducerConfig::new(bootstrap.clone())
    })
    .await;
    let mut deliveries = Vec::new();
    for i in 0..90 {
        deliveries.push(
            producer
                .send(ProducerRecord::new(topic.clone(), format!("v{i}")).partition(i % 3))
                .await
                .expect("enqueued"),
        );
    }
    let started = Instant::now();
    producer.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "stop did not wait for the linger"
    );
    for (i, outcome) in resolved_now(&mut deliveries).await.into_iter().enumerate() {
        let offset = outcome
            .unwrap_or_else(|| panic!("delivery {i} unresolved after stop"))
            .unwrap_or_else(|e| panic!("delivery {i} failed: {e}"));
        assert_eq!(offset, (i / 3) as i64);
    }

    match producer.send(ProducerRecord::new(topic.clone(), "late")).await {
        Err(ProducerError::Closed) => {}
        other => panic!("send after stop: {:?}", other.map(|_| "a delivery future")),
    }
    let late = producer
        .send_all(vec![
            ProducerRecord::new(topic.clone(), "late-1"),
            ProducerRecord::new(topic.clone(), "late-2"),
        ])
        .await;
    assert_eq!(late.len(), 2);
    assert!(late.iter().all(|r| matches!(r, Err(ProducerError::Closed))));
    assert!(matches!(
        producer
            .send_and_wait(ProducerRecord::new(topic.clone(), "late-3"))
            .await,
        Err(ProducerError::Closed)
    ));

    let read = consume(&bootstrap, &topic, 90, 30_000, &[]);
    for record in &read {
        let i: i64 = record.value[1..].parse().expect("v<i>");
        assert_eq!((record.partition as i64, record.offset), (i % 3, i / 3));
    }
    assert_eq!(record_count(&bootstrap, &topic), 90, "nothing sent after stop");
}

#[actix_rt::test]
async fn actor_messages_produce_and_produce_all() {
    let bootstrap = bootstrap();
    let topic = unique_topic("actor-api");
    create_topic(&bootstrap, &topic, 2, &[]);
    let producer = start(ProducerConfig::new(bootstrap.clone())).await;
    let addr = producer.addr().clone();

    let metadata = addr
        .send(Produce(ProducerRecord::new(topic.clone(), "single").partition(0)))
        .await
        .expect("mailbox")
        .expect("delivered");
    assert_eq!((metadata.partition, metadata.offset), (0, 0));

    // One result per record, in order; a bad record in the middle fails alone.
    let mut records: Vec<ProducerRecord> = (0..10)
        .map(|i| ProducerRecord::new(topic.clone(), format!("all-{i}")).partition(i % 2))
        .collect();
    records.insert(5, ProducerRecord::new(topic.clone(), "bad").partition(7));
    let results = addr.send(ProduceAll(records)).await.expect("mailbox");
    assert_eq!(results.len(), 11);
    let mut next_offset = [1i64, 0];
    for (position, result) in results.iter().enumerate() {
        if position == 5 {
            assert!(
                matches!(
                    result,
                    Err(ProducerError::PartitionOutOfRange {
                        partition: 7,
                        partitions: 2,
                        ..
                    })
                ),
                "{result:?}"
            );
            continue;
        }
        let i = if position < 5 { position } else { position - 1 };
        let metadata = result.as_ref().expect("delivered");
        let partition = (i % 2) as i32;
        assert_eq!(metadata.partition, partition);
        assert_eq!(metadata.offset, next_offset[partition as usize], "record {i}");
        next_offset[partition as usize] += 1;
    }
    producer.stop().await;

    let read = consume(&bootstrap, &topic, 11, 30_000, &[]);
    let mut values: Vec<(i32, i64, String)> = read
        .into_iter()
        .map(|r| (r.partition, r.offset, r.value))
        .collect();
    values.sort();
    let mut expected = vec![(0, 0, "single".to_string())];
    for i in 0..10i64 {
        expected.push(((i % 2) as i32, i / 2 + 1 - i % 2, format!("all-{i}")));
    }
    expected.sort();
    assert_eq!(values, expected);
}

#[actix_rt::test]
async fn direct_batches_land_whole_at_the_returned_offset() {
    let bootstrap = bootstrap();
    let topic = unique_topic("direct-batch");
    create_topic(&bootstrap, &topic, 2, &[]);
    let producer = start(ProducerConfig::new(bootstrap.clone())).await;
    producer
        .send_and_wait(ProducerRecord::new(topic.clone(), "single").partition(1))
        .await
        .expect("delivered");

    let mut batch = producer.create_batch();
    let header = [Header {
        key: "h".into(),
        value: Some("x".into()),
    }];
    for i in 0..10i64 {
        let info = batch
            .append(
                Some(format!("k{i}").as_bytes()),
                Some(format!("b{i}").as_bytes()),
                Some(2_000 + i),
                &header,
            )
            .expect("room in the batch");
        assert_eq!(info.offset_delta, i as i32);
        assert_eq!(info.timestamp, 2_000 + i);
    }
    batch.close();
    assert!(
        batch.append(None, Some(b"refused"), None, &[]).is_none(),
        "closed"
    );
    assert_eq!(batch.record_count(), 10);
    let metadata = producer
        .send_batch(batch, &topic, 1)
        .await
        .expect("enqueued")
        .await
        .expect("delivered");
    assert_eq!(
        (metadata.partition, metadata.offset),
        (1, 1),
        "the batch's first record"
    );

    let mut out_of_range = producer.create_batch();
    out_of_range
        .append(None, Some(b"nowhere"), None, &[])
        .expect("first record");
    assert!(matches!(
        producer.send_batch(out_of_range, &topic, 5).await,
        Err(ProducerError::PartitionOutOfRange { .. })
    ));
    producer.stop().await;

    let read = consume(
        &bootstrap,
        &topic,
        11,
        30_000,
        &[
            "--property",
            "print.headers=true",
            "--property",
            "print.timestamp=true",
        ],
    );
    let mut seen: Vec<(i64, String, String, String, String)> = read
        .into_iter()
        .map(|r| {
            (
                r.offset,
                r.timestamp.expect("timestamp"),
                r.headers.expect("headers"),
                r.key,
                r.value,
            )
        })
        .collect();
    seen.sort();
    assert_eq!(seen[0].4, "single");
    for i in 0..10i64 {
        assert_eq!(
            seen[i as usize + 1],
            (
                i + 1,
                format!("CreateTime:{}", 2_000 + i),
                "h:x".to_string(),
                format!("k{i}"),
                format!("b{i}")
            )
        );
    }
    // One stored batch for the ten records.
    let batches = dump_batches(&bootstrap, &topic, 1);
    assert!(
        batches.iter().any(|b| b.base_offset == 1 && b.count == 10),
        "{batches:?}"
    );
}
