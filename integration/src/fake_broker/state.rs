//! The shared cluster model: topics and their logs, producer ids,
//! transactions, the fault script and what each broker observed.

use std::collections::{BTreeMap, HashMap, VecDeque};

use bytes::Bytes;
use kafka_wire::record::{read_batches, DecodedBatch};

use super::{codes, Authentication, EndedTxn, FakeConfig, Fault, RecordedRequest, StoredRecord};

/// Decompressed size cap for one produced batch.
const MAX_UNCOMPRESSED: usize = 256 * 1024 * 1024;

/// How many recent batches per producer a partition remembers for duplicate
/// detection (Kafka's value).
const RECENT_BATCHES: usize = 5;

/// One broker's address and counters.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) id: i32,
    pub(crate) port: u16,
    /// The port the answers name for this node, when not its own
    /// ([`FakeCluster::advertise_port`]).
    pub(crate) advertised_port: Option<u16>,
    requests: Vec<RecordedRequest>,
    accepted: usize,
    open: usize,
    authentications: Vec<Authentication>,
    /// Requests refused before authentication, and after session expiry.
    sasl_refusals: (usize, usize),
}

/// One partition: its leadership and log.
#[derive(Debug)]
pub(crate) struct Partition {
    pub(crate) leader: i32,
    pub(crate) leader_epoch: i32,
    log: Vec<StoredRecord>,
    batches: Vec<DecodedBatch>,
    next_offset: i64,
    producers: HashMap<i64, ProducerEntry>,
}

/// A producer's sequence state in one partition.
#[derive(Debug, Clone)]
struct ProducerEntry {
    epoch: i16,
    last_sequence: i32,
    /// `(first sequence, last sequence, base offset)` of recent batches.
    recent: VecDeque<(i32, i32, i64)>,
}

/// A transactional id's coordinator state.
#[derive(Debug)]
struct Txn {
    producer_id: i64,
    epoch: i16,
    partitions: Vec<(String, i32)>,
}

/// One scripted fault and how many more requests it applies to.
#[derive(Debug)]
struct ScriptEntry {
    node: i32,
    api: i16,
    partition: Option<(String, i32)>,
    fault: Fault,
    remaining: usize,
}

/// The outcome of appending one partition's data.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AppendResult {
    pub(crate) code: i16,
    pub(crate) base_offset: i64,
    /// Leader id and epoch, when the answer is `NOT_LEADER_OR_FOLLOWER`.
    pub(crate) leader: Option<(i32, i32)>,
}

impl AppendResult {
    fn error(code: i16) -> Self {
        AppendResult {
            code,
            base_offset: -1,
            leader: None,
        }
    }
}

/// Everything the fake knows.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) config: FakeConfig,
    pub(crate) nodes: Vec<Node>,
    pub(crate) topics: BTreeMap<String, Vec<Partition>>,
    pub(crate) coordinator: i32,
    pub(crate) ended: Vec<EndedTxn>,
    script: Vec<ScriptEntry>,
    next_producer_id: i64,
    /// Current epoch of every producer id handed out.
    producer_epochs: HashMap<i64, i16>,
    txns: HashMap<String, Txn>,
}

impl State {
    pub(crate) fn new(config: FakeConfig, nodes: Vec<(i32, u16)>) -> State {
        let mut state = State {
            coordinator: nodes.first().map(|(id, _)| *id).unwrap_or(-1),
            nodes: nodes
                .into_iter()
                .map(|(id, port)| Node {
                    id,
                    port,
                    advertised_port: None,
                    requests: Vec::new(),
                    accepted: 0,
                    open: 0,
                    authentications: Vec::new(),
                    sasl_refusals: (0, 0),
                })
                .collect(),
            topics: BTreeMap::new(),
            ended: Vec::new(),
            script: Vec::new(),
            next_producer_id: 1000,
            producer_epochs: HashMap::new(),
            txns: HashMap::new(),
            config,
        };
        for (name, partitions, leader) in state.config.topics.clone() {
            state.create_topic(&name, partitions, leader);
        }
        state
    }

    fn node_mut(&mut self, node: i32) -> Option<&mut Node> {
        self.nodes.iter_mut().find(|n| n.id == node)
    }

    /// The port of `node`, if it exists.
    /// The port answers name for `node` (its advertised port).
    pub(crate) fn port_of(&self, node: i32) -> Option<u16> {
        self.nodes
            .iter()
            .find(|n| n.id == node)
            .map(|n| n.advertised_port.unwrap_or(n.port))
    }

    // ---- cluster model ----

    pub(crate) fn create_topic(&mut self, name: &str, partitions: i32, leader: i32) {
        let partitions = (0..partitions.max(0))
            .map(|_| Partition {
                leader,
                leader_epoch: 0,
                log: Vec::new(),
                batches: Vec::new(),
                next_offset: 0,
                producers: HashMap::new(),
            })
            .collect();
        self.topics.insert(name.to_string(), partitions);
    }

    pub(crate) fn set_leader(&mut self, topic: &str, partition: i32, node: i32) {
        let p = self
            .partition_mut(topic, partition)
            .unwrap_or_else(|| panic!("set_leader: {topic}-{partition} does not exist"));
        p.leader = node;
        p.leader_epoch += 1;
    }

    pub(crate) fn leader(&self, topic: &str, partition: i32) -> Option<i32> {
        self.partition(topic, partition).map(|p| p.leader)
    }

    fn partition(&self, topic: &str, partition: i32) -> Option<&Partition> {
        let index = usize::try_from(partition).ok()?;
        self.topics.get(topic)?.get(index)
    }

    fn partition_mut(&mut self, topic: &str, partition: i32) -> Option<&mut Partition> {
        let index = usize::try_from(partition).ok()?;
        self.topics.get_mut(topic)?.get_mut(index)
    }

    pub(crate) fn log(&self, topic: &str, partition: i32) -> Vec<StoredRecord> {
        self.partition(topic, partition)
            .map(|p| p.log.clone())
            .unwrap_or_default()
    }

    pub(crate) fn batches(&self, topic: &str, partition: i32) -> Vec<DecodedBatch> {
        self.partition(topic, partition)
            .map(|p| p.batches.clone())
            .unwrap_or_default()
    }

    pub(crate) fn next_offset(&self, topic: &str, partition: i32) -> Option<i64> {
        self.partition(topic, partition).map(|p| p.next_offset)
    }

    // ---- script ----

    pub(crate) fn push_fault(
        &mut self,
        node: i32,
        api: i16,
        partition: Option<(String, i32)>,
        fault: Fault,
        times: usize,
    ) {
        if times > 0 {
            self.script.push(ScriptEntry {
                node,
                api,
                partition,
                fault,
                remaining: times,
            });
        }
    }

    /// Consumes the first fault queued for exactly this match key.
    pub(crate) fn take_fault(
        &mut self,
        node: i32,
        api: i16,
        partition: Option<(&str, i32)>,
    ) -> Option<Fault> {
        let index = self.script.iter().position(|e| {
            e.node == node && e.api == api && e.partition.as_ref().map(|(t, p)| (t.as_str(), *p)) == partition
        })?;
        let entry = &mut self.script[index];
        entry.remaining -= 1;
        let fault = entry.fault.clone();
        if entry.remaining == 0 {
            self.script.remove(index);
        }
        Some(fault)
    }

    pub(crate) fn pending_faults(&self) -> usize {
        self.script.iter().map(|e| e.remaining).sum()
    }

    pub(crate) fn clear_faults(&mut self) {
        self.script.clear();
    }

    // ---- observation ----

    pub(crate) fn record_request(&mut self, node: i32, request: RecordedRequest) {
        if let Some(n) = self.node_mut(node) {
            n.requests.push(request);
        }
    }

    /// Attaches the decoded produce data to the last request recorded on `node`.
    pub(crate) fn set_last_produce(&mut self, node: i32, produce: Vec<super::ProducedPartition>) {
        if let Some(last) = self.node_mut(node).and_then(|n| n.requests.last_mut()) {
            last.produce = Some(produce);
        }
    }

    pub(crate) fn requests(&self, node: i32) -> Vec<RecordedRequest> {
        self.nodes
            .iter()
            .find(|n| n.id == node)
            .map(|n| n.requests.clone())
            .unwrap_or_default()
    }

    /// Counts a new connection; returns its number on `node` (1-based).
    pub(crate) fn connection_opened(&mut self, node: i32) -> usize {
        match self.node_mut(node) {
            Some(n) => {
                n.accepted += 1;
                n.open += 1;
                n.accepted
            }
            None => 0,
        }
    }

    pub(crate) fn record_authentication(&mut self, node: i32, authentication: Authentication) {
        if let Some(n) = self.node_mut(node) {
            n.authentications.push(authentication);
        }
    }

    pub(crate) fn authentications(&self, node: i32) -> Vec<Authentication> {
        self.nodes
            .iter()
            .find(|n| n.id == node)
            .map(|n| n.authentications.clone())
            .unwrap_or_default()
    }

    /// Counts a request refused for SASL reasons: `expired` after the
    /// session's end, otherwise before authentication.
    pub(crate) fn refuse_for_sasl(&mut self, node: i32, expired: bool) {
        if let Some(n) = self.node_mut(node) {
            if expired {
                n.sasl_refusals.1 += 1;
            } else {
                n.sasl_refusals.0 += 1;
            }
        }
    }

    /// `(refused before authentication, refused after session expiry)`.
    pub(crate) fn sasl_refusals(&self, node: i32) -> (usize, usize) {
        self.nodes
            .iter()
            .find(|n| n.id == node)
            .map(|n| n.sasl_refusals)
            .unwrap_or_default()
    }

    pub(crate) fn connection_closed(&mut self, node: i32) {
        if let Some(n) = self.node_mut(node) {
            n.open = n.open.saturating_sub(1);
        }
    }

    /// `(accepted so far, open now)`.
    pub(crate) fn connections(&self, node: i32) -> (usize, usize) {
        self.nodes
            .iter()
            .find(|n| n.id == node)
            .map(|n| (n.accepted, n.open))
            .unwrap_or_default()
    }

    // ---- produce ----

    /// The leader's append of one partition's records, as `node` answers it.
    pub(crate) fn append(
        &mut self,
        node: i32,
        topic: &str,
        partition: i32,
        records: Option<&Bytes>,
    ) -> AppendResult {
        let check_sequences = self.config.check_sequences;
        let Some(p) = self.partition_mut(topic, partition) else {
            return AppendResult::error(codes::UNKNOWN_TOPIC_OR_PARTITION);
        };
        if p.leader != node {
            return AppendResult {
                code: codes::NOT_LEADER_OR_FOLLOWER,
                base_offset: -1,
                leader: Some((p.leader, p.leader_epoch)),
            };
        }
        let batches = match records.map(|r| read_batches(r, MAX_UNCOMPRESSED)) {
            Some(Ok(batches)) if !batches.is_empty() => batches,
            Some(Err(e)) => {
                tracing::warn!("fake broker {node}: corrupt records for {topic}-{partition}: {e}");
                return AppendResult::error(codes::CORRUPT_MESSAGE);
            }
            _ => return AppendResult::error(codes::CORRUPT_MESSAGE),
        };

        // Validate every batch before appending any (a partition's data is atomic).
        let mut producers = p.producers.clone();
        if check_sequences {
            let mut duplicate_of = None;
            for batch in &batches {
                match check_sequence(&mut producers, batch) {
                    SequenceCheck::Append => {}
                    SequenceCheck::Duplicate(offset) => duplicate_of = duplicate_of.or(Some(offset)),
                    SequenceCheck::Reject(code) => return AppendResult::error(code),
                }
            }
            if let Some(offset) = duplicate_of {
                // Kafka answers a retried batch with its original offset.
                return AppendResult {
                    code: codes::NONE,
                    base_offset: offset,
                    leader: None,
                };
            }
        }

        let base_offset = p.next_offset;
        for mut batch in batches {
            batch.base_offset = p.next_offset;
            for (i, record) in batch.records.iter().enumerate() {
                let delta = i32::try_from(i).unwrap_or(i32::MAX);
                p.log.push(StoredRecord {
                    offset: p.next_offset + i as i64,
                    key: record.key.clone(),
                    value: record.value.clone(),
                    headers: record.headers.clone(),
                    timestamp: batch.base_timestamp.wrapping_add(record.timestamp_delta),
                    producer_id: batch.producer_id,
                    producer_epoch: batch.producer_epoch,
                    sequence: if batch.base_sequence < 0 {
                        -1
                    } else {
                        add_sequence(batch.base_sequence, delta)
                    },
                    transactional: batch.is_transactional(),
                });
            }
            let count = i64::from(batch.last_offset_delta).max(batch.records.len() as i64 - 1) + 1;
            if batch.producer_id >= 0 && batch.base_sequence >= 0 {
                // Remember where this batch landed, for answering its retries.
                let first = batch.base_sequence;
                let last = add_sequence(first, batch.last_offset_delta.max(0));
                if let Some(entry) = producers.get_mut(&batch.producer_id) {
                    if let Some(slot) = entry
                        .recent
                        .iter_mut()
                        .find(|(f, l, offset)| *f == first && *l == last && *offset < 0)
                    {
                        slot.2 = p.next_offset;
                    }
                }
            }
            p.next_offset += count;
            p.batches.push(batch);
        }
        p.producers = producers;
        AppendResult {
            code: codes::NONE,
            base_offset,
            leader: None,
        }
    }

    /// Appends a transaction marker (a control batch taking one offset).
    fn append_marker(&mut self, topic: &str, partition: i32) {
        if let Some(p) = self.partition_mut(topic, partition) {
            p.next_offset += 1;
        }
    }

    // ---- producer ids and transactions ----

    fn new_producer_id(&mut self) -> i64 {
        let id = self.next_producer_id;
        self.next_producer_id += 1;
        self.producer_epochs.insert(id, 0);
        id
    }

    /// InitProducerId: `(error, producer id, epoch)`.
    pub(crate) fn init_producer_id(
        &mut self,
        transactional_id: Option<&str>,
        producer_id: i64,
        epoch: i16,
    ) -> (i16, i64, i16) {
        let Some(txn_id) = transactional_id else {
            // Idempotent producer: bump the epoch of the current id/epoch,
            // otherwise hand out a new id.
            if producer_id >= 0 && self.producer_epochs.get(&producer_id) == Some(&epoch) {
                if epoch < i16::MAX - 1 {
                    self.producer_epochs.insert(producer_id, epoch + 1);
                    return (codes::NONE, producer_id, epoch + 1);
                }
            } else if producer_id >= 0 {
                return (codes::INVALID_PRODUCER_EPOCH, -1, -1);
            }
            let id = self.new_producer_id();
            return (codes::NONE, id, 0);
        };
        match self.txns.get(txn_id) {
            None => {
                let id = self.new_producer_id();
                self.txns.insert(
                    txn_id.to_string(),
                    Txn {
                        producer_id: id,
                        epoch: 0,
                        partitions: Vec::new(),
                    },
                );
                (codes::NONE, id, 0)
            }
            Some(txn) => {
                if producer_id >= 0 && (producer_id != txn.producer_id || epoch != txn.epoch) {
                    return (codes::PRODUCER_FENCED, -1, -1);
                }
                // Re-initialising aborts an ongoing transaction and fences
                // the previous epoch.
                self.finish_txn(txn_id, false);
                let (old_id, old_epoch) = self
                    .txns
                    .get(txn_id)
                    .map(|t| (t.producer_id, t.epoch))
                    .unwrap_or((-1, 0));
                let (id, epoch) = if old_epoch >= i16::MAX - 1 {
                    (self.new_producer_id(), 0)
                } else {
                    (old_id, old_epoch + 1)
                };
                self.producer_epochs.insert(id, epoch);
                if let Some(txn) = self.txns.get_mut(txn_id) {
                    txn.producer_id = id;
                    txn.epoch = epoch;
                }
                (codes::NONE, id, epoch)
            }
        }
    }

    /// Checks that `producer_id`/`epoch` own `transactional_id`.
    pub(crate) fn check_txn(&self, transactional_id: &str, producer_id: i64, epoch: i16) -> i16 {
        match self.txns.get(transactional_id) {
            None => codes::INVALID_PRODUCER_ID_MAPPING,
            Some(txn) if txn.producer_id != producer_id => codes::INVALID_PRODUCER_ID_MAPPING,
            Some(txn) if txn.epoch != epoch => codes::PRODUCER_FENCED,
            Some(_) => codes::NONE,
        }
    }

    /// AddPartitionsToTxn for one partition (after [`State::check_txn`]).
    pub(crate) fn add_txn_partition(&mut self, transactional_id: &str, topic: &str, partition: i32) -> i16 {
        if self.partition(topic, partition).is_none() {
            return codes::UNKNOWN_TOPIC_OR_PARTITION;
        }
        if let Some(txn) = self.txns.get_mut(transactional_id) {
            let key = (topic.to_string(), partition);
            if !txn.partitions.contains(&key) {
                txn.partitions.push(key);
            }
        }
        codes::NONE
    }

    /// Ends the ongoing transaction of `transactional_id` (if it has
    /// partitions), writing markers and recording it.
    pub(crate) fn finish_txn(&mut self, transactional_id: &str, committed: bool) {
        let Some(txn) = self.txns.get_mut(transactional_id) else {
            return;
        };
        if txn.partitions.is_empty() {
            return;
        }
        let partitions = std::mem::take(&mut txn.partitions);
        let ended = EndedTxn {
            transactional_id: transactional_id.to_string(),
            producer_id: txn.producer_id,
            producer_epoch: txn.epoch,
            committed,
            partitions: partitions.clone(),
        };
        for (topic, partition) in &partitions {
            self.append_marker(topic, *partition);
        }
        self.ended.push(ended);
    }
}

/// What a batch's producer sequence allows.
enum SequenceCheck {
    Append,
    Duplicate(i64),
    Reject(i16),
}

fn add_sequence(base: i32, delta: i32) -> i32 {
    // Sequences wrap from i32::MAX to 0.
    let sum = i64::from(base) + i64::from(delta);
    (sum % (i64::from(i32::MAX) + 1)) as i32
}

/// Kafka's producer-state validation for one batch, updating `producers`.
fn check_sequence(producers: &mut HashMap<i64, ProducerEntry>, batch: &DecodedBatch) -> SequenceCheck {
    if batch.producer_id < 0 || batch.base_sequence < 0 {
        return SequenceCheck::Append;
    }
    let first = batch.base_sequence;
    let last = add_sequence(first, batch.last_offset_delta.max(0));
    let fresh = || ProducerEntry {
        epoch: batch.producer_epoch,
        last_sequence: last,
        recent: VecDeque::from([(first, last, -1)]),
    };
    let Some(entry) = producers.get_mut(&batch.producer_id) else {
        if first != 0 {
            return SequenceCheck::Reject(codes::OUT_OF_ORDER_SEQUENCE_NUMBER);
        }
        producers.insert(batch.producer_id, fresh());
        return SequenceCheck::Append;
    };
    if batch.producer_epoch < entry.epoch {
        return SequenceCheck::Reject(codes::INVALID_PRODUCER_EPOCH);
    }
    if batch.producer_epoch > entry.epoch {
        if first != 0 {
            return SequenceCheck::Reject(codes::OUT_OF_ORDER_SEQUENCE_NUMBER);
        }
        *entry = fresh();
        return SequenceCheck::Append;
    }
    if let Some(&(_, _, offset)) = entry.recent.iter().find(|(f, l, _)| *f == first && *l == last) {
        return SequenceCheck::Duplicate(offset);
    }
    if first != add_sequence(entry.last_sequence, 1) {
        return SequenceCheck::Reject(codes::OUT_OF_ORDER_SEQUENCE_NUMBER);
    }
    entry.last_sequence = last;
    entry.recent.push_back((first, last, -1));
    if entry.recent.len() > RECENT_BATCHES {
        entry.recent.pop_front();
    }
    SequenceCheck::Append
}
