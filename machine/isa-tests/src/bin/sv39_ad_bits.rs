//! Sv39 accessed and dirty bits (privileged spec §4.3.1, §4.3.2 step 7), updated by hardware
//! in the PTE in memory as QEMU does (no page fault for A = 0 or D = 0):
//! - a load sets A only; a store sets A and D; an instruction fetch sets A only;
//! - a store to a page that an earlier load brought into the TLB with D = 0 still sets D;
//! - a megapage leaf gets its A/D bits like a 4 KiB leaf;
//! - an access that faults (a store to a read-only page) leaves the PTE alone;
//! - pointer (non-leaf) PTEs never get A or D.
#![no_std]
#![no_main]

use core::arch::asm;
use isa::csr::*;
use isa::lower::{Mode, call_in};
use isa::trap::expect_s_trap;
use isa::vm::{self, A, D, R, W, X, alloc_page, pte};
use isa::{check_eq, csrw};

isa::entry!(main);

const B: u64 = 0x1_0000_0000;
const LD: u64 = B;
const ST: u64 = B + 0x1000;
const LDST: u64 = B + 0x2000;
const CODE: u64 = B + 0x3000;
const RO: u64 = B + 0x4000;
const MEGA: u64 = 0x1_4000_0000;
const MEGA_PA: u64 = 0x8060_0000;

const OP_LOAD: u64 = 0;
const OP_STORE: u64 = 1;
const OP_CALL: u64 = 2;
const OP_STORE_FAULT: u64 = 3;

fn main() {
    let (data, code) = (alloc_page(), alloc_page());
    // code: addi a0, x0, 42; ret
    // SAFETY: code is a fresh pool page.
    unsafe {
        (code as *mut u32).write_volatile(0x02a0_0513);
        ((code + 4) as *mut u32).write_volatile(0x0000_8067);
        asm!("fence.i");
    }
    let mut s = vm::base_space();
    let ld = s.map(LD, data, 0, R | W);
    let st = s.map(ST, data, 0, R | W);
    let ldst = s.map(LDST, data, 0, R | W);
    let cd = s.map(CODE, code, 0, R | X);
    let ro = s.map(RO, data, 0, R);
    let mega = s.map(MEGA, MEGA_PA, 1, R | W);
    // The root entry for B and the level-1 entry above the 4 KiB leaves are pointers.
    let root_b = s.slot(B, 2);
    let l1_b = s.slot(B, 1);
    let (root_before, l1_before) = (root_b.get(), l1_b.get());

    csrw!(medeleg, 1 << CAUSE_STORE_PAGE);
    vm::with_satp(s.satp(), || {
        check_eq!(ld.get(), pte(data, R | W));
        call_in(Mode::Supervisor, access, OP_LOAD | (LD << 2));
        check_eq!(ld.get(), pte(data, R | W | A));
        call_in(Mode::Supervisor, access, OP_STORE | (ST << 2));
        check_eq!(st.get(), pte(data, R | W | A | D));
        call_in(Mode::Supervisor, access, OP_LOAD | (LDST << 2));
        check_eq!(ldst.get(), pte(data, R | W | A));
        call_in(Mode::Supervisor, access, OP_STORE | (LDST << 2));
        check_eq!(ldst.get(), pte(data, R | W | A | D));
        check_eq!(call_in(Mode::Supervisor, access, OP_CALL | (CODE << 2)), 42);
        check_eq!(cd.get(), pte(code, R | X | A));
        call_in(Mode::Supervisor, access, OP_STORE_FAULT | (RO << 2));
        check_eq!(ro.get(), pte(data, R));
        call_in(Mode::Supervisor, access, OP_LOAD | ((MEGA + 0x1_2000) << 2));
        check_eq!(mega.get(), pte(MEGA_PA, R | W | A));
        call_in(
            Mode::Supervisor,
            access,
            OP_STORE | ((MEGA + 0x10_0000) << 2),
        );
        check_eq!(mega.get(), pte(MEGA_PA, R | W | A | D));
    });
    csrw!(medeleg, 0);
    check_eq!(root_b.get(), root_before);
    check_eq!(l1_b.get(), l1_before);
    check_eq!(root_before & (A | D), 0);
    check_eq!(l1_before & (A | D), 0);
}

/// In S: performs the access `arg & 3` at virtual address `arg >> 2`.
extern "C" fn access(arg: u64) -> u64 {
    let va = arg >> 2;
    match arg & 3 {
        OP_LOAD => {
            let v: u64;
            // SAFETY: va is mapped readable.
            unsafe { asm!("ld {v}, 0({a})", v = out(reg) v, a = in(reg) va) };
            v
        }
        OP_STORE => {
            // SAFETY: va is mapped writable.
            unsafe { asm!("sd x0, 0({a})", a = in(reg) va) };
            0
        }
        OP_CALL => {
            // SAFETY: va holds `li a0, 42; ret`.
            let f: extern "C" fn() -> u64 = unsafe { core::mem::transmute(va) };
            f()
        }
        _ => {
            let t = expect_s_trap(|| unsafe { asm!("sd x0, 0({a})", a = in(reg) va) });
            check_eq!(t.cause, CAUSE_STORE_PAGE);
            check_eq!(t.tval, va);
            0
        }
    }
}
