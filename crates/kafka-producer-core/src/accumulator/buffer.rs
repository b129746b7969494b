//! `buffer_memory`: a bound on the bytes buffered across all partitions.

use std::collections::VecDeque;
use std::time::Instant;

/// Accounts buffered bytes against a limit, with a FIFO of waiters.
///
/// A record reserves its encoded size when it is enqueued and the bytes come
/// back when its batch completes. A record that does not fit waits, in
/// order, until bytes are released or its deadline (`max_block_ms`) passes.
#[derive(Debug)]
pub struct BufferPool<W> {
    limit: usize,
    used: usize,
    waiters: VecDeque<Waiter<W>>,
}

#[derive(Debug)]
struct Waiter<W> {
    size: usize,
    deadline: Instant,
    waiter: W,
}

impl<W> BufferPool<W> {
    /// A pool of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        BufferPool {
            limit,
            used: 0,
            waiters: VecDeque::new(),
        }
    }

    /// Bytes reserved now.
    pub fn used(&self) -> usize {
        self.used
    }

    /// The configured limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Reserves `size` bytes if they fit and nobody is waiting ahead.
    pub fn try_reserve(&mut self, size: usize) -> bool {
        if self.waiters.is_empty() && self.fits(size) {
            self.used += size;
            true
        } else {
            false
        }
    }

    fn fits(&self, size: usize) -> bool {
        self.used.saturating_add(size) <= self.limit
    }

    /// Queues a waiter for `size` bytes until `deadline`.
    pub fn wait(&mut self, size: usize, deadline: Instant, waiter: W) {
        self.waiters.push_back(Waiter {
            size,
            deadline,
            waiter,
        });
    }

    /// Returns `size` bytes and hands space to the waiters that now fit, in
    /// order; their bytes are reserved for them.
    pub fn release(&mut self, size: usize) -> Vec<W> {
        self.used = self.used.saturating_sub(size);
        let mut ready = Vec::new();
        while self.waiters.front().is_some_and(|w| self.fits(w.size)) {
            if let Some(w) = self.waiters.pop_front() {
                self.used += w.size;
                ready.push(w.waiter);
            }
        }
        ready
    }

    /// Removes the waiters whose deadline has passed. Returns them, and the
    /// waiters behind them that now fit (their bytes reserved).
    pub fn expire(&mut self, now: Instant) -> (Vec<W>, Vec<W>) {
        let (expired, kept): (VecDeque<_>, VecDeque<_>) =
            self.waiters.drain(..).partition(|w| w.deadline <= now);
        self.waiters = kept;
        (expired.into_iter().map(|w| w.waiter).collect(), self.release(0))
    }

    /// Removes every waiter (a stop whose deadline passed).
    pub fn take_waiters(&mut self) -> Vec<W> {
        self.waiters.drain(..).map(|w| w.waiter).collect()
    }

    /// Whether any record waits for space.
    pub fn has_waiters(&self) -> bool {
        !self.waiters.is_empty()
    }

    /// The earliest waiter deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.waiters.iter().map(|w| w.deadline).min()
    }
}
