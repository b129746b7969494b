//! Where a record's two results go: the end of its enqueue stage, then its
//! delivery.
//!
//! Records enqueued by one call (`send`, `send_all`, `send_all_with`,
//! `ProduceAll`) share one [`Group`]: a single allocation for the whole call,
//! instead of two channels per record, which were most of a record's cost on
//! the hot path. Each record travels through the actors with a [`Ticket`]
//! naming its slot in the group.
//!
//! The enqueue stage ends once per record, decided by one compare-and-swap
//! on its slot: either the producer actor marks the slot enqueued before it
//! hands the record to its partition, or the caller gave up first (a timeout
//! or a dropped future marks every slot still enqueuing abandoned) and the
//! actor drops the record unsent. A caller that gives up an instant after the
//! hand-over cannot take the record back: it goes on.
//!
//! A ticket dropped without an answer (its actor stopped) answers
//! [`ProducerError::Closed`], so no caller waits forever.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use futures_util::task::AtomicWaker;

use actix::Message;

use crate::error::ProducerError;
use crate::record::RecordMetadata;

/// A batch's outcome, sent to every subscriber: one event per batch, since
/// per-record events would multiply mailbox traffic by the batch size; the
/// record offsets are `base_offset..base_offset + record_count`.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct DeliveryEvent {
    /// Topic.
    pub topic: Arc<str>,
    /// Partition.
    pub partition: i32,
    /// Offset of the batch's first record; -1 when unknown (acks=0) or failed.
    pub base_offset: i64,
    /// Number of records in the batch.
    pub record_count: usize,
    /// `None` on success, else the error every record of the batch got.
    pub error: Option<ProducerError>,
}

/// A record's delivery result.
pub type DeliveryResult = Result<RecordMetadata, ProducerError>;

/// Receives each record's delivery result with the record's index in its
/// call. It runs on the producer's partition actors, once per record, in
/// completion order: keep it short and never block in it.
pub type DeliveryCallback = Box<dyn Fn(usize, DeliveryResult) + Send + Sync>;

/// Where a record is; a slot's `stage`. Leaving `ENQUEUING` is decided by
/// one compare-and-swap, so the actor and a caller giving up never both win.
mod stage {
    /// In the enqueue stage.
    pub const ENQUEUING: u8 = 0;
    /// The caller gave up before the record was enqueued: never sent.
    pub const ABANDONED: u8 = 1;
    /// Refused in the enqueue stage (the error is in the slot): never sent.
    pub const REFUSED: u8 = 2;
    /// In its partition's queue.
    pub const ENQUEUED: u8 = 3;
    /// Delivered (the result is in the slot until read).
    pub const DELIVERED: u8 = 4;
}
use stage::*;

struct Slot {
    stage: AtomicU8,
    outcome: Mutex<Outcome>,
}

#[derive(Default)]
struct Outcome {
    /// The refusal, or the delivery result, until read.
    result: Option<DeliveryResult>,
    /// Who waits for the delivery.
    waker: Option<Waker>,
}

/// Bytes a record's slot takes in its group: memory the record holds until
/// its delivery, counted against `buffer_memory` with its encoded bytes.
pub const SLOT_SIZE: usize = std::mem::size_of::<Slot>();

/// The results of the records enqueued by one call. See the module docs.
pub struct Group {
    slots: Box<[Slot]>,
    /// Records still in the enqueue stage.
    enqueuing: AtomicUsize,
    /// Who waits for the enqueue stage to end.
    enqueue_waker: AtomicWaker,
    /// Delivery results go here instead of the slots, when set.
    on_delivery: Option<DeliveryCallback>,
}

impl Slot {
    /// A poisoned lock only means a panic elsewhere; the outcome is still whole.
    fn outcome(&self) -> MutexGuard<'_, Outcome> {
        self.outcome
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn leave_enqueuing(&self, to: u8) -> bool {
        self.stage
            .compare_exchange(ENQUEUING, to, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

impl Group {
    /// A group of `count` records, delivered to their futures, or to
    /// `on_delivery` when given.
    pub fn new(count: usize, on_delivery: Option<DeliveryCallback>) -> Arc<Group> {
        let slots = (0..count)
            .map(|_| Slot {
                stage: AtomicU8::new(ENQUEUING),
                outcome: Mutex::default(),
            })
            .collect();
        Arc::new(Group {
            slots,
            enqueuing: AtomicUsize::new(count),
            enqueue_waker: AtomicWaker::new(),
            on_delivery,
        })
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the group has no records.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// One ticket per record, in index order.
    pub fn tickets(self: &Arc<Self>) -> impl Iterator<Item = Ticket> + '_ {
        (0..self.slots.len()).map(|index| Ticket {
            group: Some(self.clone()),
            index,
        })
    }

    /// The enqueue stage of every record; resolves when it has ended for all.
    /// Dropping it before abandons the records still enqueuing.
    pub fn enqueue_stage(self: &Arc<Self>) -> EnqueueWait {
        EnqueueWait {
            group: self.clone(),
            ended: false,
        }
    }

    /// How record `index` left the enqueue stage: `Ok` if it was enqueued
    /// (its delivery follows), else why not. Call after the enqueue stage.
    pub fn enqueue_result(&self, index: usize) -> Result<(), ProducerError> {
        let slot = &self.slots[index];
        match slot.stage.load(Ordering::Acquire) {
            ENQUEUED | DELIVERED => Ok(()),
            REFUSED => match slot.outcome().result.take() {
                Some(Err(error)) => Err(error),
                _ => Err(ProducerError::Closed),
            },
            _ => Err(ProducerError::Closed),
        }
    }

    /// The delivery of record `index` (enqueued).
    pub fn delivery(self: &Arc<Self>, index: usize) -> DeliveryFuture {
        DeliveryFuture {
            group: self.clone(),
            index,
        }
    }

    fn stage_ended(&self) {
        if self.enqueuing.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.enqueue_waker.wake();
        }
    }

    fn refuse(&self, index: usize, error: ProducerError) {
        let slot = &self.slots[index];
        // The error is in place before the stage says so.
        let mut outcome = slot.outcome();
        if slot.leave_enqueuing(REFUSED) {
            outcome.result = Some(Err(error));
            drop(outcome);
            self.stage_ended();
        }
    }

    fn deliver(&self, index: usize, result: DeliveryResult) {
        if let Some(callback) = &self.on_delivery {
            callback(index, result);
            return;
        }
        let slot = &self.slots[index];
        let waker = {
            let mut outcome = slot.outcome();
            outcome.result = Some(result);
            slot.stage.store(DELIVERED, Ordering::Release);
            outcome.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The caller gave up waiting for the enqueue stage.
    fn abandon(&self) {
        for slot in self.slots.iter() {
            slot.leave_enqueuing(ABANDONED);
        }
    }
}

/// A record's claim on its slot, carried with the record through the actors.
/// Exactly one answer is given through it: refused, or enqueued then
/// delivered.
pub struct Ticket {
    /// `None` once answered.
    group: Option<Arc<Group>>,
    index: usize,
}

impl Ticket {
    /// A ticket with a group of its own (for one record).
    pub fn single(on_delivery: Option<DeliveryCallback>) -> (Arc<Group>, Ticket) {
        let group = Group::new(1, on_delivery);
        let ticket = Ticket {
            group: Some(group.clone()),
            index: 0,
        };
        (group, ticket)
    }

    /// Ends the enqueue stage: `true` if the record goes on to its partition,
    /// `false` if the caller gave up first (the record must be dropped).
    pub fn enqueue(&mut self) -> bool {
        let Some(group) = &self.group else {
            return false;
        };
        if group.slots[self.index].leave_enqueuing(ENQUEUED) {
            group.stage_ended();
            true
        } else {
            self.group = None;
            false
        }
    }

    /// Refuses the record in the enqueue stage: it is never sent.
    pub fn refuse(mut self, error: ProducerError) {
        if let Some(group) = self.group.take() {
            group.refuse(self.index, error);
        }
    }

    /// Delivers the result of an enqueued record.
    pub fn deliver(mut self, result: DeliveryResult) {
        if let Some(group) = self.group.take() {
            group.deliver(self.index, result);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let Some(group) = self.group.take() else {
            return;
        };
        if group.slots[self.index].stage.load(Ordering::Acquire) == ENQUEUED {
            group.deliver(self.index, Err(ProducerError::Closed));
        } else {
            group.refuse(self.index, ProducerError::Closed);
        }
    }
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticket")
            .field("index", &self.index)
            .field("answered", &self.group.is_none())
            .finish()
    }
}

/// The end of a call's enqueue stage; see [`Group::enqueue_stage`].
pub struct EnqueueWait {
    group: Arc<Group>,
    ended: bool,
}

impl Future for EnqueueWait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let group = &self.group;
        if group.enqueuing.load(Ordering::Acquire) != 0 {
            group.enqueue_waker.register(cx.waker());
            if group.enqueuing.load(Ordering::Acquire) != 0 {
                return Poll::Pending;
            }
        }
        self.ended = true;
        Poll::Ready(())
    }
}

impl Drop for EnqueueWait {
    fn drop(&mut self) {
        if !self.ended {
            self.group.abandon();
        }
    }
}

/// The second stage of a send: resolves with the record's metadata once the
/// broker acknowledged it, or with the error that ended its retries.
/// Dropping it does not cancel the send.
pub struct DeliveryFuture {
    group: Arc<Group>,
    index: usize,
}

impl Future for DeliveryFuture {
    type Output = DeliveryResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<DeliveryResult> {
        let slot = &self.group.slots[self.index];
        let mut outcome = slot.outcome();
        match slot.stage.load(Ordering::Acquire) {
            // Read already if `None`: nothing more will come.
            DELIVERED => Poll::Ready(outcome.result.take().unwrap_or(Err(ProducerError::Closed))),
            ENQUEUED | ENQUEUING => {
                if !outcome.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    outcome.waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            // Never enqueued.
            _ => Poll::Ready(Err(ProducerError::Closed)),
        }
    }
}

impl fmt::Debug for DeliveryFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliveryFuture")
            .field("index", &self.index)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;
    use std::sync::atomic::AtomicU64;

    fn metadata(offset: i64) -> RecordMetadata {
        RecordMetadata {
            topic: "t".into(),
            partition: 0,
            offset,
            timestamp: 0,
            timestamp_type: crate::record::TimestampType::CreateTime,
            log_start_offset: -1,
        }
    }

    #[test]
    fn enqueued_then_delivered() {
        let group = Group::new(2, None);
        let mut tickets: Vec<Ticket> = group.tickets().collect();
        let mut stage = group.enqueue_stage();
        assert!(
            (&mut stage).now_or_never().is_none(),
            "two records still enqueuing"
        );
        let second = tickets.pop().unwrap();
        let mut first = tickets.pop().unwrap();
        assert!(first.enqueue());
        second.refuse(ProducerError::Cancelled);
        assert!(stage.now_or_never().is_some());
        assert!(group.enqueue_result(0).is_ok());
        assert!(matches!(group.enqueue_result(1), Err(ProducerError::Cancelled)));
        let mut delivery = group.delivery(0);
        assert!((&mut delivery).now_or_never().is_none());
        first.deliver(Ok(metadata(7)));
        assert_eq!(delivery.now_or_never().unwrap().unwrap().offset, 7);
    }

    #[test]
    fn a_caller_that_gives_up_first_abandons_the_record() {
        let group = Group::new(1, None);
        let mut ticket = group.tickets().next().unwrap();
        drop(group.enqueue_stage());
        assert_eq!(group.slots[0].stage.load(Ordering::Acquire), ABANDONED);
        assert!(!ticket.enqueue(), "the actor must drop the record");
    }

    #[test]
    fn the_actor_and_a_caller_giving_up_never_both_win() {
        for _ in 0..2_000 {
            let group = Group::new(1, None);
            let mut ticket = group.tickets().next().unwrap();
            let stage = group.enqueue_stage();
            let actor = std::thread::spawn(move || {
                let enqueued = ticket.enqueue();
                (enqueued, ticket)
            });
            drop(stage);
            let (enqueued, _ticket) = actor.join().unwrap();
            let abandoned = group.slots[0].stage.load(Ordering::Acquire) == ABANDONED;
            assert!(enqueued != abandoned, "enqueued={enqueued} abandoned={abandoned}");
        }
    }

    #[test]
    fn giving_up_after_the_record_was_enqueued_changes_nothing() {
        let group = Group::new(1, None);
        let mut ticket = group.tickets().next().unwrap();
        assert!(ticket.enqueue());
        drop(group.enqueue_stage());
        let delivery = group.delivery(0);
        ticket.deliver(Ok(metadata(1)));
        assert_eq!(delivery.now_or_never().unwrap().unwrap().offset, 1);
    }

    #[test]
    fn a_dropped_ticket_answers_closed_in_either_stage() {
        let group = Group::new(2, None);
        let mut tickets: Vec<Ticket> = group.tickets().collect();
        assert!(tickets[0].enqueue());
        drop(tickets);
        assert!(group.enqueue_stage().now_or_never().is_some());
        assert!(matches!(group.enqueue_result(1), Err(ProducerError::Closed)));
        assert!(group.enqueue_result(0).is_ok());
        assert!(matches!(
            group.delivery(0).now_or_never(),
            Some(Err(ProducerError::Closed))
        ));
    }

    #[test]
    fn a_callback_receives_each_result_with_its_index() {
        let sum = Arc::new(AtomicU64::new(0));
        let seen = sum.clone();
        let callback: DeliveryCallback = Box::new(move |index, result| {
            let offset = result.map(|m| m.offset).unwrap_or(-1000);
            seen.fetch_add((index as u64 + 1) * 100 + offset as u64, Ordering::Relaxed);
        });
        let group = Group::new(3, Some(callback));
        let mut tickets: Vec<Ticket> = group.tickets().collect();
        for ticket in &mut tickets {
            assert!(ticket.enqueue());
        }
        for (offset, ticket) in tickets.into_iter().enumerate().rev() {
            ticket.deliver(Ok(metadata(offset as i64)));
        }
        // (1*100 + 0) + (2*100 + 1) + (3*100 + 2)
        assert_eq!(sum.load(Ordering::Relaxed), 603);
    }
}
