//! Test support: boot a real xv6 kernel on the machine and drive its console.
//!
//! The Rust kernel and user programs are the ones tui/build.rs built for the bundled image,
//! found in the target directory beside this test binary ([`guest_dir`]); MIT's C kernel
//! comes from `XV6SCOPE_MIT_XV6` (a built xv6-riscv tree: kernel/kernel, fs.img, user/_*).
//! A test whose kernel is missing says it is skipped, and why, on stderr.

use machine::machine::{Config, Image, Machine, Stop};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Says that the running test is skipped and why. It goes to the process's stderr itself, not
/// through `eprintln!`, which the test harness captures and shows only for failures: a test
/// that passes because its kernel is missing says so in every `cargo test`.
pub fn skip(why: &str) {
    let thread = std::thread::current();
    let test = thread.name().filter(|n| *n != "main").unwrap_or("a test");
    let _ = writeln!(std::io::stderr(), "skipped {test}: {why}");
}

/// MIT's built tree, or None (and a message) when `XV6SCOPE_MIT_XV6` is unset.
pub fn mit_dir() -> Option<PathBuf> {
    match std::env::var_os("XV6SCOPE_MIT_XV6") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            skip("XV6SCOPE_MIT_XV6 is not set (a built MIT xv6-riscv tree)");
            None
        }
    }
}

/// Where each guest workspace puts its ELFs under its `<target>/guest/<name>` directory.
const GUEST_OUT: &str = "riscv64gc-unknown-none-elf/release";

/// `<target>/guest`, where tui/build.rs builds the guest workspaces (the Rust kernel in
/// `kernel/`, the user programs in `user/`) for the bundled image. This crate does not build
/// them: a test finds what the xv6scope build left in the target directory it runs from.
/// A test binary is `<target>/<profile>/deps/NAME` (`<target>/<triple>/<profile>/...` when
/// cross-compiling, where build.rs's OUT_DIR has the same shape), so three levels above it
/// is the `<target>` build.rs used; `CARGO_TARGET_DIR` is tried next. Err says where it
/// looked, for the skip message.
pub fn guest_dir() -> Result<PathBuf, String> {
    let beside_exe = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf));
    let from_env = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from);
    let mut looked = Vec::new();
    for target in beside_exe.into_iter().chain(from_env) {
        let guest = target.join("guest");
        if guest
            .join("kernel")
            .join(GUEST_OUT)
            .join("kernel")
            .is_file()
        {
            return Ok(guest);
        }
        looked.push(guest.display().to_string());
    }
    Err(format!(
        "the Rust kernel is not built in {} (tui/build.rs builds it: `cargo build --release`)",
        looked.join(" or ")
    ))
}

/// The Rust kernel ELF of the bundled image, or None after saying the test is skipped.
pub fn rust_kernel_path() -> Option<PathBuf> {
    match guest_dir() {
        Ok(guest) => Some(guest.join("kernel").join(GUEST_OUT).join("kernel")),
        Err(why) => {
            skip(&why);
            None
        }
    }
}

/// The directory of the bundled user programs with their symbols, or None (skipped).
pub fn rust_user_dir() -> Option<PathBuf> {
    let dir = guest_dir().map_err(|why| skip(&why)).ok()?;
    Some(dir.join("user").join(GUEST_OUT))
}

/// An fs.img of the bundled user programs, made as tui/build.rs makes the bundled one (every
/// program stripped to what exec loads, beside a README), or None (skipped).
pub fn rust_fs_img() -> Option<Vec<u8>> {
    let dir = rust_user_dir()?;
    let mut programs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter(|e| e.path().is_file())
        .filter_map(|e| {
            let bytes = std::fs::read(e.path()).ok()?;
            // Executables only (ET_EXEC): the build directory also holds dependency files.
            let exec = bytes.starts_with(b"\x7fELF") && bytes.get(16..18) == Some(&[2, 0]);
            let name = e.file_name().into_string().ok()?;
            exec.then(|| (name, mkfs::strip_elf(&bytes)))
        })
        .collect();
    programs.sort();
    assert!(
        programs.iter().any(|p| p.0 == "sh"),
        "no user programs in {}",
        dir.display()
    );
    let readme = b"xv6scope's test disk: the bundled user programs.\nhello, grep\n".to_vec();
    let mut files = vec![("README".to_string(), readme)];
    files.extend(programs);
    Some(mkfs::build(&files).expect("mkfs"))
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

    /// Boots the bundled Rust kernel with an fs.img of the bundled user programs
    /// ([`rust_fs_img`]) and runs to the first shell prompt.
    pub fn rust(harts: usize) -> Option<Booted> {
        Booted::rust_with(harts, &rust_fs_img()?)
    }

    /// Boots the bundled Rust kernel with disk image `disk` (MIT's fs.img works too: the two
    /// share xv6's ABI and disk format) to the first prompt.
    pub fn rust_with(harts: usize, disk: &[u8]) -> Option<Booted> {
        Booted::rust_lab(harts, disk, 0)
    }

    /// Boots the bundled Rust kernel with lab options `word` (`abi::lab`) to the first
    /// prompt.
    pub fn rust_lab(harts: usize, disk: &[u8], word: u32) -> Option<Booted> {
        let path = rust_kernel_path()?;
        let mut kernel_elf =
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if word != 0 {
            crate::lab::set_word(&mut kernel_elf, word).expect("the kernel's lab option word");
        }
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

    /// Runs until a hart stops at the breakpoint at `pc` (set here, removed after), within
    /// `budget` cycles; false if it did not.
    pub fn run_to(&mut self, pc: u64, budget: u64) -> bool {
        self.m.add_breakpoint(pc);
        let end = self.m.cycle() + budget;
        let mut hit = false;
        while self.m.cycle() < end {
            let stop = self.m.run(100_000);
            let out = self.m.bus.uart.take_output();
            self.console.push_str(&String::from_utf8_lossy(&out));
            if let Stop::Breakpoint { hart } = stop
                && self.m.harts[hart].pc == pc
            {
                hit = true;
                break;
            }
            if !matches!(stop, Stop::Budget | Stop::Idle | Stop::Breakpoint { .. }) {
                break;
            }
        }
        self.m.remove_breakpoint(pc);
        hit
    }
}
