//! The board: QEMU's `virt` machine as xv6 uses it, drawn once.
//!
//! ```text
//!  physical address          device                        interrupt (PLIC source)
//!  0x0010_0000 - 0x0010_0fff SiFive test finisher          -
//!  0x0200_0000 - 0x0200_ffff CLINT (msip, mtimecmp, mtime) MSIP / MTIP to each hart
//!  0x0c00_0000 - 0x0fff_ffff PLIC                          MEIP / SEIP to each hart
//!  0x1000_0000 - 0x1000_00ff UART0, 16550                  10
//!  0x1000_1000 - 0x1000_1fff virtio-mmio block device      1
//!  0x3000_0000 - 0x3fff_ffff PCIe ECAM configuration space  -     } with the net option
//!  0x4000_0000 - 0x7fff_ffff PCIe 32-bit memory window:     33    } only (`net`): xv6
//!                            the e1000's BAR 0 (128 KiB)          } puts BAR 0 at 0x4000_0000
//!  0x8000_0000 - RAM end     RAM (128 MiB by default)      -
//! ```
//!
//! Time: harts run round-robin in quanta; every round advances the machine's cycle counter by
//! the quantum, as if the harts ran in parallel at one instruction per cycle. `mtime` ticks at
//! 10 MHz like QEMU's, one tick every `CYCLES_PER_TICK` cycles, so time is a pure function of
//! the instructions retired and a run is reproducible.

pub const FINISHER_BASE: u64 = 0x0010_0000;
pub const FINISHER_SIZE: u64 = 0x1000;
pub const CLINT_BASE: u64 = 0x0200_0000;
pub const CLINT_SIZE: u64 = 0x1_0000;
pub const PLIC_BASE: u64 = 0x0c00_0000;
pub const PLIC_SIZE: u64 = 0x400_0000;
pub const UART_BASE: u64 = 0x1000_0000;
pub const UART_SIZE: u64 = 0x100;
pub const UART_IRQ: u32 = 10;
pub const VIRTIO_BASE: u64 = 0x1000_1000;
pub const VIRTIO_SIZE: u64 = 0x1000;
pub const VIRTIO_IRQ: u32 = 1;
/// QEMU virt's PCIe ECAM window (`VIRT_PCIE_ECAM`: 256 buses of 1 MiB).
pub const PCIE_ECAM_BASE: u64 = 0x3000_0000;
pub const PCIE_ECAM_SIZE: u64 = 0x1000_0000;
/// QEMU virt's 32-bit PCIe memory window (`VIRT_PCIE_MMIO`), where BARs are placed.
pub const PCIE_MMIO_BASE: u64 = 0x4000_0000;
pub const PCIE_MMIO_SIZE: u64 = 0x4000_0000;
/// The e1000's PLIC source: INTA# of slot 1 through QEMU virt's INTx swizzle (32 + 1), the
/// net lab's `E1000_IRQ`.
pub const E1000_IRQ: u32 = 33;
pub const RAM_BASE: u64 = 0x8000_0000;
/// Default RAM size, as xv6's Makefile asks of QEMU (`-m 128M`).
pub const DEFAULT_RAM_MIB: u64 = 128;
/// Default number of harts, as xv6's Makefile (`CPUS := 3`).
pub const DEFAULT_HARTS: usize = 3;
/// Most harts the CLINT and PLIC are laid out for (QEMU virt allows 8 per socket).
pub const MAX_HARTS: usize = 8;

/// Machine cycles per `mtime` tick: harts nominally retire 100 M instructions per guest second
/// against QEMU's 10 MHz timebase.
pub const CYCLES_PER_TICK: u64 = 10;
/// `mtime` frequency in Hz (QEMU virt's timebase-frequency).
pub const TIMEBASE_HZ: u64 = 10_000_000;

/// How the console of a [`qemu_args`] run is wired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QemuSerial {
    /// UART0 on QEMU's stdin/stdout.
    Stdio,
    /// UART0 output dropped (bare-metal tests that report through the finisher).
    Null,
}

/// The qemu-system-riscv64 arguments for the board this crate models: `virt` without
/// firmware (the kernel's ELF entry runs in M-mode at 0x8000_0000), 128 MiB of RAM, `harts`
/// harts, no display or monitor, and `disk` as a modern (version 2) virtio-mmio block device
/// on bus 0 — what xv6-riscv's Makefile asks for. `snapshot`: disk writes stay in QEMU's
/// memory. The one place the reference machine's command line is written (bench, tests).
pub fn qemu_args(
    kernel: &std::path::Path,
    disk: Option<&std::path::Path>,
    harts: usize,
    serial: QemuSerial,
    snapshot: bool,
) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = Vec::new();
    let mut push = |a: &str| args.push(a.into());
    for a in ["-machine", "virt", "-bios", "none", "-m"] {
        push(a);
    }
    push(&format!("{DEFAULT_RAM_MIB}M"));
    push("-smp");
    push(&harts.to_string());
    for a in ["-display", "none", "-monitor", "none", "-serial"] {
        push(a);
    }
    push(match serial {
        QemuSerial::Stdio => "stdio",
        QemuSerial::Null => "null",
    });
    if snapshot {
        push("-snapshot");
    }
    if let Some(disk) = disk {
        for a in [
            "-global",
            "virtio-mmio.force-legacy=false",
            "-device",
            "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0",
            "-drive",
        ] {
            push(a);
        }
        let mut drive = std::ffi::OsString::from("file=");
        drive.push(disk);
        drive.push(",if=none,format=raw,id=x0");
        args.push(drive);
    }
    args.push("-kernel".into());
    args.push(kernel.into());
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi::memlayout as xv6;

    /// xv6 hard-codes the board's addresses; the two maps must agree.
    #[test]
    fn xv6_memory_layout_matches_the_board() {
        assert_eq!(xv6::FINISHER, FINISHER_BASE);
        assert_eq!(xv6::CLINT, CLINT_BASE);
        assert_eq!(xv6::PLIC, PLIC_BASE);
        assert_eq!(xv6::UART0, UART_BASE);
        assert_eq!(xv6::UART0_IRQ, UART_IRQ);
        assert_eq!(xv6::VIRTIO0, VIRTIO_BASE);
        assert_eq!(xv6::VIRTIO0_IRQ, VIRTIO_IRQ);
        assert_eq!(xv6::KERNBASE, RAM_BASE);
        assert_eq!(xv6::PHYSTOP, RAM_BASE + DEFAULT_RAM_MIB * 1024 * 1024);
    }

    #[test]
    fn qemu_command_line_names_the_same_board() {
        let path = std::path::Path::new;
        let args = qemu_args(path("k"), Some(path("fs.img")), 3, QemuSerial::Stdio, true);
        let text: Vec<String> = args.iter().map(|a| a.to_string_lossy().into()).collect();
        let after = |flag: &str| {
            let i = text.iter().position(|a| a == flag).expect(flag);
            text[i + 1].clone()
        };
        assert_eq!(after("-machine"), "virt");
        assert_eq!(after("-m"), "128M");
        assert_eq!(after("-smp"), "3");
        assert_eq!(after("-serial"), "stdio");
        assert_eq!(after("-drive"), "file=fs.img,if=none,format=raw,id=x0");
        assert_eq!(after("-kernel"), "k");
        assert!(text.contains(&"-snapshot".to_string()));
        let bare = qemu_args(path("t.elf"), None, 1, QemuSerial::Null, false);
        assert!(!bare.iter().any(|a| a == "-drive" || a == "-snapshot"));
    }
}
