//! Booting real xv6 kernels on the machine: MIT's C xv6-riscv (from `XV6SCOPE_MIT_XV6`, a
//! built tree holding kernel/kernel and fs.img; skipped when unset) and determinism.

use std::process::Output;

mod common;
use common::*;

/// MIT's kernel and a scratch copy of its fs.img (runs must not change the original), as
/// arguments; None when the test is skipped.
fn mit_xv6_args(test: &str) -> Option<(String, String)> {
    let mit = mit_xv6()?;
    Some((
        mit.kernel.to_string_lossy().into_owned(),
        mit.scratch_fs(&format!("boot-{test}"))
            .to_string_lossy()
            .into_owned(),
    ))
}

#[test]
fn mit_xv6_boots_to_the_shell_with_one_and_three_harts() {
    let Some((kernel, disk)) = mit_xv6_args("boot") else {
        return;
    };
    for smp in ["1", "3"] {
        let out = xv6scope([
            "run",
            "--kernel",
            &kernel,
            "--disk",
            &disk,
            "--snapshot",
            "--smp",
            smp,
            "--input",
            "ls\\n",
            "--until",
            "console",
            "--timeout",
            "60",
        ]);
        assert_console(
            &out,
            &[
                "xv6 kernel is booting",
                "init: starting sh",
                "README",
                "usertests",
                "console",
            ],
        );
    }
}

#[test]
fn mit_xv6_usertests_quick_pass() {
    let Some((kernel, disk)) = mit_xv6_args("usertests") else {
        return;
    };
    for smp in ["3", "1"] {
        let out = xv6scope([
            "run",
            "--kernel",
            &kernel,
            "--disk",
            &disk,
            "--snapshot",
            "--smp",
            smp,
            "--input",
            "usertests -q\\n",
            "--until",
            "ALL TESTS PASSED",
            "--timeout",
            "600",
            "--stats",
        ]);
        assert_console(&out, &["ALL TESTS PASSED"]);
        println!(
            "usertests -q, --smp {smp}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn mit_xv6_runs_are_deterministic() {
    let Some((kernel, disk)) = mit_xv6_args("determinism") else {
        return;
    };
    let run = || {
        xv6scope([
            "run",
            "--kernel",
            &kernel,
            "--disk",
            &disk,
            "--snapshot",
            "--input",
            "echo hi | wc\\nls\\n",
            "--until",
            "zombie",
            "--timeout",
            "60",
            "--stats",
        ])
    };
    let (a, b) = (run(), run());
    assert_console(&a, &["1 1 3"]);
    assert_eq!(a.stdout, b.stdout, "console output differs between runs");
    let instret = |o: &Output| {
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .find(|l| l.starts_with("instructions retired"))
            .map(str::to_string)
    };
    assert!(instret(&a).is_some());
    assert_eq!(
        instret(&a),
        instret(&b),
        "instruction counts differ between runs"
    );
}

#[test]
fn multi_hart_bare_metal_runs_are_deterministic() {
    let dir = std::env::temp_dir().join(format!("xv6scope-det-{}", std::process::id()));
    assert_exit(&xv6scope(["bench", "--emit", dir.to_str().unwrap()]), 0);
    let elf = dir.join("mem-loop.elf");
    let run = || {
        xv6scope([
            "run",
            "--kernel",
            elf.to_str().unwrap(),
            "--smp",
            "3",
            "--stats",
        ])
    };
    let (a, b) = (run(), run());
    let instret = |o: &Output| {
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .find(|l| l.starts_with("instructions retired"))
            .map(str::to_string)
    };
    assert_exit(&a, 0);
    assert!(instret(&a).is_some());
    assert_eq!(instret(&a), instret(&b));
}
