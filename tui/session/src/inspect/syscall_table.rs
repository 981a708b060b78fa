//! Which system call each number is, read from the kernel itself.
//!
//! The labs leave the numbers of their calls to the student: on one tree `sigalarm` is 22, on
//! another 24, and `trace` may be missing. A C xv6 dispatches through a static array of
//! function pointers indexed by number (`static uint64 (*syscalls[])(void) = { [SYS_fork]
//! sys_fork, ... }` in kernel/syscall.c), so the array in the ELF's `.data` names every
//! number the kernel knows: [`SyscallTable::of_kernel`] reads it and names each slot by the
//! `sys_NAME` function its pointer is the address of. A kernel without the array (the
//! bundled Rust kernel dispatches with a `match` generated from `abi::syscall`) gets the
//! shared table, whose numbers it uses.
//!
//! Arguments are decoded by name: a call whose name is in the shared table (the labs' calls
//! included) takes that row's argument kinds, whatever its number on this kernel; any
//! other call shows its six argument registers raw.
//!
//! Invariant: the table is read from the ELF file once, before the guest runs, so a guest
//! that overwrites its own array (it is writable data) cannot change what the trace calls
//! things; a malformed array (pointers that are not `sys_*` functions) is not trusted and the
//! shared table is used instead.

use super::symbols::Symbols;
use abi::syscall::{SYSCALLS, Syscall};
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

/// Most slots read from a kernel's array (xv6 has about 30; anything past this is not a
/// syscall table).
const MAX_SLOTS: u64 = 1024;

/// One system call a kernel knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub nr: u64,
    /// The handler's name without `sys_` (`sigalarm`).
    pub name: String,
    /// The shared table's row of that name: how to show the arguments and the result.
    pub row: Option<&'static Syscall>,
}

/// Where a table came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The shared table (`abi::syscall`): the bundled kernel, or a kernel without `syscalls[]`.
    Shared,
    /// The kernel's own `syscalls[]`.
    Kernel,
}

/// Number → call, for one kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyscallTable {
    calls: Vec<Call>,
    pub source: Source,
}

impl Default for SyscallTable {
    fn default() -> Self {
        SyscallTable::shared()
    }
}

impl SyscallTable {
    /// The shared table: the bundled kernel's numbers.
    pub fn shared() -> SyscallTable {
        SyscallTable {
            calls: SYSCALLS
                .iter()
                .map(|s| Call {
                    nr: s.nr as u64,
                    name: s.name.to_string(),
                    row: Some(s),
                })
                .collect(),
            source: Source::Shared,
        }
    }

    /// The table of the kernel ELF `elf` (symbols `syms`): its `syscalls[]` when it has a
    /// trustworthy one, else the shared table.
    pub fn of_kernel(elf: &[u8], syms: &Symbols) -> SyscallTable {
        kernel_array(elf)
            .and_then(|ptrs| {
                SyscallTable::from_pointers(&ptrs, |p| {
                    syms.symbol_at(p)
                        .filter(|(s, off)| *off == 0 && s.is_function)
                        .map(|(s, _)| s.name.clone())
                })
            })
            .unwrap_or_else(SyscallTable::shared)
    }

    /// A table from the array's slots (function addresses, 0 for a number with no call) and
    /// a way to name an address. Trusted only when every non-null slot names a `sys_*`
    /// function, and there are some.
    pub fn from_pointers(
        ptrs: &[u64],
        name_of: impl Fn(u64) -> Option<String>,
    ) -> Option<SyscallTable> {
        let mut calls = Vec::new();
        for (nr, &p) in ptrs.iter().enumerate() {
            if p == 0 {
                continue;
            }
            let name = name_of(p)?.strip_prefix("sys_")?.to_string();
            if name.is_empty() {
                return None;
            }
            calls.push(Call {
                nr: nr as u64,
                row: abi::syscall::by_name(&name),
                name,
            });
        }
        (!calls.is_empty()).then_some(SyscallTable {
            calls,
            source: Source::Kernel,
        })
    }

    /// The call numbered `nr`.
    pub fn get(&self, nr: u64) -> Option<&Call> {
        self.calls.iter().find(|c| c.nr == nr)
    }

    /// The call named `name`.
    pub fn by_name(&self, name: &str) -> Option<&Call> {
        self.calls.iter().find(|c| c.name == name)
    }

    /// Every call, in number order.
    pub fn calls(&self) -> &[Call] {
        &self.calls
    }
}

/// The slots of the kernel's `syscalls` array, from the ELF file's bytes.
fn kernel_array(elf: &[u8]) -> Option<Vec<u64>> {
    let file = object::File::parse(elf).ok()?;
    let sym = file
        .symbols()
        .find(|s| s.name() == Ok("syscalls") && s.kind() == SymbolKind::Data)?;
    let size = sym.size();
    if size == 0 || !size.is_multiple_of(8) || size / 8 > MAX_SLOTS {
        return None;
    }
    let section = file.section_by_index(sym.section_index()?).ok()?;
    let data = section.data().ok()?;
    let start = usize::try_from(sym.address().checked_sub(section.address())?).ok()?;
    let bytes = data.get(start..start.checked_add(size as usize)?)?;
    Some(
        bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lab_trees_array_names_its_own_numbers() {
        // A 2021 traps-lab tree: sigalarm and sigreturn took 22 and 23.
        let names = |p: u64| match p {
            0x100 => Some("sys_fork".to_string()),
            0x200 => Some("sys_sigalarm".into()),
            0x300 => Some("sys_sigreturn".into()),
            0x400 => Some("sys_pgpte".into()),
            _ => None,
        };
        let mut ptrs = vec![0u64; 25];
        ptrs[1] = 0x100;
        ptrs[22] = 0x200;
        ptrs[23] = 0x300;
        ptrs[24] = 0x400;
        let t = SyscallTable::from_pointers(&ptrs, names).expect("trusted");
        assert_eq!(t.source, Source::Kernel);
        assert_eq!(t.get(22).map(|c| c.name.as_str()), Some("sigalarm"));
        assert_eq!(
            t.get(22).and_then(|c| c.row).map(|r| r.nr),
            Some(abi::syscall::nr::sigalarm),
            "arguments decoded by name, not number"
        );
        assert_eq!(t.by_name("sigreturn").map(|c| c.nr), Some(23));
        assert_eq!(
            t.get(24).map(|c| (c.name.as_str(), c.row)),
            Some(("pgpte", None))
        );
        assert!(t.get(2).is_none() && t.by_name("trace").is_none());
        // A slot that is not a sys_ function: not a syscall table.
        ptrs[5] = 0x999;
        assert_eq!(SyscallTable::from_pointers(&ptrs, names), None);
        assert_eq!(SyscallTable::from_pointers(&[0, 0], names), None);
    }

    #[test]
    fn the_shared_table_is_the_bundled_kernels() {
        let t = SyscallTable::shared();
        assert_eq!(t.get(26).map(|c| c.name.as_str()), Some("mmap"));
        assert_eq!(t.by_name("pgaccess").map(|c| c.nr), Some(30));
    }

    #[test]
    fn mit_kernel_array_is_read() {
        let Some(dir) = crate::inspect::testboot::mit_dir() else {
            return;
        };
        let elf = std::fs::read(dir.join("kernel/kernel")).expect("MIT kernel");
        let syms = Symbols::parse("kernel", &elf).expect("symbols");
        let t = SyscallTable::of_kernel(&elf, &syms);
        assert_eq!(t.source, Source::Kernel);
        for (nr, name) in [(1, "fork"), (7, "exec"), (15, "open"), (21, "close")] {
            assert_eq!(t.get(nr).map(|c| c.name.as_str()), Some(name));
        }
        assert!(t.get(0).is_none(), "slot 0 is empty in xv6");
    }
}
