//! The user programs on the bundled kernel: the 6.S081 lab programs give the handouts'
//! outputs, and the Rust `usertests -q` passes. Input is typed ahead, so each run keeps its
//! input under the 128 bytes of xv6's console line buffer.
//!
//! Lab options (`--lab`): the option word reaches the kernel (which names the options at
//! boot), a wrong name or a kernel without the word is refused, and each option's lab test
//! passes with it on.

mod common;
use common::*;

fn session(input: &str, until: &str) -> String {
    assert_exit(
        &xv6scope([
            "run",
            "--input",
            input,
            "--until",
            until,
            "--timeout",
            "300",
        ]),
        0,
    )
}

/// `run --lab LAB` with typed input, until a text appears; the console.
fn lab_session(lab: &str, input: &str, until: &str) -> String {
    assert_exit(
        &xv6scope([
            "run",
            "--lab",
            lab,
            "--input",
            input,
            "--until",
            until,
            "--timeout",
            "300",
        ]),
        0,
    )
}

#[test]
fn pingpong_primes_and_sysinfo() {
    let console = session("pingpong\\nprimes\\nsysinfotest\\n", "sysinfotest: OK");
    let ping = console
        .lines()
        .find(|l| l.ends_with(": received ping"))
        .expect("ping line");
    let pong = console
        .lines()
        .find(|l| l.ends_with(": received pong"))
        .expect("pong line");
    let pid = |l: &str| {
        l.trim_start_matches("$ ")
            .split(':')
            .next()
            .unwrap()
            .trim()
            .parse::<u32>()
            .unwrap()
    };
    assert_eq!(
        pid(ping),
        pid(pong) + 1,
        "the child (parent's pid + 1) receives the ping:\n{console}"
    );
    let primes: Vec<u32> = console
        .lines()
        .filter_map(|l| l.trim_start_matches("$ ").strip_prefix("prime "))
        .map(|n| n.trim().parse().unwrap())
        .collect();
    assert_eq!(
        primes,
        [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31],
        "{console}"
    );
}

#[test]
fn find_and_xargs() {
    let console = session(
        "echo > b\\nmkdir a\\necho > a/b\\nfind . b\\necho hello too | xargs echo bye\\n",
        "bye hello too",
    );
    assert!(
        console.contains("./b\n") && console.contains("./a/b\n"),
        "{console}"
    );
}

#[test]
fn trace_shows_the_read_calls_of_grep() {
    let console = session("trace 32 grep hello README\\necho x | wc\\n", "1 1 2");
    let reads: Vec<i64> = console
        .lines()
        .filter_map(|l| l.trim_start_matches("$ ").split_once(": syscall read -> "))
        .map(|(_, r)| r.trim().parse().unwrap())
        .collect();
    assert!(reads.len() >= 2, "{console}");
    assert_eq!(
        *reads.last().unwrap(),
        0,
        "the last read hits the end of README:\n{console}"
    );
    assert!(reads[..reads.len() - 1].iter().all(|&r| r > 0), "{console}");
    // Only read (bit 5) is traced: no other system call names appear.
    assert!(
        !console.contains("syscall write") && !console.contains("syscall open"),
        "{console}"
    );
}

#[test]
fn usertests_quick_pass_on_the_bundled_kernel() {
    let console = session("usertests -q\\n", "ALL TESTS PASSED");
    assert!(!console.contains("FAILED"), "{console}");
}

/// The whole suite, slow tests included (bigdir, manywrites, badwrite, execout, diskfull,
/// outofinodes): about ten minutes, so not in the default run.
/// `cargo test --release --test labs -- --ignored`
#[test]
#[ignore = "slow: the full usertests takes about ten minutes"]
fn usertests_all_pass_on_the_bundled_kernel() {
    let console = assert_exit(
        &xv6scope([
            "run",
            "--input",
            "usertests\\n",
            "--until",
            "ALL TESTS PASSED",
            "--timeout",
            "1800",
        ]),
        0,
    );
    assert!(!console.contains("FAILED"), "{console}");
}

#[test]
fn lab_options_reach_the_kernel() {
    let console = lab_session("cow, alarm", "", "init: starting sh");
    assert!(console.contains("\nlab options: cow alarm\n"), "{console}");
    let console = session("", "init: starting sh");
    assert!(!console.contains("lab options"), "{console}");
}

#[test]
fn an_unknown_lab_option_is_refused() {
    let out = xv6scope(["run", "--lab", "cow,cwo", "--timeout", "5"]);
    assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown lab option `cwo`") && stderr.contains("cow, lazy"),
        "{stderr}"
    );
}

#[test]
fn a_kernel_without_lab_options_refuses_them() {
    // Any ELF without the LAB_OPTIONS symbol: a user program.
    let dir = bundled_image("nolab");
    let elf = dir.join("user/echo");
    let out = xv6scope([
        "run".as_ref(),
        "--kernel".as_ref(),
        elf.as_os_str(),
        "--lab".as_ref(),
        "cow".as_ref(),
    ]);
    assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no `LAB_OPTIONS` symbol"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cowtest_passes_with_cow_and_stock_fork_cannot_copy() {
    let console = lab_session("cow", "cowtest\\n", "ALL COW TESTS PASSED");
    for part in ["simple: ok", "three: ok", "file: ok"] {
        assert!(console.contains(part), "{console}");
    }
    let console = session("cowtest\\n", "simple: fork() failed");
    assert!(!console.contains("ALL COW TESTS PASSED"), "{console}");
}

#[test]
fn lazytests_pass_with_lazy() {
    let console = lab_session("lazy", "lazytests\\n", "ALL TESTS PASSED");
    for t in ["lazy alloc", "lazy unmap", "out of memory"] {
        assert!(console.contains(&format!("test {t}: OK")), "{console}");
    }
}

#[test]
fn pgtbltest_passes_with_usyscall_and_pgaccess() {
    let console = lab_session(
        "usyscall,pgaccess",
        "pgtbltest\\n",
        "pgtbltest: all tests succeeded",
    );
    for part in ["ugetpid_test: OK", "pgaccess_test: OK"] {
        assert!(console.contains(part), "{console}");
    }
}

#[test]
fn the_labs_calls_are_unknown_without_their_options() {
    // alarmtest's first call is sigalarm (24); pgtbltest's ugetpid reads an unmapped page.
    let console = session("alarmtest\\npgtbltest\\n", "ugetpid_test starting\n");
    assert!(
        console.contains("unknown sys call 24") && console.contains("no sigalarm"),
        "{console}"
    );
}

#[test]
fn alarmtest_passes_with_alarm() {
    let console = lab_session("alarm", "alarmtest\\n", "test3 p");
    for t in 0..4 {
        assert!(console.contains(&format!("test{t} passed")), "{console}");
    }
    assert!(!console.contains("failed"), "{console}");
}

/// The kernel ELF of the bundled image and its symbols.
fn bundled_kernel_symbols(tag: &str) -> session::inspect::symbols::Symbols {
    let dir = bundled_image(tag);
    let syms = session::inspect::symbols::Symbols::load("kernel", &dir.join("kernel"))
        .expect("kernel symbols");
    let _ = std::fs::remove_dir_all(&dir);
    syms
}

#[test]
fn bttest_backtrace_walks_sys_sleep_syscall_usertrap() {
    let console = lab_session("backtrace", "bttest\\necho done\\n", "$ done");
    let lines: Vec<&str> = console
        .lines()
        .skip_while(|l| !l.ends_with("backtrace:"))
        .skip(1)
        .take_while(|l| l.starts_with("0x"))
        .collect();
    let syms = bundled_kernel_symbols("bt");
    let names: Vec<String> = lines
        .iter()
        .map(|l| {
            let ra = u64::from_str_radix(l.trim_start_matches("0x"), 16).expect("hex");
            assert_eq!(l.len(), 18, "0x and 16 digits: {l}");
            syms.symbol_at(ra - 1)
                .map_or("?".into(), |(s, _)| s.name.clone())
        })
        .collect();
    assert_eq!(names, ["sys_sleep", "syscall", "usertrap"], "{console}");
}

#[test]
fn vmprint_prints_init_page_table_at_its_exec() {
    let console = lab_session("vmprint", "", "init: starting sh");
    let mut lines = console
        .lines()
        .skip_while(|l| !l.starts_with("page table 0x"));
    let head = lines.next().expect("page table line");
    assert_eq!(head.len(), "page table 0x".len() + 16, "{head}");
    let entries: Vec<&str> = lines.take_while(|l| l.starts_with(" ..")).collect();
    assert!(entries.len() > 8, "{console}");
    for e in &entries {
        let (dots, rest) = e.split_at(e.find(|c: char| c.is_ascii_digit()).expect("index"));
        assert!(matches!(dots, " .." | " .. .." | " .. .. .."), "{e}");
        let (_, fields) = rest.split_once(": ").expect("index: ...");
        let f: Vec<&str> = fields.split(' ').collect();
        assert!(
            f.len() == 4 && f[0] == "pte" && f[2] == "pa" && f[1].len() == 18 && f[3].len() == 18,
            "{e}"
        );
    }
    // The trampoline: the last entry maps the top page to the kernel's trampoline code.
    let last = entries.last().unwrap();
    assert!(last.starts_with(" .. .. ..511: "), "{last}");
    let pa = u64::from_str_radix(last.rsplit("0x").next().unwrap(), 16).unwrap();
    let syms = bundled_kernel_symbols("vmprint");
    assert_eq!(
        Some(pa),
        syms.lookup("trampoline").map(|s| s.addr),
        "{last}"
    );
}

#[test]
fn usertests_quick_pass_with_every_lab_option() {
    let console = assert_exit(
        &xv6scope([
            "run",
            "--lab",
            "all",
            "--input",
            "usertests -q\\n",
            "--until",
            "ALL TESTS PASSED",
            "--timeout",
            "600",
        ]),
        0,
    );
    assert!(!console.contains("FAILED"), "{console}");
}

#[test]
fn mmaptest_passes_with_mmap() {
    let console = lab_session("mmap", "mmaptest\\n", "mmaptest: all tests succeeded");
    for part in ["mmap_test: ALL OK", "fork_test OK"] {
        assert!(console.contains(part), "{console}");
    }
}

#[test]
fn symlinktest_passes_with_symlink() {
    let console = lab_session("symlink", "symlinktest\\n", "test concurrent symlinks: ");
    assert!(
        console.contains("test symlinks: ok") && console.contains("test concurrent symlinks: ok"),
        "{console}"
    );
}

#[test]
fn every_lab_test_passes_with_every_option_on() {
    let console = lab_session(
        "all",
        "cowtest\\nlazytests\\npgtbltest\\nmmaptest\\nsymlinktest\\n",
        "test concurrent symlinks: ",
    );
    for part in [
        "ALL COW TESTS PASSED",
        "test out of memory: OK",
        "pgtbltest: all tests succeeded",
        "mmaptest: all tests succeeded",
        "test concurrent symlinks: ok",
    ] {
        assert!(console.contains(part), "{part}: {console}");
    }
}

#[test]
fn strace_names_the_lab_calls() {
    let out = xv6scope([
        "run",
        "--lab",
        "all",
        "--strace=pgaccess,mmap,munmap,symlink,sigalarm,sigreturn",
        "--input",
        "pgtbltest\\nmmaptest\\nsymlinktest\\nalarmtest\\n",
        "--until",
        "test0 passed",
        "--timeout",
        "300",
    ]);
    assert_exit(&out, 0);
    let trace = String::from_utf8_lossy(&out.stderr);
    for call in [
        // The second call's bitmask, read at its return: pages 1, 2 and 30.
        ", 32, [0x40000006]) = 0",
        " mmaptest: mmap(0x0, 8192, PROT_READ, MAP_PRIVATE, 3, 0) = 0x",
        " mmaptest: munmap(0x",
        " symlinktest: symlink(\"/testsymlink/a\", \"/testsymlink/b\") = 0",
        " alarmtest: sigalarm(2, 0x",
        " alarmtest: sigreturn() = ",
    ] {
        assert!(trace.contains(call), "{call:?} missing:\n{trace}");
    }
}

#[test]
fn bigfile_reaches_the_doubly_indirect_block_with_bigfile() {
    // 600 blocks: past xv6's 268 (12 direct + 256 indirect), into the doubly-indirect block,
    // on the disk --lab bigfile makes from the bundled one (the big layout).
    let console = lab_session("bigfile", "bigfile 600\\nls\\n", "bigfile done; ok");
    assert!(console.contains("wrote 600 blocks"), "{console}");
    let console = session("bigfile 600\\n", "file is too small");
    assert!(console.contains("wrote 268 blocks"), "{console}");
}

/// MIT's whole test: 65803 blocks, 64 MiB through the log (about five minutes).
/// `cargo test --release --test labs -- --ignored`
#[test]
#[ignore = "slow: bigfile writes 64 MiB through the log"]
fn bigfile_writes_the_largest_file_with_bigfile() {
    let console = assert_exit(
        &xv6scope([
            "run",
            "--lab",
            "bigfile",
            "--input",
            "bigfile\\n",
            "--until",
            "bigfile done; ok",
            "--timeout",
            "1800",
        ]),
        0,
    );
    assert!(console.contains("wrote 65803 blocks"), "{console}");
}

/// Runs `s` until its console shows `text`.
fn session_until(s: &mut session::Session, text: &str) -> String {
    let mut console = String::new();
    while s.machine().cycle() < 20_000_000_000 {
        s.run(1_000_000);
        console.push_str(&String::from_utf8_lossy(&s.take_output()));
        if console.contains(text) {
            return console;
        }
    }
    panic!("{text:?} never appeared: {console}");
}

/// Runs `s` to the first stop at one of its breakpoints.
fn session_to_breakpoint(s: &mut session::Session) {
    for _ in 0..20_000 {
        match s.run(1_000_000) {
            machine::machine::Stop::Breakpoint { .. } => return,
            machine::machine::Stop::Budget | machine::machine::Stop::Idle => {}
            other => panic!("{other:?}"),
        }
    }
    panic!("no breakpoint stop");
}

/// The views of the bundled kernel with the labs' options, as the TUI's process pane and
/// gdb's `monitor ps -l` read them: each process's own kernel page table (kpgtbl), mmaptest's
/// mapping at its munmap (mmap), alarmtest's alarm state in its handler (alarm), and the
/// page reference counts (cow); `b syscall munmap` and `sigreturn` by the kernel's numbers.
#[test]
fn ps_long_shows_the_labs_structures_on_the_bundled_kernel() {
    let dir = bundled_image("ps-long");
    let mut kernel = std::fs::read(dir.join("kernel")).expect("kernel");
    let disk = std::fs::read(dir.join("fs.img")).expect("fs.img");
    let _ = std::fs::remove_dir_all(&dir);
    session::lab::set_options(&mut kernel, "cow,kpgtbl,mmap,alarm,usyscall").expect("options");
    let mut s = session::Session::new(session::Boot {
        kernel,
        raw: false,
        disk: Some(disk),
        config: machine::Config::default(),
    })
    .expect("boots");
    session_until(&mut s, "$ ");
    let ps = s.command("ps -l").join("\n");
    assert!(ps.contains("kernel page table (kpagetable) 0x"), "{ps}");
    assert!(ps.contains("no mappings (vma[])"), "{ps}");
    assert!(
        ps.contains("reference counts (page_refcnt[(pa - KERNBASE) / PGSIZE]): "),
        "{ps}"
    );

    let spec = |t: &str| session::Spec::parse(t).expect("spec");
    let (n, _) = s
        .add_user_breakpoint(&spec("syscall munmap"))
        .expect("munmap");
    s.type_input(b"mmaptest\n");
    session_to_breakpoint(&mut s);
    let ps = s.command("ps -l").join("\n");
    let row = ps
        .lines()
        .skip_while(|l| !l.ends_with(" mmaptest"))
        .find(|l| l.trim_start().starts_with("vma["))
        .unwrap_or_else(|| panic!("no mapping under mmaptest:\n{ps}"));
    assert!(row.contains(" file 0x") && row.contains(" off 0"), "{row}");
    s.delete_user_breakpoint(n).expect("delete");
    session_until(&mut s, "mmaptest: all tests succeeded");

    // alarmtest's test0 asks for its handler every 2 ticks; in the handler's sigreturn the
    // alarm is active.
    s.add_user_breakpoint(&spec("syscall sigreturn"))
        .expect("sigreturn");
    s.type_input(b"alarmtest\n");
    session_to_breakpoint(&mut s);
    let ps = s.command("ps -l").join("\n");
    let fields = ps
        .lines()
        .skip_while(|l| !l.ends_with(" alarmtest"))
        .find(|l| l.contains("alarm_interval="))
        .unwrap_or_else(|| panic!("no alarm fields under alarmtest:\n{ps}"));
    assert!(
        fields.contains("alarm_interval=2 ") && fields.contains("alarm_active=1"),
        "{fields}"
    );
}
