//! The bundled Rust xv6 kernel: it boots to the shell on our machine with one and three harts,
//! a scripted session gives xv6's answers, the same kernel and fs.img boot on
//! qemu-system-riscv64 (the reference machine), and its disk format interchanges with MIT's.

use machine::board::{QemuSerial, qemu_args};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;
use common::*;

/// The session of the kernel issue; its last command's output ends the run.
const SESSION: &str = "ls\\necho hi > f\\ncat f\\nmkdir d\\nrm f\\nls d\\necho a | wc\\n";

fn check_session(console: &str) {
    for wanted in ["init: starting sh", "README", "console", "1 1 2"] {
        assert!(
            console.contains(wanted),
            "{wanted:?} missing from:\n{console}"
        );
    }
    // `cat f` prints what `echo hi > f` wrote (the typed-ahead input echo has "hi > f").
    assert!(console.contains("hi\n"), "no output of cat f:\n{console}");
    // `ls` and `ls d` each list `..` (padded to DIRSIZ as xv6's ls does); typed-ahead input
    // may interleave with the output, so count occurrences rather than lines.
    let dotdot = console.matches("..            ").count();
    assert!(dotdot >= 2, "ls and ls d should each list ..:\n{console}");
}

#[test]
fn bundled_kernel_runs_a_session_with_one_and_three_harts() {
    for smp in ["1", "3"] {
        let out = xv6scope([
            "run",
            "--smp",
            smp,
            "--input",
            SESSION,
            "--until",
            "1 1 2",
            "--timeout",
            "120",
        ]);
        check_session(&assert_exit(&out, 0));
    }
}

fn qemu_installed() -> bool {
    Command::new("qemu-system-riscv64")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Boots `kernel` with `disk` on QEMU, types `input` once `$ ` appears, and returns the
/// console up to `until` (or panics after `timeout`).
fn qemu_session(kernel: &Path, disk: &Path, input: &str, until: &str, timeout: Duration) -> String {
    let mut child = Command::new("qemu-system-riscv64")
        .args(qemu_args(kernel, Some(disk), 3, QemuSerial::Stdio, false))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start qemu");
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let start = Instant::now();
    let mut console = Vec::new();
    let mut typed = false;
    let result = loop {
        if let Ok(bytes) = rx.recv_timeout(Duration::from_millis(100)) {
            console.extend(bytes);
        }
        let text = String::from_utf8_lossy(&console).into_owned();
        if !typed && text.contains("$ ") {
            child
                .stdin
                .as_mut()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
            typed = true;
        }
        if typed && text.contains(until) {
            break Ok(text);
        }
        if start.elapsed() > timeout {
            break Err(text);
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    result.unwrap_or_else(|text| panic!("QEMU: no {until:?} after {timeout:?}:\n{text}"))
}

#[test]
fn bundled_kernel_and_fs_img_run_the_same_session_on_qemu() {
    if !qemu_installed() {
        skip("qemu-system-riscv64 is not installed");
        return;
    }
    let dir = bundled_image("qemu");
    assert!(dir.join("user/sh").exists() && dir.join("user/usertests").exists());
    let console = qemu_session(
        &dir.join("kernel"),
        &dir.join("fs.img"),
        &SESSION.replace("\\n", "\n"),
        "1 1 2",
        Duration::from_secs(120),
    );
    check_session(&console);
}

#[test]
fn rust_usertests_quick_pass_on_qemu_too() {
    if !qemu_installed() {
        skip("qemu-system-riscv64 is not installed");
        return;
    }
    let dir = bundled_image("qemu-usertests");
    let console = qemu_session(
        &dir.join("kernel"),
        &dir.join("fs.img"),
        "usertests -q\n",
        "ALL TESTS PASSED",
        Duration::from_secs(600),
    );
    assert!(!console.contains("FAILED"), "{console}");
}

#[test]
fn mit_fs_img_boots_under_our_kernel() {
    let Some(mit) = mit_xv6() else {
        return;
    };
    let dir = bundled_image("mitfs");
    let disk = dir.join("mit-fs.img");
    std::fs::copy(&mit.fs, &disk).unwrap();
    // MIT's C user programs on our kernel: `ls` and `echo a | wc` from MIT's fs.img.
    let out = xv6scope([
        "run",
        "--kernel",
        dir.join("kernel").to_str().unwrap(),
        "--disk",
        disk.to_str().unwrap(),
        "--snapshot",
        "--input",
        "ls\\necho a | wc\\n",
        "--until",
        "1 1 2",
        "--timeout",
        "120",
    ]);
    let console = assert_exit(&out, 0);
    assert!(
        console.contains("usertests") && console.contains("1 1 2"),
        "{console}"
    );
}

#[test]
fn our_fs_img_boots_under_mit_kernel() {
    let Some(mit) = mit_xv6() else {
        return;
    };
    let dir = bundled_image("ourfs");
    let kernel = &mit.kernel;
    let out = xv6scope([
        "run",
        "--kernel",
        kernel.to_str().unwrap(),
        "--disk",
        dir.join("fs.img").to_str().unwrap(),
        "--snapshot",
        "--input",
        SESSION,
        "--until",
        "1 1 2",
        "--timeout",
        "120",
    ]);
    check_session(&assert_exit(&out, 0));
}

#[test]
fn strace_shows_a_pipeline_system_call_by_system_call() {
    let out = xv6scope([
        "run",
        "--input",
        "echo hi | wc\\n",
        "--until",
        "1 1 3",
        "--timeout",
        "120",
        "--strace",
    ]);
    assert_exit(&out, 0);
    let trace = String::from_utf8_lossy(&out.stderr);
    for wanted in [
        "sh: pipe([3, 4]) = 0",
        "sh: exec(\"echo\", [\"echo\", \"hi\"]) = 2",
        "echo: write(1, \"hi\\n\", 3) = 3",
        "echo: exit(0)",
        "wc: read(0, \"hi\\n\", 512) = 3",
        "wc: write(1, \"1 1 3 \\n\", 7) = 7",
    ] {
        assert!(
            trace.contains(wanted),
            "{wanted:?} missing from the trace:\n{trace}"
        );
    }
    // A filter keeps only what it names.
    let out = xv6scope([
        "run",
        "--input",
        "echo hi | wc\\n",
        "--until",
        "1 1 3",
        "--timeout",
        "120",
        "--strace=proc=wc,read",
    ]);
    let trace = String::from_utf8_lossy(&out.stderr);
    assert!(
        trace.lines().count() >= 2 && trace.lines().all(|l| l.contains(" wc: read(")),
        "{trace}"
    );
    let out = xv6scope(["run", "--strace=bogus"]);
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown system call \"bogus\""));
}
