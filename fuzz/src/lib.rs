//! Fuzz targets for xv6scope's input surfaces (issue 19): each takes arbitrary bytes and must
//! neither panic nor run unbounded, whatever the bytes are. `src/main.rs` drives them with
//! random and mutated inputs for a given time; `tests/targets.rs` runs each on the committed
//! corpus (`corpus/<target>/`) plus seeded mutations in `cargo test --release`.
//!
//! Covered here: decode + execute in every privilege mode with random CSR state, ELF loading
//! and symbol/DWARF reading, the fs.img reader, recordings, virtio descriptor chains from a
//! random guest. Not yet: gdb packets and walkthrough TOML, whose parsers live in the
//! `xv6scope` binary crate (see docs/reliability.md).

use machine::board::{RAM_BASE, VIRTIO_BASE};
use machine::cpu::Mode;
use machine::{Config, Image, Machine};

/// A fuzz target: name and entry point.
pub type Target = (&'static str, fn(&[u8]));

pub const TARGETS: &[Target] = &[
    ("execute", execute),
    ("elf", elf),
    ("fsimage", fsimage),
    ("recording", recording),
    ("virtio", virtio),
];

/// Reads the input front to back; past its end, zeros.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }
    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |v, i| v | (self.u8() as u64) << (8 * i))
    }
}

fn small_machine(image: Image, disk: Option<Vec<u8>>) -> Option<Machine> {
    let config = Config {
        harts: 1,
        ram_mib: 4,
        ..Config::default()
    };
    Machine::new(config, image, disk).ok()
}

/// CSRs the execute target sets from the input before running: translation, delegation,
/// interrupts, vectors, the S/M trap state, envcfg (Sstc), PMP.
const CSRS: &[u16] = &[
    0x300, 0x180, 0x302, 0x303, 0x304, 0x305, 0x105, 0x344, 0x30a, 0x14d, 0x306, 0x106, 0x3a0,
    0x3b0,
];

/// Decode and execute: the input's head gives the privilege mode, the CSRs of [`CSRS`] and
/// x1..x31; the rest is the code (and the page tables it may point `satp` at), loaded at the
/// start of RAM where the hart starts. At most 20,000 cycles run.
pub fn execute(data: &[u8]) {
    let mut b = Bytes(data);
    let mode = match b.u8() % 3 {
        0 => Mode::Machine,
        1 => Mode::Supervisor,
        _ => Mode::User,
    };
    let csrs: Vec<(u16, u64)> = CSRS
        .iter()
        .map(|&c| {
            // Bias toward RAM addresses for satp's root and the vectors.
            let v = b.u64();
            (
                c,
                if b.u8() & 1 == 0 {
                    v
                } else {
                    v & 0xfff | RAM_BASE
                },
            )
        })
        .collect();
    let regs: Vec<u64> = (0..31).map(|_| b.u64()).collect();
    let code = if b.0.is_empty() { &[0u8; 4][..] } else { b.0 };
    let Some(mut m) = small_machine(Image::Raw(code), None) else {
        return;
    };
    let h = &mut m.harts[0];
    for (c, v) in csrs {
        h.csr_write(c, v);
    }
    for (i, v) in regs.into_iter().enumerate() {
        h.x[i + 1] = v;
    }
    h.mode = mode;
    m.run(20_000);
}

/// ELF loading and symbols: the loader (as a kernel image), then the symbol table and DWARF
/// as the debugger reads them, with lookups at a few addresses, then the kernel views'
/// DWARF type walks.
pub fn elf(data: &[u8]) {
    let _ = small_machine(Image::Elf(data), None);
    if let Ok(s) = session::inspect::symbols::Symbols::parse("fuzz", data) {
        let pcs: Vec<u64> = s.symbols().iter().take(16).map(|s| s.addr).collect();
        for pc in pcs.into_iter().chain([0, RAM_BASE, u64::MAX]) {
            let _ = s.frames(pc);
            let _ = s.line(pc);
            let _ = s.describe(pc);
        }
        let _ = s.line_address("main.c", 10);
        let _ = s.lookup("main");
    }
    // The kernel views: the DWARF types of `proc`, `cpus`, `ftable`, `kmem` (member offsets,
    // array lengths, enum values), as the processes pane and `monitor ps` read them.
    let _ = session::inspect::monitor::Views::new(Some(data));
}

/// The xv6 file system reader: open, walk every inode, the tree, every path.
pub fn fsimage(data: &[u8]) {
    let Ok(img) = mkfs::Image::open(data.to_vec()) else {
        return;
    };
    let _ = img.tree();
    let inums: Vec<u32> = img.inodes().map(|(i, _)| i).take(64).collect();
    for i in inums {
        let _ = img.stat(i);
        let _ = img.block_addrs(i);
        let _ = img.read_file(i);
        let _ = img.list_dir(i);
        let _ = img.path_of(i);
    }
    let _ = img.lookup("/a/b/../c");
    let _ = img.pending_log_blocks();
}

/// Recordings: decode; what decodes must encode and decode to the same recording. An input
/// that ends in a checksum section is also decoded with its checksum made right, so that
/// mutations get past it into the sections.
pub fn recording(data: &[u8]) {
    for input in [data, &fix_checksum(data)] {
        if let Ok(r) = session::Recording::decode(input) {
            let again =
                session::Recording::decode(&r.encode()).expect("a re-encoded recording decodes");
            assert_eq!(again, r, "decode(encode(r)) == r");
        }
    }
}

/// `data` with a final checksum section (if it has one) made right: FNV-1a of what precedes
/// it, as `Recording::encode` writes it.
pub fn fix_checksum(data: &[u8]) -> Vec<u8> {
    let mut fixed = data.to_vec();
    let n = fixed.len();
    if n >= 20 && &fixed[n - 20..n - 16] == b"SUM " {
        let sum = fixed[..n - 20]
            .iter()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
            });
        fixed[n - 16..n - 8].copy_from_slice(&8u64.to_le_bytes());
        fixed[n - 8..].copy_from_slice(&sum.to_le_bytes());
    }
    fixed
}

/// virtio descriptor chains from a random guest: RAM (descriptor tables, rings, buffers)
/// from the input, then register writes (offset, value) from its head, notifications
/// included, with the machine running a little after each.
pub fn virtio(data: &[u8]) {
    let _ = virtio_machine(data);
}

/// [`virtio`]'s machine after the input, for tests that look at what the device did.
pub fn virtio_machine(data: &[u8]) -> Option<Machine> {
    let mut b = Bytes(data);
    let writes: Vec<(u64, u64)> = (0..(b.u8() % 24) as usize)
        .map(|_| ((b.u8() as u64 * 4) & 0xffc, b.u64() & 0xffff_ffff))
        .collect();
    // A hart spinning on `j .` while the device works.
    let mut m = small_machine(
        Image::Raw(&0x0000_006fu32.to_le_bytes()),
        Some(vec![0u8; 64 * 512]),
    )?;
    let ram = b.0;
    let _ = m.write_phys(RAM_BASE + 0x1000, &ram[..ram.len().min(1 << 20)]);
    for (off, v) in writes {
        // Queue addresses land in the input's RAM, mostly.
        let v = if matches!(off, 0x40 | 0x80 | 0x90 | 0xa0) && v & 1 == 0 {
            (v & 0xffff) | (RAM_BASE + 0x1000)
        } else {
            v
        };
        let _ = m.bus.store(VIRTIO_BASE + off, 4, v);
        m.run(200);
    }
    m.run(2_000);
    Some(m)
}

/// The seed inputs of `dir` (a missing directory is an empty corpus), sorted by name.
pub fn corpus(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// splitmix64 step.
pub fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// An input: a corpus entry (or random bytes) with 1 to 8 mutations: bit flips, random and
/// "interesting" bytes and words, runs inserted or deleted, truncation, a splice of another
/// entry.
pub fn mutate(seeds: &[Vec<u8>], rng: &mut u64) -> Vec<u8> {
    let mut below = |n: u64| next(rng) % n.max(1);
    let mut v = if seeds.is_empty() || below(16) == 0 {
        (0..below(512)).map(|_| below(256) as u8).collect()
    } else {
        seeds[below(seeds.len() as u64) as usize].clone()
    };
    const WORDS: &[u64] = &[
        0,
        1,
        0x7f,
        0x80,
        0xff,
        0xffff,
        0x7fff_ffff,
        0xffff_ffff,
        u64::MAX,
        1 << 63,
        0x8000_0000,
    ];
    for _ in 0..1 + below(8) {
        let len = v.len() as u64;
        match below(8) {
            0 if len > 0 => {
                let i = below(len) as usize;
                v[i] ^= 1 << below(8);
            }
            1 if len > 0 => {
                let i = below(len) as usize;
                v[i] = below(256) as u8;
            }
            2 if len >= 8 => {
                let i = below(len - 7) as usize;
                let w = WORDS[below(WORDS.len() as u64) as usize];
                let n = [1, 2, 4, 8][below(4) as usize];
                v[i..i + n].copy_from_slice(&w.to_le_bytes()[..n]);
            }
            3 => {
                let at = below(len + 1) as usize;
                let n = below(64) as usize;
                let fill: Vec<u8> = (0..n).map(|_| below(256) as u8).collect();
                v.splice(at..at, fill);
            }
            4 if len > 0 => {
                let at = below(len) as usize;
                let n = (below(64) as usize).min(v.len() - at);
                v.drain(at..at + n);
            }
            5 if len > 0 => v.truncate(below(len) as usize),
            6 if !seeds.is_empty() => {
                let other = &seeds[below(seeds.len() as u64) as usize];
                if !other.is_empty() {
                    let from = below(other.len() as u64) as usize;
                    let n = (below(256) as usize).min(other.len() - from);
                    let at = below(len + 1) as usize;
                    let end = (at + n).min(v.len());
                    v.splice(at..end, other[from..from + n].iter().copied());
                }
            }
            _ => {}
        }
    }
    v
}

/// The seed corpus that is generated rather than found (`xv6scope-fuzz --write-seeds`):
/// (path under corpus/, bytes).
pub fn generated_seeds() -> Vec<(String, Vec<u8>)> {
    use machine::cpu::encode::*;
    let mut out = Vec::new();
    // execute: each mode, CSRs zero or RAM-biased, a few instructions that trap and return.
    let code: Vec<u8> = [
        csrr(A0, 0x300),
        addi(A1, ZERO, 5),
        ECALL,
        lw(A2, A0, 0),
        sd(A1, SP, 8),
        MRET,
        SRET,
        amo(2, false, A3, A0, ZERO),
        FENCE_I,
        SFENCE_VMA,
        jal(ZERO, -40),
    ]
    .iter()
    .flat_map(|w| w.to_le_bytes())
    .collect();
    for mode in 0..3u8 {
        let mut v = vec![mode];
        for (i, _) in CSRS.iter().enumerate() {
            v.extend_from_slice(&(i as u64 * 0x1000).to_le_bytes());
            v.push(mode & 1);
        }
        for r in 0..31u64 {
            v.extend_from_slice(&(0x8000_0000 + r * 8).to_le_bytes());
        }
        v.extend_from_slice(&code);
        out.push((format!("execute/mode{mode}"), v));
    }
    // elf: a minimal kernel ELF (one PT_LOAD at RAM).
    out.push(("elf/minimal".into(), minimal_elf(&code)));
    // fsimage: a small image with a directory and two files.
    let geo = mkfs::Geometry {
        size: 200,
        ninodes: 32,
        nlog: 10,
        ..mkfs::Geometry::default()
    };
    let files = vec![
        ("README".to_string(), b"hello\n".repeat(300)),
        ("_echo".to_string(), vec![0x13; 3000]),
    ];
    if let Ok(img) = mkfs::build_with(geo, &files) {
        out.push(("fsimage/small".into(), img));
    }
    // recording: a raw kernel, one typed line, a console.
    let rec = session::Recording {
        boot: session::Boot {
            kernel: code.clone(),
            raw: true,
            disk: Some(vec![0; 1024]),
            config: Config {
                harts: 1,
                ram_mib: 4,
                ..Config::default()
            },
        },
        events: vec![
            (
                session::Mark {
                    pos: 10,
                    elapsed: 10,
                },
                session::Event::Input(b"ls\n".to_vec()),
            ),
            (
                session::Mark {
                    pos: 20,
                    elapsed: 25,
                },
                session::Event::Step(0),
            ),
            (
                session::Mark {
                    pos: 30,
                    elapsed: 40,
                },
                session::Event::RunHart(0, 7),
            ),
            (
                session::Mark {
                    pos: 40,
                    elapsed: 50,
                },
                session::Event::WriteReg {
                    hart: 0,
                    reg: session::Reg::X(5),
                    value: 7,
                },
            ),
            (
                session::Mark {
                    pos: 50,
                    elapsed: 60,
                },
                session::Event::WritePhys {
                    addr: 0x8000_1000,
                    bytes: vec![1, 2, 3],
                },
            ),
        ],
        end: 100,
        console: b"$ ls\n".to_vec(),
        net: false,
    };
    out.push(("recording/small".into(), rec.encode()));
    // virtio: the modern device set up with one read request (header, data, status).
    let mut v = Vec::new();
    let regs: &[(u64, u64)] = &[
        (0x070, 1),
        (0x070, 3),
        (0x020, 0),
        (0x070, 11),
        (0x030, 0),
        (0x038, 8),
        (0x080, 0),
        (0x090, 0x80),
        (0x0a0, 0x100),
        (0x044, 1),
        (0x070, 15),
        (0x050, 0),
    ];
    v.push(regs.len() as u8);
    for &(off, val) in regs {
        v.push((off / 4) as u8);
        v.extend_from_slice(&val.to_le_bytes());
    }
    let mut ram = vec![0u8; 0x2300];
    let desc = |ram: &mut Vec<u8>, i: usize, addr: u64, len: u32, flags: u16, next: u16| {
        let d = &mut ram[i * 16..i * 16 + 16];
        d[0..8].copy_from_slice(&addr.to_le_bytes());
        d[8..12].copy_from_slice(&len.to_le_bytes());
        d[12..14].copy_from_slice(&flags.to_le_bytes());
        d[14..16].copy_from_slice(&next.to_le_bytes());
    };
    desc(&mut ram, 0, RAM_BASE + 0x3000, 16, 1, 1);
    desc(&mut ram, 1, RAM_BASE + 0x3100, 512, 3, 2);
    desc(&mut ram, 2, RAM_BASE + 0x3300, 1, 2, 0);
    ram[0x82..0x84].copy_from_slice(&1u16.to_le_bytes()); // avail.idx = 1, ring[0] = 0
    v.extend_from_slice(&ram);
    out.push(("virtio/read".into(), v));
    out
}

fn minimal_elf(code: &[u8]) -> Vec<u8> {
    let mut e = Vec::new();
    e.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    e.extend_from_slice(&2u16.to_le_bytes());
    e.extend_from_slice(&243u16.to_le_bytes());
    e.extend_from_slice(&1u32.to_le_bytes());
    e.extend_from_slice(&RAM_BASE.to_le_bytes());
    e.extend_from_slice(&64u64.to_le_bytes());
    e.extend_from_slice(&0u64.to_le_bytes());
    e.extend_from_slice(&0u32.to_le_bytes());
    for v in [64u16, 56, 1, 64, 0, 0] {
        e.extend_from_slice(&v.to_le_bytes());
    }
    e.extend_from_slice(&1u32.to_le_bytes());
    e.extend_from_slice(&7u32.to_le_bytes());
    for v in [
        120u64,
        RAM_BASE,
        RAM_BASE,
        code.len() as u64,
        code.len() as u64,
        8,
    ] {
        e.extend_from_slice(&v.to_le_bytes());
    }
    e.extend_from_slice(code);
    e
}
