use super::*;
use crate::inspect::MemImage;
use crate::inspect::pagetable::{PTE_R, PTE_U, PTE_V, PTE_W};
use crate::inspect::testboot::Booted;
use machine::machine::Stop;

const BASE: u64 = 0x8000_0000;
const SATP: u64 = 8 << 60 | BASE >> 12;

/// A user address space: root at BASE, one data page at va 0x1000 (pa BASE+3 pages).
fn space() -> MemImage {
    let mut m = MemImage::new(BASE, 4 * 4096);
    let table = |pa: u64| (pa >> 12) << 10 | PTE_V;
    m.write_u64(BASE, table(BASE + 0x1000));
    m.write_u64(BASE + 0x1000, table(BASE + 0x2000));
    m.write_u64(
        BASE + 0x2000 + 8,
        ((BASE + 0x3000) >> 12) << 10 | PTE_V | PTE_R | PTE_W | PTE_U,
    );
    m
}

fn ev(cause: Option<u64>, from: Mode, to: Mode, a: [u64; 8], cycle: u64) -> Event {
    Event {
        cause,
        tval: 0,
        pc: 0x100,
        target: 0x104,
        from,
        to,
        satp: SATP,
        a,
        cycle,
        position: cycle,
    }
}

fn call(
    t: &mut Tracer,
    mem: &MemImage,
    nr: u64,
    args: [u64; 6],
    result: u64,
) -> Vec<std::sync::Arc<Record>> {
    let mut a = [0u64; 8];
    a[..6].copy_from_slice(&args);
    a[7] = nr;
    let mut done = Vec::new();
    t.event(
        0,
        &ev(Some(8), Mode::User, Mode::Supervisor, a, 10),
        mem,
        &mut NoResolver,
        &mut done,
    );
    let mut r = [0u64; 8];
    r[0] = result;
    t.event(
        1,
        &ev(None, Mode::Supervisor, Mode::User, r, 20),
        mem,
        &mut NoResolver,
        &mut done,
    );
    done
}

#[test]
fn filters_parse_and_apply() {
    let f = Filter::parse("open, read,pid=3,proc=sh,mask=0x20").unwrap();
    assert_eq!(f.calls, vec![15, 5]);
    assert_eq!(
        (f.pids.clone(), f.procs.clone(), f.mask),
        (vec![3], vec!["sh".to_string()], Some(32))
    );
    assert!(Filter::parse("opne").is_err());
    assert!(Filter::parse("pid=x").is_err());
    assert!(Filter::parse("uid=3").is_err());
    assert_eq!(Filter::parse("").unwrap(), Filter::default());
    assert_eq!(Filter::parse("  ").unwrap(), Filter::default());
    for empty in [
        "proc=",
        "pid=",
        "mask= ",
        ",,,",
        ",",
        "read,,write",
        "read,",
    ] {
        assert!(Filter::parse(empty).is_err(), "{empty:?} accepted");
    }
    let mut r = Record {
        seq: 0,
        hart: 0,
        pid: Some(3),
        name: Some("sh".into()),
        nr: 5,
        args: [0; 6],
        shown: vec![],
        result: None,
        cycle_enter: 0,
        cycle_exit: None,
    };
    let mask = Filter::parse("mask=32").unwrap();
    assert!(mask.keeps(&r));
    r.nr = 16;
    assert!(!mask.keeps(&r));
    assert!(!Filter::parse("pid=4").unwrap().keeps(&r));
    assert!(Filter::parse("proc=sh,write").unwrap().keeps(&r));
}

#[test]
fn flags_show_as_names() {
    assert_eq!(open_flags(0), "O_RDONLY");
    assert_eq!(open_flags(0x201), "O_WRONLY|O_CREATE");
    assert_eq!(open_flags(0x602), "O_RDWR|O_CREATE|O_TRUNC");
}

#[test]
fn strings_and_buffers_are_read_through_the_page_table() {
    let mut mem = space();
    mem.write(BASE + 0x3000, b"README\0hello\n\0");
    let mut t = Tracer::new(2, Filter::default());
    let done = call(&mut t, &mem, 15, [0x1000, 0, 0, 0, 0, 0], 3);
    assert_eq!(
        done[0].to_string(),
        "[0] ? ?: open(\"README\", O_RDONLY) = 3"
    );
    let done = call(&mut t, &mem, 16, [1, 0x1007, 6, 0, 0, 0], 6);
    assert_eq!(
        done[0].to_string(),
        "[0] ? ?: write(1, \"hello\\n\", 6) = 6"
    );
    // read fills its buffer: shown at return, as many bytes as were read.
    let done = call(&mut t, &mem, 5, [0, 0x1000, 100, 0, 0, 0], 2);
    assert_eq!(done[0].to_string(), "[0] ? ?: read(0, \"RE\", 100) = 2");
    // An unmapped pointer shows as an address; a failing call leaves its buffer alone.
    let done = call(&mut t, &mem, 15, [0x9000, 0, 0, 0, 0, 0], u64::MAX);
    assert_eq!(done[0].to_string(), "[0] ? ?: open(0x9000, O_RDONLY) = -1");
    // pipe's fds at return.
    mem.write(BASE + 0x3100, &[3, 0, 0, 0, 4, 0, 0, 0]);
    let done = call(&mut t, &mem, 4, [0x1100, 0, 0, 0, 0, 0], 0);
    assert_eq!(done[0].to_string(), "[0] ? ?: pipe([3, 4]) = 0");
    // Ring of 2: the oldest three are gone.
    assert_eq!(t.records().count(), 2);
    assert_eq!(t.dropped, 3);
    assert!(t.render()[0].contains("3 older records dropped"));
}

#[test]
fn exit_is_recorded_at_entry_and_strays_are_ignored() {
    let mem = space();
    let mut t = Tracer::new(16, Filter::default());
    let mut done = Vec::new();
    let mut a = [0u64; 8];
    a[7] = 2;
    t.event(
        0,
        &ev(Some(8), Mode::User, Mode::Supervisor, a, 5),
        &mem,
        &mut NoResolver,
        &mut done,
    );
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].to_string(), "[0] ? ?: exit(0) = ?");
    // A return to U with nothing pending (after a timer interrupt) records nothing.
    t.event(
        0,
        &ev(None, Mode::Supervisor, Mode::User, [0; 8], 9),
        &mem,
        &mut NoResolver,
        &mut done,
    );
    // A timer interrupt from U is not a syscall.
    t.event(
        0,
        &ev(Some(1 << 63 | 5), Mode::User, Mode::Supervisor, [0; 8], 12),
        &mem,
        &mut NoResolver,
        &mut done,
    );
    assert_eq!(done.len(), 1);
}

/// Without symbols, before paging is on, the tracer cannot find the trampoline: it keeps
/// the event logs on and hooks the trampoline once a hart pages.
#[test]
fn install_without_symbols_waits_for_paging() {
    let Some(dir) = crate::inspect::testboot::mit_dir() else {
        return;
    };
    let elf = std::fs::read(dir.join("kernel/kernel")).unwrap();
    let mut m = Machine::new(
        Default::default(),
        machine::machine::Image::Elf(&elf),
        Some(std::fs::read(dir.join("fs.img")).unwrap()),
    )
    .unwrap();
    let mut t = Tracer::new(64, Filter::default());
    assert!(t.install(&mut m, None).is_err());
    assert!(m.harts.iter().all(|h| h.events.is_some()) && !t.exact());
    // MIT's kinit fills all free pages byte by byte: paging comes after ~1e9 cycles.
    for _ in 0..400 {
        let stop = m.run(10_000_000);
        let (_, stop) = t.after_run(&mut m, stop, &mut NoResolver);
        if t.exact() {
            break;
        }
        assert!(matches!(stop, Some(Stop::Budget | Stop::Idle)), "{stop:?}");
    }
    assert!(t.exact(), "hooked once the kernel turned paging on");
    let (uservec, sret) = t.hooks().expect("hooks");
    assert_eq!(
        uservec,
        abi::memlayout::TRAMPOLINE,
        "uservec starts the page"
    );
    assert!(sret > uservec && sret < uservec + 4096, "{sret:#x}");
}

/// MIT's kernel on our machine: `ls | wc` traced with pids and names read through DWARF.
#[test]
fn mit_ls_pipe_wc() {
    let Some(mut b) = Booted::mit(3) else { return };
    let syms = crate::inspect::symbols::Symbols::parse("kernel", &b.kernel_elf).unwrap();
    let kernel = Kernel::new(&syms).unwrap();
    let mut resolver = KernelResolver::new(&kernel);
    let mut t = Tracer::new(10_000, Filter::default());
    t.install(&mut b.m, Some(&syms)).expect("install");
    // The session sets the hooks as breakpoints; here the test does.
    let (uservec, sret) = t.hooks().expect("hooks");
    b.m.add_breakpoint(uservec);
    b.m.add_breakpoint(sret);
    // The user's own breakpoint (on the kernel's sys_pipe) must still be reported.
    let sys_pipe = syms.lookup("sys_pipe").unwrap().addr;
    b.m.add_breakpoint(sys_pipe);
    b.type_line("ls | wc\n");
    let mut all = Vec::new();
    let mut user_stops = 0;
    let ok = b.run_until_with("$ ", 2_000_000_000, &mut |m, stop| {
        let (recs, stop) = t.after_run(m, stop, &mut resolver);
        all.extend(recs);
        if let Some(Stop::Breakpoint { hart }) = stop {
            assert_eq!(m.harts[hart].pc, sys_pipe);
            user_stops += 1;
        }
        true
    });
    assert!(ok, "{}", b.console);
    assert_eq!(user_stops, 1, "sh calls pipe once");
    t.uninstall(&mut b.m);
    assert_eq!(t.hooks(), None);
    let lines: Vec<String> = all.iter().map(|r| r.to_string()).collect();
    println!("{}", lines.join("\n"));
    let has = |s: &str| lines.iter().any(|l| l.contains(s));
    assert!(has(" sh: pipe([3, 4]) = 0"), "{lines:#?}");
    assert!(has(" ls: open(\".\", O_RDONLY) = 3"), "{lines:#?}");
    // Buffers are read when the call returns: sh reads the command a byte at a time.
    let typed: String = all
        .iter()
        .filter(|r| r.pid == Some(2) && r.call_name() == "read")
        .map(|r| r.shown[1].trim_matches('"').to_string())
        .collect();
    // The read of the 'l' was already in flight when the tracer was installed at the prompt.
    assert_eq!(typed, "s | wc\\n");
    assert!(has(": exec(\"ls\", [\"ls\"]) = 1"), "{lines:#?}");
    assert!(has(": exec(\"wc\", [\"wc\"]) = 1"), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" wc: write(1, \"") && !l.ends_with("= -1")),
        "{lines:#?}"
    );
    let fork = all
        .iter()
        .find(|r| r.nr == 1 && r.name.as_deref() == Some("sh"))
        .expect("sh forks");
    assert!(
        fork.result.unwrap() > 2,
        "fork returns the child's pid in the parent"
    );
    assert_eq!(t.events_lost, 0);
    // Filtering by the trace lab's mask (read = bit 5).
    let only_reads = Filter::parse("mask=32").unwrap();
    assert!(
        all.iter()
            .filter(|r| only_reads.keeps(r))
            .all(|r| r.call_name() == "read")
    );
}
