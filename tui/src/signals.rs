//! SIGTERM, SIGHUP and SIGINT as requests to stop cleanly.
//!
//! A headless run that is killed (a closed terminal, `kill`, Ctrl-C with stdin redirected)
//! must still write its disk back. [`Stop::install`] replaces the default action of the three
//! signals by a flag that the run loop checks between slices (a few milliseconds apart); the
//! loop then ends as at any other exit, writing the disk back, and exits with status
//! 128 + the signal number as a killed process would. A second signal of the same kind while
//! the first is still being handled (the loop may be held up, e.g. waiting for a gdb client)
//! terminates at once, as the default action would.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The signals that stop a run cleanly.
const SIGNALS: [i32; 3] = [SIGTERM, SIGHUP, SIGINT];

/// Which stop signal arrived, if any.
pub struct Stop {
    /// The last signal received, 0 for none.
    got: Arc<AtomicUsize>,
}

impl Stop {
    /// Installs the handlers. Failing to install one is not fatal: that signal keeps its
    /// default action.
    pub fn install() -> Self {
        let got = Arc::new(AtomicUsize::new(0));
        for sig in SIGNALS {
            let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
            // Second signal: default action (terminate).
            let _ = signal_hook::flag::register_conditional_default(sig, flag.clone());
            let _ = signal_hook::flag::register(sig, flag);
            let got = got.clone();
            let _ = signal_hook::flag::register_usize(sig, got, sig as usize);
        }
        Stop { got }
    }

    /// The signal received, if one was.
    pub fn received(&self) -> Option<i32> {
        match self.got.load(Ordering::Relaxed) {
            0 => None,
            sig => Some(sig as i32),
        }
    }
}

/// The signal's name, for messages.
pub fn name(sig: i32) -> &'static str {
    match sig {
        SIGTERM => "SIGTERM",
        SIGHUP => "SIGHUP",
        SIGINT => "SIGINT",
        _ => "a signal",
    }
}
