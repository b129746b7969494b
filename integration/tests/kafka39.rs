//! The core of the suite against Apache Kafka 3.9.1, the last 3.x release,
//! on its own single KRaft node (127.0.0.1:9392, `scripts/kafka.sh` with
//! `KAFKA_VERSION=3.9.1`).
//!
//! Kafka 3.9 differs from the 4.4 nodes in what the producer must negotiate:
//! Produce goes up to v11 only (v12, KIP-890's implicit AddPartitionsToTxn, is
//! 4.0), and the broker has no `transaction.version` feature at all, so
//! transactions use the classic protocol (AddPartitionsToTxn, AddOffsetsToTxn,
//! an epoch that stays for the producer's session). Every record written here is
//! read back by Kafka 3.9.1's own tools (console consumer, `GetOffsetShell`,
//! the consumer-groups tool) run from the 3.9.1 jars; the stored batches are
//! read from the node's segment files with `DumpLogSegments` (common's helper,
//! 4.4 jars). Which versions the producer really sent comes from the node's
//! request log (`KAFKA_REQUEST_LOG=1`: one line per request with its header).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use actix_kafka::config::Acks;
use actix_kafka::probe::ProbeConnection;
use actix_kafka::{Compression, Producer, ProducerConfig, ProducerRecord, RecordMetadata};
use actix_kafka_integration::{kafka39_bootstrap, kafka_sh_with, unique_topic};
use bytes::Bytes;
use kafka_wire::api::ApiKey;
use kafka_wire::messages::produce::{PartitionProduceData, ProduceRequest, TopicProduceData};
use kafka_wire::record::{ProducerStamp, RecordBatchBuilder};

/// The release the node runs; its jars run every tool used here.
const VERSION: &str = "3.9.1";

/// `scripts/kafka.sh`'s state directory of the 3.9.1 node.
const STATE_DIR: &str = "single-3.9.1-9392";

/// Runs `scripts/kafka.sh` with the 3.9.1 jars against `bootstrap`; panics
/// with the tool's stderr if it fails.
fn kafka39_sh(bootstrap: &str, args: &[&str]) -> String {
    kafka_sh_with(&[("KAFKA_VERSION", VERSION)], bootstrap, args)
}

fn create_topic(bootstrap: &str, topic: &str, partitions: u32, configs: &[&str]) {
    let partitions = partitions.to_string();
    let mut args = vec!["topic-create", topic, &partitions, "1"];
    for config in configs {
        args.extend(["--config", config]);
    }
    kafka39_sh(bootstrap, &args);
}

/// One record as Kafka 3.9.1's console consumer prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Read {
    partition: i32,
    offset: i64,
    value: String,
}

/// Reads `topic` from the beginning with 3.9.1's console consumer at
/// `isolation` (`read_committed` / `read_uncommitted`): at most `max`
/// records, ending `timeout_ms` after the last one.
fn consume(bootstrap: &str, topic: &str, max: usize, timeout_ms: u64, isolation: &str) -> Vec<Read> {
    let max = max.to_string();
    let timeout = timeout_ms.to_string();
    let out = kafka39_sh(
        bootstrap,
        &[
            "consume",
            topic,
            "--from-beginning",
            "--max-messages",
            &max,
            "--timeout-ms",
            &timeout,
            "--isolation-level",
            isolation,
            "--property",
            "print.partition=true",
            "--property",
            "print.offset=true",
            "--property",
            "key.separator=|",
        ],
    );
    out.lines()
        .map(|line| {
            let mut fields = line.splitn(3, '|');
            let mut number = |prefix: &str| -> i64 {
                fields
                    .next()
                    .and_then(|f| f.strip_prefix(prefix))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("no {prefix} in console consumer line {line:?}"))
            };
            let partition = number("Partition:") as i32;
            let offset = number("Offset:");
            let value = fields.next().unwrap_or_default().to_string();
            Read {
                partition,
                offset,
                value,
            }
        })
        .collect()
}

/// Exactly the records a reader at `isolation` sees: asks for one more than
/// `expected` and waits 10 s for it, so that one too many shows.
fn values_exactly(bootstrap: &str, topic: &str, expected: usize, isolation: &str) -> Vec<String> {
    consume(bootstrap, topic, expected + 1, 10_000, isolation)
        .into_iter()
        .map(|r| r.value)
        .collect()
}

/// The end offset of every partition, from 3.9.1's `GetOffsetShell`.
fn end_offsets(bootstrap: &str, topic: &str) -> BTreeMap<i32, i64> {
    let out = kafka39_sh(
        bootstrap,
        &[
            "run-class",
            "org.apache.kafka.tools.GetOffsetShell",
            "--bootstrap-server",
            bootstrap,
            "--topic",
            topic,
        ],
    );
    common::parse_end_offsets(&out, topic)
}

fn stored_batches(bootstrap: &str, topic: &str, partition: i32) -> Vec<common::DumpedBatch> {
    common::dump_batches_in(&common::broker_log_dir(STATE_DIR), bootstrap, topic, partition)
}

/// Sends every record, awaits every delivery, then stops the producer.
async fn send_all(producer: Producer, records: Vec<ProducerRecord>) -> Vec<RecordMetadata> {
    let mut acked = Vec::new();
    for delivery in producer.send_all(records).await {
        acked.push(delivery.expect("accepted").await.expect("delivered"));
    }
    producer.stop().await;
    acked
}

/// ApiVersions as the probe connection sees it: Produce up to v11 (chosen:
/// v11), no `transaction.version`, and a Produce at each end of the common
/// range (v3, v11) is acknowledged and read back by 3.9.1's console consumer.
#[test]
fn negotiates_produce_v11_and_no_transaction_version() {
    let bootstrap = kafka39_bootstrap();
    let mut conn = ProbeConnection::connect(&bootstrap, "kafka39-test", Duration::from_secs(30))
        .expect("connect and negotiate");
    let produce = conn
        .api_versions()
        .broker_versions()
        .into_iter()
        .find(|v| v.api_key == ApiKey::Produce.code())
        .expect("the broker lists Produce");
    // Produce v0-v2 are advertised here as on 4.x (which rejects them, KIP-896).
    assert_eq!((produce.min_version, produce.max_version), (0, 11));
    assert_eq!(conn.versions().version(ApiKey::Produce), Some(11));
    assert_eq!(conn.version_of(ApiKey::Produce).unwrap(), 11);
    // No transaction.version feature: the producer stays on the classic
    // transaction protocol (it switches only on a finalized level >= 2).
    assert_eq!(
        conn.api_versions().finalized_feature("transaction.version"),
        None,
        "{:?}",
        conn.api_versions().finalized_features
    );
    // ... and the broker has none of the transaction.version 2 versions (v5).
    assert_eq!(conn.versions().version(ApiKey::EndTxn), Some(4));
    assert_eq!(conn.versions().version(ApiKey::TxnOffsetCommit), Some(4));

    // Both ends of the range the two sides share are acknowledged: v3 (the
    // oldest we speak) and v11.
    let topic = unique_topic("k39-wire");
    create_topic(&bootstrap, &topic, 1, &[]);
    for (i, version) in [3, 11].into_iter().enumerate() {
        let mut batch = RecordBatchBuilder::new(Compression::None, 1 << 20);
        let value = format!("v{version}");
        batch
            .append(1_700_000_000_000, None, Some(value.as_bytes()), &[])
            .unwrap()
            .expect("fits");
        let records: Bytes = batch.close(ProducerStamp::NONE).unwrap().bytes().clone();
        let request = ProduceRequest {
            transactional_id: None,
            acks: -1,
            timeout_ms: 30_000,
            topic_data: vec![TopicProduceData {
                name: topic.clone(),
                partition_data: vec![PartitionProduceData {
                    index: 0,
                    records: Some(records),
                }],
            }],
        };
        let response = conn
            .call_at(&request, version)
            .unwrap_or_else(|e| panic!("produce v{version}: {e}"));
        let partition = &response.responses[0].partition_responses[0];
        assert!(
            partition.error_code.is_ok(),
            "v{version}: {}",
            partition.error_code
        );
        assert_eq!(partition.base_offset, i as i64, "v{version}");
    }
    assert_eq!(
        values_exactly(&bootstrap, &topic, 2, "read_uncommitted"),
        ["v3", "v11"]
    );
}

/// The node's request-log lines of every request from `client_id`, in order.
/// The node writes a line per completed request (header, request and response
/// summary, as JSON) to `requests.log` when started with `KAFKA_REQUEST_LOG=1`
/// (as `scripts/test.sh` does).
fn request_lines(client_id: &str) -> Vec<String> {
    let log = common::broker_log_dir(STATE_DIR)
        .parent()
        .expect("the node's directory")
        .join("logs/requests.log");
    let text = std::fs::read_to_string(&log).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}): start the node with \
             `KAFKA_REQUEST_LOG=1 KAFKA_VERSION=3.9.1 KAFKA_PORT=9392 scripts/kafka.sh up`",
            log.display()
        )
    });
    let wanted = format!("\"clientId\":\"{client_id}\"");
    text.lines()
        // The header comes first on each line; the bodies follow it.
        .filter(|line| {
            line.split("\"request\":")
                .next()
                .is_some_and(|h| h.contains(&wanted))
        })
        .map(str::to_owned)
        .collect()
}

/// [`request_lines`] once `done` holds for them: the broker writes a line
/// after it sends the response, so the last one can come a moment after the
/// client has its answer. Gives up (returning what is there) after 10 s.
fn request_lines_once(client_id: &str, done: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let lines = request_lines(client_id);
        if done(&lines) || std::time::Instant::now() >= deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn api_of(line: &str) -> i64 {
    number_after(line, "\"requestApiKey\":")
}

/// The first number after `field` (`"name":`) in a request-log line.
fn number_after(line: &str, field: &str) -> i64 {
    let at = line.find(field).unwrap_or_else(|| panic!("no {field} in {line}"));
    let digits: String = line[at + field.len()..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().unwrap_or_else(|_| panic!("bad {field} in {line}"))
}

/// `(api key, version)` of every request the node logged from `client_id`,
/// once one of `last` is among them.
fn requests_from(client_id: &str, last: ApiKey) -> Vec<(i16, i16)> {
    let last = i64::from(last.code());
    request_lines_once(client_id, |lines| lines.iter().any(|l| api_of(l) == last))
        .iter()
        .map(|line| {
            (
                number_after(line, "\"requestApiKey\":") as i16,
                number_after(line, "\"requestApiVersion\":") as i16,
            )
        })
        .collect()
}

/// The versions of `api` among `requests`, deduplicated.
fn versions_of(requests: &[(i16, i16)], api: ApiKey) -> Vec<i16> {
    let mut versions: Vec<i16> = requests
        .iter()
        .filter(|(key, _)| *key == api.code())
        .map(|(_, version)| *version)
        .collect();
    versions.sort_unstable();
    versions.dedup();
    versions
}

/// What the producer itself sent, as the broker logged it: Produce v11 from
/// an idempotent and from a transactional producer, and the classic
/// transaction requests (AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit,
/// EndTxn v4) that transaction.version 2 would replace.
#[actix_rt::test]
async fn the_producer_sends_produce_v11_and_the_classic_transaction_requests() {
    let bootstrap = kafka39_bootstrap();
    let topic = unique_topic("k39-versions");
    create_topic(&bootstrap, &topic, 1, &[]);

    let idempotent_id = unique_topic("k39-idem-client");
    let producer = Producer::start(ProducerConfig {
        enable_idempotence: true,
        client_id: idempotent_id.clone(),
        ..ProducerConfig::new(bootstrap.clone())
    })
    .await
    .unwrap();
    for i in 0..3 {
        producer
            .send_and_wait(record(&topic, &format!("i{i}")))
            .await
            .unwrap();
    }
    producer.stop().await;

    let transactional_id = unique_topic("k39-txn-client");
    let producer = Producer::start(ProducerConfig {
        client_id: transactional_id.clone(),
        ..transactional(&bootstrap)
    })
    .await
    .unwrap();
    producer.begin_transaction().await.unwrap();
    for i in 0..3 {
        producer
            .send_and_wait(record(&topic, &format!("t{i}")))
            .await
            .unwrap();
    }
    producer
        .send_offsets_to_transaction(vec![(topic.clone(), 0, 1)], &unique_topic("k39-group"))
        .await
        .unwrap();
    producer.commit_transaction().await.unwrap();
    producer.stop().await;

    let idempotent = requests_from(&idempotent_id, ApiKey::Produce);
    assert_eq!(versions_of(&idempotent, ApiKey::Produce), [11], "{idempotent:?}");
    assert!(
        !versions_of(&idempotent, ApiKey::InitProducerId).is_empty(),
        "{idempotent:?}"
    );

    let txn = requests_from(&transactional_id, ApiKey::EndTxn);
    assert_eq!(versions_of(&txn, ApiKey::Produce), [11], "{txn:?}");
    // AddPartitionsToTxn v3 is the newest a client may send (v4+ are
    // broker-to-broker); the others are the newest 3.9 has.
    for (api, version) in [
        (ApiKey::AddPartitionsToTxn, 3),
        (ApiKey::AddOffsetsToTxn, 4),
        (ApiKey::TxnOffsetCommit, 4),
        (ApiKey::EndTxn, 4),
    ] {
        assert_eq!(versions_of(&txn, api), [version], "{api:?} in {txn:?}");
    }
    assert_eq!(
        values_exactly(&bootstrap, &topic, 6, "read_committed"),
        ["i0", "i1", "i2", "t0", "t1", "t2"]
    );
}

/// Every codec with every acks level, one partition per codec; Kafka 3.9.1's
/// console consumer reads each record once where the producer said it is, and
/// the stored batches carry the codec.
#[actix_rt::test]
async fn every_codec_and_acks_level_is_read_back_by_kafka_3_9() {
    let bootstrap = kafka39_bootstrap();
    let topic = unique_topic("k39-codecs");
    let codecs = [
        (Compression::None, "none"),
        (Compression::Gzip, "gzip"),
        (Compression::Snappy, "snappy"),
        (Compression::Lz4, "lz4"),
        (Compression::Zstd, "zstd"),
    ];
    let acks_levels = [
        (Acks::None, "acks0"),
        (Acks::Leader, "acks1"),
        (Acks::All, "acksall"),
    ];
    create_topic(&bootstrap, &topic, codecs.len() as u32, &[]);
    let per_producer = 50;

    // value -> acked (partition, offset); acks=0 deliveries have offset -1.
    let mut acked: BTreeMap<String, (i32, i64)> = BTreeMap::new();
    for (partition, (codec, codec_name)) in codecs.iter().enumerate() {
        for (acks, acks_name) in &acks_levels {
            let producer = Producer::start(ProducerConfig {
                compression_type: *codec,
                acks: Some(*acks),
                linger_ms: 5,
                ..ProducerConfig::new(bootstrap.clone())
            })
            .await
            .unwrap();
            let values: Vec<String> = (0..per_producer)
                .map(|i| format!("{codec_name}-{acks_name}-{i}-{}", "x".repeat(40)))
                .collect();
            let records = values
                .iter()
                .map(|v| ProducerRecord::new(topic.clone(), v.clone()).partition(partition as i32))
                .collect();
            let metadata = send_all(producer, records).await;
            for (value, m) in values.into_iter().zip(metadata) {
                assert_eq!(m.partition, partition as i32);
                if *acks == Acks::None {
                    assert_eq!(m.offset, -1, "acks=0 learns no offset");
                } else {
                    assert!(m.offset >= 0, "{value}: {m:?}");
                }
                acked.insert(value, (m.partition, m.offset));
            }
        }
    }

    let total = codecs.len() * acks_levels.len() * per_producer;
    let expected_ends: BTreeMap<i32, i64> = (0..codecs.len() as i32)
        .map(|p| (p, (acks_levels.len() * per_producer) as i64))
        .collect();
    assert_eq!(
        end_offsets(&bootstrap, &topic),
        expected_ends,
        "nothing lost, nothing twice"
    );
    let read = consume(&bootstrap, &topic, total, 30_000, "read_uncommitted");
    assert_eq!(read.len(), total);
    let mut seen: BTreeMap<String, (i32, i64)> = BTreeMap::new();
    for r in &read {
        assert!(
            seen.insert(r.value.clone(), (r.partition, r.offset)).is_none(),
            "{} read twice",
            r.value
        );
    }
    assert_eq!(seen.len(), acked.len());
    for (value, (partition, offset)) in &acked {
        let (read_partition, read_offset) = seen[value];
        assert_eq!(read_partition, *partition, "{value}");
        if *offset >= 0 {
            assert_eq!(
                read_offset, *offset,
                "{value}: acked at {offset}, stored at {read_offset}"
            );
        }
    }
    // In each partition, each producer's records in send order.
    for partition in 0..codecs.len() as i32 {
        let values: Vec<&str> = read
            .iter()
            .filter(|r| r.partition == partition)
            .map(|r| r.value.as_str())
            .collect();
        for (_, acks_name) in &acks_levels {
            let mine: Vec<usize> = values
                .iter()
                .filter(|v| v.split('-').nth(1) == Some(acks_name))
                .map(|v| v.split('-').nth(2).unwrap().parse().unwrap())
                .collect();
            assert_eq!(
                mine,
                (0..per_producer).collect::<Vec<_>>(),
                "partition {partition} {acks_name}"
            );
        }
    }

    // The broker stored what the producer compressed.
    for (partition, (_, codec_name)) in codecs.iter().enumerate() {
        let batches = stored_batches(&bootstrap, &topic, partition as i32);
        assert!(!batches.is_empty());
        for b in &batches {
            assert_eq!(b.codec, *codec_name, "partition {partition}: {b:?}");
        }
        assert_eq!(
            batches.iter().map(|b| b.count).sum::<i64>(),
            (acks_levels.len() * per_producer) as i64
        );
    }
}

/// A real retry on the real broker. The topic takes batches of at most 3000
/// bytes (`max.message.bytes`); the producer lingers long enough to gather all
/// 400 records (about 20 kB) into one batch, which the broker refuses with
/// MESSAGE_TOO_LARGE (nothing appended). The idempotent producer splits it in
/// halves and sends them again until they fit, with the same producer id and
/// epoch and sequences that stay gapless: each record is stored once, in order.
///
/// (NOT_ENOUGH_REPLICAS cannot be provoked on one node: Kafka caps the
/// effective `min.insync.replicas` at the replication factor.)
#[actix_rt::test]
async fn idempotent_batches_refused_as_too_large_are_split_retried_and_stored_once() {
    let bootstrap = kafka39_bootstrap();
    let topic = unique_topic("k39-idem");
    let max_message_bytes = 3000;
    create_topic(
        &bootstrap,
        &topic,
        1,
        &[&format!("max.message.bytes={max_message_bytes}")],
    );
    let client_id = unique_topic("k39-split-client");
    let producer = Producer::start(ProducerConfig {
        enable_idempotence: true,
        linger_ms: 500,
        max_batch_size: 256 * 1024,
        client_id: client_id.clone(),
        ..ProducerConfig::new(bootstrap.clone())
    })
    .await
    .unwrap();
    let n: i32 = 400;
    let values: Vec<String> = (0..n).map(|i| format!("{i:04}-{}", "y".repeat(40))).collect();
    let records = values
        .iter()
        .map(|v| ProducerRecord::new(topic.clone(), v.clone()).partition(0))
        .collect();
    let acked = actix_rt::time::timeout(Duration::from_secs(60), send_all(producer, records))
        .await
        .expect("delivered within 60 s");
    let offsets: Vec<i64> = acked.iter().map(|m| m.offset).collect();
    assert_eq!(
        offsets,
        (0..i64::from(n)).collect::<Vec<_>>(),
        "acked in send order"
    );

    let read = values_exactly(&bootstrap, &topic, n as usize, "read_uncommitted");
    assert_eq!(read, values, "every record once, in order");
    // The broker's own account: the first Produce carried more than the topic
    // takes and was refused with MESSAGE_TOO_LARGE (10); later ones succeeded.
    let accepted = |line: &String| api_of(line) == 0 && number_after(line, "\"errorCode\":") == 0;
    let produces: Vec<String> = request_lines_once(&client_id, |lines| lines.iter().any(accepted))
        .into_iter()
        .filter(|line| api_of(line) == 0)
        .collect();
    let first = produces
        .first()
        .expect("the producer's Produce requests are logged");
    assert!(
        number_after(first, "\"recordsSizeInBytes\":") > max_message_bytes,
        "{first}"
    );
    assert_eq!(number_after(first, "\"errorCode\":"), 10, "{first}");
    let refused = produces
        .iter()
        .filter(|line| number_after(line, "\"errorCode\":") == 10)
        .count();
    assert!(refused < produces.len(), "{produces:#?}");

    let batches = stored_batches(&bootstrap, &topic, 0);
    // Only the split halves fit.
    let record_bytes = values[0].len() as i64;
    assert!(batches.len() >= 7, "the refused batch was split: {batches:?}");
    for b in &batches {
        assert!(b.count * record_bytes < max_message_bytes, "{b:?}");
    }
    let producer_id = batches[0].producer_id;
    assert!(producer_id >= 0);
    let mut next_sequence = 0;
    for b in &batches {
        assert_eq!((b.producer_id, b.producer_epoch), (producer_id, 0), "{b:?}");
        assert_eq!(b.base_sequence, next_sequence, "no gap, no repeat: {batches:?}");
        next_sequence += b.count as i32;
    }
    assert_eq!(next_sequence, n);
}

fn transactional(bootstrap: &str) -> ProducerConfig {
    ProducerConfig {
        transactional_id: Some(unique_topic("k39-txn-id")),
        ..ProducerConfig::new(bootstrap)
    }
}

fn record(topic: &str, value: &str) -> ProducerRecord {
    ProducerRecord::new(topic.to_string(), value.to_string()).partition(0)
}

/// Commit, abort, commit: read_committed sees only the committed records,
/// read_uncommitted all of them; the stored batches show the classic protocol
/// (one epoch for the session, sequences continuing across transactions) and
/// one marker per transaction.
#[actix_rt::test]
async fn committed_records_are_visible_and_aborted_ones_never() {
    let bootstrap = kafka39_bootstrap();
    let topic = unique_topic("k39-txn");
    create_topic(&bootstrap, &topic, 1, &[]);
    let producer = Producer::start(transactional(&bootstrap)).await.unwrap();
    for (round, commit) in [(0, true), (1, false), (2, true)] {
        producer.begin_transaction().await.unwrap();
        for i in 0..2 {
            // Awaited one by one: a batch each.
            let value = format!("{}{round}-{i}", if commit { "c" } else { "a" });
            producer.send_and_wait(record(&topic, &value)).await.unwrap();
        }
        if commit {
            producer.commit_transaction().await.unwrap();
        } else {
            producer.abort_transaction().await.unwrap();
        }
    }
    producer.stop().await;

    // Both readers at once: each waits 10 s for a record too many.
    let (committed, uncommitted) = std::thread::scope(|s| {
        let committed = s.spawn(|| values_exactly(&bootstrap, &topic, 4, "read_committed"));
        let uncommitted = values_exactly(&bootstrap, &topic, 6, "read_uncommitted");
        (committed.join().expect("the read_committed reader"), uncommitted)
    });
    assert_eq!(committed, ["c0-0", "c0-1", "c2-0", "c2-1"]);
    assert_eq!(uncommitted, ["c0-0", "c0-1", "a1-0", "a1-1", "c2-0", "c2-1"]);
    let batches = stored_batches(&bootstrap, &topic, 0);
    assert_eq!(
        batches.iter().filter(|b| b.is_control).count(),
        3,
        "one marker per transaction"
    );
    let data: Vec<(i16, i32)> = batches
        .iter()
        .filter(|b| !b.is_control)
        .map(|b| (b.producer_epoch, b.base_sequence))
        .collect();
    let e = data[0].0;
    assert_eq!(data, [(e, 0), (e, 1), (e, 2), (e, 3), (e, 4), (e, 5)]);
}

/// Offsets sent in an aborted transaction are never committed; those sent in
/// a committed one are, as 3.9.1's consumer-groups tool shows.
#[actix_rt::test]
async fn offsets_are_committed_only_with_the_transaction() {
    let bootstrap = kafka39_bootstrap();
    let input = unique_topic("k39-txn-in");
    let output = unique_topic("k39-txn-out");
    create_topic(&bootstrap, &input, 1, &[]);
    create_topic(&bootstrap, &output, 1, &[]);
    let group = unique_topic("k39-group");
    let producer = Producer::start(transactional(&bootstrap)).await.unwrap();

    producer.begin_transaction().await.unwrap();
    producer.send_and_wait(record(&output, "aborted")).await.unwrap();
    producer
        .send_offsets_to_transaction(vec![(input.clone(), 0, 5)], &group)
        .await
        .unwrap();
    producer.abort_transaction().await.unwrap();

    producer.begin_transaction().await.unwrap();
    producer
        .send_and_wait(record(&output, "committed"))
        .await
        .unwrap();
    producer
        .send_offsets_to_transaction(vec![(input.clone(), 0, 7)], &group)
        .await
        .unwrap();
    producer.commit_transaction().await.unwrap();
    producer.stop().await;

    let out = kafka39_sh(
        &bootstrap,
        &[
            "run-class",
            "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
            "--bootstrap-server",
            &bootstrap,
            "--describe",
            "--group",
            &group,
        ],
    );
    let committed = common::parse_committed_offsets(&out, &input);
    assert_eq!(committed.get(&0), Some(&7), "only the committed offset:\n{out}");
    assert_eq!(
        values_exactly(&bootstrap, &output, 1, "read_committed"),
        ["committed"]
    );
}
