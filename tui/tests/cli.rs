//! The command line at its edges: bad input gets one clear line on stderr and exit status 2,
//! guest misbehaviour never panics the host, and generated programs run to their verdict.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::*;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xv6scope-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Exit status 2 and exactly one line on stderr that contains `needle`.
fn assert_one_line_error(out: &Output, needle: &str) {
    assert_exit(out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one line expected, got: {stderr}"
    );
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn unknown_option_is_one_line_and_status_2() {
    assert_one_line_error(&xv6scope(["run", "--frobnicate"]), "--frobnicate");
    assert_one_line_error(&xv6scope(["--smp"]), "--smp");
}

#[test]
fn missing_kernel_file() {
    assert_one_line_error(
        &xv6scope(["run", "--kernel", "/nonexistent/kernel"]),
        "cannot read kernel /nonexistent/kernel",
    );
}

#[test]
fn corrupt_and_foreign_kernels_are_refused() {
    let dir = scratch("elf");
    let corrupt = dir.join("corrupt.elf");
    std::fs::write(
        &corrupt,
        b"\x7fELF\x02\x01\x01 and then nothing that makes sense",
    )
    .unwrap();
    assert_one_line_error(
        &xv6scope(["run", "--kernel", corrupt.to_str().unwrap()]),
        "not a valid ELF",
    );
    let text = dir.join("notes.txt");
    std::fs::write(&text, b"just some text").unwrap();
    assert_one_line_error(
        &xv6scope(["run", "--kernel", text.to_str().unwrap()]),
        "not an ELF file",
    );
    // A perfectly good ELF for the wrong machine: this very test binary (x86-64 or so).
    let host = std::env::current_exe().unwrap();
    assert_one_line_error(
        &xv6scope(["run", "--kernel", host.to_str().unwrap()]),
        "not 64-bit RISC-V",
    );
}

fn emit_bench_programs(dir: &Path) -> (PathBuf, PathBuf) {
    assert_exit(&xv6scope(["bench", "--emit", dir.to_str().unwrap()]), 0);
    (dir.join("int-loop.elf"), dir.join("mem-loop.elf"))
}

#[test]
fn bad_disk_images_are_refused() {
    let dir = scratch("disk");
    let (int_loop, _) = emit_bench_programs(&dir);
    let odd = dir.join("odd.img");
    std::fs::write(&odd, vec![0u8; 1000]).unwrap();
    let k = int_loop.to_str().unwrap();
    assert_one_line_error(
        &xv6scope(["run", "--kernel", k, "--disk", odd.to_str().unwrap()]),
        "512-byte sectors",
    );
    // An xv6 superblock claiming 2000 blocks on a 100-block image.
    let mut img = vec![0u8; 100 * 1024];
    img[1024..1028].copy_from_slice(&0x1020_3040u32.to_le_bytes());
    img[1028..1032].copy_from_slice(&2000u32.to_le_bytes());
    let short = dir.join("short.img");
    std::fs::write(&short, img).unwrap();
    assert_one_line_error(
        &xv6scope(["run", "--kernel", k, "--disk", short.to_str().unwrap()]),
        "truncated",
    );
    assert_one_line_error(
        &xv6scope(["run", "--kernel", k, "--disk", "/nonexistent.img"]),
        "cannot read disk image",
    );
}

#[test]
fn generated_programs_pass_under_run_and_test_elf() {
    let dir = scratch("progs");
    let (int_loop, mem_loop) = emit_bench_programs(&dir);
    let out = xv6scope([
        "run",
        "--kernel",
        int_loop.to_str().unwrap(),
        "--smp",
        "1",
        "--stats",
    ]);
    assert_exit(&out, 0);
    let stats = String::from_utf8_lossy(&out.stderr);
    assert!(
        stats.contains("instructions retired:") && stats.contains("MIPS:"),
        "{stats}"
    );
    let out = xv6scope([
        "test-elf",
        int_loop.to_str().unwrap(),
        mem_loop.to_str().unwrap(),
    ]);
    assert_console(
        &out,
        &[
            "PASS int-loop.elf",
            "PASS mem-loop.elf",
            "2 passed, 0 failed",
        ],
    );
}

/// `xv6scope` alone takes the machine options (the TUI's); without a terminal it is the
/// headless console, so a program that powers off ends it with the guest's status.
#[test]
fn the_bare_command_takes_machine_options() {
    let dir = scratch("bare");
    let (int_loop, _) = emit_bench_programs(&dir);
    let out = xv6scope(["--kernel", int_loop.to_str().unwrap(), "--smp", "1"]);
    assert_exit(&out, 0);
    assert_one_line_error(
        &xv6scope(["--kernel", "/nonexistent/kernel"]),
        "cannot read kernel /nonexistent/kernel",
    );
    // Options and a subcommand do not mix (the subcommand has its own).
    assert_one_line_error(&xv6scope(["--smp", "1", "run"]), "run");
}

#[test]
fn a_guest_executing_garbage_traps_inside_the_guest() {
    let dir = scratch("garbage");
    let garbage = dir.join("garbage.bin");
    // Pseudo-random words: illegal instructions, wild jumps and loads, traps to mtvec = 0.
    let mut x: u32 = 0x1234_5678;
    let bytes: Vec<u8> = (0..4096)
        .flat_map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()
        })
        .collect();
    std::fs::write(&garbage, bytes).unwrap();
    let out = xv6scope([
        "run",
        "--raw",
        "--kernel",
        garbage.to_str().unwrap(),
        "--timeout",
        "1",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        matches!(out.status.code(), Some(0..=1)),
        "status {:?}: {stderr}",
        out.status
    );
}

#[test]
fn test_elf_reports_failures_and_missing_files() {
    let dir = scratch("fail");
    let (int_loop, _) = emit_bench_programs(&dir);
    let out = xv6scope([
        "test-elf",
        "--max-cycles",
        "1000",
        int_loop.to_str().unwrap(),
    ]);
    let stdout = assert_exit(&out, 1);
    assert!(
        stdout.contains("FAIL int-loop.elf: no verdict after 1000 cycles"),
        "{stdout}"
    );
    assert_one_line_error(
        &xv6scope(["test-elf", "/nonexistent.elf"]),
        "cannot read test ELF /nonexistent.elf",
    );
}

#[test]
fn a_user_dir_without_elfs_is_refused() {
    let dir = scratch("userdir");
    std::fs::write(dir.join("notes"), b"not an ELF").unwrap();
    assert_one_line_error(
        &xv6scope(["run", "--user-dir", dir.to_str().unwrap()]),
        "no ELF files there",
    );
    assert_one_line_error(
        &xv6scope(["run", "--user-dir", "/nonexistent/dir"]),
        "cannot read --user-dir",
    );
}
