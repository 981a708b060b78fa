//! The system call table: one declarative list drives everything.
//!
//! `for_each_syscall!(m)` expands to `m! { NR NAME(ARG, ...) -> RET; ... }` over every system
//! call, so the kernel builds its dispatch, the user library its stubs, and the debugger its
//! decoder from the same lines. Numbers are xv6-riscv's (`kernel/syscall.h`), with the labs'
//! `trace` (22) and `sysinfo` (23), and the calls of the bundled kernel's lab options
//! (`abi::lab`): `pgaccess` is 30 as in MIT's pgtbl lab; the labs leave the numbers of
//! `sigalarm`, `sigreturn`, `mmap`, `munmap` and `symlink` to the student (most pick 22 and
//! up, which trace and sysinfo hold here), so they follow sysinfo, 24 to 28. A lab call
//! whose option is off is unknown to the kernel, as on a stock kernel.
//!
//! Calling convention (RISC-V, as xv6): number in a7, arguments in a0..a5, result in a0;
//! -1 means failure.

/// Invokes `$m!` with the whole table. Each entry is `NR NAME(ARGS) -> RET;` where each ARG
/// and RET is a variant name of [`Arg`] / [`Ret`].
#[macro_export]
macro_rules! for_each_syscall {
    ($m:ident) => {
        $m! {
            1 fork() -> Pid;
            2 exit(Int) -> Int;
            3 wait(StatusOut) -> Pid;
            4 pipe(PipeOut) -> Int;
            5 read(Fd, BufOut, Int) -> Int;
            6 kill(Pid) -> Int;
            7 exec(Str, Argv) -> Int;
            8 fstat(Fd, StatOut) -> Int;
            9 chdir(Str) -> Int;
            10 dup(Fd) -> Fd;
            11 getpid() -> Pid;
            12 sbrk(Int) -> Addr;
            13 sleep(Int) -> Int;
            14 uptime() -> Int;
            15 open(Str, OpenFlags) -> Fd;
            16 write(Fd, BufIn, Int) -> Int;
            17 mknod(Str, Int, Int) -> Int;
            18 unlink(Str) -> Int;
            19 link(Str, Str) -> Int;
            20 mkdir(Str) -> Int;
            21 close(Fd) -> Int;
            22 trace(Mask) -> Int;
            23 sysinfo(SysinfoOut) -> Int;
            24 sigalarm(Int, Addr) -> Int;
            25 sigreturn() -> Int;
            26 mmap(Addr, Int, Int, Int, Fd, Int) -> Addr;
            27 munmap(Addr, Int) -> Int;
            28 symlink(Str, Str) -> Int;
            30 pgaccess(Addr, Int, Addr) -> Int;
        }
    };
}

/// How an argument is shown (and, for pointers, read from the caller's memory).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A plain integer (C `int`).
    Int,
    /// A file descriptor.
    Fd,
    /// A process id.
    Pid,
    /// A user address shown in hex.
    Addr,
    /// A NUL-terminated string (a path).
    Str,
    /// A NULL-terminated array of string pointers (`char *argv[]`).
    Argv,
    /// A buffer the kernel reads; its length is the next argument.
    BufIn,
    /// A buffer the kernel fills; its length is the next argument. Shown at return.
    BufOut,
    /// `O_*` flags.
    OpenFlags,
    /// The trace lab's mask: bit N set traces system call N.
    Mask,
    /// `int *status` filled by wait (may be 0).
    StatusOut,
    /// `int fds[2]` filled by pipe.
    PipeOut,
    /// `struct stat *` filled by fstat.
    StatOut,
    /// `struct sysinfo *` filled by sysinfo.
    SysinfoOut,
}

/// How a result is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ret {
    Int,
    Fd,
    Pid,
    Addr,
}

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Syscall {
    pub nr: usize,
    pub name: &'static str,
    pub args: &'static [Arg],
    pub ret: Ret,
}

macro_rules! define_table {
    ($($nr:literal $name:ident($($arg:ident),*) -> $ret:ident;)*) => {
        /// System call numbers, named as in xv6's `kernel/syscall.h`.
        #[allow(non_upper_case_globals)]
        pub mod nr {
            $(pub const $name: usize = $nr;)*
        }

        /// Every system call, in number order.
        pub const SYSCALLS: &[Syscall] = &[
            $(Syscall { nr: $nr, name: stringify!($name), args: &[$(Arg::$arg),*], ret: Ret::$ret },)*
        ];
    };
}
for_each_syscall!(define_table);

/// The row for system call `nr`, if there is one.
pub fn lookup(nr: usize) -> Option<&'static Syscall> {
    SYSCALLS.iter().find(|s| s.nr == nr)
}

/// The row for the system call called `name`.
pub fn by_name(name: &str) -> Option<&'static Syscall> {
    SYSCALLS.iter().find(|s| s.name == name)
}

/// Highest system call number.
pub const MAX_SYSCALL: usize = 30;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_xv6() {
        assert_eq!(nr::fork, 1);
        assert_eq!(nr::exec, 7);
        assert_eq!(nr::open, 15);
        assert_eq!(nr::close, 21);
        assert_eq!(nr::trace, 22);
        assert_eq!(nr::sysinfo, 23);
        assert_eq!(nr::pgaccess, 30);
        for (i, s) in SYSCALLS.iter().take(28).enumerate() {
            assert_eq!(
                s.nr,
                i + 1,
                "table is dense and ordered up to the labs' calls"
            );
        }
        assert!(SYSCALLS.windows(2).all(|w| w[0].nr < w[1].nr));
        assert_eq!(SYSCALLS.last().unwrap().nr, MAX_SYSCALL);
    }

    #[test]
    fn lookups_find_rows() {
        assert_eq!(lookup(5).unwrap().name, "read");
        assert_eq!(lookup(5).unwrap().args, &[Arg::Fd, Arg::BufOut, Arg::Int]);
        assert_eq!(by_name("write").unwrap().nr, 16);
        assert!(lookup(0).is_none() && lookup(29).is_none() && lookup(31).is_none());
    }
}
