//! The handlers that answer their caller with a result: the actor-level
//! `Produce` → `Ack` exchange (one record or many per message), and
//! `partitions_for`. Records take the same path as `Enqueue`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use futures_util::future::join_all;
use tokio::sync::oneshot;

use super::{Enqueue, PartitionsFor, Produce, ProduceAll, ProducerActor};
use crate::actors::metadata::GetTopic;
use crate::delivery::{Group, Ticket};
use crate::error::ProducerError;
use crate::metadata::validate_topic_name;
use crate::record::RecordMetadata;
use kafka_producer_core::enqueue::LazyNow;

impl Handler<Produce> for ProducerActor {
    type Result = ResponseFuture<Result<RecordMetadata, ProducerError>>;

    fn handle(&mut self, msg: Produce, ctx: &mut Context<Self>) -> Self::Result {
        let (group, ticket) = Ticket::single(None);
        let stage = group.enqueue_stage();
        let enqueue = Enqueue {
            record: msg.0,
            ticket,
        };
        self.enqueue(enqueue, &mut LazyNow::new(Instant::now), ctx);
        Box::pin(async move {
            stage.await;
            group.enqueue_result(0)?;
            group.delivery(0).await
        })
    }
}

impl Handler<ProduceAll> for ProducerActor {
    type Result = ResponseFuture<Vec<Result<RecordMetadata, ProducerError>>>;

    fn handle(&mut self, msg: ProduceAll, ctx: &mut Context<Self>) -> Self::Result {
        let group = Group::new(msg.0.len(), None);
        let stage = group.enqueue_stage();
        let enqueues = msg
            .0
            .into_iter()
            .zip(group.tickets())
            .map(|(record, ticket)| Enqueue { record, ticket });
        self.enqueue_many(enqueues, ctx);
        Box::pin(async move {
            stage.await;
            let deliveries = (0..group.len()).map(|index| {
                let enqueued = group.enqueue_result(index);
                let delivery = group.delivery(index);
                async move {
                    enqueued?;
                    delivery.await
                }
            });
            join_all(deliveries).await
        })
    }
}

impl Handler<PartitionsFor> for ProducerActor {
    type Result = ResponseFuture<Result<Vec<i32>, ProducerError>>;

    fn handle(&mut self, msg: PartitionsFor, _: &mut Context<Self>) -> Self::Result {
        if let Err(reason) = validate_topic_name(&msg.0) {
            return Box::pin(std::future::ready(Err(ProducerError::InvalidTopic {
                topic: msg.0,
                reason,
            })));
        }
        let (reply, answer) = oneshot::channel();
        self.metadata.do_send(GetTopic {
            topic: Arc::from(msg.0),
            deadline: Instant::now() + Duration::from_millis(self.config.max_block_ms),
            reply,
        });
        Box::pin(async move {
            let info = answer.await.map_err(|_| ProducerError::Closed)??;
            Ok((0..info.partition_count).collect())
        })
    }
}
