//! Harts as gdb threads: resume actions (`vCont`) and the one-line description that
//! `info threads` shows beside each hart.
//!
//! gdb sends one action per thread (`vCont;s:2;c` = step thread 2, continue the others).
//! xv6scope executes a step on that hart alone while the others hold — the behaviour of gdb's
//! `set scheduler-locking step`, and deterministic — and a continue on all harts in the
//! machine's round-robin order. A continue of one thread with the others held (gdb asks for
//! this to step over a breakpoint, and under `set scheduler-locking on`) runs that hart
//! alone, one instruction at a time. Signals that gdb would deliver mean nothing to a bare
//! machine and are ignored. The actions only set [`super::Resume`]; the server executes it.

use super::{GdbTarget, Resume};
use gdbstub::common::{Signal, Tid};
use gdbstub::target::ext::base::multithread::{
    MultiThreadResume, MultiThreadSchedulerLocking, MultiThreadSchedulerLockingOps,
    MultiThreadSingleStep, MultiThreadSingleStepOps,
};
use gdbstub::target::ext::base::reverse_exec::{
    ReverseCont, ReverseContOps, ReverseStep, ReverseStepOps,
};
use gdbstub::target::ext::thread_extra_info::ThreadExtraInfo;
use machine::cpu::Mode;

impl MultiThreadResume for GdbTarget {
    fn resume(&mut self) -> Result<(), String> {
        self.resume = match (self.stepped, self.continued.as_slice()) {
            (Some(h), _) => Resume::Step(h),
            (None, &[h]) if self.locked => Resume::Solo(h),
            _ => Resume::Continue,
        };
        Ok(())
    }

    fn clear_resume_actions(&mut self) -> Result<(), String> {
        self.continued.clear();
        self.stepped = None;
        self.locked = false;
        Ok(())
    }

    fn set_resume_action_continue(
        &mut self,
        tid: Tid,
        _signal: Option<Signal>,
    ) -> Result<(), String> {
        if let Some(h) = self.hart(tid) {
            self.continued.push(h);
        }
        Ok(())
    }

    fn support_single_step(&mut self) -> Option<MultiThreadSingleStepOps<'_, Self>> {
        Some(self)
    }

    fn support_scheduler_locking(&mut self) -> Option<MultiThreadSchedulerLockingOps<'_, Self>> {
        Some(self)
    }

    fn support_reverse_step(&mut self) -> Option<ReverseStepOps<'_, Tid, Self>> {
        Some(self)
    }

    fn support_reverse_cont(&mut self) -> Option<ReverseContOps<'_, Tid, Self>> {
        Some(self)
    }
}

/// Reverse execution (`bs`, `bc`) goes through the session's timeline: back to just before
/// the hart's previous instruction, or to the last breakpoint or watchpoint hit; at the
/// start of the recording gdb is told it reached the beginning of the replay log.
impl ReverseStep<Tid> for GdbTarget {
    /// gdb names no thread in `bs` (gdbstub passes the last `Hc` thread, which gdb does not
    /// send before it): the hart of the last stop, the thread gdb shows, goes back.
    fn reverse_step(&mut self, _tid: Tid) -> Result<(), String> {
        self.resume = Resume::ReverseStep(self.stopped);
        Ok(())
    }
}

impl ReverseCont<Tid> for GdbTarget {
    fn reverse_cont(&mut self) -> Result<(), String> {
        self.resume = Resume::ReverseCont;
        Ok(())
    }
}

impl MultiThreadSchedulerLocking for GdbTarget {
    fn set_resume_action_scheduler_lock(&mut self) -> Result<(), String> {
        self.locked = true;
        Ok(())
    }
}

impl MultiThreadSingleStep for GdbTarget {
    fn set_resume_action_step(&mut self, tid: Tid, _signal: Option<Signal>) -> Result<(), String> {
        let h = self
            .hart(tid)
            .ok_or_else(|| format!("step of thread {tid}, which is no hart"))?;
        self.stepped = Some(h);
        Ok(())
    }
}

impl ThreadExtraInfo for GdbTarget {
    fn thread_extra_info(&self, tid: Tid, buf: &mut [u8]) -> Result<usize, String> {
        let Some(h) = self.hart(tid) else {
            return Ok(0);
        };
        let text = describe(self, h);
        let n = text.len().min(buf.len());
        buf[..n].copy_from_slice(&text.as_bytes()[..n]);
        Ok(n)
    }
}

/// "hart 1, S-mode" or "hart 2, M-mode, wfi".
pub fn describe(t: &GdbTarget, h: usize) -> String {
    let hart = &t.session.machine().harts[h];
    let mode = match hart.mode {
        Mode::User => "U",
        Mode::Supervisor => "S",
        Mode::Machine => "M",
    };
    let wfi = if hart.is_waiting() { ", wfi" } else { "" };
    format!("hart {h}, {mode}-mode{wfi}")
}
