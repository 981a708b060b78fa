//! `session`: the debugging session between the emulator and xv6scope's front ends.
//!
//! Layers: `machine` is the emulator alone (harts, bus, devices, one run loop). This crate
//! knows what the machine runs — an xv6 kernel — and what a debugger wants of it:
//! - [`inspect`]: the views (symbols and source, DWARF tables, page tables, the syscall
//!   tracer, monitor commands), each over small traits so it can be tested on hand-built
//!   memory.
//! - [`Session`]: one machine, its kernel's views (parsed once, shared by every front end in
//!   the process), the user programs' symbols and one breakpoint registry. Every front end —
//!   the TUI, the gdb server, the walkthrough player, `xv6scope run` — stops, steps and
//!   resolves breakpoints through it.
//! - [`lab`]: `--lab` options written into the bundled kernel's image before it boots.
//! - [`xv6`]: facts about xv6 read in one place (the trampoline page, the current process
//!   of a hart, the kernel's page table, the file system image).

pub mod breakpoints;
pub mod inspect;
pub mod lab;
pub mod landmarks;
mod recording;
mod session;
mod step;
pub mod timeline;
pub mod xv6;

/// The translating tier against the interpreter, in lockstep on real kernels.
#[cfg(test)]
mod tier_tests;

pub use breakpoints::{Breakpoint, Cond, Owner, Spec};
pub use recording::{Recording, RecordingError};
pub use session::{Boot, Error, Resolved, Session};
pub use step::{STEP_LIMIT, StepKind, Stepped};
pub use timeline::{Event, Mark, Reg, Reversed, WhenSpec};
