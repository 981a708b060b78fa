//! The user-mode network behind the e1000, as QEMU's `-netdev user` (libslirp) presents it to
//! the guest: a LAN 10.0.2.0/24 on which the guest is 10.0.2.15, the host is the gateway
//! 10.0.2.2 and a DNS server is 10.0.2.3.
//!
//! This half is pure packet work, so it lives in the machine and stays deterministic: it
//! answers ARP for the gateway and the DNS server at once (a function of the guest's frame),
//! turns the guest's UDP datagrams into [`Datagram`]s for the host to send, and turns the
//! host's datagrams back into Ethernet frames for the guest. Sockets are the host's business
//! (the front end), and a datagram from the host enters the machine as a recorded input.
//!
//! Addresses as libslirp writes them: its own MAC is `52:55` followed by the IPv4 address it
//! speaks for (`52:55:0a:00:02:02` for the gateway), and the frames it sends carry the
//! gateway's. It learns the guest's MAC from ARP only (a request from the guest, or a reply):
//! until then, a datagram for the guest waits and an ARP request "who has 10.0.2.15" goes out
//! first, as libslirp's `if_encap` does — so a guest must answer ARP, as under QEMU. TTL 64,
//! identification counting up from 0, no DF flag (xv6 drops a datagram with any flag or
//! fragment offset), UDP checksums filled in, frames padded to Ethernet's 60 bytes. What the lab's kernels never send is dropped and counted: TCP, ICMP, IPv6,
//! fragments, datagrams to other addresses of the LAN.
//!
//! Parsing and building use the `etherparse` crate: it checks every length against the
//! bytes at hand (guest frames are untrusted), builds UDP with its checksum, and knows ARP.

use etherparse::{
    ArpEthIpv4Packet, ArpOperation, IpHeaders, IpNumber, Ipv4Header, NetSlice, PacketBuilder,
    SlicedPacket, TransportSlice,
};
use std::net::{Ipv4Addr, SocketAddrV4};

/// The guest's address (QEMU's `dhcpstart`, which xv6 hard-codes).
pub const GUEST: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
/// The host as seen from the guest (QEMU's `vhost`): datagrams to it go to the host's
/// loopback.
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
/// QEMU's DNS server (`vnameserver`): datagrams to its port 53 go to the host's resolver.
pub const DNS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 3);
const TTL: u8 = 64;
/// The largest UDP payload in one Ethernet frame: the 1500-byte MTU less the IPv4 and UDP
/// headers.
pub const MAX_UDP_PAYLOAD: usize = 1500 - 20 - 8;
/// Ethernet's shortest frame without CRC; libslirp pads what it sends to it.
const ETH_MIN: usize = 60;
/// Datagrams held for the guest while its MAC is unknown, at most (the oldest go first).
const MAX_HELD: usize = 64;

/// libslirp's MAC for one of its addresses: `52:55` and the four address bytes.
pub fn slirp_mac(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x52, 0x55, o[0], o[1], o[2], o[3]]
}

/// A UDP datagram between the guest's port `guest_port` and `remote`, named as the guest
/// names it (10.0.2.2:PORT for the host, 10.0.2.3:53 for DNS, or any address outside).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datagram {
    pub guest_port: u16,
    pub remote: SocketAddrV4,
    pub payload: Vec<u8>,
}

/// What became of a frame the guest sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FromGuest {
    /// ARP: frames for the guest in answer (the reply to its request; datagrams that waited
    /// for its MAC), possibly none.
    ToGuest(Vec<Vec<u8>>),
    /// A UDP datagram for the host to send on.
    Datagram(Datagram),
    /// Anything else, dropped (named for a debugger's view).
    Dropped(&'static str),
}

/// The network's state: what it learnt of the guest, what waits for that, and the IPv4
/// identification counter.
#[derive(Clone, Debug)]
pub struct Slirp {
    /// The guest's MAC, once ARP told it (libslirp's ARP table entry for 10.0.2.15).
    guest_mac: Option<[u8; 6]>,
    /// Datagrams for the guest waiting for its MAC, oldest first.
    held: Vec<Datagram>,
    ip_id: u16,
}

impl Default for Slirp {
    fn default() -> Self {
        Self::new()
    }
}

impl Slirp {
    pub fn new() -> Self {
        Slirp {
            guest_mac: None,
            held: Vec::new(),
            ip_id: 0,
        }
    }

    /// The guest's MAC, once learnt from its ARP.
    pub fn guest_mac(&self) -> Option<[u8; 6]> {
        self.guest_mac
    }

    /// Takes a frame the guest sent.
    pub fn from_guest(&mut self, frame: &[u8]) -> FromGuest {
        let Ok(p) = SlicedPacket::from_ethernet(frame) else {
            return FromGuest::Dropped("malformed frame");
        };
        match &p.net {
            Some(NetSlice::Arp(arp)) => {
                let Ok(arp) = arp.to_packet().try_eth_ipv4() else {
                    return FromGuest::Dropped("ARP of another kind");
                };
                let target = arp.target_ipv4_addr();
                let ours = target == GATEWAY || target == DNS;
                let mut out = Vec::new();
                match arp.operation {
                    // libslirp's `arp_input`: a request for one of its addresses is answered
                    // and teaches it the asker; so does any reply.
                    ArpOperation::REQUEST if ours => {
                        self.learn(&arp);
                        out.push(self.arp_reply(&arp));
                    }
                    ArpOperation::REPLY => self.learn(&arp),
                    _ => return FromGuest::Dropped("ARP not for the gateway"),
                }
                if self.guest_mac.is_some() {
                    for d in std::mem::take(&mut self.held) {
                        out.push(self.frame_for(&d));
                    }
                }
                FromGuest::ToGuest(out)
            }
            Some(NetSlice::Ipv4(ip)) => {
                if ip.is_payload_fragmented() {
                    return FromGuest::Dropped("IPv4 fragment");
                }
                let dst = ip.header().destination_addr();
                let to_lan = dst.octets()[..3] == GATEWAY.octets()[..3];
                if to_lan && dst != GATEWAY && dst != DNS || dst.is_broadcast() {
                    return FromGuest::Dropped("IPv4 to no one");
                }
                match &p.transport {
                    Some(TransportSlice::Udp(udp)) => {
                        if dst == DNS && udp.destination_port() != 53 {
                            return FromGuest::Dropped("UDP to the DNS server, not port 53");
                        }
                        FromGuest::Datagram(Datagram {
                            guest_port: udp.source_port(),
                            remote: SocketAddrV4::new(dst, udp.destination_port()),
                            payload: udp.payload().to_vec(),
                        })
                    }
                    Some(TransportSlice::Tcp(_)) => FromGuest::Dropped("TCP (not supported)"),
                    _ => FromGuest::Dropped("IPv4, not UDP"),
                }
            }
            Some(_) => FromGuest::Dropped("not IPv4 or ARP"),
            None => FromGuest::Dropped("no network layer"),
        }
    }

    fn learn(&mut self, arp: &ArpEthIpv4Packet) {
        if arp.sender_ipv4_addr() == GUEST && arp.sender_mac[0] & 1 == 0 {
            self.guest_mac = Some(arp.sender_mac);
        }
    }

    fn arp_reply(&self, req: &ArpEthIpv4Packet) -> Vec<u8> {
        let mine = slirp_mac(req.target_ipv4_addr());
        let reply = ArpEthIpv4Packet {
            operation: ArpOperation::REPLY,
            sender_mac: mine,
            sender_ipv4: req.target_ipv4,
            target_mac: req.sender_mac,
            target_ipv4: req.sender_ipv4,
        };
        let mut out = Vec::with_capacity(42);
        // An ARP packet built from an Ethernet/IPv4 one is always well-formed: no error.
        let _ = PacketBuilder::ethernet2(mine, req.sender_mac)
            .arp(reply.into())
            .write(&mut out);
        pad(out)
    }

    /// libslirp's request for the guest's MAC: broadcast, from the gateway.
    fn arp_request(&self) -> Vec<u8> {
        let gw = slirp_mac(GATEWAY);
        let req = ArpEthIpv4Packet {
            operation: ArpOperation::REQUEST,
            sender_mac: gw,
            sender_ipv4: GATEWAY.octets(),
            target_mac: [0; 6],
            target_ipv4: GUEST.octets(),
        };
        let mut out = Vec::with_capacity(ETH_MIN);
        let _ = PacketBuilder::ethernet2(gw, [0xff; 6])
            .arp(req.into())
            .write(&mut out);
        pad(out)
    }

    /// The frames that carry `d` to the guest, from `d.remote`: its frame when the guest's MAC
    /// is known; else an ARP request for it the first time (`d` waits for the answer), or
    /// nothing while one is outstanding.
    pub fn to_guest(&mut self, d: &Datagram) -> Vec<Vec<u8>> {
        if self.guest_mac.is_some() {
            return vec![self.frame_for(d)];
        }
        if self.held.len() == MAX_HELD {
            self.held.remove(0);
        }
        self.held.push(d.clone());
        if self.held.len() == 1 {
            vec![self.arp_request()]
        } else {
            Vec::new()
        }
    }

    fn frame_for(&mut self, d: &Datagram) -> Vec<u8> {
        let mac = self.guest_mac.unwrap_or([0xff; 6]);
        let mut ip = Ipv4Header::new(
            0,
            TTL,
            IpNumber::UDP,
            d.remote.ip().octets(),
            GUEST.octets(),
        )
        .unwrap_or_default();
        ip.identification = self.ip_id;
        // libslirp leaves the flags and fragment offset 0 (no DF); xv6's net.c drops any
        // datagram whose `ip_off` is not 0.
        ip.dont_fragment = false;
        self.ip_id = self.ip_id.wrapping_add(1);
        let builder = PacketBuilder::ethernet2(slirp_mac(GATEWAY), mac)
            .ip(IpHeaders::Ipv4(ip, Default::default()))
            .udp(d.remote.port(), d.guest_port);
        let mut out = Vec::with_capacity(builder.size(d.payload.len()));
        // Fails only for payloads over 65,507 bytes, which the host side never passes.
        let _ = builder.write(&mut out, &d.payload);
        pad(out)
    }
}

/// Pads a frame to Ethernet's minimum with zeros.
fn pad(mut frame: Vec<u8>) -> Vec<u8> {
    if frame.len() < ETH_MIN {
        frame.resize(ETH_MIN, 0);
    }
    frame
}

/// One line about an Ethernet frame, tcpdump-style, for a debugger's view.
pub fn summarize(frame: &[u8]) -> String {
    let Ok(p) = SlicedPacket::from_ethernet(frame) else {
        return format!("{} bytes, not Ethernet II", frame.len());
    };
    match (&p.net, &p.transport) {
        (Some(NetSlice::Arp(a)), _) => match a.to_packet().try_eth_ipv4() {
            Ok(a) if a.operation == ArpOperation::REQUEST => format!(
                "ARP who-has {} tell {}",
                a.target_ipv4_addr(),
                a.sender_ipv4_addr()
            ),
            Ok(a) => {
                let m = a.sender_mac;
                format!(
                    "ARP {} is-at {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                    a.sender_ipv4_addr(),
                    m[0],
                    m[1],
                    m[2],
                    m[3],
                    m[4],
                    m[5]
                )
            }
            Err(_) => "ARP (not Ethernet/IPv4)".into(),
        },
        (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Udp(u))) => format!(
            "UDP {}:{} > {}:{} len {}",
            ip.header().source_addr(),
            u.source_port(),
            ip.header().destination_addr(),
            u.destination_port(),
            u.payload().len()
        ),
        (Some(NetSlice::Ipv4(ip)), _) => format!(
            "IPv4 {} > {} protocol {}",
            ip.header().source_addr(),
            ip.header().destination_addr(),
            ip.header().protocol().0
        ),
        _ => format!(
            "ethertype {:#06x}, {} bytes",
            u16::from_be_bytes([frame[12], frame[13]]),
            frame.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];

    fn guest_udp(dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        PacketBuilder::ethernet2(MAC, [0xff; 6])
            .ipv4(GUEST.octets(), dst.octets(), 100)
            .udp(sport, dport)
            .write(&mut out, payload)
            .unwrap();
        out
    }

    fn guest_arp(op: ArpOperation, target: Ipv4Addr, target_mac: [u8; 6]) -> Vec<u8> {
        let mut frame = Vec::new();
        PacketBuilder::ethernet2(MAC, [0xff; 6])
            .arp(
                ArpEthIpv4Packet {
                    operation: op,
                    sender_mac: MAC,
                    sender_ipv4: GUEST.octets(),
                    target_mac,
                    target_ipv4: target.octets(),
                }
                .into(),
            )
            .write(&mut frame)
            .unwrap();
        frame
    }

    fn arp_of(frame: &[u8]) -> ArpEthIpv4Packet {
        let p = SlicedPacket::from_ethernet(frame).unwrap();
        let Some(NetSlice::Arp(arp)) = p.net else {
            panic!("not ARP")
        };
        arp.to_packet().try_eth_ipv4().unwrap()
    }

    #[test]
    fn arp_for_the_gateway_is_answered_with_slirps_mac_and_teaches_the_guests() {
        let mut s = Slirp::new();
        let req = guest_arp(ArpOperation::REQUEST, GATEWAY, [0; 6]);
        let FromGuest::ToGuest(out) = s.from_guest(&req) else {
            panic!("no reply");
        };
        assert_eq!(out.len(), 1);
        let reply = &out[0];
        assert_eq!(reply.len(), 60, "padded as libslirp pads");
        assert_eq!(summarize(&req), "ARP who-has 10.0.2.2 tell 10.0.2.15");
        assert_eq!(summarize(reply), "ARP 10.0.2.2 is-at 52:55:0a:00:02:02");
        assert_eq!(&reply[..6], &MAC, "to the asker");
        assert_eq!(&reply[6..12], &[0x52, 0x55, 10, 0, 2, 2]);
        let arp = arp_of(reply);
        assert_eq!(arp.operation, ArpOperation::REPLY);
        assert_eq!(arp.sender_ipv4_addr(), GATEWAY);
        assert_eq!(arp.target_ipv4_addr(), GUEST);
        assert_eq!(s.guest_mac(), Some(MAC), "learnt");
        // Another address on the LAN is nobody.
        let other = guest_arp(ArpOperation::REQUEST, Ipv4Addr::new(10, 0, 2, 9), [0; 6]);
        assert!(matches!(
            Slirp::new().from_guest(&other),
            FromGuest::Dropped(_)
        ));
    }

    #[test]
    fn a_datagram_for_a_guest_of_unknown_mac_waits_for_its_arp_reply() {
        let mut s = Slirp::new();
        let d = Datagram {
            guest_port: 2000,
            remote: SocketAddrV4::new(GATEWAY, 25099),
            payload: b"this is the host!".to_vec(),
        };
        let first = s.to_guest(&d);
        assert_eq!(first.len(), 1);
        let req = arp_of(&first[0]);
        assert_eq!(&first[0][..6], &[0xff; 6], "broadcast");
        assert_eq!(req.operation, ArpOperation::REQUEST);
        assert_eq!(
            (req.sender_ipv4_addr(), req.target_ipv4_addr()),
            (GATEWAY, GUEST)
        );
        assert!(s.to_guest(&d).is_empty(), "one request outstanding");
        // The guest answers: both datagrams follow, in order, to its MAC.
        let reply = guest_arp(ArpOperation::REPLY, GATEWAY, slirp_mac(GATEWAY));
        let FromGuest::ToGuest(out) = s.from_guest(&reply) else {
            panic!()
        };
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|f| f[..6] == MAC));
        assert_eq!(
            u16::from_be_bytes([out[1][18], out[1][19]]),
            1,
            "ids count up"
        );
        assert_eq!(s.to_guest(&d).len(), 1, "known now: sent at once");
    }

    #[test]
    fn udp_goes_out_and_replies_come_back_addressed_to_the_guest() {
        let mut s = Slirp::new();
        s.from_guest(&guest_arp(ArpOperation::REPLY, GATEWAY, [0; 6]));
        let frame = guest_udp(GATEWAY, 2000, 25099, b"a message from xv6!");
        let FromGuest::Datagram(d) = s.from_guest(&frame) else {
            panic!("not a datagram");
        };
        assert_eq!(d.guest_port, 2000);
        assert_eq!(d.remote, SocketAddrV4::new(GATEWAY, 25099));
        assert_eq!(d.payload, b"a message from xv6!");
        let back = s.to_guest(&Datagram {
            payload: b"this is the host!".to_vec(),
            ..d
        });
        let back = &back[0];
        let p = SlicedPacket::from_ethernet(back).unwrap();
        let Some(NetSlice::Ipv4(ip)) = &p.net else {
            panic!()
        };
        assert_eq!(ip.header().source_addr(), GATEWAY);
        assert_eq!(ip.header().destination_addr(), GUEST);
        assert_eq!(ip.header().ttl(), 64);
        assert_eq!(
            &back[20..22],
            &[0, 0],
            "flags and fragment offset 0, as libslirp"
        );
        let Some(TransportSlice::Udp(udp)) = &p.transport else {
            panic!()
        };
        assert_eq!((udp.source_port(), udp.destination_port()), (25099, 2000));
        assert_eq!(udp.payload(), b"this is the host!");
        let hdr = udp.to_header();
        assert_eq!(
            hdr.calc_checksum_ipv4(&ip.header().to_header(), udp.payload())
                .unwrap(),
            udp.checksum(),
            "a valid UDP checksum"
        );
    }

    #[test]
    fn what_the_network_does_not_carry_is_dropped() {
        let mut s = Slirp::new();
        for frame in [
            guest_udp(Ipv4Addr::new(10, 0, 2, 7), 1, 2, b"x"),
            guest_udp(DNS, 1000, 54, b"x"),
            vec![0u8; 10],
        ] {
            assert!(
                matches!(s.from_guest(&frame), FromGuest::Dropped(_)),
                "{frame:?}"
            );
        }
        assert_eq!(summarize(&[0u8; 10]), "10 bytes, not Ethernet II");
        let dns = guest_udp(DNS, 10000, 53, b"q");
        assert_eq!(summarize(&dns), "UDP 10.0.2.15:10000 > 10.0.2.3:53 len 1");
        assert!(matches!(s.from_guest(&dns), FromGuest::Datagram(_)));
        let outside = guest_udp(Ipv4Addr::new(8, 8, 8, 8), 10000, 53, b"q");
        assert!(matches!(s.from_guest(&outside), FromGuest::Datagram(_)));
    }
}
