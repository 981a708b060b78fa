//! User pages and the mstatus bits that widen access to them (privileged spec §4.3.1,
//! §4.1.1.2):
//! - U-mode code runs from a page with U set (an alias mapping of `.user_text`) and reaches
//!   U pages; S-only pages fault for it: load 13, store 15, fetch 12, stval = the address;
//! - S-mode faults on U pages unless SUM = 1, and never executes from a U page, SUM or not;
//! - MXR = 1 makes execute-only pages readable (in S and in U), never writable; it does not
//!   lift the U/S separation.
#![no_std]
#![no_main]

use core::arch::{asm, global_asm};
use isa::csr::*;
use isa::lower::{Mode, call_in, run_at};
use isa::trap::{Trap, expect_s_trap, expect_s_trap_ret_ra};
use isa::vm::{self, A, D, R, U, W, X, alloc_page};
use isa::{check_eq, csrc, csrs, csrw};

isa::entry!(main);

// U-mode snippets: position-independent, ending in ecall (which returns to M).
global_asm!(
    r#"
    .section .user_text, "ax"
    .globl u_load, u_store, u_jump
u_load:
    ld a0, 0(a0)
    ecall
u_store:
    sd a1, 0(a0)
    ecall
u_jump:
    jr a0
"#
);

unsafe extern "C" {
    static __user_start: u8;
    fn u_load();
    fn u_store();
    fn u_jump();
}

const B: u64 = 0x1_0000_0000;
const UDATA: u64 = B;
const UCODE: u64 = B + 0x1000;
const SDATA: u64 = B + 0x3000;
const XONLY: u64 = B + 0x4000;
const UXONLY: u64 = B + 0x5000;

const P1_WORD: u64 = 0x0123_4567_89ab_cdef;
const P2_WORD: u64 = 0xfedc_ba98_7654_3210;

/// Address of a U snippet through the UCODE alias.
fn ucode(f: unsafe extern "C" fn()) -> u64 {
    UCODE + (f as *const () as u64 - (&raw const __user_start) as u64)
}

fn main() {
    let (p1, p2) = (alloc_page(), alloc_page());
    // SAFETY: fresh pool pages.
    unsafe {
        (p1 as *mut u64).write_volatile(P1_WORD);
        (p2 as *mut u64).write_volatile(P2_WORD);
    }
    let mut s = vm::base_space();
    s.map(UDATA, p1, 0, U | R | W | A | D);
    s.map(UCODE, (&raw const __user_start) as u64, 0, U | R | X | A);
    s.map(SDATA, p2, 0, R | W | A | D);
    s.map(XONLY, p2, 0, X | A);
    s.map(UXONLY, p2, 0, U | X | A);

    vm::with_satp(s.satp(), || {
        // U-mode: its own pages work...
        let t = run_at(Mode::User, ucode(u_load), UDATA, 0);
        check_eq!(t.cause, CAUSE_ECALL_U);
        check_eq!(t.a0, P1_WORD);
        let t = run_at(Mode::User, ucode(u_store), UDATA + 8, 77);
        check_eq!(t.cause, CAUSE_ECALL_U);
        // ...S pages fault, whatever SUM says.
        csrs!(mstatus, SUM);
        user_fault(
            run_at(Mode::User, ucode(u_load), SDATA, 0),
            CAUSE_LOAD_PAGE,
            SDATA,
        );
        user_fault(
            run_at(Mode::User, ucode(u_store), SDATA + 16, 0),
            CAUSE_STORE_PAGE,
            SDATA + 16,
        );
        let here = main as *const () as u64; // identity-mapped, no U bit
        user_fault(
            run_at(Mode::User, ucode(u_jump), here, 0),
            CAUSE_FETCH_PAGE,
            here,
        );
        csrc!(mstatus, SUM);
        // Execute-only pages: unreadable from U, readable with MXR if they are U pages.
        user_fault(
            run_at(Mode::User, ucode(u_load), UXONLY, 0),
            CAUSE_LOAD_PAGE,
            UXONLY,
        );
        csrs!(mstatus, MXR);
        check_eq!(run_at(Mode::User, ucode(u_load), UXONLY, 0).a0, P2_WORD);
        user_fault(
            run_at(Mode::User, ucode(u_load), XONLY, 0),
            CAUSE_LOAD_PAGE,
            XONLY,
        );
        user_fault(
            run_at(Mode::User, ucode(u_store), UXONLY, 0),
            CAUSE_STORE_PAGE,
            UXONLY,
        );
        csrc!(mstatus, MXR);

        // S-mode, with page faults delegated to its handler.
        csrw!(
            medeleg,
            (1 << CAUSE_FETCH_PAGE) | (1 << CAUSE_LOAD_PAGE) | (1 << CAUSE_STORE_PAGE)
        );
        check_eq!(call_in(Mode::Supervisor, s_checks, ucode(u_jump)), 1);
        csrw!(medeleg, 0);
    });
    // The U store landed.
    // SAFETY: p1 is a pool page.
    check_eq!(unsafe { ((p1 + 8) as *const u64).read_volatile() }, 77);
}

#[track_caller]
fn user_fault(t: Trap, cause: u64, va: u64) {
    let line = core::panic::Location::caller().line() as u64;
    if t.cause != cause || t.tval != va || t.prev != 0 {
        isa::report::mismatch(t.cause, cause);
        isa::report::mismatch(t.tval, va);
        isa::report_fail(line);
    }
}

fn load(va: u64) -> u64 {
    let v: u64;
    // SAFETY: mapped, or the trap is expected.
    unsafe { asm!("ld {v}, 0({a})", v = out(reg) v, a = in(reg) va) };
    v
}

#[track_caller]
fn s_fault(t: Trap, cause: u64, va: u64) {
    let line = core::panic::Location::caller().line() as u64;
    if t.cause != cause || t.tval != va || t.prev != 1 {
        isa::report::mismatch(t.cause, cause);
        isa::report::mismatch(t.tval, va);
        isa::report_fail(line);
    }
}

/// In S-mode: SUM and MXR. `ujump` is a U-page code address.
extern "C" fn s_checks(ujump: u64) -> u64 {
    // Without SUM, U pages are off limits to S.
    s_fault(
        expect_s_trap(|| {
            load(UDATA);
        }),
        CAUSE_LOAD_PAGE,
        UDATA,
    );
    s_fault(
        expect_s_trap(|| unsafe { asm!("sd x0, 8({a})", a = in(reg) UDATA) }),
        CAUSE_STORE_PAGE,
        UDATA + 8,
    );
    // With SUM they can be read and written...
    csrs!(sstatus, SUM);
    check_eq!(load(UDATA), P1_WORD);
    // SAFETY: UDATA is mapped RW and SUM is set.
    unsafe { asm!("sd {v}, 16({a})", v = in(reg) 5u64, a = in(reg) UDATA) };
    check_eq!(load(UDATA + 16), 5);
    // ...but never executed.
    s_fault(
        expect_s_trap_ret_ra(|| unsafe { asm!("jalr ra, 0({a})", a = in(reg) ujump, out("ra") _) }),
        CAUSE_FETCH_PAGE,
        ujump,
    );
    // MXR: execute-only S page readable, not writable.
    s_fault(
        expect_s_trap(|| {
            load(XONLY);
        }),
        CAUSE_LOAD_PAGE,
        XONLY,
    );
    csrs!(sstatus, MXR);
    check_eq!(load(XONLY), P2_WORD);
    s_fault(
        expect_s_trap(|| unsafe { asm!("sd x0, 0({a})", a = in(reg) XONLY) }),
        CAUSE_STORE_PAGE,
        XONLY,
    );
    // MXR with SUM reads an execute-only U page; without SUM it still faults.
    check_eq!(load(UXONLY), P2_WORD);
    csrc!(sstatus, SUM);
    s_fault(
        expect_s_trap(|| {
            load(UXONLY);
        }),
        CAUSE_LOAD_PAGE,
        UXONLY,
    );
    csrc!(sstatus, MXR);
    1
}
