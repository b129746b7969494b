//! Request handling: decode with `kafka-protocol`, apply the script and the
//! cluster model, encode the response.
//!
//! `kafka-protocol` refuses to encode a field a version does not have unless
//! it holds its default, so every optional field below is set only for the
//! versions that carry it.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::api_versions_response::{ApiVersion, FinalizedFeatureKey, SupportedFeatureKey};
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::produce_response::{
    LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse,
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, BrokerId, EndTxnRequest, EndTxnResponse,
    FindCoordinatorRequest, FindCoordinatorResponse, InitProducerIdRequest, InitProducerIdResponse,
    MetadataRequest, MetadataResponse, ProduceRequest, ProduceResponse, ProducerId, RequestHeader,
    ResponseHeader, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
    SaslHandshakeResponse, TopicName, TransactionalId, TxnOffsetCommitRequest, TxnOffsetCommitResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

use super::state::{AppendResult, State};
use super::{codes, Authentication, Fault, ProducedPartition, RecordedRequest, SaslAnswer, SaslTurn, Shared};

/// The host every fake broker advertises.
const HOST: &str = "127.0.0.1";

/// What the connection does with a request's outcome.
#[derive(Debug)]
pub(crate) enum Action {
    /// Write these bytes (a size-prefixed response, or raw bytes).
    Write(Vec<u8>),
    /// Write these bytes, then close the connection (a failed
    /// authentication).
    WriteThenClose(Vec<u8>),
    /// Write nothing; keep the connection.
    Nothing,
    /// Close the connection.
    Close,
    /// Read nothing more; keep the connection open until the cluster stops.
    StopReading,
    /// Write these bytes one at a time, this long apart.
    Trickle(Vec<u8>, Duration),
}

/// What to do, after how long.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) delay: Duration,
    pub(crate) action: Action,
}

impl Outcome {
    /// The same outcome, but the connection closes after a written answer.
    fn then_close(self) -> Outcome {
        let action = match self.action {
            Action::Write(bytes) => Action::WriteThenClose(bytes),
            other => other,
        };
        Outcome { action, ..self }
    }
}

type HandleResult = Result<Outcome, String>;

/// What one connection remembers between its requests: where it is in SASL.
#[derive(Debug)]
pub(crate) struct Connection {
    /// The connection's number on its broker (1-based).
    number: usize,
    /// The mechanism of the authentication in progress (set by a
    /// successful SaslHandshake, cleared when the authentication ends).
    mechanism: Option<String>,
    /// SaslAuthenticate messages since that handshake.
    messages: Vec<Vec<u8>>,
    /// Whether an authentication has succeeded on this connection.
    authenticated: bool,
    /// When the session ends (KIP-368), if the broker set a lifetime.
    expires: Option<Instant>,
}

impl Connection {
    pub(crate) fn new(number: usize) -> Connection {
        Connection {
            number,
            mechanism: None,
            messages: Vec::new(),
            authenticated: false,
            expires: None,
        }
    }
}

/// Handles one request frame (without its size prefix) on `connection`.
/// Never panics: a request that cannot be handled closes the connection.
pub(crate) fn handle_frame(
    shared: &Shared,
    node: i32,
    connection: &mut Connection,
    frame: Vec<u8>,
) -> Outcome {
    let close = Outcome {
        delay: Duration::ZERO,
        action: Action::Close,
    };
    match std::panic::catch_unwind(AssertUnwindSafe(|| handle(shared, node, connection, frame))) {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(e)) => {
            tracing::warn!("fake broker {node}: closing connection: {e}");
            close
        }
        Err(_) => {
            tracing::error!("fake broker {node}: a handler panicked; closing connection");
            close
        }
    }
}

/// The faults matched by one request.
#[derive(Debug, Default)]
struct RequestFaults {
    delay: Duration,
    terminal: Option<Fault>,
}

impl RequestFaults {
    /// Takes in a connection-level fault; returns a partition-level one as
    /// `(code, whether the request still takes effect)`.
    fn absorb(&mut self, fault: Fault) -> Option<(i16, bool)> {
        match fault {
            Fault::ProduceError { code } => return Some((code, false)),
            Fault::AppendThenError { code } => return Some((code, true)),
            Fault::Delay(delay) => self.delay += delay,
            other => {
                if self.terminal.is_none() {
                    self.terminal = Some(other);
                }
            }
        }
        None
    }

    /// Whether the request must not take effect at all.
    fn suppresses_effect(&self) -> bool {
        matches!(
            self.terminal,
            Some(Fault::Disconnect { append: false } | Fault::Ignore | Fault::StopReading)
        )
    }

    /// Whether a request with these faults and partition-level `error` takes
    /// effect.
    fn takes_effect(&self, error: Option<(i16, bool)>) -> bool {
        !self.suppresses_effect() && !matches!(error, Some((_, false)))
    }

    /// The outcome: the response (if any), unless a fault replaces it.
    fn finish(self, correlation_id: i32, response: Option<Vec<u8>>) -> Outcome {
        let action = match self.terminal {
            Some(Fault::NoResponse | Fault::Ignore) => Action::Nothing,
            Some(Fault::Disconnect { .. }) => Action::Close,
            Some(Fault::RawResponse(body)) => {
                let mut frame = Vec::with_capacity(body.len() + 8);
                let size = i32::try_from(body.len() + 4).unwrap_or(i32::MAX);
                frame.extend_from_slice(&size.to_be_bytes());
                frame.extend_from_slice(&correlation_id.to_be_bytes());
                frame.extend_from_slice(&body);
                Action::Write(frame)
            }
            Some(Fault::RawFrame(bytes)) => Action::Write(bytes),
            Some(Fault::StopReading) => Action::StopReading,
            Some(Fault::RawFrameThenClose(bytes)) => Action::WriteThenClose(bytes),
            Some(Fault::AnswerTwice) => match response {
                Some(once) => Action::Write([once.as_slice(), once.as_slice()].concat()),
                None => Action::Nothing,
            },
            Some(Fault::Trickle(interval)) => match response {
                Some(bytes) => Action::Trickle(bytes, interval),
                None => Action::Nothing,
            },
            _ => response.map_or(Action::Nothing, Action::Write),
        };
        Outcome {
            delay: self.delay,
            action,
        }
    }
}

/// One request being handled.
struct Ctx<'a> {
    state: &'a mut State,
    node: i32,
    api: ApiKey,
    version: i16,
    correlation_id: i32,
}

impl Ctx<'_> {
    /// Encodes `body` with a response header at `version`, size-prefixed.
    fn encode_at<R: Encodable>(&self, body: &R, version: i16) -> Result<Vec<u8>, String> {
        let mut buf = BytesMut::with_capacity(256);
        buf.put_i32(0);
        ResponseHeader::default()
            .with_correlation_id(self.correlation_id)
            .encode(&mut buf, self.api.response_header_version(version))
            .map_err(|e| format!("encoding the {:?} response header: {e}", self.api))?;
        body.encode(&mut buf, version)
            .map_err(|e| format!("encoding the {:?} v{version} response: {e}", self.api))?;
        let size = i32::try_from(buf.len() - 4).map_err(|_| "response too large".to_string())?;
        buf[..4].copy_from_slice(&size.to_be_bytes());
        Ok(buf.to_vec())
    }

    fn encode<R: Encodable>(&self, body: &R) -> Result<Vec<u8>, String> {
        self.encode_at(body, self.version)
    }

    fn decode<R: Decodable>(&self, buf: &mut Bytes) -> Result<R, String> {
        R::decode(buf, self.version).map_err(|e| format!("decoding {:?} v{}: {e}", self.api, self.version))
    }

    /// Consumes the request-wide fault for this API, if one is queued.
    fn request_faults(&mut self) -> (RequestFaults, Option<(i16, bool)>) {
        let mut faults = RequestFaults::default();
        let error = self
            .state
            .take_fault(self.node, self.api as i16, None)
            .and_then(|f| faults.absorb(f));
        (faults, error)
    }

    /// `NOT_COORDINATOR` unless this node is the coordinator.
    fn coordinator_check(&self) -> i16 {
        if self.state.coordinator == self.node {
            codes::NONE
        } else {
            codes::NOT_COORDINATOR
        }
    }
}

fn str_bytes(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

fn handle(shared: &Shared, node: i32, connection: &mut Connection, frame: Vec<u8>) -> HandleResult {
    if frame.len() < 8 {
        return Err(format!("a {}-byte request has no header", frame.len()));
    }
    let key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let api = ApiKey::try_from(key).map_err(|_| format!("unknown API key {key}"))?;
    let mut buf = Bytes::from(frame);
    let header = RequestHeader::decode(&mut buf, api.request_header_version(version))
        .map_err(|e| format!("decoding the {api:?} v{version} request header: {e}"))?;
    let mut state = shared.lock();
    state.record_request(
        node,
        RecordedRequest {
            api_key: key,
            api_version: version,
            correlation_id: header.correlation_id,
            client_id: header.client_id.as_ref().map(|c| c.to_string()),
            produce: None,
        },
    );
    let range = state
        .config
        .api_versions
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, min, max)| (*min, *max));
    let mut ctx = Ctx {
        state: &mut state,
        node,
        api,
        version,
        correlation_id: header.correlation_id,
    };
    if api == ApiKey::ApiVersions {
        return api_versions(&mut ctx, range, buf);
    }
    sasl_gate(&mut ctx, connection)?;
    match range {
        Some((min, max)) if (min..=max).contains(&version) => {}
        _ => return Err(format!("{api:?} v{version} is not served (range {range:?})")),
    }
    match api {
        ApiKey::Produce => produce(&mut ctx, buf),
        ApiKey::Metadata => metadata(&mut ctx, buf),
        ApiKey::InitProducerId => init_producer_id(&mut ctx, buf),
        ApiKey::FindCoordinator => find_coordinator(&mut ctx, buf),
        ApiKey::AddPartitionsToTxn => add_partitions_to_txn(&mut ctx, buf),
        ApiKey::AddOffsetsToTxn => add_offsets_to_txn(&mut ctx, buf),
        ApiKey::TxnOffsetCommit => txn_offset_commit(&mut ctx, buf),
        ApiKey::EndTxn => end_txn(&mut ctx, buf),
        ApiKey::SaslHandshake => sasl_handshake(&mut ctx, connection, buf),
        ApiKey::SaslAuthenticate => sasl_authenticate(&mut ctx, connection, buf),
        _ => Err(format!("{api:?} is not implemented by the fake broker")),
    }
}

fn api_versions(ctx: &mut Ctx<'_>, range: Option<(i16, i16)>, mut buf: Bytes) -> HandleResult {
    let config = &ctx.state.config;
    let api_keys: Vec<ApiVersion> = config
        .api_versions
        .iter()
        .map(|(key, min, max)| {
            ApiVersion::default()
                .with_api_key(*key)
                .with_min_version(*min)
                .with_max_version(*max)
        })
        .collect();
    let supported_features: Vec<SupportedFeatureKey> = config
        .supported_features
        .iter()
        .map(|(name, min, max)| {
            SupportedFeatureKey::default()
                .with_name(str_bytes(name))
                .with_min_version(*min)
                .with_max_version(*max)
        })
        .collect();
    let finalized_features: Vec<FinalizedFeatureKey> = config
        .finalized_features
        .iter()
        .map(|(name, level)| {
            FinalizedFeatureKey::default()
                .with_name(str_bytes(name))
                .with_min_version_level(*level)
                .with_max_version_level(*level)
        })
        .collect();
    let (faults, error) = ctx.request_faults();
    // kafka-protocol encodes ApiVersions up to v4.
    let served = range.is_some_and(|(min, max)| ctx.version >= min && ctx.version <= max.min(4));
    if !served {
        // Kafka answers an unknown ApiVersions version with UNSUPPORTED_VERSION
        // and a v0 body listing its ranges, so the client can retry lower.
        let body = ApiVersionsResponse::default()
            .with_error_code(error.map_or(codes::UNSUPPORTED_VERSION, |(code, _)| code))
            .with_api_keys(api_keys);
        let response = ctx.encode_at(&body, 0)?;
        return Ok(faults.finish(ctx.correlation_id, Some(response)));
    }
    let _request: ApiVersionsRequest = ctx.decode(&mut buf)?;
    let mut body = ApiVersionsResponse::default()
        .with_error_code(error.map_or(codes::NONE, |(code, _)| code))
        .with_api_keys(api_keys);
    if ctx.version >= 3 {
        if !finalized_features.is_empty() {
            body = body.with_finalized_features_epoch(1);
        }
        body = body
            .with_supported_features(supported_features)
            .with_finalized_features(finalized_features);
    }
    let response = ctx.encode(&body)?;
    Ok(faults.finish(ctx.correlation_id, Some(response)))
}

fn metadata(ctx: &mut Ctx<'_>, mut buf: Bytes) -> HandleResult {
    let request: MetadataRequest = ctx.decode(&mut buf)?;
    let (faults, error) = ctx.request_faults();
    let version = ctx.version;
    let names: Option<Vec<String>> = match &request.topics {
        None => None,
        // In v0 an empty list means all topics.
        Some(topics) if topics.is_empty() && version == 0 => None,
        Some(topics) => Some(
            topics
                .iter()
                .filter_map(|t| t.name.as_ref().map(|n| n.0.to_string()))
                .collect(),
        ),
    };
    let state = &mut *ctx.state;
    if let Some(names) = &names {
        let may_create =
            state.config.auto_create_topics && (version < 4 || request.allow_auto_topic_creation);
        let first_node = state.nodes.first().map_or(-1, |n| n.id);
        for name in names {
            if may_create && !state.topics.contains_key(name) {
                state.create_topic(name, 1, first_node);
            }
        }
    }
    let names = names.unwrap_or_else(|| state.topics.keys().cloned().collect());
    let brokers = state
        .nodes
        .iter()
        .map(|n| {
            MetadataResponseBroker::default()
                .with_node_id(BrokerId(n.id))
                .with_host(StrBytes::from_static_str(HOST))
                .with_port(i32::from(n.advertised_port.unwrap_or(n.port)))
        })
        .collect();
    let topics = names
        .iter()
        .map(|name| {
            let topic = MetadataResponseTopic::default().with_name(Some(TopicName(str_bytes(name))));
            if let Some((code, _)) = error {
                return topic.with_error_code(code);
            }
            let Some(partitions) = state.topics.get(name) else {
                return topic.with_error_code(codes::UNKNOWN_TOPIC_OR_PARTITION);
            };
            let partitions = partitions
                .iter()
                .enumerate()
                .map(|(index, p)| {
                    let replicas = if p.leader >= 0 {
                        vec![BrokerId(p.leader)]
                    } else {
                        vec![]
                    };
                    MetadataResponsePartition::default()
                        .with_error_code(if p.leader >= 0 {
                            codes::NONE
                        } else {
                            codes::LEADER_NOT_AVAILABLE
                        })
                        .with_partition_index(i32::try_from(index).unwrap_or(i32::MAX))
                        .with_leader_id(BrokerId(p.leader))
                        .with_leader_epoch(p.leader_epoch)
                        .with_replica_nodes(replicas.clone())
                        .with_isr_nodes(replicas)
                })
                .collect();
            topic.with_partitions(partitions)
        })
        .collect();
    let mut body = MetadataResponse::default()
        .with_brokers(brokers)
        .with_topics(topics);
    if version >= 1 {
        body = body.with_controller_id(BrokerId(state.nodes.first().map_or(-1, |n| n.id)));
    }
    if version >= 2 {
        body = body.with_cluster_id(Some(StrBytes::from_static_str("fake-kafka-cluster")));
    }
    let response = ctx.encode(&body)?;
    Ok(faults.finish(ctx.correlation_id, Some(response)))
}

fn produce(ctx: &mut Ctx<'_>, mut buf: Bytes) -> HandleResult {
    let request: ProduceRequest = ctx.decode(&mut buf)?;
    let transactional_id = request.transactional_id.as_ref().map(|t| t.0.to_string());
    let parts: Vec<ProducedPartition> = request
        .topic_data
        .iter()
        .flat_map(|topic| {
            topic.partition_data.iter().map(|p| ProducedPartition {
                topic: topic.name.0.to_string(),
                partition: p.index,
                acks: request.acks,
                transactional_id: transactional_id.clone(),
                records: p.records.clone(),
            })
        })
        .collect();
    ctx.state.set_last_produce(ctx.node, parts.clone());

    // A fault scripted for any partition is consumed once per request and
    // applies to all its partitions; a partition's own fault takes precedence.
    let (mut faults, any_error) = ctx.request_faults();
    let mut errors = Vec::with_capacity(parts.len());
    for part in &parts {
        let own = ctx
            .state
            .take_fault(
                ctx.node,
                ApiKey::Produce as i16,
                Some((&part.topic, part.partition)),
            )
            .and_then(|f| faults.absorb(f));
        errors.push(own.or(any_error));
    }
    let apply = !faults.suppresses_effect();

    let mut results: Vec<(String, Vec<(i32, AppendResult)>)> = Vec::new();
    for (part, error) in parts.iter().zip(errors) {
        let result = if !apply {
            AppendResult {
                code: codes::REQUEST_TIMED_OUT,
                base_offset: -1,
                leader: None,
            }
        } else {
            match error {
                Some((code, false)) => AppendResult {
                    code,
                    base_offset: -1,
                    leader: None,
                },
                Some((code, true)) => {
                    let appended =
                        ctx.state
                            .append(ctx.node, &part.topic, part.partition, part.records.as_ref());
                    if appended.code == codes::NONE {
                        AppendResult {
                            code,
                            base_offset: -1,
                            leader: None,
                        }
                    } else {
                        appended
                    }
                }
                None => ctx
                    .state
                    .append(ctx.node, &part.topic, part.partition, part.records.as_ref()),
            }
        };
        match results.last_mut() {
            Some((topic, partitions)) if *topic == part.topic => partitions.push((part.partition, result)),
            _ => results.push((part.topic.clone(), vec![(part.partition, result)])),
        }
    }
    if request.acks == 0 {
        return Ok(faults.finish(ctx.correlation_id, None));
    }

    let version = ctx.version;
    let mut leaders: Vec<i32> = Vec::new();
    let responses = results
        .into_iter()
        .map(|(topic, partitions)| {
            let partition_responses = partitions
                .into_iter()
                .map(|(index, r)| {
                    let mut response = PartitionProduceResponse::default()
                        .with_index(index)
                        .with_error_code(r.code)
                        .with_base_offset(r.base_offset);
                    if version >= 5 {
                        response = response.with_log_start_offset(0);
                    }
                    if let (true, Some((leader, epoch))) = (version >= 10, r.leader) {
                        response = response.with_current_leader(
                            LeaderIdAndEpoch::default()
                                .with_leader_id(BrokerId(leader))
                                .with_leader_epoch(epoch),
                        );
                        if leader >= 0 && !leaders.contains(&leader) {
                            leaders.push(leader);
                        }
                    }
                    response
                })
                .collect();
            TopicProduceResponse::default()
                .with_name(TopicName(str_bytes(&topic)))
                .with_partition_responses(partition_responses)
        })
        .collect();
    let mut body = ProduceResponse::default().with_responses(responses);
    if version >= 10 {
        let endpoints = leaders
            .into_iter()
            .filter_map(|id| {
                ctx.state.port_of(id).map(|port| {
                    NodeEndpoint::default()
                        .with_node_id(BrokerId(id))
                        .with_host(StrBytes::from_static_str(HOST))
                        .with_port(i32::from(port))
                })
            })
            .collect();
        body = body.with_node_endpoints(endpoints);
    }
    let response = ctx.encode(&body)?;
    Ok(faults.finish(ctx.correlation_id, Some(response)))
}

fn init_producer_id(ctx: &mut Ctx<'_>, mut buf: Bytes) -> HandleResult {
    let request: InitProducerIdRequest = ctx.decode(&mut buf)?;
    let (faults, error) = ctx.request_faults();
    let txn = request.transactional_id.as_ref().map(|t| t.0.to_string());
    let check = if txn.is_some() {
        ctx.coordinator_check()
    } else {
        codes::NONE
    };
    let perform = faults.takes_effect(error);
    let (mut code, mut id, mut epoch) = (check, -1, -1);
    if check == codes::NONE && perform {
        (code, id, epoch) =
            ctx.state
                .init_producer_id(txn.as_deref(), request.producer_id.0, request.producer_epoch);
    }
    if let Some((fault_code, _)) = error {
        (code, id, epoch) = (fault_code, -1, -1);
    }
    let body = InitProducerIdResponse::default()
        .with_error_code(code)
        .with_producer_id(ProducerId(id))
        .with_producer_epoch(epoch);
    let response = ctx.encode(&body)?;
    Ok(faults.finish(ctx.correlation_id, Some(response)))
}

fn find_coordinator(ctx: &mut Ctx<'_>, mut buf: Bytes) -> HandleResult {
    let request: FindCoordinatorRequest = ctx.decode(&mut buf)?;
    let (faults, error) = ctx.request_faults();
    let coordinator = ctx.state.coordinator;
    let (mut code, mut node_id, mut host, mut port) = match ctx.state.port_of(coordinator) {
        Some(port) => (codes::NONE, coordinator, HOST, i32::from(port)),
        None => (codes::COORDINATOR_NOT_AVAILABLE, -1, "", -1),
    };
    if let Some((fault_code, _)) = error {
        (code, node_id, host, port) = (fault_code, -1, "", -1);
    }
    let body = if ctx.version < 4 {
        FindCoordinatorResponse::default()
            .with_error_code(code)
            .with_node_id(BrokerId(node_id))
            .with_host(str_bytes(host))
            .with_port(port)
    } else {
        let coordinators = request
            .coordinator_keys
            .iter()
            .map(|key| {
                Coordinator::default()
                    .with_key(key.clone())
                    .with_node_id(BrokerId(node_id))
                    .with_host(str_bytes(host))
                    .with_port(port)
                    .with_error_code(code)
            })
            .collect();
        FindCoordinatorResponse::default().with_coordinators(coordinators)
    };
    let response = ctx.encode(&body)?;
    Ok(faults.finish(ctx.correlation_id, Some(response)))
}

/// One transaction's partitions in an AddPartitionsToTxn request.
type TxnPartitions = (String, i64, i16, Vec<(String, Vec<i32>)>);

fn add_partitions_to_txn(ctx: &mut Ctx<'_>, mut buf: Bytes) -> HandleResult {
    let request: AddPartitionsToTxnRequest = ctx.decode(&mut buf)?;
    let (faults, error) = ctx.request_faults();
    let topics =
        |topics: &[kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic]| {
            topics
                .iter()
                .map(|t| (t.name.0.to_string(), t.partitions.clone()))
                .collect::<Vec<_>>()
        };
    let txns: Vec<TxnPartitions> = if ctx.version < 4 {
        vec![(
            request.v3_and_below_transactional_id.0.to_string(),
            request.v3_and_below_producer_id.0,
            request.v3_and_below_producer_epoch,
            topics(&request.v3_and_below_topics),
        )]
    } else {
        request
            .transactions
            .iter()
            .map(|t| {
                (
                    t.transactional_id.0.to_string(),
                    t.producer_id.0,
                    t.producer_epoch,
                    topics(&t.topics),
                )
            })
            .collect()
    };
    let perform = faults.takes_effect(error);
    let coordinator = ctx.coordinator_check();
    let mut results = Vec::new();
    for (txn_id, producer_id, epoch, topics) in txns {
        let check = if coordinator != codes::NONE {
            coordinator
        } else {
            ctx.state.check_txn(&txn_id, producer_id, epoch)
        };
        let topic_results: Vec<AddPartitionsToTxnTopicResult> = topics
            .iter()
            .map(|(topic, partitions)| {
                let results_by_partition = partitions
                    .iter()
                    .map(|&partition| {
                        let mut code = check;
                        if code == codes::NONE && perform {
                            code = ctx.state.add_txn_partition(&txn_id, topic, partition);
                        }
                        if let Some((fault_code, _)) = error {
                            code = fault_code;
                        }
                        AddPartitionsToTxnPartitionResult::default()
                            .with_partition_index(partition)
                            .with_partition_error_code(code)
                    })
                    .collect();
                AddPartitionsToTxnTopicResult::default()
                    .with_name(TopicName(str_bytes(topic)))
                    .with_results_by_partition(results_by_partition)
            })
            .collect();
        results.push((txn_id, topic_results));
    }
    let body = if ctx.version < 4 {
        let topic_results = results.into_iter().flat_map(|(_, r)| r).collect();
        AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(topic_results)
    } else {
        let by_transaction = results
            .into_iter()
            .map(|(txn_id, topic_results)| {
                AddPartitionsToTxnResult::default()
                    .with_transactional_id(TransactionalId(str_bytes(&txn_id)))
                    .with_topic_results(topic_results)
            })
            .collect();
        AddPartitionsToTxnResponse::default().with_results_by_transaction(by_transaction)
    };
    let response = ctx.encode(&body)?;
    Ok(faults.finish(ctx.correlation_id, Some(response)))
}

/// The error code of a transactional request: the fault's, else the
/// coordinator and producer checks.
fn txn_code(ctx: &Ctx<'_>, error: Option<(i16, bool)>, txn_id: &str, producer_id: i64, epoch: i16) -> i16 {
    if let Some((code, _)) = error {
        return code;
    }
    match ctx.coordinator_check() {
        codes::NONE => ctx.state.check_txn(txn_id, producer_id, epoch),
        code => code,
    }
}

fn add_offsets_to_txn(ctx: &mut Ctx<'_>, mut buf: Bytes) -> HandleResult {
    let request: AddOffsetsToTxnRequest = ctx.decode(&mut buf)?;
    let (faults, error) = ctx.request_faults();
    let code = txn_code(
        ctx,
        error,
        &request.transactional_id.0,
        request.producer_id.0,
        request.producer_epoch,
    );
    let body = AddOffsetsToTxnResponse::default().with_error_code(code);
    let response = ctx.encode(&body)?;
    Ok(faults.finish(ctx.correlation_id, Some(response)))
}

fn txn_offset_commit(ctx: &mut Ctx<'_>, mut buf: Bytes) -> HandleResult {
    let request: TxnOffsetCommitRequest = ctx.decode(&mut buf)?;
    let (faults, error) = ctx.request_faults();
    let code = txn_code(
        ctx,
        error,
        &request.transactional_id.0,
        request.producer_id.0,
        request.producer_epoch,
    );
    let topics = request
        .topics
        .iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    TxnOffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code)
                })
                .collect();
            TxnOffsetCommitResponseTopic::default()
                .with_name(topic.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    let body = TxnOffsetCommitResponse::default().with_topics(topics);
    let response = ctx.encode(&body)?;
    Ok(faults.finish(ctx.correlation_id, Some(response)))
}

fn end_txn(ctx: &mut Ctx<'_>, mut buf: Bytes) -> HandleResult {
    let request: EndTxnRequest = ctx.decode(&mut buf)?;
    let (faults, error) = ctx.request_faults();
    let txn_id = request.transactional_id.0.to_string();
    let check = txn_code(ctx, None, &txn_id, request.producer_id.0, request.producer_epoch);
    let perform = faults.takes_effect(error);
    if check == codes::NONE && perform {
        ctx.state.finish_txn(&txn_id, request.committed);
    }
    let code = error.map_or(check, |(code, _)| code);
    let mut body = EndTxnResponse::default().with_error_code(code);
    if ctx.version >= 5 && code == codes::NONE {
        body = body
            .with_producer_id(request.producer_id)
            .with_producer_epoch(request.producer_epoch);
    }
    let response = ctx.encode(&body)?;
    Ok(faults.finish(ctx.correlation_id, Some(response)))
}

/// On a SASL listener, refuses (closing the connection) a request other
/// than the SASL ones before authentication or after the session expired,
/// as Kafka's authenticator does.
fn sasl_gate(ctx: &mut Ctx<'_>, connection: &Connection) -> Result<(), String> {
    if ctx.state.config.sasl.is_none() || matches!(ctx.api, ApiKey::SaslHandshake | ApiKey::SaslAuthenticate)
    {
        return Ok(());
    }
    let api = ctx.api;
    if !connection.authenticated {
        ctx.state.refuse_for_sasl(ctx.node, false);
        return Err(format!("unexpected {api:?} request before SASL authentication"));
    }
    if connection.expires.is_some_and(|end| Instant::now() >= end) {
        ctx.state.refuse_for_sasl(ctx.node, true);
        return Err(format!(
            "{api:?} request after the SASL session expired (KIP-368)"
        ));
    }
    Ok(())
}

fn sasl_handshake(ctx: &mut Ctx<'_>, connection: &mut Connection, mut buf: Bytes) -> HandleResult {
    let request: SaslHandshakeRequest = ctx.decode(&mut buf)?;
    let (faults, error) = ctx.request_faults();
    let mechanism = request.mechanism.to_string();
    let (code, offered) = match &ctx.state.config.sasl {
        // Kafka's request handler answers this on a listener without SASL.
        None => (codes::ILLEGAL_SASL_STATE, Vec::new()),
        // Kafka compares mechanism names exactly.
        Some(server) if server.mechanisms.contains(&mechanism) => (codes::NONE, server.mechanisms.clone()),
        Some(server) => (codes::UNSUPPORTED_SASL_MECHANISM, server.mechanisms.clone()),
    };
    if code == codes::NONE && faults.takes_effect(error) {
        // Also the start of a KIP-368 re-authentication: the current
        // session stays valid until this one succeeds.
        connection.mechanism = Some(mechanism);
        connection.messages.clear();
    }
    let code = error.map_or(code, |(fault_code, _)| fault_code);
    let body = SaslHandshakeResponse::default()
        .with_error_code(code)
        .with_mechanisms(offered.iter().map(|m| str_bytes(m)).collect());
    let response = ctx.encode(&body)?;
    let outcome = faults.finish(ctx.correlation_id, Some(response));
    // Kafka closes the connection after refusing the mechanism.
    Ok(if code == codes::UNSUPPORTED_SASL_MECHANISM {
        outcome.then_close()
    } else {
        outcome
    })
}

fn sasl_authenticate(ctx: &mut Ctx<'_>, connection: &mut Connection, mut buf: Bytes) -> HandleResult {
    let request: SaslAuthenticateRequest = ctx.decode(&mut buf)?;
    let (mut faults, error) = ctx.request_faults();
    let version = ctx.version;
    let Some(server) = ctx.state.config.sasl.clone() else {
        let answer = SaslAnswer::error(codes::ILLEGAL_SASL_STATE, "SASL is not enabled on this listener");
        let response = ctx.encode(&authenticate_body(&answer, version))?;
        return Ok(faults.finish(ctx.correlation_id, Some(response)));
    };
    let Some(mechanism) = connection.mechanism.clone() else {
        return Err("SaslAuthenticate without a successful SaslHandshake before it".to_string());
    };
    let effect = faults.takes_effect(error);
    let mut answer = if effect {
        let message = request.auth_bytes.to_vec();
        connection.messages.push(message.clone());
        (server.answer)(SaslTurn {
            node: ctx.node,
            connection: connection.number,
            step: connection.messages.len() - 1,
            mechanism: mechanism.clone(),
            client_message: message,
        })
    } else {
        SaslAnswer::default()
    };
    if let Some(fault) = answer.fault.take() {
        if let Some((code, _)) = faults.absorb(fault) {
            answer.error_code = code;
        }
    }
    if let Some((code, _)) = error {
        answer.error_code = code;
    }
    if version < 1 {
        // v0 has no session lifetime: the client cannot know of one.
        answer.session_lifetime_ms = 0;
    }
    let failed = answer.error_code != codes::NONE;
    if effect && (failed || answer.complete) {
        connection.mechanism = None;
        let messages = std::mem::take(&mut connection.messages);
        if !failed {
            connection.authenticated = true;
            connection.expires = u64::try_from(answer.session_lifetime_ms)
                .ok()
                .filter(|&ms| ms > 0)
                .map(|ms| Instant::now() + Duration::from_millis(ms));
        }
        ctx.state.record_authentication(
            ctx.node,
            Authentication {
                connection: connection.number,
                mechanism,
                client_messages: messages,
                error_code: answer.error_code,
                session_lifetime_ms: answer.session_lifetime_ms,
            },
        );
    }
    let response = ctx.encode(&authenticate_body(&answer, version))?;
    let outcome = faults.finish(ctx.correlation_id, Some(response));
    // Kafka closes the connection after a failed authentication.
    Ok(if failed { outcome.then_close() } else { outcome })
}

/// The SaslAuthenticate response carrying `answer`, at `version`.
fn authenticate_body(answer: &SaslAnswer, version: i16) -> SaslAuthenticateResponse {
    let mut body = SaslAuthenticateResponse::default()
        .with_error_code(answer.error_code)
        .with_error_message(answer.error_message.as_deref().map(str_bytes))
        .with_auth_bytes(Bytes::from(answer.auth_bytes.clone()));
    if version >= 1 {
        body = body.with_session_lifetime_ms(answer.session_lifetime_ms);
    }
    body
}
