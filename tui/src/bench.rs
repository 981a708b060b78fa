//! `xv6scope bench`: guest speed, measured side by side with qemu-system-riscv64.
//!
//! Workloads:
//! - `int-loop`: an ALU loop (add, xor, shifts, sub, branch) in S-mode with Sv39 paging on.
//! - `mem-loop`: a load/store loop (ld/sd and byte lbu/sb over a 64 KiB buffer), same setting.
//! - `boot`: host seconds from power-on to the shell's `$ ` prompt, for the bundled kernel
//!   and, when `XV6SCOPE_MIT_XV6` names a built MIT xv6-riscv tree, for MIT's kernel.
//!
//! The loops are generated here (see `asm`), so both machines run the same bytes. Our machine
//! counts instructions exactly; QEMU does not, so its MIPS figure comes from two runs of
//! different length: (instructions(long) - instructions(short)) / (time(long) - time(short)),
//! which cancels QEMU's start-up time. Our figure is instret / host time of the long run.

use crate::asm::{Asm, elf};
use anyhow::{Context, Result, bail};
use clap::Args;
use machine::board::{QemuSerial, qemu_args};
use machine::cpu::csr::addr as csr;
use machine::cpu::encode::{A0, A1, A2, A3, A4, A5, S0, T0, T1, T2, ZERO};
use machine::cpu::{WatchKind, Watchpoint};
use machine::machine::{Config, Image, Machine, Stop};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Args, Clone, Debug)]
pub struct BenchArgs {
    /// Shorter runs (about 10x fewer iterations), for a quick look.
    #[arg(long)]
    pub quick: bool,
    /// Skip qemu-system-riscv64 even if it is installed.
    #[arg(long)]
    pub no_qemu: bool,
    /// Write the generated loop programs (int-loop.elf, mem-loop.elf) into DIR and exit.
    #[arg(long, value_name = "DIR")]
    pub emit: Option<PathBuf>,
    /// Only these workloads (int-loop, mem-loop, watch, tui, timeline, boot; and
    /// `recording`, which only runs when named); default all.
    #[arg(value_name = "WORKLOAD")]
    pub only: Vec<String>,
}

/// Builds a loop program of N iterations.
type LoopMaker = fn(u64) -> Program;

/// A kernel to boot: name, kernel ELF, disk image, and their files when they have some.
type BootCase = (String, Vec<u8>, Vec<u8>, Option<(PathBuf, PathBuf)>);

/// A generated benchmark program: its ELF, and how many instructions it retires.
pub struct Program {
    pub elf: Vec<u8>,
    pub instructions: u64,
}

const BASE: u64 = 0x8000_0000;
const ROOT_PT: i64 = 0x8010_0000;
const BUFFER: i64 = 0x8020_0000;
const FINISHER: i64 = 0x10_0000;

/// M-mode prologue: PMP open, Sv39 root with two 1 GiB pages (RAM, and the low GiB holding
/// the finisher), satp on, mret into S-mode at the next instruction.
fn prologue(a: &mut Asm) {
    a.li(T1, 0x3f_ffff_ffff_ffff)
        .csrw(csr::PMPADDR0, T1)
        .li(T1, 0xf)
        .csrw(csr::PMPCFG0, T1);
    // PTE flags V R W X A D = 0xcf; V R W A D = 0xc7.
    a.li(T0, ROOT_PT)
        .li(T1, (BASE as i64 >> 12) << 10 | 0xcf)
        .sd(T1, 16, T0);
    a.li(T1, 0xc7).sd(T1, 0, T0);
    a.li(T1, 8 << 60 | ROOT_PT >> 12)
        .csrw(csr::SATP, T1)
        .sfence_vma();
    a.li(T1, 1 << 11).csrw(csr::MSTATUS, T1); // MPP = S
    a.auipc(T1, 0).addi(T1, T1, 16).csrw(csr::MEPC, T1).mret();
}

/// Epilogue: tell the finisher "pass", then spin.
fn epilogue(a: &mut Asm) {
    a.li(T0, FINISHER).li(T1, 0x5555).sw(T1, 0, T0);
    let here = a.here();
    a.j(here);
}

/// Builds a loop program; `body` emits the loop body (ending with the branch back to `top`)
/// and returns how many instructions one iteration retires.
fn program(
    iterations: u64,
    setup: impl Fn(&mut Asm),
    body: impl Fn(&mut Asm, i32) -> u64,
) -> Program {
    let mut a = Asm::default();
    prologue(&mut a);
    setup(&mut a);
    a.li(A0, iterations as i64);
    let straight_before = a.words.len() as u64;
    let top = a.here();
    let per_iteration = body(&mut a, top);
    let tail_start = a.words.len();
    epilogue(&mut a);
    // Every instruction before the loop retires once (mret included); the epilogue retires up
    // to its finisher store, which stops the machine before the final `j .`.
    let straight_after = (a.words.len() - tail_start - 1) as u64;
    Program {
        elf: elf(&a.bytes(), BASE),
        instructions: straight_before + iterations * per_iteration + straight_after,
    }
}

/// The ALU loop: 8 instructions per iteration.
pub fn int_loop(iterations: u64) -> Program {
    program(
        iterations,
        |a| {
            a.li(A1, 0).li(A2, 1);
        },
        |a, top| {
            a.add(A1, A1, A2)
                .xor(A2, A2, A1)
                .slli(A3, A1, 3)
                .srli(A4, A2, 5);
            a.add(A1, A1, A3)
                .sub(A2, A2, A4)
                .addi(A0, A0, -1)
                .bne(A0, ZERO, top);
            8
        },
    )
}

/// The memory loop: 10 instructions per iteration, 4 of them loads or stores.
pub fn mem_loop(iterations: u64) -> Program {
    program(
        iterations,
        |a| {
            a.li(S0, BUFFER).li(A5, 0xfff8).li(A1, 0);
        },
        |a, top| {
            a.and(T0, A1, A5)
                .add(T0, T0, S0)
                .ld(T1, 0, T0)
                .addi(T1, T1, 1)
                .sd(T1, 0, T0);
            a.lbu(T2, 3, T0)
                .sb(T2, 5, T0)
                .addi(A1, A1, 8)
                .addi(A0, A0, -1)
                .bne(A0, ZERO, top);
            10
        },
    )
}

/// Runs a program on our machine; returns (instructions retired, host time).
pub fn run_ours(p: &Program) -> Result<(u64, Duration)> {
    run_watched(p, None)
}

/// Runs a program on our machine with a data watchpoint set (that the program never
/// triggers: a stop is an error); returns (instructions retired, host time).
fn run_watched(p: &Program, watch: Option<Watchpoint>) -> Result<(u64, Duration)> {
    let config = Config {
        harts: 1,
        ..Config::default()
    };
    let mut m = Machine::new(config, Image::Elf(&p.elf), None)?;
    if let Some(w) = watch {
        m.add_watchpoint(w);
    }
    let start = Instant::now();
    loop {
        match m.run(50_000_000) {
            Stop::Budget => continue,
            Stop::PowerOff { code: 0 } => break,
            other => bail!("benchmark program stopped unexpectedly: {other:?}"),
        }
    }
    Ok((m.instret(), start.elapsed()))
}

fn qemu_available() -> bool {
    Command::new("qemu-system-riscv64")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs an ELF on QEMU until it powers off; returns the host time.
fn run_qemu(elf_bytes: &[u8]) -> Result<Duration> {
    let dir = std::env::temp_dir().join(format!("xv6scope-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("prog.elf");
    std::fs::write(&path, elf_bytes)?;
    let start = Instant::now();
    let status = Command::new("qemu-system-riscv64")
        .args(qemu_args(&path, None, 1, QemuSerial::Null, false))
        .status()
        .context("cannot run qemu-system-riscv64")?;
    let elapsed = start.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    if !status.success() {
        bail!("qemu-system-riscv64 exited with {status}");
    }
    Ok(elapsed)
}

/// QEMU's MIPS from a short and a long run of the same loop.
fn qemu_mips(make: fn(u64) -> Program, iterations: u64) -> Result<f64> {
    let (short, long) = (make(iterations / 10), make(iterations));
    let t_short = run_qemu(&short.elf)?;
    let t_long = run_qemu(&long.elf)?;
    let dt = t_long.saturating_sub(t_short).as_secs_f64().max(1e-6);
    Ok((long.instructions - short.instructions) as f64 / dt / 1e6)
}

/// The `tui` workload: what is typed, and how many instructions are measured.
const TUI_INPUT: &[u8] = b"usertests -q\n";
const TUI_INSTRUCTIONS: u64 = 3_000_000_000;

/// Boots as `xv6scope run` does, types `input` at once, and runs until `instructions` have
/// retired (idle time skipped, as with `--input`); returns (instructions, host time).
fn run_headless(
    args: &crate::MachineArgs,
    input: &[u8],
    instructions: u64,
) -> Result<(u64, Duration)> {
    let (instret, t, _) = run_headless_session(args, input, instructions, false)?;
    Ok((instret, t))
}

/// [`run_headless`] with the session's timeline on or off; the session comes back.
fn run_headless_session(
    args: &crate::MachineArgs,
    input: &[u8],
    instructions: u64,
    time_travel: bool,
) -> Result<(u64, Duration, session::Session)> {
    let mut s = crate::cmd_run::boot(args)?.session;
    s.set_time_travel(time_travel);
    let start = Instant::now();
    s.type_input(input);
    while s.machine().instret() < instructions {
        match s.run(1_000_000) {
            Stop::PowerOff { .. } | Stop::Reset | Stop::Htif { .. } => {
                bail!(
                    "the guest stopped after {} instructions",
                    s.machine().instret()
                )
            }
            _ => {}
        }
        s.take_output();
    }
    Ok((s.machine().instret(), start.elapsed(), s))
}

/// `bench recording`: the bundled kernel's boot plus `usertests -q` to its end with the
/// timeline on, as `xv6scope run --record` makes it: the forward time, the snapshots held at
/// the end, the recording's size, and `replay --check` of it (a fresh session replays it and
/// compares the console and the final position).
fn recording_row() -> Result<()> {
    const LIMIT: u64 = 40_000_000_000;
    let args = crate::ui::TuiArgs::bundled();
    let mut s = crate::cmd_run::boot(&args.machine)?.session;
    s.set_time_travel(true);
    let start = Instant::now();
    s.type_input(TUI_INPUT);
    let mut console = Vec::new();
    let done = loop {
        if let Stop::PowerOff { .. } | Stop::Reset | Stop::Htif { .. } = s.run(1_000_000) {
            bail!("the guest stopped after {} instructions", s.position());
        }
        console.extend(s.take_output());
        let text = String::from_utf8_lossy(&console);
        if text.contains("ALL TESTS PASSED") || text.contains("SOME TESTS FAILED") {
            break text.contains("ALL TESTS PASSED");
        }
        if s.position() > LIMIT {
            bail!("usertests -q did not end within {LIMIT} positions");
        }
    };
    let forward = start.elapsed();
    let tl = s.timeline();
    let (bytes, count) = (tl.snapshot_bytes(), tl.snapshot_positions().len());
    let rec = s.recording(&console).map_err(anyhow::Error::msg)?;
    let encoded = rec.encode();
    let start = Instant::now();
    let decoded = session::Recording::decode(&encoded)?;
    let checked = session::Session::check_recording(&decoded);
    let replay = start.elapsed();
    println!(
        "usertests -q to its end ({}): {} positions in {:.1} s ({:.0} MIPS) with the timeline on",
        if done {
            "ALL TESTS PASSED"
        } else {
            "SOME TESTS FAILED"
        },
        rec.end,
        forward.as_secs_f64(),
        rec.end as f64 / forward.as_secs_f64() / 1e6
    );
    println!(
        "snapshots held at the end: {:.0} MiB in {count}; recording file {:.1} MiB",
        bytes as f64 / (1 << 20) as f64,
        encoded.len() as f64 / (1 << 20) as f64
    );
    match checked {
        Ok(()) => println!(
            "replay --check: same console ({} bytes) and final position, in {:.1} s ({:.2} of forward)",
            rec.console.len(),
            replay.as_secs_f64(),
            replay.as_secs_f64() / forward.as_secs_f64()
        ),
        Err(e) => bail!("replay --check failed: {e}"),
    }
    Ok(())
}

/// Host time until `$ ` appears on our machine's console.
fn boot_ours(kernel: &[u8], disk: Vec<u8>) -> Result<Duration> {
    let mut m = Machine::new(Config::default(), Image::Elf(kernel), Some(disk))?;
    let start = Instant::now();
    let mut seen = Vec::new();
    while start.elapsed() < Duration::from_secs(120) {
        if let Stop::PowerOff { .. } | Stop::Reset = m.run(1_000_000) {
            bail!("the kernel powered off during boot");
        }
        seen.extend(m.bus.uart.take_output());
        if seen.windows(2).any(|w| w == b"$ ") {
            return Ok(start.elapsed());
        }
    }
    bail!("no shell prompt after 120 s")
}

/// Host time until `$ ` appears on QEMU's console.
fn boot_qemu(kernel: &Path, disk: &Path) -> Result<Duration> {
    let start = Instant::now();
    let mut child = Command::new("qemu-system-riscv64")
        .args(qemu_args(
            kernel,
            Some(disk),
            machine::board::DEFAULT_HARTS,
            QemuSerial::Stdio,
            true,
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot run qemu-system-riscv64")?;
    let mut out = child.stdout.take().expect("piped");
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    let result = loop {
        match out.read(&mut buf) {
            Ok(0) | Err(_) => break Err(anyhow::anyhow!("QEMU exited before the prompt")),
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
        if seen.windows(2).any(|w| w == b"$ ") {
            break Ok(start.elapsed());
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn ratio(ours: f64, qemu: Option<f64>) -> String {
    qemu.map(|q| format!("{:.2}", ours / q))
        .unwrap_or_else(|| "-".into())
}

pub fn run(args: BenchArgs) -> Result<i32> {
    if let Some(dir) = &args.emit {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, p) in [
            ("int-loop.elf", int_loop(1_000_000)),
            ("mem-loop.elf", mem_loop(1_000_000)),
        ] {
            std::fs::write(dir.join(name), &p.elf)
                .with_context(|| format!("cannot write {}", dir.join(name).display()))?;
        }
        return Ok(0);
    }
    let want = |w: &str| args.only.is_empty() || args.only.iter().any(|o| o == w);
    for w in &args.only {
        if ![
            "int-loop",
            "mem-loop",
            "watch",
            "tui",
            "timeline",
            "boot",
            "recording",
        ]
        .contains(&w.as_str())
        {
            bail!(
                "unknown workload {w:?} (int-loop, mem-loop, watch, tui, timeline, boot, recording)"
            );
        }
    }
    let qemu = !args.no_qemu && qemu_available();
    if !qemu {
        println!(
            "(qemu-system-riscv64 not used: {})",
            if args.no_qemu {
                "--no-qemu"
            } else {
                "not installed"
            }
        );
    }
    let scale = if args.quick { 10 } else { 1 };
    println!(
        "{:<28} {:>12} {:>12} {:>8}",
        "workload", "xv6scope", "qemu", "ratio"
    );
    let loops: [(&str, LoopMaker, u64); 2] = [
        ("int-loop", int_loop, 150_000_000),
        ("mem-loop", mem_loop, 100_000_000),
    ];
    for (name, make, iterations) in loops {
        if !want(name) {
            continue;
        }
        let p = make(iterations / scale);
        let (instret, t) = run_ours(&p)?;
        let ours = instret as f64 / t.as_secs_f64() / 1e6;
        let theirs = if qemu {
            Some(qemu_mips(make, iterations / scale)?)
        } else {
            None
        };
        println!(
            "{:<28} {:>12} {:>12} {:>8}",
            format!("{name} (MIPS)"),
            format!("{ours:.0}"),
            theirs.map(|q| format!("{q:.0}")).unwrap_or("-".into()),
            ratio(ours, theirs)
        );
    }
    if want("watch") {
        // A gdb `watch` on a variable the loop does not touch: only accesses to the watched
        // page are checked, so the loop should keep mem-loop's speed (it once single-stepped).
        let p = mem_loop(100_000_000 / scale);
        let watch = Watchpoint {
            addr: BUFFER as u64 + 0x10_0000,
            len: 8,
            kind: WatchKind::Write,
        };
        let (instret, t) = run_watched(&p, Some(watch))?;
        println!(
            "{:<28} {:>12} {:>12} {:>8}",
            "mem-loop, watch set (MIPS)",
            format!("{:.0}", instret as f64 / t.as_secs_f64() / 1e6),
            "-",
            "-"
        );
    }
    if want("tui") {
        // One workload both ways: boot the bundled kernel, type `usertests -q`, stop after
        // TUI_INSTRUCTIONS. Headless is `xv6scope run --input`; the TUI run draws every frame
        // into an off-screen 160x48 terminal with the processes pane shown.
        let n = TUI_INSTRUCTIONS / scale;
        let args = crate::ui::TuiArgs::bundled();
        let (instret, t) = run_headless(&args.machine, TUI_INPUT, n)?;
        let headless = instret as f64 / t.as_secs_f64() / 1e6;
        let tui = crate::ui::measure(args, TUI_INPUT, n)?;
        let with_tui = tui.instructions as f64 / tui.wall.as_secs_f64() / 1e6;
        println!(
            "{:<28} {:>12} {:>12} {:>8}",
            "usertests headless (MIPS)",
            format!("{headless:.0}"),
            "-",
            "-"
        );
        println!(
            "{:<28} {:>12} {:>12} {:>8}",
            "usertests in the TUI (MIPS)",
            format!("{with_tui:.0}"),
            "-",
            format!("{:.2}", with_tui / headless)
        );
        println!(
            "(tui ratio: TUI over headless; {} frames drawn)",
            tui.frames
        );
    }
    if want("timeline") {
        // The same headless usertests run with the timeline off and on (snapshots every
        // `timeline::INTERVAL` positions); then, on the recorded run, the latency of one
        // reverse-stepi and of a goto back to the start of the last snapshot span.
        let n = TUI_INSTRUCTIONS / scale;
        let args = crate::ui::TuiArgs::bundled();
        let (i_off, t_off, _) = run_headless_session(&args.machine, TUI_INPUT, n, false)?;
        let (i_on, t_on, mut s) = run_headless_session(&args.machine, TUI_INPUT, n, true)?;
        let off = i_off as f64 / t_off.as_secs_f64() / 1e6;
        let on = i_on as f64 / t_on.as_secs_f64() / 1e6;
        let row = |name: &str, value: String, ratio: String| {
            println!("{name:<28} {value:>12} {:>12} {ratio:>8}", "-");
        };
        row("usertests, timeline off", format!("{off:.0}"), "-".into());
        row(
            "usertests, timeline on",
            format!("{on:.0}"),
            format!("{:.2}", on / off),
        );
        let tl = s.timeline();
        row(
            "snapshots held (MiB)",
            format!("{:.0}", tl.snapshot_bytes() as f64 / (1 << 20) as f64),
            format!("{}", tl.snapshot_positions().len()),
        );
        let hart = s.busy_hart();
        let started = Instant::now();
        let back = s.reverse_step(hart);
        row(
            "reverse-stepi (ms)",
            format!("{:.0}", started.elapsed().as_secs_f64() * 1e3),
            if back.is_ok() { "ok" } else { "failed" }.into(),
        );
        let span_start = s
            .timeline()
            .snapshot_positions()
            .iter()
            .rev()
            .nth(1)
            .copied()
            .unwrap_or(0);
        let span = s.position() - span_start;
        let started = Instant::now();
        let present = s.timeline().present();
        s.goto(span_start).map_err(anyhow::Error::msg)?;
        s.goto(present).map_err(anyhow::Error::msg)?;
        row(
            "goto back and forth (ms)",
            format!("{:.0}", started.elapsed().as_secs_f64() * 1e3),
            format!("{:.0}M", span as f64 / 1e6),
        );
        // reverse-continue to a breakpoint hit only at boot: every span back to the start is
        // replayed once (armed) and the last one again; against the forward time of the run.
        let present = s.timeline().present();
        s.goto(present).map_err(anyhow::Error::msg)?;
        // A function only boot calls (the compiler may inline one, so the first that has
        // a symbol).
        let boot_only = ["userinit", "kvminit", "procinit"]
            .iter()
            .find_map(|f| {
                s.add_user_breakpoint(&session::Spec::Func((*f).into()))
                    .ok()
            })
            .ok_or_else(|| anyhow::anyhow!("no boot-only function to break on"))?;
        let started = Instant::now();
        let back = s.reverse_continue();
        let t_back = started.elapsed();
        row(
            "reverse-continue to boot (s)",
            format!("{:.1}", t_back.as_secs_f64()),
            format!("{:.2}", t_back.as_secs_f64() / t_on.as_secs_f64()),
        );
        if !matches!(back, Ok(session::Reversed::At { .. })) {
            println!(
                "(reverse-continue did not stop at {}: {back:?})",
                boot_only.1
            );
        }
        println!(
            "(timeline ratio: on over off; snapshots: count in the ratio column; \
             reverse-continue: over the forward time of the whole run)"
        );
    }
    if args.only.iter().any(|o| o == "recording") {
        recording_row()?;
    }
    if want("boot") {
        let mut kernels: Vec<BootCase> = Vec::new();
        if let (Ok(k), Ok(fs)) = (crate::bundled::kernel(), crate::bundled::fs_img()) {
            kernels.push(("bundled".into(), k.to_vec(), fs.to_vec(), None));
        }
        if let Some(dir) = std::env::var_os("XV6SCOPE_MIT_XV6").map(PathBuf::from) {
            let (k, d) = (dir.join("kernel/kernel"), dir.join("fs.img"));
            let kb = std::fs::read(&k).with_context(|| format!("cannot read {}", k.display()))?;
            let db = std::fs::read(&d).with_context(|| format!("cannot read {}", d.display()))?;
            kernels.push(("MIT xv6".into(), kb, db, Some((k, d))));
        } else {
            println!("(MIT xv6 boot not measured: XV6SCOPE_MIT_XV6 is not set)");
        }
        for (name, kernel, disk, paths) in kernels {
            let ours = boot_ours(&kernel, disk.clone())?.as_secs_f64();
            let theirs = if qemu {
                let (k, d) = match paths {
                    Some(p) => p,
                    None => {
                        let dir = std::env::temp_dir()
                            .join(format!("xv6scope-boot-{}", std::process::id()));
                        std::fs::create_dir_all(&dir)?;
                        std::fs::write(dir.join("kernel"), &kernel)?;
                        std::fs::write(dir.join("fs.img"), &disk)?;
                        (dir.join("kernel"), dir.join("fs.img"))
                    }
                };
                Some(boot_qemu(&k, &d)?.as_secs_f64())
            } else {
                None
            };
            // For times, smaller is better: the ratio shown is QEMU's time over ours.
            let r = theirs
                .map(|q| format!("{:.2}", q / ours))
                .unwrap_or("-".into());
            println!(
                "{:<28} {:>12} {:>12} {:>8}",
                format!("boot to $ ({name}, s)"),
                format!("{ours:.3}"),
                theirs.map(|q| format!("{q:.3}")).unwrap_or("-".into()),
                r
            );
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generated programs must retire exactly the instructions `program` predicts; this
    /// checks the emulator's instruction counting and the generator together.
    #[test]
    fn loops_retire_the_predicted_instruction_counts() {
        for (p, name) in [(int_loop(1000), "int"), (mem_loop(1000), "mem")] {
            let (instret, _) = run_ours(&p).unwrap();
            assert_eq!(instret, p.instructions, "{name} loop");
        }
        let (a, b) = (int_loop(10), int_loop(20));
        assert_eq!(b.instructions - a.instructions, 80);
    }
}
