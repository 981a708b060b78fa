//! The net lab on xv6scope: `run --net` and the QEMU drop-in's net lines.
//!
//! - Without a lab tree: the option's errors, the bundled kernel booting as before with the
//!   network attached, the drop-in turning the Makefile's line into `--net`, and a datagram
//!   from the host going back and forth with the session's timeline.
//! - `net_lab_tests_pass_on_a_net_lab_tree`: a built net lab solution tree named by
//!   `XV6SCOPE_NET_TREE` (kernel/kernel, fs.img), booted with its Makefile's network while the
//!   tree's own host program runs on the ports the Makefile gives it (`id -u` % 5000 + 25099
//!   for the server, + 25999 and + 30999 forwarded): 2020-2023 trees run `nettests` against
//!   `server.py`, 2024 trees `nettest grade` against `nettest.py grade` (which also sends
//!   into the guest through the forwarded port). Skipped saying so when the variable is
//!   unset or python3 is missing. The DNS tests need the host to reach a DNS server: when
//!   the host cannot resolve pdos.csail.mit.edu itself, their result is not checked, and the
//!   test says so.

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

/// A run with the network records (the network attached at boot is in the file) and
/// replays exactly in a fresh process.
#[test]
fn a_run_with_the_network_records_and_replays() {
    let rec = std::env::temp_dir().join(format!("xv6scope-net-{}.rec", std::process::id()));
    let out = xv6scope([
        "run",
        "--net",
        "--record",
        rec.to_str().unwrap(),
        "--input",
        "echo hi\\n",
        "--until",
        "hi\n$ ",
        "--timeout",
        "120",
    ]);
    assert_exit(&out, 0);
    let out = xv6scope(["replay", "--check", rec.to_str().unwrap()]);
    let _ = std::fs::remove_file(&rec);
    assert_exit(&out, 0);
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

/// The lab's layout: which test program and host program.
enum Layout {
    /// 2020-2023: `nettests` and `server.py PORT`.
    Nettests,
    /// 2024: `nettest grade` and `nettest.py grade`.
    Nettest2024,
}

fn net_tree() -> Option<(PathBuf, Layout)> {
    let Some(dir) = std::env::var_os("XV6SCOPE_NET_TREE").map(PathBuf::from) else {
        skip(
            "XV6SCOPE_NET_TREE is not set (a built net lab solution tree: kernel/kernel, \
             fs.img, server.py or nettest.py)",
        );
        return None;
    };
    for f in ["kernel/kernel", "fs.img"] {
        assert!(
            dir.join(f).is_file(),
            "XV6SCOPE_NET_TREE names {}, which has no {f}",
            dir.display()
        );
    }
    let layout = if dir.join("user/nettests.c").is_file() && dir.join("server.py").is_file() {
        Layout::Nettests
    } else if dir.join("user/nettest.c").is_file() && dir.join("nettest.py").is_file() {
        Layout::Nettest2024
    } else {
        panic!(
            "XV6SCOPE_NET_TREE names {}, which has neither user/nettests.c with server.py nor \
             user/nettest.c with nettest.py",
            dir.display()
        );
    };
    if Command::new("python3").arg("--version").output().is_err() {
        skip("python3 is not installed (the lab's host program needs it)");
        return None;
    }
    Some((dir, layout))
}

/// Starts the lab's host program in `tree` and waits until it has bound its socket: its
/// first line of output (server.py's "listening on", nettest.py's nothing until its first
/// datagram, so for it a moment).
fn start_host_program(tree: &Path, args: &[&str], wait_for: Option<&[u8]>) -> Server {
    let mut child = Command::new("python3")
        .args(args)
        .current_dir(tree)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the lab's host program");
    let Some(needle) = wait_for else {
        std::thread::sleep(Duration::from_millis(500));
        return Server(child);
    };
    let needle = needle.to_vec();
    let mut err = child.stderr.take().expect("stderr");
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
            if seen.windows(needle.len()).any(|w| w == needle) {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the host program did not start");
    Server(child)
}

#[test]
fn net_lab_tests_pass_on_a_net_lab_tree() {
    let Some((tree, layout)) = net_tree() else {
        return;
    };
    let port = makefile_port(25099);
    let (fwd1, fwd2) = (makefile_port(25999), makefile_port(30999));
    let dns = ("pdos.csail.mit.edu", 80).to_socket_addrs().is_ok();
    if !dns {
        skip("this host cannot resolve names: the lab's DNS test is not checked (the rest is)");
    }
    let port_arg = port.to_string();
    let (mut server, input, until, wanted): (_, _, _, Vec<String>) = match layout {
        Layout::Nettests => (
            start_host_program(&tree, &["server.py", &port_arg], Some(b"listening")),
            "nettests\\n",
            if dns {
                "all tests passed"
            } else {
                "testing DNS"
            },
            vec![
                format!("nettests running on port {port}"),
                "testing ping: OK".into(),
                "testing single-process pings: OK".into(),
                "testing multi-process pings: OK".into(),
            ],
        ),
        Layout::Nettest2024 => (
            start_host_program(&tree, &["nettest.py", "grade"], None),
            "nettest grade\\n",
            "free: ",
            [
                "arp_rx: received an ARP packet",
                "ip_rx: received an IP packet",
                "ping0: OK",
                "ping1: OK",
                "ping2: OK",
                "ping3: OK",
                "free: OK",
            ]
            .into_iter()
            .chain(dns.then_some("dns: OK"))
            .map(String::from)
            .collect(),
        ),
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
        &format!("--net=hostfwd=udp::{fwd1}-:2000,hostfwd=udp::{fwd2}-:2001"),
        "--net-dump",
        pcap.to_str().unwrap(),
        "--input",
        input,
        "--until",
        until,
        "--timeout",
        "600",
    ]);
    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let console = assert_console(&out, &wanted);
    let frames = pcap_frames(&std::fs::read(&pcap).expect("the capture"));
    match layout {
        // 111 pings, each a datagram out and one back, and one ARP exchange first.
        Layout::Nettests => assert!(frames >= 2 * 111 + 2, "{frames} frames\n{console}"),
        Layout::Nettest2024 => {
            let _ = server.0.kill();
            let mut said = String::new();
            use std::io::Read;
            let _ = server.0.stdout.take().unwrap().read_to_string(&mut said);
            assert!(said.contains("txone: OK"), "nettest.py said:\n{said}");
            assert!(frames > 100, "{frames} frames\n{console}");
        }
    }
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

/// Time travel over the network: a datagram from the host is a logged event, so going back
/// before it and forward again delivers it again, at the same position, into the same
/// place in RAM; and what the replay makes the guest send is not sent twice.
#[test]
fn a_datagram_from_the_host_replays_with_the_timeline() {
    use machine::devices::e1000::reg;
    use machine::net::slirp::{Datagram, GATEWAY};
    // A hart spinning in place; the device is set up from outside, as a driver would.
    let mut s = session::Session::new(session::Boot {
        kernel: 0x0000_006fu32.to_le_bytes().to_vec(),
        raw: true,
        disk: None,
        config: machine::Config {
            harts: 1,
            ..machine::Config::default()
        },
    })
    .expect("a session on a raw image");
    s.attach_net();
    let ram = machine::board::RAM_BASE;
    let (ring, bufs) = (ram + 0x1_0000, ram + 0x2_0000);
    let m = s.machine_mut();
    let ecam = machine::board::PCIE_ECAM_BASE + (1 << 15);
    m.bus.store(ecam + 4, 4, 6).unwrap();
    m.bus.store(ecam + 0x10, 4, 0x4000_0000).unwrap();
    for i in 0..8u64 {
        assert!(m.write_phys(ring + 16 * i, &(bufs + 2048 * i).to_le_bytes()));
    }
    for (r, v) in [
        (reg::RDBAL, ring),
        (reg::RDLEN, 128),
        (reg::RDT, 7),
        (reg::RCTL, 2 | 1 << 15),
    ] {
        m.bus.store(0x4000_0000 + r, 4, v).unwrap();
    }
    s.set_time_travel(true);
    s.run(1000);
    let at = s.machine().position();
    s.deliver_datagram(Datagram {
        guest_port: 2000,
        remote: std::net::SocketAddrV4::new(GATEWAY, 9),
        payload: b"x".to_vec(),
    });
    s.run(1000);
    let end = s.machine().position();
    let frame = |s: &session::Session| {
        let mut b = [0u8; 42];
        assert!(s.machine().read_phys(bufs, &mut b));
        b
    };
    let landed = frame(&s);
    assert_eq!(
        &landed[..6],
        &[0xff; 6],
        "the network's ARP request, broadcast"
    );
    assert_eq!(s.machine().net().unwrap().e1000.rings().rdh, 1);

    s.goto(at - 10).expect("back before the datagram");
    assert_eq!(frame(&s), [0u8; 42]);
    assert_eq!(s.machine().net().unwrap().e1000.rings().rdh, 0);
    s.goto(end).expect("forward again");
    assert_eq!(frame(&s), landed);
    assert_eq!(s.machine().net().unwrap().e1000.rings().rdh, 1);
    assert!(s.take_datagrams().is_empty());
    // A recording keeps the datagram and that the network was there.
    let rec =
        session::Recording::decode(&s.recording(&[]).expect("records").encode()).expect("decodes");
    assert!(rec.net);
    assert!(rec.events.iter().any(|(m, e)| m.pos == at
        && matches!(e, session::Event::Datagram(d) if d.payload == b"x" && d.guest_port == 2000)));
}
