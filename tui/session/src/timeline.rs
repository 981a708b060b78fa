//! The timeline: going back in time on a deterministic machine.
//!
//! A position is `Machine::position`: instructions attempted by all harts (retired or
//! trapping). The machine is a pure function of its inputs, so the session needs only
//! - snapshots at intervals of positions (`Machine::snapshot`, RAM pages shared between
//!   them), the first at boot, thinned so that at most [`Timeline::max`] are kept;
//! - the events that are not a function of the machine, with the position at which they
//!   happened: console input typed through the session, datagrams from the host (with the
//!   net lab's network), and a debugger's steps of one hart outside the round-robin
//!   schedule (`stepi`, gdb's scheduler-locked runs);
//!
//! to reach any position of this run again: restore the last snapshot at or before it and
//! run forward, replaying the logged events at their positions. Breakpoints do not stop
//! such a replay (the registry is set aside), and the console output, system calls and
//! datagrams for the host it produces again are dropped (the front ends have them).
//!
//! The present is the furthest position reached. Running forward in the past follows the
//! logged history (the events are replayed, breakpoints stop as usual) up to the present,
//! then runs live. Typing other input, stepping another way or changing the machine from the
//! debugger in the past makes a new future: [`Session::diverge`] drops the snapshots and
//! events after the current position. A cursor says which logged events the machine's
//! current state already contains; each snapshot keeps the cursor of its instant.
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

/// What happened to the machine that running it does not reproduce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Console input typed through the session.
    Input(Vec<u8>),
    /// One instruction of this hart, outside the schedule (`Machine::step_hart`).
    Step(usize),
    /// A UDP datagram from the host for the guest (`Machine::deliver_datagram`).
    Datagram(machine::net::slirp::Datagram),
    /// This hart run alone for this many attempts (`Machine::run_hart`).
    RunHart(usize, u64),
}

/// Where an event happened: the machine's position, and what every run had spent by then
/// (`Machine::elapsed`: several states share a position while the harts idle; that tells
/// them apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    pub pos: u64,
    pub elapsed: u64,
}

/// Snapshots and logged events of one run (see the module essay).
#[derive(Default)]
pub struct Timeline {
    /// On: snapshots are taken and reverse operations work.
    pub(crate) on: bool,
    /// Ascending by position; the first is the boot state. Each with the cursor at its
    /// instant.
    snapshots: Vec<(Snapshot, usize)>,
    /// The snapshot the machine's RAM dirty flags are relative to (see
    /// `machine/src/machine/snapshot.rs`).
    base: Option<usize>,
    /// The events, in the order they happened, with where they happened.
    events: Vec<(Mark, Event)>,
    /// How many of `events` the machine's current state contains.
    cursor: usize,
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
        self.snapshots.iter().map(|(s, _)| s.position).collect()
    }

    /// Bytes of RAM pages the snapshots hold (shared pages counted once).
    pub fn snapshot_bytes(&self) -> usize {
        let mut prev: Option<&Snapshot> = None;
        let mut total = 0;
        for (s, _) in &self.snapshots {
            total += s.bytes_not_in(prev);
            prev = Some(s);
        }
        total
    }

    /// The furthest position reached.
    pub fn present(&self) -> u64 {
        self.present
    }

    /// Whether the timeline is on (snapshots taken, reverse operations possible).
    pub fn on(&self) -> bool {
        self.on
    }

    /// The events of the history the machine is on, up to its current state.
    pub fn history(&self) -> &[(Mark, Event)] {
        &self.events[..self.cursor]
    }

    /// The events ahead of the machine's state (its future on this history).
    pub fn events_ahead(&self) -> &[(Mark, Event)] {
        &self.events[self.cursor..]
    }

    /// Loads a recorded history ahead of the machine, which is at its start (after
    /// `Session::set_time_travel` at boot): running forward follows it up to `end`.
    pub(crate) fn load_history(&mut self, events: Vec<(Mark, Event)>, end: u64) {
        self.events = events;
        self.cursor = 0;
        self.present = end;
    }

    /// The last snapshot at or before `position`.
    fn at_or_before(&self, position: u64) -> Option<usize> {
        self.snapshots
            .iter()
            .rposition(|(s, _)| s.position <= position)
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
        let base = t.base.map(|b| &t.snapshots[b].0);
        let s = self.machine.snapshot(base);
        let entry = (s, t.cursor);
        // A snapshot at the position of the last (events in between moved no instruction)
        // replaces it: it is the later state.
        if t.snapshots
            .last()
            .is_some_and(|(l, _)| l.position == entry.0.position)
        {
            t.base = Some(t.snapshots.len() - 1);
            *t.snapshots.last_mut().expect("checked") = entry;
            return;
        }
        t.snapshots.push(entry);
        t.base = Some(t.snapshots.len() - 1);
        t.thin();
    }

    /// Whether the machine is behind the present, with logged history ahead of it.
    pub(crate) fn in_the_past(&self) -> bool {
        let t = &self.timeline;
        t.on && t.cursor < t.events.len()
    }

    /// Logs `event` at the current position, before it happens: following the history when
    /// it is the next logged event here, else making a new future.
    pub(crate) fn log_event(&mut self, event: Event) {
        let at = self.mark();
        self.log_event_at(at, event);
    }

    /// The machine's mark now.
    pub fn mark(&self) -> Mark {
        Mark {
            pos: self.machine.position(),
            elapsed: self.machine.elapsed(),
        }
    }

    pub(crate) fn log_event_at(&mut self, at: Mark, event: Event) {
        if !self.timeline.on {
            return;
        }
        let t = &self.timeline;
        if t.events.get(t.cursor) == Some(&(at, event.clone())) {
            self.timeline.cursor += 1;
            return;
        }
        self.diverge();
        let t = &mut self.timeline;
        t.events.push((at, event));
        t.cursor = t.events.len();
    }

    /// A run in the past: the logged events are replayed at their positions, breakpoints
    /// stop it as usual; it ends at the present at the latest (the next run is live).
    pub(crate) fn run_following_history(&mut self, budget: u64) -> Stop {
        let start = self.machine.position();
        let end = start.saturating_add(budget);
        loop {
            let now = self.machine.position();
            // As `Machine::run`, a run does not stop again where it starts.
            if now != start
                && let Some(stop) = self.stop_before_event(now)
            {
                return stop;
            }
            if let Some(stop) = self.apply_events_at(now) {
                return stop;
            }
            if self.machine.position() != now {
                continue; // a step moved the machine: look again where it is
            }
            let t = &self.timeline;
            let next = t
                .events
                .get(t.cursor)
                .map_or(t.present.max(now + 1), |(at, _)| at.pos);
            let goal = end.min(next);
            if goal <= now {
                return Stop::Budget;
            }
            match self.machine.run(goal - now) {
                Stop::Budget if self.machine.position() < end && self.in_the_past() => {}
                stop => return stop,
            }
        }
    }

    /// The breakpoint or watchpoint stop that a logged step at `now` passes over: the
    /// stepped hart's next instruction is at a breakpoint or triggers a watchpoint.
    fn stop_before_event(&self, now: u64) -> Option<Stop> {
        let t = &self.timeline;
        match t.events.get(t.cursor) {
            Some((at, Event::Step(h) | Event::RunHart(h, _))) if at.pos == now => {
                self.machine.pending_stop(*h)
            }
            _ => None,
        }
    }

    /// Replays the events logged at position `now` that the state does not contain yet.
    /// Some(stop) when one stopped the machine (a step that powered it off).
    fn apply_events_at(&mut self, now: u64) -> Option<Stop> {
        while let Some((at, event)) = self.timeline.events.get(self.timeline.cursor).cloned() {
            if at.pos != now {
                break;
            }
            // The event came after time passed with every hart waiting: let it pass here
            // too (no hart can execute meanwhile, or the history was not this one).
            let elapsed = self.machine.elapsed();
            if elapsed < at.elapsed {
                self.machine.run(at.elapsed - elapsed);
                if self.machine.position() != now {
                    return None;
                }
            }
            if let Event::Step(h) | Event::RunHart(h, _) = event
                && self.machine.hart_cap_reached()
                && self.machine.hart_cap().is_some_and(|(c, _)| c == h)
            {
                break; // a reverse step stops before the capped hart's next instruction
            }
            self.timeline.cursor += 1;
            let stop = match event {
                Event::Input(bytes) => {
                    self.machine.bus.uart.push_input(&bytes);
                    Stop::Budget
                }
                Event::Datagram(d) => {
                    self.machine.deliver_datagram(&d);
                    Stop::Budget
                }
                Event::Step(h) => self.machine.step_hart(h),
                Event::RunHart(h, n) => self.machine.run_hart_through(h, n),
            };
            if stop != Stop::Budget {
                return Some(stop);
            }
            if self.machine.position() != now {
                // A step moved the machine: later events are at later positions.
                return None;
            }
        }
        None
    }

    /// After a run: the present moves on, and a snapshot is due every `interval` positions.
    pub(crate) fn timeline_after_run(&mut self) {
        let pos = self.machine.position();
        let t = &mut self.timeline;
        if !t.on {
            return;
        }
        t.present = t.present.max(pos);
        let last = t.snapshots.last().map_or(0, |(s, _)| s.position);
        if pos >= last.saturating_add(t.interval) && pos >= t.present {
            self.take_snapshot();
        }
    }

    /// The machine was changed here in a way its history does not contain (input typed or
    /// state written in the past): what lay ahead is gone.
    pub fn diverge(&mut self) {
        let pos = self.machine.position();
        let t = &mut self.timeline;
        if !t.on || (pos >= t.present && t.cursor == t.events.len()) {
            return;
        }
        let cursor = t.cursor;
        // Snapshots that hold events about to be dropped go too.
        t.snapshots
            .retain(|(s, c)| s.position < pos || (s.position == pos && *c <= cursor));
        t.events.truncate(cursor);
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
        if !(now <= position && now >= t.snapshots[snap].0.position) {
            self.restore(snap);
        }
        self.replay(position, None).map(|_| ())
    }

    /// Goes to a mark of this run's history (`Session::mark` taken earlier): its position,
    /// then the idle time that had passed there as well, so input typed next follows the
    /// history rather than starting a new one.
    pub fn goto_mark(&mut self, mark: Mark) -> Result<(), String> {
        self.goto(mark.pos)?;
        let idle = self.idle_stops;
        self.machine.set_idle_stops(false);
        let mut result = Ok(());
        while self.machine.elapsed() < mark.elapsed {
            let stop = self.machine.run(mark.elapsed - self.machine.elapsed());
            if self.machine.position() != mark.pos || stop != Stop::Budget {
                result = Err(format!("position {} was not idle as recorded", mark.pos));
                break;
            }
        }
        self.machine.bus.uart.take_output();
        if let Some(net) = self.machine.net_mut() {
            net.forget_replayed();
        }
        self.machine.set_idle_stops(idle);
        result
    }

    fn restore(&mut self, i: usize) {
        let t = &mut self.timeline;
        let base = t.base.map(|b| &t.snapshots[b].0);
        self.machine.restore(&t.snapshots[i].0, base);
        t.base = Some(i);
        t.cursor = t.snapshots[i].1;
        // The tracer's calls in flight belong to the abandoned future.
        self.views.tracer.forget_pending();
        self.hits.clear();
    }

    /// Runs forward to `target` replaying the logged events (those at `target` stay ahead).
    /// With `armed`, breakpoints and watchpoints stop it and every hit before `target` is
    /// passed to the callback, which says whether the replay ends there; without, the
    /// registry is set aside. A hart cap (`Machine::set_hart_cap`) ends it too.
    fn replay(&mut self, target: u64, mut armed: Option<&mut OnHit<'_>>) -> Result<Stop, String> {
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
        let mut stuck = 0;
        let result = loop {
            let now = self.machine.position();
            if now >= target {
                break Ok(Stop::Budget);
            }
            // A debugger's step here came at a stop (gdb steps over the instruction of a
            // breakpoint or watchpoint hit): the armed replay sees that stop before the step.
            if let Some(f) = armed.as_mut()
                && let Some(stop) = self.stop_before_event(now)
                && f(self, stop)
            {
                break Ok(stop);
            }
            if let Some(stop) = self.apply_events_at(now) {
                break Err(format!(
                    "the guest stopped ({stop:?}) at position {now} during the replay"
                ));
            }
            if self.machine.position() != now {
                continue;
            }
            let t = &self.timeline;
            let next = t.events.get(t.cursor).map_or(u64::MAX, |(at, _)| at.pos);
            let cap_waits = self.machine.hart_cap_reached() && next == now;
            if cap_waits {
                break Ok(Stop::Budget); // the capped hart's next instruction is a step
            }
            let goal = target.min(next);
            let stop = self.machine.run((goal - now).min(SLICE));
            if tracing {
                let _ = self.views.after_run(&mut self.machine, stop);
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
                // Every hart waits with no timer to wake one, and no event comes here.
                Stop::Idle if self.machine.position() == now => {
                    stuck += 1;
                    if stuck > 3 {
                        break Err(format!(
                            "the replay stalled at position {now}: every hart waits"
                        ));
                    }
                }
                // No progress on a Budget stop: time skipped while every hart waits is paid
                // from the run's budget; the next run goes on skipping.
                _ => stuck = 0,
            }
        };
        // What the replay printed, traced and sent again is not news.
        self.machine.bus.uart.take_output();
        if let Some(net) = self.machine.net_mut() {
            net.forget_replayed();
        }
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
        self.go_to_hart_attempt(h, attempts - 1)?;
        Ok(Reversed::At {
            hart: h,
            stop: Stop::Budget,
        })
    }

    /// Puts the machine where hart `h` has made `want` attempts and is about to make the
    /// next: back through a snapshot, or forward from here along the history.
    fn go_to_hart_attempt(&mut self, h: usize, want: u64) -> Result<(), String> {
        let now = self.machine.position();
        let present = self.timeline.present.max(now);
        if self.machine.harts[h].cycles() > want {
            let t = &self.timeline;
            let snap = t
                .snapshots
                .iter()
                .rposition(|(s, _)| s.position < now && s.hart_attempts(h) <= want)
                .ok_or("no snapshot before that instruction")?;
            self.restore(snap);
        }
        // Run with hart h capped at `want` attempts: the machine stops as it is about to
        // make the next one.
        self.machine.set_hart_cap(Some((h, want)));
        let r = self.replay(present, None);
        self.machine.set_hart_cap(None);
        r?;
        if self.machine.harts[h].cycles() != want {
            return Err("the replay did not reach that instruction".into());
        }
        Ok(())
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
                .rposition(|(s, _)| s.position < end)
            else {
                let first = self
                    .timeline
                    .snapshots
                    .first()
                    .map_or(0, |(s, _)| s.position);
                self.goto(first)?;
                return Ok(Reversed::Start);
            };
            let from = self.timeline.snapshots[snap].0.position;
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
            self.replay(end, Some(&mut record))?;
            if let Some(pos) = last {
                // Again from the snapshot, to the hit itself: the machine stops there as it
                // did, ready to resume past it.
                self.restore(snap);
                let mut stop_at = |s: &mut Session, _: Stop| s.machine.position() == pos;
                let stop = self.replay(end, Some(&mut stop_at))?;
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

/// Most instructions a reverse step by line, over a call or out of a function goes back.
const REVERSE_LIMIT: usize = 2_000;

impl Session {
    /// Goes back by source line (`Line`: to the start of the previous line executed, into
    /// calls), over calls (`Over`: calls made in between are gone through whole), or out of
    /// the function (`Finish`: to the call that entered it). `Instruction` is
    /// [`Session::reverse_step`].
    pub fn reverse(&mut self, h: usize, kind: crate::StepKind) -> Result<Reversed, String> {
        use crate::StepKind::*;
        if kind == Instruction {
            return self.reverse_step(h);
        }
        let func = |s: &Session| {
            let (pc, user, name) = s.pc_context(h);
            s.views
                .syms
                .for_pc(pc, user, name.as_deref())
                .and_then(|syms| syms.symbol_at(pc))
                .map(|(sym, _)| sym.addr)
        };
        let start_line = self.line_of(h);
        let start_func = func(self);
        let start_sp = self.machine.harts[h].x[2];
        // Back in another function: a callee (its frame is below ours, or it is at its
        // `ret`, where it has given the frame back), or the caller that called us.
        let at_ret = |s: &Session| {
            let hart = &s.machine.harts[h];
            let mut insn = [0u8; 4];
            let read = crate::xv6::read_virt(&s.machine, hart.csr.satp, hart.pc, &mut insn);
            let word = u32::from_le_bytes(insn);
            // `ret` is `jalr x0, 0(ra)`; compressed, `c.jr ra` (unprivileged spec §2.5, §16.4).
            read && (word == 0x0000_8067 || word & 0xffff == 0x8082)
        };
        let in_callee = |s: &Session| s.machine.harts[h].x[2] < start_sp || at_ret(s);
        if kind == Finish && start_func.is_none() {
            return Err("reverse-finish: no symbol around the pc".into());
        }
        let mut target_line = None;
        let attempts = |s: &Session| s.machine.harts[h].cycles();
        let mut before = attempts(self);
        for _ in 0..REVERSE_LIMIT {
            match self.reverse_step(h)? {
                Reversed::Start => return Ok(Reversed::Start),
                Reversed::At { .. } => {}
            }
            // Back at a callee's `ret`: the call that made it is at its return address less
            // one instruction; go back to that call at once rather than through the callee.
            if kind != Line && func(self) != start_func && at_ret(self) {
                self.back_to_call(h)?;
            }
            let (line, f) = (self.line_of(h), func(self));
            match kind {
                Finish => {
                    if f != start_func && !in_callee(self) {
                        return Ok(Reversed::At {
                            hart: h,
                            stop: Stop::Budget,
                        });
                    }
                }
                Line | Over => {
                    if kind == Over && f != start_func {
                        if in_callee(self) {
                            // A call made from this line or the one before: through it.
                            before = attempts(self);
                            continue;
                        }
                        // Out to the caller: reverse-next stops at the call.
                        return Ok(Reversed::At {
                            hart: h,
                            stop: Stop::Budget,
                        });
                    }
                    match (&target_line, &line) {
                        (None, Some(l)) if Some(l) != start_line.as_ref() => {
                            target_line = line.clone();
                        }
                        (Some(t), l) if l.as_ref() != Some(t) => {
                            // One too far: the previous line began one instruction later.
                            self.go_to_hart_attempt(h, before)?;
                            return Ok(Reversed::At {
                                hart: h,
                                stop: Stop::Budget,
                            });
                        }
                        _ => {}
                    }
                }
                Instruction => unreachable!("handled above"),
            }
            before = attempts(self);
        }
        Err(format!(
            "no earlier line within {REVERSE_LIMIT} instructions; stopped there"
        ))
    }
}

impl Session {
    /// At a callee's `ret` on hart `h`: back to the last execution of the call that
    /// returns to `ra` (4 or 2 bytes before it) on this hart.
    fn back_to_call(&mut self, h: usize) -> Result<(), String> {
        let ret = self.machine.harts[h].x[1];
        let saved = std::mem::take(&mut self.registry);
        for call in [ret.wrapping_sub(4), ret.wrapping_sub(2)] {
            self.registry.add(crate::breakpoints::Breakpoint {
                owner: crate::breakpoints::Owner::Temp,
                addr: call,
                label: format!("call at {call:#x}"),
                cond: Some(crate::breakpoints::Cond::Hart(h)),
            });
        }
        self.registry.sync(&mut self.machine);
        let r = self.reverse_continue();
        self.registry = saved;
        self.registry.sync(&mut self.machine);
        self.hits.clear();
        match r? {
            Reversed::At { hart, .. } if hart == h => Ok(()),
            _ => Err(format!("no call returning to {ret:#x} before here")),
        }
    }
}

/// What `:when` asks about: the last write to it before the current position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WhenSpec {
    /// Bytes at a virtual address (in whatever address space the writer runs).
    Addr(u64, u64),
    /// The leaf PTE mapping virtual address VA in process PID's page table.
    Pte { pid: i64, va: u64 },
    /// Process PID's file descriptor slot N (`ofile[N]`).
    Fd { pid: i64, n: usize },
}

impl Session {
    /// Goes back to the instruction that last wrote what `spec` names (a reverse-continue
    /// with only a write watchpoint on it); the address watched comes back too.
    pub fn when_written(&mut self, spec: &WhenSpec) -> Result<(Reversed, u64), String> {
        let (addr, len) = match spec {
            WhenSpec::Addr(a, n) => (*a, *n),
            WhenSpec::Pte { pid, va } => {
                let p = self
                    .proc_by(&pid.to_string())
                    .ok_or(format!("no process {pid}"))?;
                let root = p
                    .pagetable
                    .ok_or(format!("process {pid} has no page table"))?;
                let slot = crate::xv6::pte_address(&self.machine, root, *va)
                    .ok_or(format!("{va:#x} is not mapped in process {pid}"))?;
                (slot, 8)
            }
            WhenSpec::Fd { pid, n } => {
                let p = self
                    .proc_by(&pid.to_string())
                    .ok_or(format!("no process {pid}"))?;
                let slot = p
                    .ofile_slots
                    .get(*n)
                    .copied()
                    .filter(|a| *a != 0)
                    .ok_or(format!("process {pid} has no fd slot {n}"))?;
                (slot, 8)
            }
        };
        let saved = std::mem::take(&mut self.registry);
        self.registry.add_watch(
            crate::breakpoints::Owner::Temp,
            machine::cpu::Watchpoint {
                addr,
                len: len.max(1),
                kind: machine::cpu::WatchKind::Write,
            },
        );
        self.registry.sync(&mut self.machine);
        let r = self.reverse_continue();
        self.registry = saved;
        self.registry.sync(&mut self.machine);
        r.map(|r| (r, addr))
    }
}

impl Registry {
    /// Empties the machine's lists (the registry itself stays as it is).
    pub(crate) fn sync_empty(&self, m: &mut machine::Machine) {
        Registry::default().sync(m);
    }
}
