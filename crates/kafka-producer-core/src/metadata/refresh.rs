//! [`MetadataManager`]: when to ask the cluster for metadata, and who waits
//! for the answer.
//!
//! One Metadata request is in flight at a time; every refresh covers every
//! topic the producer has asked about, and asks for a refresh that come
//! meanwhile fold into the next one. Three kinds of callers wait:
//!
//! - **topic waiters** (the enqueue stage, `partitions_for`) until the topic
//!   is known, a broker says it cannot be (an authorization error, an invalid
//!   name), or their deadline (`max_block_ms`) passes;
//! - **leader waiters** (a partition that lost its leader) until the next
//!   refresh, successful or not: they retry after their own backoff;
//! - **cluster waiters** (`Producer::start`) until any refresh succeeds, or
//!   their deadline, to fail fast on a wrong bootstrap address.
//!
//! A refresh that fails moves to the next broker and waits `retry_backoff_ms`;
//! metadata older than `metadata_max_age_ms` is refreshed on its own. The
//! reply handles `T`, `L`, `C` are the driver's; this type only decides who
//! gets which answer, and when.

use std::collections::HashSet;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_wire::messages::metadata::MetadataResponse;
use kafka_wire::ErrorCode;

use super::{ClusterMetadata, TopicInfo, TopicState};
use crate::error::{BrokerId, ConnectFailure, ProducerError};

/// The least pause between refreshes after an authentication failure.
pub const AUTH_FAILURE_BACKOFF: Duration = Duration::from_secs(1);

/// The timing rules.
#[derive(Debug, Clone)]
pub struct RefreshConfig {
    /// `bootstrap.servers`: asked in turn until a broker is known.
    pub bootstrap: Vec<String>,
    /// `metadata_max_age_ms`: refresh at least this often.
    pub max_age: Duration,
    /// `retry_backoff_ms`: the pause after a failed refresh, or after one
    /// that did not know a waited-for topic yet.
    pub retry_backoff: Duration,
}

/// A Metadata request to send now (from [`MetadataManager::poll_refresh`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refresh {
    /// The broker to ask: a node id, or -1, -2, ... for the bootstrap list.
    pub node_id: i32,
    /// Its `host:port`.
    pub addr: String,
    /// The topics to ask about.
    pub topics: Vec<String>,
}

/// An answer for a waiter (from [`MetadataManager::poll_event`]).
#[derive(Debug)]
pub enum MetadataEvent<T, L, C> {
    /// A topic waiter's answer.
    Topic(T, Result<TopicInfo, ProducerError>),
    /// A leader waiter's answer: the leader's node id and address.
    Leader(L, Result<(i32, String), ProducerError>),
    /// A cluster waiter's answer.
    Cluster(C, Result<(), ProducerError>),
    /// A refresh succeeded: the topics the producer asked about, as known now.
    TopicsUpdated(Vec<TopicInfo>),
}

#[derive(Debug)]
struct TopicWaiter<T> {
    topic: Arc<str>,
    deadline: Instant,
    since: Instant,
    reply: T,
}

#[derive(Debug)]
struct LeaderWaiter<L> {
    topic: Arc<str>,
    partition: i32,
    reply: L,
}

/// See the module documentation.
#[derive(Debug)]
pub struct MetadataManager<T, L, C> {
    config: RefreshConfig,
    cluster: ClusterMetadata,
    /// Topics the producer has asked about; every refresh covers them all.
    topics: HashSet<Arc<str>>,
    topic_waiters: Vec<TopicWaiter<T>>,
    leader_waiters: Vec<LeaderWaiter<L>>,
    cluster_waiters: Vec<(Instant, C)>,
    last_error: Option<ProducerError>,
    refreshing: bool,
    refresh_requested: bool,
    last_success: Option<Instant>,
    /// No refresh starts before this (backoff after a failure).
    not_before: Option<Instant>,
    /// Which broker the next refresh asks (rotates on failure).
    next_broker: usize,
    /// Refreshes failed in a row; once every known broker has failed, the
    /// bootstrap list is asked too.
    failed_in_a_row: usize,
    events: VecDeque<MetadataEvent<T, L, C>>,
}

impl<T, L, C> MetadataManager<T, L, C> {
    /// Nothing known yet; the first [`poll_refresh`](Self::poll_refresh)
    /// asks the bootstrap list.
    pub fn new(config: RefreshConfig) -> Self {
        MetadataManager {
            config,
            cluster: ClusterMetadata::default(),
            topics: HashSet::new(),
            topic_waiters: Vec::new(),
            leader_waiters: Vec::new(),
            cluster_waiters: Vec::new(),
            last_error: None,
            refreshing: false,
            refresh_requested: true,
            last_success: None,
            not_before: None,
            next_broker: 0,
            failed_in_a_row: 0,
            events: VecDeque::new(),
        }
    }

    /// What is known.
    pub fn cluster(&self) -> &ClusterMetadata {
        &self.cluster
    }

    /// The leader of a partition and its address, if known.
    pub fn leader(&self, topic: &str, partition: i32) -> Option<(i32, String)> {
        let node_id = self.cluster.leader(topic, partition)?;
        Some((node_id, self.cluster.broker(node_id)?.to_string()))
    }

    /// Waits for `topic` until `deadline`; answered at once if it is known.
    pub fn handle_get_topic(&mut self, topic: Arc<str>, deadline: Instant, reply: T, now: Instant) {
        if let Some(TopicState::Known(info)) = self.cluster.topic(&topic) {
            self.events
                .push_back(MetadataEvent::Topic(reply, Ok(info.clone())));
            return;
        }
        // Ask now for a topic never asked about; one that was missing before
        // is asked again too, after the usual backoff.
        if self.topics.insert(topic.clone()) {
            self.not_before = None;
        }
        self.refresh_requested = true;
        self.topic_waiters.push(TopicWaiter {
            topic,
            deadline,
            since: now,
            reply,
        });
    }

    /// The leader of a partition: at once if known and `refresh` is false,
    /// else after the next refresh (the caller saw a stale leader).
    pub fn handle_get_leader(&mut self, topic: Arc<str>, partition: i32, refresh: bool, reply: L) {
        if !refresh {
            if let Some(leader) = self.leader(&topic, partition) {
                self.events.push_back(MetadataEvent::Leader(reply, Ok(leader)));
                return;
            }
        }
        self.topics.insert(topic.clone());
        self.refresh_requested = true;
        self.leader_waiters.push(LeaderWaiter {
            topic,
            partition,
            reply,
        });
    }

    /// Waits until any refresh has succeeded, or `deadline`.
    pub fn handle_await_cluster(&mut self, deadline: Instant, reply: C) {
        if self.last_success.is_some() {
            self.events.push_back(MetadataEvent::Cluster(reply, Ok(())));
        } else {
            self.cluster_waiters.push((deadline, reply));
        }
    }

    /// The Metadata request to send now, if one is due: asked for, or the
    /// metadata is older than `metadata_max_age_ms`; never two at once, and
    /// not during the backoff after a failure.
    pub fn poll_refresh(&mut self, now: Instant) -> Option<Refresh> {
        let stale = self.last_success.is_none_or(|t| now >= t + self.config.max_age);
        let backing_off = self.not_before.is_some_and(|t| now < t);
        if self.refreshing || backing_off || !(self.refresh_requested || stale) {
            return None;
        }
        self.refreshing = true;
        self.refresh_requested = false;
        let (node_id, addr) = self.any_broker();
        let topics = self.topics.iter().map(|t| t.to_string()).collect();
        Some(Refresh {
            node_id,
            addr,
            topics,
        })
    }

    /// The answer to the refresh in flight.
    pub fn handle_refresh_response(&mut self, response: &MetadataResponse, now: Instant) {
        self.refreshing = false;
        self.failed_in_a_row = 0;
        self.cluster.update(response);
        let asked = &self.topics;
        self.cluster.retain_topics(|name| asked.contains(name));
        self.last_success = Some(now);
        for (_, reply) in self.cluster_waiters.drain(..) {
            self.events.push_back(MetadataEvent::Cluster(reply, Ok(())));
        }
        let updated = self
            .topics
            .iter()
            .filter_map(|topic| match self.cluster.topic(topic) {
                Some(TopicState::Known(info)) => Some(info.clone()),
                _ => None,
            })
            .collect();
        self.events.push_back(MetadataEvent::TopicsUpdated(updated));
        for waiter in std::mem::take(&mut self.topic_waiters) {
            match self.cluster.topic(&waiter.topic) {
                Some(TopicState::Known(info)) => {
                    let info = info.clone();
                    self.events
                        .push_back(MetadataEvent::Topic(waiter.reply, Ok(info)));
                }
                Some(TopicState::Failed(code)) => {
                    let error = ProducerError::Broker {
                        code: *code,
                        message: None,
                    };
                    self.events
                        .push_back(MetadataEvent::Topic(waiter.reply, Err(error)));
                }
                _ => {
                    // Unknown so far: ask again after the backoff, as Java does.
                    self.refresh_requested = true;
                    self.not_before = Some(now + self.config.retry_backoff);
                    self.topic_waiters.push(waiter);
                }
            }
        }
        for waiter in std::mem::take(&mut self.leader_waiters) {
            let answer = self
                .leader(&waiter.topic, waiter.partition)
                .ok_or(ProducerError::Broker {
                    code: ErrorCode::LEADER_NOT_AVAILABLE,
                    message: None,
                });
            self.events.push_back(MetadataEvent::Leader(waiter.reply, answer));
        }
    }

    /// The refresh in flight failed (no answer, or a connection error): the
    /// next one asks another broker after the backoff, and leader waiters
    /// learn nothing new (they retry after their own backoff).
    ///
    /// An authentication failure (TLS or SASL, see
    /// [`ProducerError::is_authentication`]) answers every waiter at once, as
    /// the Java client fails `send` with its `AuthenticationException`
    /// instead of waiting out `max_block_ms`: asking again cannot help until
    /// the configuration changes. Refreshes go on, `AUTH_FAILURE_BACKOFF` (1 s)
    /// apart, so that no reconnect storm follows.
    pub fn handle_refresh_failed(&mut self, error: ProducerError, now: Instant) {
        tracing::warn!(%error, "metadata refresh failed");
        self.refreshing = false;
        self.next_broker += 1;
        self.failed_in_a_row += 1;
        self.refresh_requested = true;
        let authentication = error.is_authentication();
        let backoff = if authentication {
            self.config.retry_backoff.max(AUTH_FAILURE_BACKOFF)
        } else {
            self.config.retry_backoff
        };
        self.not_before = Some(now + backoff);
        for waiter in self.leader_waiters.drain(..) {
            self.events
                .push_back(MetadataEvent::Leader(waiter.reply, Err(error.clone())));
        }
        if authentication {
            for waiter in std::mem::take(&mut self.topic_waiters) {
                self.events
                    .push_back(MetadataEvent::Topic(waiter.reply, Err(error.clone())));
            }
            for (_, reply) in std::mem::take(&mut self.cluster_waiters) {
                self.events
                    .push_back(MetadataEvent::Cluster(reply, Err(error.clone())));
            }
        }
        self.last_error = Some(error);
    }

    /// Time passed: waiters whose deadline passed get their error.
    pub fn handle_timeout(&mut self, now: Instant) {
        let (expired, kept) = std::mem::take(&mut self.cluster_waiters)
            .into_iter()
            .partition(|(deadline, _)| now >= *deadline);
        self.cluster_waiters = kept;
        for (_, reply) in expired {
            // The last refresh's failure says why; without one, no broker
            // answered at all.
            let error = self
                .last_error
                .clone()
                .unwrap_or_else(|| ProducerError::Connection {
                    broker: BrokerId(-1),
                    addr: self.config.bootstrap.join(","),
                    cause: ConnectFailure::NoBrokerAnswered,
                });
            self.events.push_back(MetadataEvent::Cluster(reply, Err(error)));
        }
        let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.topic_waiters)
            .into_iter()
            .partition(|w| now >= w.deadline);
        self.topic_waiters = kept;
        for waiter in expired {
            let error = ProducerError::UnknownTopic {
                topic: waiter.topic.to_string(),
                waited_ms: now.saturating_duration_since(waiter.since).as_millis() as u64,
            };
            self.events
                .push_back(MetadataEvent::Topic(waiter.reply, Err(error)));
        }
    }

    /// A broker for a request any broker can answer: the known brokers in
    /// turn, or the bootstrap list (as node ids -1, -2, ...) before any is
    /// known. Once every known broker has failed in a row, the bootstrap
    /// list joins the rotation (Java's `metadata.recovery.strategy =
    /// rebootstrap`, KIP-899): the cluster may have moved to new hosts that
    /// only the bootstrap names still reach.
    pub fn any_broker(&self) -> (i32, String) {
        let mut brokers: Vec<(i32, String)> = self.cluster.brokers().map(|b| (b.node_id, b.addr)).collect();
        // Known brokers in node order; the bootstrap list in its own order.
        brokers.sort();
        if brokers.is_empty() || self.failed_in_a_row >= brokers.len() {
            let bootstrap = self.config.bootstrap.iter().enumerate();
            brokers.extend(bootstrap.map(|(i, addr)| (-1 - i as i32, addr.clone())));
        }
        brokers[self.next_broker % brokers.len()].clone()
    }

    /// Moves [`any_broker`](Self::any_broker) to the next broker.
    pub fn rotate_broker(&mut self) {
        self.next_broker += 1;
    }

    /// The producer stops: every waiter is answered with `error`.
    pub fn close(&mut self, error: ProducerError) {
        for waiter in std::mem::take(&mut self.topic_waiters) {
            self.events
                .push_back(MetadataEvent::Topic(waiter.reply, Err(error.clone())));
        }
        for waiter in std::mem::take(&mut self.leader_waiters) {
            self.events
                .push_back(MetadataEvent::Leader(waiter.reply, Err(error.clone())));
        }
        for (_, reply) in std::mem::take(&mut self.cluster_waiters) {
            self.events
                .push_back(MetadataEvent::Cluster(reply, Err(error.clone())));
        }
    }

    /// The next answer to deliver, in order.
    pub fn poll_event(&mut self) -> Option<MetadataEvent<T, L, C>> {
        self.events.pop_front()
    }
}

#[cfg(test)]
#[path = "refresh_tests.rs"]
mod tests;
