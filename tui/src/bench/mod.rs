//! `xv6scope bench`: guest speed on both of our tiers, side by side with qemu-system-riscv64.
//!
//! Every workload runs once per tier asked for (`--tier`, default both: the interpreter and
//! the translating tier, `machine::cpu::jit`) on a machine that is the same otherwise, then on
//! QEMU when it is installed and the workload has a QEMU form. One row per figure, one column
//! per tier, then QEMU's, then the last tier's speed over QEMU's (above 1: ours is faster; for
//! MIPS it is ours / QEMU's, for seconds QEMU's / ours).
//!
//! Workloads (files: `loops` the generated programs, `xv6` the kernel runs, `qemu` QEMU):
//! - `int-loop`, `mem-loop`: an ALU loop and a load/store loop in S-mode with Sv39 on (MIPS).
//! - `watch`: mem-loop with a gdb write watchpoint on a page it never touches (MIPS).
//! - `tui`: the bundled kernel running `usertests -q` for 3 G instructions, headless and with
//!   the TUI drawing (MIPS, and their ratio).
//! - `timeline`: the same headless with the timeline off and on; reverse-stepi, goto and
//!   reverse-continue latencies on the recorded run.
//! - `boot`: host seconds from power-on to the shell's `$ ` for the bundled kernel and, when
//!   `XV6SCOPE_MIT_XV6` names a built MIT xv6-riscv tree, for MIT's.
//! - Only when named, as they take minutes: `recording` (boot plus `usertests -q` to its end
//!   with the timeline on, and `replay --check` of the recording), and `usertests-bundled-1`,
//!   `-bundled-3`, `-mit-1`, `-mit-3` (`usertests` names all four): boot, `usertests -q`
//!   typed at the prompt, host seconds to `ALL TESTS PASSED` on 1 or 3 harts.
//!
//! Nothing here is a timed test: figures are printed, never asserted.

mod loops;
mod qemu;
mod xv6;

use anyhow::{Context, Result, bail};
use clap::Args;
use loops::{LoopMaker, int_loop, mem_loop};
use machine::machine::Tier;
use std::path::PathBuf;
use xv6::Kernel;

#[derive(Args, Clone, Debug)]
pub struct BenchArgs {
    /// Shorter loop and usertests-for-N-instructions runs (about 10x fewer), for a quick look.
    #[arg(long)]
    pub quick: bool,
    /// Skip qemu-system-riscv64 even if it is installed.
    #[arg(long)]
    pub no_qemu: bool,
    /// Only this tier's column: `jit` or `interp` (default: both).
    #[arg(long, value_name = "TIER", value_parser = crate::parse_tier)]
    pub tier: Option<Tier>,
    /// Print the table in Markdown (as docs/performance.md holds it).
    #[arg(long)]
    pub markdown: bool,
    /// Write the generated loop programs (int-loop.elf, mem-loop.elf) into DIR and exit.
    #[arg(long, value_name = "DIR")]
    pub emit: Option<PathBuf>,
    /// Workloads to run; default: int-loop mem-loop watch tui timeline boot. Only when
    /// named (minutes each): recording; usertests-bundled-1, usertests-bundled-3,
    /// usertests-mit-1, usertests-mit-3 (boot, `usertests -q` at the prompt, seconds to ALL
    /// TESTS PASSED on 1 or 3 harts; MIT's need XV6SCOPE_MIT_XV6), or usertests for all four.
    #[arg(value_name = "WORKLOAD")]
    pub only: Vec<String>,
}

/// Which kernel a `usertests-*` workload boots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Bundled,
    Mit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    IntLoop,
    MemLoop,
    Watch,
    Tui,
    Timeline,
    Boot,
    Recording,
    Usertests(Which, usize),
}

/// Every workload in the order they run: name, workload, whether it is in the default set.
const WORKLOADS: &[(&str, Workload, bool)] = &[
    ("int-loop", Workload::IntLoop, true),
    ("mem-loop", Workload::MemLoop, true),
    ("watch", Workload::Watch, true),
    ("tui", Workload::Tui, true),
    ("timeline", Workload::Timeline, true),
    ("boot", Workload::Boot, true),
    ("recording", Workload::Recording, false),
    (
        "usertests-bundled-1",
        Workload::Usertests(Which::Bundled, 1),
        false,
    ),
    (
        "usertests-bundled-3",
        Workload::Usertests(Which::Bundled, 3),
        false,
    ),
    ("usertests-mit-1", Workload::Usertests(Which::Mit, 1), false),
    ("usertests-mit-3", Workload::Usertests(Which::Mit, 3), false),
];

/// The workloads the command line names (`usertests` for every `usertests-*`), in
/// [`WORKLOADS`]'s order, each once; the default set when it names none.
pub fn parse_workloads(names: &[String]) -> Result<Vec<Workload>> {
    for n in names {
        if n != "usertests" && !WORKLOADS.iter().any(|(name, ..)| name == n) {
            let all: Vec<&str> = WORKLOADS.iter().map(|(name, ..)| *name).collect();
            bail!(
                "unknown workload {n:?} ({}, or usertests for every usertests-*)",
                all.join(", ")
            );
        }
    }
    Ok(WORKLOADS
        .iter()
        .filter(|(name, w, default)| {
            if names.is_empty() {
                *default
            } else {
                names
                    .iter()
                    .any(|n| n == name || n == "usertests" && matches!(w, Workload::Usertests(..)))
            }
        })
        .map(|&(_, w, _)| w)
        .collect())
}

pub fn tier_name(t: Tier) -> &'static str {
    match t {
        Tier::Interp => "interp",
        Tier::Jit => "jit",
    }
}

/// What a row measures, which says how its figures print and which way its ratio reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Millions of instructions per host second: higher is faster.
    Mips,
    /// Host seconds: lower is faster.
    Seconds,
}

/// Our speed over QEMU's (above 1: ours is faster), whatever the unit.
pub fn speed_ratio(unit: Unit, ours: f64, qemu: f64) -> f64 {
    match unit {
        Unit::Mips => ours / qemu,
        Unit::Seconds => qemu / ours,
    }
}

/// The result table: a name column, one column per tier, QEMU's, and the ratio of the last
/// tier's speed to QEMU's. Plain text, or Markdown for docs/performance.md.
pub struct Table {
    pub tiers: Vec<Tier>,
    pub markdown: bool,
}

const NAME_WIDTH: usize = 36;
/// Wide enough for the ratio title with either tier (`interp/qemu`).
const CELL_WIDTH: usize = 11;

impl Table {
    /// The ratio column's title: `jit/qemu`, or `interp/qemu` with the interpreter alone.
    fn ratio_title(&self) -> String {
        let last = self.tiers.last().copied().unwrap_or(Tier::Jit);
        format!("{}/qemu", tier_name(last))
    }

    fn line(&self, name: &str, cells: &[String]) -> String {
        if self.markdown {
            format!("| {name} | {} |", cells.join(" | "))
        } else {
            let mut s = format!("{name:<NAME_WIDTH$}");
            for c in cells {
                s.push_str(&format!(" {c:>CELL_WIDTH$}"));
            }
            s
        }
    }

    /// The header (two lines in Markdown: titles and alignment).
    pub fn header(&self) -> String {
        let mut cells: Vec<String> = self.tiers.iter().map(|t| tier_name(*t).into()).collect();
        cells.push("qemu".into());
        cells.push(self.ratio_title());
        let titles = self.line("workload", &cells);
        if self.markdown {
            format!("{titles}\n|---|{}", "---:|".repeat(cells.len()))
        } else {
            titles
        }
    }

    /// A measured row: one figure per tier (in `tiers`' order), QEMU's if measured, and the
    /// speed ratio of the last tier to QEMU.
    pub fn measured(&self, name: &str, unit: Unit, ours: &[f64], qemu: Option<f64>) -> String {
        let fmt = |v: f64| match unit {
            Unit::Mips => format!("{v:.0}"),
            Unit::Seconds if v < 10.0 => format!("{v:.3}"),
            Unit::Seconds => format!("{v:.1}"),
        };
        let mut cells: Vec<String> = ours.iter().map(|&v| fmt(v)).collect();
        cells.push(qemu.map(fmt).unwrap_or_else(|| "-".into()));
        cells.push(match (ours.last(), qemu) {
            (Some(&o), Some(q)) => format!("{:.2}", speed_ratio(unit, o, q)),
            _ => "-".into(),
        });
        self.line(name, &cells)
    }

    /// A row of figures QEMU has no counterpart for, already formatted, one per tier.
    pub fn plain(&self, name: &str, ours: Vec<String>) -> String {
        let mut cells = ours;
        cells.extend(["-".to_string(), "-".to_string()]);
        self.line(name, &cells)
    }

    /// The line that says how to read the ratio column.
    pub fn legend(&self) -> String {
        let last = tier_name(self.tiers.last().copied().unwrap_or(Tier::Jit));
        format!(
            "({}: {last}'s speed over QEMU's, above 1 {last} is faster; MIPS {last} / qemu, \
             seconds qemu / {last})",
            self.ratio_title()
        )
    }
}

/// Console text as it arrives in pieces, and where the next search starts: after the last
/// match, so that waiting for `$ ` and then for a test verdict never matches the same text
/// twice. Text already searched for the same strings is not searched again.
#[derive(Default)]
pub struct Transcript {
    text: Vec<u8>,
    /// Start of the text after the last match.
    from: usize,
    /// The strings of the last search, and how far it got without a match starting there.
    texts: Vec<String>,
    scanned: usize,
}

impl Transcript {
    pub fn feed(&mut self, bytes: &[u8]) {
        self.text.extend_from_slice(bytes);
    }

    /// The index of the string in `texts` that appears first after the last match, if any;
    /// the search then continues after it.
    pub fn find(&mut self, texts: &[&str]) -> Option<usize> {
        if self
            .texts
            .iter()
            .map(String::as_str)
            .ne(texts.iter().copied())
        {
            self.texts = texts.iter().map(|t| t.to_string()).collect();
            self.scanned = self.from;
        }
        let start = self.scanned.max(self.from);
        let hay = &self.text[start..];
        let found = texts
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                let t = t.as_bytes();
                (!t.is_empty())
                    .then(|| hay.windows(t.len()).position(|w| w == t))
                    .flatten()
                    .map(|at| (at, i, t.len()))
            })
            .min();
        match found {
            Some((at, i, len)) => {
                self.from = start + at + len;
                self.scanned = self.from;
                Some(i)
            }
            None => {
                let longest = texts.iter().map(|t| t.len()).max().unwrap_or(1);
                self.scanned = self.text.len().saturating_sub(longest.saturating_sub(1));
                None
            }
        }
    }
}

/// The tiers to measure: those asked for that this host runs (the translating tier falls
/// back to the interpreter where Cranelift has no backend; its column would repeat the
/// interpreter's).
fn tiers(asked: Option<Tier>) -> Result<Vec<Tier>> {
    let jit = loops::effective_tier(Tier::Jit)? == Tier::Jit;
    Ok(match asked {
        Some(Tier::Jit) if !jit => bail!("the translating tier does not run on this host"),
        Some(t) => vec![t],
        None if jit => vec![Tier::Interp, Tier::Jit],
        None => {
            println!("(no jit column: the translating tier does not run on this host)");
            vec![Tier::Interp]
        }
    })
}

/// One figure per tier.
fn per_tier<T>(tiers: &[Tier], mut f: impl FnMut(Tier) -> Result<T>) -> Result<Vec<T>> {
    tiers.iter().map(|&t| f(t)).collect()
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
    let workloads = parse_workloads(&args.only)?;
    let tiers = tiers(args.tier)?;
    let qemu = !args.no_qemu && qemu::available();
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
    let table = Table {
        tiers: tiers.clone(),
        markdown: args.markdown,
    };
    println!("{}", table.header());
    let mut notes: Vec<String> = Vec::new();
    let mit = if workloads
        .iter()
        .any(|w| matches!(w, Workload::Boot | Workload::Usertests(Which::Mit, _)))
    {
        Kernel::mit()?
    } else {
        None
    };
    for w in workloads {
        match w {
            Workload::IntLoop | Workload::MemLoop => {
                let (name, make, iterations): (&str, LoopMaker, u64) = match w {
                    Workload::IntLoop => ("int-loop", int_loop, 150_000_000),
                    _ => ("mem-loop", mem_loop, 100_000_000),
                };
                let p = make(iterations / scale);
                let ours = per_tier(&tiers, |t| {
                    let (instret, time) = loops::run_ours(&p, t)?;
                    Ok(instret as f64 / time.as_secs_f64() / 1e6)
                })?;
                let theirs = if qemu {
                    let m = qemu::mips(make, iterations / scale)?;
                    if m.is_none() {
                        notes.push(format!(
                            "{name} on QEMU not timed: its long and short runs differ by under \
                             20 ms; without --quick they are 10x longer"
                        ));
                    }
                    m
                } else {
                    None
                };
                let row = format!("{name} (MIPS)");
                println!("{}", table.measured(&row, Unit::Mips, &ours, theirs));
            }
            Workload::Watch => {
                // Only accesses to the watched page are checked, so the loop should keep
                // mem-loop's speed (it once single-stepped).
                let p = mem_loop(100_000_000 / scale);
                let ours = per_tier(&tiers, |t| {
                    let (instret, time) =
                        loops::run_watched(&p, t, Some(loops::unrelated_watch()))?;
                    Ok(instret as f64 / time.as_secs_f64() / 1e6)
                })?;
                println!(
                    "{}",
                    table.measured("mem-loop, watch set (MIPS)", Unit::Mips, &ours, None)
                );
            }
            Workload::Tui => {
                let n = 3_000_000_000 / scale;
                let f = per_tier(&tiers, |t| xv6::tui(t, n))?;
                let col = |g: fn(&xv6::TuiFigures) -> String| f.iter().map(g).collect();
                println!(
                    "{}",
                    table.plain(
                        "usertests headless (MIPS)",
                        col(|f| format!("{:.0}", f.headless_mips))
                    )
                );
                println!(
                    "{}",
                    table.plain(
                        "usertests in the TUI (MIPS)",
                        col(|f| format!("{:.0}", f.tui_mips))
                    )
                );
                println!(
                    "{}",
                    table.plain(
                        "TUI / headless",
                        col(|f| format!("{:.2}", f.tui_mips / f.headless_mips))
                    )
                );
                println!(
                    "{}",
                    table.plain("TUI frames drawn", col(|f| f.frames.to_string()))
                );
            }
            Workload::Timeline => {
                let n = 3_000_000_000 / scale;
                let f = per_tier(&tiers, |t| xv6::timeline(t, n))?;
                let col = |g: &dyn Fn(&xv6::TimelineFigures) -> String| f.iter().map(g).collect();
                let rows: [(&str, Vec<String>); 9] = [
                    (
                        "usertests, timeline off (MIPS)",
                        col(&|f| format!("{:.0}", f.off_mips)),
                    ),
                    (
                        "usertests, timeline on (MIPS)",
                        col(&|f| format!("{:.0}", f.on_mips)),
                    ),
                    (
                        "timeline on / off",
                        col(&|f| format!("{:.2}", f.on_mips / f.off_mips)),
                    ),
                    (
                        "snapshots held (MiB)",
                        col(&|f| format!("{:.0}", f.snapshot_mib)),
                    ),
                    ("snapshots held (count)", col(&|f| f.snapshots.to_string())),
                    (
                        "reverse-stepi (ms)",
                        col(&|f| {
                            if f.reverse_step_ok {
                                format!("{:.0}", f.reverse_step_ms)
                            } else {
                                "failed".into()
                            }
                        }),
                    ),
                    (
                        "goto back and forth (ms)",
                        col(&|f| format!("{:.0}", f.goto_ms)),
                    ),
                    (
                        "reverse-continue to boot (s)",
                        col(&|f| format!("{:.1}", f.reverse_continue_s)),
                    ),
                    (
                        "reverse-continue / forward",
                        col(&|f| format!("{:.2}", f.reverse_continue_s / f.forward_s)),
                    ),
                ];
                for (name, cells) in rows {
                    println!("{}", table.plain(name, cells));
                }
                for (t, f) in tiers.iter().zip(&f) {
                    notes.push(format!(
                        "timeline, {}: goto spans the last {:.0} M positions",
                        tier_name(*t),
                        f.goto_span as f64 / 1e6
                    ));
                    if let Some(miss) = &f.reverse_continue_miss {
                        notes.push(format!("timeline, {}: {miss}", tier_name(*t)));
                    }
                }
            }
            Workload::Boot => {
                let bundled = Kernel::bundled()?;
                let mut kernels = vec![&bundled];
                match &mit {
                    Some(k) => kernels.push(k),
                    None => {
                        notes.push("MIT xv6 boot not measured: XV6SCOPE_MIT_XV6 is not set".into())
                    }
                }
                for k in kernels {
                    let ours = per_tier(&tiers, |t| Ok(xv6::boot(k, t)?.as_secs_f64()))?;
                    let theirs = if qemu {
                        Some(xv6::boot_qemu(k)?.as_secs_f64())
                    } else {
                        None
                    };
                    let row = format!("boot to $, {} (s)", k.name);
                    println!("{}", table.measured(&row, Unit::Seconds, &ours, theirs));
                }
            }
            Workload::Recording => {
                let f = per_tier(&tiers, xv6::recording)?;
                let col = |g: &dyn Fn(&xv6::RecordingFigures) -> String| f.iter().map(g).collect();
                let rows: [(&str, Vec<String>); 6] = [
                    (
                        "recorded usertests -q (s)",
                        col(&|f| format!("{:.1}", f.forward_s)),
                    ),
                    (
                        "recorded usertests -q (MIPS)",
                        col(&|f| format!("{:.0}", f.positions as f64 / f.forward_s / 1e6)),
                    ),
                    (
                        "snapshots held at its end (MiB)",
                        col(&|f| format!("{:.0} in {}", f.snapshot_mib, f.snapshots)),
                    ),
                    (
                        "recording file (MiB)",
                        col(&|f| format!("{:.1}", f.file_mib)),
                    ),
                    ("replay --check (s)", col(&|f| format!("{:.1}", f.replay_s))),
                    (
                        "replay --check / forward",
                        col(&|f| format!("{:.2}", f.replay_s / f.forward_s)),
                    ),
                ];
                for (name, cells) in rows {
                    println!("{}", table.plain(name, cells));
                }
                for (t, f) in tiers.iter().zip(&f) {
                    notes.push(format!(
                        "recording, {}: {} positions, {}",
                        tier_name(*t),
                        f.positions,
                        if f.passed {
                            "ALL TESTS PASSED"
                        } else {
                            "SOME TESTS FAILED"
                        }
                    ));
                }
            }
            Workload::Usertests(which, harts) => {
                let bundled;
                let kernel = match which {
                    Which::Bundled => {
                        bundled = Kernel::bundled()?;
                        &bundled
                    }
                    Which::Mit => match &mit {
                        Some(k) => k,
                        None => {
                            notes.push(format!(
                                "usertests on MIT xv6, {harts} hart{}, not measured: \
                                 XV6SCOPE_MIT_XV6 is not set",
                                if harts == 1 { "" } else { "s" }
                            ));
                            continue;
                        }
                    },
                };
                // Minutes per column: each figure goes to stderr as it comes, before the row.
                let what = format!(
                    "usertests -q on {}, {harts} hart{}",
                    kernel.name,
                    if harts == 1 { "" } else { "s" }
                );
                let ours = per_tier(&tiers, |t| {
                    let s = xv6::usertests(kernel, harts, t)?.as_secs_f64();
                    eprintln!("({what}, {}: {s:.1} s)", tier_name(t));
                    Ok(s)
                })?;
                let theirs = if qemu {
                    let s = xv6::usertests_qemu(kernel, harts)?.as_secs_f64();
                    eprintln!("({what}, qemu: {s:.1} s)");
                    Some(s)
                } else {
                    None
                };
                let row = format!(
                    "usertests -q, {}, {harts} hart{} (s)",
                    kernel.name,
                    if harts == 1 { "" } else { "s" }
                );
                println!("{}", table.measured(&row, Unit::Seconds, &ours, theirs));
            }
        }
    }
    println!("{}", table.legend());
    for n in notes {
        println!("({n})");
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_default_set_leaves_out_the_long_workloads() {
        let all = parse_workloads(&[]).unwrap();
        assert_eq!(
            all,
            [
                Workload::IntLoop,
                Workload::MemLoop,
                Workload::Watch,
                Workload::Tui,
                Workload::Timeline,
                Workload::Boot
            ]
        );
    }

    #[test]
    fn named_workloads_run_once_in_table_order() {
        let w = parse_workloads(&names(&["usertests-mit-3", "boot", "int-loop", "boot"])).unwrap();
        assert_eq!(
            w,
            [
                Workload::IntLoop,
                Workload::Boot,
                Workload::Usertests(Which::Mit, 3)
            ]
        );
        let w = parse_workloads(&names(&["usertests", "usertests-bundled-1"])).unwrap();
        assert_eq!(
            w,
            [
                Workload::Usertests(Which::Bundled, 1),
                Workload::Usertests(Which::Bundled, 3),
                Workload::Usertests(Which::Mit, 1),
                Workload::Usertests(Which::Mit, 3)
            ]
        );
        assert_eq!(
            parse_workloads(&names(&["recording"])).unwrap(),
            [Workload::Recording]
        );
    }

    #[test]
    fn an_unknown_workload_is_one_line_naming_the_known_ones() {
        let e = parse_workloads(&names(&["int-loop", "usertests-mit-2"]))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("unknown workload \"usertests-mit-2\""), "{e}");
        assert!(
            e.contains("usertests-mit-1") && e.contains("recording"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn the_ratio_reads_as_speed_whatever_the_unit() {
        // Twice QEMU's MIPS, and half QEMU's seconds, are both twice as fast.
        assert_eq!(speed_ratio(Unit::Mips, 200.0, 100.0), 2.0);
        assert_eq!(speed_ratio(Unit::Seconds, 0.5, 1.0), 2.0);
        assert_eq!(speed_ratio(Unit::Seconds, 3.0, 1.5), 0.5);
    }

    #[test]
    fn both_tiers_make_aligned_columns_and_the_ratio_is_the_jits() {
        let t = Table {
            tiers: vec![Tier::Interp, Tier::Jit],
            markdown: false,
        };
        let header = t.header();
        let row = t.measured(
            "int-loop (MIPS)",
            Unit::Mips,
            &[400.0, 2000.0],
            Some(8000.0),
        );
        assert_eq!(
            header.split_whitespace().collect::<Vec<_>>(),
            ["workload", "interp", "jit", "qemu", "jit/qemu"]
        );
        assert_eq!(
            row.split_whitespace().collect::<Vec<_>>(),
            ["int-loop", "(MIPS)", "400", "2000", "8000", "0.25"]
        );
        assert_eq!(header.len(), row.len());
        // Columns end where their titles end.
        for title in ["interp", "jit", "qemu", "jit/qemu"] {
            let end = header.find(&format!(" {title}")).unwrap() + 1 + title.len();
            assert!(
                row.as_bytes()[end - 1] != b' ',
                "{title} column\n{header}\n{row}"
            );
        }
        // Seconds: the jit at half QEMU's time is twice as fast.
        let boot = t.measured(
            "boot to $, bundled (s)",
            Unit::Seconds,
            &[1.5, 0.5],
            Some(1.0),
        );
        assert_eq!(
            boot.split_whitespace().skip(4).collect::<Vec<_>>(),
            ["(s)", "1.500", "0.500", "1.000", "2.00"]
        );
        let no_qemu = t.measured("mem-loop, watch set (MIPS)", Unit::Mips, &[1.0, 2.0], None);
        assert_eq!(
            no_qemu.split_whitespace().rev().take(4).collect::<Vec<_>>(),
            ["-", "-", "2", "1"]
        );
    }

    #[test]
    fn one_tier_has_one_column_and_names_its_ratio() {
        let t = Table {
            tiers: vec![Tier::Interp],
            markdown: true,
        };
        assert_eq!(
            t.header(),
            "| workload | interp | qemu | interp/qemu |\n|---|---:|---:|---:|"
        );
        assert_eq!(
            t.measured(
                "usertests -q, MIT xv6, 3 harts (s)",
                Unit::Seconds,
                &[250.0],
                Some(125.0)
            ),
            "| usertests -q, MIT xv6, 3 harts (s) | 250.0 | 125.0 | 0.50 |"
        );
        assert_eq!(
            t.plain("TUI / headless", vec!["0.95".into()]),
            "| TUI / headless | 0.95 | - | - |"
        );
        assert!(
            t.legend().contains("seconds qemu / interp"),
            "{}",
            t.legend()
        );
        let plain = Table {
            tiers: vec![Tier::Interp],
            markdown: false,
        };
        let row = plain.measured("int-loop (MIPS)", Unit::Mips, &[400.0], Some(8000.0));
        assert_eq!(plain.header().len(), row.len(), "{}\n{row}", plain.header());
    }

    #[test]
    fn a_transcript_matches_after_the_last_match_across_pieces() {
        let mut t = Transcript::default();
        t.feed(b"init: starting sh\n$");
        assert_eq!(t.find(&["$ "]), None);
        t.feed(b" usertests -q\nALL TESTS");
        assert_eq!(t.find(&["$ "]), Some(0));
        // The prompt is not found again; the verdict arrives in two pieces.
        assert_eq!(t.find(&["$ "]), None);
        assert_eq!(t.find(&["ALL TESTS PASSED", "SOME TESTS FAILED"]), None);
        t.feed(b" PASSED\n$ ");
        assert_eq!(t.find(&["ALL TESTS PASSED", "SOME TESTS FAILED"]), Some(0));
        assert_eq!(t.find(&["$ "]), Some(0));
        // The first of several strings in the text wins, whichever is listed first.
        t.feed(b"SOME TESTS FAILED ... ALL TESTS PASSED");
        assert_eq!(t.find(&["ALL TESTS PASSED", "SOME TESTS FAILED"]), Some(1));
    }

    #[test]
    fn a_new_search_covers_text_an_earlier_search_for_other_strings_passed() {
        let mut t = Transcript::default();
        t.feed(b"xyz ALL TESTS PASSED and more text");
        assert_eq!(t.find(&["$ "]), None);
        assert_eq!(t.find(&["ALL TESTS PASSED"]), Some(0));
    }
}
