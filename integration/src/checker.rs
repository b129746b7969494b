//! The checker of fault runs: what the producer said happened to each record
//! (its acks and errors), against what an independent reader found (Kafka's
//! console consumer with `read_committed` and `read_uncommitted`).
//!
//! Every record of a run has a numeric id, sent in increasing order within
//! its partition; the test records each id's [`Outcome`] and hands the
//! reader's records as [`Read`]s. [`check`] counts Jepsen's anomalies for a
//! producer:
//!
//! | anomaly | meaning |
//! |---|---|
//! | lost | acknowledged (and, in a transaction, committed) but not read |
//! | duplicated | read more than once |
//! | reordered | within a partition, an id read after a higher one |
//! | offset mismatch | read at another partition or offset than its ack said |
//! | aborted read (G1a) | an aborted transaction's record seen by `read_committed` |
//! | precommitted read | `read_committed` sees a record whose transaction never reached its commit |
//! | definite failure written | an error the docs call "not written" for a record that is in the log |
//!
//! Outcomes the producer itself calls unknown (timeouts, lost connections, a
//! commit whose answer never came) are counted apart, with how many of those
//! records were found: either is correct. [`Verdict::line`] prints every
//! count on one line; [`Verdict::anomalies`] is what must be zero.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What the producer reported for one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Never handed to the producer (the run stopped first).
    NotSent,
    /// Refused at enqueue: never sent.
    NotEnqueued,
    /// Acknowledged at this partition and offset (-1: offset unknown, e.g.
    /// a duplicate the broker recognised).
    Acked {
        /// Partition.
        partition: i32,
        /// Offset, or -1.
        offset: i64,
    },
    /// The delivery failed, and the error says the record was not written.
    FailedNotWritten,
    /// The delivery failed, and the error says the outcome is unknown.
    FailedUnknown,
}

/// How a record's transaction ended, for transactional runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnEnd {
    /// Not in a transaction.
    None,
    /// Its commit succeeded.
    Committed,
    /// It was aborted (abort succeeded, or a failed transaction aborted).
    Aborted,
    /// Commit or abort was attempted and its answer is unknown.
    Unknown,
    /// The transaction never reached commit or abort (the run ended, or the
    /// producer died, with it open).
    NeverEnded,
}

/// One record as a reader found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    /// The record's id.
    pub id: u64,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
}

/// What the producer did for each id (`outcomes[id]`, `txn[id]`).
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Per id.
    pub outcomes: Vec<Outcome>,
    /// Per id; empty for non-transactional runs.
    pub txn: Vec<TxnEnd>,
}

/// Every count of one check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Ids in the history.
    pub records: usize,
    /// Acknowledged ids.
    pub acked: usize,
    /// Acked (and committed) but not read.
    pub lost: Vec<u64>,
    /// Read more than once.
    pub duplicated: Vec<u64>,
    /// (partition, offset) of an id read after a higher one.
    pub reordered: Vec<(i32, i64)>,
    /// Acked at one place, read at another.
    pub offset_mismatch: Vec<u64>,
    /// Aborted but read committed.
    pub aborted_read: Vec<u64>,
    /// Never committed but read committed.
    pub precommitted_read: Vec<u64>,
    /// Failed as "not written" but read.
    pub definite_failure_written: Vec<u64>,
    /// Ids whose outcome the producer called unknown.
    pub unknown: usize,
    /// ... of which this many were read.
    pub unknown_present: usize,
    /// Reads whose id is outside the history.
    pub foreign: usize,
}

impl Verdict {
    /// The number of anomalies: must be zero.
    pub fn anomalies(&self) -> usize {
        self.lost.len()
            + self.duplicated.len()
            + self.reordered.len()
            + self.offset_mismatch.len()
            + self.aborted_read.len()
            + self.precommitted_read.len()
            + self.definite_failure_written.len()
            + self.foreign
    }

    /// Every count on one line, for the run's log and the issue notes.
    pub fn line(&self) -> String {
        let mut line = String::new();
        let _ = write!(
            line,
            "records={} acked={} lost={} duplicated={} reordered={} offset_mismatch={} aborted_read={} \
             precommitted_read={} definite_failure_written={} foreign={} unknown={} unknown_present={}",
            self.records,
            self.acked,
            self.lost.len(),
            self.duplicated.len(),
            self.reordered.len(),
            self.offset_mismatch.len(),
            self.aborted_read.len(),
            self.precommitted_read.len(),
            self.definite_failure_written.len(),
            self.foreign,
            self.unknown,
            self.unknown_present,
        );
        line
    }
}

/// Checks `history` against `committed` (what a `read_committed` reader
/// found; for non-transactional runs, any reader) and `uncommitted` (a
/// `read_uncommitted` reader, or `None`).
pub fn check(history: &History, committed: &[Read], uncommitted: Option<&[Read]>) -> Verdict {
    let n = history.outcomes.len();
    let txn = |id: usize| history.txn.get(id).copied().unwrap_or(TxnEnd::None);
    let mut verdict = Verdict {
        records: n,
        acked: history
            .outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Acked { .. }))
            .count(),
        ..Verdict::default()
    };
    let mut places: Vec<Vec<(i32, i64)>> = vec![Vec::new(); n];
    let mut last_in_partition: BTreeMap<i32, u64> = BTreeMap::new();
    for read in committed {
        let Some(slot) = usize::try_from(read.id).ok().filter(|&i| i < n) else {
            verdict.foreign += 1;
            continue;
        };
        places[slot].push((read.partition, read.offset));
        if last_in_partition
            .get(&read.partition)
            .is_some_and(|&last| read.id < last)
        {
            verdict.reordered.push((read.partition, read.offset));
        }
        last_in_partition.insert(read.partition, read.id);
    }
    // In the log at all (aborted records included), for "definite failure
    // written": an aborted record is in the log but not visible.
    let mut in_log = vec![false; n];
    for read in uncommitted.unwrap_or(committed) {
        if let Some(slot) = usize::try_from(read.id).ok().filter(|&i| i < n) {
            in_log[slot] = true;
        }
    }
    for (id, outcome) in history.outcomes.iter().enumerate() {
        let seen = &places[id];
        let id64 = id as u64;
        if seen.len() > 1 {
            verdict.duplicated.push(id64);
        }
        match txn(id) {
            TxnEnd::Aborted if !seen.is_empty() => verdict.aborted_read.push(id64),
            TxnEnd::NeverEnded if !seen.is_empty() => verdict.precommitted_read.push(id64),
            _ => {}
        }
        let committed_or_plain = matches!(txn(id), TxnEnd::None | TxnEnd::Committed);
        match *outcome {
            Outcome::Acked { partition, offset } if committed_or_plain => {
                if seen.is_empty() {
                    verdict.lost.push(id64);
                } else if offset >= 0 && !seen.contains(&(partition, offset)) {
                    verdict.offset_mismatch.push(id64);
                }
            }
            Outcome::FailedNotWritten | Outcome::NotEnqueued | Outcome::NotSent if in_log[id] => {
                verdict.definite_failure_written.push(id64)
            }
            Outcome::FailedUnknown => {
                verdict.unknown += 1;
                verdict.unknown_present += usize::from(!seen.is_empty());
            }
            _ => {}
        }
        if txn(id) == TxnEnd::Unknown {
            verdict.unknown += 1;
            verdict.unknown_present += usize::from(!seen.is_empty());
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(id: u64, partition: i32, offset: i64) -> Read {
        Read {
            id,
            partition,
            offset,
        }
    }

    fn acked(partition: i32, offset: i64) -> Outcome {
        Outcome::Acked { partition, offset }
    }

    #[test]
    fn a_clean_run_has_no_anomaly() {
        let history = History {
            outcomes: vec![acked(0, 0), acked(1, 0), acked(0, 1), Outcome::FailedUnknown],
            txn: vec![],
        };
        let reads = [read(0, 0, 0), read(1, 1, 0), read(2, 0, 1)];
        let verdict = check(&history, &reads, None);
        assert_eq!(verdict.anomalies(), 0, "{}", verdict.line());
        assert_eq!(
            (verdict.acked, verdict.unknown, verdict.unknown_present),
            (3, 1, 0)
        );
    }

    #[test]
    fn every_anomaly_is_counted() {
        let history = History {
            outcomes: vec![
                acked(0, 0),               // 0: lost
                acked(0, 1),               // 1: duplicated
                acked(0, 5),               // 2: offset mismatch (read at 2)
                Outcome::FailedNotWritten, // 3: definite failure, but written
                acked(1, 0),               // 4: aborted, yet read committed
                acked(1, 1),               // 5: never committed, yet read
                acked(1, 2),               // 6: read after 7: reordered
                acked(1, 3),               // 7
            ],
            txn: vec![
                TxnEnd::None,
                TxnEnd::None,
                TxnEnd::None,
                TxnEnd::None,
                TxnEnd::Aborted,
                TxnEnd::NeverEnded,
                TxnEnd::Committed,
                TxnEnd::Committed,
            ],
        };
        let reads = [
            read(1, 0, 1),
            read(1, 0, 3),
            read(2, 0, 2),
            read(3, 0, 4),
            read(4, 1, 0),
            read(5, 1, 1),
            read(7, 1, 3),
            read(6, 1, 2),
            read(99, 1, 4),
        ];
        let v = check(&history, &reads, None);
        assert_eq!(v.lost, [0]);
        assert_eq!(v.duplicated, [1]);
        assert_eq!(v.offset_mismatch, [2]);
        assert_eq!(v.definite_failure_written, [3]);
        assert_eq!(v.aborted_read, [4]);
        assert_eq!(v.precommitted_read, [5]);
        assert_eq!(v.reordered, [(1, 2)]);
        assert_eq!(v.foreign, 1);
        assert_eq!(v.anomalies(), 8);
        assert!(
            v.line().contains("lost=1 duplicated=1 reordered=1"),
            "{}",
            v.line()
        );
    }

    #[test]
    fn an_aborted_record_in_the_log_is_not_a_written_definite_failure_of_a_committed_reader() {
        // Aborted records are in the log (read_uncommitted) but invisible to
        // read_committed: neither lost nor an anomaly.
        let history = History {
            outcomes: vec![acked(0, 0), acked(0, 1)],
            txn: vec![TxnEnd::Aborted, TxnEnd::Committed],
        };
        let committed = [read(1, 0, 1)];
        let uncommitted = [read(0, 0, 0), read(1, 0, 1)];
        let v = check(&history, &committed, Some(&uncommitted));
        assert_eq!(v.anomalies(), 0, "{}", v.line());
    }

    #[test]
    fn an_unknown_commit_may_or_may_not_be_visible() {
        let history = History {
            outcomes: vec![acked(0, 0), acked(0, 1)],
            txn: vec![TxnEnd::Unknown, TxnEnd::Unknown],
        };
        let v = check(&history, &[read(0, 0, 0), read(1, 0, 1)], None);
        assert_eq!((v.anomalies(), v.unknown, v.unknown_present), (0, 2, 2));
        let v = check(&history, &[], None);
        assert_eq!((v.anomalies(), v.unknown, v.unknown_present), (0, 2, 0));
    }
}
