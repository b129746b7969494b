//! The actor producer against the real broker, read back by Kafka's console consumer.

use actix_kafka::{Producer, ProducerConfig, ProducerRecord, TimestampType};
use actix_kafka_integration::{bootstrap, console_consume, create_topic, unique_topic};

#[actix_rt::test]
async fn send_and_wait_returns_offsets_and_kafka_reads_the_records() {
    let bootstrap = bootstrap();
    let topic = unique_topic("smoke");
    // Timestamps from 1970: without retention.ms=-1 the broker's retention
    // check may delete the records before they are read back.
    create_topic(&bootstrap, &topic, 1, &["retention.ms=-1"]);
    let producer = Producer::start(ProducerConfig::new(bootstrap.clone()))
        .await
        .unwrap();
    for i in 0..5i64 {
        let record = ProducerRecord::new(topic.clone(), format!("value-{i}"))
            .key(format!("key-{i}"))
            .timestamp(1_000 + i);
        let metadata = producer.send_and_wait(record).await.unwrap();
        assert_eq!(metadata.offset, i);
        assert_eq!(metadata.partition, 0);
        assert_eq!(metadata.timestamp, 1_000 + i);
        assert_eq!(metadata.timestamp_type, TimestampType::CreateTime);
    }
    producer.stop().await;
    let lines = console_consume(&bootstrap, &topic, 5, &[]);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line, &format!("Partition:0|Offset:{i}|key-{i}|value-{i}"));
    }
}
