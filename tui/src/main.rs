//! `xv6scope`: boots xv6-style RISC-V kernels on xv6scope's machine.
//!
//! Alone (with the machine options of `tui`): the terminal debugger on a terminal, or the
//! headless console when stdin or stdout is redirected. Subcommands: `tui` (the debugger),
//! `run` (headless, console on stdin/stdout like `make qemu`), `test-elf` (bare-metal test
//! programs that report through HTIF `tohost` or the test finisher), `bench` (guest speed,
//! side by side with qemu-system-riscv64 when it is installed), `walk` (lab walkthroughs, in
//! the TUI or headless with `--check`), `image` (the bundled kernel and disk as files), `qemu`
//! (QEMU's command line, see [`qemu`]) and `install-qemu-shim`. Started under the name
//! `qemu-system-riscv64` (a symlink), the program is the QEMU drop-in of `qemu`. Every failure
//! at this edge is one line on stderr and exit status 2 (1 on the QEMU path, as QEMU).

mod asm;
mod bench;
mod bundled;
mod cmd_replay;
mod cmd_run;
mod cmd_test_elf;
mod disk;
mod gdb;
mod limits;
mod net;
mod qemu;
mod signals;
mod terminal;
mod ui;
mod walk;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "xv6scope",
    version,
    about = "A debugger and monitor for xv6-style RISC-V kernels"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Without a subcommand: the terminal debugger's options (those of `tui`), so that
    /// `xv6scope --kernel kernel/kernel --disk fs.img` opens MIT's kernel.
    #[command(flatten)]
    tui: ui::TuiArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Boot a kernel headless, with the guest console on this terminal (Ctrl-A x quits).
    Run(cmd_run::RunArgs),
    /// Run bare-metal test ELFs; print PASS/FAIL for each, fail if any failed.
    TestElf(cmd_test_elf::TestElfArgs),
    /// Measure guest speed (MIPS) and boot time, beside qemu-system-riscv64 if installed.
    Bench(bench::BenchArgs),
    /// The terminal debugger (what `xv6scope` alone opens on a terminal).
    Tui(ui::TuiArgs),
    /// Play a lab walkthrough (docs/walkthroughs/*.toml); --check fails on the first bad check.
    Walk(walk::WalkArgs),
    /// Open a recorded run (`run --record FILE`) in the TUI, or check that it replays exactly.
    Replay(cmd_replay::ReplayArgs),
    /// Write the bundled kernel ELF, fs.img and user ELFs (with symbols) into a directory.
    Image {
        /// Output directory (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Boot from qemu-system-riscv64's command line as xv6 Makefiles write it (-help lists
    /// the options); what the binary does when started as `qemu-system-riscv64`.
    #[command(disable_help_flag = true)]
    Qemu {
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "QEMU ARGS"
        )]
        args: Vec<std::ffi::OsString>,
    },
    /// Make DIR/qemu-system-riscv64 a symlink to xv6scope: with DIR first on PATH, a lab
    /// tree's `make qemu`, `make qemu-gdb` and `make grade` run xv6scope.
    InstallQemuShim {
        /// Directory for the symlink (created if missing).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

/// Options shared by every command that builds a machine.
#[derive(Args, Clone, Debug)]
pub struct MachineArgs {
    /// Kernel ELF to boot (default: the bundled Rust xv6 kernel; a regular file).
    #[arg(long, value_name = "ELF")]
    pub kernel: Option<PathBuf>,
    /// Treat --kernel as a raw binary loaded at 0x80000000.
    #[arg(long)]
    pub raw: bool,
    /// Disk image for the virtio block device (a regular file of at most 1 GiB). Unless
    /// --snapshot, the guest's writes go back to it atomically (a new file renamed over it) at
    /// exit, on SIGTERM/SIGHUP/SIGINT, after a guest flush and within a second of a write.
    #[arg(long, value_name = "IMG")]
    pub disk: Option<PathBuf>,
    /// Keep disk writes in memory only, like QEMU's -snapshot.
    #[arg(long)]
    pub snapshot: bool,
    /// Number of harts.
    #[arg(long, value_name = "N", default_value_t = machine::board::DEFAULT_HARTS)]
    pub smp: usize,
    /// RAM size in MiB.
    #[arg(long, value_name = "MIB", default_value_t = machine::board::DEFAULT_RAM_MIB)]
    pub mem: u64,
    /// virtio-mmio transport version: 2 (modern) or 1 (legacy). Default: the one a --kernel's
    /// driver is written for (read from its code), else 2.
    #[arg(long, value_name = "1|2", value_parser = clap::value_parser!(u8).range(1..=2))]
    pub virtio_version: Option<u8>,
    /// Cycles each hart runs before the next hart's turn (with --seed: the longest turn).
    #[arg(long, value_name = "CYCLES", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub quantum: u64,
    /// Contention mode, for the lock lab and for shaking out races: each hart's turn is a
    /// length drawn from seed N (1 to --quantum cycles) and a hart spinning on a lock keeps
    /// spinning, so harts meet inside critical sections as parallel harts do. The same N
    /// gives the same run; another N, another interleaving. Off by default.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// How guest code runs: `jit` translates hot code to host code (x86-64 and aarch64
    /// hosts; elsewhere it falls back to the interpreter), `interp` interprets every
    /// instruction. Both give the same run, instruction for instruction.
    #[arg(long, value_name = "TIER", default_value = "jit", value_parser = parse_tier)]
    pub tier: machine::machine::Tier,
    /// User program ELFs with symbols, for source-level views of a foreign kernel's programs
    /// (MIT's `user/` with `_sh`, `_ls`... works as it is).
    #[arg(long, value_name = "DIR")]
    pub user_dir: Option<PathBuf>,
    /// Lab features to turn on in the bundled kernel at boot: a comma list of cow, lazy,
    /// usyscall, pgaccess, vmprint, backtrace, alarm, kpgtbl, mmap, symlink, bigfile, or all.
    #[arg(long, value_name = "LIST")]
    pub lab: Option<String>,
    /// Disk writes reach the image file as they happen (QEMU's way; the QEMU drop-in's),
    /// rather than when xv6scope exits.
    #[arg(skip)]
    pub write_through: bool,
}

/// `--tier`'s values.
fn parse_tier(s: &str) -> Result<machine::machine::Tier, String> {
    match s {
        "jit" => Ok(machine::machine::Tier::Jit),
        "interp" => Ok(machine::machine::Tier::Interp),
        _ => Err(format!("{s:?} is not a tier (jit or interp)")),
    }
}

fn main() {
    // Under QEMU's name, or `xv6scope qemu ...`: QEMU's command line, not clap's.
    let mut argv = std::env::args_os();
    let argv0 = argv.next().unwrap_or_default();
    if qemu::is_qemu_name(&argv0) {
        std::process::exit(qemu::main(argv.collect()));
    }
    let rest: Vec<std::ffi::OsString> = argv.collect();
    if rest.first().is_some_and(|a| a == "qemu") {
        std::process::exit(qemu::main(rest[1..].to_vec()));
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                std::process::exit(0);
            }
            let rendered = e.render().to_string();
            // The first line, and the indented lines under it that name what is missing
            // ("the following required arguments were not provided:\n  --out <DIR>").
            let mut lines = rendered.lines();
            let mut first = lines
                .next()
                .unwrap_or("bad arguments")
                .trim_start_matches("error: ")
                .to_string();
            for more in lines.take_while(|l| l.starts_with("  ")) {
                first.push(' ');
                first.push_str(more.trim());
            }
            eprintln!("xv6scope: {first} (try --help)");
            std::process::exit(2);
        }
    };
    let result = match cli.command {
        Some(Command::Run(args)) => cmd_run::run(args),
        Some(Command::TestElf(args)) => cmd_test_elf::run(args),
        Some(Command::Bench(args)) => bench::run(args),
        Some(Command::Image { out }) => bundled::write_image(&out).map(|()| {
            println!(
                "wrote {}/kernel, {}/fs.img and {}/user/",
                out.display(),
                out.display(),
                out.display()
            );
            0
        }),
        Some(Command::Tui(args)) => ui::run(args),
        Some(Command::Qemu { args }) => Ok(qemu::main(args)),
        Some(Command::InstallQemuShim { dir }) => qemu::install_shim(&dir).map(|link| {
            println!(
                "{} -> {}; put {} first on PATH (export PATH={}:$PATH) and run make qemu",
                link.display(),
                std::fs::read_link(&link).unwrap_or_default().display(),
                dir.display(),
                dir.display()
            );
            0
        }),
        Some(Command::Walk(args)) => walk::run(args),
        Some(Command::Replay(args)) => cmd_replay::run(args),
        // On a terminal the TUI; with stdin or stdout redirected, the headless console.
        None if cli.tui.measure.is_some()
            || std::io::IsTerminal::is_terminal(&std::io::stdin())
                && std::io::IsTerminal::is_terminal(&std::io::stdout()) =>
        {
            ui::run(cli.tui)
        }
        None => cmd_run::run(cmd_run::RunArgs {
            machine: cli.tui.machine,
            gdb: cli.tui.gdb,
            ..cmd_run::RunArgs::interactive_default()
        }),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            terminal::restore();
            eprintln!("xv6scope: {e:#}");
            std::process::exit(2);
        }
    }
}
