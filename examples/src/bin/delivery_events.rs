//! Delivery events: an actix actor subscribes to the producer's
//! [`DeliveryEvent`]s (one per batch) while records are sent with the
//! two-stage `send`.
//!
//! `send(record).await` only enqueues the record; it returns the delivery
//! future. The example keeps the delivery futures of even-numbered records and
//! drops the others: as in aiokafka ("cancelling this future will not cancel
//! the send"), dropped records are delivered all the same, and the subscriber
//! sees them in its events.
//!
//! Events reach the subscriber's mailbox asynchronously, so after `flush` the
//! example waits until the subscriber has seen every record before stopping.
//!
//! Run it against a local broker (`scripts/kafka.sh up`):
//!
//! ```text
//! cargo run -p actix-kafka-examples --bin delivery_events -- --topic my_topic --count 20
//! ```

use std::time::Duration;

use actix::prelude::*;
use actix_kafka::{DeliveryEvent, Producer, ProducerConfig, ProducerError, ProducerRecord};
use clap::Parser;
use tokio::sync::oneshot;

/// Sends `--count` keyed records and prints the delivery events.
#[derive(Parser)]
struct Args {
    /// Brokers to bootstrap from, comma-separated.
    #[arg(long, default_value = "127.0.0.1:9092")]
    bootstrap_servers: String,
    /// Topic to produce to.
    #[arg(long, default_value = "my_topic")]
    topic: String,
    /// How many records to send.
    #[arg(long, default_value_t = 20)]
    count: usize,
}

/// Prints each delivery event and reports `(events, records)` once the events
/// have covered `expected` records.
struct EventPrinter {
    expected: usize,
    events: usize,
    records: usize,
    done: Option<oneshot::Sender<(usize, usize)>>,
}

impl Actor for EventPrinter {
    type Context = Context<Self>;
}

impl Handler<DeliveryEvent> for EventPrinter {
    type Result = ();

    fn handle(&mut self, event: DeliveryEvent, _: &mut Context<Self>) {
        match &event.error {
            None => println!(
                "event: topic={} partition={} base_offset={} records={}",
                event.topic, event.partition, event.base_offset, event.record_count
            ),
            Some(error) => println!(
                "event: topic={} partition={} records={} failed: {error}",
                event.topic, event.partition, event.record_count
            ),
        }
        self.events += 1;
        self.records += event.record_count;
        if self.records >= self.expected {
            if let Some(done) = self.done.take() {
                let _ = done.send((self.events, self.records));
            }
        }
    }
}

#[actix_rt::main]
async fn main() -> Result<(), ProducerError> {
    let args = Args::parse();
    let producer = Producer::start(ProducerConfig::new(args.bootstrap_servers)).await?;

    let (done, all_seen) = oneshot::channel();
    let printer = EventPrinter {
        expected: args.count,
        events: 0,
        records: 0,
        done: Some(done),
    }
    .start();
    producer.subscribe(printer.recipient());

    let result = send_records(&producer, &args.topic, args.count).await;

    // Send whatever is still buffered and wait for it...
    producer.flush().await;
    // ...then for the subscriber to have seen the last events.
    match actix_rt::time::timeout(Duration::from_secs(30), all_seen).await {
        Ok(Ok((events, records))) => println!("events: {events} batches, {records} records"),
        _ => println!("events: did not cover all {} records", args.count),
    }
    producer.stop().await;
    result
}

async fn send_records(producer: &Producer, topic: &str, count: usize) -> Result<(), ProducerError> {
    let mut kept = Vec::new();
    for i in 0..count {
        let record = ProducerRecord::new(topic, format!("event {i}")).key(format!("key-{i}"));
        // First stage: the record is in its partition's queue.
        let delivery = producer.send(record).await?;
        if i % 2 == 0 {
            kept.push((i, delivery));
        } else {
            // Dropping the delivery future does not cancel the send.
            drop(delivery);
        }
    }
    // Second stage: the broker acknowledged the record (or retries ran out).
    for (i, delivery) in kept {
        let ack = delivery.await?;
        println!(
            "delivered: key-{i} partition={} offset={}",
            ack.partition, ack.offset
        );
    }
    Ok(())
}
