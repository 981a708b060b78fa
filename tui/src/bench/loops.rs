//! The generated loop programs of `int-loop`, `mem-loop` and `watch`, and running them.
//!
//! Each program is bare metal: an M-mode prologue turns Sv39 paging on and drops to S-mode,
//! the loop runs N iterations, and a store to the test finisher powers the machine off. The
//! generator knows how many instructions each program retires, so both machines run the same
//! bytes and our MIPS figure is exact (the unit test checks the count against the machine's).

use crate::asm::{Asm, elf};
use anyhow::{Result, bail};
use machine::cpu::csr::addr as csr;
use machine::cpu::encode::{A0, A1, A2, A3, A4, A5, S0, T0, T1, T2, ZERO};
use machine::cpu::{WatchKind, Watchpoint};
use machine::machine::{Config, Image, Machine, Stop, Tier};
use std::time::{Duration, Instant};

/// Builds a loop program of N iterations.
pub type LoopMaker = fn(u64) -> Program;

/// A generated benchmark program: its ELF, and how many instructions it retires.
pub struct Program {
    pub elf: Vec<u8>,
    pub instructions: u64,
}

const BASE: u64 = 0x8000_0000;
const ROOT_PT: i64 = 0x8010_0000;
pub const BUFFER: i64 = 0x8020_0000;
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

/// A one-hart machine for a program on `tier`.
fn machine(p: &Program, tier: Tier) -> Result<Machine> {
    let config = Config {
        harts: 1,
        tier,
        ..Config::default()
    };
    Ok(Machine::new(config, Image::Elf(&p.elf), None)?)
}

/// The tier a machine asked for `tier` really runs (the translating tier falls back to the
/// interpreter on hosts Cranelift does not support).
pub fn effective_tier(tier: Tier) -> Result<Tier> {
    Ok(machine(&int_loop(1), tier)?.tier())
}

/// Runs a program on our machine; returns (instructions retired, host time).
pub fn run_ours(p: &Program, tier: Tier) -> Result<(u64, Duration)> {
    run_watched(p, tier, None)
}

/// Runs a program on our machine with a data watchpoint set (that the program never
/// triggers: a stop is an error); returns (instructions retired, host time).
pub fn run_watched(p: &Program, tier: Tier, watch: Option<Watchpoint>) -> Result<(u64, Duration)> {
    let mut m = machine(p, tier)?;
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

/// The watchpoint of the `watch` workload: a write watch on a page the memory loop never
/// touches.
pub fn unrelated_watch() -> Watchpoint {
    Watchpoint {
        addr: BUFFER as u64 + 0x10_0000,
        len: 8,
        kind: WatchKind::Write,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generated programs must retire exactly the instructions `program` predicts, on
    /// both tiers; this checks the emulator's instruction counting and the generator together.
    #[test]
    fn loops_retire_the_predicted_instruction_counts() {
        for tier in [Tier::Interp, Tier::Jit] {
            for (p, name) in [(int_loop(1000), "int"), (mem_loop(1000), "mem")] {
                let (instret, _) = run_ours(&p, tier).unwrap();
                assert_eq!(instret, p.instructions, "{name} loop on {tier:?}");
            }
        }
        let (a, b) = (int_loop(10), int_loop(20));
        assert_eq!(b.instructions - a.instructions, 80);
    }
}
