//! The debugger views through gdb's `monitor` commands on the bundled Rust kernel, while its
//! shell runs the sessions of the debugger-views issue (typed with `--input`):
//!
//! - `ls_pipe_wc`: stopped in `sys_pipe` as sh builds `ls | wc`: `monitor ps` lists init and
//!   both shells with their states, `monitor fds 2` the console on sh's fds 0/1/2, `monitor
//!   pt 2` sh's pages (text, data, guard page, user stack, trapframe, trampoline); then the
//!   live syscall trace shows the pipeline's fork/dup/exec and ls's and wc's reads and writes.
//! - `trace_grep`: `trace 32 grep hello README` with the trace filtered by the trace lab's
//!   mask 32 (read): only reads are shown, and grep's results are the ones the kernel's own
//!   trace prints on the console; at grep's exit, `ps`, `fds 3` and `pt 3` show grep.
//!
//! Without gdb-multiarch every test prints why it is skipped and passes (CI installs it).

use std::time::{Duration, Instant};

#[macro_use]
mod common;
use common::*;

/// The `monitor ps` row of `pid`, split into columns.
#[track_caller]
/// The row of `monitor ps` for `pid`: after the header, a line whose first two columns are
/// numbers (slot, pid). gdb's stop notice may land inside the table (gdb's stdout and stderr
/// are read by two threads), so lines that are not rows are skipped, not taken as its end.
fn ps_row(out: &str, pid: u32) -> Vec<String> {
    let number = |c: Option<&String>| c.is_some_and(|c| c.parse::<u32>().is_ok());
    out.lines()
        .skip_while(|l| !l.starts_with("slot   pid"))
        .skip(1)
        .filter(|l| l.starts_with(' '))
        .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .filter(|cols| number(cols.first()) && number(cols.get(1)))
        .find(|cols| cols[1] == pid.to_string())
        .unwrap_or_else(|| panic!("no ps row for pid {pid}:\n{out}"))
}

#[test]
fn ls_pipe_wc() {
    require_gdb!();
    let kernel = bundled_image("ls-wc").join("kernel");
    let guest = Guest::start("ls | wc\\n");
    let out = gdb(
        &kernel,
        Some(guest.port),
        &[
            // sh (pid 2) forks pid 3 to parse and run the line; pid 3 makes the pipe.
            "break kernel::sysfile::sys_pipe",
            "continue",
            "monitor ps",
            "monitor fds 2",
            "monitor pt 2",
            "monitor strace on",
            "delete",
            // ls and wc each exit once; the order is the scheduler's.
            "break kernel::sysproc::sys_exit",
            "continue",
            "continue",
            "monitor ps",
            "monitor strace off",
            "detach",
        ],
        Duration::from_secs(240),
    );
    assert_has(&out, "hit Breakpoint 1, kernel::sysfile::sys_pipe ()");

    // ps: init and the login shell sleep; the shell's child runs on a hart.
    let init = ps_row(&out, 1);
    assert_eq!(init[2..4], ["sleeping", "0x6000"][..], "{init:?}");
    assert_eq!(init.last().map(String::as_str), Some("init"));
    let sh = ps_row(&out, 2);
    assert_eq!(sh[2..4], ["1", "sleeping"][..], "{sh:?}");
    assert_eq!(sh.last().map(String::as_str), Some("sh"));
    let child = ps_row(&out, 3);
    assert_eq!(child[2..4], ["2", "running"][..], "{child:?}");
    assert_eq!(child.last().map(String::as_str), Some("sh"));

    // fds 2: init opened the console once and dup'ed it; every fd shares that file.
    assert_has(&out, "pid 2 (sh)\n");
    for fd in 0..3 {
        let prefix = format!("  {fd} ");
        let row = lines_after(&out, &prefix)
            .find(|l| l.starts_with("device"))
            .unwrap_or_else(|| panic!("no fd {fd} row:\n{out}"));
        assert!(row.contains(" rw "), "fd {fd}: {row}");
        assert!(row.contains("console (major 1)"), "fd {fd}: {row}");
    }
    assert!(
        !out.lines().any(|l| l.starts_with("  3 ")),
        "sh has only fds 0-2:\n{out}"
    );

    // pt 2: sh's address space, its root the page table ps shows.
    assert_has(&out, "address space of pid 2 (sh)");
    assert_has(&out, &format!("page table at {}", sh[5]));
    for (va, flags, name) in [
        ("0x0000000000000000-", "V R - X U", "text"),
        ("-0x0000000000005000", "V R W - U", "data"),
        (
            "0x0000000000005000-0x0000000000006000",
            "V R W - - ",
            "guard page",
        ),
        (
            "0x0000000000006000-0x0000000000007000",
            "V R W - U",
            "user stack",
        ),
        (
            "0x0000003fffffe000-0x0000003ffffff000",
            "V R W - - ",
            "trapframe",
        ),
        (
            "0x0000003ffffff000-0x0000004000000000",
            "V R - X - ",
            "trampoline",
        ),
    ] {
        assert!(
            out.lines()
                .any(|l| l.contains(va) && l.contains(flags) && l.ends_with(name)),
            "no {name} page {va} {flags}:\n{out}"
        );
    }

    // The live trace: the pipeline's plumbing, then ls and wc at work.
    for line in [
        "3 sh: fork() = 4",
        "3 sh: fork() = 5",
        "4 sh: close(1) = 0",
        "4 sh: dup(4) = 1",
        "5 sh: close(0) = 0",
        "5 sh: dup(3) = 0",
        "5 sh: exec(\"wc\", [\"wc\"]) = 1",
        "4 sh: exec(\"ls\", [\"ls\"]) = 1",
        "4 ls: open(\".\", O_RDONLY) = 3",
        "4 ls: open(\"./README\", O_RDONLY) = 4",
        "4 ls: write(1, \"README ",
        "4 ls: exit(0) = ?",
        "5 wc: read(0, \".  ",
        "5 wc: exit(0) = ?",
    ] {
        assert!(
            lines_after(&out, "strace: [").any(|l| l.contains(&format!("] {line}"))),
            "no strace line {line:?}:\n{out}"
        );
    }
    // wc's one write is the count the console shows.
    let wc = lines_after(&out, "strace: [")
        .find_map(|l| l.split_once("] 5 wc: write(1, \""))
        // Up to the escaped newline only: gdb may print its own notices inside the line.
        .and_then(|(_, rest)| rest.split_once("\\n"))
        .map(|(count, _)| count.to_string())
        .unwrap_or_else(|| panic!("no write by wc:\n{out}"));
    let end = Instant::now() + Duration::from_secs(20);
    while !guest.console().contains(&wc) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        guest.console().contains(&format!("$ {wc}")),
        "wc wrote {wc:?}; console:\n{}",
        guest.console()
    );

    // At the second exit, the exiting child (ls or wc) runs on a hart; pid 3 is its parent.
    assert_has(&out, "hit Breakpoint 2, kernel::sysproc::sys_exit ()");
    let last_ps = &out[out.rfind("slot   pid").unwrap_or(0)..];
    let exiting: Vec<Vec<String>> = [4, 5]
        .into_iter()
        .filter(|&pid| {
            last_ps
                .lines()
                .any(|l| l.split_whitespace().nth(1) == Some(&pid.to_string()))
        })
        .map(|pid| ps_row(last_ps, pid))
        .filter(|row| row[3] == "running")
        .collect();
    assert!(
        exiting.len() == 1
            && exiting[0][2] == "3"
            && ["ls", "wc"].contains(&exiting[0].last().map_or("", String::as_str)),
        "one of ls and wc should be running its exit:\n{last_ps}"
    );
    assert_has(&out, "syscall trace off");
    assert_has(&out, "[Inferior 1 (process 1) detached]");
}

#[test]
fn trace_grep() {
    require_gdb!();
    let kernel = bundled_image("trace").join("kernel");
    let guest = Guest::start("trace 32 grep hello README\\n");
    let out = gdb(
        &kernel,
        Some(guest.port),
        &[
            "monitor strace on mask=32",
            // grep is the first process to exit (trace execs it in place).
            "break kernel::sysproc::sys_exit",
            "continue",
            "monitor ps",
            "monitor fds 3",
            "monitor pt 3",
            "monitor strace off",
            "detach",
        ],
        Duration::from_secs(240),
    );
    assert_has(&out, "syscall trace on (mask=32)");
    assert_has(&out, "hit Breakpoint 1, kernel::sysproc::sys_exit ()");
    let traced: Vec<&str> = lines_after(&out, "strace: [").collect();
    assert!(!traced.is_empty(), "no trace:\n{out}");
    // Mask 32 is 1 << SYS_read: nothing but reads, the shell's keystrokes and grep's file.
    for l in &traced {
        assert!(l.contains(": read("), "not a read: {l}\n{out}");
    }
    assert!(
        traced
            .iter()
            .any(|l| l.contains("] 2 sh: read(0, \"t\", 1) = 1")),
        "{out}"
    );
    let grep: Vec<i64> = traced
        .iter()
        .filter(|l| l.contains("] 3 grep: read(3, "))
        .filter_map(|l| l.rsplit_once(" = ").and_then(|(_, r)| r.parse().ok()))
        .collect();
    assert_eq!(
        grep.last(),
        Some(&0),
        "grep reads README to its end:\n{out}"
    );
    assert!(grep.len() >= 2, "{out}");
    // The kernel's own trace (the lab's `PID: syscall read -> N`) saw the same results.
    let kernel_says = || -> Vec<i64> {
        lines_after(&guest.console(), "")
            .filter_map(|l| l.split_once("3: syscall read -> "))
            .filter_map(|(_, n)| n.trim().parse().ok())
            .collect()
    };
    let end = Instant::now() + Duration::from_secs(20);
    while kernel_says().len() < grep.len() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(kernel_says(), grep, "console:\n{}", guest.console());

    // At its exit, grep is pid 3, sh's child, running, with sh's console fds.
    let row = ps_row(&out, 3);
    assert_eq!(row[2..4], ["2", "running"][..], "{row:?}");
    assert_eq!(row.last().map(String::as_str), Some("grep"));
    assert_has(&out, "pid 3 (grep)\n");
    assert_has(&out, "console (major 1)");
    assert_has(&out, "address space of pid 3 (grep)");
    for name in [
        "text",
        "guard page",
        "user stack",
        "heap",
        "trapframe",
        "trampoline",
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("0x") && l.ends_with(&format!("  {name}"))),
            "no {name} in grep's page table:\n{out}"
        );
    }
    assert_has(&out, "[Inferior 1 (process 1) detached]");
}
