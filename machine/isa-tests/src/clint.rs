//! The CLINT (core-local interruptor) of the virt board, as SiFive laid it out:
//! `msip[hart]` at +0x0 (4 bytes each, bit 0 raises MSIP), `mtimecmp[hart]` at +0x4000
//! (8 bytes each; MTIP is pending while mtime >= mtimecmp), `mtime` at +0xbff8 (10 MHz).
use abi::memlayout::CLINT;

const MSIP: u64 = CLINT;
const MTIMECMP: u64 = CLINT + 0x4000;
const MTIME: u64 = CLINT + 0xbff8;

pub fn mtime() -> u64 {
    // SAFETY: CLINT register, 8-byte aligned.
    unsafe { core::ptr::read_volatile(MTIME as *const u64) }
}

pub fn set_mtimecmp(hart: u64, v: u64) {
    // SAFETY: CLINT register, 8-byte aligned.
    unsafe { core::ptr::write_volatile((MTIMECMP + 8 * hart) as *mut u64, v) }
}

pub fn mtimecmp(hart: u64) -> u64 {
    // SAFETY: CLINT register, 8-byte aligned.
    unsafe { core::ptr::read_volatile((MTIMECMP + 8 * hart) as *const u64) }
}

pub fn set_msip(hart: u64, v: u32) {
    // SAFETY: CLINT register, 4-byte aligned.
    unsafe { core::ptr::write_volatile((MSIP + 4 * hart) as *mut u32, v) }
}

pub fn msip(hart: u64) -> u32 {
    // SAFETY: CLINT register, 4-byte aligned.
    unsafe { core::ptr::read_volatile((MSIP + 4 * hart) as *const u32) }
}
