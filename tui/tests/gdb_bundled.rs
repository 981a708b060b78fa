//! The student's gdb session of the gdb issue, against the bundled Rust kernel: `xv6scope image`
//! writes the kernel ELF with its DWARF, `xv6scope run --gdb 127.0.0.1:PORT --gdb-wait` holds
//! the guest at its first instruction, and gdb-multiarch in batch mode drives it.
//!
//! - `student_session`: break on a kernel function by name and by file:line, continue,
//!   `info registers`, `bt`, `x/4i $pc`, CSRs and `$priv`, a kernel static read both as a typed
//!   value and as raw memory, `stepi`, a watchpoint that hits, `info threads`, `thread N`,
//!   detach; the values gdb prints are checked against the ELF's own symbol table.
//! - `break_by_bare_name`: `b syscall` word for word. gdb 13 does not match a bare name against
//!   a Rust path (`kernel::syscall::syscall`) unless the function also has that name as its
//!   linkage name, so this waits on the kernel (see its ignore reason).
//!
//! Rust names in gdb: functions and statics are found by their full path
//! (`kernel::trap::ticks`); `#[no_mangle]` items (`usertrap`, `main`) by their bare name too.
//! Without gdb-multiarch every test prints why it is skipped and passes (CI installs it).

use std::path::{Path, PathBuf};
use std::time::Duration;

#[macro_use]
mod common;
use common::*;

/// The address of the ELF symbol named `needle` or, for a needle longer than 8 bytes, whose
/// name contains it (a mangled Rust path: `6kernel7syscall7syscall17h`), from the ELF's own
/// symbol table; `None` when there is none (an inlined function has no symbol).
fn find_symbol(elf: &Path, needle: &str) -> Option<u64> {
    let data = std::fs::read(elf).expect("read kernel ELF");
    let u16_at = |o: usize| u16::from_le_bytes(data[o..o + 2].try_into().expect("2 bytes"));
    let u32_at = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().expect("4 bytes"));
    let u64_at = |o: usize| u64::from_le_bytes(data[o..o + 8].try_into().expect("8 bytes"));
    // ELF64: e_shoff at 0x28, e_shentsize at 0x3a, e_shnum at 0x3c; a section header has its
    // type at +4, offset at +0x18, size at +0x20, link at +0x28; SHT_SYMTAB is 2. A symbol is
    // 24 bytes: name offset at +0, value at +8.
    let (shoff, shentsize, shnum) = (
        u64_at(0x28) as usize,
        u16_at(0x3a) as usize,
        u16_at(0x3c) as usize,
    );
    let section = |i: usize| shoff + i * shentsize;
    let symtab = (0..shnum)
        .map(section)
        .find(|&s| u32_at(s + 4) == 2)
        .expect("the kernel ELF has a symbol table");
    let strtab = section(u32_at(symtab + 0x28) as usize);
    let strings = &data[u64_at(strtab + 0x18) as usize..][..u64_at(strtab + 0x20) as usize];
    let (off, size) = (
        u64_at(symtab + 0x18) as usize,
        u64_at(symtab + 0x20) as usize,
    );
    for sym in (off..off + size).step_by(24) {
        let name_off = u32_at(sym) as usize;
        let end = strings[name_off..]
            .iter()
            .position(|&b| b == 0)
            .map_or(strings.len(), |e| name_off + e);
        let name = String::from_utf8_lossy(&strings[name_off..end]);
        if name == needle || (needle.len() > 8 && name.contains(needle)) {
            return Some(u64_at(sym + 8));
        }
    }
    None
}

fn symbol_address(elf: &Path, needle: &str) -> u64 {
    find_symbol(elf, needle).unwrap_or_else(|| panic!("no symbol {needle:?} in {}", elf.display()))
}

/// The 1-based line of the first line of `file` containing `needle`.
fn line_of(file: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(file).expect("read kernel source");
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} not in {}", file.display()))
}

fn kernel_source(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../kernel/src")
        .join(name)
}

/// The value after `key=` on the line that starts with it.
#[track_caller]
fn value_of(out: &str, key: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= line in gdb's output:\n{out}"))
        .trim()
        .to_string()
}

#[test]
fn student_session() {
    require_gdb!();
    let dir = bundled_image("session");
    let kernel = dir.join("kernel");
    let usertrap = symbol_address(&kernel, "usertrap");
    // rustc may inline syscall into usertrap; then gdb stops at the inlined copy.
    // `syscall` is #[no_mangle] (so `b syscall` works); older builds had only the mangled path.
    let syscall = find_symbol(&kernel, "syscall")
        .or_else(|| find_symbol(&kernel, "6kernel7syscall7syscall17h"));
    let ticks = symbol_address(&kernel, "ticks");
    let syscall_rs = kernel_source("syscall.rs");
    let a7_line = line_of(&syscall_rs, "let num = (*(*p).trapframe).a7;");
    let guest = Guest::start("");

    let by_addr = format!("break *{usertrap:#x}");
    let by_line = format!("break syscall.rs:{a7_line}");
    let out = gdb(
        &kernel,
        Some(guest.port),
        &[
            "printf \"entry-pc=%#lx\\n\", $pc",
            "printf \"entry-priv=%d\\n\", $priv",
            // A #[no_mangle] function by its bare name, and by the address nm gives it.
            "break usertrap",
            &by_addr,
            "continue",
            "printf \"usertrap-pc=%#lx\\n\", $pc",
            "printf \"scause=%d\\n\", $scause",
            "delete",
            // A Rust function by its path: gdb stops after the prologue.
            "break kernel::syscall::syscall",
            "continue",
            "info registers",
            "bt",
            "x/4i $pc",
            "printf \"syscall-pc=%#lx\\n\", $pc",
            "printf \"priv=%d\\n\", $priv",
            "p/x $satp",
            "printf \"satp-mode=%d\\n\", ($satp >> 60) & 0xf",
            "printf \"ticks-addr=%#lx\\n\", &kernel::trap::ticks",
            "p kernel::trap::ticks",
            "x/wx &kernel::trap::ticks",
            // The first process is still initcode; its first system call is exec (7).
            "p kernel::proc::proc.0.value[0].name",
            "p (*kernel::proc::proc.0.value[0].trapframe).a7",
            "printf \"before-stepi=%#lx\\n\", $pc",
            "stepi",
            "printf \"after-stepi=%#lx\\n\", $pc",
            "delete",
            &by_line,
            "continue",
            "delete",
            "watch kernel::trap::ticks",
            "continue",
            "delete",
            "info threads",
            "thread 2",
            "printf \"hartid=%d\\n\", $mhartid",
            "thread 1",
            "printf \"hartid=%d\\n\", $mhartid",
            "detach",
        ],
        Duration::from_secs(240),
    );

    // --gdb-wait: every hart waits at _entry in M-mode.
    assert_eq!(value_of(&out, "entry-pc"), "0x80000000", "{out}");
    assert_has(&out, "0x0000000080000000 in _entry ()");
    assert_eq!(value_of(&out, "entry-priv"), "3", "{out}");

    // By name, a #[no_mangle] function stops past its prologue, in its source file.
    assert_has(&out, "Breakpoint 1 at 0x");
    assert_has(&out, ": file src/trap.rs, line ");
    assert_has(
        &out,
        &format!("Breakpoint 2 at {usertrap:#x}: file src/trap.rs"),
    );
    // The address breakpoint is the function's first instruction: it is hit first, at the
    // very address the symbol table gives; the first trap from user mode is an ecall (8).
    assert_has(&out, "hit Breakpoint 2, ");
    assert_eq!(
        value_of(&out, "usertrap-pc"),
        format!("{usertrap:#x}"),
        "{out}"
    );
    assert_eq!(value_of(&out, "scause"), "8", "{out}");

    // By path: past the prologue of the nm symbol, reached from usertrap.
    assert_has(
        &out,
        "hit Breakpoint 3, kernel::syscall::syscall () at src/syscall.rs:",
    );
    let pc = u64::from_str_radix(value_of(&out, "syscall-pc").trim_start_matches("0x"), 16)
        .expect("hex pc");
    let (start, what) = match syscall {
        Some(a) => (a, "kernel::syscall::syscall"),
        None => (usertrap, "usertrap, where syscall is inlined,"),
    };
    assert!(
        pc > start && pc < start + 512,
        "pc {pc:#x} is not just past {what} at {start:#x}:\n{out}"
    );
    assert_has(&out, &format!("pc             {pc:#x}"));
    assert_has(&out, "ra             0x");
    assert_has(&out, "sp             0x");
    assert_has(&out, "#0  kernel::syscall::syscall () at src/syscall.rs:");
    // Frame #1 is usertrap whether syscall was called (`0x... in usertrap`) or inlined.
    assert_has(&out, "kernel::trap::usertrap () at src/trap.rs:");
    assert_has(&out, &format!("=> {pc:#x} <"));
    // In S-mode, under the kernel's Sv39 page table (satp MODE 8).
    assert_eq!(value_of(&out, "priv"), "1", "{out}");
    assert_has(&out, "= 0x8000000000");
    assert_eq!(value_of(&out, "satp-mode"), "8", "{out}");

    // The static `ticks` where the symbol table puts it; typed and raw reads agree.
    assert_eq!(value_of(&out, "ticks-addr"), format!("{ticks:#x}"), "{out}");
    let typed = out
        .lines()
        .find_map(|l| {
            l.strip_prefix("$")
                .and_then(|l| l.split_once("{value: "))
                .and_then(|(_, v)| v.trim_end_matches("})").parse::<u32>().ok())
        })
        .unwrap_or_else(|| panic!("no typed ticks value:\n{out}"));
    assert_has(&out, &format!("{ticks:#x} <ticks>:\t{typed:#010x}"));
    assert_has(
        &out,
        "[105, 110, 105, 116, 99, 111, 100, 101, 0, 0, 0, 0, 0, 0, 0, 0]",
    ); // "initcode"
    assert_has(&out, "= 7\n");

    // stepi moves on by one instruction (2 or 4 bytes).
    let before = value_of(&out, "before-stepi");
    let after = value_of(&out, "after-stepi");
    let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("hex");
    assert!(
        matches!(hex(&after).wrapping_sub(hex(&before)), 2 | 4),
        "stepi went from {before} to {after}:\n{out}"
    );

    // By file:line: the line that loads a7 from the trapframe.
    assert_has(&out, &format!("file src/syscall.rs, line {a7_line}."));
    assert_has(
        &out,
        &format!("kernel::syscall::syscall () at src/syscall.rs:{a7_line}"),
    );

    // The watchpoint: hart 0 alone counts ticks, one at a time.
    assert_has(&out, "Hardware watchpoint 5: kernel::trap::ticks");
    let watched: Vec<u32> = out
        .lines()
        .filter(|l| l.starts_with("Old value = ") || l.starts_with("New value = "))
        .filter_map(|l| l.split_once("{value: "))
        .filter_map(|(_, v)| v.trim_end_matches("})").parse().ok())
        .collect();
    assert!(
        watched.len() == 2 && watched[1] == watched[0] + 1,
        "ticks should go up by one: {watched:?}\n{out}"
    );
    assert_has(&out, "\nkernel::trap::clockintr () at src/trap.rs");

    // Harts as threads, each with its mode; switching changes $mhartid.
    assert_has(&out, "Thread 1.1 (hart 0, S-mode");
    assert_has(&out, "Thread 1.2 (hart 1, S-mode");
    assert_has(&out, "Thread 1.3 (hart 2, S-mode");
    assert_has(&out, "[Switching to thread 2 (Thread 1.2)]");
    assert_has(&out, "hartid=1\n");
    assert_has(&out, "hartid=0\n");
    assert_has(&out, "[Inferior 1 (process 1) detached]");
    assert!(
        guest.wait_stderr("detached; the guest runs on", Duration::from_secs(10)),
        "{}",
        guest.stderr()
    );
}

#[test]
fn break_by_bare_name() {
    require_gdb!();
    let dir = bundled_image("bare");
    let kernel = dir.join("kernel");
    let out = gdb(
        &kernel,
        None,
        &["break syscall", "break sys_fork", "break kalloc"],
        Duration::from_secs(60),
    );
    for file in ["syscall.rs", "sysproc.rs", "kalloc.rs"] {
        assert_has(&out, &format!("file src/{file}, line "));
    }
    assert!(!out.contains("not defined"), "{out}");
}

/// Reverse execution from gdb-multiarch through the session's timeline: `reverse-stepi`
/// returns to the previous pc with the previous registers; with a watchpoint on a kernel
/// variable, `reverse-continue` stops at the instruction that last wrote it.
#[test]
fn reverse_execution() {
    require_gdb!();
    let dir = bundled_image("reverse");
    let kernel = dir.join("kernel");
    let guest = Guest::start("");
    let out = gdb(
        &kernel,
        Some(guest.port),
        &[
            "break kernel::syscall::syscall",
            "continue",
            "delete",
            "printf \"pc0=%#lx sp0=%#lx a0=%#lx\\n\", $pc, $sp, $a0",
            "stepi",
            "stepi",
            "stepi",
            "printf \"pc3=%#lx\\n\", $pc",
            "reverse-stepi",
            "reverse-stepi",
            "reverse-stepi",
            "printf \"pc-back=%#lx sp-back=%#lx a0-back=%#lx\\n\", $pc, $sp, $a0",
            "watch kernel::trap::ticks",
            "continue",
            "continue",
            "printf \"ticks-now=%d\\n\", *(&kernel::trap::ticks as *const u32)",
            "reverse-continue",
            "printf \"ticks-back=%d \", *(&kernel::trap::ticks as *const u32)",
            "printf \"pc-back=%#lx\\n\", $pc",
            "delete",
            "detach",
        ],
        Duration::from_secs(240),
    );
    let pc0 = value_of(&out, "pc0");
    let (pc, rest) = pc0.split_once(' ').expect("three values");
    assert!(
        out.contains(&format!(
            "pc-back={pc} {}",
            rest.replace("sp0", "sp-back").replace("a0=", "a0-back=")
        )),
        "reverse-stepi x3 should undo stepi x3:\n{out}\n{}",
        guest.stderr()
    );
    assert_ne!(value_of(&out, "pc3"), pc, "{out}");
    // The last write to ticks before the present: its value then is one less than now
    // (the watchpoint stops before the store), in the clock interrupt's code.
    let now: u32 = value_of(&out, "ticks-now").parse().expect("a number");
    let back = value_of(&out, "ticks-back");
    let (back_ticks, back_pc) = back.split_once(' ').expect("two values");
    assert_eq!(
        back_ticks.parse::<u32>().expect("a number") + 1,
        now,
        "{out}\n{}",
        guest.stderr()
    );
    assert!(back_pc.starts_with("pc-back=0x"), "{out}");
    assert_has(&out, "kernel::trap::clockintr");
    assert_has(&out, "[Inferior 1 (process 1) detached]");
}
