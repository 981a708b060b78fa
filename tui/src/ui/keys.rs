//! Keys → commands, as a pure function of the key and the input mode.
//!
//! Typing must reach the guest when the console has focus, so debugger keys there go behind
//! QEMU's prefix, `Ctrl-A` (then a letter), or are F-keys, which xv6 never reads. In any
//! other pane the same letters work without the prefix. The arrows after the prefix resize
//! the focused pane (alone, outside the console, they move the selection). The command line
//! (`:`) and the help overlay take every key while open. [`BINDINGS`] is the help overlay's text; a test keeps
//! it in step with [`map`].

use super::app::Pane;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// How keys are read at the moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    /// The console pane has focus: plain keys go to the guest.
    pub console: bool,
    /// `Ctrl-A` was the previous key.
    pub prefix: bool,
    /// The `:` command line is open.
    pub cmdline: bool,
    /// The help overlay is shown.
    pub help: bool,
}

/// What a key asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Nothing (an unbound key).
    None,
    /// Bytes for the guest console.
    Guest(Vec<u8>),
    /// `Ctrl-A`: the next key is a debugger key.
    Prefix,
    Quit,
    Continue,
    Pause,
    StepInst,
    StepLine,
    Next,
    Finish,
    Focus(Pane),
    NextPane,
    Zoom,
    /// The source pane: source or disassembly.
    Disasm,
    /// Hide the focused pane (split and full layouts).
    Hide,
    /// Make the focused pane wider/narrower (`horizontal`) or taller/shorter.
    Resize {
        horizontal: bool,
        grow: bool,
    },
    Help,
    CloseHelp,
    OpenCmdline,
    CmdChar(char),
    CmdBackspace,
    CmdSubmit,
    CmdCancel,
    HistoryPrev,
    HistoryNext,
    /// Scroll the focused pane by this many lines (positive: back in time / up).
    Scroll(i32),
    /// Move the selection in the focused pane (processes, page table), or scroll it.
    Select(i32),
    /// Enter or Space: expand/collapse the selected page-table branch; in the syscalls
    /// pane, pause or resume the trace view.
    Toggle,
    /// Right (true) or Left (false): expand or collapse the selected page-table branch.
    Expand(bool),
    /// Freeze the syscall trace view (the trace keeps collecting), or let it run again.
    TracePause,
    /// Open the command line at `strace ` (the trace filter).
    TraceFilter,
    /// Walkthrough: the next step; the previous one (replayed from a fresh boot).
    WalkNext,
    WalkBack,
    /// Back in time on the current hart: an instruction, a line, over calls, out.
    Reverse(session::StepKind),
    /// Back to the last breakpoint or watchpoint hit.
    ReverseContinue,
    /// The timeline bar's previous (false) or next (true) event.
    Event(bool),
    /// Back to the present.
    Present,
}

const CTRL_A: u8 = 0x01;

/// The key bindings, for the help overlay.
pub const BINDINGS: &[&str] = &[
    "Keys: Ctrl-A then a key (outside the console, the key alone).  Ctrl-A x  quit",
    "Ctrl-A :  F2  command line    Ctrl-A ?  F1  this help    Ctrl-A z  zoom",
    "Ctrl-A c  F5  continue    Ctrl-A p  F6  pause    Ctrl-A f  finish (return)",
    "Ctrl-A s  F8  step line   Ctrl-A n  F10 step over   Ctrl-A i  F7  step instr.",
    "Ctrl-A I S N F  back: instr., line, over, out   Ctrl-A C  back to the last hit",
    "Ctrl-A < >  timeline bar: previous, next event   Ctrl-A e  back to the present",
    "Ctrl-A 1..9  focus: 1 console 2 source 3 registers 4 processes 5 page table",
    "             6 syscalls 7 breakpoints 8 output 9 memory   Ctrl-A d  disasm",
    "Ctrl-A -  hide   Ctrl-A arrows  resize (or drag a border)   Ctrl-A Tab  next",
    "Ctrl-A t  /  trace: pause, filter   Ctrl-A ] [  walkthrough: next, back",
    "Esc  console   click: focus   Ctrl-A Ctrl-A  send Ctrl-A to the guest",
    "PgUp PgDn j/k wheel scroll; Up/Down select; Enter Space Right Left: expand",
];

/// Maps one key press in `mode` to a command.
pub fn map(mode: Mode, key: KeyEvent) -> Command {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if mode.help {
        return Command::CloseHelp;
    }
    if mode.cmdline {
        return match key.code {
            KeyCode::Enter => Command::CmdSubmit,
            KeyCode::Esc => Command::CmdCancel,
            KeyCode::Backspace => Command::CmdBackspace,
            KeyCode::Up => Command::HistoryPrev,
            KeyCode::Down => Command::HistoryNext,
            KeyCode::Char('c') if ctrl => Command::CmdCancel,
            KeyCode::Char(c) if !ctrl => Command::CmdChar(c),
            _ => Command::None,
        };
    }
    // Keys that mean the same everywhere.
    match key.code {
        KeyCode::F(1) => return Command::Help,
        KeyCode::F(2) => return Command::OpenCmdline,
        KeyCode::F(5) => return Command::Continue,
        KeyCode::F(6) => return Command::Pause,
        KeyCode::F(7) => return Command::StepInst,
        KeyCode::F(8) => return Command::StepLine,
        KeyCode::F(10) => return Command::Next,
        KeyCode::PageUp => return Command::Scroll(10),
        KeyCode::PageDown => return Command::Scroll(-10),
        _ => {}
    }
    if mode.prefix {
        let resize = |horizontal, grow| Command::Resize { horizontal, grow };
        return match key.code {
            KeyCode::Char('a') if ctrl => Command::Guest(vec![CTRL_A]),
            KeyCode::Tab => Command::NextPane,
            KeyCode::Right => resize(true, true),
            KeyCode::Left => resize(true, false),
            KeyCode::Down => resize(false, true),
            KeyCode::Up => resize(false, false),
            KeyCode::Char(c) => letter(c),
            _ => Command::None,
        };
    }
    if ctrl && key.code == KeyCode::Char('a') {
        return Command::Prefix;
    }
    if mode.console {
        return guest_bytes(key).map_or(Command::None, Command::Guest);
    }
    match key.code {
        KeyCode::Esc => Command::Focus(Pane::Console),
        KeyCode::Tab => Command::NextPane,
        KeyCode::Up => Command::Select(-1),
        KeyCode::Down => Command::Select(1),
        KeyCode::Enter | KeyCode::Char(' ') => Command::Toggle,
        KeyCode::Right => Command::Expand(true),
        KeyCode::Left => Command::Expand(false),
        KeyCode::Char('k') => Command::Scroll(1),
        KeyCode::Char('j') => Command::Scroll(-1),
        KeyCode::Char(c) if !ctrl => letter(c),
        _ => Command::None,
    }
}

/// A debugger letter (after the prefix, or alone outside the console).
fn letter(c: char) -> Command {
    match c {
        'x' | 'X' => Command::Quit,
        ':' => Command::OpenCmdline,
        '?' | 'h' => Command::Help,
        'c' => Command::Continue,
        'p' => Command::Pause,
        's' => Command::StepLine,
        'n' => Command::Next,
        'i' => Command::StepInst,
        'f' => Command::Finish,
        'z' => Command::Zoom,
        'd' => Command::Disasm,
        '-' => Command::Hide,
        't' => Command::TracePause,
        '/' => Command::TraceFilter,
        'I' => Command::Reverse(session::StepKind::Instruction),
        'S' => Command::Reverse(session::StepKind::Line),
        'N' => Command::Reverse(session::StepKind::Over),
        'F' => Command::Reverse(session::StepKind::Finish),
        'C' => Command::ReverseContinue,
        '<' => Command::Event(false),
        '>' => Command::Event(true),
        'e' => Command::Present,
        ']' => Command::WalkNext,
        '[' => Command::WalkBack,
        '1'..='9' => Pane::ALL
            .get(c as usize - '1' as usize)
            .map_or(Command::None, |p| Command::Focus(*p)),
        _ => Command::None,
    }
}

/// The bytes a terminal key sends to a serial console (what xv6's console driver reads):
/// Enter is CR (xv6 maps it to newline), Backspace is DEL, Ctrl-letter is the control code.
pub fn guest_bytes(key: KeyEvent) -> Option<Vec<u8>> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char(c) if ctrl && c.is_ascii_alphabetic() => {
            vec![(c.to_ascii_lowercase() as u8) & 0x1f]
        }
        KeyCode::Char(c) => c.to_string().into_bytes(),
        KeyCode::Enter => vec![b'\r'],
        KeyCode::Backspace => vec![0x7f],
        KeyCode::Tab => vec![b'\t'],
        KeyCode::Esc => vec![0x1b],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }
    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }
    const CONSOLE: Mode = Mode {
        console: true,
        prefix: false,
        cmdline: false,
        help: false,
    };
    const PANE: Mode = Mode {
        console: false,
        prefix: false,
        cmdline: false,
        help: false,
    };

    #[test]
    fn typing_in_the_console_goes_to_the_guest() {
        assert_eq!(
            map(CONSOLE, key(KeyCode::Char('c'))),
            Command::Guest(b"c".to_vec())
        );
        assert_eq!(
            map(CONSOLE, key(KeyCode::Char(':'))),
            Command::Guest(b":".to_vec())
        );
        assert_eq!(
            map(CONSOLE, key(KeyCode::Enter)),
            Command::Guest(b"\r".to_vec())
        );
        assert_eq!(
            map(CONSOLE, key(KeyCode::Backspace)),
            Command::Guest(vec![0x7f])
        );
        assert_eq!(map(CONSOLE, ctrl('p')), Command::Guest(vec![0x10]));
        assert_eq!(map(CONSOLE, ctrl('d')), Command::Guest(vec![0x04]));
        assert_eq!(map(CONSOLE, ctrl('a')), Command::Prefix);
    }

    #[test]
    fn prefix_and_fkeys_reach_the_debugger() {
        let pre = Mode {
            prefix: true,
            ..CONSOLE
        };
        assert_eq!(map(pre, key(KeyCode::Char('x'))), Command::Quit);
        assert_eq!(map(pre, key(KeyCode::Char(':'))), Command::OpenCmdline);
        assert_eq!(map(pre, key(KeyCode::Char('c'))), Command::Continue);
        assert_eq!(
            map(pre, key(KeyCode::Char('5'))),
            Command::Focus(Pane::PageTable)
        );
        assert_eq!(map(pre, ctrl('a')), Command::Guest(vec![CTRL_A]));
        assert_eq!(
            map(pre, key(KeyCode::Char('9'))),
            Command::Focus(Pane::Memory)
        );
        assert_eq!(map(pre, key(KeyCode::Char('0'))), Command::None);
        assert_eq!(
            map(pre, key(KeyCode::Right)),
            Command::Resize {
                horizontal: true,
                grow: true
            }
        );
        assert_eq!(
            map(pre, key(KeyCode::Up)),
            Command::Resize {
                horizontal: false,
                grow: false
            }
        );
        assert_eq!(map(pre, key(KeyCode::Char('-'))), Command::Hide);
        assert_eq!(map(pre, key(KeyCode::Char('d'))), Command::Disasm);
        assert_eq!(map(CONSOLE, key(KeyCode::F(5))), Command::Continue);
        assert_eq!(map(CONSOLE, key(KeyCode::F(10))), Command::Next);
        assert_eq!(map(CONSOLE, key(KeyCode::F(1))), Command::Help);
    }

    #[test]
    fn other_panes_take_letters_alone() {
        assert_eq!(map(PANE, key(KeyCode::Char('s'))), Command::StepLine);
        assert_eq!(map(PANE, key(KeyCode::Char('i'))), Command::StepInst);
        assert_eq!(map(PANE, key(KeyCode::Esc)), Command::Focus(Pane::Console));
        assert_eq!(map(PANE, key(KeyCode::Down)), Command::Select(1));
        assert_eq!(map(PANE, key(KeyCode::Enter)), Command::Toggle);
        assert_eq!(map(PANE, key(KeyCode::Char(' '))), Command::Toggle);
        assert_eq!(map(PANE, key(KeyCode::Right)), Command::Expand(true));
        assert_eq!(map(PANE, key(KeyCode::Left)), Command::Expand(false));
        assert_eq!(map(PANE, key(KeyCode::Char(']'))), Command::WalkNext);
        assert_eq!(map(PANE, key(KeyCode::Char('['))), Command::WalkBack);
        assert_eq!(map(PANE, key(KeyCode::Char('/'))), Command::TraceFilter);
        // In the console they are the guest's, unless after the prefix.
        assert_eq!(
            map(CONSOLE, key(KeyCode::Char(']'))),
            Command::Guest(b"]".to_vec())
        );
        let pre = Mode {
            prefix: true,
            ..CONSOLE
        };
        assert_eq!(map(pre, key(KeyCode::Char('['))), Command::WalkBack);
    }

    #[test]
    fn command_line_and_help_take_every_key() {
        let cl = Mode {
            cmdline: true,
            ..CONSOLE
        };
        assert_eq!(map(cl, key(KeyCode::Char('x'))), Command::CmdChar('x'));
        assert_eq!(map(cl, key(KeyCode::Enter)), Command::CmdSubmit);
        assert_eq!(map(cl, key(KeyCode::Up)), Command::HistoryPrev);
        assert_eq!(map(cl, key(KeyCode::Esc)), Command::CmdCancel);
        let help = Mode { help: true, ..PANE };
        assert_eq!(map(help, key(KeyCode::Char('c'))), Command::CloseHelp);
    }

    #[test]
    fn help_lists_every_letter() {
        let text = BINDINGS.join("\n");
        // Each letter, and how the help writes it (`t` and `/` share a line, so do `]` `[`).
        for (c, shown) in [
            ('x', "Ctrl-A x"),
            (':', "Ctrl-A :"),
            ('?', "Ctrl-A ?"),
            ('c', "Ctrl-A c"),
            ('p', "Ctrl-A p"),
            ('s', "Ctrl-A s"),
            ('n', "Ctrl-A n"),
            ('i', "Ctrl-A i"),
            ('f', "Ctrl-A f"),
            ('z', "Ctrl-A z"),
            ('d', "Ctrl-A d"),
            ('-', "Ctrl-A -"),
            ('9', "9 memory"),
            ('t', "Ctrl-A t  /"),
            ('/', "Ctrl-A t  /"),
            (']', "Ctrl-A ] ["),
            ('[', "Ctrl-A ] ["),
            ('I', "Ctrl-A I S N F"),
            ('S', "Ctrl-A I S N F"),
            ('N', "Ctrl-A I S N F"),
            ('F', "Ctrl-A I S N F"),
            ('C', "Ctrl-A C"),
            ('<', "Ctrl-A < >"),
            ('>', "Ctrl-A < >"),
            ('e', "Ctrl-A e"),
        ] {
            assert_ne!(letter(c), Command::None, "{c}");
            assert!(text.contains(shown), "help misses {shown:?}");
        }
    }
}
