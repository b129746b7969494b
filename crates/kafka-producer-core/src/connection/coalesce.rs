//! Coalescing pending partition batches into produce requests, and routing
//! the response back per partition (sans-IO).
//!
//! [`ProduceCoalescer`] holds the [`PendingBatch`]es that wait to be
//! written. [`ProduceCoalescer::next_request`] takes the oldest one and every
//! later one that can share its request (same acks, timeout and transactional
//! id, and a topic-partition not already in the request) and returns the
//! request with a [`ProduceRouting`] that maps the response back to each
//! batch's responder. The responder type is generic so tests need no channels.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use bytes::Bytes;

use kafka_wire::messages::produce::{
    PartitionProduceData, PartitionProduceResponse, ProduceRequest, ProduceResponse, TopicProduceData,
};

use kafka_wire::api::VersionRange;

use super::{ConnectionError, PartitionResult};
use crate::error::ProtocolViolation;

/// One partition's record batch waiting to be written (the plain form of
/// `actix-kafka`'s `ProducePartition` message).
#[derive(Debug, Clone)]
pub struct PendingBatch {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
    /// One encoded record batch (v2), moved into the request without a copy.
    pub records: Bytes,
    /// Acknowledgements required: 0, 1 or -1 (all).
    pub acks: i16,
    /// How long the broker may wait for the acknowledgements, in ms.
    pub timeout_ms: i32,
    /// The transactional id, for transactional producers.
    pub transactional_id: Option<String>,
    /// When a batch still unwritten fails with [`ConnectionError::Expired`].
    pub deadline: Option<Instant>,
    /// The Produce versions the batch may be sent at (`None`: any).
    pub versions: Option<VersionRange>,
}

/// Partition batches waiting to be written, oldest first.
#[derive(Debug)]
pub struct ProduceCoalescer<T> {
    pending: VecDeque<(PendingBatch, T)>,
}

impl<T> Default for ProduceCoalescer<T> {
    fn default() -> Self {
        ProduceCoalescer {
            pending: VecDeque::new(),
        }
    }
}

impl<T> ProduceCoalescer<T> {
    /// Queues one partition's batch with whoever gets its result.
    pub fn push(&mut self, batch: PendingBatch, responder: T) {
        self.pending.push_back((batch, responder));
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Builds the next request: the oldest batch plus every later batch with
    /// the same `(acks, timeout_ms, transactional_id, versions)` whose topic-partition is
    /// not in the request yet. The batches left out stay queued in order.
    pub fn next_request(&mut self) -> Option<(ProduceRequest, ProduceRouting<T>)> {
        let (first, _) = self.pending.front()?;
        let acks = first.acks;
        let timeout_ms = first.timeout_ms;
        let transactional_id = first.transactional_id.clone();
        let versions = first.versions;

        let mut seen: HashSet<(String, i32)> = HashSet::new();
        let mut topic_index: HashMap<String, usize> = HashMap::new();
        let mut topic_data: Vec<TopicProduceData> = Vec::new();
        let mut routes = Vec::new();
        let mut rest = VecDeque::with_capacity(self.pending.len());
        for (batch, responder) in self.pending.drain(..) {
            let fits = batch.acks == acks
                && batch.timeout_ms == timeout_ms
                && batch.transactional_id == transactional_id
                && batch.versions == versions
                && seen.insert((batch.topic.clone(), batch.partition));
            if !fits {
                rest.push_back((batch, responder));
                continue;
            }
            let index = *topic_index.entry(batch.topic.clone()).or_insert_with(|| {
                topic_data.push(TopicProduceData {
                    name: batch.topic.clone(),
                    partition_data: Vec::new(),
                });
                topic_data.len() - 1
            });
            topic_data[index].partition_data.push(PartitionProduceData {
                index: batch.partition,
                records: Some(batch.records),
            });
            routes.push((batch.topic, batch.partition, responder));
        }
        self.pending = rest;
        let request = ProduceRequest {
            transactional_id,
            acks,
            timeout_ms,
            topic_data,
        };
        Some((request, ProduceRouting { routes, versions }))
    }

    /// Removes the queued batches whose deadline is at or before `now`,
    /// returning their responders (to fail them: they were never written).
    pub fn expire(&mut self, now: Instant) -> Vec<T> {
        let (expired, kept): (VecDeque<_>, VecDeque<_>) = self
            .pending
            .drain(..)
            .partition(|(batch, _)| batch.deadline.is_some_and(|d| d <= now));
        self.pending = kept;
        expired.into_iter().map(|(_, responder)| responder).collect()
    }

    /// The earliest deadline of a queued batch.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending.iter().filter_map(|(batch, _)| batch.deadline).min()
    }

    /// Removes every queued batch, returning the responders (to fail them).
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.pending.drain(..).map(|(_, responder)| responder)
    }
}

/// Who gets the result of each partition of one produce request.
#[derive(Debug)]
pub struct ProduceRouting<T> {
    routes: Vec<(String, i32, T)>,
    /// The Produce versions the request may be sent at (`None`: any).
    pub versions: Option<VersionRange>,
}

impl<T> ProduceRouting<T> {
    /// The responders, in request order (to fail them, or to answer `acks = 0`).
    pub fn into_responders(self) -> impl Iterator<Item = T> {
        self.routes.into_iter().map(|(_, _, responder)| responder)
    }

    /// Matches `response` to the partitions of the request. A partition the
    /// response does not mention, or mentions twice, gets a
    /// [`ConnectionError::Protocol`] (its outcome is unknown); results for
    /// partitions we did not send are ignored.
    ///
    /// The lookup goes from the answer to what was sent, keyed by borrowed
    /// topic names: nothing is copied per answered partition, so the
    /// memory used here is bounded by the number of partitions *sent*, however
    /// many (or however long-named) partitions a hostile answer names.
    pub fn route(
        self,
        node_id: i32,
        response: ProduceResponse,
    ) -> Vec<(T, Result<PartitionResult, ConnectionError>)> {
        let mut answers: Vec<Option<PartitionProduceResponse>> = Vec::new();
        answers.resize_with(self.routes.len(), || None);
        let mut twice = vec![false; self.routes.len()];
        let mut unexpected = 0usize;
        {
            // topic -> partition -> slot. The topic name is hashed once per
            // topic entry of the answer, not once per partition entry (a
            // long name times many entries would be a hashing bomb).
            let mut sent: HashMap<&str, HashMap<i32, usize>> = HashMap::new();
            for (slot, (topic, partition, _)) in self.routes.iter().enumerate() {
                sent.entry(topic.as_str()).or_default().insert(*partition, slot);
            }
            for topic in response.responses {
                let Some(partitions) = sent.get(topic.name.as_str()) else {
                    unexpected += topic.partition_responses.len();
                    continue;
                };
                for partition in topic.partition_responses {
                    match partitions.get(&partition.index) {
                        Some(&slot) => {
                            if answers[slot].is_none() && !twice[slot] {
                                answers[slot] = Some(partition);
                            } else {
                                // Two results for one partition: neither is trusted.
                                answers[slot] = None;
                                twice[slot] = true;
                            }
                        }
                        None => unexpected += 1,
                    }
                }
            }
        }
        if unexpected > 0 {
            tracing::warn!(
                node_id,
                unexpected,
                "produce response has results for partitions not sent"
            );
        }
        self.routes
            .into_iter()
            .zip(answers.into_iter().zip(twice))
            .map(|((topic, partition, responder), (answer, twice))| {
                let result = match answer {
                    None if twice => {
                        tracing::warn!(node_id, topic = %topic, partition, "produce response names a partition twice");
                        Err(ConnectionError::Protocol {
                            node_id,
                            cause: ProtocolViolation::DuplicatePartition {
                                topic: topic.clone(),
                                partition,
                            },
                        })
                    }
                    Some(p) => Ok(PartitionResult {
                        error_code: p.error_code,
                        base_offset: p.base_offset,
                        log_append_time_ms: p.log_append_time_ms,
                        log_start_offset: p.log_start_offset,
                        error_message: p.error_message,
                        current_leader: p.current_leader.map(|l| (l.leader_id, l.leader_epoch)),
                    }),
                    None => {
                        tracing::warn!(node_id, topic = %topic, partition, "produce response omits a partition");
                        Err(ConnectionError::Protocol {
                            node_id,
                            cause: ProtocolViolation::MissingPartition {
                                topic: topic.clone(),
                                partition,
                            },
                        })
                    }
                };
                (responder, result)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use kafka_wire::messages::produce::{LeaderIdAndEpoch, TopicProduceResponse};
    use kafka_wire::ErrorCode;

    use super::*;

    fn batch(topic: &str, partition: i32, acks: i16) -> PendingBatch {
        PendingBatch {
            topic: topic.into(),
            partition,
            records: Bytes::from(format!("{topic}-{partition}")),
            acks,
            timeout_ms: 30_000,
            transactional_id: None,
            deadline: None,
            versions: None,
        }
    }

    /// `(topic, [partition])` in request order.
    fn layout(request: &ProduceRequest) -> Vec<(String, Vec<i32>)> {
        request
            .topic_data
            .iter()
            .map(|t| (t.name.clone(), t.partition_data.iter().map(|p| p.index).collect()))
            .collect()
    }

    fn ok(index: i32, base_offset: i64) -> PartitionProduceResponse {
        PartitionProduceResponse {
            index,
            error_code: ErrorCode::NONE,
            base_offset,
            log_append_time_ms: -1,
            log_start_offset: 0,
            record_errors: Vec::new(),
            error_message: None,
            current_leader: None,
        }
    }

    fn response(topics: Vec<(&str, Vec<PartitionProduceResponse>)>) -> ProduceResponse {
        ProduceResponse {
            responses: topics
                .into_iter()
                .map(|(name, partition_responses)| TopicProduceResponse {
                    name: name.to_owned(),
                    partition_responses,
                })
                .collect(),
            throttle_time_ms: 0,
            node_endpoints: Vec::new(),
        }
    }

    #[test]
    fn pending_batches_share_one_request_grouped_by_topic() {
        let mut c = ProduceCoalescer::default();
        c.push(batch("a", 0, 1), "a0");
        c.push(batch("b", 3, 1), "b3");
        c.push(batch("a", 1, 1), "a1");
        let (request, routing) = c.next_request().unwrap();
        assert!(c.is_empty());
        assert_eq!(
            layout(&request),
            [("a".into(), vec![0, 1]), ("b".into(), vec![3])]
        );
        assert_eq!(
            (request.acks, request.timeout_ms, request.transactional_id),
            (1, 30_000, None)
        );
        // The batch bytes are moved into the request, not copied.
        let records = request.topic_data[0].partition_data[1].records.as_ref().unwrap();
        assert_eq!(records.as_ref(), b"a-1");
        assert_eq!(routing.into_responders().collect::<Vec<_>>(), ["a0", "b3", "a1"]);
        assert!(c.next_request().is_none());
    }

    #[test]
    fn a_second_batch_for_a_partition_waits_for_the_next_request() {
        let mut c = ProduceCoalescer::default();
        c.push(batch("t", 0, 1), 1);
        c.push(batch("t", 0, 1), 2);
        c.push(batch("t", 1, 1), 3);
        let (first, routing) = c.next_request().unwrap();
        assert_eq!(layout(&first), [("t".into(), vec![0, 1])]);
        assert_eq!(routing.into_responders().collect::<Vec<_>>(), [1, 3]);
        let (second, routing) = c.next_request().unwrap();
        assert_eq!(layout(&second), [("t".into(), vec![0])]);
        assert_eq!(routing.into_responders().collect::<Vec<_>>(), [2]);
        assert!(c.is_empty());
    }

    #[test]
    fn batches_pinned_to_other_versions_are_separate_requests() {
        let mut c = ProduceCoalescer::default();
        let pinned = |partition, versions| PendingBatch {
            versions,
            ..batch("t", partition, 1)
        };
        c.push(pinned(0, Some(VersionRange::new(3, 11))), 1);
        c.push(pinned(1, Some(VersionRange::new(12, 13))), 2);
        c.push(pinned(2, Some(VersionRange::new(3, 11))), 3);
        let (_, first) = c.next_request().unwrap();
        assert_eq!(first.versions, Some(VersionRange::new(3, 11)));
        assert_eq!(first.into_responders().collect::<Vec<_>>(), [1, 3]);
        let (_, second) = c.next_request().unwrap();
        assert_eq!(second.versions, Some(VersionRange::new(12, 13)));
        assert_eq!(second.into_responders().collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn different_acks_timeouts_and_transactions_are_separate_requests() {
        let mut c = ProduceCoalescer::default();
        c.push(batch("t", 0, 1), 1);
        c.push(batch("t", 1, -1), 2);
        let mut timeout = batch("t", 2, 1);
        timeout.timeout_ms = 5;
        c.push(timeout, 3);
        let mut txn = batch("t", 3, 1);
        txn.transactional_id = Some("tx".into());
        c.push(txn, 4);
        c.push(batch("t", 4, 1), 5);
        let mut requests = Vec::new();
        while let Some((request, routing)) = c.next_request() {
            requests.push((
                request.acks,
                request.timeout_ms,
                request.transactional_id,
                routing.into_responders().collect::<Vec<_>>(),
            ));
        }
        assert_eq!(
            requests,
            [
                (1, 30_000, None, vec![1, 5]),
                (-1, 30_000, None, vec![2]),
                (1, 5, None, vec![3]),
                (1, 30_000, Some("tx".to_owned()), vec![4]),
            ]
        );
    }

    #[test]
    fn batches_past_their_deadline_expire_unwritten() {
        let now = Instant::now();
        let mut c = ProduceCoalescer::default();
        let mut due = batch("t", 0, 1);
        due.deadline = Some(now);
        let mut later = batch("t", 1, 1);
        later.deadline = Some(now + std::time::Duration::from_secs(1));
        c.push(due, "due");
        c.push(later, "later");
        c.push(batch("t", 2, 1), "never");
        assert_eq!(c.expire(now), vec!["due"]);
        let (request, _) = c.next_request().unwrap();
        assert_eq!(layout(&request), vec![("t".to_string(), vec![1, 2])]);
    }

    #[test]
    fn drain_returns_every_queued_responder() {
        let mut c = ProduceCoalescer::default();
        c.push(batch("t", 0, 1), 1);
        c.push(batch("t", 0, 1), 2);
        assert_eq!(c.drain().collect::<Vec<_>>(), [1, 2]);
        assert!(c.is_empty());
    }

    #[test]
    fn route_gives_each_partition_its_result() {
        let mut c = ProduceCoalescer::default();
        c.push(batch("a", 0, 1), "a0");
        c.push(batch("b", 1, 1), "b1");
        let (_, routing) = c.next_request().unwrap();
        let mut not_leader = ok(1, -1);
        not_leader.error_code = ErrorCode::NOT_LEADER_OR_FOLLOWER;
        not_leader.error_message = Some("moved".into());
        not_leader.current_leader = Some(LeaderIdAndEpoch {
            leader_id: 2,
            leader_epoch: 7,
        });
        // Topics answered in another order than requested.
        let routed = routing.route(1, response(vec![("b", vec![not_leader]), ("a", vec![ok(0, 42)])]));
        assert_eq!(routed.len(), 2);
        let (who, a0) = &routed[0];
        assert_eq!(*who, "a0");
        let a0 = a0.as_ref().unwrap();
        assert_eq!(
            (a0.error_code, a0.base_offset, a0.log_start_offset),
            (ErrorCode::NONE, 42, 0)
        );
        let (who, b1) = &routed[1];
        assert_eq!(*who, "b1");
        let b1 = b1.as_ref().unwrap();
        assert_eq!(b1.error_code, ErrorCode::NOT_LEADER_OR_FOLLOWER);
        assert_eq!(b1.error_message.as_deref(), Some("moved"));
        assert_eq!(b1.current_leader, Some((2, 7)));
    }

    #[test]
    fn route_fails_missing_partitions_with_a_protocol_error() {
        let mut c = ProduceCoalescer::default();
        c.push(batch("a", 0, 1), 0);
        c.push(batch("a", 1, 1), 1);
        c.push(batch("b", 0, 1), 2);
        let (_, routing) = c.next_request().unwrap();
        // Partition a-1 and topic b are missing; x-9 was never sent.
        let routed = routing.route(5, response(vec![("a", vec![ok(0, 10)]), ("x", vec![ok(9, 1)])]));
        assert_eq!(routed[0].1.as_ref().unwrap().base_offset, 10);
        for (who, result) in &routed[1..] {
            match result {
                Err(e @ ConnectionError::Protocol { node_id: 5, .. }) => assert!(e.maybe_sent(), "{who}"),
                other => panic!("{who}: {other:?}"),
            }
        }
        assert_eq!(routed.iter().map(|(who, _)| *who).collect::<Vec<_>>(), [0, 1, 2]);
    }

    /// An unsigned varint, as flexible versions write lengths.
    fn uvarint(out: &mut Vec<u8>, mut value: u32) {
        while value >= 0x80 {
            out.push((value as u8) | 0x80);
            value >>= 7;
        }
        out.push(value as u8);
    }

    /// A hostile answer under the 100 MiB frame cap: the sent topic, whose
    /// name is 1 MiB long, answered with 3 million partition entries that
    /// were never sent, then one for a partition that was. Routing once
    /// copied the name per entry (3 TB: "memory allocation failed"); now it
    /// must finish quickly, and every sent partition gets its result or a
    /// protocol error.
    #[test]
    fn a_hostile_answer_is_routed_without_copying_per_partition() {
        use kafka_wire::api::ApiKey;
        use kafka_wire::frame::{decode_response, DEFAULT_MAX_FRAME_SIZE};

        const VERSION: i16 = 9; // flexible: varint lengths allow a 1 MiB name
        const ENTRIES: u32 = 3_000_000;
        const ENTRY_SIZE: usize = 4 + 2 + 8 + 8 + 8 + 1 + 1 + 1;
        let name = "n".repeat(1 << 20);
        let mut c = ProduceCoalescer::default();
        c.push(batch(&name, 0, 1), "answered");
        c.push(batch(&name, 1, 1), "omitted");
        let (_, routing) = c.next_request().unwrap();

        let mut body = Vec::with_capacity(name.len() + ENTRY_SIZE * (ENTRIES as usize + 1) + 64);
        body.extend_from_slice(&7i32.to_be_bytes()); // correlation id
        body.push(0); // header tagged fields
        uvarint(&mut body, 1 + 1); // one topic
        uvarint(&mut body, name.len() as u32 + 1);
        body.extend_from_slice(name.as_bytes());
        uvarint(&mut body, ENTRIES + 1 + 1);
        let entry = |body: &mut Vec<u8>, index: i32, base_offset: i64| {
            body.extend_from_slice(&index.to_be_bytes());
            body.extend_from_slice(&0i16.to_be_bytes()); // error code
            body.extend_from_slice(&base_offset.to_be_bytes());
            body.extend_from_slice(&(-1i64).to_be_bytes()); // log append time
            body.extend_from_slice(&0i64.to_be_bytes()); // log start offset
            body.push(1); // no record errors
            body.push(0); // null error message
            body.push(0); // tagged fields
        };
        for index in 2..ENTRIES as i32 + 2 {
            entry(&mut body, index, 0);
        }
        entry(&mut body, 0, 99);
        body.push(0); // topic tagged fields
        body.extend_from_slice(&0i32.to_be_bytes()); // throttle time
        body.push(0); // tagged fields
        assert!(body.len() < DEFAULT_MAX_FRAME_SIZE, "{} bytes", body.len());
        let response: ProduceResponse = decode_response(ApiKey::Produce, VERSION, 7, &body).unwrap();
        drop(body);
        assert_eq!(
            response.responses[0].partition_responses.len(),
            ENTRIES as usize + 1
        );

        let started = Instant::now();
        let routed = routing.route(3, response);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(routed.len(), 2);
        let (who, answered) = &routed[0];
        assert_eq!(*who, "answered");
        assert_eq!(answered.as_ref().unwrap().base_offset, 99);
        let (who, omitted) = &routed[1];
        assert_eq!(*who, "omitted");
        assert!(
            matches!(omitted, Err(ConnectionError::Protocol { node_id: 3, .. })),
            "{omitted:?}"
        );
    }

    #[test]
    fn a_partition_answered_twice_is_a_protocol_error_and_strangers_are_ignored() {
        let mut c = ProduceCoalescer::default();
        c.push(batch("a", 0, 1), "a0");
        c.push(batch("a", 1, 1), "a1");
        let (_, routing) = c.next_request().unwrap();
        let routed = routing.route(
            1,
            response(vec![
                ("a", vec![ok(0, 5), ok(7, 1), ok(1, 3)]),
                ("a", vec![ok(0, 6)]),
                ("b", vec![ok(0, 9)]),
            ]),
        );
        assert_eq!(routed.len(), 2);
        // Two results (5 and 6) for a-0: neither is trusted.
        assert!(matches!(
            routed[0].1,
            Err(ConnectionError::Protocol {
                cause: ProtocolViolation::DuplicatePartition { partition: 0, .. },
                ..
            })
        ));
        assert_eq!(routed[1].1.as_ref().unwrap().base_offset, 3, "a-1 is unaffected");
    }
}
