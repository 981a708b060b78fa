//! xv6scope as a drop-in for `qemu-system-riscv64`: a lab tree's own Makefile, unchanged,
//! runs xv6scope for `make qemu`, `make qemu-gdb` and `make grade`.
//!
//! Two ways in, one path: the binary started under the name `qemu-system-riscv64` (a
//! symlink made by `xv6scope install-qemu-shim DIR`, or a copy), and `xv6scope qemu ARGS`.
//! [`main`] parses QEMU's options ([`args`]: what the Makefiles of 2019-2024 pass; anything
//! else is one line naming the option, exit status 1), then maps the machine onto
//! `MachineArgs` and hands it to the front ends that already exist: `cmd_run::run` (headless,
//! the console on stdin/stdout with QEMU's `Ctrl-A` escapes — what scripts expect) or the
//! TUI (`-display xv6scope`, or `XV6SCOPE_TUI=1 make qemu`). Nothing here runs the machine.
//!
//! QEMU's behaviour kept on purpose: the virtio transport follows `force-legacy` (absent
//! means legacy), `-S` holds the harts until gdb continues, `-gdb tcp::PORT` serves gdb (on
//! loopback: xv6scope never listens on other interfaces unless given a host), disk writes
//! reach the image file as they happen (a `make grade` run ends with SIGTERM, and the next
//! test boots the image the last one left, as under QEMU), and `-help` lists `-gdb` at the
//! start of a line, which the Makefiles grep for to pick the `-gdb` syntax. `-version`
//! prints QEMU's first line with xv6scope named in it. With `XV6SCOPE_DRY_RUN=1` the
//! drop-in prints the `xv6scope` command the line amounts to and exits.

pub mod args;
pub mod hints;

use crate::MachineArgs;
use anyhow::{Context, Result, bail};
use args::{Display, Invocation, PROG};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The QEMU version whose command line this front end follows.
pub const QEMU_VERSION: &str = "7.2.0";

/// Whether the program was started under QEMU's name (`argv[0]`).
pub fn is_qemu_name(argv0: &OsString) -> bool {
    Path::new(argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(PROG))
}

/// The version line: QEMU's shape, xv6scope's name.
pub fn version_text() -> String {
    format!(
        "QEMU emulator version {QEMU_VERSION} (xv6scope {}: a RISC-V virt board for xv6, not QEMU)\n\
         Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers \
         (for the command line it follows)\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// `-help`: the supported options, one per line starting with the option as QEMU's does.
pub fn help_text() -> String {
    format!(
        "{}usage: {PROG} [options]   (xv6scope's drop-in for QEMU: the options xv6 labs use)\n\n\
-machine virt       QEMU's virt board (the only one)\n\
-bios none          no firmware: the kernel starts in M-mode at its entry\n\
-kernel FILE        the kernel ELF\n\
-m SIZE             RAM, in MiB or with a suffix (128M, 1G)\n\
-smp N|cpus=N       number of harts (1 to {})\n\
-nographic          the console on stdin/stdout; Ctrl-A x quits, Ctrl-A c monitor, Ctrl-A h help\n\
-display xv6scope   xv6scope's terminal debugger instead (also XV6SCOPE_TUI=1)\n\
-serial mon:stdio|stdio   the console on stdin/stdout\n\
-monitor none       accepted\n\
-drive file=IMG,if=none,format=raw,id=ID[,snapshot=on]\n\
-device virtio-blk-device,drive=ID,bus=virtio-mmio-bus.0\n\
-global virtio-mmio.force-legacy=true|false   virtio-mmio version 1 (default) or 2\n\
-snapshot           disk writes stay in memory\n\
-S                  hold the harts until gdb continues them\n\
-gdb tcp::PORT      serve gdb's remote protocol on PORT (loopback)\n\
-s                  -gdb tcp::1234\n\
-no-reboot          accepted (a reset ends the run)\n\
-netdev user,id=ID[,hostfwd=udp::HOSTPORT-:GUESTPORT]...   QEMU's user network (UDP)\n\
-device e1000,netdev=ID,bus=pcie.0   the net lab's e1000 on PCIe\n\
-object filter-dump,id=X,netdev=ID,file=FILE   a pcap of the e1000's frames\n\
-version            the version line\n\n\
Not supported (one line and exit status 1): every other option.\n",
        version_text(),
        machine::board::MAX_HARTS
    )
}

/// The QEMU front end: `args` are the arguments after the program name. Returns the exit
/// status (1 for a refused command line, as QEMU).
pub fn main(args: Vec<OsString>) -> i32 {
    let args: Vec<String> = match args.into_iter().map(OsString::into_string).collect() {
        Ok(a) => a,
        Err(bad) => {
            eprintln!("{PROG}: {}: not valid UTF-8", bad.to_string_lossy());
            return 1;
        }
    };
    let tui_env = std::env::var("XV6SCOPE_TUI").is_ok_and(|v| !v.is_empty() && v != "0");
    let config = match args::parse(&args, tui_env) {
        Ok(Invocation::Version) => {
            print!("{}", version_text());
            return 0;
        }
        Ok(Invocation::Help) => {
            print!("{}", help_text());
            return 0;
        }
        Ok(Invocation::Run(c)) if std::env::var_os("XV6SCOPE_DRY_RUN").is_some() => {
            println!("{}", equivalent(&c));
            return 0;
        }
        Ok(Invocation::Run(c)) => c,
        Err(e) => {
            eprintln!("{PROG} (xv6scope): {e}");
            return 1;
        }
    };
    match run(config) {
        Ok(code) => code,
        Err(e) => {
            crate::terminal::restore();
            eprintln!("{PROG} (xv6scope): {e:#}");
            1
        }
    }
}

/// The `xv6scope` command line a QEMU configuration amounts to (`XV6SCOPE_DRY_RUN=1`
/// prints it instead of running).
pub fn equivalent(c: &args::Config) -> String {
    let mut words = vec![match c.display {
        Display::Headless => "xv6scope run".to_string(),
        Display::Tui => "xv6scope tui".to_string(),
    }];
    words.push(format!("--kernel {}", c.kernel.display()));
    if let Some(d) = &c.disk {
        words.push(format!("--disk {}", d.display()));
    }
    if c.snapshot {
        words.push("--snapshot".into());
    }
    words.push(format!("--smp {} --mem {}", c.smp, c.mem_mib));
    words.push(format!("--virtio-version {}", if c.legacy { 1 } else { 2 }));
    if let Some(g) = &c.gdb {
        words.push(format!("--gdb {g}"));
        if c.wait && c.display == Display::Headless {
            words.push("--gdb-wait".into());
        }
    }
    if let Some(n) = &c.net {
        words.push(format!("--net={}", net_list(n)));
        if let Some(f) = &n.dump {
            words.push(format!("--net-dump {}", f.display()));
        }
    }
    words.join(" ")
}

/// `run --net`'s list for a QEMU network: its forwarded ports.
fn net_list(n: &crate::net::NetSpec) -> String {
    n.forwards
        .iter()
        .map(|(h, g)| format!("hostfwd=udp::{h}-:{g}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The machine options of a QEMU configuration.
pub fn machine_args(c: &args::Config) -> MachineArgs {
    MachineArgs {
        kernel: Some(c.kernel.clone()),
        raw: false,
        disk: c.disk.clone(),
        snapshot: c.snapshot,
        smp: c.smp,
        mem: c.mem_mib,
        virtio_version: Some(if c.legacy { 1 } else { 2 }),
        quantum: 10_000,
        // Contention mode under `make qemu` and `make grade` (the lock lab): QEMU has no
        // such option, so it comes from the environment.
        seed: std::env::var("XV6SCOPE_SEED")
            .ok()
            .and_then(|v| v.trim().parse().ok()),
        // The tier likewise (`XV6SCOPE_TIER=interp`); jit by default.
        tier: std::env::var("XV6SCOPE_TIER")
            .ok()
            .and_then(|v| crate::parse_tier(v.trim()).ok())
            .unwrap_or_default(),
        user_dir: None,
        lab: None,
        write_through: true,
    }
}

/// Sends the guest's disk writes to the image file at `path` as they happen (QEMU's
/// write-through): a run ended by a signal leaves the image as the guest last wrote it.
pub fn write_through(session: &mut session::Session, path: &Path) -> Result<()> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open disk image {} for writing", path.display()))?;
    let shown = path.display().to_string();
    let mut failed = false;
    session
        .machine_mut()
        .bus
        .virtio
        .set_write_sink(Box::new(move |offset, bytes| {
            if let Err(e) = file.write_all_at(bytes, offset)
                && !std::mem::replace(&mut failed, true)
            {
                eprintln!("xv6scope: cannot write to disk image {shown}: {e}");
            }
        }));
    Ok(())
}

/// Runs a parsed configuration on the existing front ends.
fn run(c: args::Config) -> Result<i32> {
    let machine = machine_args(&c);
    match c.display {
        Display::Headless => crate::cmd_run::run(crate::cmd_run::RunArgs {
            machine,
            gdb: c.gdb,
            gdb_wait: c.wait,
            net: c.net.as_ref().map(net_list),
            net_dump: c.net.as_ref().and_then(|n| n.dump.clone()),
            ..crate::cmd_run::RunArgs::interactive_default()
        }),
        Display::Tui => {
            // The TUI shows the user programs' source when their ELFs are at hand, as a lab
            // tree keeps them (`user/_sh`...).
            let user = c
                .kernel
                .parent()
                .and_then(Path::parent)
                .map(|t| t.join("user"));
            let user_dir = user.filter(|u| has_user_elfs(u));
            crate::ui::run(crate::ui::TuiArgs {
                machine: MachineArgs {
                    user_dir,
                    ..machine
                },
                gdb: c.gdb,
                net: c.net.as_ref().map(net_list),
                net_dump: c.net.as_ref().and_then(|n| n.dump.clone()),
                ..crate::ui::TuiArgs::bundled()
            })
        }
    }
}

/// Whether `dir` holds MIT-style user program ELFs (`_sh`).
fn has_user_elfs(dir: &Path) -> bool {
    dir.join("_sh").is_file()
}

/// `xv6scope install-qemu-shim DIR`: makes `DIR/qemu-system-riscv64` a symlink to this
/// binary (replacing an older such link, never another file). Returns the link's path.
pub fn install_shim(dir: &Path) -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the xv6scope binary")?;
    let exe = exe.canonicalize().unwrap_or(exe);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let link = dir.join(PROG);
    match std::fs::symlink_metadata(&link) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::remove_file(&link)
                .with_context(|| format!("cannot replace {}", link.display()))?;
        }
        Ok(_) => bail!(
            "{} exists and is not a symlink (a real QEMU?): not replacing it",
            link.display()
        ),
        Err(_) => {}
    }
    std::os::unix::fs::symlink(&exe, &link)
        .with_context(|| format!("cannot create {}", link.display()))?;
    Ok(link)
}
