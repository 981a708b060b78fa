//! The devices of the `virt` board. Each sees offsets inside its own region (see `board`).

pub mod clint;
pub mod finisher;
pub mod plic;
pub mod uart;
pub mod virtio_blk;
