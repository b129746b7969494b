//! Transactions: records (and consumer offsets) that become visible to
//! `read_committed` consumers together, or not at all.
//!
//! This is aiokafka's transactional example, translated:
//!
//! ```text
//! producer = aiokafka.AIOKafkaProducer(
//!     bootstrap_servers='localhost:9092', transactional_id="transactional_test")
//! await producer.start()
//! try:
//!     async with producer.transaction():
//!         res = await producer.send_and_wait("test-topic", b"Super transactional message")
//!         await producer.send_offsets_to_transaction(
//!             {TopicPartition("some-topic", 0): 100}, "some-consumer-group")
//! finally:
//!     await producer.stop()
//! ```
//!
//! `transaction(..)` commits when its body returns `Ok` and aborts when it
//! returns `Err`. The example runs one of each: the first transaction's
//! record and offset are committed; the second one fails on purpose after
//! sending, so its record is written but never shown to `read_committed`
//! consumers. Kafka recommends replication factor 3 and
//! `min.insync.replicas=2` for the topics of transactions.
//!
//! Run it against a local broker (`scripts/kafka.sh up`):
//!
//! ```text
//! cargo run -p actix-kafka-examples --bin transactions -- --topic test-topic
//! ```

use actix_kafka::{Producer, ProducerConfig, ProducerError, ProducerRecord};
use clap::Parser;

/// Commits one transaction and aborts another; prints what happened.
#[derive(Parser)]
struct Args {
    /// Brokers to bootstrap from, comma-separated.
    #[arg(long, default_value = "127.0.0.1:9092")]
    bootstrap_servers: String,
    /// Topic to produce to.
    #[arg(long, default_value = "test-topic")]
    topic: String,
    /// The producer's transactional id: a second instance with the same id
    /// fences this one.
    #[arg(long, default_value = "transactional_test")]
    transactional_id: String,
    /// The consumer group whose offset is committed with the first transaction.
    #[arg(long, default_value = "some-consumer-group")]
    group: String,
    /// The topic (partition 0) whose offset for the group is committed.
    #[arg(long, default_value = "some-topic")]
    offsets_topic: String,
}

#[actix_rt::main]
async fn main() -> Result<(), ProducerError> {
    let args = Args::parse();
    let config = ProducerConfig {
        // Implies idempotence; at start the producer fences older instances.
        transactional_id: Some(args.transactional_id.clone()),
        ..ProducerConfig::new(args.bootstrap_servers.clone())
    };
    let producer = Producer::start(config).await?;
    let result = run(&producer, &args).await;
    producer.stop().await;
    result
}

async fn run(producer: &Producer, args: &Args) -> Result<(), ProducerError> {
    let (topic, group, offsets_topic) = (args.topic.clone(), args.group.clone(), args.offsets_topic.clone());
    producer
        .transaction(|p| async move {
            let record = ProducerRecord::new(topic, "Super transactional message");
            let ack = p.send_and_wait(record).await?;
            println!("sent: partition={} offset={}", ack.partition, ack.offset);
            p.send_offsets_to_transaction(vec![(offsets_topic, 0, 100)], &group)
                .await?;
            Ok(())
        })
        .await?;
    println!("committed");

    let topic = args.topic.clone();
    let failed = producer
        .transaction(|p| async move {
            let record = ProducerRecord::new(topic, "Never visible to read_committed");
            let ack = p.send_and_wait(record).await?;
            println!("sent: partition={} offset={}", ack.partition, ack.offset);
            // Any error ends the body: the transaction is aborted.
            Err::<(), _>(ProducerError::Cancelled)
        })
        .await;
    match failed {
        Err(ProducerError::Cancelled) => println!("aborted"),
        other => println!("unexpected: {other:?}"),
    }
    Ok(())
}
