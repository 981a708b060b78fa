//! The session on the bundled Rust kernel: owners, conditions, stepping and replay.

use super::*;
use crate::StepKind;
use crate::inspect::testboot::{rust_fs_img, rust_kernel_path};
use machine::Config;

/// A session on the Rust kernel the build made, at the shell prompt; None (skipped, said on
/// stderr) when the kernel is not built.
fn at_prompt() -> Option<Session> {
    let kernel = std::fs::read(rust_kernel_path()?).expect("the kernel reads");
    let mut s = Session::new(Boot {
        kernel,
        raw: false,
        disk: Some(rust_fs_img()?),
        config: Config {
            harts: 2,
            ..Config::default()
        },
    })
    .expect("boots");
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
fn finish_returns_to_the_caller_and_replay_reaches_the_same_state() {
    let Some(mut s) = at_prompt() else { return };
    let r = s.resolve(&Spec::Func("sys_exec".into())).expect("resolves");
    let typed_at = s.machine().instret();
    s.type_input(b"echo hi\n");
    let hart = s
        .run_to(Owner::Walk, r.clone(), 1_000_000_000)
        .expect("exec");
    assert!(
        s.breakpoints().is_empty(),
        "run_to takes its breakpoint away"
    );
    assert!(s.machine().instret() > typed_at);
    let at = s.machine().instret();
    let pc = s.machine().harts[hart].pc;
    assert_eq!(pc, r.addr);

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

    // Booting again and replaying to the stop reaches the same state.
    s.replay_to(at).expect("replays");
    assert_eq!(s.machine().instret(), at);
    assert_eq!(s.machine().harts[hart].pc, pc);
}
