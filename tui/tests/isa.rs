//! The bare-metal ISA test programs (machine/isa-tests, built by tui/build.rs) run on our
//! machine through `xv6scope test-elf`, and on qemu-system-riscv64 — the reference — when it
//! is installed, so a test whose expectation disagrees with QEMU cannot pass unnoticed. Our
//! machine runs each program on both tiers (`--tier jit` and `--tier interp`).

use machine::board::{QemuSerial, qemu_args};
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::*;

/// The test that fails on purpose (code 7), proving the harness notices failures.
const SELFTEST_FAIL: &str = "selftest_fail";

fn isa_tests() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("XV6SCOPE_ISA_TEST_DIR"));
    let mut tests: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("ISA test directory {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension().is_none()
                && std::fs::read(p).is_ok_and(|b| b.starts_with(b"\x7fELF"))
        })
        .collect();
    tests.sort();
    tests
}

fn name(p: &std::path::Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Every program passes on both tiers: the translating one (the default) and the
/// interpreter alone.
#[test]
fn every_isa_test_passes_on_our_machine() {
    let tests: Vec<PathBuf> = isa_tests()
        .into_iter()
        .filter(|p| name(p) != SELFTEST_FAIL)
        .collect();
    assert!(tests.len() >= 10, "expected the ISA suite, found {tests:?}");
    for tier in ["jit", "interp"] {
        let out = xv6scope(
            [Path::new("test-elf"), Path::new("--tier"), Path::new(tier)]
                .into_iter()
                .chain(tests.iter().map(|p| p.as_path())),
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        println!("--tier {tier}:\n{stdout}");
        assert!(
            out.status.success(),
            "failures with --tier {tier}:\n{}",
            stdout
                .lines()
                .filter(|l| l.starts_with("FAIL"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert_eq!(
            stdout.lines().filter(|l| l.starts_with("PASS ")).count(),
            tests.len(),
            "--tier {tier}"
        );
    }
}

#[test]
fn a_failing_test_is_reported_with_its_code() {
    let failing = isa_tests()
        .into_iter()
        .find(|p| name(p) == SELFTEST_FAIL)
        .expect("selftest_fail is built");
    for tier in ["jit", "interp"] {
        let args = [
            Path::new("test-elf"),
            Path::new("--tier"),
            Path::new(tier),
            &failing,
        ];
        let stdout = assert_exit(&xv6scope(args), 1);
        assert!(
            stdout.contains("FAIL selftest_fail: tohost reports failure code 7"),
            "--tier {tier}: {stdout}"
        );
    }
}

#[test]
fn every_isa_test_passes_on_qemu_too() {
    if Command::new("qemu-system-riscv64")
        .arg("--version")
        .output()
        .is_err()
    {
        skip("qemu-system-riscv64 is not installed");
        return;
    }
    let mut failures = Vec::new();
    for test in isa_tests() {
        let status = Command::new("timeout")
            .args(["20", "qemu-system-riscv64"])
            .args(qemu_args(&test, None, 1, QemuSerial::Null, false))
            .status()
            .unwrap();
        let expected = if name(&test) == SELFTEST_FAIL { 7 } else { 0 };
        if status.code() != Some(expected) {
            failures.push(format!(
                "{}: exit {:?}, expected {expected}",
                name(&test),
                status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "on QEMU:\n{}", failures.join("\n"));
}
