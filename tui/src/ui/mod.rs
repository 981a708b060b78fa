//! `xv6scope` (no subcommand) and `xv6scope tui`: the terminal debugger.
//!
//! Two threads (STYLE.md habit 11). The machine thread ([`engine`]) owns the machine and the
//! debugger views, runs the guest in slices and sends [`event::Snapshot`]s; this thread owns
//! the terminal, draws from the latest snapshot at most [`FRAME`] apart, and turns keys into
//! commands ([`keys::map`], pure) that [`app::App::update`] turns into requests for the
//! machine thread. A third thread only reads the terminal and forwards keys. So drawing never
//! holds the guest, and an idle UI costs the guest one channel poll per slice.
//!
//! Layout: on a large terminal (at least [`WIDE`]) the console and the source sit on the
//! left, registers and one detail pane (processes, page table, syscalls, breakpoints,
//! output: whichever was shown last) on the right; smaller terminals show one pane at a time
//! under a tab bar. `Ctrl-A z` zooms the focused pane to the full screen. The terminal is
//! restored on exit and on panic (ratatui's `init` installs the hook).

pub mod app;
pub mod command;
mod engine;
pub mod event;
pub mod keys;
pub mod panes;

use crate::MachineArgs;
use anyhow::{Context, Result};
use app::{App, Pane};
use clap::Args;
use event::{Event, Request};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

/// Time between frames (the UI redraws at most this often, and only after a change).
const FRAME: Duration = Duration::from_millis(50);
/// The smallest terminal that gets panes side by side.
const WIDE: (u16, u16) = (110, 32);

/// `xv6scope tui` options.
#[derive(Args, Clone, Debug)]
pub struct TuiArgs {
    #[command(flatten)]
    pub machine: MachineArgs,
    /// Also serve gdb's remote protocol on ADDR (`:26000` is 127.0.0.1:26000).
    #[arg(long, value_name = "ADDR")]
    pub gdb: Option<String>,
}

impl TuiArgs {
    /// The bundled kernel with the defaults of `run`.
    pub fn bundled() -> TuiArgs {
        TuiArgs {
            machine: crate::cmd_run::RunArgs::interactive_default().machine,
            gdb: None,
        }
    }
}

/// Boots the machine and runs the TUI until the user quits; the exit status.
pub fn run(args: TuiArgs) -> Result<i32> {
    let crate::cmd_run::Booted { machine, disk_path } = crate::cmd_run::boot(&args.machine)?;
    let host = crate::gdb::Host::new(machine, &args.machine, args.gdb.as_deref(), false)?;
    let kernel_elf = match (&args.machine.kernel, args.machine.raw) {
        (_, true) => None,
        (Some(p), false) => {
            Some(std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?)
        }
        (None, false) => Some(crate::bundled::kernel()?.to_vec()),
    };
    let mut user_elfs: Vec<(String, Vec<u8>)> = if args.machine.kernel.is_none() {
        crate::bundled::USER_ELFS
            .iter()
            .map(|(n, e)| (n.to_string(), e.to_vec()))
            .collect()
    } else {
        Vec::new()
    };
    user_elfs.extend(crate::cmd_run::user_dir_elfs(&args.machine)?);

    let (ev_tx, ev_rx) = channel();
    let (req_tx, req_rx) = channel();
    let machine_thread = engine::spawn(
        engine::Setup {
            host,
            kernel_elf,
            user_elfs,
            disk_path,
        },
        req_rx,
        ev_tx.clone(),
    );

    let mut terminal = ratatui::init();
    let keys_tx = ev_tx;
    std::thread::spawn(move || {
        use crossterm::event::{Event as CEvent, KeyEventKind, read};
        loop {
            let ev = match read() {
                Ok(CEvent::Key(k)) if k.kind != KeyEventKind::Release => Event::Key(k),
                Ok(CEvent::Resize(..)) => Event::Resize,
                Ok(_) => continue,
                Err(_) => return,
            };
            if keys_tx.send(ev).is_err() {
                return;
            }
        }
    });

    let mut app = App::new();
    let mut code = 0;
    let mut dirty = true;
    loop {
        if dirty {
            terminal.draw(|f| draw(&app, f))?;
            dirty = false;
        }
        let first = match ev_rx.recv_timeout(FRAME) {
            Ok(ev) => ev,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        // Everything that arrived during the frame, then one draw.
        let mut pending = vec![first];
        let deadline = std::time::Instant::now() + FRAME;
        while let Ok(ev) =
            ev_rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
        {
            pending.push(ev);
            if pending.len() > 256 {
                break;
            }
        }
        for ev in pending {
            dirty = true;
            match ev {
                Event::Key(k) => {
                    for r in app.update(keys::map(app.key_mode(), k)) {
                        let _ = req_tx.send(r);
                    }
                }
                Event::Exited { code: c, why } => {
                    code = c;
                    app.on_event(Event::Exited { code: c, why });
                }
                other => app.on_event(other),
            }
        }
        if app.quit || app.exited.is_some() {
            break;
        }
    }
    let _ = req_tx.send(Request::Quit);
    ratatui::restore();
    let _ = machine_thread.join();
    if let Some(why) = &app.exited
        && why != "quit"
    {
        eprintln!("xv6scope: {why}");
    }
    Ok(code)
}

/// Draws the whole screen.
pub fn draw(app: &App, f: &mut Frame) {
    let area = f.area();
    let [main, status] = Layout::vertical([Constraint::Fill(1), Constraint::Length(2)]).areas(area);
    let buf = f.buffer_mut();
    use ratatui::widgets::Widget;
    panes::status::StatusBar(app).render(status, buf);
    if app.zoom {
        panes::render(app, app.focus, main, buf);
    } else if area.width >= WIDE.0 && area.height >= WIDE.1 {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(main);
        let [console, source] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(left);
        let [regs, detail] =
            Layout::vertical([Constraint::Length(14), Constraint::Fill(1)]).areas(right);
        panes::render(app, Pane::Console, console, buf);
        panes::render(app, Pane::Source, source, buf);
        panes::render(app, Pane::Registers, regs, buf);
        panes::render(app, app.detail, detail, buf);
    } else {
        let [tabs, pane] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(main);
        tab_bar(app, tabs, buf);
        panes::render(app, app.focus, pane, buf);
    }
    if app.help {
        panes::help::HelpOverlay.render(area, buf);
    }
}

fn tab_bar(app: &App, area: Rect, buf: &mut ratatui::buffer::Buffer) {
    let spans: Vec<Span> = Pane::ALL
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let label = format!(" {} {} ", i + 1, p.short());
            if *p == app.focus {
                Span::styled(
                    label,
                    Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
                )
            } else {
                Span::raw(label)
            }
        })
        .collect();
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::panes::testing::{app, has, rows};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn screen(app: &App, w: u16, h: u16) -> Vec<String> {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| draw(app, f)).unwrap();
        rows(t.backend().buffer())
    }

    #[test]
    fn small_terminals_get_tabs() {
        let mut app = app();
        let s = screen(&app, 80, 24);
        assert!(
            s[0].contains("1 console") && s[0].contains("5 pt") && s[0].contains("8 output"),
            "{s:?}"
        );
        assert!(
            has(&s, "$ echo hi") && !has(&s, "sys_exec() -> u64"),
            "{s:?}"
        );
        app.update(keys::Command::Focus(Pane::Source));
        assert!(has(&screen(&app, 80, 24), "sys_exec() -> u64"));
    }

    #[test]
    fn large_terminals_get_panes_side_by_side() {
        let app = app();
        let s = screen(&app, 140, 40);
        for want in [
            "1 console",
            "2 source",
            "3 registers",
            "4 processes",
            "$ echo hi",
            "412 pub fn sys_exec",
            "stopped: breakpoint",
        ] {
            assert!(has(&s, want), "missing {want}: {s:?}");
        }
    }

    #[test]
    fn help_overlay_on_top() {
        let mut app = app();
        app.update(keys::Command::Help);
        assert!(has(&screen(&app, 120, 40), "Ctrl-A x        quit"));
    }
}
