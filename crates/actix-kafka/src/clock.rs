//! The runtime's clocks. The core never reads a clock: the actors read these
//! and pass the time in.
//!
//! [`Wakeup`] is the one timer each actor keeps at its core state's
//! deadline. Every actor asks its state `poll_deadline()` after carrying out
//! the state's events and arms its `Wakeup` there. A timer already due at or
//! before the new deadline is kept: deadlines move later far more often than
//! earlier (a batch was sent, an answer came), and a timer that fires early
//! costs one call to the state's `handle_timeout`, which finds nothing due and
//! lets the actor arm the next one; cancelling and re-arming on every change
//! would cost that much each time.

use std::time::Instant;

use actix::prelude::*;

/// The wall clock in milliseconds since the epoch (record timestamps).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Wakeup {
    armed: Option<(Instant, SpawnHandle)>,
}

impl Wakeup {
    /// Makes sure `fire` runs on the actor by `deadline` (nothing for
    /// `None`). `this` finds this `Wakeup` in the actor, so that firing
    /// disarms it first.
    pub(crate) fn arm<A>(
        &mut self,
        deadline: Option<Instant>,
        ctx: &mut Context<A>,
        this: fn(&mut A) -> &mut Wakeup,
        fire: fn(&mut A, &mut Context<A>),
    ) where
        A: Actor<Context = Context<A>>,
    {
        let Some(deadline) = deadline else {
            return;
        };
        if let Some((armed, handle)) = self.armed {
            if armed <= deadline {
                return;
            }
            ctx.cancel_future(handle);
        }
        let delay = deadline.saturating_duration_since(Instant::now());
        let handle = ctx.run_later(delay, move |actor, ctx| {
            this(actor).armed = None;
            fire(actor, ctx);
        });
        self.armed = Some((deadline, handle));
    }
}
