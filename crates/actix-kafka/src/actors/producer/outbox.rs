//! The hand-overs of one many-record message, grouped by partition.

use std::collections::HashMap;
use std::sync::Arc;

use crate::actors::partition::Append;

/// A topic and one of its partitions.
pub(super) type TopicPartition = (Arc<str>, i32);

/// Maps looked up per record: a fast hasher (keys are our own topic names).
pub(super) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The hand-overs collected while a many-record message is handled, by
/// partition, in first-seen order; sent as one `AppendAll` per partition.
#[derive(Default)]
pub(super) struct Outbox {
    pub(super) partitions: Vec<(TopicPartition, Vec<Append>)>,
    pub(super) index: FastMap<TopicPartition, usize>,
    /// The wall clock (ms) for the records without a timestamp, read once
    /// per message.
    pub(super) now_ms: Option<i64>,
}

impl Outbox {
    pub(super) fn push(&mut self, partition: i32, append: Append) {
        let topic = &append.record.topic;
        // Consecutive records mostly share a partition (sticky or keyed).
        if let Some(((last_topic, last_partition), appends)) = self.partitions.last_mut() {
            if *last_partition == partition && last_topic == topic {
                appends.push(append);
                return;
            }
        }
        let key = (topic.clone(), partition);
        let partitions = &mut self.partitions;
        let at = *self.index.entry(key.clone()).or_insert_with(|| {
            partitions.push((key, Vec::new()));
            partitions.len() - 1
        });
        partitions[at].1.push(append);
    }
}
