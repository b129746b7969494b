//! The pure rules of the enqueue stage: whether a send is accepted, what a
//! record costs, where it goes, and what a refusal means for an open
//! transaction. [`super::EnqueueStage`] applies them in order.

use crate::error::{Misuse, ProducerError};
use crate::metadata::TopicInfo;
use crate::partitioner::{partition_for_key, FastRng, StickyPartitioner};
use crate::record::ProducerRecord;

/// The producer-side view of "sends are accepted": the one place that decides
/// whether a record may enter the enqueue stage.
///
/// A transactional producer accepts sends only between `begin_transaction`
/// and the end of that transaction; any producer stops accepting once it is
/// closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendGate {
    transactional: bool,
    in_transaction: bool,
    closed: bool,
}

impl SendGate {
    /// A gate for a running producer; `transactional` producers start outside
    /// a transaction.
    pub fn new(transactional: bool) -> Self {
        SendGate {
            transactional,
            in_transaction: false,
            closed: false,
        }
    }

    /// A transaction began: sends are accepted until [`end_transaction`](Self::end_transaction).
    pub fn begin_transaction(&mut self) {
        self.in_transaction = true;
    }

    /// The transaction is ending (commit or abort): no more sends into it.
    pub fn end_transaction(&mut self) {
        self.in_transaction = false;
    }

    /// The producer is stopping: nothing more is accepted.
    pub fn close(&mut self) {
        self.closed = true;
    }

    /// Whether a transaction is open; a record admitted now belongs to it.
    pub fn in_transaction(&self) -> bool {
        self.in_transaction
    }

    /// `Ok` if a send is accepted now, else the error to refuse it with.
    pub fn check(&self) -> Result<(), ProducerError> {
        if self.closed {
            return Err(ProducerError::Closed);
        }
        if self.transactional && !self.in_transaction {
            return Err(ProducerError::TransactionalMisuse {
                misuse: Misuse::SendOutsideTransaction,
            });
        }
        Ok(())
    }
}

/// Whether refusing a record admitted with `in_transaction` dooms that
/// transaction: yes for any refusal of a record inside one, except the
/// refusals that mean "this send never entered it" (the producer is closed,
/// or no transaction was open).
pub fn refusal_dooms_transaction(error: &ProducerError, in_transaction: bool) -> bool {
    let outside = matches!(
        error,
        ProducerError::Closed | ProducerError::TransactionalMisuse { .. }
    );
    in_transaction && !outside
}

/// The largest record the enqueue stage accepts: one request's worth, and
/// what the buffer can ever hold beside the record's own `bookkeeping` bytes.
pub fn max_record_size(max_request_size: usize, buffer_memory: usize, bookkeeping: usize) -> usize {
    max_request_size.min(buffer_memory.saturating_sub(bookkeeping))
}

/// Refuses a record larger than [`max_record_size`]; returns its size otherwise.
pub fn check_record_size(size: usize, max: usize) -> Result<usize, ProducerError> {
    if size > max {
        return Err(ProducerError::RecordTooLarge { size, max });
    }
    Ok(size)
}

/// The partition for a record of `info`'s topic: the explicit one (checked),
/// the key's (murmur2, as Java), or the sticky partitioner's.
pub fn choose_partition(
    info: &TopicInfo,
    explicit: Option<i32>,
    key: Option<&[u8]>,
    size: usize,
    sticky: &mut StickyPartitioner,
    rng: &mut FastRng,
) -> Result<i32, ProducerError> {
    match (explicit, key) {
        (Some(p), _) if p < 0 || p >= info.partition_count => Err(ProducerError::PartitionOutOfRange {
            topic: info.name.to_string(),
            partition: p,
            partitions: info.partition_count,
        }),
        (Some(p), _) => Ok(p),
        (None, Some(key)) => Ok(partition_for_key(key, info.partition_count)),
        (None, None) => Ok(
            sticky.partition(&info.name, info.partition_count, &info.available, size, || {
                rng.next_u32()
            }),
        ),
    }
}

/// The bytes a record takes in a batch, plus room for the batch header; what
/// counts against `max_request_size` and `buffer_memory`.
pub fn estimated_size(record: &ProducerRecord) -> usize {
    const RECORD_OVERHEAD: usize = 21; // length, attributes, deltas, counts: varints at most
    const BATCH_HEADER: usize = kafka_wire::record::BATCH_HEADER_SIZE;
    let headers: usize = record
        .headers
        .iter()
        .map(|h| h.key.len() + h.value.as_ref().map_or(0, |v| v.len()) + 10)
        .sum();
    BATCH_HEADER
        + RECORD_OVERHEAD
        + record.key.as_ref().map_or(0, |k| k.len())
        + record.value.as_ref().map_or(0, |v| v.len())
        + headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn topic(partitions: i32) -> TopicInfo {
        TopicInfo {
            name: Arc::from("t"),
            partition_count: partitions,
            available: (0..partitions).collect::<Vec<_>>().into(),
            leaders: vec![1; partitions as usize].into(),
        }
    }

    #[test]
    fn gate_of_a_plain_producer_accepts_until_closed() {
        let mut gate = SendGate::new(false);
        assert!(gate.check().is_ok());
        gate.close();
        assert!(matches!(gate.check(), Err(ProducerError::Closed)));
    }

    #[test]
    fn gate_of_a_transactional_producer_accepts_only_inside_a_transaction() {
        let mut gate = SendGate::new(true);
        assert!(matches!(
            gate.check(),
            Err(ProducerError::TransactionalMisuse { .. })
        ));
        gate.begin_transaction();
        assert!(gate.in_transaction());
        assert!(gate.check().is_ok());
        gate.end_transaction();
        assert!(matches!(
            gate.check(),
            Err(ProducerError::TransactionalMisuse { .. })
        ));
        gate.begin_transaction();
        gate.close();
        assert!(matches!(gate.check(), Err(ProducerError::Closed)));
    }

    #[test]
    fn refusal_inside_a_transaction_dooms_it_outside_does_not() {
        let too_large = ProducerError::RecordTooLarge { size: 10, max: 5 };
        assert!(refusal_dooms_transaction(&too_large, true));
        assert!(!refusal_dooms_transaction(&too_large, false));
        assert!(!refusal_dooms_transaction(&ProducerError::Closed, true));
        let misuse = SendGate::new(true).check().unwrap_err();
        assert!(!refusal_dooms_transaction(&misuse, true));
    }

    #[test]
    fn a_record_too_large_is_refused() {
        let max = max_record_size(1000, 600, 100);
        assert_eq!(max, 500);
        assert_eq!(max_record_size(1000, 50, 100), 0);
        assert_eq!(check_record_size(500, max).unwrap(), 500);
        assert!(matches!(
            check_record_size(501, max),
            Err(ProducerError::RecordTooLarge { size: 501, max: 500 })
        ));
    }

    #[test]
    fn size_counts_key_value_headers_and_batch_header() {
        let bare = estimated_size(&ProducerRecord::new("t", &b""[..]));
        let full = estimated_size(
            &ProducerRecord::new("t", &b"12345"[..])
                .key(&b"ab"[..])
                .header("h", &b"v"[..]),
        );
        assert_eq!(full - bare, 5 + 2 + (1 + 1 + 10));
    }

    #[test]
    fn explicit_partition_is_checked() {
        let (mut sticky, mut rng) = (StickyPartitioner::new(16384), FastRng::new(1));
        let info = topic(3);
        assert_eq!(
            choose_partition(&info, Some(2), None, 10, &mut sticky, &mut rng).unwrap(),
            2
        );
        for bad in [3, -1] {
            assert!(matches!(
                choose_partition(&info, Some(bad), None, 10, &mut sticky, &mut rng),
                Err(ProducerError::PartitionOutOfRange { partition, partitions: 3, .. }) if partition == bad
            ));
        }
    }

    #[test]
    fn keyed_records_follow_murmur2() {
        let (mut sticky, mut rng) = (StickyPartitioner::new(16384), FastRng::new(1));
        let info = topic(8);
        let got = choose_partition(&info, None, Some(b"key"), 10, &mut sticky, &mut rng).unwrap();
        assert_eq!(got, partition_for_key(b"key", 8));
    }

    #[test]
    fn keyless_records_stick_to_one_partition_until_a_batch_is_full() {
        let (mut sticky, mut rng) = (StickyPartitioner::new(1000), FastRng::new(7));
        let info = topic(8);
        let first = choose_partition(&info, None, None, 100, &mut sticky, &mut rng).unwrap();
        for _ in 0..5 {
            assert_eq!(
                choose_partition(&info, None, None, 100, &mut sticky, &mut rng).unwrap(),
                first
            );
        }
        assert_eq!(sticky.current("t"), Some(first));
    }
}
