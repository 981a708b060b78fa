//! The TUI's config file: the layout chosen, pane sizes, hidden panes.
//!
//! Where: `$XV6SCOPE_CONFIG_DIR/tui.toml` when that variable is set (tests point it at a
//! temporary directory, so they never touch the user's files); otherwise the platform's
//! config directory plus `xv6scope/tui.toml` — on Linux and other Unixes `$XDG_CONFIG_HOME`
//! (when absolute, as the XDG spec asks) or `~/.config`; on macOS `~/Library/Application
//! Support`; on Windows `%APPDATA%`. These are the rules the `dirs` crate applies; they are
//! four lines of `std::env`, so the TUI does not take a dependency (and its own
//! `dirs-sys`) for them.
//!
//! Format (TOML, read with the `toml` crate the walkthroughs already use):
//!
//! ```toml
//! layout = "auto"            # auto | tabs | split | full
//! hidden = ["output"]        # panes left out of the split and full layouts
//! [sizes]                    # per split: weights, or rows/columns for fixed ones
//! "full.cols" = [36, 30, 34]
//! ```
//!
//! Invariant: a missing file is the defaults, silently; an unreadable or malformed one is the
//! defaults plus one line for the status bar ([`load`] never fails). Unknown keys, layouts
//! and pane names are skipped, so an older xv6scope reads a newer file. The file is written
//! only when the user changes the layout (`:layout`, a drag, a resize key, hide/show), so
//! merely running the TUI never creates it.

use super::app::Pane;
use super::layout::{Choice, Settings};
use std::path::{Path, PathBuf};

/// The variable that overrides the config directory.
pub const ENV_DIR: &str = "XV6SCOPE_CONFIG_DIR";
/// The file's name in the directory.
pub const FILE: &str = "tui.toml";

/// The config file's path, if a directory can be found.
pub fn path() -> Option<PathBuf> {
    path_from(|k| std::env::var_os(k))
}

/// [`path`] with the environment given by `var` (for tests).
fn path_from(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    let env = |k: &str| var(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(d) = env(ENV_DIR) {
        return Some(d.join(FILE));
    }
    let base = if cfg!(windows) {
        env("APPDATA")?
    } else if cfg!(target_os = "macos") {
        env("HOME")?.join("Library/Application Support")
    } else {
        match env("XDG_CONFIG_HOME").filter(|p| p.is_absolute()) {
            Some(d) => d,
            None => env("HOME")?.join(".config"),
        }
    };
    Some(base.join("xv6scope").join(FILE))
}

/// Reads the settings at `path`: the defaults when it is missing; the defaults and a
/// one-line warning when it cannot be read or parsed.
pub fn load(path: Option<&Path>) -> (Settings, Option<String>) {
    let Some(path) = path else {
        return (Settings::default(), None);
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return (Settings::default(), None);
        }
        Err(e) => {
            return (
                Settings::default(),
                Some(format!(
                    "config {}: {e}; using the defaults",
                    path.display()
                )),
            );
        }
    };
    match parse(&text) {
        Ok(s) => (s, None),
        Err(e) => (
            Settings::default(),
            Some(format!(
                "config {}: {e}; using the defaults",
                path.display()
            )),
        ),
    }
}

/// Parses a config file's text.
pub fn parse(text: &str) -> Result<Settings, String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        // One line: toml's message spans lines; the line number leads.
        let msg = e.message().lines().collect::<Vec<_>>().join(", ");
        match e.span() {
            Some(sp) => format!("line {}: {msg}", text[..sp.start].matches('\n').count() + 1),
            None => msg,
        }
    })?;
    let mut s = Settings::default();
    if let Some(v) = table.get("layout") {
        let name = v.as_str().ok_or("`layout` is not a string")?;
        s.choice = Choice::named(name).ok_or(format!("unknown layout {name:?}"))?;
    }
    if let Some(v) = table.get("hidden") {
        let list = v.as_array().ok_or("`hidden` is not a list")?;
        s.hidden = list
            .iter()
            .filter_map(|p| p.as_str().and_then(Pane::named))
            .collect();
    }
    if let Some(v) = table.get("sizes") {
        let sizes = v.as_table().ok_or("`sizes` is not a table")?;
        for (id, list) in sizes {
            let list = list
                .as_array()
                .ok_or(format!("sizes.{id:?} is not a list"))?;
            let nums: Option<Vec<u16>> = list
                .iter()
                .map(|n| n.as_integer().and_then(|n| u16::try_from(n).ok()))
                .collect();
            let nums = nums.ok_or(format!("sizes.{id:?}: not small whole numbers"))?;
            if !nums.is_empty() && nums.iter().all(|n| *n > 0) {
                s.sizes.insert(id.clone(), nums);
            }
        }
    }
    Ok(s)
}

/// The file's text for `s`.
pub fn render(s: &Settings) -> String {
    let mut t = toml::Table::new();
    t.insert("layout".into(), s.choice.name().into());
    t.insert(
        "hidden".into(),
        toml::Value::Array(s.hidden.iter().map(|p| p.key().into()).collect()),
    );
    let sizes: toml::Table = s
        .sizes
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                toml::Value::Array(v.iter().map(|n| i64::from(*n).into()).collect()),
            )
        })
        .collect();
    t.insert("sizes".into(), toml::Value::Table(sizes));
    format!(
        "# xv6scope's TUI: the layout, pane sizes and hidden panes (written by `:layout`,\n\
         # a border dragged, Ctrl-A arrows, Ctrl-A -). Delete this file for the defaults.\n{}",
        toml::to_string(&t).unwrap_or_default()
    )
}

/// Writes `s` to `path` (creating the directory).
pub fn save(path: &Path, s: &Settings) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Written whole and renamed, so a crash never leaves half a file.
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, render(s))?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::layout::Kind;

    fn tmp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("xv6scope-config-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn saved_settings_read_back() {
        let dir = tmp("roundtrip");
        let path = dir.join("sub").join(FILE);
        let mut s = Settings {
            choice: Choice::Fixed(Kind::Full),
            ..Settings::default()
        };
        s.sizes.insert("full.cols".into(), vec![40, 30, 30]);
        s.hidden.insert(Pane::Output);
        s.hidden.insert(Pane::PageTable);
        save(&path, &s).expect("saves");
        assert_eq!(load(Some(&path)), (s, None));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_is_quiet_and_corrupt_is_one_line() {
        let dir = tmp("corrupt");
        let path = dir.join(FILE);
        assert_eq!(load(Some(&path)), (Settings::default(), None));
        std::fs::create_dir_all(&dir).unwrap();
        for bad in [
            "layout = [",
            "layout = \"huge\"",
            "layout = 3",
            "[sizes]\n\"full.cols\" = [\"a\"]",
        ] {
            std::fs::write(&path, bad).unwrap();
            let (s, warn) = load(Some(&path));
            assert_eq!(s, Settings::default(), "{bad}");
            let warn = warn.expect("a warning");
            assert!(
                warn.contains(FILE) && warn.contains("using the defaults") && !warn.contains('\n'),
                "{warn}"
            );
        }
        // Unknown keys and pane names are skipped.
        std::fs::write(&path, "future = 1\nhidden = [\"syscalls\", \"nope\"]\n").unwrap();
        let (s, warn) = load(Some(&path));
        assert_eq!(warn, None);
        assert_eq!(
            s.hidden.iter().copied().collect::<Vec<_>>(),
            [Pane::Syscalls]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    #[cfg(all(unix, not(target_os = "macos")))]
    fn the_directory_follows_the_override_then_xdg_then_home() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        let p = |vars| path_from(env(vars)).map(|p| p.display().to_string());
        let all = &[
            (ENV_DIR, "/tmp/t"),
            ("XDG_CONFIG_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(p(all).as_deref(), Some("/tmp/t/tui.toml"));
        let xdg = &[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")];
        assert_eq!(p(xdg).as_deref(), Some("/x/xv6scope/tui.toml"));
        // A relative XDG_CONFIG_HOME is ignored, as the XDG spec says.
        let rel = &[("XDG_CONFIG_HOME", "x"), ("HOME", "/h")];
        assert_eq!(p(rel).as_deref(), Some("/h/.config/xv6scope/tui.toml"));
        assert_eq!(p(&[]), None);
    }
}
