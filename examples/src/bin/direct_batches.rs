//! Direct batch control: build a batch yourself with `create_batch`, fill it
//! until `append` returns `None`, close it, and send it to one partition with
//! `send_batch`.
//!
//! This is aiokafka's "Direct batch control" example, translated:
//!
//! ```text
//! batch = producer.create_batch()
//! metadata = batch.append(value=b"msg 0", key=None, timestamp=None)
//! batch.close()
//! partitions = await producer.partitions_for("my_topic")
//! fut = await producer.send_batch(batch, "my_topic", partition=random.choice(partitions))
//! record = await fut   # record.offset is the offset of the batch's first message
//! ```
//!
//! Run it against a local broker (`scripts/kafka.sh up`); without
//! `--partition` it picks a random partition of the topic:
//!
//! ```text
//! cargo run -p actix-kafka-examples --bin direct_batches -- --topic my_topic
//! ```

use std::hash::{BuildHasher, RandomState};

use actix_kafka::{Producer, ProducerConfig, ProducerError};
use clap::Parser;

/// Sends one full batch to one partition and prints its first offset.
#[derive(Parser)]
struct Args {
    /// Brokers to bootstrap from, comma-separated.
    #[arg(long, default_value = "127.0.0.1:9092")]
    bootstrap_servers: String,
    /// Topic to produce to.
    #[arg(long, default_value = "my_topic")]
    topic: String,
    /// Partition to send the batch to; a random one of the topic's if omitted.
    #[arg(long)]
    partition: Option<i32>,
}

#[actix_rt::main]
async fn main() -> Result<(), ProducerError> {
    let args = Args::parse();
    let producer = Producer::start(ProducerConfig::new(args.bootstrap_servers)).await?;
    let result = send_one_batch(&producer, &args.topic, args.partition).await;
    producer.stop().await;
    result
}

async fn send_one_batch(
    producer: &Producer,
    topic: &str,
    partition: Option<i32>,
) -> Result<(), ProducerError> {
    let partition = match partition {
        Some(partition) => partition,
        None => {
            let partitions = producer.partitions_for(topic).await?;
            // A std-only random choice: RandomState is seeded randomly per process.
            let index = RandomState::new().hash_one(topic) as usize % partitions.len();
            partitions[index]
        }
    };

    // The batch is not queued anywhere yet: nothing is sent until send_batch.
    let mut batch = producer.create_batch();
    let mut i = 0;
    // `append` returns where the record sits in the batch, or None once the
    // batch is full (max_batch_size).
    while let Some(info) = batch.append(None, Some(format!("msg {i}").as_bytes()), None, &[]) {
        assert_eq!(info.offset_delta, i);
        i += 1;
    }
    // No more appends; the batch goes out as it is.
    batch.close();
    println!("batch: {} records, {} bytes", batch.record_count(), batch.size());

    // First stage: the batch is in the partition's queue...
    let delivery = producer.send_batch(batch, topic, partition).await?;
    // ...second stage: the broker wrote it. The metadata is the first record's.
    let first = delivery.await?;
    println!(
        "delivered: topic={} partition={} offset={}",
        first.topic, first.partition, first.offset
    );
    Ok(())
}
