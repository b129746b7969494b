//! `actix-kafka demo`: connect with the blocking probe, print the negotiated API
//! versions and the cluster's metadata, then produce a few records through the
//! actor runtime and print their acks.

use std::time::Duration;

use actix_kafka::config::SecurityProtocol;
use actix_kafka::probe::{ProbeConnection, ProbeError};
use actix_kafka::wire::api::ApiKey;
use actix_kafka::wire::messages::metadata::{MetadataRequest, MetadataResponse};
use actix_kafka::{Producer, ProducerConfig, ProducerRecord};

fn connect_any(bootstrap_servers: &str, timeout: Duration) -> Result<ProbeConnection, ProbeError> {
    let mut last_error = None;
    for addr in bootstrap_servers
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        match ProbeConnection::connect(addr, "actix-kafka-demo", timeout) {
            Ok(conn) => return Ok(conn),
            Err(e) => {
                eprintln!("  {addr}: {e}");
                last_error = Some(e);
            }
        }
    }
    Err(last_error.unwrap_or_else(|| ProbeError::Io {
        addr: bootstrap_servers.to_string(),
        source: std::io::Error::other("no bootstrap server given"),
    }))
}

/// Connects to the first answering bootstrap server and prints what it
/// negotiated and the metadata of `topic`, then produces `count` records to
/// `topic` with the actor runtime (configured by `config`) and prints each ack.
///
/// The probe speaks plain TCP only, so with TLS or SASL configured it is
/// skipped and only the producer part runs.
pub fn run(config: ProducerConfig, topic: &str, count: usize, timeout: Duration) -> Result<(), String> {
    if config.security_protocol == SecurityProtocol::Plaintext {
        probe(&config.bootstrap_servers, topic, timeout).map_err(|e| e.to_string())?;
    } else {
        println!(
            "skipping the API-version probe: it speaks PLAINTEXT only, and security.protocol is {}",
            config.security_protocol
        );
    }
    actix_rt::System::new().block_on(produce(config, topic, count))
}

async fn produce(config: ProducerConfig, topic: &str, count: usize) -> Result<(), String> {
    println!(
        "
producing {count} records to {topic} through the actors:"
    );
    let producer = Producer::start(config).await.map_err(|e| e.to_string())?;
    let records = (0..count)
        .map(|i| ProducerRecord::new(topic, format!("hello from actix-kafka #{i}")).key(format!("demo-{i}")))
        .collect();
    // One mailbox message for all records; then await each delivery.
    let mut failed = 0;
    for (i, enqueued) in producer.send_all(records).await.into_iter().enumerate() {
        match enqueued {
            Ok(delivery) => match delivery.await {
                Ok(ack) => println!(
                    "  ack #{i}: topic={} partition={} offset={} timestamp={}",
                    ack.topic, ack.partition, ack.offset, ack.timestamp
                ),
                Err(e) => {
                    failed += 1;
                    println!("  record #{i} failed: {e}");
                }
            },
            Err(e) => {
                failed += 1;
                println!("  record #{i} not enqueued: {e}");
            }
        }
    }
    producer.stop().await;
    match failed {
        0 => Ok(()),
        n => Err(format!("{n} of {count} records failed")),
    }
}

fn probe(bootstrap_servers: &str, topic: &str, timeout: Duration) -> Result<(), ProbeError> {
    let mut conn = connect_any(bootstrap_servers, timeout)?;
    println!("connected to {}", conn.addr());

    println!("\nAPI versions (ours, the broker's, chosen):");
    let broker = conn.api_versions().broker_versions();
    for api in ApiKey::ALL {
        let theirs = broker
            .iter()
            .find(|b| b.api_key == api.code())
            .map(|b| format!("v{}..=v{}", b.min_version, b.max_version))
            .unwrap_or_else(|| "-".to_string());
        let chosen = conn
            .versions()
            .version(api)
            .map(|v| format!("v{v}"))
            .unwrap_or_else(|| "none".to_string());
        println!(
            "  {:<20} {:<10} {:<10} {chosen}",
            format!("{api:?}"),
            api.supported().to_string(),
            theirs
        );
    }
    let features = &conn.api_versions().finalized_features;
    if !features.is_empty() {
        println!("\nfinalized features:");
        for f in features {
            println!("  {} = {}", f.name, f.max_version_level);
        }
    }

    let metadata: MetadataResponse = conn.call(&MetadataRequest {
        allow_auto_topic_creation: false,
        ..MetadataRequest::for_topics([topic])
    })?;
    print_metadata(&metadata);
    Ok(())
}

fn print_metadata(m: &MetadataResponse) {
    println!(
        "\ncluster {} (controller {})",
        m.cluster_id.as_deref().unwrap_or("?"),
        m.controller_id
    );
    println!("brokers:");
    for b in &m.brokers {
        println!("  node {} at {}:{}", b.node_id, b.host, b.port);
    }
    println!("topics:");
    let mut topics: Vec<_> = m.topics.iter().collect();
    topics.sort_by(|a, b| a.name.cmp(&b.name));
    for t in topics {
        let leaders: Vec<String> = t
            .partitions
            .iter()
            .map(|p| format!("{}→{}", p.partition_index, p.leader_id))
            .collect();
        println!(
            "  {}{} [{}] partitions (partition→leader): {}",
            t.name.as_deref().unwrap_or("?"),
            if t.is_internal { " (internal)" } else { "" },
            t.error_code,
            leaders.join(" ")
        );
    }
}
