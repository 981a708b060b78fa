//! Lockstep: the translating tier (`machine::cpu::jit`) against the interpreter on real xv6.
//!
//! The tiers' contract: with translation on or off, each hart retires the same instructions in
//! the same order, takes every trap and interrupt at the same instruction count, and the
//! console shows the same bytes at the same count. So two machines, one per tier, booted from
//! the same kernel and disk and run the same number of cycles at a time, must agree after
//! every step on everything observable: the stop, the cycle counter and schedule, each hart's
//! pc, instruction count, mode, registers and trap CSRs, every trap and xRET each hart took
//! (the harts' event logs: cause, pc, target and the cycle it happened at), the console bytes,
//! the RAM pages written in the step (their lists and their contents) and at the end the disk.
//! The first difference fails the test naming the step, the hart, its pc and what differs.
//!
//! The shell's input is typed into both when a new prompt shows, so both see the same bytes
//! at the same instruction count. Each run also asserts that the translated code ran most of
//! the instructions, so that agreement cannot come from a tier that never ran.
//!
//! Quick forms run in `cargo test --release`; the long ones (usertests -q, MIT's kernel) are
//! `#[ignore]`d: `cargo test --release -p session tier_lockstep_usertests -- --ignored --nocapture`
//! (MIT's with `XV6SCOPE_MIT_XV6` set; docs/reliability.md has the figures).

use crate::inspect::testboot::{mit_dir, rust_fs_img, rust_kernel_path, skip};
use machine::cpu::Event;
use machine::cpu::csr::addr;
use machine::machine::{Config, Image, Machine, Stop, Tier};
use std::time::Instant;

/// Cycles per lockstep step: small enough that a difference is caught near where it
/// happened, large enough that regions run whole (a region never runs past its budget). Some
/// runs step by a prime instead, so that steps end at other points of the quanta and regions.
const STEP: u64 = 1_000_000;
const PRIME_STEP: u64 = 999_983;

/// CSRs compared after every step: those a trap, an xRET or the kernel's setup writes.
const CSRS: &[(u16, &str)] = &[
    (addr::MSTATUS, "mstatus"),
    (addr::MEPC, "mepc"),
    (addr::MCAUSE, "mcause"),
    (addr::MTVAL, "mtval"),
    (addr::MIP, "mip"),
    (addr::MIE, "mie"),
    (addr::MSCRATCH, "mscratch"),
    (addr::SEPC, "sepc"),
    (addr::SCAUSE, "scause"),
    (addr::STVAL, "stval"),
    (addr::SSCRATCH, "sscratch"),
    (addr::STVEC, "stvec"),
    (addr::SATP, "satp"),
    (addr::STIMECMP, "stimecmp"),
];

/// ABI names of `x0..x31`, for reports.
const XNAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];

/// What to run: the shell commands typed one per prompt, and what the console must show by
/// the end (the run ends at the prompt after the last command).
struct Script<'a> {
    commands: &'a [&'a str],
    expect: &'a [&'a str],
    /// Most cycles the whole run may take.
    budget: u64,
}

/// One machine per tier.
struct Pair {
    interp: Machine,
    jit: Machine,
}

impl Pair {
    /// Both machines, or None (said skipped) when this host has no translator.
    fn new(config: &Config, kernel: &[u8], disk: &[u8]) -> Option<Pair> {
        let make = |tier| {
            let config = Config {
                tier,
                ..config.clone()
            };
            let mut m =
                Machine::new(config, Image::Elf(kernel), Some(disk.to_vec())).expect("machine");
            for h in &mut m.harts {
                h.events = Some(Vec::new());
            }
            m
        };
        let pair = Pair {
            interp: make(Tier::Interp),
            jit: make(Tier::Jit),
        };
        if pair.jit.tier() != Tier::Jit {
            skip(&format!(
                "the translating tier has no backend on this host ({}): there is one tier only",
                std::env::consts::ARCH
            ));
            return None;
        }
        assert_eq!(pair.interp.tier(), Tier::Interp);
        Some(pair)
    }
}

/// The first difference between the two machines after a step, in words; the console
/// bytes of the step otherwise. Takes the step's console output, events and dirty pages.
fn compare(p: &mut Pair, stops: (Stop, Stop)) -> Result<Vec<u8>, String> {
    let (a, b) = (&mut p.interp, &mut p.jit);
    if stops.0 != stops.1 {
        return Err(format!(
            "the run stopped with {:?} (interp) but {:?} (jit)",
            stops.0, stops.1
        ));
    }
    for h in 0..a.harts.len() {
        let (x, y) = (&a.harts[h], &b.harts[h]);
        let at = format!("hart {h} at pc {:#x} (interp) / {:#x} (jit)", x.pc, y.pc);
        if x.instret() != y.instret() || x.cycles() != y.cycles() {
            return Err(format!(
                "{at}: instret {} / {}, cycles {} / {}",
                x.instret(),
                y.instret(),
                x.cycles(),
                y.cycles()
            ));
        }
        if x.pc != y.pc || x.mode != y.mode || x.is_waiting() != y.is_waiting() {
            return Err(format!(
                "{at}: mode {:?} / {:?}, waiting {} / {}",
                x.mode,
                y.mode,
                x.is_waiting(),
                y.is_waiting()
            ));
        }
        let regs: Vec<String> = (0..32)
            .filter(|&r| x.x[r] != y.x[r])
            .map(|r| format!("{} {:#x} / {:#x}", XNAMES[r], x.x[r], y.x[r]))
            .collect();
        if !regs.is_empty() {
            return Err(format!("{at}: registers differ: {}", regs.join(", ")));
        }
        for &(csr, name) in CSRS {
            let (u, v) = (x.csr_read(csr), y.csr_read(csr));
            if u != v {
                return Err(format!("{at}: {name} {u:x?} / {v:x?}"));
            }
        }
        let (ea, eb) = (
            a.harts[h].events.as_mut().map(std::mem::take),
            b.harts[h].events.as_mut().map(std::mem::take),
        );
        if let Some(why) = first_event_difference(ea.as_deref(), eb.as_deref()) {
            return Err(format!("{at}: {why}"));
        }
        if a.harts[h].events_dropped != b.harts[h].events_dropped {
            return Err(format!("{at}: events dropped differ"));
        }
    }
    if a.cycle() != b.cycle() || a.elapsed() != b.elapsed() {
        return Err(format!(
            "cycle {} / {}, elapsed {} / {}",
            a.cycle(),
            b.cycle(),
            a.elapsed(),
            b.elapsed()
        ));
    }
    let (sa, sb) = (a.schedule_summary(), b.schedule_summary());
    if sa != sb {
        return Err(format!("schedule: {sa} (interp) / {sb} (jit)"));
    }
    let (ca, cb) = (a.bus.uart.take_output(), b.bus.uart.take_output());
    if ca != cb {
        return Err(format!(
            "console: {:?} (interp) / {:?} (jit)",
            String::from_utf8_lossy(&ca),
            String::from_utf8_lossy(&cb)
        ));
    }
    let (da, db) = (a.bus.ram.take_dirty(), b.bus.ram.take_dirty());
    if da != db {
        let only_a: Vec<_> = da.iter().filter(|p| !db.contains(p)).collect();
        let only_b: Vec<_> = db.iter().filter(|p| !da.contains(p)).collect();
        return Err(format!(
            "pages written: only by interp {only_a:x?}, only by jit {only_b:x?}"
        ));
    }
    for &page in &da {
        let (u, v) = (a.bus.ram.page(page), b.bus.ram.page(page));
        if let Some(i) = (0..u.len()).find(|&i| u[i] != v[i]) {
            let paddr = a.ram_base() + (page as u64) * 4096 + i as u64;
            return Err(format!(
                "RAM at {paddr:#x}: {:#04x} (interp) / {:#04x} (jit); harts at {}",
                u[i],
                v[i],
                pcs(a)
            ));
        }
    }
    Ok(ca)
}

fn pcs(m: &Machine) -> String {
    let pcs: Vec<String> = m.harts.iter().map(|h| format!("{:#x}", h.pc)).collect();
    pcs.join(", ")
}

/// The first trap or xRET the two logs disagree on, in words.
fn first_event_difference(a: Option<&[Event]>, b: Option<&[Event]>) -> Option<String> {
    let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
    let show = |e: Option<&Event>| match e {
        None => "none".to_string(),
        Some(e) => format!(
            "{} at pc {:#x} -> {:#x} ({:?} -> {:?}), tval {:#x}, hart cycle {}",
            e.cause
                .map_or("xRET".to_string(), |c| format!("trap cause {c:#x}")),
            e.pc,
            e.target,
            e.from,
            e.to,
            e.tval,
            e.cycle
        ),
    };
    let i = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))?;
    Some(format!(
        "event {i} of the step: {} (interp) / {} (jit)",
        show(a.get(i)),
        show(b.get(i))
    ))
}

/// Runs `script` on both tiers in lockstep; the console text. Panics at the first difference.
fn lockstep(
    name: &str,
    config: Config,
    kernel: &[u8],
    disk: &[u8],
    script: &Script,
    step_cycles: u64,
) -> String {
    let Some(mut p) = Pair::new(&config, kernel, disk) else {
        return String::new();
    };
    let started = Instant::now();
    let mut console: Vec<u8> = Vec::new();
    let (mut typed, mut prompts) = (0usize, 0usize);
    let mut step = 0u64;
    loop {
        let from = p.interp.elapsed();
        let stops = (p.interp.run(step_cycles), p.jit.run(step_cycles));
        let out = compare(&mut p, stops).unwrap_or_else(|why| {
            panic!(
                "{name}: the tiers differ at step {step} (cycles {from}..{} of the run): {why}\n\
                 console so far:\n{}",
                p.interp.elapsed(),
                tail(&console)
            )
        });
        console.extend_from_slice(&out);
        step += 1;
        if step.is_multiple_of(1000) {
            println!(
                "{name}: step {step}, {} instructions, {:.1?}",
                p.jit.instret(),
                started.elapsed()
            );
        }
        // A new prompt: type the next command into both, or end after the last one's.
        let seen = count(&console, b"$ ");
        if seen > prompts {
            prompts = seen;
            if typed == script.commands.len() {
                break;
            }
            println!(
                "{name}: prompt {prompts} after {} cycles, {:.1?}",
                p.interp.elapsed(),
                started.elapsed()
            );
            let line = format!("{}\n", script.commands[typed]);
            p.interp.bus.uart.push_input(line.as_bytes());
            p.jit.bus.uart.push_input(line.as_bytes());
            typed += 1;
        }
        match stops.0 {
            Stop::Budget => {}
            // Every hart waits with no timer armed: only input could wake them, and there is
            // none to come unless a prompt shows.
            Stop::Idle if p.interp.bus.uart.input_pending() => {}
            other => panic!(
                "{name}: both tiers stopped with {other:?} at step {step}:\n{}",
                tail(&console)
            ),
        }
        assert!(
            p.interp.elapsed() < script.budget,
            "{name}: not done in {} cycles ({typed} of {} commands typed):\n{}",
            script.budget,
            script.commands.len(),
            tail(&console)
        );
    }
    let text = String::from_utf8_lossy(&console).into_owned();
    for want in script.expect {
        assert!(
            text.contains(want),
            "{name}: no {want:?} on the console:\n{text}"
        );
    }
    assert!(
        p.interp.bus.virtio.disk() == p.jit.bus.virtio.disk(),
        "{name}: the disks differ at the end"
    );
    let stats = p.jit.jit_stats().expect("the jit machine has a translator");
    let total = p.jit.instret();
    let share = stats.instructions as f64 / total as f64;
    println!(
        "{name}: {step} steps of {step_cycles} cycles ({total} instructions) in {:.1?}, \
         equal on both tiers; {} translations ({:.1} s compiling), {} entries, {:.1}% of \
         the instructions translated",
        started.elapsed(),
        stats.translations,
        stats.compile_nanos as f64 / 1e9,
        stats.entries,
        100.0 * share
    );
    // xv6 spends most of its instructions in loops over its own code (the scheduler,
    // copies, the file system): a tier that translated little did not really run.
    assert!(
        share > 0.5,
        "{name}: only {:.1}% of {total} instructions ran translated ({stats:?})",
        100.0 * share
    );
    text
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// The last lines of the console, for failure messages.
fn tail(console: &[u8]) -> String {
    let text = String::from_utf8_lossy(console);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

fn rust_kernel() -> Option<(Vec<u8>, Vec<u8>)> {
    let path = rust_kernel_path()?;
    let kernel = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some((kernel, rust_fs_img()?))
}

fn harts(harts: usize) -> Config {
    Config {
        harts,
        ..Config::default()
    }
}

/// A few commands on the bundled kernel: the shell, exec, pipes (a process per prime),
/// fork in bulk, the file system and the disk under five concurrent writers. (A single
/// `usertests NAME` would cost 30 s more: usertests counts the free pages around each run by
/// growing a process until sbrk fails, over a billion instructions; the long forms run it.)
const QUICK: Script = Script {
    commands: &[
        "ls",
        "echo hello tiers | wc",
        "forktest",
        "primes",
        "stressfs",
        "pingpong",
    ],
    expect: &[
        "README",
        "1 2 12",
        "fork test OK",
        "prime 31",
        "received pong",
    ],
    budget: 1_000_000_000,
};

/// The first four of [`QUICK`], for the other schedules (most of a quick run's time goes to
/// translating the kernel's and programs' code, which each run does anew).
const QUICK_SHORT: Script = Script {
    commands: &["ls", "echo hello tiers | wc", "forktest", "primes"],
    expect: &["README", "1 2 12", "fork test OK", "prime 31"],
    budget: 1_000_000_000,
};

#[test]
fn tier_lockstep_quick_on_the_bundled_kernel() {
    let Some((kernel, disk)) = rust_kernel() else {
        return;
    };
    lockstep("bundled, 3 harts", harts(3), &kernel, &disk, &QUICK, STEP);
}

#[test]
fn tier_lockstep_quick_on_one_hart() {
    let Some((kernel, disk)) = rust_kernel() else {
        return;
    };
    lockstep(
        "bundled, 1 hart",
        harts(1),
        &kernel,
        &disk,
        &QUICK_SHORT,
        PRIME_STEP,
    );
}

#[test]
fn tier_lockstep_quick_in_contention_mode() {
    let Some((kernel, disk)) = rust_kernel() else {
        return;
    };
    let config = Config {
        interleave: Some(14),
        ..harts(3)
    };
    lockstep(
        "bundled, 3 harts, --seed 14",
        config,
        &kernel,
        &disk,
        &QUICK_SHORT,
        STEP,
    );
}

const USERTESTS_Q: Script = Script {
    commands: &["usertests -q"],
    expect: &["ALL TESTS PASSED"],
    budget: 200_000_000_000,
};

#[test]
#[ignore = "slow: usertests -q on both tiers, instruction for instruction (minutes)"]
fn tier_lockstep_usertests_on_the_bundled_kernel() {
    let Some((kernel, disk)) = rust_kernel() else {
        return;
    };
    lockstep(
        "bundled usertests -q, 3 harts",
        harts(3),
        &kernel,
        &disk,
        &USERTESTS_Q,
        STEP,
    );
}

#[test]
#[ignore = "slow: usertests -q on both tiers in contention mode (minutes)"]
fn tier_lockstep_usertests_in_contention_mode() {
    let Some((kernel, disk)) = rust_kernel() else {
        return;
    };
    let config = Config {
        interleave: Some(7),
        ..harts(3)
    };
    lockstep(
        "bundled usertests -q, 3 harts, --seed 7",
        config,
        &kernel,
        &disk,
        &USERTESTS_Q,
        STEP,
    );
}

#[test]
#[ignore = "slow: MIT's usertests -q on both tiers (minutes; needs XV6SCOPE_MIT_XV6)"]
fn tier_lockstep_usertests_on_mit_xv6() {
    let Some(dir) = mit_dir() else {
        return;
    };
    let kernel = std::fs::read(dir.join("kernel/kernel")).expect("MIT kernel/kernel");
    let disk = std::fs::read(dir.join("fs.img")).expect("MIT fs.img");
    lockstep(
        "MIT usertests -q, 3 harts",
        harts(3),
        &kernel,
        &disk,
        &USERTESTS_Q,
        STEP,
    );
}

/// An `mret` run by the interpreter is logged at its own pc (it was logged at the pc the
/// last CSR instruction left, which the lockstep test found as a difference of the tiers).
#[test]
fn xret_events_name_the_xret_pc() {
    use machine::cpu::encode::*;
    // mstatus.MPP = M; mepc = the `j .`; mret (at +24) returns there.
    let code = [
        lui(T1, 2),
        addi(T1, T1, -0x800),
        csrrs(ZERO, addr::MSTATUS, T1),
        auipc(T0, 0),
        addi(T0, T0, 16),
        csrw(addr::MEPC, T0),
        MRET,
        jal(ZERO, 0),
    ];
    let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    for tier in [Tier::Interp, Tier::Jit] {
        let config = Config {
            harts: 1,
            tier,
            ..Config::default()
        };
        let mut m = Machine::new(config, Image::Raw(&bytes), None).expect("machine");
        m.harts[0].events = Some(Vec::new());
        m.run(100);
        let base = m.ram_base();
        let events = m.harts[0].events.take().unwrap_or_default();
        let e = events.first().expect("the mret's event");
        assert_eq!(e.target, base + 28, "{tier:?}: {e:?}");
        assert!(
            e.pc == base + 24,
            "{tier:?}: the mret at {:#x} is logged at pc {:#x}",
            base + 24,
            e.pc
        );
    }
}
