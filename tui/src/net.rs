//! The host's half of QEMU's user-mode network (`-netdev user`): the sockets behind the
//! machine's e1000 (see `machine::net`).
//!
//! The machine hands over the UDP datagrams the guest sent and takes the ones the host
//! received, through the session (which logs each arrival as input). Here they meet sockets,
//! as libslirp does it for the net lab:
//!
//! - `hostfwd=udp::HOSTPORT-:GUESTPORT`: a socket on 127.0.0.1:HOSTPORT; what it receives goes
//!   to the guest's GUESTPORT, from 10.0.2.2 and the sender's port (a sender on another
//!   address keeps its own). The guest's answer from GUESTPORT to that address goes back out
//!   of the same socket, so the sender sees its reply come from HOSTPORT.
//! - Anything else the guest sends to 10.0.2.2:PORT goes to 127.0.0.1:PORT, from a socket of
//!   its own per guest port and destination (a "flow"); replies to that socket come back to
//!   the guest from 10.0.2.2:PORT. This is how `nettests` reaches the lab's `server.py`.
//! - 10.0.2.3:53 (QEMU's DNS server) is forwarded to the first IPv4 `nameserver` of
//!   /etc/resolv.conf; with none, the query is dropped with one note, and the guest waits as
//!   it would for a lost datagram.
//! - Any other destination is reached directly from a flow socket, as libslirp does.
//!
//! Unlike QEMU, the forwarded ports listen on loopback only: xv6scope opens nothing to the
//! network at large. With a capture file (`filter-dump`), every frame is written in pcap
//! format, stamped with guest time (so a run's capture is the same each time).

use anyhow::{Context, Result};
use machine::net::slirp::{DNS, Datagram, GATEWAY};
use session::Session;
use std::collections::VecDeque;
use std::io::{ErrorKind, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::path::{Path, PathBuf};

/// Flows kept at most; the oldest is closed past it (libslirp expires idle UDP sessions).
const MAX_FLOWS: usize = 256;
/// Datagrams read from one socket per pump at most, so a flood cannot starve the guest.
const MAX_READS: usize = 64;
/// The largest UDP payload over IPv4.
const MAX_PAYLOAD: usize = 65_507;

/// What `--net` (or QEMU's `-netdev user`) asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetSpec {
    /// (host port, guest port) pairs of `hostfwd=udp::HOST-:GUEST`.
    pub forwards: Vec<(u16, u16)>,
    /// The pcap file of `-object filter-dump,...,file=FILE`.
    pub dump: Option<PathBuf>,
}

impl NetSpec {
    /// Parses a comma list of `hostfwd=udp::HOSTPORT-:GUESTPORT` (also `udp:127.0.0.1:...`;
    /// the guest address, if given, must be 10.0.2.15).
    pub fn parse(list: &str) -> Result<NetSpec, String> {
        let mut spec = NetSpec::default();
        for item in list.split(',').filter(|s| !s.is_empty()) {
            match item.split_once('=') {
                Some(("hostfwd", rule)) => spec.forwards.push(hostfwd(rule)?),
                _ => return Err(format!("{item}: expected hostfwd=udp::HOSTPORT-:GUESTPORT")),
            }
        }
        Ok(spec)
    }
}

/// `udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT` (QEMU's `hostfwd` syntax).
pub fn hostfwd(rule: &str) -> Result<(u16, u16), String> {
    let bad = || format!("hostfwd={rule}: expected udp::HOSTPORT-:GUESTPORT");
    let rest = rule.strip_prefix("udp:").ok_or_else(|| {
        if rule.starts_with("tcp:") {
            format!("hostfwd={rule}: only UDP forwarding is supported (the net lab's)")
        } else {
            bad()
        }
    })?;
    let (host, guest) = rest.split_once('-').ok_or_else(bad)?;
    let (haddr, hport) = host.rsplit_once(':').ok_or_else(bad)?;
    let (gaddr, gport) = guest.rsplit_once(':').ok_or_else(bad)?;
    if !(haddr.is_empty() || haddr == "127.0.0.1" || haddr == "localhost") {
        return Err(format!(
            "hostfwd={rule}: xv6scope forwards from 127.0.0.1 only"
        ));
    }
    if !(gaddr.is_empty() || gaddr == "10.0.2.15") {
        return Err(format!("hostfwd={rule}: the guest is 10.0.2.15"));
    }
    let port = |p: &str| p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(bad);
    Ok((port(hport)?, port(gport)?))
}

/// Gives the session's machine the network of `--net=LIST` (`--net-dump FILE`), before it
/// runs, and opens the host's sockets for it: what `run` and `tui` do with those options.
pub fn attach(session: &mut Session, list: &str, dump: Option<PathBuf>) -> Result<HostNet> {
    let mut spec = NetSpec::parse(list).map_err(|e| anyhow::anyhow!("--net={list}: {e}"))?;
    spec.dump = dump;
    session.attach_net();
    if let Some(net) = session.machine_mut().net_mut() {
        net.set_capture(spec.dump.is_some());
    }
    HostNet::new(&spec)
}

/// Longest idle wait with a network: how often a front end looks at the host's sockets
/// while every hart waits (they are not among what its wait watches).
pub const POLL: std::time::Duration = std::time::Duration::from_millis(2);

/// One `hostfwd` socket and the senders it has heard from.
struct Forward {
    socket: UdpSocket,
    guest_port: u16,
    /// Senders, newest last (a reply to one of them goes out of this socket).
    peers: VecDeque<SocketAddrV4>,
}

/// A socket for the guest's datagrams from one port to one destination.
struct Flow {
    guest_port: u16,
    /// The destination as the guest names it.
    remote: SocketAddrV4,
    socket: UdpSocket,
}

/// The sockets of one run (see the module essay).
pub struct HostNet {
    forwards: Vec<Forward>,
    flows: VecDeque<Flow>,
    resolver: Option<Ipv4Addr>,
    told_no_dns: bool,
    /// Lines for the user, each said once; the front end shows them its own way.
    notes: Vec<String>,
    dump: Option<Pcap>,
}

impl HostNet {
    /// Binds the forwarded ports and creates the capture file. The machine keeps frames for
    /// the capture when told so (`Net::set_capture`), which the caller does.
    pub fn new(spec: &NetSpec) -> Result<HostNet> {
        let mut forwards = Vec::new();
        for &(host, guest) in &spec.forwards {
            let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, host))
                .with_context(|| format!("cannot listen on UDP 127.0.0.1:{host} (hostfwd)"))?;
            socket.set_nonblocking(true)?;
            forwards.push(Forward {
                socket,
                guest_port: guest,
                peers: VecDeque::new(),
            });
        }
        let dump = spec.dump.as_deref().map(Pcap::create).transpose()?;
        Ok(HostNet {
            forwards,
            flows: VecDeque::new(),
            resolver: resolver(Path::new("/etc/resolv.conf")),
            told_no_dns: false,
            notes: Vec::new(),
            dump,
        })
    }

    /// The local addresses of the forwarded ports, in the order of the spec.
    #[cfg(test)]
    pub fn forward_addrs(&self) -> Vec<SocketAddr> {
        self.forwards
            .iter()
            .filter_map(|f| f.socket.local_addr().ok())
            .collect()
    }

    /// Sends what the guest sent and hands the guest what arrived; writes the capture.
    /// Returns whether anything moved.
    pub fn pump(&mut self, session: &mut Session) -> Result<bool> {
        let out = session.take_datagrams();
        let mut moved = !out.is_empty();
        for d in out {
            self.send(d);
        }
        for d in self.receive() {
            moved = true;
            session.deliver_datagram(d);
        }
        if let Some(pcap) = self.dump.as_mut()
            && let Some(net) = session.machine_mut().net_mut()
        {
            for f in net.take_captured() {
                pcap.frame(f.cycle, &f.bytes)?;
            }
        }
        Ok(moved)
    }

    /// What the network has to tell the user since the last call (each thing once).
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// Sends a datagram of the guest's on (see the module essay for where).
    pub fn send(&mut self, d: Datagram) {
        let ip = *d.remote.ip();
        if ip == GATEWAY {
            let host = SocketAddrV4::new(Ipv4Addr::LOCALHOST, d.remote.port());
            if let Some(f) = self
                .forwards
                .iter()
                .find(|f| f.guest_port == d.guest_port && f.peers.contains(&host))
            {
                let _ = f.socket.send_to(&d.payload, host);
                return;
            }
            self.flow_send(d, SocketAddr::V4(host));
        } else if ip == DNS {
            match self.resolver {
                Some(r) => self.flow_send(d, SocketAddr::V4(SocketAddrV4::new(r, 53))),
                None if !self.told_no_dns => {
                    self.told_no_dns = true;
                    self.notes.push(
                        "no IPv4 nameserver in /etc/resolv.conf: the guest's DNS queries to \
                         10.0.2.3 are dropped"
                            .into(),
                    );
                }
                None => {}
            }
        } else {
            let to = SocketAddr::V4(d.remote);
            self.flow_send(d, to);
        }
    }

    /// Sends from the flow of (guest port, destination), opening it if needed. A datagram
    /// that cannot be sent is lost, as on a network.
    fn flow_send(&mut self, d: Datagram, to: SocketAddr) {
        let known = self
            .flows
            .iter()
            .position(|f| f.guest_port == d.guest_port && f.remote == d.remote);
        let i = match known {
            Some(i) => i,
            None => {
                let local = if to.ip().is_loopback() {
                    Ipv4Addr::LOCALHOST
                } else {
                    Ipv4Addr::UNSPECIFIED
                };
                let Ok(socket) = UdpSocket::bind((local, 0)) else {
                    return;
                };
                if socket.set_nonblocking(true).is_err() || socket.connect(to).is_err() {
                    return;
                }
                if self.flows.len() == MAX_FLOWS {
                    self.flows.pop_front();
                }
                self.flows.push_back(Flow {
                    guest_port: d.guest_port,
                    remote: d.remote,
                    socket,
                });
                self.flows.len() - 1
            }
        };
        let _ = self.flows[i].socket.send(&d.payload);
    }

    /// Everything the sockets have for the guest now.
    pub fn receive(&mut self) -> Vec<Datagram> {
        let mut got = Vec::new();
        let mut buf = vec![0u8; MAX_PAYLOAD];
        for f in &mut self.forwards {
            for _ in 0..MAX_READS {
                let (n, from) = match f.socket.recv_from(&mut buf) {
                    Ok(x) => x,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => continue, // an ICMP error of an earlier send
                };
                let SocketAddr::V4(from) = from else { continue };
                if !f.peers.contains(&from) {
                    if f.peers.len() == MAX_FLOWS {
                        f.peers.pop_front();
                    }
                    f.peers.push_back(from);
                }
                // A local sender is the gateway to the guest (libslirp's translation).
                let remote = if from.ip().is_loopback() {
                    SocketAddrV4::new(GATEWAY, from.port())
                } else {
                    from
                };
                got.push(Datagram {
                    guest_port: f.guest_port,
                    remote,
                    payload: buf[..n].to_vec(),
                });
            }
        }
        for f in &self.flows {
            for _ in 0..MAX_READS {
                match f.socket.recv(&mut buf) {
                    Ok(n) => got.push(Datagram {
                        guest_port: f.guest_port,
                        remote: f.remote,
                        payload: buf[..n].to_vec(),
                    }),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => continue,
                }
            }
        }
        got
    }
}

/// The first IPv4 `nameserver` of a resolv.conf.
fn resolver(path: &Path) -> Option<Ipv4Addr> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some("nameserver"))
            .then(|| words.next()?.parse().ok())
            .flatten()
    })
}

/// A pcap capture file (the classic format QEMU's `filter-dump` writes: microsecond
/// stamps, link type Ethernet).
struct Pcap {
    file: std::io::BufWriter<std::fs::File>,
}

impl Pcap {
    fn create(path: &Path) -> Result<Pcap> {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create the capture file {}", path.display()))?;
        let mut p = Pcap {
            file: std::io::BufWriter::new(file),
        };
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes()); // GMT offset
        h.extend_from_slice(&0u32.to_le_bytes()); // accuracy
        h.extend_from_slice(&65_535u32.to_le_bytes()); // snap length
        h.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
        p.file.write_all(&h)?;
        p.file.flush()?;
        Ok(p)
    }

    /// One frame, stamped with the guest time of machine cycle `cycle`.
    fn frame(&mut self, cycle: u64, bytes: &[u8]) -> Result<()> {
        let us =
            cycle / machine::board::CYCLES_PER_TICK / (machine::board::TIMEBASE_HZ / 1_000_000);
        let mut h = Vec::with_capacity(16);
        h.extend_from_slice(&((us / 1_000_000) as u32).to_le_bytes());
        h.extend_from_slice(&((us % 1_000_000) as u32).to_le_bytes());
        h.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        h.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        self.file.write_all(&h)?;
        self.file.write_all(bytes)?;
        // Each frame reaches the file as it happens: a run ended by a signal keeps them.
        self.file.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostfwd_rules_as_the_makefiles_write_them() {
        assert_eq!(hostfwd("udp::25999-:2000"), Ok((25999, 2000)));
        assert_eq!(hostfwd("udp:127.0.0.1:5-10.0.2.15:6"), Ok((5, 6)));
        assert!(hostfwd("tcp::1-:2").unwrap_err().contains("only UDP"));
        assert!(
            hostfwd("udp:0.0.0.0:1-:2")
                .unwrap_err()
                .contains("127.0.0.1")
        );
        assert!(hostfwd("udp::1-10.0.2.9:2").is_err());
        assert!(hostfwd("udp::x-:2").is_err());
        assert!(hostfwd("udp::0-:2").is_err());
        let spec = NetSpec::parse("hostfwd=udp::25999-:2000,hostfwd=udp::30999-:2001").unwrap();
        assert_eq!(spec.forwards, [(25999, 2000), (30999, 2001)]);
        assert_eq!(NetSpec::parse("").unwrap(), NetSpec::default());
        assert!(NetSpec::parse("restrict=on").is_err());
    }

    fn gateway(port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(GATEWAY, port)
    }

    /// Reads what the sockets have, waiting up to a second for `n` datagrams.
    fn receive_n(net: &mut HostNet, n: usize) -> Vec<Datagram> {
        let mut got = Vec::new();
        for _ in 0..200 {
            got.extend(net.receive());
            if got.len() >= n {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        got
    }

    #[test]
    fn forwarded_ports_and_flows_carry_datagrams_both_ways() {
        // Port 0: the system picks a free one for the test.
        let spec = NetSpec {
            forwards: vec![(0, 2000)],
            dump: None,
        };
        let mut net = HostNet::new(&spec).unwrap();
        let fwd = net.forward_addrs()[0];
        assert!(fwd.ip().is_loopback(), "listens on loopback only");

        // hostfwd: a host program sends to the forwarded port; the guest's port 2000 gets it
        // from 10.0.2.2 and the sender's port, and its answer goes back out of that port.
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        sender
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let sport = sender.local_addr().unwrap().port();
        sender.send_to(b"this is a ping!", fwd).unwrap();
        let got = receive_n(&mut net, 1);
        assert_eq!(
            got,
            [Datagram {
                guest_port: 2000,
                remote: gateway(sport),
                payload: b"this is a ping!".to_vec(),
            }]
        );
        net.send(Datagram {
            guest_port: 2000,
            remote: gateway(sport),
            payload: b"pong".to_vec(),
        });
        let mut buf = [0u8; 64];
        let (n, from) = sender.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"pong"[..], fwd));

        // A flow: the guest sends to 10.0.2.2:PORT, a server on 127.0.0.1:PORT answers.
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        server
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let port = server.local_addr().unwrap().port();
        for guest_port in [2001, 2002] {
            net.send(Datagram {
                guest_port,
                remote: gateway(port),
                payload: b"a message from xv6!".to_vec(),
            });
            let (n, from) = server.recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"a message from xv6!");
            server.send_to(b"this is the host!", from).unwrap();
        }
        let mut got = receive_n(&mut net, 2);
        got.sort_by_key(|d| d.guest_port);
        assert_eq!(got.len(), 2, "{got:?}");
        for (d, guest_port) in got.iter().zip([2001, 2002]) {
            assert_eq!(d.guest_port, guest_port, "each flow answers its own port");
            assert_eq!(d.remote, gateway(port));
            assert_eq!(d.payload, b"this is the host!");
        }
    }

    #[test]
    fn the_resolver_is_the_first_ipv4_nameserver() {
        let dir = std::env::temp_dir().join(format!("xv6scope-net-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("resolv.conf");
        std::fs::write(
            &path,
            "# x\nsearch lan\nnameserver ::1\nnameserver 10.1.2.3\n",
        )
        .unwrap();
        assert_eq!(resolver(&path), Some(Ipv4Addr::new(10, 1, 2, 3)));
        std::fs::write(&path, "search lan\n").unwrap();
        assert_eq!(resolver(&path), None);
        assert_eq!(resolver(&dir.join("absent")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
