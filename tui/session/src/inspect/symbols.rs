//! Symbols and source for the kernel and user programs: ELF symbols (`object`), pc →
//! function, file:line and inlined frames (`addr2line` over `gimli`), and disassembly (the
//! cpu's decoder) labelled with symbols where no source exists.
//!
//! Interface:
//! - [`Symbols::parse`]`(name, elf bytes)` / [`Symbols::load`]`(path)`: one ELF. Its function
//!   and object symbols are kept sorted by address ([`Symbols::symbol_at`], [`Symbols::lookup`]);
//!   its DWARF, if any, answers [`Symbols::frames`] and is shared with [`super::dwarf`].
//! - [`Symbols::describe`]: `sys_fork+0x1c (kernel/sysproc.c:29)`, the one-line form used by
//!   traces, the TUI and gdb.
//! - [`SymbolSet`]: the kernel's symbols plus user programs' by name. MIT's build names user
//!   ELFs `_sh`, `_ls`…; [`SymbolSet::add_user_dir`] strips the leading `_` so a process called
//!   `sh` finds `_sh`.
//! - [`disasm`]: instructions at a pc through a memory reader, with `<symbol+off>` labels.
//!
//! Invariant: a malformed or stripped ELF gives an error or an empty view, never a panic;
//! missing DWARF only means no file:line.

use addr2line::Context;
use gimli::{EndianArcSlice, RunTimeEndian};
use machine::cpu::decode;
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The DWARF reader type used by the debugger: owned, reference-counted section data.
pub type Reader = EndianArcSlice<RunTimeEndian>;

/// An error reading symbols.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymError(pub String);

impl std::fmt::Display for SymError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SymError {}

/// One ELF symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sym {
    pub addr: u64,
    pub size: u64,
    /// Demangled for Rust symbols.
    pub name: String,
    pub is_function: bool,
}

/// One frame at a pc: the innermost (possibly inlined) function first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub function: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// True for every frame but the last (the real, not inlined, function).
    pub inlined: bool,
}

impl Frame {
    /// `file:line`, with the file name shortened to its last two components.
    pub fn location(&self) -> Option<String> {
        let file = self.file.as_deref()?;
        let short = short_path(file);
        Some(match self.line {
            Some(l) => format!("{short}:{l}"),
            None => short,
        })
    }
}

/// The last two components of a path (`kernel/proc.c`), which is how people name files.
pub fn short_path(p: &str) -> String {
    let parts: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
    match parts.len() {
        0 => p.to_string(),
        1 => parts[0].to_string(),
        n => format!("{}/{}", parts[n - 2], parts[n - 1]),
    }
}

/// Symbols and debug information of one ELF file.
pub struct Symbols {
    /// What this ELF is called (`kernel`, `sh`...).
    pub name: String,
    /// Entry point.
    pub entry: u64,
    syms: Vec<Sym>,
    dwarf: Option<Arc<gimli::Dwarf<Reader>>>,
    ctx: Option<Context<Reader>>,
}

impl std::fmt::Debug for Symbols {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Symbols")
            .field("name", &self.name)
            .field("symbols", &self.syms.len())
            .field("dwarf", &self.dwarf.is_some())
            .finish()
    }
}

fn demangle(name: &str) -> String {
    match rustc_demangle_name(name) {
        Some(d) => d,
        None => name.to_string(),
    }
}

/// Rust symbol names demangled without the hash suffix; None for other names.
fn rustc_demangle_name(name: &str) -> Option<String> {
    let d = addr2line::demangle(name, gimli::DW_LANG_Rust)?;
    // `{:#}` of rustc-demangle drops the hash; addr2line gives the full form: strip it.
    Some(match d.rfind("::h") {
        Some(i) if d[i + 3..].len() == 16 && d[i + 3..].bytes().all(|b| b.is_ascii_hexdigit()) => {
            d[..i].to_string()
        }
        _ => d,
    })
}

/// Which DWARF section a parse error comes from: unit headers and entries live in
/// .debug_info, their shapes in .debug_abbrev; anything else is reported as the DWARF set.
fn corrupt_dwarf_section(dwarf: &gimli::Dwarf<Reader>) -> &'static str {
    let mut units = dwarf.units();
    loop {
        match units.next() {
            Err(_) => return ".debug_info",
            Ok(None) => return ".debug_* (DWARF)",
            Ok(Some(header)) => {
                if dwarf.abbreviations(&header).is_err() {
                    return ".debug_abbrev";
                }
                let Ok(unit) = dwarf.unit(header) else {
                    return ".debug_info";
                };
                let mut entries = unit.entries();
                loop {
                    match entries.next_dfs() {
                        Err(_) => return ".debug_info",
                        Ok(None) => break,
                        Ok(Some(_)) => {}
                    }
                }
            }
        }
    }
}

impl Symbols {
    /// Parses an ELF file's symbols and DWARF. A file without DWARF still gives symbols.
    pub fn parse(name: &str, elf: &[u8]) -> Result<Symbols, SymError> {
        let file = object::File::parse(elf)
            .map_err(|e| SymError(format!("{name}: not an ELF file: {e}")))?;
        // A name outside the string table means a corrupt .symtab: say so rather than drop
        // the symbol and leave the trampoline, `proc`... unfound for a reason nobody sees.
        if let Some((i, e)) = file
            .symbols()
            .find_map(|s| s.name_bytes().err().map(|e| (s.index().0, e)))
        {
            return Err(SymError(format!(
                "{name}: section .symtab is corrupt: symbol {i}: {e}"
            )));
        }
        let mut syms: Vec<Sym> = file
            .symbols()
            .filter(|s| {
                matches!(
                    s.kind(),
                    SymbolKind::Text | SymbolKind::Data | SymbolKind::Unknown
                )
            })
            .filter(|s| s.is_definition() || s.kind() == SymbolKind::Unknown)
            .filter_map(|s| {
                let n = s.name().ok()?;
                // Local labels ($x, .L...) and section markers say nothing to a person.
                if n.is_empty() || n.starts_with('$') || n.starts_with(".L") {
                    return None;
                }
                Some(Sym {
                    addr: s.address(),
                    size: s.size(),
                    name: demangle(n),
                    is_function: s.kind() == SymbolKind::Text,
                })
            })
            .collect();
        syms.sort_by(|a, b| a.addr.cmp(&b.addr).then(b.size.cmp(&a.size)));
        syms.dedup_by(|a, b| a.addr == b.addr && a.name == b.name);
        let endian = if file.is_little_endian() {
            RunTimeEndian::Little
        } else {
            RunTimeEndian::Big
        };
        let has_dwarf = file.section_by_name(".debug_info").is_some();
        let (dwarf, ctx) = if has_dwarf {
            let load = |id: gimli::SectionId| -> Result<Reader, SymError> {
                let data: Cow<[u8]> = match file.section_by_name(id.name()) {
                    Some(s) => s
                        .uncompressed_data()
                        .map_err(|e| SymError(format!("{name}: section {}: {e}", id.name())))?,
                    None => Cow::Borrowed(&[]),
                };
                Ok(EndianArcSlice::new(Arc::from(&*data), endian))
            };
            let dwarf = Arc::new(gimli::Dwarf::load(load)?);
            let ctx = Context::from_arc_dwarf(dwarf.clone()).map_err(|e| {
                SymError(format!(
                    "{name}: section {} is corrupt: {e}",
                    corrupt_dwarf_section(&dwarf)
                ))
            })?;
            (Some(dwarf), Some(ctx))
        } else {
            (None, None)
        };
        Ok(Symbols {
            name: name.to_string(),
            entry: file.entry(),
            syms,
            dwarf,
            ctx,
        })
    }

    /// Reads and parses the ELF at `path`.
    pub fn load(name: &str, path: &Path) -> Result<Symbols, SymError> {
        let bytes =
            std::fs::read(path).map_err(|e| SymError(format!("{}: {e}", path.display())))?;
        Symbols::parse(name, &bytes)
    }

    /// All symbols, sorted by address.
    pub fn symbols(&self) -> &[Sym] {
        &self.syms
    }

    /// The DWARF sections, for [`super::dwarf`].
    pub fn dwarf(&self) -> Option<&gimli::Dwarf<Reader>> {
        self.dwarf.as_deref()
    }

    /// The symbol named `name` (exact, after demangling; or its last `::` component).
    pub fn lookup(&self, name: &str) -> Option<&Sym> {
        self.syms.iter().find(|s| s.name == name).or_else(|| {
            self.syms
                .iter()
                .filter(|s| s.is_function)
                .find(|s| s.name.rsplit("::").next() == Some(name))
        })
    }

    /// The symbol containing `addr` and the offset into it. A symbol of size 0 (an assembly
    /// label) covers `addr` if it is the closest one below and within 64 KiB.
    pub fn symbol_at(&self, addr: u64) -> Option<(&Sym, u64)> {
        let i = self.syms.partition_point(|s| s.addr <= addr);
        let mut best: Option<&Sym> = None;
        for s in self.syms[..i].iter().rev() {
            let off = addr - s.addr;
            if off < s.size {
                return Some((s, off));
            }
            if s.size == 0 && off < 0x10000 && best.is_none() {
                best = Some(s);
            }
            if off >= 0x10000 {
                break;
            }
        }
        best.filter(|s| s.is_function || s.size == 0)
            .map(|s| (s, addr - s.addr))
    }

    /// Frames at `pc`, innermost first (inlined functions, then the real function). Empty
    /// when the ELF has no DWARF for `pc`.
    pub fn frames(&self, pc: u64) -> Vec<Frame> {
        let Some(ctx) = &self.ctx else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Ok(mut it) = ctx.find_frames(pc).skip_all_loads() {
            while let Ok(Some(f)) = it.next() {
                let function = f
                    .function
                    .as_ref()
                    .and_then(|n| n.demangle().ok())
                    .map(|n| n.into_owned());
                let (file, line) = match &f.location {
                    Some(l) => (l.file.map(str::to_string), l.line),
                    None => (None, None),
                };
                out.push(Frame {
                    function,
                    file,
                    line,
                    inlined: true,
                });
                if out.len() > 64 {
                    break;
                }
            }
        }
        if let Some(last) = out.last_mut() {
            last.inlined = false;
        }
        out
    }

    /// Source file and line of `pc`, outermost-inlined-away (the line the pc really is on).
    pub fn line(&self, pc: u64) -> Option<(String, u32)> {
        let ctx = self.ctx.as_ref()?;
        let l = ctx.find_location(pc).ok()??;
        Some((l.file?.to_string(), l.line?))
    }

    /// The lowest address of a function whose line is `file:line` (`file` matches the end of
    /// the path: `sysfile.rs` or `kernel/sysfile.rs`), for `break FILE:LINE`: the first
    /// two-byte granule (the compressed-instruction granule, ISA spec §1.5) from a function
    /// symbol's start that the line table puts on that line. The table's rows within the
    /// function are visited, not every granule, so a corrupt symbol size (up to 2^64) costs
    /// what the table holds rather than what the size claims.
    pub fn line_address(&self, file: &str, line: u32) -> Option<u64> {
        let ctx = self.ctx.as_ref()?;
        let suffix = format!("/{file}");
        let mut best: Option<u64> = None;
        for s in self
            .symbols()
            .iter()
            .filter(|s| s.is_function && s.size > 0)
        {
            let end = s.addr.saturating_add(s.size);
            let Ok(rows) = ctx.find_location_range(s.addr, end) else {
                continue;
            };
            for (addr, len, loc) in rows {
                let (Some(f), Some(l)) = (loc.file, loc.line) else {
                    continue;
                };
                if l != line || !(f == file || f.ends_with(&suffix)) {
                    continue;
                }
                let from = addr.max(s.addr);
                let pc = s.addr.saturating_add((from - s.addr).next_multiple_of(2));
                if pc < addr.saturating_add(len) && pc < end {
                    best = Some(best.map_or(pc, |b| b.min(pc)));
                }
            }
        }
        best
    }

    /// `symbol+0xoff (file:line)`, or `0xaddr` when nothing is known.
    pub fn describe(&self, pc: u64) -> String {
        let mut s = match self.symbol_at(pc) {
            Some((sym, 0)) => sym.name.clone(),
            Some((sym, off)) => format!("{}+{off:#x}", sym.name),
            None => format!("{pc:#x}"),
        };
        if let Some((file, line)) = self.line(pc) {
            s.push_str(&format!(" ({}:{line})", short_path(&file)));
        }
        s
    }
}

/// The kernel's symbols and user programs' symbols by program name.
#[derive(Debug, Default)]
pub struct SymbolSet {
    pub kernel: Option<Symbols>,
    pub users: HashMap<String, Symbols>,
}

impl SymbolSet {
    /// The program name an ELF file name stands for: MIT's `_sh` is `sh`.
    pub fn program_name(file_name: &str) -> &str {
        file_name.strip_prefix('_').unwrap_or(file_name)
    }

    /// Adds every ELF executable in `dir` (other files are skipped); returns how many were
    /// added. `--user-dir DIR` of the CLI lands here.
    pub fn add_user_dir(&mut self, dir: &Path) -> Result<usize, SymError> {
        let rd = std::fs::read_dir(dir).map_err(|e| SymError(format!("{}: {e}", dir.display())))?;
        let mut n = 0;
        for ent in rd.flatten() {
            let path = ent.path();
            let Some(fname) = path.file_name().and_then(|f| f.to_str()) else {
                continue;
            };
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            // Executables only (e_type ET_EXEC = 2): a build directory also holds objects.
            if !bytes.starts_with(b"\x7fELF") || bytes.get(16..18) != Some(&[2, 0]) {
                continue;
            }
            let prog = Self::program_name(fname).to_string();
            if let Ok(s) = Symbols::parse(&prog, &bytes) {
                self.users.insert(prog, s);
                n += 1;
            }
        }
        Ok(n)
    }

    /// Adds every ELF program in the root directory of an xv6 disk image (the programs the
    /// guest runs, with whatever symbols they kept); returns how many.
    pub fn add_users_from_disk(&mut self, disk: &[u8]) -> usize {
        let mut n = 0;
        for (name, elf) in super::fsimage::root_elfs(disk) {
            if self.add_user(&name, &elf).is_ok() {
                n += 1;
            }
        }
        n
    }

    /// Adds one user program from its ELF bytes (e.g. read out of fs.img).
    pub fn add_user(&mut self, file_name: &str, elf: &[u8]) -> Result<(), SymError> {
        let prog = Self::program_name(file_name).to_string();
        let s = Symbols::parse(&prog, elf)?;
        self.users.insert(prog, s);
        Ok(())
    }

    /// The symbols that explain `pc`: the kernel's when `user` is false, else those of the
    /// program called `proc_name` (the process's `name` field, which exec sets from the path).
    pub fn for_pc(&self, pc: u64, user: bool, proc_name: Option<&str>) -> Option<&Symbols> {
        let _ = pc;
        if user {
            self.users.get(Self::program_name(proc_name?))
        } else {
            self.kernel.as_ref()
        }
    }

    /// `describe` with the right ELF, or the bare address.
    pub fn describe(&self, pc: u64, user: bool, proc_name: Option<&str>) -> String {
        match self.for_pc(pc, user, proc_name) {
            Some(s) => s.describe(pc),
            None => format!("{pc:#x}"),
        }
    }
}

/// Disassembles `count` instructions from `pc`, reading code with `read` (virtual or physical
/// as the caller decides). Each line: address, `<symbol+off>` when known, raw bits, text.
/// Stops early at unreadable memory.
pub fn disasm(
    read: &dyn Fn(u64, &mut [u8]) -> bool,
    pc: u64,
    count: usize,
    syms: Option<&Symbols>,
) -> Vec<String> {
    let mut lines = Vec::new();
    let mut at = pc;
    for _ in 0..count {
        let mut lo = [0u8; 2];
        if !read(at, &mut lo) {
            lines.push(format!("{at:#018x}  <unreadable>"));
            break;
        }
        let half = u16::from_le_bytes(lo) as u32;
        // Bits 1..0 = 11 mark a 32-bit instruction (ISA spec §1.5).
        let raw = if half & 3 == 3 {
            let mut hi = [0u8; 2];
            if !read(at + 2, &mut hi) {
                lines.push(format!("{at:#018x}  <unreadable>"));
                break;
            }
            half | (u16::from_le_bytes(hi) as u32) << 16
        } else {
            half
        };
        let inst = decode::decode(raw);
        let label = match syms.and_then(|s| s.symbol_at(at)) {
            Some((s, 0)) => format!(" <{}>", s.name),
            Some((s, off)) => format!(" <{}+{off:#x}>", s.name),
            None => String::new(),
        };
        let bits = if inst.len == 2 {
            format!("{raw:04x}    ")
        } else {
            format!("{raw:08x}")
        };
        lines.push(format!(
            "{at:#018x}{label:<24}  {bits}  {}",
            inst.disasm(at)
        ));
        at += inst.len.max(2) as u64;
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mit(rel: &str) -> Option<Vec<u8>> {
        let path = crate::inspect::testboot::mit_dir()?.join(rel);
        Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
    }

    #[test]
    fn views_can_move_to_the_emulator_thread() {
        fn send<T: Send>() {}
        send::<Symbols>();
        send::<SymbolSet>();
        send::<crate::inspect::monitor::Views>();
    }

    /// `line_address` as it was: every two-byte granule of every function, in order. Exact,
    /// and unbounded on a corrupt symbol size (fuzzing found a kernel ELF it never finished).
    fn line_address_by_scan(k: &Symbols, file: &str, line: u32) -> Option<u64> {
        let suffix = format!("/{file}");
        let mut best: Option<u64> = None;
        for s in k.symbols().iter().filter(|s| s.is_function && s.size > 0) {
            let mut pc = s.addr;
            while pc < s.addr + s.size {
                if let Some((f, l)) = k.line(pc)
                    && l == line
                    && (f == file || f.ends_with(&suffix))
                {
                    best = Some(best.map_or(pc, |b| b.min(pc)));
                    break;
                }
                pc += 2;
            }
        }
        best
    }

    #[test]
    fn line_address_walks_the_line_table_with_the_scans_answers() {
        let kernels = [
            crate::inspect::testboot::rust_kernel_path().map(|p| std::fs::read(p).unwrap()),
            mit("kernel/kernel"),
        ];
        for elf in kernels.into_iter().flatten() {
            let k = Symbols::parse("kernel", &elf).expect("parses");
            // Every 16th function: the lines of its first granules, and a line past them.
            let mut checked = 0;
            for s in k.symbols().iter().filter(|s| s.is_function).step_by(16) {
                for pc in (s.addr..s.addr + s.size.min(64)).step_by(2) {
                    let Some((file, line)) = k.line(pc) else {
                        continue;
                    };
                    let short = file.rsplit('/').next().unwrap().to_string();
                    for l in [line, line + 1] {
                        assert_eq!(
                            k.line_address(&short, l),
                            line_address_by_scan(&k, &short, l),
                            "{short}:{l}"
                        );
                        checked += 1;
                    }
                }
            }
            assert!(checked > 50, "{checked} lines checked");
        }
    }

    #[test]
    fn not_an_elf_is_an_error() {
        assert!(Symbols::parse("x", b"hello").is_err());
        assert!(Symbols::parse("x", &[]).is_err());
    }

    #[test]
    fn short_paths() {
        assert_eq!(short_path("/a/b/kernel/proc.c"), "kernel/proc.c");
        assert_eq!(short_path("proc.c"), "proc.c");
        assert_eq!(SymbolSet::program_name("_sh"), "sh");
        assert_eq!(SymbolSet::program_name("sh"), "sh");
    }

    #[test]
    fn disasm_reads_compressed_and_full() {
        // c.addi sp,-16 (0x1141), then addi a0,zero,1 (0x00100513).
        let code = [0x41u8, 0x11, 0x13, 0x05, 0x10, 0x00];
        let read = |a: u64, b: &mut [u8]| -> bool {
            let off = (a - 0x1000) as usize;
            match code.get(off..off + b.len()) {
                Some(s) => {
                    b.copy_from_slice(s);
                    true
                }
                None => false,
            }
        };
        let lines = disasm(&read, 0x1000, 3, None);
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0].split_whitespace().take(2).collect::<Vec<_>>(),
            ["0x0000000000001000", "1141"],
            "{}",
            lines[0]
        );
        assert!(lines[0].contains("sp"), "{}", lines[0]);
        assert!(lines[1].contains("00100513"), "{}", lines[1]);
        assert!(lines[1].contains("a0"), "{}", lines[1]);
        assert!(lines[2].ends_with("<unreadable>"));
    }

    #[test]
    fn mit_kernel_symbols_and_lines() {
        let Some(elf) = mit("kernel/kernel") else {
            return;
        };
        let s = Symbols::parse("kernel", &elf).expect("MIT kernel parses");
        let fork = s.lookup("fork").expect("fork symbol").clone();
        assert!(fork.is_function && fork.size > 0);
        let (at, off) = s.symbol_at(fork.addr + 4).unwrap();
        assert_eq!((at.name.as_str(), off), ("fork", 4));
        let frames = s.frames(fork.addr + 4);
        assert!(!frames.is_empty());
        let last = frames.last().unwrap();
        assert_eq!(last.function.as_deref(), Some("fork"));
        assert!(
            last.location().unwrap().starts_with("kernel/proc.c:"),
            "{last:?}"
        );
        let d = s.describe(fork.addr + 4);
        assert!(d.starts_with("fork+0x4 (kernel/proc.c:"), "{d}");
        assert_eq!(s.lookup("_entry").map(|e| e.addr), Some(0x8000_0000));
        assert!(s.dwarf().is_some());
    }

    #[test]
    fn mit_user_dir_names_programs() {
        let Some(dir) = crate::inspect::testboot::mit_dir() else {
            return;
        };
        let mut set = SymbolSet::default();
        let n = set.add_user_dir(&Path::new(&dir).join("user")).unwrap();
        assert!(n >= 10, "{n} user ELFs");
        let sh = set.for_pc(0, true, Some("sh")).expect("sh from _sh");
        let mut from_disk = SymbolSet::default();
        let img = std::fs::read(Path::new(&dir).join("fs.img")).unwrap();
        // MIT's mkfs copies the `_NAME` programs (not initcode.out, also an executable).
        let underscored = n - set.users.contains_key("initcode.out") as usize;
        assert_eq!(
            from_disk.add_users_from_disk(&img),
            underscored,
            "the same programs on fs.img"
        );
        assert!(from_disk.users["sh"].lookup("main").is_some());
        let main = sh.lookup("main").expect("sh has main");
        assert!(
            set.describe(main.addr, true, Some("sh"))
                .starts_with("main (user/sh.c:")
        );
    }

    #[test]
    fn rust_kernel_symbols() {
        let Some(path) = crate::inspect::testboot::rust_kernel_path() else {
            return;
        };
        let elf = std::fs::read(&path).unwrap();
        let s = Symbols::parse("kernel", &elf).unwrap();
        let e = s.lookup("_entry").expect("_entry");
        assert_eq!(e.addr, 0x8000_0000);
        let f = s
            .lookup("fork")
            .or_else(|| s.lookup("sys_fork"))
            .expect("fork");
        let d = s.describe(f.addr);
        assert!(d.contains(".rs:"), "{d}");
    }
}
