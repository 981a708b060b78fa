//! A hart's state, decoded for people: privilege mode, pc, x1–x31 by ABI name, the fields of
//! `mstatus`/`sstatus`, `satp` split into mode, ASID and root, trap causes by name, and the
//! interrupt enable/pending/delegation bits by name.
//!
//! Interface: [`HartState::of`] copies what it needs from a [`Hart`] (through the debugger's
//! side-effect-free `csr_read`); [`HartState::render`] gives stable lines for the TUI and gdb
//! `monitor regs`; the decoders ([`cause_name`], [`status_fields`], [`Satp`], [`irq_bits`]) are
//! plain functions of values so they are testable alone.
//!
//! Facts from the privileged spec: `mstatus` bits SIE 1, MIE 3, SPIE 5, MPIE 7, SPP 8,
//! MPP 12..11, MPRV 17, SUM 18, MXR 19, TVM 20, TW 21, TSR 22 (§3.1.6); `satp` MODE 63..60
//! (0 bare, 8 Sv39), ASID 59..44, PPN 43..0 (§4.1.11); causes in table 3.6; interrupt bits
//! SSI 1, MSI 3, STI 5, MTI 7, SEI 9, MEI 11 (§3.1.9).

use machine::cpu::csr::addr;
use machine::cpu::decode::REG_NAMES;
use machine::cpu::{Hart, Mode};

/// Name of a trap cause (`mcause`/`scause` value, interrupt bit included).
pub fn cause_name(cause: u64) -> String {
    let code = cause & !(1 << 63);
    let name = if cause >> 63 == 1 {
        match code {
            1 => "supervisor software interrupt",
            3 => "machine software interrupt",
            5 => "supervisor timer interrupt",
            7 => "machine timer interrupt",
            9 => "supervisor external interrupt",
            11 => "machine external interrupt",
            _ => return format!("interrupt {code}"),
        }
    } else {
        match code {
            0 => "instruction address misaligned",
            1 => "instruction access fault",
            2 => "illegal instruction",
            3 => "breakpoint",
            4 => "load address misaligned",
            5 => "load access fault",
            6 => "store/AMO address misaligned",
            7 => "store/AMO access fault",
            8 => "ecall from U-mode",
            9 => "ecall from S-mode",
            11 => "ecall from M-mode",
            12 => "instruction page fault",
            13 => "load page fault",
            15 => "store/AMO page fault",
            _ => return format!("exception {code}"),
        }
    };
    name.to_string()
}

/// A CSR's value in words, for the CSRs that have fields or codes (empty for the others):
/// the one decoding of the registers pane and `monitor regs`.
pub fn decode_csr(name: &str, v: u64) -> String {
    match name {
        "mstatus" => status_fields(v, false),
        "sstatus" => status_fields(v, true),
        "satp" => Satp::new(v).to_string(),
        "scause" | "mcause" => cause_or_none(v),
        "mie" | "mip" | "sie" | "sip" | "mideleg" => irq_bits(v),
        "medeleg" => {
            let codes: Vec<String> = (0..16)
                .filter(|b| v >> b & 1 != 0)
                .map(|b| b.to_string())
                .collect();
            if codes.is_empty() {
                "-".into()
            } else {
                format!("causes {}", codes.join(","))
            }
        }
        _ => String::new(),
    }
}

/// A trap cause register (`scause`, `mcause`) as people read it: its name, or "no trap yet".
///
/// The hart does not record whether a cause register was ever written, so the value decides:
/// reset leaves it 0, and cause 0 ("instruction address misaligned") is one this hart never
/// raises — it has the C extension (`misa` is fixed with C), so every instruction address is
/// 2-byte aligned: branch offsets are even, `jalr` clears bit 0, `xepc` bit 0 is always 0.
/// A zero cause therefore means that no trap has been taken into that mode since reset
/// (unless software wrote 0 itself, which xv6 never does). Non-zero values get
/// [`cause_name`].
pub fn cause_or_none(cause: u64) -> String {
    if cause == 0 {
        "no trap yet".into()
    } else {
        cause_name(cause)
    }
}

/// The `sstatus` fields a kernel student reads, with SPP as the mode it names:
/// `SIE=1 SPIE=0 SPP=U SUM=0 MXR=0`.
pub fn sstatus_brief(v: u64) -> String {
    let bit = |n: u32| (v >> n) & 1;
    format!(
        "SIE={} SPIE={} SPP={} SUM={} MXR={}",
        bit(1),
        bit(5),
        if bit(8) == 1 { "S" } else { "U" },
        bit(18),
        bit(19)
    )
}

/// The privilege mode's name in full: `S (supervisor)`.
pub fn mode_long(m: Mode) -> &'static str {
    match m {
        Mode::User => "U (user)",
        Mode::Supervisor => "S (supervisor)",
        Mode::Machine => "M (machine)",
    }
}

/// One-letter-ish mode name as xv6 people say it.
pub fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::User => "U",
        Mode::Supervisor => "S",
        Mode::Machine => "M",
    }
}

/// The named fields of `mstatus` (all of them) or `sstatus` (`s_only`: the S view).
pub fn status_fields(v: u64, s_only: bool) -> String {
    // (name, bit, shown in sstatus); MPP (two bits) is decoded as a mode after SPP.
    const FIELDS: [(&str, u32, bool); 11] = [
        ("SIE", 1, true),
        ("MIE", 3, false),
        ("SPIE", 5, true),
        ("MPIE", 7, false),
        ("SPP", 8, true),
        ("MPRV", 17, false),
        ("SUM", 18, true),
        ("MXR", 19, true),
        ("TVM", 20, false),
        ("TW", 21, false),
        ("TSR", 22, false),
    ];
    let mut parts = Vec::new();
    for (name, n, in_s) in FIELDS {
        if in_s || !s_only {
            parts.push(format!("{name}={}", (v >> n) & 1));
        }
        if name == "SPP" && !s_only {
            parts.push(format!("MPP={}", mode_name(Mode::from_bits(v >> 11))));
        }
    }
    parts.join(" ")
}

/// `satp` split into its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Satp {
    /// 0 = Bare, 8 = Sv39.
    pub mode: u64,
    pub asid: u64,
    /// Physical address of the root page table (PPN << 12).
    pub root: u64,
}

impl Satp {
    pub fn new(v: u64) -> Satp {
        Satp {
            mode: machine::cpu::csr::satp_mode(v),
            asid: (v >> 44) & 0xffff,
            root: (v & ((1 << 44) - 1)) << 12,
        }
    }
}

impl std::fmt::Display for Satp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match self.mode {
            0 => "Bare".to_string(),
            8 => "Sv39".to_string(),
            9 => "Sv48".to_string(),
            m => format!("mode {m}"),
        };
        write!(f, "{mode} asid={} root={:#x}", self.asid, self.root)
    }
}

/// Names of the interrupt bits set in a `mie`/`mip`/`sie`/`sip`/`mideleg` value.
pub fn irq_bits(v: u64) -> String {
    let names = [
        (1, "SSI"),
        (3, "MSI"),
        (5, "STI"),
        (7, "MTI"),
        (9, "SEI"),
        (11, "MEI"),
    ];
    let set: Vec<&str> = names
        .iter()
        .filter(|(b, _)| v >> b & 1 != 0)
        .map(|(_, n)| *n)
        .collect();
    if set.is_empty() {
        "-".into()
    } else {
        set.join(" ")
    }
}

/// A copy of one hart's architectural state at a stop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HartState {
    pub id: usize,
    pub mode: Mode,
    pub pc: u64,
    pub x: [u64; 32],
    pub waiting: bool,
    /// (name, value) of the CSRs shown, in display order; a CSR the hart lacks is absent.
    pub csrs: Vec<(&'static str, u64)>,
}

/// The CSRs the state view shows, in order.
const SHOWN: [(&str, u16); 20] = [
    ("mstatus", addr::MSTATUS),
    ("sstatus", addr::SSTATUS),
    ("satp", addr::SATP),
    ("scause", addr::SCAUSE),
    ("sepc", addr::SEPC),
    ("stval", addr::STVAL),
    ("stvec", addr::STVEC),
    ("sscratch", addr::SSCRATCH),
    ("mcause", addr::MCAUSE),
    ("mepc", addr::MEPC),
    ("mtval", addr::MTVAL),
    ("mtvec", addr::MTVEC),
    ("mie", addr::MIE),
    ("mip", addr::MIP),
    ("sie", addr::SIE),
    ("sip", addr::SIP),
    ("medeleg", addr::MEDELEG),
    ("mideleg", addr::MIDELEG),
    ("stimecmp", addr::STIMECMP),
    ("time", addr::TIME),
];

impl HartState {
    /// Reads hart `h` without side effects.
    pub fn of(h: &Hart) -> HartState {
        HartState {
            id: h.id,
            mode: h.mode,
            pc: h.pc,
            x: h.x,
            waiting: h.is_waiting(),
            csrs: SHOWN
                .iter()
                .filter_map(|(n, a)| h.csr_read(*a).map(|v| (*n, v)))
                .collect(),
        }
    }

    /// The value of CSR `name`, if captured.
    pub fn csr(&self, name: &str) -> Option<u64> {
        self.csrs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// Lines: a header, the registers four per line, then each CSR with its decoding.
    pub fn render(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "hart {}  mode {}  pc {:#018x}{}",
            self.id,
            mode_name(self.mode),
            self.pc,
            if self.waiting { "  (wfi)" } else { "" }
        )];
        for row in (1..32).collect::<Vec<_>>().chunks(4) {
            let cells: Vec<String> = row
                .iter()
                .map(|&r| format!("{:>4}={:#018x}", REG_NAMES[r], self.x[r]))
                .collect();
            lines.push(cells.join("  "));
        }
        for (name, v) in &self.csrs {
            let decoded = decode_csr(name, *v);
            lines.push(
                format!("{name:>9} {v:#018x}  {decoded}")
                    .trim_end()
                    .to_string(),
            );
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_have_names() {
        assert_eq!(cause_name(8), "ecall from U-mode");
        assert_eq!(cause_name(13), "load page fault");
        assert_eq!(
            cause_name(0x8000_0000_0000_0005),
            "supervisor timer interrupt"
        );
        assert_eq!(
            cause_name(0x8000_0000_0000_0009),
            "supervisor external interrupt"
        );
        assert_eq!(cause_name(24), "exception 24");
    }

    #[test]
    fn status_and_satp_decode() {
        // SIE, SPIE, SPP=1, MPP=S, SUM.
        let v = 1 << 1 | 1 << 5 | 1 << 8 | 1 << 11 | 1 << 18;
        assert_eq!(
            status_fields(v, false),
            "SIE=1 MIE=0 SPIE=1 MPIE=0 SPP=1 MPP=S MPRV=0 SUM=1 MXR=0 TVM=0 TW=0 TSR=0"
        );
        assert_eq!(status_fields(v, true), "SIE=1 SPIE=1 SPP=1 SUM=1 MXR=0");
        let s = Satp::new(8 << 60 | 5 << 44 | 0x87fff);
        assert_eq!((s.mode, s.asid, s.root), (8, 5, 0x87fff000));
        assert_eq!(s.to_string(), "Sv39 asid=5 root=0x87fff000");
        assert_eq!(irq_bits(1 << 5 | 1 << 9), "STI SEI");
        assert_eq!(irq_bits(0), "-");
    }

    #[test]
    fn a_zero_cause_is_no_trap_and_sstatus_reads_briefly() {
        assert_eq!(cause_or_none(0), "no trap yet");
        assert_eq!(cause_or_none(8), "ecall from U-mode");
        assert_eq!(
            cause_or_none(0x8000_0000_0000_0005),
            "supervisor timer interrupt"
        );
        assert_eq!(
            sstatus_brief(1 << 1 | 1 << 8 | 1 << 18),
            "SIE=1 SPIE=0 SPP=S SUM=1 MXR=0"
        );
        assert_eq!(
            sstatus_brief(1 << 5 | 1 << 19),
            "SIE=0 SPIE=1 SPP=U SUM=0 MXR=1"
        );
        assert_eq!(mode_long(Mode::Supervisor), "S (supervisor)");
    }

    #[test]
    fn render_a_fresh_hart() {
        let mut h = Hart::new(1);
        h.pc = 0x8000_0000;
        h.x[10] = 7;
        let st = HartState::of(&h);
        let lines = st.render();
        assert_eq!(lines[0], "hart 1  mode M  pc 0x0000000080000000");
        assert!(
            lines[1].starts_with("  ra=0x0000000000000000"),
            "{}",
            lines[1]
        );
        assert!(lines.iter().any(|l| l.contains("  a0=0x0000000000000007")));
        assert!(
            lines
                .iter()
                .any(|l| l.trim_start().starts_with("satp 0x0000000000000000  Bare"))
        );
        assert_eq!(
            st.csr("mstatus").map(|v| v >> 32 & 0xf),
            Some(0xa),
            "UXL=SXL=64"
        );
    }
}
