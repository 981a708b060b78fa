//! `xv6scope walk --check`: every shipped walkthrough passes on the bundled kernel; a wrong
//! check (plain or relative to a saved value) fails with exit 1 and names its step; the
//! fork, pipes, traps, page-table and copy-on-write walkthroughs also pass on MIT's stock C
//! kernel when `XV6SCOPE_MIT_XV6` names a built tree (skipped, saying so, otherwise). The
//! trace and sysinfo walkthroughs need the syscall lab's additions (trace mask, sysinfo);
//! the `lab-*.toml` ones the bundled kernel's lab options, which their `lab` key turns on.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::*;

fn walk(file: &Path, extra: &[&str]) -> Output {
    let args = [OsStr::new("walk"), "--check".as_ref(), file.as_os_str()];
    xv6scope(args.into_iter().chain(extra.iter().map(OsStr::new)))
}

fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/walkthroughs")
        .join(name)
}

#[track_caller]
fn assert_passes(out: &Output) {
    let stdout = assert_console(out, &["steps passed"]);
    assert!(!stdout.contains("FAIL"), "{stdout}");
}

#[test]
fn fork_exec_wait_passes() {
    assert_passes(&walk(&shipped("fork-exec-wait.toml"), &[]));
}

#[test]
fn pipes_passes() {
    assert_passes(&walk(&shipped("pipes.toml"), &[]));
}

#[test]
fn traps_passes() {
    assert_passes(&walk(&shipped("traps.toml"), &[]));
}

#[test]
fn trace_passes() {
    assert_passes(&walk(&shipped("trace.toml"), &[]));
}

#[test]
fn sysinfo_passes() {
    assert_passes(&walk(&shipped("sysinfo.toml"), &[]));
}

#[test]
fn pagetables_passes() {
    assert_passes(&walk(&shipped("pagetables.toml"), &[]));
}

#[test]
fn cow_passes() {
    assert_passes(&walk(&shipped("cow.toml"), &[]));
}

// The lab options' walkthroughs: each names its option (`lab = "cow"`), so --check boots
// the bundled kernel with it.

#[test]
fn lab_cow_passes() {
    assert_passes(&walk(&shipped("lab-cow.toml"), &[]));
}

#[test]
fn lab_lazy_passes() {
    assert_passes(&walk(&shipped("lab-lazy.toml"), &[]));
}

#[test]
fn lab_usyscall_passes() {
    assert_passes(&walk(&shipped("lab-usyscall.toml"), &[]));
}

#[test]
fn lab_alarm_passes() {
    assert_passes(&walk(&shipped("lab-alarm.toml"), &[]));
}

#[test]
fn lab_mmap_passes() {
    assert_passes(&walk(&shipped("lab-mmap.toml"), &[]));
}

#[test]
fn lab_kpgtbl_passes() {
    assert_passes(&walk(&shipped("lab-kpgtbl.toml"), &[]));
}

#[test]
fn a_lab_walkthrough_fails_without_its_option() {
    // --lab on the command line replaces the file's: a stock fork copies the stack page.
    let out = walk(&shipped("lab-cow.toml"), &["--lab", ""]);
    assert_exit(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("step 2"), "{stderr}");
}

#[test]
fn every_shipped_walkthrough_has_a_test() {
    let dir = shipped("");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("docs/walkthroughs")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "cow.toml",
            "fork-exec-wait.toml",
            "lab-alarm.toml",
            "lab-cow.toml",
            "lab-kpgtbl.toml",
            "lab-lazy.toml",
            "lab-mmap.toml",
            "lab-usyscall.toml",
            "pagetables.toml",
            "pipes.toml",
            "sysinfo.toml",
            "trace.toml",
            "traps.toml"
        ]
    );
}

#[test]
fn a_wrong_check_fails_naming_its_step() {
    let dir = std::env::temp_dir().join(format!("xv6scope-walk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("wrong.toml");
    std::fs::write(
        &file,
        r#"title = "wrong on purpose"
[[step]]
name = "boot"
until = "$ "
check.proc.sh.pid = 2

[[step]]
name = "fork is not exec"
type = "echo hi\n"
syscall = "fork"
proc = "sh"
check.reg.a7 = 7
"#,
    )
    .expect("write walkthrough");
    let out = walk(&file, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_exit(&out, 1);
    let line = stderr.lines().last().unwrap_or("");
    assert!(line.contains("step 2 (fork is not exec)"), "{stderr}");
    assert!(
        line.contains("reg.a7") && line.contains("expected 7") && line.contains("found 1"),
        "{stderr}"
    );
    // The first step's checks held and were printed as such.
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok   proc.sh.pid = 2"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes `text` as a walkthrough in a fresh temporary directory and plays it.
fn play_text(tag: &str, text: &str) -> Output {
    let dir = std::env::temp_dir().join(format!("xv6scope-walk-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("w.toml");
    std::fs::write(&file, text).expect("write walkthrough");
    let out = walk(&file, &[]);
    let _ = std::fs::remove_dir_all(&dir);
    out
}

#[test]
fn a_wrong_relative_check_fails_with_both_values() {
    let out = play_text(
        "rel",
        r#"title = "saved values"
[[step]]
name = "prompt"
until = "$ "
save = ["count.all", "kernel.freemem"]

[[step]]
name = "one process more"
type = "echo hi\n"
syscall = "exec"
proc = "sh"
check.kernel.freemem = "< $kernel.freemem"
check.count.all = "== $count.all + 2"
"#,
    );
    let stdout = assert_exit(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("ok   kernel.freemem = 0x"), "{stdout}");
    let line = stderr.lines().last().unwrap_or("");
    assert!(
        line.contains("step 2 (one process more)")
            && line.contains("count.all")
            && line.contains("found 3 (against 4)"),
        "{stderr}"
    );
}

#[test]
fn a_line_breakpoint_stops_on_its_line() {
    // kernel/src/syscall.rs: the trace lab's print, reached when a traced call returns
    // (65536 = 1 << 16, SYS_write).
    let out = play_text(
        "line",
        r#"title = "file:line"
[[step]]
until = "$ "
[[step]]
name = "print"
type = "trace 65536 echo hi\n"
break = "syscall.rs:58"
check.func = "syscall"
check.proc.echo.trace_mask = 65536
[[step]]
name = "no code there"
break = "syscall.rs:1"
"#,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("ok   func = \"syscall\""),
        "{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("ok   proc.echo.trace_mask = 0x10000"),
        "{stdout}"
    );
    assert_exit(&out, 1);
    assert!(
        stderr.contains("step 3 (no code there)") && stderr.contains("syscall.rs:1"),
        "{stderr}"
    );
}

#[test]
fn a_target_never_reached_fails_naming_its_step() {
    let dir = std::env::temp_dir().join(format!("xv6scope-walk-never-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("never.toml");
    std::fs::write(
        &file,
        "title = 't'\n[[step]]\nname = 'no such text'\nuntil = 'never printed'\nlimit = 300000000\n",
    )
    .expect("write walkthrough");
    let out = walk(&file, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_exit(&out, 1);
    assert!(
        stderr.contains("step 1 (no such text)") && stderr.contains("did not appear"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shipped_walkthroughs_pass_on_mit_xv6() {
    let Some(mit) = mit_xv6() else {
        return;
    };
    let kernel = mit.kernel.to_string_lossy().into_owned();
    let disk = mit.scratch_fs("walk");
    for name in [
        "fork-exec-wait.toml",
        "pipes.toml",
        "traps.toml",
        "pagetables.toml",
        "cow.toml",
    ] {
        assert_passes(&walk(
            &shipped(name),
            &["--kernel", &kernel, "--disk", &disk.to_string_lossy()],
        ));
    }
    let _ = std::fs::remove_file(&disk);
}
