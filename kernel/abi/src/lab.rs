//! Lab options: the MIT labs' kernel features, chosen when the machine boots.
//!
//! The bundled kernel carries every lab's feature, each off unless its bit is set in the
//! kernel's `LAB_OPTIONS` word (a `u32` in `.data`, exported under [`SYMBOL`]). The host sets
//! the word in the kernel image before the machine loads it (`xv6scope --lab cow,lazy`), so
//! one build serves every lab and nothing is rebuilt; the kernel reads it at boot and prints
//! the options it found. With the word zero the kernel behaves as stock xv6.
//!
//! The names are the labs' own words; [`OPTIONS`] is the one list that the kernel (to print
//! them), the command line (to parse `--lab`) and the tests share.

/// The kernel's symbol for the option word (a `u32`, in a section with file contents).
pub const SYMBOL: &str = "LAB_OPTIONS";

/// Copy-on-write fork with per-page reference counts (the cow lab).
pub const COW: u32 = 1 << 0;
/// Lazy sbrk: memory is allocated at the first page fault on it (the 2020 lazy lab).
pub const LAZY: u32 = 1 << 1;
/// A read-only page at `USYSCALL` holding the pid, for `ugetpid` (2021+ pgtbl lab).
pub const USYSCALL: u32 = 1 << 2;
/// The `pgaccess` system call: which pages were accessed (2021+ pgtbl lab).
pub const PGACCESS: u32 = 1 << 3;
/// Print the first process's page table when it execs `/init` (pgtbl lab's vmprint).
pub const VMPRINT: u32 = 1 << 4;
/// Print a frame-pointer backtrace on panic and in `sys_sleep` (traps lab).
pub const BACKTRACE: u32 = 1 << 5;
/// `sigalarm`/`sigreturn`: a user handler called every N ticks of CPU time (traps lab).
pub const ALARM: u32 = 1 << 6;
/// A kernel page table per process, installed while the process runs in the kernel (2020
/// pgtbl lab).
pub const KPGTBL: u32 = 1 << 7;
/// `mmap`/`munmap` of files, faulted in lazily (mmap lab).
pub const MMAP: u32 = 1 << 8;
/// Symbolic links: `symlink`, and `open` following them (fs lab).
pub const SYMLINK: u32 = 1 << 9;
/// Large files: a doubly-indirect block (fs lab). Changes the on-disk format: the image must
/// be of `abi::fs::Layout::Big` (the host makes one from the bundled files).
pub const BIGFILE: u32 = 1 << 10;

/// One lab option: its `--lab` name, its bit, and what it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabOption {
    pub name: &'static str,
    pub bit: u32,
    pub what: &'static str,
}

/// Every option, in bit order.
pub const OPTIONS: &[LabOption] = &[
    LabOption {
        name: "cow",
        bit: COW,
        what: "copy-on-write fork with page reference counts",
    },
    LabOption {
        name: "lazy",
        bit: LAZY,
        what: "lazy sbrk: pages allocated at their first fault",
    },
    LabOption {
        name: "usyscall",
        bit: USYSCALL,
        what: "the USYSCALL page with the pid (ugetpid)",
    },
    LabOption {
        name: "pgaccess",
        bit: PGACCESS,
        what: "the pgaccess system call (accessed bits)",
    },
    LabOption {
        name: "vmprint",
        bit: VMPRINT,
        what: "print init's page table at its exec",
    },
    LabOption {
        name: "backtrace",
        bit: BACKTRACE,
        what: "frame-pointer backtrace on panic and in sys_sleep",
    },
    LabOption {
        name: "alarm",
        bit: ALARM,
        what: "sigalarm and sigreturn",
    },
    LabOption {
        name: "kpgtbl",
        bit: KPGTBL,
        what: "a kernel page table per process",
    },
    LabOption {
        name: "mmap",
        bit: MMAP,
        what: "mmap and munmap of files",
    },
    LabOption {
        name: "symlink",
        bit: SYMLINK,
        what: "symbolic links",
    },
    LabOption {
        name: "bigfile",
        bit: BIGFILE,
        what: "large files: doubly-indirect blocks (its own fs.img)",
    },
];

/// Every option's bit.
pub const ALL: u32 = {
    let mut all = 0;
    let mut i = 0;
    while i < OPTIONS.len() {
        all |= OPTIONS[i].bit;
        i += 1;
    }
    all
};

/// The option called `name`.
pub fn by_name(name: &str) -> Option<&'static LabOption> {
    OPTIONS.iter().find(|o| o.name == name)
}

/// The option word for a comma-separated list of names (`"cow,lazy"`; `"all"` is every
/// option; blanks around names are ignored), or the first name that is not an option.
pub fn parse_list(list: &str) -> Result<u32, &str> {
    let mut word = 0;
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if name == "all" {
            word |= ALL;
            continue;
        }
        word |= by_name(name).ok_or(name)?.bit;
    }
    Ok(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_distinct_and_in_order() {
        for (i, o) in OPTIONS.iter().enumerate() {
            assert_eq!(o.bit, 1 << i, "{}", o.name);
        }
    }

    #[test]
    fn lists_parse() {
        assert_eq!(parse_list("cow"), Ok(COW));
        assert_eq!(parse_list(" cow , lazy,"), Ok(COW | LAZY));
        assert_eq!(parse_list(""), Ok(0));
        assert_eq!(parse_list("all"), Ok(ALL));
        assert_eq!(parse_list("cow,nosuch"), Err("nosuch"));
    }
}
