//! The `:` command line: gdb-like words parsed into what the UI or the machine does.
//!
//! Grammar (one command a line, words separated by blanks):
//! `b FUNC` · `b FILE:LINE` · `b *ADDR` · `b syscall NAME` · `b pid N` · `d N` · `c` · `p` (pause) · `s` (step line) ·
//! `si` · `n` (step over) · `fin` (finish) · `x/Ngx EXPR` (virtual) · `xp/Ngx EXPR`
//! (physical) · `pt [PID|kernel]` · `fds PID` · `strace [FILTER|off]` · `mon CMD` (any
//! debugger view: `ps`, `sym`, `pt 3 tree`...) · `layout [auto|tabs|split|full|reset]` ·
//! `hide PANE` · `show PANE|all` · `rsi`, `rs`, `rn`, `rfin` (reverse stepi, step,
//! next, finish) · `rc` (reverse-continue) · `goto N` (a position of the timeline) ·
//! `ne [KIND]`, `pe [KIND]` (next and previous event of the timeline bar: `syscall`, `fault`,
//! `hit`, `input`, `snapshot`) · `present` · `when
//! ADDR` · `when pte PID VA` · `when fd PID N` (back to the last write) · `help` · `q`. Numbers are decimal or `0x` hex. An
//! expression ([`Expr`]) adds and subtracts numbers and registers: `$sp`, `$a0+16`,
//! `$sepc-4`, `0x80000000`. Parsing is pure: an unknown or malformed line is an `Err` with a
//! one-line message for the status bar, and the UI keeps the line in the history so nothing
//! typed is lost.

use super::app::Pane;
use super::event::BreakSpec;
use machine::cpu::decode::REG_NAMES;
use session::inspect::state::HartState;

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
    /// To the next (`forward`) or previous landmark of these kinds (any when empty).
    Landmark {
        forward: bool,
        kinds: Vec<session::landmarks::Kind>,
    },
    /// Back to the present.
    Present,
    /// Back to the last write of an address, a PTE or an fd slot.
    When(session::WhenSpec),
    /// `x/Ngx EXPR` (`phys`: `xp`, a physical address): the memory pane follows EXPR.
    Examine {
        count: usize,
        expr: Expr,
        phys: bool,
    },
    /// `pt` with no argument: the process on the current hart.
    PageTable(Option<i64>),
    /// `pt kernel`.
    KernelPageTable,
    Fds(i64),
    Strace(String),
    Monitor(String),
    /// `layout NAME` (None: say which is in use); `layout reset` is `Some("reset")`.
    Layout(Option<String>),
    Hide(Pane),
    /// `show PANE`, or every hidden pane (`show all`: None).
    Show(Option<Pane>),
    Help,
    Quit,
}

/// A sum of terms: numbers and registers (`$sp`, `$a0`, `$pc`, `$x5`, a CSR such as
/// `$sepc`), evaluated against the hart's registers at each stop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expr {
    /// As typed (for the memory pane's title).
    pub text: String,
    /// (negated, term).
    pub terms: Vec<(bool, Term)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Term {
    Num(u64),
    /// A register's name, without the `$`.
    Reg(String),
}

impl Expr {
    /// Parses `$sp+0x10`, `0x80000000`, `$a0 - 8`.
    pub fn parse(text: &str) -> Result<Expr, String> {
        let compact: String = text.split_whitespace().collect();
        let mut terms = Vec::new();
        let mut rest = compact.as_str();
        let mut neg = false;
        loop {
            let end = rest.find(['+', '-']).unwrap_or(rest.len());
            let word = &rest[..end];
            let term = if let Some(r) = word.strip_prefix('$') {
                if r.is_empty() || !r.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(format!("not a register: {word:?}"));
                }
                Term::Reg(r.to_ascii_lowercase())
            } else {
                Term::Num(number(word).ok_or(format!("not a number: {word:?}"))?)
            };
            terms.push((neg, term));
            if end == rest.len() {
                break;
            }
            neg = rest[end..].starts_with('-');
            rest = &rest[end + 1..];
        }
        Ok(Expr {
            text: compact,
            terms,
        })
    }

    /// The value on hart `st`; an unknown register is an error.
    pub fn eval(&self, st: &HartState) -> Result<u64, String> {
        let mut v = 0u64;
        for (neg, t) in &self.terms {
            let x = match t {
                Term::Num(n) => *n,
                Term::Reg(r) => register(st, r).ok_or(format!("no register ${r}"))?,
            };
            v = if *neg {
                v.wrapping_sub(x)
            } else {
                v.wrapping_add(x)
            };
        }
        Ok(v)
    }
}

/// Register `name` of `st`: `pc`, `x0`..`x31`, an ABI name (`fp` is `s0`), or a CSR the
/// state captured.
pub fn register(st: &HartState, name: &str) -> Option<u64> {
    if name == "pc" {
        return Some(st.pc);
    }
    if name == "fp" {
        return Some(st.x[8]);
    }
    if let Some(n) = name.strip_prefix('x').and_then(|n| n.parse::<usize>().ok()) {
        return st.x.get(n).copied();
    }
    if let Some(i) = REG_NAMES.iter().position(|r| *r == name) {
        return Some(st.x[i]);
    }
    st.csr(name)
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
    let examine = cmd
        .strip_prefix("x/")
        .map(|f| (f, false))
        .or_else(|| cmd.strip_prefix("xp/").map(|f| (f, true)))
        .or(match cmd {
            "x" => Some(("", false)),
            "xp" => Some(("", true)),
            _ => None,
        });
    if let Some((fmt, phys)) = examine {
        if rest.is_empty() {
            return Err("usage: x/Ngx EXPR (x/16gx $sp), xp/Ngx PADDR".into());
        }
        let expr = Expr::parse(&rest.join(" "))?;
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
        return Ok(Parsed::Examine { count, expr, phys });
    }
    let pane = |name: &str| Pane::named(name).ok_or(format!("no pane {name:?}"));
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
        "ne" | "next-event" | "pe" | "prev-event" => {
            let kinds = rest
                .iter()
                .map(|k| {
                    session::landmarks::Kind::parse(k).ok_or(format!(
                        "not an event kind: {k:?} (syscall, fault, hit, input, snapshot)"
                    ))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Parsed::Landmark {
                forward: matches!(cmd, "ne" | "next-event"),
                kinds,
            }
        }
        "present" if rest.is_empty() => Parsed::Present,
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
        "layout" => match rest.as_slice() {
            [] => Parsed::Layout(None),
            [name] => Parsed::Layout(Some(name.to_string())),
            _ => return Err("usage: layout [auto|tabs|split|full|reset]".into()),
        },
        "hide" => Parsed::Hide(pane(one("hide PANE")?)?),
        "show" => match one("show PANE|all")? {
            "all" => Parsed::Show(None),
            name => Parsed::Show(Some(pane(name)?)),
        },
        "help" | "h" | "?" => Parsed::Help,
        "q" | "quit" => Parsed::Quit,
        _ => return Err(format!("unknown command {line:?} (help lists commands)")),
    })
}

/// The commands, one line each, for the help overlay.
pub const HELP: &[&str] = &[
    "b FUNC | FILE:LINE | *ADDR  breakpoint: b sys_exec, b sysfile.rs:340, b *ADDR",
    "b syscall NAME | b pid N    at the trampoline: on ecall NAME / when pid N runs",
    "c p s n si fin  rsi rs rn rfin rc  as the keys;  goto N  a position of the run",
    "when ADDR | pte PID VA | fd PID N  last write;  ne pe [KIND] present  events",
    "x/Ngx EXPR  xp/Ngx PADDR    memory pane: x/16gx $sp (virtual), xp: physical",
    "pt [PID|kernel]  fds PID    page table (default: current process); open files",
    "layout auto|tabs|split|full  hide PANE  show PANE|all  (kept in the config)",
    "strace [FILTER|off]         syscall trace: open,read pid=N proc=NAME",
    "mon CMD  views: ps, regs, sym ADDR, pt 3 tree;  d N  delete bp N;  q  quit",
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
        use session::landmarks::Kind;
        assert_eq!(
            parse("pe syscall fault"),
            Ok(Parsed::Landmark {
                forward: false,
                kinds: vec![Kind::Syscall, Kind::Fault]
            })
        );
        assert_eq!(
            parse("ne"),
            Ok(Parsed::Landmark {
                forward: true,
                kinds: vec![]
            })
        );
        assert_eq!(parse("present"), Ok(Parsed::Present));
        assert!(parse("ne page").unwrap_err().contains("not an event kind"));
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
        let num = |n| Expr {
            text: format!("{n}"),
            terms: vec![(false, Term::Num(n))],
        };
        assert_eq!(
            parse("x/8gx 0x80000000"),
            Ok(Parsed::Examine {
                count: 8,
                expr: Expr {
                    text: "0x80000000".into(),
                    ..num(0x8000_0000)
                },
                phys: false,
            })
        );
        assert_eq!(
            parse("x 4096"),
            Ok(Parsed::Examine {
                count: 1,
                expr: num(4096),
                phys: false
            })
        );
        assert_eq!(
            parse("xp/2gx 4096"),
            Ok(Parsed::Examine {
                count: 2,
                expr: num(4096),
                phys: true
            })
        );
        assert!(parse("x/8i 0x0").is_err());
        assert!(parse("x/8gx").is_err());
        assert!(parse("x/8gx $").is_err());
        assert!(parse("c 3").is_err());
    }

    #[test]
    fn expressions_of_registers_and_numbers() {
        let mut x = [0u64; 32];
        x[2] = 0x3fff_f000;
        x[10] = 7;
        let st = HartState {
            id: 0,
            mode: machine::cpu::Mode::Supervisor,
            pc: 0x8000_0000,
            x,
            waiting: false,
            csrs: vec![("sepc", 0x1234)],
        };
        let ev = |t: &str| Expr::parse(t).and_then(|e| e.eval(&st));
        assert_eq!(ev("$sp"), Ok(0x3fff_f000));
        assert_eq!(ev("$sp+0x10"), Ok(0x3fff_f010));
        assert_eq!(ev("$sp - 16 + $a0"), Ok(0x3fff_eff7));
        assert_eq!(ev("$x10"), Ok(7));
        assert_eq!(ev("$pc"), Ok(0x8000_0000));
        assert_eq!(ev("$SEPC-4"), Ok(0x1230));
        assert_eq!(ev("0x80"), Ok(0x80));
        assert!(ev("$nope").unwrap_err().contains("$nope"));
        assert!(ev("$sp+").is_err());
        assert!(ev("sp").is_err());
        assert_eq!(Expr::parse("$sp + 8").unwrap().text, "$sp+8");
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
        assert_eq!(parse("layout"), Ok(Parsed::Layout(None)));
        assert_eq!(
            parse("layout full"),
            Ok(Parsed::Layout(Some("full".into())))
        );
        assert_eq!(parse("hide pt"), Ok(Parsed::Hide(Pane::PageTable)));
        assert_eq!(parse("show memory"), Ok(Parsed::Show(Some(Pane::Memory))));
        assert_eq!(parse("show all"), Ok(Parsed::Show(None)));
        assert!(parse("hide nothing").is_err());
        let e = parse("frobnicate 3").unwrap_err();
        assert!(
            e.contains("unknown command") && e.contains("frobnicate 3"),
            "{e}"
        );
        assert!(parse("").is_err());
    }
}
