//! The bundled guest: the Rust xv6 kernel and its fs.img, built by `build.rs` and embedded in
//! the binary so that `xv6scope` boots with no arguments.

use anyhow::Result;

#[cfg(xv6scope_bundled)]
static KERNEL: &[u8] = include_bytes!(env!("XV6SCOPE_BUNDLED_KERNEL"));
#[cfg(xv6scope_bundled)]
static FS_IMG: &[u8] = include_bytes!(env!("XV6SCOPE_BUNDLED_FS"));

/// The bundled kernel ELF (with debug info).
pub fn kernel() -> Result<&'static [u8]> {
    #[cfg(xv6scope_bundled)]
    return Ok(KERNEL);
    #[cfg(not(xv6scope_bundled))]
    anyhow::bail!("this build of xv6scope has no bundled kernel; pass --kernel ELF --disk IMG")
}

/// The bundled file system image.
pub fn fs_img() -> Result<&'static [u8]> {
    #[cfg(xv6scope_bundled)]
    return Ok(FS_IMG);
    #[cfg(not(xv6scope_bundled))]
    anyhow::bail!("this build of xv6scope has no bundled fs.img; pass --disk IMG")
}
