//! Control and status registers (Zicsr, privileged spec chapters 2, 3 and 4).
//!
//! [`Csrs`] stores each register once; the S-mode registers that are views of M-mode ones
//! (`sstatus` of `mstatus`, `sie`/`sip` of `mie`/`mip` through `mideleg`) are computed on
//! access. `mip` keeps only the software-writable bits (SSIP, STIP without Sstc, SEIP); the
//! hardware lines (MSIP, MTIP, MEIP, SEIP) come from the bus and STIP under Sstc from
//! `time >= stimecmp`, OR-ed in when read (see `trap.rs`).
//!
//! Access rules (§2.1, §3.1.11, Sstc): bits 9..8 of the number give the lowest privilege
//! allowed, bits 11..10 = 3 mark a read-only register; counters are gated by
//! `mcounteren`/`scounteren`; `satp` and `sfence.vma` trap in S under `mstatus.TVM`;
//! `stimecmp` in S needs `mcounteren.TM` and `menvcfg.STCE`. Anything else unknown is an
//! illegal instruction. Writes are WARL as QEMU's `virt` CPU implements them.
//!
//! Invariant: after any write that changes translation (satp, MPRV/MPP/SUM/MXR) the hart's
//! TLB keys are recomputed (`update_keys`) or the TLB flushed, so no stale translation is used.

use super::trap::Trap;
use super::{Hart, Mode};

pub const MSTATUS_SIE: u64 = 1 << 1;
pub const MSTATUS_MIE: u64 = 1 << 3;
pub const MSTATUS_SPIE: u64 = 1 << 5;
pub const MSTATUS_MPIE: u64 = 1 << 7;
pub const MSTATUS_SPP: u64 = 1 << 8;
pub const MSTATUS_MPP: u64 = 3 << 11;
pub const MSTATUS_MPRV: u64 = 1 << 17;
pub const MSTATUS_SUM: u64 = 1 << 18;
pub const MSTATUS_MXR: u64 = 1 << 19;
pub const MSTATUS_TVM: u64 = 1 << 20;
pub const MSTATUS_TW: u64 = 1 << 21;
pub const MSTATUS_TSR: u64 = 1 << 22;
/// UXL = SXL = 2 (64-bit), read-only.
pub const MSTATUS_XLEN: u64 = 2 << 32 | 2 << 34;
const MSTATUS_WRITABLE: u64 = MSTATUS_SIE
    | MSTATUS_MIE
    | MSTATUS_SPIE
    | MSTATUS_MPIE
    | MSTATUS_SPP
    | MSTATUS_MPP
    | MSTATUS_MPRV
    | MSTATUS_SUM
    | MSTATUS_MXR
    | MSTATUS_TVM
    | MSTATUS_TW
    | MSTATUS_TSR;
/// The bits of `mstatus` that `sstatus` shows (SIE, SPIE, UBE, SPP, VS, FS, XS, SUM, MXR, UXL,
/// SD) and the subset it may write.
pub(super) const SSTATUS_VIEW: u64 = 0x8000_0003_000d_e762;
pub(super) const SSTATUS_WRITABLE: u64 =
    MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR;

pub const MIP_SSIP: u64 = 1 << 1;
pub const MIP_MSIP: u64 = 1 << 3;
pub const MIP_STIP: u64 = 1 << 5;
pub const MIP_MTIP: u64 = 1 << 7;
pub const MIP_SEIP: u64 = 1 << 9;
pub const MIP_MEIP: u64 = 1 << 11;
const MIE_WRITABLE: u64 = MIP_SSIP | MIP_MSIP | MIP_STIP | MIP_MTIP | MIP_SEIP | MIP_MEIP;
const S_INTERRUPTS: u64 = MIP_SSIP | MIP_STIP | MIP_SEIP;
/// Exceptions QEMU lets M delegate: all but ECALL from M and the reserved codes.
const MEDELEG_WRITABLE: u64 = 0xb3ff;

pub const MENVCFG_STCE: u64 = 1 << 63;
/// `misa`: MXL = 2 (RV64) and the extensions A, C, I, M, S, U.
pub const MISA: u64 = 2 << 62 | 1 << 0 | 1 << 2 | 1 << 8 | 1 << 12 | 1 << 18 | 1 << 20;

/// `satp.MODE` (bits 63:60) for Sv39 (privileged spec §12.1.11, Table 12.3); 0 is Bare.
pub const SATP_MODE_SV39: u64 = 8;
/// Bits of `satp.MODE` and `satp.ASID`, and the width of `satp.PPN` (RV64).
pub const SATP_MODE_SHIFT: u32 = 60;
pub const SATP_ASID_SHIFT: u32 = 44;
pub const SATP_PPN_MASK: u64 = (1 << 44) - 1;

/// `satp.MODE`.
pub const fn satp_mode(satp: u64) -> u64 {
    satp >> SATP_MODE_SHIFT
}

/// Whether `satp` turns Sv39 paging on (the only paging mode of this board).
pub const fn satp_paging(satp: u64) -> bool {
    satp_mode(satp) == SATP_MODE_SV39
}

/// The physical address of the root page table `satp` names.
pub const fn satp_root(satp: u64) -> u64 {
    (satp & SATP_PPN_MASK) << 12
}

/// `satp.ASID` (16 bits on RV64).
pub const fn satp_asid(satp: u64) -> u64 {
    (satp >> SATP_ASID_SHIFT) & 0xffff
}

pub mod addr {
    pub const CYCLE: u16 = 0xc00;
    pub const TIME: u16 = 0xc01;
    pub const INSTRET: u16 = 0xc02;
    pub const SSTATUS: u16 = 0x100;
    pub const SIE: u16 = 0x104;
    pub const STVEC: u16 = 0x105;
    pub const SCOUNTEREN: u16 = 0x106;
    pub const SENVCFG: u16 = 0x10a;
    pub const SSCRATCH: u16 = 0x140;
    pub const SEPC: u16 = 0x141;
    pub const SCAUSE: u16 = 0x142;
    pub const STVAL: u16 = 0x143;
    pub const SIP: u16 = 0x144;
    pub const STIMECMP: u16 = 0x14d;
    pub const SATP: u16 = 0x180;
    pub const MVENDORID: u16 = 0xf11;
    pub const MARCHID: u16 = 0xf12;
    pub const MIMPID: u16 = 0xf13;
    pub const MHARTID: u16 = 0xf14;
    pub const MCONFIGPTR: u16 = 0xf15;
    pub const MSTATUS: u16 = 0x300;
    pub const MISA: u16 = 0x301;
    pub const MEDELEG: u16 = 0x302;
    pub const MIDELEG: u16 = 0x303;
    pub const MIE: u16 = 0x304;
    pub const MTVEC: u16 = 0x305;
    pub const MCOUNTEREN: u16 = 0x306;
    pub const MENVCFG: u16 = 0x30a;
    pub const MCOUNTINHIBIT: u16 = 0x320;
    pub const MSCRATCH: u16 = 0x340;
    pub const MEPC: u16 = 0x341;
    pub const MCAUSE: u16 = 0x342;
    pub const MTVAL: u16 = 0x343;
    pub const MIP: u16 = 0x344;
    pub const PMPCFG0: u16 = 0x3a0;
    pub const PMPADDR0: u16 = 0x3b0;
    pub const MCYCLE: u16 = 0xb00;
    pub const MINSTRET: u16 = 0xb02;
}

/// Name of a CSR, for the disassembler and debuggers.
pub fn csr_name(a: u16) -> Option<&'static str> {
    use addr::*;
    Some(match a {
        CYCLE => "cycle",
        TIME => "time",
        INSTRET => "instret",
        SSTATUS => "sstatus",
        SIE => "sie",
        STVEC => "stvec",
        SCOUNTEREN => "scounteren",
        SENVCFG => "senvcfg",
        SSCRATCH => "sscratch",
        SEPC => "sepc",
        SCAUSE => "scause",
        STVAL => "stval",
        SIP => "sip",
        STIMECMP => "stimecmp",
        SATP => "satp",
        MVENDORID => "mvendorid",
        MARCHID => "marchid",
        MIMPID => "mimpid",
        MHARTID => "mhartid",
        MCONFIGPTR => "mconfigptr",
        MSTATUS => "mstatus",
        MISA => "misa",
        MEDELEG => "medeleg",
        MIDELEG => "mideleg",
        MIE => "mie",
        MTVEC => "mtvec",
        MCOUNTEREN => "mcounteren",
        MENVCFG => "menvcfg",
        MCOUNTINHIBIT => "mcountinhibit",
        MSCRATCH => "mscratch",
        MEPC => "mepc",
        MCAUSE => "mcause",
        MTVAL => "mtval",
        MIP => "mip",
        MCYCLE => "mcycle",
        MINSTRET => "minstret",
        0x7a0 => "tselect",
        0x7a1 => "tdata1",
        0x7a2 => "tdata2",
        0x7a3 => "tdata3",
        0x7a4 => "tinfo",
        0x3a0 => "pmpcfg0",
        0x3a2 => "pmpcfg2",
        0x3b0 => "pmpaddr0",
        0x3b1 => "pmpaddr1",
        0x3b2 => "pmpaddr2",
        0x3b3 => "pmpaddr3",
        _ => return None,
    })
}

/// The CSR state of one hart.
#[derive(Clone, Debug)]
pub struct Csrs {
    /// Writable bits only; UXL/SXL are OR-ed in when read.
    pub mstatus: u64,
    pub medeleg: u64,
    pub mideleg: u64,
    pub mie: u64,
    /// Software-written pending bits (SSIP, STIP, SEIP).
    pub mip: u64,
    pub mtvec: u64,
    pub stvec: u64,
    pub mscratch: u64,
    pub sscratch: u64,
    pub mepc: u64,
    pub sepc: u64,
    pub mcause: u64,
    pub scause: u64,
    pub mtval: u64,
    pub stval: u64,
    pub satp: u64,
    pub pmpcfg: [u64; 16],
    pub pmpaddr: [u64; 64],
    pub menvcfg: u64,
    pub senvcfg: u64,
    pub mcounteren: u64,
    pub scounteren: u64,
    pub mcountinhibit: u64,
    pub stimecmp: u64,
    /// `mcycle - cycles executed` and `minstret - instructions retired`, set by writes.
    pub cycle_delta: u64,
    pub instret_delta: u64,
}

impl Default for Csrs {
    fn default() -> Self {
        Csrs {
            mstatus: 0,
            medeleg: 0,
            mideleg: 0,
            mie: 0,
            mip: 0,
            mtvec: 0,
            stvec: 0,
            mscratch: 0,
            sscratch: 0,
            mepc: 0,
            sepc: 0,
            mcause: 0,
            scause: 0,
            mtval: 0,
            stval: 0,
            satp: 0,
            pmpcfg: [0; 16],
            pmpaddr: [0; 64],
            menvcfg: 0,
            senvcfg: 0,
            mcounteren: 0,
            scounteren: 0,
            mcountinhibit: 0,
            stimecmp: u64::MAX,
            cycle_delta: 0,
            instret_delta: 0,
        }
    }
}

/// Values that a CSR read needs from outside the hart, sampled at the instruction's cycle.
#[derive(Clone, Copy, Debug)]
pub(super) struct Now {
    pub mtime: u64,
    pub cycle: u64,
    pub instret: u64,
}

impl Hart {
    /// Reads CSR `a` with no access check. `None` for an unknown CSR.
    pub(super) fn csr_get(&self, a: u16, now: Now) -> Option<u64> {
        use addr::*;
        let c = &self.csr;
        let mip = self.mip_now(now.mtime);
        Some(match a {
            CYCLE | MCYCLE => now.cycle.wrapping_add(c.cycle_delta),
            INSTRET | MINSTRET => now.instret.wrapping_add(c.instret_delta),
            TIME => now.mtime,
            // hpmcounter3..31 and mhpmcounter3..31, mhpmevent3..31: present, always zero.
            0xc03..=0xc1f | 0xb03..=0xb1f | 0x323..=0x33f => 0,
            // Sdtrig with no triggers: tselect, tdata1..3 read 0; tinfo says "type 0 only".
            0x7a0..=0x7a3 => 0,
            0x7a4 => 1,
            SSTATUS => (c.mstatus | MSTATUS_XLEN) & SSTATUS_VIEW,
            SIE => c.mie & c.mideleg,
            STVEC => c.stvec,
            SCOUNTEREN => c.scounteren,
            SENVCFG => c.senvcfg,
            SSCRATCH => c.sscratch,
            SEPC => c.sepc,
            SCAUSE => c.scause,
            STVAL => c.stval,
            SIP => mip & c.mideleg,
            STIMECMP => c.stimecmp,
            SATP => c.satp,
            MVENDORID | MARCHID | MIMPID | MCONFIGPTR => 0,
            MHARTID => self.id as u64,
            MSTATUS => c.mstatus | MSTATUS_XLEN,
            MISA => super::csr::MISA,
            MEDELEG => c.medeleg,
            MIDELEG => c.mideleg,
            MIE => c.mie,
            MTVEC => c.mtvec,
            MCOUNTEREN => c.mcounteren,
            MENVCFG => c.menvcfg,
            MCOUNTINHIBIT => c.mcountinhibit,
            MSCRATCH => c.mscratch,
            MEPC => c.mepc,
            MCAUSE => c.mcause,
            MTVAL => c.mtval,
            MIP => mip,
            // RV64 has only the even pmpcfg registers (§3.7.1).
            0x3a0..=0x3af if a.is_multiple_of(2) => c.pmpcfg[(a & 15) as usize],
            0x3b0..=0x3ef => c.pmpaddr[(a - 0x3b0) as usize & 63],
            _ => return None,
        })
    }

    /// Writes CSR `a` with no access check, applying its WARL rules. Returns false for an
    /// unknown or read-only CSR. Keeps the translation keys consistent.
    pub(super) fn csr_set(&mut self, a: u16, v: u64, now: Now) -> bool {
        use addr::*;
        let c = &mut self.csr;
        match a {
            MCYCLE => c.cycle_delta = v.wrapping_sub(now.cycle),
            MINSTRET => c.instret_delta = v.wrapping_sub(now.instret),
            0xb03..=0xb1f | 0x323..=0x33f | 0x7a0..=0x7a3 => {}
            SSTATUS => {
                c.mstatus = (c.mstatus & !SSTATUS_WRITABLE) | (v & SSTATUS_WRITABLE);
                self.update_keys();
            }
            SIE => c.mie = (c.mie & !c.mideleg) | (v & c.mideleg & MIE_WRITABLE),
            STVEC => {
                // Modes 2 and 3 are reserved: QEMU ignores such writes.
                if v & 3 < 2 {
                    c.stvec = v;
                }
            }
            SCOUNTEREN => c.scounteren = v & 0xffff_ffff,
            SENVCFG => c.senvcfg = v & 1,
            SSCRATCH => c.sscratch = v,
            SEPC => c.sepc = v & !1,
            SCAUSE => c.scause = v,
            STVAL => c.stval = v,
            SIP => c.mip = (c.mip & !(MIP_SSIP & c.mideleg)) | (v & MIP_SSIP & c.mideleg),
            STIMECMP => c.stimecmp = v,
            SATP => {
                let mode = satp_mode(v);
                // §4.1.11: writes of unsupported modes have no effect (ASID: all 16 bits kept).
                if mode == 0 || mode == SATP_MODE_SV39 {
                    c.satp = v;
                    self.flush_tlb();
                }
            }
            MSTATUS => {
                let mut n = (c.mstatus & !MSTATUS_WRITABLE) | (v & MSTATUS_WRITABLE);
                // MPP is WARL: the reserved value 2 leaves the field unchanged (as QEMU).
                if (v & MSTATUS_MPP) >> 11 == 2 {
                    n = (n & !MSTATUS_MPP) | (c.mstatus & MSTATUS_MPP);
                }
                c.mstatus = n;
                self.update_keys();
            }
            MISA => {} // writable in the spec's sense, but this hart's extensions are fixed
            MEDELEG => c.medeleg = v & MEDELEG_WRITABLE,
            MIDELEG => c.mideleg = v & S_INTERRUPTS,
            MIE => c.mie = v & MIE_WRITABLE,
            MTVEC => {
                if v & 3 < 2 {
                    c.mtvec = v;
                }
            }
            MCOUNTEREN => c.mcounteren = v & 0xffff_ffff,
            MENVCFG => c.menvcfg = v & (MENVCFG_STCE | 1),
            MCOUNTINHIBIT => c.mcountinhibit = v & 0xffff_fffd,
            MSCRATCH => c.mscratch = v,
            MEPC => c.mepc = v & !1,
            MCAUSE => c.mcause = v,
            MTVAL => c.mtval = v,
            MIP => {
                // SSIP, SEIP and (without Sstc) STIP are writable by M; the rest are lines.
                let mut w = MIP_SSIP | MIP_SEIP;
                if c.menvcfg & MENVCFG_STCE == 0 {
                    w |= MIP_STIP;
                }
                c.mip = (c.mip & !w) | (v & w);
            }
            0x3a0..=0x3af if a.is_multiple_of(2) => c.pmpcfg[(a & 15) as usize] = v,
            // pmpaddr holds bits 55..2 of an address (§3.7.1).
            0x3b0..=0x3ef => c.pmpaddr[(a - 0x3b0) as usize & 63] = v & ((1 << 54) - 1),
            _ => return false,
        }
        true
    }

    /// Whether the current mode may access CSR `a` (write: the instruction writes it).
    pub(super) fn csr_allowed(&self, a: u16, write: bool) -> bool {
        let mode = self.mode as u16;
        if (a >> 8) & 3 > mode || (write && (a >> 10) & 3 == 3) {
            return false;
        }
        let c = &self.csr;
        match a {
            // §3.1.11: counter access from S needs mcounteren, from U both enables.
            0xc00..=0xc1f => {
                let bit = 1u64 << (a & 31);
                match self.mode {
                    Mode::Machine => true,
                    Mode::Supervisor => c.mcounteren & bit != 0,
                    Mode::User => c.mcounteren & bit != 0 && c.scounteren & bit != 0,
                }
            }
            addr::SATP => !(self.mode == Mode::Supervisor && c.mstatus & MSTATUS_TVM != 0),
            // Sstc: S-mode access to stimecmp needs mcounteren.TM and menvcfg.STCE.
            addr::STIMECMP => {
                self.mode == Mode::Machine
                    || (c.mcounteren & 2 != 0 && c.menvcfg & MENVCFG_STCE != 0)
            }
            _ => true,
        }
    }

    /// Executes a Zicsr instruction's CSR access: `kind` 0 = write, 1 = set, 2 = clear,
    /// `operand` the source value, `writes` whether the instruction writes at all (CSRRS/C
    /// with x0 or a zero immediate do not). Returns the old value for `rd`.
    pub(super) fn csr_op(
        &mut self,
        a: u16,
        kind: u8,
        operand: u64,
        writes: bool,
        bits: u32,
        now: Now,
    ) -> Result<u64, Trap> {
        self.quiet = false;
        if !self.csr_allowed(a, writes) {
            return Err(Trap::illegal(bits as u64));
        }
        let old = self.csr_get(a, now).ok_or(Trap::illegal(bits as u64))?;
        if writes {
            // The read-modify-write of mip/sip acts on the software-writable bits.
            let base = match a {
                addr::MIP => self.csr.mip,
                addr::SIP => self.csr.mip & self.csr.mideleg,
                _ => old,
            };
            let new = match kind {
                0 => operand,
                1 => base | operand,
                _ => base & !operand,
            };
            if !self.csr_set(a, new, now) {
                return Err(Trap::illegal(bits as u64));
            }
            // A write to a counter replaces the increment of the instruction that writes it
            // (the unprivileged spec, Zicntr): the next instruction reads the written value.
            match a {
                addr::MINSTRET => self.csr.instret_delta = self.csr.instret_delta.wrapping_sub(1),
                addr::MCYCLE => self.csr.cycle_delta = self.csr.cycle_delta.wrapping_sub(1),
                _ => {}
            }
        }
        Ok(old)
    }
}

/// CSRs whose writes may change which interrupts are pending or enabled.
pub(super) fn affects_interrupts(a: u16) -> bool {
    use addr::*;
    matches!(
        a,
        SSTATUS | SIE | SIP | STIMECMP | MSTATUS | MIE | MIP | MIDELEG | MENVCFG
    )
}
