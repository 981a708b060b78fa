//! The platform-level interrupt controller (PLIC) of QEMU virt: routes the UART (IRQ 10) and
//! the virtio disk (IRQ 1) to each hart's supervisor context.
//!
//! Interface: `plicinit()` once (source priorities), `plicinithart()` on every hart (enable
//! bits and threshold of its S-mode context), `plic_claim()`/`plic_complete(irq)` around the
//! handling of an external interrupt.
//!
//! Register map (SiFive PLIC, as QEMU virt lays it out): priority of source n at
//! `PLIC + 4n`; S-mode context of hart h: enable bits at `PLIC + 0x2080 + 0x100h`, threshold
//! at `PLIC + 0x20_1000 + 0x2000h`, claim/complete at `PLIC + 0x20_1004 + 0x2000h`.
//!
//! Invariant: a claimed IRQ is not delivered again until completed, so each handler runs on
//! one hart at a time.

use crate::proc::cpuid;
use abi::memlayout::{PLIC, UART0_IRQ, VIRTIO0_IRQ};

fn w32(addr: u64, v: u32) {
    // SAFETY: PLIC registers are identity-mapped by the kernel page table; MMIO is volatile.
    unsafe { (addr as *mut u32).write_volatile(v) }
}
fn r32(addr: u64) -> u32 {
    // SAFETY: as w32.
    unsafe { (addr as *const u32).read_volatile() }
}

fn senable(hart: usize) -> u64 {
    PLIC + 0x2080 + hart as u64 * 0x100
}
fn spriority(hart: usize) -> u64 {
    PLIC + 0x20_1000 + hart as u64 * 0x2000
}
fn sclaim(hart: usize) -> u64 {
    PLIC + 0x20_1004 + hart as u64 * 0x2000
}

pub fn plicinit() {
    // A non-zero priority enables the source.
    w32(PLIC + UART0_IRQ as u64 * 4, 1);
    w32(PLIC + VIRTIO0_IRQ as u64 * 4, 1);
}

pub fn plicinithart() {
    let hart = cpuid();
    w32(senable(hart), (1 << UART0_IRQ) | (1 << VIRTIO0_IRQ));
    // Threshold 0: accept every enabled source with priority > 0.
    w32(spriority(hart), 0);
}

/// The IRQ this hart should serve (0 if none).
pub fn plic_claim() -> u32 {
    r32(sclaim(cpuid()))
}

/// Tells the PLIC this hart has served `irq`.
pub fn plic_complete(irq: u32) {
    w32(sclaim(cpuid()), irq);
}
