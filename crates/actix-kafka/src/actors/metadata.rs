//! `MetadataActor`: drives the core's [`MetadataManager`] (when to refresh,
//! who waits for which answer) and owns the broker connections.
//!
//! Every handler hands the manager what happened, then sends the Metadata
//! request it asks for (if any) and delivers the answers it produced. A
//! tick checks deadlines and the metadata's age.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use kafka_wire::messages::metadata::MetadataRequest;
use tokio::sync::oneshot;

use crate::config::ProducerConfig;
use crate::connection::{BrokerConnectionActor, Call, Close, ConnectionConfig};
use crate::error::{Disconnect, ProducerError};
use crate::metadata::{MetadataEvent, MetadataManager, RefreshConfig, TopicInfo};
use crate::security::ConnectionSecurity;

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

type TopicReply = oneshot::Sender<Result<TopicInfo, ProducerError>>;
type LeaderReply = oneshot::Sender<Result<Leader, ProducerError>>;
type ClusterReply = oneshot::Sender<Result<(), ProducerError>>;

/// See the module documentation.
pub struct MetadataActor {
    config: Arc<ProducerConfig>,
    manager: MetadataManager<TopicReply, LeaderReply, ClusterReply>,
    /// One connection per node, with the address it was made for.
    connections: HashMap<i32, (String, Addr<BrokerConnectionActor>)>,
    listeners: Vec<Recipient<TopicsUpdated>>,
    security: Arc<ConnectionSecurity>,
}

impl MetadataActor {
    /// A metadata actor for `config`, over plaintext connections.
    pub fn new(config: Arc<ProducerConfig>) -> Self {
        Self::with_security(config, ConnectionSecurity::plaintext())
    }

    /// A metadata actor whose connections use `security` (TLS, SASL).
    pub fn with_security(config: Arc<ProducerConfig>, security: Arc<ConnectionSecurity>) -> Self {
        let manager = MetadataManager::new(RefreshConfig {
            bootstrap: config.bootstrap_addresses(),
            max_age: Duration::from_millis(config.metadata_max_age_ms),
            retry_backoff: Duration::from_millis(config.retry_backoff_ms),
        });
        MetadataActor {
            config,
            manager,
            connections: HashMap::new(),
            listeners: Vec::new(),
            security,
        }
    }

    /// The connection to `node_id` at `addr`. A node that moved (the
    /// metadata names a new address for it) gets a new connection; the old
    /// one is closed, and its callers fail over to the new one.
    fn connection_to(&mut self, node_id: i32, addr: &str) -> Addr<BrokerConnectionActor> {
        match self.connections.get(&node_id) {
            Some((known, conn)) if known == addr => return conn.clone(),
            Some((known, _)) => {
                tracing::info!(node_id, from = %known, to = %addr, "broker moved: reconnecting");
                self.close_connection(node_id);
            }
            None => {}
        }
        let c = &self.config;
        let config = ConnectionConfig {
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
        };
        let conn = BrokerConnectionActor::with_security(config, self.security.clone()).start();
        self.connections.insert(node_id, (addr.to_string(), conn.clone()));
        conn
    }

    fn close_connection(&mut self, node_id: i32) {
        if let Some((_, conn)) = self.connections.remove(&node_id) {
            conn.do_send(Close);
        }
    }

    /// After a refresh: closes the connections of nodes the metadata now
    /// puts at another address (the next request reconnects there), and of
    /// nodes it no longer lists (they left the cluster).
    fn follow_moved_brokers(&mut self) {
        let listed: HashMap<i32, String> = self
            .manager
            .cluster()
            .brokers()
            .map(|b| (b.node_id, b.addr))
            .collect();
        let stale: Vec<i32> = self
            .connections
            .iter()
            .filter(|(node_id, (addr, _))| **node_id >= 0 && listed.get(node_id) != Some(addr))
            .map(|(node_id, _)| *node_id)
            .collect();
        for node_id in stale {
            tracing::info!(node_id, new_addr = ?listed.get(&node_id), "broker moved or left: closing its connection");
            self.close_connection(node_id);
        }
    }

    /// Sends the refresh the manager asks for, and delivers its answers.
    fn drive(&mut self, ctx: &mut Context<Self>) {
        if let Some(refresh) = self.manager.poll_refresh(Instant::now()) {
            let node_id = refresh.node_id;
            let request = MetadataRequest {
                allow_auto_topic_creation: true,
                ..MetadataRequest::for_topics(refresh.topics)
            };
            self.connection_to(refresh.node_id, &refresh.addr)
                .send(Call(request))
                .into_actor(self)
                .map(move |result, actor, ctx| {
                    let now = Instant::now();
                    match result {
                        Ok(Ok(response)) => {
                            actor.manager.handle_refresh_response(&response, now);
                            actor.follow_moved_brokers();
                        }
                        Ok(Err(e)) => actor.manager.handle_refresh_failed(e.into(), now),
                        Err(_) => {
                            let broker = node_id.into();
                            let cause = Disconnect::ConnectionStopped;
                            actor
                                .manager
                                .handle_refresh_failed(ProducerError::Disconnected { broker, cause }, now)
                        }
                    }
                    actor.drive(ctx);
                })
                .spawn(ctx);
        }
        self.deliver();
    }

    /// Delivers the answers the manager produced.
    fn deliver(&mut self) {
        while let Some(event) = self.manager.poll_event() {
            match event {
                MetadataEvent::Topic(reply, answer) => {
                    let _ = reply.send(answer);
                }
                MetadataEvent::Leader(reply, answer) => {
                    let answer = answer.map(|(node_id, addr)| Leader {
                        node_id,
                        connection: self.connection_to(node_id, &addr),
                    });
                    let _ = reply.send(answer);
                }
                MetadataEvent::Cluster(reply, answer) => {
                    let _ = reply.send(answer);
                }
                MetadataEvent::TopicsUpdated(topics) => {
                    for listener in &self.listeners {
                        listener.do_send(TopicsUpdated(topics.clone()));
                    }
                }
            }
        }
    }
}

impl Actor for MetadataActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(TICK, |actor, ctx| {
            actor.manager.handle_timeout(Instant::now());
            actor.drive(ctx);
        });
        self.drive(ctx);
    }
}

impl Handler<GetTopic> for MetadataActor {
    type Result = ();

    fn handle(&mut self, msg: GetTopic, ctx: &mut Context<Self>) {
        let now = Instant::now();
        self.manager
            .handle_get_topic(msg.topic, msg.deadline, msg.reply, now);
        self.drive(ctx);
    }
}

impl Handler<GetLeader> for MetadataActor {
    type Result = ();

    fn handle(&mut self, msg: GetLeader, ctx: &mut Context<Self>) {
        self.manager
            .handle_get_leader(msg.topic, msg.partition, msg.refresh, msg.reply);
        self.drive(ctx);
    }
}

impl Handler<AwaitCluster> for MetadataActor {
    type Result = ();

    fn handle(&mut self, msg: AwaitCluster, ctx: &mut Context<Self>) {
        self.manager.handle_await_cluster(msg.deadline, msg.reply);
        self.drive(ctx);
    }
}

impl Handler<AnyConnection> for MetadataActor {
    type Result = ();

    fn handle(&mut self, msg: AnyConnection, _: &mut Context<Self>) {
        self.manager.rotate_broker();
        let (node_id, addr) = self.manager.any_broker();
        let _ = msg.reply.send(Ok((node_id, self.connection_to(node_id, &addr))));
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
        self.manager.close(ProducerError::Closed);
        self.deliver();
        for (_, (_, conn)) in self.connections.drain() {
            conn.do_send(Close);
        }
        ctx.stop();
    }
}
