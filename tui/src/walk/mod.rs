//! `xv6scope walk`: breakpoint-driven lab walkthroughs.
//!
//! A walkthrough is a TOML file of steps (`format`): type a console command, run to a kernel
//! function, a system call's `ecall` or a text on the console, show a narrative, check the
//! state (registers, mode, processes, file descriptors, page-table entries, syscall results).
//! `walk --check FILE` plays it headless (`player`) on the bundled kernel, or on `--kernel`
//! and `--disk` as `run` takes them, prints each step's narrative and check results, and on
//! the first check that does not hold prints one line naming the step and exits 1.
//!
//! `walk FILE` without `--check`, on a terminal, opens the TUI with the walkthrough's
//! narrative beside the panes (`ui::walk`: `]` next step, `[` previous step); without a
//! terminal it plays headless as `--check` does.

pub mod format;
#[cfg(test)]
pub mod fuzz;
pub mod player;

use crate::MachineArgs;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Clone, Debug)]
pub struct WalkArgs {
    /// The walkthrough file (docs/walkthroughs/*.toml).
    pub file: PathBuf,
    /// Play headless and fail (exit 1) on the first check that does not hold.
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub machine: MachineArgs,
}

pub fn run(args: WalkArgs) -> Result<i32> {
    let text =
        crate::limits::read_input_text(&args.file, "walkthrough", crate::limits::MAX_TEXT_BYTES)?;
    let walk =
        format::Walk::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let mut margs = args.machine.clone();
    // The file's `lab` options, unless the command line gives its own.
    margs.lab = margs.lab.or_else(|| walk.lab.clone());
    use std::io::IsTerminal;
    if !args.check && std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        return crate::ui::walk(margs, walk);
    }
    // Disk writes stay in memory: a walkthrough must not change the image it is checked on.
    margs.snapshot = true;
    let mut session = crate::cmd_run::boot(&margs)?.session;
    player::prepare(&mut session);
    let mut progress = player::Progress::default();
    println!("# {}", walk.title);
    for (i, step) in walk.steps.iter().enumerate() {
        let n = i + 1;
        println!("\n## step {n}: {}", step.name);
        let outcomes = match player::Player::new(&mut session, &mut progress).play_step(step) {
            Ok(o) => o,
            Err(e) => {
                let console = String::from_utf8_lossy(&progress.console);
                println!("  console so far ends with: {:?}", tail(&console, 200));
                use std::io::Write;
                let _ = std::io::stdout().flush();
                eprintln!("walk: step {n} ({}): {e}", step.name);
                return Ok(1);
            }
        };
        for line in step.text.trim_end().lines() {
            println!("  {line}");
        }
        if let Some(pane) = &step.pane {
            println!("  [pane: {pane}]");
        }
        for o in &outcomes {
            println!(
                "  {} {} = {}",
                if o.ok { "ok  " } else { "FAIL" },
                o.key,
                o.found
            );
        }
        if let Some((o, c)) = outcomes.iter().zip(&step.checks).find(|(o, _)| !o.ok) {
            use std::io::Write;
            let _ = std::io::stdout().flush();
            eprintln!(
                "walk: step {n} ({}): check {} expected {}, found {}",
                step.name, o.key, c.want, o.found
            );
            return Ok(1);
        }
    }
    println!("\nall {} steps passed", walk.steps.len());
    Ok(0)
}

/// The last `n` characters of `s`.
fn tail(s: &str, n: usize) -> &str {
    let start = s.char_indices().rev().nth(n).map_or(0, |(i, _)| i);
    &s[start..]
}
