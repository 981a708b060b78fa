//! Snapshots of the whole machine, for going back in time.
//!
//! A [`Snapshot`] holds everything that decides what the machine does next: every hart (its
//! registers, CSRs, reservation, TLBs, spin detector), every device (the UART's FIFOs and
//! its host input queue, the PLIC, the CLINT, the virtio queue state and the disk's bytes),
//! the round-robin schedule and RAM. Restoring one and running on retires the same
//! instructions in the same order as the first time, given the same host input at the same
//! instruction counts (the session logs those).
//!
//! RAM is kept page by page, shared between snapshots: a page is an `Arc`, and a snapshot
//! taken on top of a base copies only the pages written since that base (the RAM's dirty
//! flags), so a snapshot costs memory in proportion to what the guest wrote in between.
//! Invariant: the RAM's dirty flags are relative to the machine's *base* — the snapshot last
//! taken or restored — which the caller passes back in ([`Machine::snapshot`] and
//! [`Machine::restore`] say how).
//!
//! Not in a snapshot: the debugger's breakpoints and watchpoints (they belong to whoever set
//! them, now), console output already produced (it was taken by the host), the decode cache
//! (a pure function of RAM: flushed on restore) and the harts' event logs (the tracer's).

use super::Machine;
use crate::cpu::Hart;
use crate::devices::clint::Clint;
use crate::devices::finisher::Finisher;
use crate::devices::plic::Plic;
use crate::devices::uart::Uart;
use crate::devices::virtio_blk::VirtioBlk;
use crate::ram::PAGE_SIZE;
use std::sync::Arc;

/// One RAM page's bytes, shared by the snapshots in which it did not change.
type Page = Arc<[u8]>;

/// The machine at one instant (see the module essay).
#[derive(Clone)]
pub struct Snapshot {
    /// Instructions retired by all harts at this instant.
    pub instret: u64,
    /// The machine's position ([`Machine::position`]) at this instant.
    pub position: u64,
    /// The machine's cycle counter at this instant.
    pub cycle: u64,
    harts: Vec<Hart>,
    clint: Clint,
    plic: Plic,
    uart: Uart,
    virtio: VirtioBlk,
    finisher: Finisher,
    net: Option<Box<crate::net::Net>>,
    tohost: Option<u64>,
    now: u64,
    schedule: Schedule,
    pages: Vec<Page>,
}

/// The round-robin schedule's position and the run loop's resume state.
#[derive(Clone)]
struct Schedule {
    round_start: u64,
    hart_in_round: usize,
    progress: Vec<u64>,
    backoff: Vec<u32>,
    sit_out: Vec<u32>,
    turn_start: Vec<u64>,
    rng: u64,
    watch_resume: Option<(usize, u64)>,
    bp_resume: Option<(usize, u64)>,
    idle_reported: bool,
    idle_pending: bool,
    elapsed: u64,
}

impl Snapshot {
    /// What every run had spent at this instant ([`Machine::elapsed`]).
    pub fn elapsed(&self) -> u64 {
        self.schedule.elapsed
    }

    /// Instructions hart `h` had attempted at this instant (its `cycles`).
    pub fn hart_attempts(&self, h: usize) -> u64 {
        self.harts.get(h).map_or(0, Hart::cycles)
    }

    /// RAM pages this snapshot holds that `other` does not share (its own memory cost).
    pub fn pages_not_in(&self, other: Option<&Snapshot>) -> usize {
        match other {
            None => self.pages.len(),
            Some(o) => self
                .pages
                .iter()
                .zip(&o.pages)
                .filter(|(a, b)| !Arc::ptr_eq(a, b))
                .count(),
        }
    }

    /// Bytes of RAM pages this snapshot shares with neither of its neighbours on a timeline:
    /// what dropping it frees.
    pub fn bytes_only_in(&self, prev: Option<&Snapshot>, next: Option<&Snapshot>) -> usize {
        let shared = |o: Option<&Snapshot>, i: usize| {
            o.and_then(|o| o.pages.get(i))
                .is_some_and(|p| Arc::ptr_eq(p, &self.pages[i]))
        };
        let only = (0..self.pages.len())
            .filter(|&i| !shared(prev, i) && !shared(next, i))
            .count();
        only * PAGE_SIZE
    }

    /// Bytes of RAM pages held by this snapshot and not shared with `other`.
    pub fn bytes_not_in(&self, other: Option<&Snapshot>) -> usize {
        self.pages_not_in(other) * PAGE_SIZE
    }
}

impl Machine {
    /// Takes a snapshot. `base` must be the machine's base (the snapshot last taken or
    /// restored, None for the first): pages not written since are shared with it. The new
    /// snapshot becomes the base.
    pub fn snapshot(&mut self, base: Option<&Snapshot>) -> Snapshot {
        // Every field of the machine is either in a snapshot or named here as not part of
        // one: a new field does not compile until it is placed.
        let Machine {
            harts: _,
            bus: _,
            round_start: _,
            hart_in_round: _,
            progress: _,
            backoff: _,
            sit_out: _,
            turn_start: _,
            rng: _,
            watch_resume: _,
            bp_resume: _,
            idle_reported: _,
            idle_pending: _,
            elapsed: _,
            // Not machine state: fixed at boot, the debugger's, the host's pacing choice,
            // a replay's stopping rule.
            config: _,
            entry: _,
            breakpoints: _,
            watchpoints: _,
            idle_stops: _,
            hart_cap: _,
        } = self;
        let ram = &mut self.bus.ram;
        let dirty = ram.take_dirty();
        let zero: Page = Arc::from(vec![0u8; PAGE_SIZE]);
        let copy = |p: usize| -> Page {
            let bytes = ram.page(p);
            if bytes.iter().all(|b| *b == 0) {
                zero.clone()
            } else {
                Arc::from(bytes)
            }
        };
        let pages: Vec<Page> = match base {
            Some(b) if b.pages.len() == ram.pages() => {
                let mut pages = b.pages.clone();
                for p in dirty {
                    pages[p] = copy(p);
                }
                pages
            }
            _ => (0..ram.pages()).map(copy).collect(),
        };
        let mut harts = self.harts.clone();
        for h in &mut harts {
            if let Some(log) = h.events.as_mut() {
                log.clear();
            }
        }
        Snapshot {
            instret: self.instret(),
            position: self.position(),
            cycle: self.cycle(),
            harts,
            clint: self.bus.clint.clone(),
            plic: self.bus.plic.clone(),
            uart: self.bus.uart.clone(),
            virtio: self.bus.virtio.clone(),
            finisher: self.bus.finisher.clone(),
            net: self.bus.net.clone(),
            tohost: self.bus.tohost,
            now: self.bus.now,
            schedule: Schedule {
                round_start: self.round_start,
                hart_in_round: self.hart_in_round,
                progress: self.progress.clone(),
                backoff: self.backoff.clone(),
                sit_out: self.sit_out.clone(),
                turn_start: self.turn_start.clone(),
                rng: self.rng,
                watch_resume: self.watch_resume,
                bp_resume: self.bp_resume,
                idle_reported: self.idle_reported,
                idle_pending: self.idle_pending,
                elapsed: self.elapsed,
            },
            pages,
        }
    }

    /// Puts the machine back to `snap`. `base` must be the machine's base (see
    /// [`Machine::snapshot`]): pages it shares with `snap` and that were not written since are
    /// not copied. `snap` becomes the base. Breakpoints and watchpoints stay as they are now;
    /// console output not yet taken is dropped (it belongs to the abandoned future).
    pub fn restore(&mut self, snap: &Snapshot, base: Option<&Snapshot>) {
        let ram = &mut self.bus.ram;
        for (p, page) in snap.pages.iter().enumerate() {
            let same = base.is_some_and(|b| Arc::ptr_eq(&b.pages[p], page)) && !ram.is_dirty(p);
            if !same {
                ram.restore_page(p, page);
            }
        }
        ram.clear_flags();
        self.bus.icache.flush();
        let logging: Vec<bool> = self.harts.iter().map(|h| h.events.is_some()).collect();
        self.harts = snap.harts.clone();
        for (h, log) in self.harts.iter_mut().zip(logging) {
            h.forget_fetch();
            h.events = log.then(Vec::new);
            h.events_dropped = 0;
            h.set_watchpoints(&self.watchpoints);
        }
        self.bus.clint = snap.clint.clone();
        self.bus.plic = snap.plic.clone();
        self.bus.uart = snap.uart.clone();
        self.bus.uart.take_output();
        // The device's state as it was; the host's write sink stays (it is not the guest's).
        let sink = self.bus.virtio.take_write_sink();
        self.bus.virtio = snap.virtio.clone();
        if let Some(sink) = sink {
            self.bus.virtio.set_write_sink(sink);
        }
        self.bus.finisher = snap.finisher.clone();
        // The network as it was, less what belongs to the abandoned future (datagrams not yet
        // taken by the host) or to the host (whether frames are captured).
        let capture = self.bus.net.as_ref().is_some_and(|n| n.capturing());
        self.bus.net = snap.net.clone();
        if let Some(net) = self.bus.net.as_deref_mut() {
            net.take_datagrams();
            net.set_capture(capture);
        }
        self.bus.tohost = snap.tohost;
        self.bus.now = snap.now;
        self.bus.halt = None;
        let s = &snap.schedule;
        self.round_start = s.round_start;
        self.hart_in_round = s.hart_in_round;
        self.progress = s.progress.clone();
        self.backoff = s.backoff.clone();
        self.sit_out = s.sit_out.clone();
        self.turn_start = s.turn_start.clone();
        self.rng = s.rng;
        self.watch_resume = s.watch_resume;
        self.bp_resume = s.bp_resume;
        self.idle_reported = s.idle_reported;
        self.idle_pending = s.idle_pending;
        self.elapsed = s.elapsed;
    }
}

#[cfg(test)]
mod tests {
    use crate::cpu::encode::*;
    use crate::{Config, Image, Machine, Stop};

    /// Two harts that each add to a counter in RAM and store it, forever.
    fn counting() -> Machine {
        let code = [
            auipc(T0, 1),    // t0 = base + 0x1000
            li(A1, 0),       //
            addi(A1, A1, 1), // loop: a1 += 1
            sd(A1, T0, 0),   // *(t0) = a1
            jal(ZERO, -8),   // j loop
        ];
        let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
        let config = Config {
            harts: 2,
            quantum: 1000,
            ..Config::default()
        };
        Machine::new(config, Image::Raw(&bytes), None).expect("a raw image loads")
    }

    fn state(m: &Machine) -> (u64, Vec<u64>, Vec<[u64; 32]>, u64) {
        let mut b = [0u8; 8];
        assert!(m.read_phys(crate::board::RAM_BASE + 0x1000, &mut b));
        (
            m.instret(),
            m.harts.iter().map(|h| h.pc).collect(),
            m.harts.iter().map(|h| h.x).collect(),
            u64::from_le_bytes(b),
        )
    }

    #[test]
    fn a_restored_snapshot_runs_the_same_instructions_again() {
        let mut m = counting();
        assert_eq!(m.run(12_345), Stop::Budget);
        let s1 = m.snapshot(None);
        assert_eq!(s1.instret, m.instret());
        assert_eq!(m.run(50_001), Stop::Budget);
        let s2 = m.snapshot(Some(&s1));
        assert_eq!(
            s2.pages_not_in(Some(&s1)),
            1,
            "only the counter's page was written"
        );
        assert_eq!(m.run(7_777), Stop::Budget);
        let later = state(&m);

        // Back to s1 (base s2), forward by the same budgets: the same state as the first time.
        m.restore(&s1, Some(&s2));
        assert_eq!(m.instret(), s1.instret);
        assert_eq!(m.run(50_001), Stop::Budget);
        assert_eq!(state(&m).0, s2.instret);
        assert_eq!(m.run(7_777), Stop::Budget);
        assert_eq!(state(&m), later);

        // Back to s2 with s1 as the base: the written page comes back too.
        m.restore(&s2, Some(&s1));
        m.restore(&s1, Some(&s2));
        assert_eq!(m.run(50_001 + 7_777), Stop::Budget);
        assert_eq!(state(&m), later);
    }
}
