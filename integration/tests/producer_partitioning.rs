//! Where records land, checked against the real broker: per-partition order
//! under load, keyed placement identical to Kafka's own (Java) producer, and
//! sticky placement of keyless records.

mod common;

use std::collections::{BTreeMap, HashMap};

use actix_kafka::{Producer, ProducerConfig, ProducerRecord};
use actix_kafka_integration::{bootstrap, create_topic, unique_topic};
use common::{console_produce, consume, end_offsets};
use futures_util::future::join_all;

#[actix_rt::test]
async fn one_hundred_thousand_records_keep_per_partition_order() {
    const TOTAL: usize = 100_000;
    const CHUNK: usize = 1_000;
    const PARTITIONS: i32 = 8;
    let bootstrap = bootstrap();
    let topic = unique_topic("ordering");
    create_topic(&bootstrap, &topic, PARTITIONS as u32, &[]);
    let producer = Producer::start(ProducerConfig {
        linger_ms: 5,
        ..ProducerConfig::new(bootstrap.clone())
    })
    .await
    .expect("producer starts");

    // Half the chunks keyed (i % 64), half with an explicit partition.
    let mut deliveries = Vec::with_capacity(TOTAL);
    for chunk in 0..TOTAL / CHUNK {
        let records = (chunk * CHUNK..(chunk + 1) * CHUNK)
            .map(|i| {
                let record = ProducerRecord::new(topic.clone(), i.to_string()).key(format!("k{}", i % 64));
                if chunk % 2 == 0 {
                    record
                } else {
                    record.partition((i % PARTITIONS as usize) as i32)
                }
            })
            .collect();
        for (j, enqueued) in producer.send_all(records).await.into_iter().enumerate() {
            deliveries
                .push(enqueued.unwrap_or_else(|e| panic!("record {} not enqueued: {e}", chunk * CHUNK + j)));
        }
    }
    let acked: Vec<(i32, i64)> = join_all(deliveries)
        .await
        .into_iter()
        .enumerate()
        .map(|(i, result)| {
            let metadata = result.unwrap_or_else(|e| panic!("record {i} failed: {e}"));
            (metadata.partition, metadata.offset)
        })
        .collect();
    producer.stop().await;

    // Our acks: per partition, offsets are 0, 1, 2, ... in send order.
    let mut next = vec![0i64; PARTITIONS as usize];
    for (i, (partition, offset)) in acked.iter().enumerate() {
        assert_eq!(
            *offset, next[*partition as usize],
            "record {i} acked out of order"
        );
        next[*partition as usize] += 1;
    }
    let offsets = end_offsets(&bootstrap, &topic);
    let expected_ends: BTreeMap<i32, i64> = (0..PARTITIONS).zip(next.iter().copied()).collect();
    assert_eq!(offsets, expected_ends, "end offsets (GetOffsetShell)");
    assert!(
        next.iter().all(|&n| n > 0),
        "every partition got records: {next:?}"
    );

    // Kafka's console consumer: exact count, values strictly increasing per
    // partition, each at the place it was acked.
    let read = consume(&bootstrap, &topic, TOTAL, 60_000, &[]);
    let mut last: HashMap<i32, i64> = HashMap::new();
    let mut seen = vec![false; TOTAL];
    for record in &read {
        let i: usize = record.value.parse().expect("value is the index");
        assert!(!seen[i], "record {i} read twice");
        seen[i] = true;
        assert_eq!((record.partition, record.offset), acked[i], "record {i}");
        assert_eq!(record.key, format!("k{}", i % 64));
        if let Some(previous) = last.insert(record.partition, i as i64) {
            assert!(
                previous < i as i64,
                "partition {}: {i} after {previous}",
                record.partition
            );
        }
    }
    assert!(seen.iter().all(|&s| s), "every record read");
}

#[actix_rt::test]
async fn keyed_records_land_where_the_java_producer_puts_them() {
    const PARTITIONS: u32 = 7;
    let bootstrap = bootstrap();
    let ours = unique_topic("keys-ours");
    let java = unique_topic("keys-java");
    create_topic(&bootstrap, &ours, PARTITIONS, &[]);
    create_topic(&bootstrap, &java, PARTITIONS, &[]);

    // Lengths 0 to 20+ (every murmur2 tail length) and multi-byte UTF-8
    // (bytes >= 0x80, where a sign-extension bug would show).
    let mut keys: Vec<String> = (0..40).map(|i| "k".repeat(i % 21) + &i.to_string()).collect();
    keys.push(String::new());
    keys.extend(
        [
            "ключ",
            "鍵",
            "🔑-emoji",
            "ÿÿÿÿ",
            "a",
            "ab",
            "abc",
            "abcd",
            "user-123456789",
        ]
        .iter()
        .map(|k| k.to_string()),
    );
    let producer = Producer::start(ProducerConfig::new(bootstrap.clone()))
        .await
        .expect("producer starts");
    let records = keys
        .iter()
        .enumerate()
        .map(|(i, key)| ProducerRecord::new(ours.clone(), format!("v{i}")).key(key.clone()))
        .collect();
    let mut our_partitions: BTreeMap<String, i32> = BTreeMap::new();
    for (key, result) in keys.iter().zip(producer.send_all(records).await) {
        let metadata = result.expect("enqueued").await.expect("delivered");
        our_partitions.insert(key.clone(), metadata.partition);
    }
    producer.stop().await;

    // The same keys through Kafka's console producer (the Java client).
    let lines: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| format!("{key}\tv{i}"))
        .collect();
    console_produce(
        &bootstrap,
        &java,
        &lines,
        &["--property", "parse.key=true", "--property", "key.separator=\t"],
    );

    let read_map = |topic: &str| -> BTreeMap<String, i32> {
        consume(&bootstrap, topic, keys.len(), 30_000, &[])
            .into_iter()
            .map(|r| (r.key, r.partition))
            .collect()
    };
    let java_partitions = read_map(&java);
    let stored_ours = read_map(&ours);
    assert_eq!(
        java_partitions.len(),
        keys.len(),
        "every key read back from the Java topic"
    );
    assert_eq!(
        stored_ours, our_partitions,
        "where the broker stored ours == our acks"
    );
    assert_eq!(our_partitions, java_partitions, "our key -> partition == Java's");
    let used: std::collections::BTreeSet<i32> = java_partitions.values().copied().collect();
    assert!(used.len() > 3, "the keys spread over partitions: {used:?}");
}

#[actix_rt::test]
async fn keyless_records_stick_to_a_partition_per_batch() {
    const RECORDS: usize = 3_000;
    let bootstrap = bootstrap();
    let topic = unique_topic("sticky");
    create_topic(&bootstrap, &topic, 4, &[]);
    let producer = Producer::start(ProducerConfig::new(bootstrap.clone()))
        .await
        .expect("producer starts");
    let value_padding = "x".repeat(100);
    let records = (0..RECORDS)
        .map(|i| ProducerRecord::new(topic.clone(), format!("{i:05}{value_padding}")))
        .collect();
    let mut acked = Vec::new();
    for result in producer.send_all(records).await {
        acked.push(result.expect("enqueued").await.expect("delivered").partition);
    }
    producer.stop().await;

    let read = consume(&bootstrap, &topic, RECORDS, 30_000, &[]);
    let mut stored = vec![-1; RECORDS];
    for record in &read {
        let i: usize = record.value[..5].parse().expect("index prefix");
        stored[i] = record.partition;
    }
    assert_eq!(stored, acked, "acked partitions == stored partitions");
    // ~330 KB of keyless records with batch.size 16 KiB: the sticky
    // partitioner switches about every batch (~20 runs), a per-record random
    // choice would switch ~2,250 times.
    let runs = 1 + stored.windows(2).filter(|w| w[0] != w[1]).count();
    let partitions: std::collections::BTreeSet<i32> = stored.iter().copied().collect();
    assert!(runs <= 200, "{runs} runs of same-partition records: not sticky");
    assert!(
        partitions.len() >= 2,
        "keyless records all went to {partitions:?}: sticky never moved on"
    );
}
