//! Recordings end to end: `xv6scope run --record FILE` on the bundled kernel, then
//! `xv6scope replay --check FILE` in a fresh process reproduces the same console output and
//! final position; a damaged recording is one line on stderr and exit status 2.

#[macro_use]
mod common;
use common::*;

#[test]
fn a_recorded_run_replays_exactly_in_a_fresh_process() {
    let dir = std::env::temp_dir().join(format!("xv6scope-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let rec = dir.join("run.rec");
    let rec_s = rec.to_str().expect("utf-8 path");
    let out = xv6scope([
        "run",
        "--input",
        "echo recorded\\nls\\n",
        "--until",
        "zombie",
        "--timeout",
        "120",
        "--record",
        rec_s,
    ]);
    assert_console(&out, &["recorded", "zombie"]);
    let out = xv6scope(["replay", "--check", rec_s]);
    let said = assert_exit(&out, 0);
    assert!(said.starts_with("replay matches: "), "{said}");
    assert!(said.contains(" 1 events"), "{said}");

    // Damaged: truncated, a flipped byte, not a recording at all.
    let bytes = std::fs::read(&rec).expect("the recording");
    let damaged = [
        ("truncated", bytes[..bytes.len() / 3].to_vec(), "truncated"),
        (
            "flipped",
            {
                let mut b = bytes.clone();
                let i = b.len() / 2;
                b[i] ^= 0x10;
                b
            },
            "corrupt",
        ),
        (
            "alien",
            b"#!/bin/sh\necho hi\n".to_vec(),
            "not an xv6scope recording",
        ),
    ];
    for (name, body, says) in damaged {
        let path = dir.join(format!("{name}.rec"));
        std::fs::write(&path, body).expect("write");
        let out = xv6scope(["replay", "--check", path.to_str().expect("utf-8")]);
        assert_eq!(out.status.code(), Some(2), "{name}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(says) && err.lines().count() == 1,
            "{name}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
