//! The difference between "it hangs" and one line saying why: what xv6scope can tell a
//! student whose kernel and machine do not agree, and the transport choice that avoids the
//! commonest disagreement.
//!
//! - **Transport, before boot** ([`virtio_legacy`]): with `--kernel` and no
//!   `--virtio-version`, the machine gets the transport the kernel's driver is written for,
//!   as `session::xv6::expects` reads it from the code (the Version comparison in
//!   `virtio_disk_init`, else the legacy- or modern-only registers it writes). A kernel whose
//!   code says nothing gets version 2. The QEMU drop-in never asks: it follows
//!   `force-legacy` as QEMU does.
//! - **Transport, at run time**: when the console shows xv6's panic "could not find virtio
//!   disk", one line names the `--virtio-version` (and QEMU's `-global`) to try, or says no
//!   disk is attached.
//! - **RAM size, at run time**: the bus keeps the first physical address an access found
//!   nothing at. One just past the end of RAM means the kernel's PHYSTOP is beyond `--mem`
//!   (a 2024 pgtbl tree wants 256 MiB): one line names the address and the `--mem` that
//!   fits — PHYSTOP as `kinit`'s code builds it, else the next power of two. Such a kernel
//!   then faults in a loop on its own zero trap vector (the hart retires nothing, so the
//!   instructions-per-second figure sinks while the machine runs at full speed); QEMU
//!   hangs the same way, silently. An access at 0x3000_0000 is the net lab's PCIe bus on a
//!   machine booted without `--net`: one line says to add it.
//!
//! Each hint is said once per run. [`Hints::check`] is called by the run loop after each
//! slice with the console output of that slice.

use crate::MachineArgs;
use machine::Machine;
use machine::board::{PCIE_ECAM_BASE, PCIE_ECAM_SIZE, RAM_BASE};
use session::Session;
use session::xv6::expects::{self, VirtioTransport};

/// xv6's panic when the virtio device is not the one its driver expects.
const NO_DISK_PANIC: &[u8] = b"could not find virtio disk";

/// Whether the machine gets the legacy transport: `--virtio-version` if given; else, for a
/// kernel file, what its driver expects; else modern.
pub fn virtio_legacy(args: &MachineArgs, kernel: &[u8]) -> bool {
    match args.virtio_version {
        Some(v) => v == 1,
        None if args.kernel.is_some() && !args.raw => {
            expects::virtio_transport(kernel).map(|e| e.transport) == Some(VirtioTransport::Legacy)
        }
        None => false,
    }
}

/// The run-time hints of one run (see the module essay).
pub struct Hints {
    legacy: bool,
    ram_mib: u64,
    phystop: Option<u64>,
    /// The tail of the console output, for a match across slices.
    tail: Vec<u8>,
    said_virtio: bool,
    said_unmapped: bool,
}

impl Hints {
    /// Hints for the machine `session` booted.
    pub fn new(session: &Session) -> Hints {
        let boot = session.boot();
        Hints {
            legacy: boot.config.virtio_legacy,
            ram_mib: boot.config.ram_mib,
            phystop: if boot.raw {
                None
            } else {
                expects::phystop(&boot.kernel)
            },
            tail: Vec::new(),
            said_virtio: false,
            said_unmapped: false,
        }
    }

    /// What to tell the user after a slice that printed `out`, if anything.
    pub fn check(&mut self, machine: &Machine, out: &[u8]) -> Option<String> {
        if !self.said_unmapped
            && let Some(addr) = machine.bus.unmapped
            && let Some(hint) = self.unmapped(addr)
        {
            self.said_unmapped = true;
            return Some(hint);
        }
        if self.said_virtio || out.is_empty() {
            return None;
        }
        self.tail.extend_from_slice(out);
        let found = self
            .tail
            .windows(NO_DISK_PANIC.len())
            .any(|w| w == NO_DISK_PANIC);
        let keep = self.tail.len().saturating_sub(NO_DISK_PANIC.len() - 1);
        self.tail.drain(..keep);
        if !found {
            return None;
        }
        self.said_virtio = true;
        if machine.bus.virtio.disk().is_empty() {
            return Some(
                "the kernel found no virtio disk: none is attached (--disk fs.img; QEMU: \
                 -drive file=fs.img,if=none,format=raw,id=x0 -device \
                 virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0)"
                    .into(),
            );
        }
        let (had, try_v, legacy) = if self.legacy {
            ("legacy (version 1)", 2, "false")
        } else {
            ("modern (version 2)", 1, "true")
        };
        Some(format!(
            "the kernel's virtio driver refused the {had} transport: try --virtio-version \
             {try_v} (QEMU: -global virtio-mmio.force-legacy={legacy})"
        ))
    }

    /// The hint for a first access to nothing at `addr`, if it says something.
    fn unmapped(&self, addr: u64) -> Option<String> {
        let ram_end = RAM_BASE + (self.ram_mib << 20);
        // PCIe is there with the network: an access faults only on a board without it.
        if (PCIE_ECAM_BASE..PCIE_ECAM_BASE + PCIE_ECAM_SIZE).contains(&addr) {
            return Some(format!(
                "the kernel reached for PCIe at {addr:#x} (the net lab's e1000), which this \
                 machine was booted without: run with --net=hostfwd=udp::25999-:2000 (QEMU: \
                 -netdev user,id=net0,hostfwd=udp::25999-:2000 -device \
                 e1000,netdev=net0,bus=pcie.0)"
            ));
        }
        if !(ram_end..RAM_BASE + (64 << 30)).contains(&addr) {
            return None;
        }
        let (fit, why) = match self.phystop.filter(|&p| p > addr) {
            Some(p) => (p - RAM_BASE, format!("its PHYSTOP is {p:#x}")),
            None => (
                (addr - RAM_BASE + 1).next_power_of_two(),
                "it wants more RAM".to_string(),
            ),
        };
        let mib = fit.div_ceil(1 << 20);
        Some(format!(
            "the kernel touched physical address {addr:#x}, past the end of RAM ({} MiB at \
             {RAM_BASE:#x}): {why}; run with --mem {mib} (QEMU: -m {mib}M)",
            self.ram_mib
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints(legacy: bool, phystop: Option<u64>) -> Hints {
        Hints {
            legacy,
            ram_mib: 128,
            phystop,
            tail: Vec::new(),
            said_virtio: false,
            said_unmapped: false,
        }
    }

    #[test]
    fn an_access_past_ram_names_the_mem_that_fits() {
        let h = hints(false, Some(0x9000_0000));
        let line = h.unmapped(0x8800_0000).unwrap();
        assert!(line.contains("0x88000000"), "{line}");
        assert!(line.contains("--mem 256 (QEMU: -m 256M)"), "{line}");
        // Without PHYSTOP from the code: the next power of two.
        let line = hints(false, None).unmapped(0x8800_1000).unwrap();
        assert!(line.contains("--mem 256"), "{line}");
        // Far away or inside RAM: nothing to say.
        assert_eq!(hints(false, None).unmapped(0x4000), None);
        assert!(
            hints(false, None)
                .unmapped(0x3000_0000)
                .unwrap()
                .contains("run with --net")
        );
    }
}
