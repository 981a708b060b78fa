//! How the syscall tracer shows arguments and results, by the shared table's [`Arg`] kinds:
//! integers in decimal, addresses in hex, strings and argv arrays read through the caller's
//! page table (U pages only, as the kernel's `copyin` would), buffers up to 32 bytes with C
//! escapes, `O_*` flags by name, the trace mask with the names of the calls it selects (by
//! the kernel's own numbers), `mmap`'s protection and flags by their `PROT_*`/`MAP_*`
//! names, and filled structures (`pipe`'s fds, `wait`'s status, `struct stat`, `struct
//! sysinfo`, `pgaccess`'s bitmask) at return. An unreadable pointer shows as its address: the guest's bad pointer
//! is data here.

use super::PhysMem;
use super::pagetable::read_virt;
use super::syscall_table::SyscallTable;
use abi::syscall::{Arg, Syscall};

/// Bytes of a buffer shown.
const SHOW_BYTES: usize = 32;
/// Longest string argument read.
const MAX_STR: usize = 128;

fn read_user(mem: &dyn PhysMem, root: u64, va: u64, len: usize) -> Option<Vec<u8>> {
    let mut b = vec![0u8; len];
    read_virt(mem, root, va, &mut b, true).then_some(b)
}

/// A NUL-terminated user string, read a byte at a time up to [`MAX_STR`].
fn user_str(mem: &dyn PhysMem, root: u64, va: u64) -> Option<String> {
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    while out.len() < MAX_STR {
        if !read_virt(mem, root, va + out.len() as u64, &mut b, true) {
            return None;
        }
        if b[0] == 0 {
            return Some(format!("\"{}\"", super::escape(&out)));
        }
        out.push(b[0]);
    }
    Some(format!("\"{}\"...", super::escape(&out)))
}

fn show_bytes(b: &[u8], total: u64) -> String {
    let more = if (b.len() as u64) < total { "..." } else { "" };
    format!("\"{}\"{more}", super::escape(b))
}

/// Argument `i` of call `sc` at entry: by its kind, except the arguments the shared table
/// calls plain integers that a call gives a meaning (`mmap`'s prot and flags).
pub(super) fn show_call_arg(
    mem: &dyn PhysMem,
    root: u64,
    table: &SyscallTable,
    sc: &Syscall,
    i: usize,
    v: u64,
    next: u64,
) -> String {
    match (sc.name, i) {
        ("mmap", 2) => prot_flags(v as i32),
        ("mmap", 3) => map_flags(v as i32),
        _ => show_arg(mem, root, table, sc.args[i], v, next),
    }
}

/// `PROT_READ|PROT_WRITE`... (mmap lab's `kernel/fcntl.h`).
pub fn prot_flags(p: i32) -> String {
    use abi::fcntl::{PROT_EXEC, PROT_READ, PROT_WRITE};
    names_of(
        p,
        &[
            (PROT_READ, "PROT_READ"),
            (PROT_WRITE, "PROT_WRITE"),
            (PROT_EXEC, "PROT_EXEC"),
        ],
        "PROT_NONE",
    )
}

/// `MAP_SHARED`, `MAP_PRIVATE`.
pub fn map_flags(f: i32) -> String {
    use abi::fcntl::{MAP_PRIVATE, MAP_SHARED};
    names_of(
        f,
        &[(MAP_SHARED, "MAP_SHARED"), (MAP_PRIVATE, "MAP_PRIVATE")],
        "0",
    )
}

fn names_of(v: i32, bits: &[(i32, &str)], zero: &str) -> String {
    let mut parts: Vec<String> = bits
        .iter()
        .filter(|(b, _)| v & b != 0)
        .map(|(_, n)| n.to_string())
        .collect();
    let rest = bits.iter().fold(v, |r, (b, _)| r & !b);
    if rest != 0 {
        parts.push(format!("{rest:#x}"));
    }
    if parts.is_empty() {
        zero.to_string()
    } else {
        parts.join("|")
    }
}

/// An argument at entry.
pub(super) fn show_arg(
    mem: &dyn PhysMem,
    root: u64,
    table: &SyscallTable,
    kind: Arg,
    v: u64,
    next: u64,
) -> String {
    match kind {
        Arg::Int | Arg::Fd | Arg::Pid => (v as i32).to_string(),
        Arg::Addr
        | Arg::BufOut
        | Arg::StatusOut
        | Arg::PipeOut
        | Arg::StatOut
        | Arg::SysinfoOut => {
            format!("{v:#x}")
        }
        Arg::Str => user_str(mem, root, v).unwrap_or_else(|| format!("{v:#x}")),
        Arg::Argv => {
            let mut items = Vec::new();
            for i in 0..abi::param::MAXARG as u64 {
                let Some(p) = read_user(mem, root, v + 8 * i, 8) else {
                    return format!("{v:#x}");
                };
                let p = u64::from_le_bytes(p.try_into().unwrap_or([0; 8]));
                if p == 0 {
                    break;
                }
                items.push(user_str(mem, root, p).unwrap_or_else(|| format!("{p:#x}")));
            }
            format!("[{}]", items.join(", "))
        }
        Arg::BufIn => {
            let n = (next as i32).clamp(0, SHOW_BYTES as i32) as usize;
            match read_user(mem, root, v, n) {
                Some(b) => show_bytes(&b, next as i32 as u64),
                None => format!("{v:#x}"),
            }
        }
        Arg::OpenFlags => open_flags(v as i32),
        Arg::Mask => {
            let names: Vec<&str> = table
                .calls()
                .iter()
                .filter(|s| s.nr < 64 && v >> s.nr & 1 != 0)
                .map(|s| s.name.as_str())
                .collect();
            if names.is_empty() {
                v.to_string()
            } else {
                format!("{v} /* {} */", names.join("|"))
            }
        }
    }
}

/// What a call fills for its caller, shown at its return instead of the pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Out {
    /// A buffer or structure of an [`Arg`] kind.
    Arg(Arg),
    /// pgaccess's bitmask: one bit per page, as many pages as the call's second argument.
    Bits,
}

/// Whether argument `i` of `sc` is filled by the call: how to show it, and the length that
/// goes with it.
pub(super) fn call_out(sc: &Syscall, i: usize, args: &[u64; 6]) -> Option<(Out, u64)> {
    let next = args.get(i + 1).copied().unwrap_or(0);
    match (sc.name, i, sc.args.get(i)?) {
        ("pgaccess", 2, _) => Some((Out::Bits, args[1])),
        (
            _,
            _,
            k @ (Arg::BufOut | Arg::StatusOut | Arg::PipeOut | Arg::StatOut | Arg::SysinfoOut),
        ) => Some((Out::Arg(*k), next)),
        _ => None,
    }
}

/// A filled buffer at return, when the call succeeded.
pub(super) fn show_out(
    mem: &dyn PhysMem,
    root: u64,
    out: Out,
    addr: u64,
    len: u64,
    result: i64,
) -> Option<String> {
    if (result as i32) < 0 || addr == 0 {
        return None;
    }
    let kind = match out {
        Out::Arg(k) => k,
        Out::Bits => {
            // At most 64 pages shown (MIT's pgtbltest asks for 32).
            let n = (len.min(64) as usize).div_ceil(8);
            let b = read_user(mem, root, addr, n.max(1))?;
            let mut w = [0u8; 8];
            w[..b.len()].copy_from_slice(&b);
            return Some(format!("[{:#x}]", u64::from_le_bytes(w)));
        }
    };
    let i32_at = |b: &[u8], o: usize| i32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let u64_at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    match kind {
        Arg::BufOut => {
            let n = (result as usize).min(SHOW_BYTES).min(len as usize);
            read_user(mem, root, addr, n).map(|b| show_bytes(&b, result as u64))
        }
        Arg::StatusOut => read_user(mem, root, addr, 4).map(|b| format!("[{}]", i32_at(&b, 0))),
        Arg::PipeOut => {
            read_user(mem, root, addr, 8).map(|b| format!("[{}, {}]", i32_at(&b, 0), i32_at(&b, 4)))
        }
        Arg::StatOut => {
            // struct stat: dev i32 @0, ino u32 @4, type i16 @8, nlink i16 @10, size u64 @16.
            let b = read_user(mem, root, addr, 24)?;
            let typ = i16::from_le_bytes([b[8], b[9]]);
            let nlink = i16::from_le_bytes([b[10], b[11]]);
            Some(format!(
                "{{dev={}, ino={}, type={typ}, nlink={nlink}, size={}}}",
                i32_at(&b, 0),
                i32_at(&b, 4) as u32,
                u64_at(&b, 16)
            ))
        }
        Arg::SysinfoOut => {
            let b = read_user(mem, root, addr, 16)?;
            Some(format!(
                "{{freemem={}, nproc={}}}",
                u64_at(&b, 0),
                u64_at(&b, 8)
            ))
        }
        _ => None,
    }
}

/// `O_RDONLY`, `O_CREATE|O_WRONLY`...
pub fn open_flags(f: i32) -> String {
    use abi::fcntl::*;
    let mut parts = vec![match f & 3 {
        O_WRONLY => "O_WRONLY".to_string(),
        O_RDWR => "O_RDWR".to_string(),
        O_RDONLY => "O_RDONLY".to_string(),
        _ => "3".to_string(),
    }];
    if f & O_CREATE != 0 {
        parts.push("O_CREATE".into());
    }
    if f & O_TRUNC != 0 {
        parts.push("O_TRUNC".into());
    }
    let rest = f & !(3 | O_CREATE | O_TRUNC);
    if rest != 0 {
        parts.push(format!("{rest:#x}"));
    }
    parts.join("|")
}
