//! The timeline: going back in time on a deterministic machine.
//!
//! A position is `Machine::position`: instructions attempted by all harts (retired or
//! trapping). The machine is a pure function of its inputs, so the session needs only
//! - snapshots at intervals of positions (`Machine::snapshot`, RAM pages shared between
//!   them), the first at boot, thinned so that at most [`Timeline::max`] are kept;
//! - the console input typed through the session, with the position at which it entered;
//!
//! to reach any position of this run again: restore the last snapshot at or before it and
//! run forward, typing the logged input at its positions. Breakpoints do not stop such a
//! replay (the registry is set aside), and the console output and system calls it produces
//! again are dropped (the front ends have them).
//!
//! The present is the furthest position reached. Going back and running forward again
//! follows the same history; typing input or changing the machine from the debugger in the
//! past makes a new future: [`Session::diverge`] drops the snapshots and input after the
//! current position.
//!
//! Reverse operations search forward from snapshots: `reverse_step` replays to just before
//! the hart's previous instruction (the machine stops a hart's run at a given attempt
//! count); `reverse_continue` replays each span between snapshots, newest first, with the
//! breakpoints and watchpoints armed and remembers the last hit before the starting
//! position, as rr and QEMU's record/replay do.

use crate::breakpoints::Registry;
use crate::session::Session;
use machine::{Snapshot, Stop};

/// Positions between automatic snapshots.
pub const INTERVAL: u64 = 50_000_000;
/// Snapshots kept at most (older ones are thinned first).
pub const MAX_SNAPSHOTS: usize = 48;
/// Cycles per run slice while replaying.
const SLICE: u64 = 10_000_000;

/// Snapshots and logged input of one run (see the module essay).
#[derive(Default)]
pub struct Timeline {
    /// On: snapshots are taken and reverse operations work.
    pub(crate) on: bool,
    /// Ascending by position; the first is the boot state.
    snapshots: Vec<Snapshot>,
    /// The snapshot the machine's RAM dirty flags are relative to (see
    /// `machine/src/machine/snapshot.rs`).
    base: Option<usize>,
    /// Console input typed through the session: (position, bytes).
    pub(crate) inputs: Vec<(u64, Vec<u8>)>,
    /// The furthest position reached.
    present: u64,
    /// Positions between snapshots, and the most snapshots kept.
    pub interval: u64,
    pub max: usize,
}

/// Told of each breakpoint or watchpoint stop during an armed replay; true ends the replay.
type OnHit<'a> = dyn FnMut(&mut Session, Stop) -> bool + 'a;

/// Where a reverse operation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reversed {
    /// At a stop: the hart, and the machine's stop (a breakpoint or watchpoint hit).
    At { hart: usize, stop: Stop },
    /// Nothing earlier: the machine is at the start of the recording.
    Start,
}

impl Timeline {
    pub(crate) fn new() -> Timeline {
        Timeline {
            interval: INTERVAL,
            max: MAX_SNAPSHOTS,
            ..Timeline::default()
        }
    }

    /// The snapshots' positions, oldest first.
    pub fn snapshot_positions(&self) -> Vec<u64> {
        self.snapshots.iter().map(|s| s.position).collect()
    }

    /// Bytes of RAM pages the snapshots hold (shared pages counted once).
    pub fn snapshot_bytes(&self) -> usize {
        let mut prev: Option<&Snapshot> = None;
        let mut total = 0;
        for s in &self.snapshots {
            total += s.bytes_not_in(prev);
            prev = Some(s);
        }
        total
    }

    /// The furthest position reached.
    pub fn present(&self) -> u64 {
        self.present
    }

    /// The last snapshot at or before `position`.
    fn at_or_before(&self, position: u64) -> Option<usize> {
        self.snapshots.iter().rposition(|s| s.position <= position)
    }

    /// Drops snapshots so that at most `max` stay: every other one of the older half,
    /// keeping the boot snapshot, the newest and the base.
    fn thin(&mut self) {
        while self.snapshots.len() > self.max.max(3) {
            let n = self.snapshots.len();
            let mut keep = vec![true; n];
            for (i, k) in keep.iter_mut().enumerate().take(n / 2).skip(1) {
                *k = i % 2 == 0 || Some(i) == self.base;
            }
            let mut i = 0;
            let base = self.base;
            let mut new_base = None;
            self.snapshots.retain(|_| {
                let k = keep[i];
                if k && Some(i) == base {
                    new_base = Some(i);
                }
                i += 1;
                k
            });
            // The base's new index: the kept ones before it.
            self.base = base.map(|b| keep[..b].iter().filter(|k| **k).count());
            debug_assert!(new_base.is_some() || base.is_none());
            if self.snapshots.len() == n {
                break;
            }
        }
    }
}

impl Session {
    /// Turns the timeline on (from the current position: a snapshot is taken now) or off
    /// (its snapshots and input log are dropped).
    pub fn set_time_travel(&mut self, on: bool) {
        let t = &mut self.timeline;
        if on == t.on {
            return;
        }
        *t = Timeline::new();
        if on {
            t.on = true;
            self.take_snapshot();
        }
    }

    /// The timeline (positions of snapshots, memory, the present).
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// The current position (see `Machine::position`).
    pub fn position(&self) -> u64 {
        self.machine.position()
    }

    pub(crate) fn take_snapshot(&mut self) {
        let t = &mut self.timeline;
        let base = t.base.map(|b| &t.snapshots[b]);
        let s = self.machine.snapshot(base);
        // Positions only grow along one history: a snapshot at the position of the last
        // replaces nothing (they are the same state).
        if t.snapshots.last().is_some_and(|l| l.position == s.position) {
            t.base = Some(t.snapshots.len() - 1);
            *t.snapshots.last_mut().expect("checked") = s;
            return;
        }
        t.snapshots.push(s);
        t.base = Some(t.snapshots.len() - 1);
        t.thin();
    }

    /// After a run: the present moves on, and a snapshot is due every `interval` positions.
    pub(crate) fn timeline_after_run(&mut self) {
        let pos = self.machine.position();
        let t = &mut self.timeline;
        if !t.on {
            return;
        }
        t.present = t.present.max(pos);
        let last = t.snapshots.last().map_or(0, |s| s.position);
        if pos >= last.saturating_add(t.interval) && pos >= t.present {
            self.take_snapshot();
        }
    }

    /// The machine was changed here in a way its history does not contain (input typed or
    /// state written in the past): what lay ahead is gone.
    pub fn diverge(&mut self) {
        let pos = self.machine.position();
        let t = &mut self.timeline;
        if !t.on || pos >= t.present {
            return;
        }
        t.snapshots.retain(|s| s.position <= pos);
        t.inputs.retain(|(at, _)| *at <= pos);
        if t.base.is_some_and(|b| b >= t.snapshots.len()) {
            // The machine's base was ahead: its dirty flags mean nothing now. A new
            // snapshot here starts a fresh chain.
            t.base = None;
            self.take_snapshot();
        }
        self.timeline.present = pos;
    }

    /// Goes to `position` of this run's history (at most the present): back by restoring a
    /// snapshot and replaying, forward by replaying.
    pub fn goto(&mut self, position: u64) -> Result<(), String> {
        let t = &self.timeline;
        if !t.on {
            return Err("time travel is off".into());
        }
        if position > t.present {
            return Err(format!(
                "position {position} is beyond the present ({})",
                t.present
            ));
        }
        let now = self.machine.position();
        let snap = t.at_or_before(position).ok_or("no snapshot that early")?;
        // Restore unless the machine is already between that snapshot and the target.
        let from_snapshot = !(now <= position && now >= t.snapshots[snap].position);
        if from_snapshot {
            self.restore(snap);
        }
        self.replay(position, from_snapshot, None).map(|_| ())
    }

    fn restore(&mut self, i: usize) {
        let t = &mut self.timeline;
        let base = t.base.map(|b| &t.snapshots[b]);
        self.machine.restore(&t.snapshots[i], base);
        t.base = Some(i);
        // The tracer's calls in flight belong to the abandoned future.
        self.views.tracer.forget_pending();
        self.hits.clear();
    }

    /// Runs forward to `target` typing the logged input; `typed_here`: input logged at the
    /// current position is still to be typed (after a restore). With `armed`, breakpoints
    /// and watchpoints stop it and every hit before `target` is passed to the callback,
    /// which says whether the replay ends there; without, the registry is set aside.
    fn replay(
        &mut self,
        target: u64,
        typed_here: bool,
        mut armed: Option<&mut OnHit<'_>>,
    ) -> Result<Stop, String> {
        let idle = self.idle_stops;
        self.machine.set_idle_stops(false);
        let saved = if armed.is_some() {
            None
        } else {
            let r = std::mem::take(&mut self.registry);
            r.sync_empty(&mut self.machine);
            Some(r)
        };
        let tracing = self.views.tracing();
        let start = self.machine.position();
        let inputs: Vec<(u64, Vec<u8>)> = self
            .timeline
            .inputs
            .iter()
            .filter(|(at, _)| *at > start || (typed_here && *at == start))
            .cloned()
            .collect();
        let mut pending = inputs.into_iter().peekable();
        let mut stuck = 0;
        let result = loop {
            let now = self.machine.position();
            while let Some((_, bytes)) = pending.next_if(|(at, _)| *at <= now) {
                self.machine.bus.uart.push_input(&bytes);
            }
            if now >= target {
                break Ok(Stop::Budget);
            }
            let next_input = pending.peek().map_or(u64::MAX, |(at, _)| *at);
            let goal = target.min(next_input);
            let stop = self.machine.run((goal - now).min(SLICE));
            if tracing {
                let (_, seen) = self.views.after_run(&mut self.machine, stop);
                let _ = seen;
            }
            match stop {
                Stop::PowerOff { .. } | Stop::Reset | Stop::Htif { .. } => {
                    break Err(format!(
                        "the guest stopped at position {} during the replay",
                        self.machine.position()
                    ));
                }
                Stop::Breakpoint { .. } | Stop::Watchpoint { .. } => {
                    if let Some(f) = armed.as_mut()
                        && f(self, stop)
                    {
                        break Ok(stop);
                    }
                    stuck = 0;
                }
                Stop::Budget
                    if self.machine.hart_cap_reached() && self.machine.position() == now =>
                {
                    break Ok(Stop::Budget);
                }
                _ if self.machine.position() == now => {
                    stuck += 1;
                    if stuck > 3 {
                        break Err(format!(
                            "the replay stalled at position {now}: every hart waits"
                        ));
                    }
                }
                _ => stuck = 0,
            }
        };
        // What the replay printed and traced again is not news.
        self.machine.bus.uart.take_output();
        if let Some(r) = saved {
            self.registry = r;
            self.registry.sync(&mut self.machine);
        }
        self.machine.set_idle_stops(idle);
        result
    }

    /// Goes back to just before hart `h`'s previous instruction (retired or trapping).
    pub fn reverse_step(&mut self, h: usize) -> Result<Reversed, String> {
        if !self.timeline.on {
            return Err("time travel is off".into());
        }
        let attempts = self.machine.harts.get(h).ok_or("no such hart")?.cycles();
        if attempts == 0 {
            return Ok(Reversed::Start);
        }
        let want = attempts - 1;
        let now = self.machine.position();
        let t = &self.timeline;
        let snap = t
            .snapshots
            .iter()
            .rposition(|s| s.position < now && s.hart_attempts(h) <= want)
            .ok_or("no snapshot before that instruction")?;
        self.restore(snap);
        // Run with hart h capped at `want` attempts: the machine stops as it is about to
        // make the next one.
        self.machine.set_hart_cap(Some((h, want)));
        let r = self.replay(now, true, None);
        self.machine.set_hart_cap(None);
        r?;
        if self.machine.harts[h].cycles() != want {
            return Err("the replay did not reach the previous instruction".into());
        }
        Ok(Reversed::At {
            hart: h,
            stop: Stop::Budget,
        })
    }

    /// Goes back to the last breakpoint or watchpoint hit (of any owner whose condition
    /// holds) before the current position; [`Reversed::Start`] at the start of the run.
    pub fn reverse_continue(&mut self) -> Result<Reversed, String> {
        if !self.timeline.on {
            return Err("time travel is off".into());
        }
        let mut end = self.machine.position();
        loop {
            let Some(snap) = self
                .timeline
                .snapshots
                .iter()
                .rposition(|s| s.position < end)
            else {
                let first = self.timeline.snapshots.first().map_or(0, |s| s.position);
                self.goto(first)?;
                return Ok(Reversed::Start);
            };
            let from = self.timeline.snapshots[snap].position;
            self.restore(snap);
            let mut last: Option<u64> = None;
            let mut record = |s: &mut Session, stop: Stop| {
                let held = match stop {
                    Stop::Breakpoint { hart } => !s.holding(hart).is_empty(),
                    _ => true,
                };
                let pos = s.machine.position();
                if held && pos < end {
                    last = Some(pos);
                }
                false
            };
            self.replay(end, true, Some(&mut record))?;
            if let Some(pos) = last {
                // Again from the snapshot, to the hit itself: the machine stops there as it
                // did, ready to resume past it.
                self.restore(snap);
                let mut stop_at = |s: &mut Session, _: Stop| s.machine.position() == pos;
                let stop = self.replay(end, true, Some(&mut stop_at))?;
                let hart = match stop {
                    Stop::Breakpoint { hart } | Stop::Watchpoint { hart, .. } => {
                        self.hits = match stop {
                            Stop::Breakpoint { .. } => self.holding(hart),
                            _ => Vec::new(),
                        };
                        hart
                    }
                    _ => 0,
                };
                return Ok(Reversed::At { hart, stop });
            }
            if from == 0 || snap == 0 {
                self.restore(0);
                return Ok(Reversed::Start);
            }
            end = from;
        }
    }
}

impl Registry {
    /// Empties the machine's lists (the registry itself stays as it is).
    pub(crate) fn sync_empty(&self, m: &mut machine::Machine) {
        Registry::default().sync(m);
    }
}
