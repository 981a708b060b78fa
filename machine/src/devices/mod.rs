//! The devices of the `virt` board. Each sees offsets inside its own region (see `board`).
//!
//! Every model follows the QEMU device the board's guests were written against; where one
//! deliberately differs (for determinism, or to never lose host input), its module essay
//! says so. None can panic on guest behaviour: a guest's misuse is answered the way the
//! hardware answers it, or with an error status, or by the device stopping.
//!
//! Interrupts: the UART and the virtio disk expose both their line level (`irq`) and the
//! moments they re-evaluate it (`take_irq_update`), which is what QEMU's PLIC reacts to;
//! see `plic` for why the difference matters to xv6.

pub mod clint;
pub mod finisher;
pub mod plic;
pub mod uart;
pub mod virtio_blk;
pub mod virtqueue;
