//! Bad input against the real broker: each bad record or configuration gets a
//! clear error, and the good records around it all land (checked with
//! Kafka's console consumer and GetOffsetShell).

mod common;

use std::time::{Duration, Instant};

use actix_kafka::config::Acks;
use actix_kafka::error::TopicNameError;
use actix_kafka::{Produce, Producer, ProducerConfig, ProducerError, ProducerRecord};
use actix_kafka_integration::{bootstrap, create_topic, unique_topic};
use common::{consume, record_count};
use futures_util::future::join_all;

async fn start(config: ProducerConfig) -> Producer {
    Producer::start(config).await.expect("producer starts")
}

/// Sends `records` with one `send_all`, then awaits every delivery that was
/// enqueued. Returns, per record, the offset or the error.
async fn send_all_and_wait(
    producer: &Producer,
    records: Vec<ProducerRecord>,
) -> Vec<Result<i64, ProducerError>> {
    let enqueued = producer.send_all(records).await;
    let mut out = Vec::new();
    for result in enqueued {
        out.push(match result {
            Ok(delivery) => delivery.await.map(|m| m.offset),
            Err(e) => Err(e),
        });
    }
    out
}

/// The values of `topic` in offset order (single-partition topics).
fn values(bootstrap: &str, topic: &str, count: usize) -> Vec<String> {
    consume(bootstrap, topic, count, 30_000, &[])
        .into_iter()
        .map(|r| r.value)
        .collect()
}

#[actix_rt::test]
async fn invalid_topic_names_are_refused_and_good_records_around_them_land() {
    let bootstrap = bootstrap();
    let topic = unique_topic("bad-names");
    create_topic(&bootstrap, &topic, 1, &[]);
    let producer = start(ProducerConfig::new(bootstrap.clone())).await;

    let bad_names = [
        "",
        "has space",
        "semi;colon",
        "ümlaut",
        ".",
        "..",
        &"t".repeat(250),
    ];
    let mut records = Vec::new();
    for (i, bad) in bad_names.iter().enumerate() {
        records.push(ProducerRecord::new(topic.clone(), format!("good-{i}")));
        records.push(ProducerRecord::new(bad.to_string(), format!("bad-{i}")));
    }
    records.push(ProducerRecord::new(topic.clone(), "good-last"));
    let results = send_all_and_wait(&producer, records).await;
    for (i, result) in results.iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(result.as_ref().ok(), Some(&((i / 2) as i64)), "good record {i}");
        } else {
            let bad = bad_names[i / 2];
            match result {
                Err(ProducerError::InvalidTopic { topic, reason }) => {
                    assert_eq!(topic, bad);
                    let expected = match bad {
                        "" => TopicNameError::Empty,
                        "." | ".." => TopicNameError::Dots,
                        long if long.len() > 249 => TopicNameError::TooLong { length: long.len() },
                        other => TopicNameError::IllegalCharacter {
                            character: other.chars().find(|c| !c.is_ascii_alphanumeric()).unwrap(),
                        },
                    };
                    assert_eq!(reason, &expected, "topic {bad:?}");
                }
                other => panic!("topic {bad:?}: expected InvalidTopic, got {other:?}"),
            }
        }
    }

    // The single-record paths say the same.
    let started = Instant::now();
    assert!(matches!(
        producer.send(ProducerRecord::new("bad topic", "x")).await,
        Err(ProducerError::InvalidTopic { .. })
    ));
    assert!(matches!(
        producer.addr().send(Produce(ProducerRecord::new("", "x"))).await,
        Ok(Err(ProducerError::InvalidTopic { .. }))
    ));
    assert!(matches!(
        producer.partitions_for("bad/topic").await,
        Err(ProducerError::InvalidTopic { .. })
    ));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "refused without waiting"
    );
    producer
        .send_and_wait(ProducerRecord::new(topic.clone(), "good-after"))
        .await
        .expect("the producer still works");
    producer.stop().await;

    let mut expected: Vec<String> = (0..bad_names.len()).map(|i| format!("good-{i}")).collect();
    expected.push("good-last".into());
    expected.push("good-after".into());
    assert_eq!(values(&bootstrap, &topic, expected.len()), expected);
    assert_eq!(record_count(&bootstrap, &topic), expected.len() as i64);
}

#[actix_rt::test]
async fn an_unknown_topic_fails_after_max_block_ms_without_holding_up_other_topics() {
    let bootstrap = bootstrap();
    let topic = unique_topic("known");
    let missing = unique_topic("missing");
    create_topic(&bootstrap, &topic, 1, &[]);
    let producer = start(ProducerConfig {
        max_block_ms: 1_000,
        ..ProducerConfig::new(bootstrap.clone())
    })
    .await;
    // Metadata for the good topic first, so its records need no wait.
    producer
        .send_and_wait(ProducerRecord::new(topic.clone(), "good-0"))
        .await
        .expect("delivered");

    let started = Instant::now();
    let unknown = async {
        let result = producer.send(ProducerRecord::new(missing.clone(), "lost")).await;
        (result.map(|_| ()), started.elapsed())
    };
    let mixed = async {
        send_all_and_wait(
            &producer,
            vec![
                ProducerRecord::new(topic.clone(), "good-1"),
                ProducerRecord::new(missing.clone(), "lost-too"),
                ProducerRecord::new(topic.clone(), "good-2"),
            ],
        )
        .await
    };
    let good = async {
        let mut finished = Vec::new();
        for i in 3..6 {
            producer
                .send_and_wait(ProducerRecord::new(topic.clone(), format!("good-{i}")))
                .await
                .expect("a known topic is not held up");
            finished.push(started.elapsed());
        }
        finished
    };
    let partitions = async { (producer.partitions_for(&missing).await, started.elapsed()) };
    let ((unknown, unknown_after), mixed, good_finished, (partitions, partitions_after)) =
        tokio::join!(unknown, mixed, good, partitions);

    match unknown {
        Err(ProducerError::UnknownTopic { topic, waited_ms }) => {
            assert_eq!(topic, missing);
            assert!(waited_ms >= 900, "waited {waited_ms} ms of max_block_ms=1000");
        }
        other => panic!("expected UnknownTopic, got {other:?}"),
    }
    assert!(
        unknown_after >= Duration::from_millis(900) && unknown_after < Duration::from_secs(5),
        "UnknownTopic after {unknown_after:?}"
    );
    assert!(
        matches!(partitions, Err(ProducerError::UnknownTopic { .. })),
        "partitions_for: {partitions:?}"
    );
    assert!(
        partitions_after >= Duration::from_millis(900),
        "{partitions_after:?}"
    );
    assert!(mixed[0].is_ok() && mixed[2].is_ok(), "{mixed:?}");
    assert!(
        matches!(mixed[1], Err(ProducerError::UnknownTopic { .. })),
        "{mixed:?}"
    );
    assert!(
        good_finished.iter().all(|t| *t < unknown_after),
        "good records finished at {good_finished:?}, the unknown topic failed at {unknown_after:?}"
    );
    producer.stop().await;

    let mut read = values(&bootstrap, &topic, 6);
    read.sort();
    assert_eq!(read, (0..6).map(|i| format!("good-{i}")).collect::<Vec<_>>());
    assert_eq!(record_count(&bootstrap, &topic), 6);
}

#[actix_rt::test]
async fn an_explicit_partition_out_of_range_is_refused() {
    let bootstrap = bootstrap();
    let topic = unique_topic("bad-partition");
    create_topic(&bootstrap, &topic, 3, &[]);
    let producer = start(ProducerConfig::new(bootstrap.clone())).await;
    let records = vec![
        ProducerRecord::new(topic.clone(), "good-0").partition(2),
        ProducerRecord::new(topic.clone(), "bad-3").partition(3),
        ProducerRecord::new(topic.clone(), "good-1").partition(2),
        ProducerRecord::new(topic.clone(), "bad-neg").partition(-1),
        ProducerRecord::new(topic.clone(), "good-2").partition(2),
        ProducerRecord::new(topic.clone(), "bad-max").partition(i32::MAX),
        ProducerRecord::new(topic.clone(), "good-3").partition(2),
    ];
    let results = send_all_and_wait(&producer, records).await;
    for (i, result) in results.iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(result.as_ref().ok(), Some(&((i / 2) as i64)), "good record {i}");
        } else {
            match result {
                Err(ProducerError::PartitionOutOfRange {
                    topic: t,
                    partitions: 3,
                    partition,
                }) => {
                    assert_eq!(t, &topic);
                    assert!(*partition >= 3 || *partition < 0);
                }
                other => panic!("record {i}: expected PartitionOutOfRange, got {other:?}"),
            }
        }
    }
    assert_eq!(
        producer.partitions_for(&topic).await.expect("known topic"),
        vec![0, 1, 2]
    );
    producer.stop().await;

    let read = consume(&bootstrap, &topic, 4, 30_000, &[]);
    let placed: Vec<(i32, i64, &str)> = read
        .iter()
        .map(|r| (r.partition, r.offset, r.value.as_str()))
        .collect();
    assert_eq!(
        placed,
        [
            (2, 0, "good-0"),
            (2, 1, "good-1"),
            (2, 2, "good-2"),
            (2, 3, "good-3")
        ]
    );
    assert_eq!(record_count(&bootstrap, &topic), 4);
}

#[actix_rt::test]
async fn an_oversized_record_is_refused_alone() {
    let bootstrap = bootstrap();
    let topic = unique_topic("oversized");
    create_topic(&bootstrap, &topic, 1, &[]);
    let producer = start(ProducerConfig {
        max_request_size: 100_000,
        ..ProducerConfig::new(bootstrap.clone())
    })
    .await;
    let mut key_and_headers = ProducerRecord::new(topic.clone(), vec![b'v'; 40_000]).key(vec![b'k'; 40_000]);
    key_and_headers = key_and_headers.header("h", vec![b'h'; 30_000]);
    let records = vec![
        ProducerRecord::new(topic.clone(), "good-0"),
        ProducerRecord::new(topic.clone(), vec![b'x'; 200_000]),
        ProducerRecord::new(topic.clone(), "good-1"),
        // Each part fits; key + value + headers do not.
        key_and_headers,
        ProducerRecord::new(topic.clone(), "good-2"),
        // Just under the limit: accepted.
        ProducerRecord::new(topic.clone(), vec![b'y'; 99_000]),
    ];
    let results = send_all_and_wait(&producer, records).await;
    assert_eq!(results[0].as_ref().ok(), Some(&0));
    assert_eq!(results[2].as_ref().ok(), Some(&1));
    assert_eq!(results[4].as_ref().ok(), Some(&2));
    assert_eq!(results[5].as_ref().ok(), Some(&3));
    for i in [1, 3] {
        match &results[i] {
            Err(ProducerError::RecordTooLarge { size, max }) => {
                assert_eq!(*max, 100_000);
                assert!(*size > 100_000, "size {size}");
            }
            other => panic!("record {i}: expected RecordTooLarge, got {other:?}"),
        }
    }
    producer.stop().await;
    let read = values(&bootstrap, &topic, 4);
    assert_eq!(&read[..3], ["good-0", "good-1", "good-2"]);
    assert_eq!(read[3].len(), 99_000);
}

#[actix_rt::test]
async fn a_negative_timestamp_is_refused_alone() {
    // Kafka would refuse the whole batch (INVALID_TIMESTAMP), failing the
    // good records that share it; the producer refuses the one record.
    let bootstrap = bootstrap();
    let topic = unique_topic("negative-ts");
    create_topic(&bootstrap, &topic, 1, &[]);
    let producer = start(ProducerConfig {
        linger_ms: 50,
        ..ProducerConfig::new(bootstrap.clone())
    })
    .await;
    let records = vec![
        ProducerRecord::new(topic.clone(), "good-0"),
        ProducerRecord::new(topic.clone(), "bad").timestamp(-5),
        ProducerRecord::new(topic.clone(), "good-1").timestamp(0),
    ];
    let results = send_all_and_wait(&producer, records).await;
    assert_eq!(results[0].as_ref().ok(), Some(&0));
    assert_eq!(
        results[1],
        Err(ProducerError::InvalidTimestamp { timestamp_ms: -5 })
    );
    assert_eq!(results[2].as_ref().ok(), Some(&1));
    producer.stop().await;
    assert_eq!(values(&bootstrap, &topic, 2), ["good-0", "good-1"]);
}

#[actix_rt::test]
async fn bad_configurations_are_rejected_at_start() {
    let bootstrap = bootstrap();
    let base = || ProducerConfig::new(bootstrap.clone());
    let cases: Vec<(&str, ProducerConfig)> = vec![
        (
            "acks",
            ProducerConfig {
                acks: Some(Acks::Leader),
                enable_idempotence: true,
                ..base()
            },
        ),
        (
            "acks",
            ProducerConfig {
                acks: Some(Acks::None),
                transactional_id: Some("tx".into()),
                ..base()
            },
        ),
        (
            "max_batch_size",
            ProducerConfig {
                max_batch_size: 0,
                ..base()
            },
        ),
        (
            "buffer_memory",
            ProducerConfig {
                buffer_memory: 0,
                ..base()
            },
        ),
        (
            "request_timeout_ms",
            ProducerConfig {
                request_timeout_ms: 0,
                ..base()
            },
        ),
        (
            "bootstrap_servers",
            ProducerConfig {
                bootstrap_servers: String::new(),
                ..base()
            },
        ),
        ("bootstrap_servers", ProducerConfig::new("no-port-here")),
        (
            "transactional_id",
            ProducerConfig {
                transactional_id: Some(String::new()),
                ..base()
            },
        ),
        (
            "max_in_flight_requests_per_connection",
            ProducerConfig {
                enable_idempotence: true,
                max_in_flight_requests_per_connection: 6,
                ..base()
            },
        ),
    ];
    for (option, config) in cases {
        let started = Instant::now();
        match Producer::start(config).await {
            Err(ProducerError::Config { option: got, problem }) => {
                assert_eq!(got, option, "{problem}");
                assert!(!problem.to_string().is_empty());
            }
            Err(other) => panic!("{option}: expected a Config error, got {other:?}"),
            Ok(producer) => {
                producer.stop().await;
                panic!("{option}: a bad configuration started a producer");
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{option}: rejected before any I/O"
        );
    }

    // Kafka property names: bad values and unsupported options.
    let mut config = base();
    for (key, value) in [
        ("linger.ms", "soon"),
        ("acks", "2"),
        ("compression.type", "brotli"),
        ("no.such.property", "1"),
        ("retries", "3"),
    ] {
        match config.set(key, value) {
            Err(ProducerError::Config { .. }) => {}
            other => panic!("set({key:?}, {value:?}): {other:?}"),
        }
    }
    // An explicit acks=all with idempotence is fine.
    let ok = ProducerConfig {
        acks: Some(Acks::All),
        enable_idempotence: true,
        ..base()
    };
    ok.validate().expect("acks=all with idempotence");

    // A cluster that does not answer: start fails within max_block_ms.
    let started = Instant::now();
    let unreachable = Producer::start(ProducerConfig {
        max_block_ms: 1_000,
        ..ProducerConfig::new("127.0.0.1:1")
    })
    .await;
    match unreachable {
        Err(e) => assert!(
            matches!(
                e,
                ProducerError::MetadataTimeout { .. } | ProducerError::Connection { .. }
            ),
            "{e:?}"
        ),
        Ok(_) => panic!("started without a cluster"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // The good configuration, unchanged by the failed `set`s, still works.
    let topic = unique_topic("after-bad-config");
    create_topic(&bootstrap, &topic, 1, &[]);
    let producer = start(config).await;
    let metadata = producer
        .send_and_wait(ProducerRecord::new(topic.clone(), "fine"))
        .await
        .expect("delivered");
    assert_eq!(metadata.offset, 0);
    producer.stop().await;
    assert_eq!(values(&bootstrap, &topic, 1), ["fine"]);
}

#[actix_rt::test]
async fn a_send_after_stop_fails_closed_and_loses_nothing_sent_before() {
    let bootstrap = bootstrap();
    let topic = unique_topic("after-stop");
    create_topic(&bootstrap, &topic, 1, &[]);
    let producer = start(ProducerConfig {
        linger_ms: 1_000,
        ..ProducerConfig::new(bootstrap.clone())
    })
    .await;
    let clone = producer.clone();
    let mut before = Vec::new();
    for i in 0..10 {
        before.push(
            producer
                .send(ProducerRecord::new(topic.clone(), format!("before-{i}")))
                .await
                .expect("enqueued"),
        );
    }
    producer.stop().await;
    for (i, result) in join_all(before).await.into_iter().enumerate() {
        assert_eq!(result.expect("delivered by stop").offset, i as i64);
    }
    // Every clone is stopped too, through each entry point.
    assert!(matches!(
        clone.send(ProducerRecord::new(topic.clone(), "after")).await,
        Err(ProducerError::Closed)
    ));
    assert!(matches!(
        clone.partitions_for(&topic).await,
        Err(ProducerError::Closed)
    ));
    let produced = clone
        .addr()
        .send(Produce(ProducerRecord::new(topic.clone(), "after")))
        .await;
    assert!(
        produced.is_err() || matches!(produced, Ok(Err(ProducerError::Closed))),
        "{produced:?}"
    );
    clone.flush().await; // returns at once on a stopped producer
    clone.stop().await;
    assert_eq!(record_count(&bootstrap, &topic), 10);
}

#[actix_rt::test]
async fn a_send_waiting_for_a_missing_topic_goes_through_once_it_is_created() {
    let bootstrap = bootstrap();
    let topic = unique_topic("created-while-waiting");
    let producer = start(ProducerConfig {
        max_block_ms: 20_000,
        metadata_max_age_ms: 60_000,
        ..ProducerConfig::new(bootstrap.clone())
    })
    .await;
    let creator = {
        let (bootstrap, topic) = (bootstrap.clone(), topic.clone());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            create_topic(&bootstrap, &topic, 1, &[]);
        })
    };
    let waited = producer
        .send_and_wait(ProducerRecord::new(topic.clone(), "waited"))
        .await
        .expect("the topic appeared within max_block_ms");
    creator.join().expect("topic created");
    assert_eq!(waited.offset, 0);
    producer.stop().await;
    assert_eq!(values(&bootstrap, &topic, 1), ["waited"]);
}

#[actix_rt::test]
async fn a_topic_that_was_unknown_is_found_by_later_sends_once_created() {
    let bootstrap = bootstrap();
    let topic = unique_topic("created-later");
    // metadata_max_age_ms is the default (5 min): only an on-demand refresh
    // can find the new topic within max_block_ms.
    let producer = start(ProducerConfig {
        max_block_ms: 1_000,
        ..ProducerConfig::new(bootstrap.clone())
    })
    .await;
    assert!(matches!(
        producer
            .send(ProducerRecord::new(topic.clone(), "too-early"))
            .await,
        Err(ProducerError::UnknownTopic { .. })
    ));
    // Let the producer settle (any refresh still pending runs now, before the
    // topic exists).
    actix_rt::time::sleep(Duration::from_millis(500)).await;
    create_topic(&bootstrap, &topic, 1, &[]);
    let later = producer
        .send_and_wait(ProducerRecord::new(topic.clone(), "later"))
        .await
        .expect("delivered once the topic exists");
    assert_eq!(later.offset, 0);
    producer.stop().await;
    assert_eq!(values(&bootstrap, &topic, 1), ["later"]);
}

#[actix_rt::test]
async fn partitions_added_to_a_topic_become_usable_after_a_metadata_refresh() {
    let bootstrap = bootstrap();
    let topic = unique_topic("grown");
    create_topic(&bootstrap, &topic, 2, &[]);
    let producer = start(ProducerConfig {
        metadata_max_age_ms: 1_000,
        ..ProducerConfig::new(bootstrap.clone())
    })
    .await;
    producer
        .send_and_wait(ProducerRecord::new(topic.clone(), "p1").partition(1))
        .await
        .expect("delivered");
    assert!(matches!(
        producer
            .send(ProducerRecord::new(topic.clone(), "x").partition(3))
            .await,
        Err(ProducerError::PartitionOutOfRange { partitions: 2, .. })
    ));
    actix_kafka_integration::kafka_sh(
        &bootstrap,
        &[
            "run-class",
            "org.apache.kafka.tools.TopicCommand",
            "--bootstrap-server",
            &bootstrap,
            "--alter",
            "--topic",
            &topic,
            "--partitions",
            "4",
        ],
    );
    // metadata_max_age_ms=1000: within a few seconds partition 3 exists.
    let deadline = Instant::now() + Duration::from_secs(10);
    let metadata = loop {
        match producer
            .send_and_wait(ProducerRecord::new(topic.clone(), "p3").partition(3))
            .await
        {
            Ok(metadata) => break metadata,
            Err(ProducerError::PartitionOutOfRange { .. }) if Instant::now() < deadline => {
                actix_rt::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => panic!("partition 3 never became usable: {e}"),
        }
    };
    assert_eq!((metadata.partition, metadata.offset), (3, 0));
    assert_eq!(
        producer.partitions_for(&topic).await.expect("known"),
        vec![0, 1, 2, 3]
    );
    producer.stop().await;
    let read = consume(&bootstrap, &topic, 2, 30_000, &[]);
    let mut placed: Vec<(i32, String)> = read.into_iter().map(|r| (r.partition, r.value)).collect();
    placed.sort();
    assert_eq!(placed, [(1, "p1".to_string()), (3, "p3".to_string())]);
}
