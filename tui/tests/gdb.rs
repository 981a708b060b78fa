//! gdb-multiarch drives `xv6scope run --gdb ADDR --gdb-wait` in batch mode, as a student
//! drives QEMU after `make qemu-gdb`, and every test checks the values gdb prints.
//!
//! - `bare_metal_loop`: the generated memory loop (`xv6scope bench --emit`), no symbols:
//!   threads, pc, `priv`, CSRs, memory, `stepi`, write and read watchpoints, software and
//!   hardware breakpoints, `monitor pt`/`stats`, detach (the guest then runs to power-off).
//! - `power_off_ends_the_session`: the generated integer loop runs to its finisher write;
//!   gdb sees the inferior exit.
//! - `sessions`: a spinning raw binary: a malformed packet, a client gone mid-packet, a second
//!   client while one is attached, a client killed while the guest runs, Ctrl-C (SIGINT to
//!   gdb), re-attach, kill.
//! - `mit_xv6`: MIT's xv6 kernel from `XV6SCOPE_MIT_XV6` (a folder with kernel/kernel and
//!   fs.img; skipped with a message when unset): break by function and by file:line,
//!   registers, CSRs, `bt`, `x/4i`, `stepi`, `watch ticks`, threads, detach.
//! - `mit_xv6_views`: the same kernel through `monitor` views: a live syscall trace,
//!   `ps`, `fds`, `pt PID`.
//!
//! Without gdb-multiarch every test prints why it is skipped and passes (CI installs it).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[macro_use]
mod common;
use common::{BIN, Guest, collect_into, spawn_merged};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xv6scope-gdb-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A gdb-multiarch batch run against the guest; `file` is the ELF with symbols, if any.
struct Gdb {
    child: Child,
    out: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Gdb {
    /// Sends gdb signal `sig` (`INT` is Ctrl-C, `KILL` a client that dies).
    fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .args([format!("-{sig}"), self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(st.success(), "kill -{sig} failed");
    }

    fn spawn(port: u16, file: Option<&Path>, cmds: &[&str]) -> Gdb {
        let mut c = Command::new("gdb-multiarch");
        c.args(["-batch", "-nx"]);
        if let Some(f) = file {
            c.arg(f);
        }
        c.args([
            "-ex",
            "set pagination off",
            "-ex",
            "set confirm off",
            "-ex",
            &format!("target remote 127.0.0.1:{port}"),
        ]);
        for cmd in cmds {
            c.args(["-ex", cmd]);
        }
        let (child, reader) = spawn_merged(c);
        let both = Arc::new(Mutex::new(String::new()));
        let readers = vec![collect_into(reader, both.clone())];
        Gdb {
            child,
            out: both,
            readers,
        }
    }

    fn output(&self) -> String {
        self.out.lock().expect("lock").clone()
    }

    /// Waits for gdb to finish (killing it after `timeout`) and returns all it printed.
    fn finish(mut self, timeout: Duration) -> String {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                // The readers end at end of file: everything gdb printed is then in `out`.
                for r in self.readers.drain(..) {
                    let _ = r.join();
                }
                return self.output();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!(
            "gdb did not finish in {timeout:?}; it printed:\n{}",
            self.output()
        );
    }

    fn wait_output(&self, needle: &str, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.output().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

fn gdb(port: u16, file: Option<&Path>, cmds: &[&str]) -> String {
    Gdb::spawn(port, file, cmds).finish(Duration::from_secs(120))
}

#[track_caller]
fn assert_has(out: &str, needle: &str) {
    assert!(
        out.contains(needle),
        "expected {needle:?} in gdb's output:\n{out}"
    );
}

/// The first `n` 32-bit words of the first loadable segment of an ELF.
fn first_words(elf: &[u8], n: usize) -> Vec<u32> {
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().expect("8 bytes"));
    let phoff = u64_at(0x20) as usize;
    let offset = u64_at(phoff + 8) as usize;
    (0..n)
        .map(|i| {
            u32::from_le_bytes(
                elf[offset + 4 * i..offset + 4 * i + 4]
                    .try_into()
                    .expect("4 bytes"),
            )
        })
        .collect()
}

#[test]
fn bare_metal_loop() {
    require_gdb!();
    let dir = temp_dir("loop");
    let status = Command::new(BIN)
        .args(["bench", "--emit"])
        .arg(&dir)
        .status()
        .expect("bench --emit");
    assert!(status.success());
    let elf_path = dir.join("mem-loop.elf");
    let elf = std::fs::read(&elf_path).expect("mem-loop.elf");
    let words = first_words(&elf, 2);

    let mut guest = Guest::start_with(&[
        "--input",
        "",
        "--kernel",
        elf_path.to_str().expect("utf-8 path"),
        "--smp",
        "2",
    ]);
    let out = gdb(
        guest.port,
        None,
        &[
            "info threads",
            "printf \"pc=%#lx\\n\", $pc",
            "printf \"priv=%d\\n\", $priv",
            "printf \"misa=%#lx\\n\", $misa",
            "x/2xw 0x80000000",
            "stepi",
            "printf \"stepped=%#lx\\n\", $pc",
            "thread 2",
            "printf \"hartid=%d\\n\", $mhartid",
            "thread 1",
            // The loop adds 1 to the doubleword at 0x8020_0000 in its first iteration.
            "watch *(long *)0x80200000",
            "continue",
            "printf \"priv-in-loop=%d\\n\", $priv",
            "printf \"satp=%#lx\\n\", $satp",
            "delete",
            "rwatch *(long *)0x80200008",
            "continue",
            "delete",
            "set $bp = $pc",
            "break *$bp",
            "continue",
            "printf \"sw-same=%d\\n\", $pc == $bp",
            "delete",
            "hbreak *$bp",
            "continue",
            "printf \"hw-same=%d\\n\", $pc == $bp",
            "delete",
            "monitor pt",
            "monitor stats",
            "monitor frobnicate",
            "detach",
        ],
    );
    assert_has(&out, "Thread 1.1 (hart 0, M-mode)");
    assert_has(&out, "Thread 1.2 (hart 1, M-mode)");
    assert_has(&out, "pc=0x80000000");
    assert_has(&out, "priv=3");
    // misa: MXL=2, extensions A C I M S U.
    assert_has(&out, "misa=0x8000000000141105");
    assert_has(
        &out,
        &format!("0x80000000:\t{:#010x}\t{:#010x}", words[0], words[1]),
    );
    assert_has(&out, "stepped=0x80000004");
    assert_has(&out, "hartid=1");
    assert_has(&out, "Hardware watchpoint 1: *(long *)0x80200000");
    assert_has(&out, "Old value = 0\nNew value = 1");
    assert_has(&out, "priv-in-loop=1");
    // Sv39 with the root table at 0x8010_0000.
    assert_has(&out, "satp=0x8000000000080100");
    assert_has(&out, "Hardware read watchpoint 2: *(long *)0x80200008");
    assert_has(&out, "Value = ");
    assert_has(&out, "sw-same=1");
    assert_has(&out, "Hardware assisted breakpoint 4");
    assert_has(&out, "hw-same=1");
    // The prologue maps RAM with a 1 GiB RWX page and the low GiB (finisher) RW; `monitor
    // pt` is the views' page table of the hart that stopped.
    assert_has(
        &out,
        "address space of hart 0's satp\npage table at 0x80100000",
    );
    assert_has(
        &out,
        "0x0000000080000000-0x00000000c0000000  0x0000000080000000   V R W X - - A D    1x1G",
    );
    assert_has(
        &out,
        "0x0000000000000000-0x0000000040000000  0x0000000000000000   V R W - - - A D    1x1G",
    );
    assert_has(&out, "instructions retired:");
    assert_has(&out, "unknown monitor command \"frobnicate\"");
    assert_has(&out, "[Inferior 1 (process 1) detached]");
    // Detached, the guest runs on to its finisher write: "pass" is exit status 0.
    let status = guest
        .wait_exit(Duration::from_secs(60))
        .expect("the guest runs to power-off after detach");
    assert!(status.success(), "{status:?}\n{}", guest.stderr());
    assert!(
        guest.stderr().contains("detached; the guest runs on"),
        "{}",
        guest.stderr()
    );
}

#[test]
fn power_off_ends_the_session() {
    require_gdb!();
    let dir = temp_dir("exit");
    let status = Command::new(BIN)
        .args(["bench", "--emit"])
        .arg(&dir)
        .status()
        .expect("bench --emit");
    assert!(status.success());
    let elf = dir.join("int-loop.elf");
    let mut guest = Guest::start_with(&[
        "--input",
        "",
        "--kernel",
        elf.to_str().expect("utf-8 path"),
        "--smp",
        "1",
    ]);
    let out = gdb(guest.port, None, &["continue", "info threads"]);
    // The loop writes "pass" to the test finisher: gdb sees the inferior exit with code 0.
    assert_has(&out, "[Inferior 1 (process 1) exited normally]");
    assert_has(&out, "No threads.");
    let status = guest
        .wait_exit(Duration::from_secs(20))
        .expect("xv6scope exits with the guest");
    assert!(status.success(), "{status:?}");
    assert!(
        guest.stderr().contains("the guest exited"),
        "{}",
        guest.stderr()
    );
}

/// A remote-protocol packet with its checksum.
fn packet(body: &str) -> Vec<u8> {
    let sum = body.bytes().fold(0u8, |a, b| a.wrapping_add(b));
    format!("${body}#{sum:02x}").into_bytes()
}

#[test]
fn sessions() {
    require_gdb!();
    let dir = temp_dir("sessions");
    let spin = dir.join("spin.bin");
    std::fs::write(&spin, 0x0000_006fu32.to_le_bytes()).expect("write spin.bin"); // j .
    let mut guest = Guest::start_with(&[
        "--input",
        "",
        "--kernel",
        spin.to_str().expect("utf-8 path"),
        "--raw",
        "--smp",
        "2",
    ]);
    let addr = format!("127.0.0.1:{}", guest.port);

    // A malformed packet: the client is told and dropped, the server keeps listening.
    let mut raw = TcpStream::connect(&addr).expect("connect");
    raw.write_all(&packet("mzz,qq")).expect("send");
    raw.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut reply = Vec::new();
    let _ = raw.read_to_end(&mut reply);
    assert!(
        String::from_utf8_lossy(&reply).contains("E.xv6scope: protocol error"),
        "{:?}",
        String::from_utf8_lossy(&reply)
    );
    assert!(
        guest.wait_stderr(
            "client dropped, the guest runs on, still listening",
            Duration::from_secs(5)
        ),
        "{}",
        guest.stderr()
    );

    // A client that goes away in the middle of a packet.
    let mut raw = TcpStream::connect(&addr).expect("connect");
    raw.write_all(b"$qSupp").expect("send");
    drop(raw);
    assert!(
        guest.wait_stderr(
            "closed the connection; the guest runs on",
            Duration::from_secs(5)
        ),
        "{}",
        guest.stderr()
    );

    // gdb A attaches and holds the guest; gdb B is turned away; A carries on.
    let a = Gdb::spawn(
        guest.port,
        None,
        &[
            "printf \"pc=%#lx\\n\", $pc",
            "shell sleep 2",
            "printf \"a-still=%#lx\\n\", $pc",
            "detach",
        ],
    );
    assert!(
        a.wait_output("pc=0x80000000", Duration::from_secs(20)),
        "{}",
        a.output()
    );
    let b = gdb(guest.port, None, &["printf \"b-pc=%#lx\\n\", $pc"]);
    assert_has(&b, "another gdb");
    assert!(
        !b.contains("b-pc="),
        "the second client must not get a session:\n{b}"
    );
    let a = a.finish(Duration::from_secs(60));
    assert_has(&a, "a-still=0x80000000");
    assert_has(&a, "[Inferior 1 (process 1) detached]");

    // A client that dies while the guest runs: the guest runs on, the server listens.
    let d = Gdb::spawn(guest.port, None, &["continue"]);
    guest.wait_sessions(4);
    assert!(
        d.wait_output("0x0000000080000000 in ?? ()", Duration::from_secs(20)),
        "{}",
        d.output()
    );
    std::thread::sleep(Duration::from_millis(500));
    d.signal("KILL");
    let _ = d.finish(Duration::from_secs(20));
    let end = Instant::now() + Duration::from_secs(10);
    while guest
        .stderr()
        .matches("closed the connection; the guest runs on")
        .count()
        < 2
        && Instant::now() < end
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        guest
            .stderr()
            .matches("closed the connection; the guest runs on")
            .count(),
        2,
        "{}",
        guest.stderr()
    );

    // Re-attach, continue, Ctrl-C (SIGINT to gdb sends the interrupt), then kill.
    let c = Gdb::spawn(
        guest.port,
        None,
        &[
            "continue",
            "printf \"priv=%d\\n\", $priv",
            "info threads",
            "kill",
        ],
    );
    // gdb in batch mode prints nothing on `continue`: wait for the attach (the fifth session:
    // two raw clients, gdb A, gdb D, now C), then give it time to send the continue.
    guest.wait_sessions(5);
    assert!(
        c.wait_output("0x0000000080000000 in ?? ()", Duration::from_secs(20)),
        "{}",
        c.output()
    );
    std::thread::sleep(Duration::from_millis(1000));
    c.signal("INT");
    let c = c.finish(Duration::from_secs(60));
    assert_has(&c, "received signal SIGINT");
    assert_has(&c, "priv=3");
    assert_has(&c, "Thread 1.2 (hart 1, M-mode)");
    let status = guest
        .wait_exit(Duration::from_secs(20))
        .expect("kill ends xv6scope, as it ends QEMU");
    assert!(status.success(), "{status:?}");
    let log = guest.stderr();
    assert!(log.contains("refused"), "{log}");
    assert!(log.contains("killed the guest"), "{log}");
}

/// The line of `needle` in `file` (1-based).
fn line_of(file: &Path, needle: &str) -> Option<usize> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

#[test]
fn mit_xv6() {
    require_gdb!();
    let Some(mit) = common::mit_xv6() else {
        return;
    };
    let (kernel, disk) = (&mit.kernel, &mit.fs);
    let line = line_of(&mit.dir.join("kernel/syscall.c"), "num = p->trapframe->a7;")
        .expect("syscall.c has the a7 line");
    let mut guest = Guest::start_with(&[
        "--input",
        "",
        "--kernel",
        kernel.to_str().expect("utf-8 path"),
        "--disk",
        disk.to_str().expect("utf-8 path"),
        "--snapshot",
    ]);
    let by_line = format!("break syscall.c:{line}");
    let out = Gdb::spawn(
        guest.port,
        Some(kernel),
        &[
            "break syscall",
            "continue",
            "info registers",
            "printf \"scause=%d priv=%d\\n\", $scause, $priv",
            "printf \"satp-mode=%d\\n\", (unsigned long)$satp >> 60",
            "bt",
            "x/4i $pc",
            "printf \"name=%s\\n\", proc[0].name",
            "x/2wx &proc[0].pid",
            "set $before = $pc",
            "stepi",
            "printf \"after-stepi=%d\\n\", (long)$pc != (long)&syscall",
            // Back through the session's timeline, and forward again.
            "reverse-stepi",
            "printf \"back=%d\\n\", $pc == $before",
            "stepi",
            "delete",
            &by_line,
            "continue",
            "printf \"a7=%d\\n\", p->trapframe->a7",
            "delete",
            "watch ticks",
            "continue",
            "set $t = ticks",
            "reverse-continue",
            "printf \"rc-ticks=%d\\n\", ticks == $t - 1",
            "delete",
            "info threads",
            "thread 3",
            "printf \"hartid=%d\\n\", $mhartid",
            "detach",
        ],
    )
    .finish(Duration::from_secs(240));
    assert_has(&out, "hit Breakpoint 1, syscall () at kernel/syscall.c");
    assert_has(&out, "ra             0x");
    assert_has(&out, "<usertrap+");
    assert_has(&out, "pc             0x");
    // ecall from U-mode, handled in S-mode under the kernel's Sv39 page table.
    assert_has(&out, "scause=8 priv=1");
    assert_has(&out, "satp-mode=8");
    assert_has(&out, "#1  0x");
    assert_has(&out, "in usertrap () at kernel/trap.c");
    assert_has(&out, "=> 0x");
    assert_has(&out, "<syscall+");
    // Memory through the kernel's page table: the first process, still running initcode.
    assert_has(&out, "name=initcode");
    assert_has(&out, "<proc+");
    assert_has(&out, ">:\t0x00000001"); // its pid
    assert_has(&out, "after-stepi=1");
    assert_has(&out, "back=1");
    // reverse-continue stops before the store that last changed ticks.
    assert_has(&out, "rc-ticks=1");
    assert_has(&out, &format!("syscall () at kernel/syscall.c:{line}"));
    // xv6's first system call is exec (7), from initcode.
    assert_has(&out, "a7=7");
    assert_has(&out, "Hardware watchpoint 3: ticks");
    assert_has(&out, "Old value = ");
    assert_has(&out, "New value = ");
    assert_has(&out, "Thread 1.3 (hart 2, S-mode)");
    assert_has(&out, "hartid=2");
    assert_has(&out, "[Inferior 1 (process 1) detached]");
    assert!(
        guest.wait_stderr("detached; the guest runs on", Duration::from_secs(10)),
        "{}",
        guest.stderr()
    );
    assert!(
        guest.wait_exit(Duration::from_millis(500)).is_none(),
        "the guest keeps running after detach"
    );
}

#[test]
fn mit_xv6_views() {
    require_gdb!();
    let Some(mit) = common::mit_xv6() else {
        return;
    };
    let (kernel, disk) = (&mit.kernel, &mit.fs);
    let guest = Guest::start_with(&[
        "--input",
        "",
        "--kernel",
        kernel.to_str().expect("utf-8 path"),
        "--disk",
        disk.to_str().expect("utf-8 path"),
        "--snapshot",
    ]);
    let out = gdb(
        guest.port,
        Some(kernel),
        &[
            "monitor strace on",
            // init duplicates its console descriptor after creating and opening it.
            "break sys_dup",
            "continue",
            "monitor ps",
            "monitor fds 1",
            "monitor pt 1",
            "monitor strace show",
            "detach",
        ],
    );
    // Completed system calls appear in gdb's console while the guest runs.
    assert_has(&out, "strace: [");
    assert_has(&out, "initcode: exec(\"/init\", [\"/init\"]) = 1");
    assert_has(&out, "init: mknod(\"console\", 1, 0) = 0");
    assert_has(&out, "init: open(\"console\", O_RDWR) = 0");
    assert_has(&out, "hit Breakpoint 1, sys_dup ()");
    assert_has(&out, "init\n");
    assert_has(&out, "console (major 1)");
    assert_has(&out, "trampoline");
    assert_has(&out, "[Inferior 1 (process 1) detached]");
}
