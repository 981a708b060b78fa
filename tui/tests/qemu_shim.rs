//! The QEMU drop-in from the outside: xv6scope under the name `qemu-system-riscv64`.
//!
//! - `shim_*`: the binary through a symlink made by `install-qemu-shim` answers `-version`
//!   and `-help` as the Makefiles expect, refuses what it does not do with one line and exit
//!   status 1, and turns real Makefile lines into the xv6scope command they amount to
//!   (`XV6SCOPE_DRY_RUN=1`). Always run.
//! - `qemu_line_boots_the_bundled_kernel`: a QEMU line boots the bundled kernel to `$ ` and
//!   writes its disk through to the image file. Always run.
//! - `mit_make_qemu` and `mit_make_qemu_gdb`: MIT's own tree (`XV6SCOPE_MIT_XV6`, copied to
//!   a scratch folder first) with the shim first on PATH: `make qemu` boots to `$ ` and runs
//!   a command; `make qemu-gdb` plus gdb-multiarch with the `.gdbinit` the Makefile writes
//!   stops at a breakpoint on `main`. Skipped with a message when the variable, `make` or
//!   gdb-multiarch is missing.
//!
//! Every child is bounded in time. A child is ended with SIGTERM to its own pid, as `make
//! grade` ends QEMU: make passes the signal on to the emulator it started.

mod common;

use common::{BIN, assert_exit, skip};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A scratch folder with the shim in it, made by `xv6scope install-qemu-shim`.
fn shim(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xv6scope-shim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(BIN)
        .args(["install-qemu-shim"])
        .arg(&dir)
        .output()
        .expect("run install-qemu-shim");
    let said = assert_exit(&out, 0);
    assert!(said.contains("qemu-system-riscv64 ->"), "{said}");
    let link = dir.join("qemu-system-riscv64");
    assert!(
        std::fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink()),
        "no symlink at {}",
        link.display()
    );
    dir
}

/// Runs the shim with `args` (and `env`), stdin closed.
fn qemu(dir: &Path, args: &str, env: &[(&str, &str)]) -> Output {
    Command::new(dir.join("qemu-system-riscv64"))
        .args(args.split_whitespace())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run the shim")
}

const BASE: &str = "-machine virt -bios none -kernel kernel/kernel -m 128M -smp 3 -nographic \
                    -drive file=fs.img,if=none,format=raw,id=x0 \
                    -device virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0";

#[test]
fn shim_answers_version_and_help_as_makefiles_expect() {
    let dir = shim("version");
    let v = assert_exit(&qemu(&dir, "-version", &[]), 0);
    assert!(v.starts_with("QEMU emulator version "), "{v}");
    assert!(v.contains("xv6scope"), "{v}");
    // The Makefiles pick `-gdb tcp::PORT` when `qemu -help | grep -q '^-gdb'`.
    let h = assert_exit(&qemu(&dir, "-help", &[]), 0);
    assert!(h.lines().any(|l| l.starts_with("-gdb")), "{h}");
    // `xv6scope qemu` is the same front end.
    let out = Command::new(BIN)
        .args(["qemu", "-version"])
        .output()
        .expect("run xv6scope qemu");
    assert_eq!(assert_exit(&out, 0), v);
}

#[test]
fn shim_refuses_with_one_line_and_status_1() {
    let dir = shim("refuse");
    let cases = [
        (
            format!("{BASE} -netdev tap,id=net0"),
            "-netdev: tap: xv6scope's network is QEMU's user network",
        ),
        (
            format!("{BASE} -device e1000,netdev=net0,bus=pcie.0"),
            "-device: netdev=net0: no -netdev with that id",
        ),
        (
            format!("{BASE} -cpu rv64"),
            "-cpu: not supported by xv6scope",
        ),
        (BASE.replace("-nographic", ""), "no -nographic"),
        (
            BASE.replace("format=raw", "format=qcow2"),
            "format=qcow2: only raw",
        ),
    ];
    for (line, says) in cases {
        let out = qemu(&dir, &line, &[]);
        assert_eq!(out.status.code(), Some(1), "{line}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{line}: {err}");
        assert!(err.contains(says), "{line}: {err}");
        assert!(out.stdout.is_empty(), "{line}");
    }
}

#[test]
fn shim_maps_makefile_lines_to_xv6scope_options() {
    let dir = shim("dry");
    let dry = [("XV6SCOPE_DRY_RUN", "1")];
    let table = [
        // 2020, 2021: legacy, QEMU's default.
        (
            BASE.to_string(),
            "xv6scope run --kernel kernel/kernel --disk fs.img --smp 3 --mem 128 --virtio-version 1",
        ),
        // 2022 on, make qemu-gdb.
        (
            format!("{BASE} -global virtio-mmio.force-legacy=false -S -gdb tcp::26000"),
            "xv6scope run --kernel kernel/kernel --disk fs.img --smp 3 --mem 128 \
             --virtio-version 2 --gdb tcp::26000 --gdb-wait",
        ),
        // 2024 pgtbl's -m 256M; CPUS=1.
        (
            BASE.replace("128M", "256M").replace("-smp 3", "-smp 1"),
            "xv6scope run --kernel kernel/kernel --disk fs.img --smp 1 --mem 256 --virtio-version 1",
        ),
        (
            format!("{BASE} -snapshot -display xv6scope"),
            "xv6scope tui --kernel kernel/kernel --disk fs.img --snapshot --smp 3 --mem 128 \
             --virtio-version 1",
        ),
    ];
    for (line, want) in table {
        let got = assert_exit(&qemu(&dir, &line, &dry), 0);
        assert_eq!(got.trim(), want, "{line}");
    }
    let got = assert_exit(
        &qemu(
            &dir,
            BASE,
            &[("XV6SCOPE_DRY_RUN", "1"), ("XV6SCOPE_TUI", "1")],
        ),
        0,
    );
    assert!(got.starts_with("xv6scope tui "), "{got}");
}

/// A child with stdout and stderr merged into one buffer and stdin piped; ended with
/// SIGTERM (then SIGKILL) when dropped.
struct Proc {
    child: Child,
    out: Arc<Mutex<String>>,
}

impl Proc {
    fn start(mut c: Command) -> Proc {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        c.stdin(Stdio::piped())
            .stdout(writer.try_clone().expect("a pipe"))
            .stderr(writer);
        let child = c.spawn().expect("start the child");
        drop(c);
        let out = Arc::new(Mutex::new(String::new()));
        let _ = common::collect_into(reader, out.clone());
        Proc { child, out }
    }

    fn output(&self) -> String {
        self.out.lock().expect("lock").clone()
    }

    /// Waits until the output has `needle` (after `from` bytes), failing after `timeout`.
    #[track_caller]
    fn wait_for(&self, needle: &str, timeout: Duration) {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.output().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "no {needle:?} within {timeout:?}; output:\n{}",
            self.output()
        );
    }

    fn type_text(&mut self, text: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin.write_all(text.as_bytes()).expect("write stdin");
        stdin.flush().expect("flush stdin");
    }

    /// SIGTERM to the child's own pid (as `make grade` ends QEMU), then waits up to 10 s.
    fn terminate(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-s", "TERM", "--"])
            .arg(self.child.id().to_string())
            .status();
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.terminate();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn qemu_line_boots_the_bundled_kernel() {
    let image = common::bundled_image("qemu-line");
    let shim = shim("bundled");
    let fs = image.join("fs.img");
    let before = std::fs::read(&fs).expect("read fs.img");
    let line = format!(
        "-machine virt -bios none -kernel {} -m 128M -smp 2 -nographic \
         -global virtio-mmio.force-legacy=false \
         -drive file={},if=none,format=raw,id=x0 \
         -device virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0",
        image.join("kernel").display(),
        fs.display()
    );
    let mut c = Command::new(shim.join("qemu-system-riscv64"));
    c.args(line.split_whitespace());
    let mut p = Proc::start(c);
    p.wait_for("$ ", Duration::from_secs(60));
    p.type_text("echo written > shimfile\n");
    p.wait_for("$ ", Duration::from_secs(30));
    // The write reaches the image while the guest runs, and SIGTERM loses nothing, as on
    // QEMU.
    let has_entry = || {
        std::fs::read(&fs)
            .expect("read fs.img")
            .windows(8)
            .any(|w| w == b"shimfile")
    };
    let end = Instant::now() + Duration::from_secs(30);
    while !has_entry() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        has_entry(),
        "the guest's write never reached fs.img while it ran"
    );
    p.terminate();
    let after = std::fs::read(&fs).expect("read fs.img");
    assert_ne!(after, before);
    assert!(
        has_entry(),
        "no directory entry `shimfile` in fs.img after SIGTERM"
    );
}

/// MIT's tree copied to a scratch folder (so that `make` and the guest's writes leave the
/// original alone), or None after saying why the test is skipped.
fn mit_tree(name: &str) -> Option<PathBuf> {
    let mit = common::mit_xv6()?;
    if !mit.dir.join("Makefile").is_file() {
        skip("XV6SCOPE_MIT_XV6 has no Makefile");
        return None;
    }
    if Command::new("make").arg("--version").output().is_err() {
        skip("make is not installed");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("xv6scope-mit-tree-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // `cp -a` keeps the times, so make sees the built kernel and fs.img as up to date.
    let ok = Command::new("cp")
        .arg("-a")
        .arg(&mit.dir)
        .arg(&dir)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "cannot copy {} to {}", mit.dir.display(), dir.display());
    Some(dir)
}

/// `make TARGET ARGS` in `tree` with the shim first on PATH.
fn make(tree: &Path, shim: &Path, args: &[&str]) -> Command {
    let path = format!(
        "{}:{}",
        shim.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = Command::new("make");
    c.current_dir(tree)
        .env("PATH", path)
        .env_remove("XV6SCOPE_TUI")
        .args(args);
    c
}

#[test]
fn mit_make_qemu() {
    let Some(tree) = mit_tree("qemu") else { return };
    let shim = shim("mit-qemu");
    let mut p = Proc::start(make(&tree, &shim, &["qemu"]));
    p.wait_for("$ ", Duration::from_secs(120));
    let out = p.output();
    assert!(out.contains("qemu-system-riscv64 -machine virt"), "{out}");
    assert!(out.contains("xv6 kernel is booting"), "{out}");
    p.type_text("echo shim-works\n");
    p.wait_for("\nshim-works", Duration::from_secs(30));
    p.terminate();
    let _ = std::fs::remove_dir_all(&tree);
}

#[test]
fn mit_make_qemu_gdb() {
    if !common::have_gdb() {
        skip("gdb-multiarch is not installed");
        return;
    }
    let Some(tree) = mit_tree("qemu-gdb") else {
        return;
    };
    let shim = shim("mit-qemu-gdb");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let gdbport = format!("GDBPORT={port}");
    let p = Proc::start(make(&tree, &shim, &["qemu-gdb", &gdbport]));
    p.wait_for("gdb server on", Duration::from_secs(120));
    let gdbinit = std::fs::read_to_string(tree.join(".gdbinit")).expect("make wrote .gdbinit");
    assert!(gdbinit.contains(&format!(":{port}")), "{gdbinit}");
    // As the lab handout says: gdb in the tree, reading the .gdbinit the Makefile wrote.
    let mut c = Command::new("gdb-multiarch");
    c.current_dir(&tree).args([
        "-batch",
        "-nx",
        "-x",
        ".gdbinit",
        "-ex",
        "break main",
        "-ex",
        "continue",
        "-ex",
        "info registers pc",
        "-ex",
        "kill",
    ]);
    let g = Proc::start(c);
    let end = Instant::now() + Duration::from_secs(120);
    let mut g = g;
    while g.child.try_wait().ok().flatten().is_none() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = g.output();
    assert!(
        out.contains("Breakpoint 1, main ()"),
        "gdb did not stop at main:\n{out}"
    );
    assert!(out.contains("<main"), "{out}");
    let mut p = p;
    p.terminate();
    let _ = std::fs::remove_dir_all(&tree);
}

/// gradelib.py's gdb client: packets without acknowledgements, no handshake.
struct Gradelib {
    sock: std::net::TcpStream,
}

impl Gradelib {
    fn connect(port: u16) -> Gradelib {
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            match std::net::TcpStream::connect(("127.0.0.1", port)) {
                Ok(sock) => return Gradelib { sock },
                Err(e) if Instant::now() >= end => panic!("cannot connect to :{port}: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    fn send(&mut self, cmd: &str) {
        let sum = cmd.bytes().fold(0u8, |s, b| s.wrapping_add(b));
        self.sock
            .write_all(format!("${cmd}#{sum:02x}").as_bytes())
            .expect("send a packet");
    }

    /// Reads until a packet starting with `T05` arrives (gradelib's breakpoint), failing
    /// after `timeout`.
    fn wait_t05(&mut self, timeout: Duration) -> String {
        use std::io::Read;
        self.sock
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let end = Instant::now() + timeout;
        let mut got = String::new();
        let mut buf = [0u8; 4096];
        while Instant::now() < end {
            if let Ok(n) = self.sock.read(&mut buf) {
                got.push_str(&String::from_utf8_lossy(&buf[..n]));
                if got.contains("$T05") {
                    return got;
                }
            }
        }
        panic!("no T05 stop within {timeout:?}; got {got:?}");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[test]
fn gradelib_continue_runs_every_hart_and_the_console() {
    // `make qemu-gdb` as the grade script starts it: -S, then its client's bare `c`; it then
    // types at the console. A `c` that resumed one hart alone left a 2024 kernel deaf.
    let image = common::bundled_image("gradelib");
    let shim = shim("gradelib");
    let port = free_port();
    let line = format!(
        "-machine virt -bios none -kernel {} -m 128M -smp 3 -nographic -snapshot \
         -global virtio-mmio.force-legacy=false \
         -drive file={},if=none,format=raw,id=x0 \
         -device virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0 -S -gdb tcp::{port}",
        image.join("kernel").display(),
        image.join("fs.img").display()
    );
    let mut c = Command::new(shim.join("qemu-system-riscv64"));
    c.args(line.split_whitespace());
    let mut p = Proc::start(c);
    p.wait_for("gdb server on", Duration::from_secs(30));
    let mut client = Gradelib::connect(port);
    client.send("c");
    p.wait_for("$ ", Duration::from_secs(60));
    p.type_text("echo grade-ok\n");
    p.wait_for("\ngrade-ok", Duration::from_secs(30));
    let out = p.output();
    assert!(out.contains("hart 2 starting"), "hart 2 never ran:\n{out}");
}

/// The address of `name` in the tree's kernel/kernel.sym (MIT's build writes it).
fn sym(tree: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(tree.join("kernel/kernel.sym")).ok()?;
    text.lines()
        .find_map(|l| l.strip_suffix(&format!(" {name}")))
        .map(|a| a.trim_start_matches('0').to_string())
}

#[test]
fn mit_make_qemu_gdb_with_gradelibs_client() {
    let Some(tree) = mit_tree("gradelib") else {
        return;
    };
    let (Some(main), Some(sys_kill)) = (sym(&tree, "main"), sym(&tree, "sys_kill")) else {
        skip("XV6SCOPE_MIT_XV6 has no kernel/kernel.sym naming main and sys_kill");
        return;
    };
    let shim = shim("mit-gradelib");
    // As the util lab's "sleep, makes syscall": stop at main, then in a system call once a
    // command is typed (sys_kill: a stock tree has no `sleep`, but `kill`); the console must
    // show the command before the stop reaches the client.
    let port = free_port();
    let gdbport = format!("GDBPORT={port}");
    let args = ["-s", "--no-print-directory", "qemu-gdb", &gdbport];
    let mut p = Proc::start(make(&tree, &shim, &args));
    p.wait_for("\n", Duration::from_secs(120));
    let mut client = Gradelib::connect(port);
    client.send(&format!("Z1,{main},1"));
    client.send("c");
    client.wait_t05(Duration::from_secs(60));
    client.send(&format!("z1,{main},1"));
    client.send(&format!("Z1,{sys_kill},1"));
    client.send("c");
    p.wait_for("$ ", Duration::from_secs(60));
    p.type_text("kill 99\n");
    client.wait_t05(Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(300));
    let out = p.output();
    assert!(
        out.contains("$ kill 99"),
        "the echo did not come before the stop:\n{out}"
    );
    p.terminate();
    let _ = std::fs::remove_dir_all(&tree);
}
