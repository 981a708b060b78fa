//! The M-mode and S-mode trap handlers and what they remember.
//!
//! Every trap is recorded before anything else happens: exceptions in [`M_TRAPS`] /
//! [`S_TRAPS`], interrupts in [`M_IRQS`] / [`S_IRQS`], each as the last [`Trap`] plus a count.
//! Then the handler decides, in this order:
//! - Interrupt: call the hook installed with [`set_m_irq_hook`] / [`set_s_irq_hook`], which must
//!   silence the source, and return to the interrupted code. No hook: the test fails.
//! - Exception that the test announced ([`expect_trap`] and friends, one trap per
//!   announcement): return after the trapping instruction (its length read from memory at the
//!   trap pc), or to `ra` ([`expect_trap_ret_ra`], for fetch faults where the pc itself is bad).
//! - Other exception from S or U while [`crate::lower`] runs code there: end that run (the M
//!   handler returns to `lower_return` in M-mode; the S handler gets there by an `ecall`).
//! - Anything else: the test fails with [`UNEXPECTED_EXC`](crate::report::UNEXPECTED_EXC)
//!   plus the cause.
//!
//! Invariant: a handler never traps itself; if it does, the nested trap fails the test at
//! once ([`NESTED_TRAP`](crate::report::NESTED_TRAP)) rather than corrupting the trap stack.
use crate::csr::*;
use crate::report::{self, report_fail};
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};

/// Registers saved by the trap entry: `x[i]` is register xi (x[0] unused), `pc` the trap pc.
/// A handler may change any of them; the entry code restores them all on return.
#[repr(C)]
pub struct TrapFrame {
    pub x: [u64; 32],
    pub pc: u64,
    _pad: u64,
}

/// One trap as a handler saw it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Trap {
    /// `xcause`, interrupt bit included.
    pub cause: u64,
    /// `xtval`.
    pub tval: u64,
    /// `xepc`: the pc of the trapping instruction.
    pub epc: u64,
    /// Mode the trap came from: MPP (0 U, 1 S, 3 M) for M traps, SPP (0 U, 1 S) for S traps.
    pub prev: u64,
    /// a0 and a1 at the trap (a lower-mode run returns its result in a0 at the `ecall`).
    pub a0: u64,
    pub a1: u64,
    /// `mstatus` (M traps) or `sstatus` (S traps) as the handler found it.
    pub status: u64,
}

/// The last trap of one kind and how many there were.
pub struct Record {
    cause: AtomicU64,
    tval: AtomicU64,
    epc: AtomicU64,
    prev: AtomicU64,
    a0: AtomicU64,
    a1: AtomicU64,
    status: AtomicU64,
    count: AtomicU64,
}

impl Record {
    const fn new() -> Self {
        Record {
            cause: AtomicU64::new(0),
            tval: AtomicU64::new(0),
            epc: AtomicU64::new(0),
            prev: AtomicU64::new(0),
            a0: AtomicU64::new(0),
            a1: AtomicU64::new(0),
            status: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }
    fn store(&self, t: &Trap) {
        self.cause.store(t.cause, Relaxed);
        self.tval.store(t.tval, Relaxed);
        self.epc.store(t.epc, Relaxed);
        self.prev.store(t.prev, Relaxed);
        self.a0.store(t.a0, Relaxed);
        self.a1.store(t.a1, Relaxed);
        self.status.store(t.status, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }
    /// The most recent trap recorded here.
    pub fn last(&self) -> Trap {
        Trap {
            cause: self.cause.load(Relaxed),
            tval: self.tval.load(Relaxed),
            epc: self.epc.load(Relaxed),
            prev: self.prev.load(Relaxed),
            a0: self.a0.load(Relaxed),
            a1: self.a1.load(Relaxed),
            status: self.status.load(Relaxed),
        }
    }
    /// How many traps were recorded here since boot.
    pub fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }
}

pub static M_TRAPS: Record = Record::new();
pub static S_TRAPS: Record = Record::new();
pub static M_IRQS: Record = Record::new();
pub static S_IRQS: Record = Record::new();

/// How to leave an announced trap: skip the instruction, return to `ra`, or go to an address.
const RESUME_SKIP: u64 = 0;
const RESUME_RA: u64 = 1;

static M_EXPECT: AtomicBool = AtomicBool::new(false);
static M_RESUME: AtomicU64 = AtomicU64::new(RESUME_SKIP);
static S_EXPECT: AtomicBool = AtomicBool::new(false);
static S_RESUME: AtomicU64 = AtomicU64::new(RESUME_SKIP);
static M_IRQ_HOOK: AtomicUsize = AtomicUsize::new(0);
static S_IRQ_HOOK: AtomicUsize = AtomicUsize::new(0);
static IN_M: AtomicBool = AtomicBool::new(false);
static IN_S: AtomicBool = AtomicBool::new(false);

/// Installs (or with `None` removes) the function the M handler calls for an interrupt, with
/// the interrupt number. It must clear the interrupt's source.
pub fn set_m_irq_hook(h: Option<fn(u64)>) {
    M_IRQ_HOOK.store(h.map_or(0, |f| f as usize), Relaxed);
}

/// As [`set_m_irq_hook`] for interrupts delegated to S-mode.
pub fn set_s_irq_hook(h: Option<fn(u64)>) {
    S_IRQ_HOOK.store(h.map_or(0, |f| f as usize), Relaxed);
}

fn call_hook(hook: &AtomicUsize, code: u64) -> bool {
    let h = hook.load(Relaxed);
    if h == 0 {
        return false;
    }
    // SAFETY: only set_*_irq_hook stores here, always from a `fn(u64)`.
    let f: fn(u64) = unsafe { core::mem::transmute::<usize, fn(u64)>(h) };
    f(code);
    true
}

/// Length of the instruction at `pc`: 32-bit encodings have both low bits set.
fn inst_len(pc: u64) -> u64 {
    // SAFETY: pc is where the trapping instruction was fetched from, so it is readable here
    // (identity-mapped or physical).
    let h = unsafe { core::ptr::read_volatile(pc as *const u16) };
    if h & 3 == 3 { 4 } else { 2 }
}

fn resume(f: &mut TrapFrame, how: &AtomicU64) {
    f.pc = match how.swap(RESUME_SKIP, Relaxed) {
        RESUME_SKIP => f.pc + inst_len(f.pc),
        RESUME_RA => f.x[1],
        addr => addr,
    };
}

pub(crate) extern "C" fn m_trap(f: &mut TrapFrame) {
    if IN_M.swap(true, Relaxed) {
        report_fail(report::NESTED_TRAP);
    }
    let cause = csrr!(mcause);
    let status = csrr!(mstatus);
    let t = Trap {
        cause,
        tval: csrr!(mtval),
        epc: f.pc,
        prev: (status & MPP_MASK) >> MPP_SHIFT,
        a0: f.x[10],
        a1: f.x[11],
        status,
    };
    if cause & INTERRUPT != 0 {
        M_IRQS.store(&t);
        let code = cause & !INTERRUPT;
        if !call_hook(&M_IRQ_HOOK, code) {
            report_fail(report::UNEXPECTED_IRQ + code);
        }
    } else {
        M_TRAPS.store(&t);
        if M_EXPECT.swap(false, Relaxed) {
            resume(f, &M_RESUME);
        } else if crate::lower::active() && t.prev != 3 {
            // Back to M with interrupts off (MIE <- MPIE = 0); run_at restores the caller's MIE.
            f.pc = crate::start::lower_return as *const () as u64;
            csrs!(mstatus, MPP_MASK);
            csrc!(mstatus, MPIE);
        } else {
            report::puts("unexpected trap, epc ");
            report::put_hex(t.epc);
            report::puts(" tval ");
            report::put_hex(t.tval);
            report::puts("\n");
            report_fail(report::UNEXPECTED_EXC + cause);
        }
    }
    IN_M.store(false, Relaxed);
}

pub(crate) extern "C" fn s_trap(f: &mut TrapFrame) {
    if IN_S.swap(true, Relaxed) {
        report_fail(report::NESTED_TRAP + 1);
    }
    let cause = csrr!(scause);
    let status = csrr!(sstatus);
    let t = Trap {
        cause,
        tval: csrr!(stval),
        epc: f.pc,
        prev: (status & SPP) >> 8,
        a0: f.x[10],
        a1: f.x[11],
        status,
    };
    if cause & INTERRUPT != 0 {
        S_IRQS.store(&t);
        let code = cause & !INTERRUPT;
        if !call_hook(&S_IRQ_HOOK, code) {
            report_fail(report::UNEXPECTED_S_IRQ + code);
        }
    } else {
        S_TRAPS.store(&t);
        if S_EXPECT.swap(false, Relaxed) {
            resume(f, &S_RESUME);
        } else {
            // End the lower-mode run: the M handler sees an ecall from S and returns to M.
            // This S trap stack is abandoned; lower::run_at resets sscratch before each run.
            IN_S.store(false, Relaxed);
            // SAFETY: traps to M, which never returns here.
            unsafe { core::arch::asm!("ecall", options(noreturn)) };
        }
    }
    IN_S.store(false, Relaxed);
}

fn caller_line() -> u64 {
    core::panic::Location::caller().line() as u64
}

/// Runs `f`, which must cause exactly one M-mode exception; execution resumes after the
/// trapping instruction. Returns the trap. Fails the test (code: caller's line) otherwise.
#[track_caller]
pub fn expect_trap(f: impl FnOnce()) -> Trap {
    let line = caller_line();
    expect_with(&M_EXPECT, &M_RESUME, &M_TRAPS, RESUME_SKIP, line, f)
}

/// As [`expect_trap`], but resumes at `ra`: for jumps to a bad address (`jalr ra, ...`).
#[track_caller]
pub fn expect_trap_ret_ra(f: impl FnOnce()) -> Trap {
    let line = caller_line();
    expect_with(&M_EXPECT, &M_RESUME, &M_TRAPS, RESUME_RA, line, f)
}

/// As [`expect_trap`] for code running in S-mode whose trap is handled by the S handler
/// (delegated through `medeleg`).
#[track_caller]
pub fn expect_s_trap(f: impl FnOnce()) -> Trap {
    let line = caller_line();
    expect_with(&S_EXPECT, &S_RESUME, &S_TRAPS, RESUME_SKIP, line, f)
}

/// As [`expect_s_trap`], resuming at `ra` (for fetch faults in S-mode).
#[track_caller]
pub fn expect_s_trap_ret_ra(f: impl FnOnce()) -> Trap {
    let line = caller_line();
    expect_with(&S_EXPECT, &S_RESUME, &S_TRAPS, RESUME_RA, line, f)
}

/// Announces one S-mode trap to be skipped without running code (for tests whose trapping
/// code is entered another way, e.g. from U-mode).
pub fn arm_s_expect() {
    S_RESUME.store(RESUME_SKIP, Relaxed);
    S_EXPECT.store(true, Relaxed);
}

/// Announces one M-mode trap to be skipped.
pub fn arm_m_expect() {
    M_RESUME.store(RESUME_SKIP, Relaxed);
    M_EXPECT.store(true, Relaxed);
}

/// Withdraws an announcement made by [`arm_m_expect`]; true if no trap used it up.
pub fn disarm_m_expect() -> bool {
    M_EXPECT.swap(false, Relaxed)
}

fn expect_with(
    expect: &AtomicBool,
    how: &AtomicU64,
    rec: &Record,
    mode: u64,
    line: u64,
    f: impl FnOnce(),
) -> Trap {
    let before = rec.count();
    how.store(mode, Relaxed);
    expect.store(true, Relaxed);
    f();
    if expect.swap(false, Relaxed) || rec.count() != before + 1 {
        report::puts("expected trap did not happen\n");
        report_fail(line);
    }
    rec.last()
}
