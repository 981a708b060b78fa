//! Guest memory as gdb addresses it: virtual through a hart's translation (as QEMU's stub
//! does), or physical after `monitor phys on`.
//!
//! Translation for the debugger never changes the guest: no A/D bits, no TLB fills, no traps.
//! An address first goes through the hart's own view ([`Hart::translate`], for a load and
//! then for a fetch, so execute-only text reads too); if that refuses — a U page seen from S
//! without `SUM`, say — the page table of `satp` is walked again ignoring permissions (the
//! session's one walker, `session::xv6::translate`), so that gdb can read user memory while
//! the hart is in the kernel. M-mode (and `satp` Bare) addresses are physical. Only RAM is
//! read or written: device registers have side effects (reading the UART's receive register
//! consumes a byte), so they read as inaccessible.

use machine::Machine;
use machine::cpu::{Access, Mode};

const PAGE: u64 = 4096;

/// Physical address of `vaddr` as hart `hart` would see it, or itself in physical mode.
pub fn to_phys(m: &Machine, hart: usize, vaddr: u64, phys: bool) -> Option<u64> {
    if phys {
        return Some(vaddr);
    }
    let h = m.harts.get(hart)?;
    h.translate(&m.bus, vaddr, Access::Load)
        .or_else(|| h.translate(&m.bus, vaddr, Access::Fetch))
        .or_else(|| {
            let paging = machine::cpu::csr::satp_paging(h.csr.satp);
            if h.mode == Mode::Machine || !paging {
                None
            } else {
                session::xv6::translate(m, h.csr.satp, vaddr)
            }
        })
}

/// Reads guest memory at `addr` into `buf`, page by page; returns how many leading bytes
/// could be read (0 if the first byte cannot).
pub fn read(m: &Machine, hart: usize, addr: u64, buf: &mut [u8], phys: bool) -> usize {
    let mut done = 0;
    while done < buf.len() {
        let va = addr.wrapping_add(done as u64);
        let chunk = ((PAGE - va % PAGE) as usize).min(buf.len() - done);
        let ok = to_phys(m, hart, va, phys)
            .is_some_and(|pa| m.read_phys(pa, &mut buf[done..done + chunk]));
        if !ok {
            break;
        }
        done += chunk;
    }
    done
}

/// Writes `data` to guest memory at `addr` through the session (which logs each page's
/// write on its timeline); false (and possibly a partial write) if some page is not
/// mapped to RAM.
pub fn write(s: &mut session::Session, hart: usize, addr: u64, data: &[u8], phys: bool) -> bool {
    let mut done = 0;
    while done < data.len() {
        let va = addr.wrapping_add(done as u64);
        let chunk = ((PAGE - va % PAGE) as usize).min(data.len() - done);
        match to_phys(s.machine(), hart, va, phys) {
            Some(pa) if s.write_phys(pa, &data[done..done + chunk]) => done += chunk,
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use machine::Config;
    use machine::cpu::csr;
    use session::Session;

    const PTE_V: u64 = 1 << 0;
    const PTE_R: u64 = 1 << 1;
    const PTE_W: u64 = 1 << 2;
    const PTE_X: u64 = 1 << 3;

    /// A machine whose RAM holds a small Sv39 table built by hand:
    /// root at 0x8010_0000 → level 1 at 0x8010_1000 → level 0 at 0x8010_2000;
    /// VA 0x0 and 0x1000 → PA 0x8020_0000 and 0x8020_1000 (r-x-u), VA 0x4000_0000 → a 2 MiB
    /// superpage at 0x8040_0000 (rw-), VA 0x3f_ffff_f000 → 0x8030_0000.
    fn machine_with_table() -> (Session, u64) {
        let mut s = Session::new(session::Boot {
            kernel: vec![0x73, 0, 0x50, 0x10],
            raw: true,
            disk: None,
            config: Config {
                harts: 1,
                ram_mib: 16,
                ..Config::default()
            },
        })
        .expect("machine");
        let m = s.machine_mut();
        let pte = |pa: u64, fl: u64| ((pa >> 12) << 10) | fl | PTE_V;
        let put = |m: &mut Machine, at: u64, v: u64| assert!(m.write_phys(at, &v.to_le_bytes()));
        let (root, l1, l0, l1b, l0b) = (
            0x8010_0000u64,
            0x8010_1000u64,
            0x8010_2000u64,
            0x8010_3000u64,
            0x8010_4000u64,
        );
        put(m, root, pte(l1, 0));
        put(m, l1, pte(l0, 0));
        put(m, l0, pte(0x8020_0000, PTE_R | PTE_X | 1 << 4));
        put(m, l0 + 8, pte(0x8020_1000, PTE_R | PTE_X | 1 << 4));
        put(m, root + 8, pte(l1b, 0));
        put(m, l1b, pte(0x8040_0000, PTE_R | PTE_W));
        put(m, root + 255 * 8, pte(0x8010_5000, 0));
        put(m, 0x8010_5000 + 511 * 8, pte(l0b, 0));
        put(m, l0b + 511 * 8, pte(0x8030_0000, PTE_R | PTE_X));
        (s, csr::SATP_MODE_SV39 << csr::SATP_MODE_SHIFT | root >> 12)
    }

    #[test]
    fn reads_go_through_satp_in_s_mode_and_are_physical_in_m_mode() {
        let (mut s, satp) = machine_with_table();
        let m = s.machine_mut();
        assert!(m.write_phys(0x8020_1000, b"hello"));
        let mut buf = [0u8; 5];
        // M-mode: physical.
        assert_eq!(read(m, 0, 0x8020_1000, &mut buf, false), 5);
        assert_eq!(&buf, b"hello");
        assert_eq!(read(m, 0, 0x1000, &mut buf, false), 0);
        // S-mode with Sv39: the U page is readable for the debugger even without SUM.
        assert!(m.harts[0].csr_write(csr::addr::SATP, satp));
        m.harts[0].mode = Mode::Supervisor;
        assert_eq!(read(m, 0, 0x1000, &mut buf, false), 5);
        assert_eq!(&buf, b"hello");
        assert_eq!(
            read(m, 0, 0x1000, &mut buf, true),
            0,
            "physical 0x1000 is not RAM"
        );
        // A read that runs off the mapping stops at the hole.
        let mut two = [0u8; 0x1010];
        assert_eq!(read(m, 0, 0x1000 - 0x10 + 0x1000, &mut two, false), 0x10);
        assert!(write(&mut s, 0, 0x1001, b"ELL", false));
        assert_eq!(read(s.machine(), 0, 0x8020_1000, &mut buf, true), 5);
        assert_eq!(&buf, b"hELLo");
        assert!(!write(&mut s, 0, 0x2000, b"x", false));
    }
}
