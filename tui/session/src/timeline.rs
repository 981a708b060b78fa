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
/// Bytes of RAM pages the snapshots may hold (older ones are thinned first; the boot
/// snapshot and the two newest always stay).
pub const MAX_SNAPSHOT_BYTES: usize = 1 << 30;
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
    /// A debugger wrote a register of a hart.
    WriteReg { hart: usize, reg: Reg, value: u64 },
    /// A debugger wrote bytes to physical memory.
    WritePhys { addr: u64, bytes: Vec<u8> },
}

/// A hart register a debugger can write (gdb's view of a hart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    X(u8),
    Pc,
    Csr(u16),
    /// The privilege mode: 0 user, 1 supervisor, 3 machine (gdb's `priv`).
    Priv,
}

/// Writes `value` to `reg` of `hart`; false when the register does not exist or refuses
/// the value.
pub fn write_reg(hart: &mut machine::cpu::Hart, reg: Reg, value: u64) -> bool {
    use machine::cpu::Mode;
    match reg {
        Reg::X(0) => true,
        Reg::X(n) => match hart.x.get_mut(n as usize) {
            Some(r) => {
                *r = value;
                true
            }
            None => false,
        },
        Reg::Pc => {
            hart.pc = value;
            true
        }
        Reg::Csr(n) => hart.csr_write(n, value),
        // `run` recomputes the hart's translation keys from `mode` on entry, so a debugger
        // may switch modes between runs (QEMU allows it too); 2 is reserved.
        Reg::Priv => {
            hart.mode = match value {
                0 => Mode::User,
                1 => Mode::Supervisor,
                3 => Mode::Machine,
                _ => return false,
            };
            true
        }
    }
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
    /// The furthest position reached, and the elapsed time of the furthest state there.
    present: u64,
    present_elapsed: u64,
    /// Positions between snapshots, the most snapshots kept, and the most bytes of RAM
    /// pages they hold.
    pub interval: u64,
    pub max: usize,
    pub max_bytes: usize,
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
            max_bytes: MAX_SNAPSHOT_BYTES,
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
        self.present_elapsed = 0;
    }

    /// The last snapshot from which the first state at `position` can be reached: before
    /// it (a snapshot at `position` itself may be a later state there, after idle time),
    /// or the boot snapshot for 0.
    fn at_or_before(&self, position: u64) -> Option<usize> {
        self.snapshots
            .iter()
            .rposition(|(s, _)| s.position < position || s.position == 0)
    }

    /// The last snapshot at or before `mark` (positions and elapsed time both).
    fn before_mark(&self, mark: Mark) -> Option<usize> {
        self.snapshots
            .iter()
            .rposition(|(s, _)| s.position <= mark.pos && s.elapsed() <= mark.elapsed)
    }

    /// The present: the furthest state reached (its position and elapsed time).
    pub fn present_mark(&self) -> Mark {
        Mark {
            pos: self.present,
            elapsed: self.present_elapsed,
        }
    }

    /// Drops snapshots so that at most `max` stay (every other one of the older half), then
    /// so that they hold at most `max_bytes` (the one whose pages no neighbour shares, the
    /// most of them, first), keeping the boot snapshot, the newest and the base. Pages
    /// written once since boot are held by whichever snapshot follows: when only such
    /// pages remain, the limit cannot be met and the snapshots stay.
    fn thin(&mut self) {
        while self.snapshots.len() > self.max.max(3) {
            let n = self.snapshots.len();
            let mut keep = vec![true; n];
            for (i, k) in keep.iter_mut().enumerate().take(n / 2).skip(1) {
                *k = i % 2 == 0 || Some(i) == self.base;
            }
            self.drop_snapshots(&keep);
            if self.snapshots.len() == n {
                break;
            }
        }
        let total = self.snapshot_bytes();
        if total > self.max_bytes
            && let Some(keep) = self.fit_bytes(total)
        {
            self.drop_snapshots(&keep);
        }
    }

    /// Which snapshots to keep so that they hold at most `max_bytes` (from `total` now),
    /// dropping first the one that frees the most; None when no choice gets there.
    fn fit_bytes(&self, mut total: usize) -> Option<Vec<bool>> {
        let s = &self.snapshots;
        let n = s.len();
        let mut alive: Vec<usize> = (0..n).collect();
        let freed = |alive: &[usize], k: usize| {
            let at = |j: usize| &s[alive[j]].0;
            at(k).bytes_only_in(Some(at(k - 1)), Some(at(k + 1)))
        };
        // freed[k]: what dropping alive[k] frees (the first and last are never dropped).
        let mut frees: Vec<usize> = (0..n)
            .map(|k| {
                if k == 0 || k == n - 1 || Some(k) == self.base {
                    0
                } else {
                    freed(&alive, k)
                }
            })
            .collect();
        while total > self.max_bytes {
            let (k, most) = frees
                .iter()
                .enumerate()
                .max_by_key(|&(k, f)| (*f, std::cmp::Reverse(k)))
                .map(|(k, f)| (k, *f))?;
            if most == 0 {
                return None;
            }
            total -= most;
            alive.remove(k);
            frees.remove(k);
            for j in [k - 1, k] {
                if j > 0 && j < alive.len() - 1 && Some(alive[j]) != self.base {
                    frees[j] = freed(&alive, j);
                }
            }
        }
        let mut keep = vec![false; n];
        for i in alive {
            keep[i] = true;
        }
        Some(keep)
    }

    /// Drops the snapshots not kept; the base (kept) keeps its place.
    fn drop_snapshots(&mut self, keep: &[bool]) {
        let mut i = 0;
        self.snapshots.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        // The base's new index: the kept ones before it.
        self.base = self.base.map(|b| keep[..b].iter().filter(|k| **k).count());
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
        self.noted.clear();
        if on {
            t.on = true;
            self.take_snapshot();
            crate::inspect::strace::Tracer::enable(&mut self.machine);
        } else if !self.views.tracing() {
            crate::inspect::strace::Tracer::disable(&mut self.machine);
        }
    }

    /// Positions between snapshots, the most snapshots kept and the most bytes they hold
    /// (defaults [`INTERVAL`], [`MAX_SNAPSHOTS`], [`MAX_SNAPSHOT_BYTES`]); from the next
    /// snapshot on.
    pub fn set_snapshot_limits(&mut self, interval: u64, max: usize, max_bytes: usize) {
        let t = &mut self.timeline;
        (t.interval, t.max, t.max_bytes) = (interval.max(1), max, max_bytes);
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
            if let Some(stop) = self.apply_events_at(now, None) {
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
            match self.machine.run(self.budget_to(goal)) {
                Stop::Budget if self.machine.position() < end && self.in_the_past() => {}
                stop => return stop,
            }
        }
    }

    /// The run budget that takes the machine to position `goal` (after now), or exactly to
    /// the next logged event when that is at `goal`: to its mark, counted in `elapsed`
    /// (attempts and skipped idle time), not in positions. Several states share a position
    /// while every hart waits (time skips, nothing executes), and the event happened in one
    /// of them: console input typed before an idle period's skip must be replayed before
    /// it, or the guest sees it after the timer deadline instead.
    fn budget_to(&self, goal: u64) -> u64 {
        let now = self.machine.position();
        let t = &self.timeline;
        match t.events.get(t.cursor) {
            Some((at, _)) if at.pos == goal => at
                .elapsed
                .saturating_sub(self.machine.elapsed())
                .max(goal - now),
            _ => goal - now,
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
    fn apply_events_at(&mut self, now: u64, until: Option<u64>) -> Option<Stop> {
        while let Some((at, event)) = self.timeline.events.get(self.timeline.cursor).cloned() {
            if at.pos != now || until.is_some_and(|u| at.elapsed >= u) {
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
                Event::WriteReg { hart, reg, value } => {
                    if let Some(h) = self.machine.harts.get_mut(hart) {
                        write_reg(h, reg, value);
                    }
                    Stop::Budget
                }
                Event::WritePhys { addr, bytes } => {
                    self.machine.write_phys(addr, &bytes);
                    Stop::Budget
                }
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
        let elapsed = self.machine.elapsed();
        if (pos, elapsed) > (t.present, t.present_elapsed) {
            (t.present, t.present_elapsed) = (pos, elapsed);
        }
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
        self.noted.truncate_after(pos);
        let t = &mut self.timeline;
        if t.base.is_some_and(|b| b >= t.snapshots.len()) {
            // The machine's base was ahead: its dirty flags mean nothing now. A new
            // snapshot here starts a fresh chain.
            t.base = None;
            self.take_snapshot();
        }
        self.timeline.present = pos;
        self.timeline.present_elapsed = self.machine.elapsed();
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

    /// Goes to a mark of this run's history (`Session::mark` taken earlier): its position
    /// and the idle time that had passed there, replaying the events logged before it, so
    /// that input typed next follows the history rather than starting a new one.
    pub fn goto_mark(&mut self, mark: Mark) -> Result<(), String> {
        let t = &self.timeline;
        if !t.on {
            return Err("time travel is off".into());
        }
        if (mark.pos, mark.elapsed) > (t.present, t.present_elapsed) {
            return Err(format!("position {} is beyond the present", mark.pos));
        }
        let (now, el) = (self.machine.position(), self.machine.elapsed());
        let snap = t.before_mark(mark).ok_or("no snapshot that early")?;
        let s = &t.snapshots[snap].0;
        if !(el <= mark.elapsed && now <= mark.pos && el >= s.elapsed()) {
            self.restore(snap);
        }
        self.replay_to(mark.pos, Some(mark.elapsed), None)?;
        if self.mark() != mark {
            return Err(format!(
                "position {} was not reached as recorded (at {} after {})",
                mark.pos,
                self.position(),
                self.machine.elapsed()
            ));
        }
        Ok(())
    }

    /// Back to the present (the furthest state reached).
    pub fn goto_present(&mut self) -> Result<(), String> {
        let present = self.timeline.present_mark();
        if self.mark() == present {
            return Ok(());
        }
        if present.elapsed == 0 {
            // A loaded recording: its end is known by position only.
            return self.goto(present.pos);
        }
        self.goto_mark(present)
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
    fn replay(&mut self, target: u64, armed: Option<&mut OnHit<'_>>) -> Result<Stop, String> {
        self.replay_to(target, None, armed)
    }

    /// [`Session::replay`] to the first state at `target`, or with `until` to the state at
    /// `target` after that much elapsed time (a mark: events logged there before it are
    /// replayed, those after it stay ahead).
    fn replay_to(
        &mut self,
        target: u64,
        until: Option<u64>,
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
        let mut stuck = 0;
        let result = loop {
            let now = self.machine.position();
            let elapsed = self.machine.elapsed();
            if now >= target && until.is_none_or(|u| elapsed >= u) {
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
            if let Some(stop) = self.apply_events_at(now, until) {
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
            let budget = match until {
                // At the mark's position: the rest of its time (no event comes before it).
                Some(u) if now >= target => u.saturating_sub(self.machine.elapsed()).max(1),
                _ if goal <= now => break Ok(Stop::Budget),
                Some(u) if goal == target => self
                    .budget_to(goal)
                    .min(u.saturating_sub(self.machine.elapsed()).max(1)),
                _ => self.budget_to(goal),
            };
            let stop = self.machine.run(budget.min(SLICE));
            self.note_landmarks();
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
