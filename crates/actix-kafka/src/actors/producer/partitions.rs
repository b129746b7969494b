//! The partition accumulators a producer starts: one per topic-partition, on
//! the first record for it, all sharing the producer's settings.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use futures_util::future::join_all;
use tokio::sync::oneshot;

use super::outbox::{FastMap, TopicPartition};
use crate::accumulator::{PartitionQueue, QueueConfig};
use crate::actors::metadata::MetadataActor;
use crate::actors::partition::{
    Abandon, BatchCompleted, FlushPartition, PartitionAccumulatorActor, PartitionSettings, SetIdentity,
};
use crate::actors::transaction::TransactionCoordinatorActor;
use crate::config::ProducerConfig;
use crate::transaction::ProducerIdentity;

/// See the module documentation.
pub(super) struct Partitions {
    actors: FastMap<TopicPartition, Addr<PartitionAccumulatorActor>>,
    config: Arc<ProducerConfig>,
    acks: i16,
    metadata: Addr<MetadataActor>,
    coordinator: Option<Addr<TransactionCoordinatorActor>>,
    /// Idempotence: the identity new partitions start with.
    identity: Option<ProducerIdentity>,
}

impl Partitions {
    pub(super) fn new(
        config: Arc<ProducerConfig>,
        metadata: Addr<MetadataActor>,
        coordinator: Option<Addr<TransactionCoordinatorActor>>,
        identity: Option<ProducerIdentity>,
    ) -> Self {
        Partitions {
            actors: FastMap::default(),
            acks: config.effective_acks().code(),
            config,
            metadata,
            coordinator,
            identity,
        }
    }

    /// The partition's accumulator, started on first use; its completed
    /// batches are reported to `completed_to`.
    pub(super) fn get(
        &mut self,
        topic: &Arc<str>,
        partition: i32,
        completed_to: impl FnOnce() -> Recipient<BatchCompleted>,
    ) -> Addr<PartitionAccumulatorActor> {
        let key = (topic.clone(), partition);
        if let Some(addr) = self.actors.get(&key) {
            return addr.clone();
        }
        let c = &self.config;
        let mut queue = PartitionQueue::new(
            topic.clone(),
            partition,
            QueueConfig {
                max_batch_size: c.max_batch_size,
                linger: Duration::from_millis(c.linger_ms),
                retry_backoff: Duration::from_millis(c.retry_backoff_ms),
                delivery_timeout: Duration::from_millis(c.request_timeout_ms),
                compression: c.compression_type,
                idempotent: c.is_idempotent(),
                transactional: c.is_transactional(),
            },
        );
        if let Some(identity) = self.identity {
            queue.set_identity(identity);
        }
        let settings = PartitionSettings {
            acks: self.acks,
            request_timeout_ms: i32::try_from(c.request_timeout_ms).unwrap_or(i32::MAX),
            retry_backoff: c.retry_backoff(),
            transactional_id: c.transactional_id.clone(),
        };
        let addr = PartitionAccumulatorActor::new(
            queue,
            settings,
            self.metadata.clone(),
            completed_to(),
            self.coordinator.clone(),
        )
        .start();
        self.actors.insert(key, addr.clone());
        addr
    }

    /// A new producer identity (an epoch bump): every partition adopts it.
    pub(super) fn set_identity(&mut self, identity: ProducerIdentity) {
        self.identity = Some(identity);
        for partition in self.actors.values() {
            partition.do_send(SetIdentity(identity));
        }
    }

    /// Resolves once every partition completed what it holds now.
    pub(super) fn flush_all(&self) -> impl std::future::Future<Output = ()> {
        let waits: Vec<_> = self
            .actors
            .values()
            .map(|addr| {
                let (tx, rx) = oneshot::channel();
                addr.do_send(FlushPartition(tx));
                rx
            })
            .collect();
        async move {
            join_all(waits).await;
        }
    }

    /// Every partition fails what it holds (a stop gave up).
    pub(super) fn abandon_all(&self) {
        for partition in self.actors.values() {
            partition.do_send(Abandon);
        }
    }

    /// Lets the partition actors stop (they do once no address is left).
    pub(super) fn clear(&mut self) {
        self.actors.clear();
    }
}
