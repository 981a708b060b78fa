//! What the integration tests share: the built `xv6scope` and a run of it with assertions on
//! its status and output, the skip notice for a test whose inputs are missing, MIT's built
//! xv6-riscv tree (`XV6SCOPE_MIT_XV6`), the bundled image, and for the gdb tests a guest with
//! a gdb server, gdb-multiarch in batch mode, and assertions on what gdb prints.
#![allow(dead_code)] // each test file uses its own part

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Returns from the test, saying why, when gdb-multiarch is missing (CI installs it).
#[macro_export]
macro_rules! require_gdb {
    () => {
        if !$crate::common::have_gdb() {
            $crate::common::skip("gdb-multiarch is not installed");
            return;
        }
    };
}

/// The `xv6scope` binary Cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_xv6scope");

/// Runs `xv6scope ARGS` with stdin closed, to its end.
pub fn xv6scope<A: AsRef<OsStr>>(args: impl IntoIterator<Item = A>) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run xv6scope")
}

/// Asserts that a run of xv6scope exited with `code` (showing its stdout and stderr if not);
/// returns its stdout (for `run`, the guest console).
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "xv6scope exited with {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Asserts that a run of xv6scope succeeded and printed every one of `wanted` on stdout (for
/// `run`, the guest console); returns its stdout.
#[track_caller]
pub fn assert_console(out: &Output, wanted: &[&str]) -> String {
    let stdout = assert_exit(out, 0);
    for w in wanted {
        assert!(stdout.contains(w), "{w:?} missing from stdout:\n{stdout}");
    }
    stdout
}

/// Says that the running test is skipped and why. It goes to the process's stderr itself, not
/// through `eprintln!`, which the test harness captures and shows only for failures: a test
/// that passes because its inputs are missing says so in every `cargo test`.
pub fn skip(why: &str) {
    let thread = std::thread::current();
    let test = thread.name().filter(|n| *n != "main").unwrap_or("a test");
    let _ = writeln!(std::io::stderr(), "skipped {test}: {why}");
}

/// MIT's built xv6-riscv tree, named by `XV6SCOPE_MIT_XV6`.
pub struct MitXv6 {
    /// The tree (sources under kernel/ and user/, for file:line breakpoints and symbols).
    pub dir: PathBuf,
    /// kernel/kernel, with its DWARF.
    pub kernel: PathBuf,
    /// fs.img: pass `--snapshot` or use [`MitXv6::scratch_fs`], so that runs leave it as it is.
    pub fs: PathBuf,
}

/// MIT's tree from `XV6SCOPE_MIT_XV6`, or None after saying that the test is skipped (the
/// variable is unset: nothing to boot). A variable naming a folder without the built kernel
/// and fs.img fails the test.
pub fn mit_xv6() -> Option<MitXv6> {
    let Some(dir) = std::env::var_os("XV6SCOPE_MIT_XV6").map(PathBuf::from) else {
        skip("XV6SCOPE_MIT_XV6 is not set (a built MIT xv6-riscv tree: kernel/kernel, fs.img)");
        return None;
    };
    let mit = MitXv6 {
        kernel: dir.join("kernel/kernel"),
        fs: dir.join("fs.img"),
        dir,
    };
    for f in [&mit.kernel, &mit.fs] {
        assert!(
            f.is_file(),
            "XV6SCOPE_MIT_XV6 names {}, which has no {} (build MIT's xv6 there)",
            mit.dir.display(),
            f.display()
        );
    }
    Some(mit)
}

impl MitXv6 {
    /// A copy of MIT's fs.img in the temporary directory, for a run that writes to its disk.
    pub fn scratch_fs(&self, name: &str) -> PathBuf {
        let scratch =
            std::env::temp_dir().join(format!("xv6scope-mit-{}-{name}.img", std::process::id()));
        std::fs::copy(&self.fs, &scratch).expect("copy MIT fs.img");
        scratch
    }
}

pub fn have_gdb() -> bool {
    Command::new("gdb-multiarch")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `xv6scope image --out DIR` into a fresh directory; returns DIR (kernel, fs.img, user/).
pub fn bundled_image(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xv6scope-image-{name}-{}", std::process::id()));
    assert_exit(
        &xv6scope([OsStr::new("image"), "--out".as_ref(), dir.as_os_str()]),
        0,
    );
    assert!(
        dir.join("kernel").is_file(),
        "no kernel in {}",
        dir.display()
    );
    dir
}

pub fn collect_into(
    stream: impl Read + Send + 'static,
    buf: Arc<Mutex<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut stream = stream;
        let mut chunk = [0u8; 4096];
        while let Ok(n) = stream.read(&mut chunk) {
            if n == 0 {
                break;
            }
            buf.lock()
                .expect("lock")
                .push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    })
}

/// `xv6scope run --gdb 127.0.0.1:PORT --gdb-wait` (the bundled kernel unless the arguments
/// name another); killed when dropped.
pub struct Guest {
    pub child: Child,
    pub port: u16,
    pub stderr: Arc<Mutex<String>>,
    /// The guest console (xv6scope's stdout).
    pub console: Arc<Mutex<String>>,
}

impl Guest {
    /// The bundled kernel with `input` typed at the console.
    pub fn start(input: &str) -> Guest {
        Guest::start_with(&["--input", input])
    }

    /// `xv6scope run ARGS` with a gdb server that waits for its client (and a 300 s timeout).
    pub fn start_with(args: &[&str]) -> Guest {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new(BIN)
            .arg("run")
            .args(args)
            .args(["--timeout", "300", "--gdb"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--gdb-wait")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start xv6scope");
        let stderr = Arc::new(Mutex::new(String::new()));
        let _ = collect_into(child.stderr.take().expect("stderr"), stderr.clone());
        let console = Arc::new(Mutex::new(String::new()));
        let _ = collect_into(child.stdout.take().expect("stdout"), console.clone());
        let g = Guest {
            child,
            port,
            stderr,
            console,
        };
        // Probing the port would attach; the server's own line says it listens.
        assert!(
            g.wait_stderr("gdb server on", Duration::from_secs(20)),
            "no gdb server: {}",
            g.stderr()
        );
        g
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("lock").clone()
    }

    pub fn console(&self) -> String {
        self.console.lock().expect("lock").clone()
    }

    pub fn wait_stderr(&self, needle: &str, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.stderr().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Waits until `n` clients have attached in all.
    pub fn wait_sessions(&self, n: usize) {
        let end = Instant::now() + Duration::from_secs(20);
        while self.stderr().matches("gdb attached from").count() < n && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `c` with stdout and stderr on one pipe, as on a terminal: what the program writes
/// to either arrives in the order it wrote it (two pipes read by two threads interleave
/// arbitrarily, splitting gdb's stop notices into the middle of `monitor` tables).
pub fn spawn_merged(mut c: Command) -> (Child, std::io::PipeReader) {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    let child = c
        .stdin(Stdio::null())
        .stdout(writer.try_clone().expect("a pipe"))
        .stderr(writer)
        .spawn()
        .expect("start gdb-multiarch");
    // `c` holds the write ends until dropped; the reader sees end of file only after that.
    drop(c);
    (child, reader)
}

/// Runs gdb-multiarch in batch mode on `kernel` against `port` (any port: none attaches);
/// kills it after `timeout`, and returns stdout and stderr together.
pub fn gdb(kernel: &Path, port: Option<u16>, cmds: &[&str], timeout: Duration) -> String {
    let mut c = Command::new("gdb-multiarch");
    c.args(["-batch", "-nx"]).arg(kernel);
    c.args(["-ex", "set pagination off", "-ex", "set confirm off"]);
    if let Some(port) = port {
        c.args(["-ex", &format!("target remote :{port}")]);
    }
    for cmd in cmds {
        c.args(["-ex", cmd]);
    }
    let (child, reader) = spawn_merged(c);
    let mut child = child;
    let out = Arc::new(Mutex::new(String::new()));
    let readers = [collect_into(reader, out.clone())];
    let end = Instant::now() + timeout;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "gdb did not finish in {timeout:?}; it printed:\n{}",
                out.lock().expect("lock")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // The readers end at end of file: all gdb printed is then in `out`.
    for r in readers {
        let _ = r.join();
    }
    out.lock().expect("lock").clone()
}

#[track_caller]
pub fn assert_has(out: &str, needle: &str) {
    assert!(
        out.contains(needle),
        "expected {needle:?} in gdb's output:\n{out}"
    );
}

/// The lines of `out` that start with `prefix`, without it.
pub fn lines_after<'a>(out: &'a str, prefix: &'a str) -> impl Iterator<Item = &'a str> {
    out.lines().filter_map(move |l| l.strip_prefix(prefix))
}
