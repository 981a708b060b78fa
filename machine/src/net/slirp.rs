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
//! speaks for (`52:55:0a:00:02:02` for the gateway), the frames it sends carry the gateway's,
//! and it sends to the guest's MAC as learnt from the guest's own frames (QEMU's default
//! 52:54:00:12:34:56 before any). TTL 64, identification counting up from 0, no DF flag
//! (xv6 drops a datagram with any flag or fragment offset), UDP checksums filled in. What the lab's kernels never send is dropped and counted: TCP, ICMP, IPv6,
//! fragments, datagrams to other addresses of the LAN.
//!
//! Parsing and building use the `etherparse` crate: it checks every length against the
//! bytes at hand (guest frames are untrusted), builds UDP with its checksum, and knows ARP.

use etherparse::{
    ArpEthIpv4Packet, ArpOperation, EtherType, IpHeaders, IpNumber, Ipv4Header, NetSlice,
    PacketBuilder, SlicedPacket, TransportSlice,
};
use std::net::{Ipv4Addr, SocketAddrV4};

/// The guest's address (QEMU's `dhcpstart`, which xv6 hard-codes).
pub const GUEST: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
/// The host as seen from the guest (QEMU's `vhost`): datagrams to it go to the host's
/// loopback.
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
/// QEMU's DNS server (`vnameserver`): datagrams to its port 53 go to the host's resolver.
pub const DNS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 3);
/// The guest's MAC before it sends anything (QEMU's default for the first NIC).
pub const DEFAULT_GUEST_MAC: [u8; 6] = crate::devices::e1000::DEFAULT_MAC;

const TTL: u8 = 64;

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
    /// An ARP request for one of the network's own addresses: the reply frame.
    Reply(Vec<u8>),
    /// A UDP datagram for the host to send on.
    Datagram(Datagram),
    /// Anything else, dropped (named for a debugger's view).
    Dropped(&'static str),
}

/// The network's state: what it learnt of the guest, and the IPv4 identification counter.
#[derive(Clone, Debug)]
pub struct Slirp {
    guest_mac: [u8; 6],
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
            guest_mac: DEFAULT_GUEST_MAC,
            ip_id: 0,
        }
    }

    /// The guest's MAC as last seen.
    pub fn guest_mac(&self) -> [u8; 6] {
        self.guest_mac
    }

    /// Takes a frame the guest sent.
    pub fn from_guest(&mut self, frame: &[u8]) -> FromGuest {
        let Ok(p) = SlicedPacket::from_ethernet(frame) else {
            return FromGuest::Dropped("malformed frame");
        };
        if frame.len() >= 12 && frame[6] & 1 == 0 {
            self.guest_mac.copy_from_slice(&frame[6..12]);
        }
        match &p.net {
            Some(NetSlice::Arp(arp)) => {
                let Ok(arp) = arp.to_packet().try_eth_ipv4() else {
                    return FromGuest::Dropped("ARP of another kind");
                };
                let target = arp.target_ipv4_addr();
                if arp.operation != ArpOperation::REQUEST || !(target == GATEWAY || target == DNS)
                {
                    return FromGuest::Dropped("ARP not for the gateway");
                }
                FromGuest::Reply(self.arp_reply(&arp))
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
        out
    }

    /// The frame that carries `d` to the guest, from `d.remote`.
    pub fn to_guest(&mut self, d: &Datagram) -> Vec<u8> {
        let mut ip = Ipv4Header::new(0, TTL, IpNumber::UDP, d.remote.ip().octets(), GUEST.octets())
            .unwrap_or_default();
        ip.identification = self.ip_id;
        // libslirp leaves the flags and fragment offset 0 (no DF); xv6's net.c drops any
        // datagram whose `ip_off` is not 0.
        ip.dont_fragment = false;
        self.ip_id = self.ip_id.wrapping_add(1);
        let builder = PacketBuilder::ethernet2(slirp_mac(GATEWAY), self.guest_mac)
            .ip(IpHeaders::Ipv4(ip, Default::default()))
            .udp(d.remote.port(), d.guest_port);
        let mut out = Vec::with_capacity(builder.size(d.payload.len()));
        // Fails only for payloads over 65,507 bytes, which the host side never passes.
        let _ = builder.write(&mut out, &d.payload);
        out
    }
}

/// Whether an Ethernet frame is ARP (for views).
pub fn is_arp(frame: &[u8]) -> bool {
    frame.len() >= 14 && u16::from_be_bytes([frame[12], frame[13]]) == EtherType::ARP.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guest_udp(dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        PacketBuilder::ethernet2(DEFAULT_GUEST_MAC, slirp_mac(GATEWAY))
            .ipv4(GUEST.octets(), dst.octets(), 100)
            .udp(sport, dport)
            .write(&mut out, payload)
            .unwrap();
        out
    }

    #[test]
    fn arp_for_the_gateway_is_answered_with_slirps_mac() {
        let mut s = Slirp::new();
        let guest = [0x52, 0x54, 0, 0x12, 0x34, 0x99];
        let req = ArpEthIpv4Packet {
            operation: ArpOperation::REQUEST,
            sender_mac: guest,
            sender_ipv4: GUEST.octets(),
            target_mac: [0; 6],
            target_ipv4: GATEWAY.octets(),
        };
        let mut frame = Vec::new();
        PacketBuilder::ethernet2(guest, [0xff; 6])
            .arp(req.clone().into())
            .write(&mut frame)
            .unwrap();
        let FromGuest::Reply(reply) = s.from_guest(&frame) else {
            panic!("no reply");
        };
        assert_eq!(&reply[..6], &guest, "to the asker");
        assert_eq!(&reply[6..12], &[0x52, 0x55, 10, 0, 2, 2]);
        let p = SlicedPacket::from_ethernet(&reply).unwrap();
        let Some(NetSlice::Arp(arp)) = p.net else {
            panic!("not ARP")
        };
        let arp = arp.to_packet().try_eth_ipv4().unwrap();
        assert_eq!(arp.operation, ArpOperation::REPLY);
        assert_eq!(arp.sender_ipv4_addr(), GATEWAY);
        assert_eq!(arp.target_ipv4_addr(), GUEST);
        assert_eq!(s.guest_mac(), guest, "learnt");
        // Another address on the LAN is nobody.
        frame.truncate(0);
        PacketBuilder::ethernet2(guest, [0xff; 6])
            .arp(
                ArpEthIpv4Packet {
                    target_ipv4: [10, 0, 2, 9],
                    ..req
                }
                .into(),
            )
            .write(&mut frame)
            .unwrap();
        assert!(matches!(s.from_guest(&frame), FromGuest::Dropped(_)));
    }

    #[test]
    fn udp_goes_out_and_replies_come_back_addressed_to_the_guest() {
        let mut s = Slirp::new();
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
        let p = SlicedPacket::from_ethernet(&back).unwrap();
        let Some(NetSlice::Ipv4(ip)) = &p.net else {
            panic!()
        };
        assert_eq!(ip.header().source_addr(), GATEWAY);
        assert_eq!(ip.header().destination_addr(), GUEST);
        assert_eq!(ip.header().ttl(), 64);
        assert_eq!(&back[20..22], &[0, 0], "flags and fragment offset 0, as libslirp");
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
        // The identification counts up.
        let again = s.to_guest(&d);
        assert_eq!(u16::from_be_bytes([again[18], again[19]]), 1);
    }

    #[test]
    fn what_the_network_does_not_carry_is_dropped() {
        let mut s = Slirp::new();
        for frame in [
            guest_udp(Ipv4Addr::new(10, 0, 2, 7), 1, 2, b"x"),
            guest_udp(DNS, 1000, 54, b"x"),
            vec![0u8; 10],
        ] {
            assert!(matches!(s.from_guest(&frame), FromGuest::Dropped(_)), "{frame:?}");
        }
        let dns = guest_udp(DNS, 10000, 53, b"q");
        assert!(matches!(s.from_guest(&dns), FromGuest::Datagram(_)));
        let outside = guest_udp(Ipv4Addr::new(8, 8, 8, 8), 10000, 53, b"q");
        assert!(matches!(s.from_guest(&outside), FromGuest::Datagram(_)));
    }
}
