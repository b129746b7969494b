//! Quickstart: start a producer, send a few records waiting for each
//! acknowledgement, print where Kafka wrote them, and stop.
//!
//! This is aiokafka's first example, translated:
//!
//! ```text
//! producer = aiokafka.AIOKafkaProducer(bootstrap_servers='localhost:9092')
//! await producer.start()
//! try:
//!     await producer.send_and_wait("my_topic", b"Super message")
//! finally:
//!     await producer.stop()
//! ```
//!
//! Run it against a local broker (`scripts/kafka.sh up`):
//!
//! ```text
//! cargo run -p actix-kafka-examples --bin quickstart -- --topic my_topic --count 3
//! ```

use actix_kafka::{Producer, ProducerConfig, ProducerError, ProducerRecord};
use clap::Parser;

/// Sends `--count` records with `send_and_wait` and prints their acknowledgements.
#[derive(Parser)]
struct Args {
    /// Brokers to bootstrap from, comma-separated.
    #[arg(long, default_value = "127.0.0.1:9092")]
    bootstrap_servers: String,
    /// Topic to produce to.
    #[arg(long, default_value = "my_topic")]
    topic: String,
    /// How many records to send.
    #[arg(long, default_value_t = 3)]
    count: usize,
}

// The producer's actors run in the actix `System` this macro starts.
#[actix_rt::main]
async fn main() -> Result<(), ProducerError> {
    let args = Args::parse();
    // Waits until the cluster answers a metadata request (up to max_block_ms).
    let producer = Producer::start(ProducerConfig::new(args.bootstrap_servers)).await?;
    // aiokafka's try/finally: stop the producer whatever happened.
    let result = send_records(&producer, &args.topic, args.count).await;
    // Stop flushes whatever is still buffered, then closes the connections.
    producer.stop().await;
    result
}

async fn send_records(producer: &Producer, topic: &str, count: usize) -> Result<(), ProducerError> {
    for i in 0..count {
        let record = ProducerRecord::new(topic, format!("Super message {i}"));
        // Enqueue, then wait for the broker's acknowledgement.
        let ack = producer.send_and_wait(record).await?;
        println!(
            "acked: topic={} partition={} offset={} timestamp={}",
            ack.topic, ack.partition, ack.offset, ack.timestamp
        );
    }
    Ok(())
}
