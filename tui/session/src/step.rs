//! Stepping: one instruction, one source line, over a call, out of a function, and running
//! to an address — the session's operations that every front end uses.
//!
//! A step over a call (`next`, `finish`) sets a temporary breakpoint (owner
//! [`Owner::Temp`]) on the return address and runs the machine at full speed until the
//! same hart returns there with the same stack pointer; a deeper frame or another hart
//! reaching the address runs on. A breakpoint of another owner that holds on the way ends
//! the step there, as in gdb. Every loop has a limit: instructions for the stepping itself,
//! host time for the calls run at full speed.

use crate::breakpoints::{Breakpoint, Owner};
use crate::session::{Resolved, Session};
use machine::Stop;
use std::time::{Duration, Instant};

/// Cycles per run slice while stepping over a call or running to an address.
const SLICE: u64 = 1_000_000;
/// Most instructions a line step executes one at a time before it gives up.
pub const STEP_LIMIT: usize = 200_000;

/// What kind of step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// One instruction.
    Instruction,
    /// To the next source line (into calls).
    Line,
    /// To the next source line, calls run at full speed.
    Over,
    /// Until the current function returns (calls run at full speed).
    Finish,
}

/// How a step ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stepped {
    /// The hart it ended on (another hart's breakpoint may end a step over a call).
    pub hart: usize,
    /// What happened, in words: "stepped one line", "breakpoint 1 at ... hit while
    /// stepping over a call", "the guest stopped while stepping"...
    pub why: String,
    /// A stop the front end must handle (the guest powered off), if any.
    pub stop: Option<Stop>,
}

impl Session {
    /// Steps hart `h`. A step over a call gives up after `over_limit` of host time.
    pub fn step(&mut self, h: usize, kind: StepKind, over_limit: Duration) -> Stepped {
        let start = self.line_of(h);
        let mode0 = self.machine.harts[h].mode;
        let mut why = match kind {
            StepKind::Instruction => "stepped one instruction",
            StepKind::Line => "stepped one line",
            StepKind::Over => "stepped over one line",
            StepKind::Finish => "returned",
        }
        .to_string();
        let mut hart = h;
        // The function being finished: its extent, and the shift from the hart's pc to the
        // address the symbols know (trampoline code runs away from its link address).
        let func = {
            let (pc, user, name) = self.pc_context(h);
            self.views
                .syms
                .for_pc(pc, user, name.as_deref())
                .and_then(|s| s.symbol_at(pc))
                .map(|(sym, _)| {
                    (
                        sym.addr,
                        sym.addr + sym.size.max(2),
                        pc.wrapping_sub(self.machine.harts[h].pc),
                    )
                })
        };
        if kind == StepKind::Finish && func.is_none() {
            return Stepped {
                hart: h,
                why: "finish: no symbol around the pc".into(),
                stop: None,
            };
        }
        let mut n = 0;
        let mut stop = None;
        loop {
            let pc0 = self.machine.harts[h].pc;
            let s = self.step_instruction(h);
            n += 1;
            if let Stop::PowerOff { .. } | Stop::Reset | Stop::Htif { .. } = s {
                why = "the guest stopped while stepping".into();
                stop = Some(s);
                break;
            }
            if kind == StepKind::Instruction {
                break;
            }
            let hs = &self.machine.harts[h];
            let (pc, ra, sp, mode) = (hs.pc, hs.x[1], hs.x[2], hs.mode);
            // A call (`jal`/`jalr` that links ra) leaves ra at the next instruction (4 or 2
            // bytes on, RVC). Step over it by running to that address with this stack.
            let called = mode == mode0 && (ra == pc0 + 4 || ra == pc0 + 2) && pc != ra;
            if kind == StepKind::Finish
                && let Some((lo, hi, shift)) = func
            {
                let spc = pc.wrapping_add(shift);
                if mode != mode0 || !(lo..hi).contains(&spc) {
                    if !called {
                        break; // returned (or jumped away: a tail call)
                    }
                    if let Err(e) = self.run_to_return(h, ra, sp, over_limit) {
                        (hart, why, stop) = e;
                        break;
                    }
                }
                if n >= STEP_LIMIT {
                    why = format!("no return after {STEP_LIMIT} instructions");
                    break;
                }
                continue;
            }
            if kind == StepKind::Over
                && called
                && let Err(e) = self.run_to_return(h, ra, sp, over_limit)
            {
                (hart, why, stop) = e;
                break;
            }
            let line = self.line_of(h);
            if line.is_some() && line != start {
                break;
            }
            if n >= STEP_LIMIT {
                why = format!("no new source line after {STEP_LIMIT} instructions");
                break;
            }
        }
        Stepped { hart, why, stop }
    }

    /// Runs the machine until hart `h` reaches `ret` with stack pointer `sp` (the return of
    /// a call being stepped over). Err: where and why it stopped elsewhere.
    fn run_to_return(
        &mut self,
        h: usize,
        ret: u64,
        sp: u64,
        limit: Duration,
    ) -> Result<(), (usize, String, Option<Stop>)> {
        self.set_breakpoint(
            Owner::Temp,
            Resolved {
                addr: ret,
                label: format!("{ret:#x}"),
                cond: None,
            },
        );
        let started = Instant::now();
        let result = loop {
            match self.run(SLICE) {
                Stop::Breakpoint { hart } => {
                    let hs = &self.machine.harts[hart];
                    let ours = hart == h && hs.pc == ret && hs.x[2] == sp;
                    let others: Vec<&Breakpoint> = self
                        .hits()
                        .iter()
                        .filter(|b| b.owner != Owner::Temp)
                        .collect();
                    if let Some(b) = others.first() {
                        break Err((
                            hart,
                            format!(
                                "breakpoint {} hit on hart {hart} while stepping over a call",
                                b.label
                            ),
                            None,
                        ));
                    }
                    if ours {
                        break Ok(());
                    }
                    // Our return address reached by another hart or a deeper frame: run
                    // on (the machine does not stop again at the pc it resumes from).
                }
                s @ (Stop::PowerOff { .. } | Stop::Reset | Stop::Htif { .. }) => {
                    break Err((h, "the guest stopped while stepping".into(), Some(s)));
                }
                _ => {}
            }
            if started.elapsed() >= limit {
                break Err((
                    h,
                    format!(
                        "the call did not return within {} s; stopped",
                        limit.as_secs()
                    ),
                    None,
                ));
            }
        };
        self.clear_owner(Owner::Temp);
        result
    }

    /// Runs until a breakpoint of `owner` at `r` holds, for at most `limit` cycles of
    /// machine time; the hart it stopped on. Other owners' breakpoints do not end the run.
    /// The breakpoint goes when the run ends.
    pub fn run_to(&mut self, owner: Owner, r: Resolved, limit: u64) -> Result<usize, String> {
        self.set_breakpoint(owner, r.clone());
        let end = self.machine.cycle().saturating_add(limit);
        let result = loop {
            if self.machine.cycle() >= end {
                break Err(format!(
                    "the breakpoint was not reached within {limit} cycles"
                ));
            }
            match self.run(SLICE.min(end - self.machine.cycle())) {
                Stop::Breakpoint { hart } if self.hit_by(owner) => break Ok(hart),
                Stop::PowerOff { code } => {
                    break Err(format!("the guest powered off (code {code})"));
                }
                Stop::Reset => break Err("the guest asked for a reset".into()),
                Stop::Htif { value } => break Err(format!("the guest wrote tohost = {value}")),
                Stop::Idle if self.machine.idle_until().is_none() => {
                    break Err("every hart waits with no wake-up source".into());
                }
                _ => {}
            }
        };
        self.remove_breakpoint(owner, r.addr);
        result
    }
}
