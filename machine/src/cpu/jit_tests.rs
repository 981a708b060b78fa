//! The translating tier against the interpreter on generated programs: hot loops of every
//! translated instruction, loads and stores (aligned, misaligned, into the loop's own code),
//! forward branches and the flag-poll loop end, run in chunks of random length on both
//! tiers, which must agree after every chunk (pc, registers, instret, why the chunk ended)
//! and in memory at the end.

use super::encode::*;
use super::{ExitReason, Hart};
use crate::board::RAM_BASE;
use crate::bus::Bus;
use crate::ram::Ram;

const CODE: u64 = RAM_BASE;
const HANDLER: u64 = RAM_BASE + 0x8000;
const DATA: u64 = RAM_BASE + 0x1_0000;
/// Sv39 tables of the paged runs: root, level 1, level 0 (mapping the first 32 pages).
const TABLES: u64 = RAM_BASE + 0x2_0000;
/// Registers the generator never writes: the data base and the loop counter.
const BASE: u32 = S0;
const COUNT: u32 = S1;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn reg(&mut self) -> u32 {
        self.below(32) as u32
    }
    /// A destination: any register but the two reserved ones (x0 included).
    fn dest(&mut self) -> u32 {
        loop {
            let r = self.reg();
            if r != BASE && r != COUNT {
                return r;
            }
        }
    }
}

/// One random instruction of the translated set (no control transfer).
fn random_inst(rng: &mut Rng) -> u32 {
    let (rd, rs1, rs2) = (rng.dest(), rng.reg(), rng.reg());
    let imm = rng.below(4096) as i32 - 2048;
    match rng.below(12) {
        11 => {
            // sstatus (0x100): reads, `intr_off`, `intr_on`, and writes of other bits.
            let (f3, src) = match rng.below(10) {
                0..=4 => (2, 0), // csrr
                5..=6 => (7, 2), // csrrci 2 (SIE off)
                7 => (6, 2),     // csrrsi 2 (SIE on)
                8 => (3, rs1),   // csrrc rs1
                _ => (1, rs1),   // csrrw rs1
            };
            i(0x100, src, f3, rd, 0x73)
        }
        10 => {
            // An AMO on the data base (aligned or not, by the base's offset), word or double.
            let f5 = [
                0b00001, 0b00000, 0b00100, 0b01100, 0b01000, 0b10000, 0b10100, 0b11000, 0b11100,
            ][rng.below(9) as usize];
            let f3 = 2 + rng.below(2) as u32;
            r(f5 << 2 | rng.below(4) as u32, rs2, BASE, f3, rd, 0x2f)
        }
        0..=2 => {
            // R-type, base and M, 64- and 32-bit.
            let (f7, f3) = [
                (0, 0),
                (0x20, 0),
                (0, 1),
                (0, 2),
                (0, 3),
                (0, 4),
                (0, 5),
                (0x20, 5),
                (0, 6),
                (0, 7),
                (1, 0),
                (1, 1),
                (1, 2),
                (1, 3),
                (1, 4),
                (1, 5),
                (1, 6),
                (1, 7),
            ][rng.below(18) as usize];
            if rng.below(3) == 0 {
                // W forms: add/sub/sll/srl/sra and mulw/divw/divuw/remw/remuw.
                let (f7, f3) = [
                    (0, 0),
                    (0x20, 0),
                    (0, 1),
                    (0, 5),
                    (0x20, 5),
                    (1, 0),
                    (1, 4),
                    (1, 5),
                    (1, 6),
                    (1, 7),
                ][rng.below(10) as usize];
                r(f7, rs2, rs1, f3, rd, 0x3b)
            } else {
                r(f7, rs2, rs1, f3, rd, 0x33)
            }
        }
        3..=4 => {
            let f3 = rng.below(8) as u32;
            match f3 {
                1 => i(rng.below(64) as i32, rs1, 1, rd, 0x13),
                5 => i(
                    (rng.below(2) as i32) << 10 | rng.below(64) as i32,
                    rs1,
                    5,
                    rd,
                    0x13,
                ),
                _ => i(imm, rs1, f3, rd, 0x13),
            }
        }
        5 => match rng.below(4) {
            0 => i(imm, rs1, 0, rd, 0x1b),
            1 => i(rng.below(32) as i32, rs1, 1, rd, 0x1b),
            2 => i(
                (rng.below(2) as i32) << 10 | rng.below(32) as i32,
                rs1,
                5,
                rd,
                0x1b,
            ),
            _ => {
                if rng.below(2) == 0 {
                    lui(rd, rng.below(1 << 20) as u32)
                } else {
                    auipc(rd, rng.below(1 << 20) as u32)
                }
            }
        },
        6..=7 => {
            // A load off the data base; mostly aligned.
            let f3 = [0, 1, 2, 3, 4, 5, 6][rng.below(7) as usize];
            let size = 1 << (f3 & 3);
            let mut off = imm & !(size - 1);
            if rng.below(8) == 0 {
                off = imm;
            }
            i(off, BASE, f3 as u32, rd, 0x03)
        }
        _ => {
            let f3 = rng.below(4) as u32;
            let size = 1 << f3;
            let mut off = imm & !(size - 1);
            if rng.below(8) == 0 {
                off = imm;
            }
            s(off, rs2, BASE, f3)
        }
    }
}

/// A loop of `body` random instructions with forward branches, run `iterations` times,
/// ending in a backward `bnez` on the counter (the flag-poll pattern) and `wfi`.
/// A quarter of them have no forward branch: the loop is one guest block, a counting loop
/// (jit.rs `counting_loop`).
fn random_program(rng: &mut Rng, body: usize) -> Vec<u32> {
    let mut p = Vec::new();
    let branches = rng.below(4) != 0;
    while p.len() < body {
        if branches && rng.below(8) == 0 {
            // A forward branch over 1 to 3 instructions.
            let skip = 1 + rng.below(3) as i32;
            let f3 = [0, 1, 4, 5, 6, 7][rng.below(6) as usize];
            p.push(b(4 * (skip + 1), rng.reg(), rng.reg(), f3));
            for _ in 0..skip {
                p.push(random_inst(rng));
            }
        } else {
            p.push(random_inst(rng));
        }
    }
    p.push(addi(COUNT, COUNT, -1));
    let back = -4 * p.len() as i32;
    p.push(bne(COUNT, ZERO, back));
    p.push(WFI);
    p
}

struct Run {
    h: Hart,
    bus: Bus,
}

impl Run {
    /// `jit`: None interprets; Some(n) translates, optimising regions after n entries.
    /// `paged`: the program runs in S-mode under Sv39, with the two data pages around the
    /// base swapped in physical memory, so that an access translated for the wrong page
    /// reads or writes other bytes than the interpreter's.
    fn new(prog: &[u32], jit: Option<u32>, seed: u64, self_modifying: bool, paged: bool) -> Run {
        let mut bus = Bus::new(
            Ram::new(1 << 20),
            1,
            crate::devices::virtio_blk::VirtioBlk::new(None, false),
        );
        if let Some(optimize_at) = jit {
            bus.jit = super::jit::Jit::new().map(Box::new);
            if let Some(j) = bus.jit.as_deref_mut() {
                j.optimize_at = optimize_at;
            }
        }
        let mut h = Hart::new(0);
        for (k, w) in prog.iter().enumerate() {
            bus.ram
                .write_phys(CODE + 4 * k as u64, &w.to_le_bytes())
                .unwrap();
        }
        bus.ram.write_phys(HANDLER, &WFI.to_le_bytes()).unwrap();
        let mut fill = Rng(seed ^ 0x5555);
        for a in (DATA..DATA + 0x2000).step_by(8) {
            bus.ram.write_phys(a, &fill.next().to_le_bytes()).unwrap();
        }
        let mut regs = Rng(seed ^ 0xaaaa);
        for r in 1..32 {
            h.x[r] = match regs.below(4) {
                0 => regs.below(16),
                1 => regs.next() | 1 << 63,
                _ => regs.next(),
            };
        }
        // Stores off BASE reach the whole first code page when self-modifying.
        // Otherwise near the page boundary in the middle of the data, off it by up to 64
        // bytes either way (mostly 8-aligned, for the AMOs on it): offsets from it cross
        // into the other page.
        let near = DATA + 4096 + regs.below(128) - 64;
        h.x[BASE as usize] = match (self_modifying, regs.below(4)) {
            (true, _) => CODE + 2048,
            (false, 0) => near,
            (false, _) => near & !7,
        };
        h.x[COUNT as usize] = 200 + regs.below(300);
        h.pc = CODE;
        h.csr.mtvec = HANDLER;
        if paged {
            let pte = |pa: u64, leaf: bool| (pa >> 12) << 10 | if leaf { 0xcf } else { 1 };
            let vpn = |va: u64, level: u32| (va >> (12 + 9 * level)) & 511;
            let put = |bus: &mut Bus, at: u64, v: u64| bus.ram.write_phys(at, &v.to_le_bytes());
            put(
                &mut bus,
                TABLES + 8 * vpn(RAM_BASE, 2),
                pte(TABLES + 0x1000, false),
            )
            .unwrap();
            put(
                &mut bus,
                TABLES + 0x1000 + 8 * vpn(RAM_BASE, 1),
                pte(TABLES + 0x2000, false),
            )
            .unwrap();
            for page in 0..32u64 {
                let va = RAM_BASE + page * 4096;
                let pa = match va {
                    DATA => DATA + 4096,
                    v if v == DATA + 4096 => DATA,
                    v => v,
                };
                put(&mut bus, TABLES + 0x2000 + 8 * vpn(va, 0), pte(pa, true)).unwrap();
            }
            h.mode = super::Mode::Supervisor;
            h.csr.satp = 8 << 60 | TABLES >> 12;
        }
        Run { h, bus }
    }
}

/// Runs `prog` on both tiers in chunks of random length until both wait; panics at the
/// first difference. Returns the instructions retired in all and by translated code.
fn compare(
    prog: &[u32],
    seed: u64,
    self_modifying: bool,
    paged: bool,
    optimize_at: u32,
) -> (u64, u64) {
    let mut a = Run::new(prog, None, seed, self_modifying, paged);
    let mut b = Run::new(prog, Some(optimize_at), seed, self_modifying, paged);
    let mut chunks = Rng(seed ^ 0x1234);
    let mut total = 0;
    while total < 400_000 {
        let budget = match chunks.below(4) {
            0 => 1 + chunks.below(8),
            1 => 1 + chunks.below(300),
            _ => 1 + chunks.below(20_000),
        };
        let ea = a.h.run(&mut a.bus, budget, &[]);
        let eb = b.h.run(&mut b.bus, budget, &[]);
        let at = format!(
            "seed {seed:#x}, after {total} + {budget} cycles (interp pc {:#x})",
            a.h.pc
        );
        assert_eq!(ea, eb, "exit differs: {at}");
        assert_eq!(a.h.pc, b.h.pc, "pc differs: {at}");
        assert_eq!(a.h.instret(), b.h.instret(), "instret differs: {at}");
        for r in 0..32 {
            assert_eq!(a.h.x[r], b.h.x[r], "x{r} differs: {at}");
        }
        assert_eq!(a.h.csr.mcause, b.h.csr.mcause, "mcause differs: {at}");
        assert_eq!(
            a.h.spin.flag_poll(),
            b.h.spin.flag_poll(),
            "flag-poll state differs: {at}"
        );
        assert_eq!(
            a.h.spin.lock_spin(),
            b.h.spin.lock_spin(),
            "lock-spin state differs: {at}"
        );
        total += ea.executed;
        if ea.reason == ExitReason::Wfi {
            break;
        }
    }
    let first_difference = (a.bus.ram.bytes().iter())
        .zip(b.bus.ram.bytes())
        .position(|(x, y)| x != y);
    assert_eq!(
        first_difference, None,
        "memory differs at the end (RAM offset): seed {seed:#x}"
    );
    let translated = b.bus.jit.as_ref().map_or(0, |j| j.stats.instructions);
    (b.h.instret(), translated)
}

#[test]
fn translated_loops_match_the_interpreter() {
    if super::jit::Jit::new().is_none() {
        eprintln!("skipped: the translating tier has no backend for this host");
        return;
    }
    let (mut total, mut translated) = (0, 0);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for k in 0..200 {
        let body = 4 + rng.below(40) as usize;
        let prog = random_program(&mut rng, body);
        // Half the programs with regions optimised from their second entry on.
        let optimize_at = if k % 2 == 0 { 2 } else { u32::MAX };
        // A quarter of each kind paged.
        let paged = k % 8 >= 6;
        let (all, by_jit) = compare(&prog, rng.next(), k % 5 == 4, paged, optimize_at);
        total += all;
        translated += by_jit;
    }
    // The comparison means nothing unless the translated code did most of the work.
    assert!(
        translated * 2 > total,
        "only {translated} of {total} instructions ran translated"
    );
}

#[test]
fn a_store_into_the_running_loop_changes_its_next_iteration() {
    if super::jit::Jit::new().is_none() {
        eprintln!("skipped: the translating tier has no backend for this host");
        return;
    }
    // loop: a0 += 1 (an instruction the loop itself rewrites to `a0 += 2` half-way:
    // when s1 reaches 100 it stores the word held in t1 over it).
    let add2 = addi(A0, A0, 2);
    let prog = [
        addi(A0, A0, 1),        // 0: rewritten
        addi(T0, COUNT, -100),  // 4
        bne(T0, ZERO, 8),       // 8: skip the store but at s1 == 100
        sw(T1, A3, 0),          // 12
        addi(COUNT, COUNT, -1), // 16
        bne(COUNT, ZERO, -20),  // 20
        WFI,
    ];
    for jit in [None, Some(u32::MAX), Some(2)] {
        let mut r = Run::new(&prog, jit, 1, false, false);
        r.h.x[A0 as usize] = 0;
        r.h.x[COUNT as usize] = 300;
        r.h.x[T1 as usize] = add2 as u64;
        r.h.x[A3 as usize] = CODE;
        let e = r.h.run(&mut r.bus, 100_000, &[]);
        assert_eq!(e.reason, ExitReason::Wfi, "jit {jit:?}");
        // 200 iterations add 1 (s1 = 300..=101), then 100 add 2 (the store happens in the
        // iteration with s1 = 100, after that iteration's add).
        assert_eq!(r.h.x[A0 as usize], 200 + 1 + 99 * 2, "jit {jit:?}");
        if let Some(j) = r.bus.jit.as_ref() {
            let stats = j.stats;
            assert!(
                stats.translations >= 2,
                "retranslated after the store: {stats:?}"
            );
        }
    }
}

#[test]
fn a_breakpoint_in_a_hot_loop_stops_there() {
    let prog = [
        addi(A0, A0, 1),
        addi(A1, A1, 3),
        addi(COUNT, COUNT, -1),
        bne(COUNT, ZERO, -12),
        WFI,
    ];
    for jit in [None, Some(u32::MAX), Some(2)] {
        let mut r = Run::new(&prog, jit, 2, false, false);
        r.h.x[A0 as usize] = 0;
        r.h.x[COUNT as usize] = 1000;
        // Hot first (500 iterations and two instructions of the 501st), then a breakpoint
        // on the second instruction: the rest of that iteration and one instruction run.
        assert_eq!(r.h.run(&mut r.bus, 2002, &[]).reason, ExitReason::Budget);
        let e = r.h.run(&mut r.bus, 100_000, &[CODE + 4]);
        assert_eq!(e.reason, ExitReason::Breakpoint, "jit {jit:?}");
        assert_eq!((r.h.pc, e.executed), (CODE + 4, 3), "jit {jit:?}");
        assert_eq!(r.h.instret(), 2005);
        assert_eq!(r.h.x[A0 as usize], 502, "jit {jit:?}");
    }
}

#[test]
fn a_breakpoint_in_another_page_stops_a_chain_of_regions() {
    // A hot loop in one page calls a function in the next page; then a breakpoint goes on
    // the function's first instruction, which a region of the loop reaches by chaining.
    let mut prog = vec![
        addi(A0, A0, 1),        // 0
        jal(RA, 0x1000 - 4),    // 4: call FUNC
        addi(COUNT, COUNT, -1), // 8
        bne(COUNT, ZERO, -12),  // 12
        WFI,                    // 16
    ];
    prog.resize(0x1000 / 4, addi(ZERO, ZERO, 0));
    prog.extend([addi(A1, A1, 1), jalr(ZERO, RA, 0)]); // FUNC at CODE + 0x1000
    for jit in [None, Some(u32::MAX), Some(2)] {
        let mut r = Run::new(&prog, jit, 3, false, false);
        r.h.x[A1 as usize] = 0;
        r.h.x[COUNT as usize] = 10_000;
        assert_eq!(r.h.run(&mut r.bus, 6000, &[]).reason, ExitReason::Budget);
        let before = r.h.x[A1 as usize];
        let e = r.h.run(&mut r.bus, 100_000, &[CODE + 0x1000]);
        assert_eq!(e.reason, ExitReason::Breakpoint, "jit {jit:?}");
        assert_eq!(r.h.pc, CODE + 0x1000, "jit {jit:?}");
        assert_eq!(
            r.h.x[A1 as usize], before,
            "jit {jit:?}: FUNC ran past its breakpoint"
        );
        assert!(e.executed < 6, "jit {jit:?}: {e:?}");
    }
}

#[test]
fn lr_sc_and_system_instructions_are_left_to_the_interpreter() {
    use super::decode::Op;
    use super::jit::translatable;
    for op in [Op::LrW, Op::ScD, Op::Csrrs, Op::Ecall, Op::Fence] {
        assert!(!translatable(op), "{op:?}");
    }
    for op in [
        Op::Remuw,
        Op::Nop,
        Op::Lui,
        Op::Jalr,
        Op::Sd,
        Op::Bgeu,
        Op::AmoswapW,
        Op::AmomaxuD,
    ] {
        assert!(translatable(op), "{op:?}");
    }
}

#[test]
fn a_flag_poll_counts_its_repeats_and_yields_as_the_interpreter_does() {
    if super::jit::Jit::new().is_none() {
        eprintln!("skipped: the translating tier has no backend for this host");
        return;
    }
    // `while (flag == 0);` on a flag no one sets: the spin detector's 64th and 128th repeat
    // compare the registers and the hart yields; with a register that moves each time
    // round (`t1 += 1`), the repeats go on being counted and nothing yields.
    for moving in [false, true] {
        let mut prog = vec![lw(T0, BASE, 0)];
        if moving {
            prog.push(addi(T1, T1, 1));
        }
        prog.push(b(-4 * prog.len() as i32, ZERO, T0, 0)); // beqz t0, loop
        prog.push(WFI);
        let mut runs: Vec<Run> = [None, Some(2), Some(u32::MAX)]
            .into_iter()
            .map(|jit| {
                let mut r = Run::new(&prog, jit, 4, false, false);
                r.h.x[BASE as usize] &= !3;
                let flag = r.h.x[BASE as usize];
                r.bus.ram.write_phys(flag, &[0; 4]).unwrap();
                r
            })
            .collect();
        let mut chunks = Rng(0x77);
        let mut yields = 0;
        for round in 0..200 {
            let budget = 1 + chunks.below(700);
            let exits: Vec<_> = runs
                .iter_mut()
                .map(|r| {
                    let e = r.h.run(&mut r.bus, budget, &[]);
                    (e, r.h.pc, r.h.instret(), r.h.spin.flag_poll())
                })
                .collect();
            assert!(
                exits.windows(2).all(|w| w[0] == w[1]),
                "moving {moving}, round {round}: {exits:?}"
            );
            yields += usize::from(exits[0].0.reason == ExitReason::Yield);
        }
        assert_eq!(yields > 0, !moving, "moving {moving}: {yields} yields");
        let translated = runs[1].bus.jit.as_ref().map_or(0, |j| j.stats.instructions);
        assert!(translated > 0, "moving {moving}: nothing ran translated");
    }
}

#[test]
fn a_counting_loop_entered_by_another_branch_or_with_a_repeat_matches_the_interpreter() {
    if super::jit::Jit::new().is_none() {
        eprintln!("skipped: the translating tier has no backend for this host");
        return;
    }
    // The inner loop (0x10) is a counting loop (jit.rs `counting_loop`). It is entered by a
    // `blt`, which is no flag poll, and runs 2 and 3 times round in turn: after a run of
    // three (values 2, 1) the detector has noted (0x14, 1), so the next run's first branch,
    // on 1 again, is a repeat.
    let prog = [
        i(1, COUNT, 7, A0, 0x13), // 0x00: andi a0, s1, 1
        addi(A0, A0, 2),          // 0x04
        b(8, A0, ZERO, 4),        // 0x08: blt zero, a0, 0x10
        WFI,                      // 0x0c
        addi(A0, A0, -1),         // 0x10: the counting loop
        bne(A0, ZERO, -4),        // 0x14
        addi(COUNT, COUNT, -1),   // 0x18
        b(-28, COUNT, ZERO, 4),   // 0x1c: blt zero, s1, 0x00
        WFI,                      // 0x20
    ];
    for (k, optimize_at) in [2, u32::MAX].into_iter().enumerate() {
        let (all, by_jit) = compare(&prog, 0x51 + k as u64, false, false, optimize_at);
        assert!(by_jit * 2 > all, "{by_jit} of {all} translated");
    }
}

#[test]
fn a_repeat_on_entering_a_counting_loop_is_counted_and_the_next_value_noted() {
    if super::jit::Jit::new().is_none() {
        eprintln!("skipped: the translating tier has no backend for this host");
        return;
    }
    // A hot counting loop whose detector state says its branch last saw 99, entered with
    // a0 = 100: the first time round repeats 99 (counted), the second notes 98 afresh.
    let prog = [addi(A0, A0, -1), bne(A0, ZERO, -4), WFI];
    let branch = CODE + 4;
    let mut runs: Vec<Run> = [None, Some(2), Some(u32::MAX)]
        .into_iter()
        .map(|jit| {
            let mut r = Run::new(&prog, jit, 5, false, false);
            r.h.x[A0 as usize] = 1 << 20;
            assert_eq!(r.h.run(&mut r.bus, 5_000, &[]).reason, ExitReason::Budget);
            r.h.x[A0 as usize] = 100;
            r.h.spin.set_flag_poll(super::spin::FlagPoll {
                pc: branch,
                value: 99,
                count: 0,
            });
            r
        })
        .collect();
    // The first chunk runs the repeat and the next time round in one entry of the region.
    for budget in [4, 2, 1, 3, 50] {
        let states: Vec<_> = runs
            .iter_mut()
            .map(|r| {
                let e = r.h.run(&mut r.bus, budget, &[]);
                (e, r.h.pc, r.h.x[A0 as usize], r.h.spin.flag_poll())
            })
            .collect();
        assert!(states.windows(2).all(|w| w[0] == w[1]), "{states:#x?}");
    }
    let translated = runs[1].bus.jit.as_ref().map_or(0, |j| j.stats.instructions);
    assert!(translated > 0, "nothing ran translated");
}
