//! `xv6scope run`: boots a kernel headless with the guest console on stdin/stdout.
//!
//! The machine runs on this thread in slices; between slices the console output is copied to
//! stdout, host input is queued into the UART (never dropped), and the stop conditions
//! (`--until`, `--timeout`, guest power-off) are checked. The exit status follows the test
//! finisher, as QEMU's does.

use crate::MachineArgs;
use crate::terminal::{self, Input};
use anyhow::{Context, Result, bail};
use clap::Args;
use machine::machine::{Config, Machine, Stop, Wake};
use session::inspect::strace::Filter;
use session::{Boot, Session};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Cycles per slice between host I/O checks (a few milliseconds of host time).
const SLICE: u64 = 2_000_000;

#[derive(Args, Clone, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub machine: MachineArgs,
    /// Type TEXT into the console (`\n` is Enter); stdin is then not read.
    #[arg(long, value_name = "TEXT")]
    pub input: Option<String>,
    /// Exit with status 0 as soon as TEXT appears on the console.
    #[arg(long, value_name = "TEXT")]
    pub until: Option<String>,
    /// Give up after SECS seconds of host time (exit status 1); at most a year.
    #[arg(long, value_name = "SECS", value_parser = crate::limits::parse_timeout, allow_negative_numbers = true)]
    pub timeout: Option<f64>,
    /// Print instructions retired, guest time, host time and MIPS to stderr on exit.
    #[arg(long)]
    pub stats: bool,
    /// Print every system call to stderr as it completes, strace-style. FILTER: a comma list
    /// of syscall names, `pid=N`, `proc=NAME`, `mask=N` (the trace lab's mask).
    #[arg(long, value_name = "FILTER", num_args = 0..=1, default_missing_value = "", require_equals = true)]
    pub strace: Option<String>,
    /// Serve gdb's remote protocol on ADDR, like `qemu -gdb`. `:26000` or `26000` listens on
    /// 127.0.0.1 only (loopback); give HOST:PORT (e.g. 0.0.0.0:26000) to listen elsewhere.
    #[arg(long, value_name = "ADDR")]
    pub gdb: Option<String>,
    /// Record the run into FILE (kernel, disk, console input, output), to be replayed
    /// exactly by `xv6scope replay FILE` (or checked with `replay --check FILE`).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// With --gdb: hold the guest at its first instruction until gdb attaches (QEMU's -S).
    #[arg(long, requires = "gdb")]
    pub gdb_wait: bool,
    /// Give the board the net lab's hardware (a PCIe host bridge, an e1000, and QEMU's user
    /// network: the guest is 10.0.2.15, the host 10.0.2.2). SPEC: a comma list of
    /// `hostfwd=udp::HOSTPORT-:GUESTPORT` (host ports listen on 127.0.0.1).
    #[arg(long, value_name = "SPEC", num_args = 0..=1, default_missing_value = "", require_equals = true)]
    pub net: Option<String>,
    /// With --net: write every Ethernet frame to FILE in pcap format (QEMU's filter-dump),
    /// stamped with guest time.
    #[arg(long, value_name = "FILE", requires = "net")]
    pub net_dump: Option<PathBuf>,
}

impl RunArgs {
    /// `xv6scope` with no subcommand: the bundled kernel, interactive.
    pub fn interactive_default() -> Self {
        RunArgs {
            machine: MachineArgs {
                kernel: None,
                raw: false,
                disk: None,
                snapshot: false,
                smp: machine::board::DEFAULT_HARTS,
                mem: machine::board::DEFAULT_RAM_MIB,
                virtio_version: None,
                quantum: 10_000,
                seed: None,
                tier: Default::default(),
                user_dir: None,
                lab: None,
                write_through: false,
            },
            input: None,
            until: None,
            timeout: None,
            stats: false,
            strace: None,
            record: None,
            gdb: None,
            gdb_wait: false,
            net: None,
            net_dump: None,
        }
    }
}

/// A booted session plus where its disk goes back to on exit.
pub struct Booted {
    pub session: Session,
    pub disk_path: Option<PathBuf>,
}

/// Boots a session from the command line: kernel (file or bundled), disk, harts, memory;
/// the user programs' symbols (the bundled ones with the bundled kernel, `--user-dir`).
pub fn boot(args: &MachineArgs) -> Result<Booted> {
    let mut kernel = match &args.kernel {
        Some(path) => crate::limits::read_input_file(path, "kernel", crate::limits::MAX_ELF_BYTES)?,
        None => crate::bundled::kernel()?.to_vec(),
    };
    let lab = match &args.lab {
        Some(list) => session::lab::set_options(&mut kernel, list).context("--lab")?,
        None => 0,
    };
    if !args.raw && !machine::loader::is_elf(&kernel) {
        bail!(
            "{} is not an ELF file (pass --raw to load a raw binary at 0x80000000)",
            display_kernel(args)
        );
    };
    let (disk, disk_path) = match (&args.disk, &args.kernel) {
        (Some(path), _) => {
            let bytes = crate::disk::load(path, args.snapshot)?;
            (Some(bytes), (!args.snapshot).then(|| path.clone()))
        }
        // The bigfile option's on-disk format needs its own image of the bundled files.
        (None, None) if lab & abi::lab::BIGFILE != 0 => (
            Some(session::lab::bigfile_image(crate::bundled::fs_img()?)?),
            None,
        ),
        (None, None) => (Some(crate::bundled::fs_img()?.to_vec()), None),
        (None, Some(_)) => (None, None),
    };
    let config = Config {
        harts: args.smp,
        ram_mib: args.mem,
        virtio_legacy: crate::qemu::hints::virtio_legacy(args, &kernel),
        quantum: args.quantum,
        interleave: args.seed,
        tier: args.tier,
    };
    let mut session = Session::new(Boot {
        kernel,
        raw: args.raw,
        disk,
        config,
    })
    .with_context(|| display_kernel(args))?;
    if args.kernel.is_none() {
        let bundled: Vec<(String, Vec<u8>)> = crate::bundled::USER_ELFS
            .iter()
            .map(|(n, e)| (n.to_string(), e.to_vec()))
            .collect();
        session.add_user_elfs(&bundled);
    }
    session.add_user_elfs(&user_dir_elfs(args)?);
    if args.write_through
        && let Some(path) = &disk_path
    {
        crate::qemu::write_through(&mut session, path)?;
        // Each write reaches the file as it happens; the atomic write-back of `disk.rs`
        // would rename a new file over the one the sink writes into.
        return Ok(Booted {
            session,
            disk_path: None,
        });
    }
    Ok(Booted { session, disk_path })
}

fn display_kernel(args: &MachineArgs) -> String {
    args.kernel
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "the bundled kernel".into())
}

pub fn run(args: RunArgs) -> Result<i32> {
    let Booted {
        mut session,
        disk_path,
    } = boot(&args.machine)?;
    match &args.strace {
        Some(_) if args.gdb.is_some() => {
            bail!("--strace and --gdb do not mix: use `monitor strace on` in gdb")
        }
        Some(spec) => start_strace(&mut session, spec)?,
        None => {}
    }
    let mut net = match &args.net {
        Some(list) => Some(crate::net::attach(
            &mut session,
            list,
            args.net_dump.clone(),
        )?),
        None => None,
    };
    if args.record.is_some() {
        // The recording is the timeline's history from boot.
        session.set_time_travel(true);
    }
    let mut recorded: Vec<u8> = Vec::new();
    let mut host = crate::gdb::Host::new(session, args.gdb.as_deref(), args.gdb_wait)?;
    let session = host.session();
    let input = match &args.input {
        Some(text) => {
            session.type_input(&unescape(text));
            Input::none()
        }
        None => Input::from_stdin()?,
    };
    let raw_tty = input.is_raw_tty();
    // With live input (a terminal or a pipe), idle time passes at the host's pace.
    session.set_idle_stops(input.is_live());
    let mut until = args.until.as_ref().map(|t| Matcher::new(t.as_bytes()));
    let started = Instant::now();
    let deadline = args
        .timeout
        .and_then(|s| crate::limits::deadline(started, s));
    let mut stdout = std::io::stdout().lock();
    let signals = crate::signals::Stop::install();
    let mut persist = disk_path.map(crate::disk::Persist::new);
    let mut at_line_start = true;
    let mut told_halted = false;
    let mut hints = crate::qemu::hints::Hints::new(host.session());

    let outcome = loop {
        let Some(stop) = host.run(SLICE) else {
            break Outcome::Quit;
        }; // gdb's `kill`
        let session = host.session();
        let net_moved = match net.as_mut().map(|n| n.pump(session)) {
            Some(Err(e)) => break Outcome::HostError(e),
            Some(Ok(moved)) => moved,
            None => false,
        };
        for note in net.as_mut().map(|n| n.take_notes()).unwrap_or_default() {
            terminal::note(&note, raw_tty);
        }
        if args.strace.is_some() {
            for r in session.take_records() {
                eprintln!("{r}");
            }
        }
        let out = session.take_output();
        if args.record.is_some() {
            recorded.extend_from_slice(&out);
        }
        let hint = hints.check(session.machine(), &out);
        if !out.is_empty() {
            at_line_start = out.ends_with(b"\n");
            if let Err(e) = terminal::write_console(&mut stdout, &out, raw_tty) {
                break Outcome::HostError(e.into());
            }
            if let Some(m) = until.as_mut()
                && m.feed(&out)
            {
                break Outcome::Found;
            }
        }
        if let Some(hint) = hint {
            terminal::note(&hint, raw_tty);
        }
        match stop {
            Stop::PowerOff { code } => break Outcome::PowerOff(code),
            Stop::Reset => break Outcome::Reset,
            Stop::Htif { value } => break Outcome::Htif(value),
            Stop::Breakpoint { .. } | Stop::Watchpoint { .. } | Stop::Budget => {}
            Stop::Idle
                if !told_halted && halted(session.machine().wake(), &input, net.is_some()) =>
            {
                // A debugger may still want to look at a halted guest: run on for it.
                if args.gdb.is_none() {
                    break Outcome::Halted;
                }
                told_halted = true;
                eprintln!("xv6scope: all harts wait with no wake-up source (gdb can still look)");
            }
            Stop::Idle => {
                // Every hart waits. Keep guest time from running ahead of the host clock while
                // a person may type, and wait for input instead of spinning.
                let mut wait = session.idle_pace(started);
                if net.is_some() && !net_moved {
                    // Datagrams from the host arrive on sockets this wait does not watch:
                    // look at them every couple of milliseconds.
                    wait = wait.min(crate::net::POLL);
                } else if net_moved {
                    wait = Duration::ZERO;
                }
                let event = if room_for_input(session.machine()) {
                    input.wait(wait)
                } else {
                    std::thread::sleep(wait);
                    None
                };
                match event {
                    Some(terminal::Event::Bytes(bytes)) => session.type_input(&bytes),
                    Some(terminal::Event::Quit) => break Outcome::Quit,
                    None => {}
                }
            }
        }
        match room_for_input(session.machine())
            .then(|| input.poll())
            .flatten()
        {
            Some(terminal::Event::Bytes(bytes)) => session.type_input(&bytes),
            Some(terminal::Event::Quit) => break Outcome::Quit,
            None => {}
        }
        if let Some(p) = persist.as_mut() {
            p.tick(session.machine());
        }
        if let Some(sig) = signals.received() {
            break Outcome::Signal(sig);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break Outcome::Timeout;
        }
    };
    if !at_line_start && matches!(outcome, Outcome::Halted | Outcome::Signal(_)) {
        // The guest's last line (a panic message, say) ends before ours begins.
        let _ = writeln!(stdout);
    }
    let flushed = stdout.flush();
    drop(stdout);
    terminal::restore();
    let session = host.into_session();
    if let Some(path) = &args.record {
        let rec = session
            .recording(&recorded)
            .map_err(anyhow::Error::msg)
            .context("cannot record")?;
        crate::disk::write_atomically(path, &rec.encode())
            .with_context(|| format!("cannot write the recording {}", path.display()))?;
    }
    let machine = session.into_machine();

    // Every exit path writes the disk back, a host error's too.
    if let Some(p) = persist.as_mut() {
        p.finish(&machine)?;
    }
    if let Outcome::HostError(e) = outcome {
        return Err(e);
    }
    flushed?;
    if args.stats {
        print_stats(&machine, started.elapsed());
    }
    Ok(match outcome {
        Outcome::Found | Outcome::Quit => 0,
        Outcome::PowerOff(code) => {
            if let Some(t) = &args.until {
                eprintln!("xv6scope: the guest powered off (code {code}) before {t:?} appeared");
                1
            } else {
                code.min(255) as i32
            }
        }
        Outcome::Reset => {
            eprintln!("xv6scope: the guest asked for a reset; stopping");
            0
        }
        Outcome::Htif(value) => {
            if value == 1 {
                0
            } else {
                ((value >> 1).clamp(1, 255)) as i32
            }
        }
        Outcome::Halted => {
            let what = args
                .until
                .as_ref()
                .map(|t| format!(" before {t:?} appeared"))
                .unwrap_or_default();
            eprintln!("xv6scope: all harts wait with no wake-up source{what}");
            1
        }
        Outcome::Signal(sig) => {
            eprintln!("xv6scope: stopped by {}", crate::signals::name(sig));
            128 + sig
        }
        Outcome::HostError(_) => unreachable!("returned above"),
        Outcome::Timeout => {
            let what = args
                .until
                .as_ref()
                .map(|t| format!(" waiting for {t:?}"))
                .unwrap_or_default();
            eprintln!(
                "xv6scope: timeout after {:.1} s{what}",
                args.timeout.unwrap_or(0.0)
            );
            1
        }
    })
}

/// The user programs in `--user-dir DIR`: every ELF there, named as xv6 names it on disk
/// (MIT's build calls them `_sh`, `_ls`...).
pub fn user_dir_elfs(args: &MachineArgs) -> Result<Vec<(String, Vec<u8>)>> {
    let Some(dir) = &args.user_dir else {
        return Ok(Vec::new());
    };
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read --user-dir {}", dir.display()))?;
    let mut elfs = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !path.is_file() || name.contains('.') {
            continue;
        }
        let bytes =
            crate::limits::read_input_file(&path, "user program", crate::limits::MAX_ELF_BYTES)?;
        if machine::loader::is_elf(&bytes) {
            elfs.push((name.trim_start_matches('_').to_string(), bytes));
        }
    }
    if elfs.is_empty() {
        bail!("--user-dir {}: no ELF files there", dir.display());
    }
    Ok(elfs)
}

/// Turns the syscall tracer on for `run --strace`.
fn start_strace(session: &mut Session, spec: &str) -> Result<()> {
    let filter = Filter::parse(spec).map_err(|e| anyhow::anyhow!("--strace={spec}: {e}"))?;
    // The tracer finds the trampoline through the kernel's symbols: unreadable ones are the
    // cause to name (which section, and why), not the trampoline it then cannot find.
    if session.views.syms.kernel.is_none() {
        let why = session
            .views
            .kernel_error
            .as_deref()
            .unwrap_or("unknown reason");
        bail!("--strace needs the kernel's symbols, which cannot be read: {why}");
    }
    session
        .strace_on(filter)
        .map_err(|e| anyhow::anyhow!("--strace: {e}"))
}

enum Outcome {
    Found,
    Quit,
    PowerOff(u32),
    Reset,
    Htif(u64),
    Timeout,
    /// Every hart waits and nothing can wake one (see [`halted`]).
    Halted,
    /// SIGTERM, SIGHUP or SIGINT.
    Signal(i32),
    /// Writing the console failed (a closed pipe, say); the disk is still written back.
    HostError(anyhow::Error),
}

/// Whether an idle machine has halted for good: no timer can end the wait, and host input
/// cannot either — the machine says none would interrupt a hart, or none will come (`--input`
/// was all typed, stdin ended, and there is no network a datagram could come in from).
fn halted(wake: Wake, input: &Input, net: bool) -> bool {
    match wake {
        Wake::Timer(_) => false,
        Wake::Input => !input.may_arrive() && !net,
        Wake::Never => true,
    }
}

/// Whether the UART's queue takes more host input now: input the guest does not read is held
/// back on stdin rather than piled up in memory.
fn room_for_input(machine: &Machine) -> bool {
    machine.bus.uart.input_len() < crate::limits::MAX_PENDING_INPUT
}

pub fn print_stats(machine: &Machine, host: Duration) {
    let instret = machine.instret();
    let guest_s = machine.mtime() as f64 / machine::board::TIMEBASE_HZ as f64;
    let host_s = host.as_secs_f64();
    let mips = instret as f64 / host_s.max(1e-9) / 1e6;
    eprintln!("instructions retired: {instret}");
    eprintln!("guest time: {guest_s:.3} s");
    eprintln!("host time: {host_s:.3} s");
    eprintln!("MIPS: {mips:.1}");
    if let Some(jit) = machine.jit_stats() {
        eprintln!("{}", jit_line(&jit, instret));
    }
}

/// The translating tier's line of `--stats`: regions translated, translated again optimised
/// (for being hot), reused (a translation of the same code bytes found again, no compile) and
/// refused; the code they made; compile time per compile (first translations and optimised
/// ones); the share of all retired instructions that ran in translated code, and how many
/// ran per entry into translated code (each entry costs a return to the run loop).
fn jit_line(s: &machine::cpu::jit::JitStats, instret: u64) -> String {
    let compiles = s.translations + s.optimized;
    let per = s.compile_nanos as f64 / 1e3 / compiles.max(1) as f64;
    let share = 100.0 * s.instructions as f64 / instret.max(1) as f64;
    let per_entry = s.instructions as f64 / s.entries.max(1) as f64;
    let mut line = format!(
        "jit: {} translations, {} optimised, {} reused, {} refused; {:.1} MiB of code, \
         {per:.0} µs per compile; {share:.1}% of instructions translated, {per_entry:.0} per \
         entry",
        s.translations,
        s.optimized,
        s.reused,
        s.refused,
        s.code_bytes as f64 / (1 << 20) as f64,
    );
    if s.flushes > 0 {
        line.push_str(&format!(" ({} code cache flushes)", s.flushes));
    }
    line
}

/// `\n`, `\r`, `\t`, `\\` and `\xHH` escapes in --input text.
fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut bytes = text.bytes().peekable();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'n') => out.push(b'\n'),
            Some(b'r') => out.push(b'\r'),
            Some(b't') => out.push(b'\t'),
            Some(b'x') => {
                let hex: Vec<u8> = (0..2).filter_map(|_| bytes.next()).collect();
                match std::str::from_utf8(&hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => out.push(v),
                    None => out.extend_from_slice(b"\\x"),
                }
            }
            Some(other) => out.push(other),
            None => out.push(b'\\'),
        }
    }
    out
}

/// Finds a byte string in a stream that arrives in pieces.
struct Matcher {
    needle: Vec<u8>,
    window: Vec<u8>,
}

impl Matcher {
    fn new(needle: &[u8]) -> Self {
        Matcher {
            needle: needle.to_vec(),
            window: Vec::new(),
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> bool {
        self.window.extend_from_slice(bytes);
        let found = self.needle.is_empty()
            || self
                .window
                .windows(self.needle.len())
                .any(|w| w == self.needle);
        let keep = self.needle.len().saturating_sub(1);
        if self.window.len() > keep {
            self.window.drain(..self.window.len() - keep);
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jit_line_divides_per_compile_and_by_all_instructions() {
        let s = machine::cpu::jit::JitStats {
            translations: 4,
            optimized: 2,
            reused: 3,
            refused: 1,
            code_bytes: 3 << 20,
            compile_nanos: 200_000,
            entries: 10,
            instructions: 750,
            ..Default::default()
        };
        assert_eq!(
            jit_line(&s, 1000),
            "jit: 4 translations, 2 optimised, 3 reused, 1 refused; 3.0 MiB of code, \
             33 µs per compile; 75.0% of instructions translated, 75 per entry"
        );
        let none = machine::cpu::jit::JitStats {
            flushes: 2,
            ..Default::default()
        };
        assert!(
            jit_line(&none, 0)
                .ends_with("0.0% of instructions translated, 0 per entry (2 code cache flushes)")
        );
    }

    #[test]
    fn escapes_in_input_text() {
        assert_eq!(unescape(r"ls\necho hi\n"), b"ls\necho hi\n");
        assert_eq!(unescape(r"\x04a\\b"), b"\x04a\\b");
    }

    #[test]
    fn matcher_finds_text_split_across_chunks() {
        let mut m = Matcher::new(b"$ ");
        assert!(!m.feed(b"init: starting sh\n$"));
        assert!(m.feed(b" "));
        let mut m = Matcher::new(b"ALL TESTS PASSED");
        assert!(!m.feed(b"ALL TESTS"));
        assert!(m.feed(b" PASSED\n"));
    }
}
