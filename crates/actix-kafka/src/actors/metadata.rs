//! `MetadataActor`: owns [`ClusterMetadata`], the broker connections, and the
//! waiters for topics and leaders.
//!
//! One Metadata request is in flight at a time; requests for a refresh that
//! arrive meanwhile are folded into the next one. Topic waiters wait until
//! their deadline (`max_block_ms`); leader waiters are answered after the
//! next refresh.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use kafka_wire::messages::metadata::MetadataRequest;
use kafka_wire::ErrorCode;
use tokio::sync::oneshot;

use crate::config::ProducerConfig;
use crate::connection::{BrokerConnectionActor, Call, Close, ConnectionConfig};
use crate::error::ProducerError;
use crate::metadata::{ClusterMetadata, TopicInfo, TopicState};

/// How often waiters' deadlines and the metadata age are checked.
const TICK: Duration = Duration::from_millis(50);

/// Waits until `topic` is in the metadata, or `deadline`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct GetTopic {
    /// The topic.
    pub topic: Arc<str>,
    /// When to give up with [`ProducerError::UnknownTopic`].
    pub deadline: Instant,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Result<TopicInfo, ProducerError>>,
}

/// The leader of a partition and a connection to it. With `refresh`, the
/// answer comes after a new Metadata response (the caller saw a stale leader).
#[derive(Message)]
#[rtype(result = "()")]
pub struct GetLeader {
    /// The topic.
    pub topic: Arc<str>,
    /// The partition.
    pub partition: i32,
    /// Whether to refresh metadata before answering.
    pub refresh: bool,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Result<Leader, ProducerError>>,
}

/// A partition leader.
#[derive(Debug, Clone)]
pub struct Leader {
    /// Its node id.
    pub node_id: i32,
    /// The connection to it.
    pub connection: Addr<BrokerConnectionActor>,
}

/// Sent to listeners after every successful refresh.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct TopicsUpdated(pub Vec<TopicInfo>);

/// Registers a listener for [`TopicsUpdated`].
#[derive(Message)]
#[rtype(result = "()")]
pub struct ListenForTopics(pub Recipient<TopicsUpdated>);

/// Answers once a Metadata request has succeeded, or with the last error at
/// `deadline`. `Producer::start` uses it to fail fast on a wrong address.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AwaitCluster {
    /// When to give up.
    pub deadline: Instant,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Result<(), ProducerError>>,
}

/// A connection to some broker, for requests any broker can answer
/// (InitProducerId without a transactional id). Rotates on each call.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AnyConnection {
    /// Where the node id and connection go.
    pub reply: oneshot::Sender<Result<(i32, Addr<BrokerConnectionActor>), ProducerError>>,
}

/// A connection to the broker `node_id` at `addr` (a coordinator).
#[derive(Message)]
#[rtype(result = "Addr<BrokerConnectionActor>")]
pub struct ConnectionTo {
    /// Its node id.
    pub node_id: i32,
    /// `host:port`.
    pub addr: String,
}

/// Stops the actor and its connections.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ShutdownMetadata;

struct TopicWaiter {
    topic: Arc<str>,
    deadline: Instant,
    started: Instant,
    reply: oneshot::Sender<Result<TopicInfo, ProducerError>>,
}

struct LeaderWaiter {
    topic: Arc<str>,
    partition: i32,
    reply: oneshot::Sender<Result<Leader, ProducerError>>,
}

/// See the module documentation.
pub struct MetadataActor {
    config: Arc<ProducerConfig>,
    cluster: ClusterMetadata,
    bootstrap: Vec<String>,
    connections: HashMap<i32, Addr<BrokerConnectionActor>>,
    /// Topics the producer has asked about; every refresh covers them all.
    topics: HashSet<Arc<str>>,
    topic_waiters: Vec<TopicWaiter>,
    leader_waiters: Vec<LeaderWaiter>,
    cluster_waiters: Vec<AwaitCluster>,
    last_error: Option<String>,
    listeners: Vec<Recipient<TopicsUpdated>>,
    refreshing: bool,
    refresh_requested: bool,
    /// When the last refresh succeeded, and when the next may start.
    last_success: Option<Instant>,
    not_before: Instant,
    /// Which broker the next refresh asks (rotates on failure).
    next_broker: usize,
}

impl MetadataActor {
    /// A metadata actor for `config`.
    pub fn new(config: Arc<ProducerConfig>) -> Self {
        MetadataActor {
            bootstrap: config.bootstrap_addresses(),
            config,
            cluster: ClusterMetadata::default(),
            connections: HashMap::new(),
            topics: HashSet::new(),
            topic_waiters: Vec::new(),
            leader_waiters: Vec::new(),
            cluster_waiters: Vec::new(),
            last_error: None,
            listeners: Vec::new(),
            refreshing: false,
            refresh_requested: true,
            last_success: None,
            not_before: Instant::now(),
            next_broker: 0,
        }
    }

    fn connection_to(&mut self, node_id: i32, addr: &str) -> Addr<BrokerConnectionActor> {
        if let Some(conn) = self.connections.get(&node_id) {
            return conn.clone();
        }
        let c = &self.config;
        let conn = BrokerConnectionActor::new(ConnectionConfig {
            node_id,
            addr: addr.to_string(),
            client_id: c.client_id.clone(),
            request_timeout: Duration::from_millis(c.request_timeout_ms),
            connect_timeout: Duration::from_millis(c.request_timeout_ms),
            max_in_flight: c.max_in_flight_requests_per_connection,
            reconnect_backoff: Duration::from_millis(c.reconnect_backoff_ms),
            max_frame_size: kafka_wire::frame::DEFAULT_MAX_FRAME_SIZE,
            idle_timeout: c.connections_max_idle(),
            // Transactions pin their versions per request (TxnProtocol).
            max_versions: Vec::new(),
        })
        .start();
        self.connections.insert(node_id, conn.clone());
        conn
    }

    fn leader(&mut self, topic: &str, partition: i32) -> Option<Leader> {
        let node_id = self.cluster.leader(topic, partition)?;
        let addr = self.cluster.broker(node_id)?.to_string();
        Some(Leader {
            node_id,
            connection: self.connection_to(node_id, &addr),
        })
    }

    /// The broker the next refresh asks: the known brokers in turn, or the
    /// bootstrap list (as pseudo node ids -1, -2, ...) before we know any.
    fn refresh_target(&mut self) -> (i32, Addr<BrokerConnectionActor>) {
        let mut brokers: Vec<(i32, String)> = self.cluster.brokers().map(|b| (b.node_id, b.addr)).collect();
        if brokers.is_empty() {
            brokers = self
                .bootstrap
                .iter()
                .enumerate()
                .map(|(i, addr)| (-1 - i as i32, addr.clone()))
                .collect();
        }
        brokers.sort();
        let (node_id, addr) = brokers[self.next_broker % brokers.len()].clone();
        (node_id, self.connection_to(node_id, &addr))
    }

    fn maybe_refresh(&mut self, ctx: &mut Context<Self>) {
        let now = Instant::now();
        let stale = self
            .last_success
            .is_none_or(|t| now >= t + Duration::from_millis(self.config.metadata_max_age_ms));
        if self.refreshing || now < self.not_before || !(self.refresh_requested || stale) {
            return;
        }
        self.refreshing = true;
        self.refresh_requested = false;
        let topics: Vec<String> = self.topics.iter().map(|t| t.to_string()).collect();
        let request = MetadataRequest {
            allow_auto_topic_creation: true,
            ..MetadataRequest::for_topics(topics)
        };
        let (_, target) = self.refresh_target();
        target
            .send(Call(request))
            .into_actor(self)
            .map(|result, actor, ctx| {
                actor.refreshing = false;
                match result {
                    Ok(Ok(response)) => {
                        actor.cluster.update(&response);
                        actor.last_success = Some(Instant::now());
                        actor.after_refresh();
                    }
                    Ok(Err(e)) => actor.refresh_failed(e.to_string()),
                    Err(e) => actor.refresh_failed(e.to_string()),
                }
                actor.maybe_refresh(ctx);
            })
            .spawn(ctx);
    }

    fn refresh_failed(&mut self, reason: String) {
        tracing::warn!(%reason, "metadata refresh failed");
        self.last_error = Some(reason.clone());
        self.next_broker += 1;
        self.refresh_requested = true;
        self.not_before = Instant::now() + Duration::from_millis(self.config.retry_backoff_ms);
        // Leader waiters learn nothing new; let them retry after their backoff.
        for w in self.leader_waiters.drain(..) {
            let _ = w.reply.send(Err(ProducerError::Connection {
                broker: "metadata".to_string(),
                reason: reason.clone(),
            }));
        }
    }

    fn after_refresh(&mut self) {
        for w in self.cluster_waiters.drain(..) {
            let _ = w.reply.send(Ok(()));
        }
        let mut updated = Vec::new();
        for topic in &self.topics {
            if let Some(TopicState::Known(info)) = self.cluster.topic(topic) {
                updated.push(info.clone());
            }
        }
        for listener in &self.listeners {
            listener.do_send(TopicsUpdated(updated.clone()));
        }
        let waiters = std::mem::take(&mut self.topic_waiters);
        for w in waiters {
            match self.cluster.topic(&w.topic) {
                Some(TopicState::Known(info)) => {
                    let _ = w.reply.send(Ok(info.clone()));
                }
                Some(TopicState::Failed(code)) => {
                    let _ = w.reply.send(Err(ProducerError::Broker {
                        code: *code,
                        message: None,
                    }));
                }
                _ => {
                    // Unknown so far: ask again after the backoff, as Java does.
                    self.refresh_requested = true;
                    self.not_before = Instant::now() + Duration::from_millis(self.config.retry_backoff_ms);
                    self.topic_waiters.push(w);
                }
            }
        }
        for w in std::mem::take(&mut self.leader_waiters) {
            let answer = self.leader(&w.topic, w.partition).ok_or(ProducerError::Broker {
                code: ErrorCode::LEADER_NOT_AVAILABLE,
                message: None,
            });
            let _ = w.reply.send(answer);
        }
    }

    fn expire_waiters(&mut self) {
        let now = Instant::now();
        let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.cluster_waiters)
            .into_iter()
            .partition(|w| now >= w.deadline);
        self.cluster_waiters = kept;
        for w in expired {
            let _ = w.reply.send(Err(ProducerError::Connection {
                broker: self.bootstrap.join(","),
                reason: self.last_error.clone().unwrap_or_else(|| "no answer".to_string()),
            }));
        }
        let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.topic_waiters)
            .into_iter()
            .partition(|w| now >= w.deadline);
        self.topic_waiters = kept;
        for w in expired {
            let waited_ms = now.saturating_duration_since(w.started).as_millis() as u64;
            let _ = w.reply.send(Err(ProducerError::UnknownTopic {
                topic: w.topic.to_string(),
                waited_ms,
            }));
        }
    }
}

impl Actor for MetadataActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(TICK, |actor, ctx| {
            actor.expire_waiters();
            actor.maybe_refresh(ctx);
        });
        self.maybe_refresh(ctx);
    }
}

impl Handler<GetTopic> for MetadataActor {
    type Result = ();

    fn handle(&mut self, msg: GetTopic, ctx: &mut Context<Self>) {
        if let Some(TopicState::Known(info)) = self.cluster.topic(&msg.topic) {
            let _ = msg.reply.send(Ok(info.clone()));
            return;
        }
        // Ask now for a topic we never asked about; a topic that was missing
        // before is asked again too, after the usual backoff.
        if self.topics.insert(msg.topic.clone()) {
            self.not_before = Instant::now();
        }
        self.refresh_requested = true;
        self.topic_waiters.push(TopicWaiter {
            topic: msg.topic,
            deadline: msg.deadline,
            started: Instant::now(),
            reply: msg.reply,
        });
        self.maybe_refresh(ctx);
    }
}

impl Handler<GetLeader> for MetadataActor {
    type Result = ();

    fn handle(&mut self, msg: GetLeader, ctx: &mut Context<Self>) {
        if !msg.refresh {
            if let Some(leader) = self.leader(&msg.topic, msg.partition) {
                let _ = msg.reply.send(Ok(leader));
                return;
            }
        }
        self.topics.insert(msg.topic.clone());
        self.refresh_requested = true;
        self.leader_waiters.push(LeaderWaiter {
            topic: msg.topic,
            partition: msg.partition,
            reply: msg.reply,
        });
        self.maybe_refresh(ctx);
    }
}

impl Handler<AwaitCluster> for MetadataActor {
    type Result = ();

    fn handle(&mut self, msg: AwaitCluster, ctx: &mut Context<Self>) {
        if self.last_success.is_some() {
            let _ = msg.reply.send(Ok(()));
        } else {
            self.cluster_waiters.push(msg);
            self.maybe_refresh(ctx);
        }
    }
}

impl Handler<AnyConnection> for MetadataActor {
    type Result = ();

    fn handle(&mut self, msg: AnyConnection, _: &mut Context<Self>) {
        self.next_broker += 1;
        let _ = msg.reply.send(Ok(self.refresh_target()));
    }
}

impl Handler<ConnectionTo> for MetadataActor {
    type Result = MessageResult<ConnectionTo>;

    fn handle(&mut self, msg: ConnectionTo, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.connection_to(msg.node_id, &msg.addr))
    }
}

impl Handler<ListenForTopics> for MetadataActor {
    type Result = ();

    fn handle(&mut self, msg: ListenForTopics, _: &mut Context<Self>) {
        self.listeners.push(msg.0);
    }
}

impl Handler<ShutdownMetadata> for MetadataActor {
    type Result = ();

    fn handle(&mut self, _: ShutdownMetadata, ctx: &mut Context<Self>) {
        for w in self.topic_waiters.drain(..) {
            let _ = w.reply.send(Err(ProducerError::Closed));
        }
        for w in self.leader_waiters.drain(..) {
            let _ = w.reply.send(Err(ProducerError::Closed));
        }
        for w in self.cluster_waiters.drain(..) {
            let _ = w.reply.send(Err(ProducerError::Closed));
        }
        for (_, conn) in self.connections.drain() {
            conn.do_send(Close);
        }
        ctx.stop();
    }
}
