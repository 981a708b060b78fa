//! The machine: harts plus bus, and the one run loop everybody drives (CLI, gdb, TUI).
//!
//! Scheduling is deterministic. Time is divided into rounds of `quantum` cycles; in each round
//! every hart that is not waiting in `wfi` runs up to `quantum` instructions, in hart order,
//! all starting at the round's first cycle as if they ran in parallel. A round's position is
//! part of the machine state (`hart_in_round`, `progress`), so stopping and resuming — at a
//! breakpoint, at the end of a `run` budget, for host input — never changes the schedule:
//! the same kernel, disk and input (at the same cycles) give the same instruction trace.
//!
//! When every hart waits, time skips to the earliest timer deadline; with no deadline and no
//! pending device interrupt the machine reports [`Stop::Idle`] and the host waits for input
//! ([`Machine::wake`] tells whether input could end the wait at all). Skipped time counts
//! against a `run`'s budget like executed instructions, so a run always returns after at
//! most `budget` cycles of work or waiting, however far away the deadline; a wait longer
//! than the budget is crossed over several runs with the schedule of one. A deadline at or
//! past [`NEVER`] cycles (about 2,900 years of guest time: `stimecmp = -1`, which xv6's
//! panic path writes) counts as no deadline at all.
//!
//! LR/SC: a reservation never survives a switch to another hart, so a store by another hart
//! can never slip between a hart's LR and SC (an SC may fail spuriously, which the ISA allows).

use crate::board::{self, CYCLES_PER_TICK, RAM_BASE};
use crate::bus::{Bus, Halt};
use crate::cpu::{ExitReason, Hart, WatchKind, Watchpoint};
use crate::devices::virtio_blk::VirtioBlk;
use crate::error::Error;
use crate::loader;
use crate::ram::Ram;

mod snapshot;
pub use snapshot::Snapshot;

/// Most rounds in a row that a spinning hart sits out (see `cpu::spin`).
const MAX_SIT_OUT: u32 = 8;

/// Timer deadlines at or past this cycle never arrive: the cycle counter would need 2^63
/// cycles (about 2,900 years of guest time) to get there. Keeping every reachable deadline
/// below it also keeps the cycle counter far from overflowing.
pub const NEVER: u64 = 1 << 63;

/// How to build a machine.
#[derive(Clone, Debug)]
pub struct Config {
    /// Number of harts (1..=8).
    pub harts: usize,
    /// RAM size in MiB.
    pub ram_mib: u64,
    /// virtio-mmio version 1 (legacy) instead of version 2.
    pub virtio_legacy: bool,
    /// Cycles each hart runs per round.
    pub quantum: u64,
    /// Contention mode (`--seed N`): each hart's turn in a round is a length drawn from this
    /// seed between 1 and `quantum` cycles (the hart runs the end of the round), and a hart
    /// spinning on a lock keeps its turn instead of yielding, so that harts interleave inside
    /// critical sections as parallel harts do. Deterministic for a given seed; None (the
    /// default) is the plain round-robin schedule.
    pub interleave: Option<u64>,
    /// Which tier executes guest code (see `cpu::jit`). Both give the same run.
    pub tier: Tier,
}

/// How guest code is executed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tier {
    /// The interpreter alone.
    Interp,
    /// Hot code translated to host code (the interpreter runs the rest); the interpreter
    /// alone on hosts the translator does not support.
    #[default]
    Jit,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            harts: board::DEFAULT_HARTS,
            ram_mib: board::DEFAULT_RAM_MIB,
            virtio_legacy: false,
            quantum: 10_000,
            interleave: None,
            tier: Tier::default(),
        }
    }
}

/// Why [`Machine::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The cycle budget ran out.
    Budget,
    /// A hart reached a breakpoint (not yet executed).
    Breakpoint { hart: usize },
    /// A hart's next instruction accesses watched memory at `addr` (not yet executed).
    Watchpoint {
        hart: usize,
        addr: u64,
        kind: WatchKind,
    },
    /// The guest powered off through the test finisher (code 0 is success).
    PowerOff { code: u32 },
    /// The guest asked for a reset through the test finisher.
    Reset,
    /// A bare-metal test wrote HTIF `tohost`: 1 is pass, `(code << 1) | 1` is failure `code`.
    Htif { value: u64 },
    /// Every hart waits: with idle stops on ([`Machine::set_idle_stops`]), at the start of
    /// every idle period; otherwise only when no timer deadline can end the wait, so that
    /// only host input could — or nothing at all ([`Machine::wake`] says which).
    Idle,
}

/// What can end a wait of every hart ([`Machine::wake`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// A timer deadline, at this machine cycle.
    Timer(u64),
    /// Only host input: a console byte (or, with the network, a datagram) arriving now would
    /// interrupt a waiting hart.
    Input,
    /// Nothing: no timer deadline, and host input would interrupt no hart (console input
    /// already waits unread, or the device, the PLIC or every hart's `mie` masks it). The
    /// guest halted.
    Never,
}

/// A guest kernel image, as the host read it from a file.
pub enum Image<'a> {
    /// An ELF file.
    Elf(&'a [u8]),
    /// A raw binary loaded at the start of RAM.
    Raw(&'a [u8]),
}

pub struct Machine {
    pub harts: Vec<Hart>,
    pub bus: Bus,
    config: Config,
    /// Cycle at which the current round started.
    round_start: u64,
    /// The hart whose turn it is in the current round.
    hart_in_round: usize,
    /// Cycles each hart has used in the current round.
    progress: Vec<u64>,
    /// Where each hart's turn starts in the round: 0, or in contention mode a drawn offset
    /// (its progress starts there).
    turn_start: Vec<u64>,
    /// Contention mode's generator state (see `draw_turns`).
    rng: u64,
    /// Rounds a hart that keeps spinning sits out: doubled on each consecutive yield up to
    /// `MAX_SIT_OUT`, cleared when it runs a whole quantum or waits in `wfi`.
    backoff: Vec<u32>,
    /// Rounds left before a hart that yielded runs again.
    sit_out: Vec<u32>,
    breakpoints: Vec<u64>,
    watchpoints: Vec<Watchpoint>,
    /// The hart and pc of the last watchpoint stop: the next `run` lets that access happen.
    watch_resume: Option<(usize, u64)>,
    /// The hart and pc where the last run reported a breakpoint, or where a debugger's step
    /// left a hart: the next `run` executes that instruction before breakpoints count.
    bp_resume: Option<(usize, u64)>,
    entry: u64,
    /// Whether an idle period is reported ([`Stop::Idle`]) before time skips over it.
    idle_stops: bool,
    /// The idle period now in progress was reported; the next `run` skips it.
    idle_reported: bool,
    /// Budget spent by every run so far: attempts plus cycles skipped while every hart
    /// waited (see [`Machine::elapsed`]).
    elapsed: u64,
    /// A hart's attempt count at which `run` stops, as the hart is about to make the next
    /// (a debugger going back one instruction replays up to there).
    hart_cap: Option<(usize, u64)>,
    /// A run returned at the start of a round in which every hart waited (an idle report,
    /// or a skip cut short by the budget): the next run takes up the idle check there
    /// rather than letting an empty round pass, so the schedule does not depend on where
    /// runs end.
    idle_pending: bool,
}

impl Machine {
    /// Builds a machine, loads `image` and attaches `disk` (raw bytes of a disk image).
    pub fn new(config: Config, image: Image, disk: Option<Vec<u8>>) -> Result<Self, Error> {
        if config.harts == 0 || config.harts > board::MAX_HARTS {
            return Err(Error::Config(format!(
                "{} harts (1 to {} supported)",
                config.harts,
                board::MAX_HARTS
            )));
        }
        if !(1..=2048).contains(&config.ram_mib) {
            return Err(Error::Config(format!(
                "{} MiB of RAM (1 to 2048 supported)",
                config.ram_mib
            )));
        }
        if config.quantum == 0 {
            return Err(Error::Config("quantum of 0 cycles".into()));
        }
        if let Some(d) = &disk {
            check_disk(d)?;
        }
        let mut ram = Ram::new(config.ram_mib << 20);
        let loaded = match image {
            Image::Elf(bytes) => loader::load_elf(&mut ram, bytes)?,
            Image::Raw(bytes) => loader::load_raw(&mut ram, bytes)?,
        };
        let mut bus = Bus::new(
            ram,
            config.harts,
            VirtioBlk::new(disk, config.virtio_legacy),
        );
        bus.tohost = loaded.tohost;
        // Contention mode keeps spinning harts spinning, as parallel ones would.
        let spins_yield = config.interleave.is_none();
        if config.tier == Tier::Jit {
            bus.jit = crate::cpu::jit::Jit::new().map(|mut j| {
                j.flag_polls = spins_yield;
                Box::new(j)
            });
        }
        let harts = (0..config.harts)
            .map(|id| {
                let mut h = Hart::new(id);
                h.lock_yield = spins_yield;
                // QEMU virt's reset stub (-bios none): a0 = mhartid, a1 = device tree address.
                h.pc = loaded.entry;
                h.x[10] = id as u64;
                h.x[11] = 0;
                h
            })
            .collect();
        let mut m = Machine {
            harts,
            bus,
            turn_start: vec![0; config.harts],
            rng: config.interleave.unwrap_or(0),
            progress: vec![0; config.harts],
            backoff: vec![0; config.harts],
            sit_out: vec![0; config.harts],
            config,
            round_start: 0,
            hart_in_round: 0,
            breakpoints: Vec::new(),
            watchpoints: Vec::new(),
            watch_resume: None,
            bp_resume: None,
            entry: loaded.entry,
            idle_stops: false,
            idle_reported: false,
            hart_cap: None,
            elapsed: 0,
            idle_pending: false,
        };
        m.draw_turns();
        Ok(m)
    }

    /// Contention mode: where each hart's turn starts in the new round (see
    /// [`Config::interleave`]); at 0 otherwise.
    fn draw_turns(&mut self) {
        if self.config.interleave.is_none() {
            return;
        }
        for h in 0..self.harts.len() {
            // splitmix64: a seeded, portable sequence.
            self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.rng;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            let len = 1 + z % self.config.quantum;
            self.turn_start[h] = self.config.quantum - len;
            self.progress[h] = self.progress[h].max(self.turn_start[h]);
        }
    }

    /// The configuration the machine was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Entry point of the loaded image.
    pub fn entry(&self) -> u64 {
        self.entry
    }

    /// The machine's cycle counter: the current round's start plus the current hart's progress.
    pub fn cycle(&self) -> u64 {
        self.round_start + self.progress.iter().copied().max().unwrap_or(0)
    }

    /// Guest time in `mtime` ticks (10 MHz).
    pub fn mtime(&self) -> u64 {
        self.cycle() / CYCLES_PER_TICK
    }

    /// The machine's position in its run: instructions attempted by all harts, retired or
    /// trapping (the sum of their cycle counters). Every run's budget counts these, so a
    /// machine run from the same state with the same input to the same position is in the
    /// same state; time skipped while all harts wait does not move it.
    pub fn position(&self) -> u64 {
        self.harts.iter().map(Hart::cycles).sum()
    }

    /// The round-robin schedule's state in words (round start, hart in round, progress,
    /// backoff, sit-out, idle check pending, bus time, which harts wait, mtime): for tests
    /// that compare two machines' schedules.
    pub fn schedule_summary(&self) -> String {
        format!(
            "rs {} hir {} prog {:?} bo {:?} so {:?} ip {} now {} waits {:?} mtime {}",
            self.round_start,
            self.hart_in_round,
            self.progress,
            self.backoff,
            self.sit_out,
            self.idle_pending,
            self.bus.now,
            self.harts
                .iter()
                .map(|h| h.is_waiting())
                .collect::<Vec<_>>(),
            self.bus.mtime()
        )
    }

    /// Everything every run has spent: attempts, cycles skipped while every hart waited,
    /// a debugger's steps. It tells apart the states that share a position while the harts
    /// idle: running the machine from the same state by the same amount gives the same
    /// state, however the runs are split.
    pub fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Instructions retired by all harts.
    pub fn instret(&self) -> u64 {
        self.harts.iter().map(Hart::instret).sum()
    }

    /// Breakpoints (virtual pc values, any hart).
    pub fn breakpoints(&self) -> &[u64] {
        &self.breakpoints
    }

    /// Adds a breakpoint at virtual address `pc`; returns false if it was already set.
    pub fn add_breakpoint(&mut self, pc: u64) -> bool {
        if self.breakpoints.contains(&pc) {
            return false;
        }
        self.breakpoints.push(pc);
        true
    }

    /// Removes the breakpoint at `pc`; returns false if there was none.
    pub fn remove_breakpoint(&mut self, pc: u64) -> bool {
        let before = self.breakpoints.len();
        self.breakpoints.retain(|&b| b != pc);
        before != self.breakpoints.len()
    }

    /// Data watchpoints (virtual addresses, any hart; see `cpu::watch`).
    pub fn watchpoints(&self) -> &[Watchpoint] {
        &self.watchpoints
    }

    /// Adds a watchpoint; returns false if the same one was already set. Accesses to pages
    /// without watched bytes keep their full speed.
    pub fn add_watchpoint(&mut self, w: Watchpoint) -> bool {
        if self.watchpoints.contains(&w) {
            return false;
        }
        self.watchpoints.push(w);
        self.sync_watchpoints();
        true
    }

    /// Removes a watchpoint; returns false if there was none.
    pub fn remove_watchpoint(&mut self, w: Watchpoint) -> bool {
        let before = self.watchpoints.len();
        self.watchpoints.retain(|x| *x != w);
        self.sync_watchpoints();
        before != self.watchpoints.len()
    }

    fn sync_watchpoints(&mut self) {
        for h in &mut self.harts {
            h.set_watchpoints(&self.watchpoints);
        }
    }

    /// Runs until `budget` cycles are spent, or something stops the machine. Each instruction
    /// a hart executes costs one cycle, and so does each cycle of guest time skipped while
    /// every hart waits: a run returns after at most `budget` of them (a round in which
    /// every hart waits although a deadline is due, which the timers never allow, costs at
    /// most the rest of the budget), so a far timer deadline cannot keep it from returning.
    pub fn run(&mut self, budget: u64) -> Stop {
        let mut spent = 0u64;
        let stop = self.run_spending(budget, &mut spent);
        self.elapsed += spent;
        stop
    }

    fn run_spending(&mut self, budget: u64, spent: &mut u64) -> Stop {
        let mut first_slice = true;
        loop {
            if let Some(stop) = self.take_halt() {
                return stop;
            }
            if self.idle_pending {
                self.idle_pending = false;
                if let Some(stop) = self.idle_round(budget, spent) {
                    return stop;
                }
            }
            if *spent >= budget {
                self.settle();
                return Stop::Budget;
            }
            let h = self.hart_in_round;
            let left_in_round = self.config.quantum.saturating_sub(self.progress[h]);
            if left_in_round > 0 && self.hart_runnable(h) {
                if self.progress[h] == self.turn_start[h] {
                    self.harts[h].new_turn();
                }
                let mut slice = left_in_round.min(budget - *spent);
                if let Some((capped, cap)) = self.hart_cap
                    && capped == h
                {
                    let left = cap.saturating_sub(self.harts[h].cycles());
                    if left == 0 {
                        return Stop::Budget;
                    }
                    slice = slice.min(left);
                }
                self.bus.now = self.round_start + self.progress[h];
                // A breakpoint at the pc where the previous run stopped (or a debugger's step
                // left the hart) must not stop it again: that one instruction runs alone, then
                // breakpoints count from the next one. Anywhere else — the start of any
                // slice, a run that ended on its budget right before one — a breakpoint
                // stops. Likewise the access a watchpoint stopped (only that one: a
                // breakpoint's instruction may still trigger a watchpoint).
                let pc = self.harts[h].pc;
                let past_watch = first_slice && self.watch_resume == Some((h, pc));
                let past_bp = first_slice
                    && self.bp_resume == Some((h, pc))
                    && self.breakpoints.contains(&pc);
                let resume = past_watch || past_bp;
                self.watch_resume = None;
                self.bp_resume = None;
                self.hold_others(h);
                let exit = if resume {
                    self.harts[h].watch_off = past_watch;
                    let exit = self.harts[h].run(&mut self.bus, 1, &[]);
                    self.harts[h].watch_off = false;
                    exit
                } else {
                    self.harts[h].run(&mut self.bus, slice, &self.breakpoints)
                };
                first_slice = false;
                self.progress[h] += exit.executed;
                *spent += exit.executed;
                if exit.executed > 0 {
                    self.idle_reported = false;
                }
                match exit.reason {
                    ExitReason::Breakpoint => {
                        self.bp_resume = Some((h, self.harts[h].pc));
                        return Stop::Breakpoint { hart: h };
                    }
                    ExitReason::Watchpoint => {
                        let hart = &self.harts[h];
                        if let Some((addr, kind)) = hart.watch_hit() {
                            self.watch_resume = Some((h, hart.pc));
                            return Stop::Watchpoint {
                                hart: h,
                                addr,
                                kind,
                            };
                        }
                    }
                    ExitReason::Halt => continue,
                    // A hart in `wfi`, or spinning on another hart, gives up its turn.
                    ExitReason::Wfi => {
                        self.progress[h] = self.config.quantum;
                        self.backoff[h] = 0;
                    }
                    // A hart spinning on another hart gives up its turn, and sits out more
                    // rounds the longer it keeps spinning (an idle scheduler loop).
                    ExitReason::Yield => {
                        self.progress[h] = self.config.quantum;
                        self.backoff[h] = (self.backoff[h] * 2).clamp(1, MAX_SIT_OUT);
                        self.sit_out[h] = self.backoff[h];
                    }
                    ExitReason::Budget => {
                        if self.progress[h] >= self.config.quantum {
                            self.backoff[h] = 0;
                        }
                    }
                }
                if self.progress[h] < self.config.quantum {
                    continue; // the run budget, not the quantum, ended this slice
                }
            }
            self.next_hart();
            if self.hart_in_round == 0
                && let Some(stop) = self.idle_round(budget, spent)
            {
                return stop;
            }
        }
    }

    /// With `Some((h, n))`, [`Machine::run`] stops (with [`Stop::Budget`]) when hart `h` has
    /// attempted `n` instructions and is about to attempt the next; other harts run as usual
    /// until then.
    pub fn set_hart_cap(&mut self, cap: Option<(usize, u64)>) {
        self.hart_cap = cap;
    }

    /// The cap of [`Machine::set_hart_cap`].
    pub fn hart_cap(&self) -> Option<(usize, u64)> {
        self.hart_cap
    }

    /// The stop hart `h`'s next instruction would make if it ran in the schedule now: at a
    /// breakpoint on its pc, or at a watchpoint it would trigger. Changes nothing.
    pub fn pending_stop(&self, h: usize) -> Option<Stop> {
        let hart = self.harts.get(h)?;
        if self.breakpoints.contains(&hart.pc) {
            return Some(Stop::Breakpoint { hart: h });
        }
        hart.next_watch_hit(&self.bus)
            .map(|(addr, kind)| Stop::Watchpoint {
                hart: h,
                addr,
                kind,
            })
    }

    /// Whether the cap of [`Machine::set_hart_cap`] is reached: its hart has made its
    /// attempts (a `run` then returns at once when that hart's turn comes).
    pub fn hart_cap_reached(&self) -> bool {
        self.hart_cap
            .is_some_and(|(h, cap)| self.harts[h].cycles() >= cap)
    }

    /// At the start of a round: if every hart waits, report the idle period (idle stops) or
    /// skip time to the earliest deadline, charging the skipped cycles to the run's budget.
    /// Some(stop) ends the run; it then starts with this check again.
    fn idle_round(&mut self, budget: u64, spent: &mut u64) -> Option<Stop> {
        if !self.all_waiting() {
            self.idle_reported = false;
            return None;
        }
        if self.idle_stops && !self.idle_reported {
            self.idle_reported = true;
            self.idle_pending = true;
            return Some(Stop::Idle);
        }
        let Some(deadline) = self.idle_until() else {
            self.idle_pending = true;
            return Some(Stop::Idle);
        };
        let left = budget.saturating_sub(*spent);
        let wait = deadline.saturating_sub(self.round_start);
        if wait > left {
            // The budget ends first: skip what it pays for and resume the wait next run.
            self.round_start += left;
            *spent = budget;
            self.idle_pending = true;
            return Some(Stop::Budget);
        }
        self.round_start += wait;
        // A due deadline wakes its hart this round (the timers guarantee it); should no hart
        // wake all the same, the empty round still costs its quantum.
        *spent += if wait > 0 {
            wait
        } else {
            self.config.quantum.min(left)
        };
        self.idle_reported = false;
        None
    }

    /// With `on`, every idle period — all harts in `wfi` — stops `run` with [`Stop::Idle`]
    /// before time skips ahead, so that an interactive host can pace guest time to its own
    /// clock and wait for input ([`Machine::idle_until`] says for how long). The next `run`
    /// skips the period unless an interrupt (host input) ended it. Off by default: scripted
    /// runs skip idle time at once.
    pub fn set_idle_stops(&mut self, on: bool) {
        self.idle_stops = on;
    }

    /// The tier that executes guest code: [`Tier::Jit`] only when it was asked for and the
    /// host has a translator.
    pub fn tier(&self) -> Tier {
        if self.bus.jit.is_some() {
            Tier::Jit
        } else {
            Tier::Interp
        }
    }

    /// The translating tier's counters (None when it is off).
    pub fn jit_stats(&self) -> Option<crate::cpu::jit::JitStats> {
        self.bus.jit.as_ref().map(|j| j.stats)
    }

    /// While every hart waits: the cycle of the earliest enabled timer deadline, or None when
    /// only an interrupt from host input can wake a hart.
    /// Deadlines at or past [`NEVER`] do not count.
    pub fn idle_until(&self) -> Option<u64> {
        (0..self.harts.len())
            .filter_map(|h| self.timer_deadline(h))
            .filter_map(|ticks| ticks.checked_mul(CYCLES_PER_TICK))
            .filter(|&cycle| cycle < NEVER)
            .min()
    }

    /// While every hart waits (after [`Stop::Idle`]): what can end the wait — a timer, host
    /// console input, or nothing at all. A front end that has no more input to give treats
    /// `Input` as `Never`: the guest halted ("all harts wait with no wake-up source").
    pub fn wake(&self) -> Wake {
        use crate::cpu::csr::{MIP_MEIP, MIP_SEIP, addr};
        if let Some(cycle) = self.idle_until() {
            return Wake::Timer(cycle);
        }
        // The sources host input can raise: the UART (a byte), the e1000 (a datagram).
        let uart = (self.bus.uart.input_would_signal() == Some(true)).then_some(board::UART_IRQ);
        let nic = self
            .bus
            .net
            .as_ref()
            .filter(|n| n.e1000.receive_would_signal())
            .map(|_| board::E1000_IRQ);
        let plic = &self.bus.plic;
        let woken = [uart, nic].into_iter().flatten().any(|irq| {
            (0..self.harts.len()).any(|h| {
                // mie.MEIE and mie.SEIE are mip.MEIP's and mip.SEIP's bits (privileged §3.1.9).
                let mie = self.harts[h].csr_read(addr::MIE).unwrap_or(0);
                (mie & MIP_MEIP != 0 && plic.interrupting_if_signalled(2 * h, irq))
                    || (mie & MIP_SEIP != 0 && plic.interrupting_if_signalled(2 * h + 1, irq))
            })
        });
        if woken { Wake::Input } else { Wake::Never }
    }

    /// The hart on which the next instruction of [`Machine::run`] will execute, for debuggers
    /// that look at an instruction before it runs (the gdb server's watchpoints). It settles
    /// the schedule exactly as `run` would before executing anything: it moves past harts
    /// whose quantum is spent or that wait in `wfi`, and skips idle time. None when `run`
    /// would report [`Stop::Idle`]. `run(1)` right after executes on the hart returned.
    pub fn scheduled_hart(&mut self) -> Option<usize> {
        // Idle time is skipped here without a budget: one jump to the deadline. Three empty
        // rounds in a row (a due deadline that wakes nobody, which the timers never allow)
        // count as idle too, so that this always ends.
        let mut check = std::mem::take(&mut self.idle_pending);
        let mut empty_rounds = 0;
        loop {
            if check && self.all_waiting() {
                empty_rounds += 1;
                match self.idle_until() {
                    Some(deadline) if empty_rounds < 3 => {
                        self.round_start = self.round_start.max(deadline);
                        self.idle_reported = false;
                    }
                    _ => {
                        self.idle_pending = true;
                        return None;
                    }
                }
            }
            let h = self.hart_in_round;
            if self.progress[h] < self.config.quantum && self.hart_runnable(h) {
                return Some(h);
            }
            self.next_hart();
            check = self.hart_in_round == 0;
        }
    }

    /// At the end of a run's budget: moves the schedule past the harts that cannot use their
    /// turn now (waiting in `wfi`, or their quantum spent), which costs no cycle, up to the
    /// next hart that can run or the start of the next round (its idle check pending).
    /// Several states share a position and elapsed time while harts wait; this makes a
    /// budget end in the same one as a run that went on (an idle stop is reported at the
    /// start of a round), so that a replay ending its run there — and console input typed
    /// then — continues exactly as the recorded run did.
    fn settle(&mut self) {
        for _ in 0..self.harts.len() {
            let h = self.hart_in_round;
            if self.progress[h] < self.config.quantum && self.hart_runnable(h) {
                return;
            }
            self.next_hart();
            if self.hart_in_round == 0 {
                // As the run loop does at a round's start (`idle_round`'s look at the harts,
                // which leaves `bus.now` where it looked last); the idle check proper waits
                // for the next run.
                if !self.all_waiting() {
                    self.idle_reported = false;
                }
                self.idle_pending = true;
                return;
            }
        }
    }

    /// Notes on hart `h`, about to run, the cycles of the others, which hold meanwhile (its
    /// events' positions).
    fn hold_others(&mut self, h: usize) {
        let others = self.position() - self.harts[h].cycles();
        self.harts[h].others = others;
    }

    /// Executes one instruction on hart `h` (for debuggers), whatever the round schedule says.
    pub fn step_hart(&mut self, h: usize) -> Stop {
        if let Some(stop) = self.take_halt() {
            return stop;
        }
        self.bus.now = self.round_start + self.progress[h];
        for other in &mut self.harts {
            other.clear_reservation();
        }
        self.idle_pending = false;
        // A debugger's step executes the instruction whatever it touches.
        self.harts[h].new_turn();
        self.hold_others(h);
        self.harts[h].watch_off = true;
        let exit = self.harts[h].run(&mut self.bus, 1, &[]);
        self.harts[h].watch_off = false;
        self.progress[h] += exit.executed.max(1);
        self.elapsed += exit.executed.max(1);
        self.bp_resume = Some((h, self.harts[h].pc));
        self.take_halt().unwrap_or(Stop::Budget)
    }

    /// Runs hart `h` alone for at most `budget` instructions while the others hold (a
    /// debugger's scheduler locking), whatever the round schedule says. Breakpoints and
    /// watchpoints stop it as in [`Machine::run`], and resuming past the one that stopped it
    /// works the same way. A hart waiting in `wfi` makes no progress: [`Stop::Budget`].
    pub fn run_hart(&mut self, h: usize, budget: u64) -> Stop {
        self.run_hart_with(h, budget, true)
    }

    /// [`Machine::run_hart`] with breakpoints and watchpoints ignored: exactly `budget`
    /// attempts unless the hart waits (a replay of a run that was made before).
    pub fn run_hart_through(&mut self, h: usize, budget: u64) -> Stop {
        self.run_hart_with(h, budget, false)
    }

    fn run_hart_with(&mut self, h: usize, budget: u64, armed: bool) -> Stop {
        if let Some(stop) = self.take_halt() {
            return stop;
        }
        self.harts[h].new_turn();
        self.hold_others(h);
        self.bus.now = self.round_start + self.progress[h];
        for (i, other) in self.harts.iter_mut().enumerate() {
            if i != h {
                other.clear_reservation();
            }
        }
        let pc = self.harts[h].pc;
        let past_watch = self.watch_resume == Some((h, pc));
        let past_bp = self.bp_resume == Some((h, pc)) && self.breakpoints.contains(&pc);
        self.watch_resume = None;
        self.bp_resume = None;
        let mut executed = 0;
        if past_watch || past_bp {
            self.harts[h].watch_off = past_watch;
            let exit = self.harts[h].run(&mut self.bus, 1, &[]);
            self.harts[h].watch_off = false;
            executed += exit.executed;
            if let Some(stop) = self.take_halt() {
                self.progress[h] += executed;
                return stop;
            }
        }
        let exit = if executed < budget && !self.harts[h].is_waiting() {
            let hart = &mut self.harts[h];
            hart.watch_off = !armed;
            let bps: &[u64] = if armed { &self.breakpoints } else { &[] };
            let exit = hart.run(&mut self.bus, budget - executed, bps);
            hart.watch_off = false;
            exit
        } else {
            crate::cpu::Exit {
                executed: 0,
                reason: ExitReason::Budget,
            }
        };
        self.progress[h] += executed + exit.executed;
        self.elapsed += executed + exit.executed;
        if let Some(stop) = self.take_halt() {
            return stop;
        }
        match exit.reason {
            ExitReason::Breakpoint => {
                self.bp_resume = Some((h, self.harts[h].pc));
                Stop::Breakpoint { hart: h }
            }
            ExitReason::Watchpoint => match self.harts[h].watch_hit() {
                Some((addr, kind)) => {
                    self.watch_resume = Some((h, self.harts[h].pc));
                    Stop::Watchpoint {
                        hart: h,
                        addr,
                        kind,
                    }
                }
                None => Stop::Budget,
            },
            _ => Stop::Budget,
        }
    }

    fn hart_runnable(&mut self, h: usize) -> bool {
        if !self.harts[h].is_waiting() {
            return true;
        }
        self.bus.now = self.round_start + self.progress[h];
        self.harts[h].wakeable(&mut self.bus)
    }

    fn all_waiting(&mut self) -> bool {
        (0..self.harts.len()).all(|h| !self.hart_runnable(h))
    }

    /// Moves to the next hart, starting a new round after the last one.
    fn next_hart(&mut self) {
        let h = self.hart_in_round;
        self.harts[h].clear_reservation();
        self.hart_in_round = (h + 1) % self.harts.len();
        if self.hart_in_round == 0 {
            self.round_start += self.config.quantum;
            for h in 0..self.harts.len() {
                // A hart sitting out starts the round with its quantum already spent.
                self.progress[h] = if self.sit_out[h] > 0 {
                    self.config.quantum
                } else {
                    0
                };
                self.sit_out[h] = self.sit_out[h].saturating_sub(1);
            }
            self.draw_turns();
        }
    }

    /// The mtime at which hart `h`'s enabled timer fires, if any.
    fn timer_deadline(&self, h: usize) -> Option<u64> {
        use crate::cpu::csr::{MIP_MTIP, addr};
        let hart = &self.harts[h];
        // mie.MTIE is the same bit as mip.MTIP (privileged spec §3.1.9).
        let mtie = hart.csr_read(addr::MIE).unwrap_or(0) & MIP_MTIP != 0;
        let clint = mtie.then(|| self.bus.clint.mtimecmp(h));
        [clint, hart.timer_deadline()].into_iter().flatten().min()
    }

    fn take_halt(&mut self) -> Option<Stop> {
        self.bus.halt.take().map(|h| match h {
            Halt::PowerOff { code } => Stop::PowerOff { code },
            Halt::Reset => Stop::Reset,
            Halt::Htif { value } => Stop::Htif { value },
        })
    }

    /// Gives the board the net lab's hardware (a PCIe host bridge, an e1000 at 00:01.0 and
    /// QEMU's user-mode network behind it; see `net`), before the first instruction runs.
    /// Without this call the board has none, and runs exactly as it always did.
    pub fn attach_net(&mut self) {
        if self.bus.net.is_none() {
            self.bus.net = Some(Box::default());
        }
    }

    /// The net hardware, when attached.
    pub fn net(&self) -> Option<&crate::net::Net> {
        self.bus.net.as_deref()
    }

    /// The net hardware, when attached, for the host to take what the guest sent.
    pub fn net_mut(&mut self) -> Option<&mut crate::net::Net> {
        self.bus.net.as_deref_mut()
    }

    /// A datagram from the host arrives for the guest now (host input, like console bytes:
    /// the session logs it). False when the board has no network.
    pub fn deliver_datagram(&mut self, d: &crate::net::slirp::Datagram) -> bool {
        let now = self.cycle();
        let bus = &mut self.bus;
        match bus.net.as_deref_mut() {
            Some(net) => {
                net.deliver(d, &mut bus.ram, now);
                true
            }
            None => false,
        }
    }

    /// Reads guest physical memory (RAM only).
    pub fn read_phys(&self, paddr: u64, buf: &mut [u8]) -> bool {
        self.bus.ram.read_phys(paddr, buf).is_some()
    }

    /// Writes guest physical memory (RAM only), as a debugger would.
    pub fn write_phys(&mut self, paddr: u64, buf: &[u8]) -> bool {
        self.bus.ram.write_phys(paddr, buf).is_some()
    }

    /// Start of RAM.
    pub fn ram_base(&self) -> u64 {
        RAM_BASE
    }
}

/// Checks a disk image before it is attached: a virtio block device holds whole 512-byte
/// sectors (virtio spec §5.2.4: `capacity` counts 512-byte sectors). What the image holds —
/// an xv6 file system or anything else — is the debugger's business, not the board's.
pub fn check_disk(disk: &[u8]) -> Result<(), Error> {
    let len = disk.len() as u64;
    if len == 0 || !len.is_multiple_of(512) {
        return Err(Error::DiskSize(len));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::encode::*;

    /// One hart running `n` `li` instructions from the start of RAM, `quantum` cycles a turn.
    fn straight_line(n: u32, quantum: u64) -> Machine {
        let code: Vec<u8> = (1..=n as i32)
            .flat_map(|k| li(A0, k).to_le_bytes())
            .collect();
        let config = Config {
            harts: 1,
            quantum,
            ..Config::default()
        };
        Machine::new(config, Image::Raw(&code), None).expect("a raw image loads")
    }

    /// Stores 5 at RAM_BASE + 0x1000, loads it back, stores beside it, then spins.
    fn store_load_spin() -> Machine {
        let code = [
            auipc(T0, 1),
            li(A0, 5),
            sd(A0, T0, 0),  // pc + 8: the watched store
            ld(A1, T0, 0),  // pc + 12
            sd(A0, T0, 16), // pc + 16: same page, other bytes
            jal(ZERO, 0),   // j .
        ];
        let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
        let config = Config {
            harts: 1,
            ..Config::default()
        };
        Machine::new(config, Image::Raw(&bytes), None).expect("a raw image loads")
    }

    fn read64(m: &Machine, pa: u64) -> u64 {
        let mut b = [0u8; 8];
        assert!(m.read_phys(pa, &mut b));
        u64::from_le_bytes(b)
    }

    #[test]
    fn watchpoints_stop_before_the_access_and_resume_past_it() {
        let data = RAM_BASE + 0x1000;
        let write = Watchpoint {
            addr: data,
            len: 8,
            kind: WatchKind::Write,
        };
        let mut m = store_load_spin();
        assert!(m.add_watchpoint(write));
        assert!(!m.add_watchpoint(write), "set twice");
        let stop = m.run(1000);
        assert_eq!(
            stop,
            Stop::Watchpoint {
                hart: 0,
                addr: data,
                kind: WatchKind::Write
            }
        );
        assert_eq!(m.harts[0].pc, RAM_BASE + 8, "stopped at the store");
        assert_eq!(read64(&m, data), 0, "before the store took effect");
        assert_eq!(m.instret(), 2);
        // Resuming performs the store; the load and the store to other bytes do not stop.
        assert_eq!(m.run(1000), Stop::Budget);
        assert_eq!((read64(&m, data), read64(&m, data + 16)), (5, 5));
        assert_eq!(m.harts[0].x[11], 5);

        // A read watchpoint stops at the load, an access one at the store first.
        for (kind, pc, found) in [
            (WatchKind::Read, 12, WatchKind::Read),
            (WatchKind::Access, 8, WatchKind::Access),
        ] {
            let mut m = store_load_spin();
            m.add_watchpoint(Watchpoint {
                addr: data + 4,
                len: 1,
                kind,
            });
            assert_eq!(
                m.run(1000),
                Stop::Watchpoint {
                    hart: 0,
                    addr: data + 4,
                    kind: found
                }
            );
            assert_eq!(m.harts[0].pc, RAM_BASE + pc);
        }

        // Removed, it no longer stops; a debugger's step runs through a watched access.
        let mut m = store_load_spin();
        m.add_watchpoint(write);
        assert!(m.remove_watchpoint(write));
        assert!(!m.remove_watchpoint(write));
        assert_eq!(m.run(1000), Stop::Budget);
        let mut m = store_load_spin();
        m.add_watchpoint(write);
        for _ in 0..3 {
            assert_eq!(m.step_hart(0), Stop::Budget);
        }
        assert_eq!(read64(&m, data), 5);
    }

    #[test]
    fn a_watchpoint_set_after_the_page_was_cached_still_fires() {
        let data = RAM_BASE + 0x1000;
        let mut m = store_load_spin();
        // Run through once: the data page is now in the hart's store TLB.
        assert_eq!(m.run(1000), Stop::Budget);
        m.harts[0].pc = RAM_BASE + 4;
        m.add_watchpoint(Watchpoint {
            addr: data,
            len: 8,
            kind: WatchKind::Write,
        });
        assert!(matches!(m.run(1000), Stop::Watchpoint { .. }));
        assert_eq!(m.harts[0].pc, RAM_BASE + 8);
    }

    #[test]
    fn a_run_that_ends_right_before_a_breakpoint_stops_there_next_time() {
        let mut m = straight_line(8, 10_000);
        let bp = RAM_BASE + 8;
        m.add_breakpoint(bp);
        // The budget ends with the breakpoint's instruction next: not a stop yet...
        assert_eq!(m.run(2), Stop::Budget);
        assert_eq!(m.harts[0].pc, bp);
        // ...but the next run must stop there, not step over it.
        assert_eq!(m.run(100), Stop::Breakpoint { hart: 0 });
        assert_eq!((m.harts[0].pc, m.instret()), (bp, 2));
        // Resuming from the reported stop executes it and runs on.
        assert_eq!(m.run(3), Stop::Budget);
        assert_eq!(m.instret(), 5);
        // A debugger's step that lands on a breakpoint: continuing runs it (as gdb steps
        // over a breakpoint at the pc it resumes from).
        let mut m = straight_line(8, 10_000);
        m.add_breakpoint(RAM_BASE + 4);
        assert_eq!(m.step_hart(0), Stop::Budget);
        assert_eq!(m.harts[0].pc, RAM_BASE + 4);
        assert_eq!(m.run(3), Stop::Budget);
        assert_eq!(m.instret(), 4);
    }

    #[test]
    fn a_hart_run_alone_stops_at_breakpoints_and_watchpoints_and_resumes_past_them() {
        let data = RAM_BASE + 0x1000;
        let mut m = store_load_spin();
        m.add_breakpoint(RAM_BASE + 4);
        m.add_watchpoint(Watchpoint {
            addr: data,
            len: 8,
            kind: WatchKind::Read,
        });
        assert_eq!(m.run_hart(0, 100), Stop::Breakpoint { hart: 0 });
        assert_eq!((m.harts[0].pc, m.instret()), (RAM_BASE + 4, 1));
        assert_eq!(
            m.run_hart(0, 100),
            Stop::Watchpoint {
                hart: 0,
                addr: data,
                kind: WatchKind::Read
            }
        );
        assert_eq!(
            m.harts[0].pc,
            RAM_BASE + 12,
            "stopped at the load, not the store"
        );
        assert_eq!(m.run_hart(0, 2), Stop::Budget);
        assert_eq!((m.harts[0].pc, m.harts[0].x[11]), (RAM_BASE + 20, 5));
    }

    #[test]
    fn a_breakpoint_at_a_quantum_boundary_still_stops() {
        // The quantum ends right before the third instruction: the next turn starts on the
        // breakpoint, which must stop it there (not run past it).
        let mut m = straight_line(8, 2);
        let bp = RAM_BASE + 8;
        m.add_breakpoint(bp);
        assert_eq!(m.run(100), Stop::Breakpoint { hart: 0 });
        assert_eq!((m.harts[0].pc, m.harts[0].x[10]), (bp, 2));
        // Resuming runs the breakpoint's instruction and goes on.
        m.remove_breakpoint(bp);
        m.add_breakpoint(RAM_BASE + 20);
        m.add_breakpoint(bp);
        assert_eq!(m.run(100), Stop::Breakpoint { hart: 0 });
        assert_eq!((m.harts[0].pc, m.harts[0].x[10]), (RAM_BASE + 20, 5));
    }

    /// Runs `f` on another thread and fails the test if it takes longer than `secs`: the
    /// tests below guard against `run` looping forever.
    fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(std::time::Duration::from_secs(secs))
            .expect("the machine did not return in time")
    }

    fn machine(code: &[u32]) -> Machine {
        let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
        let config = Config {
            harts: 1,
            ..Config::default()
        };
        Machine::new(config, Image::Raw(&bytes), None).expect("a raw image loads")
    }

    const MIE_CSR: u16 = 0x304;
    const MENVCFG: u16 = 0x30a;
    const STIMECMP: u16 = 0x14d;
    const TIME: u16 = 0xc01;

    /// Sstc on, STIE enabled, `stimecmp` = time + (1 << shift) (or -1 when `shift` is None),
    /// `wfi`, then a1 = time and a2 = 7, and spin.
    fn timer_wait(shift: Option<u32>) -> Machine {
        let mut code = vec![
            li(T0, 1),
            slli(T0, T0, 63),
            csrw(MENVCFG, T0),
            li(T0, 1 << 5),
            csrw(MIE_CSR, T0),
            csrr(A0, TIME),
        ];
        code.extend(match shift {
            Some(sh) => [li(T1, 1), slli(T1, T1, sh), add(T1, T1, A0)],
            None => [li(T1, -1), NOP, NOP],
        });
        code.extend([
            csrw(STIMECMP, T1),
            WFI,
            csrr(A1, TIME),
            li(A2, 7),
            jal(ZERO, 0),
        ]);
        machine(&code)
    }

    #[test]
    fn a_far_timer_deadline_is_skipped_within_the_budget_and_runs_split_alike() {
        // 2^20 ticks: about 10.5 M cycles of waiting.
        let whole = within(20, || {
            let mut m = timer_wait(Some(20));
            assert_eq!(m.run(20_000_000), Stop::Budget);
            m
        });
        assert_eq!(whole.harts[0].x[12], 7, "woke and ran on");
        assert!(whole.harts[0].x[11] >= whole.harts[0].x[10] + (1 << 20));
        let split = within(20, || {
            let mut m = timer_wait(Some(20));
            let mut runs = 0;
            while m.harts[0].x[12] != 7 {
                let before = m.cycle();
                assert_eq!(m.run(1000), Stop::Budget);
                // At most the budget, plus the rest of the quantum that `wfi` gives up.
                assert!(
                    m.cycle() - before <= 1000 + m.config().quantum,
                    "a run skipped past its budget"
                );
                runs += 1;
                assert!(runs < 20_000, "never woke");
            }
            assert!(runs > 10_000, "skipped time must count against the budget");
            m
        });
        // Where the runs end does not move the wake-up.
        assert_eq!(split.harts[0].x[11], whole.harts[0].x[11]);
    }

    #[test]
    fn a_timer_that_never_fires_is_idle_with_no_wake_up_source() {
        // stimecmp = -1, as xv6's panic path writes: the run used to loop forever here.
        for idle_stops in [false, true] {
            let (stops, wake) = within(20, move || {
                let mut m = timer_wait(None);
                m.set_idle_stops(idle_stops);
                let stops = [m.run(1_000_000), m.run(1_000_000)];
                (stops, m.wake())
            });
            assert_eq!(stops, [Stop::Idle, Stop::Idle]);
            assert_eq!(wake, Wake::Never);
        }
        // With a reachable deadline, idle stops report the period and name the timer.
        let mut m = timer_wait(Some(20));
        m.set_idle_stops(true);
        assert_eq!(m.run(1_000_000), Stop::Idle);
        assert!(matches!(m.wake(), Wake::Timer(c) if c >= 1 << 20));
        assert_eq!(
            m.idle_until(),
            match m.wake() {
                Wake::Timer(c) => Some(c),
                _ => None,
            }
        );
    }

    /// Waits for the UART's receive interrupt in M-mode: IER.RDI, PLIC source 10 at priority
    /// 1 enabled for hart 0's M context, `mie` = MEIE if `meie`; then a2 = 7 and spin.
    fn uart_wait(meie: bool) -> Machine {
        machine(&[
            lui(T0, 0x10000), // UART0
            li(T1, 1),
            sb(T1, T0, 1), // IER: received data available
            lui(T0, 0x0c000),
            sw(T1, T0, 4 * 10), // priority of source 10
            lui(T0, 0x0c002),
            li(T1, 1 << 10),
            sw(T1, T0, 0), // context 0 enables source 10
            li(T1, meie as i32),
            slli(T1, T1, 11),
            csrw(MIE_CSR, T1),
            WFI,
            li(A2, 7),
            jal(ZERO, 0),
        ])
    }

    /// Waits in M-mode for PLIC source 33 (the e1000), priority 1, enabled for hart 0's M
    /// context; then a2 = 7 and spin.
    fn nic_wait() -> Machine {
        let mut m = machine(&[
            lui(T0, 0x0c000),
            li(T1, 1),
            sw(T1, T0, 4 * 33), // priority of source 33
            lui(T0, 0x0c002),
            li(T1, 1 << (33 - 32)),
            sw(T1, T0, 4), // context 0, enable word 1
            li(T1, 1),
            slli(T1, T1, 11),
            csrw(MIE_CSR, T1),
            WFI,
            li(A2, 7),
            jal(ZERO, 0),
        ]);
        m.attach_net();
        m
    }

    #[test]
    fn idle_tells_whether_a_datagram_could_wake_a_hart() {
        use crate::devices::e1000::reg;
        use crate::net::slirp::{Datagram, GATEWAY};
        let mut m = within(20, || {
            let mut m = nic_wait();
            assert_eq!(m.run(1_000_000), Stop::Idle);
            m
        });
        assert_eq!(m.wake(), Wake::Never, "the receiver is off");
        // A driver's setup: PCI memory and bus master on, BAR 0 placed, an rx ring of 8
        // descriptors with buffers, broadcast accepted, receive interrupts unmasked.
        let ecam = board::PCIE_ECAM_BASE + (1 << 15);
        m.bus.store(ecam + 4, 4, 6).unwrap();
        m.bus.store(ecam + 0x10, 4, 0x4000_0000).unwrap();
        let w = |m: &mut Machine, r: u64, v: u64| m.bus.store(0x4000_0000 + r, 4, v).unwrap();
        let ring = RAM_BASE + 0x1_0000;
        for i in 0..8u64 {
            let buf = RAM_BASE + 0x2_0000 + 2048 * i;
            assert!(m.write_phys(ring + 16 * i, &buf.to_le_bytes()));
        }
        w(&mut m, reg::RDBAL, ring);
        w(&mut m, reg::RDLEN, 128);
        w(&mut m, reg::RDT, 7);
        w(&mut m, reg::RCTL, 2 | 1 << 15);
        w(&mut m, reg::IMS, 1 << 7);
        assert_eq!(m.wake(), Wake::Input);
        // A datagram for a guest of unknown MAC: the network's broadcast ARP request lands
        // and interrupts the hart.
        assert!(m.deliver_datagram(&Datagram {
            guest_port: 2000,
            remote: std::net::SocketAddrV4::new(GATEWAY, 9),
            payload: b"x".to_vec(),
        }));
        assert_eq!(m.run(1000), Stop::Budget);
        assert_eq!(m.harts[0].x[12], 7, "the datagram woke the hart");
    }

    #[test]
    fn idle_tells_whether_console_input_could_wake_a_hart() {
        let mut m = within(20, || {
            let mut m = uart_wait(true);
            assert_eq!(m.run(1_000_000), Stop::Idle);
            m
        });
        assert_eq!(m.wake(), Wake::Input);
        m.bus.uart.push_input(b"x");
        assert_eq!(m.run(1000), Stop::Budget);
        assert_eq!(m.harts[0].x[12], 7, "the input woke the hart");

        // Masked in mie: input changes nothing.
        let m = within(20, || {
            let mut m = uart_wait(false);
            assert_eq!(m.run(1_000_000), Stop::Idle);
            m
        });
        assert_eq!(m.wake(), Wake::Never);
    }
}
