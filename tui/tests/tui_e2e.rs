//! End-to-end test of the terminal UI: the real `xv6scope` binary in a detached tmux
//! session (120x40), driven by `tmux send-keys` and read by `tmux capture-pane`, the way a
//! student would use it: wait for the shell, run `ls`, break on the exec system call, run
//! `echo hi`, and check the stop, the source line, the page table, the syscall trace, and
//! that continuing finishes the command; and a walkthrough played in the TUI (next, next,
//! back); and, when `XV6SCOPE_MIT_XV6` names a built MIT xv6-riscv tree, the exec breakpoint,
//! C source line, page table, trace and fds on MIT's C kernel; and mouse clicks (SGR mouse
//! reports typed into the pane) moving the focus between panes; on a 200x60 terminal, every
//! view at once after boot and `ls` with no key pressed; and the layout chosen with `:layout`
//! kept across runs in the config file, which when corrupt gives one line on the status bar
//! and the defaults. Skipped (with a message) when tmux is missing.
//! Every wait is bounded, and the session is killed at the end even when a check fails.
//! Each run has its own config directory (`XV6SCOPE_CONFIG_DIR`), so the tests neither read
//! nor write the user's.

use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{BIN, mit_xv6, skip};

/// Kills the tmux session when dropped (also on a failed assertion).
struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}

/// A config directory of the test's own, removed when dropped.
struct ConfigDir(std::path::PathBuf);

impl ConfigDir {
    fn new(tag: &str) -> ConfigDir {
        let d =
            std::env::temp_dir().join(format!("xv6scope-e2e-config-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("a temporary config directory");
        ConfigDir(d)
    }
}

impl Drop for ConfigDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Session {
    fn keys(&self, keys: &[&str]) {
        let st = Command::new("tmux")
            .args(["send-keys", "-t", &self.0])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(st.success());
    }

    /// Types `text` literally (no key-name lookup), then Enter.
    fn line(&self, text: &str) {
        let st = Command::new("tmux")
            .args(["send-keys", "-t", &self.0, "-l", text])
            .status()
            .expect("tmux send-keys");
        assert!(st.success());
        self.keys(&["Enter"]);
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.0])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until every one of `wants` is on screen; panics with the screen after `secs`.
    fn wait_for(&self, wants: &[&str], secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if wants.iter().all(|w| s.contains(w)) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "waited {secs} s for {wants:?}; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Session {
    /// The screen with its colours and attributes (SGR escapes), to see which pane has focus.
    fn styled_screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-e", "-t", &self.0])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A left click at 0-based cell (`col`, `row`), as a terminal with mouse reporting on sends
    /// it (SGR 1006: press, then release).
    fn click(&self, col: usize, row: usize) {
        for end in ['M', 'm'] {
            let seq = format!("\x1b[<0;{};{}{end}", col + 1, row + 1);
            let st = Command::new("tmux")
                .args(["send-keys", "-t", &self.0, "-l", &seq])
                .status()
                .expect("tmux send-keys");
            assert!(st.success());
        }
    }

    /// Where `text` first appears on screen: (column in characters, row).
    fn find(&self, text: &str) -> Option<(usize, usize)> {
        self.screen().lines().enumerate().find_map(|(row, line)| {
            let at = line.find(text)?;
            Some((line[..at].chars().count(), row))
        })
    }
}

/// Starts `xv6scope ARGS` in a new 120x40 tmux session, with a config directory of its
/// own; None when tmux is missing.
fn start(tag: &str, args: &str) -> Option<(Session, ConfigDir)> {
    let config = ConfigDir::new(tag);
    let s = start_at(tag, args, (120, 40), &config)?;
    Some((s, config))
}

/// Starts `xv6scope ARGS` in a new tmux session of `size`, its config in `config`.
fn start_at(tag: &str, args: &str, size: (u16, u16), config: &ConfigDir) -> Option<Session> {
    if Command::new("tmux").arg("-V").output().is_err() {
        skip("tmux is not installed");
        return None;
    }
    let name = format!("xv6scope-e2e-{tag}-{}", std::process::id());
    let bin = BIN;
    let (w, h) = (size.0.to_string(), size.1.to_string());
    let st = Command::new("tmux")
        .args(["new-session", "-d", "-s", &name, "-x", &w, "-y", &h])
        .arg(format!(
            "XV6SCOPE_CONFIG_DIR='{}' '{bin}' {args}; echo xv6scope exited with $?; sleep 5",
            config.0.display()
        ))
        .status()
        .expect("tmux new-session");
    assert!(st.success(), "tmux new-session failed");
    Some(Session(name))
}

#[test]
fn tui_boots_runs_ls_and_breaks_on_exec() {
    let Some((s, _config)) = start("tui", "tui") else {
        return;
    };

    // The shell's prompt on the console pane (the border is the pane's left edge).
    s.wait_for(&["1 console", "init: starting sh", "│$ "], 180);
    s.line("ls");
    s.wait_for(&["usertests", "console "], 60);

    // A breakpoint on the exec system call through the command line.
    s.keys(&["C-a", ":"]);
    s.line("b sys_exec");
    s.wait_for(&["breakpoint 1 at", "sys_exec"], 30);
    s.line("echo hi");
    let stop = s.wait_for(&["stopped: breakpoint", "pub fn sys_exec"], 60);
    assert!(
        stop.contains("▶") && stop.contains("sysfile.rs:"),
        "no marked source line:\n{stop}"
    );

    // The page table of the process that called exec, and the syscall trace.
    s.keys(&["C-a", "5"]);
    s.wait_for(&["5 page table", "(sh), root 0x", "▾ L2["], 30);
    // Zoomed to the whole screen, the named pages show.
    s.keys(&["C-a", "z"]);
    s.wait_for(&["trampoline", "trapframe"], 30);
    s.keys(&["C-a", "z"]);
    s.keys(&["C-a", "6"]);
    s.wait_for(&["6 syscalls", "sh: fork() ="], 30);

    // One line step, then continue: echo runs to its end.
    s.keys(&["C-a", "s"]);
    s.wait_for(&["stopped: stepped one line"], 30);
    s.keys(&["C-a", "c"]);
    s.wait_for(&["│hi "], 60);

    // Quit like `run`: Ctrl-A x; the terminal is restored and the status is 0.
    s.keys(&["C-a", "x"]);
    let end = s.wait_for(&["xv6scope exited with 0"], 20);
    assert!(
        !end.contains("1 console"),
        "the TUI's screen stayed:\n{end}"
    );
}

#[test]
fn walkthrough_plays_in_the_tui_next_next_back() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/walkthroughs/fork-exec-wait.toml"
    );
    let Some((s, _config)) = start("walk", &format!("walk '{file}'")) else {
        return;
    };
    s.wait_for(&["walkthrough: fork, exec and wait", "step 0/"], 60);
    // From the console the walk keys take the prefix.
    s.keys(&["C-a", "]"]);
    s.wait_for(&["step 1/", ": boot", "ok   proc.sh.pid = 2", "│$ "], 120);
    s.keys(&["C-a", "]"]);
    // Step 2 stops at fork's ecall and shows the registers, a7 = SYS_fork.
    let two = s.wait_for(
        &["step 2/", ": fork", "3 registers", "ok   reg.a7 = 1"],
        120,
    );
    assert!(
        two.contains("a7 0x0000000000000001"),
        "no a7 = 1 in the registers pane:\n{two}"
    );
    // The registers pane has the focus now: `[` alone goes back (a fresh boot, replayed).
    s.keys(&["["]);
    let one = s.wait_for(&["step 1/", ": boot", "ok   proc.sh.pid = 2"], 120);
    assert!(!one.contains("step 2/"), "still at step 2:\n{one}");
    s.keys(&["C-a", "x"]);
    s.wait_for(&["xv6scope exited with 0"], 20);
}

/// The same session on MIT's C kernel (`XV6SCOPE_MIT_XV6`: a built xv6-riscv tree), as
/// issue 7 asks: everything the debugger shows comes through DWARF, not a private layout.
#[test]
fn mit_kernel_in_the_tui() {
    let Some(mit) = mit_xv6() else { return };
    let args = format!(
        "--kernel '{}' --disk '{}' --snapshot --user-dir '{}'",
        mit.kernel.display(),
        mit.fs.display(),
        mit.dir.join("user").display()
    );
    let Some((s, _config)) = start("mit", &args) else {
        return;
    };
    s.wait_for(&["1 console", "init: starting sh", "│$ "], 180);
    s.keys(&["C-a", ":"]);
    s.line("b sys_exec");
    s.wait_for(&["breakpoint 1 at", "sys_exec"], 30);
    s.line("echo hi");
    let stop = s.wait_for(&["stopped: breakpoint", "sys_exec"], 60);
    assert!(
        stop.contains("▶") && stop.contains("sysfile.c:"),
        "no marked C source line:\n{stop}"
    );
    s.keys(&["C-a", "5"]);
    s.wait_for(&["5 page table", "(sh), root 0x", "▾ L2["], 30);
    s.keys(&["C-a", "6"]);
    s.wait_for(&["6 syscalls", "sh: fork() ="], 30);
    s.keys(&["C-a", "4"]);
    s.wait_for(&["4 processes", "init", "console"], 30);
    s.keys(&["C-a", "c"]);
    s.wait_for(&["│hi "], 60);
    s.keys(&["C-a", "x"]);
    s.wait_for(&["xv6scope exited with 0"], 20);
}

#[test]
fn a_click_focuses_the_pane_under_it() {
    let Some((s, _config)) = start("mouse", "tui") else {
        return;
    };
    s.wait_for(&["1 console", "init: starting sh", "│$ "], 180);
    // The focused pane's title is drawn reversed (SGR 7); the console has it at first.
    let focused = |title: &str| {
        s.styled_screen()
            .lines()
            .any(|l| l.contains(&format!("7m {title} ")))
    };
    assert!(focused("1 console"), "{}", s.styled_screen());
    let (col, row) = s
        .find("4 processes")
        .expect("the processes pane on the wide layout");
    s.click(col + 2, row + 2);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !focused("4 processes") {
        assert!(
            Instant::now() < deadline,
            "no focus:\n{}",
            s.styled_screen()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Keys now go to the debugger, not to the shell.
    s.keys(&["-l", "echo zz"]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !s.screen().contains("echo zz"),
        "typed into the guest:\n{}",
        s.screen()
    );
    // A click back in the console gives the keys to the shell again.
    let (col, row) = s.find("1 console").expect("the console pane");
    s.click(col + 2, row + 2);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !focused("1 console") {
        assert!(
            Instant::now() < deadline,
            "no focus:\n{}",
            s.styled_screen()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    s.line("echo zz");
    s.wait_for(&["│zz "], 30);
    s.keys(&["C-a", "x"]);
    s.wait_for(&["xv6scope exited with 0"], 20);
}

/// Issue 16: on a 200x60 terminal, right after boot and `ls`, with no key pressed, one
/// screen holds the mode bits decoded, the processes with an fd table, page-table rows and
/// the system-call trace.
#[test]
fn a_big_terminal_shows_the_whole_kernel_at_once() {
    let config = ConfigDir::new("big");
    let Some(s) = start_at("big", "tui", (200, 60), &config) else {
        return;
    };
    s.wait_for(&["1 console", "init: starting sh", "│$ "], 180);
    s.line("ls");
    let screen = s.wait_for(
        &[
            // ls's output, then the shell's prompt again.
            "usertests",
            "console        3",
            // Registers: the mode and the decoded sstatus and satp.
            "mode S (supervisor)",
            "sstatus SIE=",
            "SPP=",
            "satp    Sv39 asid=0 root=0x",
            "scause  ",
            // Processes, and the shell's fd table.
            "4 processes",
            "sleeping",
            "pid 2 (sh)",
            " fd type",
            "console (major 1)",
            // The shell's page table.
            "5 page table",
            "(sh), root 0x",
            "▾ L2[",
            "user stack",
            "trampoline",
            // The system calls `ls` made.
            "6 syscalls",
            "ls: exit(0)",
            "sh: wait(",
        ],
        60,
    );
    assert!(
        !screen.contains("instruction address misaligned"),
        "a zero cause read as cause 0:\n{screen}"
    );
    s.keys(&["C-a", "x"]);
    s.wait_for(&["xv6scope exited with 0"], 20);
}

/// The layout chosen with `:layout` is there at the next run; a corrupt config file gives
/// one line on the status bar and the defaults.
#[test]
fn the_layout_persists_and_a_corrupt_config_is_one_line() {
    let config = ConfigDir::new("persist");
    let Some(s) = start_at("persist", "tui", (200, 60), &config) else {
        return;
    };
    s.wait_for(&["1 console", "5 page table", "│$ "], 180);
    s.keys(&["C-a", ":"]);
    s.line("layout split");
    let split = s.wait_for(&["layout split", "3 registers"], 20);
    assert!(!split.contains("5 page table"), "still full:\n{split}");
    s.keys(&["C-a", "x"]);
    s.wait_for(&["xv6scope exited with 0"], 20);
    drop(s);
    let file = config.0.join("tui.toml");
    let saved = std::fs::read_to_string(&file).expect("the config file was written");
    assert!(saved.contains("layout = \"split\""), "{saved}");

    // The next run starts in the split layout.
    let s = start_at("persist2", "tui", (200, 60), &config).expect("tmux");
    let again = s.wait_for(&["1 console", "3 registers", "│$ "], 180);
    assert!(!again.contains("5 page table"), "not split:\n{again}");
    s.keys(&["C-a", "x"]);
    s.wait_for(&["xv6scope exited with 0"], 20);
    drop(s);

    // A corrupt file: one line, the defaults (full on 200x60).
    std::fs::write(&file, "layout = [\n").unwrap();
    let s = start_at("persist3", "tui", (200, 60), &config).expect("tmux");
    let bad = s.wait_for(&["5 page table", "using the defaults", "│$ "], 180);
    let lines: Vec<&str> = bad.lines().filter(|l| l.contains("tui.toml")).collect();
    assert_eq!(lines.len(), 1, "{bad}");
    s.keys(&["C-a", "x"]);
    s.wait_for(&["xv6scope exited with 0"], 20);
}

/// The pc the status bar shows (`· pc 0x80001234 ·`).
fn status_pc(screen: &str) -> String {
    let at = screen.find("· pc 0x").expect("a pc on the status bar") + "· pc ".len();
    screen[at..]
        .split_whitespace()
        .next()
        .expect("the pc")
        .to_string()
}

/// Time travel as a student uses it: the timeline bar under the status line, a reverse
/// step back to the previous instruction's pc, `:when pte` back to the write of a running
/// process's PTE, the bar's previous event and back to the present; and `--record`: the
/// run written on quit replays exactly (`replay --check`).
#[test]
fn time_travel_in_the_tui_reverse_step_when_pte_timeline_and_record() {
    let rec = std::env::temp_dir().join(format!("xv6scope-e2e-{}.xrec", std::process::id()));
    let _ = std::fs::remove_file(&rec);
    let Some((s, _config)) = start("travel", &format!("tui --record '{}'", rec.display())) else {
        return;
    };
    s.wait_for(&["│$ ", "timeline ▕"], 180);
    s.keys(&["C-a", ":"]);
    s.line("b sys_exec");
    s.wait_for(&["breakpoint 1 at"], 30);
    s.line("echo hi");
    s.wait_for(&["stopped: breakpoint"], 60);
    // One instruction forward twice, then one back: the pc of the first step again.
    s.keys(&["C-a", "i"]);
    let one = s.wait_for(&["stopped: stepped one instruction"], 30);
    let pc = status_pc(&one);
    s.keys(&["C-a", "i"]);
    std::thread::sleep(Duration::from_millis(500));
    s.keys(&["C-a", "I"]);
    let back = s.wait_for(&["stopped: went back one instruction"], 60);
    assert_eq!(status_pc(&back), pc, "{back}\n(after one step:\n{one})");
    // Who last wrote the PTE of sh's first page: the exec that loaded sh at boot.
    s.keys(&["C-a", ":"]);
    s.line("when pte 2 0");
    let when = s.wait_for(&["stopped: back to the last write of 0x"], 120);
    assert!(when.contains("timeline ▕"), "{when}");
    // The bar's previous event, then back to the present.
    s.keys(&["C-a", "<"]);
    s.wait_for(&["stopped: at "], 60);
    s.keys(&["C-a", "e"]);
    s.wait_for(&["stopped: at the present"], 60);
    s.keys(&["C-a", "c"]);
    s.wait_for(&["│hi "], 60);
    s.keys(&["C-a", "x"]);
    let end = s.wait_for(&["xv6scope exited with 0"], 120);
    assert!(
        end.contains("recorded ") && end.contains("positions to"),
        "{end}"
    );
    let out = common::xv6scope(
        ["replay", "--check"]
            .iter()
            .map(|s| s.to_string())
            .chain([rec.display().to_string()]),
    );
    let _ = std::fs::remove_file(&rec);
    common::assert_exit(&out, 0);
}
