//! Partition selection, compatible with the Java client's built-in partitioner.
//!
//! This module is sans-IO: it never reads a clock, never touches the network and draws no
//! randomness of its own. Randomness is supplied by the caller (see [`FastRng`]).
//!
//! * Keyed records go to `to_positive(murmur2(key)) % num_partitions` ([`partition_for_key`]),
//!   bit-for-bit the same as the Java client's `BuiltInPartitioner.partitionForKey`, so records
//!   with the same key land on the same partition whichever client produced them.
//! * Keyless records use a [`StickyPartitioner`] (KIP-480 / KIP-794): all keyless records for a
//!   topic go to one partition until about `batch.size` bytes have been produced to it, then a
//!   different partition is chosen at random among the available ones. This fills batches
//!   quickly instead of spreading tiny batches over every partition.
//! * [`check_partition`] validates a partition the application chose explicitly.
//!
//! Future work: KIP-794's *adaptive* partitioning (weighting the random choice by the inverse of
//! each partition leader's queue size, and skipping brokers whose queue is not draining within
//! `partitioner.availability.timeout.ms`) is not implemented; the choice among available
//! partitions is uniform.

use std::collections::HashMap;
use std::fmt;

/// Kafka's variant of MurmurHash2 (32 bit), exactly as the Java client's `Utils.murmur2`.
///
/// Seed `0x9747b28c`, `m = 0x5bd1e995`, `r = 24`, little-endian 4-byte blocks, a 1..=3 byte
/// tail, and the final `h ^= h >>> 13; h *= m; h ^= h >>> 15` mix. Arithmetic wraps like Java's
/// `int`, and right shifts are logical (`>>>`). Bytes are masked with `0xff` in Java, so there is
/// no sign extension: the result equals the Java result for the same bytes.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;

    // Java: `int h = seed ^ length` (length is an `int`; truncation matches for any real key).
    let mut h: u32 = SEED ^ (data.len() as u32);

    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }

    // Java's fall-through `switch (length % 4)` over the bytes at `length & ~3`.
    let tail = blocks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }

    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Clears the sign bit, as Java's `Utils.toPositive` (not `abs`: `i32::MIN` maps to 0).
pub fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// Partition for a keyed record: `to_positive(murmur2(key)) % num_partitions`, as Java's
/// `BuiltInPartitioner.partitionForKey`.
///
/// `num_partitions` must be positive; for `num_partitions <= 0` (a topic with no known
/// partitions) this returns 0 rather than panicking, and the caller's metadata check
/// ([`check_partition`]) rejects it.
pub fn partition_for_key(key: &[u8], num_partitions: i32) -> i32 {
    if num_partitions <= 0 {
        return 0;
    }
    to_positive(murmur2(key)) % num_partitions
}

/// An explicitly chosen partition is outside `0..num_partitions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionOutOfRange {
    /// The requested partition.
    pub partition: i32,
    /// The number of partitions the topic has.
    pub num_partitions: i32,
}

impl fmt::Display for PartitionOutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "partition {} is out of range: the topic has {} partitions",
            self.partition, self.num_partitions
        )
    }
}

impl std::error::Error for PartitionOutOfRange {}

/// Checks that an explicitly requested partition exists, i.e. `0 <= partition < num_partitions`.
pub fn check_partition(partition: i32, num_partitions: i32) -> Result<(), PartitionOutOfRange> {
    if (0..num_partitions).contains(&partition) {
        Ok(())
    } else {
        Err(PartitionOutOfRange {
            partition,
            num_partitions,
        })
    }
}

/// Maps a random `u32` uniformly onto `0..n` (multiply-shift; bias below `n / 2^32`).
fn pick(random: u32, n: usize) -> usize {
    ((u64::from(random) * n as u64) >> 32) as usize
}

/// Sticky state of one topic.
#[derive(Debug, Clone, Copy)]
struct TopicState {
    /// The current sticky partition.
    partition: i32,
    /// The partition count the choice was made for.
    num_partitions: i32,
    /// Bytes produced to `partition` since it was chosen.
    produced: usize,
    /// Index of `partition` in the last `available` slice seen (a hint making the availability
    /// check O(1) while the slice is unchanged).
    available_index: usize,
}

/// Sticky partitioner for keyless records (KIP-480, with KIP-794's byte-count switching).
///
/// Per topic it remembers the current partition and the bytes produced to it since it was
/// chosen. A record goes to the current partition unless at least `batch_size` bytes have
/// already been produced to it, in which case a *different* partition is chosen uniformly at
/// random among the available ones. A new choice is also made when the topic's partition count
/// changes or the current partition is no longer available.
///
/// The per-record cost is one hash-map lookup by `&str` (no allocation except the first time a
/// topic is seen) and O(1) work while the `available` slice is unchanged.
#[derive(Debug, Clone)]
pub struct StickyPartitioner {
    batch_size: usize,
    topics: HashMap<Box<str>, TopicState>,
}

impl StickyPartitioner {
    /// A partitioner that switches partitions after about `batch_size` bytes (the producer's
    /// `batch.size`) have been produced to the sticky partition.
    pub fn new(batch_size: usize) -> Self {
        StickyPartitioner {
            batch_size,
            topics: HashMap::new(),
        }
    }

    /// Partition for a keyless record of `record_size` bytes to `topic`.
    ///
    /// `available` are the partitions whose leader is known and available; when empty, all of
    /// `0..num_partitions` are candidates. Entries of `available` outside `0..num_partitions`
    /// are never returned. The record that reaches `batch_size` still goes to the current
    /// partition; the next one switches. `random` supplies randomness and is called at most once,
    /// only when a new partition is chosen among several, so results are deterministic for a
    /// given random sequence.
    ///
    /// Returns 0 when `num_partitions <= 1` (for `<= 0` no valid partition exists; the caller's
    /// metadata check rejects it).
    pub fn partition(
        &mut self,
        topic: &str,
        num_partitions: i32,
        available: &[i32],
        record_size: usize,
        mut random: impl FnMut() -> u32,
    ) -> i32 {
        if num_partitions <= 1 {
            return 0;
        }
        let batch_size = self.batch_size;
        if let Some(state) = self.topics.get_mut(topic) {
            let still_valid = state.num_partitions == num_partitions
                && match locate(state.partition, state.available_index, num_partitions, available) {
                    Some(index) => {
                        state.available_index = index;
                        true
                    }
                    None => false,
                };
            if !still_valid || state.produced >= batch_size {
                // KIP-480: a new batch goes to a *different* partition.
                let exclude = still_valid.then_some(state.partition);
                let (partition, index) = choose(num_partitions, available, exclude, &mut random);
                *state = TopicState {
                    partition,
                    num_partitions,
                    produced: 0,
                    available_index: index,
                };
            }
            state.produced = state.produced.saturating_add(record_size);
            return state.partition;
        }
        let (partition, index) = choose(num_partitions, available, None, &mut random);
        self.topics.insert(
            topic.into(),
            TopicState {
                partition,
                num_partitions,
                produced: record_size,
                available_index: index,
            },
        );
        partition
    }

    /// Forgets `topic`'s sticky choice (e.g. after its partition count changed); the next
    /// keyless record for it chooses a partition anew.
    pub fn reset(&mut self, topic: &str) {
        self.topics.remove(topic);
    }

    /// The current sticky partition of `topic`, if one has been chosen.
    pub fn current(&self, topic: &str) -> Option<i32> {
        self.topics.get(topic).map(|state| state.partition)
    }
}

/// Whether `partition` (known to be in `0..num_partitions`) is still a candidate; returns its
/// index in `available`, or 0 when every partition is a candidate (`available` is empty or has
/// no in-range entry). `hint` is the index where it was found last time, checked first, so this
/// is O(1) while the `available` slice is unchanged.
fn locate(partition: i32, hint: usize, num_partitions: i32, available: &[i32]) -> Option<usize> {
    if available.is_empty() {
        return Some(0);
    }
    if available.get(hint) == Some(&partition) {
        return Some(hint);
    }
    if let Some(index) = available.iter().position(|&p| p == partition) {
        return Some(index);
    }
    if available.iter().all(|p| !(0..num_partitions).contains(p)) {
        return Some(0);
    }
    None
}

/// Chooses a partition uniformly among the candidates (the valid entries of `available`, or all
/// of `0..num_partitions` when it has none), excluding `exclude` when another candidate exists.
/// Draws one random number unless there is only one candidate. Returns the partition and its
/// index in `available` (0 when all partitions are candidates). O(len(available)), but only
/// run when the sticky partition changes.
fn choose(
    num_partitions: i32,
    available: &[i32],
    exclude: Option<i32>,
    random: &mut impl FnMut() -> u32,
) -> (i32, usize) {
    let valid = |p: i32| (0..num_partitions).contains(&p);
    let candidate = |p: i32| valid(p) && Some(p) != exclude;
    let n = available.iter().filter(|&&p| candidate(p)).count();
    if n == 0 {
        if let Some(index) = available.iter().position(|&p| valid(p)) {
            // Only the excluded partition is available: stay on it.
            return (available[index], index);
        }
        // No usable `available` list: every partition is a candidate.
        return match exclude.filter(|&p| valid(p)) {
            Some(current) => {
                let draw = pick(random(), num_partitions as usize - 1) as i32;
                (if draw >= current { draw + 1 } else { draw }, 0)
            }
            None => (pick(random(), num_partitions as usize) as i32, 0),
        };
    }
    let rank = if n == 1 { 0 } else { pick(random(), n) };
    let index = available
        .iter()
        .enumerate()
        .filter(|&(_, &p)| candidate(p))
        .nth(rank)
        .map_or(0, |(i, _)| i);
    (available[index], index)
}

/// A tiny, fast, non-cryptographic PRNG (SplitMix64) for the partitioner's random choices.
///
/// The caller seeds it (e.g. from the clock or an address); it has no external dependencies.
#[derive(Debug, Clone)]
pub struct FastRng(u64);

impl FastRng {
    /// A generator seeded with `seed` (any value, including 0, is fine).
    pub fn new(seed: u64) -> Self {
        FastRng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The next 32 random bits (the high half of [`FastRng::next_u64`]).
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The vectors of Kafka's `UtilsTest.testMurmur2` (UTF-8 key → `Utils.murmur2`).
    #[test]
    fn murmur2_java_utils_test_vectors() {
        let cases: &[(&str, i32)] = &[
            ("21", -973932308),
            ("foobar", -790332482),
            ("a-little-bit-long-string", -985981536),
            ("a-little-bit-longer-string", -1486304829),
            ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
            ("abc", 479470107),
        ];
        for &(key, expected) in cases {
            assert_eq!(murmur2(key.as_bytes()), expected, "key {key:?}");
        }
    }

    /// Produced by kafka-clients 4.4.0's `Utils.murmur2` (and `Utils.toPositive(h) % n` for
    /// n = 1, 3, 7, 8, 100), run locally: (key bytes as hex, murmur2, partitions).
    const JAVA_VECTORS: &[(&str, i32, [i32; 5])] = &[
        ("", 275646681, [0, 0, 2, 1, 81]),
        ("61", -1563381124, [0, 1, 5, 4, 24]),
        ("6162", 316155434, [0, 2, 0, 2, 34]),
        ("616263", 479470107, [0, 0, 4, 3, 7]),
        ("61626364", -1323649548, [0, 2, 5, 4, 0]),
        ("ff", -311467685, [0, 0, 5, 3, 63]),
        ("8081", 1642145146, [0, 1, 5, 2, 46]),
        ("fedcba", -1356783892, [0, 1, 0, 4, 56]),
        ("ffffffff", 644171429, [0, 2, 6, 5, 29]),
        ("00807fff01", -413449505, [0, 0, 2, 7, 43]),
        // "héllo wörld ✓" in UTF-8.
        ("68c3a96c6c6f2077c3b6726c6420e29c93", -1290846696, [0, 2, 3, 0, 52]),
        // "user-12345"
        ("757365722d3132333435", -243491053, [0, 1, 1, 3, 95]),
        // "order:2024-06-01:000042"
        ("6f726465723a323032342d30362d30313a303030303432", -802570083, [0, 2, 2, 5, 65]),
        // "The quick brown fox jumps over the lazy dog"
        (
            "54686520717569636b2062726f776e20666f78206a756d7073206f76657220746865206c617a7920646f67",
            495243318,
            [0, 0, 3, 6, 18],
        ),
        ("3231", -973932308, [0, 0, 3, 4, 40]),
        ("666f6f626172", -790332482, [0, 0, 0, 6, 66]),
        ("612d6c6974746c652d6269742d6c6f6e672d737472696e67", -985981536, [0, 2, 1, 0, 12]),
        ("612d6c6974746c652d6269742d6c6f6e6765722d737472696e67", -1486304829, [0, 2, 0, 3, 19]),
        (
            "6c6b6a683233346c68396669756839307932336f697568736166756a6861646f66323239706872396831396838396838",
            -58897971,
            [0, 2, 3, 5, 77],
        ),
    ];

    const PARTITION_COUNTS: [i32; 5] = [1, 3, 7, 8, 100];

    #[test]
    fn murmur2_matches_kafka_clients_4_4_0() {
        for &(key, expected, _) in JAVA_VECTORS {
            assert_eq!(murmur2(&hex(key)), expected, "key {key}");
        }
    }

    #[test]
    fn partition_for_key_matches_kafka_clients_4_4_0() {
        for &(key, _, partitions) in JAVA_VECTORS {
            for (n, expected) in PARTITION_COUNTS.into_iter().zip(partitions) {
                assert_eq!(
                    partition_for_key(&hex(key), n),
                    expected,
                    "key {key}, {n} partitions"
                );
            }
        }
    }

    /// Also from kafka-clients 4.4.0: a 1000-byte key with byte i = (i * 31 + 7) as byte.
    #[test]
    fn murmur2_long_key_matches_kafka_clients_4_4_0() {
        let key: Vec<u8> = (0..1000u32).map(|i| (i * 31 + 7) as u8).collect();
        assert_eq!(murmur2(&key), -974371678);
        let got: Vec<i32> = PARTITION_COUNTS
            .into_iter()
            .map(|n| partition_for_key(&key, n))
            .collect();
        assert_eq!(got, [0, 1, 2, 2, 70]);
    }

    #[test]
    fn to_positive_matches_java() {
        // Java: Utils.toPositive(Integer.MIN_VALUE) == 0, Utils.toPositive(-1) == Integer.MAX_VALUE.
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(-1), i32::MAX);
        assert_eq!(to_positive(0), 0);
        assert_eq!(to_positive(42), 42);
    }

    #[test]
    fn partition_for_key_without_partitions_does_not_panic() {
        assert_eq!(partition_for_key(b"k", 0), 0);
        assert_eq!(partition_for_key(b"k", -3), 0);
    }

    #[test]
    fn check_partition_bounds() {
        assert_eq!(check_partition(0, 3), Ok(()));
        assert_eq!(check_partition(2, 3), Ok(()));
        assert_eq!(
            check_partition(3, 3),
            Err(PartitionOutOfRange {
                partition: 3,
                num_partitions: 3
            })
        );
        assert_eq!(
            check_partition(-1, 3),
            Err(PartitionOutOfRange {
                partition: -1,
                num_partitions: 3
            })
        );
        assert_eq!(check_partition(i32::MIN, 3).unwrap_err().partition, i32::MIN);
        assert!(check_partition(0, 0).is_err());
        let msg = check_partition(5, 3).unwrap_err().to_string();
        assert!(msg.contains('5') && msg.contains('3'), "{msg}");
    }

    /// A `random` closure over a seeded [`FastRng`].
    fn rng(seed: u64) -> impl FnMut() -> u32 {
        let mut rng = FastRng::new(seed);
        move || rng.next_u32()
    }

    #[test]
    fn sticks_until_batch_size_then_switches_to_a_different_partition() {
        let mut p = StickyPartitioner::new(100);
        let mut random = rng(1);
        let first = p.partition("t", 10, &[], 30, &mut random);
        assert_eq!(p.current("t"), Some(first));
        // 30 + 30 + 30 = 90 < 100: still sticky; the 4th record (after 90 bytes) stays too.
        for _ in 0..3 {
            assert_eq!(p.partition("t", 10, &[], 30, &mut random), first);
        }
        // 120 bytes produced to `first`: the next record goes elsewhere.
        let second = p.partition("t", 10, &[], 30, &mut random);
        assert_ne!(second, first);
        assert!((0..10).contains(&second));
        // A record exactly filling the batch keeps the partition; the next one switches.
        let mut p = StickyPartitioner::new(100);
        let a = p.partition("t", 10, &[], 100, &mut random);
        let b = p.partition("t", 10, &[], 1, &mut random);
        assert_ne!(a, b);
        // Every switch picks a different partition, even with only two candidates.
        let mut p = StickyPartitioner::new(10);
        let mut last = p.partition("t", 2, &[], 10, &mut random);
        for _ in 0..50 {
            let next = p.partition("t", 2, &[], 10, &mut random);
            assert_ne!(next, last);
            last = next;
        }
    }

    #[test]
    fn random_is_only_drawn_when_choosing() {
        let mut p = StickyPartitioner::new(1000);
        let mut calls = 0;
        for _ in 0..10 {
            p.partition("t", 5, &[], 10, || {
                calls += 1;
                7
            });
        }
        assert_eq!(calls, 1);
    }

    #[test]
    fn topics_are_independent() {
        let mut p = StickyPartitioner::new(100);
        assert_eq!(p.partition("a", 8, &[], 10, || 0), 0);
        assert_eq!(p.partition("b", 8, &[], 10, || u32::MAX), 7);
        assert_eq!(p.partition("a", 8, &[], 10, || u32::MAX), 0);
        assert_eq!(p.current("b"), Some(7));
        assert_eq!(p.current("c"), None);
    }

    #[test]
    fn all_partitions_used_roughly_uniformly() {
        let n = 12;
        let switches = 12_000;
        let mut p = StickyPartitioner::new(1);
        let mut random = rng(0xdead_beef);
        let mut counts = vec![0u32; n as usize];
        for _ in 0..switches {
            counts[p.partition("t", n, &[], 1, &mut random) as usize] += 1;
        }
        let expected = switches / n as u32;
        for (partition, &count) in counts.iter().enumerate() {
            assert!(
                count > expected * 3 / 4 && count < expected * 5 / 4,
                "partition {partition}: {count} of {switches} (expected about {expected}): {counts:?}"
            );
        }
    }

    #[test]
    fn only_available_partitions_are_chosen() {
        let available = [1, 4, 6];
        let mut p = StickyPartitioner::new(5);
        let mut random = rng(7);
        let mut seen = [0u32; 8];
        let mut last = None;
        for _ in 0..3000 {
            let got = p.partition("t", 8, &available, 5, &mut random);
            assert!(available.contains(&got), "{got}");
            assert_ne!(Some(got), last, "each record fills a batch, so each switches");
            last = Some(got);
            seen[got as usize] += 1;
        }
        for partition in available {
            assert!(seen[partition as usize] > 800, "{seen:?}");
        }
        // Out-of-range entries are ignored.
        for _ in 0..100 {
            assert_eq!(p.partition("u", 8, &[9, -1, 3, 8], 5, &mut random), 3);
        }
        // An `available` list with no usable entry means "all partitions".
        let got = p.partition("v", 8, &[42], 1, &mut random);
        assert!((0..8).contains(&got));
        assert_eq!(p.partition("v", 8, &[42], 1, &mut random), got, "still sticky");
    }

    #[test]
    fn single_available_partition_is_kept_across_batches() {
        let mut p = StickyPartitioner::new(10);
        let mut random = rng(3);
        for _ in 0..20 {
            assert_eq!(p.partition("t", 5, &[2], 10, &mut random), 2);
        }
    }

    #[test]
    fn unavailable_current_partition_is_replaced() {
        let mut p = StickyPartitioner::new(1000);
        let mut random = rng(11);
        let first = p.partition("t", 4, &[], 1, &mut random);
        let others: Vec<i32> = (0..4).filter(|&q| q != first).collect();
        let second = p.partition("t", 4, &others, 1, &mut random);
        assert!(others.contains(&second));
        // Sticky again with the new list, including when it is reordered.
        assert_eq!(p.partition("t", 4, &others, 1, &mut random), second);
        let reversed: Vec<i32> = others.iter().rev().copied().collect();
        assert_eq!(p.partition("t", 4, &reversed, 1, &mut random), second);
        // Leadership back everywhere: the partition stays (it is still available).
        assert_eq!(p.partition("t", 4, &[], 1, &mut random), second);
    }

    #[test]
    fn partition_count_change_and_reset_choose_anew() {
        let mut p = StickyPartitioner::new(1000);
        assert_eq!(p.partition("t", 4, &[], 1, || u32::MAX), 3);
        // Same count: sticky even though the random source now says 0.
        assert_eq!(p.partition("t", 4, &[], 1, || 0), 3);
        // Count changed (partitions added): chosen anew.
        assert_eq!(p.partition("t", 6, &[], 1, || 0), 0);
        // Count shrank below the current partition: chosen anew within range.
        assert_eq!(p.partition("t", 6, &[], 1, || u32::MAX), 0);
        assert_eq!(p.partition("t", 2, &[], 1, || u32::MAX), 1);
        // Explicit reset.
        p.reset("t");
        assert_eq!(p.current("t"), None);
        assert_eq!(p.partition("t", 2, &[], 1, || 0), 0);
        p.reset("unknown");
    }

    #[test]
    fn single_partition_always_zero() {
        let mut p = StickyPartitioner::new(1);
        for _ in 0..10 {
            assert_eq!(
                p.partition("t", 1, &[], 100, || panic!("no randomness needed")),
                0
            );
            assert_eq!(
                p.partition("t", 1, &[0], 100, || panic!("no randomness needed")),
                0
            );
        }
        assert_eq!(
            p.partition("t", 0, &[], 100, || panic!("no randomness needed")),
            0
        );
    }

    #[test]
    fn deterministic_for_a_given_random_sequence() {
        let run = |seed| {
            let mut p = StickyPartitioner::new(64);
            let mut random = rng(seed);
            (0..500)
                .map(|i| {
                    let available: &[i32] = if i % 100 < 50 { &[] } else { &[0, 2, 5, 9] };
                    p.partition("t", 10, available, 7 + i % 13, &mut random)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn fast_rng_is_deterministic_and_spread() {
        let mut a = FastRng::new(5);
        let mut b = FastRng::new(5);
        let xs: Vec<u32> = (0..100).map(|_| a.next_u32()).collect();
        let ys: Vec<u32> = (0..100).map(|_| b.next_u32()).collect();
        assert_eq!(xs, ys);
        let mut c = FastRng::new(6);
        assert_ne!(xs[0], c.next_u32());
        // Seed 0 works and the outputs are not constant.
        let mut z = FastRng::new(0);
        let zs: Vec<u32> = (0..100).map(|_| z.next_u32()).collect();
        assert!(zs.iter().any(|&v| v != zs[0]));
        // Both halves of the range occur often.
        let high = xs.iter().filter(|&&v| v >= 1 << 31).count();
        assert!((25..75).contains(&high), "{high}");
    }
}
