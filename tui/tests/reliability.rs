//! Reliability at the edges (issue 19): a halted or far-waiting guest ends at its limits with a
//! clear line, hostile inputs and option values are refused with one line, and disk writes
//! survive signals, guest panics, host errors and a full file system without the image ever
//! being half-written. Every child process here runs under a time limit.

mod common;

use machine::cpu::encode::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_xv6scope");

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xv6scope-rely-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Waits for `child` at most `limit`; kills it and fails the test past that.
fn wait_within(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("xv6scope still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs xv6scope with `args` (stdin empty), failing the test if it takes longer than `secs`.
fn xv6scope_within(secs: u64, args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run xv6scope");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stdout.read_to_end(&mut b);
        b
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stderr.read_to_end(&mut b);
        b
    });
    let status = wait_within(&mut child, Duration::from_secs(secs));
    let output = Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (output, start.elapsed())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit status 2 and exactly one line on stderr containing `needle`.
fn assert_one_line_error(out: &Output, needle: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A minimal RISC-V ELF: `code` loaded and entered at 0x8000_0000.
fn bare_elf(code: &[u32]) -> Vec<u8> {
    let code: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    let base = 0x8000_0000u64;
    let mut e = Vec::new();
    e.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    e.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    e.extend_from_slice(&243u16.to_le_bytes()); // EM_RISCV
    e.extend_from_slice(&1u32.to_le_bytes());
    e.extend_from_slice(&base.to_le_bytes()); // entry
    e.extend_from_slice(&64u64.to_le_bytes()); // phoff
    e.extend_from_slice(&0u64.to_le_bytes()); // shoff
    e.extend_from_slice(&0u32.to_le_bytes()); // flags
    for v in [64u16, 56, 1, 64, 0, 0] {
        e.extend_from_slice(&v.to_le_bytes());
    }
    e.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    e.extend_from_slice(&5u32.to_le_bytes()); // R X
    e.extend_from_slice(&120u64.to_le_bytes()); // offset
    e.extend_from_slice(&base.to_le_bytes());
    e.extend_from_slice(&base.to_le_bytes());
    e.extend_from_slice(&(code.len() as u64).to_le_bytes());
    e.extend_from_slice(&(code.len() as u64).to_le_bytes());
    e.extend_from_slice(&4u64.to_le_bytes());
    assert_eq!(e.len(), 120);
    e.extend_from_slice(&code);
    e
}

const MIE: u16 = 0x304;
const MENVCFG: u16 = 0x30a;
const STIMECMP: u16 = 0x14d;
const TIME: u16 = 0xc01;

/// Prints "waiting" on the UART, sets `stimecmp` (Sstc, STIE on) to time + 2^`shift`, or to
/// -1 with None, and waits in `wfi` forever.
fn timer_wait_elf(shift: Option<u32>) -> Vec<u8> {
    let mut code = vec![lui(T0, 0x10000)];
    for &c in b"waiting" {
        code.extend([li(T1, c as i32), sb(T1, T0, 0)]);
    }
    code.extend([
        li(T0, 1),
        slli(T0, T0, 63),
        csrw(MENVCFG, T0),
        li(T0, 1 << 5),
        csrw(MIE, T0),
        csrr(A0, TIME),
    ]);
    code.extend(match shift {
        Some(sh) => [li(T1, 1), slli(T1, T1, sh), add(T1, T1, A0)],
        None => [li(T1, -1), NOP, NOP],
    });
    code.extend([csrw(STIMECMP, T1), WFI, jal(ZERO, -4)]);
    bare_elf(&code)
}

/// Writes 'x' to the UART forever, never a newline.
fn flood_elf() -> Vec<u8> {
    bare_elf(&[
        lui(T0, 0x10000),
        li(T1, b'x' as i32),
        sb(T1, T0, 0),
        jal(ZERO, -4),
    ])
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn a_panicked_kernel_with_pending_input_is_reported_not_hung() {
    let dir = common::bundled_image("rely-panic");
    let mut img = std::fs::read(dir.join("fs.img")).unwrap();
    img[1024..1028].fill(0); // superblock magic
    let bad = write(&dir, "bad.img", &img);
    let (out, took) = xv6scope_within(
        60,
        &[
            "run",
            "--disk",
            &bad,
            "--snapshot",
            "--input",
            "ls\\n",
            "--until",
            "$ ",
            "--timeout",
            "20",
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stdout.contains("panic: "),
        "the guest's last line is flushed: {stdout}"
    );
    assert!(stdout.ends_with('\n'), "{stdout:?}");
    assert_eq!(
        stderr.trim(),
        "xv6scope: all harts wait with no wake-up source before \"$ \" appeared"
    );

    // Without --snapshot the same panic leaves the image byte-identical.
    let (out, _) = xv6scope_within(60, &["run", "--disk", &bad, "--input", "ls\\n"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&bad).unwrap(), img);
}

#[test]
fn with_a_gdb_server_a_halted_guest_stays_up_for_inspection() {
    let dir = common::bundled_image("rely-gdb-halt");
    let mut img = std::fs::read(dir.join("fs.img")).unwrap();
    img[1024..1028].fill(0);
    let bad = write(&dir, "bad.img", &img);
    let mut child = Command::new(BIN)
        .args([
            "run",
            "--disk",
            &bad,
            "--snapshot",
            "--input",
            "ls\\n",
            "--timeout",
            "60",
        ])
        .args(["--gdb", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    common::collect_into(child.stderr.take().unwrap(), stderr.clone());
    let end = Instant::now() + Duration::from_secs(30);
    while !stderr.lock().unwrap().contains("no wake-up source") && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    let said = stderr.lock().unwrap().clone();
    assert!(
        said.contains("all harts wait with no wake-up source (gdb can still look)"),
        "{said}"
    );
    std::thread::sleep(Duration::from_millis(500));
    let running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(running, "exited although gdb may attach: {said}");
}

#[test]
fn a_bare_program_waiting_on_a_timer_ends_at_its_limits() {
    let dir = scratch("timer");
    let never = write(&dir, "never.elf", &timer_wait_elf(None));
    let far = write(&dir, "far.elf", &timer_wait_elf(Some(50)));

    // No deadline at all: halted at once, under run and test-elf.
    let (out, _) = xv6scope_within(
        30,
        &["run", "--kernel", &never, "--smp", "1", "--input", "x"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "waiting\n");
    assert!(text(&out.stderr).contains("all harts wait with no wake-up source"));
    let (out, _) = xv6scope_within(30, &["test-elf", &never]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("FAIL never.elf: all harts wait with no wake-up source"),
        "{}",
        text(&out.stdout)
    );

    // A deadline 2^50 ticks (3.5 guest years) away: --timeout and --max-cycles still hold.
    let (out, took) = xv6scope_within(30, &["run", "--kernel", &far, "--timeout", "2"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("timeout after 2.0 s"));
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let (out, _) = xv6scope_within(30, &["test-elf", "--max-cycles", "100000000", &far]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("no verdict after 100000000 cycles"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn devices_fifos_and_huge_files_are_refused_with_one_line() {
    let dir = scratch("inputs");
    let fifo = dir.join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let fifo = fifo.to_str().unwrap();
    for (args, needle) in [
        (
            vec!["run", "--disk", "/dev/zero", "--timeout", "5"],
            "disk image /dev/zero is not a regular file (it is a character device)",
        ),
        (
            vec!["run", "--kernel", "/dev/zero", "--timeout", "5"],
            "kernel /dev/zero is not a regular file",
        ),
        (
            vec!["run", "--disk", fifo, "--timeout", "5"],
            "is not a regular file (it is a FIFO)",
        ),
        (vec!["run", "--kernel", fifo], "(it is a FIFO)"),
        (vec!["test-elf", "/dev/zero"], "test ELF /dev/zero"),
        (vec!["walk", "--check", fifo], "walkthrough"),
        (
            vec!["walk", "--check", "/dev/zero"],
            "walkthrough /dev/zero",
        ),
        (vec!["run", "--kernel", "/tmp"], "(it is a directory)"),
    ] {
        let (out, _) = xv6scope_within(30, &args);
        assert_one_line_error(&out, needle);
    }
    // A sparse 2 GiB disk image: over the 1 GiB limit, refused before it is read.
    let big = dir.join("big.img");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    let (out, _) = xv6scope_within(30, &["run", "--disk", big.to_str().unwrap()]);
    assert_one_line_error(&out, "is too large: 2048 MiB (at most 1024 MiB)");
}

#[test]
fn option_ranges_and_missing_arguments_are_one_line() {
    for bad in ["inf", "1e20", "1e300", "1e19", "-1", "nan", "0", "soon"] {
        let (out, _) = xv6scope_within(30, &["run", "--timeout", bad, "--input", "x"]);
        assert_one_line_error(
            &out,
            &format!("invalid value '{bad}' for '--timeout <SECS>'"),
        );
    }
    for (args, missing) in [
        (vec!["test-elf"], "<FILE>"),
        (vec!["walk"], "<FILE>"),
        (vec!["image"], "--out <DIR>"),
    ] {
        let (out, _) = xv6scope_within(30, &args);
        assert_one_line_error(&out, &format!("were not provided: {missing}"));
    }
    for bad in ["proc=", ",,,", "pid=", "read,,write"] {
        let (out, _) = xv6scope_within(30, &["run", &format!("--strace={bad}"), "--input", "x"]);
        assert_one_line_error(&out, "--strace=");
    }
    let (out, _) = xv6scope_within(30, &["run", "--help"]);
    assert!(text(&out.stdout).contains("127.0.0.1 only"));
}

#[test]
fn a_newline_free_flood_stays_in_bounded_memory_and_times_out() {
    let dir = scratch("flood");
    let flood = write(&dir, "flood.elf", &flood_elf());
    let mut child = Command::new(BIN)
        .args([
            "run",
            "--kernel",
            &flood,
            "--until",
            "never there",
            "--timeout",
            "3",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Peak resident memory so far, near the end of the flood.
    std::thread::sleep(Duration::from_millis(2500));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status");
    let exit = wait_within(&mut child, Duration::from_secs(30));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(exit.code(), Some(1), "{stderr}");
    assert!(stderr.contains("timeout after 3.0 s waiting for \"never there\""));
    // 128 MiB of guest RAM plus the host's own: far below what an unbounded buffer reaches
    // after 2.5 s of a flood (hundreds of MB).
    assert!(peak_kib < 400 * 1024, "peaked at {peak_kib} KiB");
}

/// `xv6scope run --disk IMG` on the bundled kernel with the console on pipes, stdin open.
struct Live {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
    console: std::sync::Arc<std::sync::Mutex<String>>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Live {
    fn start(img: &str, keep_stdout: bool) -> (Live, Option<std::process::ChildStdout>) {
        let mut child = Command::new(BIN)
            .args(["run", "--disk", img, "--timeout", "120"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let console = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        common::collect_into(child.stderr.take().unwrap(), stderr.clone());
        let stdout = child.stdout.take().unwrap();
        let stdout = if keep_stdout {
            Some(stdout)
        } else {
            common::collect_into(stdout, console.clone());
            None
        };
        let stdin = child.stdin.take();
        (
            Live {
                child,
                stdin,
                console,
                stderr,
            },
            stdout,
        )
    }

    fn type_text(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        let _ = stdin.write_all(text.as_bytes());
        let _ = stdin.flush();
    }

    fn wait_console(&self, needle: &str) {
        let end = Instant::now() + Duration::from_secs(60);
        while Instant::now() < end {
            if self.console.lock().unwrap().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "{needle:?} never appeared: {}",
            self.console.lock().unwrap()
        );
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig}");
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Boots `img` read-only (--snapshot) and checks that file `name` holds `content`.
fn assert_file_on_image(img: &str, name: &str, content: &str) {
    let (out, _) = xv6scope_within(
        120,
        &[
            "run",
            "--disk",
            img,
            "--snapshot",
            "--input",
            &format!("cat {name}\\n"),
            "--until",
            content,
            "--timeout",
            "60",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{name} does not hold {content:?} on {img}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn no_temporary_files(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".tmp"), "left behind: {name}");
    }
}

#[test]
fn sigterm_sighup_and_sigint_write_the_disk_back_before_exiting() {
    let dir = common::bundled_image("rely-signals");
    let fresh = std::fs::read(dir.join("fs.img")).unwrap();
    for (sig, code) in [("TERM", 143), ("HUP", 129), ("INT", 130)] {
        let img = write(&dir, &format!("{sig}.img"), &fresh);
        let (mut g, _) = Live::start(&img, false);
        g.type_text(&format!("echo hello-{sig} > f\nwc f\n"));
        // wc's answer (lines, words, bytes, name), which the typed line does not contain.
        g.wait_console(&format!("1 1 {} f", "hello-".len() + sig.len() + 1));
        g.signal(sig);
        let status = wait_within(&mut g.child, Duration::from_secs(30));
        assert_eq!(status.code(), Some(code), "{}", g.stderr());
        assert!(g.stderr().contains(&format!("stopped by SIG{sig}")));
        assert_file_on_image(&img, "f", &format!("hello-{sig}"));
    }
    no_temporary_files(&dir);
}

#[test]
fn a_killed_run_has_written_its_disk_back_within_a_second() {
    let dir = common::bundled_image("rely-kill");
    let img = dir.join("fs.img").to_str().unwrap().to_string();
    let (mut g, _) = Live::start(&img, false);
    g.type_text("echo survived > k\nwc k\n");
    g.wait_console("1 1 9 k");
    // SIGKILL cannot be handled: only the periodic write-back (at most a second after the
    // write) can have saved the file.
    std::thread::sleep(Duration::from_millis(2500));
    g.signal("KILL");
    wait_within(&mut g.child, Duration::from_secs(30));
    assert_file_on_image(&img, "k", "survived");
    no_temporary_files(&dir);
}

#[test]
fn a_host_error_still_writes_the_disk_back() {
    let dir = common::bundled_image("rely-epipe");
    let img = dir.join("fs.img").to_str().unwrap().to_string();
    let (mut g, stdout) = Live::start(&img, true);
    g.type_text("echo piped > p\nwc p\n");
    // Read the console until wc answered, then close it: the next output fails (EPIPE).
    let mut stdout = stdout.unwrap();
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    while !text(&seen).contains("1 1 6 p") {
        let n = stdout.read(&mut chunk).unwrap();
        assert!(n > 0, "console ended: {}", text(&seen));
        seen.extend_from_slice(&chunk[..n]);
    }
    drop(stdout);
    g.type_text("ls\nls\nls\n");
    let status = wait_within(&mut g.child, Duration::from_secs(30));
    assert_eq!(status.code(), Some(2), "{}", g.stderr());
    assert!(g.stderr().contains("Broken pipe"), "{}", g.stderr());
    assert_file_on_image(&img, "p", "piped");
}

#[test]
fn a_read_only_image_is_refused_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = common::bundled_image("rely-ro");
    let img = dir.join("fs.img");
    std::fs::set_permissions(&img, std::fs::Permissions::from_mode(0o444)).unwrap();
    let img = img.to_str().unwrap();
    let (out, _) = xv6scope_within(30, &["run", "--disk", img, "--input", "x"]);
    assert_one_line_error(&out, "is read-only (pass --snapshot");
    let (out, _) = xv6scope_within(
        60,
        &[
            "run",
            "--disk",
            img,
            "--snapshot",
            "--input",
            "ls\\n",
            "--until",
            "README",
            "--timeout",
            "30",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_file_system_at_write_back_leaves_the_image_intact() {
    let dir = common::bundled_image("rely-full");
    let Some(fs) = Tmpfs::mount(&dir.join("small"), "3m") else {
        // The disk module's unit test injects ENOSPC instead (a_failed_write_back_...).
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    // A 2,048,000-byte image on a 3 MiB file system: no room for the new copy beside it.
    let fresh = std::fs::read(dir.join("fs.img")).unwrap();
    let img = write(&fs.0, "fs.img", &fresh);
    let (mut g, _) = Live::start(&img, false);
    g.type_text("echo lost > l\nwc l\n");
    g.wait_console("1 1 5 l");
    g.signal("TERM");
    let status = wait_within(&mut g.child, Duration::from_secs(30));
    let stderr = g.stderr();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the file is unchanged"), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert_eq!(std::fs::read(&img).unwrap(), fresh, "the image changed");
    no_temporary_files(&fs.0);
}

/// `kernel` with the contents of section `name` overwritten by 0xa5 bytes (the header kept),
/// read from the ELF64 section headers.
fn corrupt_section(kernel: &[u8], name: &str) -> Vec<u8> {
    let u16_at = |o: usize| u16::from_le_bytes(kernel[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(kernel[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(kernel[o..o + 8].try_into().unwrap()) as usize;
    let (shoff, shentsize, shnum, shstrndx) =
        (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let sh = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(sh(shstrndx) + 0x18);
    for i in 0..shnum {
        let n = strtab + u32_at(sh(i));
        let end = n + kernel[n..].iter().position(|&b| b == 0).unwrap();
        if &kernel[n..end] == name.as_bytes() {
            let (off, size) = (u64_at(sh(i) + 0x18), u64_at(sh(i) + 0x20));
            let mut out = kernel.to_vec();
            out[off..off + size].fill(0xa5);
            return out;
        }
    }
    panic!("no section {name} in the kernel");
}

#[test]
fn strace_on_a_kernel_with_a_corrupt_symbol_table_or_dwarf_names_the_section() {
    let dir = common::bundled_image("rely-corrupt-syms");
    let kernel = std::fs::read(dir.join("kernel")).unwrap();
    let disk = dir.join("fs.img");
    for section in [".symtab", ".debug_info"] {
        let bad = write(&dir, "bad-kernel", &corrupt_section(&kernel, section));
        let (out, _) = xv6scope_within(
            30,
            &[
                "run",
                "--kernel",
                &bad,
                "--disk",
                disk.to_str().unwrap(),
                "--snapshot",
                "--strace",
                "--input",
                "x",
            ],
        );
        assert_one_line_error(
            &out,
            &format!(
                "--strace needs the kernel's symbols, which cannot be read: kernel: section {section} is corrupt"
            ),
        );
        assert!(
            !text(&out.stderr).contains("trampoline"),
            "{}",
            text(&out.stderr)
        );
    }
}
