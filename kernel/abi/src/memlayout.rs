//! Physical memory map of QEMU's `virt` board as xv6 uses it, and xv6's virtual layout.
//!
//! ```text
//! 0x0000_1000  boot ROM (QEMU only; our machine starts at the kernel entry directly)
//! 0x0010_0000  SiFive test finisher (power-off / reboot)
//! 0x0200_0000  CLINT: msip, mtimecmp, mtime
//! 0x0c00_0000  PLIC
//! 0x1000_0000  UART0 (16550), IRQ 10
//! 0x1000_1000  virtio-mmio disk, IRQ 1
//! 0x8000_0000  RAM: kernel text, data, then free pages up to PHYSTOP
//! ```

/// Bytes per page.
pub const PGSIZE: u64 = 4096;
/// One past the highest Sv39 virtual address xv6 uses (it avoids the sign-extended top half).
pub const MAXVA: u64 = 1 << (9 + 9 + 9 + 12 - 1);

pub const FINISHER: u64 = 0x0010_0000;
pub const CLINT: u64 = 0x0200_0000;
pub const CLINT_SIZE: u64 = 0x1_0000;
pub const PLIC: u64 = 0x0c00_0000;
pub const PLIC_SIZE: u64 = 0x400_0000;
pub const UART0: u64 = 0x1000_0000;
pub const UART0_IRQ: u32 = 10;
pub const VIRTIO0: u64 = 0x1000_1000;
pub const VIRTIO0_IRQ: u32 = 1;
/// Start of RAM and of the kernel image.
pub const KERNBASE: u64 = 0x8000_0000;
/// End of the RAM xv6 uses (128 MiB).
pub const PHYSTOP: u64 = KERNBASE + 128 * 1024 * 1024;

/// The trampoline page, mapped at the top of every address space.
pub const TRAMPOLINE: u64 = MAXVA - PGSIZE;
/// Each process's trapframe page, just below the trampoline.
pub const TRAPFRAME: u64 = TRAMPOLINE - PGSIZE;
/// With the usyscall lab option (2021+ pgtbl lab): a read-only user page below the
/// trapframe that the kernel fills with a [`Usyscall`], so `ugetpid` needs no system call.
pub const USYSCALL: u64 = TRAPFRAME - PGSIZE;

/// What the kernel shares with user space at `USYSCALL`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usyscall {
    /// The process's pid.
    pub pid: i32,
}

/// Pages per kernel stack in MIT's C xv6.
pub const XV6_KSTACK_PAGES: u64 = 1;
/// Pages per kernel stack in the bundled Rust kernel: a debug build's deepest system call
/// plus an interrupt on top overflowed xv6's single page.
pub const KSTACK_PAGES: u64 = 4;

/// Lowest address of process slot `p`'s kernel stack of `pages` pages; the stacks sit below
/// the trampoline, each with an unmapped guard page below it so an overflow faults.
pub const fn kstack(p: usize, pages: u64) -> u64 {
    TRAMPOLINE - (p as u64 + 1) * (pages + 1) * PGSIZE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_stacks_as_xv6_lays_them_out() {
        // xv6's KSTACK(p) = TRAMPOLINE - (p+1)*2*PGSIZE.
        assert_eq!(kstack(0, XV6_KSTACK_PAGES), TRAMPOLINE - 2 * PGSIZE);
        assert_eq!(kstack(3, XV6_KSTACK_PAGES), TRAMPOLINE - 8 * PGSIZE);
        assert_eq!(kstack(1, KSTACK_PAGES), TRAMPOLINE - 10 * PGSIZE);
    }
}
