//! Sv39 translation (privileged spec §4.3-4.4), with page tables built at run time:
//! - 4 KiB pages: loads, stores and fetches through R, RW, X-only and RWX leaves reach the
//!   right physical bytes; two virtual pages can alias one physical page;
//! - page faults with the faulting virtual address in stval: load (13), store (15) and fetch
//!   (12), for invalid PTEs, missing permissions, the reserved W-without-R encoding, a
//!   pointer PTE at level 0, and a virtual address that is not sign-extended from bit 38;
//! - superpages: a 2 MiB megapage and a 1 GiB gigapage (the identity map of RAM that all
//!   S-mode code runs through is one), and misaligned superpages (low PPN bits not zero)
//!   that must fault;
//! - sfence.vma: after a PTE changes, a fence (global, or for one address) makes the new
//!   mapping visible;
//! - the highest pages below and above the hole in the middle of the Sv39 space translate;
//! - a leaf that points at a physical address with nothing behind it gives access faults;
//! - an instruction that straddles into an unmapped page faults with stval = that page;
//! - satp ignores writes with an unsupported MODE;
//! - mstatus.MPRV with MPP = S makes M-mode loads and stores translate like S-mode.
//!
//! Page and access faults are delegated to S through medeleg; the checks run in S-mode.
#![no_std]
#![no_main]

use core::arch::asm;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use isa::csr::*;
use isa::lower::{Mode, call_in};
use isa::trap::{Trap, expect_s_trap, expect_s_trap_ret_ra};
use isa::vm::{self, A, D, Pte, R, Sv39, U, W, X, alloc_page, pte};
use isa::{check_eq, csrc, csrr, csrs, csrw};

isa::entry!(main);

/// Test pages live in the fifth gigabyte of virtual space (VPN[2] = 4).
const B: u64 = 0x1_0000_0000;
const RW: u64 = B;
const RO: u64 = B + 0x1000;
const XO: u64 = B + 0x2000;
const WONLY: u64 = B + 0x3000;
const INVALID: u64 = B + 0x4000;
const UPAGE: u64 = B + 0x5000;
const PTR_AT_L0: u64 = B + 0x6000;
const SWAP: u64 = B + 0x7000;
const RWX: u64 = B + 0x8000;
/// An executable page followed by an unmapped one.
const STRADDLE: u64 = B + 0x9000;
/// The top page of the lower half (xv6's trampoline) and the top page of the upper half.
const TOP_LOW: u64 = abi::memlayout::TRAMPOLINE;
const TOP_HIGH: u64 = 0xffff_ffff_ffff_f000;
/// A valid leaf whose physical page does not exist (past the end of RAM).
const TO_HOLE: u64 = B + 0xb000;
/// Megapages in the sixth gigabyte (VPN[2] = 5).
const MEGA: u64 = 0x1_4000_0000;
const MEGA_ALIAS: u64 = 0x1_4020_0000;
const MEGA_MISALIGNED: u64 = 0x1_4040_0000;
/// Gigapages: an alias of RAM (VPN[2] = 6) and a misaligned one (VPN[2] = 7).
const GIGA: u64 = 0x1_8000_0000;
const GIGA_MISALIGNED: u64 = 0x1_c000_0000;
/// A physical 2 MiB region of RAM well past the test image.
const MEGA_PA: u64 = 0x8060_0000;
/// Bit 39 set, bits 63..40 clear: not a canonical Sv39 address.
const NONCANONICAL: u64 = 0x0000_0080_0000_0000;

static P1: AtomicU64 = AtomicU64::new(0);
static P2: AtomicU64 = AtomicU64::new(0);
static SWAP_PTE: AtomicU64 = AtomicU64::new(0);
static MARKER: AtomicU64 = AtomicU64::new(0x4d41_524b);

const SEED1: u64 = 0x1111_0000_0000_0000;
const SEED2: u64 = 0x2222_0000_0000_0000;

/// Word `i` of a page filled from `seed`.
const fn word(seed: u64, i: u64) -> u64 {
    seed ^ (i * 0x0101_0101_0101)
}

fn fill(pa: u64, seed: u64) {
    for i in 0..512 {
        // SAFETY: pa is a whole pool page.
        unsafe { ((pa + 8 * i) as *mut u64).write_volatile(word(seed, i)) };
    }
}

fn main() {
    let (p1, p2, code) = (alloc_page(), alloc_page(), alloc_page());
    P1.store(p1, Relaxed);
    P2.store(p2, Relaxed);
    fill(p1, SEED1);
    fill(p2, SEED2);
    // code: addi a0, x0, 42; ret
    // SAFETY: code is a fresh pool page.
    unsafe {
        (code as *mut u32).write_volatile(0x02a0_0513);
        ((code + 4) as *mut u32).write_volatile(0x0000_8067);
        asm!("fence.i");
    }
    // SAFETY: MEGA_PA is RAM that nothing else uses.
    unsafe {
        ((MEGA_PA + 0x1_2340) as *mut u64).write_volatile(0x6d65_6761);
        ((MEGA_PA + 0x1_f000) as *mut u64).write_volatile(0x1f00);
    }

    let mut s: Sv39 = vm::base_space();
    s.map(RW, p1, 0, R | W | A | D);
    s.map(RO, p1, 0, R | A);
    s.map(XO, code, 0, X | A);
    s.map(WONLY, p2, 0, W | A | D);
    s.map(UPAGE, p1, 0, U | R | W | A | D);
    s.slot(PTR_AT_L0, 0).set(pte(p2, 0)); // V only: a pointer where a leaf must be
    SWAP_PTE.store(s.map(SWAP, p1, 0, R | W | A | D).addr(), Relaxed);
    s.map(RWX, code, 0, R | W | X | A | D);
    // Last 4 bytes of an X page: c.nop, then the first half of a 32-bit addi; the second
    // half would be on the next page, which is unmapped.
    let code2 = alloc_page();
    // SAFETY: code2 is a fresh pool page.
    unsafe {
        ((code2 + 0xffc) as *mut u16).write_volatile(0x0001);
        ((code2 + 0xffe) as *mut u16).write_volatile(0x0513);
        asm!("fence.i");
    }
    s.map(STRADDLE, code2, 0, X | A);
    s.map(TO_HOLE, 0x8800_0000, 0, R | W | X | A | D);
    s.map(TOP_LOW, p1, 0, R | A);
    s.map(TOP_HIGH, p2, 0, R | A);
    s.map(MEGA, MEGA_PA, 1, R | W | A | D);
    s.map(MEGA_ALIAS, MEGA_PA, 1, R | A);
    s.map(MEGA_MISALIGNED, MEGA_PA + 0x1000, 1, R | W | A | D);
    s.map(GIGA, 0x8000_0000, 2, R | W | A | D);
    s.map(GIGA_MISALIGNED, 0x8020_0000, 2, R | W | A | D);

    // satp is WARL: a write with an unsupported MODE (here a reserved one) has no effect.
    csrw!(satp, s.satp());
    csrw!(satp, (5 << 60) | 0x1234);
    check_eq!(csrr!(satp), s.satp());
    csrw!(satp, 0);
    check_eq!(csrr!(satp), 0);

    csrw!(
        medeleg,
        (1 << CAUSE_FETCH_PAGE)
            | (1 << CAUSE_LOAD_PAGE)
            | (1 << CAUSE_STORE_PAGE)
            | (1 << CAUSE_FETCH_ACCESS)
            | (1 << CAUSE_LOAD_ACCESS)
            | (1 << CAUSE_STORE_ACCESS)
    );
    vm::with_satp(s.satp(), || {
        check_eq!(call_in(Mode::Supervisor, s_checks, 0), 1);
        check_eq!(call_in(Mode::Supervisor, s_superpages, 0), 1);
        check_eq!(call_in(Mode::Supervisor, s_sfence, 0), 1);
    });
    csrw!(medeleg, 0);
    check_eq!(swap_pte().get(), pte(p2, R | W | A | D));

    // MPRV: M-mode data accesses translated as S with satp on.
    csrw!(satp, s.satp());
    vm::sfence_all();
    csrc!(mstatus, MPP_MASK);
    csrs!(mstatus, (1 << MPP_SHIFT) | MPRV);
    let v = load(RW + 16);
    store(RW + 24, 0x5a5a);
    csrc!(mstatus, MPRV | MPP_MASK);
    csrw!(satp, 0);
    vm::sfence_all();
    check_eq!(v, word(SEED1, 2));
    // SAFETY: p1 is a pool page.
    check_eq!(unsafe { ((p1 + 24) as *const u64).read_volatile() }, 0x5a5a);
}

fn swap_pte() -> Pte {
    // SAFETY: SWAP_PTE holds the address of the entry Sv39::map returned for SWAP.
    unsafe { Pte::from_addr(SWAP_PTE.load(Relaxed)) }
}

fn load(va: u64) -> u64 {
    let v: u64;
    // SAFETY: va is mapped (or the trap is expected by the caller).
    unsafe { asm!("ld {v}, 0({a})", v = out(reg) v, a = in(reg) va) };
    v
}

fn store(va: u64, v: u64) {
    // SAFETY: as load.
    unsafe { asm!("sd {v}, 0({a})", v = in(reg) v, a = in(reg) va) };
}

#[track_caller]
fn fault(t: Trap, cause: u64, va: u64) {
    let line = core::panic::Location::caller().line() as u64;
    if t.cause != cause || t.tval != va {
        isa::report::mismatch(t.cause, cause);
        isa::report::mismatch(t.tval, va);
        isa::report_fail(line);
    }
}

fn load_fault(va: u64) -> Trap {
    expect_s_trap(|| {
        let _ = load(va);
    })
}

fn store_fault(va: u64) -> Trap {
    expect_s_trap(|| store(va, 0))
}

fn fetch_fault(va: u64) -> Trap {
    expect_s_trap_ret_ra(|| unsafe { asm!("jalr ra, 0({a})", a = in(reg) va, out("ra") _) })
}

fn call(va: u64) -> u64 {
    // SAFETY: va holds `li a0, 42; ret`.
    let f: extern "C" fn() -> u64 = unsafe { core::mem::transmute(va) };
    f()
}

/// 4 KiB pages and page faults, in S-mode.
extern "C" fn s_checks(_: u64) -> u64 {
    let v8 = word(SEED1, 1);
    check_eq!(load(RW + 8), v8);
    check_eq!(load(RO + 8), v8);
    store(RW + 0xff8, 0x1234);
    check_eq!(load(RO + 0xff8), 0x1234); // alias of the same page
    check_eq!(call(XO), 42);
    check_eq!(call(RWX), 42);
    check_eq!(load(RWX), 0x0000_8067_02a0_0513); // the same code, as data
    // Permissions.
    fault(store_fault(RO + 0x10), CAUSE_STORE_PAGE, RO + 0x10);
    fault(load_fault(XO + 8), CAUSE_LOAD_PAGE, XO + 8);
    fault(store_fault(XO), CAUSE_STORE_PAGE, XO);
    fault(fetch_fault(RW), CAUSE_FETCH_PAGE, RW);
    fault(fetch_fault(RO + 0x100), CAUSE_FETCH_PAGE, RO + 0x100);
    // W without R is reserved: every access faults.
    fault(load_fault(WONLY), CAUSE_LOAD_PAGE, WONLY);
    fault(store_fault(WONLY + 8), CAUSE_STORE_PAGE, WONLY + 8);
    // Invalid entries, and a pointer PTE where a leaf must be.
    fault(load_fault(INVALID + 0x18), CAUSE_LOAD_PAGE, INVALID + 0x18);
    fault(store_fault(INVALID), CAUSE_STORE_PAGE, INVALID);
    fault(fetch_fault(INVALID + 4), CAUSE_FETCH_PAGE, INVALID + 4);
    fault(load_fault(PTR_AT_L0), CAUSE_LOAD_PAGE, PTR_AT_L0);
    // Nothing mapped at all in this gigabyte of the root table.
    fault(load_fault(0x2_0000_0000), CAUSE_LOAD_PAGE, 0x2_0000_0000);
    // A user page from S without SUM.
    fault(load_fault(UPAGE), CAUSE_LOAD_PAGE, UPAGE);
    // Not sign-extended from bit 38.
    fault(load_fault(NONCANONICAL), CAUSE_LOAD_PAGE, NONCANONICAL);
    fault(
        store_fault(NONCANONICAL + 8),
        CAUSE_STORE_PAGE,
        NONCANONICAL + 8,
    );
    // An instruction whose second half lies on an unmapped page: the fault is at the
    // instruction (sepc) and stval names the first byte that could not be fetched.
    let t = fetch_fault(STRADDLE + 0xffc);
    check_eq!(t.epc, STRADDLE + 0xffe);
    fault(t, CAUSE_FETCH_PAGE, STRADDLE + 0x1000);
    // The ends of the address space: bit 38 clear (VPN[2] = 255) and set (VPN[2] = 511,
    // bits 63..39 all ones).
    check_eq!(load(TOP_LOW + 0xff0), word(SEED1, 510));
    check_eq!(load(TOP_HIGH + 0xff8), word(SEED2, 511));
    // Translation succeeds but nothing answers at the physical address: access faults
    // (1/5/7), not page faults, with stval = the virtual address.
    fault(load_fault(TO_HOLE + 8), CAUSE_LOAD_ACCESS, TO_HOLE + 8);
    fault(store_fault(TO_HOLE + 16), CAUSE_STORE_ACCESS, TO_HOLE + 16);
    fault(fetch_fault(TO_HOLE), CAUSE_FETCH_ACCESS, TO_HOLE);
    // A misaligned load within a page still translates (QEMU performs it).
    check_eq!(
        load(RW + 0x14),
        (word(SEED1, 2) >> 32) | (word(SEED1, 3) << 32)
    );
    1
}

/// Superpages, in S-mode.
extern "C" fn s_superpages(_: u64) -> u64 {
    check_eq!(load(MEGA + 0x1_2340), 0x6d65_6761);
    check_eq!(load(MEGA + 0x1_f000), 0x1f00);
    store(MEGA + 0x1_fff8, 77);
    check_eq!(load(MEGA_ALIAS + 0x1_fff8), 77);
    fault(
        store_fault(MEGA_ALIAS + 8),
        CAUSE_STORE_PAGE,
        MEGA_ALIAS + 8,
    );
    fault(
        load_fault(MEGA_MISALIGNED + 0x1_2340),
        CAUSE_LOAD_PAGE,
        MEGA_MISALIGNED + 0x1_2340,
    );
    fault(
        load_fault(GIGA_MISALIGNED),
        CAUSE_LOAD_PAGE,
        GIGA_MISALIGNED,
    );
    // The gigapage alias of RAM sees this program's own data.
    let m = (&raw const MARKER) as u64;
    check_eq!(load(GIGA + (m - 0x8000_0000)), 0x4d41_524b);
    1
}

/// sfence.vma after remapping a page, in S-mode (the page tables are mapped RW in RAM).
extern "C" fn s_sfence(_: u64) -> u64 {
    let p = swap_pte();
    check_eq!(load(SWAP), word(SEED1, 0));
    p.set(pte(P2.load(Relaxed), R | W | A | D));
    // SAFETY: a fence for one address.
    unsafe { asm!("sfence.vma {a}, x0", a = in(reg) SWAP) };
    check_eq!(load(SWAP), word(SEED2, 0));
    p.set(pte(P1.load(Relaxed), R | W | A | D));
    vm::sfence_all();
    check_eq!(load(SWAP + 8), word(SEED1, 1));
    // Invalidate it: the next access faults.
    p.set(0);
    vm::sfence_all();
    fault(load_fault(SWAP), CAUSE_LOAD_PAGE, SWAP);
    p.set(pte(P2.load(Relaxed), R | W | A | D));
    vm::sfence_all();
    check_eq!(load(SWAP), word(SEED2, 0));
    1
}
