//! `xv6scope test-elf`: runs bare-metal test programs and reports PASS/FAIL for each.
//!
//! A program passes by writing 1 to its HTIF `tohost` symbol or 0x5555 to the test finisher,
//! and fails by writing `(code << 1) | 1` to `tohost` or `(code << 16) | 0x3333` to the
//! finisher. Anything else — power-off without a verdict, a halted machine (every hart waits
//! with no wake-up source), the cycle limit — is a failure with the reason printed. The cycle
//! limit counts guest time: instructions executed plus the cycles skipped while every hart
//! waits for a timer.

use anyhow::Result;
use clap::Args;
use machine::machine::{Config, Image, Machine, Stop, Tier};
use std::path::PathBuf;

#[derive(Args, Clone, Debug)]
pub struct TestElfArgs {
    /// Test ELF files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Number of harts.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub smp: usize,
    /// Give up on a test after this many cycles of guest time (waiting counts).
    #[arg(long, value_name = "CYCLES", default_value_t = 200_000_000)]
    pub max_cycles: u64,
    /// How guest code runs: `jit` (translated where hot) or `interp` (see `xv6scope run
    /// --tier`). A test must pass on both.
    #[arg(long, value_name = "TIER", default_value = "jit", value_parser = crate::parse_tier)]
    pub tier: Tier,
}

/// The verdict on one test program.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail(String),
}

pub fn run(args: TestElfArgs) -> Result<i32> {
    let mut failed = 0;
    for file in &args.files {
        let bytes = crate::limits::read_input_file(file, "test ELF", crate::limits::MAX_ELF_BYTES)?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match run_one(&bytes, args.smp, args.max_cycles, args.tier) {
            Ok(Verdict::Pass) => println!("PASS {name}"),
            Ok(Verdict::Fail(why)) => {
                failed += 1;
                println!("FAIL {name}: {why}");
            }
            Err(e) => {
                failed += 1;
                println!("FAIL {name}: {e:#}");
            }
        }
    }
    println!("{} passed, {} failed", args.files.len() - failed, failed);
    Ok(if failed == 0 { 0 } else { 1 })
}

/// Runs one test program to its verdict.
pub fn run_one(elf: &[u8], harts: usize, max_cycles: u64, tier: Tier) -> Result<Verdict> {
    let config = Config {
        harts,
        tier,
        ..Config::default()
    };
    let mut m = Machine::new(config, Image::Elf(elf), None)?;
    let mut spent = 0;
    while spent < max_cycles {
        let slice = (max_cycles - spent).min(10_000_000);
        let stop = m.run(slice);
        spent += slice;
        let console = m.bus.uart.take_output();
        let console = String::from_utf8_lossy(&console);
        let note = if console.trim().is_empty() {
            String::new()
        } else {
            format!(" (console: {})", console.trim())
        };
        return Ok(match stop {
            Stop::Budget => continue,
            Stop::Htif { value: 1 } | Stop::PowerOff { code: 0 } => Verdict::Pass,
            Stop::Htif { value } => {
                Verdict::Fail(format!("tohost reports failure code {}{note}", value >> 1))
            }
            Stop::PowerOff { code } => {
                Verdict::Fail(format!("finisher reports failure code {code}{note}"))
            }
            Stop::Reset => Verdict::Fail(format!("the program asked for a reset{note}")),
            // No input ever comes here: whatever `wake` says, nothing can end the wait.
            Stop::Idle => Verdict::Fail(format!("all harts wait with no wake-up source{note}")),
            Stop::Breakpoint { hart } | Stop::Watchpoint { hart, .. } => {
                Verdict::Fail(format!("unexpected breakpoint on hart {hart}"))
            }
        });
    }
    Ok(Verdict::Fail(format!(
        "no verdict after {max_cycles} cycles"
    )))
}
