//! The table of requests written and awaiting a response (sans-IO).
//!
//! Entries are in write order (Kafka answers in that order) and carry a
//! deadline; the caller
//! supplies `now`, so the rules are tested without clocks or sockets.

use std::collections::VecDeque;
use std::time::Instant;

use kafka_wire::api::ApiKey;

/// One request awaiting its response.
#[derive(Debug)]
pub struct Entry<T> {
    /// The id the broker echoes.
    pub correlation_id: i32,
    /// The API called.
    pub api: ApiKey,
    /// The version the request was encoded in (the response uses the same).
    pub version: i16,
    /// When the request times out.
    pub deadline: Instant,
    /// Whoever gets the response.
    pub responder: T,
}

/// Requests in flight on one connection, in the order they were written.
#[derive(Debug)]
pub struct InFlight<T> {
    entries: VecDeque<Entry<T>>,
}

impl<T> Default for InFlight<T> {
    fn default() -> Self {
        InFlight {
            entries: VecDeque::new(),
        }
    }
}

impl<T> InFlight<T> {
    /// Records a written request.
    pub fn insert(
        &mut self,
        correlation_id: i32,
        api: ApiKey,
        version: i16,
        deadline: Instant,
        responder: T,
    ) {
        self.entries.push_back(Entry {
            correlation_id,
            api,
            version,
            deadline,
            responder,
        });
    }

    /// Removes and returns the oldest request, if `correlation_id` is its
    /// id. Kafka answers a connection's requests in the order they were
    /// written, so any other id is a protocol error: `Err` carries the id
    /// that was due (`None` when nothing is in flight).
    pub fn complete(&mut self, correlation_id: i32) -> Result<Entry<T>, Option<i32>> {
        match self.entries.front() {
            Some(oldest) if oldest.correlation_id == correlation_id => {
                Ok(self.entries.pop_front().expect("the front exists"))
            }
            Some(oldest) => Err(Some(oldest.correlation_id)),
            None => Err(None),
        }
    }

    /// Removes and returns every request whose deadline is at or before `now`.
    pub fn expire(&mut self, now: Instant) -> Vec<Entry<T>> {
        let mut expired = Vec::new();
        let mut live = VecDeque::with_capacity(self.entries.len());
        for entry in self.entries.drain(..) {
            if entry.deadline <= now {
                expired.push(entry);
            } else {
                live.push_back(entry);
            }
        }
        self.entries = live;
        expired
    }

    /// The earliest deadline of a request in flight.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.entries.iter().map(|e| e.deadline).min()
    }

    /// Removes and returns every request (the connection is gone).
    pub fn drain(&mut self) -> Vec<Entry<T>> {
        self.entries.drain(..).collect()
    }

    /// How many requests are in flight.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no request is in flight.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn complete_takes_answers_in_write_order_only() {
        let now = Instant::now();
        let mut t = InFlight::default();
        t.insert(1, ApiKey::Produce, 9, now, "a");
        t.insert(2, ApiKey::Metadata, 12, now, "b");
        t.insert(3, ApiKey::Produce, 9, now, "c");
        assert_eq!(t.len(), 3);
        assert_eq!(t.complete(2).unwrap_err(), Some(1), "2 answered before 1");
        assert_eq!(t.complete(99).unwrap_err(), Some(1), "unknown id");
        assert_eq!(t.len(), 3, "a refused answer takes nothing");
        assert_eq!(t.complete(1).unwrap().responder, "a");
        let b = t.complete(2).unwrap();
        assert_eq!((b.responder, b.api, b.version), ("b", ApiKey::Metadata, 12));
        assert_eq!(t.complete(3).unwrap().responder, "c");
        assert_eq!(t.complete(3).unwrap_err(), None, "completed once only");
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn expire_takes_only_overdue_entries() {
        let t0 = Instant::now();
        let mut t = InFlight::default();
        t.insert(1, ApiKey::Produce, 9, t0 + Duration::from_millis(100), 1);
        t.insert(2, ApiKey::Produce, 9, t0 + Duration::from_millis(300), 2);
        t.insert(3, ApiKey::Metadata, 9, t0 + Duration::from_millis(200), 3);
        assert!(t.expire(t0).is_empty());
        let expired: Vec<_> = t
            .expire(t0 + Duration::from_millis(200))
            .into_iter()
            .map(|e| e.responder)
            .collect();
        assert_eq!(expired, [1, 3], "deadline reached, in write order");
        assert_eq!(t.len(), 1);
        assert_eq!(t.complete(2).unwrap().correlation_id, 2);
    }

    #[test]
    fn drain_empties_the_table_in_write_order() {
        let now = Instant::now();
        let mut t = InFlight::default();
        for id in 0..4 {
            t.insert(id, ApiKey::Produce, 3, now, id);
        }
        let all: Vec<_> = t.drain().into_iter().map(|e| e.correlation_id).collect();
        assert_eq!(all, [0, 1, 2, 3]);
        assert_eq!(t.len(), 0);
    }
}
