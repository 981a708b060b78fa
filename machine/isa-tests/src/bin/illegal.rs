//! Illegal-instruction exceptions (cause 2) for encodings a decoder must reject, each with
//! mtval = the instruction bits (16 bits for compressed encodings) and mepc at the
//! instruction. Reserved compressed encodings follow the RVC chapter's table ("reserved"
//! rows); FP instructions are illegal because mstatus.FS is Off (or F is absent).
#![no_std]
#![no_main]

use core::arch::asm;
use isa::check_eq;
use isa::csr::CAUSE_ILLEGAL;
use isa::trap::expect_trap;

isa::entry!(main);

/// Expects the 32-bit word to be an illegal instruction reported with tval = word.
macro_rules! ill32 {
    ($w:literal) => {{
        let mut pc = 0u64;
        let t = expect_trap(|| unsafe { asm!("la {p}, 1f", concat!("1: .word ", $w), p = out(reg) pc) });
        check_eq!(t.cause, CAUSE_ILLEGAL);
        check_eq!(t.epc, pc);
        check_eq!(t.tval, $w);
    }};
}

/// As ill32! for a 16-bit encoding.
macro_rules! ill16 {
    ($h:literal) => {{
        let mut pc = 0u64;
        let t = expect_trap(|| unsafe { asm!("la {p}, 1f", concat!("1: .half ", $h), p = out(reg) pc) });
        check_eq!(t.cause, CAUSE_ILLEGAL);
        check_eq!(t.epc, pc);
        check_eq!(t.tval, $h);
    }};
}

fn main() {
    // 32-bit encodings.
    ill32!(0x0000_000b); // custom-0 opcode, nothing implements it
    ill32!(0xdead_beab); // custom-2 opcode (0x2b)
    ill32!(0x0005_7503); // LOAD with funct3 = 7 (reserved)
    ill32!(0x00a5_4023); // STORE with funct3 = 4 (reserved)
    ill32!(0x0205_151b); // slliw with shamt[5] = 1 (reserved on RV64)
    ill32!(0x4205_551b); // sraiw with shamt[5] = 1
    ill32!(0x4200_0033); // OP with funct7 = 0x21 (no such instruction)
    ill32!(0x00a5_7553); // fadd.s fa0, fa0, fa0 with FS = Off
    ill32!(0x0005_3507); // fld fa0, 0(a0) with FS = Off
    ill32!(0x0020_0073); // uret (the N extension is gone)
    ill32!(0x7b20_0073); // dret outside debug mode
    ill32!(0x7c00_2073); // csrrs x0, 0x7c0, x0: no such CSR
    // 16-bit encodings.
    ill16!(0x0000); // the defined illegal instruction
    ill16!(0x0004); // c.addi4spn with nzuimm = 0
    ill16!(0x6501); // c.lui a0, 0 (nzimm = 0)
    ill16!(0x6101); // c.addi16sp sp, 0 (nzimm = 0)
    ill16!(0x8002); // c.jr x0
    ill16!(0x2001); // c.addiw x0, 0 (rd = 0)
    ill16!(0x4002); // c.lwsp x0, 0(sp) (rd = 0)
    ill16!(0x6002); // c.ldsp x0, 0(sp) (rd = 0)
    ill16!(0x2188); // c.fld fa0, 0(a1) with FS = Off
}
