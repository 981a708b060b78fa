//! The `:` command line: gdb-like words parsed into what the UI or the machine does.
//!
//! Grammar (one command a line, words separated by blanks):
//! `b FUNC` · `b FILE:LINE` · `b *ADDR` · `b syscall NAME` · `b pid N` · `d N` · `c` · `p` (pause) · `s` (step line) ·
//! `si` · `n` (step over) · `fin` (finish) · `x/Ngx ADDR` · `pt [PID|kernel]` · `fds PID` ·
//! `strace [FILTER|off]` · `mon CMD` (any debugger view: `ps`, `sym`, `pt 3 tree`...) ·
//! `rsi`, `rs`, `rn`, `rfin` (reverse stepi, step, next, finish) · `rc` (reverse-continue) ·
//! `goto N` (a position of the timeline) ·
//! `when ADDR` · `when pte PID VA` · `when fd PID N` (back to the last write) ·
//! `help` · `q`. Numbers are decimal or `0x` hex. Parsing is pure: an unknown or malformed
//! line is an `Err` with a one-line message for the status bar, and the UI keeps the line in
//! the history so nothing typed is lost.

use super::event::BreakSpec;

/// A parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    Break(BreakSpec),
    Delete(usize),
    Continue,
    Pause,
    StepLine,
    StepInst,
    Next,
    Finish,
    /// Back on the hart of the last stop: one instruction, a line, over calls, out.
    Reverse(session::StepKind),
    /// Back to the last breakpoint or watchpoint hit.
    ReverseContinue,
    /// To a position of the timeline.
    Goto(u64),
    /// Back to the last write of an address, a PTE or an fd slot.
    When(session::WhenSpec),
    Examine {
        count: usize,
        addr: u64,
    },
    /// `pt` with no argument: the process on the current hart.
    PageTable(Option<i64>),
    /// `pt kernel`.
    KernelPageTable,
    Fds(i64),
    Strace(String),
    Monitor(String),
    Help,
    Quit,
}

/// A number in decimal or `0x` hex.
pub fn number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(&h.replace('_', ""), 16).ok(),
        None => s.replace('_', "").parse().ok(),
    }
}

/// Parses one command line.
pub fn parse(line: &str) -> Result<Parsed, String> {
    let line = line.trim();
    let mut words = line.split_whitespace();
    let Some(cmd) = words.next() else {
        return Err("empty command".into());
    };
    let rest: Vec<&str> = words.collect();
    let one = |usage: &str| -> Result<&str, String> {
        match rest.as_slice() {
            [a] => Ok(a),
            _ => Err(format!("usage: {usage}")),
        }
    };
    if let Some(fmt) = cmd.strip_prefix("x/").or((cmd == "x").then_some("")) {
        let addr = one("x/Ngx ADDR")?;
        let addr = number(addr).ok_or(format!("not an address: {addr:?}"))?;
        let digits: String = fmt.chars().take_while(char::is_ascii_digit).collect();
        let letters = &fmt[digits.len()..];
        if !letters.chars().all(|c| c == 'g' || c == 'x') {
            return Err(format!(
                "x/{fmt}: only the gx format (64-bit hex) is supported"
            ));
        }
        let count = if digits.is_empty() {
            1
        } else {
            digits
                .parse()
                .map_err(|_| format!("bad count {digits:?}"))?
        };
        return Ok(Parsed::Examine { count, addr });
    }
    Ok(match cmd {
        "b" | "break" => Parsed::Break(BreakSpec::parse(&rest.join(" "))?),
        "d" | "delete" => {
            let n = one("d N")?;
            Parsed::Delete(
                n.parse()
                    .map_err(|_| format!("not a breakpoint number: {n:?}"))?,
            )
        }
        "c" | "continue" if rest.is_empty() => Parsed::Continue,
        "p" | "pause" if rest.is_empty() => Parsed::Pause,
        "s" | "step" if rest.is_empty() => Parsed::StepLine,
        "si" | "stepi" if rest.is_empty() => Parsed::StepInst,
        "n" | "next" if rest.is_empty() => Parsed::Next,
        "fin" | "finish" if rest.is_empty() => Parsed::Finish,
        "rsi" | "reverse-stepi" if rest.is_empty() => {
            Parsed::Reverse(session::StepKind::Instruction)
        }
        "rs" | "reverse-step" if rest.is_empty() => Parsed::Reverse(session::StepKind::Line),
        "rn" | "reverse-next" if rest.is_empty() => Parsed::Reverse(session::StepKind::Over),
        "rfin" | "reverse-finish" if rest.is_empty() => Parsed::Reverse(session::StepKind::Finish),
        "rc" | "reverse-continue" if rest.is_empty() => Parsed::ReverseContinue,
        "when" => {
            let num = |s: &str| number(s).ok_or(format!("not a number: {s:?}"));
            Parsed::When(match rest.as_slice() {
                ["pte", pid, va] => session::WhenSpec::Pte {
                    pid: num(pid)? as i64,
                    va: num(va)?,
                },
                ["fd", pid, n] => session::WhenSpec::Fd {
                    pid: num(pid)? as i64,
                    n: num(n)? as usize,
                },
                [addr] => session::WhenSpec::Addr(num(addr)?, 8),
                [addr, len] => session::WhenSpec::Addr(num(addr)?, num(len)?),
                _ => return Err("usage: when ADDR [LEN] | when pte PID VA | when fd PID N".into()),
            })
        }
        "goto" => {
            let n = one("goto POSITION")?;
            Parsed::Goto(number(n).ok_or(format!("not a position: {n:?}"))?)
        }
        "pt" => match rest.as_slice() {
            [] => Parsed::PageTable(None),
            ["kernel"] => Parsed::KernelPageTable,
            [pid] => Parsed::PageTable(Some(
                pid.parse().map_err(|_| format!("not a pid: {pid:?}"))?,
            )),
            _ => return Err("usage: pt [PID|kernel]".into()),
        },
        "fds" => {
            let pid = one("fds PID")?;
            Parsed::Fds(pid.parse().map_err(|_| format!("not a pid: {pid:?}"))?)
        }
        "strace" => Parsed::Strace(rest.join(" ")),
        "mon" | "monitor" if !rest.is_empty() => Parsed::Monitor(rest.join(" ")),
        "help" | "h" | "?" => Parsed::Help,
        "q" | "quit" => Parsed::Quit,
        _ => return Err(format!("unknown command {line:?} (help lists commands)")),
    })
}

/// The commands, one line each, for the help overlay.
pub const HELP: &[&str] = &[
    "b FUNC | FILE:LINE | *ADDR  breakpoint: b sys_exec, b sysfile.rs:340, b *ADDR",
    "b syscall NAME | b pid N    at the trampoline: on ecall NAME / when pid N runs",
    "c p s n si fin              continue, pause, step line/over/inst., finish",
    "x/Ngx ADDR                  examine N doublewords at a virtual address",
    "pt [PID|kernel]             page table (default: the current process)",
    "fds PID                     open files of a process",
    "strace [FILTER|off]         syscall trace: open,read pid=N proc=NAME",
    "mon CMD                     debugger views: ps, regs, sym ADDR, pt 3 tree",
    "d N                         delete breakpoint N;  q  quit",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_commands_and_goto() {
        assert_eq!(
            parse("rsi"),
            Ok(Parsed::Reverse(session::StepKind::Instruction))
        );
        assert_eq!(
            parse("reverse-finish"),
            Ok(Parsed::Reverse(session::StepKind::Finish))
        );
        assert_eq!(parse("rn"), Ok(Parsed::Reverse(session::StepKind::Over)));
        assert_eq!(parse("reverse-continue"), Ok(Parsed::ReverseContinue));
        assert_eq!(parse("goto 0x100"), Ok(Parsed::Goto(256)));
        assert!(parse("goto").is_err() && parse("goto x").is_err() && parse("rc 1").is_err());
        assert_eq!(
            parse("when pte 3 0x4000"),
            Ok(Parsed::When(session::WhenSpec::Pte { pid: 3, va: 0x4000 }))
        );
        assert_eq!(
            parse("when fd 2 1"),
            Ok(Parsed::When(session::WhenSpec::Fd { pid: 2, n: 1 }))
        );
        assert_eq!(
            parse("when 0x80001000"),
            Ok(Parsed::When(session::WhenSpec::Addr(0x8000_1000, 8)))
        );
        assert!(parse("when pte 3").is_err());
    }

    #[test]
    fn breakpoints_by_function_line_and_address() {
        assert_eq!(
            parse("b sys_exec"),
            Ok(Parsed::Break(BreakSpec::Func("sys_exec".into())))
        );
        assert_eq!(
            parse("break kernel::proc::fork"),
            Ok(Parsed::Break(BreakSpec::Func("kernel::proc::fork".into())))
        );
        assert_eq!(
            parse("b sysfile.rs:420"),
            Ok(Parsed::Break(BreakSpec::FileLine("sysfile.rs".into(), 420)))
        );
        assert_eq!(
            parse("b *0x8000_1000"),
            Ok(Parsed::Break(BreakSpec::Addr(0x8000_1000)))
        );
        assert_eq!(
            parse("b syscall exec"),
            Ok(Parsed::Break(BreakSpec::Syscall("exec".into())))
        );
        assert_eq!(parse("b pid 3"), Ok(Parsed::Break(BreakSpec::Pid(3))));
        assert!(parse("b pid x").is_err());
        assert!(parse("b").is_err());
        assert!(parse("b *zz").is_err());
        assert!(parse("b f.c:x").is_err());
    }

    #[test]
    fn run_control_and_examine() {
        assert_eq!(parse(" c "), Ok(Parsed::Continue));
        assert_eq!(parse("si"), Ok(Parsed::StepInst));
        assert_eq!(parse("s"), Ok(Parsed::StepLine));
        assert_eq!(parse("n"), Ok(Parsed::Next));
        assert_eq!(parse("finish"), Ok(Parsed::Finish));
        assert_eq!(parse("d 2"), Ok(Parsed::Delete(2)));
        assert_eq!(
            parse("x/8gx 0x80000000"),
            Ok(Parsed::Examine {
                count: 8,
                addr: 0x8000_0000
            })
        );
        assert_eq!(
            parse("x 4096"),
            Ok(Parsed::Examine {
                count: 1,
                addr: 4096
            })
        );
        assert!(parse("x/8i 0x0").is_err());
        assert!(parse("c 3").is_err());
    }

    #[test]
    fn views_and_errors() {
        assert_eq!(parse("pt"), Ok(Parsed::PageTable(None)));
        assert_eq!(parse("pt 3"), Ok(Parsed::PageTable(Some(3))));
        assert_eq!(parse("pt kernel"), Ok(Parsed::KernelPageTable));
        assert_eq!(parse("fds 2"), Ok(Parsed::Fds(2)));
        assert_eq!(
            parse("strace open read"),
            Ok(Parsed::Strace("open read".into()))
        );
        assert_eq!(parse("mon ps"), Ok(Parsed::Monitor("ps".into())));
        assert_eq!(parse("q"), Ok(Parsed::Quit));
        let e = parse("frobnicate 3").unwrap_err();
        assert!(
            e.contains("unknown command") && e.contains("frobnicate 3"),
            "{e}"
        );
        assert!(parse("").is_err());
    }
}
