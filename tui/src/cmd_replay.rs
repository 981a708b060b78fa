//! `xv6scope replay FILE`: a recorded run (`run --record FILE`), opened in the TUI at its end
//! (or `--at N`), where every position of it can be reached again; `--check` replays it
//! headless and verifies the same console output and final position.

use anyhow::{Context, Result};
use clap::Args;
use session::{Recording, Session};
use std::path::PathBuf;

#[derive(Args, Clone, Debug)]
pub struct ReplayArgs {
    /// The recording (`xv6scope run --record FILE` writes one).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Replay headless to the end and check the console output and the final position.
    #[arg(long)]
    pub check: bool,
    /// Open the recording at this position instead of its end.
    #[arg(long, value_name = "N", conflicts_with = "check")]
    pub at: Option<u64>,
}

/// Reads and decodes a recording file; one line on failure.
pub fn load(path: &std::path::Path) -> Result<Recording> {
    let bytes =
        crate::limits::read_input_file(path, "recording", crate::limits::MAX_RECORDING_BYTES)?;
    Recording::decode(&bytes).with_context(|| format!("{}", path.display()))
}

pub fn run(args: ReplayArgs) -> Result<i32> {
    let rec = load(&args.file)?;
    if args.check {
        return Ok(match Session::check_recording(&rec) {
            Ok(()) => {
                println!(
                    "replay matches: {} positions, {} console bytes, {} events",
                    rec.end,
                    rec.console.len(),
                    rec.events.len()
                );
                0
            }
            Err(e) => {
                eprintln!(
                    "xv6scope: the replay of {} differs: {e}",
                    args.file.display()
                );
                1
            }
        });
    }
    let at = args.at.unwrap_or(rec.end);
    if at > rec.end {
        anyhow::bail!("--at {at} is past the recording's end ({})", rec.end);
    }
    let mut session = Session::from_recording(&rec).context("cannot boot the recording")?;
    session
        .goto(at)
        .map_err(|e| anyhow::anyhow!("cannot reach position {at}: {e}"))?;
    // The console text is the run's to its end: shown when opened there.
    let (console, note) = if at == rec.end {
        (rec.console.clone(), "its end")
    } else {
        (
            Vec::new(),
            "a position before its end; console output from here on",
        )
    };
    let why = format!(
        "recording {} at position {at}, {note} (`:goto N`, `:rsi`, `:rc`; `c` runs on)",
        args.file.display()
    );
    crate::ui::run_session(session, why, console)
}
