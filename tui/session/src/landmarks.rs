//! Landmarks: the moments of a run worth finding again on the timeline — system calls,
//! faults, breakpoint and watchpoint hits, console input, snapshots — with their positions,
//! for the TUI's timeline bar and its keys to the previous and next one.
//!
//! System calls and faults come from the harts' trap logs (`Hart::events`, each event
//! with the machine's position when it happened), which the session keeps on while the
//! timeline is on; hits are noted where the session reports them; input and snapshots are
//! the timeline's own. A landmark is noted once: replaying the past logs the same traps
//! again, and those at or before the high-water mark are skipped. Going back and changing
//! the future drops the landmarks after the point of change.

use crate::session::Session;
use machine::cpu::trap::cause;
use machine::cpu::{Event, Mode};

/// Most noted landmarks kept; past it, every other system call and fault of the run is
/// dropped (hits stay).
pub const MAX_NOTED: usize = 1 << 17;

/// What happened at a landmark, in ascending order of interest (the bar shows the most
/// interesting one of each column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Snapshot,
    Syscall,
    Fault,
    Input,
    Hit,
}

impl Kind {
    /// `syscall`, `fault`, `hit`, `input`, `snapshot` (as `:next KIND` takes them).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Snapshot => "snapshot",
            Kind::Syscall => "syscall",
            Kind::Fault => "fault",
            Kind::Input => "input",
            Kind::Hit => "hit",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "snapshot" | "snap" => Kind::Snapshot,
            "syscall" | "sys" => Kind::Syscall,
            "fault" | "trap" => Kind::Fault,
            "input" => Kind::Input,
            "hit" | "break" | "bp" => Kind::Hit,
            _ => return None,
        })
    }

    pub const ALL: [Kind; 5] = [
        Kind::Snapshot,
        Kind::Syscall,
        Kind::Fault,
        Kind::Input,
        Kind::Hit,
    ];
}

/// One landmark: where, what, on which hart, and its number (the system call's, the
/// fault's cause, the input's length).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Landmark {
    pub pos: u64,
    pub kind: Kind,
    pub hart: usize,
    pub code: u64,
}

/// The landmarks noted from the harts' logs and the session's stops.
#[derive(Default)]
pub struct Noted {
    /// Ascending by position.
    list: Vec<Landmark>,
    /// Trap events at positions below this were looked at already.
    seen_up_to: u64,
}

impl Noted {
    /// Inserts `l` in position order unless the same landmark is there.
    fn insert(&mut self, l: Landmark) {
        let i = self.list.partition_point(|x| x.pos <= l.pos);
        if self.list[..i]
            .iter()
            .rev()
            .take_while(|x| x.pos == l.pos)
            .any(|x| *x == l)
        {
            return;
        }
        self.list.insert(i, l);
        if self.list.len() > MAX_NOTED {
            self.thin();
        }
    }

    /// Drops every other system call and fault.
    fn thin(&mut self) {
        let mut odd = false;
        self.list.retain(|l| {
            if l.kind == Kind::Hit {
                return true;
            }
            odd = !odd;
            odd
        });
    }

    /// Forgets what lies after `pos` (a new future starts there).
    pub(crate) fn truncate_after(&mut self, pos: u64) {
        let i = self.list.partition_point(|x| x.pos <= pos);
        self.list.truncate(i);
        self.seen_up_to = self.seen_up_to.min(pos);
    }

    pub(crate) fn clear(&mut self) {
        *self = Noted::default();
    }
}

/// The landmark a trap event is, if any: a system call (an `ecall` from user mode) or a
/// fault (any other exception; interrupts and returns are not landmarks).
fn of_event(hart: usize, e: &Event) -> Option<Landmark> {
    let c = e.cause?;
    if c & cause::INTERRUPT != 0 {
        return None;
    }
    let (kind, code) = if c == cause::ECALL_U && e.from == Mode::User {
        (Kind::Syscall, e.a[7])
    } else if matches!(c, cause::ECALL_U | cause::ECALL_S | cause::ECALL_M) {
        return None; // calls to a more privileged mode than a user program's: the SBI, none
    } else {
        (Kind::Fault, c)
    };
    Some(Landmark {
        pos: e.position,
        kind,
        hart,
        code,
    })
}

/// A one-line picture of the run: for each of `cols` equal spans of positions from 0 to
/// the present, the most interesting landmark in it; and the column of the current
/// position.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bar {
    pub cells: Vec<Option<Kind>>,
    pub current: usize,
    pub present: u64,
}

impl Session {
    /// Notes the system calls and faults the harts logged since the last call (after every
    /// run while the timeline is on). The logs are left for the syscall tracer when it
    /// reads them, emptied otherwise.
    pub(crate) fn note_landmarks(&mut self) {
        if !self.timeline.on() {
            return;
        }
        let tracer_reads = self.views.tracing();
        let mut found = Vec::new();
        for h in &mut self.machine.harts {
            let Some(log) = h.events.as_mut() else {
                continue;
            };
            found.extend(
                log.iter()
                    .filter(|e| e.position >= self.noted.seen_up_to)
                    .filter_map(|e| of_event(h.id, e)),
            );
            if !tracer_reads {
                log.clear();
                h.events_dropped = 0;
            }
        }
        found.sort_by_key(|l| l.pos);
        for l in found {
            self.noted.insert(l);
        }
        self.noted.seen_up_to = self.noted.seen_up_to.max(self.machine.position());
    }

    /// Notes a breakpoint or watchpoint stop of hart `h` reported here.
    pub(crate) fn note_hit(&mut self, h: usize) {
        if self.timeline.on() {
            let pos = self.machine.position();
            let code = self.machine.harts[h].pc;
            self.noted.insert(Landmark {
                pos,
                kind: Kind::Hit,
                hart: h,
                code,
            });
        }
    }

    /// Every landmark of the run, in position order (snapshots and input included).
    pub fn landmarks(&self) -> Vec<Landmark> {
        let t = self.timeline();
        let mut all = self.noted.list.clone();
        all.extend(t.snapshot_positions().into_iter().map(|pos| Landmark {
            pos,
            kind: Kind::Snapshot,
            hart: 0,
            code: 0,
        }));
        let inputs = t.history().iter().chain(t.events_ahead());
        all.extend(inputs.filter_map(|(mark, e)| match e {
            crate::timeline::Event::Input(bytes) => Some(Landmark {
                pos: mark.pos,
                kind: Kind::Input,
                hart: 0,
                code: bytes.len() as u64,
            }),
            _ => None,
        }));
        all.sort_by_key(|l| l.pos);
        all
    }

    /// The nearest landmark strictly after (`forward`) or before the current position, of
    /// one of `kinds` (all kinds when empty).
    pub fn landmark_near(&self, forward: bool, kinds: &[Kind]) -> Option<Landmark> {
        let now = self.position();
        let wanted = |l: &&Landmark| kinds.is_empty() || kinds.contains(&l.kind);
        let all = self.landmarks();
        if forward {
            all.iter().filter(wanted).find(|l| l.pos > now).copied()
        } else {
            all.iter()
                .rev()
                .filter(wanted)
                .find(|l| l.pos < now)
                .copied()
        }
    }

    /// The run from 0 to the present in `cols` columns (see [`Bar`]).
    pub fn timeline_bar(&self, cols: usize) -> Bar {
        let present = self.timeline().present().max(self.position());
        let cols = cols.max(1);
        let column = |pos: u64| -> usize {
            if present == 0 {
                0
            } else {
                ((pos as u128 * cols as u128 / (present as u128 + 1)) as usize).min(cols - 1)
            }
        };
        let mut cells: Vec<Option<Kind>> = vec![None; cols];
        for l in self.landmarks() {
            let c = &mut cells[column(l.pos)];
            if c.is_none_or(|k| l.kind > k) {
                *c = Some(l.kind);
            }
        }
        Bar {
            cells,
            current: column(self.position()),
            present,
        }
    }
}

impl Landmark {
    /// `system call write on hart 1`, `fault (store page fault) on hart 0`, `hit at
    /// 0x80002a3c on hart 2`, `input (3 bytes)`, `snapshot`.
    pub fn describe(&self) -> String {
        match self.kind {
            Kind::Syscall => {
                let name = abi::syscall::lookup(self.code as usize)
                    .map_or(format!("syscall_{}", self.code), |s| s.name.to_string());
                format!("system call {name} on hart {}", self.hart)
            }
            Kind::Fault => format!(
                "fault ({}) on hart {}",
                crate::inspect::state::cause_name(self.code),
                self.hart
            ),
            Kind::Hit => format!("hit at {:#x} on hart {}", self.code, self.hart),
            Kind::Input => format!("input ({} bytes)", self.code),
            Kind::Snapshot => "snapshot".into(),
        }
    }

    /// Whether the landmark belongs to one hart (the one to show when going there).
    pub fn has_hart(&self) -> bool {
        matches!(self.kind, Kind::Syscall | Kind::Fault | Kind::Hit)
    }
}
