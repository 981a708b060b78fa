//! Every piece of inline assembly outside the hand-written entry points: control and status
//! register access, interrupt enable bits, TLB fences, and Sv39 page-table-entry arithmetic.
//!
//! Interface: `r_<csr>()` reads a CSR, `w_<csr>(x)` writes it; `intr_on/off/get` manage
//! `sstatus.SIE` for the current hart; `sfence_vma` flushes the TLB; `PTE_*`, `pa2pte`,
//! `pte2pa`, `px` describe Sv39 (privileged spec, section 4.4). Bit positions quote the
//! privileged spec (v1.12, sections 3.1 and 4.1) and the Sstc extension.
//!
//! Invariant: these helpers only touch the current hart's state; callers decide what locks or
//! interrupt state make the access meaningful. Every function is `unsafe`-free to call except
//! where a wrong value can break memory safety (`w_satp`, `w_stvec`, ...), which are `unsafe`.

use core::arch::asm;

macro_rules! csr_read {
    ($(#[$m:meta])* $fn:ident, $csr:literal) => {
        $(#[$m])*
        #[inline(always)]
        pub fn $fn() -> u64 {
            let x: u64;
            // SAFETY: reading a CSR has no side effect on memory.
            unsafe { asm!(concat!("csrr {}, ", $csr), out(reg) x) };
            x
        }
    };
}

macro_rules! csr_write {
    ($(#[$m:meta])* $fn:ident, $csr:literal) => {
        $(#[$m])*
        /// # Safety
        /// The caller guarantees the new value keeps the hart's memory view and trap handling
        /// sound (e.g. a valid page table, a valid trap vector).
        #[inline(always)]
        pub unsafe fn $fn(x: u64) {
            // SAFETY: the caller upholds this function's contract.
            unsafe { asm!(concat!("csrw ", $csr, ", {}"), in(reg) x) };
        }
    };
}

csr_read!(r_mhartid, "mhartid");
csr_read!(r_mstatus, "mstatus");
csr_write!(w_mstatus, "mstatus");
csr_write!(w_mepc, "mepc");
csr_read!(r_sstatus, "sstatus");
csr_write!(w_sstatus, "sstatus");
csr_read!(r_sip, "sip");
csr_write!(w_sip, "sip");
csr_read!(r_sie, "sie");
csr_write!(w_sie, "sie");
csr_read!(r_mie, "mie");
csr_write!(w_mie, "mie");
csr_read!(r_sepc, "sepc");
csr_write!(w_sepc, "sepc");
csr_read!(r_medeleg, "medeleg");
csr_write!(w_medeleg, "medeleg");
csr_read!(r_mideleg, "mideleg");
csr_write!(w_mideleg, "mideleg");
csr_read!(r_stvec, "stvec");
csr_write!(w_stvec, "stvec");
csr_write!(w_pmpcfg0, "pmpcfg0");
csr_write!(w_pmpaddr0, "pmpaddr0");
csr_read!(r_satp, "satp");
csr_write!(w_satp_raw, "satp");
csr_read!(r_scause, "scause");
csr_read!(r_stval, "stval");
csr_read!(r_mcounteren, "mcounteren");
csr_write!(w_mcounteren, "mcounteren");
// menvcfg is CSR 0x30a; old assemblers do not know its name.
csr_read!(r_menvcfg, "0x30a");
csr_write!(w_menvcfg, "0x30a");
// stimecmp (Sstc) is CSR 0x14d.
csr_write!(w_stimecmp, "0x14d");
csr_read!(r_time, "time");

/// mstatus.MPP (bits 12:11): privilege mode `mret` returns to.
pub const MSTATUS_MPP_MASK: u64 = 3 << 11;
pub const MSTATUS_MPP_S: u64 = 1 << 11;

/// sstatus.SPP (bit 8): previous mode, 1 = supervisor.
pub const SSTATUS_SPP: u64 = 1 << 8;
/// sstatus.SPIE (bit 5): SIE before the trap; `sret` copies it back.
pub const SSTATUS_SPIE: u64 = 1 << 5;
/// sstatus.SIE (bit 1): supervisor interrupt enable.
pub const SSTATUS_SIE: u64 = 1 << 1;

/// sie bits: external (9), timer (5), software (1) interrupts.
pub const SIE_SEIE: u64 = 1 << 9;
pub const SIE_STIE: u64 = 1 << 5;
pub const SIE_SSIE: u64 = 1 << 1;

/// menvcfg.STCE (bit 63) turns on Sstc: S-mode may use `stimecmp`.
pub const MENVCFG_STCE: u64 = 1 << 63;
/// mcounteren.TM (bit 1) lets S-mode read the `time` CSR.
pub const MCOUNTEREN_TM: u64 = 1 << 1;

/// satp.MODE = 8 selects Sv39 (privileged spec 4.1.11).
pub const SATP_SV39: u64 = 8 << 60;

/// The satp value that installs page table `pt` (physical address, page aligned).
pub const fn make_satp(pt: u64) -> u64 {
    SATP_SV39 | (pt >> 12)
}

/// Installs a page table.
///
/// # Safety
/// `x` must be a satp value for a page table that maps the code and data in use.
#[inline(always)]
pub unsafe fn w_satp(x: u64) {
    // SAFETY: forwarded contract.
    unsafe { w_satp_raw(x) }
}

/// Flushes all TLB entries of this hart.
#[inline(always)]
pub fn sfence_vma() {
    // SAFETY: a fence changes no memory; it only orders page-table updates with translation.
    unsafe { asm!("sfence.vma zero, zero") };
}

/// Enables device interrupts on this hart.
#[inline(always)]
pub fn intr_on() {
    // SAFETY: setting SIE only allows traps that the installed stvec handles.
    unsafe { asm!("csrs sstatus, {}", in(reg) SSTATUS_SIE) };
}

/// Disables device interrupts on this hart.
#[inline(always)]
pub fn intr_off() {
    // SAFETY: clearing SIE cannot break memory safety.
    unsafe { asm!("csrc sstatus, {}", in(reg) SSTATUS_SIE) };
}

/// Are device interrupts enabled on this hart?
#[inline(always)]
pub fn intr_get() -> bool {
    r_sstatus() & SSTATUS_SIE != 0
}

/// The thread pointer, which holds this hart's id in the kernel (set by `start`).
#[inline(always)]
pub fn r_tp() -> u64 {
    let x: u64;
    // SAFETY: reading a register.
    unsafe { asm!("mv {}, tp", out(reg) x) };
    x
}

/// # Safety
/// Only `start` sets tp: the kernel relies on tp == hartid.
#[inline(always)]
pub unsafe fn w_tp(x: u64) {
    // SAFETY: forwarded contract.
    unsafe { asm!("mv tp, {}", in(reg) x) };
}

/// Waits for an interrupt (a hint; may return at any time).
#[inline(always)]
pub fn wfi() {
    // SAFETY: wfi has no memory effect.
    unsafe { asm!("wfi") };
}

// ---- Sv39 page table entries (privileged spec 4.4.1) ----

pub const PGSIZE: u64 = abi::memlayout::PGSIZE;
pub const PGSHIFT: u64 = 12;

pub const fn pgroundup(a: u64) -> u64 {
    (a + PGSIZE - 1) & !(PGSIZE - 1)
}
pub const fn pgrounddown(a: u64) -> u64 {
    a & !(PGSIZE - 1)
}

pub const PTE_V: u64 = 1 << 0;
pub const PTE_R: u64 = 1 << 1;
pub const PTE_W: u64 = 1 << 2;
pub const PTE_X: u64 = 1 << 3;
pub const PTE_U: u64 = 1 << 4;
/// Accessed: the hart sets it when it uses the mapping (pgaccess reads and clears it).
pub const PTE_A: u64 = 1 << 6;
/// Dirty: the hart sets it when it writes through the mapping.
pub const PTE_D: u64 = 1 << 7;
/// The cow lab's mark, in the first of the two bits the spec reserves for software (RSW,
/// bits 8 and 9): a page shared copy-on-write, mapped without `PTE_W` until written.
pub const PTE_COW: u64 = 1 << 8;

/// The PTE whose PPN field (bits 53:10) holds physical address `pa`.
pub const fn pa2pte(pa: u64) -> u64 {
    (pa >> 12) << 10
}
/// The physical address a PTE points at.
pub const fn pte2pa(pte: u64) -> u64 {
    (pte >> 10) << 12
}
pub const fn pte_flags(pte: u64) -> u64 {
    pte & 0x3ff
}
/// The 9-bit index of `va` in the page table of level `level` (2 = root).
pub const fn px(level: u64, va: u64) -> usize {
    ((va >> (PGSHIFT + 9 * level)) & 0x1ff) as usize
}
