use super::*;
use crate::inspect::testboot::{self, Booted};
use std::path::Path;

/// Runs `line` at the console with the tracer on, to the next prompt.
fn run_traced(b: &mut Booted, v: &mut Views, line: &str) -> Vec<String> {
    // The tracer's hooks, as the session would set them: the records are then exact.
    if let Some((uservec, sret)) = v.tracer.hooks() {
        b.m.add_breakpoint(uservec);
        b.m.add_breakpoint(sret);
    }
    b.type_line(line);
    let mut out = Vec::new();
    let ok = b.run_until_with("$ ", 2_000_000_000, &mut |m, stop| {
        let (recs, stop) = v.after_run(m, stop);
        out.extend(recs.iter().map(|r| r.to_string()));
        stop.is_none_or(|s| !matches!(s, Stop::Breakpoint { .. }))
    });
    assert!(ok, "{}", b.console);
    out
}

/// The views on a kernel booted to its first prompt. The user programs' symbols come from
/// `user_dir`, or else from the disk (MIT's mkfs keeps them; ours strips them).
fn check_views(b: &mut Booted, user_dir: Option<&Path>) {
    let mut v = Views::new(Some(&b.kernel_elf.clone()));
    assert!(v.kernel.is_some(), "{:?}", v.kernel_error);
    let users = match user_dir {
        Some(dir) => v.syms.add_user_dir(dir).expect("user programs"),
        None => v.add_users_from_disk(b.m.bus.virtio.disk()),
    };
    assert!(users >= 10, "{users} user programs");
    let m = &mut b.m;
    // ps: a header, then init (pid 1) and its shell (pid 2), both asleep at the prompt.
    let ps = v.command(m, "ps");
    let rows: Vec<Vec<&str>> = ps[1..]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 2, "{ps:#?}");
    // slot pid [ppid] state cpu sz pagetable killed name: init has no parent.
    assert_eq!(rows[0][1..3], ["1", "sleeping"], "{ps:#?}");
    assert_eq!(rows[0].last(), Some(&"init"), "{ps:#?}");
    assert_eq!(rows[1][1..4], ["2", "1", "sleeping"], "{ps:#?}");
    assert_eq!(rows[1].last(), Some(&"sh"), "{ps:#?}");
    // fds: sh's 0, 1 and 2 are the console init opened and dup'ed (3 refs in each).
    let fds = v.command(m, "fds 2");
    assert_eq!(fds[0], "pid 2 (sh)");
    assert_eq!(fds.len(), 5, "{fds:#?}");
    for fd in 0..3 {
        let row: Vec<&str> = fds[2 + fd].split_whitespace().collect();
        assert_eq!(
            row[..4],
            [&*fd.to_string(), "device", "6", "rw"],
            "{fds:#?}"
        );
        assert!(fds[2 + fd].contains("console (major 1)"), "{fds:#?}");
    }
    let pt = v.command(m, "pt 2");
    assert_eq!(pt[0], "address space of pid 2 (sh)");
    for name in [
        "text",
        "guard page",
        "user stack",
        "trapframe",
        "trampoline",
    ] {
        assert!(
            pt.iter().any(|l| l.ends_with(name)),
            "{name} missing: {pt:#?}"
        );
    }
    // The tree: the top of the address space is L2[255] -> L1[511] -> two leaves, the
    // trapframe (read-write) and the trampoline (read-execute), neither user-accessible.
    let tree = v.command(m, "pt 2 tree");
    let top: Vec<&str> = tree
        .iter()
        .skip_while(|l| !l.starts_with("L2[255] "))
        .map(|l| l.as_str())
        .collect();
    assert_eq!(top.len(), 4, "{tree:#?}");
    assert!(top[1].starts_with("  L1[511] "), "{tree:#?}");
    for (line, leaf, flags, name) in [
        (
            top[2],
            "    L0[510] 0x0000003fffffe000-",
            "V R W - - ",
            "trapframe",
        ),
        (
            top[3],
            "    L0[511] 0x0000003ffffff000-",
            "V R - X - ",
            "trampoline",
        ),
    ] {
        assert!(
            line.starts_with(leaf) && line.contains(flags) && line.ends_with(name),
            "{name}: {line}"
        );
    }
    let vm = v.command(m, "vmprint 2");
    assert!(vm[0].starts_with("page table 0x"));
    assert!(vm[1].starts_with(" ..0: pte 0x"), "{vm:#?}");
    let kpt = v.command(m, "pt kernel");
    for name in ["UART0", "virtio disk", "PLIC", "kernel text", "trampoline"] {
        assert!(
            kpt.iter().any(|l| l.ends_with(name)),
            "{name} missing: {kpt:#?}"
        );
    }
    assert!(v.command(m, "fds 77")[0].contains("no process 77"));
    assert!(v.command(m, "bogus")[0].contains("unknown command"));
    let regs = v.command(m, "regs 0");
    assert!(regs[0].starts_with("hart 0  mode "), "{regs:#?}");
    assert!(regs[1].starts_with("at "), "{regs:#?}");
    for cmd in [
        "ps",
        "fds 2",
        "pt 2",
        "pt 2 tree",
        "regs 0",
        "dis fork 6",
        "list fork",
        "sym 0x80000000",
    ] {
        println!("(monitor) {cmd}\n{}\n", v.command(m, cmd).join("\n"));
    }
    let dis = v.command(m, "dis _entry 4");
    assert_eq!(dis.len(), 4);
    assert!(
        dis[0].starts_with("0x0000000080000000 <_entry>   "),
        "{dis:#?}"
    );
    let list = v.command(m, "list fork");
    assert!(
        list.len() > 3 && list.iter().any(|l| l.starts_with("=>")),
        "{list:#?}"
    );
    let sym = v.command(m, "sym 0x80000000");
    assert!(sym[0].starts_with("_entry"), "{sym:#?}");

    assert_eq!(
        v.command(m, "ptsave 2")[0].split(" (").next(),
        Some("saved the page table of pid 2")
    );
    assert_eq!(v.command(m, "strace on"), vec!["syscall trace on"]);
    let trace = run_traced(b, &mut v, "ls | wc\n");
    let m = &mut b.m;
    assert!(
        trace.iter().any(|l| l.contains(" sh: pipe([3, 4]) = 0")),
        "{trace:#?}"
    );
    assert!(
        trace
            .iter()
            .any(|l| l.contains(" ls: open(\".\", O_RDONLY) = 3")),
        "{trace:#?}"
    );
    assert!(
        trace.iter().any(|l| l.contains(" wc: read(0, \"")),
        "{trace:#?}"
    );
    let shown = v.command(m, "strace show");
    assert_eq!(shown.len(), trace.len());
    // sh grew its heap (malloc) for the pipeline's command structures, or not: either way
    // the diff is well-formed and names the change of kind.
    let diff = v.command(m, "ptdiff 2");
    assert_eq!(
        diff[0],
        "changes in the page table of pid 2 (sh) since ptsave"
    );
    v.command(m, "strace off");
    assert_eq!(v.tracer.hooks(), None, "the hooks go with the trace");
    for pc in m.breakpoints().to_vec() {
        m.remove_breakpoint(pc); // what the session's registry does for them
    }
    assert_eq!(
        v.command(m, "strace on read,proc=wc"),
        vec!["syscall trace on (read,proc=wc)"]
    );
    v.tracer.clear();
    let trace = run_traced(b, &mut v, "echo hello | wc\n");
    assert!(
        !trace.is_empty() && trace.iter().all(|l| l.contains(" wc: read(")),
        "{trace:#?}"
    );
    assert!(
        trace
            .iter()
            .any(|l| l.contains("read(0, \"hello\\n\", 512) = 6")),
        "{trace:#?}"
    );
}

#[test]
fn mit_kernel_views() {
    let Some(mut b) = Booted::mit(3) else { return };
    check_views(&mut b, None);
}

/// The bundled kernel and user programs (what `xv6scope` runs by default).
#[test]
fn rust_kernel_views() {
    let Some(mut b) = Booted::rust(3) else { return };
    check_views(&mut b, testboot::rust_user_dir().as_deref());
}

/// The bundled kernel running MIT's C user programs from MIT's fs.img.
#[test]
fn rust_kernel_views_of_mit_programs() {
    let Some(dir) = testboot::mit_dir() else {
        return;
    };
    let disk = std::fs::read(dir.join("fs.img")).expect("MIT fs.img");
    let Some(mut b) = Booted::rust_with(3, &disk) else {
        return;
    };
    check_views(&mut b, None);
}

/// Guest speed with the syscall trace on and off (`cargo test --release -- --ignored
/// --nocapture trace_overhead`), on syscall-heavy programs.
#[test]
#[ignore = "a measurement, not a check: prints timings"]
fn trace_overhead() {
    let work = "forktest; stressfs; wc README; ls; echo done-done\n";
    let mut times = Vec::new();
    for on in [false, true, false, true] {
        let Some(mut b) = Booted::mit(3) else { return };
        let mut v = Views::new(Some(&b.kernel_elf.clone()));
        if on {
            v.command(&mut b.m, "strace on");
        }
        let (c0, t0) = (b.m.instret(), std::time::Instant::now());
        b.type_line(work);
        let mut n = 0usize;
        let ok = b.run_until_with("\ndone-done", 20_000_000_000, &mut |m, stop| {
            let (recs, stop) = v.after_run(m, stop);
            n += recs.len();
            stop.is_none_or(|s| !matches!(s, Stop::Breakpoint { .. }))
        });
        assert!(ok, "{}", b.console);
        let (secs, instr) = (t0.elapsed().as_secs_f64(), b.m.instret() - c0);
        println!(
            "trace {on}: {instr} instructions in {secs:.2} s = {:.0} MIPS, {n} syscalls",
            instr as f64 / secs / 1e6
        );
        times.push(instr as f64 / secs);
    }
}

/// The trace lab on the bundled kernel with its own user programs: `trace 32 grep hello
/// README` (mask 32 = read) beside our strace.
#[test]
fn rust_trace_lab_beside_strace() {
    let Some(mut b) = Booted::rust(3) else { return };
    let mut v = Views::new(Some(&b.kernel_elf.clone()));
    assert_eq!(
        v.command(&mut b.m, "strace on mask=32"),
        vec!["syscall trace on (mask=32)"]
    );
    let trace = run_traced(&mut b, &mut v, "trace 32 grep hello README\n");
    println!("{}\n{}", b.console, trace.join("\n"));
    // The kernel's own lines (`PID: syscall read -> N`) and ours agree call for call.
    let theirs: Vec<String> = b
        .console
        .lines()
        .filter(|l| l.contains(": syscall read -> "))
        .map(|l| l.trim().to_string())
        .collect();
    let ours: Vec<String> = trace
        .iter()
        .filter(|l| l.contains(" grep: read("))
        .map(|l| {
            let pid = l.split_whitespace().nth(1).unwrap_or("");
            let ret = l.rsplit(" = ").next().unwrap_or("");
            format!("{pid}: syscall read -> {ret}")
        })
        .collect();
    assert!(!theirs.is_empty());
    assert_eq!(ours, theirs);
}

/// The bundled kernel with the 2020 pgtbl lab's kernel page table, the mmap lab's calls and
/// the usyscall page: `ps -l`, `pt PID kernel`, `vmprint` in each year's format, the usyscall
/// page named in `pt`, and `strace on mmap` accepted.
#[test]
fn rust_lab_views() {
    use abi::lab::{COW, KPGTBL, MMAP, USYSCALL};
    let Some(disk) = crate::inspect::testboot::rust_fs_img() else {
        return;
    };
    let Some(mut b) = Booted::rust_lab(3, &disk, COW | KPGTBL | MMAP | USYSCALL) else {
        return;
    };
    let mut v = Views::new(Some(&b.kernel_elf.clone()));
    let ps = v.command(&mut b.m, "ps -l").join("\n");
    assert!(ps.contains("kernel page table (kpagetable) 0x"), "{ps}");
    assert!(ps.contains("reference counts (page_refcnt"), "{ps}");
    let one = v.command(&mut b.m, "ps -l 2");
    assert!(
        one[1].ends_with(" sh") && !one.join("\n").contains(" init"),
        "{one:?}"
    );
    assert_eq!(v.command(&mut b.m, "ps -l 99")[1], "no process 99");
    assert_eq!(v.command(&mut b.m, "ps -x"), ["usage: ps [-l [PID]]"]);

    // sh's own kernel page table: the kernel's devices and RAM, and sh's kernel stack.
    let kpt = v.command(&mut b.m, "pt 2 kernel").join("\n");
    assert!(
        kpt.starts_with("address space of pid 2's kernel page table (kpagetable)"),
        "{kpt}"
    );
    assert!(
        kpt.contains("UART0") && kpt.contains("kernel text"),
        "{kpt}"
    );
    let pt = v.command(&mut b.m, "pt 2").join("\n");
    assert!(
        pt.contains(" usyscall") && !pt.contains("beyond sz"),
        "{pt}"
    );

    // vmprint: the bundled kernel prints indexes, as 2020-2023's; --year picks another.
    let ours = v.command(&mut b.m, "vmprint 1");
    assert!(ours[1].starts_with(" ..0: pte 0x"), "{ours:?}");
    assert_eq!(v.command(&mut b.m, "vmprint 1 --year 2020"), ours);
    let y2024 = v.command(&mut b.m, "vmprint --year 2024 1");
    assert!(
        y2024[1].starts_with(" ..0x0000000000000000: pte 0x"),
        "{y2024:?}"
    );
    assert_eq!(ours.len(), y2024.len());
    assert!(v.command(&mut b.m, "vmprint 1 --year")[0].starts_with("usage: vmprint"));
    let k = v.command(&mut b.m, "vmprint 2 kernel");
    assert!(k[0].starts_with("page table 0x") && k.len() > 10, "{k:?}");

    assert_eq!(
        v.command(&mut b.m, "strace on mmap,munmap"),
        ["syscall trace on (mmap,munmap)"]
    );
    assert_eq!(
        v.command(&mut b.m, "strace on pgpte"),
        ["unknown system call \"pgpte\""]
    );
}

/// The lab year of MIT's tree, for vmprint: no 2024 `sys_kpgtbl`, so indexes.
#[test]
fn mit_vmprint_style() {
    let Some(dir) = crate::inspect::testboot::mit_dir() else {
        return;
    };
    let syms = Symbols::load("kernel", &dir.join("kernel/kernel")).unwrap();
    assert_eq!(
        crate::xv6::vmprint_style(&syms),
        crate::inspect::pagetable::Vmprint::Index
    );
}
