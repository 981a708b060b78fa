//! Test support: boot a real xv6 kernel on the machine and drive its console.
//!
//! MIT's C kernel comes from `XV6SCOPE_MIT_XV6` (a built xv6-riscv tree: kernel/kernel,
//! fs.img, user/_*); tests that need it skip with a message when it is unset.

use machine::machine::{Config, Image, Machine, Stop};
use std::path::PathBuf;

/// MIT's built tree, or None (and a message) when `XV6SCOPE_MIT_XV6` is unset.
pub fn mit_dir() -> Option<PathBuf> {
    match std::env::var_os("XV6SCOPE_MIT_XV6") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            eprintln!("skipped: set XV6SCOPE_MIT_XV6 to a built MIT xv6-riscv tree");
            None
        }
    }
}

/// A booted machine with its console output so far.
pub struct Booted {
    pub m: Machine,
    pub console: String,
    pub kernel_elf: Vec<u8>,
}

impl Booted {
    /// Boots MIT's kernel with `harts` harts and runs to the first shell prompt.
    pub fn mit(harts: usize) -> Option<Booted> {
        let dir = mit_dir()?;
        let kernel_elf = std::fs::read(dir.join("kernel/kernel")).expect("MIT kernel/kernel");
        let disk = std::fs::read(dir.join("fs.img")).expect("MIT fs.img");
        let config = Config {
            harts,
            ..Config::default()
        };
        let m = Machine::new(config, Image::Elf(&kernel_elf), Some(disk)).expect("machine");
        let mut b = Booted {
            m,
            console: String::new(),
            kernel_elf,
        };
        assert!(b.run_until("$ ", 2_000_000_000), "no prompt: {}", b.console);
        Some(b)
    }

    /// Boots the Rust kernel (kernel/target/.../release/kernel) with MIT's fs.img (the two
    /// share xv6's ABI and disk format) and runs to the first shell prompt.
    pub fn rust(harts: usize) -> Option<Booted> {
        let disk = std::fs::read(mit_dir()?.join("fs.img")).expect("MIT fs.img");
        Booted::rust_with(harts, &disk)
    }

    /// Boots the Rust kernel with disk image `disk` to the first prompt.
    pub fn rust_with(harts: usize, disk: &[u8]) -> Option<Booted> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../kernel/target/riscv64gc-unknown-none-elf/release/kernel");
        let Ok(kernel_elf) = std::fs::read(&path) else {
            eprintln!("skipped: {} is not built", path.display());
            return None;
        };
        let config = Config {
            harts,
            ..Config::default()
        };
        let m =
            Machine::new(config, Image::Elf(&kernel_elf), Some(disk.to_vec())).expect("machine");
        let mut b = Booted {
            m,
            console: String::new(),
            kernel_elf,
        };
        assert!(
            b.run_until("$ ", 2_000_000_000),
            "no prompt from the Rust kernel: {}",
            b.console
        );
        Some(b)
    }

    /// Runs until the console output (since this call) contains `want`, within `budget`
    /// cycles; `step` sees the machine after every `run` with its stop reason and says
    /// whether to go on (false ends the loop, e.g. at a breakpoint that is not its own).
    pub fn run_until_with(
        &mut self,
        want: &str,
        budget: u64,
        step: &mut dyn FnMut(&mut Machine, Stop) -> bool,
    ) -> bool {
        let start = self.console.len();
        let end = self.m.cycle() + budget;
        while self.m.cycle() < end {
            let stop = self.m.run(100_000);
            let go_on = step(&mut self.m, stop);
            let out = self.m.bus.uart.take_output();
            self.console.push_str(&String::from_utf8_lossy(&out));
            if self.console[start..].contains(want) {
                return true;
            }
            if !go_on || !matches!(stop, Stop::Budget | Stop::Idle | Stop::Breakpoint { .. }) {
                return false;
            }
            if stop == Stop::Idle && !self.m.bus.uart.input_pending() {
                return false;
            }
        }
        false
    }

    pub fn run_until(&mut self, want: &str, budget: u64) -> bool {
        self.run_until_with(want, budget, &mut |_, stop| {
            !matches!(stop, Stop::Breakpoint { .. })
        })
    }

    /// Types `line` at the console.
    pub fn type_line(&mut self, line: &str) {
        self.m.bus.uart.push_input(line.as_bytes());
    }
}
