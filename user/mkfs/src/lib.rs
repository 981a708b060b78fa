//! Builds xv6 file system images (placeholder until the user/mkfs work lands).
