//! The net lab on xv6scope: `run --net` and the QEMU drop-in's net lines.
//!
//! - Without a lab tree: the option's errors, the bundled kernel booting as before with the
//!   network attached, and the drop-in turning the Makefile's line into `--net`.
//! - `nettests_pass_on_a_net_lab_tree`: a built net lab solution tree named by
//!   `XV6SCOPE_NET_TREE` (kernel/kernel, fs.img, server.py; 2020-2023 layout, with
//!   `nettests`), booted with the Makefile's network while the tree's own `server.py` runs on
//!   the port the Makefile gives it (`id -u` % 5000 + 25099, or `XV6SCOPE_NET_PORT`); skipped
//!   saying so when the variable is unset or python3 is missing. The DNS test of `nettests`
//!   needs the host to reach a DNS server: when the host cannot resolve
//!   pdos.csail.mit.edu itself, the run stops at "testing DNS" and says so.

mod common;
use common::*;
use std::net::ToSocketAddrs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[test]
fn bad_net_options_are_refused_in_one_line() {
    let out = xv6scope(["run", "--net=hostfwd=tcp::1-:2", "--input", "x"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("only UDP forwarding"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let rec = std::env::temp_dir().join(format!("xv6scope-net-{}.rec", std::process::id()));
    let out = xv6scope([
        "run",
        "--net",
        "--record",
        rec.to_str().unwrap(),
        "--input",
        "x",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--record and --net do not mix"), "{err}");
    let out = xv6scope(["run", "--net-dump", "p.pcap", "--input", "x"]);
    assert_ne!(out.status.code(), Some(0), "--net-dump needs --net");
}

/// The bundled kernel has no e1000 driver: with the network attached it boots and runs as
/// without, and the capture file is a valid, empty pcap.
#[test]
fn the_bundled_kernel_runs_alike_with_the_network_attached() {
    let pcap =
        std::env::temp_dir().join(format!("xv6scope-net-bundled-{}.pcap", std::process::id()));
    let args = |net: bool| {
        let mut a = vec![
            "run",
            "--input",
            "echo hello net\\n",
            "--until",
            "hello net\n$ ",
        ];
        a.extend(["--timeout", "120", "--stats"]);
        if net {
            a.extend(["--net", "--net-dump", pcap.to_str().unwrap()]);
        }
        a
    };
    let plain = xv6scope(args(false));
    let with = xv6scope(args(true));
    assert_eq!(assert_exit(&with, 0), assert_exit(&plain, 0));
    let pcap_bytes = std::fs::read(&pcap).expect("the capture file");
    assert_eq!(pcap_bytes.len(), 24, "a pcap header, no frames");
    assert_eq!(&pcap_bytes[..4], &0xa1b2_c3d4u32.to_le_bytes());
    let _ = std::fs::remove_file(&pcap);
}

#[test]
fn the_drop_in_takes_the_net_labs_line() {
    let line = "-machine virt -bios none -kernel kernel/kernel -m 128M -smp 3 -nographic \
                -drive file=fs.img,if=none,format=raw,id=x0 \
                -device virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0 \
                -netdev user,id=net0,hostfwd=udp::25999-:2000 \
                -object filter-dump,id=net0,netdev=net0,file=packets.pcap \
                -device e1000,netdev=net0,bus=pcie.0";
    let out = Command::new(BIN)
        .arg("qemu")
        .args(line.split_whitespace())
        .env("XV6SCOPE_DRY_RUN", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run xv6scope qemu");
    let said = assert_exit(&out, 0);
    assert!(
        said.contains("--net=hostfwd=udp::25999-:2000 --net-dump packets.pcap"),
        "{said}"
    );
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The Makefile's `expr \`id -u\` % 5000 + BASE`.
fn makefile_port(base: u32) -> u16 {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(0);
    (uid % 5000 + base) as u16
}

fn net_tree() -> Option<PathBuf> {
    let Some(dir) = std::env::var_os("XV6SCOPE_NET_TREE").map(PathBuf::from) else {
        skip(
            "XV6SCOPE_NET_TREE is not set (a built net lab solution tree: kernel/kernel, \
             fs.img, server.py)",
        );
        return None;
    };
    for f in ["kernel/kernel", "fs.img", "server.py"] {
        assert!(
            dir.join(f).is_file(),
            "XV6SCOPE_NET_TREE names {}, which has no {f}",
            dir.display()
        );
    }
    if !dir.join("user/nettests.c").is_file() {
        skip("XV6SCOPE_NET_TREE has no user/nettests.c (the 2024 lab's nettest is not run here)");
        return None;
    }
    if Command::new("python3").arg("--version").output().is_err() {
        skip("python3 is not installed (the lab's server.py needs it)");
        return None;
    }
    Some(dir)
}

fn start_server(tree: &Path, port: u16) -> Server {
    let mut child = Command::new("python3")
        .arg("server.py")
        .arg(port.to_string())
        .current_dir(tree)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start server.py");
    // server.py says "listening on ..." once its socket is bound.
    let mut err = child.stderr.take().expect("server stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 256];
        let mut seen = Vec::new();
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if seen.windows(9).any(|w| w == b"listening") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("server.py did not start listening");
    Server(child)
}

#[test]
fn nettests_pass_on_a_net_lab_tree() {
    let Some(tree) = net_tree() else { return };
    let port = std::env::var("XV6SCOPE_NET_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| makefile_port(25099));
    let fwd = makefile_port(25999);
    let _server = start_server(&tree, port);
    let dns = ("pdos.csail.mit.edu", 80).to_socket_addrs().is_ok();
    if !dns {
        skip("this host cannot resolve names: nettests' DNS test is not run (its pings are)");
    }
    let until = if dns {
        "all tests passed"
    } else {
        "testing DNS"
    };
    let scratch =
        std::env::temp_dir().join(format!("xv6scope-net-tree-{}.img", std::process::id()));
    std::fs::copy(tree.join("fs.img"), &scratch).expect("copy fs.img");
    let pcap = scratch.with_extension("pcap");
    let out = xv6scope([
        "run",
        "--kernel",
        tree.join("kernel/kernel").to_str().unwrap(),
        "--disk",
        scratch.to_str().unwrap(),
        &format!("--net=hostfwd=udp::{fwd}-:2000"),
        "--net-dump",
        pcap.to_str().unwrap(),
        "--input",
        "nettests\\n",
        "--until",
        until,
        "--timeout",
        "300",
    ]);
    let console = assert_console(
        &out,
        &[
            &format!("nettests running on port {port}"),
            "testing ping: OK",
            "testing single-process pings: OK",
            "testing multi-process pings: OK",
        ],
    );
    // 111 pings, each a datagram out and one back (and one ARP exchange first).
    let frames = pcap_frames(&std::fs::read(&pcap).expect("the capture"));
    assert!(frames >= 2 * 111 + 2, "{frames} frames captured\n{console}");
    let _ = std::fs::remove_file(&scratch);
    let _ = std::fs::remove_file(&pcap);
}

/// Frames in a pcap file (little-endian, as written here).
fn pcap_frames(bytes: &[u8]) -> usize {
    assert_eq!(&bytes[..4], &0xa1b2_c3d4u32.to_le_bytes(), "pcap magic");
    let (mut at, mut n) = (24, 0);
    while at + 16 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + len;
        n += 1;
    }
    assert_eq!(at, bytes.len(), "whole records");
    n
}
