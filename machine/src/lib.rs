//! `machine`: a deterministic RV64IMAC emulator of QEMU's `virt` board, as xv6 uses it.
//!
//! Ownership is a tree: a [`Machine`] owns its harts and its [`bus::Bus`]; the bus owns RAM
//! and the devices. Nothing here knows about gdb or the terminal UI: they drive the machine
//! through one run API ([`Machine::run`]) and read its state through plain accessors.
//!
//! The guest can never panic the host: every fault the guest causes is a RISC-V trap taken
//! inside the guest, and every error in host input (ELF, disk image) is a typed [`Error`].
//!
//! `unsafe` is denied everywhere but at the translating tier's three edges (cpu/jit.rs: the
//! code module, entering translated code, and the run loop's call into it), each with its
//! justification.
#![deny(unsafe_code)]

pub mod board;
pub mod bus;
pub mod cpu;
pub mod devices;
pub mod error;
pub mod loader;
pub mod machine;
pub mod net;
pub mod ram;

pub use error::Error;
pub use machine::{Config, Image, Machine, Snapshot, Stop};
