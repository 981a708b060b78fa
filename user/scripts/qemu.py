#!/usr/bin/env python3
"""Boot an xv6 kernel on qemu-system-riscv64 with a disk image and drive its shell.

    qemu.py [--kernel K] [--timeout S] IMG 'cmd 1' 'cmd 2' ...

Waits for the first `$ ` prompt, then for each command sends the line and collects output
until the next prompt (or the per-command timeout). Echoes the console as it comes (so long
runs can be watched with tail -f), and exits 0 when every command got its prompt back, 1
otherwise. Used to check the Rust user programs against MIT's C kernel (the default
--kernel) and against ours. smoke.py imports the Xv6 class for its checks.
"""
import argparse, os, select, subprocess, sys, time

# MIT xv6-riscv built tree, as the host tests name it (XV6SCOPE_MIT_XV6).
MIT_KERNEL = os.path.join(os.environ.get("XV6SCOPE_MIT_XV6", "xv6-riscv"), "kernel", "kernel")


class Xv6:
    """One QEMU run. `boot()` waits for the first prompt; `run(cmd)` returns the command's
    output (the text between the echoed command line and the next prompt) or None when the
    prompt did not come back in time."""

    def __init__(self, img, kernel=MIT_KERNEL, echo=True):
        self.echo = echo
        self.out = b""
        self.qemu = subprocess.Popen(
            ["qemu-system-riscv64", "-machine", "virt", "-bios", "none", "-kernel", kernel,
             "-m", "128M", "-smp", "3", "-nographic", "-global",
             "virtio-mmio.force-legacy=false",
             "-drive", f"file={img},if=none,format=raw,id=x0",
             "-device", "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def _until_prompt(self, limit):
        start, deadline = len(self.out), time.time() + limit
        while time.time() < deadline:
            r, _, _ = select.select([self.qemu.stdout], [], [], 0.2)
            if r:
                chunk = os.read(self.qemu.stdout.fileno(), 4096)
                if not chunk:
                    return None
                self.out += chunk
                if self.echo:
                    sys.stdout.write(chunk.decode(errors="replace").replace("\r", ""))
                    sys.stdout.flush()
                # The prompt starts a line; a "$ " inside an echoed command line does not.
                if self.out[start:].endswith(b"\n$ ") or self.out[start:] == b"$ ":
                    return self.out[start:-2].decode(errors="replace").replace("\r", "")
        return None

    def boot(self, limit=60):
        return self._until_prompt(limit)

    def run(self, cmd, limit=60):
        self.qemu.stdin.write(cmd.encode() + b"\n")
        self.qemu.stdin.flush()
        text = self._until_prompt(limit)
        if text is None:
            return None
        # The console echoes the command line first.
        return text.split("\n", 1)[1] if "\n" in text else ""

    def close(self):
        self.qemu.kill()
        self.qemu.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", default=MIT_KERNEL)
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per command")
    ap.add_argument("img")
    ap.add_argument("cmds", nargs="*")
    a = ap.parse_args()
    vm = Xv6(a.img, a.kernel)
    ok = vm.boot(a.timeout) is not None
    for cmd in a.cmds:
        if not ok:
            break
        ok = vm.run(cmd, a.timeout) is not None
    vm.close()
    if not ok:
        print("\n[qemu.py: timed out waiting for the prompt]")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
