//! What the producer knows about the cluster: brokers, topics, leaders.
//!
//! [`ClusterMetadata`] is plain data updated from Metadata responses;
//! [`MetadataManager`] decides when to refresh it and answers who waits.

use std::collections::HashMap;
use std::sync::Arc;

use kafka_wire::messages::metadata::MetadataResponse;
use kafka_wire::ErrorCode;

use crate::error::TopicNameError;

mod refresh;
pub use refresh::{MetadataEvent, MetadataManager, Refresh, RefreshConfig};

/// A broker's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerAddress {
    /// Node id.
    pub node_id: i32,
    /// `host:port`.
    pub addr: String,
}

/// What a producer needs to know about one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    /// The topic.
    pub name: Arc<str>,
    /// Number of partitions.
    pub partition_count: i32,
    /// Partitions whose leader is known, sorted.
    pub available: Arc<[i32]>,
    /// Leader node of each partition (-1 when there is none), by index.
    pub leaders: Arc<[i32]>,
}

/// The state of a topic after a metadata response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicState {
    /// Known, with partitions.
    Known(TopicInfo),
    /// The broker answered with an error that will not go away by waiting
    /// (authorization, invalid name).
    Failed(ErrorCode),
    /// Not there (yet): unknown topic, leader not available.
    Missing(ErrorCode),
}

/// Brokers and topics, from the latest Metadata responses.
#[derive(Debug, Clone, Default)]
pub struct ClusterMetadata {
    brokers: HashMap<i32, String>,
    topics: HashMap<Arc<str>, TopicState>,
    cluster_id: Option<String>,
}

impl ClusterMetadata {
    /// Applies a Metadata response. Topics it does not mention are kept.
    pub fn update(&mut self, response: &MetadataResponse) {
        if !response.brokers.is_empty() {
            // A broker that cannot be reached as named (no host, a port
            // outside 1..=65535) is left out: its partitions count as
            // without a leader rather than as a connection that must fail.
            self.brokers = response
                .brokers
                .iter()
                .filter(|b| {
                    let usable = !b.host.is_empty() && (1..=65535).contains(&b.port);
                    if !usable {
                        tracing::warn!(node_id = b.node_id, host = %b.host, port = b.port, "unusable broker address in metadata");
                    }
                    usable
                })
                .map(|b| (b.node_id, format!("{}:{}", b.host, b.port)))
                .collect();
        }
        self.cluster_id = response.cluster_id.clone().or(self.cluster_id.take());
        for topic in &response.topics {
            let Some(name) = topic.name.as_deref() else {
                continue;
            };
            let name: Arc<str> = Arc::from(name);
            let state = if topic.error_code.is_ok() && topic.partitions.is_empty() {
                // No partition to send to (a hostile answer, or a topic
                // still being created): as good as unknown, so senders keep
                // waiting up to max_block_ms instead of writing to partition 0.
                TopicState::Missing(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)
            } else if topic.error_code.is_ok() {
                let partition_count = topic.partitions.len() as i32;
                let mut leaders = vec![-1; topic.partitions.len()];
                for p in &topic.partitions {
                    if let Some(slot) = usize::try_from(p.partition_index)
                        .ok()
                        .and_then(|i| leaders.get_mut(i))
                    {
                        *slot = if p.error_code.is_ok() || p.leader_id >= 0 {
                            p.leader_id
                        } else {
                            -1
                        };
                    }
                }
                // Available: a leader the broker list can reach.
                let available: Vec<i32> = (0..partition_count)
                    .filter(|p| self.brokers.contains_key(&leaders[*p as usize]))
                    .collect();
                TopicState::Known(TopicInfo {
                    name: name.clone(),
                    partition_count,
                    available: available.into(),
                    leaders: leaders.into(),
                })
            } else if topic.error_code.is_retriable() {
                TopicState::Missing(topic.error_code)
            } else {
                TopicState::Failed(topic.error_code)
            };
            self.topics.insert(name, state);
        }
    }

    /// Forgets every topic `keep` refuses (an answer may name topics
    /// nobody asked about; they are not kept).
    pub fn retain_topics(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.topics.retain(|name, _| keep(name));
    }

    /// The state of `topic`, if a response mentioned it.
    pub fn topic(&self, topic: &str) -> Option<&TopicState> {
        self.topics.get(topic)
    }

    /// The leader of a partition, if known.
    pub fn leader(&self, topic: &str, partition: i32) -> Option<i32> {
        match self.topics.get(topic)? {
            TopicState::Known(info) => {
                let leader = *info.leaders.get(usize::try_from(partition).ok()?)?;
                (leader >= 0).then_some(leader)
            }
            _ => None,
        }
    }

    /// The address of a broker.
    pub fn broker(&self, node_id: i32) -> Option<&str> {
        self.brokers.get(&node_id).map(String::as_str)
    }

    /// Every known broker.
    pub fn brokers(&self) -> impl Iterator<Item = BrokerAddress> + '_ {
        self.brokers.iter().map(|(id, addr)| BrokerAddress {
            node_id: *id,
            addr: addr.clone(),
        })
    }

    /// The cluster id, once known.
    pub fn cluster_id(&self) -> Option<&str> {
        self.cluster_id.as_deref()
    }
}

/// Checks a topic name the way Kafka does: 1 to 249 characters of
/// `[a-zA-Z0-9._-]`, and not `.` or `..`.
pub fn validate_topic_name(topic: &str) -> Result<(), TopicNameError> {
    if topic.is_empty() {
        return Err(TopicNameError::Empty);
    }
    if topic == "." || topic == ".." {
        return Err(TopicNameError::Dots);
    }
    if topic.len() > 249 {
        return Err(TopicNameError::TooLong { length: topic.len() });
    }
    let allowed = |c: &char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    match topic.chars().find(|c| !allowed(c)) {
        Some(character) => Err(TopicNameError::IllegalCharacter { character }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_wire::messages::metadata::{MetadataBroker, MetadataPartition, MetadataTopic};

    fn partition(index: i32, leader: i32) -> MetadataPartition {
        MetadataPartition {
            error_code: ErrorCode::NONE,
            partition_index: index,
            leader_id: leader,
            leader_epoch: 0,
            replica_nodes: vec![leader],
            isr_nodes: vec![leader],
            offline_replicas: vec![],
        }
    }

    fn topic(name: &str, code: ErrorCode, partitions: Vec<MetadataPartition>) -> MetadataTopic {
        MetadataTopic {
            error_code: code,
            name: Some(name.to_string()),
            topic_id: [0; 16],
            is_internal: false,
            partitions,
            topic_authorized_operations: i32::MIN,
        }
    }

    #[test]
    fn update_tracks_leaders_and_errors() {
        let mut m = ClusterMetadata::default();
        let response = MetadataResponse {
            throttle_time_ms: 0,
            brokers: vec![MetadataBroker {
                node_id: 1,
                host: "127.0.0.1".into(),
                port: 9092,
                rack: None,
            }],
            cluster_id: Some("c".into()),
            controller_id: 1,
            topics: vec![
                topic("a", ErrorCode::NONE, vec![partition(1, -1), partition(0, 1)]),
                topic("missing", ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, vec![]),
                topic("denied", ErrorCode::TOPIC_AUTHORIZATION_FAILED, vec![]),
            ],
            cluster_authorized_operations: i32::MIN,
        };
        m.update(&response);
        assert_eq!(m.broker(1), Some("127.0.0.1:9092"));
        assert_eq!(m.leader("a", 0), Some(1));
        assert_eq!(m.leader("a", 1), None);
        assert_eq!(m.leader("a", 2), None);
        let Some(TopicState::Known(info)) = m.topic("a") else {
            panic!("known")
        };
        assert_eq!((info.partition_count, &info.available[..]), (2, &[0][..]));
        assert!(matches!(m.topic("missing"), Some(TopicState::Missing(_))));
        assert!(matches!(m.topic("denied"), Some(TopicState::Failed(_))));
    }

    #[test]
    fn a_topic_without_partitions_is_not_known() {
        let mut m = ClusterMetadata::default();
        let response = MetadataResponse {
            throttle_time_ms: 0,
            brokers: vec![],
            cluster_id: None,
            controller_id: 1,
            topics: vec![topic("empty", ErrorCode::NONE, vec![])],
            cluster_authorized_operations: i32::MIN,
        };
        m.update(&response);
        assert!(matches!(m.topic("empty"), Some(TopicState::Missing(_))));
    }

    #[test]
    fn a_leader_missing_from_the_broker_list_is_not_available() {
        let mut m = ClusterMetadata::default();
        let broker = |node_id, host: &str, port| MetadataBroker {
            node_id,
            host: host.into(),
            port,
            rack: None,
        };
        let response = MetadataResponse {
            throttle_time_ms: 0,
            brokers: vec![
                broker(1, "h1", 9092),
                broker(2, "", 9092),
                broker(3, "h3", 0),
                broker(4, "h4", 70000),
            ],
            cluster_id: None,
            controller_id: 1,
            topics: vec![topic(
                "a",
                ErrorCode::NONE,
                (0..5).map(|p| partition(p, p + 1)).collect(),
            )],
            cluster_authorized_operations: i32::MIN,
        };
        m.update(&response);
        let Some(TopicState::Known(info)) = m.topic("a") else {
            panic!("known")
        };
        // Leaders 1..=5: only node 1 is in the list with a usable address.
        assert_eq!(&info.available[..], &[0][..]);
        assert_eq!(m.broker(2), None, "empty host");
        assert_eq!(m.broker(3), None, "port 0");
        assert_eq!(m.broker(4), None, "port 70000");
    }

    #[test]
    fn topic_names_are_checked_like_kafka() {
        assert!(validate_topic_name("orders.v1_x-2").is_ok());
        for bad in ["", ".", "..", "a b", "ü", &"x".repeat(250)] {
            assert!(validate_topic_name(bad).is_err(), "{bad:?}");
        }
        assert!(validate_topic_name(&"x".repeat(249)).is_ok());
    }
}
