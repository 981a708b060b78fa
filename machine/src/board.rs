//! The board: QEMU's `virt` machine as xv6 uses it, drawn once.
//!
//! ```text
//!  physical address          device                        interrupt (PLIC source)
//!  0x0010_0000 - 0x0010_0fff SiFive test finisher          -
//!  0x0200_0000 - 0x0200_ffff CLINT (msip, mtimecmp, mtime) MSIP / MTIP to each hart
//!  0x0c00_0000 - 0x0fff_ffff PLIC                          MEIP / SEIP to each hart
//!  0x1000_0000 - 0x1000_00ff UART0, 16550                  10
//!  0x1000_1000 - 0x1000_1fff virtio-mmio block device      1
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
}
