//! The run loop: fetch from the decode cache, execute, count cycles.
//!
//! Fast path per instruction: compare `pc`'s page with the fetch page (tag = vpn | key), read
//! the pre-decoded entry, count the cycle, `match` on the operation. Loads and stores hit the
//! software TLB and touch `Ram` directly. Everything else — TLB misses, MMIO, CSRs, traps,
//! decoding — is a slow path in a separate function.
//!
//! Counting: `n` is the number of cycles of this call (one per instruction attempted, trapping
//! ones included); `skipped` counts the attempted instructions that did not retire, so
//! `instret` advances by `n - skipped`. Before any slow path that can observe time or devices,
//! `bus.now = start + n - 1` (the cycle of the instruction being executed); at the loop top
//! `bus.now = start + n`. Interrupts and `bus.halt` are polled when `n` reaches `limit`: each
//! time the hart's cycle count reaches a multiple of 256, and at once (`limit = n`) after a
//! device access or a `wfi` that found an interrupt pending. The poll points are a function of
//! the hart's own cycle count, never of where a `run` call starts: a run split by a
//! breakpoint, a budget or a debugger's step polls where one run would (a poll that was due
//! when a call ended is made at the start of the next), so going back in time and replaying
//! without the breakpoints takes every interrupt at the same instruction. A change of enables (CSR
//! writes, xRET) re-evaluates the pending interrupts against the lines of the last poll only
//! (`interrupt_now!`): xv6 toggles `sstatus.SIE` around every spinlock, and a full poll of the
//! devices there would cost more than the lock.
//!
//! `x0` stays zero: ALU ops writing x0 were lowered to `Nop` in the decode cache; the few
//! other ops that write `rd` (loads, jumps, CSR, AMO) zero `x[0]` again after their write.

use super::csr::{MSTATUS_TVM, MSTATUS_TW, Now, addr as csra, affects_interrupts};
use super::decode::{Inst, Op, decode};
use super::encode;
use super::icache::{self, Slot};
use super::jit;
use super::mmu::{INVALID, TLB_MASK};
use super::spin::{FlagPoll, LockSpin};
use super::trap::{Trap, cause};
use super::watch::WATCH_STOP;
use super::{Access, Exit, ExitReason, Hart, Mode};
use crate::bus::Bus;

/// Instructions between two interrupt polls at most.
const POLL_INTERVAL: u64 = 256;

impl Hart {
    pub(super) fn run_loop(&mut self, bus: &mut Bus, budget: u64, bps: &[u64]) -> Exit {
        let start = bus.now;
        self.run_start = start;
        self.skipped = 0;
        self.poll = false;
        // Another hart, a DMA or a debugger may have written RAM since the last call, and a
        // debugger may have changed `mode` or the CSR fields directly.
        self.fetch_tag = INVALID;
        if self.csr.satp != self.tlb_satp {
            self.flush_tlb();
        }
        self.update_keys();
        let mut woke = false;
        if self.waiting {
            if !self.wakeable(bus) {
                self.last_now = start;
                return Exit {
                    executed: 0,
                    reason: ExitReason::Wfi,
                };
            }
            self.waiting = false;
            woke = true;
        }
        // The next poll: now if one was due when the last call ended or the hart just woke
        // (the interrupt that woke it is taken before the next instruction), else at the
        // hart's next multiple of POLL_INTERVAL cycles.
        let to_boundary = |cycles: u64| (POLL_INTERVAL - cycles % POLL_INTERVAL) % POLL_INTERVAL;
        // The pc lives in a register here and in `self.pc` only around slow paths that read
        // or change it (traps, xRET, interrupt polls) and on return: going through memory
        // for every instruction would put a store-to-load forward on the critical path.
        let mut pc = self.pc;
        let mut n: u64 = 0;
        // A poll is due at `limit`; `due` says it is due at once (a device access), not at
        // a boundary.
        let mut due = self.poll_due || woke;
        self.poll_due = false;
        let mut limit: u64 = if due {
            0
        } else {
            budget.min(to_boundary(self.cycles))
        };
        // The translating tier (jit.rs). While `self.quiet` holds, the polls before
        // `quiet_end` (in cycles of this call) would find what the last one found: a region
        // may run past them, up to there.
        let jit_on = bus.jit.is_some();
        self.quiet = false;
        let mut quiet_end: u64 = 0;

        // A slow path: exact time first, then poll if it touched a device, trap on error.
        macro_rules! slow {
            ($e:expr) => {{
                bus.now = start + n - 1;
                self.at = n - 1;
                let r = $e;
                if self.poll {
                    self.poll = false;
                    limit = n;
                    due = true;
                }
                match r {
                    Ok(v) => v,
                    // A watchpoint: the instruction did not happen (not even attempted).
                    Err(t) if t.cause == WATCH_STOP => {
                        n -= 1;
                        self.pc = pc;
                        break ExitReason::Watchpoint;
                    }
                    Err(t) => {
                        self.pc = pc;
                        self.exception(t);
                        pc = self.pc;
                        continue;
                    }
                }
            }};
        }
        macro_rules! trap {
            ($t:expr) => {{
                self.pc = pc;
                self.at = n - 1;
                self.exception($t);
                pc = self.pc;
                continue;
            }};
        }
        // After a change of interrupt enables (the lines cannot have changed): take an
        // interrupt that became takeable before the next instruction, without a bus poll.
        macro_rules! interrupt_now {
            () => {{
                bus.now = start + n;
                self.pc = pc;
                self.at = n;
                if self.take_interrupt(bus.mtime()) {
                    pc = self.pc;
                }
            }};
        }
        macro_rules! load {
            ($va:expr, $size:expr) => {{
                let va: u64 = $va;
                let e = self.tlb_load[((va >> 12) & TLB_MASK) as usize];
                if e.tag == (va >> 12) | self.key_ls && aligned(va, $size) {
                    bus.ram.load(e.base + (va & 0xfff) as usize, $size)
                } else {
                    slow!(self.load_slow(bus, va, $size as u64))
                }
            }};
        }
        macro_rules! store {
            ($va:expr, $size:expr, $val:expr) => {{
                let va: u64 = $va;
                let e = self.tlb_store[((va >> 12) & TLB_MASK) as usize];
                if e.tag == (va >> 12) | self.key_ls && aligned(va, $size) {
                    bus.ram.store(e.base + (va & 0xfff) as usize, $size, $val);
                    if e.base == self.fetch_off {
                        self.fetch_tag = INVALID; // code page written: re-validate it
                    }
                } else {
                    slow!(self.store_slow(bus, va, $size as u64, $val))
                }
            }};
        }

        let reason = loop {
            if n >= limit {
                bus.now = start + n;
                if bus.halt.is_some() {
                    break ExitReason::Halt;
                }
                if n >= budget {
                    break ExitReason::Budget;
                }
                self.pc = pc;
                self.at = n;
                let took = self.check_interrupts(bus);
                pc = self.pc;
                due = false;
                if jit_on && !took {
                    self.quiet = true;
                    quiet_end = budget.min(self.quiet_until(bus).saturating_sub(start));
                }
                let next = match to_boundary(self.cycles + n) {
                    0 => POLL_INTERVAL,
                    d => d,
                };
                limit = budget.min(n + next);
            }
            if (pc >> 12) | self.key_fetch != self.fetch_tag {
                bus.now = start + n;
                if let Err(t) = self.enter_page(bus, pc, bps) {
                    n += 1;
                    self.pc = pc;
                    self.at = n - 1;
                    self.exception(t);
                    if self.pc == pc {
                        // The trap vector is the pc that cannot be fetched (xv6 faulting at
                        // boot, before it sets stvec): the hart can only fault again. It
                        // yields, as a spinning hart does, so other harts keep full speed.
                        break ExitReason::Yield;
                    }
                    pc = self.pc;
                    continue;
                }
                // On a page with breakpoints every instruction comes this way. A breakpoint
                // at the entry pc stops at once: resuming past one is the caller's business
                // (the machine runs that one instruction with no breakpoints).
                if self.bp_here {
                    if bps.contains(&pc) {
                        break ExitReason::Breakpoint;
                    }
                    self.fetch_tag = INVALID;
                }
            }
            if jit_on && !self.bp_here {
                let heat = bus.icache.heat(self.fetch_slot, pc);
                if heat & icache::REGION == 0 {
                    // Code translated before (a page rewritten, a program run again) is
                    // found at once; new code must be hot first.
                    if heat == 0 && self.reuse_region(bus, pc) {
                        continue;
                    }
                    if heat + 1 < jit::HOT {
                        bus.icache.set_heat(self.fetch_slot, pc, heat + 1);
                    } else {
                        self.translate_region(bus, pc);
                        continue;
                    }
                } else if heat != icache::NO_REGION {
                    let end = if self.quiet {
                        limit.max(quiet_end)
                    } else {
                        limit
                    };
                    // A region that made no progress (its first load or store needs the slow
                    // path) leaves that instruction to the interpreter, below.
                    if let Some(done @ 1..) =
                        self.run_region(bus, heat & !icache::REGION, pc, end - n, bps)
                    {
                        n += done;
                        pc = self.pc;
                        if n > limit {
                            // The polls it ran past would have found nothing new.
                            limit = budget.min(n + to_boundary(self.cycles + n));
                        }
                        continue;
                    }
                }
            }
            n += 1;
            let mut inst = bus.icache.get(self.fetch_slot, pc);
            if inst.op == Op::Undecoded {
                inst = slow!(self.fetch_decode(bus, pc));
            }
            // Source registers are read in the arms that use them, not before dispatch.
            macro_rules! a {
                () => {
                    self.x[(inst.rs1 & 31) as usize]
                };
            }
            macro_rules! b {
                () => {
                    self.x[(inst.rs2 & 31) as usize]
                };
            }
            let imm = inst.imm as i64 as u64;
            let rd = (inst.rd & 31) as usize;
            // The whole dispatch exists twice, for 4- and 2-byte encodings, so that the
            // fall-through pc is `pc + constant`: with the length read from the entry, every
            // instruction's pc would wait for the previous entry's load.
            macro_rules! dispatch {
                ($len:expr) => {{
                    let next = pc.wrapping_add($len);
                    match inst.op {
                        Op::Nop | Op::Fence => pc = next,
                        Op::Lui => {
                            self.x[rd] = imm;
                            pc = next;
                        }
                        Op::Auipc => {
                            self.x[rd] = pc.wrapping_add(imm);
                            pc = next;
                        }
                        Op::Jal => {
                            self.x[rd] = next;
                            self.x[0] = 0;
                            pc = pc.wrapping_add(imm);
                        }
                        Op::Jalr => {
                            // The target first: rd may be rs1.
                            let target = a!().wrapping_add(imm) & !1;
                            self.x[rd] = next;
                            self.x[0] = 0;
                            pc = target;
                        }
                        Op::Beq | Op::Bne => {
                            let taken = (a!() == b!()) == (inst.op == Op::Beq);
                            if !taken {
                                pc = next;
                            } else {
                                // A backward test against zero may be a flag poll (spin.rs).
                                if inst.rs2 == 0 && (imm as i64) < 0 && self.lock_yield && self.spin.backward_branch(pc, a!(), &self.x) {
                                    pc = pc.wrapping_add(imm);
                                    break ExitReason::Yield;
                                }
                                pc = pc.wrapping_add(imm);
                            }
                        }
                        Op::Blt => {
                            pc = if (a!() as i64) < (b!() as i64) {
                                pc.wrapping_add(imm)
                            } else {
                                next
                            }
                        }
                        Op::Bge => {
                            pc = if (a!() as i64) >= (b!() as i64) {
                                pc.wrapping_add(imm)
                            } else {
                                next
                            }
                        }
                        Op::Bltu => pc = if a!() < b!() { pc.wrapping_add(imm) } else { next },
                        Op::Bgeu => pc = if a!() >= b!() { pc.wrapping_add(imm) } else { next },
                        Op::Lb => {
                            self.x[rd] = load!(a!().wrapping_add(imm), 1) as i8 as i64 as u64;
                            self.x[0] = 0;
                            pc = next;
                        }
                        Op::Lh => {
                            self.x[rd] = load!(a!().wrapping_add(imm), 2) as i16 as i64 as u64;
                            self.x[0] = 0;
                            pc = next;
                        }
                        Op::Lw => {
                            self.x[rd] = load!(a!().wrapping_add(imm), 4) as i32 as i64 as u64;
                            self.x[0] = 0;
                            pc = next;
                        }
                        Op::Ld => {
                            self.x[rd] = load!(a!().wrapping_add(imm), 8);
                            self.x[0] = 0;
                            pc = next;
                        }
                        Op::Lbu => {
                            self.x[rd] = load!(a!().wrapping_add(imm), 1);
                            self.x[0] = 0;
                            pc = next;
                        }
                        Op::Lhu => {
                            self.x[rd] = load!(a!().wrapping_add(imm), 2);
                            self.x[0] = 0;
                            pc = next;
                        }
                        Op::Lwu => {
                            self.x[rd] = load!(a!().wrapping_add(imm), 4);
                            self.x[0] = 0;
                            pc = next;
                        }
                        Op::Sb => {
                            store!(a!().wrapping_add(imm), 1, b!());
                            pc = next;
                        }
                        Op::Sh => {
                            store!(a!().wrapping_add(imm), 2, b!());
                            pc = next;
                        }
                        Op::Sw => {
                            store!(a!().wrapping_add(imm), 4, b!());
                            pc = next;
                        }
                        Op::Sd => {
                            store!(a!().wrapping_add(imm), 8, b!());
                            pc = next;
                        }
                        // One arm per operation: `alu` folds to the single case (no second dispatch).
                        Op::Addi => {
                            self.x[rd] = alu(Op::Addi, a!(), imm);
                            pc = next;
                        }
                        Op::Slti => {
                            self.x[rd] = alu(Op::Slti, a!(), imm);
                            pc = next;
                        }
                        Op::Sltiu => {
                            self.x[rd] = alu(Op::Sltiu, a!(), imm);
                            pc = next;
                        }
                        Op::Xori => {
                            self.x[rd] = alu(Op::Xori, a!(), imm);
                            pc = next;
                        }
                        Op::Ori => {
                            self.x[rd] = alu(Op::Ori, a!(), imm);
                            pc = next;
                        }
                        Op::Andi => {
                            self.x[rd] = alu(Op::Andi, a!(), imm);
                            pc = next;
                        }
                        Op::Slli => {
                            self.x[rd] = alu(Op::Slli, a!(), imm);
                            pc = next;
                        }
                        Op::Srli => {
                            self.x[rd] = alu(Op::Srli, a!(), imm);
                            pc = next;
                        }
                        Op::Srai => {
                            self.x[rd] = alu(Op::Srai, a!(), imm);
                            pc = next;
                        }
                        Op::Addiw => {
                            self.x[rd] = alu(Op::Addiw, a!(), imm);
                            pc = next;
                        }
                        Op::Slliw => {
                            self.x[rd] = alu(Op::Slliw, a!(), imm);
                            pc = next;
                        }
                        Op::Srliw => {
                            self.x[rd] = alu(Op::Srliw, a!(), imm);
                            pc = next;
                        }
                        Op::Sraiw => {
                            self.x[rd] = alu(Op::Sraiw, a!(), imm);
                            pc = next;
                        }
                        Op::Add => {
                            self.x[rd] = alu(Op::Add, a!(), b!());
                            pc = next;
                        }
                        Op::Sub => {
                            self.x[rd] = alu(Op::Sub, a!(), b!());
                            pc = next;
                        }
                        Op::Sll => {
                            self.x[rd] = alu(Op::Sll, a!(), b!());
                            pc = next;
                        }
                        Op::Slt => {
                            self.x[rd] = alu(Op::Slt, a!(), b!());
                            pc = next;
                        }
                        Op::Sltu => {
                            self.x[rd] = alu(Op::Sltu, a!(), b!());
                            pc = next;
                        }
                        Op::Xor => {
                            self.x[rd] = alu(Op::Xor, a!(), b!());
                            pc = next;
                        }
                        Op::Srl => {
                            self.x[rd] = alu(Op::Srl, a!(), b!());
                            pc = next;
                        }
                        Op::Sra => {
                            self.x[rd] = alu(Op::Sra, a!(), b!());
                            pc = next;
                        }
                        Op::Or => {
                            self.x[rd] = alu(Op::Or, a!(), b!());
                            pc = next;
                        }
                        Op::And => {
                            self.x[rd] = alu(Op::And, a!(), b!());
                            pc = next;
                        }
                        Op::Addw => {
                            self.x[rd] = alu(Op::Addw, a!(), b!());
                            pc = next;
                        }
                        Op::Subw => {
                            self.x[rd] = alu(Op::Subw, a!(), b!());
                            pc = next;
                        }
                        Op::Sllw => {
                            self.x[rd] = alu(Op::Sllw, a!(), b!());
                            pc = next;
                        }
                        Op::Srlw => {
                            self.x[rd] = alu(Op::Srlw, a!(), b!());
                            pc = next;
                        }
                        Op::Sraw => {
                            self.x[rd] = alu(Op::Sraw, a!(), b!());
                            pc = next;
                        }
                        Op::Mul => {
                            self.x[rd] = alu(Op::Mul, a!(), b!());
                            pc = next;
                        }
                        Op::Mulh => {
                            self.x[rd] = alu(Op::Mulh, a!(), b!());
                            pc = next;
                        }
                        Op::Mulhsu => {
                            self.x[rd] = alu(Op::Mulhsu, a!(), b!());
                            pc = next;
                        }
                        Op::Mulhu => {
                            self.x[rd] = alu(Op::Mulhu, a!(), b!());
                            pc = next;
                        }
                        Op::Div => {
                            self.x[rd] = alu(Op::Div, a!(), b!());
                            pc = next;
                        }
                        Op::Divu => {
                            self.x[rd] = alu(Op::Divu, a!(), b!());
                            pc = next;
                        }
                        Op::Rem => {
                            self.x[rd] = alu(Op::Rem, a!(), b!());
                            pc = next;
                        }
                        Op::Remu => {
                            self.x[rd] = alu(Op::Remu, a!(), b!());
                            pc = next;
                        }
                        Op::Mulw => {
                            self.x[rd] = alu(Op::Mulw, a!(), b!());
                            pc = next;
                        }
                        Op::Divw => {
                            self.x[rd] = alu(Op::Divw, a!(), b!());
                            pc = next;
                        }
                        Op::Divuw => {
                            self.x[rd] = alu(Op::Divuw, a!(), b!());
                            pc = next;
                        }
                        Op::Remw => {
                            self.x[rd] = alu(Op::Remw, a!(), b!());
                            pc = next;
                        }
                        Op::Remuw => {
                            self.x[rd] = alu(Op::Remuw, a!(), b!());
                            pc = next;
                        }
                        Op::LrW | Op::LrD => {
                            let size = if inst.op == Op::LrW { 4 } else { 8 };
                            let value = slow!(self.lr(bus, a!(), size));
                            self.x[rd] = value;
                            self.x[0] = 0;
                            if self.lock_yield && self.spin.atomic_read(pc, value) {
                                pc = next;
                                break ExitReason::Yield;
                            }
                            pc = next;
                        }
                        Op::ScW | Op::ScD => {
                            let size = if inst.op == Op::ScW { 4 } else { 8 };
                            self.x[rd] = slow!(self.sc(bus, a!(), b!(), size));
                            self.x[0] = 0;
                            pc = next;
                        }
                        Op::AmoswapW
                        | Op::AmoaddW
                        | Op::AmoxorW
                        | Op::AmoandW
                        | Op::AmoorW
                        | Op::AmominW
                        | Op::AmomaxW
                        | Op::AmominuW
                        | Op::AmomaxuW
                        | Op::AmoswapD
                        | Op::AmoaddD
                        | Op::AmoxorD
                        | Op::AmoandD
                        | Op::AmoorD
                        | Op::AmominD
                        | Op::AmomaxD
                        | Op::AmominuD
                        | Op::AmomaxuD => {
                            let old = slow!(self.amo(bus, inst.op, a!(), b!()));
                            self.x[rd] = old;
                            self.x[0] = 0;
                            let swap = matches!(inst.op, Op::AmoswapW | Op::AmoswapD);
                            if swap && self.lock_yield && self.spin.atomic_read(pc, old) {
                                pc = next;
                                break ExitReason::Yield;
                            }
                            pc = next;
                        }
                        Op::Csrrw | Op::Csrrs | Op::Csrrc | Op::Csrrwi | Op::Csrrsi | Op::Csrrci => {
                            let csr = inst.imm as u16;
                            self.x[rd] = slow!(self.csr_inst(bus, inst.inst(), a!()));
                            self.x[0] = 0;
                            // CSRRS/CSRRC with x0 and their immediate forms with 0 only read.
                            let writes = matches!(inst.op, Op::Csrrw | Op::Csrrwi) || inst.rs1 != 0;
                            pc = next;
                            if writes && affects_interrupts(csr) {
                                interrupt_now!();
                            }
                            if writes && self.interrupts_left_on(csr) && self.spin.interrupts_enabled(pc, &self.x) {
                                break ExitReason::Yield;
                            }
                        }
                        Op::Ecall => {
                            let c = match self.mode {
                                Mode::User => cause::ECALL_U,
                                Mode::Supervisor => cause::ECALL_S,
                                Mode::Machine => cause::ECALL_M,
                            };
                            trap!(Trap::new(c, 0));
                        }
                        Op::Ebreak => trap!(Trap::new(cause::BREAKPOINT, pc)),
                        Op::Illegal => trap!(Trap::illegal(inst.imm as u32 as u64)),
                        Op::Mret => {
                            // The trap log names the xRET's own pc.
                            self.pc = pc;
                            slow!(self.mret());
                            pc = self.pc;
                            interrupt_now!();
                        }
                        Op::Sret => {
                            // The trap log names the xRET's own pc.
                            self.pc = pc;
                            slow!(self.sret());
                            pc = self.pc;
                            interrupt_now!();
                        }
                        Op::Wfi => {
                            let tw = self.csr.mstatus & MSTATUS_TW != 0;
                            // As QEMU: U may never wait, S not under TW.
                            if self.mode == Mode::User || (self.mode == Mode::Supervisor && tw) {
                                trap!(Trap::illegal(encode::WFI as u64));
                            }
                            bus.now = start + n;
                            pc = next;
                            if !self.wakeable(bus) {
                                self.waiting = true;
                                break ExitReason::Wfi;
                            }
                            limit = n;
                            due = true;
                        }
                        Op::SfenceVma => {
                            let tvm = self.csr.mstatus & MSTATUS_TVM != 0;
                            if self.mode == Mode::User || (self.mode == Mode::Supervisor && tvm) {
                                trap!(Trap::illegal(inst.inst().raw_system() as u64));
                            }
                            self.flush_tlb();
                            pc = next;
                        }
                        Op::FenceI => {
                            bus.icache.flush();
                            self.fetch_tag = INVALID;
                            pc = next;
                        }
                        Op::Undecoded => {
                            // fetch_decode never returns an empty entry.
                            trap!(Trap::illegal(0));
                        }
                    }
                }};
            }
            if inst.rd & icache::SLOT_LONG != 0 {
                dispatch!(4)
            } else {
                dispatch!(2)
            }
        };
        self.pc = pc;
        bus.now = start + n;
        self.last_now = bus.now;
        self.poll_due = due;
        self.cycles += n;
        self.instret += n - self.skipped;
        Exit {
            executed: n,
            reason,
        }
    }

    /// The first machine cycle at which a poll could find other lines than the last one
    /// found, with no device touched in between: when `mtime` reaches `mtimecmp` or
    /// `stimecmp` (lines change otherwise only through device accesses, which poll at once,
    /// or between `run` calls, which start unquiet). A compare already reached stays
    /// reached, time only going forward, until the guest writes it (an MMIO store or a CSR
    /// instruction, neither of which a region runs).
    fn quiet_until(&self, bus: &Bus) -> u64 {
        let ahead = |ticks: u64| {
            let cycle = ticks.saturating_mul(crate::board::CYCLES_PER_TICK);
            if cycle > bus.now { cycle } else { u64::MAX }
        };
        ahead(bus.clint.mtimecmp(self.id)).min(ahead(self.csr.stimecmp))
    }

    /// Notes the region translated before for `pc` from the code now in the fetch page, if
    /// there is one.
    fn reuse_region(&mut self, bus: &mut Bus, pc: u64) -> bool {
        let Some(jit) = bus.jit.as_deref_mut() else {
            return false;
        };
        match jit.reuse(&bus.ram, self.fetch_off, pc) {
            Some(id) => {
                bus.icache
                    .set_heat(self.fetch_slot, pc, icache::REGION | id);
                true
            }
            None => {
                bus.icache.set_heat(self.fetch_slot, pc, 1);
                false
            }
        }
    }

    /// Translates the region starting at `pc` (in the fetch page) and notes it, or notes that
    /// `pc` cannot start one. A full code cache is emptied first.
    #[inline(never)]
    fn translate_region(&mut self, bus: &mut Bus, pc: u64) {
        let Some(jit) = bus.jit.as_deref_mut() else {
            return;
        };
        if jit.full() {
            bus.icache.drop_regions();
            jit.flush();
        }
        let (icache, slot) = (&bus.icache, self.fetch_slot);
        let ran = |pc| icache.get(slot, pc).op != Op::Undecoded;
        let value = match jit.translate(&bus.ram, self.fetch_off, pc, &ran) {
            Some(id) => icache::REGION | id,
            None => icache::NO_REGION,
        };
        bus.icache.set_heat(self.fetch_slot, pc, value);
    }

    /// Runs region `id` from `pc` with at most `left` cycles, then, while each leaves to the
    /// head of another translated region of the same page that fits in what is left, that
    /// one; returns the instructions executed (all retired; `self.pc` is where to go on), or
    /// None when the first cannot start here (it was translated for another virtual
    /// address, or its first block does not fit).
    #[inline(never)]
    fn run_region(
        &mut self,
        bus: &mut Bus,
        id: u32,
        pc: u64,
        left: u64,
        bps: &[u64],
    ) -> Option<u64> {
        let jit = bus.jit.as_deref_mut()?;
        let mut id = id;
        let mut region = jit.region(id);
        if region.head != pc || region.first_len > left || jit.flag_polls != self.lock_yield {
            return None;
        }
        let (ram, flags) = bus.ram.raw_parts();
        let poll = self.spin.flag_poll();
        let lock = self.spin.lock_spin();
        let mut ctx = jit::JitCtx {
            x: self.x.as_mut_ptr(),
            ram,
            flags,
            tlb_load: self.tlb_load.as_ptr(),
            tlb_store: self.tlb_store.as_ptr(),
            key_ls: self.key_ls,
            page_off: self.fetch_off as u64,
            left,
            poll_pc: poll.pc,
            poll_value: poll.value,
            poll_count: poll.count as u64,
            lock_pc: lock.pc,
            lock_value: lock.value,
            lock_reads: lock.reads as u64,
            mstatus: &mut self.csr.mstatus,
            sstatus_ok: self.sstatus_in_regions() as u64,
            pc,
        };
        let mut total = 0;
        loop {
            ctx.left = left - total;
            #[allow(unsafe_code)]
            // SAFETY: the region was generated for this layout of `JitCtx` (jit.rs). It reads
            // and writes only `x` (32 registers), `ctx`'s own fields, RAM at
            // `base + offset` for TLB entries whose page lies wholly in RAM (mmu.rs) with an
            // offset below 4096, and the flag of that page; every pointer is valid and
            // unaliased for the call, since `self` and `bus` are borrowed mutably here.
            let done = unsafe { (region.entry)(&mut ctx) };
            total += done;
            jit.stats.entries += 1;
            jit.ran(id, done);
            let next = ctx.pc;
            if done == 0 {
                break;
            }
            if (next >> 12) | self.key_fetch != self.fetch_tag {
                // Another page: entered here as `enter_page` would, when its translation is
                // in the TLB and its decoded code is still valid; else by the run loop.
                let e = self.tlb_fetch[((next >> 12) & TLB_MASK) as usize];
                if e.tag != (next >> 12) | self.key_fetch {
                    break;
                }
                // A page with breakpoints is the run loop's: it checks every instruction
                // there, the first one included.
                if bps.iter().any(|b| b >> 12 == next >> 12) {
                    break;
                }
                let Some(slot) = bus.icache.valid_slot(&bus.ram, e.base) else {
                    break;
                };
                self.fetch_slot = slot;
                self.fetch_off = e.base;
                self.fetch_tag = e.tag;
                self.bp_here = false;
                ctx.page_off = e.base as u64;
            }
            let heat = bus.icache.heat(self.fetch_slot, next);
            if heat & icache::REGION == 0 || heat == icache::NO_REGION {
                break;
            }
            let r = jit.region(heat & !icache::REGION);
            if r.head != next || r.first_len > left - total {
                break;
            }
            (id, region) = (heat & !icache::REGION, r);
        }
        jit.stats.instructions += total;
        self.spin.set_lock_spin(LockSpin {
            pc: ctx.lock_pc,
            value: ctx.lock_value,
            reads: ctx.lock_reads as u32,
        });
        self.spin.set_flag_poll(FlagPoll {
            pc: ctx.poll_pc,
            value: ctx.poll_value,
            count: ctx.poll_count as u32,
        });
        self.pc = ctx.pc;
        Some(total)
    }

    /// Starts fetching from the page of `pc`: translate, find its decode-cache slot.
    #[inline(never)]
    fn enter_page(&mut self, bus: &mut Bus, pc: u64, bps: &[u64]) -> Result<(), Trap> {
        let vpn = pc >> 12;
        let e = self.tlb_fetch[(vpn & TLB_MASK) as usize];
        let base = if e.tag == vpn | self.key_fetch {
            e.base
        } else {
            let pa = self.translate_mut(bus, pc, Access::Fetch)?;
            bus.ram
                .offset(pa & !0xfff, 4096)
                .ok_or(Trap::new(cause::INST_ACCESS, pc))?
        };
        self.fetch_slot = bus.icache.page(&mut bus.ram, base);
        self.fetch_off = base;
        self.fetch_tag = vpn | self.key_fetch;
        self.bp_here = bps.iter().any(|b| b >> 12 == vpn);
        Ok(())
    }

    /// Decodes the instruction at `pc` in the fetch page into the decode cache. One that
    /// straddles into the next page is fetched through its own translation and not cached.
    #[inline(never)]
    fn fetch_decode(&mut self, bus: &mut Bus, pc: u64) -> Result<Slot, Trap> {
        let off = self.fetch_off + (pc & 0xfff) as usize;
        let lo = bus.ram.load(off, 2) as u32;
        if lo & 3 != 3 || pc & 0xfff != 0xffe {
            let raw = if lo & 3 == 3 {
                bus.ram.load(off, 4) as u32
            } else {
                lo
            };
            let inst = decode(raw).lowered();
            bus.icache.set(self.fetch_slot, pc, inst);
            return Ok(Slot::new(inst));
        }
        let pc2 = pc.wrapping_add(2);
        let pa = self.translate_mut(bus, pc2, Access::Fetch)?;
        let off2 = bus
            .ram
            .offset(pa, 2)
            .ok_or(Trap::new(cause::INST_ACCESS, pc2))?;
        let hi = bus.ram.load(off2, 2) as u32;
        Ok(Slot::new(decode(lo | hi << 16).lowered()))
    }

    /// Time and counters at the cycle of the instruction being executed.
    fn now_in_run(&self, bus: &Bus) -> Now {
        let done = bus.now - self.run_start;
        Now {
            mtime: bus.mtime(),
            cycle: self.cycles + done,
            instret: self.instret + done - self.skipped,
        }
    }

    #[inline(never)]
    fn csr_inst(&mut self, bus: &mut Bus, inst: Inst, a: u64) -> Result<u64, Trap> {
        let csr = inst.imm as u16;
        let uimm = inst.rs1 as u64;
        let (kind, operand, writes) = match inst.op {
            Op::Csrrw => (0, a, true),
            Op::Csrrs => (1, a, inst.rs1 != 0),
            Op::Csrrc => (2, a, inst.rs1 != 0),
            Op::Csrrwi => (0, uimm, true),
            Op::Csrrsi => (1, uimm, uimm != 0),
            _ => (2, uimm, uimm != 0),
        };
        if csr == csra::MIP || csr == csra::SIP {
            self.lines = bus.irq_lines(self.id);
        }
        let now = self.now_in_run(bus);
        self.csr_op(csr, kind, operand, writes, inst.raw_system(), now)
    }

    /// Physical address of a data access, through the TLB or a walk.
    fn data_pa(&mut self, bus: &mut Bus, va: u64, access: Access) -> Result<u64, Trap> {
        let vpn = va >> 12;
        let i = (vpn & TLB_MASK) as usize;
        let e = if access == Access::Store {
            self.tlb_store[i]
        } else {
            self.tlb_load[i]
        };
        if e.tag == vpn | self.key_ls {
            return Ok(crate::board::RAM_BASE + (e.base as u64) + (va & 0xfff));
        }
        self.translate_mut(bus, va, access)
    }

    #[inline(never)]
    fn load_slow(&mut self, bus: &mut Bus, va: u64, size: u64) -> Result<u64, Trap> {
        if !self.watchpoints.is_empty() {
            self.watch_check(va, size, true, false)?;
        }
        if va & (size - 1) != 0 {
            if !self.misaligned_ok {
                return Err(Trap::new(cause::LOAD_MISALIGNED, va));
            }
            let mut v = 0;
            for k in 0..size {
                let a = va.wrapping_add(k);
                let pa = self.translate_mut(bus, a, Access::Load)?;
                let b = self
                    .phys_load(bus, pa, 1)
                    .map_err(|_| Trap::new(cause::LOAD_ACCESS, a))?;
                v |= b << (8 * k);
            }
            return Ok(v);
        }
        let pa = self.translate_mut(bus, va, Access::Load)?;
        if let Some(off) = bus.ram.offset(pa, size) {
            return Ok(bus.ram.load(off, size as usize));
        }
        self.poll = true;
        bus.load(pa, size)
            .map_err(|_| Trap::new(cause::LOAD_ACCESS, va))
    }

    #[inline(never)]
    fn store_slow(&mut self, bus: &mut Bus, va: u64, size: u64, val: u64) -> Result<(), Trap> {
        if !self.watchpoints.is_empty() {
            self.watch_check(va, size, false, true)?;
        }
        if va & (size - 1) != 0 {
            if !self.misaligned_ok {
                return Err(Trap::new(cause::STORE_MISALIGNED, va));
            }
            // Translate every byte before writing any, so that a fault leaves memory as it was.
            let mut pas = [0u64; 8];
            for k in 0..size {
                pas[k as usize] = self.translate_mut(bus, va.wrapping_add(k), Access::Store)?;
            }
            for k in 0..size {
                let byte = (val >> (8 * k)) & 0xff;
                self.phys_store(bus, pas[k as usize], 1, byte)
                    .map_err(|_| Trap::new(cause::STORE_ACCESS, va.wrapping_add(k)))?;
            }
            return Ok(());
        }
        let pa = self.translate_mut(bus, va, Access::Store)?;
        self.phys_store(bus, pa, size, val)
            .map_err(|_| Trap::new(cause::STORE_ACCESS, va))
    }

    /// A store to physical memory through the bus, keeping the fetch page honest.
    fn phys_store(&mut self, bus: &mut Bus, pa: u64, size: u64, val: u64) -> Result<(), ()> {
        match bus.ram.offset(pa, size) {
            Some(off) if off & !0xfff == self.fetch_off => self.fetch_tag = INVALID,
            Some(_) => {}
            // A device write may start DMA into RAM, even into the fetch page.
            None => {
                self.fetch_tag = INVALID;
                self.poll = true;
            }
        }
        bus.store(pa, size, val).map_err(|_| ())?;
        if bus.halt.is_some() {
            self.poll = true;
        }
        Ok(())
    }

    fn phys_load(&mut self, bus: &mut Bus, pa: u64, size: u64) -> Result<u64, ()> {
        if let Some(off) = bus.ram.offset(pa, size) {
            return Ok(bus.ram.load(off, size as usize));
        }
        self.poll = true;
        bus.load(pa, size).map_err(|_| ())
    }

    #[inline(never)]
    fn lr(&mut self, bus: &mut Bus, va: u64, size: u64) -> Result<u64, Trap> {
        if va & (size - 1) != 0 {
            return Err(Trap::new(cause::LOAD_MISALIGNED, va));
        }
        self.watch_check(va, size, true, false)?;
        let pa = self.data_pa(bus, va, Access::Load)?;
        let v = self
            .phys_load(bus, pa, size)
            .map_err(|_| Trap::new(cause::LOAD_ACCESS, va))?;
        let v = if size == 4 { v as i32 as i64 as u64 } else { v };
        self.reservation = Some((va, v));
        Ok(v)
    }

    /// SC succeeds (0) when the reservation is for `va` and memory still holds the value LR
    /// read, as QEMU's compare-and-swap implementation decides; otherwise 1, with no access.
    #[inline(never)]
    fn sc(&mut self, bus: &mut Bus, va: u64, src: u64, size: u64) -> Result<u64, Trap> {
        if va & (size - 1) != 0 {
            return Err(Trap::new(cause::STORE_MISALIGNED, va));
        }
        self.watch_check(va, size, false, true)?;
        let Some((rva, rv)) = self.reservation.take() else {
            return Ok(1);
        };
        if rva != va {
            return Ok(1);
        }
        let pa = self.data_pa(bus, va, Access::Store)?;
        let fault = |_| Trap::new(cause::STORE_ACCESS, va);
        let cur = self.phys_load(bus, pa, size).map_err(fault)?;
        let cur = if size == 4 {
            cur as i32 as i64 as u64
        } else {
            cur
        };
        if cur != rv {
            return Ok(1);
        }
        self.phys_store(bus, pa, size, src).map_err(fault)?;
        Ok(0)
    }

    #[inline(never)]
    fn amo(&mut self, bus: &mut Bus, op: Op, va: u64, src: u64) -> Result<u64, Trap> {
        use Op::*;
        let word = matches!(
            op,
            AmoswapW
                | AmoaddW
                | AmoxorW
                | AmoandW
                | AmoorW
                | AmominW
                | AmomaxW
                | AmominuW
                | AmomaxuW
        );
        let size = if word { 4 } else { 8 };
        // AMOs are store accesses for faults and alignment (§ A extension).
        if va & (size - 1) != 0 {
            return Err(Trap::new(cause::STORE_MISALIGNED, va));
        }
        self.watch_check(va, size, true, true)?;
        let pa = self.data_pa(bus, va, Access::Store)?;
        let fault = |_| Trap::new(cause::STORE_ACCESS, va);
        let raw = self.phys_load(bus, pa, size).map_err(fault)?;
        // Word AMOs work on sign-extended 32-bit values; comparisons follow.
        let (old, src) = if word {
            (raw as i32 as i64 as u64, src as i32 as i64 as u64)
        } else {
            (raw, src)
        };
        let (minu, maxu) = if word {
            (
                (old as u32).min(src as u32) as u64,
                (old as u32).max(src as u32) as u64,
            )
        } else {
            (old.min(src), old.max(src))
        };
        let new = match op {
            AmoswapW | AmoswapD => src,
            AmoaddW | AmoaddD => old.wrapping_add(src),
            AmoxorW | AmoxorD => old ^ src,
            AmoandW | AmoandD => old & src,
            AmoorW | AmoorD => old | src,
            AmominW | AmominD => (old as i64).min(src as i64) as u64,
            AmomaxW | AmomaxD => (old as i64).max(src as i64) as u64,
            AmominuW | AmominuD => minu,
            _ => maxu,
        };
        self.phys_store(bus, pa, size, new).map_err(fault)?;
        Ok(old)
    }
}

/// Whether `va` is a multiple of the access size (a power of two).
#[inline(always)]
fn aligned(va: u64, size: u64) -> bool {
    va & (size - 1) == 0
}

/// The integer ALU: `b` is `rs2` or the immediate.
#[inline(always)]
fn alu(op: Op, a: u64, b: u64) -> u64 {
    let w = |v: u64| v as i32 as i64 as u64;
    match op {
        Op::Add | Op::Addi => a.wrapping_add(b),
        Op::Sub => a.wrapping_sub(b),
        Op::Sll | Op::Slli => a << (b & 63),
        Op::Slt | Op::Slti => ((a as i64) < (b as i64)) as u64,
        Op::Sltu | Op::Sltiu => (a < b) as u64,
        Op::Xor | Op::Xori => a ^ b,
        Op::Srl | Op::Srli => a >> (b & 63),
        Op::Sra | Op::Srai => ((a as i64) >> (b & 63)) as u64,
        Op::Or | Op::Ori => a | b,
        Op::And | Op::Andi => a & b,
        Op::Addw | Op::Addiw => w(a.wrapping_add(b)),
        Op::Subw => w(a.wrapping_sub(b)),
        Op::Sllw | Op::Slliw => w(((a as u32) << (b & 31)) as u64),
        Op::Srlw | Op::Srliw => w(((a as u32) >> (b & 31)) as u64),
        Op::Sraw | Op::Sraiw => ((a as i32) >> (b & 31)) as i64 as u64,
        Op::Mul => a.wrapping_mul(b),
        Op::Mulh => ((a as i64 as i128 * b as i64 as i128) >> 64) as u64,
        Op::Mulhsu => ((a as i64 as i128).wrapping_mul(b as i128) >> 64) as u64,
        Op::Mulhu => ((a as u128 * b as u128) >> 64) as u64,
        // Division by zero and overflow give the spec's results (§M, table 13.1), no trap.
        Op::Div => match b {
            0 => u64::MAX,
            _ => (a as i64).wrapping_div(b as i64) as u64,
        },
        Op::Divu => a.checked_div(b).unwrap_or(u64::MAX),
        Op::Rem => match b {
            0 => a,
            _ => (a as i64).wrapping_rem(b as i64) as u64,
        },
        Op::Remu => a.checked_rem(b).unwrap_or(a),
        Op::Mulw => w(a.wrapping_mul(b)),
        Op::Divw => match b as i32 {
            0 => u64::MAX,
            d => (a as i32).wrapping_div(d) as i64 as u64,
        },
        Op::Divuw => match b as u32 {
            0 => u64::MAX,
            d => w(((a as u32) / d) as u64),
        },
        Op::Remw => match b as i32 {
            0 => w(a),
            d => (a as i32).wrapping_rem(d) as i64 as u64,
        },
        Op::Remuw => match b as u32 {
            0 => w(a),
            d => w(((a as u32) % d) as u64),
        },
        _ => 0,
    }
}

impl Inst {
    /// The encoding of a SYSTEM instruction (none has a compressed form), for `tval` when it
    /// traps as illegal.
    pub fn raw_system(&self) -> u32 {
        let f3 = match self.op {
            Op::Csrrw => 1,
            Op::Csrrs => 2,
            Op::Csrrc => 3,
            Op::Csrrwi => 5,
            Op::Csrrsi => 6,
            Op::Csrrci => 7,
            Op::SfenceVma => {
                return 0x1200_0073 | (self.rs2 as u32) << 20 | (self.rs1 as u32) << 15;
            }
            _ => 0,
        };
        (self.imm as u32 & 0xfff) << 20
            | (self.rs1 as u32 & 31) << 15
            | f3 << 12
            | (self.rd as u32 & 31) << 7
            | 0x73
    }
}

impl Hart {
    /// Whether translated code may run `sstatus` accesses that leave `SIE` clear (jit.rs
    /// `Gen::sstatus`): in S-mode, with no M-level interrupt pending and enabled, including
    /// a supervisor timer of `stimecmp` that is not delegated.
    fn sstatus_in_regions(&self) -> bool {
        use super::csr::{MENVCFG_STCE, MIP_STIP};
        let c = &self.csr;
        let live_stip_to_m = c.menvcfg & MENVCFG_STCE != 0 && c.mideleg & MIP_STIP == 0;
        self.mode == Mode::Supervisor
            && (c.mip | self.lines) & c.mie & !c.mideleg == 0
            && !live_stip_to_m
    }

    /// Whether a write to `csr` left interrupts globally enabled in the current mode: the
    /// moment an idle loop shows itself (see spin.rs).
    fn interrupts_left_on(&self, csr: u16) -> bool {
        const SIE: u64 = 1 << 1;
        const MIE: u64 = 1 << 3;
        match (csr, self.mode) {
            (csra::SSTATUS | csra::MSTATUS, Mode::Supervisor) => self.csr.mstatus & SIE != 0,
            (csra::MSTATUS, Mode::Machine) => self.csr.mstatus & MIE != 0,
            _ => false,
        }
    }
}
