//! `monitor` commands (`qRcmd`): xv6scope's own views, as text in gdb's console.
//!
//! - `monitor help`
//! - `monitor pt` / `monitor pt hart N` — the Sv39 page table in the `satp` of the hart that
//!   last stopped (or of hart N): the views' `pt`, so every page table reads the same.
//! - `monitor phys [on|off]` — memory packets use physical addresses (on) or the current
//!   hart's translation (off, the default, as QEMU).
//! - `monitor stats` — instructions retired (all harts and each), guest time, MIPS.
//! - `monitor harts` — pc, mode and state of every hart.
//! - `monitor net` — with the net lab's network (`--net`): the e1000's rings and interrupt
//!   registers, what the network dropped, and the last frames on the wire.
//!
//! - the debugger views of `session::inspect` (`ps`, `fds PID`, `pt PID|kernel [tree]`,
//!   `vmprint`, `ptsave`/`ptdiff`, `regs`, `sym`, `strace on|off|show|clear`), passed on to
//!   `Session::command`. While `strace` is on, each completed system call is also printed
//!   in gdb's console as the guest runs (see `server`).
//!
//! Unknown commands answer with a hint, never an error, so gdb scripts keep going.

use super::{GdbTarget, threads};
use gdbstub::outputln;
use gdbstub::target::ext::monitor_cmd::{ConsoleOutput, MonitorCmd};
use session::inspect::monitor::HELP as VIEWS_HELP;

const HELP: &str = "xv6scope monitor commands:
  monitor help            this text
  monitor pt              page table (Sv39) of the hart that stopped last
  monitor pt hart N       page table of hart N's satp
  monitor phys [on|off]   memory access by physical address (on) or through the hart's MMU (off)
  monitor stats           instructions retired, guest time, MIPS
  monitor harts           pc, privilege mode and state of every hart
  monitor net             the e1000's rings and the last frames (with --net)
debugger views (monitor CMD):";

/// The first words that the views' `command` understands.
const VIEWS: [&str; 9] = [
    "ps", "fds", "pt", "vmprint", "ptsave", "ptdiff", "regs", "sym", "strace",
];

impl MonitorCmd for GdbTarget {
    fn handle_monitor_cmd(&mut self, cmd: &[u8], mut out: ConsoleOutput<'_>) -> Result<(), String> {
        let text = String::from_utf8_lossy(cmd);
        let reply = self.monitor(&text);
        for line in reply.lines() {
            outputln!(out, "{}", line);
        }
        Ok(())
    }
}

impl GdbTarget {
    /// Runs one monitor command and returns its text.
    pub fn monitor(&mut self, cmd: &str) -> String {
        let mut words = cmd.split_whitespace();
        match (words.next(), words.next()) {
            (None | Some("help"), _) => {
                let views = VIEWS_HELP.iter().map(|l| format!("  monitor {l}"));
                std::iter::once(HELP.to_string())
                    .chain(views)
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            (Some("pt"), None) => self
                .session
                .command(&format!("pt hart {}", self.stopped))
                .join("\n"),
            (Some("phys"), arg) => {
                match arg {
                    Some("on") => self.phys = true,
                    Some("off") => self.phys = false,
                    None => {}
                    Some(other) => {
                        return format!("monitor phys: expected on or off, not {other:?}");
                    }
                }
                if self.phys {
                    "memory access: physical addresses".into()
                } else {
                    "memory access: virtual, through the current hart's translation".into()
                }
            }
            (Some("stats"), _) => self.stats(),
            (Some("harts"), _) => (0..self.session.machine().harts.len())
                .map(|h| {
                    format!(
                        "{} pc {:#x}",
                        threads::describe(self, h),
                        self.session.machine().harts[h].pc
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            (Some("net"), _) => match self.session.machine().net() {
                Some(net) => net.describe().join("\n"),
                None => "no network: the machine was booted without --net (QEMU: -netdev user \
                         ... -device e1000)"
                    .into(),
            },
            (Some(first), _) if VIEWS.contains(&first) => self.session.command(cmd).join("\n"),
            (Some(other), _) => format!("unknown monitor command {other:?}; try `monitor help`"),
        }
    }

    fn stats(&self) -> String {
        let m = self.session.machine();
        let instret = m.instret();
        let host = self.started.elapsed().as_secs_f64();
        let guest = m.mtime() as f64 / machine::board::TIMEBASE_HZ as f64;
        let mut s = format!(
            "instructions retired: {instret}\ncycles: {}\nguest time: {guest:.3} s\nhost time since start: {host:.3} s\nMIPS since start: {:.1}\n",
            m.cycle(),
            instret as f64 / host.max(1e-9) / 1e6
        );
        for (h, hart) in m.harts.iter().enumerate() {
            s.push_str(&format!(
                "hart {h}: {} instructions retired\n",
                hart.instret()
            ));
        }
        if let Some((at, base)) = self.attached {
            s.push_str(&format!(
                "since gdb attached: {} instructions in {:.3} s\n",
                instret - base,
                at.elapsed().as_secs_f64()
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use machine::Config;
    use session::{Boot, Session};

    fn target() -> GdbTarget {
        let s = Session::new(Boot {
            kernel: vec![0x13, 0, 0, 0],
            raw: true,
            disk: None,
            config: Config {
                harts: 2,
                ram_mib: 1,
                ..Config::default()
            },
        })
        .expect("machine");
        GdbTarget::new(s)
    }

    #[test]
    fn net_shows_the_rings_or_says_there_is_no_network() {
        let mut t = target();
        assert!(t.monitor("net").contains("booted without --net"));
        t.session.attach_net();
        let view = t.monitor("net");
        assert!(
            view.contains("e1000 rx ring 0x0 (0 descriptors): RDH 0 RDT 0"),
            "{view}"
        );
        assert!(t.monitor("help").contains("monitor net"));
    }

    #[test]
    fn phys_toggles_and_rejects_nonsense() {
        let mut t = target();
        assert!(!t.phys);
        assert!(t.monitor("phys on").contains("physical"));
        assert!(t.phys);
        assert!(t.monitor("phys maybe").contains("expected on or off"));
        assert!(t.phys);
        assert!(t.monitor("phys off").contains("virtual"));
        assert!(!t.phys);
    }

    #[test]
    fn help_stats_pt_and_unknown() {
        let mut t = target();
        assert!(t.monitor("help").contains("monitor pt"));
        assert!(t.monitor("").contains("monitor stats"));
        let stats = t.monitor("stats");
        assert!(stats.contains("instructions retired: 0"), "{stats}");
        assert!(stats.contains("hart 1: 0 instructions retired"), "{stats}");
        let pt = t.monitor("pt");
        assert!(pt.contains("hart 0 runs without paging"), "{pt}");
        assert!(
            t.monitor("pt hart 1")
                .contains("hart 1 runs without paging")
        );
        let pt = t.monitor("pt hart 7");
        assert!(pt.contains("no hart 7 (harts 0 to 1)"), "{pt}");
        // Views without a kernel ELF say what they lack.
        assert!(
            t.monitor("ps").contains("no kernel tables"),
            "{}",
            t.monitor("ps")
        );
        assert!(t.monitor("help").contains("monitor strace on"));
        assert!(t.monitor("frobnicate").contains("unknown monitor command"));
        let harts = t.monitor("harts");
        assert!(harts.contains("hart 1, M-mode pc 0x80000000"), "{harts}");
    }
}
