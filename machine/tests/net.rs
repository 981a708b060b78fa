//! The net lab's hardware seen from a driver: a synthetic guest driver makes the physical
//! accesses xv6's `pci.c` and `e1000.c` make (through the bus, as a hart's loads and stores
//! reach it) and checks what the device does to RAM, its registers and the PLIC.

use etherparse::{ArpEthIpv4Packet, ArpOperation, NetSlice, PacketBuilder, SlicedPacket};
use machine::board::{E1000_IRQ, PCIE_ECAM_BASE, PLIC_BASE, RAM_BASE};
use machine::bus::{BusError, irq};
use machine::devices::e1000::reg;
use machine::net::slirp::{self, Datagram, GATEWAY, GUEST};
use machine::{Config, Image, Machine};
use std::net::SocketAddrV4;

const REGS: u64 = 0x4000_0000;
const TX_RING: u64 = RAM_BASE + 0x10_0000;
const RX_RING: u64 = RAM_BASE + 0x10_1000;
const TX_BUFS: u64 = RAM_BASE + 0x20_0000;
const RX_BUFS: u64 = RAM_BASE + 0x30_0000;
const RING: u32 = 16;
const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

fn machine(net: bool) -> Machine {
    // One hart spinning in place (`j .`): the test drives the bus itself.
    let config = Config {
        harts: 1,
        ..Config::default()
    };
    let mut m = Machine::new(config, Image::Raw(&0x0000_006fu32.to_le_bytes()), None).unwrap();
    if net {
        m.attach_net();
    }
    m
}

fn r32(m: &mut Machine, pa: u64) -> u32 {
    m.bus.load(pa, 4).expect("a device answers") as u32
}

fn w32(m: &mut Machine, pa: u64, v: u32) {
    m.bus.store(pa, 4, v as u64).expect("a device answers");
}

fn reg_r(m: &mut Machine, r: u64) -> u32 {
    r32(m, REGS + r)
}

fn reg_w(m: &mut Machine, r: u64, v: u32) {
    w32(m, REGS + r, v)
}

fn ram(m: &Machine, pa: u64, len: usize) -> Vec<u8> {
    let mut b = vec![0; len];
    assert!(m.read_phys(pa, &mut b));
    b
}

/// xv6's `pci_init` up to placing BAR 0, then `e1000_init`; the PLIC set up as xv6's
/// `plicinit`/`plicinithart` do for hart 0's S-mode context.
fn xv6_init(m: &mut Machine) {
    let mut found = None;
    for dev in 0..32u64 {
        let base = PCIE_ECAM_BASE + (dev << 13);
        if r32(m, base) == 0x100e_8086 {
            found = Some(base);
        }
    }
    let base = found.expect("the e1000 is on bus 0");
    w32(m, base + 4, 7);
    for i in 0..6 {
        let bar = base + 0x10 + 4 * i;
        let old = r32(m, bar);
        w32(m, bar, 0xffff_ffff);
        w32(m, bar, old);
    }
    w32(m, base + 0x10, REGS as u32);

    reg_w(m, reg::IMS, 0);
    let ctl = reg_r(m, reg::CTRL);
    reg_w(m, reg::CTRL, ctl | 0x0040_0000); // xv6's E1000_CTL_RST
    reg_w(m, reg::IMS, 0);
    for i in 0..RING as u64 {
        // tx: status DD, everything else 0; rx: a buffer each.
        let mut tx = [0u8; 16];
        tx[12] = 1;
        assert!(m.write_phys(TX_RING + 16 * i, &tx));
        let mut rx = [0u8; 16];
        rx[..8].copy_from_slice(&(RX_BUFS + 2048 * i).to_le_bytes());
        assert!(m.write_phys(RX_RING + 16 * i, &rx));
    }
    reg_w(m, reg::TDBAL, TX_RING as u32);
    reg_w(m, reg::TDLEN, RING * 16);
    reg_w(m, reg::TDT, 0);
    reg_w(m, reg::TDH, 0);
    reg_w(m, reg::RDBAL, RX_RING as u32);
    reg_w(m, reg::RDH, 0);
    reg_w(m, reg::RDT, RING - 1);
    reg_w(m, reg::RDLEN, RING * 16);
    reg_w(m, reg::RA, 0x1200_5452);
    reg_w(m, reg::RA + 4, 0x5634 | 1 << 31);
    for i in 0..128 {
        reg_w(m, reg::MTA + 4 * i, 0);
    }
    reg_w(m, reg::TCTL, 2 | 8 | 0x10 << 4 | 0x40 << 12);
    reg_w(m, reg::TIPG, 10 | 8 << 10 | 6 << 20);
    reg_w(m, reg::RCTL, 2 | 1 << 15 | 1 << 26);
    reg_w(m, reg::RDTR, 0);
    reg_w(m, reg::RADV, 0);
    reg_w(m, reg::IMS, 1 << 7);

    w32(m, PLIC_BASE + 4 * E1000_IRQ as u64, 1);
    // Context 1 (hart 0, S-mode): enable bit 33 is in the second enable word.
    w32(m, PLIC_BASE + 0x2080 + 4, 1 << (E1000_IRQ - 32));
    w32(m, PLIC_BASE + 0x20_1000, 0);
}

/// xv6's `e1000_transmit`: the frame into a buffer, the descriptor at TDT, TDT + 1.
/// Returns false when the descriptor is not done yet (the ring is full).
fn transmit(m: &mut Machine, frame: &[u8]) -> bool {
    let idx = reg_r(m, reg::TDT) as u64;
    let desc = TX_RING + 16 * idx;
    if ram(m, desc + 12, 1)[0] & 1 == 0 {
        return false;
    }
    let buf = TX_BUFS + 2048 * idx;
    assert!(m.write_phys(buf, frame));
    let mut d = [0u8; 16];
    d[..8].copy_from_slice(&buf.to_le_bytes());
    d[8..10].copy_from_slice(&(frame.len() as u16).to_le_bytes());
    d[11] = 1 | 8; // EOP | RS
    assert!(m.write_phys(desc, &d));
    reg_w(m, reg::TDT, ((idx + 1) % RING as u64) as u32);
    true
}

/// xv6's `e1000_recv`: every descriptor after RDT with DD, its frame; the buffer handed back.
fn receive(m: &mut Machine) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    loop {
        let idx = (reg_r(m, reg::RDT) as u64 + 1) % RING as u64;
        let desc = ram(m, RX_RING + 16 * idx, 16);
        if desc[12] & 1 == 0 {
            return frames;
        }
        assert_eq!(desc[12] & 2, 2, "EOP: one buffer per frame");
        let len = u16::from_le_bytes([desc[8], desc[9]]) as usize;
        frames.push(ram(m, RX_BUFS + 2048 * idx, len));
        assert!(m.write_phys(RX_RING + 16 * idx + 12, &[0]));
        reg_w(m, reg::RDT, idx as u32);
    }
}

fn arp_request() -> Vec<u8> {
    let mut f = Vec::new();
    PacketBuilder::ethernet2(MAC, [0xff; 6])
        .arp(
            ArpEthIpv4Packet {
                operation: ArpOperation::REQUEST,
                sender_mac: MAC,
                sender_ipv4: GUEST.octets(),
                target_mac: [0; 6],
                target_ipv4: GATEWAY.octets(),
            }
            .into(),
        )
        .write(&mut f)
        .unwrap();
    f
}

fn udp(dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    PacketBuilder::ethernet2(MAC, slirp::slirp_mac(GATEWAY))
        .ipv4(GUEST.octets(), GATEWAY.octets(), 100)
        .udp(2000, dport)
        .write(&mut f, payload)
        .unwrap();
    f
}

/// The guest asks for the gateway's MAC (which teaches the network the guest's) and takes
/// the reply.
fn arp_first(m: &mut Machine) {
    assert!(transmit(m, &arp_request()));
    assert_eq!(receive(m).len(), 1);
}

fn seip(m: &mut Machine) -> bool {
    m.bus.irq_lines(0) & irq::SEIP != 0
}

#[test]
fn without_the_option_the_board_has_no_pcie() {
    let mut m = machine(false);
    assert_eq!(m.bus.load(PCIE_ECAM_BASE, 4), Err(BusError));
    assert_eq!(m.bus.store(REGS, 4, 0), Err(BusError));
    assert!(m.net().is_none());
    assert!(!m.deliver_datagram(&Datagram {
        guest_port: 2000,
        remote: SocketAddrV4::new(GATEWAY, 1),
        payload: vec![1],
    }));
}

#[test]
fn registers_decode_only_once_bar0_is_placed_and_memory_enabled() {
    let mut m = machine(true);
    assert_eq!(m.bus.load(REGS, 4), Err(BusError), "BAR 0 not placed yet");
    xv6_init(&mut m);
    assert_eq!(reg_r(&mut m, reg::STATUS) & 2, 2, "link up");
    assert_eq!(reg_r(&mut m, reg::RA + 4), 0x8000_5634);
    assert_eq!(reg_r(&mut m, reg::TDLEN), 256);
    assert_eq!(m.bus.load(REGS + 0x2_0000, 4), Err(BusError), "past BAR 0");
    // Narrow loads see bytes of the register.
    assert_eq!(m.bus.load(REGS + reg::RA + 1, 1), Ok(0x54));
}

#[test]
fn an_arp_request_is_sent_and_the_gateways_reply_lands_in_the_rx_ring_with_an_interrupt() {
    let mut m = machine(true);
    xv6_init(&mut m);
    assert!(!seip(&mut m));
    assert!(transmit(&mut m, &arp_request()));
    // Sent at once: DD written back, TDH caught up with TDT.
    assert_eq!(ram(&m, TX_RING + 12, 1)[0] & 1, 1);
    assert_eq!((reg_r(&mut m, reg::TDH), reg_r(&mut m, reg::TDT)), (1, 1));
    // The reply is in descriptor 0, padded to 60 bytes, and interrupts hart 0's S-mode.
    let desc = ram(&m, RX_RING, 16);
    assert_eq!(desc[12], 3, "DD | EOP");
    assert_eq!(u16::from_le_bytes([desc[8], desc[9]]), 60);
    assert_eq!(reg_r(&mut m, reg::RDH), 1);
    assert!(seip(&mut m));
    let irq = m.bus.plic.claim(1);
    assert_eq!(irq, E1000_IRQ);
    // e1000_intr: acknowledge, then receive.
    reg_w(&mut m, reg::ICR, 0xffff_ffff);
    let frames = receive(&mut m);
    m.bus.plic.complete(irq);
    assert!(!seip(&mut m), "acknowledged");
    assert_eq!(frames.len(), 1);
    let p = SlicedPacket::from_ethernet(&frames[0]).unwrap();
    let Some(NetSlice::Arp(arp)) = p.net else {
        panic!("not ARP");
    };
    let arp = arp.to_packet().try_eth_ipv4().unwrap();
    assert_eq!(arp.operation, ArpOperation::REPLY);
    assert_eq!(arp.sender_ipv4_addr(), GATEWAY);
    assert_eq!(arp.sender_mac, slirp::slirp_mac(GATEWAY));
    assert_eq!(arp.target_mac, MAC);
    assert_eq!(reg_r(&mut m, reg::RDT), 0);
    let view = m.net().unwrap().describe();
    assert!(view[0].contains("RDH 1 RDT 0"), "{view:?}");
    assert!(
        view.iter()
            .any(|l| l.ends_with("> ARP who-has 10.0.2.2 tell 10.0.2.15"))
    );
    assert!(
        view.iter()
            .any(|l| l.ends_with("< ARP 10.0.2.2 is-at 52:55:0a:00:02:02"))
    );
}

#[test]
fn udp_goes_to_the_host_and_the_hosts_datagrams_come_in_in_order() {
    let mut m = machine(true);
    xv6_init(&mut m);
    arp_first(&mut m);
    assert!(transmit(&mut m, &udp(25099, b"a message from xv6!")));
    let out = m.net_mut().unwrap().take_datagrams();
    assert_eq!(
        out,
        [Datagram {
            guest_port: 2000,
            remote: SocketAddrV4::new(GATEWAY, 25099),
            payload: b"a message from xv6!".to_vec(),
        }]
    );
    for i in 0..3u8 {
        assert!(m.deliver_datagram(&Datagram {
            payload: vec![b'0' + i; 30],
            ..out[0].clone()
        }));
    }
    let frames = receive(&mut m);
    let payloads: Vec<Vec<u8>> = frames
        .iter()
        .map(|f| {
            let p = SlicedPacket::from_ethernet(f).unwrap();
            assert_eq!(&f[..6], &MAC);
            match p.transport {
                Some(etherparse::TransportSlice::Udp(u)) => {
                    assert_eq!((u.source_port(), u.destination_port()), (25099, 2000));
                    u.payload().to_vec()
                }
                _ => panic!("not UDP"),
            }
        })
        .collect();
    assert_eq!(payloads, [vec![b'0'; 30], vec![b'1'; 30], vec![b'2'; 30]]);
    // The largest payload one frame carries arrives; one byte more is not carried.
    for len in [1472, 1473] {
        m.deliver_datagram(&Datagram {
            payload: vec![7; len],
            ..out[0].clone()
        });
    }
    let frames = receive(&mut m);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].len(), 14 + 20 + 8 + 1472);
    assert_eq!(m.net().unwrap().not_carried, 1);
}

#[test]
fn the_network_asks_for_an_unknown_guests_mac_before_delivering() {
    let mut m = machine(true);
    xv6_init(&mut m);
    let d = Datagram {
        guest_port: 2000,
        remote: SocketAddrV4::new(GATEWAY, 25999),
        payload: b"ping".to_vec(),
    };
    assert!(m.deliver_datagram(&d));
    let frames = receive(&mut m);
    assert_eq!(frames.len(), 1);
    let req = {
        let p = SlicedPacket::from_ethernet(&frames[0]).unwrap();
        let Some(NetSlice::Arp(a)) = p.net else {
            panic!("not ARP")
        };
        a.to_packet().try_eth_ipv4().unwrap()
    };
    assert_eq!(req.operation, ArpOperation::REQUEST);
    assert_eq!(req.target_ipv4_addr(), GUEST);
    // xv6's net_rx_arp answers; the datagram follows.
    let mut reply = Vec::new();
    PacketBuilder::ethernet2(MAC, req.sender_mac)
        .arp(
            ArpEthIpv4Packet {
                operation: ArpOperation::REPLY,
                sender_mac: MAC,
                sender_ipv4: GUEST.octets(),
                target_mac: req.sender_mac,
                target_ipv4: req.sender_ipv4,
            }
            .into(),
        )
        .write(&mut reply)
        .unwrap();
    assert!(transmit(&mut m, &reply));
    let frames = receive(&mut m);
    assert_eq!(frames.len(), 1);
    assert_eq!(&frames[0][..6], &MAC);
    assert_eq!(&frames[0][42..46], b"ping");
}

#[test]
fn a_full_rx_ring_and_a_stopped_transmitter_hold_their_work_until_freed() {
    let mut m = machine(true);
    xv6_init(&mut m);
    arp_first(&mut m);
    let d = Datagram {
        guest_port: 2000,
        remote: SocketAddrV4::new(GATEWAY, 9),
        payload: b"x".to_vec(),
    };
    // RDT = 0 with RDH = 1 after the ARP reply: 15 free descriptors, then full.
    for _ in 0..20 {
        m.deliver_datagram(&d);
    }
    let rings = m.net().unwrap().e1000.rings();
    assert_eq!((rings.rdh, rings.rdt, rings.pending_rx), (0, 0, 5));
    // Each buffer handed back (an RDT write) lets a waiting frame in: the driver's loop sees
    // all 20.
    assert_eq!(receive(&mut m).len(), 20);
    assert_eq!(m.net().unwrap().e1000.rings().pending_rx, 0);
    // The transmitter off: descriptors handed over wait, without DD, and go out when it is
    // turned on again (descriptor 0 carried the ARP request).
    reg_w(&mut m, reg::TCTL, 0);
    for _ in 0..5 {
        assert!(transmit(&mut m, &udp(1, b"y")));
    }
    assert_eq!(ram(&m, TX_RING + 16 + 12, 1)[0] & 1, 0, "not done");
    assert!(m.net_mut().unwrap().take_datagrams().is_empty());
    reg_w(&mut m, reg::TCTL, 2);
    assert_eq!(m.net_mut().unwrap().take_datagrams().len(), 5);
    assert_eq!(reg_r(&mut m, reg::TDH), 6);
    assert_eq!(ram(&m, TX_RING + 16 + 12, 1)[0] & 1, 1, "done");
}

#[test]
fn reading_icr_clears_it_and_the_mask_gates_the_line() {
    let mut m = machine(true);
    xv6_init(&mut m);
    reg_w(&mut m, reg::IMC, 0xffff_ffff);
    assert!(transmit(&mut m, &arp_request()));
    assert!(!seip(&mut m), "masked");
    let icr = reg_r(&mut m, reg::ICR);
    assert_eq!(icr & 0x83, 0x83, "TXDW | TXQE | RXT0");
    assert_eq!(reg_r(&mut m, reg::ICR), 0, "read clears");
    reg_w(&mut m, reg::ICS, 1 << 7);
    reg_w(&mut m, reg::IMS, 1 << 7);
    assert!(seip(&mut m));
}

#[test]
fn the_network_state_goes_back_with_a_snapshot() {
    let mut m = machine(true);
    xv6_init(&mut m);
    let snap = m.snapshot(None);
    assert!(transmit(&mut m, &arp_request()));
    assert_eq!(m.net().unwrap().e1000.rings().rdh, 1);
    m.restore(&snap, Some(&snap));
    assert_eq!(m.net().unwrap().e1000.rings().rdh, 0);
    assert_eq!(ram(&m, RX_RING + 12, 1)[0], 0, "RAM too");
}
