//! mmap and munmap (the mmap lab), placeholder until the option is built.

/// mmap(addr, length, prot, flags, fd, offset).
#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_mmap() -> u64 {
    u64::MAX
}

/// munmap(addr, length).
#[unsafe(no_mangle)]
#[inline(never)]
pub fn sys_munmap() -> u64 {
    u64::MAX
}
