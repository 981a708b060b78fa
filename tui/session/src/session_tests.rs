//! The session on the bundled Rust kernel: owners, conditions, stepping and replay.

use super::*;
use crate::inspect::testboot::{rust_fs_img, rust_kernel_path};
use crate::{Recording, RecordingError, Reversed, StepKind, WhenSpec};
use machine::Config;

/// A session on the Rust kernel the build made, booted with `harts`; None (skipped, said on
/// stderr) when the kernel is not built.
fn boot(harts: usize) -> Option<Session> {
    let kernel = std::fs::read(rust_kernel_path()?).expect("the kernel reads");
    let s = Session::new(Boot {
        kernel,
        raw: false,
        disk: Some(rust_fs_img()?),
        config: Config {
            harts,
            ..Config::default()
        },
    })
    .expect("boots");
    Some(s)
}

/// The same on 2 harts, at the shell prompt.
fn at_prompt() -> Option<Session> {
    let mut s = boot(2)?;
    run_until(&mut s, "$ ");
    Some(s)
}

/// Runs until `text` appears on the console (at most 2e9 cycles).
fn run_until(s: &mut Session, text: &str) -> String {
    let mut console = String::new();
    while s.machine().cycle() < 2_000_000_000 {
        s.run(1_000_000);
        console.push_str(&String::from_utf8_lossy(&s.take_output()));
        if console.contains(text) {
            return console;
        }
    }
    panic!("{text:?} never appeared: {console}");
}

#[test]
fn owners_and_conditions_decide_which_stops_are_reported() {
    let Some(mut s) = at_prompt() else { return };
    s.strace_on(Filter::default())
        .expect("the tracer hooks the trampoline");
    let (uservec, _) = s.views.tracer.hooks().expect("hooks");
    // The user's conditional breakpoint shares the tracer's pc: only an exec ecall counts.
    let (n, label) = s
        .add_user_breakpoint(&Spec::Syscall("exec".into()))
        .expect("resolves");
    assert_eq!((n, label.as_str()), (1, "syscall exec (uservec)"));
    assert!(
        s.add_user_breakpoint(&Spec::Syscall("exec".into()))
            .is_err(),
        "set twice"
    );
    s.type_input(b"echo hi\n");
    let mut stops = 0;
    let hart = loop {
        match s.run(1_000_000) {
            Stop::Breakpoint { hart } => break hart,
            Stop::Budget | Stop::Idle => stops += 1,
            other => panic!("{other:?}"),
        }
        assert!(stops < 10_000, "no exec");
    };
    let h = &s.machine().harts[hart];
    assert_eq!((h.pc, h.x[17]), (uservec, abi::syscall::nr::exec as u64));
    assert!(s.hit_by(Owner::User(1)) && !s.hit_by(Owner::Tracer));
    assert_eq!(
        s.current_proc(hart).and_then(|p| p.name).as_deref(),
        Some("sh")
    );
    // The tracer saw the calls before the exec (sh's reads of "echo hi\n", fork).
    let names: Vec<String> = s.take_records().iter().map(|r| r.call_name()).collect();
    assert!(names.iter().any(|n| n == "fork"), "{names:?}");
    // Deleting the user's breakpoint leaves the tracer's hook at the same pc.
    assert_eq!(s.delete_user_breakpoint(1).as_deref(), Ok(label.as_str()));
    assert!(s.machine().breakpoints().contains(&uservec));
    assert!(s.delete_user_breakpoint(1).is_err());
    // Numbers are not reused.
    let (n, _) = s
        .add_user_breakpoint(&Spec::Func("sys_exec".into()))
        .unwrap();
    assert_eq!(n, 2);
    s.strace_off();
    assert!(
        !s.machine().breakpoints().contains(&uservec),
        "the hooks go with the tracer"
    );
    assert_eq!(s.breakpoints().len(), 1);
}

#[test]
fn finish_returns_to_the_caller_and_the_timeline_goes_back() {
    let Some(mut s) = at_prompt() else { return };
    s.set_time_travel(true);
    s.strace_on(Filter::default())
        .expect("the tracer hooks the trampoline");
    let r = s.resolve(&Spec::Func("sys_exec".into())).expect("resolves");
    s.type_input(b"echo hi\n");
    let hart = s
        .run_to(Owner::Walk, r.clone(), 1_000_000_000)
        .expect("exec");
    assert!(
        s.breakpoints().iter().all(|b| b.owner == Owner::Tracer),
        "run_to's goes"
    );
    let at = s.position();
    let regs = s.machine().harts[hart].x;
    assert_eq!(s.machine().harts[hart].pc, r.addr);

    // `finish` runs sys_exec to its return, into the caller (syscall dispatch).
    let done = s.step(hart, StepKind::Finish, std::time::Duration::from_secs(20));
    assert_eq!(done.stop, None, "{}", done.why);
    assert_eq!(done.why, "returned");
    let k = s.views.syms.kernel.as_ref().unwrap();
    let (caller, _) = k.symbol_at(s.machine().harts[hart].pc).expect("a symbol");
    assert!(
        caller.name.contains("syscall"),
        "returned into {}",
        caller.name
    );
    let after = (
        s.position(),
        s.machine().harts[hart].x,
        s.machine().harts[hart].pc,
    );

    // reverse-finish from syscall's body goes back through sys_exec, out of syscall, to
    // its call in usertrap; forward again.
    match s.reverse(hart, StepKind::Finish) {
        Ok(Reversed::At { .. }) => {
            let k = s.views.syms.kernel.as_ref().unwrap();
            let (f, _) = k.symbol_at(s.machine().harts[hart].pc).expect("a symbol");
            assert!(
                f.name.contains("usertrap"),
                "reverse-finish went to {}",
                f.name
            );
        }
        other => panic!("{other:?}"),
    }
    // reverse-step by line from there: still in usertrap, on an earlier line.
    let line = s.line_of(hart);
    assert!(matches!(
        s.reverse(hart, StepKind::Line),
        Ok(Reversed::At { .. })
    ));
    assert_ne!(s.line_of(hart), line);
    s.goto(after.0).expect("forward");

    // Back to the stop at sys_exec: the same registers; forward again: the same return.
    s.goto(at).expect("back");
    assert_eq!(s.position(), at);
    assert_eq!(s.machine().harts[hart].pc, r.addr);
    assert_eq!(s.machine().harts[hart].x, regs);
    s.goto(after.0).expect("forward");
    assert_eq!(
        (
            s.position(),
            s.machine().harts[hart].x,
            s.machine().harts[hart].pc
        ),
        after
    );

    // One instruction back on that hart, twice.
    let pc_now = s.machine().harts[hart].pc;
    assert_eq!(
        s.reverse_step(hart),
        Ok(Reversed::At {
            hart,
            stop: Stop::Budget
        })
    );
    let back1 = (s.position(), s.machine().harts[hart].pc);
    assert!(back1.0 < after.0 && back1.1 != pc_now, "{back1:x?}");
    s.reverse_step(hart).expect("again");
    assert!(s.position() < back1.0);
    s.goto(after.0).expect("forward");

    // Back to the breakpoint at sys_exec, set now: the last hit before the present.
    s.add_user_breakpoint(&Spec::Func("sys_exec".into()))
        .unwrap();
    match s.reverse_continue().expect("reverse-continue") {
        Reversed::At {
            hart: h,
            stop: Stop::Breakpoint { .. },
        } => {
            assert_eq!((h, s.position()), (hart, at));
            assert_eq!(s.machine().harts[hart].x, regs);
            assert!(s.hit_by(Owner::User(1)));
        }
        other => panic!("{other:?}"),
    }
    // Continuing from there runs past the breakpoint, as after a forward stop.
    let stop = s.run(10_000);
    assert!(!matches!(stop, Stop::Breakpoint { .. }) || s.position() > at);
}

#[test]
fn reverse_steps_undo_steps_exactly() {
    let Some(mut s) = at_prompt() else { return };
    s.set_time_travel(true);
    s.strace_on(Filter::default())
        .expect("the tracer hooks the trampoline");
    s.add_user_breakpoint(&Spec::Func("syscall".into()))
        .unwrap();
    s.type_input(b"ls\n");
    let hart = loop {
        if let Stop::Breakpoint { hart } = s.run(1_000_000) {
            break hart;
        }
    };
    s.delete_user_breakpoint(1).unwrap();
    let state = |s: &Session| {
        (
            s.position(),
            s.machine().harts[hart].pc,
            s.machine().harts[hart].x,
        )
    };
    let mut seen = vec![state(&s)];
    for _ in 0..3 {
        s.step_instruction(hart);
        seen.push(state(&s));
    }
    for i in (0..3).rev() {
        assert_eq!(
            s.reverse_step(hart),
            Ok(Reversed::At {
                hart,
                stop: Stop::Budget
            })
        );
        assert_eq!(state(&s), seen[i], "back to step {i}");
    }
    // Forward again follows the history: the same three steps.
    for (i, want) in seen.iter().enumerate().skip(1) {
        s.step_instruction(hart);
        assert_eq!(&state(&s), want, "forward to step {i}");
    }
}

#[test]
fn when_finds_the_instruction_that_last_wrote_an_fd_slot_and_a_pte() {
    let Some(mut s) = boot(1) else { return };
    s.set_time_travel(true);
    run_until(&mut s, "$ ");
    // sh (pid 2) got fd 0 from init when init forked it: fork copied the slot.
    let (r, slot) = s
        .when_written(&WhenSpec::Fd { pid: 2, n: 0 })
        .expect("goes back");
    let Reversed::At {
        hart,
        stop: Stop::Watchpoint { addr, .. },
    } = r
    else {
        panic!("{r:?}");
    };
    assert_eq!(addr, slot);
    let k = s.views.syms.kernel.as_ref().unwrap();
    let pc = s.machine().harts[hart].pc;
    let (f, _) = k.symbol_at(pc).expect("a symbol");
    assert!(f.name.contains("fork"), "written in {}", f.name);
    // Forward again to the present, then sh's stack page: mapped by exec (or fork).
    let present = s.timeline().present();
    s.goto(present).expect("forward");
    let sp = 0x1000 * 3 + 0x800; // in sh's first pages, which exec maps
    let (r, _) = s
        .when_written(&WhenSpec::Pte { pid: 2, va: sp })
        .expect("goes back");
    assert!(
        matches!(
            r,
            Reversed::At {
                stop: Stop::Watchpoint { .. },
                ..
            }
        ),
        "{r:?}"
    );
}

#[test]
fn a_recording_replays_in_a_fresh_session_and_bad_files_say_why() {
    let Some(mut s) = boot(2) else { return };
    s.set_time_travel(true);
    let mut console = run_until(&mut s, "$ ").into_bytes();
    s.type_input(b"echo recorded\n");
    // A debugger's steps are part of the history too.
    for _ in 0..5 {
        s.step_instruction(s.busy_hart());
    }
    console.extend(run_until(&mut s, "recorded\n$ ").into_bytes());
    let rec = s
        .recording(&console)
        .expect("the timeline was on from boot");
    assert!(
        rec.events
            .iter()
            .any(|(_, e)| matches!(e, crate::Event::Step(_)))
    );
    let bytes = rec.encode();
    let back = Recording::decode(&bytes).expect("decodes");
    assert_eq!(back, rec);
    assert_eq!(Session::check_recording(&back), Ok(()));

    // A different console is found; so are bad files.
    let mut other = back.clone();
    other.console[3] ^= 1;
    assert!(
        Session::check_recording(&other)
            .unwrap_err()
            .contains("console differs from byte 3")
    );
    assert_eq!(
        Recording::decode(b"hello"),
        Err(RecordingError::NotARecording)
    );
    assert_eq!(
        Recording::decode(&bytes[..bytes.len() / 2]),
        Err(RecordingError::Truncated)
    );
    let mut flipped = bytes.clone();
    flipped[100] ^= 0x40;
    assert_eq!(Recording::decode(&flipped), Err(RecordingError::Checksum));
    // Random damage never panics.
    for i in (0..bytes.len()).step_by(bytes.len() / 97 + 1) {
        let mut b = bytes.clone();
        b[i] = b[i].wrapping_add(1);
        let _ = Recording::decode(&b);
        let _ = Recording::decode(&bytes[..i]);
    }
}

#[test]
fn going_back_to_a_mark_and_typing_the_same_input_reaches_the_same_stop() {
    let Some(mut s) = boot(3) else { return };
    s.set_time_travel(true);
    s.strace_on(Filter::default())
        .expect("the tracer hooks the trampoline");
    run_until(&mut s, "$ ");
    let mark = s.mark();
    let fork = s.resolve(&Spec::Syscall("fork".into())).expect("resolves");
    let play = |s: &mut Session| {
        s.type_input(b"echo hi | wc\n");
        let h = s
            .run_to(Owner::Walk, fork.clone(), 2_000_000_000)
            .expect("fork");
        (
            h,
            s.machine().instret(),
            s.position(),
            s.machine().harts[h].x,
        )
    };
    let first = play(&mut s);
    s.goto_mark(mark).expect("back to the mark");
    assert_eq!(s.mark(), mark);
    let again = play(&mut s);
    assert_eq!(again, first);
}

#[test]
fn landmarks_are_noted_once_and_going_to_one_stops_at_its_instruction() {
    use crate::landmarks::Kind;
    let Some(mut s) = boot(2) else { return };
    s.set_time_travel(true);
    run_until(&mut s, "$ ");
    s.type_input(b"echo hi\n");
    run_until(&mut s, "hi\n");
    let all = s.landmarks();
    let of = |k: Kind| all.iter().filter(|l| l.kind == k).count();
    assert!(of(Kind::Syscall) > 20, "{all:?}");
    assert_eq!(of(Kind::Input), 1);
    assert!(of(Kind::Snapshot) >= 1);
    assert!(all.windows(2).all(|w| w[0].pos <= w[1].pos));
    // The last write(1, "hi\n"...) of echo: going there stops its hart at the ecall.
    let write = *all
        .iter()
        .rev()
        .find(|l| l.kind == Kind::Syscall && l.code == abi::syscall::nr::write as u64)
        .expect("a write");
    s.goto(write.pos).expect("goto");
    let h = &s.machine().harts[write.hart];
    assert_eq!(h.mode, machine::cpu::Mode::User);
    assert_eq!(h.x[17], abi::syscall::nr::write as u64);
    let mut insn = [0u8; 4];
    assert!(crate::xv6::read_virt(
        s.machine(),
        h.csr.satp,
        h.pc,
        &mut insn
    ));
    assert_eq!(
        u32::from_le_bytes(insn),
        0x0000_0073,
        "ecall at {:#x}",
        h.pc
    );
    // Replaying the past noted nothing twice; the previous landmark is before us.
    assert_eq!(s.landmarks(), all);
    let before = s
        .landmark_near(false, &[Kind::Syscall])
        .expect("an earlier call");
    assert!(before.pos < write.pos);
    let next = s.landmark_near(true, &[]).expect("later ones");
    assert!(next.pos > write.pos);
    let bar = s.timeline_bar(40);
    assert_eq!(bar.cells.len(), 40);
    assert!(bar.current < 40 && bar.present >= write.pos);
    assert!(bar.cells.contains(&Some(Kind::Input)), "{bar:?}");
    // Typing other input here makes a new future: what lay ahead is forgotten.
    s.type_input(b"x");
    assert!(s.landmarks().iter().all(|l| l.pos <= s.position()));
}

#[test]
fn snapshots_are_thinned_to_their_byte_limit_and_every_position_stays_reachable() {
    // Unbounded first, to learn what the snapshots of a boot hold; then a little less (most
    // pages of a boot are written once, and the snapshot after the write holds them
    // whatever is dropped: only about 3 MiB of this boot's can go).
    let Some(mut s) = boot(2) else { return };
    s.set_time_travel(true);
    s.set_snapshot_limits(1_000_000, 1_000, usize::MAX);
    run_until(&mut s, "$ ");
    let unbounded = s.timeline().snapshot_bytes();
    let limit = unbounded - (1 << 20);
    let Some(mut s) = boot(2) else { return };
    s.set_time_travel(true);
    s.set_snapshot_limits(1_000_000, 1_000, limit);
    run_until(&mut s, "$ ");
    let t = s.timeline();
    let n = t.snapshot_positions().len();
    assert!(n > 3, "{n} snapshots");
    assert!(
        t.snapshot_bytes() <= limit,
        "{} > {limit}",
        t.snapshot_bytes()
    );
    let p = t.snapshot_positions();
    assert_eq!(p[0], 0);
    // Any position still replays to the same state.
    let at = p[1] + 12_345;
    let present = s.position();
    s.goto(at).expect("back");
    let regs = s.machine().harts[0].x;
    s.goto(present).expect("forward");
    s.goto(at).expect("back again");
    assert_eq!(s.machine().harts[0].x, regs);
}

#[test]
fn debugger_writes_are_replayed_and_recorded() {
    let Some(mut s) = boot(2) else { return };
    s.set_time_travel(true);
    run_until(&mut s, "$ ");
    let addr = 0x8700_0000u64;
    let read = |s: &Session| {
        let mut b = [0u8; 8];
        assert!(s.machine().read_phys(addr, &mut b));
        b
    };
    let before_pos = s.position();
    let old = read(&s);
    assert!(s.write_phys(addr, &[0xab; 8]));
    assert!(!s.write_phys(0x1000, &[1]), "not RAM");
    assert!(s.write_register(1, crate::Reg::X(5), 0x1234));
    assert!(!s.write_register(1, crate::Reg::Priv, 2), "2 is reserved");
    assert!(!s.write_register(7, crate::Reg::Pc, 0), "no hart 7");
    assert_eq!(s.machine().harts[1].x[5], 0x1234);
    s.type_input(b"echo hi\n");
    run_until(&mut s, "hi\n");
    let (after, regs) = (read(&s), s.machine().harts[1].x);
    let present = s.position();
    s.goto(before_pos).expect("back");
    assert_eq!(read(&s), old, "before the write");
    s.goto(present).expect("forward");
    assert_eq!((read(&s), s.machine().harts[1].x), (after, regs));
    // From the past: the recording goes to the present, and replays the writes.
    s.goto(before_pos).expect("back");
    let rec = s.recording_to_present(None).expect("records");
    assert_eq!(s.position(), present);
    assert!(
        rec.events
            .iter()
            .any(|(_, e)| matches!(e, Event::WritePhys { .. }))
    );
    assert!(
        rec.events
            .iter()
            .any(|(_, e)| matches!(e, Event::WriteReg { .. }))
    );
    let decoded = Recording::decode(&rec.encode()).expect("decodes");
    assert!(String::from_utf8_lossy(&decoded.console).contains("$ echo hi\nhi\n"));
    Session::check_recording(&decoded).expect("replays exactly");
}

// Input typed while every hart waits used to replay into another schedule: a run's budget
// ended inside the zero-cost moves past waiting harts, an idle stop after them, at the same
// position and elapsed time (`Machine::settle` makes both end alike).
#[test]
fn reverse_step_after_steps_at_a_breakpoint_reached_through_idle_time() {
    // As the TUI drives it: idle stops, the tracer on, keys typed one at a time between
    // runs, some while the harts idle.
    for (seed, tracing) in [(1u64, true), (2, false), (3, false), (4, true)] {
        let Some(mut s) = boot(3) else { return };
        s.set_idle_stops(true);
        s.set_time_travel(true);
        if tracing {
            s.strace_on(Filter::default()).expect("tracer");
        }
        run_until(&mut s, "$ ");
        s.add_user_breakpoint(&Spec::parse("sys_exec").expect("spec"))
            .expect("resolves");
        let mut rng = seed;
        let mut next = || {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            rng >> 33
        };
        let mut hit = None;
        for &b in b"echo hi\r" {
            for _ in 0..next() % 4 {
                s.run(1 + next() % 1_000_000);
            }
            s.type_input(&[b]);
        }
        for _ in 0..10_000 {
            if let Stop::Breakpoint { hart } = s.run(1_000_000) {
                hit = Some(hart);
                break;
            }
        }
        let h = hit.expect("exec");
        let limit = std::time::Duration::from_secs(5);
        s.step(h, StepKind::Instruction, limit);
        let (pc, regs) = (s.machine().harts[h].pc, s.machine().harts[h].x);
        s.step(h, StepKind::Instruction, limit);
        assert_ne!(s.machine().harts[h].pc, pc);
        s.reverse_step(h)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(
            (s.machine().harts[h].pc, s.machine().harts[h].x),
            (pc, regs),
            "seed {seed}"
        );
    }
}

#[test]
fn where_runs_are_split_never_changes_what_the_machine_does() {
    // The same 80 M positions of a 3-hart boot run in 1 M slices, in odd-sized slices, and
    // stopping at a breakpoint hit many times on the way: the same state at the end.
    let state = |s: &Session| {
        let m = s.machine();
        let harts: Vec<_> = m
            .harts
            .iter()
            .map(|h| {
                (
                    h.pc,
                    h.x,
                    h.instret(),
                    h.csr.mstatus,
                    h.csr.sepc,
                    h.csr.scause,
                )
            })
            .collect();
        (m.position(), m.elapsed(), harts)
    };
    let goal = 80_000_000;
    let run_to = |s: &mut Session, sizes: &[u64], stop_at_breakpoints: bool| {
        let mut i = 0;
        while s.position() < goal {
            let n = sizes[i % sizes.len()].min(goal - s.position());
            i += 1;
            match s.run(n) {
                Stop::Breakpoint { .. } => assert!(stop_at_breakpoints),
                Stop::Budget | Stop::Idle => {}
                other => panic!("{other:?}"),
            }
        }
    };
    let Some(mut a) = boot(3) else { return };
    run_to(&mut a, &[1_000_000], false);
    let Some(mut b) = boot(3) else { return };
    run_to(&mut b, &[7_919, 123_457, 1, 250_001, 3], false);
    for (h, (x, y)) in state(&a).2.iter().zip(state(&b).2.iter()).enumerate() {
        if x != y {
            eprintln!(
                "hart {h}: pc {:#x} vs {:#x}, instret {} vs {}",
                x.0, y.0, x.2, y.2
            );
        }
    }
    assert_eq!(state(&a), state(&b), "budget splits");
    let Some(mut c) = boot(3) else { return };
    let trap = c
        .resolve(&Spec::parse("usertrap").expect("spec"))
        .expect("usertrap");
    c.set_breakpoint(Owner::User(1), trap);
    run_to(&mut c, &[1_000_000], true);
    assert_eq!(state(&a), state(&c), "breakpoint splits");
}

#[test]
fn every_state_of_an_interactive_run_is_reached_again_exactly() {
    // As the TUI runs the machine: idle stops on, runs of any length, keys typed one at a
    // time between them (some while every hart waits). Going to each state seen, by its
    // mark, gives the same harts and the same schedule.
    for seed in [2u64, 3, 7] {
        let Some(mut s) = boot(3) else { return };
        s.set_idle_stops(true);
        s.set_time_travel(true);
        run_until(&mut s, "$ ");
        let mut rng = seed;
        let mut next = || {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            rng >> 33
        };
        let state = |s: &Session| {
            let m = s.machine();
            let harts: Vec<_> = m.harts.iter().map(|h| (h.pc, h.x, h.cycles())).collect();
            (s.mark(), m.schedule_summary(), harts)
        };
        let mut seen = Vec::new();
        for &b in b"echo hi\r" {
            for _ in 0..next() % 4 {
                s.run(1 + next() % 1_000_000);
                seen.push(state(&s));
            }
            seen.push(state(&s));
            s.type_input(&[b]);
        }
        for _ in 0..100 {
            s.run(1_000_000);
            seen.push(state(&s));
        }
        for want in &seen {
            s.goto_mark(want.0)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            assert_eq!(&state(&s), want, "seed {seed}");
        }
    }
}

#[test]
fn contention_mode_is_deterministic_per_seed_and_recorded() {
    let boot_seeded = |seed: u64| {
        let kernel = std::fs::read(rust_kernel_path()?).expect("the kernel reads");
        Some(
            Session::new(Boot {
                kernel,
                raw: false,
                disk: Some(rust_fs_img()?),
                config: Config {
                    harts: 3,
                    quantum: 1_000,
                    interleave: Some(seed),
                    ..Config::default()
                },
            })
            .expect("boots"),
        )
    };
    let schedule = |s: &mut Session| {
        s.set_time_travel(true);
        let out = run_until(s, "$ ");
        let m = s.machine();
        let cycles: Vec<u64> = m.harts.iter().map(|h| h.cycles()).collect();
        (out, m.position(), cycles)
    };
    let Some(mut a) = boot_seeded(7) else { return };
    let Some(mut b) = boot_seeded(7) else { return };
    let Some(mut c) = boot_seeded(8) else { return };
    let (ra, rb, rc) = (schedule(&mut a), schedule(&mut b), schedule(&mut c));
    assert_eq!(ra, rb, "the same seed, the same run");
    assert_ne!(ra.2, rc.2, "another seed, another interleaving");
    assert!(ra.0.contains("$ ") && rc.0.contains("$ "), "both boot");
    // The seed is part of a recording, and the replay follows it.
    let rec = a.recording(ra.0.as_bytes()).expect("records");
    let back = Recording::decode(&rec.encode()).expect("decodes");
    assert_eq!(back.boot.config.interleave, Some(7));
    Session::check_recording(&back).expect("replays exactly");
}
