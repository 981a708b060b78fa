//! What the gdb tests on the bundled kernel share: the bundled image, a guest with a gdb
//! server, gdb-multiarch in batch mode, and assertions on what gdb prints.
#![allow(dead_code)] // each test file uses its own part

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Returns from the test, saying why, when gdb-multiarch is missing (CI installs it).
#[macro_export]
macro_rules! require_gdb {
    () => {
        if !$crate::common::have_gdb() {
            eprintln!("skipped: gdb-multiarch is not installed");
            return;
        }
    };
}

pub const BIN: &str = env!("CARGO_BIN_EXE_xv6scope");

pub fn have_gdb() -> bool {
    Command::new("gdb-multiarch")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `xv6scope image --out DIR` into a fresh directory; returns DIR.
pub fn bundled_image(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xv6scope-gdbtest-{name}-{}", std::process::id()));
    let out = Command::new(BIN)
        .args(["image", "--out"])
        .arg(&dir)
        .output()
        .expect("xv6scope image");
    assert!(
        out.status.success(),
        "xv6scope image failed: {}",
        String::from_utf8_lossy(&out.stderr)
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
