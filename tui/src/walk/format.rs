//! The walkthrough file: TOML, one `[[step]]` table per step (docs/walkthroughs/README.md).
//!
//! Interface: [`Walk::parse`] turns the file's text into a [`Walk`], or a one-line error
//! naming the step and key at fault. Nothing here touches a machine: the player
//! (`super::player`) gives the checks their meaning.
//!
//! Invariants: every step has exactly one way to run (`break`, `syscall`, `until`) or none
//! (a step that only explains and checks); every check key is one of the known kinds, so a
//! typo fails at parse time rather than passing silently.

use toml::{Table, Value};

/// A whole walkthrough.
#[derive(Clone, Debug, PartialEq)]
pub struct Walk {
    pub title: String,
    pub steps: Vec<Step>,
}

/// Where a step runs the machine to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Do not run: explain and check the state the previous step left.
    Stay,
    /// A kernel function's first instruction.
    Break(String),
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
    pub checks: Vec<Check>,
}

/// One check: a dotted key such as `reg.a7` or `proc.sh.state`, and the expected value.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub path: Vec<String>,
    pub want: Value,
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
    ("fd", &[2, 3]),
    ("pte", &[2]),
    ("result", &[1]),
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
            if key != "title" && key != "step" {
                return Err(format!("unknown top-level key `{key}`"));
            }
        }
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
        Ok(Walk { title, steps })
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
        targets.push(Target::Break(f));
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
    for c in &checks {
        let kind = c.path[0].as_str();
        let Some((_, arities)) = KINDS.iter().find(|(k, _)| *k == kind) else {
            return Err(at(format!("unknown check `{}`", c.key())));
        };
        if !arities.contains(&(c.path.len() - 1)) {
            return Err(at(format!("malformed check key `{}`", c.key())));
        }
    }
    Ok(Step {
        typed: string("type")?,
        proc: string("proc")?,
        text: string("text")?.unwrap_or_default(),
        pane: string("pane")?,
        name,
        target,
        limit,
        checks,
    })
}

/// Dotted keys make nested tables in TOML (`reg.a7 = 7` is `reg = { a7 = 7 }`): turn them
/// back into paths. File order is kept (toml's `preserve_order` is off, so tables sort by
/// key; checks are independent, so order only changes which failure is reported first).
fn flatten(t: &Table, prefix: &mut Vec<String>, out: &mut Vec<Check>) {
    for (k, v) in t {
        prefix.push(k.clone());
        match v {
            Value::Table(inner) => flatten(inner, prefix, out),
            _ => out.push(Check {
                path: prefix.clone(),
                want: v.clone(),
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
    fn rejects_typos_and_two_targets() {
        let e = Walk::parse("title='t'\n[[step]]\nname='x'\ncheck.regs.a0 = 1\n").unwrap_err();
        assert!(e.contains("step 1 (x)") && e.contains("regs.a0"), "{e}");
        let e = Walk::parse("title='t'\n[[step]]\nbreak='a'\nuntil='b'\n").unwrap_err();
        assert!(e.contains("at most one"), "{e}");
        let e = Walk::parse("title='t'\n[[step]]\nbrake='a'\n").unwrap_err();
        assert!(e.contains("unknown key `brake`"), "{e}");
    }
}
