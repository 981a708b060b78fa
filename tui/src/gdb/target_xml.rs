//! The register file as gdb sees it: the `Arch` of xv6scope's harts and the target
//! description XML that names every register.
//!
//! Numbering (the remote protocol's register numbers, given to gdb through `regnum` in the
//! XML) follows gdb's own RISC-V numbering, which QEMU's stub uses as well:
//! - 0..=31 `x0`..`x31` under their ABI names, 32 `pc` (feature `org.gnu.gdb.riscv.cpu`);
//! - 33..=64 `f0`..`f31` and CSRs 1..=3 (`fflags`, `frm`, `fcsr`) in `org.gnu.gdb.riscv.fpu`:
//!   the hart has no F/D, but xv6 kernels are built for the lp64d ABI and gdb refuses a
//!   target whose description lacks the FP registers such an ELF implies ("bfd requires
//!   flen 8"). They read as zero and refuse writes;
//! - 65 + n for CSR number n (feature `org.gnu.gdb.riscv.csr`), one entry per CSR the hart
//!   implements;
//! - 4161 `priv`, the current privilege mode (0 U, 1 S, 3 M) as QEMU exposes it under
//!   `org.gnu.gdb.riscv.virtual`.
//!
//! The `g` packet carries only x0..x31 and pc; gdb fetches the CSRs and `priv` one at a time
//! with `p`/`P` (a short `g` reply tells it to), as it does against QEMU.

use gdbstub::arch::{Arch, RegId};
use machine::cpu::Hart;
use machine::cpu::csr::csr_name;
use std::fmt::Write;
use std::num::NonZeroUsize;

/// Remote register number of CSR 0.
pub const FIRST_CSR: usize = 65;
/// Remote register number of the virtual `priv` register.
pub const PRIV: usize = FIRST_CSR + 4096;

/// RV64 as xv6scope implements it (no F/D registers).
pub enum Rv64 {}

impl Arch for Rv64 {
    type Usize = u64;
    type Registers = gdbstub_arch::riscv::reg::RiscvCoreRegs<u64>;
    type BreakpointKind = usize;
    type RegId = Reg;

    fn target_description_xml() -> Option<&'static str> {
        // The description depends on the hart's CSR set; see `TargetDescriptionXmlOverride`.
        None
    }
}

/// One register, as named by a `p`/`P` packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    X(u8),
    Pc,
    /// f0..f31: always zero on this hart.
    F(u8),
    Csr(u16),
    Priv,
}

impl RegId for Reg {
    fn from_raw_id(id: usize) -> Option<(Self, Option<NonZeroUsize>)> {
        let reg = match id {
            0..=31 => Reg::X(id as u8),
            32 => Reg::Pc,
            33..=64 => Reg::F((id - 33) as u8),
            PRIV => Reg::Priv,
            n if (FIRST_CSR..PRIV).contains(&n) => Reg::Csr((n - FIRST_CSR) as u16),
            _ => return None,
        };
        Some((reg, NonZeroUsize::new(8)))
    }

    fn to_raw_id(&self) -> Option<usize> {
        Some(match *self {
            Reg::X(n) => n as usize,
            Reg::Pc => 32,
            Reg::F(n) => 33 + n as usize,
            Reg::Csr(n) => FIRST_CSR + n as usize,
            Reg::Priv => PRIV,
        })
    }
}

/// Reads one register of `hart`; None if the hart has no such register.
pub fn read(hart: &Hart, reg: Reg) -> Option<u64> {
    match reg {
        Reg::X(n) => hart.x.get(n as usize).copied(),
        Reg::Pc => Some(hart.pc),
        Reg::F(_) => Some(0),
        Reg::Csr(n) if FP_CSRS.contains(&n) => Some(0),
        Reg::Csr(n) => hart.csr_read(n),
        Reg::Priv => Some(hart.mode as u64),
    }
}

/// The session's name of a register gdb writes (the F registers are not emulated: None).
pub fn session_reg(reg: Reg) -> Option<session::Reg> {
    Some(match reg {
        Reg::X(n) => session::Reg::X(n),
        Reg::Pc => session::Reg::Pc,
        Reg::F(_) => return None,
        Reg::Csr(n) => session::Reg::Csr(n),
        Reg::Priv => session::Reg::Priv,
    })
}

/// fflags, frm, fcsr: gdb's RISC-V support requires them with the F registers.
const FP_CSRS: [u16; 3] = [1, 2, 3];

/// ABI names of x0..x31, the names gdb's RISC-V support expects in `org.gnu.gdb.riscv.cpu`.
pub const ABI_NAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];

/// The CSR numbers the description lists: every CSR with a name that `hart` implements.
pub fn csr_list(hart: &Hart) -> Vec<u16> {
    (0u16..4096)
        .filter(|&n| csr_name(n).is_some() && hart.csr_read(n).is_some())
        .collect()
}

/// The whole target description as one document (no `xi:include`).
pub fn build(hart: &Hart) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n\
         <architecture>riscv:rv64</architecture>\n<feature name=\"org.gnu.gdb.riscv.cpu\">\n",
    );
    for (n, name) in ABI_NAMES.iter().enumerate() {
        // ra and pc hold code addresses, sp/gp/tp data addresses: gdb prints them as such.
        let ty = match n {
            1 => "code_ptr",
            2..=4 => "data_ptr",
            _ => "int",
        };
        let _ = writeln!(
            s,
            "  <reg name=\"{name}\" bitsize=\"64\" type=\"{ty}\" regnum=\"{n}\"/>"
        );
    }
    s.push_str("  <reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"32\"/>\n</feature>\n");
    s.push_str("<feature name=\"org.gnu.gdb.riscv.fpu\">\n");
    for n in 0..32 {
        let _ = writeln!(
            s,
            "  <reg name=\"f{n}\" bitsize=\"64\" type=\"ieee_double\" regnum=\"{}\" group=\"float\"/>",
            33 + n
        );
    }
    for (n, name) in FP_CSRS.iter().zip(["fflags", "frm", "fcsr"]) {
        let _ = writeln!(
            s,
            "  <reg name=\"{name}\" bitsize=\"64\" type=\"int\" regnum=\"{}\" group=\"float\"/>",
            FIRST_CSR + *n as usize
        );
    }
    s.push_str("</feature>\n<feature name=\"org.gnu.gdb.riscv.csr\">\n");
    for n in csr_list(hart) {
        if let Some(name) = csr_name(n) {
            let _ = writeln!(
                s,
                "  <reg name=\"{name}\" bitsize=\"64\" type=\"int\" regnum=\"{}\" group=\"system\"/>",
                FIRST_CSR + n as usize
            );
        }
    }
    s.push_str("</feature>\n<feature name=\"org.gnu.gdb.riscv.virtual\">\n");
    let _ = writeln!(
        s,
        "  <reg name=\"priv\" bitsize=\"64\" type=\"int\" regnum=\"{PRIV}\" group=\"general\"/>"
    );
    s.push_str("</feature>\n</target>\n");
    s
}

/// Serves `doc[offset..offset + length]` into `buf` (the `qXfer:features:read` window).
pub fn window(doc: &str, offset: u64, length: usize, buf: &mut [u8]) -> usize {
    let bytes = doc.as_bytes();
    let Ok(start) = usize::try_from(offset) else {
        return 0;
    };
    if start >= bytes.len() {
        return 0;
    }
    let n = length.min(buf.len()).min(bytes.len() - start);
    buf[..n].copy_from_slice(&bytes[start..start + n]);
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use machine::cpu::Mode;

    #[test]
    fn register_numbers_round_trip() {
        for id in [
            0usize,
            10,
            31,
            32,
            FIRST_CSR + 0x180,
            FIRST_CSR + 0x300,
            PRIV,
        ] {
            let (reg, size) = Reg::from_raw_id(id).expect("known register");
            assert_eq!(reg.to_raw_id(), Some(id));
            assert_eq!(size.map(NonZeroUsize::get), Some(8));
        }
        assert_eq!(
            Reg::from_raw_id(0x180 + FIRST_CSR).map(|r| r.0),
            Some(Reg::Csr(0x180))
        );
        assert_eq!(Reg::from_raw_id(33).map(|r| r.0), Some(Reg::F(0)));
        assert_eq!(Reg::from_raw_id(64).map(|r| r.0), Some(Reg::F(31)));
        assert!(Reg::from_raw_id(4096 + FIRST_CSR + 1).is_none());
        assert!(Reg::from_raw_id(PRIV + 1).is_none());
    }

    #[test]
    fn description_names_csrs_and_priv() {
        let hart = Hart::new(0);
        let xml = build(&hart);
        assert!(
            xml.contains("<reg name=\"satp\" bitsize=\"64\" type=\"int\" regnum=\"449\""),
            "{xml}"
        );
        assert!(xml.contains("<reg name=\"mstatus\" bitsize=\"64\" type=\"int\" regnum=\"833\""));
        assert!(xml.contains("<reg name=\"priv\" bitsize=\"64\" type=\"int\" regnum=\"4161\""));
        assert!(xml.contains("<reg name=\"a0\" bitsize=\"64\" type=\"int\" regnum=\"10\"/>"));
        assert!(
            xml.contains("<reg name=\"f31\" bitsize=\"64\" type=\"ieee_double\" regnum=\"64\"")
        );
        assert!(xml.contains("<reg name=\"fcsr\" bitsize=\"64\" type=\"int\" regnum=\"68\""));
        assert_eq!(xml.matches("<feature ").count(), 4);
        let mut buf = [0u8; 16];
        assert_eq!(window(&xml, 0, 5, &mut buf), 5);
        assert_eq!(&buf[..5], b"<?xml");
        assert_eq!(window(&xml, xml.len() as u64, 16, &mut buf), 0);
    }

    /// A write as the gdb target makes it (through the session's register names).
    fn write(hart: &mut Hart, reg: Reg, val: u64) -> bool {
        session_reg(reg).is_some_and(|r| session::timeline::write_reg(hart, r, val))
    }

    #[test]
    fn priv_is_the_mode_and_x0_stays_zero() {
        let mut hart = Hart::new(0);
        assert_eq!(read(&hart, Reg::Priv), Some(3));
        assert!(write(&mut hart, Reg::Priv, 1));
        assert_eq!(read(&hart, Reg::Priv), Some(1));
        assert_eq!(hart.mode, Mode::Supervisor);
        assert!(!write(&mut hart, Reg::Priv, 2), "2 is reserved");
        assert_eq!(read(&hart, Reg::Priv), Some(1));
        assert!(write(&mut hart, Reg::X(0), 5));
        assert_eq!(read(&hart, Reg::X(0)), Some(0));
        assert!(write(&mut hart, Reg::X(5), 7));
        assert_eq!(read(&hart, Reg::X(5)), Some(7));
        assert_eq!(read(&hart, Reg::Csr(0xf14)), Some(0)); // mhartid
        assert_eq!(read(&hart, Reg::F(3)), Some(0));
        assert_eq!(read(&hart, Reg::Csr(3)), Some(0)); // fcsr
        assert!(!write(&mut hart, Reg::F(3), 1));
    }
}
