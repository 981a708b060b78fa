//! The walkthrough file: TOML, one `[[step]]` table per step (docs/walkthroughs/README.md).
//!
//! Interface: [`Walk::parse`] turns the file's text into a [`Walk`], or a one-line error
//! naming the step and key at fault. Nothing here touches a machine: the player
//! (`super::player`) gives the checks their meaning.
//!
//! Invariants: every step has exactly one way to run (`break` to a function or a
//! `FILE:LINE`, `syscall`, `until`) or none (a step that only explains and checks); every
//! check key, `save` key and key inside a comparison is a known kind with a known field
//! where the kind has fixed fields, so a typo fails at parse time rather than passing
//! silently. Checks keep file order: toml's `preserve_order` keeps tables in insertion
//! order (see [`flatten`] for the one exception dotted keys make).

use toml::{Table, Value};

/// A whole walkthrough.
#[derive(Clone, Debug, PartialEq)]
pub struct Walk {
    pub title: String,
    /// `lab = "cow,lazy"`: the bundled kernel's lab options the walkthrough needs (`--lab`).
    pub lab: Option<String>,
    pub steps: Vec<Step>,
}

/// Where a step runs the machine to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Do not run: explain and check the state the previous step left.
    Stay,
    /// A kernel function's first instruction.
    Break(String),
    /// The first instruction of a source line (`break = "proc.rs:512"`): file, line.
    Line(String, u32),
    /// The trampoline's `uservec` on an `ecall` of this system call.
    Syscall(String),
    /// Until this text appears on the console (after the step began).
    Until(String),
}

/// One step.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub name: String,
    /// Console input typed before running (`\n` is Enter).
    pub typed: Option<String>,
    pub target: Target,
    /// With `break`/`syscall`: stop only when the current process has this name (or pid).
    pub proc: Option<String>,
    /// The narrative shown at the stop.
    pub text: String,
    /// The pane the TUI should show (kept for the TUI player; the headless player prints it).
    pub pane: Option<String>,
    /// Most machine cycles the step may take to reach its target.
    pub limit: u64,
    /// In file order (see [`flatten`]).
    pub checks: Vec<Check>,
    /// Check keys whose values are remembered after this step's checks, for later checks
    /// written against `$KEY` ([`Relation`]).
    pub save: Vec<String>,
}

/// One check: a dotted key such as `reg.a7` or `proc.sh.state`, and the expected value.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub path: Vec<String>,
    pub want: Value,
    /// When `want` is a string opening with a comparison (`"< $kernel.freemem"`): the
    /// comparison, parsed when the file is read.
    pub rel: Option<Relation>,
}

/// A numeric comparison with a value found at the stop: `OP OPERAND [+|- N]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relation {
    pub op: Op,
    pub base: Operand,
    /// Added to the operand (`$count.all + 1`).
    pub offset: i128,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub fn holds(self, found: i128, want: i128) -> bool {
        match self {
            Op::Eq => found == want,
            Op::Ne => found != want,
            Op::Lt => found < want,
            Op::Le => found <= want,
            Op::Gt => found > want,
            Op::Ge => found >= want,
        }
    }
}

/// What a relation compares with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    /// A number written in the file.
    Num(i128),
    /// Another check key, evaluated at the same stop (`pa.sh.0x0`).
    Now(Vec<String>),
    /// A key's value saved by an earlier step's `save` (`$kernel.freemem`).
    Saved(Vec<String>),
}

impl Relation {
    /// Parses `"< $kernel.freemem"`, `"== $count.all + 1"`, `"!= pa.sh.0x0"`, `">= 4096"`.
    /// None: the string does not open with a comparison (a plain expected text).
    pub fn parse(s: &str) -> Option<Result<Relation, String>> {
        let s = s.trim();
        const OPS: [(&str, Op); 6] = [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
        ];
        let (op, rest) = OPS
            .iter()
            .find_map(|(t, op)| s.strip_prefix(t).map(|r| (*op, r.trim())))?;
        Some(Relation::operand(rest).map(|(base, offset)| Relation { op, base, offset }))
    }

    fn operand(s: &str) -> Result<(Operand, i128), String> {
        // An optional `+ N` or `- N` at the end; the operand before it may hold spaces
        // (`printed.3: syscall read ->`).
        let words: Vec<&str> = s.split_whitespace().collect();
        let (first, offset) = match words.as_slice() {
            [] => return Err("nothing after the comparison".into()),
            [.., sign @ ("+" | "-"), n] if words.len() > 2 => {
                let n = number(n).ok_or(format!("`{n}` is not a number"))?;
                // Drop the last two words: N, then the one-byte sign.
                let t = s.trim_end();
                let t = t[..t.len() - words[words.len() - 1].len()].trim_end();
                (t[..t.len() - 1].trim(), if *sign == "-" { -n } else { n })
            }
            _ => (s.trim(), 0),
        };
        let base = if let Some(n) = number(first) {
            Operand::Num(n)
        } else {
            let (saved, key) = match first.strip_prefix('$') {
                Some(k) => (true, k),
                None => (false, first),
            };
            let path: Vec<String> = key.split('.').map(str::to_string).collect();
            kind_ok(&path).map_err(|e| format!("in `{s}`: {e}"))?;
            if saved {
                Operand::Saved(path)
            } else {
                Operand::Now(path)
            }
        };
        Ok((base, offset))
    }
}

/// Decimal or 0x-hex, with an optional minus sign.
pub fn number(s: &str) -> Option<i128> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let v = match s.strip_prefix("0x") {
        Some(h) => i128::from_str_radix(&h.replace('_', ""), 16).ok()?,
        None => s.replace('_', "").parse::<i128>().ok()?,
    };
    Some(if neg { -v } else { v })
}

impl Check {
    /// The key as written in the file (`proc.sh.state`).
    pub fn key(&self) -> String {
        self.path.join(".")
    }
}

/// Default per-step limit: about 100 guest seconds at the board's 10 MHz timebase.
pub const DEFAULT_LIMIT: u64 = 20_000_000_000;

/// Check kinds and how many key parts follow the kind (`reg.a7`: 1).
const KINDS: &[(&str, &[usize])] = &[
    ("mode", &[0]),
    ("spp", &[0]),
    ("func", &[0]),
    ("reg", &[1]),
    ("csr", &[1]),
    ("satp", &[1]),
    ("proc", &[2]),
    ("count", &[1]),
    ("kernel", &[1]),
    ("pa", &[2]),
    ("mem", &[2]),
    ("pt", &[2]),
    ("calls", &[2]),
    ("printed", &[1]),
    ("fd", &[2, 3]),
    ("pte", &[2]),
    ("result", &[1]),
];

/// Kinds whose key part at an index is one of a fixed set of names (`proc.P.FIELD`).
const FIELDS: &[(&str, usize, &[&str])] = &[
    ("kernel", 1, &["freemem", "freepages"]),
    ("pt", 2, &["leaves", "tables"]),
    ("satp", 1, &["mode", "table"]),
    (
        "proc",
        2,
        &[
            "state",
            "name",
            "pid",
            "ppid",
            "sz",
            "xstate",
            "fds",
            "trace_mask",
        ],
    ),
];

impl Walk {
    /// Parses a walkthrough file's text.
    pub fn parse(text: &str) -> Result<Walk, String> {
        let top: Table = text.parse().map_err(|e: toml::de::Error| {
            format!(
                "not valid TOML: {}",
                e.message().lines().next().unwrap_or("")
            )
        })?;
        let title = match top.get("title") {
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err("`title` must be a string".into()),
            None => return Err("missing `title`".into()),
        };
        for key in top.keys() {
            if !matches!(key.as_str(), "title" | "lab" | "step") {
                return Err(format!("unknown top-level key `{key}`"));
            }
        }
        let lab = match top.get("lab") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err("`lab` must be a string".into()),
            None => None,
        };
        let Some(Value::Array(raw)) = top.get("step") else {
            return Err("no [[step]] tables".into());
        };
        let mut steps = Vec::new();
        for (i, v) in raw.iter().enumerate() {
            let Value::Table(t) = v else {
                return Err(format!("step {} is not a table", i + 1));
            };
            steps.push(parse_step(i + 1, t)?);
        }
        Ok(Walk { title, lab, steps })
    }
}

fn parse_step(n: usize, t: &Table) -> Result<Step, String> {
    let name = match t.get("name") {
        Some(Value::String(s)) => s.clone(),
        _ => format!("{n}"),
    };
    let at = |msg: String| format!("step {n} ({name}): {msg}");
    let string = |key: &str| -> Result<Option<String>, String> {
        match t.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(at(format!("`{key}` must be a string"))),
        }
    };
    let mut targets = Vec::new();
    if let Some(f) = string("break")? {
        // FILE:LINE when the part after the last colon is a number; a Rust path's `::` is
        // followed by a name, so `kalloc::kfree` stays a function.
        let line = f.rsplit_once(':').map(|(file, l)| (file, l.parse::<u32>()));
        targets.push(match line {
            Some((file, Ok(line))) if !file.is_empty() => Target::Line(file.to_string(), line),
            _ => Target::Break(f),
        });
    }
    if let Some(s) = string("syscall")? {
        targets.push(Target::Syscall(s));
    }
    if let Some(u) = string("until")? {
        targets.push(Target::Until(u));
    }
    if targets.len() > 1 {
        return Err(at("at most one of `break`, `syscall`, `until`".into()));
    }
    let target = targets.pop().unwrap_or(Target::Stay);
    let limit = match t.get("limit") {
        None => DEFAULT_LIMIT,
        Some(Value::Integer(l)) if *l > 0 => *l as u64,
        Some(_) => return Err(at("`limit` must be a positive integer (cycles)".into())),
    };
    for key in t.keys() {
        const KNOWN: &[&str] = &[
            "name", "type", "break", "syscall", "until", "proc", "text", "pane", "limit", "check",
            "save",
        ];
        if !KNOWN.contains(&key.as_str()) {
            return Err(at(format!("unknown key `{key}`")));
        }
    }
    let mut checks = Vec::new();
    match t.get("check") {
        None => {}
        Some(Value::Table(c)) => flatten(c, &mut Vec::new(), &mut checks),
        Some(_) => return Err(at("`check` must be a table".into())),
    }
    for c in &mut checks {
        kind_ok(&c.path).map_err(&at)?;
        if let Value::String(w) = &c.want {
            c.rel = Relation::parse(w)
                .transpose()
                .map_err(|e| at(format!("check {}: {e}", c.key())))?;
        }
    }
    let save = match t.get("save") {
        None => Vec::new(),
        Some(Value::Array(keys)) => {
            let mut out = Vec::new();
            for k in keys {
                let Value::String(k) = k else {
                    return Err(at("`save` must be a list of check keys".into()));
                };
                let path: Vec<String> = k.split('.').map(str::to_string).collect();
                kind_ok(&path).map_err(|e| at(format!("save: {e}")))?;
                out.push(k.clone());
            }
            out
        }
        Some(_) => return Err(at("`save` must be a list of check keys".into())),
    };
    Ok(Step {
        typed: string("type")?,
        proc: string("proc")?,
        text: string("text")?.unwrap_or_default(),
        pane: string("pane")?,
        name,
        target,
        limit,
        checks,
        save,
    })
}

/// Whether `path` names a known check kind with the right number of parts.
fn kind_ok(path: &[String]) -> Result<(), String> {
    let key = path.join(".");
    let kind = path.first().map(String::as_str).unwrap_or("");
    let Some((_, arities)) = KINDS.iter().find(|(k, _)| *k == kind) else {
        return Err(format!("unknown check `{key}`"));
    };
    if !arities.contains(&(path.len() - 1)) {
        return Err(format!("malformed check key `{key}`"));
    }
    if let Some((_, at, names)) = FIELDS.iter().find(|(k, _, _)| *k == kind)
        && let Some(field) = path.get(*at)
        && !names.contains(&field.as_str())
    {
        return Err(format!("`{key}`: {kind} takes one of {}", names.join(", ")));
    }
    Ok(())
}

/// Dotted keys make nested tables in TOML (`reg.a7 = 7` is `reg = { a7 = 7 }`): turn them
/// back into paths. Tables keep file order (toml's `preserve_order`), so checks come out in
/// the order written, except that keys sharing a prefix are one table: a later
/// `check.reg.sp` is evaluated with the first `check.reg.*`. Checks only read the machine,
/// so order decides which failure is reported first.
fn flatten(t: &Table, prefix: &mut Vec<String>, out: &mut Vec<Check>) {
    for (k, v) in t {
        prefix.push(k.clone());
        match v {
            Value::Table(inner) => flatten(inner, prefix, out),
            _ => out.push(Check {
                path: prefix.clone(),
                want: v.clone(),
                rel: None,
            }),
        }
        prefix.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_steps_and_dotted_checks() {
        let w = Walk::parse(
            r#"
title = "t"
[[step]]
name = "boot"
until = "$ "
[[step]]
name = "fork"
type = "echo hi\n"
syscall = "fork"
text = "here"
check.reg.a7 = 1
check.proc."sh".state = "running"
check.fd.3.1 = "pipe"
"#,
        )
        .expect("parses");
        assert_eq!(w.steps.len(), 2);
        assert_eq!(w.steps[0].target, Target::Until("$ ".into()));
        let s = &w.steps[1];
        assert_eq!(s.target, Target::Syscall("fork".into()));
        assert_eq!(s.typed.as_deref(), Some("echo hi\n"));
        let keys: Vec<String> = s.checks.iter().map(Check::key).collect();
        assert!(keys.contains(&"reg.a7".to_string()));
        assert!(keys.contains(&"proc.sh.state".to_string()));
        assert!(keys.contains(&"fd.3.1".to_string()));
    }

    #[test]
    fn checks_keep_file_order_and_line_targets_parse() {
        let w = Walk::parse(
            r#"
title = "t"
[[step]]
break = "proc.rs:512"
check.proc.sh.state = "running"
check.reg.a7 = 1
check.count.all = 2
check.proc.sh.pid = 2
[[step]]
break = "kalloc::kfree"
"#,
        )
        .expect("parses");
        assert_eq!(w.steps[0].target, Target::Line("proc.rs".into(), 512));
        assert_eq!(w.steps[1].target, Target::Break("kalloc::kfree".into()));
        let keys: Vec<String> = w.steps[0].checks.iter().map(Check::key).collect();
        // File order, except that a later key under a prefix already seen joins its table.
        assert_eq!(
            keys,
            ["proc.sh.state", "proc.sh.pid", "reg.a7", "count.all"]
        );
    }

    #[test]
    fn relations_and_saves_parse() {
        let r = |s: &str| Relation::parse(s).map(|r| r.expect(s));
        assert_eq!(r("running"), None);
        assert_eq!(
            r("== $count.all + 1"),
            Some(Relation {
                op: Op::Eq,
                base: Operand::Saved(vec!["count".into(), "all".into()]),
                offset: 1
            })
        );
        assert_eq!(
            r("<= 0x1000 - 16"),
            Some(Relation {
                op: Op::Le,
                base: Operand::Num(4096),
                offset: -16
            })
        );
        assert_eq!(
            r("== printed.3: syscall read ->").map(|r| r.base),
            Some(Operand::Now(vec![
                "printed".into(),
                "3: syscall read ->".into()
            ]))
        );
        assert!(Relation::parse("< $kernel.freemen").is_some_and(|r| r.is_err()));
        assert!(Relation::parse("<").is_some_and(|r| r.is_err()));
        assert!(Relation::parse("> count.all + x").is_some_and(|r| r.is_err()));
        assert!(Op::Ne.holds(1, 2) && !Op::Lt.holds(2, 2) && Op::Ge.holds(2, 2));

        let w = Walk::parse(
            "title='t'\n[[step]]\nsave = ['kernel.freemem']\ncheck.count.all = '> $count.all'\n",
        )
        .expect("parses");
        assert_eq!(w.steps[0].save, ["kernel.freemem"]);
        assert!(w.steps[0].checks[0].rel.is_some());
        let e = Walk::parse("title='t'\n[[step]]\nname='s'\nsave = ['kernel']\n").unwrap_err();
        assert!(e.contains("step 1 (s)") && e.contains("kernel"), "{e}");
        let e = Walk::parse("title='t'\n[[step]]\ncheck.count.all = '== $cnt.all'\n").unwrap_err();
        assert!(e.contains("count.all") && e.contains("cnt.all"), "{e}");
    }

    #[test]
    fn rejects_typos_and_two_targets() {
        let e = Walk::parse("title='t'\n[[step]]\nname='x'\ncheck.regs.a0 = 1\n").unwrap_err();
        assert!(e.contains("step 1 (x)") && e.contains("regs.a0"), "{e}");
        let e = Walk::parse("title='t'\n[[step]]\nbreak='a'\nuntil='b'\n").unwrap_err();
        assert!(e.contains("at most one"), "{e}");
        let e = Walk::parse("title='t'\n[[step]]\nbrake='a'\n").unwrap_err();
        assert!(e.contains("unknown key `brake`"), "{e}");
    }

    #[test]
    fn a_lab_key_names_the_options() {
        let w = Walk::parse("title='t'\nlab='cow,lazy'\n[[step]]\n").expect("parses");
        assert_eq!(w.lab.as_deref(), Some("cow,lazy"));
        let e = Walk::parse("title='t'\nlab=1\n[[step]]\n").unwrap_err();
        assert!(e.contains("`lab` must be a string"), "{e}");
    }
}
