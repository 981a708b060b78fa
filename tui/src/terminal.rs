//! The host side of the guest console: stdin as keyboard, stdout as screen.
//!
//! On a terminal, stdin goes to raw mode so every key reaches the guest (xv6 does its own line
//! editing), and the escapes of QEMU's `-nographic` console work: `Ctrl-A x` quits, `Ctrl-A c`
//! switches between the console and a small monitor (`quit`, `help`; see [`Monitor`]),
//! `Ctrl-A h` lists the escapes, `Ctrl-A Ctrl-A` sends a literal Ctrl-A. From a pipe or file,
//! stdin is the console input as it arrives. A reader thread feeds a channel; the
//! run loop polls it between slices, so input is queued, never dropped.

use anyhow::Result;
use std::io::{IsTerminal, Read, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError, channel};
use std::time::Duration;

const CTRL_A: u8 = 0x01;

/// Something the host user did.
pub enum Event {
    /// Keys for the guest.
    Bytes(Vec<u8>),
    /// `Ctrl-A x`.
    Quit,
}

/// The console input source.
pub struct Input {
    rx: Option<Receiver<Event>>,
    raw_tty: bool,
}

impl Input {
    /// No host input (scripted runs).
    pub fn none() -> Self {
        Input {
            rx: None,
            raw_tty: false,
        }
    }

    /// stdin: raw mode on a terminal, a byte stream otherwise.
    pub fn from_stdin() -> Result<Self> {
        let raw_tty = std::io::stdin().is_terminal();
        if raw_tty {
            crossterm::terminal::enable_raw_mode()?;
            let default_hook = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                default_hook(info);
            }));
        }
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut buf = [0u8; 256];
            let mut after_ctrl_a = false;
            let mut monitor: Option<Monitor> = None;
            loop {
                let n = match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let mut keys = Vec::with_capacity(n);
                for &b in &buf[..n] {
                    if raw_tty && after_ctrl_a {
                        after_ctrl_a = false;
                        match b {
                            b'x' | b'X' => {
                                let _ = tx.send(Event::Bytes(keys));
                                let _ = tx.send(Event::Quit);
                                return;
                            }
                            b'c' | b'C' => {
                                monitor = match monitor {
                                    None => Some(Monitor::open()),
                                    Some(_) => {
                                        say("\r\n");
                                        None
                                    }
                                }
                            }
                            b'h' | b'H' => say(ESCAPES),
                            CTRL_A if monitor.is_none() => keys.push(CTRL_A),
                            _ => {}
                        }
                    } else if raw_tty && b == CTRL_A {
                        after_ctrl_a = true;
                    } else if let Some(m) = monitor.as_mut() {
                        if m.key(b) {
                            let _ = tx.send(Event::Bytes(keys));
                            let _ = tx.send(Event::Quit);
                            return;
                        }
                    } else {
                        keys.push(b);
                    }
                }
                if !keys.is_empty() && tx.send(Event::Bytes(keys)).is_err() {
                    return;
                }
            }
        });
        Ok(Input {
            rx: Some(rx),
            raw_tty,
        })
    }

    /// Whether input may still arrive from outside (stdin is read).
    pub fn is_live(&self) -> bool {
        self.rx.is_some()
    }

    /// Whether the console is an interactive terminal in raw mode.
    pub fn is_raw_tty(&self) -> bool {
        self.raw_tty
    }

    /// The next event if one is ready (consecutive key events are merged).
    pub fn poll(&self) -> Option<Event> {
        let rx = self.rx.as_ref()?;
        let mut bytes = Vec::new();
        loop {
            match rx.try_recv() {
                Ok(Event::Bytes(b)) => bytes.extend(b),
                Ok(Event::Quit) => return Some(Event::Quit),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        (!bytes.is_empty()).then_some(Event::Bytes(bytes))
    }

    /// Waits up to `timeout` for an event.
    pub fn wait(&self, timeout: Duration) -> Option<Event> {
        match self.rx.as_ref() {
            Some(rx) => match rx.recv_timeout(timeout) {
                Ok(ev) => Some(ev),
                Err(RecvTimeoutError::Timeout) => None,
                // stdin ended: nothing more will come, but pace the guest all the same.
                Err(RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(timeout);
                    None
                }
            },
            None => {
                std::thread::sleep(timeout);
                None
            }
        }
    }
}

/// The escapes, as QEMU's `Ctrl-A h` lists them (those xv6scope has).
const ESCAPES: &str = "\r\nC-a h    print this help\r\nC-a x    exit emulator\r\n\
                       C-a c    switch between console and monitor\r\n\
                       C-a C-a  sends C-a\r\n";

/// Text from the host side (the monitor, the escape help) on the raw terminal. It goes to
/// stderr, the same terminal: the run loop holds stdout's lock while it runs.
fn say(text: &str) {
    let mut out = std::io::stderr().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// The monitor that `Ctrl-A c` switches to, as QEMU's is on `-nographic`: a line editor
/// with a `(qemu)` prompt. It knows `quit` (`q`) and `help`; what the machine holds is
/// shown by gdb's `monitor` commands and the TUI, so other commands say so.
struct Monitor {
    line: Vec<u8>,
}

impl Monitor {
    const PROMPT: &str = "(qemu) ";

    fn open() -> Monitor {
        say(&format!(
            "\r\nxv6scope {} monitor - type 'help' for more information\r\n{}",
            env!("CARGO_PKG_VERSION"),
            Self::PROMPT
        ));
        Monitor { line: Vec::new() }
    }

    /// One key; true when the command was `quit`.
    fn key(&mut self, b: u8) -> bool {
        match b {
            b'\r' | b'\n' => {
                let line = String::from_utf8_lossy(&self.line).trim().to_string();
                self.line.clear();
                say("\r\n");
                match line.as_str() {
                    "quit" | "q" => return true,
                    "" => {}
                    "help" | "?" | "h" => say("help|?           show this list\r\n\
                         quit|q           quit the emulator\r\n\
                         (registers, memory, page tables, processes: gdb's `monitor help`, \
                         or the TUI with XV6SCOPE_TUI=1)\r\n"),
                    other => say(&format!(
                        "unknown command: '{other}' (xv6scope's monitor knows quit and help)\r\n"
                    )),
                }
                say(Self::PROMPT);
            }
            0x7f | 0x08 if self.line.pop().is_some() => say("\x08 \x08"),
            0x20..=0x7e => {
                self.line.push(b);
                say(std::str::from_utf8(&[b]).unwrap_or(""));
            }
            _ => {}
        }
        false
    }
}

/// Writes guest console output; in raw mode the terminal no longer turns `\n` into `\r\n`.
pub fn write_console(out: &mut impl Write, bytes: &[u8], raw_tty: bool) -> std::io::Result<()> {
    if raw_tty {
        let mut converted = Vec::with_capacity(bytes.len() + 16);
        for &b in bytes {
            if b == b'\n' {
                converted.push(b'\r');
            }
            converted.push(b);
        }
        out.write_all(&converted)?;
    } else {
        out.write_all(bytes)?;
    }
    out.flush()
}

/// A line from xv6scope itself (a hint) on stderr, between console output.
pub fn note(text: &str, raw_tty: bool) {
    if raw_tty {
        say(&format!("\r\nxv6scope: {text}\r\n"));
    } else {
        eprintln!("xv6scope: {text}");
    }
}

/// Leaves raw mode if it was entered (harmless otherwise).
pub fn restore() {
    let _ = crossterm::terminal::disable_raw_mode();
}
