//! CSR access by name or number, and the bit positions the tests use.
//!
//! `csrr!(mstatus)`, `csrw!(0x14d, v)`, `csrs!(mie, bits)`, `csrc!(mip, bits)`: the CSR is
//! pasted into the instruction text, so anything the assembler accepts works, including a
//! number where the assembler lacks a name. Bit values follow the privileged spec (v1.12,
//! §3.1.6 mstatus, §3.1.9 mip/mie, §3.1.15 mcause).

/// Reads a CSR.
#[macro_export]
macro_rules! csrr {
    ($csr:tt) => {{
        let v: u64;
        // SAFETY: reading a CSR has no memory effects; an illegal read traps to the handler.
        unsafe { core::arch::asm!(concat!("csrr {0}, ", stringify!($csr)), out(reg) v) };
        v
    }};
}

/// Writes a CSR.
#[macro_export]
macro_rules! csrw {
    ($csr:tt, $v:expr) => {{
        let v: u64 = $v;
        // SAFETY: the tests own the machine; CSR writes are what they are testing.
        unsafe { core::arch::asm!(concat!("csrw ", stringify!($csr), ", {0}"), in(reg) v) };
    }};
}

/// Sets bits in a CSR.
#[macro_export]
macro_rules! csrs {
    ($csr:tt, $v:expr) => {{
        let v: u64 = $v;
        // SAFETY: as csrw!.
        unsafe { core::arch::asm!(concat!("csrs ", stringify!($csr), ", {0}"), in(reg) v) };
    }};
}

/// Clears bits in a CSR.
#[macro_export]
macro_rules! csrc {
    ($csr:tt, $v:expr) => {{
        let v: u64 = $v;
        // SAFETY: as csrw!.
        unsafe { core::arch::asm!(concat!("csrc ", stringify!($csr), ", {0}"), in(reg) v) };
    }};
}

// mstatus / sstatus fields.
pub const SIE: u64 = 1 << 1;
pub const MIE: u64 = 1 << 3;
pub const SPIE: u64 = 1 << 5;
pub const MPIE: u64 = 1 << 7;
pub const SPP: u64 = 1 << 8;
pub const MPP_SHIFT: u64 = 11;
pub const MPP_MASK: u64 = 3 << MPP_SHIFT;
pub const FS_MASK: u64 = 3 << 13;
pub const MPRV: u64 = 1 << 17;
pub const SUM: u64 = 1 << 18;
pub const MXR: u64 = 1 << 19;
pub const TVM: u64 = 1 << 20;
pub const TW: u64 = 1 << 21;
pub const TSR: u64 = 1 << 22;

// Interrupt numbers (bit positions in mip/mie, codes in mcause with the top bit set).
pub const IRQ_S_SOFT: u64 = 1;
pub const IRQ_M_SOFT: u64 = 3;
pub const IRQ_S_TIMER: u64 = 5;
pub const IRQ_M_TIMER: u64 = 7;
pub const INTERRUPT: u64 = 1 << 63;

// Exception codes (mcause/scause without the interrupt bit).
pub const CAUSE_FETCH_MISALIGNED: u64 = 0;
pub const CAUSE_FETCH_ACCESS: u64 = 1;
pub const CAUSE_ILLEGAL: u64 = 2;
pub const CAUSE_BREAKPOINT: u64 = 3;
pub const CAUSE_LOAD_MISALIGNED: u64 = 4;
pub const CAUSE_LOAD_ACCESS: u64 = 5;
pub const CAUSE_STORE_MISALIGNED: u64 = 6;
pub const CAUSE_STORE_ACCESS: u64 = 7;
pub const CAUSE_ECALL_U: u64 = 8;
pub const CAUSE_ECALL_S: u64 = 9;
pub const CAUSE_ECALL_M: u64 = 11;
pub const CAUSE_FETCH_PAGE: u64 = 12;
pub const CAUSE_LOAD_PAGE: u64 = 13;
pub const CAUSE_STORE_PAGE: u64 = 15;

// menvcfg (CSR 0x30a): STCE enables the Sstc stimecmp comparator.
pub const MENVCFG_STCE: u64 = 1 << 63;

/// `satp` value for Sv39 with root page table at physical address `root` (ASID 0).
pub const fn satp_sv39(root: u64) -> u64 {
    (8 << 60) | (root >> 12)
}
