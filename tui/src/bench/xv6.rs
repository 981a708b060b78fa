//! The workloads that boot a kernel on our machine: `boot`, `usertests-*`, `tui`, `timeline`
//! and `recording`, each on the tier it is given (the machine is the same otherwise).
//!
//! `boot` builds a bare [`Machine`] as the loops do; the others boot as `xv6scope run` does
//! ([`crate::cmd_run::boot`]: a session with the kernel's symbols, timeline off unless
//! asked), type at the console as `run --input` does, and skip idle time. Every run has a
//! limit (host time or instructions) and fails with one line when the guest stops, halts or
//! overruns it.

use super::Transcript;
use super::qemu::TempFiles;
use crate::MachineArgs;
use anyhow::{Context, Result, bail};
use machine::machine::{Config, Image, Machine, Stop, Tier};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What `tui`, `timeline` and `recording` type, and what the `usertests-*` workloads type
/// after the prompt.
pub const USERTESTS: &[u8] = b"usertests -q\n";
/// How `usertests -q` ends (xv6's usertests.c and the bundled usertests print the same).
const PASSED: &str = "ALL TESTS PASSED";
const FAILED: &str = "SOME TESTS FAILED";
/// Host time a `usertests-*` run may take on either machine (MIT's on three harts,
/// interpreted, takes about 250 s on the project's machine).
pub const USERTESTS_LIMIT: Duration = Duration::from_secs(1800);

/// A kernel to boot: the bundled one, or MIT's from `XV6SCOPE_MIT_XV6`.
pub struct Kernel {
    /// `bundled` or `MIT xv6`.
    pub name: &'static str,
    pub elf: Vec<u8>,
    pub disk: Vec<u8>,
    /// The kernel and disk image files, when they are files (MIT's).
    pub files: Option<(PathBuf, PathBuf)>,
}

impl Kernel {
    pub fn bundled() -> Result<Kernel> {
        Ok(Kernel {
            name: "bundled",
            elf: crate::bundled::kernel()?.to_vec(),
            disk: crate::bundled::fs_img()?.to_vec(),
            files: None,
        })
    }

    /// MIT's kernel/kernel and fs.img under `XV6SCOPE_MIT_XV6`; None when it is not set.
    pub fn mit() -> Result<Option<Kernel>> {
        let Some(dir) = std::env::var_os("XV6SCOPE_MIT_XV6").map(PathBuf::from) else {
            return Ok(None);
        };
        let (k, d) = (dir.join("kernel/kernel"), dir.join("fs.img"));
        let elf = std::fs::read(&k).with_context(|| format!("cannot read {}", k.display()))?;
        let disk = std::fs::read(&d).with_context(|| format!("cannot read {}", d.display()))?;
        Ok(Some(Kernel {
            name: "MIT xv6",
            elf,
            disk,
            files: Some((k, d)),
        }))
    }

    /// Files QEMU can open: the kernel's own, or copies in a temporary directory (kept alive
    /// by the returned guard).
    pub fn files_for_qemu(&self) -> Result<(PathBuf, PathBuf, Option<TempFiles>)> {
        if let Some((k, d)) = &self.files {
            return Ok((k.clone(), d.clone(), None));
        }
        let tmp = TempFiles::new("kernel")?;
        let k = tmp.write("kernel", &self.elf)?;
        let d = tmp.write("fs.img", &self.disk)?;
        Ok((k, d, Some(tmp)))
    }

    /// `xv6scope run`'s machine options for this kernel: its files, the disk kept in memory
    /// (`--snapshot`), `harts` harts, on `tier`.
    fn machine_args(&self, harts: usize, tier: Tier) -> MachineArgs {
        let mut args = crate::cmd_run::RunArgs::interactive_default().machine;
        if let Some((k, d)) = &self.files {
            args.kernel = Some(k.clone());
            args.disk = Some(d.clone());
        }
        args.snapshot = true;
        args.smp = harts;
        args.tier = tier;
        args
    }
}

/// Host time until `$ ` appears on our machine's console (default board: three harts).
pub fn boot(kernel: &Kernel, tier: Tier) -> Result<Duration> {
    let config = Config {
        tier,
        ..Config::default()
    };
    let mut m = Machine::new(config, Image::Elf(&kernel.elf), Some(kernel.disk.clone()))?;
    let start = Instant::now();
    let mut seen = Transcript::default();
    while start.elapsed() < Duration::from_secs(120) {
        if let Stop::PowerOff { .. } | Stop::Reset = m.run(1_000_000) {
            bail!("the kernel powered off during boot");
        }
        seen.feed(&m.bus.uart.take_output());
        if seen.find(&["$ "]).is_some() {
            return Ok(start.elapsed());
        }
    }
    bail!("no shell prompt after 120 s")
}

/// Runs a session until one of `texts` appears on the console after the last match (the
/// index of the one that did), or until `limit` host time since `start`.
fn run_until(
    s: &mut session::Session,
    seen: &mut Transcript,
    texts: &[&str],
    start: Instant,
    limit: Duration,
) -> Result<usize> {
    loop {
        if let Some(i) = seen.find(texts) {
            return Ok(i);
        }
        match s.run(2_000_000) {
            Stop::PowerOff { .. } | Stop::Reset | Stop::Htif { .. } => {
                bail!(
                    "the guest stopped after {} instructions",
                    s.machine().instret()
                )
            }
            // Without idle stops, an idle stop means no timer can wake a hart: only input
            // could, and the run has typed all it will.
            Stop::Idle => bail!("the guest waits for nothing but input before {texts:?}"),
            _ => {}
        }
        seen.feed(&s.take_output());
        if start.elapsed() > limit {
            bail!("none of {texts:?} within {} s", limit.as_secs());
        }
    }
}

/// Boot, `usertests -q` typed at the first prompt, run to its verdict on `harts` harts:
/// the host time from power-on to `ALL TESTS PASSED` (an error if some test failed).
pub fn usertests(kernel: &Kernel, harts: usize, tier: Tier) -> Result<Duration> {
    let mut s = crate::cmd_run::boot(&kernel.machine_args(harts, tier))?.session;
    let start = Instant::now();
    let mut seen = Transcript::default();
    run_until(&mut s, &mut seen, &["$ "], start, USERTESTS_LIMIT)?;
    s.type_input(USERTESTS);
    let verdict = run_until(&mut s, &mut seen, &[PASSED, FAILED], start, USERTESTS_LIMIT)?;
    let t = start.elapsed();
    if verdict != 0 {
        bail!("usertests -q on {} ({harts} harts): {FAILED}", kernel.name);
    }
    Ok(t)
}

/// The same on QEMU: host time from the spawn of QEMU to `ALL TESTS PASSED`.
pub fn usertests_qemu(kernel: &Kernel, harts: usize) -> Result<Duration> {
    let (k, d, _tmp) = kernel.files_for_qemu()?;
    let mut q = super::qemu::Console::start(&k, &d, harts)?;
    q.wait_for(&["$ "], USERTESTS_LIMIT)?;
    q.type_text(USERTESTS)?;
    let (verdict, t) = q.wait_for(&[PASSED, FAILED], USERTESTS_LIMIT)?;
    if verdict != 0 {
        bail!(
            "usertests -q on {} ({harts} harts) under QEMU: {FAILED}",
            kernel.name
        );
    }
    Ok(t)
}

/// Host time until `$ ` appears on QEMU's console (three harts, as ours).
pub fn boot_qemu(kernel: &Kernel) -> Result<Duration> {
    let (k, d, _tmp) = kernel.files_for_qemu()?;
    let mut q = super::qemu::Console::start(&k, &d, machine::board::DEFAULT_HARTS)?;
    Ok(q.wait_for(&["$ "], Duration::from_secs(120))?.1)
}

/// Boots as `xv6scope run` does, types `input` at once, and runs until `instructions` have
/// retired (idle time skipped, as with `--input`); returns (instructions, host time, the
/// session).
pub fn run_headless(
    args: &MachineArgs,
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

/// The bundled kernel's machine options on `tier`.
fn bundled_args(tier: Tier) -> MachineArgs {
    let mut args = crate::ui::TuiArgs::bundled().machine;
    args.tier = tier;
    args
}

/// `tui`: the bundled kernel running `usertests -q` for `n` instructions headless (as `run
/// --input`) and with the TUI drawing every frame into an off-screen 160x48 terminal with the
/// processes pane shown.
pub struct TuiFigures {
    pub headless_mips: f64,
    pub tui_mips: f64,
    pub frames: u64,
}

pub fn tui(tier: Tier, n: u64) -> Result<TuiFigures> {
    let (instret, t, _) = run_headless(&bundled_args(tier), USERTESTS, n, false)?;
    let mut args = crate::ui::TuiArgs::bundled();
    args.machine.tier = tier;
    let m = crate::ui::measure(args, USERTESTS, n)?;
    Ok(TuiFigures {
        headless_mips: instret as f64 / t.as_secs_f64() / 1e6,
        tui_mips: m.instructions as f64 / m.wall.as_secs_f64() / 1e6,
        frames: m.frames,
    })
}

/// `timeline`: the `tui` workload headless with the timeline off and on; then, on the
/// recorded run, one reverse-stepi, a goto back to the start of the last snapshot span and
/// forward again, and a reverse-continue to a breakpoint hit only at boot (every span back
/// to the start replayed once, armed, and the last one again).
pub struct TimelineFigures {
    pub off_mips: f64,
    pub on_mips: f64,
    pub snapshot_mib: f64,
    pub snapshots: usize,
    pub reverse_step_ms: f64,
    pub reverse_step_ok: bool,
    pub goto_ms: f64,
    /// Positions between the last span's start and the present.
    pub goto_span: u64,
    pub reverse_continue_s: f64,
    /// Host time of the timeline-on run, forward.
    pub forward_s: f64,
    /// Where reverse-continue stopped when not at the boot-only breakpoint.
    pub reverse_continue_miss: Option<String>,
}

pub fn timeline(tier: Tier, n: u64) -> Result<TimelineFigures> {
    let args = bundled_args(tier);
    let (i_off, t_off, _) = run_headless(&args, USERTESTS, n, false)?;
    let (i_on, t_on, mut s) = run_headless(&args, USERTESTS, n, true)?;
    let tl = s.timeline();
    let (snapshot_mib, snapshots) = (
        tl.snapshot_bytes() as f64 / (1 << 20) as f64,
        tl.snapshot_positions().len(),
    );
    let hart = s.busy_hart();
    let started = Instant::now();
    let reverse_step_ok = s.reverse_step(hart).is_ok();
    let reverse_step_ms = started.elapsed().as_secs_f64() * 1e3;
    let span_start = s
        .timeline()
        .snapshot_positions()
        .iter()
        .rev()
        .nth(1)
        .copied()
        .unwrap_or(0);
    let goto_span = s.position() - span_start;
    let started = Instant::now();
    let present = s.timeline().present();
    s.goto(span_start).map_err(anyhow::Error::msg)?;
    s.goto(present).map_err(anyhow::Error::msg)?;
    let goto_ms = started.elapsed().as_secs_f64() * 1e3;
    // A function only boot calls (the compiler may inline one, so the first that has a
    // symbol).
    let boot_only = ["userinit", "kvminit", "procinit"]
        .iter()
        .find_map(|f| {
            s.add_user_breakpoint(&session::Spec::Func((*f).into()))
                .ok()
        })
        .ok_or_else(|| anyhow::anyhow!("no boot-only function to break on"))?;
    let started = Instant::now();
    let back = s.reverse_continue();
    let reverse_continue_s = started.elapsed().as_secs_f64();
    Ok(TimelineFigures {
        off_mips: i_off as f64 / t_off.as_secs_f64() / 1e6,
        on_mips: i_on as f64 / t_on.as_secs_f64() / 1e6,
        snapshot_mib,
        snapshots,
        reverse_step_ms,
        reverse_step_ok,
        goto_ms,
        goto_span,
        reverse_continue_s,
        forward_s: t_on.as_secs_f64(),
        reverse_continue_miss: (!matches!(back, Ok(session::Reversed::At { .. })))
            .then(|| format!("reverse-continue did not stop at {}: {back:?}", boot_only.1)),
    })
}

/// `recording`: the bundled kernel's boot plus `usertests -q` to its end with the timeline on,
/// as `xv6scope run --record` makes it: the forward time, the snapshots held at the end, the
/// recording's size, and `replay --check` of it (a fresh session replays it and compares the
/// console and the final position; a mismatch is an error).
pub struct RecordingFigures {
    pub passed: bool,
    pub positions: u64,
    pub forward_s: f64,
    pub snapshot_mib: f64,
    pub snapshots: usize,
    pub file_mib: f64,
    pub replay_s: f64,
}

pub fn recording(tier: Tier) -> Result<RecordingFigures> {
    const LIMIT: u64 = 40_000_000_000;
    let mut s = crate::cmd_run::boot(&bundled_args(tier))?.session;
    s.set_time_travel(true);
    let start = Instant::now();
    s.type_input(USERTESTS);
    let mut console = Vec::new();
    let mut seen = Transcript::default();
    let passed = loop {
        if let Stop::PowerOff { .. } | Stop::Reset | Stop::Htif { .. } = s.run(1_000_000) {
            bail!("the guest stopped after {} instructions", s.position());
        }
        let out = s.take_output();
        seen.feed(&out);
        console.extend(out);
        if let Some(i) = seen.find(&[PASSED, FAILED]) {
            break i == 0;
        }
        if s.position() > LIMIT {
            bail!("usertests -q did not end within {LIMIT} positions");
        }
    };
    let forward = start.elapsed();
    let tl = s.timeline();
    let (bytes, snapshots) = (tl.snapshot_bytes(), tl.snapshot_positions().len());
    let rec = s.recording(&console).map_err(anyhow::Error::msg)?;
    let encoded = rec.encode();
    let start = Instant::now();
    let decoded = session::Recording::decode(&encoded)?;
    session::Session::check_recording(&decoded)
        .map_err(|e| anyhow::anyhow!("replay --check failed: {e}"))?;
    Ok(RecordingFigures {
        passed,
        positions: rec.end,
        forward_s: forward.as_secs_f64(),
        snapshot_mib: bytes as f64 / (1 << 20) as f64,
        snapshots,
        file_mib: encoded.len() as f64 / (1 << 20) as f64,
        replay_s: start.elapsed().as_secs_f64(),
    })
}
